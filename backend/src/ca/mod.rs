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
    /// The issuing CA's CRL partitions; `None` for a CA with one full CRL (the root).
    pub partitions: Option<CrlPartitions>,
    /// The OCSP responder for this CA's certificates (the issuing CA's), which signs each
    /// certificate's response when its status changes; `None` for the root.
    pub responder: Option<Arc<ocsp::Responder>>,
    signer: Arc<dyn Signer>,
}

impl Authority {
    pub fn signer(&self) -> &dyn Signer {
        self.signer.as_ref()
    }
}

/// How a CA's CRLs are partitioned (as Let's Encrypt's Boulder does): a new certificate's
/// shard is its serial mod `shards`, fixed at issuance and named in its CRL distribution
/// point; each shard is its own CRL with its own number and a critical
/// issuingDistributionPoint. Certificates from before have no shard and name the full-name
/// CRL, which is then their partition (listing only them, with its own
/// issuingDistributionPoint).
#[derive(Clone, Debug)]
pub struct CrlPartitions {
    /// `{public_url}/ca/{name}`.
    pub base: String,
    /// How many shards new certificates are spread over (`--crl-shards`).
    pub shards: u16,
}

impl CrlPartitions {
    /// The URL of a shard's CRL, or of the CRL of the certificates without a shard.
    pub fn url(&self, shard: Option<u16>) -> String {
        match shard {
            Some(s) => format!("{}/{s}.crl", self.base),
            None => format!("{}.crl", self.base),
        }
    }

    /// The shard of a new certificate: its serial (big-endian) mod the number of shards.
    pub fn shard_of(&self, serial: &[u8]) -> u16 {
        let n = u32::from(self.shards.max(1));
        let rest = serial.iter().fold(0u32, |acc, b| (acc * 256 + u32::from(*b)) % n);
        u16::try_from(rest).unwrap_or(0)
    }
}

/// A new certificate's serial: 16 octets, positive (RFC 5280 §4.1.2.2), the millisecond of
/// issuance (48 bits, big-endian) then 80 bits from the CSPRNG: non-sequential, with more
/// than the 64 random bits the Baseline Requirements (§7.1) ask. New serials sort by the
/// clock's millisecond, so a batch of new certificates lands at one moving point of the
/// serial indexes (`certificate_ca_serial`, `ocsp_response`'s key: their end, in a database
/// without serials from before this form) instead of dirtying one random page of each per
/// certificate. Two serials can be equal only when issued in the same millisecond, one chance
/// in 2^80; the unique index refuses the second. The shard (`CrlPartitions::shard_of`, the
/// serial mod N) stays uniform: the low 80 bits are random.
pub fn new_serial() -> anyhow::Result<[u8; 16]> {
    use anyhow::Context as _;
    let millis = u64::try_from(Utc::now().timestamp_millis()).context("clock before 1970")?;
    let mut s = [0u8; 16];
    s[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    s[6..].copy_from_slice(&crate::random::random_bytes::<10>()?);
    // From November 2004 (2^40 ms) to 6429 (2^47 ms) the top octet is between 0x01 and 0x7f:
    // positive, all 16 octets kept.
    anyhow::ensure!(s[0] > 0 && s[0] < 0x80, "clock out of the serial's range");
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
    fn a_shard_is_the_serial_mod_the_number_of_shards() {
        let p = CrlPartitions { base: "https://x/ca/issuing".into(), shards: 16 };
        assert_eq!(p.shard_of(&[0x01, 0x23]), 0x0123 % 16);
        let serial = [0x7f, 0xff, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2b];
        assert_eq!(p.shard_of(&serial), 0x2b % 16);
        let p7 = CrlPartitions { shards: 7, ..p };
        let big = u128::from_be_bytes(serial);
        assert_eq!(u128::from(p7.shard_of(&serial)), big % 7);
        assert_eq!(p7.url(Some(3)), "https://x/ca/issuing/3.crl");
        assert_eq!(p7.url(None), "https://x/ca/issuing.crl");
    }

    #[test]
    fn serials_are_positive_16_bytes_differ_and_sort_by_issuance() {
        let mut seen = std::collections::HashSet::new();
        let mut last = [0u8; 6];
        let mut low_octets = std::collections::HashSet::new();
        for _ in 0..1000 {
            let s = new_serial().unwrap();
            assert!(s[0] > 0 && s[0] < 0x80, "{s:?}");
            assert!(seen.insert(s));
            assert!(s[..6] >= last[..], "the millisecond goes back: {s:?}");
            last.copy_from_slice(&s[..6]);
            low_octets.insert(s[15]);
        }
        // The random part is random: 1,000 draws of its last octet show most of its 256 values.
        assert!(low_octets.len() > 200, "{}", low_octets.len());
        let now = u64::try_from(Utc::now().timestamp_millis()).unwrap();
        let mut millis = [0u8; 8];
        millis[2..].copy_from_slice(&last);
        assert!(now.abs_diff(u64::from_be_bytes(millis)) < 60_000);
    }
}
