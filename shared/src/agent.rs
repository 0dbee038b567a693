//! What the local token agent (证书助手, `certdesk-agent`) answers on 127.0.0.1.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

/// `GET http://127.0.0.1:<port>/v1/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AgentInfo {
    /// Product name, `certdesk-agent`.
    pub name: String,
    pub version: String,
}

/// Which kind of token: a USB key through PKCS#11, or the PC software shield (软盾).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum TokenKind {
    Ukey,
    PcShield,
}

/// `GET /v1/tokens`: one token the agent sees. Never a key, never a PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TokenInfo {
    /// 介质编号: the token's serial number.
    pub medium_no: String,
    pub label: String,
    pub kind: TokenKind,
    pub manufacturer: String,
    /// The user PIN is locked (too many wrong tries; 证书解锁 unlocks it).
    pub pin_locked: bool,
    /// The token says a wrong PIN was entered since the last right one.
    pub pin_count_low: bool,
    /// The next wrong PIN locks it.
    pub pin_final_try: bool,
}

/// The key pair a token makes (the certificate profile decides; see
/// `CertificateProfile::token_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyAlgorithm {
    /// ECDSA P-256, signed with SHA-256.
    #[default]
    P256,
    /// RSA-2048 (exponent 65537), PKCS#1 v1.5 with SHA-256.
    Rsa2048,
}

/// `POST /v1/tokens/{medium_no}/csr`: a new key pair made on the token (never leaving it)
/// and a certificate request signed by it, for the portal to send with the acceptance
/// number and download authorization code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CsrRequest {
    pub pin: String,
    /// The key's label on the token: the acceptance number it is made for.
    pub label: String,
    #[serde(default)]
    pub algorithm: KeyAlgorithm,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CsrMade {
    pub csr_pem: String,
}

/// `POST /v1/tokens/{medium_no}/certificates`: the issued certificate, kept next to its key,
/// and the CA chain (PEM).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ImportCertificate {
    pub pin: String,
    pub certificate_pem: String,
    #[serde(default)]
    pub chain_pem: Vec<String>,
}

/// `GET /v1/tokens/{medium_no}/certificates`: one certificate on the token (public data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct TokenCertificate {
    pub label: String,
    pub pem: String,
    /// SHA-256 of the DER, lower-case hex: how a page names it.
    pub sha256: String,
    /// Its private key is on the token (a CA certificate of the chain has none).
    pub has_key: bool,
    /// Its end (Unix seconds): after a renewal the token holds the old certificate and its
    /// successor, and pages sign in with the one that runs longest.
    #[serde(default)]
    pub not_after: i64,
}

/// `POST /v1/tokens/{medium_no}/sign`: sign a login challenge with a certificate's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct SignChallenge {
    pub pin: String,
    /// The certificate's SHA-256 (see [`TokenCertificate::sha256`]).
    pub certificate_sha256: String,
    /// The challenge bytes, base64.
    pub challenge: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Signed {
    /// Over the challenge bytes with SHA-256, base64: ECDSA (DER) or RSA PKCS#1 v1.5.
    pub signature: String,
    pub certificate_pem: String,
}

/// Wrong PINs a token takes before it locks (seed 004 §8: 10).
pub const PIN_TRIES: u32 = 10;

/// `POST /v1/tokens/{medium_no}/pin`: check the user PIN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PinCheck {
    pub pin: String,
}

/// The answer: right or not, and what is left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PinStatus {
    pub verified: bool,
    pub tries_left: u32,
    /// Locked: only 证书解锁 (unlock with the portal's authorization) opens it again.
    pub locked: bool,
}

/// `POST /v1/tokens/{medium_no}/pin/change` (修改PIN码): behind the current PIN; the new one
/// must pass [`crate::Pin::new_pin`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChangePin {
    pub old_pin: String,
    pub new_pin: String,
}

/// `POST /v1/tokens/{medium_no}/unlock-request` (证书解锁, no PIN): the portal's one-time
/// challenge ([`UnlockChallenge`]) for the token to sign.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct UnlockStart {
    /// Base64, as `POST /api/tokens/unlock/start` gave it.
    pub challenge: String,
    /// The portal's unlock key (base64, SEC1), as the same answer gave it: the next unlock
    /// secret is sealed to it. A page that swaps it gets a request the portal refuses.
    pub portal_key: String,
}

/// What the agent answers: everything the portal needs to authorise one unlock, bound
/// together by the token's signature. The page carries it to `POST /api/tokens/unlock`
/// unread; changing any part of it breaks the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct UnlockRequest {
    pub medium_no: String,
    /// The unlock secret sealed to the portal at personalisation (base64), while the token
    /// still carries it: only before its first unlock. After that the portal keeps the
    /// medium's current sealed secret itself and the token holds none.
    #[serde(default)]
    pub sealed_secret: Option<String>,
    /// The secret that replaces the current one once this unlock is done, sealed to the
    /// portal with the token's unlock key (base64): the portal keeps it for the next unlock.
    pub next_sealed_secret: String,
    /// A one-time P-256 key the agent keeps for [`UNLOCK_REQUEST_SECS`] (base64, SEC1).
    pub agent_key: String,
    /// ECDSA P-256 / SHA-256 (DER, base64) by the token's unlock key, a key made on the
    /// token that never leaves it, over [`unlock_signed_bytes`].
    pub signature: String,
}

/// How long the agent keeps the one-time key of an unlock request.
pub const UNLOCK_REQUEST_SECS: u64 = 300;

/// What the token's unlock key signs: the medium, the portal's one-time challenge, the
/// agent's one-time key and the next sealed secret, each length-prefixed.
pub fn unlock_signed_bytes(medium_no: &str, challenge: &[u8], agent_key: &[u8], next_sealed_secret: &[u8]) -> Vec<u8> {
    let mut out = b"certdesk token unlock v2".to_vec();
    for part in [medium_no.as_bytes(), challenge, agent_key, next_sealed_secret] {
        out.extend((part.len() as u32).to_be_bytes());
        out.extend(part);
    }
    out
}

/// `POST /api/tokens/unlock/start`: a one-time challenge (5 minutes) for the token to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct UnlockChallenge {
    pub challenge_id: String,
    /// 32 random bytes, base64.
    pub challenge: String,
    /// The portal's unlock key, as [`UnlockKey::public_key`].
    pub portal_key: String,
}

/// `POST /api/tokens/unlock`: the phone of record, the SMS code sent to it, the challenge
/// and the agent's signed request. The portal answers the unlock secret sealed to the
/// agent's one-time key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct UnlockToken {
    pub mobile: crate::Mobile,
    pub code: crate::OtpCode,
    pub challenge_id: String,
    pub request: UnlockRequest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct UnlockGrant {
    /// Base64; only the agent that asked can open it.
    pub grant: String,
}

/// `POST /v1/tokens/{medium_no}/unlock`: the portal's grant and the PIN the user chose.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Unlock {
    pub grant: String,
    pub new_pin: String,
}

/// The plaintext the portal's sealed secret carries: the token's unlock public key (SEC1
/// uncompressed, 65 bytes) and then the secret itself.
pub const UNLOCK_KEY_LEN: usize = 65;

/// `GET /api/tokens/unlock-key`: the public key token secrets are sealed to when a token is
/// personalised (base64, SEC1 uncompressed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct UnlockKey {
    pub public_key: String,
}

/// `POST /v1/shields`: a new PC soft shield (PC软盾) on this computer, protected by `pin`
/// (which must pass [`crate::Pin::new_pin`]), its unlock secret sealed to the portal's
/// unlock key ([`UnlockKey::public_key`], which the page fetches from the portal).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CreateShield {
    pub label: String,
    pub pin: String,
    pub portal_key: String,
}

crate::deserialize_by_name!(TokenKind);
