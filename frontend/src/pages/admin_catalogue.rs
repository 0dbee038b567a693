//! 价格与结算 in the staff console (administrators): the catalogue's validity options with
//! their prices, changed in place or added per certificate type (drafts keep the price they
//! were started with); and a customer account found by its phone, to switch it between
//! scan-to-pay (自助扫码收费) and enterprise settlement (大客户统一结算).

use certdesk_shared::apply::{AccountBilling, BillingMode, NewValidity, Project, SetBilling, SetPrice, ValidityOption, parse_yuan, yuan};
use certdesk_shared::ValidationError;
use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::components::fields::{FailureAlert, Text};
use crate::components::table::{data_table, load_into, loaded, staff_section};
use crate::components::tr;
use crate::form::{Failure, Load, fill};
use crate::i18n::use_i18n;

const PRICE_HEADS: &[Text] = &[
    |l| td_string!(l, field_project),
    |l| td_string!(l, field_cert_type),
    |l| td_string!(l, field_validity),
    |l| td_string!(l, col_price_yuan),
    |_| "",
];

/// A refusal: a field's rule in its words when the server names one, else the API's code.
#[derive(Clone, Copy)]
struct Problem {
    field: RwSignal<Option<ValidationError>>,
    failure: RwSignal<Option<Failure>>,
}

impl Problem {
    fn new() -> Self {
        Problem { field: RwSignal::new(None), failure: RwSignal::new(None) }
    }
    fn clear(self) {
        self.field.set(None);
        self.failure.set(None);
    }
    fn api(self, e: certdesk_shared::ApiError) {
        match e.fields.first() {
            Some(f) => self.field.set(Some(f.error)),
            None => self.failure.set(Some(e.into())),
        }
    }
    fn view(self) -> impl IntoView {
        let i18n = use_i18n();
        view! {
            {move || self.field.get().map(|e| view! {
                <p class="field-error" role="alert">{move || e.message(crate::api::lang(i18n.get_locale()))}</p>
            })}
            <FailureAlert failure=self.failure />
        }
    }
}

#[component]
pub fn CatalogueSection() -> impl IntoView {
    let i18n = use_i18n();
    let list = RwSignal::new(Load::<Vec<Project>>::Loading);
    let problem = Problem::new();
    let reload = move || {
        load_into(list, "/api/admin/catalogue", i18n.get_locale_untracked());
    };
    reload();
    // PUT a new price, or POST another validity period; the price typed in yuan.
    let send = move |path: String, years: Option<u32>, price: String| {
        problem.clear();
        let price_fen = match parse_yuan(&price) {
            Ok(p) => p,
            Err(e) => return problem.field.set(Some(e)),
        };
        leptos::task::spawn_local(async move {
            let l = i18n.get_locale_untracked();
            let res = match years {
                None => crate::api::put::<ValidityOption>(&path, &SetPrice { price_fen }, l).await,
                Some(years) => crate::api::post::<ValidityOption>(&path, &NewValidity { years, price_fen }, l).await,
            };
            match res {
                Ok(_) => reload(),
                Err(e) => problem.api(e),
            }
        });
    };
    staff_section(list, "catalogue", |l| td_string!(l, catalogue_title), move || {
        view! {
            {problem.view()}
            {loaded(list, move |projects| {
                let mut rows = Vec::new();
                for p in projects {
                    for t in p.types {
                        let label = format!("{} {}", p.name, t.name);
                        for v in t.validity {
                            let price = RwSignal::new(yuan(v.price_fen));
                            let input_id = format!("price-{}", v.id);
                            let years = fill(td_string!(i18n.get_locale_untracked(), validity_years), v.years);
                            let name = format!("{label} {years}");
                            let path = format!("/api/admin/catalogue/validity/{}", v.id);
                            rows.push(view! {
                                <tr>
                                    <td>{p.name.clone()}</td>
                                    <td>{t.name.clone()}</td>
                                    <td>{years}</td>
                                    <td>
                                        <label class="visually-hidden" for=input_id.clone()>{format!("{} {name}", tr(|l| td_string!(l, col_price_yuan))())}</label>
                                        <input id=input_id type="text" inputmode="decimal" prop:value=move || price.get() on:input=move |ev| price.set(event_target_value(&ev)) />
                                    </td>
                                    <td>
                                        <button type="button" aria-label=format!("{} {name}", tr(|l| td_string!(l, save))()) on:click=move |_| send(path.clone(), None, price.get_untracked())>
                                            {tr(|l| td_string!(l, save))}
                                        </button>
                                    </td>
                                </tr>
                            }.into_any());
                        }
                        // Another period on sale for this type.
                        let (years, price) = (RwSignal::new("1".to_owned()), RwSignal::new(String::new()));
                        let (years_id, price_id) = (format!("new-years-{}", t.id), format!("new-price-{}", t.id));
                        let path = format!("/api/admin/catalogue/types/{}/validity", t.id);
                        let add = format!("{} {label}", tr(|l| td_string!(l, validity_add))());
                        rows.push(view! {
                            <tr class="add-row">
                                <td>{p.name.clone()}</td>
                                <td>{t.name.clone()}</td>
                                <td>
                                    <label class="visually-hidden" for=years_id.clone()>{format!("{} {label}", tr(|l| td_string!(l, field_validity))())}</label>
                                    <select id=years_id prop:value=move || years.get() on:change=move |ev| years.set(event_target_value(&ev))>
                                        {(1..=5u32).map(|y| view! { <option value=y.to_string()>{move || fill(td_string!(i18n.get_locale(), validity_years), y)}</option> }).collect_view()}
                                    </select>
                                </td>
                                <td>
                                    <label class="visually-hidden" for=price_id.clone()>{format!("{} {label}", tr(|l| td_string!(l, col_price_yuan))())}</label>
                                    <input id=price_id type="text" inputmode="decimal" prop:value=move || price.get() on:input=move |ev| price.set(event_target_value(&ev)) />
                                </td>
                                <td>
                                    <button type="button" class="secondary" aria-label=add on:click=move |_| send(path.clone(), years.get_untracked().parse().ok(), price.get_untracked())>
                                        {tr(|l| td_string!(l, validity_add))}
                                    </button>
                                </td>
                            </tr>
                        }.into_any());
                    }
                }
                data_table(PRICE_HEADS, rows)
            })}
        }
        .into_any()
    })
}

pub fn billing_text(b: BillingMode) -> Text {
    match b {
        BillingMode::ScanToPay => |l| td_string!(l, billing_scan_to_pay),
        BillingMode::Settlement => |l| td_string!(l, billing_settlement),
    }
}

const BILLING_HEADS: &[Text] =
    &[|l| td_string!(l, col_account), |l| td_string!(l, col_holder), |l| td_string!(l, col_billing)];

#[component]
pub fn BillingSection() -> impl IntoView {
    let i18n = use_i18n();
    // The search starts empty; a 403 on the first (empty) search hides the section.
    let found = RwSignal::new(Load::<Vec<AccountBilling>>::Loading);
    let mobile = RwSignal::new(String::new());
    let problem = Problem::new();
    let search = move || {
        let path = format!("/api/admin/accounts?mobile={}", String::from(js_sys::encode_uri_component(&mobile.get_untracked())));
        load_into(found, path, i18n.get_locale_untracked());
    };
    search();
    let set = move |id: String, value: String| {
        let Some(billing) = BillingMode::parse(&value) else { return };
        problem.clear();
        leptos::task::spawn_local(async move {
            let path = format!("/api/admin/accounts/{id}/billing");
            match crate::api::put_discard(&path, &SetBilling { billing }, i18n.get_locale_untracked()).await {
                Ok(()) => search(),
                Err(e) => problem.api(e),
            }
        });
    };
    staff_section(found, "billing", |l| td_string!(l, billing_title), move || {
        view! {
            <form class="form inline" novalidate on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                search();
            }>
                <div class="field">
                    <label for="billing-mobile">{tr(|l| td_string!(l, col_account))}</label>
                    <input id="billing-mobile" type="tel" inputmode="numeric" prop:value=move || mobile.get() on:input=move |ev| mobile.set(event_target_value(&ev)) />
                </div>
                <button type="submit" class="secondary">{tr(|l| td_string!(l, search))}</button>
            </form>
            {problem.view()}
            {loaded(found, move |accounts| {
                let rows = accounts
                    .into_iter()
                    .map(|a| {
                        let select_id = format!("billing-{}", a.id);
                        let label = format!("{} {}", tr(|l| td_string!(l, col_billing))(), a.mobile);
                        let holder = a.org_name.clone().map_or(a.name.clone(), |o| format!("{o} · {}", a.name));
                        let id = a.id.clone();
                        view! {
                            <tr>
                                <td>{a.mobile.clone()}</td>
                                <td>{holder}</td>
                                <td>
                                    <label class="visually-hidden" for=select_id.clone()>{label}</label>
                                    <select id=select_id on:change=move |ev| set(id.clone(), event_target_value(&ev))>
                                        {BillingMode::ALL
                                            .into_iter()
                                            .map(|b| view! { <option value=b.as_str() selected=b == a.billing>{tr(billing_text(b))}</option> })
                                            .collect_view()}
                                    </select>
                                </td>
                            </tr>
                        }
                        .into_any()
                    })
                    .collect();
                data_table(BILLING_HEADS, rows)
            })}
        }
        .into_any()
    })
}
