//! Account passwords and one-time SMS codes.
//!
//! Passwords follow NIST SP 800-63B: at least 8 and at most 128 characters, no composition
//! rules. The server also refuses passwords on its list of common ones (`password_common`);
//! that list is too large for the browser app, so only the server applies it.

use serde::{Deserialize, Serialize};

use super::{ValidationError, validated_string};

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// A password as the user typed it (never trimmed). `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Password(String);
validated_string!(Password);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        if s.is_empty() {
            return Err(ValidationError::Required);
        }
        let n = s.chars().count();
        if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
            return Err(ValidationError::PasswordLength);
        }
        Ok(Password(s.to_owned()))
    }
}

/// A 6-digit one-time code as received by SMS.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct OtpCode(String);
validated_string!(OtpCode);

impl std::fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtpCode(***)")
    }
}

impl OtpCode {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = super::required(s)?;
        if t.len() != 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::OtpFormat);
        }
        Ok(OtpCode(t.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValidationError::*;

    #[test]
    fn passwords() {
        let long = "密".repeat(128);
        let too_long = "a".repeat(129);
        let cases: &[(&str, Result<(), ValidationError>)] = &[
            ("", Err(Required)),
            ("1234567", Err(PasswordLength)),
            ("12345678", Ok(())),
            ("correct horse battery staple", Ok(())),
            ("        ", Ok(())),
            ("密码密码密码密码", Ok(())),
            (&long, Ok(())),
            (&too_long, Err(PasswordLength)),
        ];
        for (input, want) in cases {
            assert_eq!(Password::parse(input).map(|_| ()), *want, "{input:?}");
        }
        assert_eq!(format!("{:?}", Password::parse("secret123").unwrap()), "Password(***)");
    }

    #[test]
    fn codes() {
        let cases: &[(&str, Result<&str, ValidationError>)] = &[
            ("123456", Ok("123456")),
            (" 012345 ", Ok("012345")),
            ("", Err(Required)),
            ("12345", Err(OtpFormat)),
            ("1234567", Err(OtpFormat)),
            ("12a456", Err(OtpFormat)),
            ("１２３４５６", Err(OtpFormat)),
        ];
        for (input, want) in cases {
            assert_eq!(OtpCode::parse(input).as_ref().map(|c| c.as_str()).map_err(|e| *e), *want, "{input:?}");
        }
    }
}
