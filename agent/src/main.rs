//! `certdesk-agent`: serves the token agent on 127.0.0.1 until stopped, or personalises a
//! UKey (`certdesk-agent --pkcs11-module … personalize --so-pin … --portal-key …`).

use std::sync::Arc;

use anyhow::Context;
use certdesk_agent::token::Outcome;
use certdesk_agent::{Cli, Command, Pkcs11Tokens, Tokens};
use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let cli = Cli::parse();
    let config = cli.config;
    let ukeys: Option<Arc<dyn Tokens>> = match &config.pkcs11_module {
        Some(module) => Some(Arc::new(Pkcs11Tokens::open(module)?)),
        None => None,
    };
    if let Some(Command::Personalize { medium_no, so_pin, portal_key }) = cli.command {
        let ukeys = ukeys.context("personalising needs --pkcs11-module")?;
        let portal =
            certdesk_agent::portal_key(&portal_key).context("--portal-key is not a P-256 public key in base64")?;
        let medium_no = match medium_no {
            Some(m) => m,
            None => match ukeys.list()?.as_slice() {
                [one] => one.medium_no.clone(),
                found => anyhow::bail!("{} tokens present: name one with --medium-no", found.len()),
            },
        };
        return match ukeys.personalize(&medium_no, &so_pin, &portal)? {
            Outcome::Done(()) => {
                println!("{medium_no}");
                Ok(())
            }
            Outcome::Refused(_) => anyhow::bail!("the SO PIN of {medium_no} is not right (or it is locked)"),
            Outcome::NoToken => anyhow::bail!("no token {medium_no}"),
        };
    }
    // Loopback only: the agent is for pages in this computer's browser.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
    tracing::info!(port = config.port, origins = ?config.origins, "certdesk-agent listening on 127.0.0.1");
    let app = certdesk_agent::app(certdesk_agent::Agent::new(&config, ukeys));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
