//! APP扫码登录 (issue 15): a desktop shows a QR code ([`show`]), the phone app scans it with a
//! mobile shield ([`scan`]), its user picks the desktop's number and approves with the
//! certificate's key over the transaction, its nonce, the portal's origin and the number
//! ([`approve`]), and the desktop's next poll ([`poll`]) starts the session, once.
//!
//! A transaction is bound to the browser that showed it by a cookie whose SHA-256 is stored:
//! another browser polling the same id is told "not found" and never signed in. It lives 120
//! seconds, is scanned by one shield, approved once and collected once, every step a
//! conditional UPDATE so that any server may answer any step.

use certdesk_shared::ErrorCode;
use certdesk_shared::account::SignInMethod;
use certdesk_shared::shield::{
    ACTION_SIGN_IN, QR_PREFIX, QrLoginApprove, QrLoginScan, QrLoginScanned, QrLoginShown, QrLoginStatus,
    approval_message, transaction_code,
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::audit::{self, AuditKey, Event};
use super::mobile_shield::{crockford, usable};
use super::token_challenge::{recorded, signed_with};
use super::{ClientMeta, exec, random_token, sha256_hex, throttle};
use crate::ca::CaService;
use crate::entity::qr_login::{self, Status};
use crate::entity::{account, certificate, request};
use crate::error::AppError;

/// How long a QR code can be scanned and approved.
pub const LIFETIME: Duration = Duration::seconds(120);

/// How long after its expiry an approval the phone made in time can still be collected by
/// the desktop's poll.
const COLLECT_GRACE: Duration = Duration::seconds(30);

/// QR codes one address may show in 10 minutes, and scans one address may make.
pub const SHOWS_PER_ADDRESS: i32 = 30;
pub const SCANS_PER_ADDRESS: i32 = 60;

/// The portal's public origin (scheme, host, port), which an approval signs.
pub fn origin(public_url: &str) -> String {
    url::Url::parse(public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| public_url.trim_end_matches('/').to_owned())
}

/// The desktop browser as a person reads it: "Chrome 131 · Windows".
pub fn browser_summary(user_agent: &str) -> String {
    let version_after = |tag: &str| {
        user_agent.split(tag).nth(1).map(|rest| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
    };
    let browser = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome")]
        .into_iter()
        .find_map(|(tag, name)| version_after(tag).map(|v| format!("{name} {v}")))
        .or_else(|| {
            user_agent.contains("Safari/").then(|| format!("Safari {}", version_after("Version/").unwrap_or_default()))
        })
        .unwrap_or_else(|| "?".to_owned());
    let system = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(tag, _)| user_agent.contains(tag))
    .map_or("?", |(_, name)| name);
    format!("{} · {system}", browser.trim())
}

fn cookie_hash(cookie: &str) -> String {
    sha256_hex(&[b"qr login browser", cookie.as_bytes()])
}

/// What the desktop shows, and the binding cookie its browser keeps.
pub struct Shown {
    pub shown: QrLoginShown,
    pub cookie: String,
}

/// A new transaction for this browser: its QR code, the number to pick on the phone, and
/// the binding cookie (its SHA-256 is kept).
pub async fn show(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<Shown, AppError> {
    if !throttle::take(db, &meta.address_key("qr_login"), SHOWS_PER_ADDRESS, Duration::minutes(10), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let id = crockford(certdesk_shared::shield::CODE_LEN)?;
    let match_number = two_digits()?;
    let cookie = random_token::<32>().map_err(AppError::Internal)?;
    let row = qr_login::ActiveModel {
        id: Set(id.clone()),
        browser_hash: Set(cookie_hash(&cookie)),
        status: Set(Status::Waiting),
        match_number: Set(i16::from(match_number)),
        nonce: Set(random_token::<16>().map_err(AppError::Internal)?),
        user_agent: Set(browser_summary(&meta.user_agent)),
        address: Set(meta.ip.clone()),
        created_at: Set(now),
        expires_at: Set(now + LIFETIME),
        shield_id: Set(None),
        account_id: Set(None),
        certificate_uid: Set(None),
        scanned_at: Set(None),
        approved_at: Set(None),
    };
    qr_login::Entity::insert(row).exec(db).await?;
    audit::append(
        db,
        key,
        Event {
            actor: audit::ANONYMOUS,
            action: "qr_login_shown",
            subject: &id,
            ip: &meta.ip,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    Ok(Shown {
        shown: QrLoginShown {
            qr_svg: super::payment::qr_svg(&format!("{QR_PREFIX}{id}"))?,
            id,
            match_number,
            expires_in: u32::try_from(LIFETIME.num_seconds()).unwrap_or(120),
        },
        cookie,
    })
}

/// What a poll found: where the transaction stands, or the account to sign in now.
pub enum Polled {
    Status(QrLoginStatus),
    SignIn(Box<account::Model>),
}

/// The desktop's poll, with its binding cookie (without it, or with another browser's, the
/// transaction is not found). The first poll after the phone's approval answers the account
/// to sign in, once; a transaction past its life is expired.
pub async fn poll(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    id: &str,
    cookie: Option<&str>,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<Polled, AppError> {
    let row = qr_login::Entity::find_by_id(id.trim().to_owned()).one(db).await?.ok_or(ErrorCode::NotFound)?;
    if !cookie.is_some_and(|c| super::same(&row.browser_hash, &cookie_hash(c))) {
        return Err(ErrorCode::NotFound.into());
    }
    let collectable = row.status == Status::Approved && now < row.expires_at + COLLECT_GRACE;
    if collectable {
        let collected = exec(
            db,
            "UPDATE qr_login SET status = 'signed_in' WHERE id = $1 AND status = 'approved'",
            vec![row.id.clone().into()],
        )
        .await?
        .rows_affected()
            == 1;
        if collected {
            let a = super::account::find(db, &row.account_id.clone().unwrap_or_default()).await?;
            audit::append(
                db,
                key,
                Event {
                    actor: &audit::customer(&a.id),
                    action: "qr_login_signed_in",
                    subject: &row.id,
                    ip: &meta.ip,
                    detail: serde_json::json!({ "shield": row.shield_id, "certificate": row.certificate_uid }),
                },
            )
            .await?;
            super::account::signed_in(db, key, &a, SignInMethod::Certificate, meta).await?;
            return Ok(Polled::SignIn(Box::new(a)));
        }
        return Ok(Polled::Status(QrLoginStatus::SignedIn));
    }
    let open = matches!(row.status, Status::Waiting | Status::Scanned | Status::Approved);
    if open && now >= row.expires_at {
        exec(
            db,
            "UPDATE qr_login SET status = 'expired' WHERE id = $1 AND status IN ('waiting', 'scanned', 'approved')",
            vec![row.id.clone().into()],
        )
        .await?;
        return Ok(Polled::Status(QrLoginStatus::Expired));
    }
    Ok(Polled::Status(row.status.into()))
}

/// A uniformly drawn number from 10 to 99.
fn two_digits() -> Result<u8, AppError> {
    Ok(10 + u8::try_from(super::random_below(90)?).map_err(|e| AppError::Internal(e.into()))?)
}

/// Three distinct two-digit numbers, `right` among them, in random order.
fn choices(right: u8) -> Result<Vec<u8>, AppError> {
    let mut out = vec![right];
    while out.len() < 3 {
        let n = two_digits()?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    // The right one goes to a random place.
    out.swap(0, usize::try_from(super::random_below(3)?).map_err(|e| AppError::Internal(e.into()))?);
    Ok(out)
}

/// The phone's scan: a waiting transaction (or one this shield scanned already) becomes
/// scanned by this shield; the phone is told what it is asked to approve.
pub async fn scan(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    req: &QrLoginScan,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<QrLoginScanned, AppError> {
    if !throttle::take(db, &meta.address_key("qr_scan"), SCANS_PER_ADDRESS, Duration::minutes(10), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    let s = usable(db, &req.shield_id, &req.device_key).await?;
    let id = transaction_code(&req.code).ok_or(ErrorCode::QrCodeExpired)?;
    let scanned = exec(
        db,
        "UPDATE qr_login SET status = 'scanned', shield_id = $2, scanned_at = $3 \
         WHERE id = $1 AND expires_at > $3 AND (status = 'waiting' OR (status = 'scanned' AND shield_id = $2))",
        vec![id.clone().into(), s.id.clone().into(), now.into()],
    )
    .await?
    .rows_affected()
        == 1;
    if !scanned {
        return Err(ErrorCode::QrCodeExpired.into());
    }
    let row = qr_login::Entity::find_by_id(id.clone()).one(db).await?.ok_or(ErrorCode::QrCodeExpired)?;
    audit::append(
        db,
        key,
        Event {
            actor: &audit::customer(&s.account_id),
            action: "qr_login_scanned",
            subject: &id,
            ip: &meta.ip,
            detail: serde_json::json!({ "shield": s.id }),
        },
    )
    .await?;
    let right = u8::try_from(row.match_number).map_err(|_| AppError::Internal(anyhow::anyhow!("a match number")))?;
    Ok(QrLoginScanned {
        id,
        nonce: row.nonce,
        browser: row.user_agent,
        address: row.address,
        shown_at: row.created_at.to_rfc3339(),
        action: ACTION_SIGN_IN.to_owned(),
        choices: choices(right)?,
    })
}

fn refused(why: &str) -> AppError {
    tracing::info!(why, "APP扫码登录 approval refused");
    ErrorCode::SignInFailed.into()
}

/// The phone's approval: the shield that scanned, the desktop's number (a wrong one cancels
/// the transaction), and the certificate's signature over [`approval_message`] with
/// `origin`; the certificate must be ours, recorded, valid now, neither revoked nor frozen.
/// Accepted once.
#[allow(clippy::too_many_arguments)]
pub async fn approve(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    ca: &CaService,
    origin: &str,
    req: &QrLoginApprove,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let s = usable(db, &req.shield_id, &req.device_key).await?;
    let row = qr_login::Entity::find_by_id(req.id.trim().to_owned()).one(db).await?.ok_or(ErrorCode::QrCodeExpired)?;
    if row.status != Status::Scanned || row.shield_id.as_deref() != Some(s.id.as_str()) || row.expires_at <= now {
        return Err(ErrorCode::QrCodeExpired.into());
    }
    if i16::from(req.match_number) != row.match_number {
        exec(
            db,
            "UPDATE qr_login SET status = 'expired' WHERE id = $1 AND status = 'scanned'",
            vec![row.id.clone().into()],
        )
        .await?;
        let detail = serde_json::json!({ "shield": s.id });
        let actor = audit::customer(&s.account_id);
        let e = Event { actor: &actor, action: "qr_login_match_wrong", subject: &row.id, ip: &meta.ip, detail };
        audit::append(db, key, e).await?;
        return Err(ErrorCode::QrMatchWrong.into());
    }
    let cert_row = certificate::Entity::find()
        .filter(certificate::Column::Uid.eq(s.certificate_uid.clone()))
        .one(db)
        .await?
        .ok_or_else(|| refused("no certificate for the shield"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&cert_row.der).map_err(|_| refused("not a certificate"))?;
    let ours = recorded(db, ca, &cert_row.der, &cert).await?.ok_or_else(|| refused("not ours"))?;
    if ours.status != crate::ca::revoke::VALID || now < ours.not_before || now >= ours.not_after {
        return Err(ErrorCode::CertificateNotValid.into());
    }
    let message = approval_message(&row.id, &row.nonce, origin, ACTION_SIGN_IN, req.match_number);
    if !signed_with(&cert, &message, &req.signature) {
        return Err(refused("signature does not verify"));
    }
    let owner = request::Entity::find()
        .filter(request::Column::CertificateUid.eq(ours.uid.clone()))
        .one(db)
        .await?
        .ok_or_else(|| refused("no application for the certificate"))?;
    let approved = exec(
        db,
        "UPDATE qr_login SET status = 'approved', account_id = $2, certificate_uid = $3, approved_at = $4 \
         WHERE id = $1 AND status = 'scanned' AND shield_id = $5 AND expires_at > $4",
        vec![
            row.id.clone().into(),
            owner.account_id.clone().into(),
            ours.uid.clone().into(),
            now.into(),
            s.id.clone().into(),
        ],
    )
    .await?
    .rows_affected()
        == 1;
    if !approved {
        return Err(ErrorCode::QrCodeExpired.into());
    }
    let detail = serde_json::json!({ "shield": s.id, "certificate": ours.uid });
    let actor = audit::customer(&owner.account_id);
    let e = Event { actor: &actor, action: "qr_login_approved", subject: &row.id, ip: &meta.ip, detail };
    audit::append(db, key, e).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_reads_as_name_version_and_system() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(browser_summary(chrome), "Chrome 131 · Windows");
        let edge = format!("{chrome} Edg/131.0.2903.86");
        assert_eq!(browser_summary(&edge), "Edge 131 · Windows");
        let safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15";
        assert_eq!(browser_summary(safari), "Safari 17 · macOS");
        assert_eq!(browser_summary(""), "? · ?");
    }

    #[test]
    fn the_choices_are_three_distinct_two_digit_numbers_with_the_right_one() {
        for right in [10, 55, 99] {
            let c = choices(right).unwrap();
            assert_eq!(c.len(), 3);
            assert!(c.contains(&right));
            assert!(c.iter().all(|n| (10..=99).contains(n)));
            assert!(c[0] != c[1] && c[1] != c[2] && c[0] != c[2], "{c:?}");
        }
    }

    #[test]
    fn the_origin_is_scheme_host_and_port() {
        assert_eq!(origin("https://ca.example.com/"), "https://ca.example.com");
        assert_eq!(origin("http://localhost:8080/x"), "http://localhost:8080");
    }
}
