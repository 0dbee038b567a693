//! The sandbox payment provider: a stand-in for WeChat Pay Native that behaves like it.
//!
//! - `precreate` records a trade and answers a `code_url`: the sandbox pay page
//!   (`/sandbox/pay/{token}`), the page a phone would open after scanning the QR code.
//! - On that page the payer confirms; the trade becomes `SUCCESS` and the sandbox sends the
//!   merchant a notification as WeChat Pay v3 does: a JSON body whose `resource` is
//!   AES-256-GCM encrypted under the merchant's API v3 key (associated data `transaction`),
//!   signed with the platform's RSA key (SHA256withRSA over `timestamp\nnonce\nbody\n`), the
//!   signature and platform certificate serial in `Wechatpay-*` headers. Delivery retries.
//! - `verify_notification` checks all of that as a merchant must: serial, a timestamp within
//!   five minutes, the signature, then decrypts.
//!
//! Its trades and keys live in the database (`sandbox_trade`, `sandbox_secret`), so every
//! server sees one provider.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{Duration, Utc};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, SqlErr};
use sha2::Sha256;
use tokio::sync::{OnceCell, mpsc};

use super::{NewOrder, Notification, PayError, PaymentProvider, TradeResult};
use crate::entity::{sandbox_secret, sandbox_trade};

/// A notification on its way to the merchant: headers and body, as the HTTP request would carry.
pub type Delivery = Notification;

struct Keys {
    platform: SigningKey<Sha256>,
    platform_public: VerifyingKey<Sha256>,
    serial: String,
    api_v3: [u8; 32],
}

pub struct SandboxPay {
    db: DatabaseConnection,
    public_url: String,
    keys: OnceCell<Keys>,
    outbox: mpsc::UnboundedSender<Delivery>,
}

fn provider_err<E: std::fmt::Display>(e: E) -> PayError {
    PayError::Provider(e.to_string())
}

impl SandboxPay {
    /// The sandbox and the receiving end of its notifications (the server drains it).
    pub fn new(db: DatabaseConnection, public_url: &str) -> (SandboxPay, mpsc::UnboundedReceiver<Delivery>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            SandboxPay {
                db,
                public_url: public_url.trim_end_matches('/').to_owned(),
                keys: OnceCell::new(),
                outbox: tx,
            },
            rx,
        )
    }

    /// The keys, made once per database (an RSA-2048 platform key and a 32-byte API v3 key).
    async fn keys(&self) -> Result<&Keys, PayError> {
        self.keys
            .get_or_try_init(|| async {
                let pem = self
                    .secret("platform_key", || {
                        let mut rng = rsa::rand_core::OsRng;
                        let key = RsaPrivateKey::new(&mut rng, 2048).map_err(provider_err)?;
                        Ok(key.to_pkcs8_pem(LineEnding::LF).map_err(provider_err)?.to_string())
                    })
                    .await?;
                let api_v3 = self
                    .secret("api_v3_key", || {
                        Ok(hex::encode(crate::domain::random_bytes::<32>().map_err(provider_err)?))
                    })
                    .await?;
                let key = RsaPrivateKey::from_pkcs8_pem(&pem).map_err(provider_err)?;
                let serial = crate::domain::sha256_hex(&[pem.as_bytes()])[..40].to_uppercase();
                let mut v3 = [0u8; 32];
                hex::decode_to_slice(api_v3.trim(), &mut v3).map_err(provider_err)?;
                Ok(Keys {
                    platform_public: VerifyingKey::<Sha256>::new(key.to_public_key()),
                    platform: SigningKey::<Sha256>::new(key),
                    serial,
                    api_v3: v3,
                })
            })
            .await
    }

    /// A stored secret, made by `make` the first time (the first server to store it wins).
    async fn secret(&self, name: &str, make: impl FnOnce() -> Result<String, PayError>) -> Result<String, PayError> {
        if let Some(s) =
            sandbox_secret::Entity::find_by_id(name.to_owned()).one(&self.db).await.map_err(provider_err)?
        {
            return Ok(s.value);
        }
        let value = make()?;
        let insert =
            sandbox_secret::Entity::insert(sandbox_secret::ActiveModel { name: Set(name.into()), value: Set(value) })
                .exec(&self.db)
                .await;
        match insert {
            Ok(_) => {}
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => return Err(provider_err(e)),
        }
        let stored = sandbox_secret::Entity::find_by_id(name.to_owned()).one(&self.db).await.map_err(provider_err)?;
        stored.map(|s| s.value).ok_or(PayError::Provider("secret vanished".into()))
    }

    /// The sandbox pay page's data: the trade behind a `code_url` token.
    pub async fn trade(&self, token: &str) -> Result<sandbox_trade::Model, PayError> {
        sandbox_trade::Entity::find_by_id(token.to_owned())
            .one(&self.db)
            .await
            .map_err(provider_err)?
            .ok_or(PayError::OrderNotFound)
    }

    /// The payer confirms on the pay page: the trade succeeds once, and the notification is
    /// sent. Confirming again sends the notification again (as a retry would), nothing more.
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
            return Err(PayError::Provider(format!("trade is {}", trade.state)));
        }
        let delivery = self.notification(&trade).await?;
        self.outbox.send(delivery).map_err(provider_err)?;
        Ok(trade)
    }

    /// Builds the signed, encrypted notification for a trade.
    pub async fn notification(&self, trade: &sandbox_trade::Model) -> Result<Delivery, PayError> {
        let resource = serde_json::json!({
            "out_trade_no": trade.out_trade_no,
            "transaction_id": trade.transaction_id,
            "trade_type": "NATIVE",
            "trade_state": trade.state,
            "amount": { "total": trade.amount_fen, "currency": "CNY" },
        });
        self.sign_notification(&resource).await
    }

    /// Encrypts and signs any resource (tests use it to build notifications a real provider
    /// would never send).
    pub async fn sign_notification(&self, resource: &serde_json::Value) -> Result<Delivery, PayError> {
        let keys = self.keys().await?;
        let nonce = crate::domain::random_token::<9>().map_err(provider_err)?; // 12 characters
        let cipher = Aes256Gcm::new_from_slice(&keys.api_v3).map_err(provider_err)?;
        let plain = resource.to_string();
        let sealed = cipher
            .encrypt(Nonce::from_slice(nonce.as_bytes()), Payload { msg: plain.as_bytes(), aad: b"transaction" })
            .map_err(|_| PayError::Provider("encryption failed".into()))?;
        let body = serde_json::json!({
            "id": crate::domain::new_id(),
            "create_time": Utc::now().to_rfc3339(),
            "event_type": "TRANSACTION.SUCCESS",
            "resource_type": "encrypt-resource",
            "summary": "支付成功",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": B64.encode(sealed),
                "nonce": nonce,
                "associated_data": "transaction",
            },
        })
        .to_string()
        .into_bytes();
        let timestamp = Utc::now().timestamp().to_string();
        let sign_nonce = crate::domain::random_token::<16>().map_err(provider_err)?;
        let message = [timestamp.as_bytes(), b"\n", sign_nonce.as_bytes(), b"\n", &body, b"\n"].concat();
        let signature = B64.encode(keys.platform.sign(&message).to_bytes());
        let mut headers = axum::http::HeaderMap::new();
        for (name, value) in [
            ("wechatpay-timestamp", timestamp),
            ("wechatpay-nonce", sign_nonce),
            ("wechatpay-signature", signature),
            ("wechatpay-serial", keys.serial.clone()),
        ] {
            headers.insert(name, value.parse().map_err(provider_err)?);
        }
        Ok(Notification { headers, body })
    }
}

#[async_trait::async_trait]
impl PaymentProvider for SandboxPay {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn precreate(&self, order: &NewOrder) -> Result<String, PayError> {
        if order.amount_fen <= 0 {
            return Err(PayError::Provider("PARAM_ERROR: amount.total must be positive".into()));
        }
        let token = crate::domain::random_token::<16>().map_err(provider_err)?;
        let insert = sandbox_trade::Entity::insert(sandbox_trade::ActiveModel {
            token: Set(token.clone()),
            out_trade_no: Set(order.out_trade_no.clone()),
            amount_fen: Set(order.amount_fen),
            description: Set(order.description.clone()),
            state: Set("NOTPAY".into()),
            transaction_id: Set(None),
            created_at: Set(Utc::now()),
            expires_at: Set(order.expires_at),
        })
        .exec(&self.db)
        .await;
        match insert {
            Ok(_) => Ok(format!("{}/sandbox/pay/{token}", self.public_url)),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Err(PayError::Provider("ORDER_NO_USED: out_trade_no exists".into()))
            }
            Err(e) => Err(provider_err(e)),
        }
    }

    async fn query(&self, out_trade_no: &str) -> Result<TradeResult, PayError> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let t = sandbox_trade::Entity::find()
            .filter(sandbox_trade::Column::OutTradeNo.eq(out_trade_no))
            .one(&self.db)
            .await
            .map_err(provider_err)?
            .ok_or(PayError::OrderNotFound)?;
        Ok(TradeResult {
            out_trade_no: t.out_trade_no,
            transaction_id: t.transaction_id,
            trade_state: t.state,
            amount_fen: t.amount_fen,
            currency: "CNY".into(),
        })
    }

    async fn close(&self, out_trade_no: &str) -> Result<(), PayError> {
        crate::domain::exec(
            &self.db,
            "UPDATE sandbox_trade SET state = 'CLOSED' WHERE out_trade_no = $1 AND state = 'NOTPAY'",
            vec![out_trade_no.into()],
        )
        .await
        .map_err(provider_err)?;
        Ok(())
    }

    async fn verify_notification(&self, n: &Notification) -> Result<TradeResult, PayError> {
        let keys = self.keys().await?;
        let (serial, timestamp, nonce, signature, body) = (
            n.header("wechatpay-serial"),
            n.header("wechatpay-timestamp"),
            n.header("wechatpay-nonce"),
            n.header("wechatpay-signature"),
            n.body.as_slice(),
        );
        if serial != keys.serial {
            return Err(PayError::BadSignature("unknown platform certificate serial"));
        }
        let ts: i64 = timestamp.parse().map_err(|_| PayError::BadSignature("timestamp"))?;
        if (Utc::now().timestamp() - ts).abs() > Duration::minutes(5).num_seconds() {
            return Err(PayError::BadSignature("timestamp outside five minutes"));
        }
        let message = [timestamp.as_bytes(), b"\n", nonce.as_bytes(), b"\n", body, b"\n"].concat();
        let sig = B64.decode(signature).map_err(|_| PayError::BadSignature("signature encoding"))?;
        let sig = Signature::try_from(sig.as_slice()).map_err(|_| PayError::BadSignature("signature encoding"))?;
        keys.platform_public.verify(&message, &sig).map_err(|_| PayError::BadSignature("signature does not verify"))?;

        let v: serde_json::Value = serde_json::from_slice(body).map_err(|_| PayError::BadBody("not JSON"))?;
        let r = &v["resource"];
        if r["algorithm"] != "AEAD_AES_256_GCM" {
            return Err(PayError::BadBody("algorithm"));
        }
        let nonce = r["nonce"].as_str().filter(|n| n.len() == 12).ok_or(PayError::BadBody("nonce"))?;
        let aad = r["associated_data"].as_str().unwrap_or("");
        let ct =
            B64.decode(r["ciphertext"].as_str().unwrap_or("")).map_err(|_| PayError::BadBody("ciphertext encoding"))?;
        let cipher = Aes256Gcm::new_from_slice(&keys.api_v3).map_err(provider_err)?;
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce.as_bytes()), Payload { msg: &ct, aad: aad.as_bytes() })
            .map_err(|_| PayError::BadBody("resource does not decrypt"))?;
        let t: serde_json::Value =
            serde_json::from_slice(&plain).map_err(|_| PayError::BadBody("resource not JSON"))?;
        Ok(TradeResult {
            out_trade_no: t["out_trade_no"].as_str().ok_or(PayError::BadBody("out_trade_no"))?.to_owned(),
            transaction_id: t["transaction_id"].as_str().map(str::to_owned),
            trade_state: t["trade_state"].as_str().unwrap_or("").to_owned(),
            amount_fen: t["amount"]["total"].as_i64().ok_or(PayError::BadBody("amount"))?,
            currency: t["amount"]["currency"].as_str().unwrap_or("").to_owned(),
        })
    }
}
