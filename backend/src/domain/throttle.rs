//! Failure counters and temporary locks kept in the database, so that every server sees the
//! same count. A key names what is counted: `sign_in:mobile:<phone>`, `sign_in:ip:<address>`,
//! `code:ip:<address>`. [`Counters`] is the store the public directory's counters use: the
//! same table and statements, committed without waiting for the disk.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, TransactionTrait};

use super::{exec, query_one, sha256_hex};

/// How failures of one key are slowed down and then stopped.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures are counted within this window, then start again from zero.
    pub window: Duration,
    /// From this many failures on, each attempt waits: 1 s, 2 s, 4 s … after the last failure.
    pub delay_from: i32,
    /// At this many failures the key is locked for `lock_for`.
    pub lock_at: i32,
    pub lock_for: Duration,
}

/// Per account (phone number), sign-in: delays from the 3rd failure, locked at the 5th.
pub const SIGN_IN_ACCOUNT: Policy =
    Policy { window: Duration::minutes(15), delay_from: 3, lock_at: 5, lock_for: Duration::minutes(15) };
/// Per address, sign-in: an address trying many accounts is stopped at 20 failures.
pub const SIGN_IN_ADDRESS: Policy =
    Policy { window: Duration::minutes(15), delay_from: 10, lock_at: 20, lock_for: Duration::minutes(15) };

/// The key as stored: the `bucket` column holds 64 characters, so a longer key keeps its
/// readable start and ends in a digest of the whole.
fn stored(key: &str) -> String {
    if key.len() <= 64 {
        return key.to_owned();
    }
    let start: String = key.chars().take_while(char::is_ascii).take(20).collect();
    let digest = sha256_hex(&[key.as_bytes()]);
    format!("{start}#{}", &digest[..63 - start.len()])
}

/// The part of a client address a limit counts: an IPv4 address, or an IPv6 /64 (one
/// subscriber's network; counting single IPv6 addresses would give each client billions).
pub fn address_bucket(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        _ => ip.to_owned(),
    }
}

/// Deletes counters whose window ended before `before` and that hold no lock past it
/// (run by the server's hourly timer, so one-off addresses do not pile up).
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let done = exec(
        db,
        "DELETE FROM throttle WHERE window_start < $1 AND last_failure_at < $1 AND (locked_until IS NULL OR locked_until < $1)",
        vec![before.into()],
    )
    .await?;
    Ok(done.rows_affected())
}

/// The wait after `failures` failures, if any.
pub fn delay(failures: i32, policy: Policy) -> Option<Duration> {
    (failures >= policy.delay_from).then(|| Duration::seconds(1i64 << (failures - policy.delay_from).clamp(0, 10)))
}

/// Charges one attempt before the work is done, atomically: `false` when the key is locked
/// or waiting, or when another attempt on the same key is being charged at this moment.
/// Parallel guesses therefore cannot all pass the check before any of them is counted.
/// After a success, [`clear`] (per account) or [`forgive`] (per address) takes it back.
pub async fn attempt(db: &impl ConnectionTrait, key: &str, policy: Policy, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let key = stored(key);
    let key = key.as_str();
    let Some(row) = query_one(
        db,
        "SELECT failures, window_start, last_failure_at, locked_until FROM throttle WHERE bucket = $1",
        vec![key.into()],
    )
    .await?
    else {
        let inserted = query_one(
            db,
            "INSERT INTO throttle (bucket, failures, window_start, last_failure_at, locked_until) VALUES ($1, 1, $2, $2, NULL) \
             ON CONFLICT (bucket) DO NOTHING RETURNING failures",
            vec![key.into(), now.into()],
        )
        .await?;
        return Ok(inserted.is_some());
    };
    let failures: i32 = row.try_get("", "failures")?;
    let window_start: DateTime<Utc> = row.try_get("", "window_start")?;
    let last: DateTime<Utc> = row.try_get("", "last_failure_at")?;
    let locked: Option<DateTime<Utc>> = row.try_get("", "locked_until")?;
    if locked.is_some_and(|u| u > now) {
        return Ok(false);
    }
    let fresh = window_start + policy.window <= now;
    if !fresh && delay(failures, policy).is_some_and(|d| last + d > now) {
        return Ok(false);
    }
    let (next, start) = if fresh { (1, now) } else { (failures + 1, window_start) };
    let lock = (next >= policy.lock_at).then(|| now + policy.lock_for);
    // Compare-and-set on what was read: of two attempts at once, one wins, one is refused.
    let res = exec(
        db,
        "UPDATE throttle SET failures = $2, window_start = $3, last_failure_at = $4, locked_until = $5 \
         WHERE bucket = $1 AND failures = $6 AND last_failure_at = $7",
        vec![key.into(), next.into(), start.into(), now.into(), lock.into(), failures.into(), last.into()],
    )
    .await?;
    Ok(res.rows_affected() == 1)
}

/// Takes back one charged attempt that turned out to be a success.
pub async fn forgive(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    let key = stored(key);
    let key = key.as_str();
    exec(db, "UPDATE throttle SET failures = failures - 1 WHERE bucket = $1 AND failures > 0", vec![key.into()])
        .await
        .map(|_| ())
}

/// Forgets a key's failures (after a success).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    let key = stored(key);
    let key = key.as_str();
    exec(db, "DELETE FROM throttle WHERE bucket = $1", vec![key.into()]).await.map(|_| ())
}

/// Counts one event against a fixed-window limit: `false` when the limit is already reached
/// (the event is then not counted).
pub async fn take(
    db: &impl ConnectionTrait,
    key: &str,
    limit: i32,
    window: Duration,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let key = stored(key);
    let key = key.as_str();
    let row = query_one(
        db,
        "INSERT INTO throttle (bucket, failures, window_start, last_failure_at, locked_until) VALUES ($1, 1, $2, $2, NULL) \
         ON CONFLICT (bucket) DO UPDATE SET \
           failures = CASE WHEN throttle.window_start < $3 THEN 1 ELSE throttle.failures + 1 END, \
           window_start = CASE WHEN throttle.window_start < $3 THEN $2 ELSE throttle.window_start END, \
           last_failure_at = $2 \
         WHERE throttle.window_start < $3 OR throttle.failures < $4 \
         RETURNING failures",
        vec![key.into(), now.into(), (now - window).into(), limit.into()],
    )
    .await?;
    Ok(row.is_some())
}

/// The counters store: the `throttle` table where a commit need not wait for the disk, since
/// a counter lost in a crash costs a few seconds of counting, never a certificate. On SQLite
/// a database file of its own (`counters.db` beside the data, `synchronous=NORMAL` in WAL:
/// no fsync per commit); on PostgreSQL the main database's table, each call in a transaction
/// with `SET LOCAL synchronous_commit = off`, so servers on one database still share every
/// count and nothing else loses its durability.
#[derive(Clone, Debug)]
pub struct Counters {
    db: DatabaseConnection,
}

/// Runs `$body` on the store: in a transaction without a durable commit on PostgreSQL, as
/// one statement at a time on SQLite's own file.
macro_rules! relaxed {
    ($self:ident, |$c:ident| $body:expr) => {
        if $self.db.get_database_backend() == DbBackend::Postgres {
            let txn = $self.db.begin().await?;
            txn.execute_unprepared("SET LOCAL synchronous_commit = off").await?;
            let $c = &txn;
            let out = $body.await?;
            txn.commit().await?;
            Ok(out)
        } else {
            let $c = &$self.db;
            $body.await
        }
    };
}

impl Counters {
    /// The store over `db`: SQLite's counters database, or the main PostgreSQL database.
    pub fn new(db: DatabaseConnection) -> Self {
        Counters { db }
    }

    /// The connection the counters live on (for tests and maintenance).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// [`take`] in the store.
    pub async fn take(&self, key: &str, limit: i32, window: Duration, now: DateTime<Utc>) -> Result<bool, DbErr> {
        relaxed!(self, |c| take(c, key, limit, window, now))
    }

    /// [`attempt`] in the store.
    pub async fn attempt(&self, key: &str, policy: Policy, now: DateTime<Utc>) -> Result<bool, DbErr> {
        relaxed!(self, |c| attempt(c, key, policy, now))
    }

    /// [`forgive`] in the store.
    pub async fn forgive(&self, key: &str) -> Result<(), DbErr> {
        relaxed!(self, |c| forgive(c, key))
    }

    /// [`clear`] in the store.
    pub async fn clear(&self, key: &str) -> Result<(), DbErr> {
        relaxed!(self, |c| clear(c, key))
    }

    /// [`prune`] in the store.
    pub async fn prune(&self, before: DateTime<Utc>) -> Result<u64, DbErr> {
        relaxed!(self, |c| prune(c, before))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_keys_fit_the_column_and_stay_distinct() {
        let a = stored("revoke:cert:0b8e1f0a-5f6c-4f7e-9d55-3a1c2b7e9f00:ip:2001:db8:5:6::/64");
        let b = stored("revoke:cert:0b8e1f0a-5f6c-4f7e-9d55-3a1c2b7e9f00:ip:2001:db8:5:7::/64");
        assert_eq!((a.len(), b.len()), (64, 64));
        assert_ne!(a, b);
        assert!(a.starts_with("revoke:cert:0b8e1f0a#"));
        assert_eq!(stored("lookup:ip:10.0.0.1"), "lookup:ip:10.0.0.1");
    }

    #[test]
    fn ipv6_counts_by_its_64() {
        assert_eq!(address_bucket("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(address_bucket("2001:db8:1:2:ffff::1"), address_bucket("2001:db8:1:2::9"));
        assert_eq!(address_bucket("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(address_bucket("10.0.0.1"), "10.0.0.1");
        assert_eq!(address_bucket("unknown"), "unknown");
    }

    #[test]
    fn delays_double_from_the_threshold() {
        let p = SIGN_IN_ACCOUNT;
        assert_eq!(delay(2, p), None);
        assert_eq!(delay(3, p), Some(Duration::seconds(1)));
        assert_eq!(delay(4, p), Some(Duration::seconds(2)));
        assert_eq!(delay(30, p), Some(Duration::seconds(1024)));
    }
}
