//! `certdesk-agent`: serves the token agent on 127.0.0.1 until stopped.

use std::sync::Arc;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))).init();
    let config = certdesk_agent::Config::parse();
    let tokens: Arc<dyn certdesk_agent::Tokens> = match &config.pkcs11_module {
        Some(module) => Arc::new(certdesk_agent::Pkcs11Tokens::open(module)?),
        None => Arc::new(certdesk_agent::NoTokens),
    };
    // Loopback only: the agent is for pages in this computer's browser.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
    tracing::info!(port = config.port, origins = ?config.origins, "certdesk-agent listening on 127.0.0.1");
    let app = certdesk_agent::app(certdesk_agent::Agent::new(&config, tokens));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
