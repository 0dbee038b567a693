//! The catalogue in the staff console (administrators): projects and their certificate
//! types (the profile the CA issues, the media each is sold on, the documents step ③ asks
//! for); the validity options with their prices, changed in place or added per type (drafts
//! keep the price they were started with); and a customer account found by its phone, to
//! switch it between scan-to-pay (自助扫码收费) and enterprise settlement (大客户统一结算).

use crate::i18n::td_string;
use certdesk_shared::admin::AccountQuery;
use certdesk_shared::apply::{
    AccountBilling, BillingMode, CertificateType, DocumentKind, Medium, NewProject, NewType, NewValidity, Project,
    SetBilling, SetPrice, TypeSettings, parse_yuan, yuan,
};
use certdesk_shared::certificate::CertificateProfile;
use certdesk_shared::endpoint;
use certdesk_shared::{FieldError, ValidationError};
use leptos::prelude::*;

use crate::components::fields::{FailureAlert, Text};
use crate::components::table::{data_table, load_into, load_query_into, loaded, staff_section};
use crate::components::tr;
use crate::form::{Failure, Load, fill};
use crate::i18n::use_i18n;
use certdesk_shared::Named;

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
    /// The first of a shared rule's refusals, before anything is sent.
    fn refused(self, errors: Vec<FieldError>) -> bool {
        let first = errors.first().map(|f| f.error);
        self.field.set(first);
        first.is_some()
    }
    fn view(self) -> impl IntoView {
        let i18n = use_i18n();
        view! {
            {move || self.field.get().map(|e| view! {
                <p class="field-error" role="alert">{move || crate::i18n::validation_text(e, i18n.get_locale())}</p>
            })}
            <FailureAlert failure=self.failure />
        }
    }
}

const TYPE_HEADS: &[Text] = &[
    |l| td_string!(l, field_project),
    |l| td_string!(l, field_type_name),
    |l| td_string!(l, field_medium),
    |l| td_string!(l, col_documents),
    |l| td_string!(l, field_renewal_review),
    |l| td_string!(l, col_profile),
    |_| "",
];

/// 延期需审核: whether staff review this type's renewals.
fn review_check(on: RwSignal<bool>, label: String) -> impl IntoView {
    view! {
        <input
            type="checkbox"
            aria-label=label
            prop:checked=move || on.get()
            on:change=move |ev| on.set(event_target_checked(&ev))
        />
    }
}

/// A change to the catalogue's projects and types.
enum Write {
    /// A new project.
    Project(NewProject),
    /// A new type in the project of this id.
    Type(String, NewType),
    /// The settings of the type of this id.
    Settings(String, TypeSettings),
}

impl Write {
    /// Sends the change; the answer is not needed (the catalogue is loaded again).
    async fn send(self, l: crate::i18n::Locale) -> Result<(), certdesk_shared::ApiError> {
        match self {
            Write::Project(body) => crate::api::call::<endpoint::AddProject>(&[], &body, l).await.map(drop),
            Write::Type(project, body) => crate::api::call::<endpoint::AddType>(&[&project], &body, l).await.map(drop),
            Write::Settings(id, body) => crate::api::call::<endpoint::ChangeType>(&[&id], &body, l).await.map(drop),
        }
    }
}

/// What a price is typed for.
#[derive(Debug, Clone)]
enum Priced {
    /// The validity option of this id (a `SetPrice`).
    Validity(String),
    /// The 补办价格 of the type of this id (a `SetPrice`).
    Reissue(String),
    /// Another period on sale for the type of this id, of so many years (a `NewValidity`).
    NewValidity(String, Option<u32>),
}

/// One checkbox per option, each inside its label, ticked for those in `chosen`; `group`
/// names the set for screen readers.
fn checks<T>(options: &'static [T], chosen: RwSignal<Vec<T>>, text: fn(T) -> Text, group: String) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    view! {
        <fieldset class="checks" aria-label=group>
            {options
                .iter()
                .map(|&o| {
                    view! {
                        <label>
                            <input
                                type="checkbox"
                                prop:checked=move || chosen.with(|c| c.contains(&o))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        c.retain(|x| *x != o);
                                        if on {
                                            c.push(o);
                                        }
                                    });
                                }
                            />
                            {tr(text(o))}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// The type's editable settings as signals, for its row or the new-type form.
#[derive(Clone, Copy)]
struct TypeForm {
    name: RwSignal<String>,
    media: RwSignal<Vec<Medium>>,
    documents: RwSignal<Vec<DocumentKind>>,
    renewal_review: RwSignal<bool>,
}

impl TypeForm {
    fn new(t: Option<&CertificateType>) -> Self {
        TypeForm {
            name: RwSignal::new(t.map(|t| t.name.clone()).unwrap_or_default()),
            media: RwSignal::new(t.map_or_else(|| vec![Medium::Ukey], |t| t.media.clone())),
            documents: RwSignal::new(t.map_or_else(|| DocumentKind::FOR_APPLY.to_vec(), |t| t.documents.clone())),
            renewal_review: RwSignal::new(t.is_some_and(|t| t.renewal_review)),
        }
    }
    fn settings(self) -> TypeSettings {
        TypeSettings {
            name: self.name.get_untracked().trim().to_owned(),
            media: self.media.get_untracked(),
            documents: self.documents.get_untracked(),
            renewal_review: self.renewal_review.get_untracked(),
        }
    }
    /// Name, media and documents cells, labelled with `label` for screen readers.
    fn cells(self, key: &str, label: &str) -> impl IntoView + use<> {
        let name_id = format!("type-name-{key}");
        let name = self.name;
        view! {
            <td>
                <label class="visually-hidden" for=name_id.clone()>{format!("{} {label}", tr(|l| td_string!(l, field_type_name))())}</label>
                <input id=name_id type="text" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </td>
            <td>{checks(&Medium::ALL, self.media, crate::pages::apply::medium_text, format!("{} {label}", tr(|l| td_string!(l, field_medium))()))}</td>
            <td>{checks(&DocumentKind::FOR_APPLY, self.documents, crate::pages::apply::doc_text, format!("{} {label}", tr(|l| td_string!(l, col_documents))()))}</td>
            <td>{review_check(self.renewal_review, format!("{} {label}", tr(|l| td_string!(l, field_renewal_review))()))}</td>
        }
    }
}

/// 项目与证书类型 (`/admin/settings/catalogue`).
#[component]
pub fn TypesPage() -> impl IntoView {
    let (list, _) = catalogue();
    view! { <TypesSection list /> }
}

/// 价格 (`/admin/settings/prices`).
#[component]
pub fn PricesPage() -> impl IntoView {
    let (list, reload) = catalogue();
    view! { <PricesSection list reload /> }
}

/// The catalogue, loaded now, and what loads it again.
fn catalogue() -> (RwSignal<Load<Vec<Project>>>, Callback<()>) {
    let i18n = use_i18n();
    let list = RwSignal::new(Load::<Vec<Project>>::Loading);
    let reload = move || {
        load_into::<endpoint::FullCatalogue>(list, &[], i18n.get_locale_untracked());
    };
    reload();
    (list, Callback::new(move |()| reload()))
}

/// 项目与证书类型: a new project; each type's name, media and documents; a new type.
#[component]
fn TypesSection(list: RwSignal<Load<Vec<Project>>>) -> impl IntoView {
    let i18n = use_i18n();
    let problem = Problem::new();
    // What was last saved, said once the tables show it.
    let saved = RwSignal::new(None::<String>);
    // Sends `write`; on success `cleared` is emptied (a refusal keeps what was typed) and the
    // catalogue is loaded again for both tables.
    let send = move |write: Write, what: String, cleared: Option<RwSignal<String>>| {
        saved.set(None);
        leptos::task::spawn_local(async move {
            let l = i18n.get_locale_untracked();
            match write.send(l).await {
                Ok(()) => {
                    if let Some(field) = cleared {
                        field.set(String::new());
                    }
                    list.set(Load::from_result(crate::api::call::<endpoint::FullCatalogue>(&[], &(), l).await));
                    saved.set(Some(what));
                }
                Err(e) => problem.api(e),
            }
        });
    };
    let project_name = RwSignal::new(String::new());
    let add_project = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        problem.clear();
        let body = NewProject { name: project_name.get_untracked().trim().to_owned() };
        if problem.refused(body.check()) {
            return;
        }
        let what = body.name.clone();
        send(Write::Project(body), what, Some(project_name));
    };
    let new_type = TypeForm::new(None);
    let (new_project, new_profile) =
        (RwSignal::new(String::new()), RwSignal::new(CertificateProfile::OrgSign.as_str().to_owned()));
    let add_type = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        problem.clear();
        let settings = new_type.settings();
        let Some(profile) = CertificateProfile::parse(&new_profile.get_untracked()) else { return };
        if problem.refused(settings.check()) {
            return;
        }
        let project = new_project.get_untracked();
        let what = settings.name.clone();
        send(Write::Type(project, NewType { profile, settings }), what, Some(new_type.name));
    };
    staff_section(
        list,
        "catalogue-types",
        |l| td_string!(l, catalogue_types_title),
        move || {
            view! {
            {problem.view()}
            <p class="status" role="status">{move || saved.get().map(|what| format!("{} {what}", tr(|l| td_string!(l, saved))()))}</p>
            <form class="form inline" novalidate on:submit=add_project>
                <div class="field">
                    <label for="new-project">{tr(|l| td_string!(l, field_new_project))}</label>
                    <input id="new-project" type="text" prop:value=move || project_name.get() on:input=move |ev| project_name.set(event_target_value(&ev)) />
                </div>
                <button type="submit" class="secondary">{tr(|l| td_string!(l, project_add))}</button>
            </form>
            {loaded(list, move |projects| {
                if new_project.get_untracked().is_empty() && let Some(p) = projects.first() {
                    new_project.set(p.id.clone());
                }
                let mut rows = Vec::new();
                for p in &projects {
                    for t in &p.types {
                        let form = TypeForm::new(Some(t));
                        let label = format!("{} {}", p.name, t.name);
                        let id = t.id.clone();
                        let save = format!("{} {label}", tr(|l| td_string!(l, save))());
                        let cells = form.cells(&t.id, &label);
                        rows.push(view! {
                            <tr>
                                <td>{p.name.clone()}</td>
                                {cells}
                                <td>{tr(crate::pages::search::profile_text(Some(t.profile)))}</td>
                                <td>
                                    <button type="button" aria-label=save on:click=move |_| {
                                        problem.clear();
                                        let settings = form.settings();
                                        if !problem.refused(settings.check()) {
                                            send(Write::Settings(id.clone(), settings), label.clone(), None);
                                        }
                                    }>{tr(|l| td_string!(l, save))}</button>
                                </td>
                            </tr>
                        }.into_any());
                    }
                }
                let options = projects.iter().map(|p| view! { <option value=p.id.clone()>{p.name.clone()}</option> }).collect_view();
                view! {
                    {data_table(TYPE_HEADS, rows)}
                    <form class="form" novalidate on:submit=add_type>
                        <h3>{tr(|l| td_string!(l, type_add))}</h3>
                        <div class="field">
                            <label for="new-type-project">{tr(|l| td_string!(l, field_project))}</label>
                            <select id="new-type-project" prop:value=move || new_project.get() on:change=move |ev| new_project.set(event_target_value(&ev))>{options}</select>
                        </div>
                        <div class="field">
                            <label for="type-name-new">{tr(|l| td_string!(l, field_type_name))}</label>
                            <input id="type-name-new" type="text" prop:value=move || new_type.name.get() on:input=move |ev| new_type.name.set(event_target_value(&ev)) />
                        </div>
                        <div class="field">
                            <label for="new-type-profile">{tr(|l| td_string!(l, col_profile))}</label>
                            <select id="new-type-profile" prop:value=move || new_profile.get() on:change=move |ev| new_profile.set(event_target_value(&ev))>
                                {CertificateProfile::ALL
                                    .into_iter()
                                    .map(|p| view! { <option value=p.as_str()>{tr(crate::pages::search::profile_text(Some(p)))}</option> })
                                    .collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <span class="label">{tr(|l| td_string!(l, field_medium))}</span>
                            {checks(&Medium::ALL, new_type.media, crate::pages::apply::medium_text, tr(|l| td_string!(l, field_medium))().into())}
                        </div>
                        <div class="field">
                            <span class="label">{tr(|l| td_string!(l, col_documents))}</span>
                            {checks(&DocumentKind::FOR_APPLY, new_type.documents, crate::pages::apply::doc_text, tr(|l| td_string!(l, col_documents))().into())}
                        </div>
                        <div class="field">
                            {review_check(new_type.renewal_review, tr(|l| td_string!(l, field_renewal_review))().into())}
                            " "
                            <span class="label">{tr(|l| td_string!(l, field_renewal_review))}</span>
                        </div>
                        <p class="hint">{tr(|l| td_string!(l, type_add_hint))}</p>
                        <button type="submit" class="secondary">{tr(|l| td_string!(l, type_add))}</button>
                    </form>
                }
                .into_any()
            })}
        }
        .into_any()
        },
    )
}

/// 价格: each validity option's price, and another period per type.
#[component]
fn PricesSection(list: RwSignal<Load<Vec<Project>>>, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let problem = Problem::new();
    let reload = move || reload.run(());
    // PUT a new price, or POST another validity period; the price typed in yuan.
    let send = move |priced: Priced, price: String| {
        problem.clear();
        let price_fen = match parse_yuan(&price) {
            Ok(p) => p,
            Err(e) => return problem.field.set(Some(e)),
        };
        leptos::task::spawn_local(async move {
            let l = i18n.get_locale_untracked();
            // A validity's price, or a type's 补办价格: both a `SetPrice`.
            let res = match priced {
                Priced::Validity(id) => {
                    crate::api::call::<endpoint::SetPrice>(&[&id], &SetPrice { price_fen }, l).await.map(drop)
                }
                Priced::Reissue(id) => {
                    crate::api::call::<endpoint::SetReissuePrice>(&[&id], &SetPrice { price_fen }, l).await.map(drop)
                }
                Priced::NewValidity(id, Some(years)) => {
                    crate::api::call::<endpoint::AddValidity>(&[&id], &NewValidity { years, price_fen }, l)
                        .await
                        .map(drop)
                }
                // The select offers 1 to 5 years only.
                Priced::NewValidity(_, None) => return,
            };
            match res {
                Ok(_) => reload(),
                Err(e) => problem.api(e),
            }
        });
    };
    staff_section(
        list,
        "catalogue",
        |l| td_string!(l, catalogue_title),
        move || {
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
                            let priced = Priced::Validity(v.id.clone());
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
                                        <button type="button" aria-label=format!("{} {name}", tr(|l| td_string!(l, save))()) on:click=move |_| send(priced.clone(), price.get_untracked())>
                                            {tr(|l| td_string!(l, save))}
                                        </button>
                                    </td>
                                </tr>
                            }.into_any());
                        }
                        // 补办价格: a reissue (new UKey, new key pair) of this type.
                        let reissue = RwSignal::new(yuan(t.reissue_price_fen));
                        let (reissue_id, priced) = (format!("reissue-price-{}", t.id), Priced::Reissue(t.id.clone()));
                        let name = format!("{label} {}", tr(|l| td_string!(l, reissue_price))());
                        rows.push(view! {
                            <tr>
                                <td>{p.name.clone()}</td>
                                <td>{t.name.clone()}</td>
                                <td>{tr(|l| td_string!(l, reissue_price))}</td>
                                <td>
                                    <label class="visually-hidden" for=reissue_id.clone()>{format!("{} {name}", tr(|l| td_string!(l, col_price_yuan))())}</label>
                                    <input id=reissue_id type="text" inputmode="decimal" prop:value=move || reissue.get() on:input=move |ev| reissue.set(event_target_value(&ev)) />
                                </td>
                                <td>
                                    <button type="button" aria-label=format!("{} {name}", tr(|l| td_string!(l, save))()) on:click=move |_| send(priced.clone(), reissue.get_untracked())>
                                        {tr(|l| td_string!(l, save))}
                                    </button>
                                </td>
                            </tr>
                        }.into_any());
                        // Another period on sale for this type.
                        let (years, price) = (RwSignal::new("1".to_owned()), RwSignal::new(String::new()));
                        let (years_id, price_id) = (format!("new-years-{}", t.id), format!("new-price-{}", t.id));
                        let type_id = t.id.clone();
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
                                    <button type="button" class="secondary" aria-label=add on:click=move |_| send(Priced::NewValidity(type_id.clone(), years.get_untracked().parse().ok()), price.get_untracked())>
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
        },
    )
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
        let query = AccountQuery { mobile: mobile.get_untracked() };
        load_query_into::<endpoint::FindAccounts>(found, &[], query, i18n.get_locale_untracked());
    };
    search();
    let set = move |id: String, value: String| {
        let Some(billing) = BillingMode::parse(&value) else { return };
        problem.clear();
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::SetBilling>(&[&id], &SetBilling { billing }, i18n.get_locale_untracked())
                .await
            {
                Ok(()) => search(),
                Err(e) => problem.api(e),
            }
        });
    };
    staff_section(
        found,
        "billing",
        |l| td_string!(l, billing_title),
        move || {
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
        },
    )
}
