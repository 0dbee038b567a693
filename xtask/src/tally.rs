//! Runs test commands with their output shown, and counts what passed and failed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

#[derive(Default)]
pub struct Tally {
    rows: Vec<(String, u64, u64, u64)>,
    failed_commands: Vec<String>,
    /// Put before each line of output: a suite that runs beside another says which it is.
    prefix: &'static str,
}

/// `test result: ok. 16 passed; 0 failed; 1 ignored; …` → (16, 0, 1).
pub fn parse_cargo(line: &str) -> Option<(u64, u64, u64)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let num = |word: &str| -> Option<u64> {
        rest.split(';')
            .find_map(|part| part.trim().strip_suffix(word).and_then(|n| n.trim().rsplit(' ').next()?.parse().ok()))
    };
    Some((num(" passed")?, num(" failed")?, num(" ignored").unwrap_or(0)))
}

/// Playwright's summary lines: `  12 passed (4.2s)`, `  1 failed`, `  2 skipped`.
pub fn parse_playwright(line: &str) -> Option<(&'static str, u64)> {
    let mut words = line.split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    match words.next()? {
        "passed" => Some(("passed", n)),
        "failed" => Some(("failed", n)),
        "flaky" => Some(("failed", n)),
        "skipped" => Some(("skipped", n)),
        _ => None,
    }
}

fn stream(cmd: &mut Command, prefix: &str, mut on_line: impl FnMut(&str)) -> Result<bool> {
    let mut child = cmd.stdout(Stdio::piped()).spawn().with_context(|| format!("starting {cmd:?}"))?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            println!("{prefix}{line}");
            on_line(&line);
        }
    }
    Ok(child.wait()?.success())
}

impl Tally {
    /// A tally whose commands' output lines start with `prefix`.
    pub fn prefixed(prefix: &'static str) -> Tally {
        Tally { prefix, ..Tally::default() }
    }

    /// Takes in the rows and failures of a tally kept beside this one.
    pub fn absorb(&mut self, other: Tally) {
        self.rows.extend(other.rows);
        self.failed_commands.extend(other.failed_commands);
    }

    pub fn cargo(&mut self, name: &str, cmd: &mut Command) -> Result<()> {
        let (mut p, mut f, mut i) = (0, 0, 0);
        let ok = stream(cmd, self.prefix, |line| {
            if let Some((a, b, c)) = parse_cargo(line) {
                p += a;
                f += b;
                i += c;
            }
        })?;
        self.rows.push((name.to_owned(), p, f, i));
        // A filter that matches nothing runs no test: that is not a pass.
        if !ok || p == 0 {
            self.failed_commands.push(name.to_owned());
            self.print(Duration::ZERO);
            bail!("{name}: tests failed");
        }
        Ok(())
    }

    pub fn playwright(&mut self, name: &str, cmd: &mut Command) -> Result<()> {
        let (mut p, mut f, mut s) = (0, 0, 0);
        let ok = stream(cmd, self.prefix, |line| match parse_playwright(line) {
            Some(("passed", n)) => p += n,
            Some(("failed", n)) => f += n,
            Some(("skipped", n)) => s += n,
            _ => {}
        })?;
        self.rows.push((name.to_owned(), p, f, s));
        if !ok || p == 0 {
            self.failed_commands.push(name.to_owned());
            self.print(Duration::ZERO);
            bail!("{name}: tests failed");
        }
        Ok(())
    }

    pub fn print(&self, took: Duration) {
        println!("\n==> Test summary");
        println!("{:<28} {:>7} {:>7} {:>8}", "suite", "passed", "failed", "skipped");
        for (name, p, f, s) in &self.rows {
            println!("{name:<28} {p:>7} {f:>7} {s:>8}");
        }
        if !took.is_zero() {
            println!("total time {:.0} s", took.as_secs_f64());
        }
    }

    pub fn check(&self) -> Result<()> {
        if self.failed_commands.is_empty() && self.rows.iter().all(|r| r.2 == 0) {
            Ok(())
        } else {
            bail!("some tests failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_lines() {
        assert_eq!(
            parse_cargo(
                "test result: ok. 16 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.00s"
            ),
            Some((16, 0, 2))
        );
        assert_eq!(parse_cargo("test result: FAILED. 15 passed; 1 failed; 0 ignored; 0 measured"), Some((15, 1, 0)));
        assert_eq!(parse_cargo("running 3 tests"), None);
    }

    #[test]
    fn playwright_lines() {
        assert_eq!(parse_playwright("  12 passed (4.2s)"), Some(("passed", 12)));
        assert_eq!(parse_playwright("  1 failed"), Some(("failed", 1)));
        assert_eq!(parse_playwright("  3 skipped"), Some(("skipped", 3)));
        assert_eq!(parse_playwright("Running 5 tests using 2 workers"), None);
    }
}
