//! The Alipay sandbox: a server speaking the open platform's gateway protocol under
//! `/sandbox/alipay/…`, so that the real client ([`super::alipay::Alipay`]) is what the tests and
//! a staging server run. Served only on a development or staging server with the payment
//! sandbox on.
//!
//! - `POST /sandbox/alipay/gateway.do`: checks the common parameters and the app's RSA2
//!   signature (with the app public key it knows) and answers `alipay.trade.precreate`, `.query`
//!   and `.close` in Alipay's JSON, signed with its own key; refusals carry Alipay's codes
//!   (40001/40002 `isv.*` from the gateway, unsigned; 40004 `ACQ.*` from the trade, signed).
//! - As at Alipay, a precreated trade exists only once the buyer scans: before that a query
//!   answers `ACQ.TRADE_NOT_EXIST`, and a close answers the same while still stopping the code.
//! - `GET /sandbox/alipay/pay/{token}` is the page the phone opens after scanning the
//!   `qr_code`; 确认支付 pays, and the sandbox then POSTs the signed notification form to the
//!   order's `notify_url`, again until the answer is `success`.
//!
//! Its trades are rows of `alipay_sandbox_trade`, its keys (the app's key pair, Alipay's key
//! pair) rows of `sandbox_secret`: every server on one database is one sandbox.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::{SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, SqlErr};
use serde_json::{Value, json};
use sha2::Sha256;

use super::Notification;
use super::alipay::{alipay_time, fen, parse_alipay_time, rsa2_sign, rsa2_verify, sign_content, yuan};
use crate::entity::alipay_sandbox_trade as trade;
use crate::payment::escape;
use crate::state::AppState;

/// The sandbox app's APPID (the open platform's sandbox apps start with 9021).
pub const APP_ID: &str = "9021000140600000";
/// The sandbox seller (合作伙伴身份 PID).
const SELLER_ID: &str = "2088721000000000";
pub const GATEWAY_PATH: &str = "/sandbox/alipay/gateway.do";
const PAY_PATH: &str = "/sandbox/alipay/pay/";
/// The largest `total_amount` Alipay takes: 100 000 000.00 yuan.
const MAX_FEN: i64 = 10_000_000_000;

const WAIT: &str = "WAIT_BUYER_PAY";
const SUCCESS: &str = "TRADE_SUCCESS";
const CLOSED: &str = "TRADE_CLOSED";

/// The sandbox's two key pairs. No `Debug`: they are private keys.
pub struct Keys {
    /// The app's key pair: its private half is what the merchant signs with.
    pub app: RsaPrivateKey,
    /// Alipay's key pair: answers and notifications are signed with it.
    pub alipay: RsaPrivateKey,
}

/// The keys, made once per database (the first server to store one wins).
pub async fn keys(db: &DatabaseConnection) -> anyhow::Result<Keys> {
    let app = secret(db, "alipay_app_key").await?;
    let alipay = secret(db, "alipay_platform_key").await?;
    Ok(Keys {
        app: RsaPrivateKey::from_pkcs8_pem(&app).context("the sandbox's app key")?,
        alipay: RsaPrivateKey::from_pkcs8_pem(&alipay).context("the sandbox's Alipay key")?,
    })
}

/// A stored RSA-2048 key (PKCS#8 PEM), made the first time.
async fn secret(db: &DatabaseConnection, name: &str) -> anyhow::Result<String> {
    crate::domain::sandbox_secret::get_or_make(db, name, || {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
        Ok(key.to_pkcs8_pem(LineEnding::LF)?.to_string())
    })
    .await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(GATEWAY_PATH, post(gateway))
        .route("/sandbox/alipay/pay/{token}", get(pay_page))
        .route("/sandbox/alipay/pay/{token}/confirm", post(confirm))
}

fn enabled(state: &AppState) -> bool {
    state.config.payment_sandbox && state.config.sandbox_allowed()
}

/// An answer of the gateway: under which key, the object, and whether Alipay signs it.
pub struct Answer {
    pub key: String,
    pub body: Value,
    pub signed: bool,
}

impl Answer {
    fn success(key: &str, mut fields: Value) -> Answer {
        fields["code"] = json!("10000");
        fields["msg"] = json!("Success");
        Answer { key: key.to_owned(), body: fields, signed: true }
    }

    /// The gateway's own refusal (unsigned): 40001 missing, 40002 invalid.
    fn gateway(key: &str, code: &str, sub_code: &str, sub_msg: &str) -> Answer {
        let msg = if code == "40001" { "Missing Required Arguments" } else { "Invalid Arguments" };
        Answer {
            key: key.to_owned(),
            body: json!({ "code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg }),
            signed: false,
        }
    }

    /// The trade's refusal (signed): 40004 Business Failed.
    fn business(key: &str, sub_code: &str, sub_msg: &str) -> Answer {
        Answer {
            key: key.to_owned(),
            body: json!({ "code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg }),
            signed: true,
        }
    }

    fn unavailable(key: &str) -> Answer {
        Answer {
            key: key.to_owned(),
            body: json!({ "code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.unknow-error", "sub_msg": "系统繁忙" }),
            signed: true,
        }
    }
}

async fn gateway(State(state): State<AppState>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    if !enabled(&state) {
        return StatusCode::NOT_FOUND.into_response();
    }
    // Like Alipay, the common parameters may come in the URL and the rest in the form.
    let mut params = BTreeMap::new();
    let query = query.unwrap_or_default();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()).chain(url::form_urlencoded::parse(&body)) {
        params.insert(k.into_owned(), v.into_owned());
    }
    let answer = match keys(&state.db).await {
        Ok(keys) => answer(&state.db, &state.config.public_url, &keys, &params, Utc::now()).await,
        Err(e) => {
            tracing::error!(error = %e, "Alipay sandbox: no keys");
            Answer::unavailable("error_response")
        }
    };
    match render(&state.db, &answer).await {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json;charset=utf-8")], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "Alipay sandbox: cannot sign its answer");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The answer's text: `{"<key>":{…},"sign":"…"}`, the signature over the object's text.
async fn render(db: &DatabaseConnection, a: &Answer) -> anyhow::Result<String> {
    let object = a.body.to_string();
    let key = serde_json::to_string(&a.key)?;
    if !a.signed {
        return Ok(format!("{{{key}:{object}}}"));
    }
    let signer = SigningKey::<Sha256>::new(keys(db).await?.alipay);
    let sign = serde_json::to_string(&rsa2_sign(&signer, &object))?;
    Ok(format!("{{{key}:{object},\"sign\":{sign}}}"))
}

/// What the gateway answers to a call: the common parameters and the signature first, then
/// the method.
pub async fn answer(
    db: &DatabaseConnection,
    public_url: &str,
    keys: &Keys,
    p: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Answer {
    let get = |name: &str| p.get(name).map(String::as_str).unwrap_or("");
    let method = get("method");
    if method.is_empty() {
        return Answer::gateway("error_response", "40001", "isv.missing-method", "缺少方法名参数");
    }
    if !["alipay.trade.precreate", "alipay.trade.query", "alipay.trade.close"].contains(&method) {
        return Answer::gateway("error_response", "40002", "isv.invalid-method", "不存在的方法名");
    }
    let key = format!("{}_response", method.replace('.', "_"));
    let missing = |sub_code: &str, sub_msg: &str| Answer::gateway(&key, "40001", sub_code, sub_msg);
    let invalid = |sub_code: &str, sub_msg: &str| Answer::gateway(&key, "40002", sub_code, sub_msg);
    if get("app_id").is_empty() {
        return missing("isv.missing-app-id", "缺少appId参数");
    }
    if get("app_id") != APP_ID {
        return invalid("isv.invalid-app-id", "无效的AppID参数");
    }
    if get("sign").is_empty() {
        return missing("isv.missing-signature", "缺少签名参数");
    }
    if get("sign_type").is_empty() {
        return missing("isv.missing-signature-type", "缺少签名类型参数");
    }
    if get("sign_type") != "RSA2" {
        return invalid("isv.invalid-signature-type", "无效的签名类型参数");
    }
    if get("timestamp").is_empty() {
        return missing("isv.missing-timestamp", "缺少时间戳参数");
    }
    match parse_alipay_time(get("timestamp")) {
        Some(t) if (now - t).num_minutes().abs() <= 10 => {}
        _ => return invalid("isv.invalid-timestamp", "非法的时间戳参数"),
    }
    if get("version").is_empty() {
        return missing("isv.missing-version", "缺少版本参数");
    }
    if !get("format").is_empty() && !get("format").eq_ignore_ascii_case("json") {
        return invalid("isv.invalid-format", "无效的数据格式参数");
    }
    if !get("charset").eq_ignore_ascii_case("utf-8") {
        return invalid("isv.invalid-charset", "字符集错误");
    }
    let content = sign_content(p.iter().map(|(k, v)| (k.as_str(), v.as_str())), &["sign"]);
    let app_public = VerifyingKey::<Sha256>::new(keys.app.to_public_key());
    if !rsa2_verify(&app_public, content.as_bytes(), get("sign")) {
        return invalid("isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配");
    }
    let Ok(biz) = serde_json::from_str::<Value>(get("biz_content")) else {
        return Answer::business(&key, "ACQ.INVALID_PARAMETER", "参数无效");
    };
    let result = match method {
        "alipay.trade.precreate" => precreate(db, public_url, &key, &biz, get("notify_url"), now).await,
        "alipay.trade.query" => query(db, &key, &biz, now).await,
        _ => close(db, &key, &biz, now).await,
    };
    result.unwrap_or_else(|e| {
        tracing::error!(error = %e, "Alipay sandbox failed");
        Answer::business(&key, "ACQ.SYSTEM_ERROR", "系统异常")
    })
}

/// A trade's status now: one left unpaid past its `time_expire` is closed.
fn status(t: &trade::Model, now: DateTime<Utc>) -> &str {
    if t.trade_status == WAIT && t.time_expire <= now { CLOSED } else { &t.trade_status }
}

pub async fn find(db: &DatabaseConnection, out_trade_no: &str) -> Result<Option<trade::Model>, sea_orm::DbErr> {
    trade::Entity::find().filter(trade::Column::OutTradeNo.eq(out_trade_no)).one(db).await
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn precreate(
    db: &DatabaseConnection,
    public_url: &str,
    key: &str,
    biz: &Value,
    notify_url: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Answer> {
    let out_trade_no = biz["out_trade_no"].as_str().unwrap_or("");
    if out_trade_no.is_empty()
        || out_trade_no.len() > 64
        || !out_trade_no.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Ok(Answer::business(key, "ACQ.INVALID_PARAMETER", "参数无效: out_trade_no"));
    }
    let amount = match text(&biz["total_amount"]).as_deref().and_then(fen) {
        Some(a) if a > MAX_FEN => return Ok(Answer::business(key, "ACQ.TOTAL_FEE_EXCEED", "订单金额超过限额")),
        Some(a) if a > 0 => a,
        _ => return Ok(Answer::business(key, "ACQ.INVALID_PARAMETER", "参数无效: total_amount")),
    };
    let subject = biz["subject"].as_str().unwrap_or("");
    if subject.is_empty() || subject.chars().count() > 256 {
        return Ok(Answer::business(key, "ACQ.INVALID_PARAMETER", "参数无效: subject"));
    }
    let time_expire = match (biz["time_expire"].as_str(), biz["timeout_express"].as_str()) {
        (Some(t), _) => parse_alipay_time(t),
        (None, Some(e)) => timeout_express(e).map(|d| now + d),
        (None, None) => Some(now + chrono::Duration::hours(2)),
    };
    let Some(time_expire) = time_expire.filter(|t| *t > now) else {
        return Ok(Answer::business(key, "ACQ.INVALID_PARAMETER", "参数无效: time_expire"));
    };
    let qr_code = |token: &str| format!("{}{PAY_PATH}{token}", public_url.trim_end_matches('/'));
    let existing = |t: trade::Model| {
        // The same trade sent again answers the same code; anything else is refused.
        Ok(match status(&t, now) {
            SUCCESS => Answer::business(key, "ACQ.TRADE_HAS_SUCCESS", "交易已被支付"),
            CLOSED => Answer::business(key, "ACQ.TRADE_HAS_CLOSE", "交易已经关闭"),
            _ if t.amount_fen != amount || t.subject != subject => {
                Answer::business(key, "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
            }
            _ => Answer::success(key, json!({ "out_trade_no": t.out_trade_no, "qr_code": qr_code(&t.token) })),
        })
    };
    if let Some(t) = find(db, out_trade_no).await? {
        return existing(t);
    }
    let token = crate::domain::random_token::<16>()?;
    let insert = trade::Entity::insert(trade::ActiveModel {
        token: Set(token.clone()),
        out_trade_no: Set(out_trade_no.to_owned()),
        trade_no: Set(None),
        amount_fen: Set(amount),
        subject: Set(subject.to_owned()),
        notify_url: Set(notify_url.to_owned()),
        trade_status: Set(WAIT.into()),
        created_at: Set(now),
        time_expire: Set(time_expire),
        scanned_at: Set(None),
        paid_at: Set(None),
        notified_at: Set(None),
    })
    .exec(db)
    .await;
    match insert {
        Ok(_) => Ok(Answer::success(key, json!({ "out_trade_no": out_trade_no, "qr_code": qr_code(&token) }))),
        // The same out_trade_no at the same moment from another call: answered as a repeat.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            existing(find(db, out_trade_no).await?.context("the trade vanished")?)
        }
        Err(e) => Err(e.into()),
    }
}

/// `timeout_express`: `90m`, `2h`, `1d` (and `1c`, the end of the day, taken as a day).
fn timeout_express(e: &str) -> Option<chrono::Duration> {
    let (n, unit) = e.split_at(e.len().checked_sub(1)?);
    let n: i64 = n.parse().ok().filter(|n| (1..=21_600).contains(n))?;
    match unit {
        "m" => Some(chrono::Duration::minutes(n)),
        "h" => Some(chrono::Duration::hours(n)),
        "d" | "c" => Some(chrono::Duration::days(n)),
        _ => None,
    }
}

/// The trade a query or close names, if it exists at Alipay (that is, it was scanned).
async fn named(db: &DatabaseConnection, biz: &Value) -> anyhow::Result<Option<trade::Model>> {
    let by_out = biz["out_trade_no"].as_str().filter(|s| !s.is_empty());
    let by_no = biz["trade_no"].as_str().filter(|s| !s.is_empty());
    Ok(match (by_out, by_no) {
        (Some(o), _) => find(db, o).await?,
        (None, Some(n)) => trade::Entity::find().filter(trade::Column::TradeNo.eq(n)).one(db).await?,
        (None, None) => None,
    })
}

async fn query(db: &DatabaseConnection, key: &str, biz: &Value, now: DateTime<Utc>) -> anyhow::Result<Answer> {
    let t = match named(db, biz).await? {
        Some(t) if t.scanned_at.is_some() => t,
        _ => return Ok(Answer::business(key, "ACQ.TRADE_NOT_EXIST", "交易不存在")),
    };
    let paid = status(&t, now) == SUCCESS;
    let mut fields = json!({
        "trade_no": t.trade_no,
        "out_trade_no": t.out_trade_no,
        "buyer_logon_id": "159******20",
        "trade_status": status(&t, now),
        "total_amount": yuan(t.amount_fen),
    });
    if paid {
        fields["buyer_pay_amount"] = json!(yuan(t.amount_fen));
        fields["receipt_amount"] = json!(yuan(t.amount_fen));
        fields["send_pay_date"] = json!(t.paid_at.map(alipay_time));
    }
    Ok(Answer::success(key, fields))
}

async fn close(db: &DatabaseConnection, key: &str, biz: &Value, now: DateTime<Utc>) -> anyhow::Result<Answer> {
    let Some(t) = named(db, biz).await? else {
        return Ok(Answer::business(key, "ACQ.TRADE_NOT_EXIST", "交易不存在"));
    };
    if status(&t, now) == SUCCESS {
        return Ok(Answer::business(key, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
    }
    crate::domain::exec(
        db,
        "UPDATE alipay_sandbox_trade SET trade_status = 'TRADE_CLOSED' WHERE token = $1 AND trade_status = 'WAIT_BUYER_PAY'",
        vec![t.token.clone().into()],
    )
    .await?;
    // Not scanned yet: the trade does not exist at Alipay, so it says so, but the code is
    // stopped all the same (what merchants see from the real gateway).
    if t.scanned_at.is_none() {
        return Ok(Answer::business(key, "ACQ.TRADE_NOT_EXIST", "交易不存在"));
    }
    Ok(Answer::success(key, json!({ "trade_no": t.trade_no, "out_trade_no": t.out_trade_no })))
}

async fn by_token(db: &DatabaseConnection, token: &str) -> Result<Option<trade::Model>, sea_orm::DbErr> {
    trade::Entity::find_by_id(token.to_owned()).one(db).await
}

/// The buyer scans: the trade now exists at Alipay, with its trade number.
pub async fn scan(db: &DatabaseConnection, token: &str, now: DateTime<Utc>) -> anyhow::Result<Option<trade::Model>> {
    // Alipay's trade numbers: the date, 22001, and 15 digits.
    let n = crate::random::random_below(1_000_000_000_000_000)?;
    let trade_no = format!("{}22001{n:015}", now.format("%Y%m%d"));
    crate::domain::exec(
        db,
        "UPDATE alipay_sandbox_trade SET scanned_at = $2, trade_no = $3 WHERE token = $1 AND scanned_at IS NULL AND trade_status = 'WAIT_BUYER_PAY'",
        vec![token.into(), now.into(), trade_no.into()],
    )
    .await?;
    Ok(by_token(db, token).await?)
}

/// The buyer pays (once): the trade succeeds; `None` when it cannot be paid.
pub async fn pay(db: &DatabaseConnection, token: &str, now: DateTime<Utc>) -> anyhow::Result<Option<trade::Model>> {
    scan(db, token, now).await?;
    crate::domain::exec(
        db,
        "UPDATE alipay_sandbox_trade SET trade_status = 'TRADE_SUCCESS', paid_at = $2 WHERE token = $1 AND trade_status = 'WAIT_BUYER_PAY' AND time_expire > $2",
        vec![token.into(), now.into()],
    )
    .await?;
    Ok(by_token(db, token).await?.filter(|t| t.trade_status == SUCCESS))
}

/// The notification of a paid trade, as Alipay posts it: a form, signed with Alipay's key
/// over the sorted parameters but `sign` and `sign_type`.
pub async fn notification(
    db: &DatabaseConnection,
    t: &trade::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<Notification> {
    let amount = yuan(t.amount_fen);
    let params: Vec<(&str, String)> = vec![
        ("notify_time", alipay_time(now)),
        ("notify_type", "trade_status_sync".into()),
        ("notify_id", crate::domain::random_token::<18>()?),
        ("app_id", APP_ID.into()),
        ("auth_app_id", APP_ID.into()),
        ("charset", "utf-8".into()),
        ("version", "1.0".into()),
        ("trade_no", t.trade_no.clone().unwrap_or_default()),
        ("out_trade_no", t.out_trade_no.clone()),
        ("buyer_id", "2088722000000020".into()),
        ("buyer_logon_id", "159******20".into()),
        ("seller_id", SELLER_ID.into()),
        ("trade_status", t.trade_status.clone()),
        ("total_amount", amount.clone()),
        ("receipt_amount", amount.clone()),
        ("invoice_amount", amount.clone()),
        ("buyer_pay_amount", amount.clone()),
        ("point_amount", "0.00".into()),
        ("subject", t.subject.clone()),
        ("gmt_create", alipay_time(t.scanned_at.unwrap_or(t.created_at))),
        ("gmt_payment", t.paid_at.map(alipay_time).unwrap_or_default()),
        ("fund_bill_list", json!([{ "amount": amount, "fundChannel": "ALIPAYACCOUNT" }]).to_string()),
    ];
    sign_notification(db, &params).await
}

/// Signs any notification with Alipay's key (tests build ones Alipay would never send).
pub async fn sign_notification(db: &DatabaseConnection, params: &[(&str, String)]) -> anyhow::Result<Notification> {
    let signer = SigningKey::<Sha256>::new(keys(db).await?.alipay);
    let content = sign_content(params.iter().map(|(k, v)| (*k, v.as_str())), &["sign", "sign_type"]);
    let sign = rsa2_sign(&signer, &content);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .append_pair("sign_type", "RSA2")
        .append_pair("sign", &sign)
        .finish();
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8".parse()?);
    Ok(Notification { headers, body: body.into_bytes() })
}

/// Posts a paid trade's notification to its `notify_url` until the answer is `success`
/// (after 0, 1, 2, 4, 8, 16 and 32 seconds; Alipay itself goes on for 25 hours).
pub async fn deliver(db: DatabaseConnection, token: String) {
    let Ok(http) = crate::outbound::client(Duration::from_secs(10)) else { return };
    for wait in [0u64, 1, 2, 4, 8, 16, 32] {
        tokio::time::sleep(Duration::from_secs(wait)).await;
        let t = match by_token(&db, &token).await {
            Ok(Some(t)) if t.notified_at.is_none() && !t.notify_url.is_empty() => t,
            _ => return,
        };
        let Ok(n) = notification(&db, &t, Utc::now()).await else { continue };
        let sent = http.post(&t.notify_url).headers(n.headers).body(n.body).send().await;
        let answer = match sent {
            Ok(res) if res.status().is_success() => res.text().await.unwrap_or_default(),
            Ok(res) => format!("HTTP {}", res.status()),
            Err(e) => e.without_url().to_string(),
        };
        if answer.trim() == "success" {
            let _ = crate::domain::exec(
                &db,
                "UPDATE alipay_sandbox_trade SET notified_at = $2 WHERE token = $1",
                vec![token.clone().into(), Utc::now().into()],
            )
            .await;
            return;
        }
        tracing::warn!(answer = %answer.chars().take(80).collect::<String>(), "Alipay sandbox: the merchant did not answer success");
    }
}

// The pay page: the same markup as the WeChat Pay sandbox's.

fn page(title: &str, body: &str) -> Html<String> {
    crate::payment::sandbox_page("支付宝", title, body)
}

async fn pay_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if !enabled(&state) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let now = Utc::now();
    match scan(&state.db, &token, now).await {
        Ok(Some(t)) => {
            let action = match status(&t, now) {
                WAIT => format!(
                    "<form method=\"post\" action=\"{PAY_PATH}{}/confirm\"><button type=\"submit\" style=\"font-size:1.2rem;padding:.6rem 2rem\">确认支付</button></form>",
                    escape(&token)
                ),
                SUCCESS => "<p role=\"status\">已支付</p>".into(),
                _ if t.time_expire <= now => "<p role=\"status\">订单已过期</p>".into(),
                _ => "<p role=\"status\">订单已关闭</p>".into(),
            };
            page(
                "确认付款",
                &format!(
                    "<h1>确认付款</h1><p>{}</p><p>金额：<strong>¥{}</strong></p><p>订单号：{}</p>{action}",
                    escape(&t.subject),
                    certdesk_shared::apply::yuan(t.amount_fen),
                    escape(&t.out_trade_no)
                ),
            )
            .into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, page("订单不存在", "<h1>订单不存在</h1>")).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "Alipay sandbox pay page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if !enabled(&state) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match pay(&state.db, &token, Utc::now()).await {
        Ok(Some(t)) => {
            if t.notified_at.is_none() {
                tokio::spawn(deliver(state.db.clone(), token));
            }
            page(
                "支付成功",
                &format!(
                    "<h1 role=\"status\">支付成功</h1><p>¥{}</p><p>请回到电脑上的申请页面，页面会自动进入下一步。</p>",
                    certdesk_shared::apply::yuan(t.amount_fen)
                ),
            )
            .into_response()
        }
        Ok(None) => {
            (StatusCode::CONFLICT, page("无法支付", "<h1>无法支付</h1><p>订单已关闭或已过期</p>")).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "Alipay sandbox confirm");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
