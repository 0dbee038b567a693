//! CertDesk server library: configuration, state, the router and everything behind it.
//! `main.rs` only parses flags and calls [`serve`].

/// Beijing time (UTC+8 all year: China keeps no daylight saving time), in which the portal's
/// days and months turn and its customers read times.
pub const BEIJING: chrono::FixedOffset = match chrono::FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

pub mod backup;
pub mod bench_data;
pub mod ca;
pub mod config;
pub mod db;
pub mod domain;
pub mod entity;
pub mod error;
pub mod group_commit;
pub mod http;
pub mod metrics;
pub mod migration;
pub mod notify;
pub mod outbound;
pub mod payment;
pub mod pdf;
pub mod random;
pub mod startup;
pub mod state;

use anyhow::Context;
use tokio::net::TcpListener;

pub use config::Config;
pub use http::{app, metrics_app};
pub use state::AppState;

/// Starts the server on `config.bind` and runs until Ctrl-C or SIGTERM, then stops gracefully:
/// no new connections, the requests in flight and the timers' rounds under way finish.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Settings before anything binds (no sandbox in production); the CA (in `AppState::new`)
    // before anything is served: connections wait in the listener's backlog until then.
    startup::check(&config)?;
    let listener = TcpListener::bind(config.bind).await.with_context(|| format!("binding {}", config.bind))?;
    let metrics_listener = match config.metrics_bind {
        Some(addr) if addr == config.bind => {
            anyhow::bail!("--metrics-bind must differ from --bind: metrics stay off the public listener")
        }
        Some(addr) => {
            Some(TcpListener::bind(addr).await.with_context(|| format!("binding the metrics listener {addr}"))?)
        }
        None => None,
    };
    let state = AppState::new(config).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        database = db::kind(&state.db),
        static_dir = %state.config.static_dir.display(),
        "CertDesk is listening on http://{addr}"
    );
    if let Some(l) = metrics_listener {
        tracing::info!(addr = %l.local_addr()?, "metrics on http://{}/metrics (internal listener)", l.local_addr()?);
        let metrics = metrics_app(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(l, metrics).await {
                tracing::error!(error = ?e, "the metrics listener stopped");
            }
        });
    }
    // The timers stop between rounds: a round under way (a CRL being signed, notices being
    // claimed) finishes before the process exits.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let timers = [
        tokio::spawn(refresh_crls_forever(state.clone(), stopping.clone())),
        tokio::spawn(presign_ocsp_forever(state.clone(), stopping.clone())),
        tokio::spawn(send_expiry_notices_forever(state.clone(), stopping.clone())),
        tokio::spawn(reconcile_payments_forever(state.clone(), stopping.clone())),
        tokio::spawn(checkpoint_forever(state.clone(), stopping.clone())),
        tokio::spawn(publish_audit_heads_forever(state.clone(), stopping)),
    ];
    // On SIGTERM or Ctrl-C the listener closes and the requests in flight finish.
    axum::serve(listener, app(state)?.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        })
        .await?;
    for t in timers {
        if let Err(e) = t.await {
            tracing::error!(error = ?e, "a timer ended abnormally");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits for the next tick, or for the stop: `false` once the server is stopping.
async fn next_round(tick: &mut tokio::time::Interval, stopping: &mut tokio::sync::watch::Receiver<bool>) -> bool {
    if *stopping.borrow() {
        return false;
    }
    tokio::select! {
        _ = tick.tick() => true,
        _ = stopping.changed() => false,
    }
}

/// Every `--audit-head-interval-secs` (hourly by default), the first at start: the audit
/// trail's head appended to the head file (`domain::audit::publish_head`).
async fn publish_audit_heads_forever(state: AppState, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(state.config.audit_head_interval_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let file = state.config.audit_head_path();
    while next_round(&mut tick, &mut stopping).await {
        if let Err(e) = domain::audit::publish_head(&state.db, &state.audit_key, &file, chrono::Utc::now()).await {
            tracing::error!(error = ?e, file = %file.display(), "publishing the audit trail's head failed");
        }
    }
}

/// Every [`db::CHECKPOINT_EVERY`], on SQLite: the main database's and the counters'
/// write-ahead logs folded in and emptied (`db::checkpoint`); hourly, the first at start,
/// the planner's statistics (`db::analyze`).
async fn checkpoint_forever(state: AppState, mut stopping: tokio::sync::watch::Receiver<bool>) {
    if db::kind(&state.db) != "sqlite" {
        return;
    }
    let mut tick = tokio::time::interval(db::CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut analyzed: Option<std::time::Instant> = None;
    while next_round(&mut tick, &mut stopping).await {
        if analyzed.is_none_or(|at| at.elapsed() >= db::ANALYZE_EVERY) {
            analyzed = Some(std::time::Instant::now());
            if let Err(e) = db::analyze(&state.db).await {
                tracing::warn!(error = ?e, "refreshing the planner's statistics failed");
            }
        }
        for (name, db) in [("database", &state.db), ("counters", state.counters.connection())] {
            match db::checkpoint(db).await {
                Ok(true) => {}
                Ok(false) => tracing::debug!(name, "the write-ahead log stayed busy; next round"),
                Err(e) => tracing::warn!(name, error = ?e, "checkpointing the write-ahead log failed"),
            }
        }
    }
}

/// Hourly: keeps every CRL fresh (regenerates those older than a day) and prunes old
/// rate-limit counters.
async fn refresh_crls_forever(state: AppState, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    while next_round(&mut tick, &mut stopping).await {
        if let Err(e) = ca::revoke::refresh_crls(&state.db, &[&state.ca.root, &state.ca.issuing]).await {
            tracing::error!(error = ?e, "refreshing CRLs failed");
        }
        // Counters untouched for a day: their windows (an hour at most) are long over.
        let before = chrono::Utc::now() - chrono::Duration::days(1);
        if let Err(e) = domain::throttle::prune(&state.db, before).await {
            tracing::error!(error = ?e, "pruning rate-limit counters failed");
        }
        if let Err(e) = state.counters.prune(before).await {
            tracing::error!(error = ?e, "pruning the counters store failed");
        }
    }
}

/// Hourly, the first at start: the pre-signed OCSP responses older than half their validity
/// signed again (`ca::ocsp::refresh_presigned`); at start also those of certificates that
/// have none yet (issued before the responses were pre-signed).
async fn presign_ocsp_forever(state: AppState, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut missing = true;
    while next_round(&mut tick, &mut stopping).await {
        // A round may take minutes (it yields most of the time to requests): a stop ends it
        // between two writes, each of which commits whole or not at all.
        let round = ca::ocsp::refresh_presigned(&state.db, &state.ca.issuing, missing, chrono::Utc::now());
        let done = tokio::select! {
            done = round => done,
            _ = stopping.changed() => return,
        };
        match done {
            Ok(n) => {
                missing = false;
                if n > 0 {
                    tracing::info!(signed = n, "OCSP responses signed ahead of their requests");
                }
            }
            Err(e) => tracing::error!(error = ?e, "signing OCSP responses ahead failed"),
        }
    }
}

/// Every `--expiry-notice-interval-secs` (hourly by default), the first at start: the
/// expiry notices now due (`domain::expiry_notice`; each sent once, whichever server runs it).
async fn send_expiry_notices_forever(state: AppState, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let every = std::time::Duration::from_secs(state.config.expiry_notice_interval_secs);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let how = domain::expiry_notice::Sending::from_config(&state.config);
    while next_round(&mut tick, &mut stopping).await {
        if let Err(e) = domain::expiry_notice::send_due(&state.db, chrono::Utc::now(), &how).await {
            tracing::error!(error = ?e, "sending expiry notices failed");
        }
        // The claims' e-mails, to the SMTP server (when there is one), each at most once.
        if let Err(e) = state.notifier.email.relay_pending().await {
            tracing::error!(error = ?e, "relaying e-mails to the SMTP server failed");
        }
        // Their SMS, to the real gateway (with the sandbox, the outbox was the delivery).
        if let Err(e) = state.notifier.relay_pending_sms().await {
            tracing::error!(error = ?e, "relaying SMS to the gateway failed");
        }
    }
}

/// Every `--payment-reconcile-interval-secs`: open orders whose notification has not come are
/// asked of their provider (`domain::payment::reconcile_open_orders`), so a payment whose
/// notification was lost is recorded even when nobody looks at the order again.
async fn reconcile_payments_forever(state: AppState, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(state.config.payment_reconcile_interval_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while next_round(&mut tick, &mut stopping).await {
        match domain::payment::reconcile_open_orders(&state.db, &state.payments, &state.audit_key, chrono::Utc::now())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(recorded = n, "payments recorded from the providers' answers"),
            Err(e) => tracing::error!(error = ?e, "asking the payment providers about open orders failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down, finishing requests in flight");
}
