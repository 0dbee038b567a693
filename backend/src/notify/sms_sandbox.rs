//! The SMS sandbox: Alibaba Cloud's side of `SendSms`, served by a development or staging
//! server under `/sandbox/aliyun-sms/` (`http::sms_sandbox`). It checks a request as the
//! vendor does (AccessKey, signature, timestamp within 15 minutes, a nonce never seen before,
//! the registered signature and templates, the parameters, the number, the per-number flow
//! control) and answers with the vendor's codes; what it accepts lands in the outbox, whole
//! (codes included) since only a server that may run sandboxes serves it. Its AccessKey
//! secret and the nonces it has seen are rows (`sandbox_secret`, `sandbox_sms_nonce`), so
//! two servers on one database are one sandbox.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;

use super::sms::{CODE_PARAMS, SmsError, fill, sign, signed, template_text};

/// The sandbox account's AccessKey ID.
pub const ACCESS_KEY_ID: &str = "LTAIsandboxcertdesk";
/// Where its AccessKey secret is kept (`sandbox_secret.name`).
const SECRET_NAME: &str = "aliyun_sms_access_key_secret";
/// How far a request's timestamp may be from the sandbox's clock, as the vendor allows.
const CLOCK_SKEW_MINUTES: i64 = 15;
/// The verification-code templates the vendor's flow control counts, and its hourly limit
/// per number. (The vendor also allows one a minute and ten a day; our own limits in
/// `domain::codes`, per phone and purpose, stand in front of those.)
const FLOW_CONTROLLED: [&str; 3] = ["SMS_CD_REGISTER", "SMS_CD_RESET", "SMS_CD_UNLOCK"];
const PER_NUMBER_PER_HOUR: i64 = 5;

/// The sandbox AccessKey secret, made by the first server that needs it.
pub async fn access_key_secret(db: &DatabaseConnection) -> anyhow::Result<String> {
    crate::domain::sandbox_secret::get_or_make(db, SECRET_NAME, crate::domain::random_token::<24>).await
}

/// The vendor's side.
pub struct SmsSandbox {
    outbox: super::Outbox,
    /// The registered signature (`CERTDESK_SMS_SIGN_NAME`).
    sign_name: String,
    /// A staging server's sandbox: every text carries [`super::sms::STAGING_MARK`].
    staging: bool,
}

impl SmsSandbox {
    pub fn new(outbox: super::Outbox, sign_name: &str, staging: bool) -> SmsSandbox {
        SmsSandbox { outbox, sign_name: sign_name.to_owned(), staging }
    }

    /// One `SendSms` request as it arrived (`method` `GET` or `POST`, its parameters
    /// decoded). Returns the BizId, or the vendor's refusal; a refused request changes
    /// nothing (a nonce is spent only by a request whose signature verified).
    pub async fn receive(
        &self,
        method: &str,
        mut params: BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> Result<String, SmsError> {
        let db = self.outbox.db();
        let missing = |name: &str| SmsError::Other {
            code: "MissingParameter".into(),
            message: format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        };
        let signature = params.remove("Signature").ok_or_else(|| missing("Signature"))?;
        let get = |k: &str| params.get(k).cloned().ok_or_else(|| missing(k));
        if get("AccessKeyId")? != ACCESS_KEY_ID {
            return Err(SmsError::AccessKeyIdNotFound);
        }
        if get("SignatureMethod")? != "HMAC-SHA1" || get("SignatureVersion")? != "1.0" {
            return Err(SmsError::Other {
                code: "InvalidSignatureMethod".into(),
                message: "Specified signature method is not supported.".into(),
            });
        }
        let secret = access_key_secret(db).await.map_err(|e| SmsError::System(e.to_string()))?;
        if !crate::domain::same(&sign(method, &params, &secret), &signature) {
            return Err(SmsError::SignatureDoesNotMatch);
        }
        let timestamp = DateTime::parse_from_rfc3339(&get("Timestamp")?)
            .map_err(|_| SmsError::Other {
                code: "InvalidTimeStamp.Format".into(),
                message: "Specified time stamp or date value is not well formatted.".into(),
            })?
            .with_timezone(&Utc);
        if (now - timestamp).num_minutes().abs() >= CLOCK_SKEW_MINUTES {
            return Err(SmsError::TimestampExpired);
        }
        if get("Action")? != "SendSms" || get("Version")? != "2017-05-25" {
            return Err(SmsError::Other {
                code: "InvalidAction.NotFound".into(),
                message: "Specified api is not found, please check your url and method.".into(),
            });
        }
        let nonce = get("SignatureNonce")?;
        if nonce.is_empty() || nonce.len() > 128 {
            return Err(SmsError::Other {
                code: "InvalidParameter".into(),
                message: "Specified parameter SignatureNonce is not valid.".into(),
            });
        }
        self.spend_nonce(&nonce, now).await?;

        if get("SignName")? != self.sign_name {
            return Err(SmsError::SignatureIllegal);
        }
        let phone = get("PhoneNumbers")?;
        // Mainland numbers only; the 170/171 virtual-operator block counts as unreachable in
        // the sandbox, so the failure path can be exercised.
        if certdesk_shared::Mobile::parse(&phone).is_err() || phone.starts_with("170") || phone.starts_with("171") {
            return Err(SmsError::MobileNumberIllegal);
        }
        let code = get("TemplateCode")?;
        let text = template_text(&code).ok_or(SmsError::TemplateIllegal)?;
        let values: BTreeMap<String, String> =
            serde_json::from_str(&params.get("TemplateParam").cloned().unwrap_or_else(|| "{}".into()))
                .map_err(|_| SmsError::TemplateMissingParameters)?;
        let body = fill(text, |name| values.get(name).cloned())?;
        if FLOW_CONTROLLED.contains(&code.as_str()) {
            self.flow_control(&phone, now).await?;
        }
        let body = signed(&self.sign_name, &body, self.staging);
        let codes: Vec<&str> =
            CODE_PARAMS.iter().filter_map(|p| values.get(*p)).map(String::as_str).filter(|c| !c.is_empty()).collect();
        self.outbox.keep("sms", &phone, &code, &body, &codes).await.map_err(|e| SmsError::System(e.to_string()))?;
        Ok(format!("{}^0", crate::domain::random_token::<12>().map_err(|e| SmsError::System(e.to_string()))?))
    }

    /// Records a nonce, refusing one seen before (`SignatureNonceUsed`); forgets those whose
    /// requests could no longer pass the timestamp check.
    async fn spend_nonce(&self, nonce: &str, now: DateTime<Utc>) -> Result<(), SmsError> {
        let db = self.outbox.db();
        let system = |e: sea_orm::DbErr| SmsError::System(e.to_string());
        crate::domain::exec(
            db,
            "DELETE FROM sandbox_sms_nonce WHERE seen_at < $1",
            vec![(now - Duration::minutes(2 * CLOCK_SKEW_MINUTES)).into()],
        )
        .await
        .map_err(system)?;
        let taken = crate::domain::exec(
            db,
            "INSERT INTO sandbox_sms_nonce (nonce, seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            vec![nonce.into(), now.into()],
        )
        .await
        .map_err(system)?
        .rows_affected();
        if taken == 1 { Ok(()) } else { Err(SmsError::SignatureNonceUsed) }
    }

    /// The vendor's per-number flow control for verification codes, counted over what the
    /// sandbox accepted in the last hour.
    async fn flow_control(&self, phone: &str, now: DateTime<Utc>) -> Result<(), SmsError> {
        let templates = FLOW_CONTROLLED.map(|t| format!("'{t}'")).join(", ");
        let sent = crate::domain::query_one(
            self.outbox.db(),
            &format!(
                "SELECT COUNT(*) AS n FROM outbox_message WHERE channel = 'sms' AND recipient = $1 AND template IN ({templates}) AND created_at > $2"
            ),
            vec![phone.into(), (now - Duration::hours(1)).into()],
        )
        .await
        .map_err(|e| SmsError::System(e.to_string()))?
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0);
        if sent >= PER_NUMBER_PER_HOUR { Err(SmsError::BusinessLimitControl) } else { Ok(()) }
    }
}
