//! From a draft to a certificate: the wizard's documents and steps (a complete organisation
//! draft, or a holder's draft of a type), submission, approval with the download code by
//! SMS, and issuance into a fresh key.

use certdesk_shared::ValidationError;
use certdesk_shared::admin::{AccountQuery, AuditQuery, StaffRole};
use certdesk_shared::agent::TokenKind;
use certdesk_shared::apply::{
    BillingMode, CertificateInfo, ChooseType, DeliveryInfo, DeliveryMethod, Holder, IssueForCsr, Issued, Medium,
    OperatorInfo, ReviewDecision, SetBilling, SetChallengePhrase,
};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::request::{RequestStatus, RequestView};
use certdesk_shared::validate::{IdDocument, IdType};
use certdesk_shared::{CreditCode, Email, IdCardNumber, Named, OrgName, PersonName};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::browser::{Browser, decode, first_field, last_sms, mobile, registered, staff_browser, to_json};
use crate::helpers::{TestApp, status_and_json};

pub const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00";
pub const ZIP: &[u8] = b"PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";

pub async fn upload(b: &Browser<'_>, id: &str, kind: &str, name: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let res = b
        .app
        .client
        .put(b.app.url(&endpoint::UploadDocument::path(&[id, kind])))
        .header("cookie", b.cookie.clone().unwrap())
        .header("x-csrf-token", b.csrf.clone().unwrap())
        .header("x-file-name", name)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    status_and_json(res).await
}

/// Step ② of an organisation certificate (机构证书, one year).
pub fn org_info() -> CertificateInfo {
    CertificateInfo {
        holder: Holder::Organisation {
            org_name: OrgName::parse("天津市滨海数字认证有限公司").unwrap(),
            credit_code: CreditCode::parse("91350100M000100Y43").unwrap(),
        },
        validity_id: "org-1y".into(),
        email: Some(Email::parse("ca@example.com").unwrap()),
        province: "天津市".into(),
        city: "和平区".into(),
    }
}

/// [`org_info`] with any credit code, a wrong one too (for the server's refusals).
pub fn certificate_info(credit_code: &str) -> Value {
    let mut v = to_json(org_info());
    v["holder"]["credit_code"] = credit_code.into();
    v
}

/// Step ①'s body for a type of the test project.
pub fn choose(type_id: &str, medium: &str) -> ChooseType {
    ChooseType {
        project_id: "ra-test".into(),
        type_id: type_id.into(),
        medium: Medium::parse(medium).expect("a medium"),
    }
}

/// Step ③: the operator 张三 with `mobile`.
pub fn operator(mobile: &str) -> OperatorInfo {
    OperatorInfo {
        name: PersonName::parse("张三").unwrap(),
        id_number: IdCardNumber::parse("11010519491231002X").unwrap(),
        mobile: self::mobile_of(mobile),
        email: Email::parse("zs@example.com").unwrap(),
        unit_phone: None,
        address: None,
    }
}

fn mobile_of(s: &str) -> certdesk_shared::Mobile {
    mobile(s)
}

/// Step ⑤ when the customer collects at the counter.
pub fn counter() -> DeliveryInfo {
    DeliveryInfo {
        method: DeliveryMethod::Counter,
        recipient_company: None,
        recipient_name: None,
        recipient_phone: None,
        address: None,
        cash_on_delivery: false,
    }
}

/// Step ⑦'s body.
pub fn phrase(challenge_phrase: &str) -> SetChallengePhrase {
    SetChallengePhrase { challenge_phrase: challenge_phrase.into() }
}

/// A reviewer's approval.
pub fn approve() -> ReviewDecision {
    ReviewDecision { approve: true, reasons: Vec::new() }
}

/// The challenge phrase every [`complete_draft`] sets.
pub const CHALLENGE_PHRASE: &str = "我的撤销密码 2026";

/// A customer with a complete draft: a settlement customer (set by an administrator), or a
/// scan-to-pay one.
pub async fn complete_draft<'a>(
    app: &'a TestApp,
    admin: &mut Browser<'a>,
    settlement: bool,
) -> (Browser<'a>, String, String) {
    let (mut b, mobile) = registered(app).await;
    if settlement {
        // The administrator finds the account by its phone number, as the console does.
        let found = admin.ok::<endpoint::FindAccounts>(&[], &AccountQuery { mobile: mobile.clone() }).await;
        assert_eq!(
            found.first().map(|a| (a.mobile.as_str(), a.billing)),
            Some((mobile.as_str(), BillingMode::ScanToPay)),
            "{found:?}"
        );
        let account = found[0].id.clone();
        let body = SetBilling { billing: BillingMode::Settlement };
        let (status, _) = admin.send::<endpoint::SetBilling>(&[&account], &body).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let found = admin.ok::<endpoint::FindAccounts>(&[], &AccountQuery { mobile: mobile.clone() }).await;
        assert_eq!(found[0].billing, BillingMode::Settlement);
        let trail =
            admin.ok::<endpoint::AuditTrail>(&[], &AuditQuery { per_page: Some(200), ..Default::default() }).await;
        assert!(trail.items.iter().any(|e| e.action == "billing_changed" && e.subject == account), "{trail:?}");
    }
    let catalogue = b.ok::<endpoint::CustomerCatalogue>(&[], &()).await;
    assert_eq!(catalogue.billing, if settlement { BillingMode::Settlement } else { BillingMode::ScanToPay });
    assert_eq!(catalogue.projects[0].name, "RA测试专用");
    let types: Vec<&str> = catalogue.projects[0].types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(types, ["机构证书", "法人证书", "个人证书"]);
    assert_eq!(catalogue.projects[0].types[0].validity[0].price_fen, 30000);

    let (status, draft) = b.send::<endpoint::StartApplication>(&[], &()).await;
    assert_eq!(status, StatusCode::OK);
    let draft: RequestView = decode(&draft);
    let id = draft.id.clone();
    assert_eq!((draft.status, draft.step), (RequestStatus::Draft, 1));
    let (s, v) = b.send::<endpoint::ChooseType>(&[&id], &choose("org", "ukey")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = b.send::<endpoint::SaveCertificateInfo>(&[&id], &org_info()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let saved: RequestView = decode(&v);
    assert_eq!((saved.price_fen, saved.step), (Some(30000), 3), "{v}");
    assert_eq!(upload(&b, &id, "business_licence", "营业执照.pdf", PDF).await.0, StatusCode::OK);
    assert_eq!(upload(&b, &id, "operator_id", "%E8%BA%AB%E4%BB%BD%E8%AF%81.png", PNG).await.0, StatusCode::OK);
    assert_eq!(upload(&b, &id, "other", "other.zip", ZIP).await.0, StatusCode::OK);
    let operator = OperatorInfo {
        unit_phone: Some("022-12345678".into()),
        address: Some("天津市空港经济区西七道26号".into()),
        ..self::operator(&mobile)
    };
    assert_eq!(b.send::<endpoint::SaveOperator>(&[&id], &operator).await.0, StatusCode::OK);
    let delivery = DeliveryInfo {
        method: DeliveryMethod::Post,
        recipient_company: Some("天津市滨海数字认证有限公司".into()),
        recipient_name: Some(PersonName::parse("张三").unwrap()),
        recipient_phone: Some(self::mobile_of(&mobile)),
        address: Some("天津市和平区1号".into()),
        cash_on_delivery: true,
    };
    let (s, v) = b.send::<endpoint::SaveDelivery>(&[&id], &delivery).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).step, 6, "{v}");
    // ⑦ asks for the challenge phrase (撤销密码): submission is refused without one.
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(first_field(&v).map(|f| f.0), Some("challenge_phrase".to_owned()), "{v}");
    let (s, v) = b.send::<endpoint::SetChallengePhrase>(&[&id], &phrase("short")).await;
    assert_eq!(
        (s, first_field(&v).map(|f| f.1)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::ChallengePhraseLength))
    );
    // Seven characters are too few, and a phrase from the common-password list is refused
    // in any case: neither is stored.
    for (text, error) in [
        ("1234567", ValidationError::ChallengePhraseLength),
        ("Password123", ValidationError::ChallengePhraseCommon),
        ("iloveyou", ValidationError::ChallengePhraseCommon),
    ] {
        let (s, v) = b.send::<endpoint::SetChallengePhrase>(&[&id], &phrase(text)).await;
        assert_eq!((s, first_field(&v).map(|f| f.1)), (StatusCode::UNPROCESSABLE_ENTITY, Some(error)), "{text}: {v}");
    }
    let v = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert!(!v.challenge_set, "a refused phrase is not kept: {v:?}");
    let (s, v) = b.send::<endpoint::SetChallengePhrase>(&[&id], &phrase(CHALLENGE_PHRASE)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let saved: RequestView = decode(&v);
    assert_eq!((saved.challenge_set, saved.step), (true, 6), "{v}");
    (b, id, mobile)
}

/// A personal certificate's holder: 李四 with his resident ID.
pub fn person() -> Holder {
    Holder::Person {
        name: PersonName::parse("李四").unwrap(),
        id: IdDocument::parse(IdType::ResidentId, "11010519491231002X").unwrap(),
    }
}

/// Step ② for `holder`.
pub fn info(holder: Holder, validity_id: &str) -> CertificateInfo {
    CertificateInfo {
        holder,
        validity_id: validity_id.into(),
        email: Some(Email::parse("lisi@example.com").unwrap()),
        province: "天津市".into(),
        city: "和平区".into(),
    }
}

/// A settlement customer's draft of `type_id` on `medium`, with step ② saved as `holder`.
pub async fn draft<'a>(
    app: &'a TestApp,
    admin: &mut Browser<'a>,
    type_id: &str,
    medium: &str,
) -> (Browser<'a>, String, String) {
    let (mut b, mobile) = registered(app).await;
    let found = admin.ok::<endpoint::FindAccounts>(&[], &AccountQuery { mobile: mobile.clone() }).await;
    let account = found[0].id.clone();
    let body = SetBilling { billing: BillingMode::Settlement };
    let (s, _) = admin.send::<endpoint::SetBilling>(&[&account], &body).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, d) = b.send::<endpoint::StartApplication>(&[], &()).await;
    let id = decode::<RequestView>(&d).id;
    let (s, v) = b.send::<endpoint::ChooseType>(&[&id], &choose(type_id, medium)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (b, id, mobile)
}

/// Completes and submits a draft whose step ② is saved, approves it, and returns the
/// acceptance number and the download authorization code.
pub async fn submit_and_approve(app: &TestApp, b: &mut Browser<'_>, id: &str, mobile: &str) -> (String, String) {
    for (kind, name, bytes) in
        [("business_licence", "l.pdf", PDF), ("operator_id", "id.png", PNG), ("other", "o.zip", ZIP)]
    {
        let (s, v) = upload(b, id, kind, name, bytes).await;
        assert_eq!(s, StatusCode::OK, "{kind}: {v}");
    }
    assert_eq!(b.send::<endpoint::SaveOperator>(&[id], &operator(mobile)).await.0, StatusCode::OK);
    assert_eq!(b.send::<endpoint::SaveDelivery>(&[id], &counter()).await.0, StatusCode::OK);
    assert_eq!(b.send::<endpoint::SetChallengePhrase>(&[id], &phrase(CHALLENGE_PHRASE)).await.0, StatusCode::OK);
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");
    let (mut reviewer, _) = staff_browser(app, StaffRole::Reviewer).await;
    let (s, v) = reviewer.send::<endpoint::Review>(&[id], &approve()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let sms = last_sms(app, mobile).await.unwrap();
    let at = sms.body.find("下载授权码：").unwrap() + "下载授权码：".len();
    (acceptance, sms.body[at..].chars().take(8).collect())
}

pub fn csr() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(&key).unwrap().pem().unwrap()
}

/// A submitted settlement application: the customer, its id, acceptance number and the
/// operator's phone.
pub async fn submitted(app: &TestApp) -> (Browser<'_>, Browser<'_>, String, String, String) {
    let (mut admin, _) = staff_browser(app, StaffRole::Administrator).await;
    let (mut b, id, mobile) = complete_draft(app, &mut admin, true).await;
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");
    (b, admin, id, acceptance, mobile)
}

/// Approved and issued for a fresh key: uid, serial, the certificate (PEM) and its key.
pub async fn issue_with_key(
    app: &TestApp,
    admin: &mut Browser<'_>,
    id: &str,
    acceptance: &str,
    mobile: &str,
) -> (String, String, String, rcgen::KeyPair) {
    issue_into(app, admin, id, acceptance, mobile, None).await
}

/// [`issue_with_key`] for a key made on the token with this medium number.
pub async fn issue_into(
    app: &TestApp,
    admin: &mut Browser<'_>,
    id: &str,
    acceptance: &str,
    mobile: &str,
    medium_no: Option<&str>,
) -> (String, String, String, rcgen::KeyPair) {
    let (key, (s, v)) = try_issue_into(app, admin, id, acceptance, mobile, medium_no).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let issued: Issued = decode(&v);
    (issued.certificate_uid, issued.serial, issued.pem, key)
}

/// Approves, reads the download code from the SMS, and asks for issuance for a fresh key on
/// `medium_no`: the key and the answer.
pub async fn try_issue_into(
    app: &TestApp,
    admin: &mut Browser<'_>,
    id: &str,
    acceptance: &str,
    mobile: &str,
    medium_no: Option<&str>,
) -> (rcgen::KeyPair, (StatusCode, Value)) {
    let (s, _) = admin.send::<endpoint::Review>(&[id], &approve()).await;
    assert_eq!(s, StatusCode::OK);
    let sms = last_sms(app, mobile).await.unwrap();
    let at = sms.body.find("下载授权码：").unwrap() + "下载授权码：".len();
    let code: String = sms.body[at..].chars().take(8).collect();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr =
        rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(&key).unwrap().pem().unwrap();
    let body = IssueForCsr {
        acceptance_no: acceptance.to_owned(),
        auth_code: code,
        csr_pem: csr,
        medium_no: medium_no.map(str::to_owned),
        medium_kind: TokenKind::Ukey,
    };
    let answer = Browser::new(app).send::<endpoint::IssueForCsr>(&[], &body).await;
    (key, answer)
}
