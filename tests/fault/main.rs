//! The fault check (`deploy/fault-check.sh`, a step of `.ci/run`): two real `lyceum serve`
//! processes on one private PostgreSQL cluster, and what providers and infrastructure do to
//! them on a bad day.
//!
//! 1. A webhook storm: a sandbox storefront's and a Stripe storefront's orders are paid,
//!    declined, refunded and disputed by their providers (the sandbox's signed wire events; the
//!    fake Stripe's events), delivered over HTTP with ~30 % duplicates and some forgeries,
//!    shuffled, concurrently to both instances ([`storm`]).
//! 2. Mid-storm, instance B is killed with SIGKILL and started again on its port; the
//!    providers then redeliver whatever got no 2xx, and some of what did.
//! 3. Every order must end exactly as its events say, applied once ([`verify`]); both
//!    instances must answer access accordingly; the ledger must balance.
//! 4. PostgreSQL stops (as in a crash) and starts again under the running instances
//!    ([`outage`]): 503 problem+json meanwhile, within a bound, and 200 again after, from
//!    the same processes.
//!
//! `LYCEUM_BIN` (default `$CARGO_TARGET_DIR/debug/lyceum`) is the binary; `PG_BIN` the
//! directory of PostgreSQL's server tools (`initdb`, `pg_ctl`); `FAULT_SEED` repeats a run.

mod api;
mod figures;
mod instances;
mod outage;
mod plan;
mod polls;
mod postgres;
mod setup;
mod storm;
mod stripe_side;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use lyceum_e2e::stripe::FakeStripe;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sea_orm::{ConnectionTrait, Database};

use instances::{Instance, Shared};
use setup::{Gw, Sizes};
use storm::Secrets;

const SIZES: Sizes = Sizes {
    buyers: 34,
    sandbox_courses: 15,
    stripe_courses: 5,
};
const SANDBOX_SECRET: &str = "whsec_lyceum_fault_check_sandbox_0123456789";

/// The whole check must end within this, or it fails (cleaning up as on any failure).
const DEADLINE: Duration = Duration::from_secs(170);

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> ExitCode {
    // Whatever ends the run — success, failure, the deadline, SIGTERM from `timeout`, Ctrl-C —
    // drops it: the instances are killed, PostgreSQL is stopped, the directories removed.
    let outcome = tokio::select! {
        result = tokio::time::timeout(DEADLINE, run()) => {
            result.unwrap_or_else(|_| Err(anyhow::anyhow!("not done within {DEADLINE:?}")))
        }
        signal = terminated() => Err(anyhow::anyhow!("stopped by {signal}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nFAULT CHECK FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGTERM or SIGINT, naming it.
async fn terminated() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        },
        _ => std::future::pending().await,
    }
}

/// A free port on 127.0.0.1 (free when asked; nothing holds it after).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A duration as the figures show it: `1.23 s`.
pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

async fn run() -> Result<()> {
    let started = Instant::now();
    let bin = match std::env::var_os("LYCEUM_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => PathBuf::from(
            std::env::var_os("CARGO_TARGET_DIR").context("set LYCEUM_BIN or CARGO_TARGET_DIR")?,
        )
        .join("debug/lyceum"),
    };
    let pg_bin = PathBuf::from(
        std::env::var_os("PG_BIN").context("set PG_BIN to PostgreSQL's bin directory")?,
    );
    let seed = match std::env::var("FAULT_SEED") {
        Ok(seed) => seed.parse().context("FAULT_SEED is a number")?,
        Err(_) => plan::fresh_seed(),
    };
    println!(
        "fault check: seed {seed} (FAULT_SEED={seed} repeats this run), binary {}",
        bin.display()
    );
    let mut rng = StdRng::seed_from_u64(seed);

    let pg = postgres::Postgres::init(&pg_bin)?;
    let pg_start = tokio::task::block_in_place(|| pg.start())?;
    let admin = Database::connect(pg.url("postgres")).await?;
    admin.execute_unprepared("CREATE DATABASE lyceum").await?;
    admin.close().await?;
    let database = pg.url("lyceum");
    println!(
        "private PostgreSQL on :{} (started in {})",
        pg.port,
        secs(pg_start)
    );

    let fake = FakeStripe::start(
        stripe_side::KEY,
        vec![stripe_side::WEBHOOK_SECRET.to_owned()],
    )
    .await;
    let work = tempfile::Builder::new().prefix("lyceum-fault").tempdir()?;
    let shared = shared(&bin, &database, &fake, &work.path().join("assets")).await?;
    let migrate = tokio::process::Command::new(&bin)
        .arg("migrate")
        .envs(shared.env.iter().map(|(k, v)| (k, v)))
        .output()
        .await?;
    if !migrate.status.success() {
        bail!(
            "lyceum migrate failed: {}",
            String::from_utf8_lossy(&migrate.stderr)
        );
    }
    let mut a = Instance::new("a", work.path(), &shared)?;
    let mut b = Instance::new("b", work.path(), &shared)?;
    let (ready_a, ready_b) = tokio::try_join!(a.start(), b.start())?;
    let bases = [a.base(), b.base()];
    println!(
        "instances A :{} and B :{} ready in {} and {}",
        a.port,
        b.port,
        secs(ready_a),
        secs(ready_b)
    );

    let result = exercise(
        &mut rng, &pg, &database, &fake, &shared, &mut a, &mut b, &bases,
    )
    .await;
    if result.is_err() {
        for instance in [&a, &b] {
            eprintln!(
                "--- last lines of instance {} ({})",
                instance.name,
                instance.log_path().display()
            );
            eprintln!("{}", instance.log_tail());
        }
        // Keep the logs for a look.
        let kept = work.keep();
        eprintln!("logs kept in {}", kept.display());
    }
    result?;
    println!("fault check passed in {}", secs(started.elapsed()));
    Ok(())
}

/// What every instance is started with.
async fn shared(
    bin: &std::path::Path,
    database: &str,
    fake: &FakeStripe,
    assets: &std::path::Path,
) -> Result<Shared> {
    std::fs::create_dir_all(assets)?;
    let key = tokio::process::Command::new(bin)
        .args(["secrets", "new-key"])
        .output()
        .await?;
    let key = String::from_utf8(key.stdout)?.trim().to_owned();
    let unlimited = "1000000".to_owned();
    let env = vec![
        ("DATABASE_URL".to_owned(), database.to_owned()),
        ("LYCEUM_SECRETS_KEY".to_owned(), key),
        (
            "LYCEUM_CONTENT_KEY".to_owned(),
            "fault-check-content-key-0123456789abcdef".to_owned(),
        ),
        ("LYCEUM_ASSETS_URL".to_owned(), assets.display().to_string()),
        ("LYCEUM_SANDBOX".to_owned(), "all".to_owned()),
        (
            "LYCEUM_SANDBOX_WEBHOOK_SECRET".to_owned(),
            SANDBOX_SECRET.to_owned(),
        ),
        (
            "LYCEUM_STRIPE_API_BASE".to_owned(),
            fake.base_url().to_owned(),
        ),
        ("STRIPE_SECRET_KEY".to_owned(), stripe_side::KEY.to_owned()),
        (
            "STRIPE_WEBHOOK_SECRET".to_owned(),
            stripe_side::WEBHOOK_SECRET.to_owned(),
        ),
        (
            "LYCEUM_RATE_LIMIT_REGISTER_PER_ADDRESS".to_owned(),
            unlimited.clone(),
        ),
        ("LYCEUM_RATE_LIMIT_SIGNIN_PER_ADDRESS".to_owned(), unlimited),
        ("LYCEUM_LOG".to_owned(), "warn".to_owned()),
    ];
    Ok(Shared {
        bin: bin.to_owned(),
        env,
    })
}

#[expect(clippy::too_many_arguments, reason = "the whole cluster")]
async fn exercise(
    rng: &mut StdRng,
    pg: &postgres::Postgres,
    database: &str,
    fake: &FakeStripe,
    shared: &Shared,
    a: &mut Instance,
    b: &mut Instance,
    bases: &[String; 2],
) -> Result<()> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let db = Database::connect(database).await?;
    let setup_started = Instant::now();
    let world = setup::build(&client, bases, shared, &db, fake, SIZES).await?;
    let pick = |gw| -> Vec<usize> {
        (0..world.orders.len())
            .filter(|&i| world.orders[i].gateway == gw)
            .collect()
    };
    let (sandbox, held) = plan::sandbox(rng, &world.orders, &pick(Gw::Sandbox));
    let stripe = stripe_side::play(rng, fake, &client, &world.orders, &pick(Gw::Stripe)).await?;
    println!(
        "set up {} orders ({} sandbox, {} Stripe) for {} buyers in {}",
        world.orders.len(),
        sandbox.expected.len(),
        stripe.expected.len(),
        world.buyers.len(),
        secs(setup_started.elapsed())
    );

    let events: Vec<plan::Event> = sandbox
        .events
        .iter()
        .chain(&stripe.events)
        .cloned()
        .collect();
    let forged: Vec<plan::Forged> = sandbox
        .forged
        .iter()
        .chain(&stripe.forged)
        .cloned()
        .collect();
    let secrets = Secrets {
        sandbox: SANDBOX_SECRET.to_owned(),
        stripe: stripe_side::WEBHOOK_SECRET.to_owned(),
    };
    let report = storm::run(rng, &client, bases, b, &events, &forged, &secrets).await?;
    figures::storm(&report);
    if !report.forged_not_refused.is_empty() {
        bail!(
            "forged deliveries not refused: {:?}",
            report.forged_not_refused
        );
    }
    if report.server_errors > 0 {
        bail!(
            "{} deliveries answered 5xx by a running instance",
            report.server_errors
        );
    }

    let expected: Vec<(usize, plan::Expected)> = sandbox
        .expected
        .iter()
        .chain(&stripe.expected)
        .cloned()
        .collect();
    let checked = Instant::now();
    let figures = verify::database(&db, &world.orders, &expected).await?;
    let asked =
        verify::access_answers(&client, bases, &world.buyers, &world.orders, &expected).await?;
    if figures.refused_logged < report.forged_refused as u64 {
        bail!(
            "{} forged deliveries were refused but only {} refusals are in the webhook log",
            report.forged_refused,
            figures.refused_logged
        );
    }
    figures::verified(&figures, asked, checked.elapsed());
    for instance in [&mut *a, &mut *b] {
        if !instance.alive() {
            bail!("instance {} died", instance.name);
        }
        let errors = instance.error_lines();
        if !errors.is_empty() {
            bail!(
                "instance {} logged {} errors, e.g. {}",
                instance.name,
                errors.len(),
                errors[0]
            );
        }
    }

    // Every fourth event, sandbox's and Stripe's, delivered again throughout the outage.
    let drizzled: Vec<plan::Event> = events.iter().step_by(4).cloned().collect();
    let stage = outage::Stage {
        client: &client,
        bases,
        pg,
        db: &db,
        buyers: &world.buyers,
        orders: &world.orders,
        held: &held,
        secrets: &secrets,
        applied: &drizzled,
    };
    let outage = outage::run(&stage).await?;
    figures::outage(&outage);
    for instance in [&mut *a, &mut *b] {
        if !instance.alive() {
            bail!("instance {} did not survive the outage", instance.name);
        }
    }
    // Every order again: the drizzle changed nothing, the payment refused during the outage
    // and delivered again after it is applied once, the books still balance.
    let order = &world.orders[held.order];
    let mut paid = plan::Expected::settled(order.total, 0, 0);
    paid.event_ids = vec![held.event.id.clone()];
    let mut expected = expected;
    for (index, wanted) in &mut expected {
        if *index == held.order {
            *wanted = paid.clone();
        }
    }
    verify::database(&db, &world.orders, &expected).await?;
    db.close().await?;
    Ok(())
}
