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
    /// Writes that share one durable transaction with the others of the moment (issuance).
    pub commits: crate::group_commit::GroupCommit,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// The CA hierarchy with its signing handles.
    pub ca: Arc<CaService>,
    pub notifier: Arc<Notifier>,
    /// The relying party for security keys and passkeys.
    pub webauthn: Arc<webauthn_rs::Webauthn>,
    pub audit_key: Arc<AuditKey>,
    /// The payment providers offered (WeChat Pay, Alipay), each by its way.
    pub payments: Arc<crate::payment::Payments>,
    /// The WeChat Pay sandbox server (`/sandbox/wechatpay`), on development and staging
    /// servers with `CERTDESK_PAYMENT_SANDBOX`.
    pub wechat_sandbox: Option<Arc<crate::payment::wechat_sandbox::WechatSandbox>>,
    /// Alipay's client when Alipay is offered (the real gateway, or its sandbox in
    /// development and staging); the same one `payments` offers.
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
        let wechat_sandbox = if config.payment_sandbox && config.sandbox_allowed() {
            let http = crate::payment::http_client(&config)?;
            Some(Arc::new(crate::payment::wechat_sandbox::WechatSandbox::new(db.clone(), &config.public_url, http)))
        } else {
            None
        };
        // Alipay's client is also kept apart, for its notification endpoint and the tests.
        let alipay = crate::payment::alipay::Alipay::from_config(&config, &db).await?.map(Arc::new);
        let payments =
            Arc::new(crate::payment::Payments::from_config(&config, wechat_sandbox.clone(), alipay.clone()).await?);
        let commits = crate::group_commit::GroupCommit::start(db.clone());
        let state = AppState {
            db,
            counters,
            commits,
            metrics: Arc::new(Metrics::new(&instance)),
            config: Arc::new(config),
            ca: Arc::new(ca),
            notifier,
            webauthn,
            audit_key,
            payments,
            wechat_sandbox,
            alipay,
        };
        Ok(state)
    }
}
