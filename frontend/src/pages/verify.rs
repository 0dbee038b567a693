//! 证书校验 (seed 004 §10): 读取证书 reads the certificate from the inserted token; after the
//! PIN, 校验证书 has the token sign a one-time challenge and the server checks the chain,
//! the validity period, revocation through our OCSP responder, and possession of the key.
//! Each check is shown with its result, then 证书校验通过 (or not).

use crate::i18n::td_string;
use certdesk_shared::agent::TokenCertificate;
use certdesk_shared::directory::{CheckOutcome, VerificationCheck, VerificationReport, VerifyCertificate};
use certdesk_shared::endpoint;
use leptos::prelude::*;

use crate::components::fields::{Field, FormState};
use crate::components::token::{
    Offer, api_problem, find_tokens, pin_problem, pin_request, problem_alert, run_steps, sign_challenge, token_select,
    with_tokens,
};
use crate::components::{tr, use_page_title};
use crate::i18n::{Locale, use_i18n};
use crate::routes::Operation;

fn check_name(c: VerificationCheck, l: Locale) -> &'static str {
    match c {
        VerificationCheck::Chain => td_string!(l, verify_chain),
        VerificationCheck::Validity => td_string!(l, verify_validity),
        VerificationCheck::Revocation => td_string!(l, verify_revocation),
        VerificationCheck::Possession => td_string!(l, verify_possession),
    }
}

fn outcome_text(o: CheckOutcome, l: Locale) -> &'static str {
    match o {
        CheckOutcome::Passed => td_string!(l, verify_passed),
        CheckOutcome::NotOurs => td_string!(l, verify_not_ours),
        CheckOutcome::NotYetValid => td_string!(l, verify_not_yet_valid),
        CheckOutcome::Expired => td_string!(l, verify_expired),
        CheckOutcome::Good => td_string!(l, verify_good),
        CheckOutcome::Revoked => td_string!(l, verify_revoked),
        CheckOutcome::Unknown => td_string!(l, verify_unknown),
        CheckOutcome::SignatureInvalid => td_string!(l, verify_signature_invalid),
    }
}

fn report_view(r: VerificationReport) -> impl IntoView {
    let i18n = use_i18n();
    let passed = r.passed;
    view! {
        <section class="verification" aria-labelledby="verify-result">
            <h2 id="verify-result" class=if passed { "result pass" } else { "result fail" }>
                {tr(if passed { |l| td_string!(l, verify_all_passed) } else { |l| td_string!(l, verify_failed) })}
            </h2>
            <dl class="details">
                <dt>{tr(|l| td_string!(l, col_subject_dn))}</dt><dd>{r.subject.clone()}</dd>
                <dt>{tr(|l| td_string!(l, col_serial))}</dt><dd>{r.serial.clone()}</dd>
                <dt>{tr(|l| td_string!(l, col_validity))}</dt><dd>{crate::pages::search::period(Some(&r.not_before), Some(&r.not_after))}</dd>
            </dl>
            <table class="env-table">
                {crate::pages::env_check::item_result_head()}
                <tbody>
                    {r.checks
                        .into_iter()
                        .map(|c| view! {
                            <tr>
                                <th scope="row">{move || check_name(c.check, i18n.get_locale())}</th>
                                <td class=if c.passed { "result pass" } else { "result fail" }>{move || outcome_text(c.outcome, i18n.get_locale())}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
pub fn Verify() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || Operation::Verify.title(i18n.get_locale()).to_owned());
    let [medium_no, pin] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let found = RwSignal::new(None);
    let find = move || find_tokens(found, medium_no, Offer::All);
    find();
    // 读取证书: the chosen token's certificate with a key (`Some(None)`: none on it).
    let read = RwSignal::new(None::<Option<TokenCertificate>>);
    let report = RwSignal::new(None::<VerificationReport>);
    let problem = RwSignal::new(None::<String>);
    let read_certificate = move |_| {
        problem.set(None);
        report.set(None);
        let m = medium_no.get_untracked();
        let l = i18n.get_locale_untracked();
        leptos::task::spawn_local(async move {
            match crate::agent::certificates(&m).await {
                Ok(list) => read.set(Some(list.into_iter().filter(|c| c.has_key).max_by_key(|c| c.not_after))),
                Err(e) => problem.set(Some(pin_problem(&e, l))),
            }
        });
    };
    let fs = FormState::new("verify");
    let (errors, busy) = (fs.errors, fs.busy);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(Some(cert)) = read.get_untracked() else { return };
        let p = pin.get_untracked();
        let req = pin_request(&p);
        let (m, l) = (medium_no.get_untracked(), i18n.get_locale_untracked());
        let steps = move |_| async move {
            let (challenge_id, signed) = sign_challenge::<endpoint::StartVerification>(&m, &p, &cert.sha256, l).await?;
            let req = VerifyCertificate {
                challenge_id,
                certificate_pem: signed.certificate_pem,
                signature: signed.signature,
            };
            crate::api::call::<endpoint::VerifyCertificate>(&[], &req, l).await.map_err(|e| api_problem(e, l))
        };
        run_steps(fs, problem, req, steps, move |r| {
            pin.set(String::new());
            report.set(Some(r));
        });
    };
    view! {
        <h1>{move || Operation::Verify.title(i18n.get_locale())}</h1>
        <p class="lead">{tr(|l| td_string!(l, verify_intro))}</p>
        {with_tokens(found, find, move |list| {
            view! {
                <form class="form" novalidate on:submit=submit>
                    {token_select("verify-medium_no", list, medium_no)}
                    <button type="button" class="secondary" on:click=read_certificate>{tr(|l| td_string!(l, verify_read))}</button>
                    {move || match read.get() {
                        None => ().into_any(),
                        Some(None) => view! { <p class="alert" role="alert">{tr(|l| td_string!(l, token_no_certificate))}</p> }.into_any(),
                        Some(Some(c)) => view! {
                            <dl class="details certificate-read">
                                <dt>{tr(|l| td_string!(l, acceptance_no))}</dt><dd>{c.label.clone()}</dd>
                                <dt>{tr(|l| td_string!(l, ca_fingerprint))}</dt><dd class="mono">{c.sha256.clone()}</dd>
                            </dl>
                            <Field form="verify" field="pin" label=|l| td_string!(l, token_pin) value=pin errors input_type="password" />
                            <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, verify_submit))}</button>
                        }.into_any(),
                    }}
                    {problem_alert(problem)}
                </form>
            }
            .into_any()
        })}
        {move || report.get().map(report_view)}
    }
}
