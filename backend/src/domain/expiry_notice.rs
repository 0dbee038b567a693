//! 通知消息 (seed 003 §1.3.4): 90, 30 and 7 days before a valid certificate expires its
//! holder gets a message in the user centre, an SMS and an e-mail, each linking to 延期.
//!
//! Exactly once, however many servers run and however often they restart: the message row
//! (`expiry_notice`, unique per certificate and threshold) is the claim. A server inserts it
//! with `ON CONFLICT DO NOTHING` and, only when its insert took, writes the SMS and the
//! e-mail into the outbox in the same transaction; so the three exist together or not at
//! all, and a second server's insert finds the row (on PostgreSQL it waits for the first
//! transaction, then does nothing). When several thresholds are due at once (a certificate
//! first seen 20 days before expiry) only the most urgent is sent.

use certdesk_shared::notice::{Notice, NoticeList, THRESHOLDS, renew_path};
use certdesk_shared::{ErrorCode, Mobile};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QueryResult, QuerySelect,
};

use super::{exec, query_one, sql};
use crate::entity::expiry_notice;
use crate::error::AppError;
use crate::notify::sms::{self, Template};

/// What the messages need from the configuration.
pub struct Sending<'a> {
    /// The portal's base URL, for the link in the e-mail.
    pub public_url: &'a str,
    /// A staging server marks its SMS.
    pub staging: bool,
    /// An SMTP server carries e-mail: the claim keeps the e-mail for the relay
    /// (`Mailer::relay_pending`) instead of delivering it to the outbox.
    pub smtp: bool,
    /// The real SMS gateway carries SMS: the claim keeps the SMS for the relay
    /// (`Notifier::relay_pending_sms`); with the sandbox the outbox is the delivery.
    pub sms_relay: bool,
}

impl<'a> Sending<'a> {
    pub fn from_config(config: &'a crate::Config) -> Sending<'a> {
        Sending {
            public_url: &config.public_url,
            staging: config.staging,
            smtp: config.smtp_url.as_deref().is_some_and(|u| !u.is_empty()),
            sms_relay: !config.sms.sandbox,
        }
    }
}

/// The holder of a certificate: whom its notices go to.
#[derive(Debug, Clone)]
pub struct Holder {
    pub account_id: String,
    pub mobile: String,
    pub email: Option<String>,
}

/// Who holds a certificate: the one place that knows. The account whose request (a 新办, a
/// renewal) produced the certificate, with the account's phone and the request's e-mail,
/// then the account's. `HOLDER_JOIN`
/// goes from a certificate `c` to its holder; `HOLDER_COLUMNS` are what [`holder_of`] reads.
const HOLDER_JOIN: &str = "JOIN request a ON a.certificate_uid = c.uid JOIN account u ON u.id = a.account_id";
const HOLDER_COLUMNS: &str = "a.account_id AS holder_account, u.mobile AS holder_mobile, \
     a.search_email AS holder_app_email, u.email AS holder_account_email";

fn holder_of(row: &QueryResult) -> Result<Holder, DbErr> {
    let app_email: Option<String> = row.try_get("", "holder_app_email")?;
    let account_email: Option<String> = row.try_get("", "holder_account_email")?;
    Ok(Holder {
        account_id: row.try_get("", "holder_account")?,
        mobile: row.try_get("", "holder_mobile")?,
        email: app_email.or(account_email).filter(|e| !e.is_empty()),
    })
}

/// The holder of one certificate, if it has one.
pub async fn holder(db: &impl ConnectionTrait, certificate_uid: &str) -> Result<Option<Holder>, DbErr> {
    let text = format!("SELECT {HOLDER_COLUMNS} FROM certificate c {HOLDER_JOIN} WHERE c.uid = $1");
    query_one(db, &text, vec![certificate_uid.into()]).await?.as_ref().map(holder_of).transpose()
}

/// One certificate that is due a notice, and its holder.
struct Due {
    uid: String,
    subject: String,
    profile: String,
    not_after: DateTime<Utc>,
    email: Option<String>,
    holder: Holder,
}

/// The valid certificates (not revoked, not frozen) with a holder that expire within
/// `threshold` days of `now` and have had neither this notice nor a more urgent one. One
/// query: certificates nobody holds (the benchmark's synthetic ones) never leave the database.
async fn due(db: &impl ConnectionTrait, now: DateTime<Utc>, threshold: i32) -> Result<Vec<Due>, DbErr> {
    let text = format!(
        "SELECT c.uid AS uid, c.subject AS subject, c.profile AS profile, c.not_after AS not_after, c.email AS email, \
         {HOLDER_COLUMNS} FROM certificate c {HOLDER_JOIN} \
         WHERE c.status = 'valid' AND c.not_after > $1 AND c.not_after <= $2 \
         AND NOT EXISTS (SELECT 1 FROM expiry_notice n WHERE n.certificate_uid = c.uid AND n.threshold_days <= $3) \
         ORDER BY c.not_after"
    );
    let until = now + Duration::days(threshold.into());
    let rows = db.query_all(sql(db, &text, vec![now.into(), until.into(), threshold.into()])).await?;
    rows.iter()
        .map(|r| {
            Ok(Due {
                uid: r.try_get("", "uid")?,
                subject: r.try_get("", "subject")?,
                profile: r.try_get("", "profile")?,
                not_after: r.try_get("", "not_after")?,
                email: r.try_get("", "email")?,
                holder: holder_of(r)?,
            })
        })
        .collect()
}

/// Whether the holder has a later-expiring valid certificate of the same profile and
/// subject (a renewal's): then this one needs no notice. Subjects are names (many people
/// are called 张三), so only the same holder's certificates count.
async fn superseded(db: &impl ConnectionTrait, cert: &Due) -> Result<bool, DbErr> {
    let text = format!(
        "SELECT c.uid AS uid FROM certificate c {HOLDER_JOIN} WHERE c.subject = $1 AND c.profile = $2 \
         AND c.status = 'valid' AND c.not_after > $3 AND a.account_id = $4"
    );
    let values = vec![
        cert.subject.clone().into(),
        cert.profile.clone().into(),
        cert.not_after.into(),
        cert.holder.account_id.clone().into(),
    ];
    Ok(query_one(db, &text, values).await?.is_some())
}

/// What one run sent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Notices claimed (each a message, and an SMS and an e-mail where the holder has them).
    pub notices: usize,
    pub sms: usize,
    pub emails: usize,
}

/// Sends every notice due at `now`, each once. Safe to run on several servers at once.
pub async fn send_due(db: &DatabaseConnection, now: DateTime<Utc>, how: &Sending<'_>) -> Result<Sent, AppError> {
    let mut sent = Sent::default();
    // Most urgent first: a certificate given its 7-day notice is no longer due the 30-day one.
    for threshold in THRESHOLDS.into_iter().rev() {
        for cert in due(db, now, threshold).await? {
            if !superseded(db, &cert).await? {
                send_one(db, now, how, threshold, &cert, &mut sent).await?;
            }
        }
    }
    if sent.notices > 0 {
        tracing::info!(notices = sent.notices, sms = sent.sms, emails = sent.emails, "expiry notices sent");
    }
    Ok(sent)
}

/// Claims one notice and, if the claim is ours, writes its SMS and e-mail in the same transaction.
async fn send_one(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    how: &Sending<'_>,
    threshold: i32,
    cert: &Due,
    sent: &mut Sent,
) -> Result<(), AppError> {
    let holder = &cert.holder;
    let txn = crate::db::begin_write(db).await?;
    let claimed = exec(
        &txn,
        "INSERT INTO expiry_notice (id, account_id, certificate_uid, threshold_days, subject, not_after, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (certificate_uid, threshold_days) DO NOTHING",
        vec![
            super::new_id().into(),
            holder.account_id.clone().into(),
            cert.uid.clone().into(),
            threshold.into(),
            cert.subject.clone().into(),
            cert.not_after.into(),
            now.into(),
        ],
    )
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        // Another server sent it.
        return Ok(txn.rollback().await?);
    }
    let date = local_date(cert.not_after);
    let days = days_left(now, cert.not_after);
    if Mobile::parse(&holder.mobile).is_ok() {
        let template = Template::ExpiryNotice { name: cert.subject.clone(), date: date.clone(), days };
        let text = sms::text(&template, how.staging).map_err(|e| anyhow::anyhow!("SMS template: {e}"))?;
        if how.sms_relay {
            crate::notify::keep_sms_for_relay(&txn, &holder.mobile, &template, &text).await?;
        } else {
            crate::notify::keep_in(&txn, "sms", &holder.mobile, template.code(), &text).await?;
        }
        sent.sms += 1;
    }
    // The holder's e-mail on the certificate first (the one its status search finds).
    if let Some(email) = cert.email.as_deref().or(holder.email.as_deref()) {
        let subject = format!("CertDesk 证书到期提醒：{}", cert.subject);
        let link = format!("{}{}", how.public_url.trim_end_matches('/'), renew_path(&cert.uid));
        let body = format!(
            "您好：\n\n您的数字证书（{}）将于{date}到期，还有{days}天。到期后证书不能再使用，请在到期前办理证书延期：\n\n{link}\n\n您也可以登录CertDesk自助服务系统，在“通知消息”中点击“延期”。\n\nCertDesk",
            cert.subject
        );
        let text = format!("{subject}\n\n{body}");
        if how.smtp {
            crate::notify::keep_for_relay(&txn, email, "expiry_notice", &text).await?;
        } else {
            crate::notify::keep_in(&txn, "email", email, "expiry_notice", &text).await?;
        }
        sent.emails += 1;
    }
    txn.commit().await?;
    sent.notices += 1;
    Ok(())
}

/// The expiry date as the holder reads it (China Standard Time).
fn local_date(at: DateTime<Utc>) -> String {
    at.with_timezone(&crate::BEIJING).format("%Y-%m-%d").to_string()
}

/// Whole days left, rounded up (a certificate that expires in 29 days and an hour has 30).
fn days_left(now: DateTime<Utc>, not_after: DateTime<Utc>) -> i32 {
    let secs = (not_after - now).num_seconds().max(0);
    i32::try_from((secs + 86_399) / 86_400).unwrap_or(i32::MAX)
}

/// The account's notices, newest first (the latest 100), and how many are unread.
pub async fn list(db: &impl ConnectionTrait, account_id: &str) -> Result<NoticeList, DbErr> {
    let mine = || expiry_notice::Entity::find().filter(expiry_notice::Column::AccountId.eq(account_id));
    let rows = mine()
        .order_by_desc(expiry_notice::Column::CreatedAt)
        .order_by_asc(expiry_notice::Column::ThresholdDays)
        .limit(100)
        .all(db)
        .await?;
    let unread = mine().filter(expiry_notice::Column::ReadAt.is_null()).count(db).await?;
    Ok(NoticeList { notices: rows.into_iter().map(to_wire).collect(), unread })
}

fn to_wire(m: expiry_notice::Model) -> Notice {
    Notice {
        id: m.id,
        certificate_uid: m.certificate_uid,
        subject: m.subject,
        threshold_days: m.threshold_days,
        not_after: m.not_after.to_rfc3339(),
        expires_on: local_date(m.not_after),
        created_at: m.created_at.to_rfc3339(),
        read: m.read_at.is_some(),
    }
}

/// Marks one of the account's notices read. Another account's notice, or none, is not found.
pub async fn mark_read(db: &impl ConnectionTrait, account_id: &str, id: &str) -> Result<(), AppError> {
    let found = expiry_notice::Entity::find_by_id(id.to_owned())
        .filter(expiry_notice::Column::AccountId.eq(account_id))
        .one(db)
        .await?;
    if found.is_none() {
        return Err(ErrorCode::NotFound.into());
    }
    exec(
        db,
        "UPDATE expiry_notice SET read_at = $3 WHERE id = $1 AND account_id = $2 AND read_at IS NULL",
        vec![id.into(), account_id.into(), Utc::now().into()],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_up_and_dates_are_china_time() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(days_left(t("2027-01-01T00:00:00Z"), t("2027-01-30T00:00:00Z")), 29);
        assert_eq!(days_left(t("2027-01-01T00:00:00Z"), t("2027-01-30T01:00:00Z")), 30);
        assert_eq!(days_left(t("2027-01-02T00:00:00Z"), t("2027-01-01T00:00:00Z")), 0);
        assert_eq!(local_date(t("2027-01-01T17:00:00Z")), "2027-01-02");
    }
}
