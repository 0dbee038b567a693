//! Step ② asks each certificate type for its own holder (issue 13): a 个人证书 is issued to
//! the person, a 法人证书 to the legal representative in the organisation, checked with
//! OpenSSL and pkilint; the wrong holder or a bad number changes nothing; and the download
//! goes only into the kind of medium chosen in step ①.

use std::path::Path;
use std::process::Command;

use certdesk_shared::admin::StaffRole;
use certdesk_shared::agent::TokenKind;
use certdesk_shared::apply::{DownloadInfo, DownloadQuery, Holder, IssueForCsr, Issued, Medium};
use certdesk_shared::directory::{SearchQuery, SearchResults};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::request::{RequestStatus, RequestView};
use certdesk_shared::validate::{IdDocument, IdType};
use certdesk_shared::{CreditCode, ErrorCode, Named, OrgName, PersonName, ValidationError};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::browser::{Browser, api_error, decode, staff_browser, to_json};
use crate::helpers::issuing::{csr, draft, info, org_info, person, submit_and_approve};
use crate::helpers::spawn_app;

fn legal_person() -> Holder {
    Holder::LegalPerson {
        name: PersonName::parse("王五").unwrap(),
        id: IdDocument::parse(IdType::Passport, "E12345678").unwrap(),
        org_name: OrgName::parse("天津市滨海数字认证有限公司").unwrap(),
        credit_code: CreditCode::parse("91350100M000100Y43").unwrap(),
    }
}

/// The kind of token the agent reports for a medium of step ①.
fn token_kind(medium: &str) -> TokenKind {
    match medium {
        "ukey" => TokenKind::Ukey,
        "pc_shield" => TokenKind::PcShield,
        other => panic!("no token is a {other}"),
    }
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
        let (s, v) =
            b.send::<endpoint::SaveCertificateInfo>(&[&id], &info(holder.clone(), &format!("{type_id}-1y"))).await;
        assert_eq!(s, StatusCode::OK, "{type_id}: {v}");
        let stored = decode::<RequestView>(&v).certificate_info.map(|i| i.holder);
        assert_eq!(stored.as_ref(), Some(&holder), "{type_id}: stored as sent");
        let (acceptance, code) = submit_and_approve(&app, &mut b, &id, &mobile).await;

        let mut anyone = Browser::new(&app);
        let query = DownloadQuery { acceptance_no: acceptance.clone(), auth_code: code.clone() };
        let (s, v) = anyone.send::<endpoint::GetDownloadInfo>(&[], &query).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let found: DownloadInfo = decode(&v);
        assert_eq!(
            (found.common_name.as_str(), Some(found.medium)),
            (holder.common_name(), Medium::parse(medium)),
            "{v}"
        );
        let req = IssueForCsr {
            acceptance_no: acceptance.clone(),
            auth_code: code,
            csr_pem: csr(),
            medium_no: None,
            medium_kind: token_kind(medium),
        };
        let (s, v) = anyone.send::<endpoint::IssueForCsr>(&[], &req).await;
        assert_eq!(s, StatusCode::OK, "{type_id}: {v}");
        let issued: Issued = decode(&v);
        let pem_text = issued.pem.as_str();

        let subject = openssl_subject(dir.path(), pem_text);
        // The holder's name, never the ID number of a person; the unit's credit code is public.
        assert_eq!(subject, want.replace("OU=BH,", &format!("OU={acceptance},")), "{type_id}");
        if let Some(findings) = pkilint(dir.path(), pem_text) {
            panic!("pkilint on the {type_id} certificate:\n{findings}");
        }

        // The public search finds the certificate under the holder's name.
        let name = holder.common_name();
        let (s, v) = anyone
            .send::<endpoint::SearchCertificates>(&[], &SearchQuery { name: name.to_owned(), ..Default::default() })
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let results: SearchResults = decode(&v);
        assert_eq!(results.hits.len(), 1, "{name}: {v}");
        assert_eq!(results.hits[0].name, name);
    }
}

#[tokio::test]
async fn step_two_refuses_another_types_holder_and_bad_numbers_and_keeps_what_it_had() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = draft(&app, &mut admin, "personal", "ukey").await;
    let path = endpoint::SaveCertificateInfo::path(&[&id]);
    let (s, _) = b.send::<endpoint::SaveCertificateInfo>(&[&id], &info(person(), "personal-1y")).await;
    assert_eq!(s, StatusCode::OK);

    let organisation = org_info().holder;
    // A person's ID documents that no `IdDocument` holds, sent as the page would send them.
    let with_id = |id: Value| {
        let mut body = to_json(info(person(), "personal-1y"));
        body["holder"]["id"] = id;
        body
    };
    let bad_check_digit = with_id(json!({ "type": "resident_id", "number": "110105194912310021" }));
    let passport_as_id = with_id(json!({ "type": "resident_id", "number": "E12345678" }));
    let permit = with_id(json!({ "type": "hk_macao_permit", "number": "C12345678" }));
    let mut no_email = to_json(info(person(), "personal-1y"));
    no_email["email"] = Value::Null;
    let cases = [
        (to_json(info(organisation, "personal-1y")), "holder", ValidationError::HolderKind),
        (to_json(info(legal_person(), "personal-1y")), "holder", ValidationError::HolderKind),
        (bad_check_digit, "holder", ValidationError::IdCardCheckDigit),
        (passport_as_id, "holder", ValidationError::IdCardLength),
        (permit, "holder", ValidationError::HkMacaoPermitFormat),
        (no_email, "email", ValidationError::Required),
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
        let e = api_error(&v);
        let f = e.fields.first().expect("a field error");
        assert!(f.field.starts_with(field) && f.error == error, "{body}: {v}");
    }
    // Nothing changed.
    let v = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!(v.certificate_info, Some(info(person(), "personal-1y")));
}

#[tokio::test]
async fn a_download_goes_only_into_the_medium_chosen_in_step_one() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, mobile) = draft(&app, &mut admin, "personal", "ukey").await;
    let (s, _) = b.send::<endpoint::SaveCertificateInfo>(&[&id], &info(person(), "personal-1y")).await;
    assert_eq!(s, StatusCode::OK);
    let (acceptance, code) = submit_and_approve(&app, &mut b, &id, &mobile).await;

    // Into a PC soft shield: refused in the user's language, and the application waits.
    let req = IssueForCsr {
        acceptance_no: acceptance,
        auth_code: code,
        csr_pem: csr(),
        medium_no: Some("SD0123456789ABCDEF".into()),
        medium_kind: TokenKind::PcShield,
    };
    let res = app
        .client
        .post(app.url(&endpoint::IssueForCsr::path(&[])))
        .header("accept-language", "en")
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let v: Value = res.json().await.unwrap();
    let e = api_error(&v);
    assert_eq!(e.code, ErrorCode::MediumMismatch, "{v}");
    assert!(e.message.contains("another kind of medium"), "{v}");
    let res = app.client.post(app.url(&endpoint::IssueForCsr::path(&[]))).json(&req).send().await.unwrap();
    let v: Value = res.json().await.unwrap();
    assert!(api_error(&v).message.contains("介质类型"), "{v}");
    let v = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!((v.status, v.certificate_uid.as_deref()), (RequestStatus::Approved, None), "{v:?}");
    // Without saying which kind of token: refused, nothing issued.
    let mut unsaid = to_json(&req);
    unsaid.as_object_mut().unwrap().remove("medium_kind");
    let (s, v) = Browser::new(&app).send_json::<endpoint::IssueForCsr>(&[], unsaid).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(api_error(&v).fields.first().map(|f| f.field.as_str()), Some("medium_kind"), "{v}");

    // Into a UKey: issued.
    let ukey = IssueForCsr { medium_kind: TokenKind::Ukey, medium_no: Some("0123456789abcdef".into()), ..req };
    let (s, v) = Browser::new(&app).send::<endpoint::IssueForCsr>(&[], &ukey).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let v = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!(v.status, RequestStatus::Issued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_stored_before_the_holder_read_as_units_after_migration_018() {
    use sea_orm::ConnectionTrait;
    use sea_orm_migration::MigratorTrait;
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut unit, unit_id, _) = draft(&app, &mut admin, "org", "ukey").await;
    let (mut someone, person_id, _) = draft(&app, &mut admin, "personal", "ukey").await;
    let (s, _) = someone.send::<endpoint::SaveCertificateInfo>(&[&person_id], &info(person(), "personal-1y")).await;
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
    let v = unit.ok::<endpoint::GetApplication>(&[&unit_id], &()).await;
    assert!(v.certificate_info.is_none(), "the old shape does not read as the new: {v:?}");

    // Migration 018 taken down (it leaves the old row and the person as they are) and run,
    // with those after it.
    let from_018 = certdesk::migration::Migrator::migrations().len() as u32 - 17;
    certdesk::migration::Migrator::down(db, Some(from_018)).await.unwrap();
    certdesk::migration::Migrator::up(db, None).await.unwrap();
    let v = unit.ok::<endpoint::GetApplication>(&[&unit_id], &()).await;
    assert_eq!(v.certificate_info, Some(org_info()), "nothing lost");
    let v = someone.ok::<endpoint::GetApplication>(&[&person_id], &()).await;
    assert_eq!(v.certificate_info, Some(info(person(), "personal-1y")));
}
