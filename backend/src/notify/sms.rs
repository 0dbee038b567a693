//! SMS: our templates, the gateway interface, the vendor's error codes and its request
//! signature.
//!
//! The gateway is Alibaba Cloud SMS `SendSms` (the usual vendor of Chinese CAs): a request
//! names the phone, a registered signature (签名), a template code and the template's
//! parameters, and is signed with the account's AccessKey secret (HMAC-SHA1 over the
//! canonical query string, signature version 1.0). [`super::aliyun`] is the client;
//! [`super::sms_sandbox`] is the vendor's side, served by a development or staging server
//! under `/sandbox/aliyun-sms/`, which checks all of that as the vendor does and keeps what
//! it accepts in the outbox. On a staging server each text carries 【测试环境】 after the
//! signature.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::Sha1;

/// Our registered SMS signature (the default of `CERTDESK_SMS_SIGN_NAME`).
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

/// Every template's code, as [`Template::code`] names them.
pub const TEMPLATE_CODES: [&str; 13] = [
    "SMS_CD_REGISTER",
    "SMS_CD_RESET",
    "SMS_CD_UNLOCK",
    "SMS_CD_CERTIFICATE",
    "SMS_CD_REGISTERED",
    "SMS_CD_PASSWORD",
    "SMS_CD_KEY",
    "SMS_CD_APPROVED",
    "SMS_CD_REJECTED",
    "SMS_CD_REQUEST_APPROVED",
    "SMS_CD_REQUEST_REJECTED",
    "SMS_CD_REQUEST_DONE",
    "SMS_CD_EXPIRY",
];

/// The parameters that carry one-time codes (kept whole only in a sandbox's outbox).
pub const CODE_PARAMS: [&str; 2] = ["code", "auth_code"];

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

    pub fn params(&self) -> BTreeMap<&'static str, String> {
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

    /// A template kept for the relay, from its code and parameters (an expiry notice is the
    /// only one a transaction keeps).
    pub fn from_parts(code: &str, params: &BTreeMap<String, String>) -> Option<Template> {
        match code {
            "SMS_CD_EXPIRY" => Some(Template::ExpiryNotice {
                name: params.get("name")?.clone(),
                date: params.get("date")?.clone(),
                days: params.get("days")?.parse().ok()?,
            }),
            _ => None,
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
}

/// The text of each registered template, `${name}` for parameters.
pub fn template_text(code: &str) -> Option<&'static str> {
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

/// A sent message as staff may read it: each one-time code of its template (`${code}`,
/// `${auth_code}`) replaced by [`super::MASK`], live or not. The body is matched against its
/// template's text; one that does not follow it (an e-mail, an unknown template) is withheld
/// whole, so a code can never show through a text we did not expect.
pub fn without_codes(template: &str, body: &str) -> String {
    template_text(template).map_or_else(|| super::MASK.to_owned(), |text| masked(text, body))
}

/// `body`, sent from template `text`, with its code parameters masked (see [`without_codes`]).
fn masked(text: &str, body: &str) -> String {
    // The template as literal text and parameter names, in order.
    let mut parts: Vec<(bool, &str)> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else { break };
        parts.push((false, &rest[..start]));
        parts.push((true, &rest[start + 2..start + len]));
        rest = &rest[start + len + 1..];
    }
    parts.push((false, rest));
    // The signature (【CertDesk】) before the template's first words stays as sent; a template
    // that starts with a parameter has nothing to find that start by: withheld.
    if parts[0].1.is_empty() {
        return super::MASK.to_owned();
    }
    let Some(mut at) = body.find(parts[0].1) else { return super::MASK.to_owned() };
    let mut out = body[..at].to_owned();
    for (i, (param, part)) in parts.iter().enumerate() {
        if !param {
            if !body[at..].starts_with(part) {
                return super::MASK.to_owned();
            }
            out.push_str(part);
            at += part.len();
            continue;
        }
        // A value runs to the next literal text (to the end for a last parameter). Two
        // parameters side by side have no text between them to end the first: withheld.
        let last = i + 2 >= parts.len();
        let len = match parts.get(i + 1).map(|p| p.1) {
            Some("") if last => body.len() - at,
            Some("") => return super::MASK.to_owned(),
            Some(n) => match body[at..].find(n) {
                Some(len) => len,
                None => return super::MASK.to_owned(),
            },
            None => body.len() - at,
        };
        out.push_str(if CODE_PARAMS.contains(part) { super::MASK } else { &body[at..at + len] });
        at += len;
    }
    if at != body.len() {
        return super::MASK.to_owned();
    }
    out
}

/// `text` with each `${name}` replaced by its value.
pub(crate) fn fill(text: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, SmsError> {
    let mut body = text.to_owned();
    while let Some(start) = body.find("${") {
        let end = body[start..].find('}').map(|e| start + e).ok_or(SmsError::TemplateIllegal)?;
        let v = value(&body[start + 2..end]).ok_or(SmsError::TemplateMissingParameters)?;
        body.replace_range(start..=end, &v);
    }
    Ok(body)
}

/// A text as it reaches the phone: the signature first, and on staging [`STAGING_MARK`].
pub(crate) fn signed(sign_name: &str, body: &str, staging: bool) -> String {
    let mark = if staging { STAGING_MARK } else { "" };
    format!("【{sign_name}】{mark}{body}")
}

/// The `${name}` parameters a template text names.
fn param_names(text: &str) -> std::collections::BTreeSet<&str> {
    text.split("${").skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect()
}

/// The text a template's message reads, as the gateway keeps it in the outbox. For messages
/// written into the outbox inside the caller's transaction ([`super::keep_in`]), which must
/// carry no one-time codes.
pub fn text(template: &Template, staging: bool) -> Result<String, SmsError> {
    let raw = template_text(template.code()).ok_or(SmsError::TemplateIllegal)?;
    let params = template.params();
    Ok(signed(SIGN_NAME, &fill(raw, |name| params.get(name).cloned())?, staging))
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

/// Why a message was not sent: the vendor's refusals by their codes, and the transport's
/// failures. `Display` is the code (and the vendor's message); it never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The number is not a valid mainland mobile number (or cannot receive SMS).
    #[error("isv.MOBILE_NUMBER_ILLEGAL")]
    MobileNumberIllegal,
    /// The vendor's per-number flow control (verification codes: 1 a minute, 5 an hour, 10 a day).
    #[error("isv.BUSINESS_LIMIT_CONTROL")]
    BusinessLimitControl,
    /// The account's daily total set in the console is reached.
    #[error("isv.DAY_LIMIT_CONTROL")]
    DayLimitControl,
    #[error("isv.SMS_TEMPLATE_ILLEGAL")]
    TemplateIllegal,
    #[error("isv.TEMPLATE_MISSING_PARAMETERS")]
    TemplateMissingParameters,
    /// The signature (签名) is not registered for the account.
    #[error("isv.SMS_SIGNATURE_ILLEGAL")]
    SignatureIllegal,
    /// The request's signature does not verify: a wrong AccessKey secret.
    #[error("SignatureDoesNotMatch")]
    SignatureDoesNotMatch,
    /// The request's nonce was used before (a replay).
    #[error("SignatureNonceUsed")]
    SignatureNonceUsed,
    /// The request's timestamp is more than 15 minutes off.
    #[error("InvalidTimeStamp.Expired")]
    TimestampExpired,
    #[error("InvalidAccessKeyId.NotFound")]
    AccessKeyIdNotFound,
    /// The account's balance is spent.
    #[error("isv.AMOUNT_NOT_ENOUGH")]
    AmountNotEnough,
    /// The vendor's API throttling (`Throttling`, `Throttling.User`, …).
    #[error("{0}")]
    Throttling(String),
    /// `isp.SYSTEM_ERROR`: the vendor failed; the message may or may not have gone out.
    #[error("isp.SYSTEM_ERROR: {0}")]
    System(String),
    /// Any other code the vendor answers, with its message.
    #[error("{code}: {message}")]
    Other { code: String, message: String },
    /// No connection could be made to the endpoint (nothing was sent).
    #[error("SMS gateway unreachable: {0}")]
    Unreachable(String),
    /// The request went out and no answer came in time: it may have been sent.
    #[error("SMS gateway timed out after {0} ms")]
    Timeout(u64),
    /// An answer that is not the vendor's JSON.
    #[error("SMS gateway answered HTTP {status} without a code")]
    BadAnswer { status: u16 },
}

impl SmsError {
    /// The vendor's code for this refusal.
    pub fn code(&self) -> &str {
        match self {
            SmsError::MobileNumberIllegal => "isv.MOBILE_NUMBER_ILLEGAL",
            SmsError::BusinessLimitControl => "isv.BUSINESS_LIMIT_CONTROL",
            SmsError::DayLimitControl => "isv.DAY_LIMIT_CONTROL",
            SmsError::TemplateIllegal => "isv.SMS_TEMPLATE_ILLEGAL",
            SmsError::TemplateMissingParameters => "isv.TEMPLATE_MISSING_PARAMETERS",
            SmsError::SignatureIllegal => "isv.SMS_SIGNATURE_ILLEGAL",
            SmsError::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            SmsError::SignatureNonceUsed => "SignatureNonceUsed",
            SmsError::TimestampExpired => "InvalidTimeStamp.Expired",
            SmsError::AccessKeyIdNotFound => "InvalidAccessKeyId.NotFound",
            SmsError::AmountNotEnough => "isv.AMOUNT_NOT_ENOUGH",
            SmsError::Throttling(code) => code,
            SmsError::System(_) => "isp.SYSTEM_ERROR",
            SmsError::Other { code, .. } => code,
            SmsError::Unreachable(_) | SmsError::Timeout(_) | SmsError::BadAnswer { .. } => "",
        }
    }

    /// The refusal a vendor's answer `{"Code": code, "Message": message}` stands for.
    pub fn from_code(code: &str, message: &str) -> SmsError {
        match code {
            "isv.MOBILE_NUMBER_ILLEGAL" => SmsError::MobileNumberIllegal,
            "isv.BUSINESS_LIMIT_CONTROL" => SmsError::BusinessLimitControl,
            "isv.DAY_LIMIT_CONTROL" => SmsError::DayLimitControl,
            "isv.SMS_TEMPLATE_ILLEGAL" => SmsError::TemplateIllegal,
            "isv.TEMPLATE_MISSING_PARAMETERS" => SmsError::TemplateMissingParameters,
            "isv.SMS_SIGNATURE_ILLEGAL" => SmsError::SignatureIllegal,
            "SignatureDoesNotMatch" => SmsError::SignatureDoesNotMatch,
            "SignatureNonceUsed" => SmsError::SignatureNonceUsed,
            "InvalidTimeStamp.Expired" => SmsError::TimestampExpired,
            "InvalidAccessKeyId.NotFound" => SmsError::AccessKeyIdNotFound,
            "isv.AMOUNT_NOT_ENOUGH" => SmsError::AmountNotEnough,
            "isp.SYSTEM_ERROR" => SmsError::System(message.to_owned()),
            c if c.starts_with("Throttling") => SmsError::Throttling(c.to_owned()),
            c => SmsError::Other { code: c.to_owned(), message: message.to_owned() },
        }
    }

    /// The vendor's message for this refusal (what the sandbox answers).
    pub fn message(&self) -> String {
        match self {
            SmsError::MobileNumberIllegal => "非法手机号".into(),
            SmsError::BusinessLimitControl => "触发小时级流控Permits:5".into(),
            SmsError::DayLimitControl => "触发日发送限额".into(),
            SmsError::TemplateIllegal => "该账号下找不到对应模板".into(),
            SmsError::TemplateMissingParameters => "模板变量缺少对应参数值".into(),
            SmsError::SignatureIllegal => "该账号下找不到对应签名".into(),
            SmsError::SignatureDoesNotMatch => "Specified signature is not matched with our calculation.".into(),
            SmsError::SignatureNonceUsed => "Specified signature nonce was used already.".into(),
            SmsError::TimestampExpired => "Specified time stamp or date value is expired.".into(),
            SmsError::AccessKeyIdNotFound => "Specified access key is not found.".into(),
            SmsError::AmountNotEnough => "账户余额不足".into(),
            SmsError::Throttling(_) => "Request was denied due to request throttling.".into(),
            SmsError::System(m) | SmsError::Other { message: m, .. } => m.clone(),
            other => other.to_string(),
        }
    }
}

/// Sends SMS. Returns the vendor's BizId.
#[async_trait::async_trait]
pub trait SmsGateway: Send + Sync {
    async fn send(&self, request: SmsRequest) -> Result<String, SmsError>;
}

/// RFC 3986's unreserved characters stay; everything else is percent-encoded (UTF-8), as the
/// vendor's signature wants it (a space is `%20`, `*` is `%2A`, `~` stays).
const RPC_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub(crate) fn pct(s: &str) -> String {
    utf8_percent_encode(s, RPC_ENCODE).to_string()
}

/// The canonical query string: sorted parameters, each name and value percent-encoded. Also
/// the body of a POST (`application/x-www-form-urlencoded`).
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect::<Vec<_>>().join("&")
}

/// Signature v1.0: HMAC-SHA1 with `secret&` over `<METHOD>&%2F&<encoded canonical query>`.
pub fn sign(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    let to_sign = format!("{method}&{}&{}", pct("/"), pct(&canonical_query(params)));
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(format!("{secret}&").as_bytes()).unwrap_or_else(|_| unreachable());
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn unreachable() -> Hmac<Sha1> {
    panic!("HMAC-SHA1 refused a key")
}

/// Our templates as the vendor approved them for the account: each template's code
/// (`SMS_123456789`) by our name (`SMS_CD_REGISTER`).
#[derive(Debug, Clone)]
pub struct VendorTemplates(BTreeMap<&'static str, String>);

/// One entry of the `CERTDESK_SMS_TEMPLATES` file.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Registered {
    code: String,
    text: String,
}

impl VendorTemplates {
    /// The sandbox registers our templates under our own names.
    pub fn ours() -> VendorTemplates {
        VendorTemplates(TEMPLATE_CODES.iter().map(|c| (*c, (*c).to_owned())).collect())
    }

    /// Reads the `CERTDESK_SMS_TEMPLATES` file: `{"SMS_CD_REGISTER": {"code": "SMS_…", "text":
    /// "…"}, …}`. Every template of ours must be there, each registered text must name
    /// exactly our parameters, and a staging server's texts must begin with 【测试环境】 (the
    /// vendor sends a template's text as registered, so that is where the mark lives).
    pub fn parse(json: &str, staging: bool) -> anyhow::Result<VendorTemplates> {
        let file: BTreeMap<String, Registered> =
            serde_json::from_str(json).map_err(|e| anyhow::anyhow!("not the expected JSON: {e}"))?;
        if let Some(unknown) = file.keys().find(|k| !TEMPLATE_CODES.contains(&k.as_str())) {
            anyhow::bail!("{unknown} is not one of our templates ({})", TEMPLATE_CODES.join(", "));
        }
        let mut map = BTreeMap::new();
        for ours in TEMPLATE_CODES {
            let Some(r) = file.get(ours) else { anyhow::bail!("{ours} has no entry") };
            if r.code.trim().is_empty() {
                anyhow::bail!("{ours} has no vendor template code");
            }
            let want = param_names(template_text(ours).unwrap_or_default());
            let have = param_names(&r.text);
            if want != have {
                anyhow::bail!("{ours}: the registered text names the parameters {have:?}, ours are {want:?}");
            }
            if staging && !r.text.starts_with(STAGING_MARK) {
                anyhow::bail!("{ours}: a staging server's templates begin with {STAGING_MARK}");
            }
            map.insert(ours, r.code.trim().to_owned());
        }
        Ok(VendorTemplates(map))
    }

    /// The vendor's code of one of our templates.
    pub fn vendor_code(&self, ours: &str) -> Option<&str> {
        self.0.get(ours).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_read_sent_messages_without_their_codes() {
        let approved = "【CertDesk】您的数字证书申请（业务受理号：BH2026120300001）已审核通过，下载授权码：12345678。请登录系统，插入介质后下载证书。";
        assert_eq!(
            without_codes("SMS_CD_APPROVED", approved),
            "【CertDesk】您的数字证书申请（业务受理号：BH2026120300001）已审核通过，下载授权码：******。请登录系统，插入介质后下载证书。"
        );
        let register = "【CertDesk】您正在注册CertDesk自助服务系统，验证码：482913，5分钟内有效。请勿泄露给他人。";
        let shown = without_codes("SMS_CD_REGISTER", register);
        assert!(!shown.contains("482913") && shown.contains("验证码：******，"), "{shown}");
        // No code in it: shown whole.
        let done = "【CertDesk】您的证书注销业务（业务受理号：BH1）已办理完成，详情请登录系统查看。";
        assert_eq!(without_codes("SMS_CD_REQUEST_DONE", done), done);
        // A body that does not follow its template, or an unknown template: withheld whole.
        assert_eq!(without_codes("SMS_CD_REGISTER", "验证码 482913"), "******");
        assert_eq!(without_codes("review_result", "下载授权码：12345678"), "******");
        assert_eq!(without_codes("SMS_CD_REGISTER", &format!("{register}482913")), "******");
        // Parameters side by side, or one first, have no words to end or start by: withheld.
        assert_eq!(masked("尊敬的${name}${code}，您好", "尊敬的张三123456，您好"), "******");
        assert_eq!(masked("${code}是验证码", "123456是验证码"), "******");
        assert_eq!(masked("验证码${code}，${name}", "验证码123456，张三"), "验证码******，张三");
    }

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
        assert_eq!(sign("GET", &params, "testSecret"), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
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

    #[test]
    fn encoding_is_the_vendors() {
        assert_eq!(pct("a b*c~d/é+"), "a%20b%2Ac~d%2F%C3%A9%2B");
    }

    fn templates_file(text: impl Fn(&str) -> String) -> String {
        let entries: serde_json::Map<String, serde_json::Value> = TEMPLATE_CODES
            .iter()
            .enumerate()
            .map(|(i, c)| ((*c).to_owned(), serde_json::json!({ "code": format!("SMS_4{i:08}"), "text": text(c) })))
            .collect();
        serde_json::Value::Object(entries).to_string()
    }

    #[test]
    fn the_templates_file_names_every_template_with_our_parameters() {
        let ours = |c: &str| template_text(c).unwrap().to_owned();
        let t = VendorTemplates::parse(&templates_file(ours), false).unwrap();
        assert_eq!(t.vendor_code("SMS_CD_REGISTER"), Some("SMS_400000000"));
        // Staging: the registered texts must carry the mark.
        let err = VendorTemplates::parse(&templates_file(ours), true).unwrap_err().to_string();
        assert!(err.contains(STAGING_MARK), "{err}");
        let marked = |c: &str| format!("{STAGING_MARK}{}", template_text(c).unwrap());
        VendorTemplates::parse(&templates_file(marked), true).unwrap();
        // A text that lost a parameter, a missing entry.
        let lost = |c: &str| template_text(c).unwrap().replace("${code}", "");
        assert!(
            VendorTemplates::parse(&templates_file(lost), false).unwrap_err().to_string().contains("SMS_CD_REGISTER")
        );
        let mut v: serde_json::Value = serde_json::from_str(&templates_file(ours)).unwrap();
        v.as_object_mut().unwrap().remove("SMS_CD_EXPIRY");
        assert!(VendorTemplates::parse(&v.to_string(), false).unwrap_err().to_string().contains("SMS_CD_EXPIRY"));
    }

    #[test]
    fn vendor_codes_round_trip() {
        for e in [
            SmsError::MobileNumberIllegal,
            SmsError::BusinessLimitControl,
            SmsError::DayLimitControl,
            SmsError::TemplateIllegal,
            SmsError::TemplateMissingParameters,
            SmsError::SignatureIllegal,
            SmsError::SignatureDoesNotMatch,
            SmsError::SignatureNonceUsed,
            SmsError::TimestampExpired,
            SmsError::AccessKeyIdNotFound,
            SmsError::AmountNotEnough,
            SmsError::Throttling("Throttling.User".into()),
        ] {
            assert_eq!(SmsError::from_code(e.code(), &e.message()), e);
        }
    }
}
