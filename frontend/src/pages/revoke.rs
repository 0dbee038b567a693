//! 证书注销 (seed 004 §7, seed 003 §1.3.2): the signed-in holder chooses a certificate, then
//! ① 资料上传 (the cancellation form and the holder's ID, with the reason) ② 身份验证 (the SMS
//! code sent to the masked phone of record) ③ 提交审核: "您的注销申请已提交，审核结果会以短信
//! 形式告知，请注意查收短信。" A holder without an account (or whose certificate is not in it)
//! revokes on the certificate's public page with the challenge phrase.

use crate::i18n::td_string;
use crate::router::use_query_map;
use certdesk_shared::Named;
use certdesk_shared::account::CodePurpose;
use certdesk_shared::apply::DocumentKind;
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::endpoint;
use certdesk_shared::my_certificates::{MyCertificate, MyCertificateStatus};
use certdesk_shared::request::{RequestStatus, RequestView};
use certdesk_shared::revoke::{DOCUMENTS, RevocationNotOpen, RevocationOffer, StartRevocation, SubmitRevocation};
use certdesk_shared::{ErrorCode, FieldError, OtpCode, ValidationError};
use leptos::prelude::*;

use crate::components::certificate_panel::certificate_panel;
use crate::components::fields::{FailureAlert, Field, FormState, SendCertificateCode, Text};
use crate::components::table::{load_into, loaded};
use crate::components::{tr, use_page_title};
use crate::form::Load;
use crate::i18n::use_i18n;
use crate::pages::apply::{Upload, reasons};
use crate::pages::search::reason_text;
use crate::routes::Operation;

/// Where a revocation request stands, as the page's three steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// ① the reason and the documents (also after a rejection).
    Documents,
    /// ② the SMS code.
    Identity,
    /// ③ sent to review.
    Submitted,
    Done,
}

/// The stage of a request (none yet: ①); `identity` once the holder went on from ①.
pub fn stage(r: Option<&RequestView>, identity: bool) -> Stage {
    match r.map(|r| r.status) {
        None => Stage::Documents,
        Some(RequestStatus::Draft | RequestStatus::Rejected) => {
            if identity {
                Stage::Identity
            } else {
                Stage::Documents
            }
        }
        Some(
            RequestStatus::Submitted | RequestStatus::Resubmitted | RequestStatus::Approved | RequestStatus::Issued,
        ) => Stage::Submitted,
        Some(RequestStatus::Done | RequestStatus::Withdrawn) => Stage::Done,
    }
}

const STEPS: [Text; 3] = [
    |l| td_string!(l, revoke_step_documents),
    |l| td_string!(l, revoke_step_identity),
    |l| td_string!(l, revoke_step_review),
];

fn stepper(at: Stage) -> impl IntoView {
    let current = match at {
        Stage::Documents => 0,
        Stage::Identity => 1,
        Stage::Submitted | Stage::Done => 2,
    };
    let steps = STEPS
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let here = (i == current).then_some("step");
            view! { <li aria-current=here class:done=i < current>{tr(*t)}</li> }
        })
        .collect_view();
    view! { <ol class="stepper">{steps}</ol> }
}

#[component]
pub fn Revoke() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || Operation::Revoke.title(i18n.get_locale()).to_owned());
    let uid = StoredValue::new(use_query_map().with_untracked(|q| q.get("uid")).filter(|u| !u.is_empty()));
    let offer = RwSignal::new(Load::<RevocationOffer>::Loading);
    let mine = RwSignal::new(Load::<Vec<MyCertificate>>::Loading);
    let reload = move || match uid.get_value() {
        Some(u) => load_into::<endpoint::OfferRevocation>(offer, &[&u], i18n.get_locale_untracked()),
        None => load_into::<endpoint::ListMyCertificates>(mine, &[], i18n.get_locale_untracked()),
    };
    crate::session::when_signed_in("/revoke", reload);
    view! {
        <h1>{move || Operation::Revoke.title(i18n.get_locale())}</h1>
        <p class="lead">{move || Operation::Revoke.description(i18n.get_locale())}</p>
        {move || match uid.get_value() {
            None => view! { {loaded(mine, |certs| choose(certs).into_any())} {by_phrase()} }.into_any(),
            Some(_) => loaded(offer, move |o| view! { <Offered o reload=Callback::new(move |()| reload()) /> }.into_any()).into_any(),
        }}
    }
}

/// Without a signed-in account's certificate: the public revocation with the challenge phrase.
fn by_phrase() -> impl IntoView {
    view! {
        <p class="muted">
            {tr(|l| td_string!(l, revoke_by_phrase))}" "
            <a href="/search">{tr(|l| td_string!(l, nav_search))}</a>
        </p>
    }
}

/// The account's certificates that can still be revoked.
fn choose(certs: Vec<MyCertificate>) -> impl IntoView {
    let live: Vec<_> = certs
        .into_iter()
        .filter(|c| matches!(c.status, MyCertificateStatus::Valid | MyCertificateStatus::Frozen))
        .collect();
    if live.is_empty() {
        return view! { <p class="muted">{tr(|l| td_string!(l, no_data))}</p> }.into_any();
    }
    let rows = live
        .into_iter()
        .map(|c| {
            let href = format!("/revoke?uid={}", c.uid);
            view! {
                <tr>
                    <td>{c.panel.common_name.clone()}</td>
                    <td>{c.panel.serial.clone()}</td>
                    <td>{crate::components::certificate_panel::date_of(&c.panel.not_after)}</td>
                    <td><a class="button" href=href>{tr(|l| td_string!(l, revoke_apply))}</a></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list">
            <thead><tr>
                <th scope="col">{tr(|l| td_string!(l, renew_common_name))}</th>
                <th scope="col">{tr(|l| td_string!(l, renew_serial))}</th>
                <th scope="col">{tr(|l| td_string!(l, renew_valid_until))}</th>
                <th scope="col"></th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Offered(o: RevocationOffer, reload: Callback<()>) -> impl IntoView {
    let identity = RwSignal::new(false);
    let request = RwSignal::new(o.request.clone());
    let closed = o.not_open.map(|n| {
        let text: Text = match n {
            RevocationNotOpen::NotLive => |l| crate::api::error_message(ErrorCode::CertificateNotValid, l),
            RevocationNotOpen::OtherRequest => |l| crate::api::error_message(ErrorCode::RequestUnderWay, l),
        };
        view! { <p class="callout" role="status">{tr(text)}</p> }
    });
    let uid = StoredValue::new(o.certificate.uid.clone());
    let phone = StoredValue::new(o.certificate.phone_masked.clone());
    let reasons_list = StoredValue::new(o.reasons.clone());
    let open = closed.is_none();
    // The step shown changes with the stage only: an upload that lands while the next file is
    // being chosen must not build the form again under the holder's hands.
    let at = Memo::new(move |_| {
        let at = identity.get();
        request.with(|r| stage(r.as_ref(), at))
    });
    view! {
        {certificate_panel(o.certificate.panel.clone())}
        {move || stepper(at.get())}
        {move || request.get().and_then(|r| r.acceptance_no).map(|n| view! { <p>{tr(|l| td_string!(l, acceptance_no))}"："{n}</p> })}
        {closed}
        {move || open.then(|| match at.get() {
            Stage::Documents => view! {
                {request.get_untracked().filter(|r| r.status == RequestStatus::Rejected).map(|r| reasons(&r.reasons))}
                <Documents uid=uid.get_value() reasons=reasons_list.get_value() request identity />
            }.into_any(),
            Stage::Identity => view! { <Identity uid=uid.get_value() phone=phone.get_value() request identity reload /> }.into_any(),
            Stage::Submitted => view! { <p class="ok" role="status">{tr(|l| td_string!(l, revoke_submitted))}</p> }.into_any(),
            Stage::Done => view! { <p class="ok" role="status">{tr(|l| td_string!(l, revoke_request_done))}</p> }.into_any(),
        })}
    }
}

/// ① the reason (the request is made with it) and the two documents.
#[component]
fn Documents(
    uid: String,
    reasons: Vec<RevocationReason>,
    request: RwSignal<Option<RequestView>>,
    identity: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let fs = FormState::new("revoke");
    let first = reasons.first().copied().unwrap_or(RevocationReason::Unspecified);
    let reason = RwSignal::new(first);
    let held = StoredValue::new(uid.clone());
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let body = StartRevocation { reason: reason.get_untracked() };
        fs.submit(
            Ok::<_, Vec<FieldError>>(body),
            move |b| async move { crate::api::call::<endpoint::StartRevocation>(&[&held.get_value()], &b, l).await },
            move |r| request.set(Some(r)),
        );
    };
    let next = move |_| {
        let missing: Vec<FieldError> = DOCUMENTS
            .iter()
            .filter(|k| {
                !request.with_untracked(|r| r.as_ref().is_some_and(|r| r.documents.iter().any(|d| d.kind == **k)))
            })
            .map(|k| FieldError { field: k.as_str().into(), error: ValidationError::Required })
            .collect();
        if missing.is_empty() {
            identity.set(true);
        } else {
            fs.refuse(missing);
        }
    };
    let options = reasons
        .into_iter()
        .map(|r| view! { <option value=r.code().to_string() selected=r == first>{tr(reason_text(r))}</option> })
        .collect_view();
    view! {
        <form class="form" novalidate on:submit=start>
            <div class="field">
                <label for="revoke-reason">{tr(|l| td_string!(l, col_reason))}</label>
                <select id="revoke-reason" disabled=move || request.with(Option::is_some) on:change=move |ev| {
                    if let Some(r) = event_target_value(&ev).parse().ok().and_then(RevocationReason::from_code) {
                        reason.set(r);
                    }
                }>{options}</select>
            </div>
            {move || request.with(Option::is_none).then(|| view! {
                <FailureAlert failure=fs.failure />
                <button type="submit" class="primary" disabled=move || fs.busy.get()>{tr(|l| td_string!(l, revoke_start))}</button>
            })}
        </form>
        {move || request.with(Option::is_some).then(|| view! {
            <p>{tr(|l| td_string!(l, revoke_documents_intro))}</p>
            {DOCUMENTS.into_iter().map(|kind: DocumentKind| view! { <Upload kind app=request fs /> }).collect_view()}
            <FailureAlert failure=fs.failure />
            <button type="button" class="primary" on:click=next>{tr(|l| td_string!(l, next))}</button>
        })}
    }
}

/// ② 身份验证: the code sent to the phone of record, then off to review.
#[component]
fn Identity(
    uid: String,
    phone: String,
    request: RwSignal<Option<RequestView>>,
    identity: RwSignal<bool>,
    reload: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let fs = FormState::new("revoke");
    let code = RwSignal::new(String::new());
    let errors = fs.errors;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let Some(id) = request.with_untracked(|r| r.as_ref().map(|r| r.id.clone())) else { return };
        let body = OtpCode::parse(code.get_untracked().trim())
            .map(|code| SubmitRevocation { code })
            .map_err(|error| vec![FieldError { field: "code".into(), error }]);
        fs.submit(
            body,
            move |b| async move { crate::api::call::<endpoint::SubmitRevocation>(&[&id], &b, l).await },
            move |r| {
                request.set(Some(r));
                reload.run(());
            },
        );
    };
    view! {
        <form class="form" novalidate on:submit=submit>
            <p>{tr(|l| td_string!(l, operator_phone))}"："<strong>{phone}</strong></p>
            <Field form="revoke" field="code" label=|l| td_string!(l, field_sms_code) value=code errors autocomplete="one-time-code" inputmode="numeric" check=|s| OtpCode::parse(s).map(drop)>
                <SendCertificateCode uid purpose=CodePurpose::CertificateRevoke failure=fs.failure />
            </Field>
            <FailureAlert failure=fs.failure />
            <button type="button" on:click=move |_| identity.set(false)>{tr(|l| td_string!(l, prev))}</button>
            <button type="submit" class="primary" disabled=move || fs.busy.get()>{tr(|l| td_string!(l, next))}</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_has_its_step() {
        assert_eq!(stage(None, false), Stage::Documents);
        let mut r: RequestView = serde_json::from_value(serde_json::json!({
            "id": "r", "kind": "revoke", "acceptance_no": null, "status": "draft", "step": 1,
            "choose_type": null, "certificate_info": null, "documents": [], "operator": null, "delivery": null,
            "price_fen": null, "billing": "scan_to_pay", "reasons": [], "created_at": "", "submitted_at": null,
            "certificate_uid": null
        }))
        .unwrap();
        assert_eq!(stage(Some(&r), false), Stage::Documents);
        assert_eq!(stage(Some(&r), true), Stage::Identity);
        for (s, want) in [
            (RequestStatus::Rejected, Stage::Documents),
            (RequestStatus::Submitted, Stage::Submitted),
            (RequestStatus::Done, Stage::Done),
        ] {
            r.status = s;
            assert_eq!(stage(Some(&r), false), want, "{s:?}");
        }
    }
}
