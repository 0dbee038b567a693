//! 工作台, the staff console's first page (`/admin`): five charts of the CA's work, each the
//! answer of one database query (`GET /api/admin/dashboard`), each shown to the roles whose
//! work it is ([`StaffRole::sees`]). Days, weeks and months are Beijing time's, as the
//! monthly statement's are.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray, VariantNames};

use crate::admin::{Permission, StaffRole};
use crate::certificate::RevocationReason;
use crate::request::RequestKind;

/// How many days the per-day charts show, today the last.
pub const DAYS: usize = 30;
/// How many months the revenue chart shows, this month the last.
pub const MONTHS: usize = 12;
/// How far ahead the expiry chart looks, in days (the renewal window).
pub const EXPIRY_HORIZON_DAYS: i64 = 90;
/// The expiry chart's weeks: seven days each from today, the last one shorter.
pub const WEEKS: usize = 13;

/// One chart of the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ChartKind {
    /// 每日业务量: requests per day of their submission, by 业务类型.
    RequestsPerDay,
    /// 审核时限: the review queue against the promise of 5 working days.
    ReviewDeadlines,
    /// 月度收入: money received per month, by the way it was paid (fen).
    RevenuePerMonth,
    /// 即将到期: certificates (valid or frozen) whose validity ends within 90 days, by week.
    ExpiringPerWeek,
    /// 每日吊销: revocations per day, by reason.
    RevocationsPerDay,
}

impl ChartKind {
    /// In the dashboard's order.
    pub const ALL: [ChartKind; 5] = [
        ChartKind::RequestsPerDay,
        ChartKind::ReviewDeadlines,
        ChartKind::RevenuePerMonth,
        ChartKind::ExpiringPerWeek,
        ChartKind::RevocationsPerDay,
    ];
    /// The permission whose work the chart shows; `None`: every member's (the day's requests).
    pub fn permission(self) -> Option<Permission> {
        match self {
            ChartKind::RequestsPerDay => None,
            ChartKind::ReviewDeadlines => Some(Permission::Review),
            ChartKind::RevenuePerMonth => Some(Permission::Finance),
            ChartKind::ExpiringPerWeek => Some(Permission::ServeCustomers),
            ChartKind::RevocationsPerDay => Some(Permission::Revoke),
        }
    }

    /// Whether the values are money (fen) rather than counts.
    pub fn is_money(self) -> bool {
        self == ChartKind::RevenuePerMonth
    }
}

impl StaffRole {
    /// Whether this role's dashboard shows `chart`.
    pub fn sees(self, chart: ChartKind) -> bool {
        chart.permission().is_none_or(|p| self.allows(p))
    }
}

/// Where a review-queue request stands against the promise (as the queue's 剩余工作日 column
/// counts: Monday to Friday, from the day of its latest submission).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Deadline {
    /// Working days are left (剩余工作日 > 0).
    OnTime,
    /// Today is its last working day (剩余工作日 = 0).
    DueToday,
    /// The promise is broken (剩余工作日 < 0).
    Late,
}

impl Deadline {
    pub const ALL: [Deadline; 3] = [Deadline::OnTime, Deadline::DueToday, Deadline::Late];

    /// From the queue's working days left.
    pub fn of(working_days_left: i64) -> Deadline {
        match working_days_left {
            1.. => Deadline::OnTime,
            0 => Deadline::DueToday,
            _ => Deadline::Late,
        }
    }
}

/// A point of a chart's horizontal axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "of", content = "at", rename_all = "snake_case")]
pub enum Category {
    /// A Beijing day, `YYYY-MM-DD`.
    Day(String),
    /// The first day of a week of seven days, `YYYY-MM-DD`.
    Week(String),
    /// A Beijing month, `YYYY-MM`.
    Month(String),
    Deadline(Deadline),
}

/// How money came in: the two QR providers, a bank transfer finance confirmed, or an approved
/// application of a settlement (月结) customer, as its monthly statement counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, IntoStaticStr, EnumString, VariantArray, VariantNames)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RevenueWay {
    Wechat,
    Alipay,
    Transfer,
    Settlement,
}

impl RevenueWay {
    pub const ALL: [RevenueWay; 4] =
        [RevenueWay::Wechat, RevenueWay::Alipay, RevenueWay::Transfer, RevenueWay::Settlement];
}

/// What one series of a chart counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "of", content = "key", rename_all = "snake_case")]
pub enum SeriesKey {
    Kind(RequestKind),
    Way(RevenueWay),
    Reason(RevocationReason),
    /// The one series of a chart that counts one thing (the queue, expiring certificates).
    Count,
}

/// One series: a value per category, in the categories' order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Series {
    pub key: SeriesKey,
    pub values: Vec<i64>,
}

/// A stacked bar chart: the categories along the axis, the series stacked in each bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Chart {
    pub chart: ChartKind,
    pub categories: Vec<Category>,
    pub series: Vec<Series>,
}

impl Chart {
    /// The height of bar `i`: every series' value there.
    pub fn bar(&self, i: usize) -> i64 {
        self.series.iter().filter_map(|s| s.values.get(i)).sum()
    }

    /// Everything the chart counts.
    pub fn total(&self) -> i64 {
        (0..self.categories.len()).map(|i| self.bar(i)).sum()
    }
}

/// `GET /api/admin/dashboard`: the charts of the member's role, as of `as_of` (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Dashboard {
    pub as_of: String,
    pub charts: Vec<Chart>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_sees_the_charts_of_its_work() {
        let seen = |r: StaffRole| ChartKind::ALL.into_iter().filter(|c| r.sees(*c)).collect::<Vec<_>>();
        assert_eq!(seen(StaffRole::Administrator), ChartKind::ALL.to_vec());
        assert_eq!(
            seen(StaffRole::Reviewer),
            [ChartKind::RequestsPerDay, ChartKind::ReviewDeadlines, ChartKind::RevocationsPerDay]
        );
        assert_eq!(seen(StaffRole::Finance), [ChartKind::RequestsPerDay, ChartKind::RevenuePerMonth]);
        assert_eq!(seen(StaffRole::CustomerService), [ChartKind::RequestsPerDay, ChartKind::ExpiringPerWeek]);
    }

    #[test]
    fn a_chart_travels_as_tagged_json_and_adds_up() {
        let c = Chart {
            chart: ChartKind::ReviewDeadlines,
            categories: Deadline::ALL.into_iter().map(Category::Deadline).collect(),
            series: vec![
                Series { key: SeriesKey::Kind(RequestKind::Renew), values: vec![1, 0, 2] },
                Series { key: SeriesKey::Count, values: vec![3, 4] },
            ],
        };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["categories"][1], serde_json::json!({ "of": "deadline", "at": "due_today" }));
        assert_eq!(json["series"][0]["key"], serde_json::json!({ "of": "kind", "key": "renew" }));
        assert_eq!(serde_json::from_value::<Chart>(json).unwrap(), c);
        // A series shorter than the axis counts nothing where it has no value.
        assert_eq!((c.bar(0), c.bar(1), c.bar(2), c.total()), (4, 4, 2, 10));
        assert_eq!(Deadline::of(3), Deadline::OnTime);
        assert_eq!((Deadline::of(0), Deadline::of(-1)), (Deadline::DueToday, Deadline::Late));
    }
}

crate::deserialize_by_name!(ChartKind);

crate::deserialize_by_name!(RevenueWay, Deadline);
