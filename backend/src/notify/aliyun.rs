//! The Alibaba Cloud SMS client: `SendSms` (API version 2017-05-25, RPC style, signature
//! v1.0) over HTTPS with reqwest. The same code talks to the vendor in production and to the
//! built-in sandbox (`/sandbox/aliyun-sms/`) everywhere else.
//!
//! Retries: `SendSms` is not idempotent (the vendor has no idempotency key), so a request is
//! sent again only when no connection was ever made (refused, DNS, TLS, connect timeout):
//! then the vendor cannot have seen it. It goes again with the same nonce, so even if it had
//! arrived the vendor would refuse the copy (`SignatureNonceUsed`) rather than send twice. A
//! timeout after the request went out, a 5xx or `isp.SYSTEM_ERROR` is reported, not retried:
//! the message may already be on its way.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::sms::{SmsError, SmsGateway, SmsRequest, VendorTemplates, canonical_query, sign};
use crate::config::{Config, Secret};

/// Tries of a request whose connection could not be made, and the first wait between them.
const CONNECT_TRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// What the client needs: where, as whom, with which signature and templates.
pub struct Settings {
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: Secret,
    pub sign_name: String,
    pub templates: VendorTemplates,
    /// The whole call, connection included.
    pub timeout: Duration,
}

impl Settings {
    /// The real gateway's settings (`CERTDESK_SMS_*`), with their files read; what is missing
    /// or wrong is named.
    pub fn from_config(config: &Config) -> anyhow::Result<Settings> {
        let sms = &config.sms;
        let access_key_id = sms
            .access_key_id
            .clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| anyhow::anyhow!("the SMS gateway needs CERTDESK_SMS_ACCESS_KEY_ID"))?;
        let secret = match (&sms.access_key_secret_file, &sms.access_key_secret) {
            (Some(path), _) => std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| anyhow::anyhow!("CERTDESK_SMS_ACCESS_KEY_SECRET_FILE {}: {e}", path.display()))?,
            (None, Some(s)) => s.expose().trim().to_owned(),
            (None, None) => anyhow::bail!(
                "the SMS gateway needs its AccessKey secret: CERTDESK_SMS_ACCESS_KEY_SECRET_FILE (or CERTDESK_SMS_ACCESS_KEY_SECRET)"
            ),
        };
        if secret.is_empty() {
            anyhow::bail!("the SMS AccessKey secret is empty");
        }
        let path = sms.templates.as_ref().ok_or_else(|| {
            anyhow::anyhow!("the SMS gateway needs CERTDESK_SMS_TEMPLATES (our templates → the vendor's codes)")
        })?;
        let json = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("CERTDESK_SMS_TEMPLATES {}: {e}", path.display()))?;
        let templates = VendorTemplates::parse(&json, config.staging)
            .map_err(|e| anyhow::anyhow!("CERTDESK_SMS_TEMPLATES {}: {e}", path.display()))?;
        if sms.sign_name.trim().is_empty() {
            anyhow::bail!("the SMS gateway needs CERTDESK_SMS_SIGN_NAME (the registered signature)");
        }
        Ok(Settings {
            endpoint: sms.endpoint.clone(),
            access_key_id,
            access_key_secret: Secret::new(secret),
            sign_name: sms.sign_name.clone(),
            templates,
            timeout: Duration::from_millis(sms.timeout_ms),
        })
    }

    /// The built-in sandbox's settings: its endpoint on `--sandbox-url`, its key from the
    /// database.
    pub fn sandbox(config: &Config, access_key_secret: String) -> Settings {
        Settings {
            endpoint: format!("{}/sandbox/aliyun-sms/", config.sandbox_base()),
            access_key_id: super::sms_sandbox::ACCESS_KEY_ID.to_owned(),
            access_key_secret: Secret::new(access_key_secret),
            sign_name: config.sms.sign_name.clone(),
            templates: VendorTemplates::ours(),
            timeout: Duration::from_millis(config.sms.timeout_ms),
        }
    }
}

/// The `SendSms` client.
pub struct AliyunSms {
    http: reqwest::Client,
    settings: Settings,
}

/// The vendor's answer, success or refusal (`BizId` only on success).
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    biz_id: String,
}

impl AliyunSms {
    pub fn new(settings: Settings) -> anyhow::Result<AliyunSms> {
        let http = crate::outbound::client(settings.timeout)?;
        Ok(AliyunSms { http, settings })
    }

    /// The request's parameters as they go over the wire, signed for `method`.
    pub fn signed_params(
        &self,
        method: &str,
        request: &SmsRequest,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<String, String>, SmsError> {
        let template = self.settings.templates.vendor_code(request.template.code()).ok_or(SmsError::TemplateIllegal)?;
        let param_json =
            serde_json::to_string(&request.template.params()).map_err(|e| SmsError::System(e.to_string()))?;
        let mut p: BTreeMap<String, String> = [
            ("AccessKeyId", self.settings.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", request.phone.as_str()),
            ("RegionId", "cn-hangzhou"),
            ("SignName", self.settings.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", template),
            ("TemplateParam", param_json.as_str()),
            ("Timestamp", &now.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let signature = sign(method, &p, self.settings.access_key_secret.expose());
        p.insert("Signature".into(), signature);
        Ok(p)
    }

    /// POSTs signed parameters (form-encoded) and reads the answer.
    pub async fn post(&self, params: &BTreeMap<String, String>) -> Result<String, SmsError> {
        let body = canonical_query(params);
        let mut wait = FIRST_BACKOFF;
        for attempt in 1..=CONNECT_TRIES {
            let sent = self
                .http
                .post(&self.settings.endpoint)
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(response) => return answer(response, self.timeout_ms()).await,
                // Never connected: the vendor has not seen it.
                Err(e) if e.is_connect() && attempt < CONNECT_TRIES => {
                    tracing::warn!(attempt, error = %without_url(&e), "SMS gateway: no connection, trying again");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(e) if e.is_connect() => return Err(SmsError::Unreachable(without_url(&e))),
                Err(e) if e.is_timeout() => return Err(SmsError::Timeout(self.timeout_ms())),
                Err(e) => return Err(SmsError::Unreachable(without_url(&e))),
            }
        }
        Err(SmsError::Unreachable("no connection".into()))
    }

    fn timeout_ms(&self) -> u64 {
        u64::try_from(self.settings.timeout.as_millis()).unwrap_or(u64::MAX)
    }
}

/// A transport error's text without the URL (the endpoint is not secret, but it is noise).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

async fn answer(response: reqwest::Response, timeout_ms: u64) -> Result<String, SmsError> {
    let status = response.status().as_u16();
    let bytes = match response.bytes().await {
        Ok(b) => b,
        Err(e) if e.is_timeout() => return Err(SmsError::Timeout(timeout_ms)),
        Err(_) => return Err(SmsError::BadAnswer { status }),
    };
    let Ok(a) = serde_json::from_slice::<Answer>(&bytes) else {
        return Err(SmsError::BadAnswer { status });
    };
    if a.code == "OK" && (200..300).contains(&status) {
        return Ok(a.biz_id);
    }
    Err(SmsError::from_code(&a.code, &a.message))
}

#[async_trait::async_trait]
impl SmsGateway for AliyunSms {
    async fn send(&self, request: SmsRequest) -> Result<String, SmsError> {
        let nonce = uuid::Uuid::new_v4().to_string();
        let params = self.signed_params("POST", &request, &nonce, Utc::now())?;
        self.post(&params).await
    }
}
