//! New certificate (证书新办): the wizard's steps saved on the server, documents checked by
//! content, submission, rejection with reasons, fixing and resubmitting, approval with an
//! authorization code by SMS, and issuance for a CSR.

use certdesk_shared::admin::StaffRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::browser::{Browser, last_sms, registered, staff_browser};
use crate::helpers::ca::pem_to_der;
use crate::helpers::issuing::{PDF, certificate_info, complete_draft, upload};
use crate::helpers::{TestApp, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_fix_resubmit_approve_and_issue_for_a_csr() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, true).await;

    // A reload resumes where the user was: everything is on the server.
    let (_, v) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!(v["certificate_info"]["city"], "和平区");
    assert_eq!(v["documents"].as_array().unwrap().len(), 3);

    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "submitted");
    let acceptance = v["acceptance_no"].as_str().unwrap().to_owned();
    assert!(acceptance.starts_with("BH"), "{acceptance}");
    // Submitted: no more editing.
    let (s, v) = b
        .call(
            Method::PUT,
            &format!("/api/applications/{id}/certificate-info"),
            Some(certificate_info("91350100M000100Y43")),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("not_editable")));

    let (s, queue) = reviewer.get("/api/admin/applications").await;
    assert_eq!(s, StatusCode::OK);
    let item = queue["items"].as_array().unwrap().iter().find(|i| i["request"]["id"] == id.as_str()).unwrap();
    assert_eq!(item["working_days_left"], 5);
    let doc = app
        .client
        .get(app.url(&format!("/api/admin/applications/{id}/documents/business_licence")))
        .header("cookie", reviewer.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(doc.headers()["content-type"], "application/pdf");
    assert_eq!(doc.headers()["content-disposition"], "attachment");
    assert_eq!(doc.bytes().await.unwrap().as_ref(), PDF);

    let (s, v) = reviewer
        .post(&format!("/api/admin/applications/{id}/review"), json!({ "approve": false, "reasons": [] }))
        .await;
    assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reasons")));
    let reasons =
        json!({ "approve": false, "reasons": [{ "field": "business_licence", "reason": "营业执照未加盖公章" }] });
    let (s, v) = reviewer.post(&format!("/api/admin/applications/{id}/review"), reasons).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("rejected")), "{v}");
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert_eq!(sms.template, "SMS_CD_REJECTED");
    assert!(sms.body.contains(&acceptance));

    // The user sees the reason, replaces only the licence, and resubmits.
    let (_, v) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!(v["reasons"][0]["reason"], "营业执照未加盖公章");
    let stamped = [PDF, b"% stamped\n"].concat();
    assert_eq!(upload(&b, &id, "business_licence", "营业执照（盖章）.pdf", &stamped).await.0, StatusCode::OK);
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("resubmitted")), "{v}");
    assert_eq!(v["acceptance_no"], acceptance.as_str(), "the acceptance number stays");
    let names: Vec<&str> =
        v["documents"].as_array().unwrap().iter().map(|d| d["file_name"].as_str().unwrap()).collect();
    assert!(names.contains(&"营业执照（盖章）.pdf") && names.contains(&"身份证.png"), "{names:?}");

    let (s, v) = reviewer.post(&format!("/api/admin/applications/{id}/review"), json!({ "approve": true })).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert_eq!(sms.template, "SMS_CD_APPROVED");
    let code_at = sms.body.find("下载授权码：").unwrap() + "下载授权码：".len();
    let auth_code: String = sms.body[code_at..].chars().take(8).collect();
    assert!(auth_code.chars().all(|c| c.is_ascii_digit()), "{}", sms.body);
    // The same code by e-mail to the operator (seed 002).
    let mail = last_sms(&app, "zs@example.com").await.unwrap();
    assert!(
        mail.channel == "email" && mail.body.contains(&auth_code) && mail.body.contains(&acceptance),
        "{}",
        mail.body
    );
    // A second decision on the same application is refused.
    let (s, _) = reviewer.post(&format!("/api/admin/applications/{id}/review"), json!({ "approve": true })).await;
    assert_eq!(s, StatusCode::CONFLICT);

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr =
        rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(&key).unwrap().pem().unwrap();
    let mut anyone = Browser::new(&app);
    let (s, v) = anyone
        .post(
            "/api/applications/issue",
            json!({ "acceptance_no": acceptance, "auth_code": "00000000", "csr_pem": csr, "medium_kind": "ukey" }),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("auth_code_invalid")));
    // 查询证书: what the code is for, and the key the token must make for its profile.
    let (s, v) = anyone
        .post("/api/applications/download-info", json!({ "acceptance_no": acceptance, "auth_code": auth_code }))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["common_name"].as_str(), v["key_algorithm"].as_str(), v["validity_years"].as_u64()),
        (Some("天津市滨海数字认证有限公司"), Some("p256"), Some(1)),
        "{v}"
    );
    let (s, v) = anyone
        .post(
            "/api/applications/issue",
            json!({ "acceptance_no": acceptance, "auth_code": auth_code, "csr_pem": "garbage", "medium_kind": "ukey" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a bad CSR is refused and the application stays approved: {v}");
    let (s, v) = anyone
        .post(
            "/api/applications/issue",
            json!({ "acceptance_no": acceptance, "auth_code": auth_code, "csr_pem": csr, "medium_kind": "ukey" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["chain_pem"].as_array().unwrap().len(), 2, "issuing CA and root for the token");
    let pem = v["pem"].as_str().unwrap();
    let der = pem_to_der(pem);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let subject = cert.subject().to_string();
    assert!(
        subject.contains("CN=天津市滨海数字认证有限公司") || subject.contains("天津市滨海数字认证有限公司"),
        "{subject}"
    );
    assert!(subject.contains("91350100M000100Y43") && subject.contains(&acceptance), "{subject}");
    let (_, v) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!(v["status"], "issued");
    assert!(v["certificate_uid"].is_string());
    // Once issued, the code is spent.
    let (s, _) = anyone
        .post(
            "/api/applications/issue",
            json!({ "acceptance_no": acceptance, "auth_code": auth_code, "csr_pem": csr, "medium_kind": "ukey" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn bad_files_and_fields_are_refused_and_the_draft_keeps_what_it_had() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, true).await;

    // An .exe renamed .pdf.
    let (s, v) =
        upload(&b, &id, "business_licence", "营业执照.pdf", b"MZ\x90\x00\x03\x00\x00\x00 this program cannot be run")
            .await;
    assert_eq!((s, v["fields"][0]["error"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file_type")));
    // 3 MB.
    let mut big = PDF.to_vec();
    big.resize(3 * 1024 * 1024, b' ');
    let (s, v) = upload(&b, &id, "business_licence", "big.pdf", &big).await;
    assert_eq!((s, v["fields"][0]["error"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file_too_large")));
    // A PDF where an archive belongs.
    let (_, v) = upload(&b, &id, "other", "other.pdf", PDF).await;
    assert_eq!(v["fields"][0]["error"], "file_type");
    // A wrong credit code, an unknown city.
    let (s, v) = b
        .call(
            Method::PUT,
            &format!("/api/applications/{id}/certificate-info"),
            Some(certificate_info("91350100M000100Y42")),
        )
        .await;
    // Decoded inside the tagged holder, the code is the credit code's; the path ends there.
    assert_eq!(
        (s, &v["fields"][0]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!({ "field": "holder", "error": "credit_code_check_char" })),
        "{v}"
    );
    let mut wrong_city = certificate_info("91350100M000100Y43");
    wrong_city["city"] = "朝阳区".into();
    let (_, v) = b.call(Method::PUT, &format!("/api/applications/{id}/certificate-info"), Some(wrong_city)).await;
    assert_eq!(v["fields"][0]["error"], "region_unknown");
    // A registered name may have 100 characters, but a certificate's subject names only 64
    // (RFC 5280): step ② says so.
    let mut long_name = certificate_info("91350100M000100Y43");
    long_name["holder"]["org_name"] = format!("天津{}有限公司", "滨".repeat(59)).into();
    let (s, v) = b.call(Method::PUT, &format!("/api/applications/{id}/certificate-info"), Some(long_name)).await;
    assert_eq!(
        (s, &v["fields"][0]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!({ "field": "org_name", "error": "subject_name_length" })),
        "{v}"
    );

    // Nothing was lost.
    let (_, v) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!(v["certificate_info"]["holder"]["credit_code"], "91350100M000100Y43");
    assert_eq!(v["certificate_info"]["holder"]["org_name"], "天津市滨海数字认证有限公司");
    let licence = v["documents"].as_array().unwrap().iter().find(|d| d["kind"] == "business_licence").unwrap();
    assert_eq!(licence["file_name"], "营业执照.pdf");
    assert_eq!(licence["size"], PDF.len());
}

#[tokio::test]
async fn scan_to_pay_waits_for_payment_and_nobody_else_sees_an_application() {
    let app = spawn_app().await;
    let (mut owner, _) = registered(&app).await;
    let (_, draft) = owner.post("/api/applications", json!({})).await;
    let id = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(draft["billing"], "scan_to_pay");
    let (s, v) = owner.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "incomplete first: {v}");
    let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["choose_type", "certificate_info", "operator", "delivery", "challenge_phrase"]);

    let (mut other, _) = registered(&app).await;
    for (method, path) in [
        (Method::GET, format!("/api/applications/{id}")),
        (Method::PUT, format!("/api/applications/{id}/choose-type")),
        (Method::POST, format!("/api/applications/{id}/submit")),
        (Method::GET, format!("/api/applications/{id}/documents/business_licence")),
    ] {
        let body =
            (method != Method::GET).then(|| json!({ "project_id": "ra-test", "type_id": "org", "medium": "ukey" }));
        let (s, _) = other.call(method.clone(), &path, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let (_, list) = other.get("/api/applications").await;
    assert_eq!(list, json!([]));
    // And a customer reaches no review route.
    let (s, _) = owner.get("/api/admin/applications").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_scan_to_pay_customer_pays_before_review() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("payment_required")));
    let (_, v) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!((v["status"].as_str(), v["acceptance_no"].is_null()), (Some("draft"), true));
    // Only administrators set billing modes.
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let account = "00000000-0000-0000-0000-000000000000";
    let (s, _) = reviewer
        .call(Method::PUT, &format!("/api/admin/accounts/{account}/billing"), Some(json!({ "billing": "settlement" })))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// Text of a PDF by poppler's `pdftotext` (an outside reader of our PDFs).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils and poppler-data; `cargo xtask test` installs them)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn bytes(app: &TestApp, b: &Browser<'_>, path: &str) -> (StatusCode, Vec<u8>) {
    let res = app.client.get(app.url(path)).header("cookie", b.cookie.clone().unwrap()).send().await.unwrap();
    (res.status(), res.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printable_form_invoice_by_finance_and_tracking_number() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut finance, _) = staff_browser(&app, StaffRole::Finance).await;
    let (mut service, _) = staff_browser(&app, StaffRole::CustomerService).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, true).await;
    let (_, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    let acceptance = v["acceptance_no"].as_str().unwrap().to_owned();

    // The printable form, read back by poppler: correct Chinese text.
    let (s, pdf) = bytes(&app, &b, &format!("/api/applications/{id}/form.pdf")).await;
    assert_eq!(s, StatusCode::OK);
    let text = pdf_text(&pdf);
    for want in [
        "数字证书申请表",
        "天津市滨海数字认证有限公司",
        "91350100M000100Y43",
        acceptance.as_str(),
        "天津市",
        "和平区",
        "邮寄配送",
    ] {
        assert!(text.contains(want), "{want} in:\n{text}");
    }

    // No invoice before approval; then one, refused twice.
    let invoice = json!({ "title": "天津市滨海数字认证有限公司", "tax_number": "91350100M000100Y43", "address": "天津市和平区1号",
                          "bank": "中国银行天津分行", "phone": "022-12345678", "bank_account": "1234567890", "email": "finance@example.com" });
    let (s, _) = b.post(&format!("/api/applications/{id}/invoice"), invoice.clone()).await;
    assert_eq!(s, StatusCode::CONFLICT);
    admin.post(&format!("/api/admin/applications/{id}/review"), json!({ "approve": true })).await;
    let mut bad = invoice.clone();
    bad["tax_number"] = "91350100M000100Y42".into();
    bad["bank"] = "".into();
    let (s, v) = b.post(&format!("/api/applications/{id}/invoice"), bad).await;
    assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("tax_number")));
    let (s, v) = b.post(&format!("/api/applications/{id}/invoice"), invoice.clone()).await;
    assert_eq!(
        (s, v["status"].as_str(), v["amount_fen"].as_i64()),
        (StatusCode::OK, Some("requested"), Some(30000)),
        "{v}"
    );
    let invoice_id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(b.post(&format!("/api/applications/{id}/invoice"), invoice).await.0, StatusCode::CONFLICT);

    // Finance: the queue of 待开票, issue once.
    let (s, q) = finance.get("/api/admin/invoices?status=requested").await;
    assert_eq!(s, StatusCode::OK);
    assert!(q["items"].as_array().unwrap().iter().any(|i| i["id"] == invoice_id.as_str()));
    assert_eq!(service.get("/api/admin/invoices").await.0, StatusCode::FORBIDDEN);
    let (s, v) = finance.post(&format!("/api/admin/invoices/{invoice_id}/issue"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("issued")), "{v}");
    let number = v["invoice_no"].as_str().unwrap().to_owned();
    assert_eq!(
        finance.post(&format!("/api/admin/invoices/{invoice_id}/issue"), json!({})).await.0,
        StatusCode::CONFLICT
    );
    let (s, pdf) = bytes(&app, &b, &format!("/api/invoices/{invoice_id}/pdf")).await;
    assert_eq!(s, StatusCode::OK);
    let text = pdf_text(&pdf);
    assert!(text.contains("电子发票") && text.contains(&number) && text.contains("¥300"), "{text}");
    let mail = crate::helpers::browser::last_sms(&app, "finance@example.com")
        .await
        .expect("the e-invoice e-mail (outbox without SMTP)");
    assert_eq!(mail.channel, "email");
    assert!(mail.body.contains(&number) && mail.body.contains(".pdf"), "{}", mail.body);
    let (_, mine) = b.get("/api/invoices").await;
    assert_eq!(mine[0]["status"], "issued");
    // Nobody else downloads it.
    let (other, _) = registered(&app).await;
    assert_eq!(bytes(&app, &other, &format!("/api/invoices/{invoice_id}/pdf")).await.0, StatusCode::NOT_FOUND);

    // Shipping: customer service records it; the customer sees it under 邮寄查询.
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let parcel = json!({ "courier": "顺丰速运", "tracking_no": "SF1234567890" });
    assert_eq!(
        reviewer.post(&format!("/api/admin/applications/{id}/shipment"), parcel.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, waiting) = service.get("/api/admin/shipments").await;
    assert_eq!(s, StatusCode::OK);
    assert!(waiting["items"].as_array().unwrap().iter().any(|a| a["id"] == id.as_str()), "{waiting}");
    let (s, v) = service
        .post(&format!("/api/admin/applications/{id}/shipment"), json!({ "courier": "", "tracking_no": "x" }))
        .await;
    assert_eq!((s, v["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("courier")));
    assert_eq!(service.post(&format!("/api/admin/applications/{id}/shipment"), parcel).await.0, StatusCode::OK);
    let (_, shipments) = b.get("/api/shipments").await;
    assert_eq!(shipments[0]["tracking_no"], "SF1234567890");
    assert_eq!(shipments[0]["common_name"], "天津市滨海数字认证有限公司");
    assert_eq!(shipments[0]["acceptance_no"], acceptance.as_str());
    // Posted once: it leaves the list of parcels to send.
    let (_, waiting) = service.get("/api/admin/shipments").await;
    assert!(!waiting["items"].as_array().unwrap().iter().any(|a| a["id"] == id.as_str()), "{waiting}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_lists_only_waiting_requests_and_nobody_reviews_their_own() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, true).await;
    // A draft is the customer's own: not listed under any filter, not readable by staff.
    for filter in ["draft", "approved", "rejected", "issued", "nonsense"] {
        let (s, v) = reviewer.get(&format!("/api/admin/applications?status={filter}")).await;
        assert_eq!(
            (s, v["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("status")),
            "{filter}: {v}"
        );
    }
    let listed = |q: &Value| q["items"].as_array().unwrap().iter().any(|i| i["request"]["id"] == id.as_str());
    let (_, q) = reviewer.get("/api/admin/applications").await;
    assert!(!listed(&q), "{q}");
    assert_eq!(reviewer.get(&format!("/api/admin/applications/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        reviewer.get(&format!("/api/admin/applications/{id}/documents/business_licence")).await.0,
        StatusCode::NOT_FOUND
    );

    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, q) = reviewer.get("/api/admin/applications?status=submitted").await;
    assert!(listed(&q), "{q}");

    // A reviewer whose own phone made the request neither sees it nor may decide it.
    let body = json!({ "username": "own.phone", "display_name": "自己", "role": "reviewer", "mobile": mobile });
    let (s, v) = admin.post("/api/admin/staff", body).await;
    assert_eq!((s, v["staff"]["mobile"].as_str()), (StatusCode::OK, Some(mobile.as_str())), "{v}");
    let own_id = v["staff"]["id"].as_str().unwrap().to_owned();
    let meta = certdesk::domain::ClientMeta { ip: "127.0.0.1".into(), user_agent: "test".into() };
    let (value, row) = certdesk::domain::session::start(
        &app.state.db,
        certdesk::domain::session::Kind::Staff,
        &own_id,
        "test",
        &meta,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let mut own = Browser { app: &app, cookie: Some(format!("certdesk-staff={value}")), csrf: Some(row.csrf_token) };
    let (_, q) = own.get("/api/admin/applications").await;
    assert!(!listed(&q), "{q}");
    let (s, v) =
        own.post(&format!("/api/admin/applications/{id}/review"), json!({ "approve": true, "reasons": [] })).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("own_request")), "{v}");
    let (_, v) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!(v["status"], "submitted", "nothing changed");
    // Another reviewer decides it.
    let (s, v) =
        reviewer.post(&format!("/api/admin/applications/{id}/review"), json!({ "approve": true, "reasons": [] })).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
}
