//! ⑥ 扫码缴费 through the sandbox provider: QR order, the pay page a phone opens, the signed
//! and encrypted notification recorded exactly once; forged, tampered, stale and wrong-amount
//! notifications change nothing; expired and cancelled orders.

use certdesk::entity::{audit_event, payment_order, sandbox_trade};
use certdesk::payment::sandbox::Delivery;
use certdesk_shared::admin::StaffRole;
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::accounts::{Browser, staff_browser};
use crate::apply::complete_draft;
use crate::helpers::{TestApp, spawn_app};

async fn post_notification(app: &TestApp, n: &Delivery) -> (StatusCode, Value) {
    let res = app
        .client
        .post(app.url("/api/payments/notify"))
        .header("content-type", "application/json")
        .headers(n.headers.clone())
        .body(n.body.clone())
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

fn token_of(code_url: &str) -> String {
    code_url.rsplit('/').next().unwrap().to_owned()
}

pub async fn payments_received(app: &TestApp, out_trade_no: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("payment_received"))
        .filter(audit_event::Column::Subject.eq(out_trade_no))
        .count(&app.state.db)
        .await
        .unwrap()
}

/// Pays a request's QR order on the sandbox page and waits for the notification: the order.
pub async fn pay(app: &TestApp, b: &mut Browser<'_>, id: &str) -> Value {
    let (s, order) = b.post(&format!("/api/applications/{id}/payment"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{order}");
    let token = token_of(order["code_url"].as_str().unwrap());
    let done = app.client.post(app.url(&format!("/sandbox/pay/{token}/confirm"))).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    for _ in 0..50 {
        let (_, v) = b.get(&format!("/api/applications/{id}/payment")).await;
        if v["status"] == "paid" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the payment of {id} was not notified");
}

/// The provider's notification of a paid order, delivered again.
pub async fn replay_notification(app: &TestApp, order: &Value) {
    let token = token_of(order["code_url"].as_str().unwrap());
    let trade = app.state.sandbox_pay.trade(&token).await.unwrap();
    let delivery = app.state.sandbox_pay.notification(&trade).await.unwrap();
    let (s, v) = post_notification(app, &delivery).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::OK, Some("SUCCESS")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_pay_on_the_sandbox_page_and_the_wizard_moves_on() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (s, order) = b.post(&format!("/api/applications/{id}/payment"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{order}");
    assert_eq!((order["status"].as_str(), order["amount_fen"].as_i64()), (Some("not_paid"), Some(30000)));
    assert!(order["qr_svg"].as_str().unwrap().contains("<svg"));
    let code_url = order["code_url"].as_str().unwrap();
    assert!(code_url.contains("/sandbox/pay/"), "{code_url}");
    // Asking again shows the same QR code.
    let (_, again) = b.post(&format!("/api/applications/{id}/payment"), json!({})).await;
    assert_eq!(again["out_trade_no"], order["out_trade_no"]);

    let token = token_of(code_url);
    let page = app.client.get(app.url(&format!("/sandbox/pay/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("确认支付") && page.contains("¥300"), "{page}");
    let done = app.client.post(app.url(&format!("/sandbox/pay/{token}/confirm"))).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("支付成功"));

    // The notification arrives by itself; the wizard's poll sees it.
    let mut paid = false;
    for _ in 0..50 {
        let (_, v) = b.get(&format!("/api/applications/{id}/payment")).await;
        if v["status"] == "paid" {
            paid = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(paid);
    let out_trade_no = order["out_trade_no"].as_str().unwrap();
    // The audit row commits with the status change: once paid shows, it is there.
    assert_eq!(payments_received(&app, out_trade_no).await, 1);
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("submitted")), "{v}");

    // The provider retries, or someone replays the notification: it pays once.
    let trade = app.state.sandbox_pay.trade(&token).await.unwrap();
    let delivery = app.state.sandbox_pay.notification(&trade).await.unwrap();
    for _ in 0..2 {
        let (s, v) = post_notification(&app, &delivery).await;
        assert_eq!((s, v["code"].as_str()), (StatusCode::OK, Some("SUCCESS")));
    }
    assert_eq!(payments_received(&app, out_trade_no).await, 1);
}

#[tokio::test]
async fn forged_tampered_stale_and_wrong_amount_notifications_change_nothing() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (_, order) = b.post(&format!("/api/applications/{id}/payment"), json!({})).await;
    let out_trade_no = order["out_trade_no"].as_str().unwrap().to_owned();
    let sandbox = &app.state.sandbox_pay;
    let resource = |amount: i64, no: &str| {
        json!({ "out_trade_no": no, "transaction_id": "4200000000000000001", "trade_state": "SUCCESS",
                "amount": { "total": amount, "currency": "CNY" } })
    };
    let good = sandbox.sign_notification(&resource(30000, &out_trade_no)).await.unwrap();

    let mut forged = good.clone();
    let signature = {
        let mut s = forged.header("wechatpay-signature").to_owned().into_bytes();
        s[10] = if s[10] == b'A' { b'B' } else { b'A' };
        String::from_utf8(s).unwrap()
    };
    forged.headers.insert("wechatpay-signature", signature.parse().unwrap());
    let mut tampered = good.clone();
    let text = String::from_utf8(tampered.body.clone()).unwrap().replace("支付成功", "支付成功!");
    tampered.body = text.into_bytes();
    let mut stale = good.clone();
    stale.headers.insert("wechatpay-timestamp", (Utc::now() - Duration::minutes(10)).timestamp().into());
    let mut wrong_serial = good.clone();
    wrong_serial.headers.insert("wechatpay-serial", "0123456789ABCDEF".parse().unwrap());
    for (what, n) in [("forged", &forged), ("tampered", &tampered), ("stale", &stale), ("serial", &wrong_serial)] {
        let (s, v) = post_notification(&app, n).await;
        assert_eq!((s, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("FAIL")), "{what}");
    }
    // Properly signed, but for 1 fen, or for an order we never made.
    let cheap = sandbox.sign_notification(&resource(1, &out_trade_no)).await.unwrap();
    let (s, _) = post_notification(&app, &cheap).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let unknown = sandbox.sign_notification(&resource(30000, "CD0000")).await.unwrap();
    assert_eq!(post_notification(&app, &unknown).await.0, StatusCode::BAD_REQUEST);

    let o = payment_order::Entity::find_by_id(out_trade_no.clone()).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(o.status, "not_paid");
    assert_eq!(payments_received(&app, &out_trade_no).await, 0);
    let mismatches = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("payment_mismatch"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(mismatches, 1);
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("payment_required")));

    // The genuine one is accepted.
    assert_eq!(post_notification(&app, &good).await.0, StatusCode::OK);
    assert_eq!(payments_received(&app, &out_trade_no).await, 1);
}

#[tokio::test]
async fn expired_and_cancelled_orders() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (_, first) = b.post(&format!("/api/applications/{id}/payment"), json!({})).await;
    let first_no = first["out_trade_no"].as_str().unwrap().to_owned();

    // Two hours later: expired at both ends.
    let o = payment_order::Entity::find_by_id(first_no.clone()).one(&app.state.db).await.unwrap().unwrap();
    let mut a: payment_order::ActiveModel = o.into();
    a.expires_at = Set(Utc::now() - Duration::seconds(1));
    a.update(&app.state.db).await.unwrap();
    let token = token_of(first["code_url"].as_str().unwrap());
    let t = sandbox_trade::Entity::find_by_id(token.clone()).one(&app.state.db).await.unwrap().unwrap();
    let mut a: sandbox_trade::ActiveModel = t.into();
    a.expires_at = Set(Utc::now() - Duration::seconds(1));
    a.update(&app.state.db).await.unwrap();
    let (_, v) = b.get(&format!("/api/applications/{id}/payment")).await;
    assert_eq!(v["status"], "expired");
    let page = app.client.get(app.url(&format!("/sandbox/pay/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("订单已过期"));
    assert_eq!(
        app.client.post(app.url(&format!("/sandbox/pay/{token}/confirm"))).send().await.unwrap().status(),
        StatusCode::CONFLICT
    );

    // A new QR code, then the user cancels it: the pay page refuses it.
    let (_, second) = b.post(&format!("/api/applications/{id}/payment"), json!({})).await;
    assert_ne!(second["out_trade_no"], first["out_trade_no"]);
    assert_eq!(second["status"], "not_paid");
    let (s, _) = b.call(Method::DELETE, &format!("/api/applications/{id}/payment"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = b.get(&format!("/api/applications/{id}/payment")).await;
    assert_eq!(v["status"], "closed");
    let token = token_of(second["code_url"].as_str().unwrap());
    assert_eq!(
        app.client.post(app.url(&format!("/sandbox/pay/{token}/confirm"))).send().await.unwrap().status(),
        StatusCode::CONFLICT
    );

    // Someone else's application has no payment for them.
    let mut stranger = Browser::new(&app);
    let (s, _) = stranger.post(&format!("/api/applications/{id}/payment"), json!({})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

async fn put_voucher(app: &TestApp, b: &Browser<'_>, id: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let res = app
        .client
        .put(app.url(&format!("/api/applications/{id}/transfer-voucher")))
        .header("cookie", b.cookie.clone().unwrap())
        .header("x-csrf-token", b.csrf.clone().unwrap())
        .header("x-file-name", "voucher.png")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn bank_transfer_with_a_voucher_waits_for_finance() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut finance, _) = staff_browser(&app, StaffRole::Finance).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;

    // Before any voucher: our account and the amount to send, no order yet.
    let (s, v) = b.get(&format!("/api/applications/{id}/transfer")).await;
    assert_eq!(
        (s, v["amount_fen"].as_i64(), v["out_trade_no"].is_null(), v["status"].is_null()),
        (StatusCode::OK, Some(30000), true, true),
        "{v}"
    );
    assert!(!v["account_no"].as_str().unwrap().is_empty());
    let (s, v) = put_voucher(&app, &b, &id, b"MZ\x90\x00 not a picture").await;
    assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("voucher")));
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR voucher";
    let (s, v) = put_voucher(&app, &b, &id, png).await;
    assert_eq!(
        (s, v["status"].as_str(), v["amount_fen"].as_i64()),
        (StatusCode::OK, Some("not_paid"), Some(30000)),
        "{v}"
    );
    assert!(v["account_no"].is_string() && v["bank"].is_string());
    let no = v["out_trade_no"].as_str().unwrap().to_owned();
    let (_, again) = b.get(&format!("/api/applications/{id}/transfer")).await;
    assert_eq!((again["out_trade_no"].as_str(), again["status"].as_str()), (Some(no.as_str()), Some("not_paid")));
    assert_eq!(again["voucher_name"], v["voucher_name"]);
    assert!(again["voucher_name"].as_str().is_some_and(|n| !n.is_empty()), "{again}");
    let (s, _) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!(s, StatusCode::PAYMENT_REQUIRED);

    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    assert_eq!(reviewer.get("/api/admin/transfers").await.0, StatusCode::FORBIDDEN);
    let (_, pending) = finance.get("/api/admin/transfers").await;
    assert!(
        pending
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["out_trade_no"] == no.as_str() && t["application_id"] == id.as_str())
    );
    let voucher = app
        .client
        .get(app.url(&format!("/api/admin/transfers/{no}/voucher")))
        .header("cookie", finance.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(voucher.headers()["content-type"], "image/png");
    assert_eq!(voucher.bytes().await.unwrap().as_ref(), png);
    assert_eq!(finance.post(&format!("/api/admin/transfers/{no}/confirm"), json!({})).await.0, StatusCode::NO_CONTENT);
    assert_eq!(finance.post(&format!("/api/admin/transfers/{no}/confirm"), json!({})).await.0, StatusCode::CONFLICT);
    let (_, paid) = b.get(&format!("/api/applications/{id}/transfer")).await;
    assert_eq!(paid["status"], "paid");
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("submitted")), "{v}");
}

#[tokio::test]
async fn settlement_applications_appear_on_the_monthly_statement() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut finance, _) = staff_browser(&app, StaffRole::Finance).await;
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, true).await;
    let (_, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    let acceptance = v["acceptance_no"].as_str().unwrap().to_owned();
    admin.post(&format!("/api/admin/applications/{id}/review"), json!({ "approve": true })).await;
    let month = (Utc::now() + Duration::hours(8)).format("%Y-%m").to_string();
    let (s, st) = finance.get(&format!("/api/admin/statements/{month}")).await;
    assert_eq!(s, StatusCode::OK, "{st}");
    let line = st["lines"].as_array().unwrap().iter().find(|l| l["acceptance_no"] == acceptance.as_str()).unwrap();
    assert_eq!((line["amount_fen"].as_i64(), line["mobile"].as_str()), (Some(30000), Some(mobile.as_str())));
    assert_eq!(line["certificate_type"], "机构证书");
    assert_eq!(st["total_fen"], 30000);
    let (_, empty) = finance.get("/api/admin/statements/2020-01").await;
    assert_eq!(empty["lines"], json!([]));
    assert_eq!(finance.get("/api/admin/statements/not-a-month").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_open_code_at_a_time_and_what_was_paid_for_stays_chosen() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (b, id, _) = complete_draft(&app, &mut admin, false).await;
    // Four requests at once (two tabs, a double click): one order, the same QR code.
    let mut handles = Vec::new();
    for _ in 0..4 {
        let (client, url) = (app.client.clone(), app.url(&format!("/api/applications/{id}/payment")));
        let (cookie, csrf) = (b.cookie.clone().unwrap(), b.csrf.clone().unwrap());
        handles.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let v: Value = res.json().await.unwrap();
            v["out_trade_no"].as_str().unwrap().to_owned()
        }));
    }
    let mut numbers = Vec::new();
    for h in handles {
        numbers.push(h.await.unwrap());
    }
    numbers.dedup();
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    let open = payment_order::Entity::find()
        .filter(payment_order::Column::RequestId.eq(id.clone()))
        .filter(payment_order::Column::Status.eq("not_paid"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(open, 1);

    // Paid for one year: neither the period nor the type can change any more.
    let mut b = b;
    let (_, order) = b.get(&format!("/api/applications/{id}/payment")).await;
    let token = token_of(order["code_url"].as_str().unwrap());
    app.client.post(app.url(&format!("/sandbox/pay/{token}/confirm"))).send().await.unwrap();
    for _ in 0..50 {
        if b.get(&format!("/api/applications/{id}/payment")).await.1["status"] == "paid" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut three_years = json!({ "holder": { "kind": "organisation", "org_name": "天津市滨海数字认证有限公司",
                                              "credit_code": "91350100M000100Y43" }, "validity_id": "org-3y",
                                  "province": "天津市", "city": "和平区" });
    let (s, v) =
        b.call(Method::PUT, &format!("/api/applications/{id}/certificate-info"), Some(three_years.clone())).await;
    assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("validity_id")));
    let (s, _) = b
        .call(
            Method::PUT,
            &format!("/api/applications/{id}/choose-type"),
            Some(json!({ "project_id": "ra-test", "type_id": "legal", "medium": "ukey" })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    three_years["validity_id"] = "org-1y".into();
    assert_eq!(
        b.call(Method::PUT, &format!("/api/applications/{id}/certificate-info"), Some(three_years)).await.0,
        StatusCode::OK
    );
    // A voucher on top of a payment is refused.
    assert_eq!(put_voucher(&app, &b, &id, b"\x89PNG\r\n\x1a\n....").await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_transfer_closes_the_open_qr_code_at_the_provider() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (_, order) = b.post(&format!("/api/applications/{id}/payment"), json!({})).await;
    let token = token_of(order["code_url"].as_str().unwrap());
    let (s, _) = put_voucher(&app, &b, &id, b"\x89PNG\r\n\x1a\n....").await;
    assert_eq!(s, StatusCode::OK);
    // The QR code can no longer be paid, and no new one is made on top of the transfer.
    assert_eq!(
        app.client.post(app.url(&format!("/sandbox/pay/{token}/confirm"))).send().await.unwrap().status(),
        StatusCode::CONFLICT
    );
    assert_eq!(b.post(&format!("/api/applications/{id}/payment"), json!({})).await.0, StatusCode::CONFLICT);
    assert_eq!(b.call(Method::DELETE, &format!("/api/applications/{id}/payment"), None).await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn without_the_sandbox_there_is_no_free_pay_page() {
    let app = crate::helpers::spawn_app_with(|c| c.payment_sandbox = false).await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (s, v) = b.post(&format!("/api/applications/{id}/payment"), json!({})).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")));
    assert_eq!(app.client.get(app.url("/sandbox/pay/anything")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // Bank transfer still works.
    assert_eq!(put_voucher(&app, &b, &id, b"\x89PNG\r\n\x1a\n....").await.0, StatusCode::OK);
}
