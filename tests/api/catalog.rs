//! The catalog: pagination, search, curriculum order, assets.

use lyceum::entities::lessons;
use lyceum_e2e::{db_tests, read};
use object_store::ObjectStoreExt;
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::json;
use uuid::Uuid;

db_tests! {
    async fn pages_walk_every_published_course_once(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        for i in 0..5 {
            let slug = format!("course-{i}");
            app.course("school", &owner, &slug, 100 * i).await;
            app.post(&format!("/api/v1/tenants/school/courses/{slug}/publish"), Some(&owner), json!({})).await.expect(200);
        }
        // A draft never shows.
        app.course("school", &owner, "draft", 100).await;

        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = app.get(&format!("/api/v1/tenants/school/courses?limit=2&cursor={cursor}"), None).await.expect(200);
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2);
            seen.extend(items.iter().map(|c| c["slug"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(seen, (0..5).map(|i| format!("course-{i}")).collect::<Vec<_>>());

        let found = app.get("/api/v1/tenants/school/courses?q=COURSE-3", None).await.expect(200);
        assert_eq!(found["items"].as_array().unwrap().len(), 1);
        // LIKE wildcards in the query are literal.
        let none = app.get("/api/v1/tenants/school/courses?q=%25", None).await.expect(200);
        assert_eq!(none["items"].as_array().unwrap().len(), 0);
        app.get("/api/v1/tenants/school/courses/draft", None).await.expect_problem(404);
    }

    async fn sections_and_lessons_keep_the_order_they_are_given(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        app.course("school", &owner, "cc", 0).await;
        let base = "/api/v1/tenants/school/courses/cc";
        let s2 = app.post(&format!("{base}/sections"), Some(&owner), json!({"title": "Second"})).await.expect(201)["id"].as_str().unwrap().to_owned();
        let detail = app.get("/api/v1/tenants/school/studio/courses/cc", Some(&owner)).await.expect(200);
        let s1 = detail["sections"][0]["id"].as_str().unwrap().to_owned();
        let l1 = detail["sections"][0]["lessons"][0]["id"].as_str().unwrap().to_owned();
        let l2 = app.post(&format!("{base}/sections/{s1}/lessons"), Some(&owner), json!({"title": "Two", "kind": "video"})).await.expect(201)["id"].as_str().unwrap().to_owned();

        app.call(Method::PUT, &format!("{base}/sections/order"), Some(&owner), Some(json!({"ids": [s2, s1]}))).await.expect(204);
        app.call(Method::PUT, &format!("{base}/sections/{s1}/lessons/order"), Some(&owner), Some(json!({"ids": [l2, l1]}))).await.expect(204);
        let detail = app.get("/api/v1/tenants/school/studio/courses/cc", Some(&owner)).await.expect(200);
        assert_eq!(detail["sections"][0]["id"], s2.as_str());
        assert_eq!(detail["sections"][1]["lessons"][0]["id"], l2.as_str());
        assert_eq!(detail["sections"][1]["lessons"][1]["body"], "Hello");

        // Not a permutation: refused, order unchanged.
        app.call(Method::PUT, &format!("{base}/sections/order"), Some(&owner), Some(json!({"ids": [s1]}))).await.expect_problem(422);
        app.call(Method::PUT, &format!("{base}/sections/order"), Some(&owner), Some(json!({"ids": [s1, s1]}))).await.expect_problem(422);
        app.call(Method::PUT, &format!("{base}/sections/order"), Some(&owner), Some(json!({"ids": [s1, Uuid::now_v7()]}))).await.expect_problem(422);
        let again = app.get("/api/v1/tenants/school/studio/courses/cc", Some(&owner)).await.expect(200);
        assert_eq!(again["sections"][0]["id"], s2.as_str());
        // A lesson in a section of another course is not found.
        app.post(&format!("/api/v1/tenants/school/courses/cc/sections/{}/lessons", Uuid::now_v7()), Some(&owner), json!({"title": "X", "kind": "text"}))
            .await
            .expect_problem(404);
        app.post(&format!("{base}/sections/{s1}/lessons"), Some(&owner), json!({"title": "X", "kind": "audio"})).await.expect_problem(422);
    }

    async fn assets_are_stored_with_their_type_and_replaced(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        let lesson = app.course("school", &owner, "cc", 0).await;
        let path = format!("/api/v1/tenants/school/lessons/{lesson}/asset");
        let put = |bytes: Vec<u8>, ct: &'static str| {
            app.client.put(app.url(&path)).bearer_auth(&owner).header("content-type", ct).body(bytes).send()
        };
        read(put(b"first version".to_vec(), "text/plain").await.unwrap()).await.expect(204);
        let first_key = lessons::Entity::find_by_id(lesson.parse::<Uuid>().unwrap()).one(&app.state.db).await.unwrap().unwrap().asset_key.unwrap();

        // A text lesson takes PDF (see tests/api/content.rs for what each kind takes).
        let video = vec![7_u8; 300_000];
        read(put(video.clone(), "application/pdf").await.unwrap()).await.expect(204);
        let row = lessons::Entity::find_by_id(lesson.parse::<Uuid>().unwrap()).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(row.asset_content_type.as_deref(), Some("application/pdf"));
        assert_eq!(row.asset_size, Some(300_000));
        let key = object_store::path::Path::from(row.asset_key.clone().unwrap());
        let stored = app.state.assets.get(&key).await.unwrap().bytes().await.unwrap();
        assert_eq!(stored.as_ref(), video.as_slice());
        assert!(app.state.assets.head(&object_store::path::Path::from(first_key)).await.is_err(), "the replaced asset is deleted");

        let detail = app.get("/api/v1/tenants/school/studio/courses/cc", Some(&owner)).await.expect(200);
        let l = &detail["sections"][0]["lessons"][0];
        assert_eq!((l["has_asset"].as_bool(), l["asset_size"].as_i64()), (Some(true), Some(300_000)));

        // Over the upload limit (4 MiB in tests): refused, the lesson keeps its asset.
        lyceum_e2e::send_oversized(&app, "PUT", &path, &owner, "video/mp4", lyceum_e2e::Oversized::Declared(5 * 1024 * 1024)).await.expect_problem(413);
        let after = lessons::Entity::find_by_id(lesson.parse::<Uuid>().unwrap()).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(after.asset_key, row.asset_key);
        // Another tenant's lesson id is not found here.
        let other = format!("/api/v1/tenants/school/lessons/{}/asset", Uuid::now_v7());
        read(app.client.put(app.url(&other)).bearer_auth(&owner).header("content-type", "text/plain").body("x").send().await.unwrap()).await.expect_problem(404);
    }
}
