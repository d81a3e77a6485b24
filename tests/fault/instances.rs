//! Lyceum instances: the real binary (`lyceum serve`) as child processes on fixed loopback
//! ports, all on one database, each with its own data directory and log file. An instance can
//! be killed with SIGKILL and started again on the same port.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};

/// What every instance is started with (besides its own address and data directory).
#[derive(Debug, Clone)]
pub struct Shared {
    pub bin: PathBuf,
    pub env: Vec<(String, String)>,
}

/// One `lyceum serve`.
#[derive(Debug)]
pub struct Instance {
    pub name: &'static str,
    pub port: u16,
    dir: PathBuf,
    shared: Shared,
    child: Option<Child>,
}

/// How long an instance may take to answer `/readyz` after it is started.
const READY_WITHIN: Duration = Duration::from_secs(60);

impl Instance {
    pub fn new(name: &'static str, work: &Path, shared: &Shared) -> Result<Self> {
        let dir = work.join(name);
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            name,
            port: crate::free_port()?,
            dir,
            shared: shared.clone(),
            child: None,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("serve.log")
    }

    /// Starts the process and waits until `/readyz` answers 200; returns how long that took.
    pub async fn start(&mut self) -> Result<Duration> {
        let started = Instant::now();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let mut command = Command::new(&self.shared.bin);
        command
            .arg("serve")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        // Only what the check sets: nothing of the caller's configuration leaks in.
        for (key, _) in std::env::vars() {
            if key.starts_with("LYCEUM_")
                || key.starts_with("STRIPE_")
                || key.starts_with("YOOKASSA_")
                || key == "DATABASE_URL"
            {
                command.env_remove(key);
            }
        }
        command.envs(self.shared.env.iter().map(|(k, v)| (k, v)));
        command.env("LYCEUM_ADDR", format!("127.0.0.1:{}", self.port));
        command.env("LYCEUM_DATA_DIR", &self.dir);
        command.env("LYCEUM_PUBLIC_URL", self.base());
        self.child = Some(command.spawn().context("spawn lyceum serve")?);
        let client = reqwest::Client::new();
        let url = format!("{}/readyz", self.base());
        while started.elapsed() < READY_WITHIN {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "instance {} exited: {status}\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            let ready = client
                .get(&url)
                .timeout(Duration::from_secs(3))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return Ok(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!(
            "instance {} never became ready\n{}",
            self.name,
            self.log_tail()
        )
    }

    /// SIGKILL: no shutdown, no flush, transactions in flight are cut.
    pub async fn kill9(&mut self) -> Result<()> {
        let mut child = self.child.take().context("the instance is not running")?;
        child.start_kill()?;
        child.wait().await?;
        Ok(())
    }

    /// Whether the process is still running (it did not exit by itself).
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The last lines of its log, for a failure report.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Log lines at ERROR level (ANSI colours or not).
    pub fn error_lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("ERROR"))
            .map(str::to_owned)
            .collect()
    }
}
