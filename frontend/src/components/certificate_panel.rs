//! 证书信息 (seed 004 §4.1.3): the panel of one of the customer's certificates, as 我的证书
//! and 证书延期 show it.

use crate::i18n::td_string;
use certdesk_shared::my_certificates::CertificatePanel;
use leptos::prelude::*;

use super::fields::Text;
use super::tr;

/// The date of an RFC 3339 time (`2026-11-03`).
pub fn date_of(rfc3339: &str) -> String {
    rfc3339.chars().take(10).collect()
}

/// One `<dt>`/`<dd>` row of a 证书信息 panel.
pub fn item(label: Text, value: impl IntoView + 'static) -> impl IntoView {
    view! {
        <div>
            <dt>{tr(label)}</dt>
            <dd>{value}</dd>
        </div>
    }
}

fn or_dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

/// 通用名, 所属机构名称, 证书类型, 国家, 省份, 城市, 电子邮箱, 有效起始时间, 有效结束时间,
/// 证书序列号, 介质编号, 信任服务号, in the seed's order.
pub fn certificate_panel(p: CertificatePanel) -> impl IntoView {
    let profile = crate::pages::search::profile_text(p.profile);
    let type_name = p.type_name;
    let country = p.country;
    view! {
        <dl class="cert-panel">
            {item(|l| td_string!(l, col_common_name), p.common_name)}
            {item(|l| td_string!(l, panel_organisation), or_dash(p.organisation))}
            {item(|l| td_string!(l, field_cert_type), match type_name {
                // The catalogue's name, and the profile (签名 or 加密) beside it.
                Some(t) => view! { {t} " " <span class="muted">{tr(profile)}</span> }.into_any(),
                None => view! { {tr(profile)} }.into_any(),
            })}
            {item(|l| td_string!(l, panel_country), move || if country == "CN" {
                tr(|l| td_string!(l, country_cn))().to_owned()
            } else {
                country.clone()
            })}
            {item(|l| td_string!(l, panel_province), p.province)}
            {item(|l| td_string!(l, panel_city), p.city)}
            {item(|l| td_string!(l, field_email), or_dash(p.email))}
            {item(|l| td_string!(l, panel_not_before), date_of(&p.not_before))}
            {item(|l| td_string!(l, panel_not_after), date_of(&p.not_after))}
            {item(|l| td_string!(l, panel_serial), view! { <code>{p.serial}</code> })}
            {item(|l| td_string!(l, panel_medium_no), or_dash(p.medium_no))}
            {item(|l| td_string!(l, panel_trust_service_no), or_dash(p.trust_service_no))}
        </dl>
    }
}
