//! Sealing a small secret to a P-256 public key, so that only the holder of the private key
//! can read it (ECIES: a one-time ECDH key, HKDF-SHA256, AES-256-GCM). A token's unlock
//! secret (a UKey's SO PIN, a soft shield's unlock key) is sealed to the portal's unlock
//! key when the token is personalised; to unlock, the portal opens it after the SMS check and
//! seals it again to the agent's one-time key. The page in between carries only sealed bytes.
//!
//! Layout: the sender's one-time public key (65 bytes, SEC1 uncompressed), then the
//! ciphertext with its 16-byte tag. `context` (the medium number) is bound in as associated
//! data, so a secret sealed for one token does not open as another's.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand_core::{OsRng, RngCore};

const POINT_LEN: usize = 65;

/// A new private key (the portal's is derived instead; the agent's are one-time).
pub fn new_key() -> SecretKey {
    SecretKey::random(&mut OsRng)
}

/// `n` random bytes from the OS.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    OsRng.fill_bytes(&mut out);
    out
}

/// The SEC1 uncompressed encoding of a public key (how it travels, base64).
pub fn public_bytes(key: &PublicKey) -> Vec<u8> {
    key.to_encoded_point(false).as_bytes().to_vec()
}

pub fn public_from_bytes(bytes: &[u8]) -> Option<PublicKey> {
    PublicKey::from_sec1_bytes(bytes).ok()
}

fn cipher(shared: &[u8], sender: &[u8], recipient: &[u8], context: &[u8]) -> Option<(Aes256Gcm, [u8; 12])> {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"certdesk seal v1"), shared);
    let mut okm = [0u8; 44];
    hk.expand_multi_info(&[sender, recipient, context], &mut okm).ok()?;
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&okm[32..]);
    Some((Aes256Gcm::new_from_slice(&okm[..32]).ok()?, nonce))
}

/// Seals `secret` to `recipient` for `context` (`None` only if AES-GCM refuses, which it
/// does not for secrets this small).
pub fn seal(recipient: &PublicKey, context: &[u8], secret: &[u8]) -> Option<Vec<u8>> {
    let one_time = p256::ecdh::EphemeralSecret::random(&mut OsRng);
    let sender = public_bytes(&one_time.public_key());
    let shared = one_time.diffie_hellman(recipient);
    let to = public_bytes(recipient);
    // Every key is fresh, so the derived key and nonce are used once.
    let (aead, nonce) = cipher(shared.raw_secret_bytes(), &sender, &to, context)?;
    let ct = aead.encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad: context }).ok()?;
    Some([sender, ct].concat())
}

/// AES-256-GCM under a 32-byte `key` with a random nonce in front (for a key used many
/// times, such as a soft shield's data key).
pub fn encrypt(key: &[u8], aad: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
    let nonce = random_bytes(12);
    let ct =
        Aes256Gcm::new_from_slice(key).ok()?.encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad }).ok()?;
    Some([nonce, ct].concat())
}

/// Opens what [`encrypt`] made; `None` for a wrong key or changed bytes.
pub fn decrypt(key: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 + 16 {
        return None;
    }
    let (nonce, ct) = sealed.split_at(12);
    Aes256Gcm::new_from_slice(key).ok()?.decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad }).ok()
}

/// Opens what [`seal`] made for this key and context; `None` for anything else.
pub fn open(recipient: &SecretKey, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < POINT_LEN + 16 {
        return None;
    }
    let (sender, ct) = sealed.split_at(POINT_LEN);
    let sender_key = PublicKey::from_sec1_bytes(sender).ok()?;
    let shared = p256::ecdh::diffie_hellman(recipient.to_nonzero_scalar(), sender_key.as_affine());
    let (aead, nonce) = cipher(shared.raw_secret_bytes(), sender, &public_bytes(&recipient.public_key()), context)?;
    aead.decrypt(Nonce::from_slice(&nonce), Payload { msg: ct, aad: context }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_key_and_context_it_was_sealed_for_open_it() {
        let portal = new_key();
        let sealed = seal(&portal.public_key(), b"TOKEN-1", b"so pin 1234").unwrap_or_default();
        assert_eq!(open(&portal, b"TOKEN-1", &sealed).as_deref(), Some(b"so pin 1234".as_slice()));
        assert_eq!(open(&portal, b"TOKEN-2", &sealed), None);
        assert_eq!(open(&new_key(), b"TOKEN-1", &sealed), None);
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(open(&portal, b"TOKEN-1", &tampered), None);
        assert_eq!(open(&portal, b"TOKEN-1", &sealed[..40]), None);
        // A fresh one-time key each time.
        assert_ne!(seal(&portal.public_key(), b"TOKEN-1", b"x"), seal(&portal.public_key(), b"TOKEN-1", b"x"));
        let key = [7u8; 32];
        let boxed = encrypt(&key, b"aad", b"plain").unwrap_or_default();
        assert_eq!(decrypt(&key, b"aad", &boxed).as_deref(), Some(b"plain".as_slice()));
        assert_eq!(decrypt(&key, b"other", &boxed), None);
        assert_eq!(decrypt(&[8u8; 32], b"aad", &boxed), None);
    }
}
