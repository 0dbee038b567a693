//! The CA engine, checked by outside tools: OpenSSL verifies what we issue, with and
//! without our CRL.

use std::path::Path;
use std::process::Command;

use certdesk::ca::issue::{IssueRequest, issue};
use certdesk::ca::profile::Subject;
use certdesk::ca::revoke;
use certdesk::entity::certificate;
use certdesk_shared::ErrorCode;
use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use certdesk_shared::endpoint::{self, Endpoint};
use rcgen::KeyPair;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::ca::{
    Files, crl_number, csr_for, fetch_crl, issue_one, openssl_ocsp, openssl_verify, p256_csr, pem, subject,
};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// A CSR made by the openssl command line (RSA keys, which ring cannot generate).
pub fn openssl_csr(dir: &Path, newkey: &str) -> Vec<u8> {
    let out = dir.join(format!("{}.csr", newkey.replace(':', "-")));
    let status = Command::new("openssl")
        .args(["req", "-new", "-newkey", newkey, "-nodes", "-keyout"])
        .arg(dir.join("key.pem"))
        .args(["-subj", "/CN=from the CSR", "-outform", "DER", "-out"])
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

/// Certificates issued to customers (the OCSP responder's own is not counted).
async fn certificate_count(app: &TestApp) -> u64 {
    certificate::Entity::find()
        .filter(certificate::Column::Profile.ne("ocsp_responder"))
        .count(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_profile_verifies_with_openssl_and_takes_its_subject_from_the_application() {
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    for profile in CertificateProfile::ALL {
        let issued = issue_one(&app, profile, &p256_csr()).await.unwrap();
        openssl_verify(&f, &app, &issued.der, None).unwrap_or_else(|e| panic!("{profile:?}: {e}"));
        let (_, cert) = x509_parser::parse_x509_certificate(&issued.der).unwrap();
        let cn: Vec<_> = cert.subject().iter_common_name().map(|a| a.as_str().unwrap().to_owned()).collect();
        assert_eq!(cn, vec![subject(profile).common_name], "{profile:?}");
        let ous: Vec<_> = cert.subject().iter_organizational_unit().map(|a| a.as_str().unwrap().to_owned()).collect();
        let s = subject(profile);
        // The business number, and the unit's credit code unless the holder is a person
        // (whose ID number is never written into a certificate).
        let want: Vec<String> = s.business_number.into_iter().chain(s.identifier).collect();
        assert_eq!(ous, want, "{profile:?}");
        let os: Vec<_> = cert.subject().iter_organization().map(|a| a.as_str().unwrap().to_owned()).collect();
        assert_eq!(os, Vec::from_iter(s.organisation), "{profile:?}");
        assert_eq!(cert.raw_serial().len(), 16);
        assert_eq!(issued.serial.len(), 32);
    }
    assert_eq!(certificate_count(&app).await, 6);
}

#[tokio::test]
async fn p384_and_rsa_keys_are_accepted_and_encryption_key_usage_follows_the_key() {
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let p384 = csr_for(&KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(), "x");
    let issued = issue_one(&app, CertificateProfile::OrgSign, &p384).await.unwrap();
    openssl_verify(&f, &app, &issued.der, None).unwrap();

    let rsa = openssl_csr(f.dir.path(), "rsa:2048");
    let issued = issue_one(&app, CertificateProfile::OrgEnc, &rsa).await.unwrap();
    openssl_verify(&f, &app, &issued.der, None).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&issued.der).unwrap();
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.key_encipherment() && !ku.key_agreement());

    let issued = issue_one(&app, CertificateProfile::OrgEnc, &p256_csr()).await.unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&issued.der).unwrap();
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.key_agreement() && !ku.key_encipherment());
}

#[tokio::test]
async fn bad_requests_get_a_clear_code_and_leave_no_row() {
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let mut bad_sig = p256_csr();
    let last = bad_sig.len() - 2;
    bad_sig[last] ^= 0x01;
    let ed25519 = csr_for(&KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap(), "x");
    let rsa1024 = openssl_csr(f.dir.path(), "rsa:1024");
    let cases: Vec<(&str, Vec<u8>, ErrorCode)> = vec![
        ("bad signature", bad_sig, ErrorCode::CsrSignatureInvalid),
        ("RSA 1024", rsa1024, ErrorCode::KeyTooSmall),
        ("Ed25519", ed25519, ErrorCode::KeyNotAllowed),
        ("garbage", b"this is not a CSR at all".to_vec(), ErrorCode::CsrMalformed),
        ("empty", Vec::new(), ErrorCode::CsrMalformed),
        ("1 MB", vec![0x30; 1 << 20], ErrorCode::PayloadTooLarge),
    ];
    for (name, csr, want) in cases {
        assert_eq!(issue_one(&app, CertificateProfile::OrgSign, &csr).await.unwrap_err(), want, "{name}");
    }
    let s = subject(CertificateProfile::OrgSign);
    let csr = p256_csr();
    let too_long = IssueRequest { profile: CertificateProfile::OrgSign, subject: &s, csr: &csr, validity_days: 0 };
    assert_eq!(issue(&app.state.db, &app.state.ca, &too_long).await.unwrap_err().code(), ErrorCode::BadValidity);
    // RFC 5280's upper bounds: the profile lint refuses a commonName or organizationName
    // over 64 characters before anything is signed (step ② refuses them first).
    let long = "测".repeat(65);
    let long_cn = Subject { common_name: long.clone(), ..subject(CertificateProfile::OrgSign) };
    let long_o = Subject { organisation: Some(long.clone()), ..subject(CertificateProfile::OrgSign) };
    for s in [long_cn, long_o] {
        let req = IssueRequest { profile: CertificateProfile::OrgSign, subject: &s, csr: &csr, validity_days: 365 };
        assert_eq!(issue(&app.state.db, &app.state.ca, &req).await.unwrap_err().code(), ErrorCode::Internal, "{s:?}");
    }
    assert_eq!(certificate_count(&app).await, 0);
    let at_bound = Subject {
        common_name: "测".repeat(64),
        organisation: Some("测".repeat(64)),
        ..subject(CertificateProfile::OrgSign)
    };
    let req = IssueRequest { profile: CertificateProfile::OrgSign, subject: &at_bound, csr: &csr, validity_days: 365 };
    issue(&app.state.db, &app.state.ca, &req).await.expect("64 characters are within the bound");
    assert_eq!(certificate_count(&app).await, 1);
}

#[tokio::test]
async fn a_pem_csr_is_accepted_too() {
    let app = spawn_app().await;
    let csr = pem("CERTIFICATE REQUEST", &p256_csr());
    issue_one(&app, CertificateProfile::PersonalSign, csr.as_bytes()).await.unwrap();
}

/// POSTs a DER `OCSPRequest` to `/ocsp`; the HTTP status and the response's bytes.
pub async fn post_ocsp_answer(app: &TestApp, body: Vec<u8>) -> (reqwest::StatusCode, Vec<u8>) {
    let res = app
        .client
        .post(app.url("/ocsp"))
        .header("content-type", "application/ocsp-request")
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.bytes().await.unwrap().to_vec())
}

/// POSTs a DER `OCSPRequest` to `/ocsp`; the response's bytes.
pub async fn post_ocsp(app: &TestApp, body: Vec<u8>) -> Vec<u8> {
    post_ocsp_answer(app, body).await.1
}

/// `openssl ocsp -resp_text` of a DER response, its signature not checked.
pub fn ocsp_text(f: &Files, der: &[u8]) -> String {
    let p = f.dir.path().join("resp.der");
    std::fs::write(&p, der).unwrap();
    let out =
        Command::new("openssl").args(["ocsp", "-respin"]).arg(&p).args(["-resp_text", "-noverify"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[tokio::test]
async fn revocation_shows_in_the_crl_and_openssl_refuses_the_certificate() {
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let kept = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let gone = issue_one(&app, CertificateProfile::LegalSign, &p256_csr()).await.unwrap();

    let before = fetch_crl(&app, &gone.serial).await;
    openssl_verify(&f, &app, &gone.der, Some(&before)).unwrap();

    let when = chrono::Utc::now() - chrono::Duration::days(2);
    revoke::revoke(&app.state.db, &app.state.ca.issuing, &gone.serial, RevocationReason::KeyCompromise, Some(when))
        .await
        .unwrap();
    let after = fetch_crl(&app, &gone.serial).await;
    assert!(crl_number(&after) > crl_number(&before));
    let err = openssl_verify(&f, &app, &gone.der, Some(&after)).unwrap_err();
    assert!(err.contains("certificate revoked"), "{err}");
    // `kept` is in another shard or the same one: either way its own CRL passes it.
    openssl_verify(&f, &app, &kept.der, Some(&fetch_crl(&app, &kept.serial).await)).unwrap();

    // x509-cert's own CertificateList reads both CRLs (without and with an entry) and
    // encodes them back to the same bytes: the stored entries make one valid DER structure.
    for der in [&before, &after] {
        use der::{Decode, Encode};
        let typed = x509_cert::crl::CertificateList::from_der(der).unwrap();
        assert_eq!(&typed.to_der().unwrap(), der);
    }
    let typed = <x509_cert::crl::CertificateList as der::Decode>::from_der(&after).unwrap();
    assert!(typed.tbs_cert_list.revoked_certificates.is_some_and(|r| r.len() == 1));

    let (_, crl) = x509_parser::parse_x509_crl(&after).unwrap();
    let entry = crl.iter_revoked_certificates().next().unwrap();
    assert_eq!(hex::encode(entry.raw_serial()), gone.serial);
    assert_eq!(entry.reason_code().unwrap().1.0, 1, "keyCompromise");
    let invalidity = entry.extensions().iter().find_map(|e| match e.parsed_extension() {
        x509_parser::extensions::ParsedExtension::InvalidityDate(d) => Some(d.timestamp()),
        _ => None,
    });
    assert_eq!(invalidity, Some(when.timestamp()), "invalidity date");
    let next = crl.next_update().unwrap().timestamp() - crl.last_update().timestamp();
    assert!(next > 0 && next <= 7 * 24 * 3600, "nextUpdate within 7 days");

    // Twice is refused, and the CRL does not change.
    let again =
        revoke::revoke(&app.state.db, &app.state.ca.issuing, &gone.serial, RevocationReason::Superseded, None).await;
    assert_eq!(again.unwrap_err().code(), ErrorCode::AlreadyRevoked);
    assert_eq!(crl_number(&fetch_crl(&app, &gone.serial).await), crl_number(&after));
}

#[tokio::test]
async fn freezing_lists_the_certificate_on_hold_until_it_is_released() {
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let c = issue_one(&app, CertificateProfile::PersonalSign, &p256_csr()).await.unwrap();
    let ca = &app.state.ca.issuing;
    revoke::hold(&app.state.db, ca, &c.serial).await.unwrap();
    let held = fetch_crl(&app, &c.serial).await;
    let err = openssl_verify(&f, &app, &c.der, Some(&held)).unwrap_err();
    assert!(err.contains("revoked"), "{err}");
    let (_, crl) = x509_parser::parse_x509_crl(&held).unwrap();
    assert_eq!(crl.iter_revoked_certificates().next().unwrap().reason_code().unwrap().1.0, 6, "certificateHold");
    assert_eq!(revoke::hold(&app.state.db, ca, &c.serial).await.unwrap_err().code(), ErrorCode::NotValid);

    revoke::release(&app.state.db, ca, &c.serial).await.unwrap();
    let released = fetch_crl(&app, &c.serial).await;
    assert!(crl_number(&released) > crl_number(&held));
    openssl_verify(&f, &app, &c.der, Some(&released)).unwrap();
    assert_eq!(revoke::release(&app.state.db, ca, &c.serial).await.unwrap_err().code(), ErrorCode::NotOnHold);

    let hold_as_reason =
        revoke::revoke(&app.state.db, ca, &c.serial, RevocationReason::CertificateHold, None).await.unwrap_err();
    assert_eq!(hold_as_reason.code(), ErrorCode::BadRevocationReason);
    let future = chrono::Utc::now() + chrono::Duration::days(1);
    let e = revoke::revoke(&app.state.db, ca, &c.serial, RevocationReason::KeyCompromise, Some(future)).await;
    assert_eq!(e.unwrap_err().code(), ErrorCode::BadInvalidityDate);
    let unknown = revoke::revoke(&app.state.db, ca, "00", RevocationReason::KeyCompromise, None).await;
    assert_eq!(unknown.unwrap_err().code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn ca_files_and_certificate_downloads() {
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let res = app.get("/ca/root.crt").await;
    assert_eq!(res.headers()["content-type"], "application/pkix-cert");
    assert_eq!(res.bytes().await.unwrap().to_vec(), app.state.ca.root.cert_der);
    let chain = app.get("/ca/chain.pem").await.text().await.unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    assert_eq!(app.get("/ca/root.crl").await.status(), 200);
    assert_eq!(app.get("/ca/nope.crt").await.status(), 404);

    let c = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let der = app.get(&endpoint::CertificateFile::path(&[&format!("{}.der", c.uid)])).await.bytes().await.unwrap();
    assert_eq!(der.to_vec(), c.der);
    let pem_text = app.get(&endpoint::CertificateFile::path(&[&format!("{}.pem", c.uid)])).await.text().await.unwrap();
    assert_eq!(pem_text, pem("CERTIFICATE", &c.der));
    let p7 = app.get(&endpoint::CertificateFile::path(&[&format!("{}.p7c", c.uid)])).await.bytes().await.unwrap();
    let p7_path = f.dir.path().join("chain.p7c");
    std::fs::write(&p7_path, &p7).unwrap();
    let out = Command::new("openssl")
        .args(["pkcs7", "-inform", "DER", "-print_certs", "-noout", "-in"])
        .arg(&p7_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).matches("subject=").count(), 3);
    assert_eq!(
        app.get(&endpoint::CertificateFile::path(&["00000000-0000-0000-0000-000000000000.pem"])).await.status(),
        404
    );
}

#[tokio::test]
async fn the_ca_status_names_both_cas_and_the_chain_verifies() {
    let app = spawn_app().await;
    let text = certdesk::ca::hierarchy::describe(&app.state.ca).unwrap();
    for label in ["Root CA", "Issuing CA", "OCSP responder"] {
        assert!(text.contains(label), "{text}");
    }
    assert!(text.contains("CN=CertDesk Test Issuing CA"), "{text}");
    let f = Files { dir: tempfile::tempdir().unwrap() };
    // The issuing CA itself verifies against the root, strictly.
    let root = f.write("root.pem", &pem("CERTIFICATE", &app.state.ca.root.cert_der));
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    let out =
        Command::new("openssl").args(["verify", "-x509_strict", "-CAfile"]).arg(&root).arg(&issuing).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // A second start loads the same hierarchy instead of making a new one.
    let again = certdesk::AppState::new((*app.state.config).clone()).await.unwrap();
    assert_eq!(again.ca.root.cert_der, app.state.ca.root.cert_der);
}

/// pkilint (from PyPI, installed by `cargo xtask test` into target/tools/pkilint): every
/// profile's certificate, both CA certificates and the CRL, with zero ERROR findings.
/// Warnings fail the test too: none is accepted today.
#[tokio::test]
async fn pkilint_finds_no_errors() {
    let bin = std::env::var("PKILINT_BIN")
        .unwrap_or_else(|_| format!("{}/../target/tools/pkilint/bin", env!("CARGO_MANIFEST_DIR")));
    assert!(
        Path::new(&bin).join("lint_pkix_cert").exists(),
        "pkilint is not installed in {bin}: run `cargo xtask test`, or set PKILINT_BIN"
    );
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let mut certs = vec![
        ("root CA".to_owned(), app.state.ca.root.cert_der.clone()),
        ("issuing CA".to_owned(), app.state.ca.issuing.cert_der.clone()),
    ];
    for profile in CertificateProfile::ALL {
        certs.push((format!("{profile:?}"), issue_one(&app, profile, &p256_csr()).await.unwrap().der));
    }
    let rsa = openssl_csr(f.dir.path(), "rsa:2048");
    certs.push(("OrgEnc with RSA".into(), issue_one(&app, CertificateProfile::OrgEnc, &rsa).await.unwrap().der));
    let rsa_ca = spawn_app_with(|c| c.ca_key_algorithm = "rsa3072".into()).await;
    certs.push(("RSA root CA".into(), rsa_ca.state.ca.root.cert_der.clone()));
    certs.push(("RSA issuing CA".into(), rsa_ca.state.ca.issuing.cert_der.clone()));
    certs.push(("RSA OCSP responder".into(), rsa_ca.state.ca.ocsp.cert_der.clone()));
    certs.push((
        "OrgSign from the RSA CA".into(),
        issue_one(&rsa_ca, CertificateProfile::OrgSign, &p256_csr()).await.unwrap().der,
    ));
    let last = issue_one(&app, CertificateProfile::PersonalSign, &p256_csr()).await.unwrap();
    revoke::revoke(&app.state.db, &app.state.ca.issuing, &last.serial, RevocationReason::KeyCompromise, None)
        .await
        .unwrap();

    let run = |tool: &str, args: &[&str], name: &str, pem_text: String| -> String {
        let path = f.write(&format!("{}.pem", name.replace(' ', "_")), &pem_text);
        let out = Command::new(Path::new(&bin).join(tool)).args(args).arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        // pkilint exits non-zero on any finding shown (WARNING and up) and when it cannot
        // decode its input at all.
        assert!(
            out.status.success() && !text.contains("ERROR") && !text.contains("FATAL"),
            "{tool} on {name}:\n{text}"
        );
        text
    };
    let mut warnings = String::new();
    for (name, der) in &certs {
        warnings += &run("lint_pkix_cert", &["lint", "-s", "WARNING"], name, pem("CERTIFICATE", der));
    }
    // OCSP responses for a revoked certificate: signed for a request with a nonce, and the
    // ones signed at the revocation for requests without, by SHA-1 and by SHA-256 CertID.
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    for extra in [&[][..], &["-no_nonce"], &["-no_nonce", "-sha256"]] {
        let req = f.dir.path().join("req.der");
        let made = Command::new("openssl")
            .args(["ocsp", "-issuer"])
            .arg(&issuing)
            .args(extra)
            .args(["-serial", &format!("0x{}", last.serial), "-reqout"])
            .arg(&req)
            .output()
            .unwrap();
        assert!(made.status.success());
        let ocsp_der = post_ocsp(&app, std::fs::read(&req).unwrap()).await;
        let header = if ocsp_der[1] & 0x80 != 0 { 2 + usize::from(ocsp_der[1] & 0x7f) } else { 2 };
        assert_eq!(ocsp_der[header..header + 3], [0x0a, 0x01, 0x00], "a successful response is linted");
        let ocsp_path = f.dir.path().join("response.der");
        std::fs::write(&ocsp_path, &ocsp_der).unwrap();
        let out = Command::new(Path::new(&bin).join("lint_ocsp_response"))
            .args(["lint", "-s", "WARNING"])
            .arg(&ocsp_path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !text.contains("ERROR") && !text.contains("FATAL"),
            "lint_ocsp_response {extra:?}:\n{text}"
        );
        warnings += &text;
    }

    let root_crl = app.get("/ca/root.crl").await.bytes().await.unwrap().to_vec();
    warnings += &run(
        "lint_crl",
        &["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING"],
        "empty root crl",
        pem("X509 CRL", &root_crl),
    );
    let crl = fetch_crl(&app, &last.serial).await;
    warnings += &run("lint_crl", &["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING"], "crl", pem("X509 CRL", &crl));
    // No warning is accepted either (ARCHITECTURE.md would list one with its reason).
    assert!(!warnings.contains("WARNING"), "pkilint warnings:\n{warnings}");
}

// openssl blocks its thread while it asks our server: the server needs another one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_ocsp_sees_good_then_revoked_with_its_reason_and_unknown_for_a_made_up_serial() {
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let c = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();

    let good = openssl_ocsp(&f, &app, &c.serial, &[]);
    assert!(good.contains(&format!("0x{}: good", c.serial.to_uppercase())) || good.contains(": good"), "{good}");
    assert!(good.contains("Response verify OK"), "{good}");
    assert!(!good.contains("nonce"), "the nonce is echoed: {good}");

    revoke::revoke(&app.state.db, &app.state.ca.issuing, &c.serial, RevocationReason::KeyCompromise, None)
        .await
        .unwrap();
    let revoked = openssl_ocsp(&f, &app, &c.serial, &[]);
    assert!(revoked.contains(": revoked"), "{revoked}");
    assert!(revoked.contains("Reason: keyCompromise"), "{revoked}");
    assert!(revoked.contains("Response verify OK"), "{revoked}");

    let unknown = openssl_ocsp(&f, &app, "7f00112233445566778899aabbccddee", &[]);
    assert!(unknown.contains(": unknown"), "{unknown}");
    assert!(unknown.contains("Response verify OK"), "{unknown}");

    // Frozen shows as revoked with certificateHold, released as good again.
    let h = issue_one(&app, CertificateProfile::PersonalSign, &p256_csr()).await.unwrap();
    revoke::hold(&app.state.db, &app.state.ca.issuing, &h.serial).await.unwrap();
    let held = openssl_ocsp(&f, &app, &h.serial, &["-no_nonce"]);
    assert!(held.contains("Reason: certificateHold"), "{held}");
    revoke::release(&app.state.db, &app.state.ca.issuing, &h.serial).await.unwrap();
    let released = openssl_ocsp(&f, &app, &h.serial, &["-no_nonce"]);
    assert!(released.contains(": good"), "{released}");
}

#[tokio::test]
async fn ocsp_over_get_and_malformed_requests() {
    use base64::Engine;
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let c = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    let req = f.dir.path().join("req.der");
    let status = Command::new("openssl")
        .args(["ocsp", "-no_nonce", "-issuer"])
        .arg(&issuing)
        .args(["-serial", &format!("0x{}", c.serial), "-reqout"])
        .arg(&req)
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&req).unwrap());
    let res = app.get(&format!("/ocsp/{b64}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/ocsp-response");
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    let text = ocsp_text(&f, &res.bytes().await.unwrap());
    assert!(text.contains("Cert Status: good"), "{text}");
    assert!(text.contains("OCSP Response Status: successful"), "{text}");

    // Garbage, a truncated request and a wrong content type: malformedRequest (status 1).
    let malformed = vec![0x30, 0x03, 0x0a, 0x01, 0x01];
    for (ct, body) in [
        ("application/ocsp-request", b"garbage".to_vec()),
        ("application/ocsp-request", std::fs::read(&req).unwrap()[..20].to_vec()),
        ("text/plain", std::fs::read(&req).unwrap()),
    ] {
        let res = app.client.post(app.url("/ocsp")).header("content-type", ct).body(body).send().await.unwrap();
        assert_eq!(res.bytes().await.unwrap().to_vec(), malformed, "{ct}");
    }
    let res = app.get("/ocsp/not-base64!").await;
    assert_eq!(res.bytes().await.unwrap().to_vec(), malformed);

    // Up to 10 certificates in one request are answered; 11 are refused.
    for (count, ok) in [(2usize, true), (11, false)] {
        let many = f.dir.path().join(format!("many{count}.der"));
        let mut cmd = Command::new("openssl");
        cmd.args(["ocsp", "-no_nonce", "-issuer"]).arg(&issuing);
        for i in 0..count {
            cmd.args(["-serial", &format!("0x{:032x}", i + 1)]);
        }
        assert!(cmd.arg("-reqout").arg(&many).output().unwrap().status.success());
        let body = post_ocsp(&app, std::fs::read(&many).unwrap()).await;
        assert_eq!(body == malformed, !ok, "{count} certificates");
    }
}

/// The request is read as strict DER: a length in more octets than it needs (outside or
/// inside) or a byte after the request is `malformedRequest`, over POST and over GET, never a
/// 5xx; the well-formed request, with its nonce, is answered both ways and the nonce echoed.
#[tokio::test]
async fn ocsp_reads_strict_der_only_over_post_and_get() {
    use base64::Engine;
    use der::{Decode, Encode};
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let c = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    let path = f.dir.path().join("nonce.req");
    let made = Command::new("openssl")
        .args(["ocsp", "-issuer"])
        .arg(&issuing)
        .args(["-serial", &format!("0x{}", c.serial), "-reqout"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(made.status.success());
    let req = std::fs::read(&path).unwrap();
    let nonce = x509_ocsp::OcspRequest::from_der(&req).unwrap().nonce().expect("openssl sends a nonce");

    let post = |body: Vec<u8>| post_ocsp_answer(&app, body);
    let get = |body: &[u8]| {
        let url = format!("/ocsp/{}", base64::engine::general_purpose::STANDARD.encode(body));
        let app = &app;
        async move {
            let res = app.get(&url).await;
            (res.status(), res.bytes().await.unwrap().to_vec())
        }
    };

    for (status, body) in [post(req.clone()).await, get(&req).await] {
        assert_eq!(status, 200);
        let res = x509_ocsp::OcspResponse::from_der(&body).unwrap();
        assert_eq!(res.response_status, x509_ocsp::OcspResponseStatus::Successful);
        let basic = x509_ocsp::BasicOcspResponse::from_der(res.response_bytes.unwrap().response.as_bytes()).unwrap();
        assert_eq!(basic.nonce(), Some(nonce.clone()), "the nonce is echoed");
        assert!(matches!(basic.tbs_response_data.responses[0].cert_status, x509_ocsp::CertStatus::Good(_)));
        assert_eq!(basic.to_der().unwrap(), res_basic_bytes(&body), "the response is DER throughout");
    }

    // The request is short enough for one-octet lengths outside and around tbsRequest.
    assert!(req[1] < 0x7f && req[2] == 0x30 && req[3] < 0x80);
    let long_outside = [&[0x30, 0x81, req[1]][..], &req[2..]].concat();
    let long_inside = [&[0x30, req[1] + 1, 0x30, 0x81, req[3]][..], &req[4..]].concat();
    let trailing = [&req[..], &[0x00]].concat();
    let malformed = vec![0x30, 0x03, 0x0a, 0x01, 0x01];
    for (what, bad) in
        [("long outer length", long_outside), ("long inner length", long_inside), ("trailing byte", trailing)]
    {
        assert_eq!(post(bad.clone()).await, (reqwest::StatusCode::OK, malformed.clone()), "POST, {what}");
        assert_eq!(get(&bad).await, (reqwest::StatusCode::OK, malformed.clone()), "GET, {what}");
    }
}

/// The `BasicOCSPResponse` bytes inside a successful response, as sent.
fn res_basic_bytes(response: &[u8]) -> Vec<u8> {
    use der::Decode;
    let res = x509_ocsp::OcspResponse::from_der(response).unwrap();
    res.response_bytes.unwrap().response.as_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rsa_3072_hierarchy_issues_revokes_and_answers_ocsp() {
    let app = spawn_app_with(|c| c.ca_key_algorithm = "rsa3072".into()).await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let (_, root) = x509_parser::parse_x509_certificate(&app.state.ca.root.cert_der).unwrap();
    assert_eq!(root.public_key().parsed().unwrap().key_size(), 3072);
    let c = issue_one(&app, CertificateProfile::LegalSign, &p256_csr()).await.unwrap();
    openssl_verify(&f, &app, &c.der, Some(&fetch_crl(&app, &c.serial).await)).unwrap();
    let good = openssl_ocsp(&f, &app, &c.serial, &[]);
    assert!(good.contains(": good") && good.contains("Response verify OK"), "{good}");
    revoke::revoke(&app.state.db, &app.state.ca.issuing, &c.serial, RevocationReason::Superseded, None).await.unwrap();
    let err = openssl_verify(&f, &app, &c.der, Some(&fetch_crl(&app, &c.serial).await)).unwrap_err();
    assert!(err.contains("certificate revoked"), "{err}");
    let revoked = openssl_ocsp(&f, &app, &c.serial, &[]);
    assert!(revoked.contains("Reason: superseded") && revoked.contains("Response verify OK"), "{revoked}");
}

/// Every pooled SQLite connection has the settings (not only the first one): checked on
/// several connections held at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pooled_sqlite_connection_has_the_settings() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let app = spawn_app().await;
    if app.state.db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return; // PostgreSQL has no per-connection pragmas
    }
    // Open transactions hold their connections, so each query below runs on another one.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(app.state.db.begin().await.unwrap());
    }
    for txn in &held {
        let pragma = |name: &'static str| async move {
            let row = txn
                .query_one(sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, format!("PRAGMA {name}")))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0)
                .map(|v| v.to_string())
                .or_else(|_| row.try_get_by_index::<String>(0))
                .unwrap()
        };
        assert_eq!(pragma("foreign_keys").await, "1");
        assert_eq!(pragma("synchronous").await, "2", "FULL");
        assert_eq!(pragma("busy_timeout").await, "10000");
        assert_eq!(pragma("journal_mode").await, "wal");
    }
}

/// Revoking while another request freezes or releases the same certificate: whatever the
/// order, a revocation is never undone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_status_changes_never_undo_a_revocation() {
    use certdesk::entity::certificate;
    let app = spawn_app().await;
    let ca = &app.state.ca.issuing;
    for round in 0..6 {
        let c = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
        if round % 2 == 1 {
            revoke::hold(&app.state.db, ca, &c.serial).await.unwrap();
        }
        let db = &app.state.db;
        let (r, other) =
            tokio::join!(revoke::revoke(db, ca, &c.serial, RevocationReason::KeyCompromise, None), async {
                if round % 2 == 0 {
                    revoke::hold(db, ca, &c.serial).await
                } else {
                    revoke::release(db, ca, &c.serial).await
                }
            });
        r.unwrap();
        let _ = other;
        let row = certificate::Entity::find()
            .filter(certificate::Column::Serial.eq(c.serial.clone()))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status, "revoked", "round {round}");
        let crl_der = fetch_crl(&app, &c.serial).await;
        let (_, crl) = x509_parser::parse_x509_crl(&crl_der).unwrap();
        let listed = crl
            .iter_revoked_certificates()
            .find(|e| hex::encode(e.raw_serial()) == c.serial)
            .map(|e| e.reason_code().map(|r| r.1.0));
        assert_eq!(listed, Some(Some(1)), "round {round}: keyCompromise in the CRL");
    }
}

#[tokio::test]
async fn the_ocsp_responder_is_renewed_before_it_expires() {
    use certdesk::ca::hierarchy::renew_responder_if_due;
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let old = &app.state.ca;
    let now = chrono::Utc::now();
    // Not due yet: nothing changes.
    assert!(renew_responder_if_due(&app.state.db, &app.state.config, old, now).await.unwrap().is_none());
    // 340 days on, less than 30 days are left: a new key and certificate.
    let later = now + chrono::Duration::days(340);
    let renewed = renew_responder_if_due(&app.state.db, &app.state.config, old, later).await.unwrap().unwrap();
    assert_ne!(renewed.ocsp.cert_der, old.ocsp.cert_der);
    assert!(renewed.ocsp.not_after >= old.ocsp.not_after);
    // A second server that saw the old row does not renew it again.
    let again = renew_responder_if_due(&app.state.db, &app.state.config, old, later).await.unwrap().unwrap();
    assert_eq!(again.ocsp.cert_der, renewed.ocsp.cert_der);

    // Responses are signed by the new responder and verify.
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &old.issuing.cert_der));
    let root = f.write("root.pem", &pem("CERTIFICATE", &old.root.cert_der));
    let req = f.dir.path().join("req.der");
    let made = Command::new("openssl")
        .args(["ocsp", "-issuer"])
        .arg(&issuing)
        .args(["-serial", "0x01", "-reqout"])
        .arg(&req)
        .output()
        .unwrap();
    assert!(made.status.success());
    let resp = certdesk::ca::ocsp::respond(&app.state.db, &renewed, &renewed.responder, &std::fs::read(&req).unwrap())
        .await
        .der;
    let resp_path = f.dir.path().join("resp.der");
    std::fs::write(&resp_path, &resp).unwrap();
    let out = Command::new("openssl")
        .args(["ocsp", "-respin"])
        .arg(&resp_path)
        .arg("-issuer")
        .arg(&issuing)
        .arg("-CAfile")
        .arg(&root)
        .arg("-verify_other")
        .arg(&issuing)
        .args(["-resp_text"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Response verify OK"), "{text}");
    // The response carries the new responder certificate, not the old one.
    let carries = |cert: &[u8]| resp.windows(cert.len()).any(|w| w == cert);
    assert!(carries(&renewed.ocsp.cert_der));
    assert!(!carries(&old.ocsp.cert_der));
}

/// A DER OCSP request without a nonce for `serial` (hex) of the issuing CA, made by openssl.
fn ocsp_request(f: &Files, issuing: &Path, serial: &str) -> Vec<u8> {
    ocsp_request_by(f, issuing, serial, "-sha1")
}

/// openssl's request without a nonce, its CertID by `digest` (`-sha1`, `-sha256`).
fn ocsp_request_by(f: &Files, issuing: &Path, serial: &str, digest: &str) -> Vec<u8> {
    let req = f.dir.path().join(format!("{serial}{digest}.req"));
    let made = Command::new("openssl")
        .args(["ocsp", "-no_nonce", digest, "-issuer"])
        .arg(issuing)
        .args(["-serial", &format!("0x{serial}"), "-reqout"])
        .arg(&req)
        .output()
        .unwrap();
    assert!(made.status.success());
    std::fs::read(req).unwrap()
}

/// `unknown` is never cached, by us or (through Cache-Control) by HTTP caches: the serial may
/// be issued the next moment. A known certificate's GET answer may be cached.
#[tokio::test]
async fn ocsp_never_caches_unknown() {
    use base64::Engine;
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    let request_for =
        |serial: &str| base64::engine::general_purpose::STANDARD.encode(ocsp_request(&f, &issuing, serial));
    let ca = &app.state.ca;
    let before = ca.responder.cache_usage();
    for i in 0..20 {
        let res = app.get(&format!("/ocsp/{}", request_for(&format!("7e57{i:04x}")))).await;
        assert_eq!(res.headers()["cache-control"], "no-store", "an unknown answer is not for HTTP caches");
        assert_eq!(res.status(), 200);
    }
    assert_eq!(ca.responder.cache_usage(), before, "nor for ours");
    let known = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let res = app.get(&format!("/ocsp/{}", request_for(&known.serial))).await;
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age=60"));
    // Its pre-signed response, kept for repeated requests.
    let (_, (entries, bytes)) = ca.responder.cache_usage();
    assert!(entries > before.1.0 && bytes > before.1.1 && bytes <= certdesk::ca::ocsp::CACHE_BYTES);
}

/// A revocation made by another server (a direct database change here) shows in OCSP
/// within `FRESH_FOR`; one made by this server shows at once.
#[tokio::test]
async fn ocsp_sees_another_servers_revocation_within_half_a_second() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    let status_of = |serial: &str| ocsp_request(&f, &issuing, serial);
    let text_of = |resp: &[u8]| ocsp_text(&f, resp);
    let ca = &app.state.ca;
    let a = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let req = status_of(&a.serial);
    let ask = || async { certdesk::ca::ocsp::respond(&app.state.db, ca, &ca.responder, &req).await.der };
    assert!(text_of(&ask().await).contains("Cert Status: good"));
    // Not even a response signed for it: the stored one attests another status, so is not served.
    certdesk::entity::certificate::Entity::update_many()
        .col_expr(certdesk::entity::certificate::Column::Status, Expr::value("revoked"))
        .col_expr(certdesk::entity::certificate::Column::RevokedAt, Expr::value(chrono::Utc::now()))
        .filter(certdesk::entity::certificate::Column::Serial.eq(a.serial.clone()))
        .exec(&app.state.db)
        .await
        .unwrap();
    tokio::time::sleep(certdesk::ca::ocsp::FRESH_FOR + std::time::Duration::from_millis(100)).await;
    assert!(text_of(&ask().await).contains("Cert Status: revoked"), "within FRESH_FOR");

    // This server's own revocation: at once.
    let b = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let req_b = status_of(&b.serial);
    assert!(
        text_of(&certdesk::ca::ocsp::respond(&app.state.db, ca, &ca.responder, &req_b).await.der)
            .contains("Cert Status: good")
    );
    revoke::revoke(&app.state.db, &ca.issuing, &b.serial, RevocationReason::KeyCompromise, None).await.unwrap();
    assert!(
        text_of(&certdesk::ca::ocsp::respond(&app.state.db, ca, &ca.responder, &req_b).await.der)
            .contains("Cert Status: revoked")
    );
}

/// This server's OCSP answers to `requests` (serial, DER request), one after another.
async fn ask_each(app: &TestApp, requests: &[(String, Vec<u8>)]) -> Vec<Vec<u8>> {
    let ca = &app.state.ca;
    let mut ders = Vec::new();
    for (_, req) in requests {
        ders.push(certdesk::ca::ocsp::respond(&app.state.db, ca, &ca.responder, req).await.der);
    }
    ders
}

/// Many certificates asked about again and again are answered from memory: the database is
/// asked only for the status epoch, once per `FRESH_FOR`, until a status changes anywhere
/// (another server's revocation, or a hand edit: the database raises the epoch itself). Then
/// every certificate is read once more, and the changed one is answered with its new status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocsp_answers_from_memory_until_a_status_changes_anywhere() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    let ca = &app.state.ca;
    let mut asked = Vec::new();
    for _ in 0..3 {
        let c = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
        let req = ocsp_request(&f, &issuing, &c.serial);
        asked.push((c.serial, req));
    }
    let statuses = |ders: &[Vec<u8>]| {
        ders.iter()
            .map(|der| {
                let text = ocsp_text(&f, der);
                if text.contains("Cert Status: good") {
                    "good"
                } else if text.contains("Cert Status: revoked") {
                    "revoked"
                } else {
                    panic!("{text}")
                }
            })
            .collect::<Vec<_>>()
    };
    let reads = || ca.responder.status_reads();

    let before = reads();
    let first = ask_each(&app, &asked).await;
    assert_eq!(reads() - before, 3, "each certificate read once");
    assert_eq!(statuses(&first), ["good", "good", "good"]);
    // Past FRESH_FOR, with no status changed: the epoch is read again, no certificate is.
    tokio::time::sleep(certdesk::ca::ocsp::FRESH_FOR + std::time::Duration::from_millis(100)).await;
    let second = ask_each(&app, &asked).await;
    assert_eq!(second, first, "the same bytes, from memory");
    assert_eq!(reads() - before, 3, "no certificate read again while nothing changed");

    // Another server revokes the first one (a bare change of the row, as any writer makes it).
    certdesk::entity::certificate::Entity::update_many()
        .col_expr(certdesk::entity::certificate::Column::Status, Expr::value("revoked"))
        .col_expr(certdesk::entity::certificate::Column::RevokedAt, Expr::value(chrono::Utc::now()))
        .filter(certdesk::entity::certificate::Column::Serial.eq(asked[0].0.clone()))
        .exec(&app.state.db)
        .await
        .unwrap();
    tokio::time::sleep(certdesk::ca::ocsp::FRESH_FOR + std::time::Duration::from_millis(100)).await;
    let third = ask_each(&app, &asked).await;
    assert_eq!(statuses(&third), ["revoked", "good", "good"], "within FRESH_FOR of the change");
    assert_eq!(reads() - before, 6, "every certificate read once more after the epoch moved");
    let fourth = ask_each(&app, &asked).await;
    assert_eq!(fourth, third);
    assert_eq!(reads() - before, 6);

    // This process's own change is seen at once, without waiting for FRESH_FOR.
    revoke::revoke(&app.state.db, &ca.issuing, &asked[1].0, RevocationReason::KeyCompromise, None).await.unwrap();
    assert_eq!(statuses(&ask_each(&app, &asked).await), ["revoked", "revoked", "good"]);
}

/// A certificate's OCSP response is signed when its status changes (issuance, freeze,
/// release, revocation), stored with it, and served as stored: byte for byte to a request
/// without a nonce, by the SHA-1 CertID openssl asks with or by SHA-256 (证书校验's), and
/// OpenSSL verifies it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocsp_serves_the_response_signed_when_the_status_changed() {
    use certdesk::ca::ocsp::{Asked, ask};
    use certdesk::entity::ocsp_response;
    use der::Decode;
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    let (db, ca) = (&app.state.db, &app.state.ca);
    let stored = |serial: String| async move {
        ocsp_response::Entity::find_by_id((ca.issuing.id, serial)).one(db).await.unwrap().expect("a stored response")
    };
    let post = |body: Vec<u8>| post_ocsp(&app, body);

    let c = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let good = stored(c.serial.clone()).await;
    assert_eq!(good.status, "valid");
    assert_eq!(good.next_update - good.this_update, chrono::Duration::hours(24));
    let req = ocsp_request(&f, &issuing, &c.serial);
    assert_eq!(post(req.clone()).await, good.der, "SHA-1 CertID: the stored response");
    assert_eq!(post(req.clone()).await, good.der, "again: not signed per request");
    assert_eq!(ask(db, ca, &c.der).await.unwrap(), Some(Asked::Good), "SHA-256 CertID");
    assert_eq!(post(ocsp_request_by(&f, &issuing, &c.serial, "-sha256")).await, good.der_sha256, "SHA-256 CertID");
    let basic = x509_ocsp::BasicOcspResponse::from_der(&res_basic_bytes(&good.der)).unwrap();
    assert_eq!(basic.tbs_response_data.responses.len(), 1, "one SingleResponse, the one asked for");
    let text = openssl_ocsp(&f, &app, &c.serial, &["-no_nonce"]);
    assert!(text.contains(": good") && text.contains("Response verify OK"), "{text}");

    revoke::revoke(db, &ca.issuing, &c.serial, RevocationReason::KeyCompromise, None).await.unwrap();
    let revoked = stored(c.serial.clone()).await;
    assert_eq!(revoked.status, "revoked");
    assert_ne!(revoked.der, good.der);
    assert_eq!(post(req.clone()).await, revoked.der, "the response of the new status, at once");
    assert_eq!(ask(db, ca, &c.der).await.unwrap(), Some(Asked::Revoked));
    let text = openssl_ocsp(&f, &app, &c.serial, &["-no_nonce"]);
    assert!(text.contains(": revoked") && text.contains("Reason: keyCompromise"), "{text}");
    assert!(text.contains("Response verify OK"), "{text}");

    let h = issue_one(&app, CertificateProfile::PersonalSign, &p256_csr()).await.unwrap();
    revoke::hold(db, &ca.issuing, &h.serial).await.unwrap();
    assert_eq!(stored(h.serial.clone()).await.status, "hold");
    assert_eq!(ask(db, ca, &h.der).await.unwrap(), Some(Asked::Revoked), "on hold: revoked, certificateHold");
    revoke::release(db, &ca.issuing, &h.serial).await.unwrap();
    let released = stored(h.serial.clone()).await;
    assert_eq!(released.status, "valid");
    assert_eq!(post(ocsp_request(&f, &issuing, &h.serial)).await, released.der);
}

/// The timer signs again the responses past half their validity, drops those of expired
/// certificates, and signs one for a certificate that has none (issued before responses were
/// pre-signed); a response close to running out is not served.
#[tokio::test]
async fn pre_signed_ocsp_responses_are_refreshed_before_they_run_out() {
    use certdesk::ca::ocsp::refresh_presigned;
    use certdesk::entity::ocsp_response;
    use der::Decode;
    use sea_orm::sea_query::Expr;
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let issuing = f.write("issuing.pem", &pem("CERTIFICATE", &app.state.ca.issuing.cert_der));
    let (db, ca) = (&app.state.db, &app.state.ca);
    // The certificates from before (the responder's own among them) get theirs first.
    refresh_presigned(db, &ca.issuing, true, chrono::Utc::now()).await.unwrap();
    let kept = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let expired = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let older = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let find = |serial: &str| ocsp_response::Entity::find_by_id((ca.issuing.id, serial.to_owned())).one(db);
    let set_times = |serial: String, this_update: chrono::DateTime<chrono::Utc>, next_update| async move {
        ocsp_response::Entity::update_many()
            .col_expr(ocsp_response::Column::ThisUpdate, Expr::value(this_update))
            .col_expr(ocsp_response::Column::NextUpdate, Expr::value(next_update))
            .filter(ocsp_response::Column::Serial.eq(serial))
            .exec(db)
            .await
            .unwrap();
    };
    let now = chrono::Utc::now();
    let before = find(&kept.serial).await.unwrap().unwrap();
    for serial in [&kept.serial, &expired.serial] {
        set_times(serial.clone(), now - chrono::Duration::hours(13), now + chrono::Duration::hours(11)).await;
    }
    certificate::Entity::update_many()
        .col_expr(certificate::Column::NotAfter, Expr::value(now - chrono::Duration::minutes(1)))
        .filter(certificate::Column::Serial.eq(expired.serial.clone()))
        .exec(db)
        .await
        .unwrap();
    ocsp_response::Entity::delete_many()
        .filter(ocsp_response::Column::Serial.eq(older.serial.clone()))
        .exec(db)
        .await
        .unwrap();

    assert_eq!(refresh_presigned(db, &ca.issuing, false, now).await.unwrap(), 1, "only the aged one");
    let after = find(&kept.serial).await.unwrap().unwrap();
    assert!(after.this_update > now - chrono::Duration::seconds(2) && after.der != before.der);
    assert_eq!(after.next_update - after.this_update, chrono::Duration::hours(24));
    assert!(find(&expired.serial).await.unwrap().is_none(), "an expired certificate's is dropped");
    assert!(find(&older.serial).await.unwrap().is_none(), "missing ones wait for a round that looks");
    assert_eq!(refresh_presigned(db, &ca.issuing, true, now).await.unwrap(), 1);
    let made = find(&older.serial).await.unwrap().expect("signed for the certificate without one");
    assert_eq!(made.status, "valid");
    assert_eq!(refresh_presigned(db, &ca.issuing, true, now).await.unwrap(), 0, "nothing left to do");

    // A response within an hour of running out is not served: one is signed for the request.
    set_times(older.serial.clone(), made.this_update, chrono::Utc::now() + chrono::Duration::minutes(30)).await;
    let body = post_ocsp(&app, ocsp_request(&f, &issuing, &older.serial)).await;
    assert_ne!(body, made.der);
    let basic = x509_ocsp::BasicOcspResponse::from_der(&res_basic_bytes(&body)).unwrap();
    assert_eq!(basic.tbs_response_data.responses.len(), 1);
    assert!(matches!(basic.tbs_response_data.responses[0].cert_status, x509_ocsp::CertStatus::Good(_)));
}

/// Issuances that arrive while a commit is under way are written together in the next
/// transaction (their certificates in one insert), and each is answered only after that
/// transaction committed; a write that fails in the batch leaves nothing, not even the
/// certificate the batch inserted for it (the batch runs again without it, then with a
/// savepoint each, where the second failure is rolled back alone) and the others stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuances_that_arrive_together_share_one_commit() {
    use certdesk::ca::issue::prepare;
    use certdesk::error::AppError;
    use certdesk::group_commit::GroupCommit;
    use std::sync::{Arc, Mutex};
    let app = spawn_app().await;
    let commits = GroupCommit::start(app.state.db.clone());
    // A first write holds its batch open until the others are queued behind it.
    let (started, running) = tokio::sync::oneshot::channel::<()>();
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let (started, wait) = (Arc::new(Mutex::new(Some(started))), Arc::new(Mutex::new(Some(wait))));
    let first = {
        let commits = commits.clone();
        tokio::spawn(async move {
            commits
                .write(move |_| {
                    let (started, wait) = (started.clone(), wait.clone());
                    Box::pin(async move {
                        if let Some(started) = started.lock().unwrap().take() {
                            let _ = started.send(());
                        }
                        let wait = wait.lock().unwrap().take();
                        if let Some(wait) = wait {
                            let _ = wait.await;
                        }
                        Ok(())
                    })
                })
                .await
        })
    };
    running.await.unwrap();
    let issue = |fails: bool| {
        let (commits, ca) = (commits.clone(), app.state.ca.clone());
        tokio::spawn(async move {
            let s = subject(CertificateProfile::OrgSign);
            let csr = p256_csr();
            let req = IssueRequest { profile: CertificateProfile::OrgSign, subject: &s, csr: &csr, validity_days: 365 };
            let signed = prepare(&ca, &req).unwrap();
            let serial = signed.serial().to_owned();
            let issued = signed.issued().clone();
            let answer = commits
                .issue(signed, move |_| {
                    let issued = issued.clone();
                    Box::pin(async move { if fails { Err(AppError::Code(ErrorCode::NotFound)) } else { Ok(issued) } })
                })
                .await;
            (serial, answer)
        })
    };
    let tasks: Vec<_> = (0..11).map(|i| issue(i == 3 || i == 7)).collect();
    while commits.queued() < 11 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    go.send(()).unwrap();
    first.await.unwrap().unwrap();
    let mut stored = 0;
    for task in tasks {
        let (serial, answer) = task.await.unwrap();
        let row = certificate::Entity::find()
            .filter(certificate::Column::Serial.eq(serial.clone()))
            .one(&app.state.db)
            .await
            .unwrap();
        match answer {
            Ok(issued) => {
                assert_eq!(issued.serial, serial);
                assert!(row.is_some(), "answered once its row is committed");
                stored += 1;
            }
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::NotFound);
                assert!(row.is_none(), "the failed write was rolled back, alone");
            }
        }
    }
    assert_eq!(stored, 9);
    assert_eq!(commits.counts(), (2, 10), "one commit for the first write, one for the nine behind it that stay");
}

/// A certificate whose serial is taken fails the batch's one insert of its certificates; the
/// batch then stores them one at a time, each under its savepoint, and refuses that one alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serial_taken_in_a_batch_is_refused_alone() {
    use certdesk::ca::issue::prepare;
    use certdesk::group_commit::GroupCommit;
    let app = spawn_app().await;
    let commits = GroupCommit::start(app.state.db.clone());
    let signed = |_| {
        let s = subject(CertificateProfile::OrgSign);
        let csr = p256_csr();
        let req = IssueRequest { profile: CertificateProfile::OrgSign, subject: &s, csr: &csr, validity_days: 365 };
        prepare(&app.state.ca, &req).unwrap()
    };
    let mut batch: Vec<_> = (0..5).map(signed).collect();
    // The third certificate twice: its second insert finds the serial taken.
    batch.push(batch[2].clone());
    let serials: Vec<String> = batch.iter().map(|s| s.serial().to_owned()).collect();
    let tasks: Vec<_> = batch
        .into_iter()
        .map(|signed| {
            let commits = commits.clone();
            tokio::spawn(async move { commits.store(signed).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap().map(|issued| issued.serial));
    }
    let issued = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(issued, 5, "{answers:?}");
    let refused: Vec<_> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
    assert_eq!(refused.len(), 1, "{answers:?}");
    assert_eq!(refused[0].code(), ErrorCode::Internal);
    for serial in &serials {
        let rows = certificate::Entity::find()
            .filter(certificate::Column::Serial.eq(serial.clone()))
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(rows, 1, "one row for {serial}");
    }
}
