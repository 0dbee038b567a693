//! The phone of record (预留手机号): SMS codes for a signed-in holder's certificate business go
//! to the certificate's phone, shown masked, never to a phone typed in; nobody else's
//! certificate, and no certificate purpose through the public form.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::browser::{code_in, code_request, last_sms, registered};
use crate::helpers::issuing::{issue_with_key, submitted};
use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_code_goes_to_the_phone_of_record_for_its_holder_only() {
    let app = spawn_app().await;
    let (mut holder, mut admin, id, acceptance, operator) = submitted(&app).await;
    let (uid, _, _, _) = issue_with_key(&app, &mut admin, &id, &acceptance, &operator).await;
    let masked = format!("{}****{}", &operator[..3], &operator[7..]);

    let (s, mine) = holder.get(&format!("/api/my-certificates/{uid}")).await;
    assert_eq!((s, mine["phone_masked"].as_str()), (StatusCode::OK, Some(masked.as_str())), "{mine}");

    let path = format!("/api/my-certificates/{uid}/code");
    let (s, v) = holder.post(&path, json!({ "purpose": "certificate_revoke" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["phone_masked"].as_str(), v["resend_after_secs"].as_u64()), (Some(masked.as_str()), Some(60)));
    let sms = last_sms(&app, &operator).await.expect("an SMS to the operator's phone");
    assert!(sms.body.contains("注销"), "{}", sms.body);
    assert_eq!(code_in(&sms.body).len(), 6);

    // Once a minute per phone and purpose.
    let (s, v) = holder.post(&path, json!({ "purpose": "certificate_revoke" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{v}");

    // Not a purpose of a certificate: refused, nothing sent.
    let before = last_sms(&app, &operator).await.map(|m| m.id);
    let (s, v) = holder.post(&path, json!({ "purpose": "reset_password" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(last_sms(&app, &operator).await.map(|m| m.id), before);

    // Another account's certificate is not found, and nothing is sent.
    let (mut other, _) = registered(&app).await;
    let (s, v) = other.post(&path, json!({ "purpose": "certificate_release" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{v}");
    assert_eq!(last_sms(&app, &operator).await.map(|m| m.id), before);

    // The public form does not send certificate codes to a phone typed in.
    let body = code_request(&app, &operator, "certificate_reissue").await;
    let (s, v) = other.post("/api/codes", body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(last_sms(&app, &operator).await.map(|m| m.id), before);
}
