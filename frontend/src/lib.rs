//! CertDesk browser app. Thirteen entry points share this library, each its own wasm so each
//! stays within the size budget: the portal (`src/main.rs`: the home page, 环境检测, the
//! agreement) and the bundles in `src/bin/` (the account pages, the new-certificate wizard,
//! the holder's certificates, renewals and requests, the public directory, the token pages, the staff
//! sign-in, 工作台, console and settings, and the phone's mobile shield at /m), each started
//! by its `mount_*` below. Which bundle owns a path is `certdesk_shared::bundles`; each
//! bundle's router hands the paths of the others to the server with a full page load.

mod agent;
mod api;
mod app;
mod components;
mod env;
mod form;
mod i18n;
mod mobile;
mod pages;
mod router;
mod routes;
mod session;
mod webauthn;

/// The portal bundle. The home page's first screen, painted from `index.html` before the
/// app loaded, gives way to the app once it is drawn (`app::App`).
pub fn mount_portal() {
    leptos::mount::mount_to_body(|| leptos::view! { <app::App route=app::portal_page header=app::customer_header /> });
}

/// The account bundle (注册, 登录, 忘记密码, 我的账户).
pub fn mount_account() {
    leptos::mount::mount_to_body(|| leptos::view! { <app::App route=app::account_page header=app::customer_header /> });
}

/// The new-certificate bundle.
pub fn mount_apply() {
    leptos::mount::mount_to_body(|| leptos::view! { <app::App route=app::apply_page header=app::customer_header /> });
}

/// The holder's bundle (我的证书).
pub fn mount_holder() {
    leptos::mount::mount_to_body(|| leptos::view! { <app::App route=app::holder_page header=app::customer_header /> });
}

/// The bundle of 证书延期 and 证书补办.
pub fn mount_renew() {
    leptos::mount::mount_to_body(|| leptos::view! { <app::App route=app::renew_page header=app::customer_header /> });
}

/// The public directory bundle.
pub fn mount_directory() {
    leptos::mount::mount_to_body(
        || leptos::view! { <app::App route=app::directory_page header=app::customer_header /> },
    );
}

/// The token pages' bundle (远程下载, 证书解锁, 证书校验, 证书助手).
pub fn mount_token() {
    leptos::mount::mount_to_body(|| leptos::view! { <app::App route=app::token_page header=app::customer_header /> });
}

/// The staff console bundle.
pub fn mount_admin() {
    leptos::mount::mount_to_body(|| leptos::view! { <app::App route=app::admin_page header=app::staff_header /> });
}

/// The staff's sign-in bundle (`/admin/sign-in`, `/admin/enrol`).
pub fn mount_admin_sign_in() {
    leptos::mount::mount_to_body(
        || leptos::view! { <app::App route=app::admin_sign_in_page header=app::staff_header /> },
    );
}

/// 工作台's bundle (`/admin`).
pub fn mount_admin_dashboard() {
    leptos::mount::mount_to_body(
        || leptos::view! { <app::App route=app::admin_dashboard_page header=app::staff_header /> },
    );
}

/// The staff console's settings bundle.
pub fn mount_admin_settings() {
    leptos::mount::mount_to_body(
        || leptos::view! { <app::App route=app::admin_settings_page header=app::staff_header /> },
    );
}

/// The holder's requests bundle (证书注销, 证书变更, 经办人变更).
pub fn mount_request() {
    leptos::mount::mount_to_body(|| leptos::view! { <app::App route=app::request_page header=app::customer_header /> });
}

/// The mobile shield app (移动软盾, `/m`).
pub fn mount_mobile() {
    leptos::mount::mount_to_body(|| leptos::view! { <mobile::App /> });
}

#[cfg(test)]
mod first_paint {
    use crate::i18n::{Locale, td_string};
    use crate::routes::Operation;

    const START: &str = "    <!-- first-paint -->\n";
    const END: &str = "    <!-- /first-paint -->\n";

    /// The language the app chooses from the browser's languages (`Locale::pick`): the first
    /// language that one of ours matches, where a locale's missing region matches any; else
    /// the default. The test below runs it with node against `Locale::pick`.
    const PICK_JS: &str = r#"function pick(accepted) {
          var ours = [["zh-CN", "zh", "CN"], ["zh-TW", "zh", "TW"], ["en", "en", null]];
          for (var i = 0; i < accepted.length; i++) {
            var parts = String(accepted[i] || "").split(/[-_]/), region = null;
            for (var j = 1; j < parts.length; j++) {
              if (/^([A-Za-z]{2}|[0-9]{3})$/.test(parts[j])) { region = parts[j].toUpperCase(); break; }
            }
            for (var k = 0; k < ours.length; k++) {
              if (ours[k][1] === parts[0].toLowerCase() && (ours[k][2] === null || ours[k][2] === region)) return ours[k][0];
            }
          }
          return "zh-CN";
        }"#;

    /// Every text of the first screen, in order, in one language.
    fn texts(l: Locale) -> Vec<&'static str> {
        let mut t = vec![
            td_string!(l, app_name),
            td_string!(l, home_title),
            td_string!(l, home_lead),
            td_string!(l, home_services),
        ];
        for op in Operation::NAV {
            t.extend([op.title(l), op.description(l)]);
        }
        t
    }

    fn escape(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    }

    /// The home page's first screen (the header's brand, the hero, the services' cards) in
    /// the default language, hidden, and a script that shows it only on the home page, in the
    /// language the app will choose (its cookie, else the browser's languages, as
    /// `crate::i18n` does). It is inert: a picture of the page, which no Tab can focus before the app
    /// replaces it (focus would be lost with it).
    fn first_paint() -> String {
        let zh = texts(Locale::zh_CN);
        let n = |i: usize| format!(r#"data-text="{i}">{}"#, escape(zh[i]));
        let mut cards = String::new();
        for (k, op) in Operation::NAV.into_iter().enumerate() {
            let i = 4 + 2 * k;
            cards.push_str(&format!(
                "\n        <li class=\"card\"><a href=\"{}\"><h3 {}</h3><p {}</p></a></li>",
                op.path(),
                n(i),
                n(i + 1)
            ));
        }
        let others = serde_json::json!({ "zh-TW": texts(Locale::zh_TW), "en": texts(Locale::en) });
        format!(
            r#"{START}    <div id="first-paint" hidden inert>
      <header class="site-header"><div class="bar"><a class="brand" href="/"><span class="logo" aria-hidden="true">CA</span><span {}</span></a></div></header>
      <main><section class="hero"><h1 {}</h1><p class="lead" {}</p></section>
      <section><h2 {}</h2><ul class="cards">{cards}
      </ul></section></main>
    </div>
    <script>
      (function () {{
        var first = document.getElementById("first-paint");
        if (location.pathname !== "/") {{ first.remove(); return; }}
        var texts = {others};
        var saved = document.cookie.match(/(?:^|; )i18n_pref_locale=([^;]*)/);
        {PICK_JS}
        var lang = saved && ["zh-CN", "zh-TW", "en"].indexOf(saved[1]) >= 0 ? saved[1] : pick(navigator.languages || [navigator.language || ""]);
        var t = texts[lang];
        if (t) {{
          document.documentElement.lang = lang;
          first.querySelectorAll("[data-text]").forEach(function (e) {{ e.textContent = t[+e.dataset.text]; }});
        }}
        // Shown only now, in its language: a paint before this script ran would show the
        // default language, then move as the texts change.
        first.hidden = false;
      }})();
    </script>
{END}"#,
            n(0),
            n(1),
            n(2),
            n(3),
        )
    }

    /// The first paint's language is the app's: `pick` (run by node) agrees with
    /// `Locale::pick` on the browser languages that differ between simple rules.
    #[test]
    fn the_first_paint_picks_the_language_the_app_picks() {
        let cases: &[&[&str]] = &[
            &[],
            &["zh-CN"],
            &["zh-TW"],
            &["en-US"],
            &["ZH-tw"],
            &["zh"],
            &["zh", "en"],
            &["zh-HK", "en"],
            &["zh-Hant-TW"],
            &["zh-Hans-CN", "en"],
            &["fr", "de"],
            &["de", "zh-TW"],
            &["en-GB", "zh-CN"],
            &["zh-SG"],
        ];
        let js: Vec<String> = cases.iter().map(|c| format!("console.log(pick({}));", serde_json::json!(c))).collect();
        let out = std::process::Command::new("node")
            .args(["-e", &format!("{PICK_JS}\n{}", js.join("\n"))])
            .output()
            .expect("node runs (Node.js is installed with binaryen's npm)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let picked = String::from_utf8(out.stdout).unwrap();
        for (case, js_pick) in cases.iter().zip(picked.lines()) {
            let app = Locale::pick(case).tag();
            assert_eq!(js_pick, app, "browser languages {case:?}");
        }
        assert_eq!(picked.lines().count(), cases.len());
    }

    /// `index.html` paints the home page's first screen before the app has loaded (so the
    /// largest paint does not wait for the wasm): it must say what the app says, in every
    /// language, or the page would change as it loads.
    #[test]
    fn index_html_paints_what_the_home_page_shows() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../index.html");
        let html = std::fs::read_to_string(path).unwrap();
        let (Some(a), Some(b)) = (html.find(START), html.find(END)) else {
            panic!("index.html lacks the first-paint markers")
        };
        let expected = first_paint();
        if std::env::var_os("CERTDESK_WRITE_FIRST_PAINT").is_some() {
            let written = format!("{}{expected}{}", &html[..a], &html[b + END.len()..]);
            std::fs::write(path, written).unwrap();
            return;
        }
        assert_eq!(
            &html[a..b + END.len()],
            expected,
            "index.html's first paint is stale: CERTDESK_WRITE_FIRST_PAINT=1 cargo test -p certdesk-frontend --lib first_paint"
        );
    }
}
