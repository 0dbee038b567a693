//! The public directory over HTTP, under `/api/public`: status search, a certificate's
//! detail and self-revocation, the revocation bulletin, the progress lookup. No session;
//! thin handlers over `domain::directory`.

use super::errors::AppQuery;
use super::routes::RouteEndpoint;
use axum::extract::{Path, State};
use axum::{Json, Router};
use certdesk_shared::FieldError;
use certdesk_shared::directory::{
    BulletinPage, CaInfo, CertificateDetail, Progress, ProgressQuery, SearchKey, SearchResults, StatusFilter,
};
use certdesk_shared::directory::{BulletinQuery, SearchQuery};
use certdesk_shared::endpoint;
use chrono::Utc;

use super::AppJson;
use super::auth::Client;
use crate::domain::directory;
use crate::error::AppError;
use crate::state::AppState;
use certdesk_shared::Named;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::SearchCertificates, search)
        .endpoint(endpoint::CertificateDetail, detail)
        .endpoint(endpoint::Bulletin, bulletin)
        .endpoint(endpoint::LookUpProgress, progress)
        .endpoint(endpoint::ListCaFiles, ca_files)
}

fn invalid(field: &str, error: certdesk_shared::ValidationError) -> AppError {
    AppError::Validation(vec![FieldError { field: field.into(), error }])
}

/// By e-mail when one is given, else by the exact name.
fn search_key(q: &SearchQuery) -> Result<SearchKey, AppError> {
    if !q.email.trim().is_empty() {
        SearchKey::email(&q.email).map_err(|e| invalid("email", e))
    } else {
        SearchKey::name(&q.name).map_err(|e| invalid("name", e))
    }
}

async fn search(
    State(state): State<AppState>,
    Client(meta): Client,
    AppQuery(q): AppQuery<SearchQuery>,
) -> Result<Json<SearchResults>, AppError> {
    let key = search_key(&q)?;
    let filter = match q.status.as_deref() {
        None | Some("") => StatusFilter::default(),
        Some(s) => {
            StatusFilter::parse(s).ok_or_else(|| invalid("status", certdesk_shared::ValidationError::OutOfRange))?
        }
    };
    let now = Utc::now();
    directory::count_lookup(&state.counters, &meta.ip, now).await?;
    Ok(Json(directory::search(&state.db, &key, filter, now).await?))
}

async fn detail(
    State(state): State<AppState>,
    Client(meta): Client,
    Path(uid): Path<String>,
) -> Result<Json<CertificateDetail>, AppError> {
    let now = Utc::now();
    directory::count_lookup(&state.counters, &meta.ip, now).await?;
    Ok(Json(directory::detail(&state.db, &uid, now).await?))
}

async fn bulletin(
    State(state): State<AppState>,
    Client(meta): Client,
    AppQuery(q): AppQuery<BulletinQuery>,
) -> Result<Json<BulletinPage>, AppError> {
    directory::count_lookup(&state.counters, &meta.ip, Utc::now()).await?;
    Ok(Json(directory::bulletin(&state.db, &q.q, q.page.unwrap_or(1)).await?))
}

async fn progress(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(q): AppJson<ProgressQuery>,
) -> Result<Json<Progress>, AppError> {
    Ok(Json(directory::progress(&state.db, &state.counters, &q, &meta.ip, Utc::now()).await?))
}

/// The CA certificates with their fingerprints, and their CRLs (for the bulletin page).
async fn ca_files(State(state): State<AppState>) -> Result<Json<Vec<CaInfo>>, AppError> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::new();
    for a in [&state.ca.root, &state.ca.issuing] {
        let (_, cert) = x509_parser::parse_x509_certificate(&a.cert_der)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("CA certificate: {e}")))?;
        let digest = Sha256::digest(&a.cert_der);
        out.push(CaInfo {
            name: a.name.clone(),
            subject: cert.subject().to_string(),
            sha256: digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":"),
            not_before: a.not_before.to_rfc3339(),
            not_after: a.not_after.to_rfc3339(),
            certificate_url: format!("/ca/{}.crt", a.name),
            crl_url: format!("/ca/{}.crl", a.name),
        });
    }
    Ok(Json(out))
}
