//! What the environment check (环境检测) decides, as plain functions: the operating system
//! and browser from the user-agent string, and whether each is good enough.

/// A browser family and its major version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browser {
    pub name: &'static str,
    pub major: u32,
}

impl Browser {
    /// Versions that run the app (WebAssembly, ES modules, `AbortSignal.timeout`).
    pub fn supported(&self) -> bool {
        let min = match self.name {
            "Chrome" | "Chromium" | "Edge" => 103,
            "Firefox" => 100,
            "Safari" => 16,
            "Opera" => 89,
            _ => return false,
        };
        self.major >= min
    }

    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.major)
    }
}

fn major_after(ua: &str, token: &str) -> Option<u32> {
    let start = ua.find(token)? + token.len();
    let digits: String = ua[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The browser named by a user-agent string. Order matters: Edge and Opera also say Chrome,
/// Chrome also says Safari.
pub fn detect_browser(ua: &str) -> Option<Browser> {
    let rules: [(&str, &'static str); 8] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("HeadlessChrome/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
    ];
    for (token, name) in rules {
        if token == "Version/" && !ua.contains("Safari/") {
            continue;
        }
        if let Some(major) = major_after(ua, token) {
            let name = if name == "Chrome" && ua.contains("Chromium/") { "Chromium" } else { name };
            return Some(Browser { name, major });
        }
    }
    None
}

/// The operating system named by a user-agent string, and whether tokens are supported on it.
pub fn detect_os(ua: &str) -> (&'static str, bool) {
    if ua.contains("Windows NT 10.0") {
        ("Windows 10/11", true)
    } else if ua.contains("Windows NT 6.3") {
        ("Windows 8.1", true)
    } else if ua.contains("Windows NT 6.1") {
        ("Windows 7", false)
    } else if ua.contains("Windows") {
        ("Windows", false)
    } else if ua.contains("HarmonyOS") || ua.contains("OpenHarmony") {
        ("HarmonyOS", true)
    } else if ua.contains("Android") {
        ("Android", true)
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        ("iOS", true)
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        ("macOS", true)
    } else if ua.contains("CrOS") {
        ("ChromeOS", false)
    } else if ua.contains("Linux") {
        ("Linux", true)
    } else {
        ("?", false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70";
    const FIREFOX_78: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:78.0) Gecko/20100101 Firefox/78.0";
    const SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
    const SAFARI_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const HEADLESS: &str =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36";
    const IE11: &str = "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko";
    const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

    #[test]
    fn browsers() {
        type Expected = Option<(&'static str, u32, bool)>;
        let cases: &[(&str, Expected)] = &[
            (CHROME_WIN, Some(("Chrome", 131, true))),
            (EDGE, Some(("Edge", 131, true))),
            (FIREFOX_78, Some(("Firefox", 78, false))),
            (SAFARI_MAC, Some(("Safari", 17, true))),
            (SAFARI_IOS, Some(("Safari", 17, true))),
            (HEADLESS, Some(("Chromium", 156, true))),
            (ANDROID, Some(("Chrome", 131, true))),
            (IE11, None),
            ("", None),
        ];
        for (ua, want) in cases {
            let got = detect_browser(ua).map(|b| (b.name, b.major, b.supported()));
            assert_eq!(got, *want, "{ua}");
        }
    }

    #[test]
    fn operating_systems() {
        let cases = [
            (CHROME_WIN, ("Windows 10/11", true)),
            (IE11, ("Windows 7", false)),
            (SAFARI_MAC, ("macOS", true)),
            (SAFARI_IOS, ("iOS", true)),
            (ANDROID, ("Android", true)),
            (HEADLESS, ("Linux", true)),
            ("Something", ("?", false)),
        ];
        for (ua, want) in cases {
            assert_eq!(detect_os(ua), want, "{ua}");
        }
    }
}
