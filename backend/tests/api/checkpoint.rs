//! SQLite's write-ahead log stays bounded under steady reads: the server's checkpoint
//! (`db::checkpoint`, every `db::CHECKPOINT_EVERY`) empties it even while readers keep
//! reading, which SQLite's own checkpoints after commits never do (the soak saw the log grow
//! to 1.5 GB).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::helpers::spawn_app;

fn wal_bytes(db_file: &str) -> u64 {
    std::fs::metadata(format!("{db_file}-wal")).map_or(0, |m| m.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_ahead_log_is_emptied_while_readers_keep_reading() {
    let app = spawn_app().await;
    let db: DatabaseConnection = app.state.db.clone();
    if certdesk::db::kind(&db) != "sqlite" {
        // PostgreSQL recycles its own log; `checkpoint` does nothing there.
        assert!(certdesk::db::checkpoint(&db).await.unwrap());
        return;
    }
    let url = app.state.config.database_url();
    let file = url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
    db.execute_unprepared("CREATE TABLE wal_probe (x TEXT)").await.unwrap();

    // Readers that never pause, each on a connection of the pool.
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (db, stop) = (db.clone(), stop.clone());
            tokio::spawn(async move {
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    db.execute_unprepared("SELECT count(*) FROM wal_probe").await.unwrap();
                    reads += 1;
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();
    for i in 0..2000 {
        db.execute_unprepared(&format!("INSERT INTO wal_probe VALUES ('{i:0>200}')")).await.unwrap();
    }
    let before = wal_bytes(&file);
    assert!(before > 1024 * 1024, "2,000 commits wrote {before} bytes of log");

    let mut emptied = false;
    for _ in 0..20 {
        if certdesk::db::checkpoint(&db).await.unwrap() {
            emptied = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = wal_bytes(&file);
    stop.store(true, Ordering::Relaxed);
    let mut reads = 0;
    for r in readers {
        reads += r.await.unwrap();
    }
    assert!(reads > 100, "the readers read {reads} times");
    assert!(emptied, "the checkpoint never finished");
    assert_eq!(after, 0, "the log held {after} bytes after the checkpoint ({before} before)");
    // Nothing was lost on the way.
    let n = db
        .query_one(sea_orm::Statement::from_string(db.get_database_backend(), "SELECT count(*) AS n FROM wal_probe"))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(n, 2000);
}
