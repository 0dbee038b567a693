//! 远程下载 (`/m/download`): the acceptance number and the download authorization code show
//! what will be issued (a mobile-shield application only); the PIN is set twice; then the
//! phone makes its key, CSR, device key and PIN salt, `POST /api/shield/enrol`, seals the key
//! under the secret answered and stores the [`ShieldFile`]. The secret and the key are then
//! forgotten.

use crate::i18n::td_string;
use certdesk_shared::apply::{DownloadInfo, DownloadQuery, Medium};
use certdesk_shared::endpoint;
use certdesk_shared::shield::{ShieldEnrol, ShieldEnrolled};
use certdesk_shared::shield_keys::{self, ShieldFile};
use certdesk_shared::{ApiError, ErrorCode, FieldError, ValidationError};
use leptos::prelude::*;

use super::{Problem, new_pin, problem_alert, use_shields};
use crate::components::fields::{Field, FormState};
use crate::components::{tr, use_page_title};
use crate::form::{check, fill, required};
use crate::i18n::{Locale, use_i18n};

/// The query as typed: both required, the code 8 digits (as the portal's download checks).
pub fn query(acceptance_no: &str, auth_code: &str) -> Result<DownloadQuery, Vec<FieldError>> {
    let mut e = Vec::new();
    let no = check(&mut e, "acceptance_no", required(acceptance_no));
    let code = auth_code.trim();
    if !(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit())) {
        e.push(FieldError { field: "auth_code".into(), error: ValidationError::AuthCodeFormat });
    }
    match no {
        Some(acceptance_no) if e.is_empty() => Ok(DownloadQuery { acceptance_no, auth_code: code.to_owned() }),
        _ => Err(e),
    }
}

/// Only a mobile-shield application downloads here; any other is refused with the server's
/// own text for it.
pub fn for_this_app(info: DownloadInfo) -> Result<DownloadInfo, ApiError> {
    if info.medium == Medium::MobileShield { Ok(info) } else { Err(ApiError::local(ErrorCode::MediumMismatch)) }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Progress {
    Idle,
    Key,
    Issue,
    Store,
    Done,
}

impl Progress {
    fn text(self, l: Locale) -> &'static str {
        match self {
            Progress::Idle => "",
            Progress::Key => td_string!(l, m_step_key),
            Progress::Issue => td_string!(l, m_step_issue),
            Progress::Store => td_string!(l, m_step_store),
            Progress::Done => td_string!(l, m_downloaded),
        }
    }
}

#[component]
pub fn Download() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), m_download).to_owned());
    let shields = use_shields();
    let [acceptance_no, auth_code, pin, pin_again] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let info = RwSignal::new(None::<(DownloadQuery, DownloadInfo)>);
    let progress = RwSignal::new(Progress::Idle);
    let problem = RwSignal::new(None::<Problem>);
    let fs = FormState::new("m-download");
    let errors = fs.errors;

    let find = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        problem.set(None);
        info.set(None);
        progress.set(Progress::Idle);
        fs.submit(
            query(&acceptance_no.get_untracked(), &auth_code.get_untracked()),
            move |q: DownloadQuery| async move {
                let found = crate::api::call::<endpoint::GetDownloadInfo>(&[], &q, l).await?;
                for_this_app(found).map(|i| (q, i))
            },
            move |found| info.set(Some(found)),
        );
    };

    let download = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let Some((q, _)) = info.get_untracked() else { return };
        let chosen = match new_pin(&pin.get_untracked(), &pin_again.get_untracked()) {
            Ok(p) => p,
            Err(e) => return fs.refuse(e),
        };
        fs.begin();
        problem.set(None);
        progress.set(Progress::Key);
        leptos::task::spawn_local(async move {
            let res = async {
                let key = shield_keys::new_key();
                let csr_pem = shield_keys::csr_pem(&key).map_err(|_| Problem::Text(|l| td_string!(l, m_key_broken)))?;
                let device_key = shield_keys::random_bytes(32);
                let salt = shield_keys::random_bytes(16);
                let pin_key = shield_keys::pin_key(chosen.as_str(), &salt);
                progress.set(Progress::Issue);
                let req = ShieldEnrol {
                    acceptance_no: q.acceptance_no.clone(),
                    auth_code: q.auth_code.clone(),
                    csr_pem,
                    device_key: shield_keys::b64(&device_key),
                    pin_key: shield_keys::b64(&pin_key),
                };
                let done: ShieldEnrolled = crate::api::call::<endpoint::EnrolShield>(&[], &req, l).await?;
                progress.set(Progress::Store);
                let secret = shield_keys::unb64(&done.secret).ok_or(Problem::KeyBroken)?;
                let file = ShieldFile {
                    sealed_key: shield_keys::seal(&secret, &done.shield_id, &key),
                    shield_id: done.shield_id,
                    uid: done.uid,
                    certificate_pem: done.certificate_pem,
                    device_key: req.device_key,
                    pin_salt: shield_keys::b64(&salt),
                };
                shields.add(file).map_err(|()| Problem::Text(|l| td_string!(l, m_storage_failed)))?;
                super::store::ask_persist();
                Ok::<_, Problem>(())
            }
            .await;
            fs.busy.set(false);
            pin.set(String::new());
            pin_again.set(String::new());
            match res {
                Ok(()) => {
                    progress.set(Progress::Done);
                    info.set(None);
                    auth_code.set(String::new());
                }
                Err(p) => {
                    progress.set(Progress::Idle);
                    problem.set(Some(p));
                }
            }
        });
    };

    view! {
        <h1>{tr(|l| td_string!(l, m_download))}</h1>
        <p class="lead">{tr(|l| td_string!(l, m_download_intro))}</p>
        <form class="form" novalidate on:submit=find>
            <Field form="m-download" field="acceptance_no" label=|l| td_string!(l, acceptance_no) value=acceptance_no errors />
            <Field form="m-download" field="auth_code" label=|l| td_string!(l, auth_code) value=auth_code errors inputmode="numeric" autocomplete="one-time-code" />
            {move || info.get().is_none().then(|| view! { <crate::components::fields::FailureAlert failure=fs.failure /> })}
            <button type="submit" class="secondary" disabled=move || fs.busy.get()>{tr(|l| td_string!(l, m_query))}</button>
        </form>
        {move || info.get().map(|(_, i)| {
            let profile = crate::pages::search::profile_text(Some(i.profile));
            let years = i.validity_years;
            view! {
                <form class="form" novalidate on:submit=download>
                    <h2>{tr(|l| td_string!(l, m_will_issue))}</h2>
                    <dl class="cert-panel">
                        <div><dt>{tr(|l| td_string!(l, col_common_name))}</dt><dd>{i.common_name.clone()}</dd></div>
                        <div><dt>{tr(|l| td_string!(l, field_cert_type))}</dt><dd>{tr(profile)}</dd></div>
                        <div><dt>{tr(|l| td_string!(l, m_validity_years))}</dt><dd>{move || fill(td_string!(i18n.get_locale(), m_years), years)}</dd></div>
                        <div><dt>{tr(|l| td_string!(l, m_medium))}</dt><dd>{tr(|l| td_string!(l, medium_mobile_shield))}</dd></div>
                    </dl>
                    <Field form="m-download" field="new_pin" label=|l| td_string!(l, m_new_pin) value=pin errors input_type="password" autocomplete="new-password" hint=|l| td_string!(l, m_pin_hint) />
                    <Field form="m-download" field="new_pin_again" label=|l| td_string!(l, m_new_pin_again) value=pin_again errors input_type="password" autocomplete="new-password" />
                    {problem_alert(problem, String::new)}
                    <button type="submit" class="primary" disabled=move || fs.busy.get()>{tr(|l| td_string!(l, m_download_submit))}</button>
                </form>
            }
        })}
        {move || (progress.get() != Progress::Idle).then(|| {
            let p = progress.get();
            view! {
                <p role="status" class=if p == Progress::Done { "big-ok" } else { "status" }>{move || p.text(i18n.get_locale())}</p>
                {(p == Progress::Done).then(|| view! { <p><a class="button primary" href="/m/">{tr(|l| td_string!(l, m_my_certificates))}</a></p> })}
            }
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certdesk_shared::Lang;

    #[test]
    fn the_query_needs_the_number_and_eight_digits() {
        let fields: Vec<String> = query(" ", "1234").unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["acceptance_no", "auth_code"]);
        let q = query(" BH1 ", " 12345678 ").unwrap();
        assert_eq!((q.acceptance_no.as_str(), q.auth_code.as_str()), ("BH1", "12345678"));
    }

    #[test]
    fn only_a_mobile_shield_application_downloads_here() {
        let info = |medium| DownloadInfo {
            common_name: "x".into(),
            profile: certdesk_shared::certificate::CertificateProfile::OrgSign,
            key_algorithm: certdesk_shared::agent::KeyAlgorithm::P256,
            validity_years: 1,
            medium,
        };
        assert!(for_this_app(info(Medium::MobileShield)).is_ok());
        let refused = for_this_app(info(Medium::Ukey)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::MediumMismatch);
        let _ = Lang::En;
    }
}
