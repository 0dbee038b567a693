//! The database goes away under a running server (its own PostgreSQL cluster, stopped and
//! started again): meanwhile the server answers 503 with the `unavailable` body and a
//! Retry-After, never 500; once the database is back it serves again without a restart, and
//! what it had acknowledged before is still there.

use std::time::{Duration, Instant};

use certdesk_shared::endpoint::{self, Endpoint};
use reqwest::StatusCode;

use certdesk_shared::account::{CodePurpose, SignInRequest};
use certdesk_shared::directory::SearchQuery;
use certdesk_shared::{ApiError, ErrorCode};
use serde_json::Value;

use crate::helpers::browser::{
    Browser, PASSWORD, api_error, captcha, decode, new_mobile, registered, send_code_request, sign_in,
};
use crate::helpers::postgres::OwnPostgres;
use crate::helpers::{start, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_is_away_the_server_answers_503_and_then_recovers_without_a_restart() {
    let pg = OwnPostgres::init();
    pg.start();
    let (dir, mut config) = test_config().await;
    config.database_url = Some(pg.url());
    let app = start(dir, config).await;

    // Acknowledged before the outage: an account.
    let (_, mobile) = registered(&app).await;
    assert_eq!(app.get(&endpoint::Health::path(&[])).await.status(), StatusCode::OK);

    // Asked for before the outage, sent during it: a code request (a write) and a sign-in.
    let pending = send_code_request(&app, &new_mobile(), CodePurpose::Register).await;
    let (captcha_id, answer) = captcha(&app).await;
    let sign_in_body = SignInRequest {
        mobile: mobile.clone(),
        password: PASSWORD.into(),
        captcha_id,
        captcha_answer: answer.to_lowercase(),
        agreed: true,
    };

    pg.stop();
    let away = Instant::now();
    // Reads and writes alike: 503 with the unavailable body, never a 500 or a hang. (Each
    // waits for the pool's acquire timeout, 10 s, while sqlx keeps trying to connect.)
    let unavailable =
        |s: StatusCode, v: &Value| s == StatusCode::SERVICE_UNAVAILABLE && api_error(v).code == ErrorCode::Unavailable;
    {
        let by_email = SearchQuery { email: "zhangsan@example.com".into(), ..Default::default() };
        let res = Browser::new(&app).fetch::<endpoint::SearchCertificates>(&[], &by_email).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["retry-after"], "5");
        let body: Value = res.json().await.unwrap();
        assert_eq!(decode::<ApiError>(&body).code, ErrorCode::Unavailable, "{body}");
        let res = app.get(&endpoint::NewCaptcha::path(&[])).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let mut b = Browser::new(&app);
        let (s, v) = b.send::<endpoint::SendCode>(&[], &pending.clone()).await;
        assert!(unavailable(s, &v), "{s} {v}");
        let (s, v) = b.send::<endpoint::SignIn>(&[], &sign_in_body.clone()).await;
        assert!(unavailable(s, &v), "{s} {v}");
        assert_eq!(app.get(&endpoint::Health::path(&[])).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    println!("figure: five requests during the outage answered 503 in {} ms", away.elapsed().as_millis());
    assert!(away.elapsed() < Duration::from_secs(90), "answers during the outage took {:?}", away.elapsed());

    // Back: the same server serves again, and the account acknowledged before is there.
    pg.start();
    let back = Instant::now();
    loop {
        if app.get(&endpoint::Health::path(&[])).await.status() == StatusCode::OK {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(60), "the server did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered = back.elapsed();
    let mut b = Browser::new(&app);
    let (s, v) = sign_in(&mut b, &mobile, PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, other) = registered(&app).await;
    assert_ne!(other, mobile);
    println!("figure: the server answered again {} ms after PostgreSQL was back", recovered.as_millis());
}
