//! Token PINs (UKey and soft shield): 6 to 16 ASCII letters or digits.

use serde::{Deserialize, Serialize};

use super::{ValidationError, validated_string};

/// A PIN. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Pin(String);
validated_string!(Pin);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(***)")
    }
}

impl Pin {
    /// PINs are not trimmed: a space is a character the user typed.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        if s.is_empty() {
            return Err(ValidationError::Required);
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ValidationError::PinChars);
        }
        if !(6..=16).contains(&s.len()) {
            return Err(ValidationError::PinLength);
        }
        Ok(Pin(s.to_owned()))
    }

    /// A PIN the user sets (修改PIN码, 证书解锁): also not one character repeated and not a
    /// run of consecutive digits or letters either way (111111, 123456, 654321, abcdef).
    /// The seed's unlock resets every PIN to 111111; we let the user choose, but not that.
    pub fn new_pin(s: &str) -> Result<Self, ValidationError> {
        let pin = Pin::parse(s)?;
        let b: Vec<i16> = s.to_ascii_lowercase().bytes().map(i16::from).collect();
        let steps: Vec<i16> = b.windows(2).map(|w| w[1] - w[0]).collect();
        if [0, 1, -1].iter().any(|d| steps.iter().all(|s| s == d)) {
            return Err(ValidationError::PinWeak);
        }
        Ok(pin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValidationError::*;

    #[test]
    fn table() {
        let cases: &[(&str, Result<(), ValidationError>)] = &[
            ("111111", Ok(())),
            ("abcDEF123456", Ok(())),
            ("1234567890123456", Ok(())),
            ("", Err(Required)),
            ("12345", Err(PinLength)),
            ("12345678901234567", Err(PinLength)),
            ("12345 6", Err(PinChars)),
            ("密码123456", Err(PinChars)),
            ("123456!", Err(PinChars)),
        ];
        for (input, want) in cases {
            assert_eq!(Pin::parse(input).map(|_| ()), *want, "{input:?}");
        }
        assert_eq!(format!("{:?}", Pin::parse("123456").unwrap()), "Pin(***)");
        for weak in ["111111", "123456", "654321", "abcdefg", "0123456789"] {
            assert_eq!(Pin::new_pin(weak).map(|_| ()), Err(PinWeak), "{weak}");
        }
        for fine in ["135792", "112233", "a1b2c3"] {
            assert!(Pin::new_pin(fine).is_ok(), "{fine}");
        }
        assert_eq!(Pin::new_pin("12345").map(|_| ()), Err(PinLength));
    }
}
