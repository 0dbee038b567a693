//! At most one open payment order per application (a partial unique index, on SQLite and
//! PostgreSQL alike), and unique invoice numbers.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ix_payment_order_open ON payment_order (application_id) WHERE status = 'not_paid'",
        )
        .await?;
        db.execute_unprepared("CREATE UNIQUE INDEX ix_invoice_number ON invoice (invoice_no)").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX ix_payment_order_open").await?;
        db.execute_unprepared("DROP INDEX ix_invoice_number").await?;
        Ok(())
    }
}
