//! 管理后台: who is signed in, and the sections their role may see (each shown only when
//! its call does not answer 403): 员工 (list, create with an enrolment link, change role),
//! 短信发件箱 (the sandbox SMS gateway's outbox) and 审计日志. Anyone else gets the API's
//! refusal and no data.

use crate::i18n::td_string;
use crate::router::NavigateOptions;
use crate::router::use_navigate;
use certdesk_shared::admin::{
    AuditEntry, AuditQuery, ChangeRoleRequest, CreateStaffRequest, ListQuery, OutboxMessage, OutboxQuery, Page,
    Section, SectionEntry, Sort, SortColumn, StaffColumn, StaffCreated, StaffMember, StaffQuery, StaffRole,
    StaffSession,
};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::{ErrorCode, FieldError};
use leptos::prelude::*;

use crate::components::fields::{FailureAlert, Field, FormState, Text, field_id};
use crate::components::table::{Head, data_table, load_query_into, loaded, search_box, sorted_table, staff_section};
use crate::components::{tr, use_page_title};
use crate::form::{Failure, Load, check, fill, required, short_time};
use crate::i18n::{Locale, use_i18n};
use certdesk_shared::Named;

pub fn role_text(role: StaffRole, l: Locale) -> &'static str {
    match role {
        StaffRole::Reviewer => td_string!(l, role_reviewer),
        StaffRole::CustomerService => td_string!(l, role_customer_service),
        StaffRole::Finance => td_string!(l, role_finance),
        StaffRole::Administrator => td_string!(l, role_administrator),
    }
}

/// The new staff member form.
#[derive(Debug, Clone)]
pub struct StaffForm {
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// Optional: their own phone (they never review a request made with it).
    pub mobile: String,
}

impl StaffForm {
    pub fn request(&self) -> Result<CreateStaffRequest, Vec<FieldError>> {
        let mut e = Vec::new();
        let username = check(&mut e, "username", required(&self.username));
        let display_name = check(&mut e, "display_name", required(&self.display_name));
        let role =
            check(&mut e, "role", StaffRole::parse(&self.role).ok_or(certdesk_shared::ValidationError::Required));
        let mobile = match self.mobile.trim() {
            "" => Some(None),
            m => check(&mut e, "mobile", certdesk_shared::Mobile::parse(m)).map(Some),
        };
        match (username, display_name, role, mobile) {
            (Some(username), Some(display_name), Some(role), Some(mobile)) => {
                Ok(CreateStaffRequest { username, display_name, role, mobile })
            }
            _ => Err(e),
        }
    }
}

/// `/admin/…` in the daily-work bundle: the section the address names.
#[component]
pub fn Admin(section: Section) -> impl IntoView {
    view! { <Console section=Some(section) page=operations /> }
}

/// 工作台 (`/admin`), the console's first page, a bundle of its own.
#[component]
pub fn AdminDashboard() -> impl IntoView {
    view! { <Console section=Some(Section::Dashboard) page=dashboard /> }
}

fn dashboard(section: Section) -> AnyView {
    match section {
        Section::Dashboard => view! { <crate::pages::admin_dashboard::DashboardSection /> }.into_any(),
        _ => view! { <crate::app::Elsewhere /> }.into_any(),
    }
}

/// `/admin/settings…`, a bundle of its own.
#[component]
pub fn AdminSettings(section: Option<Section>) -> impl IntoView {
    view! { <Console section page=settings /> }
}

/// The day's work: 审核, 冻结与吊销, 邮寄, 客服, finance's queues. Each bundle compiles only
/// its own half; the other half's sections are reached by a page load.
fn operations(section: Section) -> AnyView {
    use crate::components::lazily;
    match section {
        Section::Review => lazily(lazy::review()),
        Section::Revocations => lazily(lazy::revocations()),
        Section::Shipping => lazily(lazy::shipping()),
        Section::Customers => lazily(lazy::customers(customer_file)),
        Section::Invoices => lazily(lazy::invoices()),
        Section::Transfers => lazily(lazy::transfers()),
        Section::Statements => lazily(lazy::statements()),
        _ => view! { <crate::app::Elsewhere /> }.into_any(),
    }
}

/// 客服's open file, a chunk of its own ([`crate::pages::CustomerFileView`]).
fn customer_file(
    opened: Memo<String>,
    said: RwSignal<Option<String>>,
    failure: RwSignal<Option<crate::form::Failure>>,
) -> AnyView {
    crate::components::lazily(lazy::customer_file_lazy(opened, said, failure))
}

/// What administrators keep: each customer's billing mode, the catalogue and prices, staff, the
/// outbox, the audit trail.
fn settings(section: Section) -> AnyView {
    use crate::components::lazily;
    match section {
        Section::Billing => lazily(lazy::billing()),
        Section::Catalogue => lazily(lazy::catalogue()),
        Section::Prices => lazily(lazy::prices()),
        Section::Staff => lazily(lazy::staff()),
        Section::Outbox => lazily(lazy::outbox()),
        Section::Audit => lazily(lazy::audit()),
        _ => view! { <crate::app::Elsewhere /> }.into_any(),
    }
}

/// The console's sections, each a chunk of its bundle's wasm (`components::lazily`): a
/// visit fetches the console and the one section it shows.
mod lazy {
    use leptos::prelude::*;

    use super::{AuditSection, OutboxSection, StaffSection};
    use crate::pages::{
        BillingSection, CustomersSection, InvoiceQueue, PricesPage, ReviewSection, RevocationSection, ShippingSection,
        StatementSection, TransferQueue, TypesPage,
    };

    #[leptos::lazy]
    pub fn review() -> AnyView {
        view! { <ReviewSection /> }.into_any()
    }

    #[leptos::lazy]
    pub fn revocations() -> AnyView {
        view! { <RevocationSection /> }.into_any()
    }

    #[leptos::lazy]
    pub fn shipping() -> AnyView {
        view! { <ShippingSection /> }.into_any()
    }

    #[leptos::lazy]
    pub fn customers(customer_file: crate::pages::CustomerFileView) -> AnyView {
        view! { <CustomersSection customer_file /> }.into_any()
    }

    #[leptos::lazy]
    pub fn customer_file_lazy(
        opened: Memo<String>,
        said: RwSignal<Option<String>>,
        failure: RwSignal<Option<crate::form::Failure>>,
    ) -> AnyView {
        view! { <crate::pages::CustomerFilePanel opened said failure /> }.into_any()
    }

    #[leptos::lazy]
    pub fn invoices() -> AnyView {
        view! { <InvoiceQueue /> }.into_any()
    }

    #[leptos::lazy]
    pub fn transfers() -> AnyView {
        view! { <TransferQueue /> }.into_any()
    }

    #[leptos::lazy]
    pub fn statements() -> AnyView {
        view! { <StatementSection /> }.into_any()
    }

    #[leptos::lazy]
    pub fn billing() -> AnyView {
        view! { <BillingSection /> }.into_any()
    }

    #[leptos::lazy]
    pub fn catalogue() -> AnyView {
        view! { <TypesPage /> }.into_any()
    }

    #[leptos::lazy]
    pub fn prices() -> AnyView {
        view! { <PricesPage /> }.into_any()
    }

    #[leptos::lazy]
    pub fn staff() -> AnyView {
        view! { <StaffSection /> }.into_any()
    }

    #[leptos::lazy]
    pub fn outbox() -> AnyView {
        view! { <OutboxSection /> }.into_any()
    }

    #[leptos::lazy]
    pub fn audit() -> AnyView {
        view! { <AuditSection /> }.into_any()
    }
}

pub fn section_title(section: Section, l: Locale) -> &'static str {
    match section {
        Section::Dashboard => td_string!(l, dashboard_title),
        Section::Review => td_string!(l, review_title),
        Section::Revocations => td_string!(l, revocation_title),
        Section::Shipping => td_string!(l, shipping_title),
        Section::Customers => td_string!(l, customers_title),
        Section::Invoices => td_string!(l, nav_invoices),
        Section::Transfers => td_string!(l, transfers_title),
        Section::Statements => td_string!(l, statement_title),
        Section::Billing => td_string!(l, billing_title),
        Section::Catalogue => td_string!(l, catalogue_types_title),
        Section::Prices => td_string!(l, catalogue_title),
        Section::Staff => td_string!(l, staff_title),
        Section::Outbox => td_string!(l, outbox_title),
        Section::Audit => td_string!(l, audit_title),
    }
}

/// Told by a section after it changed what waits in a queue, so that the side navigation's
/// counts are read again.
#[derive(Clone, Copy)]
pub struct QueuesChanged(Trigger);

/// What a section calls after changing a queue (taken when the section is made: the
/// console's context is not reachable from an async task).
pub fn queue_changed() -> impl Fn() + Copy + Send + Sync + 'static {
    let trigger = use_context::<QueuesChanged>().map(|QueuesChanged(t)| t);
    move || {
        if let Some(t) = trigger {
            t.notify();
        }
    }
}

/// Who is signed in, the side navigation of the sections their role opens with what waits
/// in each, and the section the address names (the API's refusal if the role does not open
/// it: a shared link to another role's section shows no data).
#[component]
fn Console(section: Option<Section>, page: fn(Section) -> AnyView) -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || match section {
        Some(s) => format!("{} - {}", section_title(s, i18n.get_locale()), td_string!(i18n.get_locale(), admin_title)),
        None => td_string!(i18n.get_locale(), admin_title).to_owned(),
    });
    let navigate = use_navigate();
    let me = RwSignal::new(Load::<StaffSession>::Loading);
    let entries = RwSignal::new(Vec::<SectionEntry>::new());
    let changed = Trigger::new();
    provide_context(QueuesChanged(changed));
    {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let res = crate::api::call::<endpoint::CurrentStaffSession>(&[], &(), i18n.get_locale_untracked()).await;
            match res {
                Err(e) if e.code == ErrorCode::Unauthorized => {
                    navigate("/admin/sign-in?refused=401", NavigateOptions { replace: true });
                }
                // A 403 is shown, not hidden: this page is nothing but the staff session.
                Err(e) => me.set(Load::Failed(e.code)),
                Ok(s) => me.set(Load::Ready(s)),
            }
        });
    }
    // The navigation's counts, again whenever a section says a queue changed.
    {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            changed.track();
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                let Ok(list) = crate::api::call::<endpoint::ListSections>(&[], &(), i18n.get_locale_untracked()).await
                else {
                    return;
                };
                // `/admin` (or `/admin/settings`) opens the member's first section of that half.
                if section.is_none() {
                    let settings =
                        crate::app::is_admin_settings_path(&window().location().pathname().unwrap_or_default());
                    let first = list.iter().find(|e| e.section.is_settings() == settings).or(list.first());
                    if let Some(first) = first {
                        navigate(first.section.path(), NavigateOptions { replace: true });
                    }
                }
                entries.set(list);
            });
        });
    }
    let sign_out = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let _ = crate::api::call::<endpoint::StaffSignOut>(&[], &(), i18n.get_locale_untracked()).await;
            crate::api::forget_csrf(endpoint::StaffSignOut::PATH);
            navigate("/admin/sign-in", Default::default());
        });
    };
    view! {
        <h1>{tr(|l| td_string!(l, admin_title))}</h1>
        {move || match me.get() {
            Load::Loading => view! { <p role="status">{tr(|l| td_string!(l, loading))}</p> }.into_any(),
            Load::Hidden => refusal(ErrorCode::Forbidden).into_any(),
            Load::Failed(code) => refusal(code).into_any(),
            Load::Ready(s) => {
                let role = s.staff.role;
                let sign_out = sign_out.clone();
                let opens = section.is_some_and(|x| role.is_some_and(|r| r.opens(x)));
                view! {
                    <div class="staff-bar">
                        <span>
                            <strong>{s.staff.display_name.clone()}</strong>
                            " · "
                            {move || role.map_or("—", |r| role_text(r, i18n.get_locale()))}
                        </span>
                        <button type="button" class="secondary" on:click=sign_out>
                            {tr(|l| td_string!(l, nav_sign_out))}
                        </button>
                    </div>
                    <div class="console">
                        <nav class="side-nav" aria-label=tr(|l| td_string!(l, admin_parts))>
                            <ul>
                                <For each=move || entries.get() key=|e| (e.section, e.waiting) let:e>
                                    <li>
                                        <a href=e.section.path() aria-current=(Some(e.section) == section).then_some("page")>
                                            {move || section_title(e.section, i18n.get_locale())}
                                            {e.waiting.map(|n| view! { <span class="count" class:zero={n == 0}>{n}</span> })}
                                        </a>
                                    </li>
                                </For>
                            </ul>
                        </nav>
                        <div class="console-main">
                            {match section {
                                Some(x) if opens => page(x),
                                Some(_) => refusal(ErrorCode::Forbidden).into_any(),
                                None => view! { <p role="status">{tr(|l| td_string!(l, loading))}</p> }.into_any(),
                            }}
                        </div>
                    </div>
                }
                    .into_any()
            }
        }}
    }
}

/// The API's refusal, in the app's words.
fn refusal(code: ErrorCode) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="alert" role="alert">
            {move || crate::api::error_message(code, i18n.get_locale())}
        </p>
    }
}

const STAFF_HEADS: &[Head<StaffColumn>] = &[
    (|l| td_string!(l, col_username), Some(StaffColumn::Username)),
    (|l| td_string!(l, col_display_name), Some(StaffColumn::DisplayName)),
    (|l| td_string!(l, col_role), None),
    (|l| td_string!(l, col_enrolled), None),
    (|l| td_string!(l, col_status), None),
    (|l| td_string!(l, col_created), Some(StaffColumn::CreatedAt)),
];

#[component]
fn StaffSection() -> impl IntoView {
    let i18n = use_i18n();
    let staff = RwSignal::new(Load::<Page<StaffMember>>::Loading);
    // The search, the order and the page in the address.
    let (query, show) = address_query::<StaffQuery>(Section::Staff);
    let reload = move || {
        load_query_into::<endpoint::ListStaff>(staff, &[], query.get_untracked(), i18n.get_locale_untracked());
    };
    Effect::new(move |_| {
        query.track();
        reload();
    });
    let words = Memo::new(move |_| query.with(|q| q.q.clone()));
    let search = move |q: String| show(StaffQuery { q, page: None, ..query.get_untracked() });
    let sort = move || query.with_untracked(|q| Sort::parse(&q.sort).unwrap_or(StaffColumn::DEFAULT));
    let by = move |c| show(StaffQuery { sort: sort().by(c).param(), page: None, ..query.get_untracked() });
    let to_page = move |page| show(StaffQuery { page: Some(page), ..query.get_untracked() });
    let [username, display_name, mobile] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let role = RwSignal::new(StaffRole::Reviewer.as_str().to_owned());
    let fs = FormState::new("new-staff");
    let (errors, failure, busy) = (fs.errors, fs.failure, fs.busy);
    let created = RwSignal::new(None::<StaffCreated>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = StaffForm {
            username: username.get_untracked(),
            display_name: display_name.get_untracked(),
            role: role.get_untracked(),
            mobile: mobile.get_untracked(),
        };
        let l = i18n.get_locale_untracked();
        fs.submit(
            form.request(),
            move |req| async move { crate::api::call::<endpoint::CreateStaff>(&[], &req, l).await },
            move |c| {
                username.set(String::new());
                display_name.set(String::new());
                mobile.set(String::new());
                created.set(Some(c));
                reload();
            },
        );
    };
    let role_failure = RwSignal::new(None::<Failure>);
    let change_role = move |id: String, value: String| {
        let Some(role) = StaffRole::parse(&value) else { return };
        role_failure.set(None);
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::ChangeRole>(
                &[&id],
                &ChangeRoleRequest { role },
                i18n.get_locale_untracked(),
            )
            .await
            {
                Ok(_) => reload(),
                Err(e) => {
                    role_failure.set(Some(e.into()));
                    reload();
                }
            }
        });
    };
    // 停用: after the administrator confirms, the member's sessions end and keys go.
    let disable = move |id: String, name: String| {
        let question = fill(td_string!(i18n.get_locale_untracked(), staff_disable_confirm), &name);
        if !window().confirm_with_message(&question).unwrap_or(false) {
            return;
        }
        role_failure.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = crate::api::call::<endpoint::DisableStaff>(&[&id], &(), i18n.get_locale_untracked()).await {
                role_failure.set(Some(e.into()));
            }
            reload();
        });
    };
    let copy = move |_| {
        if let Some(c) = created.get_untracked() {
            let _ = window().navigator().clipboard().write_text(&c.enrol_url);
        }
    };
    view! {
        {move || {
            (!staff.with(Load::is_hidden))
                .then(|| {
                    view! {
                        <section class="panel" aria-labelledby="staff-title">
                            <h2 id="staff-title">{tr(|l| td_string!(l, staff_title))}</h2>
                            {search_box("staff-search", |l| td_string!(l, search_hint_staff), words, search)}
                            <FailureAlert failure=role_failure />
                            {loaded(staff, move |list| {
                                let pager = pager(&list, to_page);
                                let rows = list.items.into_iter().map(|m| staff_row(m, change_role, disable).into_any()).collect();
                                view! { {sorted_table(STAFF_HEADS, sort(), by, rows)} {pager} }.into_any()
                            })}
                            <h3>{tr(|l| td_string!(l, staff_new))}</h3>
                            <form class="form" novalidate on:submit=submit>
                                <Field
                                    form="new-staff"
                                    field="username"
                                    label=|l| td_string!(l, field_staff_username)
                                    value=username
                                    errors
                                />
                                <Field
                                    form="new-staff"
                                    field="display_name"
                                    label=|l| td_string!(l, field_display_name)
                                    value=display_name
                                    errors
                                />
                                <Field
                                    form="new-staff"
                                    field="mobile"
                                    label=|l| td_string!(l, field_mobile)
                                    value=mobile
                                    errors
                                    input_type="tel"
                                    inputmode="numeric"
                                    optional=true
                                    hint=|l| td_string!(l, staff_mobile_hint)
                                />
                                <div class="field">
                                    <label for=field_id("new-staff", "role")>{tr(|l| td_string!(l, col_role))}</label>
                                    <select
                                        id=field_id("new-staff", "role")
                                        name="role"
                                        prop:value=move || role.get()
                                        on:change=move |ev| role.set(event_target_value(&ev))
                                    >
                                        {StaffRole::ALL
                                            .into_iter()
                                            .map(|r| {
                                                view! {
                                                    <option value=r.as_str()>{move || role_text(r, i18n.get_locale())}</option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                </div>
                                <FailureAlert failure />
                                <button type="submit" class="primary" disabled=move || busy.get()>
                                    {tr(|l| td_string!(l, staff_create))}
                                </button>
                            </form>
                            {move || {
                                created
                                    .get()
                                    .map(|c| {
                                        view! {
                                            <div class="callout success" role="status">
                                                <p>{move || fill(td_string!(i18n.get_locale(), staff_created), &c.staff.display_name)}</p>
                                                <div class="field">
                                                    <label for="enrol-url">{tr(|l| td_string!(l, staff_enrol_url))}</label>
                                                    <div class="control">
                                                        <input id="enrol-url" type="text" readonly prop:value=c.enrol_url.clone() />
                                                        <button type="button" class="secondary" on:click=copy>
                                                            {tr(|l| td_string!(l, copy))}
                                                        </button>
                                                    </div>
                                                </div>
                                            </div>
                                        }
                                    })
                            }}
                        </section>
                    }
                })
        }}
    }
}

fn staff_row(
    m: StaffMember,
    change_role: impl Fn(String, String) + Copy + 'static,
    disable: impl Fn(String, String) + Copy + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = m.id.clone();
    let select_id = format!("role-{}", m.id);
    let name = m.display_name.clone();
    let (disable_id, disable_name) = (m.id.clone(), m.display_name.clone());
    let role_value = m.role.map_or("", StaffRole::as_str);
    view! {
        <tr>
            <td>{m.username.clone()}</td>
            <td>{m.display_name.clone()}</td>
            <td>
                <label class="visually-hidden" for=select_id.clone()>
                    {move || fill(td_string!(i18n.get_locale(), staff_role_of), &name)}
                </label>
                <select
                    id=select_id
                    prop:value=role_value
                    disabled=m.disabled
                    on:change=move |ev| change_role(id.clone(), event_target_value(&ev))
                >
                    {m.role.is_none().then(|| view! { <option value="" selected=true>"—"</option> })}
                    {StaffRole::ALL
                        .into_iter()
                        .map(|r| {
                            view! {
                                <option value=r.as_str() selected=Some(r) == m.role>
                                    {move || role_text(r, i18n.get_locale())}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </td>
            <td>
                {move || {
                    if m.enrolled { td_string!(i18n.get_locale(), yes) } else { td_string!(i18n.get_locale(), staff_not_enrolled) }
                }}
            </td>
            <td>
                {if m.disabled {
                    view! { <span>{tr(|l| td_string!(l, staff_disabled))}</span> }.into_any()
                } else {
                    let label = fill(td_string!(i18n.get_locale_untracked(), staff_disable_named), &disable_name);
                    view! {
                        <button type="button" class="secondary" aria-label=label on:click=move |_| disable(disable_id.clone(), disable_name.clone())>
                            {tr(|l| td_string!(l, staff_disable))}
                        </button>
                    }
                        .into_any()
                }}
            </td>
            <td>{short_time(&m.created_at)}</td>
        </tr>
    }
}

const OUTBOX_HEADS: &[Text] = &[
    |l| td_string!(l, col_time),
    |l| td_string!(l, col_recipient),
    |l| td_string!(l, col_template),
    |l| td_string!(l, col_body),
];

/// 短信发件箱: by recipient and template, kept in the address, a page at a time.
#[component]
fn OutboxSection() -> impl IntoView {
    let i18n = use_i18n();
    let (query, show) = address_query::<OutboxQuery>(Section::Outbox);
    let outbox = RwSignal::new(Load::<Page<OutboxMessage>>::Loading);
    let tick = Trigger::new();
    Effect::new(move |_| {
        tick.track();
        load_query_into::<endpoint::SmsOutbox>(outbox, &[], query.get(), i18n.get_locale_untracked());
    });
    let [recipient, template] = std::array::from_fn(|_| RwSignal::new(String::new()));
    Effect::new(move |_| {
        let q = query.get();
        recipient.set(q.recipient);
        template.set(q.template);
    });
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        show(OutboxQuery {
            recipient: recipient.get_untracked(),
            template: template.get_untracked(),
            page: None,
            per_page: query.get_untracked().per_page,
        });
    };
    let to_page = move |page: u64| show(OutboxQuery { page: Some(page), ..query.get_untracked() });
    staff_section(
        outbox,
        "outbox",
        |l| td_string!(l, outbox_title),
        move || {
            view! {
                <p>{tr(|l| td_string!(l, outbox_intro))}</p>
                <form class="filters" on:submit=search>
                    {filter_input("outbox-recipient", |l| td_string!(l, col_recipient), recipient, "text")}
                    {filter_input("outbox-template", |l| td_string!(l, col_template), template, "text")}
                    <div class="actions">
                        <button type="submit">{tr(|l| td_string!(l, search))}</button>
                        <button type="button" class="secondary" on:click=move |_| tick.notify()>
                            {tr(|l| td_string!(l, refresh))}
                        </button>
                    </div>
                </form>
                {loaded(outbox, move |page| {
                    let pager = pager(&page, to_page);
                    let rows = page
                        .items
                        .into_iter()
                        .map(|m| {
                            view! {
                                <tr>
                                    <td>{short_time(&m.created_at)}</td>
                                    <td>{m.recipient}</td>
                                    <td>{m.template}</td>
                                    <td>{m.body}</td>
                                </tr>
                            }
                            .into_any()
                        })
                        .collect();
                    view! { {data_table(OUTBOX_HEADS, rows)} {pager} }.into_any()
                })}
            }
            .into_any()
        },
    )
}

/// A section's filters as the address says them, and what shows other ones (a new history
/// entry at the section's address).
pub(crate) fn address_query<Q: ListQuery + Clone + PartialEq + Send + Sync + 'static>(
    section: Section,
) -> (AddressQuery<Q>, impl Fn(Q) + Copy + 'static) {
    let location = crate::router::use_location();
    let search = Memo::new(move |_| location.search.get());
    let navigate = StoredValue::new_local(use_navigate());
    let show =
        move |q: Q| navigate.with_value(|n| n(&format!("{}{}", section.path(), q.to_query()), Default::default()));
    (AddressQuery { search, list: std::marker::PhantomData }, show)
}

/// A list's query as the address holds it, read like a memo. It keeps the query string and
/// parses it when read, so that every list shares one kind of reactive cell (each distinct
/// memo type costs the bundle its own copy of the reactive machinery).
pub(crate) struct AddressQuery<Q> {
    search: Memo<String>,
    list: std::marker::PhantomData<fn() -> Q>,
}

impl<Q> Clone for AddressQuery<Q> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Q> Copy for AddressQuery<Q> {}

impl<Q: ListQuery> AddressQuery<Q> {
    pub fn get(&self) -> Q {
        Q::from_query(&self.search.get())
    }

    pub fn get_untracked(&self) -> Q {
        Q::from_query(&self.search.get_untracked())
    }

    pub fn with<R>(&self, f: impl FnOnce(&Q) -> R) -> R {
        f(&self.get())
    }

    pub fn with_untracked<R>(&self, f: impl FnOnce(&Q) -> R) -> R {
        f(&self.get_untracked())
    }

    pub fn track(&self) {
        self.search.track();
    }
}

/// One labelled filter field.
fn filter_input(id: &'static str, label: Text, value: RwSignal<String>, kind: &'static str) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{tr(label)}</label>
            <input id=id type=kind prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
        </div>
    }
}

const AUDIT_HEADS: &[Text] = &[
    |l| td_string!(l, col_time),
    |l| td_string!(l, col_actor),
    |l| td_string!(l, col_action),
    |l| td_string!(l, col_subject),
    |l| td_string!(l, col_address),
];

/// 审计日志: filters by actor, action, object and days, kept in the address; a page of rows
/// from the server at a time; the matching rows (all pages) as a CSV file.
#[component]
fn AuditSection() -> impl IntoView {
    let i18n = use_i18n();
    // What the address asks for: the list follows it, so back and reload show the same rows.
    let (query, show) = address_query::<AuditQuery>(Section::Audit);
    let audit = RwSignal::new(Load::<Page<AuditEntry>>::Loading);
    Effect::new(move |_| {
        load_query_into::<endpoint::AuditTrail>(audit, &[], query.get(), i18n.get_locale_untracked());
    });
    // The form's fields, filled from the address.
    let [actor, action, subject, from, to] = std::array::from_fn(|_| RwSignal::new(String::new()));
    Effect::new(move |_| {
        let q = query.get();
        actor.set(q.actor);
        action.set(q.action);
        subject.set(q.subject);
        from.set(q.from);
        to.set(q.to);
    });
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        show(AuditQuery {
            actor: actor.get_untracked(),
            action: action.get_untracked(),
            subject: subject.get_untracked(),
            from: from.get_untracked(),
            to: to.get_untracked(),
            page: None,
            per_page: query.get_untracked().per_page,
        });
    };
    // One filter set from a cell of the table (this actor, this action, this object).
    let only = move |set: fn(&mut AuditQuery, String), value: String| {
        let mut q = query.get_untracked();
        set(&mut q, value);
        q.page = None;
        show(q);
    };
    let to_page = move |page: u64| {
        let mut q = query.get_untracked();
        q.page = Some(page);
        show(q);
    };
    staff_section(
        audit,
        "audit",
        |l| td_string!(l, audit_title),
        move || {
            view! {
                <form class="filters" on:submit=search>
                    {filter_input("audit-actor", |l| td_string!(l, col_actor), actor, "text")}
                    {filter_input("audit-action", |l| td_string!(l, col_action), action, "text")}
                    {filter_input("audit-subject", |l| td_string!(l, col_subject), subject, "text")}
                    {filter_input("audit-from", |l| td_string!(l, filter_from), from, "date")}
                    {filter_input("audit-to", |l| td_string!(l, filter_to), to, "date")}
                    <div class="actions">
                        <button type="submit">{tr(|l| td_string!(l, search))}</button>
                        <a class="button secondary" download href={move || crate::api::file_link::<endpoint::AuditCsv>(&[], &AuditQuery { page: None, per_page: None, ..query.get() })}>
                            {tr(|l| td_string!(l, export_csv))}
                        </a>
                    </div>
                </form>
                {loaded(audit, move |page| {
                    let pager = pager(&page, to_page);
                    let rows = page
                        .items
                        .into_iter()
                        .map(|a| {
                            let cell = |value: String, set: fn(&mut AuditQuery, String)| {
                                let v = value.clone();
                                view! { <button type="button" class="link" on:click=move |_| only(set, v.clone())>{value}</button> }
                            };
                            view! {
                                <tr>
                                    <td>{short_time(&a.at)}</td>
                                    <td>{cell(a.actor, |q, v| q.actor = v)}</td>
                                    <td>{cell(a.action, |q, v| q.action = v)}</td>
                                    <td>{cell(a.subject, |q, v| q.subject = v)}</td>
                                    <td>{a.address}</td>
                                </tr>
                            }
                            .into_any()
                        })
                        .collect();
                    view! { {data_table(AUDIT_HEADS, rows)} {pager} }.into_any()
                })}
            }
            .into_any()
        },
    )
}

/// 共 N 条 · 第 p / P 页, with the previous and next pages.
pub fn pager<T>(page: &Page<T>, go: impl Fn(u64) + Send + Sync + 'static) -> AnyView {
    // One copy of the markup for every list: the page's figures and a type-erased callback.
    pager_at(page.page, page.pages(), page.total, Callback::new(go))
}

fn pager_at(p: u64, pages: u64, total: u64, go: Callback<u64>) -> AnyView {
    let i18n = use_i18n();
    view! {
        <nav class="pager" aria-label=tr(|l| td_string!(l, pager_label))>
            <span role="status">
                {move || {
                    let l = i18n.get_locale();
                    fill(&fill(&fill(td_string!(l, pager_position), total), p), pages)
                }}
            </span>
            <button type="button" class="secondary" disabled={p <= 1} on:click=move |_| go.run(p - 1)>
                {tr(|l| td_string!(l, pager_previous))}
            </button>
            <button type="button" class="secondary" disabled={p >= pages} on:click=move |_| go.run(p + 1)>
                {tr(|l| td_string!(l, pager_next))}
            </button>
        </nav>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_staff_needs_every_field() {
        let f =
            StaffForm { username: " ".into(), display_name: String::new(), role: "boss".into(), mobile: "123".into() };
        let e = f.request().unwrap_err();
        assert_eq!(
            e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["username", "display_name", "role", "mobile"]
        );
        let f = StaffForm {
            username: "li.si".into(),
            display_name: "李四".into(),
            role: "finance".into(),
            mobile: String::new(),
        };
        let req = f.request().unwrap();
        assert_eq!((req.role, req.mobile), (StaffRole::Finance, None));
        let f = StaffForm { mobile: "13800138000".into(), ..f };
        assert_eq!(f.request().unwrap().mobile.map(|m| m.as_str().to_owned()), Some("13800138000".into()));
    }

    #[test]
    fn every_role_has_a_distinct_name() {
        for l in [Locale::zh_CN, Locale::zh_TW, Locale::en] {
            let names: std::collections::HashSet<_> = StaffRole::ALL.into_iter().map(|r| role_text(r, l)).collect();
            assert_eq!(names.len(), StaffRole::ALL.len());
        }
    }
}
