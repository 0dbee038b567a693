//! Lists the server sends: "loading…", its refusal, or the list as a table. One copy of the
//! loading / refusal / table markup for every page and staff section.

use crate::i18n::td_string;
use certdesk_shared::admin::{Sort, SortColumn};
use certdesk_shared::endpoint::Endpoint;
use leptos::prelude::*;

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

/// `GET` a declared endpoint that carries nothing (its path filled with `args`) into `target`
/// (a 403 hides, other failures show).
pub fn load_into<E>(target: RwSignal<Load<E::Response>>, args: &[&str], l: crate::i18n::Locale)
where
    E: Endpoint<Request = ()> + 'static,
    E::Response: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    load_query_into::<E>(target, args, (), l);
}

/// `GET` a declared endpoint with its query (its path filled with `args`) into `target` (a
/// 403 hides, other failures show).
pub fn load_query_into<E>(target: RwSignal<Load<E::Response>>, args: &[&str], query: E::Request, l: crate::i18n::Locale)
where
    E: Endpoint + 'static,
    E::Request: serde::Serialize + 'static,
    E::Response: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    leptos::task::spawn_local(async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        target.set(Load::from_result(crate::api::call::<E>(&args, &query, l).await));
    });
}

/// A column heading: its text, and the column the list sorts by when it is clicked (none for
/// a column the server does not sort by).
pub type Head<C> = (Text, Option<C>);

/// A data table whose sortable headings are buttons that ask the server for that order (again
/// for the other direction); the current one says so (`aria-sort`, ▲ or ▼). An empty page says
/// 无数据.
pub fn sorted_table<C: SortColumn>(
    heads: &'static [Head<C>],
    sort: Sort<C>,
    by: impl Fn(C) + Send + Sync + 'static,
    rows: Vec<AnyView>,
) -> AnyView {
    // The markup once for every list: the headings by their columns' names, and a
    // type-erased callback that turns a name back into the list's column.
    let named: Vec<(Text, Option<&'static str>)> = heads.iter().map(|(t, c)| (*t, c.map(C::as_str))).collect();
    let by = Callback::new(move |name: &'static str| {
        if let Some(c) = C::ALL.iter().find(|c| c.as_str() == name) {
            by(*c);
        }
    });
    table_sorted_by(named, (sort.column.as_str(), sort.descending), by, rows)
}

fn table_sorted_by(
    heads: Vec<(Text, Option<&'static str>)>,
    (current, descending): (&'static str, bool),
    by: Callback<&'static str>,
    rows: Vec<AnyView>,
) -> AnyView {
    if rows.is_empty() {
        return view! { <p class="muted">{tr(|l| td_string!(l, no_data))}</p> }.into_any();
    }
    let heads = heads
        .into_iter()
        .map(|(text, column)| match column {
            Some(c) => {
                let order = (c == current).then_some(if descending { "descending" } else { "ascending" });
                let arrow = match order {
                    Some("ascending") => " ▲",
                    Some(_) => " ▼",
                    None => "",
                };
                view! {
                    <th scope="col" aria-sort=order>
                        <button type="button" class="sort" on:click=move |_| by.run(c)>{tr(text)}{arrow}</button>
                    </th>
                }
                .into_any()
            }
            None => view! { <th scope="col">{tr(text)}</th> }.into_any(),
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="data">
                <thead><tr>{heads}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A list's search: one field (受理号、手机号、单位名称…, whole words) and 查询, filled from the
/// address; `search` gets the trimmed words.
pub fn search_box(
    id: &'static str,
    hint: Text,
    words: Memo<String>,
    search: impl Fn(String) + Send + Sync + 'static,
) -> AnyView {
    search_form(id, hint, words, Callback::new(search))
}

fn search_form(id: &'static str, hint: Text, words: Memo<String>, search: Callback<String>) -> AnyView {
    let typed = RwSignal::new(String::new());
    Effect::new(move |_| typed.set(words.get()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        search.run(typed.get_untracked().trim().to_owned());
    };
    view! {
        <form class="filters" role="search" on:submit=submit>
            <div class="field">
                <label for=id>{tr(|l| td_string!(l, list_search))}</label>
                <input id=id type="search" placeholder=tr(hint) prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
            </div>
            <div class="actions">
                <button type="submit">{tr(|l| td_string!(l, search))}</button>
            </div>
        </form>
    }
    .into_any()
}
