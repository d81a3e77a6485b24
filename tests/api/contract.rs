//! The API keeps to its own OpenAPI document: generated clients are built from it.
//! Responses carry no `null` the document does not declare, request bodies of the wrong JSON
//! type are refused, and the statuses the server gives are documented.

use lyceum::entities::{tenants, users};
use lyceum_e2e::{TestApp, db_tests, read};
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

/// Every `null` in `value` must sit where `schema` (resolved in `doc`) says `nullable`.
fn assert_nulls_declared(doc: &Value, schema: &Value, value: &Value, at: &str) {
    if let Some(name) = schema["$ref"].as_str() {
        let name = name.rsplit('/').next().unwrap();
        return assert_nulls_declared(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(parts) = schema["allOf"].as_array() {
        // poem-openapi writes a described reference as `allOf: [$ref, {description}]`.
        let nullable = schema["nullable"] == true || parts.iter().any(|p| p["nullable"] == true);
        if value.is_null() {
            assert!(
                nullable,
                "{at} is null but the document does not say nullable"
            );
        }
        return parts
            .iter()
            .for_each(|p| assert_nulls_declared(doc, p, value, at));
    }
    match value {
        Value::Null => assert!(
            schema["nullable"] == true,
            "{at} is null but the document says {schema}"
        ),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| {
            assert_nulls_declared(doc, &schema["items"], v, &format!("{at}[{i}]"))
        }),
        Value::Object(fields) => fields.iter().for_each(|(k, v)| {
            assert_nulls_declared(doc, &schema["properties"][k], v, &format!("{at}.{k}"))
        }),
        _ => {}
    }
}

/// The 200/201 schema of `method path` in the served document.
fn success_schema<'d>(doc: &'d Value, method: &str, path: &str) -> &'d Value {
    let responses = &doc["paths"][path][method]["responses"];
    let ok = if responses["201"].is_object() {
        &responses["201"]
    } else {
        &responses["200"]
    };
    let (_, media) = ok["content"].as_object().unwrap().iter().next().unwrap();
    &media["schema"]
}

async fn users_and_tenants(app: &TestApp) -> (u64, u64) {
    let db = &app.state.db;
    (
        users::Entity::find().count(db).await.unwrap(),
        tenants::Entity::find().count(db).await.unwrap(),
    )
}

db_tests! {
    async fn absent_optional_fields_are_omitted_not_null(app) {
        let doc = app.get("/api/openapi.json", None).await.expect(200);
        let (token, _) = app.register("writer@example.com").await;

        // A storefront just applied for has no fee plan, no custom domain, no approval yet.
        let tenant = app.post("/api/v1/tenants", Some(&token), json!({"slug": "school", "name": "School", "currency": "USD"}))
            .await
            .expect(201);
        for absent in ["fee_bps", "custom_domain", "approved_at"] {
            assert!(tenant.get(absent).is_none(), "{absent} should be absent: {tenant}");
        }
        assert_nulls_declared(&doc, success_schema(&doc, "post", "/api/v1/tenants"), &tenant, "tenant");

        // A platform-wide role has no tenant.
        let me = app.get("/api/v1/me", Some(&token)).await.expect(200);
        let roles = me["roles"].as_array().unwrap();
        assert!(roles.iter().any(|r| r["tenant"] == "school"), "{me}");
        assert!(roles.iter().any(|r| r.get("tenant").is_none()), "{me}");
        assert_nulls_declared(&doc, success_schema(&doc, "get", "/api/v1/me"), &me, "me");

        // A lifetime, unpublished course.
        let admin = app.admin("root@example.com").await;
        app.post("/api/v1/admin/tenants/school/approve", Some(&admin), json!({})).await.expect(200);
        let course = app.post("/api/v1/tenants/school/courses", Some(&token), json!({"slug": "c1", "title": "C", "price": {"amount": 0, "currency": "USD"}}))
            .await
            .expect(201);
        assert!(course.get("access_days").is_none() && course.get("published_at").is_none(), "{course}");
        let path = "/api/v1/tenants/{tenant}/courses";
        assert_nulls_declared(&doc, success_schema(&doc, "post", path), &course, "course");
        let page = app.get("/api/v1/tenants/school/studio/courses", Some(&token)).await.expect(200);
        assert_nulls_declared(&doc, success_schema(&doc, "get", "/api/v1/tenants/{tenant}/studio/courses"), &page, "studio");

        // The access answer keeps its nulls (players read them), and the document says so.
        app.course("school", &token, "c2", 0).await;
        app.post("/api/v1/tenants/school/courses/c2/publish", Some(&token), json!({})).await.expect(200);
        let access = app.get("/api/v1/tenants/school/courses/c2/access", None).await.expect(200);
        assert!(access.get("expires_at").is_some_and(Value::is_null), "{access}");
        assert_nulls_declared(&doc, success_schema(&doc, "get", "/api/v1/tenants/{tenant}/courses/{course}/access"), &access, "access");
    }

    async fn a_body_of_the_wrong_json_type_is_refused_and_writes_nothing(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        let before = users_and_tenants(&app).await;

        // poem-openapi alone would store these as the names "0" and "true".
        for name in [json!(0.0), json!(true)] {
            let p = app.call(Method::PATCH, "/api/v1/tenants/school", Some(&owner), Some(json!({"name": name})))
                .await
                .expect_problem(400);
            assert!(p["detail"].as_str().unwrap().contains("`name`"), "{p}");
        }
        let tenant = app.get("/api/v1/tenants/school", Some(&owner)).await.expect(200);
        assert_eq!(tenant["name"], "School");

        app.post("/api/v1/auth/register", None, json!({"email": "n@example.com", "password": "correct horse battery", "name": 7}))
            .await
            .expect_problem(400);
        app.post("/api/v1/tenants", Some(&owner), json!({"slug": "other", "name": "Other", "currency": 840}))
            .await
            .expect_problem(400);
        // Nested fields and array items are checked too.
        let p = app.post("/api/v1/tenants/school/courses", Some(&owner), json!({"slug": "c1", "title": "C", "price": {"amount": 1, "currency": 840}}))
            .await
            .expect_problem(400);
        assert!(p["detail"].as_str().unwrap().contains("`price.currency`"), "{p}");
        assert_eq!(users_and_tenants(&app).await, before);
        assert_eq!(app.get("/api/v1/tenants/school/studio/courses", Some(&owner)).await.expect(200), json!([]));

        // An optional field is left out, not sent as `null` (the document does not allow it).
        app.call(Method::PATCH, "/api/v1/tenants/school", Some(&owner), Some(json!({"name": "Renamed", "custom_domain": null})))
            .await
            .expect_problem(400);
        assert_eq!(app.get("/api/v1/tenants/school", Some(&owner)).await.expect(200)["name"], "School");
        // Well-typed bodies still pass.
        app.call(Method::PATCH, "/api/v1/tenants/school", Some(&owner), Some(json!({"name": "Renamed"})))
            .await
            .expect(200);
        assert_eq!(app.get("/api/v1/tenants/school", Some(&owner)).await.expect(200)["name"], "Renamed");
    }

    async fn unsupported_media_type_is_a_documented_problem(app) {
        let doc = app.get("/api/openapi.json", None).await.expect(200);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op["requestBody"].is_object() {
                    assert!(op["responses"]["415"].is_object(), "{method} {path} does not document 415");
                }
            }
        }
        let (token, _) = app.register("writer@example.com").await;
        let resp = app.client.post(app.url("/api/v1/tenants")).bearer_auth(&token).header("content-type", "text/plain")
            .body("slug=school").send().await.unwrap();
        read(resp).await.expect_problem(415);
        assert_eq!(users_and_tenants(&app).await.1, 0);
    }
}
