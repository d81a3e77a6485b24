//! Bad input is answered 4xx problem+json, never 5xx, and writes nothing.

use lyceum::entities::{courses, tenants, users};
use lyceum_e2e::{Oversized, TestApp, db_tests, read};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

async fn counts(app: &TestApp) -> (u64, u64, u64) {
    let db = &app.state.db;
    (
        users::Entity::find().count(db).await.unwrap(),
        tenants::Entity::find().count(db).await.unwrap(),
        courses::Entity::find().count(db).await.unwrap(),
    )
}

db_tests! {
    async fn bad_input_is_refused_and_nothing_is_written(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        let before = counts(&app).await;
        let create = "/api/v1/tenants/school/courses";
        let course = |slug: &str, amount: i64, currency: &str| {
            json!({"slug": slug, "title": "T", "price": {"amount": amount, "currency": currency}})
        };

        let p = app.post(create, Some(&owner), course("ok-slug", 100, "XYZ")).await.expect_problem(422);
        assert_eq!(p["errors"][0]["field"], "price.currency", "{p}");
        let p = app.post(create, Some(&owner), course("ok-slug", -1, "USD")).await.expect_problem(422);
        assert_eq!(p["errors"][0]["field"], "price.amount", "{p}");
        let p = app.post(create, Some(&owner), course("has space", 100, "USD")).await.expect_problem(422);
        assert_eq!(p["errors"][0]["field"], "slug", "{p}");
        // A real currency, but not the storefront's.
        app.post(create, Some(&owner), course("ok-slug", 100, "EUR")).await.expect_problem(422);
        // Out-of-range access period, empty title.
        app.post(create, Some(&owner), json!({"slug": "x1", "title": "T", "price": {"amount": 1, "currency": "USD"}, "access_days": 0}))
            .await
            .expect_problem(422);
        app.post(create, Some(&owner), json!({"slug": "x1", "title": "  ", "price": {"amount": 1, "currency": "USD"}}))
            .await
            .expect_problem(422);
        // Missing and mistyped fields.
        app.post(create, Some(&owner), json!({"slug": "x1"})).await.expect_problem(400);
        app.post(create, Some(&owner), json!({"slug": "x1", "title": "T", "price": {"amount": "lots", "currency": "USD"}}))
            .await
            .expect_problem(400);

        // Malformed JSON.
        let resp = app.client.post(app.url(create)).bearer_auth(&owner).header("content-type", "application/json")
            .body("{\"slug\": ").send().await.unwrap();
        read(resp).await.expect_problem(400);

        // 10 MB of JSON, declared and streamed without a length.
        let huge = format!("{{\"slug\": \"big\", \"title\": \"{}\", \"price\": {{\"amount\": 1, \"currency\": \"USD\"}}}}", "x".repeat(10 * 1024 * 1024));
        lyceum_e2e::send_oversized(&app, "POST", create, &owner, "application/json", Oversized::Declared(huge.len())).await.expect_problem(413);
        // An ordinary client that writes the whole body before reading gets the answer too.
        let resp = app.client.post(app.url(create)).bearer_auth(&owner).header("content-type", "application/json")
            .body(huge.clone()).send().await.unwrap();
        read(resp).await.expect_problem(413);
        let reply = lyceum_e2e::send_oversized(&app, "POST", create, &owner, "application/json", Oversized::Chunked(10 * 1024 * 1024)).await;
        assert!(reply.status.is_client_error(), "{} {}", reply.status, reply.text);
        assert_eq!(reply.content_type(), "application/problem+json");
        // A chunked upload over the limit is cut off too.
        let lesson = app.course("school", &owner, "with-asset", 0).await;
        let upload = format!("/api/v1/tenants/school/lessons/{lesson}/asset");
        let before_upload = counts(&app).await;
        lyceum_e2e::send_oversized(&app, "PUT", &upload, &owner, "application/pdf", Oversized::Chunked(6 * 1024 * 1024)).await.expect_problem(413);

        // Bad registrations and applications.
        app.post("/api/v1/auth/register", None, json!({"email": "not-an-email", "password": "long enough", "name": "N"})).await.expect_problem(422);
        app.post("/api/v1/auth/register", None, json!({"email": "n@example.com", "password": "short", "name": "N"})).await.expect_problem(422);
        app.post("/api/v1/tenants", Some(&owner), json!({"slug": "Bad Slug", "name": "N", "currency": "USD"})).await.expect_problem(422);
        app.post("/api/v1/tenants", Some(&owner), json!({"slug": "fine", "name": "N", "currency": "ABC"})).await.expect_problem(422);
        app.post("/api/v1/tenants", Some(&owner), json!({"slug": "fine", "name": "N", "currency": "XAU"})).await.expect_problem(422);

        // Bad catalog queries.
        app.get("/api/v1/tenants/school/courses?limit=0", None).await.expect_problem(422);
        app.get("/api/v1/tenants/school/courses?limit=1000", None).await.expect_problem(422);
        app.get("/api/v1/tenants/school/courses?cursor=garbage!", None).await.expect_problem(422);
        app.get("/api/v1/tenants/school/courses?limit=abc", None).await.expect_problem(400);

        assert_eq!(counts(&app).await, before_upload, "refused requests must not write");
        let row = lyceum::entities::lessons::Entity::find_by_id(lesson.parse::<uuid::Uuid>().unwrap()).one(&app.state.db).await.unwrap().unwrap();
        assert!(row.asset_key.is_none(), "a refused upload leaves no asset");
        let _ = before;
    }
}
