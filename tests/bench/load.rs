//! A closed-loop HTTP load generator: `concurrency` tasks share one keep-alive client and
//! each sends the next request as soon as the previous answer is read, for a fixed time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderValue};

/// What one target is and how its answers are checked.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: &'static str,
    pub url: String,
    pub authorization: Option<HeaderValue>,
    /// Every byte string here must occur in every answer's body.
    pub body_contains: Vec<&'static [u8]>,
}

/// One timed run.
#[derive(Debug, Clone)]
pub struct Run {
    pub requests: u64,
    pub elapsed: Duration,
    /// Every request's latency in microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which `q` (0–1) of the requests finished, in milliseconds.
    pub fn percentile_ms(&self, q: f64) -> f64 {
        percentile_ms(&self.latencies_us, q)
    }
}

/// The `q` (0–1) percentile of sorted microsecond latencies, in milliseconds.
pub fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted_us.len() - 1) as f64 * q).round() as usize;
    f64::from(sorted_us[rank.min(sorted_us.len() - 1)]) / 1000.0
}

/// A keep-alive client with room for every task's connection.
pub fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("load client")
}

/// Runs `concurrency` looping tasks against `target` for `duration`; every answer must be a
/// 200 with the expected body, or the benchmark stops.
pub async fn run(
    client: &reqwest::Client,
    target: &Target,
    concurrency: usize,
    duration: Duration,
) -> Run {
    let target = Arc::new(target.clone());
    // Parsed once, as load tools do: the generator should spend its time on requests.
    let url = reqwest::Url::parse(&target.url).expect("target URL");
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = client.clone();
            let target = target.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let mut req = client.get(url.clone());
                    if let Some(auth) = &target.authorization {
                        req = req.header(AUTHORIZATION, auth.clone());
                    }
                    let resp = req.send().await.expect("request sent");
                    let status = resp.status();
                    let body = resp.bytes().await.expect("body read");
                    assert_eq!(
                        status,
                        200,
                        "{}: unexpected status; body: {}",
                        target.name,
                        String::from_utf8_lossy(&body)
                    );
                    for needle in &target.body_contains {
                        assert!(
                            body.windows(needle.len()).any(|w| w == *needle),
                            "{}: body lacks {:?}: {}",
                            target.name,
                            String::from_utf8_lossy(needle),
                            String::from_utf8_lossy(&body)
                        );
                    }
                    latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                }
                latencies
            })
        })
        .collect();
    let mut latencies_us = Vec::new();
    for task in tasks {
        latencies_us.extend(task.await.expect("load task"));
    }
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    Run {
        requests: latencies_us.len() as u64,
        elapsed,
        latencies_us,
    }
}
