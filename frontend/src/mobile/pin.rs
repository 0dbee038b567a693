//! 修改PIN码 (`/m/pin`) and 证书解锁 (`/m/unlock`). The PIN key is PBKDF2 of the PIN and the
//! salt kept on the phone, so a new PIN keeps the salt; the sealed key does not depend on the
//! PIN and stays as it is.

use crate::i18n::td_string;
use certdesk_shared::OtpCode;
use certdesk_shared::Pin;
use certdesk_shared::endpoint;
use certdesk_shared::shield::{ShieldChangePin, ShieldUnlock};
use certdesk_shared::shield_keys;
use leptos::prelude::*;

use super::{Problem, ShieldPicker, device, new_pin, opened, pin_key_of, problem_alert, prove_pin, use_shields};
use crate::components::fields::{Field, FormState};
use crate::components::{tr, use_page_title};
use crate::form::fill;
use crate::i18n::use_i18n;

#[component]
pub fn ChangePin() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), m_pin).to_owned());
    let shields = use_shields();
    let shield = RwSignal::new(String::new());
    let [old, pin, pin_again] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let problem = RwSignal::new(None::<Problem>);
    let done = RwSignal::new(false);
    let fs = FormState::new("m-pin");
    let errors = fs.errors;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let Some(f) = shields.get(&shield.get_untracked()) else { return };
        let mut e = Vec::new();
        let old_pin = crate::form::check(&mut e, "old_pin", Pin::parse(&old.get_untracked()));
        let chosen = new_pin(&pin.get_untracked(), &pin_again.get_untracked()).map_err(|more| e.extend(more)).ok();
        let (Some(old_pin), Some(chosen)) = (old_pin, chosen) else { return fs.refuse(e) };
        fs.begin();
        problem.set(None);
        done.set(false);
        leptos::task::spawn_local(async move {
            let res = async {
                let (challenge_id, proof) = prove_pin(&f, old_pin.as_str(), l).await?;
                let new_pin_key = shield_keys::b64(&pin_key_of(&f, chosen.as_str())?);
                let req = ShieldChangePin {
                    shield_id: f.shield_id.clone(),
                    device_key: f.device_key.clone(),
                    challenge_id,
                    proof,
                    new_pin_key,
                };
                opened(crate::api::call::<endpoint::ChangeShieldPin>(&[], &req, l).await?).map(drop)
            }
            .await;
            fs.busy.set(false);
            for s in [old, pin, pin_again] {
                s.set(String::new());
            }
            match res {
                Ok(()) => done.set(true),
                Err(p) => problem.set(Some(p)),
            }
        });
    };
    view! {
        <h1>{tr(|l| td_string!(l, m_pin))}</h1>
        <form class="form" novalidate on:submit=submit>
            <ShieldPicker form="m-pin" value=shield />
            <Field form="m-pin" field="old_pin" label=|l| td_string!(l, m_old_pin) value=old errors input_type="password" autocomplete="current-password" />
            <Field form="m-pin" field="new_pin" label=|l| td_string!(l, m_new_pin) value=pin errors input_type="password" autocomplete="new-password" hint=|l| td_string!(l, m_pin_hint) />
            <Field form="m-pin" field="new_pin_again" label=|l| td_string!(l, m_new_pin_again) value=pin_again errors input_type="password" autocomplete="new-password" />
            {move || (fs.failure.get().is_some() && problem.get().is_none()).then(|| view! { <crate::components::fields::FailureAlert failure=fs.failure /> })}
            {problem_alert(problem, move || shield.get_untracked())}
            {move || done.get().then(|| view! { <p class="big-ok" role="status">{tr(|l| td_string!(l, m_pin_changed))}</p> })}
            <button type="submit" class="primary" disabled=move || fs.busy.get() || shield.get().is_empty()>{tr(|l| td_string!(l, m_pin_submit))}</button>
        </form>
    }
}

#[component]
pub fn Unlock() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), m_unlock).to_owned());
    let shields = use_shields();
    let shield = RwSignal::new(String::new());
    let [code, pin, pin_again] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let problem = RwSignal::new(None::<Problem>);
    let sent = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    let done = RwSignal::new(false);
    let fs = FormState::new("m-unlock");
    let errors = fs.errors;
    let send = move |_| {
        let l = i18n.get_locale_untracked();
        let Some(f) = shields.get(&shield.get_untracked()) else { return };
        sending.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            let res = crate::api::call::<endpoint::SendShieldUnlockCode>(&[], &device(&f), l).await;
            sending.set(false);
            match res {
                Ok(s) => sent.set(Some(s.masked_mobile)),
                Err(e) => problem.set(Some(Problem::Api(e))),
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let Some(f) = shields.get(&shield.get_untracked()) else { return };
        let mut e = Vec::new();
        let otp = crate::form::check(&mut e, "code", OtpCode::parse(code.get_untracked().trim()));
        let chosen = new_pin(&pin.get_untracked(), &pin_again.get_untracked()).map_err(|more| e.extend(more)).ok();
        let (Some(otp), Some(chosen)) = (otp, chosen) else { return fs.refuse(e) };
        fs.begin();
        problem.set(None);
        leptos::task::spawn_local(async move {
            let res = async {
                let new_pin_key = shield_keys::b64(&pin_key_of(&f, chosen.as_str())?);
                let req = ShieldUnlock {
                    shield_id: f.shield_id.clone(),
                    device_key: f.device_key.clone(),
                    code: otp,
                    new_pin_key,
                };
                crate::api::call::<endpoint::UnlockShield>(&[], &req, l).await.map(drop).map_err(Problem::Api)
            }
            .await;
            fs.busy.set(false);
            pin.set(String::new());
            pin_again.set(String::new());
            match res {
                Ok(()) => {
                    code.set(String::new());
                    done.set(true);
                }
                Err(p) => problem.set(Some(p)),
            }
        });
    };
    view! {
        <h1>{tr(|l| td_string!(l, m_unlock))}</h1>
        <p class="lead">{tr(|l| td_string!(l, m_unlock_intro))}</p>
        <form class="form" novalidate on:submit=submit>
            <ShieldPicker form="m-unlock" value=shield />
            <Field form="m-unlock" field="code" label=|l| td_string!(l, field_sms_code) value=code errors autocomplete="one-time-code" inputmode="numeric">
                <button type="button" class="secondary send-code" disabled=move || sending.get() || shield.get().is_empty() on:click=send>{tr(|l| td_string!(l, code_send))}</button>
                <p class="status" role="status">{move || sent.get().map(|m| fill(td_string!(i18n.get_locale(), code_sent_to), m))}</p>
            </Field>
            <Field form="m-unlock" field="new_pin" label=|l| td_string!(l, m_new_pin) value=pin errors input_type="password" autocomplete="new-password" hint=|l| td_string!(l, m_pin_hint) />
            <Field form="m-unlock" field="new_pin_again" label=|l| td_string!(l, m_new_pin_again) value=pin_again errors input_type="password" autocomplete="new-password" />
            {move || (fs.failure.get().is_some() && problem.get().is_none()).then(|| view! { <crate::components::fields::FailureAlert failure=fs.failure /> })}
            {problem_alert(problem, move || shield.get_untracked())}
            {move || done.get().then(|| view! { <p class="big-ok" role="status">{tr(|l| td_string!(l, m_unlocked))}</p> })}
            <button type="submit" class="primary" disabled=move || fs.busy.get() || shield.get().is_empty()>{tr(|l| td_string!(l, m_unlock_submit))}</button>
        </form>
    }
}
