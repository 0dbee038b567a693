//! Database connection: SQLite embedded by default, PostgreSQL when configured.
//! Migrations run at start.

use std::time::Duration;

use anyhow::Context;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::config::Config;
use crate::domain::throttle::Counters;
use crate::migration::Migrator;

pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let url = config.database_url();
    if url.starts_with("sqlite:") && config.database_url.as_deref().is_none_or(str::is_empty) {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    }
    let mut opts = ConnectOptions::new(url.clone());
    opts.connect_timeout(Duration::from_secs(10)).acquire_timeout(Duration::from_secs(10)).sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // One writer at a time in SQLite; a small pool avoids lock contention. Every pooled
        // connection gets the same settings: WAL, foreign keys, a busy timeout, and full
        // synchronous commits (a CA must not forget a certificate it issued on power loss).
        opts.max_connections(8).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
        });
    }
    let db = Database::connect(opts).await.context("connecting to the database")?;
    migrate(&db, &url).await?;
    Ok(db)
}

/// The counters store ([`Counters`]). On PostgreSQL the main database itself (its commits
/// relaxed per call); on SQLite `counters.db` in the data directory, in WAL with
/// `synchronous=NORMAL`, so a commit never waits for an fsync. Its one table is created here
/// (the main migration's `throttle` table); losing the file loses nothing worth keeping.
pub async fn connect_counters(config: &Config, main: &DatabaseConnection) -> anyhow::Result<Counters> {
    if main.get_database_backend() != DbBackend::Sqlite {
        return Ok(Counters::new(main.clone()));
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let url = format!("sqlite://{}?mode=rwc", config.counters_path().display());
    let mut opts = ConnectOptions::new(url);
    opts.connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .max_connections(8)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
        });
    let db = Database::connect(opts).await.context("connecting to the counters database")?;
    let create = crate::migration::schema::throttle_table().if_not_exists().to_owned();
    db.execute(db.get_database_backend().build(&create)).await.context("creating the counters table")?;
    Ok(Counters::new(db))
}

/// Key of the PostgreSQL advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x4345_5254_4445_534b; // "CERTDESK"

/// Runs pending migrations. On PostgreSQL a dedicated session holds an advisory lock
/// meanwhile, so servers that start together on one database migrate one at a time.
async fn migrate(db: &DatabaseConnection, url: &str) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await.context("running migrations");
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(1).min_connections(1).sqlx_logging(false);
    let lock = Database::connect(opts).await.context("connecting for the migration lock")?;
    lock.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).await?;
    let result = Migrator::up(db, None).await.context("running migrations");
    lock.execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).await?;
    lock.close().await?;
    result
}

/// `sqlite` or `postgres`.
pub fn kind(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        DbBackend::MySql => "mysql",
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock with its first
/// statement, as `BEGIN IMMEDIATE` would (SeaORM only says `BEGIN`). A deferred transaction
/// that reads and then writes after another connection wrote fails at once with
/// `SQLITE_BUSY` or `SQLITE_BUSY_SNAPSHOT`: SQLite does not wait there, since waiting could
/// deadlock. Taking the lock first makes it wait its turn under the busy timeout instead
/// (found by the crash harness's concurrent load). PostgreSQL needs nothing of this.
pub async fn begin_write<C>(db: &C) -> Result<DatabaseTransaction, DbErr>
where
    C: TransactionTrait + ?Sized,
{
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Sqlite {
        // A write that changes nothing still takes the write lock.
        txn.execute_unprepared("DELETE FROM seaql_migrations WHERE 0").await?;
    }
    Ok(txn)
}
