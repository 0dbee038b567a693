//! Which of the browser app's bundles answers a page path. The server (`http/spa.rs`)
//! serves that bundle's page and each bundle's router hands the other paths back with a
//! reload, so both sides must use these same functions: then a reload can never loop.

/// The new-certificate bundle: the wizard alone (the largest page; see `HOLDER_PATHS`).
pub const APPLY_PATHS: [&str; 1] = ["/apply"];

/// The holder's bundle: 我的证书, where a sign-in lands, and the customer's lists beside it
/// (我的证书申请, 发票申请, 邮寄查询: the tabs of one page in the seed sites).
pub const HOLDER_PATHS: [&str; 4] = ["/my-certificates", "/applications", "/invoices", "/shipments"];

/// 证书延期 and 证书补办, the holder's requests for a new certificate (they pay and write it into
/// the token): a bundle of their own, so that 我的证书 does not carry them.
pub const RENEW_PATHS: [&str; 2] = ["/renew", "/reissue"];

/// The holder's requests with documents and review: 证书注销, 证书变更, 经办人变更. A bundle
/// of its own, so that neither it nor 我的证书 outgrows the size budget.
pub const REQUEST_PATHS: [&str; 3] = ["/revoke", "/change", "/operator-change"];

/// The account pages: 注册, 登录 (every sign-in method), 忘记密码 and 我的账户. A bundle of
/// their own, so that the home page, which most visits start at, loads only what it shows.
pub const ACCOUNT_PATHS: [&str; 4] = ["/register", "/sign-in", "/forgot-password", "/account"];

/// A path without its trailing slashes (`/` and `//` are `/`). Idempotent, so that a router
/// that tests an already normal path decides as the server did on the raw one: with one slash
/// stripped, `/sign-in//` was the portal's to the server and the account bundle's to the
/// portal, which reloaded it for ever.
pub fn normal(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" if path.starts_with('/') => "/",
        p => p,
    }
}

pub fn is_apply_path(path: &str) -> bool {
    APPLY_PATHS.contains(&normal(path))
}

pub fn is_holder_path(path: &str) -> bool {
    HOLDER_PATHS.contains(&normal(path))
}

pub fn is_renew_path(path: &str) -> bool {
    RENEW_PATHS.contains(&normal(path))
}

pub fn is_request_path(path: &str) -> bool {
    REQUEST_PATHS.contains(&normal(path))
}

pub fn is_account_path(path: &str) -> bool {
    ACCOUNT_PATHS.contains(&normal(path))
}

/// The public directory: 查询服务, 注销公告, a certificate's page, and the agent's downloads.
pub fn is_directory_path(path: &str) -> bool {
    let p = normal(path);
    ["/search", "/bulletin", "/downloads"].contains(&p)
        || p.strip_prefix("/certificates/").is_some_and(|uid| !uid.is_empty() && !uid.contains('/'))
}

/// The token pages that need no sign-in, all through the agent: 远程下载, 证书解锁, 证书校验,
/// 证书助手. A bundle of their own, so that the directory's lookups do not carry the agent's
/// code.
pub const TOKEN_PATHS: [&str; 4] = ["/remote-download", "/unlock", "/verify", "/agent"];

pub fn is_token_path(path: &str) -> bool {
    TOKEN_PATHS.contains(&normal(path))
}

/// The mobile shield app (移动软盾): every path under [`crate::shield::APP_PATH`] (`/m`,
/// `/m/download`, `/m/scan` …), its own installable bundle for phones.
pub fn is_mobile_path(path: &str) -> bool {
    let app = crate::shield::APP_PATH;
    path == app || path.strip_prefix(app).is_some_and(|rest| rest.starts_with('/'))
}

/// The staff console's settings (收费类型, 项目与证书类型, 价格, 员工, 短信发件箱, 审计日志): a bundle of
/// its own, so that neither half of the console outgrows the size budget.
pub const ADMIN_SETTINGS_PATH: &str = "/admin/settings";

pub fn is_admin_settings_path(path: &str) -> bool {
    path.strip_prefix(ADMIN_SETTINGS_PATH).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// 工作台, the staff console's first page: a bundle of its own, with the chart library that
/// only it needs.
pub const ADMIN_DASHBOARD_PATH: &str = "/admin";

pub fn is_admin_dashboard_path(path: &str) -> bool {
    normal(path) == ADMIN_DASHBOARD_PATH
}

/// The staff's way in, a small bundle of its own (the only staff pages that need WebAuthn):
/// 员工登录 with a security key, and enrolment from an administrator's link.
pub const ADMIN_SIGN_IN_PATHS: [&str; 2] = ["/admin/sign-in", "/admin/enrol"];

pub fn is_admin_sign_in_path(path: &str) -> bool {
    ADMIN_SIGN_IN_PATHS.contains(&normal(path))
}

/// The staff console's daily work (审核, 冻结与吊销, 邮寄, 客服, finance).
pub fn is_admin_path(path: &str) -> bool {
    path.starts_with("/admin/")
        && !is_admin_settings_path(path)
        && !is_admin_dashboard_path(path)
        && !is_admin_sign_in_path(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_strips_every_trailing_slash_and_is_idempotent() {
        for (path, want) in [("/", "/"), ("//", "/"), ("/sign-in", "/sign-in"), ("/sign-in/", "/sign-in")] {
            assert_eq!(normal(path), want, "{path}");
        }
        for path in ["/sign-in//", "/renew///", "/certificates/x//", "/admin//", "/admin/settings/prices//"] {
            assert_eq!(normal(path), path.trim_end_matches('/'), "{path}");
            assert_eq!(normal(normal(path)), normal(path), "{path}");
        }
        // What the portal's router tests (the normal path) is what the server tested (the raw one).
        for path in ["/sign-in//", "/unlock//", "/renew//", "/search//", "/certificates/x//", "/apply//"] {
            let p = normal(path);
            assert_eq!(is_account_path(p), is_account_path(path), "{path}");
            assert_eq!(is_token_path(p), is_token_path(path), "{path}");
            assert_eq!(is_holder_path(p), is_holder_path(path), "{path}");
            assert_eq!(is_renew_path(p), is_renew_path(path), "{path}");
            assert_eq!(is_directory_path(p), is_directory_path(path), "{path}");
            assert_eq!(is_apply_path(p), is_apply_path(path), "{path}");
        }
        assert!(is_account_path("/sign-in//") && is_directory_path("/certificates/x//"));
    }

    #[test]
    fn each_path_has_one_bundle() {
        assert!(is_apply_path("/apply") && is_holder_path("/applications/") && is_holder_path("/invoices"));
        assert!(!is_apply_path("/applications") && !is_apply_path("/shipments") && is_holder_path("/shipments"));
        assert!(
            is_holder_path("/my-certificates")
                && !is_apply_path("/my-certificates")
                && !is_directory_path("/my-certificates")
        );
        assert!(
            !is_apply_path("/")
                && !is_apply_path("/applyx")
                && !is_apply_path("/apply/x")
                && !is_apply_path("/account")
        );
        assert!(
            is_directory_path("/search") && is_directory_path("/bulletin/") && is_directory_path("/certificates/abc")
        );
        assert!(is_directory_path("/downloads") && !is_directory_path("/remote-download"));
        assert!(
            is_token_path("/remote-download")
                && is_token_path("/unlock")
                && is_token_path("/verify/")
                && is_token_path("/agent")
                && !is_token_path("/search")
                && !is_token_path("/agents")
        );
        assert!(
            !is_directory_path("/certificates/")
                && !is_directory_path("/certificates/a/b")
                && !is_directory_path("/searching")
        );
        assert!(is_holder_path("/my-certificates") && !is_holder_path("/renew") && !is_apply_path("/renew"));
        assert!(is_renew_path("/renew/") && is_renew_path("/reissue") && !is_renew_path("/my-certificates"));
        assert!(!is_holder_path("/renewal") && !is_renew_path("/renewal") && !is_holder_path("/my-certificates/x"));
        assert!(is_admin_dashboard_path("/admin") && is_admin_dashboard_path("/admin/") && !is_admin_path("/admin"));
        assert!(is_admin_sign_in_path("/admin/sign-in") && is_admin_sign_in_path("/admin/enrol/"));
        assert!(!is_admin_path("/admin/sign-in") && !is_admin_dashboard_path("/admin/sign-in"));
        assert!(is_admin_path("/admin/review") && !is_admin_sign_in_path("/admin/review"));
        assert!(is_admin_settings_path("/admin/settings/") && !is_admin_path("/admin/settings"));
        assert!(!is_admin_path("/administration") && !is_admin_path("/account"));
        assert!(is_mobile_path("/m") && is_mobile_path("/m/") && is_mobile_path("/m/scan"));
        assert!(!is_mobile_path("/my-certificates") && !is_mobile_path("/mobile") && !is_directory_path("/m"));
        assert!(is_account_path("/sign-in") && is_account_path("/register/") && is_account_path("/account"));
        assert!(is_account_path("/forgot-password") && !is_account_path("/") && !is_account_path("/agreement"));
        assert!(!is_account_path("/sign-in/x") && !is_account_path("/accounts") && !is_holder_path("/account"));
    }
}
