//! Footer: browser advice, service hotline.

use leptos::prelude::*;
use leptos_i18n::t;

use crate::i18n::use_i18n;

#[component]
pub fn Footer() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <footer class="site-footer">
            <p>{t!(i18n, footer_browser)}</p>
            <p>{t!(i18n, footer_hotline)}</p>
            <p>
                {t!(i18n, footer_copyright)}
                " · "
                <a href="/env-check">{t!(i18n, nav_env_check)}</a>
            </p>
        </footer>
    }
}
