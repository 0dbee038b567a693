//! 我的证书 (seed 002 §2.2, seed 004 §4–§7): the signed-in account's certificates in the
//! tabs 有效 / 冻结 / 失效, each with its 证书信息 panel and whether 延期 is open for it.
//! `GET /api/my-certificates` and `GET /api/my-certificates/{uid}`.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::account::CodePurpose;
use crate::certificate::CertificateProfile;

/// Where a certificate stands for its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MyCertificateStatus {
    Valid,
    /// 冻结: on hold, listed in the CRL until released.
    Frozen,
    /// Past its end of validity (and not revoked).
    Expired,
    /// Revoked for any reason but `superseded`.
    Revoked,
    /// Revoked because a newer certificate replaced it (RFC 5280 reason `superseded`).
    Superseded,
}

/// The three tabs of 我的证书: 有效的证书, 冻结的证书, 失效的证书.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MyCertificatesTab {
    Valid,
    Frozen,
    Invalid,
}

impl MyCertificatesTab {
    pub const ALL: [MyCertificatesTab; 3] =
        [MyCertificatesTab::Valid, MyCertificatesTab::Frozen, MyCertificatesTab::Invalid];
}

impl MyCertificateStatus {
    pub fn tab(self) -> MyCertificatesTab {
        match self {
            MyCertificateStatus::Valid => MyCertificatesTab::Valid,
            MyCertificateStatus::Frozen => MyCertificatesTab::Frozen,
            MyCertificateStatus::Expired | MyCertificateStatus::Revoked | MyCertificateStatus::Superseded => {
                MyCertificatesTab::Invalid
            }
        }
    }
}

/// 证书信息 (seed 004 §4.1.3): the panel shown for a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CertificatePanel {
    /// 通用名 (the subject's CN).
    pub common_name: String,
    /// 所属机构名称 (the subject's O); `None` for a certificate without one.
    pub organisation: Option<String>,
    /// 证书类型: the catalogue's name (机构证书 …) when the application chose one.
    pub type_name: Option<String>,
    /// The profile it was issued under (机构证书（签名）…).
    pub profile: Option<CertificateProfile>,
    /// 国家: the subject's C, an ISO 3166 code (`CN`).
    pub country: String,
    /// 省份 and 城市: the subject's ST and L.
    pub province: String,
    pub city: String,
    /// 电子邮箱: the holder's, as given when applying (not masked: it is their own).
    pub email: Option<String>,
    /// 有效起始时间 and 有效结束时间, RFC 3339.
    pub not_before: String,
    pub not_after: String,
    /// 证书序列号: upper-case hex, as the seed shows it.
    pub serial: String,
    /// 介质编号: the token it was downloaded into.
    pub medium_no: Option<String>,
    /// 信任服务号: the business number of the application it was issued for (业务受理号,
    /// also in the subject's first OU).
    pub trust_service_no: Option<String>,
}

/// One of the account's certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct MyCertificate {
    pub uid: String,
    pub status: MyCertificateStatus,
    pub panel: CertificatePanel,
    /// When it was revoked or frozen, RFC 3339.
    pub revoked_at: Option<String>,
    /// The first day (UTC, `YYYY-MM-DD`) 延期 is open: [`crate::renew::WINDOW_DAYS`] before
    /// `not_after`.
    pub renewable_from: String,
    /// 延期 is open now: a valid certificate inside its window.
    pub renewable: bool,
    /// The phone of record (预留手机号) its SMS codes go to, masked (`151****9192`).
    pub phone_masked: String,
    /// Who froze it, while it is frozen: the holder may unfreeze only their own freeze.
    pub frozen_by: Option<crate::freeze::FrozenBy>,
    /// The request under way for it (延期, 注销 …), if any: no other starts meanwhile.
    pub request_under_way: Option<crate::request::RequestKind>,
    /// 证书补办 is open: a valid or frozen certificate on a UKey.
    #[serde(default)]
    pub reissuable: bool,
    /// The medium chosen for it (UKey, PC soft shield, mobile shield).
    #[serde(default)]
    pub medium: Option<crate::apply::Medium>,
    /// A mobile shield's state (已停用 / 已锁定 show next to it); `None` for other media.
    #[serde(default)]
    pub shield_state: Option<crate::shield::ShieldState>,
}

/// `POST /api/my-certificates/{uid}/code`: an SMS code to the certificate's phone of record,
/// for one of the purposes [`CodePurpose::for_certificate`] names.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CertificateCodeRequest {
    pub purpose: CodePurpose,
}

/// Answer to [`CertificateCodeRequest`]: where it went, masked, and when another may be asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CertificateCodeSent {
    pub phone_masked: String,
    pub resend_after_secs: u32,
    pub valid_for_secs: u32,
}

impl MyCertificate {
    pub fn tab(&self) -> MyCertificatesTab {
        self.status.tab()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Named;

    #[test]
    fn each_status_has_its_tab() {
        let cases = [
            (MyCertificateStatus::Valid, MyCertificatesTab::Valid),
            (MyCertificateStatus::Frozen, MyCertificatesTab::Frozen),
            (MyCertificateStatus::Expired, MyCertificatesTab::Invalid),
            (MyCertificateStatus::Revoked, MyCertificatesTab::Invalid),
            (MyCertificateStatus::Superseded, MyCertificatesTab::Invalid),
        ];
        for (status, tab) in cases {
            assert_eq!(status.tab(), tab, "{status:?}");
        }
    }

    #[test]
    fn tab_names_round_trip() {
        for t in MyCertificatesTab::ALL {
            assert_eq!(MyCertificatesTab::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_string(&t).unwrap_or_default(), format!("\"{}\"", t.as_str()));
        }
        assert_eq!(MyCertificatesTab::parse("revoked"), None);
    }
}

crate::deserialize_by_name!(MyCertificatesTab);

crate::deserialize_by_name!(MyCertificateStatus);
