//! UKey登录 and PC软盾登录 (seed 004 §4.1.2, §5.1.2, §4.2.2): the token agent lists the
//! tokens of the kind; the user picks one and types its PIN; the server's one-time challenge is signed on the token with the
//! certificate's key, and the server signs in the account that certificate was issued to.
//! The PIN goes to the agent only.

use crate::i18n::td_string;
use certdesk_shared::account::FinishCertificateSignIn;
use certdesk_shared::agent::{TokenCertificate, TokenKind};
use certdesk_shared::endpoint;
use leptos::prelude::*;

use crate::components::fields::{Field, FormState};
use crate::components::token::{
    Offer, api_problem, find_tokens, pin_request, problem_alert, run_steps, sign_challenge, token_select, with_tokens,
};
use crate::components::tr;
use crate::i18n::use_i18n;

#[component]
pub fn TokenSignIn(next: String, kind: TokenKind) -> impl IntoView {
    let i18n = use_i18n();
    let session = crate::session::use_session();
    let navigate = crate::router::use_navigate();
    let found = RwSignal::new(None);
    let medium_no = RwSignal::new(String::new());
    let certificate = RwSignal::new(None::<TokenCertificate>);
    let pin = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let find = move || find_tokens(found, medium_no, Offer::Only(kind));
    find();
    // The chosen token's certificate with a key (the one to sign in with); after a renewal,
    // the successor, which runs longest.
    Effect::new(move |_| {
        let m = medium_no.get();
        if m.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            let list = crate::agent::certificates(&m).await.unwrap_or_default();
            certificate.set(list.into_iter().filter(|c| c.has_key).max_by_key(|c| c.not_after));
        });
    });
    let fs = FormState::new("token-sign-in");
    let (errors, busy) = (fs.errors, fs.busy);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let Some(cert) = certificate.get_untracked() else {
            return problem.set(Some(td_string!(l, token_no_certificate).to_owned()));
        };
        let p = pin.get_untracked();
        let req = pin_request(&p);
        let (m, next, navigate) = (medium_no.get_untracked(), next.clone(), navigate.clone());
        let steps = move |_| async move {
            let (challenge_id, signed) =
                sign_challenge::<endpoint::StartCertificateSignIn>(&m, &p, &cert.sha256, l).await?;
            let req = FinishCertificateSignIn {
                challenge_id,
                certificate_pem: signed.certificate_pem,
                signature: signed.signature,
            };
            crate::api::call::<endpoint::FinishCertificateSignIn>(&[], &req, l).await.map_err(|e| api_problem(e, l))
        };
        run_steps(fs, problem, req, steps, move |info| {
            pin.set(String::new());
            session.signed_in(info);
            navigate(&next, Default::default());
        });
    };
    with_tokens(found, find, move |list| {
        let submit = submit.clone();
        view! {
            <form class="form" novalidate on:submit=submit>
                {token_select("token-sign-in-medium", list, medium_no)}
                <Field form="token-sign-in" field="pin" label=|l| td_string!(l, token_pin) value=pin errors input_type="password" />
                {problem_alert(problem)}
                <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, sign_in_now))}</button>
            </form>
        }
        .into_any()
    })
}
