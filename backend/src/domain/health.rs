//! Is the server fit to answer: the database ping.

use certdesk_shared::health::{Health, HealthStatus};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

/// `staging`: whether this is a staging server, which every page then announces.
pub async fn check(db: &DatabaseConnection, staging: bool) -> Health {
    let database = db.ping().await.is_ok();
    Health {
        status: if database { HealthStatus::Ok } else { HealthStatus::Degraded },
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database,
        database_kind: crate::db::kind(db).to_owned(),
        staging,
    }
}

/// The installation's id, written by the first migration.
pub async fn instance_id(db: &impl ConnectionTrait) -> Result<String, DbErr> {
    let stmt = Statement::from_string(db.get_database_backend(), "SELECT instance_id FROM instance WHERE id = 1");
    let row = db.query_one(stmt).await?.ok_or_else(|| DbErr::RecordNotFound("instance".into()))?;
    row.try_get("", "instance_id")
}
