//! Values that exist only once valid. Each type has a private field, `parse`, and
//! `#[serde(try_from = "String")]`, so the server validates while decoding a request and
//! the browser shows the very same message under the field.
//!
//! A [`ValidationError`] displays as its stable code (`mobile_format`); serde error messages
//! therefore carry the code, which the server turns back into a typed field error.

mod credit_code;
mod email;
mod id_card;
mod id_document;
mod mobile;
mod names;
mod password;
mod pin;

pub use credit_code::CreditCode;
pub use email::Email;
pub use id_card::IdCardNumber;
pub use id_document::{FlatIdDocument, HkMacaoPermitNumber, IdDocument, IdType, PassportNumber, TaiwanPermitNumber};
pub use mobile::Mobile;
pub use names::{OrgName, PersonName};
pub use password::{OtpCode, PASSWORD_MAX, PASSWORD_MIN, Password};
pub use pin::Pin;

use serde::Serialize;

use crate::Lang;

macro_rules! validation_errors {
    ($($variant:ident = $code:literal { $zh_cn:literal, $zh_tw:literal, $en:literal }),+ $(,)?) => {
        /// Why a value was refused. Serialized as its snake_case code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum ValidationError { $($variant),+ }

        impl ValidationError {
            pub const ALL: &'static [ValidationError] = &[$(ValidationError::$variant),+];

            /// Stable code, the same string as its serde form.
            pub fn code(self) -> &'static str {
                match self { $(ValidationError::$variant => $code),+ }
            }

            /// The message shown under the field. Each language is a function of its own, so
            /// that the app links only simplified Chinese ([`ValidationError::zh_cn`]).
            pub fn message(self, lang: Lang) -> &'static str {
                match lang {
                    Lang::ZhCn => self.zh_cn(),
                    Lang::ZhTw => match self { $(ValidationError::$variant => $zh_tw),+ },
                    Lang::En => match self { $(ValidationError::$variant => $en),+ },
                }
            }

            /// The message in simplified Chinese.
            pub fn zh_cn(self) -> &'static str {
                match self { $(ValidationError::$variant => $zh_cn),+ }
            }
        }

        /// Read by its code (`FromStr` below, through `crate::deserialize_by_name`).
        impl strum::VariantNames for ValidationError {
            const VARIANTS: &'static [&'static str] = &[$($code),+];
        }

        crate::deserialize_by_name!(ValidationError);
    };
}

validation_errors! {
    Required = "required" { "此项为必填项", "此項為必填項", "This field is required" },
    MobileFormat = "mobile_format" { "请输入11位中国大陆手机号码", "請輸入11位中國大陸手機號碼", "Enter an 11-digit mainland China mobile number" },
    IdCardLength = "id_card_length" { "身份证号码应为18位", "身分證號碼應為18位", "A resident ID number has 18 characters" },
    IdCardFormat = "id_card_format" { "身份证号码前17位应为数字，最后一位为数字或X", "身分證號碼前17位應為數字，最後一位為數字或X", "The first 17 characters must be digits and the last a digit or X" },
    IdCardRegion = "id_card_region" { "身份证号码的地区码不正确", "身分證號碼的地區碼不正確", "The region code of this ID number does not exist" },
    IdCardBirthDate = "id_card_birth_date" { "身份证号码中的出生日期不正确", "身分證號碼中的出生日期不正確", "The date of birth in this ID number is not a real date" },
    IdCardCheckDigit = "id_card_check_digit" { "身份证号码校验位不正确，请核对", "身分證號碼校驗位不正確，請核對", "The check digit does not match; please check the number" },
    CreditCodeLength = "credit_code_length" { "统一社会信用代码应为18位", "統一社會信用代碼應為18位", "A unified social credit code has 18 characters" },
    CreditCodeCharset = "credit_code_charset" { "统一社会信用代码只能包含数字和大写字母（不含I、O、Z、S、V）", "統一社會信用代碼只能包含數字和大寫字母（不含I、O、Z、S、V）", "Only digits and capital letters except I, O, Z, S and V are allowed" },
    CreditCodeCheckChar = "credit_code_check_char" { "统一社会信用代码校验位不正确，请核对", "統一社會信用代碼校驗位不正確，請核對", "The check character does not match; please check the code" },
    EmailFormat = "email_format" { "请输入正确的电子邮箱地址", "請輸入正確的電子郵箱地址", "Enter a valid e-mail address" },
    PersonNameLength = "person_name_length" { "姓名长度应为2至50个字符", "姓名長度應為2至50個字元", "A name has 2 to 50 characters" },
    PersonNameChars = "person_name_chars" { "姓名只能包含文字、空格和间隔号", "姓名只能包含文字、空格和間隔號", "A name may contain letters, spaces and the middle dot only" },
    OrgNameLength = "org_name_length" { "单位名称长度应为2至100个字符", "單位名稱長度應為2至100個字元", "An organisation name has 2 to 100 characters" },
    OrgNameChars = "org_name_chars" { "单位名称含有不允许的字符", "單位名稱含有不允許的字元", "The organisation name contains characters that are not allowed" },
    PinLength = "pin_length" { "PIN码长度应为6至16位", "PIN碼長度應為6至16位", "A PIN has 6 to 16 characters" },
    PinChars = "pin_chars" { "PIN码只能包含数字和英文字母", "PIN碼只能包含數字和英文字母", "A PIN may contain digits and Latin letters only" },
    PinWeak = "pin_weak" { "新PIN码过于简单（如111111、123456），请另设一个", "新PIN碼過於簡單（如111111、123456），請另設一個", "This PIN is too easy to guess (like 111111 or 123456); choose another" },
    PinMismatch = "pin_mismatch" { "两次输入的PIN码不一致", "兩次輸入的PIN碼不一致", "The two PINs do not match" },
    PasswordLength = "password_length" { "密码长度应为8至128个字符", "密碼長度應為8至128個字元", "A password has 8 to 128 characters" },
    PasswordCommon = "password_common" { "该密码过于常见，容易被猜中，请换一个", "該密碼過於常見，容易被猜中，請換一個", "This password is too common and easy to guess; choose another" },
    PasswordWrong = "password_wrong" { "当前密码不正确", "目前密碼不正確", "The current password is not correct" },
    PasswordMismatch = "password_mismatch" { "两次输入的密码不一致", "兩次輸入的密碼不一致", "The two passwords do not match" },
    OtpFormat = "otp_format" { "请输入6位数字验证码", "請輸入6位數字驗證碼", "Enter the 6-digit code" },
    FileTooLarge = "file_too_large" { "文件大小不能超过2M", "檔案大小不能超過2M", "The file may not be larger than 2 MB" },
    FileType = "file_type" { "文件格式不正确：证件请上传jpg、png、gif、bmp、jpeg或pdf，其他资料请打包成zip或rar", "檔案格式不正確：證件請上傳jpg、png、gif、bmp、jpeg或pdf，其他資料請打包成zip或rar", "Wrong file type: documents must be jpg, png, gif, bmp or pdf, other papers a zip or rar archive" },
    AuthCodeFormat = "auth_code_format" { "下载授权码为8位数字", "下載授權碼為8位數字", "The download authorization code has 8 digits" },
    AmountFormat = "amount_format" { "请输入金额（元），最多两位小数", "請輸入金額（元），最多兩位小數", "Enter an amount in yuan with at most two decimals" },
    Wildcard = "wildcard" { "不能使用通配符（* % _ ?），请输入完整的名称", "不能使用萬用字元（* % _ ?），請輸入完整的名稱", "Wildcards (* % _ ?) cannot be used; enter the exact name" },
    ChallengePhraseLength = "challenge_phrase_length" { "撤销密码长度应为8至64个字符", "撤銷密碼長度應為8至64個字元", "A challenge phrase has 8 to 64 characters" },
    SubjectNameLength = "subject_name_length" { "写入证书的名称最多64个字符（RFC 5280）", "寫入憑證的名稱最多64個字元（RFC 5280）", "A name written into a certificate has at most 64 characters (RFC 5280)" },
    ChallengePhraseCommon = "challenge_phrase_common" { "该撤销密码过于常见，容易被猜中，请换一个", "該撤銷密碼過於常見，容易被猜中，請換一個", "This challenge phrase is too common and easy to guess; choose another" },
    OutOfRange = "out_of_range" { "数值超出允许范围", "數值超出允許範圍", "This value is out of range" },
    NameLength = "name_length" { "名称长度应为1至30个字符", "名稱長度應為1至30個字元", "A name has 1 to 30 characters" },
    NameChars = "name_chars" { "名称含有不允许的字符", "名稱含有不允許的字元", "The name contains characters that are not allowed" },
    TooLong = "too_long" { "内容过长", "內容過長", "This is too long" },
    RegionUnknown = "region_unknown" { "请选择省份和城市", "請選擇省份和城市", "Choose a province and a city from the list" },
    PassportFormat = "passport_format" { "护照号码应为5至20位英文字母或数字", "護照號碼應為5至20位英文字母或數字", "A passport number has 5 to 20 Latin letters or digits" },
    HkMacaoPermitFormat = "hk_macao_permit_format" { "港澳居民来往内地通行证号码应为H或M加8位数字", "港澳居民來往內地通行證號碼應為H或M加8位數字", "A Hong Kong or Macao permit number is H or M followed by 8 digits" },
    TaiwanPermitFormat = "taiwan_permit_format" { "台湾居民来往大陆通行证号码应为8位数字", "台灣居民來往大陸通行證號碼應為8位數字", "A Taiwan permit number has 8 digits" },
    HolderKind = "holder_kind" { "证书信息与所选证书类型不符，请按所选类型填写", "證書資訊與所選證書類型不符，請按所選類型填寫", "These details do not fit the certificate type chosen; fill in the form for that type" },
    DateFormat = "date_format" { "请按 年-月-日 填写日期，如 2026-12-03", "請按 年-月-日 填寫日期，如 2026-12-03", "Enter a date as year-month-day, like 2026-12-03" },
    AgreementRequired = "agreement_required" { "请阅读并勾选《电子认证服务协议》", "請閱讀並勾選《電子認證服務協議》", "Read and accept the electronic certification service agreement" },
    CertificateFormat = "certificate_format" { "读取到的证书格式不正确", "讀取到的證書格式不正確", "What was read is not a certificate" },
    TokenSerialFormat = "token_serial_format" { "介质编号应为1至64位可见字符", "介質編號應為1至64位可見字元", "A token serial number has 1 to 64 visible characters" },
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for ValidationError {}

impl std::str::FromStr for ValidationError {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ValidationError::ALL.iter().copied().find(|e| e.code() == s).ok_or(())
    }
}

/// Implements `TryFrom<String>`, `From<T> for String`, `Display`, `as_str` for a validated
/// newtype with a `parse(&str) -> Result<Self, ValidationError>`.
macro_rules! validated_string {
    ($t:ident) => {
        impl TryFrom<String> for $t {
            type Error = $crate::validate::ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $t::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $t {
            type Err = $crate::validate::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $t::parse(s)
            }
        }
    };
}
pub(crate) use validated_string;

/// Trims, and refuses an empty value.
pub(crate) fn required(s: &str) -> Result<&str, ValidationError> {
    let t = s.trim();
    if t.is_empty() { Err(ValidationError::Required) } else { Ok(t) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_parse_back_and_match_serde() {
        let mut seen = std::collections::HashSet::new();
        for &e in ValidationError::ALL {
            assert!(seen.insert(e.code()));
            assert_eq!(e.code().parse::<ValidationError>(), Ok(e));
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{}\"", e.code()));
            assert_eq!(serde_json::from_str::<ValidationError>(&format!("\"{}\"", e.code())).unwrap(), e);
            assert_eq!(e.to_string(), e.code());
            for lang in Lang::ALL {
                assert!(!e.message(lang).is_empty());
            }
        }
        assert!("no_such_code".parse::<ValidationError>().is_err());
        let refused = serde_json::from_str::<ValidationError>("\"no_such_code\"").unwrap_err().to_string();
        assert!(refused.starts_with("unknown variant `no_such_code`, expected one of `required`"), "{refused}");
    }
}
