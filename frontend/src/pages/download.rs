//! 远程下载 / 证书下载 (seed 004 §4.1.5–4.1.8, §9; seed 002): the acceptance number and the
//! download authorization code from the approval SMS; the token agent makes a key pair on
//! the chosen token and a request signed by it; the CA issues the certificate for it; the
//! agent stores it with its chain. A progress bar runs to 下载完成 100%.

use crate::i18n::td_string;
use certdesk_shared::apply::{DownloadQuery, IssueForCsr, Medium};
use certdesk_shared::endpoint;
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use leptos::prelude::*;

use crate::components::fields::{Field, FormState};
use crate::components::token::{
    Offer, api_problem, find_tokens, pin_problem, problem_alert, run_steps, token_select, with_tokens,
};
use crate::components::{tr, use_page_title};
use crate::form::{check, required};
use crate::i18n::{Locale, use_i18n};
use crate::routes::Operation;

/// The form as typed.
#[derive(Debug, Clone, Default)]
pub struct DownloadForm {
    pub acceptance_no: String,
    pub auth_code: String,
    pub medium_no: String,
    pub pin: String,
}

impl DownloadForm {
    pub fn check(&self) -> Result<DownloadForm, Vec<FieldError>> {
        let mut e = Vec::new();
        let no = check(&mut e, "acceptance_no", required(&self.acceptance_no));
        let code = self.auth_code.trim();
        if !(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit())) {
            e.push(FieldError { field: "auth_code".into(), error: ValidationError::AuthCodeFormat });
        }
        check(&mut e, "medium_no", required(&self.medium_no));
        check(&mut e, "pin", certdesk_shared::Pin::parse(&self.pin).map(drop));
        match no {
            Some(no) if e.is_empty() => {
                Ok(DownloadForm { acceptance_no: no, auth_code: code.to_owned(), ..self.clone() })
            }
            _ => Err(e),
        }
    }
}

/// Where the download stands: the step's words and its percentage.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Progress {
    Idle,
    Key,
    Issue,
    Store,
    Done,
}

impl Progress {
    fn percent(self) -> u32 {
        match self {
            Progress::Idle => 0,
            Progress::Key => 20,
            Progress::Issue => 60,
            Progress::Store => 85,
            Progress::Done => 100,
        }
    }
    fn text(self, l: Locale) -> &'static str {
        match self {
            Progress::Idle => "",
            Progress::Key => td_string!(l, download_step_key),
            Progress::Issue => td_string!(l, download_step_issue),
            Progress::Store => td_string!(l, download_step_store),
            Progress::Done => td_string!(l, download_done),
        }
    }
}

#[component]
pub fn Download() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || Operation::RemoteDownload.title(i18n.get_locale()).to_owned());
    let [acceptance_no, auth_code, medium_no, pin] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let found = RwSignal::new(None);
    let find = move || find_tokens(found, medium_no, Offer::All);
    find();
    let progress = RwSignal::new(Progress::Idle);
    let problem = RwSignal::new(None::<String>);
    let fs = FormState::new("download");
    let errors = fs.errors;
    let busy = fs.busy;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = DownloadForm {
            acceptance_no: acceptance_no.get_untracked(),
            auth_code: auth_code.get_untracked(),
            medium_no: medium_no.get_untracked(),
            pin: pin.get_untracked(),
        };
        let l = i18n.get_locale_untracked();
        let steps = move |f: DownloadForm| async move {
            // A refusal on the way stops the progress bar.
            let stop = move |text: String| {
                progress.set(Progress::Idle);
                text
            };
            // 查询证书: what the code is for, and the key its profile asks for.
            let query = DownloadQuery { acceptance_no: f.acceptance_no.clone(), auth_code: f.auth_code.clone() };
            let info = crate::api::call::<endpoint::GetDownloadInfo>(&[], &query, l)
                .await
                .map_err(|e| stop(api_problem(e, l)))?;
            // The medium chosen in step ①: refused before a key is made on another kind of token.
            let kind = found.with_untracked(|list| {
                list.as_ref()?.as_ref().ok()?.iter().find(|t| t.medium_no == f.medium_no).map(|t| t.kind)
            });
            let medium_kind = match kind {
                None => return Err(stop(td_string!(l, token_missing).to_owned())),
                Some(k) if Medium::of_token(k) != info.medium => {
                    return Err(stop(crate::api::error_message(ErrorCode::MediumMismatch, l).to_owned()));
                }
                Some(k) => k,
            };
            progress.set(Progress::Key);
            let csr_pem = crate::agent::make_csr(&f.medium_no, &f.pin, &f.acceptance_no, info.key_algorithm)
                .await
                .map_err(|e| stop(pin_problem(&e, l)))?;
            progress.set(Progress::Issue);
            let req = IssueForCsr {
                acceptance_no: f.acceptance_no.clone(),
                auth_code: f.auth_code.clone(),
                csr_pem,
                medium_no: Some(f.medium_no.clone()),
                medium_kind,
            };
            let issued =
                crate::api::call::<endpoint::IssueForCsr>(&[], &req, l).await.map_err(|e| stop(api_problem(e, l)))?;
            progress.set(Progress::Store);
            crate::agent::store_certificate(&f.medium_no, &f.pin, &issued.pem, issued.chain_pem)
                .await
                .map_err(|e| stop(pin_problem(&e, l)))
        };
        run_steps(fs, problem, form.check(), steps, move |()| {
            pin.set(String::new());
            progress.set(Progress::Done);
        });
    };
    view! {
        <h1>{move || Operation::RemoteDownload.title(i18n.get_locale())}</h1>
        <p class="lead">{tr(|l| td_string!(l, download_intro))}</p>
        <MobileShieldDownload />
        {with_tokens(found, find, move |list| view! {
                <form class="form" novalidate on:submit=submit>
                    <Field form="download" field="acceptance_no" label=|l| td_string!(l, acceptance_no) value=acceptance_no errors />
                    <Field form="download" field="auth_code" label=|l| td_string!(l, auth_code) value=auth_code errors inputmode="numeric" />
                    {token_select("download-medium_no", list, medium_no)}
                    <Field form="download" field="pin" label=|l| td_string!(l, token_pin) value=pin errors input_type="password" />
                    <p class="hint">{tr(|l| td_string!(l, download_insert_token))}</p>
                    {problem_alert(problem)}
                    <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, download_submit))}</button>
                </form>
            }.into_any())}
        {move || (progress.get() != Progress::Idle).then(|| {
            let p = progress.get();
            view! {
                <div class="download-progress" role="status">
                    <progress max="100" value=p.percent() aria-label=tr(|l| td_string!(l, download_progress))></progress>
                    <p>{move || p.text(i18n.get_locale())}" "{format!("{}%", p.percent())}</p>
                </div>
            }
        })}
    }
}

/// A mobile-shield application is downloaded in the phone app, not through the agent: its
/// address (`<origin>/m/download`) as a link and a QR code to scan with the phone.
#[component]
fn MobileShieldDownload() -> impl IntoView {
    let origin = window().location().origin().unwrap_or_default();
    let url = format!("{origin}{}/download", certdesk_shared::shield::APP_PATH);
    let svg = crate::components::qr::qr_svg(&url);
    view! {
        <div class="callout">
            <p>{tr(|l| td_string!(l, shield_download_note))}</p>
            <div class="qr" role="img" aria-label=tr(|l| td_string!(l, shield_download_qr)) inner_html=svg></div>
            <p><a href=url.clone()>{url.clone()}</a></p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_needs_eight_digits_a_token_and_a_pin() {
        let f = DownloadForm {
            acceptance_no: " ".into(),
            auth_code: "1234".into(),
            medium_no: String::new(),
            pin: "1".into(),
        };
        let fields: Vec<String> = f.check().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["acceptance_no", "auth_code", "medium_no", "pin"]);
        let f = DownloadForm {
            acceptance_no: "BH1".into(),
            auth_code: " 12345678 ".into(),
            medium_no: "m".into(),
            pin: "123456".into(),
        };
        assert_eq!(f.check().map(|f| f.auth_code), Ok("12345678".into()));
    }
}
