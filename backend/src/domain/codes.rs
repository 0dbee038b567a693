//! One-time SMS codes: 6 digits from the OS CSPRNG, stored hashed, valid 5 minutes, single
//! use, at most 5 tries, bound to the purpose they were sent for; one send per phone per
//! minute for each purpose and 10 per day, 20 per address per hour.

use certdesk_shared::account::{CODE_RESEND_SECS, CODE_TTL_SECS, CodePurpose, SendCodeRequest};
use certdesk_shared::my_certificates::CertificateCodeSent;
use certdesk_shared::{ErrorCode, FieldError, Mobile, OtpCode, ValidationError};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};

use super::audit::{self, AuditKey, Event};
use super::{ClientMeta, exec, new_id, query_one, sha256_hex, throttle};
use crate::entity::{account, one_time_code};
use crate::error::AppError;
use crate::notify::{Notifier, SmsError, Template};
use certdesk_shared::Named;

pub const MAX_TRIES: i32 = 5;
pub const PER_PHONE_PER_HOUR: i64 = 5;
pub const PER_PHONE_PER_DAY: i64 = 10;
pub const PER_ADDRESS_PER_HOUR: i32 = 20;

fn code_hash(id: &str, code: &str) -> String {
    sha256_hex(&[b"otp", id.as_bytes(), code.as_bytes()])
}

/// Six uniformly random digits.
pub(crate) fn six_digits() -> Result<String, anyhow::Error> {
    Ok(format!("{:06}", super::random_below(1_000_000)?))
}

/// The limits every send passes, counted whether or not an SMS goes out: per `asker` (the
/// address of an anonymous form, the account of a signed-in holder), one per phone and
/// purpose per minute, and per phone per hour and per day.
async fn limits(
    db: &impl ConnectionTrait,
    phone: &str,
    purpose: CodePurpose,
    asker: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if !throttle::take(db, asker, PER_ADDRESS_PER_HOUR, Duration::hours(1), now).await? {
        return Err(ErrorCode::RateLimited.into());
    }
    // One send per phone (and purpose) per minute, agreed by every server through one
    // conditional upsert.
    if !throttle::take(
        db,
        &format!("code:mobile:{phone}:{}", purpose.as_str()),
        1,
        Duration::seconds(CODE_RESEND_SECS.into()),
        now,
    )
    .await?
    {
        return Err(ErrorCode::RateLimited.into());
    }
    // Our own limits come first and count every request, sent or not, so that the gateway's
    // flow control (5 per number per hour) is never what answers: its refusal would only
    // happen for phones we really send to, and so tell who has an account.
    for (window, limit) in [(Duration::hours(1), PER_PHONE_PER_HOUR), (Duration::days(1), PER_PHONE_PER_DAY)] {
        let n = query_one(
            db,
            "SELECT COUNT(*) AS n FROM one_time_code WHERE mobile = $1 AND created_at > $2",
            vec![phone.into(), (now - window).into()],
        )
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
        if n >= limit {
            return Err(ErrorCode::RateLimited.into());
        }
    }
    Ok(())
}

/// Records a send: with `code`, a new code (hashed) that replaces the earlier unused ones of
/// the same phone and purpose; without, a spent row that only counts. Its id.
async fn store(
    db: &impl ConnectionTrait,
    phone: &str,
    purpose: CodePurpose,
    code: Option<&str>,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let id = new_id();
    if code.is_some() {
        exec(
            db,
            "UPDATE one_time_code SET used_at = $3 WHERE mobile = $1 AND purpose = $2 AND used_at IS NULL",
            vec![phone.into(), purpose.as_str().into(), now.into()],
        )
        .await?;
    }
    one_time_code::Entity::insert(one_time_code::ActiveModel {
        id: Set(id.clone()),
        mobile: Set(phone.to_owned()),
        purpose: Set(purpose.as_str().to_owned()),
        code_hash: Set(code.map_or_else(|| "-".into(), |c| code_hash(&id, c))),
        attempts: Set(0),
        created_at: Set(now),
        expires_at: Set(now + Duration::seconds(CODE_TTL_SECS.into())),
        used_at: Set(if code.is_some() { None } else { Some(now) }),
        ip: Set(meta.ip.clone()),
    })
    .exec(db)
    .await?;
    Ok(id)
}

/// Sends a code (or, when the purpose makes no sense for this phone, a notice or nothing),
/// answering the same either way so the answer tells nobody whether the phone has an account.
pub async fn send(
    db: &(impl ConnectionTrait + TransactionTrait),
    notifier: &Notifier,
    key: &AuditKey,
    req: &SendCodeRequest,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let SendCodeRequest { mobile, purpose, captcha_id, captcha_answer } = req;
    let purpose = *purpose;
    if purpose.for_certificate() || purpose.for_shield() {
        // Those go to a certificate's phone of record only (`send_to_record`, `send_for_shield`).
        return Err(AppError::Validation(vec![FieldError {
            field: "purpose".into(),
            error: ValidationError::OutOfRange,
        }]));
    }
    let phone = mobile.as_str();
    // A person asks for a code: the image captcha keeps scripts from pumping SMS to
    // premium numbers through us, whatever addresses they come from.
    super::captcha::check(db, captcha_id, captcha_answer, now).await?;
    limits(db, phone, purpose, &meta.address_key("code"), now).await?;

    let mut exists = account::Entity::find().filter(account::Column::Mobile.eq(phone)).one(db).await?.is_some();
    if purpose == CodePurpose::TokenUnlock && !exists {
        // 证书解锁 also takes the operator's phone from an application that has a certificate,
        // and a phone of record set by a 经办人变更.
        exists = query_one(
            db,
            "SELECT 1 AS one FROM request WHERE operator_mobile = $1 AND certificate_uid IS NOT NULL LIMIT 1",
            vec![phone.into()],
        )
        .await?
        .is_some()
            || super::contact::is_phone_of_record_somewhere(db, phone).await?;
    }
    let code = six_digits()?;
    let template = match (purpose, exists) {
        (CodePurpose::Register, false) => Some(Template::RegisterCode { code: code.clone() }),
        (CodePurpose::Register, true) => Some(Template::AlreadyRegistered),
        (CodePurpose::ResetPassword, true) => Some(Template::ResetPasswordCode { code: code.clone() }),
        (CodePurpose::TokenUnlock, true) => Some(Template::TokenUnlockCode { code: code.clone() }),
        // No account: nothing to reset or unlock, and no SMS to a stranger's phone.
        (CodePurpose::ResetPassword | CodePurpose::TokenUnlock, false) => None,
        (
            CodePurpose::CertificateRevoke
            | CodePurpose::CertificateReissue
            | CodePurpose::CertificateRelease
            | CodePurpose::ShieldUnlock
            | CodePurpose::ShieldDisable,
            _,
        ) => None,
    };
    let sends_code = matches!(
        template,
        Some(Template::RegisterCode { .. } | Template::ResetPasswordCode { .. } | Template::TokenUnlockCode { .. })
    );
    // Every request is recorded (for the daily count), with an unusable hash when no code went out.
    let id = store(db, phone, purpose, sends_code.then_some(code.as_str()), meta, now).await?;

    if let Some(template) = template {
        let template_code = template.code();
        match notifier.sms(phone, template).await {
            Ok(_) => {}
            Err(e) => {
                exec(db, "UPDATE one_time_code SET used_at = $2 WHERE id = $1", vec![id.clone().into(), now.into()])
                    .await?;
                tracing::warn!(error = %e, template = template_code, "SMS refused by the gateway");
                if purpose != CodePurpose::Register {
                    // An unknown phone gets no SMS and a success; a known one must not be told
                    // apart by a refusal.
                    return Ok(());
                }
                return Err(refused(&e));
            }
        }
    }
    audit::append(
        db,
        key,
        Event {
            actor: audit::ANONYMOUS,
            action: "code_sent",
            subject: phone,
            ip: &meta.ip,
            detail: serde_json::json!({ "purpose": purpose.as_str(), "sent": sends_code }),
        },
    )
    .await?;
    Ok(())
}

/// What the user is told when the gateway did not send a code: a number it cannot reach is
/// the phone field's error, its flow control (per number, the account's daily total, the
/// API's throttling) is "too many requests, try later", anything else (our key, signature
/// or templates refused, the balance spent, no answer) is ours to fix: "unavailable".
pub(crate) fn refused(e: &SmsError) -> AppError {
    match e {
        SmsError::MobileNumberIllegal => {
            AppError::Validation(vec![FieldError { field: "mobile".into(), error: ValidationError::MobileFormat }])
        }
        SmsError::BusinessLimitControl | SmsError::DayLimitControl | SmsError::Throttling(_) => {
            ErrorCode::RateLimited.into()
        }
        SmsError::TemplateIllegal
        | SmsError::TemplateMissingParameters
        | SmsError::SignatureIllegal
        | SmsError::SignatureDoesNotMatch
        | SmsError::SignatureNonceUsed
        | SmsError::TimestampExpired
        | SmsError::AccessKeyIdNotFound
        | SmsError::AmountNotEnough
        | SmsError::System(_)
        | SmsError::Other { .. }
        | SmsError::Unreachable(_)
        | SmsError::Timeout(_)
        | SmsError::BadAnswer { .. } => ErrorCode::Unavailable.into(),
    }
}

/// The business a certificate code is for, as its SMS names it.
fn action_name(purpose: CodePurpose) -> &'static str {
    match purpose {
        CodePurpose::CertificateReissue => "补办",
        CodePurpose::CertificateRelease => "解冻",
        CodePurpose::ShieldUnlock => "证书解锁",
        CodePurpose::ShieldDisable => "停用移动软盾",
        _ => "注销",
    }
}

/// A code to the phone of record of one of the signed-in account's certificates, for a
/// certificate purpose (证书注销, 证书补办, 解冻): another account's certificate is "not found",
/// and the answer shows the phone masked.
#[allow(clippy::too_many_arguments)]
pub async fn send_to_record(
    db: &(impl ConnectionTrait + TransactionTrait),
    notifier: &Notifier,
    key: &AuditKey,
    account_id: &str,
    uid: &str,
    purpose: CodePurpose,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<CertificateCodeSent, AppError> {
    if !purpose.for_certificate() {
        return Err(AppError::Validation(vec![FieldError {
            field: "purpose".into(),
            error: ValidationError::OutOfRange,
        }]));
    }
    if super::my_certificates::holdings(db, account_id, Some(uid)).await?.is_empty() {
        return Err(ErrorCode::NotFound.into());
    }
    // A signed-in holder is counted by account: the account, not the address, is who asks.
    let mobile = to_phone_of_record(
        db,
        notifier,
        key,
        uid,
        purpose,
        &audit::customer(account_id),
        &format!("code:account:{account_id}"),
        meta,
        now,
    )
    .await?;
    Ok(CertificateCodeSent {
        phone_masked: mobile.masked(),
        resend_after_secs: CODE_RESEND_SECS,
        valid_for_secs: CODE_TTL_SECS,
    })
}

/// A code for a mobile shield's purpose (证书解锁, disabling a lost phone) to the phone of
/// record of the shield's certificate, counted against the asking address: where it went.
#[allow(clippy::too_many_arguments)]
pub async fn send_for_shield(
    db: &(impl ConnectionTrait + TransactionTrait),
    notifier: &Notifier,
    key: &AuditKey,
    uid: &str,
    purpose: CodePurpose,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<Mobile, AppError> {
    if !purpose.for_shield() {
        return Err(AppError::Validation(vec![FieldError {
            field: "purpose".into(),
            error: ValidationError::OutOfRange,
        }]));
    }
    to_phone_of_record(db, notifier, key, uid, purpose, audit::ANONYMOUS, &meta.address_key("code"), meta, now).await
}

/// Sends a code for `purpose` to the phone of record of `uid`, within the limits counted
/// against `asker`, and records it in the audit trail as `actor`'s.
#[allow(clippy::too_many_arguments)]
async fn to_phone_of_record(
    db: &(impl ConnectionTrait + TransactionTrait),
    notifier: &Notifier,
    key: &AuditKey,
    uid: &str,
    purpose: CodePurpose,
    actor: &str,
    asker: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<Mobile, AppError> {
    let mobile = super::contact::phone_of_record(db, uid).await?;
    let phone = mobile.as_str();
    limits(db, phone, purpose, asker, now).await?;
    let code = six_digits()?;
    let id = store(db, phone, purpose, Some(&code), meta, now).await?;
    let template = Template::CertificateCode { code, action: action_name(purpose).to_owned() };
    if let Err(e) = notifier.sms(phone, template).await {
        exec(db, "UPDATE one_time_code SET used_at = $2 WHERE id = $1", vec![id.into(), now.into()]).await?;
        tracing::warn!(error = %e, "SMS refused by the gateway");
        // The holder did not type this phone: a phone of record the vendor cannot reach is
        // for customer service to fix, not a field error.
        return Err(match e {
            SmsError::MobileNumberIllegal => ErrorCode::Unavailable.into(),
            e => refused(&e),
        });
    }
    audit::append(
        db,
        key,
        Event {
            actor,
            action: "code_sent",
            subject: &mobile.masked(),
            ip: &meta.ip,
            detail: serde_json::json!({ "purpose": purpose.as_str(), "certificate": uid, "sent": true }),
        },
    )
    .await?;
    Ok(mobile)
}

/// Uses up a code sent to a certificate's phone of record for `purpose`.
pub async fn consume_for_certificate(
    db: &impl ConnectionTrait,
    uid: &str,
    purpose: CodePurpose,
    code: &OtpCode,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mobile = super::contact::phone_of_record(db, uid).await?;
    consume(db, &mobile, purpose, code, now).await
}

/// Uses up a code: right, unexpired, unused, sent for this purpose, and within its tries.
/// Every try counts, so five parallel guesses get five tries, not more.
pub async fn consume(
    db: &impl ConnectionTrait,
    mobile: &Mobile,
    purpose: CodePurpose,
    code: &OtpCode,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(row) = one_time_code::Entity::find()
        .filter(one_time_code::Column::Mobile.eq(mobile.as_str()))
        .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
        .filter(one_time_code::Column::UsedAt.is_null())
        .filter(one_time_code::Column::ExpiresAt.gt(now))
        .order_by_desc(one_time_code::Column::CreatedAt)
        .one(db)
        .await?
    else {
        return Err(ErrorCode::CodeInvalid.into());
    };
    let tried = exec(
        db,
        "UPDATE one_time_code SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2 AND used_at IS NULL",
        vec![row.id.clone().into(), MAX_TRIES.into()],
    )
    .await?
    .rows_affected();
    if tried != 1 || !super::same(&row.code_hash, &code_hash(&row.id, code.as_str())) {
        return Err(ErrorCode::CodeInvalid.into());
    }
    let used = exec(
        db,
        "UPDATE one_time_code SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
        vec![row.id.into(), now.into()],
    )
    .await?
    .rows_affected();
    if used == 1 { Ok(()) } else { Err(ErrorCode::CodeInvalid.into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..200).map(|_| six_digits().unwrap()).collect();
        assert!(codes.iter().all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        assert!(codes.len() > 190);
        assert_ne!(code_hash("a", "123456"), code_hash("b", "123456"));
    }
}
