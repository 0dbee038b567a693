//! New certificate (证书新办) over HTTP: the wizard's steps, document uploads
//! and downloads, submission, issuance for a CSR; and for staff the review queue, review
//! and billing modes. Thin handlers over `domain::apply`.

use super::errors::AppQuery;
use super::routes::{RouteEndpoint, routed};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use certdesk_shared::ErrorCode;
use certdesk_shared::admin::AccountQuery;
use certdesk_shared::admin::{InvoiceQuery, MAX_PER_PAGE, Page, QueueQuery, ShipmentQuery};
use certdesk_shared::apply::{
    AccountBilling, CertificateInfo, ChooseType, DeliveryInfo, DocumentKind, DocumentView, DownloadInfo, DownloadQuery,
    FileType, InvoiceRequest, InvoiceView, IssueForCsr, Issued, MAX_DOCUMENT_BYTES, OperatorInfo, ReviewDecision,
    ReviewQueueItem, SetBilling, SetChallengePhrase, Shipment, ShipmentRequest,
};
use certdesk_shared::endpoint::{self, Endpoint as _};
use certdesk_shared::request::RequestView;
use chrono::Utc;

use super::AppJson;
use super::auth::{Allowed, Client, CurrentUser, Finance, ManageCatalogue, Review, Ship};
use crate::domain::apply::{self, Step};
use crate::domain::{account, download, invoice, request, review, shipping};
use crate::error::AppError;
use crate::state::AppState;
use certdesk_shared::Named;

pub fn router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::ListApplications, list)
        .endpoint(endpoint::StartApplication, start)
        .endpoint(endpoint::IssueForCsr, issue_for_csr)
        .endpoint(endpoint::GetDownloadInfo, download_info)
        .endpoint(endpoint::GetApplication, one)
        .endpoint(endpoint::ChooseType, choose_type)
        .endpoint(endpoint::SaveCertificateInfo, certificate_info)
        .endpoint(endpoint::SaveOperator, operator)
        .endpoint(endpoint::SaveDelivery, delivery)
        .endpoint(endpoint::SetChallengePhrase, challenge_phrase)
        .endpoint(endpoint::DownloadDocument, download)
        // Twice the largest document, so a file somewhat too large gets its field message.
        .route(
            endpoint::UploadDocument::PATH,
            routed(endpoint::UploadDocument, upload).layer(DefaultBodyLimit::max(2 * MAX_DOCUMENT_BYTES)),
        )
        .endpoint(endpoint::SubmitApplication, submit)
        .endpoint(endpoint::ApplicationForm, form_pdf)
        .endpoint(endpoint::RequestInvoice, request_invoice)
        .endpoint(endpoint::ListInvoices, invoices)
        .endpoint(endpoint::InvoicePdf, invoice_pdf)
        .endpoint(endpoint::ListShipments, shipments)
}

/// Staff routes (under `/api/admin`), merged behind the staff check in `admin::router`.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .endpoint(endpoint::ReviewQueue, queue)
        .endpoint(endpoint::StaffViewRequest, staff_view)
        .endpoint(endpoint::StaffDownloadDocument, staff_download)
        .endpoint(endpoint::Review, decide)
        .endpoint(endpoint::StaffApplicationForm, staff_form_pdf)
        .endpoint(endpoint::Ship, ship)
        .endpoint(endpoint::FindAccounts, find_accounts)
        .endpoint(endpoint::SetBilling, set_billing)
        .endpoint(endpoint::AwaitingShipment, awaiting_shipment)
        .endpoint(endpoint::InvoiceQueue, invoice_queue)
        .endpoint(endpoint::InvoiceCsv, invoice_csv)
        .endpoint(endpoint::IssueInvoice, issue_invoice)
        .endpoint(endpoint::StaffInvoicePdf, staff_invoice_pdf)
}

async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<RequestView>>, AppError> {
    let mut out = Vec::new();
    for a in apply::list(&state.db, &user.account_id).await? {
        out.push(request::view(&state.db, &a).await?);
    }
    Ok(Json(out))
}

async fn start(State(state): State<AppState>, user: CurrentUser) -> Result<Json<RequestView>, AppError> {
    let a = account::find(&state.db, &user.account_id).await?;
    let app = apply::start(&state.db, &a, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &app).await?))
}

async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let app = apply::get(&state.db, &user.account_id, &id).await?;
    Ok(Json(request::view(&state.db, &app).await?))
}

async fn save(state: &AppState, user: &CurrentUser, id: &str, step: Step) -> Result<Json<RequestView>, AppError> {
    let app = apply::save_step(&state.db, &user.account_id, id, step, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &app).await?))
}

async fn choose_type(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(b): AppJson<ChooseType>,
) -> Result<Json<RequestView>, AppError> {
    save(&state, &user, &id, Step::ChooseType(b)).await
}

async fn certificate_info(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(b): AppJson<CertificateInfo>,
) -> Result<Json<RequestView>, AppError> {
    save(&state, &user, &id, Step::CertificateInfo(b)).await
}

async fn operator(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(b): AppJson<OperatorInfo>,
) -> Result<Json<RequestView>, AppError> {
    save(&state, &user, &id, Step::Operator(b)).await
}

async fn delivery(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(b): AppJson<DeliveryInfo>,
) -> Result<Json<RequestView>, AppError> {
    save(&state, &user, &id, Step::Delivery(b)).await
}

async fn challenge_phrase(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(b): AppJson<SetChallengePhrase>,
) -> Result<Json<RequestView>, AppError> {
    save(&state, &user, &id, Step::ChallengePhrase(b.challenge_phrase)).await
}

fn kind(s: &str) -> Result<DocumentKind, AppError> {
    DocumentKind::parse(s).ok_or_else(|| ErrorCode::NotFound.into())
}

/// The raw file as the body; its name in `X-File-Name`.
async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, k)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<DocumentView>, AppError> {
    let doc =
        apply::upload(&state.db, &user.account_id, &id, kind(&k)?, &upload_name(&headers), body.to_vec(), Utc::now())
            .await?;
    Ok(Json(doc))
}

/// The `X-File-Name` of an upload: percent-encoded UTF-8 (what browsers can send); raw
/// UTF-8 is taken too.
pub(super) fn upload_name(headers: &HeaderMap) -> String {
    let raw = headers.get("x-file-name").map(|v| v.as_bytes()).unwrap_or_default();
    percent_encoding::percent_decode(raw).decode_utf8_lossy().into_owned()
}

/// A stored file as a download (never rendered in our origin).
pub(super) fn file_response(doc: crate::entity::request_document::Model) -> Response {
    let mime = serde_json::from_value::<FileType>(serde_json::Value::String(doc.file_type))
        .map_or("application/octet-stream", FileType::mime);
    let mut res = doc.content.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Always a download, never rendered in our origin.
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    res
}

async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, k)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let app = apply::get(&state.db, &user.account_id, &id).await?;
    Ok(file_response(apply::document(&state.db, &app.id, kind(&k)?).await?))
}

async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let app = apply::submit(&state.db, &state.audit_key, &user.account_id, &id, &user.meta, Utc::now()).await?;
    Ok(Json(request::view(&state.db, &app).await?))
}

async fn download_info(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<DownloadQuery>,
) -> Result<Json<DownloadInfo>, AppError> {
    Ok(Json(download::download_info(&state.db, &req, &meta, Utc::now()).await?))
}

async fn issue_for_csr(
    State(state): State<AppState>,
    Client(meta): Client,
    AppJson(req): AppJson<IssueForCsr>,
) -> Result<Json<Issued>, AppError> {
    let issued =
        download::issue_for_csr(&state.db, &state.commits, &state.ca, &state.audit_key, &req, &meta, Utc::now())
            .await?;
    Ok(Json(issued_answer(&state, &issued.der, issued.uid, issued.serial)?))
}

/// A certificate issued for a token: its PEM and the chain the agent stores beside it.
pub(super) fn issued_answer(state: &AppState, der: &[u8], uid: String, serial: String) -> Result<Issued, AppError> {
    let chain_pem = [&state.ca.issuing.cert_der, &state.ca.root.cert_der]
        .iter()
        .map(|der| crate::ca::asn1::pem("CERTIFICATE", der))
        .collect::<anyhow::Result<_>>()?;
    Ok(Issued { pem: crate::ca::asn1::pem("CERTIFICATE", der)?, certificate_uid: uid, serial, chain_pem })
}

/// 审核's queue: one page, with the working days left of each request's promise.
async fn queue(
    State(state): State<AppState>,
    who: Allowed<Review>,
    AppQuery(q): AppQuery<QueueQuery>,
) -> Result<Json<Page<ReviewQueueItem>>, AppError> {
    let now = Utc::now();
    let page = review::queue(&state.db, &q, &who.user.staff).await?;
    let mut out = Vec::new();
    for a in &page.items {
        let left = a.submitted_at.map_or(review::REVIEW_WORKING_DAYS, |s| review::working_days_left(s, now));
        out.push(ReviewQueueItem { request: request::view(&state.db, a).await?, working_days_left: left });
    }
    Ok(Json(page.with(out)))
}

async fn staff_view(
    State(state): State<AppState>,
    _: Allowed<Review>,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let app = request::find_submitted(&state.db, &id).await?;
    Ok(Json(request::view(&state.db, &app).await?))
}

async fn staff_download(
    State(state): State<AppState>,
    _: Allowed<Review>,
    Path((id, k)): Path<(String, String)>,
) -> Result<Response, AppError> {
    request::find_submitted(&state.db, &id).await?;
    Ok(file_response(apply::document(&state.db, &id, kind(&k)?).await?))
}

async fn decide(
    State(state): State<AppState>,
    who: Allowed<Review>,
    Path(id): Path<String>,
    AppJson(decision): AppJson<ReviewDecision>,
) -> Result<Json<RequestView>, AppError> {
    let app = review::review(
        &state.db,
        &state.audit_key,
        &state.notifier,
        &state.ca,
        &who.user.staff,
        &id,
        decision,
        &who.user.meta,
        Utc::now(),
    )
    .await?;
    Ok(Json(request::view(&state.db, &app).await?))
}

async fn set_billing(
    State(state): State<AppState>,
    who: Allowed<ManageCatalogue>,
    Path(id): Path<String>,
    AppJson(b): AppJson<SetBilling>,
) -> Result<StatusCode, AppError> {
    apply::set_billing(&state.db, &state.audit_key, &who.user.actor(), &id, b.billing, &who.user.meta.ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn find_accounts(
    State(state): State<AppState>,
    _: Allowed<ManageCatalogue>,
    AppQuery(q): AppQuery<AccountQuery>,
) -> Result<Json<Vec<AccountBilling>>, AppError> {
    Ok(Json(apply::find_account_billing(&state.db, &q.mobile).await?))
}

/// 邮寄: one page of the parcels to post.
async fn awaiting_shipment(
    State(state): State<AppState>,
    _: Allowed<Ship>,
    AppQuery(q): AppQuery<ShipmentQuery>,
) -> Result<Json<Page<RequestView>>, AppError> {
    let page = shipping::awaiting_shipment(&state.db, &q).await?;
    let mut out = Vec::new();
    for a in &page.items {
        out.push(request::view(&state.db, a).await?);
    }
    Ok(Json(page.with(out)))
}

fn pdf_response(bytes: Vec<u8>, file_name: &str) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    // RFC 6266: an ASCII fallback and the UTF-8 name.
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"document.pdf\"; filename*=UTF-8''{encoded}")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    res
}

async fn form_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let app = apply::get(&state.db, &user.account_id, &id).await?;
    Ok(pdf_response(apply::form_pdf(&state.db, &app).await?, "数字证书申请表.pdf"))
}

async fn staff_form_pdf(
    State(state): State<AppState>,
    _: Allowed<Review>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let app = request::find_submitted(&state.db, &id).await?;
    Ok(pdf_response(apply::form_pdf(&state.db, &app).await?, "数字证书申请表.pdf"))
}

async fn request_invoice(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    AppJson(req): AppJson<InvoiceRequest>,
) -> Result<Json<InvoiceView>, AppError> {
    let i = invoice::request(&state.db, &user.account_id, &id, req, Utc::now()).await?;
    Ok(Json(invoice::view(&state.db, &i).await?))
}

async fn invoice_views(
    state: &AppState,
    rows: Vec<crate::entity::invoice::Model>,
) -> Result<Vec<InvoiceView>, AppError> {
    let mut out = Vec::new();
    for i in rows {
        out.push(invoice::view(&state.db, &i).await?);
    }
    Ok(out)
}

async fn invoices(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<InvoiceView>>, AppError> {
    let rows = invoice::of_account(&state.db, &user.account_id).await?;
    Ok(Json(invoice_views(&state, rows).await?))
}

fn issued_pdf(i: crate::entity::invoice::Model) -> Result<Response, AppError> {
    let pdf = i.pdf.ok_or(ErrorCode::NotFound)?;
    Ok(pdf_response(pdf, &format!("发票{}.pdf", i.invoice_no.unwrap_or_default())))
}

async fn invoice_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let i = invoice::find(&state.db, &id).await?;
    if i.account_id != user.account_id {
        return Err(ErrorCode::NotFound.into());
    }
    issued_pdf(i)
}

async fn staff_invoice_pdf(
    State(state): State<AppState>,
    _: Allowed<Finance>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    issued_pdf(invoice::find(&state.db, &id).await?)
}

/// 发票申请: one page.
async fn invoice_queue(
    State(state): State<AppState>,
    _: Allowed<Finance>,
    AppQuery(q): AppQuery<InvoiceQuery>,
) -> Result<Json<Page<InvoiceView>>, AppError> {
    let page = invoice::queue(&state.db, &q).await?;
    let views = invoice_views(&state, page.items.clone()).await?;
    Ok(Json(page.with(views)))
}

/// 导出 CSV of 发票申请: every invoice the filters match (all pages), in the list's order.
async fn invoice_csv(
    State(state): State<AppState>,
    who: Allowed<Finance>,
    AppQuery(q): AppQuery<InvoiceQuery>,
) -> Result<Response, AppError> {
    let first = InvoiceQuery { page: Some(1), per_page: Some(MAX_PER_PAGE), ..q.clone() };
    invoice::queue(&state.db, &first).await?;
    super::csv::audited(&state, &who.user, "invoices_exported", &q).await?;
    let txn = super::csv::snapshot(&state.db).await?;
    let head =
        ["受理号", "业务类型", "发票抬头", "税号", "金额 (元)", "状态", "申请时间 (UTC)", "发票号码", "接收邮箱"];
    Ok(super::csv::download("invoices.csv", "发票申请.csv", &head, 1, move |n| {
        let (txn, q) = (txn.clone(), InvoiceQuery { page: Some(n), per_page: Some(MAX_PER_PAGE), ..q.clone() });
        async move {
            let page = invoice::queue(&*txn, &q).await?;
            let next = (n < page.pages()).then_some(n + 1);
            let mut rows = Vec::new();
            for i in &page.items {
                let v = invoice::view(&*txn, i).await?;
                rows.push(vec![
                    v.acceptance_no.unwrap_or_default(),
                    v.kind.name_zh().to_owned(),
                    v.title,
                    v.tax_number,
                    certdesk_shared::apply::yuan(v.amount_fen),
                    (if i.status == "issued" { "已开票" } else { "待开票" }).to_owned(),
                    super::csv::short_utc(&i.requested_at),
                    v.invoice_no.unwrap_or_default(),
                    v.email,
                ]);
            }
            Ok((rows, next))
        }
    }))
}

async fn issue_invoice(
    State(state): State<AppState>,
    who: Allowed<Finance>,
    Path(id): Path<String>,
) -> Result<Json<InvoiceView>, AppError> {
    let i = invoice::issue(
        &state.db,
        &state.audit_key,
        &state.notifier,
        &who.user.actor(),
        &id,
        &who.user.meta,
        Utc::now(),
    )
    .await?;
    Ok(Json(invoice::view(&state.db, &i).await?))
}

async fn ship(
    State(state): State<AppState>,
    who: Allowed<Ship>,
    Path(id): Path<String>,
    AppJson(req): AppJson<ShipmentRequest>,
) -> Result<Json<RequestView>, AppError> {
    let app = shipping::ship(
        &state.db,
        &state.audit_key,
        &who.user.actor(),
        &id,
        &req.courier,
        &req.tracking_no,
        &who.user.meta,
    )
    .await?;
    Ok(Json(request::view(&state.db, &app).await?))
}

async fn shipments(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<Shipment>>, AppError> {
    Ok(Json(shipping::shipments(&state.db, &user.account_id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(v: &[u8]) -> String {
        let mut h = HeaderMap::new();
        h.insert("x-file-name", HeaderValue::from_bytes(v).unwrap());
        upload_name(&h)
    }

    #[test]
    fn an_upload_name_is_percent_decoded_utf8() {
        assert_eq!(named(b"%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.png"), "营业执照.png");
        // An escape at the very end, and a stray percent sign, as they are.
        assert_eq!(named(b"scan%41"), "scanA");
        assert_eq!(named(b"100%.pdf"), "100%.pdf");
        assert_eq!(named("营业执照.png".as_bytes()), "营业执照.png");
        assert_eq!(upload_name(&HeaderMap::new()), "");
    }
}
