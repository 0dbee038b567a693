//! Password hashing (argon2id, 19 MiB, 2 passes: the OWASP minimum) and the list of common
//! passwords we refuse. Hashing runs on the blocking pool, never on the request threads, and
//! at most one hash per core at a time: each takes 19 MiB and a core for tens of milliseconds,
//! so a burst of sign-ins waits its turn instead of taking the server's memory and every core
//! (a flood of them would otherwise be a way to stop the server).

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use certdesk_shared::ErrorCode;
use tokio::sync::Semaphore;

use crate::error::AppError;

static COMMON: &str = include_str!("../../assets/common-passwords.txt");

fn argon() -> Result<Argon2<'static>, anyhow::Error> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Working memory of finished hashes, kept for the next ones: at most one per core, since
/// at most that many hash at once. Allocating 19 MiB afresh for each hash left the memory
/// with the allocator's per-thread arenas, and the server grew by hundreds of MiB under a
/// stream of sign-ins (found by the soak).
static MEMORY: std::sync::Mutex<Vec<Vec<Block>>> = std::sync::Mutex::new(Vec::new());

/// Argon2's output for `password` and `salt`, computed in pooled memory.
fn compute(argon: &Argon2<'_>, password: &[u8], salt: Salt<'_>, len: usize) -> Result<Output, anyhow::Error> {
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut memory = MEMORY.lock().map_err(|_| anyhow::anyhow!("memory pool lock"))?.pop().unwrap_or_default();
    let blocks = argon.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let output =
        Output::init_with(len, |out| Ok(argon.hash_password_into_with_memory(password, salt, out, &mut memory[..])?));
    if memory.len() == blocks {
        MEMORY.lock().map_err(|_| anyhow::anyhow!("memory pool lock"))?.push(memory);
    }
    output.map_err(|e| anyhow::anyhow!("{e}"))
}

/// True when the password (ignoring case) is on the shipped list of common passwords.
pub fn is_common(password: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let set = SET.get_or_init(|| COMMON.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect());
    set.contains(password.to_lowercase().as_str())
}

/// How long a hash waits for a core before the request is answered 503 (try again).
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs one hash or check on the blocking pool once a core is free.
async fn on_a_core<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, anyhow::Error> + Send + 'static,
) -> Result<T, AppError> {
    static CORES: OnceLock<Semaphore> = OnceLock::new();
    let cores = CORES.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())));
    let Ok(Ok(_permit)) = tokio::time::timeout(QUEUE_WAIT, cores.acquire()).await else {
        return Err(ErrorCode::Unavailable.into());
    };
    Ok(tokio::task::spawn_blocking(work).await.map_err(anyhow::Error::from)??)
}

/// A PHC string: `$argon2id$v=19$m=19456,t=2,p=1$…`.
pub async fn hash(password: String) -> Result<String, AppError> {
    on_a_core(move || {
        let salt = SaltString::generate(&mut OsRng);
        let argon = argon()?;
        let output = compute(&argon, password.as_bytes(), salt.as_salt(), Params::DEFAULT_OUTPUT_LEN)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon.params()).map_err(|e| anyhow::anyhow!("{e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    })
    .await
}

/// Checks a password against a stored hash. With no hash (unknown account) it still does the
/// work of one check, so the answer takes as long either way.
pub async fn verify(stored: Option<String>, password: String) -> Result<bool, AppError> {
    on_a_core(move || {
        let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            anyhow::bail!("a stored password hash without salt or hash");
        };
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| anyhow::anyhow!("{e}"))?;
        let version = parsed.version.map(Version::try_from).transpose().map_err(|e| anyhow::anyhow!("{e}"))?;
        let params = Params::try_from(&parsed).map_err(|e| anyhow::anyhow!("{e}"))?;
        let argon = Argon2::new(algorithm, version.unwrap_or_default(), params);
        // `Output`'s equality is constant-time.
        let ok = compute(&argon, password.as_bytes(), salt, expected.len())? == expected;
        Ok(ok && stored != dummy_hash())
    })
    .await
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        use argon2::password_hash::PasswordHasher;
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

    /// The pooled computation is argon2's own: hashes stored before it (made by the crate's
    /// `PasswordHasher`) still verify, and the crate's verifier accepts ours.
    #[tokio::test]
    async fn pooled_hashes_agree_with_the_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon().unwrap().hash_password(b"an older password", &salt).unwrap().to_string();
        assert!(verify(Some(theirs.clone()), "an older password".into()).await.unwrap());
        assert!(!verify(Some(theirs), "an older passwore".into()).await.unwrap());
        let ours = hash("a newer password".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon().unwrap().verify_password(b"a newer password", &parsed).is_ok());
        assert!(argon().unwrap().verify_password(b"a newer passwore", &parsed).is_err());
        // Several at once share the pool, which never holds more than one per hash at a time.
        let many: Vec<_> = (0..6).map(|i| tokio::spawn(hash(format!("password number {i}")))).collect();
        for h in many {
            h.await.unwrap().unwrap();
        }
        assert!(MEMORY.lock().unwrap().len() <= 6);
    }
}
