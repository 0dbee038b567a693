//! 审核 in the staff console: the queue with the working days left of the 5-day promise, an
//! application opened with its fields and documents, and the decision — approve, or reject
//! with a reason for each item that is wrong. Shown only to roles the server lets review.

use crate::i18n::td_string;
use certdesk_shared::admin::{Page, QueueColumn, QueueQuery, Section, Sort, SortColumn};
use certdesk_shared::apply::{DocumentKind, FieldReason, ReviewDecision, ReviewQueueItem};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::request::{RequestKind, RequestView};
use leptos::prelude::*;

use crate::components::table::{Head, load_query_into, loaded, search_box, sorted_table, staff_section};
use crate::components::tr;
use crate::form::{Load, short_time};
use crate::i18n::use_i18n;
use crate::pages::admin::{address_query, pager};
use crate::pages::apply::{doc_text, field_text, kind_text, status_text};
use certdesk_shared::Named;

/// The items a reviewer can send back, with a reason each (the holder's person and unit
/// fields only where the application's holder has them).
const REVIEWABLE: [&str; 11] = [
    "holder_name",
    "holder_id_number",
    "org_name",
    "credit_code",
    "business_licence",
    "operator_id",
    "other",
    "operator",
    "delivery",
    "revocation_form",
    "holder_id",
];

/// Whether a reviewer may name `field` for this holder and kind (a 注销 has its two
/// documents only).
fn reviewable_for(field: &str, holder: Option<&certdesk_shared::apply::Holder>, kind: RequestKind) -> bool {
    let revocation = matches!(field, "revocation_form" | "holder_id");
    if kind == RequestKind::Revoke || revocation {
        return kind == RequestKind::Revoke && revocation;
    }
    match field {
        "holder_name" | "holder_id_number" => holder.is_some_and(|h| h.id().is_some()),
        "org_name" | "credit_code" => holder.is_none_or(|h| h.organisation().is_some()),
        _ => true,
    }
}

/// The decision a reviewer's inputs make: approve, or reject with the filled reasons.
pub fn decision(approve: bool, reasons: &[(String, String)]) -> ReviewDecision {
    let reasons = reasons
        .iter()
        .filter(|(_, r)| !r.trim().is_empty())
        .map(|(field, reason)| FieldReason { field: field.clone(), reason: reason.trim().to_owned() })
        .collect();
    ReviewDecision { approve, reasons: if approve { Vec::new() } else { reasons } }
}

fn row(label: impl Fn() -> String + Send + Sync + 'static, value: String) -> impl IntoView {
    view! { <tr><th scope="row">{label}</th><td>{value}</td></tr> }
}

const QUEUE_HEADS: &[Head<QueueColumn>] = &[
    (|l| td_string!(l, acceptance_no), Some(QueueColumn::AcceptanceNo)),
    (|l| td_string!(l, filter_kind), Some(QueueColumn::Kind)),
    (|l| td_string!(l, field_org_name), None),
    (|l| td_string!(l, col_status), None),
    (|l| td_string!(l, col_time), Some(QueueColumn::SubmittedAt)),
    (|l| td_string!(l, col_days_left), None),
    (|_| "", None),
];

#[component]
pub fn ReviewSection() -> impl IntoView {
    let i18n = use_i18n();
    let queue = RwSignal::new(Load::<Page<ReviewQueueItem>>::Loading);
    let open = RwSignal::new(None::<RequestView>);
    let reasons = RwSignal::new(REVIEWABLE.iter().map(|f| ((*f).to_owned(), String::new())).collect::<Vec<_>>());
    let failure = RwSignal::new(None::<certdesk_shared::ErrorCode>);
    // 业务类型, the search, the order and the page in the address (`?kind=renew&page=2`): a
    // reload or a shared link shows the same rows.
    let (query, show) = address_query::<QueueQuery>(Section::Review);
    let reload = move || {
        load_query_into::<endpoint::ReviewQueue>(queue, &[], query.get_untracked(), i18n.get_locale_untracked());
    };
    Effect::new(move |_| {
        query.track();
        reload();
    });
    let words = Memo::new(move |_| query.with(|q| q.q.clone()));
    let search = move |q: String| show(QueueQuery { q, page: None, ..query.get_untracked() });
    let set_kind = move |kind: String| show(QueueQuery { kind, page: None, ..query.get_untracked() });
    let sort = move || query.with_untracked(|q| Sort::parse(&q.sort).unwrap_or(QueueColumn::DEFAULT));
    let by = move |c| show(QueueQuery { sort: sort().by(c).param(), page: None, ..query.get_untracked() });
    let to_page = move |page| show(QueueQuery { page: Some(page), ..query.get_untracked() });
    let changed = crate::pages::admin::queue_changed();
    let decide = move |approve: bool| {
        let Some(app) = open.get_untracked() else { return };
        let body = decision(approve, &reasons.get_untracked());
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::Review>(&[&app.id], &body, i18n.get_locale_untracked()).await {
                Ok(_) => {
                    open.set(None);
                    failure.set(None);
                    reasons.update(|r| r.iter_mut().for_each(|(_, v)| v.clear()));
                    reload();
                    changed();
                }
                Err(e) => failure.set(Some(e.code)),
            }
        });
    };
    let detail = move |a: RequestView| {
        let info = a.certificate_info.clone();
        // The person (个人证书, or the legal representative of a 法人证书) with the ID
        // document, and the unit.
        let holder = info.as_ref().and_then(|i| {
            let id = i.holder.id()?;
            let kind = crate::pages::apply::id_type_text(id.id_type())(i18n.get_locale_untracked());
            Some((i.holder.common_name().to_owned(), format!("{kind} {}", id.number())))
        });
        let unit = info.as_ref().and_then(|i| i.holder.organisation()).map(|(o, c)| (o.to_string(), c.to_string()));
        let op = a.operator.clone();
        let kind_of = a.kind;
        // The medium chosen (UKey, PC soft shield, mobile shield): what the download will need.
        let medium = a.choose_type.as_ref().map(|c| c.medium);
        // A request on a certificate held: which one, and a 注销's reason.
        let held = a.from_certificate_uid.clone().map(|uid| (uid, a.holder_name.clone().unwrap_or_default()));
        let reason = a.revocation_reason;
        let docs = a.documents.clone();
        // 证书变更 / 经办人变更: each changed field, old → new, beside the documents.
        let changes = (!a.changes.is_empty()).then(|| {
            let rows = a
                .changes
                .iter()
                .map(|c| {
                    let label = field_text(&c.field).map_or_else(|| c.field.clone(), |t| t(i18n.get_locale_untracked()).into());
                    row(move || label.clone(), format!("{} → {}", c.before, c.after))
                })
                .collect_view();
            view! { <table class="data"><caption>{tr(|l| td_string!(l, review_changes))}</caption><tbody>{rows}</tbody></table> }
        });
        let id = a.id.clone();
        view! {
            <section class="panel" aria-labelledby="review-detail-title">
                <h3 id="review-detail-title">{a.acceptance_no.clone().unwrap_or_default()}</h3>
                <table class="data">
                    <tbody>
                        {row(move || tr(|l| td_string!(l, filter_kind))().to_owned(), tr(kind_text(kind_of))().to_owned())}
                        {medium.map(|m| row(move || tr(|l| td_string!(l, field_medium))().to_owned(), tr(crate::pages::apply::medium_text(m))().to_owned()))}
                        {held.map(|(uid, name)| view! {
                            <tr><th scope="row">{tr(|l| td_string!(l, my_certificate_detail))}</th><td><a href=format!("/certificates/{uid}") target="_blank">{name}</a></td></tr>
                        })}
                        {reason.map(|r| row(move || tr(|l| td_string!(l, col_reason))().to_owned(), tr(crate::pages::search::reason_text(r))().to_owned()))}
                        {holder.map(|(name, id)| view! {
                            {row(move || tr(|l| td_string!(l, field_holder_name))().to_owned(), name)}
                            {row(move || tr(|l| td_string!(l, field_holder_id_number))().to_owned(), id)}
                        })}
                        {unit.map(|(org, code)| view! {
                            {row(move || tr(|l| td_string!(l, field_org_name))().to_owned(), org)}
                            {row(move || tr(|l| td_string!(l, field_credit_code))().to_owned(), code)}
                        })}
                        {row(move || tr(|l| td_string!(l, field_province))().to_owned(), info.as_ref().map(|i| format!("{} {}", i.province, i.city)).unwrap_or_default())}
                        {row(move || tr(|l| td_string!(l, field_operator_name))().to_owned(), op.as_ref().map(|o| format!("{} {}", o.name, o.mobile)).unwrap_or_default())}
                    </tbody>
                </table>
                {changes}
                <ul>
                    {docs
                        .into_iter()
                        .map(|d| {
                            let href = endpoint::StaffDownloadDocument::path(&[&id, d.kind.as_str()]);
                            let kind: DocumentKind = d.kind;
                            view! { <li><a href=href download>{tr(doc_text(kind))}</a>" · " {d.file_name}</li> }
                        })
                        .collect_view()}
                    <li><a href=endpoint::StaffApplicationForm::path(&[&id]) target="_blank">{tr(|l| td_string!(l, form_pdf))}</a></li>
                </ul>
                <fieldset>
                    <legend>{tr(|l| td_string!(l, review_reasons))}</legend>
                    {REVIEWABLE
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| reviewable_for(f, info.as_ref().map(|i| &i.holder), kind_of))
                        .map(|(i, f)| {
                            let input_id = format!("reason-{f}");
                            let label = field_text(f).map_or_else(|| (*f).to_owned(), |t| t(i18n.get_locale_untracked()).to_owned());
                            view! {
                                <label for=input_id.clone()>{label}</label>
                                <input
                                    id=input_id
                                    type="text"
                                    prop:value=move || reasons.with(|r| r[i].1.clone())
                                    on:input=move |ev| reasons.update(|r| r[i].1 = event_target_value(&ev))
                                />
                            }
                        })
                        .collect_view()}
                </fieldset>
                {move || failure.get().map(|code| view! { <p class="alert" role="alert">{move || crate::api::error_message(code, i18n.get_locale())}</p> })}
                <div class="actions">
                    <button type="button" on:click=move |_| decide(true)>{tr(|l| td_string!(l, approve))}</button>
                    <button type="button" class="secondary" on:click=move |_| decide(false)>{tr(|l| td_string!(l, reject))}</button>
                </div>
            </section>
        }
    };
    staff_section(
        queue,
        "review",
        |l| td_string!(l, review_title),
        move || {
            view! {
            {search_box("review-search", |l| td_string!(l, search_hint_requests), words, search)}
            <p>
                <label for="review-kind">{tr(|l| td_string!(l, filter_kind))}</label>
                " "
                <select
                    id="review-kind"
                    prop:value=move || query.with(|q| q.kind.clone())
                    on:change=move |ev| set_kind(event_target_value(&ev))
                >
                    <option value="">{tr(|l| td_string!(l, all_kinds))}</option>
                    {RequestKind::ALL
                        .into_iter()
                        .map(|k| view! { <option value=k.as_str()>{tr(kind_text(k))}</option> })
                        .collect_view()}
                </select>
            </p>
            {loaded(queue, move |list| {
                let pager = pager(&list, to_page);
                let rows = list
                    .items
                    .into_iter()
                    .map(|item| {
                        let a = item.request;
                        let number = a.acceptance_no.clone().unwrap_or_default();
                        let org = a
                            .certificate_info
                            .as_ref()
                            .map(|i| i.holder.common_name().to_owned())
                            .or_else(|| a.holder_name.clone())
                            .unwrap_or_default();
                        let business = kind_text(a.kind);
                        let when = a.submitted_at.as_deref().map(short_time).unwrap_or_default();
                        let status = a.status;
                        let label = format!("{} {number}", tr(|l| td_string!(l, open))());
                        view! {
                            <tr>
                                <td>{number}</td>
                                <td>{tr(business)}</td>
                                <td>{org}</td>
                                <td>{tr(status_text(status))}</td>
                                <td>{when}</td>
                                <td>{item.working_days_left}</td>
                                <td>
                                    <button type="button" class="link" aria-label=label on:click=move |_| open.set(Some(a.clone()))>
                                        {tr(|l| td_string!(l, open))}
                                    </button>
                                </td>
                            </tr>
                        }
                        .into_any()
                    })
                    .collect();
                view! { {sorted_table(QUEUE_HEADS, sort(), by, rows)} {pager} }.into_any()
            })}
            {move || open.get().map(detail)}
        }
        .into_any()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejecting_sends_the_filled_reasons_and_approving_none() {
        let inputs =
            vec![("org_name".to_owned(), " 名称与执照不符 ".to_owned()), ("credit_code".to_owned(), "  ".to_owned())];
        let d = decision(false, &inputs);
        assert!(!d.approve);
        assert_eq!(d.reasons, vec![FieldReason { field: "org_name".into(), reason: "名称与执照不符".into() }]);
        assert!(decision(true, &inputs).reasons.is_empty());
    }

    #[test]
    fn reasons_are_offered_for_the_holder_the_application_has() {
        use certdesk_shared::apply::Holder;
        use certdesk_shared::validate::{CreditCode, IdDocument, IdType, OrgName, PersonName};
        let person = Holder::Person {
            name: PersonName::parse("李四").unwrap(),
            id: IdDocument::parse(IdType::ResidentId, "11010519491231002X").unwrap(),
        };
        let unit = Holder::Organisation {
            org_name: OrgName::parse("天津市滨海数字认证有限公司").unwrap(),
            credit_code: CreditCode::parse("91350100M000100Y43").unwrap(),
        };
        let apply = RequestKind::Apply;
        let offered = |h: Option<&Holder>, k| REVIEWABLE.iter().filter(|f| reviewable_for(f, h, k)).count();
        assert!(
            reviewable_for("holder_name", Some(&person), apply) && !reviewable_for("org_name", Some(&person), apply)
        );
        assert!(
            !reviewable_for("holder_id_number", Some(&unit), apply)
                && reviewable_for("credit_code", Some(&unit), apply)
        );
        assert_eq!((offered(Some(&person), apply), offered(Some(&unit), apply), offered(None, apply)), (7, 7, 7));
        // A 注销 is checked on its two documents only.
        assert_eq!(offered(None, RequestKind::Revoke), 2);
        assert!(
            reviewable_for("holder_id", None, RequestKind::Revoke)
                && !reviewable_for("operator", None, RequestKind::Revoke)
        );
        for f in REVIEWABLE {
            assert!(crate::pages::apply::field_text(f).is_some(), "{f}");
        }
    }
}
