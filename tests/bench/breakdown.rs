//! Diagnostics for part 1: what each step of the access handler costs when called directly,
//! in-process, from one task (no HTTP, no contention). Not part of the ratio.

use std::time::Instant;

use lyceum::services::access;
use lyceum::services::accounts;
use lyceum::services::catalog::courses;
use lyceum::services::tenancy::tenants;
use lyceum_e2e::TestApp;
use lyceum_tenants::rbac::{Principal, action, resource};

const CALLS: u32 = 5_000;
/// Calls whose allocations are counted and averaged (caches do housekeeping now and then).
const SAMPLED: u32 = 200;

/// Prints the mean cost of each step `get_course_access` takes for a cached decision.
pub async fn access_steps(app: &TestApp, token: &str) {
    let state = &app.state;
    let user = accounts::authenticate_token(state, token)
        .await
        .expect("token")
        .expect("known token");
    let principal = Principal::User(user.id);
    let tenant = tenants::find_selling(state, "shop").await.expect("tenant");
    // The reads below take the proof the handler holds; asked once, outside the timed loops.
    let proof = state
        .policy
        .authorize::<resource::Access, action::Read>(&state.db, &principal, tenant.domain())
        .await
        .expect("authorized");
    let course = courses::find_cached(state, &proof, &tenant, "paid")
        .await
        .expect("course");

    // Futures are moved (memcpy) every time poem boxes them, so their size is a per-request cost.
    println!(
        "diagnostic: future sizes (bytes): token {}, tenant {}, casbin {}, course {}, decision {}",
        std::mem::size_of_val(&accounts::authenticate_token(state, token)),
        std::mem::size_of_val(&tenants::find_selling(state, "shop")),
        std::mem::size_of_val(&state.policy.authorize::<resource::Access, action::Read>(
            &state.db,
            &principal,
            tenant.domain()
        )),
        std::mem::size_of_val(&courses::find_cached(state, &proof, &tenant, "paid")),
        std::mem::size_of_val(&access::decide(state, &proof, &course)),
    );
    let mut rows = Vec::new();
    // Times `CALLS` calls of a step, after counting the allocations of `SAMPLED` calls.
    macro_rules! step {
        ($name:expr, $call:expr) => {{
            use std::sync::atomic::Ordering;
            crate::alloc_count::COUNT.store(0, Ordering::Relaxed);
            crate::alloc_count::ON.store(true, Ordering::Relaxed);
            for _ in 0..SAMPLED {
                $call;
            }
            crate::alloc_count::ON.store(false, Ordering::Relaxed);
            let allocations =
                crate::alloc_count::COUNT.load(Ordering::Relaxed) as f64 / SAMPLED as f64;
            let t = Instant::now();
            for _ in 0..CALLS {
                $call;
            }
            rows.push(($name, t.elapsed(), allocations));
        }};
    }
    step!(
        "bearer token (sha256 + cache)",
        accounts::authenticate_token(state, token)
            .await
            .expect("token")
    );
    step!(
        "tenants::find_selling (cache)",
        tenants::find_selling(state, "shop").await.expect("tenant")
    );
    step!(
        "policy.authorize (casbin)",
        state
            .policy
            .authorize::<resource::Access, action::Read>(&state.db, &principal, tenant.domain())
            .await
            .expect("authorized")
    );
    step!(
        "courses::find_cached",
        courses::find_cached(state, &proof, &tenant, "paid")
            .await
            .expect("course")
    );
    step!("access::decide (cache)", {
        let d = access::decide(state, &proof, &course)
            .await
            .expect("decision");
        assert!(d.access);
    });

    println!(
        "diagnostic: the access handler's steps called directly ({CALLS} calls each, one task):"
    );
    let mut total = 0.0;
    for (name, elapsed, allocations) in rows {
        let each = elapsed.as_secs_f64() * 1e6 / f64::from(CALLS);
        total += each;
        println!("  {name:<34} {each:>8.1} µs/call, {allocations:.1} allocations");
    }
    println!("  {:<34} {total:>8.1} µs/request", "sum");
}

/// Prints what one whole request costs inside the server (routing, middleware, extractors,
/// handler, response), without TCP or a client: `/healthz` against `/access`.
pub async fn in_process(app: &TestApp, token: &str) {
    use poem::Endpoint;
    let endpoint = lyceum::app::app(app.state.clone());
    let authorization = format!("Bearer {token}");
    let request = |path: &str, auth: bool| {
        let mut builder = poem::Request::builder().uri(path.parse().expect("uri"));
        if auth {
            builder = builder.header("authorization", authorization.as_str());
        }
        builder.finish()
    };
    println!(
        "  future size of one whole request: {} bytes",
        std::mem::size_of_val(&endpoint.get_response(request("/healthz", false)))
    );
    // For profilers (`perf record`): spin on the access request alone for a while first.
    let spin: u64 = crate::env_or("LYCEUM_BENCH_PROFILE_SECS", 0);
    if spin > 0 {
        let path = "/api/v1/tenants/shop/courses/paid/access";
        let until = Instant::now() + std::time::Duration::from_secs(spin);
        let mut calls = 0_u64;
        while Instant::now() < until {
            for _ in 0..1000 {
                endpoint.get_response(request(path, true)).await;
            }
            calls += 1000;
        }
        println!("  profiling spin: {calls} in-process /access calls in {spin} s");
    }
    for (name, path, auth) in [
        ("in-process /healthz", "/healthz", false),
        (
            "in-process /access",
            "/api/v1/tenants/shop/courses/paid/access",
            true,
        ),
        (
            "in-process /access, no token",
            "/api/v1/tenants/shop/courses/paid/access",
            false,
        ),
        (
            "in-process catalog course page",
            "/api/v1/tenants/shop/courses/paid",
            false,
        ),
    ] {
        use std::sync::atomic::Ordering;
        crate::alloc_count::COUNT.store(0, Ordering::Relaxed);
        crate::alloc_count::ON.store(true, Ordering::Relaxed);
        for _ in 0..SAMPLED {
            endpoint.get_response(request(path, auth)).await;
        }
        crate::alloc_count::ON.store(false, Ordering::Relaxed);
        let allocations = crate::alloc_count::COUNT.load(Ordering::Relaxed) as f64 / SAMPLED as f64;
        let t = Instant::now();
        for _ in 0..CALLS {
            let response = endpoint.get_response(request(path, auth)).await;
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
        }
        println!(
            "  {name:<36} {:>6.1} µs/call, {allocations:.1} allocations",
            t.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS)
        );
    }
}
