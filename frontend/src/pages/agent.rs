//! 证书助手 (seed 004 §11, seed 003 §1.4.2): the token agent's page. Whether it answers on
//! this computer and which tokens it sees; how to install and start it; a new PC soft
//! shield (PC软盾); and 修改PIN码 for any token.

use crate::i18n::td_string;
use certdesk_shared::endpoint;
use certdesk_shared::{AGENT_DEFAULT_PORT, FieldError, Pin, ValidationError};
use leptos::prelude::*;

use crate::components::fields::{Field, FormState};
use crate::components::token::{
    Found, Offer, api_problem, find_tokens, pin_problem, problem_alert, run_steps, token_label, token_select,
    with_tokens,
};
use crate::components::{tr, use_page_title};
use crate::form::{check, fill};
use crate::i18n::use_i18n;
use crate::pages::unlock::check_new_pin;

/// A new soft shield's form: its name and its PIN, twice.
pub fn check_shield(label: &str, pin: &str, again: &str) -> Result<(String, Pin), Vec<FieldError>> {
    let mut e = Vec::new();
    let label = label.trim();
    if label.is_empty() {
        e.push(FieldError { field: "label".into(), error: ValidationError::Required });
    } else if label.chars().count() > 32 {
        e.push(FieldError { field: "label".into(), error: ValidationError::TooLong });
    }
    let pin = check_new_pin(&mut e, "pin", "confirm_pin", pin, again);
    match pin {
        Some(pin) if e.is_empty() => Ok((label.to_owned(), pin)),
        _ => Err(e),
    }
}

/// 修改PIN码's form.
pub fn check_change(old: &str, new: &str, again: &str) -> Result<(String, Pin), Vec<FieldError>> {
    let mut e = Vec::new();
    let old = check(&mut e, "old_pin", Pin::parse(old));
    let new = check_new_pin(&mut e, "new_pin", "confirm_new_pin", new, again);
    match (old, new) {
        (Some(old), Some(new)) if e.is_empty() => Ok((old.as_str().to_owned(), new)),
        _ => Err(e),
    }
}

#[component]
fn NewShield(found: Found, medium_no: RwSignal<String>) -> impl IntoView {
    let i18n = use_i18n();
    let [label, pin, confirm_pin] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let fs = FormState::new("shield");
    let (errors, busy) = (fs.errors, fs.busy);
    let problem = RwSignal::new(None::<String>);
    let made = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = check_shield(&label.get_untracked(), &pin.get_untracked(), &confirm_pin.get_untracked());
        let l = i18n.get_locale_untracked();
        let steps = move |(name, new_pin): (String, Pin)| async move {
            let key = crate::api::call::<endpoint::GetUnlockKey>(&[], &(), l).await.map_err(|e| api_problem(e, l))?;
            crate::agent::create_shield(&name, new_pin.as_str(), &key.public_key).await.map_err(|e| pin_problem(&e, l))
        };
        run_steps(fs, problem, req, steps, move |info| {
            pin.set(String::new());
            confirm_pin.set(String::new());
            medium_no.set(info.medium_no.clone());
            made.set(Some(info.medium_no));
            find_tokens(found, medium_no, Offer::All);
        });
    };
    view! {
        <section aria-labelledby="shield-title">
            <h2 id="shield-title">{tr(|l| td_string!(l, shield_title))}</h2>
            <p>{tr(|l| td_string!(l, shield_intro))}</p>
            <form class="form" novalidate on:submit=submit>
                <Field form="shield" field="label" label=|l| td_string!(l, shield_label) value=label errors />
                <Field form="shield" field="pin" label=|l| td_string!(l, token_pin) value=pin errors input_type="password" autocomplete="new-password" hint=|l| td_string!(l, new_pin_hint) check=|s| Pin::new_pin(s).map(drop) />
                <Field form="shield" field="confirm_pin" label=|l| td_string!(l, field_confirm_pin) value=confirm_pin errors input_type="password" autocomplete="new-password" />
                {problem_alert(problem)}
                {move || made.get().map(|m| view! { <p class="callout success" role="status">{move || fill(td_string!(i18n.get_locale(), shield_made), &m)}</p> })}
                <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, shield_submit))}</button>
            </form>
        </section>
    }
}

#[component]
fn ChangePin(found: Found, medium_no: RwSignal<String>) -> impl IntoView {
    let i18n = use_i18n();
    let [old_pin, new_pin, confirm_new_pin] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let fs = FormState::new("change-pin");
    let (errors, busy) = (fs.errors, fs.busy);
    let problem = RwSignal::new(None::<String>);
    let changed = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        changed.set(false);
        let req = check_change(&old_pin.get_untracked(), &new_pin.get_untracked(), &confirm_new_pin.get_untracked());
        let (m, l) = (medium_no.get_untracked(), i18n.get_locale_untracked());
        let steps = move |(old, new): (String, Pin)| async move {
            let res = crate::agent::change_pin(&m, &old, new.as_str()).await.map_err(|e| pin_problem(&e, l));
            // The lock mark follows the count, right or wrong.
            find_tokens(found, medium_no, Offer::All);
            res
        };
        run_steps(fs, problem, req, steps, move |()| {
            old_pin.set(String::new());
            new_pin.set(String::new());
            confirm_new_pin.set(String::new());
            changed.set(true);
        });
    };
    view! {
        <section aria-labelledby="change-pin-title">
            <h2 id="change-pin-title">{tr(|l| td_string!(l, change_pin_title))}</h2>
            {with_tokens(found, move || find_tokens(found, medium_no, Offer::All), move |list| {
                if list.is_empty() {
                    return view! { <p>{tr(|l| td_string!(l, token_none))}</p> }.into_any();
                }
                view! {
                    <form class="form" novalidate on:submit=submit>
                        {token_select("change-pin-medium_no", list, medium_no)}
                        <Field form="change-pin" field="old_pin" label=|l| td_string!(l, field_old_pin) value=old_pin errors input_type="password" autocomplete="current-password" />
                        <Field form="change-pin" field="new_pin" label=|l| td_string!(l, field_new_pin) value=new_pin errors input_type="password" autocomplete="new-password" hint=|l| td_string!(l, new_pin_hint) check=|s| Pin::new_pin(s).map(drop) />
                        <Field form="change-pin" field="confirm_new_pin" label=|l| td_string!(l, field_confirm_pin) value=confirm_new_pin errors input_type="password" autocomplete="new-password" />
                        {problem_alert(problem)}
                        {move || changed.get().then(|| view! { <p class="callout success" role="status">{tr(|l| td_string!(l, change_pin_done))}</p> })}
                        <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, change_pin_submit))}</button>
                    </form>
                }
                .into_any()
            })}
        </section>
    }
}

#[component]
pub fn AgentPage() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), agent_title).to_owned());
    let medium_no = RwSignal::new(String::new());
    let found: Found = RwSignal::new(None);
    let find = move || find_tokens(found, medium_no, Offer::All);
    find();
    let origin = window().location().origin().unwrap_or_default();
    let start =
        format!("certdesk-agent --allow-origin {origin} --pkcs11-module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so");
    view! {
        <h1>{tr(|l| td_string!(l, agent_title))}</h1>
        <p class="lead">{tr(|l| td_string!(l, agent_intro))}</p>
        <section aria-labelledby="agent-status">
            <h2 id="agent-status">{tr(|l| td_string!(l, agent_status))}</h2>
            {with_tokens(found, find, move |list| {
                let count = list.len();
                view! {
                    <p class="result pass" role="status">{move || fill(td_string!(i18n.get_locale(), agent_found), count)}</p>
                    <ul class="token-list">
                        {list.into_iter().map(|t| view! { <li>{move || token_label(&t, i18n.get_locale())}</li> }).collect_view()}
                    </ul>
                }
                .into_any()
            })}
        </section>
        <section aria-labelledby="agent-install">
            <h2 id="agent-install">{tr(|l| td_string!(l, agent_install))}</h2>
            <ol>
                <li>{tr(|l| td_string!(l, agent_install_get))} " " <a href="/downloads">{tr(|l| td_string!(l, nav_downloads))}</a></li>
                <li>
                    {tr(|l| td_string!(l, agent_install_start))}
                    <pre><code>{start}</code></pre>
                </li>
                <li>{move || fill(td_string!(i18n.get_locale(), agent_install_port), AGENT_DEFAULT_PORT)}</li>
                <li>{tr(|l| td_string!(l, agent_install_module))}</li>
            </ol>
        </section>
        <NewShield found medium_no />
        <ChangePin found medium_no />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(r: Result<(String, Pin), Vec<FieldError>>) -> Vec<String> {
        r.err().unwrap_or_default().into_iter().map(|e| format!("{}:{}", e.field, e.error)).collect()
    }

    #[test]
    fn a_shield_needs_a_name_and_a_pin_that_is_not_easy() {
        assert_eq!(fields(check_shield(" ", "123456", "123456")), ["label:required", "pin:pin_weak"]);
        assert_eq!(fields(check_shield("我的软盾", "135790", "135709")), ["confirm_pin:pin_mismatch"]);
        assert!(check_shield("我的软盾", "135790", "135790").is_ok());
        assert_eq!(fields(check_change("", "246810", "246810")), ["old_pin:required"]);
        assert_eq!(fields(check_change("123456", "888888", "888888")), ["new_pin:pin_weak"]);
        assert!(check_change("123456", "246813", "246813").is_ok());
    }
}
