//! Uploaded content never runs as the platform: the media types each lesson kind takes, the
//! headers every content response carries, byte ranges, and the separate content origin.

use futures_util::TryStreamExt;
use lyceum::entities::lessons;
use lyceum_e2e::{Backend, Reply, TestApp, db_tests, read, spawn_app_with};
use object_store::ObjectStore;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;
use url::Url;
use uuid::Uuid;

/// A published course `cc` in storefront `school`; returns the owner's token and the id of
/// its one (text, free-preview) lesson.
async fn school(app: &TestApp) -> (String, String) {
    let admin = app.admin("root@example.com").await;
    let owner = app
        .active_tenant("school", "owner@example.com", &admin)
        .await;
    let text = app.course("school", &owner, "cc", 900).await;
    app.post(
        "/api/v1/tenants/school/courses/cc/publish",
        Some(&owner),
        json!({}),
    )
    .await
    .expect(200);
    (owner, text)
}

/// A new free-preview lesson of `kind` in course `cc`.
async fn lesson(app: &TestApp, owner: &str, kind: &str) -> String {
    let detail = app
        .get("/api/v1/tenants/school/studio/courses/cc", Some(owner))
        .await
        .expect(200);
    let section = detail["sections"][0]["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/tenants/school/courses/cc/sections/{section}/lessons"),
        Some(owner),
        json!({"title": format!("A {kind}"), "kind": kind, "free_preview": true}),
    )
    .await
    .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn upload(
    app: &TestApp,
    owner: &str,
    lesson: &str,
    content_type: Option<&str>,
    bytes: Vec<u8>,
) -> Reply {
    let mut req = app
        .client
        .put(app.url(&format!("/api/v1/tenants/school/lessons/{lesson}/asset")))
        .bearer_auth(owner)
        .body(bytes);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    read(req.send().await.unwrap()).await
}

/// The signed URL handed out for a lesson.
async fn link(app: &TestApp, lesson: &str) -> String {
    let body = app
        .get(
            &format!("/api/v1/tenants/school/lessons/{lesson}/content"),
            None,
        )
        .await
        .expect(200);
    body["url"].as_str().unwrap().to_owned()
}

async fn row(app: &TestApp, lesson: &str) -> lessons::Model {
    lessons::Entity::find_by_id(lesson.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

/// Every object kept in the asset store.
async fn stored_objects(app: &TestApp) -> usize {
    app.state
        .assets
        .list(None)
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len()
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

/// The headers that make any content response inert.
#[track_caller]
fn assert_inert(resp: &reqwest::Response) {
    assert_eq!(header(resp, "x-content-type-options"), "nosniff");
    let csp = header(resp, "content-security-policy");
    assert!(csp.split(';').any(|d| d.trim() == "sandbox"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(header(resp, "cross-origin-resource-policy"), "cross-origin");
    assert_eq!(header(resp, "referrer-policy"), "no-referrer");
    assert_eq!(header(resp, "accept-ranges"), "bytes");
}

/// 1000 bytes that differ from their neighbours, so a wrong offset shows.
fn pattern() -> Vec<u8> {
    (0..1000_u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect()
}

db_tests! {
    async fn documents_a_browser_would_run_are_refused_and_nothing_is_stored(app) {
        let (owner, text) = school(&app).await;
        let file = lesson(&app, &owner, "file").await;
        let html = b"<html><script>fetch('/api/v1/auth/me')</script></html>".to_vec();
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec();
        for (lesson, ct, body) in [
            (&file, Some("text/html"), html.clone()),
            (&file, Some("Text/HTML; charset=utf-8"), html.clone()),
            (&file, Some("image/svg+xml"), svg.clone()),
            (&text, Some("image/svg+xml"), svg.clone()),
            (&file, Some("application/xhtml+xml"), html.clone()),
            (&file, Some("text/xml"), svg.clone()),
            (&file, Some("application/javascript"), b"alert(1)".to_vec()),
            (&file, Some("multipart/form-data; boundary=x"), html.clone()),
            // A kind takes only what it needs: no video in a text lesson.
            (&text, Some("video/mp4"), vec![0; 64]),
        ] {
            let problem = upload(&app, &owner, lesson, ct, body).await.expect_problem(422);
            assert_eq!(problem["errors"][0]["field"], "content_type", "{ct:?}: {problem}");
        }
        // No type at all: the framework refuses it before the handler (415).
        upload(&app, &owner, &file, None, html.clone()).await.expect_problem(415);
        assert!(row(&app, &file).await.asset_key.is_none());
        assert!(row(&app, &text).await.asset_key.is_none());
        assert_eq!(stored_objects(&app).await, 0, "a refused upload writes nothing");
        // The text lesson still serves its own text, not an upload.
        let resp = app.client.get(link(&app, &text).await).send().await.unwrap();
        assert_eq!(resp.text().await.unwrap(), "Hello");

        // An allowed type is stored as its bare essence.
        upload(&app, &owner, &file, Some("Application/PDF; name=x.pdf"), b"%PDF-1.7".to_vec()).await.expect(204);
        assert_eq!(row(&app, &file).await.asset_content_type.as_deref(), Some("application/pdf"));
    }

    async fn content_is_served_inert(app) {
        let (owner, text) = school(&app).await;
        let file = lesson(&app, &owner, "file").await;
        let video = lesson(&app, &owner, "video").await;
        upload(&app, &owner, &file, Some("application/pdf"), b"%PDF-1.7 hello".to_vec()).await.expect(204);
        upload(&app, &owner, &video, Some("video/mp4"), pattern()).await.expect(204);

        let pdf = app.client.get(link(&app, &file).await).send().await.unwrap();
        assert_eq!(pdf.status(), 200);
        assert_inert(&pdf);
        assert_eq!(header(&pdf, "content-type"), "application/pdf");
        assert_eq!(header(&pdf, "content-disposition"), format!("attachment; filename=\"lesson-{file}.pdf\""));
        assert_eq!(pdf.bytes().await.unwrap().as_ref(), b"%PDF-1.7 hello");

        let mp4 = app.client.get(link(&app, &video).await).send().await.unwrap();
        assert_eq!(mp4.status(), 200);
        assert_inert(&mp4);
        assert_eq!(header(&mp4, "content-type"), "video/mp4");
        assert_eq!(header(&mp4, "content-disposition"), format!("inline; filename=\"lesson-{video}.mp4\""));
        assert_eq!(header(&mp4, "content-length"), "1000");
        assert_eq!(mp4.bytes().await.unwrap().as_ref(), pattern().as_slice());

        // A lesson's own text is plain text, never Markdown or HTML to render.
        let body = app.client.get(link(&app, &text).await).send().await.unwrap();
        assert_inert(&body);
        assert_eq!(header(&body, "content-type"), "text/plain; charset=utf-8");
        assert!(!header(&body, "content-disposition").starts_with("attachment"));

        // An asset stored as HTML before the allow-list is served as bytes to download.
        lessons::ActiveModel { id: Set(file.parse().unwrap()), asset_content_type: Set(Some("text/html".into())), ..Default::default() }
            .update(&app.state.db)
            .await
            .unwrap();
        let legacy = app.client.get(link(&app, &file).await).send().await.unwrap();
        assert_inert(&legacy);
        assert_eq!(header(&legacy, "content-type"), "application/octet-stream");
        assert_eq!(header(&legacy, "content-disposition"), format!("attachment; filename=\"lesson-{file}.bin\""));

        // Refusals carry the headers too.
        let refused = app.client.get(app.url("/content/not-a-token")).send().await.unwrap();
        assert_eq!(refused.status(), 403);
        assert_inert(&refused);
    }

    async fn byte_ranges_let_players_seek(app) {
        let (owner, _) = school(&app).await;
        let video = lesson(&app, &owner, "video").await;
        upload(&app, &owner, &video, Some("video/webm"), pattern()).await.expect(204);
        let url = link(&app, &video).await;
        let whole = pattern();
        let get = |range: &'static str| app.client.get(&url).header("range", range).send();

        for (range, from, to) in [("bytes=100-199", 100, 200), ("bytes=990-", 990, 1000), ("bytes=-10", 990, 1000), ("bytes=500-5000", 500, 1000)] {
            let resp = get(range).await.unwrap();
            assert_eq!(resp.status(), 206, "{range}");
            assert_inert(&resp);
            assert_eq!(header(&resp, "content-range"), format!("bytes {from}-{}/1000", to - 1), "{range}");
            assert_eq!(header(&resp, "content-length"), (to - from).to_string(), "{range}");
            assert_eq!(header(&resp, "content-type"), "video/webm");
            assert_eq!(resp.bytes().await.unwrap().as_ref(), &whole[from..to], "{range}");
        }
        for range in ["bytes=1000-", "bytes=4000-5000", "bytes=-0"] {
            let resp = get(range).await.unwrap();
            assert_eq!(resp.status(), 416, "{range}");
            assert_eq!(header(&resp, "content-range"), "bytes */1000", "{range}");
        }
        // Several ranges: the whole body.
        let resp = get("bytes=0-1,5-6").await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.bytes().await.unwrap().as_ref(), whole.as_slice());
    }
}

/// With `LYCEUM_CONTENT_URL` set, content lives on its host alone, and that host serves
/// nothing else. The host is mapped to the test server's address.
async fn a_separate_origin_serves_content_and_nothing_else(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.content_url = Some(Url::parse("http://content.lyceum.test:0").unwrap());
    })
    .await
    else {
        return;
    };
    let port = app.state.settings.public_url.port().unwrap();
    let (owner, _) = school(&app).await;
    let video = lesson(&app, &owner, "video").await;
    upload(&app, &owner, &video, Some("video/mp4"), pattern())
        .await
        .expect(204);

    let url = link(&app, &video).await;
    let prefix = format!("http://content.lyceum.test:{port}/content/");
    assert!(url.starts_with(&prefix), "{url}");
    let path = Url::parse(&url).unwrap().path().to_owned();
    let on = |host: &'static str, path: &str| {
        app.client
            .get(app.url(path))
            .header("host", format!("{host}:{port}"))
            .send()
    };

    let resp = on("content.lyceum.test", &path).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_inert(&resp);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), pattern().as_slice());
    let resp = on("CONTENT.lyceum.test", &path).await.unwrap();
    assert_eq!(resp.status(), 200);

    // The same signed path on the platform's own host is not served.
    let resp = on("127.0.0.1", &path).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(header(&resp, "content-type"), "application/problem+json");
    // The content host answers nothing but content.
    for other in [
        "/",
        "/healthz",
        "/api/v1/auth/me",
        "/api/openapi.json",
        "/s/school",
        "/contents",
        "/content/",
        "/content/x/y",
    ] {
        let resp = on("content.lyceum.test", other).await.unwrap();
        assert_eq!(resp.status(), 404, "{other}");
    }
    // The platform host is unaffected.
    assert_eq!(on("127.0.0.1", "/healthz").await.unwrap().status(), 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_origin_serves_content_and_nothing_else_sqlite() {
    a_separate_origin_serves_content_and_nothing_else(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_origin_serves_content_and_nothing_else_postgres() {
    a_separate_origin_serves_content_and_nothing_else(Backend::Postgres).await;
}
