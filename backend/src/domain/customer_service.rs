//! 客服 (customer service): find a customer by phone, acceptance number or name; read their
//! requests, certificates, the messages they were sent (codes masked, live or not) and the
//! notes on their requests; send a new download authorization code; record a note. Every
//! look-up of a customer's data is in the audit trail, with who looked.

use certdesk_shared::account::mask_middle;
use certdesk_shared::admin::{
    CustomerColumn, CustomerFile, CustomerQuery, CustomerSummary, NOTE_MAX_CHARS, NewRequestNote, Page, RequestNote,
    SentMessage,
};
use certdesk_shared::apply::OperatorInfo;
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use super::audit::{self, AuditKey, Event};
use super::paging::{ListAsk, fetch, refuse};
use super::request::{find, parse};
use super::{ClientMeta, new_id};
use crate::entity::request::{Kind, Status};
use crate::entity::{account, outbox_message, request, request_note, staff};
use crate::error::AppError;
use crate::notify::Notifier;

/// The most messages a customer's file shows.
const MESSAGES: u64 = 100;
/// New download authorization codes for one request, per hour.
const CODES_PER_HOUR: i32 = 3;

fn summary(a: &account::Model) -> CustomerSummary {
    CustomerSummary {
        id: a.id.clone(),
        mobile: a.mobile.clone(),
        kind: a.kind.clone(),
        name: a.name.clone(),
        org_name: a.org_name.clone(),
        registered_at: a.created_at.to_rfc3339(),
    }
}

/// The customers `q` names: the account with that phone or whose requests name it as the
/// operator's; the account of that acceptance number; the accounts whose person or unit has
/// that whole name, or whose requests' holder has. Audited (`customer_searched`) with the
/// words searched, found or not.
pub async fn search(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    member: &staff::Model,
    query: &CustomerQuery,
    meta: &ClientMeta,
) -> Result<Page<CustomerSummary>, AppError> {
    let mut errors = Vec::new();
    let ask = ListAsk::<CustomerColumn>::parse(query, &[], &mut errors);
    let q = query.q.trim();
    if q.is_empty() {
        errors.push(FieldError { field: "q".into(), error: ValidationError::Required });
    } else if q.contains(['*', '%', '_', '?']) && !errors.iter().any(|e| e.field == "q") {
        errors.push(FieldError { field: "q".into(), error: ValidationError::Wildcard });
    }
    refuse(errors)?;
    // Accounts named by their requests: an operator's phone, an acceptance number, a holder.
    let by_request = Query::select()
        .column(request::Column::AccountId)
        .from(request::Entity)
        .cond_where(super::request::matching(q))
        .to_owned();
    let find = account::Entity::find().filter(
        Condition::any()
            .add(account::Column::Mobile.eq(q))
            .add(account::Column::Name.eq(q))
            .add(account::Column::OrgName.eq(q))
            .add(account::Column::Id.in_subquery(by_request)),
    );
    let column = match ask.sort.column {
        CustomerColumn::RegisteredAt => account::Column::CreatedAt,
        CustomerColumn::Mobile => account::Column::Mobile,
    };
    let (found, total) = fetch(db, find, column, ask.order(), account::Column::Id, ask.paging).await?;
    let detail = serde_json::json!({
        "q": q,
        "page": ask.paging.page,
        "found": found.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
    });
    let actor = audit::staff(&member.id);
    audit::append(db, key, Event { actor: &actor, action: "customer_searched", subject: q, ip: &meta.ip, detail })
        .await?;
    Ok(ask.paging.page(found.iter().map(summary).collect(), total))
}

/// One customer's file. Audited (`customer_viewed`, the account's phone as the object).
pub async fn file(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    member: &staff::Model,
    account_id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<CustomerFile, AppError> {
    let a = account::Entity::find_by_id(account_id.to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let rows = request::Entity::find()
        .filter(request::Column::AccountId.eq(a.id.as_str()))
        .order_by_desc(request::Column::CreatedAt)
        .all(db)
        .await?;
    let mut requests = Vec::with_capacity(rows.len());
    for r in &rows {
        requests.push(super::request::view(db, r).await?);
    }
    let mut certificates = Vec::new();
    for h in super::my_certificates::holdings(db, &a.id, None).await? {
        certificates.push(super::staff_revocation::certificate_view(db, h.certificate, member, now).await?);
    }
    // What went to the account's phone, and what went to an operator its requests name about
    // one of its own requests (an operator may act for other customers too: theirs stay out).
    let mut phones: Vec<String> = rows.iter().filter_map(|r| r.operator_mobile.clone()).collect();
    phones.push(a.mobile.clone());
    phones.sort();
    phones.dedup();
    let numbers: Vec<&str> = rows.iter().filter_map(|r| r.acceptance_no.as_deref()).collect();
    let messages = outbox_message::Entity::find()
        .filter(outbox_message::Column::Recipient.is_in(phones))
        .order_by_desc(outbox_message::Column::CreatedAt)
        .limit(MESSAGES)
        .all(db)
        .await?
        .into_iter()
        .filter(|m| m.recipient == a.mobile || numbers.iter().any(|n| m.body.contains(n)))
        .map(|m| SentMessage {
            body: crate::notify::sms::without_codes(&m.template, &m.body),
            channel: m.channel,
            recipient: m.recipient,
            template: m.template,
            sent_at: m.created_at.to_rfc3339(),
        })
        .collect();
    let notes = notes_of(db, &a.id, &rows).await?;
    let actor = audit::staff(&member.id);
    let detail = serde_json::json!({ "account": a.id });
    audit::append(
        db,
        key,
        Event { actor: &actor, action: "customer_viewed", subject: &a.mobile, ip: &meta.ip, detail },
    )
    .await?;
    Ok(CustomerFile { customer: summary(&a), requests, certificates, messages, notes })
}

async fn notes_of(
    db: &impl ConnectionTrait,
    account_id: &str,
    requests: &[request::Model],
) -> Result<Vec<RequestNote>, AppError> {
    let rows = request_note::Entity::find()
        .filter(request_note::Column::AccountId.eq(account_id))
        .order_by_desc(request_note::Column::CreatedAt)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for n in rows {
        let author = staff::Entity::find_by_id(n.staff_id.clone()).one(db).await?.map(|s| s.display_name);
        out.push(RequestNote {
            acceptance_no: requests.iter().find(|r| r.id == n.request_id).and_then(|r| r.acceptance_no.clone()),
            request_id: n.request_id,
            author: author.unwrap_or_default(),
            text: n.text,
            created_at: n.created_at.to_rfc3339(),
        });
    }
    Ok(out)
}

/// Records a note on a request, with the change in the audit trail (`request_noted`).
pub async fn add_note(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    member: &staff::Model,
    request_id: &str,
    note: &NewRequestNote,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<RequestNote, AppError> {
    let text = note.text.trim();
    if text.is_empty() {
        return Err(AppError::field("text", ValidationError::Required));
    }
    if text.chars().count() > NOTE_MAX_CHARS {
        return Err(AppError::field("text", ValidationError::TooLong));
    }
    let r = find(db, request_id).await?;
    let txn = crate::db::begin_write(db).await?;
    let row = request_note::ActiveModel {
        id: Set(new_id()),
        request_id: Set(r.id.clone()),
        account_id: Set(r.account_id.clone()),
        staff_id: Set(member.id.clone()),
        text: Set(text.to_owned()),
        created_at: Set(now),
    };
    request_note::Entity::insert(row).exec_without_returning(&txn).await?;
    let actor = audit::staff(&member.id);
    let subject = r.acceptance_no.clone().unwrap_or_else(|| r.id.clone());
    let detail = serde_json::json!({ "request": r.id, "text": text });
    audit::append(&txn, key, Event { actor: &actor, action: "request_noted", subject: &subject, ip: &meta.ip, detail })
        .await?;
    txn.commit().await?;
    Ok(RequestNote {
        request_id: r.id,
        acceptance_no: r.acceptance_no,
        author: member.display_name.clone(),
        text: text.to_owned(),
        created_at: now.to_rfc3339(),
    })
}

/// A new download authorization code for an approved 新办 not yet downloaded: the old code
/// stops working in the same commit, and the new one goes to the operator's phone and
/// e-mail only (staff never see it). At most [`CODES_PER_HOUR`] per request and hour.
/// Answers the phone it went to, masked; `unavailable` when the SMS gateway did not take it
/// (the old code is gone all the same: another try sends another).
#[allow(clippy::too_many_arguments)]
pub async fn resend_download_code(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    notifier: &Notifier,
    member: &staff::Model,
    request_id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let r = find(db, request_id).await?;
    if r.kind != Kind::Apply || r.status != Status::Approved {
        return Err(ErrorCode::NotEditable.into());
    }
    let operator: OperatorInfo = parse(&r.operator).ok_or(ErrorCode::NotEditable)?;
    if !super::throttle::take(db, &format!("resend_code:{}", r.id), CODES_PER_HOUR, Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let (code, hash) = super::review::new_auth_code(&r.id)?;
    let txn = crate::db::begin_write(db).await?;
    // Only over the code this request was seen with: of two resends at once, one wins and the
    // other is refused, so the code the operator was last sent is the one that works.
    let seen = match r.auth_code_hash.as_deref() {
        Some(h) => request::Column::AuthCodeHash.eq(h),
        None => request::Column::AuthCodeHash.is_null(),
    };
    let changed = request::Entity::update_many()
        .col_expr(request::Column::AuthCodeHash, Expr::value(hash))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(r.id.as_str()))
        .filter(request::Column::Status.eq(Status::Approved))
        .filter(seen)
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(ErrorCode::NotEditable.into());
    }
    let number = r.acceptance_no.clone().unwrap_or_default();
    let actor = audit::staff(&member.id);
    let detail = serde_json::json!({ "request": r.id, "to": mask_middle(operator.mobile.as_str()) });
    audit::append(
        &txn,
        key,
        Event { actor: &actor, action: "download_code_resent", subject: &number, ip: &meta.ip, detail },
    )
    .await?;
    txn.commit().await?;
    // The old code is gone with the commit: a new code the gateway did not take is said, so
    // that staff send another rather than tell the customer one is on its way.
    if !super::review::tell_applicant(notifier, &r, true, &number, &code).await {
        return Err(ErrorCode::Unavailable.into());
    }
    Ok(mask_middle(operator.mobile.as_str()))
}
