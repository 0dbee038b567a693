//! 证书解锁 (seed 004 §8): a token locked after 10 wrong PINs is opened again online. The
//! phone of record (the operator's, from the application) gets an SMS code; with the code
//! the portal authorises the agent to unlock the inserted token, and the user sets the new
//! PIN here. The seed resets every PIN to 111111; we let the user choose one instead, and
//! refuse 111111-like PINs.

use crate::i18n::td_string;
use certdesk_shared::account::CodePurpose;
use certdesk_shared::agent::UnlockToken;
use certdesk_shared::endpoint;
use certdesk_shared::{FieldError, Mobile, OtpCode, Pin, ValidationError};
use leptos::prelude::*;

use crate::components::fields::{CaptchaField, CaptchaState, Field, FormState, SendCode};
use crate::components::token::{
    Offer, api_problem, find_tokens, pin_problem, problem_alert, run_steps, token_select, with_tokens,
};
use crate::components::{tr, use_page_title};
use crate::form::check;
use crate::i18n::use_i18n;
use crate::routes::Operation;

/// A new PIN typed twice: the rules for a PIN the user sets, then the match.
pub fn check_new_pin(e: &mut Vec<FieldError>, field: &str, confirm_field: &str, pin: &str, again: &str) -> Option<Pin> {
    let pin = check(e, field, Pin::new_pin(pin));
    if pin.is_some() && pin.as_ref().map(|p| p.as_str()) != Some(again) {
        e.push(FieldError { field: confirm_field.into(), error: ValidationError::PinMismatch });
        return None;
    }
    pin
}

/// The form as typed.
#[derive(Debug, Clone, Default)]
pub struct UnlockForm {
    pub medium_no: String,
    pub mobile: String,
    pub code: String,
    pub new_pin: String,
    pub confirm_pin: String,
}

/// What the form holds once it passes.
pub struct Checked {
    pub medium_no: String,
    pub mobile: Mobile,
    pub code: OtpCode,
    pub new_pin: Pin,
}

impl UnlockForm {
    pub fn check(&self) -> Result<Checked, Vec<FieldError>> {
        let mut e = Vec::new();
        let mobile = check(&mut e, "mobile", Mobile::parse(&self.mobile));
        let code = check(&mut e, "code", OtpCode::parse(&self.code));
        let new_pin = check_new_pin(&mut e, "new_pin", "confirm_pin", &self.new_pin, &self.confirm_pin);
        match (mobile, code, new_pin) {
            (Some(mobile), Some(code), Some(new_pin)) if e.is_empty() => {
                Ok(Checked { medium_no: self.medium_no.clone(), mobile, code, new_pin })
            }
            _ => Err(e),
        }
    }
}

#[component]
pub fn Unlock() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || Operation::Unlock.title(i18n.get_locale()).to_owned());
    let [medium_no, mobile, code, new_pin, confirm_pin] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let found = RwSignal::new(None);
    let find = move || find_tokens(found, medium_no, Offer::All);
    find();
    let fs = FormState::new("unlock");
    let (errors, failure, busy) = (fs.errors, fs.failure, fs.busy);
    let captcha = CaptchaState::new(failure);
    let problem = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = UnlockForm {
            medium_no: medium_no.get_untracked(),
            mobile: mobile.get_untracked(),
            code: code.get_untracked(),
            new_pin: new_pin.get_untracked(),
            confirm_pin: confirm_pin.get_untracked(),
        };
        let l = i18n.get_locale_untracked();
        let steps = move |f: Checked| async move {
            // The portal's one-time challenge: the token signs it with the agent's one-time
            // key, so the grant can only be for this agent.
            let start =
                crate::api::call::<endpoint::StartTokenUnlock>(&[], &(), l).await.map_err(|e| api_problem(e, l))?;
            let request = crate::agent::unlock_request(&f.medium_no, &start.challenge, &start.portal_key)
                .await
                .map_err(|e| pin_problem(&e, l))?;
            let req = UnlockToken { mobile: f.mobile, code: f.code, challenge_id: start.challenge_id, request };
            let grant =
                crate::api::call::<endpoint::GrantTokenUnlock>(&[], &req, l).await.map_err(|e| api_problem(e, l))?;
            crate::agent::unlock(&f.medium_no, &grant.grant, f.new_pin.as_str()).await.map_err(|e| {
                // The portal used the code up: the next try needs a new one.
                code.set(String::new());
                format!("{} {}", pin_problem(&e, l), td_string!(l, unlock_code_spent))
            })
        };
        run_steps(fs, problem, form.check(), steps, move |()| {
            new_pin.set(String::new());
            confirm_pin.set(String::new());
            done.set(true);
            find();
        });
    };
    view! {
        <h1>{move || Operation::Unlock.title(i18n.get_locale())}</h1>
        <p class="lead">{tr(|l| td_string!(l, unlock_intro))}</p>
        {move || done.get().then(|| view! { <p class="callout success" role="status">{tr(|l| td_string!(l, unlock_done))}</p> })}
        {with_tokens(found, find, move |list| {
            view! {
                <form class="form" novalidate on:submit=submit>
                    {token_select("unlock-medium_no", list, medium_no)}
                    <Field form="unlock" field="mobile" label=|l| td_string!(l, field_mobile) value=mobile errors input_type="tel" inputmode="numeric" check=|s| Mobile::parse(s).map(drop) />
                    <CaptchaField form="unlock" label=|l| td_string!(l, field_image_captcha) captcha errors />
                    <Field form="unlock" field="code" label=|l| td_string!(l, field_sms_code) value=code errors autocomplete="one-time-code" inputmode="numeric" check=|s| OtpCode::parse(s).map(drop)>
                        <SendCode form="unlock" purpose=CodePurpose::TokenUnlock mobile captcha errors failure />
                    </Field>
                    <Field form="unlock" field="new_pin" label=|l| td_string!(l, field_new_pin) value=new_pin errors input_type="password" autocomplete="new-password" hint=|l| td_string!(l, new_pin_hint) check=|s| Pin::new_pin(s).map(drop) />
                    <Field form="unlock" field="confirm_pin" label=|l| td_string!(l, field_confirm_pin) value=confirm_pin errors input_type="password" autocomplete="new-password" />
                    {problem_alert(problem)}
                    <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, unlock_submit))}</button>
                </form>
            }
            .into_any()
        })}
        <section class="advice" aria-labelledby="unlock-steps">
            <h2 id="unlock-steps">{tr(|l| td_string!(l, steps_title))}</h2>
            <ul>
                <li>{tr(|l| td_string!(l, unlock_step_1))}</li>
                <li>{tr(|l| td_string!(l, unlock_step_2))}</li>
                <li>{tr(|l| td_string!(l, unlock_step_3))}</li>
                <li>{tr(|l| td_string!(l, unlock_step_4))}</li>
                <li>{tr(|l| td_string!(l, unlock_step_5))}</li>
            </ul>
        </section>
        <ShieldDisable />
    }
}

/// 移动软盾: unlocked in its app; a lost phone's shield is disabled here without signing in,
/// with the acceptance number and the SMS code sent to the certificate's phone of record.
#[component]
fn ShieldDisable() -> impl IntoView {
    use certdesk_shared::shield::ShieldDisableByCode;
    let i18n = use_i18n();
    let [acceptance_no, code] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let sent = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let fs = FormState::new("shield-disable");
    let errors = fs.errors;
    let send = move |_| {
        let l = i18n.get_locale_untracked();
        let no = acceptance_no.get_untracked().trim().to_owned();
        if no.is_empty() {
            return fs.refuse(vec![FieldError { field: "acceptance_no".into(), error: ValidationError::Required }]);
        }
        fs.submit(
            Ok::<_, Vec<FieldError>>(ShieldDisableByCode { acceptance_no: no, code: None }),
            move |req| async move { crate::api::call::<endpoint::SendShieldDisableCode>(&[], &req, l).await },
            move |s| sent.set(Some(s.masked_mobile)),
        );
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let mut e = Vec::new();
        let no = check(&mut e, "acceptance_no", crate::form::required(&acceptance_no.get_untracked()));
        let otp = check(&mut e, "code", OtpCode::parse(code.get_untracked().trim()));
        let req = match (no, otp) {
            (Some(acceptance_no), Some(c)) if e.is_empty() => Ok(ShieldDisableByCode { acceptance_no, code: Some(c) }),
            _ => Err(e),
        };
        fs.submit(
            req,
            move |req| async move { crate::api::call::<endpoint::DisableShieldByCode>(&[], &req, l).await },
            move |()| {
                code.set(String::new());
                done.set(true);
            },
        );
    };
    view! {
        <section class="panel" aria-labelledby="shield-disable-title">
            <h2 id="shield-disable-title">{tr(|l| td_string!(l, shield_unlock_title))}</h2>
            <p>{tr(|l| td_string!(l, shield_unlock_note))}</p>
            // Closed until asked for: the page is the tokens' 证书解锁 first.
            <details>
            <summary>{tr(|l| td_string!(l, shield_disable))}</summary>
            <form class="form" novalidate on:submit=submit>
                <Field form="shield-disable" field="acceptance_no" label=|l| td_string!(l, acceptance_no) value=acceptance_no errors />
                <Field form="shield-disable" field="code" label=|l| td_string!(l, field_sms_code) value=code errors autocomplete="one-time-code" inputmode="numeric">
                    <button type="button" class="secondary send-code" disabled=move || fs.busy.get() on:click=send>{tr(|l| td_string!(l, code_send))}</button>
                    <p class="status" role="status">{move || sent.get().map(|m| crate::form::fill(td_string!(i18n.get_locale(), code_sent_to), m))}</p>
                </Field>
                <crate::components::fields::FailureAlert failure=fs.failure />
                {move || done.get().then(|| view! { <p class="callout success" role="status">{tr(|l| td_string!(l, shield_disabled_done))}</p> })}
                <button type="submit" class="danger" disabled=move || fs.busy.get()>{tr(|l| td_string!(l, shield_disable_submit))}</button>
            </form>
            </details>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_pin_follows_the_rules_and_matches() {
        let f = UnlockForm {
            medium_no: "m".into(),
            mobile: "1".into(),
            code: "12".into(),
            new_pin: "111111".into(),
            confirm_pin: "111111".into(),
        };
        let e: Vec<String> =
            f.check().err().unwrap_or_default().into_iter().map(|e| format!("{}:{}", e.field, e.error)).collect();
        assert_eq!(e, ["mobile:mobile_format", "code:otp_format", "new_pin:pin_weak"]);
        let f = UnlockForm {
            mobile: "13800138000".into(),
            code: "123456".into(),
            new_pin: "135790".into(),
            confirm_pin: "135791".into(),
            ..f
        };
        let e: Vec<String> =
            f.check().err().unwrap_or_default().into_iter().map(|e| format!("{}:{}", e.field, e.error)).collect();
        assert_eq!(e, ["confirm_pin:pin_mismatch"]);
        let f = UnlockForm { confirm_pin: "135790".into(), ..f };
        assert_eq!(f.check().map(|c| c.new_pin.as_str().to_owned()).ok().as_deref(), Some("135790"));
    }
}
