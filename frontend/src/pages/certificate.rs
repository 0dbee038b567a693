//! A certificate's page (seed 000 steps 6–8): name, e-mail (masked), status, validity,
//! class, subject and serial; downloads as PEM and DER; and 撤销: the challenge phrase
//! chosen when applying and a reason from RFC 5280's list, and the CA revokes at once.

use crate::i18n::td_string;
use certdesk_shared::FieldError;
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::directory::{
    CertificateDetail, HOLDER_REASONS, PublicStatus, SelfRevocation, check_challenge_phrase_entered,
};
use certdesk_shared::endpoint::{self, Endpoint};
use leptos::prelude::*;

use crate::components::fields::{FailureAlert, Field, FormState};
use crate::components::table::{load_into, loaded};
use crate::components::{tr, use_page_title};
use crate::form::{Load, short_time};
use crate::i18n::use_i18n;
use crate::pages::search::{period, profile_text, public_status_text, reason_text};

fn row(label: crate::components::fields::Text, value: impl IntoView + 'static) -> impl IntoView {
    view! { <tr><th scope="row">{tr(label)}</th><td>{value}</td></tr> }
}

#[component]
pub fn Certificate(uid: String) -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), certificate_title).to_owned());
    let detail = RwSignal::new(Load::<CertificateDetail>::Loading);
    load_into::<endpoint::CertificateDetail>(detail, &[&uid], i18n.get_locale_untracked());
    let revoking = RwSignal::new(false);
    let revoked_now = RwSignal::new(false);
    view! {
        <h1>{tr(|l| td_string!(l, certificate_title))}</h1>
        {loaded(detail, move |d| {
            let uid = d.uid.clone();
            let live = matches!(d.status, PublicStatus::Valid | PublicStatus::Suspended | PublicStatus::Expired);
            view! {
                <table class="data details">
                    <tbody>
                        {row(|l| td_string!(l, col_common_name), d.name.clone())}
                        {row(|l| td_string!(l, search_email), d.email.clone().unwrap_or_else(|| "—".into()))}
                        {row(|l| td_string!(l, col_status), view! { <strong class="status">{tr(public_status_text(d.status))}</strong> })}
                        {row(|l| td_string!(l, col_validity), period(Some(&d.not_before), Some(&d.not_after)))}
                        {row(|l| td_string!(l, col_class), tr(profile_text(d.profile)))}
                        {row(|l| td_string!(l, col_subject_dn), d.subject.clone())}
                        {row(|l| td_string!(l, col_serial), view! { <code>{d.serial.clone()}</code> })}
                        {d.revoked_at.clone().map(|at| row(|l| td_string!(l, col_revoked_at), short_time(&at)))}
                        {d.reason.map(|r| row(|l| td_string!(l, col_reason), tr(reason_text(r))))}
                    </tbody>
                </table>
                <div class="actions">
                    <a class="button" href=endpoint::CertificateFile::path(&[&format!("{uid}.pem")]) download>{tr(|l| td_string!(l, download_pem))}</a>
                    <a class="button" href=endpoint::CertificateFile::path(&[&format!("{uid}.der")]) download>{tr(|l| td_string!(l, download_der))}</a>
                    {live.then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| revoking.set(true)>{tr(|l| td_string!(l, revoke))}</button>
                    })}
                </div>
                {move || revoked_now.get().then(|| view! {
                    <p class="callout success" role="status">{tr(|l| td_string!(l, revoke_done))}</p>
                })}
                {move || (revoking.get() && !revoked_now.get()).then(|| revoke_form(uid.clone(), detail, revoked_now))}
            }
            .into_any()
        })}
        <p><a href="/search">{tr(|l| td_string!(l, search_new))}</a></p>
    }
}

fn revoke_form(uid: String, detail: RwSignal<Load<CertificateDetail>>, revoked_now: RwSignal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    let phrase = RwSignal::new(String::new());
    let reason = RwSignal::new(RevocationReason::Unspecified);
    let fs = FormState::new("revoke");
    let errors = fs.errors;
    let (failure, busy) = (fs.failure, fs.busy);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let p = phrase.get_untracked();
        let req = match check_challenge_phrase_entered(&p) {
            Ok(()) => Ok(SelfRevocation { challenge_phrase: p, reason: reason.get_untracked() }),
            Err(error) => Err(vec![FieldError { field: "challenge_phrase".into(), error }]),
        };
        let uid = uid.clone();
        let l = i18n.get_locale_untracked();
        fs.submit(
            req,
            move |r| async move { crate::api::call::<endpoint::RevokeByChallengePhrase>(&[&uid], &r, l).await },
            move |d| {
                detail.set(Load::Ready(d));
                revoked_now.set(true);
            },
        );
    };
    view! {
        <section class="panel" aria-labelledby="revoke-title">
            <h2 id="revoke-title">{tr(|l| td_string!(l, revoke_title))}</h2>
            <p>{tr(|l| td_string!(l, revoke_intro))}</p>
            <form class="form" novalidate on:submit=submit>
                <Field form="revoke" field="challenge_phrase" label=|l| td_string!(l, challenge_phrase) value=phrase errors input_type="password" />
                <div class="field">
                    <label for="revoke-reason">{tr(|l| td_string!(l, col_reason))}</label>
                    <select id="revoke-reason" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(r) = HOLDER_REASONS.into_iter().find(|r| r.code().to_string() == v) {
                            reason.set(r);
                        }
                    }>
                        {HOLDER_REASONS.into_iter().map(|r| view! { <option value=r.code().to_string()>{tr(reason_text(r))}</option> }).collect_view()}
                    </select>
                </div>
                <FailureAlert failure />
                <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, revoke_submit))}</button>
            </form>
        </section>
    }
}
