//! 登记安全密钥: a new staff member opens the enrolment link (`?token=…` or `#token`) and
//! registers the security key they will sign in with.

use crate::i18n::td_string;
use crate::router::{use_location, use_navigate, use_query_map};
use certdesk_shared::account::KeyRegistrationChallenge;
use certdesk_shared::admin::{FinishEnrolment, StaffSession, StartEnrolment};
use certdesk_shared::endpoint;
use certdesk_shared::{ApiError, ErrorCode};
use leptos::prelude::*;

use crate::components::fields::FailureAlert;
use crate::components::{tr, use_page_title};
use crate::form::Failure;
use crate::i18n::{Locale, use_i18n};

/// The token of an enrolment link: the `token` query parameter, else the fragment
/// (`#abc` or `#token=abc`).
pub fn enrolment_token(query: Option<&str>, hash: &str) -> Option<String> {
    if let Some(q) = query.map(str::trim).filter(|q| !q.is_empty()) {
        return Some(q.to_owned());
    }
    let h = hash.trim_start_matches('#');
    let h = h.strip_prefix("token=").unwrap_or(h).trim();
    (!h.is_empty()).then(|| h.to_owned())
}

async fn enrol(token: String, l: Locale) -> Result<StaffSession, Failure> {
    let challenge: KeyRegistrationChallenge =
        crate::api::call::<endpoint::StartEnrolment>(&[], &StartEnrolment { token: token.clone() }, l).await?;
    let credential = crate::webauthn::create(challenge.options).await?;
    let finish = FinishEnrolment { token, challenge_id: challenge.challenge_id, credential };
    Ok(crate::api::call::<endpoint::FinishEnrolment>(&[], &finish, l).await?)
}

#[component]
pub fn AdminEnrol() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), enrol_title).to_owned());
    let navigate = use_navigate();
    let query = use_query_map();
    let location = use_location();
    let token = Memo::new(move |_| enrolment_token(query.with(|q| q.get("token")).as_deref(), &location.hash.get()));
    let failure = RwSignal::new(None::<Failure>);
    let busy = RwSignal::new(false);
    let start = move |_| {
        let Some(token) = token.get_untracked() else { return };
        failure.set(None);
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let res = enrol(token, i18n.get_locale_untracked()).await;
            busy.set(false);
            match res {
                Ok(_) => navigate("/admin", Default::default()),
                Err(f) => failure.set(Some(f)),
            }
        });
    };
    view! {
        <h1>{tr(|l| td_string!(l, enrol_title))}</h1>
        {move || {
            if token.with(Option::is_none) {
                let f = Failure::Api(ApiError::local(ErrorCode::LinkInvalid));
                return view! { <p class="alert" role="alert">{move || f.message(i18n.get_locale())}</p> }.into_any();
            }
            let start = start.clone();
            view! {
                <div class="form">
                    <p class="lead">{tr(|l| td_string!(l, enrol_intro))}</p>
                    <FailureAlert failure />
                    <button type="button" class="primary" disabled=move || busy.get() on:click=start>
                        {tr(|l| td_string!(l, enrol_submit))}
                    </button>
                </div>
            }
                .into_any()
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_from_query_or_fragment() {
        assert_eq!(enrolment_token(Some("abc"), ""), Some("abc".into()));
        assert_eq!(enrolment_token(Some("abc"), "#def"), Some("abc".into()));
        assert_eq!(enrolment_token(None, "#def"), Some("def".into()));
        assert_eq!(enrolment_token(Some(""), "#token=def"), Some("def".into()));
        assert_eq!(enrolment_token(None, ""), None);
        assert_eq!(enrolment_token(None, "#"), None);
    }
}
