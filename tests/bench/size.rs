//! Part 4: the hot paths at size, on PostgreSQL. One server and one database grow step by step
//! — 10k storefronts, then courses and entitlements to each size in `LYCEUM_BENCH_SIZES`
//! (courses, 1 % of them — at least 400 — in the measured storefront; entitlements are ten
//! times as many) — and at every step the same requests are
//! timed against their baselines, measured in the same step:
//!
//! - the public catalog's first page and a page deep into a large storefront, a course page
//!   and a cached access check, each as HTTP req/s and latency against the bare `/healthz`
//!   handler of the same server;
//! - the queries behind them as raw SQL (the catalog page, the deep page, the entitlement
//!   look-up), sequential, p50/p99: what a cache miss costs at that size;
//! - the storefront's HTML catalog and course page (the same cached reads, rendered);
//! - checkout (a new pending order on the sandbox), sequential, p50/p99;
//! - webhook apply: those orders paid by `payment_succeeded` events, alternately through the
//!   pipeline and as the same writes in raw SQL (part 2's baseline), each timed alone — into
//!   an entitlements table ten times the courses;
//! - the process's resident memory (server and load generator share it).
//!
//! Flat means the largest size's p99 within 1.5× the smallest's.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lyceum::entities::orders;
use lyceum_e2e::{Backend, TestApp, spawn_app};
use reqwest::header::HeaderValue;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Statement,
    Value as SqlValue,
};
use serde_json::json;
use uuid::Uuid;

use crate::load::{self, percentile_ms};
use crate::webhook::{self, Ledger};
use crate::{Outcome, PIPELINE_TARGET, buy};

/// The catalog (and storefront pages) against the bare handler: ≥ 0.30×.
const CATALOG_TARGET: f64 = 0.30;
/// Flat: the smallest size's p99 over the largest's, ≥ 1/1.5.
const FLAT_TARGET: f64 = 1.0 / 1.5;
/// Storefronts seeded before the first step.
const TENANTS: u64 = 10_000;
/// Checkouts per step; half their orders are paid through the pipeline, half as raw SQL.
const CHECKOUTS: u64 = 80;
/// The first applies of each step, two per side, warm the paths and are not timed.
const WARM_APPLIES: usize = 4;
/// Courses of the measured storefront at least: five steps' checkouts find one not yet bought.
const SHOP_COURSES_MIN: u64 = 5 * CHECKOUTS;

/// One timed thing at one size.
struct Sample {
    what: &'static str,
    rate: Option<f64>,
    p50_ms: f64,
    p99_ms: f64,
}

pub async fn at_sizes(sizes: &[u64], concurrency: usize, duration: Duration) -> Vec<Outcome> {
    println!("\n--- 4. at size: catalog, course page, access, checkout, PostgreSQL --");
    let Some(app) = spawn_app(Backend::Postgres).await else {
        let url = std::env::var("LYCEUM_TEST_POSTGRES_URL").unwrap_or_default();
        println!("SKIPPED: PostgreSQL is unreachable at {url} (set LYCEUM_TEST_POSTGRES_URL)");
        return vec![skipped("catalog/bare at the largest size", CATALOG_TARGET)];
    };
    let shop = app.shop().await;
    buy(&app, &shop.student).await;
    let shop_id = shop.tenant_id;
    let owner = owner_of(&app, shop_id).await;

    let started = Instant::now();
    seed_tenants(&app, owner).await;
    println!(
        "seeded {TENANTS} storefronts in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let client = load::client(concurrency);
    let student = HeaderValue::from_str(&format!("Bearer {}", shop.student)).expect("header");
    let mut steps: Vec<(u64, Vec<Sample>, u64)> = Vec::new();
    let mut seeded = Seeded::default();
    for &size in sizes {
        let started = Instant::now();
        seed_to(&app, shop_id, &mut seeded, size).await;
        println!(
            "\nsize {size}: {} courses ({} in the measured storefront), {} entitlements, {} users; seeded in {:.1} s",
            seeded.courses,
            seeded.shop_courses,
            seeded.entitlements,
            seeded.users,
            started.elapsed().as_secs_f64()
        );
        let deep = deep_cursor(&app, shop_id, seeded.shop_courses / 2).await;
        let targets = [
            target("bare /healthz", app.url("/healthz"), None, b"ok"),
            target(
                "catalog, first page",
                app.url("/api/v1/tenants/shop/courses"),
                None,
                b"\"items\"",
            ),
            target(
                "catalog, deep page",
                app.url(&format!("/api/v1/tenants/shop/courses?cursor={deep}")),
                None,
                b"\"items\"",
            ),
            target(
                "course page",
                app.url("/api/v1/tenants/shop/courses/paid"),
                None,
                b"\"sections\"",
            ),
            target(
                "storefront page",
                app.url("/s/shop"),
                None,
                b"Seeded course",
            ),
            target(
                "storefront course",
                app.url("/s/shop/courses/paid"),
                None,
                b"<h1",
            ),
            target(
                "access (cached)",
                app.url("/api/v1/tenants/shop/courses/paid/access"),
                Some(student.clone()),
                b"\"access\":true",
            ),
        ];
        let mut samples = Vec::new();
        for t in &targets {
            load::run(&client, t, concurrency, Duration::from_millis(300)).await;
            let run = load::run(&client, t, concurrency, duration).await;
            samples.push(Sample {
                what: t.name,
                rate: Some(run.rate()),
                p50_ms: run.percentile_ms(0.5),
                p99_ms: run.percentile_ms(0.99),
            });
        }
        samples.extend(raw_sql(&app, shop_id, &deep, shop.student_id).await);
        let (checkout, orders) = checkouts(&app, &shop.student, &mut seeded).await;
        samples.push(checkout);
        samples.extend(applies(&app, &orders, size).await);
        let rss = rss_kib();
        print_step(&samples, rss);
        steps.push((size, samples, rss));
    }
    app.stop().await;
    summarize(&steps)
}

fn skipped(what: &'static str, target: f64) -> Outcome {
    Outcome {
        what,
        detail: "PostgreSQL unreachable".into(),
        ratio: None,
        target,
        note: String::new(),
    }
}

fn target(
    name: &'static str,
    url: String,
    authorization: Option<HeaderValue>,
    needle: &'static [u8],
) -> load::Target {
    load::Target {
        name,
        url,
        authorization,
        body_contains: vec![needle],
    }
}

/// How far the seed has gone.
#[derive(Debug, Default)]
struct Seeded {
    courses: u64,
    shop_courses: u64,
    entitlements: u64,
    users: u64,
    /// Seeded courses of the measured storefront already bought by the checkout step.
    checked_out: u64,
}

async fn exec(app: &TestApp, sql: &str, values: Vec<SqlValue>) {
    app.state
        .db
        .execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            sql,
            values,
        ))
        .await
        .unwrap_or_else(|e| panic!("seed: {e}\n{sql}"));
}

async fn owner_of(app: &TestApp, tenant: Uuid) -> Uuid {
    let row = app
        .state
        .db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT owner_id FROM tenants WHERE id = $1",
            [tenant.into()],
        ))
        .await
        .expect("owner")
        .expect("the shop");
    row.try_get("", "owner_id").expect("owner id")
}

/// 10k active storefronts owned by the shop's owner; ids are md5s of their number, so the
/// other generators can point at them without reading them back.
async fn seed_tenants(app: &TestApp, owner: Uuid) {
    exec(
        app,
        "INSERT INTO tenants (id, slug, name, currency, status, owner_id, created_at, approved_at)
         SELECT md5('t' || i)::uuid, 'bench-' || i, 'Bench school ' || i, 'USD', 'active', $1, now(), now()
         FROM generate_series(0, $2 - 1) AS i",
        vec![owner.into(), (TENANTS as i64).into()],
    )
    .await;
}

/// Grows the seed to `size` courses over the storefronts (1 % of them in the measured one),
/// ten entitlements per course over users holding a hundred each.
async fn seed_to(app: &TestApp, shop: Uuid, seeded: &mut Seeded, size: u64) {
    let shop_total = (size / 100).max(SHOP_COURSES_MIN);
    let elsewhere = size.saturating_sub(shop_total);
    if elsewhere > seeded.courses {
        exec(
            app,
            "INSERT INTO courses (id, tenant_id, slug, title, description, price_amount, currency,
                                  published, published_at, complete_percent, created_at, updated_at)
             SELECT md5('c' || i)::uuid, md5('t' || (i % $3))::uuid, 'course-' || i,
                    'Course ' || i, 'A seeded course', 1900, 'USD', true, now(), 100, now(), now()
             FROM generate_series($1, $2 - 1) AS i",
            vec![
                (seeded.courses as i64).into(),
                (elsewhere as i64).into(),
                (TENANTS as i64).into(),
            ],
        )
        .await;
        seeded.courses = elsewhere;
    }
    if shop_total > seeded.shop_courses {
        exec(
            app,
            "INSERT INTO courses (id, tenant_id, slug, title, description, price_amount, currency,
                                  published, published_at, complete_percent, created_at, updated_at)
             SELECT md5('s' || i)::uuid, $3, 'seeded-' || i, 'Seeded course ' || i,
                    'A seeded course', 2900, 'USD', true, now(), 100, now(), now()
             FROM generate_series($1, $2 - 1) AS i",
            vec![
                (seeded.shop_courses as i64).into(),
                (shop_total as i64).into(),
                shop.into(),
            ],
        )
        .await;
        seeded.shop_courses = shop_total;
    }
    let entitlements = size * 10;
    let users = entitlements.div_ceil(100);
    if users > seeded.users {
        exec(
            app,
            "INSERT INTO users (id, email, name, password_hash, created_at)
             SELECT md5('u' || i)::uuid, 'bench-' || i || '@bench.test', 'Learner ' || i, '!', now()
             FROM generate_series($1, $2 - 1) AS i",
            vec![(seeded.users as i64).into(), (users as i64).into()],
        )
        .await;
        seeded.users = users;
    }
    if entitlements > seeded.entitlements {
        // Entitlement k: user k / 100, course (k · 7919) mod the seeded courses, granted.
        exec(
            app,
            "INSERT INTO entitlements (id, tenant_id, user_id, course_id, source, status,
                                       granted_at, updated_at)
             SELECT md5('e' || k)::uuid, md5('t' || ((k * 7919) % $3 % $4))::uuid,
                    md5('u' || (k / 100))::uuid, md5('c' || ((k * 7919) % $3))::uuid,
                    'grant', 'active', now(), now()
             FROM generate_series($1, $2 - 1) AS k",
            vec![
                (seeded.entitlements as i64).into(),
                (entitlements as i64).into(),
                (seeded.courses as i64).into(),
                (TENANTS as i64).into(),
            ],
        )
        .await;
        seeded.entitlements = entitlements;
    }
    exec(app, "ANALYZE", Vec::new()).await;
}

/// The cursor the API hands out for the page after the `offset`-th course of the shop.
async fn deep_cursor(app: &TestApp, shop: Uuid, offset: u64) -> String {
    let row = app
        .state
        .db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT id FROM courses WHERE tenant_id = $1 AND published ORDER BY id OFFSET $2 LIMIT 1",
            [shop.into(), (offset as i64).into()],
        ))
        .await
        .expect("deep cursor")
        .expect("a course that deep");
    let id: Uuid = row.try_get("", "id").expect("id");
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// The queries behind the cached answers, run one after another: a cache miss's price.
async fn raw_sql(app: &TestApp, shop: Uuid, deep: &str, student: Uuid) -> Vec<Sample> {
    let after = Uuid::from_slice(&URL_SAFE_NO_PAD.decode(deep).expect("cursor")).expect("uuid");
    let paid: Uuid = {
        let row = app
            .state
            .db
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT id FROM courses WHERE tenant_id = $1 AND slug = 'paid'",
                [shop.into()],
            ))
            .await
            .expect("paid")
            .expect("the paid course");
        row.try_get("", "id").expect("id")
    };
    let queries: [(&'static str, &str, Vec<SqlValue>); 3] = [
        (
            "SQL: catalog page",
            "SELECT * FROM courses WHERE tenant_id = $1 AND published ORDER BY id LIMIT 21",
            vec![shop.into()],
        ),
        (
            "SQL: deep page",
            "SELECT * FROM courses WHERE tenant_id = $1 AND published AND id > $2 ORDER BY id LIMIT 21",
            vec![shop.into(), after.into()],
        ),
        (
            "SQL: entitlement",
            "SELECT * FROM entitlements WHERE tenant_id = $1 AND user_id = $2 AND course_id = $3 AND status = 'active'",
            vec![shop.into(), student.into(), paid.into()],
        ),
    ];
    let mut out = Vec::new();
    for (what, sql, values) in queries {
        let mut times = Vec::with_capacity(300);
        for i in 0..330 {
            let started = Instant::now();
            let rows = app
                .state
                .db
                .query_all_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    sql,
                    values.clone(),
                ))
                .await
                .expect("raw query");
            assert!(!rows.is_empty(), "{what}: no rows");
            // The first 30 warm the connection and the buffers.
            if i >= 30 {
                times.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
        }
        out.push(timed(what, times));
    }
    out
}

/// [`CHECKOUTS`] checkouts of seeded courses of the measured storefront, one after another:
/// each a new pending order with a sandbox session. Returns their time and the orders.
async fn checkouts(
    app: &TestApp,
    student: &str,
    seeded: &mut Seeded,
) -> (Sample, Vec<orders::Model>) {
    let mut times = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..CHECKOUTS {
        let n = seeded.checked_out;
        seeded.checked_out += 1;
        let started = Instant::now();
        let body = app
            .post(
                "/api/v1/tenants/shop/checkout",
                Some(student),
                json!({"items": [{"course": format!("seeded-{n}"), "quantity": 1}]}),
            )
            .await
            .expect(201);
        times.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        let id: Uuid = body["order"]["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("an order id");
        ids.push(id);
    }
    let orders = orders::Entity::find()
        .filter(orders::Column::Id.is_in(ids))
        .all(&app.state.db)
        .await
        .expect("orders");
    assert_eq!(orders.len() as u64, CHECKOUTS);
    (timed("checkout", times), orders)
}

/// Pays `orders` with `payment_succeeded` events, one at a time, alternately through the
/// pipeline and as part 2's raw SQL (ledger included; the first [`WARM_APPLIES`] untimed),
/// then checks that every order is paid once with its entitlement, and the pipeline's books.
async fn applies(app: &TestApp, orders: &[orders::Model], size: u64) -> [Sample; 2] {
    let tag = format!("size{size}");
    let (mut pipeline, mut raw) = (Vec::new(), Vec::new());
    for (i, order) in orders.iter().enumerate() {
        let event = [webhook::succeeded(order, &tag)];
        let (took, times) = if i % 2 == 0 {
            (webhook::apply_pipeline(app, &event).await, &mut pipeline)
        } else {
            let took = webhook::apply_raw(&app.state.db, &event, Ledger::With).await;
            (took, &mut raw)
        };
        if i >= WARM_APPLIES {
            times.push(took);
        }
    }
    webhook::verify(app, orders, "webhook apply at size").await;
    let piped: Vec<_> = orders.iter().step_by(2).cloned().collect();
    webhook::verify_books(app, &piped, "webhook apply at size").await;
    let micros = |times: Vec<Duration>| {
        times
            .into_iter()
            .map(|t| u32::try_from(t.as_micros()).unwrap_or(u32::MAX))
            .collect()
    };
    [
        timed("webhook apply", micros(pipeline)),
        timed("SQL: webhook apply", micros(raw)),
    ]
}

/// A sequential measurement's percentiles.
fn timed(what: &'static str, mut micros: Vec<u32>) -> Sample {
    micros.sort_unstable();
    Sample {
        what,
        rate: None,
        p50_ms: percentile_ms(&micros, 0.5),
        p99_ms: percentile_ms(&micros, 0.99),
    }
}

/// This process's resident memory, KiB (Linux; 0 elsewhere).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn print_step(samples: &[Sample], rss: u64) {
    let bare = samples[0].rate.unwrap_or(f64::NAN);
    println!(
        "{:<22} {:>10} {:>9} {:>9} {:>8}",
        "", "req/s", "p50 ms", "p99 ms", "÷ bare"
    );
    for s in samples {
        match s.rate {
            Some(rate) => println!(
                "{:<22} {:>10.0} {:>9.2} {:>9.2} {:>7.2}×",
                s.what,
                rate,
                s.p50_ms,
                s.p99_ms,
                rate / bare
            ),
            None => println!(
                "{:<22} {:>10} {:>9.2} {:>9.2}",
                s.what, "-", s.p50_ms, s.p99_ms
            ),
        }
    }
    println!("resident memory: {} MiB", rss / 1024);
}

/// The closing lines: the catalog against the bare handler at the largest size, and how flat
/// each p99 stayed from the smallest size to the largest.
fn summarize(steps: &[(u64, Vec<Sample>, u64)]) -> Vec<Outcome> {
    let (Some((first, small, _)), Some((last, large, rss))) = (steps.first(), steps.last()) else {
        return Vec::new();
    };
    let bare = large[0].rate.unwrap_or(f64::NAN);
    let find = |what: &str| large.iter().find(|s| s.what == what);
    let mut out = Vec::new();
    for (what, label) in [
        ("catalog, first page", "catalog/bare @ largest"),
        ("course page", "course page/bare @ largest"),
        ("storefront page", "storefront page/bare @ largest"),
        ("storefront course", "storefront course/bare @ largest"),
    ] {
        let rate = find(what).and_then(|s| s.rate).unwrap_or(f64::NAN);
        out.push(Outcome {
            what: label,
            detail: format!("{rate:.0} vs {bare:.0} req/s at {last} courses"),
            ratio: Some(rate / bare),
            target: CATALOG_TARGET,
            note: String::new(),
        });
    }
    if let (Some(pipeline), Some(raw)) = (find("webhook apply"), find("SQL: webhook apply")) {
        out.push(Outcome {
            what: "webhook pipeline/raw @ largest",
            detail: format!(
                "p50 {:.2} ms vs {:.2} ms at {last} courses, {} entitlements",
                pipeline.p50_ms,
                raw.p50_ms,
                last * 10
            ),
            ratio: Some(raw.p50_ms / pipeline.p50_ms),
            target: PIPELINE_TARGET,
            note: String::new(),
        });
    }
    for (i, s) in large.iter().enumerate().skip(1) {
        let base = &small[i];
        out.push(Outcome {
            what: flat_label(s.what),
            detail: format!(
                "p99 {:.2} ms at {first} → {:.2} ms at {last} (RSS {} MiB)",
                base.p99_ms,
                s.p99_ms,
                rss / 1024
            ),
            ratio: Some(base.p99_ms / s.p99_ms),
            target: FLAT_TARGET,
            note: String::new(),
        });
    }
    out
}

fn flat_label(what: &str) -> &'static str {
    match what {
        "catalog, first page" => "flat: catalog first page p99",
        "catalog, deep page" => "flat: catalog deep page p99",
        "course page" => "flat: course page p99",
        "access (cached)" => "flat: access p99",
        "SQL: catalog page" => "flat: SQL catalog page p99",
        "SQL: deep page" => "flat: SQL deep page p99",
        "SQL: entitlement" => "flat: SQL entitlement p99",
        "storefront page" => "flat: storefront page p99",
        "storefront course" => "flat: storefront course p99",
        "checkout" => "flat: checkout p99",
        "webhook apply" => "flat: webhook apply p99",
        "SQL: webhook apply" => "flat: SQL webhook apply p99",
        _ => "flat: p99",
    }
}
