//! The certificate authority: the offline root CA (`root`, on a machine of its own), the
//! server's issuing CA and the root's certificate and CRL (`hierarchy`), profiles as data
//! (`profile`), issuance from a CSR with a check before signing (`issue`), revocation,
//! freezing and CRLs (`revoke`). Keys live only in `signer`; the root's is never on the server.

pub mod asn1;
pub mod hierarchy;
pub mod issue;
pub mod ocsp;
pub mod profile;
pub mod revoke;
pub mod root;
pub mod signer;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use hierarchy::CaService;
use signer::Signer;

/// One CA of the hierarchy, loaded: its certificate and a handle to sign with its key.
#[derive(Clone)]
pub struct Authority {
    pub id: i32,
    /// `root` or `issuing`: also the file name of its certificate and CRL URLs.
    pub name: String,
    pub cert_der: Vec<u8>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// Subject key identifier of the CA certificate.
    pub ski: Vec<u8>,
    signer: Arc<dyn Signer>,
}

impl Authority {
    pub fn signer(&self) -> &dyn Signer {
        self.signer.as_ref()
    }
}

/// A new random serial: 16 bytes, the top bit clear so the INTEGER is positive
/// (RFC 5280 §4.1.2.2; at least 64 bits of entropy as the CA/B Forum asks).
pub fn random_serial() -> anyhow::Result<[u8; 16]> {
    let mut s = [0u8; 16];
    getrandom::fill(&mut s).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    s[0] &= 0x7f;
    if s[0] == 0 {
        s[0] = 0x01; // keep the full 16 octets so every serial has the same length
    }
    Ok(s)
}

pub fn to_offset(t: DateTime<Utc>) -> anyhow::Result<time::OffsetDateTime> {
    Ok(time::OffsetDateTime::from_unix_timestamp(t.timestamp())?)
}

/// The subject key identifier of a certificate.
pub fn subject_key_id(cert_der: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)?;
    for ext in cert.extensions() {
        if let x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(ki) = ext.parsed_extension() {
            return Ok(ki.0.to_vec());
        }
    }
    anyhow::bail!("the CA certificate has no subject key identifier")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_positive_16_bytes_and_differ() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let s = random_serial().unwrap();
            assert!(s[0] > 0 && s[0] < 0x80, "{s:?}");
            assert!(seen.insert(s));
        }
    }
}
