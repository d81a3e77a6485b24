//! Rate limits on sign-in, registration and coupon codes, and the bound on argon2.
//!
//! The limiters live in the server's memory, so the database does not matter here: these
//! tests run on SQLite only. Each starts from the documented defaults (the shared test
//! settings raise every limit), except where a lower limit keeps a test short.

use futures_util::future::join_all;
use lyceum::config::{RateLimits, Settings};
use lyceum_e2e::{Backend, Reply, TestApp, read, spawn_app_with};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

async fn app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with(Backend::Sqlite, |s| {
        s.rate_limits = RateLimits::default();
        change(s);
    })
    .await
    .expect("sqlite app")
}

/// `POST path` with a JSON body and, when given, an `X-Forwarded-For` header.
async fn post_from(
    app: &TestApp,
    path: &str,
    body: serde_json::Value,
    forwarded: Option<&str>,
) -> Reply {
    let mut req = app.client.post(app.url(path)).json(&body);
    if let Some(forwarded) = forwarded {
        req = req.header("x-forwarded-for", forwarded);
    }
    read(req.send().await.unwrap()).await
}

async fn sign_in(app: &TestApp, email: &str, password: &str, forwarded: Option<&str>) -> Reply {
    let body = json!({"email": email, "password": password});
    post_from(app, "/api/v1/auth/login", body, forwarded).await
}

/// Asserts a 429 problem with a `Retry-After` of `1..=max` whole seconds.
#[track_caller]
fn assert_rate_limited(reply: Reply, max: u64) {
    let retry_after: u64 = reply
        .headers
        .get("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {}", reply.text))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=max).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    let body = reply.expect_problem(429);
    assert_eq!(body["type"], "urn:lyceum:problem:rate-limited", "{body}");
}

async fn tokens(app: &TestApp) -> u64 {
    lyceum::entities::api_tokens::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_51st_sign_in_in_a_minute_from_one_address_is_refused_before_any_work() {
    let app = app_with(|_| {}).await;
    app.register("ann@example.com").await;
    let hashes = app.state.hashing.finished();
    // 50 attempts at 50 different (unknown) accounts, through both sign-in operations, all
    // at once: the allowance refills one every 1.2 s, and the hashes take longer than that.
    let attempts = join_all((0..50).map(|i| {
        let path = if i % 2 == 0 {
            "/api/v1/auth/login"
        } else {
            "/api/v1/auth/session"
        };
        let body = json!({"email": format!("nobody{i}@example.com"), "password": PASSWORD});
        post_from(&app, path, body, None)
    }));
    // The 51st and 52nd, sent once the 50 are counted (the registration's address key, one
    // sign-in address key, 50 account-and-address keys and 50 account keys), are refused
    // although their password is right; so is the sign-in form.
    let refused = async {
        while app.state.limits.tracked() < 102 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let form = app
            .client
            .post(app.url("/login"))
            .form(&[
                ("email", "ann@example.com"),
                ("password", PASSWORD),
                ("next", "/"),
            ])
            .send();
        let (api, form) = tokio::join!(sign_in(&app, "ann@example.com", PASSWORD, None), form);
        (api, read(form.unwrap()).await)
    };
    let (attempts, (api, page)) = tokio::join!(attempts, refused);
    for reply in attempts {
        reply.expect_problem(401);
    }
    assert_rate_limited(api, 2);
    assert_eq!(page.status, 429, "{}", page.text);
    assert!(
        page.content_type().starts_with("text/html"),
        "{}",
        page.content_type()
    );
    assert!(page.headers.contains_key("retry-after"));
    assert!(page.text.contains("Too many attempts"), "{}", page.text);
    assert!(!page.headers.contains_key("set-cookie"));
    // The refused ones cost no hash and wrote no token.
    assert_eq!(app.state.hashing.finished(), hashes + 50);
    assert_eq!(tokens(&app).await, 1, "only the registration's");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_11th_sign_in_to_one_account_is_refused_whatever_x_forwarded_for_says() {
    let app = app_with(|_| {}).await;
    app.register("ann@example.com").await;
    app.register("bob@example.com").await;
    for i in 0..10 {
        // No proxy is trusted: the header is the client's own word and changes nothing.
        let email = if i % 2 == 0 {
            "ann@example.com"
        } else {
            " ANN@Example.com"
        };
        let forwarded = format!("198.51.100.{i}");
        sign_in(&app, email, "wrong password", Some(&forwarded))
            .await
            .expect_problem(401);
    }
    let reply = sign_in(&app, "ann@example.com", PASSWORD, Some("203.0.113.77")).await;
    // One attempt for this account every 6 s.
    assert_rate_limited(reply, 6);
    // The address is well under its 50: another account still signs in from it.
    sign_in(&app, "bob@example.com", PASSWORD, None)
        .await
        .expect(200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_is_limited_on_its_own() {
    let app = app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.rate_limits.signin_per_address = std::num::NonZeroU32::new(3).unwrap();
    })
    .await;
    let mut n = 0;
    let mut attempt = |forwarded: &'static str| {
        n += 1;
        let email = format!("nobody{n}@example.com");
        let app = &app;
        async move { sign_in(app, &email, PASSWORD, Some(forwarded)).await }
    };
    for _ in 0..3 {
        attempt("198.51.100.1").await.expect_problem(401);
    }
    assert_rate_limited(attempt("198.51.100.1").await, 20);
    // What the client wrote left of the proxy's entry is not believed.
    assert_rate_limited(attempt("192.0.2.200, 198.51.100.1").await, 20);
    // Another client behind the same proxy has its own allowance.
    attempt("198.51.100.2").await.expect_problem(401);
    // IPv6 clients are counted per /64.
    for _ in 0..3 {
        attempt("2001:db8:5:5::1").await.expect_problem(401);
    }
    assert_rate_limited(attempt("2001:db8:5:5:ffff::2").await, 20);
    attempt("2001:db8:5:6::1").await.expect_problem(401);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_21st_registration_in_a_minute_from_one_address_is_refused_and_writes_nothing() {
    let app = app_with(|_| {}).await;
    // 21 at once (the allowance refills one every 3 s): exactly one is refused.
    let registrations = (0..21).map(|i| {
        let app = &app;
        async move {
            let body = json!({"email": format!("user{i}@example.com"), "password": PASSWORD, "name": "User"});
            // The header changes nothing when no proxy is trusted.
            let forwarded = format!("198.51.100.{i}");
            post_from(app, "/api/v1/auth/register", body, Some(&forwarded)).await
        }
    });
    let (mut created, mut refused) = (Vec::new(), Vec::new());
    for (i, reply) in join_all(registrations).await.into_iter().enumerate() {
        if reply.status == 429 {
            refused.push(i);
            assert_rate_limited(reply, 3);
        } else {
            reply.expect(201);
            created.push(i);
        }
    }
    assert_eq!(
        (created.len(), refused.len()),
        (20, 1),
        "refused: {refused:?}"
    );
    let users = lyceum::entities::users::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(users, 20);
    assert_eq!(
        app.state.hashing.finished(),
        20,
        "the refused one hashed nothing"
    );
    assert_eq!(tokens(&app).await, 20);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupon_tries_are_limited_per_buyer_and_per_address() {
    let app = app_with(|_| {}).await;
    let shop = app.shop().await;
    app.post(
        "/api/v1/tenants/shop/coupons",
        Some(&shop.owner),
        json!({"code": "REAL", "percent_off": 100}),
    )
    .await
    .expect(201);
    let (second, _) = app.register("second@example.com").await;
    let (third, _) = app.register("third@example.com").await;
    let try_code = |token: &str, code: String| {
        let (app, token) = (&app, token.to_owned());
        async move {
            let body = json!({"items": [{"course": "paid"}], "coupon": code});
            app.post("/api/v1/tenants/shop/checkout", Some(&token), body)
                .await
        }
    };
    // Back to back: the address's 30 refill one every 2 s, a buyer's 10 one every 6 s.
    for i in 0..10 {
        try_code(&shop.student, format!("GUESS{i}"))
            .await
            .expect_problem(422);
    }
    // The 11th try by this buyer is refused even with a real code, and orders nothing.
    assert_rate_limited(try_code(&shop.student, "REAL".into()).await, 6);
    // That made 11 tries from this address; two more buyers take it to 30, and the 31st
    // is refused though its buyer has tried only 9 times.
    for i in 0..10 {
        try_code(&second, format!("B{i}")).await.expect_problem(422);
    }
    for i in 0..9 {
        try_code(&third, format!("C{i}")).await.expect_problem(422);
    }
    assert_rate_limited(try_code(&third, "REAL".into()).await, 2);
    for buyer in [&shop.student, &third] {
        let orders = app.get("/api/v1/me/orders", Some(buyer)).await.expect(200);
        assert_eq!(orders.as_array().unwrap().len(), 0, "{orders}");
    }
    // A checkout without a code is no coupon try.
    app.checkout(&shop.student, "paid").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_password_hashes_run_at_once_than_configured() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.password_hash_concurrency = std::num::NonZeroUsize::new(2).unwrap();
    })
    .await
    .expect("sqlite app");
    app.register("ann@example.com").await;
    let logins = (0..40).map(|_| sign_in(&app, "ann@example.com", PASSWORD, None));
    for reply in join_all(logins).await {
        reply.expect(200);
    }
    let peak = app.state.hashing.high_water_mark();
    assert!((1..=2).contains(&peak), "{peak} hashes ran at once");
    assert_eq!(app.state.hashing.running(), 0);
    // Operators see the same through /metrics.
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    let gauge = text
        .lines()
        .find_map(|l| l.strip_prefix("lyceum_password_hashes_peak "))
        .unwrap_or_else(|| panic!("no peak gauge in {text}"));
    assert_eq!(gauge.trim().parse::<usize>().unwrap(), peak);
    app.stop().await;
}
