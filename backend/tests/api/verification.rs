//! 证书校验: each check reported on its own: chain and record, validity, our OCSP
//! responder's signed answer, and possession of the key.

use base64::Engine;
use certdesk_shared::ValidationError;
use certdesk_shared::account::CertificateChallenge;
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::directory::{
    CheckOutcome, SelfRevocation, VerificationCheck, VerificationReport, VerifyCertificate,
};
use certdesk_shared::endpoint;
use reqwest::StatusCode;

use crate::helpers::browser::{Browser, decode, first_field};
use crate::helpers::issuing::{CHALLENGE_PHRASE, issue_with_key, submitted};
use crate::helpers::spawn_app;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
use CheckOutcome::{Good, NotOurs, Passed, Revoked, SignatureInvalid, Unknown};
use VerificationCheck::{Chain, Possession, Revocation, Validity};

/// A fresh challenge signed with `key`: the body of `POST /api/verification` for `pem`.
async fn signed_by(b: &mut Browser<'_>, pem: &str, key: &rcgen::KeyPair) -> VerifyCertificate {
    let (s, c) = b.send::<endpoint::StartVerification>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let c: CertificateChallenge = decode(&c);
    let bytes = B64.decode(&c.challenge).unwrap();
    let signature = B64.encode(rcgen::SigningKey::sign(key, &bytes).unwrap());
    VerifyCertificate { challenge_id: c.challenge_id, certificate_pem: pem.to_owned(), signature }
}

async fn verify(b: &mut Browser<'_>, pem: &str, key: &rcgen::KeyPair) -> VerificationReport {
    let body = signed_by(b, pem, key).await;
    let (s, v) = b.send::<endpoint::VerifyCertificate>(&[], &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    decode(&v)
}

fn outcomes(report: &VerificationReport) -> Vec<(VerificationCheck, CheckOutcome)> {
    report.checks.iter().map(|c| (c.check, c.outcome)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_check_is_reported_and_only_a_valid_certificate_with_its_key_passes() {
    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, serial, pem, key) = issue_with_key(&app, &mut admin, &id, &acceptance, &mobile).await;
    let mut anyone = Browser::new(&app);

    let report = verify(&mut anyone, &pem, &key).await;
    assert!(report.passed, "{report:?}");
    assert_eq!(outcomes(&report), [(Chain, Passed), (Validity, Passed), (Revocation, Good), (Possession, Passed)]);
    assert_eq!(report.serial.trim_start_matches('0'), serial.trim_start_matches('0'));
    assert!(report.subject.contains("天津市滨海数字认证有限公司"), "{report:?}");

    // Another key cannot prove possession.
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let report = verify(&mut anyone, &pem, &other).await;
    assert_eq!((report.passed, outcomes(&report)[3].1), (false, SignatureInvalid));

    // A certificate we did not issue: not ours, and OCSP does not know it.
    let fake = rcgen::CertificateParams::new(vec!["forged".into()]).unwrap().self_signed(&key).unwrap().pem();
    let report = verify(&mut anyone, &fake, &key).await;
    assert_eq!(outcomes(&report), [(Chain, NotOurs), (Validity, Passed), (Revocation, Unknown), (Possession, Passed)]);

    // Revoked: OCSP says so at once.
    let revoke = SelfRevocation { challenge_phrase: CHALLENGE_PHRASE.into(), reason: RevocationReason::KeyCompromise };
    let (s, _) = anyone.send::<endpoint::RevokeByChallengePhrase>(&[&uid], &revoke).await;
    assert_eq!(s, StatusCode::OK);
    let report = verify(&mut anyone, &pem, &key).await;
    assert_eq!((report.passed, outcomes(&report)[2].1), (false, Revoked));

    // A challenge answers one verification; garbage is refused.
    let body = signed_by(&mut anyone, &pem, &key).await;
    let possession = |v: &serde_json::Value| outcomes(&decode(v))[3].1;
    assert_eq!(possession(&anyone.send::<endpoint::VerifyCertificate>(&[], &body).await.1), Passed);
    assert_eq!(possession(&anyone.send::<endpoint::VerifyCertificate>(&[], &body).await.1), SignatureInvalid);
    let garbage =
        VerifyCertificate { challenge_id: "x".into(), certificate_pem: "nope".into(), signature: String::new() };
    let (s, v) = anyone.send::<endpoint::VerifyCertificate>(&[], &garbage).await;
    // Not a certificate at all: refused by its field.
    assert_eq!(
        (s, first_field(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(("certificate_pem".to_owned(), ValidationError::CertificateFormat))),
        "{v}"
    );

    // Challenges are rows until they expire: one address gets 30 a minute.
    let mut asked = 0;
    while anyone.send::<endpoint::StartVerification>(&[], &()).await.0 == StatusCode::OK {
        asked += 1;
        assert!(asked <= 30, "no limit");
    }
    assert!(asked >= 20, "the limit came after {asked}");
    assert_eq!(
        anyone.send::<endpoint::StartCertificateSignIn>(&[], &()).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the same count"
    );
}
