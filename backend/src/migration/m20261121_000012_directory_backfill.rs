//! Applications submitted before migration 010 have no lookup columns, so the status search
//! and the progress lookup could not find them or their certificates. This fills them from
//! the steps as stored; new submissions write them themselves (`domain::apply::submit`).
//!
//! The parsing is frozen here, on raw JSON and raw columns, so that later changes to the
//! wire types or the entities cannot change what this migration does.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

use crate::domain::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let (filled, skipped) = backfill(m.get_connection()).await?;
        tracing::info!(filled, skipped, "lookup columns filled for applications submitted before migration 010");
        Ok(())
    }

    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        // The columns stay as filled; migration 010's down removes them.
        Ok(())
    }
}

/// The unit name, the unit's e-mail lower-cased, the operator's phone and ID number, as
/// `submit` writes them (only the unit's e-mail is a search key, never the operator's).
fn lookups(certificate_info: Option<&str>, operator: Option<&str>) -> Option<[Option<String>; 4]> {
    let info: serde_json::Value = serde_json::from_str(certificate_info?).ok()?;
    let op: serde_json::Value = operator.and_then(|o| serde_json::from_str(o).ok()).unwrap_or_default();
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let name = text(&info, "org_name")?;
    Some([Some(name), text(&info, "email").map(|e| e.to_lowercase()), text(&op, "mobile"), text(&op, "id_number")])
}

/// Fills what it can; returns how many applications it filled and how many it could not read.
/// Running it again finds nothing left to fill.
pub async fn backfill(db: &impl ConnectionTrait) -> Result<(u64, u64), DbErr> {
    let rows = db
        .query_all(sql(
            db,
            "SELECT id, certificate_info, operator FROM application WHERE submitted_at IS NOT NULL AND search_name IS NULL",
            vec![],
        ))
        .await?;
    let (mut filled, mut skipped) = (0, 0);
    for row in rows {
        let id: String = row.try_get("", "id")?;
        let info: Option<String> = row.try_get("", "certificate_info")?;
        let op: Option<String> = row.try_get("", "operator")?;
        let Some([name, email, mobile, id_number]) = lookups(info.as_deref(), op.as_deref()) else {
            skipped += 1;
            continue;
        };
        let text = "UPDATE application SET search_name = $2, search_email = $3, operator_mobile = $4, operator_id_number = $5 \
                   WHERE id = $1 AND search_name IS NULL";
        let values = vec![id.into(), name.into(), email.into(), mobile.into(), id_number.into()];
        filled += db.execute(sql(db, text, values)).await?.rows_affected();
    }
    // One certificate per application; LIMIT 1 all the same, so PostgreSQL never sees two rows.
    db.execute(sql(
        db,
        "UPDATE certificate SET email = (SELECT a.search_email FROM application a \
         WHERE a.certificate_uid = certificate.uid AND a.search_email IS NOT NULL LIMIT 1) \
         WHERE email IS NULL AND EXISTS (SELECT 1 FROM application a WHERE a.certificate_uid = certificate.uid AND a.search_email IS NOT NULL)",
        vec![],
    ))
    .await?;
    Ok((filled, skipped))
}

#[cfg(test)]
mod tests {
    use super::lookups;

    #[test]
    fn lookups_come_from_the_stored_steps() {
        let info = r#"{"org_name":"天津市滨海数字认证有限公司","credit_code":"91350100M000100Y43","validity_id":"org-1y","email":"CA@Example.com","province":"天津市","city":"和平区"}"#;
        let op = r#"{"name":"张三","id_number":"11010519491231002X","mobile":"18622503055","email":"zs@example.com"}"#;
        let [name, email, mobile, id] = lookups(Some(info), Some(op)).unwrap();
        assert_eq!(name.as_deref(), Some("天津市滨海数字认证有限公司"));
        assert_eq!(email.as_deref(), Some("ca@example.com"), "the unit's e-mail, lower-cased, never the operator's");
        assert_eq!((mobile.as_deref(), id.as_deref()), (Some("18622503055"), Some("11010519491231002X")));
        assert!(lookups(None, Some(op)).is_none());
        assert!(lookups(Some("not json"), None).is_none());
        assert_eq!(lookups(Some(info), None).unwrap()[2], None);
    }
}
