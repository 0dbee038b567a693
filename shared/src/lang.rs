//! The languages CertDesk speaks: simplified Chinese (default), traditional Chinese, English.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::ZhCn, Lang::ZhTw, Lang::En];

    /// BCP 47 tag, as used in `<html lang>` and `Accept-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::ZhTw => "zh-TW",
            Lang::En => "en",
        }
    }

    /// Best match for a BCP 47 tag (`zh-Hant-HK` → zh-TW, `en-GB` → en); None when nothing fits.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase();
        if t.starts_with("en") {
            Some(Lang::En)
        } else if t.starts_with("zh-tw") || t.starts_with("zh-hk") || t.starts_with("zh-mo") || t.starts_with("zh-hant")
        {
            Some(Lang::ZhTw)
        } else if t.starts_with("zh") {
            Some(Lang::ZhCn)
        } else {
            None
        }
    }

    /// Picks one message of three by language.
    pub fn pick(self, zh_cn: &'static str, zh_tw: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::ZhCn => zh_cn,
            Lang::ZhTw => zh_tw,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_map_to_languages() {
        let cases = [
            ("zh-CN", Some(Lang::ZhCn)),
            ("zh", Some(Lang::ZhCn)),
            ("zh-Hans-CN", Some(Lang::ZhCn)),
            ("zh-TW", Some(Lang::ZhTw)),
            ("zh-Hant-HK", Some(Lang::ZhTw)),
            ("zh-MO", Some(Lang::ZhTw)),
            ("en-GB", Some(Lang::En)),
            ("fr", None),
            ("", None),
        ];
        for (tag, want) in cases {
            assert_eq!(Lang::from_tag(tag), want, "{tag}");
        }
        for l in Lang::ALL {
            assert_eq!(Lang::from_tag(l.tag()), Some(l));
        }
    }
}
