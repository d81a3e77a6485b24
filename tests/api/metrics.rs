//! Who may read `/metrics`: the configured networks (loopback by default), as the trusted
//! proxies vouch for the client's address, or whoever carries the metrics token.
//!
//! The gate reads no database: these tests run on SQLite only.

use lyceum::config::Settings;
use lyceum_e2e::{Backend, Reply, TestApp, read, spawn_app_with};
use secrecy::SecretString;

const TOKEN: &str = "metrics-token-of-at-least-32-characters";

async fn app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with(Backend::Sqlite, change)
        .await
        .expect("sqlite app")
}

/// `GET /metrics` with, when given, a bearer token and an `X-Forwarded-For` header.
async fn scrape(app: &TestApp, token: Option<&str>, forwarded: Option<&str>) -> Reply {
    let mut req = app.client.get(app.url("/metrics"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(forwarded) = forwarded {
        req = req.header("x-forwarded-for", forwarded);
    }
    read(req.send().await.unwrap()).await
}

#[track_caller]
fn assert_served(reply: Reply) {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply.text.contains("lyceum_build_info{version="),
        "{}",
        reply.text
    );
}

#[track_caller]
fn assert_refused(reply: Reply) {
    assert!(!reply.text.contains("lyceum_"), "{}", reply.text);
    let problem = reply.expect_problem(403);
    assert_eq!(problem["type"], "urn:lyceum:problem:forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_the_allowed_networks_only_the_token_opens_the_metrics() {
    // The test client is 127.0.0.1, outside the only network allowed here.
    let app = app_with(|s| {
        s.metrics.allowed_networks = vec!["192.0.2.0/24".parse().unwrap()];
        s.metrics.token = Some(SecretString::from(TOKEN));
    })
    .await;
    assert_refused(scrape(&app, None, None).await);
    // No proxy is trusted: the header is the client's own word and proves nothing.
    assert_refused(scrape(&app, None, Some("192.0.2.7")).await);
    // A wrong token, of the same length or not, or the right one in the wrong scheme.
    let wrong = format!("{}X", &TOKEN[..TOKEN.len() - 1]);
    assert_refused(scrape(&app, Some(&wrong), None).await);
    assert_refused(scrape(&app, Some("short"), None).await);
    let basic = app
        .client
        .get(app.url("/metrics"))
        .header("authorization", format!("Basic {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_refused(read(basic).await);

    assert_served(scrape(&app, Some(TOKEN), None).await);
    let lower = app
        .client
        .get(app.url("/metrics"))
        .header("authorization", format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_served(read(lower).await);
    // The refusals are counted like any request (by route, as `/metrics` has no operation id).
    let text = scrape(&app, Some(TOKEN), None).await.text;
    assert!(
        text.contains(
            "lyceum_http_requests_total{method=\"GET\",operation=\"metrics\",status=\"403\"} 5"
        ),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_client_it_names_is_judged_and_a_forged_entry_is_not() {
    let app = app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.metrics.allowed_networks = vec!["192.0.2.0/24".parse().unwrap()];
    })
    .await;
    // The proxy (127.0.0.1) says the client is 192.0.2.7: allowed.
    assert_served(scrape(&app, None, Some("192.0.2.7")).await);
    // The client wrote 192.0.2.7 itself and the proxy appended its real address: refused.
    assert_refused(scrape(&app, None, Some("192.0.2.7, 203.0.113.9")).await);
    // Loopback is not allowed here, and the proxy's own address is no client's.
    assert_refused(scrape(&app, None, None).await);
    // A token where none is configured opens nothing, even from an allowed client.
    assert_refused(scrape(&app, Some(TOKEN), Some("192.0.2.7")).await);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_loopback_reads_the_metrics_and_a_wrong_token_does_not() {
    let app = app_with(|_| {}).await;
    assert_served(scrape(&app, None, None).await);
    // A request with a token is judged by the token alone: with none configured, refused.
    assert_refused(scrape(&app, Some(TOKEN), None).await);
    app.stop().await;
}
