//! 下载中心 (seed 001 §2.1 运营服务 → 下载中心, seed 003 §1.4.2 服务支持): the programs a customer
//! installs, each with its size and SHA-256 so that a copy can be checked before it is run.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

/// The computers a download is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Platform {
    /// Windows 10 and 11, 64-bit (x86_64).
    Windows,
    /// Linux, 64-bit (x86_64, glibc).
    Linux,
}

/// One file of the 下载中心: today the token agent (证书助手), per platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Download {
    /// The file name; it is served at `/downloads/{file}`.
    pub file: String,
    pub platform: Platform,
    pub version: String,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

impl Download {
    /// The agent's file name for a platform, as the release build names it.
    pub fn agent_file(version: &str, platform: Platform) -> String {
        match platform {
            Platform::Windows => format!("certdesk-agent-{version}-windows-x86_64.exe"),
            Platform::Linux => format!("certdesk-agent-{version}-linux-x86_64.tar.gz"),
        }
    }

    /// The platform and version a file name of the agent names, if it is one.
    pub fn parse_agent_file(file: &str) -> Option<(Platform, String)> {
        let rest = file.strip_prefix("certdesk-agent-")?;
        let (version, platform) = if let Some(v) = rest.strip_suffix("-windows-x86_64.exe") {
            (v, Platform::Windows)
        } else {
            (rest.strip_suffix("-linux-x86_64.tar.gz")?, Platform::Linux)
        };
        let plausible = !version.is_empty() && version.chars().all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c));
        plausible.then(|| (platform, version.to_owned()))
    }

    pub fn url(&self) -> String {
        format!("/downloads/{}", self.file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_file_names_read_back() {
        for p in [Platform::Windows, Platform::Linux] {
            assert_eq!(Download::parse_agent_file(&Download::agent_file("0.1.0", p)), Some((p, "0.1.0".into())));
        }
        assert_eq!(Download::parse_agent_file("certdesk-agent--windows-x86_64.exe"), None);
        assert_eq!(Download::parse_agent_file("certdesk-agent-1/../x-linux-x86_64.tar.gz"), None);
        assert_eq!(Download::parse_agent_file("index.html"), None);
    }
}

crate::deserialize_by_name!(Platform);
