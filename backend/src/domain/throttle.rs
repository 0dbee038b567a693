//! Failure counters and temporary locks kept in the database, so that every server sees the
//! same count. A key names what is counted: `sign_in:mobile:<phone>`, `sign_in:ip:<address>`,
//! `code:ip:<address>`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::{exec, query_one};

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

/// `Some(until)` when the key may not try now.
pub async fn blocked(db: &impl ConnectionTrait, key: &str, policy: Policy, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, DbErr> {
    let Some(row) = query_one(
        db,
        "SELECT failures, window_start, last_failure_at, locked_until FROM throttle WHERE bucket = $1",
        vec![key.into()],
    )
    .await?
    else {
        return Ok(None);
    };
    let failures: i32 = row.try_get("", "failures")?;
    let window_start: DateTime<Utc> = row.try_get("", "window_start")?;
    let last: DateTime<Utc> = row.try_get("", "last_failure_at")?;
    let locked: Option<DateTime<Utc>> = row.try_get("", "locked_until")?;
    if let Some(until) = locked.filter(|u| *u > now) {
        return Ok(Some(until));
    }
    if window_start + policy.window <= now {
        return Ok(None);
    }
    Ok(delay(failures, policy).map(|d| last + d).filter(|until| *until > now))
}

/// The wait after `failures` failures, if any.
pub fn delay(failures: i32, policy: Policy) -> Option<Duration> {
    (failures >= policy.delay_from).then(|| Duration::seconds(1i64 << (failures - policy.delay_from).clamp(0, 10)))
}

/// Counts one failure (atomically, on every database); locks the key when it reaches the
/// policy's limit. Returns the failures in the current window.
pub async fn fail(db: &impl ConnectionTrait, key: &str, policy: Policy, now: DateTime<Utc>) -> Result<i32, DbErr> {
    let row = query_one(
        db,
        "INSERT INTO throttle (bucket, failures, window_start, last_failure_at, locked_until) VALUES ($1, 1, $2, $2, NULL) \
         ON CONFLICT (bucket) DO UPDATE SET \
           failures = CASE WHEN throttle.window_start < $3 THEN 1 ELSE throttle.failures + 1 END, \
           window_start = CASE WHEN throttle.window_start < $3 THEN $2 ELSE throttle.window_start END, \
           last_failure_at = $2 \
         RETURNING failures",
        vec![key.into(), now.into(), (now - policy.window).into()],
    )
    .await?;
    let failures: i32 = match row {
        Some(r) => r.try_get("", "failures")?,
        None => 1,
    };
    if failures >= policy.lock_at {
        exec(db, "UPDATE throttle SET locked_until = $2 WHERE bucket = $1", vec![key.into(), (now + policy.lock_for).into()])
            .await?;
    }
    Ok(failures)
}

/// Forgets a key's failures (after a success).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    exec(db, "DELETE FROM throttle WHERE bucket = $1", vec![key.into()]).await.map(|_| ())
}

/// Counts one event against a fixed-window limit: `false` when the limit is already reached
/// (the event is then not counted).
pub async fn take(db: &impl ConnectionTrait, key: &str, limit: i32, window: Duration, now: DateTime<Utc>) -> Result<bool, DbErr> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_threshold() {
        let p = SIGN_IN_ACCOUNT;
        assert_eq!(delay(2, p), None);
        assert_eq!(delay(3, p), Some(Duration::seconds(1)));
        assert_eq!(delay(4, p), Some(Duration::seconds(2)));
        assert_eq!(delay(30, p), Some(Duration::seconds(1024)));
    }
}
