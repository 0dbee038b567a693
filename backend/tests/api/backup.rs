//! `certdesk backup` while the server works, and `certdesk restore` onto a new directory: the
//! restored server opens the same CA with the restored key, its audit chain verifies, the
//! customer signs in and downloads the certificate, and OCSP answers good and revoked. The
//! keys are files here, as in production (`ca.secret`, `audit.key`), not the tests' passphrases.

use certdesk::backup::{self, MANIFEST};
use certdesk::ca::revoke;
use certdesk::domain::audit;
use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use certdesk_shared::endpoint::{self, Endpoint};
use reqwest::StatusCode;

use crate::helpers::browser::{Browser, PASSWORD, registered, sign_in};
use crate::helpers::ca::{Files, issue_one, openssl_ocsp, p256_csr};
use crate::helpers::issuing::{issue_with_key, submitted};
use crate::helpers::{TestApp, start, test_config};

/// A test configuration whose CA secret and audit key are files in its data directory.
async fn with_key_files() -> (tempfile::TempDir, certdesk::Config) {
    let (dir, mut config) = test_config().await;
    config.ca_passphrase = None;
    config.audit_key = None;
    (dir, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_onto_a_new_directory_where_everything_works() {
    let (dir, config) = with_key_files().await;
    let app = start(dir, config).await;
    assert!(app.state.config.ca_secret_path().exists() && app.state.config.audit_key_path().exists());
    let (_, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, serial, pem, _) = issue_with_key(&app, &mut admin, &id, &acceptance, &mobile).await;
    let revoked = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    revoke::revoke(&app.state.db, &app.state.ca.issuing, &revoked.serial, RevocationReason::KeyCompromise, None)
        .await
        .unwrap();

    // The backup runs while customers register (accounts, codes, SMS and audit rows written).
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("backup");
    let load = async {
        let mut n = 0;
        for _ in 0..6 {
            registered(&app).await;
            n += 1;
        }
        n
    };
    let (manifest, registrations) = tokio::join!(backup::backup(&app.state.config, &target), load);
    let manifest = manifest.expect("backup");
    assert_eq!(registrations, 6);
    let mut names: Vec<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    let db_file = if crate::helpers::expected_kind() == "postgres" { "certdesk.pgdump" } else { "certdesk.db" };
    let mut want = vec!["audit.key", "ca.secret", db_file];
    want.sort_unstable();
    assert_eq!(names, want);
    assert!(manifest.not_included.is_empty(), "{:?}", manifest.not_included);
    assert!(manifest.audit_rows > 0 && manifest.audit_head.is_some());
    // A backup goes into a new directory only.
    assert!(backup::backup(&app.state.config, &target).await.is_err());

    // Restored onto a new directory (and a new, empty database).
    let (dir2, config2) = with_key_files().await;
    assert!(!config2.audit_key_path().exists());
    let restored = backup::restore(&config2, &target).await.expect("restore");
    assert_eq!(restored.audit_rows, manifest.audit_rows);
    // Once there, it is not restored over.
    let again = backup::restore(&config2, &target).await.unwrap_err().to_string();
    assert!(again.contains("exists") || again.contains("not empty"), "{again}");
    let app2: TestApp = start(dir2, config2).await;

    // `ca status`: the same CA, opened with the restored secret.
    assert_eq!(app2.state.ca.issuing.cert_der, app.state.ca.issuing.cert_der);
    assert_eq!(app2.state.ca.root.cert_der, app.state.ca.root.cert_der);
    // `audit verify`: the chain holds, up to the backup's head.
    let v = audit::verify(&app2.state.db, &app2.state.audit_key).await.unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert!(v.rows >= manifest.audit_rows);

    // The customer signs in there and downloads the certificate.
    let mut b = Browser::new(&app2);
    let (s, v) = sign_in(&mut b, &mobile, PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mine = b.ok::<endpoint::ListMyCertificates>(&[], &()).await;
    let held = mine.iter().find(|c| c.uid == uid).expect("the certificate");
    assert_eq!(held.status, certdesk_shared::my_certificates::MyCertificateStatus::Valid);
    let (s, detail) = Browser::new(&app2).send::<endpoint::CertificateDetail>(&[&uid], &()).await;
    assert_eq!(s, StatusCode::OK, "{detail}");
    let download = app2.get(&endpoint::CertificateFile::path(&[&format!("{uid}.pem")])).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.text().await.unwrap().trim(), pem.trim());

    // OCSP answers from the restored server: good, and revoked.
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let good = openssl_ocsp(&f, &app2, &serial, &[]);
    assert!(good.contains(": good") && good.contains("Response verify OK"), "{good}");
    let bad = openssl_ocsp(&f, &app2, &revoked.serial, &[]);
    assert!(bad.contains(": revoked") && bad.contains("Response verify OK"), "{bad}");

    // A damaged backup is refused before anything is written.
    let manifest_path = target.join(MANIFEST);
    std::fs::write(target.join("audit.key"), b"not the key").unwrap();
    let (_dir3, config3) = with_key_files().await;
    let refused = backup::restore(&config3, &target).await.unwrap_err().to_string();
    assert!(refused.contains("damaged"), "{refused}");
    assert!(!config3.audit_key_path().exists() && manifest_path.exists());
}
