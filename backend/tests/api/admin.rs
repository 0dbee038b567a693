//! Staff: every admin route refuses customers and the roles that lack its permission; the
//! outbox and the audit trail through the admin API; `audit verify` finds tampering.

use certdesk::domain::{audit, session, staff};
use certdesk::entity::webauthn_credential;
use certdesk_shared::ErrorCode;
use certdesk_shared::account::KeyRegistrationChallenge;
use certdesk_shared::admin::{
    AccountQuery, AuditQuery, ChangeRoleRequest, CreateStaffRequest, CustomerQuery, InvoiceQuery, NewRequestNote,
    OutboxMessage, OutboxQuery, Page, QueueQuery, ShipmentQuery, StaffCreated, StaffMember, StaffQuery, StaffRole,
    StaffSession, StartEnrolment, StartStaffSignIn, TransferQuery,
};
use certdesk_shared::apply::{
    BillingMode, DocumentKind, Medium, NewProject, NewType, NewValidity, SetBilling, SetPrice, ShipmentRequest,
    TypeSettings,
};
use certdesk_shared::certificate::CertificateProfile;
use certdesk_shared::endpoint;
use chrono::Utc;
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::browser::{Browser, Call, api_error, decode, first_field, registered, request_for, staff_browser};
use crate::helpers::issuing::approve;
use crate::helpers::spawn_app;

/// An error answer's code.
fn code_of(v: &Value) -> ErrorCode {
    api_error(v).code
}

/// `PUT /api/admin/staff/{id}/role`'s body.
fn role(role: StaffRole) -> ChangeRoleRequest {
    ChangeRoleRequest { role }
}

/// `POST /api/admin/staff`'s body, without a phone.
fn new_staff(username: &str, display_name: &str, role: StaffRole) -> CreateStaffRequest {
    CreateStaffRequest { username: username.into(), display_name: display_name.into(), role, mobile: None }
}

fn org_type_settings() -> TypeSettings {
    TypeSettings {
        name: "机构证书".into(),
        media: vec![Medium::Ukey],
        documents: Vec::<DocumentKind>::new(),
        renewal_review: false,
    }
}

/// Every route behind the staff sign-in, with a body where it takes one, and the role that
/// may use it (None: any staff member).
fn admin_routes(staff_id: &str) -> Vec<(Call, Option<StaffRole>)> {
    use endpoint as e;
    let id = staff_id;
    vec![
        (request_for::<e::CurrentStaffSession>(&[], &()), None),
        (request_for::<e::ListStaff>(&[], &StaffQuery::default()), Some(StaffRole::Administrator)),
        (
            request_for::<e::CreateStaff>(
                &[],
                &new_staff(&format!("n{}", &staff_id[..8]), "新员工", StaffRole::Reviewer),
            ),
            Some(StaffRole::Administrator),
        ),
        (request_for::<e::ChangeRole>(&[id], &role(StaffRole::Administrator)), Some(StaffRole::Administrator)),
        (request_for::<e::SmsOutbox>(&[], &OutboxQuery::default()), Some(StaffRole::Administrator)),
        (request_for::<e::AuditTrail>(&[], &AuditQuery::default()), Some(StaffRole::Administrator)),
        (request_for::<e::ListSections>(&[], &()), None),
        (request_for::<e::GetDashboard>(&[], &()), None),
        (request_for::<e::ReviewQueue>(&[], &QueueQuery::default()), Some(StaffRole::Reviewer)),
        (request_for::<e::StaffViewRequest>(&[id], &()), Some(StaffRole::Reviewer)),
        (request_for::<e::StaffDownloadDocument>(&[id, "other"], &()), Some(StaffRole::Reviewer)),
        (request_for::<e::Review>(&[id], &approve()), Some(StaffRole::Reviewer)),
        (
            request_for::<e::SetBilling>(&[id], &SetBilling { billing: BillingMode::Settlement }),
            Some(StaffRole::Administrator),
        ),
        (
            request_for::<e::FindAccounts>(&[], &AccountQuery { mobile: "13800000000".into() }),
            Some(StaffRole::Administrator),
        ),
        (request_for::<e::AwaitingShipment>(&[], &ShipmentQuery::default()), Some(StaffRole::CustomerService)),
        (request_for::<e::StaffApplicationForm>(&[id], &()), Some(StaffRole::Reviewer)),
        (
            request_for::<e::Ship>(&[id], &ShipmentRequest { courier: "顺丰速运".into(), tracking_no: "SF1".into() }),
            Some(StaffRole::CustomerService),
        ),
        (
            request_for::<e::SearchCustomers>(&[], &CustomerQuery { q: "13800000000".into(), ..Default::default() }),
            Some(StaffRole::CustomerService),
        ),
        (request_for::<e::GetCustomerFile>(&[id], &()), Some(StaffRole::CustomerService)),
        (
            request_for::<e::AddRequestNote>(&[id], &NewRequestNote { text: "备注".into() }),
            Some(StaffRole::CustomerService),
        ),
        (request_for::<e::ResendDownloadCode>(&[id], &()), Some(StaffRole::CustomerService)),
        (request_for::<e::InvoiceQueue>(&[], &InvoiceQuery::default()), Some(StaffRole::Finance)),
        (request_for::<e::IssueInvoice>(&[id], &()), Some(StaffRole::Finance)),
        (request_for::<e::StaffInvoicePdf>(&[id], &()), Some(StaffRole::Finance)),
        (request_for::<e::PendingTransfers>(&[], &TransferQuery::default()), Some(StaffRole::Finance)),
        (request_for::<e::TransferVoucher>(&[id], &()), Some(StaffRole::Finance)),
        (request_for::<e::ConfirmTransfer>(&[id], &()), Some(StaffRole::Finance)),
        (request_for::<e::Statement>(&["2026-11"], &()), Some(StaffRole::Finance)),
        (request_for::<e::FullCatalogue>(&[], &()), Some(StaffRole::Administrator)),
        (request_for::<e::SetPrice>(&["no-such-option"], &SetPrice { price_fen: 100 }), Some(StaffRole::Administrator)),
        (
            request_for::<e::AddValidity>(&["no-such-type"], &NewValidity { years: 1, price_fen: 100 }),
            Some(StaffRole::Administrator),
        ),
        (
            request_for::<e::AddProject>(&[], &NewProject { name: format!("项目{}", &staff_id[..8]) }),
            Some(StaffRole::Administrator),
        ),
        (
            request_for::<e::AddType>(
                &["no-such-project"],
                &NewType { profile: CertificateProfile::OrgSign, settings: org_type_settings() },
            ),
            Some(StaffRole::Administrator),
        ),
        (request_for::<e::ChangeType>(&["no-such-type"], &org_type_settings()), Some(StaffRole::Administrator)),
        (request_for::<e::DisableStaff>(&[id], &()), Some(StaffRole::Administrator)),
        (request_for::<e::StaffSignOut>(&[], &()), None),
    ]
}

#[tokio::test]
async fn customers_reach_no_staff_route_and_roles_reach_only_theirs() {
    let app = spawn_app().await;
    let (mut customer, _) = registered(&app).await;
    let mut anonymous = Browser::new(&app);
    // Every role, each with a fresh session per route (sign-out ends it).
    for role in StaffRole::ALL {
        let (_, target) = staff_browser(&app, StaffRole::Reviewer).await;
        for ((method, path, body), needs) in admin_routes(&target) {
            let (status, v) = customer.call(method.clone(), &path, body.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "customer {method} {path}: {v}");
            assert!(v.get("code").is_some() && v.as_object().unwrap().len() <= 4, "no data: {v}");
            let (status, _) = anonymous.call(method.clone(), &path, body.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous {method} {path}");

            let (mut staff, _) = staff_browser(&app, role).await;
            let (status, v) = staff.call(method.clone(), &path, body.clone()).await;
            let allowed = needs.is_none_or(|r| r == role || role == StaffRole::Administrator);
            if allowed {
                // Allowed in: success, or "not found" for the made-up object ids.
                assert!(
                    status.is_success() || status == StatusCode::NOT_FOUND,
                    "{role:?} {method} {path}: {status} {v}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} {method} {path}: {v}");
            }
            // Without the CSRF token a state-changing staff request is refused too.
            if method != Method::GET {
                let (mut staff, _) = staff_browser(&app, role).await;
                staff.csrf = None;
                assert_eq!(staff.call(method.clone(), &path, body.clone()).await.0, StatusCode::FORBIDDEN);
            }
        }
    }
    // A customer's session cookie renamed as a staff cookie is no staff session either.
    let cookie = customer.cookie.clone().unwrap().replacen("certdesk=", "certdesk-staff=", 1);
    customer.cookie = Some(cookie);
    assert_eq!(customer.send::<endpoint::CurrentStaffSession>(&[], &()).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn administrators_read_the_outbox_and_cannot_remove_the_last_administrator() {
    let app = spawn_app().await;
    let (_, mobile) = registered(&app).await;
    let (mut admin, admin_id) = staff_browser(&app, StaffRole::Administrator).await;
    let (status, v) =
        admin.send::<endpoint::SmsOutbox>(&[], &OutboxQuery { recipient: mobile.clone(), ..Default::default() }).await;
    assert_eq!(status, StatusCode::OK);
    let outbox: Page<OutboxMessage> = decode(&v);
    assert_eq!((outbox.total, outbox.items.first().map(|m| m.template.as_str())), (1, Some("SMS_CD_REGISTER")), "{v}");
    assert!(outbox.items[0].body.starts_with("【CertDesk】您正在注册"));
    let (status, v) = admin
        .send::<endpoint::SmsOutbox>(
            &[],
            &OutboxQuery { recipient: mobile.clone(), template: "SMS_CD_APPROVED".into(), ..Default::default() },
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(decode::<Page<OutboxMessage>>(&v).total, 0, "{v}");
    let (status, v) =
        admin.send::<endpoint::SmsOutbox>(&[], &OutboxQuery { page: Some(0), ..Default::default() }).await;
    assert_eq!(
        (status, first_field(&v).map(|f| f.0).as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("page")),
        "{v}"
    );

    let (status, v) = admin.send::<endpoint::ChangeRole>(&[&admin_id], &role(StaffRole::Reviewer)).await;
    assert_eq!((status, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::LastAdministrator));

    let (status, v) =
        admin.send::<endpoint::CreateStaff>(&[], &new_staff("li.na", "李娜", StaffRole::CustomerService)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let created: StaffCreated = decode(&v);
    assert!(created.enrol_url.contains("/admin/enrol#token="));
    assert!(!created.staff.enrolled);
    let (status, v) = admin.send::<endpoint::CreateStaff>(&[], &new_staff("li.na", "李娜", StaffRole::Finance)).await;
    assert_eq!((status, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::AlreadyExists));
    // An enrolment link is single-purpose: a made-up token is refused.
    let (status, v) =
        Browser::new(&app).send::<endpoint::StartEnrolment>(&[], &StartEnrolment { token: "made-up".into() }).await;
    assert_eq!((status, code_of(&v)), (StatusCode::GONE, ErrorCode::LinkInvalid));

    let trail = admin.ok::<endpoint::AuditTrail>(&[], &AuditQuery { per_page: Some(200), ..Default::default() }).await;
    let actions: Vec<&str> = trail.items.iter().map(|e| e.action.as_str()).collect();
    for a in ["staff_created", "registered", "signed_in", "code_sent"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_member_loses_sessions_and_keys_at_once_and_cannot_sign_in() {
    let app = spawn_app().await;
    let (mut admin, admin_id) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut leaver, leaver_id) = staff_browser(&app, StaffRole::Reviewer).await;
    // A second session of theirs, on another computer.
    let meta = certdesk::domain::ClientMeta { ip: "127.0.0.1".into(), user_agent: "another computer".into() };
    let (value, _) =
        session::start(&app.state.db, session::Kind::Staff, &leaver_id, "test", &meta, Utc::now()).await.unwrap();
    let mut second_tab = Browser { app: &app, cookie: Some(format!("certdesk-staff={value}")), csrf: None };
    let username = staff::find(&app.state.db, &leaver_id).await.unwrap().unwrap().username;
    crate::helpers::browser::stored_key_for(&app, "staff", &leaver_id, "安全密钥").await;
    assert_eq!(leaver.send::<endpoint::ReviewQueue>(&[], &QueueQuery::default()).await.0, StatusCode::OK);

    // Nobody disables themselves, and a reviewer disables nobody.
    let (s, _) = admin.send::<endpoint::DisableStaff>(&[&admin_id], &()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = leaver.send::<endpoint::DisableStaff>(&[&admin_id], &()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, v) = admin.send::<endpoint::DisableStaff>(&[&leaver_id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let left: StaffMember = decode(&v);
    assert_eq!((left.disabled, left.enrolled), (true, false), "{v}");
    // Every session ended at once, and the keys are gone.
    assert_eq!(leaver.send::<endpoint::ReviewQueue>(&[], &QueueQuery::default()).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(second_tab.send::<endpoint::CurrentStaffSession>(&[], &()).await.0, StatusCode::UNAUTHORIZED);
    let keys = webauthn_credential::Entity::find()
        .filter(webauthn_credential::Column::OwnerId.eq(leaver_id.as_str()))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(keys, 0);
    // Signing in starts like an unknown name's (a decoy that never finishes), and a session
    // made some other way for the member is refused too.
    let (s, decoy) = Browser::new(&app).send::<endpoint::StartStaffSignIn>(&[], &StartStaffSignIn { username }).await;
    let nobody = StartStaffSignIn { username: "nobody.here".into() };
    let (_, unknown) = Browser::new(&app).send::<endpoint::StartStaffSignIn>(&[], &nobody).await;
    assert_eq!(s, StatusCode::OK);
    // The same shape, to the number of fields: compared on the JSON itself.
    assert_eq!(
        decoy["options"]["publicKey"].as_object().map(|o| o.len()),
        unknown["options"]["publicKey"].as_object().map(|o| o.len()),
        "{decoy}"
    );
    let (value, _) =
        session::start(&app.state.db, session::Kind::Staff, &leaver_id, "test", &meta, Utc::now()).await.unwrap();
    let mut revived = Browser { app: &app, cookie: Some(format!("certdesk-staff={value}")), csrf: None };
    assert_eq!(revived.send::<endpoint::CurrentStaffSession>(&[], &()).await.0, StatusCode::UNAUTHORIZED);
    // The role cannot be changed any more, and the list says who left.
    let (s, _) = admin.send::<endpoint::ChangeRole>(&[&leaver_id], &role(StaffRole::Finance)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let list = admin.ok::<endpoint::ListStaff>(&[], &StaffQuery::default()).await;
    let row = list.items.iter().find(|m| m.id == leaver_id).unwrap();
    assert!(row.disabled);
    let trail = admin.ok::<endpoint::AuditTrail>(&[], &AuditQuery { per_page: Some(200), ..Default::default() }).await;
    let entry = trail.items.iter().find(|e| e.action == "staff_disabled").expect("audited");
    // The detail is free-form JSON (`AuditEntry::detail` is a `Value`).
    assert_eq!(
        (entry.detail["sessions_ended"].as_u64(), entry.detail["keys_removed"].as_u64()),
        (Some(2), Some(1)),
        "{entry:?}"
    );

    // The last enabled administrator stays.
    let (mut other_admin, other_id) = staff_browser(&app, StaffRole::Administrator).await;
    let (s, _) = other_admin.send::<endpoint::DisableStaff>(&[&admin_id], &()).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = other_admin.send::<endpoint::ChangeRole>(&[&other_id], &role(StaffRole::Reviewer)).await;
    assert_eq!(
        (s, code_of(&v)),
        (StatusCode::CONFLICT, ErrorCode::LastAdministrator),
        "a disabled administrator does not count"
    );
}

#[tokio::test]
async fn an_unknown_role_grants_nothing() {
    let app = spawn_app().await;
    let (mut member, id) = staff_browser(&app, StaffRole::Reviewer).await;
    assert_eq!(member.send::<endpoint::ReviewQueue>(&[], &QueueQuery::default()).await.0, StatusCode::OK);
    // A role written by a newer version, or by hand.
    app.state
        .db
        .execute(sea_orm::Statement::from_sql_and_values(
            app.state.db.get_database_backend(),
            if app.state.db.get_database_backend() == DbBackend::Postgres {
                "UPDATE staff SET role = 'auditor' WHERE id = $1"
            } else {
                "UPDATE staff SET role = 'auditor' WHERE id = ?"
            },
            [id.clone().into()],
        ))
        .await
        .unwrap();
    for (method, path, body) in [
        request_for::<endpoint::ReviewQueue>(&[], &QueueQuery::default()),
        request_for::<endpoint::AwaitingShipment>(&[], &ShipmentQuery::default()),
        request_for::<endpoint::InvoiceQueue>(&[], &InvoiceQuery::default()),
        request_for::<endpoint::ListStaff>(&[], &StaffQuery::default()),
        request_for::<endpoint::AuditTrail>(&[], &AuditQuery::default()),
    ] {
        let (s, v) = member.call(method, &path, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {v}");
    }
    let (s, v) = member.send::<endpoint::CurrentStaffSession>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<StaffSession>(&v).staff.role, None, "{v}");
}

#[tokio::test]
async fn the_audit_trail_is_append_only_and_verify_names_each_tampered_row() {
    let app = spawn_app().await;
    for _ in 0..2 {
        registered(&app).await;
    }
    let db = &app.state.db;
    let key = &app.state.audit_key;
    let v = audit::verify(db, key).await.unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert!(v.rows >= 6, "{}", v.rows);

    // The database itself refuses edits and deletions.
    assert!(db.execute_unprepared("UPDATE audit_event SET actor = 'x'").await.is_err());
    assert!(db.execute_unprepared("DELETE FROM audit_event").await.is_err());

    // Someone with the database but not the audit key removes the triggers and tampers.
    match db.get_database_backend() {
        DbBackend::Postgres => db.execute_unprepared("ALTER TABLE audit_event DISABLE TRIGGER USER").await.unwrap(),
        _ => {
            db.execute_unprepared("DROP TRIGGER audit_event_no_update").await.unwrap();
            db.execute_unprepared("DROP TRIGGER audit_event_no_delete").await.unwrap()
        }
    };
    let rows = certdesk::entity::audit_event::Entity::find()
        .order_by_asc(certdesk::entity::audit_event::Column::Seq)
        .all(db)
        .await
        .unwrap();
    let (edited, deleted) = (rows[1].seq, rows[3].seq);
    db.execute_unprepared(&format!("UPDATE audit_event SET ip = '10.0.0.1' WHERE seq = {edited}")).await.unwrap();
    db.execute_unprepared(&format!("DELETE FROM audit_event WHERE seq = {deleted}")).await.unwrap();
    let last = rows.last().unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO audit_event (at, actor, action, subject, ip, detail, prev_hash, hash) \
         VALUES ('2026-01-01 00:00:00+00:00', 'staff:forged', 'role_changed', 'x', '1.2.3.4', '{{}}', '{}', '{}')",
        last.hash,
        "f".repeat(64)
    ))
    .await
    .unwrap();

    let v = audit::verify(db, key).await.unwrap();
    let text = v.problems.join("\n");
    assert!(text.contains(&format!("row {edited}: its content does not match")), "{text}");
    assert!(text.contains(&format!("row {}: does not follow row {}", deleted + 1, deleted - 1)), "{text}");
    let forged = certdesk::entity::audit_event::Entity::find()
        .order_by_desc(certdesk::entity::audit_event::Column::Seq)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .seq;
    assert!(text.contains(&format!("row {forged}: its content does not match")), "{text}");
    assert_eq!(v.rows, rows.len() as u64, "one deleted, one inserted");
}

/// Rows deleted from the end of the trail leave a chain that verifies by itself; the heads
/// published outside the database catch it, by the command an operator runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_newest_rows_is_found_by_the_published_heads() {
    let app = spawn_app().await;
    registered(&app).await;
    let (db, key) = (&app.state.db, &app.state.audit_key);
    let file = app.state.config.audit_head_path();
    // The server published the head when it started; publish the newest now.
    let head = audit::publish_head(db, key, &file, chrono::Utc::now()).await.unwrap().unwrap();
    let again = audit::publish_head(db, key, &file, chrono::Utc::now()).await.unwrap().unwrap();
    assert_eq!(again.seq, head.seq);
    let lines = std::fs::read_to_string(&file).unwrap();
    assert_eq!(lines.lines().filter(|l| l.contains(&format!("\"seq\":{}", head.seq))).count(), 1, "{lines}");
    let out = cli(&app).args(["audit", "verify"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}");
    assert!(said.contains("checked against") && said.contains("audit trail intact"), "{said}");

    // Someone with the database but not the audit key drops the newest rows.
    match db.get_database_backend() {
        DbBackend::Postgres => db.execute_unprepared("ALTER TABLE audit_event DISABLE TRIGGER USER").await.unwrap(),
        _ => db.execute_unprepared("DROP TRIGGER audit_event_no_delete").await.unwrap(),
    };
    db.execute_unprepared(&format!("DELETE FROM audit_event WHERE seq >= {}", head.seq - 1)).await.unwrap();
    // What is left still verifies as a chain…
    assert!(audit::verify(db, key).await.unwrap().problems.is_empty());
    // …but not against the published head.
    let out = cli(&app).args(["audit", "verify"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains(&format!("row {}, published as the head at", head.seq)), "{said}");
    assert!(said.contains("is missing: rows were deleted"), "{said}");

    // A head file line edited to an older head does not pass either.
    let forged = std::fs::read_to_string(&file).unwrap().replace(&format!("\"seq\":{}", head.seq), "\"seq\":1");
    std::fs::write(&file, forged).unwrap();
    let (problems, checked) = audit::check_heads(db, key, &file).await.unwrap();
    assert!(checked >= 1);
    assert!(problems.iter().any(|p| p.contains("its MAC does not match")), "{problems:?}");
}

/// `certdesk` with the test server's database and keys.
fn cli(app: &crate::helpers::TestApp) -> std::process::Command {
    let c = &app.state.config;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_certdesk"));
    cmd.env("DATABASE_URL", c.database_url())
        .env("CERTDESK_DATA_DIR", &c.data_dir)
        .env("CERTDESK_PUBLIC_URL", &c.public_url)
        .env("CERTDESK_CA_PASSPHRASE", c.ca_passphrase.clone().unwrap_or_default())
        .env("CERTDESK_AUDIT_KEY", c.audit_key.clone().unwrap_or_default())
        .env("RUST_LOG", "error");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_creates_an_administrator_and_verifies_the_trail() {
    let app = spawn_app().await;
    registered(&app).await;
    let out = cli(&app)
        .args([
            "admin",
            "create",
            "--role",
            "administrator",
            "--username",
            "first.admin",
            "--display-name",
            "首位管理员",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let link = text.lines().find_map(|l| l.strip_prefix("enrol: ")).expect("an enrolment link");
    assert!(link.starts_with("http://certdesk.localhost/admin/enrol#token="), "{link}");
    // The link's token opens an enrolment ceremony (once the key verifies, it is spent).
    let token = link.split("#token=").nth(1).unwrap();
    let (s, v) =
        Browser::new(&app).send::<endpoint::StartEnrolment>(&[], &StartEnrolment { token: token.into() }).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(!decode::<KeyRegistrationChallenge>(&v).options.public_key.challenge.is_empty(), "{v}");

    let out = cli(&app).args(["audit", "verify"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && text.starts_with("audit trail intact:"), "{text}");

    let db = &app.state.db;
    match db.get_database_backend() {
        DbBackend::Postgres => db.execute_unprepared("ALTER TABLE audit_event DISABLE TRIGGER USER").await.unwrap(),
        _ => db.execute_unprepared("DROP TRIGGER audit_event_no_update").await.unwrap(),
    };
    let first = certdesk::entity::audit_event::Entity::find()
        .order_by_asc(certdesk::entity::audit_event::Column::Seq)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    db.execute_unprepared(&format!("UPDATE audit_event SET ip = '10.9.9.9' WHERE seq = {}", first.seq)).await.unwrap();
    let out = cli(&app).args(["audit", "verify"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("row {}: its content does not match", first.seq)) && text.contains("audit trail BROKEN"),
        "{text}"
    );
}

/// Two servers append at once, each inside the transaction of the change it records. The
/// one that loses the race on `prev_hash` tries again in a savepoint, so its transaction
/// stays usable and commits with both rows in one valid chain. (PostgreSQL only: SQLite
/// has one writer at a time, so two appends never race there.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_that_loses_the_race_tries_again_inside_the_callers_transaction() {
    use sea_orm::TransactionTrait;
    let app = spawn_app().await;
    let db = &app.state.db;
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let key = &app.state.audit_key;
    let event =
        |action: &'static str| audit::Event { actor: "test", action, subject: "race", ip: "", detail: json!({}) };
    let first = db.begin().await.unwrap();
    audit::append(&first, key, event("race_first")).await.unwrap();
    let second = db.begin().await.unwrap();
    // `second` reads the same head as `first` (not committed yet); its insert waits on the
    // unique index until `first` commits, then loses and must try again.
    let (appended, ()) = tokio::join!(audit::append(&second, key, event("race_second")), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        first.commit().await.unwrap();
    });
    appended.unwrap();
    second.execute_unprepared("SELECT 1").await.expect("the caller's transaction is still usable");
    second.commit().await.unwrap();
    let v = audit::verify(db, key).await.unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    let trail = audit::recent(db, 2).await.unwrap();
    let actions: Vec<_> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["race_second", "race_first"]);
}
