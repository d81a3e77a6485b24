//! PostgreSQL goes away under both instances and comes back; the instances are not touched.
//!
//! A poller per instance reads an order every 100 ms throughout. PostgreSQL is stopped the way
//! a crash stops it (`-m immediate`) and kept down while each instance is probed: `/healthz`
//! still answers 200 at once, `/readyz` 503 within its bound, a genuine webhook 503 (and it is
//! not applied), a page 503 or a cached 200, a bearer token it has not seen yet 503 (not 401).
//! Then PostgreSQL starts again, and each poller must see 200 again, from the same processes.
//! Every answer in between must be 200 or a 503 problem+json with `Retry-After` — never a
//! 500, never a hang past the bound. Webhook deliveries (events applied before) keep coming
//! throughout, answered 200 or 503 alike. Last, once both instances LISTEN again, the webhook
//! refused during the outage is delivered to A and applied, and B learns of it by NOTIFY.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use reqwest::Method;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Statement};

use crate::api;
use crate::plan::{Event, Held};
use crate::polls::{Drizzle, Poll, Pollers};
use crate::postgres::Postgres;
use crate::setup::Order;
use crate::storm::{Parcel, Secrets};

/// The longest any answer may take while the database is away: the pool's acquire timeout
/// (5 s) and some slack for a loaded machine.
const BOUND: Duration = Duration::from_millis(7500);

/// Where the outage happens.
pub struct Stage<'a> {
    pub client: &'a reqwest::Client,
    pub bases: &'a [String; 2],
    pub pg: &'a Postgres,
    pub db: &'a DatabaseConnection,
    pub buyers: &'a [String],
    pub orders: &'a [Order],
    pub held: &'a Held,
    pub secrets: &'a Secrets,
    /// Genuine events already applied, for the drizzle.
    pub applied: &'a [Event],
}

impl Stage<'_> {
    fn order(&self) -> &Order {
        &self.orders[self.held.order]
    }

    fn order_url(&self, base: &str) -> String {
        let order = self.order();
        format!(
            "{base}/api/v1/tenants/{}/orders/{}",
            order.tenant_slug, order.id
        )
    }

    fn access_url(&self, base: &str) -> String {
        let order = self.order();
        format!(
            "{base}/api/v1/tenants/{}/courses/{}/access",
            order.tenant_slug, order.course
        )
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub down_for: Duration,
    /// Per instance: from PostgreSQL's stop to its first 200 after PostgreSQL was back (every
    /// answer in between a 503), and how long after PostgreSQL was back that 200 came.
    pub unavailable_for: [Duration; 2],
    pub recovered_after: [Duration; 2],
    pub polls: usize,
    pub unavailable_answers: usize,
    pub slowest: Duration,
    /// Webhook deliveries of the drizzle, and how many were answered 503.
    pub drizzle: usize,
    pub drizzle_unavailable: usize,
    /// What each instance answered while PostgreSQL was away.
    pub during: [Probes; 2],
    /// After the pollers saw 200 again, until both instances LISTENed again.
    pub listening_again_after: Duration,
    pub other_instance_knew_after: Duration,
}

/// What one instance answered while PostgreSQL was away: statuses, and how long they took.
#[derive(Debug, Default, Clone, Copy)]
pub struct Probes {
    pub healthz: (u16, Duration),
    pub readyz: (u16, Duration),
    pub webhook: u16,
    pub page: u16,
    /// An order read with a token this instance has never seen, so checking it needs the
    /// database (the pollers' token is cached by then).
    pub fresh_token: (u16, Duration),
}

pub async fn run(stage: &Stage<'_>) -> Result<Report> {
    let mut report = Report::default();
    let buyer = &stage.buyers[stage.order().buyer];
    let drizzle = Drizzle::start(
        stage.client,
        stage.bases,
        stage.applied.to_vec(),
        stage.secrets,
    );
    let pollers = Pollers::start(
        stage.client,
        stage.bases.clone().map(|b| stage.order_url(&b)),
        buyer,
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A token per instance that only the other one has seen (it signed the buyer in).
    let email = crate::setup::buyer_email(stage.order().buyer);
    let fresh = [
        crate::setup::login(stage.client, &stage.bases[1], &email).await?,
        crate::setup::login(stage.client, &stage.bases[0], &email).await?,
    ];

    tokio::task::block_in_place(|| stage.pg.stop_immediate())?;
    let down = Instant::now();
    let stopped = pollers.start.elapsed();
    let (a, b) = tokio::join!(probe(stage, 0, &fresh[0]), probe(stage, 1, &fresh[1]));
    report.during = [a, b];
    pollers
        .until_both(BOUND * 2, |p| p.status == Some(503))
        .await;
    tokio::task::block_in_place(|| stage.pg.start())?;
    report.down_for = down.elapsed();
    let up = pollers.start.elapsed();
    pollers
        .until_both(Duration::from_secs(30), |p| {
            p.at >= up && p.status == Some(200)
        })
        .await;

    let mut problems = Vec::new();
    judge_drizzle(&mut report, &drizzle.finish().await?, &mut problems);
    for (i, polls) in pollers.finish().await?.iter().enumerate() {
        judge_polls(&mut report, i, polls, (stopped, up), &mut problems);
    }
    for (i, during) in report.during.iter().enumerate() {
        judge_probes(i, during, &mut problems);
    }
    if !problems.is_empty() {
        bail!(
            "the outage was not handled cleanly:\n{}",
            problems.join("\n")
        );
    }
    report.listening_again_after = listening_again(stage.db).await?;
    report.other_instance_knew_after = held_payment(stage, buyer).await?;
    Ok(report)
}

/// Probes instance `i` with everything at once: `/healthz` must not wait behind the others.
async fn probe(stage: &Stage<'_>, i: usize, fresh_token: &str) -> Probes {
    let base = &stage.bases[i];
    let (health, ready) = (format!("{base}/healthz"), format!("{base}/readyz"));
    let page = format!("{base}/s/{}", stage.order().tenant_slug);
    let order = stage.order_url(base);
    let webhook = async {
        Parcel::genuine(&stage.held.event, stage.secrets)
            .send(stage.client, base)
            .await
    };
    let (healthz, readyz, webhook, page, fresh_token) = tokio::join!(
        timed(stage.client, &health, None),
        timed(stage.client, &ready, None),
        webhook,
        timed(stage.client, &page, None),
        timed(stage.client, &order, Some(fresh_token)),
    );
    Probes {
        healthz,
        readyz,
        webhook: webhook.unwrap_or(0),
        page: page.0,
        fresh_token,
    }
}

async fn timed(client: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, Duration) {
    let started = Instant::now();
    let mut request = client.get(url).timeout(Duration::from_secs(20));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let status = request.send().await.map_or(0, |r| r.status().as_u16());
    (status, started.elapsed())
}

fn judge_probes(i: usize, during: &Probes, problems: &mut Vec<String>) {
    let (health, health_took) = during.healthz;
    let (ready, ready_took) = during.readyz;
    let (fresh, fresh_took) = during.fresh_token;
    if health != 200 || health_took > Duration::from_secs(1) {
        problems.push(format!(
            "instance {i}: /healthz answered {health} in {health_took:?}"
        ));
    }
    if ready != 503 || ready_took > Duration::from_secs(3) {
        problems.push(format!(
            "instance {i}: /readyz answered {ready} in {ready_took:?}"
        ));
    }
    if during.webhook != 503 {
        problems.push(format!(
            "instance {i}: a webhook answered {}",
            during.webhook
        ));
    }
    if ![200, 503].contains(&during.page) {
        problems.push(format!("instance {i}: a page answered {}", during.page));
    }
    if fresh != 503 || fresh_took > BOUND {
        problems.push(format!(
            "instance {i}: a token it had not seen answered {fresh} in {fresh_took:?}"
        ));
    }
}

/// Every drizzled delivery must be answered 200 (applied before, a duplicate) or 503, in time.
fn judge_drizzle(
    report: &mut Report,
    sent: &[(Option<u16>, Duration)],
    problems: &mut Vec<String>,
) {
    report.drizzle = sent.len();
    report.drizzle_unavailable = sent.iter().filter(|(s, _)| *s == Some(503)).count();
    for (status, took) in sent {
        report.slowest = report.slowest.max(*took);
        if !matches!(status, Some(200 | 503)) || *took > BOUND {
            problems.push(format!(
                "a drizzled webhook answered {status:?} in {took:?}"
            ));
        }
    }
    if report.drizzle_unavailable == 0 {
        problems.push("no drizzled webhook met the outage".to_owned());
    }
}

/// Judges one instance's polls; `stopped` and `up` are when PostgreSQL stopped and was back.
fn judge_polls(
    report: &mut Report,
    i: usize,
    polls: &[Poll],
    (stopped, up): (Duration, Duration),
    problems: &mut Vec<String>,
) {
    report.polls += polls.len();
    let unavailable = polls.iter().filter(|p| p.status == Some(503)).count();
    report.unavailable_answers += unavailable;
    if unavailable == 0 {
        problems.push(format!("instance {i} never answered 503"));
    }
    match polls.iter().find(|p| p.at >= up && p.status == Some(200)) {
        Some(p) => {
            report.recovered_after[i] = p.at + p.took - up;
            report.unavailable_for[i] = p.at + p.took - stopped;
        }
        None => problems.push(format!(
            "instance {i} never answered 200 after PostgreSQL came back"
        )),
    }
    for p in polls {
        report.slowest = report.slowest.max(p.took);
        let clean = match p.status {
            Some(200) => true,
            Some(503) => p.problem_json && p.retry_after,
            _ => false,
        };
        if !clean || p.took > BOUND {
            problems.push(format!(
                "instance {i} at {:?}: {:?} (problem+json {}, Retry-After {}) in {:?}",
                p.at, p.status, p.problem_json, p.retry_after, p.took
            ));
        }
    }
}

/// Waits until each instance LISTENs again (its reconnection flushed its caches): from then
/// on, only a notification can tell B of a change made through A. Returns how long it took.
async fn listening_again(db: &DatabaseConnection) -> Result<Duration> {
    let waited = Instant::now();
    loop {
        let listening = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT count(*) AS n FROM pg_stat_activity WHERE query ILIKE 'LISTEN %'",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if listening >= 2 {
            return Ok(waited.elapsed());
        }
        ensure!(
            waited.elapsed() < Duration::from_secs(15),
            "the instances do not LISTEN again ({listening} do)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Nothing of the webhook refused during the outage was applied; delivered again to A now, it
/// is, and B (which has just cached "no access") hears of it at once. Returns how soon.
async fn held_payment(stage: &Stage<'_>, buyer: &str) -> Result<Duration> {
    let order = stage.order();
    let row = lyceum::entities::orders::Entity::find_by_id(order.id)
        .one(stage.db)
        .await?
        .context("the held order")?;
    ensure!(
        row.status.as_str() == "pending",
        "the webhook refused during the outage was applied: {}",
        row.status
    );
    let on_b = stage.access_url(&stage.bases[1]);
    let access = || async {
        let body = api::expect(stage.client, Method::GET, &on_b, Some(buyer), None, 200).await?;
        anyhow::Ok(body["access"] == true)
    };
    ensure!(!access().await?, "access before the payment");
    let answer = Parcel::genuine(&stage.held.event, stage.secrets)
        .send(stage.client, &stage.bases[0])
        .await;
    ensure!(
        answer == Some(200),
        "the held payment answered {answer:?} after the outage"
    );
    let applied = Instant::now();
    while !access().await? {
        ensure!(
            applied.elapsed() < Duration::from_secs(2),
            "instance B still denies access 2 s after instance A applied the payment: no notification came"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(applied.elapsed())
}
