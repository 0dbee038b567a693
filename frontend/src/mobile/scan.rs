//! 扫码登录 (`/m/scan`), the phone's side of APP扫码登录: the desktop's QR code read from the
//! camera (frames into a canvas every 200 ms, greyscale, `quircs` in a chunk of its own
//! fetched when the camera starts: [`QrDecoder`]), or its short code typed; the
//! scan names the desktop (browser, address, time); the user picks the number the desktop
//! shows and types the PIN; the opened key signs [`approval_message`] and the approval is
//! sent. The camera stops after a read and when the page is left.

use crate::i18n::td_string;
use certdesk_shared::endpoint;
use certdesk_shared::shield::{
    ACTION_SIGN_IN, QrLoginApprove, QrLoginScan, QrLoginScanned, approval_message, transaction_code,
};
use certdesk_shared::shield_keys::{self, ShieldFile};
use certdesk_shared::{FieldError, Pin};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::{Later, Problem, ShieldPicker, open_key, problem_alert, use_shields};
use crate::components::fields::{Field, FormState};
use crate::components::{tr, use_page_title};
use crate::form::short_time;
use crate::i18n::{Locale, use_i18n};

/// The widest frame decoded: enough for a QR code on a screen, small enough for 5 reads a second.
const FRAME_WIDTH: u32 = 480;

/// [`read_qr`] as the page calls it: the decoder is a chunk of the wasm, fetched when the
/// camera starts (at its first frame). The app's route table passes it (`mobile::qr_decoder`),
/// so that its loader is in the main module: a lazy function called only from inside another
/// (the page's) is refused.
pub type QrDecoder = fn(usize, usize, Vec<u8>) -> Later<Option<String>>;

/// The text of the first QR code in an RGBA frame.
pub fn read_qr(width: usize, height: usize, rgba: &[u8]) -> Option<String> {
    if rgba.len() < width * height * 4 {
        return None;
    }
    let grey: Vec<u8> = rgba
        .chunks_exact(4)
        .take(width * height)
        .map(|p| ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8)
        .collect();
    let mut decoder = quircs::Quirc::default();
    decoder
        .identify(width, height, &grey)
        .flatten()
        .find_map(|code| code.decode().ok().and_then(|d| String::from_utf8(d.payload).ok()))
}

/// Where the page stands.
#[derive(Debug, Clone)]
enum Step {
    Read,
    Confirm(QrLoginScanned),
    Done,
}

/// The camera while it runs: its stream and the timer that reads frames.
struct Camera {
    stream: web_sys::MediaStream,
    timer: Option<leptos::leptos_dom::helpers::IntervalHandle>,
}

impl Camera {
    fn stop(self) {
        if let Some(t) = self.timer {
            t.clear();
        }
        for track in self.stream.get_tracks().iter() {
            if let Ok(t) = track.dyn_into::<web_sys::MediaStreamTrack>() {
                t.stop();
            }
        }
    }
}

/// The current frame of `video`, drawn into `canvas`, as RGBA.
fn frame(video: &web_sys::HtmlVideoElement, canvas: &web_sys::HtmlCanvasElement) -> Option<(usize, usize, Vec<u8>)> {
    let (vw, vh) = (video.video_width(), video.video_height());
    if vw == 0 || vh == 0 {
        return None;
    }
    let w = vw.min(FRAME_WIDTH);
    let h = vh * w / vw;
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx = canvas.get_context("2d").ok()??.dyn_into::<web_sys::CanvasRenderingContext2d>().ok()?;
    ctx.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, f64::from(w), f64::from(h)).ok()?;
    let data = ctx.get_image_data(0.0, 0.0, f64::from(w), f64::from(h)).ok()?;
    Some((w as usize, h as usize, data.data().0))
}

/// [`approve_qr_login`] as the page calls it: the key's opening and the signature are a chunk
/// of the wasm, fetched at the approval (passed as [`QrDecoder`] is, `mobile::qr_login_approval`).
pub type QrLoginApproval = fn(ShieldFile, QrLoginScanned, u8, Pin, Locale) -> Later<Result<(), Problem>>;

/// Approves sign-in `s` with shield `f`: its key, opened with the PIN, signs
/// [`approval_message`] for the number the user picked.
pub async fn approve_qr_login(
    f: ShieldFile,
    s: QrLoginScanned,
    match_number: u8,
    pin: Pin,
    l: Locale,
) -> Result<(), Problem> {
    let key = open_key(&f, pin.as_str(), l).await?;
    let origin = window().location().origin().unwrap_or_default();
    let message = approval_message(&s.id, &s.nonce, &origin, ACTION_SIGN_IN, match_number);
    let req = QrLoginApprove {
        id: s.id,
        shield_id: f.shield_id,
        device_key: f.device_key,
        match_number,
        signature: shield_keys::sign(&key, &message),
    };
    crate::api::call::<endpoint::ApproveQrLogin>(&[], &req, l).await?;
    Ok(())
}

#[component]
pub fn Scan(decoder: QrDecoder, approval: QrLoginApproval) -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), m_scan).to_owned());
    let shields = use_shields();
    let shield = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let pin = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<u8>);
    let step = RwSignal::new(Step::Read);
    let problem = RwSignal::new(None::<Problem>);
    let fs = FormState::new("m-scan");
    let errors = fs.errors;
    let video_ref = NodeRef::<leptos::html::Video>::new();
    let camera = StoredValue::new_local(None::<Camera>);
    let camera_on = RwSignal::new(false);
    // Which run of the camera this is: a frame is read for the run that took it only.
    let run = StoredValue::new(0u32);
    let stop_camera = move || {
        if let Some(c) = camera.try_update_value(Option::take).flatten() {
            c.stop();
        }
        run.try_update_value(|n| *n += 1);
        camera_on.try_set(false);
    };
    on_cleanup(stop_camera);

    // The scan: the transaction, for the shield chosen.
    let scan = move |text: String| {
        let l = i18n.get_locale_untracked();
        let Some(f) = shields.get(&shield.get_untracked()) else { return };
        if transaction_code(&text).is_none() {
            problem.set(Some(Problem::Text(|l| td_string!(l, m_code_invalid))));
            return;
        }
        let req = QrLoginScan { code: text, shield_id: f.shield_id.clone(), device_key: f.device_key.clone() };
        fs.begin();
        problem.set(None);
        leptos::task::spawn_local(async move {
            let res = crate::api::call::<endpoint::ScanQrLogin>(&[], &req, l).await;
            fs.busy.set(false);
            match res {
                Ok(s) => {
                    chosen.set(None);
                    code.set(String::new());
                    step.set(Step::Confirm(s));
                }
                Err(e) => problem.set(Some(e.into())),
            }
        });
    };

    let start_camera = move |_| {
        problem.set(None);
        let Ok(devices) = window().navigator().media_devices() else {
            return problem.set(Some(Problem::Text(|l| td_string!(l, m_camera_failed))));
        };
        let constraints = web_sys::MediaStreamConstraints::new();
        let video = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&video, &"facingMode".into(), &"environment".into());
        constraints.set_video(&video);
        let Ok(p) = devices.get_user_media_with_constraints(&constraints) else {
            return problem.set(Some(Problem::Text(|l| td_string!(l, m_camera_failed))));
        };
        leptos::task::spawn_local(async move {
            let stream =
                match wasm_bindgen_futures::JsFuture::from(p).await.map(|s| s.dyn_into::<web_sys::MediaStream>()) {
                    Ok(Ok(s)) => s,
                    _ => return problem.set(Some(Problem::Text(|l| td_string!(l, m_camera_failed)))),
                };
            // The page may have been left while the browser asked for the camera.
            let Some(video) = video_ref.try_get_untracked().flatten() else {
                return Camera { stream, timer: None }.stop();
            };
            camera_on.set(true);
            let this_run = run.get_value();
            video.set_src_object(Some(&stream));
            let _ = video.play();
            let canvas =
                document().create_element("canvas").ok().and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok());
            let timer = canvas.and_then(|canvas| {
                // One frame at a time: the next is taken once the last is read.
                let reading = std::rc::Rc::new(std::cell::Cell::new(false));
                set_interval_with_handle(
                    move || {
                        if reading.get() {
                            return;
                        }
                        let Some(video) = video_ref.get_untracked() else { return };
                        let Some((w, h, rgba)) = frame(&video, &canvas) else { return };
                        reading.set(true);
                        let reading = reading.clone();
                        leptos::task::spawn_local(async move {
                            let text = decoder(w, h, rgba).await;
                            reading.set(false);
                            // A frame read after its run stopped (the camera stopped or started
                            // again, or the page left) is dropped.
                            let running = run.try_get_value() == Some(this_run);
                            if let Some(text) = text.filter(|t| running && transaction_code(t).is_some()) {
                                stop_camera();
                                scan(text);
                            }
                        });
                    },
                    std::time::Duration::from_millis(200),
                )
                .ok()
            });
            camera.set_value(Some(Camera { stream, timer }));
        });
    };

    let typed = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        stop_camera();
        scan(code.get_untracked());
    };

    let approve = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let l = i18n.get_locale_untracked();
        let Step::Confirm(s) = step.get_untracked() else { return };
        let Some(f) = shields.get(&shield.get_untracked()) else { return };
        let Some(match_number) = chosen.get_untracked() else {
            return problem.set(Some(Problem::Text(|l| td_string!(l, m_pick_first))));
        };
        let p = match Pin::parse(&pin.get_untracked()) {
            Ok(p) => p,
            Err(error) => return fs.refuse(vec![FieldError { field: "pin".into(), error }]),
        };
        fs.begin();
        problem.set(None);
        leptos::task::spawn_local(async move {
            let res = approval(f, s, match_number, p, l).await;
            fs.busy.set(false);
            pin.set(String::new());
            match res {
                Ok(()) => step.set(Step::Done),
                Err(p) => problem.set(Some(p)),
            }
        });
    };

    let again = move |_| {
        problem.set(None);
        chosen.set(None);
        step.set(Step::Read);
    };

    view! {
        <h1>{tr(|l| td_string!(l, m_scan))}</h1>
        {move || match step.get() {
            Step::Read => view! {
                <p class="lead">{tr(|l| td_string!(l, m_scan_intro))}</p>
                <ShieldPicker form="m-scan" value=shield />
                <div class="camera" hidden=move || !camera_on.get()>
                    <video node_ref=video_ref autoplay muted playsinline aria-label=tr(|l| td_string!(l, m_camera_view))></video>
                </div>
                <div class="actions">
                    {move || if camera_on.get() {
                        view! { <button type="button" class="secondary" on:click=move |_| stop_camera()>{tr(|l| td_string!(l, m_camera_stop))}</button> }.into_any()
                    } else {
                        view! { <button type="button" class="primary" disabled=move || shield.get().is_empty() on:click=start_camera>{tr(|l| td_string!(l, m_camera_start))}</button> }.into_any()
                    }}
                </div>
                <form class="form" novalidate on:submit=typed>
                    <Field form="m-scan" field="code" label=|l| td_string!(l, m_code) value=code errors hint=|l| td_string!(l, m_code_hint) autocomplete="off" />
                    {problem_alert(problem, move || shield.get_untracked())}
                    <button type="submit" class="secondary" disabled=move || fs.busy.get() || shield.get().is_empty()>{tr(|l| td_string!(l, m_code_submit))}</button>
                </form>
            }.into_any(),
            Step::Confirm(s) => {
                let choices = s.choices.clone().into_iter().map(|n| view! {
                    <button
                        type="button"
                        data-testid=format!("match-{n:02}")
                        aria-pressed=move || (chosen.get() == Some(n)).to_string()
                        on:click=move |_| { chosen.set(Some(n)); problem.set(None); }
                    >{format!("{n:02}")}</button>
                }).collect_view();
                view! {
                    <form class="form" novalidate on:submit=approve>
                        <h2>{tr(|l| td_string!(l, m_request_title))}</h2>
                        <dl class="cert-panel">
                            <div><dt>{tr(|l| td_string!(l, m_request_action))}</dt><dd>{tr(|l| td_string!(l, m_action_sign_in))}</dd></div>
                            <div><dt>{tr(|l| td_string!(l, m_request_browser))}</dt><dd>{s.browser.clone()}</dd></div>
                            <div><dt>{tr(|l| td_string!(l, m_request_address))}</dt><dd>{s.address.clone()}</dd></div>
                            <div><dt>{tr(|l| td_string!(l, m_request_time))}</dt><dd>{short_time(&s.shown_at)}</dd></div>
                        </dl>
                        <p><strong>{tr(|l| td_string!(l, m_pick_number))}</strong></p>
                        <div class="choices" role="group" aria-label=tr(|l| td_string!(l, m_pick_number))>{choices}</div>
                        <Field form="m-scan" field="pin" label=|l| td_string!(l, token_pin) value=pin errors input_type="password" inputmode="text" autocomplete="off" />
                        {problem_alert(problem, move || shield.get_untracked())}
                        <div class="actions">
                            <button type="submit" class="primary" disabled=move || fs.busy.get()>{tr(|l| td_string!(l, m_approve))}</button>
                            <button type="button" on:click=again>{tr(|l| td_string!(l, m_reject))}</button>
                        </div>
                    </form>
                }.into_any()
            }
            Step::Done => view! {
                <p class="big-ok" role="status">{tr(|l| td_string!(l, m_approved))}</p>
                <p class="muted">{tr(|l| td_string!(l, m_approved_hint))}</p>
                <p><button type="button" class="secondary" on:click=again>{tr(|l| td_string!(l, m_scan_again))}</button></p>
            }.into_any(),
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A QR code as a camera frame would hold it: RGBA, with a quiet zone, 4 pixels a module.
    fn frame_of(text: &str) -> (usize, usize, Vec<u8>) {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let n = code.width();
        let (scale, quiet) = (4, 4);
        let side = (n + 2 * quiet) * scale;
        let mut rgba = vec![255u8; side * side * 4];
        for y in 0..n {
            for x in 0..n {
                if code[(x, y)] == qrcode::Color::Dark {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            let (px, py) = ((x + quiet) * scale + dx, (y + quiet) * scale + dy);
                            let i = (py * side + px) * 4;
                            rgba[i..i + 3].copy_from_slice(&[20, 30, 40]);
                        }
                    }
                }
            }
        }
        (side, side, rgba)
    }

    #[test]
    fn a_frame_of_the_desktop_code_reads_as_its_transaction() {
        let (w, h, rgba) = frame_of("CERTDESK-LOGIN:ABCDEFGHJK");
        let text = read_qr(w, h, &rgba).unwrap();
        assert_eq!(transaction_code(&text).as_deref(), Some("ABCDEFGHJK"));
    }

    #[test]
    fn a_blank_or_short_frame_reads_nothing() {
        assert_eq!(read_qr(64, 64, &vec![255u8; 64 * 64 * 4]), None);
        assert_eq!(read_qr(64, 64, &[0u8; 10]), None);
    }
}
