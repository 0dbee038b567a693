//! Language switch: 简体中文, 繁體中文, English (`crate::i18n` keeps the choice in a cookie
//! and fetches the language's texts).

use leptos::prelude::*;

use crate::components::tr;
use crate::i18n::{Locale, td_string, use_i18n};

#[component]
pub fn LangSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let on_change = move |ev| {
        if let Some(l) = Locale::from_tag(&event_target_value(&ev)) {
            i18n.set_locale(l);
        }
    };
    view! {
        <label class="lang">
            <span class="visually-hidden">{tr(|l| td_string!(l, language))}</span>
            <select on:change=on_change prop:value=move || i18n.get_locale().tag()>
                <option value="zh-CN" lang="zh-CN">"简体中文"</option>
                <option value="zh-TW" lang="zh-TW">"繁體中文"</option>
                <option value="en" lang="en">"English"</option>
            </select>
        </label>
    }
}
