//! The sandboxes' own secrets (WeChat Pay's and Alipay's keys, the SMS AccessKey secret), kept
//! in `sandbox_secret` so that every server on the database is one sandbox: made by the first
//! server that needs one, and the first stored wins when two make it at once.

use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, SqlErr};

use crate::entity::sandbox_secret;

/// The secret `name`, made by `make` the first time.
pub async fn get_or_make(
    db: &DatabaseConnection,
    name: &str,
    make: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    if let Some(s) = sandbox_secret::Entity::find_by_id(name.to_owned()).one(db).await? {
        return Ok(s.value);
    }
    let value = make()?;
    let insert =
        sandbox_secret::Entity::insert(sandbox_secret::ActiveModel { name: Set(name.into()), value: Set(value) })
            .exec(db)
            .await;
    match insert {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
        Err(e) => return Err(e.into()),
    }
    let stored = sandbox_secret::Entity::find_by_id(name.to_owned()).one(db).await?;
    stored.map(|s| s.value).ok_or_else(|| anyhow::anyhow!("the sandbox secret {name} vanished"))
}
