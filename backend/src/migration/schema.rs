//! Column and table builders the migrations share. A migration that has run must keep
//! building the same schema: change what these produce only with a new migration.

use sea_orm_migration::prelude::*;

pub fn id(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).string_len(64).not_null().primary_key());
}
pub fn text(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).text().not_null());
}
pub fn text_null(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).text().null());
}
pub fn time(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).timestamp_with_time_zone().not_null());
}
pub fn time_null(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).timestamp_with_time_zone().null());
}
pub fn int(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).integer().not_null().default(0));
}

pub fn table(name: &str, build: impl FnOnce(&mut TableCreateStatement)) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(Alias::new(name));
    build(&mut t);
    t.to_owned()
}

/// The failure and rate-limit counters (`domain::throttle`): in the main database's first
/// migrations, and the whole schema of SQLite's separate counters database.
pub fn throttle_table() -> TableCreateStatement {
    table("throttle", |t| {
        id(t, "bucket");
        int(t, "failures");
        time(t, "window_start");
        time(t, "last_failure_at");
        time_null(t, "locked_until");
    })
}

pub fn index(table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
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

pub fn big_null(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).big_integer().null());
}
pub fn money(t: &mut TableCreateStatement, name: &str) {
    t.col(ColumnDef::new(Alias::new(name)).big_integer().not_null());
}
