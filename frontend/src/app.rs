//! The app shell and its routes. The admin area (`/admin…`) has its own header and no
//! customer navigation.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::path;

use crate::components::{AdminHeader, Footer, Header};
use crate::i18n::I18nContextProvider;
use crate::pages::{
    Account, Admin, AdminEnrol, AdminSignIn, Agreement, EnvCheck, ForgotPassword, Home, NotFound, Register,
    Service, SignIn,
};
use crate::routes::Operation;
use crate::session::provide_session;

/// Whether `path` belongs to the staff area.
pub fn is_admin_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

#[component]
fn Shell() -> impl IntoView {
    let location = use_location();
    let admin = Memo::new(move |_| is_admin_path(&location.pathname.get()));
    view! {
        {move || if admin.get() { view! { <AdminHeader /> }.into_any() } else { view! { <Header /> }.into_any() }}
        <main id="main" tabindex="-1">
            <Routes fallback=NotFound>
                <Route path=path!("/") view=Home />
                <Route path=path!("/env-check") view=EnvCheck />
                <Route path=path!("/register") view=Register />
                <Route path=path!("/sign-in") view=SignIn />
                <Route path=path!("/forgot-password") view=ForgotPassword />
                <Route path=path!("/account") view=Account />
                <Route path=path!("/agreement") view=Agreement />
                <Route path=path!("/admin") view=Admin />
                <Route path=path!("/admin/sign-in") view=AdminSignIn />
                <Route path=path!("/admin/enrol") view=AdminEnrol />
                <Route path=path!("/apply") view=|| view! { <Service op=Operation::Apply /> } />
                <Route path=path!("/renew") view=|| view! { <Service op=Operation::Renew /> } />
                <Route path=path!("/change") view=|| view! { <Service op=Operation::Change /> } />
                <Route path=path!("/reissue") view=|| view! { <Service op=Operation::Reissue /> } />
                <Route path=path!("/revoke") view=|| view! { <Service op=Operation::Revoke /> } />
                <Route path=path!("/unlock") view=|| view! { <Service op=Operation::Unlock /> } />
                <Route
                    path=path!("/remote-download")
                    view=|| view! { <Service op=Operation::RemoteDownload /> }
                />
                <Route path=path!("/verify") view=|| view! { <Service op=Operation::Verify /> } />
                <Route path=path!("/search") view=|| view! { <Service op=Operation::Search /> } />
            </Routes>
        </main>
        <Footer />
    }
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <I18nContextProvider>
            {provide_session()}
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
    fn admin_paths() {
        assert!(is_admin_path("/admin"));
        assert!(is_admin_path("/admin/sign-in"));
        assert!(!is_admin_path("/administration"));
        assert!(!is_admin_path("/account"));
    }
}
