//! 我的证书: the certificates an account holds, each with its 证书信息 panel (seed 004
//! §4.1.3), its tab (有效 / 冻结 / 失效) and whether 延期 is open for it. [`holdings`] is the
//! one place that says which account holds which certificate.

use std::collections::HashMap;

use certdesk_shared::ErrorCode;
use certdesk_shared::apply::Medium;
use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use certdesk_shared::freeze::FrozenBy;
use certdesk_shared::my_certificates::{CertificatePanel, MyCertificate, MyCertificateStatus};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::ca::revoke::{HOLD, REVOKED};
use crate::entity::{catalogue_type, certificate, request};
use crate::error::AppError;
use certdesk_shared::Named;

/// A certificate and what the account's request for it says.
pub struct Holding {
    pub certificate: certificate::Model,
    /// The business number (业务受理号) of the request it was issued for.
    pub acceptance_no: Option<String>,
    /// The catalogue type the request chose.
    pub type_id: Option<String>,
    /// The medium the request chose (`ukey`, `pc_shield` …).
    pub medium: Option<String>,
}

/// The certificates `account_id` holds: those its requests produced (a 新办's, a renewal's:
/// `request.certificate_uid`); with `uid`, that one only (empty when it is not the
/// account's). Every "is this the holder's certificate" question goes through here.
pub async fn holdings(
    db: &impl ConnectionTrait,
    account_id: &str,
    uid: Option<&str>,
) -> Result<Vec<Holding>, AppError> {
    let mut apps = request::Entity::find()
        .filter(request::Column::AccountId.eq(account_id))
        .filter(request::Column::CertificateUid.is_not_null());
    if let Some(uid) = uid {
        apps = apps.filter(request::Column::CertificateUid.eq(uid));
    }
    let apps: HashMap<String, request::Model> =
        apps.all(db).await?.into_iter().filter_map(|a| Some((a.certificate_uid.clone()?, a))).collect();
    if apps.is_empty() {
        return Ok(Vec::new());
    }
    let certs = certificate::Entity::find()
        .filter(certificate::Column::Uid.is_in(apps.keys().cloned().collect::<Vec<_>>()))
        .all(db)
        .await?;
    Ok(certs
        .into_iter()
        .filter_map(|c| {
            let app = apps.get(&c.uid)?;
            Some(Holding {
                acceptance_no: app.acceptance_no.clone(),
                type_id: app.type_id.clone(),
                medium: app.medium.clone(),
                certificate: c,
            })
        })
        .collect())
}

/// The account's certificates, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<MyCertificate>, AppError> {
    let mut held = holdings(db, account_id, None).await?;
    held.sort_by(|a, b| {
        (b.certificate.not_before, b.certificate.id).cmp(&(a.certificate.not_before, a.certificate.id))
    });
    views(db, held, now).await
}

/// One of the account's certificates; another account's (or none) is not found.
pub async fn one(
    db: &impl ConnectionTrait,
    account_id: &str,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<MyCertificate, AppError> {
    let held = holdings(db, account_id, Some(uid)).await?;
    views(db, held, now).await?.pop().ok_or_else(|| ErrorCode::NotFound.into())
}

async fn views(
    db: &impl ConnectionTrait,
    held: Vec<Holding>,
    now: DateTime<Utc>,
) -> Result<Vec<MyCertificate>, AppError> {
    let ids: Vec<String> = held.iter().filter_map(|h| h.type_id.clone()).collect();
    let types: HashMap<String, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        catalogue_type::Entity::find()
            .filter(catalogue_type::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect()
    };
    let mut out = Vec::with_capacity(held.len());
    for h in held {
        let type_name = h.type_id.as_ref().and_then(|t| types.get(t).cloned());
        let phone = super::contact::phone_of_record(db, &h.certificate.uid).await?;
        let under_way = super::request::open_for_certificate(db, &h.certificate.uid).await?.map(|r| r.kind.into());
        let mut v = view(&h, type_name, phone.masked(), now);
        v.request_under_way = under_way;
        v.shield_state = super::mobile_shield::state_of(db, &h.certificate.uid).await?;
        out.push(v);
    }
    Ok(out)
}

/// Where a certificate stands at `now`.
pub fn status(c: &certificate::Model, now: DateTime<Utc>) -> MyCertificateStatus {
    if c.status == REVOKED {
        let superseded = c.reason == Some(i16::from(RevocationReason::Superseded.code()));
        return if superseded { MyCertificateStatus::Superseded } else { MyCertificateStatus::Revoked };
    }
    if now >= c.not_after {
        MyCertificateStatus::Expired
    } else if c.status == HOLD {
        MyCertificateStatus::Frozen
    } else {
        MyCertificateStatus::Valid
    }
}

/// 延期 is open: the same rule as the renewal itself ([`crate::domain::renew::not_open`]).
pub fn renewable(c: &certificate::Model, now: DateTime<Utc>) -> bool {
    crate::domain::renew::not_open(c, now).is_none()
}

/// The subject attributes the panel shows.
#[derive(Default)]
struct SubjectParts {
    common_name: String,
    organisation: Option<String>,
    country: String,
    province: String,
    city: String,
}

fn subject_parts(der: &[u8]) -> SubjectParts {
    let mut parts = SubjectParts::default();
    let Ok((_, x)) = x509_parser::parse_x509_certificate(der) else {
        return parts;
    };
    let first = |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue<'_>>| {
        it.next().and_then(|a| a.as_str().ok()).map(str::to_owned)
    };
    let s = x.subject();
    parts.common_name = first(&mut s.iter_common_name()).unwrap_or_default();
    parts.organisation = first(&mut s.iter_organization());
    parts.country = first(&mut s.iter_country()).unwrap_or_default();
    parts.province = first(&mut s.iter_state_or_province()).unwrap_or_default();
    parts.city = first(&mut s.iter_locality()).unwrap_or_default();
    parts
}

fn view(h: &Holding, type_name: Option<String>, phone_masked: String, now: DateTime<Utc>) -> MyCertificate {
    let c = &h.certificate;
    let s = subject_parts(&c.der);
    MyCertificate {
        uid: c.uid.clone(),
        status: status(c, now),
        panel: CertificatePanel {
            common_name: if s.common_name.is_empty() { c.subject.clone() } else { s.common_name },
            organisation: s.organisation,
            type_name,
            profile: CertificateProfile::parse(&c.profile),
            country: s.country,
            province: s.province,
            city: s.city,
            email: c.email.clone(),
            not_before: c.not_before.to_rfc3339(),
            not_after: c.not_after.to_rfc3339(),
            serial: c.serial.to_uppercase(),
            medium_no: c.medium_no.clone(),
            trust_service_no: h.acceptance_no.clone(),
        },
        revoked_at: c.revoked_at.map(|t| t.to_rfc3339()),
        renewable_from: crate::domain::renew::opens_at(c).format("%Y-%m-%d").to_string(),
        renewable: renewable(c, now),
        phone_masked,
        frozen_by: if c.status == HOLD { c.frozen_by.as_deref().and_then(FrozenBy::parse) } else { None },
        request_under_way: None,
        reissuable: super::reissue::not_open(h.medium.as_deref(), c, now).is_none(),
        medium: h.medium.as_deref().and_then(Medium::parse),
        shield_state: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn cert(status: &str, reason: Option<i16>, not_after: DateTime<Utc>) -> certificate::Model {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        certificate::Model {
            id: 1,
            uid: "u".into(),
            ca_id: 1,
            serial: "0a".into(),
            profile: "org_sign".into(),
            subject: "s".into(),
            not_before: t,
            not_after,
            der: Vec::new(),
            status: status.into(),
            revoked_at: None,
            reason,
            invalidity_date: None,
            crl_entry: None,
            created_at: t,
            email: None,
            medium_no: None,
            frozen_by: None,
            crl_shard: None,
        }
    }

    #[test]
    fn status_and_renewal_window() {
        let end = Utc.with_ymd_and_hms(2027, 1, 1, 8, 30, 0).unwrap();
        // The renewal's own rule: exactly 90 days before the end.
        let opens = Utc.with_ymd_and_hms(2026, 10, 3, 8, 30, 0).unwrap();
        assert_eq!(crate::domain::renew::opens_at(&cert("valid", None, end)), opens);
        let valid = cert("valid", None, end);
        let cases = [
            (opens - Duration::seconds(1), MyCertificateStatus::Valid, false),
            (opens, MyCertificateStatus::Valid, true),
            (end - Duration::seconds(1), MyCertificateStatus::Valid, true),
            (end, MyCertificateStatus::Expired, false),
        ];
        for (now, want, open) in cases {
            assert_eq!((status(&valid, now), renewable(&valid, now)), (want, open), "{now}");
        }
        let in_window = opens + Duration::days(1);
        let frozen = cert("hold", Some(6), end);
        assert_eq!((status(&frozen, in_window), renewable(&frozen, in_window)), (MyCertificateStatus::Frozen, false));
        assert_eq!(status(&frozen, end), MyCertificateStatus::Expired);
        let revoked = cert("revoked", Some(1), end);
        assert_eq!(
            (status(&revoked, in_window), renewable(&revoked, in_window)),
            (MyCertificateStatus::Revoked, false)
        );
        assert_eq!(status(&cert("revoked", Some(4), end), in_window), MyCertificateStatus::Superseded);
    }
}
