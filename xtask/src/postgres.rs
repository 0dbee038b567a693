//! A throw-away PostgreSQL cluster on loopback in a temporary directory. PostgreSQL refuses
//! to run as root, so as root its commands run as the `postgres` user.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::{TempDir, free_port, sh};

pub struct TempPostgres {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
    as_postgres: bool,
}

pub fn bin_dir() -> Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (/usr/lib/postgresql)")?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| p.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()).unwrap_or(0));
    found.pop().context("no initdb under /usr/lib/postgresql/*/bin")
}

impl TempPostgres {
    pub fn start() -> Result<TempPostgres> {
        let bin = bin_dir()?;
        let dir = TempDir::new("certdesk-pg")?;
        let port = free_port()?;
        let as_postgres = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if as_postgres {
            sh(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()))?;
        }
        let pg = TempPostgres { bin, dir, port, as_postgres };
        let data = pg.dir.path().join("data");
        sh(pg
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "-D"])
            .arg(&data)
            .stdout(std::process::Stdio::null()))?;
        let opts =
            format!("-F -p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200", pg.dir.path().display());
        let log = pg.dir.path().join("log");
        let started = sh(pg
            .command("pg_ctl")
            .args(["-w", "-D"])
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(&log)
            .arg("start")
            .stdout(std::process::Stdio::null()));
        if let Err(e) = started {
            eprintln!("{}", std::fs::read_to_string(&log).unwrap_or_default());
            return Err(e.context("starting PostgreSQL (its log is above)"));
        }
        println!("PostgreSQL running on 127.0.0.1:{port} in {}", pg.dir.path().display());
        Ok(pg)
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        // The postgres user may not be able to enter the repository's directory.
        c.current_dir(self.dir.path());
        c
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let status = self.command("pg_ctl").args(["-D"]).arg(&data).args(["-m", "immediate", "stop"]).status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("could not stop PostgreSQL in {}", data.display());
        }
    }
}
