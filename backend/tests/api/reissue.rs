//! 证书补办 / 密钥恢复: only a UKey certificate, only for its holder, one open request per
//! certificate; ① documents ② the SMS code of the phone of record (a wrong or expired code
//! changes nothing) ③ 领取方式 ④ payment at the catalogue's reissue price (settlement skips
//! it) ⑤ review. A lost token's certificate is frozen at submission; approval revokes it
//! (keyCompromise; superseded for a damaged one); the new certificate, same subject and end,
//! goes onto another token; the request has its parcel and its invoice.

use certdesk::domain::{ClientMeta, reissue};
use certdesk::entity::{account, audit_event, certificate, request};
use certdesk_shared::admin::StaffRole;
use certdesk_shared::reissue::VerifyReissue;
use chrono::Duration;
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use x509_parser::prelude::*;

use crate::helpers::browser::{Browser, code_in, last_sms, registered, staff_browser};
use crate::helpers::issuing::{PDF, PNG, ZIP, complete_draft, issue_into, submitted, upload};
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
async fn verify_phone(app: &TestApp, b: &mut Browser<'_>, uid: &str, id: &str, phone: &str) -> Value {
    let (s, sent) =
        b.post(&format!("/api/my-certificates/{uid}/code"), json!({ "purpose": "certificate_reissue" })).await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    let sms = last_sms(app, phone).await.unwrap();
    assert!(sms.body.contains("补办"), "{}", sms.body);
    let (s, v) = b.post(&format!("/api/reissue/requests/{id}/verify"), json!({ "code": code_in(&sms.body) })).await;
    assert_eq!((s, v["reissue"]["phone_verified"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    sent
}

fn by_post(phone: &str) -> Value {
    json!({ "method": "post", "recipient_name": "张三", "recipient_phone": phone, "address": "天津市和平区1号" })
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

    let (s, offer) = b.get(&format!("/api/reissue/{uid}")).await;
    assert_eq!(s, StatusCode::OK, "{offer}");
    assert_eq!(
        (offer["not_open"].clone(), offer["price_fen"].as_i64(), offer["phone_masked"].as_str()),
        (Value::Null, Some(5000), Some(masked.as_str())),
        "{offer}"
    );
    assert_eq!(offer["medium"], "ukey");
    let (_, mine) = b.get(&format!("/api/my-certificates/{uid}")).await;
    assert_eq!(mine["reissuable"], true, "{mine}");

    // Another account finds nothing, and starts nothing.
    let (mut other, _) = registered(&app).await;
    assert_eq!(other.get(&format!("/api/reissue/{uid}")).await.0, StatusCode::NOT_FOUND);
    let (s, _) = other.post(&format!("/api/reissue/{uid}"), json!({ "reason": "lost" })).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(reissues(&app).await, 0);

    let (s, r) = b.post(&format!("/api/reissue/{uid}"), json!({ "reason": "lost" })).await;
    assert_eq!((s, r["status"].as_str(), r["kind"].as_str()), (StatusCode::OK, Some("draft"), Some("reissue")), "{r}");
    assert_eq!((r["price_fen"].as_i64(), r["reissue"]["reason"].as_str()), (Some(5000), Some("lost")));
    let rid = r["id"].as_str().unwrap().to_owned();
    // A second request for the same certificate is refused while this one is open.
    let (s, v) = b.post(&format!("/api/reissue/{uid}"), json!({ "reason": "damaged" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("request_under_way")), "{v}");
    assert_eq!(reissues(&app).await, 1);
    // 证书补办申请表 to print and seal, for its holder only.
    let form = format!("/api/applications/{rid}/form.pdf");
    let res = app.client.get(app.url(&form)).header("cookie", b.cookie.clone().unwrap()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));
    assert_eq!(other.get(&form).await.0, StatusCode::NOT_FOUND);
    // Another account cannot touch the request either.
    let path = |step: &str| format!("/api/reissue/requests/{rid}/{step}");
    assert_eq!(other.post(&path("submit"), json!({})).await.0, StatusCode::NOT_FOUND);

    // Nothing is sent to review before ① ② ③.
    let (s, v) = b.post(&path("submit"), json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let missing: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(missing, ["business_licence", "operator_id", "other", "code", "delivery"], "{v}");
    assert_eq!(cert(&app, &uid).await.status, "valid");

    upload_documents(&b, &rid).await;
    let sent = verify_phone(&app, &mut b, &uid, &rid, &mobile).await;
    assert_eq!(sent["phone_masked"].as_str(), Some(masked.as_str()));
    let (s, v) = b.call(Method::PUT, &path("delivery"), Some(json!({ "method": "post" }))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "an address is needed for the post: {v}");
    let (s, v) = b.call(Method::PUT, &path("delivery"), Some(by_post(&mobile))).await;
    assert_eq!((s, v["delivery"]["method"].as_str()), (StatusCode::OK, Some("post")), "{v}");

    // ⑤ A settlement customer pays nothing now; a lost token's certificate is frozen at once.
    let (s, v) = b.post(&path("submit"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("submitted")), "{v}");
    let number = v["acceptance_no"].as_str().unwrap().to_owned();
    let frozen = cert(&app, &uid).await;
    assert_eq!((frozen.status.as_str(), frozen.reason), ("hold", Some(6)));
    let (_, mine) = b.get(&format!("/api/my-certificates/{uid}")).await;
    assert_eq!((mine["status"].as_str(), mine["reissuable"].as_bool()), (Some("frozen"), Some(true)), "{mine}");
    assert_eq!(audited(&app, "certificate_frozen").await, 1);
    // The CRL lists it on hold already.
    let mut anyone = Browser::new(&app);
    let (_, d) = anyone.get(&format!("/api/public/certificates/{uid}")).await;
    assert_ne!(d["status"], "valid", "{d}");

    // Not issued before approval.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let onto = |medium: &str, kind: &str| json!({ "csr_pem": csr_for(&key), "medium_no": medium, "medium_kind": kind });
    let (s, _) = b.post(&path("issue"), onto("UKEY-0002", "ukey")).await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Staff review it in the one queue and approve: the old certificate is revoked as
    // keyCompromise in the approval's transaction.
    let (_, queue) = admin.get("/api/admin/applications?kind=reissue").await;
    assert_eq!(queue["items"][0]["request"]["id"].as_str(), Some(rid.as_str()), "{queue}");
    assert_eq!(queue["items"][0]["request"]["reissue"]["reason"], "lost");
    // The reviewer opens the same 补办申请表 as the holder.
    let staff_form = app.url(&format!("/api/admin/applications/{rid}/form.pdf"));
    let res = app.client.get(staff_form).header("cookie", admin.cookie.clone().unwrap()).send().await.unwrap();
    assert_eq!((res.status(), res.headers()["content-type"].to_str().unwrap()), (StatusCode::OK, "application/pdf"));
    let (s, v) = admin.post(&format!("/api/admin/applications/{rid}/review"), json!({ "approve": true })).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    let revoked = cert(&app, &uid).await;
    assert_eq!((revoked.status.as_str(), revoked.reason), ("revoked", Some(1)));
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert!(sms.body.contains("证书补办") && sms.body.contains("审核通过"), "{}", sms.body);

    // The new UKey is posted: a parcel for staff to send.
    let (s, parcels) = admin.get("/api/admin/shipments").await;
    assert_eq!(s, StatusCode::OK, "{parcels}");
    assert!(parcels["items"].as_array().unwrap().iter().any(|p| p["id"] == rid.as_str()), "{parcels}");
    let (s, v) = admin
        .post(&format!("/api/admin/applications/{rid}/shipment"), json!({ "courier": "EMS", "tracking_no": "E1" }))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, shipments) = b.get("/api/shipments").await;
    let parcel = shipments.as_array().unwrap().iter().find(|p| p["application_id"] == rid.as_str()).unwrap().clone();
    assert_eq!(
        (parcel["kind"].as_str(), parcel["common_name"].as_str()),
        (Some("reissue"), Some(old.subject.as_str()))
    );

    // The new certificate goes onto the new UKey only: not the old token, not a soft shield.
    let (s, v) = b.post(&path("issue"), onto("UKEY-0001", "ukey")).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("same_medium")), "{v}");
    let (s, v) = b.post(&path("issue"), onto("SHIELD-9", "pc_shield")).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("medium_mismatch")), "{v}");
    assert_eq!(other.post(&path("issue"), onto("UKEY-0002", "ukey")).await.0, StatusCode::NOT_FOUND);
    let (s, issued) = b.post(&path("issue"), onto("UKEY-0002", "ukey")).await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let new_uid = issued["certificate_uid"].as_str().unwrap().to_owned();
    let new = cert(&app, &new_uid).await;
    assert_eq!(subject_der(&new.der), subject_der(&old.der), "the subject is kept");
    assert_eq!((new.not_after, new.medium_no.as_deref()), (old.not_after, Some("UKEY-0002")));
    let (_, n) = parse_x509_certificate(&new.der).unwrap();
    let (_, o) = parse_x509_certificate(&old.der).unwrap();
    assert_ne!(n.public_key().raw, o.public_key().raw, "a new key pair");
    // Retried with the same key (a crash before the token stored it): the same certificate.
    let (s, retry) = b.post(&path("issue"), onto("UKEY-0002", "ukey")).await;
    assert_eq!((s, retry["certificate_uid"].as_str()), (StatusCode::OK, Some(new_uid.as_str())));

    let (s, done) = b.post(&path("finish"), json!({})).await;
    assert_eq!((s, done["status"].as_str()), (StatusCode::OK, Some("done")), "{done}");
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert!(sms.body.contains("证书补办") && sms.body.contains(&number), "{}", sms.body);
    // The old certificate's page shows the reissue done; nothing more can start from it.
    let (_, offer) = b.get(&format!("/api/reissue/{uid}")).await;
    assert_eq!(
        (offer["request"]["status"].as_str(), offer["not_open"].clone()),
        (Some("done"), Value::Null),
        "{offer}"
    );
    let (s, v) = b.post(&format!("/api/reissue/{uid}"), json!({ "reason": "lost" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("certificate_not_valid")), "{v}");

    // 我的证书: the old one revoked, the new one valid on the new token; the public status
    // search says the same.
    let (_, list) = b.get("/api/my-certificates").await;
    let status_of = |u: &str| list.as_array().unwrap().iter().find(|c| c["uid"] == u).unwrap()["status"].clone();
    assert_eq!((status_of(&uid), status_of(&new_uid)), (json!("revoked"), json!("valid")));
    let (_, d) = anyone.get(&format!("/api/public/certificates/{uid}")).await;
    assert_eq!(d["status"], "revoked", "{d}");
    // The phone of record goes on with the new certificate.
    let (_, mine) = b.get(&format!("/api/my-certificates/{new_uid}")).await;
    assert_eq!(mine["phone_masked"].as_str(), Some(masked.as_str()));

    // Its invoice, for the reissue price.
    let (s, v) = b.post(&format!("/api/applications/{rid}/invoice"), crate::helpers::payment::invoice()).await;
    assert_eq!((s, v["amount_fen"].as_i64()), (StatusCode::OK, Some(5000)), "{v}");
}

/// A settlement customer's issued certificate on a PC soft shield.
async fn soft_shield_certificate(app: &TestApp) -> (Browser<'_>, String) {
    let (mut admin, _) = staff_browser(app, StaffRole::Administrator).await;
    let (mut b, id, mobile) = complete_draft(app, &mut admin, true).await;
    let choose = json!({ "project_id": "ra-test", "type_id": "org", "medium": "pc_shield" });
    let (s, v) = b.call(Method::PUT, &format!("/api/applications/{id}/choose-type"), Some(choose)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = v["acceptance_no"].as_str().unwrap().to_owned();
    let (s, _) = admin.post(&format!("/api/admin/applications/{id}/review"), json!({ "approve": true })).await;
    assert_eq!(s, StatusCode::OK);
    let sms = last_sms(app, &mobile).await.unwrap();
    let at = sms.body.find("下载授权码：").unwrap() + "下载授权码：".len();
    let code: String = sms.body[at..].chars().take(8).collect();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let (s, v) = Browser::new(app)
        .post(
            "/api/applications/issue",
            json!({ "acceptance_no": acceptance, "auth_code": code, "csr_pem": csr_for(&key), "medium_no": "SHIELD-01",
                    "medium_kind": "pc_shield" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (b, v["certificate_uid"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_shield_certificate_is_not_reissued() {
    let app = spawn_app().await;
    let (mut b, uid) = soft_shield_certificate(&app).await;
    let (s, offer) = b.get(&format!("/api/reissue/{uid}")).await;
    assert_eq!((s, offer["not_open"].as_str()), (StatusCode::OK, Some("not_ukey")), "{offer}");
    let (_, mine) = b.get(&format!("/api/my-certificates/{uid}")).await;
    assert_eq!(mine["reissuable"], false, "{mine}");
    let (s, v) = b.post(&format!("/api/reissue/{uid}"), json!({ "reason": "damaged" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("reissue_ukey_only")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("重新下载"), "{v}");
    assert_eq!(reissues(&app).await, 0);
    assert_eq!(cert(&app, &uid).await.status, "valid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_expired_code_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (mut b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, _, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("UKEY-0003")).await;
    let (s, r) = b.post(&format!("/api/reissue/{uid}"), json!({ "reason": "lost" })).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let rid = r["id"].as_str().unwrap().to_owned();
    let verify = format!("/api/reissue/requests/{rid}/verify");
    let (s, _) = b.post(&format!("/api/my-certificates/{uid}/code"), json!({ "purpose": "certificate_reissue" })).await;
    assert_eq!(s, StatusCode::OK);
    let code = code_in(&last_sms(&app, &mobile).await.unwrap().body);
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let (s, v) = b.post(&verify, json!({ "code": wrong })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code_invalid")), "{v}");
    let (s, v) = b.post(&verify, json!({ "code": "12ab" })).await;
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
    let (_, offer) = b.get(&format!("/api/reissue/{uid}")).await;
    assert_eq!(offer["details"]["phone_verified"], false, "{offer}");
    assert_eq!(audited(&app, "phone_verified").await, 0);

    // Nor does another account's request take the code.
    let (mut other, _) = registered(&app).await;
    assert_eq!(other.post(&verify, json!({ "code": code })).await.0, StatusCode::NOT_FOUND);
    // The right code in time passes.
    let (s, v) = b.post(&verify, json!({ "code": code })).await;
    assert_eq!((s, v["reissue"]["phone_verified"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    assert_eq!(cert(&app, &uid).await.status, "valid", "no freeze before submission");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_to_pay_reissue_is_paid_at_the_catalogue_price_before_submission() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, false).await;
    crate::helpers::payment::pay(&app, &mut b, &id).await;
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = v["acceptance_no"].as_str().unwrap().to_owned();
    let (uid, _, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("UKEY-0004")).await;

    // Administrators set this type's reissue price; a refused price changes nothing.
    let price = "/api/admin/catalogue/types/org/reissue-price";
    let (s, _) = admin.call(Method::PUT, price, Some(json!({ "price_fen": 0 }))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = admin.call(Method::PUT, price, Some(json!({ "price_fen": 8800 }))).await;
    assert_eq!((s, v["reissue_price_fen"].as_i64()), (StatusCode::OK, Some(8800)), "{v}");
    let (_, catalogue) = admin.get("/api/admin/catalogue").await;
    let org = catalogue[0]["types"].as_array().unwrap().iter().find(|t| t["id"] == "org").unwrap().clone();
    assert_eq!(org["reissue_price_fen"], 8800);
    assert_eq!(audited(&app, "reissue_price_changed").await, 1);

    let (s, r) = b.post(&format!("/api/reissue/{uid}"), json!({ "reason": "damaged" })).await;
    assert_eq!((s, r["price_fen"].as_i64()), (StatusCode::OK, Some(8800)), "{r}");
    let rid = r["id"].as_str().unwrap().to_owned();
    upload_documents(&b, &rid).await;
    verify_phone(&app, &mut b, &uid, &rid, &mobile).await;
    let counter = json!({ "method": "counter" });
    let (s, v) = b.call(Method::PUT, &format!("/api/reissue/requests/{rid}/delivery"), Some(counter)).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Not paid: not submitted, and nothing frozen.
    let submit = format!("/api/reissue/requests/{rid}/submit");
    let (s, v) = b.post(&submit, json!({})).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("payment_required")), "{v}");
    assert_eq!(
        request::Entity::find_by_id(rid.clone()).one(&app.state.db).await.unwrap().unwrap().status,
        request::Status::Draft
    );

    let order = crate::helpers::payment::pay(&app, &mut b, &rid).await;
    assert_eq!(order["amount_fen"].as_i64(), Some(8800));
    let (s, v) = b.post(&submit, json!({})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("submitted")), "{v}");
    // A damaged token's certificate is not frozen; approval supersedes it.
    assert_eq!(cert(&app, &uid).await.status, "valid");
    let (s, _) = admin.post(&format!("/api/admin/applications/{rid}/review"), json!({ "approve": true })).await;
    assert_eq!(s, StatusCode::OK);
    let old = cert(&app, &uid).await;
    assert_eq!((old.status.as_str(), old.reason), ("revoked", Some(4)));
    // Picked up at the counter: no parcel.
    let (_, parcels) = admin.get("/api/admin/shipments").await;
    assert!(parcels["items"].as_array().unwrap().iter().all(|p| p["id"] != rid.as_str()), "{parcels}");
}
