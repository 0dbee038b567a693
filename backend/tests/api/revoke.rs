//! 证书注销 by request of the signed-in holder (documents, the SMS code of the phone of
//! record, staff review; revoked for good on approval), 冻结/解冻 by the holder and by staff,
//! and the revocation by the CA under dual control.

use certdesk_shared::account::CodePurpose;
use certdesk_shared::admin::{AuditQuery, Page, QueueQuery, SerialQuery, StaffRole};
use certdesk_shared::apply::ReviewQueueItem;
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::endpoint;
use certdesk_shared::freeze::{FrozenBy, StaffFreeze, Unfreeze};
use certdesk_shared::my_certificates::{CertificateCodeRequest, MyCertificate, MyCertificateStatus};
use certdesk_shared::renew::StartRenewal;
use certdesk_shared::request::{RequestKind, RequestStatus, RequestView};
use certdesk_shared::revoke::{
    RevocationNotOpen, StaffCertificateView, StaffRevocationDecision, StaffRevocationRequest, StaffRevocationStatus,
    StaffRevocationView, StartRevocation, SubmitRevocation,
};
use certdesk_shared::{ErrorCode, Named, OtpCode};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::browser::{Browser, api_error, code_in, decode, last_sms, registered, staff_browser};
use crate::helpers::ca::{Files, fetch_crl, openssl_ocsp};
use crate::helpers::issuing::{PNG, issue_with_key, submitted, upload};
use crate::helpers::{TestApp, spawn_app};

fn in_crl(crl: &[u8], serial: &str) -> bool {
    let (_, crl) = x509_parser::parse_x509_crl(crl).unwrap();
    crl.iter_revoked_certificates().any(|r| r.raw_serial_as_string().replace(':', "") == serial)
}

/// A code to the phone of record for `purpose`, read from the sandbox gateway's outbox.
async fn code_for(b: &mut Browser<'_>, uid: &str, purpose: &str, phone: &str) -> String {
    let body = CertificateCodeRequest { purpose: CodePurpose::parse(purpose).expect("a code purpose") };
    let (s, v) = b.send::<endpoint::SendCertificateCode>(&[uid], &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    code_in(&last_sms(b.app, phone).await.unwrap().body)
}

async fn ocsp(app: &TestApp, serial: &str) -> String {
    let f = Files { dir: tempfile::tempdir().unwrap() };
    openssl_ocsp(&f, app, serial, &[])
}

async fn trail_has(admin: &mut Browser<'_>, action: &str, subject: &str) -> bool {
    let trail = admin.ok::<endpoint::AuditTrail>(&[], &AuditQuery { per_page: Some(200), ..Default::default() }).await;
    trail.items.iter().any(|e| e.action == action && e.subject == subject)
}

/// An error answer's code.
fn code_of(v: &Value) -> ErrorCode {
    api_error(v).code
}

/// `POST /api/revoke/{uid}`'s body.
fn start(reason: RevocationReason) -> StartRevocation {
    StartRevocation { reason }
}

/// A code of six digits, right or wrong.
fn otp(code: &str) -> OtpCode {
    OtpCode::parse(code).unwrap()
}

/// A staff member's request to revoke.
fn revocation(reason: RevocationReason, comment: &str) -> StaffRevocationRequest {
    StaffRevocationRequest { reason, comment: comment.to_owned() }
}

fn decision(approve: bool, comment: &str) -> StaffRevocationDecision {
    StaffRevocationDecision { approve, comment: comment.to_owned() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_asks_to_revoke_staff_approve_and_the_certificate_is_revoked_for_good() {
    let app = spawn_app().await;
    let (mut holder, mut admin, id, acceptance, operator) = submitted(&app).await;
    let (uid, serial, _, _) = issue_with_key(&app, &mut admin, &id, &acceptance, &operator).await;

    let offer = holder.ok::<endpoint::OfferRevocation>(&[&uid], &()).await;
    assert_eq!((offer.not_open, &offer.request), (None, &None), "{offer:?}");
    assert!(offer.reasons.contains(&RevocationReason::AffiliationChanged), "{offer:?}");

    // Nobody else's certificate, and only a holder's reason.
    let (mut other, _) = registered(&app).await;
    for (s, v) in [
        other.send::<endpoint::OfferRevocation>(&[&uid], &()).await,
        other.send::<endpoint::StartRevocation>(&[&uid], &start(RevocationReason::KeyCompromise)).await,
    ] {
        assert_eq!((s, code_of(&v)), (StatusCode::NOT_FOUND, ErrorCode::NotFound), "{v}");
    }
    let (s, v) = holder.send::<endpoint::StartRevocation>(&[&uid], &start(RevocationReason::CaCompromise)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::BadRevocationReason), "{v}");

    // ① a draft with the holder's reason; asking again gives the same request.
    let (s, r) = holder.send::<endpoint::StartRevocation>(&[&uid], &start(RevocationReason::AffiliationChanged)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let r: RequestView = decode(&r);
    assert_eq!((r.kind, r.status), (RequestKind::Revoke, RequestStatus::Draft), "{r:?}");
    let rid = r.id;
    let (_, again) =
        holder.send::<endpoint::StartRevocation>(&[&uid], &start(RevocationReason::AffiliationChanged)).await;
    assert_eq!(decode::<RequestView>(&again).id, rid);

    // Without the documents: each one named; nothing sent to review.
    let code = code_for(&mut holder, &uid, "certificate_revoke", &operator).await;
    let (s, v) = holder.send::<endpoint::SubmitRevocation>(&[&rid], &SubmitRevocation { code: otp(&code) }).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<String> = api_error(&v).fields.into_iter().map(|f| f.field).collect();
    assert_eq!(fields, ["revocation_form", "holder_id"]);
    for kind in ["revocation_form", "holder_id"] {
        let (s, v) = upload(&holder, &rid, kind, &format!("{kind}.png"), PNG).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    // A wrong code: refused, still a draft.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (s, v) = holder.send::<endpoint::SubmitRevocation>(&[&rid], &SubmitRevocation { code: otp(wrong) }).await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CodeInvalid), "{v}");
    let r = holder.ok::<endpoint::OfferRevocation>(&[&uid], &()).await;
    assert_eq!(r.request.map(|r| r.status), Some(RequestStatus::Draft));
    // The right code (it has tries left).
    let (s, v) = holder.send::<endpoint::SubmitRevocation>(&[&rid], &SubmitRevocation { code: otp(&code) }).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let submitted: RequestView = decode(&v);
    assert_eq!(submitted.status, RequestStatus::Submitted, "{v}");
    let number = submitted.acceptance_no.expect("an acceptance number");
    assert!(trail_has(&mut admin, "request_submitted", &number).await);

    // Still valid until staff decide.
    assert!(ocsp(&app, &serial).await.contains(": good"));
    let (s, q) =
        admin.send::<endpoint::ReviewQueue>(&[], &QueueQuery { kind: "revoke".into(), ..Default::default() }).await;
    assert_eq!(s, StatusCode::OK, "{q}");
    assert!(decode::<Page<ReviewQueueItem>>(&q).items.iter().any(|i| i.request.id == rid), "{q}");
    let (s, v) = admin.send::<endpoint::Review>(&[&rid], &crate::helpers::issuing::approve()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).status, RequestStatus::Done, "{v}");

    // Revoked with the holder's reason: OCSP, the CRL, the search, 我的证书, the SMS.
    let answer = ocsp(&app, &serial).await;
    assert!(answer.contains(": revoked") && answer.contains("affiliationChanged"), "{answer}");
    assert!(in_crl(&fetch_crl(&app, &serial).await, &serial));
    let mine = holder.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert_eq!(mine.status, MyCertificateStatus::Revoked, "{mine:?}");
    // The operator's phone is the account's in these tests: the result goes there.
    let sms = last_sms(&app, &operator).await.unwrap();
    assert!(sms.body.contains(&number) && sms.body.contains("已办理完成"), "{}", sms.body);
    assert!(trail_has(&mut admin, "certificate_revoked", &serial).await);

    // Permanent: nothing more to revoke.
    let (s, v) = holder.send::<endpoint::StartRevocation>(&[&uid], &start(RevocationReason::KeyCompromise)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::AlreadyRevoked), "{v}");
    let offer = holder.ok::<endpoint::OfferRevocation>(&[&uid], &()).await;
    assert_eq!(offer.not_open, Some(RevocationNotOpen::NotLive));
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
    let offer = holder.ok::<endpoint::OfferRenewal>(&[&uid], &()).await;
    let validity = offer.periods[0].id.clone();
    let (s, v) = holder.send::<endpoint::StartRenewal>(&[&uid], &StartRenewal { validity_id: validity }).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = holder.send::<endpoint::StartRevocation>(&[&uid], &start(RevocationReason::Superseded)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::RequestUnderWay), "{v}");
    let offer = holder.ok::<endpoint::OfferRevocation>(&[&uid], &()).await;
    assert_eq!(offer.not_open, Some(RevocationNotOpen::OtherRequest), "{offer:?}");
    let mine = holder.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert_eq!(mine.request_under_way, Some(RequestKind::Renew), "{mine:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holder_freezes_at_once_and_unfreezes_with_the_code_but_not_what_staff_froze() {
    let app = spawn_app().await;
    let (mut holder, mut admin, id, acceptance, operator) = submitted(&app).await;
    let (uid, serial, _, _) = issue_with_key(&app, &mut admin, &id, &acceptance, &operator).await;
    let (mut other, _) = registered(&app).await;
    let (s, v) = other.send::<endpoint::Freeze>(&[&uid], &()).await;
    assert_eq!((s, code_of(&v)), (StatusCode::NOT_FOUND, ErrorCode::NotFound), "{v}");

    let (s, c) = holder.send::<endpoint::Freeze>(&[&uid], &()).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let frozen: MyCertificate = decode(&c);
    assert_eq!((frozen.status, frozen.frozen_by), (MyCertificateStatus::Frozen, Some(FrozenBy::Holder)), "{c}");
    let answer = ocsp(&app, &serial).await;
    assert!(answer.contains(": revoked") && answer.contains("certificateHold"), "{answer}");
    assert!(in_crl(&fetch_crl(&app, &serial).await, &serial));
    assert!(trail_has(&mut admin, "certificate_frozen", &serial).await);

    // 解冻 needs the code of the phone of record.
    let (s, v) = holder.send::<endpoint::Unfreeze>(&[&uid], &Unfreeze { code: otp("123456") }).await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CodeInvalid), "{v}");
    let code = code_for(&mut holder, &uid, "certificate_release", &operator).await;
    let (s, c) = holder.send::<endpoint::Unfreeze>(&[&uid], &Unfreeze { code: otp(&code) }).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(decode::<MyCertificate>(&c).status, MyCertificateStatus::Valid, "{c}");
    assert!(ocsp(&app, &serial).await.contains(": good"));
    assert!(!in_crl(&fetch_crl(&app, &serial).await, &serial));

    // Staff freeze (with a comment): the holder cannot unfreeze that; staff can.
    let comment = |text: &str| StaffFreeze { comment: text.to_owned() };
    let (s, v) = admin.send::<endpoint::StaffFreeze>(&[&uid], &comment(" ")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = admin.send::<endpoint::StaffFreeze>(&[&uid], &comment("公安机关协查")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let c = holder.ok::<endpoint::GetMyCertificate>(&[&uid], &()).await;
    assert_eq!((c.status, c.frozen_by), (MyCertificateStatus::Frozen, Some(FrozenBy::Staff)), "{c:?}");
    let (s, v) = holder.send::<endpoint::Unfreeze>(&[&uid], &Unfreeze { code: otp("123456") }).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::FrozenByStaff), "{v}");
    let (mut clerk, _) = staff_browser(&app, StaffRole::CustomerService).await;
    let (s, _) = clerk.send::<endpoint::StaffUnfreeze>(&[&uid], &comment("协查结束")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = admin.send::<endpoint::StaffUnfreeze>(&[&uid], &comment("协查结束")).await;
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

    let (s, found) =
        first.send::<endpoint::FindCertificates>(&[], &SerialQuery { serial: serial.to_uppercase() }).await;
    assert_eq!(s, StatusCode::OK, "{found}");
    let found: Vec<StaffCertificateView> = decode(&found);
    assert_eq!(found.first().map(|c| c.uid.as_str()), Some(uid.as_str()), "{found:?}");
    let (s, _) =
        clerk.send::<endpoint::AskRevocation>(&[&uid], &revocation(RevocationReason::KeyCompromise, "x")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = first.send::<endpoint::AskRevocation>(&[&uid], &revocation(RevocationReason::KeyCompromise, "")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = first
        .send::<endpoint::AskRevocation>(&[&uid], &revocation(RevocationReason::CertificateHold, "私钥泄露"))
        .await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::BadRevocationReason), "{v}");
    let (s, r) = first
        .send::<endpoint::AskRevocation>(
            &[&uid],
            &revocation(RevocationReason::KeyCompromise, "私钥泄露，持有人电话报告"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let r: StaffRevocationView = decode(&r);
    assert_eq!((r.status, r.may_decide), (StaffRevocationStatus::Pending, false), "{r:?}");
    let rid = r.id;
    let (s, v) =
        second.send::<endpoint::AskRevocation>(&[&uid], &revocation(RevocationReason::KeyCompromise, "再次")).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::RequestUnderWay), "{v}");

    // Nothing happens yet.
    assert!(ocsp(&app, &serial).await.contains(": good"));
    let (s, v) = first.send::<endpoint::DecideRevocation>(&[&rid], &decision(true, "")).await;
    assert_eq!((s, code_of(&v)), (StatusCode::FORBIDDEN, ErrorCode::OwnRevocation), "{v}");
    assert!(ocsp(&app, &serial).await.contains(": good"));
    let list = second.ok::<endpoint::ListRevocations>(&[], &()).await;
    let mine = list.iter().find(|r| r.id == rid).unwrap();
    assert_eq!((mine.may_decide, mine.requested_by.as_str()), (true, "测试员工"));

    // The second member approves: revoked with the reason asked for.
    let (s, v) = second.send::<endpoint::DecideRevocation>(&[&rid], &decision(true, "核实无误")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<StaffRevocationView>(&v).status, StaffRevocationStatus::Approved, "{v}");
    let answer = ocsp(&app, &serial).await;
    assert!(answer.contains(": revoked") && answer.contains("keyCompromise"), "{answer}");
    assert!(in_crl(&fetch_crl(&app, &serial).await, &serial));
    let (s, v) = second.send::<endpoint::DecideRevocation>(&[&rid], &decision(true, "")).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::NotEditable), "{v}");
    let (s, v) =
        second.send::<endpoint::AskRevocation>(&[&uid], &revocation(RevocationReason::KeyCompromise, "再次")).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::AlreadyRevoked), "{v}");
    for action in ["revocation_requested", "revocation_approved"] {
        assert!(trail_has(&mut admin, action, &serial).await, "{action}");
    }
    let _ = first_id;
}
