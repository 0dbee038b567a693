//! Footer: browser advice, service hotline.

use leptos::prelude::*;

use crate::components::tr;
use crate::i18n::td_string;

#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>{tr(|l| td_string!(l, footer_browser))}</p>
            <p>{tr(|l| td_string!(l, footer_hotline))}</p>
            <p>
                {tr(|l| td_string!(l, footer_copyright))}
                " · "
                <a href="/env-check">{tr(|l| td_string!(l, nav_env_check))}</a>
                " · "
                <a href="/downloads">{tr(|l| td_string!(l, nav_downloads))}</a>
            </p>
        </footer>
    }
}
