//! 客服 in the staff console: find a customer by phone, acceptance number or whole name; open
//! their file (requests, certificates, the messages they were sent with every code masked,
//! notes); send a new download authorization code; record a note on a request. The search
//! and the open customer are in the address (`?q=…&id=…`), so a reload or a shared link shows
//! the same file. The server audits every look-up.

use crate::i18n::td_string;
use certdesk_shared::account::AccountKind;
use certdesk_shared::admin::{
    CustomerColumn, CustomerFile, CustomerQuery, CustomerSummary, ListQuery, NewRequestNote, Page, Section, Sort,
    SortColumn,
};
use certdesk_shared::endpoint;
use certdesk_shared::request::{RequestKind, RequestStatus};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::fields::{FailureAlert, Text};
use crate::components::table::{Head, data_table, load_into, load_query_into, loaded, sorted_table, staff_section};
use crate::components::tr;
use crate::form::{Failure, Load, fill, short_time};
use crate::i18n::use_i18n;
use crate::pages::apply::{kind_text, status_text};
use certdesk_shared::Named;

/// The section's address: what was searched, the order and page of what was found, and which
/// customer is open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct CustomerPage {
    #[serde(skip_serializing_if = "String::is_empty")]
    q: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    sort: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<u64>,
    #[serde(skip_serializing_if = "String::is_empty")]
    id: String,
}

impl ListQuery for CustomerPage {}

fn account_kind_text(kind: &str) -> Text {
    match AccountKind::parse(kind) {
        Some(AccountKind::Enterprise) => |l| td_string!(l, kind_enterprise),
        Some(AccountKind::Department) => |l| td_string!(l, kind_department),
        _ => |l| td_string!(l, kind_personal),
    }
}

const FOUND_HEADS: &[Head<CustomerColumn>] = &[
    (|l| td_string!(l, field_mobile), Some(CustomerColumn::Mobile)),
    (|l| td_string!(l, field_kind), None),
    (|l| td_string!(l, field_name), None),
    (|l| td_string!(l, field_org_name), None),
    (|l| td_string!(l, col_created), Some(CustomerColumn::RegisteredAt)),
    (|_| "", None),
];

const REQUEST_HEADS: &[Text] = &[
    |l| td_string!(l, acceptance_no),
    |l| td_string!(l, filter_kind),
    |l| td_string!(l, col_status),
    |l| td_string!(l, col_time),
    |_| "",
];

const CERT_HEADS: &[Text] = &[
    |l| td_string!(l, panel_serial),
    |l| td_string!(l, col_subject),
    |l| td_string!(l, col_status),
    |l| td_string!(l, panel_not_after),
];

const MESSAGE_HEADS: &[Text] = &[
    |l| td_string!(l, col_time),
    |l| td_string!(l, col_recipient),
    |l| td_string!(l, col_template),
    |l| td_string!(l, col_body),
];

const NOTE_HEADS: &[Text] = &[
    |l| td_string!(l, col_time),
    |l| td_string!(l, acceptance_no),
    |l| td_string!(l, cs_author),
    |l| td_string!(l, cs_note),
];

/// The open customer's file ([`CustomerFilePanel`]) as the section draws it: a chunk of the
/// wasm, fetched when a file is first opened. The console's route table passes it
/// (`admin::customer_file`), so that its loader is in the bundle's main module.
pub type CustomerFileView = fn(Memo<String>, RwSignal<Option<String>>, RwSignal<Option<Failure>>) -> AnyView;

#[component]
pub fn CustomersSection(customer_file: CustomerFileView) -> impl IntoView {
    let i18n = use_i18n();
    let (query, show) = crate::pages::admin::address_query::<CustomerPage>(Section::Customers);
    let found = RwSignal::new(Load::<Page<CustomerSummary>>::Hidden);
    let typed = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<Failure>);
    let said = RwSignal::new(None::<String>);
    // The search and the open file follow the address, each only when its own part changes
    // (every search and every opened file is a look-up the server audits).
    let words = Memo::new(move |_| {
        query.with(|p| {
            CustomerQuery { q: p.q.clone(), sort: p.sort.clone(), page: p.page, ..Default::default() }.to_query()
        })
    });
    let opened = Memo::new(move |_| query.with(|p| p.id.clone()));
    Effect::new(move |_| {
        let asked = CustomerQuery::from_query(&words.get());
        typed.set(asked.q.clone());
        if asked.q.trim().is_empty() {
            found.set(Load::Hidden);
        } else {
            found.set(Load::Loading);
            load_query_into::<endpoint::SearchCustomers>(found, &[], asked, i18n.get_locale_untracked());
        }
    });
    let to_page = move |page| show(CustomerPage { page: Some(page), id: String::new(), ..query.get_untracked() });
    let by = move |c| {
        let q = query.get_untracked();
        let sort = Sort::parse(&q.sort).unwrap_or(CustomerColumn::DEFAULT).by(c).param();
        show(CustomerPage { sort, page: None, id: String::new(), ..q })
    };
    // A file opened or closed says nothing yet.
    Effect::new(move |_| {
        opened.track();
        said.set(None);
    });
    let has_file = Memo::new(move |_| !opened.with(String::is_empty));
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        show(CustomerPage { q: typed.get_untracked().trim().to_owned(), ..Default::default() });
    };
    let open = move |id: String| show(CustomerPage { id, ..query.get_untracked() });
    let results = move || {
        loaded(found, move |list| {
            let pager = crate::pages::admin::pager(&list, to_page);
            let rows = list
                .items
                .into_iter()
                .map(|c| {
                    let label = fill(td_string!(i18n.get_locale_untracked(), cs_open), &c.mobile);
                    let id = c.id.clone();
                    view! {
                        <tr>
                            <td>{c.mobile}</td>
                            <td>{tr(account_kind_text(&c.kind))}</td>
                            <td>{c.name}</td>
                            <td>{c.org_name.unwrap_or_default()}</td>
                            <td>{short_time(&c.registered_at)}</td>
                            <td><button type="button" class="link" aria-label=label on:click=move |_| open(id.clone())>{tr(|l| td_string!(l, view))}</button></td>
                        </tr>
                    }
                    .into_any()
                })
                .collect();
            let sort = query.with_untracked(|q| Sort::parse(&q.sort).unwrap_or(CustomerColumn::DEFAULT));
            view! { {sorted_table(FOUND_HEADS, sort, by, rows)} {pager} }.into_any()
        })
    };
    staff_section(
        RwSignal::new(Load::Ready(())),
        "customers",
        |l| td_string!(l, customers_title),
        move || {
            view! {
                <form class="filters" on:submit=search>
                    <div class="field">
                        <label for="customer-q">{tr(|l| td_string!(l, cs_search_label))}</label>
                        <input id="customer-q" type="search" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
                    </div>
                    <div class="actions"><button type="submit">{tr(|l| td_string!(l, search))}</button></div>
                </form>
                <FailureAlert failure />
                {move || said.get().map(|s| view! { <p role="status" class="ok">{s}</p> })}
                {move || (!found.with(Load::is_hidden)).then(results)}
                {move || has_file.get().then(|| customer_file(opened, said, failure))}
            }
            .into_any()
        },
    )
}

/// The file of customer `opened` (its requests, certificates, messages and notes), loaded
/// again when another is opened; a new download code sent and a note recorded from it, with
/// what was done in `said` and what failed in `failure`.
#[component]
pub fn CustomerFilePanel(
    opened: Memo<String>,
    said: RwSignal<Option<String>>,
    failure: RwSignal<Option<Failure>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let file = RwSignal::new(Load::<CustomerFile>::Hidden);
    let reload_file = move || {
        // A resend or a note that ends after the section was left reloads nothing.
        let Some(id) = opened.try_get_untracked() else { return };
        if id.is_empty() {
            file.set(Load::Hidden);
        } else {
            file.set(Load::Loading);
            load_into::<endpoint::GetCustomerFile>(file, &[&id], i18n.get_locale_untracked());
        }
    };
    Effect::new(move |_| {
        opened.track();
        reload_file();
    });
    let resend = move |request: String, number: String| {
        failure.set(None);
        said.set(None);
        let l = i18n.get_locale_untracked();
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::ResendDownloadCode>(&[&request], &(), l).await {
                Ok(sent) => {
                    said.set(Some(fill(&fill(td_string!(l, cs_code_sent), &number), &sent.sent_to)));
                    reload_file();
                }
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };
    let note_request = RwSignal::new(String::new());
    let note_text = RwSignal::new(String::new());
    let add_note = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        failure.set(None);
        said.set(None);
        let l = i18n.get_locale_untracked();
        let (request, text) = (note_request.get_untracked(), note_text.get_untracked());
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::AddRequestNote>(&[&request], &NewRequestNote { text }, l).await {
                Ok(_) => {
                    note_text.set(String::new());
                    said.set(Some(td_string!(l, cs_note_saved).to_owned()));
                    reload_file();
                }
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };
    let file_view = move || {
        loaded(file, move |f| {
            let c = f.customer.clone();
            if note_request.get_untracked().is_empty()
                || !f.requests.iter().any(|r| r.id == note_request.get_untracked())
            {
                note_request.set(f.requests.first().map(|r| r.id.clone()).unwrap_or_default());
            }
            let options = f
                .requests
                .iter()
                .map(|r| {
                    let number = r.acceptance_no.clone().unwrap_or_else(|| r.id.clone());
                    view! { <option value=r.id.clone()>{number}</option> }
                })
                .collect_view();
            let requests = f
                .requests
                .iter()
                .map(|r| {
                    let number = r.acceptance_no.clone().unwrap_or_default();
                    let waiting = r.kind == RequestKind::Apply && r.status == RequestStatus::Approved;
                    let label = fill(td_string!(i18n.get_locale_untracked(), cs_resend_named), &number);
                    let (id, n) = (r.id.clone(), number.clone());
                    view! {
                        <tr>
                            <td>{number}</td>
                            <td>{tr(kind_text(r.kind))}</td>
                            <td>{tr(status_text(r.status))}</td>
                            <td>{r.submitted_at.as_deref().map(short_time).unwrap_or_default()}</td>
                            <td>{waiting.then(|| view! {
                                <button type="button" class="link" aria-label=label on:click=move |_| resend(id.clone(), n.clone())>
                                    {tr(|l| td_string!(l, cs_resend))}
                                </button>
                            })}</td>
                        </tr>
                    }
                    .into_any()
                })
                .collect();
            let certificates = f
                .certificates
                .iter()
                .map(|c| {
                    view! {
                        <tr>
                            <td>{c.serial.clone()}</td>
                            <td>{c.subject.clone()}</td>
                            <td>{tr(crate::pages::my_certificates::status_text(c.status))}</td>
                            <td>{short_time(&c.not_after)}</td>
                        </tr>
                    }
                    .into_any()
                })
                .collect();
            let messages = f
                .messages
                .iter()
                .map(|m| {
                    view! {
                        <tr>
                            <td>{short_time(&m.sent_at)}</td>
                            <td>{m.recipient.clone()}</td>
                            <td>{m.template.clone()}</td>
                            <td>{m.body.clone()}</td>
                        </tr>
                    }
                    .into_any()
                })
                .collect();
            let notes = f
                .notes
                .iter()
                .map(|n| {
                    view! {
                        <tr>
                            <td>{short_time(&n.created_at)}</td>
                            <td>{n.acceptance_no.clone().unwrap_or_default()}</td>
                            <td>{n.author.clone()}</td>
                            <td>{n.text.clone()}</td>
                        </tr>
                    }
                    .into_any()
                })
                .collect();
            let has_requests = !f.requests.is_empty();
            view! {
                <section class="panel" aria-labelledby="customer-title">
                    <h3 id="customer-title">{format!("{} · {}", c.mobile, c.org_name.clone().unwrap_or(c.name.clone()))}</h3>
                    <h4>{tr(|l| td_string!(l, cs_requests))}</h4>
                    {data_table(REQUEST_HEADS, requests)}
                    <h4>{tr(|l| td_string!(l, my_certificates))}</h4>
                    {data_table(CERT_HEADS, certificates)}
                    <h4>{tr(|l| td_string!(l, cs_messages))}</h4>
                    {data_table(MESSAGE_HEADS, messages)}
                    <h4>{tr(|l| td_string!(l, cs_notes))}</h4>
                    {data_table(NOTE_HEADS, notes)}
                    {has_requests.then(|| view! {
                        <form class="filters" on:submit=add_note>
                            <div class="field">
                                <label for="note-request">{tr(|l| td_string!(l, acceptance_no))}</label>
                                <select id="note-request" prop:value=move || note_request.get() on:change=move |ev| note_request.set(event_target_value(&ev))>
                                    {options}
                                </select>
                            </div>
                            <div class="field">
                                <label for="note-text">{tr(|l| td_string!(l, cs_note))}</label>
                                <input id="note-text" type="text" maxlength="500" prop:value=move || note_text.get() on:input=move |ev| note_text.set(event_target_value(&ev)) />
                            </div>
                            <div class="actions"><button type="submit">{tr(|l| td_string!(l, cs_add_note))}</button></div>
                        </form>
                    })}
                </section>
            }
            .into_any()
        })
    };
    view! { {move || (!file.with(Load::is_hidden)).then(file_view)} }
}
