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
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub requests: u64,
    pub elapsed: Duration,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
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
                let mut ok = 0_u64;
                while Instant::now() < deadline {
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
                    ok += 1;
                }
                ok
            })
        })
        .collect();
    let mut requests = 0;
    for task in tasks {
        requests += task.await.expect("load task");
    }
    Run {
        requests,
        elapsed: started.elapsed(),
    }
}
