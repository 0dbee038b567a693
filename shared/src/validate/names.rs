//! Names of people (经办人姓名, 法人姓名) and of organisations (单位全称).

use serde::{Deserialize, Serialize};

use super::{ValidationError, required, validated_string};

/// A person's name: Chinese or Latin letters, spaces, the middle dot of names like
/// 买买提·艾力, apostrophes and hyphens; 2 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);
validated_string!(PersonName);

/// Collapses runs of whitespace (including the ideographic space) into one space.
fn squeeze(s: &str) -> String {
    s.split(|c: char| c.is_whitespace()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

impl PersonName {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = squeeze(required(s)?);
        if !s.chars().all(|c| c.is_alphabetic() || matches!(c, ' ' | '·' | '•' | '.' | '\'' | '-')) {
            return Err(ValidationError::PersonNameChars);
        }
        if !s.chars().any(char::is_alphabetic) {
            return Err(ValidationError::PersonNameChars);
        }
        if !(2..=50).contains(&s.chars().count()) {
            return Err(ValidationError::PersonNameLength);
        }
        Ok(PersonName(s))
    }
}

/// An organisation's full name as registered: letters, digits, spaces, brackets of both
/// widths and common punctuation of company names; 2 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct OrgName(String);
validated_string!(OrgName);

impl OrgName {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = squeeze(required(s)?);
        let allowed = |c: char| c.is_alphanumeric() || " ()（）·&.,，、-'《》".contains(c);
        if !s.chars().all(allowed) || !s.chars().any(char::is_alphabetic) {
            return Err(ValidationError::OrgNameChars);
        }
        if !(2..=100).contains(&s.chars().count()) {
            return Err(ValidationError::OrgNameLength);
        }
        Ok(OrgName(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValidationError::*;

    #[test]
    fn person_names() {
        let cases: &[(&str, Result<&str, ValidationError>)] = &[
            ("张三", Ok("张三")),
            ("欧阳娜娜", Ok("欧阳娜娜")),
            ("买买提·艾力", Ok("买买提·艾力")),
            ("  Li   Ming ", Ok("Li Ming")),
            ("Mary-Jane O'Neil", Ok("Mary-Jane O'Neil")),
            ("张\u{3000}三", Ok("张 三")),
            ("", Err(Required)),
            ("张", Err(PersonNameLength)),
            ("张三3", Err(PersonNameChars)),
            ("<script>", Err(PersonNameChars)),
            ("··", Err(PersonNameChars)),
        ];
        for (input, want) in cases {
            let got = PersonName::parse(input);
            assert_eq!(got.as_ref().map(|v| v.as_str()), want.as_ref().map(|s| *s), "{input:?}");
        }
        assert_eq!(PersonName::parse(&"张".repeat(51)), Err(PersonNameLength));
    }

    #[test]
    fn org_names() {
        let cases: &[(&str, Result<&str, ValidationError>)] = &[
            ("天津市滨海数字认证有限公司", Ok("天津市滨海数字认证有限公司")),
            ("华为技术有限公司（深圳）", Ok("华为技术有限公司（深圳）")),
            ("CertDesk Demo Co., Ltd.", Ok("CertDesk Demo Co., Ltd.")),
            ("A&B 科技 (天津) 有限公司", Ok("A&B 科技 (天津) 有限公司")),
            ("", Err(Required)),
            ("公", Err(OrgNameLength)),
            ("12345", Err(OrgNameChars)),
            ("公司<b>", Err(OrgNameChars)),
            ("公司\"", Err(OrgNameChars)),
        ];
        for (input, want) in cases {
            let got = OrgName::parse(input);
            assert_eq!(got.as_ref().map(|v| v.as_str()), want.as_ref().map(|s| *s), "{input:?}");
        }
        assert_eq!(OrgName::parse(&"公".repeat(101)), Err(OrgNameLength));
    }
}
