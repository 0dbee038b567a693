//! The mobile shield's cryptography, the same code in the phone app (wasm) and in the tests
//! that act as a phone; the server uses [`pin_proof_verifies`] only. See `shield.rs` for the
//! protocol.
//!
//! - PIN key: PBKDF2-HMAC-SHA256(PIN, salt, [`PIN_ROUNDS`]), 32 bytes. The server keeps it;
//!   the phone keeps only the salt.
//! - PIN proof: HMAC-SHA256(PIN key, `certdesk-shield-pin/1` ‖ challenge).
//! - Sealing key: HKDF-SHA256(ikm = shield secret, salt = shield id, info =
//!   `certdesk-shield-seal/1`); the sealed key is a 12-byte nonce then AES-256-GCM of the
//!   P-256 scalar, with the shield id as associated data.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// PBKDF2 rounds for the PIN key: a few tens of milliseconds in a phone's wasm. The count the
/// server keeps, not this, is what stops guessing.
pub const PIN_ROUNDS: u32 = 20_000;

/// What the app keeps on the phone for one certificate. Nothing here opens the key or checks a
/// PIN without the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldFile {
    pub shield_id: String,
    pub uid: String,
    pub certificate_pem: String,
    /// base64, 32 bytes.
    pub device_key: String,
    /// base64, 16 bytes.
    pub pin_salt: String,
    /// base64: nonce ‖ AES-256-GCM(scalar).
    pub sealed_key: String,
}

pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    OsRng.fill_bytes(&mut out);
    out
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn unb64(text: &str) -> Option<Vec<u8>> {
    B64.decode(text.trim()).ok()
}

/// The PIN key for a PIN and the phone's salt.
pub fn pin_key(pin: &str, salt: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(pin.as_bytes(), salt, PIN_ROUNDS, &mut out);
    out
}

/// HMAC's own key block (RFC 2104): a key longer than SHA-256's 64-byte block is hashed,
/// a shorter one padded with zeros, so that the MAC is built without a length error.
fn hmac_block(key: &[u8]) -> [u8; 64] {
    use sha2::Digest;
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    block
}

fn proof_mac(pin_key: &[u8], challenge: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&hmac_block(pin_key).into());
    mac.update(b"certdesk-shield-pin/1");
    mac.update(challenge);
    mac
}

/// The proof of a PIN over a server's challenge (base64).
pub fn pin_proof(pin_key: &[u8], challenge: &[u8]) -> String {
    b64(&proof_mac(pin_key, challenge).finalize().into_bytes())
}

/// Whether `proof` (base64) proves the PIN whose key is `pin_key` over `challenge`, compared
/// in constant time.
pub fn pin_proof_verifies(pin_key: &[u8], challenge: &[u8], proof: &str) -> bool {
    unb64(proof).is_some_and(|p| proof_mac(pin_key, challenge).verify_slice(&p).is_ok())
}

/// `None` never happens (32 bytes is a valid HKDF-SHA256 length); it keeps the code free of
/// panics.
fn sealing_cipher(secret: &[u8], shield_id: &str) -> Option<Aes256Gcm> {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(shield_id.as_bytes()), secret);
    let mut key = [0u8; 32];
    hk.expand(b"certdesk-shield-seal/1", &mut key).ok()?;
    Some(Aes256Gcm::new(&key.into()))
}

/// A new key pair, made here (on the phone).
pub fn new_key() -> SigningKey {
    SigningKey::random(&mut OsRng)
}

/// The key sealed under the shield secret (base64). AES-GCM seals 32 bytes without fail; were
/// it ever to fail the answer would be empty, which opens nothing.
pub fn seal(secret: &[u8], shield_id: &str, key: &SigningKey) -> String {
    let nonce = random_bytes(12);
    let sealed = sealing_cipher(secret, shield_id).and_then(|c| {
        c.encrypt(Nonce::from_slice(&nonce), Payload { msg: &key.to_bytes(), aad: shield_id.as_bytes() }).ok()
    });
    sealed.map(|sealed| b64(&[nonce, sealed].concat())).unwrap_or_default()
}

/// The key, opened with the shield secret the server released; `None` for any other secret.
pub fn unseal(secret: &[u8], shield_id: &str, sealed_key: &str) -> Option<SigningKey> {
    let bytes = unb64(sealed_key)?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, ct) = bytes.split_at(12);
    let scalar = sealing_cipher(secret, shield_id)?
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: shield_id.as_bytes() })
        .ok()?;
    SigningKey::from_slice(&scalar).ok()
}

/// `CN=CertDesk mobile shield`, built from its parts: parsing the text would link const-oid's
/// database of attribute names (tens of KB) into the phone app.
fn csr_subject() -> x509_cert::der::Result<x509_cert::name::Name> {
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::der::asn1::{Any, SetOfVec};
    use x509_cert::der::oid::db::rfc4519::CN;
    use x509_cert::name::{RdnSequence, RelativeDistinguishedName};
    let cn = AttributeTypeAndValue {
        oid: CN,
        value: Any::new(x509_cert::der::Tag::Utf8String, "CertDesk mobile shield".as_bytes())?,
    };
    Ok(RdnSequence(vec![RelativeDistinguishedName(SetOfVec::try_from(vec![cn])?)]))
}

/// ECDSA P-256 SHA-256 over `message`, DER, base64 (what the server's `signed_with` checks).
pub fn sign(key: &SigningKey, message: &[u8]) -> String {
    let sig: DerSignature = key.sign(message);
    b64(sig.as_bytes())
}

/// A PKCS#10 request for the key (PEM). The subject is a placeholder: the CA writes the
/// subject from the approved application.
pub fn csr_pem(key: &SigningKey) -> Result<String, String> {
    use x509_cert::builder::{Builder, RequestBuilder};
    use x509_cert::der::EncodePem;
    let builder = RequestBuilder::new(csr_subject().map_err(|e| e.to_string())?, key).map_err(|e| e.to_string())?;
    let req = builder.build::<DerSignature>().map_err(|e| e.to_string())?;
    req.to_pem(x509_cert::der::pem::LineEnding::LF).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csr_subject_is_the_one_its_text_names() {
        use std::str::FromStr;
        use x509_cert::der::Encode;
        let parsed = x509_cert::name::Name::from_str("CN=CertDesk mobile shield").unwrap();
        assert_eq!(csr_subject().unwrap().to_der().unwrap(), parsed.to_der().unwrap());
    }

    #[test]
    fn a_pin_proof_is_bound_to_pin_and_challenge() {
        let salt = random_bytes(16);
        let k = pin_key("246810", &salt);
        let p = pin_proof(&k, b"challenge");
        assert!(pin_proof_verifies(&k, b"challenge", &p));
        assert!(!pin_proof_verifies(&k, b"challengf", &p));
        assert!(!pin_proof_verifies(&pin_key("246811", &salt), b"challenge", &p));
        assert!(!pin_proof_verifies(&k, b"challenge", "not base64"));
    }

    #[test]
    fn the_pin_mac_is_standard_hmac_for_any_key_length() {
        for len in [0, 16, 32, 64, 65, 100] {
            let key = vec![7u8; len];
            let mut standard = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
            standard.update(b"certdesk-shield-pin/1");
            standard.update(b"challenge");
            assert_eq!(
                proof_mac(&key, b"challenge").finalize().into_bytes(),
                standard.finalize().into_bytes(),
                "{len}"
            );
        }
    }

    #[test]
    fn the_key_opens_only_with_the_server_secret() {
        let key = new_key();
        let secret = random_bytes(32);
        let sealed = seal(&secret, "MS1", &key);
        assert_eq!(unseal(&secret, "MS1", &sealed).map(|k| k.to_bytes()), Some(key.to_bytes()));
        assert!(unseal(&random_bytes(32), "MS1", &sealed).is_none());
        assert!(unseal(&secret, "MS2", &sealed).is_none(), "bound to its shield");
        // Right PIN, no secret: the PIN key is not the sealing key.
        let k = pin_key("246810", b"salt");
        assert!(unseal(&k, "MS1", &sealed).is_none());
    }

    #[test]
    fn a_csr_carries_the_key() {
        let key = new_key();
        let pem = csr_pem(&key).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"), "{pem}");
        let sig = sign(&key, b"m");
        assert!(unb64(&sig).is_some_and(|s| s.len() > 60));
    }
}
