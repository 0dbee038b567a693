//! Language switch: 简体中文, 繁體中文, English. The choice is kept in a cookie by leptos_i18n.

use leptos::prelude::*;
use leptos_i18n::t;

use crate::i18n::{Locale, use_i18n};

pub fn locale_tag(l: Locale) -> &'static str {
    match l {
        Locale::zh_CN => "zh-CN",
        Locale::zh_TW => "zh-TW",
        Locale::en => "en",
    }
}

fn locale_from_tag(tag: &str) -> Option<Locale> {
    match tag {
        "zh-CN" => Some(Locale::zh_CN),
        "zh-TW" => Some(Locale::zh_TW),
        "en" => Some(Locale::en),
        _ => None,
    }
}

#[component]
pub fn LangSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let on_change = move |ev| {
        if let Some(l) = locale_from_tag(&event_target_value(&ev)) {
            i18n.set_locale(l);
        }
    };
    view! {
        <label class="lang">
            <span class="visually-hidden">{t!(i18n, language)}</span>
            <select on:change=on_change prop:value=move || locale_tag(i18n.get_locale())>
                <option value="zh-CN" lang="zh-CN">"简体中文"</option>
                <option value="zh-TW" lang="zh-TW">"繁體中文"</option>
                <option value="en" lang="en">"English"</option>
            </select>
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        for l in [Locale::zh_CN, Locale::zh_TW, Locale::en] {
            assert_eq!(locale_from_tag(locale_tag(l)), Some(l));
        }
        assert_eq!(locale_from_tag("fr"), None);
    }
}
