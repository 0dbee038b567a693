//! 证书延期 (seed 004 §4): ① 延期申请 — the period and its price; ② 扫码缴费 (skipped under
//! 大客户统一结算); ③ 证书下载 — a new key pair on the token that holds the certificate, the
//! new certificate stored, then the old one superseded: "下载完成，请重新登录系统".
//! Open only in the certificate's last 90 days; otherwise the page says from when.

use crate::i18n::td_string;
use crate::router::use_query_map;
use certdesk_shared::ErrorCode;
use certdesk_shared::apply::BillingMode;
use certdesk_shared::endpoint;
use certdesk_shared::renew::{NotOpen, RenewalCsr, RenewalOffer, StartRenewal};
use certdesk_shared::request::{RequestStatus, RequestView};
use leptos::prelude::*;

use crate::components::fields::{Field, FormState, Text};
use crate::components::token::{
    Offer, api_problem, find_tokens, pin_problem, pin_request, problem_alert, run_steps, token_select, with_tokens,
};
use crate::components::{tr, use_page_title};
use crate::form::{Load, fill, short_time};
use crate::i18n::use_i18n;
use crate::pages::apply::{reasons, years};
use crate::routes::Operation;

/// Which of the three steps a renewal is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Choose,
    Pay,
    Review,
    Download,
    Done,
}

/// The step a renewal under way (or none) is at.
pub fn stage(r: Option<&RequestView>) -> Stage {
    match r.map(|r| r.status) {
        None => Stage::Choose,
        Some(RequestStatus::Draft) => Stage::Pay,
        Some(RequestStatus::Submitted | RequestStatus::Resubmitted | RequestStatus::Rejected) => Stage::Review,
        Some(RequestStatus::Approved | RequestStatus::Issued) => Stage::Download,
        Some(RequestStatus::Done | RequestStatus::Withdrawn) => Stage::Done,
    }
}

const STEPS: [Text; 3] =
    [|l| td_string!(l, renew_step_apply), |l| td_string!(l, renew_step_pay), |l| td_string!(l, renew_step_download)];

fn stepper(at: Stage, billing: BillingMode) -> impl IntoView {
    let current = match at {
        Stage::Choose => 0,
        Stage::Pay | Stage::Review => 1,
        Stage::Download | Stage::Done => 2,
    };
    let steps = STEPS
        .iter()
        .enumerate()
        .filter(|(i, _)| !(*i == 1 && billing == BillingMode::Settlement))
        .map(|(i, t)| {
            let here = (i == current).then_some("step");
            view! { <li aria-current=here class:done=i < current>{tr(*t)}</li> }
        })
        .collect_view();
    view! { <ol class="stepper">{steps}</ol> }
}

fn row(label: Text, value: String) -> impl IntoView {
    view! { <tr><th scope="row">{tr(label)}</th><td>{value}</td></tr> }
}

fn summary(o: &RenewalOffer) -> impl IntoView + use<> {
    view! {
        <table class="details">
            <tbody>
                {row(|l| td_string!(l, renew_common_name), o.common_name.clone())}
                {row(|l| td_string!(l, field_cert_type), o.type_name.clone())}
                {row(|l| td_string!(l, renew_serial), o.serial.clone())}
                {row(|l| td_string!(l, renew_valid_until), short_time(&o.not_after))}
                {row(|l| td_string!(l, renew_medium_no), o.medium_no.clone().unwrap_or_else(|| "—".into()))}
            </tbody>
        </table>
    }
}

#[component]
pub fn Renew() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || Operation::Renew.title(i18n.get_locale()).to_owned());
    let uid = use_query_map().with_untracked(|q| q.get("uid")).filter(|u| !u.is_empty());
    let offer = RwSignal::new(Load::<RenewalOffer>::Loading);
    let uid = StoredValue::new(uid);
    let reload = move || {
        if let Some(u) = uid.get_value() {
            crate::components::table::load_into::<endpoint::OfferRenewal>(offer, &[&u], i18n.get_locale_untracked());
        }
    };
    crate::session::when_signed_in("/renew", reload);
    view! {
        <h1>{move || Operation::Renew.title(i18n.get_locale())}</h1>
        <p class="lead">{move || Operation::Renew.description(i18n.get_locale())}</p>
        {move || match uid.get_value() {
            None => view! {
                <p>
                    {tr(|l| td_string!(l, renew_pick))}" "
                    <a href="/my-certificates">{tr(|l| td_string!(l, renew_pick_link))}</a>
                </p>
            }.into_any(),
            Some(_) => crate::components::table::loaded(offer, move |o| view! { <Offered o reload=Callback::new(move |()| reload()) /> }.into_any()).into_any(),
        }}
    }
}

#[component]
fn Offered(o: RenewalOffer, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let at = stage(o.request.as_ref());
    let closed = o.not_open.map(|n| {
        let l = i18n.get_locale_untracked();
        let text = match n {
            NotOpen::TooEarly => fill(td_string!(l, renew_opens_at), short_time(&o.opens_at)),
            NotOpen::NotValid => crate::api::error_message(ErrorCode::CertificateNotValid, l).to_owned(),
        };
        view! { <p class="callout" role="status">{text}</p> }
    });
    let body = if closed.is_some() {
        None
    } else {
        Some(match at {
            Stage::Choose => view! { <Choose o=o.clone() reload /> }.into_any(),
            Stage::Pay => {
                let id = o.request.as_ref().map(|r| r.id.clone()).unwrap_or_default();
                view! { <PayThenSubmit id reload /> }.into_any()
            }
            Stage::Review => {
                let r = o.request.clone();
                view! {
                    <p class="callout" role="status">{tr(|l| td_string!(l, renew_waiting_review))}</p>
                    {r.filter(|r| r.status == RequestStatus::Rejected).map(|r| reasons(&r.reasons))}
                }
                .into_any()
            }
            Stage::Download => crate::components::lazily(download_renewed(o.clone())),
            Stage::Done => view! { <p class="ok" role="status">{tr(|l| td_string!(l, renew_done))}</p> }.into_any(),
        })
    };
    let number = o.request.as_ref().and_then(|r| r.acceptance_no.clone());
    let (facts, steps) = (summary(&o), stepper(at, o.billing));
    view! {
        {facts}
        {steps}
        {number.map(|n| view! { <p>{tr(|l| td_string!(l, acceptance_no))}"："{n}</p> })}
        {closed}
        {body}
    }
}

/// ① 延期申请: the periods on sale with their prices.
#[component]
fn Choose(o: RenewalOffer, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let chosen = RwSignal::new(o.periods.first().map(|p| p.id.clone()).unwrap_or_default());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let uid = StoredValue::new(o.certificate_uid.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = StartRenewal { validity_id: chosen.get_untracked() };
        let l = i18n.get_locale_untracked();
        busy.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::StartRenewal>(&[&uid.get_value()], &body, l).await {
                Ok(_) => reload.run(()),
                Err(e) => problem.set(Some(api_problem(e, l))),
            }
            busy.set(false);
        });
    };
    let options = o
        .periods
        .iter()
        .map(|p| {
            let id = p.id.clone();
            let input_id = format!("period-{}", p.id);
            let (n, price) = (p.years, p.price_fen);
            let checked = {
                let id = id.clone();
                move || chosen.get() == id
            };
            let for_id = input_id.clone();
            view! {
                <label for=for_id>
                    <input type="radio" name="period" id=input_id prop:checked=checked on:change=move |_| chosen.set(id.clone()) />
                    {move || {
                        let l = i18n.get_locale();
                        format!(" {} · {}元", fill(td_string!(l, validity_years), years(n, l)), certdesk_shared::apply::yuan(price))
                    }}
                </label>
            }
        })
        .collect_view();
    view! {
        <form class="form" novalidate on:submit=submit>
            <fieldset>
                <legend>{tr(|l| td_string!(l, renew_period))}</legend>
                {options}
            </fieldset>
            {problem_alert(problem)}
            <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, renew_submit))}</button>
        </form>
    }
}

/// ② 扫码缴费, then on to review or download.
#[component]
fn PayThenSubmit(id: String, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let problem = RwSignal::new(None::<String>);
    let request = StoredValue::new(id.clone());
    let paid = move || {
        let l = i18n.get_locale_untracked();
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::SubmitRenewal>(&[&request.get_value()], &(), l).await {
                Ok(_) => reload.run(()),
                Err(e) => problem.set(Some(api_problem(e, l))),
            }
        });
    };
    view! {
        {crate::pages::apply::pay_lazily(id, paid)}
        {problem_alert(problem)}
    }
}

/// ③ 证书下载: a new key on the token that holds the certificate, the new certificate
/// stored there, then the old one superseded. A chunk of its own: the token agent's code is
/// needed only once the renewal is approved, a visit after the first.
#[leptos::lazy]
fn download_renewed(o: RenewalOffer) -> AnyView {
    view! { <DownloadRenewed o /> }.into_any()
}

#[component]
fn DownloadRenewed(o: RenewalOffer) -> impl IntoView {
    let i18n = use_i18n();
    if o.medium == Some(certdesk_shared::apply::Medium::MobileShield) {
        // Downloaded in the phone app, with a key made there (seed 004 §4.2.5).
        return view! { <p class="callout">{tr(|l| td_string!(l, renew_in_app))}</p> }.into_any();
    }
    let medium_no = RwSignal::new(o.medium_no.clone().unwrap_or_default());
    let pin = RwSignal::new(String::new());
    let found = RwSignal::new(None);
    let find = move || find_tokens(found, medium_no, Offer::All);
    find();
    let problem = RwSignal::new(None::<String>);
    let finished = RwSignal::new(false);
    let fs = FormState::new("renew");
    let errors = fs.errors;
    let busy = fs.busy;
    let id = StoredValue::new(o.request.as_ref().map(|r| r.id.clone()).unwrap_or_default());
    let label = StoredValue::new(o.request.as_ref().and_then(|r| r.acceptance_no.clone()).unwrap_or_default());
    let algorithm = o.profile.token_key();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let (m, p) = (medium_no.get_untracked(), pin.get_untracked());
        let steps = move |()| async move {
            let csr_pem =
                crate::agent::make_csr(&m, &p, &label.get_value(), algorithm).await.map_err(|e| pin_problem(&e, l))?;
            let body = RenewalCsr { csr_pem, medium_no: m.clone() };
            let issued = crate::api::call::<endpoint::IssueRenewal>(&[&id.get_value()], &body, l)
                .await
                .map_err(|e| api_problem(e, l))?;
            crate::agent::store_certificate(&m, &p, &issued.pem, issued.chain_pem)
                .await
                .map_err(|e| pin_problem(&e, l))?;
            crate::api::call::<endpoint::FinishRenewal>(&[&id.get_value()], &(), l).await.map_err(|e| api_problem(e, l))
        };
        run_steps(fs, problem, pin_request(&pin.get_untracked()), steps, move |_| {
            pin.set(String::new());
            finished.set(true);
        });
    };
    view! {
        {move || if finished.get() {
            view! {
                <p class="ok" role="status">{tr(|l| td_string!(l, renew_done))}</p>
                <p><a class="button primary" href="/sign-in">{tr(|l| td_string!(l, renew_sign_in_again))}</a></p>
            }.into_any()
        } else {
            view! {
                <p>{tr(|l| td_string!(l, renew_download_intro))}</p>
                {with_tokens(found, find, move |list| view! {
                    <form class="form" novalidate on:submit=submit>
                        {token_select("renew-medium_no", list, medium_no)}
                        <Field form="renew" field="pin" label=|l| td_string!(l, token_pin) value=pin errors input_type="password" />
                        {problem_alert(problem)}
                        <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, renew_download_submit))}</button>
                    </form>
                }.into_any())}
            }.into_any()
        }}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_has_its_step() {
        assert_eq!(stage(None), Stage::Choose);
        let mut r: RequestView = serde_json::from_value(serde_json::json!({
            "id": "r", "kind": "renew", "acceptance_no": null, "status": "draft", "step": 1,
            "choose_type": null, "certificate_info": null, "documents": [], "operator": null, "delivery": null,
            "price_fen": 30000, "billing": "scan_to_pay", "reasons": [], "created_at": "", "submitted_at": null,
            "certificate_uid": null
        }))
        .unwrap();
        for (s, want) in [
            (RequestStatus::Draft, Stage::Pay),
            (RequestStatus::Submitted, Stage::Review),
            (RequestStatus::Rejected, Stage::Review),
            (RequestStatus::Approved, Stage::Download),
            (RequestStatus::Issued, Stage::Download),
            (RequestStatus::Done, Stage::Done),
        ] {
            r.status = s;
            assert_eq!(stage(Some(&r)), want, "{s:?}");
        }
    }
}
