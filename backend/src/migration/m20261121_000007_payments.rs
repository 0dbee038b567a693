//! Payments: our orders (商户订单), and the sandbox provider's own records and keys (a real
//! provider keeps those on its side; the sandbox keeps them in our database so that every
//! server sees the same "provider").

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).string_len(64).not_null().primary_key());
}
fn text(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).text().not_null());
}
fn text_null(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).text().null());
}
fn time(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).timestamp_with_time_zone().not_null());
}
fn time_null(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).timestamp_with_time_zone().null());
}

fn table(name: &str, build: impl FnOnce(&mut TableCreateStatement)) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(Alias::new(name));
    build(&mut t);
    t.to_owned()
}

fn index(table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("ix_{table}_{}", cols.join("_"))).table(Alias::new(table));
    for c in cols {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

fn money(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).big_integer().not_null());
}

const TABLES: &[&str] = &["payment_order", "sandbox_trade", "sandbox_secret"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("payment_order", |t| {
            id(t, "out_trade_no");
            text(t, "application_id");
            text(t, "provider");
            money(t, "amount_fen");
            text(t, "code_url");
            text(t, "status");
            text_null(t, "transaction_id");
            time(t, "created_at");
            time(t, "expires_at");
            time_null(t, "paid_at");
        }))
        .await?;
        m.create_index(index("payment_order", &["application_id"], false)).await?;
        m.create_table(table("sandbox_trade", |t| {
            // The token in the code_url: what the phone opens after scanning.
            id(t, "token");
            text(t, "out_trade_no");
            money(t, "amount_fen");
            text(t, "description");
            text(t, "state");
            text_null(t, "transaction_id");
            time(t, "created_at");
            time(t, "expires_at");
        }))
        .await?;
        m.create_index(index("sandbox_trade", &["out_trade_no"], true)).await?;
        m.create_table(table("sandbox_secret", |t| {
            id(t, "name");
            text(t, "value");
        }))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES {
            m.drop_table(Table::drop().table(Alias::new(*t)).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}
