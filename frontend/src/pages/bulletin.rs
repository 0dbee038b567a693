//! 注销公告 (seed 003 §1.4.3): revoked certificates, newest first, searchable by exact name or
//! serial, with the reason and the time; and the CA certificates with their SHA-256
//! fingerprints and CRLs.

use crate::i18n::td_string;
use certdesk_shared::directory::{BulletinPage, BulletinQuery, CaInfo};
use certdesk_shared::endpoint;
use leptos::prelude::*;

use crate::components::fields::Text;
use crate::components::table::{data_table, load_into, load_query_into, loaded};
use crate::components::{tr, use_page_title};
use crate::form::{Load, fill, short_time};
use crate::i18n::use_i18n;
use crate::pages::search::reason_text;

const HEADS: &[Text] = &[
    |l| td_string!(l, col_common_name),
    |l| td_string!(l, col_serial),
    |l| td_string!(l, col_reason),
    |l| td_string!(l, col_revoked_at),
];

#[component]
pub fn Bulletin() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), nav_bulletin).to_owned());
    let page = RwSignal::new(Load::<BulletinPage>::Loading);
    let cas = RwSignal::new(Load::<Vec<CaInfo>>::Loading);
    let q = RwSignal::new(String::new());
    let at = RwSignal::new(1u32);
    let reload = move || {
        let query = BulletinQuery { q: q.get_untracked(), page: Some(at.get_untracked()) };
        load_query_into::<endpoint::Bulletin>(page, &[], query, i18n.get_locale_untracked());
    };
    reload();
    load_into::<endpoint::ListCaFiles>(cas, &[], i18n.get_locale_untracked());
    view! {
        <h1>{tr(|l| td_string!(l, nav_bulletin))}</h1>
        <form class="form inline" role="search" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            at.set(1);
            reload();
        }>
            <div class="field">
                <label for="bulletin-q">{tr(|l| td_string!(l, bulletin_query))}</label>
                <input id="bulletin-q" type="search" prop:value=move || q.get() on:input=move |ev| q.set(event_target_value(&ev)) />
            </div>
            <button type="submit" class="secondary">{tr(|l| td_string!(l, search))}</button>
        </form>
        {loaded(page, move |p| {
            let rows = p.entries.into_iter().map(|e| view! {
                <tr>
                    <td><a href=format!("/certificates/{}", e.uid)>{e.name}</a></td>
                    <td><code>{e.serial}</code></td>
                    <td>{e.reason.map(|r| tr(reason_text(r)))}</td>
                    <td>{short_time(&e.revoked_at)}</td>
                </tr>
            }.into_any()).collect();
            let pages = p.total.div_ceil(u64::from(p.per_page)).max(1);
            let (prev, next) = (p.page > 1, u64::from(p.page) < pages);
            view! {
                {data_table(HEADS, rows)}
                <nav class="pager" aria-label=tr(|l| td_string!(l, pager))>
                    <button type="button" class="secondary" disabled=!prev on:click=move |_| { at.update(|n| *n -= 1); reload(); }>{tr(|l| td_string!(l, page_prev))}</button>
                    <span>{move || fill(&fill(td_string!(i18n.get_locale(), page_of), p.page), p.total)}</span>
                    <button type="button" class="secondary" disabled=!next on:click=move |_| { at.update(|n| *n += 1); reload(); }>{tr(|l| td_string!(l, page_next))}</button>
                </nav>
            }.into_any()
        })}
        <section class="panel" aria-labelledby="ca-title">
            <h2 id="ca-title">{tr(|l| td_string!(l, ca_files_title))}</h2>
            {loaded(cas, |list| list.into_iter().map(|c| view! {
                <div class="ca">
                    <h3>{c.subject}</h3>
                    <p>{tr(|l| td_string!(l, ca_fingerprint))}" "<code class="fingerprint">{c.sha256}</code></p>
                    <p>{crate::pages::search::period(Some(&c.not_before), Some(&c.not_after))}</p>
                    <p>
                        <a href=c.certificate_url>{tr(|l| td_string!(l, ca_certificate))}</a>
                        " · "
                        <a href=c.crl_url>{tr(|l| td_string!(l, ca_crl))}</a>
                    </p>
                </div>
            }).collect_view().into_any())}
        </section>
    }
}
