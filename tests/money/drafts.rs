//! A course priced at zero is free to study only while it is published: a draft answers
//! exactly like a course that does not exist, so its slug is not confirmed to anyone.

use lyceum_e2e::db_tests;
use serde_json::{Value, json};

/// What a 404 says, without the parts that differ per request.
fn not_found(body: &Value) -> (Value, Value, Value, Value) {
    (
        body["type"].clone(),
        body["title"].clone(),
        body["status"].clone(),
        body["detail"].clone(),
    )
}

db_tests! {
    async fn draft_free_courses_grant_nothing_until_published(app) {
        let shop = app.shop().await;
        // A free draft with a free-preview lesson (`course` makes one) and a plain lesson.
        let preview = app.course("shop", &shop.owner, "gift", 0).await;
        let section = app.get("/api/v1/tenants/shop/studio/courses/gift", Some(&shop.owner)).await.expect(200)["sections"][0]["id"].as_str().unwrap().to_owned();
        let plain = app
            .post(&format!("/api/v1/tenants/shop/courses/gift/sections/{section}/lessons"), Some(&shop.owner), json!({"title": "Body", "kind": "text", "body": "Inside"}))
            .await
            .expect(201)["id"].as_str().unwrap().to_owned();

        let unknown_course = app.get("/api/v1/tenants/shop/courses/no-such-course/access", Some(&shop.student)).await.expect_problem(404);
        let unknown_lesson = app.get(&format!("/api/v1/tenants/shop/lessons/{}/content", uuid::Uuid::now_v7()), Some(&shop.student)).await.expect_problem(404);
        for token in [None, Some(shop.student.as_str())] {
            let draft = app.get("/api/v1/tenants/shop/courses/gift/access", token).await.expect_problem(404);
            assert_eq!(not_found(&draft), not_found(&unknown_course), "{draft}");
            for lesson in [&preview, &plain] {
                let content = app.get(&format!("/api/v1/tenants/shop/lessons/{lesson}/content"), token).await.expect_problem(404);
                assert_eq!(not_found(&content), not_found(&unknown_lesson), "{content}");
            }
        }

        // Published, it is free for everyone, and its lessons are served.
        app.post("/api/v1/tenants/shop/courses/gift/publish", Some(&shop.owner), json!({})).await.expect(200);
        let access = app.get("/api/v1/tenants/shop/courses/gift/access", Some(&shop.student)).await.expect(200);
        assert_eq!((access["access"].as_bool(), access["reason"].as_str()), (Some(true), Some("free")), "{access}");
        let link = app.get(&format!("/api/v1/tenants/shop/lessons/{plain}/content"), Some(&shop.student)).await.expect(200);
        let text = app.client.get(link["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
        assert_eq!(text, "Inside");

        // Taken off the catalog again, a link issued meanwhile stops working too.
        app.post("/api/v1/tenants/shop/courses/gift/unpublish", Some(&shop.owner), json!({})).await.expect(200);
        app.get("/api/v1/tenants/shop/courses/gift/access", Some(&shop.student)).await.expect_problem(404);
        let resp = app.client.get(link["url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(resp.status(), 403);
    }
}
