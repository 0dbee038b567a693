//! The admin area's header: its own name and the language switch, no customer navigation.

use leptos::prelude::*;
use leptos_i18n::t;

use super::LangSwitch;
use crate::i18n::use_i18n;

#[component]
pub fn AdminHeader() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <header class="site-header admin-header">
            <div class="bar">
                <a class="brand" href="/admin">
                    <span class="logo" aria-hidden="true">"CA"</span>
                    <span>{t!(i18n, admin_title)}</span>
                </a>
                <div class="tools">
                    <LangSwitch />
                </div>
            </div>
        </header>
    }
}
