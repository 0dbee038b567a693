//! Synthetic directory data for `cargo xtask bench`: `certdesk bench seed-directory`
//! inserts certificate rows (no real keys or signatures: the DER is filler of a realistic
//! size) so that status search is measured against a directory of a million. Refused
//! outside development mode, so a production database never gets them.

use std::time::{Duration, Instant};

use certdesk_shared::Named;
use certdesk_shared::dashboard::ChartKind;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Inserts `count` certificates of the issuing CA in one statement: holder `user<i>@bench.example`,
/// name `基准测试单位<i>` (every 1,000th name shared by 60 certificates, more than a search
/// answers), about 90 % valid, 5 % revoked and 5 % expired.
pub async fn seed_directory(db: &impl ConnectionTrait, count: u64) -> anyhow::Result<u64> {
    let text = match db.get_database_backend() {
        DbBackend::Postgres => format!(
            "INSERT INTO certificate (uid, ca_id, serial, profile, subject, not_before, not_after, der, status, revoked_at, reason, created_at, email) \
             SELECT 'bench-' || i, (SELECT id FROM ca_authority WHERE name = 'issuing'), lpad(to_hex(i), 32, 'f'), 'org_sign', \
                    CASE WHEN i % 1000 < 60 THEN '基准测试单位共用名' || (i / 1000) ELSE '基准测试单位' || i END, \
                    now() - make_interval(days => (CASE WHEN i % 20 = 1 THEN 400 ELSE i % 300 END)::int), \
                    now() - make_interval(days => (CASE WHEN i % 20 = 1 THEN 400 ELSE i % 300 END)::int) + interval '365 days', \
                    decode(repeat('00', 700), 'hex'), CASE WHEN i % 20 = 0 THEN 'revoked' ELSE 'valid' END, \
                    CASE WHEN i % 20 = 0 THEN now() ELSE NULL END, CASE WHEN i % 20 = 0 THEN 1 ELSE NULL END, now(), \
                    'user' || i || '@bench.example' \
             FROM generate_series(1, {count}) AS i"
        ),
        _ => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
             INSERT INTO certificate (uid, ca_id, serial, profile, subject, not_before, not_after, der, status, revoked_at, reason, created_at, email) \
             SELECT 'bench-' || i, (SELECT id FROM ca_authority WHERE name = 'issuing'), printf('%032x', i + 0xf000000000), 'org_sign', \
                    CASE WHEN i % 1000 < 60 THEN '基准测试单位共用名' || (i / 1000) ELSE '基准测试单位' || i END, \
                    strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || (CASE WHEN i % 20 = 1 THEN 400 ELSE i % 300 END) || ' days'), \
                    strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || (CASE WHEN i % 20 = 1 THEN 400 ELSE i % 300 END) || ' days', '+365 days'), \
                    zeroblob(700), CASE WHEN i % 20 = 0 THEN 'revoked' ELSE 'valid' END, \
                    CASE WHEN i % 20 = 0 THEN strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now') ELSE NULL END, CASE WHEN i % 20 = 0 THEN 1 ELSE NULL END, \
                    strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), 'user' || i || '@bench.example' \
             FROM n"
        ),
    };
    let done = db.execute(Statement::from_string(db.get_database_backend(), text)).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // One statement wrote about 1.2 GB of WAL. Fold it into the database now, as a bulk
        // import ends, instead of leaving the first writes of the measured server (each
        // search counts its address) to pay a checkpoint of that size: stalls of ~1.5 s.
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    }
    Ok(done.rows_affected())
}

/// Inserts `count` requests of every kind submitted over the last 400 days (one in a
/// thousand still in the review queue, one in five a settlement customer's, approved), and a
/// paid order (WeChat, Alipay or a bank transfer) for each of the others, for the
/// dashboard's benchmark (`certdesk bench dashboard`).
pub async fn seed_console(db: &impl ConnectionTrait, count: u64) -> anyhow::Result<u64> {
    let pg = db.get_database_backend() == DbBackend::Postgres;
    let ago = |days: &str| {
        if pg {
            format!("now() - make_interval(days => ({days})::int)")
        } else {
            format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || ({days}) || ' days')")
        }
    };
    let series = if pg { format!("FROM generate_series(1, {count}) AS i") } else { "FROM n".to_owned() };
    let with = if pg {
        String::new()
    } else {
        format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) ")
    };
    let at = ago("i % 400");
    let requests = format!(
        "{with}INSERT INTO request (id, account_id, kind, status, step, billing_mode, reasons, review_round, \
         created_at, updated_at, submitted_at, decided_at, price_fen) \
         SELECT 'bench-request-' || i, 'bench-account-' || (i % 50000), \
                CASE i % 10 WHEN 0 THEN 'renew' WHEN 1 THEN 'renew' WHEN 2 THEN 'change' WHEN 3 THEN 'reissue' \
                            WHEN 4 THEN 'revoke' WHEN 5 THEN 'operator_change' ELSE 'apply' END, \
                CASE WHEN i % 1000 = 0 THEN 'submitted' ELSE 'done' END, 7, \
                CASE WHEN i % 5 = 0 THEN 'settlement' ELSE 'scan_to_pay' END, '[]', 1, \
                {at}, {at}, {at}, CASE WHEN i % 1000 = 0 THEN NULL ELSE {at} END, 30000 {series}"
    );
    let orders = format!(
        "{with}INSERT INTO payment_order (out_trade_no, request_id, provider, amount_fen, code_url, status, created_at, expires_at, paid_at) \
         SELECT 'BENCH' || i, 'bench-request-' || i, \
                CASE i % 3 WHEN 0 THEN 'wechat' WHEN 1 THEN 'alipay' ELSE 'bank_transfer' END, 30000, '', 'paid', \
                {at}, {at}, {at} {series} WHERE i % 5 <> 0"
    );
    let n = db.execute(Statement::from_string(db.get_database_backend(), requests)).await?.rows_affected();
    db.execute(Statement::from_string(db.get_database_backend(), orders)).await?;
    if !pg {
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    }
    Ok(n)
}

/// The median and the slowest of `rounds` runs.
fn spread(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (times.get(times.len() / 2).map_or(f64::NAN, |d| ms(*d)), times.last().map_or(f64::NAN, |d| ms(*d)))
}

/// Times each of 工作台's charts `rounds` times (`BENCH chart_<name> …` lines), each next to
/// the same run's count of every certificate, the cost of a chart that read the whole table.
pub async fn time_dashboard(db: &impl ConnectionTrait, rounds: u32) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let count = Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM certificate");
    let mut times = Vec::new();
    let mut certificates = 0i64;
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        let row = db.query_one(count.clone()).await?;
        times.push(t.elapsed());
        certificates = row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0);
    }
    let (peer, peer_max) = spread(times);
    println!("BENCH count_certificates certificates={certificates} median_ms={peer:.2} max_ms={peer_max:.2}");
    for c in ChartKind::ALL {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..rounds.max(1) {
            let t = Instant::now();
            total = crate::domain::dashboard::chart(db, c, now).await?.total();
            times.push(t.elapsed());
        }
        let (median, max) = spread(times);
        println!(
            "BENCH chart_{} median_ms={median:.2} max_ms={max:.2} ratio_to_count={:.3} total={total}",
            c.as_str(),
            median / peer
        );
    }
    Ok(())
}
