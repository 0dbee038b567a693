//! Parts every page shares.

mod admin_header;
pub mod certificate_panel;
pub mod fields;
mod footer;
mod header;
mod lang_switch;
pub mod qr;
mod staging_banner;
pub mod table;
pub mod token;

pub use admin_header::AdminHeader;
pub use footer::Footer;
pub use header::Header;
pub use lang_switch::LangSwitch;
pub use staging_banner::StagingBanner;

/// A text in the current language that follows the language switch, as a view or an
/// attribute value. Every text goes through this one function, so the app compiles one
/// reactive text type instead of one per `t!` (which kept the wasm within its budget).
pub fn tr(text: fields::Text) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let i18n = crate::i18n::use_i18n();
    move || text(i18n.get_locale())
}

/// A view whose code is a chunk of its bundle's wasm, fetched the first time it is drawn
/// (from a `#[leptos::lazy]` function: `cargo xtask app` splits the wasm at each; see
/// xtask/src/wasm.rs). Nothing is shown while the chunk loads.
pub fn lazily(
    view: impl std::future::Future<Output = leptos::prelude::AnyView> + Send + 'static,
) -> leptos::prelude::AnyView {
    use leptos::prelude::*;
    view! { <Suspense>{Suspend::new(view)}</Suspense> }.into_any()
}

/// Sets the document title to `<page> - <portal name>` whenever either changes.
pub fn use_page_title(page: impl Fn() -> String + 'static) {
    use leptos::prelude::*;
    let i18n = crate::i18n::use_i18n();
    Effect::new(move |_| {
        let app = crate::i18n::td_string!(i18n.get_locale(), app_name);
        let page = page();
        let title = if page.is_empty() { app.to_owned() } else { format!("{page} - {app}") };
        if let Some(doc) = leptos::prelude::window().document() {
            doc.set_title(&title);
        }
    });
}
