//! The one piece of shared state every handler receives.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::ca::CaService;
use crate::config::Config;
use crate::domain::audit::AuditKey;
use crate::metrics::Metrics;
use crate::notify::Notifier;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// The CA hierarchy with its signing handles.
    pub ca: Arc<CaService>,
    pub notifier: Arc<Notifier>,
    /// The relying party for security keys and passkeys.
    pub webauthn: Arc<webauthn_rs::Webauthn>,
    pub audit_key: Arc<AuditKey>,
}

impl AppState {
    /// Connects to the database (running migrations) and builds the state.
    pub async fn new(config: Config) -> anyhow::Result<Self> {
        config.check()?;
        let db = crate::db::connect(&config).await?;
        let instance = crate::domain::health::instance_id(&db).await?;
        let ca = crate::ca::hierarchy::load_or_init(&db, &config).await?;
        crate::domain::apply::seed_catalogue(&db).await.map_err(|e| anyhow::anyhow!("seeding the catalogue: {e}"))?;
        let notifier = Arc::new(Notifier::from_config(&db, &config)?);
        let webauthn = Arc::new(crate::domain::security_key::relying_party(&config.public_url)?);
        let audit_key = Arc::new(AuditKey::from_config(&config)?);
        Ok(AppState {
            db,
            metrics: Arc::new(Metrics::new(&instance)),
            config: Arc::new(config),
            ca: Arc::new(ca),
            notifier,
            webauthn,
            audit_key,
        })
    }
}
