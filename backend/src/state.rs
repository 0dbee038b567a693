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
    /// The short-lived counters (the public lookups' limits): committed without waiting
    /// for the disk, still shared by every server.
    pub counters: crate::domain::throttle::Counters,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// The CA hierarchy with its signing handles.
    pub ca: Arc<CaService>,
    pub notifier: Arc<Notifier>,
    /// The relying party for security keys and passkeys.
    pub webauthn: Arc<webauthn_rs::Webauthn>,
    pub audit_key: Arc<AuditKey>,
    /// The payment provider (the sandbox by default).
    pub payments: Arc<dyn crate::payment::PaymentProvider>,
    /// The sandbox provider itself, for its pay page.
    pub sandbox_pay: Arc<crate::payment::sandbox::SandboxPay>,
    /// Alipay, when configured (the real gateway, or its sandbox in development and staging).
    pub alipay: Option<Arc<crate::payment::alipay::Alipay>>,
}

impl AppState {
    /// Connects to the database (running migrations) and builds the state.
    pub async fn new(config: Config) -> anyhow::Result<Self> {
        config.check()?;
        let db = crate::db::connect(&config).await?;
        let counters = crate::db::connect_counters(&config, &db).await?;
        let instance = crate::domain::health::instance_id(&db).await?;
        let ca = crate::ca::hierarchy::load_or_init(&db, &config).await?;
        crate::domain::catalogue::seed_catalogue(&db)
            .await
            .map_err(|e| anyhow::anyhow!("seeding the catalogue: {e}"))?;
        let notifier = Arc::new(Notifier::from_config(&db, &config).await?);
        let webauthn = Arc::new(crate::domain::security_key::relying_party(&config.public_url)?);
        let audit_key = Arc::new(AuditKey::from_config(&config)?);
        let config_sandbox = config.payment_sandbox;
        let (sandbox, deliveries) = crate::payment::sandbox::SandboxPay::new(db.clone(), &config.public_url);
        let sandbox_pay = Arc::new(sandbox);
        let alipay = crate::payment::alipay::Alipay::from_config(&config, &db).await?.map(Arc::new);
        let state = AppState {
            db,
            counters,
            metrics: Arc::new(Metrics::new(&instance)),
            config: Arc::new(config),
            ca: Arc::new(ca),
            notifier,
            webauthn,
            audit_key,
            payments: if config_sandbox { sandbox_pay.clone() } else { Arc::new(crate::payment::Disabled) },
            sandbox_pay,
            alipay,
        };
        tokio::spawn(deliver_notifications(state.clone(), deliveries));
        Ok(state)
    }
}

/// Hands the sandbox provider's notifications to the same code the notification endpoint
/// runs, retrying as the provider would (after 1, 2, 4, 8 and 16 seconds).
async fn deliver_notifications(
    state: AppState,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<crate::payment::sandbox::Delivery>,
) {
    use crate::domain::payment::{NotifyRefused, notified};
    while let Some(notification) = rx.recv().await {
        let state = state.clone();
        tokio::spawn(async move {
            for wait in [1u64, 2, 4, 8, 16] {
                match notified(&state.db, state.payments.as_ref(), &state.audit_key, &notification).await {
                    Ok(_) | Err(NotifyRefused::Signature | NotifyRefused::Order) => return,
                    Err(NotifyRefused::Retry) => tokio::time::sleep(std::time::Duration::from_secs(wait)).await,
                }
            }
            tracing::error!(
                "a payment notification could not be recorded after 5 tries; the order is reconciled by query"
            );
        });
    }
}
