//! Customer accounts: registration (three account types, the phone as user name, proven by
//! an SMS code), password sign-in with captcha and throttles, the forgotten password by SMS
//! code, and the user centre (profile, password change, sign-in history).

use certdesk_shared::account::{
    AccountKind, ChangePasswordRequest, CodePurpose, Profile, RegisterRequest, ResetPasswordRequest, SignInMethod,
    SignInRecord, SignInRequest, UpdateProfileRequest, mask_middle,
};
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};

use super::audit::{self, AuditKey, Event};
use super::{ClientMeta, captcha, codes, password, throttle};
use crate::entity::account;
use crate::error::AppError;
use crate::notify::{Notifier, Template};
use certdesk_shared::Named;

fn field(field: &str, error: ValidationError) -> AppError {
    AppError::Validation(vec![FieldError { field: field.into(), error }])
}

pub fn profile(a: &account::Model) -> Profile {
    Profile {
        id: a.id.clone(),
        kind: AccountKind::parse(&a.kind).unwrap_or(AccountKind::Personal),
        mobile: a.mobile.clone(),
        org_name: a.org_name.clone(),
        credit_code: a.credit_code.clone(),
        name: a.name.clone(),
        id_number: mask_middle(&a.id_number),
        email: a.email.clone(),
        agreement_version: a.agreement_version.clone(),
        agreed_at: a.agreed_at.to_rfc3339(),
        created_at: a.created_at.to_rfc3339(),
    }
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<account::Model, AppError> {
    account::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or_else(|| ErrorCode::Unauthorized.into())
}

async fn by_mobile(db: &impl ConnectionTrait, mobile: &str) -> Result<Option<account::Model>, AppError> {
    Ok(account::Entity::find().filter(account::Column::Mobile.eq(mobile)).one(db).await?)
}

/// Registers an account. Every rule is checked before the SMS code is used up.
pub async fn register(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    req: RegisterRequest,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<account::Model, AppError> {
    let errors = req.check();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if password::is_common(req.password.as_str()) {
        return Err(field("password", ValidationError::PasswordCommon));
    }
    codes::consume(db, &req.mobile, CodePurpose::Register, &req.code, now).await?;
    let hash = password::hash(req.password.as_str().to_owned()).await?;
    let has_org = req.kind.has_organisation();
    let model = account::Model {
        id: super::new_id(),
        kind: req.kind.as_str().to_owned(),
        mobile: req.mobile.as_str().to_owned(),
        password_hash: hash,
        org_name: req.org_name.filter(|_| has_org).map(String::from),
        credit_code: req.credit_code.filter(|_| req.kind.has_credit_code()).map(String::from),
        name: req.name.into(),
        id_number: req.id_number.into(),
        email: req.email.map(String::from),
        agreement_version: req.agreement_version,
        agreed_at: now,
        created_at: now,
        updated_at: now,
        billing_mode: certdesk_shared::apply::BillingMode::ScanToPay.as_str().to_owned(),
    };
    let active: account::ActiveModel = model.clone().into();
    // The phone proved it is theirs, so saying it is taken tells them nothing new.
    account::Entity::insert(active).exec(db).await.map_err(super::already_exists)?;
    audit::append(
        db,
        key,
        Event {
            actor: &audit::customer(&model.id),
            action: "registered",
            subject: &model.mobile,
            ip: &meta.ip,
            detail: serde_json::json!({ "kind": model.kind, "agreement_version": model.agreement_version }),
        },
    )
    .await?;
    Ok(model)
}

/// Records a successful sign-in in the audit trail (the sign-in history reads it).
pub async fn signed_in(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    a: &account::Model,
    method: SignInMethod,
    meta: &ClientMeta,
) -> Result<(), AppError> {
    audit::append(
        db,
        key,
        Event {
            actor: &audit::customer(&a.id),
            action: "signed_in",
            subject: &a.mobile,
            ip: &meta.ip,
            detail: serde_json::json!({ "method": method, "user_agent": meta.user_agent }),
        },
    )
    .await?;
    Ok(())
}

/// Password sign-in. One answer (`sign_in_failed`) for an unknown phone and a wrong password;
/// both count towards the same throttles and take as long.
pub async fn sign_in(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    req: SignInRequest,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<account::Model, AppError> {
    if !req.agreed {
        return Err(field("agreed", ValidationError::AgreementRequired));
    }
    captcha::check(db, &req.captcha_id, &req.captcha_answer, now).await?;
    let mobile = req.mobile.trim().to_owned();
    let account_key = format!("sign_in:mobile:{mobile}");
    let address_key = meta.address_key("sign_in");
    // Each try is counted before the password is checked (see `throttle::attempt`).
    if !throttle::attempt(db, &address_key, throttle::SIGN_IN_ADDRESS, now).await? {
        return Err(ErrorCode::AccountLocked.into());
    }
    if !throttle::attempt(db, &account_key, throttle::SIGN_IN_ACCOUNT, now).await? {
        throttle::forgive(db, &address_key).await?;
        return Err(ErrorCode::AccountLocked.into());
    }
    let found = by_mobile(db, &mobile).await?;
    let ok = password::verify(found.as_ref().map(|a| a.password_hash.clone()), req.password).await?;
    match found {
        Some(a) if ok => {
            throttle::clear(db, &account_key).await?;
            throttle::forgive(db, &address_key).await?;
            signed_in(db, key, &a, SignInMethod::Password, meta).await?;
            Ok(a)
        }
        _ => {
            audit::append(
                db,
                key,
                Event {
                    actor: audit::ANONYMOUS,
                    action: "sign_in_failed",
                    subject: &mobile.chars().take(20).collect::<String>(),
                    ip: &meta.ip,
                    detail: serde_json::json!({ "method": SignInMethod::Password }),
                },
            )
            .await?;
            Err(ErrorCode::SignInFailed.into())
        }
    }
}

/// The account a passwordless sign-in starts for (None: unknown phone, answered with a decoy).
pub async fn for_key_sign_in(db: &impl ConnectionTrait, mobile: &str) -> Result<Option<account::Model>, AppError> {
    by_mobile(db, mobile.trim()).await
}

/// Forgotten password (seed 004 §2.3): the operator's ID number, the phone and its SMS code;
/// the user chooses the new password. Every session of the account ends.
pub async fn reset_password(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    notifier: &Notifier,
    req: ResetPasswordRequest,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if password::is_common(req.new_password.as_str()) {
        return Err(field("new_password", ValidationError::PasswordCommon));
    }
    codes::consume(db, &req.mobile, CodePurpose::ResetPassword, &req.code, now).await?;
    let a = by_mobile(db, req.mobile.as_str()).await?.ok_or(ErrorCode::CodeInvalid)?;
    if !super::same(&a.id_number, req.id_number.as_str()) {
        return Err(ErrorCode::IdentityMismatch.into());
    }
    set_password(db, &a, req.new_password.as_str(), now).await?;
    super::session::end_others(db, &a.id, None).await?;
    throttle::clear(db, &format!("sign_in:mobile:{}", a.mobile)).await?;
    // Whoever took the account may have added a key: the reset can take every key away.
    let keys_removed = if req.remove_security_keys {
        super::exec(
            db,
            "DELETE FROM webauthn_credential WHERE owner_kind = 'customer' AND owner_id = $1",
            vec![a.id.clone().into()],
        )
        .await?
        .rows_affected()
    } else {
        0
    };
    audit::append(
        db,
        key,
        Event {
            actor: &audit::customer(&a.id),
            action: "password_reset",
            subject: &a.mobile,
            ip: &meta.ip,
            detail: serde_json::json!({ "keys_removed": keys_removed }),
        },
    )
    .await?;
    tell_password_changed(notifier, &a).await;
    Ok(())
}

async fn set_password(
    db: &impl ConnectionTrait,
    a: &account::Model,
    new: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let hash = password::hash(new.to_owned()).await?;
    let mut active: account::ActiveModel = a.clone().into();
    active.password_hash = Set(hash);
    active.updated_at = Set(now);
    account::Entity::update(active).exec(db).await?;
    Ok(())
}

/// A notice by SMS and e-mail; a failure to notify does not undo the change.
async fn tell_password_changed(notifier: &Notifier, a: &account::Model) {
    if let Err(e) = notifier.sms(&a.mobile, Template::PasswordChanged).await {
        tracing::warn!(error = %e, "password-changed SMS not sent");
    }
    if let Some(email) = &a.email {
        let when = Utc::now().with_timezone(&crate::BEIJING).format("%Y-%m-%d %H:%M");
        let body = format!(
            "{}，您好：\n\n您的CertDesk登录密码已于{when}（北京时间）修改。如非本人操作，请立即通过“忘记密码”重置密码并联系客服。\n\nCertDesk",
            a.name
        );
        if let Err(e) = notifier.email.send(email, "password_changed", "CertDesk 登录密码已修改", &body).await {
            tracing::warn!(error = %e, "password-changed e-mail not sent");
        }
    }
}

/// Asks for the password again before a change to how the account signs in (a security key
/// added or removed), so that a session left open is not enough. Wrong tries count and lock
/// as sign-in's do.
pub async fn confirm_password(
    db: &impl ConnectionTrait,
    a: &account::Model,
    given: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if given.is_empty() {
        return Err(field("password", ValidationError::Required));
    }
    password_again(db, a, given.to_owned(), &format!("reauth:{}", a.id), "password", now).await
}

/// The account's password typed again, its tries counted under `counter` as sign-in's are
/// (waits, then a lock); a wrong one is reported under the form's `field_name`.
async fn password_again(
    db: &impl ConnectionTrait,
    a: &account::Model,
    given: String,
    counter: &str,
    field_name: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if !throttle::attempt(db, counter, throttle::SIGN_IN_ACCOUNT, now).await? {
        return Err(ErrorCode::AccountLocked.into());
    }
    if !password::verify(Some(a.password_hash.clone()), given).await? {
        return Err(field(field_name, ValidationError::PasswordWrong));
    }
    throttle::clear(db, counter).await?;
    Ok(())
}

/// A notice by SMS and e-mail that a security key was added or removed; a failure to notify
/// does not undo the change.
pub async fn tell_key_changed(notifier: &Notifier, a: &account::Model, key_name: &str, added: bool) {
    if let Err(e) = notifier.sms(&a.mobile, Template::SecurityKeyChanged { added }).await {
        tracing::warn!(error = %e, "security-key SMS not sent");
    }
    if let Some(email) = &a.email {
        let what = if added { "添加了" } else { "删除了" };
        let body = format!(
            "{}，您好：\n\n您的CertDesk账号刚刚{what}安全密钥“{key_name}”。如非本人操作，请立即修改密码、在用户中心删除陌生的安全密钥并联系客服。\n\nCertDesk",
            a.name
        );
        if let Err(e) = notifier.email.send(email, "security_key_changed", "CertDesk 安全密钥变更通知", &body).await
        {
            tracing::warn!(error = %e, "security-key e-mail not sent");
        }
    }
}

/// Changes the password after checking the current one; other sessions end.
#[allow(clippy::too_many_arguments)]
pub async fn change_password(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    notifier: &Notifier,
    account_id: &str,
    keep_session: &str,
    req: ChangePasswordRequest,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let a = find(db, account_id).await?;
    password_again(db, &a, req.current_password, &format!("password_change:{}", a.id), "current_password", now).await?;
    if password::is_common(req.new_password.as_str()) {
        return Err(field("new_password", ValidationError::PasswordCommon));
    }
    set_password(db, &a, req.new_password.as_str(), now).await?;
    super::session::end_others(db, &a.id, Some(keep_session)).await?;
    audit::append(
        db,
        key,
        Event {
            actor: &audit::customer(&a.id),
            action: "password_changed",
            subject: &a.mobile,
            ip: &meta.ip,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tell_password_changed(notifier, &a).await;
    Ok(())
}

/// Edits what may change: the organisation name (for organisations), the name and e-mail.
pub async fn update_profile(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    account_id: &str,
    req: UpdateProfileRequest,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<account::Model, AppError> {
    let a = find(db, account_id).await?;
    let kind = AccountKind::parse(&a.kind).unwrap_or(AccountKind::Personal);
    if kind.has_organisation() && req.org_name.is_none() {
        return Err(field("org_name", ValidationError::Required));
    }
    let mut active: account::ActiveModel = a.clone().into();
    if kind.has_organisation() {
        active.org_name = Set(req.org_name.map(String::from));
    }
    active.name = Set(req.name.into());
    active.email = Set(req.email.map(String::from));
    active.updated_at = Set(now);
    let updated = account::Entity::update(active).exec(db).await?;
    audit::append(
        db,
        key,
        Event {
            actor: &audit::customer(&a.id),
            action: "profile_updated",
            subject: &a.mobile,
            ip: &meta.ip,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    Ok(updated)
}

/// The last 50 sign-ins and failed sign-ins of an account.
pub async fn sign_in_history(db: &impl ConnectionTrait, account_id: &str) -> Result<Vec<SignInRecord>, AppError> {
    let a = find(db, account_id).await?;
    let rows = audit::sign_ins(db, &a.id, &a.mobile, 50).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let detail: serde_json::Value = serde_json::from_str(&r.detail).unwrap_or_default();
            SignInRecord {
                at: r.at.to_rfc3339(),
                address: r.ip,
                method: serde_json::from_value(detail["method"].clone()).ok(),
                succeeded: r.action == "signed_in",
            }
        })
        .collect())
}
