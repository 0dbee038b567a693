//! E-mail addresses as people type them: `local@domain.tld`, the domain lower-cased.
//! Deliberately narrower than RFC 5322 (no quoted local parts, no IP literals).

use serde::{Deserialize, Serialize};

use super::{ValidationError, required, validated_string};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);
validated_string!(Email);

fn local_ok(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 64
        && !l.starts_with('.')
        && !l.ends_with('.')
        && !l.contains("..")
        && l.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
}

fn domain_ok(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    labels.len() >= 2
        && d.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

impl Email {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = required(s)?;
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(ValidationError::EmailFormat);
        };
        let domain = domain.to_ascii_lowercase();
        if s.len() > 254 || !local_ok(local) || !domain_ok(&domain) {
            return Err(ValidationError::EmailFormat);
        }
        Ok(Email(format!("{local}@{domain}")))
    }

    /// `z***a@111.com`: first and last character of the local part.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let chars: Vec<char> = local.chars().collect();
        match chars.as_slice() {
            [one] => format!("{one}***@{domain}"),
            [first, .., last] => format!("{first}***{last}@{domain}"),
            [] => format!("***@{domain}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValidationError::*;

    #[test]
    fn table() {
        let cases: &[(&str, Result<&str, ValidationError>)] = &[
            ("zasdfdsa@111.com", Ok("zasdfdsa@111.com")),
            ("sdfd@12.com", Ok("sdfd@12.com")),
            ("Li.Ming+ca@Example.COM.cn", Ok("Li.Ming+ca@example.com.cn")),
            ("  a@b.cn ", Ok("a@b.cn")),
            ("", Err(Required)),
            ("plainaddress", Err(EmailFormat)),
            ("@example.com", Err(EmailFormat)),
            ("a@", Err(EmailFormat)),
            ("a@localhost", Err(EmailFormat)),
            ("a@b.c", Err(EmailFormat)),
            ("a@-b.com", Err(EmailFormat)),
            ("a..b@c.com", Err(EmailFormat)),
            (".a@c.com", Err(EmailFormat)),
            ("a b@c.com", Err(EmailFormat)),
            ("张三@example.com", Err(EmailFormat)),
            ("a@exa_mple.com", Err(EmailFormat)),
            ("a@b.123", Err(EmailFormat)),
        ];
        for (input, want) in cases {
            let got = Email::parse(input);
            assert_eq!(got.as_ref().map(|v| v.as_str()), want.as_ref().map(|s| *s), "{input:?}");
        }
        let long_local = format!("{}@a.cn", "x".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailFormat));
    }

    #[test]
    fn mask() {
        assert_eq!(Email::parse("zasdfdsa@111.com").unwrap().masked(), "z***a@111.com");
        assert_eq!(Email::parse("z@111.com").unwrap().masked(), "z***@111.com");
    }
}
