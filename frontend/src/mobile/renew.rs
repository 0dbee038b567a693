//! 证书更新(延期) (`/m/renew?id=`; seed 004 §4.2.5: a soft shield's renewal is downloaded
//! inside the shield). The renewal is applied for (and paid) on the portal's 证书延期; once
//! approved, the app downloads it: a new key made on the phone, its CSR signed by the current
//! key (opened with the PIN, which the server counts), the renewed certificate sealed under the
//! same shield secret and stored in place of the old one, then the server told, which
//! supersedes the old certificate. A phone that stored the new certificate but could not tell
//! the server only tells it again.

use crate::i18n::td_string;
use crate::router::use_query_map;
use certdesk_shared::FieldError;
use certdesk_shared::Pin;
use certdesk_shared::endpoint;
use certdesk_shared::shield::{ShieldRenew, ShieldRenewFinish, ShieldRenewed, ShieldStatus, renewal_message};
use certdesk_shared::shield_keys::{self, ShieldFile};
use leptos::prelude::*;

use super::{Asked, Later, Problem, Shields, cert, open, problem_alert, status, use_shields};
use crate::components::fields::{Field, FormState};
use crate::components::{tr, use_page_title};
use crate::form::fill;
use crate::i18n::{Locale, use_i18n};

/// Whether the phone already keeps the renewed certificate (stored, the server not yet told).
pub fn stored_already(f: &ShieldFile, s: &ShieldStatus) -> bool {
    f.uid != s.uid
}

/// The renewed certificate, kept in place of the old one: the new key sealed under the same
/// shield secret, the device key and PIN salt unchanged.
pub fn renewed_file(old: &ShieldFile, secret: &[u8], key: &p256::ecdsa::SigningKey, r: ShieldRenewed) -> ShieldFile {
    ShieldFile {
        sealed_key: shield_keys::seal(secret, &old.shield_id, key),
        uid: r.uid,
        certificate_pem: r.certificate_pem,
        ..old.clone()
    }
}

/// [`download_renewed`] as the page calls it: the new key, the CSR and the sealing are a chunk
/// of the wasm, fetched at the submit. The app's route table passes it
/// (`mobile::renewed_download`), so that its loader is in the main module: a lazy function
/// called only from inside another (the page's) is refused.
pub type RenewedDownload = fn(ShieldFile, String, Option<Pin>, Shields, Locale) -> Later<Result<ShieldStatus, Problem>>;

/// Downloads renewal `request_id` into shield `f`: with the PIN, a new key, its CSR signed by
/// the current key, the renewed certificate stored in place of the old one; without (it is
/// stored already), only the server told.
pub async fn download_renewed(
    f: ShieldFile,
    request_id: String,
    pin: Option<Pin>,
    shields: Shields,
    l: Locale,
) -> Result<ShieldStatus, Problem> {
    if let Some(p) = pin {
        let (current, secret) = open(&f, p.as_str(), l).await?;
        let key = shield_keys::new_key();
        let csr_pem = shield_keys::csr_pem(&key).map_err(|_| Problem::KeyBroken)?;
        let message = renewal_message(&f.shield_id, &request_id, &csr_pem);
        let req = ShieldRenew {
            shield_id: f.shield_id.clone(),
            device_key: f.device_key.clone(),
            request_id: request_id.clone(),
            signature: shield_keys::sign(&current, &message),
            csr_pem,
        };
        let renewed: ShieldRenewed = crate::api::call::<endpoint::RenewShield>(&[], &req, l).await?;
        shields
            .add(renewed_file(&f, &secret, &key, renewed))
            .map_err(|()| Problem::Text(|l| td_string!(l, m_storage_failed)))?;
    }
    let req = ShieldRenewFinish { shield_id: f.shield_id.clone(), device_key: f.device_key.clone(), request_id };
    Ok(crate::api::call::<endpoint::FinishShieldRenewal>(&[], &req, l).await?)
}

#[component]
pub fn Renew(download: RenewedDownload) -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), m_renew).to_owned());
    let shields = use_shields();
    let id = use_query_map().with_untracked(|q| q.get("id")).unwrap_or_default();
    let id = StoredValue::new(id);
    let asked = RwSignal::new(Asked::Asking);
    if let Some(f) = shields.get(&id.get_value()) {
        leptos::task::spawn_local(async move {
            let s = status(&f, i18n.get_locale_untracked()).await;
            asked.set(s.map(Asked::Answered).unwrap_or(Asked::Offline));
        });
    }
    let pin = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Problem>);
    let done = RwSignal::new(false);
    let fs = FormState::new("m-renew");
    let errors = fs.errors;

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let Some(f) = shields.get(&id.get_value()) else { return };
        let Asked::Answered(s) = asked.get_untracked() else { return };
        let Some(r) = s.renewal.clone() else { return };
        let resume = stored_already(&f, &s);
        let p = if resume {
            None
        } else {
            match Pin::parse(&pin.get_untracked()) {
                Ok(p) => Some(p),
                Err(error) => return fs.refuse(vec![FieldError { field: "pin".into(), error }]),
            }
        };
        fs.begin();
        problem.set(None);
        leptos::task::spawn_local(async move {
            let res = download(f, r.request_id, p, shields, l).await;
            fs.busy.set(false);
            pin.set(String::new());
            match res {
                Ok(s) => {
                    asked.set(Asked::Answered(s));
                    done.set(true);
                }
                Err(p) => problem.set(Some(p)),
            }
        });
    };

    let body = move || {
        let Some(f) = shields.get(&id.get_value()) else {
            return view! {
                <p class="callout">{tr(|l| td_string!(l, m_no_certificate))}" "<a href="/m/download">{tr(|l| td_string!(l, m_download))}</a></p>
            }
            .into_any();
        };
        if done.get() {
            return view! {
                <p class="big-ok" role="status">{tr(|l| td_string!(l, m_renewed))}</p>
                <p><a class="button primary" href="/m/">{tr(|l| td_string!(l, m_my_certificates))}</a></p>
            }
            .into_any();
        }
        let s = match asked.get() {
            Asked::Asking => return view! { <p class="muted">"…"</p> }.into_any(),
            Asked::Offline => {
                return view! { <p class="callout">{tr(|l| td_string!(l, m_state_unknown))}</p> }.into_any();
            }
            Asked::Answered(s) => s,
        };
        let Some(r) = s.renewal.clone() else {
            return view! { <p class="callout">{tr(|l| td_string!(l, m_renew_none))}</p> }.into_any();
        };
        let resume = stored_already(&f, &s);
        let info = cert::info(&f.certificate_pem);
        let years = r.years;
        view! {
            <form class="form" novalidate on:submit=submit>
                <dl class="cert-panel">
                    {info.map(|i| view! {
                        <div><dt>{tr(|l| td_string!(l, col_common_name))}</dt><dd>{i.common_name}</dd></div>
                        <div><dt>{tr(|l| td_string!(l, panel_not_after))}</dt><dd>{i.not_after}</dd></div>
                    })}
                    <div><dt>{tr(|l| td_string!(l, acceptance_no))}</dt><dd>{r.acceptance_no.clone().unwrap_or_default()}</dd></div>
                    <div><dt>{tr(|l| td_string!(l, renew_period))}</dt><dd>{move || fill(td_string!(i18n.get_locale(), m_years), years)}</dd></div>
                    <div><dt>{tr(|l| td_string!(l, panel_medium_no))}</dt><dd><code>{f.shield_id.clone()}</code></dd></div>
                </dl>
                {(!resume).then(|| view! {
                    <Field form="m-renew" field="pin" label=|l| td_string!(l, token_pin) value=pin errors input_type="password" inputmode="text" autocomplete="off" />
                })}
                {problem_alert(problem, move || id.get_value())}
                <button type="submit" class="primary" disabled=move || fs.busy.get()>{tr(|l| td_string!(l, m_renew_submit))}</button>
            </form>
        }
        .into_any()
    };

    view! {
        <h1>{tr(|l| td_string!(l, m_renew))}</h1>
        <p class="lead">{tr(|l| td_string!(l, m_renew_intro))}</p>
        {body}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> ShieldFile {
        let key = shield_keys::new_key();
        ShieldFile {
            shield_id: "MS0123456789".into(),
            uid: "old".into(),
            certificate_pem: String::new(),
            sealed_key: shield_keys::seal(&[7; 32], "MS0123456789", &key),
            device_key: "d".into(),
            pin_salt: "s".into(),
        }
    }

    #[test]
    fn the_renewed_file_keeps_the_shield_and_opens_with_the_same_secret() {
        let old = file();
        let key = shield_keys::new_key();
        let r = ShieldRenewed { uid: "new".into(), certificate_pem: "PEM".into() };
        let new = renewed_file(&old, &[7; 32], &key, r);
        assert_eq!(
            (new.shield_id.as_str(), new.device_key.as_str(), new.pin_salt.as_str()),
            ("MS0123456789", "d", "s")
        );
        assert_eq!((new.uid.as_str(), new.certificate_pem.as_str()), ("new", "PEM"));
        let opened = shield_keys::unseal(&[7; 32], "MS0123456789", &new.sealed_key).unwrap();
        assert_eq!(opened.verifying_key(), key.verifying_key());
        assert!(shield_keys::unseal(&[8; 32], "MS0123456789", &new.sealed_key).is_none());
    }

    #[test]
    fn a_phone_holding_the_renewed_certificate_only_tells_the_server() {
        let f = file();
        let s = |uid: &str| ShieldStatus {
            shield_id: f.shield_id.clone(),
            uid: uid.into(),
            state: certdesk_shared::shield::ShieldState::Active,
            tries_left: 10,
            renewal: None,
        };
        assert!(!stored_already(&f, &s("old")));
        assert!(stored_already(&f, &s("new")));
    }
}
