//! Mainland China mobile numbers: 11 digits, `1` then `3`–`9`. Spaces, dashes and a
//! `+86`/`86` prefix are accepted on input and dropped.

use serde::{Deserialize, Serialize};

use super::{ValidationError, required, validated_string};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Mobile(String);
validated_string!(Mobile);

impl Mobile {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = required(s)?;
        let mut digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if let Some(rest) = digits.strip_prefix("+86") {
            digits = rest.to_owned();
        } else if digits.len() == 13 && digits.starts_with("86") {
            digits = digits[2..].to_owned();
        }
        let b = digits.as_bytes();
        let ok = b.len() == 11 && b.iter().all(u8::is_ascii_digit) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
        if ok { Ok(Mobile(digits)) } else { Err(ValidationError::MobileFormat) }
    }

    /// `138****5678`, for pages that must not show the whole number.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValidationError::*;

    #[test]
    fn table() {
        let cases: &[(&str, Result<&str, ValidationError>)] = &[
            ("13144445555", Ok("13144445555")),
            ("19912345678", Ok("19912345678")),
            (" 138 1234 5678 ", Ok("13812345678")),
            ("138-1234-5678", Ok("13812345678")),
            ("+8613812345678", Ok("13812345678")),
            ("8613812345678", Ok("13812345678")),
            ("", Err(Required)),
            ("   ", Err(Required)),
            ("12812345678", Err(MobileFormat)),
            ("1381234567", Err(MobileFormat)),
            ("138123456789", Err(MobileFormat)),
            ("23812345678", Err(MobileFormat)),
            ("1381234567a", Err(MobileFormat)),
            ("１３８１２３４５６７８", Err(MobileFormat)),
        ];
        for (input, want) in cases {
            let got = Mobile::parse(input);
            assert_eq!(got.as_ref().map(|m| m.as_str()), want.as_ref().map(|s| *s), "{input:?}");
        }
    }

    #[test]
    fn mask_and_serde() {
        let m = Mobile::parse("13812345678").unwrap();
        assert_eq!(m.masked(), "138****5678");
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"13812345678\"");
        let e = serde_json::from_str::<Mobile>("\"12345\"").unwrap_err();
        assert!(e.to_string().starts_with("mobile_format"), "{e}");
    }
}
