//! 首页: what the portal does, a card per operation, what to prepare.

use crate::i18n::td_string;
use leptos::prelude::*;

use crate::components::{tr, use_page_title};
use crate::i18n::use_i18n;
use crate::routes::Operation;

#[component]
pub fn Home() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(String::new);
    view! {
        <section class="hero">
            <h1>{tr(|l| td_string!(l, home_title))}</h1>
            <p class="lead">{tr(|l| td_string!(l, home_lead))}</p>
        </section>
        <section aria-labelledby="services-title">
            <h2 id="services-title">{tr(|l| td_string!(l, home_services))}</h2>
            <ul class="cards">
                {Operation::NAV
                    .into_iter()
                    .map(|op| {
                        view! {
                            <li class="card">
                                <a href=op.path()>
                                    <h3>{move || op.title(i18n.get_locale())}</h3>
                                    <p>{move || op.description(i18n.get_locale())}</p>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
        <section class="notice" aria-labelledby="notice-title">
            <h2 id="notice-title">{tr(|l| td_string!(l, home_notice_title))}</h2>
            <ol>
                <li>{tr(|l| td_string!(l, home_notice_1))}</li>
                <li>{tr(|l| td_string!(l, home_notice_2))}</li>
                <li>{tr(|l| td_string!(l, home_notice_3))}</li>
            </ol>
        </section>
    }
}
