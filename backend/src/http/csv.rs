//! 导出 CSV for the staff console's lists: UTF-8 with a byte order mark (so that Excel reads
//! the Chinese text), RFC 4180 quoting by the `csv` crate, every field a spreadsheet would
//! take for a formula defused, streamed a page at a time so that a long list never sits
//! whole in memory.

use std::future::Future;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::domain::audit;
use crate::error::AppError;
use crate::http::auth::StaffUser;
use crate::state::AppState;

/// One batch of rows, and where the next one starts (none after the last).
pub type Rows<K> = (Vec<Vec<String>>, Option<K>);

/// `file_name` (`发票申请.csv`, with `ascii_name` for old clients) as a download: the `head`
/// line, then the rows `page(start)` gives, then `page(next)` for each next start a batch
/// names (a page number, or the audit trail's last `seq`). A batch that fails ends the file
/// early (the log says why); the client sees a cut-off file, never a made-up row.
pub fn download<K, F, Fut>(ascii_name: &'static str, file_name: &str, head: &[&str], start: K, page: F) -> Response
where
    K: Send + 'static,
    F: FnMut(K) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Rows<K>, AppError>> + Send + 'static,
{
    let first = [b"\xEF\xBB\xBF".as_slice(), &line(head)].concat();
    let rows = futures_util::stream::unfold(Some((start, page)), move |state| async move {
        let (at, mut page) = state?;
        match page(at).await {
            Ok((rows, next)) => {
                let mut out = Vec::new();
                for r in rows {
                    out.extend(line(&r.iter().map(|f| formula_safe(f)).collect::<Vec<_>>()));
                }
                Some((Ok::<_, std::io::Error>(out), next.map(|next| (next, page))))
            }
            Err(e) => {
                tracing::warn!(error = %e, file = ascii_name, "CSV export stopped");
                Some((Err(std::io::Error::other(e.to_string())), None))
            }
        }
    });
    // Fused: the compression layer may poll a body again after its end.
    let body = futures_util::stream::iter([Ok(first)]).chain(rows).fuse();
    let mut res = axum::body::Body::from_stream(body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!(
        "attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}",
        utf8_percent_encode(file_name, NON_ALPHANUMERIC)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    res
}

/// A read-only transaction whose reads all see one moment (REPEATABLE READ on PostgreSQL; a
/// SQLite transaction reads one snapshot already), so that an export read a page at a time
/// neither skips nor repeats a row that a colleague changes meanwhile.
pub async fn snapshot(
    db: &sea_orm::DatabaseConnection,
) -> Result<std::sync::Arc<sea_orm::DatabaseTransaction>, AppError> {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let txn = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.begin_with_config(Some(sea_orm::IsolationLevel::RepeatableRead), Some(sea_orm::AccessMode::ReadOnly)).await?
    } else {
        db.begin().await?
    };
    Ok(std::sync::Arc::new(txn))
}

/// An export is a look at customers' data: the audit trail says who took which rows
/// (`action`, with the query asked).
pub async fn audited(
    state: &AppState,
    who: &StaffUser,
    action: &str,
    asked: &impl serde::Serialize,
) -> Result<(), AppError> {
    let detail = serde_json::to_value(asked).unwrap_or_default();
    let event = audit::Event { actor: &who.actor(), action, subject: "csv", ip: &who.meta.ip, detail };
    audit::append(&state.db, &state.audit_key, event).await?;
    Ok(())
}

/// One CSV record (RFC 4180 quoting, by the `csv` crate).
pub fn line<S: AsRef<[u8]>>(fields: &[S]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail; an empty line would only show where it did.
    let _ = w.write_record(fields);
    w.into_inner().unwrap_or_default()
}

/// A field a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a line break
/// first, or their full-width forms that Chinese input methods type: words staff typed into a
/// search are in the trail) with a `'` before it, as OWASP advises for CSV exports.
pub fn formula_safe(field: &str) -> String {
    const FIRST: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '＠'];
    if field.starts_with(FIRST) || field.starts_with('－') { format!("'{field}") } else { field.to_owned() }
}

/// `2026-12-03 09:15:02`, as the console shows times.
pub fn short_utc(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formula_is_text_and_a_comma_is_quoted() {
        assert_eq!(formula_safe("=1+1"), "'=1+1");
        assert_eq!(formula_safe("-5"), "'-5");
        assert_eq!(formula_safe("天津"), "天津");
        assert_eq!(formula_safe("＝1+1"), "'＝1+1");
        assert_eq!(formula_safe("\n=1"), "'\n=1");
        assert_eq!(String::from_utf8(line(&["a,b", "c\"d", "天津"])).unwrap(), "\"a,b\",\"c\"\"d\",天津\n");
    }
}
