//! ⑥ 扫码缴费 with WeChat Pay: our production client (`payment::wechat`) talks API v3 over
//! HTTP to the WeChat Pay sandbox (`/sandbox/wechatpay`), which checks each request's
//! signature, answers signed, and on its pay page pays and POSTs the notification to our
//! notify URL. A notification is recorded exactly once; forged, tampered, stale and
//! wrong-amount ones change nothing; a merchant key the provider does not know, a provider
//! error code and a provider that never answers each fail with a clear code, nothing recorded.

use certdesk::Config;
use certdesk::entity::{audit_event, payment_order, sandbox_trade};
use certdesk::payment::wechat_sandbox::{APPID, Credentials, MCHID};
use certdesk::payment::{NewOrder, PayError};
use certdesk_shared::ErrorCode;
use certdesk_shared::admin::{StaffRole, TransferQuery};
use certdesk_shared::apply::CertificateInfo;
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::payment::{
    BankTransfer, PayWay, PaymentOrder, PaymentRequest, PaymentStatus, PaymentWays, Statement,
};
use certdesk_shared::request::{RequestStatus, RequestView};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::helpers::browser::{Browser, api_error, decode, first_field, staff_browser, to_json};
use crate::helpers::issuing::{approve, choose, complete_draft, org_info};
use crate::helpers::payment::{confirm, payments_received, post_notification, sandbox, token_of, wait_paid};
use crate::helpers::{SCHEDULING_SLACK, TestApp, silent_server, spawn_app, spawn_app_with};

/// A transaction as WeChat Pay would notify it.
fn transaction(out_trade_no: &str, amount: i64) -> Value {
    json!({ "appid": APPID, "mchid": MCHID, "out_trade_no": out_trade_no, "transaction_id": "4200000000000000001",
            "trade_type": "NATIVE", "trade_state": "SUCCESS", "amount": { "total": amount, "currency": "CNY" } })
}

/// `POST /api/applications/{id}/payment`'s body for `way`.
fn pay_with(way: PayWay) -> PaymentRequest {
    PaymentRequest { way: Some(way) }
}

/// An error answer's code.
fn code_of(v: &Value) -> ErrorCode {
    api_error(v).code
}

async fn orders_of(app: &TestApp, id: &str) -> u64 {
    payment_order::Entity::find().filter(payment_order::Column::RequestId.eq(id)).count(&app.state.db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_pay_on_the_sandbox_page_and_the_wizard_moves_on() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    // The ways offered: WeChat Pay and Alipay (their sandboxes, in development); with two, the
    // customer must say which.
    let ways = b.ok::<endpoint::PaymentWays>(&[], &()).await;
    assert_eq!(ways, PaymentWays { ways: vec![PayWay::Wechat, PayWay::Alipay] });
    // Without saying which (the field left out).
    let (s, refused) = b.send_json::<endpoint::OrderPayment>(&[&id], json!({})).await;
    assert_eq!(
        (s, first_field(&refused).map(|f| f.0).as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("way")),
        "{refused}"
    );
    let (s, order) = b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await;
    assert_eq!(s, StatusCode::OK, "{order}");
    let order: PaymentOrder = decode(&order);
    assert_eq!((order.status, order.amount_fen, order.way), (PaymentStatus::NotPaid, 30000, Some(PayWay::Wechat)));
    assert!(order.qr_svg.contains("<svg"));
    let code_url = order.code_url.as_str();
    assert!(code_url.contains("/sandbox/wechatpay/pay/"), "{code_url}");
    // Made at the sandbox over HTTP, with our notify URL.
    let trade = sandbox(&app).trade(&token_of(code_url)).await.unwrap();
    assert_eq!(trade.notify_url, Some(format!("http://{}/api/payments/wechat/notify", app.addr)));
    // Asking again shows the same QR code.
    let (_, again) = b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await;
    assert_eq!(decode::<PaymentOrder>(&again).out_trade_no, order.out_trade_no);

    let token = token_of(code_url);
    let page =
        app.client.get(app.url(&format!("/sandbox/wechatpay/pay/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("确认支付") && page.contains("¥300"), "{page}");
    let done = confirm(&app, code_url).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("支付成功"));

    // The sandbox POSTs the notification to our notify URL; the wizard's poll sees it.
    let paid = wait_paid(&mut b, &id).await;
    assert!(paid.paid_at.is_some());
    let out_trade_no = order.out_trade_no.as_str();
    // The audit row commits with the status change: once paid shows, it is there.
    assert_eq!(payments_received(&app, out_trade_no).await, 1);
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).status, RequestStatus::Submitted, "{v}");

    // The provider retries, or someone replays the notification: it pays once.
    let trade = sandbox(&app).trade(&token).await.unwrap();
    let delivery = sandbox(&app).notification(&trade).await.unwrap();
    for _ in 0..2 {
        assert_eq!(post_notification(&app, &delivery).await.0, StatusCode::NO_CONTENT);
    }
    assert_eq!(payments_received(&app, out_trade_no).await, 1);
}

#[tokio::test]
async fn forged_tampered_stale_and_wrong_amount_notifications_change_nothing() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (_, order) = b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await;
    let out_trade_no = decode::<PaymentOrder>(&order).out_trade_no;
    let sandbox = sandbox(&app);
    let good = sandbox.sign_notification(&transaction(&out_trade_no, 30000)).await.unwrap();

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
    let cheap = sandbox.sign_notification(&transaction(&out_trade_no, 1)).await.unwrap();
    let (s, v) = post_notification(&app, &cheap).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("FAIL")));
    let unknown = sandbox.sign_notification(&transaction("CD0000", 30000)).await.unwrap();
    assert_eq!(post_notification(&app, &unknown).await.0, StatusCode::BAD_REQUEST);
    // Signed, but another merchant's transaction.
    let mut other = transaction(&out_trade_no, 30000);
    other["mchid"] = "1230000109".into();
    let other = sandbox.sign_notification(&other).await.unwrap();
    assert_eq!(post_notification(&app, &other).await.0, StatusCode::UNAUTHORIZED);

    let o = payment_order::Entity::find_by_id(out_trade_no.clone()).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(o.status, "not_paid");
    assert_eq!(payments_received(&app, &out_trade_no).await, 0);
    let mismatches = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("payment_mismatch"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(mismatches, 1);
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!((s, code_of(&v)), (StatusCode::PAYMENT_REQUIRED, ErrorCode::PaymentRequired));

    // The genuine one is accepted.
    assert_eq!(post_notification(&app, &good).await.0, StatusCode::NO_CONTENT);
    assert_eq!(payments_received(&app, &out_trade_no).await, 1);

    // WeChat Pay vouches only for its own orders: an Alipay order is not paid by a
    // notification WeChat Pay signed for its number.
    let (mut c, other_id, _) = complete_draft(&app, &mut admin, false).await;
    let (_, order) = c.send::<endpoint::OrderPayment>(&[&other_id], &pay_with(PayWay::Alipay)).await;
    let alipay_no = decode::<PaymentOrder>(&order).out_trade_no;
    let crossed = sandbox.sign_notification(&transaction(&alipay_no, 30000)).await.unwrap();
    assert_eq!(post_notification(&app, &crossed).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(payments_received(&app, &alipay_no).await, 0);
}

#[tokio::test]
async fn expired_and_cancelled_orders() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (_, first) = b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await;
    let first: PaymentOrder = decode(&first);
    let first_no = first.out_trade_no.clone();

    // Two hours later: expired at both ends.
    let o = payment_order::Entity::find_by_id(first_no.clone()).one(&app.state.db).await.unwrap().unwrap();
    let mut a: payment_order::ActiveModel = o.into();
    a.expires_at = Set(Utc::now() - Duration::seconds(1));
    a.update(&app.state.db).await.unwrap();
    let token = token_of(&first.code_url);
    let t = sandbox_trade::Entity::find_by_id(token.clone()).one(&app.state.db).await.unwrap().unwrap();
    let mut a: sandbox_trade::ActiveModel = t.into();
    a.expires_at = Set(Utc::now() - Duration::seconds(1));
    a.update(&app.state.db).await.unwrap();
    let v = b.ok::<endpoint::PaymentStatus>(&[&id], &()).await;
    assert_eq!(v.status, PaymentStatus::Expired);
    let page =
        app.client.get(app.url(&format!("/sandbox/wechatpay/pay/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("订单已过期"));
    assert_eq!(confirm(&app, &first.code_url).await.status(), StatusCode::CONFLICT);

    // A new QR code, then the user cancels it: the pay page refuses it.
    let (_, second) = b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await;
    let second: PaymentOrder = decode(&second);
    assert_ne!(second.out_trade_no, first.out_trade_no);
    assert_eq!(second.status, PaymentStatus::NotPaid);
    let (s, _) = b.send::<endpoint::CancelPayment>(&[&id], &()).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let v = b.ok::<endpoint::PaymentStatus>(&[&id], &()).await;
    assert_eq!(v.status, PaymentStatus::Closed);
    assert_eq!(confirm(&app, &second.code_url).await.status(), StatusCode::CONFLICT);

    // Someone else's application has no payment for them.
    let mut stranger = Browser::new(&app);
    let (s, _) = stranger.send_json::<endpoint::OrderPayment>(&[&id], json!({})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

async fn put_voucher(app: &TestApp, b: &Browser<'_>, id: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let res = app
        .client
        .put(app.url(&endpoint::UploadTransferVoucher::path(&[id])))
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
    let (s, v) = b.send::<endpoint::GetBankTransfer>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let before: BankTransfer = decode(&v);
    assert_eq!((before.amount_fen, before.out_trade_no.is_none(), before.status.is_none()), (30000, true, true), "{v}");
    assert!(!before.account_no.is_empty());
    let (s, v) = put_voucher(&app, &b, &id, b"MZ\x90\x00 not a picture").await;
    assert_eq!((s, first_field(&v).map(|f| f.0).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("voucher")));
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR voucher";
    let (s, v) = put_voucher(&app, &b, &id, png).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let sent: BankTransfer = decode(&v);
    assert_eq!((sent.status, sent.amount_fen), (Some(PaymentStatus::NotPaid), 30000), "{v}");
    let no = sent.out_trade_no.clone().expect("an order for the transfer");
    let again = b.ok::<endpoint::GetBankTransfer>(&[&id], &()).await;
    assert_eq!((again.out_trade_no.as_deref(), again.status), (Some(no.as_str()), Some(PaymentStatus::NotPaid)));
    assert_eq!(again.voucher_name, sent.voucher_name);
    assert!(again.voucher_name.as_deref().is_some_and(|n| !n.is_empty()), "{again:?}");
    let (s, _) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::PAYMENT_REQUIRED);

    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    assert_eq!(
        reviewer.send::<endpoint::PendingTransfers>(&[], &TransferQuery::default()).await.0,
        StatusCode::FORBIDDEN
    );
    let pending = finance.ok::<endpoint::PendingTransfers>(&[], &TransferQuery::default()).await;
    assert!(pending.items.iter().any(|t| t.out_trade_no == no && t.application_id == id), "{pending:?}");
    let voucher = finance.fetch::<endpoint::TransferVoucher>(&[&no], &()).await;
    assert_eq!(voucher.headers()["content-type"], "image/png");
    assert_eq!(voucher.bytes().await.unwrap().as_ref(), png);
    assert_eq!(finance.send::<endpoint::ConfirmTransfer>(&[&no], &()).await.0, StatusCode::NO_CONTENT);
    assert_eq!(finance.send::<endpoint::ConfirmTransfer>(&[&no], &()).await.0, StatusCode::CONFLICT);
    let paid = b.ok::<endpoint::GetBankTransfer>(&[&id], &()).await;
    assert_eq!(paid.status, Some(PaymentStatus::Paid));
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).status, RequestStatus::Submitted, "{v}");
}

#[tokio::test]
async fn settlement_applications_appear_on_the_monthly_statement() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut finance, _) = staff_browser(&app, StaffRole::Finance).await;
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, true).await;
    let (_, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");
    admin.send::<endpoint::Review>(&[&id], &approve()).await;
    let month = (Utc::now() + Duration::hours(8)).format("%Y-%m").to_string();
    let (s, st) = finance.send::<endpoint::Statement>(&[&month], &()).await;
    assert_eq!(s, StatusCode::OK, "{st}");
    let st: Statement = decode(&st);
    let line = st.lines.iter().find(|l| l.acceptance_no == acceptance).unwrap();
    assert_eq!((line.amount_fen, line.mobile.as_str()), (30000, mobile.as_str()));
    assert_eq!(line.certificate_type, "机构证书");
    assert_eq!(st.total_fen, 30000);
    let empty = finance.ok::<endpoint::Statement>(&["2020-01"], &()).await;
    assert!(empty.lines.is_empty(), "{empty:?}");
    assert_eq!(finance.send::<endpoint::Statement>(&["not-a-month"], &()).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_open_code_at_a_time_and_what_was_paid_for_stays_chosen() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (b, id, _) = complete_draft(&app, &mut admin, false).await;
    // Four requests at once (two tabs, a double click): one order, the same QR code.
    let mut handles = Vec::new();
    for _ in 0..4 {
        let (client, url) = (app.client.clone(), app.url(&endpoint::OrderPayment::path(&[&id])));
        let (cookie, csrf) = (b.cookie.clone().unwrap(), b.csrf.clone().unwrap());
        handles.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .json(&pay_with(PayWay::Wechat))
                .send()
                .await
                .unwrap();
            let v: Value = res.json().await.unwrap();
            decode::<PaymentOrder>(&v).out_trade_no
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
    let order = b.ok::<endpoint::PaymentStatus>(&[&id], &()).await;
    confirm(&app, &order.code_url).await;
    wait_paid(&mut b, &id).await;
    let mut three_years = CertificateInfo { validity_id: "org-3y".into(), email: None, ..org_info() };
    let (s, v) = b.send::<endpoint::SaveCertificateInfo>(&[&id], &three_years).await;
    assert_eq!((s, first_field(&v).map(|f| f.0).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("validity_id")));
    let (s, _) = b.send::<endpoint::ChooseType>(&[&id], &choose("legal", "ukey")).await;
    assert_eq!(s, StatusCode::CONFLICT);
    three_years.validity_id = "org-1y".into();
    assert_eq!(b.send::<endpoint::SaveCertificateInfo>(&[&id], &three_years).await.0, StatusCode::OK);
    // A voucher on top of a payment is refused.
    assert_eq!(put_voucher(&app, &b, &id, b"\x89PNG\r\n\x1a\n....").await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_transfer_closes_the_open_qr_code_at_the_provider() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (_, order) = b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await;
    let order: PaymentOrder = decode(&order);
    let (s, _) = put_voucher(&app, &b, &id, b"\x89PNG\r\n\x1a\n....").await;
    assert_eq!(s, StatusCode::OK);
    // The QR code can no longer be paid, and no new one is made on top of the transfer.
    assert_eq!(confirm(&app, &order.code_url).await.status(), StatusCode::CONFLICT);
    assert_eq!(b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await.0, StatusCode::CONFLICT);
    assert_eq!(b.send::<endpoint::CancelPayment>(&[&id], &()).await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn without_the_sandbox_there_is_no_free_pay_page() {
    let app = spawn_app_with(|c| c.payment_sandbox = false).await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    assert_eq!(b.ok::<endpoint::PaymentWays>(&[], &()).await, PaymentWays { ways: vec![] });
    // Without a way (the field left out), and with one.
    for body in [json!({}), to_json(pay_with(PayWay::Wechat))] {
        let (s, v) = b.send_json::<endpoint::OrderPayment>(&[&id], body).await;
        assert_eq!((s, code_of(&v)), (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable));
    }
    assert!(app.state.wechat_sandbox.is_none());
    for path in ["/sandbox/wechatpay/pay/anything", "/sandbox/wechatpay/v3/pay/transactions/out-trade-no/CD1?mchid=1"] {
        assert_eq!(app.client.get(app.url(path)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{path}");
    }
    let notify = app.client.post(app.url("/api/payments/wechat/notify")).body("{}").send().await.unwrap();
    assert_eq!(notify.status(), StatusCode::NOT_FOUND);
    // Bank transfer still works.
    assert_eq!(put_voucher(&app, &b, &id, b"\x89PNG\r\n\x1a\n....").await.0, StatusCode::OK);
}

/// A server configured as a real merchant is (`CERTDESK_WECHATPAY_*` and their files), whose
/// WeChat Pay is at `base_url`.
async fn merchant_server(
    base_url: String,
    c: &Credentials,
    merchant_key_pem: &str,
    change: impl FnOnce(&mut Config),
) -> TestApp {
    let (dir, mut config) = crate::helpers::test_config().await;
    let files = dir.path().join("wechatpay");
    std::fs::create_dir_all(&files).unwrap();
    let write = |name: &str, text: &str| {
        let path = files.join(name);
        std::fs::write(&path, text).unwrap();
        Some(path)
    };
    config.payment_sandbox = false;
    config.wechatpay_mchid = Some(c.mchid.clone());
    config.wechatpay_appid = Some(c.appid.clone());
    config.wechatpay_merchant_serial = Some(c.merchant_serial.clone());
    config.wechatpay_merchant_key_file = write("apiclient_key.pem", merchant_key_pem);
    config.wechatpay_platform_public_key_file = write("pub_key.pem", &c.platform_public_key_pem);
    config.wechatpay_platform_public_key_id = Some(c.platform_key_id.clone());
    config.wechatpay_apiv3_key_file = write("apiv3.key", &c.api_v3_key);
    config.wechatpay_base_url = base_url;
    change(&mut config);
    crate::helpers::start(dir, config).await
}

fn new_rsa_pem() -> String {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_configured_from_files_pays_and_a_key_the_provider_does_not_know_is_refused() {
    // One server plays WeChat Pay (its sandbox); the others are merchants configured with files.
    let wechat = spawn_app().await;
    let c = sandbox(&wechat).credentials().await.unwrap();
    let base = wechat.url("/sandbox/wechatpay");

    let shop = merchant_server(base.clone(), &c, &c.merchant_key_pem, |_| {}).await;
    assert!(shop.state.wechat_sandbox.is_none());
    let (mut admin, _) = staff_browser(&shop, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&shop, &mut admin, false).await;
    let (s, order) = b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await;
    assert_eq!(s, StatusCode::OK, "{order}");
    let order: PaymentOrder = decode(&order);
    // The signed order was accepted by the provider, with the shop's notify URL.
    let trade = sandbox(&wechat).trade(&token_of(&order.code_url)).await.unwrap();
    assert_eq!(trade.notify_url, Some(format!("http://{}/api/payments/wechat/notify", shop.addr)));
    assert_eq!(confirm(&wechat, &order.code_url).await.status(), StatusCode::OK);
    wait_paid(&mut b, &id).await;
    assert_eq!(payments_received(&shop, &order.out_trade_no).await, 1);

    // A merchant key the provider does not know: SIGN_ERROR, told as such, nothing recorded.
    let rogue = merchant_server(base, &c, &new_rsa_pem(), |_| {}).await;
    let client = certdesk::payment::wechat::WechatPay::from_config(&rogue.state.config, None).await.unwrap().unwrap();
    let order_of = NewOrder {
        out_trade_no: "CDROGUE000001".into(),
        amount_fen: 100,
        description: "CertDesk 测试".into(),
        expires_at: Utc::now() + Duration::hours(2),
    };
    use certdesk::payment::PaymentProvider;
    match client.precreate(&order_of).await {
        Err(PayError::Credentials { code, .. }) => assert_eq!(code, "SIGN_ERROR"),
        other => panic!("expected SIGN_ERROR, got {:?}", other.map_err(|e| e.to_string())),
    }
    let (mut admin, _) = staff_browser(&rogue, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&rogue, &mut admin, false).await;
    let (s, v) = b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::BAD_GATEWAY, ErrorCode::PaymentRefused), "{v}");
    assert_eq!(orders_of(&rogue, &id).await, 0);
    assert_eq!(sandbox_trade::Entity::find().count(&wechat.state.db).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_error_codes_become_ours() {
    let app = spawn_app().await;
    let wechat = app.state.payments.get(PayWay::Wechat).unwrap();
    let order = |no: &str, amount: i64| NewOrder {
        out_trade_no: no.into(),
        amount_fen: amount,
        description: "CertDesk 测试".into(),
        expires_at: Utc::now() + Duration::hours(2),
    };
    let code_url = wechat.precreate(&order("CDTEST000001", 100)).await.unwrap();
    // The same order again answers the same code; another order under its number is refused.
    assert_eq!(wechat.precreate(&order("CDTEST000001", 100)).await.unwrap(), code_url);
    assert!(matches!(wechat.precreate(&order("CDTEST000001", 200)).await, Err(PayError::OrderNoUsed)));
    match wechat.precreate(&order("CDTEST000002", 0)).await {
        Err(e @ PayError::InvalidRequest { .. }) => {
            assert!(e.to_string().contains("PARAM_ERROR"), "{e}");
            assert_eq!(e.code(), certdesk_shared::ErrorCode::PaymentRefused);
        }
        other => panic!("expected PARAM_ERROR, got {:?}", other.map_err(|e| e.to_string())),
    }
    assert!(matches!(wechat.query("CDNOSUCH0001").await, Err(PayError::OrderNotFound)));
    assert_eq!(wechat.query("CDTEST000001").await.unwrap().trade_state, "NOTPAY");

    // Paid: it can no longer be closed (ORDERPAID), and the query says so.
    assert_eq!(confirm(&app, &code_url).await.status(), StatusCode::OK);
    assert!(matches!(wechat.close("CDTEST000001").await, Err(PayError::OrderPaid)));
    let r = wechat.query("CDTEST000001").await.unwrap();
    assert_eq!((r.trade_state.as_str(), r.amount_fen, r.transaction_id.is_some()), ("SUCCESS", 100, true));

    // Closed: closed again is fine; ordered again under its number, ORDER_CLOSED.
    wechat.precreate(&order("CDTEST000003", 100)).await.unwrap();
    wechat.close("CDTEST000003").await.unwrap();
    wechat.close("CDTEST000003").await.unwrap();
    assert_eq!(wechat.query("CDTEST000003").await.unwrap().trade_state, "CLOSED");
    assert!(matches!(wechat.precreate(&order("CDTEST000003", 100)).await, Err(PayError::OrderClosed)));

    // Unsigned: 401 SIGN_ERROR in WeChat Pay's body, the answer itself signed.
    let res = app
        .client
        .post(app.url("/sandbox/wechatpay/v3/pay/transactions/native"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key("wechatpay-signature") && res.headers().contains_key("wechatpay-serial"));
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["code"], "SIGN_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_never_answers_fails_the_order_in_time() {
    // Accepts connections and never answers.
    let (silent, accepted) = silent_server().await;
    let platform = {
        use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&new_rsa_pem()).unwrap();
        key.to_public_key().to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap()
    };
    let c = Credentials {
        mchid: MCHID.into(),
        appid: APPID.into(),
        merchant_serial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into(),
        merchant_key_pem: new_rsa_pem(),
        platform_public_key_pem: platform,
        platform_key_id: "PUB_KEY_ID_0114232134912410000000000000000000".into(),
        api_v3_key: "0123456789abcdef0123456789abcdef".into(),
    };
    let shop = merchant_server(format!("http://{silent}"), &c, &c.merchant_key_pem, |config| {
        config.payment_timeout_ms = 1500;
    })
    .await;
    let (mut admin, _) = staff_browser(&shop, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&shop, &mut admin, false).await;
    let started = std::time::Instant::now();
    let (s, v) = b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await;
    let took = started.elapsed();
    assert_eq!((s, code_of(&v)), (StatusCode::GATEWAY_TIMEOUT, ErrorCode::PaymentTimeout), "{v}");
    assert!(
        took >= std::time::Duration::from_millis(1400)
            && took < std::time::Duration::from_millis(1500) + SCHEDULING_SLACK,
        "{took:?}"
    );
    assert_eq!(orders_of(&shop, &id).await, 0);
    // Asked once: an order that may have been created is not created again.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    let (s, _) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::PAYMENT_REQUIRED);
}

/// A notification that never arrives (the server that should have taken it was down): the
/// timer's round asks WeChat Pay about the open order and records the payment once, however
/// many servers ask; an order not yet paid stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_whose_notification_was_lost_is_recorded_by_the_reconciliation_round() {
    // Notifications go to a port where nothing listens.
    let app = spawn_app_with(|c: &mut Config| c.callback_url = Some("http://127.0.0.1:9".into())).await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (s, order) = b.send::<endpoint::OrderPayment>(&[&id], &pay_with(PayWay::Wechat)).await;
    assert_eq!(s, StatusCode::OK, "{order}");
    let order: PaymentOrder = decode(&order);
    let out_trade_no = order.out_trade_no.clone();
    // A second customer's order, shown but not paid.
    let (mut b2, id2, _) = complete_draft(&app, &mut admin, false).await;
    let (s, unpaid) = b2.send::<endpoint::OrderPayment>(&[&id2], &pay_with(PayWay::Wechat)).await;
    assert_eq!(s, StatusCode::OK, "{unpaid}");
    assert_eq!(confirm(&app, &order.code_url).await.status(), StatusCode::OK);
    let status = || async {
        payment_order::Entity::find_by_id(out_trade_no.clone()).one(&app.state.db).await.unwrap().unwrap().status
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(status().await, "not_paid", "the notification was lost");

    let reconcile = |at| {
        let app = &app;
        async move {
            certdesk::domain::payment::reconcile_open_orders(
                &app.state.db,
                &app.state.payments,
                &app.state.audit_key,
                at,
            )
            .await
            .unwrap()
        }
    };
    // Within the grace the notification may still come: nothing is asked.
    assert_eq!(reconcile(Utc::now()).await, 0);
    assert_eq!(status().await, "not_paid");
    // After it, two servers' rounds at once: the payment is recorded once.
    let later = Utc::now() + Duration::seconds(31);
    let (first, second) = tokio::join!(reconcile(later), reconcile(later));
    assert_eq!(first + second, 1);
    assert_eq!(status().await, "paid");
    let unpaid_no = decode::<PaymentOrder>(&unpaid).out_trade_no;
    let still = payment_order::Entity::find_by_id(unpaid_no).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(still.status, "not_paid");
    assert_eq!(payments_received(&app, &out_trade_no).await, 1);
    // A later round finds nothing open, and the customer's wizard sees it paid.
    assert_eq!(reconcile(later + Duration::seconds(20)).await, 0);
    let v = b.ok::<endpoint::PaymentStatus>(&[&id], &()).await;
    assert_eq!(v.status, PaymentStatus::Paid, "{v:?}");
}
