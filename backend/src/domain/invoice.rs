//! Invoices (开具发票, seed 004 §3.1.6): the customer requests one for an approved or paid
//! application (the amount is the application's price); finance issues it, which makes a PDF
//! e-invoice, e-mails it to the address given and keeps it for download. 待开票 → 已开票.

use certdesk_shared::admin::{InvoiceColumn, InvoiceQuery, Page};
use certdesk_shared::apply::{InvoiceRequest, InvoiceStatus, InvoiceView};
use certdesk_shared::request::RequestStatus;
use certdesk_shared::{ErrorCode, FieldError, ValidationError};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, SqlErr, TransactionTrait,
};

use super::audit::{self, AuditKey, Event};
use super::paging::{ListAsk, fetch, refuse};
use super::{ClientMeta, exec, new_id};
use crate::entity::{invoice, request};
use crate::error::AppError;
use crate::notify::Notifier;

/// An invoice with the acceptance number and kind (业务类型) of its request.
pub async fn view(db: &impl ConnectionTrait, i: &invoice::Model) -> Result<InvoiceView, AppError> {
    let r = request::Entity::find_by_id(i.request_id.clone()).one(db).await?;
    Ok(InvoiceView {
        id: i.id.clone(),
        application_id: i.request_id.clone(),
        kind: r.as_ref().map_or(certdesk_shared::request::RequestKind::Apply, |r| r.kind.into()),
        acceptance_no: r.and_then(|r| r.acceptance_no),
        status: if i.status == "issued" { InvoiceStatus::Issued } else { InvoiceStatus::Requested },
        title: i.title.clone(),
        tax_number: i.tax_number.clone(),
        amount_fen: i.amount_fen,
        email: i.email.clone(),
        invoice_no: i.invoice_no.clone(),
        requested_at: i.requested_at.to_rfc3339(),
        issued_at: i.issued_at.map(|t| t.to_rfc3339()),
    })
}

/// Requests the invoice of one of the customer's applications (once per application).
pub async fn request(
    db: &impl ConnectionTrait,
    account_id: &str,
    application_id: &str,
    req: InvoiceRequest,
    now: DateTime<Utc>,
) -> Result<invoice::Model, AppError> {
    let errors = req.check();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let app = super::apply::get(db, account_id, application_id).await?;
    let status = RequestStatus::from(app.status);
    let paid = super::payment::is_paid(db, &app).await?;
    if !(matches!(status, RequestStatus::Approved | RequestStatus::Issued | RequestStatus::Done) || paid) {
        return Err(ErrorCode::NotEditable.into());
    }
    let amount = app.price_fen.ok_or(ErrorCode::StepMissing)?;
    let model = invoice::Model {
        id: new_id(),
        request_id: app.id.clone(),
        account_id: account_id.to_owned(),
        title: req.title.into(),
        tax_number: req.tax_number.into(),
        address: req.address.trim().to_owned(),
        bank: req.bank.trim().to_owned(),
        phone: req.phone.trim().to_owned(),
        bank_account: req.bank_account.trim().to_owned(),
        email: req.email.into(),
        amount_fen: amount,
        status: "requested".into(),
        invoice_no: None,
        pdf: None,
        requested_at: now,
        issued_at: None,
    };
    let active: invoice::ActiveModel = model.clone().into();
    invoice::Entity::insert(active).exec(db).await.map_err(super::already_exists)?;
    Ok(model)
}

pub async fn of_account(db: &impl ConnectionTrait, account_id: &str) -> Result<Vec<invoice::Model>, AppError> {
    Ok(invoice::Entity::find()
        .filter(invoice::Column::AccountId.eq(account_id))
        .order_by_desc(invoice::Column::RequestedAt)
        .all(db)
        .await?)
}

/// 发票申请: one page of the invoices asked for, by status, the longest waiting first unless
/// asked otherwise; `q` is the unit (the invoice's title), a tax number, an invoice number, or
/// what names the request ([`matching`](super::request::matching)).
pub async fn queue(db: &impl ConnectionTrait, q: &InvoiceQuery) -> Result<Page<invoice::Model>, AppError> {
    let mut errors = Vec::new();
    let ask = ListAsk::<InvoiceColumn>::parse(q, &["status"], &mut errors);
    let status = match q.status.as_str() {
        "" => None,
        s @ ("requested" | "issued") => Some(s),
        _ => {
            errors.push(FieldError { field: "status".into(), error: ValidationError::OutOfRange });
            None
        }
    };
    refuse(errors)?;
    let mut find = invoice::Entity::find();
    if let Some(s) = status {
        find = find.filter(invoice::Column::Status.eq(s));
    }
    if let Some(words) = &ask.q {
        find = find.filter(
            Condition::any()
                .add(invoice::Column::Title.eq(words.as_str()))
                .add(invoice::Column::TaxNumber.eq(words.to_uppercase()))
                .add(invoice::Column::InvoiceNo.eq(words.as_str()))
                .add(invoice::Column::RequestId.in_subquery(super::request::ids_matching(words))),
        );
    }
    let column = match ask.sort.column {
        InvoiceColumn::RequestedAt => invoice::Column::RequestedAt,
        InvoiceColumn::Amount => invoice::Column::AmountFen,
        InvoiceColumn::Title => invoice::Column::Title,
    };
    let (rows, total) = fetch(db, find, column, ask.order(), invoice::Column::Id, ask.paging).await?;
    Ok(ask.paging.page(rows, total))
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<invoice::Model, AppError> {
    invoice::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or_else(|| ErrorCode::NotFound.into())
}

pub async fn acceptance_no(db: &impl ConnectionTrait, application_id: &str) -> Result<Option<String>, AppError> {
    Ok(request::Entity::find_by_id(application_id.to_owned()).one(db).await?.and_then(|a| a.acceptance_no))
}

fn invoice_pdf(i: &invoice::Model, number: &str, acceptance: &str, now: DateTime<Utc>) -> Vec<u8> {
    use crate::pdf::{Page, document};
    let amount = certdesk_shared::apply::yuan(i.amount_fen);
    let rows: Vec<(&str, String)> = vec![
        ("发票号码", number.to_owned()),
        ("开票日期", now.format("%Y-%m-%d").to_string()),
        ("购买方名称", i.title.clone()),
        ("纳税人识别号", i.tax_number.clone()),
        ("地址、电话", format!("{} {}", i.address, i.phone)),
        ("开户行及账号", format!("{} {}", i.bank, i.bank_account)),
        ("项目名称", "*信息技术服务*数字证书服务费".into()),
        ("业务受理号", acceptance.to_owned()),
        ("价税合计（小写）", format!("¥{amount}")),
        ("销售方", "CertDesk 演示数字认证有限公司".into()),
    ];
    let mut page = Page::default();
    page.text(190.0, 790.0, 20.0, "电子发票（普通发票）");
    page.text(50.0, 765.0, 10.0, "演示环境生成，不作为报销凭证。");
    page.table(750.0, &rows);
    document(&format!("电子发票 {number}"), &[page])
}

/// Finance issues the invoice: number, PDF, e-mail; a second issue is refused.
pub async fn issue(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &AuditKey,
    notifier: &Notifier,
    actor: &str,
    id: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<invoice::Model, AppError> {
    let i = find(db, id).await?;
    let acceptance = acceptance_no(db, &i.request_id).await?.unwrap_or_default();
    // Invoice numbers are unique (an index); a collision draws another.
    let mut issued = None;
    for _ in 0..10 {
        let number = format!("{}{:08}", now.format("%y"), super::random_below(100_000_000)?);
        let pdf = invoice_pdf(&i, &number, &acceptance, now);
        let res = exec(
            db,
            "UPDATE invoice SET status = 'issued', invoice_no = $2, pdf = $3, issued_at = $4 WHERE id = $1 AND status = 'requested'",
            vec![i.id.clone().into(), number.clone().into(), pdf.clone().into(), now.into()],
        )
        .await;
        match res {
            Ok(r) if r.rows_affected() == 1 => {
                issued = Some((number, pdf));
                break;
            }
            Ok(_) => return Err(ErrorCode::NotEditable.into()),
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let (number, pdf) = issued.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no free invoice number")))?;
    let detail = serde_json::json!({ "invoice_no": number, "amount": i.amount_fen, "application": i.request_id });
    audit::append(db, key, Event { actor, action: "invoice_issued", subject: &acceptance, ip: &meta.ip, detail })
        .await?;
    let body = format!(
        "{}：\n\n您申请的电子发票（发票号码 {number}，金额 {} 元，业务受理号 {acceptance}）已开具，见附件。\n\nCertDesk",
        i.title,
        certdesk_shared::apply::yuan(i.amount_fen)
    );
    let file = format!("发票{number}.pdf");
    let attachment = Some((file.as_str(), "application/pdf", pdf));
    if let Err(e) =
        notifier.email.send_with(&i.email, "invoice_issued", "CertDesk 电子发票", &body, attachment, &[]).await
    {
        tracing::warn!(error = %e, "invoice e-mail not sent; the invoice is downloadable");
    }
    find(db, id).await
}
