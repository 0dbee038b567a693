//! The one piece of shared state every handler receives.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::ca::CaService;
use crate::config::Config;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// The CA hierarchy with its signing handles.
    pub ca: Arc<CaService>,
}

impl AppState {
    /// Connects to the database (running migrations) and builds the state.
    pub async fn new(config: Config) -> anyhow::Result<Self> {
        let db = crate::db::connect(&config).await?;
        let instance = crate::domain::health::instance_id(&db).await?;
        let ca = crate::ca::hierarchy::load_or_init(&db, &config).await?;
        Ok(AppState { db, metrics: Arc::new(Metrics::new(&instance)), config: Arc::new(config), ca: Arc::new(ca) })
    }
}
