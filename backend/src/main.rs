//! `certdesk`: the CertDesk server, and its administration commands.

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "certdesk", version, about = "CertDesk certificate authority self-service portal")]
struct Cli {
    #[command(flatten)]
    config: certdesk::Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal (the default).
    Serve,
    /// The certificate authority.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
}

#[derive(Subcommand)]
enum CaCommand {
    /// Create the root CA and the issuing CA (refused when they exist).
    Init,
    /// Print the hierarchy: subjects, serials, validity, fingerprints.
    Status,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => certdesk::serve(cli.config).await,
        Some(Command::Ca { command }) => {
            let db = certdesk::db::connect(&cli.config).await?;
            if let CaCommand::Init = command {
                certdesk::ca::hierarchy::init(&db, &cli.config).await?;
            }
            let ca = certdesk::ca::hierarchy::load(&db, &cli.config)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no CA yet: run `certdesk ca init`"))?;
            print!("{}", certdesk::ca::hierarchy::describe(&ca)?);
            Ok(())
        }
    }
}
