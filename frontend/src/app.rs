//! The app shell and its routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::{Footer, Header};
use crate::i18n::I18nContextProvider;
use crate::pages::{EnvCheck, Home, NotFound, Service};
use crate::routes::Operation;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <I18nContextProvider>
            <Router>
                <Header />
                <main id="main" tabindex="-1">
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=Home />
                        <Route path=path!("/env-check") view=EnvCheck />
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
            </Router>
        </I18nContextProvider>
    }
}
