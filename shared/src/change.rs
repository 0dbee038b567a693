//! 证书变更 and 经办人变更 (seed 004 §5, seed 003 §1.3.2), both started from 我的证书 on a
//! valid certificate:
//! - 证书变更 (request kind `change`), for 机构证书 and 法人证书 only: ① 资料上传 ② 证书信息变更
//!   (the new holder) ③ 经办人信息变更 ④ 提交审核 ⑤ 证书下载 — a new key pair on the token that
//!   holds the certificate, a certificate with the new subject, then the old one superseded.
//! - 经办人变更 (kind `operator_change`): ① 资料上传 ② 经办人资料变更 ③ 提交审核; no new
//!   certificate: once approved, the new operator's phone is the phone of record.
//!
//! Both are free of charge (the seeds name no price for them) and reviewed by staff, who see
//! what changed, field by field ([`FieldChange`]).

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::apply::{DocumentKind, Holder, OperatorInfo};
use crate::certificate::CertificateProfile;
use crate::request::{RequestKind, RequestView};

/// Which of the two a request is; the path says it: `POST /api/change/{uid}` with this body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct StartChange {
    /// `change` or `operator_change`.
    pub kind: RequestKind,
}

/// Why a change cannot start for this certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ChangeClosed {
    /// Revoked, frozen or expired.
    NotValid,
    /// A 个人证书: its holder is a person, who does not change (证书变更 only; 经办人变更 is open).
    Personal,
}

/// `GET /api/change/{uid}`: the certificate, its holder and operator as they are now, and the
/// change (of either kind) under way for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChangeOffer {
    pub certificate_uid: String,
    pub common_name: String,
    pub profile: CertificateProfile,
    pub type_name: String,
    pub serial: String,
    pub not_after: String,
    /// 介质编号: the token a new certificate must go onto.
    pub medium_no: Option<String>,
    /// The holder as the certificate has it (`None` for a certificate from before holders
    /// were kept).
    pub holder: Option<Holder>,
    /// The operator of record.
    pub operator: Option<OperatorInfo>,
    /// The documents ① asks for: the certificate type's for 证书变更, the operator's ID for
    /// 经办人变更.
    pub change_documents: Vec<DocumentKind>,
    pub operator_documents: Vec<DocumentKind>,
    /// `None` when 证书变更 may start.
    pub change_closed: Option<ChangeClosed>,
    /// `None` when 经办人变更 may start.
    pub operator_closed: Option<ChangeClosed>,
    /// The 证书变更 or 经办人变更 under way for this certificate, if any.
    pub request: Option<RequestView>,
}

/// One field a change alters, as the reviewer sees it: old value → new value. `field` is the
/// wizard's field name (`org_name`, `credit_code`, `holder_name`, `holder_id_number`, `name`,
/// `id_number`, `mobile`, `operator_email`, `unit_phone`, `operator_address`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// What a change request keeps of the certificate as it was when the change started (its
/// `payload`), so that the reviewer sees the differences even after the certificate moved on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChangeBefore {
    pub holder: Option<Holder>,
    pub operator: Option<OperatorInfo>,
}

fn holder_fields(h: Option<&Holder>) -> Vec<(&'static str, String)> {
    let Some(h) = h else { return Vec::new() };
    let mut out = Vec::new();
    if let Some((org, code)) = h.organisation() {
        out.push(("org_name", org.as_str().to_owned()));
        out.push(("credit_code", code.as_str().to_owned()));
    }
    if let Holder::LegalPerson { name, id, .. } | Holder::Person { name, id } = h {
        out.push(("holder_name", name.as_str().to_owned()));
        out.push(("holder_id_number", id.number().to_owned()));
    }
    out
}

fn operator_fields(o: Option<&OperatorInfo>) -> Vec<(&'static str, String)> {
    let Some(o) = o else { return Vec::new() };
    vec![
        ("name", o.name.as_str().to_owned()),
        ("id_number", o.id_number.as_str().to_owned()),
        ("mobile", o.mobile.as_str().to_owned()),
        ("operator_email", o.email.as_str().to_owned()),
        ("unit_phone", o.unit_phone.clone().unwrap_or_default()),
        ("operator_address", o.address.clone().unwrap_or_default()),
    ]
}

fn diff(before: Vec<(&'static str, String)>, after: Vec<(&'static str, String)>) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for (field, new) in &after {
        let old = before.iter().find(|(f, _)| f == field).map(|(_, v)| v.clone()).unwrap_or_default();
        if &old != new {
            out.push(FieldChange { field: (*field).to_owned(), before: old, after: new.clone() });
        }
    }
    out
}

/// The fields a change alters: the holder's (when a new holder is given) and the operator's
/// (when a new operator is given), in the form's order; unchanged fields are left out.
pub fn changes(before: &ChangeBefore, holder: Option<&Holder>, operator: Option<&OperatorInfo>) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if holder.is_some() {
        out.extend(diff(holder_fields(before.holder.as_ref()), holder_fields(holder)));
    }
    if operator.is_some() {
        out.extend(diff(operator_fields(before.operator.as_ref()), operator_fields(operator)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{CreditCode, Email, IdCardNumber, Mobile, OrgName, PersonName};

    fn unit(name: &str) -> Holder {
        Holder::Organisation {
            org_name: OrgName::parse(name).unwrap(),
            credit_code: CreditCode::parse("91350100M000100Y43").unwrap(),
        }
    }

    fn operator(mobile: &str) -> OperatorInfo {
        OperatorInfo {
            name: PersonName::parse("张三").unwrap(),
            id_number: IdCardNumber::parse("11010519491231002X").unwrap(),
            mobile: Mobile::parse(mobile).unwrap(),
            email: Email::parse("zs@example.com").unwrap(),
            unit_phone: None,
            address: None,
        }
    }

    #[test]
    fn only_what_differs_is_listed_old_to_new() {
        let before = ChangeBefore { holder: Some(unit("甲公司")), operator: Some(operator("15100009192")) };
        let c = changes(&before, Some(&unit("乙公司")), Some(&operator("15100009193")));
        assert_eq!(
            c,
            vec![
                FieldChange { field: "org_name".into(), before: "甲公司".into(), after: "乙公司".into() },
                FieldChange { field: "mobile".into(), before: "15100009192".into(), after: "15100009193".into() },
            ]
        );
        // Nothing new given yet: nothing listed; the same values: nothing listed.
        assert!(changes(&before, None, None).is_empty());
        assert!(changes(&before, before.holder.as_ref(), before.operator.as_ref()).is_empty());
        // An operator where there was none: every field is new.
        let none = ChangeBefore { holder: None, operator: None };
        assert_eq!(changes(&none, None, Some(&operator("15100009192"))).len(), 4);
    }
}

crate::deserialize_by_name!(ChangeClosed);
