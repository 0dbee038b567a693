//! 邮寄 in the staff console (customer service and administrators): approved applications to
//! be posted, with the recipient and address; recording the courier and tracking number
//! takes them off the list and shows them to the customer under 邮寄查询.

use crate::i18n::td_string;
use certdesk_shared::admin::{Page, Section, ShipmentColumn, ShipmentQuery, Sort, SortColumn};
use certdesk_shared::apply::ShipmentRequest;
use certdesk_shared::endpoint;
use certdesk_shared::request::RequestView;
use leptos::prelude::*;

use crate::components::fields::FailureAlert;
use crate::components::table::{Head, load_query_into, loaded, search_box, sorted_table, staff_section};
use crate::components::tr;
use crate::form::{Failure, Load};
use crate::i18n::use_i18n;
use crate::pages::admin::{address_query, pager};

const HEADS: &[Head<ShipmentColumn>] = &[
    (|l| td_string!(l, acceptance_no), Some(ShipmentColumn::AcceptanceNo)),
    (|l| td_string!(l, col_approved_at), Some(ShipmentColumn::DecidedAt)),
    (|l| td_string!(l, field_recipient_name), None),
    (|l| td_string!(l, field_recipient_address), None),
    (|l| td_string!(l, col_courier), None),
    (|l| td_string!(l, col_tracking_no), None),
    (|_| "", None),
];

#[component]
pub fn ShippingSection() -> impl IntoView {
    let i18n = use_i18n();
    let list = RwSignal::new(Load::<Page<RequestView>>::Loading);
    let failure = RwSignal::new(None::<Failure>);
    // The search, the order and the page in the address.
    let (query, show) = address_query::<ShipmentQuery>(Section::Shipping);
    let reload = move || {
        load_query_into::<endpoint::AwaitingShipment>(list, &[], query.get_untracked(), i18n.get_locale_untracked());
    };
    Effect::new(move |_| {
        query.track();
        reload();
    });
    let words = Memo::new(move |_| query.with(|q| q.q.clone()));
    let search = move |q: String| show(ShipmentQuery { q, page: None, ..query.get_untracked() });
    let sort = move || query.with_untracked(|q| Sort::parse(&q.sort).unwrap_or(ShipmentColumn::DEFAULT));
    let by = move |c| show(ShipmentQuery { sort: sort().by(c).param(), page: None, ..query.get_untracked() });
    let to_page = move |page| show(ShipmentQuery { page: Some(page), ..query.get_untracked() });
    let changed = crate::pages::admin::queue_changed();
    let ship = move |id: String, courier: String, tracking_no: String| {
        failure.set(None);
        leptos::task::spawn_local(async move {
            let req = ShipmentRequest { courier, tracking_no };
            match crate::api::call::<endpoint::Ship>(&[&id], &req, i18n.get_locale_untracked()).await {
                Ok(_) => {
                    reload();
                    changed();
                }
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };
    staff_section(
        list,
        "shipping",
        |l| td_string!(l, shipping_title),
        move || {
            view! {
            {search_box("shipping-search", |l| td_string!(l, search_hint_requests), words, search)}
            <FailureAlert failure />
            {loaded(list, move |apps| {
                let pager = pager(&apps, to_page);
                let rows = apps
                    .items
                    .into_iter()
                    .map(|a| {
                        let number = a.acceptance_no.clone().unwrap_or_default();
                        let d = a.delivery.clone();
                        let who = d.as_ref().map(|d| {
                            let name = d.recipient_name.as_ref().map(|n| n.to_string()).unwrap_or_default();
                            let phone = d.recipient_phone.as_ref().map(|p| p.to_string()).unwrap_or_default();
                            format!("{name} {phone}")
                        });
                        let address = d.and_then(|d| d.address).unwrap_or_default();
                        let approved = a.decided_at.as_deref().map(crate::form::short_time).unwrap_or_default();
                        let courier = RwSignal::new(td_string!(i18n.get_locale_untracked(), courier_default).to_owned());
                        let tracking = RwSignal::new(String::new());
                        let (courier_id, tracking_id) = (format!("courier-{}", a.id), format!("tracking-{}", a.id));
                        let courier_label = format!("{} {number}", tr(|l| td_string!(l, col_courier))());
                        let tracking_label = format!("{} {number}", tr(|l| td_string!(l, col_tracking_no))());
                        let save_label = format!("{} {number}", tr(|l| td_string!(l, save))());
                        let id = a.id.clone();
                        view! {
                            <tr>
                                <td>{number}</td>
                                <td>{approved}</td>
                                <td>{who}</td>
                                <td>{address}</td>
                                <td>
                                    <label class="visually-hidden" for=courier_id.clone()>{courier_label}</label>
                                    <input id=courier_id type="text" prop:value=move || courier.get() on:input=move |ev| courier.set(event_target_value(&ev)) />
                                </td>
                                <td>
                                    <label class="visually-hidden" for=tracking_id.clone()>{tracking_label}</label>
                                    <input id=tracking_id type="text" prop:value=move || tracking.get() on:input=move |ev| tracking.set(event_target_value(&ev)) />
                                </td>
                                <td>
                                    <button type="button" aria-label=save_label on:click=move |_| ship(id.clone(), courier.get_untracked(), tracking.get_untracked())>
                                        {tr(|l| td_string!(l, save))}
                                    </button>
                                </td>
                            </tr>
                        }
                        .into_any()
                    })
                    .collect();
                view! { {sorted_table(HEADS, sort(), by, rows)} {pager} }.into_any()
            })}
        }
        .into_any()
        },
    )
}
