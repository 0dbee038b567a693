//! The certificate status epoch (issue 18): `status_epoch` holds one number that the database
//! itself raises whenever a certificate's status changes or a certificate goes, whoever makes
//! the change (this server, another one, an older binary during a rolling upgrade, a hand
//! edit). An OCSP responder keeps its answers in memory for as long as the number it last
//! read, at most [`crate::ca::ocsp::FRESH_FOR`] ago, has not moved.
//!
//! On PostgreSQL the trigger is a deferred constraint trigger: the number is raised at commit,
//! after the transaction's other locks, so two transactions that change statuses in different
//! orders cannot deadlock on it, and a reader never sees the new number before the new status.
//! It is raised once per transaction however many rows change (a transaction-local setting
//! remembers it). Status changes of all servers take turns on this row during their commits,
//! which revocations, rare and committed one by one, can afford.
//!
//! The number starts from the clock (milliseconds), not 0, so a table made again (this
//! migration down and up) never repeats a number a running server may hold.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE TABLE status_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL); \
                     INSERT INTO status_epoch (id, n) \
                     VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint); \
                     CREATE FUNCTION status_epoch_raise() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN \
                       IF current_setting('certdesk.status_epoch_raised', true) IS DISTINCT FROM 'yes' THEN \
                         PERFORM set_config('certdesk.status_epoch_raised', 'yes', true); \
                         UPDATE status_epoch SET n = n + 1 WHERE id = 1; \
                       END IF; \
                       RETURN NULL; \
                     END $$; \
                     CREATE CONSTRAINT TRIGGER certificate_status_epoch AFTER UPDATE OF status OR DELETE \
                     ON certificate DEFERRABLE INITIALLY DEFERRED \
                     FOR EACH ROW EXECUTE FUNCTION status_epoch_raise();",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TABLE status_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)",
                )
                .await?;
                db.execute_unprepared(
                    "INSERT INTO status_epoch (id, n) \
                     VALUES (1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER certificate_status_epoch AFTER UPDATE OF status ON certificate \
                     BEGIN UPDATE status_epoch SET n = n + 1 WHERE id = 1; END",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER certificate_delete_epoch AFTER DELETE ON certificate \
                     BEGIN UPDATE status_epoch SET n = n + 1 WHERE id = 1; END",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER IF EXISTS certificate_status_epoch ON certificate; \
                     DROP FUNCTION IF EXISTS status_epoch_raise(); DROP TABLE IF EXISTS status_epoch;",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS certificate_status_epoch").await?;
                db.execute_unprepared("DROP TRIGGER IF EXISTS certificate_delete_epoch").await?;
                db.execute_unprepared("DROP TABLE IF EXISTS status_epoch").await?;
            }
        }
        Ok(())
    }
}
