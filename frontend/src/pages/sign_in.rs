//! 登录 (seed 004 §2.2): user name (the phone), password, the picture captcha and the
//! 电子认证服务协议, then 立即登录; or passwordless with a security key (passkey); UKey and PC
//! 软盾 through the token agent (证书助手); APP扫码登录 with the mobile shield app
//! (`qr_login.rs`).

use crate::i18n::td_string;
use crate::router::{use_navigate, use_query_map};
use certdesk_shared::account::{FinishKeySignIn, KeySignInChallenge, SessionInfo, SignInRequest, StartKeySignIn};
use certdesk_shared::endpoint;
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use leptos::prelude::*;

use crate::components::fields::{
    AgreementCheck, CaptchaField, CaptchaState, FailureAlert, Field, FormState, Tabs, Text,
};
use crate::components::{tr, use_page_title};
use crate::form::{Failure, check, required, safe_next};
use crate::i18n::{Locale, use_i18n};
use crate::session::use_session;

/// Where any sign-in (password, security key, UKey, PC soft shield) lands without a `?next=`:
/// 我的证书.
pub const AFTER_SIGN_IN: &str = "/my-certificates";

/// How the visitor signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Password,
    SecurityKey,
    UKey,
    SoftShield,
    App,
}

impl Method {
    const ALL: [Method; 5] = [Method::Password, Method::SecurityKey, Method::UKey, Method::SoftShield, Method::App];

    fn label(self) -> Text {
        match self {
            Method::Password => |l| td_string!(l, sign_in_password_tab),
            Method::SecurityKey => |l| td_string!(l, sign_in_key_tab),
            Method::UKey => |l| td_string!(l, sign_in_ukey_tab),
            Method::SoftShield => |l| td_string!(l, sign_in_soft_tab),
            Method::App => |l| td_string!(l, sign_in_app_tab),
        }
    }

    /// The methods with a form of their own below the tabs (the token agent's, the app's QR).
    fn own_form(self) -> bool {
        matches!(self, Method::UKey | Method::SoftShield | Method::App)
    }
}

/// The password form as typed.
#[derive(Debug, Clone, Default)]
pub struct SignInForm {
    pub mobile: String,
    pub password: String,
    pub captcha_answer: String,
    pub agreed: bool,
}

impl SignInForm {
    /// Only "filled in" is checked here: a wrong phone gets the same answer as a wrong
    /// password, from the server.
    pub fn request(&self, captcha_id: &str) -> Result<SignInRequest, Vec<FieldError>> {
        let mut e = Vec::new();
        let mobile = check(&mut e, "mobile", required(&self.mobile));
        let password = check(
            &mut e,
            "password",
            if self.password.is_empty() { Err(ValidationError::Required) } else { Ok(self.password.clone()) },
        );
        let answer = check(&mut e, "captcha_answer", required(&self.captcha_answer));
        if !self.agreed {
            e.push(FieldError { field: "agreed".into(), error: ValidationError::AgreementRequired });
        }
        match (mobile, password, answer, e.is_empty()) {
            (Some(mobile), Some(password), Some(captcha_answer), true) => {
                Ok(SignInRequest { mobile, password, captcha_id: captcha_id.to_owned(), captcha_answer, agreed: true })
            }
            _ => Err(e),
        }
    }

    /// Passwordless sign-in needs the phone and the agreement only.
    pub fn key_request(&self) -> Result<StartKeySignIn, Vec<FieldError>> {
        let mut e = Vec::new();
        let mobile = check(&mut e, "mobile", required(&self.mobile));
        if !self.agreed {
            e.push(FieldError { field: "agreed".into(), error: ValidationError::AgreementRequired });
        }
        match mobile {
            Some(mobile) if e.is_empty() => Ok(StartKeySignIn { mobile }),
            _ => Err(e),
        }
    }
}

async fn key_sign_in(start: StartKeySignIn, l: Locale) -> Result<SessionInfo, Failure> {
    let challenge: KeySignInChallenge = crate::api::call::<endpoint::StartKeySignIn>(&[], &start, l).await?;
    let credential = crate::webauthn::get(challenge.options).await?;
    let finish = FinishKeySignIn { challenge_id: challenge.challenge_id, credential };
    Ok(crate::api::call::<endpoint::FinishKeySignIn>(&[], &finish, l).await?)
}

/// Draws the form of a method that has its own ([`Method::own_form`]) for a visitor going to
/// `next` (a path). The account bundle passes one that fetches each form's code when its tab
/// is first chosen (`app::sign_in_method_form`).
pub type MethodForm = fn(Method, String) -> AnyView;

#[component]
pub fn SignIn(method_form: MethodForm) -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), sign_in_title).to_owned());
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();
    let method = RwSignal::new(Method::Password);
    let [mobile, password] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let agreed = RwSignal::new(false);
    let fs = FormState::new("sign-in");
    let (errors, failure, busy) = (fs.errors, fs.failure, fs.busy);
    let captcha = CaptchaState::new(failure);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = SignInForm {
            mobile: mobile.get_untracked(),
            password: password.get_untracked(),
            captcha_answer: captcha.answer.get_untracked(),
            agreed: agreed.get_untracked(),
        };
        let l = i18n.get_locale_untracked();
        let next = query.with_untracked(|q| safe_next(q.get("next").as_deref(), AFTER_SIGN_IN).to_owned());
        let navigate = navigate.clone();
        let by_key = method.get_untracked() == Method::SecurityKey;
        let checked = if by_key { form.key_request().map(Err) } else { form.request(&captcha.id()).map(Ok) };
        let req = match checked {
            Ok(req) => req,
            Err(e) => return fs.refuse(e),
        };
        fs.begin();
        leptos::task::spawn_local(async move {
            let res = match req {
                Ok(req) => crate::api::call::<endpoint::SignIn>(&[], &req, l).await.map_err(Failure::from),
                Err(start) => key_sign_in(start, l).await,
            };
            busy.set(false);
            match res {
                Ok(info) => {
                    session.signed_in(info);
                    navigate(&next, Default::default());
                }
                Err(f) => {
                    if !by_key {
                        // A captcha answers once: every failed attempt needs a new one.
                        captcha.reload();
                        password.set(String::new());
                    }
                    fs.fail(f);
                }
            }
        });
    };

    let methods = Method::ALL.into_iter().map(|m| (m, m.label())).collect::<Vec<_>>();
    view! {
        <h1>{tr(|l| td_string!(l, sign_in_title))}</h1>
        {move || {
            query
                .with(|q| q.get("next").is_some())
                .then(|| {
                    view! {
                        <p class="callout" role="status">
                            {move || crate::api::error_message(ErrorCode::Unauthorized, i18n.get_locale())}
                        </p>
                    }
                })
        }}
        <form class="form" novalidate on:submit=submit>
            <Tabs name="method" legend=|l| td_string!(l, sign_in_method) options=methods value=method />
            {move || {
                let m = method.get();
                if m.own_form() {
                    // Its own form, below.
                    return ().into_any();
                }
                let by_key = m == Method::SecurityKey;
                view! {
                    {by_key.then(|| view! { <p class="lead">{tr(|l| td_string!(l, sign_in_key_note))}</p> })}
                    <Field
                        form="sign-in"
                        field="mobile"
                        label=|l| td_string!(l, field_user_name)
                        value=mobile
                        errors
                        input_type="tel"
                        autocomplete=if by_key { "username webauthn" } else { "username" }
                        inputmode="numeric"
                    />
                    {(!by_key)
                        .then(|| {
                            view! {
                                <Field
                                    form="sign-in"
                                    field="password"
                                    label=|l| td_string!(l, field_password)
                                    value=password
                                    errors
                                    input_type="password"
                                    autocomplete="current-password"
                                />
                                <CaptchaField form="sign-in" label=|l| td_string!(l, field_captcha) captcha errors />
                            }
                        })}
                    <AgreementCheck form="sign-in" field="agreed" checked=agreed errors />
                    <FailureAlert failure />
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {move || {
                            if by_key {
                                td_string!(i18n.get_locale(), sign_in_with_key)
                            } else {
                                td_string!(i18n.get_locale(), sign_in_submit)
                            }
                        }}
                    </button>
                }
                    .into_any()
            }}
            <p class="form-links">
                <a href="/forgot-password">{tr(|l| td_string!(l, forgot_password_link))}</a>
                " · "
                <a href="/register">{tr(|l| td_string!(l, nav_register))}</a>
            </p>
        </form>
        {move || {
            let next = query.with_untracked(|q| safe_next(q.get("next").as_deref(), AFTER_SIGN_IN).to_owned());
            let m = method.get();
            m.own_form().then(|| method_form(m, next))
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(e: Vec<FieldError>) -> Vec<String> {
        e.into_iter().map(|e| format!("{}:{}", e.field, e.error)).collect()
    }

    #[test]
    fn password_sign_in_needs_everything_and_the_tick() {
        let empty = SignInForm::default();
        assert_eq!(
            names(empty.request("c").unwrap_err()),
            ["mobile:required", "password:required", "captcha_answer:required", "agreed:agreement_required"]
        );
        let form = SignInForm {
            mobile: " 13800138000 ".into(),
            password: " pass word ".into(),
            captcha_answer: "ab12".into(),
            agreed: true,
        };
        let req = form.request("captcha-1").unwrap();
        assert_eq!(req.mobile, "13800138000");
        assert_eq!(req.password, " pass word ", "passwords are sent as typed");
        assert_eq!(req.captcha_id, "captcha-1");
        assert!(req.agreed);
    }

    #[test]
    fn key_sign_in_needs_the_phone_and_the_tick() {
        let form = SignInForm { mobile: "13800138000".into(), agreed: false, ..Default::default() };
        assert_eq!(names(form.key_request().unwrap_err()), ["agreed:agreement_required"]);
        let form = SignInForm { agreed: true, ..form };
        assert_eq!(form.key_request().unwrap().mobile, "13800138000");
    }

    #[test]
    fn token_and_app_methods_have_their_own_form() {
        assert!(!Method::Password.own_form());
        assert!(!Method::SecurityKey.own_form());
        assert!(Method::UKey.own_form() && Method::SoftShield.own_form() && Method::App.own_form());
    }
}
