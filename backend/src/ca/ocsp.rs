//! OCSP responder (RFC 6960) for the issuing CA, signing with a delegated responder
//! certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck). A serial the CA never issued is
//! `unknown`, never `good`. A request nonce (RFC 8954, 1 to 32 octets) is echoed. Responses
//! without a nonce are cached per certificate status, so a status change is answered at once;
//! for at most [`FRESH_FOR`] a repeated request is answered without asking the database (a
//! status change in this process ends that at once, one on another server within
//! [`FRESH_FOR`]). An `unknown` answer is never cached, here or by HTTP caches: the serial
//! may be issued the next moment. Each cache holds at most [`CACHE_BYTES`] of keys and
//! responses, so a flood of distinct requests cannot grow the process.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::der::{oid, tlv};
use super::{Authority, CaService};
use crate::entity::certificate;

const ID_PKIX_OCSP_BASIC: &[u128] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 1];
const ID_PKIX_OCSP_NONCE: &[u128] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 2];
const SHA1_OID: &[u128] = &[1, 3, 14, 3, 2, 26];
const SHA256_OID: &[u128] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];

/// How long a response may be relied on (nextUpdate - thisUpdate).
const VALIDITY: Duration = Duration::hours(24);
/// A cached response older than this is signed again.
const CACHE_FOR: Duration = Duration::hours(1);
/// What each of the two caches may hold, keys and responses counted in bytes.
pub const CACHE_BYTES: usize = 32 * 1024 * 1024;
/// How long a status read from the database is trusted for repeated requests.
pub const FRESH_FOR: std::time::Duration = std::time::Duration::from_millis(500);

/// Bumped by every status change this process makes: answers read before it are stale.
static STATUS_EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Called after a status change commits (revoke, freeze, release).
pub fn status_changed() {
    STATUS_EPOCH.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

fn epoch() -> u64 {
    STATUS_EPOCH.load(std::sync::atomic::Ordering::SeqCst)
}
/// More certificates in one request than this is refused: one request must not cost
/// thousands of lookups and a huge signed response.
pub const MAX_CERT_IDS: usize = 10;

/// `OCSPResponseStatus` values other than success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    MalformedRequest = 1,
    InternalError = 2,
}

/// An error response: just the status.
pub fn failure(f: Failure) -> Vec<u8> {
    tlv(0x30, &tlv(0x0a, &[f as u8]))
}

/// One DER element.
struct Tlv<'a> {
    tag: u8,
    value: &'a [u8],
    raw: &'a [u8],
}

fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags do not occur in OCSP
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    Some((Tlv { tag, value: &rest[..len], raw: &input[..header + len] }, &rest[len..]))
}

/// All elements of a constructed value.
fn children(mut input: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (t, rest) = read(input)?;
        out.push(t);
        input = rest;
    }
    Some(out)
}

/// One `CertID` of a request.
struct CertId<'a> {
    raw: &'a [u8],
    hash_oid: &'a [u8],
    name_hash: &'a [u8],
    key_hash: &'a [u8],
    serial: &'a [u8],
}

pub struct Request<'a> {
    cert_ids: Vec<CertId<'a>>,
    /// The whole nonce extension, echoed as received.
    nonce_ext: Option<&'a [u8]>,
}

pub fn parse_request(der: &[u8]) -> Option<Request<'_>> {
    let (req, rest) = read(der)?;
    if req.tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let parts = children(req.value)?;
    let tbs = parts.first().filter(|t| t.tag == 0x30)?;
    let mut cert_ids = Vec::new();
    let mut nonce_ext = None;
    for field in children(tbs.value)? {
        match field.tag {
            0xa0 | 0xa1 => {} // version, requestorName
            0x30 => {
                for request in children(field.value)? {
                    let inner = children(request.value)?;
                    let cert_id = inner.first().filter(|t| t.tag == 0x30)?;
                    let f = children(cert_id.value)?;
                    if f.len() != 4 || f[0].tag != 0x30 || f[1].tag != 0x04 || f[2].tag != 0x04 || f[3].tag != 0x02 {
                        return None;
                    }
                    let alg = children(f[0].value)?;
                    cert_ids.push(CertId {
                        raw: cert_id.raw,
                        hash_oid: alg.first().filter(|t| t.tag == 0x06)?.raw,
                        name_hash: f[1].value,
                        key_hash: f[2].value,
                        serial: f[3].value,
                    });
                }
            }
            0xa2 => {
                let exts = children(field.value)?;
                for ext in children(exts.first()?.value)? {
                    let e = children(ext.value)?;
                    if e.first()?.raw == oid(ID_PKIX_OCSP_NONCE).as_slice() {
                        let value = e.last().filter(|t| t.tag == 0x04)?;
                        // RFC 8954: the nonce is an OCTET STRING of 1 to 32 octets.
                        let (nonce, rest) = read(value.value)?;
                        if nonce.tag != 0x04 || nonce.value.is_empty() || nonce.value.len() > 32 || !rest.is_empty() {
                            return None;
                        }
                        nonce_ext = Some(ext.raw);
                    }
                }
            }
            _ => return None,
        }
    }
    if cert_ids.is_empty() || cert_ids.len() > MAX_CERT_IDS {
        return None;
    }
    Some(Request { cert_ids, nonce_ext })
}

use super::der::generalized_time;

/// Status of one certificate as the database has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Status {
    Good,
    Revoked { at: i64, reason: Option<u8> },
    Unknown,
}

/// The issuing CA's name and key hashes, by hash algorithm.
struct IssuerHashes {
    sha1: ([u8; 20], [u8; 20]),
    sha256: ([u8; 32], [u8; 32]),
}

/// A map that keeps its entries' sizes (as the caller counts them) under a budget: an insert
/// that would pass it first evicts entries (any: a response is cheap to sign again).
pub struct Bounded<K, V> {
    map: HashMap<K, (usize, V)>,
    bytes: usize,
    budget: usize,
}

impl<K: std::hash::Hash + Eq + Clone, V> Bounded<K, V> {
    pub fn new(budget: usize) -> Self {
        Bounded { map: HashMap::new(), bytes: 0, budget }
    }

    pub fn get<Q: std::hash::Hash + Eq + ?Sized>(&self, k: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.map.get(k).map(|(_, v)| v)
    }

    /// Keeps `v` under `k`, counting `size` bytes for the pair; a pair larger than the whole
    /// budget is not kept (and the key's earlier value goes).
    pub fn insert(&mut self, k: K, v: V, size: usize) {
        // What the key held before is stale either way.
        if let Some((old, _)) = self.map.remove(&k) {
            self.bytes -= old;
        }
        if size > self.budget {
            return;
        }
        while self.bytes + size > self.budget {
            let Some(victim) = self.map.keys().next().cloned() else { break };
            if let Some((n, _)) = self.map.remove(&victim) {
                self.bytes -= n;
            }
        }
        self.bytes += size;
        self.map.insert(k, (size, v));
    }

    /// Bytes held (keys and values as counted at insert).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// What an entry of either cache costs beyond its key and response: the map's own slots,
/// the status or times, the vectors' headers.
const ENTRY_OVERHEAD: usize = 96;

/// Signed responses by (CertID, status): a status change misses the cache.
type Cache = Bounded<(Vec<u8>, Status), (DateTime<Utc>, Vec<u8>)>;

/// CertID → (when its status was read, the epoch then, the answer).
type Fresh = Bounded<Vec<u8>, (std::time::Instant, u64, Vec<u8>)>;

pub struct Responder {
    hashes: IssuerHashes,
    cache: Mutex<Cache>,
    /// The last answer per CertID: when its status was read, in which epoch, and the DER.
    fresh: Mutex<Fresh>,
}

impl Responder {
    pub fn new(issuing: &Authority) -> anyhow::Result<Responder> {
        let (_, cert) = x509_parser::parse_x509_certificate(&issuing.cert_der)?;
        let name = cert.subject().as_raw();
        let key = cert.public_key().subject_public_key.data.as_ref();
        Ok(Responder {
            hashes: IssuerHashes {
                sha1: (Sha1::digest(name).into(), Sha1::digest(key).into()),
                sha256: (Sha256::digest(name).into(), Sha256::digest(key).into()),
            },
            cache: Mutex::new(Bounded::new(CACHE_BYTES)),
            fresh: Mutex::new(Bounded::new(CACHE_BYTES)),
        })
    }

    fn ours(&self, id: &CertId<'_>) -> bool {
        if id.hash_oid == oid(SHA1_OID).as_slice() {
            id.name_hash == self.hashes.sha1.0 && id.key_hash == self.hashes.sha1.1
        } else if id.hash_oid == oid(SHA256_OID).as_slice() {
            id.name_hash == self.hashes.sha256.0 && id.key_hash == self.hashes.sha256.1
        } else {
            false
        }
    }
}

async fn status(
    db: &impl ConnectionTrait,
    ca: &CaService,
    responder: &Responder,
    id: &CertId<'_>,
) -> anyhow::Result<Status> {
    if !responder.ours(id) {
        return Ok(Status::Unknown);
    }
    let serial: Vec<u8> = id.serial.iter().copied().skip_while(|b| *b == 0).collect();
    // The status columns only, never the certificate.
    let row: Option<(String, Option<DateTime<Utc>>, Option<i16>)> = certificate::Entity::find()
        .select_only()
        .columns([certificate::Column::Status, certificate::Column::RevokedAt, certificate::Column::Reason])
        .filter(certificate::Column::CaId.eq(ca.issuing.id))
        .filter(certificate::Column::Serial.eq(hex::encode(serial)))
        .into_tuple()
        .one(db)
        .await?;
    Ok(match row {
        None => Status::Unknown,
        Some((status, _, _)) if status == super::revoke::VALID => Status::Good,
        Some((_, revoked_at, reason)) => Status::Revoked {
            at: revoked_at.map(|t| t.timestamp()).unwrap_or_default(),
            reason: reason.and_then(|r| u8::try_from(r).ok()),
        },
    })
}

fn single_response(id: &CertId<'_>, status: &Status, this_update: DateTime<Utc>) -> Vec<u8> {
    let cert_status = match status {
        Status::Good => vec![0x80, 0x00],
        Status::Unknown => vec![0x82, 0x00],
        Status::Revoked { at, reason } => {
            let mut info = generalized_time(DateTime::from_timestamp(*at, 0).unwrap_or_default());
            if let Some(r) = reason {
                info.extend(tlv(0xa0, &tlv(0x0a, &[*r])));
            }
            tlv(0xa1, &info)
        }
    };
    let mut body = id.raw.to_vec();
    body.extend(cert_status);
    body.extend(generalized_time(this_update));
    body.extend(tlv(0xa0, &generalized_time(this_update + VALIDITY)));
    tlv(0x30, &body)
}

fn sign_basic(ca: &CaService, singles: &[u8], nonce_ext: Option<&[u8]>, now: DateTime<Utc>) -> anyhow::Result<Vec<u8>> {
    let responder = &ca.ocsp;
    let (_, cert) = x509_parser::parse_x509_certificate(&responder.cert_der)?;
    let key_hash: [u8; 20] = Sha1::digest(cert.public_key().subject_public_key.data.as_ref()).into();
    let mut data = tlv(0xa2, &tlv(0x04, &key_hash)); // responderID byKey
    data.extend(generalized_time(now));
    data.extend(tlv(0x30, singles));
    if let Some(ext) = nonce_ext {
        data.extend(tlv(0xa1, &tlv(0x30, ext)));
    }
    let tbs = tlv(0x30, &data);
    let alg = responder.signer().algorithm();
    let alg_id = super::der::signature_algorithm(alg)
        .ok_or_else(|| anyhow::anyhow!("unsupported OCSP signing algorithm {alg:?}"))?;
    let signature = responder.signer().sign(&tbs)?;
    let mut bits = vec![0u8];
    bits.extend(signature);
    let mut basic = tbs;
    basic.extend(alg_id);
    basic.extend(tlv(0x03, &bits));
    basic.extend(tlv(0xa0, &tlv(0x30, &responder.cert_der)));
    let basic = tlv(0x30, &basic);
    let mut bytes = oid(ID_PKIX_OCSP_BASIC);
    bytes.extend(tlv(0x04, &basic));
    let mut resp = tlv(0x0a, &[0]); // successful
    resp.extend(tlv(0xa0, &tlv(0x30, &bytes)));
    Ok(tlv(0x30, &resp))
}

/// A DER `OCSPResponse`, and whether a shared HTTP cache may keep it (a successful answer
/// without a nonce whose every certificate is known to us).
pub struct Answer {
    pub der: Vec<u8>,
    pub cacheable: bool,
}

/// Answers one DER `OCSPRequest` with a DER `OCSPResponse`.
pub async fn respond(db: &impl ConnectionTrait, ca: &CaService, responder: &Responder, request: &[u8]) -> Answer {
    let Some(req) = parse_request(request) else {
        return Answer { der: failure(Failure::MalformedRequest), cacheable: false };
    };
    match answer(db, ca, responder, &req).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = ?e, "OCSP response failed");
            Answer { der: failure(Failure::InternalError), cacheable: false }
        }
    }
}

async fn answer(
    db: &impl ConnectionTrait,
    ca: &CaService,
    responder: &Responder,
    req: &Request<'_>,
) -> anyhow::Result<Answer> {
    let cacheable = req.nonce_ext.is_none() && req.cert_ids.len() == 1;
    let seen_epoch = epoch();
    if cacheable {
        let fresh = responder.fresh.lock().map_err(|_| anyhow::anyhow!("cache lock"))?;
        if let Some((checked, e, der)) = fresh.get(req.cert_ids[0].raw)
            && *e == seen_epoch
            && checked.elapsed() < FRESH_FOR
        {
            return Ok(Answer { der: der.clone(), cacheable: true });
        }
    }
    let checked = std::time::Instant::now();
    let (der, known) = answer_from_database(db, ca, responder, req, cacheable).await?;
    let cacheable = cacheable && known;
    if cacheable {
        let mut fresh = responder.fresh.lock().map_err(|_| anyhow::anyhow!("cache lock"))?;
        let key = req.cert_ids[0].raw.to_vec();
        let size = key.len() + der.len() + ENTRY_OVERHEAD;
        fresh.insert(key, (checked, seen_epoch, der.clone()), size);
    }
    Ok(Answer { der, cacheable })
}

async fn answer_from_database(
    db: &impl ConnectionTrait,
    ca: &CaService,
    responder: &Responder,
    req: &Request<'_>,
    cacheable: bool,
) -> anyhow::Result<(Vec<u8>, bool)> {
    let now = Utc::now().duration_trunc(Duration::seconds(1))?;
    let mut statuses = Vec::with_capacity(req.cert_ids.len());
    for id in &req.cert_ids {
        statuses.push(status(db, ca, responder, id).await?);
    }
    // `unknown` is never kept: the serial may be issued the next moment.
    let known = !statuses.contains(&Status::Unknown);
    let cacheable = cacheable && known;
    let key = (req.cert_ids[0].raw.to_vec(), statuses[0].clone());
    if cacheable {
        let cache = responder.cache.lock().map_err(|_| anyhow::anyhow!("cache lock"))?;
        if let Some((at, der)) = cache.get(&key)
            && now - *at < CACHE_FOR
        {
            return Ok((der.clone(), known));
        }
    }
    let singles: Vec<u8> = req.cert_ids.iter().zip(&statuses).flat_map(|(id, s)| single_response(id, s, now)).collect();
    let der = sign_basic(ca, &singles, req.nonce_ext, now)?;
    if cacheable {
        let mut cache = responder.cache.lock().map_err(|_| anyhow::anyhow!("cache lock"))?;
        let size = key.0.len() + der.len() + ENTRY_OVERHEAD;
        cache.insert(key, (now, der.clone()), size);
    }
    Ok((der, known))
}

impl Responder {
    /// Entries and bytes in the two caches (signed responses, fresh answers), for tests and
    /// metrics.
    pub fn cache_usage(&self) -> ((usize, usize), (usize, usize)) {
        let cache = self.cache.lock().map(|c| (c.len(), c.bytes())).unwrap_or_default();
        let fresh = self.fresh.lock().map(|c| (c.len(), c.bytes())).unwrap_or_default();
        (cache, fresh)
    }
}

/// What our responder answered about a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    Good,
    Revoked,
    Unknown,
}

/// Asks our responder about `cert_der` as an OCSP client would (证书校验): a request for its
/// CertID (SHA-256) through [`respond`], and the signed response checked against the
/// responder certificate before its status is read. `None` for a response that is not
/// successful or does not verify.
pub async fn ask(db: &impl ConnectionTrait, ca: &CaService, cert_der: &[u8]) -> anyhow::Result<Option<Asked>> {
    let responder = &ca.responder;
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)?;
    let mut alg = oid(SHA256_OID);
    alg.extend([0x05, 0x00]);
    let mut id = tlv(0x30, &alg);
    id.extend(tlv(0x04, &Sha256::digest(cert.issuer().as_raw())));
    id.extend(tlv(0x04, &responder.hashes.sha256.1));
    id.extend(super::der::uint(cert.raw_serial()));
    let request = tlv(0x30, &tlv(0x30, &tlv(0x30, &tlv(0x30, &tlv(0x30, &id)))));
    let response = respond(db, ca, responder, &request).await;
    Ok(read_response(&ca.ocsp.cert_der, &response.der))
}

/// The status of the first SingleResponse of a successful response whose signature verifies
/// with `signer_der`'s key.
fn read_response(signer_der: &[u8], response: &[u8]) -> Option<Asked> {
    use x509_parser::prelude::FromDer;
    let (outer, _) = read(response)?;
    let parts = children(outer.value)?;
    if parts.first()?.value != [0] {
        return None;
    }
    let bytes = children(parts.get(1)?.value)?;
    let bytes = children(bytes.first()?.value)?;
    let basic = children(read(bytes.get(1)?.value)?.0.value)?;
    let (tbs, alg, sig) = (basic.first()?, basic.get(1)?, basic.get(2)?);
    let (_, signer) = x509_parser::parse_x509_certificate(signer_der).ok()?;
    let (_, alg) = x509_parser::x509::AlgorithmIdentifier::from_der(alg.raw).ok()?;
    let (&unused, bits) = sig.value.split_first()?;
    let bits = x509_parser::asn1_rs::BitString::new(unused, bits);
    x509_parser::verify::verify_signature(signer.public_key(), &alg, &bits, tbs.raw).ok()?;
    let responses = children(tbs.value)?.into_iter().find(|t| t.tag == 0x30)?;
    let single = children(children(responses.value)?.first()?.value)?;
    Some(match single.get(1)?.tag {
        0x80 => Asked::Good,
        0xa1 => Asked::Revoked,
        _ => Asked::Unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_request() {
        for bad in [&b""[..], b"\x30", b"\x30\x00", b"\x30\x84\xff\xff\xff\xff", b"hello", b"\x30\x03\x30\x01\x00"] {
            assert!(parse_request(bad).is_none(), "{bad:?}");
        }
        assert_eq!(failure(Failure::MalformedRequest), vec![0x30, 0x03, 0x0a, 0x01, 0x01]);
    }

    #[test]
    fn a_bounded_cache_stays_within_its_bytes() {
        let mut c = Bounded::new(1000);
        for i in 0..500u32 {
            c.insert(i, vec![0u8; 90], 100);
            assert!(c.bytes() <= 1000, "{}", c.bytes());
        }
        assert_eq!((c.len(), c.bytes()), (10, 1000));
        // Replacing an entry counts its new size only; one larger than the budget is not kept.
        c.insert(499, vec![], 50);
        assert_eq!(c.bytes(), 950);
        c.insert(1, vec![0u8; 2000], 2000);
        assert!(c.get(&1).is_none() && c.bytes() <= 1000);
    }
}
