//! Tokens behind one interface. A USB key (UKey) is reached through its vendor's PKCS#11
//! module (SoftHSM2 in tests, OpenSC or the vendor's in use); the PC software shield (`shield.rs`)
//! is the other. Platform code stays behind [`Tokens`], so Windows and macOS only add a module.

use anyhow::{Context, Result};
use certdesk_shared::agent::{KeyAlgorithm, TokenInfo, TokenKind};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, CertificateType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

/// Why the token refused a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinAnswer {
    Wrong,
    /// The token itself has locked the PIN.
    Locked,
}

/// What an operation behind the user PIN came to.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    /// The PIN was wrong, or the token has locked it.
    Refused(PinAnswer),
    NoToken,
}

/// A certificate object on a token.
#[derive(Debug, Clone)]
pub struct StoredCertificate {
    pub label: String,
    pub der: Vec<u8>,
    pub has_key: bool,
}

/// Why a certificate could not be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportRefused {
    /// Not a certificate.
    Malformed,
    /// No key on the token belongs to it.
    NoKey,
}

/// Every token the agent can offer.
pub trait Tokens: Send + Sync {
    /// Stores the issued certificate next to its key (its public key must match a key pair
    /// on the token) and the CA chain.
    fn import(
        &self,
        medium_no: &str,
        pin: &str,
        certificate: &[u8],
        chain: &[Vec<u8>],
    ) -> Result<Outcome<Result<(), ImportRefused>>>;
    /// The certificates on the token (public objects: no PIN); `None` without such a token.
    fn certificates(&self, medium_no: &str) -> Result<Option<Vec<StoredCertificate>>>;
    /// Signs `message` with SHA-256 (ECDSA as DER, or RSA PKCS#1 v1.5) with the key of the
    /// certificate whose DER is `certificate`; `None` inside when the token has no such key.
    fn sign(&self, medium_no: &str, pin: &str, certificate: &[u8], message: &[u8]) -> Result<Outcome<Option<Vec<u8>>>>;
    /// Generates a key pair of `algorithm` on the token (sensitive, never extractable)
    /// labelled `label`, and a certificate request signed by it (DER).
    fn generate_csr(
        &self,
        medium_no: &str,
        pin: &str,
        label: &str,
        algorithm: KeyAlgorithm,
    ) -> Result<Outcome<Vec<u8>>>;
    fn list(&self) -> Result<Vec<TokenInfo>>;
    /// Logs in to the token with this medium number as the user, and out again.
    fn check_pin(&self, medium_no: &str, pin: &str) -> Result<Outcome<()>>;
    /// 修改PIN码: behind the current PIN.
    fn change_pin(&self, medium_no: &str, old_pin: &str, new_pin: &str) -> Result<Outcome<()>>;
    /// The token's unlock key and the sealed secret it still carries (no PIN: the user PIN
    /// is locked when this is asked). `None` without such a token, `Some(None)` for a token
    /// never personalised (or personalised before tokens had an unlock key).
    fn unlock_identity(&self, medium_no: &str) -> Result<Option<Option<UnlockIdentity>>>;
    /// Signs `message` (ECDSA P-256 with SHA-256, DER) with the token's unlock key, without
    /// any PIN; `None` without such a token or key.
    fn sign_unlock(&self, medium_no: &str, message: &[u8]) -> Result<Option<Vec<u8>>>;
    /// 证书解锁: with the unlock secret (a UKey's SO PIN) the secret is replaced by `next`
    /// first, the spent sealed copy on the token removed, then the new user PIN set.
    /// `Refused` when the secret is not this token's.
    fn unlock(&self, medium_no: &str, secret: &[u8], next: &[u8], new_pin: &str) -> Result<Outcome<()>>;
    /// Personalisation (at the CA's counter, before the token is handed out): an unlock key
    /// is made on the token (non-extractable, usable without a PIN, for signing unlock
    /// requests only), and the SO PIN `so_pin` is replaced by a random one kept on the token
    /// only sealed to the portal's unlock key, together with the unlock key's public half.
    /// Nobody sees the new SO PIN.
    fn personalize(&self, medium_no: &str, so_pin: &str, portal: &p256::PublicKey) -> Result<Outcome<()>>;
}

/// Label of the data object holding a UKey's sealed unlock secret (until its first unlock)
/// and of its unlock key pair.
pub const UNLOCK_OBJECT: &str = "CertDesk unlock";

/// A token's unlock key (public half, SEC1 uncompressed) and the sealed secret it still
/// carries.
#[derive(Debug, Clone)]
pub struct UnlockIdentity {
    pub public_key: Vec<u8>,
    pub sealed: Option<Vec<u8>>,
}

/// A new unlock secret: 128 random bits as 32 hex digits (within every token's SO PIN
/// length).
pub fn new_unlock_secret() -> Vec<u8> {
    hex::encode(certdesk_shared::seal::random_bytes(16)).into_bytes()
}

/// What the portal's sealed secret holds: the unlock key's public half, then the secret.
pub fn sealed_plaintext(unlock_public: &[u8], secret: &[u8]) -> Vec<u8> {
    [unlock_public, secret].concat()
}

/// USB keys through one PKCS#11 module.
pub struct Pkcs11Tokens {
    ctx: Pkcs11,
}

impl Pkcs11Tokens {
    /// Loads and initialises the module (for example `/usr/lib/softhsm/libsofthsm2.so` or
    /// OpenSC's `opensc-pkcs11.so`).
    pub fn open(module: &std::path::Path) -> Result<Pkcs11Tokens> {
        let ctx = Pkcs11::new(module).with_context(|| format!("loading the PKCS#11 module {}", module.display()))?;
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)).context("C_Initialize")?;
        Ok(Pkcs11Tokens { ctx })
    }
}

impl Pkcs11Tokens {
    fn slot(&self, medium_no: &str) -> Result<Option<Slot>> {
        for slot in self.ctx.get_slots_with_initialized_token()? {
            if self.ctx.get_token_info(slot)?.serial_number().trim() == medium_no {
                return Ok(Some(slot));
            }
        }
        Ok(None)
    }
}

impl Pkcs11Tokens {
    /// Runs `f` in a read-write session logged in with the user `pin`, and logs out.
    fn logged_in<T>(&self, medium_no: &str, pin: &str, f: impl FnOnce(&Session) -> Result<T>) -> Result<Outcome<T>> {
        self.logged_in_as(UserType::User, medium_no, pin, f)
    }

    /// [`Self::logged_in`] as `user` (the security officer for personalisation and unlock).
    fn logged_in_as<T>(
        &self,
        user: UserType,
        medium_no: &str,
        pin: &str,
        f: impl FnOnce(&Session) -> Result<T>,
    ) -> Result<Outcome<T>> {
        let Some(slot) = self.slot(medium_no)? else { return Ok(Outcome::NoToken) };
        let session = self.ctx.open_rw_session(slot)?;
        match session.login(user, Some(&AuthPin::from(pin.to_owned()))) {
            Ok(()) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
                return Ok(Outcome::Refused(PinAnswer::Wrong));
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => return Ok(Outcome::Refused(PinAnswer::Locked)),
            Err(e) => return Err(e.into()),
        }
        let done = f(&session);
        let _ = session.logout();
        done.map(Outcome::Done)
    }
}

/// The subjectPublicKey bits of a certificate: an EC key's uncompressed point, or an RSA
/// key's `RSAPublicKey` DER.
pub(crate) fn certificate_point(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}

/// `CKA_EC_POINT` without its OCTET STRING wrapper.
fn raw_point(point: &[u8]) -> Option<Vec<u8>> {
    match point {
        [0x04, len, rest @ ..] if usize::from(*len) == rest.len() => Some(rest.to_vec()),
        raw @ [0x04, ..] if raw.len() == 65 => Some(raw.to_vec()),
        _ => None,
    }
}

/// A public key object: its key as a certificate carries it (the EC point, or
/// `RSAPublicKey` DER) and its `CKA_ID`.
struct PublicObject {
    bits: Option<Vec<u8>>,
    id: Option<Vec<u8>>,
}

fn public_bits(s: &Session, public: ObjectHandle) -> Result<PublicObject> {
    let (mut point, mut modulus, mut exponent, mut id) = (None, None, None, None);
    for a in s.get_attributes(
        public,
        &[AttributeType::EcPoint, AttributeType::Modulus, AttributeType::PublicExponent, AttributeType::Id],
    )? {
        match a {
            Attribute::EcPoint(p) => point = raw_point(&p),
            Attribute::Modulus(m) => modulus = Some(m),
            Attribute::PublicExponent(e) => exponent = Some(e),
            Attribute::Id(i) => id = Some(i),
            _ => {}
        }
    }
    let bits = point.or_else(|| Some(rsa_public_key(&modulus?, &exponent?)));
    Ok(PublicObject { bits, id })
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let mut seq = der_uint(modulus);
    seq.extend(der_uint(exponent));
    der_tlv(0x30, &seq)
}

/// The `CKA_ID` of the key pair whose public key is `bits` (see [`certificate_point`]).
/// Never the unlock key's: it signs unlock requests and nothing else, so no certificate is
/// kept for it and no challenge signed with it (a page that could have it sign chosen bytes
/// could sign an unlock request for a key of its own).
fn key_id_for(s: &Session, bits: &[u8]) -> Result<Option<Vec<u8>>> {
    for public in s.find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY)])? {
        if let PublicObject { bits: Some(b), id: Some(id) } = public_bits(s, public)?
            && b == bits
            && id != UNLOCK_OBJECT.as_bytes()
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

fn unlock_objects(s: &Session) -> Result<Vec<ObjectHandle>> {
    Ok(s.find_objects(&[Attribute::Class(ObjectClass::DATA), Attribute::Label(UNLOCK_OBJECT.as_bytes().to_vec())])?)
}

/// The unlock key pair: (public, private) handles.
fn unlock_key_pair(s: &Session) -> Result<Option<(ObjectHandle, ObjectHandle)>> {
    let label = || Attribute::Label(UNLOCK_OBJECT.as_bytes().to_vec());
    let public = s.find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY), label()])?.first().copied();
    let private = s.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), label()])?.first().copied();
    Ok(public.zip(private))
}

/// The unlock key pair, made now if the token has none: P-256, the private half sensitive
/// and never extractable but a public object (`CKA_PRIVATE` false), so that it signs while
/// the user PIN is locked. It signs unlock requests and nothing else: it is no certificate's
/// key, and a signature by it only lets the portal tell that the token itself asked.
fn ensure_unlock_key(s: &Session) -> Result<Vec<u8>> {
    let public = match unlock_key_pair(s)? {
        Some((public, _)) => public,
        None => {
            let id = UNLOCK_OBJECT.as_bytes().to_vec();
            let public = [
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Verify(true),
                Attribute::Label(id.clone()),
                Attribute::Id(id.clone()),
                Attribute::EcParams(P256_PARAMS.to_vec()),
            ];
            let private = [
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                Attribute::Label(id.clone()),
                Attribute::Id(id),
            ];
            s.generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
                .context("generating the unlock key on the token")?
                .0
        }
    };
    // A module that keeps every private key private (some vendors' do) would make a key that
    // cannot sign while the user PIN is locked: such a token cannot be unlocked online.
    if let Some((_, private)) = unlock_key_pair(s)? {
        let private_object = s
            .get_attributes(private, &[AttributeType::Private])?
            .into_iter()
            .any(|a| matches!(a, Attribute::Private(true)));
        anyhow::ensure!(
            !private_object,
            "this token makes every private key a private object: its unlock key could not sign without a PIN"
        );
    }
    public_bits(s, public)?.bits.context("the unlock key has no EC point")
}

/// ECDSA over SHA-256 with a P-256 key on the token, as DER.
fn ecdsa_der(s: &Session, private: ObjectHandle, message: &[u8]) -> Result<Vec<u8>> {
    use sha2::Digest;
    let raw = s.sign(&Mechanism::Ecdsa, private, &sha2::Sha256::digest(message))?;
    anyhow::ensure!(raw.len() == 64, "an ECDSA P-256 signature of {} bytes", raw.len());
    let mut seq = der_uint(&raw[..32]);
    seq.extend(der_uint(&raw[32..]));
    Ok(der_tlv(0x30, &seq))
}

fn private_key(s: &Session, id: &[u8]) -> Result<Option<ObjectHandle>> {
    Ok(s.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Id(id.to_vec())])?.first().copied())
}

impl Tokens for Pkcs11Tokens {
    fn import(
        &self,
        medium_no: &str,
        pin: &str,
        certificate: &[u8],
        chain: &[Vec<u8>],
    ) -> Result<Outcome<Result<(), ImportRefused>>> {
        let certificate = certificate.to_vec();
        let chain = chain.to_vec();
        self.logged_in(medium_no, pin, move |s| {
            let Some(point) = certificate_point(&certificate) else { return Ok(Err(ImportRefused::Malformed)) };
            if chain.iter().any(|c| x509_parser::parse_x509_certificate(c).is_err()) {
                return Ok(Err(ImportRefused::Malformed));
            }
            let Some(id) = key_id_for(s, &point)? else { return Ok(Err(ImportRefused::NoKey)) };
            let object = |der: &[u8], id: Vec<u8>, label: &str| -> Result<()> {
                let subject = x509_parser::parse_x509_certificate(der)
                    .map(|(_, c)| c.subject().as_raw().to_vec())
                    .unwrap_or_default();
                // The same certificate again replaces nothing: it is already there.
                if !s
                    .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Value(der.to_vec())])?
                    .is_empty()
                {
                    return Ok(());
                }
                s.create_object(&[
                    Attribute::Class(ObjectClass::CERTIFICATE),
                    Attribute::CertificateType(CertificateType::X_509),
                    Attribute::Token(true),
                    Attribute::Private(false),
                    Attribute::Label(label.as_bytes().to_vec()),
                    Attribute::Id(id),
                    Attribute::Subject(subject),
                    Attribute::Value(der.to_vec()),
                ])?;
                Ok(())
            };
            let label = String::from_utf8_lossy(&id).to_string();
            object(&certificate, id, &label)?;
            for (i, ca) in chain.iter().enumerate() {
                object(ca, format!("ca-{i}").into_bytes(), "CertDesk CA")?;
            }
            Ok(Ok(()))
        })
    }

    fn certificates(&self, medium_no: &str) -> Result<Option<Vec<StoredCertificate>>> {
        let Some(slot) = self.slot(medium_no)? else { return Ok(None) };
        let s = self.ctx.open_ro_session(slot)?;
        let mut out = Vec::new();
        for c in s.find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])? {
            let (mut label, mut der) = (String::new(), Vec::new());
            for a in s.get_attributes(c, &[AttributeType::Label, AttributeType::Value])? {
                match a {
                    Attribute::Label(l) => label = String::from_utf8_lossy(&l).to_string(),
                    Attribute::Value(v) => der = v,
                    _ => {}
                }
            }
            let has_key = match certificate_point(&der) {
                Some(p) => key_id_for(&s, &p)?.is_some(),
                None => false,
            };
            out.push(StoredCertificate { label, der, has_key });
        }
        Ok(Some(out))
    }

    fn sign(&self, medium_no: &str, pin: &str, certificate: &[u8], message: &[u8]) -> Result<Outcome<Option<Vec<u8>>>> {
        let (certificate, message) = (certificate.to_vec(), message.to_vec());
        self.logged_in(medium_no, pin, move |s| {
            let Some(point) = certificate_point(&certificate) else { return Ok(None) };
            let Some(id) = key_id_for(s, &point)? else { return Ok(None) };
            let Some(private) = private_key(s, &id)? else { return Ok(None) };
            let rsa = point.first() == Some(&0x30);
            let key = TokenKey { session: s, private, point, rsa };
            Ok(Some(rcgen::SigningKey::sign(&key, &message)?))
        })
    }

    fn generate_csr(
        &self,
        medium_no: &str,
        pin: &str,
        label: &str,
        algorithm: KeyAlgorithm,
    ) -> Result<Outcome<Vec<u8>>> {
        self.logged_in(medium_no, pin, |s| {
            let key = generate_key(s, label, algorithm)?;
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
            // The CA takes the subject from the application, not from the request.
            params.distinguished_name.push(rcgen::DnType::CommonName, medium_no);
            Ok(params.serialize_request(&key)?.der().to_vec())
        })
    }

    fn check_pin(&self, medium_no: &str, pin: &str) -> Result<Outcome<()>> {
        self.logged_in(medium_no, pin, |_| Ok(()))
    }

    fn change_pin(&self, medium_no: &str, old_pin: &str, new_pin: &str) -> Result<Outcome<()>> {
        self.logged_in(medium_no, old_pin, |s| {
            s.set_pin(&AuthPin::from(old_pin.to_owned()), &AuthPin::from(new_pin.to_owned())).context("C_SetPIN")?;
            Ok(())
        })
    }

    fn unlock_identity(&self, medium_no: &str) -> Result<Option<Option<UnlockIdentity>>> {
        let Some(slot) = self.slot(medium_no)? else { return Ok(None) };
        let s = self.ctx.open_ro_session(slot)?;
        let Some((public, _)) = unlock_key_pair(&s)? else { return Ok(Some(None)) };
        let Some(public_key) = public_bits(&s, public)?.bits else { return Ok(Some(None)) };
        // The newest (the latest generation) when more than one is there; the generation is
        // zero-padded, so the largest text is the newest.
        let mut newest: Option<(Vec<u8>, Vec<u8>)> = None;
        for object in unlock_objects(&s)? {
            let (mut id, mut value) = (Vec::new(), None);
            for a in s.get_attributes(object, &[AttributeType::Application, AttributeType::Value])? {
                match a {
                    Attribute::Application(i) => id = i,
                    Attribute::Value(v) => value = Some(v),
                    _ => {}
                }
            }
            if let Some(v) = value
                && newest.as_ref().is_none_or(|(best, _)| (id.len(), &id) > (best.len(), best))
            {
                newest = Some((id, v));
            }
        }
        Ok(Some(Some(UnlockIdentity { public_key, sealed: newest.map(|(_, v)| v) })))
    }

    fn sign_unlock(&self, medium_no: &str, message: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(slot) = self.slot(medium_no)? else { return Ok(None) };
        // No login: the user PIN is locked, and the key is a public object.
        let s = self.ctx.open_ro_session(slot)?;
        let Some((_, private)) = unlock_key_pair(&s)? else { return Ok(None) };
        ecdsa_der(&s, private, message).map(Some)
    }

    fn unlock(&self, medium_no: &str, secret: &[u8], next: &[u8], new_pin: &str) -> Result<Outcome<()>> {
        let so_pin = String::from_utf8_lossy(secret).to_string();
        let next = String::from_utf8_lossy(next).to_string();
        self.logged_in_as(UserType::So, medium_no, &so_pin, |s| {
            // The SO PIN first: once it is replaced the token agrees with the portal, which
            // now keeps the next secret; a failure after this leaves a token that unlocks again.
            s.set_pin(&AuthPin::from(so_pin.clone()), &AuthPin::from(next))
                .context("C_SetPIN as the security officer")?;
            // The sealed copy personalisation left is spent: the portal keeps the current one.
            for o in unlock_objects(s)? {
                if let Err(e) = s.destroy_object(o) {
                    tracing::warn!(error = ?e, "a spent sealed unlock secret stays on the token");
                }
            }
            s.init_pin(&AuthPin::from(new_pin.to_owned())).context("C_InitPIN")?;
            Ok(())
        })
    }

    fn personalize(&self, medium_no: &str, so_pin: &str, portal: &p256::PublicKey) -> Result<Outcome<()>> {
        let new_so_pin = new_unlock_secret();
        // The newest object wins if an old one could not be removed (its generation is later).
        let generation = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        self.logged_in_as(UserType::So, medium_no, so_pin, |s| {
            let unlock_public = ensure_unlock_key(s)?;
            let sealed = certdesk_shared::seal::seal(
                portal,
                medium_no.as_bytes(),
                &sealed_plaintext(&unlock_public, &new_so_pin),
            )
            .context("sealing the SO PIN")?;
            let old = unlock_objects(s)?;
            // The sealed secret goes on first: if the SO PIN cannot be changed, it is removed
            // again and the token keeps its old SO PIN. It is a public object: the user PIN is
            // locked when it is needed, and it opens only for the portal, once, with a fresh
            // signature by the unlock key (see `domain::token_unlock`).
            let object = s.create_object(&[
                Attribute::Class(ObjectClass::DATA),
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Label(UNLOCK_OBJECT.as_bytes().to_vec()),
                // Data objects have no CKA_ID: the generation goes in CKA_APPLICATION.
                Attribute::Application(format!("CertDesk {generation:039}").into_bytes()),
                Attribute::Value(sealed),
            ])?;
            let new_so_pin = String::from_utf8_lossy(&new_so_pin).to_string();
            if let Err(e) = s.set_pin(&AuthPin::from(so_pin.to_owned()), &AuthPin::from(new_so_pin)) {
                let _ = s.destroy_object(object);
                return Err(anyhow::Error::from(e).context("C_SetPIN as the security officer"));
            }
            // The SO PIN has changed: an old object left behind is only untidy.
            for o in old {
                if let Err(e) = s.destroy_object(o) {
                    tracing::warn!(error = ?e, "an old sealed unlock secret stays on the token");
                }
            }
            Ok(())
        })
    }

    fn list(&self) -> Result<Vec<TokenInfo>> {
        let mut out = Vec::new();
        for slot in self.ctx.get_slots_with_initialized_token()? {
            let t = self.ctx.get_token_info(slot)?;
            out.push(TokenInfo {
                medium_no: t.serial_number().trim().to_owned(),
                label: t.label().trim().to_owned(),
                kind: TokenKind::Ukey,
                manufacturer: t.manufacturer_id().trim().to_owned(),
                pin_locked: t.user_pin_locked(),
                pin_count_low: t.user_pin_count_low(),
                pin_final_try: t.user_pin_final_try(),
            });
        }
        Ok(out)
    }
}

/// Several kinds of token at once (the UKeys and the soft shields): each call goes to the
/// one that has the medium.
pub struct AllTokens(pub Vec<std::sync::Arc<dyn Tokens>>);

impl AllTokens {
    fn first<T>(&self, f: impl Fn(&dyn Tokens) -> Result<Outcome<T>>) -> Result<Outcome<T>> {
        for t in &self.0 {
            match f(t.as_ref())? {
                Outcome::NoToken => continue,
                done => return Ok(done),
            }
        }
        Ok(Outcome::NoToken)
    }

    fn first_some<T>(&self, f: impl Fn(&dyn Tokens) -> Result<Option<T>>) -> Result<Option<T>> {
        for t in &self.0 {
            if let Some(v) = f(t.as_ref())? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }
}

impl Tokens for AllTokens {
    fn list(&self) -> Result<Vec<TokenInfo>> {
        let mut all = Vec::new();
        for t in &self.0 {
            all.extend(t.list()?);
        }
        Ok(all)
    }

    fn check_pin(&self, medium_no: &str, pin: &str) -> Result<Outcome<()>> {
        self.first(|t| t.check_pin(medium_no, pin))
    }

    fn generate_csr(
        &self,
        medium_no: &str,
        pin: &str,
        label: &str,
        algorithm: KeyAlgorithm,
    ) -> Result<Outcome<Vec<u8>>> {
        self.first(|t| t.generate_csr(medium_no, pin, label, algorithm))
    }

    fn import(
        &self,
        medium_no: &str,
        pin: &str,
        certificate: &[u8],
        chain: &[Vec<u8>],
    ) -> Result<Outcome<Result<(), ImportRefused>>> {
        self.first(|t| t.import(medium_no, pin, certificate, chain))
    }

    fn certificates(&self, medium_no: &str) -> Result<Option<Vec<StoredCertificate>>> {
        self.first_some(|t| t.certificates(medium_no))
    }

    fn sign(&self, medium_no: &str, pin: &str, certificate: &[u8], message: &[u8]) -> Result<Outcome<Option<Vec<u8>>>> {
        self.first(|t| t.sign(medium_no, pin, certificate, message))
    }

    fn change_pin(&self, medium_no: &str, old_pin: &str, new_pin: &str) -> Result<Outcome<()>> {
        self.first(|t| t.change_pin(medium_no, old_pin, new_pin))
    }

    fn unlock_identity(&self, medium_no: &str) -> Result<Option<Option<UnlockIdentity>>> {
        self.first_some(|t| t.unlock_identity(medium_no))
    }

    fn sign_unlock(&self, medium_no: &str, message: &[u8]) -> Result<Option<Vec<u8>>> {
        self.first_some(|t| t.sign_unlock(medium_no, message))
    }

    fn unlock(&self, medium_no: &str, secret: &[u8], next: &[u8], new_pin: &str) -> Result<Outcome<()>> {
        self.first(|t| t.unlock(medium_no, secret, next, new_pin))
    }

    fn personalize(&self, medium_no: &str, so_pin: &str, portal: &p256::PublicKey) -> Result<Outcome<()>> {
        self.first(|t| t.personalize(medium_no, so_pin, portal))
    }
}

/// prime256v1 as DER (the `CKA_EC_PARAMS` of a P-256 key).
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// A key on the token: its handle and public key bits, signing through the token.
struct TokenKey<'a> {
    session: &'a Session,
    private: ObjectHandle,
    /// The EC point, or `RSAPublicKey` DER.
    point: Vec<u8>,
    rsa: bool,
}

/// A key pair of `algorithm`: the public half a token object, the private half sensitive
/// and never extractable; both labelled and identified by `label`.
fn generate_key<'a>(s: &'a Session, label: &str, algorithm: KeyAlgorithm) -> Result<TokenKey<'a>> {
    let id = label.as_bytes().to_vec();
    let mut public = vec![
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::Label(id.clone()),
        Attribute::Id(id.clone()),
    ];
    let mut private = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Label(id.clone()),
        Attribute::Id(id),
    ];
    let mechanism = match algorithm {
        KeyAlgorithm::P256 => {
            public.push(Attribute::EcParams(P256_PARAMS.to_vec()));
            Mechanism::EccKeyPairGen
        }
        KeyAlgorithm::Rsa2048 => {
            // An encryption certificate's key also decrypts and unwraps.
            public.extend([
                Attribute::ModulusBits(2048.into()),
                Attribute::PublicExponent(vec![1, 0, 1]),
                Attribute::Encrypt(true),
                Attribute::Wrap(true),
            ]);
            private.extend([Attribute::Decrypt(true), Attribute::Unwrap(true)]);
            Mechanism::RsaPkcsKeyPairGen
        }
    };
    let (public, private) =
        s.generate_key_pair(&mechanism, &public, &private).context("generating a key on the token")?;
    let point = public_bits(s, public)?.bits.context("the new public key has no EC point or RSA modulus")?;
    Ok(TokenKey { session: s, private, point, rsa: algorithm == KeyAlgorithm::Rsa2048 })
}

impl rcgen::PublicKeyData for TokenKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        if self.rsa { &rcgen::PKCS_RSA_SHA256 } else { &rcgen::PKCS_ECDSA_P256_SHA256 }
    }
}

impl rcgen::SigningKey for TokenKey<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        if self.rsa {
            // CKM_SHA256_RSA_PKCS hashes and pads on the token: the signature as X.509 wants it.
            return self
                .session
                .sign(&Mechanism::Sha256RsaPkcs, self.private, msg)
                .map_err(|_| rcgen::Error::RemoteKeyError);
        }
        use sha2::Digest;
        let digest = sha2::Sha256::digest(msg);
        let raw =
            self.session.sign(&Mechanism::Ecdsa, self.private, &digest).map_err(|_| rcgen::Error::RemoteKeyError)?;
        if raw.len() != 64 {
            return Err(rcgen::Error::RemoteKeyError);
        }
        // CKM_ECDSA gives r || s; the request wants ECDSA-Sig-Value ::= SEQUENCE { r, s }.
        let mut seq = der_uint(&raw[..32]);
        seq.extend(der_uint(&raw[32..]));
        Ok(der_tlv(0x30, &seq))
    }
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A positive INTEGER from big-endian bytes: leading zeros dropped, a 0 added before a set
/// top bit.
fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = if trimmed.is_empty() { vec![0] } else { trimmed };
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    der_tlv(0x02, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(der_uint(&[0x00, 0x01]), vec![0x02, 0x01, 0x01]);
        assert_eq!(der_uint(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_uint(&[0x00, 0x00]), vec![0x02, 0x01, 0x00]);
        assert_eq!(der_tlv(0x04, &[0u8; 200])[..3], [0x04, 0x81, 200]);
    }
}
