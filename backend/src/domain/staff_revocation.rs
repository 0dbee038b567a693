//! Revocation by the CA (CA/B BR §4.9.1.1; seed 001 §2.4: "CA和其授权的证书服务机构在认为必要的
//! 情况下有权吊销证书"), under dual control as EJBCA's approval profiles do it: a staff member
//! with the `Revoke` permission asks ([`ask`]) with a reason and a comment; nothing happens
//! until a second such member approves ([`decide`]), and then the certificate is revoked in
//! the transaction that records the approval. Nobody approves their own; at most one is
//! pending per certificate (a partial unique index). Every step is in the audit trail.

use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::freeze::FrozenBy;
use certdesk_shared::revoke::{
    STAFF_REASONS, StaffCertificateView, StaffRevocationDecision, StaffRevocationRequest, StaffRevocationStatus,
    StaffRevocationView,
};
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
    TransactionTrait,
};

use super::ClientMeta;
use super::audit::{self, AuditKey, Event};
use crate::ca::CaService;
use crate::ca::revoke::REVOKED;
use crate::entity::staff_revocation::{self, Status};
use crate::entity::{certificate, staff};
use crate::error::AppError;
use certdesk_shared::Named;

impl From<Status> for StaffRevocationStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Pending => StaffRevocationStatus::Pending,
            Status::Approved => StaffRevocationStatus::Approved,
            Status::Rejected => StaffRevocationStatus::Rejected,
        }
    }
}

async fn display_name(db: &impl ConnectionTrait, id: &str) -> Result<String, AppError> {
    Ok(staff::Entity::find_by_id(id.to_owned()).one(db).await?.map(|s| s.display_name).unwrap_or_else(|| id.to_owned()))
}

async fn view(
    db: &impl ConnectionTrait,
    r: staff_revocation::Model,
    reader: &staff::Model,
) -> Result<StaffRevocationView, AppError> {
    let cert = super::directory::find(db, &r.certificate_uid).await?;
    let decided_by = match &r.decided_by {
        Some(id) => Some(display_name(db, id).await?),
        None => None,
    };
    Ok(StaffRevocationView {
        may_decide: r.status == Status::Pending && r.requested_by != reader.id,
        id: r.id,
        certificate_uid: r.certificate_uid,
        serial: cert.serial.to_uppercase(),
        subject: cert.subject,
        reason: RevocationReason::from_code(u8::try_from(r.reason).unwrap_or(0))
            .unwrap_or(RevocationReason::Unspecified),
        comment: r.comment,
        requested_by: display_name(db, &r.requested_by).await?,
        requested_at: r.requested_at.to_rfc3339(),
        status: r.status.into(),
        decided_by,
        decided_at: r.decided_at.map(|t| t.to_rfc3339()),
        decision_comment: r.decision_comment,
    })
}

async fn pending_for(db: &impl ConnectionTrait, uid: &str) -> Result<Option<staff_revocation::Model>, AppError> {
    Ok(staff_revocation::Entity::find()
        .filter(staff_revocation::Column::CertificateUid.eq(uid))
        .filter(staff_revocation::Column::Status.eq(Status::Pending))
        .one(db)
        .await?)
}

/// A certificate as staff see it, with the revocation waiting for its second approval.
pub async fn certificate_view(
    db: &impl ConnectionTrait,
    cert: certificate::Model,
    reader: &staff::Model,
    now: DateTime<Utc>,
) -> Result<StaffCertificateView, AppError> {
    let pending = match pending_for(db, &cert.uid).await? {
        Some(p) => Some(view(db, p, reader).await?),
        None => None,
    };
    Ok(StaffCertificateView {
        status: super::my_certificates::status(&cert, now),
        frozen_by: if cert.status == crate::ca::revoke::HOLD {
            cert.frozen_by.as_deref().and_then(FrozenBy::parse)
        } else {
            None
        },
        uid: cert.uid,
        serial: cert.serial.to_uppercase(),
        subject: cert.subject,
        not_after: cert.not_after.to_rfc3339(),
        pending,
    })
}

/// `GET /api/admin/certificates?serial=`: the certificate with this serial number (hex, any
/// case, colons or spaces allowed), of any CA this server runs.
pub async fn find_by_serial(
    db: &impl ConnectionTrait,
    reader: &staff::Model,
    serial: &str,
    now: DateTime<Utc>,
) -> Result<Vec<StaffCertificateView>, AppError> {
    let serial: String =
        serial.chars().filter(|c| !matches!(c, ':' | ' ' | '-')).collect::<String>().to_ascii_lowercase();
    if serial.is_empty() || !serial.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(Vec::new());
    }
    let found = certificate::Entity::find().filter(certificate::Column::Serial.eq(serial)).limit(10).all(db).await?;
    let mut out = Vec::new();
    for c in found {
        out.push(certificate_view(db, c, reader, now).await?);
    }
    Ok(out)
}

/// A staff member asks to revoke: pending until a second member approves.
pub async fn ask(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    member: &staff::Model,
    uid: &str,
    body: &StaffRevocationRequest,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<StaffRevocationView, AppError> {
    if !STAFF_REASONS.contains(&body.reason) {
        return Err(ErrorCode::BadRevocationReason.into());
    }
    let comment = super::freeze::comment_of(&body.comment)?;
    let cert = super::directory::find(db, uid).await?;
    if cert.status == REVOKED {
        return Err(ErrorCode::AlreadyRevoked.into());
    }
    let row = staff_revocation::Model {
        id: super::new_id(),
        certificate_uid: cert.uid.clone(),
        reason: i16::from(body.reason.code()),
        comment: comment.clone(),
        requested_by: member.id.clone(),
        requested_at: now,
        status: Status::Pending,
        decided_by: None,
        decided_at: None,
        decision_comment: None,
    };
    let txn = crate::db::begin_write(db).await?;
    match staff_revocation::Entity::insert(staff_revocation::ActiveModel::from(row.clone())).exec(&txn).await {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(ErrorCode::RequestUnderWay.into());
        }
        Err(e) => return Err(e.into()),
    }
    let detail = serde_json::json!({
        "certificate": cert.uid, "revocation": row.id, "reason": body.reason.code(), "comment": comment
    });
    audit::append(
        &txn,
        key,
        Event {
            actor: &audit::staff(&member.id),
            action: "revocation_requested",
            subject: &cert.serial,
            ip: &meta.ip,
            detail,
        },
    )
    .await?;
    txn.commit().await?;
    view(db, row, member).await
}

/// The revocations asked for by staff: pending first (oldest first), then the last decided.
/// The revocations waiting for a second member's decision, oldest first.
pub async fn pending(db: &impl ConnectionTrait) -> Result<Vec<staff_revocation::Model>, AppError> {
    Ok(staff_revocation::Entity::find()
        .filter(staff_revocation::Column::Status.eq(Status::Pending))
        .order_by_asc(staff_revocation::Column::RequestedAt)
        .all(db)
        .await?)
}

pub async fn list(db: &impl ConnectionTrait, reader: &staff::Model) -> Result<Vec<StaffRevocationView>, AppError> {
    let mut rows = pending(db).await?;
    rows.extend(
        staff_revocation::Entity::find()
            .filter(staff_revocation::Column::Status.ne(Status::Pending))
            .order_by_desc(staff_revocation::Column::DecidedAt)
            .limit(50)
            .all(db)
            .await?,
    );
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(view(db, r, reader).await?);
    }
    Ok(out)
}

/// The second member's answer. Approved: the certificate is revoked with the reason asked,
/// a new CRL signed, in the transaction that records the approval (a certificate revoked
/// meanwhile another way stays as it is). The member who asked cannot decide.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    member: &staff::Model,
    id: &str,
    body: &StaffRevocationDecision,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<StaffRevocationView, AppError> {
    let r = staff_revocation::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    if r.status != Status::Pending {
        return Err(ErrorCode::NotEditable.into());
    }
    if r.requested_by == member.id {
        return Err(ErrorCode::OwnRevocation.into());
    }
    let comment = body.comment.trim().chars().take(certdesk_shared::revoke::MAX_COMMENT_CHARS).collect::<String>();
    if !body.approve && comment.is_empty() {
        return Err(AppError::Validation(vec![FieldError {
            field: "comment".into(),
            error: ValidationError::Required,
        }]));
    }
    let cert = super::directory::find(db, &r.certificate_uid).await?;
    let to = if body.approve { Status::Approved } else { Status::Rejected };
    let txn = crate::db::begin_write(db).await?;
    let done = staff_revocation::Entity::update_many()
        .set(staff_revocation::ActiveModel {
            status: Set(to),
            decided_by: Set(Some(member.id.clone())),
            decided_at: Set(Some(now)),
            decision_comment: Set(Some(comment.clone()).filter(|c| !c.is_empty())),
            ..Default::default()
        })
        .filter(staff_revocation::Column::Id.eq(r.id.clone()))
        .filter(staff_revocation::Column::Status.eq(Status::Pending))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(ErrorCode::NotEditable.into());
    }
    let reason =
        RevocationReason::from_code(u8::try_from(r.reason).unwrap_or(0)).unwrap_or(RevocationReason::Unspecified);
    if body.approve && cert.status != REVOKED {
        crate::ca::revoke::revoke(&txn, &ca.issuing, &cert.serial, reason, None).await?;
    }
    let action = if body.approve { "revocation_approved" } else { "revocation_rejected" };
    let detail = serde_json::json!({
        "certificate": cert.uid, "revocation": r.id, "reason": reason.code(), "asked_by": r.requested_by, "comment": comment
    });
    audit::append(
        &txn,
        key,
        Event { actor: &audit::staff(&member.id), action, subject: &cert.serial, ip: &meta.ip, detail },
    )
    .await?;
    txn.commit().await?;
    crate::ca::ocsp::status_changed();
    let r = staff_revocation::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    view(db, r, member).await
}
