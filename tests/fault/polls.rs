//! Pollers: one task per instance reading the same URL every 100 ms, writing down every
//! answer (when it was sent, its status and shape, how long it took), until told to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;

/// One answer (or none).
#[derive(Debug, Clone)]
pub struct Poll {
    /// When it was sent, since the pollers started.
    pub at: Duration,
    pub status: Option<u16>,
    pub problem_json: bool,
    pub retry_after: bool,
    pub took: Duration,
}

/// Two pollers, for instance A and B.
pub struct Pollers {
    pub start: Instant,
    stop: Arc<AtomicBool>,
    logs: [Arc<Mutex<Vec<Poll>>>; 2],
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Pollers {
    /// Starts polling `urls` (one per instance) with `token`.
    pub fn start(client: &reqwest::Client, urls: [String; 2], token: &str) -> Self {
        let start = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let logs: [Arc<Mutex<Vec<Poll>>>; 2] = Default::default();
        let tasks = urls
            .into_iter()
            .zip(&logs)
            .map(|(url, log)| {
                let poller = poll(
                    client.clone(),
                    url,
                    token.to_owned(),
                    start,
                    Arc::clone(&stop),
                    Arc::clone(log),
                );
                tokio::spawn(poller)
            })
            .collect();
        Self {
            start,
            stop,
            logs,
            tasks,
        }
    }

    /// Waits (up to `within`) until both have heard an answer that is `what`.
    pub async fn until_both(&self, within: Duration, what: impl Fn(&Poll) -> bool) {
        let waited = Instant::now();
        let seen =
            |log: &Arc<Mutex<Vec<Poll>>>| log.lock().is_ok_and(|polls| polls.iter().any(&what));
        while waited.elapsed() < within && !self.logs.iter().all(seen) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops both; every answer each heard.
    pub async fn finish(self) -> Result<[Vec<Poll>; 2]> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await?;
        }
        let heard = |log: &Arc<Mutex<Vec<Poll>>>| {
            log.lock()
                .map(|polls| polls.clone())
                .map_err(|_| anyhow::anyhow!("a poller panicked"))
        };
        Ok([heard(&self.logs[0])?, heard(&self.logs[1])?])
    }
}

async fn poll(
    client: reqwest::Client,
    url: String,
    token: String,
    start: Instant,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Poll>>>,
) {
    while !stop.load(Ordering::Relaxed) {
        let at = start.elapsed();
        let sent = Instant::now();
        let answer = client
            .get(&url)
            .bearer_auth(&token)
            .timeout(Duration::from_secs(20))
            .send()
            .await;
        let poll = match answer {
            Ok(r) => Poll {
                at,
                status: Some(r.status().as_u16()),
                problem_json: r
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json")),
                retry_after: r.headers().contains_key("retry-after"),
                took: sent.elapsed(),
            },
            Err(_) => Poll {
                at,
                status: None,
                problem_json: false,
                retry_after: false,
                took: sent.elapsed(),
            },
        };
        if let Ok(mut polls) = log.lock() {
            polls.push(poll);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
