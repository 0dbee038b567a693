//! Unified social credit codes (统一社会信用代码, GB 32100-2015): 18 characters from a
//! 31-symbol alphabet (no I, O, Z, S, V); the last is a MOD 31 check character.

use serde::{Deserialize, Serialize};

use super::{ValidationError, required, validated_string};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);
validated_string!(CreditCode);

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character GB 32100 gives for the first 17 characters (which must be in the alphabet).
pub fn credit_code_check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(ALPHABET[check as usize])
}

impl CreditCode {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = required(s)?.to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(ValidationError::CreditCodeLength);
        }
        let b = s.as_bytes();
        if !b.iter().all(|&c| value(c).is_some()) || !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(ValidationError::CreditCodeCharset);
        }
        if credit_code_check_char(&b[..17]) != Some(b[17]) {
            return Err(ValidationError::CreditCodeCheckChar);
        }
        Ok(CreditCode(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValidationError::*;

    #[test]
    fn table() {
        let cases: &[(&str, Result<&str, ValidationError>)] = &[
            ("91350100M000100Y43", Ok("91350100M000100Y43")), // the standard's own example
            ("91110000802100433B", Ok("91110000802100433B")),
            ("91350100m000100y43", Ok("91350100M000100Y43")),
            (" 91350100M000100Y43 ", Ok("91350100M000100Y43")),
            ("", Err(Required)),
            ("91350100M000100Y4", Err(CreditCodeLength)),
            ("91350100M000100Y433", Err(CreditCodeLength)),
            ("91350100M000100Y4I", Err(CreditCodeCharset)), // I is not in the alphabet
            ("91350100O000100Y43", Err(CreditCodeCharset)),
            ("913501A0M000100Y43", Err(CreditCodeCharset)), // region code must be digits
            ("91350100M000100Y44", Err(CreditCodeCheckChar)),
            ("9123FB81441920HR7U", Err(CreditCodeCharset)), // garbled sample from a seed scan
            ("911100001000013428", Err(CreditCodeCheckChar)),
        ];
        for (input, want) in cases {
            let got = CreditCode::parse(input);
            assert_eq!(got.as_ref().map(|v| v.as_str()), want.as_ref().map(|s| *s), "{input:?}");
        }
    }

    #[test]
    fn every_wrong_check_char_is_caught() {
        let body = b"91350100M000100Y4";
        let right = credit_code_check_char(body).unwrap();
        for &c in ALPHABET {
            let s = format!("{}{}", std::str::from_utf8(body).unwrap(), c as char);
            assert_eq!(CreditCode::parse(&s).is_ok(), c == right, "{s}");
        }
    }
}
