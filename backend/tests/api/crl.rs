//! Partitioned CRLs (issue 18): a certificate's shard is fixed at issuance and named in its
//! CRL distribution point; a status change re-signs only that shard; the certificates from
//! before the shards keep the full-name CRL; the list of every CRL is published as JSON.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use certdesk::ca::issue::{IssueRequest, issue};
use certdesk::ca::revoke;
use certdesk::entity::certificate;
use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use der::Decode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use x509_cert::ext::pkix::crl::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

use crate::helpers::ca::{
    Files, crl_number, crl_url_of, fetch_crl, fetch_crl_at, issue_one, openssl_verify, p256_csr, pem, subject,
};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn row(app: &TestApp, serial: &str) -> certificate::Model {
    certificate::Entity::find()
        .filter(certificate::Column::Serial.eq(serial.to_owned()))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

fn path_of<'a>(app: &TestApp, url: &'a str) -> &'a str {
    let base = app.state.config.public_url.trim_end_matches('/').to_owned();
    url.strip_prefix(base.as_str()).unwrap_or_else(|| panic!("{url} is not under {base}"))
}

/// Every CRL the JSON list names, by URL.
async fn every_crl(app: &TestApp) -> BTreeMap<String, Vec<u8>> {
    let res = app.get("/ca/issuing-crls.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let urls: Vec<String> = res.json().await.unwrap();
    let mut all = BTreeMap::new();
    for url in urls {
        let der = fetch_crl_at(app, path_of(app, &url)).await;
        all.insert(url, der);
    }
    all
}

/// The CRL's issuingDistributionPoint, which must be critical, and the URL it names.
fn idp_of(der: &[u8]) -> (IssuingDistributionPoint, String) {
    let crl = x509_cert::crl::CertificateList::from_der(der).unwrap();
    let exts = crl.tbs_cert_list.crl_extensions.unwrap();
    let ext = exts.iter().find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT).unwrap();
    assert!(ext.critical, "issuingDistributionPoint is critical (RFC 5280 §5.2.5)");
    let idp = IssuingDistributionPoint::from_der(ext.extn_value.as_bytes()).unwrap();
    let url = match &idp.distribution_point {
        Some(DistributionPointName::FullName(names)) => match names.as_slice() {
            [GeneralName::UniformResourceIdentifier(u)] => u.to_string(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    (idp, url)
}

fn serials_in(der: &[u8]) -> Vec<String> {
    let (_, crl) = x509_parser::parse_x509_crl(der).unwrap();
    crl.iter_revoked_certificates().map(|r| hex::encode(r.raw_serial())).collect()
}

/// Certificates until two are in different shards.
async fn two_in_different_shards(app: &TestApp) -> (certdesk::ca::issue::Issued, certdesk::ca::issue::Issued) {
    let first = issue_one(app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
    let shard = row(app, &first.serial).await.crl_shard;
    for _ in 0..50 {
        let other = issue_one(app, CertificateProfile::PersonalSign, &p256_csr()).await.unwrap();
        if row(app, &other.serial).await.crl_shard != shard {
            return (first, other);
        }
    }
    panic!("50 certificates in one shard of {}", app.state.ca.issuing.partitions.as_ref().unwrap().shards)
}

#[tokio::test]
async fn a_certificate_names_its_shard_and_a_revocation_signs_only_that_shard() {
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let partitions = app.state.ca.issuing.partitions.clone().unwrap();
    assert_eq!(partitions.shards, certdesk::config::DEFAULT_CRL_SHARDS, "the default");
    let n = u128::from(partitions.shards);
    let (gone, kept) = two_in_different_shards(&app).await;

    // The shard is the serial mod the shards, stored with the row and named in the CDP.
    for c in [&gone, &kept] {
        let shard = row(&app, &c.serial).await.crl_shard.unwrap();
        let serial = u128::from_str_radix(&c.serial, 16).unwrap();
        assert_eq!(shard as u128, serial % n);
        let want = format!("http://certdesk.localhost/ca/issuing/{shard}.crl");
        assert_eq!(crl_url_of(&c.der), want);
    }

    // The JSON array names the full-name CRL and every shard, each served with its IDP.
    let before = every_crl(&app).await;
    let mut want = vec!["http://certdesk.localhost/ca/issuing.crl".to_owned()];
    want.extend((0..partitions.shards).map(|s| format!("http://certdesk.localhost/ca/issuing/{s}.crl")));
    want.sort();
    assert_eq!(before.keys().cloned().collect::<Vec<_>>(), want);
    for (url, der) in &before {
        let (idp, named) = idp_of(der);
        assert_eq!(&named, url);
        assert!(idp.only_contains_user_certs && !idp.only_contains_ca_certs && !idp.indirect_crl);
        assert!(idp.only_some_reasons.is_none() && !idp.only_contains_attribute_certs);
        assert!(serials_in(der).is_empty());
    }
    for c in [&gone, &kept] {
        openssl_verify(&f, &app, &c.der, Some(&before[&crl_url_of(&c.der)])).unwrap();
    }

    let gone_url = crl_url_of(&gone.der);
    revoke::revoke(&app.state.db, &app.state.ca.issuing, &gone.serial, RevocationReason::KeyCompromise, None)
        .await
        .unwrap();
    let after = every_crl(&app).await;
    for (url, der) in &after {
        if *url == gone_url {
            assert!(crl_number(der) > crl_number(&before[url]), "its shard has a new number");
            assert_eq!(serials_in(der), [gone.serial.as_str()]);
        } else {
            assert_eq!(der, &before[url], "{url} is not signed again");
        }
    }
    let err = openssl_verify(&f, &app, &gone.der, Some(&after[&gone_url])).unwrap_err();
    assert!(err.contains("certificate revoked"), "{err}");
    openssl_verify(&f, &app, &kept.der, Some(&after[&crl_url_of(&kept.der)])).unwrap();
    // The full-name CRL does not list a sharded certificate: its IDP says it is not in scope.
    let full = &after["http://certdesk.localhost/ca/issuing.crl"];
    assert!(serials_in(full).is_empty());
    let wrong = openssl_verify(&f, &app, &gone.der, Some(full)).unwrap_err();
    assert!(wrong.contains("different CRL scope"), "{wrong}");

    // Freezing and releasing (certificateHold, then off the CRL) sign only the shard too.
    let kept_url = crl_url_of(&kept.der);
    revoke::hold(&app.state.db, &app.state.ca.issuing, &kept.serial).await.unwrap();
    let held = every_crl(&app).await;
    assert!(crl_number(&held[&kept_url]) > crl_number(&after[&kept_url]));
    assert_eq!(serials_in(&held[&kept_url]), [kept.serial.as_str()]);
    assert_eq!(held[&gone_url], after[&gone_url]);
    revoke::release(&app.state.db, &app.state.ca.issuing, &kept.serial).await.unwrap();
    let released = every_crl(&app).await;
    assert!(crl_number(&released[&kept_url]) > crl_number(&held[&kept_url]));
    assert!(serials_in(&released[&kept_url]).is_empty());
    openssl_verify(&f, &app, &kept.der, Some(&released[&kept_url])).unwrap();

    // Paths that name no shard.
    for bad in [
        &format!("/ca/issuing/{n}.crl") as &str,
        "/ca/issuing/01.crl",
        "/ca/issuing/x.crl",
        "/ca/root/0.crl",
        "/ca/root-crls.json",
    ] {
        assert_eq!(app.get(bad).await.status(), 404, "{bad}");
    }
}

/// A certificate issued before the shards (no shard, its CDP the full-name CRL) is revoked
/// into the full-name CRL, and no shard is signed again.
#[tokio::test]
async fn a_certificate_from_before_the_shards_keeps_the_full_crl() {
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    // The CA as it issued before this change: one CRL, named in every certificate.
    let mut before_shards = (*app.state.ca).clone();
    before_shards.issuing.partitions = None;
    let s = subject(CertificateProfile::OrgSign);
    let csr = p256_csr();
    let req = IssueRequest { profile: CertificateProfile::OrgSign, subject: &s, csr: &csr, validity_days: 365 };
    let old = issue(&app.state.db, &before_shards, &req).await.unwrap();
    assert_eq!(row(&app, &old.serial).await.crl_shard, None);
    assert_eq!(crl_url_of(&old.der), "http://certdesk.localhost/ca/issuing.crl");

    let before = every_crl(&app).await;
    let full_url = "http://certdesk.localhost/ca/issuing.crl";
    openssl_verify(&f, &app, &old.der, Some(&before[full_url])).unwrap();
    revoke::revoke(&app.state.db, &app.state.ca.issuing, &old.serial, RevocationReason::Superseded, None)
        .await
        .unwrap();
    let after = every_crl(&app).await;
    for (url, der) in &after {
        if url == full_url {
            assert!(crl_number(der) > crl_number(&before[url]));
            assert_eq!(serials_in(der), [old.serial.as_str()]);
            assert_eq!(idp_of(der).1, full_url);
        } else {
            assert_eq!(der, &before[url], "{url} is not signed again");
        }
    }
    assert_eq!(fetch_crl(&app, &old.serial).await, after[full_url]);
    let err = openssl_verify(&f, &app, &old.der, Some(&after[full_url])).unwrap_err();
    assert!(err.contains("certificate revoked"), "{err}");
}

/// Concurrent revocations in one shard: each commits with the shard's row held, so the last
/// CRL lists them all and the shard's number grew by one for each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_revocations_in_one_shard_all_show_and_numbers_only_grow() {
    let app = spawn_app_with(|c| c.crl_shards = 1).await;
    let mut serials = Vec::new();
    for _ in 0..6 {
        let c = issue_one(&app, CertificateProfile::OrgSign, &p256_csr()).await.unwrap();
        assert_eq!(crl_url_of(&c.der), "http://certdesk.localhost/ca/issuing/0.crl");
        serials.push(c.serial);
    }
    let first = fetch_crl_at(&app, "/ca/issuing/0.crl").await;
    let mut tasks = tokio::task::JoinSet::new();
    for serial in serials.clone() {
        let (db, ca) = (app.state.db.clone(), app.state.ca.clone());
        tasks.spawn(async move {
            revoke::revoke(&db, &ca.issuing, &serial, RevocationReason::KeyCompromise, None).await.unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let last = fetch_crl_at(&app, "/ca/issuing/0.crl").await;
    assert_eq!(crl_number(&last), crl_number(&first) + 6);
    let mut listed = serials_in(&last);
    listed.sort();
    serials.sort();
    assert_eq!(listed, serials);
    let urls: Vec<String> = app.get("/ca/issuing-crls.json").await.json().await.unwrap();
    assert_eq!(urls, ["http://certdesk.localhost/ca/issuing.crl", "http://certdesk.localhost/ca/issuing/0.crl"]);
}

/// pkilint's `lint_crl` on a shard with an entry, an empty shard and the full-name CRL, with
/// no finding at WARNING or above.
#[tokio::test]
async fn pkilint_passes_on_shards_with_and_without_entries() {
    let bin = std::env::var("PKILINT_BIN")
        .unwrap_or_else(|_| format!("{}/../target/tools/pkilint/bin", env!("CARGO_MANIFEST_DIR")));
    assert!(
        Path::new(&bin).join("lint_crl").exists(),
        "pkilint is not installed in {bin}: run `cargo xtask test`, or set PKILINT_BIN"
    );
    let app = spawn_app().await;
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let c = issue_one(&app, CertificateProfile::LegalSign, &p256_csr()).await.unwrap();
    revoke::revoke(&app.state.db, &app.state.ca.issuing, &c.serial, RevocationReason::KeyCompromise, None)
        .await
        .unwrap();
    let with_entry = fetch_crl(&app, &c.serial).await;
    assert_eq!(serials_in(&with_entry).len(), 1);
    let shard = row(&app, &c.serial).await.crl_shard.unwrap();
    let shards = i32::from(app.state.ca.issuing.partitions.as_ref().unwrap().shards);
    let empty = fetch_crl_at(&app, &format!("/ca/issuing/{}.crl", (shard + 1) % shards)).await;
    assert!(serials_in(&empty).is_empty());
    let full = fetch_crl_at(&app, "/ca/issuing.crl").await;
    for (name, der) in [("shard_with_entry", &with_entry), ("empty_shard", &empty), ("full_name", &full)] {
        let path = f.write(&format!("{name}.pem"), &pem("X509 CRL", der));
        let out = Command::new(Path::new(&bin).join("lint_crl"))
            .args(["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && !text.contains("WARNING") && !text.contains("ERROR"), "{name}:\n{text}");
    }
}
