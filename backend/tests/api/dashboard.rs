//! 工作台 (issue 21): each role gets the charts of its work, and every chart's figures are
//! the rows behind it, put in their day, week or month of Beijing time.

use certdesk::domain::dashboard::chart;
use certdesk::domain::review::working_days_left;
use certdesk::entity::{certificate, payment_order, request};
use certdesk_shared::admin::StaffRole;
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::dashboard::{
    Category, Chart, ChartKind, DAYS, Dashboard, Deadline, MONTHS, RevenueWay, SeriesKey, WEEKS,
};
use certdesk_shared::endpoint;
use certdesk_shared::request::RequestKind;
use chrono::{DateTime, Datelike, Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, NotSet, Set};

use crate::helpers::browser::{Browser, registered, staff_browser};
use crate::helpers::issuing::complete_draft;
use crate::helpers::{TestApp, spawn_app};

async fn board(b: &mut Browser<'_>) -> Dashboard {
    let (status, v) = b.send::<endpoint::GetDashboard>(&[], &()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    serde_json::from_value(v).unwrap()
}

fn value(c: &Chart, key: SeriesKey, bar: usize) -> i64 {
    c.series.iter().find(|s| s.key == key).map_or(0, |s| s.values[bar])
}

/// A request row as a submission leaves it (no price, scan to pay).
fn request_row(kind: request::Kind, status: request::Status, submitted: Option<DateTime<Utc>>) -> request::ActiveModel {
    request::ActiveModel {
        id: Set(format!("dash-{}", uuid_like())),
        account_id: Set("dash-account".into()),
        kind: Set(kind),
        status: Set(status),
        step: Set(7),
        billing_mode: Set("scan_to_pay".into()),
        reasons: Set("[]".into()),
        review_round: Set(1),
        created_at: Set(submitted.unwrap_or_else(Utc::now)),
        updated_at: Set(submitted.unwrap_or_else(Utc::now)),
        submitted_at: Set(submitted),
        ..Default::default()
    }
}

async fn a_request(app: &TestApp, kind: request::Kind, status: request::Status, submitted: Option<DateTime<Utc>>) {
    request_row(kind, status, submitted).insert(&app.state.db).await.unwrap();
}

async fn a_settlement_approval(app: &TestApp, decided: DateTime<Utc>, fen: i64) {
    request::ActiveModel {
        billing_mode: Set("settlement".into()),
        price_fen: Set(Some(fen)),
        decided_at: Set(Some(decided)),
        ..request_row(request::Kind::Apply, request::Status::Approved, Some(decided))
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

async fn an_order(app: &TestApp, provider: &str, status: &str, paid: Option<DateTime<Utc>>, fen: i64) {
    payment_order::ActiveModel {
        out_trade_no: Set(format!("DASH{}", uuid_like())),
        request_id: Set("dash-request".into()),
        provider: Set(provider.into()),
        amount_fen: Set(fen),
        code_url: Set(String::new()),
        status: Set(status.into()),
        transaction_id: Set(None),
        created_at: Set(Utc::now()),
        expires_at: Set(Utc::now()),
        paid_at: Set(paid),
        queried_at: NotSet,
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

async fn a_certificate(app: &TestApp, status: &str, not_after: DateTime<Utc>, revoked: Option<(DateTime<Utc>, u8)>) {
    let n = uuid_like();
    certificate::ActiveModel {
        id: NotSet,
        uid: Set(uuid::Uuid::new_v4().to_string()),
        ca_id: Set(1),
        serial: Set(format!("{n:0>32}")),
        profile: Set("org_sign".into()),
        subject: Set("工作台测试单位".into()),
        not_before: Set(Utc::now() - Duration::days(300)),
        not_after: Set(not_after),
        der: Set(vec![0]),
        status: Set(status.into()),
        revoked_at: Set(revoked.map(|r| r.0)),
        reason: Set(revoked.map(|r| i16::from(r.1))),
        invalidity_date: Set(None),
        crl_entry: Set(None),
        created_at: Set(Utc::now()),
        email: Set(None),
        medium_no: Set(None),
        frozen_by: Set(None),
        crl_shard: Set(None),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

fn uuid_like() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[tokio::test]
async fn each_role_gets_the_charts_of_its_work() {
    let app = spawn_app().await;
    for role in StaffRole::ALL {
        let (mut b, _) = staff_browser(&app, role).await;
        let got: Vec<ChartKind> = board(&mut b).await.charts.iter().map(|c| c.chart).collect();
        let want: Vec<ChartKind> = ChartKind::ALL.into_iter().filter(|c| role.sees(*c)).collect();
        assert_eq!(got, want, "{role:?}");
        assert!(!got.is_empty());
    }
    let (mut customer, _) = registered(&app).await;
    assert_eq!(customer.send::<endpoint::GetDashboard>(&[], &()).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn each_chart_counts_the_rows_behind_it_in_their_bar() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let today = DAYS - 1;

    // 每日业务量: two today (one of them submitted through the wizard), one yesterday, one a
    // month ago (outside), and a draft (never submitted).
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (mut b, id, _) = complete_draft(&app, &mut admin, false).await;
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    // Scan-to-pay: submission waits for payment, so the wizard's request is still a draft.
    assert_eq!(s, StatusCode::PAYMENT_REQUIRED, "{v}");
    let (mut b, id, _) = complete_draft(&app, &mut admin, true).await;
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let now = Utc::now();
    a_request(&app, request::Kind::Renew, request::Status::Done, Some(now)).await;
    a_request(&app, request::Kind::Revoke, request::Status::Done, Some(now - Duration::days(1))).await;
    a_request(&app, request::Kind::Reissue, request::Status::Done, Some(now - Duration::days(DAYS as i64 + 1))).await;
    let c = chart(db, ChartKind::RequestsPerDay, now).await.unwrap();
    assert_eq!(c.categories.len(), DAYS);
    assert_eq!(c.series.len(), RequestKind::ALL.len(), "every kind is a series, even without requests");
    assert_eq!(value(&c, SeriesKey::Kind(RequestKind::Apply), today), 1);
    assert_eq!(value(&c, SeriesKey::Kind(RequestKind::Renew), today), 1);
    // Yesterday in Beijing, unless it is still the same Beijing day a day ago (never).
    assert_eq!(value(&c, SeriesKey::Kind(RequestKind::Revoke), today - 1), 1);
    assert_eq!(c.total(), 3, "the draft and the old request are not counted");

    // 审核时限: the wizard's request is on time; add one due today and one late.
    let due = (0..20).map(|d| now - Duration::days(d)).find(|t| working_days_left(*t, now) == 0).unwrap();
    let late = (0..20).map(|d| now - Duration::days(d)).find(|t| working_days_left(*t, now) < 0).unwrap();
    a_request(&app, request::Kind::Change, request::Status::Submitted, Some(due)).await;
    a_request(&app, request::Kind::Renew, request::Status::Resubmitted, Some(late)).await;
    a_request(&app, request::Kind::Renew, request::Status::Rejected, Some(late)).await;
    let c = chart(db, ChartKind::ReviewDeadlines, now).await.unwrap();
    assert_eq!(c.categories, Deadline::ALL.map(Category::Deadline).to_vec());
    assert_eq!(c.series[0].values, [1, 1, 1], "a rejected request waits for its customer, not for review");
    // The queue the reviewers see holds the same three.
    let queue = admin.ok::<endpoint::ReviewQueue>(&[], &certdesk_shared::admin::QueueQuery::default()).await;
    assert_eq!(queue.total, 3);

    // 月度收入: this month WeChat 300 + Alipay 123.45, a settlement approval of 200; a transfer
    // in last month's middle; an unpaid order and one paid 13 months ago are not revenue.
    let this_month = MONTHS - 1;
    an_order(&app, "wechat", "paid", Some(now), 30000).await;
    an_order(&app, "alipay", "paid", Some(now), 12345).await;
    an_order(&app, "wechat", "not_paid", None, 99999).await;
    let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let local = now.with_timezone(&cst);
    let last_month = (local.with_day(1).unwrap() - Duration::days(15)).with_timezone(&Utc);
    an_order(&app, "bank_transfer", "paid", Some(last_month), 50000).await;
    an_order(&app, "alipay", "paid", Some(now - Duration::days(400)), 70000).await;
    a_settlement_approval(&app, now, 20000).await;
    let c = chart(db, ChartKind::RevenuePerMonth, now).await.unwrap();
    assert_eq!(c.categories[this_month], Category::Month(local.format("%Y-%m").to_string()));
    assert_eq!(value(&c, SeriesKey::Way(RevenueWay::Wechat), this_month), 30000);
    assert_eq!(value(&c, SeriesKey::Way(RevenueWay::Alipay), this_month), 12345);
    assert_eq!(value(&c, SeriesKey::Way(RevenueWay::Settlement), this_month), 20000);
    assert_eq!(value(&c, SeriesKey::Way(RevenueWay::Transfer), this_month - 1), 50000);
    assert_eq!(c.total(), 30000 + 12345 + 20000 + 50000);

    // 即将到期: this week two (one of them frozen), next week one; a revoked one and one
    // beyond 90 days are not counted.
    a_certificate(&app, "valid", now + Duration::days(1), None).await;
    a_certificate(&app, "hold", now + Duration::days(2), Some((now, 6))).await;
    a_certificate(&app, "valid", now + Duration::days(8), None).await;
    a_certificate(&app, "revoked", now + Duration::days(3), Some((now, 1))).await;
    a_certificate(&app, "valid", now + Duration::days(91), None).await;
    a_certificate(&app, "valid", now - Duration::days(1), None).await;
    let c = chart(db, ChartKind::ExpiringPerWeek, now).await.unwrap();
    assert_eq!(c.categories.len(), WEEKS);
    assert_eq!(c.series[0].values[..2], [2, 1]);
    assert_eq!(c.total(), 3);

    // 每日吊销: today one for key compromise (the one above), two days ago one superseded;
    // the frozen one is no revocation.
    a_certificate(&app, "revoked", now + Duration::days(200), Some((now - Duration::days(2), 4))).await;
    let c = chart(db, ChartKind::RevocationsPerDay, now).await.unwrap();
    assert_eq!(value(&c, SeriesKey::Reason(RevocationReason::KeyCompromise), today), 1);
    assert_eq!(value(&c, SeriesKey::Reason(RevocationReason::Superseded), today - 2), 1);
    assert_eq!(c.series.len(), 2, "only the reasons that occurred");
    assert_eq!(c.total(), 2);

    // Over HTTP, the administrator's dashboard holds these same figures; its requests now
    // count the queue's three and the settlement approval, all submitted in the last 30 days.
    let d = board(&mut admin).await;
    let totals: Vec<i64> = d.charts.iter().map(Chart::total).collect();
    assert_eq!(totals, [3 + 3 + 1, 3, 30000 + 12345 + 20000 + 50000, 3, 2]);
}
