//! Any path the app does not know.

use crate::i18n::td_string;
use leptos::prelude::*;

use crate::components::{tr, use_page_title};
use crate::i18n::use_i18n;

#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), not_found_title).to_owned());
    view! {
        <h1>{tr(|l| td_string!(l, not_found_title))}</h1>
        <p>{tr(|l| td_string!(l, not_found_body))}</p>
        <p>
            <a href="/">{tr(|l| td_string!(l, back_home))}</a>
        </p>
    }
}
