//! 证书解锁: the portal opens a token's sealed unlock secret for the agent only after the
//! SMS code of the phone whose account holds a certificate on that token.

use base64::Engine;
use certdesk_shared::seal;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::accounts::{Browser, send_code};
use crate::directory::{issue_into, submitted, try_issue_into};
use crate::helpers::{TestApp, spawn_app};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A new minute for the SMS resend limit, so one test can ask for several codes.
async fn next_minute(app: &TestApp) {
    app.state.db.execute_unprepared("DELETE FROM throttle WHERE bucket LIKE 'code:%'").await.unwrap();
}

async fn unlock(b: &mut Browser<'_>, mobile: &str, code: &str, medium: &str, sealed: &[u8], agent: &p256::SecretKey) -> (StatusCode, Value) {
    let request = json!({
        "medium_no": medium,
        "sealed_secret": B64.encode(sealed),
        "agent_key": B64.encode(seal::public_bytes(&agent.public_key())),
    });
    b.post("/api/tokens/unlock", json!({ "mobile": mobile, "code": code, "request": request })).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_with_the_sms_code_gets_the_secret_sealed_to_the_agent_and_nobody_else_does() {
    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("SHM-0001")).await;

    // Personalisation sealed the token's SO PIN to the portal's published key.
    let (s, v) = Browser::new(&app).get("/api/tokens/unlock-key").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let portal = seal::public_from_bytes(&B64.decode(v["public_key"].as_str().unwrap()).unwrap()).unwrap();
    let sealed = seal::seal(&portal, b"SHM-0001", b"3f9a1c0d77e2b845").unwrap();
    let agent = seal::new_key();

    let mut page = Browser::new(&app);
    // A wrong code: nothing.
    let code = send_code(&mut page, &mobile, "token_unlock").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (s, v) = unlock(&mut page, &mobile, wrong, "SHM-0001", &sealed, &agent).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code_invalid")), "{v}");

    // The token's request claimed for another medium does not open.
    let (s, v) = unlock(&mut page, &mobile, &code, "SHM-0002", &sealed, &agent).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unlock_refused")), "{v}");

    // Another account's phone and code: its account has no certificate on this token, and
    // it cannot claim the token by downloading a certificate "into" it.
    let (_b2, mut admin2, id2, acc2, other_mobile) = submitted(&app).await;
    let (_, (s, v)) = try_issue_into(&app, &mut admin2, &id2, &acc2, &other_mobile, Some("SHM-0001")).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("medium_taken")), "{v}");
    let other_code = send_code(&mut page, &other_mobile, "token_unlock").await;
    let (s, v) = unlock(&mut page, &other_mobile, &other_code, "SHM-0001", &sealed, &agent).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("unlock_refused")), "{v}");

    // The owner: the grant opens with the agent's one-time key, and only with it.
    next_minute(&app).await;
    let code = send_code(&mut page, &mobile, "token_unlock").await;
    let (s, v) = unlock(&mut page, &mobile, &code, "SHM-0001", &sealed, &agent).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let grant = B64.decode(v["grant"].as_str().unwrap()).unwrap();
    assert_eq!(seal::open(&agent, b"SHM-0001", &grant).as_deref(), Some(b"3f9a1c0d77e2b845".as_slice()));
    assert_eq!(seal::open(&seal::new_key(), b"SHM-0001", &grant), None);
    assert!(!v.to_string().contains("3f9a1c0d77e2b845"));
    // The code was used up.
    let (s, v) = unlock(&mut page, &mobile, &code, "SHM-0001", &sealed, &agent).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code_invalid")), "{v}");

    let (_, trail) = admin.get("/api/admin/audit").await;
    let granted: Vec<&Value> = trail.as_array().unwrap().iter().filter(|e| e["action"] == "token_unlock_granted").collect();
    assert_eq!(granted.len(), 1, "{trail}");
    assert_eq!(granted[0]["subject"], "SHM-0001");
}
