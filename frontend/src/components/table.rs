//! Lists the server sends: "loading…", its refusal, or the list as a table. One copy of the
//! loading / refusal / table markup for every page and staff section.

use leptos::prelude::*;
use leptos_i18n::td_string;

use super::fields::Text;
use super::tr;
use crate::form::Load;
use crate::i18n::use_i18n;

/// What `load` holds: a status line while loading, the API's refusal, or `ready`'s view.
pub fn loaded<T>(load: RwSignal<Load<T>>, ready: impl Fn(T) -> AnyView + Send + Sync + 'static) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let i18n = use_i18n();
    move || match load.get() {
        Load::Ready(v) => ready(v),
        Load::Failed(code) => {
            view! { <p class="alert" role="alert">{move || crate::api::error_message(code, i18n.get_locale())}</p> }
                .into_any()
        }
        _ => view! { <p role="status">{tr(|l| td_string!(l, loading))}</p> }.into_any(),
    }
}

/// A data table with its column headings; an empty list says 无数据.
pub fn data_table(heads: &'static [Text], rows: Vec<AnyView>) -> AnyView {
    if rows.is_empty() {
        return view! { <p class="muted">{tr(|l| td_string!(l, no_data))}</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data">
                <thead>
                    <tr>{heads.iter().map(|h| view! { <th scope="col">{tr(*h)}</th> }).collect_view()}</tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A staff console section that shows only when its list is not refused (403) to this role.
pub fn staff_section<T>(
    load: RwSignal<Load<T>>,
    id: &'static str,
    title: Text,
    body: impl Fn() -> AnyView + Send + Sync + 'static,
) -> impl IntoView
where
    T: Send + Sync + 'static,
{
    let heading = format!("{id}-title");
    move || {
        (!load.with(Load::is_hidden)).then(|| {
            view! {
                <section class="panel" id=id aria-labelledby=heading.clone()>
                    <h2 id=heading.clone()>{tr(title)}</h2>
                    {body()}
                </section>
            }
        })
    }
}

/// `GET path` into `target` (a 403 hides, other failures show).
pub fn load_into<T>(target: RwSignal<Load<T>>, path: impl Into<String>, l: crate::i18n::Locale)
where
    T: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let path = path.into();
    leptos::task::spawn_local(async move {
        target.set(Load::from_result(crate::api::get(&path, l).await));
    });
}

/// A list's filter kept in the address's query string (`?kind=renew`), so that a reload, the
/// back button and a shared link show the same rows: its value now (empty when absent), and
/// what sets it (a new history entry; an empty value removes it).
pub fn url_filter(name: &'static str) -> (Memo<String>, Callback<String>) {
    let query = leptos_router::hooks::use_query_map();
    let value = Memo::new(move |_| query.with(|q| q.get(name).unwrap_or_default()));
    let navigate = leptos_router::hooks::use_navigate();
    let set = Callback::new(move |v: String| {
        let mut q = query.get_untracked();
        if v.is_empty() {
            q.remove(name);
        } else {
            q.replace(name, v);
        }
        let path = window().location().pathname().unwrap_or_default();
        navigate(&format!("{path}{}", q.to_query_string()), Default::default());
    });
    (value, set)
}
