//! The catalogue kept by administrators: projects, certificate types with their profile,
//! media and documents, validity periods and prices; what customers are offered; and what a
//! change means for drafts.

use certdesk_shared::ValidationError;
use certdesk_shared::admin::StaffRole;
use certdesk_shared::apply::{
    Catalogue, CertificateType, ChooseType, DocumentKind, Medium, NewProject, NewType, NewValidity, Project, SetPrice,
    TypeSettings, ValidityOption,
};
use certdesk_shared::certificate::CertificateProfile;
use certdesk_shared::endpoint;
use certdesk_shared::request::{RequestStatus, RequestView};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::browser::{api_error, decode, first_field, registered, staff_browser};
use crate::helpers::issuing::{choose, complete_draft};
use crate::helpers::spawn_app;

fn project<'c>(catalogue: &'c Catalogue, name: &str) -> Option<&'c Project> {
    catalogue.projects.iter().find(|p| p.name == name)
}

fn settings(name: &str, media: &[Medium], documents: &[DocumentKind]) -> TypeSettings {
    TypeSettings { name: name.into(), media: media.to_vec(), documents: documents.to_vec(), renewal_review: false }
}

fn new_type(profile: CertificateProfile, name: &str, media: &[Medium], documents: &[DocumentKind]) -> NewType {
    NewType { profile, settings: settings(name, media, documents) }
}

fn project_named(name: &str) -> NewProject {
    NewProject { name: name.to_owned() }
}

#[tokio::test]
async fn administrators_keep_the_prices_and_drafts_keep_the_price_they_chose() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, true).await;
    let (s, v) = admin.send::<endpoint::SetPrice>(&["org-1y"], &SetPrice { price_fen: 36000 }).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<ValidityOption>(&v).price_fen, 36000, "{v}");
    let (s, v) = admin.send::<endpoint::SetPrice>(&["org-1y"], &SetPrice { price_fen: 0 }).await;
    assert_eq!(
        (s, first_field(&v).map(|f| f.1)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::OutOfRange))
    );
    let validity = |years: u32, price_fen: i64| NewValidity { years, price_fen };
    let (s, v) = admin.send::<endpoint::AddValidity>(&["org"], &validity(5, 120000)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<ValidityOption>(&v).id, "org-5y", "{v}");
    assert_eq!(admin.send::<endpoint::AddValidity>(&["org"], &validity(5, 1)).await.0, StatusCode::CONFLICT);
    let (_, v) = admin.send::<endpoint::AddValidity>(&["org"], &validity(9, 1)).await;
    assert_eq!(first_field(&v).map(|f| f.0).as_deref(), Some("years"), "{v}");
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    assert_eq!(
        reviewer.send::<endpoint::SetPrice>(&["org-1y"], &SetPrice { price_fen: 1 }).await.0,
        StatusCode::FORBIDDEN
    );

    // The customer's catalogue shows the new price and the new period; the draft keeps 300.
    let catalogue = b.ok::<endpoint::CustomerCatalogue>(&[], &()).await;
    let org = &catalogue.projects[0].types[0];
    assert_eq!(org.validity[0].price_fen, 36000);
    assert!(org.validity.iter().any(|v| v.years == 5));
    let draft = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!(draft.price_fen, Some(30000));
    let trail = certdesk::domain::audit::recent(&app.state.db, 20).await.unwrap();
    assert!(trail.iter().any(|e| e.action == "price_changed" && e.subject == "org-1y"));
}

#[tokio::test]
async fn administrators_add_projects_and_types_which_customers_see_once_on_sale() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, _) = registered(&app).await;

    // Bad input changes nothing.
    let (s, v) = admin.send::<endpoint::AddProject>(&[], &project_named("  ")).await;
    let error = first_field(&v).map(|f| f.1);
    assert_eq!((s, error), (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::Required)), "{v}");
    let (s, v) = admin.send::<endpoint::AddProject>(&[], &project_named(&"项".repeat(31))).await;
    let error = first_field(&v).map(|f| f.1);
    assert_eq!((s, error), (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::NameLength)), "{v}");
    assert_eq!(admin.send::<endpoint::AddProject>(&[], &project_named("RA测试专用")).await.0, StatusCode::CONFLICT);
    let all = admin.ok::<endpoint::FullCatalogue>(&[], &()).await;
    assert_eq!(all.len(), 1, "{all:?}");

    let (s, p) = admin.send::<endpoint::AddProject>(&[], &project_named("政务专用")).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let pid = decode::<Project>(&p).id;
    let (s, v) =
        admin.send::<endpoint::AddType>(&[&pid], &new_type(CertificateProfile::OrgEnc, "机构加密证书", &[], &[])).await;
    assert_eq!((s, first_field(&v).map(|f| f.0).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("media")), "{v}");
    // Only the CA's end-entity profiles exist (no `CertificateProfile` names the root).
    let (s, v) = admin
        .send_json::<endpoint::AddType>(
            &[&pid],
            json!({ "profile": "root_ca", "name": "根证书", "media": ["ukey"], "documents": [] }),
        )
        .await;
    assert_eq!((s, api_error(&v).code), (StatusCode::BAD_REQUEST, certdesk_shared::ErrorCode::MalformedJson), "{v}");
    let body = new_type(
        CertificateProfile::OrgEnc,
        "机构加密证书",
        &[Medium::Ukey],
        &[DocumentKind::OperatorId, DocumentKind::BusinessLicence],
    );
    let (s, t) = admin.send::<endpoint::AddType>(&[&pid], &body).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let t: CertificateType = decode(&t);
    assert_eq!(t.profile, CertificateProfile::OrgEnc, "{t:?}");
    assert_eq!(t.documents, [DocumentKind::BusinessLicence, DocumentKind::OperatorId]);
    assert_eq!(admin.send::<endpoint::AddType>(&[&pid], &body).await.0, StatusCode::CONFLICT);
    let tid = t.id;

    // Not on sale without a validity period: the customer is not offered it.
    let catalogue = b.ok::<endpoint::CustomerCatalogue>(&[], &()).await;
    assert!(project(&catalogue, "政务专用").is_none(), "{catalogue:?}");
    let one_year = NewValidity { years: 1, price_fen: 20000 };
    let (s, _) = admin.send::<endpoint::AddValidity>(&[&tid], &one_year).await;
    assert_eq!(s, StatusCode::OK);
    let catalogue = b.ok::<endpoint::CustomerCatalogue>(&[], &()).await;
    let offered = project(&catalogue, "政务专用").expect("on sale");
    assert_eq!(offered.types[0].validity[0].price_fen, 20000);
    assert_eq!(offered.types[0].media, [Medium::Ukey]);

    // A draft may choose only a medium the type is sold on.
    let (_, draft) = b.send::<endpoint::StartApplication>(&[], &()).await;
    let on_shield = ChooseType { project_id: pid.clone(), type_id: tid.clone(), medium: Medium::PcShield };
    let (s, v) = b.send::<endpoint::ChooseType>(&[&decode::<RequestView>(&draft).id], &on_shield).await;
    assert_eq!((s, first_field(&v).map(|f| f.0).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("medium")), "{v}");
    let both = settings("机构加密证书（政务）", &[Medium::PcShield, Medium::Ukey], &[DocumentKind::OperatorId]);
    let (s, v) = admin.send::<endpoint::ChangeType>(&[&tid], &both).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let changed: CertificateType = decode(&v);
    assert_eq!(
        (changed.media.as_slice(), changed.profile),
        ([Medium::Ukey, Medium::PcShield].as_slice(), CertificateProfile::OrgEnc),
        "{v}"
    );
    // The profile stays as made, even when a change names another (a field `TypeSettings` has not).
    let (s, v) = admin.send_json::<endpoint::ChangeType>(&[&tid], json!({ "name": "机构加密证书（政务）", "media": ["pc_shield", "ukey"], "documents": ["operator_id"], "profile": "personal_sign" })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let kept: CertificateType = decode(&v);
    assert_eq!(kept.profile, CertificateProfile::OrgEnc, "{v}");
    assert_eq!(kept.validity[0].price_fen, 20000);
    let (s, v) = b.send::<endpoint::ChooseType>(&[&decode::<RequestView>(&draft).id], &on_shield).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The same name as another type of the project, or no name, is refused and changes nothing.
    let (s, v) = admin.send::<endpoint::ChangeType>(&[&tid], &settings("", &[], &[])).await;
    assert_eq!((s, api_error(&v).fields.len()), (StatusCode::UNPROCESSABLE_ENTITY, 2), "{v}");
    let (s, _) = admin
        .send::<endpoint::AddType>(
            &[&pid],
            &new_type(CertificateProfile::PersonalSign, "个人证书", &[Medium::Ukey], &[]),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = admin.send::<endpoint::ChangeType>(&[&tid], &settings("个人证书", &[Medium::Ukey], &[])).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let all = admin.ok::<endpoint::FullCatalogue>(&[], &()).await;
    let ours = all.iter().find(|p| p.id == pid).unwrap();
    assert_eq!(ours.types[0].name, "机构加密证书（政务）", "{ours:?}");
    assert_eq!(ours.types[0].documents, [DocumentKind::OperatorId]);

    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    assert_eq!(
        reviewer.send::<endpoint::AddProject>(&[], &project_named("审核员的项目")).await.0,
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
    let only_shield = settings("机构证书", &[Medium::PcShield], &DocumentKind::FOR_APPLY);
    assert_eq!(admin.send::<endpoint::ChangeType>(&["org"], &only_shield).await.0, StatusCode::OK);
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!((s, first_field(&v).map(|f| f.0).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("medium")), "{v}");
    let draft = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!((draft.status, draft.acceptance_no.as_deref()), (RequestStatus::Draft, None));
    let (s, v) = b.send::<endpoint::ChooseType>(&[&id], &choose("org", "pc_shield")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).status, RequestStatus::Submitted, "{v}");
}
