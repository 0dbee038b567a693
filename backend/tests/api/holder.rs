//! Step ② asks each certificate type for its own holder (issue 13): a 个人证书 is issued to
//! the person, a 法人证书 to the legal representative in the organisation, checked with
//! OpenSSL and pkilint; the wrong holder or a bad number changes nothing; and the download
//! goes only into the kind of medium chosen in step ①.

use std::path::Path;
use std::process::Command;

use certdesk_shared::admin::StaffRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::browser::{Browser, staff_browser};
use crate::helpers::issuing::{csr, draft, info, person, submit_and_approve};
use crate::helpers::spawn_app;

fn legal_person() -> Value {
    json!({ "kind": "legal_person", "name": "王五", "id": { "type": "passport", "number": "E12345678" },
            "org_name": "天津市滨海数字认证有限公司", "credit_code": "91350100M000100Y43" })
}

/// `openssl x509 -subject` in RFC 2253 order with UTF-8 left as it is.
fn openssl_subject(dir: &Path, pem_text: &str) -> String {
    let path = dir.join("cert.pem");
    std::fs::write(&path, pem_text).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb", "-in"])
        .arg(&path)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().trim_start_matches("subject=").to_owned()
}

/// pkilint's findings at WARNING and above (none expected).
fn pkilint(dir: &Path, pem_text: &str) -> Option<String> {
    let bin = std::env::var("PKILINT_BIN")
        .unwrap_or_else(|_| format!("{}/../target/tools/pkilint/bin", env!("CARGO_MANIFEST_DIR")));
    let tool = Path::new(&bin).join("lint_pkix_cert");
    assert!(tool.exists(), "pkilint is not installed in {bin}: run `cargo xtask test`, or set PKILINT_BIN");
    let path = dir.join("lint.pem");
    std::fs::write(&path, pem_text).unwrap();
    let out = Command::new(tool).args(["lint", "-s", "WARNING"]).arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (!out.status.success() || text.contains("ERROR") || text.contains("WARNING")).then_some(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_and_legal_person_certificates_are_issued_to_their_holders() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let dir = tempfile::tempdir().unwrap();
    // (type, medium, holder, the subject openssl prints with the business number as BH)
    let cases = [
        ("personal", "ukey", person(), "CN=李四,OU=BH,ST=天津市,L=和平区,C=CN"),
        (
            "legal",
            "pc_shield",
            legal_person(),
            "CN=王五,OU=91350100M000100Y43,OU=BH,ST=天津市,L=和平区,O=天津市滨海数字认证有限公司,C=CN",
        ),
    ];
    for (type_id, medium, holder, want) in cases {
        let (mut b, id, mobile) = draft(&app, &mut admin, type_id, medium).await;
        let (s, v) = b
            .call(
                Method::PUT,
                &format!("/api/applications/{id}/certificate-info"),
                Some(info(holder.clone(), &format!("{type_id}-1y"))),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{type_id}: {v}");
        assert_eq!(v["certificate_info"]["holder"], holder, "{type_id}: stored as sent");
        let (acceptance, code) = submit_and_approve(&app, &mut b, &id, &mobile).await;

        let mut anyone = Browser::new(&app);
        let query = json!({ "acceptance_no": acceptance, "auth_code": code });
        let (s, v) = anyone.post("/api/applications/download-info", query).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!((v["common_name"].as_str(), v["medium"].as_str()), (holder["name"].as_str(), Some(medium)), "{v}");
        let req = json!({ "acceptance_no": acceptance, "auth_code": code, "csr_pem": csr(), "medium_kind": medium });
        let (s, v) = anyone.post("/api/applications/issue", req).await;
        assert_eq!(s, StatusCode::OK, "{type_id}: {v}");
        let pem_text = v["pem"].as_str().unwrap();

        let subject = openssl_subject(dir.path(), pem_text);
        // The holder's name, never the ID number of a person; the unit's credit code is public.
        assert_eq!(subject, want.replace("OU=BH,", &format!("OU={acceptance},")), "{type_id}");
        if let Some(findings) = pkilint(dir.path(), pem_text) {
            panic!("pkilint on the {type_id} certificate:\n{findings}");
        }

        // The public search finds the certificate under the holder's name.
        let name = holder["name"].as_str().unwrap();
        let (s, v) = anyone.get(&format!("/api/public/certificates?name={}", urlencode(name))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["hits"].as_array().map(Vec::len), Some(1), "{name}: {v}");
        assert_eq!(v["hits"][0]["name"], name);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn step_two_refuses_another_types_holder_and_bad_numbers_and_keeps_what_it_had() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = draft(&app, &mut admin, "personal", "ukey").await;
    let path = format!("/api/applications/{id}/certificate-info");
    let (s, _) = b.call(Method::PUT, &path, Some(info(person(), "personal-1y"))).await;
    assert_eq!(s, StatusCode::OK);

    let organisation = json!({ "kind": "organisation", "org_name": "天津市滨海数字认证有限公司", "credit_code": "91350100M000100Y43" });
    let mut bad_check_digit = person();
    bad_check_digit["id"]["number"] = "110105194912310021".into();
    let mut passport_as_id = person();
    passport_as_id["id"]["number"] = "E12345678".into();
    let mut permit = person();
    permit["id"] = json!({ "type": "hk_macao_permit", "number": "C12345678" });
    let mut no_email = info(person(), "personal-1y");
    no_email["email"] = Value::Null;
    let cases = [
        (info(organisation, "personal-1y"), "holder", "holder_kind"),
        (info(legal_person(), "personal-1y"), "holder", "holder_kind"),
        (info(bad_check_digit, "personal-1y"), "holder", "id_card_check_digit"),
        (info(passport_as_id, "personal-1y"), "holder", "id_card_length"),
        (info(permit, "personal-1y"), "holder", "hk_macao_permit_format"),
        (no_email, "email", "required"),
    ];
    for (body, field, error) in cases {
        let res = app
            .client
            .put(app.url(&path))
            .header("cookie", b.cookie.clone().unwrap())
            .header("x-csrf-token", b.csrf.clone().unwrap())
            .header("accept-language", "en")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let v: Value = res.json().await.unwrap();
        let f = &v["fields"][0];
        assert!(f["field"].as_str().unwrap().starts_with(field) && f["error"] == error, "{body}: {v}");
    }
    // Nothing changed.
    let (_, v) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!(v["certificate_info"], info(person(), "personal-1y"));
}

#[tokio::test]
async fn a_download_goes_only_into_the_medium_chosen_in_step_one() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, mobile) = draft(&app, &mut admin, "personal", "ukey").await;
    let (s, _) = b
        .call(Method::PUT, &format!("/api/applications/{id}/certificate-info"), Some(info(person(), "personal-1y")))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (acceptance, code) = submit_and_approve(&app, &mut b, &id, &mobile).await;

    // Into a PC soft shield: refused in the user's language, and the application waits.
    let req = json!({ "acceptance_no": acceptance, "auth_code": code, "csr_pem": csr(), "medium_kind": "pc_shield",
                      "medium_no": "SD0123456789ABCDEF" });
    let res = app
        .client
        .post(app.url("/api/applications/issue"))
        .header("accept-language", "en")
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["code"], "medium_mismatch", "{v}");
    assert!(v["message"].as_str().unwrap().contains("another kind of medium"), "{v}");
    let res = app.client.post(app.url("/api/applications/issue")).json(&req).send().await.unwrap();
    let v: Value = res.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("介质类型"), "{v}");
    let (_, v) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!((v["status"].as_str(), v["certificate_uid"].as_str()), (Some("approved"), None), "{v}");
    // Without saying which kind of token: refused, nothing issued.
    let mut unsaid = req.clone();
    unsaid.as_object_mut().unwrap().remove("medium_kind");
    let (s, v) = Browser::new(&app).post("/api/applications/issue", unsaid).await;
    assert_eq!((s, &v["fields"][0]["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("medium_kind")), "{v}");

    // Into a UKey: issued.
    let mut ukey = req;
    ukey["medium_kind"] = "ukey".into();
    ukey["medium_no"] = "0123456789abcdef".into();
    let (s, v) = Browser::new(&app).post("/api/applications/issue", ukey).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = b.get(&format!("/api/applications/{id}")).await;
    assert_eq!(v["status"], "issued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_stored_before_the_holder_read_as_units_after_migration_018() {
    use sea_orm::ConnectionTrait;
    use sea_orm_migration::MigratorTrait;
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut unit, unit_id, _) = draft(&app, &mut admin, "org", "ukey").await;
    let (mut someone, person_id, _) = draft(&app, &mut admin, "personal", "ukey").await;
    let (s, _) = someone
        .call(
            Method::PUT,
            &format!("/api/applications/{person_id}/certificate-info"),
            Some(info(person(), "personal-1y")),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // Step ② as the old code stored it: the unit's fields at the top level.
    let old = r#"{"org_name":"天津市滨海数字认证有限公司","credit_code":"91350100M000100Y43","validity_id":"org-1y","email":"ca@example.com","province":"天津市","city":"和平区"}"#;
    let db = &app.state.db;
    db.execute(certdesk::domain::sql(
        db,
        "UPDATE request SET certificate_info = $2, step = 3 WHERE id = $1",
        vec![unit_id.clone().into(), old.into()],
    ))
    .await
    .unwrap();
    let (_, v) = unit.get(&format!("/api/applications/{unit_id}")).await;
    assert!(v["certificate_info"].is_null(), "the old shape does not read as the new: {v}");

    // Migration 018 taken down (it leaves the old row and the person as they are) and run,
    // with those after it.
    let from_018 = certdesk::migration::Migrator::migrations().len() as u32 - 17;
    certdesk::migration::Migrator::down(db, Some(from_018)).await.unwrap();
    certdesk::migration::Migrator::up(db, None).await.unwrap();
    let (_, v) = unit.get(&format!("/api/applications/{unit_id}")).await;
    let want = json!({ "holder": { "kind": "organisation", "org_name": "天津市滨海数字认证有限公司", "credit_code": "91350100M000100Y43" },
                       "validity_id": "org-1y", "email": "ca@example.com", "province": "天津市", "city": "和平区" });
    assert_eq!(v["certificate_info"], want, "nothing lost");
    let (_, v) = someone.get(&format!("/api/applications/{person_id}")).await;
    assert_eq!(v["certificate_info"], info(person(), "personal-1y"));
}
