//! 电子认证服务协议: the agreement registration and sign-in ask the user to accept, with
//! the version the server records.

use crate::i18n::td_string;
use certdesk_shared::account::AGREEMENT_VERSION;
use leptos::prelude::*;

use crate::components::{tr, use_page_title};
use crate::i18n::use_i18n;

#[component]
pub fn Agreement() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), agreement_title).to_owned());
    view! {
        <article class="panel agreement">
            <h1>{tr(|l| td_string!(l, agreement_title))}</h1>
            <p class="muted">{tr(|l| td_string!(l, agreement_version))} {AGREEMENT_VERSION}</p>
            <h2>{tr(|l| td_string!(l, agreement_h1))}</h2>
            <p>{tr(|l| td_string!(l, agreement_p1))}</p>
            <h2>{tr(|l| td_string!(l, agreement_h2))}</h2>
            <p>{tr(|l| td_string!(l, agreement_p2))}</p>
            <h2>{tr(|l| td_string!(l, agreement_h3))}</h2>
            <p>{tr(|l| td_string!(l, agreement_p3))}</p>
            <h2>{tr(|l| td_string!(l, agreement_h4))}</h2>
            <p>{tr(|l| td_string!(l, agreement_p4))}</p>
            <h2>{tr(|l| td_string!(l, agreement_h5))}</h2>
            <p>{tr(|l| td_string!(l, agreement_p5))}</p>
        </article>
    }
}
