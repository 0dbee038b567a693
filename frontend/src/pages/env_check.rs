//! 环境检测 (seed 004 §11): operating system, browser, WebAssembly, cookies, secure
//! context, whether the token agent answers on its local port (its version), and the
//! tokens it sees. Every row is measured in this browser, not assumed.

use crate::i18n::td_string;
use certdesk_shared::AGENT_DEFAULT_PORT;
use certdesk_shared::ErrorCode;
use certdesk_shared::agent::AgentInfo;
use certdesk_shared::endpoint;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::components::{tr, use_page_title};
use crate::env::{detect_browser, detect_os};
use crate::i18n::use_i18n;

#[derive(Debug, Clone, PartialEq)]
enum Agent {
    Checking,
    Installed(String),
    Missing,
}

/// Asks the agent for its version; any failure (refused, blocked, timeout, bad body) is "missing".
async fn probe_agent(port: u16) -> Agent {
    let signal = web_sys::AbortSignal::timeout_with_u32(1500);
    let url = format!("http://127.0.0.1:{port}/v1/info");
    let Ok(res) = gloo_net::http::Request::get(&url).abort_signal(Some(&signal)).send().await else {
        return Agent::Missing;
    };
    match res.json::<AgentInfo>().await {
        Ok(info) if res.ok() && info.name == "certdesk-agent" => Agent::Installed(info.version),
        _ => Agent::Missing,
    }
}

fn js_flag(target: &JsValue, name: &str) -> bool {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).ok().and_then(|v| v.as_bool()).unwrap_or(false)
}

/// The head of a table of checks: 检测项, 结果.
pub fn item_result_head() -> impl IntoView {
    view! {
        <thead>
            <tr>
                <th scope="col">{tr(|l| td_string!(l, env_item))}</th>
                <th scope="col">{tr(|l| td_string!(l, env_result))}</th>
            </tr>
        </thead>
    }
}

#[component]
fn Row(label: impl IntoView + 'static, detail: String, pass: bool) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <tr>
            <th scope="row">{label}{detail}</th>
            <td class=if pass { "result pass" } else { "result fail" }>
                {move || {
                    if pass {
                        td_string!(i18n.get_locale(), env_pass)
                    } else {
                        td_string!(i18n.get_locale(), env_fail)
                    }
                }}
            </td>
        </tr>
    }
}

#[component]
pub fn EnvCheck() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), env_title).to_owned());

    let window = leptos::prelude::window();
    let ua = window.navigator().user_agent().unwrap_or_default();
    let (os, os_ok) = detect_os(&ua);
    let browser = detect_browser(&ua);
    let browser_ok = browser.as_ref().is_some_and(|b| b.supported());
    let browser_label = browser.map(|b| b.label()).unwrap_or_else(|| ua.clone());
    let global: JsValue = window.clone().into();
    let wasm_ok = js_sys::Reflect::has(&global, &JsValue::from_str("WebAssembly")).unwrap_or(false);
    let cookies_ok = js_flag(&window.navigator().into(), "cookieEnabled");
    let secure_ok = js_flag(&global, "isSecureContext");
    let required_ok = os_ok && browser_ok && wasm_ok && cookies_ok && secure_ok;

    // None while checking, then Ok or the error code that explains the failure.
    let (server, set_server) = signal(None::<Result<(), ErrorCode>>);
    leptos::task::spawn_local(async move {
        let health = crate::api::call::<endpoint::Health>(&[], &(), i18n.get_locale_untracked()).await;
        set_server.set(Some(match health {
            Ok(h) if h.database => Ok(()),
            Ok(_) => Err(ErrorCode::Unavailable),
            Err(e) => Err(e.code),
        }));
    });

    let (agent, set_agent) = signal(Agent::Checking);
    // The tokens the agent sees: their names, once it answers.
    let tokens = RwSignal::new(None::<Vec<String>>);
    let check_agent = move || {
        set_agent.set(Agent::Checking);
        tokens.set(None);
        leptos::task::spawn_local(async move {
            let found = probe_agent(AGENT_DEFAULT_PORT).await;
            if matches!(found, Agent::Installed(_)) {
                let l = i18n.get_locale_untracked();
                let list = crate::agent::tokens().await.unwrap_or_default();
                tokens.set(Some(list.iter().map(|t| crate::components::token::token_label(t, l)).collect()));
            }
            set_agent.set(found);
        });
    };
    check_agent();

    view! {
        <h1>{tr(|l| td_string!(l, env_title))}</h1>
        <p>{tr(|l| td_string!(l, env_intro))}</p>
        <table class="env-table">
            {item_result_head()}
            <tbody>
                <Row label=tr(|l| td_string!(l, env_os)) detail=os.to_owned() pass=os_ok />
                <Row label=tr(|l| td_string!(l, env_browser)) detail=browser_label pass=browser_ok />
                <Row label=tr(|l| td_string!(l, env_wasm)) detail=String::new() pass=wasm_ok />
                <Row label=tr(|l| td_string!(l, env_cookies)) detail=String::new() pass=cookies_ok />
                <Row label=tr(|l| td_string!(l, env_secure)) detail=String::new() pass=secure_ok />
                <tr>
                    <th scope="row">{tr(|l| td_string!(l, env_server))}</th>
                    <td
                        class=move || match server.get() {
                            None => "result",
                            Some(Ok(())) => "result pass",
                            Some(Err(_)) => "result fail",
                        }
                        aria-live="polite"
                    >
                        {move || {
                            let l = i18n.get_locale();
                            match server.get() {
                                None => td_string!(l, env_checking),
                                Some(Ok(())) => td_string!(l, env_pass),
                                Some(Err(_)) => td_string!(l, env_fail),
                            }
                        }}
                    </td>
                </tr>
                <tr>
                    <th scope="row">{tr(|l| td_string!(l, env_agent))}</th>
                    <td
                        class=move || match agent.get() {
                            Agent::Checking => "result",
                            Agent::Installed(_) => "result pass",
                            Agent::Missing => "result fail",
                        }
                        aria-live="polite"
                    >
                        {move || {
                            let l = i18n.get_locale();
                            match agent.get() {
                                Agent::Checking => td_string!(l, env_checking).to_owned(),
                                Agent::Installed(v) => format!("{}{v}", td_string!(l, env_installed)),
                                Agent::Missing => td_string!(l, env_not_installed).to_owned(),
                            }
                        }}
                    </td>
                </tr>
                {move || tokens.get().map(|list| {
                    let none = list.is_empty();
                    view! {
                        <tr>
                            <th scope="row">{tr(|l| td_string!(l, env_tokens))}</th>
                            <td class=if none { "result fail" } else { "result pass" } aria-live="polite">
                                {if none {
                                    tr(|l| td_string!(l, env_no_tokens)).into_any()
                                } else {
                                    view! { <ul class="token-list">{list.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul> }.into_any()
                                }}
                            </td>
                        </tr>
                    }
                })}
            </tbody>
        </table>
        <section class="advice" aria-labelledby="advice-title">
            <h2 id="advice-title">{tr(|l| td_string!(l, env_advice))}</h2>
            <ul>
                {(!os_ok).then(|| view! { <li>{tr(|l| td_string!(l, env_hint_os))}</li> })}
                {(!browser_ok).then(|| view! { <li>{tr(|l| td_string!(l, env_hint_browser))}</li> })}
                {(!wasm_ok).then(|| view! { <li>{tr(|l| td_string!(l, env_hint_wasm))}</li> })}
                {(!cookies_ok).then(|| view! { <li>{tr(|l| td_string!(l, env_hint_cookies))}</li> })}
                {(!secure_ok).then(|| view! { <li>{tr(|l| td_string!(l, env_hint_secure))}</li> })}
                {move || {
                    server
                        .get()
                        .and_then(Result::err)
                        .map(|code| {
                            view! {
                                <li>
                                    {move || crate::api::error_message(code, i18n.get_locale())}
                                    "："
                                    {tr(|l| td_string!(l, env_hint_server))}
                                </li>
                            }
                        })
                }}
                {move || {
                    (required_ok && server.get() == Some(Ok(())))
                        .then(|| view! { <li class="ok">{tr(|l| td_string!(l, env_all_ok))}</li> })
                }}
                {move || {
                    (agent.get() == Agent::Missing)
                        .then(|| {
                            view! {
                                <li>
                                    {tr(|l| td_string!(l, env_hint_agent))}
                                    {AGENT_DEFAULT_PORT}
                                    {tr(|l| td_string!(l, env_hint_agent_end))}
                                    " "
                                    <a href="/downloads">{tr(|l| td_string!(l, nav_downloads))}</a>
                                    " · "
                                    <a href="/agent">{tr(|l| td_string!(l, agent_title))}</a>
                                </li>
                            }
                        })
                }}
            </ul>
            <button type="button" on:click=move |_| check_agent()>
                {tr(|l| td_string!(l, env_recheck))}
            </button>
        </section>
    }
}
