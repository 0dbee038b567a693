//! The staff console (issue 21): the side navigation's sections per role with what waits in
//! each, and the audit trail paged, filtered and exported as CSV.

use certdesk_shared::admin::{
    AuditEntry, AuditQuery, CustomerFile, CustomerQuery, CustomerSummary, DownloadCodeSent, NewRequestNote, Page,
    QueueQuery, Section, SectionEntry, StaffRole,
};
use certdesk_shared::apply::DownloadQuery;
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::request::RequestView;
use certdesk_shared::{ErrorCode, ValidationError};
use reqwest::StatusCode;

use crate::helpers::browser::{Browser, api_error, decode, first_field, registered, staff_browser};
use crate::helpers::issuing::{approve, complete_draft};
use crate::helpers::spawn_app;

async fn sections(b: &mut Browser<'_>) -> Vec<SectionEntry> {
    let (status, v) = b.send::<endpoint::ListSections>(&[], &()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    decode(&v)
}

fn waiting(list: &[SectionEntry], section: Section) -> Option<u64> {
    list.iter().find(|e| e.section == section).and_then(|e| e.waiting)
}

#[tokio::test]
async fn each_role_sees_its_sections_and_the_counts_follow_the_queues() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    for role in StaffRole::ALL {
        let (mut b, _) = staff_browser(&app, role).await;
        let got: Vec<Section> = sections(&mut b).await.iter().map(|e| e.section).collect();
        assert_eq!(got, role.sections().collect::<Vec<_>>(), "{role:?}");
    }
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let list = sections(&mut reviewer).await;
    assert_eq!(waiting(&list, Section::Review), Some(0));
    assert_eq!(waiting(&list, Section::Revocations), Some(0));

    // Two submitted requests wait for review; the count is the queue's length.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (mut b, id, _) = complete_draft(&app, &mut admin, true).await;
        let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        ids.push(id);
    }
    let queue = reviewer.ok::<endpoint::ReviewQueue>(&[], &QueueQuery::default()).await;
    assert_eq!((queue.items.len(), queue.total), (2, 2));
    assert_eq!(waiting(&sections(&mut reviewer).await, Section::Review), Some(2));
    assert_eq!(waiting(&sections(&mut admin).await, Section::Review), Some(2));
    // Sections that are no queue carry no count.
    assert_eq!(waiting(&sections(&mut admin).await, Section::Audit), None);

    let (s, v) = reviewer.send::<endpoint::Review>(&[&ids[0]], &approve()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(waiting(&sections(&mut reviewer).await, Section::Review), Some(1));

    // Not staff: no navigation.
    let (mut customer, _) = registered(&app).await;
    assert_eq!(customer.send::<endpoint::ListSections>(&[], &()).await.0, StatusCode::UNAUTHORIZED);
}

async fn audit_page(b: &mut Browser<'_>, query: AuditQuery) -> Page<AuditEntry> {
    b.ok::<endpoint::AuditTrail>(&[], &query).await
}

async fn csv(b: &Browser<'_>, query: AuditQuery) -> (String, String) {
    let res = b
        .prepare::<endpoint::AuditCsv>(&[], &query)
        // As a browser asks: the body then goes through the compression layer.
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let bytes = res.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes.as_ref()), &mut text).unwrap();
    (kind, text)
}

#[tokio::test]
async fn the_audit_trail_pages_filters_and_exports_what_it_shows() {
    let app = spawn_app().await;
    let (mut admin, admin_id) = staff_browser(&app, StaffRole::Administrator).await;
    let mut phones = Vec::new();
    for _ in 0..3 {
        phones.push(registered(&app).await.1);
    }

    // Pages: newest first, no row twice, the total the same on each page.
    let all = audit_page(&mut admin, AuditQuery { per_page: Some(200), ..Default::default() }).await;
    assert!(all.total >= 9 && all.total as usize == all.items.len(), "{}", all.total);
    assert!(all.items.windows(2).all(|w| w[0].seq > w[1].seq));
    let first = audit_page(&mut admin, AuditQuery { per_page: Some(4), ..Default::default() }).await;
    let second = audit_page(&mut admin, AuditQuery { per_page: Some(4), page: Some(2), ..Default::default() }).await;
    assert_eq!((first.total, second.total, first.pages()), (all.total, all.total, all.total.div_ceil(4)));
    assert_eq!(first.items, all.items[..4]);
    assert_eq!(second.items, all.items[4..8]);
    let past =
        audit_page(&mut admin, AuditQuery { per_page: Some(4), page: Some(first.pages() + 1), ..Default::default() })
            .await;
    assert!(past.items.is_empty());

    // Filters: by action, by object, by actor, by day.
    let registered_ = audit_page(&mut admin, AuditQuery { action: "registered".into(), ..Default::default() }).await;
    assert_eq!(registered_.total, 3);
    assert!(registered_.items.iter().all(|e| e.action == "registered"));
    let one = audit_page(&mut admin, AuditQuery { subject: phones[1].clone(), ..Default::default() }).await;
    assert!(one.total >= 1 && one.items.iter().all(|e| e.subject == phones[1]), "{one:?}");
    let by_actor =
        audit_page(&mut admin, AuditQuery { actor: registered_.items[0].actor.clone(), ..Default::default() }).await;
    assert!(by_actor.total >= 1 && by_actor.items.iter().all(|e| e.actor == registered_.items[0].actor));
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    assert_eq!(audit_page(&mut admin, AuditQuery { to: yesterday.to_string(), ..Default::default() }).await.total, 0);
    assert_eq!(
        audit_page(&mut admin, AuditQuery { from: today.to_string(), to: today.to_string(), ..Default::default() })
            .await
            .total,
        all.total
    );

    // A filter that is not one is refused by field, in the user's words.
    let (s, v) = admin
        .send::<endpoint::AuditTrail>(
            &[],
            &AuditQuery { from: "2026-13-01".into(), per_page: Some(500), ..Default::default() },
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<(String, ValidationError)> = api_error(&v).fields.into_iter().map(|f| (f.field, f.error)).collect();
    assert_eq!(
        fields,
        [("from".to_owned(), ValidationError::DateFormat), ("per_page".to_owned(), ValidationError::OutOfRange)]
    );
    let (s, v) =
        admin.send::<endpoint::AuditTrail>(&[], &AuditQuery { page: Some(99999999999999), ..Default::default() }).await;
    assert_eq!((s, first_field(&v).map(|f| f.0).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("page")), "{v}");

    // CSV: every matching row (not one page), UTF-8 with a BOM, the Chinese header intact.
    let (kind, text) =
        csv(&admin, AuditQuery { action: "registered".into(), per_page: Some(1), ..Default::default() }).await;
    assert_eq!(kind, "text/csv; charset=utf-8");
    let body = text.strip_prefix('\u{feff}').expect("a byte order mark for Excel");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "序号,时间 (UTC),操作人,操作,对象,地址,详情");
    assert_eq!(lines.len(), 4, "{body}");
    for (line, e) in lines[1..].iter().zip(&registered_.items) {
        assert!(line.starts_with(&format!("{},", e.seq)) && line.contains(",registered,"), "{line}");
    }
    // A formula someone typed (here into 客服's search, kept in the trail as its object) is
    // exported as text, not as a formula a spreadsheet would run.
    let (mut service, _) = staff_browser(&app, StaffRole::CustomerService).await;
    assert_eq!(
        service
            .send::<endpoint::SearchCustomers>(&[], &CustomerQuery { q: "=HYPERLINK(1)".into(), ..Default::default() })
            .await
            .0,
        StatusCode::OK
    );
    let (_, text) = csv(&admin, AuditQuery { action: "customer_searched".into(), ..Default::default() }).await;
    assert!(text.contains(",'=HYPERLINK(1),") && !text.contains(",=HYPERLINK"), "{text}");

    // Only roles that read the trail may export it.
    let (reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let refused = app
        .client
        .get(app.url(&endpoint::AuditCsv::path(&[])))
        .header("cookie", reviewer.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // The export is in the trail, with the filters it used.
    let exported = audit_page(&mut admin, AuditQuery { action: "audit_exported".into(), ..Default::default() }).await;
    assert_eq!(exported.total, 2);
    assert!(exported.items.iter().all(|e| e.actor == format!("staff:{admin_id}")));
    assert_eq!(exported.items[1].detail["action"], "registered");
    assert_eq!(exported.items[0].detail["action"], "customer_searched");
}

fn auth_code_in(body: &str) -> String {
    let at = body.find("下载授权码：").unwrap() + "下载授权码：".len();
    body[at..].chars().take(8).collect()
}

#[tokio::test]
async fn customer_service_finds_a_customer_reads_their_file_without_codes_and_sends_a_new_download_code() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut service, service_id) = staff_browser(&app, StaffRole::CustomerService).await;
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, true).await;
    let (_, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");
    let (s, v) = admin.send::<endpoint::Review>(&[&id], &approve()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let first_code = auth_code_in(&crate::helpers::browser::last_sms(&app, &mobile).await.unwrap().body);

    // Found by the phone, the acceptance number and the unit's whole name; wildcards refused.
    for q in [mobile.as_str(), acceptance.as_str(), &acceptance.to_lowercase(), "天津市滨海数字认证有限公司"]
    {
        let (s, v) = service
            .send::<endpoint::SearchCustomers>(&[], &CustomerQuery { q: q.to_string(), ..Default::default() })
            .await;
        assert_eq!(s, StatusCode::OK, "{q}: {v}");
        let found: Page<CustomerSummary> = decode(&v);
        assert_eq!(found.items.iter().map(|c| c.mobile.as_str()).collect::<Vec<_>>(), [mobile.as_str()], "{q}");
    }
    let (s, v) = service
        .send::<endpoint::SearchCustomers>(&[], &CustomerQuery { q: "天津%".into(), ..Default::default() })
        .await;
    let error = first_field(&v).map(|f| f.1);
    assert_eq!((s, error), (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::Wildcard)), "{v}");
    let found =
        service.ok::<endpoint::SearchCustomers>(&[], &CustomerQuery { q: mobile.clone(), ..Default::default() }).await;
    let account = found.items[0].id.clone();

    // The file: the request, and the messages with every code masked (the registration code,
    // the live download code).
    let (s, v) = service.send::<endpoint::GetCustomerFile>(&[&account], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let file: CustomerFile = decode(&v);
    assert_eq!(file.requests.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    let approved = file.messages.iter().find(|m| m.template == "SMS_CD_APPROVED").expect("the approval SMS");
    assert!(approved.body.contains("下载授权码：******") && approved.body.contains(&acceptance), "{}", approved.body);
    let text = serde_json::to_string(&file).unwrap();
    assert!(!text.contains(&first_code), "the live code never reaches staff");
    let register = file.messages.iter().find(|m| m.template == "SMS_CD_REGISTER").expect("the registration SMS");
    assert!(register.body.contains("验证码：******"), "{}", register.body);

    // A new download code: to the operator's phone, never to staff; the old one stops working.
    let (s, v) = service.send::<endpoint::ResendDownloadCode>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<DownloadCodeSent>(&v).sent_to, certdesk_shared::account::mask_middle(&mobile));
    let second_code = auth_code_in(&crate::helpers::browser::last_sms(&app, &mobile).await.unwrap().body);
    assert_ne!(second_code, first_code);
    let mut anyone = Browser::new(&app);
    let ask = |code: &str| DownloadQuery { acceptance_no: acceptance.clone(), auth_code: code.to_owned() };
    let (s, v) = anyone.send::<endpoint::GetDownloadInfo>(&[], &ask(&first_code)).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::AuthCodeInvalid));
    let (s, v) = anyone.send::<endpoint::GetDownloadInfo>(&[], &ask(&second_code)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Three an hour per request.
    for _ in 0..2 {
        assert_eq!(service.send::<endpoint::ResendDownloadCode>(&[&id], &()).await.0, StatusCode::OK);
    }
    let (s, v) = service.send::<endpoint::ResendDownloadCode>(&[&id], &()).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited));
    // Only for an approved 新办 waiting for its download.
    let (_, draft, _) = complete_draft(&app, &mut admin, true).await;
    let (s, v) = service.send::<endpoint::ResendDownloadCode>(&[&draft], &()).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::CONFLICT, ErrorCode::NotEditable), "{v}");

    // A note on the request, kept in the file with its author; an empty one is refused.
    let note = |text: &str| NewRequestNote { text: text.to_owned() };
    let (s, v) = service.send::<endpoint::AddRequestNote>(&[&id], &note("  ")).await;
    let error = first_field(&v).map(|f| f.1);
    assert_eq!((s, error), (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::Required)));
    let (s, v) = service.send::<endpoint::AddRequestNote>(&[&id], &note("客户来电：UKey 未收到，已重发授权码")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let file = service.ok::<endpoint::GetCustomerFile>(&[&account], &()).await;
    let first = file.notes.first().expect("a note");
    assert_eq!(first.text, "客户来电：UKey 未收到，已重发授权码");
    assert_eq!((first.author.as_str(), first.acceptance_no.as_deref()), ("测试员工", Some(acceptance.as_str())));

    // Every look-up and change is in the audit trail, with who did it.
    let trail = audit_page(
        &mut admin,
        AuditQuery { actor: format!("staff:{service_id}"), per_page: Some(200), ..Default::default() },
    )
    .await;
    let actions: Vec<&str> = trail.items.iter().map(|e| e.action.as_str()).collect();
    for a in ["customer_searched", "customer_viewed", "download_code_resent", "request_noted"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(trail.items.iter().any(|e| e.action == "customer_viewed" && e.subject == mobile));
    assert!(!serde_json::to_string(&trail).unwrap().contains(&second_code));

    // Roles without 客服 reach none of it.
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    assert_eq!(
        reviewer
            .send::<endpoint::SearchCustomers>(&[], &CustomerQuery { q: mobile.clone(), ..Default::default() })
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(reviewer.send::<endpoint::GetCustomerFile>(&[&account], &()).await.0, StatusCode::FORBIDDEN);
    let (s, _) = reviewer.send::<endpoint::AddRequestNote>(&[&id], &note("x")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
