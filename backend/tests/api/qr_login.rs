//! APP扫码登录: the desktop's QR code bound to its browser, the phone's scan with a mobile
//! shield, the number match, the signed approval, and the one poll that signs the desktop in.

use certdesk_shared::ErrorCode;
use certdesk_shared::account::{SessionInfo, SignInMethod};
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::directory::SelfRevocation;
use certdesk_shared::endpoint;
use certdesk_shared::shield::{QrLoginApprove, QrLoginPoll, QrLoginScanned, QrLoginShown, QrLoginStatus};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::browser::{Browser, api_error, decode};
use crate::helpers::issuing::CHALLENGE_PHRASE;
use crate::helpers::shield::{Phone, approve_body, enrolled, scan_body};
use crate::helpers::{TestApp, spawn_app};

/// A desktop that shows a QR code: its browser (holding the binding cookie), the id and the
/// number to pick.
async fn shown(app: &TestApp) -> (Browser<'_>, String, u8) {
    let mut desktop = Browser::new(app);
    let (s, v) = desktop.send::<endpoint::ShowQrLogin>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(desktop.cookie.as_deref().is_some_and(|c| c.starts_with("certdesk-qr=")), "{:?}", desktop.cookie);
    let shown: QrLoginShown = decode(&v);
    assert!(shown.qr_svg.contains("<svg"), "{v}");
    assert_eq!(shown.expires_in, 120);
    let m = shown.match_number;
    assert!((10..=99).contains(&m));
    (desktop, shown.id, m)
}

/// A poll's status (`None` for an error answer).
fn status(v: &Value) -> Option<QrLoginStatus> {
    serde_json::from_value::<QrLoginPoll>(v.clone()).ok().map(|p| p.status)
}

/// An error answer's code.
fn code(v: &Value) -> ErrorCode {
    api_error(v).code
}

async fn poll(b: &mut Browser<'_>, id: &str) -> (StatusCode, Value) {
    b.send::<endpoint::PollQrLogin>(&[id], &()).await
}

async fn scan(app: &TestApp, phone: &Phone, id: &str) -> (StatusCode, Value) {
    Browser::new(app).send::<endpoint::ScanQrLogin>(&[], &scan_body(phone, id)).await
}

async fn approve(app: &TestApp, body: QrLoginApprove) -> (StatusCode, Value) {
    Browser::new(app).send::<endpoint::ApproveQrLogin>(&[], &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_approves_and_only_the_browser_that_showed_the_code_is_signed_in_once() {
    let app = spawn_app().await;
    let (mut holder, phone, mobile, _) = enrolled(&app).await;
    let me = holder.ok::<endpoint::CurrentSession>(&[], &()).await;
    let (mut desktop, id, m) = shown(&app).await;
    let (s, v) = poll(&mut desktop, &id).await;
    assert_eq!((s, status(&v)), (StatusCode::OK, Some(QrLoginStatus::Waiting)), "{v}");

    // Another browser, without the cookie or with its own: not found.
    let mut stranger = Browser::new(&app);
    assert_eq!(poll(&mut stranger, &id).await.0, StatusCode::NOT_FOUND);
    let (mut other_desktop, _, _) = shown(&app).await;
    assert_eq!(poll(&mut other_desktop, &id).await.0, StatusCode::NOT_FOUND);

    let (s, v) = scan(&app, &phone, &id).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let scanned: QrLoginScanned = decode(&v);
    assert_eq!((scanned.id.as_str(), scanned.action.as_str()), (id.as_str(), "sign_in"));
    assert!(scanned.choices.len() == 3 && scanned.choices.contains(&m), "{v}");
    assert!(!scanned.address.is_empty());
    assert_eq!(status(&poll(&mut desktop, &id).await.1), Some(QrLoginStatus::Scanned));

    let key = phone.key(&app).await;
    let (s, v) = approve(&app, approve_body(&app, &phone, &scanned, m, &key)).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // The stranger polling now gets nothing, and no session.
    let (s, _) = poll(&mut stranger, &id).await;
    assert_eq!((s, stranger.cookie.as_deref()), (StatusCode::NOT_FOUND, None));

    let (s, v) = poll(&mut desktop, &id).await;
    assert_eq!((s, status(&v)), (StatusCode::OK, Some(QrLoginStatus::SignedIn)), "{v}");
    assert!(desktop.cookie.as_deref().is_some_and(|c| c.starts_with("certdesk=")), "{:?}", desktop.cookie);
    let (s, v) = desktop.send::<endpoint::CurrentSession>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let session: SessionInfo = decode(&v);
    assert_eq!(session.account.mobile, mobile, "{v}");
    assert_eq!(session.account, me.account);
    let history = desktop.ok::<endpoint::ListSignIns>(&[], &()).await;
    assert_eq!(history.first().and_then(|r| r.method), Some(SignInMethod::Certificate), "{history:?}");

    // Approved once, collected once.
    let (s, v) = approve(&app, approve_body(&app, &phone, &scanned, m, &key)).await;
    assert_eq!((s, code(&v)), (StatusCode::GONE, ErrorCode::QrCodeExpired), "{v}");
    assert_eq!(code(&scan(&app, &phone, &id).await.1), ErrorCode::QrCodeExpired);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_scanned_by_one_shield_a_wrong_number_or_an_old_code_signs_nobody_in() {
    let app = spawn_app().await;
    let (_h, phone, _, _) = enrolled(&app).await;
    let (_h2, thief, _, _) = enrolled(&app).await;
    let key = phone.key(&app).await;

    // Scanned by one shield: another cannot take it over, nor approve it.
    let (mut desktop, id, m) = shown(&app).await;
    let (s, v) = scan(&app, &phone, &id).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let scanned: QrLoginScanned = decode(&v);
    assert_eq!(code(&scan(&app, &thief, &id).await.1), ErrorCode::QrCodeExpired);
    let thief_key = thief.key(&app).await;
    let (_, v) = approve(&app, approve_body(&app, &thief, &scanned, m, &thief_key)).await;
    assert_eq!(code(&v), ErrorCode::QrCodeExpired, "{v}");

    // The wrong number cancels it for good.
    let wrong = scanned.choices.iter().copied().find(|c| *c != m).unwrap();
    let (s, v) = approve(&app, approve_body(&app, &phone, &scanned, wrong, &key)).await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::QrMatchWrong), "{v}");
    let (_, v) = approve(&app, approve_body(&app, &phone, &scanned, m, &key)).await;
    assert_eq!(code(&v), ErrorCode::QrCodeExpired, "{v}");
    assert_eq!(status(&poll(&mut desktop, &id).await.1), Some(QrLoginStatus::Expired));

    // A code past its 120 seconds: scanning it fails, its desktop is told it expired.
    let (mut desktop, id, _) = shown(&app).await;
    use certdesk::entity::qr_login as row;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    row::Entity::update_many()
        .col_expr(row::Column::ExpiresAt, Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)))
        .filter(row::Column::Id.eq(id.as_str()))
        .exec(&app.state.db)
        .await
        .unwrap();
    let (s, v) = scan(&app, &phone, &id).await;
    assert_eq!((s, code(&v)), (StatusCode::GONE, ErrorCode::QrCodeExpired), "{v}");
    assert_eq!(status(&poll(&mut desktop, &id).await.1), Some(QrLoginStatus::Expired));
    // Nor is a code that is no code.
    assert_eq!(code(&scan(&app, &phone, "NOT-A-CODE").await.1), ErrorCode::QrCodeExpired);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_or_revoked_certificate_approves_nothing() {
    let app = spawn_app().await;
    let (mut holder, phone, _, _) = enrolled(&app).await;
    let key = phone.key(&app).await;
    let uid = phone.file.uid.clone();

    let (s, _) = holder.send::<endpoint::Freeze>(&[&uid], &()).await;
    assert_eq!(s, StatusCode::OK);
    let (mut desktop, id, m) = shown(&app).await;
    let (_, v) = scan(&app, &phone, &id).await;
    let scanned: QrLoginScanned = decode(&v);
    let (s, v) = approve(&app, approve_body(&app, &phone, &scanned, m, &key)).await;
    assert_eq!(code(&v), ErrorCode::CertificateNotValid, "{s} {v}");
    assert_eq!(status(&poll(&mut desktop, &id).await.1), Some(QrLoginStatus::Scanned));

    let body = SelfRevocation { challenge_phrase: CHALLENGE_PHRASE.into(), reason: RevocationReason::KeyCompromise };
    let (s, v) = Browser::new(&app).send::<endpoint::RevokeByChallengePhrase>(&[&uid], &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = approve(&app, approve_body(&app, &phone, &scanned, m, &key)).await;
    assert_eq!(code(&v), ErrorCode::CertificateNotValid, "{s} {v}");
    let (_, p) = poll(&mut desktop, &id).await;
    assert_eq!(status(&p), Some(QrLoginStatus::Scanned), "{p}");
    assert!(desktop.cookie.as_deref().is_some_and(|c| c.starts_with("certdesk-qr=")), "no session");
}
