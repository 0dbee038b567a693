//! Step ② used to store the unit alone (`org_name`, `credit_code` beside the validity and
//! the region). It now stores the holder its type's profile asks for, tagged by kind
//! (`shared::apply::Holder`). This rewrites the stored drafts and applications into the new
//! shape as organisation holders, keeping every value; `down` writes organisation holders
//! back the old way (person and legal-person holders have no old form and stay as they are).
//!
//! Frozen on raw JSON, like migration 012, so that later changes to the wire types cannot
//! change what it does.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;
use serde_json::{Map, Value};

use crate::domain::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let n = rewrite(m.get_connection(), to_holder).await?;
        tracing::info!(n, "certificate information rewritten with an organisation holder");
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rewrite(m.get_connection(), from_holder).await?;
        Ok(())
    }
}

/// The old shape into the new: `org_name` and `credit_code` move into
/// `holder: {kind: organisation, …}`. Anything else (already new, or unreadable) is left.
fn to_holder(info: &str) -> Option<String> {
    let mut v: Map<String, Value> = serde_json::from_str(info).ok()?;
    if v.contains_key("holder") || !v.contains_key("org_name") {
        return None;
    }
    let mut holder = Map::new();
    holder.insert("kind".into(), "organisation".into());
    for k in ["org_name", "credit_code"] {
        holder.insert(k.into(), v.remove(k).unwrap_or(Value::Null));
    }
    v.insert("holder".into(), Value::Object(holder));
    serde_json::to_string(&v).ok()
}

/// An organisation holder back into the old shape.
fn from_holder(info: &str) -> Option<String> {
    let mut v: Map<String, Value> = serde_json::from_str(info).ok()?;
    if v.get("holder")?.get("kind")?.as_str()? != "organisation" {
        return None;
    }
    let Some(Value::Object(holder)) = v.remove("holder") else { return None };
    for k in ["org_name", "credit_code"] {
        v.insert(k.into(), holder.get(k).cloned().unwrap_or(Value::Null));
    }
    serde_json::to_string(&v).ok()
}

async fn rewrite(db: &impl ConnectionTrait, f: fn(&str) -> Option<String>) -> Result<u64, DbErr> {
    let rows = db
        .query_all(sql(db, "SELECT id, certificate_info FROM request WHERE certificate_info IS NOT NULL", vec![]))
        .await?;
    let mut n = 0;
    for row in rows {
        let id: String = row.try_get("", "id")?;
        let info: String = row.try_get("", "certificate_info")?;
        if let Some(new) = f(&info) {
            let text = "UPDATE request SET certificate_info = $2 WHERE id = $1 AND certificate_info = $3";
            n += db.execute(sql(db, text, vec![id.into(), new.into(), info.into()])).await?.rows_affected();
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use certdesk_shared::apply::{CertificateInfo, Holder};

    const OLD: &str = r#"{"org_name":"天津市滨海数字认证有限公司","credit_code":"91350100M000100Y43","validity_id":"org-1y","email":"ca@example.com","province":"天津市","city":"和平区"}"#;

    #[test]
    fn old_drafts_read_as_organisation_holders_and_go_back() {
        let new = to_holder(OLD).unwrap();
        let info: CertificateInfo = serde_json::from_str(&new).unwrap();
        let Holder::Organisation { org_name, credit_code } = &info.holder else { panic!("{info:?}") };
        assert_eq!((org_name.as_str(), credit_code.as_str()), ("天津市滨海数字认证有限公司", "91350100M000100Y43"));
        assert_eq!((info.validity_id.as_str(), info.city.as_str()), ("org-1y", "和平区"));
        assert_eq!(info.email.map(|e| e.to_string()).as_deref(), Some("ca@example.com"));
        assert_eq!(to_holder(&new), None, "already rewritten");
        let back: Value = serde_json::from_str(&from_holder(&new).unwrap()).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(OLD).unwrap());
        let person = r#"{"holder":{"kind":"person","name":"李四","id":{"type":"passport","number":"E12345678"}},"validity_id":"p-1y","province":"天津市","city":"和平区"}"#;
        assert_eq!(from_holder(person), None);
        assert_eq!(to_holder("not json"), None);
    }
}
