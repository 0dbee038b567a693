//! Payment providers. The interface is modelled on WeChat Pay API v3 "Native" payments (and
//! fits Alipay precreate): create an order and get a `code_url` to show as a QR code; query or
//! close it; and verify the provider's asynchronous notification (signed over
//! `timestamp\nnonce\nbody\n`, the resource AES-256-GCM encrypted under the merchant's API v3
//! key). The embedded default is [`sandbox::SandboxPay`], which behaves the same way.

pub mod alipay;
pub mod alipay_sandbox;
pub mod sandbox;

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

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// The notification's signature, serial or timestamp is wrong.
    #[error("notification signature refused: {0}")]
    BadSignature(&'static str),
    /// The notification's resource does not decrypt or parse.
    #[error("notification body refused: {0}")]
    BadBody(&'static str),
    #[error("no such order")]
    OrderNotFound,
    #[error("provider: {0}")]
    Provider(String),
}

#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Creates a Native order; returns its `code_url`.
    async fn precreate(&self, order: &NewOrder) -> Result<String, PayError>;
    /// The order's state at the provider (for orders whose notification did not arrive).
    async fn query(&self, out_trade_no: &str) -> Result<TradeResult, PayError>;
    /// Closes an unpaid order.
    async fn close(&self, out_trade_no: &str) -> Result<(), PayError>;
    /// Verifies a notification's signature and decrypts its resource.
    async fn verify_notification(&self, notification: &Notification) -> Result<TradeResult, PayError>;
}

/// No QR payment provider: every call refuses (bank transfer and settlement still work).
pub struct Disabled;

#[async_trait::async_trait]
impl PaymentProvider for Disabled {
    fn name(&self) -> &'static str {
        "disabled"
    }
    async fn precreate(&self, _: &NewOrder) -> Result<String, PayError> {
        Err(PayError::Provider("no payment provider configured".into()))
    }
    async fn query(&self, _: &str) -> Result<TradeResult, PayError> {
        Err(PayError::OrderNotFound)
    }
    async fn close(&self, _: &str) -> Result<(), PayError> {
        Ok(())
    }
    async fn verify_notification(&self, _: &Notification) -> Result<TradeResult, PayError> {
        Err(PayError::BadSignature("no payment provider configured"))
    }
}
