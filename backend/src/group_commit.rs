//! Group commit: writes that arrive together share one durable transaction, so that a burst
//! of issuances costs one fsync instead of one each (`synchronous=FULL` stays on SQLite).
//!
//! One task per server takes the writes in arrival order. While a batch commits, the next
//! writes queue; the task then runs them all (at most [`MAX_BATCH`]) one after another in one
//! transaction and commits once. Nobody hears that a write succeeded before the commit that
//! holds it has returned: the answers are sent after it. If that commit fails, every write of
//! the batch is told so and none of them happened.
//!
//! A write that fails (a refusal such as a request already issued, or a database error) must
//! not take the others down, nor leave half its changes: the transaction is rolled back and
//! the batch runs again without it, now with a savepoint per write (so a second failure
//! costs only itself), and it is answered with its own error. So a write can run more than
//! once before it commits: it is a function of the transaction alone (`Fn`, owning what it
//! writes), the same each time. Failures are rare; a savepoint per write from the start would
//! cost two more statements each on the common path.
//!
//! An issuance's certificate and OCSP rows ([`GroupCommit::issue`]) are not inserted by its
//! write, one statement each, but for the whole batch at once, one multi-row insert per table,
//! before the writes run: a batch of 100 issuances writes its certificates in one statement,
//! not 100 (each statement is a round trip to the database's thread, or over the network).
//! If that insert fails (a serial taken), the batch runs the careful way, each write inserting
//! its own rows in its savepoint, so that only the write at fault is refused.
//!
//! Rules for a write: it uses only the transaction it is given (on SQLite another connection
//! would wait for the lock this batch holds), it does not wait for another write of the group
//! (that would wait for itself), and it does no slow work: signing and checking belong
//! before it, off the request threads (`ca::issue::off_thread`), where every core can sign.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use certdesk_shared::ErrorCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use crate::ca::issue::{Issued, Signed};
use crate::error::AppError;

/// The most writes one transaction holds.
pub const MAX_BATCH: usize = 1024;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a batch did not commit: its writes did not happen.
#[derive(Clone, Debug)]
struct Failed {
    why: String,
    /// The database could not be reached (the caller hears 503, try again).
    unavailable: bool,
}

impl Failed {
    fn of(e: &DbErr) -> Failed {
        Failed { why: e.to_string(), unavailable: crate::error::database_unreachable(e) }
    }
}

impl From<Failed> for AppError {
    fn from(f: Failed) -> AppError {
        if f.unavailable {
            AppError::Code(ErrorCode::Unavailable)
        } else {
            AppError::Internal(anyhow::anyhow!("the group commit failed: {}", f.why))
        }
    }
}

/// Does a write in the transaction given, keeping its result; whether it succeeded. Given its
/// certificate, it inserts that certificate's rows itself first (the careful way); without,
/// the batch has inserted them.
type Run = Box<dyn for<'t> Fn(&'t DatabaseTransaction, Option<Signed>) -> BoxFuture<'t, bool> + Send + Sync>;

/// A queued write: `run` does it (perhaps more than once), `answer` tells the caller once
/// the batch's fate is known. `signed` is the certificate it records, if it is an issuance.
struct Job {
    run: Run,
    signed: Option<Signed>,
    answer: Box<dyn FnOnce(Result<(), Failed>) + Send + Sync>,
}

/// The handle writes are queued through (cheap to clone; the task ends with the last one).
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    counts: Arc<Counts>,
}

/// How many transactions were committed and how many writes they held.
#[derive(Default)]
struct Counts {
    commits: AtomicU64,
    writes: AtomicU64,
}

impl GroupCommit {
    /// Starts the task that commits for `db` (on SQLite, on a connection of its own:
    /// [`writer_of`]).
    pub fn start(db: DatabaseConnection) -> GroupCommit {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        let counts = Arc::new(Counts::default());
        tokio::spawn(commit_forever(writer_of(&db), db, queue, counts.clone()));
        GroupCommit { jobs, counts }
    }

    /// Runs `write` in the next batch and answers once the batch is durable: its value if
    /// both it and the commit succeeded, its error if it failed (nothing of it stays), an
    /// error if the commit failed (nothing of it happened).
    pub async fn write<T, F>(&self, write: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t DatabaseTransaction) -> BoxFuture<'t, Result<T, AppError>> + Send + Sync + 'static,
    {
        self.queue(None, write).await
    }

    /// Records a signed certificate (and its OCSP responses) with the other certificates of
    /// the batch, then runs `then` in the same transaction, which sees the certificate's row;
    /// answers as [`GroupCommit::write`] does. Nobody hears of the certificate before its row
    /// is durable.
    pub async fn issue<T, F>(&self, signed: Signed, then: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t DatabaseTransaction) -> BoxFuture<'t, Result<T, AppError>> + Send + Sync + 'static,
    {
        self.queue(Some(signed), then).await
    }

    /// Records a signed certificate with the other certificates of the batch: what
    /// `ca::issue::store` does in a transaction of the caller's.
    pub async fn store(&self, signed: Signed) -> Result<Issued, AppError> {
        let issued = signed.issued().clone();
        self.issue(signed, move |_| Box::pin(std::future::ready(Ok(issued.clone())))).await
    }

    async fn queue<T, F>(&self, signed: Option<Signed>, write: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t DatabaseTransaction) -> BoxFuture<'t, Result<T, AppError>> + Send + Sync + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, AppError>>();
        let kept = Arc::new(Mutex::new(None::<Result<T, AppError>>));
        let slot = kept.clone();
        let job = Job {
            run: Box::new(move |txn, rows| {
                let slot = slot.clone();
                let attempt = write(txn);
                Box::pin(async move {
                    let stored = match rows {
                        Some(signed) => crate::ca::issue::store(txn, signed).await.map(drop),
                        None => Ok(()),
                    };
                    let result = match stored {
                        Ok(()) => attempt.await,
                        Err(e) => Err(e),
                    };
                    let ok = result.is_ok();
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                    ok
                })
            }),
            signed,
            answer: Box::new(move |committed| {
                let result = kept.lock().unwrap_or_else(|e| e.into_inner()).take();
                let answer = match (result, committed) {
                    (Some(Err(e)), _) => Err(e),
                    (Some(Ok(value)), Ok(())) => Ok(value),
                    (_, Err(failed)) => Err(failed.into()),
                    (None, Ok(())) => Err(AppError::Internal(anyhow::anyhow!("a write of the group was not run"))),
                };
                // The caller may have gone (its request was cancelled): the write stays.
                let _ = reply.send(answer);
            }),
        };
        self.jobs
            .send(job)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the group committer has stopped")))?;
        answer.await.map_err(|_| AppError::Internal(anyhow::anyhow!("the group committer dropped a write")))?
    }

    /// Writes queued and not yet taken into a batch.
    pub fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// (transactions committed, writes they held) since the start: their ratio is how many
    /// writes shared each fsync.
    pub fn counts(&self) -> (u64, u64) {
        (self.counts.commits.load(Ordering::Relaxed), self.counts.writes.load(Ordering::Relaxed))
    }
}

/// The group commit's own SQLite connection: the pool's settings (WAL, `synchronous=FULL`,
/// foreign keys, busy timeout) with a larger page cache, its statement journal in memory
/// (`temp_store`) and no checkpoint at its commits (`wal_autocheckpoint=0`). SQLite
/// checkpoints on the connection that commits, after its commit and before it returns: that
/// put a copy of the log and an fsync on the path of every few batches (a commit of 256
/// certificates took 14 ms, 34 ms with the checkpoint). A checkpoint runs beside the batches
/// instead ([`checkpoint_behind`]). On PostgreSQL, `db` itself.
fn writer_of(db: &DatabaseConnection) -> DatabaseConnection {
    if db.get_database_backend() != DbBackend::Sqlite {
        return db.clone();
    }
    let options = (*db.get_sqlite_connection_pool().connect_options())
        .clone()
        .pragma("cache_size", "-65536")
        .pragma("wal_autocheckpoint", "0")
        // The statement journal of a batch's multi-row inserts (and of the careful way's
        // savepoints) in memory, not a temporary file written page by page: it only ever
        // undoes a statement of the open transaction, which the log's commit makes durable.
        .pragma("temp_store", "memory");
    // Kept open (its cache with it), and waited for no longer than the pool's connections.
    let pool = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(options);
    sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
}

/// After a batch on SQLite: the write-ahead log folded into the database on one of the pool's
/// connections (PASSIVE: no reader or writer waits for it) while the next batch goes on,
/// unless a checkpoint of this process is under way (`db::CHECKPOINTING`; the server's
/// periodic one, `db::checkpoint`, empties the log).
fn checkpoint_behind(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let Ok(checkpointing) = crate::db::CHECKPOINTING.try_lock() else { return };
    let db = db.clone();
    tokio::spawn(async move {
        let _checkpointing = checkpointing;
        if let Err(e) = db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await {
            tracing::warn!(error = %e, "a checkpoint after a group commit failed");
        }
    });
}

async fn commit_forever(
    writer: DatabaseConnection,
    db: DatabaseConnection,
    mut queue: mpsc::Receiver<Job>,
    counts: Arc<Counts>,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A task of its own per batch: a write that panics loses its batch (whose callers are
        // told by their dropped answers, and whose transaction rolls back), not the committer.
        let writer = writer.clone();
        let counts = counts.clone();
        if let Err(e) = tokio::spawn(async move { commit_batch(&writer, batch, &counts).await }).await {
            tracing::error!(error = ?e, "a group commit's batch panicked; its writes were rolled back");
        }
        checkpoint_behind(&db);
    }
}

async fn commit_batch(db: &DatabaseConnection, mut pending: Vec<Job>, counts: &Counts) {
    // Writes that failed: answered with their own errors, whatever becomes of the batch.
    let mut refused = Vec::new();
    // After a failure the batch runs again with a savepoint per write, so that one more
    // failure costs its own write only, not another run of all the others.
    let mut careful = false;
    let committed = loop {
        let txn = match crate::db::begin_write(db).await {
            Ok(txn) => txn,
            Err(e) => break Err(Failed::of(&e)),
        };
        if careful {
            match run_each_in_savepoint(&txn, &mut pending, &mut refused).await {
                Ok(()) => break commit(txn, &pending, counts).await,
                Err(e) => {
                    let _ = txn.rollback().await;
                    break Err(Failed::of(&e));
                }
            }
        }
        // The batch's certificates, one insert per table; if that fails, the careful way.
        let signed: Vec<&Signed> = pending.iter().filter_map(|job| job.signed.as_ref()).collect();
        if let Err(e) = crate::ca::issue::store_all(&txn, &signed).await {
            tracing::warn!(error = %e, "a group commit's certificates did not insert together; one at a time");
            if let Err(e) = txn.rollback().await {
                break Err(Failed::of(&e));
            }
            careful = true;
            continue;
        }
        let mut failed_at = None;
        for (i, job) in pending.iter().enumerate() {
            if !(job.run)(&txn, None).await {
                failed_at = Some(i);
                break;
            }
        }
        let Some(i) = failed_at else { break commit(txn, &pending, counts).await };
        // Undo everything, then the others again without it.
        if let Err(e) = txn.rollback().await {
            break Err(Failed::of(&e));
        }
        refused.push(pending.remove(i));
        careful = true;
    };
    if let Err(failed) = &committed {
        tracing::error!(why = %failed.why, writes = pending.len(), "a group commit failed; its writes were rolled back");
    }
    for job in refused {
        (job.answer)(Ok(()));
    }
    for job in pending {
        (job.answer)(committed.clone());
    }
}

/// Runs each write in a savepoint of its own; one that fails is rolled back to it and moved
/// to `refused`.
async fn run_each_in_savepoint(
    txn: &DatabaseTransaction,
    pending: &mut Vec<Job>,
    refused: &mut Vec<Job>,
) -> Result<(), DbErr> {
    let mut kept = Vec::with_capacity(pending.len());
    for job in pending.drain(..) {
        let savepoint = txn.begin().await?;
        if (job.run)(&savepoint, job.signed.clone()).await {
            savepoint.commit().await?;
            kept.push(job);
        } else {
            savepoint.rollback().await?;
            refused.push(job);
        }
    }
    *pending = kept;
    Ok(())
}

async fn commit(txn: crate::db::Write, pending: &[Job], counts: &Counts) -> Result<(), Failed> {
    let done = txn.commit().await.map_err(|e| Failed::of(&e));
    if done.is_ok() && !pending.is_empty() {
        counts.commits.fetch_add(1, Ordering::Relaxed);
        counts.writes.fetch_add(pending.len() as u64, Ordering::Relaxed);
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The group commit's own connection keeps the pool's durability (WAL, `synchronous=FULL`)
    /// and differs only in what it was made for: no checkpoint at its commits, a larger cache,
    /// its statement journal in memory.
    #[tokio::test]
    async fn the_writer_is_as_durable_as_the_pool_and_does_not_checkpoint() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("certdesk.db").display());
        let config = crate::Config::for_tests(url, dir.path().to_owned());
        let db = crate::db::connect(&config).await.expect("the database");
        let writer = writer_of(&db);
        let setting = |conn: DatabaseConnection, pragma: &'static str| async move {
            let row = conn
                .query_one(sea_orm::Statement::from_string(DbBackend::Sqlite, format!("PRAGMA {pragma}")))
                .await
                .expect("a pragma")
                .expect("its row");
            row.try_get_by_index::<String>(0).or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
        };
        for (pragma, pool, own) in [
            ("journal_mode", "wal", "wal"),
            ("synchronous", "2", "2"),
            ("foreign_keys", "1", "1"),
            ("busy_timeout", "10000", "10000"),
            ("wal_autocheckpoint", "1000", "0"),
            ("cache_size", "-2000", "-65536"),
            ("temp_store", "0", "2"),
        ] {
            assert_eq!(setting(db.clone(), pragma).await.as_deref(), Ok(pool), "the pool's {pragma}");
            assert_eq!(setting(writer.clone(), pragma).await.as_deref(), Ok(own), "the writer's {pragma}");
        }
    }
}
