//! 证书新办 (seed 004 §3.1): the 7-step wizard. The application's id and the step live in
//! the address (`/apply?id=…&step=N`), so a reload resumes; each step is saved on the
//! server before the next opens. Inputs are described as data and drawn by one loop, so
//! the wizard costs one field shape, not one per field.

use crate::i18n::td_string;
use crate::router::NavigateOptions;
use crate::router::{use_navigate, use_query_map};
use certdesk_shared::apply::{
    BillingMode, Catalogue, CertificateInfo, CertificateType, ChooseType, DeliveryInfo, DeliveryMethod, DocumentKind,
    FileType, Holder, HolderKind, Medium, OperatorInfo, check_document, yuan,
};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::payment::{BankTransfer, PayWay, PaymentOrder, PaymentRequest, PaymentStatus};
use certdesk_shared::regions::REGIONS;
use certdesk_shared::request::{RequestKind, RequestStatus, RequestView};
use certdesk_shared::validate::{IdDocument, IdType};
use certdesk_shared::{CreditCode, Email, FieldError, IdCardNumber, Mobile, OrgName, PersonName, ValidationError};
use leptos::prelude::*;

use crate::components::fields::{Check, FailureAlert, Field, FormState, Text, field_id};
use crate::components::{tr, use_page_title};
use crate::form::{check, error_for, fill, optional, required, set_error, short_time};
use crate::i18n::use_i18n;
use crate::session::use_session;
use certdesk_shared::Named;

/// The value slots of the wizard's inputs, as typed (indices into [`Values`]).
pub mod slot {
    pub const PROJECT: usize = 0;
    pub const TYPE: usize = 1;
    pub const MEDIUM: usize = 2;
    pub const ORG_NAME: usize = 3;
    pub const CREDIT_CODE: usize = 4;
    pub const VALIDITY: usize = 5;
    pub const EMAIL: usize = 6;
    pub const PROVINCE: usize = 7;
    pub const CITY: usize = 8;
    pub const OP_NAME: usize = 9;
    pub const ID_NUMBER: usize = 10;
    pub const MOBILE: usize = 11;
    pub const OP_EMAIL: usize = 12;
    pub const UNIT_PHONE: usize = 13;
    pub const OP_ADDRESS: usize = 14;
    pub const METHOD: usize = 15;
    pub const COMPANY: usize = 16;
    pub const RECIPIENT: usize = 17;
    pub const PHONE: usize = 18;
    pub const ADDRESS: usize = 19;
    pub const COD: usize = 20;
    pub const PHRASE: usize = 21;
    pub const PHRASE_AGAIN: usize = 22;
    /// Step ②'s person: the holder of a 个人证书, the legal representative of a 法人证书.
    pub const HOLDER_NAME: usize = 23;
    pub const HOLDER_ID_TYPE: usize = 24;
    pub const HOLDER_ID_NUMBER: usize = 25;
    pub const N: usize = 26;
}

/// Everything the wizard's inputs hold, as typed.
pub type Values = [String; slot::N];

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn done<T>(v: Option<T>, e: Vec<FieldError>) -> Result<T, Vec<FieldError>> {
    match v {
        Some(v) if e.is_empty() => Ok(v),
        _ => Err(e),
    }
}

/// Step ①.
pub fn choose_type(v: &Values) -> Result<ChooseType, Vec<FieldError>> {
    let mut e = Vec::new();
    let project_id = check(&mut e, "project_id", required(&v[slot::PROJECT]));
    let type_id = check(&mut e, "type_id", required(&v[slot::TYPE]));
    let medium = check(&mut e, "medium", Medium::parse(&v[slot::MEDIUM]).ok_or(ValidationError::Required));
    let r = match (project_id, type_id, medium) {
        (Some(project_id), Some(type_id), Some(medium)) => Some(ChooseType { project_id, type_id, medium }),
        _ => None,
    };
    done(r, e)
}

/// Step ② for the holder the chosen type asks for (the same rules as the server, regions
/// included).
pub fn certificate_info(v: &Values, kind: HolderKind) -> Result<CertificateInfo, Vec<FieldError>> {
    let mut e = Vec::new();
    let person = (kind != HolderKind::Organisation).then(|| {
        let name = check(&mut e, "holder_name", PersonName::parse(&v[slot::HOLDER_NAME]));
        let id_type =
            check(&mut e, "holder_id_type", IdType::parse(&v[slot::HOLDER_ID_TYPE]).ok_or(ValidationError::Required));
        let id =
            id_type.and_then(|t| check(&mut e, "holder_id_number", IdDocument::parse(t, &v[slot::HOLDER_ID_NUMBER])));
        (name, id)
    });
    let unit = (kind != HolderKind::Person).then(|| {
        (
            check(&mut e, "org_name", OrgName::parse(&v[slot::ORG_NAME])),
            check(&mut e, "credit_code", CreditCode::parse(&v[slot::CREDIT_CODE])),
        )
    });
    let validity_id = check(&mut e, "validity_id", required(&v[slot::VALIDITY]));
    let email = check(&mut e, "email", optional(&v[slot::EMAIL], Email::parse));
    let holder = match (person, unit) {
        (None, Some((Some(org_name), Some(credit_code)))) => Some(Holder::Organisation { org_name, credit_code }),
        (Some((Some(name), Some(id))), None) => Some(Holder::Person { name, id }),
        (Some((Some(name), Some(id))), Some((Some(org_name), Some(credit_code)))) => {
            Some(Holder::LegalPerson { name, id, org_name, credit_code })
        }
        _ => None,
    };
    let r = match (holder, validity_id, email) {
        (Some(holder), Some(validity_id), Some(email)) => Some(CertificateInfo {
            holder,
            validity_id,
            email,
            province: v[slot::PROVINCE].clone(),
            city: v[slot::CITY].clone(),
        }),
        _ => None,
    };
    if let Some(r) = &r {
        e.extend(r.check());
    } else if v[slot::PROVINCE].is_empty() || v[slot::CITY].is_empty() {
        let field = if v[slot::PROVINCE].is_empty() { "province" } else { "city" };
        e.push(FieldError { field: field.into(), error: ValidationError::RegionUnknown });
    }
    if kind == HolderKind::Person && v[slot::EMAIL].trim().is_empty() && error_for(&e, "email").is_none() {
        e.push(FieldError { field: "email".into(), error: ValidationError::Required });
    }
    done(r, e)
}

/// The holder step ② asks for, by the chosen type's profile (a unit until one is known).
pub fn holder_kind(t: Option<&CertificateType>) -> HolderKind {
    t.map_or(HolderKind::Organisation, |t| HolderKind::of(t.profile))
}

/// Step ④.
pub fn operator(v: &Values) -> Result<OperatorInfo, Vec<FieldError>> {
    let mut e = Vec::new();
    let name = check(&mut e, "name", PersonName::parse(&v[slot::OP_NAME]));
    let id_number = check(&mut e, "id_number", IdCardNumber::parse(&v[slot::ID_NUMBER]));
    let mobile = check(&mut e, "mobile", Mobile::parse(&v[slot::MOBILE]));
    let email = check(&mut e, "email", Email::parse(&v[slot::OP_EMAIL]));
    let r = match (name, id_number, mobile, email) {
        (Some(name), Some(id_number), Some(mobile), Some(email)) => Some(OperatorInfo {
            name,
            id_number,
            mobile,
            email,
            unit_phone: opt(&v[slot::UNIT_PHONE]),
            address: opt(&v[slot::OP_ADDRESS]),
        }),
        _ => None,
    };
    done(r, e)
}

/// Step ⑤: recipient fields only count for delivery by post.
pub fn delivery(v: &Values) -> Result<DeliveryInfo, Vec<FieldError>> {
    let mut e = Vec::new();
    let post = v[slot::METHOD] != "counter";
    let (name, phone) = if post {
        (
            check(&mut e, "recipient_name", optional(&v[slot::RECIPIENT], PersonName::parse)).flatten(),
            check(&mut e, "recipient_phone", optional(&v[slot::PHONE], Mobile::parse)).flatten(),
        )
    } else {
        (None, None)
    };
    let r = DeliveryInfo {
        method: if post { DeliveryMethod::Post } else { DeliveryMethod::Counter },
        recipient_company: opt(&v[slot::COMPANY]).filter(|_| post),
        recipient_name: name,
        recipient_phone: phone,
        address: opt(&v[slot::ADDRESS]).filter(|_| post),
        cash_on_delivery: post && !v[slot::COD].is_empty(),
    };
    for f in r.check() {
        if error_for(&e, &f.field).is_none() {
            e.push(f);
        }
    }
    done(Some(r), e)
}

/// The inputs as the saved application has them.
pub fn values_of(a: &RequestView) -> Values {
    let mut v: Values = Default::default();
    if let Some(c) = &a.choose_type {
        v[slot::PROJECT] = c.project_id.clone();
        v[slot::TYPE] = c.type_id.clone();
        v[slot::MEDIUM] = c.medium.as_str().into();
    }
    v[slot::HOLDER_ID_TYPE] = IdType::ResidentId.as_str().into();
    if let Some(c) = &a.certificate_info {
        if let Some((org_name, credit_code)) = c.holder.organisation() {
            v[slot::ORG_NAME] = org_name.as_str().into();
            v[slot::CREDIT_CODE] = credit_code.as_str().into();
        }
        if let Holder::Person { name, id } | Holder::LegalPerson { name, id, .. } = &c.holder {
            v[slot::HOLDER_NAME] = name.as_str().into();
            v[slot::HOLDER_ID_TYPE] = id.id_type().as_str().into();
            v[slot::HOLDER_ID_NUMBER] = id.number().into();
        }
        v[slot::VALIDITY] = c.validity_id.clone();
        v[slot::EMAIL] = c.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default();
        v[slot::PROVINCE] = c.province.clone();
        v[slot::CITY] = c.city.clone();
    }
    if let Some(o) = &a.operator {
        v[slot::OP_NAME] = o.name.as_str().into();
        v[slot::ID_NUMBER] = o.id_number.as_str().into();
        v[slot::MOBILE] = o.mobile.as_str().into();
        v[slot::OP_EMAIL] = o.email.as_str().into();
        v[slot::UNIT_PHONE] = o.unit_phone.clone().unwrap_or_default();
        v[slot::OP_ADDRESS] = o.address.clone().unwrap_or_default();
    }
    match &a.delivery {
        Some(d) => {
            v[slot::METHOD] = if d.method == DeliveryMethod::Counter { "counter" } else { "post" }.into();
            v[slot::COMPANY] = d.recipient_company.clone().unwrap_or_default();
            v[slot::RECIPIENT] = d.recipient_name.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default();
            v[slot::PHONE] = d.recipient_phone.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default();
            v[slot::ADDRESS] = d.address.clone().unwrap_or_default();
            v[slot::COD] = if d.cash_on_delivery { "1" } else { "" }.into();
        }
        None => {
            v[slot::METHOD] = "post".into();
            v[slot::COD] = "1".into();
        }
    }
    v
}

/// Years as the seed writes them: 一年, 两年 … in Chinese, digits in English.
pub fn years(n: u32, l: crate::i18n::Locale) -> String {
    const ZH: [&str; 10] = ["一", "两", "三", "四", "五", "六", "七", "八", "九", "十"];
    match (l, n) {
        (crate::i18n::Locale::en, _) | (_, 0 | 11..) => n.to_string(),
        (_, n) => ZH[n as usize - 1].to_owned(),
    }
}

/// The type chosen in step ①.
pub fn chosen_type<'a>(cat: &'a Catalogue, project: &str, type_id: &str) -> Option<&'a CertificateType> {
    cat.projects.iter().find(|p| p.id == project)?.types.iter().find(|t| t.id == type_id)
}

/// The step after `step` (⑥ is skipped when the customer is billed monthly).
pub fn next_step(step: u8, billing: BillingMode) -> u8 {
    if step == 5 && billing == BillingMode::Settlement { 7 } else { (step + 1).min(7) }
}

pub fn prev_step(step: u8, billing: BillingMode) -> u8 {
    if step == 7 && billing == BillingMode::Settlement { 5 } else { step.saturating_sub(1).max(1) }
}

pub fn step_text(step: u8) -> Text {
    match step {
        1 => |l| td_string!(l, step_1),
        2 => |l| td_string!(l, step_2),
        3 => |l| td_string!(l, step_3),
        4 => |l| td_string!(l, step_4),
        5 => |l| td_string!(l, step_5),
        6 => |l| td_string!(l, step_6),
        _ => |l| td_string!(l, step_7),
    }
}

pub fn status_text(s: RequestStatus) -> Text {
    match s {
        RequestStatus::Draft => |l| td_string!(l, status_draft),
        RequestStatus::Submitted => |l| td_string!(l, status_submitted),
        RequestStatus::Rejected => |l| td_string!(l, status_rejected),
        RequestStatus::Resubmitted => |l| td_string!(l, status_resubmitted),
        RequestStatus::Approved => |l| td_string!(l, status_approved),
        RequestStatus::Issued => |l| td_string!(l, status_issued),
        RequestStatus::Done => |l| td_string!(l, status_done),
        RequestStatus::Withdrawn => |l| td_string!(l, status_withdrawn),
    }
}

/// 业务类型, from the request's kind.
pub fn kind_text(k: RequestKind) -> Text {
    match k {
        RequestKind::Apply => |l| td_string!(l, kind_apply),
        RequestKind::Renew => |l| td_string!(l, kind_renew),
        RequestKind::Change => |l| td_string!(l, kind_change),
        RequestKind::OperatorChange => |l| td_string!(l, kind_operator_change),
        RequestKind::Reissue => |l| td_string!(l, kind_reissue),
        RequestKind::Revoke => |l| td_string!(l, kind_revoke),
    }
}

pub fn doc_text(k: DocumentKind) -> Text {
    match k {
        DocumentKind::BusinessLicence => |l| td_string!(l, doc_business_licence),
        DocumentKind::OperatorId => |l| td_string!(l, doc_operator_id),
        DocumentKind::Other => |l| td_string!(l, doc_other),
        DocumentKind::RevocationForm => |l| td_string!(l, doc_revocation_form),
        DocumentKind::HolderId => |l| td_string!(l, doc_holder_id),
    }
}

pub fn id_type_text(t: IdType) -> Text {
    match t {
        IdType::ResidentId => |l| td_string!(l, id_type_resident_id),
        IdType::Passport => |l| td_string!(l, id_type_passport),
        IdType::HkMacaoPermit => |l| td_string!(l, id_type_hk_macao_permit),
        IdType::TaiwanPermit => |l| td_string!(l, id_type_taiwan_permit),
    }
}

pub fn medium_text(m: Medium) -> Text {
    match m {
        Medium::Ukey => |l| td_string!(l, medium_ukey),
        Medium::PcShield => |l| td_string!(l, medium_pc_shield),
        Medium::MobileShield => |l| td_string!(l, medium_mobile_shield),
    }
}

/// The label of a field a reviewer may name (the wizard's JSON field names).
pub fn field_text(field: &str) -> Option<Text> {
    Some(match field {
        "org_name" => |l| td_string!(l, field_org_name),
        "holder_name" => |l| td_string!(l, field_holder_name),
        "holder_id_type" => |l| td_string!(l, field_holder_id_type),
        "holder_id_number" => |l| td_string!(l, field_holder_id_number),
        "holder" => step_text(2),
        "credit_code" => |l| td_string!(l, field_credit_code),
        "validity_id" => |l| td_string!(l, field_validity),
        "email" => |l| td_string!(l, field_org_email),
        "province" => |l| td_string!(l, field_province),
        "city" => |l| td_string!(l, field_city),
        "name" => |l| td_string!(l, field_operator_name),
        "id_number" => |l| td_string!(l, field_operator_id_number),
        "mobile" => |l| td_string!(l, field_operator_mobile),
        "operator_email" => |l| td_string!(l, field_operator_email),
        "unit_phone" => |l| td_string!(l, field_unit_phone),
        "operator_address" => |l| td_string!(l, field_operator_address),
        "medium" => |l| td_string!(l, field_medium),
        "delivery" => step_text(5),
        "choose_type" => step_text(1),
        "operator" => step_text(4),
        "certificate_info" => step_text(2),
        f => doc_text(DocumentKind::parse(f)?),
    })
}

/// A text input of the wizard: its slot, the JSON field, its label and rule.
struct Input(usize, &'static str, Text, Check, bool);

const NO_CHECK: Check = |_| Ok(());

/// Step ②'s unit (机构证书, and the unit of a 法人证书).
const STEP_2_UNIT: [Input; 2] = [
    Input(slot::ORG_NAME, "org_name", |l| td_string!(l, field_org_name), |s| OrgName::parse(s).map(drop), false),
    Input(
        slot::CREDIT_CODE,
        "credit_code",
        |l| td_string!(l, field_credit_code),
        |s| CreditCode::parse(s).map(drop),
        false,
    ),
];

/// Step ②'s person: the number is checked for the document type chosen beside it when the
/// step is sent.
fn step_2_person(kind: HolderKind) -> [Input; 2] {
    let name: Text = if kind == HolderKind::LegalPerson {
        |l| td_string!(l, field_legal_rep_name)
    } else {
        |l| td_string!(l, field_holder_name)
    };
    [
        Input(slot::HOLDER_NAME, "holder_name", name, |s| PersonName::parse(s).map(drop), false),
        Input(
            slot::HOLDER_ID_NUMBER,
            "holder_id_number",
            |l| td_string!(l, field_holder_id_number),
            |s| required(s).map(drop),
            false,
        ),
    ]
}

/// The e-mail: the unit's (optional), or the person's (required).
fn step_2_email(kind: HolderKind) -> [Input; 1] {
    if kind == HolderKind::Person {
        [Input(slot::EMAIL, "email", |l| td_string!(l, field_holder_email), |s| Email::parse(s).map(drop), false)]
    } else {
        [Input(slot::EMAIL, "email", |l| td_string!(l, field_org_email), |s| optional(s, Email::parse).map(drop), true)]
    }
}

const STEP_4: [Input; 6] = [
    Input(slot::OP_NAME, "name", |l| td_string!(l, field_operator_name), |s| PersonName::parse(s).map(drop), false),
    Input(
        slot::ID_NUMBER,
        "id_number",
        |l| td_string!(l, field_operator_id_number),
        |s| IdCardNumber::parse(s).map(drop),
        false,
    ),
    Input(slot::MOBILE, "mobile", |l| td_string!(l, field_operator_mobile), |s| Mobile::parse(s).map(drop), false),
    Input(slot::OP_EMAIL, "email", |l| td_string!(l, field_operator_email), |s| Email::parse(s).map(drop), false),
    Input(slot::UNIT_PHONE, "unit_phone", |l| td_string!(l, field_unit_phone), NO_CHECK, true),
    Input(slot::OP_ADDRESS, "address", |l| td_string!(l, field_operator_address), NO_CHECK, true),
];

const STEP_5: [Input; 4] = [
    Input(slot::COMPANY, "recipient_company", |l| td_string!(l, field_recipient_company), NO_CHECK, true),
    Input(
        slot::RECIPIENT,
        "recipient_name",
        |l| td_string!(l, field_recipient_name),
        |s| optional(s, PersonName::parse).map(drop),
        false,
    ),
    Input(
        slot::PHONE,
        "recipient_phone",
        |l| td_string!(l, field_recipient_phone),
        |s| optional(s, Mobile::parse).map(drop),
        false,
    ),
    Input(slot::ADDRESS, "address", |l| td_string!(l, field_recipient_address), NO_CHECK, false),
];

pub type Slots = [RwSignal<String>; slot::N];

fn inputs(form: &'static str, list: &[Input], v: Slots, errors: RwSignal<Vec<FieldError>>) -> AnyView {
    list.iter()
        .map(|Input(s, field, label, check, optional)| {
            view! { <Field form field label=*label value=v[*s] errors check=*check optional=*optional /> }
        })
        .collect_view()
        .into_any()
}

/// Step ⑤ (and 证书补办's 领取方式): the delivery method and, for the post, the recipient.
pub fn delivery_fields(form: &'static str, v: Slots, errors: RwSignal<Vec<FieldError>>) -> AnyView {
    let i18n = use_i18n();
    let methods = Signal::derive(move || {
        let l = i18n.get_locale();
        vec![
            ("post".to_owned(), td_string!(l, delivery_post).to_owned()),
            ("counter".to_owned(), td_string!(l, delivery_counter).to_owned()),
        ]
    });
    view! {
        <Select form field="method" label=|l| td_string!(l, field_delivery_method) value=v[slot::METHOD] errors options=methods />
        {move || {
            (v[slot::METHOD].get() != "counter")
                .then(|| {
                    view! {
                        <div class="field check">
                            <input
                                type="checkbox"
                                id="apply-cod"
                                prop:checked=move || !v[slot::COD].get().is_empty()
                                on:change=move |ev| {
                                    v[slot::COD].set(if event_target_checked(&ev) { "1" } else { "" }.into())
                                }
                            />
                            <label for="apply-cod">{tr(|l| td_string!(l, field_cod))}</label>
                        </div>
                        {inputs(form, &STEP_5, v, errors)}
                    }
                })
        }}
    }
    .into_any()
}

/// Step ⑦'s challenge phrase (撤销密码), typed twice; `None` when left empty and one is
/// already set (a resubmission keeps it).
pub fn challenge_phrase(
    v: &Values,
    already_set: bool,
) -> Result<Option<certdesk_shared::apply::SetChallengePhrase>, Vec<FieldError>> {
    let (p, again) = (&v[slot::PHRASE], &v[slot::PHRASE_AGAIN]);
    if p.is_empty() && again.is_empty() && already_set {
        return Ok(None);
    }
    let mut e = Vec::new();
    if let Err(error) = certdesk_shared::directory::check_challenge_phrase(p) {
        e.push(FieldError { field: "challenge_phrase".into(), error });
    } else if p != again {
        e.push(FieldError { field: "challenge_phrase_again".into(), error: ValidationError::PasswordMismatch });
    }
    if e.is_empty() {
        Ok(Some(certdesk_shared::apply::SetChallengePhrase { challenge_phrase: p.clone() }))
    } else {
        Err(e)
    }
}

/// Where a step is saved: a step's own endpoint, or the submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Saved {
    ChooseType,
    CertificateInfo,
    Operator,
    Delivery,
    Submit,
}

/// A step's request as JSON, with where it is saved.
fn json<T: serde::Serialize>(r: Result<T, Vec<FieldError>>, to: Saved) -> Result<(Saved, String), Vec<FieldError>> {
    r.map(|r| (to, serde_json::to_string(&r).unwrap_or_default()))
}

/// Saves one step (creating the draft first when there is none yet), or submits (after
/// saving the challenge phrase, when `body` holds one).
async fn save(
    id: String,
    to: Saved,
    body: String,
    l: crate::i18n::Locale,
) -> Result<RequestView, certdesk_shared::ApiError> {
    let id = if id.is_empty() { crate::api::call::<endpoint::StartApplication>(&[], &(), l).await?.id } else { id };
    let args = [id.as_str()];
    match to {
        Saved::ChooseType => crate::api::call_json::<endpoint::ChooseType>(&args, body, l).await,
        Saved::CertificateInfo => crate::api::call_json::<endpoint::SaveCertificateInfo>(&args, body, l).await,
        Saved::Operator => crate::api::call_json::<endpoint::SaveOperator>(&args, body, l).await,
        Saved::Delivery => crate::api::call_json::<endpoint::SaveDelivery>(&args, body, l).await,
        Saved::Submit => {
            if !body.is_empty() {
                crate::api::call_json::<endpoint::SetChallengePhrase>(&args, body, l).await?;
            }
            crate::api::call::<endpoint::SubmitApplication>(&args, &(), l).await
        }
    }
}

/// A labelled `<select>` whose options may change (value, text).
#[component]
fn Select(
    form: &'static str,
    field: &'static str,
    label: Text,
    value: RwSignal<String>,
    errors: RwSignal<Vec<FieldError>>,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = field_id(form, field);
    view! {
        <div class="field" class:invalid=move || error_for(&errors.get(), field).is_some()>
            <label for=id.clone()>{move || label(i18n.get_locale())}</label>
            <select
                id=id
                name=field
                aria-invalid=move || error_for(&errors.get(), field).is_some().to_string()
                on:change=move |ev| {
                    value.set(event_target_value(&ev));
                    errors.update(|e| set_error(e, field, None));
                }
            >
                <option value="">{tr(|l| td_string!(l, choose))}</option>
                {move || {
                    options
                        .get()
                        .into_iter()
                        .map(|(v, t)| {
                            let selected = v == value.get_untracked();
                            view! { <option value=v selected=selected>{t}</option> }
                        })
                        .collect_view()
                }}
            </select>
            {move || {
                error_for(&errors.get(), field)
                    .map(|e| view! { <p class="field-error">{crate::i18n::validation_text(e, i18n.get_locale())}</p> })
            }}
        </div>
    }
}

#[component]
pub fn Apply(pay_step: PayView) -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), nav_apply).to_owned());
    let session = use_session();
    let navigate = use_navigate();
    {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            let here = window().location().pathname().is_ok_and(|p| p == "/apply");
            if session.loaded.get() && session.info.with(Option::is_none) && here {
                navigate("/sign-in?next=/apply", NavigateOptions { replace: true });
            }
        });
    }
    let query = use_query_map();
    let id = Memo::new(move |_| query.with(|q| q.get("id")).unwrap_or_default());
    let catalogue = RwSignal::new(None::<Catalogue>);
    let app = RwSignal::new(None::<RequestView>);
    let v: Slots = std::array::from_fn(|_| RwSignal::new(String::new()));
    v[slot::METHOD].set("post".into());
    v[slot::COD].set("1".into());
    v[slot::HOLDER_ID_TYPE].set(IdType::ResidentId.as_str().into());
    let fs = FormState::new("apply");
    let load_failed = RwSignal::new(None::<certdesk_shared::ErrorCode>);
    Effect::new(move |_| {
        if !session.info.with(Option::is_some) {
            return;
        }
        let l = i18n.get_locale_untracked();
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::CustomerCatalogue>(&[], &(), l).await {
                Ok(c) => catalogue.set(Some(c)),
                Err(e) => load_failed.set(Some(e.code)),
            }
        });
    });
    // (Re)load the application when the address names another one.
    Effect::new(move |_| {
        let id = id.get();
        if id.is_empty() || !session.info.with(Option::is_some) {
            return;
        }
        if app.with_untracked(|a| a.as_ref().is_some_and(|a| a.id == id)) {
            return;
        }
        let l = i18n.get_locale_untracked();
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::GetApplication>(&[&id], &(), l).await {
                Ok(a) => {
                    for (s, x) in v.iter().zip(values_of(&a)) {
                        s.set(x);
                    }
                    app.set(Some(a));
                }
                Err(e) => load_failed.set(Some(e.code)),
            }
        });
    });
    let billing = move || {
        app.with(|a| a.as_ref().map(|a| a.billing))
            .or_else(|| catalogue.with(|c| c.as_ref().map(|c| c.billing)))
            .unwrap_or(BillingMode::ScanToPay)
    };
    let step = Memo::new(move |_| {
        let s = query.with(|q| q.get("step").and_then(|s| s.parse::<u8>().ok()));
        s.or_else(|| app.with(|a| a.as_ref().map(|a| a.step))).unwrap_or(1).clamp(1, 7)
    });
    let go = {
        let navigate = navigate.clone();
        move |id: &str, n: u8| navigate(&format!("/apply?id={id}&step={n}"), Default::default())
    };
    let challenge_set = Memo::new(move |_| app.with(|a| a.as_ref().is_some_and(|a| a.challenge_set)));
    let chosen = move || {
        let (p, t) = (v[slot::PROJECT].get(), v[slot::TYPE].get());
        catalogue.with(|c| c.as_ref().and_then(|c| chosen_type(c, &p, &t).cloned()))
    };

    let next = {
        let go = go.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let l = i18n.get_locale_untracked();
            let values: Values = v.map(|s| s.get_untracked());
            let n = step.get_untracked();
            let id = id.get_untracked();
            let after = next_step(n, billing());
            let go_on = go.clone();
            let go = go.clone();
            let req = match n {
                1 => json(choose_type(&values), Saved::ChooseType),
                2 => json(certificate_info(&values, holder_kind(chosen().as_ref())), Saved::CertificateInfo),
                3 => {
                    let need = chosen().map(|t| t.documents).unwrap_or_default();
                    let e: Vec<FieldError> = app.with_untracked(|a| {
                        need.into_iter()
                            .filter(|k| !a.as_ref().is_some_and(|a| a.documents.iter().any(|d| d.kind == *k)))
                            .map(|k| FieldError { field: k.as_str().into(), error: ValidationError::Required })
                            .collect()
                    });
                    return if e.is_empty() { go_on(&id, after) } else { fs.refuse(e) };
                }
                4 => json(operator(&values), Saved::Operator),
                5 => json(delivery(&values), Saved::Delivery),
                _ => {
                    let set = challenge_set.get_untracked();
                    challenge_phrase(&values, set).map(|p| {
                        (Saved::Submit, p.map(|p| serde_json::to_string(&p).unwrap_or_default()).unwrap_or_default())
                    })
                }
            };
            fs.submit(
                req,
                move |(to, body)| save(id, to, body, l),
                move |a: RequestView| {
                    let id = a.id.clone();
                    app.set(Some(a));
                    if n < 7 {
                        go(&id, after);
                    }
                },
            );
        }
    };
    let back = {
        let go = go.clone();
        move |_| go(&id.get_untracked(), prev_step(step.get_untracked(), billing()))
    };
    let paid = {
        let go = go.clone();
        move || go(&id.get_untracked(), 7)
    };

    let form = "apply";
    let errors = fs.errors;
    let body = move || -> AnyView {
        let n = step.get();
        match n {
            1 => {
                let projects = Signal::derive(move || {
                    catalogue
                        .with(|c| c.iter().flat_map(|c| &c.projects).map(|p| (p.id.clone(), p.name.clone())).collect())
                });
                let types = Signal::derive(move || {
                    let p = v[slot::PROJECT].get();
                    catalogue.with(|c| {
                        c.iter()
                            .flat_map(|c| &c.projects)
                            .filter(|x| x.id == p)
                            .flat_map(|x| &x.types)
                            .map(|t| (t.id.clone(), t.name.clone()))
                            .collect()
                    })
                });
                let media = Signal::derive(move || {
                    let l = i18n.get_locale();
                    chosen()
                        .map(|t| {
                            t.media.iter().map(|m| (m.as_str().to_owned(), medium_text(*m)(l).to_owned())).collect()
                        })
                        .unwrap_or_default()
                });
                view! {
                    <Select form field="project_id" label=|l| td_string!(l, field_project) value=v[slot::PROJECT] errors options=projects />
                    <Select form field="type_id" label=|l| td_string!(l, field_cert_type) value=v[slot::TYPE] errors options=types />
                    <Select form field="medium" label=|l| td_string!(l, field_medium) value=v[slot::MEDIUM] errors options=media />
                }
                    .into_any()
            }
            2 => {
                let validity = Signal::derive(move || {
                    let l = i18n.get_locale();
                    chosen()
                        .map(|t| {
                            t.validity
                                .iter()
                                .map(|o| {
                                    let text = fill(td_string!(l, validity_years), years(o.years, l))
                                        + &fill(td_string!(l, price_yuan), yuan(o.price_fen));
                                    (o.id.clone(), text)
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                });
                let provinces =
                    Signal::derive(|| REGIONS.iter().map(|(p, _)| ((*p).to_owned(), (*p).to_owned())).collect());
                let cities = Signal::derive(move || {
                    let p = v[slot::PROVINCE].get();
                    REGIONS
                        .iter()
                        .filter(|(x, _)| *x == p)
                        .flat_map(|(_, cs)| cs.iter())
                        .map(|c| ((*c).to_owned(), (*c).to_owned()))
                        .collect()
                });
                let kind = holder_kind(chosen().as_ref());
                let id_types = Signal::derive(move || {
                    let l = i18n.get_locale();
                    IdType::ALL.iter().map(|t| (t.as_str().to_owned(), id_type_text(*t)(l).to_owned())).collect()
                });
                let person = step_2_person(kind);
                view! {
                    {(kind != HolderKind::Organisation).then(|| view! {
                        {inputs(form, &person[..1], v, errors)}
                        <Select form field="holder_id_type" label=|l| td_string!(l, field_holder_id_type) value=v[slot::HOLDER_ID_TYPE] errors options=id_types />
                        {inputs(form, &person[1..], v, errors)}
                    })}
                    {(kind != HolderKind::Person).then(|| inputs(form, &STEP_2_UNIT, v, errors))}
                    <Select form field="validity_id" label=|l| td_string!(l, field_validity) value=v[slot::VALIDITY] errors options=validity />
                    {inputs(form, &step_2_email(kind), v, errors)}
                    <Select form field="province" label=|l| td_string!(l, field_province) value=v[slot::PROVINCE] errors options=provinces />
                    <Select form field="city" label=|l| td_string!(l, field_city) value=v[slot::CITY] errors options=cities />
                }
                    .into_any()
            }
            3 => {
                let kinds = chosen().map(|t| t.documents).unwrap_or_default();
                kinds.into_iter().map(|kind| view! { <Upload kind app fs /> }).collect_view().into_any()
            }
            4 => view! {
                <p class="field">
                    {tr(|l| td_string!(l, field_id_type))} "：" {tr(|l| td_string!(l, id_type_card))}
                </p>
                {inputs(form, &STEP_4, v, errors)}
            }
            .into_any(),
            5 => delivery_fields(form, v, errors),
            6 => {
                let paid = paid.clone();
                let paid = Callback::new(move |()| paid());
                let id = id.get_untracked();
                pay_step(id, paid)
            }
            7 => {
                // Tracked: the application may arrive after the step is first drawn.
                let set = challenge_set.get();
                view! {
                    <p class="hint">{tr(if set { |l| td_string!(l, challenge_phrase_set) } else { |l| td_string!(l, challenge_phrase_intro) })}</p>
                    <Field form field="challenge_phrase" label=|l| td_string!(l, challenge_phrase) value=v[slot::PHRASE] errors input_type="password"
                        autocomplete="new-password" optional=set check=|s| certdesk_shared::directory::check_challenge_phrase(s) />
                    <Field form field="challenge_phrase_again" label=|l| td_string!(l, challenge_phrase_again) value=v[slot::PHRASE_AGAIN] errors
                        input_type="password" autocomplete="new-password" optional=set />
                    {move || elsewhere(id.get(), &errors.get())}
                }
                .into_any()
            }
            _ => ().into_any(),
        }
    };
    let locked = Memo::new(move |_| app.with(|a| a.as_ref().is_some_and(|a| !a.status.editable())));
    // The application the address names is still on its way: no form to act on yet (a step
    // drawn before it arrives would judge without it, as ⑦ does whether a phrase is set).
    let waiting = Memo::new(move |_| {
        let id = id.get();
        !id.is_empty() && load_failed.get().is_none() && app.with(|a| a.as_ref().is_none_or(|a| a.id != id))
    });

    view! {
        <h1>{tr(|l| td_string!(l, nav_apply))}</h1>
        <ol class="steps" aria-label=tr(|l| td_string!(l, steps_label))>
            {(1..=7u8)
                .map(|n| {
                    let t = step_text(n);
                    view! {
                        <li
                            class:current=move || step.get() == n
                            class:done=move || n < step.get()
                            aria-current=move || (step.get() == n).then_some("step")
                        >
                            <span class="n">{n}</span>
                            {move || t(i18n.get_locale())}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
        {move || load_failed.get().map(|c| view! { <p class="alert" role="alert">{move || crate::api::error_message(c, i18n.get_locale())}</p> })}
        {move || {
            app.with(|a| {
                a.as_ref()
                    .filter(|a| a.status == RequestStatus::Rejected)
                    .map(|a| view! { <div class="callout" role="status"><p>{tr(|l| td_string!(l, rejected_title))}</p>{reasons(&a.reasons)}</div> })
            })
        }}
        {move || {
            // Built again only when the application stops being editable: an upload landing
            // must not build the form again under the customer's hands.
            if waiting.get() {
                return view! { <p role="status">{tr(|l| td_string!(l, loading))}</p> }.into_any();
            }
            match locked.get() {
                true => app.with_untracked(|a| a.as_ref().map(submitted)).into_any(),
                false => {
                    let next = next.clone();
                    let back = back.clone();
                    view! {
                        <form class="form wizard" novalidate on:submit=next>
                            <h2>{move || step_text(step.get())(i18n.get_locale())}</h2>
                            {body.clone()}
                            <FailureAlert failure=fs.failure />
                            <div class="actions">
                                {move || {
                                    (step.get() > 1)
                                        .then(|| {
                                            let back = back.clone();
                                            view! {
                                                <button type="button" class="secondary" on:click=back>
                                                    {tr(|l| td_string!(l, prev))}
                                                </button>
                                            }
                                        })
                                }}
                                {move || {
                                    (step.get() != 6)
                                        .then(|| {
                                            view! {
                                                <button type="submit" class="primary" disabled=move || fs.busy.get()>
                                                    {move || {
                                                        let l = i18n.get_locale();
                                                        if step.get() == 7 { td_string!(l, step_7) } else { td_string!(l, next) }
                                                    }}
                                                </button>
                                            }
                                        })
                                }}
                            </div>
                        </form>
                    }
                        .into_any()
                }
            }
        }}
    }
}

/// The step where a field the server names is filled in (submission names fields of any step).
pub fn field_step(field: &str) -> Option<u8> {
    Some(match field {
        "choose_type" | "project_id" | "type_id" | "medium" => 1,
        "certificate_info" | "holder" | "holder_name" | "holder_id_type" | "holder_id_number" | "org_name"
        | "credit_code" | "validity_id" | "email" | "province" | "city" => 2,
        "operator" | "name" | "id_number" | "mobile" | "unit_phone" | "address" => 4,
        "delivery" | "recipient_name" | "recipient_phone" | "recipient_company" => 5,
        f => DocumentKind::parse(f).map(|_| 3)?,
    })
}

/// At ⑦: what submission found missing or no longer valid on earlier steps, each with a link
/// to its step.
fn elsewhere(id: String, errors: &[FieldError]) -> Option<AnyView> {
    let i18n = use_i18n();
    let items: Vec<_> = errors
        .iter()
        .filter_map(|e| {
            let step = field_step(&e.field)?;
            let label = field_text(&e.field)?;
            let href = format!("/apply?id={id}&step={step}");
            let error = e.error;
            Some(view! {
                <li>
                    <a href=href>
                        {move || {
                            let l = i18n.get_locale();
                            let (at, what) = (step_text(step)(l), label(l));
                            if at == what { at.to_owned() } else { format!("{at} · {what}") }
                        }}
                    </a>
                    "：" {move || crate::i18n::validation_text(error, i18n.get_locale())}
                </li>
            })
        })
        .collect();
    (!items.is_empty()).then(|| {
        view! {
            <div class="callout" role="alert">
                <p>{tr(|l| td_string!(l, fix_elsewhere))}</p>
                <ul class="reasons">{items}</ul>
            </div>
        }
        .into_any()
    })
}

/// The reviewer's reasons, field by field.
pub fn reasons(list: &[certdesk_shared::apply::FieldReason]) -> AnyView {
    let i18n = use_i18n();
    let items = list
        .iter()
        .map(|r| {
            let (f, reason) = (r.field.clone(), r.reason.clone());
            view! {
                <li>
                    <strong>{move || field_text(&f).map_or(f.clone(), |t| t(i18n.get_locale()).to_owned())}</strong>
                    "：" {reason}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="reasons">{items}</ul> }.into_any()
}

/// After submission: the acceptance number and what happens next.
fn submitted(a: &RequestView) -> impl IntoView + use<> {
    let i18n = use_i18n();
    let no = a.acceptance_no.clone().unwrap_or_default();
    let status = status_text(a.status);
    let pdf = endpoint::ApplicationForm::path(&[&a.id]);
    view! {
        <div class="callout success" role="status">
            <p>{move || status(i18n.get_locale())}</p>
            <p>{tr(|l| td_string!(l, acceptance_no))} "：" <strong class="acceptance-no">{no}</strong></p>
            <p>{tr(|l| td_string!(l, submitted_text))}</p>
            <p>
                <a href=pdf target="_blank" rel="noopener">{tr(|l| td_string!(l, form_pdf))}</a>
                " · "
                <a href="/applications">{tr(|l| td_string!(l, my_applications))}</a>
            </p>
        </div>
    }
}

/// While a file is sent: a progress bar with the share sent so far.
fn upload_progress(sent: RwSignal<Option<f64>>) -> impl IntoView {
    move || {
        sent.get().map(|p| {
            // A whole number: formatting a float would bring its code into the wasm.
            let percent = (p * 100.0).round().clamp(0.0, 100.0) as u8;
            view! {
                <p class="upload-progress" role="status">
                    <progress max="100" value=percent aria-label=tr(|l| td_string!(l, uploading))></progress>
                    " " {tr(|l| td_string!(l, uploading))} " " {format!("{percent}%")}
                </p>
            }
        })
    }
}

/// Reads a chosen file's bytes.
async fn file_bytes(input: &web_sys::HtmlInputElement) -> Option<(String, js_sys::Uint8Array)> {
    let file = input.files()?.get(0)?;
    let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await.ok()?;
    Some((file.name(), js_sys::Uint8Array::new(&buf)))
}

/// One document of step ③: a file input, checked in the browser by size and content, sent
/// as soon as it is chosen, with a progress bar and what was uploaded.
#[component]
pub fn Upload(kind: DocumentKind, app: RwSignal<Option<RequestView>>, fs: FormState) -> impl IntoView {
    let i18n = use_i18n();
    let field = kind.as_str();
    let id = field_id(fs.id, field);
    let sent = RwSignal::new(None::<f64>);
    let doc = move || app.with(|a| a.as_ref().and_then(|a| a.documents.iter().find(|d| d.kind == kind).cloned()));
    let hint: Text =
        if kind == DocumentKind::Other { |l| td_string!(l, doc_hint_other) } else { |l| td_string!(l, doc_hint_image) };
    let on_change = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let l = i18n.get_locale_untracked();
        let Some(app_id) = app.with_untracked(|a| a.as_ref().map(|a| a.id.clone())) else { return };
        leptos::task::spawn_local(async move {
            let Some((name, bytes)) = file_bytes(&input).await else { return };
            if let Err(e) = check_document(kind, &bytes.to_vec()) {
                fs.errors.update(|es| set_error(es, field, Some(e)));
                input.set_value("");
                return;
            }
            fs.errors.update(|es| set_error(es, field, None));
            sent.set(Some(0.0));
            let args = [app_id.as_str(), field];
            let res =
                crate::api::upload::<endpoint::UploadDocument>(&args, name, bytes, l, move |p| sent.set(Some(p))).await;
            sent.set(None);
            match res {
                Ok(d) => app.update(|a| {
                    if let Some(a) = a {
                        a.documents.retain(|x| x.kind != kind);
                        a.documents.push(d);
                    }
                }),
                Err(e) => fs.fail(e.into()),
            }
        });
    };
    view! {
        <div class="field" class:invalid=move || error_for(&fs.errors.get(), field).is_some()>
            <label for=id.clone()>{move || doc_text(kind)(i18n.get_locale())}</label>
            <input id=id type="file" name=field on:change=on_change />
            <p class="hint">{move || hint(i18n.get_locale())}</p>
            {upload_progress(sent)}
            {move || {
                let app_id = app.with(|a| a.as_ref().map(|a| a.id.clone()))?;
                doc().map(|d| {
                    // The stored file itself, fetched again when it is replaced.
                    let src = format!("{}?v={}", endpoint::DownloadDocument::path(&[&app_id, field]), d.sha256);
                    let picture = !matches!(d.file_type, FileType::Pdf | FileType::Zip | FileType::Rar);
                    view! {
                        <div class="preview">
                            {picture.then(|| view! { <img src=src.clone() alt=d.file_name.clone() /> })}
                            <p>
                                <a href=src download=d.file_name.clone()>{d.file_name.clone()}</a>
                                " · " {format!("{} KB", d.size.div_ceil(1024))} " · " {d.file_type.mime()}
                            </p>
                        </div>
                    }
                })
            }}
            {move || {
                error_for(&fs.errors.get(), field)
                    .map(|e| view! { <p class="field-error">{crate::i18n::validation_text(e, i18n.get_locale())}</p> })
            }}
        </div>
    }
}

/// The payment of request `id` as a chunk of the bundle's wasm, fetched when first drawn;
/// `paid` runs once it is paid. The wizard gets it from its route table (`app::pay_step`),
/// so that it could be a chunk itself: a lazy function called only from inside another would
/// be split into every bundle (xtask refuses it).
pub type PayView = fn(String, Callback<()>) -> AnyView;

/// The wizard's step ⑥ ([`PayView`]): QR payment or a bank transfer.
#[leptos::lazy]
pub fn pay_step_lazy(id: String, paid: Callback<()>) -> AnyView {
    view! { <PayStep id paid=move || paid.run(()) /> }.into_any()
}

/// [`Pay`] for request `id` as a chunk of the bundle's wasm, fetched when first drawn
/// (证书延期's and 证书补办's payment, which comes after their first page; their pages are in
/// their bundle's main module, so they call it directly).
pub fn pay_lazily(id: String, paid: impl Fn() + Send + Sync + 'static) -> AnyView {
    crate::components::lazily(pay_lazy(id, Callback::new(move |()| paid())))
}

#[leptos::lazy]
fn pay_lazy(id: String, paid: Callback<()>) -> AnyView {
    view! { <Pay id paid=move || paid.run(()) /> }.into_any()
}

/// Step ⑥: 扫码缴费, or 转账汇款 with a voucher (seed 002). A transfer already waiting for
/// finance opens on its own tab (no QR code may be made on top of it).
#[component]
fn PayStep(id: String, paid: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let transfer = RwSignal::new(None::<BankTransfer>);
    let by_transfer = RwSignal::new(None::<bool>);
    let app_id = StoredValue::new(id.clone());
    leptos::task::spawn_local(async move {
        let t = crate::api::call::<endpoint::GetBankTransfer>(&[&app_id.get_value()], &(), i18n.get_locale_untracked())
            .await
            .ok();
        by_transfer.set(Some(
            t.as_ref().is_some_and(|t| matches!(t.status, Some(PaymentStatus::NotPaid | PaymentStatus::Paid))),
        ));
        transfer.set(t);
    });
    // Finance confirms in its own time: look again every 5 s while a voucher waits.
    let timer = set_interval_with_handle(
        move || {
            if transfer.with_untracked(|t| t.as_ref().is_some_and(|t| t.status == Some(PaymentStatus::NotPaid))) {
                leptos::task::spawn_local(async move {
                    // Redrawn only when something changed: the file input keeps its focus.
                    let app_id = app_id.get_value();
                    if let Ok(t) =
                        crate::api::call::<endpoint::GetBankTransfer>(&[&app_id], &(), i18n.get_locale_untracked())
                            .await
                        && transfer.with_untracked(|old| old.as_ref() != Some(&t))
                    {
                        transfer.set(Some(t));
                    }
                });
            }
        },
        std::time::Duration::from_secs(5),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = timer {
            t.clear();
        }
    });
    {
        let paid = paid.clone();
        let moved_on = StoredValue::new(false);
        Effect::new(move |_| {
            if transfer.with(|t| t.as_ref().is_some_and(|t| t.status == Some(PaymentStatus::Paid)))
                && !moved_on.get_value()
            {
                moved_on.set_value(true);
                paid();
            }
        });
    }
    let method = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(b) = by_transfer.get() {
            method.set(b);
        }
    });
    let failure = RwSignal::new(None::<crate::form::Failure>);
    let voucher_error = RwSignal::new(None::<ValidationError>);
    let sent = RwSignal::new(None::<f64>);
    let on_voucher = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let l = i18n.get_locale_untracked();
        failure.set(None);
        voucher_error.set(None);
        leptos::task::spawn_local(async move {
            let Some((name, bytes)) = file_bytes(&input).await else { return };
            input.set_value("");
            // The same rule as the licence, checked before sending.
            if let Err(e) = check_document(DocumentKind::BusinessLicence, &bytes.to_vec()) {
                return voucher_error.set(Some(e));
            }
            sent.set(Some(0.0));
            let app_id = app_id.get_value();
            let res = crate::api::upload::<endpoint::UploadTransferVoucher>(&[&app_id], name, bytes, l, move |p| {
                sent.set(Some(p))
            })
            .await;
            sent.set(None);
            match res {
                Ok(t) => transfer.set(Some(t)),
                Err(e) => match e.fields.first() {
                    Some(f) => voucher_error.set(Some(f.error)),
                    None => failure.set(Some(e.into())),
                },
            }
        });
    };
    let methods: Vec<(bool, Text)> =
        vec![(false, |l| td_string!(l, pay_by_qr)), (true, |l| td_string!(l, pay_by_transfer))];
    move || {
        by_transfer.get().map(|_| {
            let paid = paid.clone();
            let id = id.clone();
            view! {
                <crate::components::fields::Tabs name="pay-method" legend=|l| td_string!(l, pay_method) options=methods.clone() value=method />
                {move || if !method.get() {
                    // A voucher waiting for finance: no QR code on top of it (the server refuses one).
                    if transfer.with(|t| t.as_ref().is_some_and(|t| t.status == Some(PaymentStatus::NotPaid))) {
                        view! { <p class="callout" role="status">{tr(|l| td_string!(l, transfer_blocks_qr))}</p> }.into_any()
                    } else {
                        view! { <Pay id=id.clone() paid=paid.clone() /> }.into_any()
                    }
                } else {
                    transfer.get().map(|t| {
                        let l = i18n.get_locale();
                        let waiting = t.status == Some(PaymentStatus::NotPaid);
                        view! {
                            <div class="transfer">
                                <p class="amount">{fill(td_string!(l, pay_amount), yuan(t.amount_fen))}</p>
                                <dl class="account">
                                    <dt>{td_string!(l, transfer_account_name)}</dt><dd>{t.account_name}</dd>
                                    <dt>{td_string!(l, transfer_account_no)}</dt><dd>{t.account_no}</dd>
                                    <dt>{td_string!(l, transfer_bank)}</dt><dd>{t.bank}</dd>
                                </dl>
                                {waiting.then(|| view! {
                                    <p class="ok" role="status">
                                        {fill(td_string!(l, transfer_waiting), t.voucher_name.clone().unwrap_or_default())}
                                    </p>
                                })}
                                <div class="field">
                                    <label for="apply-voucher">{td_string!(l, col_voucher)}</label>
                                    <input id="apply-voucher" type="file" name="voucher" on:change=on_voucher />
                                    <p class="hint">{td_string!(l, transfer_hint)}</p>
                                    {upload_progress(sent)}
                                    {move || voucher_error.get().map(|e| view! {
                                        <p class="field-error" role="alert">{crate::i18n::validation_text(e, i18n.get_locale())}</p>
                                    })}
                                </div>
                                <crate::components::fields::FailureAlert failure />
                            </div>
                        }
                    }).into_any()
                }}
            }
        })
    }
}

/// Step ⑥: the way to pay by scanning (微信支付 or 支付宝, among those the server offers;
/// chosen already when only one is), then the QR code of an order in that way, polled every
/// 2 s until paid. Choosing the other way replaces the open order.
#[component]
pub fn Pay(id: String, paid: impl Fn() + Clone + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let order = RwSignal::new(None::<PaymentOrder>);
    let ways = RwSignal::new(None::<Vec<PayWay>>);
    let way = RwSignal::new(None::<PayWay>);
    let failure = RwSignal::new(None::<crate::form::Failure>);
    let id = StoredValue::new(id);
    // Answers may land after the step has moved on (or been drawn again): `try_set` then
    // drops them instead of touching a disposed signal.
    let new_order = move |w: Option<PayWay>| {
        let l = i18n.get_locale_untracked();
        let p = id.get_value();
        failure.set(None);
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::OrderPayment>(&[&p], &PaymentRequest { way: w }, l).await {
                Ok(o) => drop(order.try_set(Some(o))),
                Err(e) => drop(failure.try_set(Some(e.into()))),
            }
        });
    };
    // The ways offered and the order so far: a paid one is shown, an open one kept in its way.
    {
        let l = i18n.get_locale_untracked();
        let p = id.get_value();
        leptos::task::spawn_local(async move {
            let offered =
                crate::api::call::<endpoint::PaymentWays>(&[], &(), l).await.map(|w| w.ways).unwrap_or_default();
            let so_far = crate::api::call::<endpoint::PaymentStatus>(&[&p], &(), l).await.ok();
            if ways.try_set(Some(offered.clone())).is_some() {
                return; // gone meanwhile
            }
            if so_far.as_ref().is_some_and(|o| o.status == PaymentStatus::Paid) {
                order.set(so_far.clone());
            }
            match opening_way(&offered, so_far.as_ref()) {
                Some(w) => way.set(Some(w)),
                // Nothing offered: the server says why.
                None if offered.is_empty() => new_order(None),
                None => {}
            }
        });
    }
    // A way chosen: its order (the open one in that way, or a new one).
    Effect::new(move |_| {
        let Some(w) = way.get() else { return };
        let shown = order.with_untracked(|o| {
            o.as_ref().is_some_and(|o| {
                o.status == PaymentStatus::Paid || (o.status == PaymentStatus::NotPaid && o.way == Some(w))
            })
        });
        if !shown {
            new_order(Some(w));
        }
    });
    let timer = set_interval_with_handle(
        move || {
            if order.with_untracked(|o| o.as_ref().is_some_and(|o| o.status == PaymentStatus::NotPaid)) {
                let l = i18n.get_locale_untracked();
                let p = id.get_value();
                leptos::task::spawn_local(async move {
                    if let Ok(o) = crate::api::call::<endpoint::PaymentStatus>(&[&p], &(), l).await {
                        drop(order.try_set(Some(o)));
                    }
                });
            }
        },
        std::time::Duration::from_secs(2),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = timer {
            t.clear();
        }
    });
    Effect::new(move |_| {
        if order.with(|o| o.as_ref().is_some_and(|o| o.status == PaymentStatus::Paid)) {
            paid();
        }
    });
    let cancel = move |_| {
        let l = i18n.get_locale_untracked();
        let p = id.get_value();
        leptos::task::spawn_local(async move {
            let _ = crate::api::call::<endpoint::CancelPayment>(&[&p], &(), l).await;
            if let Ok(o) = crate::api::call::<endpoint::PaymentStatus>(&[&p], &(), l).await {
                drop(order.try_set(Some(o)));
            }
        });
    };
    let choice = move || {
        ways.get().filter(|w| !w.is_empty()).map(|offered| {
            let options: Vec<(Option<PayWay>, Text)> = offered.into_iter().map(|w| (Some(w), way_name(w))).collect();
            let paid_already = order.with(|o| o.as_ref().is_some_and(|o| o.status == PaymentStatus::Paid));
            (!paid_already).then(|| {
                view! {
                    <crate::components::fields::Tabs name="pay-way" legend=|l| td_string!(l, pay_way) options value=way />
                }
            })
        })
    };
    view! {
        <div class="pay">
            {choice}
            {move || {
                order
                    .get()
                    .filter(|o| o.status == PaymentStatus::Paid || o.way.is_none() || o.way == way.get())
                    .map(|o| {
                        let l = i18n.get_locale();
                        let open = o.status == PaymentStatus::NotPaid;
                        let scan = match o.way {
                            Some(PayWay::Alipay) => td_string!(l, pay_scan_alipay),
                            _ => td_string!(l, pay_scan_wechat),
                        };
                        view! {
                            <p class="amount">{fill(td_string!(l, pay_amount), yuan(o.amount_fen))}</p>
                            {if open {
                                view! {
                                    <p>{scan}</p>
                                    <div class="qr" inner_html=o.qr_svg></div>
                                    // A page a phone can open (Alipay's, the sandboxes'); WeChat
                                    // Pay's weixin:// code opens only in WeChat.
                                    {(o.code_url.starts_with("https://") || o.code_url.starts_with("http://")).then(|| view! {
                                        <p>
                                            <a href=o.code_url.clone() target="_blank" rel="noopener">{td_string!(l, pay_open)}</a>
                                        </p>
                                    })}
                                    <p class="hint">{fill(td_string!(l, pay_expires), short_time(&o.expires_at))}</p>
                                    <button type="button" class="secondary" on:click=cancel>{td_string!(l, pay_cancel)}</button>
                                }
                                    .into_any()
                            } else if o.status == PaymentStatus::Paid {
                                view! { <p class="ok" role="status">{td_string!(l, pay_paid)}</p> }.into_any()
                            } else {
                                view! {
                                    <p role="status">{td_string!(l, pay_ended)}</p>
                                    <button type="button" class="primary" on:click=move |_| new_order(way.get_untracked())>{td_string!(l, pay_new)}</button>
                                }
                                    .into_any()
                            }}
                        }
                    })
            }}
            <crate::components::fields::FailureAlert failure />
        </div>
    }
}

/// The way step ⑥ opens with: that of the order paid, or of the open order while its way is
/// still offered; else the only way offered; else none (the customer chooses).
pub fn opening_way(offered: &[PayWay], so_far: Option<&PaymentOrder>) -> Option<PayWay> {
    let kept = so_far.and_then(|o| match o.status {
        PaymentStatus::Paid => o.way,
        PaymentStatus::NotPaid => o.way.filter(|w| offered.contains(w)),
        _ => None,
    });
    match (kept, offered) {
        (Some(w), _) => Some(w),
        (None, [only]) => Some(*only),
        _ => None,
    }
}

/// A way of paying as the customer knows it.
fn way_name(way: PayWay) -> Text {
    match way {
        PayWay::Wechat => |l| td_string!(l, pay_way_wechat),
        PayWay::Alipay => |l| td_string!(l, pay_way_alipay),
    }
}

/// How an application's choices are named (for lists).
pub fn type_name(cat: Option<&Catalogue>, a: &RequestView) -> String {
    a.choose_type
        .as_ref()
        .map(|c| {
            cat.and_then(|cat| chosen_type(cat, &c.project_id, &c.type_id))
                .map_or(c.type_id.clone(), |t| t.name.clone())
        })
        .unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: PaymentStatus, way: Option<PayWay>) -> PaymentOrder {
        PaymentOrder {
            out_trade_no: "CD1".into(),
            amount_fen: 30000,
            status,
            way,
            code_url: String::new(),
            qr_svg: String::new(),
            expires_at: String::new(),
            paid_at: None,
        }
    }

    #[test]
    fn step_six_opens_with_the_way_of_the_order_or_the_only_way_offered() {
        use PayWay::{Alipay, Wechat};
        let both = [Wechat, Alipay];
        let open = |w| order(PaymentStatus::NotPaid, Some(w));
        let cases: [(&[PayWay], Option<PaymentOrder>, Option<PayWay>); 7] = [
            (&[Wechat], None, Some(Wechat)),
            (&both, None, None),
            (&both, Some(open(Alipay)), Some(Alipay)),
            // A way no longer offered is not kept.
            (&[Wechat], Some(open(Alipay)), Some(Wechat)),
            (&both, Some(order(PaymentStatus::Closed, Some(Alipay))), None),
            (&both, Some(order(PaymentStatus::Paid, Some(Alipay))), Some(Alipay)),
            (&[], None, None),
        ];
        for (offered, so_far, expected) in cases {
            assert_eq!(opening_way(offered, so_far.as_ref()), expected, "{offered:?} {so_far:?}");
        }
    }

    fn filled() -> Values {
        let mut v: Values = Default::default();
        v[slot::PROJECT] = "ra-test".into();
        v[slot::TYPE] = "org".into();
        v[slot::MEDIUM] = "ukey".into();
        v[slot::ORG_NAME] = "天津市滨海数字认证有限公司".into();
        v[slot::CREDIT_CODE] = "91350100M000100Y43".into();
        v[slot::VALIDITY] = "1y".into();
        v[slot::PROVINCE] = "天津市".into();
        v[slot::CITY] = "和平区".into();
        v[slot::OP_NAME] = "张三".into();
        v[slot::ID_NUMBER] = "11010519491231002X".into();
        v[slot::MOBILE] = "18622503055".into();
        v[slot::OP_EMAIL] = "123@tjbhca.com".into();
        v[slot::METHOD] = "post".into();
        v[slot::RECIPIENT] = "张三".into();
        v[slot::PHONE] = "18622503055".into();
        v[slot::ADDRESS] = "天津市空港经济区西七道26号".into();
        v
    }

    fn fields<T>(r: Result<T, Vec<FieldError>>) -> Vec<String> {
        r.err().unwrap_or_default().into_iter().map(|e| format!("{}:{}", e.field, e.error)).collect()
    }

    #[test]
    fn a_filled_wizard_makes_every_request() {
        let v = filled();
        assert_eq!(choose_type(&v).unwrap().medium, Medium::Ukey);
        assert_eq!(certificate_info(&v, HolderKind::Organisation).unwrap().city, "和平区");
        assert_eq!(operator(&v).unwrap().unit_phone, None);
        let d = delivery(&v).unwrap();
        assert_eq!(d.method, DeliveryMethod::Post);
        assert!(!d.cash_on_delivery);
    }

    #[test]
    fn each_step_names_its_wrong_fields() {
        let mut v = filled();
        v[slot::CREDIT_CODE] = "999999999999999999".into();
        v[slot::CITY] = "朝阳区".into();
        assert_eq!(fields(certificate_info(&v, HolderKind::Organisation)), ["credit_code:credit_code_check_char"]);
        v[slot::CREDIT_CODE] = "91350100M000100Y43".into();
        assert_eq!(fields(certificate_info(&v, HolderKind::Organisation)), ["city:region_unknown"]);
        assert_eq!(
            fields(choose_type(&Values::default())),
            ["project_id:required", "type_id:required", "medium:required"]
        );
        v[slot::RECIPIENT] = String::new();
        assert_eq!(fields(delivery(&v)), ["recipient_name:required"]);
        v[slot::METHOD] = "counter".into();
        assert!(delivery(&v).unwrap().recipient_name.is_none());
    }

    #[test]
    fn step_two_asks_each_type_for_its_holder() {
        let mut v = filled();
        v[slot::HOLDER_NAME] = "李四".into();
        v[slot::HOLDER_ID_TYPE] = "resident_id".into();
        v[slot::HOLDER_ID_NUMBER] = "11010519491231002x".into();
        v[slot::EMAIL] = "lisi@example.com".into();
        let person = certificate_info(&v, HolderKind::Person).unwrap();
        assert_eq!(person.holder.common_name(), "李四");
        assert_eq!(person.holder.id().map(|d| d.number()), Some("11010519491231002X"));
        assert_eq!(person.holder.organisation(), None, "a person's certificate carries no unit");
        let legal = certificate_info(&v, HolderKind::LegalPerson).unwrap();
        assert_eq!(legal.holder.kind(), HolderKind::LegalPerson);
        assert_eq!(legal.holder.organisation().map(|(o, _)| o.as_str()), Some("天津市滨海数字认证有限公司"));
        // The saved application fills the same inputs back.
        let view = |info| RequestView {
            id: "a".into(),
            kind: RequestKind::Apply,
            acceptance_no: None,
            status: RequestStatus::Draft,
            step: 3,
            choose_type: None,
            certificate_info: Some(info),
            documents: vec![],
            operator: None,
            delivery: None,
            price_fen: None,
            billing: BillingMode::Settlement,
            reasons: vec![],
            created_at: String::new(),
            submitted_at: None,
            decided_at: None,
            from_certificate_uid: None,
            certificate_uid: None,
            renewal: None,
            holder_name: None,
            challenge_set: false,
            revocation_reason: None,
            changes: Vec::new(),
            reissue: None,
        };
        let back = values_of(&view(legal));
        assert_eq!(
            (&back[slot::HOLDER_NAME][..], &back[slot::HOLDER_ID_NUMBER][..], &back[slot::ORG_NAME][..]),
            ("李四", "11010519491231002X", "天津市滨海数字认证有限公司")
        );

        // Wrong numbers for the chosen document, and a person's missing e-mail.
        v[slot::HOLDER_ID_TYPE] = "passport".into();
        v[slot::HOLDER_ID_NUMBER] = "E123".into();
        v[slot::EMAIL] = String::new();
        assert_eq!(
            fields(certificate_info(&v, HolderKind::Person)),
            ["holder_id_number:passport_format", "email:required"]
        );
        v[slot::HOLDER_ID_TYPE] = "resident_id".into();
        v[slot::HOLDER_ID_NUMBER] = "110105194912310021".into();
        v[slot::HOLDER_NAME] = "李".into();
        assert_eq!(
            fields(certificate_info(&v, HolderKind::LegalPerson)),
            ["holder_name:person_name_length", "holder_id_number:id_card_check_digit"]
        );
        // A unit's e-mail stays optional; its name and code are not asked of a person.
        v[slot::ORG_NAME] = String::new();
        assert!(certificate_info(&v, HolderKind::Organisation).is_err());
        v[slot::HOLDER_NAME] = "李四".into();
        v[slot::HOLDER_ID_NUMBER] = "11010519491231002X".into();
        v[slot::EMAIL] = "lisi@example.com".into();
        assert!(certificate_info(&v, HolderKind::Person).is_ok());
        for f in ["holder_name", "holder_id_type", "holder_id_number", "holder"] {
            assert_eq!(field_step(f), Some(2), "{f}");
            assert!(field_text(f).is_some(), "{f}");
        }
    }

    #[test]
    fn settlement_skips_payment() {
        assert_eq!(next_step(5, BillingMode::Settlement), 7);
        assert_eq!(next_step(5, BillingMode::ScanToPay), 6);
        assert_eq!(prev_step(7, BillingMode::Settlement), 5);
        assert_eq!(prev_step(1, BillingMode::ScanToPay), 1);
    }

    #[test]
    fn reasons_are_labelled() {
        for f in ["org_name", "credit_code", "business_licence", "operator_id", "other", "name", "mobile"] {
            assert!(field_text(f).is_some(), "{f}");
        }
    }

    #[test]
    fn what_submission_refuses_leads_to_its_step() {
        // The fields `submit` names on the server (domain::apply::missing).
        let cases = [
            ("medium", 1),
            ("choose_type", 1),
            ("certificate_info", 2),
            ("business_licence", 3),
            ("other", 3),
            ("operator", 4),
            ("delivery", 5),
        ];
        for (f, step) in cases {
            assert_eq!(field_step(f), Some(step), "{f}");
            assert!(field_text(f).is_some(), "{f}");
        }
        // The challenge phrase is on ⑦ itself, under its field.
        assert_eq!(field_step("challenge_phrase"), None);
    }
}
