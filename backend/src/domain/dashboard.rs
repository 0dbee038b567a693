//! 工作台: the staff console's charts ([`certdesk_shared::dashboard`]). Each chart is one
//! SQL statement that groups and counts in the database, over an index that holds what it
//! reads (migration 033), so that its time follows the rows it counts, not the size of the
//! tables: with a million certificates, the expiry chart reads the ~quarter that expire
//! within 90 days, the revocation chart the last 30 days' revocations. A row falls into its
//! bar by a `CASE` of the bars' boundaries, computed here in Beijing time.

use certdesk_shared::apply::BillingMode;
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::dashboard::{
    Category, Chart, ChartKind, DAYS, Dashboard, Deadline, EXPIRY_HORIZON_DAYS, MONTHS, RevenueWay, Series, SeriesKey,
    WEEKS,
};
use certdesk_shared::payment::PaymentStatus;
use certdesk_shared::request::RequestKind;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::payment::TRANSFER;
use super::review::working_days_left;
use super::{sql, staff};
use crate::BEIJING;
use crate::entity::request::{Kind, Status};
use crate::entity::staff as staff_entity;
use crate::error::AppError;
use certdesk_shared::Named;

/// The member's charts, as of `now`; none for a disabled member or an unknown role.
pub async fn dashboard(
    db: &impl ConnectionTrait,
    member: &staff_entity::Model,
    now: DateTime<Utc>,
) -> Result<Dashboard, AppError> {
    let Some(role) = staff::role_of(member).filter(|_| member.disabled_at.is_none()) else {
        return Ok(Dashboard { as_of: as_of(now), charts: Vec::new() });
    };
    let mut charts = Vec::new();
    for c in ChartKind::ALL.into_iter().filter(|c| role.sees(*c)) {
        charts.push(chart(db, c, now).await?);
    }
    Ok(Dashboard { as_of: as_of(now), charts })
}

/// The moment of the figures, in Beijing time (as staff read it).
fn as_of(now: DateTime<Utc>) -> String {
    now.with_timezone(&BEIJING).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// One chart, by its one query.
pub async fn chart(db: &impl ConnectionTrait, chart: ChartKind, now: DateTime<Utc>) -> Result<Chart, AppError> {
    match chart {
        ChartKind::RequestsPerDay => requests_per_day(db, now).await,
        ChartKind::ReviewDeadlines => review_deadlines(db, now).await,
        ChartKind::RevenuePerMonth => revenue_per_month(db, now).await,
        ChartKind::ExpiringPerWeek => expiring_per_week(db, now).await,
        ChartKind::RevocationsPerDay => revocations_per_day(db, now).await,
    }
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    BEIJING.from_local_datetime(&day.and_time(NaiveTime::MIN)).single().map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&BEIJING).date_naive()
}

/// The last [`DAYS`] Beijing days, today the last: their first instants and the end of today.
fn days(now: DateTime<Utc>) -> (Vec<Category>, Vec<DateTime<Utc>>) {
    let today = today(now);
    let first = today - Duration::days(DAYS as i64 - 1);
    let days: Vec<NaiveDate> = first.iter_days().take(DAYS + 1).collect();
    let categories = days[..DAYS].iter().map(|d| Category::Day(d.format("%Y-%m-%d").to_string())).collect();
    (categories, days.into_iter().map(start_of).collect())
}

/// `CASE WHEN col < $k THEN 0 WHEN col < $k+1 THEN 1 … END`: the bar of a row whose `col` is
/// at least the first boundary (the query's `WHERE`), given the bars' upper ends from `$k` on.
fn bar_of(col: &str, bars: usize, k: usize) -> String {
    let whens: String = (0..bars).map(|i| format!(" WHEN {col} < ${} THEN {i}", k + i)).collect();
    format!("CASE{whens} ELSE -1 END")
}

/// A request status as the database stores it.
fn status(s: Status) -> Value {
    sea_orm::ActiveEnum::to_value(&s).into()
}

fn values(bounds: &[DateTime<Utc>]) -> Vec<Value> {
    bounds.iter().map(|b| (*b).into()).collect()
}

/// A row's bar, checked against the axis.
fn bar(r: &QueryResult, bars: usize) -> Result<Option<usize>, AppError> {
    let i: i32 = r.try_get("", "bar")?;
    Ok(usize::try_from(i).ok().filter(|i| *i < bars))
}

/// Adds `n` to series `key`'s bar `i`, making the series (in `order`'s place) when it is new.
fn add(series: &mut Vec<Series>, key: SeriesKey, bars: usize, i: usize, n: i64) {
    match series.iter_mut().find(|s| s.key == key) {
        Some(s) => s.values[i] += n,
        None => {
            let mut values = vec![0; bars];
            values[i] = n;
            series.push(Series { key, values });
        }
    }
}

/// 每日业务量: every request submitted in the last 30 days (by the day of its latest
/// submission, as the review clock counts it), a series per 业务类型, each kind shown even
/// when it had none.
async fn requests_per_day(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Chart, AppError> {
    let (categories, bounds) = days(now);
    let text = format!(
        "SELECT kind, {} AS bar, COUNT(*) AS n FROM request WHERE submitted_at >= $1 AND submitted_at < ${} \
         GROUP BY kind, bar",
        bar_of("submitted_at", DAYS, 2),
        DAYS + 1
    );
    let rows = db.query_all(sql(db, &text, values(&bounds))).await?;
    let mut series: Vec<Series> =
        RequestKind::ALL.into_iter().map(|k| Series { key: SeriesKey::Kind(k), values: vec![0; DAYS] }).collect();
    for r in &rows {
        let kind: Kind = r.try_get("", "kind")?;
        if let Some(i) = bar(r, DAYS)? {
            add(&mut series, SeriesKey::Kind(kind.into()), DAYS, i, r.try_get("", "n")?);
        }
    }
    Ok(Chart { chart: ChartKind::RequestsPerDay, categories, series })
}

/// The first Beijing day whose submissions have at least `left` working days left today:
/// working days left only grow with the day of submission, so every later day has too.
fn first_day_with(now: DateTime<Utc>, left: i64) -> DateTime<Utc> {
    let mut day = today(now);
    while let Some(before) = day.pred_opt() {
        if working_days_left(start_of(before), now) < left {
            break;
        }
        day = before;
    }
    start_of(day)
}

/// 审核时限: the whole review queue (every reviewer's; each one's own queue leaves out the
/// requests made with their phone) by where it stands against the promise, counted as the
/// queue's 剩余工作日 column counts.
async fn review_deadlines(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Chart, AppError> {
    let (late_before, due_before) = (first_day_with(now, 0), first_day_with(now, 1));
    let text = "SELECT CASE WHEN submitted_at < $1 THEN 2 WHEN submitted_at < $2 THEN 1 ELSE 0 END AS bar, \
                COUNT(*) AS n FROM request WHERE status IN ($3, $4) GROUP BY bar";
    let [submitted, resubmitted] = [Status::Submitted, Status::Resubmitted].map(status);
    let rows = db.query_all(sql(db, text, vec![late_before.into(), due_before.into(), submitted, resubmitted])).await?;
    let mut values = vec![0; Deadline::ALL.len()];
    for r in &rows {
        if let Some(i) = bar(r, values.len())? {
            values[i] += r.try_get::<i64>("", "n")?;
        }
    }
    Ok(Chart {
        chart: ChartKind::ReviewDeadlines,
        categories: Deadline::ALL.into_iter().map(Category::Deadline).collect(),
        series: vec![Series { key: SeriesKey::Count, values }],
    })
}

/// A payment order's provider as a way money came in.
fn way_of(provider: &str) -> Option<RevenueWay> {
    match provider {
        "wechat" => Some(RevenueWay::Wechat),
        "alipay" => Some(RevenueWay::Alipay),
        TRANSFER => Some(RevenueWay::Transfer),
        "settlement" => Some(RevenueWay::Settlement),
        _ => None,
    }
}

/// 月度收入: the last 12 Beijing months' money, in fen: paid orders by the month they were
/// paid (WeChat, Alipay, a transfer finance confirmed), and settlement customers' approved
/// applications by the month of approval (the monthly statement's lines), each way a series.
async fn revenue_per_month(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Chart, AppError> {
    let today = today(now);
    let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let months: Vec<NaiveDate> = (0..=MONTHS as u32)
        .rev()
        .filter_map(|back| {
            let next = this_month.checked_add_months(Months::new(1))?;
            next.checked_sub_months(Months::new(back))
        })
        .collect();
    let bounds: Vec<DateTime<Utc>> = months.iter().copied().map(start_of).collect();
    let categories = months[..MONTHS].iter().map(|m| Category::Month(m.format("%Y-%m").to_string())).collect();
    let end = MONTHS + 1;
    // After the bounds: the paid status, the settlement mode, and the approved statuses (as
    // the monthly statement reads them).
    let text = format!(
        "SELECT provider AS way, {paid} AS bar, CAST(SUM(amount_fen) AS BIGINT) AS fen FROM payment_order \
         WHERE status = ${p} AND paid_at >= $1 AND paid_at < ${end} GROUP BY provider, bar \
         UNION ALL \
         SELECT 'settlement' AS way, {decided} AS bar, CAST(SUM(price_fen) AS BIGINT) AS fen FROM request \
         WHERE billing_mode = ${m} AND status IN (${a}, ${i}, ${d}) \
         AND decided_at >= $1 AND decided_at < ${end} GROUP BY bar",
        paid = bar_of("paid_at", MONTHS, 2),
        decided = bar_of("decided_at", MONTHS, 2),
        p = end + 1,
        m = end + 2,
        a = end + 3,
        i = end + 4,
        d = end + 5,
    );
    let mut params = values(&bounds);
    params.push(PaymentStatus::Paid.as_str().into());
    params.push(BillingMode::Settlement.as_str().into());
    params.extend([Status::Approved, Status::Issued, Status::Done].map(status));
    let rows = db.query_all(sql(db, &text, params)).await?;
    let mut series: Vec<Series> =
        RevenueWay::ALL.into_iter().map(|w| Series { key: SeriesKey::Way(w), values: vec![0; MONTHS] }).collect();
    for r in &rows {
        let way: String = r.try_get("", "way")?;
        let (Some(way), Some(i)) = (way_of(&way), bar(r, MONTHS)?) else { continue };
        add(&mut series, SeriesKey::Way(way), MONTHS, i, r.try_get::<Option<i64>>("", "fen")?.unwrap_or(0));
    }
    Ok(Chart { chart: ChartKind::RevenuePerMonth, categories, series })
}

/// 即将到期: certificates not revoked (valid, or frozen and still the holder's) whose validity
/// ends from now to 90 days on, by weeks of seven days from now.
async fn expiring_per_week(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Chart, AppError> {
    let horizon = now + Duration::days(EXPIRY_HORIZON_DAYS);
    let mut bounds: Vec<DateTime<Utc>> = (0..WEEKS as i64).map(|w| now + Duration::days(7 * w)).collect();
    bounds.push(horizon);
    let categories = bounds[..WEEKS]
        .iter()
        .map(|b| Category::Week(b.with_timezone(&BEIJING).format("%Y-%m-%d").to_string()))
        .collect();
    let text = format!(
        "SELECT {} AS bar, COUNT(*) AS n FROM certificate WHERE status IN ('valid', 'hold') \
         AND not_after >= $1 AND not_after < ${} GROUP BY bar",
        bar_of("not_after", WEEKS, 2),
        WEEKS + 1
    );
    let rows = db.query_all(sql(db, &text, values(&bounds))).await?;
    let mut values = vec![0; WEEKS];
    for r in &rows {
        if let Some(i) = bar(r, WEEKS)? {
            values[i] += r.try_get::<i64>("", "n")?;
        }
    }
    Ok(Chart { chart: ChartKind::ExpiringPerWeek, categories, series: vec![Series { key: SeriesKey::Count, values }] })
}

/// 每日吊销: certificates revoked in the last 30 days (not those frozen), a series per reason
/// that occurred, in the reasons' order.
async fn revocations_per_day(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Chart, AppError> {
    let (categories, bounds) = days(now);
    let text = format!(
        "SELECT reason, {} AS bar, COUNT(*) AS n FROM certificate WHERE status = 'revoked' \
         AND revoked_at >= $1 AND revoked_at < ${} GROUP BY reason, bar",
        bar_of("revoked_at", DAYS, 2),
        DAYS + 1
    );
    let rows = db.query_all(sql(db, &text, values(&bounds))).await?;
    let mut series = Vec::new();
    for r in &rows {
        let code: Option<i16> = r.try_get("", "reason")?;
        let reason = code
            .and_then(|c| u8::try_from(c).ok())
            .and_then(RevocationReason::from_code)
            .unwrap_or(RevocationReason::Unspecified);
        if let Some(i) = bar(r, DAYS)? {
            add(&mut series, SeriesKey::Reason(reason), DAYS, i, r.try_get("", "n")?);
        }
    }
    let order = |s: &Series| match s.key {
        SeriesKey::Reason(r) => RevocationReason::ALL.iter().position(|x| *x == r),
        _ => None,
    };
    series.sort_by_key(order);
    Ok(Chart { chart: ChartKind::RevocationsPerDay, categories, series })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn days_turn_at_midnight_in_beijing() {
        // 2026-12-03 23:30 in Beijing is still 15:30 UTC of the 3rd.
        let (categories, bounds) = days(at("2026-12-03T15:30:00Z"));
        assert_eq!(categories.len(), DAYS);
        assert_eq!(categories[DAYS - 1], Category::Day("2026-12-03".into()));
        assert_eq!(categories[0], Category::Day("2026-11-04".into()));
        assert_eq!(bounds[DAYS], at("2026-12-03T16:00:00Z"));
        assert_eq!(bounds[0], at("2026-11-03T16:00:00Z"));
        // Half an hour later it is the 4th there.
        assert_eq!(days(at("2026-12-03T16:00:00Z")).0[DAYS - 1], Category::Day("2026-12-04".into()));
    }

    #[test]
    fn the_deadline_boundaries_agree_with_the_queues_working_days() {
        // Thursday 2026-12-03, 10:00 in Beijing.
        let now = at("2026-12-03T02:00:00Z");
        let (late, due) = (first_day_with(now, 0), first_day_with(now, 1));
        // Five working days before Thursday: Thursday 26 November is due today.
        assert_eq!(due, at("2026-11-26T16:00:00Z"));
        assert_eq!(late, at("2026-11-25T16:00:00Z"));
        for hours in 0..24 * 20 {
            let submitted = now - Duration::hours(hours);
            let by_bounds = if submitted < late {
                Deadline::Late
            } else if submitted < due {
                Deadline::DueToday
            } else {
                Deadline::OnTime
            };
            assert_eq!(by_bounds, Deadline::of(working_days_left(submitted, now)), "{submitted}");
        }
    }

    #[test]
    fn a_row_falls_into_its_bar_by_the_upper_ends() {
        assert_eq!(bar_of("t", 3, 2), "CASE WHEN t < $2 THEN 0 WHEN t < $3 THEN 1 WHEN t < $4 THEN 2 ELSE -1 END");
        assert_eq!(way_of(TRANSFER), Some(RevenueWay::Transfer));
        assert_eq!(way_of("cash"), None);
    }
}
