//! CA keys in a PKCS#11 token (SoftHSM2, a token directory per test). The server runs as a
//! child process so that the token configuration (`SOFTHSM2_CONF`) is its own.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use certdesk_shared::endpoint::{Endpoint, Health};

use crate::helpers::fresh_database;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "246813579";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn certdesk(dir: &Path, db: &str, port: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_certdesk"));
    c.env("SOFTHSM2_CONF", dir.join("softhsm2.conf"))
        .env("DATABASE_URL", db)
        .env("CERTDESK_DATA_DIR", dir.join("data"))
        .env("CERTDESK_STATIC_DIR", dir.join("no-app"))
        .env("CERTDESK_PUBLIC_URL", format!("http://localhost:{port}"))
        .env("CERTDESK_BIND", format!("127.0.0.1:{port}"))
        .env("CERTDESK_CA_PKCS11_MODULE", MODULE)
        .env("CERTDESK_CA_PKCS11_TOKEN", "certdesk-ca")
        .env("CERTDESK_CA_PKCS11_PIN", PIN)
        .env("RUST_LOG", "warn");
    c
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?}:\n{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_keys_in_softhsm2_sign_certificates_crls_and_ocsp_and_never_leave_the_token() {
    assert!(Path::new(MODULE).exists(), "SoftHSM2 is not installed: run `cargo xtask test`");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    std::fs::write(
        dir.join("softhsm2.conf"),
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )
    .unwrap();
    run(Command::new("softhsm2-util").env("SOFTHSM2_CONF", dir.join("softhsm2.conf")).args([
        "--init-token",
        "--free",
        "--label",
        "certdesk-ca",
        "--so-pin",
        "1357924680",
        "--pin",
        PIN,
    ]));

    let db = fresh_database(dir).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // Production mode: no development shortcut, the ceremony's steps instead.
    let shortcut = certdesk(dir, &db, port).args(["ca", "init"]).output().unwrap();
    assert!(!shortcut.status.success());
    assert!(String::from_utf8_lossy(&shortcut.stderr).contains("certdesk ca root init"), "{shortcut:?}");
    // The ceremony through the command line: the root in a directory of its own (no
    // database, no token), the issuing CA's key on the token.
    let media = dir.join("root-media");
    let root = |args: &[&str]| {
        let mut c = certdesk(dir, &db, port);
        c.env("CERTDESK_ROOT_PASSPHRASE", "root passphrase for the test")
            .args(["ca", "root"])
            .args(args)
            .arg("--dir")
            .arg(&media);
        c
    };
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    run(&mut root(&["init"]));
    let request = run(certdesk(dir, &db, port).args(["ca", "issuing", "request", "--out", &p("issuing.csr")]));
    let csr = std::fs::read(dir.join("issuing.csr")).unwrap();
    run(certdesk(dir, &db, port).args(["ca", "issuing", "request", "--out", &p("issuing.csr")]));
    assert_eq!(std::fs::read(dir.join("issuing.csr")).unwrap(), csr, "a pending request is written again, no new key");
    let signed = run(&mut root(&["sign-issuing", "--csr", &p("issuing.csr"), "--out", &p("issuing.crt")]));
    let fingerprint = request.split("SHA-256: ").nth(1).unwrap().split_whitespace().next().unwrap();
    assert!(signed.contains(fingerprint), "both sides read out the same key:\n{request}\n{signed}");
    run(&mut root(&["crl", "--out", &p("root.crl")]));
    let root_crt = media.join("root.crt").to_string_lossy().into_owned();
    let status = run(certdesk(dir, &db, port).args([
        "ca",
        "import",
        "--root",
        &root_crt,
        "--issuing",
        &p("issuing.crt"),
        "--crl",
        &p("root.crl"),
    ]));
    for label in ["Root CA", "Issuing CA", "OCSP responder", "offline"] {
        assert!(status.contains(label), "{status}");
    }
    // A second import is refused.
    let again = certdesk(dir, &db, port)
        .args(["ca", "import", "--root", &root_crt, "--issuing", &p("issuing.crt"), "--crl", &p("root.crl")])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("a CA hierarchy exists already"), "{again:?}");

    // The server's keys are on the token, sensitive and never extractable; the root's is not there.
    let objects = run(Command::new("pkcs11-tool").env("SOFTHSM2_CONF", dir.join("softhsm2.conf")).args([
        "--module",
        MODULE,
        "--token-label",
        "certdesk-ca",
        "--login",
        "--pin",
        PIN,
        "--list-objects",
        "--type",
        "privkey",
    ]));
    for label in ["certdesk-issuing", "certdesk-ocsp"] {
        assert!(objects.contains(label), "{objects}");
    }
    assert!(!objects.contains("certdesk-root"), "{objects}");
    assert_eq!(objects.matches("never extractable").count(), 2, "{objects}");
    assert_eq!(objects.matches("always sensitive").count(), 2, "{objects}");

    // Production mode refuses the sandboxes, and they are the only payment provider and SMS
    // gateway built yet: the binary exits naming them; as a staging server it starts.
    let refused = certdesk(dir, &db, port).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("sandbox SMS gateway"), "{refused:?}");
    let _server =
        Server(certdesk(dir, &db, port).env("CERTDESK_STAGING", "true").stdout(Stdio::null()).spawn().unwrap());
    let client = reqwest::Client::new();
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(url(Health::PATH)).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let fetch = |p: &'static str| {
        let client = client.clone();
        let u = url(p);
        async move { client.get(u).send().await.unwrap().bytes().await.unwrap().to_vec() }
    };
    let root = dir.join("root.der");
    let issuing = dir.join("issuing.der");
    let crl = dir.join("issuing.crl");
    std::fs::write(&root, fetch("/ca/root.crt").await).unwrap();
    std::fs::write(&issuing, fetch("/ca/issuing.crt").await).unwrap();
    std::fs::write(&crl, fetch("/ca/issuing.crl").await).unwrap();
    let to_pem = |der: &Path, kind: &str| {
        let out = dir.join(format!("{}.pem", der.file_name().unwrap().to_string_lossy()));
        run(Command::new("openssl").args([kind, "-inform", "DER", "-in"]).arg(der).arg("-out").arg(&out));
        out
    };
    let root_pem = to_pem(&root, "x509");
    let issuing_pem = to_pem(&issuing, "x509");
    // Certificates signed on the token verify strictly; so does the CRL.
    run(Command::new("openssl").args(["verify", "-x509_strict", "-CAfile"]).arg(&root_pem).arg(&issuing_pem));
    let crl_check = run(Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-in"])
        .arg(&crl)
        .arg("-CAfile")
        .arg(&issuing_pem));
    assert!(crl_check.contains("verify OK"), "{crl_check}");
    // And an OCSP response signed by the responder key on the token.
    let ocsp = run(Command::new("openssl")
        .args(["ocsp", "-issuer"])
        .arg(&issuing_pem)
        .args(["-serial", "0x7f00112233445566778899aabbccddee", "-url", &url("/ocsp"), "-CAfile"])
        .arg(&root_pem)
        .arg("-verify_other")
        .arg(&issuing_pem));
    assert!(ocsp.contains(": unknown") && ocsp.contains("Response verify OK"), "{ocsp}");
}
