//! 员工登录: staff sign in with their security key only (user name, then the key).

use crate::i18n::td_string;
use crate::router::{use_navigate, use_query_map};
use certdesk_shared::account::{FinishKeySignIn, KeySignInChallenge};
use certdesk_shared::admin::{StaffSession, StartStaffSignIn};
use certdesk_shared::endpoint;
use certdesk_shared::{ErrorCode, FieldError};
use leptos::prelude::*;

use crate::components::fields::{FailureAlert, Field, FormState};
use crate::components::{tr, use_page_title};
use crate::form::{Failure, required};
use crate::i18n::{Locale, use_i18n};

async fn staff_sign_in(username: String, l: Locale) -> Result<StaffSession, Failure> {
    let challenge: KeySignInChallenge =
        crate::api::call::<endpoint::StartStaffSignIn>(&[], &StartStaffSignIn { username }, l).await?;
    let credential = crate::webauthn::get(challenge.options).await?;
    let finish = FinishKeySignIn { challenge_id: challenge.challenge_id, credential };
    Ok(crate::api::call::<endpoint::FinishStaffSignIn>(&[], &finish, l).await?)
}

#[component]
pub fn AdminSignIn() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), admin_sign_in_title).to_owned());
    let navigate = use_navigate();
    let query = use_query_map();
    let username = RwSignal::new(String::new());
    let fs = FormState::new("staff");
    let (errors, failure, busy) = (fs.errors, fs.failure, fs.busy);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let req =
            required(&username.get_untracked()).map_err(|error| vec![FieldError { field: "username".into(), error }]);
        let navigate = navigate.clone();
        fs.submit(req, move |name| staff_sign_in(name, l), move |_| navigate("/admin", Default::default()));
    };
    view! {
        <h1>{tr(|l| td_string!(l, admin_sign_in_title))}</h1>
        {move || {
            query
                .with(|q| q.get("refused").and_then(|c| c.parse::<u16>().ok()))
                .map(|status| {
                    let code = if status == 403 { ErrorCode::Forbidden } else { ErrorCode::Unauthorized };
                    view! {
                        <p class="callout" role="status">
                            {move || crate::api::error_message(code, i18n.get_locale())}
                        </p>
                    }
                })
        }}
        <form class="form" novalidate on:submit=submit>
            <p class="lead">{tr(|l| td_string!(l, admin_sign_in_intro))}</p>
            <Field
                form="staff"
                field="username"
                label=|l| td_string!(l, field_staff_username)
                value=username
                errors
                autocomplete="username webauthn"
            />
            <FailureAlert failure />
            <button type="submit" class="primary" disabled=move || busy.get()>
                {tr(|l| td_string!(l, admin_sign_in_submit))}
            </button>
        </form>
    }
}
