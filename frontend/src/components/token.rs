//! The token agent's parts every token page shares: finding the tokens, the notice when no
//! agent answers, the token picker, a refusal in words, a signed challenge, and running a
//! form's agent and portal steps.

use crate::i18n::td_string;
use certdesk_shared::FieldError;
use certdesk_shared::account::CertificateChallenge;
use certdesk_shared::agent::{Signed, TokenInfo, TokenKind};
use certdesk_shared::endpoint::Endpoint;
use leptos::prelude::*;

use crate::agent::AgentError;
use crate::components::fields::FormState;
use crate::components::tr;
use crate::form::fill;
use crate::i18n::Locale;

/// What the agent answered: nothing yet, no agent, or its tokens.
pub type Found = RwSignal<Option<Result<Vec<TokenInfo>, AgentError>>>;

/// Which tokens a page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    All,
    Only(TokenKind),
}

/// Asks the agent for its tokens (those `offer` admits) and picks the first when the
/// chosen one is not among them.
pub fn find_tokens(found: Found, medium_no: RwSignal<String>, offer: Offer) {
    leptos::task::spawn_local(async move {
        let list = crate::agent::tokens()
            .await
            .map(|l| l.into_iter().filter(|t| offer == Offer::All || offer == Offer::Only(t.kind)).collect::<Vec<_>>());
        if let Ok(l) = &list
            && !l.iter().any(|t| t.medium_no == medium_no.get_untracked())
        {
            medium_no.set(l.first().map(|t| t.medium_no.clone()).unwrap_or_default());
        }
        found.set(Some(list));
    });
}

/// No agent answered: how to get one, and a button to look again.
pub fn agent_missing(retry: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="callout" role="alert">
            <p>{tr(|l| td_string!(l, agent_missing))}</p>
            <p>
                <a href="/agent">{tr(|l| td_string!(l, agent_title))}</a>
                " · "
                <a href="/env-check">{tr(|l| td_string!(l, nav_env_check))}</a>
            </p>
            <button type="button" class="secondary" on:click=move |_| retry()>{tr(|l| td_string!(l, refresh))}</button>
        </div>
    }
}

/// The page while the agent is asked, without an agent, or `ready` with the tokens.
pub fn with_tokens(
    found: Found,
    retry: impl Fn() + Copy + Send + Sync + 'static,
    ready: impl Fn(Vec<TokenInfo>) -> AnyView + Send + Sync + 'static,
) -> impl IntoView {
    move || match found.get() {
        None => view! { <p role="status">{tr(|l| td_string!(l, agent_checking))}</p> }.into_any(),
        Some(Err(_)) => agent_missing(retry).into_any(),
        Some(Ok(list)) => ready(list),
    }
}

/// A token as the picker names it: label, medium number, and a lock.
pub fn token_label(t: &TokenInfo, l: Locale) -> String {
    let kind = match t.kind {
        TokenKind::Ukey => td_string!(l, medium_ukey),
        TokenKind::PcShield => td_string!(l, medium_pc_shield),
    };
    let locked = if t.pin_locked { td_string!(l, token_locked_mark) } else { "" };
    format!("{} · {kind} · {}{locked}", t.label, t.medium_no)
}

/// 介质: the tokens the agent sees.
pub fn token_select(id: &'static str, list: Vec<TokenInfo>, medium_no: RwSignal<String>) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    view! {
        <div class="field">
            <label for=id>{tr(|l| td_string!(l, token_select))}</label>
            <select id=id prop:value=move || medium_no.get() on:change=move |ev| medium_no.set(event_target_value(&ev))>
                {list
                    .into_iter()
                    .map(|t| {
                        let value = t.medium_no.clone();
                        view! { <option value=value>{move || token_label(&t, i18n.get_locale())}</option> }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// What the agent refused, in words (a wrong PIN with the tries left).
pub fn pin_problem(e: &AgentError, l: Locale) -> String {
    match e {
        AgentError::Pin(p) if p.locked => td_string!(l, pin_locked).to_owned(),
        AgentError::Pin(p) => fill(td_string!(l, pin_wrong), p.tries_left),
        AgentError::Missing => td_string!(l, agent_missing).to_owned(),
        AgentError::NoToken => td_string!(l, token_missing).to_owned(),
        AgentError::Refused => td_string!(l, token_refused).to_owned(),
        AgentError::NotPersonalised => td_string!(l, token_not_personalised).to_owned(),
        AgentError::Expired => td_string!(l, unlock_expired).to_owned(),
    }
}

/// A problem under a form, when there is one.
pub fn problem_alert(problem: RwSignal<Option<String>>) -> impl IntoView {
    move || problem.get().map(|p| view! { <p class="alert" role="alert">{p}</p> })
}

/// The portal's refusal in words: what was wrong with the field it names (a certificate or
/// a token serial read from the token), else the refusal's own text.
pub fn api_problem(e: certdesk_shared::ApiError, l: Locale) -> String {
    match e.fields.first() {
        Some(f) if e.code == certdesk_shared::ErrorCode::Validation => {
            crate::i18n::validation_text(f.error, l).to_owned()
        }
        _ => crate::api::error_message(e.code, l).to_owned(),
    }
}

/// A one-time challenge from the portal's `Start` endpoint, signed on the token after the PIN
/// with the key of the certificate `sha256` names: the challenge's id and the signature.
pub async fn sign_challenge<Start>(
    medium_no: &str,
    pin: &str,
    sha256: &str,
    l: Locale,
) -> Result<(String, Signed), String>
where
    Start: Endpoint<Request = (), Response = CertificateChallenge>,
{
    let c = crate::api::call::<Start>(&[], &(), l).await.map_err(|e| api_problem(e, l))?;
    let signed = crate::agent::sign(medium_no, pin, sha256, &c.challenge).await.map_err(|e| pin_problem(&e, l))?;
    Ok((c.challenge_id, signed))
}

/// The PIN typed on a token page, checked by the `shared` rule before anything is sent.
pub fn pin_request(pin: &str) -> Result<(), Vec<FieldError>> {
    certdesk_shared::Pin::parse(pin).map(drop).map_err(|error| vec![FieldError { field: "pin".into(), error }])
}

/// Checks `req`; when it passes, runs `steps` (the agent's and the portal's calls) and hands
/// `done` the answer; a refusal on the way shows as `problem`, and nothing typed is lost.
pub fn run_steps<R, T, F>(
    fs: FormState,
    problem: RwSignal<Option<String>>,
    req: Result<R, Vec<FieldError>>,
    steps: impl FnOnce(R) -> F + 'static,
    done: impl FnOnce(T) + 'static,
) where
    R: 'static,
    T: 'static,
    F: std::future::Future<Output = Result<T, String>> + 'static,
{
    problem.set(None);
    let req = match req {
        Ok(r) => r,
        Err(e) => return fs.refuse(e),
    };
    fs.begin();
    leptos::task::spawn_local(async move {
        let res = steps(req).await;
        fs.busy.set(false);
        match res {
            Ok(v) => done(v),
            Err(text) => problem.set(Some(text)),
        }
    });
}
