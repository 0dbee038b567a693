//! The mobile soft shield (移动软盾) on the wire: the phone app's remote download (远程下载),
//! the PIN that the server counts, 证书解锁 by the SMS code of the phone of record, and
//! disabling a lost phone.
//!
//! The protocol (its threat model is in ARCHITECTURE.md, "The mobile shield"):
//! - **Download.** The phone makes a P-256 key pair, a CSR, a random device key and a PIN
//!   salt; it sends the CSR, the device key and the PIN key (PBKDF2 of the PIN and the salt)
//!   with the acceptance number and authorization code. The server issues the certificate,
//!   keeps the PIN key, the device key's hash and a fresh 256-bit shield secret, and answers
//!   the secret once. The phone seals its private key under a key derived from that secret
//!   (AES-256-GCM), stores the sealed key, the salt and the device key, and forgets the
//!   secret and the private key.
//! - **Every use.** The phone asks a challenge, sends an HMAC of it under the PIN key; the
//!   server checks it, counts a wrong PIN (the 10th locks the shield) and on success releases
//!   the secret for this one use. Without the server nothing in the phone's storage checks a
//!   PIN guess or opens the key.
//! - **证书解锁.** With the SMS code of the phone of record the server resets the count and
//!   takes a new PIN key. The sealed key does not depend on the PIN, so it stays as it is.
//! - **Lost phone.** A disabled shield's secret is never released again.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::OtpCode;

/// Wrong PINs in a row that lock a shield (the 10th locks it).
pub const PIN_TRIES: u32 = 10;

/// Where the app lives (its own bundle, installable).
pub const APP_PATH: &str = "/m";

/// A shield's state on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ShieldState {
    /// The PIN opens it.
    Active,
    /// Ten wrong PINs: only 证书解锁 by SMS opens it again.
    Locked,
    /// Reported lost: its secret is never released again.
    Disabled,
}

impl ShieldState {
    pub const ALL: [ShieldState; 3] = [ShieldState::Active, ShieldState::Locked, ShieldState::Disabled];
}

/// `POST /api/shield/enrol`: 远程下载 into the app. The acceptance number and authorization
/// code are those of the download step (证书下载), the application's medium must be the
/// mobile shield.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldEnrol {
    pub acceptance_no: String,
    pub auth_code: String,
    /// PKCS#10 of the key made on the phone (PEM).
    pub csr_pem: String,
    /// The phone's device key (32 random bytes, base64): the server keeps its hash.
    pub device_key: String,
    /// PBKDF2-HMAC-SHA256 of the PIN and the phone's salt (32 bytes, base64).
    pub pin_key: String,
}

/// The answer to an enrolment: the shield's number (also the certificate's medium number),
/// the certificate, and the shield secret, sent this once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldEnrolled {
    pub shield_id: String,
    pub uid: String,
    pub certificate_pem: String,
    pub secret: String,
}

/// What names a shield and proves the request comes from the phone that holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldDevice {
    pub shield_id: String,
    pub device_key: String,
}

/// `POST /api/shield/challenge` (body [`ShieldDevice`]): 256 random bits to prove the PIN
/// over, single use, valid 2 minutes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldChallenge {
    pub challenge_id: String,
    pub challenge: String,
}

/// `POST /api/shield/unseal`: the PIN proof (HMAC-SHA256 of the challenge under the PIN key).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldUnseal {
    pub shield_id: String,
    pub device_key: String,
    pub challenge_id: String,
    pub proof: String,
}

/// The answer to a PIN proof. A wrong PIN is an answer, not an error: the app shows the tries
/// left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PinOutcome {
    /// The PIN was right: the shield secret, for this use.
    Opened { secret: String },
    /// The PIN was wrong; `tries_left` more before the shield locks.
    WrongPin { tries_left: u32 },
    /// Locked (now or before): 证书解锁 opens it.
    Locked,
}

/// `POST /api/shield/pin` (修改PIN码): the old PIN's proof and the new PIN's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldChangePin {
    pub shield_id: String,
    pub device_key: String,
    pub challenge_id: String,
    pub proof: String,
    pub new_pin_key: String,
}

/// `POST /api/shield/unlock/code` (body [`ShieldDevice`]): an SMS code goes to the phone of
/// record; the answer names it masked (186****3055).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldCodeSent {
    pub masked_mobile: String,
}

/// `POST /api/shield/unlock` (证书解锁): the SMS code and the new PIN's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldUnlock {
    pub shield_id: String,
    pub device_key: String,
    pub code: OtpCode,
    pub new_pin_key: String,
}

/// `POST /api/shield/disable` without the phone (手机丢失): the certificate's acceptance
/// number and the SMS code of its phone of record, asked with `POST /api/shield/disable/code`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldDisableByCode {
    pub acceptance_no: String,
    pub code: Option<OtpCode>,
}

/// `POST /api/shield/status` (body [`ShieldDevice`]): what the app shows next to a
/// certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldStatus {
    pub shield_id: String,
    pub uid: String,
    pub state: ShieldState,
    pub tries_left: u32,
    /// A renewal (延期) of this certificate, approved and waiting to be downloaded here.
    pub renewal: Option<ShieldRenewal>,
}

/// A renewal that the app downloads (证书更新(延期), seed 004 §4.2.5: a soft shield's renewal
/// is downloaded inside the shield). It was applied for (and paid) on the portal's 证书延期.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldRenewal {
    pub request_id: String,
    pub acceptance_no: Option<String>,
    /// The period bought, added to the current certificate's end.
    pub years: u32,
}

/// `POST /api/shield/renew`: the renewal's new key pair is made on the phone; its CSR is
/// signed (base64 DER ECDSA) over [`renewal_message`] by the current certificate's key, which
/// the app opens with the PIN (so the PIN is counted and the key proven). The answer is
/// [`ShieldRenewed`]; the same CSR again answers the same certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldRenew {
    pub shield_id: String,
    pub device_key: String,
    pub request_id: String,
    pub csr_pem: String,
    pub signature: String,
}

/// The renewed certificate, for the phone to keep with the new key (sealed under the same
/// shield secret). The old certificate stays valid until [`ShieldRenewFinish`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldRenewed {
    pub uid: String,
    pub certificate_pem: String,
}

/// `POST /api/shield/renew/finish`: the new certificate is stored on the phone; the old one is
/// superseded and the shield moves to the new one. Answers [`ShieldStatus`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ShieldRenewFinish {
    pub shield_id: String,
    pub device_key: String,
    pub request_id: String,
}

/// The bytes the current key signs to ask a renewal's certificate: a domain tag, the shield,
/// the renewal and the CSR, one per line.
pub fn renewal_message(shield_id: &str, request_id: &str, csr_pem: &str) -> Vec<u8> {
    format!("certdesk-shield-renew/1\n{shield_id}\n{request_id}\n{}", csr_pem.trim()).into_bytes()
}

/// The QR code a desktop shows for APP扫码登录 carries `QR_PREFIX` and the transaction id,
/// nothing else.
pub const QR_PREFIX: &str = "CERTDESK-LOGIN:";

/// Crockford's base32 alphabet: a transaction id is 10 of these (50 bits), typed as the
/// fallback short code.
pub const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const CODE_LEN: usize = 10;

/// The transaction id in a scanned QR text or a typed short code (spaces, dashes and case
/// ignored; `O`→`0`, `I`/`L`→`1` as Crockford reads them); `None` when it cannot be one.
pub fn transaction_code(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t.strip_prefix(QR_PREFIX).unwrap_or(t);
    let code: String = t
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// A code as the desktop shows it for typing: `ABCDE-FGHJK`.
pub fn display_code(code: &str) -> String {
    if code.len() == CODE_LEN { format!("{}-{}", &code[..5], &code[5..]) } else { code.to_owned() }
}

/// APP扫码登录, desktop side: `POST /api/qr-login` answers the code to show; it sets a cookie
/// that binds the transaction to this browser.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QrLoginShown {
    /// The transaction id (what the QR code carries after [`QR_PREFIX`]).
    pub id: String,
    /// The QR code of `QR_PREFIX` + id, as SVG.
    pub qr_svg: String,
    /// The two-digit number (10–99) the phone's user must pick.
    pub match_number: u8,
    /// Seconds until the code expires (120).
    pub expires_in: u32,
}

/// Where a desktop's transaction stands (等待扫码 / 已扫码 / 已登录 / 已过期).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum QrLoginStatus {
    Waiting,
    Scanned,
    SignedIn,
    Expired,
}

/// `GET /api/qr-login/{id}` with the binding cookie. On `SignedIn` this answer carries the
/// session cookie (once).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QrLoginPoll {
    pub status: QrLoginStatus,
}

/// The phone's scan: `POST /api/qr-login/scan`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QrLoginScan {
    /// The QR text or the typed short code.
    pub code: String,
    pub shield_id: String,
    pub device_key: String,
}

/// What the phone shows before it asks for the PIN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QrLoginScanned {
    pub id: String,
    pub nonce: String,
    /// The desktop browser (from its User-Agent), e.g. "Chrome 131 · Windows".
    pub browser: String,
    /// The desktop's address as the server saw it.
    pub address: String,
    /// When the desktop showed the code (RFC 3339).
    pub shown_at: String,
    /// The action approved: `sign_in`.
    pub action: String,
    /// Three two-digit numbers, one of them the desktop's, in random order.
    pub choices: Vec<u8>,
}

/// The phone's approval: `POST /api/qr-login/approve`, signed with the certificate's key over
/// [`approval_message`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QrLoginApprove {
    pub id: String,
    pub shield_id: String,
    pub device_key: String,
    pub match_number: u8,
    /// ECDSA P-256 SHA-256, DER, base64.
    pub signature: String,
}

/// The action a QR approval signs in.
pub const ACTION_SIGN_IN: &str = "sign_in";

/// The bytes a phone signs to approve a transaction: a domain tag, then the transaction, its
/// nonce, the portal's origin, the action and the number picked, one per line.
pub fn approval_message(id: &str, nonce: &str, origin: &str, action: &str, match_number: u8) -> Vec<u8> {
    format!("certdesk-qr-login/1\n{id}\n{nonce}\n{origin}\n{action}\n{match_number:02}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_crockford() {
        assert_eq!(transaction_code("CERTDESK-LOGIN:0123456789").as_deref(), Some("0123456789"));
        assert_eq!(transaction_code(" abcde-fghjk ").as_deref(), Some("ABCDEFGHJK"));
        assert_eq!(transaction_code("oIL34 56789").as_deref(), Some("0113456789"));
        assert_eq!(transaction_code("ABCDEFGHJ"), None);
        assert_eq!(transaction_code("ABCDEFGHJU"), None, "U is not Crockford");
        assert_eq!(transaction_code("CERTDESK-LOGIN:ABCDEFGHJK1"), None);
        assert_eq!(display_code("ABCDEFGHJK"), "ABCDE-FGHJK");
    }

    #[test]
    fn the_approval_names_everything() {
        let m = approval_message("ABCDEFGHJK", "n0", "https://ca.example", ACTION_SIGN_IN, 7);
        assert_eq!(m, b"certdesk-qr-login/1\nABCDEFGHJK\nn0\nhttps://ca.example\nsign_in\n07");
    }
}

crate::deserialize_by_name!(ShieldState);

crate::deserialize_by_name!(QrLoginStatus);
