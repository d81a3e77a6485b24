//! Storefront pages: found by Host or path; only active storefronts show. And the demo seed.

use lyceum::entities::{courses, tenants};
use lyceum_e2e::{db_tests, read};
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

db_tests! {
    async fn storefronts_are_found_by_host_and_path(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        app.course("school", &owner, "visible", 1999).await;
        app.post("/api/v1/tenants/school/courses/visible/publish", Some(&owner), json!({})).await.expect(200);
        app.course("school", &owner, "hidden", 0).await;
        // A domain that was verified (tests/api/web.rs walks the DNS proof) is served.
        app.call(Method::PATCH, "/api/v1/tenants/school", Some(&owner), Some(json!({"custom_domain": "learn.example.org"}))).await.expect(200);
        tenants::Entity::update_many()
            .col_expr(tenants::Column::CustomDomain, sea_orm::sea_query::Expr::value("learn.example.org"))
            .col_expr(tenants::Column::DomainVerifiedAt, sea_orm::sea_query::Expr::value(chrono::Utc::now()))
            .exec(&app.state.db)
            .await
            .unwrap();

        let page = |host: &'static str, path: &'static str| {
            app.client.get(app.url(path)).header("host", host).send()
        };
        for (host, path) in [("school.lyceum.test", "/"), ("learn.example.org:8080", "/"), ("127.0.0.1", "/s/school")] {
            let html = read(page(host, path).await.unwrap()).await;
            assert_eq!(html.status, 200, "{host}{path}");
            assert!(html.text.contains("Course visible") && html.text.contains("19.99 USD"), "{host}{path}: {}", html.text);
            assert!(!html.text.contains("Course hidden"), "drafts never show");
        }
        let course = read(page("school.lyceum.test", "/courses/visible").await.unwrap()).await;
        assert!(course.text.contains("Free preview"), "{}", course.text);
        assert_eq!(read(page("nobody.lyceum.test", "/").await.unwrap()).await.status, 404);
        assert_eq!(read(page("school.lyceum.test", "/courses/hidden").await.unwrap()).await.status, 404);
        let index = read(page("lyceum.test", "/").await.unwrap()).await;
        assert!(index.text.contains("/s/school") || index.text.contains("&#x2f;s&#x2f;school"), "{}", index.text);

        app.post("/api/v1/admin/tenants/school/suspend", Some(&admin), json!({})).await.expect(200);
        assert_eq!(read(page("school.lyceum.test", "/").await.unwrap()).await.status, 404);
        assert_eq!(read(page("127.0.0.1", "/s/school").await.unwrap()).await.status, 404);
    }

    async fn the_demo_is_seeded_once_and_sells_three_courses(app) {
        let first = lyceum::demo::seed(&app.state).await.unwrap();
        assert!(first.seeded);
        let second = lyceum::demo::seed(&app.state).await.unwrap();
        assert!(!second.seeded);
        assert_eq!(tenants::Entity::find().count(&app.state.db).await.unwrap(), 1);
        assert_eq!(courses::Entity::find().count(&app.state.db).await.unwrap(), 3);
        let page = app.get("/api/v1/tenants/demo/courses", None).await.expect(200);
        let prices: Vec<i64> = page["items"].as_array().unwrap().iter().map(|c| c["price"]["amount"].as_i64().unwrap()).collect();
        assert_eq!(prices.len(), 3);
        assert_eq!(prices.iter().filter(|p| **p == 0).count(), 1, "one free course, two paid");
        for course in page["items"].as_array().unwrap() {
            let detail = app.get(&format!("/api/v1/tenants/demo/courses/{}", course["slug"].as_str().unwrap()), None).await.expect(200);
            let lessons: Vec<_> = detail["sections"].as_array().unwrap().iter().flat_map(|s| s["lessons"].as_array().unwrap().clone()).collect();
            assert!(detail["sections"].as_array().unwrap().len() >= 2 && lessons.iter().any(|l| l["free_preview"] == true));
        }
        let login = app.post("/api/v1/auth/login", None, json!({"email": "instructor@demo.lyceum.test", "password": "demo-instructor-pass"})).await.expect(200);
        let me = app.get("/api/v1/me", login["token"].as_str()).await.expect(200);
        assert!(me["roles"].as_array().unwrap().iter().any(|r| r["role"] == "owner" && r["tenant"] == "demo"));

        // Every kind of lesson has real material: Markdown with code, a quiz, a PDF, a video.
        let instructor = login["token"].as_str().unwrap();
        let lesson_id = |detail: &serde_json::Value, title: &str| -> String {
            detail["sections"].as_array().unwrap().iter().flat_map(|s| s["lessons"].as_array().unwrap().clone()).find(|l| l["title"] == title).unwrap()["id"].as_str().unwrap().to_owned()
        };
        let free = app.get("/api/v1/tenants/demo/courses/welcome-to-rust", None).await.expect(200);
        let page = app.get(&format!("/api/v1/tenants/demo/lessons/{}", lesson_id(&free, "Hello, cargo")), None).await.expect(200);
        assert!(page["html"].as_str().unwrap().contains("<code class=\"language-rust\">"), "{page}");
        let quiz_page = app.get(&format!("/api/v1/tenants/demo/lessons/{}", lesson_id(&free, "Variables and types")), None).await.expect(200);
        assert_eq!(quiz_page["quiz"]["questions"], 4, "{quiz_page}");
        let paid = app.get("/api/v1/tenants/demo/courses/async-rust-in-practice", None).await.expect(200);
        let handout = app.get("/api/v1/tenants/demo/studio/courses/async-rust-in-practice", Some(instructor)).await.expect(200);
        let file = handout["sections"].as_array().unwrap().iter().flat_map(|s| s["lessons"].as_array().unwrap().clone()).find(|l| l["title"] == "Graceful shutdown").unwrap();
        assert_eq!(file["asset_content_type"], "application/pdf", "{paid}");
        let video = lesson_id(&free, "Installing Rust");
        match lyceum::services::media::transcode::Ffmpeg::locate() {
            Ok(_) => {
                let status = app.transcoded("demo", &video, instructor).await;
                assert_eq!(status["status"], "ready", "{status}");
                assert_eq!(status["renditions"].as_array().unwrap().len(), 2, "360p and 720p from 720p: {status}");
                let link = app.get(&format!("/api/v1/tenants/demo/lessons/{video}/content"), None).await.expect(200);
                assert!(link["hls_url"].is_string(), "{link}");
            }
            Err(_) => eprintln!("SKIPPED: ffmpeg not found; the demo's video lesson was seeded without a video"),
        }
    }
}
