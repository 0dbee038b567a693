//! Server-side sessions. The cookie holds 128 random bits; the table holds their SHA-256, so
//! a copy of the table opens nothing. Idle and absolute timeouts; a new session at every
//! sign-in (the old one ends); sign-out ends it on the server.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use strum::{EnumString, IntoStaticStr, VariantArray};

use super::{ClientMeta, exec, random_token, sha256_hex};
use crate::entity::session;
use certdesk_shared::Named;

#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    Customer,
    Staff,
}

impl Kind {
    /// Ends after this long without a request.
    pub fn idle(self) -> Duration {
        match self {
            Kind::Customer => Duration::minutes(30),
            Kind::Staff => Duration::minutes(15),
        }
    }
    /// Ends this long after sign-in whatever happens.
    pub fn absolute(self) -> Duration {
        match self {
            Kind::Customer => Duration::hours(12),
            Kind::Staff => Duration::hours(8),
        }
    }
}

/// `last_seen_at` is written at most this often.
const TOUCH_EVERY: Duration = Duration::seconds(60);

pub fn hash(cookie_value: &str) -> String {
    sha256_hex(&[b"session", cookie_value.as_bytes()])
}

/// A new session; returns the cookie value and the row.
pub async fn start(
    db: &impl ConnectionTrait,
    kind: Kind,
    subject_id: &str,
    method: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(String, session::Model), anyhow::Error> {
    let value = random_token::<16>()?;
    let row = session::Model {
        id_hash: hash(&value),
        subject_kind: kind.as_str().to_owned(),
        subject_id: subject_id.to_owned(),
        csrf_token: random_token::<16>()?,
        method: method.to_owned(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.chars().take(300).collect(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + kind.absolute(),
    };
    let active: session::ActiveModel = row.clone().into();
    session::Entity::insert(active).exec(db).await?;
    Ok((value, row))
}

/// The live session of this kind for a cookie value, if any (expired ones are deleted).
pub async fn load(
    db: &impl ConnectionTrait,
    kind: Kind,
    value: &str,
    now: DateTime<Utc>,
) -> Result<Option<session::Model>, DbErr> {
    let id_hash = hash(value);
    let Some(row) = session::Entity::find_by_id(id_hash.clone()).one(db).await? else {
        return Ok(None);
    };
    if row.subject_kind != kind.as_str() {
        return Ok(None);
    }
    if row.expires_at <= now || row.last_seen_at + kind.idle() <= now {
        end(db, &id_hash).await?;
        return Ok(None);
    }
    if row.last_seen_at + TOUCH_EVERY <= now {
        let mut active: session::ActiveModel = row.clone().into();
        active.last_seen_at = Set(now);
        session::Entity::update(active).exec(db).await?;
    }
    Ok(Some(row))
}

pub async fn end(db: &impl ConnectionTrait, id_hash: &str) -> Result<(), DbErr> {
    exec(db, "DELETE FROM session WHERE id_hash = $1", vec![id_hash.into()]).await.map(|_| ())
}

/// Ends every session of a subject except `keep`; returns how many ended.
pub async fn end_others(db: &impl ConnectionTrait, subject_id: &str, keep: Option<&str>) -> Result<u64, DbErr> {
    let res = exec(
        db,
        "DELETE FROM session WHERE subject_id = $1 AND id_hash <> $2",
        vec![subject_id.into(), keep.unwrap_or("").into()],
    )
    .await?;
    Ok(res.rows_affected())
}

/// Removes sessions past their absolute end (run now and then).
pub async fn sweep(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(exec(db, "DELETE FROM session WHERE expires_at < $1", vec![now.into()]).await?.rows_affected())
}
