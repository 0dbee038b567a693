//! Payment providers, one per way of paying by QR code (`PayWay`): WeChat Pay Native API v3
//! ([`wechat::WechatPay`]) and Alipay precreate. Each creates an order and answers the
//! `code_url` to show as a QR code, queries and closes it, and verifies its own asynchronous
//! notification. [`Payments`] holds those the configuration offers; an order is always
//! queried and closed at the provider that made it (`payment_order.provider`).
//!
//! The sandboxes are servers speaking the vendors' wire protocols (under `/sandbox/…`), and a
//! development or staging server points the same production clients at them.

pub mod alipay;
pub mod alipay_sandbox;
pub mod wechat;
pub mod wechat_sandbox;

use std::sync::Arc;
use std::time::Duration;

use certdesk_shared::ErrorCode;
use certdesk_shared::Named;
use certdesk_shared::payment::PayWay;
use chrono::{DateTime, Utc};

/// A new order.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub description: String,
    pub expires_at: DateTime<Utc>,
}

/// What the provider says about an order (from a notification or a query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeResult {
    pub out_trade_no: String,
    pub transaction_id: Option<String>,
    /// WeChat Pay's `trade_state`: `SUCCESS`, `NOTPAY`, `CLOSED`, …
    pub trade_state: String,
    pub amount_fen: i64,
    pub currency: String,
}

/// A provider's asynchronous notification as it arrived: its headers (WeChat Pay signs in
/// `Wechatpay-*` headers) and its body (Alipay signs inside the form body).
#[derive(Debug, Clone, Default)]
pub struct Notification {
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Notification {
    /// A header's text, empty when missing or not text.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// Why a provider call failed, from the provider's own error codes (WeChat Pay's
/// `{"code": "PARAM_ERROR", "message": …}` bodies) or from the way there.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// The notification's signature, serial or timestamp is wrong.
    #[error("notification signature refused: {0}")]
    BadSignature(&'static str),
    /// The notification's resource does not decrypt or parse.
    #[error("notification body refused: {0}")]
    BadBody(&'static str),
    /// `ORDER_NOT_EXIST`.
    #[error("no such order")]
    OrderNotFound,
    /// `PARAM_ERROR`, `INVALID_REQUEST`, `APPID_MCHID_NOT_MATCH`, …: the request is wrong.
    #[error("request refused: {code}: {message}")]
    InvalidRequest { code: String, message: String },
    /// `OUT_TRADE_NO_USED` (WeChat Pay) / `ORDER_NO_USED`: the number was used for another order.
    #[error("order number already used")]
    OrderNoUsed,
    /// `ORDERPAID`: the order is paid (it can no longer be closed).
    #[error("order already paid")]
    OrderPaid,
    /// `ORDER_CLOSED`.
    #[error("order closed")]
    OrderClosed,
    /// `SIGN_ERROR`, `NOAUTH`, …: the merchant's key, serial or permissions are not what the
    /// provider knows. An operator must fix the configuration.
    #[error("merchant credentials refused: {code}: {message}")]
    Credentials { code: String, message: String },
    /// `FREQUENCY_LIMITED`.
    #[error("rate limited by the provider")]
    RateLimited,
    /// `SYSTEM_ERROR`, `BANK_ERROR`, a 5xx: the provider is down for now.
    #[error("provider unavailable: {0}")]
    ProviderDown(String),
    /// No answer within the configured time.
    #[error("provider did not answer in time")]
    Timeout,
    /// No connection.
    #[error("provider unreachable: {0}")]
    Transport(String),
    /// An answer whose signature does not verify, or that is not what the API answers.
    #[error("provider answer refused: {0}")]
    BadResponse(&'static str),
    #[error("provider: {0}")]
    Provider(String),
}

impl PayError {
    /// What the customer is told.
    pub fn code(&self) -> ErrorCode {
        match self {
            PayError::Timeout => ErrorCode::PaymentTimeout,
            PayError::Transport(_) | PayError::ProviderDown(_) | PayError::RateLimited => ErrorCode::Unavailable,
            PayError::OrderPaid | PayError::OrderClosed => ErrorCode::NotEditable,
            PayError::OrderNotFound => ErrorCode::NotFound,
            PayError::BadSignature(_) | PayError::BadBody(_) => ErrorCode::Validation,
            PayError::InvalidRequest { .. }
            | PayError::OrderNoUsed
            | PayError::Credentials { .. }
            | PayError::BadResponse(_)
            | PayError::Provider(_) => ErrorCode::PaymentRefused,
        }
    }

    /// Worth trying again (for idempotent calls): the provider or the way there failed.
    pub fn transient(&self) -> bool {
        matches!(self, PayError::Transport(_) | PayError::ProviderDown(_) | PayError::RateLimited)
    }
}

#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// The way of paying this provider is (stored in `payment_order.provider`).
    fn way(&self) -> PayWay;
    /// Creates a Native (QR) order; returns its `code_url`.
    async fn precreate(&self, order: &NewOrder) -> Result<String, PayError>;
    /// The order's state at the provider (for orders whose notification did not arrive).
    async fn query(&self, out_trade_no: &str) -> Result<TradeResult, PayError>;
    /// Closes an unpaid order.
    async fn close(&self, out_trade_no: &str) -> Result<(), PayError>;
    /// Verifies a notification's signature and decrypts its resource.
    async fn verify_notification(&self, notification: &Notification) -> Result<TradeResult, PayError>;
}

/// The providers the configuration offers, in the order the customer sees them.
#[derive(Clone, Default)]
pub struct Payments {
    providers: Vec<Arc<dyn PaymentProvider>>,
}

impl Payments {
    /// Each provider whose settings are given (or whose sandbox runs).
    pub async fn from_config(
        config: &crate::config::Config,
        wechat_sandbox: Option<Arc<wechat_sandbox::WechatSandbox>>,
        alipay: Option<Arc<alipay::Alipay>>,
    ) -> anyhow::Result<Payments> {
        let mut providers: Vec<Arc<dyn PaymentProvider>> = Vec::new();
        if let Some(p) = wechat::WechatPay::from_config(config, wechat_sandbox).await? {
            providers.push(Arc::new(p));
        }
        if let Some(p) = alipay {
            providers.push(p);
        }
        Ok(Payments { providers })
    }

    pub fn get(&self, way: PayWay) -> Option<Arc<dyn PaymentProvider>> {
        self.providers.iter().find(|p| p.way() == way).cloned()
    }

    /// The ways offered, in order.
    pub fn ways(&self) -> Vec<PayWay> {
        self.providers.iter().map(|p| p.way()).collect()
    }

    /// The provider of a stored order (`payment_order.provider`), if it is still offered.
    pub fn of_order(&self, provider: &str) -> Option<Arc<dyn PaymentProvider>> {
        PayWay::parse(provider).and_then(|w| self.get(w))
    }
}

/// The HTTP client of the payment providers: rustls, at most 3 s to connect and
/// `payment_timeout_ms` in all, no redirects (an API that redirects is not the API).
pub fn http_client(config: &crate::config::Config) -> anyhow::Result<reqwest::Client> {
    crate::outbound::client(Duration::from_millis(config.payment_timeout_ms))
}

/// Runs an idempotent call again while it fails for a transient reason: after 200 ms, then
/// 800 ms (three tries in all).
pub async fn with_retries<T, F, Fut>(mut call: F) -> Result<T, PayError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, PayError>>,
{
    let mut wait = Duration::from_millis(200);
    for _ in 0..2 {
        match call().await {
            Err(e) if e.transient() => {
                tracing::info!(error = %e, "provider call failed; trying again");
                tokio::time::sleep(wait).await;
                wait *= 4;
            }
            other => return other,
        }
    }
    call().await
}

/// A sandbox's pay page (the page a phone opens after scanning): one look for both
/// sandboxes, `vendor` naming which (微信支付, 支付宝), `body` already escaped.
pub fn sandbox_page(vendor: &str, title: &str, body: &str) -> axum::response::Html<String> {
    axum::response::Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body style=\"font-family:sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem\">\
         <p style=\"color:#777\">CertDesk {vendor}沙箱（模拟手机扫码后打开的付款页，不会产生真实扣款）</p>{body}</body></html>"
    ))
}

/// Text for a sandbox page's HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_errors_become_codes_the_customer_can_act_on() {
        let cases = [
            (PayError::Timeout, ErrorCode::PaymentTimeout),
            (PayError::RateLimited, ErrorCode::Unavailable),
            (PayError::ProviderDown("SYSTEM_ERROR".into()), ErrorCode::Unavailable),
            (PayError::Credentials { code: "SIGN_ERROR".into(), message: String::new() }, ErrorCode::PaymentRefused),
            (
                PayError::InvalidRequest { code: "PARAM_ERROR".into(), message: String::new() },
                ErrorCode::PaymentRefused,
            ),
            (PayError::OrderPaid, ErrorCode::NotEditable),
            (PayError::OrderClosed, ErrorCode::NotEditable),
            (PayError::OrderNotFound, ErrorCode::NotFound),
        ];
        for (e, code) in cases {
            assert_eq!(e.code(), code, "{e}");
        }
        assert!(PayError::RateLimited.transient() && !PayError::Timeout.transient());
    }
}
