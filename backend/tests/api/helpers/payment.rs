//! Paying with WeChat Pay on the sandbox's page, the provider's notifications, and an
//! invoice request.

use certdesk::entity::audit_event;
use certdesk::payment::Notification;
use certdesk::payment::wechat_sandbox::WechatSandbox;
use certdesk_shared::apply::InvoiceRequest;
use certdesk_shared::endpoint;
use certdesk_shared::payment::{PayWay, PaymentOrder, PaymentRequest, PaymentStatus};
use certdesk_shared::{CreditCode, Email, OrgName};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::browser::{Browser, decode};
use crate::helpers::{TestApp, status_and_json};

pub async fn post_notification(app: &TestApp, n: &Notification) -> (StatusCode, Value) {
    let res = app
        .client
        .post(app.url("/api/payments/wechat/notify"))
        .headers(n.headers.clone())
        .body(n.body.clone())
        .send()
        .await
        .unwrap();
    status_and_json(res).await
}

pub fn token_of(code_url: &str) -> String {
    code_url.rsplit('/').next().unwrap().to_owned()
}

pub fn sandbox(app: &TestApp) -> &WechatSandbox {
    app.state.wechat_sandbox.as_deref().expect("the WeChat Pay sandbox runs")
}

/// Confirms on the sandbox's pay page, as the payer's phone does.
pub async fn confirm(app: &TestApp, code_url: &str) -> reqwest::Response {
    let token = token_of(code_url);
    app.client.post(app.url(&format!("/sandbox/wechatpay/pay/{token}/confirm"))).send().await.unwrap()
}

pub async fn payments_received(app: &TestApp, out_trade_no: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("payment_received"))
        .filter(audit_event::Column::Subject.eq(out_trade_no))
        .count(&app.state.db)
        .await
        .unwrap()
}

pub async fn wait_paid(b: &mut Browser<'_>, id: &str) -> PaymentOrder {
    for _ in 0..80 {
        let (s, v) = b.send::<endpoint::PaymentStatus>(&[id], &()).await;
        if s == StatusCode::OK {
            let order: PaymentOrder = decode(&v);
            if order.status == PaymentStatus::Paid {
                return order;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the payment of {id} was not notified");
}

/// Pays a request's QR order with WeChat Pay on the sandbox page and waits for the
/// notification: the order.
pub async fn pay(app: &TestApp, b: &mut Browser<'_>, id: &str) -> PaymentOrder {
    let body = PaymentRequest { way: Some(PayWay::Wechat) };
    let (s, order) = b.send::<endpoint::OrderPayment>(&[id], &body).await;
    assert_eq!(s, StatusCode::OK, "{order}");
    let order: PaymentOrder = decode(&order);
    let done = confirm(app, &order.code_url).await;
    assert_eq!(done.status(), StatusCode::OK);
    wait_paid(b, id).await
}

/// The provider's notification of a paid order, delivered again.
pub async fn replay_notification(app: &TestApp, order: &PaymentOrder) {
    let token = token_of(&order.code_url);
    let trade = sandbox(app).trade(&token).await.unwrap();
    let delivery = sandbox(app).notification(&trade).await.unwrap();
    let (s, _) = post_notification(app, &delivery).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

/// A 发票申请 as a unit fills it in.
pub fn invoice() -> InvoiceRequest {
    InvoiceRequest {
        title: OrgName::parse("天津市滨海数字认证有限公司").unwrap(),
        tax_number: CreditCode::parse("91350100M000100Y43").unwrap(),
        address: "天津市和平区1号".into(),
        bank: "中国银行天津分行".into(),
        phone: "022-12345678".into(),
        bank_account: "1234567890".into(),
        email: Email::parse("finance@example.com").unwrap(),
    }
}
