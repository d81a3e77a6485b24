//! `GET …/courses/{course}/access`, served by a plain handler outside poem-openapi: the same
//! callers, bytes and errors as any OpenAPI operation.

use lyceum_e2e::{db_tests, read};
use serde_json::json;

const ACCESS: &str = "/api/v1/tenants/shop/courses/paid/access";
const DENIED: &str = r#"{"access":false,"expires_at":null,"reason":null}"#;
const BOUGHT: &str = r#"{"access":true,"expires_at":null,"reason":"purchase"}"#;

db_tests! {
    async fn every_kind_of_caller_gets_the_documented_answer(app) {
        let shop = app.shop().await;
        let raw = |auth: Option<String>, cookie: Option<String>, path: &'static str| {
            let mut req = app.client.get(app.url(path));
            if let Some(auth) = auth {
                req = req.header("authorization", auth);
            }
            if let Some(cookie) = cookie {
                req = req.header("cookie", cookie);
            }
            async move {
                let resp = req.send().await.unwrap();
                let status = resp.status().as_u16();
                let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
                assert!(resp.headers().contains_key("x-request-id"));
                (status, content_type, resp.text().await.unwrap())
            }
        };
        let json_type = "application/json; charset=utf-8".to_owned();

        // Nobody, a token that is not (or no longer) valid, and a student who has not bought:
        // all told "no", byte for byte what poem-openapi would write.
        assert_eq!(raw(None, None, ACCESS).await, (200, json_type.clone(), DENIED.to_owned()));
        assert_eq!(raw(Some("Bearer lyc_made_up".into()), None, ACCESS).await.2, DENIED);
        assert_eq!(raw(Some(format!("Bearer {}", shop.student)), None, ACCESS).await.2, DENIED);

        app.buy(&shop.student, "paid").await;

        // The buyer, by token (any case of the scheme) and by the web UI's session cookie.
        assert_eq!(raw(Some(format!("Bearer {}", shop.student)), None, ACCESS).await, (200, json_type, BOUGHT.to_owned()));
        assert_eq!(raw(Some(format!("bearer {}", shop.student)), None, ACCESS).await.2, BOUGHT);
        let resp = app.client.post(app.url("/api/v1/auth/session"))
            .json(&json!({"email": "student@example.com", "password": "correct horse battery"}))
            .send().await.unwrap();
        let cookie = resp.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        read(resp).await.expect(201);
        assert_eq!(raw(None, Some(cookie.clone()), ACCESS).await.2, BOUGHT);
        assert_eq!(raw(None, Some("lyceum_session=forged".into()), ACCESS).await.2, DENIED);
        // Someone else's token does not borrow the cookie's user: the token wins.
        let (other, _) = app.register("other@example.com").await;
        assert_eq!(raw(Some(format!("Bearer {other}")), Some(cookie), ACCESS).await.2, DENIED);

        // Unknown courses and storefronts are problems, as everywhere in the API.
        let (status, content_type, body) = raw(None, None, "/api/v1/tenants/shop/courses/nope/access").await;
        assert_eq!((status, content_type.as_str()), (404, "application/problem+json"));
        assert!(body.contains("urn:lyceum:problem:not-found"), "{body}");
        let (status, _, _) = raw(None, None, "/api/v1/tenants/nope/courses/paid/access").await;
        assert_eq!(status, 404);
        // A draft is hidden from everyone who has no access to it.
        app.post("/api/v1/tenants/shop/courses", Some(&shop.owner), json!({"slug": "draft", "title": "Draft", "price": {"amount": 100, "currency": "USD"}}))
            .await
            .expect(201);
        let (status, _, _) = raw(Some(format!("Bearer {}", shop.student)), None, "/api/v1/tenants/shop/courses/draft/access").await;
        assert_eq!(status, 404);

        // It is counted under its operation id, like the OpenAPI operations.
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains(r#"operation="get_course_access""#), "{metrics}");
    }

    async fn a_decision_is_made_under_a_proof_for_whom_it_names_and_where(app) {
        use lyceum::error::AppError;
        use lyceum::ids::{TenantId, UserId};
        use lyceum::services::access;
        use lyceum::services::catalog::courses;
        use lyceum::services::tenancy::tenants;
        use lyceum_tenants::rbac::{Domain, Principal, action, resource};

        let shop = app.shop().await;
        app.buy(&shop.student, "paid").await;
        let state = &app.state;
        let tenant = tenants::find_selling(state, "shop").await.unwrap();
        let ask = |principal: Principal, domain: Domain| async move {
            state.policy.authorize::<resource::Access, action::Read>(&state.db, &principal, domain).await.unwrap()
        };
        let buyer = ask(Principal::User(UserId::from(shop.student_id)), tenant.domain()).await;
        let course = courses::find_cached(state, &buyer, &tenant, "paid").await.unwrap();
        assert!(access::decide(state, &buyer, &course).await.unwrap().access);
        // The decision is about the proof's principal: a visitor's proof opens no paid course.
        let visitor = ask(Principal::Anonymous, tenant.domain()).await;
        assert!(!access::decide(state, &visitor, &course).await.unwrap().access);
        // The buyer's proof for another storefront reads nothing here.
        let elsewhere = ask(Principal::User(UserId::from(shop.student_id)), Domain::Tenant(TenantId::new_v7())).await;
        assert!(matches!(courses::find_cached(state, &elsewhere, &tenant, "paid").await, Err(AppError::Forbidden(_))));
        assert!(matches!(access::decide(state, &elsewhere, &course).await, Err(AppError::Forbidden(_))));
    }

    async fn a_signed_link_is_fetched_under_the_policy_of_now(app) {
        use lyceum::ids::UserId;
        use lyceum::services::tenancy::policy::Policy;
        use lyceum_tenants::rbac::{Domain, Grant, Role};
        use sea_orm::TransactionTrait;

        let shop = app.shop().await;
        app.buy(&shop.student, "paid").await;
        let link = app.get(&format!("/api/v1/tenants/shop/lessons/{}/content", shop.lesson), Some(&shop.student)).await.expect(200);
        let url = link["url"].as_str().unwrap().to_owned();
        assert_eq!(app.client.get(&url).send().await.unwrap().status(), 200);
        // The link names the buyer; once the buyer may no longer read content at all, the
        // fetch is refused although the link is intact and the purchase stands.
        let student = Grant::new(UserId::from(shop.student_id), Role::Student, Domain::Platform);
        let txn = app.state.db.begin().await.unwrap();
        let revoked = Policy::delete_grant(&txn, &student).await.unwrap();
        app.state.commit(txn, revoked).await.unwrap();
        assert_eq!(app.client.get(&url).send().await.unwrap().status(), 403);
    }
}
