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

    async fn catalog_pages_and_outlines_follow_a_change_made_on_the_other_instance(app) {
        let shop = app.shop().await;
        let postgres = app.state.db.get_database_backend() == DatabaseBackend::Postgres;
        let b = lyceum::start(app.settings.clone()).await.expect("instance B starts");
        let b_url = format!("http://{}", b.addr);
        let on_b = |path: &'static str| {
            let url = format!("{b_url}{path}");
            let client = app.client.clone();
            async move { client.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let title_on_b = || async { on_b("/api/v1/tenants/shop/courses").await["items"][0]["title"].clone() };
        let lessons_on_b = || async {
            on_b("/api/v1/tenants/shop/courses/paid").await["sections"][0]["lessons"].as_array().map_or(0, Vec::len)
        };
        // B caches the catalog page and the outline.
        assert_eq!(title_on_b().await, "Paid course");
        assert_eq!(title_on_b().await, "Paid course");
        let lessons = lessons_on_b().await;
        assert_eq!(lessons_on_b().await, lessons);

        // A renames the course and adds a lesson; this instance (A) shows both at once…
        app.call(reqwest::Method::PATCH, "/api/v1/tenants/shop/courses/paid", Some(&shop.owner), Some(json!({"title": "Renamed"}))).await.expect(200);
        let here = app.get("/api/v1/tenants/shop/courses", None).await.expect(200);
        assert_eq!(here["items"][0]["title"], "Renamed", "the writer's own cache was not dropped");
        let outline = app.get("/api/v1/tenants/shop/courses/paid", None).await.expect(200);
        let section = outline["sections"][0]["id"].as_str().unwrap().to_owned();
        app.post(&format!("/api/v1/tenants/shop/courses/paid/sections/{section}/lessons"), Some(&shop.owner), json!({"title": "Added", "kind": "text"})).await.expect(201);
        let outline = app.get("/api/v1/tenants/shop/courses/paid", None).await.expect(200);
        assert_eq!(outline["sections"][0]["lessons"].as_array().unwrap().len(), lessons + 1);

        // …and B within a second, not when its entries expire (a minute).
        let renamed = seen_within(Duration::from_secs(1), || async { title_on_b().await == "Renamed" }).await;
        let added = seen_within(Duration::from_secs(1), || async { lessons_on_b().await == lessons + 1 }).await;
        if postgres {
            eprintln!("catalog on B renamed after {:?}", renamed.expect("B still lists the old title a second later"));
            eprintln!("outline on B grew after {:?}", added.expect("B still shows the old outline a second later"));
        }
        b.stop().await.unwrap();
    }
}
