//! 移动软盾 APP (`/m`): the phone's own bundle, installable (manifest and service worker
//! served by the backend at `/m/manifest.webmanifest` and `/m/sw.js`). It keeps the
//! certificates downloaded into it ([`store`]), and does with them what the PC soft shield does
//! through the agent: 远程下载, 扫码登录 (the desktop's APP扫码登录), 修改PIN码, 证书解锁.
//! The PIN is counted by the server (see `shared::shield`): every use asks a challenge, proves
//! the PIN over it and gets the secret that opens the sealed key for this one use.

mod cert;
mod certificates;
mod download;
mod pin;
mod renew;
mod scan;
pub mod store;

use crate::i18n::td_string;
use crate::router::Router;
use crate::router::{use_location, use_query_map};
use certdesk_shared::endpoint;
use certdesk_shared::shield::{PinOutcome, ShieldChallenge, ShieldDevice, ShieldState, ShieldStatus, ShieldUnseal};
use certdesk_shared::shield_keys::{self, ShieldFile};
use certdesk_shared::{ApiError, ErrorCode, Pin, ValidationError};
use leptos::prelude::*;
use p256::ecdsa::SigningKey;

use crate::components::fields::Text;
use crate::components::{LangSwitch, tr};
use crate::form::fill;
use crate::i18n::{I18nContextProvider, Locale, use_i18n};

pub use certdesk_shared::bundles::is_mobile_path;

/// The app's pages, in the order of its tab bar. Its home is `/m/`, in the service worker's
/// scope (`/m` is not: a page there would not open offline).
const TABS: [(&str, Text); 4] = [
    ("/m/", |l| td_string!(l, m_my_certificates)),
    ("/m/scan", |l| td_string!(l, m_scan)),
    ("/m/download", |l| td_string!(l, m_download)),
    ("/m/pin", |l| td_string!(l, m_pin)),
];

/// The certificates on this phone, shared by every page (and written back on each change).
#[derive(Clone, Copy)]
pub struct Shields(pub RwSignal<Vec<ShieldFile>>);

impl Shields {
    /// Stores the list with `file` in it.
    pub fn add(self, file: ShieldFile) -> Result<(), ()> {
        let list = store::with(self.0.get_untracked(), file);
        store::save(&list)?;
        self.0.set(list);
        Ok(())
    }

    pub fn remove(self, id: &str) {
        let list = store::without(self.0.get_untracked(), id);
        let _ = store::save(&list);
        self.0.set(list);
    }

    pub fn get(self, id: &str) -> Option<ShieldFile> {
        self.0.with_untracked(|l| l.iter().find(|f| f.shield_id == id).cloned())
    }
}

pub fn use_shields() -> Shields {
    use_context::<Shields>().unwrap_or_else(|| Shields(RwSignal::new(Vec::new())))
}

pub fn device(f: &ShieldFile) -> ShieldDevice {
    ShieldDevice { shield_id: f.shield_id.clone(), device_key: f.device_key.clone() }
}

/// The name a certificate goes by in the app: its 通用名 and its shield's number.
pub fn label(f: &ShieldFile) -> String {
    match cert::info(&f.certificate_pem) {
        Some(i) => format!("{} · {}", i.common_name, f.shield_id),
        None => f.shield_id.clone(),
    }
}

pub fn state_text(s: ShieldState) -> Text {
    match s {
        ShieldState::Active => |l| td_string!(l, m_state_active),
        ShieldState::Locked => |l| td_string!(l, m_state_locked),
        ShieldState::Disabled => |l| td_string!(l, m_state_disabled),
    }
}

/// What stopped a use of the shield.
#[derive(Debug, Clone)]
pub enum Problem {
    Api(ApiError),
    /// The server counted a wrong PIN.
    WrongPin(u32),
    /// Ten wrong PINs (now or before): 证书解锁 opens it.
    Locked,
    /// The released secret does not open the stored key (a damaged or foreign file).
    KeyBroken,
    Text(Text),
}

impl From<ApiError> for Problem {
    fn from(e: ApiError) -> Self {
        if e.code == ErrorCode::ShieldLocked { Problem::Locked } else { Problem::Api(e) }
    }
}

impl Problem {
    pub fn message(&self, l: Locale) -> String {
        match self {
            Problem::Api(e) => crate::api::error_message(e.code, l).to_owned(),
            Problem::WrongPin(n) => fill(td_string!(l, m_wrong_pin), n),
            Problem::Locked => td_string!(l, m_locked).to_owned(),
            Problem::KeyBroken => td_string!(l, m_key_broken).to_owned(),
            Problem::Text(t) => t(l).to_owned(),
        }
    }
}

/// The alert of a form: the problem, and the way to 证书解锁 when the shield is locked.
pub fn problem_alert(
    problem: RwSignal<Option<Problem>>,
    shield: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let shield = StoredValue::new(shield);
    view! {
        <div role="alert" class="alert-slot">
            {move || problem.get().map(|p| {
                let locked = matches!(p, Problem::Locked);
                view! {
                    <p class="alert">{move || p.message(i18n.get_locale())}</p>
                    {locked.then(|| view! {
                        <p><a class="button primary" href=format!("/m/unlock?id={}", shield.with_value(|s| s()))>{tr(|l| td_string!(l, m_unlock))}</a></p>
                    })}
                }
            })}
        </div>
    }
}

/// The PIN's key for a stored shield.
pub fn pin_key_of(f: &ShieldFile, pin: &str) -> Result<[u8; 32], Problem> {
    let salt = shield_keys::unb64(&f.pin_salt).ok_or(Problem::KeyBroken)?;
    Ok(shield_keys::pin_key(pin, &salt))
}

/// A fresh challenge and the proof of `pin` over it.
pub async fn prove_pin(f: &ShieldFile, pin: &str, l: Locale) -> Result<(String, String), Problem> {
    let c: ShieldChallenge = crate::api::call::<endpoint::ShieldChallenge>(&[], &device(f), l).await?;
    let challenge = shield_keys::unb64(&c.challenge).ok_or(Problem::Api(ApiError::local(ErrorCode::Internal)))?;
    Ok((c.challenge_id, shield_keys::pin_proof(&pin_key_of(f, pin)?, &challenge)))
}

/// What a PIN answer means: the secret, or why not.
pub fn opened(outcome: PinOutcome) -> Result<String, Problem> {
    match outcome {
        PinOutcome::Opened { secret } => Ok(secret),
        PinOutcome::WrongPin { tries_left } => Err(Problem::WrongPin(tries_left)),
        PinOutcome::Locked => Err(Problem::Locked),
    }
}

/// The certificate's key, opened for this one use: the PIN proved to the server, which
/// releases the shield secret that unseals the stored key.
pub async fn open_key(f: &ShieldFile, pin: &str, l: Locale) -> Result<SigningKey, Problem> {
    Ok(open(f, pin, l).await?.0)
}

/// [`open_key`], with the shield secret that opened it (a renewal seals its new key under it).
pub async fn open(f: &ShieldFile, pin: &str, l: Locale) -> Result<(SigningKey, Vec<u8>), Problem> {
    let (challenge_id, proof) = prove_pin(f, pin, l).await?;
    let req = ShieldUnseal { shield_id: f.shield_id.clone(), device_key: f.device_key.clone(), challenge_id, proof };
    let secret = opened(crate::api::call::<endpoint::UnsealShield>(&[], &req, l).await?)?;
    let secret = shield_keys::unb64(&secret).ok_or(Problem::KeyBroken)?;
    let key = shield_keys::unseal(&secret, &f.shield_id, &f.sealed_key).ok_or(Problem::KeyBroken)?;
    Ok((key, secret))
}

/// A new PIN typed twice: the shared rule for PINs a user sets, then equality.
pub fn new_pin(pin: &str, again: &str) -> Result<Pin, Vec<certdesk_shared::FieldError>> {
    let mut e = Vec::new();
    let p = crate::form::check(&mut e, "new_pin", Pin::new_pin(pin));
    if again.is_empty() {
        e.push(certdesk_shared::FieldError { field: "new_pin_again".into(), error: ValidationError::Required });
    } else if p.is_some() && pin != again {
        e.push(certdesk_shared::FieldError { field: "new_pin_again".into(), error: ValidationError::PinMismatch });
    }
    match p {
        Some(p) if e.is_empty() => Ok(p),
        _ => Err(e),
    }
}

/// Where a page's question to the server about a shield stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Asked {
    Asking,
    Answered(ShieldStatus),
    Offline,
}

/// The server's word on a shield (正常 / 已锁定 / 已停用), `None` when it cannot be asked.
pub async fn status(f: &ShieldFile, l: Locale) -> Option<ShieldStatus> {
    crate::api::call::<endpoint::ShieldStatus>(&[], &device(f), l).await.ok()
}

/// A choice among the certificates on this phone (`?id=` picks one), or the way to
/// download one when there is none.
#[component]
pub fn ShieldPicker(form: &'static str, value: RwSignal<String>) -> impl IntoView {
    let shields = use_shields();
    let query = use_query_map();
    Effect::new(move |_| {
        let list = shields.0.get();
        let wanted = query.with_untracked(|q| q.get("id"));
        let current = value.get_untracked();
        if list.iter().any(|f| f.shield_id == current) {
            return;
        }
        let pick = wanted
            .filter(|w| list.iter().any(|f| &f.shield_id == w))
            .or_else(|| list.first().map(|f| f.shield_id.clone()));
        value.set(pick.unwrap_or_default());
    });
    let id = format!("{form}-shield");
    move || {
        let list = shields.0.get();
        if list.is_empty() {
            return view! {
                <p class="callout">{tr(|l| td_string!(l, m_no_certificate))}" "<a href="/m/download">{tr(|l| td_string!(l, m_download))}</a></p>
            }
            .into_any();
        }
        let options = list
            .iter()
            .map(|f| {
                let id = f.shield_id.clone();
                view! { <option value=id.clone() selected=move || value.get() == id>{label(f)}</option> }
            })
            .collect_view();
        view! {
            <div class="field">
                <label for=id.clone()>{tr(|l| td_string!(l, m_choose_certificate))}</label>
                <select id=id.clone() on:change=move |ev| value.set(event_target_value(&ev))>{options}</select>
            </div>
        }
        .into_any()
    }
}

/// Whether the browser says it is online; follows the `online` and `offline` events.
fn online_signal() -> ReadSignal<bool> {
    let (online, set_online) = signal(window().navigator().on_line());
    let on = window_event_listener(leptos::ev::online, move |_| set_online.set(true));
    let off = window_event_listener(leptos::ev::offline, move |_| set_online.set(false));
    on_cleanup(move || {
        on.remove();
        off.remove();
    });
    online
}

/// Registers `/m/sw.js` (scope `/m/`), which keeps the app shell for offline use.
fn register_service_worker() {
    let sw = window().navigator().service_worker();
    let options = web_sys::RegistrationOptions::new();
    options.set_scope("/m/");
    let p = sw.register_with_options("/m/sw.js", &options);
    leptos::task::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    });
}

/// The page for a path of the app; other paths belong to other bundles. Each page is a
/// chunk of the wasm, fetched when first shown (the service worker keeps them all).
fn page(path: &str) -> AnyView {
    use crate::components::lazily;
    match crate::app::normal(path) {
        "/m" => lazily(lazy::certificates()),
        "/m/download" => lazily(lazy::download()),
        "/m/scan" => lazily(lazy::scan(qr_decoder, qr_login_approval)),
        "/m/pin" => lazily(lazy::change_pin()),
        "/m/unlock" => lazily(lazy::unlock()),
        "/m/renew" => lazily(lazy::renew(renewed_download)),
        p if is_mobile_path(p) => view! { <crate::pages::NotFound /> }.into_any(),
        _ => view! { <crate::app::Elsewhere /> }.into_any(),
    }
}

/// A future that runs on the page's thread (what a lazy function's call gives back, boxed to
/// be passed as a function pointer).
pub type Later<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

/// 扫码登录's decoder ([`scan::QrDecoder`]), its own chunk.
fn qr_decoder(width: usize, height: usize, rgba: Vec<u8>) -> Later<Option<String>> {
    Box::pin(lazy::read_qr_lazy(width, height, rgba))
}

/// 扫码登录's approval ([`scan::QrLoginApproval`]), its own chunk.
fn qr_login_approval(
    f: ShieldFile,
    s: certdesk_shared::shield::QrLoginScanned,
    match_number: u8,
    pin: Pin,
    l: Locale,
) -> Later<Result<(), Problem>> {
    Box::pin(lazy::approve_qr_login_lazy(f, s, match_number, pin, l))
}

/// 延期's download ([`renew::RenewedDownload`]), its own chunk.
fn renewed_download(
    f: ShieldFile,
    request_id: String,
    pin: Option<Pin>,
    shields: Shields,
    l: Locale,
) -> Later<Result<ShieldStatus, Problem>> {
    Box::pin(lazy::download_renewed_lazy(f, request_id, pin, shields, l))
}

mod lazy {
    use leptos::prelude::*;

    #[leptos::lazy]
    pub fn certificates() -> AnyView {
        view! { <super::certificates::Certificates /> }.into_any()
    }

    #[leptos::lazy]
    pub fn download() -> AnyView {
        view! { <super::download::Download /> }.into_any()
    }

    #[leptos::lazy]
    pub fn scan(decoder: super::scan::QrDecoder, approval: super::scan::QrLoginApproval) -> AnyView {
        view! { <super::scan::Scan decoder approval /> }.into_any()
    }

    #[leptos::lazy]
    pub async fn approve_qr_login_lazy(
        f: super::ShieldFile,
        s: certdesk_shared::shield::QrLoginScanned,
        match_number: u8,
        pin: super::Pin,
        l: super::Locale,
    ) -> Result<(), super::Problem> {
        super::scan::approve_qr_login(f, s, match_number, pin, l).await
    }

    #[leptos::lazy]
    pub fn read_qr_lazy(width: usize, height: usize, rgba: Vec<u8>) -> Option<String> {
        super::scan::read_qr(width, height, &rgba)
    }

    #[leptos::lazy]
    pub fn change_pin() -> AnyView {
        view! { <super::pin::ChangePin /> }.into_any()
    }

    #[leptos::lazy]
    pub fn unlock() -> AnyView {
        view! { <super::pin::Unlock /> }.into_any()
    }

    #[leptos::lazy]
    pub fn renew(download: super::renew::RenewedDownload) -> AnyView {
        view! { <super::renew::Renew download /> }.into_any()
    }

    #[leptos::lazy]
    pub async fn download_renewed_lazy(
        f: super::ShieldFile,
        request_id: String,
        pin: Option<super::Pin>,
        shields: super::Shields,
        l: super::Locale,
    ) -> Result<super::ShieldStatus, super::Problem> {
        super::renew::download_renewed(f, request_id, pin, shields, l).await
    }
}

#[component]
fn Shell() -> impl IntoView {
    let path = use_location().pathname;
    let online = online_signal();
    let tabs = TABS
        .into_iter()
        .map(|(href, text)| {
            let here = move || crate::app::normal(&path.get()) == crate::app::normal(href);
            view! { <a href=href aria-current=move || here().then_some("page")>{tr(text)}</a> }
        })
        .collect_view();
    view! {
        <header class="app-bar">
            <a class="brand" href="/m/">
                <span class="logo" aria-hidden="true">"CA"</span>
                <span>{tr(|l| td_string!(l, m_app_name))}</span>
            </a>
            <LangSwitch />
        </header>
        {move || (!online.get()).then(|| view! { <p class="offline" role="status">{tr(|l| td_string!(l, m_offline))}</p> })}
        <main id="main" tabindex="-1">{move || page(&path.get())}</main>
        <nav class="app-tabs" aria-label=tr(|l| td_string!(l, m_nav))>{tabs}</nav>
    }
}

/// The app: the language, the certificates on this phone, and the pages.
#[component]
pub fn App() -> impl IntoView {
    let shields = Shields(RwSignal::new(store::load()));
    provide_context(shields);
    register_service_worker();
    view! {
        <I18nContextProvider>
            <Router>
                <Shell />
            </Router>
        </I18nContextProvider>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pin_is_checked_then_compared() {
        let fields = |r: Result<Pin, Vec<certdesk_shared::FieldError>>| {
            r.unwrap_err().into_iter().map(|e| format!("{}:{}", e.field, e.error)).collect::<Vec<_>>()
        };
        assert_eq!(fields(new_pin("123456", "123456")), ["new_pin:pin_weak"]);
        assert_eq!(fields(new_pin("246810", "246811")), ["new_pin_again:pin_mismatch"]);
        assert_eq!(fields(new_pin("246810", "")), ["new_pin_again:required"]);
        assert!(new_pin("246810", "246810").is_ok());
    }

    #[test]
    fn pin_answers() {
        assert!(matches!(opened(PinOutcome::Opened { secret: "s".into() }), Ok(s) if s == "s"));
        assert!(matches!(opened(PinOutcome::WrongPin { tries_left: 3 }), Err(Problem::WrongPin(3))));
        assert!(matches!(opened(PinOutcome::Locked), Err(Problem::Locked)));
        assert_eq!(Problem::WrongPin(3).message(Locale::zh_CN), "PIN码错误，还可尝试3次");
        assert_eq!(Problem::WrongPin(3).message(Locale::en), "Wrong PIN: 3 tries left");
        let locked = Problem::from(ApiError::new(ErrorCode::ShieldLocked, certdesk_shared::Lang::En));
        assert!(matches!(locked, Problem::Locked));
        let expired = Problem::from(ApiError::new(ErrorCode::QrCodeExpired, certdesk_shared::Lang::En));
        assert_eq!(expired.message(Locale::zh_CN), "二维码已失效，请在电脑上刷新后重新扫码");
    }

    #[test]
    fn tabs_are_app_paths() {
        for (href, _) in TABS {
            assert!(is_mobile_path(href), "{href}");
            // In the service worker's scope (frontend/mobile/sw.js), so that it opens offline.
            assert!(href.starts_with("/m/"), "{href}");
        }
    }
}
