//! Portal name, language switch, the account links (登录 / 注册, or the account's name,
//! 用户中心 and 退出) and the main navigation (a menu button below 768 px).

use leptos::prelude::*;

use crate::components::tr;
use crate::i18n::td_string;
use crate::router::A;

use super::LangSwitch;
use crate::i18n::use_i18n;
use crate::routes::Operation;
use crate::session::{sign_out, use_session};

/// 登录 / 注册 when signed out; the account's name, 我的证书, 我的证书申请, 用户中心 and 退出
/// when signed in.
#[component]
fn AccountLinks() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let navigate = crate::router::use_navigate();
    move || {
        if !session.loaded.get() {
            return ().into_any();
        }
        match session.info.get() {
            None => view! {
                <div class="account-links">
                    <A href="/sign-in">{tr(|l| td_string!(l, nav_sign_in))}</A>
                    <A href="/register">{tr(|l| td_string!(l, nav_register))}</A>
                </div>
            }
            .into_any(),
            Some(info) => {
                let navigate = navigate.clone();
                view! {
                    <div class="account-links">
                        <span class="who">{info.account.name}</span>
                        <a href="/my-certificates">{tr(|l| td_string!(l, my_certificates))}</a>
                        <a href="/applications">{tr(|l| td_string!(l, my_applications))}</a>
                        <A href="/account">{tr(|l| td_string!(l, nav_account))}</A>
                        <button type="button" class="link" on:click=move |_| sign_out(session, i18n.get_locale_untracked(), navigate.clone())>
                            {tr(|l| td_string!(l, nav_sign_out))}
                        </button>
                    </div>
                }
                .into_any()
            }
        }
    }
}

/// Moves keyboard focus to `<main>` (the router would otherwise treat `#main` as a route).
fn skip_to_main(ev: leptos::ev::MouseEvent) {
    use wasm_bindgen::JsCast;
    ev.prevent_default();
    let main = leptos::prelude::document().get_element_by_id("main");
    if let Some(main) = main.and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = main.focus();
    }
}

#[component]
pub fn Header() -> impl IntoView {
    let i18n = use_i18n();
    let (open, set_open) = signal(false);
    let close = move |_| set_open.set(false);
    view! {
        <a class="skip-link" href="#main" on:click=skip_to_main>
            {tr(|l| td_string!(l, skip_to_content))}
        </a>
        <header class="site-header">
            <div class="bar">
                <a class="brand" href="/">
                    <span class="logo" aria-hidden="true">"CA"</span>
                    <span>{tr(|l| td_string!(l, app_name))}</span>
                </a>
                <div class="tools">
                    <AccountLinks />
                    <LangSwitch />
                    <button
                        type="button"
                        class="menu-toggle"
                        aria-controls="main-nav"
                        aria-expanded=move || open.get().to_string()
                        on:click=move |_| set_open.update(|o| *o = !*o)
                    >
                        {tr(|l| td_string!(l, menu))}
                    </button>
                </div>
            </div>
            <nav
                id="main-nav"
                class:open=move || open.get()
                aria-label=tr(|l| td_string!(l, main_nav))
            >
                <ul>
                    <li on:click=close>
                        <A href="/" exact=true>{tr(|l| td_string!(l, nav_home))}</A>
                    </li>
                    {Operation::NAV
                        .into_iter()
                        .map(|op| {
                            view! {
                                <li on:click=close>
                                    <A href=op.path()>{move || op.title(i18n.get_locale())}</A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
        </header>
    }
}
