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
    /// Staff accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Data for `cargo xtask bench` (development mode only).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Insert synthetic certificates (user<i>@bench.example) for the status-search benchmark.
    SeedDirectory {
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a staff member and print the link they enrol their security key with (24 h).
    Create {
        /// reviewer (审核), customer_service (客服), finance (财务) or administrator.
        #[arg(long, value_parser = ["reviewer", "customer_service", "finance", "administrator"])]
        role: String,
        /// Sign-in name: 3-32 letters, digits, `.`, `_` or `-`.
        #[arg(long)]
        username: String,
        /// Name shown in the admin area.
        #[arg(long)]
        display_name: Option<String>,
        /// Their own mobile phone: requests made with it are never theirs to review.
        #[arg(long)]
        mobile: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every row of the chain; exits 1 and names each row that was edited, inserted or deleted.
    Verify,
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
        Some(Command::Admin { command: AdminCommand::Create { role, username, display_name, mobile } }) => {
            let state = certdesk::AppState::new(cli.config).await?;
            let role = certdesk_shared::admin::StaffRole::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?;
            let meta = certdesk::domain::ClientMeta { ip: "cli".into(), user_agent: "certdesk admin create".into() };
            let mobile = mobile
                .map(|m| certdesk_shared::Mobile::parse(&m).map_err(|e| anyhow::anyhow!("--mobile: {}", e.message(certdesk_shared::Lang::En))))
                .transpose()?;
            let (staff, token) = certdesk::domain::staff::create(
                &state.db,
                &state.audit_key,
                certdesk::domain::audit::SYSTEM,
                &username,
                display_name.as_deref().unwrap_or(&username),
                role,
                mobile.as_ref(),
                &meta,
                chrono::Utc::now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.code().message(certdesk_shared::Lang::En)))?;
            println!("created {} ({}), role {}", staff.username, staff.display_name, staff.role);
            println!("They enrol their security key within 24 hours at this link (shown once):");
            println!("enrol: {}", certdesk::http::enrol_url(&state.config.public_url, &token));
            Ok(())
        }
        Some(Command::Bench { command: BenchCommand::SeedDirectory { count } }) => {
            if !cli.config.dev {
                anyhow::bail!("synthetic certificates go only into a development database (CERTDESK_DEV=true)");
            }
            let db = certdesk::db::connect(&cli.config).await?;
            certdesk::ca::hierarchy::load_or_init(&db, &cli.config).await?;
            let start = std::time::Instant::now();
            let n = certdesk::bench_data::seed_directory(&db, count).await?;
            println!("inserted {n} certificates in {:.1} s", start.elapsed().as_secs_f64());
            Ok(())
        }
        Some(Command::Audit { command: AuditCommand::Verify }) => {
            let db = certdesk::db::connect(&cli.config).await?;
            let key = certdesk::domain::audit::AuditKey::from_config(&cli.config)?;
            let v = certdesk::domain::audit::verify(&db, &key).await?;
            for p in &v.problems {
                println!("{p}");
            }
            if v.problems.is_empty() {
                println!("audit trail intact: {} rows, head {}", v.rows, v.head.as_deref().unwrap_or("(empty)"));
                Ok(())
            } else {
                println!("audit trail BROKEN: {} problems in {} rows", v.problems.len(), v.rows);
                std::process::exit(1)
            }
        }
    }
}
