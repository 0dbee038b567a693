//! Alipay 当面付 (face-to-face payment, QR code) over the open platform's gateway protocol:
//! `alipay.trade.precreate` gives the `qr_code` the customer scans, `alipay.trade.query` and
//! `alipay.trade.close` follow the trade, and the asynchronous notification tells us it is paid.
//!
//! - A call is a form POST to the gateway of the common parameters (`app_id`, `method`,
//!   `format=JSON`, `charset=utf-8`, `sign_type=RSA2`, `timestamp` in Beijing time, `version=1.0`,
//!   `notify_url`, `biz_content`) and `sign`: SHA256withRSA with the app's private key over the
//!   sorted `k=v&…` of every non-empty parameter but `sign`, in base64.
//! - The answer `{"<method>_response":{…},"sign":"…"}` is trusted only once `sign` verifies,
//!   with Alipay's public key, over the exact text of the `_response` object. A refusal that
//!   comes unsigned (the gateway's own 40001/40002) is taken as a refusal; a success never.
//! - A notification is a form body; its `sign` covers the sorted parameters but `sign` and
//!   `sign_type`. It must name our `app_id`, and its `total_amount` becomes fen exactly.
//!
//! The built-in sandbox ([`super::alipay_sandbox`]) is a server speaking this same protocol;
//! the tests run this client against it over HTTP.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use certdesk_shared::payment::PayWay;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use crate::BEIJING;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

use super::{NewOrder, Notification, PayError, PaymentProvider, TradeResult};
use crate::config::Config;

/// Where Alipay posts its notifications, under the callback base.
pub const NOTIFY_PATH: &str = "/api/payments/alipay/notify";
/// Alipay's times (`timestamp`, `notify_time`, `time_expire`): Beijing time, no zone written.
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Tries of a call that got no answer through (connection refused or reset, gateway 5xx,
/// `20000` or `ACQ.SYSTEM_ERROR`), the waits between them growing fourfold from 200 ms. Every
/// call here is idempotent: a precreate sent again with the same `out_trade_no` and amount
/// answers the same `qr_code`. A call that timed out is not tried again: the customer is
/// waiting, and the order is reconciled by query.
const TRIES: u32 = 3;
/// The total time of a call when no configuration says otherwise (`CERTDESK_PAYMENT_TIMEOUT_MS`).
const TIMEOUT: Duration = Duration::from_secs(10);

/// A time as Alipay writes it.
pub fn alipay_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&BEIJING).format(TIME_FORMAT).to_string()
}

/// An Alipay time read back (Beijing time).
pub fn parse_alipay_time(s: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s, TIME_FORMAT).ok()?;
    BEIJING.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc))
}

/// Fen as Alipay's yuan with two decimals: 30000 → "300.00".
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// Alipay's yuan as fen, exactly (no floating point): "300.00", "300.5" and "300" are 30000,
/// 30050 and 30000; a third decimal, a sign, spaces or an exponent are refused.
pub fn fen(yuan: &str) -> Option<i64> {
    let (whole, frac) = yuan.split_once('.').unwrap_or((yuan, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || whole.len() > 12 || frac.len() > 2 || (yuan.contains('.') && !digits(frac)) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(frac)
}

/// The string Alipay signs: the parameters sorted by name, empty ones left out, `k=v` joined
/// by `&`, values as they are (not URL-encoded).
pub fn sign_content<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, skip: &[&str]) -> String {
    let sorted: BTreeMap<&str, &str> = params.into_iter().filter(|(k, v)| !v.is_empty() && !skip.contains(k)).collect();
    sorted.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// SHA256withRSA (RSA2) in base64.
pub fn rsa2_sign(key: &SigningKey<Sha256>, content: &str) -> String {
    B64.encode(key.sign(content.as_bytes()).to_bytes())
}

/// Whether `sign` (base64) is Alipay's RSA2 signature of `content`.
pub fn rsa2_verify(key: &VerifyingKey<Sha256>, content: &[u8], sign: &str) -> bool {
    let Ok(bytes) = B64.decode(sign.trim()) else { return false };
    let Ok(sig) = Signature::try_from(bytes.as_slice()) else { return false };
    key.verify(content, &sig).is_ok()
}

/// An RSA private key as the open platform hands it out: PEM (PKCS#8 or PKCS#1) or the bare
/// base64 of either.
pub fn private_key(text: &str) -> anyhow::Result<RsaPrivateKey> {
    let text = text.trim();
    if text.contains("BEGIN PRIVATE KEY") {
        return RsaPrivateKey::from_pkcs8_pem(text).context("a PKCS#8 RSA private key");
    }
    if text.contains("BEGIN RSA PRIVATE KEY") {
        return RsaPrivateKey::from_pkcs1_pem(text).context("a PKCS#1 RSA private key");
    }
    let der = B64.decode(text.split_whitespace().collect::<String>()).context("PEM or base64")?;
    RsaPrivateKey::from_pkcs8_der(&der)
        .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
        .context("an RSA private key (PKCS#8 or PKCS#1)")
}

/// An RSA public key: PEM (SubjectPublicKeyInfo or PKCS#1) or bare base64, as Alipay shows it.
pub fn public_key(text: &str) -> anyhow::Result<RsaPublicKey> {
    let text = text.trim();
    if text.contains("BEGIN PUBLIC KEY") {
        return RsaPublicKey::from_public_key_pem(text).context("an RSA public key");
    }
    if text.contains("BEGIN RSA PUBLIC KEY") {
        return RsaPublicKey::from_pkcs1_pem(text).context("a PKCS#1 RSA public key");
    }
    let der = B64.decode(text.split_whitespace().collect::<String>()).context("PEM or base64")?;
    RsaPublicKey::from_public_key_der(&der).or_else(|_| RsaPublicKey::from_pkcs1_der(&der)).context("an RSA public key")
}

/// The text of the object under `key` at the top level of a JSON object, exactly as sent
/// (what Alipay signed); `None` when there is none, or when the answer is not JSON.
pub fn response_text<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let top: std::collections::HashMap<std::borrow::Cow<'a, str>, &'a serde_json::value::RawValue> =
        serde_json::from_str(json).ok()?;
    top.get(key).map(|v| v.get()).filter(|v| v.starts_with('{'))
}

/// Why a call to Alipay failed.
#[derive(Debug, thiserror::Error)]
pub enum AlipayError {
    /// No answer within the timeout.
    #[error("Alipay's gateway did not answer within {0:?}")]
    Timeout(Duration),
    /// No connection, or the gateway failed (after the tries).
    #[error("Alipay's gateway is unreachable: {0}")]
    Unreachable(String),
    /// The answer's signature does not verify with Alipay's public key, or a success came
    /// unsigned: not Alipay's answer.
    #[error("Alipay's answer is not signed by Alipay: {0}")]
    Forged(&'static str),
    /// Not the gateway's JSON.
    #[error("Alipay's answer is unreadable: {0}")]
    Unreadable(String),
    /// The keys could not be read (the sandbox's, from the database).
    #[error("Alipay keys: {0}")]
    Keys(String),
    /// Alipay refused: its code (`40004` …) and sub-code (`ACQ.TRADE_NOT_EXIST` …).
    #[error("Alipay refused: {code} {sub_code} {sub_msg}")]
    Refused { code: String, sub_code: String, sub_msg: String },
}

impl AlipayError {
    /// The sub-code of a refusal (`ACQ.TRADE_NOT_EXIST`, `isv.invalid-signature`, …).
    pub fn sub_code(&self) -> Option<&str> {
        match self {
            AlipayError::Refused { sub_code, .. } => Some(sub_code),
            _ => None,
        }
    }

    /// Worth sending again: the gateway was not reached, or Alipay says it is busy.
    fn retryable(&self) -> bool {
        match self {
            AlipayError::Unreachable(_) => true,
            AlipayError::Refused { code, sub_code, .. } => {
                code == "20000" || sub_code == "ACQ.SYSTEM_ERROR" || sub_code.ends_with(".unknow-error")
            }
            _ => false,
        }
    }
}

/// Alipay's answers in the providers' common terms, so that the customer is told the same
/// thing whichever way they pay (a timeout is `payment_timeout`, a paid trade is recorded).
impl From<AlipayError> for PayError {
    fn from(e: AlipayError) -> PayError {
        match (&e, e.sub_code()) {
            (AlipayError::Timeout(_), _) => PayError::Timeout,
            (AlipayError::Unreachable(m), _) => PayError::Transport(m.clone()),
            (AlipayError::Forged(why), _) => PayError::BadResponse(why),
            (AlipayError::Unreadable(_), _) => PayError::BadResponse("not Alipay's JSON"),
            (_, Some("ACQ.TRADE_NOT_EXIST")) => PayError::OrderNotFound,
            (_, Some("ACQ.TRADE_HAS_SUCCESS" | "ACQ.TRADE_HAS_FINISHED" | "ACQ.TRADE_STATUS_ERROR")) => {
                PayError::OrderPaid
            }
            (_, Some("ACQ.TRADE_HAS_CLOSE")) => PayError::OrderClosed,
            (_, Some("isv.invalid-signature" | "isv.invalid-app-id" | "isv.insufficient-isv-permissions")) => {
                PayError::Credentials { code: e.sub_code().unwrap_or_default().to_owned(), message: e.to_string() }
            }
            (_, Some("ACQ.SYSTEM_ERROR" | "aop.ACQ.SYSTEM_ERROR")) => PayError::ProviderDown(e.to_string()),
            _ => PayError::Provider(e.to_string()),
        }
    }
}

/// A trade as `alipay.trade.query` or a notification tells it.
fn trade_state(trade_status: &str) -> &'static str {
    match trade_status {
        "WAIT_BUYER_PAY" => "NOTPAY",
        "TRADE_SUCCESS" | "TRADE_FINISHED" => "SUCCESS",
        "TRADE_CLOSED" => "CLOSED",
        _ => "UNKNOWN",
    }
}

/// The app's signing key and Alipay's public key.
struct ClientKeys {
    app: SigningKey<Sha256>,
    alipay: VerifyingKey<Sha256>,
}

/// Where the keys come from: the configured files, or the sandbox's rows, read at the first
/// call (so that a server that never takes an Alipay order never makes sandbox keys).
#[derive(Clone)]
enum KeySource {
    Ready(Arc<ClientKeys>),
    Sandbox(sea_orm::DatabaseConnection, Arc<tokio::sync::OnceCell<Arc<ClientKeys>>>),
}

/// The Alipay client. No `Debug`: it holds the app's private key.
#[derive(Clone)]
pub struct Alipay {
    app_id: String,
    keys: KeySource,
    gateway: String,
    notify_url: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl Alipay {
    pub fn new(
        app_id: &str,
        app_key: RsaPrivateKey,
        alipay_key: RsaPublicKey,
        gateway: &str,
        notify_url: &str,
    ) -> anyhow::Result<Alipay> {
        let keys = ClientKeys { app: SigningKey::new(app_key), alipay: VerifyingKey::new(alipay_key) };
        Ok(Alipay {
            app_id: app_id.to_owned(),
            keys: KeySource::Ready(Arc::new(keys)),
            gateway: gateway.to_owned(),
            notify_url: notify_url.to_owned(),
            http: crate::outbound::client(TIMEOUT)?,
            timeout: TIMEOUT,
        })
    }

    /// The configured client: the real gateway when `CERTDESK_ALIPAY_APP_ID` is set, else the
    /// built-in sandbox on a development or staging server with the payment sandbox on, else
    /// none.
    pub async fn from_config(config: &Config, db: &sea_orm::DatabaseConnection) -> anyhow::Result<Option<Alipay>> {
        let notify_url = format!("{}{NOTIFY_PATH}", config.callback_base());
        let timeout = Duration::from_millis(config.payment_timeout_ms);
        let app_id = config.alipay_app_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let (key_file, public_file) = (&config.alipay_app_private_key_file, &config.alipay_public_key_file);
        let Some(app_id) = app_id else {
            if key_file.is_some() || public_file.is_some() {
                anyhow::bail!("Alipay's key files are set but CERTDESK_ALIPAY_APP_ID is not");
            }
            if config.payment_sandbox && config.sandbox_allowed() {
                let gateway = format!("{}{}", config.sandbox_base(), super::alipay_sandbox::GATEWAY_PATH);
                return Ok(Some(Alipay {
                    app_id: super::alipay_sandbox::APP_ID.to_owned(),
                    keys: KeySource::Sandbox(db.clone(), Arc::default()),
                    gateway,
                    notify_url,
                    http: crate::outbound::client(timeout)?,
                    timeout,
                }));
            }
            return Ok(None);
        };
        let read = |file: &Option<std::path::PathBuf>, name: &str| -> anyhow::Result<String> {
            let path = file.as_ref().with_context(|| format!("CERTDESK_ALIPAY_APP_ID is set: {name} is needed too"))?;
            std::fs::read_to_string(path).with_context(|| format!("reading {name} ({})", path.display()))
        };
        let app_key = private_key(&read(key_file, "CERTDESK_ALIPAY_APP_PRIVATE_KEY_FILE")?)
            .context("CERTDESK_ALIPAY_APP_PRIVATE_KEY_FILE")?;
        let alipay_key = public_key(&read(public_file, "CERTDESK_ALIPAY_PUBLIC_KEY_FILE")?)
            .context("CERTDESK_ALIPAY_PUBLIC_KEY_FILE")?;
        if !config.alipay_gateway.starts_with("https://") && !config.sandbox_allowed() {
            anyhow::bail!("CERTDESK_ALIPAY_GATEWAY must be an https:// address");
        }
        Ok(Some(Alipay::new(app_id, app_key, alipay_key, &config.alipay_gateway, &notify_url)?.with_timeout(timeout)?))
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The same client talking to another gateway (tests: one that never answers).
    pub fn with_gateway(mut self, gateway: &str) -> Alipay {
        self.gateway = gateway.to_owned();
        self
    }

    /// The same client with another total timeout per call.
    pub fn with_timeout(mut self, total: Duration) -> anyhow::Result<Alipay> {
        self.http = crate::outbound::client(total)?;
        self.timeout = total;
        Ok(self)
    }

    /// The same client signing with another app key (tests: a request Alipay must refuse).
    pub async fn with_app_key(mut self, key: RsaPrivateKey) -> Result<Alipay, AlipayError> {
        let alipay = self.keys().await?.alipay.clone();
        self.keys = KeySource::Ready(Arc::new(ClientKeys { app: SigningKey::new(key), alipay }));
        Ok(self)
    }

    async fn keys(&self) -> Result<Arc<ClientKeys>, AlipayError> {
        match &self.keys {
            KeySource::Ready(keys) => Ok(keys.clone()),
            KeySource::Sandbox(db, cell) => cell
                .get_or_try_init(|| async {
                    let keys = super::alipay_sandbox::keys(db).await.map_err(|e| AlipayError::Keys(e.to_string()))?;
                    let alipay = VerifyingKey::new(keys.alipay.to_public_key());
                    Ok::<_, AlipayError>(Arc::new(ClientKeys { app: SigningKey::new(keys.app), alipay }))
                })
                .await
                .cloned(),
        }
    }

    /// The signed form of a call.
    fn signed_params(
        &self,
        keys: &ClientKeys,
        method: &str,
        biz_content: &str,
        now: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("app_id", self.app_id.clone()),
            ("method", method.to_owned()),
            ("format", "JSON".to_owned()),
            ("charset", "utf-8".to_owned()),
            ("sign_type", "RSA2".to_owned()),
            ("timestamp", alipay_time(now)),
            ("version", "1.0".to_owned()),
            ("notify_url", self.notify_url.clone()),
            ("biz_content", biz_content.to_owned()),
        ];
        let content = sign_content(params.iter().map(|(k, v)| (*k, v.as_str())), &["sign"]);
        params.push(("sign", rsa2_sign(&keys.app, &content)));
        params
    }

    /// Calls `method` with `biz` and answers the verified `_response` object of a success.
    pub async fn call(&self, method: &str, biz: serde_json::Value) -> Result<serde_json::Value, AlipayError> {
        let keys = self.keys().await?;
        let params = self.signed_params(&keys, method, &biz.to_string(), Utc::now());
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
        let mut wait = Duration::from_millis(200);
        let mut tries = 1;
        loop {
            match self.send(&keys, method, body.clone()).await {
                Err(e) if e.retryable() && tries < TRIES => {
                    tracing::warn!(method, error = %e, tries, "Alipay: trying again");
                    tokio::time::sleep(wait).await;
                    wait *= 4;
                    tries += 1;
                }
                answer => return answer,
            }
        }
    }

    async fn send(&self, keys: &ClientKeys, method: &str, body: String) -> Result<serde_json::Value, AlipayError> {
        let res = self
            .http
            .post(&self.gateway)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded;charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| self.transport(e))?;
        if status.is_server_error() {
            return Err(AlipayError::Unreachable(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(AlipayError::Unreadable(format!("HTTP {status}")));
        }
        self.open(&keys.alipay, method, &text)
    }

    fn transport(&self, e: reqwest::Error) -> AlipayError {
        if e.is_timeout() {
            AlipayError::Timeout(self.timeout)
        } else {
            // Without the URL: it is ours, and errors end up in logs.
            AlipayError::Unreachable(e.without_url().to_string())
        }
    }

    /// Verifies and opens an answer: the `_response` object of a success, or the refusal.
    fn open(
        &self,
        alipay_key: &VerifyingKey<Sha256>,
        method: &str,
        text: &str,
    ) -> Result<serde_json::Value, AlipayError> {
        let key = format!("{}_response", method.replace('.', "_"));
        let whole: serde_json::Value =
            serde_json::from_str(text).map_err(|e| AlipayError::Unreadable(format!("not JSON: {e}")))?;
        let raw = response_text(text, &key)
            .or_else(|| response_text(text, "error_response"))
            .ok_or_else(|| AlipayError::Unreadable(format!("no {key}")))?;
        let answer: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| AlipayError::Unreadable(format!("{key}: {e}")))?;
        let code = answer["code"].as_str().unwrap_or("");
        match whole["sign"].as_str().filter(|s| !s.is_empty()) {
            Some(sign) if !rsa2_verify(alipay_key, raw.as_bytes(), sign) => {
                return Err(AlipayError::Forged("the signature does not verify"));
            }
            Some(_) => {}
            None if code == "10000" => return Err(AlipayError::Forged("a success without a signature")),
            // The gateway's own refusals (a bad signature of ours, a missing parameter) come
            // unsigned: they can only make a call fail.
            None => {}
        }
        if code != "10000" {
            let field = |name: &str| answer[name].as_str().unwrap_or("").to_owned();
            return Err(AlipayError::Refused {
                code: code.to_owned(),
                sub_code: field("sub_code"),
                sub_msg: if field("sub_msg").is_empty() { field("msg") } else { field("sub_msg") },
            });
        }
        Ok(answer)
    }

    /// `alipay.trade.precreate`: the `qr_code` of a new trade.
    pub async fn precreate_trade(&self, order: &NewOrder) -> Result<String, AlipayError> {
        let biz = serde_json::json!({
            "out_trade_no": order.out_trade_no,
            "total_amount": yuan(order.amount_fen),
            "subject": order.description,
            "time_expire": alipay_time(order.expires_at),
        });
        let answer = self.call("alipay.trade.precreate", biz).await?;
        if answer["out_trade_no"].as_str() != Some(order.out_trade_no.as_str()) {
            return Err(AlipayError::Unreadable("the answer is for another out_trade_no".into()));
        }
        answer["qr_code"]
            .as_str()
            .filter(|q| !q.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| AlipayError::Unreadable("no qr_code".into()))
    }

    /// `alipay.trade.query`.
    pub async fn query_trade(&self, out_trade_no: &str) -> Result<TradeResult, AlipayError> {
        let answer = self.call("alipay.trade.query", serde_json::json!({ "out_trade_no": out_trade_no })).await?;
        if answer["out_trade_no"].as_str() != Some(out_trade_no) {
            return Err(AlipayError::Unreadable("the answer is for another out_trade_no".into()));
        }
        let amount = answer["total_amount"].as_str().and_then(fen);
        Ok(TradeResult {
            out_trade_no: out_trade_no.to_owned(),
            transaction_id: answer["trade_no"].as_str().map(str::to_owned),
            trade_state: trade_state(answer["trade_status"].as_str().unwrap_or("")).to_owned(),
            amount_fen: amount.ok_or_else(|| AlipayError::Unreadable("total_amount".into()))?,
            currency: "CNY".into(),
        })
    }

    /// `alipay.trade.close`. A trade nobody scanned yet does not exist at Alipay
    /// (`ACQ.TRADE_NOT_EXIST`), but the close still stops its QR code: that is a success.
    pub async fn close_trade(&self, out_trade_no: &str) -> Result<(), AlipayError> {
        match self.call("alipay.trade.close", serde_json::json!({ "out_trade_no": out_trade_no })).await {
            Ok(_) => Ok(()),
            Err(e) if e.sub_code() == Some("ACQ.TRADE_NOT_EXIST") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Verifies an asynchronous notification (a form body) and reads the trade from it.
    pub async fn verify(&self, n: &Notification, now: DateTime<Utc>) -> Result<TradeResult, PayError> {
        let keys = self.keys().await.map_err(|e| PayError::Provider(e.to_string()))?;
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(&n.body) {
            if params.insert(k.into_owned(), v.into_owned()).is_some() {
                return Err(PayError::BadBody("a parameter twice"));
            }
        }
        let get = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
        if get("sign_type") != "RSA2" {
            return Err(PayError::BadSignature("sign_type is not RSA2"));
        }
        let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &["sign", "sign_type"]);
        if !rsa2_verify(&keys.alipay, content.as_bytes(), get("sign")) {
            return Err(PayError::BadSignature("signature does not verify"));
        }
        // Signed by Alipay, and meant for us: another app's notification is not ours to record.
        if get("app_id") != self.app_id {
            return Err(PayError::BadBody("app_id is not ours"));
        }
        // Alipay retries for about 25 hours, each time with a new notify_time.
        let sent = parse_alipay_time(get("notify_time")).ok_or(PayError::BadBody("notify_time"))?;
        if sent > now + chrono::Duration::minutes(5) || sent < now - chrono::Duration::hours(25) {
            return Err(PayError::BadBody("notify_time out of range"));
        }
        let out_trade_no = get("out_trade_no");
        if out_trade_no.is_empty() {
            return Err(PayError::BadBody("out_trade_no"));
        }
        Ok(TradeResult {
            out_trade_no: out_trade_no.to_owned(),
            transaction_id: Some(get("trade_no").to_owned()).filter(|t| !t.is_empty()),
            trade_state: trade_state(get("trade_status")).to_owned(),
            amount_fen: fen(get("total_amount")).ok_or(PayError::BadBody("total_amount"))?,
            currency: "CNY".into(),
        })
    }
}

#[async_trait::async_trait]
impl PaymentProvider for Alipay {
    fn way(&self) -> PayWay {
        PayWay::Alipay
    }

    async fn precreate(&self, order: &NewOrder) -> Result<String, PayError> {
        Ok(self.precreate_trade(order).await?)
    }

    async fn query(&self, out_trade_no: &str) -> Result<TradeResult, PayError> {
        Ok(self.query_trade(out_trade_no).await?)
    }

    async fn close(&self, out_trade_no: &str) -> Result<(), PayError> {
        Ok(self.close_trade(out_trade_no).await?)
    }

    async fn verify_notification(&self, n: &Notification) -> Result<TradeResult, PayError> {
        self.verify(n, Utc::now()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_to_fen_is_exact() {
        for (text, want) in [
            ("300.00", Some(30000)),
            ("300.5", Some(30050)),
            ("300", Some(30000)),
            ("0.01", Some(1)),
            ("0.1", Some(10)),
            ("300.001", None),
            ("-1.00", None),
            ("1e3", None),
            (" 1.00", None),
            ("1.", None),
            (".5", None),
            ("", None),
            ("1,000.00", None),
            ("99999999999999.00", None),
        ] {
            assert_eq!(fen(text), want, "{text}");
        }
        assert_eq!(yuan(30000), "300.00");
        assert_eq!(yuan(1), "0.01");
        assert_eq!(fen(&yuan(123_456)), Some(123_456));
    }

    #[test]
    fn the_signed_string_is_sorted_without_empty_values_and_skipped_names() {
        let params =
            [("method", "alipay.trade.query"), ("app_id", "2021"), ("sign", "x"), ("empty", ""), ("b", "a=b&c")];
        assert_eq!(sign_content(params, &["sign"]), "app_id=2021&b=a=b&c&method=alipay.trade.query");
    }

    #[test]
    fn the_response_text_is_the_object_exactly_as_sent() {
        let text = r#"{"alipay_trade_query_response" : {"code":"10000","msg":"Success","x":"a}\"{","n":{"k":[1,{}]}},"sign":"abc"}"#;
        assert_eq!(
            response_text(text, "alipay_trade_query_response"),
            Some(r#"{"code":"10000","msg":"Success","x":"a}\"{","n":{"k":[1,{}]}}"#)
        );
        // A key inside a value or a nested object is not the answer.
        let nested = r#"{"a":{"alipay_trade_query_response":{"code":"10000"}},"b":"alipay_trade_query_response"}"#;
        assert_eq!(response_text(nested, "alipay_trade_query_response"), None);
        assert_eq!(
            response_text(r#"{"error_response":{"code":"40002"}}"#, "error_response"),
            Some(r#"{"code":"40002"}"#)
        );
    }

    #[test]
    fn alipay_times_are_beijing_time() {
        let t = Utc.with_ymd_and_hms(2026, 12, 2, 16, 30, 0).single().unwrap_or_default();
        assert_eq!(alipay_time(t), "2026-12-03 00:30:00");
        assert_eq!(parse_alipay_time("2026-12-03 00:30:00"), Some(t));
        assert_eq!(parse_alipay_time("2026-12-03T00:30:00"), None);
    }
}
