//! Mail: a real SMTP server, and a message's body as a reader sees it.

/// A real SMTP server (aiosmtpd from the tools venv) on a free loopback port, writing what it
/// receives into a maildir; killed on drop.
pub struct SmtpServer {
    pub port: u16,
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let bin = std::env::var("PKILINT_BIN")
            .unwrap_or_else(|_| format!("{}/../target/tools/pkilint/bin", env!("CARGO_MANIFEST_DIR")));
        let python = std::path::Path::new(&bin).join("python");
        assert!(python.exists(), "the tools venv is missing in {bin}: run `cargo xtask test`");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("mail"))
            .spawn()
            .expect("aiosmtpd (pip install aiosmtpd into the tools venv)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        SmtpServer { port, child, dir }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, raw.
    pub fn received(&self) -> Vec<String> {
        let new = self.dir.path().join("mail/new");
        let Ok(entries) = std::fs::read_dir(new) else { return Vec::new() };
        entries.map(|e| String::from_utf8_lossy(&std::fs::read(e.unwrap().path()).unwrap()).into_owned()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Decodes a single-part message's body (base64 or quoted-printable).
pub fn mailparse_lite(raw: &str) -> String {
    use base64::Engine;
    let (head, body) = raw.split_once("\r\n\r\n").or_else(|| raw.split_once("\n\n")).unwrap();
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        let b64: String = body.split_whitespace().collect();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
    } else if head.contains("content-transfer-encoding: quoted-printable") {
        let joined = body.replace("=\r\n", "").replace("=\n", "");
        let mut out = Vec::new();
        let bytes = joined.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    } else {
        body.to_owned()
    }
}
