//! Every business request (业务) in one table: the applications for a new certificate move
//! into `request` as requests of kind `apply`, next to renewals (and, later, changes,
//! reissues and cancellations). The kind and the status are constrained by the database
//! itself (CHECK), so a row can never hold a status the code does not know.
//! Documents, payment orders and invoices follow: `request_document`, `request_id`.
//! A certificate type says whether its renewals go to staff review (`renewal_review`).

use sea_orm_migration::prelude::*;

use super::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every kind of request; the code's `RequestKind` has exactly these (tested).
pub const KINDS: [&str; 6] = ["apply", "renew", "change", "operator_change", "reissue", "revoke"];
/// Every status; the code's `RequestStatus` has exactly these (tested).
pub const STATUSES: [&str; 8] =
    ["draft", "submitted", "rejected", "resubmitted", "approved", "issued", "done", "withdrawn"];

/// The columns an application had, copied as they are.
const COPIED: &str = "id, account_id, acceptance_no, status, step, billing_mode, type_id, medium, choose_type, \
     certificate_info, operator, delivery, price_fen, reasons, auth_code_hash, certificate_uid, review_round, \
     created_at, updated_at, submitted_at, decided_at, courier, tracking_no, shipped_at, search_name, \
     search_email, operator_mobile, operator_id_number, challenge_hash";

fn one_of(col: &str, values: &[&str]) -> SimpleExpr {
    Expr::col(Alias::new(col)).is_in(values.iter().map(|v| (*v).to_owned()))
}

pub fn request_table() -> TableCreateStatement {
    table("request", |t| {
        id(t, "id");
        text(t, "account_id");
        t.col(ColumnDef::new(Alias::new("kind")).string_len(32).not_null().check(one_of("kind", &KINDS)));
        text_null(t, "acceptance_no");
        t.col(ColumnDef::new(Alias::new("status")).string_len(32).not_null().check(one_of("status", &STATUSES)));
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
        // The certificate the request started from (none for 新办) and the one it produced.
        text_null(t, "from_certificate_uid");
        text_null(t, "certificate_uid");
        // What is special to the kind (the period of a renewal), as JSON.
        text_null(t, "payload");
        int(t, "review_round");
        time(t, "created_at");
        time(t, "updated_at");
        time_null(t, "submitted_at");
        time_null(t, "decided_at");
        text_null(t, "courier");
        text_null(t, "tracking_no");
        time_null(t, "shipped_at");
        text_null(t, "search_name");
        text_null(t, "search_email");
        text_null(t, "operator_mobile");
        text_null(t, "operator_id_number");
        text_null(t, "challenge_hash");
    })
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.create_table(request_table()).await?;
        db.execute_unprepared(&format!(
            "INSERT INTO request ({COPIED}, kind) SELECT {COPIED}, 'apply' FROM application"
        ))
        .await?;
        m.drop_table(Table::drop().table(Alias::new("application")).to_owned()).await?;
        m.create_index(index("request", &["acceptance_no"], true)).await?;
        m.create_index(index("request", &["account_id"], false)).await?;
        m.create_index(index("request", &["status", "submitted_at"], false)).await?;
        m.create_index(index("request", &["certificate_uid"], false)).await?;
        m.create_index(index("request", &["from_certificate_uid"], false)).await?;
        for col in ["search_name", "search_email", "operator_mobile", "operator_id_number"] {
            m.create_index(index("request", &[col], false)).await?;
        }
        // At most one open renewal (or other request) per certificate at a time.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ix_request_open_per_certificate ON request (from_certificate_uid) \
             WHERE status IN ('draft', 'submitted', 'rejected', 'resubmitted', 'approved', 'issued')",
        )
        .await?;

        m.rename_table(
            Table::rename().table(Alias::new("application_document"), Alias::new("request_document")).to_owned(),
        )
        .await?;
        for t in ["request_document", "payment_order", "invoice"] {
            m.alter_table(
                Table::alter()
                    .table(Alias::new(t))
                    .rename_column(Alias::new("application_id"), Alias::new("request_id"))
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Alias::new("catalogue_type"))
                .add_column(ColumnDef::new(Alias::new("renewal_review")).boolean().not_null().default(false))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    /// Back to applications: the 新办 requests return to `application`; requests of the
    /// other kinds have no place in that schema and are dropped with `request`.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        m.alter_table(
            Table::alter().table(Alias::new("catalogue_type")).drop_column(Alias::new("renewal_review")).to_owned(),
        )
        .await?;
        for t in ["request_document", "payment_order", "invoice"] {
            m.alter_table(
                Table::alter()
                    .table(Alias::new(t))
                    .rename_column(Alias::new("request_id"), Alias::new("application_id"))
                    .to_owned(),
            )
            .await?;
        }
        m.rename_table(
            Table::rename().table(Alias::new("request_document"), Alias::new("application_document")).to_owned(),
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
            text_null(t, "courier");
            text_null(t, "tracking_no");
            time_null(t, "shipped_at");
            text_null(t, "search_name");
            text_null(t, "search_email");
            text_null(t, "operator_mobile");
            text_null(t, "operator_id_number");
            text_null(t, "challenge_hash");
        }))
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO application ({COPIED}) SELECT {COPIED} FROM request WHERE kind = 'apply' AND status <> 'done' \
             AND status <> 'withdrawn'"
        ))
        .await?;
        m.drop_table(Table::drop().table(Alias::new("request")).to_owned()).await?;
        m.create_index(index("application", &["acceptance_no"], true)).await?;
        m.create_index(index("application", &["account_id"], false)).await?;
        m.create_index(index("application", &["status", "submitted_at"], false)).await?;
        for col in ["search_name", "search_email", "operator_mobile", "operator_id_number"] {
            m.create_index(index("application", &[col], false)).await?;
        }
        Ok(())
    }
}
