//! Randomness, drawn one way: bytes (keys, tokens, serials, nonces) straight from the
//! operating system's CSPRNG through `rand`'s `OsRng`, and numbers in a range (codes,
//! acceptance and order numbers, the captcha's drawing) from a ChaCha generator seeded from
//! it, with `rand`'s `random_range`, which has no modulo bias. Crates that take an RNG of
//! their own `rand_core` (argon2's salts, RSA key generation) are given their `OsRng`.

use rand::{Rng, SeedableRng, TryRngCore};

/// `N` random bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut b = [0u8; N];
    rand::rngs::OsRng.try_fill_bytes(&mut b).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(b)
}

/// A random token of `N` bytes, base64url without padding.
pub fn random_token<const N: usize>() -> anyhow::Result<String> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<N>()?))
}

/// A generator of uniform numbers (ChaCha12), seeded from the operating system's CSPRNG:
/// for work that draws many numbers at once.
pub fn generator() -> anyhow::Result<rand::rngs::StdRng> {
    Ok(rand::rngs::StdRng::from_seed(random_bytes::<32>()?))
}

/// A uniform number in `0..n` (`n` > 0).
pub fn random_below(n: u64) -> anyhow::Result<u64> {
    anyhow::ensure!(n > 0, "an empty range");
    Ok(generator()?.random_range(0..n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_below_their_bound_and_cover_it() {
        let mut seen = [false; 7];
        for _ in 0..2_000 {
            let n = random_below(7).unwrap();
            assert!(n < 7);
            seen[n as usize] = true;
        }
        assert!(seen.iter().all(|s| *s), "2,000 draws below 7 missed a value: {seen:?}");
        assert!(random_below(0).is_err());
        assert_ne!(random_bytes::<16>().unwrap(), random_bytes::<16>().unwrap());
    }
}
