//! 证书补办 / 密钥恢复 (seed 004 §6, seed 002 §2.2): for a UKey certificate lost or damaged.
//! The requirements first, then ① 资料上传 ② 短信验证 (the phone of record, masked) ③ 领取方式
//! ④ 扫码缴费 at the catalogue's reissue price (settlement: straight to review) ⑤ 审核, whose
//! result comes by SMS. A lost token's certificate is frozen at submission. Once approved,
//! the new certificate is downloaded onto the new UKey with a new key pair.

use crate::i18n::td_string;
use crate::router::use_query_map;
use certdesk_shared::agent::{TokenInfo, TokenKind};
use certdesk_shared::apply::{BillingMode, DocumentKind, yuan};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::my_certificates::{CertificateCodeRequest, CertificateCodeSent};
use certdesk_shared::reissue::{ReissueCsr, ReissueNotOpen, ReissueOffer, ReissueReason, StartReissue, VerifyReissue};
use certdesk_shared::request::{RequestStatus, RequestView};
use certdesk_shared::{ErrorCode, FieldError, OtpCode};
use leptos::prelude::*;

use crate::components::fields::{FailureAlert, Field, FormState, Text};
use crate::components::token::{api_problem, pin_problem, pin_request, problem_alert, run_steps, with_tokens};
use crate::components::{tr, use_page_title};
use crate::form::{Load, fill, short_time};
use crate::i18n::use_i18n;
use crate::pages::apply::{Slots, Upload, delivery_fields, doc_text, reasons, slot, values_of};
use crate::routes::Operation;

/// Where a reissue stands, from its request (or none) and what the draft holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Start,
    Upload,
    Verify,
    Delivery,
    Pay,
    Review,
    Download,
    Done,
}

/// The first step of a draft (or a rejected request) not yet done, else the review, the
/// download or the end.
pub fn stage(o: &ReissueOffer) -> Stage {
    let Some(r) = &o.request else { return Stage::Start };
    match r.status {
        // A rejected request goes back to its documents, then straight to review again.
        RequestStatus::Rejected => Stage::Upload,
        RequestStatus::Draft => {
            let verified = o.details.as_ref().is_some_and(|d| d.phone_verified);
            if !o.documents.iter().all(|k| r.documents.iter().any(|d| d.kind == *k)) {
                Stage::Upload
            } else if !verified {
                Stage::Verify
            } else if r.delivery.is_none() {
                Stage::Delivery
            } else {
                Stage::Pay
            }
        }
        RequestStatus::Submitted | RequestStatus::Resubmitted => Stage::Review,
        RequestStatus::Approved | RequestStatus::Issued => Stage::Download,
        RequestStatus::Done | RequestStatus::Withdrawn => Stage::Done,
    }
}

const STEPS: [Text; 6] = [
    |l| td_string!(l, step_3),
    |l| td_string!(l, reissue_step_verify),
    |l| td_string!(l, field_delivery_method),
    |l| td_string!(l, step_6),
    |l| td_string!(l, step_7),
    |l| td_string!(l, reissue_step_download),
];

fn stepper(at: Stage, billing: BillingMode) -> impl IntoView {
    let current = match at {
        Stage::Start | Stage::Upload => 0,
        Stage::Verify => 1,
        Stage::Delivery => 2,
        Stage::Pay => 3,
        Stage::Review => 4,
        Stage::Download | Stage::Done => 5,
    };
    let steps = STEPS
        .iter()
        .enumerate()
        .filter(|(i, _)| !(*i == 3 && billing == BillingMode::Settlement))
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

fn summary(o: &ReissueOffer) -> impl IntoView + use<> {
    view! {
        <table class="details">
            <tbody>
                {row(|l| td_string!(l, renew_common_name), o.common_name.clone())}
                {row(|l| td_string!(l, field_cert_type), o.type_name.clone())}
                {row(|l| td_string!(l, renew_serial), o.serial.clone())}
                {row(|l| td_string!(l, renew_valid_until), short_time(&o.not_after))}
                {row(|l| td_string!(l, renew_medium_no), o.medium_no.clone().unwrap_or_else(|| "—".into()))}
                <tr>
                    <th scope="row">{tr(|l| td_string!(l, col_status))}</th>
                    <td>{tr(crate::pages::my_certificates::status_text(o.status))}</td>
                </tr>
                {row(|l| td_string!(l, reissue_price), format!("{}元", yuan(o.price_fen)))}
            </tbody>
        </table>
    }
}

/// 补办材料要求: what ① asks for, and what happens to a lost token's certificate.
fn requirements(o: &ReissueOffer) -> impl IntoView + use<> {
    let docs = o.documents.iter().map(|k| view! { <li>{tr(doc_text(*k))}</li> }).collect_view();
    let other = o.documents.contains(&DocumentKind::Other);
    view! {
        <section class="callout" aria-labelledby="reissue-requirements">
            <h2 id="reissue-requirements">{tr(|l| td_string!(l, reissue_requirements))}</h2>
            <ul>{docs}</ul>
            {other.then(|| view! { <p>{tr(|l| td_string!(l, reissue_requirements_other))}</p> })}
            <p>{tr(|l| td_string!(l, reissue_lost_note))}</p>
        </section>
    }
}

#[component]
pub fn Reissue() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || Operation::Reissue.title(i18n.get_locale()).to_owned());
    let uid = use_query_map().with_untracked(|q| q.get("uid")).filter(|u| !u.is_empty());
    let offer = RwSignal::new(Load::<ReissueOffer>::Loading);
    let uid = StoredValue::new(uid);
    let reload = move || {
        if let Some(u) = uid.get_value() {
            crate::components::table::load_into::<endpoint::OfferReissue>(offer, &[&u], i18n.get_locale_untracked());
        }
    };
    crate::session::when_signed_in("/reissue", reload);
    view! {
        <h1>{move || Operation::Reissue.title(i18n.get_locale())}</h1>
        <p class="lead">{move || Operation::Reissue.description(i18n.get_locale())}</p>
        {move || match uid.get_value() {
            None => view! {
                <p>
                    {tr(|l| td_string!(l, reissue_pick))}" "
                    <a href="/my-certificates">{tr(|l| td_string!(l, renew_pick_link))}</a>
                </p>
            }.into_any(),
            Some(_) => crate::components::table::loaded(offer, move |o| view! { <Offered o reload=Callback::new(move |()| reload()) /> }.into_any()).into_any(),
        }}
    }
}

#[component]
fn Offered(o: ReissueOffer, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let at = stage(&o);
    let closed = o.not_open.map(|n| {
        let code = match n {
            ReissueNotOpen::NotUkey => ErrorCode::ReissueUkeyOnly,
            ReissueNotOpen::NotValid => ErrorCode::CertificateNotValid,
        };
        view! { <p class="callout" role="status">{move || crate::api::error_message(code, i18n.get_locale())}</p> }
    });
    let request = RwSignal::new(o.request.clone());
    let id = o.request.as_ref().map(|r| r.id.clone()).unwrap_or_default();
    let body = if closed.is_some() {
        None
    } else {
        Some(match at {
            Stage::Start => view! { {requirements(&o)} <Start uid=o.certificate_uid.clone() reload /> }.into_any(),
            Stage::Upload => view! { {requirements(&o)} <Documents o=o.clone() request reload /> }.into_any(),
            Stage::Verify => view! { <Verify o=o.clone() reload /> }.into_any(),
            Stage::Delivery => view! { <Delivery r=o.request.clone() reload /> }.into_any(),
            Stage::Pay => view! { <PayThenSubmit id billing=o.billing reload /> }.into_any(),
            Stage::Review => {
                let lost = o.details.as_ref().is_some_and(|d| d.reason == ReissueReason::Lost);
                view! {
                    <p class="ok" role="status">{tr(|l| td_string!(l, reissue_waiting_review))}</p>
                    {lost.then(|| view! { <p>{tr(|l| td_string!(l, reissue_frozen))}</p> })}
                }
                .into_any()
            }
            Stage::Download => crate::components::lazily(download_reissued(o.clone())),
            Stage::Done => view! { <p class="ok" role="status">{tr(|l| td_string!(l, reissue_done))}</p> }.into_any(),
        })
    };
    let rejected = o.request.as_ref().filter(|r| r.status == RequestStatus::Rejected).map(|r| reasons(&r.reasons));
    let number = o.request.as_ref().and_then(|r| r.acceptance_no.clone());
    let (facts, steps) = (summary(&o), stepper(at, o.billing));
    view! {
        {facts}
        {steps}
        {number.map(|n| view! { <p>{tr(|l| td_string!(l, acceptance_no))}"："{n}</p> })}
        {closed}
        {rejected}
        {body}
    }
}

/// The reason (遗失 / 损坏), which starts the request.
#[component]
fn Start(uid: String, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let reason = RwSignal::new(ReissueReason::Lost);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let uid = StoredValue::new(uid);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = StartReissue { reason: reason.get_untracked() };
        let l = i18n.get_locale_untracked();
        busy.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::StartReissue>(&[&uid.get_value()], &body, l).await {
                Ok(_) => reload.run(()),
                Err(e) => problem.set(Some(api_problem(e, l))),
            }
            busy.set(false);
        });
    };
    let option = move |r: ReissueReason, id: &'static str, text: Text| {
        view! {
            <label for=id>
                <input type="radio" name="reason" id=id prop:checked=move || reason.get() == r on:change=move |_| reason.set(r) />
                " "{tr(text)}
            </label>
        }
    };
    view! {
        <form class="form" novalidate on:submit=submit>
            <fieldset>
                <legend>{tr(|l| td_string!(l, reissue_reason))}</legend>
                {option(ReissueReason::Lost, "reason-lost", |l| td_string!(l, reissue_reason_lost))}
                {option(ReissueReason::Damaged, "reason-damaged", |l| td_string!(l, reissue_reason_damaged))}
            </fieldset>
            {problem_alert(problem)}
            <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, reissue_start))}</button>
        </form>
    }
}

/// ① 资料上传: the documents of the certificate's type, each sent when chosen.
/// After a rejection, the documents fixed, the request goes back to review.
#[component]
fn Documents(o: ReissueOffer, request: RwSignal<Option<RequestView>>, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let fs = FormState::new("reissue");
    let rejected = o.request.as_ref().is_some_and(|r| r.status == RequestStatus::Rejected);
    let id = StoredValue::new(o.request.as_ref().map(|r| r.id.clone()).unwrap_or_default());
    let problem = RwSignal::new(None::<String>);
    let next = move |_| {
        if !rejected {
            return reload.run(());
        }
        let l = i18n.get_locale_untracked();
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::SubmitReissue>(&[&id.get_value()], &(), l).await {
                Ok(_) => reload.run(()),
                Err(e) => problem.set(Some(api_problem(e, l))),
            }
        });
    };
    let wanted = o.documents.clone();
    let uploads = o.documents.iter().map(|k| view! { <Upload kind=*k app=request fs /> }).collect_view();
    let complete = move || {
        request.with(|r| r.as_ref().is_some_and(|r| wanted.iter().all(|k| r.documents.iter().any(|d| d.kind == *k))))
    };
    let failure = fs.failure;
    let form = endpoint::ApplicationForm::path(&[&id.get_value()]);
    view! {
        <div class="form">
            <p><a href=form target="_blank">{tr(|l| td_string!(l, reissue_form_pdf))}</a></p>
            {uploads}
            <FailureAlert failure />
            {problem_alert(problem)}
            <button type="button" class="primary" disabled=move || !complete() on:click=next>
                {tr(if rejected { |l| td_string!(l, step_7) } else { |l| td_string!(l, next) })}
            </button>
        </div>
    }
}

/// ② 短信验证: a code to the certificate's phone of record, shown masked.
#[component]
fn Verify(o: ReissueOffer, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let code = RwSignal::new(String::new());
    let sent = RwSignal::new(None::<CertificateCodeSent>);
    let problem = RwSignal::new(None::<String>);
    let fs = FormState::new("reissue");
    let errors = fs.errors;
    let busy = fs.busy;
    let uid = StoredValue::new(o.certificate_uid.clone());
    let id = StoredValue::new(o.request.as_ref().map(|r| r.id.clone()).unwrap_or_default());
    let send = move |_| {
        let l = i18n.get_locale_untracked();
        problem.set(None);
        leptos::task::spawn_local(async move {
            let body = CertificateCodeRequest { purpose: certdesk_shared::account::CodePurpose::CertificateReissue };
            match crate::api::call::<endpoint::SendCertificateCode>(&[&uid.get_value()], &body, l).await {
                Ok(s) => sent.set(Some(s)),
                Err(e) => problem.set(Some(api_problem(e, l))),
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let req = OtpCode::parse(&code.get_untracked())
            .map(|code| VerifyReissue { code })
            .map_err(|error| vec![FieldError { field: "code".into(), error }]);
        let steps = move |body: VerifyReissue| async move {
            crate::api::call::<endpoint::VerifyReissue>(&[&id.get_value()], &body, l)
                .await
                .map_err(|e| api_problem(e, l))
        };
        run_steps(fs, problem, req, steps, move |_| reload.run(()));
    };
    view! {
        <form class="form" novalidate on:submit=submit>
            <p>{tr(|l| td_string!(l, reissue_phone))}"："<strong>{o.phone_masked.clone()}</strong></p>
            <button type="button" class="secondary" on:click=send>{tr(|l| td_string!(l, code_send))}</button>
            <p class="status" role="status">
                {move || sent.get().map(|s| fill(td_string!(i18n.get_locale(), code_sent), s.valid_for_secs.div_ceil(60)))}
            </p>
            <Field form="reissue" field="code" label=|l| td_string!(l, field_sms_code) value=code errors inputmode="numeric" autocomplete="one-time-code" />
            {problem_alert(problem)}
            <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, next))}</button>
        </form>
    }
}

/// ③ 领取方式: the new UKey by post, or at the counter.
#[component]
fn Delivery(r: Option<RequestView>, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let v: Slots = std::array::from_fn(|_| RwSignal::new(String::new()));
    if let Some(r) = &r {
        let values = values_of(r);
        for (s, value) in v.iter().zip(values) {
            s.set(value);
        }
    }
    if v[slot::METHOD].get_untracked().is_empty() {
        v[slot::METHOD].set("post".into());
    }
    let fs = FormState::new("reissue");
    let problem = RwSignal::new(None::<String>);
    let busy = fs.busy;
    let id = StoredValue::new(r.map(|r| r.id).unwrap_or_default());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let values: crate::pages::apply::Values = std::array::from_fn(|i| v[i].get_untracked());
        let steps = move |body: certdesk_shared::apply::DeliveryInfo| async move {
            crate::api::call::<endpoint::SaveReissueDelivery>(&[&id.get_value()], &body, l)
                .await
                .map_err(|e| api_problem(e, l))
        };
        run_steps(fs, problem, crate::pages::apply::delivery(&values), steps, move |_| reload.run(()));
    };
    view! {
        <form class="form" novalidate on:submit=submit>
            {delivery_fields("reissue", v, fs.errors)}
            {problem_alert(problem)}
            <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, next))}</button>
        </form>
    }
}

/// ④ 扫码缴费, and on to review; a settlement customer submits at once.
#[component]
fn PayThenSubmit(id: String, billing: BillingMode, reload: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let problem = RwSignal::new(None::<String>);
    let request = StoredValue::new(id.clone());
    let submit = move || {
        let l = i18n.get_locale_untracked();
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::SubmitReissue>(&[&request.get_value()], &(), l).await {
                Ok(_) => reload.run(()),
                Err(e) => problem.set(Some(api_problem(e, l))),
            }
        });
    };
    let pay = (billing == BillingMode::ScanToPay).then(|| crate::pages::apply::pay_lazily(id, submit));
    let direct = (billing == BillingMode::Settlement).then(|| {
        view! {
            <p>{tr(|l| td_string!(l, reissue_settlement))}</p>
            <button type="button" class="primary" on:click=move |_| submit()>{tr(|l| td_string!(l, step_7))}</button>
        }
    });
    view! {
        {pay}
        {direct}
        {problem_alert(problem)}
    }
}

/// The UKeys the agent sees other than the lost or damaged one; the first is chosen.
fn find_new_tokens(
    found: RwSignal<Option<Result<Vec<TokenInfo>, crate::agent::AgentError>>>,
    medium_no: RwSignal<String>,
    old: Option<String>,
) {
    leptos::task::spawn_local(async move {
        let list = crate::agent::tokens().await.map(|l| {
            l.into_iter()
                .filter(|t| t.kind == TokenKind::Ukey && Some(&t.medium_no) != old.as_ref())
                .collect::<Vec<_>>()
        });
        if let Ok(l) = &list
            && !l.iter().any(|t| t.medium_no == medium_no.get_untracked())
        {
            medium_no.set(l.first().map(|t| t.medium_no.clone()).unwrap_or_default());
        }
        found.set(Some(list));
    });
}

/// 证书下载: a new key pair on the new UKey, the certificate stored there. A chunk of its own,
/// as 证书延期's is.
#[leptos::lazy]
fn download_reissued(o: ReissueOffer) -> AnyView {
    view! { <DownloadReissued o /> }.into_any()
}

#[component]
fn DownloadReissued(o: ReissueOffer) -> impl IntoView {
    let i18n = use_i18n();
    let medium_no = RwSignal::new(String::new());
    let pin = RwSignal::new(String::new());
    let found = RwSignal::new(None);
    let old = StoredValue::new(o.medium_no.clone());
    let find = move || find_new_tokens(found, medium_no, old.get_value());
    find();
    let problem = RwSignal::new(None::<String>);
    let finished = RwSignal::new(false);
    let fs = FormState::new("reissue");
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
            let body = ReissueCsr { csr_pem, medium_no: m.clone(), medium_kind: TokenKind::Ukey };
            let issued = crate::api::call::<endpoint::IssueReissue>(&[&id.get_value()], &body, l)
                .await
                .map_err(|e| api_problem(e, l))?;
            crate::agent::store_certificate(&m, &p, &issued.pem, issued.chain_pem)
                .await
                .map_err(|e| pin_problem(&e, l))?;
            crate::api::call::<endpoint::FinishReissue>(&[&id.get_value()], &(), l).await.map_err(|e| api_problem(e, l))
        };
        run_steps(fs, problem, pin_request(&pin.get_untracked()), steps, move |_| {
            pin.set(String::new());
            finished.set(true);
        });
    };
    view! {
        {move || if finished.get() {
            view! {
                <p class="ok" role="status">{tr(|l| td_string!(l, reissue_done))}</p>
                <p><a class="button" href="/my-certificates">{tr(|l| td_string!(l, my_certificates))}</a></p>
            }.into_any()
        } else {
            view! {
                <p>{tr(|l| td_string!(l, reissue_download_intro))}</p>
                {with_tokens(found, find, move |list| {
                    if list.is_empty() {
                        return view! {
                            <p class="callout" role="alert">{tr(|l| td_string!(l, reissue_no_new_token))}</p>
                            <button type="button" class="secondary" on:click=move |_| find()>{tr(|l| td_string!(l, refresh))}</button>
                        }.into_any();
                    }
                    view! {
                        <form class="form" novalidate on:submit=submit>
                            {crate::components::token::token_select("reissue-medium_no", list, medium_no)}
                            <Field form="reissue" field="pin" label=|l| td_string!(l, token_pin) value=pin errors input_type="password" />
                            {problem_alert(problem)}
                            <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, reissue_download_submit))}</button>
                        </form>
                    }.into_any()
                })}
            }.into_any()
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(status: Option<&str>, docs: &[&str], verified: bool, delivery: bool) -> ReissueOffer {
        let request = status.map(|s| {
            serde_json::json!({
                "id": "r", "kind": "reissue", "acceptance_no": null, "status": s, "step": 1,
                "choose_type": null, "certificate_info": null,
                "documents": docs.iter().map(|k| serde_json::json!({
                    "kind": k, "file_name": "f", "file_type": "pdf", "size": 1, "sha256": "x"
                })).collect::<Vec<_>>(),
                "operator": null,
                "delivery": if delivery { serde_json::json!({ "method": "counter" }) } else { serde_json::Value::Null },
                "price_fen": 5000, "billing": "scan_to_pay", "reasons": [], "created_at": "", "submitted_at": null,
                "certificate_uid": null
            })
        });
        serde_json::from_value(serde_json::json!({
            "certificate_uid": "u", "common_name": "c", "profile": "org_sign", "type_name": "机构证书",
            "status": "valid", "medium": "ukey", "medium_no": "UKEY-1", "serial": "0A", "not_after": "",
            "not_open": null, "price_fen": 5000, "billing": "scan_to_pay",
            "documents": ["business_licence", "operator_id"], "phone_masked": "151****9192",
            "request": request,
            "details": status.map(|_| serde_json::json!({ "reason": "lost", "phone_verified": verified })),
            "paid": false
        }))
        .unwrap()
    }

    #[test]
    fn each_step_follows_what_the_draft_holds() {
        let both = ["business_licence", "operator_id"];
        assert_eq!(stage(&offer(None, &[], false, false)), Stage::Start);
        assert_eq!(stage(&offer(Some("draft"), &["business_licence"], false, false)), Stage::Upload);
        assert_eq!(stage(&offer(Some("draft"), &both, false, false)), Stage::Verify);
        assert_eq!(stage(&offer(Some("draft"), &both, true, false)), Stage::Delivery);
        assert_eq!(stage(&offer(Some("draft"), &both, true, true)), Stage::Pay);
        assert_eq!(stage(&offer(Some("rejected"), &both, true, true)), Stage::Upload);
        assert_eq!(stage(&offer(Some("submitted"), &both, true, true)), Stage::Review);
        assert_eq!(stage(&offer(Some("approved"), &both, true, true)), Stage::Download);
        assert_eq!(stage(&offer(Some("issued"), &both, true, true)), Stage::Download);
        assert_eq!(stage(&offer(Some("done"), &both, true, true)), Stage::Done);
    }
}
