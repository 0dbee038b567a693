//! Errors on the wire: a stable code the app matches on, a message key for its
//! translations, and per-field validation errors.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::Lang;
use crate::validate::ValidationError;

/// Every error the API can answer with. The server sends only this code (never a cause)
/// for server-side failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    /// The body was not JSON, or not the JSON this endpoint takes.
    MalformedJson,
    /// One or more fields broke their rule; see `fields`.
    Validation,
    /// The body is larger than this endpoint accepts.
    PayloadTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// No such route or object (also for objects the caller may not see).
    NotFound,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// The certificate request is not a PKCS#10 CSR.
    CsrMalformed,
    /// The CSR's signature does not verify: no proof of possession.
    CsrSignatureInvalid,
    /// The key type is not one we issue for (P-256, P-384, RSA 2048+).
    KeyNotAllowed,
    /// An RSA key shorter than 2048 bits.
    KeyTooSmall,
    /// A validity period we do not sell.
    BadValidity,
    /// A reason code that is not allowed for this action.
    BadRevocationReason,
    /// An invalidity date in the future.
    BadInvalidityDate,
    /// The certificate is revoked already.
    AlreadyRevoked,
    /// The certificate is not valid (revoked or frozen).
    NotValid,
    /// The certificate is not frozen.
    NotOnHold,
    /// Sign-in needed.
    Unauthorized,
    /// Signed in, but not allowed.
    Forbidden,
    /// Too many attempts; try later.
    RateLimited,
    /// The user name or password is wrong (one message whether or not the account exists).
    SignInFailed,
    /// The image captcha is wrong or expired; a new one is needed.
    CaptchaInvalid,
    /// The SMS code is wrong, expired, used, or sent for another purpose.
    CodeInvalid,
    /// The ID number does not belong to the account of this phone.
    IdentityMismatch,
    /// Too many failed sign-ins: sign-in is paused for this account or address.
    AccountLocked,
    /// A state-changing request without the session's X-CSRF-Token, or from another site.
    CsrfInvalid,
    /// The security key's answer did not verify (or the challenge expired).
    SecurityKeyFailed,
    /// An enrolment link that is unknown, used or expired.
    LinkInvalid,
    /// A user name that is taken.
    AlreadyExists,
    /// The change would leave no administrator.
    LastAdministrator,
    /// A staff member may not review a request of their own (four eyes).
    OwnRequest,
    /// The application is not in a state that allows this (e.g. editing after submission).
    NotEditable,
    /// An earlier wizard step has not been saved yet.
    StepMissing,
    /// Scan-to-pay applications are submitted after payment.
    PaymentRequired,
    /// The acceptance number and download authorization code do not match an approved application.
    AuthCodeInvalid,
    ProgressNeedsTwo,
    ChallengePhraseInvalid,
    /// 证书解锁: the token's request does not open, or the token holds no certificate of the
    /// account with the phone that passed the SMS check.
    UnlockRefused,
    /// A download names a medium that holds a valid certificate of another account.
    MediumTaken,
    /// 延期 opens in the certificate's last 90 days (see the offer's `opens_at`).
    RenewalNotOpen,
    /// The certificate is revoked, frozen or expired: no business can start from it.
    CertificateNotValid,
    /// The token is not the one that holds the certificate this request started from.
    WrongMedium,
    /// A download into a token of another kind than the medium chosen in step ①.
    MediumMismatch,
    /// Another request (延期, 变更, 补办, 注销 …) for this certificate is under way.
    RequestUnderWay,
    /// 证书变更 is for 机构证书 and 法人证书: a 个人证书's holder does not change.
    PersonalNotChangeable,
    /// The CA's staff froze the certificate: only staff unfreeze it.
    FrozenByStaff,
    /// A staff member may not approve a revocation they asked for (dual control).
    OwnRevocation,
    /// 证书补办 is for a certificate on a UKey; a soft shield is downloaded again.
    ReissueUkeyOnly,
    /// A reissued certificate goes onto a new token, not the one lost or damaged.
    SameMedium,
    /// The payment provider refused the order (its code in the server log): the merchant
    /// settings need an operator, or the order another way of paying.
    PaymentRefused,
    /// The payment provider did not answer in time; nothing was charged, try again.
    PaymentTimeout,
    /// The mobile shield was disabled (a lost phone): its key is never opened again.
    ShieldDisabled,
    /// Ten wrong PINs locked the mobile shield: 证书解锁 by SMS opens it.
    ShieldLocked,
    /// A sign-in QR code that is unknown, expired, already used or cancelled.
    QrCodeExpired,
    /// The number picked on the phone is not the desktop's: the transaction is cancelled.
    QrMatchWrong,
    /// Something failed on our side; the server log has the cause.
    Internal,
    /// A dependency (the database) is unreachable.
    Unavailable,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 56] = [
        ErrorCode::MalformedJson,
        ErrorCode::Validation,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::CsrMalformed,
        ErrorCode::CsrSignatureInvalid,
        ErrorCode::KeyNotAllowed,
        ErrorCode::KeyTooSmall,
        ErrorCode::BadValidity,
        ErrorCode::BadRevocationReason,
        ErrorCode::BadInvalidityDate,
        ErrorCode::AlreadyRevoked,
        ErrorCode::NotValid,
        ErrorCode::NotOnHold,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
        ErrorCode::SignInFailed,
        ErrorCode::CaptchaInvalid,
        ErrorCode::CodeInvalid,
        ErrorCode::IdentityMismatch,
        ErrorCode::AccountLocked,
        ErrorCode::CsrfInvalid,
        ErrorCode::SecurityKeyFailed,
        ErrorCode::LinkInvalid,
        ErrorCode::AlreadyExists,
        ErrorCode::LastAdministrator,
        ErrorCode::OwnRequest,
        ErrorCode::NotEditable,
        ErrorCode::StepMissing,
        ErrorCode::PaymentRequired,
        ErrorCode::AuthCodeInvalid,
        ErrorCode::ProgressNeedsTwo,
        ErrorCode::ChallengePhraseInvalid,
        ErrorCode::UnlockRefused,
        ErrorCode::MediumTaken,
        ErrorCode::RenewalNotOpen,
        ErrorCode::CertificateNotValid,
        ErrorCode::WrongMedium,
        ErrorCode::MediumMismatch,
        ErrorCode::RequestUnderWay,
        ErrorCode::FrozenByStaff,
        ErrorCode::OwnRevocation,
        ErrorCode::PersonalNotChangeable,
        ErrorCode::ReissueUkeyOnly,
        ErrorCode::SameMedium,
        ErrorCode::ShieldDisabled,
        ErrorCode::ShieldLocked,
        ErrorCode::QrCodeExpired,
        ErrorCode::QrMatchWrong,
        ErrorCode::Internal,
        ErrorCode::PaymentRefused,
        ErrorCode::PaymentTimeout,
        ErrorCode::Unavailable,
    ];

    /// Key of this error's text in the app's translation files.
    pub fn message_key(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "error_malformed_json",
            ErrorCode::Validation => "error_validation",
            ErrorCode::PayloadTooLarge => "error_payload_too_large",
            ErrorCode::UnsupportedMediaType => "error_unsupported_media_type",
            ErrorCode::NotFound => "error_not_found",
            ErrorCode::MethodNotAllowed => "error_method_not_allowed",
            ErrorCode::CsrMalformed => "error_csr_malformed",
            ErrorCode::CsrSignatureInvalid => "error_csr_signature_invalid",
            ErrorCode::KeyNotAllowed => "error_key_not_allowed",
            ErrorCode::KeyTooSmall => "error_key_too_small",
            ErrorCode::BadValidity => "error_bad_validity",
            ErrorCode::BadRevocationReason => "error_bad_revocation_reason",
            ErrorCode::BadInvalidityDate => "error_bad_invalidity_date",
            ErrorCode::AlreadyRevoked => "error_already_revoked",
            ErrorCode::NotValid => "error_not_valid",
            ErrorCode::NotOnHold => "error_not_on_hold",
            ErrorCode::Unauthorized => "error_unauthorized",
            ErrorCode::Forbidden => "error_forbidden",
            ErrorCode::RateLimited => "error_rate_limited",
            ErrorCode::SignInFailed => "error_sign_in_failed",
            ErrorCode::CaptchaInvalid => "error_captcha_invalid",
            ErrorCode::CodeInvalid => "error_code_invalid",
            ErrorCode::IdentityMismatch => "error_identity_mismatch",
            ErrorCode::AccountLocked => "error_account_locked",
            ErrorCode::CsrfInvalid => "error_csrf_invalid",
            ErrorCode::SecurityKeyFailed => "error_security_key_failed",
            ErrorCode::LinkInvalid => "error_link_invalid",
            ErrorCode::AlreadyExists => "error_already_exists",
            ErrorCode::LastAdministrator => "error_last_administrator",
            ErrorCode::OwnRequest => "error_own_request",
            ErrorCode::NotEditable => "error_not_editable",
            ErrorCode::StepMissing => "error_step_missing",
            ErrorCode::PaymentRequired => "error_payment_required",
            ErrorCode::AuthCodeInvalid => "error_auth_code_invalid",
            ErrorCode::ProgressNeedsTwo => "error_progress_needs_two",
            ErrorCode::ChallengePhraseInvalid => "error_challenge_phrase_invalid",
            ErrorCode::UnlockRefused => "error_unlock_refused",
            ErrorCode::MediumTaken => "error_medium_taken",
            ErrorCode::RenewalNotOpen => "error_renewal_not_open",
            ErrorCode::CertificateNotValid => "error_certificate_not_valid",
            ErrorCode::WrongMedium => "error_wrong_medium",
            ErrorCode::MediumMismatch => "error_medium_mismatch",
            ErrorCode::RequestUnderWay => "error_request_under_way",
            ErrorCode::FrozenByStaff => "error_frozen_by_staff",
            ErrorCode::OwnRevocation => "error_own_revocation",
            ErrorCode::PersonalNotChangeable => "error_personal_not_changeable",
            ErrorCode::ReissueUkeyOnly => "error_reissue_ukey_only",
            ErrorCode::SameMedium => "error_same_medium",
            ErrorCode::PaymentRefused => "error_payment_refused",
            ErrorCode::PaymentTimeout => "error_payment_timeout",
            ErrorCode::ShieldDisabled => "error_shield_disabled",
            ErrorCode::ShieldLocked => "error_shield_locked",
            ErrorCode::QrCodeExpired => "error_qr_code_expired",
            ErrorCode::QrMatchWrong => "error_qr_match_wrong",
            ErrorCode::Internal => "error_internal",
            ErrorCode::Unavailable => "error_unavailable",
        }
    }

    /// The error's text in `lang`: the one catalogue of error texts, used by the server's error
    /// bodies and by the app (which has no copy of them in its translation files). Each
    /// language is a function of its own ([`ErrorCode::zh_cn`] and the others, from
    /// `error_texts!` below), so that the app links only simplified Chinese.
    pub fn message(self, lang: Lang) -> &'static str {
        match lang {
            Lang::ZhCn => self.zh_cn(),
            Lang::ZhTw => self.zh_tw(),
            Lang::En => self.en(),
        }
    }
}

/// One field that broke its rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FieldError {
    /// Path of the field in the request body, e.g. `operator.mobile`.
    pub field: String,
    pub error: ValidationError,
}

/// Each error's text in simplified Chinese, traditional Chinese and English.
macro_rules! error_texts {
    ($($code:ident => $zh_cn:literal, $zh_tw:literal, $en:literal;)+) => {
        impl ErrorCode {
            /// The text in simplified Chinese.
            pub fn zh_cn(self) -> &'static str {
                match self { $(ErrorCode::$code => $zh_cn),+ }
            }

            /// The text in traditional Chinese.
            pub fn zh_tw(self) -> &'static str {
                match self { $(ErrorCode::$code => $zh_tw),+ }
            }

            /// The text in English.
            pub fn en(self) -> &'static str {
                match self { $(ErrorCode::$code => $en),+ }
            }
        }
    };
}

error_texts! {
    MalformedJson => "请求格式不正确", "請求格式不正確", "The request was not understood";
    Validation => "填写的信息有误，请检查", "填寫的資訊有誤，請檢查", "Some fields are not valid";
    PayloadTooLarge => "提交的内容过大", "提交的內容過大", "The request is too large";
    UnsupportedMediaType => "请求格式不受支持", "請求格式不受支援", "The request format is not supported";
    NotFound => "未找到", "未找到", "Not found";
    MethodNotAllowed => "不支持该操作", "不支援該操作", "This action is not supported";
    CsrMalformed => "证书请求（CSR）格式不正确", "憑證請求（CSR）格式不正確", "The certificate request (CSR) cannot be read";
    CsrSignatureInvalid => "证书请求的签名无效", "憑證請求的簽章無效", "The certificate request's signature is not valid";
    KeyNotAllowed => "不支持该密钥类型，请使用 P-256、P-384 或 RSA 2048 位以上密钥", "不支援該金鑰類型，請使用 P-256、P-384 或 RSA 2048 位元以上金鑰", "This key type is not accepted; use P-256, P-384 or RSA of 2048 bits or more";
    KeyTooSmall => "密钥长度不足，RSA 密钥至少 2048 位", "金鑰長度不足，RSA 金鑰至少 2048 位元", "The key is too short; RSA keys need at least 2048 bits";
    BadValidity => "证书有效期不正确", "憑證有效期不正確", "This validity period is not offered";
    BadRevocationReason => "注销原因不正确", "註銷原因不正確", "This revocation reason is not allowed here";
    BadInvalidityDate => "失效日期不能晚于当前时间", "失效日期不能晚於目前時間", "The invalidity date cannot be in the future";
    AlreadyRevoked => "该证书已注销", "該憑證已註銷", "This certificate is revoked already";
    NotValid => "该证书当前不是有效状态", "該憑證目前不是有效狀態", "This certificate is not currently valid";
    NotOnHold => "该证书未被冻结", "該憑證未被凍結", "This certificate is not frozen";
    Unauthorized => "请先登录", "請先登入", "Please sign in";
    Forbidden => "无权进行此操作", "無權進行此操作", "You may not do this";
    RateLimited => "操作过于频繁，请稍后再试", "操作過於頻繁，請稍後再試", "Too many attempts, try again later";
    SignInFailed => "用户名或密码错误", "用戶名或密碼錯誤", "The user name or password is wrong";
    CaptchaInvalid => "图形验证码错误或已过期，请重新输入", "圖形驗證碼錯誤或已過期，請重新輸入", "The picture code is wrong or expired; enter the new one";
    CodeInvalid => "短信验证码错误或已失效", "簡訊驗證碼錯誤或已失效", "The SMS code is wrong or no longer valid";
    IdentityMismatch => "证件号码与注册时填写的不一致", "證件號碼與註冊時填寫的不一致", "The ID number does not match the one registered";
    AccountLocked => "登录失败次数过多，请15分钟后再试或找回密码", "登入失敗次數過多，請15分鐘後再試或找回密碼", "Too many failed sign-ins; try again in 15 minutes or reset your password";
    CsrfInvalid => "页面已过期，请刷新后重试", "頁面已過期，請重新整理後重試", "This page has expired; reload it and try again";
    SecurityKeyFailed => "安全密钥验证失败，请重试", "安全金鑰驗證失敗，請重試", "The security key could not be verified; try again";
    LinkInvalid => "链接无效或已过期", "連結無效或已過期", "This link is not valid or has expired";
    AlreadyExists => "已存在同名记录（用户名、项目或证书类型名称、有效期），请勿重复添加", "已存在同名記錄（用戶名、項目或證書類型名稱、有效期），請勿重複新增", "One with this name already exists (user name, project, certificate type or validity period)";
    LastAdministrator => "至少需要保留一名管理员", "至少需要保留一名管理員", "At least one administrator must remain";
    OwnRequest => "不能审核本人（本人手机号）提交的业务，请由其他审核员处理", "不能審核本人（本人手機號）提交的業務，請由其他審核員處理", "You cannot review a request made with your own phone number; another reviewer must";
    NotEditable => "该申请当前状态不能进行此操作", "該申請目前狀態不能進行此操作", "The application cannot be changed in its current state";
    StepMissing => "请先完成前面的步骤", "請先完成前面的步驟", "Complete the earlier steps first";
    PaymentRequired => "请先完成缴费再提交审核", "請先完成繳費再提交審核", "Pay first, then submit for review";
    ChallengePhraseInvalid => "撤销密码不正确", "撤銷密碼不正確", "The challenge phrase is not correct";
    UnlockRefused => "该介质上没有此手机号账户下的证书，无法解锁", "該介質上沒有此手機號帳戶下的證書，無法解鎖", "This token holds no certificate of the account with this phone number; it cannot be unlocked here";
    RenewalNotOpen => "证书有效期最后90天内方可办理延期", "證書有效期最後90天內方可辦理延期", "A certificate can be renewed only in its last 90 days";
    CertificateNotValid => "该证书已注销、冻结或过期，不能办理此业务", "該證書已註銷、凍結或過期，不能辦理此業務", "This certificate is revoked, frozen or expired; this service is not open for it";
    WrongMedium => "请插入存放该证书的介质，新证书必须下载到同一介质中", "請插入存放該證書的介質，新證書必須下載到同一介質中", "Insert the token that holds this certificate: the new certificate goes onto the same token";
    MediumMismatch => "此证书申请时选择的介质类型与所插入的介质不同，请插入申请时选择的介质（UKey或PC软盾）", "此證書申請時選擇的介質類型與所插入的介質不同，請插入申請時選擇的介質（UKey或PC軟盾）", "This certificate was applied for on another kind of medium; insert the medium chosen in the application (UKey or PC soft shield)";
    RequestUnderWay => "另有业务正在办理中，请办结或撤回后再申请", "另有業務正在辦理中，請辦結或撤回後再申請", "Another request is under way for this certificate; finish or withdraw it first";
    PersonalNotChangeable => "个人证书不能办理证书变更，证书变更仅适用于机构证书和法人证书", "個人證書不能辦理證書變更，證書變更僅適用於機構證書和法人證書", "A personal certificate cannot be changed: certificate changes are for organisation and legal-person certificates";
    FrozenByStaff => "该证书由CA冻结，请联系客服解冻", "該證書由CA凍結，請聯繫客服解凍", "The CA froze this certificate; contact customer service to unfreeze it";
    OwnRevocation => "不能批准本人发起的吊销，请由另一名工作人员审批", "不能批准本人發起的吊銷，請由另一名工作人員審批", "You cannot approve a revocation you asked for; a second staff member must";
    ReissueUkeyOnly => "只有UKey证书可以补办；PC软盾证书请重新下载，无需补办", "只有UKey證書可以補辦；PC軟盾證書請重新下載，無需補辦", "Only a certificate on a UKey is reissued; a soft shield certificate is downloaded again instead";
    SameMedium => "请插入新的UKey：补办的证书不能下载到原介质中", "請插入新的UKey：補辦的證書不能下載到原介質中", "Insert the new UKey: the reissued certificate does not go onto the old token";
    MediumTaken => "该介质上已有其他账户的证书，不能下载到此介质，请换一个介质", "該介質上已有其他帳戶的證書，不能下載到此介質，請換一個介質", "This token already holds another account's certificate; download to another token";
    ProgressNeedsTwo => "请至少填写其中两项", "請至少填寫其中兩項", "Fill in at least two of the fields";
    AuthCodeInvalid => "业务受理号或下载授权码不正确", "業務受理號或下載授權碼不正確", "The acceptance number or authorization code is not correct";
    PaymentRefused => "支付机构未受理该订单，请稍后再试或选择其他缴费方式", "支付機構未受理該訂單，請稍後再試或選擇其他繳費方式", "The payment provider refused the order; try again later or pay another way";
    PaymentTimeout => "支付机构未及时响应，未产生扣款，请重试", "支付機構未及時回應，未產生扣款，請重試", "The payment provider did not answer in time; nothing was charged, please try again";
    ShieldDisabled => "该移动软盾已停用，请重新下载证书", "該行動軟盾已停用，請重新下載憑證", "This mobile shield has been disabled; download the certificate again";
    ShieldLocked => "PIN码错误次数过多，移动软盾已锁定，请通过证书解锁重设PIN码", "PIN碼錯誤次數過多，行動軟盾已鎖定，請透過憑證解鎖重設PIN碼", "Too many wrong PINs: the mobile shield is locked; unlock it with an SMS code to set a new PIN";
    QrCodeExpired => "二维码已失效，请在电脑上刷新后重新扫码", "QR碼已失效，請在電腦上重新整理後重新掃碼", "This QR code is no longer valid; refresh it on the computer and scan again";
    QrMatchWrong => "所选数字与电脑上显示的不一致，本次登录已取消", "所選數字與電腦上顯示的不一致，本次登入已取消", "The number you chose is not the one on the computer; this sign-in was cancelled";
    Internal => "系统繁忙，请稍后再试", "系統繁忙，請稍後再試", "Something went wrong on our side; try again later";
    Unavailable => "无法连接服务器，请检查网络后重试", "無法連線伺服器，請檢查網路後重試", "Cannot reach the server; check your connection";
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    /// Same as `code.message_key()`, for clients that look texts up by key.
    pub message_key: String,
    /// A human message in the language the request asked for.
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(code: ErrorCode, lang: Lang) -> Self {
        ApiError {
            code,
            message_key: code.message_key().to_owned(),
            message: code.message(lang).to_owned(),
            fields: Vec::new(),
        }
    }

    /// An error the app meets itself (the server out of reach, an answer it cannot read),
    /// which it shows by its code in its own language: no message, so that the app does not
    /// link the catalogue's other languages.
    pub fn local(code: ErrorCode) -> Self {
        ApiError { code, message_key: code.message_key().to_owned(), message: String::new(), fields: Vec::new() }
    }

    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.fields = fields;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_have_distinct_keys() {
        let mut keys = std::collections::HashSet::new();
        // `ALL` (the catalogue's order, which the app's texts follow) lists every code once.
        let variants = <ErrorCode as strum::VariantArray>::VARIANTS;
        assert_eq!(ErrorCode::ALL.len(), variants.len());
        assert!(variants.iter().all(|v| ErrorCode::ALL.contains(v)));
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
            assert!(keys.insert(code.message_key()), "duplicate key {}", code.message_key());
            for lang in Lang::ALL {
                assert!(!code.message(lang).is_empty());
            }
        }
    }

    /// The catalogue: every error code and every validation error has its own text in each
    /// language, and a Chinese text is Chinese (an English one copied in would show here).
    #[test]
    fn every_text_is_there_in_every_language() {
        let chinese = |t: &str| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        for lang in Lang::ALL {
            let mut seen = std::collections::HashSet::new();
            let texts = ErrorCode::ALL
                .iter()
                .map(|c| (format!("{c:?}"), c.message(lang)))
                .chain(ValidationError::ALL.iter().map(|e| (format!("{e:?}"), e.message(lang))));
            for (what, text) in texts {
                assert!(!text.trim().is_empty(), "{what} has no {lang:?} text");
                assert_eq!(chinese(text), lang != Lang::En, "{what} in {lang:?}: {text}");
                assert!(seen.insert(text), "{what} shares its {lang:?} text {text:?} with another");
            }
        }
    }

    #[test]
    fn api_error_wire_shape() {
        let e = ApiError::new(ErrorCode::Validation, Lang::En)
            .with_fields(vec![FieldError { field: "mobile".into(), error: ValidationError::MobileFormat }]);
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], "validation");
        assert_eq!(v["message_key"], "error_validation");
        assert_eq!(v["fields"][0]["field"], "mobile");
        assert_eq!(v["fields"][0]["error"], "mobile_format");
    }
}

crate::deserialize_by_name!(ErrorCode);
