//! 注册 (seed 003 §1.2.2, seed 004 §2.1): 企业账户, 个人账户 or 主管部门账户. The phone number
//! is the user name; an SMS code proves it; the 电子认证服务协议 must be accepted.

use crate::i18n::td_string;
use crate::router::{use_navigate, use_query_map};
use certdesk_shared::account::{AGREEMENT_VERSION, AccountKind, CodePurpose, RegisterRequest};
use certdesk_shared::endpoint;
use certdesk_shared::{
    CreditCode, Email, FieldError, IdCardNumber, Mobile, OrgName, OtpCode, Password, PersonName, ValidationError,
};
use leptos::prelude::*;

use crate::components::fields::{
    AgreementCheck, CaptchaField, CaptchaState, FailureAlert, Field, FormState, SendCode, Tabs, Text,
};
use crate::components::{tr, use_page_title};
use crate::form::{check, confirmation, optional};
use crate::i18n::{Locale, use_i18n};
use crate::session::use_session;
use certdesk_shared::Named;

/// What the form holds, as typed.
#[derive(Debug, Clone)]
pub struct RegisterForm {
    pub kind: AccountKind,
    pub org_name: String,
    pub credit_code: String,
    pub name: String,
    pub id_number: String,
    pub mobile: String,
    pub email: String,
    pub password: String,
    pub confirm_password: String,
    pub code: String,
    pub agreed: bool,
}

impl RegisterForm {
    /// The request, or every field error (the same rules the server applies, plus the
    /// repeated password, which only the browser sees).
    pub fn request(&self) -> Result<RegisterRequest, Vec<FieldError>> {
        let mut e = Vec::new();
        let org_name = if self.kind.has_organisation() {
            check(&mut e, "org_name", OrgName::parse(&self.org_name)).map(Some)
        } else {
            Some(None)
        };
        let credit_code = if self.kind.has_credit_code() {
            check(&mut e, "credit_code", CreditCode::parse(&self.credit_code)).map(Some)
        } else {
            Some(None)
        };
        let name = check(&mut e, "name", PersonName::parse(&self.name));
        let id_number = check(&mut e, "id_number", IdCardNumber::parse(&self.id_number));
        let mobile = check(&mut e, "mobile", Mobile::parse(&self.mobile));
        let email = check(&mut e, "email", optional(&self.email, Email::parse));
        let password = check(&mut e, "password", Password::parse(&self.password));
        if password.is_some() {
            check(&mut e, "confirm_password", confirmation(&self.password, &self.confirm_password));
        }
        let code = check(&mut e, "code", OtpCode::parse(&self.code));
        if !self.agreed {
            e.push(FieldError { field: "agreement_version".into(), error: ValidationError::AgreementRequired });
        }
        let (
            Some(org_name),
            Some(credit_code),
            Some(name),
            Some(id_number),
            Some(mobile),
            Some(email),
            Some(password),
            Some(code),
            true,
        ) = (org_name, credit_code, name, id_number, mobile, email, password, code, e.is_empty())
        else {
            return Err(e);
        };
        let req = RegisterRequest {
            kind: self.kind,
            org_name,
            credit_code,
            name,
            id_number,
            mobile,
            email,
            password,
            code,
            agreement_version: AGREEMENT_VERSION.to_owned(),
        };
        let rules = req.check();
        if rules.is_empty() { Ok(req) } else { Err(rules) }
    }
}

fn kind_label(kind: AccountKind) -> Text {
    match kind {
        AccountKind::Enterprise => |l| td_string!(l, kind_enterprise),
        AccountKind::Personal => |l| td_string!(l, kind_personal),
        AccountKind::Department => |l| td_string!(l, kind_department),
    }
}

/// The label of 姓名: the operator's name for organisations.
fn name_label(kind: AccountKind) -> Text {
    if kind.has_organisation() { |l: Locale| td_string!(l, field_operator_name) } else { |l| td_string!(l, field_name) }
}

#[component]
pub fn Register() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), register_title).to_owned());
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();
    let first_kind = query.with_untracked(|q| q.get("kind").and_then(|k| AccountKind::parse(&k)));
    let kind = RwSignal::new(first_kind.unwrap_or(AccountKind::Enterprise));
    let [org_name, credit_code, name, id_number, mobile, email, password, confirm_password, code] =
        std::array::from_fn(|_| RwSignal::new(String::new()));
    let agreed = RwSignal::new(false);
    let f = FormState::new("register");
    let (errors, failure, busy) = (f.errors, f.failure, f.busy);
    let captcha = CaptchaState::new(failure);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = RegisterForm {
            kind: kind.get_untracked(),
            org_name: org_name.get_untracked(),
            credit_code: credit_code.get_untracked(),
            name: name.get_untracked(),
            id_number: id_number.get_untracked(),
            mobile: mobile.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
            confirm_password: confirm_password.get_untracked(),
            code: code.get_untracked(),
            agreed: agreed.get_untracked(),
        };
        let l = i18n.get_locale_untracked();
        let navigate = navigate.clone();
        f.submit(
            form.request(),
            move |req| async move { crate::api::call::<endpoint::Register>(&[], &req, l).await },
            move |info| {
                session.signed_in(info);
                navigate("/account", Default::default());
            },
        );
    };

    let kinds = AccountKind::ALL.into_iter().map(|k| (k, kind_label(k))).collect::<Vec<_>>();
    view! {
        <h1>{tr(|l| td_string!(l, register_title))}</h1>
        <form class="form" novalidate on:submit=submit>
            <Tabs name="kind" legend=|l| td_string!(l, register_kind) options=kinds value=kind />
            {move || {
                let k = kind.get();
                view! {
                    {k
                        .has_organisation()
                        .then(|| {
                            let label: Text = if k.has_credit_code() {
                                |l| td_string!(l, field_org_name)
                            } else {
                                |l| td_string!(l, field_department_name)
                            };
                            view! {
                                <Field
                                    form="register"
                                    field="org_name"
                                    label
                                    value=org_name
                                    errors
                                    autocomplete="organization"
                                    check=|s| OrgName::parse(s).map(drop)
                                />
                            }
                        })}
                    {k
                        .has_credit_code()
                        .then(|| {
                            view! {
                                <Field
                                    form="register"
                                    field="credit_code"
                                    label=|l| td_string!(l, field_credit_code)
                                    value=credit_code
                                    errors
                                    check=|s| CreditCode::parse(s).map(drop)
                                />
                            }
                        })}
                    <Field
                        form="register"
                        field="name"
                        label=name_label(k)
                        value=name
                        errors
                        autocomplete="name"
                        check=|s| PersonName::parse(s).map(drop)
                    />
                }
            }}
            <Field
                form="register"
                field="id_number"
                label=|l| td_string!(l, field_id_number)
                value=id_number
                errors
                check=|s| IdCardNumber::parse(s).map(drop)
            />
            <Field
                form="register"
                field="mobile"
                label=|l| td_string!(l, field_mobile)
                value=mobile
                errors
                input_type="tel"
                autocomplete="tel"
                inputmode="numeric"
                hint=|l| td_string!(l, register_mobile_hint)
                check=|s| Mobile::parse(s).map(drop)
            />
            <Field
                form="register"
                field="email"
                label=|l| td_string!(l, field_email)
                value=email
                errors
                input_type="email"
                autocomplete="email"
                optional=true
                check=|s| optional(s, Email::parse).map(drop)
            />
            <Field
                form="register"
                field="password"
                label=|l| td_string!(l, field_password)
                value=password
                errors
                input_type="password"
                autocomplete="new-password"
                hint=|l| td_string!(l, password_hint)
                check=|s| Password::parse(s).map(drop)
            />
            <Field
                form="register"
                field="confirm_password"
                label=|l| td_string!(l, field_confirm_password)
                value=confirm_password
                errors
                input_type="password"
                autocomplete="new-password"
            />
            <CaptchaField form="register" label=|l| td_string!(l, field_image_captcha) captcha errors />
            <Field
                form="register"
                field="code"
                label=|l| td_string!(l, field_sms_code)
                value=code
                errors
                autocomplete="one-time-code"
                inputmode="numeric"
                check=|s| OtpCode::parse(s).map(drop)
            >
                <SendCode form="register" purpose=CodePurpose::Register mobile captcha errors failure />
            </Field>
            <AgreementCheck form="register" field="agreement_version" checked=agreed errors />
            <FailureAlert failure />
            <button type="submit" class="primary" disabled=move || busy.get()>
                {tr(|l| td_string!(l, register_submit))}
            </button>
            <p class="form-links">
                {tr(|l| td_string!(l, register_have_account))}
                <a href="/sign-in">{tr(|l| td_string!(l, nav_sign_in))}</a>
            </p>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: AccountKind) -> RegisterForm {
        RegisterForm {
            kind,
            org_name: "天津滨海测试有限公司".into(),
            credit_code: "91350100M000100Y43".into(),
            name: "张三".into(),
            id_number: "11010519491231002X".into(),
            mobile: "13800138000".into(),
            email: String::new(),
            password: "a long enough password".into(),
            confirm_password: "a long enough password".into(),
            code: "123456".into(),
            agreed: true,
        }
    }

    fn fields(f: &RegisterForm) -> Vec<String> {
        f.request().err().unwrap_or_default().into_iter().map(|e| format!("{}:{}", e.field, e.error)).collect()
    }

    #[test]
    fn each_kind_sends_only_its_fields() {
        let r = form(AccountKind::Enterprise).request().unwrap();
        assert!(r.org_name.is_some() && r.credit_code.is_some());
        assert_eq!(r.agreement_version, AGREEMENT_VERSION);
        let r = form(AccountKind::Department).request().unwrap();
        assert!(r.org_name.is_some() && r.credit_code.is_none());
        let r = form(AccountKind::Personal).request().unwrap();
        assert!(r.org_name.is_none() && r.credit_code.is_none() && r.email.is_none());
    }

    #[test]
    fn every_broken_field_is_named() {
        let mut f = form(AccountKind::Enterprise);
        f.org_name = String::new();
        f.credit_code = "91350100M000100Y44".into();
        f.mobile = "1380013800".into();
        f.email = "not-an-email".into();
        f.confirm_password = "something else".into();
        f.code = "12345".into();
        f.agreed = false;
        assert_eq!(
            fields(&f),
            [
                "org_name:required",
                "credit_code:credit_code_check_char",
                "mobile:mobile_format",
                "email:email_format",
                "confirm_password:password_mismatch",
                "code:otp_format",
                "agreement_version:agreement_required",
            ]
        );
    }

    #[test]
    fn a_short_password_is_named_once() {
        let mut f = form(AccountKind::Personal);
        f.password = "short".into();
        f.confirm_password = String::new();
        assert_eq!(fields(&f), ["password:password_length"]);
        f.password = "long enough".into();
        assert_eq!(fields(&f), ["confirm_password:required"]);
    }
}
