//! The pages called as the platform mounts them (nested at `/sandbox`), without a server.

use std::time::Duration;

use lyceum_gateway_core::{CheckoutRequest, PaymentGateway, TenantAccount};
use poem::http::{Method, StatusCode};
use poem::{Endpoint, Request, Response, Route};
use serde_json::{Value, json};

use crate::Sandbox;
use crate::testing::{checkout_request, sandbox};

const TTL: Duration = Duration::from_secs(1800);

struct Page {
    routes: Route,
    request: CheckoutRequest,
    path: String,
}

async fn page_with(sandbox: Sandbox) -> Page {
    let request = checkout_request("k");
    let session = sandbox
        .create_checkout(&TenantAccount::default(), &request)
        .await
        .unwrap();
    Page {
        routes: Route::new().nest("/sandbox", sandbox.routes()),
        request,
        path: format!("/sandbox/pay/{}", session.provider_reference),
    }
}

async fn page() -> Page {
    page_with(sandbox(TTL)).await
}

async fn text(response: Response) -> String {
    response.into_body().into_string().await.unwrap()
}

async fn body_json(response: Response) -> Value {
    serde_json::from_str(&text(response).await).unwrap()
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

impl Page {
    async fn get(&self, path: &str) -> Response {
        let request = Request::builder().uri_str(path).finish();
        self.routes.get_response(request).await
    }

    async fn post(&self, path: &str, content_type: &str, body: String) -> Response {
        let request = Request::builder()
            .method(Method::POST)
            .uri_str(path)
            .content_type(content_type)
            .body(body);
        self.routes.get_response(request).await
    }

    async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Response {
        self.post(path, "application/x-www-form-urlencoded", form(pairs))
            .await
    }

    async fn post_json(&self, path: &str, body: Value) -> Response {
        self.post(path, "application/json", body.to_string()).await
    }

    async fn pay_form(&self, card: &str) -> Response {
        self.post_form(&self.path, &[("card", card)]).await
    }

    async fn pay_json(&self, body: Value) -> Response {
        self.post_json(&self.path, body).await
    }
}

#[tokio::test]
async fn the_pay_page_shows_the_amount_escaped_lines_and_test_cards() {
    let page = page().await;
    let response = page.get(&page.path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.content_type(), Some("text/html; charset=utf-8"));
    let html = text(response).await;
    assert!(html.contains("Pay 19.99 USD"), "{html}");
    assert!(html.contains("Rust &lt;b&gt;for&lt;/b&gt; &quot;everyone&quot;"));
    assert!(!html.contains("<b>for"));
    assert!(html.contains("<form method=\"post\">") && html.contains("name=\"card\" value=\"\""));
    assert!(html.contains(&format!("href=\"{}\"", page.request.cancel_url)));
    assert!(html.contains("4242 4242 4242 4242") && html.contains("4000 0000 0000 0002"));

    let missing = page.get("/sandbox/pay/sbs_unknown").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(text(missing).await.contains("No such checkout"));
}

#[tokio::test]
async fn a_declined_form_shows_the_page_again_and_may_be_retried() {
    let page = page().await;
    let declined = page.pay_form("4000 0000 0000 0002").await;
    assert_eq!(declined.status(), StatusCode::PAYMENT_REQUIRED);
    assert!(text(declined).await.contains("Your card was declined"));
    let unknown = page.pay_form("5555555555554444").await;
    assert_eq!(unknown.status(), StatusCode::PAYMENT_REQUIRED);
    assert!(text(unknown).await.contains("not a sandbox test card"));

    let paid = page.pay_form("4242424242424242").await;
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        paid.header("location"),
        Some(page.request.success_url.as_str())
    );

    let after = text(page.get(&page.path).await).await;
    assert!(after.contains("already paid"), "{after}");
    assert!(after.contains("href=\"http://shop.test/orders/1?paid=1&amp;x=2\""));
    let twice = page.pay_form("4242424242424242").await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn json_posts_answer_json() {
    let page = page().await;
    let declined = page.pay_json(json!({"card": "4000000000000002"})).await;
    assert_eq!(declined.status(), StatusCode::PAYMENT_REQUIRED);
    let body = body_json(declined).await;
    assert_eq!(body["status"], "declined");
    assert_eq!(
        body["redirect_url"],
        format!("http://127.0.0.1:9{}", page.path)
    );

    let paid = page.pay_json(json!({"card": "4242 4242 4242 4242"})).await;
    assert_eq!(paid.status(), StatusCode::OK);
    let body = body_json(paid).await;
    assert_eq!(body["status"], "succeeded");
    assert!(body["payment_id"].as_str().unwrap().starts_with("sbp_"));
    assert_eq!(body["redirect_url"], page.request.success_url);
}

#[tokio::test]
async fn a_missing_card_is_a_bad_request() {
    let page = page().await;
    for response in [
        page.pay_json(json!({})).await,
        page.pay_json(json!({"card": 4242})).await,
        page.pay_form("   ").await,
        page.post_form(&page.path, &[("number", "4242424242424242")])
            .await,
        page.post(&page.path, "application/json", "{not json".to_owned())
            .await,
    ] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn an_expired_session_says_so_and_cannot_be_paid() {
    let page = page_with(sandbox(Duration::ZERO)).await;
    let html = text(page.get(&page.path).await).await;
    assert!(html.contains("expired") && html.contains("href=\"http://shop.test/cart\""));
    let late = page.pay_json(json!({"card": "4242424242424242"})).await;
    assert_eq!(late.status(), StatusCode::GONE);
    assert_eq!(
        body_json(late).await["redirect_url"],
        page.request.cancel_url
    );
}

#[tokio::test]
async fn the_dispute_action_opens_and_decides_disputes() {
    let page = page().await;
    let body = body_json(page.pay_json(json!({"card": "4242424242424242"})).await).await;
    let path = format!(
        "/sandbox/payments/{}/dispute",
        body["payment_id"].as_str().unwrap()
    );
    let post = |outcome: &'static str| page.post_json(&path, json!({"outcome": outcome}));
    assert_eq!(post("won").await.status(), StatusCode::CONFLICT);
    assert_eq!(post("open").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(post("open").await.status(), StatusCode::CONFLICT);
    let lost = page.post_form(&path, &[("outcome", "lost")]).await;
    assert_eq!(lost.status(), StatusCode::NO_CONTENT);
    assert_eq!(post("maybe").await.status(), StatusCode::BAD_REQUEST);
    let unknown = page
        .post_json(
            "/sandbox/payments/sbp_unknown/dispute",
            json!({"outcome": "open"}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
