//! 我的证书申请: the customer's applications with their status; a rejected one shows the
//! reviewer's reasons and a 修改 link back into the wizard.

use crate::i18n::td_string;
use certdesk_shared::apply::Catalogue;
use certdesk_shared::endpoint;
use certdesk_shared::request::{RequestKind, RequestStatus, RequestView};
use leptos::prelude::*;

use crate::components::fields::Text;
use crate::components::table::{data_table, loaded};
use crate::components::{tr, use_page_title};
use crate::form::{Load, short_time};
use crate::i18n::use_i18n;
use crate::pages::apply::{kind_text, reasons, status_text, type_name};

/// 我的证书 · 我的证书申请 · 发票申请 · 邮寄查询: the customer's pages after applying.
#[component]
pub fn CustomerTabs() -> impl IntoView {
    let here = crate::router::use_location().pathname;
    let tab = move |href: &'static str, text: crate::components::fields::Text| {
        view! {
            <a href=href aria-current=move || (here.get() == href).then_some("page")>{tr(text)}</a>
        }
    };
    view! {
        <nav class="page-tabs" aria-label=tr(|l| td_string!(l, my_applications))>
            {tab("/my-certificates", |l| td_string!(l, my_certificates))}
            {tab("/applications", |l| td_string!(l, my_applications))}
            {tab("/invoices", |l| td_string!(l, nav_invoices))}
            {tab("/shipments", |l| td_string!(l, nav_shipments))}
        </nav>
    }
}

const HEADS: &[Text] = &[
    |l| td_string!(l, field_cert_type),
    |l| td_string!(l, col_business),
    |l| td_string!(l, acceptance_no),
    |l| td_string!(l, col_status),
    |l| td_string!(l, col_created),
    |_| "",
];

#[component]
pub fn Applications() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), my_applications).to_owned());
    let list = RwSignal::new(Load::<(Vec<RequestView>, Option<Catalogue>)>::Loading);
    crate::session::when_signed_in("/applications", move || {
        let l = i18n.get_locale_untracked();
        leptos::task::spawn_local(async move {
            let cat = crate::api::call::<endpoint::CustomerCatalogue>(&[], &(), l).await.ok();
            let apps = crate::api::call::<endpoint::ListApplications>(&[], &(), l).await;
            list.set(Load::from_result(apps.map(|a| (a, cat))));
        });
    });
    view! {
        <h1>{tr(|l| td_string!(l, my_applications))}</h1>
        <CustomerTabs />
        <p>
            <a class="button primary" href="/apply">{tr(|l| td_string!(l, nav_apply))}</a>
        </p>
        {loaded(list, move |(apps, cat)| {
            let rows = apps
                .into_iter()
                .map(|a| {
                    let status = status_text(a.status);
                    let editable = a.status.editable();
                    let href = match (a.kind, &a.from_certificate_uid) {
                        (RequestKind::Renew, Some(uid)) => format!("/renew?uid={uid}"),
                        (RequestKind::Revoke, Some(uid)) => format!("/revoke?uid={uid}"),
                        (RequestKind::Reissue, Some(uid)) => format!("/reissue?uid={uid}"),
                        _ => format!("/apply?id={}&step={}", a.id, if editable { a.step } else { 7 }),
                    };
                    let link: Text = if a.status == RequestStatus::Rejected {
                        |l| td_string!(l, edit)
                    } else if editable {
                        |l| td_string!(l, resume)
                    } else {
                        |l| td_string!(l, open)
                    };
                    view! {
                        <tr>
                            <td>{type_name(cat.as_ref(), &a)}</td>
                            <td>{tr(kind_text(a.kind))}</td>
                            <td>{a.acceptance_no.clone().unwrap_or_else(|| "—".into())}</td>
                            <td>
                                {tr(status)}
                                {(!a.reasons.is_empty()).then(|| reasons(&a.reasons))}
                            </td>
                            <td>{short_time(&a.created_at)}</td>
                            <td>
                                <a href=href>{tr(link)}</a>
                            </td>
                        </tr>
                    }
                    .into_any()
                })
                .collect();
            data_table(HEADS, rows)
        })}
    }
}
