//! 证书注销 by request of the signed-in holder (documents, the SMS code of the phone of
//! record, staff review; revoked for good on approval), 冻结/解冻 by the holder and by staff,
//! and the revocation by the CA under dual control.

use certdesk_shared::admin::StaffRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::browser::{Browser, code_in, last_sms, registered, staff_browser};
use crate::helpers::ca::{Files, fetch_crl, openssl_ocsp};
use crate::helpers::issuing::{PNG, issue_with_key, submitted, upload};
use crate::helpers::{TestApp, spawn_app};

fn in_crl(crl: &[u8], serial: &str) -> bool {
    let (_, crl) = x509_parser::parse_x509_crl(crl).unwrap();
    crl.iter_revoked_certificates().any(|r| r.raw_serial_as_string().replace(':', "") == serial)
}

/// A code to the phone of record for `purpose`, read from the sandbox gateway's outbox.
async fn code_for(b: &mut Browser<'_>, uid: &str, purpose: &str, phone: &str) -> String {
    let (s, v) = b.post(&format!("/api/my-certificates/{uid}/code"), json!({ "purpose": purpose })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    code_in(&last_sms(b.app, phone).await.unwrap().body)
}

async fn ocsp(app: &TestApp, serial: &str) -> String {
    let f = Files { dir: tempfile::tempdir().unwrap() };
    openssl_ocsp(&f, app, serial, &[])
}

async fn trail_has(admin: &mut Browser<'_>, action: &str, subject: &str) -> bool {
    let (_, trail) = admin.get("/api/admin/audit?per_page=200").await;
    trail["items"].as_array().unwrap().iter().any(|e| e["action"] == action && e["subject"] == subject)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_asks_to_revoke_staff_approve_and_the_certificate_is_revoked_for_good() {
    let app = spawn_app().await;
    let (mut holder, mut admin, id, acceptance, operator) = submitted(&app).await;
    let (uid, serial, _, _) = issue_with_key(&app, &mut admin, &id, &acceptance, &operator).await;

    let (s, offer) = holder.get(&format!("/api/revoke/{uid}")).await;
    assert_eq!((s, &offer["not_open"], &offer["request"]), (StatusCode::OK, &Value::Null, &Value::Null), "{offer}");
    assert!(offer["reasons"].as_array().unwrap().iter().any(|r| r == "affiliation_changed"), "{offer}");

    // Nobody else's certificate, and only a holder's reason.
    let (mut other, _) = registered(&app).await;
    for (s, v) in [
        other.get(&format!("/api/revoke/{uid}")).await,
        other.post(&format!("/api/revoke/{uid}"), json!({ "reason": "key_compromise" })).await,
    ] {
        assert_eq!((s, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{v}");
    }
    let (s, v) = holder.post(&format!("/api/revoke/{uid}"), json!({ "reason": "ca_compromise" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_revocation_reason")), "{v}");

    // ① a draft with the holder's reason; asking again gives the same request.
    let (s, r) = holder.post(&format!("/api/revoke/{uid}"), json!({ "reason": "affiliation_changed" })).await;
    assert_eq!((s, r["kind"].as_str(), r["status"].as_str()), (StatusCode::OK, Some("revoke"), Some("draft")), "{r}");
    let rid = r["id"].as_str().unwrap().to_owned();
    let (_, again) = holder.post(&format!("/api/revoke/{uid}"), json!({ "reason": "affiliation_changed" })).await;
    assert_eq!(again["id"], rid.as_str());
    let submit = format!("/api/revoke/requests/{rid}/submit");

    // Without the documents: each one named; nothing sent to review.
    let code = code_for(&mut holder, &uid, "certificate_revoke", &operator).await;
    let (s, v) = holder.post(&submit, json!({ "code": code })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().filter_map(|f| f["field"].as_str()).collect();
    assert_eq!(fields, ["revocation_form", "holder_id"]);
    for kind in ["revocation_form", "holder_id"] {
        let (s, v) = upload(&holder, &rid, kind, &format!("{kind}.png"), PNG).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    // A wrong code: refused, still a draft.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (s, v) = holder.post(&submit, json!({ "code": wrong })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code_invalid")), "{v}");
    let (_, r) = holder.get(&format!("/api/revoke/{uid}")).await;
    assert_eq!(r["request"]["status"], "draft");
    // The right code (it has tries left).
    let (s, v) = holder.post(&submit, json!({ "code": code })).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("submitted")), "{v}");
    let number = v["acceptance_no"].as_str().unwrap().to_owned();
    assert!(trail_has(&mut admin, "request_submitted", &number).await);

    // Still valid until staff decide.
    assert!(ocsp(&app, &serial).await.contains(": good"));
    let (s, q) = admin.get("/api/admin/applications?kind=revoke").await;
    assert_eq!(s, StatusCode::OK, "{q}");
    assert!(
        q["items"].as_array().unwrap().iter().any(|i| i["request"]["id"] == rid.as_str() || i["id"] == rid.as_str()),
        "{q}"
    );
    let (s, v) = admin.post(&format!("/api/admin/applications/{rid}/review"), json!({ "approve": true })).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("done")), "{v}");

    // Revoked with the holder's reason: OCSP, the CRL, the search, 我的证书, the SMS.
    let answer = ocsp(&app, &serial).await;
    assert!(answer.contains(": revoked") && answer.contains("affiliationChanged"), "{answer}");
    assert!(in_crl(&fetch_crl(&app, &serial).await, &serial));
    let (_, mine) = holder.get(&format!("/api/my-certificates/{uid}")).await;
    assert_eq!(mine["status"], "revoked", "{mine}");
    // The operator's phone is the account's in these tests: the result goes there.
    let sms = last_sms(&app, &operator).await.unwrap();
    assert!(sms.body.contains(&number) && sms.body.contains("已办理完成"), "{}", sms.body);
    assert!(trail_has(&mut admin, "certificate_revoked", &serial).await);

    // Permanent: nothing more to revoke.
    let (s, v) = holder.post(&format!("/api/revoke/{uid}"), json!({ "reason": "key_compromise" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("already_revoked")), "{v}");
    let (_, offer) = holder.get(&format!("/api/revoke/{uid}")).await;
    assert_eq!(offer["not_open"], "not_live");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_request_for_one_certificate_is_refused() {
    let app = spawn_app().await;
    let (mut holder, mut admin, id, acceptance, operator) = submitted(&app).await;
    let (uid, _, _, _) = issue_with_key(&app, &mut admin, &id, &acceptance, &operator).await;
    // A renewal under way (the certificate is made to be in its window).
    certdesk::domain::exec(
        &app.state.db,
        "UPDATE certificate SET not_after = $2 WHERE uid = $1",
        vec![uid.clone().into(), (chrono::Utc::now() + chrono::Duration::days(30)).into()],
    )
    .await
    .unwrap();
    let (_, offer) = holder.get(&format!("/api/renew/{uid}")).await;
    let validity = offer["periods"][0]["id"].as_str().unwrap().to_owned();
    let (s, v) = holder.post(&format!("/api/renew/{uid}"), json!({ "validity_id": validity })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = holder.post(&format!("/api/revoke/{uid}"), json!({ "reason": "superseded" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("request_under_way")), "{v}");
    let (_, offer) = holder.get(&format!("/api/revoke/{uid}")).await;
    assert_eq!(offer["not_open"], "other_request", "{offer}");
    let (_, mine) = holder.get(&format!("/api/my-certificates/{uid}")).await;
    assert_eq!(mine["request_under_way"], "renew", "{mine}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holder_freezes_at_once_and_unfreezes_with_the_code_but_not_what_staff_froze() {
    let app = spawn_app().await;
    let (mut holder, mut admin, id, acceptance, operator) = submitted(&app).await;
    let (uid, serial, _, _) = issue_with_key(&app, &mut admin, &id, &acceptance, &operator).await;
    let (mut other, _) = registered(&app).await;
    let (s, v) = other.post(&format!("/api/my-certificates/{uid}/freeze"), json!({})).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{v}");

    let (s, c) = holder.post(&format!("/api/my-certificates/{uid}/freeze"), json!({})).await;
    assert_eq!(
        (s, c["status"].as_str(), c["frozen_by"].as_str()),
        (StatusCode::OK, Some("frozen"), Some("holder")),
        "{c}"
    );
    let answer = ocsp(&app, &serial).await;
    assert!(answer.contains(": revoked") && answer.contains("certificateHold"), "{answer}");
    assert!(in_crl(&fetch_crl(&app, &serial).await, &serial));
    assert!(trail_has(&mut admin, "certificate_frozen", &serial).await);

    // 解冻 needs the code of the phone of record.
    let unfreeze = format!("/api/my-certificates/{uid}/unfreeze");
    let (s, v) = holder.post(&unfreeze, json!({ "code": "123456" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code_invalid")), "{v}");
    let code = code_for(&mut holder, &uid, "certificate_release", &operator).await;
    let (s, c) = holder.post(&unfreeze, json!({ "code": code })).await;
    assert_eq!((s, c["status"].as_str()), (StatusCode::OK, Some("valid")), "{c}");
    assert!(ocsp(&app, &serial).await.contains(": good"));
    assert!(!in_crl(&fetch_crl(&app, &serial).await, &serial));

    // Staff freeze (with a comment): the holder cannot unfreeze that; staff can.
    let path = format!("/api/admin/certificates/{uid}");
    let (s, v) = admin.post(&format!("{path}/freeze"), json!({ "comment": " " })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = admin.post(&format!("{path}/freeze"), json!({ "comment": "公安机关协查" })).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, c) = holder.get(&format!("/api/my-certificates/{uid}")).await;
    assert_eq!((c["status"].as_str(), c["frozen_by"].as_str()), (Some("frozen"), Some("staff")), "{c}");
    let (s, v) = holder.post(&unfreeze, json!({ "code": "123456" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("frozen_by_staff")), "{v}");
    let (mut clerk, _) = staff_browser(&app, StaffRole::CustomerService).await;
    let (s, _) = clerk.post(&format!("{path}/unfreeze"), json!({ "comment": "协查结束" })).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = admin.post(&format!("{path}/unfreeze"), json!({ "comment": "协查结束" })).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(ocsp(&app, &serial).await.contains(": good"));
    assert!(trail_has(&mut admin, "certificate_unfrozen", &serial).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_by_staff_waits_for_a_second_member_and_nobody_approves_their_own() {
    let app = spawn_app().await;
    let (_holder, mut admin, id, acceptance, operator) = submitted(&app).await;
    let (uid, serial, _, _) = issue_with_key(&app, &mut admin, &id, &acceptance, &operator).await;
    let (mut first, first_id) = staff_browser(&app, StaffRole::Reviewer).await;
    let (mut second, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let (mut clerk, _) = staff_browser(&app, StaffRole::CustomerService).await;

    let (s, found) = first.get(&format!("/api/admin/certificates?serial={}", serial.to_uppercase())).await;
    assert_eq!((s, found[0]["uid"].as_str()), (StatusCode::OK, Some(uid.as_str())), "{found}");
    let ask = format!("/api/admin/certificates/{uid}/revocations");
    let (s, _) = clerk.post(&ask, json!({ "reason": "key_compromise", "comment": "x" })).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = first.post(&ask, json!({ "reason": "key_compromise", "comment": "" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = first.post(&ask, json!({ "reason": "certificate_hold", "comment": "私钥泄露" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_revocation_reason")), "{v}");
    let (s, r) = first.post(&ask, json!({ "reason": "key_compromise", "comment": "私钥泄露，持有人电话报告" })).await;
    assert_eq!(
        (s, r["status"].as_str(), r["may_decide"].as_bool()),
        (StatusCode::OK, Some("pending"), Some(false)),
        "{r}"
    );
    let rid = r["id"].as_str().unwrap().to_owned();
    let (s, v) = second.post(&ask, json!({ "reason": "key_compromise", "comment": "再次" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("request_under_way")), "{v}");

    // Nothing happens yet.
    assert!(ocsp(&app, &serial).await.contains(": good"));
    let decide = format!("/api/admin/revocations/{rid}/decision");
    let (s, v) = first.post(&decide, json!({ "approve": true })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("own_revocation")), "{v}");
    assert!(ocsp(&app, &serial).await.contains(": good"));
    let (_, list) = second.get("/api/admin/revocations").await;
    let mine = list.as_array().unwrap().iter().find(|r| r["id"] == rid.as_str()).unwrap();
    assert_eq!((mine["may_decide"].as_bool(), mine["requested_by"].as_str()), (Some(true), Some("测试员工")));

    // The second member approves: revoked with the reason asked for.
    let (s, v) = second.post(&decide, json!({ "approve": true, "comment": "核实无误" })).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    let answer = ocsp(&app, &serial).await;
    assert!(answer.contains(": revoked") && answer.contains("keyCompromise"), "{answer}");
    assert!(in_crl(&fetch_crl(&app, &serial).await, &serial));
    let (s, v) = second.post(&decide, json!({ "approve": true })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("not_editable")), "{v}");
    let (s, v) = second.post(&ask, json!({ "reason": "key_compromise", "comment": "再次" })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("already_revoked")), "{v}");
    for action in ["revocation_requested", "revocation_approved"] {
        assert!(trail_has(&mut admin, action, &serial).await, "{action}");
    }
    let _ = first_id;
}
