//! APP扫码登录: the desktop's QR code bound to its browser, the phone's scan with a mobile
//! shield, the number match, the signed approval, and the one poll that signs the desktop in.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::browser::Browser;
use crate::helpers::issuing::CHALLENGE_PHRASE;
use crate::helpers::shield::{Phone, approve_body, enrolled, scan_body};
use crate::helpers::{TestApp, spawn_app};

/// A desktop that shows a QR code: its browser (holding the binding cookie), the id and the
/// number to pick.
async fn shown(app: &TestApp) -> (Browser<'_>, String, u8) {
    let mut desktop = Browser::new(app);
    let (s, v) = desktop.post("/api/qr-login", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(desktop.cookie.as_deref().is_some_and(|c| c.starts_with("certdesk-qr=")), "{:?}", desktop.cookie);
    assert!(v["qr_svg"].as_str().unwrap().contains("<svg"), "{v}");
    assert_eq!(v["expires_in"], 120);
    let m = u8::try_from(v["match_number"].as_u64().unwrap()).unwrap();
    assert!((10..=99).contains(&m));
    (desktop, v["id"].as_str().unwrap().to_owned(), m)
}

async fn poll(b: &mut Browser<'_>, id: &str) -> (StatusCode, Value) {
    b.get(&format!("/api/qr-login/{id}")).await
}

async fn scan(app: &TestApp, phone: &Phone, id: &str) -> (StatusCode, Value) {
    Browser::new(app).post("/api/qr-login/scan", scan_body(phone, id)).await
}

async fn approve(app: &TestApp, body: Value) -> (StatusCode, Value) {
    Browser::new(app).post("/api/qr-login/approve", body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_approves_and_only_the_browser_that_showed_the_code_is_signed_in_once() {
    let app = spawn_app().await;
    let (mut holder, phone, mobile, _) = enrolled(&app).await;
    let (_, me) = holder.get("/api/session").await;
    let (mut desktop, id, m) = shown(&app).await;
    let (s, v) = poll(&mut desktop, &id).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("waiting")), "{v}");

    // Another browser, without the cookie or with its own: not found.
    let mut stranger = Browser::new(&app);
    assert_eq!(poll(&mut stranger, &id).await.0, StatusCode::NOT_FOUND);
    let (mut other_desktop, _, _) = shown(&app).await;
    assert_eq!(poll(&mut other_desktop, &id).await.0, StatusCode::NOT_FOUND);

    let (s, scanned) = scan(&app, &phone, &id).await;
    assert_eq!(s, StatusCode::OK, "{scanned}");
    assert_eq!((scanned["id"].as_str(), scanned["action"].as_str()), (Some(id.as_str()), Some("sign_in")));
    let choices: Vec<u64> = scanned["choices"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
    assert!(choices.len() == 3 && choices.contains(&u64::from(m)), "{scanned}");
    assert!(scanned["address"].as_str().is_some_and(|a| !a.is_empty()) && scanned["browser"].is_string());
    assert_eq!(poll(&mut desktop, &id).await.1["status"], "scanned");

    let key = phone.key(&app).await;
    let (s, v) = approve(&app, approve_body(&app, &phone, &scanned, m, &key)).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // The stranger polling now gets nothing, and no session.
    let (s, _) = poll(&mut stranger, &id).await;
    assert_eq!((s, stranger.cookie.as_deref()), (StatusCode::NOT_FOUND, None));

    let (s, v) = poll(&mut desktop, &id).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("signed_in")), "{v}");
    assert!(desktop.cookie.as_deref().is_some_and(|c| c.starts_with("certdesk=")), "{:?}", desktop.cookie);
    let (s, session) = desktop.get("/api/session").await;
    assert_eq!((s, session["account"]["mobile"].as_str()), (StatusCode::OK, Some(mobile.as_str())), "{session}");
    assert_eq!(session["account"], me["account"]);
    let (_, history) = desktop.get("/api/account/sign-ins").await;
    assert_eq!(history[0]["method"], "certificate", "{history}");

    // Approved once, collected once.
    let (s, v) = approve(&app, approve_body(&app, &phone, &scanned, m, &key)).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::GONE, Some("qr_code_expired")), "{v}");
    assert_eq!(scan(&app, &phone, &id).await.1["code"], "qr_code_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_scanned_by_one_shield_a_wrong_number_or_an_old_code_signs_nobody_in() {
    let app = spawn_app().await;
    let (_h, phone, _, _) = enrolled(&app).await;
    let (_h2, thief, _, _) = enrolled(&app).await;
    let key = phone.key(&app).await;

    // Scanned by one shield: another cannot take it over, nor approve it.
    let (mut desktop, id, m) = shown(&app).await;
    let (s, scanned) = scan(&app, &phone, &id).await;
    assert_eq!(s, StatusCode::OK, "{scanned}");
    assert_eq!(scan(&app, &thief, &id).await.1["code"], "qr_code_expired");
    let thief_key = thief.key(&app).await;
    let (_, v) = approve(&app, approve_body(&app, &thief, &scanned, m, &thief_key)).await;
    assert_eq!(v["code"], "qr_code_expired", "{v}");

    // The wrong number cancels it for good.
    let wrong =
        scanned["choices"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap() as u8).find(|c| *c != m).unwrap();
    let (s, v) = approve(&app, approve_body(&app, &phone, &scanned, wrong, &key)).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("qr_match_wrong")), "{v}");
    let (_, v) = approve(&app, approve_body(&app, &phone, &scanned, m, &key)).await;
    assert_eq!(v["code"], "qr_code_expired", "{v}");
    assert_eq!(poll(&mut desktop, &id).await.1["status"], "expired");

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
    assert_eq!((s, v["code"].as_str()), (StatusCode::GONE, Some("qr_code_expired")), "{v}");
    assert_eq!(poll(&mut desktop, &id).await.1["status"], "expired");
    // Nor is a code that is no code.
    assert_eq!(scan(&app, &phone, "NOT-A-CODE").await.1["code"], "qr_code_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_or_revoked_certificate_approves_nothing() {
    let app = spawn_app().await;
    let (mut holder, phone, _, _) = enrolled(&app).await;
    let key = phone.key(&app).await;
    let uid = phone.file.uid.clone();

    let (s, _) = holder.post(&format!("/api/my-certificates/{uid}/freeze"), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (mut desktop, id, m) = shown(&app).await;
    let (_, scanned) = scan(&app, &phone, &id).await;
    let (s, v) = approve(&app, approve_body(&app, &phone, &scanned, m, &key)).await;
    assert_eq!(v["code"], "certificate_not_valid", "{s} {v}");
    assert_eq!(poll(&mut desktop, &id).await.1["status"], "scanned");

    let (s, v) = Browser::new(&app)
        .post(
            &format!("/api/public/certificates/{uid}/revoke"),
            json!({ "challenge_phrase": CHALLENGE_PHRASE, "reason": "key_compromise" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = approve(&app, approve_body(&app, &phone, &scanned, m, &key)).await;
    assert_eq!(v["code"], "certificate_not_valid", "{s} {v}");
    let (_, p) = poll(&mut desktop, &id).await;
    assert_eq!(p["status"], "scanned", "{p}");
    assert!(desktop.cookie.as_deref().is_some_and(|c| c.starts_with("certdesk-qr=")), "no session");
}
