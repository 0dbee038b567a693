//! A PostgreSQL cluster of a test's own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A PostgreSQL cluster of this test's own, on a free loopback port. As root its commands
/// run as the `postgres` user (PostgreSQL refuses root).
pub struct OwnPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl OwnPostgres {
    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        c.current_dir(self.dir.path()).stdout(Stdio::null()).stderr(Stdio::null());
        c
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn init() -> OwnPostgres {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (cargo xtask test installs it)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .collect();
        found.sort();
        let bin = found.pop().expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        let port = crate::helpers::free_port();
        let as_postgres = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if as_postgres {
            assert!(
                Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap().success()
            );
        }
        let pg = OwnPostgres { bin, dir, port, as_postgres };
        let ok = pg
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "-D"])
            .arg(pg.data())
            .status()
            .unwrap();
        assert!(ok.success(), "initdb");
        pg
    }

    pub fn start(&self) {
        let opts = format!("-F -p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        let log: &Path = &self.dir.path().join("log");
        let ok = self
            .command("pg_ctl")
            .args(["-w", "-D"])
            .arg(self.data())
            .args(["-o", &opts, "-l"])
            .arg(log)
            .arg("start")
            .status()
            .unwrap();
        assert!(ok.success(), "pg_ctl start: {}", std::fs::read_to_string(log).unwrap_or_default());
    }

    pub fn stop(&self) {
        let ok = self.command("pg_ctl").args(["-w", "-D"]).arg(self.data()).args(["-m", "fast", "stop"]).status();
        assert!(ok.unwrap().success(), "pg_ctl stop");
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").args(["-D"]).arg(self.data()).args(["-m", "immediate", "stop"]).status();
    }
}
