//! The offline root (CA/B Forum BR §6.2): the ceremony through the same functions as
//! `certdesk ca root …`, `certdesk ca issuing request` and `certdesk ca import`, in
//! production mode. The server's database never holds the root's key; OpenSSL verifies
//! with the root's imported CRL, pkilint lints what the root signs.

use std::path::Path;
use std::process::Command;

use certdesk::ca::hierarchy::{self, Names};
use certdesk::ca::revoke;
use certdesk::ca::root;
use certdesk::ca::signer::{CaSecret, KeyAlgorithm, Signer, SoftwareSigner};
use certdesk::entity::{ca_authority, ca_request};
use certdesk::{AppState, Config};
use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};

use crate::helpers::ca::{issue_one, p256_csr, pem};
use crate::helpers::{TestApp, start, test_config};

const PASSPHRASE: &str = "root passphrase, not for production";

/// The test configuration in production mode (no development shortcuts).
async fn production() -> (tempfile::TempDir, Config) {
    let (dir, mut config) = test_config().await;
    config.dev = false;
    config.insecure_captcha_echo = false;
    (dir, config)
}

fn at(t: x509_parser::time::ASN1Time) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap()
}

/// `openssl verify -x509_strict -crl_check_all`: the leaf against root + issuing, with the
/// root's CRL and the issuing CA's CRL. Ok(()) or the tool's output.
fn verify_all(dir: &Path, root: &[u8], issuing: &[u8], leaf: &[u8], crls: &[&[u8]]) -> Result<(), String> {
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let root = write("v-root.pem", pem("CERTIFICATE", root));
    let issuing = write("v-issuing.pem", pem("CERTIFICATE", issuing));
    let leaf = write("v-leaf.pem", pem("CERTIFICATE", leaf));
    let crls = write("v-crls.pem", crls.iter().map(|c| pem("X509 CRL", c)).collect());
    let out = Command::new("openssl")
        .args(["verify", "-x509_strict", "-purpose", "any", "-crl_check_all", "-CAfile"])
        .arg(&root)
        .arg("-untrusted")
        .arg(&issuing)
        .arg("-CRLfile")
        .arg(&crls)
        .arg(&leaf)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() { Ok(()) } else { Err(text) }
}

async fn bytes(app: &TestApp, path: &str) -> Vec<u8> {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.bytes().await.unwrap().to_vec()
}

fn pkilint(dir: &Path, tool: &str, args: &[&str], name: &str, pem_text: String) {
    let bin = std::env::var("PKILINT_BIN")
        .unwrap_or_else(|_| format!("{}/../target/tools/pkilint/bin", env!("CARGO_MANIFEST_DIR")));
    assert!(
        Path::new(&bin).join(tool).exists(),
        "pkilint is not installed in {bin}: run `cargo xtask test`, or set PKILINT_BIN"
    );
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, pem_text).unwrap();
    let out = Command::new(Path::new(&bin).join(tool)).args(args).arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("ERROR") && !text.contains("FATAL") && !text.contains("WARNING"),
        "{tool} on {name}:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_ceremony_leaves_the_root_key_off_the_server() {
    let (dir, config) = production().await;
    let work = dir.path().to_owned();
    // Without a CA, production refuses to start and prints the ceremony.
    let refused = AppState::new(config.clone()).await.err().expect("no CA: refused");
    let text = format!("{refused:#}");
    for step in [
        "certdesk ca root init",
        "certdesk ca issuing request",
        "certdesk ca root sign-issuing",
        "certdesk ca root crl",
        "certdesk ca import",
    ] {
        assert!(text.contains(step), "{text}");
    }

    // The root's machine: a passphrase is required outside development.
    let root_dir = work.join("root-media");
    assert!(root::secret(&root_dir, None, false).is_err());
    let secret = root::secret(&root_dir, Some(PASSPHRASE), false).unwrap();
    let root_der = root::init(&root_dir, &secret, &Names::from_config(&config), KeyAlgorithm::P256).unwrap();
    assert!(
        root::init(&root_dir, &secret, &Names::from_config(&config), KeyAlgorithm::P256).is_err(),
        "one root per directory"
    );
    assert!(root::crl(&root_dir, &CaSecret::from_passphrase("not the root passphrase").unwrap(), &[]).is_err());

    // The server: the issuing CA's key and request; asked again, the same request.
    let db = certdesk::db::connect(&config).await.unwrap();
    let csr = hierarchy::request_issuing(&db, &config, false).await.unwrap();
    assert_eq!(hierarchy::request_issuing(&db, &config, false).await.unwrap(), csr);
    // The root signs it and its CRL; the key fingerprints both sides read out agree.
    let signed = root::sign_issuing(&root_dir, &secret, &csr, &config.public_url).unwrap();
    assert_eq!(signed.key_sha256, root::request_key_fingerprint(&csr).unwrap());
    let root_crl = root::crl(&root_dir, &secret, &[]).unwrap();
    // The server imports the three.
    hierarchy::import(&db, &config, &root_der, &signed.cert_der, &root_crl).await.unwrap();
    let again = hierarchy::import(&db, &config, &root_der, &signed.cert_der, &root_crl).await.unwrap_err();
    assert!(format!("{again:#}").contains("exists already"), "{again:#}");

    // The database holds no root private key: the root row has none, the request is gone,
    // and no stored key opens as the root's or is the root's.
    let rows = ca_authority::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), 3);
    let root_row = rows.iter().find(|r| r.name == "root").unwrap();
    assert_eq!(root_row.key_storage, "offline");
    assert!(root_row.key_blob.is_empty());
    assert_eq!(ca_request::Entity::find().count(&db).await.unwrap(), 0);
    let server_secret = CaSecret::from_passphrase(config.ca_passphrase.as_deref().unwrap()).unwrap();
    let (_, root_cert) = x509_parser::parse_x509_certificate(&root_der).unwrap();
    for r in rows.iter().filter(|r| r.name != "root") {
        assert!(SoftwareSigner::unseal(&r.key_blob, &server_secret, "root").is_err());
        let key = SoftwareSigner::unseal(&r.key_blob, &server_secret, &r.name).unwrap();
        assert_ne!(key.public_key_raw(), root_cert.public_key().subject_public_key.data.as_ref());
    }

    // Now it starts, with the root's public key only.
    let app = start(dir, config.clone()).await;
    let ca = &app.state.ca;
    assert!(!ca.root.signer().holds_key());
    assert!(ca.issuing.signer().holds_key());
    assert!(hierarchy::describe(ca).unwrap().contains("offline"));
    assert_eq!(ca.root.cert_der, root_der);
    assert_eq!(ca.issuing.cert_der, signed.cert_der);

    // The root CRL is the imported one, valid a year.
    assert_eq!(bytes(&app, "/ca/root.crl").await, root_crl);
    let (_, parsed) = x509_parser::parse_x509_crl(&root_crl).unwrap();
    let (this_update, next_update) = (at(parsed.last_update()), at(parsed.next_update().unwrap()));
    assert_eq!(next_update - this_update, chrono::Duration::days(365));
    assert!((next_update - chrono::Utc::now()).num_days() >= 364);
    // The server never signs for the root: the timer leaves its CRL alone, and asking fails.
    revoke::refresh_crls(&app.state.db, &[&ca.root, &ca.issuing]).await.unwrap();
    assert_eq!(bytes(&app, "/ca/root.crl").await, root_crl);
    assert!(revoke::regenerate_crl(&app.state.db, &ca.root).await.is_err());
    assert_eq!(bytes(&app, "/ca/root.crl").await, root_crl);

    // A leaf verifies with both CRLs checked; OCSP answers through the issuing CA's responder.
    let leaf = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let issuing_crl = crate::helpers::ca::fetch_crl(&app, &leaf.serial).await;
    verify_all(&work, &root_der, &signed.cert_der, &leaf.der, &[&root_crl, &issuing_crl]).unwrap();
    let (_, ocsp_cert) = x509_parser::parse_x509_certificate(&ca.ocsp.cert_der).unwrap();
    assert_eq!(
        ocsp_cert.issuer().as_raw(),
        x509_parser::parse_x509_certificate(&signed.cert_der).unwrap().1.subject().as_raw()
    );
    let f = crate::helpers::ca::Files { dir: tempfile::tempdir().unwrap() };
    let good = crate::helpers::ca::openssl_ocsp(&f, &app, &leaf.serial, &[]);
    assert!(good.contains(": good") && good.contains("Response verify OK"), "{good}");

    // pkilint: the issuing CA's certificate and the root CRL.
    pkilint(&work, "lint_pkix_cert", &["lint", "-s", "WARNING"], "issuing", pem("CERTIFICATE", &signed.cert_der));
    pkilint(
        &work,
        "lint_crl",
        &["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING"],
        "root-crl",
        pem("X509 CRL", &root_crl),
    );

    // Revoking the issuing CA is a ceremony step: the root's next CRL lists it.
    assert!(
        root::crl(&root_dir, &secret, &[(signed.serial.clone(), RevocationReason::Unspecified)]).is_err(),
        "a CA's reason is given"
    );
    assert!(
        root::crl(&root_dir, &secret, &[("7f00ff".into(), RevocationReason::KeyCompromise)]).is_err(),
        "only what the root signed"
    );
    let revoking = root::crl(&root_dir, &secret, &[(signed.serial.clone(), RevocationReason::KeyCompromise)]).unwrap();
    pkilint(
        &work,
        "lint_crl",
        &["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING"],
        "root-crl-revoking",
        pem("X509 CRL", &revoking),
    );
    hierarchy::import_root_crl(&db, &config, &revoking).await.unwrap();
    assert_eq!(bytes(&app, "/ca/root.crl").await, revoking);
    let older = hierarchy::import_root_crl(&db, &config, &root_crl).await.unwrap_err();
    assert!(format!("{older:#}").contains("not above"), "{older:#}");
    let err = verify_all(&work, &root_der, &signed.cert_der, &leaf.der, &[&revoking, &issuing_crl]).unwrap_err();
    assert!(err.contains("certificate revoked"), "{err}");
}

#[tokio::test]
async fn import_refuses_what_does_not_fit_this_server() {
    let (dir, config) = production().await;
    let root_dir = dir.path().join("root-media");
    let secret = root::secret(&root_dir, Some(PASSPHRASE), false).unwrap();
    let names = Names::from_config(&config);
    let root_der = root::init(&root_dir, &secret, &names, KeyAlgorithm::P256).unwrap();
    let db = certdesk::db::connect(&config).await.unwrap();
    let refused = |e: anyhow::Error, says: &str| assert!(format!("{e:#}").contains(says), "{e:#}");

    let csr_a = hierarchy::request_issuing(&db, &config, false).await.unwrap();
    let cert_a = root::sign_issuing(&root_dir, &secret, &csr_a, &config.public_url).unwrap();
    let crl = root::crl(&root_dir, &secret, &[]).unwrap();
    // A new request replaces the key: the certificate for the old one no longer fits.
    let csr_b = hierarchy::request_issuing(&db, &config, true).await.unwrap();
    assert_ne!(csr_a, csr_b);
    refused(
        hierarchy::import(&db, &config, &root_der, &cert_a.cert_der, &crl).await.unwrap_err(),
        "not for this server's pending key",
    );
    // Signed for another server's address.
    let elsewhere = root::sign_issuing(&root_dir, &secret, &csr_b, "https://elsewhere.example").unwrap();
    refused(hierarchy::import(&db, &config, &root_der, &elsewhere.cert_der, &crl).await.unwrap_err(), "root CRL");
    let cert_b = root::sign_issuing(&root_dir, &secret, &csr_b, &config.public_url).unwrap();
    // Not a self-signed root; a CRL of another root (same names, other key); a CRL revoking it.
    refused(
        hierarchy::import(&db, &config, &cert_b.cert_der, &cert_b.cert_der, &crl).await.unwrap_err(),
        "self-signed",
    );
    let other_dir = dir.path().join("other-root");
    let other_secret = root::secret(&other_dir, Some(PASSPHRASE), false).unwrap();
    let other_root = root::init(&other_dir, &other_secret, &names, KeyAlgorithm::P256).unwrap();
    let other_crl = root::crl(&other_dir, &other_secret, &[]).unwrap();
    refused(
        hierarchy::import(&db, &config, &root_der, &cert_b.cert_der, &other_crl).await.unwrap_err(),
        "does not verify",
    );
    refused(
        hierarchy::import(&db, &config, &other_root, &cert_b.cert_der, &other_crl).await.unwrap_err(),
        "does not chain",
    );
    let revoking = root::crl(&root_dir, &secret, &[(cert_b.serial.clone(), RevocationReason::Superseded)]).unwrap();
    refused(
        hierarchy::import(&db, &config, &root_der, &cert_b.cert_der, &revoking).await.unwrap_err(),
        "lists this issuing certificate",
    );
    // Nothing was imported, and the request is still pending.
    assert_eq!(ca_authority::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(ca_request::Entity::find().count(&db).await.unwrap(), 1);
    // The right three are taken.
    let cert_c = root::sign_issuing(&root_dir, &secret, &csr_b, &config.public_url).unwrap();
    let latest = root::crl(&root_dir, &secret, &[]).unwrap();
    hierarchy::import(&db, &config, &root_der, &cert_c.cert_der, &latest).await.unwrap();
    let app = start(dir, config).await;
    assert_eq!(app.state.ca.issuing.cert_der, cert_c.cert_der);
}

/// An old deployment (the root's key sealed in its database) keeps working with a warning,
/// and `certdesk ca root take-offline` moves the key out.
#[tokio::test]
async fn an_old_deployment_moves_its_root_key_offline() {
    let (dir, config) = test_config().await;
    let work = dir.path().to_owned();
    let app = start(dir, config.clone()).await;
    let db = &app.state.db;
    // Make it an old deployment: the root's key sealed in the database as every key was.
    let dev_root = root::dev_dir(&config);
    let dev_secret = root::secret(&dev_root, None, true).unwrap();
    let key =
        SoftwareSigner::unseal(&std::fs::read(dev_root.join(root::KEY_FILE)).unwrap(), &dev_secret, "root").unwrap();
    let server_secret = CaSecret::from_passphrase(config.ca_passphrase.as_deref().unwrap()).unwrap();
    ca_authority::Entity::update_many()
        .col_expr(ca_authority::Column::KeyStorage, Expr::value("sealed-pkcs8"))
        .col_expr(ca_authority::Column::KeyBlob, Expr::value(key.seal(&server_secret, "root").unwrap()))
        .filter(ca_authority::Column::Name.eq("root"))
        .exec(db)
        .await
        .unwrap();
    let old = AppState::new(config.clone()).await.unwrap();
    assert!(old.ca.root.signer().holds_key(), "an old deployment keeps working");
    let weekly = revoke::regenerate_crl(db, &old.ca.root).await.unwrap();
    assert!(hierarchy::import_root_crl(db, &config, &root::crl(&dev_root, &dev_secret, &[]).unwrap()).await.is_err());

    let media = work.join("root-media");
    let secret = root::secret(&media, Some(PASSPHRASE), false).unwrap();
    hierarchy::take_root_offline(db, &config, &media, &secret).await.unwrap();
    let row =
        ca_authority::Entity::find().filter(ca_authority::Column::Name.eq("root")).one(db).await.unwrap().unwrap();
    assert_eq!(row.key_storage, "offline");
    assert!(row.key_blob.is_empty());
    let moved = AppState::new(config.clone()).await.unwrap();
    assert!(!moved.ca.root.signer().holds_key());
    let crl = revoke::current_crl(db, &moved.ca.root).await.unwrap().unwrap();
    assert!(crl.number > weekly.number);
    assert!((crl.next_update - chrono::Utc::now()).num_days() >= 364);
    // The medium signs the next CRL, the server takes it; a second move is refused.
    let next = root::crl(&media, &secret, &[]).unwrap();
    hierarchy::import_root_crl(db, &config, &next).await.unwrap();
    assert!(hierarchy::take_root_offline(db, &config, &work.join("again"), &secret).await.is_err());
    let (_, leaf_check) = x509_parser::parse_x509_crl(&next).unwrap();
    assert!(
        leaf_check
            .verify_signature(x509_parser::parse_x509_certificate(&moved.ca.root.cert_der).unwrap().1.public_key())
            .is_ok()
    );
}
