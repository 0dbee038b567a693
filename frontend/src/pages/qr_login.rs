//! APP扫码登录, the desktop's side: the QR code of a sign-in transaction
//! (`POST /api/qr-login`, bound to this browser by a cookie), its short code to type, and
//! the two-digit number the phone's user must pick. Polled every 1.5 s while shown; on
//! `signed_in` the poll's answer carried the session cookie, and the page does what a
//! password sign-in does. A new code every 2 minutes; one the server calls expired (a wrong
//! number picked on the phone) is renewed by a click.

use crate::i18n::td_string;
use certdesk_shared::endpoint;
use certdesk_shared::shield::{APP_PATH, QrLoginShown, QrLoginStatus, display_code};
use leptos::prelude::*;

use crate::components::fields::Text;
use crate::components::tr;
use crate::form::{Failure, fill};
use crate::i18n::use_i18n;

/// How often the desktop asks where its transaction stands.
const POLL_MS: u64 = 1500;

pub fn status_text(s: QrLoginStatus) -> Text {
    match s {
        QrLoginStatus::Waiting => |l| td_string!(l, qr_login_waiting),
        QrLoginStatus::Scanned => |l| td_string!(l, qr_login_scanned),
        QrLoginStatus::SignedIn => |l| td_string!(l, qr_login_signed_in),
        QrLoginStatus::Expired => |l| td_string!(l, qr_login_expired),
    }
}

/// Whether the poll goes on: only while the phone may still act.
pub fn still_open(s: QrLoginStatus) -> bool {
    matches!(s, QrLoginStatus::Waiting | QrLoginStatus::Scanned)
}

#[component]
pub fn QrLogin(next: String) -> impl IntoView {
    let i18n = use_i18n();
    let session = crate::session::use_session();
    let navigate = crate::router::use_navigate();
    let shown = RwSignal::new(None::<QrLoginShown>);
    let status = RwSignal::new(QrLoginStatus::Waiting);
    let failure = RwSignal::new(None::<Failure>);
    // When the code shown was made (Date.now()), and whether a poll is under way.
    let made_at = StoredValue::new(0.0f64);
    let in_flight = StoredValue::new(false);
    let next = StoredValue::new(next);

    let new_code = move || {
        let l = i18n.get_locale_untracked();
        made_at.set_value(js_sys::Date::now());
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::ShowQrLogin>(&[], &(), l).await {
                Ok(s) => {
                    failure.set(None);
                    status.set(QrLoginStatus::Waiting);
                    shown.set(Some(s));
                }
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };
    new_code();

    let signed_in = move || {
        let l = i18n.get_locale_untracked();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match crate::api::call::<endpoint::CurrentSession>(&[], &(), l).await {
                Ok(info) => {
                    session.signed_in(info);
                    navigate(&next.get_value(), Default::default());
                }
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };

    let tick = move || {
        let Some(s) = shown.get_untracked() else { return };
        let age_ms = js_sys::Date::now() - made_at.get_value();
        if age_ms >= f64::from(s.expires_in) * 1000.0 && status.get_untracked() != QrLoginStatus::SignedIn {
            // Every 2 minutes, a new code (the old one has expired on the server too).
            return new_code();
        }
        if !still_open(status.get_untracked()) || in_flight.get_value() {
            return;
        }
        in_flight.set_value(true);
        let l = i18n.get_locale_untracked();
        let signed_in = signed_in.clone();
        leptos::task::spawn_local(async move {
            let res = crate::api::call::<endpoint::PollQrLogin>(&[&s.id], &(), l).await;
            in_flight.set_value(false);
            // A newer code replaced this one meanwhile: its answer is stale.
            if shown.with_untracked(|c| c.as_ref().map(|c| c.id != s.id).unwrap_or(true)) {
                return;
            }
            match res {
                Ok(p) => {
                    status.set(p.status);
                    if p.status == QrLoginStatus::SignedIn {
                        signed_in();
                    }
                }
                Err(e) => failure.set(Some(e.into())),
            }
        });
    };
    let timer = set_interval_with_handle(tick, std::time::Duration::from_millis(POLL_MS)).ok();
    on_cleanup(move || {
        if let Some(t) = timer {
            t.clear();
        }
    });

    let origin = window().location().origin().unwrap_or_default();
    let app_url = format!("{origin}{APP_PATH}");
    view! {
        <div class="callout qr-login-box">
            <p>{tr(|l| td_string!(l, qr_login_intro))}</p>
            {move || shown.get().map(|s| {
                let expired = move || status.get() == QrLoginStatus::Expired;
                let m = s.match_number;
                view! {
                    <div class="qr-login" class:expired=expired role="img" aria-label=tr(|l| td_string!(l, qr_login_image)) inner_html=s.qr_svg.clone()></div>
                    <p>{tr(|l| td_string!(l, qr_login_code))}" "<span class="short-code">{display_code(&s.id)}</span></p>
                    <p class="match-number">{move || fill(td_string!(i18n.get_locale(), qr_login_match), format!("{m:02}"))}</p>
                }
            })}
            <p role="status" class="status">
                {move || if status.get() == QrLoginStatus::Expired {
                    view! { <button type="button" class="link" on:click=move |_| new_code()>{tr(status_text(QrLoginStatus::Expired))}</button> }.into_any()
                } else {
                    view! { {tr(status_text(status.get()))} }.into_any()
                }}
            </p>
            <crate::components::fields::FailureAlert failure />
            <p class="hint">{tr(|l| td_string!(l, qr_login_get_app))}" "<a href=app_url.clone()>{app_url.clone()}</a></p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn the_poll_stops_once_the_phone_cannot_act() {
        assert!(still_open(QrLoginStatus::Waiting) && still_open(QrLoginStatus::Scanned));
        assert!(!still_open(QrLoginStatus::SignedIn) && !still_open(QrLoginStatus::Expired));
    }

    #[test]
    fn each_status_has_its_words() {
        assert_eq!(status_text(QrLoginStatus::Waiting)(Locale::zh_CN), "等待扫码");
        assert_eq!(status_text(QrLoginStatus::Scanned)(Locale::zh_CN), "已扫码，请在手机上确认");
        assert_eq!(status_text(QrLoginStatus::SignedIn)(Locale::zh_CN), "已登录");
        assert_eq!(status_text(QrLoginStatus::Expired)(Locale::zh_CN), "二维码已过期（点击刷新）");
    }
}
