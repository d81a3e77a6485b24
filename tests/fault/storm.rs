//! The storm: every genuine event once, as many duplicates again as make ~30 % of all
//! deliveries, and the forged ones — shuffled, and sent by concurrent senders to both
//! instances at once. When 40 % have been answered, instance B is killed with SIGKILL and
//! started again on the same port, while the senders go on (B's share fails meanwhile). Then
//! the providers' redelivery: every genuine delivery that got no 2xx, plus a tenth of those
//! that did, signed afresh, to either instance, until every genuine event has had a 2xx.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures_util::{StreamExt, stream};
use lyceum_gateway_core::signature;
use rand::RngExt;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::instances::Instance;
use crate::plan::{Event, Forged, Forgery};
use crate::setup::Gw;

/// Deliveries in flight at once, over both instances.
const PARALLEL: usize = 16;
/// The longest one delivery may take before it counts as unanswered.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(20);
/// Redelivery rounds before giving up on an event.
const ROUNDS: usize = 6;
/// The share of all deliveries that are duplicates of a genuine event.
const DUPLICATES: f64 = 0.3;

/// The providers' webhook secrets.
#[derive(Debug, Clone)]
pub struct Secrets {
    pub sandbox: String,
    pub stripe: String,
}

impl Secrets {
    fn of(&self, gateway: Gw) -> &str {
        match gateway {
            Gw::Sandbox => &self.sandbox,
            Gw::Stripe => &self.stripe,
        }
    }
}

/// One delivery: a genuine event (the first or a duplicate) or a forgery.
#[derive(Debug, Clone)]
enum Letter {
    Genuine(usize),
    Forged(usize),
}

/// What happened, for the figures and the checks.
#[derive(Debug, Default)]
pub struct Report {
    pub genuine: usize,
    pub duplicates: usize,
    pub forged: usize,
    pub first_pass: usize,
    pub redelivered: usize,
    pub rounds: usize,
    /// Answers by status (`none`: no answer, the instance was down or cut the connection).
    pub answers: BTreeMap<String, usize>,
    /// Forged deliveries answered 400, and answered anything else than 400 (must be none).
    pub forged_refused: usize,
    pub forged_not_refused: Vec<String>,
    /// 5xx from an instance (the provider retries them).
    pub server_errors: usize,
    pub killed_after: Duration,
    pub down_for: Duration,
    pub restart_took: Duration,
    pub took: Duration,
    pub slowest: Duration,
    pub p99: Duration,
}

struct Sent {
    letter: usize,
    status: Option<u16>,
    took: Duration,
}

/// Runs the storm against `bases` (A, B); `b` is killed and restarted mid-way.
pub async fn run(
    rng: &mut StdRng,
    client: &reqwest::Client,
    bases: &[String; 2],
    b: &mut Instance,
    events: &[Event],
    forged: &[Forged],
    secrets: &Secrets,
) -> Result<Report> {
    let started = Instant::now();
    let mut letters: Vec<Letter> = (0..events.len()).map(Letter::Genuine).collect();
    letters.extend((0..forged.len()).map(Letter::Forged));
    let duplicates = (letters.len() as f64 * DUPLICATES / (1.0 - DUPLICATES)).round() as usize;
    for _ in 0..duplicates {
        let event = rng.random_range(0..events.len());
        letters.push(Letter::Genuine(event));
    }
    letters.shuffle(rng);
    let mut report = Report {
        genuine: events.len(),
        duplicates,
        forged: forged.len(),
        first_pass: letters.len(),
        ..Report::default()
    };
    let deliver = |letter: usize, instance: usize| {
        let body = match &letters[letter] {
            Letter::Genuine(event) => Parcel::genuine(&events[*event], secrets),
            Letter::Forged(n) => Parcel::forged(&forged[*n], secrets),
        };
        async move {
            let started = Instant::now();
            let status = body.send(client, &bases[instance]).await;
            Sent {
                letter,
                status,
                took: started.elapsed(),
            }
        }
    };

    // The first pass, with B killed and restarted in the middle of it.
    let done = Arc::new(AtomicUsize::new(0));
    let kill_at = letters.len() * 2 / 5;
    let first = stream::iter(0..letters.len())
        .map(|n| {
            let done = Arc::clone(&done);
            let send = deliver(n, n % 2);
            async move {
                let sent = send.await;
                done.fetch_add(1, Ordering::Relaxed);
                sent
            }
        })
        .buffer_unordered(PARALLEL)
        .collect::<Vec<Sent>>();
    let killer = async {
        while done.load(Ordering::Relaxed) < kill_at {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let killed = Instant::now();
        b.kill9().await?;
        // Down long enough for a good part of B's share to find nobody there.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let took = b.start().await?;
        anyhow::Ok((killed - started, killed.elapsed(), took))
    };
    let (sent, killed) = tokio::join!(first, killer);
    (report.killed_after, report.down_for, report.restart_took) = killed?;
    let mut last: Vec<Option<u16>> = vec![None; letters.len()];
    let mut times = Vec::new();
    record(&mut report, &letters, &sent, &mut last, &mut times, forged);

    // The providers deliver again what was not acknowledged, and some of what was.
    for round in 1..=ROUNDS {
        let mut due: Vec<usize> = (0..letters.len())
            .filter(|&n| matches!(letters[n], Letter::Genuine(_)))
            .filter(|&n| {
                !last[n].is_some_and(|s| (200..300).contains(&s))
                    || (round == 1 && rng.random_bool(0.1))
            })
            .collect();
        if due.is_empty() {
            break;
        }
        due.shuffle(rng);
        let targets: Vec<usize> = due.iter().map(|_| rng.random_range(0..2)).collect();
        let sent: Vec<Sent> = stream::iter(due.iter().zip(targets))
            .map(|(&n, instance)| deliver(n, instance))
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        report.redelivered += sent.len();
        report.rounds = round;
        record(&mut report, &letters, &sent, &mut last, &mut times, forged);
    }
    let unacknowledged: Vec<&str> = (0..letters.len())
        .filter_map(|n| match letters[n] {
            Letter::Genuine(event) if !last[n].is_some_and(|s| (200..300).contains(&s)) => {
                Some(events[event].id.as_str())
            }
            _ => None,
        })
        .collect();
    if !unacknowledged.is_empty() {
        bail!(
            "{} deliveries never acknowledged after {ROUNDS} rounds, e.g. {:?}",
            unacknowledged.len(),
            &unacknowledged[..unacknowledged.len().min(5)]
        );
    }
    times.sort();
    report.slowest = times.last().copied().unwrap_or_default();
    report.p99 = times
        .get(times.len() * 99 / 100)
        .copied()
        .unwrap_or_default();
    report.took = started.elapsed();
    Ok(report)
}

fn record(
    report: &mut Report,
    letters: &[Letter],
    sent: &[Sent],
    last: &mut [Option<u16>],
    times: &mut Vec<Duration>,
    forged: &[Forged],
) {
    for s in sent {
        last[s.letter] = s.status;
        let key = s
            .status
            .map_or_else(|| "none".to_owned(), |c| c.to_string());
        *report.answers.entry(key).or_default() += 1;
        if s.status.is_some() {
            times.push(s.took);
        }
        if s.status.is_some_and(|c| c >= 500) {
            report.server_errors += 1;
        }
        if let Letter::Forged(n) = letters[s.letter] {
            match s.status {
                Some(400) => report.forged_refused += 1,
                None => {}
                Some(other) => report
                    .forged_not_refused
                    .push(format!("{:?} answered {other}", forged[n].how)),
            }
        }
    }
}

/// A delivery ready to send: its body and signature header.
pub struct Parcel {
    gateway: Gw,
    body: Arc<[u8]>,
    signature: Option<String>,
}

impl Parcel {
    /// A genuine event, signed by its provider now.
    pub fn genuine(event: &Event, secrets: &Secrets) -> Self {
        let now = chrono::Utc::now().timestamp();
        Self {
            gateway: event.gateway,
            body: Arc::clone(&event.body),
            signature: sign(secrets.of(event.gateway), now, &event.body),
        }
    }

    fn forged(forged: &Forged, secrets: &Secrets) -> Self {
        let now = chrono::Utc::now().timestamp();
        let secret = secrets.of(forged.gateway);
        let signature = match &forged.how {
            Forgery::WrongSecret => sign(
                "whsec_not_the_providers_secret_0123456789",
                now,
                &forged.body,
            ),
            Forgery::Altered { signed } => sign(secret, now, signed),
            Forgery::Stale => sign(secret, now - 3600, &forged.body),
            Forgery::Unsigned => None,
        };
        Self {
            gateway: forged.gateway,
            body: Arc::clone(&forged.body),
            signature,
        }
    }

    /// POSTs it to `base`; the status, or `None` when no answer came.
    pub async fn send(&self, client: &reqwest::Client, base: &str) -> Option<u16> {
        let header = match self.gateway {
            Gw::Sandbox => "sandbox-signature",
            Gw::Stripe => "stripe-signature",
        };
        let mut request = client
            .post(format!("{base}{}", self.gateway.path()))
            .timeout(DELIVERY_TIMEOUT)
            .header("content-type", "application/json")
            .body(self.body.to_vec());
        if let Some(signature) = &self.signature {
            request = request.header(header, signature);
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        // Read to the end, so the connection can be used again.
        response.bytes().await.ok()?;
        Some(status)
    }
}

fn sign(secret: &str, at: i64, body: &[u8]) -> Option<String> {
    signature::sign(&[secret.as_bytes()], at, body).ok()
}
