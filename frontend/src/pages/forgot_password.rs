//! 忘记密码 (seed 004 §2.3): the operator's ID number, the phone and an SMS code prove who
//! it is; the new password is chosen on this page and is never sent by SMS.

use crate::i18n::td_string;
use certdesk_shared::account::{CodePurpose, ResetPasswordRequest};
use certdesk_shared::endpoint;
use certdesk_shared::{FieldError, IdCardNumber, Mobile, OtpCode, Password};
use leptos::prelude::*;

use crate::components::fields::{CaptchaField, CaptchaState, FailureAlert, Field, FormState, SendCode};
use crate::components::{tr, use_page_title};
use crate::form::{check, confirmation};
use crate::i18n::use_i18n;

/// The form as typed.
#[derive(Debug, Clone, Default)]
pub struct ResetForm {
    pub id_number: String,
    pub mobile: String,
    pub code: String,
    pub new_password: String,
    pub confirm_password: String,
    /// 同时删除全部安全密钥.
    pub remove_security_keys: bool,
}

impl ResetForm {
    pub fn request(&self) -> Result<ResetPasswordRequest, Vec<FieldError>> {
        let mut e = Vec::new();
        let id_number = check(&mut e, "id_number", IdCardNumber::parse(&self.id_number));
        let mobile = check(&mut e, "mobile", Mobile::parse(&self.mobile));
        let code = check(&mut e, "code", OtpCode::parse(&self.code));
        let new_password = check(&mut e, "new_password", Password::parse(&self.new_password));
        if new_password.is_some() {
            check(&mut e, "confirm_password", confirmation(&self.new_password, &self.confirm_password));
        }
        match (id_number, mobile, code, new_password, e.is_empty()) {
            (Some(id_number), Some(mobile), Some(code), Some(new_password), true) => Ok(ResetPasswordRequest {
                id_number,
                mobile,
                code,
                new_password,
                remove_security_keys: self.remove_security_keys,
            }),
            _ => Err(e),
        }
    }
}

#[component]
pub fn ForgotPassword() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), reset_title).to_owned());
    let [id_number, mobile, code, new_password, confirm_password] =
        std::array::from_fn(|_| RwSignal::new(String::new()));
    let f = FormState::new("reset");
    let errors = f.errors;
    let failure = f.failure;
    let captcha = CaptchaState::new(failure);
    let busy = f.busy;
    let done = RwSignal::new(false);
    let remove_keys = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = ResetForm {
            id_number: id_number.get_untracked(),
            mobile: mobile.get_untracked(),
            code: code.get_untracked(),
            new_password: new_password.get_untracked(),
            confirm_password: confirm_password.get_untracked(),
            remove_security_keys: remove_keys.get_untracked(),
        };
        let l = i18n.get_locale_untracked();
        f.submit(
            form.request(),
            move |req| async move { crate::api::call::<endpoint::ResetPassword>(&[], &req, l).await },
            move |()| done.set(true),
        );
    };

    view! {
        <h1>{tr(|l| td_string!(l, reset_title))}</h1>
        {move || {
            if done.get() {
                return view! {
                    <div class="callout success" role="status">
                        <p>{tr(|l| td_string!(l, reset_done))}</p>
                        <p>
                            <a href="/sign-in">{tr(|l| td_string!(l, nav_sign_in))}</a>
                        </p>
                    </div>
                }
                    .into_any();
            }
            view! {
                <p class="lead">{tr(|l| td_string!(l, reset_intro))}</p>
                <form class="form" novalidate on:submit=submit>
                    <Field
                        form="reset"
                        field="id_number"
                        label=|l| td_string!(l, field_id_number)
                        value=id_number
                        errors
                        check=|s| IdCardNumber::parse(s).map(drop)
                    />
                    <Field
                        form="reset"
                        field="mobile"
                        label=|l| td_string!(l, field_mobile)
                        value=mobile
                        errors
                        input_type="tel"
                        autocomplete="tel"
                        inputmode="numeric"
                        check=|s| Mobile::parse(s).map(drop)
                    />
                    <CaptchaField form="reset" label=|l| td_string!(l, field_image_captcha) captcha errors />
                    <Field
                        form="reset"
                        field="code"
                        label=|l| td_string!(l, field_sms_code)
                        value=code
                        errors
                        autocomplete="one-time-code"
                        inputmode="numeric"
                        check=|s| OtpCode::parse(s).map(drop)
                    >
                        <SendCode form="reset" purpose=CodePurpose::ResetPassword mobile captcha errors failure />
                    </Field>
                    <Field
                        form="reset"
                        field="new_password"
                        label=|l| td_string!(l, field_new_password)
                        value=new_password
                        errors
                        input_type="password"
                        autocomplete="new-password"
                        hint=|l| td_string!(l, password_hint)
                        check=|s| Password::parse(s).map(drop)
                    />
                    <Field
                        form="reset"
                        field="confirm_password"
                        label=|l| td_string!(l, field_confirm_new_password)
                        value=confirm_password
                        errors
                        input_type="password"
                        autocomplete="new-password"
                    />
                    <div class="field check">
                        <input
                            id="reset-remove_security_keys"
                            type="checkbox"
                            prop:checked=move || remove_keys.get()
                            on:change=move |ev| remove_keys.set(event_target_checked(&ev))
                        />
                        <label for="reset-remove_security_keys">{tr(|l| td_string!(l, reset_remove_keys))}</label>
                    </div>
                    <FailureAlert failure />
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {tr(|l| td_string!(l, reset_submit))}
                    </button>
                    <p class="form-links">
                        <a href="/sign-in">{tr(|l| td_string!(l, nav_sign_in))}</a>
                    </p>
                </form>
            }
                .into_any()
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_checks_every_field() {
        let e = ResetForm::default().request().unwrap_err();
        let names: Vec<_> = e.iter().map(|e| format!("{}:{}", e.field, e.error)).collect();
        assert_eq!(names, ["id_number:required", "mobile:required", "code:required", "new_password:required"]);
        let form = ResetForm {
            id_number: "11010519491231002X".into(),
            mobile: "13800138000".into(),
            code: "123456".into(),
            new_password: "new password 1".into(),
            confirm_password: "new password 2".into(),
            remove_security_keys: true,
        };
        let e = form.request().unwrap_err();
        assert_eq!(e[0].field, "confirm_password");
        let form = ResetForm { confirm_password: "new password 1".into(), ..form };
        assert_eq!(form.request().unwrap().mobile.as_str(), "13800138000");
    }
}
