//! 发票申请 (seed 004 §3.1.6, §4.1.9–4.1.11): every approved application with its invoice
//! status — 未申请, 待开票 or 已开票. 开具发票 opens the invoice form with the unit's name,
//! tax number, amount and e-mail filled in; an issued e-invoice opens as PDF (查看).

use crate::i18n::td_string;
use certdesk_shared::apply::{Catalogue, InvoiceRequest, InvoiceStatus, InvoiceView, yuan};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::request::{RequestStatus, RequestView};
use certdesk_shared::{CreditCode, Email, FieldError, OrgName};
use leptos::prelude::*;

use crate::components::fields::{FailureAlert, Field, FormState, Text};
use crate::components::table::{data_table, loaded};
use crate::components::{tr, use_page_title};
use crate::form::{Load, check, short_time};
use crate::i18n::use_i18n;
use crate::pages::apply::type_name;

/// The invoice form as typed.
#[derive(Debug, Clone, Default)]
pub struct InvoiceForm {
    pub title: String,
    pub tax_number: String,
    pub address: String,
    pub bank: String,
    pub phone: String,
    pub bank_account: String,
    pub email: String,
}

impl InvoiceForm {
    /// Prefilled from the application: the unit's name, its credit code as tax number, its e-mail.
    pub fn for_application(a: &RequestView) -> Self {
        let info = a.certificate_info.as_ref();
        InvoiceForm {
            title: info
                .map(|i| i.holder.organisation().map_or(i.holder.common_name(), |(o, _)| o.as_str()).to_owned())
                .unwrap_or_default(),
            tax_number: info.and_then(|i| i.holder.organisation()).map(|(_, c)| c.to_string()).unwrap_or_default(),
            email: info.and_then(|i| i.email.as_ref()).map(|e| e.to_string()).unwrap_or_default(),
            ..Default::default()
        }
    }

    /// The request, or the errors under the fields: the same rules the server applies.
    pub fn request(&self) -> Result<InvoiceRequest, Vec<FieldError>> {
        let mut e = Vec::new();
        let title = check(&mut e, "title", OrgName::parse(&self.title));
        let tax_number = check(&mut e, "tax_number", CreditCode::parse(&self.tax_number));
        e.extend(InvoiceRequest::check_details(&self.address, &self.bank, &self.phone, &self.bank_account));
        let email = check(&mut e, "email", Email::parse(&self.email));
        match (title, tax_number, email) {
            (Some(title), Some(tax_number), Some(email)) if e.is_empty() => Ok(InvoiceRequest {
                title,
                tax_number,
                address: self.address.trim().to_owned(),
                bank: self.bank.trim().to_owned(),
                phone: self.phone.trim().to_owned(),
                bank_account: self.bank_account.trim().to_owned(),
                email,
            }),
            _ => Err(e),
        }
    }
}

/// 待开票 / 已开票, or 未申请 when none was asked for.
pub fn invoice_status_text(s: Option<InvoiceStatus>) -> Text {
    match s {
        None => |l| td_string!(l, invoice_none),
        Some(InvoiceStatus::Requested) => |l| td_string!(l, invoice_requested),
        Some(InvoiceStatus::Issued) => |l| td_string!(l, invoice_issued),
    }
}

type Rows = (Vec<RequestView>, Vec<InvoiceView>, Option<Catalogue>);

const HEADS: &[Text] = &[
    |l| td_string!(l, col_common_name),
    |l| td_string!(l, acceptance_no),
    |l| td_string!(l, field_cert_type),
    |l| td_string!(l, col_business),
    |l| td_string!(l, col_amount),
    |l| td_string!(l, col_invoice_status),
    |l| td_string!(l, col_created),
    |_| "",
];

#[component]
pub fn Invoices() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), nav_invoices).to_owned());
    let list = RwSignal::new(Load::<Rows>::Loading);
    let reload = move || {
        let l = i18n.get_locale_untracked();
        leptos::task::spawn_local(async move {
            let cat = crate::api::call::<endpoint::CustomerCatalogue>(&[], &(), l).await.ok();
            let apps = crate::api::call::<endpoint::ListApplications>(&[], &(), l).await;
            let invoices = crate::api::call::<endpoint::ListInvoices>(&[], &(), l).await;
            list.set(Load::from_result(apps.and_then(|a| invoices.map(|i| (a, i, cat)))));
        });
    };
    crate::session::when_signed_in("/invoices", reload);
    let open = RwSignal::new(None::<RequestView>);
    let form = move |a: RequestView| invoice_form(a, open, reload);
    view! {
        <h1>{tr(|l| td_string!(l, nav_invoices))}</h1>
        <crate::pages::applications::CustomerTabs />
        <p class="muted">{tr(|l| td_string!(l, invoice_intro))}</p>
        {loaded(list, move |(apps, invoices, cat)| {
            let rows = apps
                .into_iter()
                .filter(|a| matches!(a.status, RequestStatus::Approved | RequestStatus::Issued | RequestStatus::Done))
                .map(|a| {
                    let invoice = invoices.iter().find(|i| i.application_id == a.id).cloned();
                    let status = invoice_status_text(invoice.as_ref().map(|i| i.status));
                    let name = a
                        .certificate_info
                        .as_ref()
                        .map(|i| i.holder.common_name().to_owned())
                        .or_else(|| a.holder_name.clone())
                        .unwrap_or_default();
                    let label = format!("{} {}", tr(|l| td_string!(l, invoice_request))(), a.acceptance_no.clone().unwrap_or_default());
                    let action = match invoice {
                        None => {
                            let a = a.clone();
                            view! {
                                <button type="button" class="link" aria-label=label on:click=move |_| open.set(Some(a.clone()))>
                                    {tr(|l| td_string!(l, invoice_request))}
                                </button>
                            }
                            .into_any()
                        }
                        Some(i) if i.status == InvoiceStatus::Issued => view! {
                            <a href=endpoint::InvoicePdf::path(&[&i.id]) target="_blank">{tr(|l| td_string!(l, view))}</a>
                        }
                        .into_any(),
                        Some(_) => ().into_any(),
                    };
                    view! {
                        <tr>
                            <td>{name}</td>
                            <td>{a.acceptance_no.clone().unwrap_or_default()}</td>
                            <td>{type_name(cat.as_ref(), &a)}</td>
                            <td>{tr(crate::pages::apply::kind_text(a.kind))}</td>
                            <td>{a.price_fen.map(yuan).unwrap_or_default()}</td>
                            <td>{tr(status)}</td>
                            <td>{short_time(&a.created_at)}</td>
                            <td>{action}</td>
                        </tr>
                    }
                    .into_any()
                })
                .collect();
            data_table(HEADS, rows)
        })}
        {move || open.get().map(form)}
    }
}

/// 开具发票: the form for one application.
fn invoice_form(
    a: RequestView,
    open: RwSignal<Option<RequestView>>,
    reload: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let start = InvoiceForm::for_application(&a);
    let [title, tax_number, address, bank, phone, bank_account, email] =
        [start.title, start.tax_number, start.address, start.bank, start.phone, start.bank_account, start.email]
            .map(RwSignal::new);
    let fs = FormState::new("invoice");
    let errors = fs.errors;
    let (failure, busy) = (fs.failure, fs.busy);
    let id = a.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = InvoiceForm {
            title: title.get_untracked(),
            tax_number: tax_number.get_untracked(),
            address: address.get_untracked(),
            bank: bank.get_untracked(),
            phone: phone.get_untracked(),
            bank_account: bank_account.get_untracked(),
            email: email.get_untracked(),
        };
        let id = id.clone();
        let l = i18n.get_locale_untracked();
        fs.submit(
            form.request(),
            move |req| async move { crate::api::call::<endpoint::RequestInvoice>(&[&id], &req, l).await },
            move |_| {
                open.set(None);
                reload();
            },
        );
    };
    let amount = a.price_fen.map(yuan).unwrap_or_default();
    view! {
        <section class="panel" aria-labelledby="invoice-form-title">
            <h2 id="invoice-form-title">{tr(|l| td_string!(l, invoice_request))}" · "{a.acceptance_no.clone().unwrap_or_default()}</h2>
            <form class="form" novalidate on:submit=submit>
                <fieldset>
                    <legend>{tr(|l| td_string!(l, invoice_info))}</legend>
                    <Field form="invoice" field="title" label=|l| td_string!(l, invoice_name) value=title errors />
                    <Field form="invoice" field="tax_number" label=|l| td_string!(l, invoice_tax_number) value=tax_number errors
                        check=|s| CreditCode::parse(s).map(drop) />
                    <Field form="invoice" field="address" label=|l| td_string!(l, invoice_address) value=address errors />
                    <Field form="invoice" field="bank" label=|l| td_string!(l, invoice_bank) value=bank errors />
                    <p class="field"><span>{tr(|l| td_string!(l, col_amount))}</span>" "<strong class="amount">{amount}</strong></p>
                    <Field form="invoice" field="phone" label=|l| td_string!(l, invoice_phone) value=phone errors input_type="tel" />
                    <Field form="invoice" field="bank_account" label=|l| td_string!(l, invoice_bank_account) value=bank_account errors />
                </fieldset>
                <fieldset>
                    <legend>{tr(|l| td_string!(l, invoice_push))}</legend>
                    <Field form="invoice" field="email" label=|l| td_string!(l, invoice_email) value=email errors input_type="email"
                        hint=|l| td_string!(l, invoice_email_hint) check=|s| Email::parse(s).map(drop) />
                </fieldset>
                <FailureAlert failure />
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, invoice_request))}</button>
                    <button type="button" class="secondary" on:click=move |_| open.set(None)>{tr(|l| td_string!(l, cancel))}</button>
                </div>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invoice_form_applies_the_servers_rules() {
        let mut f = InvoiceForm {
            title: "天津市滨海数字认证有限公司".into(),
            tax_number: "91350100M000100Y42".into(),
            address: "天津市和平区1号".into(),
            bank: " ".into(),
            phone: "022-12345678".into(),
            bank_account: "1234567890".into(),
            email: "finance@example.com".into(),
        };
        let e = f.request().unwrap_err();
        assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["tax_number", "bank"]);
        f.tax_number = "91350100M000100Y43".into();
        let e = f.request().unwrap_err();
        assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["bank"]);
        f.bank = "中国银行天津分行".into();
        assert_eq!(f.request().unwrap().tax_number.to_string(), "91350100M000100Y43");
    }
}
