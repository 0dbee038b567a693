//! The page's side of the token agent (证书助手) on 127.0.0.1: its tokens, a key and request
//! made on a token, and the issued certificate stored there. The agent answers only the
//! portal origins it trusts; a PIN goes to the agent and nowhere else.

use certdesk_shared::agent::{CsrMade, CsrRequest, ImportCertificate, PinStatus, TokenInfo};
use certdesk_shared::AGENT_DEFAULT_PORT;
use serde::de::DeserializeOwned;

/// Why the agent did not do it.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentError {
    /// Not installed, not running, or it refused this page's origin.
    Missing,
    /// A wrong or locked PIN, with what is left.
    Pin(PinStatus),
    /// The token refused what it was given (for example a certificate for another key).
    Refused,
    NoToken,
}

fn url(path: &str) -> String {
    format!("http://127.0.0.1:{AGENT_DEFAULT_PORT}{path}")
}

/// What an answer other than success means.
async fn refusal(res: gloo_net::http::Response) -> AgentError {
    match res.status() {
        401 => res.json::<PinStatus>().await.map(AgentError::Pin).unwrap_or(AgentError::Missing),
        404 => AgentError::NoToken,
        422 => AgentError::Refused,
        _ => AgentError::Missing,
    }
}

async fn answer<T: DeserializeOwned>(res: Result<gloo_net::http::Response, gloo_net::Error>) -> Result<T, AgentError> {
    let res = res.map_err(|_| AgentError::Missing)?;
    match res.status() {
        200 => res.json::<T>().await.map_err(|_| AgentError::Missing),
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

/// A key pair made on the token, labelled `label`, and its certificate request (PEM).
pub async fn make_csr(medium_no: &str, pin: &str, label: &str) -> Result<String, AgentError> {
    let body = CsrRequest { pin: pin.to_owned(), label: label.to_owned() };
    post::<CsrMade>(&format!("/v1/tokens/{medium_no}/csr"), &body).await.map(|m| m.csr_pem)
}

/// Stores the issued certificate and its chain on the token.
pub async fn store_certificate(medium_no: &str, pin: &str, certificate_pem: &str, chain_pem: Vec<String>) -> Result<(), AgentError> {
    let body = ImportCertificate { pin: pin.to_owned(), certificate_pem: certificate_pem.to_owned(), chain_pem };
    let req = gloo_net::http::Request::post(&url(&format!("/v1/tokens/{medium_no}/certificates"))).json(&body).map_err(|_| AgentError::Missing)?;
    let res = req.send().await.map_err(|_| AgentError::Missing)?;
    if res.status() == 204 { Ok(()) } else { Err(refusal(res).await) }
}

/// The certificates on a token (public data).
pub async fn certificates(medium_no: &str) -> Result<Vec<certdesk_shared::agent::TokenCertificate>, AgentError> {
    answer(gloo_net::http::Request::get(&url(&format!("/v1/tokens/{medium_no}/certificates"))).send().await).await
}

/// A login challenge (base64) signed by the key of the certificate `sha256` names.
pub async fn sign(medium_no: &str, pin: &str, certificate_sha256: &str, challenge: &str) -> Result<certdesk_shared::agent::Signed, AgentError> {
    let body = certdesk_shared::agent::SignChallenge { pin: pin.to_owned(), certificate_sha256: certificate_sha256.to_owned(), challenge: challenge.to_owned() };
    post(&format!("/v1/tokens/{medium_no}/sign"), &body).await
}
