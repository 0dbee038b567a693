//! 证书补办 / 密钥恢复: only a UKey certificate, only for its holder, one open request per
//! certificate; ① documents ② the SMS code of the phone of record (a wrong or expired code
//! changes nothing) ③ 领取方式 ④ payment at the catalogue's reissue price (settlement skips
//! it) ⑤ review. A lost token's certificate is frozen at submission; approval revokes it
//! (keyCompromise; superseded for a damaged one); the new certificate, same subject and end,
//! goes onto another token; the request has its parcel and its invoice.

use certdesk::domain::{ClientMeta, reissue};
use certdesk::entity::{account, audit_event, certificate, request};
use certdesk_shared::account::CodePurpose;
use certdesk_shared::admin::{Page, QueueQuery, ShipmentQuery, StaffRole};
use certdesk_shared::agent::TokenKind;
use certdesk_shared::apply::{
    CertificateType, DeliveryInfo, DeliveryMethod, InvoiceView, Issued, Medium, SetPrice, ShipmentRequest,
};
use certdesk_shared::directory::PublicStatus;
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::my_certificates::{CertificateCodeRequest, CertificateCodeSent, MyCertificateStatus};
use certdesk_shared::reissue::{ReissueCsr, ReissueNotOpen, ReissueOffer, ReissueReason, StartReissue, VerifyReissue};
use certdesk_shared::request::{RequestKind, RequestStatus, RequestView};
use certdesk_shared::{ErrorCode, OtpCode, PersonName};
use chrono::Duration;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use x509_parser::prelude::*;

use crate::helpers::browser::{Browser, api_error, code_in, decode, last_sms, mobile, registered, staff_browser};
use crate::helpers::issuing::{PDF, PNG, ZIP, approve, choose, complete_draft, counter, issue_into, submitted, upload};
use crate::helpers::{TestApp, spawn_app};

async fn cert(app: &TestApp, uid: &str) -> certificate::Model {
    certificate::Entity::find().filter(certificate::Column::Uid.eq(uid)).one(&app.state.db).await.unwrap().unwrap()
}

async fn reissues(app: &TestApp) -> usize {
    request::Entity::find()
        .filter(request::Column::Kind.eq(request::Kind::Reissue))
        .all(&app.state.db)
        .await
        .unwrap()
        .len()
}

fn csr_for(key: &rcgen::KeyPair) -> String {
    rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(key).unwrap().pem().unwrap()
}

fn subject_der(der: &[u8]) -> Vec<u8> {
    let (_, c) = parse_x509_certificate(der).unwrap();
    c.subject().as_raw().to_vec()
}

/// ① the documents of the certificate's type.
async fn upload_documents(b: &Browser<'_>, id: &str) {
    assert_eq!(upload(b, id, "business_licence", "营业执照.pdf", PDF).await.0, StatusCode::OK);
    assert_eq!(upload(b, id, "operator_id", "id.png", PNG).await.0, StatusCode::OK);
    assert_eq!(upload(b, id, "other", "补办申请表.zip", ZIP).await.0, StatusCode::OK);
}

/// ② a code to the phone of record, read from the SMS, and checked.
async fn verify_phone(app: &TestApp, b: &mut Browser<'_>, uid: &str, id: &str, phone: &str) -> CertificateCodeSent {
    let (s, sent) = b.send::<endpoint::SendCertificateCode>(&[uid], &ask_code()).await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    let sms = last_sms(app, phone).await.unwrap();
    assert!(sms.body.contains("补办"), "{}", sms.body);
    let (s, v) = b.send::<endpoint::VerifyReissue>(&[id], &verify(&code_in(&sms.body))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(phone_verified(&v), Some(true), "{v}");
    decode(&sent)
}

/// `POST /api/my-certificates/{uid}/code` for a reissue.
fn ask_code() -> CertificateCodeRequest {
    CertificateCodeRequest { purpose: CodePurpose::CertificateReissue }
}

/// ② the SMS code, right or wrong (six digits).
fn verify(code: &str) -> VerifyReissue {
    VerifyReissue { code: OtpCode::parse(code).unwrap() }
}

/// Whether a reissue request's answer records the phone as verified.
fn phone_verified(v: &Value) -> Option<bool> {
    decode::<RequestView>(v).reissue.map(|r| r.phone_verified)
}

fn reason(reason: ReissueReason) -> StartReissue {
    StartReissue { reason }
}

/// An error answer's code.
fn code_of(v: &Value) -> ErrorCode {
    api_error(v).code
}

fn by_post(phone: &str) -> DeliveryInfo {
    DeliveryInfo {
        method: DeliveryMethod::Post,
        recipient_company: None,
        recipient_name: Some(PersonName::parse("张三").unwrap()),
        recipient_phone: Some(mobile(phone)),
        address: Some("天津市和平区1号".into()),
        cash_on_delivery: false,
    }
}

async fn audited(app: &TestApp, action: &str) -> usize {
    audit_event::Entity::find().filter(audit_event::Column::Action.eq(action)).all(&app.state.db).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_ukey_is_frozen_at_submission_revoked_on_approval_and_reissued_onto_another_token() {
    let app = spawn_app().await;
    let (mut b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, _, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("UKEY-0001")).await;
    let old = cert(&app, &uid).await;
    let masked = format!("{}****{}", &mobile[..3], &mobile[7..]);

    let (s, offer) = b.send::<endpoint::OfferReissue>(&[&uid], &()).await;
    assert_eq!(s, StatusCode::OK, "{offer}");
    let offer: ReissueOffer = decode(&offer);
    assert_eq!(
        (offer.not_open, offer.price_fen, offer.phone_masked.as_str()),
        (None, 5000, masked.as_str()),
        "{offer:?}"
    );
    assert_eq!(offer.medium, Some(Medium::Ukey));
    let mine = b.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert!(mine.reissuable, "{mine:?}");

    // Another account finds nothing, and starts nothing.
    let (mut other, _) = registered(&app).await;
    assert_eq!(other.send::<endpoint::OfferReissue>(&[&uid], &()).await.0, StatusCode::NOT_FOUND);
    let (s, _) = other.send::<endpoint::StartReissue>(&[&uid], &reason(ReissueReason::Lost)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(reissues(&app).await, 0);

    let (s, r) = b.send::<endpoint::StartReissue>(&[&uid], &reason(ReissueReason::Lost)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let r: RequestView = decode(&r);
    assert_eq!((r.status, r.kind), (RequestStatus::Draft, RequestKind::Reissue), "{r:?}");
    assert_eq!((r.price_fen, r.reissue.as_ref().map(|d| d.reason)), (Some(5000), Some(ReissueReason::Lost)));
    let rid = r.id;
    // A second request for the same certificate is refused while this one is open.
    let (s, v) = b.send::<endpoint::StartReissue>(&[&uid], &reason(ReissueReason::Damaged)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::RequestUnderWay), "{v}");
    assert_eq!(reissues(&app).await, 1);
    // 证书补办申请表 to print and seal, for its holder only.
    let res = b.fetch::<endpoint::ApplicationForm>(&[&rid], &()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));
    assert_eq!(other.send::<endpoint::ApplicationForm>(&[&rid], &()).await.0, StatusCode::NOT_FOUND);
    // Another account cannot touch the request either.
    assert_eq!(other.send::<endpoint::SubmitReissue>(&[&rid], &()).await.0, StatusCode::NOT_FOUND);

    // Nothing is sent to review before ① ② ③.
    let (s, v) = b.send::<endpoint::SubmitReissue>(&[&rid], &()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let missing: Vec<String> = api_error(&v).fields.into_iter().map(|f| f.field).collect();
    assert_eq!(missing, ["business_licence", "operator_id", "other", "code", "delivery"], "{v}");
    assert_eq!(cert(&app, &uid).await.status, "valid");

    upload_documents(&b, &rid).await;
    let sent = verify_phone(&app, &mut b, &uid, &rid, &mobile).await;
    assert_eq!(sent.phone_masked, masked);
    let no_address = DeliveryInfo { method: DeliveryMethod::Post, ..counter() };
    let (s, v) = b.send::<endpoint::SaveReissueDelivery>(&[&rid], &no_address).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "an address is needed for the post: {v}");
    let (s, v) = b.send::<endpoint::SaveReissueDelivery>(&[&rid], &by_post(&mobile)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).delivery.map(|d| d.method), Some(DeliveryMethod::Post), "{v}");

    // ⑤ A settlement customer pays nothing now; a lost token's certificate is frozen at once.
    let (s, v) = b.send::<endpoint::SubmitReissue>(&[&rid], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let submitted: RequestView = decode(&v);
    assert_eq!(submitted.status, RequestStatus::Submitted, "{v}");
    let number = submitted.acceptance_no.expect("an acceptance number");
    let frozen = cert(&app, &uid).await;
    assert_eq!((frozen.status.as_str(), frozen.reason), ("hold", Some(6)));
    let mine = b.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert_eq!((mine.status, mine.reissuable), (MyCertificateStatus::Frozen, true), "{mine:?}");
    assert_eq!(audited(&app, "certificate_frozen").await, 1);
    // The CRL lists it on hold already.
    let mut anyone = Browser::new(&app);
    let d = anyone.ok::<endpoint::CertificateDetail>(&[&uid], &()).await;
    assert_ne!(d.status, PublicStatus::Valid, "{d:?}");

    // Not issued before approval.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let onto = |medium: &str, kind: TokenKind| ReissueCsr {
        csr_pem: csr_for(&key),
        medium_no: medium.to_owned(),
        medium_kind: kind,
    };
    let (s, _) = b.send::<endpoint::IssueReissue>(&[&rid], &onto("UKEY-0002", TokenKind::Ukey)).await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Staff review it in the one queue and approve: the old certificate is revoked as
    // keyCompromise in the approval's transaction.
    let queue =
        admin.ok::<endpoint::ReviewQueue>(&[], &QueueQuery { kind: "reissue".into(), ..Default::default() }).await;
    let first = &queue.items.first().expect("a request in the queue").request;
    assert_eq!(first.id, rid, "{queue:?}");
    assert_eq!(first.reissue.as_ref().map(|d| d.reason), Some(ReissueReason::Lost));
    // The reviewer opens the same 补办申请表 as the holder.
    let staff_form = app.url(&endpoint::StaffApplicationForm::path(&[&rid]));
    let res = app.client.get(staff_form).header("cookie", admin.cookie.clone().unwrap()).send().await.unwrap();
    assert_eq!((res.status(), res.headers()["content-type"].to_str().unwrap()), (StatusCode::OK, "application/pdf"));
    let (s, v) = admin.send::<endpoint::Review>(&[&rid], &approve()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).status, RequestStatus::Approved, "{v}");
    let revoked = cert(&app, &uid).await;
    assert_eq!((revoked.status.as_str(), revoked.reason), ("revoked", Some(1)));
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert!(sms.body.contains("证书补办") && sms.body.contains("审核通过"), "{}", sms.body);

    // The new UKey is posted: a parcel for staff to send.
    let (s, parcels) = admin.send::<endpoint::AwaitingShipment>(&[], &ShipmentQuery::default()).await;
    assert_eq!(s, StatusCode::OK, "{parcels}");
    assert!(decode::<Page<RequestView>>(&parcels).items.iter().any(|p| p.id == rid), "{parcels}");
    let ems = ShipmentRequest { courier: "EMS".into(), tracking_no: "E1".into() };
    let (s, v) = admin.send::<endpoint::Ship>(&[&rid], &ems).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let shipments = b.ok::<endpoint::ListShipments>(&[], &()).await;
    let parcel = shipments.iter().find(|p| p.application_id == rid).unwrap();
    assert_eq!((parcel.kind, parcel.common_name.as_str()), (RequestKind::Reissue, old.subject.as_str()));

    // The new certificate goes onto the new UKey only: not the old token, not a soft shield.
    let (s, v) = b.send::<endpoint::IssueReissue>(&[&rid], &onto("UKEY-0001", TokenKind::Ukey)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::SameMedium), "{v}");
    let (s, v) = b.send::<endpoint::IssueReissue>(&[&rid], &onto("SHIELD-9", TokenKind::PcShield)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::MediumMismatch), "{v}");
    assert_eq!(
        other.send::<endpoint::IssueReissue>(&[&rid], &onto("UKEY-0002", TokenKind::Ukey)).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, issued) = b.send::<endpoint::IssueReissue>(&[&rid], &onto("UKEY-0002", TokenKind::Ukey)).await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let new_uid = decode::<Issued>(&issued).certificate_uid;
    let new = cert(&app, &new_uid).await;
    assert_eq!(subject_der(&new.der), subject_der(&old.der), "the subject is kept");
    assert_eq!((new.not_after, new.medium_no.as_deref()), (old.not_after, Some("UKEY-0002")));
    let (_, n) = parse_x509_certificate(&new.der).unwrap();
    let (_, o) = parse_x509_certificate(&old.der).unwrap();
    assert_ne!(n.public_key().raw, o.public_key().raw, "a new key pair");
    // Retried with the same key (a crash before the token stored it): the same certificate.
    let (s, retry) = b.send::<endpoint::IssueReissue>(&[&rid], &onto("UKEY-0002", TokenKind::Ukey)).await;
    assert_eq!(s, StatusCode::OK, "{retry}");
    assert_eq!(decode::<Issued>(&retry).certificate_uid, new_uid);

    let (s, done) = b.send::<endpoint::FinishReissue>(&[&rid], &()).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(decode::<RequestView>(&done).status, RequestStatus::Done, "{done}");
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert!(sms.body.contains("证书补办") && sms.body.contains(&number), "{}", sms.body);
    // The old certificate's page shows the reissue done; nothing more can start from it.
    let offer = b.ok::<endpoint::OfferReissue>(&[&uid], &()).await;
    assert_eq!(
        (offer.request.as_ref().map(|r| r.status), offer.not_open),
        (Some(RequestStatus::Done), None),
        "{offer:?}"
    );
    let (s, v) = b.send::<endpoint::StartReissue>(&[&uid], &reason(ReissueReason::Lost)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::CertificateNotValid), "{v}");

    // 我的证书: the old one revoked, the new one valid on the new token; the public status
    // search says the same.
    let list = b.ok::<endpoint::ListMyCertificates>(&[], &()).await;
    let status_of = |u: &str| list.iter().find(|c| c.uid == u).unwrap().status;
    assert_eq!((status_of(&uid), status_of(&new_uid)), (MyCertificateStatus::Revoked, MyCertificateStatus::Valid));
    let d = anyone.ok::<endpoint::CertificateDetail>(&[&uid], &()).await;
    assert_eq!(d.status, PublicStatus::Revoked, "{d:?}");
    // The phone of record goes on with the new certificate.
    let mine = b.ok::<endpoint::GetMyCertificate>(&[&new_uid], &()).await;
    assert_eq!(mine.phone_masked, masked);

    // Its invoice, for the reissue price.
    let (s, v) = b.send::<endpoint::RequestInvoice>(&[&rid], &crate::helpers::payment::invoice()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<InvoiceView>(&v).amount_fen, 5000, "{v}");
}

/// A settlement customer's issued certificate on a PC soft shield.
async fn soft_shield_certificate(app: &TestApp) -> (Browser<'_>, String) {
    let (mut admin, _) = staff_browser(app, StaffRole::Administrator).await;
    let (mut b, id, mobile) = complete_draft(app, &mut admin, true).await;
    let (s, v) = b.send::<endpoint::ChooseType>(&[&id], &choose("org", "pc_shield")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");
    let (s, _) = admin.send::<endpoint::Review>(&[&id], &approve()).await;
    assert_eq!(s, StatusCode::OK);
    let sms = last_sms(app, &mobile).await.unwrap();
    let at = sms.body.find("下载授权码：").unwrap() + "下载授权码：".len();
    let code: String = sms.body[at..].chars().take(8).collect();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let body = certdesk_shared::apply::IssueForCsr {
        acceptance_no: acceptance,
        auth_code: code,
        csr_pem: csr_for(&key),
        medium_no: Some("SHIELD-01".into()),
        medium_kind: TokenKind::PcShield,
    };
    let (s, v) = Browser::new(app).send::<endpoint::IssueForCsr>(&[], &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (b, decode::<Issued>(&v).certificate_uid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_shield_certificate_is_not_reissued() {
    let app = spawn_app().await;
    let (mut b, uid) = soft_shield_certificate(&app).await;
    let offer = b.ok::<endpoint::OfferReissue>(&[&uid], &()).await;
    assert_eq!(offer.not_open, Some(ReissueNotOpen::NotUkey), "{offer:?}");
    let mine = b.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert!(!mine.reissuable, "{mine:?}");
    let (s, v) = b.send::<endpoint::StartReissue>(&[&uid], &reason(ReissueReason::Damaged)).await;
    let e = api_error(&v);
    assert_eq!((s, e.code), (StatusCode::CONFLICT, ErrorCode::ReissueUkeyOnly), "{v}");
    assert!(e.message.contains("重新下载"), "{v}");
    assert_eq!(reissues(&app).await, 0);
    assert_eq!(cert(&app, &uid).await.status, "valid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_expired_code_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (mut b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, _, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("UKEY-0003")).await;
    let (s, r) = b.send::<endpoint::StartReissue>(&[&uid], &reason(ReissueReason::Lost)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let rid = decode::<RequestView>(&r).id;
    let (s, _) = b.send::<endpoint::SendCertificateCode>(&[&uid], &ask_code()).await;
    assert_eq!(s, StatusCode::OK);
    let code = code_in(&last_sms(&app, &mobile).await.unwrap().body);
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let (s, v) = b.send::<endpoint::VerifyReissue>(&[&rid], &verify(wrong)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CodeInvalid), "{v}");
    // Not a code at all: no `OtpCode` holds it.
    let (s, v) = b.send_json::<endpoint::VerifyReissue>(&[&rid], json!({ "code": "12ab" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // The right code, once it has expired (ten minutes later), is refused too.
    let who = account::Entity::find().filter(account::Column::Mobile.eq(mobile.as_str())).one(&app.state.db).await;
    let who = who.unwrap().unwrap().id;
    let body = VerifyReissue { code: certdesk_shared::OtpCode::parse(&code).unwrap() };
    let later = chrono::Utc::now() + Duration::minutes(30);
    let meta = ClientMeta::default();
    let expired = reissue::verify(&app.state.db, &app.state.audit_key, &who, &rid, &body, &meta, later).await;
    assert!(
        matches!(expired, Err(certdesk::error::AppError::Code(certdesk_shared::ErrorCode::CodeInvalid))),
        "{expired:?}"
    );
    let offer = b.ok::<endpoint::OfferReissue>(&[&uid], &()).await;
    assert_eq!(offer.details.map(|d| d.phone_verified), Some(false), "{uid}");
    assert_eq!(audited(&app, "phone_verified").await, 0);

    // Nor does another account's request take the code.
    let (mut other, _) = registered(&app).await;
    assert_eq!(other.send::<endpoint::VerifyReissue>(&[&rid], &verify(&code)).await.0, StatusCode::NOT_FOUND);
    // The right code in time passes.
    let (s, v) = b.send::<endpoint::VerifyReissue>(&[&rid], &verify(&code)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(phone_verified(&v), Some(true), "{v}");
    assert_eq!(cert(&app, &uid).await.status, "valid", "no freeze before submission");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_to_pay_reissue_is_paid_at_the_catalogue_price_before_submission() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, false).await;
    crate::helpers::payment::pay(&app, &mut b, &id).await;
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");
    let (uid, _, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("UKEY-0004")).await;

    // Administrators set this type's reissue price; a refused price changes nothing.
    let (s, _) = admin.send::<endpoint::SetReissuePrice>(&["org"], &SetPrice { price_fen: 0 }).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = admin.send::<endpoint::SetReissuePrice>(&["org"], &SetPrice { price_fen: 8800 }).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<CertificateType>(&v).reissue_price_fen, 8800, "{v}");
    let catalogue = admin.ok::<endpoint::FullCatalogue>(&[], &()).await;
    let org = catalogue[0].types.iter().find(|t| t.id == "org").unwrap();
    assert_eq!(org.reissue_price_fen, 8800);
    assert_eq!(audited(&app, "reissue_price_changed").await, 1);

    let (s, r) = b.send::<endpoint::StartReissue>(&[&uid], &reason(ReissueReason::Damaged)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let r: RequestView = decode(&r);
    assert_eq!(r.price_fen, Some(8800), "{r:?}");
    let rid = r.id;
    upload_documents(&b, &rid).await;
    verify_phone(&app, &mut b, &uid, &rid, &mobile).await;
    let (s, v) = b.send::<endpoint::SaveReissueDelivery>(&[&rid], &counter()).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Not paid: not submitted, and nothing frozen.
    let (s, v) = b.send::<endpoint::SubmitReissue>(&[&rid], &()).await;
    assert_eq!((s, code_of(&v)), (StatusCode::PAYMENT_REQUIRED, ErrorCode::PaymentRequired), "{v}");
    assert_eq!(
        request::Entity::find_by_id(rid.clone()).one(&app.state.db).await.unwrap().unwrap().status,
        request::Status::Draft
    );

    let order = crate::helpers::payment::pay(&app, &mut b, &rid).await;
    assert_eq!(order.amount_fen, 8800);
    let (s, v) = b.send::<endpoint::SubmitReissue>(&[&rid], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).status, RequestStatus::Submitted, "{v}");
    // A damaged token's certificate is not frozen; approval supersedes it.
    assert_eq!(cert(&app, &uid).await.status, "valid");
    let (s, _) = admin.send::<endpoint::Review>(&[&rid], &approve()).await;
    assert_eq!(s, StatusCode::OK);
    let old = cert(&app, &uid).await;
    assert_eq!((old.status.as_str(), old.reason), ("revoked", Some(4)));
    // Picked up at the counter: no parcel.
    let parcels = admin.ok::<endpoint::AwaitingShipment>(&[], &ShipmentQuery::default()).await;
    assert!(parcels.items.iter().all(|p| p.id != rid), "{parcels:?}");
}
