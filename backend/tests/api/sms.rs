//! SMS: the production client (`AliyunSms`, Alibaba Cloud `SendSms`) over HTTP against the
//! wire-compatible sandbox the test server serves at `/sandbox/aliyun-sms/`: accepted
//! messages land in the outbox; a wrong secret, a replayed nonce, an old timestamp, an
//! invalid number and the per-number flow control are refused with the vendor's codes and
//! reach the user as our error codes; a gateway that never answers fails fast; and a
//! production server with the real gateway keeps no one-time code anywhere.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use certdesk::entity::outbox_message;
use certdesk::notify::aliyun::{AliyunSms, Settings};
use certdesk::notify::sms::{TEMPLATE_CODES, VendorTemplates, template_text};
use certdesk::notify::sms_sandbox::{ACCESS_KEY_ID, access_key_secret};
use certdesk::notify::{SmsError, SmsGateway, SmsRequest, Template};
use certdesk::{AppState, Config};
use certdesk_shared::endpoint;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use certdesk_shared::account::CodePurpose;
use certdesk_shared::{ErrorCode, ValidationError};

use crate::helpers::browser::{Browser, api_error, code_in, first_field, last_sms, new_mobile, send_code_request};
use crate::helpers::{SCHEDULING_SLACK, TestApp, silent_server, spawn_app, spawn_app_with, start, test_config};

/// The production client, pointed at `app`'s sandbox as `key_id` with `secret`.
fn client_of(app: &TestApp, key_id: &str, secret: &str, timeout: Duration) -> AliyunSms {
    client_at(&app.url("/sandbox/aliyun-sms/"), key_id, secret, timeout)
}

fn client_at(endpoint: &str, key_id: &str, secret: &str, timeout: Duration) -> AliyunSms {
    AliyunSms::new(Settings {
        endpoint: endpoint.to_owned(),
        access_key_id: key_id.to_owned(),
        access_key_secret: certdesk::config::Secret::new(secret.to_owned()),
        sign_name: "CertDesk".into(),
        templates: VendorTemplates::ours(),
        timeout,
    })
    .unwrap()
}

async fn sms_rows(state: &AppState, mobile: &str) -> Vec<outbox_message::Model> {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::Channel.eq("sms"))
        .filter(outbox_message::Column::Recipient.eq(mobile))
        .all(&state.db)
        .await
        .unwrap()
}

fn to(phone: &str, template: Template) -> SmsRequest {
    SmsRequest::new(phone, template)
}

#[tokio::test]
async fn a_code_goes_over_the_wire_to_the_sandbox_and_lands_in_the_outbox() {
    let app = spawn_app().await;
    // The server's own notifier is the production client, talking HTTP to its sandbox.
    let phone = new_mobile();
    let biz_id = app.state.notifier.sms(&phone, Template::RegisterCode { code: "318642".into() }).await.unwrap();
    assert!(biz_id.ends_with("^0") && biz_id.len() > 4, "{biz_id}");
    let body = last_sms(&app, &phone).await.expect("kept").body;
    assert_eq!(body, "【CertDesk】您正在注册CertDesk自助服务系统，验证码：318642，5分钟内有效。请勿泄露给他人。");
    // And through the API, as every other test does.
    let mut b = Browser::new(&app);
    let other = new_mobile();
    let (status, v) =
        b.send::<endpoint::SendCode>(&[], &send_code_request(&app, &other, CodePurpose::Register).await).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(code_in(&last_sms(&app, &other).await.unwrap().body).len(), 6);
    // What a send costs over HTTP (signing, the sandbox's checks, its rows), for the record.
    let started = Instant::now();
    for _ in 0..20 {
        app.state.notifier.sms(&new_mobile(), Template::PasswordChanged).await.unwrap();
    }
    eprintln!("20 sends through the sandbox: {:?} each", started.elapsed() / 20);
    // The vendor's JSON, as the sandbox answers a request by hand.
    let secret = access_key_secret(&app.state.db).await.unwrap();
    let client = client_of(&app, ACCESS_KEY_ID, &secret, Duration::from_secs(5));
    let params = client.signed_params("POST", &to(&new_mobile(), Template::PasswordChanged), "n-1", chrono::Utc::now());
    let res = app
        .client
        .post(app.url("/sandbox/aliyun-sms/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(certdesk::notify::sms::canonical_query(&params.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!((v["Code"].as_str(), v["Message"].as_str()), (Some("OK"), Some("OK")), "{v}");
    assert!(v["BizId"].is_string() && v["RequestId"].is_string(), "{v}");
}

#[tokio::test]
async fn a_wrong_secret_or_key_is_refused_and_nothing_is_kept() {
    let app = spawn_app().await;
    let phone = new_mobile();
    let wrong = client_of(&app, ACCESS_KEY_ID, "not-the-secret", Duration::from_secs(5));
    let request = to(&phone, Template::RegisterCode { code: "111111".into() });
    assert_eq!(wrong.send(request.clone()).await, Err(SmsError::SignatureDoesNotMatch));
    let secret = access_key_secret(&app.state.db).await.unwrap();
    let unknown = client_of(&app, "LTAIsomeoneelse", &secret, Duration::from_secs(5));
    assert_eq!(unknown.send(request.clone()).await, Err(SmsError::AccessKeyIdNotFound));
    assert!(sms_rows(&app.state, &phone).await.is_empty());
    // The right key sends.
    client_of(&app, ACCESS_KEY_ID, &secret, Duration::from_secs(5)).send(request).await.unwrap();
    assert_eq!(sms_rows(&app.state, &phone).await.len(), 1);
}

#[tokio::test]
async fn a_replayed_nonce_or_an_old_timestamp_is_refused_by_every_server() {
    let app = spawn_app().await;
    let secret = access_key_secret(&app.state.db).await.unwrap();
    let client = client_of(&app, ACCESS_KEY_ID, &secret, Duration::from_secs(5));
    let phone = new_mobile();
    let now = chrono::Utc::now();
    let params = client.signed_params("POST", &to(&phone, Template::PasswordChanged), "nonce-once", now).unwrap();
    client.post(&params).await.unwrap();
    assert_eq!(client.post(&params).await, Err(SmsError::SignatureNonceUsed));
    // A second server on the same database is the same sandbox: it has seen the nonce too.
    let (dir, _) = test_config().await;
    let mut config: Config = (*app.state.config).clone();
    config.sandbox_url = None;
    let second = start(dir, config).await;
    let at_second = client_of(&second, ACCESS_KEY_ID, &secret, Duration::from_secs(5));
    assert_eq!(at_second.post(&params).await, Err(SmsError::SignatureNonceUsed));
    // A request signed 20 minutes ago, with a fresh nonce: expired.
    let old = client
        .signed_params("POST", &to(&phone, Template::PasswordChanged), "nonce-old", now - chrono::Duration::minutes(20))
        .unwrap();
    assert_eq!(client.post(&old).await, Err(SmsError::TimestampExpired));
    // A changed parameter breaks the signature.
    let mut tampered = client.signed_params("POST", &to(&phone, Template::PasswordChanged), "nonce-t", now).unwrap();
    tampered.insert("PhoneNumbers".into(), new_mobile());
    assert_eq!(client.post(&tampered).await, Err(SmsError::SignatureDoesNotMatch));
    assert_eq!(sms_rows(&app.state, &phone).await.len(), 1, "only the first request was sent");
}

#[tokio::test]
async fn an_invalid_number_and_the_flow_control_reach_the_user_as_our_codes() {
    let app = spawn_app().await;
    let secret = access_key_secret(&app.state.db).await.unwrap();
    let client = client_of(&app, ACCESS_KEY_ID, &secret, Duration::from_secs(5));
    // The vendor's codes.
    assert_eq!(client.send(to("17012345678", Template::PasswordChanged)).await, Err(SmsError::MobileNumberIllegal));
    let phone = new_mobile();
    for i in 0..5 {
        client.send(to(&phone, Template::ResetPasswordCode { code: format!("00000{i}") })).await.unwrap();
    }
    assert_eq!(
        client.send(to(&phone, Template::ResetPasswordCode { code: "000009".into() })).await,
        Err(SmsError::BusinessLimitControl)
    );
    // Through the API: the number is the phone field's error, the flow control "too many".
    let mut b = Browser::new(&app);
    let body = send_code_request(&app, "17112345678", CodePurpose::Register).await;
    let (status, v) = b.send::<endpoint::SendCode>(&[], &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(first_field(&v), Some(("mobile".to_owned(), ValidationError::MobileFormat)), "{v}");
    let (status, v) =
        b.send::<endpoint::SendCode>(&[], &send_code_request(&app, &phone, CodePurpose::Register).await).await;
    assert_eq!((status, api_error(&v).code), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited), "{v}");
    // The code that was not sent cannot be used.
    let unused = certdesk::entity::one_time_code::Entity::find()
        .filter(certdesk::entity::one_time_code::Column::Mobile.eq(&phone))
        .filter(certdesk::entity::one_time_code::Column::UsedAt.is_null())
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(unused, 0);
}

#[tokio::test]
async fn a_gateway_that_never_answers_fails_fast_and_clearly() {
    // A listener that accepts and never answers.
    let (silent_addr, accepted) = silent_server().await;
    let client = client_at(&format!("http://{silent_addr}/"), ACCESS_KEY_ID, "x", Duration::from_millis(500));
    let started = Instant::now();
    assert_eq!(client.send(to(&new_mobile(), Template::PasswordChanged)).await, Err(SmsError::Timeout(500)));
    eprintln!("a silent gateway, 500 ms timeout: refused after {:?}", started.elapsed());
    // Sent once: a message that may have arrived is never sent again.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_millis(500) + SCHEDULING_SLACK, "{:?}", started.elapsed());
    // A port nobody listens on: tried three times (never connected, so never sent), then given up.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let client = client_at(&format!("http://{closed}/"), ACCESS_KEY_ID, "x", Duration::from_millis(500));
    let started = Instant::now();
    let e = client.send(to(&new_mobile(), Template::PasswordChanged)).await.unwrap_err();
    assert!(matches!(e, SmsError::Unreachable(_)), "{e:?}");
    eprintln!("a closed port: given up after {:?} ({e})", started.elapsed());
    assert!(started.elapsed() >= Duration::from_millis(600), "backed off: {:?}", started.elapsed());
    assert!(started.elapsed() < SCHEDULING_SLACK, "{:?}", started.elapsed());
    // The user asking for a code is told the service is unavailable, at once.
    let app = spawn_app_with(|c| {
        c.sandbox_url = Some(format!("http://{silent_addr}"));
        c.sms.timeout_ms = 500;
    })
    .await;
    let mut b = Browser::new(&app);
    let started = Instant::now();
    let (status, v) =
        b.send::<endpoint::SendCode>(&[], &send_code_request(&app, &new_mobile(), CodePurpose::Register).await).await;
    assert_eq!((status, api_error(&v).code), (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable), "{v}");
    assert!(started.elapsed() < SCHEDULING_SLACK, "{:?}", started.elapsed());
}

/// A production configuration with the real gateway, pointed at `sandbox`'s address with its
/// key: the server believes it talks to Alibaba Cloud. Files under `dir`.
pub async fn real_gateway(config: &mut Config, sandbox: &TestApp, dir: &std::path::Path, marked: bool) {
    let secret = access_key_secret(&sandbox.state.db).await.unwrap();
    let secret_file = dir.join("sms.secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let templates: BTreeMap<&str, serde_json::Value> = TEMPLATE_CODES
        .iter()
        .map(|c| {
            let text = template_text(c).unwrap();
            let text = if marked { format!("【测试环境】{text}") } else { text.to_owned() };
            (*c, serde_json::json!({ "code": c, "text": text }))
        })
        .collect();
    let templates_file = dir.join("sms-templates.json");
    std::fs::write(&templates_file, serde_json::to_string_pretty(&templates).unwrap()).unwrap();
    config.sms.sandbox = false;
    config.sms.access_key_id = Some(ACCESS_KEY_ID.into());
    config.sms.access_key_secret_file = Some(secret_file);
    config.sms.templates = Some(templates_file);
    config.sms.endpoint = sandbox.url("/sandbox/aliyun-sms/");
}

#[tokio::test]
async fn production_starts_with_the_real_gateway_and_keeps_no_one_time_code() {
    // The vendor: another server's sandbox, with its own database.
    let vendor = spawn_app().await;
    let (dir, mut config) = crate::helpers::production_with_a_ca().await;
    config.payment_sandbox = false;
    config.smtp_url = Some("smtp://127.0.0.1:1".into());
    let files = tempfile::tempdir().unwrap();
    real_gateway(&mut config, &vendor, files.path(), false).await;
    certdesk::startup::check(&config).expect("production starts with the real gateway");
    // Incomplete settings are named before anything starts.
    let mut incomplete = config.clone();
    incomplete.sms.templates = None;
    let e = format!("{:#}", certdesk::startup::check(&incomplete).unwrap_err());
    assert!(e.contains("CERTDESK_SMS_TEMPLATES"), "{e}");
    let mut incomplete = config.clone();
    incomplete.sms.access_key_secret_file = None;
    let e = format!("{:#}", certdesk::startup::check(&incomplete).unwrap_err());
    assert!(e.contains("CERTDESK_SMS_ACCESS_KEY_SECRET_FILE"), "{e}");
    // A staging server's real templates must carry the mark.
    let e = format!("{:#}", certdesk::startup::check(&Config { staging: true, ..config.clone() }).unwrap_err());
    assert!(e.contains("【测试环境】"), "{e}");
    let mut staging = Config { staging: true, ..config.clone() };
    real_gateway(&mut staging, &vendor, files.path(), true).await;
    certdesk::startup::check(&staging).expect("staging with marked templates");

    let app = start(dir, config).await;
    assert!(app.state.notifier.sms_sandbox.is_none(), "a production server serves no sandbox");
    let phone = new_mobile();
    app.state.notifier.sms(&phone, Template::RegisterCode { code: "975310".into() }).await.unwrap();
    app.state
        .notifier
        .sms(
            &phone,
            Template::ApplicationApproved { acceptance_no: "CD202612020001".into(), auth_code: "86420975".into() },
        )
        .await
        .unwrap();
    // The vendor received both (its outbox is the phone) …
    let received: Vec<String> = sms_rows(&vendor.state, &phone).await.into_iter().map(|r| r.body).collect();
    assert!(received.iter().any(|b| b.contains("975310")), "{received:?}");
    assert!(received.iter().any(|b| b.contains("86420975")), "{received:?}");
    // … and nothing of ours holds either code.
    for row in outbox_message::Entity::find().all(&app.state.db).await.unwrap() {
        assert!(!row.body.contains("975310") && !row.body.contains("86420975"), "{}", row.body);
    }
}

#[tokio::test]
async fn an_expiry_notice_kept_by_its_transaction_is_relayed_to_the_real_gateway_once() {
    let vendor = spawn_app().await;
    let (dir, mut config) = test_config().await;
    let files = tempfile::tempdir().unwrap();
    real_gateway(&mut config, &vendor, files.path(), false).await;
    assert!(certdesk::domain::expiry_notice::Sending::from_config(&config).sms_relay);
    let app = start(dir, config).await;
    let phone = new_mobile();
    let notice = Template::ExpiryNotice { name: "张三".into(), date: "2027-01-01".into(), days: 30 };
    let text = certdesk::notify::sms::text(&notice, false).unwrap();
    certdesk::notify::keep_sms_for_relay(&app.state.db, &phone, &notice, &text).await.unwrap();
    assert!(sms_rows(&vendor.state, &phone).await.is_empty(), "nothing leaves before the relay runs");
    // Two relays at once (two servers): one sends.
    let (a, b) = tokio::join!(app.state.notifier.relay_pending_sms(), app.state.notifier.relay_pending_sms());
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(app.state.notifier.relay_pending_sms().await.unwrap(), 0);
    let received = sms_rows(&vendor.state, &phone).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body, text, "the vendor's text is the one we recorded");
    let ours = sms_rows(&app.state, &phone).await;
    assert_eq!(ours.iter().map(|m| m.relay.as_deref()).collect::<Vec<_>>(), [Some("sent")]);
}
