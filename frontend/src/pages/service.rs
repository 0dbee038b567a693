//! The page of an operation whose online service is not open yet: it says what the
//! operation is and how to get it done meanwhile. Replaced by the operation's own page
//! as each one is built.

use leptos::prelude::*;
use leptos_i18n::td_string;

use crate::components::{tr, use_page_title};
use crate::i18n::use_i18n;
use crate::routes::Operation;

#[component]
pub fn Service(op: Operation) -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || op.title(i18n.get_locale()).to_owned());
    view! {
        <h1>{move || op.title(i18n.get_locale())}</h1>
        <p class="lead">{move || op.description(i18n.get_locale())}</p>
        <div class="callout" role="status">
            <h2>{tr(|l| td_string!(l, service_not_open_title))}</h2>
            <p>{tr(|l| td_string!(l, service_not_open_body))}</p>
        </div>
        <p>
            <a href="/">{tr(|l| td_string!(l, back_home))}</a>
        </p>
    }
}
