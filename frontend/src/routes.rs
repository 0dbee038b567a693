//! The portal's operations (业务) and where each lives in the app: one name per operation,
//! as in `shared` and the backend.

use crate::i18n::Locale;
use crate::i18n::td_string;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Apply,
    Renew,
    Change,
    Reissue,
    Revoke,
    Unlock,
    RemoteDownload,
    Verify,
    Search,
    EnvCheck,
}

impl Operation {
    /// In navigation order, as the seed sites list them. Only operations that are built are
    /// here: a link never leads to a page saying a service is not open.
    pub const NAV: [Operation; 10] = [
        Operation::Apply,
        Operation::Renew,
        Operation::Change,
        Operation::Reissue,
        Operation::Revoke,
        Operation::Unlock,
        Operation::RemoteDownload,
        Operation::Verify,
        Operation::Search,
        Operation::EnvCheck,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Operation::Apply => "/apply",
            Operation::Renew => "/renew",
            Operation::Change => "/change",
            Operation::Revoke => "/revoke",
            Operation::Reissue => "/reissue",
            Operation::Unlock => "/unlock",
            Operation::RemoteDownload => "/remote-download",
            Operation::Verify => "/verify",
            Operation::Search => "/search",
            Operation::EnvCheck => "/env-check",
        }
    }

    pub fn title(self, l: Locale) -> &'static str {
        match self {
            Operation::Apply => td_string!(l, nav_apply),
            Operation::Renew => td_string!(l, nav_renew),
            Operation::Change => td_string!(l, nav_change),
            Operation::Revoke => td_string!(l, nav_revoke),
            Operation::Reissue => td_string!(l, nav_reissue),
            Operation::Unlock => td_string!(l, nav_unlock),
            Operation::RemoteDownload => td_string!(l, nav_remote_download),
            Operation::Verify => td_string!(l, nav_verify),
            Operation::Search => td_string!(l, nav_search),
            Operation::EnvCheck => td_string!(l, nav_env_check),
        }
    }

    pub fn description(self, l: Locale) -> &'static str {
        match self {
            Operation::Apply => td_string!(l, desc_apply),
            Operation::Renew => td_string!(l, desc_renew),
            Operation::Change => td_string!(l, desc_change),
            Operation::Revoke => td_string!(l, desc_revoke),
            Operation::Reissue => td_string!(l, desc_reissue),
            Operation::Unlock => td_string!(l, desc_unlock),
            Operation::RemoteDownload => td_string!(l, desc_remote_download),
            Operation::Verify => td_string!(l, desc_verify),
            Operation::Search => td_string!(l, desc_search),
            Operation::EnvCheck => td_string!(l, desc_env_check),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_rooted() {
        let mut seen = std::collections::HashSet::new();
        for op in Operation::NAV {
            assert!(op.path().starts_with('/'));
            assert!(seen.insert(op.path()), "{op:?}");
        }
    }

    #[test]
    fn every_operation_has_a_title_in_every_language() {
        for l in [Locale::zh_CN, Locale::zh_TW, Locale::en] {
            let mut titles = std::collections::HashSet::new();
            for op in Operation::NAV {
                assert!(titles.insert(op.title(l)), "{op:?} in {l:?}");
                assert!(!op.description(l).is_empty());
            }
        }
        assert_eq!(Operation::Apply.title(Locale::zh_CN), "证书新办");
        assert_eq!(Operation::Apply.title(Locale::en), "New certificate");
    }
}
