//! 查询服务 (seed 000 steps 4–5, seed 003 §1.4.1), without signing in: the certificate
//! status search by e-mail (recommended) or the exact name with its status filter, results
//! linking to each certificate's page; and the progress lookup by any two of four fields.

use crate::i18n::td_string;
use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use certdesk_shared::directory::{ProgressQuery, PublicStatus, SearchKey, SearchQuery, SearchResults, StatusFilter};
use certdesk_shared::endpoint;
use certdesk_shared::request::RequestStatus;
use certdesk_shared::{FieldError, ValidationError};
use leptos::prelude::*;

use crate::components::fields::{FailureAlert, Field, FormState, Tabs, Text};
use crate::components::table::data_table;
use crate::components::{tr, use_page_title};
use crate::form::short_time;
use crate::i18n::use_i18n;
use certdesk_shared::Named;

pub fn public_status_text(s: PublicStatus) -> Text {
    match s {
        PublicStatus::Valid => |l| td_string!(l, pub_valid),
        PublicStatus::Expired => |l| td_string!(l, pub_expired),
        PublicStatus::Revoked => |l| td_string!(l, pub_revoked),
        PublicStatus::Suspended => |l| td_string!(l, pub_suspended),
        PublicStatus::Pending => |l| td_string!(l, pub_pending),
        PublicStatus::Approved => |l| td_string!(l, pub_approved),
    }
}

fn filter_text(f: StatusFilter) -> Text {
    match f {
        StatusFilter::Valid => |l| td_string!(l, pub_valid),
        StatusFilter::Expired => |l| td_string!(l, pub_expired),
        StatusFilter::Revoked => |l| td_string!(l, pub_revoked),
        StatusFilter::Pending => |l| td_string!(l, pub_pending),
        StatusFilter::Approved => |l| td_string!(l, pub_approved),
        StatusFilter::All => |l| td_string!(l, pub_all),
    }
}

pub fn profile_text(p: Option<CertificateProfile>) -> Text {
    match p {
        Some(CertificateProfile::OrgSign) => |l| td_string!(l, profile_org_sign),
        Some(CertificateProfile::OrgEnc) => |l| td_string!(l, profile_org_enc),
        Some(CertificateProfile::LegalSign) => |l| td_string!(l, profile_legal_sign),
        Some(CertificateProfile::LegalEnc) => |l| td_string!(l, profile_legal_enc),
        Some(CertificateProfile::PersonalSign) => |l| td_string!(l, profile_personal_sign),
        Some(CertificateProfile::PersonalEnc) => |l| td_string!(l, profile_personal_enc),
        None => |_| "—",
    }
}

pub fn reason_text(r: RevocationReason) -> Text {
    match r {
        RevocationReason::Unspecified => |l| td_string!(l, reason_unspecified),
        RevocationReason::KeyCompromise => |l| td_string!(l, reason_key_compromise),
        RevocationReason::CaCompromise => |l| td_string!(l, reason_ca_compromise),
        RevocationReason::AffiliationChanged => |l| td_string!(l, reason_affiliation_changed),
        RevocationReason::Superseded => |l| td_string!(l, reason_superseded),
        RevocationReason::CessationOfOperation => |l| td_string!(l, reason_cessation_of_operation),
        RevocationReason::CertificateHold => |l| td_string!(l, pub_suspended),
        RevocationReason::PrivilegeWithdrawn => |l| td_string!(l, reason_privilege_withdrawn),
        RevocationReason::AaCompromise => |l| td_string!(l, reason_aa_compromise),
    }
}

/// `from – to`, dates only.
pub fn period(from: Option<&str>, to: Option<&str>) -> String {
    match (from, to) {
        (Some(f), Some(t)) => format!(
            "{} – {}",
            &short_time(f)[..10.min(short_time(f).len())],
            &short_time(t)[..10.min(short_time(t).len())]
        ),
        _ => "—".into(),
    }
}

/// The search as typed: by e-mail or by name, and the filter; the query it sends.
pub fn search_query(by_email: bool, text: &str, filter: StatusFilter) -> Result<SearchQuery, Vec<FieldError>> {
    let (field, key) = if by_email { ("email", SearchKey::email(text)) } else { ("name", SearchKey::name(text)) };
    let value = match key {
        Ok(SearchKey::Email(v)) | Ok(SearchKey::Name(v)) => v,
        Err(error) => return Err(vec![FieldError { field: field.into(), error }]),
    };
    let status = Some(filter.as_str().to_owned());
    Ok(if by_email {
        SearchQuery { email: value, status, ..Default::default() }
    } else {
        SearchQuery { name: value, status, ..Default::default() }
    })
}

const HEADS: &[Text] = &[
    |l| td_string!(l, col_common_name),
    |l| td_string!(l, col_status),
    |l| td_string!(l, col_class),
    |l| td_string!(l, col_validity),
];

#[component]
pub fn Search() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), nav_search).to_owned());
    let by_email = RwSignal::new(true);
    let (email, name) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let filter = RwSignal::new(StatusFilter::Valid);
    let results = RwSignal::new(None::<SearchResults>);
    let fs = FormState::new("search");
    let errors = fs.errors;
    let (failure, busy) = (fs.failure, fs.busy);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let e = by_email.get_untracked();
        let text = if e { email.get_untracked() } else { name.get_untracked() };
        let l = i18n.get_locale_untracked();
        fs.submit(
            search_query(e, &text, filter.get_untracked()),
            move |q| async move { crate::api::call::<endpoint::SearchCertificates>(&[], &q, l).await },
            move |r| results.set(Some(r)),
        );
    };
    let filters: Vec<(StatusFilter, Text)> = StatusFilter::ALL.into_iter().map(|f| (f, filter_text(f))).collect();
    view! {
        <h1>{tr(|l| td_string!(l, nav_search))}</h1>
        <p class="lead">{tr(|l| td_string!(l, search_intro))}</p>
        <section class="panel" aria-labelledby="status-search-title">
            <h2 id="status-search-title">{tr(|l| td_string!(l, search_status_title))}</h2>
            <Tabs name="search-by" legend=|l| td_string!(l, search_by) options=vec![(true, |l| td_string!(l, search_by_email)), (false, |l| td_string!(l, search_by_name))] value=by_email />
            <form class="form" novalidate on:submit=submit>
                {move || if by_email.get() {
                    view! { <Field form="search" field="email" label=|l| td_string!(l, search_email) value=email errors input_type="email"
                        hint=|l| td_string!(l, search_email_hint) /> }.into_any()
                } else {
                    view! { <Field form="search" field="name" label=|l| td_string!(l, search_name) value=name errors
                        hint=|l| td_string!(l, search_name_hint) /> }.into_any()
                }}
                <Tabs name="search-status" legend=|l| td_string!(l, search_status) options=filters value=filter />
                <FailureAlert failure />
                <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, search))}</button>
            </form>
            {move || results.get().map(|r| {
                let rows = r.hits.into_iter().map(|h| {
                    let name = match &h.uid {
                        Some(uid) => view! { <a href=format!("/certificates/{uid}")>{h.name.clone()}</a> }.into_any(),
                        None => view! { <span>{h.name.clone()}</span> }.into_any(),
                    };
                    view! {
                        <tr>
                            <td>{name}</td>
                            <td>{tr(public_status_text(h.status))}</td>
                            <td>{tr(profile_text(h.profile))}</td>
                            <td>{period(h.not_before.as_deref(), h.not_after.as_deref())}</td>
                        </tr>
                    }.into_any()
                }).collect();
                view! {
                    <div role="status" class="results">
                        {data_table(HEADS, rows)}
                        {r.truncated.then(|| view! { <p class="muted">{tr(|l| td_string!(l, search_truncated))}</p> })}
                    </div>
                }
            })}
        </section>
        <ProgressLookup />
        <p><a href="/bulletin">{tr(|l| td_string!(l, nav_bulletin))}</a></p>
    }
}

/// 业务进度查询: any two of the four fields.
#[component]
fn ProgressLookup() -> impl IntoView {
    let i18n = use_i18n();
    let [acceptance_no, org_name, mobile, id_number] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let answer = RwSignal::new(None::<RequestStatus>);
    let fs = FormState::new("progress");
    let errors = fs.errors;
    let (failure, busy) = (fs.failure, fs.busy);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = ProgressQuery {
            acceptance_no: acceptance_no.get_untracked(),
            org_name: org_name.get_untracked(),
            mobile: mobile.get_untracked(),
            id_number: id_number.get_untracked(),
        };
        answer.set(None);
        let req = if q.given() >= 2 {
            Ok(q)
        } else {
            Err(["acceptance_no", "org_name", "mobile", "id_number"]
                .into_iter()
                .map(|f| FieldError { field: f.into(), error: ValidationError::Required })
                .collect())
        };
        let l = i18n.get_locale_untracked();
        fs.submit(
            req,
            move |q| async move { crate::api::call::<endpoint::LookUpProgress>(&[], &q, l).await },
            move |p| answer.set(Some(p.status)),
        );
    };
    view! {
        <section class="panel" aria-labelledby="progress-title">
            <h2 id="progress-title">{tr(|l| td_string!(l, progress_title))}</h2>
            <p>{tr(|l| td_string!(l, progress_intro))}</p>
            <form class="form" novalidate on:submit=submit>
                <Field form="progress" field="acceptance_no" label=|l| td_string!(l, acceptance_no) value=acceptance_no errors optional=true />
                <Field form="progress" field="org_name" label=|l| td_string!(l, field_org_name) value=org_name errors optional=true />
                <Field form="progress" field="mobile" label=|l| td_string!(l, field_operator_mobile) value=mobile errors optional=true input_type="tel" />
                <Field form="progress" field="id_number" label=|l| td_string!(l, field_operator_id_number) value=id_number errors optional=true />
                <FailureAlert failure />
                <button type="submit" class="primary" disabled=move || busy.get()>{tr(|l| td_string!(l, search))}</button>
            </form>
            {move || answer.get().map(|s| view! {
                <p class="callout success" role="status">{tr(|l| td_string!(l, progress_status))}" "<strong>{tr(crate::pages::apply::status_text(s))}</strong></p>
            })}
        </section>
    }
}
