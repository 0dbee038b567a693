//! 我的证书 (seed 002 §2.2): the signed-in customer's certificates in the tabs 有效的证书 /
//! 冻结的证书 / 失效的证书 (`?tab=`), each with its 证书信息 panel (seed 004 §4.1.3), its
//! downloads and the operations open for it: 证书延期 only inside its window (else the day
//! it opens, as text), its public page (撤销 with the challenge phrase), 证书解锁 for a
//! certificate on a token, 证书校验.

use crate::i18n::td_string;
use crate::router::use_query_map;
use certdesk_shared::account::CodePurpose;
use certdesk_shared::apply::HolderKind;
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::freeze::{FrozenBy, Unfreeze};
use certdesk_shared::my_certificates::{MyCertificate, MyCertificateStatus, MyCertificatesTab};
use certdesk_shared::request::RequestKind;
use certdesk_shared::{ErrorCode, OtpCode};
use leptos::prelude::*;

use crate::components::certificate_panel::{certificate_panel, date_of};
use crate::components::fields::{FailureAlert, Field, FormState, SendCertificateCode, Text};
use crate::components::table::{load_into, loaded};
use crate::components::{tr, use_page_title};
use crate::form::{Load, fill};
use crate::i18n::use_i18n;
use crate::pages::applications::CustomerTabs;
use crate::pages::apply::kind_text;
use certdesk_shared::Named;

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

/// A medium number the mobile shield gave (its shield id, "MS" and 10 Crockford characters).
pub fn is_mobile_shield(medium_no: Option<&str>) -> bool {
    medium_no.and_then(|m| m.strip_prefix("MS")).is_some_and(|rest| {
        rest.len() == certdesk_shared::shield::CODE_LEN
            && rest.bytes().all(|b| certdesk_shared::shield::CODE_ALPHABET.contains(&b))
    })
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
    /// `/revoke?uid=…` (证书注销): a valid or frozen certificate with no other request under way.
    pub revoke: Option<String>,
    /// 冻结: a valid certificate (even with a request under way: freezing is what a holder
    /// does first when a token is lost).
    pub freeze: bool,
    /// 解冻: frozen by its holder, with no request under way (a token reported lost stays
    /// frozen while its 补办 runs).
    pub unfreeze: bool,
    /// Frozen by the CA: only its staff unfreeze it.
    pub frozen_by_staff: bool,
    /// The request under way for it.
    pub under_way: Option<RequestKind>,
    /// `/change?uid=…`: 证书变更, a valid 机构证书 or 法人证书.
    pub change: Option<String>,
    /// `/operator-change?uid=…`: 经办人变更, a valid certificate.
    pub operator_change: Option<String>,
    /// `/reissue?uid=…`: 证书补办 of a valid or frozen UKey certificate.
    pub reissue: Option<String>,
    /// 停用移动软盾: a live certificate in a mobile shield (the phone is lost).
    pub disable_shield: bool,
}

impl Actions {
    pub fn of(c: &MyCertificate) -> Self {
        let valid = c.status == MyCertificateStatus::Valid;
        let live = matches!(c.status, MyCertificateStatus::Valid | MyCertificateStatus::Frozen);
        Actions {
            renew: c.renewable.then(|| format!("/renew?uid={}", c.uid)),
            renew_opens: (valid && !c.renewable).then(|| c.renewable_from.clone()),
            detail: format!("/certificates/{}", c.uid),
            // A mobile shield is unlocked in its app, not through the agent.
            unlock: live && c.panel.medium_no.is_some() && !is_mobile_shield(c.panel.medium_no.as_deref()),
            verify: valid,
            revoke: (live && matches!(c.request_under_way, None | Some(RequestKind::Revoke)))
                .then(|| format!("/revoke?uid={}", c.uid)),
            freeze: valid,
            unfreeze: c.status == MyCertificateStatus::Frozen
                && c.frozen_by != Some(FrozenBy::Staff)
                && c.request_under_way.is_none(),
            frozen_by_staff: c.status == MyCertificateStatus::Frozen && c.frozen_by == Some(FrozenBy::Staff),
            under_way: c.request_under_way,
            change: (valid && c.panel.profile.is_some_and(|p| HolderKind::of(p) != HolderKind::Person))
                .then(|| format!("/change?uid={}", c.uid)),
            operator_change: valid.then(|| format!("/operator-change?uid={}", c.uid)),
            reissue: c.reissuable.then(|| format!("/reissue?uid={}", c.uid)),
            disable_shield: live && is_mobile_shield(c.panel.medium_no.as_deref()),
        }
    }
}

fn card(c: MyCertificate, reload: Callback<()>) -> impl IntoView {
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
                <a class="button" href=endpoint::CertificateFile::path(&[&format!("{uid}.pem")]) download>{tr(|l| td_string!(l, download_pem))}</a>
                <a class="button" href=endpoint::CertificateFile::path(&[&format!("{uid}.der")]) download>{tr(|l| td_string!(l, download_der))}</a>
                {a.renew.map(|href| view! { <a class="button primary" href=href>{tr(|l| td_string!(l, nav_renew))}</a> })}
                <a class="button" href=a.detail>{tr(|l| td_string!(l, my_certificate_detail))}</a>
                {a.unlock.then(|| view! { <a class="button" href="/unlock">{tr(|l| td_string!(l, nav_unlock))}</a> })}
                {a.verify.then(|| view! { <a class="button" href="/verify">{tr(|l| td_string!(l, nav_verify))}</a> })}
                {a.revoke.map(|href| view! { <a class="button" href=href>{tr(|l| td_string!(l, nav_revoke))}</a> })}
                {a.change.map(|href| view! { <a class="button" href=href>{tr(|l| td_string!(l, nav_change))}</a> })}
                {a.operator_change.map(|href| view! { <a class="button" href=href>{tr(|l| td_string!(l, nav_operator_change))}</a> })}
                {a.reissue.map(|href| view! { <a class="button" href=href>{tr(|l| td_string!(l, nav_reissue))}</a> })}
            </div>
            {a.under_way.map(|k| view! {
                <p class="muted">{move || fill(td_string!(i18n.get_locale(), my_certificate_under_way), kind_text(k)(i18n.get_locale()))}</p>
            })}
            {a.disable_shield.then(|| view! { <DisableShield uid=uid.clone() reload /> })}
            {a.freeze.then(|| view! { <Freeze uid=uid.clone() reload /> })}
            {a.unfreeze.then(|| view! { <Unfreeze uid=uid.clone() reload /> })}
            {a.frozen_by_staff.then(|| view! { <p class="callout">{tr(|l| crate::api::error_message(ErrorCode::FrozenByStaff, l))}</p> })}
            {opens.map(|day| view! {
                <p class="muted">{move || fill(td_string!(i18n.get_locale(), renew_opens), &day)}</p>
            })}
        </section>
    }
}

/// 冻结: at once, after the holder confirms.
#[component]
fn Freeze(uid: String, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let asking = RwSignal::new(false);
    let fs = FormState::new("freeze");
    let held = StoredValue::new(uid);
    let confirm = move |_| {
        let l = i18n.get_locale_untracked();
        fs.submit(
            Ok::<_, Vec<certdesk_shared::FieldError>>(()),
            move |()| async move { crate::api::call::<endpoint::Freeze>(&[&held.get_value()], &(), l).await },
            move |_| reload.run(()),
        );
    };
    view! {
        <div class="actions">
            {move || if asking.get() {
                view! {
                    <p class="callout" role="status">{tr(|l| td_string!(l, my_certificate_freeze_confirm))}</p>
                    <button type="button" class="danger" disabled=move || fs.busy.get() on:click=confirm>{tr(|l| td_string!(l, my_certificate_freeze_yes))}</button>
                    <button type="button" on:click=move |_| asking.set(false)>{tr(|l| td_string!(l, cancel))}</button>
                }.into_any()
            } else {
                view! { <button type="button" on:click=move |_| asking.set(true)>{tr(|l| td_string!(l, my_certificate_freeze))}</button> }.into_any()
            }}
            <FailureAlert failure=fs.failure />
        </div>
    }
}

/// 停用移动软盾 (the phone is lost): at once and for good, after the holder confirms. The
/// app's secret is never released again; the certificate stays as it is.
#[component]
fn DisableShield(uid: String, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let asking = RwSignal::new(false);
    let done = RwSignal::new(false);
    let fs = FormState::new("disable-shield");
    let held = StoredValue::new(uid);
    let confirm = move |_| {
        let l = i18n.get_locale_untracked();
        fs.submit(
            Ok::<_, Vec<certdesk_shared::FieldError>>(()),
            move |()| async move {
                crate::api::call::<endpoint::DisableShield>(&[&held.get_value()], &(), l).await.map(drop)
            },
            move |()| {
                asking.set(false);
                done.set(true);
                reload.run(());
            },
        );
    };
    view! {
        <div class="actions">
            {move || if done.get() {
                view! { <p class="status" role="status">{tr(|l| td_string!(l, shield_disabled_done))}</p> }.into_any()
            } else if asking.get() {
                view! {
                    <p class="callout" role="status">{tr(|l| td_string!(l, shield_disable_confirm))}</p>
                    <button type="button" class="danger" disabled=move || fs.busy.get() on:click=confirm>{tr(|l| td_string!(l, shield_disable_yes))}</button>
                    <button type="button" on:click=move |_| asking.set(false)>{tr(|l| td_string!(l, cancel))}</button>
                }.into_any()
            } else {
                view! { <button type="button" on:click=move |_| asking.set(true)>{tr(|l| td_string!(l, shield_disable))}</button> }.into_any()
            }}
            <FailureAlert failure=fs.failure />
        </div>
    }
}

/// 解冻: with the SMS code sent to the phone of record.
#[component]
fn Unfreeze(uid: String, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let fs = FormState::new("unfreeze");
    let errors = fs.errors;
    let code = RwSignal::new(String::new());
    let held = StoredValue::new(uid.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let body = OtpCode::parse(code.get_untracked().trim())
            .map(|code| Unfreeze { code })
            .map_err(|error| vec![certdesk_shared::FieldError { field: "code".into(), error }]);
        fs.submit(
            body,
            move |b| async move { crate::api::call::<endpoint::Unfreeze>(&[&held.get_value()], &b, l).await },
            move |_| reload.run(()),
        );
    };
    view! {
        <form class="form" novalidate on:submit=submit>
            <Field form="unfreeze" field="code" label=|l| td_string!(l, field_sms_code) value=code errors autocomplete="one-time-code" inputmode="numeric" check=|s| OtpCode::parse(s).map(drop)>
                <SendCertificateCode uid purpose=CodePurpose::CertificateRelease failure=fs.failure />
            </Field>
            <FailureAlert failure=fs.failure />
            <button type="submit" class="primary" disabled=move || fs.busy.get()>{tr(|l| td_string!(l, my_certificate_unfreeze))}</button>
        </form>
    }
}

#[component]
pub fn MyCertificates() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), my_certificates).to_owned());
    let list = RwSignal::new(Load::<Vec<MyCertificate>>::Loading);
    let load = move || load_into::<endpoint::ListMyCertificates>(list, &[], i18n.get_locale_untracked());
    crate::session::when_signed_in("/my-certificates", load);
    let reload = Callback::new(move |()| load());
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
                    let shown: Vec<_> = certs.iter().filter(|c| c.tab() == t).cloned().map(|c| card(c, reload)).collect();
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
            frozen_by: None,
            request_under_way: None,
            // The server's rule: a valid or frozen certificate on a UKey.
            reissuable: medium.is_some() && matches!(status, MyCertificateStatus::Valid | MyCertificateStatus::Frozen),
            medium: None,
            shield_state: None,
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
                revoke: Some("/revoke?uid=abc".into()),
                freeze: true,
                unfreeze: false,
                frozen_by_staff: false,
                under_way: None,
                change: None,
                operator_change: Some("/operator-change?uid=abc".into()),
                reissue: Some("/reissue?uid=abc".into()),
                disable_shield: false,
            }
        );
        // A 机构证书 may be changed; a 个人证书 only its operator.
        let mut org = cert(MyCertificateStatus::Valid, false, Some("TJCA01"));
        org.panel.profile = Some(certdesk_shared::certificate::CertificateProfile::OrgSign);
        assert_eq!(Actions::of(&org).change.as_deref(), Some("/change?uid=abc"));
        org.panel.profile = Some(certdesk_shared::certificate::CertificateProfile::PersonalSign);
        assert_eq!(Actions::of(&org).change, None);
        let due = Actions::of(&cert(MyCertificateStatus::Valid, true, None));
        assert_eq!((due.renew.as_deref(), due.renew_opens, due.unlock), (Some("/renew?uid=abc"), None, false));
        let frozen = Actions::of(&cert(MyCertificateStatus::Frozen, false, Some("TJCA01")));
        assert_eq!((frozen.renew, frozen.renew_opens, frozen.unlock, frozen.verify), (None, None, true, false));
        assert_eq!((frozen.freeze, frozen.unfreeze, frozen.revoke.is_some()), (false, true, true));
        assert_eq!((frozen.change, frozen.operator_change), (None, None));
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
            assert_eq!((a.revoke, a.freeze, a.unfreeze), (None, false, false), "{s:?}");
            assert_eq!((a.change, a.operator_change), (None, None), "{s:?}");
        }
    }

    #[test]
    fn a_mobile_shield_is_disabled_here_and_unlocked_in_its_app() {
        assert!(is_mobile_shield(Some("MS0123456789")));
        assert!(!is_mobile_shield(Some("MS012345678U")) && !is_mobile_shield(Some("MS01234")));
        assert!(!is_mobile_shield(Some("TJCA01")) && !is_mobile_shield(None));
        let a = Actions::of(&cert(MyCertificateStatus::Valid, false, Some("MSABCDEFGHJK")));
        assert_eq!((a.disable_shield, a.unlock), (true, false));
        let a = Actions::of(&cert(MyCertificateStatus::Frozen, false, Some("MSABCDEFGHJK")));
        assert!(a.disable_shield);
        let a = Actions::of(&cert(MyCertificateStatus::Revoked, false, Some("MSABCDEFGHJK")));
        assert!(!a.disable_shield, "nothing left to protect");
    }

    #[test]
    fn a_freeze_by_staff_or_a_request_under_way_closes_what_would_clash() {
        let mut c = cert(MyCertificateStatus::Frozen, false, Some("TJCA01"));
        c.frozen_by = Some(FrozenBy::Staff);
        let a = Actions::of(&c);
        assert_eq!((a.unfreeze, a.frozen_by_staff), (false, true));
        c.frozen_by = Some(FrozenBy::Holder);
        c.request_under_way = Some(RequestKind::Reissue);
        let a = Actions::of(&c);
        assert_eq!((a.unfreeze, a.revoke, a.under_way), (false, None, Some(RequestKind::Reissue)));
        let mut c = cert(MyCertificateStatus::Valid, false, None);
        c.request_under_way = Some(RequestKind::Revoke);
        let a = Actions::of(&c);
        assert_eq!((a.freeze, a.revoke.as_deref()), (true, Some("/revoke?uid=abc")));
    }
}
