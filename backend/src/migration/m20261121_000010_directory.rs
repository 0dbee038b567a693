//! The public directory (status search, self-revocation, progress lookup): each issued
//! certificate's holder e-mail, and on each application the submitted unit name, e-mail,
//! operator phone and ID number as plain columns so the public lookups use indexes instead
//! of reading JSON; and the hash of the challenge phrase (撤销密码) chosen when applying.

use sea_orm_migration::prelude::*;

use super::schema::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn add_text(table: &str, col: &str) -> TableAlterStatement {
    Table::alter().table(Alias::new(table)).add_column(ColumnDef::new(Alias::new(col)).text().null()).to_owned()
}

const APPLICATION_COLUMNS: [&str; 5] =
    ["search_name", "search_email", "operator_mobile", "operator_id_number", "challenge_hash"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(add_text("certificate", "email")).await?;
        m.create_index(index("certificate", &["email"], false)).await?;
        m.create_index(index("certificate", &["subject"], false)).await?;
        m.create_index(index("certificate", &["revoked_at"], false)).await?;
        for col in APPLICATION_COLUMNS {
            m.alter_table(add_text("application", col)).await?;
        }
        for col in ["search_name", "search_email", "operator_mobile", "operator_id_number", "certificate_uid"] {
            m.create_index(index("application", &[col], false)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["search_name", "search_email", "operator_mobile", "operator_id_number", "certificate_uid"] {
            m.drop_index(
                Index::drop().name(format!("ix_application_{col}")).table(Alias::new("application")).to_owned(),
            )
            .await?;
        }
        for col in APPLICATION_COLUMNS {
            m.alter_table(Table::alter().table(Alias::new("application")).drop_column(Alias::new(col)).to_owned())
                .await?;
        }
        for ix in ["ix_certificate_email", "ix_certificate_subject", "ix_certificate_revoked_at"] {
            m.drop_index(Index::drop().name(ix).table(Alias::new("certificate")).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(Alias::new("certificate")).drop_column(Alias::new("email")).to_owned()).await
    }
}
