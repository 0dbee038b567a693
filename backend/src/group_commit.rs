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
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use crate::error::AppError;

/// The most writes one transaction holds.
pub const MAX_BATCH: usize = 256;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Told whether the batch committed, answers the waiting caller.
type Deliver = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A queued write: runs inside its savepoint and says whether it succeeded, with its answer.
type Job = Box<dyn for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, (bool, Deliver)> + Send>;

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
        let job: Job = Box::new(move |txn| {
            Box::pin(async move {
                let result = write(txn).await;
                let ok = result.is_ok();
                let deliver: Deliver = Box::new(move |committed| {
                    let answer = match (result, committed) {
                        (Err(e), _) => Err(e),
                        (Ok(value), Ok(())) => Ok(value),
                        (Ok(_), Err(why)) => Err(AppError::Internal(anyhow::anyhow!("the group commit failed: {why}"))),
                    };
                    // The caller may have gone (its request was cancelled): the write stays.
                    let _ = reply.send(answer);
                });
                (ok, deliver)
            })
        });
        self.jobs.send(job).await.map_err(|_| AppError::Internal(anyhow::anyhow!("the group committer has stopped")))?;
        answer.await.map_err(|_| AppError::Internal(anyhow::anyhow!("the group committer dropped a write")))?
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
            return; // the dropped jobs tell their callers
        }
    };
    let mut answers = Vec::with_capacity(batch.len());
    let mut broken = None;
    for job in batch {
        if broken.is_some() {
            break;
        }
        let savepoint = match txn.begin().await {
            Ok(s) => s,
            Err(e) => {
                broken = Some(e.to_string());
                break;
            }
        };
        let (ok, deliver) = job(&savepoint).await;
        let closed = if ok { savepoint.commit().await } else { savepoint.rollback().await };
        if let Err(e) = closed {
            broken = Some(e.to_string());
        }
        answers.push(deliver);
    }
    let committed = match broken {
        Some(why) => {
            let _ = txn.rollback().await;
            Err(why)
        }
        None => {
            let n = answers.len() as u64;
            let done = txn.commit().await.map_err(|e| e.to_string());
            if done.is_ok() {
                counts.commits.fetch_add(1, Ordering::Relaxed);
                counts.writes.fetch_add(n, Ordering::Relaxed);
            }
            done
        }
    };
    if let Err(why) = &committed {
        tracing::error!(%why, writes = answers.len(), "a group commit failed; its writes were rolled back");
    }
    for deliver in answers {
        deliver(committed.clone());
    }
}
