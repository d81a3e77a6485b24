//! The walk a client written from CONTRACT.md takes.

use lyceum::entities::{courses, tenants};
use lyceum_e2e::db_tests;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

db_tests! {
    async fn instructor_to_public_catalog(app) {
        // An instructor registers and applies for a storefront.
        let (instructor, _) = app.register("ivan@example.com").await;
        let me = app.get("/api/v1/me", Some(&instructor)).await.expect(200);
        assert_eq!(me["email"], "ivan@example.com");
        let applied = app
            .post("/api/v1/tenants", Some(&instructor), json!({"slug": "rust-school", "name": "Rust School", "currency": "USD"}))
            .await
            .expect(201);
        assert_eq!(applied["slug"], "rust-school");
        assert_eq!(applied["status"], "pending");

        // A pending storefront sells nothing, but its owner can build courses.
        app.get("/api/v1/tenants/rust-school/courses", None).await.expect_problem(404);
        let lesson = app.course("rust-school", &instructor, "rust-101", 4900).await;
        app.post("/api/v1/tenants/rust-school/courses/rust-101/publish", Some(&instructor), json!({}))
            .await
            .expect(200);
        app.get("/api/v1/tenants/rust-school/courses", None).await.expect_problem(404);

        // The owner cannot approve their own storefront; an admin made with the CLI can,
        // while the server runs.
        app.post("/api/v1/admin/tenants/rust-school/approve", Some(&instructor), json!({}))
            .await
            .expect_problem(403);
        let admin = app.admin("root@example.com").await;
        let approved = app
            .post("/api/v1/admin/tenants/rust-school/approve", Some(&admin), json!({}))
            .await
            .expect(200);
        assert_eq!(approved["slug"], "rust-school");
        assert_eq!(approved["status"], "active");

        // Now the course is public, with its free-preview lesson.
        let page = app.get("/api/v1/tenants/rust-school/courses?q=RUST-101", None).await.expect(200);
        assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
        assert_eq!(page["items"][0]["price"], json!({"amount": 4900, "currency": "USD"}));
        let detail = app.get("/api/v1/tenants/rust-school/courses/rust-101", None).await.expect(200);
        let first = &detail["sections"][0]["lessons"][0];
        assert_eq!(first["id"], lesson.as_str());
        assert_eq!(first["free_preview"], true);
        assert!(first.get("body").is_none(), "the public curriculum hides lesson bodies: {first}");

        // Another instructor cannot change it; nobody anonymous can create anything.
        let (other, _) = app.register("olga@example.com").await;
        app.post("/api/v1/tenants", Some(&other), json!({"slug": "olga", "name": "Olga", "currency": "EUR"}))
            .await
            .expect(201);
        app.call(
            reqwest::Method::PATCH,
            "/api/v1/tenants/rust-school/courses/rust-101",
            Some(&other),
            Some(json!({"title": "Hijacked"})),
        )
        .await
        .expect_problem(403);
        app.post("/api/v1/tenants/rust-school/courses/rust-101/unpublish", Some(&other), json!({}))
            .await
            .expect_problem(403);
        app.post("/api/v1/tenants", None, json!({"slug": "anon", "name": "Anon", "currency": "USD"}))
            .await
            .expect_problem(401);
        app.post(
            "/api/v1/tenants/rust-school/courses",
            None,
            json!({"slug": "anon", "title": "Anon", "price": {"amount": 0, "currency": "USD"}}),
        )
        .await
        .expect_problem(401);

        // The database holds exactly what the API said.
        let db = &app.state.db;
        let tenant = tenants::Entity::find().filter(tenants::Column::Slug.eq("rust-school")).one(db).await.unwrap().unwrap();
        assert_eq!(tenant.status.as_str(), "active");
        assert!(tenant.approved_at.is_some());
        let course = courses::Entity::find().filter(courses::Column::TenantId.eq(tenant.id)).one(db).await.unwrap().unwrap();
        assert_eq!((course.title.as_str(), course.published, course.price_amount), ("Course rust-101", true, 4900));
        assert!(tenants::Entity::find().filter(tenants::Column::Slug.eq("anon")).one(db).await.unwrap().is_none());
    }

    async fn suspended_storefronts_disappear_and_fee_plans_apply(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("shop", "owner@example.com", &admin).await;
        app.course("shop", &owner, "one", 100).await;
        app.post("/api/v1/tenants/shop/courses/one/publish", Some(&owner), json!({})).await.expect(200);
        app.get("/api/v1/tenants/shop/courses", None).await.expect(200);

        let fee = app
            .call(reqwest::Method::PUT, "/api/v1/admin/tenants/shop/fee-plan", Some(&admin), Some(json!({"fee_bps": 750})))
            .await
            .expect(200);
        assert_eq!(fee["fee_bps"], 750);
        app.call(reqwest::Method::PUT, "/api/v1/admin/tenants/shop/fee-plan", Some(&admin), Some(json!({"fee_bps": 10001})))
            .await
            .expect_problem(422);

        let suspended = app.post("/api/v1/admin/tenants/shop/suspend", Some(&admin), json!({})).await.expect(200);
        assert_eq!(suspended["status"], "suspended");
        app.get("/api/v1/tenants/shop/courses", None).await.expect_problem(404);
        app.get("/api/v1/tenants/shop/courses/one", None).await.expect_problem(404);
        let pending = app.get("/api/v1/admin/tenants?status=suspended", Some(&admin)).await.expect(200);
        assert_eq!(pending.as_array().unwrap().len(), 1);
        app.get("/api/v1/admin/tenants?status=bogus", Some(&admin)).await.expect_problem(422);
    }

    async fn slugs_and_accounts_are_unique(app) {
        let (a, _) = app.register("a@example.com").await;
        app.post("/api/v1/auth/register", None, json!({"email": "A@Example.com", "password": "another password", "name": "Dup"}))
            .await
            .expect_problem(409);
        app.post("/api/v1/tenants", Some(&a), json!({"slug": "taken", "name": "One", "currency": "USD"})).await.expect(201);
        app.post("/api/v1/tenants", Some(&a), json!({"slug": "taken", "name": "Two", "currency": "USD"}))
            .await
            .expect_problem(409);
        app.course("taken", &a, "cc", 0).await;
        app.post("/api/v1/tenants/taken/courses", Some(&a), json!({"slug": "cc", "title": "Again", "price": {"amount": 0, "currency": "USD"}}))
            .await
            .expect_problem(409);
        // Wrong credentials are 401, with the same answer for an unknown address.
        let wrong = app.post("/api/v1/auth/login", None, json!({"email": "a@example.com", "password": "nope nope nope"})).await.expect_problem(401);
        let unknown = app.post("/api/v1/auth/login", None, json!({"email": "who@example.com", "password": "nope nope nope"})).await.expect_problem(401);
        assert_eq!(wrong["detail"], unknown["detail"]);
    }
}
