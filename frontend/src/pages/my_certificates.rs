//! 我的证书 (seed 002 §2.2): the signed-in customer's certificates in the tabs 有效的证书 /
//! 冻结的证书 / 失效的证书 (`?tab=`), each with its 证书信息 panel (seed 004 §4.1.3), its
//! downloads and the operations open for it: 证书延期 only inside its window (else the day
//! it opens, as text), its public page (撤销 with the challenge phrase), 证书解锁 for a
//! certificate on a token, 证书校验.

use certdesk_shared::my_certificates::{MyCertificate, MyCertificateStatus, MyCertificatesTab};
use leptos::prelude::*;
use leptos_i18n::td_string;
use leptos_router::hooks::use_query_map;

use crate::components::certificate_panel::{certificate_panel, date_of};
use crate::components::fields::Text;
use crate::components::table::{load_into, loaded};
use crate::components::{tr, use_page_title};
use crate::form::{Load, fill};
use crate::i18n::use_i18n;
use crate::pages::applications::CustomerTabs;

pub fn tab_text(t: MyCertificatesTab) -> Text {
    match t {
        MyCertificatesTab::Valid => |l| td_string!(l, tab_valid),
        MyCertificatesTab::Frozen => |l| td_string!(l, tab_frozen),
        MyCertificatesTab::Invalid => |l| td_string!(l, tab_invalid),
    }
}

pub fn status_text(s: MyCertificateStatus) -> Text {
    match s {
        MyCertificateStatus::Valid => |l| td_string!(l, pub_valid),
        MyCertificateStatus::Frozen => |l| td_string!(l, pub_suspended),
        MyCertificateStatus::Expired => |l| td_string!(l, pub_expired),
        MyCertificateStatus::Revoked => |l| td_string!(l, pub_revoked),
        MyCertificateStatus::Superseded => |l| td_string!(l, reason_superseded),
    }
}

/// The operations a certificate's holder may start from 我的证书, by their paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actions {
    /// `/renew?uid=…` when 延期 is open.
    pub renew: Option<String>,
    /// The day 延期 opens, for a valid certificate before its window.
    pub renew_opens: Option<String>,
    /// The public page (证书详情, 撤销 while it is not revoked).
    pub detail: String,
    /// 证书解锁: a certificate on a token, not revoked or expired.
    pub unlock: bool,
    /// 证书校验: a valid certificate.
    pub verify: bool,
    /// `/reissue?uid=…`: 证书补办 of a valid or frozen UKey certificate.
    pub reissue: Option<String>,
}

impl Actions {
    pub fn of(c: &MyCertificate) -> Self {
        let valid = c.status == MyCertificateStatus::Valid;
        let live = matches!(c.status, MyCertificateStatus::Valid | MyCertificateStatus::Frozen);
        Actions {
            renew: c.renewable.then(|| format!("/renew?uid={}", c.uid)),
            renew_opens: (valid && !c.renewable).then(|| c.renewable_from.clone()),
            detail: format!("/certificates/{}", c.uid),
            unlock: live && c.panel.medium_no.is_some(),
            verify: valid,
            reissue: c.reissuable.then(|| format!("/reissue?uid={}", c.uid)),
        }
    }
}

fn card(c: MyCertificate) -> impl IntoView {
    let i18n = use_i18n();
    let (heading, labelled_by) = (format!("cert-{}", c.uid), format!("cert-{}", c.uid));
    let a = Actions::of(&c);
    let uid = c.uid.clone();
    let opens = a.renew_opens.clone();
    view! {
        <section class="panel cert" aria-labelledby=labelled_by>
            <h2 id=heading>
                {c.panel.common_name.clone()}
                " "
                <span class="status">{tr(status_text(c.status))}</span>
            </h2>
            {certificate_panel(c.panel.clone())}
            {c.revoked_at.clone().map(|at| view! {
                <p class="muted">{tr(|l| td_string!(l, col_revoked_at))} "：" {date_of(&at)}</p>
            })}
            <div class="actions">
                <a class="button" href=format!("/api/certificates/{uid}.pem") download>{tr(|l| td_string!(l, download_pem))}</a>
                <a class="button" href=format!("/api/certificates/{uid}.der") download>{tr(|l| td_string!(l, download_der))}</a>
                {a.renew.map(|href| view! { <a class="button primary" href=href>{tr(|l| td_string!(l, nav_renew))}</a> })}
                <a class="button" href=a.detail>{tr(|l| td_string!(l, my_certificate_detail))}</a>
                {a.unlock.then(|| view! { <a class="button" href="/unlock">{tr(|l| td_string!(l, nav_unlock))}</a> })}
                {a.verify.then(|| view! { <a class="button" href="/verify">{tr(|l| td_string!(l, nav_verify))}</a> })}
                {a.reissue.map(|href| view! { <a class="button" href=href>{tr(|l| td_string!(l, nav_reissue))}</a> })}
            </div>
            {opens.map(|day| view! {
                <p class="muted">{move || fill(td_string!(i18n.get_locale(), renew_opens), &day)}</p>
            })}
        </section>
    }
}

#[component]
pub fn MyCertificates() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), my_certificates).to_owned());
    let list = RwSignal::new(Load::<Vec<MyCertificate>>::Loading);
    crate::session::when_signed_in("/my-certificates", move || {
        load_into(list, "/api/my-certificates", i18n.get_locale_untracked());
    });
    let query = use_query_map();
    let tab = Memo::new(move |_| {
        query.with(|q| q.get("tab").as_deref().and_then(MyCertificatesTab::parse)).unwrap_or(MyCertificatesTab::Valid)
    });
    view! {
        <h1>{tr(|l| td_string!(l, my_certificates))}</h1>
        <CustomerTabs />
        {loaded(list, move |certs| {
            let count = |t: MyCertificatesTab| certs.iter().filter(|c| c.tab() == t).count();
            let tabs = MyCertificatesTab::ALL
                .into_iter()
                .map(|t| {
                    let n = count(t);
                    view! {
                        <a
                            href=format!("/my-certificates?tab={}", t.as_str())
                            aria-current=move || (tab.get() == t).then_some("page")
                        >
                            {tr(tab_text(t))}
                            {format!(" ({n})")}
                        </a>
                    }
                })
                .collect_view();
            let certs = certs.clone();
            view! {
                <nav class="page-tabs" aria-label=tr(|l| td_string!(l, my_certificates_tabs))>{tabs}</nav>
                {move || {
                    let t = tab.get();
                    let shown: Vec<_> = certs.iter().filter(|c| c.tab() == t).cloned().map(card).collect();
                    if shown.is_empty() {
                        view! { <p class="muted">{tr(|l| td_string!(l, no_data))}</p> }.into_any()
                    } else {
                        shown.into_any()
                    }
                }}
            }
            .into_any()
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certdesk_shared::my_certificates::CertificatePanel;

    fn cert(status: MyCertificateStatus, renewable: bool, medium: Option<&str>) -> MyCertificate {
        MyCertificate {
            uid: "abc".into(),
            status,
            panel: CertificatePanel {
                common_name: "天津市滨海数字认证有限公司".into(),
                organisation: None,
                type_name: None,
                profile: None,
                country: "CN".into(),
                province: "天津市".into(),
                city: "和平区".into(),
                email: None,
                not_before: "2026-01-01T00:00:00+00:00".into(),
                not_after: "2027-01-01T00:00:00+00:00".into(),
                serial: "0A".into(),
                medium_no: medium.map(str::to_owned),
                trust_service_no: None,
            },
            revoked_at: None,
            renewable_from: "2026-10-03".into(),
            renewable,
            phone_masked: "151****9192".into(),
            // The server's rule: a valid or frozen certificate on a UKey.
            reissuable: medium.is_some() && matches!(status, MyCertificateStatus::Valid | MyCertificateStatus::Frozen),
        }
    }

    #[test]
    fn each_certificate_offers_only_what_is_open_for_it() {
        let fresh = Actions::of(&cert(MyCertificateStatus::Valid, false, Some("TJCA01")));
        assert_eq!(
            fresh,
            Actions {
                renew: None,
                renew_opens: Some("2026-10-03".into()),
                detail: "/certificates/abc".into(),
                unlock: true,
                verify: true,
                reissue: Some("/reissue?uid=abc".into()),
            }
        );
        let due = Actions::of(&cert(MyCertificateStatus::Valid, true, None));
        assert_eq!((due.renew.as_deref(), due.renew_opens, due.unlock), (Some("/renew?uid=abc"), None, false));
        let frozen = Actions::of(&cert(MyCertificateStatus::Frozen, false, Some("TJCA01")));
        assert_eq!((frozen.renew, frozen.renew_opens, frozen.unlock, frozen.verify), (None, None, true, false));
        // 证书补办 stays open for a frozen UKey certificate (a lost token is frozen first).
        assert_eq!(frozen.reissue.as_deref(), Some("/reissue?uid=abc"));
        assert_eq!(due.reissue, None, "not on a token: nothing to reissue");
        for s in [MyCertificateStatus::Expired, MyCertificateStatus::Revoked, MyCertificateStatus::Superseded] {
            let a = Actions::of(&cert(s, false, Some("TJCA01")));
            assert_eq!(
                (a.renew, a.renew_opens, a.unlock, a.verify, a.reissue),
                (None, None, false, false, None),
                "{s:?}"
            );
        }
    }
}
