//! From a draft to a certificate: the wizard's documents and steps (a complete organisation
//! draft, or a holder's draft of a type), submission, approval with the download code by
//! SMS, and issuance into a fresh key.

use certdesk_shared::admin::StaffRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, last_sms, registered, staff_browser};

pub const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00";
pub const ZIP: &[u8] = b"PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";

pub async fn upload(b: &Browser<'_>, id: &str, kind: &str, name: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let res = b
        .app
        .client
        .put(b.app.url(&format!("/api/applications/{id}/documents/{kind}")))
        .header("cookie", b.cookie.clone().unwrap())
        .header("x-csrf-token", b.csrf.clone().unwrap())
        .header("x-file-name", name)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn certificate_info(credit_code: &str) -> Value {
    json!({
        "holder": { "kind": "organisation", "org_name": "天津市滨海数字认证有限公司", "credit_code": credit_code },
        "validity_id": "org-1y",
        "email": "ca@example.com",
        "province": "天津市",
        "city": "和平区",
    })
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
        let (_, found) = admin.get(&format!("/api/admin/accounts?mobile={mobile}")).await;
        assert_eq!(
            (found[0]["mobile"].as_str(), found[0]["billing"].as_str()),
            (Some(mobile.as_str()), Some("scan_to_pay")),
            "{found}"
        );
        let account = found[0]["id"].as_str().unwrap().to_owned();
        let body = json!({ "billing": "settlement" });
        let (status, _) = admin.call(Method::PUT, &format!("/api/admin/accounts/{account}/billing"), Some(body)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, found) = admin.get(&format!("/api/admin/accounts?mobile={mobile}")).await;
        assert_eq!(found[0]["billing"], "settlement");
        let (_, trail) = admin.get("/api/admin/audit?per_page=200").await;
        assert!(
            trail["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "billing_changed" && e["subject"] == account.as_str()),
            "{trail}"
        );
    }
    let (_, catalogue) = b.get("/api/catalogue").await;
    assert_eq!(catalogue["billing"], if settlement { "settlement" } else { "scan_to_pay" });
    assert_eq!(catalogue["projects"][0]["name"], "RA测试专用");
    let types: Vec<&str> =
        catalogue["projects"][0]["types"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(types, ["机构证书", "法人证书", "个人证书"]);
    assert_eq!(catalogue["projects"][0]["types"][0]["validity"][0]["price_fen"], 30000);

    let (status, draft) = b.post("/api/applications", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let id = draft["id"].as_str().unwrap().to_owned();
    assert_eq!((draft["status"].as_str(), draft["step"].as_u64()), (Some("draft"), Some(1)));
    let put = |path: &str| format!("/api/applications/{id}/{path}");
    let (s, v) = b
        .call(
            Method::PUT,
            &put("choose-type"),
            Some(json!({ "project_id": "ra-test", "type_id": "org", "medium": "ukey" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = b.call(Method::PUT, &put("certificate-info"), Some(certificate_info("91350100M000100Y43"))).await;
    assert_eq!((s, v["price_fen"].as_i64(), v["step"].as_u64()), (StatusCode::OK, Some(30000), Some(3)), "{v}");
    assert_eq!(upload(&b, &id, "business_licence", "营业执照.pdf", PDF).await.0, StatusCode::OK);
    assert_eq!(upload(&b, &id, "operator_id", "%E8%BA%AB%E4%BB%BD%E8%AF%81.png", PNG).await.0, StatusCode::OK);
    assert_eq!(upload(&b, &id, "other", "other.zip", ZIP).await.0, StatusCode::OK);
    let operator = json!({ "name": "张三", "id_number": "11010519491231002X", "mobile": mobile, "email": "zs@example.com",
                           "unit_phone": "022-12345678", "address": "天津市空港经济区西七道26号" });
    assert_eq!(b.call(Method::PUT, &put("operator"), Some(operator)).await.0, StatusCode::OK);
    let delivery = json!({ "method": "post", "recipient_company": "天津市滨海数字认证有限公司", "recipient_name": "张三",
                           "recipient_phone": mobile, "address": "天津市和平区1号", "cash_on_delivery": true });
    let (s, v) = b.call(Method::PUT, &put("delivery"), Some(delivery)).await;
    assert_eq!((s, v["step"].as_u64()), (StatusCode::OK, Some(6)), "{v}");
    // ⑦ asks for the challenge phrase (撤销密码): submission is refused without one.
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!(
        (s, v["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("challenge_phrase")),
        "{v}"
    );
    let (s, v) = b.call(Method::PUT, &put("challenge-phrase"), Some(json!({ "challenge_phrase": "short" }))).await;
    assert_eq!(
        (s, v["fields"][0]["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("challenge_phrase_length"))
    );
    // Seven characters are too few, and a phrase from the common-password list is refused
    // in any case: neither is stored.
    for (phrase, error) in [
        ("1234567", "challenge_phrase_length"),
        ("Password123", "challenge_phrase_common"),
        ("iloveyou", "challenge_phrase_common"),
    ] {
        let (s, v) = b.call(Method::PUT, &put("challenge-phrase"), Some(json!({ "challenge_phrase": phrase }))).await;
        assert_eq!(
            (s, v["fields"][0]["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(error)),
            "{phrase}: {v}"
        );
    }
    let (_, v) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!(v["challenge_set"], false, "a refused phrase is not kept: {v}");
    let (s, v) =
        b.call(Method::PUT, &put("challenge-phrase"), Some(json!({ "challenge_phrase": CHALLENGE_PHRASE }))).await;
    assert_eq!((s, v["challenge_set"].as_bool(), v["step"].as_u64()), (StatusCode::OK, Some(true), Some(6)), "{v}");
    (b, id, mobile)
}

pub fn person() -> Value {
    json!({ "kind": "person", "name": "李四", "id": { "type": "resident_id", "number": "11010519491231002X" } })
}

pub fn info(holder: Value, validity_id: &str) -> Value {
    json!({ "holder": holder, "validity_id": validity_id, "email": "lisi@example.com", "province": "天津市", "city": "和平区" })
}

/// A settlement customer's draft of `type_id` on `medium`, with step ② saved as `holder`.
pub async fn draft<'a>(
    app: &'a TestApp,
    admin: &mut Browser<'a>,
    type_id: &str,
    medium: &str,
) -> (Browser<'a>, String, String) {
    let (mut b, mobile) = registered(app).await;
    let (_, found) = admin.get(&format!("/api/admin/accounts?mobile={mobile}")).await;
    let account = found[0]["id"].as_str().unwrap().to_owned();
    let (s, _) = admin
        .call(Method::PUT, &format!("/api/admin/accounts/{account}/billing"), Some(json!({ "billing": "settlement" })))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, d) = b.post("/api/applications", json!({})).await;
    let id = d["id"].as_str().unwrap().to_owned();
    let body = json!({ "project_id": "ra-test", "type_id": type_id, "medium": medium });
    let (s, v) = b.call(Method::PUT, &format!("/api/applications/{id}/choose-type"), Some(body)).await;
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
    let put = |p: &str| format!("/api/applications/{id}/{p}");
    let operator =
        json!({ "name": "张三", "id_number": "11010519491231002X", "mobile": mobile, "email": "zs@example.com" });
    assert_eq!(b.call(Method::PUT, &put("operator"), Some(operator)).await.0, StatusCode::OK);
    let delivery = json!({ "method": "counter" });
    assert_eq!(b.call(Method::PUT, &put("delivery"), Some(delivery)).await.0, StatusCode::OK);
    let phrase = json!({ "challenge_phrase": CHALLENGE_PHRASE });
    assert_eq!(b.call(Method::PUT, &put("challenge-phrase"), Some(phrase)).await.0, StatusCode::OK);
    let (s, v) = b.post(&put("submit"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = v["acceptance_no"].as_str().unwrap().to_owned();
    let (mut reviewer, _) = staff_browser(app, StaffRole::Reviewer).await;
    let (s, v) = reviewer.post(&format!("/api/admin/applications/{id}/review"), json!({ "approve": true })).await;
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
    let (s, v) = b.post(&format!("/api/applications/{id}/submit"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = v["acceptance_no"].as_str().unwrap().to_owned();
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
    (
        v["certificate_uid"].as_str().unwrap().to_owned(),
        v["serial"].as_str().unwrap().to_owned(),
        v["pem"].as_str().unwrap().to_owned(),
        key,
    )
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
    let (s, _) = admin.post(&format!("/api/admin/applications/{id}/review"), json!({ "approve": true })).await;
    assert_eq!(s, StatusCode::OK);
    let sms = last_sms(app, mobile).await.unwrap();
    let at = sms.body.find("下载授权码：").unwrap() + "下载授权码：".len();
    let code: String = sms.body[at..].chars().take(8).collect();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr =
        rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(&key).unwrap().pem().unwrap();
    let answer = Browser::new(app)
        .post(
            "/api/applications/issue",
            json!({ "acceptance_no": acceptance, "auth_code": code, "csr_pem": csr, "medium_no": medium_no,
                    "medium_kind": "ukey" }),
        )
        .await;
    (key, answer)
}
