//! 冻结 and 吊销 by the CA in the staff console (roles with the `Revoke` permission): find a
//! certificate by its serial number, freeze or unfreeze it with a comment, or ask to revoke it
//! with a reason and a comment; the request waits below until a second staff member approves
//! or rejects it (nobody decides their own).

use crate::i18n::td_string;
use certdesk_shared::admin::SerialQuery;
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::endpoint;
use certdesk_shared::freeze::StaffFreeze;
use certdesk_shared::revoke::{
    STAFF_REASONS, StaffCertificateView, StaffRevocationDecision, StaffRevocationRequest, StaffRevocationStatus,
    StaffRevocationView,
};
use leptos::prelude::*;

use crate::components::fields::{FailureAlert, Text};
use crate::components::table::{data_table, load_into, loaded, staff_section};
use crate::components::tr;
use crate::form::{Failure, Load, short_time};
use crate::i18n::use_i18n;
use crate::pages::my_certificates::status_text;
use crate::pages::search::reason_text;

const HEADS: &[Text] = &[
    |l| td_string!(l, renew_serial),
    |l| td_string!(l, renew_common_name),
    |l| td_string!(l, col_reason),
    |l| td_string!(l, revocation_comment),
    |l| td_string!(l, revocation_asked_by),
    |l| td_string!(l, col_status),
    |_| "",
];

fn decision_text(s: StaffRevocationStatus) -> Text {
    match s {
        StaffRevocationStatus::Pending => |l| td_string!(l, revocation_pending),
        StaffRevocationStatus::Approved => |l| td_string!(l, revocation_approved),
        StaffRevocationStatus::Rejected => |l| td_string!(l, revocation_rejected),
    }
}

/// A staff member's action on a certificate (by its uid) or on a revocation asked for (by its
/// id).
enum Action {
    Freeze(String, StaffFreeze),
    Unfreeze(String, StaffFreeze),
    Ask(String, StaffRevocationRequest),
    Decide(String, StaffRevocationDecision),
}

impl Action {
    /// Sends the action; the answer is not needed (both lists are loaded again).
    async fn send(self, l: crate::i18n::Locale) -> Result<(), certdesk_shared::ApiError> {
        match self {
            Action::Freeze(uid, body) => crate::api::call::<endpoint::StaffFreeze>(&[&uid], &body, l).await,
            Action::Unfreeze(uid, body) => crate::api::call::<endpoint::StaffUnfreeze>(&[&uid], &body, l).await,
            Action::Ask(uid, body) => crate::api::call::<endpoint::AskRevocation>(&[&uid], &body, l).await.map(drop),
            Action::Decide(id, body) => {
                crate::api::call::<endpoint::DecideRevocation>(&[&id], &body, l).await.map(drop)
            }
        }
    }
}

#[component]
pub fn RevocationSection() -> impl IntoView {
    let i18n = use_i18n();
    let list = RwSignal::new(Load::<Vec<StaffRevocationView>>::Loading);
    let found = RwSignal::new(None::<Vec<StaffCertificateView>>);
    let serial = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());
    let reason = RwSignal::new(RevocationReason::KeyCompromise);
    let failure = RwSignal::new(None::<Failure>);
    let reload = move || load_into::<endpoint::ListRevocations>(list, &[], i18n.get_locale_untracked());
    reload();
    let changed = crate::pages::admin::queue_changed();
    let find = move || {
        let l = i18n.get_locale_untracked();
        let query = SerialQuery { serial: serial.get_untracked().trim().to_owned() };
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::FindCertificates>(&[], &query, l).await {
                Ok(v) => found.set(Some(v)),
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };
    // One action on a certificate or a revocation, then both lists again.
    let act = move |action: Action| {
        failure.set(None);
        let l = i18n.get_locale_untracked();
        leptos::task::spawn_local(async move {
            match action.send(l).await {
                Ok(()) => {
                    comment.set(String::new());
                    reload();
                    find();
                    changed();
                }
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };
    let freeze = move |uid: String, on: bool| {
        let body = StaffFreeze { comment: comment.get_untracked() };
        act(if on { Action::Freeze(uid, body) } else { Action::Unfreeze(uid, body) });
    };
    let ask = move |uid: String| {
        let body = StaffRevocationRequest { reason: reason.get_untracked(), comment: comment.get_untracked() };
        act(Action::Ask(uid, body));
    };
    let decide = move |id: String, approve: bool| {
        let body = StaffRevocationDecision { approve, comment: comment.get_untracked() };
        act(Action::Decide(id, body));
    };
    let certificate = move |c: StaffCertificateView| {
        let (a, b, d) = (c.uid.clone(), c.uid.clone(), c.uid.clone());
        let live = c.pending.is_none()
            && !matches!(
                c.status,
                certdesk_shared::my_certificates::MyCertificateStatus::Revoked
                    | certdesk_shared::my_certificates::MyCertificateStatus::Superseded
            );
        let frozen = c.status == certdesk_shared::my_certificates::MyCertificateStatus::Frozen;
        view! {
            <li>
                <strong>{c.subject.clone()}</strong>" · "{c.serial.clone()}" · "{tr(status_text(c.status))}" · "{short_time(&c.not_after)}
                <div class="actions">
                    {(live && !frozen).then(|| view! { <button type="button" on:click=move |_| freeze(a.clone(), true)>{tr(|l| td_string!(l, my_certificate_freeze))}</button> })}
                    {frozen.then(|| view! { <button type="button" on:click=move |_| freeze(b.clone(), false)>{tr(|l| td_string!(l, my_certificate_unfreeze))}</button> })}
                    {live.then(|| view! { <button type="button" class="danger" on:click=move |_| ask(d.clone())>{tr(|l| td_string!(l, revocation_ask))}</button> })}
                </div>
            </li>
        }
    };
    staff_section(
        list,
        "revocation",
        |l| td_string!(l, revocation_title),
        move || {
            view! {
            <form class="form inline" novalidate on:submit=move |ev| { ev.prevent_default(); find(); }>
                <label for="revocation-serial">{tr(|l| td_string!(l, renew_serial))}</label>
                <input id="revocation-serial" type="text" prop:value=move || serial.get() on:input=move |ev| serial.set(event_target_value(&ev)) />
                <button type="submit">{tr(|l| td_string!(l, search))}</button>
            </form>
            <div class="field">
                <label for="revocation-reason">{tr(|l| td_string!(l, col_reason))}</label>
                <select id="revocation-reason" on:change=move |ev| {
                    if let Some(r) = event_target_value(&ev).parse().ok().and_then(RevocationReason::from_code) {
                        reason.set(r);
                    }
                }>
                    {STAFF_REASONS.into_iter().map(|r| view! { <option value=r.code().to_string() selected=r == RevocationReason::KeyCompromise>{tr(reason_text(r))}</option> }).collect_view()}
                </select>
                <label for="revocation-comment">{tr(|l| td_string!(l, revocation_comment))}</label>
                <input id="revocation-comment" type="text" prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev)) />
            </div>
            <FailureAlert failure />
            {move || found.get().map(|certs| if certs.is_empty() {
                view! { <p class="muted">{tr(|l| td_string!(l, no_data))}</p> }.into_any()
            } else {
                view! { <ul>{certs.into_iter().map(certificate).collect_view()}</ul> }.into_any()
            })}
            {loaded(list, move |rows| {
                let rows = rows.into_iter().map(|r| {
                    let (yes, no) = (r.id.clone(), r.id.clone());
                    view! {
                        <tr>
                            <td>{r.serial.clone()}</td>
                            <td>{r.subject.clone()}</td>
                            <td>{tr(reason_text(r.reason))}</td>
                            <td>{r.comment.clone()}</td>
                            <td>{format!("{} {}", r.requested_by, short_time(&r.requested_at))}</td>
                            <td>{tr(decision_text(r.status))}{r.decided_by.clone().map(|d| format!(" · {d}"))}</td>
                            <td>{r.may_decide.then(|| view! {
                                <button type="button" on:click=move |_| decide(yes.clone(), true)>{tr(|l| td_string!(l, revocation_approve))}</button>
                                <button type="button" class="secondary" on:click=move |_| decide(no.clone(), false)>{tr(|l| td_string!(l, revocation_reject))}</button>
                            })}</td>
                        </tr>
                    }.into_any()
                }).collect();
                data_table(HEADS, rows)
            })}
        }.into_any()
        },
    )
}
