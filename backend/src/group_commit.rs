//! Group commit: writes that arrive together share one durable transaction, so that a burst
//! of issuances costs one fsync instead of one each (`synchronous=FULL` stays on SQLite).
//!
//! One task per server takes the writes in arrival order. While a batch commits, the next
//! writes queue; the task then runs them all (at most [`MAX_BATCH`]) in one transaction, each
//! in a savepoint of its own, and commits once. A write that fails rolls back its savepoint
//! only. Nobody hears that a write succeeded before the commit that holds it has returned:
//! the answers are sent after it. If that commit fails, every write of the batch is told so
//! and none of them happened.
//!
//! Rules for a write: it uses only the transaction it is given (on SQLite another connection
//! would wait for the lock this batch holds), it does not wait for another write of the group
//! (that would wait for itself), and it does no slow work: signing and checking belong
//! before it, in the caller's task, where two cores can do them at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use certdesk_shared::ErrorCode;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use crate::error::AppError;

/// The most writes one transaction holds.
pub const MAX_BATCH: usize = 256;

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

/// Does a write in the savepoint given; whether it succeeded.
type Run = Box<dyn for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, bool> + Send>;

/// A queued write: `run` does it inside its savepoint and keeps its result, saying whether
/// it succeeded; `answer` tells the caller once the batch's fate is known.
struct Job {
    run: Run,
    answer: Box<dyn FnOnce(Result<(), Failed>) + Send>,
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
    /// Starts the task that commits for `db`.
    pub fn start(db: DatabaseConnection) -> GroupCommit {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        let counts = Arc::new(Counts::default());
        tokio::spawn(commit_forever(db, queue, counts.clone()));
        GroupCommit { jobs, counts }
    }

    /// Runs `write` in the next batch and answers once the batch is durable: its value if
    /// both it and the commit succeeded, its error if it failed (its changes rolled back),
    /// an internal error if the commit failed (nothing of it happened).
    pub async fn write<T, F>(&self, write: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, Result<T, AppError>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, AppError>>();
        let kept = Arc::new(Mutex::new(None::<Result<T, AppError>>));
        let slot = kept.clone();
        let job = Job {
            run: Box::new(move |txn| {
                Box::pin(async move {
                    let result = write(txn).await;
                    let ok = result.is_ok();
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                    ok
                })
            }),
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

async fn commit_forever(db: DatabaseConnection, mut queue: mpsc::Receiver<Job>, counts: Arc<Counts>) {
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
        let db = db.clone();
        let counts = counts.clone();
        if let Err(e) = tokio::spawn(async move { commit_batch(&db, batch, &counts).await }).await {
            tracing::error!(error = ?e, "a group commit's batch panicked; its writes were rolled back");
        }
    }
}

async fn commit_batch(db: &DatabaseConnection, batch: Vec<Job>, counts: &Counts) {
    let txn = match crate::db::begin_write(db).await {
        Ok(txn) => txn,
        Err(e) => {
            tracing::error!(error = ?e, writes = batch.len(), "a group commit could not begin");
            let failed = Failed::of(&e);
            for job in batch {
                (job.answer)(Err(failed.clone()));
            }
            return;
        }
    };
    let mut answers = Vec::with_capacity(batch.len());
    let mut broken = None;
    for job in batch {
        answers.push(job.answer);
        if broken.is_some() {
            continue; // not run: told the batch failed
        }
        let savepoint = match txn.begin().await {
            Ok(s) => s,
            Err(e) => {
                broken = Some(Failed::of(&e));
                continue;
            }
        };
        let ok = (job.run)(&savepoint).await;
        let closed = if ok { savepoint.commit().await } else { savepoint.rollback().await };
        if let Err(e) = closed {
            broken = Some(Failed::of(&e));
        }
    }
    let committed = match broken {
        Some(failed) => {
            let _ = txn.rollback().await;
            Err(failed)
        }
        None => {
            let n = answers.len() as u64;
            let done = txn.commit().await.map_err(|e| Failed::of(&e));
            if done.is_ok() {
                counts.commits.fetch_add(1, Ordering::Relaxed);
                counts.writes.fetch_add(n, Ordering::Relaxed);
            }
            done
        }
    };
    if let Err(failed) = &committed {
        tracing::error!(why = %failed.why, writes = answers.len(), "a group commit failed; its writes were rolled back");
    }
    for answer in answers {
        answer(committed.clone());
    }
}
