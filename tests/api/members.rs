//! Staff roles inside a storefront.

use lyceum_e2e::db_tests;
use reqwest::Method;
use serde_json::json;

db_tests! {
    async fn editors_build_graders_read_and_only_owners_manage_staff(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        let (editor, editor_id) = app.register("editor@example.com").await;
        let (grader, _) = app.register("grader@example.com").await;
        app.add_staff("school", &owner, "editor@example.com", "editor").await;
        app.add_staff("school", &owner, "grader@example.com", "grader").await;
        app.post("/api/v1/tenants/school/members", Some(&owner), json!({"email": "grader@example.com", "role": "owner"})).await.expect_problem(422);

        let members = app.get("/api/v1/tenants/school/members", Some(&owner)).await.expect(200);
        let roles: Vec<_> = members.as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap().to_owned()).collect();
        assert_eq!(roles, ["owner", "editor", "grader"]);
        let me = app.get("/api/v1/me", Some(&editor)).await.expect(200);
        assert!(me["roles"].as_array().unwrap().iter().any(|r| r["role"] == "editor" && r["tenant"] == "school"), "{me}");

        app.course("school", &editor, "by-editor", 0).await;
        app.post("/api/v1/tenants/school/courses/by-editor/publish", Some(&editor), json!({})).await.expect(200);
        app.get("/api/v1/tenants/school/studio/courses", Some(&grader)).await.expect(200);
        app.post("/api/v1/tenants/school/courses", Some(&grader), json!({"slug": "g", "title": "G", "price": {"amount": 0, "currency": "USD"}}))
            .await
            .expect_problem(403);
        app.post("/api/v1/tenants/school/members", Some(&editor), json!({"email": "grader@example.com", "role": "editor"})).await.expect_problem(403);
        app.call(Method::PATCH, "/api/v1/tenants/school", Some(&editor), Some(json!({"name": "Mine"}))).await.expect_problem(403);

        // Removing the editor takes effect at once.
        app.call(Method::DELETE, &format!("/api/v1/tenants/school/members/{editor_id}"), Some(&owner), None).await.expect(204);
        app.post("/api/v1/tenants/school/courses", Some(&editor), json!({"slug": "late", "title": "Late", "price": {"amount": 0, "currency": "USD"}}))
            .await
            .expect_problem(403);
        app.call(Method::DELETE, &format!("/api/v1/tenants/school/members/{editor_id}"), Some(&owner), None).await.expect_problem(404);
        let owner_id = app.get("/api/v1/me", Some(&owner)).await.expect(200)["id"].as_str().unwrap().to_owned();
        app.call(Method::DELETE, &format!("/api/v1/tenants/school/members/{owner_id}"), Some(&owner), None).await.expect_problem(409);

        // Owners change their storefront's settings; a domain is parsed, and served only once
        // its owner proves control of it (web.rs), so asking for one proves and blocks nothing.
        let t = app.call(Method::PATCH, "/api/v1/tenants/school", Some(&owner), Some(json!({"name": "New Name", "custom_domain": "Courses.Example.org"}))).await.expect(200);
        assert_eq!((t["name"].as_str(), t["custom_domain"].as_str()), (Some("New Name"), None));
        assert_eq!(t["domain_verification"]["domain"], "courses.example.org");
        app.call(Method::PATCH, "/api/v1/tenants/school", Some(&owner), Some(json!({"custom_domain": "not a domain"}))).await.expect_problem(422);
        let other = app.active_tenant("other", "other@example.com", &admin).await;
        let o = app.call(Method::PATCH, "/api/v1/tenants/other", Some(&other), Some(json!({"custom_domain": "courses.example.org"}))).await.expect(200);
        assert!(o["custom_domain"].is_null(), "{o}");
    }
}
