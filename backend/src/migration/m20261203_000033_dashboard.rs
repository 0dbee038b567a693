//! 工作台's charts (issue 21): an index that holds what each chart's query reads, so that
//! a chart over a million certificates reads only the rows it counts, from the index alone.

use sea_orm_migration::prelude::*;

use super::schema::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(table, columns)`: requests by the day of submission and kind; settlement revenue by
/// billing mode and approval; paid orders by month; certificates expiring; revocations by day
/// and reason.
const INDEXES: [(&str, &[&str]); 5] = [
    ("request", &["submitted_at", "kind"]),
    ("request", &["billing_mode", "decided_at", "status", "price_fen"]),
    ("payment_order", &["status", "paid_at", "provider", "amount_fen"]),
    ("certificate", &["status", "not_after"]),
    ("certificate", &["status", "revoked_at", "reason"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, cols) in INDEXES {
            m.create_index(index(table, cols, false)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, cols) in INDEXES {
            let name = format!("ix_{table}_{}", cols.join("_"));
            m.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
