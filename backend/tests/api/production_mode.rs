//! Production mode: a server that is neither `--dev` nor `--staging` refuses to start while a
//! sandbox is configured; a staging server starts and says so on every page and in every SMS;
//! the outbox keeps one-time codes only where the sandbox may run.

use std::time::Duration;

use certdesk::entity::outbox_message;
use certdesk::notify::Template;
use certdesk::{AppState, Config};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::health::Health;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{production_with_a_ca, start, test_config};

async fn serve_refusal(config: Config) -> String {
    let refused = tokio::time::timeout(Duration::from_secs(30), certdesk::serve(config))
        .await
        .expect("refused before binding, not serving")
        .expect_err("refused");
    format!("{refused:#}")
}

async fn last_sms(state: &AppState, mobile: &str) -> String {
    let rows = outbox_message::Entity::find()
        .filter(outbox_message::Column::Channel.eq("sms"))
        .filter(outbox_message::Column::Recipient.eq(mobile))
        .all(&state.db)
        .await
        .unwrap();
    rows.into_iter().max_by_key(|r| r.created_at).expect("an SMS").body
}

#[tokio::test]
async fn production_refuses_to_start_with_a_sandbox_and_names_each_one() {
    let (_dir, config) = production_with_a_ca().await;
    // The defaults: the sandbox payment provider, the sandbox SMS gateway, outbox e-mail.
    let text = serve_refusal(config.clone()).await;
    for needle in [
        "sandbox payment providers",
        "CERTDESK_PAYMENT_SANDBOX=false",
        "sandbox SMS gateway",
        "outbox-only e-mail",
        "CERTDESK_SMTP_URL",
        "CERTDESK_STAGING=true",
    ] {
        assert!(text.contains(needle), "{needle} in: {text}");
    }
    // With the payment sandbox off and SMTP set, the SMS sandbox alone still refuses, naming
    // the settings of the real gateway.
    let mut fixed = config.clone();
    fixed.payment_sandbox = false;
    fixed.smtp_url = Some("smtp://127.0.0.1:1".into());
    let text = serve_refusal(fixed).await;
    assert!(text.contains("sandbox SMS gateway") && text.contains("CERTDESK_SMS_SANDBOX=false"), "{text}");
    assert!(text.contains("CERTDESK_SMS_TEMPLATES"), "{text}");
    assert!(!text.contains("sandbox payment providers") && !text.contains("outbox-only e-mail"), "{text}");
    // Without a CA as well, the settings are named first, before any database work.
    let (_dir2, mut bare) = test_config().await;
    bare.dev = false;
    bare.insecure_captcha_echo = false;
    let text = serve_refusal(bare).await;
    assert!(text.contains("sandbox payment providers"), "{text}");
    // Development and staging pass the check.
    certdesk::startup::check(&Config { staging: true, ..config.clone() }).unwrap();
    let mut dev = config;
    dev.dev = true;
    certdesk::startup::check(&dev).unwrap();
    // But a development server is for this machine: on a public address its sandboxes would
    // let anyone pay on their pages, with no staging banner.
    dev.bind = "0.0.0.0:8080".parse().unwrap();
    let text = serve_refusal(dev).await;
    assert!(
        text.contains("CERTDESK_DEV") && text.contains("loopback") && text.contains("CERTDESK_STAGING=true"),
        "{text}"
    );
}

#[tokio::test]
async fn a_staging_server_starts_and_says_so_on_every_page_and_in_every_sms() {
    let (dir, mut config) = production_with_a_ca().await;
    config.staging = true;
    certdesk::startup::check(&config).expect("a staging server may run the sandboxes");
    let app = start(dir, config).await;
    let h: Health = app.get(&endpoint::Health::path(&[])).await.json().await.unwrap();
    assert!(h.staging, "{h:?}");
    // Every SMS carries the mark after the signature; the sandbox keeps the code whole.
    app.state.notifier.sms("13800138000", Template::RegisterCode { code: "246810".into() }).await.unwrap();
    let body = last_sms(&app.state, "13800138000").await;
    assert!(body.starts_with("【CertDesk】【测试环境】"), "{body}");
    assert!(body.contains("246810"), "{body}");
    app.state.notifier.sms("13800138001", Template::PasswordChanged).await.unwrap();
    assert!(last_sms(&app.state, "13800138001").await.starts_with("【CertDesk】【测试环境】"));
}

#[tokio::test]
async fn a_development_server_is_no_staging_server() {
    let (dir, config) = test_config().await;
    let app = start(dir, config).await;
    let h: Health = app.get(&endpoint::Health::path(&[])).await.json().await.unwrap();
    assert!(!h.staging);
    app.state.notifier.sms("13800138000", Template::RegisterCode { code: "135790".into() }).await.unwrap();
    let body = last_sms(&app.state, "13800138000").await;
    assert!(body.starts_with("【CertDesk】您正在注册"), "{body}");
    assert!(body.contains("135790"), "{body}");
}

#[tokio::test]
async fn outside_the_sandbox_the_outbox_keeps_no_one_time_code() {
    // Built without `serve` (as `certdesk admin create` does), so no start-up check runs:
    // the rules still hold. A production server serves no SMS sandbox, so the sandbox
    // gateway's messages go nowhere (and nothing keeps them) …
    let (dir, config) = production_with_a_ca().await;
    let app = start(dir, config).await;
    let state = &app.state;
    assert!(state.notifier.sms_sandbox.is_none());
    let refused = state.notifier.sms("13800138000", Template::RegisterCode { code: "975310".into() }).await;
    assert!(refused.is_err(), "{refused:?}");
    let sms = outbox_message::Entity::find().filter(outbox_message::Column::Channel.eq("sms")).all(&state.db).await;
    assert!(sms.unwrap().is_empty());
    // … and the outbox of e-mail keeps codes masked.
    state
        .notifier
        .email
        .send_codes("a@example.com", "review_result", "subject", "授权码：86420975", &["86420975"])
        .await
        .unwrap();
    let mail = outbox_message::Entity::find()
        .filter(outbox_message::Column::Channel.eq("email"))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!mail.body.contains("86420975") && mail.body.contains("******"), "{}", mail.body);
}
