//! The app shell and its routes. The admin area (`/admin…`) has its own header and no
//! customer navigation.

use crate::router::Router;
use crate::router::use_location;
use leptos::prelude::AnyView;
use leptos::prelude::*;

use crate::components::{AdminHeader, Footer, Header, StagingBanner, lazily};
use crate::i18n::I18nContextProvider;
use certdesk_shared::agent::TokenKind;

use crate::pages::SignInMethod;
use crate::pages::{
    Admin, AdminEnrol, AdminSignIn, Agreement, Bulletin, Certificate, Downloads, EnvCheck, Home, NotFound, Search,
};
use crate::pages::{Apply, MyCertificates, Reissue, Renew};
use crate::session::provide_session;
use certdesk_shared::admin::Section;

pub use certdesk_shared::bundles::{
    APPLY_PATHS, is_account_path, is_admin_dashboard_path, is_admin_path, is_admin_settings_path, is_directory_path,
    is_holder_path, is_renew_path, is_request_path, is_token_path, normal,
};

/// The customers' header, for the portal and the wizard.
pub fn customer_header() -> AnyView {
    view! { <Header /> }.into_any()
}

/// The staff console's header (no customer navigation).
pub fn staff_header() -> AnyView {
    view! { <AdminHeader /> }.into_any()
}

/// The portal's route table: the page for a path, a plain `match` (see `crate::router`).
pub fn portal_page(path: &str) -> AnyView {
    match normal(path) {
        p if APPLY_PATHS.contains(&p)
            || is_holder_path(p)
            || is_renew_path(p)
            || is_request_path(p)
            || is_account_path(p)
            || is_admin_dashboard_path(p)
            || is_admin_path(p)
            || certdesk_shared::bundles::is_admin_sign_in_path(p)
            || is_admin_settings_path(p)
            || is_directory_path(p)
            || is_token_path(p)
            || certdesk_shared::bundles::is_mobile_path(p) =>
        {
            view! { <Elsewhere /> }.into_any()
        }
        "/" => view! { <Home /> }.into_any(),
        "/env-check" => view! { <EnvCheck /> }.into_any(),
        "/agreement" => view! { <Agreement /> }.into_any(),
        // 证书延期 starts from one of the holder's certificates.
        _ => view! { <NotFound /> }.into_any(),
    }
}

/// The account bundle's route table: 注册, 登录, 忘记密码, 我的账户; every other path is another's.
pub fn account_page(path: &str) -> AnyView {
    match normal(path) {
        "/register" => lazily(lazy::register()),
        "/sign-in" => lazily(lazy::sign_in(sign_in_method_form)),
        "/forgot-password" => lazily(lazy::forgot_password()),
        "/account" => lazily(lazy::account()),
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// 登录's forms of their own (UKey, PC soft shield, the app's QR code), each a chunk fetched
/// when its tab is first chosen. The sign-in page's chunk calls this through the pointer it
/// is given, so the loaders are in the bundle's main module: a lazy function called only
/// from inside another would be split into every bundle (xtask refuses it).
fn sign_in_method_form(method: SignInMethod, next: String) -> AnyView {
    match method {
        SignInMethod::UKey => lazily(lazy::token_sign_in(next, TokenKind::Ukey)),
        SignInMethod::SoftShield => lazily(lazy::token_sign_in(next, TokenKind::PcShield)),
        SignInMethod::App => lazily(lazy::qr_login(next)),
        SignInMethod::Password | SignInMethod::SecurityKey => ().into_any(),
    }
}

/// The new-certificate bundle's route table: the wizard; every other path is another's.
pub fn apply_page(path: &str) -> AnyView {
    match normal(path) {
        "/apply" => view! { <Apply pay_step /> }.into_any(),
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// 证书变更's download step, a chunk of its own; its loader is here for the page's chunk to
/// call, as [`pay_step`] is for the wizard's.
fn change_download(
    o: certdesk_shared::change::ChangeOffer,
    app: RwSignal<Option<certdesk_shared::request::RequestView>>,
) -> AnyView {
    lazily(crate::pages::change::download_changed_lazy(o, app))
}

/// The customer's lists beside 我的证书.
#[derive(Clone, Copy)]
enum OrdersPage {
    Applications,
    Invoices,
    Shipments,
}

fn orders_page(path: &str) -> OrdersPage {
    match path {
        "/invoices" => OrdersPage::Invoices,
        "/shipments" => OrdersPage::Shipments,
        _ => OrdersPage::Applications,
    }
}

/// The wizard's payment step, a chunk of its own (see [`crate::pages::apply::PayView`]).
fn pay_step(id: String, paid: Callback<()>) -> AnyView {
    lazily(crate::pages::apply::pay_step_lazy(id, paid))
}

/// The holder's bundle's route table: 我的证书, and 我的证书申请, 发票申请 and 邮寄查询 as one
/// chunk; every other path is another bundle's.
pub fn holder_page(path: &str) -> AnyView {
    match normal(path) {
        "/my-certificates" => view! { <MyCertificates /> }.into_any(),
        p @ ("/applications" | "/invoices" | "/shipments") => lazily(lazy::orders(orders_page(p))),
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// The route table of 证书延期 and 证书补办; every other path is another bundle's.
pub fn renew_page(path: &str) -> AnyView {
    match normal(path) {
        "/renew" => view! { <Renew /> }.into_any(),
        "/reissue" => view! { <Reissue /> }.into_any(),
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// The holder's requests bundle's route table: 证书注销, 证书变更, 经办人变更.
pub fn request_page(path: &str) -> AnyView {
    match normal(path) {
        "/revoke" => lazily(lazy::revoke()),
        "/change" => lazily(lazy::change(false, change_download)),
        "/operator-change" => lazily(lazy::change(true, change_download)),
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// The public directory's route table; every other path is another bundle's.
pub fn directory_page(path: &str) -> AnyView {
    match normal(path) {
        "/search" => view! { <Search /> }.into_any(),
        "/bulletin" => view! { <Bulletin /> }.into_any(),
        "/downloads" => view! { <Downloads /> }.into_any(),
        p if is_directory_path(p) => {
            let uid = p["/certificates/".len()..].to_owned();
            view! { <Certificate uid /> }.into_any()
        }
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// The token pages' route table (远程下载, 证书解锁, 证书校验, 证书助手); every other path is
/// another bundle's.
pub fn token_page(path: &str) -> AnyView {
    match normal(path) {
        "/remote-download" => lazily(lazy::remote_download()),
        "/unlock" => lazily(lazy::unlock()),
        "/verify" => lazily(lazy::verify()),
        "/agent" => lazily(lazy::agent()),
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// The staff console's route table (`/admin…`); every other path belongs to the portal.
pub fn admin_page(path: &str) -> AnyView {
    if let Some(section) = Section::from_path(path).filter(|s| is_admin_path(s.path())) {
        return view! { <Admin section /> }.into_any();
    }
    match normal(path) {
        p if is_admin_path(p) => view! { <NotFound /> }.into_any(),
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// The staff's sign-in bundle: 员工登录 and enrolment; every other path is another's.
pub fn admin_sign_in_page(path: &str) -> AnyView {
    match normal(path) {
        "/admin/sign-in" => view! { <AdminSignIn /> }.into_any(),
        "/admin/enrol" => view! { <AdminEnrol /> }.into_any(),
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// 工作台's bundle (`/admin`, with the chart library); every other path is another's.
pub fn admin_dashboard_page(path: &str) -> AnyView {
    match normal(path) {
        p if is_admin_dashboard_path(p) => view! { <crate::pages::AdminDashboard /> }.into_any(),
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// The staff console's settings bundle (`/admin/settings`); every other path is another's.
pub fn admin_settings_page(path: &str) -> AnyView {
    match normal(path) {
        p if is_admin_settings_path(p) => {
            let section = Section::from_path(p);
            if section.is_none() && p != certdesk_shared::bundles::ADMIN_SETTINGS_PATH {
                return view! { <NotFound /> }.into_any();
            }
            view! { <crate::pages::AdminSettings section /> }.into_any()
        }
        _ => view! { <Elsewhere /> }.into_any(),
    }
}

/// Pages that are chunks of their bundle's wasm ([`lazily`]): a visit fetches the bundle's
/// shared code and the one page it shows.
mod lazy {
    use leptos::prelude::*;

    use certdesk_shared::agent::TokenKind;

    use crate::pages::change::DownloadView;
    use crate::pages::qr_login::QrLogin;
    use crate::pages::{
        Account, AgentPage, Applications, Change, Download, ForgotPassword, Invoices, MethodForm, OperatorChange,
        Register, Revoke, Shipments, SignIn, TokenSignIn, Unlock, Verify,
    };

    #[leptos::lazy]
    pub fn register() -> AnyView {
        view! { <Register /> }.into_any()
    }

    #[leptos::lazy]
    pub fn sign_in(method_form: MethodForm) -> AnyView {
        view! { <SignIn method_form /> }.into_any()
    }

    #[leptos::lazy]
    pub fn token_sign_in(next: String, kind: TokenKind) -> AnyView {
        view! { <TokenSignIn next kind /> }.into_any()
    }

    #[leptos::lazy]
    pub fn qr_login(next: String) -> AnyView {
        view! { <QrLogin next /> }.into_any()
    }

    #[leptos::lazy]
    pub fn forgot_password() -> AnyView {
        view! { <ForgotPassword /> }.into_any()
    }

    #[leptos::lazy]
    pub fn account() -> AnyView {
        view! { <Account /> }.into_any()
    }

    #[leptos::lazy]
    pub fn remote_download() -> AnyView {
        view! { <Download /> }.into_any()
    }

    #[leptos::lazy]
    pub fn unlock() -> AnyView {
        view! { <Unlock /> }.into_any()
    }

    #[leptos::lazy]
    pub fn verify() -> AnyView {
        view! { <Verify /> }.into_any()
    }

    #[leptos::lazy]
    pub fn agent() -> AnyView {
        view! { <AgentPage /> }.into_any()
    }

    /// 我的证书申请, 发票 and 邮寄查询: one chunk, as they share most of their code.
    #[leptos::lazy]
    pub fn orders(page: super::OrdersPage) -> AnyView {
        match page {
            super::OrdersPage::Applications => view! { <Applications /> }.into_any(),
            super::OrdersPage::Invoices => view! { <Invoices /> }.into_any(),
            super::OrdersPage::Shipments => view! { <Shipments /> }.into_any(),
        }
    }

    #[leptos::lazy]
    pub fn revoke() -> AnyView {
        view! { <Revoke /> }.into_any()
    }

    /// 证书变更 and 经办人变更: one chunk, as they are one form.
    #[leptos::lazy]
    pub fn change(operator: bool, download: DownloadView) -> AnyView {
        if operator {
            view! { <OperatorChange download /> }.into_any()
        } else {
            view! { <Change download /> }.into_any()
        }
    }
}

/// A path of another bundle: the address is already set, so loading it again asks the
/// server, which answers with the right bundle (it maps the paths the same way).
#[component]
pub fn Elsewhere() -> impl IntoView {
    Effect::new(move |_| {
        let _ = window().location().reload();
    });
    view! { <p role="status" class="muted">"…"</p> }
}

/// Whatever page the address names.
#[component]
fn Page(route: fn(&str) -> AnyView) -> impl IntoView {
    let path = use_location().pathname;
    move || route(&path.get())
}

#[component]
fn Shell(route: fn(&str) -> AnyView, header: fn() -> AnyView) -> impl IntoView {
    // The home page's first screen (`index.html`'s HTML) goes once the app is drawn, which
    // in a language besides the default waits for its texts.
    Effect::new(|_| {
        if let Some(first) = document().get_element_by_id("first-paint") {
            first.remove();
        }
    });
    view! {
        <StagingBanner />
        {header()}
        <main id="main" tabindex="-1">
            <Page route />
        </main>
        <Footer />
    }
}

/// The app with one bundle's route table and header.
#[component]
pub fn App(route: fn(&str) -> AnyView, header: fn() -> AnyView) -> impl IntoView {
    view! {
        <I18nContextProvider>
            {provide_session()}
            <Router>
                <Shell route header />
            </Router>
        </I18nContextProvider>
    }
}
