//! New certificates (证书新办): the catalogue (projects, certificate types, validity options
//! with prices), each account's billing mode, applications with their wizard drafts, and
//! their uploaded documents.

use sea_orm_migration::prelude::*;

use super::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &[&str] =
    &["application_document", "application", "catalogue_validity", "catalogue_type", "catalogue_project"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(table("catalogue_project", |t| {
            id(t, "id");
            text(t, "name");
            int(t, "position");
        }))
        .await?;
        m.create_table(table("catalogue_type", |t| {
            id(t, "id");
            text(t, "project_id");
            text(t, "name");
            // The signing profile its certificates are issued under (`org_sign` …).
            text(t, "profile");
            // Comma-separated `Medium` and `DocumentKind` codes.
            text(t, "media");
            text(t, "documents");
            int(t, "position");
        }))
        .await?;
        m.create_table(table("catalogue_validity", |t| {
            id(t, "id");
            text(t, "type_id");
            int(t, "years");
            t.col(ColumnDef::new(Alias::new("price_fen")).big_integer().not_null());
            int(t, "position");
        }))
        .await?;
        m.alter_table(
            Table::alter()
                .table(Alias::new("account"))
                .add_column(ColumnDef::new(Alias::new("billing_mode")).text().not_null().default("scan_to_pay"))
                .to_owned(),
        )
        .await?;
        m.create_table(table("application", |t| {
            id(t, "id");
            text(t, "account_id");
            text_null(t, "acceptance_no");
            text(t, "status");
            int(t, "step");
            text(t, "billing_mode");
            text_null(t, "type_id");
            text_null(t, "medium");
            text_null(t, "choose_type");
            text_null(t, "certificate_info");
            text_null(t, "operator");
            text_null(t, "delivery");
            big_null(t, "price_fen");
            text(t, "reasons");
            text_null(t, "auth_code_hash");
            text_null(t, "certificate_uid");
            int(t, "review_round");
            time(t, "created_at");
            time(t, "updated_at");
            time_null(t, "submitted_at");
            time_null(t, "decided_at");
        }))
        .await?;
        m.create_index(index("application", &["acceptance_no"], true)).await?;
        m.create_index(index("application", &["account_id"], false)).await?;
        m.create_index(index("application", &["status", "submitted_at"], false)).await?;
        m.create_table(table("application_document", |t| {
            id(t, "id");
            text(t, "application_id");
            text(t, "kind");
            text(t, "file_name");
            text(t, "file_type");
            int(t, "size");
            text(t, "sha256");
            t.col(ColumnDef::new(Alias::new("content")).binary().not_null());
            time(t, "created_at");
        }))
        .await?;
        // One document per kind; uploading again replaces it.
        m.create_index(index("application_document", &["application_id", "kind"], true)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES {
            m.drop_table(Table::drop().table(Alias::new(*t)).if_exists().to_owned()).await?;
        }
        m.alter_table(Table::alter().table(Alias::new("account")).drop_column(Alias::new("billing_mode")).to_owned())
            .await
    }
}
