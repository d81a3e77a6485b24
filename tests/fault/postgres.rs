//! A private PostgreSQL cluster: its own data directory and port, so the fault check can stop
//! it and start it again mid-run without touching the machine's shared server. PostgreSQL
//! refuses to run as root; as root, its tools run as the `postgres` OS user (`runuser`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A cluster made by `initdb` in a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    as_postgres: bool,
    pub port: u16,
}

impl Postgres {
    /// `initdb` in a fresh directory, with tools from `bin` (`/usr/lib/postgresql/N/bin`).
    pub fn init(bin: &Path) -> Result<Self> {
        let as_postgres = running_as_root()?;
        let dir = tempfile::Builder::new()
            .prefix("lyceum-fault-pg")
            .tempdir()?;
        if as_postgres {
            run(Command::new("chown").arg("postgres:").arg(dir.path()))?;
        }
        let pg = Self {
            bin: bin.to_owned(),
            port: crate::free_port()?,
            dir,
            as_postgres,
        };
        pg.tool("initdb")
            .arg("-D")
            .arg(pg.data())
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .status()
            .context("initdb")?
            .success()
            .then_some(())
            .context("initdb failed")?;
        Ok(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A command running `name` from the cluster's tools, as `postgres` when we are root.
    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// Starts the server and waits until it takes connections; returns how long that took.
    /// Durability is off (`fsync`, synchronous commit): the machine does not crash here, only
    /// the server stops, and its WAL survives that.
    pub fn start(&self) -> Result<Duration> {
        let started = Instant::now();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        let status = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "30", "-o", &options, "start"])
            .stdout(Stdio::null())
            .status()
            .context("pg_ctl start")?;
        if !status.success() {
            bail!("pg_ctl start failed; server log:\n{}", self.log_tail());
        }
        Ok(started.elapsed())
    }

    /// Stops the server at once, the way a crash does (`-m immediate`): connections are cut,
    /// nothing is flushed, the next start recovers from the WAL.
    pub fn stop_immediate(&self) -> Result<()> {
        let status = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "-t", "30", "stop"])
            .stdout(Stdio::null())
            .status()
            .context("pg_ctl stop")?;
        if !status.success() {
            bail!("pg_ctl stop failed");
        }
        Ok(())
    }

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn running_as_root() -> Result<bool> {
    let out = Command::new("id").arg("-u").output().context("id -u")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn run(command: &mut Command) -> Result<()> {
    let status = command.status()?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}
