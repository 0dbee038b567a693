//! 我的证书 (`/m`): the certificates kept on this phone, each with its 证书信息 (通用名,
//! 证书序列号, 颁发者, validity, 介质类型 移动软盾 and its number) and the server's word on its
//! shield (正常 / 已锁定 / 已停用), with 修改PIN码, 证书解锁, 从本机删除, and 证书更新(延期) when a
//! renewal waits.

use crate::i18n::td_string;
use certdesk_shared::shield::ShieldState;
use certdesk_shared::shield_keys::ShieldFile;
use leptos::prelude::*;

use super::{Asked, cert, state_text, status, use_shields};
use crate::components::certificate_panel::item;
use crate::components::{tr, use_page_title};
use crate::form::fill;
use crate::i18n::use_i18n;
use certdesk_shared::Named;

fn card(f: ShieldFile) -> impl IntoView {
    let i18n = use_i18n();
    let shields = use_shields();
    let info = cert::info(&f.certificate_pem);
    let asked = RwSignal::new(Asked::Asking);
    let confirming = RwSignal::new(false);
    {
        let f = f.clone();
        leptos::task::spawn_local(async move {
            let s = status(&f, i18n.get_locale_untracked()).await;
            asked.set(s.map(Asked::Answered).unwrap_or(Asked::Offline));
        });
    }
    let id = f.shield_id.clone();
    let (heading, labelled_by) = (format!("shield-{id}"), format!("shield-{id}"));
    let name = info.as_ref().map(|i| i.common_name.clone()).unwrap_or_else(|| id.clone());
    let state_view = move || match asked.get() {
        Asked::Asking => view! { <span class="muted">"…"</span> }.into_any(),
        Asked::Offline => view! { <span class="muted">{tr(|l| td_string!(l, m_state_unknown))}</span> }.into_any(),
        Asked::Answered(s) => {
            let class = format!("shield-state {}", s.state.as_str());
            let tries = (s.state == ShieldState::Active && s.tries_left < certdesk_shared::shield::PIN_TRIES)
                .then(|| view! { " " <span class="muted">{move || fill(td_string!(i18n.get_locale(), m_tries_left), s.tries_left)}</span> });
            view! { <strong class=class>{tr(state_text(s.state))}</strong>{tries} }.into_any()
        }
    };
    let locked = move || matches!(asked.get(), Asked::Answered(ref s) if s.state == ShieldState::Locked);
    let renewal = move || matches!(asked.get(), Asked::Answered(ref s) if s.renewal.is_some());
    let renew_href = format!("/m/renew?id={id}");
    let remove_id = StoredValue::new(id.clone());
    view! {
        <section class="panel cert" aria-labelledby=labelled_by>
            <h2 id=heading>{name}</h2>
            <dl class="cert-panel">
                {info.map(|i| view! {
                    {item(|l| td_string!(l, col_common_name), i.common_name)}
                    {item(|l| td_string!(l, panel_serial), view! { <code>{i.serial}</code> })}
                    {item(|l| td_string!(l, m_issuer), i.issuer)}
                    {item(|l| td_string!(l, panel_not_before), i.not_before)}
                    {item(|l| td_string!(l, panel_not_after), i.not_after)}
                })}
                {item(|l| td_string!(l, m_medium), tr(|l| td_string!(l, medium_mobile_shield)))}
                {item(|l| td_string!(l, panel_medium_no), view! { <code>{id.clone()}</code> })}
                {item(|l| td_string!(l, m_shield_status), state_view)}
            </dl>
            {move || renewal().then(|| {
                let href = renew_href.clone();
                view! {
                    <div class="callout">
                        <p>{tr(|l| td_string!(l, m_renewal_ready))}</p>
                        <p><a class="button primary" href=href>{tr(|l| td_string!(l, m_renew))}</a></p>
                    </div>
                }
            })}
            <div class="actions">
                <a class="button" class:primary=locked href=format!("/m/unlock?id={id}")>{tr(|l| td_string!(l, m_unlock))}</a>
                <a class="button" href=format!("/m/pin?id={id}")>{tr(|l| td_string!(l, m_pin))}</a>
                <button type="button" on:click=move |_| confirming.set(true)>{tr(|l| td_string!(l, m_delete))}</button>
            </div>
            {move || confirming.get().then(|| view! {
                <div class="callout" role="alertdialog" aria-label=tr(|l| td_string!(l, m_delete))>
                    <p>{tr(|l| td_string!(l, m_delete_confirm))}</p>
                    <div class="actions">
                        <button type="button" class="danger" on:click=move |_| shields.remove(&remove_id.get_value())>{tr(|l| td_string!(l, m_delete_yes))}</button>
                        <button type="button" on:click=move |_| confirming.set(false)>{tr(|l| td_string!(l, cancel))}</button>
                    </div>
                </div>
            })}
        </section>
    }
}

#[component]
pub fn Certificates() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), m_my_certificates).to_owned());
    let shields = use_shields();
    view! {
        <h1>{tr(|l| td_string!(l, m_my_certificates))}</h1>
        {move || {
            let list = shields.0.get();
            if list.is_empty() {
                view! {
                    <div class="callout">
                        <p>{tr(|l| td_string!(l, m_none))}</p>
                        <p class="muted">{tr(|l| td_string!(l, m_none_hint))}</p>
                        <p><a class="button primary" href="/m/download">{tr(|l| td_string!(l, m_download))}</a></p>
                    </div>
                }
                .into_any()
            } else {
                list.into_iter().map(card).collect_view().into_any()
            }
        }}
        <p class="hint">{tr(|l| td_string!(l, m_install_hint))}</p>
    }
}
