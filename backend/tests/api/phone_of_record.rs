//! The phone of record (预留手机号): SMS codes for a signed-in holder's certificate business go
//! to the certificate's phone, shown masked, never to a phone typed in; nobody else's
//! certificate, and no certificate purpose through the public form.

use certdesk_shared::ErrorCode;
use certdesk_shared::account::CodePurpose;
use certdesk_shared::endpoint;
use certdesk_shared::my_certificates::{CertificateCodeRequest, CertificateCodeSent};
use reqwest::StatusCode;

use crate::helpers::browser::{api_error, code_in, decode, last_sms, registered, send_code_request};
use crate::helpers::issuing::{issue_with_key, submitted};
use crate::helpers::spawn_app;

fn ask(purpose: CodePurpose) -> CertificateCodeRequest {
    CertificateCodeRequest { purpose }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_code_goes_to_the_phone_of_record_for_its_holder_only() {
    let app = spawn_app().await;
    let (mut holder, mut admin, id, acceptance, operator) = submitted(&app).await;
    let (uid, _, _, _) = issue_with_key(&app, &mut admin, &id, &acceptance, &operator).await;
    let masked = format!("{}****{}", &operator[..3], &operator[7..]);

    let mine = holder.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert_eq!(mine.phone_masked.as_str(), masked.as_str(), "{mine:?}");
    let (s, v) = holder.send::<endpoint::SendCertificateCode>(&[&uid], &ask(CodePurpose::CertificateRevoke)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let sent: CertificateCodeSent = decode(&v);
    assert_eq!((sent.phone_masked.as_str(), sent.resend_after_secs), (masked.as_str(), 60));
    let sms = last_sms(&app, &operator).await.expect("an SMS to the operator's phone");
    assert!(sms.body.contains("注销"), "{}", sms.body);
    assert_eq!(code_in(&sms.body).len(), 6);

    // Once a minute per phone and purpose.
    let (s, v) = holder.send::<endpoint::SendCertificateCode>(&[&uid], &ask(CodePurpose::CertificateRevoke)).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited), "{v}");

    // Not a purpose of a certificate: refused, nothing sent.
    let before = last_sms(&app, &operator).await.map(|m| m.id);
    let (s, v) = holder.send::<endpoint::SendCertificateCode>(&[&uid], &ask(CodePurpose::ResetPassword)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(last_sms(&app, &operator).await.map(|m| m.id), before);

    // Another account's certificate is not found, and nothing is sent.
    let (mut other, _) = registered(&app).await;
    let (s, v) = other.send::<endpoint::SendCertificateCode>(&[&uid], &ask(CodePurpose::CertificateRelease)).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::NOT_FOUND, ErrorCode::NotFound), "{v}");
    assert_eq!(last_sms(&app, &operator).await.map(|m| m.id), before);

    // The public form does not send certificate codes to a phone typed in.
    let body = send_code_request(&app, &operator, CodePurpose::CertificateReissue).await;
    let (s, v) = other.send::<endpoint::SendCode>(&[], &body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(last_sms(&app, &operator).await.map(|m| m.id), before);
}
