//! SMS: the gateway interface and the sandbox gateway.
//!
//! The interface is modelled on Alibaba Cloud SMS `SendSms` (the usual vendor of Chinese CAs):
//! a request names the phone, a registered signature (签名), a template code and the
//! template's parameters, and is signed with the account's AccessKey secret (HMAC-SHA1 over
//! the canonical query string, signature version 1.0). The sandbox checks all of that the way
//! the vendor does and answers with the vendor's codes: a bad signature, an unknown template,
//! a missing parameter, an invalid number and the per-number flow control are refused as
//! they would be. What it accepts lands in the outbox, which administrators read in the
//! admin area and tests read through the admin API. On a staging server each text carries
//! 【测试环境】 after the signature.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Our registered SMS signature.
pub const SIGN_NAME: &str = "CertDesk";

/// What a staging server puts after the signature of every SMS.
pub const STAGING_MARK: &str = "【测试环境】";

/// The registered templates. Their texts follow the seeds' wording.
#[derive(Debug, Clone)]
pub enum Template {
    /// 验证码 for registration.
    RegisterCode { code: String },
    /// 验证码 for the forgotten password.
    ResetPasswordCode { code: String },
    /// 验证码 for unlocking a token's PIN (证书解锁).
    TokenUnlockCode { code: String },
    /// 验证码 for a holder's certificate business (证书注销, 证书补办, 解冻), to the phone of record;
    /// `action` names it.
    CertificateCode { code: String, action: String },
    /// Someone asked for a registration code for a phone that already has an account.
    AlreadyRegistered,
    /// The password of the account was changed or reset.
    PasswordChanged,
    /// A security key was added to the account, or removed from it.
    SecurityKeyChanged { added: bool },
    /// An application passed review: the acceptance number and the download authorization code.
    ApplicationApproved { acceptance_no: String, auth_code: String },
    /// An application was sent back with reasons.
    ApplicationRejected { acceptance_no: String },
    /// A request of another kind (延期 …) passed review; `kind` is its name (证书延期).
    RequestApproved { kind: String, acceptance_no: String },
    /// A request of another kind was sent back with reasons.
    RequestRejected { kind: String, acceptance_no: String },
    /// A request was fulfilled (a renewal: the new certificate is on the token).
    RequestDone { kind: String, acceptance_no: String },
    /// 通知消息: a certificate expires in `days` days (90, 30 or 7), on `date`; renew it.
    ExpiryNotice { name: String, date: String, days: i32 },
}

impl Template {
    pub fn code(&self) -> &'static str {
        match self {
            Template::RegisterCode { .. } => "SMS_CD_REGISTER",
            Template::ResetPasswordCode { .. } => "SMS_CD_RESET",
            Template::TokenUnlockCode { .. } => "SMS_CD_UNLOCK",
            Template::CertificateCode { .. } => "SMS_CD_CERTIFICATE",
            Template::AlreadyRegistered => "SMS_CD_REGISTERED",
            Template::PasswordChanged => "SMS_CD_PASSWORD",
            Template::SecurityKeyChanged { .. } => "SMS_CD_KEY",
            Template::ApplicationApproved { .. } => "SMS_CD_APPROVED",
            Template::ApplicationRejected { .. } => "SMS_CD_REJECTED",
            Template::RequestApproved { .. } => "SMS_CD_REQUEST_APPROVED",
            Template::RequestRejected { .. } => "SMS_CD_REQUEST_REJECTED",
            Template::RequestDone { .. } => "SMS_CD_REQUEST_DONE",
            Template::ExpiryNotice { .. } => "SMS_CD_EXPIRY",
        }
    }

    fn params(&self) -> BTreeMap<&'static str, String> {
        match self {
            Template::RegisterCode { code }
            | Template::ResetPasswordCode { code }
            | Template::TokenUnlockCode { code } => BTreeMap::from([("code", code.clone())]),
            Template::CertificateCode { code, action } => {
                BTreeMap::from([("code", code.clone()), ("action", action.clone())])
            }
            Template::ApplicationApproved { acceptance_no, auth_code } => {
                BTreeMap::from([("acceptance_no", acceptance_no.clone()), ("auth_code", auth_code.clone())])
            }
            Template::ApplicationRejected { acceptance_no } => {
                BTreeMap::from([("acceptance_no", acceptance_no.clone())])
            }
            Template::RequestApproved { kind, acceptance_no }
            | Template::RequestRejected { kind, acceptance_no }
            | Template::RequestDone { kind, acceptance_no } => {
                BTreeMap::from([("kind", kind.clone()), ("acceptance_no", acceptance_no.clone())])
            }
            Template::ExpiryNotice { name, date, days } => {
                BTreeMap::from([("name", name.clone()), ("date", date.clone()), ("days", days.to_string())])
            }
            Template::SecurityKeyChanged { added } => {
                BTreeMap::from([("action", if *added { "添加" } else { "删除" }.to_owned())])
            }
            _ => BTreeMap::new(),
        }
    }

    /// The one-time codes the message carries (kept whole only in a sandbox's outbox).
    pub fn one_time_codes(&self) -> Vec<&str> {
        match self {
            Template::RegisterCode { code }
            | Template::ResetPasswordCode { code }
            | Template::TokenUnlockCode { code }
            | Template::CertificateCode { code, .. } => vec![code.as_str()],
            Template::ApplicationApproved { auth_code, .. } => vec![auth_code.as_str()],
            _ => Vec::new(),
        }
    }

    /// Verification-code templates fall under the vendor's stricter flow control.
    fn is_code(&self) -> bool {
        matches!(
            self,
            Template::RegisterCode { .. }
                | Template::ResetPasswordCode { .. }
                | Template::TokenUnlockCode { .. }
                | Template::CertificateCode { .. }
        )
    }
}

/// The text of each registered template, `${name}` for parameters.
fn template_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "SMS_CD_REGISTER" => "您正在注册CertDesk自助服务系统，验证码：${code}，5分钟内有效。请勿泄露给他人。",
        "SMS_CD_RESET" => "您正在找回登录密码，验证码：${code}，5分钟内有效。如非本人操作，请忽略本短信。",
        "SMS_CD_UNLOCK" => {
            "您正在解锁数字证书介质的PIN码，验证码：${code}，5分钟内有效。如非本人操作，请立即联系客服。"
        }
        "SMS_CD_CERTIFICATE" => {
            "您正在办理数字证书${action}业务，验证码：${code}，5分钟内有效。如非本人操作，请勿泄露并立即联系客服。"
        }
        "SMS_CD_REGISTERED" => {
            "您的手机号已注册CertDesk自助服务系统账号，无需重复注册。如忘记密码，请使用“忘记密码”找回。"
        }
        "SMS_CD_PASSWORD" => "您的CertDesk登录密码已修改。如非本人操作，请立即找回密码并联系客服。",
        "SMS_CD_KEY" => {
            "您的CertDesk账号已${action}一个安全密钥。如非本人操作，请立即修改密码、删除陌生的安全密钥并联系客服。"
        }
        "SMS_CD_APPROVED" => {
            "您的数字证书申请（业务受理号：${acceptance_no}）已审核通过，下载授权码：${auth_code}。请登录系统，插入介质后下载证书。"
        }
        "SMS_CD_REJECTED" => {
            "您的数字证书申请（业务受理号：${acceptance_no}）未通过审核，请登录系统查看原因，修改后重新提交。"
        }
        "SMS_CD_REQUEST_APPROVED" => {
            "您的${kind}申请（业务受理号：${acceptance_no}）已审核通过，请登录系统，插入介质后完成证书下载。"
        }
        "SMS_CD_REQUEST_REJECTED" => {
            "您的${kind}申请（业务受理号：${acceptance_no}）未通过审核，请登录系统查看原因，修改后重新提交。"
        }
        "SMS_CD_REQUEST_DONE" => "您的${kind}业务（业务受理号：${acceptance_no}）已办理完成，详情请登录系统查看。",
        "SMS_CD_EXPIRY" => {
            "您的数字证书（${name}）将于${date}到期，还有${days}天。请登录CertDesk自助服务系统，在“通知消息”中点击“延期”办理证书延期。"
        }
        _ => return None,
    })
}

/// `text` with each `${name}` replaced by its value.
fn fill(text: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, SmsError> {
    let mut body = text.to_owned();
    while let Some(start) = body.find("${") {
        let end = body[start..].find('}').map(|e| start + e).ok_or(SmsError::TemplateIllegal)?;
        let v = value(&body[start + 2..end]).ok_or(SmsError::TemplateMissingParameters)?;
        body.replace_range(start..=end, &v);
    }
    Ok(body)
}

/// A text as it reaches the phone: our signature first, and on staging [`STAGING_MARK`].
fn signed(body: &str, staging: bool) -> String {
    let mark = if staging { STAGING_MARK } else { "" };
    format!("【{SIGN_NAME}】{mark}{body}")
}

/// The text a template's message reads, as the gateway keeps it in the outbox. For messages
/// written into the outbox inside the caller's transaction ([`super::keep_in`]), which must
/// carry no one-time codes.
pub fn text(template: &Template, staging: bool) -> Result<String, SmsError> {
    let raw = template_text(template.code()).ok_or(SmsError::TemplateIllegal)?;
    let params = template.params();
    Ok(signed(&fill(raw, |name| params.get(name).cloned())?, staging))
}

/// One `SendSms` call.
#[derive(Debug, Clone)]
pub struct SmsRequest {
    pub phone: String,
    pub template: Template,
}

impl SmsRequest {
    pub fn new(phone: &str, template: Template) -> SmsRequest {
        SmsRequest { phone: phone.to_owned(), template }
    }
}

/// The vendor's refusals, by their codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    #[error("isv.MOBILE_NUMBER_ILLEGAL")]
    MobileNumberIllegal,
    #[error("isv.BUSINESS_LIMIT_CONTROL")]
    BusinessLimitControl,
    #[error("isv.SMS_TEMPLATE_ILLEGAL")]
    TemplateIllegal,
    #[error("isv.TEMPLATE_MISSING_PARAMETERS")]
    TemplateMissingParameters,
    #[error("isv.SMS_SIGNATURE_ILLEGAL")]
    SignatureIllegal,
    #[error("SignatureDoesNotMatch")]
    SignatureDoesNotMatch,
    #[error("isp.SYSTEM_ERROR: {0}")]
    System(String),
}

/// Sends SMS. Returns the vendor's BizId.
#[async_trait::async_trait]
pub trait SmsGateway: Send + Sync {
    async fn send(&self, request: SmsRequest) -> Result<String, SmsError>;
}

/// RFC 3986 percent-encoding as the vendor's signature wants it.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Signature v1.0: HMAC-SHA1 with `secret&` over `GET&%2F&<encoded canonical query>`.
pub fn sign(params: &BTreeMap<String, String>, secret: &str) -> String {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect();
    let to_sign = format!("GET&{}&{}", pct("/"), pct(&query.join("&")));
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(format!("{secret}&").as_bytes()).unwrap_or_else(|_| unreachable());
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn unreachable() -> Hmac<Sha1> {
    panic!("HMAC-SHA1 refused a key")
}

/// The sandbox: a client half that builds and signs the vendor's request, and a gateway
/// half that checks it as the vendor does and keeps accepted messages in the outbox.
pub struct SandboxGateway {
    outbox: super::Outbox,
    /// A staging server's gateway: every text carries [`STAGING_MARK`].
    staging: bool,
    access_key_id: String,
    secret: String,
}

impl SandboxGateway {
    pub fn new(outbox: super::Outbox, staging: bool) -> anyhow::Result<SandboxGateway> {
        Ok(SandboxGateway {
            outbox,
            staging,
            access_key_id: "LTAIsandbox".into(),
            secret: crate::domain::random_token::<24>()?,
        })
    }

    /// The request as it would go over the wire.
    pub fn signed_params(&self, request: &SmsRequest, nonce: &str) -> Result<BTreeMap<String, String>, SmsError> {
        let param_json =
            serde_json::to_string(&request.template.params()).map_err(|e| SmsError::System(e.to_string()))?;
        let mut p: BTreeMap<String, String> = [
            ("AccessKeyId", self.access_key_id.clone()),
            ("Action", "SendSms".into()),
            ("Format", "JSON".into()),
            ("PhoneNumbers", request.phone.clone()),
            ("RegionId", "cn-hangzhou".into()),
            ("SignName", SIGN_NAME.into()),
            ("SignatureMethod", "HMAC-SHA1".into()),
            ("SignatureNonce", nonce.into()),
            ("SignatureVersion", "1.0".into()),
            ("TemplateCode", request.template.code().into()),
            ("TemplateParam", param_json),
            ("Timestamp", Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            ("Version", "2017-05-25".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let signature = sign(&p, &self.secret);
        p.insert("Signature".into(), signature);
        Ok(p)
    }

    /// The vendor's side: verify, check, render, keep. `codes` are the one-time codes among
    /// the parameters. Returns the BizId.
    pub async fn receive(
        &self,
        mut params: BTreeMap<String, String>,
        is_code: bool,
        codes: &[&str],
    ) -> Result<String, SmsError> {
        let signature = params.remove("Signature").unwrap_or_default();
        if !crate::domain::same(&sign(&params, &self.secret), &signature) {
            return Err(SmsError::SignatureDoesNotMatch);
        }
        let get = |k: &str| params.get(k).cloned().unwrap_or_default();
        if get("SignName") != SIGN_NAME {
            return Err(SmsError::SignatureIllegal);
        }
        let phone = get("PhoneNumbers");
        // Mainland numbers only; the 170/171 virtual-operator block counts as unreachable in
        // the sandbox, so the failure path can be exercised.
        if certdesk_shared::Mobile::parse(&phone).is_err() || phone.starts_with("170") || phone.starts_with("171") {
            return Err(SmsError::MobileNumberIllegal);
        }
        let code = get("TemplateCode");
        let text = template_text(&code).ok_or(SmsError::TemplateIllegal)?;
        let values: BTreeMap<String, String> =
            serde_json::from_str(&get("TemplateParam")).map_err(|_| SmsError::TemplateMissingParameters)?;
        let body = fill(text, |name| values.get(name).cloned())?;
        // The vendor's flow control for verification codes: 5 per number per hour.
        if is_code {
            let since = Utc::now() - Duration::hours(1);
            let sent = crate::domain::query_one(
                self.outbox.db(),
                "SELECT COUNT(*) AS n FROM outbox_message WHERE channel = 'sms' AND recipient = $1 AND template IN ('SMS_CD_REGISTER', 'SMS_CD_RESET', 'SMS_CD_UNLOCK') AND created_at > $2",
                vec![phone.clone().into(), since.into()],
            )
            .await
            .map_err(|e| SmsError::System(e.to_string()))?
            .and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(0);
            if sent >= 5 {
                return Err(SmsError::BusinessLimitControl);
            }
        }
        let body = signed(&body, self.staging);
        self.outbox.keep("sms", &phone, &code, &body, codes).await.map_err(|e| SmsError::System(e.to_string()))?;
        crate::domain::random_token::<12>().map_err(|e| SmsError::System(e.to_string()))
    }
}

#[async_trait::async_trait]
impl SmsGateway for SandboxGateway {
    async fn send(&self, request: SmsRequest) -> Result<String, SmsError> {
        let nonce = crate::domain::random_token::<16>().map_err(|e| SmsError::System(e.to_string()))?;
        let params = self.signed_params(&request, &nonce)?;
        self.receive(params, request.template.is_code(), &request.template.one_time_codes()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_vendors_documented_example() {
        // Alibaba Cloud's worked example for signature version 1.0 (id "testId", secret "testSecret").
        let params: BTreeMap<String, String> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(sign(&params, "testSecret"), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
    }

    #[test]
    fn a_text_is_filled_and_signed() {
        let t = Template::ExpiryNotice { name: "张三".into(), date: "2027-01-01".into(), days: 7 };
        let body = text(&t, true).unwrap();
        assert!(
            body.starts_with("【CertDesk】【测试环境】您的数字证书（张三）将于2027-01-01到期，还有7天。"),
            "{body}"
        );
        assert!(!body.contains("${"), "{body}");
        assert!(!text(&t, false).unwrap().contains(STAGING_MARK));
    }

    #[test]
    fn templates_are_registered() {
        for t in [
            Template::RegisterCode { code: "1".into() },
            Template::ResetPasswordCode { code: "1".into() },
            Template::TokenUnlockCode { code: "1".into() },
            Template::CertificateCode { code: "1".into(), action: "证书注销".into() },
            Template::AlreadyRegistered,
            Template::PasswordChanged,
            Template::SecurityKeyChanged { added: true },
            Template::ApplicationApproved { acceptance_no: "1".into(), auth_code: "2".into() },
            Template::ApplicationRejected { acceptance_no: "1".into() },
            Template::ExpiryNotice { name: "n".into(), date: "2027-01-01".into(), days: 30 },
        ] {
            let text = template_text(t.code()).unwrap();
            for k in t.params().keys() {
                assert!(text.contains(&format!("${{{k}}}")));
            }
        }
    }
}
