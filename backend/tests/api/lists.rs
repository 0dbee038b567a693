//! The staff console's lists (issue 21): each pages on the server, sorts by its columns,
//! filters, and finds rows by acceptance number, phone, unit name or number; finance's lists
//! export every matching row as CSV that Excel opens with its Chinese text.

use certdesk::entity::{account, certificate, invoice, payment_order, request};
use certdesk_shared::admin::{
    CustomerQuery, CustomerSummary, InvoiceColumn, InvoiceQuery, MonthQuery, Page, PendingTransfer, QueueColumn,
    QueueQuery, Section, ShipmentColumn, ShipmentQuery, SortColumn, StaffMember, StaffQuery, StaffRole, TransferQuery,
};
use certdesk_shared::apply::{InvoiceView, ReviewQueueItem};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::request::RequestView;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, NotSet, Set};
use serde::Serialize;
use serde_json::{Value, json};

use crate::helpers::browser::{Browser, first_field, staff_browser};
use crate::helpers::{TestApp, spawn_app};

/// The field a list's refusal names (422).
fn refused((status, v): (StatusCode, Value)) -> String {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    first_field(&v).expect("a field error").0
}

/// Request `n` of a batch: acceptance number `SQ…n`, unit `单位n` (every third one `天津某公司`),
/// operator phone `1390000000n`, submitted `n` hours ago.
fn a_request(n: usize, account_id: &str, status: request::Status) -> request::ActiveModel {
    let at = Utc::now() - Duration::hours(n as i64);
    request::ActiveModel {
        id: Set(format!("list-{n:03}")),
        account_id: Set(account_id.into()),
        kind: Set(if n.is_multiple_of(2) { request::Kind::Apply } else { request::Kind::Renew }),
        acceptance_no: Set(Some(format!("SQ20261204{n:06}"))),
        status: Set(status),
        step: Set(7),
        billing_mode: Set("scan_to_pay".into()),
        reasons: Set("[]".into()),
        review_round: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        submitted_at: Set(Some(at)),
        decided_at: Set(Some(at)),
        search_name: Set(Some(if n.is_multiple_of(3) { "天津某公司".into() } else { format!("单位{n}") })),
        operator_mobile: Set(Some(format!("1390000{n:04}"))),
        ..Default::default()
    }
}

async fn an_account(app: &TestApp, id: &str, mobile: &str, org: &str, days_ago: i64) {
    let at = Utc::now() - Duration::days(days_ago);
    account::ActiveModel {
        id: Set(id.into()),
        kind: Set("organisation".into()),
        mobile: Set(mobile.into()),
        password_hash: Set("not-a-hash".into()),
        org_name: Set(Some(org.into())),
        credit_code: Set(None),
        name: Set("王五".into()),
        id_number: Set("110101199003070000".into()),
        email: Set(None),
        agreement_version: Set("1".into()),
        agreed_at: Set(at),
        created_at: Set(at),
        updated_at: Set(at),
        billing_mode: Set("scan_to_pay".into()),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

fn numbers(items: &[ReviewQueueItem]) -> Vec<String> {
    items.iter().map(|i| i.request.acceptance_no.clone().unwrap()).collect()
}

#[tokio::test]
async fn the_review_queue_pages_sorts_and_finds_by_number_phone_and_unit() {
    let app = spawn_app().await;
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    an_account(&app, "list-account", "13700000001", "天津某公司", 10).await;
    for n in 1..=7 {
        a_request(n, "list-account", request::Status::Submitted).insert(&app.state.db).await.unwrap();
    }
    // Decided and draft requests wait for nobody.
    a_request(8, "list-account", request::Status::Approved).insert(&app.state.db).await.unwrap();
    a_request(9, "list-account", request::Status::Draft).insert(&app.state.db).await.unwrap();

    // Oldest first, three to a page: 7 6 5 | 4 3 2 | 1.
    let p1: Page<ReviewQueueItem> =
        reviewer.ok::<endpoint::ReviewQueue>(&[], &QueueQuery { per_page: Some(3), ..Default::default() }).await;
    assert_eq!((p1.total, p1.pages(), p1.items.len()), (7, 3, 3));
    assert_eq!(numbers(&p1.items), ["SQ20261204000007", "SQ20261204000006", "SQ20261204000005"]);
    let p3: Page<ReviewQueueItem> = reviewer
        .ok::<endpoint::ReviewQueue>(&[], &QueueQuery { per_page: Some(3), page: Some(3), ..Default::default() })
        .await;
    assert_eq!((p3.page, numbers(&p3.items)), (3, vec!["SQ20261204000001".to_owned()]));
    let past: Page<ReviewQueueItem> = reviewer
        .ok::<endpoint::ReviewQueue>(&[], &QueueQuery { per_page: Some(3), page: Some(4), ..Default::default() })
        .await;
    assert_eq!((past.total, past.items.len()), (7, 0));
    // Newest first; and by acceptance number.
    let newest: Page<ReviewQueueItem> = reviewer
        .ok::<endpoint::ReviewQueue>(
            &[],
            &QueueQuery { sort: "-submitted_at".into(), per_page: Some(2), ..Default::default() },
        )
        .await;
    assert_eq!(numbers(&newest.items), ["SQ20261204000001", "SQ20261204000002"]);
    let by_no: Page<ReviewQueueItem> = reviewer
        .ok::<endpoint::ReviewQueue>(&[], &QueueQuery { sort: "-acceptance_no".into(), ..Default::default() })
        .await;
    assert_eq!(numbers(&by_no.items).first().map(String::as_str), Some("SQ20261204000007"));

    // Found by acceptance number (any case), unit, operator's phone, the account's phone.
    let found = |q: &str| QueueQuery { q: q.into(), ..Default::default() };
    let one: Page<ReviewQueueItem> = reviewer.ok::<endpoint::ReviewQueue>(&[], &found("sq20261204000004")).await;
    assert_eq!(numbers(&one.items), ["SQ20261204000004"]);
    let unit: Page<ReviewQueueItem> = reviewer.ok::<endpoint::ReviewQueue>(&[], &found("天津某公司")).await;
    assert_eq!(numbers(&unit.items), ["SQ20261204000006", "SQ20261204000003"]);
    let operator: Page<ReviewQueueItem> = reviewer.ok::<endpoint::ReviewQueue>(&[], &found("13900000005")).await;
    assert_eq!(numbers(&operator.items), ["SQ20261204000005"]);
    let account: Page<ReviewQueueItem> = reviewer.ok::<endpoint::ReviewQueue>(&[], &found("13700000001")).await;
    assert_eq!(account.total, 7);
    // Filters add up: 延期 of 天津某公司 is request 3 only.
    let renewals: Page<ReviewQueueItem> = reviewer
        .ok::<endpoint::ReviewQueue>(
            &[],
            &QueueQuery { kind: "renew".into(), q: "天津某公司".into(), ..Default::default() },
        )
        .await;
    assert_eq!(numbers(&renewals.items), ["SQ20261204000003"]);
    let none: Page<ReviewQueueItem> = reviewer.ok::<endpoint::ReviewQueue>(&[], &found("天津")).await;
    assert_eq!(none.total, 0, "whole names only");

    // What the list cannot do is refused by field, and nothing is listed.
    assert_eq!(
        refused(
            reviewer
                .send::<endpoint::ReviewQueue>(&[], &QueueQuery { sort: "price".into(), ..Default::default() })
                .await
        ),
        "sort"
    );
    assert_eq!(refused(reviewer.send::<endpoint::ReviewQueue>(&[], &found(&"天".repeat(101))).await), "q");
    assert_eq!(
        refused(
            reviewer
                .send::<endpoint::ReviewQueue>(&[], &QueueQuery { per_page: Some(201), ..Default::default() })
                .await
        ),
        "per_page"
    );
    assert_eq!(
        refused(reviewer.send::<endpoint::ReviewQueue>(&[], &QueueQuery { page: Some(0), ..Default::default() }).await),
        "page"
    );
    for c in QueueColumn::ALL {
        let sorted: Page<ReviewQueueItem> = reviewer
            .ok::<endpoint::ReviewQueue>(&[], &QueueQuery { sort: format!("-{}", c.as_str()), ..Default::default() })
            .await;
        assert_eq!(sorted.total, 7, "{c:?}");
    }
}

#[tokio::test]
async fn parcels_to_post_are_the_approved_requests_going_by_post_a_page_at_a_time() {
    let app = spawn_app().await;
    let (mut service, _) = staff_browser(&app, StaffRole::CustomerService).await;
    for n in 1..=5 {
        let by_post = n != 2;
        let shipped = n == 4;
        request::ActiveModel {
            ships_by_post: Set(by_post),
            tracking_no: Set(shipped.then(|| "SF100".to_owned())),
            ..a_request(n, "list-account", request::Status::Approved)
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    // Still in review: not yet a parcel.
    request::ActiveModel { ships_by_post: Set(true), ..a_request(6, "list-account", request::Status::Submitted) }
        .insert(&app.state.db)
        .await
        .unwrap();
    let ids = |p: &Page<RequestView>| p.items.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    // 1, 3, 5: approved longest ago first.
    let all: Page<RequestView> = service.ok::<endpoint::AwaitingShipment>(&[], &ShipmentQuery::default()).await;
    assert_eq!(ids(&all), ["list-005", "list-003", "list-001"]);
    let second: Page<RequestView> = service
        .ok::<endpoint::AwaitingShipment>(
            &[],
            &ShipmentQuery { per_page: Some(2), page: Some(2), ..Default::default() },
        )
        .await;
    assert_eq!((second.total, ids(&second)), (3, vec!["list-001".to_owned()]));
    let sort = ShipmentColumn::AcceptanceNo.as_str();
    let by_no: Page<RequestView> = service
        .ok::<endpoint::AwaitingShipment>(&[], &ShipmentQuery { sort: sort.to_string(), ..Default::default() })
        .await;
    assert_eq!(ids(&by_no), ["list-001", "list-003", "list-005"]);
    let found: Page<RequestView> = service
        .ok::<endpoint::AwaitingShipment>(&[], &ShipmentQuery { q: "SQ20261204000003".into(), ..Default::default() })
        .await;
    assert_eq!(ids(&found), ["list-003"]);
    // The side navigation's count is the list's total.
    let sections = service.ok::<endpoint::ListSections>(&[], &()).await;
    let shipping = sections.iter().find(|s| s.section == Section::Shipping).unwrap();
    assert_eq!(shipping.waiting, Some(3), "{sections:?}");
}

async fn an_invoice(app: &TestApp, n: usize, request_id: &str, title: &str, fen: i64, issued: bool) {
    invoice::ActiveModel {
        id: Set(format!("inv-{n:03}")),
        request_id: Set(request_id.into()),
        account_id: Set("list-account".into()),
        title: Set(title.into()),
        tax_number: Set(format!("91120000MA{n:08}")),
        address: Set("天津市和平区".into()),
        bank: Set("工商银行".into()),
        phone: Set("022-12345678".into()),
        bank_account: Set("0302".into()),
        email: Set("caiwu@example.cn".into()),
        amount_fen: Set(fen),
        status: Set(if issued { "issued" } else { "requested" }.into()),
        invoice_no: Set(issued.then(|| format!("FP{n:08}"))),
        pdf: Set(None),
        requested_at: Set(Utc::now() - Duration::minutes(n as i64)),
        issued_at: Set(None),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

/// The CSV finance downloads: its type, and its text without the byte order mark.
async fn csv<E: Endpoint>(b: &Browser<'_>, query: &E::Request) -> String
where
    E::Request: Serialize,
{
    let res = b.fetch::<E>(&[], query).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", E::NAME);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; ") && disposition.contains("filename*=UTF-8''"), "{disposition}");
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "Excel needs the byte order mark to read UTF-8");
    String::from_utf8(bytes[3..].to_vec()).unwrap()
}

#[tokio::test]
async fn invoices_page_sort_filter_and_export_every_matching_row() {
    let app = spawn_app().await;
    let (mut finance, _) = staff_browser(&app, StaffRole::Finance).await;
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    for n in 1..=2 {
        a_request(n, "list-account", request::Status::Approved).insert(&app.state.db).await.unwrap();
    }
    // 205 waiting (more than one page of the export), two issued.
    let rows: Vec<invoice::ActiveModel> = (1..=205)
        .map(|n| invoice::ActiveModel {
            id: Set(format!("bulk-{n:03}")),
            request_id: Set(format!("none-{n}")),
            account_id: Set("list-account".into()),
            title: Set(format!("=批量单位{n}")),
            tax_number: Set(format!("91110000BULK{n:05}")),
            address: Set(String::new()),
            bank: Set(String::new()),
            phone: Set(String::new()),
            bank_account: Set(String::new()),
            email: Set("bulk@example.cn".into()),
            amount_fen: Set(10_000 + n as i64),
            status: Set("requested".into()),
            invoice_no: Set(None),
            pdf: Set(None),
            requested_at: Set(Utc::now() - Duration::days(1) - Duration::minutes(n as i64)),
            issued_at: Set(None),
        })
        .collect();
    invoice::Entity::insert_many(rows).exec(&app.state.db).await.unwrap();
    an_invoice(&app, 1, "list-001", "天津某公司", 30_000, true).await;
    an_invoice(&app, 2, "list-002", "北京某公司", 20_000, true).await;

    let waiting: Page<InvoiceView> = finance
        .ok::<endpoint::InvoiceQueue>(
            &[],
            &InvoiceQuery { status: "requested".into(), per_page: Some(10), ..Default::default() },
        )
        .await;
    assert_eq!((waiting.total, waiting.pages(), waiting.items.len()), (205, 21, 10));
    assert_eq!(waiting.items[0].id, "bulk-205", "the longest waiting first");
    let issued: Page<InvoiceView> = finance
        .ok::<endpoint::InvoiceQueue>(&[], &InvoiceQuery { status: "issued".into(), ..Default::default() })
        .await;
    assert_eq!(issued.items.iter().map(|i| i.title.as_str()).collect::<Vec<_>>(), ["北京某公司", "天津某公司"]);
    let sort = InvoiceColumn::Amount.as_str();
    let dearest: Page<InvoiceView> = finance
        .ok::<endpoint::InvoiceQueue>(
            &[],
            &InvoiceQuery { sort: format!("-{sort}"), per_page: Some(1), ..Default::default() },
        )
        .await;
    assert_eq!((dearest.total, dearest.items[0].amount_fen), (207, 30_000));
    // By unit (the title), tax number, invoice number and the request's acceptance number.
    for q in ["天津某公司", "91120000MA00000001", "FP00000001"] {
        let found: Page<InvoiceView> =
            finance.ok::<endpoint::InvoiceQueue>(&[], &InvoiceQuery { q: q.to_string(), ..Default::default() }).await;
        assert_eq!(found.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["inv-001"], "{q}");
    }
    let by_no: Page<InvoiceView> = finance
        .ok::<endpoint::InvoiceQueue>(&[], &InvoiceQuery { q: "SQ20261204000001".into(), ..Default::default() })
        .await;
    assert_eq!((by_no.total, by_no.items[0].id.as_str()), (1, "inv-001"));
    assert_eq!(
        refused(
            finance
                .send::<endpoint::InvoiceQueue>(&[], &InvoiceQuery { status: "lost".into(), ..Default::default() })
                .await
        ),
        "status"
    );
    // Only finance (and administrators) export.
    let (mut service, _) = staff_browser(&app, StaffRole::CustomerService).await;
    let month = MonthQuery { month: "2026-11".into() };
    for b in [&mut reviewer, &mut service] {
        assert_eq!(b.send::<endpoint::InvoiceCsv>(&[], &InvoiceQuery::default()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(b.send::<endpoint::TransferCsv>(&[], &TransferQuery::default()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(b.send::<endpoint::StatementCsv>(&[], &month).await.0, StatusCode::FORBIDDEN);
    }

    // The export: every waiting invoice (two pages of the export), as the list orders them.
    let text =
        csv::<endpoint::InvoiceCsv>(&finance, &InvoiceQuery { status: "requested".into(), ..Default::default() }).await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 205, "{}", &text[..200]);
    assert!(lines[0].starts_with("受理号,业务类型,发票抬头,税号,金额 (元)"), "{}", lines[0]);
    assert!(lines[1].contains(",'=批量单位205,"), "a formula stays text: {}", lines[1]);
    assert!(lines[205].contains("'=批量单位1,") && lines[205].contains(",100.01,"), "{}", lines[205]);
    let one =
        csv::<endpoint::InvoiceCsv>(&finance, &InvoiceQuery { q: "天津某公司".into(), ..Default::default() }).await;
    assert_eq!(one.lines().count(), 2, "{one}");
    assert!(one.contains("SQ20261204000001,证书延期,天津某公司,91120000MA00000001,300,已开票,"), "{one}");
    assert_eq!(
        refused(
            finance
                .send::<endpoint::InvoiceCsv>(&[], &InvoiceQuery { sort: "nonsense".into(), ..Default::default() })
                .await
        ),
        "sort"
    );
}

#[tokio::test]
async fn transfers_page_find_and_export() {
    let app = spawn_app().await;
    let (mut finance, _) = staff_browser(&app, StaffRole::Finance).await;
    for n in 1..=4 {
        a_request(n, "list-account", request::Status::Submitted).insert(&app.state.db).await.unwrap();
        payment_order::ActiveModel {
            out_trade_no: Set(format!("TR{n:04}")),
            request_id: Set(format!("list-{n:03}")),
            provider: Set("bank_transfer".into()),
            amount_fen: Set(n as i64 * 1_000),
            code_url: Set(String::new()),
            status: Set(if n == 4 { "paid" } else { "not_paid" }.into()),
            transaction_id: Set(None),
            created_at: Set(Utc::now() - Duration::hours(n as i64)),
            expires_at: Set(Utc::now() + Duration::days(30)),
            paid_at: Set(None),
            queried_at: NotSet,
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    let nos = |p: &Page<PendingTransfer>| p.items.iter().map(|t| t.out_trade_no.clone()).collect::<Vec<_>>();
    let all: Page<PendingTransfer> = finance.ok::<endpoint::PendingTransfers>(&[], &TransferQuery::default()).await;
    assert_eq!(nos(&all), ["TR0003", "TR0002", "TR0001"], "confirmed transfers wait no more");
    assert_eq!(all.items[0].acceptance_no.as_deref(), Some("SQ20261204000003"));
    assert_eq!(all.items[0].payer.as_deref(), Some("天津某公司"));
    let cheapest: Page<PendingTransfer> = finance
        .ok::<endpoint::PendingTransfers>(
            &[],
            &TransferQuery { sort: "amount".into(), per_page: Some(1), page: Some(2), ..Default::default() },
        )
        .await;
    assert_eq!((cheapest.total, nos(&cheapest)), (3, vec!["TR0002".to_owned()]));
    for q in ["TR0002", "SQ20261204000002", "13900000002", "单位2"] {
        let found: Page<PendingTransfer> = finance
            .ok::<endpoint::PendingTransfers>(&[], &TransferQuery { q: q.to_string(), ..Default::default() })
            .await;
        assert_eq!(nos(&found), ["TR0002"], "{q}");
    }
    let text =
        csv::<endpoint::TransferCsv>(&finance, &TransferQuery { q: "天津某公司".into(), ..Default::default() }).await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "商户订单号,受理号,付款单位,金额 (元),凭证上传时间 (UTC),凭证文件");
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].starts_with("TR0003,SQ20261204000003,天津某公司,30,"), "{text}");
}

#[tokio::test]
async fn staff_and_customers_page_and_find() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut service, _) = staff_browser(&app, StaffRole::CustomerService).await;
    for _ in 0..3 {
        staff_browser(&app, StaffRole::Finance).await;
    }
    let members: Page<StaffMember> =
        admin.ok::<endpoint::ListStaff>(&[], &StaffQuery { per_page: Some(2), ..Default::default() }).await;
    assert_eq!((members.total, members.items.len()), (5, 2));
    let finance: Page<StaffMember> =
        admin.ok::<endpoint::ListStaff>(&[], &StaffQuery { role: "finance".into(), ..Default::default() }).await;
    assert_eq!(finance.total, 3);
    assert!(finance.items.iter().all(|m| m.role == Some(StaffRole::Finance)));
    let name = finance.items[1].username.clone();
    let found: Page<StaffMember> =
        admin.ok::<endpoint::ListStaff>(&[], &StaffQuery { q: name.clone(), ..Default::default() }).await;
    assert_eq!(found.items.iter().map(|m| m.username.clone()).collect::<Vec<_>>(), [name]);
    let by_name: Page<StaffMember> = admin
        .ok::<endpoint::ListStaff>(
            &[],
            &StaffQuery { sort: "-username".into(), per_page: Some(200), ..Default::default() },
        )
        .await;
    let names: Vec<String> = by_name.items.iter().map(|m| m.username.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted);
    assert_eq!(
        refused(
            admin.send::<endpoint::ListStaff>(&[], &StaffQuery { role: "boss".into(), ..Default::default() }).await
        ),
        "role"
    );

    // Three accounts of one unit: the newest first, a page at a time.
    for (n, days) in [(1, 30), (2, 10), (3, 20)] {
        an_account(&app, &format!("cust-{n}"), &format!("1370000000{n}"), "天津某公司", days).await;
    }
    let first: Page<CustomerSummary> = service
        .ok::<endpoint::SearchCustomers>(
            &[],
            &CustomerQuery { q: "天津某公司".into(), per_page: Some(2), ..Default::default() },
        )
        .await;
    assert_eq!((first.total, first.pages()), (3, 2));
    assert_eq!(first.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["cust-2", "cust-3"]);
    let last: Page<CustomerSummary> = service
        .ok::<endpoint::SearchCustomers>(
            &[],
            &CustomerQuery { q: "天津某公司".into(), per_page: Some(2), page: Some(2), ..Default::default() },
        )
        .await;
    assert_eq!(last.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["cust-1"]);
    let by_phone: Page<CustomerSummary> = service
        .ok::<endpoint::SearchCustomers>(
            &[],
            &CustomerQuery { q: "天津某公司".into(), sort: "mobile".into(), ..Default::default() },
        )
        .await;
    assert_eq!(by_phone.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["cust-1", "cust-2", "cust-3"]);
}

#[tokio::test]
async fn a_request_is_found_by_the_serial_of_its_certificate() {
    let app = spawn_app().await;
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let (mut service, _) = staff_browser(&app, StaffRole::CustomerService).await;
    an_account(&app, "list-account", "13700000001", "天津某公司", 10).await;
    certificate::ActiveModel {
        id: NotSet,
        uid: Set("cert-uid-1".into()),
        ca_id: Set(1),
        serial: Set("0a1b2c3d4e5f60718293a4b5c6d7e8f9".into()),
        profile: Set("org_sign".into()),
        subject: Set("天津某公司".into()),
        not_before: Set(Utc::now() - Duration::days(300)),
        not_after: Set(Utc::now() + Duration::days(60)),
        der: Set(vec![0]),
        status: Set("valid".into()),
        revoked_at: Set(None),
        reason: Set(None),
        invalidity_date: Set(None),
        crl_entry: Set(None),
        created_at: Set(Utc::now()),
        email: Set(None),
        medium_no: Set(None),
        frozen_by: Set(None),
        crl_shard: Set(None),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    // A renewal of that certificate, and an unrelated request.
    request::ActiveModel {
        from_certificate_uid: Set(Some("cert-uid-1".into())),
        ..a_request(1, "list-account", request::Status::Submitted)
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    a_request(2, "list-account", request::Status::Submitted).insert(&app.state.db).await.unwrap();
    // As a CA's staff read a serial off a certificate: upper case, bytes separated by colons.
    let serial = "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9";
    let found: Page<ReviewQueueItem> =
        reviewer.ok::<endpoint::ReviewQueue>(&[], &QueueQuery { q: serial.to_string(), ..Default::default() }).await;
    assert_eq!(numbers(&found.items), ["SQ20261204000001"]);
    let customers: Page<CustomerSummary> = service
        .ok::<endpoint::SearchCustomers>(&[], &CustomerQuery { q: serial.to_string(), ..Default::default() })
        .await;
    assert_eq!(customers.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["list-account"]);
    let other: Page<ReviewQueueItem> = reviewer
        .ok::<endpoint::ReviewQueue>(&[], &QueueQuery { q: "0a1b2c3d4e5f6071".into(), ..Default::default() })
        .await;
    assert_eq!(other.total, 0, "a whole serial only");
}

#[tokio::test]
async fn a_months_statement_exports_as_csv_with_its_total() {
    let app = spawn_app().await;
    let (mut finance, _) = staff_browser(&app, StaffRole::Finance).await;
    // Approved in this month (Beijing time), billed by settlement.
    let month = (Utc::now() + Duration::hours(8)).format("%Y-%m").to_string();
    an_account(&app, "list-account", "13700000001", "天津某公司", 10).await;
    for (n, fen) in [(1, 30_000), (2, 12_345)] {
        request::ActiveModel {
            billing_mode: Set("settlement".into()),
            price_fen: Set(Some(fen)),
            decided_at: Set(Some(Utc::now() - Duration::minutes(n as i64))),
            ..a_request(n, "list-account", request::Status::Approved)
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    let text = csv::<endpoint::StatementCsv>(&finance, &MonthQuery { month: month.clone() }).await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "账号,单位名称,受理号,证书类型,金额 (元),审核通过时间 (北京时间)");
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].starts_with("13700000001,,SQ20261204000002,,123.45,"), "{text}");
    assert_eq!(lines[3], "合计,,,,423.45,");
    assert_eq!(
        refused(finance.send::<endpoint::StatementCsv>(&[], &MonthQuery { month: "2026-13".into() }).await),
        "month"
    );
    assert_eq!(refused(finance.send_json::<endpoint::StatementCsv>(&[], json!({})).await), "month");
    // Who exported what is in the audit trail.
    let exported = certdesk::entity::audit_event::Entity::find().all(&app.state.db).await.unwrap();
    let exported: Vec<_> = exported.iter().filter(|e| e.action == "statement_exported").collect();
    assert_eq!(exported.len(), 1);
    assert!(exported[0].detail.contains(&month), "{}", exported[0].detail);
}

#[tokio::test]
async fn a_reviewer_with_a_phone_sees_every_waiting_request_but_those_made_with_it() {
    let app = spawn_app().await;
    let (mut reviewer, reviewer_id) = staff_browser(&app, StaffRole::Reviewer).await;
    let own = "13911112222";
    certdesk::entity::staff::ActiveModel { id: Set(reviewer_id), mobile: Set(Some(own.into())), ..Default::default() }
        .update(&app.state.db)
        .await
        .unwrap();
    an_account(&app, "list-account", "13700000001", "天津某公司", 10).await;
    an_account(&app, "own-account", own, "自己的公司", 10).await;
    // 1: no operator's phone at all; 2: the reviewer's phone as the operator's; 3: made by
    // the account registered with the reviewer's phone; 4: someone else's.
    let requests = [
        request::ActiveModel { operator_mobile: Set(None), ..a_request(1, "list-account", request::Status::Submitted) },
        request::ActiveModel {
            operator_mobile: Set(Some(own.into())),
            ..a_request(2, "list-account", request::Status::Submitted)
        },
        a_request(3, "own-account", request::Status::Submitted),
        a_request(4, "list-account", request::Status::Resubmitted),
    ];
    for r in requests {
        r.insert(&app.state.db).await.unwrap();
    }
    let queue: Page<ReviewQueueItem> = reviewer
        .ok::<endpoint::ReviewQueue>(&[], &QueueQuery { sort: "acceptance_no".into(), ..Default::default() })
        .await;
    assert_eq!(numbers(&queue.items), ["SQ20261204000001", "SQ20261204000004"]);
    assert_eq!(queue.total, 2);
    let sections = reviewer.ok::<endpoint::ListSections>(&[], &()).await;
    let review = sections.iter().find(|s| s.section == Section::Review).unwrap();
    assert_eq!(review.waiting, Some(2), "{sections:?}");
    // Sorted by kind: 新办 (apply) before 延期 (renew), whatever the age.
    let by_kind: Page<ReviewQueueItem> =
        reviewer.ok::<endpoint::ReviewQueue>(&[], &QueueQuery { sort: "kind".into(), ..Default::default() }).await;
    assert_eq!(numbers(&by_kind.items), ["SQ20261204000004", "SQ20261204000001"]);
    let resubmitted: Page<ReviewQueueItem> = reviewer
        .ok::<endpoint::ReviewQueue>(&[], &QueueQuery { status: "resubmitted".into(), ..Default::default() })
        .await;
    assert_eq!(numbers(&resubmitted.items), ["SQ20261204000004"]);
    assert_eq!(
        refused(
            reviewer
                .send::<endpoint::ReviewQueue>(&[], &QueueQuery { role: "finance".into(), ..Default::default() })
                .await
        ),
        "role"
    );
}
