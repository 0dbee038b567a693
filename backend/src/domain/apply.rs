//! New certificate (证书新办): the wizard's drafts saved step by step, document
//! uploads checked by content, submission with an acceptance number, staff review (approve,
//! or reject with a reason per field), fixing and resubmitting, and issuance for a CSR with
//! the download authorization code sent by SMS at approval.
//!
//! The application's status moves only by conditional UPDATEs (`WHERE status = <seen>`), so
//! two reviewers, or a reviewer and a resubmitting customer, cannot both move it.

use certdesk_shared::apply::{
    ApplicationStatus, ApplicationView, BillingMode, CertificateInfo, ChooseType, DeliveryInfo, DocumentKind,
    DocumentView, FieldReason, FileType, HolderKind, Medium, OperatorInfo, ReviewDecision, check_document,
};
use certdesk_shared::certificate::CertificateProfile;
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, SqlErr,
    TransactionTrait,
};
use sha2::Digest;

use super::audit::{self, AuditKey, Event};
use super::{ClientMeta, exec, invalid, new_id, query_one, sha256_hex};
use crate::ca::CaService;
use crate::entity::{account, application, application_document, catalogue_type, catalogue_validity};
use crate::error::AppError;
use crate::notify::{Notifier, Template};

/// Review promise: 5 working days (提交审核后…在5个工作日内对材料进行审核).
pub const REVIEW_WORKING_DAYS: i64 = 5;

fn billing(a: &account::Model) -> BillingMode {
    billing_of(&a.billing_mode)
}

pub(crate) fn billing_of(code: &str) -> BillingMode {
    BillingMode::parse(code).unwrap_or(BillingMode::ScanToPay)
}

/// The customer's own application; anyone else's is "not found".
async fn own(db: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<application::Model, AppError> {
    application::Entity::find_by_id(id.to_owned())
        .filter(application::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| ErrorCode::NotFound.into())
}

fn parse<T: serde::de::DeserializeOwned>(s: &Option<String>) -> Option<T> {
    s.as_deref().and_then(|j| serde_json::from_str(j).ok())
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, AppError> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.into()))
}

fn status(a: &application::Model) -> ApplicationStatus {
    ApplicationStatus::parse(&a.status).unwrap_or(ApplicationStatus::Draft)
}

pub async fn view(db: &impl ConnectionTrait, a: &application::Model) -> Result<ApplicationView, AppError> {
    let docs = application_document::Entity::find()
        .filter(application_document::Column::ApplicationId.eq(a.id.clone()))
        .all(db)
        .await?;
    Ok(ApplicationView {
        id: a.id.clone(),
        acceptance_no: a.acceptance_no.clone(),
        status: status(a),
        step: a.step as u8,
        choose_type: parse(&a.choose_type),
        certificate_info: parse(&a.certificate_info),
        documents: docs
            .into_iter()
            .filter_map(|d| {
                Some(DocumentView {
                    kind: DocumentKind::parse(&d.kind)?,
                    file_type: serde_json::from_value(serde_json::Value::String(d.file_type)).ok()?,
                    file_name: d.file_name,
                    size: d.size as u64,
                    sha256: d.sha256,
                })
            })
            .collect(),
        operator: parse(&a.operator),
        delivery: parse(&a.delivery),
        price_fen: a.price_fen,
        billing: billing_of(&a.billing_mode),
        reasons: serde_json::from_str(&a.reasons).unwrap_or_default(),
        created_at: a.created_at.to_rfc3339(),
        submitted_at: a.submitted_at.map(|t| t.to_rfc3339()),
        certificate_uid: a.certificate_uid.clone(),
        challenge_set: a.challenge_hash.is_some(),
    })
}

/// New drafts an account may start in a day, and uploads it may make in an hour: a
/// customer needs a handful; a script filling the disk needs many more.
pub const DRAFTS_PER_ACCOUNT_PER_DAY: i32 = 20;
pub const UPLOADS_PER_ACCOUNT_PER_HOUR: i32 = 100;

/// A new draft at step ①.
pub async fn start(
    db: &impl ConnectionTrait,
    a: &account::Model,
    now: DateTime<Utc>,
) -> Result<application::Model, AppError> {
    if !super::throttle::take(
        db,
        &format!("draft:account:{}", a.id),
        DRAFTS_PER_ACCOUNT_PER_DAY,
        chrono::Duration::days(1),
        now,
    )
    .await?
    {
        return Err(ErrorCode::RateLimited.into());
    }
    let model = application::Model {
        id: new_id(),
        account_id: a.id.clone(),
        acceptance_no: None,
        status: ApplicationStatus::Draft.as_str().into(),
        step: 1,
        billing_mode: a.billing_mode.clone(),
        type_id: None,
        medium: None,
        choose_type: None,
        certificate_info: None,
        operator: None,
        delivery: None,
        price_fen: None,
        reasons: "[]".into(),
        auth_code_hash: None,
        certificate_uid: None,
        review_round: 0,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        decided_at: None,
        courier: None,
        tracking_no: None,
        shipped_at: None,
        search_name: None,
        search_email: None,
        operator_mobile: None,
        operator_id_number: None,
        challenge_hash: None,
    };
    let active: application::ActiveModel = model.clone().into();
    application::Entity::insert(active).exec(db).await?;
    Ok(model)
}

pub async fn list(db: &impl ConnectionTrait, account_id: &str) -> Result<Vec<application::Model>, AppError> {
    Ok(application::Entity::find()
        .filter(application::Column::AccountId.eq(account_id))
        .order_by_desc(application::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<application::Model, AppError> {
    own(db, account_id, id).await
}

/// The statuses in which the customer may change an application.
const EDITABLE: [&str; 2] = ["draft", "rejected"];

/// What one wizard step saves.
pub enum Step {
    ChooseType(ChooseType),
    CertificateInfo(CertificateInfo),
    Operator(OperatorInfo),
    Delivery(DeliveryInfo),
    /// ⑦: the challenge phrase (撤销密码) that later lets the holder revoke the certificate
    /// without signing in (seed 000); kept as argon2id only.
    ChallengePhrase(String),
}

fn field(field: &str, error: ValidationError) -> AppError {
    AppError::Validation(vec![FieldError { field: field.into(), error }])
}

/// Saves one step of an editable application and moves the resume point past it.
pub async fn save_step(
    db: &impl ConnectionTrait,
    account_id: &str,
    id: &str,
    step: Step,
    now: DateTime<Utc>,
) -> Result<application::Model, AppError> {
    let app = own(db, account_id, id).await?;
    if !status(&app).editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let paid = super::payment::has_payment(db, &app.id).await?;
    let mut active: application::ActiveModel = app.clone().into();
    let number = match step {
        Step::ChooseType(c) => {
            let t = catalogue_type::Entity::find_by_id(c.type_id.clone())
                .filter(catalogue_type::Column::ProjectId.eq(c.project_id.clone()))
                .one(db)
                .await?
                .ok_or_else(|| field("type_id", ValidationError::Required))?;
            if !t.media.split(',').any(|m| m == c.medium.as_str()) {
                return Err(field("medium", ValidationError::Required));
            }
            if app.type_id.as_deref() != Some(t.id.as_str()) {
                if paid {
                    // Paid for this type: the choice is final.
                    return Err(ErrorCode::NotEditable.into());
                }
                // Another type: the validity and its price chosen for the old one no longer apply.
                active.price_fen = Set(None);
                active.certificate_info = Set(None);
            }
            active.type_id = Set(Some(t.id));
            active.medium = Set(Some(c.medium.as_str().into()));
            active.choose_type = Set(Some(json(&c)?));
            1
        }
        Step::CertificateInfo(info) => {
            let type_id = app.type_id.clone().ok_or(ErrorCode::StepMissing)?;
            // The holder the chosen type's profile asks for (a person for 个人证书 …).
            let profile = catalogue_type::Entity::find_by_id(type_id.clone())
                .one(db)
                .await?
                .and_then(|t| CertificateProfile::from_code(&t.profile))
                .ok_or(ErrorCode::StepMissing)?;
            invalid(info.check_for(profile))?;
            let v = catalogue_validity::Entity::find_by_id(info.validity_id.clone())
                .filter(catalogue_validity::Column::TypeId.eq(type_id))
                .one(db)
                .await?
                .ok_or_else(|| field("validity_id", ValidationError::Required))?;
            if paid && app.price_fen != Some(v.price_fen) {
                // Paid for another period: the price cannot change any more.
                return Err(field("validity_id", ValidationError::OutOfRange));
            }
            active.price_fen = Set(Some(v.price_fen));
            active.certificate_info = Set(Some(json(&info)?));
            2
        }
        Step::Operator(o) => {
            invalid(o.check())?;
            active.operator = Set(Some(json(&o)?));
            4
        }
        Step::Delivery(d) => {
            invalid(d.check())?;
            active.delivery = Set(Some(json(&d)?));
            5
        }
        Step::ChallengePhrase(phrase) => {
            certdesk_shared::directory::check_challenge_phrase(&phrase).map_err(|e| field("challenge_phrase", e))?;
            if super::password::is_common(&phrase) {
                return Err(field("challenge_phrase", ValidationError::ChallengePhraseCommon));
            }
            active.challenge_hash = Set(Some(super::password::hash(phrase).await.map_err(AppError::Internal)?));
            app.step - 1
        }
    };
    active.step = Set(app.step.max(number + 1));
    active.updated_at = Set(now);
    // Only while still editable: a save racing a submission or a review loses.
    application::Entity::update(active).filter(application::Column::Status.is_in(EDITABLE)).exec(db).await.map_err(
        |e| match e {
            sea_orm::DbErr::RecordNotUpdated => ErrorCode::NotEditable.into(),
            e => AppError::from(e),
        },
    )
}

/// Step ③: one document, checked by size and content (never by its name).
pub async fn upload(
    db: &(impl ConnectionTrait + TransactionTrait),
    account_id: &str,
    id: &str,
    kind: DocumentKind,
    file_name: &str,
    bytes: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<DocumentView, AppError> {
    let app = own(db, account_id, id).await?;
    if !status(&app).editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    if !super::throttle::take(
        db,
        &format!("upload:account:{account_id}"),
        UPLOADS_PER_ACCOUNT_PER_HOUR,
        chrono::Duration::hours(1),
        now,
    )
    .await?
    {
        return Err(ErrorCode::RateLimited.into());
    }
    let file_type = check_document(kind, &bytes).map_err(|e| field(kind.as_str(), e))?;
    let size = bytes.len();
    // Replace in one transaction: a crash keeps the old document or the new, never neither.
    // The first statement also re-checks (and on PostgreSQL locks) the editable status, so
    // an upload racing a submission, or another upload, waits or loses cleanly.
    let txn = db.begin().await?;
    let still_editable = exec(
        &txn,
        "UPDATE application SET updated_at = $2 WHERE id = $1 AND status IN ('draft', 'rejected')",
        vec![app.id.clone().into(), now.into()],
    )
    .await?
    .rows_affected();
    if still_editable != 1 {
        return Err(ErrorCode::NotEditable.into());
    }
    let (file_name, sha) = store_document(&txn, &app.id, kind.as_str(), file_name, file_type, bytes, now).await?;
    txn.commit().await?;
    if app.step < 4 && app.certificate_info.is_some() {
        exec(
            db,
            "UPDATE application SET step = 4, updated_at = $2 WHERE id = $1 AND step < 4",
            vec![app.id.into(), now.into()],
        )
        .await?;
    }
    Ok(DocumentView { kind, file_name, file_type, size: size as u64, sha256: sha })
}

/// Kind of the bank-transfer voucher among an application's stored files (not a wizard
/// document, so `view` does not list it).
pub const VOUCHER_KIND: &str = "payment_voucher";

/// Stores a checked file as the application's one file of `kind`, replacing the earlier one;
/// run it inside the caller's transaction. Returns the cleaned file name and the SHA-256.
pub(crate) async fn store_document(
    txn: &impl ConnectionTrait,
    application_id: &str,
    kind: &str,
    file_name: &str,
    file_type: FileType,
    bytes: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<(String, String), AppError> {
    let file_name: String =
        file_name.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(120).collect();
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let type_code =
        serde_json::to_value(file_type).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    exec(
        txn,
        "DELETE FROM application_document WHERE application_id = $1 AND kind = $2",
        vec![application_id.into(), kind.into()],
    )
    .await?;
    application_document::Entity::insert(application_document::ActiveModel {
        id: Set(new_id()),
        application_id: Set(application_id.to_owned()),
        kind: Set(kind.to_owned()),
        file_name: Set(file_name.clone()),
        file_type: Set(type_code),
        size: Set(bytes.len() as i32),
        sha256: Set(sha.clone()),
        content: Set(bytes),
        created_at: Set(now),
    })
    .exec(txn)
    .await?;
    Ok((file_name, sha))
}

/// A stored file's bytes, for its owner or staff.
pub async fn stored_file(
    db: &impl ConnectionTrait,
    application_id: &str,
    kind: &str,
) -> Result<application_document::Model, AppError> {
    application_document::Entity::find()
        .filter(application_document::Column::ApplicationId.eq(application_id))
        .filter(application_document::Column::Kind.eq(kind))
        .one(db)
        .await?
        .ok_or_else(|| ErrorCode::NotFound.into())
}

/// A wizard document's bytes, for its owner or a reviewer.
pub async fn document(
    db: &impl ConnectionTrait,
    application_id: &str,
    kind: DocumentKind,
) -> Result<application_document::Model, AppError> {
    stored_file(db, application_id, kind.as_str()).await
}

/// What is still missing before submission, as field errors.
async fn missing(db: &impl ConnectionTrait, app: &application::Model) -> Result<Vec<FieldError>, AppError> {
    let mut e = Vec::new();
    let mut need = |f: &str, ok: bool| {
        if !ok {
            e.push(FieldError { field: f.into(), error: ValidationError::Required });
        }
    };
    need("choose_type", app.choose_type.is_some());
    need("certificate_info", app.certificate_info.is_some());
    need("operator", app.operator.is_some());
    need("delivery", app.delivery.is_some());
    need("challenge_phrase", app.challenge_hash.is_some());
    if let Some(type_id) = &app.type_id
        && let Some(t) = catalogue_type::Entity::find_by_id(type_id.clone()).one(db).await?
    {
        // Administrators may have taken the chosen medium off sale since step ①.
        need("medium", app.medium.as_deref().is_some_and(|m| t.media.split(',').any(|x| x == m)));
        for kind in t.documents.split(',').filter_map(DocumentKind::parse) {
            let have = application_document::Entity::find()
                .filter(application_document::Column::ApplicationId.eq(app.id.clone()))
                .filter(application_document::Column::Kind.eq(kind.as_str()))
                .count(db)
                .await?
                > 0;
            if !have {
                e.push(FieldError { field: kind.as_str().into(), error: ValidationError::Required });
            }
        }
    }
    Ok(e)
}

/// The holder's name as the certificate will carry it (its commonName: the unit's, or the
/// person's), the holder's e-mail lower-cased, the operator's phone and ID number, from the
/// certificate-info and operator steps as stored.
fn lookup_columns(certificate_info: &Option<String>, operator: &Option<String>) -> [Option<String>; 4] {
    let info = parse::<CertificateInfo>(certificate_info);
    let op = parse::<OperatorInfo>(operator);
    // Only the holder's e-mail becomes a public search key, never the operator's own.
    let email = info.as_ref().and_then(|i| i.email.as_ref().map(|e| e.to_string()));
    [
        info.map(|i| i.holder.common_name().to_owned()),
        email.map(|e| e.to_lowercase()),
        op.as_ref().map(|o| o.mobile.to_string()),
        op.map(|o| o.id_number.to_string()),
    ]
}

/// 业务受理号: `BH` + date + 6 random digits (unique; retried on a collision).
fn acceptance_number(now: DateTime<Utc>) -> Result<String, AppError> {
    let n = u32::from_le_bytes(super::random_bytes::<4>()?) % 1_000_000;
    Ok(format!("BH{}{n:06}", now.format("%Y%m%d")))
}

/// ⑦ 提交审核: a complete draft, or a fixed rejected application, goes to the review queue.
/// Scan-to-pay customers must have paid (step ⑥); settlement customers are billed on
/// their monthly statement.
pub async fn submit(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    account_id: &str,
    id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<application::Model, AppError> {
    let app = own(db, account_id, id).await?;
    let from = status(&app);
    if !from.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let errors = missing(db, &app).await?;
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if app.billing_mode != BillingMode::Settlement.as_str() && !super::payment::is_paid(db, &app).await? {
        return Err(ErrorCode::PaymentRequired.into());
    }
    let to =
        if from == ApplicationStatus::Rejected { ApplicationStatus::Resubmitted } else { ApplicationStatus::Submitted };
    // What the public lookups (status search, progress) match on, as submitted, written by
    // the same UPDATE that moves the status.
    let [name, email, mobile, id_number] = lookup_columns(&app.certificate_info, &app.operator);
    for _ in 0..10 {
        let number = match &app.acceptance_no {
            Some(n) => n.clone(),
            None => acceptance_number(now)?,
        };
        // The status change and its audit row together; a taken number rolls back and tries
        // another.
        let txn = db.begin().await?;
        let res = exec(
            &txn,
            "UPDATE application SET status = $3, acceptance_no = $4, step = 7, submitted_at = $5, updated_at = $5, \
             search_name = $6, search_email = $7, operator_mobile = $8, operator_id_number = $9 \
             WHERE id = $1 AND status = $2",
            vec![
                app.id.clone().into(),
                from.as_str().into(),
                to.as_str().into(),
                number.clone().into(),
                now.into(),
                name.clone().into(),
                email.clone().into(),
                mobile.clone().into(),
                id_number.clone().into(),
            ],
        )
        .await;
        match res {
            Ok(r) if r.rows_affected() == 1 => {
                audit::append(
                    &txn,
                    key,
                    Event {
                        actor: &audit::customer(account_id),
                        action: "application_submitted",
                        subject: &number,
                        ip: &meta.ip,
                        detail: serde_json::json!({ "application": app.id, "status": to.as_str() }),
                    },
                )
                .await?;
                txn.commit().await?;
                return own(db, account_id, id).await;
            }
            Ok(_) => return Err(ErrorCode::NotEditable.into()),
            Err(e)
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) && app.acceptance_no.is_none() =>
            {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Internal(anyhow::anyhow!("no free acceptance number after 10 tries")))
}

/// The review queue: applications waiting for review, oldest first. `filter` narrows it to
/// one of the waiting statuses; no other status is listed (a draft is the customer's own
/// business, a decided request waits for nobody). Requests made with the reviewer's own
/// phone are not theirs to review, so they are left out.
pub async fn queue(
    db: &impl ConnectionTrait,
    filter: Option<ApplicationStatus>,
    reviewer: &crate::entity::staff::Model,
) -> Result<Vec<application::Model>, AppError> {
    let statuses: Vec<&str> = match filter {
        Some(s) if s.awaiting_review() => vec![s.as_str()],
        Some(_) => return Err(field("status", ValidationError::OutOfRange)),
        None => vec![ApplicationStatus::Submitted.as_str(), ApplicationStatus::Resubmitted.as_str()],
    };
    let mut rows = application::Entity::find()
        .filter(application::Column::Status.is_in(statuses))
        .order_by_asc(application::Column::SubmittedAt)
        .all(db)
        .await?;
    if let Some(own) = own_account(db, reviewer).await? {
        rows.retain(|a| !made_with(a, &own));
    }
    Ok(rows)
}

/// A staff member's own phone and the customer account registered with it, if any.
struct OwnPhone {
    mobile: String,
    account_id: Option<String>,
}

async fn own_account(
    db: &impl ConnectionTrait,
    reviewer: &crate::entity::staff::Model,
) -> Result<Option<OwnPhone>, AppError> {
    let Some(mobile) = reviewer.mobile.clone() else { return Ok(None) };
    let account_id =
        account::Entity::find().filter(account::Column::Mobile.eq(mobile.as_str())).one(db).await?.map(|a| a.id);
    Ok(Some(OwnPhone { mobile, account_id }))
}

/// Made with this phone: by the account registered with it, or naming it as the operator's.
fn made_with(a: &application::Model, own: &OwnPhone) -> bool {
    own.account_id.as_deref() == Some(a.account_id.as_str())
        || a.operator_mobile.as_deref() == Some(own.mobile.as_str())
}

/// An application staff may open: one that was submitted at least once (a draft is the
/// customer's own until they submit it).
pub async fn find_submitted(db: &impl ConnectionTrait, id: &str) -> Result<application::Model, AppError> {
    let app = find(db, id).await?;
    if status(&app) == ApplicationStatus::Draft {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(app)
}

/// Working days (Monday to Friday) left of the review promise; negative when overdue.
pub fn working_days_left(submitted: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    use chrono::{Datelike, Weekday};
    let Some(cst) = chrono::FixedOffset::east_opt(8 * 3600) else {
        return REVIEW_WORKING_DAYS;
    };
    let (mut day, today) = (submitted.with_timezone(&cst).date_naive(), now.with_timezone(&cst).date_naive());
    let mut used = 0;
    while day < today {
        day = day.succ_opt().unwrap_or(day);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            used += 1;
        }
    }
    REVIEW_WORKING_DAYS - used
}

/// Any application, for staff.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<application::Model, AppError> {
    application::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or_else(|| ErrorCode::NotFound.into())
}

/// Approves (a download authorization code goes to the operator by SMS) or rejects with a
/// reason per field (the operator is told by SMS to log in and fix it).
#[allow(clippy::too_many_arguments)]
pub async fn review(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    notifier: &Notifier,
    reviewer: &crate::entity::staff::Model,
    id: &str,
    decision: ReviewDecision,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<application::Model, AppError> {
    let app = find_submitted(db, id).await?;
    let from = status(&app);
    if !from.awaiting_review() {
        return Err(ErrorCode::NotEditable.into());
    }
    // Four eyes: nobody decides a request made with their own phone.
    if own_account(db, reviewer).await?.is_some_and(|own| made_with(&app, &own)) {
        return Err(ErrorCode::OwnRequest.into());
    }
    let actor = audit::staff(&reviewer.id);
    let reviewer = actor.as_str();
    let reasons: Vec<FieldReason> = decision
        .reasons
        .into_iter()
        .filter(|r| !r.reason.trim().is_empty())
        .map(|r| FieldReason { field: r.field, reason: r.reason.trim().chars().take(200).collect() })
        .collect();
    if !decision.approve && reasons.is_empty() {
        return Err(field("reasons", ValidationError::Required));
    }
    let code = super::codes::six_digits()? + &super::codes::six_digits()?[..2];
    let (to, code_hash) = if decision.approve {
        (ApplicationStatus::Approved, Some(sha256_hex(&[b"auth code", app.id.as_bytes(), code.as_bytes()])))
    } else {
        (ApplicationStatus::Rejected, None)
    };
    let res = exec(
        db,
        "UPDATE application SET status = $3, reasons = $4, auth_code_hash = $5, decided_at = $6, updated_at = $6, \
         review_round = review_round + 1 WHERE id = $1 AND status = $2",
        vec![
            app.id.clone().into(),
            from.as_str().into(),
            to.as_str().into(),
            json(&reasons)?.into(),
            code_hash.into(),
            now.into(),
        ],
    )
    .await?;
    if res.rows_affected() != 1 {
        return Err(ErrorCode::NotEditable.into());
    }
    let number = app.acceptance_no.clone().unwrap_or_default();
    audit::append(
        db,
        key,
        Event {
            actor: reviewer,
            action: if decision.approve { "application_approved" } else { "application_rejected" },
            subject: &number,
            ip: &meta.ip,
            detail: serde_json::json!({ "application": app.id, "reasons": reasons }),
        },
    )
    .await?;
    if let Some(operator) = parse::<OperatorInfo>(&app.operator) {
        let (template, subject, body) = if decision.approve {
            (
                Template::ApplicationApproved { acceptance_no: number.clone(), auth_code: code.clone() },
                "CertDesk 数字证书下载通知",
                format!(
                    "{}，您好：\n\n您的数字证书申请已审核通过。\n业务受理号：{number}\n下载授权码：{code}\n\n请登录系统，插入介质后凭业务受理号和下载授权码下载证书。\n\nCertDesk",
                    operator.name
                ),
            )
        } else {
            (
                Template::ApplicationRejected { acceptance_no: number.clone() },
                "CertDesk 数字证书申请审核结果",
                format!(
                    "{}，您好：\n\n您的数字证书申请（业务受理号：{number}）未通过审核，请登录系统查看原因，修改后重新提交。\n\nCertDesk",
                    operator.name
                ),
            )
        };
        if let Err(e) = notifier.sms(operator.mobile.as_str(), template).await {
            tracing::warn!(error = %e, "review result SMS not sent");
        }
        // Seed 002 sends the download authorization code by e-mail as well.
        if let Err(e) =
            notifier.email.send_codes(operator.email.as_str(), "review_result", subject, &body, &[code.as_str()]).await
        {
            tracing::warn!(error = %e, "review result e-mail not sent");
        }
    }
    find(db, id).await
}

/// Issues the certificate of an approved application for a CSR, given its acceptance number
/// and authorization code; the application becomes Issued in the same transaction.
/// An approved application named by its acceptance number and download authorization code
/// (20 tries an hour per address, 5 per application), with its profile, certificate
/// information and validity in years.
async fn authorized_download(
    db: &impl ConnectionTrait,
    acceptance_no: &str,
    auth_code: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(application::Model, CertificateProfile, CertificateInfo, i32), AppError> {
    if !super::throttle::take(db, &meta.address_key("auth_code"), 20, chrono::Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let app = application::Entity::find()
        .filter(application::Column::AcceptanceNo.eq(acceptance_no.trim()))
        .one(db)
        .await?
        .ok_or(ErrorCode::AuthCodeInvalid)?;
    // Five tries an hour per application (counted only for numbers that exist).
    if !super::throttle::take(db, &format!("auth_code:{}", app.id), 5, chrono::Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let expected = app.auth_code_hash.clone().unwrap_or_default();
    let given = sha256_hex(&[b"auth code", app.id.as_bytes(), auth_code.trim().as_bytes()]);
    if status(&app) != ApplicationStatus::Approved || !super::same(&expected, &given) {
        return Err(ErrorCode::AuthCodeInvalid.into());
    }
    let t = catalogue_type::Entity::find_by_id(app.type_id.clone().unwrap_or_default())
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let profile = CertificateProfile::from_code(&t.profile).ok_or(ErrorCode::NotFound)?;
    let info: CertificateInfo = parse(&app.certificate_info).ok_or(ErrorCode::StepMissing)?;
    let years = catalogue_validity::Entity::find_by_id(info.validity_id.clone()).one(db).await?.map_or(1, |v| v.years);
    Ok((app, profile, info, years))
}

/// 查询证书 before a download: what will be issued and the key the token must make.
pub async fn download_info(
    db: &impl ConnectionTrait,
    query: &certdesk_shared::apply::DownloadQuery,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<certdesk_shared::apply::DownloadInfo, AppError> {
    let (app, profile, info, years) =
        authorized_download(db, &query.acceptance_no, &query.auth_code, meta, now).await?;
    Ok(certdesk_shared::apply::DownloadInfo {
        common_name: info.holder.common_name().to_owned(),
        profile,
        key_algorithm: profile.token_key(),
        validity_years: u32::try_from(years).unwrap_or(1),
        medium: chosen_medium(&app)?,
    })
}

/// The medium chosen in step ①.
fn chosen_medium(app: &application::Model) -> Result<Medium, AppError> {
    app.medium.as_deref().and_then(Medium::parse).ok_or_else(|| ErrorCode::StepMissing.into())
}

#[allow(clippy::too_many_arguments)]
pub async fn issue_for_csr(
    db: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    req: &certdesk_shared::apply::IssueForCsr,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<crate::ca::issue::Issued, AppError> {
    let (acceptance_no, auth_code, csr) = (req.acceptance_no.as_str(), req.auth_code.as_str(), req.csr_pem.as_bytes());
    // A medium number is the token's serial: short printable text.
    let medium_no = req.medium_no.as_deref().map(str::trim).filter(|m| !m.is_empty());
    if medium_no.is_some_and(|m| m.len() > 64 || !m.chars().all(|c| c.is_ascii_graphic())) {
        return Err(ErrorCode::MalformedJson.into());
    }
    let (app, profile, info, years) = authorized_download(db, acceptance_no, auth_code, meta, now).await?;
    // The medium chosen in step ① (and paid for, and posted): a UKey application is not
    // downloaded into a PC soft shield, nor the other way round.
    if Medium::of_token(req.medium_kind) != chosen_medium(&app)? {
        return Err(ErrorCode::MediumMismatch.into());
    }
    // A medium holding another account's valid certificate is not this customer's to claim:
    // 证书解锁 trusts the medium's owners.
    if let Some(m) = medium_no {
        let taken = query_one(
            db,
            "SELECT 1 AS one FROM certificate c JOIN application a ON a.certificate_uid = c.uid \
             WHERE c.medium_no = $1 AND c.status <> 'revoked' AND a.account_id <> $2 LIMIT 1",
            vec![m.into(), app.account_id.clone().into()],
        )
        .await?;
        if taken.is_some() {
            return Err(ErrorCode::MediumTaken.into());
        }
    }
    let subject = crate::ca::profile::Subject::of_holder(&info, app.acceptance_no.clone());
    let txn = db.begin().await?;
    let moved = exec(
        &txn,
        "UPDATE application SET status = 'issued', updated_at = $2 WHERE id = $1 AND status = 'approved'",
        vec![app.id.clone().into(), now.into()],
    )
    .await?
    .rows_affected();
    if moved != 1 {
        return Err(ErrorCode::AuthCodeInvalid.into());
    }
    let req = crate::ca::issue::IssueRequest { profile, subject: &subject, csr, validity_days: 365 * years as u32 };
    let issued = crate::ca::issue::issue(&txn, ca, &req).await?;
    exec(
        &txn,
        "UPDATE application SET certificate_uid = $2 WHERE id = $1",
        vec![app.id.clone().into(), issued.uid.clone().into()],
    )
    .await?;
    exec(
        &txn,
        "UPDATE certificate SET email = $2, medium_no = $3 WHERE uid = $1",
        vec![issued.uid.clone().into(), app.search_email.clone().into(), medium_no.map(str::to_owned).into()],
    )
    .await?;
    audit::append(
        &txn,
        key,
        Event {
            actor: &audit::customer(&app.account_id),
            action: "certificate_issued",
            subject: acceptance_no.trim(),
            ip: &meta.ip,
            detail: serde_json::json!({ "application": app.id, "certificate": issued.uid, "serial": issued.serial }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(issued)
}

/// Sets a customer's billing mode (administrators keep the list of settlement customers).
pub async fn set_billing(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    account_id: &str,
    mode: BillingMode,
    ip: &str,
) -> Result<(), AppError> {
    let code = mode.as_str();
    let a = account::Entity::find_by_id(account_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    exec(db, "UPDATE account SET billing_mode = $2 WHERE id = $1", vec![account_id.into(), code.into()]).await?;
    let detail = serde_json::json!({ "from": a.billing_mode, "to": code });
    audit::append(db, key, Event { actor, action: "billing_changed", subject: &a.id, ip, detail }).await?;
    Ok(())
}

/// Administrators find a customer account by its phone number (the user name) to set its
/// billing mode.
pub async fn find_account_billing(
    db: &impl ConnectionTrait,
    mobile: &str,
) -> Result<Vec<certdesk_shared::apply::AccountBilling>, AppError> {
    let found = account::Entity::find().filter(account::Column::Mobile.eq(mobile.trim())).all(db).await?;
    Ok(found
        .into_iter()
        .map(|a| certdesk_shared::apply::AccountBilling {
            billing: billing(&a),
            id: a.id,
            mobile: a.mobile,
            name: a.name,
            org_name: a.org_name,
        })
        .collect())
}

/// Approved applications to be posted that have no tracking number yet, oldest first.
pub async fn awaiting_shipment(db: &impl ConnectionTrait) -> Result<Vec<application::Model>, AppError> {
    let statuses = [ApplicationStatus::Approved.as_str(), ApplicationStatus::Issued.as_str()];
    let apps = application::Entity::find()
        .filter(application::Column::Status.is_in(statuses))
        .filter(application::Column::TrackingNo.is_null())
        .order_by_asc(application::Column::SubmittedAt)
        .all(db)
        .await?;
    Ok(apps
        .into_iter()
        .filter(|a| {
            parse::<DeliveryInfo>(&a.delivery).is_some_and(|d| d.method == certdesk_shared::apply::DeliveryMethod::Post)
        })
        .collect())
}

/// The printable application form (数字证书申请表, seed 002 step 5, seed 003 step 2): every
/// field of the application, with lines for the seal and the operator's signature.
pub async fn form_pdf(db: &impl ConnectionTrait, app: &application::Model) -> Result<Vec<u8>, AppError> {
    use crate::pdf::{Page, document};
    let v = view(db, app).await?;
    let type_name = match &app.type_id {
        Some(t) => catalogue_type::Entity::find_by_id(t.clone()).one(db).await?.map(|t| t.name).unwrap_or_default(),
        None => String::new(),
    };
    let medium = match v.choose_type.as_ref().map(|c| c.medium) {
        Some(Medium::Ukey) => "UKey",
        Some(Medium::PcShield) => "PC软盾",
        Some(Medium::MobileShield) => "移动软盾",
        None => "",
    };
    let info = v.certificate_info.as_ref();
    let op = v.operator.as_ref();
    let d = v.delivery.as_ref();
    let or_dash = |s: Option<String>| s.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into());
    let rows: Vec<(&str, String)> = vec![
        ("业务受理号", or_dash(v.acceptance_no.clone())),
        ("业务类型", "证书新办".into()),
        ("证书类型", or_dash(Some(type_name))),
        ("介质类型", or_dash(Some(medium.into()))),
        ("证书有效期 / 金额", v.price_fen.map_or("—".into(), |p| format!("{}元", certdesk_shared::apply::yuan(p)))),
        (
            match info.map(|i| i.holder.kind()) {
                Some(HolderKind::Person) => "姓名",
                Some(HolderKind::LegalPerson) => "法定代表人姓名",
                _ => "单位名称（全称）",
            },
            or_dash(info.map(|i| i.holder.common_name().to_owned())),
        ),
        ("证件类型", or_dash(info.and_then(|i| i.holder.id()).map(|d| d.id_type().name_zh().to_owned()))),
        ("证件号码", or_dash(info.and_then(|i| i.holder.id()).map(|d| d.number().to_owned()))),
        ("单位名称（全称）", or_dash(info.and_then(|i| i.holder.organisation()).map(|(o, _)| o.to_string()))),
        ("统一社会信用代码", or_dash(info.and_then(|i| i.holder.organisation()).map(|(_, c)| c.to_string()))),
        ("省份 / 城市", or_dash(info.map(|i| format!("{} {}", i.province, i.city)))),
        ("电子邮箱", or_dash(info.and_then(|i| i.email.as_ref().map(|e| e.to_string())))),
        ("经办人姓名", or_dash(op.map(|o| o.name.to_string()))),
        ("经办人证件类型", "居民身份证".into()),
        ("经办人证件号码", or_dash(op.map(|o| o.id_number.to_string()))),
        ("经办人手机号码", or_dash(op.map(|o| o.mobile.to_string()))),
        ("经办人电子邮箱", or_dash(op.map(|o| o.email.to_string()))),
        ("单位联系电话", or_dash(op.and_then(|o| o.unit_phone.clone()))),
        ("经办人联系地址", or_dash(op.and_then(|o| o.address.clone()))),
        (
            "证书领取方式",
            match d.map(|d| d.method) {
                Some(certdesk_shared::apply::DeliveryMethod::Post) => "邮寄配送".into(),
                Some(certdesk_shared::apply::DeliveryMethod::Counter) => "营业厅领取".into(),
                None => "—".into(),
            },
        ),
        ("收件人", or_dash(d.and_then(|d| d.recipient_name.as_ref().map(|n| n.to_string())))),
        ("收件地址", or_dash(d.and_then(|d| d.address.clone()))),
    ];
    let mut page = Page::default();
    page.text(200.0, 790.0, 20.0, "数字证书申请表");
    page.text(50.0, 760.0, 10.0, "请核对以下信息，打印后加盖单位公章，经办人签字，扫描后在“资料上传”中上传。");
    let y = page.table(745.0, &rows);
    page.text(50.0, y - 40.0, 12.0, "单位盖章：");
    page.text(320.0, y - 40.0, 12.0, "经办人签字：");
    page.text(320.0, y - 80.0, 12.0, "日期：      年    月    日");
    page.text(50.0, 40.0, 9.0, &format!("CertDesk · 生成于 {}", Utc::now().format("%Y-%m-%d %H:%M UTC")));
    Ok(document("数字证书申请表", &[page]))
}

/// Records the courier and tracking number of a posted certificate (邮寄).
pub async fn ship(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    actor: &str,
    id: &str,
    courier: &str,
    tracking_no: &str,
    meta: &ClientMeta,
) -> Result<application::Model, AppError> {
    let (courier, tracking_no) = (courier.trim(), tracking_no.trim());
    let mut errors = Vec::new();
    for (f, v) in [("courier", courier), ("tracking_no", tracking_no)] {
        if v.is_empty() {
            errors.push(FieldError { field: f.into(), error: ValidationError::Required });
        } else if v.chars().count() > 40 {
            errors.push(FieldError { field: f.into(), error: ValidationError::TooLong });
        }
    }
    invalid(errors)?;
    let app = find(db, id).await?;
    if !matches!(status(&app), ApplicationStatus::Approved | ApplicationStatus::Issued) {
        return Err(ErrorCode::NotEditable.into());
    }
    let mut active: application::ActiveModel = app.clone().into();
    active.courier = Set(Some(courier.into()));
    active.tracking_no = Set(Some(tracking_no.into()));
    active.shipped_at = Set(Some(Utc::now()));
    let updated = application::Entity::update(active).exec(db).await?;
    let detail = serde_json::json!({ "application": app.id, "courier": courier, "tracking_no": tracking_no });
    let subject = app.acceptance_no.clone().unwrap_or_default();
    audit::append(db, key, Event { actor, action: "shipped", subject: &subject, ip: &meta.ip, detail }).await?;
    Ok(updated)
}

/// 邮寄查询: the customer's posted certificates.
pub async fn shipments(
    db: &impl ConnectionTrait,
    account_id: &str,
) -> Result<Vec<certdesk_shared::apply::Shipment>, AppError> {
    let apps = application::Entity::find()
        .filter(application::Column::AccountId.eq(account_id))
        .filter(application::Column::TrackingNo.is_not_null())
        .order_by_desc(application::Column::ShippedAt)
        .all(db)
        .await?;
    Ok(apps
        .into_iter()
        .map(|a| certdesk_shared::apply::Shipment {
            common_name: parse::<CertificateInfo>(&a.certificate_info)
                .map(|i| i.holder.common_name().to_owned())
                .unwrap_or_default(),
            application_id: a.id,
            acceptance_no: a.acceptance_no,
            courier: a.courier.unwrap_or_default(),
            tracking_no: a.tracking_no.unwrap_or_default(),
            shipped_at: a.shipped_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn five_working_days_skip_the_weekend() {
        // Friday 2026-11-20, 10:00 in Beijing.
        let submitted = Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap();
        assert_eq!(working_days_left(submitted, submitted), 5);
        let monday = Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap();
        assert_eq!(working_days_left(submitted, monday), 4);
        let next_friday = Utc.with_ymd_and_hms(2026, 11, 27, 2, 0, 0).unwrap();
        assert_eq!(working_days_left(submitted, next_friday), 0);
        let next_monday = Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap();
        assert_eq!(working_days_left(submitted, next_monday), -1);
    }

    #[test]
    fn acceptance_numbers_carry_the_date() {
        let n = acceptance_number(Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()).unwrap();
        assert!(n.starts_with("BH20261121") && n.len() == 16, "{n}");
    }
}
