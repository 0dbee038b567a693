//! CA keys kept in a PKCS#11 token (an HSM, or SoftHSM2 in tests), through cryptoki. Keys
//! are generated on the token as sensitive and non-extractable; this process only ever
//! holds a handle and asks the token to sign.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use rcgen::SignatureAlgorithm;
use sha2::{Digest, Sha256};

use super::Signer;

/// An open, logged-in session on the configured token.
pub struct Token {
    // Kept alive as long as any session exists.
    _ctx: Arc<Pkcs11>,
    session: Mutex<Session>,
}

impl Token {
    /// Loads the module, finds the token by label and logs in as the user.
    pub fn open(module: &std::path::Path, label: &str, pin: &str) -> Result<Arc<Token>> {
        let ctx = Pkcs11::new(module).with_context(|| format!("loading the PKCS#11 module {}", module.display()))?;
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)).context("C_Initialize")?;
        let mut found = None;
        for slot in ctx.get_slots_with_token()? {
            if ctx.get_token_info(slot)?.label().trim_end() == label {
                found = Some(slot);
            }
        }
        let slot = found.with_context(|| format!("no PKCS#11 token labelled {label:?}"))?;
        let session = ctx.open_rw_session(slot)?;
        session.login(UserType::User, Some(&AuthPin::from(pin.to_owned()))).context("PKCS#11 login")?;
        Ok(Arc::new(Token { _ctx: Arc::new(ctx), session: Mutex::new(session) }))
    }

    fn session(&self) -> Result<std::sync::MutexGuard<'_, Session>> {
        self.session.lock().map_err(|_| anyhow::anyhow!("the PKCS#11 session lock is poisoned"))
    }

    /// Generates a P-256 key pair on the token under `label`; refuses a label in use.
    pub fn generate(self: &Arc<Self>, label: &str) -> Result<Pkcs11Signer> {
        let s = self.session()?;
        if !find(&s, label, ObjectClass::PRIVATE_KEY)?.is_empty() {
            bail!("the token already holds a key labelled {label:?}");
        }
        // CKA_EC_PARAMS: the DER OID of prime256v1.
        let params = der::Encode::to_der(&const_oid::db::rfc5912::SECP_256_R_1)?;
        let public = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(params),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        s.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private).context("generating a key on the token")?;
        drop(s);
        self.signer(label)
    }

    /// The key labelled `label`.
    pub fn signer(self: &Arc<Self>, label: &str) -> Result<Pkcs11Signer> {
        let s = self.session()?;
        let private = *find(&s, label, ObjectClass::PRIVATE_KEY)?
            .first()
            .with_context(|| format!("no private key labelled {label:?} on the token"))?;
        let public = *find(&s, label, ObjectClass::PUBLIC_KEY)?
            .first()
            .with_context(|| format!("no public key labelled {label:?} on the token"))?;
        let attrs = s.get_attributes(public, &[AttributeType::EcPoint, AttributeType::KeyType])?;
        let mut point = None;
        for a in attrs {
            match a {
                Attribute::EcPoint(p) => point = Some(p),
                Attribute::KeyType(k) if k != KeyType::EC => bail!("the key {label:?} is not an EC key"),
                _ => {}
            }
        }
        // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point.
        let point = point.context("the public key has no EC point")?;
        let raw = match point.as_slice() {
            [0x04, len, rest @ ..] if usize::from(*len) == rest.len() => rest.to_vec(),
            raw @ [0x04, ..] if raw.len() == 65 => raw.to_vec(),
            _ => bail!("unexpected EC point encoding"),
        };
        Ok(Pkcs11Signer { token: Arc::clone(self), key: private, public: raw })
    }
}

fn find(s: &Session, label: &str, class: ObjectClass) -> Result<Vec<ObjectHandle>> {
    Ok(s.find_objects(&[Attribute::Class(class), Attribute::Label(label.as_bytes().to_vec())])?)
}

pub struct Pkcs11Signer {
    token: Arc<Token>,
    key: ObjectHandle,
    public: Vec<u8>,
}

impl Signer for Pkcs11Signer {
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }

    fn public_key_raw(&self) -> &[u8] {
        &self.public
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let digest = Sha256::digest(message);
        let session = self.token.session().map_err(|_| rcgen::Error::RemoteKeyError)?;
        // CKM_ECDSA returns r || s; X.509 wants ECDSA-Sig-Value ::= SEQUENCE { r, s }.
        let raw = session.sign(&Mechanism::Ecdsa, self.key, &digest).map_err(|e| {
            tracing::error!(error = %e, "PKCS#11 signing failed");
            rcgen::Error::RemoteKeyError
        })?;
        let signature = p256::ecdsa::Signature::from_slice(&raw).map_err(|_| rcgen::Error::RemoteKeyError)?;
        Ok(signature.to_der().as_bytes().to_vec())
    }
}
