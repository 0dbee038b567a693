//! Staff: roles and what each may do, creating staff (the first administrator from the
//! command line), enrolment of their security key through a one-time link, role changes,
//! and offboarding (a disabled member's sessions end and keys go at once).

use certdesk_shared::admin::{Page, StaffColumn, StaffMember, StaffQuery, StaffRole};
use certdesk_shared::{ErrorCode, Mobile};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, SqlErr, TransactionTrait,
};

use super::audit::{self, AuditKey, Event};
use super::paging::{ListAsk, fetch, refuse};
use super::{ClientMeta, new_id, random_token, sha256_hex};
use crate::entity::{staff, webauthn_credential};
use crate::error::AppError;
use certdesk_shared::Named;

pub const ENROL_TTL: Duration = Duration::hours(24);

pub use certdesk_shared::admin::Permission;

/// The member's role; `None` for a role this build does not know, which grants nothing.
pub fn role_of(s: &staff::Model) -> Option<StaffRole> {
    StaffRole::parse(&s.role)
}

/// Whether this member may do `p` now: enabled, with a known role that grants it.
pub fn may(s: &staff::Model, p: Permission) -> bool {
    s.disabled_at.is_none() && role_of(s).is_some_and(|r| r.allows(p))
}

pub async fn member(db: &impl ConnectionTrait, s: &staff::Model) -> Result<StaffMember, AppError> {
    let keys = webauthn_credential::Entity::find()
        .filter(webauthn_credential::Column::OwnerId.eq(s.id.clone()))
        .count(db)
        .await?;
    Ok(StaffMember {
        id: s.id.clone(),
        username: s.username.clone(),
        display_name: s.display_name.clone(),
        role: role_of(s),
        enrolled: keys > 0,
        disabled: s.disabled_at.is_some(),
        mobile: s.mobile.clone(),
        created_at: s.created_at.to_rfc3339(),
    })
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<staff::Model>, AppError> {
    Ok(staff::Entity::find_by_id(id.to_owned()).one(db).await?)
}

pub async fn by_username(db: &impl ConnectionTrait, username: &str) -> Result<Option<staff::Model>, AppError> {
    Ok(staff::Entity::find().filter(staff::Column::Username.eq(username.trim())).one(db).await?)
}

/// 员工: one page, by role, searched by user name, name or phone (whole), in the order they
/// were added unless asked otherwise.
pub async fn list(db: &impl ConnectionTrait, q: &StaffQuery) -> Result<Page<staff::Model>, AppError> {
    let mut errors = Vec::new();
    let ask = ListAsk::<StaffColumn>::parse(q, &["role"], &mut errors);
    let role = match q.role.as_str() {
        "" => None,
        r => StaffRole::parse(r).or_else(|| {
            errors.push(certdesk_shared::FieldError {
                field: "role".into(),
                error: certdesk_shared::ValidationError::OutOfRange,
            });
            None
        }),
    };
    refuse(errors)?;
    let mut find = staff::Entity::find();
    if let Some(r) = role {
        find = find.filter(staff::Column::Role.eq(r.as_str()));
    }
    if let Some(words) = &ask.q {
        find = find.filter(
            sea_orm::Condition::any()
                .add(staff::Column::Username.eq(words.as_str()))
                .add(staff::Column::DisplayName.eq(words.as_str()))
                .add(staff::Column::Mobile.eq(words.as_str())),
        );
    }
    let column = match ask.sort.column {
        StaffColumn::CreatedAt => staff::Column::CreatedAt,
        StaffColumn::Username => staff::Column::Username,
        StaffColumn::DisplayName => staff::Column::DisplayName,
    };
    let (rows, total) = fetch(db, find, column, ask.order(), staff::Column::Id, ask.paging).await?;
    Ok(ask.paging.page(rows, total))
}

fn valid_username(u: &str) -> bool {
    (3..=32).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Creates a staff member; returns them and their enrolment token (shown once).
#[allow(clippy::too_many_arguments)]
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    username: &str,
    display_name: &str,
    role: StaffRole,
    mobile: Option<&Mobile>,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(staff::Model, String), AppError> {
    let username = username.trim();
    let display_name = display_name.trim();
    if !valid_username(username) || display_name.is_empty() || display_name.chars().count() > 50 {
        return Err(ErrorCode::Validation.into());
    }
    let token = random_token::<32>()?;
    let model = staff::Model {
        id: new_id(),
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        role: role.as_str().to_owned(),
        enrol_token_hash: Some(sha256_hex(&[b"enrol", token.as_bytes()])),
        enrol_expires_at: Some(now + ENROL_TTL),
        created_at: now,
        disabled_at: None,
        mobile: mobile.map(|m| m.as_str().to_owned()),
    };
    let active: staff::ActiveModel = model.clone().into();
    staff::Entity::insert(active).exec(db).await.map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ErrorCode::AlreadyExists.into(),
        _ => AppError::from(e),
    })?;
    audit::append(
        db,
        key,
        Event {
            actor,
            action: "staff_created",
            subject: &audit::staff(&model.id),
            ip: &meta.ip,
            detail: serde_json::json!({ "username": model.username, "role": model.role }),
        },
    )
    .await?;
    Ok((model, token))
}

/// The staff member an unexpired enrolment token belongs to.
pub async fn by_enrol_token(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<staff::Model, AppError> {
    let hash = sha256_hex(&[b"enrol", token.trim().as_bytes()]);
    staff::Entity::find()
        .filter(staff::Column::EnrolTokenHash.eq(hash))
        .filter(staff::Column::EnrolExpiresAt.gt(now))
        .filter(staff::Column::DisabledAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| ErrorCode::LinkInvalid.into())
}

/// Uses up an enrolment link: of two parallel finishes, one gets it.
pub async fn take_enrolment(db: &impl ConnectionTrait, s: &staff::Model) -> Result<(), AppError> {
    let taken = super::exec(
        db,
        "UPDATE staff SET enrol_token_hash = NULL, enrol_expires_at = NULL WHERE id = $1 AND enrol_token_hash = $2",
        vec![s.id.clone().into(), s.enrol_token_hash.clone().unwrap_or_default().into()],
    )
    .await?
    .rows_affected();
    if taken == 1 { Ok(()) } else { Err(ErrorCode::LinkInvalid.into()) }
}

/// Records the key an enrolment added.
pub async fn enrolled(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    s: &staff::Model,
    meta: &ClientMeta,
) -> Result<(), AppError> {
    audit::append(
        db,
        key,
        Event {
            actor: &audit::staff(&s.id),
            action: "key_added",
            subject: &audit::staff(&s.id),
            ip: &meta.ip,
            detail: serde_json::json!({ "enrolment": true }),
        },
    )
    .await?;
    Ok(())
}

/// Changes a role; the last administrator cannot stop being one.
pub async fn change_role(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    id: &str,
    role: StaffRole,
    meta: &ClientMeta,
) -> Result<staff::Model, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let s = find(&txn, id).await?.ok_or(ErrorCode::NotFound)?;
    if s.disabled_at.is_some() {
        return Err(ErrorCode::NotFound.into());
    }
    let before = role_of(&s);
    if before == Some(StaffRole::Administrator) && role != StaffRole::Administrator {
        keep_an_administrator(&txn).await?;
    }
    let mut active: staff::ActiveModel = s.clone().into();
    active.role = Set(role.as_str().to_owned());
    let updated = staff::Entity::update(active).exec(&txn).await?;
    audit::append(
        &txn,
        key,
        Event {
            actor,
            action: "role_changed",
            subject: &audit::staff(&s.id),
            ip: &meta.ip,
            detail: serde_json::json!({ "from": s.role, "to": role.as_str() }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Refuses to take away the last enabled administrator (before a demotion or a disabling).
/// Two administrators demoting each other at once: on PostgreSQL the row locks make the
/// second wait and count again; SQLite has one writer and refuses a stale one.
async fn keep_an_administrator(txn: &impl ConnectionTrait) -> Result<(), AppError> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        super::exec(
            txn,
            "SELECT id FROM staff WHERE role = 'administrator' AND disabled_at IS NULL FOR UPDATE",
            vec![],
        )
        .await?;
    }
    let admins = staff::Entity::find()
        .filter(staff::Column::Role.eq(StaffRole::Administrator.as_str()))
        .filter(staff::Column::DisabledAt.is_null())
        .count(txn)
        .await?;
    if admins <= 1 { Err(ErrorCode::LastAdministrator.into()) } else { Ok(()) }
}

/// Offboarding: the member can no longer sign in, every session of theirs ends at once,
/// their security keys and any unused enrolment link are removed, and the row stays for the
/// audit trail. Nobody disables themselves, and the last administrator stays.
pub async fn disable(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    by: &staff::Model,
    id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<staff::Model, AppError> {
    if by.id == id {
        return Err(ErrorCode::Forbidden.into());
    }
    let txn = crate::db::begin_write(db).await?;
    let s = find(&txn, id).await?.ok_or(ErrorCode::NotFound)?;
    if s.disabled_at.is_some() {
        return Ok(s);
    }
    if role_of(&s) == Some(StaffRole::Administrator) {
        keep_an_administrator(&txn).await?;
    }
    let mut active: staff::ActiveModel = s.clone().into();
    active.disabled_at = Set(Some(now));
    active.enrol_token_hash = Set(None);
    active.enrol_expires_at = Set(None);
    let updated = staff::Entity::update(active).exec(&txn).await?;
    let sessions =
        super::exec(&txn, "DELETE FROM session WHERE subject_kind = 'staff' AND subject_id = $1", vec![id.into()])
            .await?
            .rows_affected();
    let keys = webauthn_credential::Entity::delete_many()
        .filter(webauthn_credential::Column::OwnerId.eq(id))
        .exec(&txn)
        .await?
        .rows_affected;
    audit::append(
        &txn,
        key,
        Event {
            actor: &audit::staff(&by.id),
            action: "staff_disabled",
            subject: &audit::staff(id),
            ip: &meta.ip,
            detail: serde_json::json!({ "username": s.username, "sessions_ended": sessions, "keys_removed": keys }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_short_plain_words() {
        assert!(valid_username("li.na-01") && !valid_username("a b") && !valid_username("ab"));
    }
}
