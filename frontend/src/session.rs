//! Who is signed in: `GET /api/session` once at start (401 = signed out), then whatever
//! a sign-in, registration or sign-out answers. Pages and the header read it from context.

use certdesk_shared::account::SessionInfo;
use certdesk_shared::endpoint::{self, Endpoint};
use leptos::prelude::*;

use crate::i18n::{Locale, use_i18n};

#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// The signed-in customer, or `None`.
    pub info: RwSignal<Option<SessionInfo>>,
    /// False until the first answer to `GET /api/session`.
    pub loaded: RwSignal<bool>,
}

impl Session {
    pub fn signed_in(&self, info: SessionInfo) {
        self.info.set(Some(info));
        self.loaded.set(true);
    }

    pub fn signed_out(&self) {
        crate::api::forget_csrf(endpoint::SignOut::PATH);
        self.info.set(None);
    }
}

/// Puts the session in context and asks the server for it.
pub fn provide_session() {
    let i18n = use_i18n();
    let session = Session { info: RwSignal::new(None), loaded: RwSignal::new(false) };
    provide_context(session);
    leptos::task::spawn_local(async move {
        let answer = crate::api::call::<endpoint::CurrentSession>(&[], &(), i18n.get_locale_untracked()).await;
        // 401 is "signed out"; any other failure also leaves the visitor signed out here,
        // and the page they open says what the server answers.
        session.info.set(answer.ok());
        session.loaded.set(true);
    });
}

pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(|| Session { info: RwSignal::new(None), loaded: RwSignal::new(true) })
}

/// `POST /api/sign-out`, then home.
pub fn sign_out(session: Session, locale: Locale, navigate: impl Fn(&str, crate::router::NavigateOptions) + 'static) {
    leptos::task::spawn_local(async move {
        let _ = crate::api::call::<endpoint::SignOut>(&[], &(), locale).await;
        // Leave first: a page that needs a session (the user centre) would otherwise see the
        // session go and send the visitor to sign in again.
        navigate("/", Default::default());
        session.signed_out();
    });
}

/// For pages that need a signed-in customer: sends a visitor to sign in (and back to `here`
/// after), and runs `load` once per signed-in account (not again when the session is
/// merely refreshed).
pub fn when_signed_in(here: &'static str, load: impl Fn() + 'static) {
    let session = use_session();
    let navigate = crate::router::use_navigate();
    let loaded_for = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let account = session.info.with(|i| i.as_ref().map(|i| i.account.id.clone()));
        match account {
            None if session.loaded.get() => {
                let options = crate::router::NavigateOptions { replace: true };
                navigate(&format!("/sign-in?next={here}"), options);
            }
            Some(id) if loaded_for.get_value().as_deref() != Some(id.as_str()) => {
                loaded_for.set_value(Some(id));
                load();
            }
            _ => {}
        }
    });
}
