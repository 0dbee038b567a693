//! `GET /api/health`: is the server up and can it reach its database.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Degraded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Health {
    pub status: HealthStatus,
    /// Server version (the workspace version).
    pub version: String,
    /// Whether the database answered a ping.
    pub database: bool,
    /// `sqlite` or `postgres`.
    pub database_kind: String,
    /// A staging server (a public test deployment running sandboxes): pages show "测试环境".
    #[serde(default)]
    pub staging: bool,
}

crate::deserialize_by_name!(HealthStatus);
