//! `certdesk-agent`, the token agent (证书助手) installed on the user's computer. It listens
//! on 127.0.0.1 only and answers only the portal origins it is told to trust: a page from
//! any other origin gets 403 before any token is touched, and so does a request whose
//! `Host` is not the loopback address (DNS rebinding), one without an `Origin` (a
//! `<script src>` or link from another site, another program) and one the browser marks
//! `Sec-Fetch-Site: none` (typed into the address bar). Browsers ask first (CORS and
//! Private Network Access preflights); the agent answers those for trusted origins only.
//! It never returns a private key or a PIN.

pub mod pin;
pub mod shield;
pub mod token;

use std::sync::Arc;

use axum::extract::Path;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use certdesk_shared::agent::{
    AgentInfo, ChangePin, CreateShield, CsrMade, CsrRequest, ImportCertificate, PIN_TRIES, PinCheck, PinStatus,
    SignChallenge, Signed, TokenCertificate, TokenInfo, UNLOCK_REQUEST_SECS, Unlock, UnlockRequest, UnlockStart,
    unlock_signed_bytes,
};
use certdesk_shared::{Pin, seal};

use crate::pin::PinCounts;
use crate::shield::SoftShields;
use crate::token::{Outcome, PinAnswer};

pub use token::{AllTokens, Pkcs11Tokens, Tokens};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// What the agent does besides serving (`certdesk-agent personalize …`).
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Personalise a UKey at the CA's counter before it is handed out: its SO PIN is replaced
    /// by a random one that is stored on the token only sealed to the portal's unlock key
    /// (`GET /api/tokens/unlock-key`). Nobody learns the new SO PIN; 证书解锁 goes through
    /// the portal.
    Personalize {
        /// The token's medium number (serial); may be left out when one token is present.
        #[arg(long)]
        medium_no: Option<String>,
        /// The token's current SO PIN (the manufacturer's or the initialisation's).
        #[arg(long, env = "CERTDESK_AGENT_SO_PIN", hide_env_values = true)]
        so_pin: String,
        /// The portal's unlock key, base64 (the `public_key` of `GET /api/tokens/unlock-key`).
        #[arg(long)]
        portal_key: String,
    },
}

/// The command line: serve (the default) or a command.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "certdesk-agent", version, about = "CertDesk token agent (证书助手)", subcommand_negates_reqs = true)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A portal unlock key from its base64 text.
pub fn portal_key(b64: &str) -> Option<p256::PublicKey> {
    B64.decode(b64.trim()).ok().and_then(|b| seal::public_from_bytes(&b))
}

/// What the agent is started with.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// The port on 127.0.0.1.
    #[arg(long, env = "CERTDESK_AGENT_PORT", default_value_t = certdesk_shared::AGENT_DEFAULT_PORT)]
    pub port: u16,
    /// A portal origin whose pages may use the agent (`https://ca.example.com`); repeat for
    /// several. Nothing else is answered.
    #[arg(long = "allow-origin", env = "CERTDESK_AGENT_ORIGINS", value_delimiter = ',', required = true)]
    pub origins: Vec<String>,
    /// The USB keys' PKCS#11 module.
    #[arg(long, env = "CERTDESK_AGENT_PKCS11_MODULE")]
    pub pkcs11_module: Option<std::path::PathBuf>,
    /// Where the agent keeps its state (wrong-PIN counts; the soft shields' keystores).
    #[arg(long, env = "CERTDESK_AGENT_DATA_DIR", default_value_os_t = default_data_dir())]
    pub data_dir: std::path::PathBuf,
}

/// On Windows `%APPDATA%\CertDesk\agent` (the user's roaming profile); elsewhere
/// `$XDG_DATA_HOME/certdesk-agent`, else `~/.local/share/certdesk-agent`.
fn default_data_dir() -> std::path::PathBuf {
    if cfg!(windows)
        && let Some(app_data) = std::env::var_os("APPDATA")
    {
        return std::path::Path::new(&app_data).join("CertDesk").join("agent");
    }
    std::env::var_os("XDG_DATA_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".local/share")))
        .unwrap_or_else(|| std::path::PathBuf::from("."))
        .join("certdesk-agent")
}

/// An unlock request the agent made: its one-time key for the portal's grant, the secret
/// that replaces the token's once the grant opens, and when it was made.
#[derive(Clone)]
struct Pending {
    key: p256::SecretKey,
    next: zeroize::Zeroizing<Vec<u8>>,
    at: std::time::Instant,
}

#[derive(Clone)]
pub struct Agent {
    origins: Arc<Vec<String>>,
    port: u16,
    tokens: Arc<dyn Tokens>,
    shields: Arc<SoftShields>,
    pins: Arc<PinCounts>,
    /// The open unlock requests, per medium number.
    unlocks: Arc<std::sync::Mutex<std::collections::HashMap<String, Pending>>>,
}

impl Agent {
    /// The agent with these USB keys (if a PKCS#11 module is configured) and the soft
    /// shields in its data directory.
    pub fn new(config: &Config, ukeys: Option<Arc<dyn Tokens>>) -> Agent {
        let origins = config.origins.iter().map(|o| o.trim_end_matches('/').to_owned()).collect();
        let shields = Arc::new(SoftShields::new(&config.data_dir));
        let mut all: Vec<Arc<dyn Tokens>> = ukeys.into_iter().collect();
        all.push(shields.clone());
        Agent {
            origins: Arc::new(origins),
            port: config.port,
            tokens: Arc::new(AllTokens(all)),
            shields,
            pins: Arc::new(PinCounts::new(&config.data_dir)),
            unlocks: Arc::default(),
        }
    }
}

pub fn app(agent: Agent) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/tokens", get(tokens))
        .route("/v1/tokens/{medium_no}/pin", post(check_pin))
        .route("/v1/tokens/{medium_no}/csr", post(generate_csr))
        .route("/v1/tokens/{medium_no}/certificates", get(certificates).post(import))
        .route("/v1/tokens/{medium_no}/sign", post(sign))
        .route("/v1/tokens/{medium_no}/pin/change", post(change_pin))
        .route("/v1/tokens/{medium_no}/unlock-request", post(unlock_request))
        .route("/v1/tokens/{medium_no}/unlock", post(unlock))
        .route("/v1/shields", post(create_shield))
        .layer(middleware::from_fn_with_state(agent.clone(), gate))
        .with_state(agent)
}

async fn info() -> Json<AgentInfo> {
    Json(AgentInfo { name: "certdesk-agent".into(), version: env!("CARGO_PKG_VERSION").into() })
}

/// Runs a (blocking) token call off the async threads; a failure is logged and answers 500.
async fn on_tokens<T: Send + 'static>(
    agent: &Agent,
    f: impl FnOnce(&dyn Tokens) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, StatusCode> {
    let tokens = agent.tokens.clone();
    blocking(move || f(tokens.as_ref())).await
}

/// Runs blocking work (a token, a keystore file) off the async threads; a failure is logged
/// and answers 500.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> anyhow::Result<T> + Send + 'static) -> Result<T, StatusCode> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::error!(error = ?e, "token operation failed");
            Err(StatusCode::INTERNAL_SERVER_ERROR)
        }
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// The tokens present, with the agent's own wrong-PIN count folded into their PIN flags.
async fn tokens(State(agent): State<Agent>) -> Result<Json<Vec<TokenInfo>>, StatusCode> {
    let mut list = on_tokens(&agent, |t| t.list()).await?;
    for t in &mut list {
        let failures = agent.pins.failures(&t.medium_no);
        t.pin_locked |= failures >= PIN_TRIES;
        t.pin_count_low |= failures > 0;
        t.pin_final_try |= failures + 1 == PIN_TRIES;
    }
    Ok(Json(list))
}

/// 修改PIN码: behind the current PIN (401 with the PIN's state when wrong); 422 for a new
/// PIN that breaks the rules.
async fn change_pin(State(agent): State<Agent>, Path(medium_no): Path<String>, Json(req): Json<ChangePin>) -> Response {
    if Pin::new_pin(&req.new_pin).is_err() {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    let no = medium_no.clone();
    match behind_pin(&agent, &medium_no, move |t| t.change_pin(&no, &req.old_pin, &req.new_pin)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r.into_response(StatusCode::UNAUTHORIZED),
    }
}

/// 证书解锁, first half: the token signs, with its unlock key and without a PIN, the
/// portal's one-time challenge, a one-time key for the portal's answer and the next unlock
/// secret sealed to the portal, so that the portal can tell the token asked and nobody
/// swapped the key. 409 for a token never personalised (it has no unlock key), 422 for a
/// challenge or portal key that is not one.
async fn unlock_request(
    State(agent): State<Agent>,
    Path(medium_no): Path<String>,
    Json(req): Json<UnlockStart>,
) -> Response {
    let Some(challenge) = B64.decode(req.challenge.trim()).ok().filter(|c| (16..=64).contains(&c.len())) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    let Some(portal) = portal_key(&req.portal_key) else { return StatusCode::UNPROCESSABLE_ENTITY.into_response() };
    let no = medium_no.clone();
    let identity = match on_tokens(&agent, move |t| t.unlock_identity(&no)).await {
        Ok(Some(Some(identity))) => identity,
        Ok(Some(None)) => return StatusCode::CONFLICT.into_response(),
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(status) => return status.into_response(),
    };
    let key = seal::new_key();
    let agent_key = seal::public_bytes(&key.public_key());
    let next = zeroize::Zeroizing::new(token::new_unlock_secret());
    let plaintext = zeroize::Zeroizing::new(token::sealed_plaintext(&identity.public_key, &next));
    let Some(next_sealed) = seal::seal(&portal, medium_no.as_bytes(), &plaintext) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let message = unlock_signed_bytes(&medium_no, &challenge, &agent_key, &next_sealed);
    let no = medium_no.clone();
    let signature = match on_tokens(&agent, move |t| t.sign_unlock(&no, &message)).await {
        Ok(Some(signature)) => signature,
        Ok(None) => return StatusCode::CONFLICT.into_response(),
        Err(status) => return status.into_response(),
    };
    if let Ok(mut open) = agent.unlocks.lock() {
        open.retain(|_, p| p.at.elapsed().as_secs() < UNLOCK_REQUEST_SECS);
        open.insert(medium_no.clone(), Pending { key, next, at: std::time::Instant::now() });
    }
    Json(UnlockRequest {
        medium_no,
        sealed_secret: identity.sealed.map(|s| B64.encode(s)),
        next_sealed_secret: B64.encode(next_sealed),
        agent_key: B64.encode(agent_key),
        signature: B64.encode(signature),
    })
    .into_response()
}

/// 证书解锁, second half: the portal's grant opens with the one-time key (used up once it
/// opens); the token's unlock secret is replaced by the one the request announced, and the
/// token takes the new PIN; the wrong-PIN count starts again. 422 for a PIN that breaks the
/// rules, 403 for a grant that does not open or is not this token's, 410 without an open
/// request.
async fn unlock(State(agent): State<Agent>, Path(medium_no): Path<String>, Json(req): Json<Unlock>) -> Response {
    if Pin::new_pin(&req.new_pin).is_err() {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    let pending = agent.unlocks.lock().ok().and_then(|open| open.get(&medium_no).cloned());
    let Some(pending) = pending.filter(|p| p.at.elapsed().as_secs() < UNLOCK_REQUEST_SECS) else {
        return StatusCode::GONE.into_response();
    };
    let Some(secret) =
        B64.decode(req.grant.trim()).ok().and_then(|g| seal::open(&pending.key, medium_no.as_bytes(), &g))
    else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let secret = zeroize::Zeroizing::new(secret);
    // The grant opened: the one-time key has done its work.
    if let Ok(mut open) = agent.unlocks.lock() {
        open.remove(&medium_no);
    }
    let no = medium_no.clone();
    match on_tokens(&agent, move |t| t.unlock(&no, &secret, &pending.next, &req.new_pin)).await {
        Ok(Outcome::Done(())) => match agent.pins.reset(&medium_no) {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        Ok(Outcome::Refused(_)) => StatusCode::FORBIDDEN.into_response(),
        Ok(Outcome::NoToken) => StatusCode::NOT_FOUND.into_response(),
        Err(status) => status.into_response(),
    }
}

/// A new PC soft shield. 422 for a PIN that breaks the rules, a label that is empty or
/// longer than 32 characters, or a portal key that is not one.
async fn create_shield(State(agent): State<Agent>, Json(req): Json<CreateShield>) -> Response {
    let label = req.label.trim().to_owned();
    let (Ok(_), Some(portal)) = (Pin::new_pin(&req.pin), portal_key(&req.portal_key)) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    if label.is_empty() || label.chars().count() > 32 {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    let shields = agent.shields.clone();
    match blocking(move || shields.create(&label, &req.pin, &portal)).await {
        Ok(info) => (StatusCode::CREATED, Json(info)).into_response(),
        Err(status) => status.into_response(),
    }
}

/// Why an operation behind the PIN did not happen.
enum Refusal {
    /// Wrong or locked, with what is left.
    Pin(PinStatus),
    NoToken,
    Failed,
}

fn pin_status(failures: u32, verified: bool) -> PinStatus {
    PinStatus { verified, tries_left: PIN_TRIES.saturating_sub(failures), locked: failures >= PIN_TRIES }
}

/// Runs `op` behind the user PIN: refused without touching the token once locked. Each try
/// is charged before the token sees the PIN (so parallel tries cannot all slip past the
/// check, and a crash half-way leaves it counted); a right PIN starts the count again, and
/// a try the token never judged is given back.
async fn behind_pin<T: Send + 'static>(
    agent: &Agent,
    medium_no: &str,
    op: impl FnOnce(&dyn Tokens) -> anyhow::Result<Outcome<T>> + Send + 'static,
) -> Result<T, Refusal> {
    let failed = |e: anyhow::Error| {
        tracing::error!(error = ?e, "saving the PIN count failed");
        Refusal::Failed
    };
    let Some(charged) = agent.pins.charge(medium_no).map_err(failed)? else {
        return Err(Refusal::Pin(pin_status(PIN_TRIES, false)));
    };
    let done = match on_tokens(agent, op).await {
        Ok(done) => done,
        Err(_) => {
            agent.pins.refund(medium_no).map_err(failed)?;
            return Err(Refusal::Failed);
        }
    };
    match done {
        Outcome::Done(v) => {
            agent.pins.reset(medium_no).map_err(failed)?;
            Ok(v)
        }
        Outcome::Refused(PinAnswer::Wrong) => Err(Refusal::Pin(pin_status(charged, false))),
        Outcome::Refused(PinAnswer::Locked) => Err(Refusal::Pin(pin_status(PIN_TRIES, false))),
        Outcome::NoToken => {
            agent.pins.refund(medium_no).map_err(failed)?;
            Err(Refusal::NoToken)
        }
    }
}

impl Refusal {
    /// A wrong or locked PIN as `status` with the PIN's state as its body.
    fn into_response(self, status: StatusCode) -> Response {
        match self {
            Refusal::Pin(p) => (status, Json(p)).into_response(),
            Refusal::NoToken => StatusCode::NOT_FOUND.into_response(),
            Refusal::Failed => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// Checks the user PIN; the answer says whether it was right and what is left.
async fn check_pin(State(agent): State<Agent>, Path(medium_no): Path<String>, Json(req): Json<PinCheck>) -> Response {
    let no = medium_no.clone();
    match behind_pin(&agent, &medium_no, move |t| t.check_pin(&no, &req.pin)).await {
        Ok(()) => Json(pin_status(0, true)).into_response(),
        Err(r) => r.into_response(StatusCode::OK),
    }
}

/// A key pair made on the token and its certificate request (PEM). A wrong PIN answers
/// 401 with the PIN's state.
async fn generate_csr(
    State(agent): State<Agent>,
    Path(medium_no): Path<String>,
    Json(req): Json<CsrRequest>,
) -> Response {
    let label = req.label.trim().to_owned();
    // The unlock key's label is taken: a second key under it would stand in its way.
    if label.is_empty() || label.len() > 64 || label == token::UNLOCK_OBJECT {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    let no = medium_no.clone();
    match behind_pin(&agent, &medium_no, move |t| t.generate_csr(&no, &req.pin, &label, req.algorithm)).await {
        Ok(der) => Json(CsrMade { csr_pem: pem("CERTIFICATE REQUEST", &der) }).into_response(),
        Err(r) => r.into_response(StatusCode::UNAUTHORIZED),
    }
}

/// PEM text (RFC 7468, pem-rfc7468). Our labels are valid, so this never fails in practice;
/// if it did, the caller's JSON would carry an empty string that no PEM reader accepts.
fn pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap_or_else(|e| {
        tracing::error!(error = %e, "PEM encoding of a {label}");
        String::new()
    })
}

/// The DER inside a PEM block (RFC 7468; text before it is ignored).
fn pem_der(pem: &str) -> Option<Vec<u8>> {
    pem_rfc7468::decode_vec(pem.as_bytes()).ok().map(|(_, der)| der).filter(|d| !d.is_empty())
}

fn sha256_hex(der: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(der))
}

/// Stores the issued certificate next to its key, and the chain. 422 for something that is
/// not a certificate or has no key on this token; 401 with the PIN's state for a wrong PIN.
async fn import(
    State(agent): State<Agent>,
    Path(medium_no): Path<String>,
    Json(req): Json<ImportCertificate>,
) -> Response {
    let Some(certificate) = pem_der(&req.certificate_pem) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    let Some(chain) = req.chain_pem.iter().map(|p| pem_der(p)).collect::<Option<Vec<_>>>() else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    let no = medium_no.clone();
    match behind_pin(&agent, &medium_no, move |t| t.import(&no, &req.pin, &certificate, &chain)).await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(refused)) => {
            tracing::warn!(?refused, "certificate not imported");
            StatusCode::UNPROCESSABLE_ENTITY.into_response()
        }
        Err(r) => r.into_response(StatusCode::UNAUTHORIZED),
    }
}

/// The certificates on a token: public data, no PIN.
async fn certificates(State(agent): State<Agent>, Path(medium_no): Path<String>) -> Response {
    match on_tokens(&agent, move |t| t.certificates(&medium_no)).await {
        Ok(Some(list)) => Json(
            list.into_iter()
                .map(|c| TokenCertificate {
                    sha256: sha256_hex(&c.der),
                    pem: pem("CERTIFICATE", &c.der),
                    not_after: x509_parser::parse_x509_certificate(&c.der)
                        .map_or(0, |(_, x)| x.validity().not_after.timestamp()),
                    label: c.label,
                    has_key: c.has_key,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(status) => status.into_response(),
    }
}

/// Signs a login challenge with the key of the named certificate.
async fn sign(State(agent): State<Agent>, Path(medium_no): Path<String>, Json(req): Json<SignChallenge>) -> Response {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let Ok(challenge) = b64.decode(req.challenge.trim()) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    if !(16..=1024).contains(&challenge.len()) {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    let no = medium_no.clone();
    let Ok(Some(list)) = on_tokens(&agent, move |t| t.certificates(&no)).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let wanted = req.certificate_sha256.trim().to_lowercase();
    let Some(cert) = list.into_iter().find(|c| c.has_key && sha256_hex(&c.der) == wanted) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (no, der) = (medium_no.clone(), cert.der.clone());
    match behind_pin(&agent, &medium_no, move |t| t.sign(&no, &req.pin, &der, &challenge)).await {
        Ok(Some(signature)) => {
            Json(Signed { signature: b64.encode(signature), certificate_pem: pem("CERTIFICATE", &cert.der) })
                .into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(r) => r.into_response(StatusCode::UNAUTHORIZED),
    }
}

/// Whether `Host` names this agent on the loopback interface.
fn loopback_host(headers: &HeaderMap, port: u16) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")].iter().any(|h| h == host)
}

/// Why the gate refuses a request before any route sees it; `None` lets it through.
fn refused(headers: &HeaderMap, port: u16, origins: &[String]) -> Option<&'static str> {
    if !loopback_host(headers, port) {
        return Some("a Host that is not this agent on the loopback address");
    }
    // Typed into the address bar, a bookmark, or opened by another program through the
    // browser: no page asked, so no page gets an answer.
    if headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"none")) {
        return Some("Sec-Fetch-Site: none");
    }
    // A browser names the origin on every cross-origin fetch and on every POST, but not on a
    // `<script src>`, `<img>` or link from another site: without an Origin nobody is known
    // to have asked, so nothing is answered.
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None => Some("no Origin"),
        Some(origin) if !origins.iter().any(|o| o == origin) => Some("an origin not in the allowlist"),
        Some(_) => None,
    }
}

/// The origin check in front of every route, and the preflights.
async fn gate(State(agent): State<Agent>, req: Request, next: Next) -> Response {
    if let Some(why) = refused(req.headers(), agent.port, &agent.origins) {
        let origin = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).unwrap_or("");
        tracing::warn!(why, origin, path = %req.uri().path(), "refused a request");
        return StatusCode::FORBIDDEN.into_response();
    }
    let origin = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).unwrap_or_default().to_owned();
    let allow = |res: &mut Response| {
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&origin) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    };
    if req.method() == Method::OPTIONS {
        let mut res = StatusCode::NO_CONTENT.into_response();
        allow(&mut res);
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        // Private Network Access: a public page asking for a loopback address.
        h.insert("access-control-allow-private-network", HeaderValue::from_static("true"));
        return res;
    }
    let mut res = next.run(req).await;
    allow(&mut res);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip() {
        let der = (0u8..=200).collect::<Vec<_>>();
        let text = pem("CERTIFICATE", &der);
        assert!(text.lines().all(|l| l.len() <= 64));
        assert_eq!(pem_der(&text), Some(der));
        assert_eq!(pem_der("no pem here"), None);
    }

    #[test]
    fn only_the_loopback_host_is_answered() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:17530"));
        assert!(loopback_host(&h, 17530));
        h.insert(header::HOST, HeaderValue::from_static("localhost:17530"));
        assert!(loopback_host(&h, 17530));
        h.insert(header::HOST, HeaderValue::from_static("evil.example:17530"));
        assert!(!loopback_host(&h, 17530));
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9"));
        assert!(!loopback_host(&h, 17530));
        assert!(!loopback_host(&HeaderMap::new(), 17530));
    }

    #[test]
    fn only_a_page_of_an_allowed_origin_gets_through() {
        let origins = vec!["https://ca.example.com".to_owned()];
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:17530"));
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            h
        };
        assert_eq!(
            refused(
                &headers(&[("origin", "https://ca.example.com"), ("sec-fetch-site", "cross-site")]),
                17530,
                &origins
            ),
            None
        );
        assert_eq!(refused(&headers(&[]), 17530, &origins), Some("no Origin"));
        assert_eq!(refused(&headers(&[("sec-fetch-site", "cross-site")]), 17530, &origins), Some("no Origin"));
        assert_eq!(
            refused(&headers(&[("origin", "https://ca.example.com"), ("sec-fetch-site", "None")]), 17530, &origins),
            Some("Sec-Fetch-Site: none")
        );
        assert_eq!(
            refused(&headers(&[("origin", "https://evil.example")]), 17530, &origins),
            Some("an origin not in the allowlist")
        );
        assert_eq!(refused(&headers(&[("origin", "null")]), 17530, &origins), Some("an origin not in the allowlist"));
    }
}
