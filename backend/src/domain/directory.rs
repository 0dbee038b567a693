//! The public directory (seed 000, seed 003 §1.4): certificate status search by e-mail or
//! exact name, a certificate's detail (its revocation by challenge phrase is `revoke`), the
//! revocation bulletin (注销公告) and the progress lookup (查询服务). Nothing
//! here needs a session; every lookup is counted per address in the counters store
//! ([`Counters`]: shared by every server, never waiting for the disk), and contact data
//! leaves masked.

use certdesk_shared::ErrorCode;
use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use certdesk_shared::directory::{
    BulletinEntry, BulletinPage, CertificateDetail, Progress, ProgressQuery, PublicStatus, SEARCH_LIMIT, SearchHit,
    SearchKey, SearchResults, StatusFilter, mask_email, mask_identifier,
};
use certdesk_shared::request::RequestStatus;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryResult, Value};

use super::sql;
use super::throttle::{self, Counters};
use crate::ca::revoke::{HOLD, REVOKED, VALID};
use crate::entity::{certificate, request};
use crate::error::AppError;
use certdesk_shared::Named;

/// Public lookups per address: 60 a minute (a person searching never gets near it; a
/// crawler walking the directory does).
pub const LOOKUPS_PER_MINUTE: i32 = 60;
/// Progress lookups per address: 20 an hour (each one guesses at personal data).
pub const PROGRESS_PER_HOUR: i32 = 20;
/// Counts one public lookup of `ip`; refused once over the limit.
pub async fn count_lookup(counters: &Counters, ip: &str, now: DateTime<Utc>) -> Result<(), AppError> {
    let bucket = throttle::address_bucket(ip);
    if counters.take(&format!("lookup:ip:{bucket}"), LOOKUPS_PER_MINUTE, Duration::minutes(1), now).await? {
        Ok(())
    } else {
        Err(ErrorCode::RateLimited.into())
    }
}

fn certificate_status(status: &str, not_after: DateTime<Utc>, now: DateTime<Utc>) -> PublicStatus {
    match status {
        REVOKED => PublicStatus::Revoked,
        HOLD => PublicStatus::Suspended,
        _ if not_after <= now => PublicStatus::Expired,
        _ => PublicStatus::Valid,
    }
}

/// The search (seed 000 steps 4–5): certificates, and for Pending / Approved / All also the
/// applications not issued yet. At most [`SEARCH_LIMIT`] results, newest first.
pub async fn search(
    db: &impl ConnectionTrait,
    key: &SearchKey,
    filter: StatusFilter,
    now: DateTime<Utc>,
) -> Result<SearchResults, AppError> {
    let (cert_col, app_col, value) = match key {
        SearchKey::Email(e) => ("email", "search_email", e.clone()),
        SearchKey::Name(n) => ("subject", "search_name", n.clone()),
    };
    let limit = SEARCH_LIMIT as i64 + 1;
    let cert_condition = match filter {
        StatusFilter::Valid => Some(format!("AND status = '{VALID}' AND not_after > $2")),
        StatusFilter::Expired => Some(format!("AND status = '{VALID}' AND not_after <= $2")),
        StatusFilter::Revoked => Some(format!("AND status IN ('{REVOKED}', '{HOLD}') AND $2 = $2")),
        StatusFilter::All => Some("AND $2 = $2".to_owned()),
        StatusFilter::Pending | StatusFilter::Approved => None,
    };
    let app_statuses = match filter {
        StatusFilter::Pending => "'submitted', 'resubmitted'",
        StatusFilter::Approved => "'approved'",
        StatusFilter::All => "'submitted', 'resubmitted', 'approved'",
        _ => "",
    };
    // Certificates, then submitted applications (pending or approved), in one statement: one
    // round trip to the database per search, each part newest first.
    let mut parts = Vec::new();
    if let Some(condition) = cert_condition {
        parts.push(format!(
            "SELECT * FROM (SELECT 0 AS kind, not_before AS sort_at, uid, subject AS name, email, status, profile, not_before, not_after FROM certificate \
             WHERE {cert_col} = $1 {condition} ORDER BY not_before DESC LIMIT $3) AS c"
        ));
    }
    if !app_statuses.is_empty() {
        parts.push(format!(
            "SELECT * FROM (SELECT 1 AS kind, submitted_at AS sort_at, NULL AS uid, search_name AS name, search_email AS email, status, NULL AS profile, \
             CAST(NULL AS timestamptz) AS not_before, CAST(NULL AS timestamptz) AS not_after FROM request \
             WHERE {app_col} = $1 AND status IN ({app_statuses}) AND $2 = $2 ORDER BY submitted_at DESC LIMIT $3) AS a"
        ));
    }
    // UNION ALL promises no order by itself.
    let text = format!("SELECT * FROM ({}) AS r ORDER BY kind, sort_at DESC", parts.join(" UNION ALL "));
    let rows = db.query_all(sql(db, &text, vec![value.into(), now.into(), limit.into()])).await?;
    let mut hits = Vec::new();
    for r in rows {
        let kind: i32 = r.try_get("", "kind")?;
        hits.push(if kind == 0 { hit_of_certificate(&r, now)? } else { hit_of_application(&r)? });
    }
    let truncated = hits.len() > SEARCH_LIMIT;
    hits.truncate(SEARCH_LIMIT);
    Ok(SearchResults { hits, truncated })
}

/// A submitted application: its status only, pending or approved.
fn hit_of_application(r: &QueryResult) -> Result<SearchHit, AppError> {
    let status: String = r.try_get("", "status")?;
    let email: Option<String> = r.try_get("", "email")?;
    let name: Option<String> = r.try_get("", "name")?;
    Ok(SearchHit {
        uid: None,
        name: name.unwrap_or_default(),
        email: email.as_deref().map(mask_email),
        status: if status == "approved" { PublicStatus::Approved } else { PublicStatus::Pending },
        profile: None,
        not_before: None,
        not_after: None,
    })
}

fn hit_of_certificate(r: &QueryResult, now: DateTime<Utc>) -> Result<SearchHit, AppError> {
    let not_before: DateTime<Utc> = r.try_get("", "not_before")?;
    let not_after: DateTime<Utc> = r.try_get("", "not_after")?;
    let status: String = r.try_get("", "status")?;
    let email: Option<String> = r.try_get("", "email")?;
    let profile: String = r.try_get("", "profile")?;
    Ok(SearchHit {
        uid: Some(r.try_get("", "uid")?),
        name: r.try_get("", "name")?,
        email: email.as_deref().map(mask_email),
        status: certificate_status(&status, not_after, now),
        profile: CertificateProfile::parse(&profile),
        not_before: Some(not_before.to_rfc3339()),
        not_after: Some(not_after.to_rfc3339()),
    })
}

pub(crate) async fn find(db: &impl ConnectionTrait, uid: &str) -> Result<certificate::Model, AppError> {
    certificate::Entity::find()
        .filter(certificate::Column::Uid.eq(uid))
        .one(db)
        .await?
        .ok_or_else(|| ErrorCode::NotFound.into())
}

pub(crate) fn detail_of(c: &certificate::Model, now: DateTime<Utc>) -> CertificateDetail {
    // The subject as RFC 4514 text, with a resident ID number (personal certificates carry
    // one) masked: the page is public.
    let subject = x509_parser::parse_x509_certificate(&c.der)
        .map(|(_, x)| {
            x.subject()
                .iter_attributes()
                .map(|a| {
                    let key = x509_parser::objects::oid2abbrev(a.attr_type(), x509_parser::objects::oid_registry())
                        .map(str::to_owned)
                        .unwrap_or_else(|_| a.attr_type().to_id_string());
                    format!("{key}={}", mask_identifier(a.as_str().unwrap_or("")))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    CertificateDetail {
        uid: c.uid.clone(),
        name: c.subject.clone(),
        email: c.email.as_deref().map(mask_email),
        status: certificate_status(&c.status, c.not_after, now),
        profile: CertificateProfile::parse(&c.profile),
        subject,
        serial: c.serial.clone(),
        not_before: c.not_before.to_rfc3339(),
        not_after: c.not_after.to_rfc3339(),
        revoked_at: c.revoked_at.map(|t| t.to_rfc3339()),
        reason: c.reason.and_then(|r| u8::try_from(r).ok()).and_then(RevocationReason::from_code),
    }
}

/// A certificate's detail page (seed 000 step 6).
pub async fn detail(db: &impl ConnectionTrait, uid: &str, now: DateTime<Utc>) -> Result<CertificateDetail, AppError> {
    Ok(detail_of(&find(db, uid).await?, now))
}

pub const BULLETIN_PER_PAGE: u32 = 20;

/// 注销公告: revoked certificates, newest first; `q` is an exact name or a serial (hex,
/// any case, colons allowed).
pub async fn bulletin(db: &impl ConnectionTrait, q: &str, page: u32) -> Result<BulletinPage, AppError> {
    // Deep pages are what a crawler asks for: 500 pages (10,000 entries) back at most.
    let page = page.clamp(1, 500);
    let q = q.trim();
    let (filter, mut values): (&str, Vec<Value>) = if q.is_empty() {
        ("", Vec::new())
    } else {
        let serial: String = q.chars().filter(|c| *c != ':' && !c.is_whitespace()).collect::<String>().to_lowercase();
        ("AND (subject = $1 OR serial = $2)", vec![q.to_owned().into(), serial.into()])
    };
    let n = values.len();
    let total_row = db
        .query_one(sql(
            db,
            &format!("SELECT COUNT(*) AS n FROM certificate WHERE status = '{REVOKED}' {filter}"),
            values.clone(),
        ))
        .await?;
    let total: i64 = match total_row {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    };
    values.push(i64::from(BULLETIN_PER_PAGE).into());
    values.push((i64::from(page - 1) * i64::from(BULLETIN_PER_PAGE)).into());
    let text = format!(
        "SELECT uid, subject, serial, reason, revoked_at FROM certificate WHERE status = '{REVOKED}' {filter} \
         ORDER BY revoked_at DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let rows = db.query_all(sql(db, &text, values)).await?;
    let mut entries = Vec::new();
    for r in rows {
        let reason: Option<i16> = r.try_get("", "reason")?;
        let at: Option<DateTime<Utc>> = r.try_get("", "revoked_at")?;
        entries.push(BulletinEntry {
            uid: r.try_get("", "uid")?,
            name: r.try_get("", "subject")?,
            serial: r.try_get("", "serial")?,
            reason: reason.and_then(|r| u8::try_from(r).ok()).and_then(RevocationReason::from_code),
            revoked_at: at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        });
    }
    Ok(BulletinPage { entries, page, per_page: BULLETIN_PER_PAGE, total: total.max(0) as u64 })
}

/// 查询服务 (seed 003 §1.4.1): any two of acceptance number, unit name, operator phone and
/// operator ID number give the newest matching application's status, and nothing else.
/// Counted per address: 20 an hour.
pub async fn progress(
    db: &impl ConnectionTrait,
    counters: &Counters,
    q: &ProgressQuery,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<Progress, AppError> {
    if q.given() < 2 {
        return Err(ErrorCode::ProgressNeedsTwo.into());
    }
    let bucket = throttle::address_bucket(ip);
    if !counters.take(&format!("progress:ip:{bucket}"), PROGRESS_PER_HOUR, Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    // Typed as the wizard stores them; a phone or ID number that is not one matches nothing.
    let normal = |given: &str, parse: fn(&str) -> Option<String>| {
        if given.trim().is_empty() { String::new() } else { parse(given).unwrap_or_else(|| "\u{0}".into()) }
    };
    let (no, name) = (q.acceptance_no.trim(), q.org_name.trim());
    let mobile = normal(&q.mobile, |s| certdesk_shared::Mobile::parse(s).ok().map(|m| m.to_string()));
    let id = normal(&q.id_number, |s| certdesk_shared::IdCardNumber::parse(s).ok().map(|i| i.to_string()));
    let mut find = request::Entity::find().filter(request::Column::AcceptanceNo.is_not_null());
    for (given, col, value) in [
        (!no.is_empty(), request::Column::AcceptanceNo, no.to_owned()),
        (!name.is_empty(), request::Column::SearchName, name.to_owned()),
        (!mobile.is_empty(), request::Column::OperatorMobile, mobile.clone()),
        (!id.is_empty(), request::Column::OperatorIdNumber, id.clone()),
    ] {
        if given {
            find = find.filter(col.eq(value));
        }
    }
    let found = find.order_by_desc(request::Column::SubmittedAt).one(db).await?.ok_or(ErrorCode::NotFound)?;
    let status = RequestStatus::from(found.status);
    Ok(Progress { status })
}
