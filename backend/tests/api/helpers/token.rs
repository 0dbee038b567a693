//! A personalised hardware token as the agent drives it through 证书解锁.

use base64::Engine;
use certdesk_shared::agent::{UnlockChallenge, UnlockRequest, UnlockToken, unlock_signed_bytes};
use certdesk_shared::endpoint;
use certdesk_shared::{OtpCode, seal};
use p256::ecdsa::signature::Signer;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, decode, mobile};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A personalised token as the agent drives it: its unlock key (which never leaves it), its
/// current secret, and the sealed copy personalisation left on it.
pub struct Token {
    medium: String,
    pub unlock_key: p256::SecretKey,
    pub secret: Vec<u8>,
    sealed: Option<Vec<u8>>,
}

pub fn unlock_public(key: &p256::SecretKey) -> Vec<u8> {
    seal::public_bytes(&key.public_key())
}

impl Token {
    pub fn personalised(portal: &p256::PublicKey, medium: &str) -> Token {
        let unlock_key = seal::new_key();
        let secret = b"3f9a1c0d77e2b845".to_vec();
        let sealed = seal::seal(portal, medium.as_bytes(), &[unlock_public(&unlock_key), secret.clone()].concat());
        Token { medium: medium.into(), unlock_key, secret, sealed }
    }

    /// What the agent sends for `challenge`: the next secret sealed to the portal, a
    /// one-time key, all signed by the token. Returns the request and the next secret.
    pub fn request(
        &self,
        portal: &p256::PublicKey,
        challenge: &[u8],
        agent: &p256::SecretKey,
    ) -> (UnlockRequest, Vec<u8>) {
        let next = seal::random_bytes(16);
        let next_sealed =
            seal::seal(portal, self.medium.as_bytes(), &[unlock_public(&self.unlock_key), next.clone()].concat())
                .unwrap();
        (self.signed(challenge, agent, &next_sealed, &self.unlock_key), next)
    }

    pub fn signed(
        &self,
        challenge: &[u8],
        agent: &p256::SecretKey,
        next_sealed: &[u8],
        signer: &p256::SecretKey,
    ) -> UnlockRequest {
        let agent_key = seal::public_bytes(&agent.public_key());
        let message = unlock_signed_bytes(&self.medium, challenge, &agent_key, next_sealed);
        let signature: p256::ecdsa::DerSignature = p256::ecdsa::SigningKey::from(signer).sign(&message);
        UnlockRequest {
            medium_no: self.medium.clone(),
            sealed_secret: self.sealed.as_ref().map(|s| B64.encode(s)),
            next_sealed_secret: B64.encode(next_sealed),
            agent_key: B64.encode(agent_key),
            signature: B64.encode(signature.as_bytes()),
        }
    }
}

/// `POST /api/tokens/unlock/start`: (challenge id, challenge bytes, the portal's key).
pub async fn start(b: &mut Browser<'_>) -> (String, Vec<u8>, p256::PublicKey) {
    let (s, v) = b.send::<endpoint::StartTokenUnlock>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let c: UnlockChallenge = decode(&v);
    let portal = seal::public_from_bytes(&B64.decode(&c.portal_key).unwrap()).unwrap();
    (c.challenge_id, B64.decode(&c.challenge).unwrap(), portal)
}

pub async fn unlock(
    b: &mut Browser<'_>,
    mobile: &str,
    code: &str,
    challenge_id: &str,
    request: &UnlockRequest,
) -> (StatusCode, Value) {
    let body = UnlockToken {
        mobile: self::mobile(mobile),
        code: OtpCode::parse(code).expect("a 6-digit code"),
        challenge_id: challenge_id.to_owned(),
        request: request.clone(),
    };
    b.send::<endpoint::GrantTokenUnlock>(&[], &body).await
}

/// One whole 证书解锁 of a freshly personalised token `medium` with `mobile` and its `code`
/// (for the other operations' tests: 经办人变更 moves the phone that opens it).
pub async fn attempt(
    app: &TestApp,
    page: &mut Browser<'_>,
    medium: &str,
    mobile: &str,
    code: &str,
) -> (StatusCode, Value) {
    let v = Browser::new(app).ok::<endpoint::GetUnlockKey>(&[], &()).await;
    let portal = seal::public_from_bytes(&B64.decode(&v.public_key).unwrap()).unwrap();
    let token = Token::personalised(&portal, medium);
    let (challenge_id, challenge, _) = start(page).await;
    let (request, _) = token.request(&portal, &challenge, &seal::new_key());
    unlock(page, mobile, code, &challenge_id, &request).await
}
