//! Accounts and everything sign-in needs to agree on across servers: customer accounts,
//! staff, sessions, one-time codes, captchas, failure counters, WebAuthn credentials and
//! ceremonies, the notification outbox and the hash-chained audit trail (append-only: the
//! database refuses UPDATE and DELETE on it).

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

use super::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &[&str] = &[
    "account",
    "staff",
    "session",
    "one_time_code",
    "captcha",
    "throttle",
    "webauthn_credential",
    "webauthn_challenge",
    "outbox_message",
    "audit_event",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("account", |t| {
            id(t, "id");
            text(t, "kind");
            text(t, "mobile");
            text(t, "password_hash");
            text_null(t, "org_name");
            text_null(t, "credit_code");
            text(t, "name");
            text(t, "id_number");
            text_null(t, "email");
            text(t, "agreement_version");
            time(t, "agreed_at");
            time(t, "created_at");
            time(t, "updated_at");
        }))
        .await?;
        // One phone, one account (seed 004 §2.1.2).
        m.create_index(index("account", &["mobile"], true)).await?;

        m.create_table(table("staff", |t| {
            id(t, "id");
            text(t, "username");
            text(t, "display_name");
            text(t, "role");
            text_null(t, "enrol_token_hash");
            time_null(t, "enrol_expires_at");
            time(t, "created_at");
        }))
        .await?;
        m.create_index(index("staff", &["username"], true)).await?;

        m.create_table(table("session", |t| {
            // SHA-256 of the cookie value: a leaked table opens no session.
            id(t, "id_hash");
            text(t, "subject_kind");
            text(t, "subject_id");
            text(t, "csrf_token");
            text(t, "method");
            text(t, "ip");
            text(t, "user_agent");
            time(t, "created_at");
            time(t, "last_seen_at");
            time(t, "expires_at");
        }))
        .await?;
        m.create_index(index("session", &["subject_id"], false)).await?;

        m.create_table(table("one_time_code", |t| {
            id(t, "id");
            text(t, "mobile");
            text(t, "purpose");
            text(t, "code_hash");
            int(t, "attempts");
            time(t, "created_at");
            time(t, "expires_at");
            time_null(t, "used_at");
            text(t, "ip");
        }))
        .await?;
        m.create_index(index("one_time_code", &["mobile", "created_at"], false)).await?;

        m.create_table(table("captcha", |t| {
            id(t, "id");
            text(t, "answer_hash");
            time(t, "expires_at");
        }))
        .await?;

        m.create_table(throttle_table()).await?;

        m.create_table(table("webauthn_credential", |t| {
            id(t, "id");
            text(t, "owner_kind");
            text(t, "owner_id");
            text(t, "credential_id");
            text(t, "passkey");
            text(t, "name");
            time(t, "created_at");
            time_null(t, "last_used_at");
        }))
        .await?;
        m.create_index(index("webauthn_credential", &["credential_id"], true)).await?;
        m.create_index(index("webauthn_credential", &["owner_id"], false)).await?;

        m.create_table(table("webauthn_challenge", |t| {
            id(t, "id");
            text(t, "purpose");
            text(t, "owner_kind");
            text(t, "owner_id");
            text(t, "name");
            text(t, "state");
            time(t, "expires_at");
        }))
        .await?;

        m.create_table(table("outbox_message", |t| {
            id(t, "id");
            text(t, "channel");
            text(t, "recipient");
            text(t, "template");
            text(t, "body");
            time(t, "created_at");
        }))
        .await?;
        m.create_index(index("outbox_message", &["created_at"], false)).await?;

        m.create_table(table("audit_event", |t| {
            t.col(ColumnDef::new(Alias::new("seq")).big_integer().not_null().auto_increment().primary_key());
            time(t, "at");
            text(t, "actor");
            text(t, "action");
            text(t, "subject");
            text(t, "ip");
            text(t, "detail");
            text(t, "prev_hash");
            text(t, "hash");
        }))
        .await?;
        // Each row names the row before it; a unique predecessor means the chain cannot fork
        // when two servers append at once (the loser retries on the new head).
        m.create_index(index("audit_event", &["prev_hash"], true)).await?;
        m.create_index(index("audit_event", &["hash"], true)).await?;
        m.create_index(index("audit_event", &["actor", "action"], false)).await?;

        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$;
                     CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event \
                     FOR EACH ROW EXECUTE FUNCTION audit_event_append_only(); \
                     CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event \
                     FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event \
                     BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event \
                     BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(Alias::new(*t)).if_exists().to_owned()).await?;
        }
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection().execute_unprepared("DROP FUNCTION IF EXISTS audit_event_append_only()").await?;
        }
        Ok(())
    }
}
