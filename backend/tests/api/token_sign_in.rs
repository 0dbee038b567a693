//! UKey / soft-shield sign-in: a one-time challenge signed with the certificate's key; the
//! certificate must be ours, in our records and valid; the account is its applicant's.

use base64::Engine;
use certdesk_shared::ErrorCode;
use certdesk_shared::account::{CertificateChallenge, FinishCertificateSignIn, SessionInfo, SignInMethod};
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::directory::SelfRevocation;
use certdesk_shared::endpoint;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::browser::{Browser, api_error, decode};
use crate::helpers::issuing::{CHALLENGE_PHRASE, issue_with_key, submitted};
use crate::helpers::spawn_app;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn challenge(b: &mut Browser<'_>) -> (String, Vec<u8>) {
    let (s, v) = b.send::<endpoint::StartCertificateSignIn>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let c: CertificateChallenge = decode(&v);
    let bytes = B64.decode(&c.challenge).unwrap();
    assert_eq!(bytes.len(), 32, "256 random bits");
    (c.challenge_id, bytes)
}

fn sign(key: &rcgen::KeyPair, bytes: &[u8]) -> String {
    B64.encode(rcgen::SigningKey::sign(key, bytes).unwrap())
}

async fn finish(b: &mut Browser<'_>, id: &str, pem: &str, signature: &str) -> (StatusCode, Value) {
    let body = FinishCertificateSignIn {
        challenge_id: id.to_owned(),
        certificate_pem: pem.to_owned(),
        signature: signature.to_owned(),
    };
    b.send::<endpoint::FinishCertificateSignIn>(&[], &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_certificate_key_signs_the_challenge_once_and_the_applicant_is_signed_in() {
    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, _, pem, key) = issue_with_key(&app, &mut admin, &id, &acceptance, &mobile).await;

    let mut token = Browser::new(&app);
    let (cid, bytes) = challenge(&mut token).await;
    // A signature by another key, or over other bytes, is refused, and spends the challenge.
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let (s, v) = finish(&mut token, &cid, &pem, &sign(&other, &bytes)).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::UNAUTHORIZED, ErrorCode::SignInFailed), "{v}");
    let (s, _) = finish(&mut token, &cid, &pem, &sign(&key, &bytes)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a challenge works once, even after a failure");

    let (cid, bytes) = challenge(&mut token).await;
    let (s, v) = finish(&mut token, &cid, &pem, &sign(&key, &bytes)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, me) = token.send::<endpoint::CurrentSession>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(decode::<SessionInfo>(&me).account.mobile, mobile, "{me}");
    let history = token.ok::<endpoint::ListSignIns>(&[], &()).await;
    assert_eq!(history.first().and_then(|r| r.method), Some(SignInMethod::Certificate), "{history:?}");
    // Replaying the same signed challenge gets nothing.
    let mut replay = Browser::new(&app);
    assert_eq!(finish(&mut replay, &cid, &pem, &sign(&key, &bytes)).await.0, StatusCode::UNAUTHORIZED);

    // A certificate we did not issue (self-signed with the same key) is refused.
    let mut forged = Browser::new(&app);
    let fake = rcgen::CertificateParams::new(vec!["forged".into()]).unwrap().self_signed(&key).unwrap().pem();
    let (cid, bytes) = challenge(&mut forged).await;
    assert_eq!(finish(&mut forged, &cid, &fake, &sign(&key, &bytes)).await.0, StatusCode::UNAUTHORIZED);

    // Once revoked, the certificate signs nobody in.
    let (s, _) = Browser::new(&app)
        .send::<endpoint::RevokeByChallengePhrase>(
            &[&uid],
            &SelfRevocation { challenge_phrase: CHALLENGE_PHRASE.into(), reason: RevocationReason::KeyCompromise },
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut after = Browser::new(&app);
    let (cid, bytes) = challenge(&mut after).await;
    assert_eq!(finish(&mut after, &cid, &pem, &sign(&key, &bytes)).await.0, StatusCode::UNAUTHORIZED);
}
