//! The public directory: status search by e-mail and exact name with the status filters,
//! the detail page, self-revocation with the challenge phrase (CRL and OCSP show it at
//! once), wrong phrases limited and audited, the bulletin, and the progress lookup.

use certdesk_shared::admin::AuditQuery;
use certdesk_shared::endpoint::{self, Endpoint};

use certdesk_shared::certificate::{CertificateProfile, RevocationReason};
use certdesk_shared::directory::{
    BulletinQuery, CertificateDetail, Progress, ProgressQuery, PublicStatus, SearchQuery, SearchResults, SelfRevocation,
};
use certdesk_shared::request::RequestStatus;
use certdesk_shared::{ErrorCode, ValidationError};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::browser::{Browser, api_error, decode, first_field, to_json};
use crate::helpers::ca::{Files, fetch_crl, openssl_ocsp};
use crate::helpers::issuing::{CHALLENGE_PHRASE, issue_with_key, submitted};
use crate::helpers::{TestApp, spawn_app};

/// Approved and issued for a fresh key: the certificate's uid and serial.
async fn issue(app: &TestApp, admin: &mut Browser<'_>, id: &str, acceptance: &str, mobile: &str) -> (String, String) {
    let (uid, serial, _, _) = issue_with_key(app, admin, id, acceptance, mobile).await;
    (uid, serial)
}

async fn search(anyone: &mut Browser<'_>, query: SearchQuery) -> (StatusCode, Value) {
    anyone.send::<endpoint::SearchCertificates>(&[], &query).await
}

/// A search by e-mail address, with a status filter or the default one.
fn email(email: &str, status: Option<&str>) -> SearchQuery {
    SearchQuery { email: email.into(), status: status.map(str::to_owned), ..Default::default() }
}

/// A search by name, with a status filter or the default one.
fn name(name: &str, status: Option<&str>) -> SearchQuery {
    SearchQuery { name: name.into(), status: status.map(str::to_owned), ..Default::default() }
}

fn uids(v: &Value) -> Vec<Option<String>> {
    decode::<SearchResults>(v).hits.into_iter().map(|h| h.uid).collect()
}

/// An error answer's code.
fn code_of(v: &Value) -> ErrorCode {
    api_error(v).code
}

/// The public form's revocation.
fn by_phrase(phrase: &str, reason: RevocationReason) -> SelfRevocation {
    SelfRevocation { challenge_phrase: phrase.to_owned(), reason }
}

/// A progress query with the acceptance number and the phone.
fn progress(acceptance: &str, mobile: &str) -> ProgressQuery {
    ProgressQuery { acceptance_no: acceptance.to_owned(), mobile: mobile.to_owned(), ..ProgressQuery::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_applications_then_the_certificate_and_the_holder_revokes_it_with_the_phrase() {
    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let mut anyone = Browser::new(&app);
    let unit = "天津市滨海数字认证有限公司";

    // Submitted: Pending finds it (masked, no detail link); Valid finds nothing yet.
    let (s, v) = search(&mut anyone, email("CA@example.com", Some("pending"))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let hit = decode::<SearchResults>(&v).hits.into_iter().next().expect("a hit");
    assert_eq!((hit.status, hit.email.as_deref()), (PublicStatus::Pending, Some("c***@example.com")));
    assert_eq!(uids(&v), [None]);
    assert!(!v.to_string().contains("ca@example.com"), "contact data is masked: {v}");
    assert_eq!(
        uids(&search(&mut anyone, email("ca@example.com", None)).await.1).len(),
        0,
        "Valid is the default filter"
    );

    let (uid, serial) = issue(&app, &mut admin, &id, &acceptance, &mobile).await;
    let (_, v) = search(&mut anyone, email("ca@example.com", Some("valid"))).await;
    assert_eq!(uids(&v), [Some(uid.clone())]);
    let hit = decode::<SearchResults>(&v).hits.into_iter().next().expect("a hit");
    assert_eq!((hit.profile, hit.status), (Some(CertificateProfile::OrgSign), PublicStatus::Valid));
    assert!(hit.not_after.is_some());
    let (_, v) = search(&mut anyone, name(unit, Some("all"))).await;
    assert!(uids(&v).contains(&Some(uid.clone())), "{v}");
    assert_eq!(uids(&search(&mut anyone, name(unit, Some("expired"))).await.1).len(), 0);
    assert_eq!(uids(&search(&mut anyone, email("ca@example.com", Some("revoked"))).await.1).len(), 0);
    // No wildcards, and a name must be exact.
    let (s, v) = search(&mut anyone, name("天津*", None)).await;
    let error = first_field(&v).map(|f| f.1);
    assert_eq!((s, error), (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::Wildcard)));
    assert_eq!(uids(&search(&mut anyone, name("天津", Some("all"))).await.1).len(), 0);

    // The detail page.
    let d = anyone.ok::<endpoint::CertificateDetail>(&[&uid], &()).await;
    assert_eq!(
        (d.serial.as_str(), d.status, d.email.as_deref()),
        (serial.as_str(), PublicStatus::Valid, Some("c***@example.com"))
    );
    assert!(d.subject.contains("天津市滨海数字认证有限公司"), "{d:?}");
    assert_eq!(
        anyone.send::<endpoint::CertificateDetail>(&["no-such-certificate"], &()).await.0,
        StatusCode::NOT_FOUND
    );

    // A wrong phrase is refused, audited, and changes nothing; a CA reason is refused.
    let (s, v) = anyone
        .send::<endpoint::RevokeByChallengePhrase>(
            &[&uid],
            &by_phrase("我猜的撤销密码", RevocationReason::KeyCompromise),
        )
        .await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ChallengePhraseInvalid));
    let (s, v) = anyone
        .send::<endpoint::RevokeByChallengePhrase>(
            &[&uid],
            &by_phrase(CHALLENGE_PHRASE, RevocationReason::CaCompromise),
        )
        .await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::BadRevocationReason));
    let still = anyone.ok::<endpoint::CertificateDetail>(&[&uid], &()).await;
    assert_eq!(still.status, PublicStatus::Valid);
    let trail = admin.ok::<endpoint::AuditTrail>(&[], &AuditQuery { per_page: Some(200), ..Default::default() }).await;
    assert!(trail.items.iter().any(|e| e.action == "revocation_phrase_invalid" && e.subject == serial), "{trail:?}");

    // The right phrase revokes at once: search, bulletin, CRL and OCSP all say so.
    let (s, d) = anyone
        .send::<endpoint::RevokeByChallengePhrase>(
            &[&uid],
            &by_phrase(CHALLENGE_PHRASE, RevocationReason::KeyCompromise),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let d: CertificateDetail = decode(&d);
    assert_eq!((d.status, d.reason), (PublicStatus::Revoked, Some(RevocationReason::KeyCompromise)), "{d:?}");
    assert_eq!(uids(&search(&mut anyone, email("ca@example.com", Some("revoked"))).await.1), [Some(uid.clone())]);
    assert_eq!(uids(&search(&mut anyone, email("ca@example.com", Some("valid"))).await.1).len(), 0);
    let page =
        anyone.ok::<endpoint::Bulletin>(&[], &BulletinQuery { q: serial.to_uppercase(), ..Default::default() }).await;
    assert_eq!(
        (page.total, page.entries.first().and_then(|e| e.reason)),
        (1, Some(RevocationReason::KeyCompromise)),
        "{page:?}"
    );
    let page = anyone.ok::<endpoint::Bulletin>(&[], &BulletinQuery::default()).await;
    assert_eq!(page.entries.first().map(|e| e.uid.as_str()), Some(uid.as_str()), "newest first");
    let crl = fetch_crl(&app, &serial).await;
    let (_, crl) = x509_parser::parse_x509_crl(&crl).unwrap();
    assert!(
        crl.iter_revoked_certificates().any(|r| r.raw_serial_as_string().replace(':', "") == serial),
        "the new CRL lists it"
    );
    let f = Files { dir: tempfile::tempdir().unwrap() };
    let ocsp = openssl_ocsp(&f, &app, &serial, &[]);
    assert!(ocsp.contains(": revoked") && ocsp.contains("keyCompromise"), "{ocsp}");
    let (s, v) = anyone
        .send::<endpoint::RevokeByChallengePhrase>(&[&uid], &by_phrase(CHALLENGE_PHRASE, RevocationReason::Superseded))
        .await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::AlreadyRevoked));
}

/// A revocation attempt from `address` (the server trusts X-Forwarded-For in this test).
async fn revoke_from(app: &TestApp, address: &str, uid: &str, phrase: &str) -> (StatusCode, Value) {
    let res = app
        .client
        .post(app.url(&endpoint::RevokeByChallengePhrase::path(&[uid])))
        .header("x-forwarded-for", address)
        .json(&by_phrase(phrase, RevocationReason::Unspecified))
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guessing_address_is_stopped_but_cannot_lock_the_holder_out() {
    let app = crate::helpers::spawn_app_with(|c| c.trust_forwarded_for = true).await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, _) = issue(&app, &mut admin, &id, &acceptance, &mobile).await;
    for _ in 0..3 {
        let (s, v) = revoke_from(&app, "203.0.113.7", &uid, "another guess").await;
        assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ChallengePhraseInvalid));
    }
    // The guesser now waits, even with the right phrase; the certificate is still valid.
    let (s, v) = revoke_from(&app, "203.0.113.7", &uid, CHALLENGE_PHRASE).await;
    assert_eq!((s, code_of(&v)), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited));
    // Its IPv6 neighbours in the same /64 count as the same address.
    for a in ["2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6::3"] {
        assert_eq!(revoke_from(&app, a, &uid, "another guess").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(revoke_from(&app, "2001:db8:5:6::4", &uid, CHALLENGE_PHRASE).await.0, StatusCode::TOO_MANY_REQUESTS);
    // The holder, elsewhere, revokes at once.
    let (s, v) = revoke_from(&app, "198.51.100.20", &uid, CHALLENGE_PHRASE).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<CertificateDetail>(&v).status, PublicStatus::Revoked, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_needs_two_fields_and_tells_only_the_status() {
    let app = spawn_app().await;
    let (_b, _admin, _id, acceptance, mobile) = submitted(&app).await;
    let mut anyone = Browser::new(&app);
    let only_one = ProgressQuery { acceptance_no: acceptance.clone(), ..ProgressQuery::default() };
    let (s, v) = anyone.send::<endpoint::LookUpProgress>(&[], &only_one).await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ProgressNeedsTwo));
    let (s, v) = anyone.send::<endpoint::LookUpProgress>(&[], &progress(&acceptance, &mobile)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The whole answer, to the field: the status and nothing else.
    assert_eq!(v, to_json(Progress { status: RequestStatus::Submitted }), "the status and nothing else");
    let unit = ProgressQuery {
        org_name: "天津市滨海数字认证有限公司".into(),
        id_number: "11010519491231002x".into(),
        ..ProgressQuery::default()
    };
    let (s, v) = anyone.send::<endpoint::LookUpProgress>(&[], &unit).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<Progress>(&v).status, RequestStatus::Submitted);
    let (s, _) = anyone.send::<endpoint::LookUpProgress>(&[], &progress(&acceptance, "13900000000")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "both given fields must match");
    // 20 an hour per address: 3 counted so far (the one-field query is refused before).
    for _ in 0..17 {
        assert_eq!(
            anyone.send::<endpoint::LookUpProgress>(&[], &progress(&acceptance, &mobile)).await.0,
            StatusCode::OK
        );
    }
    let (s, v) = anyone.send::<endpoint::LookUpProgress>(&[], &progress(&acceptance, &mobile)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited));
}

#[tokio::test]
async fn searches_are_limited_per_address() {
    let app = spawn_app().await;
    let mut anyone = Browser::new(&app);
    for _ in 0..60 {
        assert_eq!(search(&mut anyone, email("nobody@example.com", None)).await.0, StatusCode::OK);
    }
    let (s, v) = search(&mut anyone, email("nobody@example.com", None)).await;
    assert_eq!((s, code_of(&v)), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited));
}

async fn throttle_rows(db: &impl sea_orm::ConnectionTrait) -> i64 {
    let row = db
        .query_one(sea_orm::Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM throttle"))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn lookup_counters_live_in_the_counters_store() {
    let app = spawn_app().await;
    let mut anyone = Browser::new(&app);
    assert_eq!(search(&mut anyone, email("nobody@example.com", None)).await.0, StatusCode::OK);
    assert_eq!(throttle_rows(app.state.counters.connection()).await, 1, "the search was counted in the store");
    if crate::helpers::expected_kind() == "sqlite" {
        // Its own file beside the data, and nothing in the main database's table.
        assert!(app.state.config.counters_path().is_file());
        assert_eq!(throttle_rows(&app.state.db).await, 0);
    }
}

#[tokio::test]
async fn two_servers_share_one_lookup_limit() {
    use certdesk::domain::directory::{LOOKUPS_PER_MINUTE, count_lookup};
    let app = spawn_app().await;
    // A second server on the same database (and, on SQLite, the same data directory).
    let other = certdesk::AppState::new((*app.state.config).clone()).await.unwrap();
    let now = chrono::Utc::now();
    for i in 0..LOOKUPS_PER_MINUTE {
        let counters = if i % 2 == 0 { &app.state.counters } else { &other.counters };
        count_lookup(counters, "192.0.2.44", now).await.unwrap();
    }
    for counters in [&app.state.counters, &other.counters] {
        let refused = count_lookup(counters, "192.0.2.44", now).await.unwrap_err();
        assert!(
            matches!(refused, certdesk::error::AppError::Code(certdesk_shared::ErrorCode::RateLimited)),
            "{refused:?}"
        );
    }
    assert!(count_lookup(&other.counters, "192.0.2.45", now).await.is_ok(), "another address is not affected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_submitted_before_the_lookup_columns_are_found_after_the_backfill() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, _) = issue(&app, &mut admin, &id, &acceptance, &mobile).await;
    // As a row written before migration 010: no lookup columns, no holder e-mail.
    let db = &app.state.db;
    db.execute_unprepared(
        "UPDATE request SET search_name = NULL, search_email = NULL, operator_mobile = NULL, operator_id_number = NULL",
    )
    .await
    .unwrap();
    db.execute_unprepared("UPDATE certificate SET email = NULL").await.unwrap();
    let mut anyone = Browser::new(&app);
    assert_eq!(uids(&search(&mut anyone, email("ca@example.com", None)).await.1).len(), 0);
    let query = progress(&acceptance, &mobile);
    assert_ne!(anyone.send::<endpoint::LookUpProgress>(&[], &query).await.0, StatusCode::OK);

    // Migration 012 run again by the migrator (those after it are taken down and put back
    // with it).
    use sea_orm_migration::MigratorTrait;
    let from_012 = certdesk::migration::Migrator::migrations().len() as u32 - 11;
    certdesk::migration::Migrator::down(db, Some(from_012)).await.unwrap();
    certdesk::migration::Migrator::up(db, None).await.unwrap();
    assert_eq!(uids(&search(&mut anyone, email("ca@example.com", None)).await.1), [Some(uid.clone())]);
    let (s, v) = anyone.send::<endpoint::LookUpProgress>(&[], &query).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<Progress>(&v).status, RequestStatus::Issued, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_lists_certificates_before_applications_still_under_review() {
    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, _) = issue(&app, &mut admin, &id, &acceptance, &mobile).await;
    // Another application of the same unit (same e-mail), still pending.
    let _second = submitted(&app).await;
    let mut anyone = Browser::new(&app);
    let (s, v) = search(&mut anyone, email("ca@example.com", Some("all"))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let statuses: Vec<PublicStatus> = decode::<SearchResults>(&v).hits.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [PublicStatus::Valid, PublicStatus::Pending], "{v}");
    assert_eq!(uids(&v), [Some(uid.clone()), None]);
    let (_, v) = search(&mut anyone, email("ca@example.com", Some("pending"))).await;
    assert_eq!(uids(&v), [None]);
}

/// A self-revocation commits with its audit row in one transaction; this server's OCSP
/// must answer `revoked` the moment that transaction has committed, even while relying
/// parties keep asking during it (an answer read before the commit must not be kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_self_revocation_shows_in_ocsp_at_once_after_its_commit() {
    use certdesk::ca::ocsp::{Asked, ask};
    use certdesk::entity::certificate;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, _) = issue(&app, &mut admin, &id, &acceptance, &mobile).await;
    let der = certificate::Entity::find()
        .filter(certificate::Column::Uid.eq(uid.clone()))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .der;
    assert_eq!(ask(&app.state.db, &app.state.ca, &der).await.unwrap(), Some(Asked::Good));
    // Relying parties ask all the time.
    let stop = Arc::new(AtomicBool::new(false));
    let askers: Vec<_> = (0..3)
        .map(|_| {
            let (state, der, stop) = (app.state.clone(), der.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let _ = ask(&state.db, &state.ca, &der).await;
                }
            })
        })
        .collect();
    let (s, v) = Browser::new(&app)
        .send::<endpoint::RevokeByChallengePhrase>(
            &[&uid],
            &by_phrase(CHALLENGE_PHRASE, RevocationReason::KeyCompromise),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let answer = ask(&app.state.db, &app.state.ca, &der).await.unwrap();
    stop.store(true, Ordering::Relaxed);
    for a in askers {
        a.await.unwrap();
    }
    assert_eq!(answer, Some(Asked::Revoked), "at once once committed");
}

/// The status search reads through the name's and the e-mail's index once the planner has
/// its statistics (`db::analyze`, run at start and hourly): without them SQLite took the
/// (status, not_after) index, reading every valid certificate — seconds a search over
/// 1,000,000 (`cargo xtask bench`). PostgreSQL keeps its own statistics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_search_reads_through_the_index_of_what_it_asks_for() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
    let app = spawn_app().await;
    if app.state.db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    certdesk::bench_data::seed_directory(&app.state.db, 3000).await.unwrap();
    certdesk::db::analyze(&app.state.db).await.unwrap();
    // On one connection, whose first read reloads the schema the statistics came with
    // (EXPLAIN alone would not: it opens no transaction, so it never sees the change).
    let txn = app.state.db.begin().await.unwrap();
    txn.query_one(Statement::from_string(DbBackend::Sqlite, "SELECT count(*) FROM certificate")).await.unwrap();
    for (column, index) in [("subject", "ix_certificate_subject"), ("email", "ix_certificate_email")] {
        for condition in
            ["status = 'valid' AND not_after > '2026-01-01'", "status = 'valid' AND not_after <= '2026-01-01'"]
        {
            let plan = txn
                .query_all(Statement::from_string(
                    DbBackend::Sqlite,
                    format!(
                        "EXPLAIN QUERY PLAN SELECT uid FROM certificate WHERE {column} = 'x' AND {condition} \
                         ORDER BY not_before DESC LIMIT 21"
                    ),
                ))
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get::<String>("", "detail").unwrap())
                .collect::<Vec<_>>()
                .join("; ");
            assert!(plan.contains(&format!("USING INDEX {index} ({column}=?)")), "{column}, {condition}: {plan}");
        }
    }
}
