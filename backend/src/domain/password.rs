//! Password hashing (argon2id, 19 MiB, 2 passes: the OWASP minimum) and the list of common
//! passwords we refuse. Hashing runs on the blocking pool, never on the request threads.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

static COMMON: &str = include_str!("../../assets/common-passwords.txt");

fn argon() -> Result<Argon2<'static>, anyhow::Error> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// True when the password (ignoring case) is on the shipped list of common passwords.
pub fn is_common(password: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let set = SET.get_or_init(|| COMMON.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect());
    set.contains(password.to_lowercase().as_str())
}

/// A PHC string: `$argon2id$v=19$m=19456,t=2,p=1$…`.
pub async fn hash(password: String) -> Result<String, anyhow::Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Ok(argon()?.hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("{e}"))?.to_string())
    })
    .await?
}

/// Checks a password against a stored hash. With no hash (unknown account) it still does the
/// work of one check, so the answer takes as long either way.
pub async fn verify(stored: Option<String>, password: String) -> Result<bool, anyhow::Error> {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("{e}"))?;
        let ok = argon()?.verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(ok && stored != dummy_hash())
    })
    .await?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon()
            .ok()
            .and_then(|a| a.hash_password(b"no account has this password", &salt).ok())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_are_known_in_any_case() {
        for p in ["password", "PassWord1", "woaini1314", "qq123456", "1qaz2wsx", "iloveyou"] {
            assert!(is_common(p) || p.len() < 8, "{p}");
        }
        assert!(is_common("Password1") || is_common("password1"));
        assert!(!is_common("墨水瓶里的长颈鹿"));
        assert!(!is_common("correct horse battery staple"));
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_19_mib_and_verify() {
        let h = hash("a long enough password".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(Some(h.clone()), "a long enough password".into()).await.unwrap());
        assert!(!verify(Some(h), "a long enough passworD".into()).await.unwrap());
        assert!(!verify(None, "no account has this password".into()).await.unwrap());
    }
}
