//! Staff review (审核) of every kind of request: one queue across the kinds, oldest first,
//! with a 业务类型 filter; approve, or reject with a reason per field. Four eyes: nobody
//! decides a request made with their own phone. An approved 新办 gets a download
//! authorization code by SMS and e-mail; an approved request of another kind is fulfilled by
//! its holder, signed in, with the token that holds the certificate.

use certdesk_shared::admin::{Page, QueueColumn, QueueQuery};
use certdesk_shared::apply::{FieldReason, OperatorInfo, ReviewDecision};
use certdesk_shared::request::{RequestKind, RequestStatus};
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait, Value};

use super::audit::{self, AuditKey, Event};
use super::paging::{ListAsk, fetch, refuse};
use super::request::{Transition, advance, find, find_submitted, json, parse};
use super::{ClientMeta, sha256_hex};
use crate::ca::CaService;
use crate::entity::request::{self, Kind, Status};
use crate::entity::{account, staff};
use crate::error::AppError;
use crate::notify::{Notifier, Template};
use certdesk_shared::Named;

/// Review promise: 5 working days (提交审核后…在5个工作日内对材料进行审核).
pub const REVIEW_WORKING_DAYS: i64 = 5;

fn field(field: &str, error: ValidationError) -> AppError {
    AppError::Validation(vec![FieldError { field: field.into(), error }])
}

/// The review queue: requests waiting for review, a page at a time, oldest first unless
/// asked otherwise. `status` narrows it to one of the waiting statuses (no other status is
/// listed: a draft is the customer's own business, a decided request waits for nobody),
/// `kind` to one 业务类型, `q` to the requests it names ([`request::matching`](super::request::matching)).
/// Requests made with the reviewer's own phone are not theirs to review, so they are left out.
pub async fn queue(
    db: &impl ConnectionTrait,
    q: &QueueQuery,
    reviewer: &staff::Model,
) -> Result<Page<request::Model>, AppError> {
    let mut errors = Vec::new();
    let ask = ListAsk::<QueueColumn>::parse(q, &["kind", "status"], &mut errors);
    let statuses: Vec<Status> = match q.status.as_str() {
        "" => vec![Status::Submitted, Status::Resubmitted],
        s => match RequestStatus::parse(s) {
            Some(s) if s.awaiting_review() => vec![s.into()],
            _ => {
                errors.push(FieldError { field: "status".into(), error: ValidationError::OutOfRange });
                Vec::new()
            }
        },
    };
    let kind = match q.kind.as_str() {
        "" => None,
        k => RequestKind::parse(k).or_else(|| {
            errors.push(FieldError { field: "kind".into(), error: ValidationError::OutOfRange });
            None
        }),
    };
    refuse(errors)?;
    let mut find = request::Entity::find().filter(request::Column::Status.is_in(statuses));
    if let Some(k) = kind {
        find = find.filter(request::Column::Kind.eq(Kind::from(k)));
    }
    if let Some(words) = &ask.q {
        find = find.filter(super::request::matching(words));
    }
    if let Some(own) = own_account(db, reviewer).await? {
        // What `made_with` says, in SQL (an operator's phone may be missing).
        let other_operator = Condition::any()
            .add(request::Column::OperatorMobile.is_null())
            .add(request::Column::OperatorMobile.ne(own.mobile.as_str()));
        find = find.filter(other_operator);
        if let Some(account_id) = own.account_id {
            find = find.filter(request::Column::AccountId.ne(account_id));
        }
    }
    let column = match ask.sort.column {
        QueueColumn::SubmittedAt => request::Column::SubmittedAt,
        QueueColumn::AcceptanceNo => request::Column::AcceptanceNo,
        QueueColumn::Kind => request::Column::Kind,
    };
    let (rows, total) = fetch(db, find, column, ask.order(), request::Column::Id, ask.paging).await?;
    Ok(ask.paging.page(rows, total))
}

/// A staff member's own phone and the customer account registered with it, if any.
struct OwnPhone {
    mobile: String,
    account_id: Option<String>,
}

async fn own_account(db: &impl ConnectionTrait, reviewer: &staff::Model) -> Result<Option<OwnPhone>, AppError> {
    let Some(mobile) = reviewer.mobile.clone() else { return Ok(None) };
    let account_id =
        account::Entity::find().filter(account::Column::Mobile.eq(mobile.as_str())).one(db).await?.map(|a| a.id);
    Ok(Some(OwnPhone { mobile, account_id }))
}

/// Made with this phone: by the account registered with it, or naming it as the operator's.
fn made_with(a: &request::Model, own: &OwnPhone) -> bool {
    own.account_id.as_deref() == Some(a.account_id.as_str())
        || a.operator_mobile.as_deref() == Some(own.mobile.as_str())
}

/// Working days (Monday to Friday) left of the review promise; negative when overdue.
pub fn working_days_left(submitted: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    use chrono::{Datelike, Weekday};
    let cst = crate::BEIJING;
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

/// Approves or rejects with a reason per field; the customer is told by SMS (and, for a
/// 新办, by e-mail with the download authorization code).
#[allow(clippy::too_many_arguments)]
pub async fn review(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    notifier: &Notifier,
    ca: &CaService,
    reviewer: &staff::Model,
    id: &str,
    decision: ReviewDecision,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    let app = find_submitted(db, id).await?;
    if !app.status.awaiting_review() {
        return Err(ErrorCode::NotEditable.into());
    }
    // Four eyes: nobody decides a request made with their own phone.
    if own_account(db, reviewer).await?.is_some_and(|own| made_with(&app, &own)) {
        return Err(ErrorCode::OwnRequest.into());
    }
    let actor = audit::staff(&reviewer.id);
    let reasons: Vec<FieldReason> = decision
        .reasons
        .into_iter()
        .filter(|r| !r.reason.trim().is_empty())
        .map(|r| FieldReason { field: r.field, reason: r.reason.trim().chars().take(200).collect() })
        .collect();
    if !decision.approve && reasons.is_empty() {
        return Err(field("reasons", ValidationError::Required));
    }
    // Only a 新办 is downloaded with an authorization code: the other kinds are fulfilled
    // by their signed-in holder with the token that holds the certificate.
    let (code, hash) = new_auth_code(&app.id)?;
    let code_hash = (decision.approve && app.kind == Kind::Apply).then_some(hash);
    let t = if decision.approve { Transition::Approve } else { Transition::Reject };
    let sets: Vec<(&str, Value)> = vec![
        ("reasons", json(&reasons)?.into()),
        ("auth_code_hash", code_hash.into()),
        ("decided_at", now.into()),
        ("review_round", (app.review_round + 1).into()),
    ];
    let txn = crate::db::begin_write(db).await?;
    if !advance(&txn, &app.id, app.status, t, now, sets).await? {
        return Err(ErrorCode::NotEditable.into());
    }
    let number = app.acceptance_no.clone().unwrap_or_default();
    let action = match (app.kind, decision.approve) {
        (Kind::Apply, true) => "application_approved",
        (Kind::Apply, false) => "application_rejected",
        (_, true) => "request_approved",
        (_, false) => "request_rejected",
    };
    let detail =
        serde_json::json!({ "request": app.id, "kind": RequestKind::from(app.kind).as_str(), "reasons": reasons });
    audit::append(&txn, key, Event { actor: &actor, action, subject: &number, ip: &meta.ip, detail }).await?;
    if decision.approve {
        approved(&txn, ca, key, &actor, &app, meta, now).await?;
    }
    txn.commit().await?;
    // An approval that changed a certificate's status (注销) is visible from here on.
    crate::ca::ocsp::status_changed();
    if app.kind == Kind::Apply {
        // A lost SMS is in the log; the approval stands (客服 can send a new code).
        let _ = tell_applicant(notifier, &app, decision.approve, &number, &code).await;
    } else {
        let kind = RequestKind::from(app.kind).name_zh().to_owned();
        // A kind done at its approval (注销) is told it is done, not to come and download.
        let done = find(db, id).await?.status == Status::Done;
        let template = if done {
            Template::RequestDone { kind, acceptance_no: number }
        } else if decision.approve {
            Template::RequestApproved { kind, acceptance_no: number }
        } else {
            Template::RequestRejected { kind, acceptance_no: number }
        };
        tell_holder(db, notifier, &app, template).await;
    }
    find(db, id).await
}

/// What an approval does at once, by kind, in the transaction of the approval (so that an
/// approval is never recorded without it): nothing for the kinds their holder fulfils
/// later with the token (新办, 延期, 变更, 补办).
async fn approved(
    txn: &(impl ConnectionTrait + TransactionTrait),
    ca: &CaService,
    key: &AuditKey,
    actor: &str,
    app: &request::Model,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    match app.kind {
        Kind::Revoke => super::revoke::approved(txn, ca, key, actor, app, meta, now).await,
        Kind::OperatorChange => super::change::operator_approved(txn, key, app, meta, now).await,
        // 补办: the lost or damaged token's certificate is revoked at once.
        Kind::Reissue => super::reissue::approved(txn, ca, key, app, meta).await,
        Kind::Apply | Kind::Renew | Kind::Change => Ok(()),
    }
}

/// The account holder of a request of any kind gets an SMS at their phone of record.
pub(crate) async fn tell_holder(
    db: &impl ConnectionTrait,
    notifier: &Notifier,
    r: &request::Model,
    template: Template,
) {
    match account::Entity::find_by_id(r.account_id.clone()).one(db).await {
        Ok(Some(a)) => {
            if let Err(e) = notifier.sms(&a.mobile, template).await {
                tracing::warn!(error = %e, "request result SMS not sent");
            }
        }
        Ok(None) => tracing::warn!(request = %r.id, "request without its account"),
        Err(e) => tracing::warn!(error = %e, "request result SMS not sent"),
    }
}

/// A new download authorization code for request `id` (8 digits) and the hash it is stored
/// as.
pub(crate) fn new_auth_code(id: &str) -> Result<(String, String), AppError> {
    let code = super::codes::six_digits()? + &super::codes::six_digits()?[..2];
    let hash = sha256_hex(&[b"auth code", id.as_bytes(), code.as_bytes()]);
    Ok((code, hash))
}

/// The review's result to the operator by SMS and e-mail; whether the SMS gateway took it.
pub(crate) async fn tell_applicant(
    notifier: &Notifier,
    app: &request::Model,
    approve: bool,
    number: &str,
    code: &str,
) -> bool {
    let Some(operator) = parse::<OperatorInfo>(&app.operator) else { return false };
    let (template, subject, body) = if approve {
        (
            Template::ApplicationApproved { acceptance_no: number.to_owned(), auth_code: code.to_owned() },
            "CertDesk 数字证书下载通知",
            format!(
                "{}，您好：\n\n您的数字证书申请已审核通过。\n业务受理号：{number}\n下载授权码：{code}\n\n请登录系统，插入介质后凭业务受理号和下载授权码下载证书。\n\nCertDesk",
                operator.name
            ),
        )
    } else {
        (
            Template::ApplicationRejected { acceptance_no: number.to_owned() },
            "CertDesk 数字证书申请审核结果",
            format!(
                "{}，您好：\n\n您的数字证书申请（业务受理号：{number}）未通过审核，请登录系统查看原因，修改后重新提交。\n\nCertDesk",
                operator.name
            ),
        )
    };
    let sent = match notifier.sms(operator.mobile.as_str(), template).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, "review result SMS not sent");
            false
        }
    };
    // Seed 002 sends the download authorization code by e-mail as well.
    let codes: &[&str] = if approve { &[code] } else { &[] };
    if let Err(e) = notifier.email.send_codes(operator.email.as_str(), "review_result", subject, &body, codes).await {
        tracing::warn!(error = %e, "review result e-mail not sent");
    }
    sent
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
}
