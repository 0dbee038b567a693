//! 证书变更 (`/change?uid=…`, seed 004 §5.1–§5.6): ① 资料上传 ② 证书信息变更 ③ 经办人信息变更
//! ④ 提交审核 ⑤ 证书下载 — a new key pair on the token that holds the certificate, the new
//! certificate stored there, then the old one superseded; with the note on electronic seals.
//! 经办人变更 (`/operator-change?uid=…`, §5.7–§5.9): ① 资料上传 ② 经办人资料变更 ③ 提交审核.
//! Both start from a certificate in 我的证书; the review's result comes by SMS.

use crate::i18n::td_string;
use crate::router::use_query_map;
use certdesk_shared::apply::{Holder, HolderKind, OperatorInfo};
use certdesk_shared::change::{ChangeClosed, ChangeOffer, StartChange};
use certdesk_shared::endpoint;
use certdesk_shared::renew::RenewalCsr;
use certdesk_shared::request::{RequestKind, RequestStatus, RequestView};
use certdesk_shared::validate::{IdDocument, IdType};
use certdesk_shared::{
    CreditCode, Email, ErrorCode, FieldError, IdCardNumber, Mobile, OrgName, PersonName, ValidationError,
};
use leptos::prelude::*;

use crate::components::fields::{Field, FormState, Text};
use crate::components::token::{
    Offer, api_problem, find_tokens, pin_problem, pin_request, problem_alert, run_steps, token_select, with_tokens,
};
use crate::components::{tr, use_page_title};
use crate::form::{Load, check, short_time};
use crate::i18n::use_i18n;
use crate::pages::apply::{Upload, id_type_text, reasons};
use certdesk_shared::Named;

/// Where a change stands, for the page: the step shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Nothing under way: the certificate and the button that starts.
    Start,
    /// Editable (a draft, or rejected and being fixed): the wizard's step `n` (1-based).
    Edit(u8),
    Review,
    Download,
    Done,
}

/// The stage of the request under way (or none); `at` is the step the customer is on while
/// editing.
pub fn stage(r: Option<&RequestView>, at: u8) -> Stage {
    match r.map(|r| r.status) {
        None | Some(RequestStatus::Withdrawn) => Stage::Start,
        Some(RequestStatus::Draft | RequestStatus::Rejected) => Stage::Edit(at),
        Some(RequestStatus::Submitted | RequestStatus::Resubmitted) => Stage::Review,
        Some(RequestStatus::Approved | RequestStatus::Issued) => Stage::Download,
        Some(RequestStatus::Done) => Stage::Done,
    }
}

const CHANGE_STEPS: [Text; 5] = [
    |l| td_string!(l, change_step_upload),
    |l| td_string!(l, change_step_info),
    |l| td_string!(l, change_step_operator),
    |l| td_string!(l, change_step_submit),
    |l| td_string!(l, change_step_download),
];

const OPERATOR_STEPS: [Text; 3] = [
    |l| td_string!(l, change_step_upload),
    |l| td_string!(l, operator_step_info),
    |l| td_string!(l, change_step_submit),
];

/// The index of the step shown in the stepper.
fn current(kind: RequestKind, s: Stage) -> usize {
    let submit = if kind == RequestKind::Change { 3 } else { 2 };
    match s {
        Stage::Start => 0,
        Stage::Edit(n) => usize::from(n.max(1) - 1).min(submit - 1),
        Stage::Review => submit,
        Stage::Download => 4,
        Stage::Done => {
            if kind == RequestKind::Change {
                5
            } else {
                3
            }
        }
    }
}

fn stepper(kind: RequestKind, s: Stage) -> impl IntoView {
    let steps: &[Text] = if kind == RequestKind::Change { &CHANGE_STEPS } else { &OPERATOR_STEPS };
    let at = current(kind, s);
    let items = steps
        .iter()
        .enumerate()
        .map(|(i, t)| view! { <li aria-current=(i == at).then_some("step") class:done=i < at>{tr(*t)}</li> })
        .collect_view();
    view! { <ol class="stepper">{items}</ol> }
}

/// The new holder from the form, of the kind the certificate's profile has.
pub fn holder(kind: HolderKind, v: &[String; 5]) -> Result<Holder, Vec<FieldError>> {
    let mut e = Vec::new();
    let org_name = check(&mut e, "org_name", OrgName::parse(&v[0]));
    let credit_code = check(&mut e, "credit_code", CreditCode::parse(&v[1]));
    let person = (kind == HolderKind::LegalPerson).then(|| {
        let name = check(&mut e, "holder_name", PersonName::parse(&v[2]));
        let id_type = IdType::parse(&v[3]).unwrap_or(IdType::ResidentId);
        (name, check(&mut e, "holder_id_number", IdDocument::parse(id_type, &v[4])))
    });
    let h = match (org_name, credit_code, person) {
        (Some(org_name), Some(credit_code), None) => Some(Holder::Organisation { org_name, credit_code }),
        (Some(org_name), Some(credit_code), Some((Some(name), Some(id)))) => {
            Some(Holder::LegalPerson { name, id, org_name, credit_code })
        }
        _ => None,
    };
    match h {
        Some(h) if e.is_empty() => Ok(h),
        _ => Err(e),
    }
}

fn holder_values(h: Option<&Holder>) -> [String; 5] {
    let mut v: [String; 5] = Default::default();
    v[3] = IdType::ResidentId.as_str().into();
    if let Some((o, c)) = h.and_then(|h| h.organisation()) {
        (v[0], v[1]) = (o.as_str().into(), c.as_str().into());
    }
    if let Some(Holder::LegalPerson { name, id, .. }) = h {
        (v[2], v[3], v[4]) = (name.as_str().into(), id.id_type().as_str().into(), id.number().into());
    }
    v
}

/// The operator from the form.
pub fn operator(v: &[String; 6]) -> Result<OperatorInfo, Vec<FieldError>> {
    let mut e = Vec::new();
    let name = check(&mut e, "name", PersonName::parse(&v[0]));
    let id_number = check(&mut e, "id_number", IdCardNumber::parse(&v[1]));
    let mobile = check(&mut e, "mobile", Mobile::parse(&v[2]));
    let email = check(&mut e, "email", Email::parse(&v[3]));
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    match (name, id_number, mobile, email) {
        (Some(name), Some(id_number), Some(mobile), Some(email)) if e.is_empty() => {
            let o = OperatorInfo { name, id_number, mobile, email, unit_phone: opt(&v[4]), address: opt(&v[5]) };
            let more = o.check();
            if more.is_empty() { Ok(o) } else { Err(more) }
        }
        _ => Err(e),
    }
}

fn operator_values(o: Option<&OperatorInfo>) -> [String; 6] {
    let Some(o) = o else { return Default::default() };
    [
        o.name.as_str().into(),
        o.id_number.as_str().into(),
        o.mobile.as_str().into(),
        o.email.as_str().into(),
        o.unit_phone.clone().unwrap_or_default(),
        o.address.clone().unwrap_or_default(),
    ]
}

/// ⑤ 证书下载 as a chunk of its own (the token agent's code, needed only once the change is
/// approved). The page is a chunk itself, so it gets the loader from its route table
/// (`app::change_download`): a lazy function called only from inside another would be split
/// into every bundle.
pub type DownloadView = fn(ChangeOffer, RwSignal<Option<RequestView>>) -> AnyView;

#[leptos::lazy]
pub fn download_changed_lazy(o: ChangeOffer, app: RwSignal<Option<RequestView>>) -> AnyView {
    view! { <DownloadChanged o app /> }.into_any()
}

/// 证书变更.
#[component]
pub fn Change(download: DownloadView) -> impl IntoView {
    view! { <ChangePage kind=RequestKind::Change download /> }
}

/// 经办人变更.
#[component]
pub fn OperatorChange(download: DownloadView) -> impl IntoView {
    view! { <ChangePage kind=RequestKind::OperatorChange download /> }
}

fn title(kind: RequestKind) -> Text {
    if kind == RequestKind::Change { |l| td_string!(l, nav_change) } else { |l| td_string!(l, nav_operator_change) }
}

#[component]
fn ChangePage(kind: RequestKind, download: DownloadView) -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || title(kind)(i18n.get_locale()).to_owned());
    let uid = StoredValue::new(use_query_map().with_untracked(|q| q.get("uid")).filter(|u| !u.is_empty()));
    let offer = RwSignal::new(Load::<ChangeOffer>::Loading);
    let reload = move || {
        if let Some(u) = uid.get_value() {
            crate::components::table::load_into::<endpoint::OfferChange>(offer, &[&u], i18n.get_locale_untracked());
        }
    };
    let here = if kind == RequestKind::Change { "/change" } else { "/operator-change" };
    crate::session::when_signed_in(here, reload);
    view! {
        <h1>{tr(title(kind))}</h1>
        {move || match uid.get_value() {
            None => view! {
                <p>{tr(|l| td_string!(l, change_pick))}" "<a href="/my-certificates">{tr(|l| td_string!(l, renew_pick_link))}</a></p>
            }.into_any(),
            Some(_) => crate::components::table::loaded(offer, move |o| {
                view! { <Offered o kind download reload=Callback::new(move |()| reload()) /> }.into_any()
            }).into_any(),
        }}
    }
}

fn row(label: Text, value: String) -> impl IntoView {
    view! { <tr><th scope="row">{tr(label)}</th><td>{value}</td></tr> }
}

#[component]
fn Offered(o: ChangeOffer, kind: RequestKind, download: DownloadView, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    // The request under way, if it is of this page's kind.
    let mine = o.request.clone().filter(|r| r.kind == kind);
    let other = o.request.as_ref().is_some_and(|r| r.kind != kind);
    let closed = if kind == RequestKind::Change { o.change_closed } else { o.operator_closed };
    let step = RwSignal::new(1u8);
    let app = RwSignal::new(mine.clone());
    let facts = view! {
        <table class="details">
            <tbody>
                {row(|l| td_string!(l, renew_common_name), o.common_name.clone())}
                {row(|l| td_string!(l, field_cert_type), o.type_name.clone())}
                {row(|l| td_string!(l, renew_serial), o.serial.clone())}
                {row(|l| td_string!(l, renew_valid_until), short_time(&o.not_after))}
                {row(|l| td_string!(l, renew_medium_no), o.medium_no.clone().unwrap_or_else(|| "—".into()))}
            </tbody>
        </table>
    };
    let refusal = match (other, closed, &mine) {
        (true, _, _) => Some(ErrorCode::RequestUnderWay),
        (_, Some(ChangeClosed::Personal), None) => Some(ErrorCode::PersonalNotChangeable),
        (_, Some(ChangeClosed::NotValid), None) => Some(ErrorCode::CertificateNotValid),
        _ => None,
    };
    if let Some(code) = refusal {
        return view! {
            {facts}
            <p class="callout" role="alert">{move || crate::api::error_message(code, i18n.get_locale())}</p>
        }
        .into_any();
    }
    let number = mine.as_ref().and_then(|r| r.acceptance_no.clone());
    let o = StoredValue::new(o);
    // The step shown changes with the stage only: an upload that lands while the next file is
    // being chosen must not build the form again under the holder's hands.
    let at = Memo::new(move |_| {
        let at = step.get();
        app.with(|r| stage(r.as_ref(), at))
    });
    let body = move || {
        let s = at.get();
        let o = o.get_value();
        let view = match s {
            Stage::Start => view! { <Begin uid=o.certificate_uid.clone() kind app /> }.into_any(),
            Stage::Edit(1) => {
                let docs =
                    if kind == RequestKind::Change { o.change_documents.clone() } else { o.operator_documents.clone() };
                view! { <Documents docs app step /> }.into_any()
            }
            Stage::Edit(2) if kind == RequestKind::Change => {
                let holder_kind = HolderKind::of(o.profile);
                view! { <HolderStep holder_kind current=o.holder.clone() app step /> }.into_any()
            }
            Stage::Edit(_) => view! { <OperatorStep kind current=o.operator.clone() app step reload /> }.into_any(),
            Stage::Review => {
                let r = app.get_untracked();
                let text: Text = if kind == RequestKind::Change {
                    |l| td_string!(l, change_submitted)
                } else {
                    |l| td_string!(l, operator_submitted)
                };
                view! { <p class="callout" role="status">{tr(text)}</p> {r.filter(|r| r.status == RequestStatus::Rejected).map(|r| reasons(&r.reasons))} }.into_any()
            }
            Stage::Download => download(o.clone(), app),
            Stage::Done => {
                let text: Text = if kind == RequestKind::Change {
                    |l| td_string!(l, renew_done)
                } else {
                    |l| td_string!(l, operator_done)
                };
                view! { <p class="ok" role="status">{tr(text)}</p> }.into_any()
            }
        };
        // Until approved, the request may be withdrawn, freeing the certificate.
        let withdraw = matches!(s, Stage::Edit(_) | Stage::Review).then(|| view! { <Withdraw app reload /> });
        view! { {stepper(kind, s)} {view} {withdraw} }
    };
    let rejected = mine.filter(|r| r.status == RequestStatus::Rejected).map(|r| reasons(&r.reasons));
    view! {
        {facts}
        {number.map(|n| view! { <p>{tr(|l| td_string!(l, acceptance_no))}"："{n}</p> })}
        {rejected}
        {body}
    }
    .into_any()
}

/// Starts the request.
#[component]
fn Begin(uid: String, kind: RequestKind, app: RwSignal<Option<RequestView>>) -> impl IntoView {
    let i18n = use_i18n();
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let uid = StoredValue::new(uid);
    let start = move |_| {
        let l = i18n.get_locale_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::StartChange>(&[&uid.get_value()], &StartChange { kind }, l).await {
                Ok(r) => app.set(Some(r)),
                Err(e) => problem.set(Some(api_problem(e, l))),
            }
            busy.set(false);
        });
    };
    view! {
        {problem_alert(problem)}
        <button type="button" class="primary" disabled=move || busy.get() on:click=start>{tr(title(kind))}</button>
    }
}

/// 撤回申请.
#[component]
fn Withdraw(app: RwSignal<Option<RequestView>>, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let problem = RwSignal::new(None::<String>);
    let withdraw = move |_| {
        let l = i18n.get_locale_untracked();
        let Some(id) = app.with_untracked(|a| a.as_ref().map(|a| a.id.clone())) else { return };
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::WithdrawChange>(&[&id], &(), l).await {
                Ok(r) => {
                    app.set(Some(r));
                    reload.run(());
                }
                Err(e) => problem.set(Some(api_problem(e, l))),
            }
        });
    };
    view! {
        {problem_alert(problem)}
        <p><button type="button" class="secondary" on:click=withdraw>{tr(|l| td_string!(l, change_withdraw))}</button></p>
    }
}

/// ① 资料上传: each document as the 新办 wizard takes it.
#[component]
fn Documents(
    docs: Vec<certdesk_shared::apply::DocumentKind>,
    app: RwSignal<Option<RequestView>>,
    step: RwSignal<u8>,
) -> impl IntoView {
    let fs = FormState::new("change");
    let wanted = StoredValue::new(docs.clone());
    let next = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let missing: Vec<FieldError> = wanted
            .get_value()
            .into_iter()
            .filter(|k| !app.with_untracked(|a| a.as_ref().is_some_and(|a| a.documents.iter().any(|d| d.kind == *k))))
            .map(|k| FieldError { field: k.as_str().into(), error: ValidationError::Required })
            .collect();
        if missing.is_empty() { step.set(2) } else { fs.refuse(missing) }
    };
    view! {
        <form class="form" novalidate on:submit=next>
            {docs.into_iter().map(|kind| view! { <Upload kind app fs /> }).collect_view()}
            <button type="submit" class="primary">{tr(|l| td_string!(l, next))}</button>
        </form>
    }
}

/// ② 证书信息变更: the holder as it will be, from the holder as it is.
#[component]
fn HolderStep(
    holder_kind: HolderKind,
    current: Option<Holder>,
    app: RwSignal<Option<RequestView>>,
    step: RwSignal<u8>,
) -> impl IntoView {
    let i18n = use_i18n();
    let saved = app.with_untracked(|a| a.as_ref().and_then(|a| a.certificate_info.clone().map(|i| i.holder)));
    let v = holder_values(saved.as_ref().or(current.as_ref())).map(RwSignal::new);
    let fs = FormState::new("change");
    let errors = fs.errors;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = app.with_untracked(|a| a.as_ref().map(|a| a.id.clone())).unwrap_or_default();
        let l = i18n.get_locale_untracked();
        fs.submit(
            holder(holder_kind, &v.map(|s| s.get_untracked())),
            move |h| async move { crate::api::call::<endpoint::SaveChangeHolder>(&[&id], &h, l).await },
            move |r| {
                app.set(Some(r));
                step.set(3);
            },
        );
    };
    let legal = (holder_kind == HolderKind::LegalPerson).then(|| {
        view! {
            <Field form="change" field="holder_name" label=|l| td_string!(l, field_legal_rep_name) value=v[2] errors />
            <div class="field">
                <label for="change-holder_id_type">{tr(|l| td_string!(l, field_holder_id_type))}</label>
                <select id="change-holder_id_type" prop:value=move || v[3].get() on:change=move |ev| v[3].set(event_target_value(&ev))>
                    {IdType::ALL.into_iter().map(|t| view! { <option value=t.as_str()>{tr(id_type_text(t))}</option> }).collect_view()}
                </select>
            </div>
            <Field form="change" field="holder_id_number" label=|l| td_string!(l, field_holder_id_number) value=v[4] errors />
        }
    });
    view! {
        <form class="form" novalidate on:submit=submit>
            <Field form="change" field="org_name" label=|l| td_string!(l, field_org_name) value=v[0] errors />
            <Field form="change" field="credit_code" label=|l| td_string!(l, field_credit_code) value=v[1] errors />
            {legal}
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| step.set(1)>{tr(|l| td_string!(l, prev))}</button>
                <button type="submit" class="primary" disabled=move || fs.busy.get()>{tr(|l| td_string!(l, next))}</button>
            </div>
        </form>
    }
}

/// ③ 经办人信息变更 (or 经办人变更's ②): the operator, then 提交.
#[component]
fn OperatorStep(
    kind: RequestKind,
    current: Option<OperatorInfo>,
    app: RwSignal<Option<RequestView>>,
    step: RwSignal<u8>,
    reload: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let saved = app.with_untracked(|a| a.as_ref().and_then(|a| a.operator.clone()));
    let v = operator_values(saved.as_ref().or(current.as_ref())).map(RwSignal::new);
    let fs = FormState::new("change");
    let errors = fs.errors;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = app.with_untracked(|a| a.as_ref().map(|a| a.id.clone())).unwrap_or_default();
        let l = i18n.get_locale_untracked();
        fs.submit(
            operator(&v.map(|s| s.get_untracked())),
            move |o| async move {
                crate::api::call::<endpoint::SaveChangeOperator>(&[&id], &o, l).await?;
                crate::api::call::<endpoint::SubmitChange>(&[&id], &(), l).await
            },
            move |r| {
                app.set(Some(r));
                reload.run(());
            },
        );
    };
    let back = if kind == RequestKind::Change { 2 } else { 1 };
    view! {
        <form class="form" novalidate on:submit=submit>
            <Field form="change" field="name" label=|l| td_string!(l, field_operator_name) value=v[0] errors />
            <Field form="change" field="id_number" label=|l| td_string!(l, field_operator_id_number) value=v[1] errors />
            <Field form="change" field="mobile" label=|l| td_string!(l, field_operator_mobile) value=v[2] errors input_type="tel" />
            <Field form="change" field="email" label=|l| td_string!(l, field_operator_email) value=v[3] errors input_type="email" />
            <Field form="change" field="unit_phone" label=|l| td_string!(l, field_unit_phone) value=v[4] errors optional=true />
            <Field form="change" field="address" label=|l| td_string!(l, field_operator_address) value=v[5] errors optional=true />
            <crate::components::fields::FailureAlert failure=fs.failure />
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| step.set(back)>{tr(|l| td_string!(l, prev))}</button>
                <button type="submit" class="primary" disabled=move || fs.busy.get()>{tr(|l| td_string!(l, change_submit))}</button>
            </div>
        </form>
    }
}

/// ⑤ 证书下载: a new key on the token that holds the certificate, the new certificate stored
/// there, then the old one superseded.
#[component]
fn DownloadChanged(o: ChangeOffer, app: RwSignal<Option<RequestView>>) -> impl IntoView {
    let i18n = use_i18n();
    let medium_no = RwSignal::new(o.medium_no.clone().unwrap_or_default());
    let pin = RwSignal::new(String::new());
    let found = RwSignal::new(None);
    let find = move || find_tokens(found, medium_no, Offer::All);
    find();
    let problem = RwSignal::new(None::<String>);
    let fs = FormState::new("change");
    let errors = fs.errors;
    let busy = fs.busy;
    let r = app.get_untracked();
    let id = StoredValue::new(r.as_ref().map(|r| r.id.clone()).unwrap_or_default());
    let label = StoredValue::new(r.as_ref().and_then(|r| r.acceptance_no.clone()).unwrap_or_default());
    let algorithm = o.profile.token_key();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let (m, p) = (medium_no.get_untracked(), pin.get_untracked());
        let steps = move |()| async move {
            let csr_pem =
                crate::agent::make_csr(&m, &p, &label.get_value(), algorithm).await.map_err(|e| pin_problem(&e, l))?;
            let body = RenewalCsr { csr_pem, medium_no: m.clone() };
            let issued = crate::api::call::<endpoint::IssueChange>(&[&id.get_value()], &body, l)
                .await
                .map_err(|e| api_problem(e, l))?;
            crate::agent::store_certificate(&m, &p, &issued.pem, issued.chain_pem)
                .await
                .map_err(|e| pin_problem(&e, l))?;
            crate::api::call::<endpoint::FinishChange>(&[&id.get_value()], &(), l).await.map_err(|e| api_problem(e, l))
        };
        run_steps(fs, problem, pin_request(&pin.get_untracked()), steps, move |r| {
            pin.set(String::new());
            app.set(Some(r));
        });
    };
    view! {
        <p class="callout" role="status">{tr(|l| td_string!(l, change_approved))}</p>
        <p class="callout">{tr(|l| td_string!(l, change_seal_note))}</p>
        <p>{tr(|l| td_string!(l, change_download_intro))}</p>
        {with_tokens(found, find, move |list| view! {
            <form class="form" novalidate on:submit=submit>
                {token_select("change-medium_no", list, medium_no)}
                <Field form="change" field="pin" label=|l| td_string!(l, token_pin) value=pin errors input_type="password" />
                {problem_alert(problem)}
                <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, renew_download_submit))}</button>
            </form>
        }.into_any())}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_has_its_stage_and_step() {
        assert_eq!(stage(None, 1), Stage::Start);
        let mut r: RequestView = serde_json::from_value(serde_json::json!({
            "id": "r", "kind": "change", "acceptance_no": null, "status": "draft", "step": 1,
            "choose_type": null, "certificate_info": null, "documents": [], "operator": null, "delivery": null,
            "price_fen": 0, "billing": "scan_to_pay", "reasons": [], "created_at": "", "submitted_at": null,
            "certificate_uid": null
        }))
        .unwrap();
        for (s, want) in [
            (RequestStatus::Draft, Stage::Edit(2)),
            (RequestStatus::Rejected, Stage::Edit(2)),
            (RequestStatus::Submitted, Stage::Review),
            (RequestStatus::Approved, Stage::Download),
            (RequestStatus::Issued, Stage::Download),
            (RequestStatus::Done, Stage::Done),
        ] {
            r.status = s;
            assert_eq!(stage(Some(&r), 2), want, "{s:?}");
        }
        assert_eq!(current(RequestKind::Change, Stage::Download), 4);
        assert_eq!(current(RequestKind::OperatorChange, Stage::Review), 2);
        assert_eq!(current(RequestKind::OperatorChange, Stage::Edit(3)), 1);
    }

    #[test]
    fn the_forms_make_the_holder_and_operator_or_name_the_wrong_fields() {
        let unit = ["天津市滨海数字认证科技有限公司", "91350100M000100Y43", "", "", ""].map(String::from);
        assert!(matches!(holder(HolderKind::Organisation, &unit), Ok(Holder::Organisation { .. })));
        let e = holder(HolderKind::LegalPerson, &unit).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["holder_name", "holder_id_number"]);
        let legal =
            ["天津市滨海数字认证科技有限公司", "91350100M000100Y43", "王五", "passport", "E12345678"].map(String::from);
        let h = holder(HolderKind::LegalPerson, &legal).unwrap();
        assert_eq!(holder_values(Some(&h)), legal);

        let op = ["李四", "11010519491231002X", "15100009192", "ls@example.com", "", ""].map(String::from);
        let o = operator(&op).unwrap();
        assert_eq!(operator_values(Some(&o)), op);
        let bad = ["李四", "110105194912310020", "1510000919", "ls@example.com", "", ""].map(String::from);
        let fields: Vec<String> = operator(&bad).unwrap_err().into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["id_number", "mobile"]);
    }
}
