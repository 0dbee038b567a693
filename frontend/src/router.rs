//! The address as a signal: links inside the app are followed without loading the page
//! again, the back and forward buttons move between the pages, and code navigates with
//! [`use_navigate`]. Each bundle's route table (`app.rs`) draws the page for the path.
//!
//! In place of leptos_router, whose route matching, nested routes and forms this app never
//! used: they were about 16 KB of every bundle's wasm. The names are the ones leptos_router
//! gives the same things.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Where the browser is: the path, the query string without its `?`, the fragment with its `#`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Address {
    path: String,
    search: String,
    hash: String,
}

impl Address {
    fn of_window() -> Address {
        let l = window().location();
        Address {
            path: l.pathname().unwrap_or_default(),
            search: l.search().unwrap_or_default().trim_start_matches('?').to_owned(),
            hash: l.hash().unwrap_or_default(),
        }
    }
}

/// The router's state, in context under [`Router`].
#[derive(Clone, Copy)]
struct Current(RwSignal<Address>);

fn current() -> Current {
    // Outside a Router (a unit test's view): an address of its own that nothing moves.
    use_context::<Current>().unwrap_or_else(|| Current(RwSignal::new(Address::default())))
}

/// The query string's parameters, decoded as a form's (`+` is a space).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamsMap(Vec<(String, String)>);

impl ParamsMap {
    pub fn parse(search: &str) -> ParamsMap {
        ParamsMap(form_urlencoded::parse(search.as_bytes()).into_owned().collect())
    }

    /// The last value given for `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
}

/// The current address, as signals.
#[derive(Clone, Copy)]
pub struct Location {
    pub pathname: Memo<String>,
    /// The query string without its `?`.
    pub search: Memo<String>,
    /// The fragment with its `#`, or empty.
    pub hash: Memo<String>,
}

pub fn use_location() -> Location {
    let current = current().0;
    Location {
        pathname: Memo::new(move |_| current.with(|a| a.path.clone())),
        search: Memo::new(move |_| current.with(|a| a.search.clone())),
        hash: Memo::new(move |_| current.with(|a| a.hash.clone())),
    }
}

pub fn use_query_map() -> Memo<ParamsMap> {
    let current = current().0;
    Memo::new(move |_| current.with(|a| ParamsMap::parse(&a.search)))
}

#[derive(Clone, Copy, Debug, Default)]
pub struct NavigateOptions {
    /// In place of the current entry of the history, rather than a new one.
    pub replace: bool,
}

/// Goes to `to` (a path with its query, in this origin); another origin is loaded.
pub fn use_navigate() -> impl Fn(&str, NavigateOptions) + Clone {
    let current = current();
    move |to: &str, options: NavigateOptions| go(current, to, options)
}

fn go(current: Current, to: &str, options: NavigateOptions) {
    let l = window().location();
    let origin = l.origin().unwrap_or_default();
    let Ok(url) = web_sys::Url::new_with_base(to, &origin) else { return };
    if url.origin() != origin {
        let _ = l.set_href(to);
        return;
    }
    let next =
        Address { path: url.pathname(), search: url.search().trim_start_matches('?').to_owned(), hash: url.hash() };
    let value = url.href();
    let history = window().history().ok();
    if let Some(h) = history {
        let _ = if options.replace || next == current.0.get_untracked() {
            h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&value))
        } else {
            h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&value))
        };
    }
    let hash = next.hash.clone();
    current.0.set(next);
    scroll_to(&hash);
}

/// To the element the fragment names once the page is drawn, else to the top.
fn scroll_to(hash: &str) {
    let id = hash.strip_prefix('#').map(|h| js_sys::decode_uri(h).ok().and_then(|d| d.as_string()).unwrap_or(h.into()));
    request_animation_frame(move || match id.and_then(|id| document().get_element_by_id(&id)) {
        Some(el) => el.scroll_into_view(),
        None => window().scroll_to_with_x_and_y(0.0, 0.0),
    });
}

/// The anchor a click should follow inside the app, if any: a plain left click on a link to
/// this origin, without `target`, `download` or `rel="external"`, that nothing else handled.
fn followed_link(ev: &web_sys::MouseEvent) -> Option<web_sys::HtmlAnchorElement> {
    if ev.default_prevented() || ev.button() != 0 || ev.meta_key() || ev.alt_key() || ev.ctrl_key() || ev.shift_key() {
        return None;
    }
    let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
    let a = target.closest("a[href]").ok()??.dyn_into::<web_sys::HtmlAnchorElement>().ok()?;
    let external = a.get_attribute("rel").is_some_and(|r| r.split_ascii_whitespace().any(|p| p == "external"));
    let leaves = !a.target().is_empty() || a.has_attribute("download") || external;
    let here = window().location().origin().ok()?;
    (!leaves && a.origin() == here).then_some(a)
}

/// Keeps the address in a signal for the app inside it.
#[component]
pub fn Router(children: Children) -> impl IntoView {
    let current = Current(RwSignal::new(Address::of_window()));
    provide_context(current);
    let click = window_event_listener(leptos::ev::click, move |ev| {
        if let Some(a) = followed_link(&ev) {
            ev.prevent_default();
            go(current, &format!("{}{}{}", a.pathname(), a.search(), a.hash()), NavigateOptions::default());
        }
    });
    let popstate = window_event_listener(leptos::ev::popstate, move |_| current.0.set(Address::of_window()));
    on_cleanup(move || {
        click.remove();
        popstate.remove();
    });
    children()
}

/// A link inside the app, `aria-current="page"` while its page is shown: the page at `href`
/// or under it, or only at it when `exact`.
#[component]
pub fn A(href: &'static str, #[prop(optional)] exact: bool, children: Children) -> impl IntoView {
    let path = use_location().pathname;
    let active = move || path.with(|p| if exact { p == href } else { is_active_for(href, p) });
    view! { <a href=href aria-current=move || active().then_some("page")>{children()}</a> }
}

/// Whether `location` is `href` or a path under it (both start with `/`).
fn is_active_for(href: &str, location: &str) -> bool {
    let (href, location) = (href.trim_end_matches('/'), location.trim_end_matches('/'));
    location == href || !href.is_empty() && location.strip_prefix(href).is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_read_as_forms_are_and_the_last_value_counts() {
        let q = ParamsMap::parse("next=%2Fapply%3Fid%3D7%26step%3D2&kind=org&kind=person&name=%E5%BC%A0+%E4%B8%89");
        assert_eq!(q.get("next").as_deref(), Some("/apply?id=7&step=2"));
        assert_eq!(q.get("kind").as_deref(), Some("person"));
        assert_eq!(q.get("name").as_deref(), Some("张 三"));
        assert_eq!(q.get("step"), None);
        assert_eq!(ParamsMap::parse(""), ParamsMap::default());
    }

    #[test]
    fn a_link_is_current_on_its_page_and_below_it() {
        assert!(is_active_for("/", "/"));
        assert!(!is_active_for("/", "/search"));
        assert!(is_active_for("/my-certificates", "/my-certificates"));
        assert!(is_active_for("/my-certificates", "/my-certificates/"));
        assert!(is_active_for("/admin", "/admin/review"));
        assert!(!is_active_for("/admin", "/administrator"));
        assert!(!is_active_for("/admin/review", "/admin"));
    }
}
