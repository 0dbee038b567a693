//! 证书变更 and 经办人变更: only the holder of a valid certificate starts them, one request at a
//! time per certificate; a 个人证书 is not changed; the reviewer sees each changed field old →
//! new; an approved change goes onto the same token only, with the new subject, and the old
//! certificate is superseded once the new one is stored (OCSP and the CRL say so); an
//! approved operator change moves the phone of record, so SMS codes and 证书解锁 go to the new
//! operator's phone only.

use certdesk::domain::{ClientMeta, renew};
use certdesk::entity::{account, certificate};
use certdesk_shared::account::CodePurpose;
use certdesk_shared::admin::{AuditQuery, Page, QueueQuery, StaffRole};
use certdesk_shared::agent::TokenKind;
use certdesk_shared::apply::{
    DocumentKind, FieldReason, Holder, IssueForCsr, Issued, OperatorInfo, ReviewDecision, ReviewQueueItem,
};
use certdesk_shared::change::{ChangeClosed, ChangeOffer, FieldChange, StartChange};
use certdesk_shared::endpoint;
use certdesk_shared::my_certificates::{CertificateCodeRequest, MyCertificateStatus};
use certdesk_shared::renew::{RenewalCsr, StartRenewal};
use certdesk_shared::request::{RequestKind, RequestStatus, RequestView};
use certdesk_shared::{CreditCode, Email, ErrorCode, IdCardNumber, Named, OrgName, PersonName, ValidationError};
use chrono::Duration;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use x509_parser::prelude::*;

use crate::helpers::browser::{
    Browser, api_error, code_in, decode, last_sms, mobile, new_mobile, registered, send_code, staff_browser,
};
use crate::helpers::ca::{Files, fetch_crl, openssl_ocsp};
use crate::helpers::issuing::{PNG, issue_into, submitted, upload};
use crate::helpers::{TestApp, spawn_app};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
const ZIP: &[u8] = b"PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
const NEW_NAME: &str = "天津市滨海数字认证科技有限公司";

async fn cert(app: &TestApp, uid: &str) -> certificate::Model {
    certificate::Entity::find().filter(certificate::Column::Uid.eq(uid)).one(&app.state.db).await.unwrap().unwrap()
}

fn csr_for(key: &rcgen::KeyPair) -> String {
    rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(key).unwrap().pem().unwrap()
}

fn operator(phone: &str) -> OperatorInfo {
    OperatorInfo {
        name: PersonName::parse("李四").unwrap(),
        id_number: IdCardNumber::parse("11010519491231002X").unwrap(),
        mobile: mobile(phone),
        email: Email::parse("ls@example.com").unwrap(),
        unit_phone: Some("022-12345678".into()),
        address: Some("天津市空港经济区西七道26号".into()),
    }
}

fn organisation(name: &str) -> Holder {
    Holder::Organisation {
        org_name: OrgName::parse(name).unwrap(),
        credit_code: CreditCode::parse("91350100M000100Y43").unwrap(),
    }
}

/// `POST /api/change/{uid}`'s body.
fn kind(kind: RequestKind) -> StartChange {
    StartChange { kind }
}

/// An error answer's code.
fn code_of(v: &Value) -> ErrorCode {
    api_error(v).code
}

/// The fields an error answer names.
fn fields_of(v: &Value) -> Vec<String> {
    api_error(v).fields.into_iter().map(|f| f.field).collect()
}

/// A request's status in an answer.
fn status_of(v: &Value) -> RequestStatus {
    decode::<RequestView>(v).status
}

/// Starts a change of `kind`: the request's id.
async fn start(b: &mut Browser<'_>, uid: &str, kind: &str) -> String {
    let wanted = RequestKind::parse(kind).expect("a request kind");
    let (s, v) = b.send::<endpoint::StartChange>(&[uid], &self::kind(wanted)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let r: RequestView = decode(&v);
    assert_eq!((r.status, r.kind), (RequestStatus::Draft, wanted), "{v}");
    r.id
}

/// The request as the review queue shows it to a reviewer.
async fn queued(reviewer: &mut Browser<'_>, kind: &str, id: &str) -> RequestView {
    let (s, queue) =
        reviewer.send::<endpoint::ReviewQueue>(&[], &QueueQuery { kind: kind.to_string(), ..Default::default() }).await;
    assert_eq!(s, StatusCode::OK, "{queue}");
    let queue: Page<ReviewQueueItem> = decode(&queue);
    queue.items.into_iter().find(|i| i.request.id == id).expect("in the queue").request
}

fn approve() -> ReviewDecision {
    ReviewDecision { approve: true, reasons: Vec::new() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_renames_itself_onto_the_same_token_and_the_old_certificate_is_superseded_last() {
    let app = spawn_app().await;
    let (mut b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, _, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("UKEY-0001")).await;
    let old = cert(&app, &uid).await;

    // Another account does not find the certificate.
    let (mut other, _) = registered(&app).await;
    assert_eq!(other.send::<endpoint::OfferChange>(&[&uid], &()).await.0, StatusCode::NOT_FOUND);
    let (s, v) = other.send::<endpoint::StartChange>(&[&uid], &kind(RequestKind::Change)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::NOT_FOUND, ErrorCode::NotFound), "{v}");

    // The offer: the holder and operator as they are, the documents ① asks for.
    let (s, offer) = b.send::<endpoint::OfferChange>(&[&uid], &()).await;
    assert_eq!(s, StatusCode::OK, "{offer}");
    let offer: ChangeOffer = decode(&offer);
    assert_eq!((offer.change_closed, offer.operator_closed), (None, None));
    let org_name = offer.holder.as_ref().and_then(|h| h.organisation()).map(|(n, _)| n.as_str());
    assert_eq!(org_name, Some("天津市滨海数字认证有限公司"));
    assert_eq!(offer.operator.as_ref().map(|o| o.mobile.as_str()), Some(mobile.as_str()));
    assert_eq!(offer.change_documents, [DocumentKind::BusinessLicence, DocumentKind::OperatorId, DocumentKind::Other]);
    assert_eq!(offer.medium_no.as_deref(), Some("UKEY-0001"));

    // ① Start; a second click returns the same request; nothing else may start meanwhile.
    let rid = start(&mut b, &uid, "change").await;
    assert_eq!(start(&mut b, &uid, "change").await, rid);
    let (s, v) = b.send::<endpoint::StartChange>(&[&uid], &kind(RequestKind::OperatorChange)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::RequestUnderWay), "{v}");
    let who = account::Entity::find()
        .filter(account::Column::Mobile.eq(mobile.as_str()))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let body = StartRenewal { validity_id: "org-1y".into() };
    let renewal = renew::start(
        &app.state.db,
        &app.state.audit_key,
        &who,
        &uid,
        &body,
        &ClientMeta::default(),
        old.not_after - Duration::days(30),
    )
    .await;
    assert!(renewal.is_err(), "a renewal does not start beside a change");
    // Another account cannot touch the request.
    let (s, _) = other.send::<endpoint::SaveChangeHolder>(&[&rid], &organisation(NEW_NAME)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Submission names what is missing.
    let (s, v) = b.send::<endpoint::SubmitChange>(&[&rid], &()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields_of(&v), ["business_licence", "operator_id", "other", "holder", "operator"]);

    for (kind, name, bytes) in
        [("business_licence", "新营业执照.pdf", PDF), ("operator_id", "id.png", PNG), ("other", "o.zip", ZIP)]
    {
        let (s, v) = upload(&b, &rid, kind, name, bytes).await;
        assert_eq!(s, StatusCode::OK, "{kind}: {v}");
    }
    // ② A person is not this certificate's holder; the wizard's own step is not for changes.
    let person = crate::helpers::issuing::person();
    let (s, v) = b.send::<endpoint::SaveChangeHolder>(&[&rid], &person).await;
    let error = api_error(&v).fields.first().map(|f| f.error);
    assert_eq!((s, error), (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::HolderKind)), "{v}");
    let info = crate::helpers::issuing::info(organisation(NEW_NAME), "org-1y");
    let (s, _) = b.send::<endpoint::SaveCertificateInfo>(&[&rid], &info).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = b.send::<endpoint::SaveChangeHolder>(&[&rid], &organisation(NEW_NAME)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let renamed =
        FieldChange {
            field: "org_name".into(), before: "天津市滨海数字认证有限公司".into(), after: NEW_NAME.into()
        };
    assert_eq!(decode::<RequestView>(&v).changes, std::slice::from_ref(&renamed));
    // ③ The operator as they are (nothing changes there).
    let same = offer.operator.clone().expect("the operator");
    let (s, v) = b.send::<endpoint::SaveChangeOperator>(&[&rid], &same).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).changes.len(), 1, "{v}");
    // ④ Free of charge: straight to review.
    let (s, v) = b.send::<endpoint::SubmitChange>(&[&rid], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let submitted: RequestView = decode(&v);
    assert_eq!((submitted.status, submitted.price_fen), (RequestStatus::Submitted, Some(0)), "{v}");
    let number = submitted.acceptance_no.expect("an acceptance number");

    // The reviewer sees the change field by field, next to the documents.
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let seen = queued(&mut reviewer, "change", &rid).await;
    assert_eq!(seen.changes.first(), Some(&renamed));
    assert_eq!(seen.documents.len(), 3);
    let (s, v) = reviewer.send::<endpoint::Review>(&[&rid], &approve()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(status_of(&v), RequestStatus::Approved, "{v}");
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert_eq!(sms.template, "SMS_CD_REQUEST_APPROVED");
    assert!(sms.body.contains(&number) && sms.body.contains("证书变更"), "{}", sms.body);

    // ⑤ Another token is refused, another account does not find the request.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let issue = |medium: &str| RenewalCsr { csr_pem: csr_for(&key), medium_no: medium.to_owned() };
    let (s, v) = b.send::<endpoint::IssueChange>(&[&rid], &issue("UKEY-9999")).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::WrongMedium), "{v}");
    assert_eq!(other.send::<endpoint::IssueChange>(&[&rid], &issue("UKEY-0001")).await.0, StatusCode::NOT_FOUND);
    let (s, issued) = b.send::<endpoint::IssueChange>(&[&rid], &issue("UKEY-0001")).await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let new_uid = decode::<Issued>(&issued).certificate_uid;
    let new = cert(&app, &new_uid).await;
    let (_, x) = parse_x509_certificate(&new.der).unwrap();
    let o: Vec<&str> = x.subject().iter_organization().filter_map(|a| a.as_str().ok()).collect();
    let cn: Vec<&str> = x.subject().iter_common_name().filter_map(|a| a.as_str().ok()).collect();
    assert_eq!((o, cn), (vec![NEW_NAME], vec![NEW_NAME]), "the new subject");
    assert!(x.subject().to_string().contains(&number), "the change's business number: {}", x.subject());
    assert_eq!(new.not_after, old.not_after, "the same end as the certificate changed");
    assert_eq!((new.medium_no.as_deref(), new.profile.as_str()), (Some("UKEY-0001"), old.profile.as_str()));
    assert_eq!(cert(&app, &uid).await.status, "valid", "until the token has the new one");
    let (s, retry) = b.send::<endpoint::IssueChange>(&[&rid], &issue("UKEY-0001")).await;
    assert_eq!(s, StatusCode::OK, "{retry}");
    assert_eq!(decode::<Issued>(&retry).certificate_uid, new_uid);

    // Stored: the old certificate is superseded, in OCSP and the CRL; finishing again is a no-op.
    assert_eq!(other.send::<endpoint::FinishChange>(&[&rid], &()).await.0, StatusCode::NOT_FOUND);
    for _ in 0..2 {
        let (s, v) = b.send::<endpoint::FinishChange>(&[&rid], &()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(status_of(&v), RequestStatus::Done, "{v}");
    }
    let gone = cert(&app, &uid).await;
    assert_eq!((gone.status.as_str(), gone.reason), ("revoked", Some(4)));
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let ocsp = openssl_ocsp(&f, &app, &old.serial, &[]);
    assert!(ocsp.contains(": revoked") && ocsp.contains("Reason: superseded"), "{ocsp}");
    let crl = fetch_crl(&app, &old.serial).await;
    let (_, crl) = x509_parser::parse_x509_crl(&crl).unwrap();
    assert!(crl.iter_revoked_certificates().any(|r| r.raw_serial_as_string().replace(':', "") == old.serial));
    assert_eq!(last_sms(&app, &mobile).await.unwrap().template, "SMS_CD_REQUEST_DONE");

    // 我的证书: the new one valid with the same phone of record, the old one superseded.
    let list = b.ok::<endpoint::ListMyCertificates>(&[], &()).await;
    let status_of = |u: &str| list.iter().find(|c| c.uid == u).unwrap().status;
    assert_eq!((status_of(&new_uid), status_of(&uid)), (MyCertificateStatus::Valid, MyCertificateStatus::Superseded));
    let mine = b.ok::<endpoint::GetMyCertificate>(&[&new_uid], &()).await;
    assert_eq!(mine.phone_masked, format!("{}****{}", &mobile[..3], &mobile[7..]));
    // The new certificate may be changed again, the old one not.
    let (s, v) = b.send::<endpoint::StartChange>(&[&uid], &kind(RequestKind::Change)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::CertificateNotValid), "{v}");
    let offer = b.ok::<endpoint::OfferChange>(&[&new_uid], &()).await;
    let org_name = offer.holder.as_ref().and_then(|h| h.organisation()).map(|(n, _)| n.as_str());
    assert_eq!((org_name, offer.change_closed), (Some(NEW_NAME), None));

    let trail = admin.ok::<endpoint::AuditTrail>(&[], &AuditQuery { per_page: Some(200), ..Default::default() }).await;
    let actions: Vec<&str> = trail.items.iter().filter(|e| e.subject == number).map(|e| e.action.as_str()).collect();
    for a in ["request_submitted", "request_approved", "certificate_issued", "request_done"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_certificate_is_not_changed_but_its_operator_may_be() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, mobile) = crate::helpers::issuing::draft(&app, &mut admin, "personal", "ukey").await;
    let info = crate::helpers::issuing::info(crate::helpers::issuing::person(), "personal-1y");
    let (s, v) = b.send::<endpoint::SaveCertificateInfo>(&[&id], &info).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (acceptance, code) = crate::helpers::issuing::submit_and_approve(&app, &mut b, &id, &mobile).await;
    let req = IssueForCsr {
        acceptance_no: acceptance,
        auth_code: code,
        csr_pem: crate::helpers::issuing::csr(),
        medium_no: Some("UKEY-0002".into()),
        medium_kind: TokenKind::Ukey,
    };
    let (s, v) = Browser::new(&app).send::<endpoint::IssueForCsr>(&[], &req).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let uid = decode::<Issued>(&v).certificate_uid;

    let offer = b.ok::<endpoint::OfferChange>(&[&uid], &()).await;
    assert_eq!((offer.change_closed, offer.operator_closed), (Some(ChangeClosed::Personal), None));
    let (s, v) = b.send::<endpoint::StartChange>(&[&uid], &kind(RequestKind::Change)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::PersonalNotChangeable), "{v}");
    let (s, v) = b.send::<endpoint::StartChange>(&[&uid], &kind(RequestKind::Renew)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let first = start(&mut b, &uid, "operator_change").await;

    // Withdrawn by its holder only, it frees the certificate for the next request.
    let (mut other, _) = registered(&app).await;
    assert_eq!(other.send::<endpoint::WithdrawChange>(&[&first], &()).await.0, StatusCode::NOT_FOUND);
    let (s, v) = b.send::<endpoint::WithdrawChange>(&[&first], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(status_of(&v), RequestStatus::Withdrawn, "{v}");
    let (s, v) = b.send::<endpoint::WithdrawChange>(&[&first], &()).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::NotEditable), "{v}");
    let offer = b.ok::<endpoint::OfferChange>(&[&uid], &()).await;
    assert_eq!(offer.request, None);
    assert_ne!(start(&mut b, &uid, "operator_change").await, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_operator_change_codes_and_unlock_go_to_the_new_phone_only() {
    let app = spawn_app().await;
    let (mut b, mut admin, id, acceptance, old_phone) = submitted(&app).await;
    let (uid, _, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &old_phone, Some("SHM-0001")).await;
    let new_phone = new_mobile();

    // ① the new operator's ID ② the new operator ③ 提交审核.
    let rid = start(&mut b, &uid, "operator_change").await;
    let (s, v) = b.send::<endpoint::StartChange>(&[&uid], &kind(RequestKind::Change)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::RequestUnderWay), "{v}");
    let (s, v) = b.send::<endpoint::SaveChangeHolder>(&[&rid], &organisation(NEW_NAME)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "an operator change has no holder step: {v}");
    let (s, v) = b.send::<endpoint::SubmitChange>(&[&rid], &()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields_of(&v), ["operator_id", "operator"]);
    assert_eq!(upload(&b, &rid, "operator_id", "new-id.png", PNG).await.0, StatusCode::OK);
    let (s, v) = b.send::<endpoint::SaveChangeOperator>(&[&rid], &operator(&new_phone)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = b.send::<endpoint::SubmitChange>(&[&rid], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(status_of(&v), RequestStatus::Submitted, "{v}");

    // Until approved, nothing moves.
    let masked = |phone: &str| format!("{}****{}", &phone[..3], &phone[7..]);
    let mine = b.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert_eq!(mine.phone_masked, masked(&old_phone));
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let seen = queued(&mut reviewer, "operator_change", &rid).await;
    let fields: Vec<&str> = seen.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["name", "mobile", "operator_email"], "{seen:?}");
    let moved = FieldChange { field: "mobile".into(), before: old_phone.clone(), after: new_phone.clone() };
    assert_eq!(seen.changes.get(1), Some(&moved));
    // Sent back with a reason: nothing moves; the holder replaces the document and resubmits.
    let reasons = ReviewDecision {
        approve: false,
        reasons: vec![FieldReason { field: "operator_id".into(), reason: "身份证件不清晰".into() }],
    };
    let (s, v) = reviewer.send::<endpoint::Review>(&[&rid], &reasons).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(status_of(&v), RequestStatus::Rejected, "{v}");
    assert_eq!(last_sms(&app, &old_phone).await.unwrap().template, "SMS_CD_REQUEST_REJECTED");
    let mine = b.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert_eq!(mine.phone_masked, masked(&old_phone));
    assert_eq!(upload(&b, &rid, "operator_id", "new-id-clear.png", PNG).await.0, StatusCode::OK);
    let (s, v) = b.send::<endpoint::SubmitChange>(&[&rid], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(status_of(&v), RequestStatus::Resubmitted, "{v}");
    let (s, v) = reviewer.send::<endpoint::Review>(&[&rid], &approve()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(status_of(&v), RequestStatus::Done, "approved and done at once: {v}");
    assert_eq!(last_sms(&app, &old_phone).await.unwrap().template, "SMS_CD_REQUEST_DONE");

    // The phone of record is the new operator's: certificate codes go there only.
    let mine = b.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert_eq!(mine.phone_masked, masked(&new_phone));
    let before_old = last_sms(&app, &old_phone).await.map(|m| m.id);
    let body = CertificateCodeRequest { purpose: CodePurpose::CertificateRevoke };
    let (s, v) = b.send::<endpoint::SendCertificateCode>(&[&uid], &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(code_in(&last_sms(&app, &new_phone).await.expect("a code to the new phone").body).len(), 6);
    assert_eq!(last_sms(&app, &old_phone).await.map(|m| m.id), before_old, "nothing to the old phone");
    // The certificate is free again for the next request.
    let offer = b.ok::<endpoint::OfferChange>(&[&uid], &()).await;
    assert_eq!((offer.request, offer.operator.as_ref().map(|o| o.mobile.as_str())), (None, Some(new_phone.as_str())));

    // 证书解锁: the old phone's code no longer opens the token, the new phone's does.
    let mut page = Browser::new(&app);
    let old_code = send_code(&mut page, &old_phone, "token_unlock").await;
    let (s, v) = unlock_attempt(&app, &mut page, &old_phone, &old_code).await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::UnlockRefused), "{v}");
    let new_code = send_code(&mut page, &new_phone, "token_unlock").await;
    let (s, v) = unlock_attempt(&app, &mut page, &new_phone, &new_code).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// One 证书解锁 of the token `SHM-0001` with this phone and code (the token's side as
/// `token_unlock.rs` plays it).
async fn unlock_attempt(app: &TestApp, page: &mut Browser<'_>, mobile: &str, code: &str) -> (StatusCode, Value) {
    crate::helpers::token::attempt(app, page, "SHM-0001", mobile, code).await
}
