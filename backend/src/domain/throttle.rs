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

/// The wait after `failures` failures, if any.
pub fn delay(failures: i32, policy: Policy) -> Option<Duration> {
    (failures >= policy.delay_from).then(|| Duration::seconds(1i64 << (failures - policy.delay_from).clamp(0, 10)))
}

/// Charges one attempt before the work is done, atomically: `false` when the key is locked
/// or waiting, or when another attempt on the same key is being charged at this moment.
/// Parallel guesses therefore cannot all pass the check before any of them is counted.
/// After a success, [`clear`] (per account) or [`forgive`] (per address) takes it back.
pub async fn attempt(db: &impl ConnectionTrait, key: &str, policy: Policy, now: DateTime<Utc>) -> Result<bool, DbErr> {
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
    exec(db, "UPDATE throttle SET failures = failures - 1 WHERE bucket = $1 AND failures > 0", vec![key.into()]).await.map(|_| ())
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
