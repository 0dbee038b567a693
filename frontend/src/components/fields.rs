//! Form parts: a labelled field with its error under it (linked by `aria-describedby`),
//! the agreement checkbox, a radio group shown as tabs, the alert of a form, the image
//! captcha, and the 获取验证码 button with its countdown.

use certdesk_shared::account::{Captcha, CodePurpose, SendCodeRequest};
use certdesk_shared::endpoint;
use certdesk_shared::my_certificates::{CertificateCodeRequest, CertificateCodeSent};
use certdesk_shared::{FieldError, Mobile, ValidationError};
use leptos::prelude::*;

use crate::components::tr;
use crate::i18n::td_string;

use crate::form::{Failure, error_for, fill, seconds_left, set_error};
use crate::i18n::{Locale, use_i18n};

/// Text of the current language.
pub type Text = fn(Locale) -> &'static str;

/// A field's own rule, checked when it loses focus.
pub type Check = fn(&str) -> Result<(), ValidationError>;

/// Id of a field's input (`form` keeps two forms on one page apart).
pub fn field_id(form: &str, field: &str) -> String {
    format!("{form}-{field}")
}

/// Moves focus to the first field with an error, so keyboard and screen-reader users land on it.
pub fn focus_first_error(form: &str, errors: &[FieldError]) {
    use wasm_bindgen::JsCast;
    let Some(first) = errors.first() else { return };
    let el = document().get_element_by_id(&field_id(form, &first.field));
    if let Some(el) = el.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

/// The message under a field, or nothing.
#[component]
fn FieldMessage(id: String, field: &'static str, errors: RwSignal<Vec<FieldError>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        error_for(&errors.get(), field).map(|e| {
            view! {
                <p class="field-error" id=id.clone()>
                    {crate::i18n::validation_text(e, i18n.get_locale())}
                </p>
            }
        })
    }
}

/// A labelled input. `check` runs when the field loses focus (the same `parse` the server
/// applies); editing a field clears the server's error under it.
#[component]
pub fn Field(
    form: &'static str,
    /// The request's JSON field name.
    field: &'static str,
    label: Text,
    value: RwSignal<String>,
    errors: RwSignal<Vec<FieldError>>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] hint: Option<Text>,
    #[prop(optional)] check: Option<Check>,
    #[prop(optional)] optional: bool,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = field_id(form, field);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error_for(&errors.get(), field).is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let on_blur = move |_| {
        if let Some(check) = check {
            let error = check(&value.get_untracked()).err();
            errors.update(|e| set_error(e, field, error));
        }
    };
    let on_input = move |ev| {
        value.set(event_target_value(&ev));
        if error_for(&errors.get_untracked(), field).is_some() {
            errors.update(|e| set_error(e, field, None));
        }
    };
    view! {
        <div class="field" class:invalid=move || error_for(&errors.get(), field).is_some()>
            <label for=id.clone()>
                {move || label(i18n.get_locale())}
                {optional.then(|| view! { <span class="optional">{tr(|l| td_string!(l, form_optional))}</span> })}
            </label>
            <div class="control">
                <input
                    id=id
                    name=field
                    type=input_type
                    autocomplete=autocomplete
                    inputmode=inputmode
                    required=!optional
                    aria-invalid=move || error_for(&errors.get(), field).is_some().to_string()
                    aria-describedby=described
                    prop:value=move || value.get()
                    on:input=on_input
                    on:blur=on_blur
                />
                {children.map(|c| c())}
            </div>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{move || h(i18n.get_locale())}</p> })}
            <FieldMessage id=error_id field errors />
        </div>
    }
}

/// 我已阅读并同意《电子认证服务协议》, with its error under it.
#[component]
pub fn AgreementCheck(
    form: &'static str,
    field: &'static str,
    checked: RwSignal<bool>,
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    let id = field_id(form, field);
    let error_id = format!("{id}-error");
    let described = {
        let error_id = error_id.clone();
        move || error_for(&errors.get(), field).is_some().then(|| error_id.clone())
    };
    view! {
        <div class="field check" class:invalid=move || error_for(&errors.get(), field).is_some()>
            <input
                type="checkbox"
                id=id.clone()
                name=field
                aria-describedby=described
                prop:checked=move || checked.get()
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    checked.set(on);
                    if on {
                        errors.update(|e| set_error(e, field, None));
                    }
                }
            />
            <label for=id>
                {tr(|l| td_string!(l, agreement_read))}
                <a href="/agreement" target="_blank" rel="noopener">
                    {tr(|l| td_string!(l, agreement_name))}
                </a>
            </label>
            <FieldMessage id=error_id field errors />
        </div>
    }
}

/// A radio group shown as tabs (account type, sign-in method).
#[component]
pub fn Tabs<T>(name: &'static str, legend: Text, options: Vec<(T, Text)>, value: RwSignal<T>) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    let i18n = use_i18n();
    view! {
        <fieldset class="tabs">
            <legend class="visually-hidden">{move || legend(i18n.get_locale())}</legend>
            {options
                .into_iter()
                .map(|(option, text)| {
                    view! {
                        <label class="tab">
                            <input
                                type="radio"
                                name=name
                                prop:checked=move || value.get() == option
                                on:change=move |_| value.set(option)
                            />
                            {move || text(i18n.get_locale())}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// The alert above a form's button.
#[component]
pub fn FailureAlert(failure: RwSignal<Option<Failure>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div role="alert" class="alert-slot">
            {move || {
                failure
                    .get()
                    .map(|f| view! { <p class="alert">{move || f.message(i18n.get_locale())}</p> })
            }}
        </div>
    }
}

/// The image captcha (图形验证码) a form answers before the server does something for an
/// anonymous visitor that costs (a sign-in try, an SMS): the server's picture, the answer
/// typed under it, and a new picture on demand. A captcha answers once, right or wrong, so
/// the form calls [`CaptchaState::reload`] after every try.
#[derive(Clone, Copy)]
pub struct CaptchaState {
    pub captcha: RwSignal<Option<Captcha>>,
    pub answer: RwSignal<String>,
    failure: RwSignal<Option<Failure>>,
    i18n: crate::i18n::I18nContext,
}

impl CaptchaState {
    /// A captcha for a form whose alert is `failure`; its first picture loads at once.
    pub fn new(failure: RwSignal<Option<Failure>>) -> Self {
        let state = CaptchaState {
            captcha: RwSignal::new(None),
            answer: RwSignal::new(String::new()),
            failure,
            i18n: use_i18n(),
        };
        state.reload();
        state
    }

    /// Forgets the answer and fetches a new picture.
    pub fn reload(self) {
        self.answer.set(String::new());
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::NewCaptcha>(&[], &(), self.i18n.get_locale_untracked()).await {
                Ok(c) => self.captcha.set(Some(c)),
                Err(e) => {
                    self.captcha.set(None);
                    self.failure.set(Some(e.into()));
                }
            }
        });
    }

    /// The id of the picture shown.
    pub fn id(self) -> String {
        self.captcha.with_untracked(|c| c.as_ref().map(|c| c.id.clone())).unwrap_or_default()
    }
}

/// The captcha's picture (click for another), 换一张, and the answer's field
/// (`captcha_answer`, with its error under it).
#[component]
pub fn CaptchaField(
    form: &'static str,
    label: Text,
    captcha: CaptchaState,
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    view! {
        <Field form field="captcha_answer" label value=captcha.answer errors autocomplete="off">
            <div
                class="captcha"
                role="img"
                aria-label=tr(|l| td_string!(l, captcha_image))
                inner_html=move || captcha.captcha.get().map(|c| c.svg).unwrap_or_default()
                on:click=move |_| captcha.reload()
            ></div>
            <button type="button" class="secondary" on:click=move |_| captcha.reload()>
                {tr(|l| td_string!(l, captcha_reload))}
            </button>
        </Field>
    }
}

/// Counts `left` down to 0 once a second from the number of seconds `start` is given (the
/// wait before another SMS code may be asked for); stops with the component.
fn countdown(left: RwSignal<u32>) -> impl Fn(u32) + Copy + 'static {
    let timer = StoredValue::new(None::<leptos::leptos_dom::helpers::IntervalHandle>);
    let stop = move || {
        if let Some(t) = timer.try_update_value(Option::take).flatten() {
            t.clear();
        }
    };
    on_cleanup(stop);
    move |secs: u32| {
        stop();
        let deadline = js_sys::Date::now() + f64::from(secs) * 1000.0;
        left.set(secs);
        let handle = set_interval_with_handle(
            move || {
                let n = seconds_left(deadline, js_sys::Date::now());
                left.set(n);
                if n == 0 {
                    stop();
                }
            },
            std::time::Duration::from_secs(1),
        );
        timer.set_value(handle.ok());
    }
}

/// 获取验证码 (or "37秒后可再次发送" while `left` counts down) and what was sent.
fn send_button(
    busy: RwSignal<bool>,
    left: RwSignal<u32>,
    send: impl Fn(leptos::ev::MouseEvent) + 'static,
    status: impl Fn() -> Option<String> + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <button type="button" class="secondary send-code" disabled=move || busy.get() || left.get() != 0 on:click=send>
            {move || {
                let l = i18n.get_locale();
                match left.get() {
                    0 => td_string!(l, code_send).to_owned(),
                    n => fill(td_string!(l, code_resend_in), n),
                }
            }}
        </button>
        <p class="status" role="status">{status}</p>
    }
}

/// 获取短信验证码 for a certificate's business (证书注销, 补办, 解冻): the code goes to the
/// certificate's phone of record, which the server names masked ("已发送至151****9192").
#[component]
pub fn SendCertificateCode(uid: String, purpose: CodePurpose, failure: RwSignal<Option<Failure>>) -> impl IntoView {
    let i18n = use_i18n();
    let left = RwSignal::new(0u32);
    let busy = RwSignal::new(false);
    let sent = RwSignal::new(None::<CertificateCodeSent>);
    let start = countdown(left);
    let uid = StoredValue::new(uid);
    let send = move |_| {
        busy.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let req = CertificateCodeRequest { purpose };
            let uid = uid.get_value();
            let res =
                crate::api::call::<endpoint::SendCertificateCode>(&[&uid], &req, i18n.get_locale_untracked()).await;
            busy.set(false);
            match res {
                Ok(s) => {
                    start(s.resend_after_secs);
                    sent.set(Some(s));
                }
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };
    let status = move || sent.get().map(|s| fill(td_string!(i18n.get_locale(), code_sent_to), s.phone_masked));
    send_button(busy, left, send, status)
}

/// 获取验证码: checks the phone with the same rule as the server and that the image captcha
/// (a [`CaptchaField`] of the same form) is answered, asks for a code and counts down until
/// another may be sent ("37秒后可再次发送").
#[component]
pub fn SendCode(
    form: &'static str,
    purpose: CodePurpose,
    mobile: RwSignal<String>,
    captcha: CaptchaState,
    errors: RwSignal<Vec<FieldError>>,
    failure: RwSignal<Option<Failure>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let left = RwSignal::new(0u32);
    let busy = RwSignal::new(false);
    let sent = RwSignal::new(None::<u32>);
    let start = countdown(left);
    let send = move |_| {
        let mobile = match Mobile::parse(&mobile.get_untracked()) {
            Ok(m) => m,
            Err(e) => {
                errors.update(|es| set_error(es, "mobile", Some(e)));
                focus_first_error(form, &[FieldError { field: "mobile".into(), error: e }]);
                return;
            }
        };
        let captcha_answer = captcha.answer.get_untracked().trim().to_owned();
        if captcha_answer.is_empty() {
            let e = FieldError { field: "captcha_answer".into(), error: ValidationError::Required };
            errors.update(|es| set_error(es, "captcha_answer", Some(e.error)));
            focus_first_error(form, &[e]);
            return;
        }
        busy.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let req = SendCodeRequest { mobile, purpose, captcha_id: captcha.id(), captcha_answer };
            let res = crate::api::call::<endpoint::SendCode>(&[], &req, i18n.get_locale_untracked()).await;
            busy.set(false);
            // Spent either way.
            captcha.reload();
            match res {
                Ok(s) => {
                    sent.set(Some(s.valid_for_secs.div_ceil(60)));
                    start(s.resend_after_secs);
                }
                Err(e) => {
                    errors.update(|es| es.extend(e.fields.iter().cloned()));
                    failure.set(Some(e.into()));
                }
            }
        });
    };
    let status = move || sent.get().map(|m| fill(td_string!(i18n.get_locale(), code_sent), m));
    send_button(busy, left, send, status)
}

/// A form's state: the errors under its fields, the alert above its button, and whether
/// its call is under way. Every form submits through [`FormState::submit`], so the
/// refuse / send / show-the-answer steps exist once in the app, not once per form.
#[derive(Debug, Clone, Copy)]
pub struct FormState {
    /// The form's id prefix (see [`field_id`]).
    pub id: &'static str,
    pub errors: RwSignal<Vec<FieldError>>,
    pub failure: RwSignal<Option<Failure>>,
    pub busy: RwSignal<bool>,
}

impl FormState {
    pub fn new(id: &'static str) -> Self {
        FormState { id, errors: RwSignal::new(Vec::new()), failure: RwSignal::new(None), busy: RwSignal::new(false) }
    }

    /// Shows the errors the browser found, focusing the first.
    #[inline(never)]
    pub fn refuse(self, e: Vec<FieldError>) {
        focus_first_error(self.id, &e);
        self.errors.set(e);
        self.failure.set(Some(Failure::Invalid));
    }

    /// Clears what was shown and marks the call under way.
    #[inline(never)]
    pub fn begin(self) {
        self.errors.set(Vec::new());
        self.failure.set(None);
        self.busy.set(true);
    }

    /// Shows what the server (or the security key) refused, under the fields it names.
    #[inline(never)]
    pub fn fail(self, f: Failure) {
        let fields = f.fields();
        focus_first_error(self.id, &fields);
        self.errors.set(fields);
        self.failure.set(Some(f));
    }

    /// Checks `req`; if valid, runs `call` with it and gives `done` the answer.
    pub fn submit<R, T, E, F>(
        self,
        req: Result<R, Vec<FieldError>>,
        call: impl FnOnce(R) -> F + 'static,
        done: impl FnOnce(T) + 'static,
    ) where
        R: 'static,
        E: Into<Failure>,
        F: std::future::Future<Output = Result<T, E>> + 'static,
    {
        let req = match req {
            Ok(r) => r,
            Err(e) => return self.refuse(e),
        };
        self.begin();
        leptos::task::spawn_local(async move {
            let res = call(req).await;
            self.busy.set(false);
            match res {
                Ok(v) => done(v),
                Err(e) => self.fail(e.into()),
            }
        });
    }
}
