//! Tokens behind one interface. A USB key (UKey) is reached through its vendor's PKCS#11
//! module (SoftHSM2 in tests, OpenSC or the vendor's in use); the PC software shield is the
//! next kind. Platform code stays behind [`Tokens`], so Windows and macOS only add a module.

use anyhow::{Context, Result};
use certdesk_shared::agent::{TokenInfo, TokenKind};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::UserType;
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

/// What the token said of a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinAnswer {
    Right,
    Wrong,
    /// The token itself has locked the PIN.
    Locked,
}

/// Every token the agent can offer.
pub trait Tokens: Send + Sync {
    fn list(&self) -> Result<Vec<TokenInfo>>;
    /// Logs in to the token with this medium number as the user, and out again; `None`
    /// when no such token is present.
    fn check_pin(&self, medium_no: &str, pin: &str) -> Result<Option<PinAnswer>>;
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

impl Tokens for Pkcs11Tokens {
    fn check_pin(&self, medium_no: &str, pin: &str) -> Result<Option<PinAnswer>> {
        let Some(slot) = self.slot(medium_no)? else { return Ok(None) };
        let session = self.ctx.open_ro_session(slot)?;
        match session.login(UserType::User, Some(&AuthPin::from(pin.to_owned()))) {
            Ok(()) => {
                let _ = session.logout();
                Ok(Some(PinAnswer::Right))
            }
            Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => Ok(Some(PinAnswer::Wrong)),
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => Ok(Some(PinAnswer::Locked)),
            Err(e) => Err(e.into()),
        }
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

/// No module configured: no USB keys.
pub struct NoTokens;

impl Tokens for NoTokens {
    fn list(&self) -> Result<Vec<TokenInfo>> {
        Ok(Vec::new())
    }

    fn check_pin(&self, _medium_no: &str, _pin: &str) -> Result<Option<PinAnswer>> {
        Ok(None)
    }
}
