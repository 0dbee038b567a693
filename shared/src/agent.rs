//! What the local token agent (证书助手, `certdesk-agent`) answers on 127.0.0.1.

use serde::{Deserialize, Serialize};

/// `GET http://127.0.0.1:<port>/v1/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Product name, `certdesk-agent`.
    pub name: String,
    pub version: String,
}
