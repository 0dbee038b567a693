//! 支付宝当面付: the production client (`payment::alipay::Alipay`) against the Alipay sandbox
//! over HTTP, with the orders of `domain::payment`: a signed precreate and a wrongly signed
//! one, the payer on the pay page, the notification recorded once, forged, tampered, foreign
//! and wrong-amount notifications refused, a gateway that never answers, and Alipay's error
//! codes as ours.

use std::sync::Arc;
use std::time::{Duration, Instant};

use certdesk::domain::payment as pay;
use certdesk::entity::{audit_event, payment_order, request};
use certdesk::payment::alipay::{Alipay, AlipayError, rsa2_sign, sign_content};
use certdesk::payment::{NewOrder, Notification, PayError, PaymentProvider, alipay_sandbox};
use certdesk_shared::admin::StaffRole;
use chrono::Utc;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use certdesk_shared::payment::PayWay;

use crate::helpers::browser::staff_browser;
use crate::helpers::issuing::complete_draft;
use crate::helpers::payment::payments_received;
use crate::helpers::{SCHEDULING_SLACK, TestApp, silent_server, spawn_app};

fn alipay(app: &TestApp) -> Arc<Alipay> {
    app.state.alipay.clone().expect("a development server has the Alipay sandbox")
}

/// An application at ⑥ and its Alipay order (¥300), made through `domain::payment`.
async fn alipay_order(app: &TestApp) -> payment_order::Model {
    let (mut admin, _) = staff_browser(app, StaffRole::Administrator).await;
    let (_, id, _) = complete_draft(app, &mut admin, false).await;
    let req = request::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    let order = pay::order_for(
        &app.state.db,
        &app.state.payments,
        &app.state.audit_key,
        &req,
        Some(PayWay::Alipay),
        Utc::now(),
    )
    .await;
    let order = order.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!((order.provider.as_str(), order.amount_fen), ("alipay", 30000));
    order
}

fn token_of(code_url: &str) -> String {
    code_url.rsplit('/').next().unwrap().to_owned()
}

fn new_order(out_trade_no: &str, amount_fen: i64) -> NewOrder {
    NewOrder {
        out_trade_no: out_trade_no.into(),
        amount_fen,
        description: "CertDesk 测试".into(),
        expires_at: Utc::now() + chrono::Duration::hours(2),
    }
}

async fn post_notify(app: &TestApp, n: &Notification) -> (StatusCode, String) {
    let res = app
        .client
        .post(app.url("/api/payments/alipay/notify"))
        .headers(n.headers.clone())
        .body(n.body.clone())
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn status_of(app: &TestApp, out_trade_no: &str) -> String {
    payment_order::Entity::find_by_id(out_trade_no.to_owned()).one(&app.state.db).await.unwrap().unwrap().status
}

/// The buyer scans and pays in the sandbox (no notification sent); the notification Alipay
/// would send, as `(name, value)` pairs without `sign` and `sign_type`.
async fn paid_notification(app: &TestApp, order: &payment_order::Model) -> Vec<(String, String)> {
    let t = alipay_sandbox::pay(&app.state.db, &token_of(&order.code_url), Utc::now()).await.unwrap().unwrap();
    let n = alipay_sandbox::notification(&app.state.db, &t, Utc::now()).await.unwrap();
    url::form_urlencoded::parse(&n.body).into_owned().filter(|(k, _)| k != "sign" && k != "sign_type").collect()
}

/// Those pairs with some values changed, signed by the sandbox's Alipay key.
async fn signed_with(app: &TestApp, pairs: &[(String, String)], changes: &[(&str, &str)]) -> Notification {
    let changed: Vec<(&str, String)> = pairs
        .iter()
        .map(|(k, v)| {
            let v = changes.iter().find(|(name, _)| name == k).map_or(v.clone(), |(_, new)| (*new).to_owned());
            (k.as_str(), v)
        })
        .collect();
    alipay_sandbox::sign_notification(&app.state.db, &changed).await.unwrap()
}

fn form(pairs: &[(String, String)]) -> Notification {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    Notification { body: body.into_bytes(), ..Default::default() }
}

#[tokio::test]
async fn a_signed_precreate_is_taken_and_a_wrongly_signed_one_refused() {
    let app = spawn_app().await;
    let order = alipay_order(&app).await;
    assert!(order.code_url.contains("/sandbox/alipay/pay/"), "{}", order.code_url);
    let t = alipay_sandbox::find(&app.state.db, &order.out_trade_no).await.unwrap().unwrap();
    assert_eq!((t.amount_fen, t.trade_status.as_str()), (30000, "WAIT_BUYER_PAY"));
    assert!(t.notify_url.ends_with("/api/payments/alipay/notify"), "{}", t.notify_url);

    // Sent again (a retry), the same trade answers the same code; another amount is refused.
    let client = alipay(&app);
    let again = NewOrder { expires_at: order.expires_at, ..new_order(&order.out_trade_no, 30000) };
    let t = alipay_sandbox::find(&app.state.db, &order.out_trade_no).await.unwrap().unwrap();
    let again = NewOrder { description: t.subject.clone(), ..again };
    assert_eq!(client.precreate_trade(&again).await.unwrap(), order.code_url);
    let other = NewOrder { amount_fen: 100, ..again };
    let e = client.precreate_trade(&other).await.unwrap_err();
    assert_eq!(e.sub_code(), Some("ACQ.CONTEXT_INCONSISTENT"), "{e}");

    // Signed with a key that is not the app's: the gateway refuses it and records nothing.
    let stranger = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let forged = client.as_ref().clone().with_app_key(stranger).await.unwrap();
    let e = forged.precreate_trade(&new_order("CDFORGED000001", 30000)).await.unwrap_err();
    assert_eq!(e.sub_code(), Some("isv.invalid-signature"), "{e}");
    assert!(matches!(PayError::from(e), PayError::Credentials { code, .. } if code == "isv.invalid-signature"));
    assert!(alipay_sandbox::find(&app.state.db, "CDFORGED000001").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payer_pays_on_the_pay_page_and_the_notification_pays_once() {
    let app = spawn_app().await;
    let order = alipay_order(&app).await;
    let client = alipay(&app);
    // As at Alipay, the trade exists once the buyer scans.
    assert!(matches!(client.query(&order.out_trade_no).await, Err(PayError::OrderNotFound)));
    let token = token_of(&order.code_url);
    let page = app.get(&format!("/sandbox/alipay/pay/{token}")).await.text().await.unwrap();
    assert!(page.contains("确认支付") && page.contains("¥300"), "{page}");
    let r = client.query(&order.out_trade_no).await.unwrap();
    assert_eq!((r.trade_state.as_str(), r.amount_fen), ("NOTPAY", 30000));

    let done = app.client.post(app.url(&format!("/sandbox/alipay/pay/{token}/confirm"))).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("支付成功"));
    // The sandbox posts the notification to our endpoint by itself, over HTTP.
    let mut notified = false;
    for _ in 0..100 {
        let t = alipay_sandbox::find(&app.state.db, &order.out_trade_no).await.unwrap().unwrap();
        if t.notified_at.is_some() {
            notified = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(notified, "the notification was not answered success");
    assert_eq!(status_of(&app, &order.out_trade_no).await, "paid");
    assert_eq!(payments_received(&app, &order.out_trade_no).await, 1);
    let r = client.query(&order.out_trade_no).await.unwrap();
    assert_eq!((r.trade_state.as_str(), r.amount_fen), ("SUCCESS", 30000));
    let paid = payment_order::Entity::find_by_id(order.out_trade_no.clone()).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(paid.transaction_id, r.transaction_id);

    // Alipay sends it again, or someone replays it: `success`, and it pays once.
    let t = alipay_sandbox::find(&app.state.db, &order.out_trade_no).await.unwrap().unwrap();
    let n = alipay_sandbox::notification(&app.state.db, &t, Utc::now()).await.unwrap();
    for _ in 0..2 {
        assert_eq!(post_notify(&app, &n).await, (StatusCode::OK, "success".to_owned()));
    }
    assert_eq!(payments_received(&app, &order.out_trade_no).await, 1);
}

#[tokio::test]
async fn forged_tampered_foreign_and_stale_notifications_change_nothing() {
    let app = spawn_app().await;
    let order = alipay_order(&app).await;
    let pairs = paid_notification(&app, &order).await;
    let genuine = signed_with(&app, &pairs, &[]).await;
    let body = String::from_utf8(genuine.body.clone()).unwrap();

    // The amount changed after signing.
    let tampered = body.replace("total_amount=300.00", "total_amount=3.00");
    assert_ne!(tampered, body);
    // Signed by someone else's key.
    let stranger = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let content = sign_content(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &[]);
    let stranger_sign = rsa2_sign(&rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(stranger), &content);
    let mut by_stranger = pairs.clone();
    by_stranger.extend([("sign_type".to_owned(), "RSA2".to_owned()), ("sign".to_owned(), stranger_sign)]);
    // No signature; an RSA (SHA-1) sign_type.
    let unsigned = form(&pairs);
    let rsa1 = body.replace("sign_type=RSA2", "sign_type=RSA");
    let refused = [
        Notification { body: tampered.into_bytes(), ..Default::default() },
        form(&by_stranger),
        unsigned,
        Notification { body: rsa1.into_bytes(), ..Default::default() },
        // Signed by Alipay, but for another app, or sent two days ago.
        signed_with(&app, &pairs, &[("app_id", "2021000000000001")]).await,
        signed_with(&app, &pairs, &[("notify_time", "2020-01-01 00:00:00")]).await,
        // A parameter twice.
        Notification { body: format!("{body}&total_amount=3.00").into_bytes(), ..Default::default() },
    ];
    for n in &refused {
        assert_eq!(
            post_notify(&app, n).await,
            (StatusCode::OK, "fail".to_owned()),
            "{:?}",
            String::from_utf8_lossy(&n.body)
        );
    }
    assert_eq!(status_of(&app, &order.out_trade_no).await, "not_paid");
    assert_eq!(payments_received(&app, &order.out_trade_no).await, 0);

    // The genuine one pays.
    assert_eq!(post_notify(&app, &genuine).await, (StatusCode::OK, "success".to_owned()));
    assert_eq!(status_of(&app, &order.out_trade_no).await, "paid");
    assert_eq!(payments_received(&app, &order.out_trade_no).await, 1);
}

#[tokio::test]
async fn a_notification_for_another_amount_is_refused_and_audited() {
    let app = spawn_app().await;
    let order = alipay_order(&app).await;
    let pairs = paid_notification(&app, &order).await;
    for amount in ["0.01", "300.01", "30000"] {
        let n = signed_with(&app, &pairs, &[("total_amount", amount)]).await;
        assert_eq!(post_notify(&app, &n).await, (StatusCode::OK, "fail".to_owned()), "{amount}");
    }
    // A total_amount that is no amount at all is refused before it reaches the order.
    let n = signed_with(&app, &pairs, &[("total_amount", "300.001")]).await;
    assert_eq!(post_notify(&app, &n).await, (StatusCode::OK, "fail".to_owned()));
    assert_eq!(status_of(&app, &order.out_trade_no).await, "not_paid");
    let mismatches = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("payment_mismatch"))
        .filter(audit_event::Column::Subject.eq(order.out_trade_no.clone()))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(mismatches, 3);
    assert_eq!(payments_received(&app, &order.out_trade_no).await, 0);
}

#[tokio::test]
async fn a_gateway_that_never_answers_fails_within_the_timeout() {
    let app = spawn_app().await;
    // Accepts connections and never answers.
    let (silent_addr, accepted) = silent_server().await;
    let client = alipay(&app)
        .as_ref()
        .clone()
        .with_gateway(&format!("http://{silent_addr}/gateway.do"))
        .with_timeout(Duration::from_secs(1))
        .unwrap();
    let started = Instant::now();
    let e = client.precreate_trade(&new_order("CDTIMEOUT00001", 30000)).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, AlipayError::Timeout(_)), "{e}");
    assert!(e.to_string().contains("did not answer within 1s"), "{e}");
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(1) + SCHEDULING_SLACK, "{took:?}");
    let e = client.precreate(&new_order("CDTIMEOUT00002", 30000)).await.unwrap_err();
    assert!(matches!(&e, PayError::Timeout), "{e}");
    // Each asked once: a trade that may have been created is not created again.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);

    // Nobody listening: tried three times (after 200 ms and 800 ms), then a clear error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let client = client.with_gateway(&format!("http://{closed}/gateway.do"));
    let started = Instant::now();
    let e = client.query_trade("CDTIMEOUT00003").await.unwrap_err();
    assert!(matches!(e, AlipayError::Unreachable(_)), "{e}");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1000) && took < SCHEDULING_SLACK, "{took:?}");
}

#[tokio::test]
async fn alipay_error_codes_become_ours() {
    let app = spawn_app().await;
    let client = alipay(&app);
    // An unknown trade: ACQ.TRADE_NOT_EXIST is "no such order".
    let e = client.query_trade("CDNOSUCHTRADE1").await.unwrap_err();
    assert_eq!(e.sub_code(), Some("ACQ.TRADE_NOT_EXIST"), "{e}");
    assert!(matches!(client.query("CDNOSUCHTRADE1").await, Err(PayError::OrderNotFound)));
    // Above Alipay's limit of 100 000 000 yuan.
    let e = client.precreate_trade(&new_order("CDTOOMUCH00001", 10_000_000_001)).await.unwrap_err();
    assert_eq!(e.sub_code(), Some("ACQ.TOTAL_FEE_EXCEED"), "{e}");

    // A paid trade cannot be closed, nor created again.
    let order = alipay_order(&app).await;
    paid_notification(&app, &order).await;
    let e = client.close_trade(&order.out_trade_no).await.unwrap_err();
    assert_eq!(e.sub_code(), Some("ACQ.TRADE_STATUS_ERROR"), "{e}");
    // In the providers' common terms: paid, which the domain then records.
    assert!(matches!(client.close(&order.out_trade_no).await, Err(PayError::OrderPaid)));
    let t = alipay_sandbox::find(&app.state.db, &order.out_trade_no).await.unwrap().unwrap();
    let again =
        NewOrder { description: t.subject, expires_at: order.expires_at, ..new_order(&order.out_trade_no, 30000) };
    let e = client.precreate_trade(&again).await.unwrap_err();
    assert_eq!(e.sub_code(), Some("ACQ.TRADE_HAS_SUCCESS"), "{e}");

    // Closing a trade nobody scanned: Alipay says it does not exist, and the code is dead.
    let code = client.precreate(&new_order("CDCLOSED000001", 500)).await.unwrap();
    client.close("CDCLOSED000001").await.unwrap();
    let token = token_of(&code);
    let page = app.get(&format!("/sandbox/alipay/pay/{token}")).await.text().await.unwrap();
    assert!(page.contains("订单已关闭") && !page.contains("确认支付"), "{page}");
    let res = app.client.post(app.url(&format!("/sandbox/alipay/pay/{token}/confirm"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

/// A gateway answering `text` to every call.
async fn fake_gateway(text: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/gateway.do", axum::routing::post(move || async move { text }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/gateway.do")
}

#[tokio::test]
async fn answers_not_signed_by_alipay_are_not_believed() {
    let app = spawn_app().await;
    let client = alipay(&app);
    let success = r#"{"alipay_trade_query_response":{"code":"10000","msg":"Success","out_trade_no":"CDFAKE00000001","trade_no":"1","trade_status":"TRADE_SUCCESS","total_amount":"300.00"}"#;
    let unsigned: &'static str = Box::leak(format!("{success}}}").into_boxed_str());
    let wrongly: &'static str = Box::leak(format!("{success},\"sign\":\"QUJD\"}}").into_boxed_str());
    for text in [unsigned, wrongly] {
        let fake = client.as_ref().clone().with_gateway(&fake_gateway(text).await);
        let e = fake.query_trade("CDFAKE00000001").await.unwrap_err();
        assert!(matches!(e, AlipayError::Forged(_)), "{e}");
        assert!(matches!(fake.query("CDFAKE00000001").await, Err(PayError::BadResponse(_))));
    }
    // A gateway refusal comes unsigned and stays a refusal.
    let refusal = r#"{"alipay_trade_query_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id","sub_msg":"无效的AppID参数"}}"#;
    let fake = client.as_ref().clone().with_gateway(&fake_gateway(refusal).await);
    assert_eq!(fake.query_trade("CDFAKE00000001").await.unwrap_err().sub_code(), Some("isv.invalid-app-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_are_one_alipay_sandbox() {
    let app = spawn_app().await;
    // A second server on the same database, its clients and callbacks at its own address.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_addr = listener.local_addr().unwrap();
    let mut config = (*app.state.config).clone();
    config.sandbox_url = Some(format!("http://{other_addr}"));
    config.callback_url = Some(format!("http://{other_addr}"));
    let other = certdesk::AppState::new(config).await.unwrap();
    let router = certdesk::app(other.clone()).unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    // Both make the sandbox's keys at the same moment: one pair is kept.
    let (a, b) = tokio::join!(alipay_sandbox::keys(&app.state.db), alipay_sandbox::keys(&other.db));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.app == b.app && a.alipay == b.alipay);

    // Created through the first server's gateway, scanned and paid on the second's page.
    let order = alipay_order(&app).await;
    let token = token_of(&order.code_url);
    let page = app.client.get(format!("http://{other_addr}/sandbox/alipay/pay/{token}")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("确认支付"));
    let seen = other.alipay.clone().unwrap().query_trade(&order.out_trade_no).await.unwrap();
    assert_eq!((seen.trade_state.as_str(), seen.amount_fen), ("NOTPAY", 30000));
    let done = app.client.post(format!("http://{other_addr}/sandbox/alipay/pay/{token}/confirm")).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    for _ in 0..100 {
        if status_of(&app, &order.out_trade_no).await == "paid" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_of(&app, &order.out_trade_no).await, "paid");
    assert_eq!(payments_received(&app, &order.out_trade_no).await, 1);
}

#[tokio::test]
async fn real_settings_come_from_files_and_incomplete_ones_are_refused() {
    use base64::Engine;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let (app_key, alipay_key) = (dir.path().join("app_private_key.txt"), dir.path().join("alipay_public_key.txt"));
    let mut config = (*app.state.config).clone();
    config.alipay_app_id = Some("2021000000000001".into());
    config.alipay_app_private_key_file = Some(app_key.clone());
    config.alipay_public_key_file = Some(alipay_key.clone());
    // As the open platform's key tool writes them (bare base64), and as PEM.
    let bare = (
        b64.encode(key.to_pkcs1_der().unwrap().as_bytes()),
        b64.encode(key.to_public_key().to_public_key_der().unwrap()),
    );
    let pem = (
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        key.to_public_key().to_public_key_pem(LineEnding::LF).unwrap(),
    );
    for (private, public) in [bare, pem] {
        std::fs::write(&app_key, private).unwrap();
        std::fs::write(&alipay_key, public).unwrap();
        let client = Alipay::from_config(&config, &app.state.db).await.unwrap().unwrap();
        assert_eq!(client.app_id(), "2021000000000001");
    }
    // Incomplete or wrong settings stop the server at start, naming the setting.
    let refused = |c: &certdesk::Config| {
        let c = c.clone();
        let db = app.state.db.clone();
        async move { format!("{:#}", Alipay::from_config(&c, &db).await.err().expect("refused")) }
    };
    let no_key = certdesk::Config { alipay_app_private_key_file: None, ..config.clone() };
    assert!(refused(&no_key).await.contains("CERTDESK_ALIPAY_APP_PRIVATE_KEY_FILE"));
    let no_id = certdesk::Config { alipay_app_id: None, ..config.clone() };
    assert!(refused(&no_id).await.contains("CERTDESK_ALIPAY_APP_ID"));
    let plain =
        certdesk::Config { dev: false, alipay_gateway: "http://openapi.example/gateway.do".into(), ..config.clone() };
    assert!(refused(&plain).await.contains("https://"));
    std::fs::write(&alipay_key, "not a key").unwrap();
    assert!(refused(&config).await.contains("CERTDESK_ALIPAY_PUBLIC_KEY_FILE"));
    // Nothing configured and no sandbox: no Alipay.
    let none = certdesk::Config {
        alipay_app_id: None,
        alipay_app_private_key_file: None,
        alipay_public_key_file: None,
        payment_sandbox: false,
        ..config.clone()
    };
    assert!(Alipay::from_config(&none, &app.state.db).await.unwrap().is_none());
}
