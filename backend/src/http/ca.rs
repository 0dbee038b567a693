//! The CA's public files at stable URLs: CA certificates, the chain, each CA's CRL, the
//! issuing CA's CRL shards (`/ca/issuing/<shard>.crl`) and their list
//! (`/ca/issuing-crls.json`), and issued certificates as PEM, DER or a PKCS#7 chain.

use super::routes::RouteEndpoint;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use certdesk_shared::ErrorCode;
use certdesk_shared::endpoint;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::ca::Authority;
use crate::ca::asn1::{pem, pkcs7_certs_only};
use crate::entity::certificate;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/ca/{file}", get(ca_file)).route("/ca/{name}/{file}", get(shard_crl))
}

/// Under `/api`.
pub fn api_router() -> Router<AppState> {
    Router::new().endpoint(endpoint::CertificateFile, certificate_file)
}

fn authority<'a>(state: &'a AppState, name: &str) -> Option<&'a Authority> {
    [&state.ca.root, &state.ca.issuing].into_iter().find(|a| a.name == name)
}

fn download(content_type: &'static str, cache: &'static str, body: impl IntoResponse) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, cache)], body).into_response()
}

async fn ca_file(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, AppError> {
    let (name, ext) = file.rsplit_once('.').ok_or(AppError::Code(ErrorCode::NotFound))?;
    if name == "chain" && ext == "pem" {
        let body = pem("CERTIFICATE", &state.ca.issuing.cert_der)? + &pem("CERTIFICATE", &state.ca.root.cert_der)?;
        return Ok(download("application/pem-certificate-chain", "public, max-age=86400", body));
    }
    if ext == "json"
        && let Some(ca) = name.strip_suffix("-crls").and_then(|n| authority(&state, n))
        && ca.partitions.is_some()
    {
        // CCADB's "JSON Array of Partitioned CRLs": every CRL URL of the CA.
        let urls = crate::ca::revoke::crl_urls(&state.db, ca).await?;
        let body = serde_json::to_string(&urls).map_err(|e| AppError::Internal(e.into()))?;
        return Ok(download("application/json", "public, max-age=300, must-revalidate", body));
    }
    let ca = authority(&state, name).ok_or(AppError::Code(ErrorCode::NotFound))?;
    match ext {
        "crt" | "cer" => Ok(download("application/pkix-cert", "public, max-age=86400", ca.cert_der.clone())),
        "pem" => Ok(download("application/x-pem-file", "public, max-age=86400", pem("CERTIFICATE", &ca.cert_der)?)),
        "crl" => {
            let crl =
                crate::ca::revoke::current_crl(&state.db, ca).await?.ok_or(AppError::Code(ErrorCode::NotFound))?;
            Ok(crl_response(crl.der, crl.this_update))
        }
        _ => Err(ErrorCode::NotFound.into()),
    }
}

/// A CRL: caches may keep it a few minutes (a revocation shows up in OCSP at once).
fn crl_response(der: Vec<u8>, this_update: chrono::DateTime<chrono::Utc>) -> Response {
    let mut res = download("application/pkix-crl", "public, max-age=300, must-revalidate", der);
    if let Ok(v) = this_update.to_rfc2822().replace("+0000", "GMT").parse() {
        res.headers_mut().insert(header::LAST_MODIFIED, v);
    }
    res
}

/// `/ca/issuing/<shard>.crl`: one shard of a partitioned CA's CRLs.
async fn shard_crl(
    State(state): State<AppState>,
    Path((name, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let ca = authority(&state, &name).ok_or(AppError::Code(ErrorCode::NotFound))?;
    let shard = file
        .strip_suffix(".crl")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n.len() == 1 || !n.starts_with('0')))
        .and_then(|n| n.parse::<u16>().ok())
        .ok_or(AppError::Code(ErrorCode::NotFound))?;
    let crl =
        crate::ca::revoke::current_shard_crl(&state.db, ca, shard).await?.ok_or(AppError::Code(ErrorCode::NotFound))?;
    Ok(crl_response(crl.der, crl.this_update))
}

async fn certificate_file(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, AppError> {
    let (uid, ext) = file.rsplit_once('.').ok_or(AppError::Code(ErrorCode::NotFound))?;
    let cert = certificate::Entity::find()
        .filter(certificate::Column::Uid.eq(uid))
        .one(&state.db)
        .await?
        .ok_or(AppError::Code(ErrorCode::NotFound))?;
    let issuing = &state.ca.issuing;
    match ext {
        "pem" => Ok(download("application/x-pem-file", "no-cache", pem("CERTIFICATE", &cert.der)?)),
        "der" | "cer" | "crt" => Ok(download("application/pkix-cert", "no-cache", cert.der)),
        "p7b" | "p7c" => {
            let body = pkcs7_certs_only(&[&cert.der, &issuing.cert_der, &state.ca.root.cert_der])?;
            Ok(download("application/pkcs7-mime", "no-cache", body))
        }
        _ => Err(ErrorCode::NotFound.into()),
    }
}
