//! 证书校验: each check reported on its own: chain and record, validity, our OCSP
//! responder's signed answer, and possession of the key.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::browser::Browser;
use crate::helpers::issuing::{CHALLENGE_PHRASE, issue_with_key, submitted};
use crate::helpers::spawn_app;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn verify(b: &mut Browser<'_>, pem: &str, key: &rcgen::KeyPair) -> Value {
    let (s, c) = b.post("/api/verification/start", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let bytes = B64.decode(c["challenge"].as_str().unwrap()).unwrap();
    let signature = B64.encode(rcgen::SigningKey::sign(key, &bytes).unwrap());
    let (s, v) = b
        .post(
            "/api/verification",
            json!({ "challenge_id": c["challenge_id"], "certificate_pem": pem, "signature": signature }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

fn outcomes(report: &Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap().to_owned(), c["outcome"].as_str().unwrap().to_owned()))
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_check_is_reported_and_only_a_valid_certificate_with_its_key_passes() {
    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, serial, pem, key) = issue_with_key(&app, &mut admin, &id, &acceptance, &mobile).await;
    let mut anyone = Browser::new(&app);

    let report = verify(&mut anyone, &pem, &key).await;
    assert_eq!(report["passed"], true, "{report}");
    assert_eq!(
        outcomes(&report),
        expect(&[("chain", "passed"), ("validity", "passed"), ("revocation", "good"), ("possession", "passed")])
    );
    assert_eq!(report["serial"].as_str().map(|s| s.trim_start_matches('0')), Some(serial.trim_start_matches('0')));
    assert!(report["subject"].as_str().unwrap().contains("天津市滨海数字认证有限公司"), "{report}");

    // Another key cannot prove possession.
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let report = verify(&mut anyone, &pem, &other).await;
    assert_eq!((report["passed"].as_bool(), outcomes(&report)[3].1.as_str()), (Some(false), "signature_invalid"));

    // A certificate we did not issue: not ours, and OCSP does not know it.
    let fake = rcgen::CertificateParams::new(vec!["forged".into()]).unwrap().self_signed(&key).unwrap().pem();
    let report = verify(&mut anyone, &fake, &key).await;
    assert_eq!(
        outcomes(&report),
        expect(&[("chain", "not_ours"), ("validity", "passed"), ("revocation", "unknown"), ("possession", "passed")])
    );

    // Revoked: OCSP says so at once.
    let (s, _) = anyone
        .post(
            &format!("/api/public/certificates/{uid}/revoke"),
            json!({ "challenge_phrase": CHALLENGE_PHRASE, "reason": "key_compromise" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let report = verify(&mut anyone, &pem, &key).await;
    assert_eq!((report["passed"].as_bool(), outcomes(&report)[2].1.as_str()), (Some(false), "revoked"));

    // A challenge answers one verification; garbage is refused.
    let (_, c) = anyone.post("/api/verification/start", json!({})).await;
    let signature =
        B64.encode(rcgen::SigningKey::sign(&key, &B64.decode(c["challenge"].as_str().unwrap()).unwrap()).unwrap());
    let body = json!({ "challenge_id": c["challenge_id"], "certificate_pem": pem, "signature": signature });
    assert_eq!(anyone.post("/api/verification", body.clone()).await.1["checks"][3]["outcome"], "passed");
    assert_eq!(anyone.post("/api/verification", body).await.1["checks"][3]["outcome"], "signature_invalid");
    let (s, _) = anyone
        .post("/api/verification", json!({ "challenge_id": "x", "certificate_pem": "nope", "signature": "" }))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Challenges are rows until they expire: one address gets 30 a minute.
    let mut asked = 0;
    while anyone.post("/api/verification/start", json!({})).await.0 == StatusCode::OK {
        asked += 1;
        assert!(asked <= 30, "no limit");
    }
    assert!(asked >= 20, "the limit came after {asked}");
    assert_eq!(
        anyone.post("/api/sign-in/certificate/start", json!({})).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the same count"
    );
}
