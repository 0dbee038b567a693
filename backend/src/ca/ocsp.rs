//! OCSP responder (RFC 6960) for the issuing CA, signing with a delegated responder
//! certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck). A serial the CA never issued is
//! `unknown`, never `good`. Each certificate's responses are signed when its status changes
//! (issuance, freeze, release, revocation: [`Responder::presign`], stored in the same
//! transaction) and again before they run out ([`refresh_presigned`]); a request for one
//! certificate without a nonce is answered with them as stored ([`presigned`]). A request
//! nonce (RFC 8954, 1 to 32 octets) is echoed in a response signed for it. Signed responses
//! without a nonce are cached per certificate status, so a status change is answered at once.
//! A repeated request is answered from memory, without asking the database about its
//! certificate, while the database's status epoch (raised by a trigger whenever any
//! certificate's status changes, migration 036) is the one read with its status; the epoch is
//! read again at most every [`FRESH_FOR`] (by one request; the others wait for its value).
//! So a status change in this process is answered at once and one made anywhere else within
//! [`FRESH_FOR`], and while nothing changes a certificate whose answer stays in memory (an
//! hour at most, within [`CACHE_BYTES`]) is not read again. An `unknown` answer is never
//! cached, here or by HTTP caches: the serial may be issued the next moment. Each cache holds at most [`CACHE_BYTES`] of keys and
//! responses, so a flood of distinct requests cannot grow the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use certdesk_shared::certificate::RevocationReason;
use chrono::{DateTime, Duration, DurationRound, Utc};
use const_oid::db::rfc5912::{ID_SHA_1, ID_SHA_256};
use const_oid::db::rfc6960::{ID_PKIX_OCSP_BASIC, ID_PKIX_OCSP_NONCE};
use der::asn1::{Null, OctetString};
use der::{Decode, Encode};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::ext::Extension;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::ext::Nonce;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, OcspResponseStatus,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, TbsRequest, Version,
};

use super::signer::Signer;
use super::{Authority, CaService, asn1};
use crate::entity::{certificate, ocsp_response};

/// How long a response may be relied on (nextUpdate - thisUpdate).
const VALIDITY: Duration = Duration::hours(24);
/// A cached response older than this is signed again, and no answer stays in memory longer.
const CACHE_FOR: Duration = Duration::hours(1);
/// What each of the two caches may hold, keys and responses counted in bytes.
pub const CACHE_BYTES: usize = 32 * 1024 * 1024;
/// How long the database's status epoch, once read, is trusted.
pub const FRESH_FOR: std::time::Duration = std::time::Duration::from_millis(500);

/// Bumped by every status change this process makes: the database's status epoch is read
/// again before the next answer from memory.
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
    let status = match f {
        Failure::MalformedRequest => OcspResponseStatus::MalformedRequest,
        Failure::InternalError => OcspResponseStatus::InternalError,
    };
    // A lone ENUMERATED in a SEQUENCE: encoding it cannot fail.
    OcspResponse { response_status: status, response_bytes: None }.to_der().unwrap_or_default()
}

/// One certificate asked about, and its DER (the key of the caches).
struct Asking {
    id: CertId,
    der: Vec<u8>,
}

/// A request that passed every check.
pub struct Request {
    cert_ids: Vec<Asking>,
    /// The nonce extension, echoed as received.
    nonce: Option<Extension>,
}

/// Reads a DER `OCSPRequest` (RFC 6960 §4.1.1) with x509-ocsp: strict DER (minimal lengths,
/// no trailing bytes), 1 to [`MAX_CERT_IDS`] certificates, a nonce of 1 to 32 octets (RFC
/// 8954). `None` is answered `malformedRequest`. The input is untrusted: the fuzzer
/// (`cargo xtask fuzz`) runs this.
pub fn parse_request(der: &[u8]) -> Option<Request> {
    let TbsRequest { request_list, request_extensions, .. } = OcspRequest::from_der(der).ok()?.tbs_request;
    if request_list.is_empty() || request_list.len() > MAX_CERT_IDS {
        return None;
    }
    let mut nonce = None;
    for ext in request_extensions.into_iter().flatten() {
        if ext.extn_id == ID_PKIX_OCSP_NONCE {
            let Nonce(value) = Nonce::from_der(ext.extn_value.as_bytes()).ok()?;
            if value.as_bytes().is_empty() || value.as_bytes().len() > 32 || nonce.is_some() {
                return None;
            }
            nonce = Some(ext);
        }
    }
    let cert_ids = request_list
        .into_iter()
        .map(|r| Some(Asking { der: r.req_cert.to_der().ok()?, id: r.req_cert }))
        .collect::<Option<Vec<_>>>()?;
    Some(Request { cert_ids, nonce })
}

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

/// An answer kept for repeated requests about one certificate.
struct FreshAnswer {
    /// The database's status epoch, read before its status was.
    epoch: i64,
    /// The answer is not served from memory after this.
    until: DateTime<Utc>,
    der: Vec<u8>,
}

/// CertID → the last answer about it.
type Fresh = Bounded<Vec<u8>, FreshAnswer>;

pub struct Responder {
    hashes: IssuerHashes,
    /// The responder's certificate, sent in every response as the `certs` of its
    /// `BasicOCSPResponse` (a SEQUENCE OF one, encoded once), and its `ResponderID` (by key).
    signer_certs: Vec<u8>,
    responder_id: ResponderId,
    /// The responder's key (the `ocsp` identity's signer).
    signer: Arc<dyn Signer>,
    cache: Mutex<Cache>,
    /// The last answer per CertID, with the epochs it was read in.
    fresh: Mutex<Fresh>,
    /// The database's status epoch, when it was read (the query's start) and this process's
    /// epoch then.
    database_epoch: Mutex<Option<(std::time::Instant, u64, i64)>>,
    /// Held by the one request that reads the epoch again; the others wait for its value.
    reading_epoch: tokio::sync::Mutex<()>,
    /// Requests answered from the database rather than from memory (one per request, however
    /// many certificates it asks about).
    status_reads: std::sync::atomic::AtomicU64,
}

impl Responder {
    /// The responder for certificates of `issuing`, signing as `ocsp` (the delegated
    /// responder the issuing CA certified).
    pub fn new(issuing: &Authority, ocsp: &Authority) -> anyhow::Result<Responder> {
        let cert = x509_cert::Certificate::from_der(&issuing.cert_der)?;
        let name = cert.tbs_certificate.subject.to_der()?;
        let key = cert.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
        let signer_cert = x509_cert::Certificate::from_der(&ocsp.cert_der)?;
        let signer_key = signer_cert.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
        Ok(Responder {
            hashes: IssuerHashes {
                sha1: (Sha1::digest(&name).into(), Sha1::digest(key).into()),
                sha256: (Sha256::digest(&name).into(), Sha256::digest(key).into()),
            },
            responder_id: ResponderId::ByKey(OctetString::new(Sha1::digest(signer_key).to_vec())?),
            signer: ocsp.signer.clone(),
            signer_certs: vec![signer_cert].to_der()?,
            cache: Mutex::new(Bounded::new(CACHE_BYTES)),
            fresh: Mutex::new(Bounded::new(CACHE_BYTES)),
            database_epoch: Mutex::new(None),
            reading_epoch: tokio::sync::Mutex::new(()),
            status_reads: std::sync::atomic::AtomicU64::new(0),
        })
    }

    fn ours(&self, id: &CertId) -> bool {
        let (name, key) = (id.issuer_name_hash.as_bytes(), id.issuer_key_hash.as_bytes());
        if id.hash_algorithm.oid == ID_SHA_1 {
            name == self.hashes.sha1.0 && key == self.hashes.sha1.1
        } else if id.hash_algorithm.oid == ID_SHA_256 {
            name == self.hashes.sha256.0 && key == self.hashes.sha256.1
        } else {
            false
        }
    }
}

/// A CertID's serial as the certificate table keeps it: its octets without a leading zero.
fn serial_of(id: &CertId) -> Vec<u8> {
    id.serial_number.as_bytes().iter().copied().skip_while(|b| *b == 0).collect()
}

async fn status(
    db: &impl ConnectionTrait,
    ca: &CaService,
    responder: &Responder,
    id: &CertId,
) -> anyhow::Result<Status> {
    if !responder.ours(id) {
        return Ok(Status::Unknown);
    }
    let serial = serial_of(id);
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
        Some((status, revoked_at, reason)) => Status::of(&status, revoked_at, reason),
    })
}

impl Status {
    /// A certificate's status from its columns: valid is good; on hold and revoked are
    /// revoked (with the reason `certificateHold` for the first).
    fn of(status: &str, revoked_at: Option<DateTime<Utc>>, reason: Option<i16>) -> Status {
        if status == super::revoke::VALID {
            return Status::Good;
        }
        Status::Revoked {
            at: revoked_at.map(|t| t.timestamp()).unwrap_or_default(),
            reason: reason.and_then(|r| u8::try_from(r).ok()),
        }
    }
}

fn ocsp_time(t: DateTime<Utc>) -> anyhow::Result<OcspGeneralizedTime> {
    Ok(OcspGeneralizedTime(asn1::generalized_time(t)?))
}

fn single_response(id: &CertId, status: &Status, this_update: DateTime<Utc>) -> anyhow::Result<SingleResponse> {
    let cert_status = match status {
        Status::Good => CertStatus::good(),
        Status::Unknown => CertStatus::unknown(),
        Status::Revoked { at, reason } => CertStatus::revoked(RevokedInfo {
            revocation_time: ocsp_time(DateTime::from_timestamp(*at, 0).unwrap_or_default())?,
            revocation_reason: reason.and_then(RevocationReason::from_code).map(super::revoke::crl_reason),
        }),
    };
    Ok(SingleResponse {
        cert_id: id.clone(),
        cert_status,
        this_update: ocsp_time(this_update)?,
        next_update: Some(ocsp_time(this_update + VALIDITY)?),
        single_extensions: None,
    })
}

/// A successful `OCSPResponse` of type id-pkix-ocsp-basic: the `ResponseData` DER-encoded,
/// signed by the responder's signer, then put together with the responder's certificate.
fn sign_basic(
    responder: &Responder,
    responses: Vec<SingleResponse>,
    nonce: Option<&Extension>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<u8>> {
    let data = ResponseData {
        version: Version::V1,
        responder_id: responder.responder_id.clone(),
        produced_at: ocsp_time(now)?,
        responses,
        response_extensions: nonce.map(|n| vec![n.clone()]),
    };
    let tbs = data.to_der()?;
    let signer = &*responder.signer;
    let alg = signer.algorithm();
    let signature_algorithm =
        asn1::signature_algorithm(alg).ok_or_else(|| anyhow::anyhow!("unsupported OCSP signing algorithm {alg:?}"))?;
    let signature = signer.sign(&tbs)?;
    let basic = SignedResponseData {
        tbs_response_data: der::asn1::AnyRef::from_der(&tbs)?,
        signature_algorithm,
        signature: der::asn1::BitStringRef::from_bytes(&signature)?,
        certs: Some(der::asn1::AnyRef::from_der(&responder.signer_certs)?),
    };
    Ok(OcspResponse::successful(basic)?.to_der()?)
}

/// A `BasicOCSPResponse` (RFC 6960 §4.2.1, as `x509_ocsp::BasicOcspResponse` reads it) put
/// together from parts already encoded: the `ResponseData` exactly as signed, and the
/// responder's certificates encoded once for all responses, not again for each.
#[derive(der::Sequence)]
struct SignedResponseData<'a> {
    tbs_response_data: der::asn1::AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: der::asn1::BitStringRef<'a>,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    certs: Option<der::asn1::AnyRef<'a>>,
}

impl const_oid::AssociatedOid for SignedResponseData<'_> {
    const OID: const_oid::ObjectIdentifier = ID_PKIX_OCSP_BASIC;
}

impl x509_ocsp::AsResponseBytes for SignedResponseData<'_> {}

/// A pre-signed response older than this is signed again by the timer
/// ([`refresh_presigned`]): half its validity, so that one missed round costs nothing.
pub const REFRESH_AFTER: Duration = Duration::hours(12);
/// A pre-signed response closer than this to its nextUpdate is not served: the request gets
/// one signed for it instead.
const SERVE_MARGIN: Duration = Duration::hours(1);
/// Certificates per transaction of [`refresh_presigned`].
const REFRESH_BATCH: u64 = 500;
/// [`refresh_presigned`] rests this many times as long as each batch took: it works a
/// quarter of the time at most, so a large round (the first after an upgrade signs for every
/// certificate issued before; a busy CA's hourly round re-signs a twelfth of them) leaves the
/// cores and the database to the requests.
const REFRESH_REST: u32 = 3;

impl Responder {
    /// The CertID of one of our certificates by hash algorithm, as a client would ask.
    fn cert_id(&self, sha256: bool, serial: &[u8]) -> anyhow::Result<CertId> {
        let (oid, name, key): (_, &[u8], &[u8]) = if sha256 {
            (ID_SHA_256, &self.hashes.sha256.0, &self.hashes.sha256.1)
        } else {
            (ID_SHA_1, &self.hashes.sha1.0, &self.hashes.sha1.1)
        };
        Ok(CertId {
            hash_algorithm: AlgorithmIdentifierOwned { oid, parameters: Some(Null.into()) },
            issuer_name_hash: OctetString::new(name)?,
            issuer_key_hash: OctetString::new(key)?,
            serial_number: x509_cert::serial_number::SerialNumber::new(serial)?,
        })
    }

    /// A certificate's responses for its status (the certificate columns `status`,
    /// `revoked_at`, `reason`), signed ahead of the requests and ready to store: one for a
    /// request by SHA-1 CertID (OpenSSL's, RFC 5019's) and one by SHA-256, each with the one
    /// SingleResponse its request asks for (some clients refuse a response with more).
    pub fn presign(
        &self,
        ca_id: i32,
        serial_hex: &str,
        status: &str,
        revoked_at: Option<DateTime<Utc>>,
        reason: Option<i16>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ocsp_response::ActiveModel> {
        use sea_orm::Set;
        let now = now.duration_trunc(Duration::seconds(1))?;
        let serial = hex::decode(serial_hex)?;
        let attested = Status::of(status, revoked_at, reason);
        let signed = |sha256: bool| {
            sign_basic(self, vec![single_response(&self.cert_id(sha256, &serial)?, &attested, now)?], None, now)
        };
        Ok(ocsp_response::ActiveModel {
            ca_id: Set(ca_id),
            serial: Set(serial_hex.to_owned()),
            status: Set(status.to_owned()),
            this_update: Set(now),
            next_update: Set(now + VALIDITY),
            der: Set(signed(false)?),
            der_sha256: Set(signed(true)?),
        })
    }
}

/// Stores a certificate's responses signed for a status it has just been given, in the
/// transaction that gives it: replaces whatever was there.
pub async fn store_presigned(db: &impl ConnectionTrait, row: ocsp_response::ActiveModel) -> Result<(), sea_orm::DbErr> {
    store_all_presigned(db, vec![row]).await
}

/// [`store_presigned`] for many certificates (distinct ones), in one statement.
pub async fn store_all_presigned(
    db: &impl ConnectionTrait,
    rows: Vec<ocsp_response::ActiveModel>,
) -> Result<(), sea_orm::DbErr> {
    use ocsp_response::Column as C;
    if rows.is_empty() {
        return Ok(());
    }
    ocsp_response::Entity::insert_many(rows)
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([C::CaId, C::Serial])
                .update_columns([C::Status, C::ThisUpdate, C::NextUpdate, C::Der, C::DerSha256])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// One certificate whose responses are due: what was read, to sign again or drop.
struct Due {
    serial: String,
    /// The status the stored responses attest and when they were signed (the guard of the
    /// write: a status change meanwhile changed one or the other).
    attested: String,
    stamped: Option<DateTime<Utc>>,
    status: String,
    revoked_at: Option<DateTime<Utc>>,
    reason: Option<i16>,
    expired: bool,
}

/// Signs again the stored responses older than [`REFRESH_AFTER`] of `ca`'s certificates
/// (deleting those of expired certificates: a request for one is signed when it comes), and
/// with `missing`, signs them for every unexpired certificate without (issued before the
/// responses were pre-signed). A batch at a time: signed off the request threads, then
/// written in one write transaction. Whichever server runs it, a refresh never replaces the
/// responses of a status that changed meanwhile: it writes only where the stored ones are
/// still those it read (same status, same `this_update`). A certificate whose signing fails
/// is logged and skipped. It works a quarter of the time at most ([`REFRESH_REST`]). Returns
/// how many certificates' responses were signed.
pub async fn refresh_presigned(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &Authority,
    missing: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    use sea_orm::Statement;
    let Some(responder) = ca.responder.clone() else { return Ok(0) };
    let backend = db.get_database_backend();
    let q = |sql: &str, values: Vec<sea_orm::Value>| Statement::from_sql_and_values(backend, sql, values);
    let mut signed = 0;
    // Due ones, in (this_update, serial) order, from after the last one seen: one that is
    // skipped is not read again in this round.
    let mut after: (DateTime<Utc>, String) = (now - Duration::days(36500), String::new());
    loop {
        let (at, serial) = after.clone();
        let rows = db
            .query_all(q(
                "SELECT o.serial, o.status AS attested, o.this_update AS stamped, c.status, c.revoked_at, \
                 c.reason, c.not_after FROM ocsp_response o \
                 JOIN certificate c ON c.ca_id = o.ca_id AND c.serial = o.serial \
                 WHERE o.ca_id = $1 AND o.this_update < $2 \
                 AND (o.this_update > $3 OR (o.this_update = $3 AND o.serial > $4)) \
                 ORDER BY o.this_update, o.serial LIMIT $5",
                vec![
                    ca.id.into(),
                    (now - REFRESH_AFTER).into(),
                    at.into(),
                    serial.into(),
                    (REFRESH_BATCH as i64).into(),
                ],
            ))
            .await?;
        let Some(last) = rows.last() else { break };
        after = (last.try_get("", "stamped")?, last.try_get("", "serial")?);
        let due = rows
            .iter()
            .map(|r| {
                Ok(Due {
                    serial: r.try_get("", "serial")?,
                    attested: r.try_get("", "attested")?,
                    stamped: Some(r.try_get("", "stamped")?),
                    status: r.try_get("", "status")?,
                    revoked_at: r.try_get("", "revoked_at")?,
                    reason: r.try_get("", "reason")?,
                    expired: r.try_get::<DateTime<Utc>>("", "not_after")? <= now,
                })
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
        signed += paced(write_presigned(db, ca, &responder, due, now)).await?;
    }
    if !missing {
        return Ok(signed);
    }
    let mut after = 0i64;
    loop {
        let rows = db
            .query_all(q(
                "SELECT c.id, c.serial, c.status, c.revoked_at, c.reason FROM certificate c \
                 WHERE c.ca_id = $1 AND c.not_after > $2 AND c.id > $3 AND NOT EXISTS \
                 (SELECT 1 FROM ocsp_response o WHERE o.ca_id = c.ca_id AND o.serial = c.serial) \
                 ORDER BY c.id LIMIT $4",
                vec![ca.id.into(), now.into(), after.into(), (REFRESH_BATCH as i64).into()],
            ))
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("", "id")?;
        let due = rows
            .iter()
            .map(|r| {
                Ok(Due {
                    serial: r.try_get("", "serial")?,
                    attested: String::new(),
                    stamped: None,
                    status: r.try_get("", "status")?,
                    revoked_at: r.try_get("", "revoked_at")?,
                    reason: r.try_get("", "reason")?,
                    expired: false,
                })
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
        signed += paced(write_presigned(db, ca, &responder, due, now)).await?;
    }
    Ok(signed)
}

/// Runs one batch of the refresh, then rests [`REFRESH_REST`] times as long.
async fn paced<T>(batch: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let done = batch.await;
    tokio::time::sleep(started.elapsed() * REFRESH_REST).await;
    done
}

/// Signs the due certificates' responses on the signing threads, then writes them in one
/// write transaction, each only where nothing changed since it was read (`stamped: None`:
/// only where there is still none). Returns how many were signed.
async fn write_presigned(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &Authority,
    responder: &Arc<Responder>,
    due: Vec<Due>,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    use ocsp_response::Column as C;
    use sea_orm::sea_query::OnConflict;
    let (ca_id, signer) = (ca.id, responder.clone());
    // Each due certificate with its new responses (`None`: expired, to drop); one whose
    // signing fails is left out.
    let due = super::issue::off_thread(move || {
        Ok(due
            .into_iter()
            .filter_map(|d| {
                if d.expired {
                    return Some((d, None));
                }
                match signer.presign(ca_id, &d.serial, &d.status, d.revoked_at, d.reason, now) {
                    Ok(row) => Some((d, Some(row))),
                    Err(e) => {
                        tracing::error!(serial = %d.serial, error = ?e, "signing an OCSP response ahead failed");
                        None
                    }
                }
            })
            .collect::<Vec<_>>())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut signed = 0;
    let txn = crate::db::begin_write(db).await?;
    for (d, fresh) in due {
        // Only where the stored responses are still those read.
        let unchanged = |stamped| {
            sea_orm::Condition::all()
                .add(C::CaId.eq(ca.id))
                .add(C::Serial.eq(d.serial.clone()))
                .add(C::Status.eq(d.attested.clone()))
                .add(C::ThisUpdate.eq(stamped))
        };
        match (fresh, d.stamped) {
            (None, Some(stamped)) => {
                ocsp_response::Entity::delete_many().filter(unchanged(stamped)).exec(&*txn).await?;
            }
            (Some(row), Some(stamped)) => {
                ocsp_response::Entity::update_many().set(row).filter(unchanged(stamped)).exec(&*txn).await?;
                signed += 1;
            }
            (Some(row), None) => {
                // A status change meanwhile stored its own: that one stays.
                ocsp_response::Entity::insert(row)
                    .on_conflict(OnConflict::columns([C::CaId, C::Serial]).do_nothing().to_owned())
                    .exec_without_returning(&*txn)
                    .await?;
                signed += 1;
            }
            (None, None) => {}
        }
    }
    txn.commit().await?;
    Ok(signed)
}

/// The stored response to one of our certificates asked by a CertID exactly as we sign it
/// (hash algorithm with its NULL parameters: clients may compare CertIDs byte for byte),
/// while the certificate still has the status it attests (a change made without signing
/// one, by hand in the database, is answered afresh) and it is not close to running out.
async fn presigned(
    db: &impl ConnectionTrait,
    ca: &CaService,
    responder: &Responder,
    asking: &Asking,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<(Vec<u8>, DateTime<Utc>)>> {
    let id = &asking.id;
    if !responder.ours(id) {
        return Ok(None);
    }
    let sha256 = id.hash_algorithm.oid == ID_SHA_256;
    let serial = serial_of(id);
    if responder.cert_id(sha256, &serial)?.to_der()? != asking.der {
        return Ok(None);
    }
    let column = if sha256 { "der_sha256" } else { "der" };
    let row = db
        .query_one(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT o.{column} AS der, o.next_update FROM ocsp_response o \
                 JOIN certificate c ON c.ca_id = o.ca_id AND c.serial = o.serial \
                 WHERE o.ca_id = $1 AND o.serial = $2 AND o.status = c.status"
            ),
            vec![ca.issuing.id.into(), hex::encode(serial).into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let next_update: DateTime<Utc> = row.try_get("", "next_update")?;
    if next_update - now <= SERVE_MARGIN {
        return Ok(None);
    }
    // Kept in memory for at most CACHE_FOR, so a response the refresh signed again in the
    // database replaces it within the hour.
    Ok(Some((row.try_get("", "der")?, (next_update - SERVE_MARGIN).min(now + CACHE_FOR))))
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
    req: &Request,
) -> anyhow::Result<Answer> {
    let cacheable = req.nonce.is_none() && req.cert_ids.len() == 1;
    if !cacheable {
        responder.status_reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Ok(answer_from_database(db, ca, responder, req, false).await?.0);
    }
    // The epoch is read before the status: a change committed after this read raises it, and
    // the answer read now stops being served. Memory is a shortcut only: without the epoch,
    // the answer comes from the database and is not kept.
    let epoch = responder
        .database_epoch(db)
        .await
        .inspect_err(
            |e| tracing::warn!(error = ?e, "OCSP: the status epoch could not be read; answering from the database"),
        )
        .ok();
    let now = Utc::now();
    if let Some(epoch) = epoch {
        let fresh = responder.fresh.lock().map_err(|_| anyhow::anyhow!("cache lock"))?;
        if let Some(kept) = fresh.get(req.cert_ids[0].der.as_slice())
            && kept.epoch == epoch
            && now < kept.until
        {
            return Ok(Answer { der: kept.der.clone(), cacheable: true });
        }
    }
    responder.status_reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (answer, until) = match presigned(db, ca, responder, &req.cert_ids[0], now).await? {
        Some((der, until)) => (Answer { der, cacheable: true }, until),
        None => answer_from_database(db, ca, responder, req, true).await?,
    };
    if let Some(epoch) = epoch
        && answer.cacheable
    {
        let mut fresh = responder.fresh.lock().map_err(|_| anyhow::anyhow!("cache lock"))?;
        // A slower request read in an older epoch than the answer kept now: keep the newer.
        if fresh.get(req.cert_ids[0].der.as_slice()).is_none_or(|kept| kept.epoch <= epoch) {
            let key = req.cert_ids[0].der.clone();
            let size = key.len() + answer.der.len() + ENTRY_OVERHEAD;
            fresh.insert(key, FreshAnswer { epoch, until, der: answer.der.clone() }, size);
        }
    }
    Ok(answer)
}

async fn answer_from_database(
    db: &impl ConnectionTrait,
    ca: &CaService,
    responder: &Responder,
    req: &Request,
    cacheable: bool,
) -> anyhow::Result<(Answer, DateTime<Utc>)> {
    let now = Utc::now().duration_trunc(Duration::seconds(1))?;
    let mut statuses = Vec::with_capacity(req.cert_ids.len());
    for asking in &req.cert_ids {
        statuses.push(status(db, ca, responder, &asking.id).await?);
    }
    // `unknown` is never kept: the serial may be issued the next moment.
    let known = !statuses.contains(&Status::Unknown);
    let cacheable = cacheable && known;
    let key = (req.cert_ids[0].der.clone(), statuses[0].clone());
    if cacheable {
        let cache = responder.cache.lock().map_err(|_| anyhow::anyhow!("cache lock"))?;
        if let Some((at, der)) = cache.get(&key)
            && now - *at < CACHE_FOR
        {
            return Ok((Answer { der: der.clone(), cacheable }, *at + CACHE_FOR));
        }
    }
    let singles = req
        .cert_ids
        .iter()
        .zip(&statuses)
        .map(|(asking, s)| single_response(&asking.id, s, now))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let der = sign_basic(responder, singles, req.nonce.as_ref(), now)?;
    if cacheable {
        let mut cache = responder.cache.lock().map_err(|_| anyhow::anyhow!("cache lock"))?;
        let size = key.0.len() + der.len() + ENTRY_OVERHEAD;
        cache.insert(key, (now, der.clone()), size);
    }
    Ok((Answer { der, cacheable }, now + CACHE_FOR))
}

impl Responder {
    /// Entries and bytes in the two caches (signed responses, fresh answers), for tests and
    /// metrics.
    pub fn cache_usage(&self) -> ((usize, usize), (usize, usize)) {
        let cache = self.cache.lock().map(|c| (c.len(), c.bytes())).unwrap_or_default();
        let fresh = self.fresh.lock().map(|c| (c.len(), c.bytes())).unwrap_or_default();
        (cache, fresh)
    }

    /// How many requests were answered from the database rather than from memory, for tests
    /// and the bench.
    pub fn status_reads(&self) -> u64 {
        self.status_reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The database's status epoch (migration 036), read again when the one in hand is
    /// [`FRESH_FOR`] old or this process has changed a status since. The time kept is the
    /// query's start, so an answer is never trusted for longer than [`FRESH_FOR`] after a
    /// change committed anywhere.
    async fn database_epoch(&self, db: &impl ConnectionTrait) -> anyhow::Result<i64> {
        let local = epoch();
        let current = || -> anyhow::Result<Option<i64>> {
            let held = *self.database_epoch.lock().map_err(|_| anyhow::anyhow!("epoch lock"))?;
            Ok(held.filter(|(read, at, _)| *at == local && read.elapsed() < FRESH_FOR).map(|(_, _, n)| n))
        };
        if let Some(n) = current()? {
            return Ok(n);
        }
        // One query at a time: those who waited take the value it read.
        let _reading = self.reading_epoch.lock().await;
        if let Some(n) = current()? {
            return Ok(n);
        }
        let started = std::time::Instant::now();
        let n: i64 = db
            .query_one(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT n FROM status_epoch WHERE id = 1",
            ))
            .await?
            .context("status_epoch has no row (migration 036)")?
            .try_get("", "n")?;
        let mut held = self.database_epoch.lock().map_err(|_| anyhow::anyhow!("epoch lock"))?;
        if held.is_none_or(|(read, _, _)| read < started) {
            *held = Some((started, local, n));
        }
        Ok(n)
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
    let cert = x509_cert::Certificate::from_der(cert_der)?;
    let id = CertId {
        hash_algorithm: AlgorithmIdentifierOwned { oid: ID_SHA_256, parameters: Some(Null.into()) },
        issuer_name_hash: OctetString::new(Sha256::digest(cert.tbs_certificate.issuer.to_der()?).to_vec())?,
        issuer_key_hash: OctetString::new(responder.hashes.sha256.1.to_vec())?,
        serial_number: cert.tbs_certificate.serial_number,
    };
    let response = respond(db, ca, responder, &request_for(id.clone())?).await;
    Ok(read_response(&ca.ocsp.cert_der, &response.der, &id))
}

/// A DER `OCSPRequest` for one CertID, without a nonce.
fn request_for(id: CertId) -> anyhow::Result<Vec<u8>> {
    Ok(OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![x509_ocsp::Request { req_cert: id, single_request_extensions: None }],
            request_extensions: None,
        },
        optional_signature: None,
    }
    .to_der()?)
}

impl Responder {
    /// The request an OCSP client without a nonce sends for one of our certificates, by its
    /// SHA-1 CertID as OpenSSL's does (for the load test's many certificates).
    pub fn request(&self, serial_hex: &str) -> anyhow::Result<Vec<u8>> {
        request_for(self.cert_id(false, &hex::decode(serial_hex)?)?)
    }
}

/// The status in the SingleResponse for `asked` (its hash algorithm and serial: a
/// pre-signed response holds one per hash) of a successful basic response whose signature
/// verifies with `signer_der`'s key.
fn read_response(signer_der: &[u8], response: &[u8], asked: &CertId) -> Option<Asked> {
    use x509_parser::prelude::FromDer;
    let response = OcspResponse::from_der(response).ok()?;
    let bytes = response.response_bytes.filter(|_| response.response_status == OcspResponseStatus::Successful)?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return None;
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).ok()?;
    // Strict DER decodes to one value only: encoding it again gives the bytes signed.
    let tbs = basic.tbs_response_data.to_der().ok()?;
    let (_, signer) = x509_parser::parse_x509_certificate(signer_der).ok()?;
    let alg = basic.signature_algorithm.to_der().ok()?;
    let (_, alg) = x509_parser::x509::AlgorithmIdentifier::from_der(&alg).ok()?;
    let bits = x509_parser::asn1_rs::BitString::new(0, basic.signature.as_bytes()?);
    x509_parser::verify::verify_signature(signer.public_key(), &alg, &bits, &tbs).ok()?;
    let single = basic.tbs_response_data.responses.iter().find(|r| {
        r.cert_id.hash_algorithm.oid == asked.hash_algorithm.oid && r.cert_id.serial_number == asked.serial_number
    })?;
    Some(match single.cert_status {
        CertStatus::Good(_) => Asked::Good,
        CertStatus::Revoked(_) => Asked::Revoked,
        CertStatus::Unknown(_) => Asked::Unknown,
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
        assert_eq!(failure(Failure::InternalError), vec![0x30, 0x03, 0x0a, 0x01, 0x02]);
    }

    /// A request for one serial, with a nonce of `nonce_len` octets when given.
    fn request(nonce_len: Option<usize>) -> Vec<u8> {
        let id = CertId {
            hash_algorithm: AlgorithmIdentifierOwned { oid: ID_SHA_1, parameters: Some(Null.into()) },
            issuer_name_hash: OctetString::new(vec![1; 20]).unwrap(),
            issuer_key_hash: OctetString::new(vec![2; 20]).unwrap(),
            serial_number: x509_cert::serial_number::SerialNumber::new(&[0x7f, 1, 2, 3]).unwrap(),
        };
        let nonce = nonce_len.map(|n| {
            let value = Nonce::new(vec![9; n]).unwrap().to_der().unwrap();
            vec![Extension {
                extn_id: ID_PKIX_OCSP_NONCE,
                critical: false,
                extn_value: OctetString::new(value).unwrap(),
            }]
        });
        OcspRequest {
            tbs_request: TbsRequest {
                version: Version::V1,
                requestor_name: None,
                request_list: vec![x509_ocsp::Request { req_cert: id, single_request_extensions: None }],
                request_extensions: nonce,
            },
            optional_signature: None,
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn only_strict_der_is_a_request() {
        let good = request(Some(16));
        let parsed = parse_request(&good).unwrap();
        assert_eq!(parsed.cert_ids.len(), 1);
        assert!(parsed.nonce.is_some());
        // The CertID is kept as sent (it keys the caches and is echoed).
        assert!(good.windows(parsed.cert_ids[0].der.len()).any(|w| w == parsed.cert_ids[0].der));

        // Trailing bytes.
        assert!(parse_request(&[good.clone(), vec![0]].concat()).is_none());
        // The outer length in two octets where one does (0x81 0x..): not DER.
        assert!(good[1] < 0x80);
        let long = [&[0x30, 0x81, good[1]][..], &good[2..]].concat();
        assert!(parse_request(&long).is_none());
        // Indefinite length (BER).
        let indefinite = [&[0x30, 0x80][..], &good[2..], &[0, 0]].concat();
        assert!(parse_request(&indefinite).is_none());
        // A nonce of 0 or 33 octets (RFC 8954: 1 to 32).
        assert!(parse_request(&request(Some(0))).is_none());
        assert!(parse_request(&request(Some(33))).is_none());
        assert!(parse_request(&request(Some(32))).is_some());
        assert!(parse_request(&request(None)).unwrap().nonce.is_none());
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
