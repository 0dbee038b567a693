//! Wrong-PIN counts per token, kept by the agent in its data directory. A real UKey counts
//! in its chip and locks itself (its count rules: the agent reads `CKR_PIN_LOCKED`); tokens
//! that do not count (SoftHSM2, the PC soft shield) lock here after [`PIN_TRIES`] wrong
//! PINs all the same. The file holds counts only, never a PIN.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result};
use certdesk_shared::agent::PIN_TRIES;

pub struct PinCounts {
    path: PathBuf,
    lock: Mutex<()>,
}

impl PinCounts {
    pub fn new(data_dir: &std::path::Path) -> PinCounts {
        PinCounts { path: data_dir.join("pin-failures.json"), lock: Mutex::new(()) }
    }

    fn read(&self) -> BTreeMap<String, u32> {
        std::fs::read(&self.path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    fn write(&self, counts: &BTreeMap<String, u32>) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec(counts)?)?;
        std::fs::rename(&tmp, &self.path).context("saving the PIN counts")
    }

    /// Wrong PINs so far for `medium_no`.
    pub fn failures(&self, medium_no: &str) -> u32 {
        let _held = self.lock.lock();
        self.read().get(medium_no).copied().unwrap_or(0)
    }

    /// Charges a try before the PIN is put to the token, so parallel tries cannot all pass
    /// the check before any is counted: the new count, or `None` once locked (nothing
    /// charged). A right PIN then [`Self::reset`]s; a try the token never judged is
    /// [`Self::refund`]ed.
    pub fn charge(&self, medium_no: &str) -> Result<Option<u32>> {
        let _held = self.lock.lock();
        let mut counts = self.read();
        let n = counts.entry(medium_no.to_owned()).or_insert(0);
        if *n >= PIN_TRIES {
            return Ok(None);
        }
        *n += 1;
        let n = *n;
        self.write(&counts)?;
        Ok(Some(n))
    }

    /// Gives back a try [`Self::charge`] took (the token was absent or failed).
    pub fn refund(&self, medium_no: &str) -> Result<()> {
        let _held = self.lock.lock();
        let mut counts = self.read();
        match counts.get(medium_no).copied() {
            Some(n) if n > 1 => {
                counts.insert(medium_no.to_owned(), n - 1);
            }
            Some(_) => {
                counts.remove(medium_no);
            }
            None => return Ok(()),
        }
        self.write(&counts)
    }

    /// A right PIN, or an unlock: back to zero.
    pub fn reset(&self, medium_no: &str) -> Result<()> {
        let _held = self.lock.lock();
        let mut counts = self.read();
        if counts.remove(medium_no).is_some() {
            self.write(&counts)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_token_survive_a_restart_and_stop_at_the_limit() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let counts = PinCounts::new(dir.path());
        for _ in 0..12 {
            counts.charge("A1").unwrap_or_else(|e| panic!("{e}"));
        }
        counts.charge("B2").unwrap_or_else(|e| panic!("{e}"));
        let again = PinCounts::new(dir.path());
        assert_eq!((again.failures("A1"), again.failures("B2"), again.failures("C3")), (PIN_TRIES, 1, 0));
        again.reset("A1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(PinCounts::new(dir.path()).failures("A1"), 0);
        // Charged before the try; refused once locked; a refund gives one back.
        let c = PinCounts::new(dir.path());
        for n in 1..=PIN_TRIES {
            assert_eq!(c.charge("D4").ok().flatten(), Some(n));
        }
        assert_eq!(c.charge("D4").ok().flatten(), None);
        c.refund("D4").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.failures("D4"), PIN_TRIES - 1);
        c.refund("E5").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.failures("E5"), 0);
    }
}
