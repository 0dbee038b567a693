//! `certdesk backup` and `certdesk restore`: a consistent copy of what a CA cannot lose, taken
//! while the server runs, and the way back onto a new directory.
//!
//! A backup is a directory holding:
//! - the database: on SQLite `certdesk.db`, written by `VACUUM INTO` (SQLite's online copy: one
//!   read transaction, so the copy is the database as of one commit, whatever the server
//!   writes meanwhile); on PostgreSQL `certdesk.pgdump`, written by `pg_dump` (custom format,
//!   restored by `pg_restore`) of a snapshot exported by a transaction that also reads the
//!   manifest's audit head, so the head is the dump's;
//! - the key files that open it: `ca.secret` (it seals the CA's keys in the database) and
//!   `audit.key` (it keys the audit chain). A CA key on a PKCS#11 token and an audit key given
//!   as a passphrase are not files: the manifest says so, and they are kept as the token and the
//!   passphrase are;
//! - [`MANIFEST`]: what each file is, its size and SHA-256, and the copy's audit head.
//!
//! `counters.db` (the public lookups' rate-limit counters) is not copied: losing it costs
//! nothing. Before a backup is reported done, its database copy is opened and its audit chain
//! verified with the copied key. A restore checks every file against the manifest, refuses to
//! overwrite anything, and verifies the restored audit chain and CA before it reports success.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use sea_orm::{AccessMode, ConnectionTrait, Database, DbBackend, IsolationLevel, Statement, TransactionTrait};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::domain::audit::{self, AuditKey};

/// The manifest's file name in a backup directory.
pub const MANIFEST: &str = "certdesk-backup.json";
const SQLITE_FILE: &str = "certdesk.db";
const PG_FILE: &str = "certdesk.pgdump";
const CA_SECRET: &str = "ca.secret";
const AUDIT_KEY: &str = "audit.key";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFile {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What a backup holds ([`MANIFEST`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The `certdesk` version that wrote it.
    pub version: String,
    /// RFC 3339.
    pub created_at: String,
    pub database: DatabaseKind,
    pub files: Vec<BackupFile>,
    /// The copy's audit trail: rows and head hash, verified with the copied key.
    pub audit_rows: u64,
    pub audit_head: Option<String>,
    /// What is not in the backup and must be kept another way.
    pub not_included: Vec<String>,
}

impl Manifest {
    fn file(&self, name: &str) -> Option<&BackupFile> {
        self.files.iter().find(|f| f.name == name)
    }
}

fn sha256_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h)?;
    Ok((n, hex::encode(h.finalize())))
}

/// Copies `from` to `to` (which must not exist), owner-only, flushed to disk.
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    let mut src = std::fs::File::open(from).with_context(|| format!("reading {}", from.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut dst = options.open(to).with_context(|| format!("creating {} (it must not exist)", to.display()))?;
    std::io::copy(&mut src, &mut dst)?;
    dst.sync_all()?;
    Ok(())
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// The SQLite file a `sqlite://` URL names.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn kind_of(url: &str) -> anyhow::Result<DatabaseKind> {
    if url.starts_with("sqlite:") {
        Ok(DatabaseKind::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(DatabaseKind::Postgres)
    } else {
        bail!("unsupported database URL (SQLite or PostgreSQL)")
    }
}

fn run(cmd: &mut std::process::Command, what: &str) -> anyhow::Result<()> {
    let out = cmd.output().with_context(|| format!("starting {what} (install the PostgreSQL client tools)"))?;
    if !out.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// Opens a database without migrating it (a backup must not change what it copies).
async fn open(url: &str) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let mut opts = sea_orm::ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).max_connections(2);
    if url.starts_with("sqlite:") {
        opts.map_sqlx_sqlite_opts(|o| o.busy_timeout(std::time::Duration::from_secs(30)));
    }
    Database::connect(opts).await.context("connecting to the database")
}

/// The CA secret's file as the key store reads it (`ca::signer::KeyStore::from_config`), or
/// `None` when the CA keys are on a PKCS#11 token or sealed under a passphrase.
fn ca_secret_file(config: &Config) -> Option<PathBuf> {
    let passphrase = config.ca_passphrase.as_deref().is_some_and(|p| !p.is_empty());
    (config.ca_pkcs11_module.is_none() && !passphrase).then(|| config.ca_secret_path())
}

/// The audit key as the server reads it, or `None` when it is a passphrase (not a file).
fn audit_key_file(config: &Config) -> Option<PathBuf> {
    if config.audit_key.as_deref().is_some_and(|p| !p.is_empty()) { None } else { Some(config.audit_key_path()) }
}

/// Writes a backup of the configured server into `out` (a new or empty directory).
pub async fn backup(config: &Config, out: &Path) -> anyhow::Result<Manifest> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!("{} is not empty: a backup goes into a new directory", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let url = config.database_url();
    let kind = kind_of(&url)?;
    let key = AuditKey::from_config(config)?;
    let mut names = Vec::new();
    // The copy's audit chain must verify with the key before the backup is called done.
    let verification = match kind {
        DatabaseKind::Sqlite => {
            let db = open(&url).await?;
            let target = out.join(SQLITE_FILE);
            let quoted = target.to_str().context("a backup path in UTF-8")?.replace('\'', "''");
            db.execute(Statement::from_string(DbBackend::Sqlite, format!("VACUUM INTO '{quoted}'")))
                .await
                .context("copying the SQLite database (VACUUM INTO)")?;
            db.close().await?;
            std::fs::File::open(&target)?.sync_all()?;
            names.push(SQLITE_FILE);
            let copy = open(&format!("sqlite://{}?mode=ro", target.display())).await?;
            let v = audit::verify(&copy, &key).await?;
            copy.close().await?;
            v
        }
        DatabaseKind::Postgres => {
            let v = pg_dump_in_one_snapshot(&url, &out.join(PG_FILE), &key).await?;
            names.push(PG_FILE);
            v
        }
    };
    if !verification.problems.is_empty() {
        bail!("the copy's audit chain does not verify: {}", verification.problems.join("; "));
    }
    let (audit_rows, audit_head) = (verification.rows, verification.head);
    let mut not_included = Vec::new();
    match ca_secret_file(config) {
        Some(path) if path.exists() => {
            copy_private(&path, &out.join(CA_SECRET))?;
            names.push(CA_SECRET);
        }
        Some(path) => bail!("the CA secret {} is missing", path.display()),
        None if config.ca_pkcs11_module.is_some() => {
            not_included.push("CA keys: on the PKCS#11 token (keep the token and its PIN)".into());
        }
        None => not_included.push("CA secret: given as a passphrase (CERTDESK_CA_PASSPHRASE)".into()),
    }
    match audit_key_file(config) {
        Some(path) if path.exists() => {
            copy_private(&path, &out.join(AUDIT_KEY))?;
            names.push(AUDIT_KEY);
        }
        Some(path) => bail!("the audit key {} is missing", path.display()),
        None => {
            not_included.push("audit key: given as a passphrase (CERTDESK_AUDIT_KEY), keep it with the backup".into())
        }
    }
    let mut files = Vec::new();
    for name in names {
        let (bytes, sha256) = sha256_file(&out.join(name))?;
        files.push(BackupFile { name: name.to_owned(), bytes, sha256 });
    }
    let manifest = Manifest {
        format: 1,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: Utc::now().to_rfc3339(),
        database: kind,
        files,
        audit_rows,
        audit_head,
        not_included,
    };
    let mut f = std::fs::File::create_new(out.join(MANIFEST))?;
    f.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    f.sync_all()?;
    sync_dir(out)?;
    Ok(manifest)
}

/// `pg_dump` of the snapshot a read-only repeatable-read transaction exported, and the audit
/// chain verified in that same transaction: the manifest's head is the dump's head, however
/// many rows the server writes meanwhile.
async fn pg_dump_in_one_snapshot(url: &str, file: &Path, key: &AuditKey) -> anyhow::Result<audit::Verification> {
    let db = open(url).await?;
    let txn = db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?;
    let snapshot: String = txn
        .query_one(Statement::from_string(DbBackend::Postgres, "SELECT pg_export_snapshot() AS s"))
        .await?
        .context("pg_export_snapshot returned no row")?
        .try_get("", "s")?;
    // Verified first: a broken chain fails before a dump is written, and the transaction is
    // not left idle through the dump and then asked to work again.
    let v = audit::verify(&txn, key).await?;
    let mut cmd = std::process::Command::new("pg_dump");
    cmd.args(["--format=custom", "--no-owner", "--snapshot", &snapshot, "--file"]).arg(file).arg(url);
    tokio::task::spawn_blocking(move || run(&mut cmd, "pg_dump")).await??;
    // pg_dump has imported the snapshot; how this read-only transaction ends changes nothing.
    let _ = txn.rollback().await;
    db.close().await?;
    Ok(v)
}

/// What a restore found in the restored database.
#[derive(Debug, Clone)]
pub struct Restored {
    pub manifest: Manifest,
    pub audit_rows: u64,
    pub issuing_ca: String,
}

/// Restores the backup in `from` onto the configured server: its database (a new SQLite file,
/// or an empty PostgreSQL database) and key files, none of which may exist yet. Every file is
/// checked against the manifest first; afterwards the restored audit chain must verify up to
/// the manifest's head and the CA must load with the restored key.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<Restored> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(from.join(MANIFEST)).with_context(|| format!("reading {}", from.join(MANIFEST).display()))?,
    )
    .context("reading the backup's manifest")?;
    if manifest.format != 1 {
        bail!("backup format {} is not one this version reads", manifest.format);
    }
    for f in &manifest.files {
        let (bytes, sha256) = sha256_file(&from.join(&f.name))?;
        if bytes != f.bytes || sha256 != f.sha256 {
            bail!("{} does not match the manifest: the backup is damaged", f.name);
        }
    }
    let url = config.database_url();
    if kind_of(&url)? != manifest.database {
        bail!("this backup is of a {:?} database; configure one of that kind to restore it", manifest.database);
    }
    // The key files first, refusing to overwrite: a restore goes onto a new directory.
    std::fs::create_dir_all(&config.data_dir)?;
    let mut placed = Vec::new();
    if manifest.file(CA_SECRET).is_some() {
        let to = ca_secret_file(config)
            .context("the backup holds a CA secret file, but this configuration does not read one")?;
        placed.push((from.join(CA_SECRET), to));
    }
    if manifest.file(AUDIT_KEY).is_some() {
        let to =
            audit_key_file(config).context("the backup holds an audit key file, but a passphrase is configured")?;
        placed.push((from.join(AUDIT_KEY), to));
    }
    for (_, to) in &placed {
        if to.exists() {
            bail!("{} exists: restore onto a new directory", to.display());
        }
    }
    match manifest.database {
        DatabaseKind::Sqlite => {
            let path = sqlite_path(&url).context("the SQLite URL names no file")?;
            if path.exists() {
                bail!("{} exists: restore onto a new directory", path.display());
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            copy_private(&from.join(SQLITE_FILE), &path)?;
        }
        DatabaseKind::Postgres => {
            let db = open(&url).await?;
            let tables = db
                .query_one(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
                ))
                .await?
                .map(|r| r.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0);
            db.close().await?;
            if tables > 0 {
                bail!("the configured PostgreSQL database is not empty: restore into a new database");
            }
            run(
                std::process::Command::new("pg_restore")
                    .args(["--no-owner", "--exit-on-error", "--dbname"])
                    .arg(&url)
                    .arg(from.join(PG_FILE)),
                "pg_restore",
            )?;
        }
    }
    for (from, to) in &placed {
        copy_private(from, to)?;
    }
    sync_dir(&config.data_dir)?;

    // It must work: the chain verifies to the same head, and the CA opens with its key.
    let db = crate::db::connect(config).await?;
    let key = AuditKey::from_config(config)?;
    let v = audit::verify(&db, &key).await?;
    if !v.problems.is_empty() {
        bail!("the restored audit chain does not verify: {}", v.problems.join("; "));
    }
    if v.rows < manifest.audit_rows || (v.rows == manifest.audit_rows && v.head != manifest.audit_head) {
        bail!("the restored audit trail ends before the backup's head");
    }
    let ca = crate::ca::hierarchy::load(&db, config).await?.context("the restored database holds no CA")?;
    let issuing_ca = ca.issuing.name.clone();
    Ok(Restored { manifest, audit_rows: v.rows, issuing_ca })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(sqlite_path("sqlite:///data/certdesk.db?mode=rwc"), Some(PathBuf::from("/data/certdesk.db")));
        assert_eq!(sqlite_path("sqlite://data/x.db"), Some(PathBuf::from("data/x.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
        assert!(kind_of("mysql://x").is_err());
    }
}
