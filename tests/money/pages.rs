//! The learner's pages as a browser sees them: pages (not JSON) for browsers' errors, in the
//! storefront's colours; "My courses", purchases and receipts; the player with its lesson list,
//! text lessons, quizzes and "done"; checkout with its gateways and coupon field; and what a
//! lesson says when access is missing or refunded.

use lyceum_e2e::web::{hidden, set_cookie, unescape};
use lyceum_e2e::{TestApp, db_tests};
use serde_json::{Value, json};

/// A signed-in browser's session cookie.
async fn session(app: &TestApp, email: &str) -> String {
    let resp = app.web_sign_in(email, "correct horse battery", "/").await;
    assert_eq!(resp.status(), 303, "{email} signs in");
    set_cookie(&resp, "lyceum_session").expect("a session cookie")
}

/// GET `path` as a browser: HTML wanted, with `cookie`, redirects not followed; the page's
/// text with attribute escapes undone (`&#x2f;` is `/`).
async fn browse(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, String, String) {
    let mut req = app
        .client
        .get(app.url(path))
        .header("accept", "text/html,application/xhtml+xml");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let to = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, to, unescape(&resp.text().await.unwrap()))
}

/// A text lesson in the shop's paid course, with `extra` fields.
async fn text_lesson(app: &TestApp, owner: &str, title: &str, extra: Value) -> String {
    let detail = app
        .get("/api/v1/tenants/shop/studio/courses/paid", Some(owner))
        .await
        .expect(200);
    let section = detail["sections"][0]["id"].as_str().unwrap().to_owned();
    let mut body = json!({"title": title, "kind": "text", "body": "Read **this**.\n\n<script>alert(1)</script>"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post(
        &format!("/api/v1/tenants/shop/courses/paid/sections/{section}/lessons"),
        Some(owner),
        body,
    )
    .await
    .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

db_tests! {
    async fn browsers_get_pages_in_the_storefronts_colours_and_programs_get_problems(app) {
        let shop = app.shop().await;
        app.call(reqwest::Method::PATCH, "/api/v1/tenants/shop", Some(&shop.owner), Some(json!({"brand_color": "#AA3377"}))).await.expect(200);
        // A colour is a colour: nothing else reaches the page's style.
        app.call(reqwest::Method::PATCH, "/api/v1/tenants/shop", Some(&shop.owner), Some(json!({"brand_color": "red;}</style>"}))).await.expect_problem(422);

        let (status, _, page) = browse(&app, "/s/shop/no/such/page", None).await;
        assert_eq!(status, 404);
        assert!(page.contains("<html") && page.contains("School") && page.contains("#aa3377"), "{page}");
        let (status, _, page) = browse(&app, "/no-such-page", None).await;
        assert_eq!(status, 404);
        assert!(page.contains("<html") && page.contains("Not found"), "{page}");

        // The API answers problem+json whoever asks; so does a program asking for a page.
        let api = app.client.get(app.url("/api/v1/tenants/shop/courses/none")).header("accept", "text/html").send().await.unwrap();
        assert_eq!(api.status(), 404);
        assert!(api.headers()["content-type"].to_str().unwrap().contains("json"));
        let program = app.client.get(app.url("/no-such-page")).send().await.unwrap();
        assert!(!program.headers().get("content-type").is_some_and(|c| c.to_str().unwrap().starts_with("text/html")));

        // A trailing slash finds the page without it.
        let (status, to, _) = browse(&app, "/s/shop/", None).await;
        assert_eq!((status, to.as_str()), (308, "/s/shop"));

        // The catalog searches.
        let (_, _, found) = browse(&app, "/s/shop?q=paid", None).await;
        assert!(found.contains("Paid course"), "{found}");
        let (_, _, none) = browse(&app, "/s/shop?q=zzzz", None).await;
        assert!(none.contains("No course matches"), "{none}");
    }

    async fn a_student_studies_buys_and_reads_receipts_in_pages(app) {
        let shop = app.shop().await;
        let text = text_lesson(&app, &shop.owner, "Reading", json!({})).await;
        let quiz = json!({"title": "Check", "pass_percent": 100, "questions": [
            {"kind": "true_false", "prompt": "Rust has a borrow checker.", "answer": true, "explanation": "It does."},
        ]});
        app.put(&format!("/api/v1/tenants/shop/lessons/{text}/quiz"), Some(&shop.owner), quiz).await.expect(200);
        let cookie = session(&app, "student@example.com").await;

        // Before buying: the lesson explains itself and leads to the course.
        let (status, _, closed) = browse(&app, &format!("/s/shop/lessons/{text}"), Some(&cookie)).await;
        assert_eq!(status, 402);
        assert!(closed.contains("Not bought yet") && closed.contains("/s/shop/courses/paid"), "{closed}");
        assert!(!closed.contains("Read <strong>this"), "the lesson stays closed: {closed}");

        // The checkout page offers the storefront's gateways and a coupon field; a bad coupon
        // comes back on it with the reason and the buyer's choices, in fixed words.
        let (status, _, checkout) = browse(&app, "/s/shop/courses/paid/checkout", Some(&cookie)).await;
        assert_eq!(status, 200);
        assert!(checkout.contains("value=\"sandbox\"") && checkout.contains("name=\"coupon\""), "{checkout}");
        let csrf = hidden(&checkout, "csrf");
        let bad = app.client.post(app.url("/s/shop/courses/paid/buy")).header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("gateway", "sandbox"), ("coupon", "NO-SUCH")]).send().await.unwrap();
        assert_eq!(bad.status(), 422);
        let again = unescape(&bad.text().await.unwrap());
        assert!(again.contains("role=\"alert\"") && again.contains("value=\"NO-SUCH\""), "{again}");
        // Whatever a link carries, the page shows no message of its own.
        let (_, _, planted) = browse(&app, "/s/shop/courses/paid/checkout?error=Pay+by+bank+transfer", Some(&cookie)).await;
        assert!(!planted.contains("bank transfer"), "{planted}");

        let order = app.buy(&shop.student, "paid").await;

        // My courses, the player, "done", the quiz.
        let (_, _, mine) = browse(&app, "/learning", Some(&cookie)).await;
        assert!(mine.contains("Paid course") && mine.contains("Active"), "{mine}");
        let (status, to, _) = browse(&app, "/s/shop/courses/paid/learn", Some(&cookie)).await;
        assert_eq!(status, 303);
        assert!(to.starts_with("/s/shop/lessons/"), "{to}");
        let (status, _, lesson) = browse(&app, &format!("/s/shop/lessons/{text}"), Some(&cookie)).await;
        assert_eq!(status, 200);
        assert!(lesson.contains("Read <strong>this</strong>"), "the lesson's Markdown: {lesson}");
        assert!(!lesson.contains("<script>alert"), "sanitised: {lesson}");
        assert!(lesson.contains("Lesson one") && lesson.contains("Mark as done"), "the outline and the button: {lesson}");
        let csrf = hidden(&lesson, "csrf");
        let done = app.client.post(app.url(&format!("/s/shop/lessons/{text}/done"))).header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(done.status(), 303);
        let (_, _, lesson) = browse(&app, &format!("/s/shop/lessons/{text}"), Some(&cookie)).await;
        assert!(lesson.contains("badge ok\">Done"), "{lesson}");

        let started = app.client.post(app.url(&format!("/s/shop/lessons/{text}/quiz"))).header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(started.status(), 200);
        let form = unescape(&started.text().await.unwrap());
        assert!(form.contains("Rust has a borrow checker.") && !form.contains("It does."), "{form}");
        let field = form.split("name=\"tf:").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let action = form.split("action=\"").find(|a| a.starts_with("/s/shop/quiz-attempts/")).unwrap().split('"').next().unwrap().to_owned();
        // Answers without the session's token are refused.
        let forged = app.client.post(app.url(&action)).header("cookie", &cookie)
            .form(&[("csrf", "forged"), (format!("tf:{field}").as_str(), "true")]).send().await.unwrap();
        assert_ne!(forged.status(), 200);
        let graded = app.client.post(app.url(&action)).header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("lesson", text.as_str()), (format!("tf:{field}").as_str(), "true")]).send().await.unwrap();
        assert_eq!(graded.status(), 200);
        let result = graded.text().await.unwrap();
        assert!(result.contains("Passed: 100%"), "{result}");

        // Purchases and the receipt; another buyer's receipt is not found.
        let (_, _, purchases) = browse(&app, "/purchases", Some(&cookie)).await;
        assert!(purchases.contains(&order) && purchases.contains("49.00 USD"), "{purchases}");
        let (status, _, receipt) = browse(&app, &format!("/purchases/{order}"), Some(&cookie)).await;
        assert_eq!(status, 200);
        assert!(receipt.contains("School") && receipt.contains("49.00 USD") && receipt.contains("paid"), "{receipt}");
        app.register("other@example.com").await;
        let other = session(&app, "other@example.com").await;
        let (status, _, _) = browse(&app, &format!("/purchases/{order}"), Some(&other)).await;
        assert_eq!(status, 404);
        let (status, to, _) = browse(&app, "/learning", None).await;
        assert_eq!(status, 303);
        assert!(to.starts_with("/login?next="), "{to}");

        // A refund closes the lessons, and the page says why.
        app.post(&format!("/api/v1/tenants/shop/orders/{order}/refunds"), Some(&shop.owner), json!({})).await.expect(202);
        app.wait_for_status(&shop.student, &order, "refunded").await;
        let (status, _, refunded) = browse(&app, &format!("/s/shop/lessons/{}", shop.lesson), Some(&cookie)).await;
        assert_eq!(status, 402);
        assert!(refunded.contains("Access refunded") && refunded.contains("Buy it again"), "{refunded}");
        let (_, _, mine) = browse(&app, "/learning", Some(&cookie)).await;
        assert!(mine.contains("Refunded"), "{mine}");
    }
}
