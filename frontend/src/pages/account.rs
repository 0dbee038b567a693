//! 用户中心 (seed 003 §1.3.4–1.3.5): 通知消息 (expiry notices, each linking to 延期),
//! 用户信息 (view and edit the basic information), 修改密码, 安全密钥 (passkeys), 登录记录
//! and 退出其他设备. Signed-out visitors go to the sign-in page.

use crate::i18n::td_string;
use crate::router::NavigateOptions;
use crate::router::use_navigate;
use certdesk_shared::account::{
    AccountKind, ChangePasswordRequest, FinishKeyRegistration, KeyRegistrationChallenge, Profile, RemoveKeyRequest,
    SecurityKey, SignInMethod, SignInRecord, StartKeyRegistration, UpdateProfileRequest,
};
use certdesk_shared::endpoint;
use certdesk_shared::notice::{Notice, NoticeList};
use certdesk_shared::{Email, FieldError, OrgName, Password, PersonName, ValidationError};
use leptos::prelude::*;

use crate::components::fields::{FailureAlert, Field, FormState, Text};
use crate::components::table::load_into;
use crate::components::{tr, use_page_title};
use crate::form::{Failure, Load, check, confirmation, fill, optional, required, short_time};
use crate::i18n::{Locale, use_i18n};
use crate::session::use_session;

/// The basic information form (用户信息 → 修改).
#[derive(Debug, Clone)]
pub struct ProfileForm {
    pub kind: AccountKind,
    pub org_name: String,
    pub name: String,
    pub email: String,
}

impl ProfileForm {
    pub fn of(p: &Profile) -> Self {
        ProfileForm {
            kind: p.kind,
            org_name: p.org_name.clone().unwrap_or_default(),
            name: p.name.clone(),
            email: p.email.clone().unwrap_or_default(),
        }
    }

    pub fn request(&self) -> Result<UpdateProfileRequest, Vec<FieldError>> {
        let mut e = Vec::new();
        let org_name = if self.kind.has_organisation() {
            check(&mut e, "org_name", OrgName::parse(&self.org_name)).map(Some)
        } else {
            Some(None)
        };
        let name = check(&mut e, "name", PersonName::parse(&self.name));
        let email = check(&mut e, "email", optional(&self.email, Email::parse));
        match (org_name, name, email) {
            (Some(org_name), Some(name), Some(email)) => Ok(UpdateProfileRequest { org_name, name, email }),
            _ => Err(e),
        }
    }
}

/// 修改密码.
#[derive(Debug, Clone, Default)]
pub struct PasswordForm {
    pub current_password: String,
    pub new_password: String,
    pub confirm_password: String,
}

impl PasswordForm {
    pub fn request(&self) -> Result<ChangePasswordRequest, Vec<FieldError>> {
        let mut e = Vec::new();
        let current = check(
            &mut e,
            "current_password",
            if self.current_password.is_empty() { Err(ValidationError::Required) } else { Ok(()) },
        );
        let new_password = check(&mut e, "new_password", Password::parse(&self.new_password));
        if new_password.is_some() {
            check(&mut e, "confirm_password", confirmation(&self.new_password, &self.confirm_password));
        }
        match (current, new_password, e.is_empty()) {
            (Some(()), Some(new_password), true) => {
                Ok(ChangePasswordRequest { current_password: self.current_password.clone(), new_password })
            }
            _ => Err(e),
        }
    }
}

pub fn kind_text(kind: AccountKind, l: Locale) -> &'static str {
    match kind {
        AccountKind::Enterprise => td_string!(l, kind_enterprise),
        AccountKind::Personal => td_string!(l, kind_personal),
        AccountKind::Department => td_string!(l, kind_department),
    }
}

fn method_text(m: Option<SignInMethod>, l: Locale) -> &'static str {
    match m {
        Some(SignInMethod::Password) => td_string!(l, method_password),
        Some(SignInMethod::SecurityKey) => td_string!(l, method_security_key),
        Some(SignInMethod::Registration) => td_string!(l, method_registration),
        Some(SignInMethod::Certificate) => td_string!(l, method_certificate),
        None => "—",
    }
}

fn org_label(kind: AccountKind) -> Text {
    if kind.has_credit_code() { |l| td_string!(l, field_org_name) } else { |l| td_string!(l, field_department_name) }
}

#[component]
pub fn Account() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), account_title).to_owned());
    let session = use_session();
    let navigate = use_navigate();
    Effect::new(move |_| {
        // Only while still here: signing out leaves for the home page first.
        let here = window().location().pathname().is_ok_and(|p| p == "/account");
        if session.loaded.get() && session.info.with(Option::is_none) && here {
            navigate("/sign-in?next=/account", NavigateOptions { replace: true });
        }
    });
    // Only signing in or out re-renders the page (not a profile update).
    let signed_in = Memo::new(move |_| session.info.with(Option::is_some));
    view! {
        <h1>{tr(|l| td_string!(l, account_title))}</h1>
        {move || {
            if signed_in.get() {
                view! {
                    <NoticesSection />
                    <ProfileSection />
                    <PasswordSection />
                    <KeysSection />
                    <SignInsSection />
                    <OtherDevicesSection />
                }
                    .into_any()
            } else {
                view! { <p role="status">{tr(|l| td_string!(l, loading))}</p> }.into_any()
            }
        }}
    }
}

#[component]
fn ProfileSection() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let profile = RwSignal::new(Load::<Profile>::Loading);
    load_into::<endpoint::GetProfile>(profile, &[], i18n.get_locale_untracked());
    let editing = RwSignal::new(false);
    let saved = RwSignal::new(false);
    let [org_name, name, email] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let fs = FormState::new("profile");
    let (errors, failure, busy) = (fs.errors, fs.failure, fs.busy);
    let kind = move || match profile.get() {
        Load::Ready(p) => p.kind,
        _ => AccountKind::Personal,
    };

    let edit = move |_| {
        if let Load::Ready(p) = profile.get_untracked() {
            let f = ProfileForm::of(&p);
            org_name.set(f.org_name);
            name.set(f.name);
            email.set(f.email);
            errors.set(Vec::new());
            failure.set(None);
            saved.set(false);
            editing.set(true);
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = ProfileForm {
            kind: kind(),
            org_name: org_name.get_untracked(),
            name: name.get_untracked(),
            email: email.get_untracked(),
        };
        let l = i18n.get_locale_untracked();
        fs.submit(
            form.request(),
            move |req| async move { crate::api::call::<endpoint::UpdateProfile>(&[], &req, l).await },
            move |p| {
                session.info.update(|s| {
                    if let Some(s) = s {
                        s.account = p.clone();
                    }
                });
                profile.set(Load::Ready(p));
                editing.set(false);
                saved.set(true);
            },
        );
    };

    view! {
        <section class="panel" aria-labelledby="profile-title">
            <h2 id="profile-title">{tr(|l| td_string!(l, profile_title))}</h2>
            {move || match profile.get() {
                Load::Loading => view! { <p role="status">{tr(|l| td_string!(l, loading))}</p> }.into_any(),
                Load::Hidden | Load::Failed(_) => {
                    let code = match profile.get() {
                        Load::Failed(c) => c,
                        _ => certdesk_shared::ErrorCode::Forbidden,
                    };
                    view! { <p class="alert" role="alert">{move || crate::api::error_message(code, i18n.get_locale())}</p> }
                        .into_any()
                }
                Load::Ready(p) if editing.get() => {
                    let has_org = p.kind.has_organisation();
                    let label = org_label(p.kind);
                    view! {
                        <form class="form" novalidate on:submit=submit>
                            {has_org
                                .then(|| {
                                    view! {
                                        <Field
                                            form="profile"
                                            field="org_name"
                                            label
                                            value=org_name
                                            errors
                                            check=|s| OrgName::parse(s).map(drop)
                                        />
                                    }
                                })}
                            <Field
                                form="profile"
                                field="name"
                                label=|l| td_string!(l, field_name)
                                value=name
                                errors
                                check=|s| PersonName::parse(s).map(drop)
                            />
                            <Field
                                form="profile"
                                field="email"
                                label=|l| td_string!(l, field_email)
                                value=email
                                errors
                                input_type="email"
                                optional=true
                                check=|s| optional(s, Email::parse).map(drop)
                            />
                            <FailureAlert failure />
                            <div class="actions">
                                <button type="submit" class="primary" disabled=move || busy.get()>
                                    {tr(|l| td_string!(l, save))}
                                </button>
                                <button type="button" class="secondary" on:click=move |_| editing.set(false)>
                                    {tr(|l| td_string!(l, cancel))}
                                </button>
                            </div>
                        </form>
                    }
                        .into_any()
                }
                Load::Ready(p) => {
                    let kind = p.kind;
                    view! {
                        <dl class="facts">
                            <dt>{tr(|l| td_string!(l, field_kind))}</dt>
                            <dd>{move || kind_text(kind, i18n.get_locale())}</dd>
                            <dt>{tr(|l| td_string!(l, field_user_name))}</dt>
                            <dd>{p.mobile.clone()}</dd>
                            {p
                                .org_name
                                .clone()
                                .map(|o| {
                                    let label = org_label(kind);
                                    view! {
                                        <dt>{move || label(i18n.get_locale())}</dt>
                                        <dd>{o}</dd>
                                    }
                                })}
                            {p
                                .credit_code
                                .clone()
                                .map(|c| {
                                    view! {
                                        <dt>{tr(|l| td_string!(l, field_credit_code))}</dt>
                                        <dd>{c}</dd>
                                    }
                                })}
                            <dt>{tr(|l| td_string!(l, field_name))}</dt>
                            <dd>{p.name.clone()}</dd>
                            <dt>{tr(|l| td_string!(l, field_id_number))}</dt>
                            <dd>{p.id_number.clone()}</dd>
                            <dt>{tr(|l| td_string!(l, field_email))}</dt>
                            <dd>{p.email.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>{tr(|l| td_string!(l, profile_agreement))}</dt>
                            <dd>{format!("{} · {}", p.agreement_version, short_time(&p.agreed_at))}</dd>
                            <dt>{tr(|l| td_string!(l, profile_created))}</dt>
                            <dd>{short_time(&p.created_at)}</dd>
                        </dl>
                        {move || saved.get().then(|| view! { <p class="ok" role="status">{tr(|l| td_string!(l, saved))}</p> })}
                        <button type="button" class="secondary" on:click=edit>
                            {tr(|l| td_string!(l, profile_edit))}
                        </button>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

#[component]
fn PasswordSection() -> impl IntoView {
    let i18n = use_i18n();
    let [current_password, new_password, confirm_password] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let fs = FormState::new("password");
    let (errors, failure, busy) = (fs.errors, fs.failure, fs.busy);
    let done = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(false);
        let form = PasswordForm {
            current_password: current_password.get_untracked(),
            new_password: new_password.get_untracked(),
            confirm_password: confirm_password.get_untracked(),
        };
        let l = i18n.get_locale_untracked();
        fs.submit(
            form.request(),
            move |req| async move { crate::api::call::<endpoint::ChangePassword>(&[], &req, l).await },
            move |()| {
                for s in [current_password, new_password, confirm_password] {
                    s.set(String::new());
                }
                done.set(true);
            },
        );
    };
    view! {
        <section class="panel" aria-labelledby="password-title">
            <h2 id="password-title">{tr(|l| td_string!(l, change_password_title))}</h2>
            <form class="form" novalidate on:submit=submit>
                <Field
                    form="password"
                    field="current_password"
                    label=|l| td_string!(l, field_current_password)
                    value=current_password
                    errors
                    input_type="password"
                    autocomplete="current-password"
                />
                <Field
                    form="password"
                    field="new_password"
                    label=|l| td_string!(l, field_new_password)
                    value=new_password
                    errors
                    input_type="password"
                    autocomplete="new-password"
                    hint=|l| td_string!(l, password_hint)
                    check=|s| Password::parse(s).map(drop)
                />
                <Field
                    form="password"
                    field="confirm_password"
                    label=|l| td_string!(l, field_confirm_new_password)
                    value=confirm_password
                    errors
                    input_type="password"
                    autocomplete="new-password"
                />
                <FailureAlert failure />
                {move || done.get().then(|| view! { <p class="ok" role="status">{tr(|l| td_string!(l, password_changed))}</p> })}
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {tr(|l| td_string!(l, change_password_submit))}
                </button>
            </form>
        </section>
    }
}

async fn add_key(name: String, password: String, l: Locale) -> Result<SecurityKey, Failure> {
    let challenge: KeyRegistrationChallenge =
        crate::api::call::<endpoint::StartKeyRegistration>(&[], &StartKeyRegistration { name, password }, l).await?;
    let credential = crate::webauthn::create(challenge.options).await?;
    let finish = FinishKeyRegistration { challenge_id: challenge.challenge_id, credential };
    Ok(crate::api::call::<endpoint::FinishKeyRegistration>(&[], &finish, l).await?)
}

#[component]
fn KeysSection() -> impl IntoView {
    let i18n = use_i18n();
    let keys = RwSignal::new(Load::<Vec<SecurityKey>>::Loading);
    let reload = move || {
        load_into::<endpoint::ListKeys>(keys, &[], i18n.get_locale_untracked());
    };
    reload();
    let [name, password] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let fs = FormState::new("key");
    let (errors, failure, busy) = (fs.errors, fs.failure, fs.busy);
    // Adding and removing a key both ask for the password again.
    let password_given = move || -> Result<String, Vec<FieldError>> {
        let p = password.get_untracked();
        if p.is_empty() {
            Err(vec![FieldError { field: "password".into(), error: ValidationError::Required }])
        } else {
            Ok(p)
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let mut e = Vec::new();
        let key_name = check(&mut e, "name", required(&name.get_untracked()));
        let p = password_given().map_err(|pe| e.extend(pe)).ok();
        let req = match (key_name, p) {
            (Some(n), Some(p)) => Ok((n, p)),
            _ => Err(e),
        };
        fs.submit(
            req,
            move |(key_name, p)| add_key(key_name, p, l),
            move |key| {
                name.set(String::new());
                password.set(String::new());
                keys.update(|k| {
                    if let Load::Ready(list) = k {
                        list.push(key);
                    }
                });
            },
        );
    };
    let remove = move |id: String| {
        let p = match password_given() {
            Ok(p) => p,
            Err(e) => return fs.refuse(e),
        };
        fs.begin();
        leptos::task::spawn_local(async move {
            let res = crate::api::call::<endpoint::RemoveKey>(
                &[&id],
                &RemoveKeyRequest { password: p },
                i18n.get_locale_untracked(),
            )
            .await;
            busy.set(false);
            match res {
                Ok(()) => {
                    password.set(String::new());
                    reload();
                }
                Err(e) => fs.fail(e.into()),
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="keys-title">
            <h2 id="keys-title">{tr(|l| td_string!(l, keys_title))}</h2>
            <p>{tr(|l| td_string!(l, keys_intro))}</p>
            {move || match keys.get() {
                Load::Loading => view! { <p role="status">{tr(|l| td_string!(l, loading))}</p> }.into_any(),
                Load::Ready(list) if list.is_empty() => view! { <p>{tr(|l| td_string!(l, keys_none))}</p> }.into_any(),
                Load::Ready(list) => view! {
                    <ul class="keys">
                        {list
                            .into_iter()
                            .map(|k| {
                                let id = k.id.clone();
                                let label = k.name.clone();
                                view! {
                                    <li>
                                        <span class="key-name">{k.name.clone()}</span>
                                        <span class="muted">
                                            {tr(|l| td_string!(l, keys_added))}
                                            {short_time(&k.created_at)}
                                            {k
                                                .last_used_at
                                                .as_deref()
                                                .map(|u| {
                                                    let u = short_time(u);
                                                    view! {
                                                        " · "
                                                        {tr(|l| td_string!(l, keys_last_used))}
                                                        {u}
                                                    }
                                                })}
                                        </span>
                                        <button
                                            type="button"
                                            class="secondary"
                                            aria-label=move || fill(td_string!(i18n.get_locale(), keys_remove_named), &label)
                                            on:click=move |_| remove(id.clone())
                                        >
                                            {tr(|l| td_string!(l, keys_remove))}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any(),
                Load::Hidden | Load::Failed(_) => view! { <p class="alert">{tr(|l| td_string!(l, load_failed))}</p> }.into_any(),
            }}
            <form class="form inline" novalidate on:submit=submit>
                <Field
                    form="key"
                    field="name"
                    label=|l| td_string!(l, field_key_name)
                    value=name
                    errors
                    hint=|l| td_string!(l, keys_name_hint)
                />
                <Field
                    form="key"
                    field="password"
                    label=|l| td_string!(l, field_current_password)
                    value=password
                    errors
                    input_type="password"
                    autocomplete="current-password"
                    hint=|l| td_string!(l, keys_password_hint)
                />
                <FailureAlert failure />
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {tr(|l| td_string!(l, keys_add))}
                </button>
            </form>
        </section>
    }
}

/// A notice's sentence: `template` (`notice_text`) with the certificate and its expiry date.
pub fn notice_line(template: &str, n: &Notice) -> String {
    fill(&fill(template, &n.subject), &n.expires_on)
}

/// The list after `id` was marked read: that notice read, one fewer unread.
pub fn marked_read(mut list: NoticeList, id: &str) -> NoticeList {
    if let Some(n) = list.notices.iter_mut().find(|n| n.id == id && !n.read) {
        n.read = true;
        list.unread = list.unread.saturating_sub(1);
    }
    list
}

/// 通知消息: the expiry notices, newest first, each with 延期 for its certificate.
#[component]
fn NoticesSection() -> impl IntoView {
    let i18n = use_i18n();
    let notices = RwSignal::new(Load::<NoticeList>::Loading);
    let failure = RwSignal::new(None::<Failure>);
    load_into::<endpoint::ListNotices>(notices, &[], i18n.get_locale_untracked());
    let mark_read = move |id: String| {
        failure.set(None);
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::MarkNoticeRead>(&[&id], &(), i18n.get_locale_untracked()).await {
                Ok(()) => notices.update(|l| {
                    if let Load::Ready(list) = l {
                        *list = marked_read(std::mem::replace(list, NoticeList { notices: vec![], unread: 0 }), &id);
                    }
                }),
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };
    let row = move |n: Notice| {
        let id = n.id.clone();
        let read = n.read;
        let line = n.clone();
        let renew_label = n.subject.clone();
        view! {
            <li class=if read { "notice read" } else { "notice unread" }>
                <p>{move || notice_line(td_string!(i18n.get_locale(), notice_text), &line)}</p>
                <p class="muted">
                    {move || fill(td_string!(i18n.get_locale(), notice_threshold), n.threshold_days)} " · "
                    {short_time(&n.created_at)}
                </p>
                <a
                    class="button"
                    href=n.renew_path()
                    aria-label=move || fill(td_string!(i18n.get_locale(), notice_renew_named), &renew_label)
                >
                    {tr(|l| td_string!(l, notice_renew))}
                </a>
                {if read {
                    view! { <span class="muted">{tr(|l| td_string!(l, notice_read))}</span> }.into_any()
                } else {
                    view! {
                        <button type="button" class="secondary" on:click=move |_| mark_read(id.clone())>
                            {tr(|l| td_string!(l, notice_mark_read))}
                        </button>
                    }
                        .into_any()
                }}
            </li>
        }
    };
    view! {
        <section class="panel" aria-labelledby="notices-title">
            <h2 id="notices-title">
                {tr(|l| td_string!(l, notices_title))}
                {move || match notices.get() {
                    Load::Ready(list) if list.unread > 0 => Some(view! {
                        " "
                        <span class="badge">{move || fill(td_string!(i18n.get_locale(), notices_unread), list.unread)}</span>
                    }),
                    _ => None,
                }}
            </h2>
            <FailureAlert failure />
            {move || match notices.get() {
                Load::Loading => view! { <p role="status">{tr(|l| td_string!(l, loading))}</p> }.into_any(),
                Load::Ready(list) if list.notices.is_empty() => view! { <p class="muted">{tr(|l| td_string!(l, notices_none))}</p> }.into_any(),
                Load::Ready(list) => view! { <ul class="notices">{list.notices.into_iter().map(row).collect_view()}</ul> }.into_any(),
                Load::Hidden | Load::Failed(_) => view! { <p class="alert">{tr(|l| td_string!(l, load_failed))}</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn SignInsSection() -> impl IntoView {
    let i18n = use_i18n();
    let records = RwSignal::new(Load::<Vec<SignInRecord>>::Loading);
    load_into::<endpoint::ListSignIns>(records, &[], i18n.get_locale_untracked());
    view! {
        <section class="panel" aria-labelledby="sign-ins-title">
            <h2 id="sign-ins-title">{tr(|l| td_string!(l, sign_ins_title))}</h2>
            {move || match records.get() {
                Load::Loading => view! { <p role="status">{tr(|l| td_string!(l, loading))}</p> }.into_any(),
                Load::Ready(list) => view! {
                    <div class="table-wrap">
                        <table class="data">
                            <thead>
                                <tr>
                                    <th scope="col">{tr(|l| td_string!(l, col_time))}</th>
                                    <th scope="col">{tr(|l| td_string!(l, col_address))}</th>
                                    <th scope="col">{tr(|l| td_string!(l, col_method))}</th>
                                    <th scope="col">{tr(|l| td_string!(l, col_result))}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list
                                    .into_iter()
                                    .map(|r| {
                                        view! {
                                            <tr>
                                                <td>{short_time(&r.at)}</td>
                                                <td>{r.address}</td>
                                                <td>{move || method_text(r.method, i18n.get_locale())}</td>
                                                <td class=if r.succeeded { "result pass" } else { "result fail" }>
                                                    {move || {
                                                        if r.succeeded {
                                                            td_string!(i18n.get_locale(), sign_in_succeeded)
                                                        } else {
                                                            td_string!(i18n.get_locale(), sign_in_failed)
                                                        }
                                                    }}
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any(),
                Load::Hidden | Load::Failed(_) => view! { <p class="alert">{tr(|l| td_string!(l, load_failed))}</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn OtherDevicesSection() -> impl IntoView {
    let i18n = use_i18n();
    let ended = RwSignal::new(None::<u64>);
    let failure = RwSignal::new(None::<Failure>);
    let busy = RwSignal::new(false);
    let end_others = move |_| {
        busy.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let res = crate::api::call::<endpoint::SignOutOthers>(&[], &(), i18n.get_locale_untracked()).await;
            busy.set(false);
            match res {
                Ok(s) => ended.set(Some(s.ended)),
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="others-title">
            <h2 id="others-title">{tr(|l| td_string!(l, others_title))}</h2>
            <p>{tr(|l| td_string!(l, others_intro))}</p>
            <FailureAlert failure />
            {move || ended.get().map(|n| view! { <p class="ok" role="status">{move || fill(td_string!(i18n.get_locale(), others_done), n)}</p> })}
            <button type="button" class="secondary" disabled=move || busy.get() on:click=end_others>
                {tr(|l| td_string!(l, others_button))}
            </button>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(kind: AccountKind) -> Profile {
        Profile {
            id: "a1".into(),
            kind,
            mobile: "13800138000".into(),
            org_name: kind.has_organisation().then(|| "天津滨海测试有限公司".into()),
            credit_code: None,
            name: "张三".into(),
            id_number: "1101**********002X".into(),
            email: None,
            agreement_version: "2026-11".into(),
            agreed_at: "2026-11-01T08:00:00Z".into(),
            created_at: "2026-11-01T08:00:00Z".into(),
        }
    }

    #[test]
    fn profile_edits_send_what_may_change() {
        let req = ProfileForm::of(&profile(AccountKind::Enterprise)).request().unwrap();
        assert_eq!(req.org_name.unwrap().as_str(), "天津滨海测试有限公司");
        assert!(req.email.is_none());
        let req = ProfileForm::of(&profile(AccountKind::Personal)).request().unwrap();
        assert!(req.org_name.is_none());
        let mut f = ProfileForm::of(&profile(AccountKind::Department));
        f.org_name = String::new();
        f.email = "x@".into();
        let e = f.request().unwrap_err();
        assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["org_name", "email"]);
    }

    #[test]
    fn password_change() {
        let e = PasswordForm::default().request().unwrap_err();
        assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["current_password", "new_password"]);
        let f = PasswordForm {
            current_password: "old password".into(),
            new_password: "new password".into(),
            confirm_password: "new password".into(),
        };
        let req = f.request().unwrap();
        assert_eq!(req.current_password, "old password");
        let f = PasswordForm { confirm_password: "other".into(), ..f };
        assert_eq!(f.request().unwrap_err()[0].error, ValidationError::PasswordMismatch);
    }

    fn notice(id: &str, read: bool) -> Notice {
        Notice {
            id: id.into(),
            certificate_uid: "c1".into(),
            subject: "天津滨海测试有限公司".into(),
            threshold_days: 30,
            not_after: "2027-01-31T16:00:00+00:00".into(),
            expires_on: "2027-02-01".into(),
            created_at: "2027-01-02T00:00:00+00:00".into(),
            read,
        }
    }

    #[test]
    fn notices_name_the_certificate_and_date_and_count_down_when_read() {
        let n = notice("n1", false);
        assert_eq!(notice_line("证书“%s”将于 %s 到期", &n), "证书“天津滨海测试有限公司”将于 2027-02-01 到期");
        assert_eq!(n.renew_path(), "/renew?uid=c1");
        let list = NoticeList { notices: vec![n, notice("n2", true)], unread: 1 };
        let after = marked_read(list.clone(), "n1");
        assert_eq!((after.unread, after.notices[0].read), (0, true));
        // Read already, or not there: nothing changes.
        assert_eq!(marked_read(after.clone(), "n1"), after);
        assert_eq!(marked_read(list.clone(), "n3"), list);
    }
}
