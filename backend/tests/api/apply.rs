//! New certificate (证书新办): the wizard's steps saved on the server, documents checked by
//! content, submission, rejection with reasons, fixing and resubmitting, approval with an
//! authorization code by SMS, and issuance for a CSR.

use certdesk_shared::admin::{
    CreateStaffRequest, InvoiceQuery, Page, QueueQuery, ShipmentQuery, StaffCreated, StaffRole,
};
use certdesk_shared::agent::{KeyAlgorithm, TokenKind};
use certdesk_shared::apply::{
    BillingMode, DocumentKind, DownloadInfo, DownloadQuery, FieldReason, InvoiceStatus, InvoiceView, IssueForCsr,
    Issued, ReviewDecision, ReviewQueueItem, SetBilling, ShipmentRequest,
};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::request::{RequestStatus, RequestView};
use certdesk_shared::{ErrorCode, Mobile, ValidationError};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::browser::{
    Browser, api_error, decode, first_field, last_sms, registered, request_for, staff_browser, to_json,
};
use crate::helpers::ca::pem_to_der;
use crate::helpers::issuing::{PDF, approve, certificate_info, choose, complete_draft, org_info, upload};
use crate::helpers::payment::invoice;
use crate::helpers::spawn_app;

/// An error answer's code.
fn code_of(v: &Value) -> ErrorCode {
    api_error(v).code
}

/// The field and rule of an error answer's first field error.
fn field_of(v: &Value) -> Option<String> {
    first_field(v).map(|f| f.0)
}

fn error_of(v: &Value) -> Option<ValidationError> {
    first_field(v).map(|f| f.1)
}

/// A reviewer's decision.
fn decision(approve: bool, reasons: &[(&str, &str)]) -> ReviewDecision {
    let reasons = reasons.iter().map(|(f, r)| FieldReason { field: (*f).into(), reason: (*r).into() }).collect();
    ReviewDecision { approve, reasons }
}

/// `POST /api/applications/issue` for a UKey.
fn issue(acceptance: &str, auth_code: &str, csr_pem: &str) -> IssueForCsr {
    IssueForCsr {
        acceptance_no: acceptance.to_owned(),
        auth_code: auth_code.to_owned(),
        csr_pem: csr_pem.to_owned(),
        medium_no: None,
        medium_kind: TokenKind::Ukey,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_fix_resubmit_approve_and_issue_for_a_csr() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, true).await;

    // A reload resumes where the user was: everything is on the server.
    let v = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!(v.certificate_info.as_ref().map(|i| i.city.as_str()), Some("和平区"));
    assert_eq!(v.documents.len(), 3);

    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let submitted: RequestView = decode(&v);
    assert_eq!(submitted.status, RequestStatus::Submitted);
    let acceptance = submitted.acceptance_no.expect("an acceptance number");
    assert!(acceptance.starts_with("BH"), "{acceptance}");
    // Submitted: no more editing.
    let (s, v) = b.send::<endpoint::SaveCertificateInfo>(&[&id], &org_info()).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::NotEditable));

    let queue = reviewer.ok::<endpoint::ReviewQueue>(&[], &QueueQuery::default()).await;
    let item = queue.items.iter().find(|i| i.request.id == id).unwrap();
    assert_eq!(item.working_days_left, 5);
    let doc = reviewer.fetch::<endpoint::StaffDownloadDocument>(&[&id, "business_licence"], &()).await;
    assert_eq!(doc.headers()["content-type"], "application/pdf");
    assert_eq!(doc.headers()["content-disposition"], "attachment");
    assert_eq!(doc.bytes().await.unwrap().as_ref(), PDF);

    let (s, v) = reviewer.send::<endpoint::Review>(&[&id], &decision(false, &[])).await;
    assert_eq!((s, field_of(&v).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reasons")));
    let reasons = decision(false, &[("business_licence", "营业执照未加盖公章")]);
    let (s, v) = reviewer.send::<endpoint::Review>(&[&id], &reasons).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).status, RequestStatus::Rejected, "{v}");
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert_eq!(sms.template, "SMS_CD_REJECTED");
    assert!(sms.body.contains(&acceptance));

    // The user sees the reason, replaces only the licence, and resubmits.
    let v = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!(v.reasons.first().map(|r| r.reason.as_str()), Some("营业执照未加盖公章"));
    let stamped = [PDF, b"% stamped\n"].concat();
    assert_eq!(upload(&b, &id, "business_licence", "营业执照（盖章）.pdf", &stamped).await.0, StatusCode::OK);
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let resubmitted: RequestView = decode(&v);
    assert_eq!(resubmitted.status, RequestStatus::Resubmitted, "{v}");
    assert_eq!(resubmitted.acceptance_no.as_deref(), Some(acceptance.as_str()), "the acceptance number stays");
    let names: Vec<&str> = resubmitted.documents.iter().map(|d| d.file_name.as_str()).collect();
    assert!(names.contains(&"营业执照（盖章）.pdf") && names.contains(&"身份证.png"), "{names:?}");

    let (s, v) = reviewer.send::<endpoint::Review>(&[&id], &approve()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).status, RequestStatus::Approved, "{v}");
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
    let (s, _) = reviewer.send::<endpoint::Review>(&[&id], &approve()).await;
    assert_eq!(s, StatusCode::CONFLICT);

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr =
        rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(&key).unwrap().pem().unwrap();
    let mut anyone = Browser::new(&app);
    let (s, v) = anyone.send::<endpoint::IssueForCsr>(&[], &issue(&acceptance, "00000000", &csr)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::AuthCodeInvalid));
    // 查询证书: what the code is for, and the key the token must make for its profile.
    let query = DownloadQuery { acceptance_no: acceptance.clone(), auth_code: auth_code.clone() };
    let (s, v) = anyone.send::<endpoint::GetDownloadInfo>(&[], &query).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let info: DownloadInfo = decode(&v);
    assert_eq!(
        (info.common_name.as_str(), info.key_algorithm, info.validity_years),
        ("天津市滨海数字认证有限公司", KeyAlgorithm::P256, 1),
        "{v}"
    );
    let (s, v) = anyone.send::<endpoint::IssueForCsr>(&[], &issue(&acceptance, &auth_code, "garbage")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a bad CSR is refused and the application stays approved: {v}");
    let (s, v) = anyone.send::<endpoint::IssueForCsr>(&[], &issue(&acceptance, &auth_code, &csr)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let issued: Issued = decode(&v);
    assert_eq!(issued.chain_pem.len(), 2, "issuing CA and root for the token");
    let der = pem_to_der(&issued.pem);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let subject = cert.subject().to_string();
    assert!(
        subject.contains("CN=天津市滨海数字认证有限公司") || subject.contains("天津市滨海数字认证有限公司"),
        "{subject}"
    );
    assert!(subject.contains("91350100M000100Y43") && subject.contains(&acceptance), "{subject}");
    let v = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!(v.status, RequestStatus::Issued);
    assert!(v.certificate_uid.is_some());
    // Once issued, the code is spent.
    let (s, _) = anyone.send::<endpoint::IssueForCsr>(&[], &issue(&acceptance, &auth_code, &csr)).await;
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
    assert_eq!((s, error_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::FileType)));
    // 3 MB.
    let mut big = PDF.to_vec();
    big.resize(3 * 1024 * 1024, b' ');
    let (s, v) = upload(&b, &id, "business_licence", "big.pdf", &big).await;
    assert_eq!((s, error_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::FileTooLarge)));
    // A PDF where an archive belongs.
    let (_, v) = upload(&b, &id, "other", "other.pdf", PDF).await;
    assert_eq!(error_of(&v), Some(ValidationError::FileType));
    // A wrong credit code (no `CreditCode` holds it), an unknown city.
    let (s, v) = b.send_json::<endpoint::SaveCertificateInfo>(&[&id], certificate_info("91350100M000100Y42")).await;
    // Decoded inside the tagged holder, the code is the credit code's; the path ends there.
    assert_eq!(
        (s, first_field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(("holder".to_owned(), ValidationError::CreditCodeCheckChar))),
        "{v}"
    );
    let mut wrong_city = org_info();
    wrong_city.city = "朝阳区".into();
    let (_, v) = b.send::<endpoint::SaveCertificateInfo>(&[&id], &wrong_city).await;
    assert_eq!(error_of(&v), Some(ValidationError::RegionUnknown), "{v}");
    // A registered name may have 100 characters, but a certificate's subject names only 64
    // (RFC 5280): step ② says so.
    let mut long_name = org_info();
    long_name.holder = certdesk_shared::apply::Holder::Organisation {
        org_name: certdesk_shared::OrgName::parse(&format!("天津{}有限公司", "滨".repeat(59))).unwrap(),
        credit_code: certdesk_shared::CreditCode::parse("91350100M000100Y43").unwrap(),
    };
    let (s, v) = b.send::<endpoint::SaveCertificateInfo>(&[&id], &long_name).await;
    assert_eq!(
        (s, first_field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(("org_name".to_owned(), ValidationError::SubjectNameLength))),
        "{v}"
    );

    // Nothing was lost.
    let v = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    let unit = v.certificate_info.as_ref().and_then(|i| i.holder.organisation());
    assert_eq!(
        unit.map(|(name, code)| (name.as_str(), code.as_str())),
        Some(("天津市滨海数字认证有限公司", "91350100M000100Y43"))
    );
    let licence = v.documents.iter().find(|d| d.kind == DocumentKind::BusinessLicence).unwrap();
    assert_eq!(licence.file_name, "营业执照.pdf");
    assert_eq!(licence.size, PDF.len() as u64);
}

#[tokio::test]
async fn scan_to_pay_waits_for_payment_and_nobody_else_sees_an_application() {
    let app = spawn_app().await;
    let (mut owner, _) = registered(&app).await;
    let (_, draft) = owner.send::<endpoint::StartApplication>(&[], &()).await;
    let draft: RequestView = decode(&draft);
    let id = draft.id.clone();
    assert_eq!(draft.billing, BillingMode::ScanToPay);
    let (s, v) = owner.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "incomplete first: {v}");
    let fields: Vec<String> = api_error(&v).fields.into_iter().map(|f| f.field).collect();
    assert_eq!(fields, ["choose_type", "certificate_info", "operator", "delivery", "challenge_phrase"]);

    let (mut other, _) = registered(&app).await;
    for (method, path, _) in [
        request_for::<endpoint::GetApplication>(&[&id], &()),
        request_for::<endpoint::ChooseType>(&[&id], &choose("org", "ukey")),
        request_for::<endpoint::SubmitApplication>(&[&id], &()),
        request_for::<endpoint::DownloadDocument>(&[&id, "business_licence"], &()),
    ] {
        let body = (method != Method::GET).then(|| to_json(choose("org", "ukey")));
        let (s, _) = other.call(method.clone(), &path, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let list = other.ok::<endpoint::ListApplications>(&[], &()).await;
    assert!(list.is_empty(), "{list:?}");
    // And a customer reaches no review route.
    let (s, _) = owner.send::<endpoint::ReviewQueue>(&[], &QueueQuery::default()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_scan_to_pay_customer_pays_before_review() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!((s, code_of(&v)), (StatusCode::PAYMENT_REQUIRED, ErrorCode::PaymentRequired));
    let v = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!((v.status, v.acceptance_no.is_none()), (RequestStatus::Draft, true));
    // Only administrators set billing modes.
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let account = "00000000-0000-0000-0000-000000000000";
    let body = SetBilling { billing: BillingMode::Settlement };
    let (s, _) = reviewer.send::<endpoint::SetBilling>(&[account], &body).await;
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

/// A file the browser downloads from `E`: its status and bytes.
async fn bytes<E: Endpoint<Request = ()>>(b: &Browser<'_>, args: &[&str]) -> (StatusCode, Vec<u8>) {
    let res = b.fetch::<E>(args, &()).await;
    (res.status(), res.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printable_form_invoice_by_finance_and_tracking_number() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut finance, _) = staff_browser(&app, StaffRole::Finance).await;
    let (mut service, _) = staff_browser(&app, StaffRole::CustomerService).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, true).await;
    let (_, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");

    // The printable form, read back by poppler: correct Chinese text.
    let (s, pdf) = bytes::<endpoint::ApplicationForm>(&b, &[&id]).await;
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
    let invoice = invoice();
    let (s, _) = b.send::<endpoint::RequestInvoice>(&[&id], &invoice).await;
    assert_eq!(s, StatusCode::CONFLICT);
    admin.send::<endpoint::Review>(&[&id], &approve()).await;
    // A wrong tax number (no `CreditCode` holds it) and no bank.
    let mut bad = to_json(&invoice);
    bad["tax_number"] = "91350100M000100Y42".into();
    bad["bank"] = "".into();
    let (s, v) = b.send_json::<endpoint::RequestInvoice>(&[&id], bad).await;
    assert_eq!((s, field_of(&v).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("tax_number")));
    let (s, v) = b.send::<endpoint::RequestInvoice>(&[&id], &invoice).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let requested: InvoiceView = decode(&v);
    assert_eq!((requested.status, requested.amount_fen), (InvoiceStatus::Requested, 30000), "{v}");
    let invoice_id = requested.id;
    assert_eq!(b.send::<endpoint::RequestInvoice>(&[&id], &invoice).await.0, StatusCode::CONFLICT);

    // Finance: the queue of 待开票, issue once.
    let requested = InvoiceQuery { status: "requested".into(), ..Default::default() };
    let q = finance.ok::<endpoint::InvoiceQueue>(&[], &requested).await;
    assert!(q.items.iter().any(|i| i.id == invoice_id));
    assert_eq!(service.send::<endpoint::InvoiceQueue>(&[], &InvoiceQuery::default()).await.0, StatusCode::FORBIDDEN);
    let (s, v) = finance.send::<endpoint::IssueInvoice>(&[&invoice_id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let issued: InvoiceView = decode(&v);
    assert_eq!(issued.status, InvoiceStatus::Issued, "{v}");
    let number = issued.invoice_no.expect("an invoice number");
    assert_eq!(finance.send::<endpoint::IssueInvoice>(&[&invoice_id], &()).await.0, StatusCode::CONFLICT);
    let (s, pdf) = bytes::<endpoint::InvoicePdf>(&b, &[&invoice_id]).await;
    assert_eq!(s, StatusCode::OK);
    let text = pdf_text(&pdf);
    assert!(text.contains("电子发票") && text.contains(&number) && text.contains("¥300"), "{text}");
    let mail = crate::helpers::browser::last_sms(&app, "finance@example.com")
        .await
        .expect("the e-invoice e-mail (outbox without SMTP)");
    assert_eq!(mail.channel, "email");
    assert!(mail.body.contains(&number) && mail.body.contains(".pdf"), "{}", mail.body);
    let mine = b.ok::<endpoint::ListInvoices>(&[], &()).await;
    assert_eq!(mine.first().map(|i| i.status), Some(InvoiceStatus::Issued));
    // Nobody else downloads it.
    let (other, _) = registered(&app).await;
    assert_eq!(bytes::<endpoint::InvoicePdf>(&other, &[&invoice_id]).await.0, StatusCode::NOT_FOUND);

    // Shipping: customer service records it; the customer sees it under 邮寄查询.
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let parcel = ShipmentRequest { courier: "顺丰速运".into(), tracking_no: "SF1234567890".into() };
    assert_eq!(reviewer.send::<endpoint::Ship>(&[&id], &parcel).await.0, StatusCode::FORBIDDEN);
    let waiting = service.ok::<endpoint::AwaitingShipment>(&[], &ShipmentQuery::default()).await;
    assert!(waiting.items.iter().any(|a| a.id == id), "{waiting:?}");
    let no_courier = ShipmentRequest { courier: String::new(), tracking_no: "x".into() };
    let (s, v) = service.send::<endpoint::Ship>(&[&id], &no_courier).await;
    assert_eq!((s, field_of(&v).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("courier")));
    assert_eq!(service.send::<endpoint::Ship>(&[&id], &parcel).await.0, StatusCode::OK);
    let shipments = b.ok::<endpoint::ListShipments>(&[], &()).await;
    let first = shipments.first().expect("a shipment");
    assert_eq!(first.tracking_no, "SF1234567890");
    assert_eq!(first.common_name, "天津市滨海数字认证有限公司");
    assert_eq!(first.acceptance_no.as_deref(), Some(acceptance.as_str()));
    // Posted once: it leaves the list of parcels to send.
    let waiting = service.ok::<endpoint::AwaitingShipment>(&[], &ShipmentQuery::default()).await;
    assert!(!waiting.items.iter().any(|a| a.id == id), "{waiting:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_lists_only_waiting_requests_and_nobody_reviews_their_own() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut reviewer, _) = staff_browser(&app, StaffRole::Reviewer).await;
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, true).await;
    // A draft is the customer's own: not listed under any filter, not readable by staff.
    for filter in ["draft", "approved", "rejected", "issued", "nonsense"] {
        let (s, v) = reviewer
            .send::<endpoint::ReviewQueue>(&[], &QueueQuery { status: filter.to_string(), ..Default::default() })
            .await;
        assert_eq!((s, field_of(&v).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")), "{filter}: {v}");
    }
    let listed = |q: &Value| decode::<Page<ReviewQueueItem>>(q).items.iter().any(|i| i.request.id == id);
    let (_, q) = reviewer.send::<endpoint::ReviewQueue>(&[], &QueueQuery::default()).await;
    assert!(!listed(&q), "{q}");
    assert_eq!(reviewer.send::<endpoint::StaffViewRequest>(&[&id], &()).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        reviewer.send::<endpoint::StaffDownloadDocument>(&[&id, "business_licence"], &()).await.0,
        StatusCode::NOT_FOUND
    );

    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, q) = reviewer
        .send::<endpoint::ReviewQueue>(&[], &QueueQuery { status: "submitted".into(), ..Default::default() })
        .await;
    assert!(listed(&q), "{q}");

    // A reviewer whose own phone made the request neither sees it nor may decide it.
    let body = CreateStaffRequest {
        username: "own.phone".into(),
        display_name: "自己".into(),
        role: StaffRole::Reviewer,
        mobile: Some(Mobile::parse(&mobile).unwrap()),
    };
    let (s, v) = admin.send::<endpoint::CreateStaff>(&[], &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let created: StaffCreated = decode(&v);
    assert_eq!(created.staff.mobile.as_deref(), Some(mobile.as_str()), "{v}");
    let own_id = created.staff.id;
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
    let (_, q) = own.send::<endpoint::ReviewQueue>(&[], &QueueQuery::default()).await;
    assert!(!listed(&q), "{q}");
    let (s, v) = own.send::<endpoint::Review>(&[&id], &decision(true, &[])).await;
    assert_eq!((s, code_of(&v)), (StatusCode::FORBIDDEN, ErrorCode::OwnRequest), "{v}");
    let v = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!(v.status, RequestStatus::Submitted, "nothing changed");
    // Another reviewer decides it.
    let (s, v) = reviewer.send::<endpoint::Review>(&[&id], &decision(true, &[])).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).status, RequestStatus::Approved, "{v}");
}
