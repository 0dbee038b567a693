//! 证书变更 and 经办人变更 (seed 004 §5): requests of kind `change` and `operator_change` that
//! start from a valid certificate of the account, reviewed by staff, free of charge.
//!
//! 证书变更 (机构证书 and 法人证书 only): ① documents (the wizard's upload, the certificate
//! type's documents) ② the new holder ([`save_holder`]) ③ the operator ([`save_operator`])
//! ④ [`submit`] to review ⑤ after approval, [`issue`] signs the CSR of a new key pair made on
//! the token holding the old certificate, with the new subject, until the old certificate's
//! end (Approved → Issued); [`finish`], once the new certificate is on the token, revokes the
//! old one as superseded (Issued → Done). As for a renewal: until `finish` the old certificate
//! stays valid, `issue` again hands back the same certificate for the same key (or replaces
//! an unfinished one for a key made anew) and `finish` is idempotent, so a crash between the
//! two converges on exactly one valid certificate.
//!
//! 经办人变更: ① the operator's ID ② the new operator ③ [`submit`]. Its approval
//! ([`operator_approved`], in the approval's transaction) makes the new operator's phone the
//! phone of record (`contact::set`) and the request Done.
//!
//! Either request keeps, as its payload, the holder and operator as they were when it started
//! (`ChangeBefore`), so the reviewer sees each changed field, old → new.

use certdesk_shared::apply::{CertificateInfo, DocumentKind, Holder, HolderKind, OperatorInfo};
use certdesk_shared::certificate::CertificateProfile;
use certdesk_shared::change::{ChangeBefore, ChangeClosed, ChangeOffer};
use certdesk_shared::renew::RenewalCsr;
use certdesk_shared::request::RequestKind;
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, SqlErr, TransactionTrait};

use super::audit::{self, AuditKey, Event};
use super::renew::own_certificate;
use super::request::{Transition, advance, json, own, parse};
use super::{ClientMeta, exec, new_id};
use crate::ca::CaService;
use crate::ca::revoke::VALID;
use crate::entity::request::{self, Kind, Status};
use crate::entity::{account, catalogue_type, certificate, certificate_contact, request_document};
use crate::error::AppError;
use crate::notify::Notifier;
use certdesk_shared::Named;

/// The statuses of a request still under way (the partial unique index's).
const OPEN: [Status; 6] =
    [Status::Draft, Status::Submitted, Status::Rejected, Status::Resubmitted, Status::Approved, Status::Issued];

fn field(field: &str, error: ValidationError) -> AppError {
    AppError::Validation(vec![FieldError { field: field.into(), error }])
}

/// The holder and the operator a certificate has now: the holder from the request that
/// produced it (or, for a renewal, from the one before it), the operator from an approved
/// 经办人变更 if there was one, else the same way as the holder.
pub async fn current(
    db: &impl ConnectionTrait,
    uid: &str,
) -> Result<(Option<CertificateInfo>, Option<OperatorInfo>), AppError> {
    let mut operator: Option<OperatorInfo> =
        certificate_contact::Entity::find_by_id(uid.to_owned()).one(db).await?.and_then(|c| parse(&c.operator));
    let mut info: Option<CertificateInfo> = None;
    let mut at = uid.to_owned();
    // A chain of renewals and changes; bounded so that bad data cannot loop.
    for _ in 0..32 {
        let Some(r) = request::Entity::find().filter(request::Column::CertificateUid.eq(at.as_str())).one(db).await?
        else {
            break;
        };
        if info.is_none() {
            info = parse(&r.certificate_info);
        }
        if operator.is_none() {
            operator = parse(&r.operator);
        }
        match (&info, &operator, r.from_certificate_uid) {
            (Some(_), Some(_), _) | (_, _, None) => break,
            (_, _, Some(from)) => at = from,
        }
    }
    Ok((info, operator))
}

/// Why 证书变更 / 经办人变更 cannot start for this certificate now.
pub fn closed(cert: &certificate::Model, kind: Kind, now: DateTime<Utc>) -> Option<ChangeClosed> {
    if cert.status != VALID || cert.not_after <= now {
        return Some(ChangeClosed::NotValid);
    }
    let personal = CertificateProfile::parse(&cert.profile).is_none_or(|p| HolderKind::of(p) == HolderKind::Person);
    (kind == Kind::Change && personal).then_some(ChangeClosed::Personal)
}

fn refusal(c: ChangeClosed) -> AppError {
    match c {
        ChangeClosed::NotValid => ErrorCode::CertificateNotValid.into(),
        ChangeClosed::Personal => ErrorCode::PersonalNotChangeable.into(),
    }
}

/// The documents ① asks for: the certificate type's (as the 新办 wizard) for 证书变更, the
/// new operator's ID for 经办人变更.
fn documents(kind: Kind, t: &catalogue_type::Model) -> Vec<DocumentKind> {
    match kind {
        Kind::Change => t.documents.split(',').filter_map(DocumentKind::parse).collect(),
        _ => vec![DocumentKind::OperatorId],
    }
}

/// The request under way for a certificate, of any kind (at most one: the partial unique
/// index).
async fn open_request(db: &impl ConnectionTrait, uid: &str) -> Result<Option<request::Model>, AppError> {
    Ok(request::Entity::find()
        .filter(request::Column::FromCertificateUid.eq(uid))
        .filter(request::Column::Status.is_in(OPEN))
        .one(db)
        .await?)
}

async fn type_of(db: &impl ConnectionTrait, produced_by: &request::Model) -> Result<catalogue_type::Model, AppError> {
    catalogue_type::Entity::find_by_id(produced_by.type_id.clone().unwrap_or_default())
        .one(db)
        .await?
        .ok_or_else(|| ErrorCode::NotFound.into())
}

/// The account's own change request of either kind; anything else is "not found".
async fn own_change(db: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<request::Model, AppError> {
    let r = own(db, account_id, id).await?;
    if !matches!(r.kind, Kind::Change | Kind::OperatorChange) {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(r)
}

/// `GET /api/change/{uid}`.
pub async fn offer(
    db: &impl ConnectionTrait,
    account_id: &str,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<ChangeOffer, AppError> {
    let (cert, produced_by) = own_certificate(db, account_id, uid).await?;
    let t = type_of(db, &produced_by).await?;
    let (info, operator) = current(db, uid).await?;
    // Any request under way: of another kind (a renewal …), the page says why nothing starts.
    let under_way = open_request(db, uid).await?;
    let request = match &under_way {
        Some(r) => Some(super::request::view(db, r).await?),
        None => None,
    };
    Ok(ChangeOffer {
        certificate_uid: cert.uid.clone(),
        common_name: cert.subject.clone(),
        profile: CertificateProfile::parse(&cert.profile).ok_or(ErrorCode::NotFound)?,
        type_name: t.name.clone(),
        serial: cert.serial.to_uppercase(),
        not_after: cert.not_after.to_rfc3339(),
        medium_no: cert.medium_no.clone(),
        holder: info.map(|i| i.holder),
        operator,
        change_documents: documents(Kind::Change, &t),
        operator_documents: documents(Kind::OperatorChange, &t),
        // A request under way goes on whatever happens meanwhile; `submit` and `issue`
        // check the certificate again.
        change_closed: closed(&cert, Kind::Change, now),
        operator_closed: closed(&cert, Kind::OperatorChange, now),
        request,
    })
}

/// Starts a 证书变更 or 经办人变更 of a valid certificate. The same kind already under way is
/// returned as it is (a second click); any other request under way for the certificate
/// refuses it.
pub async fn start(
    db: &impl ConnectionTrait,
    account_id: &str,
    uid: &str,
    kind: RequestKind,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let kind = match kind {
        RequestKind::Change => Kind::Change,
        RequestKind::OperatorChange => Kind::OperatorChange,
        _ => return Err(field("kind", ValidationError::OutOfRange)),
    };
    let (cert, produced_by) = own_certificate(db, account_id, uid).await?;
    let under_way = |r: request::Model| -> Result<request::Model, AppError> {
        if r.kind == kind && r.account_id == account_id { Ok(r) } else { Err(ErrorCode::RequestUnderWay.into()) }
    };
    if let Some(r) = open_request(db, uid).await? {
        return under_way(r);
    }
    if let Some(c) = closed(&cert, kind, now) {
        return Err(refusal(c));
    }
    let t = type_of(db, &produced_by).await?;
    let (info, operator) = current(db, uid).await?;
    let before = ChangeBefore { holder: info.map(|i| i.holder), operator };
    let a = account::Entity::find_by_id(account_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let model = request::Model {
        id: new_id(),
        account_id: account_id.to_owned(),
        kind,
        acceptance_no: None,
        status: Status::Draft,
        step: 1,
        billing_mode: a.billing_mode.clone(),
        type_id: Some(t.id.clone()),
        medium: produced_by.medium.clone(),
        choose_type: None,
        certificate_info: None,
        operator: None,
        delivery: None,
        ships_by_post: false,
        // Free of charge: the seeds price no change.
        price_fen: Some(0),
        reasons: "[]".into(),
        auth_code_hash: None,
        from_certificate_uid: Some(uid.to_owned()),
        certificate_uid: None,
        payload: Some(json(&before)?),
        review_round: 0,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        decided_at: None,
        courier: None,
        tracking_no: None,
        shipped_at: None,
        search_name: Some(cert.subject.clone()),
        search_email: cert.email.clone(),
        operator_mobile: None,
        operator_id_number: None,
        // The holder's challenge phrase (撤销密码) goes on with the certificate it protects.
        challenge_hash: produced_by.challenge_hash.clone(),
    };
    let active: request::ActiveModel = model.clone().into();
    match request::Entity::insert(active).exec(db).await {
        Ok(_) => Ok(model),
        // Two starts at once, or another kind started meanwhile: the index lets one through.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            under_way(open_request(db, uid).await?.ok_or(ErrorCode::RequestUnderWay)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Saves one part of an editable change request (only while it is still editable).
async fn save(
    db: &impl ConnectionTrait,
    r: &request::Model,
    sets: &str,
    values: Vec<sea_orm::Value>,
) -> Result<(), AppError> {
    let mut all = vec![r.id.clone().into()];
    all.extend(values);
    let text = format!("UPDATE request SET {sets} WHERE id = $1 AND status IN ('draft', 'rejected')");
    if exec(db, &text, all).await?.rows_affected() != 1 {
        return Err(ErrorCode::NotEditable.into());
    }
    Ok(())
}

/// ② 证书信息变更: the new holder, of the kind the certificate's profile asks for. The region
/// and e-mail stay the certificate's.
pub async fn save_holder(
    db: &impl ConnectionTrait,
    account_id: &str,
    id: &str,
    holder: Holder,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = own_change(db, account_id, id).await?;
    if r.kind != Kind::Change {
        return Err(ErrorCode::NotFound.into());
    }
    if !r.status.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let (cert, _) = own_certificate(db, account_id, &uid).await?;
    let profile = CertificateProfile::parse(&cert.profile).ok_or(ErrorCode::NotFound)?;
    let (old, _) = current(db, &uid).await?;
    let old = old.ok_or(ErrorCode::StepMissing)?;
    let info = CertificateInfo { holder, ..old };
    let errors = info.check_for(profile);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let name = info.holder.common_name().to_owned();
    save(
        db,
        &r,
        "certificate_info = $2, search_name = $3, step = 3, updated_at = $4",
        vec![json(&info)?.into(), name.into(), now.into()],
    )
    .await?;
    own(db, account_id, id).await
}

/// ③ 经办人信息变更 / ② 经办人资料变更: the operator as they will be.
pub async fn save_operator(
    db: &impl ConnectionTrait,
    account_id: &str,
    id: &str,
    operator: OperatorInfo,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = own_change(db, account_id, id).await?;
    if !r.status.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let errors = operator.check();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let step = if r.kind == Kind::Change { 4 } else { 3 };
    save(
        db,
        &r,
        "operator = $2, operator_mobile = $3, operator_id_number = $4, step = $5, updated_at = $6",
        vec![
            json(&operator)?.into(),
            operator.mobile.as_str().to_owned().into(),
            operator.id_number.as_str().to_owned().into(),
            step.into(),
            now.into(),
        ],
    )
    .await?;
    own(db, account_id, id).await
}

/// What is still missing before a change request may be submitted.
async fn missing(
    db: &impl ConnectionTrait,
    r: &request::Model,
    t: &catalogue_type::Model,
) -> Result<Vec<FieldError>, AppError> {
    let mut e = Vec::new();
    for kind in documents(r.kind, t) {
        let have = request_document::Entity::find()
            .filter(request_document::Column::RequestId.eq(r.id.clone()))
            .filter(request_document::Column::Kind.eq(kind.as_str()))
            .count(db)
            .await?
            > 0;
        if !have {
            e.push(FieldError { field: kind.as_str().into(), error: ValidationError::Required });
        }
    }
    if r.kind == Kind::Change && r.certificate_info.is_none() {
        e.push(FieldError { field: "holder".into(), error: ValidationError::Required });
    }
    if r.operator.is_none() {
        e.push(FieldError { field: "operator".into(), error: ValidationError::Required });
    }
    Ok(e)
}

/// ④ 提交审核 (or, after a rejection, again): to staff review, whose result goes by SMS.
pub async fn submit(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    account_id: &str,
    id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = own_change(db, account_id, id).await?;
    if !r.status.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let (cert, produced_by) = own_certificate(db, account_id, &uid).await?;
    if let Some(c) = closed(&cert, r.kind, now) {
        return Err(refusal(c));
    }
    let t = type_of(db, &produced_by).await?;
    let errors = missing(db, &r, &t).await?;
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let actor = audit::customer(account_id);
    let step = if r.kind == Kind::Change { 5 } else { 3 };
    super::request::submit(db, key, &r, &actor, "request_submitted", meta, now, vec![("step", step.into())]).await?;
    own(db, account_id, id).await
}

/// Withdraws a change not yet approved (a draft, one waiting for review, or a rejected one),
/// so that the certificate is free for another request.
pub async fn withdraw(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    account_id: &str,
    id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = own_change(db, account_id, id).await?;
    let txn = crate::db::begin_write(db).await?;
    if !advance(&txn, &r.id, r.status, Transition::Withdraw, now, vec![]).await? {
        return Err(ErrorCode::NotEditable.into());
    }
    let subject = r.acceptance_no.clone().unwrap_or_else(|| r.id.clone());
    let detail = serde_json::json!({ "request": r.id, "kind": RequestKind::from(r.kind).as_str() });
    let actor = audit::customer(account_id);
    audit::append(
        &txn,
        key,
        Event { actor: &actor, action: "request_withdrawn", subject: &subject, ip: &meta.ip, detail },
    )
    .await?;
    txn.commit().await?;
    own(db, account_id, id).await
}

/// An approved 经办人变更, in the approval's transaction: the new operator's phone becomes
/// the certificate's phone of record (SMS codes, 证书解锁, the next requests), and the
/// request is Done.
pub async fn operator_approved(
    txn: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    r: &request::Model,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let operator: OperatorInfo = parse(&r.operator).ok_or(ErrorCode::StepMissing)?;
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    super::contact::set(txn, &uid, &operator.mobile, r.operator.clone(), Some(r.id.clone()), now).await?;
    if !advance(txn, &r.id, Status::Approved, Transition::Fulfil, now, vec![]).await? {
        return Err(ErrorCode::NotEditable.into());
    }
    let number = r.acceptance_no.clone().unwrap_or_default();
    let detail = serde_json::json!({
        "request": r.id, "kind": "operator_change", "certificate": uid, "phone_of_record": operator.mobile.masked()
    });
    audit::append(
        txn,
        key,
        Event { actor: audit::SYSTEM, action: "phone_of_record_set", subject: &number, ip: &meta.ip, detail },
    )
    .await?;
    Ok(())
}

/// ⑤ 证书下载: signs the CSR of a new key pair made on the token holding the changed
/// certificate, with the approved holder as subject, until the changed certificate's end
/// (Approved → Issued). Again for a request already Issued: the same certificate for the same
/// key, or, for a key made anew, the unfinished one revoked and a new one issued.
#[allow(clippy::too_many_arguments)]
pub async fn issue(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    account_id: &str,
    id: &str,
    body: &RenewalCsr,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<certificate::Model, AppError> {
    let r = own_change(db, account_id, id).await?;
    if r.kind != Kind::Change {
        return Err(ErrorCode::NotFound.into());
    }
    let info: CertificateInfo = parse(&r.certificate_info).ok_or(ErrorCode::StepMissing)?;
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let (old, _) = own_certificate(db, account_id, &uid).await?;
    super::renew::same_token(&old, &body.medium_no)?;
    if old.status != VALID {
        return Err(ErrorCode::CertificateNotValid.into());
    }
    let profile = CertificateProfile::parse(&old.profile).ok_or(ErrorCode::NotFound)?;
    let txn = crate::db::begin_write(db).await?;
    if let Some(same) = super::request::claim_issuance(&txn, ca, &r, &body.csr_pem, None, now).await? {
        return Ok(same);
    }
    let subject = crate::ca::profile::Subject::of_holder(&info, r.acceptance_no.clone());
    let req = crate::ca::issue::ChangeRequest {
        profile,
        subject: &subject,
        csr: body.csr_pem.as_bytes(),
        not_after: old.not_after,
    };
    let issued = crate::ca::issue::issue_change(&txn, ca, &req).await?;
    phone_of_successor(&txn, &r, &old.uid, &issued.uid, now).await?;
    let detail = serde_json::json!({
        "request": r.id, "kind": "change", "certificate": issued.uid, "serial": issued.serial, "changes": old.serial
    });
    super::request::record_successor(
        db,
        txn,
        key,
        &r,
        &issued.uid,
        5,
        old.email.clone(),
        old.medium_no.clone(),
        detail,
        meta,
    )
    .await
}

/// The new certificate's phone of record: the old one's, carried over, unless the approved
/// change gave the operator another phone (reviewed with the documents, as a 经办人变更 is).
async fn phone_of_successor(
    txn: &impl ConnectionTrait,
    r: &request::Model,
    old_uid: &str,
    new_uid: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let before: Option<ChangeBefore> = parse(&r.payload);
    let operator: Option<OperatorInfo> = parse(&r.operator);
    let moved = before
        .as_ref()
        .zip(operator.as_ref())
        .is_some_and(|(b, o)| b.operator.as_ref().map(|x| x.mobile.as_str()) != Some(o.mobile.as_str()));
    match operator {
        Some(o) if moved => {
            super::contact::set(txn, new_uid, &o.mobile, r.operator.clone(), Some(r.id.clone()), now).await
        }
        _ => super::contact::carry_over(txn, old_uid, new_uid, now).await,
    }
}

/// Once the new certificate is on the token: the old one is revoked as superseded and the
/// request is Done, in one transaction. Done already: nothing to do.
#[allow(clippy::too_many_arguments)]
pub async fn finish(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    notifier: &Notifier,
    account_id: &str,
    id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = own_change(db, account_id, id).await?;
    if r.kind != Kind::Change {
        return Err(ErrorCode::NotFound.into());
    }
    super::request::finish_successor(db, Some(ca), key, notifier, r, meta, now).await
}
