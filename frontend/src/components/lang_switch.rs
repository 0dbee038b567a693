//! Language switch: 简体中文, 繁體中文, English. The choice is kept in a cookie, written
//! here rather than by leptos_i18n's `cookie` feature (whose cookie and date crates cost
//! more of the wasm budget than this page of code).

use leptos::prelude::*;

use crate::components::tr;
use leptos_i18n::td_string;

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

/// The cookie that keeps the chosen language (the name leptos_i18n used).
const COOKIE: &str = "i18n_pref_locale";

/// The value of cookie `name` in a `document.cookie` string.
fn cookie_value<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    cookies.split(';').filter_map(|pair| pair.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn document_cookie() -> Option<String> {
    js_sys::Reflect::get(&document(), &wasm_bindgen::JsValue::from_str("cookie")).ok()?.as_string()
}

/// Switches to the language chosen on an earlier visit, if any. An effect, so it runs after
/// leptos_i18n's own first effect (which sets the browser's language).
pub fn restore_locale() {
    let i18n = use_i18n();
    Effect::new(move |_| {
        let saved = document_cookie().and_then(|c| cookie_value(&c, COOKIE).and_then(locale_from_tag));
        if let Some(l) = saved {
            i18n.set_locale(l);
        }
    });
}

fn save_locale(l: Locale) {
    let cookie = format!("{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", locale_tag(l));
    let _ = js_sys::Reflect::set(&document(), &wasm_bindgen::JsValue::from_str("cookie"), &cookie.into());
}

#[component]
pub fn LangSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let on_change = move |ev| {
        if let Some(l) = locale_from_tag(&event_target_value(&ev)) {
            i18n.set_locale(l);
            save_locale(l);
        }
    };
    view! {
        <label class="lang">
            <span class="visually-hidden">{tr(|l| td_string!(l, language))}</span>
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

    #[test]
    fn cookie_values() {
        assert_eq!(cookie_value("a=1; i18n_pref_locale=en; b=2", COOKIE), Some("en"));
        assert_eq!(cookie_value("i18n_pref_locale=zh-TW", COOKIE), Some("zh-TW"));
        assert_eq!(cookie_value("x_i18n_pref_locale=en", COOKIE), None);
        assert_eq!(cookie_value("", COOKIE), None);
    }
}
