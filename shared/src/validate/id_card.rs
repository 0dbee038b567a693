//! 18-digit resident identity card numbers (居民身份证号码, GB 11643-1999): six-digit
//! region code, birth date `YYYYMMDD`, three-digit sequence, and an ISO 7064 MOD 11-2
//! check character (`0`–`9` or `X`).

use serde::{Deserialize, Serialize};

use super::{ValidationError, required, validated_string};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct IdCardNumber(String);
validated_string!(IdCardNumber);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// Province-level codes that exist (11 Beijing … 65 Xinjiang, 71 Taiwan, 81 Hong Kong,
/// 82 Macao, 83 residence permits for Taiwan residents).
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82, 83,
];

/// The check character GB 11643 gives for the first 17 digits.
pub fn id_card_check_char(first17: &[u8; 17]) -> u8 {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn num(b: &[u8]) -> u32 {
    b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
}

impl IdCardNumber {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = required(s)?.to_ascii_uppercase();
        let b = s.as_bytes();
        if s.chars().count() != 18 {
            return Err(ValidationError::IdCardLength);
        }
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(ValidationError::IdCardFormat);
        }
        let province = num(&b[..2]) as u8;
        if !PROVINCES.contains(&province) {
            return Err(ValidationError::IdCardRegion);
        }
        let (y, m, d) = (num(&b[6..10]), num(&b[10..12]), num(&b[12..14]));
        let days = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if is_leap(y) => 29,
            2 => 28,
            _ => 0,
        };
        if !(1900..=2100).contains(&y) || d == 0 || d > days {
            return Err(ValidationError::IdCardBirthDate);
        }
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&b[..17]);
        if id_card_check_char(&first17) != b[17] {
            return Err(ValidationError::IdCardCheckDigit);
        }
        Ok(IdCardNumber(s))
    }

    /// Birth date as `(year, month, day)`.
    pub fn birth_date(&self) -> (u32, u32, u32) {
        let b = self.0.as_bytes();
        (num(&b[6..10]), num(&b[10..12]), num(&b[12..14]))
    }

    /// `1101**********002X`: first four and last four, for public pages.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValidationError::*;

    #[test]
    fn table() {
        let cases: &[(&str, Result<&str, ValidationError>)] = &[
            // Valid by the algorithm.
            ("11010519491231002X", Ok("11010519491231002X")),
            ("11010519491231002x", Ok("11010519491231002X")),
            ("239005199103272513", Ok("239005199103272513")),
            ("440524188001010014", Err(IdCardBirthDate)), // 1880 is before 1900
            ("110101199003074477", Ok("110101199003074477")),
            (" 110101199003074477 ", Ok("110101199003074477")),
            ("110101200002290018", Ok("110101200002290018")), // 2000-02-29 exists
            // The seeds' sample: its check character by GB 11643 is 5, not X.
            ("12010619910202131X", Err(IdCardCheckDigit)),
            ("120106199102021315", Ok("120106199102021315")),
            ("110101199003078415", Err(IdCardCheckDigit)),
            ("", Err(Required)),
            ("11010519491231002", Err(IdCardLength)),
            ("11010519491231002XX", Err(IdCardLength)),
            ("1101051949123100XX", Err(IdCardFormat)),
            ("11010519491231002Y", Err(IdCardFormat)),
            ("99010519491231002X", Err(IdCardRegion)),
            ("110105199013310029", Err(IdCardBirthDate)),
            ("110101190002290011", Err(IdCardBirthDate)), // 1900 is not a leap year
        ];
        for (input, want) in cases {
            let got = IdCardNumber::parse(input);
            assert_eq!(got.as_ref().map(|v| v.as_str()), want.as_ref().map(|s| *s), "{input:?}");
        }
    }

    #[test]
    fn every_wrong_check_char_is_caught() {
        let body = b"11010519491231002";
        let right = id_card_check_char(body);
        for c in b"0123456789X" {
            let s = format!("{}{}", std::str::from_utf8(body).unwrap(), *c as char);
            assert_eq!(IdCardNumber::parse(&s).is_ok(), *c == right, "{s}");
        }
    }

    #[test]
    fn birth_date_and_mask() {
        let id = IdCardNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), (1949, 12, 31));
        assert_eq!(id.masked(), "1101**********002X");
    }
}
