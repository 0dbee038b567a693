//! The only place CA private keys exist. Everything that signs (certificates, CRLs, OCSP
//! responses) goes through [`Signer`]; nothing outside this module sees key bytes. Keys live
//! either in a PKCS#11 token (`pkcs11`, never leaving it) or sealed at rest: PKCS#8
//! encrypted with AES-256-GCM under a key that argon2id derives from the CA secret (a
//! passphrase or a secret file). [`KeyStore`] chooses between them from the configuration.

pub mod pkcs11;

use std::sync::Arc;

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Context, Result, bail};
use rcgen::{KeyPair, PublicKeyData, SignatureAlgorithm, SigningKey};
use zeroize::Zeroizing;

/// Something that signs with a CA key it never reveals.
pub trait Signer: Send + Sync {
    /// The signature algorithm (and so the key type).
    fn algorithm(&self) -> &'static SignatureAlgorithm;
    /// The raw public key, as in a SubjectPublicKeyInfo's bit string.
    fn public_key_raw(&self) -> &[u8];
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error>;
    /// Whether this process holds the key (false for the offline root: [`OfflineKey`]).
    fn holds_key(&self) -> bool {
        true
    }
}

/// Where CA keys are made and kept, and of which algorithm new ones are.
pub struct KeyStore {
    kind: StoreKind,
    algorithm: KeyAlgorithm,
}

enum StoreKind {
    Sealed(CaSecret),
    Pkcs11(Arc<pkcs11::Token>),
}

/// Storage kinds, as written in `ca_authority.key_storage`.
pub const SEALED: &str = "sealed-pkcs8";
pub const PKCS11: &str = "pkcs11";
/// The root CA's key is not on the server at all (`certdesk ca root`, on a machine of its
/// own); the blob is empty.
pub const OFFLINE: &str = "offline";

/// One PKCS#11 module is initialised once per process: tokens are shared.
fn token(module: &Path, label: &str, pin: &str) -> Result<Arc<pkcs11::Token>> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Tokens = HashMap<(std::path::PathBuf, String), Arc<pkcs11::Token>>;
    static TOKENS: OnceLock<Mutex<Tokens>> = OnceLock::new();
    let mut tokens = TOKENS.get_or_init(Default::default).lock().map_err(|_| anyhow::anyhow!("token lock"))?;
    let key = (module.to_owned(), label.to_owned());
    if let Some(t) = tokens.get(&key) {
        return Ok(Arc::clone(t));
    }
    let t = pkcs11::Token::open(module, label, pin)?;
    tokens.insert(key, Arc::clone(&t));
    Ok(t)
}

impl KeyStore {
    pub fn from_config(config: &crate::config::Config) -> Result<KeyStore> {
        let algorithm = KeyAlgorithm::from_config(&config.ca_key_algorithm)?;
        if let Some(module) = &config.ca_pkcs11_module {
            if algorithm != KeyAlgorithm::P256 {
                bail!("CA keys on a PKCS#11 token are P-256 keys; RSA there is not supported");
            }
            let pin =
                config.ca_pkcs11_pin.as_deref().context("CERTDESK_CA_PKCS11_PIN is needed with a PKCS#11 module")?;
            let kind = StoreKind::Pkcs11(token(module, &config.ca_pkcs11_token, pin)?);
            return Ok(KeyStore { kind, algorithm });
        }
        let secret = match &config.ca_passphrase {
            Some(p) if !p.is_empty() => CaSecret::from_passphrase(p)?,
            _ => CaSecret::load_or_create(&config.ca_secret_path())?,
        };
        Ok(KeyStore { kind: StoreKind::Sealed(secret), algorithm })
    }

    /// A new P-256 key for the CA `name`: the signer, the storage kind and what to store
    /// (the sealed key, or the token label).
    pub fn generate(&self, name: &str) -> Result<(Arc<dyn Signer>, &'static str, Vec<u8>)> {
        match &self.kind {
            StoreKind::Sealed(secret) => {
                let key = SoftwareSigner::generate_with(self.algorithm)?;
                let blob = key.seal(secret, name)?;
                Ok((Arc::new(key), SEALED, blob))
            }
            StoreKind::Pkcs11(token) => {
                // A fresh label each time: a key left by a failed attempt never blocks or
                // shadows the next one.
                let tag = crate::random::random_bytes::<4>()?;
                let label = format!("certdesk-{name}-{}", hex::encode(tag));
                Ok((Arc::new(token.generate(&label)?), PKCS11, label.into_bytes()))
            }
        }
    }

    /// A sealed key in memory, to be sealed again elsewhere (an old deployment's root
    /// moving offline: `certdesk ca root take-offline`). Keys on a token never leave it.
    pub fn open_sealed(&self, storage: &str, blob: &[u8], name: &str) -> Result<SoftwareSigner> {
        match (&self.kind, storage) {
            (StoreKind::Sealed(secret), SEALED) => SoftwareSigner::unseal(blob, secret, name),
            (_, other) => bail!("the {name} CA key is kept as {other:?}: only a sealed key can move"),
        }
    }

    /// The signer for a stored key.
    pub fn open(&self, storage: &str, blob: &[u8], name: &str) -> Result<Arc<dyn Signer>> {
        match (&self.kind, storage) {
            (StoreKind::Sealed(secret), SEALED) => Ok(Arc::new(SoftwareSigner::unseal(blob, secret, name)?)),
            (StoreKind::Pkcs11(token), PKCS11) => Ok(Arc::new(token.signer(std::str::from_utf8(blob)?)?)),
            (_, other) => bail!("the {name} CA key is kept as {other:?}, which this configuration cannot open"),
        }
    }
}

/// The public half of a key kept elsewhere (the offline root). It never signs: a call to
/// `sign` is a bug, refused and logged.
pub struct OfflineKey {
    algorithm: &'static SignatureAlgorithm,
    public: Vec<u8>,
}

impl OfflineKey {
    /// The key of a certificate: ECDSA P-256 or P-384, or RSA (signing with SHA-256).
    pub fn from_cert(cert_der: &[u8]) -> Result<OfflineKey> {
        use x509_parser::public_key::PublicKey;
        let (_, cert) = x509_parser::parse_x509_certificate(cert_der)?;
        let spki = cert.public_key();
        let algorithm = match spki.parsed() {
            Ok(PublicKey::RSA(_)) => &rcgen::PKCS_RSA_SHA256,
            Ok(PublicKey::EC(_)) => {
                let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
                match curve.as_deref() {
                    Some("1.2.840.10045.3.1.7") => &rcgen::PKCS_ECDSA_P256_SHA256,
                    Some("1.3.132.0.34") => &rcgen::PKCS_ECDSA_P384_SHA384,
                    other => bail!("unsupported curve {other:?}"),
                }
            }
            _ => bail!("unsupported CA key type"),
        };
        Ok(OfflineKey { algorithm, public: spki.subject_public_key.data.to_vec() })
    }
}

impl Signer for OfflineKey {
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.algorithm
    }
    fn public_key_raw(&self) -> &[u8] {
        &self.public
    }
    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        tracing::error!("something asked the offline root CA to sign on the server: refused");
        Err(rcgen::Error::RemoteKeyError)
    }
    fn holds_key(&self) -> bool {
        false
    }
}

/// The issuing CA's public half for the draft of a certificate (`ca::issue`): rcgen writes
/// the draft's to-be-signed part exactly as the certificate's, and "signs" it with zeros. The
/// draft is linted; the TBS that passes is then signed with the CA key. No key is involved,
/// so no certificate that breaks its profile ever carries a real signature.
pub struct DraftKey {
    algorithm: &'static SignatureAlgorithm,
    public: Vec<u8>,
}

impl DraftKey {
    pub fn of(signer: &dyn Signer) -> DraftKey {
        DraftKey { algorithm: signer.algorithm(), public: signer.public_key_raw().to_vec() }
    }
}

impl Signer for DraftKey {
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.algorithm
    }
    fn public_key_raw(&self) -> &[u8] {
        &self.public
    }
    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(vec![0; 64])
    }
    fn holds_key(&self) -> bool {
        false
    }
}

/// Lets rcgen sign with any [`Signer`].
pub struct RcgenKey<'a>(pub &'a dyn Signer);

/// Lets rcgen sign with a shared [`Signer`]: for an [`rcgen::Issuer`] kept as long as the
/// key (`CaService`'s, made once at load instead of once per certificate).
pub struct SharedKey(pub std::sync::Arc<dyn Signer>);

impl PublicKeyData for SharedKey {
    fn der_bytes(&self) -> &[u8] {
        self.0.public_key_raw()
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.0.algorithm()
    }
}

impl SigningKey for SharedKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.0.sign(msg)
    }
}

impl PublicKeyData for RcgenKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0.public_key_raw()
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.0.algorithm()
    }
}

impl SigningKey for RcgenKey<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.0.sign(msg)
    }
}

/// A key held in this process's memory, loaded from its sealed form.
pub struct SoftwareSigner(KeyPair);

impl Signer for SoftwareSigner {
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.0.algorithm()
    }
    fn public_key_raw(&self) -> &[u8] {
        self.0.public_key_raw()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        SigningKey::sign(&self.0, message)
    }
}

/// Key algorithms for CA keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    P256,
    Rsa3072,
}

impl KeyAlgorithm {
    pub fn from_config(name: &str) -> Result<KeyAlgorithm> {
        match name {
            "p256" => Ok(KeyAlgorithm::P256),
            "rsa3072" => Ok(KeyAlgorithm::Rsa3072),
            other => bail!("unknown CA key algorithm {other:?} (p256 or rsa3072)"),
        }
    }

    /// The algorithm of an existing signer.
    pub fn of(signer: &dyn Signer) -> KeyAlgorithm {
        if signer.algorithm() == &rcgen::PKCS_RSA_SHA256 { KeyAlgorithm::Rsa3072 } else { KeyAlgorithm::P256 }
    }
}

impl SoftwareSigner {
    /// A new ECDSA P-256 key.
    pub fn generate() -> Result<SoftwareSigner> {
        Ok(SoftwareSigner(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?))
    }

    /// A new key of the given algorithm (RSA keys signing with SHA-256, PKCS#1 v1.5).
    pub fn generate_with(alg: KeyAlgorithm) -> Result<SoftwareSigner> {
        match alg {
            KeyAlgorithm::P256 => Self::generate(),
            KeyAlgorithm::Rsa3072 => {
                use rsa::pkcs8::EncodePrivateKey;
                let mut rng = rsa::rand_core::OsRng;
                let key = rsa::RsaPrivateKey::new(&mut rng, 3072).context("generating an RSA-3072 key")?;
                let der = key.to_pkcs8_der().context("encoding the RSA key")?;
                let pair = KeyPair::from_pkcs8_der_and_sign_algo(
                    &rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_bytes()),
                    &rcgen::PKCS_RSA_SHA256,
                )?;
                Ok(SoftwareSigner(pair))
            }
        }
    }

    /// Seals the key for storage; `label` (the CA's name) is bound in as associated data,
    /// so one CA's blob cannot be swapped in for another's.
    pub fn seal(&self, secret: &CaSecret, label: &str) -> Result<Vec<u8>> {
        let pkcs8 = Zeroizing::new(self.0.serialize_der());
        secret.seal(&pkcs8, label)
    }

    pub fn unseal(blob: &[u8], secret: &CaSecret, label: &str) -> Result<SoftwareSigner> {
        let pkcs8 = secret.open(blob, label)?;
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_slice());
        // RSA keys are told apart by their algorithm; rcgen would pick RSA-PSS otherwise.
        let key = match KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256) {
            Ok(k) => k,
            Err(_) => KeyPair::try_from(pkcs8.as_slice()).context("the unsealed CA key is not PKCS#8")?,
        };
        Ok(SoftwareSigner(key))
    }
}

const SEAL_VERSION: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;

/// The secret CA keys are sealed under. Read from a file (created with 32 random bytes
/// and mode 0600 when missing) or given as a passphrase.
pub struct CaSecret(Zeroizing<Vec<u8>>);

impl CaSecret {
    pub fn from_passphrase(p: &str) -> Result<CaSecret> {
        if p.len() < 12 {
            bail!("the CA passphrase must have at least 12 characters");
        }
        Ok(CaSecret(Zeroizing::new(p.as_bytes().to_vec())))
    }

    pub fn load_or_create(path: &Path) -> Result<CaSecret> {
        if path.exists() {
            let bytes = std::fs::read(path).with_context(|| format!("reading the CA secret {}", path.display()))?;
            if bytes.len() < 16 {
                bail!("the CA secret {} is shorter than 16 bytes", path.display());
            }
            return Ok(CaSecret(Zeroizing::new(bytes)));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let bytes = Zeroizing::new(crate::random::random_bytes::<32>()?.to_vec());
        write_private(path, &bytes)?;
        tracing::info!(path = %path.display(), "created a new CA secret; back it up with the database");
        Ok(CaSecret(bytes))
    }

    fn derive(&self, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        let params = argon2::Params::new(19 * 1024, 2, 1, Some(32)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon.hash_password_into(&self.0, salt, key.as_mut()).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(key)
    }

    fn seal(&self, plain: &[u8], label: &str) -> Result<Vec<u8>> {
        let salt = crate::random::random_bytes::<SALT_LEN>()?;
        let nonce = crate::random::random_bytes::<NONCE_LEN>()?;
        let key = self.derive(&salt)?;
        let cipher = Aes256Gcm::new_from_slice(key.as_ref()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: label.as_bytes() })
            .map_err(|_| anyhow::anyhow!("sealing the CA key failed"))?;
        let mut out = Vec::with_capacity(1 + SALT_LEN + NONCE_LEN + sealed.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&salt);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open(&self, blob: &[u8], label: &str) -> Result<Zeroizing<Vec<u8>>> {
        if blob.len() < 1 + SALT_LEN + NONCE_LEN + 16 || blob[0] != SEAL_VERSION {
            bail!("the sealed CA key is damaged or of an unknown version");
        }
        let (salt, rest) = blob[1..].split_at(SALT_LEN);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let key = self.derive(salt)?;
        let cipher = Aes256Gcm::new_from_slice(key.as_ref()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: label.as_bytes() })
            .map_err(|_| anyhow::anyhow!("cannot unseal the {label} CA key: wrong CA secret or a tampered key"))?;
        Ok(Zeroizing::new(plain))
    }
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_with_its_secret_and_label() {
        let secret = CaSecret::from_passphrase("correct horse battery").unwrap();
        let key = SoftwareSigner::generate().unwrap();
        let blob = key.seal(&secret, "issuing").unwrap();
        let back = SoftwareSigner::unseal(&blob, &secret, "issuing").unwrap();
        assert_eq!(back.public_key_raw(), key.public_key_raw());
        // The sealed form does not contain the key in the clear.
        let pkcs8 = key.0.serialize_der();
        assert!(!blob.windows(32).any(|w| pkcs8.windows(32).any(|k| k == w)));

        let other = CaSecret::from_passphrase("incorrect horse battery").unwrap();
        assert!(SoftwareSigner::unseal(&blob, &other, "issuing").is_err());
        assert!(SoftwareSigner::unseal(&blob, &secret, "root").is_err());
        let mut tampered = blob.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(SoftwareSigner::unseal(&tampered, &secret, "issuing").is_err());
        assert!(CaSecret::from_passphrase("short").is_err());
    }

    #[test]
    fn a_secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.secret");
        let a = CaSecret::load_or_create(&path).unwrap();
        let b = CaSecret::load_or_create(&path).unwrap();
        assert_eq!(*a.0, *b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
