//! 财务 in the staff console (finance and administrators): 发票申请 — the invoices asked for,
//! issued with one click (the server makes the PDF e-invoice and e-mails it); 转账确认 — bank
//! transfers whose voucher waits for the money to be seen; 月结对账单 — the settlement
//! customers' approved applications of a month.

use certdesk_shared::apply::{InvoiceStatus, InvoiceView, yuan};
use certdesk_shared::payment::{BankTransfer, Statement};
use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::components::fields::{FailureAlert, Text};
use crate::components::table::{data_table, load_into, loaded, staff_section, url_filter};
use crate::components::tr;
use crate::form::{Failure, Load, short_time};
use crate::i18n::use_i18n;
use crate::pages::invoices::invoice_status_text;

const INVOICE_HEADS: &[Text] = &[
    |l| td_string!(l, invoice_name),
    |l| td_string!(l, acceptance_no),
    |l| td_string!(l, filter_kind),
    |l| td_string!(l, invoice_tax_number),
    |l| td_string!(l, col_amount),
    |l| td_string!(l, col_invoice_status),
    |l| td_string!(l, col_created),
    |l| td_string!(l, col_invoice_no),
];

/// A staff action on one row (issue, confirm): POST, then reload, or show the refusal.
fn act(path: String, failure: RwSignal<Option<Failure>>, reload: impl Fn() + 'static) {
    let i18n = use_i18n();
    let l = i18n.get_locale_untracked();
    failure.set(None);
    leptos::task::spawn_local(async move {
        match crate::api::post_no_content(&path, &crate::api::Empty {}, l).await {
            Ok(()) => reload(),
            Err(e) => failure.set(Some(e.into())),
        }
    });
}

#[component]
pub fn InvoiceQueue() -> impl IntoView {
    let i18n = use_i18n();
    let list = RwSignal::new(Load::<Vec<InvoiceView>>::Loading);
    // 开票状态 in the address (`?status=issued`; 待开票 when absent).
    let (status, set_status) = url_filter("status");
    let status = Memo::new(move |_| if status.get().is_empty() { "requested".to_owned() } else { status.get() });
    let failure = RwSignal::new(None::<Failure>);
    let reload = move || {
        let path = format!("/api/admin/invoices?status={}", status.get_untracked());
        load_into(list, path, i18n.get_locale_untracked());
    };
    Effect::new(move |_| {
        status.track();
        reload();
    });
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
            <div class="field inline">
                <label for="invoice-status">{tr(|l| td_string!(l, col_invoice_status))}</label>
                <select id="invoice-status" prop:value=move || status.get() on:change=move |ev| set_status.run(event_target_value(&ev))>
                    <option value="requested">{tr(invoice_status_text(Some(InvoiceStatus::Requested)))}</option>
                    <option value="issued">{tr(invoice_status_text(Some(InvoiceStatus::Issued)))}</option>
                </select>
            </div>
            <FailureAlert failure />
            {loaded(list, move |invoices| {
                let rows = invoices
                    .into_iter()
                    .map(|i| {
                        let number = i.acceptance_no.clone().unwrap_or_default();
                        let cell = match i.invoice_no.clone() {
                            Some(no) => view! {
                                <a href=format!("/api/admin/invoices/{}/pdf", i.id) target="_blank">{no}</a>
                            }
                            .into_any(),
                            None => {
                                let path = format!("/api/admin/invoices/{}/issue", i.id);
                                let label = format!("{} {number}", tr(|l| td_string!(l, invoice_request))());
                                view! {
                                    <button type="button" class="link" aria-label=label on:click=move |_| act(path.clone(), failure, done)>
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
                data_table(INVOICE_HEADS, rows)
            })}
        }
        .into_any()
        },
    )
}

const TRANSFER_HEADS: &[Text] =
    &[|l| td_string!(l, col_trade_no), |l| td_string!(l, col_amount), |l| td_string!(l, col_voucher), |_| ""];

#[component]
pub fn TransferQueue() -> impl IntoView {
    let i18n = use_i18n();
    let list = RwSignal::new(Load::<Vec<BankTransfer>>::Loading);
    let failure = RwSignal::new(None::<Failure>);
    let reload = move || {
        load_into(list, "/api/admin/transfers", i18n.get_locale_untracked());
    };
    reload();
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
            <FailureAlert failure />
            {loaded(list, move |transfers| {
                let rows = transfers
                    .into_iter()
                    .map(|t| {
                        let no = t.out_trade_no.unwrap_or_default();
                        let path = format!("/api/admin/transfers/{no}/confirm");
                        let label = format!("{} {no}", tr(|l| td_string!(l, transfer_confirm))());
                        view! {
                            <tr>
                                <td>{no.clone()}</td>
                                <td>{yuan(t.amount_fen)}</td>
                                <td>
                                    <a href=format!("/api/admin/transfers/{no}/voucher") target="_blank">
                                        {tr(|l| td_string!(l, view))}
                                    </a>
                                </td>
                                <td>
                                    <button type="button" class="link" aria-label=label on:click=move |_| act(path.clone(), failure, done)>
                                        {tr(|l| td_string!(l, transfer_confirm))}
                                    </button>
                                </td>
                            </tr>
                        }
                        .into_any()
                    })
                    .collect();
                data_table(TRANSFER_HEADS, rows)
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
        let path = format!("/api/admin/statements/{}", month.get_untracked());
        load_into(list, path, i18n.get_locale_untracked());
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
