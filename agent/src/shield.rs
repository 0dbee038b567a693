//! The PC soft shield (PC软盾): a software token kept by the agent, one file per shield in its
//! data directory. Its keys never leave the agent: each private key is stored encrypted
//! under a random data key, and the data key is stored twice, wrapped under a key derived
//! from the PIN (argon2id) and under the shield's unlock secret. The unlock secret itself
//! is kept only sealed to the portal's unlock key, so that 证书解锁 needs the portal, as for
//! a UKey's SO PIN, and is replaced at every unlock. Like a personalised UKey, a shield has
//! an unlock key (P-256, usable without the PIN) that signs its unlock requests. A wrong PIN
//! is a data key that does not unwrap (AES-GCM's tag); the agent's counter locks the shield
//! after 10.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use base64::Engine;
use certdesk_shared::agent::{KeyAlgorithm, TokenInfo, TokenKind};
use certdesk_shared::seal;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::token::{ImportRefused, Outcome, PinAnswer, StoredCertificate, Tokens};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const ARGON2_M_KIB: u32 = 19 * 1024;
const ARGON2_T: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Kdf {
    salt: String,
    m_kib: u32,
    t: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    label: String,
    /// The public point (SEC1 uncompressed), base64: which certificate belongs to it.
    public: String,
    /// The PKCS#8 private key, encrypted under the data key with the label as associated data.
    private: String,
}

#[derive(Serialize, Deserialize)]
struct StoredCert {
    label: String,
    der: String,
}

/// One shield's file.
#[derive(Serialize, Deserialize)]
struct Keystore {
    version: u32,
    medium_no: String,
    label: String,
    kdf: Kdf,
    /// The data key under the PIN key.
    pin_wrapped: String,
    /// The data key under the unlock secret's key.
    unlock_wrapped: String,
    /// The unlock secret sealed to the portal with the unlock key's public half, until the
    /// first 证书解锁 hands it to the portal (which keeps the current one from then on).
    #[serde(default)]
    sealed_unlock: Option<String>,
    /// The unlock key (PKCS#8, base64): it signs unlock requests, without the PIN.
    #[serde(default)]
    unlock_key: Option<String>,
    keys: Vec<StoredKey>,
    certificates: Vec<StoredCert>,
}

/// Encrypted under `key` (see [`seal::encrypt`]), base64.
fn encrypt(key: &[u8], aad: &[u8], plain: &[u8]) -> Result<String> {
    Ok(B64.encode(seal::encrypt(key, aad, plain).context("encryption failed")?))
}

/// `None` when the key is wrong or the bytes were changed.
fn decrypt(key: &[u8], aad: &[u8], stored: &str) -> Option<Zeroizing<Vec<u8>>> {
    seal::decrypt(key, aad, &B64.decode(stored).ok()?).map(Zeroizing::new)
}

fn pin_key(pin: &str, kdf: &Kdf) -> Result<Zeroizing<[u8; 32]>> {
    let salt = B64.decode(&kdf.salt).context("salt")?;
    let params = argon2::Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32))
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(pin.as_bytes(), &salt, out.as_mut())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(out)
}

/// The key the unlock secret wraps the data key under.
fn unlock_key(secret: &[u8], medium_no: &str) -> Result<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    hkdf::Hkdf::<sha2::Sha256>::new(Some(b"certdesk shield unlock v1"), secret)
        .expand(medium_no.as_bytes(), out.as_mut())
        .map_err(|_| anyhow::anyhow!("hkdf"))?;
    Ok(out)
}

fn new_kdf() -> Kdf {
    Kdf { salt: B64.encode(seal::random_bytes(16)), m_kib: ARGON2_M_KIB, t: ARGON2_T, p: 1 }
}

/// The soft shields in one directory.
pub struct SoftShields {
    dir: PathBuf,
    /// One writer at a time (a request is read, changed and written back).
    lock: Mutex<()>,
}

/// A medium number for a new shield: `SD` and 16 hex digits.
fn new_medium_no() -> String {
    format!("SD{}", hex::encode_upper(seal::random_bytes(8)))
}

impl SoftShields {
    pub fn new(data_dir: &Path) -> SoftShields {
        SoftShields { dir: data_dir.join("shields"), lock: Mutex::new(()) }
    }

    fn path(&self, medium_no: &str) -> Option<PathBuf> {
        // A medium number names a file: letters and digits only.
        (medium_no.len() <= 32 && !medium_no.is_empty() && medium_no.chars().all(|c| c.is_ascii_alphanumeric()))
            .then(|| self.dir.join(format!("{medium_no}.json")))
    }

    /// The shield with exactly this medium number (a file system that ignores case must not
    /// give `sdab…` the file, and a fresh PIN count, of `SDAB…`).
    fn read(&self, medium_no: &str) -> Result<Option<Keystore>> {
        let Some(path) = self.path(medium_no) else { return Ok(None) };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let store: Keystore =
                    serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?;
                Ok((store.medium_no == medium_no).then_some(store))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Written whole to a temporary file (owner-only from its creation) and renamed over: a
    /// crash leaves the old or the new.
    fn write(&self, store: &Keystore) -> Result<()> {
        let path = self.path(&store.medium_no).context("medium number")?;
        private_dir(&self.dir)?;
        let tmp = path.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut file = private_file(&tmp)?;
        std::io::Write::write_all(&mut file, &serde_json::to_vec_pretty(store)?)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path).with_context(|| format!("saving {}", path.display()))
    }

    /// A new shield protected by `pin`, its unlock secret sealed to `portal`.
    pub fn create(&self, label: &str, pin: &str, portal: &p256::PublicKey) -> Result<TokenInfo> {
        let _held = self.lock.lock();
        let medium_no = new_medium_no();
        let data_key = Zeroizing::new(seal::random_bytes(32));
        let secret = Zeroizing::new(crate::token::new_unlock_secret());
        let kdf = new_kdf();
        let signer = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let plaintext = Zeroizing::new(crate::token::sealed_plaintext(signer.public_key_raw(), &secret));
        let store = Keystore {
            version: 2,
            pin_wrapped: encrypt(pin_key(pin, &kdf)?.as_ref(), medium_no.as_bytes(), &data_key)?,
            unlock_wrapped: encrypt(unlock_key(&secret, &medium_no)?.as_ref(), medium_no.as_bytes(), &data_key)?,
            sealed_unlock: Some(
                B64.encode(seal::seal(portal, medium_no.as_bytes(), &plaintext).context("sealing the unlock secret")?),
            ),
            unlock_key: Some(B64.encode(Zeroizing::new(signer.serialize_der()).as_slice())),
            kdf,
            label: label.to_owned(),
            medium_no,
            keys: Vec::new(),
            certificates: Vec::new(),
        };
        self.write(&store)?;
        Ok(info(&store))
    }

    /// Runs `f` on the shield with its data key, unwrapped with `pin`; writes it back when
    /// `f` says it changed something.
    fn with_pin<T>(
        &self,
        medium_no: &str,
        pin: &str,
        f: impl FnOnce(&mut Keystore, &[u8]) -> Result<(T, bool)>,
    ) -> Result<Outcome<T>> {
        let _held = self.lock.lock();
        let Some(mut store) = self.read(medium_no)? else { return Ok(Outcome::NoToken) };
        let key = pin_key(pin, &store.kdf)?;
        let Some(data_key) = decrypt(key.as_ref(), store.medium_no.as_bytes(), &store.pin_wrapped) else {
            return Ok(Outcome::Refused(PinAnswer::Wrong));
        };
        let (out, changed) = f(&mut store, &data_key)?;
        if changed {
            self.write(&store)?;
        }
        Ok(Outcome::Done(out))
    }
}

/// A new file only its owner can read, created so (never readable by others, even briefly).
fn private_file(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).with_context(|| format!("creating {}", path.display()))
}

/// The shields' directory, owner-only.
fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn info(store: &Keystore) -> TokenInfo {
    TokenInfo {
        medium_no: store.medium_no.clone(),
        label: store.label.clone(),
        kind: TokenKind::PcShield,
        manufacturer: "CertDesk".into(),
        pin_locked: false,
        pin_count_low: false,
        pin_final_try: false,
    }
}

/// The shield's unlock key, if it has one (shields made before unlock keys have none).
fn signer(store: &Keystore) -> Option<rcgen::KeyPair> {
    let pkcs8 = Zeroizing::new(B64.decode(store.unlock_key.as_deref()?).ok()?);
    rcgen::KeyPair::try_from(pkcs8.as_slice()).ok()
}

/// A new key pair of `algorithm`.
fn new_key(algorithm: KeyAlgorithm) -> Result<rcgen::KeyPair> {
    Ok(match algorithm {
        KeyAlgorithm::P256 => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
        KeyAlgorithm::Rsa2048 => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
            let pkcs8 = key.to_pkcs8_der().map_err(|e| anyhow::anyhow!("PKCS#8: {e}"))?;
            rcgen::KeyPair::try_from(pkcs8.as_bytes())?
        }
    })
}

/// The stored key whose public half the certificate (DER) carries.
fn stored_key<'a>(store: &'a Keystore, certificate: &[u8]) -> Option<&'a StoredKey> {
    let public = B64.encode(crate::token::certificate_point(certificate)?);
    store.keys.iter().find(|k| k.public == public)
}

/// The key pair of the certificate whose DER is `certificate`, if the shield has it.
fn key_for(store: &Keystore, data_key: &[u8], certificate: &[u8]) -> Option<rcgen::KeyPair> {
    let stored = stored_key(store, certificate)?;
    let pkcs8 = decrypt(data_key, stored.label.as_bytes(), &stored.private)?;
    rcgen::KeyPair::try_from(pkcs8.as_slice()).ok()
}

impl Tokens for SoftShields {
    fn list(&self) -> Result<Vec<TokenInfo>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e.into()),
        };
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().to_string();
            let Some(medium_no) = name.strip_suffix(".json") else { continue };
            // One damaged file must not hide the other tokens.
            match self.read(medium_no) {
                Ok(Some(store)) => out.push(info(&store)),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = ?e, file = %name, "skipped a soft shield file that does not read"),
            }
        }
        out.sort_by(|a, b| a.medium_no.cmp(&b.medium_no));
        Ok(out)
    }

    fn check_pin(&self, medium_no: &str, pin: &str) -> Result<Outcome<()>> {
        self.with_pin(medium_no, pin, |_, _| Ok(((), false)))
    }

    fn generate_csr(
        &self,
        medium_no: &str,
        pin: &str,
        label: &str,
        algorithm: KeyAlgorithm,
    ) -> Result<Outcome<Vec<u8>>> {
        self.with_pin(medium_no, pin, |store, data_key| {
            let key = new_key(algorithm)?;
            let pkcs8 = Zeroizing::new(key.serialize_der());
            store.keys.retain(|k| k.label != label);
            store.keys.push(StoredKey {
                label: label.to_owned(),
                public: B64.encode(key.public_key_raw()),
                private: encrypt(data_key, label.as_bytes(), &pkcs8)?,
            });
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
            params.distinguished_name.push(rcgen::DnType::CommonName, medium_no);
            Ok((params.serialize_request(&key)?.der().to_vec(), true))
        })
    }

    fn import(
        &self,
        medium_no: &str,
        pin: &str,
        certificate: &[u8],
        chain: &[Vec<u8>],
    ) -> Result<Outcome<Result<(), ImportRefused>>> {
        self.with_pin(medium_no, pin, |store, data_key| {
            if std::iter::once(certificate)
                .chain(chain.iter().map(Vec::as_slice))
                .any(|c| x509_parser::parse_x509_certificate(c).is_err())
            {
                return Ok((Err(ImportRefused::Malformed), false));
            }
            let Some(label) = stored_key(store, certificate).map(|k| k.label.clone()) else {
                return Ok((Err(ImportRefused::NoKey), false));
            };
            if key_for(store, data_key, certificate).is_none() {
                return Ok((Err(ImportRefused::NoKey), false));
            }
            let mut add = |der: &[u8], label: &str| {
                let der = B64.encode(der);
                if !store.certificates.iter().any(|c| c.der == der) {
                    store.certificates.push(StoredCert { label: label.to_owned(), der });
                }
            };
            add(certificate, &label);
            for ca in chain {
                add(ca, "CertDesk CA");
            }
            Ok((Ok(()), true))
        })
    }

    fn certificates(&self, medium_no: &str) -> Result<Option<Vec<StoredCertificate>>> {
        let Some(store) = self.read(medium_no)? else { return Ok(None) };
        let mut out = Vec::new();
        for c in &store.certificates {
            let der = B64.decode(&c.der).context("certificate")?;
            let has_key = stored_key(&store, &der).is_some();
            out.push(StoredCertificate { label: c.label.clone(), der, has_key });
        }
        Ok(Some(out))
    }

    fn sign(&self, medium_no: &str, pin: &str, certificate: &[u8], message: &[u8]) -> Result<Outcome<Option<Vec<u8>>>> {
        self.with_pin(medium_no, pin, |store, data_key| {
            let Some(key) = key_for(store, data_key, certificate) else { return Ok((None, false)) };
            Ok((Some(rcgen::SigningKey::sign(&key, message)?), false))
        })
    }

    fn change_pin(&self, medium_no: &str, old_pin: &str, new_pin: &str) -> Result<Outcome<()>> {
        self.with_pin(medium_no, old_pin, |store, data_key| {
            let kdf = new_kdf();
            store.pin_wrapped = encrypt(pin_key(new_pin, &kdf)?.as_ref(), store.medium_no.as_bytes(), data_key)?;
            store.kdf = kdf;
            Ok(((), true))
        })
    }

    fn unlock_identity(&self, medium_no: &str) -> Result<Option<Option<crate::token::UnlockIdentity>>> {
        let Some(store) = self.read(medium_no)? else { return Ok(None) };
        let Some(signer) = signer(&store) else { return Ok(Some(None)) };
        let sealed = store.sealed_unlock.as_deref().and_then(|s| B64.decode(s).ok());
        Ok(Some(Some(crate::token::UnlockIdentity { public_key: signer.public_key_raw().to_vec(), sealed })))
    }

    fn sign_unlock(&self, medium_no: &str, message: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(signer) = self.read(medium_no)?.as_ref().and_then(signer) else { return Ok(None) };
        Ok(Some(rcgen::SigningKey::sign(&signer, message)?))
    }

    fn unlock(&self, medium_no: &str, secret: &[u8], next: &[u8], new_pin: &str) -> Result<Outcome<()>> {
        let _held = self.lock.lock();
        let Some(mut store) = self.read(medium_no)? else { return Ok(Outcome::NoToken) };
        let Some(data_key) =
            decrypt(unlock_key(secret, medium_no)?.as_ref(), medium_no.as_bytes(), &store.unlock_wrapped)
        else {
            return Ok(Outcome::Refused(PinAnswer::Wrong));
        };
        // One write: the next unlock secret replaces this one (which the portal has spent),
        // the sealed copy goes (the portal keeps the current one), and the new PIN.
        let kdf = new_kdf();
        store.unlock_wrapped = encrypt(unlock_key(next, medium_no)?.as_ref(), medium_no.as_bytes(), &data_key)?;
        store.sealed_unlock = None;
        store.pin_wrapped = encrypt(pin_key(new_pin, &kdf)?.as_ref(), medium_no.as_bytes(), &data_key)?;
        store.kdf = kdf;
        self.write(&store)?;
        Ok(Outcome::Done(()))
    }

    /// A shield is personalised when it is made: there is no SO PIN to replace.
    fn personalize(&self, _medium_no: &str, _so_pin: &str, _portal: &p256::PublicKey) -> Result<Outcome<()>> {
        Ok(Outcome::NoToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done<T>(o: Outcome<T>) -> T {
        match o {
            Outcome::Done(v) => v,
            _ => panic!("not done"),
        }
    }

    #[test]
    fn keys_open_with_the_pin_or_the_portals_unlock_and_the_file_holds_no_key_in_clear() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let shields = SoftShields::new(dir.path());
        let portal = seal::new_key();
        let made = shields.create("我的软盾", "135790", &portal.public_key()).unwrap_or_else(|e| panic!("{e}"));
        let m = made.medium_no.clone();
        assert_eq!(shields.list().unwrap_or_default(), vec![made]);

        assert!(matches!(shields.check_pin(&m, "000000").ok(), Some(Outcome::Refused(PinAnswer::Wrong))));
        let csr = done(shields.generate_csr(&m, "135790", "A1", KeyAlgorithm::P256).unwrap_or_else(|e| panic!("{e}")));
        let file = std::fs::read_to_string(dir.path().join("shields").join(format!("{m}.json"))).unwrap_or_default();
        assert!(!file.contains("135790") && file.contains("pin_wrapped"));
        assert!(!csr.is_empty());

        // A new PIN: the old one is wrong, the new one works.
        done(shields.change_pin(&m, "135790", "246802").unwrap_or_else(|e| panic!("{e}")));
        assert!(matches!(shields.check_pin(&m, "135790").ok(), Some(Outcome::Refused(PinAnswer::Wrong))));
        done(shields.check_pin(&m, "246802").unwrap_or_else(|e| panic!("{e}")));

        // Unlock: only the secret the portal can open sets a new PIN, and it is replaced.
        let identity = shields.unlock_identity(&m).ok().flatten().flatten().unwrap_or_else(|| panic!("no unlock key"));
        let opened = seal::open(&portal, m.as_bytes(), &identity.sealed.unwrap_or_default()).unwrap_or_default();
        let (public, secret) = opened.split_at(certdesk_shared::agent::UNLOCK_KEY_LEN);
        assert_eq!(public, identity.public_key.as_slice());
        assert!(matches!(
            shields.unlock(&m, b"not the secret", b"next", "975310").ok(),
            Some(Outcome::Refused(PinAnswer::Wrong))
        ));
        done(shields.unlock(&m, secret, b"next secret", "975310").unwrap_or_else(|e| panic!("{e}")));
        done(shields.check_pin(&m, "975310").unwrap_or_else(|e| panic!("{e}")));
        // The old secret is spent, the sealed copy gone; the next one unlocks.
        assert!(matches!(
            shields.unlock(&m, secret, b"again", "864201").ok(),
            Some(Outcome::Refused(PinAnswer::Wrong))
        ));
        assert!(shields.unlock_identity(&m).ok().flatten().flatten().is_some_and(|i| i.sealed.is_none()));
        done(shields.unlock(&m, b"next secret", b"again", "864201").unwrap_or_else(|e| panic!("{e}")));
        assert!(matches!(shields.check_pin("../etc", "975310").ok(), Some(Outcome::NoToken)));
    }
}
