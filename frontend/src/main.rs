//! CertDesk browser app: mounts [`app::App`] on the page.

mod app;
mod components;
mod env;
mod pages;
mod routes;

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
