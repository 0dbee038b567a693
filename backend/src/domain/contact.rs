//! The phone of record (预留手机号) of a certificate: where the SMS codes for its holder's
//! 证书注销, 证书补办, 解冻 and 证书解锁 go, shown masked. It is the phone an approved
//! 经办人变更 set ([`set`]), else the operator's phone of the request that produced the
//! certificate, else its account's phone. A successor (延期, 变更, 补办) keeps its
//! predecessor's ([`carry_over`]).

use certdesk_shared::{ErrorCode, Mobile};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict};

use crate::entity::{account, certificate_contact, request};
use crate::error::AppError;

/// The certificate's phone of record.
pub async fn phone_of_record(db: &impl ConnectionTrait, uid: &str) -> Result<Mobile, AppError> {
    if let Some(c) = certificate_contact::Entity::find_by_id(uid.to_owned()).one(db).await? {
        return mobile(&c.mobile);
    }
    let produced_by = request::Entity::find()
        .filter(request::Column::CertificateUid.eq(uid))
        .one(db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    if let Some(m) = produced_by.operator_mobile.as_deref().filter(|m| !m.is_empty()) {
        return mobile(m);
    }
    let a = account::Entity::find_by_id(produced_by.account_id).one(db).await?.ok_or(ErrorCode::NotFound)?;
    mobile(&a.mobile)
}

fn mobile(s: &str) -> Result<Mobile, AppError> {
    Mobile::parse(s).map_err(|_| AppError::Internal(anyhow::anyhow!("a stored phone of record does not parse")))
}

/// Makes `mobile` the phone of record of `uid` (an approved 经办人变更, in its transaction).
pub async fn set(
    db: &impl ConnectionTrait,
    uid: &str,
    mobile: &Mobile,
    operator_json: Option<String>,
    request_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let row = certificate_contact::ActiveModel {
        certificate_uid: sea_orm::Set(uid.to_owned()),
        mobile: sea_orm::Set(mobile.as_str().to_owned()),
        operator: sea_orm::Set(operator_json),
        request_id: sea_orm::Set(request_id),
        updated_at: sea_orm::Set(now),
    };
    certificate_contact::Entity::insert(row)
        .on_conflict(
            OnConflict::column(certificate_contact::Column::CertificateUid)
                .update_columns([
                    certificate_contact::Column::Mobile,
                    certificate_contact::Column::Operator,
                    certificate_contact::Column::RequestId,
                    certificate_contact::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// A successor certificate (延期, 变更, 补办) keeps the phone of record of the one it replaces.
/// It is written down for the successor: the request that produced the successor names no
/// operator of its own, so without a row the successor would fall back to the account's phone.
pub async fn carry_over(
    db: &impl ConnectionTrait,
    from_uid: &str,
    to_uid: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let row = certificate_contact::Entity::find_by_id(from_uid.to_owned()).one(db).await?;
    let phone = phone_of_record(db, from_uid).await?;
    let (operator, request_id) = row.map(|c| (c.operator, c.request_id)).unwrap_or_default();
    set(db, to_uid, &phone, operator, request_id, now).await
}

/// Whether `phone` is the phone of record of any certificate (the public 证书解锁 form sends
/// codes only to those).
pub async fn is_phone_of_record_somewhere(db: &impl ConnectionTrait, phone: &str) -> Result<bool, AppError> {
    Ok(certificate_contact::Entity::find()
        .filter(certificate_contact::Column::Mobile.eq(phone))
        .one(db)
        .await?
        .is_some())
}
