//! Diagnostics for part 1: what each step of the access handler costs when called directly,
//! in-process, from one task (no HTTP, no contention). Not part of the ratio.

use std::time::Instant;

use lyceum::services::catalog::courses;
use lyceum::services::orders::access;
use lyceum::services::{accounts, tenants};
use lyceum_e2e::TestApp;
use lyceum_tenants::rbac::{Action, Principal, resource};

const CALLS: u32 = 5_000;

/// Prints the mean cost of each step `get_course_access` takes for a cached decision.
pub async fn access_steps(app: &TestApp, token: &str) {
    let state = &app.state;
    let user = accounts::authenticate_token(state, token)
        .await
        .expect("token")
        .expect("known token");
    let principal = Principal::User(user.id);
    let tenant = tenants::find_selling(state, "shop").await.expect("tenant");
    let course = courses::find_cached(state, &tenant, "paid")
        .await
        .expect("course");

    let mut rows = Vec::new();
    let t = Instant::now();
    for _ in 0..CALLS {
        accounts::authenticate_token(state, token)
            .await
            .expect("token");
    }
    rows.push(("bearer token (sha256 + cache)", t.elapsed()));
    let t = Instant::now();
    for _ in 0..CALLS {
        tenants::find_selling(state, "shop").await.expect("tenant");
    }
    rows.push(("tenants::find_selling (cache)", t.elapsed()));
    let t = Instant::now();
    for _ in 0..CALLS {
        state
            .policy
            .authorize::<resource::Access>(&state.db, &principal, tenant.domain(), Action::Read)
            .await
            .expect("authorized");
    }
    rows.push(("policy.authorize (casbin)", t.elapsed()));
    let t = Instant::now();
    for _ in 0..CALLS {
        courses::find_cached(state, &tenant, "paid")
            .await
            .expect("course");
    }
    rows.push(("courses::find_cached", t.elapsed()));
    let t = Instant::now();
    for _ in 0..CALLS {
        let d = access::decide(state, Some(user.id), &course)
            .await
            .expect("decision");
        assert!(d.access);
    }
    rows.push(("access::decide (cache)", t.elapsed()));

    println!(
        "diagnostic: the access handler's steps called directly ({CALLS} calls each, one task):"
    );
    let mut total = 0.0;
    for (name, elapsed) in rows {
        let each = elapsed.as_secs_f64() * 1e6 / f64::from(CALLS);
        total += each;
        println!("  {name:<34} {each:>8.1} µs/call");
    }
    println!("  {:<34} {total:>8.1} µs/request", "sum");
}

/// Prints what one whole request costs inside the server (routing, middleware, extractors,
/// handler, response), without TCP or a client: `/healthz` against `/access`.
pub async fn in_process(app: &TestApp, token: &str) {
    use poem::Endpoint;
    let endpoint = lyceum::http::app(app.state.clone());
    let authorization = format!("Bearer {token}");
    let request = |path: &str, auth: bool| {
        let mut builder = poem::Request::builder().uri(path.parse().expect("uri"));
        if auth {
            builder = builder.header("authorization", authorization.as_str());
        }
        builder.finish()
    };
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
            "  {name:<36} {:>6.1} µs/call",
            t.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS)
        );
    }
}
