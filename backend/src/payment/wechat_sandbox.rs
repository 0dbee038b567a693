//! The WeChat Pay sandbox: a server speaking Native API v3 under `/sandbox/wechatpay`, for
//! development and staging servers (`CERTDESK_PAYMENT_SANDBOX` with `--dev` or `--staging`).
//!
//! - `POST /v3/pay/transactions/native`, `GET /v3/pay/transactions/out-trade-no/{no}?mchid=`,
//!   `POST …/{no}/close`: each request's `Authorization` is checked against the merchant public
//!   key it knows (401 `SIGN_ERROR` otherwise); errors are WeChat Pay's JSON bodies and status
//!   codes; every answer is signed with its platform key (`Wechatpay-*` headers).
//! - The `code_url` of an order is its pay page (`/sandbox/wechatpay/pay/{token}`), the page a
//!   phone opens after scanning: 确认支付 pays, and the sandbox POSTs the signed, encrypted
//!   notification to the order's `notify_url`, trying again on any answer but 2xx.
//!
//! Its keys (merchant and platform RSA keys, the API v3 key) and trades live in the database
//! (`sandbox_secret`, `sandbox_trade`), so every server on one database is one sandbox; our
//! own [`super::wechat::WechatPay`] client is configured with its merchant's keys.

use chrono::{DateTime, Utc};
use rsa::pkcs1v15::{SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, SqlErr};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::OnceCell;

use super::wechat::{self, ApiV3Key, Authorization, WechatSettings};
use super::{Notification, PayError};
use crate::entity::sandbox_trade;

/// Where the sandbox is mounted.
pub const PREFIX: &str = "/sandbox/wechatpay";
/// The sandbox merchant (商户号) and its AppID.
pub const MCHID: &str = "1900000109";
pub const APPID: &str = "wxd678efh567hg6787";

/// A WeChat Pay error answer: its status and `{"code", "message"}`.
#[derive(Debug)]
pub struct WxError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn wx(status: u16, code: &'static str, message: impl Into<String>) -> WxError {
    WxError { status, code, message: message.into() }
}

fn system_error<E: std::fmt::Display>(e: E) -> WxError {
    tracing::error!(error = %e, "WeChat Pay sandbox failed");
    wx(500, "SYSTEM_ERROR", "系统错误")
}

fn provider_err<E: std::fmt::Display>(e: E) -> PayError {
    PayError::Provider(e.to_string())
}

struct Keys {
    merchant_key_pem: String,
    merchant_public: VerifyingKey<Sha256>,
    merchant_serial: String,
    platform: SigningKey<Sha256>,
    platform_public: RsaPublicKey,
    platform_key_id: String,
    api_v3: String,
}

/// What a merchant is given by the sandbox, as files would hold it (tests configure a second
/// server with it as a real merchant would be configured).
pub struct Credentials {
    pub mchid: String,
    pub appid: String,
    pub merchant_serial: String,
    pub merchant_key_pem: String,
    pub platform_public_key_pem: String,
    pub platform_key_id: String,
    pub api_v3_key: String,
}

pub struct WechatSandbox {
    db: DatabaseConnection,
    public_url: String,
    http: reqwest::Client,
    keys: OnceCell<Keys>,
}

impl WechatSandbox {
    pub fn new(db: DatabaseConnection, public_url: &str, http: reqwest::Client) -> WechatSandbox {
        WechatSandbox { db, public_url: public_url.trim_end_matches('/').to_owned(), http, keys: OnceCell::new() }
    }

    /// The keys, made once per database.
    async fn keys(&self) -> Result<&Keys, PayError> {
        self.keys
            .get_or_try_init(|| async {
                let new_rsa = || {
                    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(provider_err)?;
                    Ok(key.to_pkcs8_pem(LineEnding::LF).map_err(provider_err)?.to_string())
                };
                let merchant_pem = self.secret("wechatpay_merchant_key", new_rsa).await?;
                let platform_pem = self.secret("wechatpay_platform_key", new_rsa).await?;
                let api_v3 = self
                    .secret("wechatpay_apiv3_key", || {
                        Ok(hex::encode(crate::domain::random_bytes::<16>().map_err(provider_err)?))
                    })
                    .await?;
                let merchant = RsaPrivateKey::from_pkcs8_pem(&merchant_pem).map_err(provider_err)?;
                let platform = RsaPrivateKey::from_pkcs8_pem(&platform_pem).map_err(provider_err)?;
                Ok(Keys {
                    merchant_serial: crate::domain::sha256_hex(&[merchant_pem.as_bytes()])[..40].to_uppercase(),
                    merchant_public: VerifyingKey::<Sha256>::new(merchant.to_public_key()),
                    merchant_key_pem: merchant_pem,
                    platform_key_id: format!(
                        "PUB_KEY_ID_{}",
                        &crate::domain::sha256_hex(&[platform_pem.as_bytes()])[..32].to_uppercase()
                    ),
                    platform_public: platform.to_public_key(),
                    platform: SigningKey::<Sha256>::new(platform),
                    api_v3,
                })
            })
            .await
    }

    /// A stored secret, made by `make` the first time (the first server to store it wins).
    async fn secret(&self, name: &str, make: impl FnOnce() -> Result<String, PayError>) -> Result<String, PayError> {
        crate::domain::sandbox_secret::get_or_make(&self.db, name, || make().map_err(|e| anyhow::anyhow!("{e}")))
            .await
            .map_err(provider_err)
    }

    /// The sandbox merchant's credentials.
    pub async fn credentials(&self) -> Result<Credentials, PayError> {
        let k = self.keys().await?;
        Ok(Credentials {
            mchid: MCHID.into(),
            appid: APPID.into(),
            merchant_serial: k.merchant_serial.clone(),
            merchant_key_pem: k.merchant_key_pem.clone(),
            platform_public_key_pem: k.platform_public.to_public_key_pem(LineEnding::LF).map_err(provider_err)?,
            platform_key_id: k.platform_key_id.clone(),
            api_v3_key: k.api_v3.clone(),
        })
    }

    /// Our client's settings for the sandbox merchant.
    pub async fn merchant_settings(&self, base_url: String, notify_url: String) -> anyhow::Result<WechatSettings> {
        let c = self.credentials().await.map_err(|e| anyhow::anyhow!("WeChat Pay sandbox keys: {e}"))?;
        Ok(WechatSettings {
            mchid: c.mchid,
            appid: c.appid,
            merchant_serial: c.merchant_serial,
            merchant_key: RsaPrivateKey::from_pkcs8_pem(&c.merchant_key_pem)?,
            platform_public_key: self.keys().await.map_err(|e| anyhow::anyhow!("{e}"))?.platform_public.clone(),
            platform_key_id: c.platform_key_id,
            api_v3_key: ApiV3Key::parse(&c.api_v3_key)?,
            base_url,
            notify_url,
        })
    }

    /// Checks a request's `Authorization` as WeChat Pay does: the scheme, the merchant, the
    /// certificate serial, a timestamp within five minutes, and the signature over
    /// `METHOD\nURL\ntimestamp\nnonce\nbody\n`.
    pub async fn check_request(
        &self,
        method: &str,
        canonical_url: &str,
        authorization: &str,
        body: &[u8],
    ) -> Result<(), WxError> {
        let keys = self.keys().await.map_err(system_error)?;
        let refused = |why: &str| wx(401, "SIGN_ERROR", format!("签名错误：{why}"));
        let a = Authorization::parse(authorization).ok_or_else(|| refused("Authorization 格式不正确"))?;
        if a.mchid != MCHID {
            return Err(refused("商户号不正确"));
        }
        if a.serial_no != keys.merchant_serial {
            return Err(refused("商户证书序列号不正确"));
        }
        let ts: i64 = a.timestamp.parse().map_err(|_| refused("timestamp"))?;
        if (Utc::now().timestamp() - ts).abs() > wechat::CLOCK_SKEW_SECS {
            return Err(refused("timestamp 超出五分钟"));
        }
        let message = wechat::request_message(method, canonical_url, &a.timestamp, &a.nonce_str, body);
        if !wechat::verify(&keys.merchant_public, &message, &a.signature) {
            return Err(refused("验签失败"));
        }
        Ok(())
    }

    /// The `Wechatpay-*` headers of an answer with this body.
    pub async fn sign_answer(&self, body: &[u8]) -> Result<Vec<(&'static str, String)>, PayError> {
        let keys = self.keys().await?;
        let timestamp = Utc::now().timestamp().to_string();
        let nonce = crate::domain::random_token::<16>().map_err(provider_err)?;
        let signature = wechat::sign(&keys.platform, &wechat::response_message(&timestamp, &nonce, body));
        Ok(vec![
            ("Wechatpay-Timestamp", timestamp),
            ("Wechatpay-Nonce", nonce),
            ("Wechatpay-Signature", signature),
            ("Wechatpay-Serial", keys.platform_key_id.clone()),
            ("Wechatpay-Signature-Type", wechat::SCHEME.into()),
            ("Request-ID", crate::domain::new_id()),
        ])
    }

    /// `POST /v3/pay/transactions/native`.
    pub async fn create_native(&self, body: &[u8]) -> Result<Value, WxError> {
        let v: Value = serde_json::from_slice(body).map_err(|_| wx(400, "PARAM_ERROR", "请求体不是 JSON"))?;
        let text = |name: &str| v[name].as_str().filter(|s| !s.is_empty());
        let missing = |name: &str| wx(400, "PARAM_ERROR", format!("输入源“/body/{name}”映射到值字段时缺少必填字段"));
        let appid = text("appid").ok_or_else(|| missing("appid"))?;
        let mchid = text("mchid").ok_or_else(|| missing("mchid"))?;
        let description = text("description").ok_or_else(|| missing("description"))?;
        let out_trade_no = text("out_trade_no").ok_or_else(|| missing("out_trade_no"))?;
        let notify_url = text("notify_url").ok_or_else(|| missing("notify_url"))?;
        if mchid != MCHID || appid != APPID {
            return Err(wx(400, "APPID_MCHID_NOT_MATCH", "AppID 和 mch_id 不匹配"));
        }
        if out_trade_no.len() < 6 || out_trade_no.len() > 32 {
            return Err(wx(400, "PARAM_ERROR", "out_trade_no 长度须为 6 到 32"));
        }
        if !notify_url.starts_with("http://") && !notify_url.starts_with("https://") {
            return Err(wx(400, "PARAM_ERROR", "notify_url 格式不正确"));
        }
        let total = v["amount"]["total"].as_i64().ok_or_else(|| missing("amount/total"))?;
        if total <= 0 {
            return Err(wx(400, "PARAM_ERROR", "amount.total 须大于 0"));
        }
        if v["amount"]["currency"].as_str().is_some_and(|c| c != "CNY") {
            return Err(wx(400, "PARAM_ERROR", "currency 仅支持 CNY"));
        }
        let now = Utc::now();
        let expires_at = match v["time_expire"].as_str() {
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map_err(|_| wx(400, "PARAM_ERROR", "time_expire 不是 RFC 3339 时间"))?
                .with_timezone(&Utc),
            None => now + chrono::Duration::hours(2),
        };
        // The same order again answers the same code_url; another order under the number is refused.
        if let Some(t) = self.by_out_trade_no(out_trade_no).await? {
            if t.amount_fen == total && t.description == description && t.state == "NOTPAY" {
                return Ok(json!({ "code_url": self.code_url(&t.token) }));
            }
            if t.state == "CLOSED" {
                return Err(wx(400, "ORDER_CLOSED", "订单已关闭"));
            }
            return Err(wx(403, "OUT_TRADE_NO_USED", "商户订单号重复"));
        }
        let token = crate::domain::random_token::<16>().map_err(system_error)?;
        let insert = sandbox_trade::Entity::insert(sandbox_trade::ActiveModel {
            token: Set(token.clone()),
            out_trade_no: Set(out_trade_no.to_owned()),
            amount_fen: Set(total),
            description: Set(description.to_owned()),
            state: Set("NOTPAY".into()),
            transaction_id: Set(None),
            created_at: Set(now),
            expires_at: Set(expires_at),
            notify_url: Set(Some(notify_url.to_owned())),
        })
        .exec(&self.db)
        .await;
        match insert {
            Ok(_) => Ok(json!({ "code_url": self.code_url(&token) })),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Err(wx(403, "OUT_TRADE_NO_USED", "商户订单号重复"))
            }
            Err(e) => Err(system_error(e)),
        }
    }

    fn code_url(&self, token: &str) -> String {
        format!("{}{PREFIX}/pay/{token}", self.public_url)
    }

    async fn by_out_trade_no(&self, out_trade_no: &str) -> Result<Option<sandbox_trade::Model>, WxError> {
        sandbox_trade::Entity::find()
            .filter(sandbox_trade::Column::OutTradeNo.eq(out_trade_no))
            .one(&self.db)
            .await
            .map_err(system_error)
    }

    /// `GET /v3/pay/transactions/out-trade-no/{no}?mchid=`.
    pub async fn query(&self, out_trade_no: &str, mchid: Option<&str>) -> Result<Value, WxError> {
        if mchid != Some(MCHID) {
            return Err(wx(400, "PARAM_ERROR", "mchid 不正确"));
        }
        let t = self.by_out_trade_no(out_trade_no).await?.ok_or_else(|| wx(404, "ORDER_NOT_EXIST", "订单不存在"))?;
        Ok(Self::transaction(&t))
    }

    /// `POST /v3/pay/transactions/out-trade-no/{no}/close`.
    pub async fn close(&self, out_trade_no: &str, body: &[u8]) -> Result<(), WxError> {
        let v: Value = serde_json::from_slice(body).map_err(|_| wx(400, "PARAM_ERROR", "请求体不是 JSON"))?;
        if v["mchid"] != MCHID {
            return Err(wx(400, "PARAM_ERROR", "mchid 不正确"));
        }
        let t = self.by_out_trade_no(out_trade_no).await?.ok_or_else(|| wx(404, "ORDER_NOT_EXIST", "订单不存在"))?;
        if t.state == "SUCCESS" {
            return Err(wx(400, "ORDERPAID", "订单已支付"));
        }
        crate::domain::exec(
            &self.db,
            "UPDATE sandbox_trade SET state = 'CLOSED' WHERE out_trade_no = $1 AND state = 'NOTPAY'",
            vec![out_trade_no.into()],
        )
        .await
        .map_err(system_error)?;
        Ok(())
    }

    /// A trade as WeChat Pay describes it (query answers and notification resources).
    pub fn transaction(t: &sandbox_trade::Model) -> Value {
        let state = if t.state == "NOTPAY" && t.expires_at <= Utc::now() { "CLOSED" } else { t.state.as_str() };
        let mut v = json!({
            "appid": APPID,
            "mchid": MCHID,
            "out_trade_no": t.out_trade_no,
            "trade_type": "NATIVE",
            "trade_state": state,
            "trade_state_desc": match state { "SUCCESS" => "支付成功", "CLOSED" => "已关闭", _ => "未支付" },
            "amount": { "total": t.amount_fen, "currency": "CNY" },
        });
        if let Some(id) = &t.transaction_id {
            v["transaction_id"] = id.as_str().into();
            v["bank_type"] = "OTHERS".into();
            v["success_time"] = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false).into();
            v["payer"] = json!({ "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" });
            v["amount"]["payer_total"] = t.amount_fen.into();
            v["amount"]["payer_currency"] = "CNY".into();
        }
        v
    }

    /// The pay page's data: the trade behind a `code_url` token.
    pub async fn trade(&self, token: &str) -> Result<sandbox_trade::Model, PayError> {
        sandbox_trade::Entity::find_by_id(token.to_owned())
            .one(&self.db)
            .await
            .map_err(provider_err)?
            .ok_or(PayError::OrderNotFound)
    }

    /// The payer confirms on the pay page: the trade succeeds once, and its notification goes
    /// to the order's `notify_url` (again when confirmed again, as a retry would).
    pub async fn confirm(&self, token: &str) -> Result<sandbox_trade::Model, PayError> {
        let now = Utc::now();
        let trade = self.trade(token).await?;
        if trade.state == "NOTPAY" && trade.expires_at > now {
            let txid = format!("4200{}{}", now.format("%Y%m%d"), &crate::domain::sha256_hex(&[token.as_bytes()])[..18]);
            crate::domain::exec(
                &self.db,
                "UPDATE sandbox_trade SET state = 'SUCCESS', transaction_id = $2 WHERE token = $1 AND state = 'NOTPAY'",
                vec![token.into(), txid.into()],
            )
            .await
            .map_err(provider_err)?;
        }
        let trade = self.trade(token).await?;
        if trade.state != "SUCCESS" {
            return Err(PayError::OrderClosed);
        }
        let notification = self.notification(&trade).await?;
        if let Some(url) = trade.notify_url.clone() {
            let (http, out_trade_no) = (self.http.clone(), trade.out_trade_no.clone());
            tokio::spawn(deliver(http, url, notification, out_trade_no));
        }
        Ok(trade)
    }

    /// The signed, encrypted notification of a trade.
    pub async fn notification(&self, trade: &sandbox_trade::Model) -> Result<Notification, PayError> {
        self.sign_notification(&Self::transaction(trade)).await
    }

    /// Encrypts and signs any transaction resource (tests build notifications a real
    /// provider would never send with it).
    pub async fn sign_notification(&self, resource: &Value) -> Result<Notification, PayError> {
        let keys = self.keys().await?;
        let nonce = crate::domain::random_token::<9>().map_err(provider_err)?; // 12 characters
        let api_v3 = ApiV3Key::parse(&keys.api_v3).map_err(provider_err)?;
        let ciphertext = wechat::encrypt_resource(&api_v3, &nonce, "transaction", resource.to_string().as_bytes())?;
        let body = json!({
            "id": crate::domain::new_id(),
            "create_time": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            "event_type": "TRANSACTION.SUCCESS",
            "resource_type": "encrypt-resource",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": ciphertext,
                "nonce": nonce,
                "associated_data": "transaction",
            },
        })
        .to_string()
        .into_bytes();
        let mut headers = axum::http::HeaderMap::new();
        for (name, value) in self.sign_answer(&body).await? {
            headers.insert(name, value.parse().map_err(provider_err)?);
        }
        headers.insert("content-type", axum::http::HeaderValue::from_static("application/json"));
        Ok(Notification { headers, body })
    }
}

/// POSTs a notification to the merchant as WeChat Pay does, trying again on any answer but
/// 2xx (WeChat Pay waits 15 s, 15 s, 30 s, 3 min, …; the sandbox 1, 2, 4, 8 and 16 s).
async fn deliver(http: reqwest::Client, url: String, n: Notification, out_trade_no: String) {
    for wait in [0u64, 1, 2, 4, 8, 16] {
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        let mut request = http.post(&url).body(n.body.clone());
        for (name, value) in &n.headers {
            request = request.header(name, value);
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => {
                tracing::info!(status = %r.status(), %out_trade_no, "the merchant refused a notification; trying again")
            }
            Err(e) => {
                tracing::info!(error = %e.without_url(), %out_trade_no, "a notification did not arrive; trying again")
            }
        }
    }
    tracing::warn!(%out_trade_no, "the WeChat Pay sandbox gave up on a notification");
}
