//! The token agent's parts every token page shares: finding the tokens, the notice when no
//! agent answers, the token picker, and a refusal in words.

use certdesk_shared::agent::{TokenInfo, TokenKind};
use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::agent::AgentError;
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
        let list = crate::agent::tokens().await.map(|l| l.into_iter().filter(|t| offer == Offer::All || offer == Offer::Only(t.kind)).collect::<Vec<_>>());
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
pub fn with_tokens(found: Found, retry: impl Fn() + Copy + Send + Sync + 'static, ready: impl Fn(Vec<TokenInfo>) -> AnyView + Send + Sync + 'static) -> impl IntoView {
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
