//! Any path the app does not know.

use leptos::prelude::*;
use leptos_i18n::{t, td_string};

use crate::components::use_page_title;
use crate::i18n::use_i18n;

#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), not_found_title).to_owned());
    view! {
        <h1>{t!(i18n, not_found_title)}</h1>
        <p>{t!(i18n, not_found_body)}</p>
        <p>
            <a href="/">{t!(i18n, back_home)}</a>
        </p>
    }
}
