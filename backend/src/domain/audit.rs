//! The audit trail: every security event appended to one chain. Each row carries the MAC of
//! the row before it and its own MAC (HMAC-SHA256 under the audit key, which lives outside
//! the database), so `certdesk audit verify` finds a row that was edited, inserted or
//! deleted. The database refuses UPDATE and DELETE on the table (triggers); the MAC covers
//! someone who drops the triggers. Rows deleted from the end leave a shorter chain that
//! still verifies, so the head is also published outside the database ([`publish_head`],
//! hourly, to the head file) and `audit verify` checks the trail against every published
//! head ([`check_heads`]).

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
    TransactionTrait,
};
use sha2::Sha256;
use zeroize::Zeroizing;

use certdesk_shared::admin::{AuditQuery, Page};

use super::paging::Paging;

use crate::entity::audit_event;

/// `prev_hash` of the first row.
pub const GENESIS: &str = "genesis";

/// The key the chain's MACs are made with.
pub struct AuditKey(Zeroizing<[u8; 32]>);

impl AuditKey {
    /// From a passphrase (`CERTDESK_AUDIT_KEY`), or a 32-byte file created when missing.
    pub fn from_config(config: &crate::Config) -> anyhow::Result<AuditKey> {
        use sha2::Digest;
        if let Some(p) = config.audit_key.as_deref().filter(|p| !p.is_empty()) {
            let mut key = Zeroizing::new([0u8; 32]);
            key.copy_from_slice(&Sha256::digest([b"certdesk audit key v1\0".as_slice(), p.as_bytes()].concat()));
            return Ok(AuditKey(key));
        }
        Self::load_or_create(&config.audit_key_path())
    }

    fn load_or_create(path: &Path) -> anyhow::Result<AuditKey> {
        let mut key = Zeroizing::new([0u8; 32]);
        if path.exists() {
            let bytes = Zeroizing::new(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
            anyhow::ensure!(bytes.len() == 32, "the audit key {} must be 32 bytes", path.display());
            key.copy_from_slice(&bytes);
            return Ok(AuditKey(key));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        key.copy_from_slice(&super::random_bytes::<32>()?);
        crate::ca::signer::write_private(path, key.as_ref())?;
        tracing::info!(path = %path.display(), "created a new audit key; back it up with the database");
        Ok(AuditKey(key))
    }

    /// A secret for another purpose, derived from this key (HMAC with a label).
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_ref()).unwrap_or_else(|_| unreachable_hmac());
        m.update(label.as_bytes());
        m.finalize().into_bytes().into()
    }

    /// The MAC of a published head, under a key of its own derived from this one.
    fn head_mac(&self, seq: i64, hash: &str, at: &str) -> String {
        let key = self.derive("certdesk audit head v1");
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable_hmac());
        for f in [seq.to_string().as_str(), hash, at] {
            m.update(&(f.len() as u64).to_be_bytes());
            m.update(f.as_bytes());
        }
        hex::encode(m.finalize().into_bytes())
    }

    /// `fields`: actor, action, subject, ip, detail.
    fn mac(&self, prev: &str, at: &DateTime<Utc>, fields: [&str; 5]) -> String {
        // HMAC over length-prefixed fields, so no two different rows give the same input.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_ref()).unwrap_or_else(|_| unreachable_hmac());
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        for f in [prev, at.as_str()].into_iter().chain(fields) {
            m.update(&(f.len() as u64).to_be_bytes());
            m.update(f.as_bytes());
        }
        hex::encode(m.finalize().into_bytes())
    }
}

/// HMAC takes keys of any length; this cannot happen.
fn unreachable_hmac() -> Hmac<Sha256> {
    panic!("HMAC-SHA256 refused a 32-byte key")
}

/// Who did it: `customer:<id>`, `staff:<id>`, `anonymous`, `system`.
pub fn customer(id: &str) -> String {
    format!("customer:{id}")
}
pub fn staff(id: &str) -> String {
    format!("staff:{id}")
}
pub const ANONYMOUS: &str = "anonymous";
pub const SYSTEM: &str = "system";

/// One event to append.
pub struct Event<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub ip: &'a str,
    pub detail: serde_json::Value,
}

/// Appends one event at the head of the chain. Two servers appending at once: one of them
/// hits the unique `prev_hash` and tries again on the new head. Each try runs in its own
/// transaction, a savepoint when `db` is already one, so that a try lost to the other
/// server leaves the caller's transaction usable (PostgreSQL aborts a transaction at its
/// first failed statement) and the event still commits with the change it records.
pub async fn append(db: &(impl ConnectionTrait + TransactionTrait), key: &AuditKey, e: Event<'_>) -> Result<(), DbErr> {
    let detail = e.detail.to_string();
    for _ in 0..50 {
        // The head is read inside the try: on SQLite that holds the write lock already, so
        // appends of one database take turns instead of racing for the same head.
        let attempt = crate::db::begin_write(db).await?;
        let head = audit_event::Entity::find().order_by_desc(audit_event::Column::Seq).limit(1).one(&attempt).await?;
        let prev = head.map(|h| h.hash).unwrap_or_else(|| GENESIS.to_owned());
        let at = Utc::now().trunc_subsecs(6);
        let hash = key.mac(&prev, &at, [e.actor, e.action, e.subject, e.ip, &detail]);
        let row = audit_event::ActiveModel {
            at: Set(at),
            actor: Set(e.actor.to_owned()),
            action: Set(e.action.to_owned()),
            subject: Set(e.subject.to_owned()),
            ip: Set(e.ip.to_owned()),
            detail: Set(detail.clone()),
            prev_hash: Set(prev),
            hash: Set(hash),
            ..Default::default()
        };
        match audit_event::Entity::insert(row).exec(&attempt).await {
            Ok(_) => return attempt.commit().await,
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                attempt.rollback().await?
            }
            Err(err) => return Err(err),
        }
    }
    Err(DbErr::Custom("the audit trail head kept moving; gave up appending".into()))
}

/// The newest entries first, optionally only one actor's.
pub async fn recent(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<audit_event::Model>, DbErr> {
    audit_event::Entity::find().order_by_desc(audit_event::Column::Seq).limit(limit).all(db).await
}

/// The audit trail's filters ([`AuditQuery`]), checked: each one an indexed comparison.
#[derive(Debug, Clone)]
pub struct Filter {
    actor: Option<String>,
    action: Option<String>,
    subject: Option<String>,
    from: Option<DateTime<Utc>>,
    /// The start of the day after `to`.
    until: Option<DateTime<Utc>>,
    pub paging: Paging,
}

impl Filter {
    /// The query's filters, or each field that is not one (a day that is not `YYYY-MM-DD`, a
    /// page that is not one, see [`Paging::parse`]).
    pub fn parse(q: &AuditQuery) -> Result<Filter, crate::error::AppError> {
        use certdesk_shared::{FieldError, ValidationError};
        let mut errors = Vec::new();
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let mut day = |field: &str, s: &str| -> Option<DateTime<Utc>> {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Some(d.and_time(chrono::NaiveTime::MIN).and_utc()),
                Err(_) => {
                    errors.push(FieldError { field: field.into(), error: ValidationError::DateFormat });
                    None
                }
            }
        };
        let from = day("from", &q.from);
        let until = day("to", &q.to).map(|d| d + chrono::Duration::days(1));
        let paging = Paging::parse(q.page, q.per_page, &mut errors);
        if !errors.is_empty() {
            return Err(crate::error::AppError::Validation(errors));
        }
        Ok(Filter { actor: text(&q.actor), action: text(&q.action), subject: text(&q.subject), from, until, paging })
    }

    fn condition(&self) -> sea_orm::Condition {
        use audit_event::Column;
        let mut c = sea_orm::Condition::all();
        if let Some(a) = &self.actor {
            c = c.add(Column::Actor.eq(a.as_str()));
        }
        if let Some(a) = &self.action {
            c = c.add(Column::Action.eq(a.as_str()));
        }
        if let Some(s) = &self.subject {
            c = c.add(Column::Subject.eq(s.as_str()));
        }
        if let Some(f) = self.from {
            c = c.add(Column::At.gte(f));
        }
        if let Some(u) = self.until {
            c = c.add(Column::At.lt(u));
        }
        c
    }
}

/// One page of the trail, newest first, and how many rows match in all.
pub async fn search(db: &impl ConnectionTrait, f: &Filter) -> Result<Page<audit_event::Model>, DbErr> {
    use sea_orm::PaginatorTrait;
    let find = audit_event::Entity::find().filter(f.condition());
    let total = find.clone().count(db).await?;
    let rows =
        find.order_by_desc(audit_event::Column::Seq).offset(f.paging.offset()).limit(f.paging.per_page).all(db).await?;
    Ok(f.paging.page(rows, total))
}

/// Up to `n` matching rows older than row `before`, newest first: the CSV export walks the
/// whole match this way, by the primary key, never by an offset.
pub async fn matches_before(
    db: &impl ConnectionTrait,
    f: &Filter,
    before: i64,
    n: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    audit_event::Entity::find()
        .filter(f.condition())
        .filter(audit_event::Column::Seq.lt(before))
        .order_by_desc(audit_event::Column::Seq)
        .limit(n)
        .all(db)
        .await
}

/// Sign-in events of one customer (successes by actor, failures by the phone tried).
pub async fn sign_ins(
    db: &impl ConnectionTrait,
    account_id: &str,
    mobile: &str,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    use sea_orm::Condition;
    audit_event::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(audit_event::Column::Actor.eq(customer(account_id)))
                        .add(audit_event::Column::Action.eq("signed_in")),
                )
                .add(
                    Condition::all()
                        .add(audit_event::Column::Actor.eq(ANONYMOUS))
                        .add(audit_event::Column::Action.eq("sign_in_failed"))
                        .add(audit_event::Column::Subject.eq(mobile)),
                ),
        )
        .order_by_desc(audit_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Verification {
    pub rows: u64,
    pub head: Option<String>,
    pub problems: Vec<String>,
}

/// Walks the whole chain in order and names every row that does not fit.
pub async fn verify(db: &impl ConnectionTrait, key: &AuditKey) -> Result<Verification, DbErr> {
    let mut out = Verification::default();
    let mut expected_prev = GENESIS.to_owned();
    let mut prev_seq: Option<i64> = None;
    let mut after = i64::MIN;
    loop {
        let batch = audit_event::Entity::find()
            .filter(audit_event::Column::Seq.gt(after))
            .order_by_asc(audit_event::Column::Seq)
            .limit(1000)
            .all(db)
            .await?;
        if batch.is_empty() {
            break;
        }
        for r in batch {
            out.rows += 1;
            after = r.seq;
            let mac = key.mac(&r.prev_hash, &r.at, [&r.actor, &r.action, &r.subject, &r.ip, &r.detail]);
            if !super::same(&mac, &r.hash) {
                out.problems.push(format!(
                    "row {}: its content does not match its MAC: the row was edited, or inserted by someone without the audit key",
                    r.seq
                ));
            }
            if r.prev_hash != expected_prev {
                let before = prev_seq.map_or("the start of the trail".to_owned(), |s| format!("row {s}"));
                out.problems.push(format!(
                    "row {}: does not follow {before}: a row between them was deleted, or one of them was inserted or edited",
                    r.seq
                ));
            }
            expected_prev = r.hash;
            prev_seq = Some(r.seq);
        }
    }
    out.head = prev_seq.map(|_| expected_prev);
    Ok(out)
}

/// The head of the chain at a moment, as published outside the database: one JSON line of
/// the head file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PublishedHead {
    /// The newest row then, and its MAC.
    pub seq: i64,
    pub hash: String,
    /// When it was published (RFC 3339, UTC).
    pub at: String,
    /// Over the three, under a key derived from the audit key.
    pub mac: String,
}

/// Appends the chain's head to `file` (one JSON line, synced to disk), unless the file's
/// last line already names that row. `None` while the trail is empty.
pub async fn publish_head(
    db: &impl ConnectionTrait,
    key: &AuditKey,
    file: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<PublishedHead>> {
    use std::io::Write as _;
    let Some(newest) = audit_event::Entity::find().order_by_desc(audit_event::Column::Seq).limit(1).one(db).await?
    else {
        return Ok(None);
    };
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let head =
        PublishedHead { seq: newest.seq, mac: key.head_mac(newest.seq, &newest.hash, &at), hash: newest.hash, at };
    let published = std::fs::read_to_string(file).unwrap_or_default();
    let last = published.lines().last().and_then(|l| serde_json::from_str::<PublishedHead>(l).ok());
    if last.is_some_and(|l| l.seq == head.seq && l.hash == head.hash) {
        return Ok(Some(head));
    }
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("opening the audit head file {}", file.display()))?;
    writeln!(f, "{}", serde_json::to_string(&head)?)?;
    f.sync_all()?;
    Ok(Some(head))
}

/// Checks the trail against every head published in `file` (none when it does not exist):
/// each line must carry a valid MAC, and the row it names must still be there with the same
/// MAC. Returns the problems found and how many heads were checked.
pub async fn check_heads(
    db: &impl ConnectionTrait,
    key: &AuditKey,
    file: &Path,
) -> anyhow::Result<(Vec<String>, usize)> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e).with_context(|| format!("reading the audit head file {}", file.display())),
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line_no = n + 1;
        let Ok(head) = serde_json::from_str::<PublishedHead>(line) else {
            problems.push(format!("{}, line {line_no}: not a published head", file.display()));
            continue;
        };
        checked += 1;
        if !super::same(&key.head_mac(head.seq, &head.hash, &head.at), &head.mac) {
            problems.push(format!(
                "{}, line {line_no}: its MAC does not match: the line was edited, or written without the audit key",
                file.display()
            ));
            continue;
        }
        match audit_event::Entity::find_by_id(head.seq).one(db).await? {
            None => problems.push(format!(
                "row {}, published as the head at {}, is missing: rows were deleted from the trail",
                head.seq, head.at
            )),
            Some(r) if !super::same(&r.hash, &head.hash) => problems
                .push(format!("row {} is not the row published as the head at {}: it was replaced", head.seq, head.at)),
            Some(_) => {}
        }
    }
    Ok((problems, checked))
}
