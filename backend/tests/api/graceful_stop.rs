//! The real `certdesk` binary stops gracefully on SIGTERM: it closes its listener at once,
//! finishes the request in flight (here one whose body is still arriving), stops its timers
//! between rounds and exits 0.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{free_port, test_config};

fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.write_all(b"GET /api/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_and_exits_cleanly() {
    let (dir, config) = test_config().await;
    let database = config.database_url.clone().expect("a test database");
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_certdesk"))
        .env("CERTDESK_BIND", format!("127.0.0.1:{port}"))
        .env("CERTDESK_DATA_DIR", &config.data_dir)
        .env("CERTDESK_STATIC_DIR", &config.static_dir)
        .env("CERTDESK_PUBLIC_URL", format!("http://localhost:{port}"))
        .env("CERTDESK_DEV", "true")
        .env("DATABASE_URL", &database)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("certdesk");
    let started = Instant::now();
    while !healthy(port) {
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            panic!("the server did not come up:\n{log}");
        }
        assert!(child.try_wait().unwrap().is_none(), "the server exited at start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A request whose body is half sent when the signal comes.
    let body = r#"{"acceptance_no": "BH00000000000000", "mobile": "13800000000", "name": "张三"}"#.as_bytes();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /api/public/progress HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body[..10]).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Stopping: no new connection is taken...
    assert!(!healthy(port), "a new request was served after SIGTERM");
    assert!(child.try_wait().unwrap().is_none(), "the server exited with a request in flight");
    // ...and the one in flight is answered in full.
    s.write_all(&body[10..]).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status: u16 = answer.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    assert!((200..500).contains(&status), "the request in flight was not answered: {answer:?}");
    assert!(answer.contains("\r\n\r\n{"), "{answer}");

    // Then it exits 0, its timers stopped.
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(code) = child.try_wait().unwrap() {
            break code;
        }
        assert!(Instant::now() < deadline, "the server did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(code.success(), "exit {code:?}:\n{log}");
    assert!(log.contains("finishing requests in flight") && log.contains("stopped"), "{log}");
}
