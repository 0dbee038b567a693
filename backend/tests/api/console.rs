//! The staff console (issue 21): the side navigation's sections per role with what waits in
//! each, and the audit trail paged, filtered and exported as CSV.

use certdesk_shared::admin::{AuditEntry, Page, Section, SectionEntry, StaffRole};
use reqwest::StatusCode;
use serde_json::json;

use crate::accounts::{Browser, registered, staff_browser};
use crate::apply::complete_draft;
use crate::helpers::{TestApp, spawn_app};

async fn sections(b: &mut Browser<'_>) -> Vec<SectionEntry> {
    let (status, v) = b.get("/api/admin/sections").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    serde_json::from_value(v).unwrap()
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
        let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        ids.push(id);
    }
    let (_, queue) = reviewer.get("/api/admin/applications").await;
    assert_eq!(queue.as_array().unwrap().len(), 2);
    assert_eq!(waiting(&sections(&mut reviewer).await, Section::Review), Some(2));
    assert_eq!(waiting(&sections(&mut admin).await, Section::Review), Some(2));
    // Sections that are no queue carry no count.
    assert_eq!(waiting(&sections(&mut admin).await, Section::Audit), None);

    let (s, v) = reviewer.post(&format!("/api/admin/applications/{}/review", ids[0]), json!({ "approve": true })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(waiting(&sections(&mut reviewer).await, Section::Review), Some(1));

    // Not staff: no navigation.
    let (mut customer, _) = registered(&app).await;
    assert_eq!(customer.get("/api/admin/sections").await.0, StatusCode::UNAUTHORIZED);
}

async fn audit_page(b: &mut Browser<'_>, query: &str) -> Page<AuditEntry> {
    let (status, v) = b.get(&format!("/api/admin/audit{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {v}");
    serde_json::from_value(v).unwrap()
}

async fn csv(app: &TestApp, b: &Browser<'_>, query: &str) -> (String, String) {
    let res = app
        .client
        .get(app.url(&format!("/api/admin/audit.csv{query}")))
        .header("cookie", b.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    let bytes = res.bytes().await.unwrap();
    (kind, String::from_utf8(bytes.to_vec()).unwrap())
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
    let all = audit_page(&mut admin, "?per_page=200").await;
    assert!(all.total >= 9 && all.total as usize == all.items.len(), "{}", all.total);
    assert!(all.items.windows(2).all(|w| w[0].seq > w[1].seq));
    let first = audit_page(&mut admin, "?per_page=4").await;
    let second = audit_page(&mut admin, "?per_page=4&page=2").await;
    assert_eq!((first.total, second.total, first.pages()), (all.total, all.total, all.total.div_ceil(4)));
    assert_eq!(first.items, all.items[..4]);
    assert_eq!(second.items, all.items[4..8]);
    let past = audit_page(&mut admin, &format!("?per_page=4&page={}", first.pages() + 1)).await;
    assert!(past.items.is_empty());

    // Filters: by action, by object, by actor, by day.
    let registered_ = audit_page(&mut admin, "?action=registered").await;
    assert_eq!(registered_.total, 3);
    assert!(registered_.items.iter().all(|e| e.action == "registered"));
    let one = audit_page(&mut admin, &format!("?subject={}", phones[1])).await;
    assert!(one.total >= 1 && one.items.iter().all(|e| e.subject == phones[1]), "{one:?}");
    let by_actor = audit_page(&mut admin, &format!("?actor={}", registered_.items[0].actor)).await;
    assert!(by_actor.total >= 1 && by_actor.items.iter().all(|e| e.actor == registered_.items[0].actor));
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    assert_eq!(audit_page(&mut admin, &format!("?to={yesterday}")).await.total, 0);
    assert_eq!(audit_page(&mut admin, &format!("?from={today}&to={today}")).await.total, all.total);

    // A filter that is not one is refused by field, in the user's words.
    let (s, v) = admin.get("/api/admin/audit?from=2026-13-01&per_page=500").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<(&str, &str)> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["error"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, [("from", "date_format"), ("per_page", "out_of_range")]);

    // CSV: every matching row (not one page), UTF-8 with a BOM, the Chinese header intact.
    let (kind, text) = csv(&app, &admin, "?action=registered&per_page=1").await;
    assert_eq!(kind, "text/csv; charset=utf-8");
    let body = text.strip_prefix('\u{feff}').expect("a byte order mark for Excel");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "序号,时间 (UTC),操作人,操作,对象,地址,详情");
    assert_eq!(lines.len(), 4, "{body}");
    for (line, e) in lines[1..].iter().zip(&registered_.items) {
        assert!(line.starts_with(&format!("{},", e.seq)) && line.contains(",registered,"), "{line}");
    }
    // Only roles that read the trail may export it.
    let (reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let refused = app
        .client
        .get(app.url("/api/admin/audit.csv"))
        .header("cookie", reviewer.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // The export is in the trail, with the filters it used.
    let exported = audit_page(&mut admin, "?action=audit_exported").await;
    assert_eq!(exported.total, 1);
    assert_eq!(exported.items[0].actor, format!("staff:{admin_id}"));
    assert_eq!(exported.items[0].detail["action"], "registered");
}
