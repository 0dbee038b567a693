//! 证书补办 / 密钥恢复 (seed 004 §6, seed 002 §2.2, seed 001 §2.5): a request of kind
//! `reissue` for a UKey bought through the portal and lost or damaged. Only a certificate
//! whose request chose a UKey is reissued; a soft shield is downloaded again instead.
//!
//! [`start`] makes the draft at the catalogue's 补办价格 with the reason (遗失 / 损坏); ① the
//! documents go up like a 新办's (`/api/applications/{id}/documents/{kind}`); ② [`verify`]
//! checks the SMS code sent to the certificate's phone of record; ③ [`set_delivery`] is the
//! 领取方式 (post or counter, the wizard's [`DeliveryInfo`]); ④ scan-to-pay customers pay the
//! request (`domain::payment`), settlement customers skip it; ⑤ [`submit`] sends it to staff
//! review — and a token reported lost freezes its certificate in the same transaction, before
//! any review. On approval ([`approved`], in the approval's transaction) the old certificate
//! is revoked: `keyCompromise` for a lost token (its key is out of the holder's hands: RFC
//! 5280 §5.3.1, CA/B BR §4.9.1.1), `superseded` for a damaged one (the key is not known to be
//! compromised; a new certificate replaces it). The new UKey is posted (a parcel in
//! `domain::shipping`) or picked up at the counter; [`issue`] signs the CSR of a new key pair
//! made on that new token (another medium number than the old one, the same subject, until
//! the old end), and [`finish`], once the token holds it, closes the request (Issued → Done).

use certdesk_shared::ErrorCode;
use certdesk_shared::account::CodePurpose;
use certdesk_shared::apply::{BillingMode, DeliveryInfo, DocumentKind, Medium};
use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use certdesk_shared::reissue::{
    ReissueCsr, ReissueDetails, ReissueNotOpen, ReissueOffer, ReissueReason, StartReissue, VerifyReissue,
};
use certdesk_shared::request::RequestKind;
use certdesk_shared::{FieldError, ValidationError};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, SqlErr, TransactionTrait,
};

use super::audit::{self, AuditKey, Event};
use super::request::{json, own, parse};
use super::{ClientMeta, exec, new_id, query_one};
use crate::ca::CaService;
use crate::ca::revoke::{HOLD, REVOKED, VALID};
use crate::entity::request::{self, Kind, Status};
use crate::entity::{account, catalogue_type, certificate, request_document};
use crate::error::AppError;
use crate::notify::Notifier;
use certdesk_shared::Named;

/// What a reissue request records in its payload.
pub fn details(r: &request::Model) -> Option<ReissueDetails> {
    if r.kind == Kind::Reissue { parse(&r.payload) } else { None }
}

/// Whether a certificate whose request chose `medium` may be reissued now, and if not, why.
/// A frozen certificate may (a lost token is often frozen first).
pub fn not_open(medium: Option<&str>, cert: &certificate::Model, now: DateTime<Utc>) -> Option<ReissueNotOpen> {
    if medium.and_then(Medium::parse) != Some(Medium::Ukey) {
        Some(ReissueNotOpen::NotUkey)
    } else if cert.status == REVOKED || cert.not_after <= now {
        Some(ReissueNotOpen::NotValid)
    } else {
        None
    }
}

fn refusal(n: ReissueNotOpen) -> AppError {
    match n {
        ReissueNotOpen::NotUkey => ErrorCode::ReissueUkeyOnly.into(),
        ReissueNotOpen::NotValid => ErrorCode::CertificateNotValid.into(),
    }
}

fn field(name: &str, error: ValidationError) -> AppError {
    AppError::Validation(vec![FieldError { field: name.into(), error }])
}

/// The account's own reissue request; anything else is "not found".
async fn own_reissue(db: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<request::Model, AppError> {
    let r = own(db, account_id, id).await?;
    if r.kind != Kind::Reissue {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(r)
}

const OPEN: [Status; 6] =
    [Status::Draft, Status::Submitted, Status::Rejected, Status::Resubmitted, Status::Approved, Status::Issued];

/// The request of any kind under way for a certificate (at most one: a partial unique index).
async fn open_request(db: &impl ConnectionTrait, uid: &str) -> Result<Option<request::Model>, AppError> {
    Ok(request::Entity::find()
        .filter(request::Column::FromCertificateUid.eq(uid))
        .filter(request::Column::Status.is_in(OPEN))
        .order_by_desc(request::Column::CreatedAt)
        .one(db)
        .await?)
}

async fn type_of(db: &impl ConnectionTrait, produced_by: &request::Model) -> Result<catalogue_type::Model, AppError> {
    catalogue_type::Entity::find_by_id(produced_by.type_id.clone().unwrap_or_default())
        .one(db)
        .await?
        .ok_or_else(|| ErrorCode::NotFound.into())
}

fn documents_of(t: &catalogue_type::Model) -> Vec<DocumentKind> {
    t.documents.split(',').filter_map(DocumentKind::parse).collect()
}

fn settlement(r: &request::Model) -> bool {
    r.billing_mode == BillingMode::Settlement.as_str()
}

async fn paid(db: &impl ConnectionTrait, r: &request::Model) -> Result<bool, AppError> {
    Ok(settlement(r) || super::payment::is_paid(db, r).await?)
}

/// `GET /api/reissue/{uid}`: what reissuing this certificate means now.
pub async fn offer(
    db: &impl ConnectionTrait,
    account_id: &str,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<ReissueOffer, AppError> {
    let (cert, produced_by) = super::renew::own_certificate(db, account_id, uid).await?;
    let t = type_of(db, &produced_by).await?;
    let a = account::Entity::find_by_id(account_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let under_way = match open_request(db, uid).await?.filter(|r| r.kind == Kind::Reissue) {
        Some(r) => Some(r),
        // Reissued already: the page shows that request, done.
        None => {
            request::Entity::find()
                .filter(request::Column::FromCertificateUid.eq(uid))
                .filter(request::Column::Kind.eq(Kind::Reissue))
                .filter(request::Column::Status.eq(Status::Done))
                .one(db)
                .await?
        }
    };
    let (request, details, paid) = match &under_way {
        Some(r) => (Some(super::request::view(db, r).await?), details(r), paid(db, r).await?),
        None => (None, None, false),
    };
    Ok(ReissueOffer {
        certificate_uid: cert.uid.clone(),
        common_name: cert.subject.clone(),
        profile: CertificateProfile::parse(&cert.profile).ok_or(ErrorCode::NotFound)?,
        type_name: t.name.clone(),
        status: super::my_certificates::status(&cert, now),
        medium: produced_by.medium.as_deref().and_then(Medium::parse),
        medium_no: cert.medium_no.clone(),
        serial: cert.serial.to_uppercase(),
        not_after: cert.not_after.to_rfc3339(),
        // A reissue under way goes on (its approval revokes the old certificate), or is done.
        not_open: if under_way.is_some() { None } else { not_open(produced_by.medium.as_deref(), &cert, now) },
        price_fen: under_way.as_ref().and_then(|r| r.price_fen).unwrap_or(t.reissue_price_fen),
        billing: super::request::billing_of(&a.billing_mode),
        documents: documents_of(&t),
        phone_masked: super::contact::phone_of_record(db, uid).await?.masked(),
        request,
        details,
        paid,
    })
}

/// Starts a reissue of the account's UKey certificate, at its type's 补办价格. Refused for a
/// soft shield, a revoked or expired certificate, or while another request is under way for
/// it.
pub async fn start(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    account_id: &str,
    uid: &str,
    body: &StartReissue,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let (cert, produced_by) = super::renew::own_certificate(db, account_id, uid).await?;
    if let Some(n) = not_open(produced_by.medium.as_deref(), &cert, now) {
        return Err(refusal(n));
    }
    if open_request(db, uid).await?.is_some() {
        return Err(ErrorCode::RequestUnderWay.into());
    }
    let t = type_of(db, &produced_by).await?;
    let a = account::Entity::find_by_id(account_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let model = request::Model {
        id: new_id(),
        account_id: account_id.to_owned(),
        kind: Kind::Reissue,
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
        price_fen: Some(t.reissue_price_fen),
        reasons: "[]".into(),
        auth_code_hash: None,
        from_certificate_uid: Some(uid.to_owned()),
        certificate_uid: None,
        payload: Some(json(&ReissueDetails { reason: body.reason, phone_verified: false })?),
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
        // The phone the SMS check goes to, so that a reviewer never decides their own.
        operator_mobile: Some(super::contact::phone_of_record(db, uid).await?.as_str().to_owned()),
        operator_id_number: produced_by.operator_id_number.clone(),
        challenge_hash: produced_by.challenge_hash.clone(),
    };
    let txn = crate::db::begin_write(db).await?;
    let active: request::ActiveModel = model.clone().into();
    match request::Entity::insert(active).exec(&txn).await {
        Ok(_) => {}
        // Another request for the certificate started at the same moment.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(ErrorCode::RequestUnderWay.into());
        }
        Err(e) => return Err(e.into()),
    }
    let detail =
        serde_json::json!({ "request": model.id, "kind": "reissue", "certificate": uid, "reason": body.reason });
    audit::append(
        &txn,
        key,
        Event {
            actor: &audit::customer(account_id),
            action: "request_started",
            subject: &cert.serial,
            ip: &meta.ip,
            detail,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// An editable reissue of the account's.
async fn editable(db: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<request::Model, AppError> {
    let r = own_reissue(db, account_id, id).await?;
    if !r.status.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    Ok(r)
}

/// Writes the payload and the resume step of a request while it is still editable.
async fn save(
    db: &impl ConnectionTrait,
    r: &request::Model,
    payload: &ReissueDetails,
    delivery: Option<&DeliveryInfo>,
    step: i32,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (delivery, by_post) = match delivery {
        Some(d) => (Some(json(d)?), d.method == certdesk_shared::apply::DeliveryMethod::Post),
        None => (r.delivery.clone(), r.ships_by_post),
    };
    let n = exec(
        db,
        "UPDATE request SET payload = $2, delivery = $3, ships_by_post = $4, step = $5, updated_at = $6 \
         WHERE id = $1 AND status IN ('draft', 'rejected')",
        vec![
            r.id.clone().into(),
            json(payload)?.into(),
            delivery.into(),
            by_post.into(),
            r.step.max(step).into(),
            now.into(),
        ],
    )
    .await?
    .rows_affected();
    if n == 1 { Ok(()) } else { Err(ErrorCode::NotEditable.into()) }
}

/// ② 短信验证: the code sent to the certificate's phone of record. A wrong or expired code
/// changes nothing but the code's tries.
pub async fn verify(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    account_id: &str,
    id: &str,
    body: &VerifyReissue,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = editable(db, account_id, id).await?;
    let mut d = details(&r).ok_or(ErrorCode::StepMissing)?;
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    super::codes::consume_for_certificate(db, &uid, CodePurpose::CertificateReissue, &body.code, now).await?;
    d.phone_verified = true;
    let txn = crate::db::begin_write(db).await?;
    save(&txn, &r, &d, None, 3, now).await?;
    let detail = serde_json::json!({ "request": r.id, "kind": "reissue", "certificate": uid });
    audit::append(
        &txn,
        key,
        Event { actor: &audit::customer(account_id), action: "phone_verified", subject: &r.id, ip: &meta.ip, detail },
    )
    .await?;
    txn.commit().await?;
    own(db, account_id, id).await
}

/// ③ 领取方式: the new UKey is posted to an address, or picked up at the counter.
pub async fn set_delivery(
    db: &impl ConnectionTrait,
    account_id: &str,
    id: &str,
    body: &DeliveryInfo,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = editable(db, account_id, id).await?;
    super::invalid(body.check())?;
    let d = details(&r).ok_or(ErrorCode::StepMissing)?;
    save(db, &r, &d, Some(body), 4, now).await?;
    own(db, account_id, id).await
}

/// What is still missing before submission, as field errors: the documents of the
/// certificate's type, the SMS check, the 领取方式.
async fn missing(db: &impl ConnectionTrait, r: &request::Model, d: &ReissueDetails) -> Result<(), AppError> {
    let mut e = Vec::new();
    let t = catalogue_type::Entity::find_by_id(r.type_id.clone().unwrap_or_default()).one(db).await?;
    for kind in t.as_ref().map(documents_of).unwrap_or_default() {
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
    if !d.phone_verified {
        e.push(FieldError { field: "code".into(), error: ValidationError::Required });
    }
    if r.delivery.is_none() {
        e.push(FieldError { field: "delivery".into(), error: ValidationError::Required });
    }
    super::invalid(e)
}

/// ⑤ 提交审核: complete and paid (or settlement), to staff review. A token reported lost
/// freezes its certificate in the same transaction.
pub async fn submit(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    account_id: &str,
    id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = editable(db, account_id, id).await?;
    let d = details(&r).ok_or(ErrorCode::StepMissing)?;
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let (cert, produced_by) = super::renew::own_certificate(db, account_id, &uid).await?;
    if let Some(n) = not_open(produced_by.medium.as_deref(), &cert, now) {
        return Err(refusal(n));
    }
    missing(db, &r, &d).await?;
    if !paid(db, &r).await? {
        return Err(ErrorCode::PaymentRequired.into());
    }
    let actor = audit::customer(account_id);
    let txn = crate::db::begin_write(db).await?;
    let number =
        super::request::submit(&txn, key, &r, &actor, "request_submitted", meta, now, vec![("step", 5.into())]).await?;
    if d.reason == ReissueReason::Lost && cert.status == VALID {
        crate::ca::revoke::hold(&txn, &ca.issuing, &cert.serial).await?;
        // The holder froze it (by reporting the token lost): theirs to unfreeze, once no
        // request is under way (`domain::freeze`).
        super::exec(
            &txn,
            "UPDATE certificate SET frozen_by = $2 WHERE id = $1",
            vec![cert.id.into(), certdesk_shared::freeze::FrozenBy::Holder.as_str().into()],
        )
        .await?;
        let detail = serde_json::json!({ "request": r.id, "kind": "reissue", "certificate": uid, "reason": "lost" });
        audit::append(
            &txn,
            key,
            Event { actor: &actor, action: "certificate_frozen", subject: &number, ip: &meta.ip, detail },
        )
        .await?;
    }
    txn.commit().await?;
    crate::ca::ocsp::status_changed();
    own(db, account_id, id).await
}

/// What an approved reissue does at once, in the approval's transaction: the old certificate
/// is revoked, `keyCompromise` for a lost token, `superseded` for a damaged one.
pub async fn approved(
    txn: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    r: &request::Model,
    meta: &ClientMeta,
) -> Result<(), AppError> {
    let d = details(r).ok_or(ErrorCode::StepMissing)?;
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let old = certificate::Entity::find()
        .filter(certificate::Column::Uid.eq(uid.as_str()))
        .one(txn)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    if old.status != VALID && old.status != HOLD {
        return Ok(());
    }
    let reason = match d.reason {
        ReissueReason::Lost => RevocationReason::KeyCompromise,
        ReissueReason::Damaged => RevocationReason::Superseded,
    };
    crate::ca::revoke::revoke(txn, &ca.issuing, &old.serial, reason, None).await?;
    let number = r.acceptance_no.clone().unwrap_or_default();
    let detail = serde_json::json!({
        "request": r.id, "kind": "reissue", "certificate": uid, "serial": old.serial, "reason": reason.code()
    });
    audit::append(
        txn,
        key,
        Event { actor: audit::SYSTEM, action: "certificate_revoked", subject: &number, ip: &meta.ip, detail },
    )
    .await?;
    Ok(())
}

/// A medium number is the token's serial: short printable text.
fn medium_no(body: &ReissueCsr) -> Result<&str, AppError> {
    let m = body.medium_no.trim();
    if m.is_empty() {
        return Err(field("medium_no", ValidationError::Required));
    }
    if m.len() > 64 || !m.chars().all(|c| c.is_ascii_graphic()) {
        return Err(field("medium_no", ValidationError::TokenSerialFormat));
    }
    Ok(m)
}

/// 证书下载 onto the new UKey: signs the CSR of a new key pair made on a token other than the
/// lost or damaged one (Approved → Issued), with the old certificate's subject, until its
/// end. Again for a request already Issued: the same certificate for the same key, or, for a
/// key made anew, the unfinished one revoked and a certificate for the new key.
#[allow(clippy::too_many_arguments)]
pub async fn issue(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    account_id: &str,
    id: &str,
    body: &ReissueCsr,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<certificate::Model, AppError> {
    let r = own_reissue(db, account_id, id).await?;
    if !matches!(r.status, Status::Approved | Status::Issued) {
        return Err(ErrorCode::NotEditable.into());
    }
    if Medium::of_token(body.medium_kind) != Medium::Ukey {
        return Err(ErrorCode::MediumMismatch.into());
    }
    let m = medium_no(body)?;
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let (old, _) = super::renew::own_certificate(db, account_id, &uid).await?;
    if old.medium_no.as_deref().map(str::trim) == Some(m) {
        return Err(ErrorCode::SameMedium.into());
    }
    // A token holding another account's live certificate is not this holder's to claim.
    let taken = query_one(
        db,
        "SELECT 1 AS one FROM certificate c JOIN request a ON a.certificate_uid = c.uid \
         WHERE c.medium_no = $1 AND c.status <> 'revoked' AND a.account_id <> $2 LIMIT 1",
        vec![m.into(), account_id.into()],
    )
    .await?;
    if taken.is_some() {
        return Err(ErrorCode::MediumTaken.into());
    }
    let profile = CertificateProfile::parse(&old.profile).ok_or(ErrorCode::NotFound)?;
    let txn = crate::db::begin_write(db).await?;
    if let Some(same) = super::request::claim_issuance(&txn, ca, &r, &body.csr_pem, Some(m), now).await? {
        return Ok(same);
    }
    let req = crate::ca::issue::RenewRequest {
        profile,
        renewed: &old.der,
        csr: body.csr_pem.as_bytes(),
        not_after: old.not_after,
    };
    let issued = crate::ca::issue::issue_renewal(&txn, ca, &req).await?;
    super::contact::carry_over(&txn, &uid, &issued.uid, now).await?;
    let detail = serde_json::json!({
        "request": r.id, "kind": "reissue", "certificate": issued.uid, "serial": issued.serial,
        "replaces": old.serial, "medium_no": m
    });
    let medium = Some(m.to_owned());
    super::request::record_successor(db, txn, key, &r, &issued.uid, 6, old.email.clone(), medium, detail, meta).await
}

/// Once the new UKey holds the new certificate: the request is Done (again: nothing to do),
/// and the holder is told by SMS.
#[allow(clippy::too_many_arguments)]
pub async fn finish(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    notifier: &Notifier,
    account_id: &str,
    id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let r = own_reissue(db, account_id, id).await?;
    super::request::finish_successor(db, None, key, notifier, r, meta, now).await
}

/// 证书补办申请表 (seed 004 §6.1.2's 补办材料): the certificate and the request as recorded, to
/// print, seal, sign and upload with the other documents; reviewers open the same form.
pub async fn form_pdf(db: &impl ConnectionTrait, r: &request::Model) -> Result<Vec<u8>, AppError> {
    use crate::pdf::{Page, document};
    let d = details(r).ok_or(ErrorCode::NotFound)?;
    let uid = r.from_certificate_uid.clone().unwrap_or_default();
    let cert = certificate::Entity::find()
        .filter(certificate::Column::Uid.eq(uid.as_str()))
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let type_name = catalogue_type::Entity::find_by_id(r.type_id.clone().unwrap_or_default())
        .one(db)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let delivery: Option<DeliveryInfo> = parse(&r.delivery);
    let or_dash = |s: Option<String>| s.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into());
    let rows: Vec<(&str, String)> = vec![
        ("业务受理号", or_dash(r.acceptance_no.clone())),
        ("业务类型", RequestKind::Reissue.name_zh().into()),
        ("证书名称", cert.subject.clone()),
        ("证书类型", or_dash(Some(type_name))),
        ("证书序列号", cert.serial.to_uppercase()),
        ("介质编号", or_dash(cert.medium_no.clone())),
        ("有效结束时间", cert.not_after.format("%Y-%m-%d").to_string()),
        (
            "补办原因",
            match d.reason {
                ReissueReason::Lost => "UKey遗失（提交后原证书立即冻结）".into(),
                ReissueReason::Damaged => "UKey损坏".into(),
            },
        ),
        ("补办价格", r.price_fen.map_or("—".into(), |p| format!("{}元", certdesk_shared::apply::yuan(p)))),
        (
            "证书领取方式",
            match delivery.as_ref().map(|d| d.method) {
                Some(certdesk_shared::apply::DeliveryMethod::Post) => "邮寄配送".into(),
                Some(certdesk_shared::apply::DeliveryMethod::Counter) => "营业厅领取".into(),
                None => "—".into(),
            },
        ),
        ("收件地址", or_dash(delivery.and_then(|d| d.address))),
    ];
    let mut page = Page::default();
    page.text(200.0, 790.0, 20.0, "证书补办申请表");
    page.text(
        50.0,
        760.0,
        10.0,
        "请核对以下信息，打印后加盖单位公章，经办人签字，扫描后与其他资料一并在“资料上传”中上传。",
    );
    let y = page.table(745.0, &rows);
    page.text(50.0, y - 30.0, 10.0, "本单位确认上述证书的UKey已遗失或损坏，申请补发UKey并生成新的密钥对，原证书作废。");
    page.text(50.0, y - 70.0, 12.0, "单位盖章：");
    page.text(320.0, y - 70.0, 12.0, "经办人签字：");
    page.text(320.0, y - 110.0, 12.0, "日期：      年    月    日");
    page.text(50.0, 40.0, 9.0, &format!("CertDesk · 生成于 {}", Utc::now().format("%Y-%m-%d %H:%M UTC")));
    Ok(document("证书补办申请表", &[page]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn cert(status: &str, not_after: DateTime<Utc>) -> certificate::Model {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        certificate::Model {
            id: 1,
            uid: "u".into(),
            ca_id: 1,
            serial: "0a".into(),
            profile: "org_sign".into(),
            subject: "s".into(),
            not_before: t,
            not_after,
            der: Vec::new(),
            status: status.into(),
            revoked_at: None,
            reason: None,
            invalidity_date: None,
            crl_entry: None,
            created_at: t,
            email: None,
            medium_no: Some("UKEY-1".into()),
            frozen_by: None,
            crl_shard: None,
        }
    }

    #[test]
    fn only_a_live_ukey_certificate_is_reissued() {
        let end = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        let now = end - Duration::days(100);
        assert_eq!(not_open(Some("ukey"), &cert("valid", end), now), None);
        assert_eq!(not_open(Some("ukey"), &cert("hold", end), now), None);
        assert_eq!(not_open(Some("ukey"), &cert("revoked", end), now), Some(ReissueNotOpen::NotValid));
        assert_eq!(not_open(Some("ukey"), &cert("valid", end), end), Some(ReissueNotOpen::NotValid));
        for m in [Some("pc_shield"), Some("mobile_shield"), None] {
            assert_eq!(not_open(m, &cert("valid", end), now), Some(ReissueNotOpen::NotUkey), "{m:?}");
        }
    }
}
