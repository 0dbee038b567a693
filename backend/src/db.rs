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
        // The group commit's own connection adds two (`group_commit::writer_of`).
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
/// deadlock. Taking the lock first makes it wait its turn instead (found by the crash
/// harness's concurrent load).
///
/// And on SQLite the writers of this process take turns before they take a connection:
/// in arrival order, holding no connection while they wait. Left to SQLite, waiting writers
/// each held one of the pool's connections and polled the lock with growing sleeps, so under
/// a steady stream of writes (the soak) the readers found no connection free and a writer
/// could lose every poll until its busy timeout ran out. A transaction begun inside one
/// (a savepoint, in the same task) does not wait for its own turn. PostgreSQL needs none of
/// this.
pub async fn begin_write<C>(db: &C) -> Result<Write, DbErr>
where
    C: ConnectionTrait + TransactionTrait + ?Sized,
{
    let turn = if db.get_database_backend() == DbBackend::Sqlite { Turn::take().await } else { None };
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Sqlite {
        // A write that changes nothing still takes the write lock.
        txn.execute_unprepared("DELETE FROM seaql_migrations WHERE 0").await?;
    }
    Ok(Write { txn, _turn: turn })
}

/// A transaction begun by [`begin_write`]: the transaction, and on SQLite this process's turn
/// to write, given up once it has committed or rolled back (or is dropped).
pub struct Write {
    txn: DatabaseTransaction,
    _turn: Option<Turn>,
}

impl Write {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl std::ops::Deref for Write {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Write {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }
    async fn execute(&self, stmt: sea_orm::Statement) -> Result<sea_orm::ExecResult, DbErr> {
        self.txn.execute(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }
    async fn query_one(&self, stmt: sea_orm::Statement) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        self.txn.query_one(stmt).await
    }
    async fn query_all(&self, stmt: sea_orm::Statement) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        self.txn.query_all(stmt).await
    }
}

#[async_trait::async_trait]
impl TransactionTrait for Write {
    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.txn.begin().await
    }
    async fn begin_with_config(
        &self,
        isolation_level: Option<sea_orm::IsolationLevel>,
        access_mode: Option<sea_orm::AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.txn.begin_with_config(isolation_level, access_mode).await
    }
    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, sea_orm::TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            )
                -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.txn.transaction(callback).await
    }
    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<sea_orm::IsolationLevel>,
        access_mode: Option<sea_orm::AccessMode>,
    ) -> Result<T, sea_orm::TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            )
                -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.txn.transaction_with_config(callback, isolation_level, access_mode).await
    }
}

/// This process's turn to write to SQLite (see [`begin_write`]). Turns are given in the order
/// asked (tokio's semaphore is fair). The task holding the turn is remembered, so that a
/// transaction it begins inside its own does not wait for itself. Outside a task (the
/// command line, which runs alone) there are no turns. There is one turn per process, not
/// per database: a server writes through `begin_write` to one database only (its counters
/// store takes no turns), and the API tests' many servers in one process merely take turns
/// among themselves too.
struct Turn {
    _permit: tokio::sync::SemaphorePermit<'static>,
}

static TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
static HOLDER: std::sync::Mutex<Option<tokio::task::Id>> = std::sync::Mutex::new(None);

impl Turn {
    async fn take() -> Option<Turn> {
        let me = tokio::task::try_id()?;
        if *HOLDER.lock().unwrap_or_else(|e| e.into_inner()) == Some(me) {
            return None;
        }
        let permit = TURNS.acquire().await.ok()?;
        *HOLDER.lock().unwrap_or_else(|e| e.into_inner()) = Some(me);
        Some(Turn { _permit: permit })
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        *HOLDER.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Refreshes SQLite's planner statistics (`ANALYZE`, reading at most 400 rows of each index:
/// about a second over 1,000,000 certificates); nothing on PostgreSQL, whose autovacuum
/// keeps them. Without them SQLite guesses, and over a large table it can guess wrong: the
/// status search by name went through the (status, not_after) index, reading every valid
/// certificate, seconds per request, instead of the name's index.
pub async fn analyze(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let _turn = Turn::take().await;
    // One statement string: the limit is the connection's, so both run on the same one.
    db.execute_unprepared("PRAGMA analysis_limit = 400; ANALYZE").await?;
    Ok(())
}

/// How often SQLite's planner statistics are refreshed ([`analyze`]), the first at start.
pub const ANALYZE_EVERY: Duration = Duration::from_secs(3600);

/// How often the write-ahead log of a SQLite database is folded into it and emptied.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

/// One checkpoint of this process at a time. SQLite runs one per database and answers a
/// second one "busy" at once: the group commit's checkpoints after its batches
/// (`group_commit::checkpoint_behind`, which skips its turn while this is held) would
/// otherwise make [`checkpoint`]'s TRUNCATE lose its round, and the log grow.
pub(crate) static CHECKPOINTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Folds a SQLite database's write-ahead log into the database and empties it
/// (`wal_checkpoint(TRUNCATE)`); nothing on PostgreSQL. SQLite's own checkpoints, run after
/// commits, copy what they can but never empty the log while some reader still reads from
/// it, and under steady reads there always is one: in the soak the log grew by 3.6 MB/s to
/// 1.5 GB in 400 s, and every read and checkpoint got slower with it. This one waits (in
/// the busy timeout) for the readers of the moment to finish, holding the write lock
/// meanwhile: the writers of this process wait their turn for it as for any writer. Returns
/// whether the log was emptied (`false`: a reader or another process kept it busy; the
/// next round tries again).
pub async fn checkpoint(db: &DatabaseConnection) -> Result<bool, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(true);
    }
    let _checkpointing = CHECKPOINTING.lock().await;
    // First what can be copied without holding anyone up (PASSIVE: writers and readers go on),
    // so that TRUNCATE, which holds writers back until it is done, has only the last moment's
    // log to copy. At 1,000 public lookups a second the counters' log grows by 3 MB a second:
    // TRUNCATE alone copied ten seconds of it while their writes waited, stalls of 100-430 ms
    // every round (the status search's p99).
    db.query_one(sea_orm::Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_checkpoint(PASSIVE)")).await?;
    let _turn = Turn::take().await;
    let row =
        db.query_one(sea_orm::Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_checkpoint(TRUNCATE)")).await?;
    // (busy, frames in the log, frames checkpointed); busy = 1 when it could not finish.
    let busy: i32 = row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0);
    Ok(busy == 0)
}
