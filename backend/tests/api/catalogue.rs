//! The catalogue kept by administrators: projects, certificate types with their profile,
//! media and documents, validity periods and prices; what customers are offered; and what a
//! change means for drafts.

use certdesk_shared::admin::StaffRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::browser::{registered, staff_browser};
use crate::helpers::issuing::complete_draft;
use crate::helpers::spawn_app;

fn project<'v>(catalogue: &'v Value, name: &str) -> Option<&'v Value> {
    catalogue["projects"].as_array().unwrap().iter().find(|p| p["name"] == name)
}

#[tokio::test]
async fn administrators_keep_the_prices_and_drafts_keep_the_price_they_chose() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, true).await;
    let (s, v) =
        admin.call(Method::PUT, "/api/admin/catalogue/validity/org-1y", Some(json!({ "price_fen": 36000 }))).await;
    assert_eq!((s, v["price_fen"].as_i64()), (StatusCode::OK, Some(36000)), "{v}");
    let (s, v) = admin.call(Method::PUT, "/api/admin/catalogue/validity/org-1y", Some(json!({ "price_fen": 0 }))).await;
    assert_eq!((s, v["fields"][0]["error"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("out_of_range")));
    let (s, v) =
        admin.post("/api/admin/catalogue/types/org/validity", json!({ "years": 5, "price_fen": 120000 })).await;
    assert_eq!((s, v["id"].as_str()), (StatusCode::OK, Some("org-5y")), "{v}");
    assert_eq!(
        admin.post("/api/admin/catalogue/types/org/validity", json!({ "years": 5, "price_fen": 1 })).await.0,
        StatusCode::CONFLICT
    );
    let (_, v) = admin.post("/api/admin/catalogue/types/org/validity", json!({ "years": 9, "price_fen": 1 })).await;
    assert_eq!(v["fields"][0]["field"], "years");
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    assert_eq!(
        reviewer.call(Method::PUT, "/api/admin/catalogue/validity/org-1y", Some(json!({ "price_fen": 1 }))).await.0,
        StatusCode::FORBIDDEN
    );

    // The customer's catalogue shows the new price and the new period; the draft keeps 300.
    let (_, catalogue) = b.get("/api/catalogue").await;
    let org = &catalogue["projects"][0]["types"][0];
    assert_eq!(org["validity"][0]["price_fen"], 36000);
    assert!(org["validity"].as_array().unwrap().iter().any(|v| v["years"] == 5));
    let (_, draft) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!(draft["price_fen"], 30000);
    let trail = certdesk::domain::audit::recent(&app.state.db, 20).await.unwrap();
    assert!(trail.iter().any(|e| e.action == "price_changed" && e.subject == "org-1y"));
}

#[tokio::test]
async fn administrators_add_projects_and_types_which_customers_see_once_on_sale() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, _) = registered(&app).await;

    // Bad input changes nothing.
    let (s, v) = admin.post("/api/admin/catalogue/projects", json!({ "name": "  " })).await;
    assert_eq!((s, v["fields"][0]["error"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("required")), "{v}");
    let (s, v) = admin.post("/api/admin/catalogue/projects", json!({ "name": "项".repeat(31) })).await;
    assert_eq!((s, v["fields"][0]["error"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name_length")), "{v}");
    assert_eq!(
        admin.post("/api/admin/catalogue/projects", json!({ "name": "RA测试专用" })).await.0,
        StatusCode::CONFLICT
    );
    let (_, all) = admin.get("/api/admin/catalogue").await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");

    let (s, p) = admin.post("/api/admin/catalogue/projects", json!({ "name": "政务专用" })).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let pid = p["id"].as_str().unwrap().to_owned();
    let types = format!("/api/admin/catalogue/projects/{pid}/types");
    let (s, v) =
        admin.post(&types, json!({ "profile": "org_enc", "name": "机构加密证书", "media": [], "documents": [] })).await;
    assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("media")), "{v}");
    // Only the CA's end-entity profiles exist.
    let (s, v) =
        admin.post(&types, json!({ "profile": "root_ca", "name": "根证书", "media": ["ukey"], "documents": [] })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")), "{v}");
    let body = json!({ "profile": "org_enc", "name": "机构加密证书", "media": ["ukey"], "documents": ["operator_id", "business_licence"] });
    let (s, t) = admin.post(&types, body.clone()).await;
    assert_eq!((s, t["profile"].as_str()), (StatusCode::OK, Some("org_enc")), "{t}");
    assert_eq!(t["documents"], json!(["business_licence", "operator_id"]));
    assert_eq!(admin.post(&types, body).await.0, StatusCode::CONFLICT);
    let tid = t["id"].as_str().unwrap().to_owned();

    // Not on sale without a validity period: the customer is not offered it.
    let (_, catalogue) = b.get("/api/catalogue").await;
    assert!(project(&catalogue, "政务专用").is_none(), "{catalogue}");
    let (s, _) = admin
        .post(&format!("/api/admin/catalogue/types/{tid}/validity"), json!({ "years": 1, "price_fen": 20000 }))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, catalogue) = b.get("/api/catalogue").await;
    let offered = project(&catalogue, "政务专用").expect("on sale");
    assert_eq!(offered["types"][0]["validity"][0]["price_fen"], 20000);
    assert_eq!(offered["types"][0]["media"], json!(["ukey"]));

    // A draft may choose only a medium the type is sold on.
    let (_, draft) = b.post("/api/applications", json!({})).await;
    let choose = format!("/api/applications/{}/choose-type", draft["id"].as_str().unwrap());
    let (s, v) =
        b.call(Method::PUT, &choose, Some(json!({ "project_id": pid, "type_id": tid, "medium": "pc_shield" }))).await;
    assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("medium")), "{v}");
    let change = format!("/api/admin/catalogue/types/{tid}");
    let (s, v) = admin
        .call(
            Method::PUT,
            &change,
            Some(
                json!({ "name": "机构加密证书（政务）", "media": ["pc_shield", "ukey"], "documents": ["operator_id"] }),
            ),
        )
        .await;
    assert_eq!(
        (s, v["media"].clone(), v["profile"].as_str()),
        (StatusCode::OK, json!(["ukey", "pc_shield"]), Some("org_enc")),
        "{v}"
    );
    // The profile stays as made, even when a change names another.
    let (s, v) = admin.call(Method::PUT, &change, Some(json!({ "name": "机构加密证书（政务）", "media": ["pc_shield", "ukey"], "documents": ["operator_id"], "profile": "personal_sign" }))).await;
    assert_eq!((s, v["profile"].as_str()), (StatusCode::OK, Some("org_enc")), "{v}");
    assert_eq!(v["validity"][0]["price_fen"], 20000);
    let (s, v) =
        b.call(Method::PUT, &choose, Some(json!({ "project_id": pid, "type_id": tid, "medium": "pc_shield" }))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The same name as another type of the project, or no name, is refused and changes nothing.
    let (s, v) = admin.call(Method::PUT, &change, Some(json!({ "name": "", "media": [], "documents": [] }))).await;
    assert_eq!((s, v["fields"].as_array().map(Vec::len)), (StatusCode::UNPROCESSABLE_ENTITY, Some(2)), "{v}");
    let (s, _) = admin
        .post(&types, json!({ "profile": "personal_sign", "name": "个人证书", "media": ["ukey"], "documents": [] }))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) =
        admin.call(Method::PUT, &change, Some(json!({ "name": "个人证书", "media": ["ukey"], "documents": [] }))).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, all) = admin.get("/api/admin/catalogue").await;
    let ours = all.as_array().unwrap().iter().find(|p| p["id"] == pid.as_str()).unwrap();
    assert_eq!(ours["types"][0]["name"], "机构加密证书（政务）", "{ours}");
    assert_eq!(ours["types"][0]["documents"], json!(["operator_id"]));

    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    assert_eq!(
        reviewer.post("/api/admin/catalogue/projects", json!({ "name": "审核员的项目" })).await.0,
        StatusCode::FORBIDDEN
    );
    let trail = certdesk::domain::audit::recent(&app.state.db, 30).await.unwrap();
    for action in ["catalogue_project_added", "catalogue_type_added", "catalogue_type_changed"] {
        assert!(trail.iter().any(|e| e.action == action), "{action}");
    }
    assert!(!trail.iter().any(|e| e.action == "catalogue_project_added" && e.detail.contains("审核员")));
}

#[tokio::test]
async fn a_medium_taken_off_sale_is_chosen_again_before_submission() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, true).await;
    // The draft chose a UKey; the type is now sold on PC soft shields only.
    let only_shield = json!({ "name": "机构证书", "media": ["pc_shield"], "documents": ["business_licence", "operator_id", "other"] });
    assert_eq!(admin.call(Method::PUT, "/api/admin/catalogue/types/org", Some(only_shield)).await.0, StatusCode::OK);
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("medium")), "{v}");
    let (_, draft) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!((draft["status"].as_str(), draft["acceptance_no"].as_str()), (Some("draft"), None));
    let (s, v) = b
        .call(
            Method::PUT,
            &format!("/api/applications/{id}/choose-type"),
            Some(json!({ "project_id": "ra-test", "type_id": "org", "medium": "pc_shield" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("submitted")), "{v}");
}
