//! Two instances on one database: a change made through one is seen by the other within a
//! second (PostgreSQL `NOTIFY`/`LISTEN`), not when the other's cache entry expires (minutes).
//! On SQLite there is only ever one instance; the test then checks the single-instance path.

use std::time::{Duration, Instant};

use lyceum_e2e::db_tests;
use sea_orm::DatabaseBackend;
use serde_json::{Value, json};

/// Polls `check` every 20 ms for up to `within`; the time it took, or `None`.
async fn seen_within<F, Fut>(within: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() <= within {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

db_tests! {
    async fn a_refund_and_a_suspension_on_one_instance_reach_the_other_within_a_second(app) {
        let shop = app.shop().await;
        let order = app.buy(&shop.student, "paid").await;
        let postgres = app.state.db.get_database_backend() == DatabaseBackend::Postgres;
        // Instance B: the same database, keys and assets; its own caches.
        let b = lyceum::start(app.settings.clone()).await.expect("instance B starts");
        let b_url = format!("http://{}", b.addr);
        let access_on_b = || async {
            let resp = app.client.get(format!("{b_url}/api/v1/tenants/shop/courses/paid/access"))
                .bearer_auth(&shop.student).send().await.unwrap();
            resp.json::<Value>().await.unwrap()["access"] == true
        };
        // B decides, and remembers the decision.
        assert!(access_on_b().await, "the buyer has access on B");
        assert!(access_on_b().await);

        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({})).await.expect(202);
        app.wait_for_status(&shop.student, &order, "refunded").await;
        let closed = seen_within(Duration::from_secs(1), || async { !access_on_b().await }).await;
        if postgres {
            let took = closed.expect("B still grants a refunded course a second after the refund");
            eprintln!("refund on A closed access on B after {took:?}");
        }

        let page_on_b = || async {
            app.client.get(format!("{b_url}/s/shop")).send().await.unwrap().status().as_u16()
        };
        assert_eq!(page_on_b().await, 200);
        app.post("/api/v1/admin/tenants/shop/suspend", Some(&shop.admin), json!({})).await.expect(200);
        let gone = seen_within(Duration::from_secs(1), || async { page_on_b().await == 404 }).await;
        if postgres {
            let took = gone.expect("B still serves a suspended storefront a second later");
            eprintln!("suspension on A closed the storefront on B after {took:?}");
        }
        b.stop().await.unwrap();
    }
}
