//! Tokens are revocable; web sessions need their CSRF token for unsafe requests.

use lyceum_e2e::{db_tests, read};
use serde_json::json;

db_tests! {
    async fn logout_revokes_the_token(app) {
        let (token, _) = app.register("ann@example.com").await;
        app.get("/api/v1/me", Some(&token)).await.expect(200);
        app.post("/api/v1/auth/logout", Some(&token), json!({})).await.expect(204);
        app.get("/api/v1/me", Some(&token)).await.expect_problem(401);
        app.get("/api/v1/me", Some("lyc_made_up")).await.expect_problem(401);
        app.get("/api/v1/me", None).await.expect_problem(401);
        // A fresh login works again.
        let body = app.post("/api/v1/auth/login", None, json!({"email": "ann@example.com", "password": "correct horse battery"})).await.expect(200);
        app.get("/api/v1/me", body["token"].as_str()).await.expect(200);
    }

    async fn web_sessions_use_cookies_and_csrf_tokens(app) {
        app.register("ann@example.com").await;
        let resp = app.client.post(app.url("/api/v1/auth/session"))
            .json(&json!({"email": "ann@example.com", "password": "correct horse battery"}))
            .send().await.unwrap();
        let cookie_header = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie_header.contains("HttpOnly") && cookie_header.contains("SameSite=Lax"), "{cookie_header}");
        let session = read(resp).await.expect(201);
        let csrf = session["csrf_token"].as_str().unwrap().to_owned();
        let cookie = cookie_header.split(';').next().unwrap().to_owned();

        let me = app.client.get(app.url("/api/v1/me")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(read(me).await.expect(200)["email"], "ann@example.com");
        let apply = |csrf: Option<&str>| {
            let mut req = app.client.post(app.url("/api/v1/tenants")).header("cookie", &cookie)
                .json(&json!({"slug": "by-cookie", "name": "Cookie", "currency": "USD"}));
            if let Some(csrf) = csrf {
                req = req.header("x-csrf-token", csrf);
            }
            req.send()
        };
        read(apply(None).await.unwrap()).await.expect_problem(403);
        read(apply(Some("wrong")).await.unwrap()).await.expect_problem(403);
        read(apply(Some(&csrf)).await.unwrap()).await.expect(201);

        let out = app.client.delete(app.url("/api/v1/auth/session")).header("cookie", &cookie).header("x-csrf-token", &csrf).send().await.unwrap();
        read(out).await.expect(204);
        let me = app.client.get(app.url("/api/v1/me")).header("cookie", &cookie).send().await.unwrap();
        read(me).await.expect_problem(401);
    }
}
