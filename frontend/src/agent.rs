//! The page's side of the token agent (证书助手) on 127.0.0.1: its tokens, a key and request
//! made on a token, the issued certificate stored there, signatures, PIN changes, unlocking
//! and new soft shields. The agent answers only the portal origins it trusts; a PIN goes to
//! the agent and nowhere else.

use certdesk_shared::AGENT_DEFAULT_PORT;
use certdesk_shared::agent::{
    ChangePin, CreateShield, CsrMade, CsrRequest, ImportCertificate, PinStatus, TokenInfo, Unlock, UnlockRequest,
    UnlockStart,
};
use serde::de::DeserializeOwned;

/// Why the agent did not do it.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentError {
    /// Not installed, not running, or it refused this page's origin.
    Missing,
    /// A wrong or locked PIN, with what is left.
    Pin(PinStatus),
    /// The token refused what it was given (for example a certificate for another key, or
    /// an unlock grant that is not its own).
    Refused,
    NoToken,
    /// The token was never personalised: it has no unlock secret.
    NotPersonalised,
    /// The unlock request expired (or was used); start again.
    Expired,
}

fn url(path: &str) -> String {
    format!("http://127.0.0.1:{AGENT_DEFAULT_PORT}{path}")
}

/// What an answer other than success means.
async fn refusal(res: gloo_net::http::Response) -> AgentError {
    match res.status() {
        401 => res.json::<PinStatus>().await.map(AgentError::Pin).unwrap_or(AgentError::Missing),
        404 => AgentError::NoToken,
        // The agent's own 403 (an origin it does not trust) carries no CORS header, so the
        // page never sees it: a readable 403 is a refusal of the request itself.
        403 | 422 => AgentError::Refused,
        409 => AgentError::NotPersonalised,
        410 => AgentError::Expired,
        _ => AgentError::Missing,
    }
}

async fn answer<T: DeserializeOwned>(res: Result<gloo_net::http::Response, gloo_net::Error>) -> Result<T, AgentError> {
    let res = res.map_err(|_| AgentError::Missing)?;
    match res.status() {
        200 | 201 => res.json::<T>().await.map_err(|_| AgentError::Missing),
        _ => Err(refusal(res).await),
    }
}

async fn post<T: DeserializeOwned>(path: &str, body: &impl serde::Serialize) -> Result<T, AgentError> {
    let req = gloo_net::http::Request::post(&url(path)).json(body).map_err(|_| AgentError::Missing)?;
    answer(req.send().await).await
}

/// The tokens the agent sees.
pub async fn tokens() -> Result<Vec<TokenInfo>, AgentError> {
    let signal = web_sys::AbortSignal::timeout_with_u32(3000);
    answer(gloo_net::http::Request::get(&url("/v1/tokens")).abort_signal(Some(&signal)).send().await).await
}

/// A key pair of `algorithm` made on the token, labelled `label`, and its certificate
/// request (PEM).
pub async fn make_csr(
    medium_no: &str,
    pin: &str,
    label: &str,
    algorithm: certdesk_shared::agent::KeyAlgorithm,
) -> Result<String, AgentError> {
    let body = CsrRequest { pin: pin.to_owned(), label: label.to_owned(), algorithm };
    post::<CsrMade>(&format!("/v1/tokens/{medium_no}/csr"), &body).await.map(|m| m.csr_pem)
}

/// A request answered by 204 No Content.
async fn post_done(path: &str, body: &impl serde::Serialize) -> Result<(), AgentError> {
    let req = gloo_net::http::Request::post(&url(path)).json(body).map_err(|_| AgentError::Missing)?;
    let res = req.send().await.map_err(|_| AgentError::Missing)?;
    if res.status() == 204 { Ok(()) } else { Err(refusal(res).await) }
}

/// Stores the issued certificate and its chain on the token.
pub async fn store_certificate(
    medium_no: &str,
    pin: &str,
    certificate_pem: &str,
    chain_pem: Vec<String>,
) -> Result<(), AgentError> {
    let body = ImportCertificate { pin: pin.to_owned(), certificate_pem: certificate_pem.to_owned(), chain_pem };
    post_done(&format!("/v1/tokens/{medium_no}/certificates"), &body).await
}

/// 修改PIN码.
pub async fn change_pin(medium_no: &str, old_pin: &str, new_pin: &str) -> Result<(), AgentError> {
    post_done(
        &format!("/v1/tokens/{medium_no}/pin/change"),
        &ChangePin { old_pin: old_pin.to_owned(), new_pin: new_pin.to_owned() },
    )
    .await
}

/// 证书解锁, first half: the portal's challenge, signed by the token with the agent's
/// one-time key and the next unlock secret (sealed to `portal_key`), for the portal.
pub async fn unlock_request(medium_no: &str, challenge: &str, portal_key: &str) -> Result<UnlockRequest, AgentError> {
    let body = UnlockStart { challenge: challenge.to_owned(), portal_key: portal_key.to_owned() };
    post(&format!("/v1/tokens/{medium_no}/unlock-request"), &body).await
}

/// 证书解锁, second half: the portal's grant and the new PIN.
pub async fn unlock(medium_no: &str, grant: &str, new_pin: &str) -> Result<(), AgentError> {
    post_done(
        &format!("/v1/tokens/{medium_no}/unlock"),
        &Unlock { grant: grant.to_owned(), new_pin: new_pin.to_owned() },
    )
    .await
}

/// A new PC soft shield sealed to the portal's unlock key.
pub async fn create_shield(label: &str, pin: &str, portal_key: &str) -> Result<TokenInfo, AgentError> {
    let body = CreateShield { label: label.to_owned(), pin: pin.to_owned(), portal_key: portal_key.to_owned() };
    post("/v1/shields", &body).await
}

/// The certificates on a token (public data).
pub async fn certificates(medium_no: &str) -> Result<Vec<certdesk_shared::agent::TokenCertificate>, AgentError> {
    answer(gloo_net::http::Request::get(&url(&format!("/v1/tokens/{medium_no}/certificates"))).send().await).await
}

/// A login challenge (base64) signed by the key of the certificate `sha256` names.
pub async fn sign(
    medium_no: &str,
    pin: &str,
    certificate_sha256: &str,
    challenge: &str,
) -> Result<certdesk_shared::agent::Signed, AgentError> {
    let body = certdesk_shared::agent::SignChallenge {
        pin: pin.to_owned(),
        certificate_sha256: certificate_sha256.to_owned(),
        challenge: challenge.to_owned(),
    };
    post(&format!("/v1/tokens/{medium_no}/sign"), &body).await
}
