//! The staff console filters the audit trail by object and action and by time, and the
//! outbox by recipient (issue 21): an index for each, so a filtered page over a million rows
//! is an index range, not a scan. (The trail's actor has one already, with action.)

use sea_orm_migration::prelude::*;

use super::schema::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("audit_event", &["subject"], false)).await?;
        m.create_index(index("audit_event", &["action"], false)).await?;
        m.create_index(index("audit_event", &["at"], false)).await?;
        m.create_index(index("outbox_message", &["recipient", "created_at"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["ix_audit_event_subject", "ix_audit_event_action", "ix_audit_event_at"] {
            m.drop_index(Index::drop().name(name).table(Alias::new("audit_event")).to_owned()).await?;
        }
        m.drop_index(
            Index::drop().name("ix_outbox_message_recipient_created_at").table(Alias::new("outbox_message")).to_owned(),
        )
        .await
    }
}
