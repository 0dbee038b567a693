//! The request table: every application, its documents, payments and invoices are found
//! again after migration 017 moves them (taken back to the previous schema and migrated
//! forward on a database with real data), and the database itself refuses a status or kind
//! the code does not know.

use certdesk_shared::apply::{DocumentView, InvoiceView};
use certdesk_shared::directory::{Progress, ProgressQuery};
use certdesk_shared::endpoint;
use certdesk_shared::payment::{PaymentOrder, PaymentStatus};
use certdesk_shared::request::{RequestKind, RequestStatus, RequestView};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;
use serde_json::Value;

use crate::helpers::browser::{Browser, decode, staff_browser};
use crate::helpers::issuing::{complete_draft, issue_into};
use crate::helpers::payment::invoice;
use crate::helpers::spawn_app;
use certdesk_shared::admin::StaffRole;

/// What the customer sees of their requests, invoices and payments.
#[derive(Debug, PartialEq)]
struct Snapshot {
    list: Vec<RequestView>,
    invoices: Vec<InvoiceView>,
    /// A payment order, or the error a draft without one answers: as sent.
    payments: Vec<Value>,
    documents: Vec<Vec<DocumentView>>,
}

async fn snapshot(b: &mut Browser<'_>, ids: &[&str]) -> Snapshot {
    let list = b.ok::<endpoint::ListApplications>(&[], &()).await;
    let invoices = b.ok::<endpoint::ListInvoices>(&[], &()).await;
    let mut payments = Vec::new();
    let mut documents = Vec::new();
    for id in ids {
        payments.push(b.send::<endpoint::PaymentStatus>(&[id], &()).await.1);
        let one = b.ok::<endpoint::GetApplication>(&[id], &()).await;
        documents.push(one.documents);
    }
    Snapshot { list, invoices, payments, documents }
}

async fn count(db: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = db.query_one(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_application_payment_and_invoice_is_found_again_after_the_move_to_requests() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    // An issued application, paid by QR code, with its invoice asked for; and a draft.
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, false).await;
    crate::helpers::payment::pay(&app, &mut b, &id).await;
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");
    let (uid, _, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, None).await;
    let (s, v) = b.send::<endpoint::RequestInvoice>(&[&id], &invoice()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, draft) = b.send::<endpoint::StartApplication>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{draft}");
    let draft_id = decode::<RequestView>(&draft).id;
    let before = snapshot(&mut b, &[&id, &draft_id]).await;
    assert_eq!(before.list.len(), 2, "{before:?}");
    assert_eq!(before.invoices.len(), 1, "{before:?}");
    assert_eq!(decode::<PaymentOrder>(&before.payments[0]).status, PaymentStatus::Paid);
    assert!(!before.documents[0].is_empty());

    // Back to the schema before migration 017: the applications are rows of `application`.
    let db = &app.state.db;
    let after_016 = certdesk::migration::Migrator::migrations().len() as u32 - 16;
    certdesk::migration::Migrator::down(db, Some(after_016)).await.unwrap();
    assert_eq!(count(db, "SELECT COUNT(*) FROM application").await, 2);
    assert_eq!(count(db, "SELECT COUNT(*) FROM application_document WHERE application_id IS NOT NULL").await, 3);
    assert_eq!(count(db, "SELECT COUNT(*) FROM payment_order WHERE application_id IS NOT NULL").await, 1);
    assert!(db.execute_unprepared("SELECT 1 FROM request").await.is_err());

    // Forward again: everything is where it was, the first one a 新办 of its certificate.
    certdesk::migration::Migrator::up(db, None).await.unwrap();
    let after = snapshot(&mut b, &[&id, &draft_id]).await;
    assert_eq!(after, before);
    let first = after.list.iter().find(|a| a.id == id).unwrap();
    assert_eq!(
        (first.kind, first.status, first.certificate_uid.as_deref()),
        (RequestKind::Apply, RequestStatus::Issued, Some(uid.as_str()))
    );
    // The public progress lookup and the staff console find it too.
    let query = ProgressQuery { acceptance_no: acceptance, mobile, ..ProgressQuery::default() };
    let (s, v) = Browser::new(&app).send::<endpoint::LookUpProgress>(&[], &query).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<Progress>(&v).status, RequestStatus::Issued, "{v}");
    let (s, _) = admin.send::<endpoint::StaffViewRequest>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK);

    // The database refuses a status or a kind the code does not know.
    for bad in ["UPDATE request SET status = 'paused'", "UPDATE request SET kind = 'transfer'"] {
        assert!(db.execute_unprepared(bad).await.is_err(), "{bad}");
    }
}
