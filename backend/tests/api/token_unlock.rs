//! 证书解锁: the portal opens a token's sealed unlock secret for the agent only after the
//! SMS code of the phone whose account holds a certificate on that token, only for a
//! request the token itself signed for a fresh challenge, and only once: every unlock
//! replaces the secret (issue 17).

use base64::Engine;
use certdesk_shared::admin::{AuditEntry, AuditQuery, Page};
use certdesk_shared::agent::{UNLOCK_KEY_LEN, UnlockGrant, UnlockKey};
use certdesk_shared::endpoint;
use certdesk_shared::{ErrorCode, seal};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::helpers::browser::{Browser, api_error, decode, send_code};
use crate::helpers::issuing::{issue_into, submitted, try_issue_into};
use crate::helpers::token::{B64, Token, start, unlock, unlock_public};
use crate::helpers::{TestApp, spawn_app};

/// A new minute for the SMS resend limit, so one test can ask for several codes.
async fn next_minute(app: &TestApp) {
    app.state.db.execute_unprepared("DELETE FROM throttle WHERE bucket LIKE 'code:%'").await.unwrap();
}

fn refused(s: StatusCode, v: &Value) {
    assert_eq!((s, api_error(v).code), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::UnlockRefused), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_with_the_sms_code_gets_the_secret_sealed_to_the_agent_and_nobody_else_does() {
    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("SHM-0001")).await;

    // Personalisation sealed the token's SO PIN to the portal's published key.
    let (s, v) = Browser::new(&app).send::<endpoint::GetUnlockKey>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let key: UnlockKey = decode(&v);
    let portal = seal::public_from_bytes(&B64.decode(&key.public_key).unwrap()).unwrap();
    let token = Token::personalised(&portal, "SHM-0001");
    let agent = seal::new_key();

    let mut page = Browser::new(&app);
    let (challenge_id, challenge, start_portal) = start(&mut page).await;
    assert_eq!(start_portal, portal, "the start names the same unlock key");
    let (request, _) = token.request(&portal, &challenge, &agent);
    // A wrong code: nothing.
    let code = send_code(&mut page, &mobile, "token_unlock").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (s, v) = unlock(&mut page, &mobile, wrong, &challenge_id, &request).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CodeInvalid), "{v}");

    // The token's request claimed for another medium does not open.
    let mut elsewhere = request.clone();
    elsewhere.medium_no = "SHM-0002".into();
    let (s, v) = unlock(&mut page, &mobile, &code, &challenge_id, &elsewhere).await;
    refused(s, &v);

    // Another account's phone and code: its account has no certificate on this token, and
    // it cannot claim the token by downloading a certificate "into" it.
    let (_b2, mut admin2, id2, acc2, other_mobile) = submitted(&app).await;
    let (_, (s, v)) = try_issue_into(&app, &mut admin2, &id2, &acc2, &other_mobile, Some("SHM-0001")).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::CONFLICT, ErrorCode::MediumTaken), "{v}");
    let (challenge_id, challenge, _) = start(&mut page).await;
    let (request, _) = token.request(&portal, &challenge, &agent);
    let other_code = send_code(&mut page, &other_mobile, "token_unlock").await;
    let (s, v) = unlock(&mut page, &other_mobile, &other_code, &challenge_id, &request).await;
    refused(s, &v);

    // The owner: the grant opens with the agent's one-time key, and only with it.
    next_minute(&app).await;
    let (challenge_id, challenge, _) = start(&mut page).await;
    let (request, _) = token.request(&portal, &challenge, &agent);
    let code = send_code(&mut page, &mobile, "token_unlock").await;
    let (s, v) = unlock(&mut page, &mobile, &code, &challenge_id, &request).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let grant = B64.decode(decode::<UnlockGrant>(&v).grant).unwrap();
    assert_eq!(seal::open(&agent, b"SHM-0001", &grant).as_deref(), Some(b"3f9a1c0d77e2b845".as_slice()));
    assert_eq!(seal::open(&seal::new_key(), b"SHM-0001", &grant), None);
    assert!(!v.to_string().contains("3f9a1c0d77e2b845"));
    // The code was used up.
    let (s, v) = unlock(&mut page, &mobile, &code, &challenge_id, &request).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CodeInvalid), "{v}");

    let (_, trail) =
        admin.send::<endpoint::AuditTrail>(&[], &AuditQuery { per_page: Some(200), ..Default::default() }).await;
    let audit: Page<AuditEntry> = decode(&trail);
    let granted: Vec<&AuditEntry> = audit.items.iter().filter(|e| e.action == "token_unlock_granted").collect();
    assert_eq!(granted.len(), 1, "{trail}");
    assert_eq!(granted[0].subject, "SHM-0001");
    assert!(!trail.to_string().contains("3f9a1c0d77e2b845"));
    assert_eq!(token.secret, b"3f9a1c0d77e2b845");
}

/// Issue 17, item 1: whoever carries the request between the agent and the portal (the page,
/// or someone who copied the token's sealed secret and knows the SMS code) cannot have the
/// secret sealed to a key of their choosing, and no sealed secret opens twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_key_a_copied_blob_a_replayed_challenge_or_a_spent_secret_gets_nothing() {
    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("SHM-0009")).await;
    let mut page = Browser::new(&app);
    let (_, _, portal) = start(&mut page).await;
    let token = Token::personalised(&portal, "SHM-0009");
    let agent = seal::new_key();
    let attacker = seal::new_key();
    // Each try below spends an SMS code of the owner's phone: the attacker has it. (The
    // codes before are forgotten, so the limits per phone let this test ask for ten.)
    let code = || {
        let app = &app;
        let mobile = mobile.clone();
        async move {
            next_minute(app).await;
            let db = &app.state.db;
            db.execute_unprepared(&format!("DELETE FROM one_time_code WHERE mobile = '{mobile}'")).await.unwrap();
            db.execute_unprepared(&format!("DELETE FROM outbox_message WHERE recipient = '{mobile}'")).await.unwrap();
            let mut b = Browser::new(app);
            send_code(&mut b, &mobile, "token_unlock").await
        }
    };

    // The page swaps the agent's one-time key for its own: the token signed the agent's.
    let (challenge_id, challenge, _) = start(&mut page).await;
    let (mut request, _) = token.request(&portal, &challenge, &agent);
    request.agent_key = B64.encode(seal::public_bytes(&attacker.public_key()));
    let (s, v) = unlock(&mut page, &mobile, &code().await, &challenge_id, &request).await;
    refused(s, &v);

    // Someone who copied the sealed secret off the token (and has the SMS code) but not the
    // token: they can only sign with a key of their own.
    let (challenge_id, challenge, _) = start(&mut page).await;
    let next_sealed = seal::seal(&portal, b"SHM-0009", &[unlock_public(&attacker), b"mine".to_vec()].concat()).unwrap();
    let request = token.signed(&challenge, &attacker, &next_sealed, &attacker);
    let (s, v) = unlock(&mut page, &mobile, &code().await, &challenge_id, &request).await;
    refused(s, &v);
    // Nor can they keep the token's signature and slip in a next secret of their own.
    let (challenge_id, challenge, _) = start(&mut page).await;
    let (mut request, _) = token.request(&portal, &challenge, &agent);
    request.next_sealed_secret = B64.encode(&next_sealed);
    let (s, v) = unlock(&mut page, &mobile, &code().await, &challenge_id, &request).await;
    refused(s, &v);
    // A next secret sealed for another unlock key, though signed by the token: refused too.
    let (challenge_id, challenge, _) = start(&mut page).await;
    let request = token.signed(&challenge, &agent, &next_sealed, &token.unlock_key);
    let (s, v) = unlock(&mut page, &mobile, &code().await, &challenge_id, &request).await;
    refused(s, &v);
    // A request without a challenge from us, or with one already used.
    let (request, _) = token.request(&portal, &seal::random_bytes(32), &agent);
    let (s, v) = unlock(&mut page, &mobile, &code().await, "no-such-challenge", &request).await;
    refused(s, &v);

    // The token's own request: granted, and the next secret becomes the current one.
    let (challenge_id, challenge, _) = start(&mut page).await;
    let (request, next) = token.request(&portal, &challenge, &agent);
    let (s, v) = unlock(&mut page, &mobile, &code().await, &challenge_id, &request).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        seal::open(&agent, b"SHM-0009", &B64.decode(decode::<UnlockGrant>(&v).grant).unwrap()).as_deref(),
        Some(b"3f9a1c0d77e2b845".as_slice())
    );
    // The same request again, even with the right code: its challenge is spent.
    let (s, v) = unlock(&mut page, &mobile, &code().await, &challenge_id, &request).await;
    refused(s, &v);

    // The blob personalisation left on the token is spent: a later request that still
    // carries it gets the secret the last unlock put in place, never the old one.
    let (challenge_id, challenge, _) = start(&mut page).await;
    let next_sealed = B64.decode(&request.next_sealed_secret).unwrap();
    // (The token signs a request that names the current secret as its next one.)
    let again = token.signed(&challenge, &agent, &next_sealed, &token.unlock_key);
    let (s, v) = unlock(&mut page, &mobile, &code().await, &challenge_id, &again).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        seal::open(&agent, b"SHM-0009", &B64.decode(decode::<UnlockGrant>(&v).grant).unwrap()),
        Some(next.clone())
    );
    // That sealed secret has now been opened once: offered again as the next one and then
    // asked for, it does not open a second time.
    let (challenge_id, challenge, _) = start(&mut page).await;
    let again = token.signed(&challenge, &agent, &next_sealed, &token.unlock_key);
    let (s, v) = unlock(&mut page, &mobile, &code().await, &challenge_id, &again).await;
    refused(s, &v);
    let spent: i64 = app
        .state
        .db
        .query_one(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM token_unlock_spent".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_eq!(spent, 2, "the personalisation blob and the first next secret");
    let _ = UNLOCK_KEY_LEN;
}
