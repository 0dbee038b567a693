//! The request core every business request (业务) shares: the kind and status as types, the
//! named transitions and the conditional UPDATE that makes each one, acceptance numbers
//! from one series, finding a customer's own request, and the view both sides read.
//!
//! A status moves only through [`Transition`]s, each from the statuses it names, by
//! `UPDATE … WHERE id = ? AND status = <seen>`, so two reviewers, or a reviewer and a
//! resubmitting customer, cannot both move it; a row with a status the code does not know
//! fails to read (the column is a database enum), it never reads as a draft.

use certdesk_shared::ErrorCode;
use certdesk_shared::apply::{BillingMode, DocumentKind, DocumentView};
use certdesk_shared::request::{RenewalPeriod, RequestKind, RequestStatus, RequestView};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr, TransactionTrait, Value};

use super::audit::{self, AuditKey, Event};
use super::exec;
use crate::entity::request::{self, Kind, Status};
use crate::entity::request_document;
use crate::error::AppError;
use certdesk_shared::Named;

impl From<Status> for RequestStatus {
    fn from(s: Status) -> RequestStatus {
        match s {
            Status::Draft => RequestStatus::Draft,
            Status::Submitted => RequestStatus::Submitted,
            Status::Rejected => RequestStatus::Rejected,
            Status::Resubmitted => RequestStatus::Resubmitted,
            Status::Approved => RequestStatus::Approved,
            Status::Issued => RequestStatus::Issued,
            Status::Done => RequestStatus::Done,
            Status::Withdrawn => RequestStatus::Withdrawn,
        }
    }
}

impl From<RequestStatus> for Status {
    fn from(s: RequestStatus) -> Status {
        match s {
            RequestStatus::Draft => Status::Draft,
            RequestStatus::Submitted => Status::Submitted,
            RequestStatus::Rejected => Status::Rejected,
            RequestStatus::Resubmitted => Status::Resubmitted,
            RequestStatus::Approved => Status::Approved,
            RequestStatus::Issued => Status::Issued,
            RequestStatus::Done => Status::Done,
            RequestStatus::Withdrawn => Status::Withdrawn,
        }
    }
}

impl From<Kind> for RequestKind {
    fn from(k: Kind) -> RequestKind {
        match k {
            Kind::Apply => RequestKind::Apply,
            Kind::Renew => RequestKind::Renew,
            Kind::Change => RequestKind::Change,
            Kind::OperatorChange => RequestKind::OperatorChange,
            Kind::Reissue => RequestKind::Reissue,
            Kind::Revoke => RequestKind::Revoke,
        }
    }
}

impl From<RequestKind> for Kind {
    fn from(k: RequestKind) -> Kind {
        match k {
            RequestKind::Apply => Kind::Apply,
            RequestKind::Renew => Kind::Renew,
            RequestKind::Change => Kind::Change,
            RequestKind::OperatorChange => Kind::OperatorChange,
            RequestKind::Reissue => Kind::Reissue,
            RequestKind::Revoke => Kind::Revoke,
        }
    }
}

impl Status {
    pub fn code(self) -> &'static str {
        RequestStatus::from(self).as_str()
    }
    pub fn editable(self) -> bool {
        RequestStatus::from(self).editable()
    }
    pub fn awaiting_review(self) -> bool {
        RequestStatus::from(self).awaiting_review()
    }
}

/// The named moves of a request's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// A complete draft goes to review (or, for a kind without review, to the system's
    /// approval next).
    Submit,
    /// A fixed rejected request goes back to review.
    Resubmit,
    Approve,
    Reject,
    /// Its certificate is issued.
    Issue,
    /// Fulfilled to the end (a renewal: the new certificate is on the token and the old one
    /// superseded).
    Finish,
    /// Fulfilled at its approval, nothing to issue (an 经办人变更: the record is updated).
    Fulfil,
    Withdraw,
}

impl Transition {
    /// The statuses a transition starts from, and the one it ends in.
    pub fn edge(self) -> (&'static [Status], Status) {
        match self {
            Transition::Submit => (&[Status::Draft], Status::Submitted),
            Transition::Resubmit => (&[Status::Rejected], Status::Resubmitted),
            Transition::Approve => (&[Status::Submitted, Status::Resubmitted], Status::Approved),
            Transition::Reject => (&[Status::Submitted, Status::Resubmitted], Status::Rejected),
            Transition::Issue => (&[Status::Approved], Status::Issued),
            Transition::Finish => (&[Status::Issued], Status::Done),
            Transition::Fulfil => (&[Status::Approved], Status::Done),
            Transition::Withdraw => (&[Status::Draft, Status::Submitted, Status::Rejected], Status::Withdrawn),
        }
    }
}

/// Makes a transition of a request last seen in `seen`, setting `sets` (column, value) in the
/// same UPDATE. `Ok(false)` when someone else moved it first (nothing changed); an error when
/// the transition does not start from `seen`.
pub async fn advance(
    db: &impl ConnectionTrait,
    id: &str,
    seen: Status,
    t: Transition,
    now: DateTime<Utc>,
    sets: Vec<(&str, Value)>,
) -> Result<bool, AppError> {
    let (from, to) = t.edge();
    if !from.contains(&seen) {
        return Err(ErrorCode::NotEditable.into());
    }
    let mut text = String::from("UPDATE request SET status = $3, updated_at = $4");
    let mut values: Vec<Value> = vec![id.into(), seen.code().into(), to.code().into(), now.into()];
    for (i, (col, v)) in sets.into_iter().enumerate() {
        debug_assert!(col.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        text.push_str(&format!(", {col} = ${}", i + 5));
        values.push(v);
    }
    text.push_str(" WHERE id = $1 AND status = $2");
    Ok(exec(db, &text, values).await?.rows_affected() == 1)
}

/// 业务受理号: `BH` + the date + 6 random digits, one series for every kind of request
/// (unique; a collision is retried by the caller), uniformly drawn.
pub fn acceptance_number(now: DateTime<Utc>) -> Result<String, AppError> {
    Ok(format!("BH{}{:06}", now.format("%Y%m%d"), super::random_below(1_000_000)?))
}

/// Sends a request to review (a draft: `Submit`, a fixed rejected request: `Resubmit`) with
/// its acceptance number — drawn now at the first submission, kept afterwards — and `sets`,
/// in one transaction with its audit row. A taken number rolls back and tries another.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    r: &request::Model,
    actor: &str,
    action: &str,
    meta: &super::ClientMeta,
    now: DateTime<Utc>,
    sets: Vec<(&'static str, Value)>,
) -> Result<String, AppError> {
    let t = if r.status == Status::Rejected { Transition::Resubmit } else { Transition::Submit };
    let to = t.edge().1;
    for _ in 0..10 {
        let number = match &r.acceptance_no {
            Some(n) => n.clone(),
            None => acceptance_number(now)?,
        };
        let mut all = sets.clone();
        all.push(("acceptance_no", number.clone().into()));
        all.push(("submitted_at", now.into()));
        let txn = crate::db::begin_write(db).await?;
        match advance(&txn, &r.id, r.status, t, now, all).await {
            Ok(true) => {
                let detail = serde_json::json!({ "request": r.id, "kind": RequestKind::from(r.kind).as_str(), "status": to.code() });
                audit::append(&txn, key, Event { actor, action, subject: &number, ip: &meta.ip, detail }).await?;
                txn.commit().await?;
                return Ok(number);
            }
            Ok(false) => return Err(ErrorCode::NotEditable.into()),
            Err(AppError::Db(e))
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) && r.acceptance_no.is_none() =>
            {
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    Err(AppError::Internal(anyhow::anyhow!("no free acceptance number after 10 tries")))
}

/// A new draft of `kind` on a certificate the account holds (延期, 变更, 补办, 注销): the type
/// and medium of the request that produced the certificate, the account's billing mode, and
/// the certificate's name and e-mail for the public lookups. The caller sets what is special
/// to its kind (`payload`, `price_fen` …) and inserts it.
pub fn draft_on_certificate(
    kind: Kind,
    account: &crate::entity::account::Model,
    produced_by: &request::Model,
    cert: &crate::entity::certificate::Model,
    now: DateTime<Utc>,
) -> request::Model {
    request::Model {
        id: super::new_id(),
        account_id: account.id.clone(),
        kind,
        acceptance_no: None,
        status: Status::Draft,
        step: 1,
        billing_mode: account.billing_mode.clone(),
        type_id: produced_by.type_id.clone(),
        medium: produced_by.medium.clone(),
        choose_type: None,
        certificate_info: None,
        operator: None,
        delivery: None,
        ships_by_post: false,
        price_fen: None,
        reasons: "[]".into(),
        auth_code_hash: None,
        from_certificate_uid: Some(cert.uid.clone()),
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
        // The public progress lookup finds it by the holder's name.
        search_name: Some(cert.subject.clone()),
        search_email: cert.email.clone(),
        operator_mobile: None,
        operator_id_number: None,
        challenge_hash: None,
    }
}

/// The start of an issuance onto a token for a request that produces a successor (延期, 变更,
/// 补办), in the caller's transaction: an Approved request moves to Issued; an Issued one (the
/// holder came back after a crash) hands back the certificate already issued for this same key
/// (`Some`, on `medium_no` when given), or else is claimed for this retry — one retry at a
/// time, by its `updated_at` — and its unfinished certificate revoked as superseded, so that
/// at most one successor exists. `None`: the caller issues now.
pub async fn claim_issuance(
    txn: &(impl ConnectionTrait + TransactionTrait),
    ca: &crate::ca::CaService,
    r: &request::Model,
    csr_pem: &str,
    medium_no: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<crate::entity::certificate::Model>, AppError> {
    use crate::entity::certificate;
    match r.status {
        Status::Approved => {
            if !advance(txn, &r.id, Status::Approved, Transition::Issue, now, vec![]).await? {
                return Err(ErrorCode::NotEditable.into());
            }
        }
        Status::Issued => {
            let unfinished = r.certificate_uid.clone().unwrap_or_default();
            let cert = certificate::Entity::find()
                .filter(certificate::Column::Uid.eq(unfinished.as_str()))
                .one(txn)
                .await?
                .ok_or(ErrorCode::NotFound)?;
            let same_token = medium_no.is_none_or(|m| cert.medium_no.as_deref() == Some(m));
            if crate::ca::issue::same_key(&cert.der, csr_pem.as_bytes())? && same_token {
                return Ok(Some(cert));
            }
            let claimed = exec(
                txn,
                "UPDATE request SET updated_at = $3 WHERE id = $1 AND status = 'issued' AND updated_at = $2",
                vec![r.id.clone().into(), r.updated_at.into(), now.into()],
            )
            .await?
            .rows_affected();
            if claimed != 1 {
                return Err(ErrorCode::NotEditable.into());
            }
            if cert.status != crate::ca::revoke::REVOKED {
                let superseded = certdesk_shared::certificate::RevocationReason::Superseded;
                crate::ca::revoke::revoke(txn, &ca.issuing, &cert.serial, superseded, None).await?;
            }
        }
        _ => return Err(ErrorCode::NotEditable.into()),
    }
    Ok(None)
}

/// The successor just issued in `txn` (延期, 变更, 补办), recorded: the request's certificate
/// and step, the certificate's e-mail and the token it goes onto, the audit row (`detail`);
/// then the transaction commits and the certificate is read back.
#[allow(clippy::too_many_arguments)]
pub async fn record_successor(
    db: &impl ConnectionTrait,
    txn: crate::db::Write,
    key: &AuditKey,
    r: &request::Model,
    issued_uid: &str,
    step: i32,
    email: Option<String>,
    medium_no: Option<String>,
    detail: serde_json::Value,
    meta: &super::ClientMeta,
) -> Result<crate::entity::certificate::Model, AppError> {
    use crate::entity::certificate;
    exec(
        &txn,
        "UPDATE request SET certificate_uid = $2, step = $3 WHERE id = $1",
        vec![r.id.clone().into(), issued_uid.into(), step.into()],
    )
    .await?;
    exec(
        &txn,
        "UPDATE certificate SET email = $2, medium_no = $3 WHERE uid = $1",
        vec![issued_uid.into(), email.into(), medium_no.into()],
    )
    .await?;
    let number = r.acceptance_no.clone().unwrap_or_default();
    let actor = audit::customer(&r.account_id);
    audit::append(
        &txn,
        key,
        Event { actor: &actor, action: "certificate_issued", subject: &number, ip: &meta.ip, detail },
    )
    .await?;
    txn.commit().await?;
    crate::ca::ocsp::status_changed();
    Ok(certificate::Entity::find()
        .filter(certificate::Column::Uid.eq(issued_uid))
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?)
}

/// Once a successor is on the token (延期, 变更, 补办): Issued → Done, with the certificate the
/// request started from revoked as superseded by the CA `supersede` names (none for a 补办,
/// whose was revoked at its approval) in the same transaction if still valid, audited; then
/// the holder is told.
/// Done already (a retry, or a concurrent call): as it is.
#[allow(clippy::too_many_arguments)]
pub async fn finish_successor(
    db: &(impl ConnectionTrait + TransactionTrait),
    supersede: Option<&crate::ca::CaService>,
    key: &AuditKey,
    notifier: &crate::notify::Notifier,
    r: request::Model,
    meta: &super::ClientMeta,
    now: DateTime<Utc>,
) -> Result<request::Model, AppError> {
    match r.status {
        Status::Done => return Ok(r),
        Status::Issued => {}
        _ => return Err(ErrorCode::NotEditable.into()),
    }
    let old_uid = r.from_certificate_uid.clone().unwrap_or_default();
    let txn = crate::db::begin_write(db).await?;
    if !advance(&txn, &r.id, Status::Issued, Transition::Finish, now, vec![]).await? {
        // Finished by a concurrent call.
        return find(db, &r.id).await;
    }
    let kind = RequestKind::from(r.kind);
    let mut detail = serde_json::json!({ "request": r.id, "kind": kind.as_str(), "certificate": r.certificate_uid });
    if let Some(ca) = supersede {
        let old = super::directory::find(&txn, &old_uid).await?;
        // Frozen or revoked meanwhile: nothing left to supersede.
        if old.status == crate::ca::revoke::VALID {
            let superseded = certdesk_shared::certificate::RevocationReason::Superseded;
            crate::ca::revoke::revoke(&txn, &ca.issuing, &old.serial, superseded, None).await?;
        }
        detail["superseded"] = old.serial.into();
    } else {
        detail["replaced"] = old_uid.into();
    }
    let number = r.acceptance_no.clone().unwrap_or_default();
    let actor = audit::customer(&r.account_id);
    audit::append(&txn, key, Event { actor: &actor, action: "request_done", subject: &number, ip: &meta.ip, detail })
        .await?;
    txn.commit().await?;
    crate::ca::ocsp::status_changed();
    let done = find(db, &r.id).await?;
    let template = crate::notify::Template::RequestDone { kind: kind.name_zh().to_owned(), acceptance_no: number };
    super::review::tell_holder(db, notifier, &done, template).await;
    Ok(done)
}

/// The customer's own request; anyone else's is "not found".
pub async fn own(db: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<request::Model, AppError> {
    request::Entity::find_by_id(id.to_owned())
        .filter(request::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| ErrorCode::NotFound.into())
}

/// The request under way for a certificate, of any kind (at most one: a partial unique
/// index on `from_certificate_uid` over the open statuses).
pub async fn open_for_certificate(db: &impl ConnectionTrait, uid: &str) -> Result<Option<request::Model>, AppError> {
    Ok(request::Entity::find()
        .filter(request::Column::FromCertificateUid.eq(uid))
        .filter(request::Column::Status.is_in(OPEN))
        .one(db)
        .await?)
}

/// The statuses of a request under way (the partial unique index's list).
pub const OPEN: [Status; 6] =
    [Status::Draft, Status::Submitted, Status::Rejected, Status::Resubmitted, Status::Approved, Status::Issued];

/// The requests a staff list's search words name, exactly: by acceptance number, by the
/// unit's or holder's name, by the operator's phone, by the phone of the account that made
/// them, or by the serial number of the certificate they started from or produced (hex, any
/// case, with or without `:` separators).
pub fn matching(q: &str) -> sea_orm::Condition {
    use crate::entity::{account, certificate};
    use sea_orm::sea_query::Query;
    let by_phone = Query::select()
        .column(account::Column::Id)
        .from(account::Entity)
        .and_where(account::Column::Mobile.eq(q))
        .to_owned();
    let mut any = sea_orm::Condition::any()
        .add(request::Column::AcceptanceNo.eq(q.to_uppercase()))
        .add(request::Column::SearchName.eq(q))
        .add(request::Column::OperatorMobile.eq(q))
        .add(request::Column::AccountId.in_subquery(by_phone));
    if let Some(serial) = certificate_serial(q) {
        let by_serial = || {
            Query::select()
                .column(certificate::Column::Uid)
                .from(certificate::Entity)
                .and_where(certificate::Column::Serial.eq(serial.as_str()))
                .to_owned()
        };
        any = any
            .add(request::Column::FromCertificateUid.in_subquery(by_serial()))
            .add(request::Column::CertificateUid.in_subquery(by_serial()));
    }
    any
}

/// Search words as a certificate serial number is stored (lower-case hex, no separators), if
/// they can be one.
fn certificate_serial(q: &str) -> Option<String> {
    let hex: String = q.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
    (hex.len() >= 8 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

/// The ids of the requests [`matching`] `q`, for a list of rows that belong to requests.
pub fn ids_matching(q: &str) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(request::Column::Id)
        .from(request::Entity)
        .cond_where(matching(q))
        .to_owned()
}

/// Any request, for staff.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<request::Model, AppError> {
    request::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or_else(|| ErrorCode::NotFound.into())
}

/// A request staff may open: one that was submitted at least once (a draft is the
/// customer's own until they submit it).
pub async fn find_submitted(db: &impl ConnectionTrait, id: &str) -> Result<request::Model, AppError> {
    let r = find(db, id).await?;
    if r.status == Status::Draft || r.submitted_at.is_none() {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(r)
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(s: &Option<String>) -> Option<T> {
    s.as_deref().and_then(|j| serde_json::from_str(j).ok())
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String, AppError> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.into()))
}

pub(crate) fn billing_of(code: &str) -> BillingMode {
    BillingMode::parse(code).unwrap_or(BillingMode::ScanToPay)
}

/// The period a renewal asks for.
pub fn renewal_period(r: &request::Model) -> Option<RenewalPeriod> {
    if r.kind == Kind::Renew { parse(&r.payload) } else { None }
}

/// What a 证书变更 or 经办人变更 changes, against the certificate as it was when it started.
fn changes(r: &request::Model) -> Vec<certdesk_shared::change::FieldChange> {
    let Some(before) = (matches!(r.kind, Kind::Change | Kind::OperatorChange))
        .then(|| parse::<certdesk_shared::change::ChangeBefore>(&r.payload))
        .flatten()
    else {
        return Vec::new();
    };
    let info: Option<certdesk_shared::apply::CertificateInfo> = parse(&r.certificate_info);
    let operator: Option<certdesk_shared::apply::OperatorInfo> = parse(&r.operator);
    certdesk_shared::change::changes(&before, info.as_ref().map(|i| &i.holder), operator.as_ref())
}

pub async fn view(db: &impl ConnectionTrait, a: &request::Model) -> Result<RequestView, AppError> {
    let docs =
        request_document::Entity::find().filter(request_document::Column::RequestId.eq(a.id.clone())).all(db).await?;
    Ok(RequestView {
        id: a.id.clone(),
        kind: a.kind.into(),
        acceptance_no: a.acceptance_no.clone(),
        status: a.status.into(),
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
        decided_at: a.decided_at.map(|t| t.to_rfc3339()),
        from_certificate_uid: a.from_certificate_uid.clone(),
        certificate_uid: a.certificate_uid.clone(),
        renewal: renewal_period(a),
        holder_name: a.search_name.clone(),
        challenge_set: a.challenge_hash.is_some(),
        revocation_reason: if a.kind == Kind::Revoke {
            parse::<certdesk_shared::revoke::RevocationPayload>(&a.payload).map(|p| p.reason)
        } else {
            None
        },
        changes: changes(a),
        reissue: super::reissue::details(a),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn the_database_enums_are_the_wire_enums_and_the_migration_checks() {
        use crate::migration::request_codes::{KINDS, STATUSES};
        let statuses: Vec<&str> = Status::iter().map(|s| s.code()).collect();
        assert_eq!(statuses, STATUSES);
        assert_eq!(RequestStatus::ALL.len(), STATUSES.len());
        let kinds: Vec<&str> = Kind::iter().map(|k| RequestKind::from(k).as_str()).collect();
        assert_eq!(kinds, KINDS);
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::from(Status::from(s)), s);
        }
    }

    #[test]
    fn each_transition_leaves_only_from_its_own_statuses() {
        use Transition::*;
        for t in [Submit, Resubmit, Approve, Reject, Issue, Finish, Fulfil, Withdraw] {
            let (from, to) = t.edge();
            assert!(!from.contains(&to), "{t:?} loops");
            assert!(!from.contains(&Status::Done) && !from.contains(&Status::Withdrawn), "{t:?} leaves an end");
        }
        // Only review approves, only an approved request is issued.
        assert_eq!(Approve.edge().0, &[Status::Submitted, Status::Resubmitted]);
        assert_eq!(Issue.edge().0, &[Status::Approved]);
    }

    #[test]
    fn acceptance_numbers_are_one_series() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 2, 8, 0, 0).unwrap();
        let n = acceptance_number(now).unwrap();
        assert!(n.starts_with("BH20261202") && n.len() == 16 && n[2..].chars().all(|c| c.is_ascii_digit()), "{n}");
    }
}
