//! Invoices (开具发票: requested by the customer, issued by finance as a PDF e-invoice) and
//! the courier and tracking number of a posted UKey (邮寄查询).

use sea_orm_migration::prelude::*;

use super::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("invoice", |t| {
            id(t, "id");
            text(t, "application_id");
            text(t, "account_id");
            text(t, "title");
            text(t, "tax_number");
            text(t, "address");
            text(t, "bank");
            text(t, "phone");
            text(t, "bank_account");
            text(t, "email");
            t.col(ColumnDef::new(Alias::new("amount_fen")).big_integer().not_null());
            text(t, "status");
            text_null(t, "invoice_no");
            t.col(ColumnDef::new(Alias::new("pdf")).binary().null());
            time(t, "requested_at");
            time_null(t, "issued_at");
        }))
        .await?;
        // One invoice per application.
        m.create_index(index("invoice", &["application_id"], true)).await?;
        m.create_index(index("invoice", &["status", "requested_at"], false)).await?;
        for (name, time) in [("courier", false), ("tracking_no", false), ("shipped_at", true)] {
            let mut col = ColumnDef::new(Alias::new(name));
            if time {
                col.timestamp_with_time_zone().null();
            } else {
                col.text().null();
            }
            // One column per statement: SQLite alters one at a time.
            m.alter_table(Table::alter().table(Alias::new("application")).add_column(col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Alias::new("invoice")).if_exists().to_owned()).await?;
        for name in ["courier", "tracking_no", "shipped_at"] {
            m.alter_table(Table::alter().table(Alias::new("application")).drop_column(Alias::new(name)).to_owned())
                .await?;
        }
        Ok(())
    }
}
