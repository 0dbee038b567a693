//! 下载中心 (seed 001 §2.1 运营服务 → 下载中心, seed 003 §1.4.2 服务支持): the token agent
//! (证书助手) for each platform, with its version, size and SHA-256, and how to check a copy
//! before running it.

use crate::i18n::td_string;
use certdesk_shared::downloads::{Download, Platform};
use certdesk_shared::endpoint;
use leptos::prelude::*;

use crate::components::fields::Text;
use crate::components::table::{data_table, load_into, loaded};
use crate::components::{tr, use_page_title};
use crate::form::{Load, fill};
use crate::i18n::use_i18n;

const HEADS: [Text; 5] = [
    |l| td_string!(l, col_download_name),
    |l| td_string!(l, col_download_platform),
    |l| td_string!(l, col_download_version),
    |l| td_string!(l, col_download_size),
    |l| td_string!(l, col_download_sha256),
];

fn platform_text(p: Platform) -> Text {
    match p {
        Platform::Windows => |l| td_string!(l, platform_windows),
        Platform::Linux => |l| td_string!(l, platform_linux),
    }
}

/// A size as people read it: 11.2 MB. Megabytes in tenths, rounded as `{:.1}` rounds the
/// float (the nearest, a tie to the even tenth), in integers: float formatting would bring
/// its code into the wasm.
pub fn size_text(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    match bytes {
        b if b >= MB => {
            // Whole megabytes and the rest apart, so that no size overflows.
            let (whole, rest) = (b / MB, b % MB);
            let (q, r) = (whole * 10 + rest * 10 / MB, rest * 10 % MB);
            let tenths = if r > MB / 2 || (r == MB / 2 && q % 2 == 1) { q + 1 } else { q };
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
        b if b >= 1024 => format!("{} KB", b.div_ceil(1024)),
        b => format!("{b} B"),
    }
}

#[component]
pub fn Downloads() -> impl IntoView {
    let i18n = use_i18n();
    use_page_title(move || td_string!(i18n.get_locale(), nav_downloads).to_owned());
    let list = RwSignal::new(Load::<Vec<Download>>::Loading);
    load_into::<endpoint::ListDownloads>(list, &[], i18n.get_locale_untracked());
    view! {
        <h1>{tr(|l| td_string!(l, nav_downloads))}</h1>
        <p class="lead">{tr(|l| td_string!(l, downloads_intro))}</p>
        {loaded(list, move |list| {
            let file_for = |p: Platform| list.iter().find(|d| d.platform == p).map(|d| d.file.clone());
            let check = view! {
                <section aria-labelledby="downloads-check">
                    <h2 id="downloads-check">{tr(|l| td_string!(l, downloads_check_title))}</h2>
                    <ol>
                        <li>{tr(|l| td_string!(l, downloads_save_first))}</li>
                        {file_for(Platform::Windows).map(|f| view! {
                            <li>{tr(|l| td_string!(l, downloads_check_windows))} <pre><code>{format!("certutil -hashfile {f} SHA256")}</code></pre></li>
                        })}
                        {file_for(Platform::Linux).map(|f| view! {
                            <li>{tr(|l| td_string!(l, downloads_check_linux))} <pre><code>{format!("sha256sum {f}")}</code></pre></li>
                        })}
                        <li>{tr(|l| td_string!(l, downloads_then))} " " <a href="/agent">{tr(|l| td_string!(l, agent_title))}</a></li>
                    </ol>
                </section>
            };
            let rows: Vec<AnyView> = list
                .into_iter()
                .map(|d| {
                    let (url, file, sha) = (d.url(), d.file.clone(), d.sha256.clone());
                    let label = file.clone();
                    view! {
                        <tr>
                            <td>
                                {tr(|l| td_string!(l, agent_title))} <br />
                                <a href=url download=file.clone() aria-label=move || fill(td_string!(i18n.get_locale(), download_file), &label)>{file.clone()}</a>
                            </td>
                            <td>{tr(platform_text(d.platform))}</td>
                            <td>{d.version}</td>
                            <td>{size_text(d.size)}</td>
                            <td><code class="digest">{sha}</code></td>
                        </tr>
                    }
                    .into_any()
                })
                .collect();
            let empty = rows.is_empty();
            view! { {data_table(&HEADS, rows)} {(!empty).then_some(check)} }.into_any()
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_text(11_779_912), "11.2 MB");
        // As the float's `{:.1}` gives, the ties (1.25, 1.75, 2.25, 2.75 MB) included.
        for b in (1024 * 1024..3 * 1024 * 1024).step_by(13_107).chain([1_310_720, 1_835_008, 2_359_296, 2_883_584]) {
            assert_eq!(size_text(b), format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)), "{b} bytes");
        }
        assert_eq!(size_text(u64::MAX), "17592186044416.0 MB");
        assert_eq!(size_text(2048), "2 KB");
        assert_eq!(size_text(10), "10 B");
    }
}
