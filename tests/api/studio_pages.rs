//! The instructor studio in a browser (`/studio`): forms, cookies and redirects only. An owner
//! builds, uploads to and publishes a course that then sells on the storefront; a sale shows
//! on the dashboard; another storefront's editor and a student are refused and change
//! nothing; a form without the session's token changes nothing; sections and lessons are put
//! in order by the drag-and-drop endpoint and by the buttons.

use lyceum_e2e::web::{hidden, location, set_cookie};
use lyceum_e2e::{TestApp, db_tests};
use serde_json::{Value, json};

db_tests! {
    async fn an_owner_builds_uploads_to_and_publishes_a_course(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("school", "owner@example.com", &admin).await;
        let cookie = session(&app, "owner@example.com").await;

        let (status, index) = page(&app, "/studio", &cookie).await;
        assert_eq!(status, 200, "{index}");
        assert!(index.contains("studio&#x2f;school") || index.contains("studio/school"), "{index}");

        // A new course, as a draft.
        let (_, courses) = page(&app, "/studio/school/courses", &cookie).await;
        let csrf = hidden(&courses, "csrf");
        let created = post(&app, "/studio/school/courses", &cookie, &[
            ("csrf", &csrf), ("title", "Rust basics"), ("slug", "rust-basics"),
            ("description", "From zero"), ("price", "19.99"), ("access_days", ""),
        ]).await;
        assert_eq!(created.status(), 303);
        assert_eq!(location(&created), "/studio/school/courses/rust-basics?done=created");
        let course = "/studio/school/courses/rust-basics";
        let (_, html) = page(&app, course, &cookie).await;
        assert!(html.contains("Draft") && html.contains("19.99"), "{html}");

        // A section, and a free-preview text lesson in it.
        let resp = post(&app, &format!("{course}/sections"), &cookie, &[("csrf", &csrf), ("title", "Intro")]).await;
        assert_eq!(resp.status(), 303);
        let (_, html) = page(&app, course, &cookie).await;
        let section = ids_after(&html, "id=\"section-")[0].clone();
        let resp = post(&app, &format!("{course}/sections/{section}/lessons"), &cookie, &[
            ("csrf", &csrf), ("title", "Welcome"), ("kind", "text"), ("body", "Hello **there**"),
            ("free_preview", "1"), ("required", "1"), ("drip_days", ""), ("drip_at", ""),
        ]).await;
        assert_eq!(resp.status(), 303);
        let lesson_page = location(&resp);
        let lesson = lesson_page.split("/lessons/").nth(1).unwrap().split('?').next().unwrap().to_owned();

        // A file for it, through the upload form: a type a text lesson takes is stored; HTML
        // is refused and nothing changes.
        let asset = format!("{course}/lessons/{lesson}/asset");
        let refused = upload(&app, &asset, &cookie, &csrf, "page.html", "text/html", b"<script>x</script>").await;
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains("takes only"));
        let stored = upload(&app, &asset, &cookie, &csrf, "notes.txt", "text/plain", b"the notes").await;
        assert_eq!(stored.status(), 303);
        let (_, html) = page(&app, &asset, &cookie).await;
        assert!(html.contains("text&#x2f;plain") || html.contains("text/plain"), "{html}");

        // Published, it is on the storefront with its free preview.
        let resp = post(&app, &format!("{course}/publish"), &cookie, &[("csrf", &csrf)]).await;
        assert_eq!(resp.status(), 303);
        let (status, catalog) = page(&app, "/s/school", "").await;
        assert_eq!(status, 200);
        assert!(catalog.contains("Rust basics") && catalog.contains("19.99 USD"), "{catalog}");
        let detail = app.get("/api/v1/tenants/school/courses/rust-basics", None).await.expect(200);
        assert_eq!(detail["price"], json!({"amount": 1999, "currency": "USD"}));
        let lessons = &detail["sections"][0]["lessons"];
        assert_eq!((lessons[0]["title"].as_str(), lessons[0]["free_preview"].as_bool()), (Some("Welcome"), Some(true)));
        let staff = app.get("/api/v1/tenants/school/studio/courses/rust-basics", Some(&owner)).await.expect(200);
        assert_eq!(staff["sections"][0]["lessons"][0]["asset_content_type"], "text/plain");
    }

    async fn a_sale_shows_on_the_dashboard(app) {
        let shop = app.shop().await;
        let cookie = session(&app, "owner@example.com").await;
        let (status, before) = page(&app, "/studio/shop", &cookie).await;
        assert_eq!(status, 200, "{before}");
        assert!(before.contains("0.00 USD") && !before.contains("49.00 USD"), "{before}");
        assert!(before.contains("<svg") && before.contains("Sales by day"), "charts are drawn: {before}");

        let order = app.buy(&shop.student, "paid").await;

        let (_, after) = page(&app, "/studio/shop", &cookie).await;
        let sales = after.split("Sales this month").next().unwrap();
        assert!(sales.contains("49.00 USD"), "the month's sales: {after}");
        // A bar of 49 in the daily chart (its tooltip is "day: value").
        assert!(after.contains(": 49</title>"), "{after}");
        let (_, orders) = page(&app, "/studio/shop/orders", &cookie).await;
        assert!(orders.contains("student@example.com") && orders.contains(&order), "{orders}");
    }

    async fn another_storefronts_editor_and_a_student_are_refused(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("alpha", "alpha@example.com", &admin).await;
        app.course("alpha", &owner, "c1", 500).await;
        let beta = app.active_tenant("beta", "beta@example.com", &admin).await;
        app.register("editor@example.com").await;
        app.add_staff("beta", &beta, "editor@example.com", "editor").await;
        app.register("student@example.com").await;
        let before = course_of(&app, &owner).await;
        let section = before["sections"][0]["id"].as_str().unwrap().to_owned();

        // Anonymous visitors are sent to sign in.
        let resp = app.client.get(app.url("/studio/alpha")).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        assert!(location(&resp).starts_with("/login?next="));

        for who in ["editor@example.com", "student@example.com"] {
            let cookie = session(&app, who).await;
            // Their own token, from a page they may open.
            let (status, index) = page(&app, "/studio", &cookie).await;
            assert_eq!(status, 200);
            assert!(!index.contains("studio&#x2f;alpha") && !index.contains("studio/alpha"), "{who}: {index}");
            let csrf = hidden(&index, "csrf");
            for path in ["/studio/alpha", "/studio/alpha/courses", "/studio/alpha/courses/c1", "/studio/alpha/orders", "/studio/alpha/settings"] {
                let (status, html) = page(&app, path, &cookie).await;
                assert_eq!(status, 403, "{who}: {path}: {html}");
                assert!(!html.contains("Course c1"), "{who}: {path}");
            }
            for (path, form) in [
                ("/studio/alpha/courses/c1", vec![("title", "Taken"), ("description", ""), ("price", "0")]),
                ("/studio/alpha/courses/c1/publish", vec![]),
                ("/studio/alpha/courses/c1/sections", vec![("title", "Theirs")]),
                ("/studio/alpha/courses/c1/sections/order", vec![("order", section.as_str())]),
                ("/studio/alpha/settings", vec![("name", "Taken"), ("brand_color", "#000000")]),
            ] {
                let mut fields = vec![("csrf", csrf.as_str())];
                fields.extend(form);
                let resp = post(&app, path, &cookie, &fields).await;
                assert_eq!(resp.status(), 403, "{who}: POST {path}");
            }
        }
        // The editor's own storefront opens for them.
        let cookie = session(&app, "editor@example.com").await;
        assert_eq!(page(&app, "/studio/beta/courses", &cookie).await.0, 200);
        let (status, dashboard) = page(&app, "/studio/beta", &cookie).await;
        assert_eq!(status, 200);
        assert!(dashboard.contains("completion numbers are for the storefront") && !dashboard.contains("<svg"), "an editor sees no sales: {dashboard}");

        assert_eq!(course_of(&app, &owner).await, before, "nothing changed");
        let tenant = app.get("/api/v1/tenants/alpha", Some(&owner)).await.expect(200);
        assert_eq!(tenant["name"], "School");
    }

    async fn a_form_without_the_sessions_token_changes_nothing(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("alpha", "alpha@example.com", &admin).await;
        app.course("alpha", &owner, "c1", 500).await;
        let cookie = session(&app, "alpha@example.com").await;
        let before = course_of(&app, &owner).await;
        for csrf in ["forged", ""] {
            let resp = post(&app, "/studio/alpha/courses", &cookie, &[
                ("csrf", csrf), ("title", "Forged"), ("slug", "forged"), ("price", "1"),
            ]).await;
            assert_ne!(resp.status(), 303, "{csrf:?}");
            let resp = post(&app, "/studio/alpha/courses/c1/publish", &cookie, &[("csrf", csrf)]).await;
            assert_ne!(resp.status(), 303, "{csrf:?}");
        }
        // Nor does the right token without the session it belongs to.
        let (_, html) = page(&app, "/studio/alpha/courses", &cookie).await;
        let csrf = hidden(&html, "csrf");
        let resp = post(&app, "/studio/alpha/courses/c1/publish", "", &[("csrf", &csrf)]).await;
        assert_ne!(resp.status(), 303);
        let list = app.get("/api/v1/tenants/alpha/studio/courses", Some(&owner)).await.expect(200);
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        assert_eq!(course_of(&app, &owner).await, before);
    }

    async fn sections_and_lessons_are_put_in_order(app) {
        let admin = app.admin("root@example.com").await;
        let owner = app.active_tenant("alpha", "alpha@example.com", &admin).await;
        app.course("alpha", &owner, "c1", 500).await;
        let base = "/api/v1/tenants/alpha/courses/c1/sections";
        let second = app.post(base, Some(&owner), json!({"title": "Second"})).await.expect(201)["id"].as_str().unwrap().to_owned();
        let first = course_of(&app, &owner).await["sections"][0]["id"].as_str().unwrap().to_owned();
        for title in ["B", "C"] {
            app.post(&format!("{base}/{first}/lessons"), Some(&owner), json!({"title": title, "kind": "text"})).await.expect(201);
        }
        let cookie = session(&app, "alpha@example.com").await;
        let (_, html) = page(&app, "/studio/alpha/courses/c1", &cookie).await;
        let csrf = hidden(&html, "csrf");
        let lesson_ids = |c: &Value| -> Vec<String> {
            c["sections"].as_array().unwrap().iter().find(|s| s["id"] == first.as_str()).unwrap()["lessons"]
                .as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect()
        };
        let section_ids = |c: &Value| -> Vec<String> {
            c["sections"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
        };

        // What the page's script sends after a drag: every id, in the new order.
        let order = format!("{second},{first}");
        let resp = post(&app, "/studio/alpha/courses/c1/sections/order", &cookie, &[("csrf", &csrf), ("order", &order)]).await;
        assert_eq!(resp.status(), 204);
        assert_eq!(section_ids(&course_of(&app, &owner).await), vec![second.clone(), first.clone()]);
        let lessons = lesson_ids(&course_of(&app, &owner).await);
        assert_eq!(lessons.len(), 3);
        let reversed: Vec<String> = lessons.iter().rev().cloned().collect();
        let path = format!("/studio/alpha/courses/c1/sections/{first}/lessons/order");
        let resp = post(&app, &path, &cookie, &[("csrf", &csrf), ("order", &reversed.join(","))]).await;
        assert_eq!(resp.status(), 204);
        assert_eq!(lesson_ids(&course_of(&app, &owner).await), reversed);

        // An order that leaves a lesson out is refused, and changes nothing.
        let resp = post(&app, &path, &cookie, &[("csrf", &csrf), ("order", &reversed[..2].join(","))]).await;
        assert_eq!(resp.status(), 422);
        assert_eq!(lesson_ids(&course_of(&app, &owner).await), reversed);

        // The buttons without script: one place at a time, back to the course page.
        let resp = post(&app, &path, &cookie, &[("csrf", &csrf), ("id", &reversed[2]), ("direction", "up")]).await;
        assert_eq!(resp.status(), 303);
        assert!(location(&resp).starts_with("/studio/alpha/courses/c1?done=moved"));
        assert_eq!(lesson_ids(&course_of(&app, &owner).await), vec![reversed[0].clone(), reversed[2].clone(), reversed[1].clone()]);
        let resp = post(&app, "/studio/alpha/courses/c1/sections/order", &cookie, &[("csrf", &csrf), ("id", &first), ("direction", "up")]).await;
        assert_eq!(resp.status(), 303);
        assert_eq!(section_ids(&course_of(&app, &owner).await), vec![first.clone(), second.clone()]);
    }
}

/// The platform session cookie of `email`, signed in through the web form.
async fn session(app: &TestApp, email: &str) -> String {
    let resp = app.web_sign_in(email, "correct horse battery", "/").await;
    assert_eq!(resp.status(), 303, "{email} signs in");
    set_cookie(&resp, "lyceum_session").expect("a session cookie")
}

/// GETs a page with `cookie` (none when empty): status and body.
async fn page(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let mut req = app.client.get(app.url(path)).header("accept", "text/html");
    if !cookie.is_empty() {
        req = req.header("cookie", cookie);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// POSTs a form with `cookie` (none when empty).
async fn post(
    app: &TestApp,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(path))
        .header("accept", "text/html")
        .form(fields);
    if !cookie.is_empty() {
        req = req.header("cookie", cookie);
    }
    req.send().await.unwrap()
}

/// POSTs the upload form as a browser does: the token first, then the file.
async fn upload(
    app: &TestApp,
    path: &str,
    cookie: &str,
    csrf: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let boundary = "----lyceum-studio-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    app.client
        .post(app.url(path))
        .header("accept", "text/html")
        .header("cookie", cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The ids (UUIDs) that follow each `marker` in `html`.
fn ids_after(html: &str, marker: &str) -> Vec<String> {
    html.match_indices(marker)
        .filter_map(|(at, _)| html.get(at + marker.len()..at + marker.len() + 36))
        .map(str::to_owned)
        .collect()
}

/// Course c1 of alpha as its staff see it through the API.
async fn course_of(app: &TestApp, owner: &str) -> Value {
    app.get("/api/v1/tenants/alpha/studio/courses/c1", Some(owner))
        .await
        .expect(200)
}
