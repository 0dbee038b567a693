//! 财务 in the staff console (finance and administrators): 发票申请 — the invoices asked for,
//! issued with one click (the server makes the PDF e-invoice and e-mails it); 转账确认 — bank
//! transfers whose voucher waits for the money to be seen; 月结对账单 — the settlement
//! customers' approved applications of a month.

use crate::i18n::td_string;
use certdesk_shared::admin::{
    InvoiceColumn, InvoiceQuery, MonthQuery, Page, PendingTransfer, Section, Sort, SortColumn, TransferColumn,
    TransferQuery,
};
use certdesk_shared::apply::{InvoiceStatus, InvoiceView, yuan};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::payment::Statement;
use leptos::prelude::*;

use crate::components::fields::{FailureAlert, Text};
use crate::components::table::{
    Head, data_table, load_into, load_query_into, loaded, search_box, sorted_table, staff_section,
};
use crate::components::tr;
use crate::form::{Failure, Load, short_time};
use crate::i18n::use_i18n;
use crate::pages::admin::{address_query, pager};
use crate::pages::invoices::invoice_status_text;

const INVOICE_HEADS: &[Head<InvoiceColumn>] = &[
    (|l| td_string!(l, invoice_name), Some(InvoiceColumn::Title)),
    (|l| td_string!(l, acceptance_no), None),
    (|l| td_string!(l, filter_kind), None),
    (|l| td_string!(l, invoice_tax_number), None),
    (|l| td_string!(l, col_amount), Some(InvoiceColumn::Amount)),
    (|l| td_string!(l, col_invoice_status), None),
    (|l| td_string!(l, col_created), Some(InvoiceColumn::RequestedAt)),
    (|l| td_string!(l, col_invoice_no), None),
];

/// A staff action on the row `id` names (issue, confirm): POST, then reload, or show the
/// refusal.
fn act<E>(id: String, failure: RwSignal<Option<Failure>>, reload: impl Fn() + 'static)
where
    E: Endpoint<Request = ()> + 'static,
    E::Response: serde::de::DeserializeOwned,
{
    let i18n = use_i18n();
    let l = i18n.get_locale_untracked();
    failure.set(None);
    leptos::task::spawn_local(async move {
        match crate::api::call::<E>(&[&id], &(), l).await.map(drop) {
            Ok(()) => reload(),
            Err(e) => failure.set(Some(e.into())),
        }
    });
}

/// 待开票 unless the address names another status.
fn waiting_by_default(mut q: InvoiceQuery) -> InvoiceQuery {
    if q.status.is_empty() {
        q.status = "requested".into();
    }
    q
}

#[component]
pub fn InvoiceQueue() -> impl IntoView {
    let i18n = use_i18n();
    let list = RwSignal::new(Load::<Page<InvoiceView>>::Loading);
    // 开票状态 (待开票 when absent), the search, the order and the page in the address.
    let (query, show) = address_query::<InvoiceQuery>(Section::Invoices);
    let failure = RwSignal::new(None::<Failure>);
    let reload = move || {
        let query = waiting_by_default(query.get_untracked());
        load_query_into::<endpoint::InvoiceQueue>(list, &[], query, i18n.get_locale_untracked());
    };
    Effect::new(move |_| {
        query.track();
        reload();
    });
    let words = Memo::new(move |_| query.with(|q| q.q.clone()));
    let search = move |q: String| show(InvoiceQuery { q, page: None, ..query.get_untracked() });
    let set_status = move |status: String| show(InvoiceQuery { status, page: None, ..query.get_untracked() });
    let sort = move || query.with_untracked(|q| Sort::parse(&q.sort).unwrap_or(InvoiceColumn::DEFAULT));
    let by = move |c| show(InvoiceQuery { sort: sort().by(c).param(), page: None, ..query.get_untracked() });
    let to_page = move |page| show(InvoiceQuery { page: Some(page), ..query.get_untracked() });
    let csv = move || {
        let query = InvoiceQuery { page: None, per_page: None, ..waiting_by_default(query.get()) };
        crate::api::file_link::<endpoint::InvoiceCsv>(&[], &query)
    };
    let changed = crate::pages::admin::queue_changed();
    let done = move || {
        reload();
        changed();
    };
    staff_section(
        list,
        "invoices",
        |l| td_string!(l, nav_invoices),
        move || {
            view! {
            {search_box("invoice-search", |l| td_string!(l, search_hint_invoices), words, search)}
            <div class="field inline">
                <label for="invoice-status">{tr(|l| td_string!(l, col_invoice_status))}</label>
                <select id="invoice-status" prop:value=move || waiting_by_default(query.get()).status on:change=move |ev| set_status(event_target_value(&ev))>
                    <option value="requested">{tr(invoice_status_text(Some(InvoiceStatus::Requested)))}</option>
                    <option value="issued">{tr(invoice_status_text(Some(InvoiceStatus::Issued)))}</option>
                </select>
                " "
                <a class="button secondary" download href=csv>{tr(|l| td_string!(l, export_csv))}</a>
            </div>
            <FailureAlert failure />
            {loaded(list, move |invoices| {
                let pager = pager(&invoices, to_page);
                let rows = invoices
                    .items
                    .into_iter()
                    .map(|i| {
                        let number = i.acceptance_no.clone().unwrap_or_default();
                        let cell = match i.invoice_no.clone() {
                            Some(no) => view! {
                                <a href=endpoint::StaffInvoicePdf::path(&[&i.id]) target="_blank">{no}</a>
                            }
                            .into_any(),
                            None => {
                                let id = i.id.clone();
                                let label = format!("{} {number}", tr(|l| td_string!(l, invoice_request))());
                                view! {
                                    <button type="button" class="link" aria-label=label on:click={move |_| act::<endpoint::IssueInvoice>(id.clone(), failure, done)}>
                                        {tr(|l| td_string!(l, invoice_request))}
                                    </button>
                                }
                                .into_any()
                            }
                        };
                        view! {
                            <tr>
                                <td>{i.title}</td>
                                <td>{number}</td>
                                <td>{tr(crate::pages::apply::kind_text(i.kind))}</td>
                                <td>{i.tax_number}</td>
                                <td>{yuan(i.amount_fen)}</td>
                                <td>{tr(invoice_status_text(Some(i.status)))}</td>
                                <td>{short_time(&i.requested_at)}</td>
                                <td>{cell}</td>
                            </tr>
                        }
                        .into_any()
                    })
                    .collect();
                view! { {sorted_table(INVOICE_HEADS, sort(), by, rows)} {pager} }.into_any()
            })}
        }
        .into_any()
        },
    )
}

const TRANSFER_HEADS: &[Head<TransferColumn>] = &[
    (|l| td_string!(l, col_trade_no), Some(TransferColumn::TradeNo)),
    (|l| td_string!(l, acceptance_no), None),
    (|l| td_string!(l, col_payer), None),
    (|l| td_string!(l, col_amount), Some(TransferColumn::Amount)),
    (|l| td_string!(l, col_created), Some(TransferColumn::CreatedAt)),
    (|l| td_string!(l, col_voucher), None),
    (|_| "", None),
];

#[component]
pub fn TransferQueue() -> impl IntoView {
    let i18n = use_i18n();
    let list = RwSignal::new(Load::<Page<PendingTransfer>>::Loading);
    let failure = RwSignal::new(None::<Failure>);
    // The search, the order and the page in the address.
    let (query, show) = address_query::<TransferQuery>(Section::Transfers);
    let reload = move || {
        load_query_into::<endpoint::PendingTransfers>(list, &[], query.get_untracked(), i18n.get_locale_untracked());
    };
    Effect::new(move |_| {
        query.track();
        reload();
    });
    let words = Memo::new(move |_| query.with(|q| q.q.clone()));
    let search = move |q: String| show(TransferQuery { q, page: None, ..query.get_untracked() });
    let sort = move || query.with_untracked(|q| Sort::parse(&q.sort).unwrap_or(TransferColumn::DEFAULT));
    let by = move |c| show(TransferQuery { sort: sort().by(c).param(), page: None, ..query.get_untracked() });
    let to_page = move |page| show(TransferQuery { page: Some(page), ..query.get_untracked() });
    let csv = move || {
        crate::api::file_link::<endpoint::TransferCsv>(
            &[],
            &TransferQuery { page: None, per_page: None, ..query.get() },
        )
    };
    let changed = crate::pages::admin::queue_changed();
    let done = move || {
        reload();
        changed();
    };
    staff_section(
        list,
        "transfers",
        |l| td_string!(l, transfers_title),
        move || {
            view! {
            {search_box("transfer-search", |l| td_string!(l, search_hint_transfers), words, search)}
            <p><a class="button secondary" download href=csv>{tr(|l| td_string!(l, export_csv))}</a></p>
            <FailureAlert failure />
            {loaded(list, move |transfers| {
                let pager = pager(&transfers, to_page);
                let rows = transfers
                    .items
                    .into_iter()
                    .map(|t| {
                        let no = t.out_trade_no;
                        let id = no.clone();
                        let label = format!("{} {no}", tr(|l| td_string!(l, transfer_confirm))());
                        view! {
                            <tr>
                                <td>{no.clone()}</td>
                                <td>{t.acceptance_no}</td>
                                <td>{t.payer}</td>
                                <td>{yuan(t.amount_fen)}</td>
                                <td>{short_time(&t.created_at)}</td>
                                <td>
                                    <a href=endpoint::TransferVoucher::path(&[&no]) target="_blank">
                                        {tr(|l| td_string!(l, view))}
                                    </a>
                                </td>
                                <td>
                                    <button type="button" class="link" aria-label=label on:click={move |_| act::<endpoint::ConfirmTransfer>(id.clone(), failure, done)}>
                                        {tr(|l| td_string!(l, transfer_confirm))}
                                    </button>
                                </td>
                            </tr>
                        }
                        .into_any()
                    })
                    .collect();
                view! { {sorted_table(TRANSFER_HEADS, sort(), by, rows)} {pager} }.into_any()
            })}
        }
        .into_any()
        },
    )
}

const STATEMENT_HEADS: &[Text] = &[
    |l| td_string!(l, col_account),
    |l| td_string!(l, field_org_name),
    |l| td_string!(l, acceptance_no),
    |l| td_string!(l, field_cert_type),
    |l| td_string!(l, col_amount),
    |l| td_string!(l, col_approved_at),
];

/// This month in China Standard Time, as `yyyy-mm`.
fn this_month() -> String {
    let now = js_sys::Date::new_0();
    let cst = js_sys::Date::new(&(now.get_time() + 8.0 * 3600.0 * 1000.0).into());
    format!("{:04}-{:02}", cst.get_utc_full_year(), cst.get_utc_month() + 1)
}

#[component]
pub fn StatementSection() -> impl IntoView {
    let i18n = use_i18n();
    let month = RwSignal::new(this_month());
    let list = RwSignal::new(Load::<Statement>::Loading);
    let reload = move || {
        load_into::<endpoint::Statement>(list, &[&month.get_untracked()], i18n.get_locale_untracked());
    };
    reload();
    staff_section(
        list,
        "statement",
        |l| td_string!(l, statement_title),
        move || {
            view! {
            <div class="field inline">
                <label for="statement-month">{tr(|l| td_string!(l, statement_month))}</label>
                <input id="statement-month" type="month" prop:value=move || month.get() on:change=move |ev| {
                    month.set(event_target_value(&ev));
                    reload();
                } />
                " "
                <a class="button secondary" download href={move || crate::api::file_link::<endpoint::StatementCsv>(&[], &MonthQuery { month: month.get() })}>
                    {tr(|l| td_string!(l, export_csv))}
                </a>
            </div>
            {loaded(list, |s| {
                let rows = s
                    .lines
                    .into_iter()
                    .map(|line| {
                        view! {
                            <tr>
                                <td>{line.mobile}</td>
                                <td>{line.org_name}</td>
                                <td>{line.acceptance_no}</td>
                                <td>{line.certificate_type}</td>
                                <td>{yuan(line.amount_fen)}</td>
                                <td>{short_time(&line.approved_at)}</td>
                            </tr>
                        }
                        .into_any()
                    })
                    .collect();
                view! {
                    {data_table(STATEMENT_HEADS, rows)}
                    <p class="total">{tr(|l| td_string!(l, statement_total))}" "<strong>{yuan(s.total_fen)}</strong></p>
                }
                .into_any()
            })}
        }
        .into_any()
        },
    )
}
