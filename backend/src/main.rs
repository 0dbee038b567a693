//! `certdesk`: the CertDesk server, and its administration commands.

use std::path::PathBuf;

use anyhow::Context;
use certdesk_shared::Named;
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
    /// A consistent copy of the database and the CA's and audit trail's key files, taken while
    /// the server runs, into a new directory.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Brings a backup up on this configuration's (new) data directory or empty database.
    Restore {
        #[arg(long)]
        from: PathBuf,
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
    /// Insert synthetic requests and paid orders (bench-request-<i>) for 工作台's benchmark.
    SeedConsole {
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
    },
    /// Time each of 工作台's charts (its one query) against this database, beside a count of
    /// every certificate.
    Dashboard {
        #[arg(long, default_value_t = 5)]
        rounds: u32,
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
    /// Check every row of the chain, and the chain against the heads published outside the
    /// database (`--audit-head-file`); exits 1 and names each row that was edited, inserted or
    /// deleted.
    Verify,
}

#[derive(Subcommand)]
enum CaCommand {
    /// Development mode only: the whole root ceremony on this machine at once, the root in
    /// <data-dir>/offline-root (refused when a CA exists).
    Init,
    /// Print the hierarchy: subjects, serials, validity, fingerprints.
    Status,
    /// The offline root CA, on a machine of its own (no database).
    Root {
        #[command(subcommand)]
        command: RootCommand,
    },
    /// The issuing CA's key and its request to the root (on the server).
    Issuing {
        #[command(subcommand)]
        command: IssuingCommand,
    },
    /// Import what the offline root signed: with --root and --issuing the first time
    /// (the issuing certificate must be for this server's pending key), then --crl alone
    /// for each new root CRL.
    Import {
        /// The root certificate (PEM or DER), `root.crt` of the root's directory.
        #[arg(long, requires = "issuing")]
        root: Option<PathBuf>,
        /// The issuing CA's certificate the root signed (PEM or DER).
        #[arg(long, requires = "root")]
        issuing: Option<PathBuf>,
        /// The root's CRL (PEM or DER).
        #[arg(long)]
        crl: PathBuf,
    },
}

/// The offline root's directory and the passphrase its key is sealed under.
#[derive(clap::Args)]
struct RootDir {
    /// The root's directory (on the root's own machine, e.g. removable media).
    #[arg(long)]
    dir: PathBuf,
    /// Passphrase the root key is sealed under (12+ characters); give it in the
    /// environment. Development mode may leave it out (a secret file in the directory).
    #[arg(long, env = "CERTDESK_ROOT_PASSPHRASE", hide_env_values = true)]
    passphrase: Option<String>,
}

#[derive(Subcommand)]
enum RootCommand {
    /// Make the root key and its self-signed certificate (20 years) in --dir.
    Init {
        #[command(flatten)]
        root: RootDir,
    },
    /// Sign the issuing CA's certificate for the server's request (10 years, path length 0,
    /// CRL and CA issuers at CERTDESK_PUBLIC_URL).
    SignIssuing {
        #[command(flatten)]
        root: RootDir,
        /// The server's request (`certdesk ca issuing request`).
        #[arg(long)]
        csr: PathBuf,
        /// Where to write the issuing CA's certificate (PEM).
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign the root's CRL, valid one year; --revoke revokes a CA the root signed first.
    Crl {
        #[command(flatten)]
        root: RootDir,
        /// Where to write the CRL (PEM).
        #[arg(long)]
        out: PathBuf,
        /// Serial (hex) of a CA certificate the root signed, to revoke.
        #[arg(long, requires = "reason")]
        revoke: Vec<String>,
        /// key_compromise, ca_compromise, affiliation_changed, superseded or cessation_of_operation.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Migration of a server whose database holds the root key (older deployments): the
    /// key moves into --dir, the root signs a year-long CRL there, and the server keeps the
    /// root's certificate and that CRL only. Run on the server, then take --dir away.
    TakeOffline {
        #[command(flatten)]
        root: RootDir,
    },
}

#[derive(Subcommand)]
enum IssuingCommand {
    /// Make the issuing CA's key (sealed in the database, or on the PKCS#11 token) and write
    /// its request for the root; a pending request is written again unless --replace.
    Request {
        /// Where to write the request (PEM).
        #[arg(long)]
        out: PathBuf,
        /// Make a new key even when a request is pending.
        #[arg(long)]
        replace: bool,
    },
}

fn root_secret(config: &certdesk::Config, root: &RootDir) -> anyhow::Result<certdesk::ca::signer::CaSecret> {
    certdesk::ca::root::secret(&root.dir, root.passphrase.as_deref(), config.dev)
}

fn write_pem(path: &std::path::Path, label: &str, der: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, certdesk::ca::asn1::pem(label, der)?).with_context(|| format!("writing {}", path.display()))
}

fn read(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(certdesk::ca::root::der_of(&bytes))
}

/// `certdesk ca …`.
async fn ca(config: &certdesk::Config, command: CaCommand) -> anyhow::Result<()> {
    use certdesk::ca::{hierarchy, root};
    match command {
        CaCommand::Root { command } => return root_command(config, command).await,
        CaCommand::Issuing { command: IssuingCommand::Request { out, replace } } => {
            let db = certdesk::db::connect(config).await?;
            let csr = hierarchy::request_issuing(&db, config, replace).await?;
            write_pem(&out, "CERTIFICATE REQUEST", &csr)?;
            println!("wrote the issuing CA's request to {}", out.display());
            println!("its key's SHA-256: {} (the root's operator compares it)", root::request_key_fingerprint(&csr)?);
            return Ok(());
        }
        CaCommand::Import { root: Some(root_file), issuing: Some(issuing), crl } => {
            let db = certdesk::db::connect(config).await?;
            hierarchy::import(&db, config, &read(&root_file)?, &read(&issuing)?, &read(&crl)?).await?;
        }
        CaCommand::Import { crl, .. } => {
            let db = certdesk::db::connect(config).await?;
            hierarchy::import_root_crl(&db, config, &read(&crl)?).await?;
            println!("imported the root CRL");
        }
        CaCommand::Init => {
            let db = certdesk::db::connect(config).await?;
            hierarchy::init(&db, config).await?;
        }
        CaCommand::Status => {}
    }
    let db = certdesk::db::connect(config).await?;
    let ca = hierarchy::load(&db, config).await?.ok_or_else(|| anyhow::anyhow!("{}", hierarchy::NO_CA))?;
    print!("{}", hierarchy::describe(&ca)?);
    Ok(())
}

async fn root_command(config: &certdesk::Config, command: RootCommand) -> anyhow::Result<()> {
    use certdesk::ca::root;
    match command {
        RootCommand::Init { root: dir } => {
            let secret = root_secret(config, &dir)?;
            let algorithm = certdesk::ca::signer::KeyAlgorithm::from_config(&config.ca_key_algorithm)?;
            let der = root::init(&dir.dir, &secret, &certdesk::ca::hierarchy::Names::from_config(config), algorithm)?;
            let (_, cert) = x509_parser::parse_x509_certificate(&der)?;
            println!("made the root CA {} in {}", cert.subject(), dir.dir.display());
            println!("certificate SHA-256: {}", hex::encode_upper(<sha2::Sha256 as sha2::Digest>::digest(&der)));
            println!("the server imports {}", dir.dir.join(root::CERT_FILE).display());
        }
        RootCommand::SignIssuing { root: dir, csr, out } => {
            let secret = root_secret(config, &dir)?;
            let csr = std::fs::read(&csr).with_context(|| format!("reading {}", csr.display()))?;
            let signed = root::sign_issuing(&dir.dir, &secret, &csr, &config.public_url)?;
            write_pem(&out, "CERTIFICATE", &signed.cert_der)?;
            println!(
                "signed {} (serial {}) for the key with SHA-256 {}",
                signed.subject, signed.serial, signed.key_sha256
            );
            println!(
                "its CRL and CA issuers are at {}/ca/root.crl and …/root.crt",
                config.public_url.trim_end_matches('/')
            );
        }
        RootCommand::Crl { root: dir, out, revoke, reason } => {
            let secret = root_secret(config, &dir)?;
            let reason = match reason {
                Some(r) => Some(
                    serde_json::from_value::<certdesk_shared::certificate::RevocationReason>(
                        serde_json::Value::String(r.clone()),
                    )
                    .map_err(|_| anyhow::anyhow!("unknown reason {r:?}"))?,
                ),
                None => None,
            };
            let revoke: Vec<_> = revoke.into_iter().filter_map(|s| reason.map(|r| (s, r))).collect();
            let der = root::crl(&dir.dir, &secret, &revoke)?;
            write_pem(&out, "X509 CRL", &der)?;
            let (_, crl) = x509_parser::parse_x509_crl(&der)?;
            println!(
                "signed the root CRL number {} listing {} revoked, valid until {}",
                crl.crl_number().map(|n| n.to_string()).unwrap_or_default(),
                crl.iter_revoked_certificates().count(),
                crl.next_update().map(|t| t.to_string()).unwrap_or_default()
            );
        }
        RootCommand::TakeOffline { root: dir } => {
            let secret = root_secret(config, &dir)?;
            let db = certdesk::db::connect(config).await?;
            certdesk::ca::hierarchy::take_root_offline(&db, config, &dir.dir, &secret).await?;
            println!(
                "the root key now lives in {} only; the server keeps its certificate and a CRL valid one year",
                dir.dir.display()
            );
            println!(
                "take that directory to the root's own machine and destroy older database backups (they hold the sealed key)"
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => certdesk::serve(cli.config).await,
        Some(Command::Ca { command }) => ca(&cli.config, command).await,
        Some(Command::Admin { command: AdminCommand::Create { role, username, display_name, mobile } }) => {
            let state = certdesk::AppState::new(cli.config).await?;
            let role = certdesk_shared::admin::StaffRole::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?;
            let meta = certdesk::domain::ClientMeta { ip: "cli".into(), user_agent: "certdesk admin create".into() };
            let mobile = mobile
                .map(|m| {
                    certdesk_shared::Mobile::parse(&m)
                        .map_err(|e| anyhow::anyhow!("--mobile: {}", e.message(certdesk_shared::Lang::En)))
                })
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
        Some(Command::Bench { command: BenchCommand::SeedConsole { count } }) => {
            if !cli.config.dev {
                anyhow::bail!("synthetic requests go only into a development database (CERTDESK_DEV=true)");
            }
            let db = certdesk::db::connect(&cli.config).await?;
            let start = std::time::Instant::now();
            let n = certdesk::bench_data::seed_console(&db, count).await?;
            println!("inserted {n} requests and their orders in {:.1} s", start.elapsed().as_secs_f64());
            Ok(())
        }
        Some(Command::Bench { command: BenchCommand::Dashboard { rounds } }) => {
            let db = certdesk::db::connect(&cli.config).await?;
            certdesk::bench_data::time_dashboard(&db, rounds).await
        }
        Some(Command::Backup { out }) => {
            let m = certdesk::backup::backup(&cli.config, &out).await?;
            for f in &m.files {
                println!("{}  {} bytes  sha256 {}", f.name, f.bytes, f.sha256);
            }
            println!("audit trail: {} rows, head {}", m.audit_rows, m.audit_head.as_deref().unwrap_or("(empty)"));
            for n in &m.not_included {
                println!("not included: {n}");
            }
            println!("backup written to {}", out.display());
            Ok(())
        }
        Some(Command::Restore { from }) => {
            let r = certdesk::backup::restore(&cli.config, &from).await?;
            println!(
                "restored the backup of {} ({} audit rows, verified); the {} CA opens with the restored key",
                r.manifest.created_at, r.audit_rows, r.issuing_ca
            );
            for n in &r.manifest.not_included {
                println!("not included, bring it back yourself: {n}");
            }
            Ok(())
        }
        Some(Command::Audit { command: AuditCommand::Verify }) => {
            let db = certdesk::db::connect(&cli.config).await?;
            let key = certdesk::domain::audit::AuditKey::from_config(&cli.config)?;
            let mut v = certdesk::domain::audit::verify(&db, &key).await?;
            let heads = cli.config.audit_head_path();
            let (problems, checked) = certdesk::domain::audit::check_heads(&db, &key, &heads).await?;
            v.problems.extend(problems);
            for p in &v.problems {
                println!("{p}");
            }
            if v.problems.is_empty() {
                println!("audit trail intact: {} rows, head {}", v.rows, v.head.as_deref().unwrap_or("(empty)"));
                println!("checked against {checked} heads published in {}", heads.display());
                Ok(())
            } else {
                println!("audit trail BROKEN: {} problems in {} rows", v.problems.len(), v.rows);
                println!("checked against {checked} heads published in {}", heads.display());
                std::process::exit(1)
            }
        }
    }
}
