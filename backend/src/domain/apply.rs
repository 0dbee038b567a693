//! New certificate (证书新办): the wizard's drafts saved step by step, document
//! uploads checked by content, submission with an acceptance number, staff review (approve,
//! or reject with a reason per field), fixing and resubmitting, and issuance for a CSR with
//! the download authorization code sent by SMS at approval.
//!
//! The application's status moves only by conditional UPDATEs (`WHERE status = <seen>`), so
//! two reviewers, or a reviewer and a resubmitting customer, cannot both move it.

use certdesk_shared::apply::{
    BillingMode, CertificateInfo, ChooseType, DeliveryInfo, DocumentKind, DocumentView, FileType, HolderKind, Medium,
    OperatorInfo, check_document,
};
use certdesk_shared::certificate::CertificateProfile;
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};
use sha2::Digest;

use super::audit::{self, AuditKey, Event};
use super::request::{json, own, parse};
use super::{ClientMeta, exec, invalid, new_id};
use crate::entity::request::{self, Kind, Status};
use crate::entity::{account, catalogue_type, catalogue_validity, request_document};
use crate::error::AppError;
use certdesk_shared::Named;

/// Review promise: 5 working days (提交审核后…在5个工作日内对材料进行审核).
pub const REVIEW_WORKING_DAYS: i64 = 5;

fn billing(a: &account::Model) -> BillingMode {
    super::request::billing_of(&a.billing_mode)
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
) -> Result<request::Model, AppError> {
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
    let model = request::Model {
        id: new_id(),
        account_id: a.id.clone(),
        acceptance_no: None,
        kind: Kind::Apply,
        status: Status::Draft,
        step: 1,
        billing_mode: a.billing_mode.clone(),
        type_id: None,
        medium: None,
        choose_type: None,
        certificate_info: None,
        operator: None,
        delivery: None,
        ships_by_post: false,
        price_fen: None,
        reasons: "[]".into(),
        auth_code_hash: None,
        from_certificate_uid: None,
        certificate_uid: None,
        payload: None,
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
    let active: request::ActiveModel = model.clone().into();
    request::Entity::insert(active).exec(db).await?;
    Ok(model)
}

pub async fn list(db: &impl ConnectionTrait, account_id: &str) -> Result<Vec<request::Model>, AppError> {
    Ok(request::Entity::find()
        .filter(request::Column::AccountId.eq(account_id))
        .order_by_desc(request::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<request::Model, AppError> {
    own(db, account_id, id).await
}

/// The statuses in which the customer may change an application.
const EDITABLE: [Status; 2] = [Status::Draft, Status::Rejected];

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
) -> Result<request::Model, AppError> {
    let app = own(db, account_id, id).await?;
    // A 证书变更's holder and operator are saved by `domain::change`, with its own checks.
    if matches!(app.kind, Kind::Change | Kind::OperatorChange) {
        return Err(ErrorCode::NotFound.into());
    }
    if !app.status.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let paid = super::payment::has_payment(db, &app.id).await?;
    let mut active: request::ActiveModel = app.clone().into();
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
                .and_then(|t| CertificateProfile::parse(&t.profile))
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
            active.ships_by_post = Set(d.method == certdesk_shared::apply::DeliveryMethod::Post);
            5
        }
        Step::ChallengePhrase(phrase) => {
            certdesk_shared::directory::check_challenge_phrase(&phrase).map_err(|e| field("challenge_phrase", e))?;
            if super::password::is_common(&phrase) {
                return Err(field("challenge_phrase", ValidationError::ChallengePhraseCommon));
            }
            active.challenge_hash = Set(Some(super::password::hash(phrase).await?));
            app.step - 1
        }
    };
    active.step = Set(app.step.max(number + 1));
    active.updated_at = Set(now);
    // Only while still editable: a save racing a submission or a review loses.
    request::Entity::update(active).filter(request::Column::Status.is_in(EDITABLE)).exec(db).await.map_err(
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
    if !app.status.editable() {
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
    let txn = crate::db::begin_write(db).await?;
    let still_editable = exec(
        &txn,
        "UPDATE request SET updated_at = $2 WHERE id = $1 AND status IN ('draft', 'rejected')",
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
            "UPDATE request SET step = 4, updated_at = $2 WHERE id = $1 AND step < 4",
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
        "DELETE FROM request_document WHERE request_id = $1 AND kind = $2",
        vec![application_id.into(), kind.into()],
    )
    .await?;
    request_document::Entity::insert(request_document::ActiveModel {
        id: Set(new_id()),
        request_id: Set(application_id.to_owned()),
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
) -> Result<request_document::Model, AppError> {
    request_document::Entity::find()
        .filter(request_document::Column::RequestId.eq(application_id))
        .filter(request_document::Column::Kind.eq(kind))
        .one(db)
        .await?
        .ok_or_else(|| ErrorCode::NotFound.into())
}

/// A wizard document's bytes, for its owner or a reviewer.
pub async fn document(
    db: &impl ConnectionTrait,
    application_id: &str,
    kind: DocumentKind,
) -> Result<request_document::Model, AppError> {
    stored_file(db, application_id, kind.as_str()).await
}

/// What is still missing before submission, as field errors.
async fn missing(db: &impl ConnectionTrait, app: &request::Model) -> Result<Vec<FieldError>, AppError> {
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
            let have = request_document::Entity::find()
                .filter(request_document::Column::RequestId.eq(app.id.clone()))
                .filter(request_document::Column::Kind.eq(kind.as_str()))
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
) -> Result<request::Model, AppError> {
    let app = own(db, account_id, id).await?;
    if !app.status.editable() {
        return Err(ErrorCode::NotEditable.into());
    }
    let errors = missing(db, &app).await?;
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if app.billing_mode != BillingMode::Settlement.as_str() && !super::payment::is_paid(db, &app).await? {
        return Err(ErrorCode::PaymentRequired.into());
    }
    // What the public lookups (status search, progress) match on, as submitted, written by
    // the same UPDATE that moves the status.
    let [name, email, mobile, id_number] = lookup_columns(&app.certificate_info, &app.operator);
    let sets = vec![
        ("step", 7.into()),
        ("search_name", name.into()),
        ("search_email", email.into()),
        ("operator_mobile", mobile.into()),
        ("operator_id_number", id_number.into()),
    ];
    let actor = audit::customer(account_id);
    super::request::submit(db, key, &app, &actor, "application_submitted", meta, now, sets).await?;
    own(db, account_id, id).await
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

/// The printable application form (数字证书申请表, seed 002 step 5, seed 003 step 2): every
/// field of the application, with lines for the seal and the operator's signature.
pub async fn form_pdf(db: &impl ConnectionTrait, app: &request::Model) -> Result<Vec<u8>, AppError> {
    use crate::pdf::{Page, document};
    // A reissue has its own form (证书补办申请表).
    if app.kind == request::Kind::Reissue {
        return super::reissue::form_pdf(db, app).await;
    }
    let v = super::request::view(db, app).await?;
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
