//! Synthetic directory data for `cargo xtask bench`: `certdesk bench seed-directory`
//! inserts certificate rows (no real keys or signatures: the DER is filler of a realistic
//! size) so that status search is measured against a directory of a million. Refused
//! outside development mode, so a production database never gets them.

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
