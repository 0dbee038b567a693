//! WeChat Pay Native, API v3: the production client.
//!
//! - Requests: `POST /v3/pay/transactions/native` (→ `code_url`), `GET
//!   /v3/pay/transactions/out-trade-no/{no}?mchid=`, `POST …/{no}/close` (→ 204). Each is
//!   signed with the merchant's RSA key (SHA256withRSA over `METHOD\nURL\ntimestamp\nnonce\nbody\n`)
//!   in `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"`.
//! - Answers: the body is trusted only once `Wechatpay-Signature` verifies against WeChat Pay's
//!   public key over `timestamp\nnonce\nbody\n`, `Wechatpay-Serial` names that key and the
//!   timestamp is within five minutes; error bodies (`{"code", "message"}`) become [`PayError`]s.
//! - Notifications: verified the same way, then the `resource` is decrypted with the API v3 key
//!   (AEAD_AES_256_GCM, its `associated_data` and 12-byte `nonce`).
//!
//! Only query and close are tried again (they are idempotent); creating an order is not.
//! Keys are read from files (`CERTDESK_WECHATPAY_*`), or from the sandbox in development,
//! and nothing here prints them (no `Debug`).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use certdesk_shared::payment::PayWay;
use chrono::Utc;
use reqwest::{Method, StatusCode};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{NewOrder, Notification, PayError, PaymentProvider, TradeResult, with_retries};
use crate::config::Config;

/// How far a signed timestamp may lie from now (requests, answers and notifications).
pub const CLOCK_SKEW_SECS: i64 = 300;
/// The authorization scheme of API v3.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// The API v3 key (32 bytes): the AES-256-GCM key of notifications.
#[derive(Clone)]
pub struct ApiV3Key(pub [u8; 32]);

impl ApiV3Key {
    pub fn parse(text: &str) -> anyhow::Result<ApiV3Key> {
        let bytes: [u8; 32] =
            text.trim().as_bytes().try_into().map_err(|_| anyhow::anyhow!("the API v3 key must be 32 characters"))?;
        Ok(ApiV3Key(bytes))
    }
}

impl Drop for ApiV3Key {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Everything the client needs. No `Debug`: it holds the merchant key.
pub struct WechatSettings {
    pub mchid: String,
    pub appid: String,
    pub merchant_serial: String,
    pub merchant_key: RsaPrivateKey,
    pub platform_public_key: RsaPublicKey,
    pub platform_key_id: String,
    pub api_v3_key: ApiV3Key,
    /// E.g. `https://api.mch.weixin.qq.com` (no trailing slash).
    pub base_url: String,
    /// `{callback}/api/payments/wechat/notify`.
    pub notify_url: String,
}

/// The notification endpoint below a callback base URL.
pub fn notify_url(callback_base: &str) -> String {
    format!("{callback_base}/api/payments/wechat/notify")
}

pub struct WechatPay {
    http: reqwest::Client,
    base_url: String,
    notify_url: String,
    merchant: Merchant,
}

/// The merchant's identity and keys: given, or the sandbox's, fetched on first use (a
/// development server does not make RSA keys until someone pays).
enum Merchant {
    Given(Keys),
    Sandbox(std::sync::Arc<super::wechat_sandbox::WechatSandbox>, tokio::sync::OnceCell<Keys>),
}

struct Keys {
    mchid: String,
    appid: String,
    merchant_serial: String,
    merchant_key: SigningKey<Sha256>,
    platform_key: VerifyingKey<Sha256>,
    platform_key_id: String,
    api_v3_key: ApiV3Key,
}

impl Keys {
    fn new(s: WechatSettings) -> Keys {
        Keys {
            mchid: s.mchid,
            appid: s.appid,
            merchant_serial: s.merchant_serial,
            merchant_key: SigningKey::<Sha256>::new(s.merchant_key),
            platform_key: VerifyingKey::<Sha256>::new(s.platform_public_key),
            platform_key_id: s.platform_key_id,
            api_v3_key: s.api_v3_key,
        }
    }

    /// Checks a signed answer or notification: the key ID, the time and the signature.
    fn verify_signed(
        &self,
        serial: &str,
        timestamp: &str,
        nonce: &str,
        signature: &str,
        body: &[u8],
    ) -> Result<(), &'static str> {
        if serial.is_empty() || signature.is_empty() {
            return Err("not signed");
        }
        if serial != self.platform_key_id {
            return Err("unknown WeChat Pay public key ID");
        }
        let ts: i64 = timestamp.parse().map_err(|_| "timestamp")?;
        if (Utc::now().timestamp() - ts).abs() > CLOCK_SKEW_SECS {
            return Err("timestamp outside five minutes");
        }
        if !verify(&self.platform_key, &response_message(timestamp, nonce, body), signature) {
            return Err("signature does not verify");
        }
        Ok(())
    }
}

fn read(path: &Option<std::path::PathBuf>, setting: &str) -> anyhow::Result<String> {
    let path = path.as_ref().with_context(|| format!("{setting} is required with CERTDESK_WECHATPAY_MCHID"))?;
    std::fs::read_to_string(path).with_context(|| format!("reading {setting} ({})", path.display()))
}

fn required(value: &Option<String>, setting: &str) -> anyhow::Result<String> {
    value
        .clone()
        .filter(|v| !v.trim().is_empty())
        .with_context(|| format!("{setting} is required with CERTDESK_WECHATPAY_MCHID"))
}

impl WechatPay {
    pub fn new(s: WechatSettings, http: reqwest::Client) -> WechatPay {
        WechatPay {
            http,
            base_url: s.base_url.trim_end_matches('/').to_owned(),
            notify_url: s.notify_url.clone(),
            merchant: Merchant::Given(Keys::new(s)),
        }
    }

    async fn keys(&self) -> Result<&Keys, PayError> {
        match &self.merchant {
            Merchant::Given(k) => Ok(k),
            Merchant::Sandbox(sandbox, cell) => {
                cell.get_or_try_init(|| async {
                    let s = sandbox
                        .merchant_settings(self.base_url.clone(), self.notify_url.clone())
                        .await
                        .map_err(|e| PayError::Provider(e.to_string()))?;
                    Ok(Keys::new(s))
                })
                .await
            }
        }
    }

    /// The merchant's settings (`CERTDESK_WECHATPAY_MCHID` and its files), or else, where the
    /// sandbox runs, the sandbox's merchant at `{sandbox_base}/sandbox/wechatpay`; else none.
    pub async fn from_config(
        config: &Config,
        sandbox: Option<std::sync::Arc<super::wechat_sandbox::WechatSandbox>>,
    ) -> anyhow::Result<Option<WechatPay>> {
        let http = super::http_client(config)?;
        let notify_url = notify_url(&config.callback_base());
        if config.wechatpay_mchid.as_deref().is_some_and(|m| !m.trim().is_empty()) {
            let key_pem = read(&config.wechatpay_merchant_key_file, "CERTDESK_WECHATPAY_MERCHANT_KEY_FILE")?;
            let merchant_key = RsaPrivateKey::from_pkcs8_pem(&key_pem)
                .map_err(|_| anyhow::anyhow!("CERTDESK_WECHATPAY_MERCHANT_KEY_FILE is not a PKCS#8 PEM RSA key"))?;
            let public_pem =
                read(&config.wechatpay_platform_public_key_file, "CERTDESK_WECHATPAY_PLATFORM_PUBLIC_KEY_FILE")?;
            let platform_public_key = RsaPublicKey::from_public_key_pem(public_pem.trim()).map_err(|_| {
                anyhow::anyhow!("CERTDESK_WECHATPAY_PLATFORM_PUBLIC_KEY_FILE is not a PEM RSA public key")
            })?;
            let api_v3_key =
                ApiV3Key::parse(&read(&config.wechatpay_apiv3_key_file, "CERTDESK_WECHATPAY_APIV3_KEY_FILE")?)
                    .context("CERTDESK_WECHATPAY_APIV3_KEY_FILE")?;
            let settings = WechatSettings {
                mchid: required(&config.wechatpay_mchid, "CERTDESK_WECHATPAY_MCHID")?,
                appid: required(&config.wechatpay_appid, "CERTDESK_WECHATPAY_APPID")?,
                merchant_serial: required(&config.wechatpay_merchant_serial, "CERTDESK_WECHATPAY_MERCHANT_SERIAL")?,
                merchant_key,
                platform_public_key,
                platform_key_id: required(
                    &config.wechatpay_platform_public_key_id,
                    "CERTDESK_WECHATPAY_PLATFORM_PUBLIC_KEY_ID",
                )?,
                api_v3_key,
                base_url: config.wechatpay_base_url.clone(),
                notify_url,
            };
            return Ok(Some(WechatPay::new(settings, http)));
        }
        match sandbox {
            Some(sandbox) => Ok(Some(WechatPay {
                http,
                base_url: format!("{}{}", config.sandbox_base(), super::wechat_sandbox::PREFIX),
                notify_url,
                merchant: Merchant::Sandbox(sandbox, tokio::sync::OnceCell::new()),
            })),
            None => Ok(None),
        }
    }

    /// Sends one signed request and returns the verified answer (status and body).
    async fn call(&self, method: Method, path_and_query: &str, body: Option<String>) -> Result<Value, PayError> {
        let keys = self.keys().await?;
        let url = format!("{}{path_and_query}", self.base_url);
        let parsed = url::Url::parse(&url).map_err(|_| PayError::Provider("bad base URL".into()))?;
        let canonical = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_owned(),
        };
        let body = body.unwrap_or_default();
        let timestamp = Utc::now().timestamp().to_string();
        let nonce = hex::encode(crate::domain::random_bytes::<16>().map_err(|e| PayError::Provider(e.to_string()))?)
            .to_uppercase();
        let message = request_message(method.as_str(), &canonical, &timestamp, &nonce, body.as_bytes());
        let signature = sign(&keys.merchant_key, &message);
        let authorization = authorization(&keys.mchid, &nonce, &signature, &timestamp, &keys.merchant_serial);
        let mut request = self
            .http
            .request(method.clone(), parsed)
            .header("Authorization", authorization)
            .header("Accept", "application/json");
        if method != Method::GET {
            request = request.header("Content-Type", "application/json").body(body);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(transport)?;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let verified = keys.verify_signed(
            &header("wechatpay-serial"),
            &header("wechatpay-timestamp"),
            &header("wechatpay-nonce"),
            &header("wechatpay-signature"),
            &bytes,
        );
        if status.is_success() {
            verified.map_err(PayError::BadResponse)?;
            if bytes.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|_| PayError::BadResponse("answer is not JSON"));
        }
        if verified.is_err() {
            // Not from WeChat Pay (a proxy, a load balancer): its code is not trusted.
            return Err(if status.is_server_error() {
                PayError::ProviderDown(format!("HTTP {status}"))
            } else {
                PayError::BadResponse("unsigned error answer")
            });
        }
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Err(error_of(status, v["code"].as_str().unwrap_or(""), v["message"].as_str().unwrap_or("")))
    }

    fn trade_path(&self, out_trade_no: &str) -> String {
        let no: String = url::form_urlencoded::byte_serialize(out_trade_no.as_bytes()).collect();
        format!("/v3/pay/transactions/out-trade-no/{no}")
    }
}

fn transport(e: reqwest::Error) -> PayError {
    if e.is_timeout() { PayError::Timeout } else { PayError::Transport(e.without_url().to_string()) }
}

/// A WeChat Pay error code as one of ours.
pub fn error_of(status: StatusCode, code: &str, message: &str) -> PayError {
    let (code_s, message_s) = (code.to_owned(), message.to_owned());
    match code {
        "ORDER_NOT_EXIST" | "ORDERNOTEXIST" | "RESOURCE_NOT_EXISTS" => PayError::OrderNotFound,
        "OUT_TRADE_NO_USED" | "ORDER_NO_USED" => PayError::OrderNoUsed,
        "ORDERPAID" | "ORDER_PAID" => PayError::OrderPaid,
        "ORDER_CLOSED" | "ORDERCLOSED" => PayError::OrderClosed,
        "SIGN_ERROR" | "NOAUTH" | "APPID_MCHID_NOT_MATCH" | "MCH_NOT_EXISTS" | "ACCOUNT_ERROR" => {
            PayError::Credentials { code: code_s, message: message_s }
        }
        "FREQUENCY_LIMITED" => PayError::RateLimited,
        "SYSTEM_ERROR" | "SYSTEMERROR" | "BANK_ERROR" => PayError::ProviderDown(code_s),
        "PARAM_ERROR" | "INVALID_REQUEST" | "RULE_LIMIT" | "TRADE_ERROR" => {
            PayError::InvalidRequest { code: code_s, message: message_s }
        }
        _ if status.is_server_error() => PayError::ProviderDown(format!("HTTP {status} {code}")),
        _ => PayError::Provider(format!("HTTP {status} {code}: {message}")),
    }
}

/// `METHOD\nURL\ntimestamp\nnonce\nbody\n`: what a request's signature covers.
pub fn request_message(method: &str, canonical_url: &str, timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    [
        method.as_bytes(),
        b"\n",
        canonical_url.as_bytes(),
        b"\n",
        timestamp.as_bytes(),
        b"\n",
        nonce.as_bytes(),
        b"\n",
        body,
        b"\n",
    ]
    .concat()
}

/// `timestamp\nnonce\nbody\n`: what an answer's or a notification's signature covers.
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    [timestamp.as_bytes(), b"\n", nonce.as_bytes(), b"\n", body, b"\n"].concat()
}

/// SHA256withRSA, Base64.
pub fn sign(key: &SigningKey<Sha256>, message: &[u8]) -> String {
    B64.encode(key.sign(message).to_bytes())
}

pub fn verify(key: &VerifyingKey<Sha256>, message: &[u8], signature: &str) -> bool {
    let Ok(bytes) = B64.decode(signature) else { return false };
    let Ok(sig) = Signature::try_from(bytes.as_slice()) else { return false };
    key.verify(message, &sig).is_ok()
}

/// The `Authorization` header of a request.
pub fn authorization(mchid: &str, nonce: &str, signature: &str, timestamp: &str, serial: &str) -> String {
    format!(
        "{SCHEME} mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{serial}\""
    )
}

/// An `Authorization` header taken apart (the sandbox checks requests with it).
#[derive(Default)]
pub struct Authorization {
    pub mchid: String,
    pub nonce_str: String,
    pub signature: String,
    pub timestamp: String,
    pub serial_no: String,
}

impl Authorization {
    pub fn parse(header: &str) -> Option<Authorization> {
        let rest = header.strip_prefix(SCHEME)?.strip_prefix(' ')?;
        let mut a = Authorization::default();
        for part in rest.split(',') {
            let (name, value) = part.trim().split_once('=')?;
            let value = value.strip_prefix('"')?.strip_suffix('"')?.to_owned();
            match name {
                "mchid" => a.mchid = value,
                "nonce_str" => a.nonce_str = value,
                "signature" => a.signature = value,
                "timestamp" => a.timestamp = value,
                "serial_no" => a.serial_no = value,
                _ => return None,
            }
        }
        Some(a)
    }
}

/// AEAD_AES_256_GCM under the API v3 key: Base64 of ciphertext and tag.
pub fn encrypt_resource(key: &ApiV3Key, nonce: &str, associated_data: &str, plain: &[u8]) -> Result<String, PayError> {
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| PayError::Provider("key".into()))?;
    if nonce.len() != 12 {
        return Err(PayError::Provider("nonce must be 12 bytes".into()));
    }
    let sealed = cipher
        .encrypt(Nonce::from_slice(nonce.as_bytes()), Payload { msg: plain, aad: associated_data.as_bytes() })
        .map_err(|_| PayError::Provider("encryption failed".into()))?;
    Ok(B64.encode(sealed))
}

pub fn decrypt_resource(key: &ApiV3Key, resource: &Value) -> Result<Vec<u8>, PayError> {
    if resource["algorithm"] != "AEAD_AES_256_GCM" {
        return Err(PayError::BadBody("algorithm"));
    }
    let nonce = resource["nonce"].as_str().filter(|n| n.len() == 12).ok_or(PayError::BadBody("nonce"))?;
    let aad = resource["associated_data"].as_str().unwrap_or("");
    let ct = B64
        .decode(resource["ciphertext"].as_str().unwrap_or(""))
        .map_err(|_| PayError::BadBody("ciphertext encoding"))?;
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| PayError::BadBody("key"))?;
    cipher
        .decrypt(Nonce::from_slice(nonce.as_bytes()), Payload { msg: &ct, aad: aad.as_bytes() })
        .map_err(|_| PayError::BadBody("resource does not decrypt"))
}

/// A transaction (an answer to a query, or a notification's resource) as our result.
fn trade_result(t: &Value) -> Option<TradeResult> {
    Some(TradeResult {
        out_trade_no: t["out_trade_no"].as_str()?.to_owned(),
        transaction_id: t["transaction_id"].as_str().filter(|s| !s.is_empty()).map(str::to_owned),
        trade_state: t["trade_state"].as_str()?.to_owned(),
        amount_fen: t["amount"]["total"].as_i64().unwrap_or(0),
        currency: t["amount"]["currency"].as_str().unwrap_or("CNY").to_owned(),
    })
}

#[async_trait::async_trait]
impl PaymentProvider for WechatPay {
    fn way(&self) -> PayWay {
        PayWay::Wechat
    }

    async fn precreate(&self, order: &NewOrder) -> Result<String, PayError> {
        let china = crate::BEIJING;
        let keys = self.keys().await?;
        let body = json!({
            "appid": keys.appid,
            "mchid": keys.mchid,
            "description": order.description,
            "out_trade_no": order.out_trade_no,
            "time_expire": order.expires_at.with_timezone(&china).to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            "notify_url": self.notify_url,
            "amount": { "total": order.amount_fen, "currency": "CNY" },
        });
        let v = self.call(Method::POST, "/v3/pay/transactions/native", Some(body.to_string())).await?;
        v["code_url"].as_str().map(str::to_owned).ok_or(PayError::BadResponse("no code_url"))
    }

    async fn query(&self, out_trade_no: &str) -> Result<TradeResult, PayError> {
        let keys = self.keys().await?;
        let mchid: String = url::form_urlencoded::byte_serialize(keys.mchid.as_bytes()).collect();
        let path = format!("{}?mchid={mchid}", self.trade_path(out_trade_no));
        let v = with_retries(|| self.call(Method::GET, &path, None)).await?;
        let r = trade_result(&v).ok_or(PayError::BadResponse("not a transaction"))?;
        if r.out_trade_no != out_trade_no || v["mchid"].as_str().is_some_and(|m| m != keys.mchid) {
            return Err(PayError::BadResponse("another order's answer"));
        }
        Ok(r)
    }

    async fn close(&self, out_trade_no: &str) -> Result<(), PayError> {
        let path = format!("{}/close", self.trade_path(out_trade_no));
        let body = json!({ "mchid": self.keys().await?.mchid }).to_string();
        with_retries(|| self.call(Method::POST, &path, Some(body.clone()))).await.map(drop)
    }

    async fn verify_notification(&self, n: &Notification) -> Result<TradeResult, PayError> {
        let keys = self.keys().await?;
        keys.verify_signed(
            n.header("wechatpay-serial"),
            n.header("wechatpay-timestamp"),
            n.header("wechatpay-nonce"),
            n.header("wechatpay-signature"),
            &n.body,
        )
        .map_err(PayError::BadSignature)?;
        let v: Value = serde_json::from_slice(&n.body).map_err(|_| PayError::BadBody("not JSON"))?;
        if v["event_type"] != "TRANSACTION.SUCCESS" {
            return Err(PayError::BadBody("not a payment notification"));
        }
        let plain = decrypt_resource(&keys.api_v3_key, &v["resource"])?;
        let t: Value = serde_json::from_slice(&plain).map_err(|_| PayError::BadBody("resource not JSON"))?;
        if t["mchid"] != keys.mchid.as_str() || t["appid"] != keys.appid.as_str() {
            return Err(PayError::BadBody("another merchant's transaction"));
        }
        trade_result(&t).ok_or(PayError::BadBody("not a transaction"))
    }
}
