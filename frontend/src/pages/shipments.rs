//! 邮寄查询 (seed 004 §3.1.7): the parcels posted to this customer, with the courier and its
//! tracking number, to look up on the courier's own site.

use crate::i18n::td_string;
use certdesk_shared::apply::Shipment;
use certdesk_shared::endpoint;
use leptos::prelude::*;

use crate::components::fields::Text;
use crate::components::table::{data_table, load_into, loaded};
use crate::components::{tr, use_page_title};
use crate::form::{Load, short_time};
use crate::i18n::use_i18n;

const HEADS: &[Text] = &[
    |l| td_string!(l, col_common_name),
    |l| td_string!(l, acceptance_no),
    |l| td_string!(l, filter_kind),
    |l| td_string!(l, col_courier),
    |l| td_string!(l, col_tracking_no),
    |l| td_string!(l, col_shipped_at),
];

#[component]
pub fn Shipments() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), nav_shipments).to_owned());
    let list = RwSignal::new(Load::<Vec<Shipment>>::Loading);
    crate::session::when_signed_in("/shipments", move || {
        load_into::<endpoint::ListShipments>(list, &[], i18n.get_locale_untracked());
    });
    view! {
        <h1>{tr(|l| td_string!(l, nav_shipments))}</h1>
        <crate::pages::applications::CustomerTabs />
        <p class="muted">{tr(|l| td_string!(l, shipments_intro))}</p>
        {loaded(list, |parcels| {
            let rows = parcels
                .into_iter()
                .map(|s| {
                    view! {
                        <tr>
                            <td>{s.common_name}</td>
                            <td>{s.acceptance_no.unwrap_or_default()}</td>
                            <td>{tr(crate::pages::apply::kind_text(s.kind))}</td>
                            <td>{s.courier}</td>
                            <td class="tracking-no">{s.tracking_no}</td>
                            <td>{short_time(&s.shipped_at)}</td>
                        </tr>
                    }
                    .into_any()
                })
                .collect();
            data_table(HEADS, rows)
        })}
    }
}
