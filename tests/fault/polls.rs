//! Background traffic while PostgreSQL goes away: pollers (one task per instance reading the
//! same URL every 100 ms, writing down every answer: when it was sent, its status and shape,
//! how long it took) and a drizzle of webhook deliveries, until told to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::plan::Event;
use crate::storm::{Parcel, Secrets};

/// What a background task heard, shared with whoever asks.
type Log<T> = Arc<Mutex<Vec<T>>>;

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
    logs: [Log<Poll>; 2],
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Pollers {
    /// Starts polling `urls` (one per instance) with `token`.
    pub fn start(client: &reqwest::Client, urls: [String; 2], token: &str) -> Self {
        let start = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let logs: [Log<Poll>; 2] = Default::default();
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
        let seen = |log: &Log<Poll>| log.lock().is_ok_and(|polls| polls.iter().any(&what));
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
        let heard = |log: &Log<Poll>| {
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
    log: Log<Poll>,
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

/// Senders that deliver genuine events already applied (duplicates, to change nothing) to
/// both instances throughout, so that the database goes away under webhook traffic too, not
/// only under reads.
pub struct Drizzle {
    stop: Arc<AtomicBool>,
    log: Log<(Option<u16>, Duration)>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Senders in the drizzle (each waits for its answer before the next delivery).
const SENDERS: usize = 4;

impl Drizzle {
    pub fn start(
        client: &reqwest::Client,
        bases: &[String; 2],
        events: Vec<Event>,
        secrets: &Secrets,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let events = Arc::new(events);
        let tasks = (0..SENDERS)
            .map(|sender| {
                let (client, base) = (client.clone(), bases[sender % 2].clone());
                let (events, secrets) = (Arc::clone(&events), secrets.clone());
                let (stop, log) = (Arc::clone(&stop), Arc::clone(&log));
                tokio::spawn(async move {
                    let mut next = sender;
                    while !stop.load(Ordering::Relaxed) && !events.is_empty() {
                        let event = &events[next % events.len()];
                        let sent = Instant::now();
                        let status = Parcel::genuine(event, &secrets).send(&client, &base).await;
                        if let Ok(mut log) = log.lock() {
                            log.push((status, sent.elapsed()));
                        }
                        next += SENDERS;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                })
            })
            .collect();
        Self { stop, log, tasks }
    }

    /// Stops the senders; every `(answer, how long it took)`.
    pub async fn finish(self) -> Result<Vec<(Option<u16>, Duration)>> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await?;
        }
        self.log
            .lock()
            .map(|log| log.clone())
            .map_err(|_| anyhow::anyhow!("a sender panicked"))
    }
}
