//! The admin area's header: its own name and the language switch, no customer navigation.

use leptos::prelude::*;

use crate::components::tr;
use crate::i18n::td_string;

use super::LangSwitch;

#[component]
pub fn AdminHeader() -> impl IntoView {
    view! {
        <header class="site-header admin-header">
            <div class="bar">
                <a class="brand" href="/admin">
                    <span class="logo" aria-hidden="true">"CA"</span>
                    <span>{tr(|l| td_string!(l, admin_title))}</span>
                </a>
                <div class="tools">
                    <LangSwitch />
                </div>
            </div>
        </header>
    }
}
