//! The fake platform for the delivery tests: a real HTTP server on 127.0.0.1:0 that mounts
//! the sandbox's pages at `/sandbox` and records every delivery to `/webhooks/sandbox`,
//! refusing the first one with a 500.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use lyceum_gateway_core::{
    CheckoutLine, CheckoutRequest, Currency, GatewayEvent, Money, PaymentGateway, Split,
    TenantAccount, WebhookRequest,
};
use lyceum_gateway_sandbox::{DeliveryOptions, Sandbox, SandboxConfig};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Request, Route, Server, handler, post};
use uuid::Uuid;

pub const SECRET: &str = "whsec_delivery_test";
pub const SETTLE: Duration = Duration::from_secs(5);

/// One delivery as the fake platform saw it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: StatusCode,
}

#[derive(Default)]
pub struct Platform {
    received: Mutex<Vec<Delivery>>,
    calls: AtomicUsize,
}

#[handler]
fn webhook(req: &Request, body: Vec<u8>, Data(platform): Data<&Arc<Platform>>) -> StatusCode {
    let status = match platform.calls.fetch_add(1, Ordering::SeqCst) {
        0 => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    };
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    platform.received.lock().unwrap().push(Delivery {
        headers,
        body,
        status,
    });
    status
}

pub struct App {
    pub sandbox: Sandbox,
    pub platform: Arc<Platform>,
    /// The fake platform's base URL, without a trailing slash.
    pub base: String,
}

impl App {
    pub async fn spawn(delivery: DeliveryOptions) -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        let base = format!("http://{addr}/");
        let sandbox = Sandbox::new(SandboxConfig {
            public_url: base.clone(),
            secrets: vec![SECRET.to_owned()],
            delivery,
            ..SandboxConfig::default()
        })
        .unwrap();
        let platform = Arc::new(Platform::default());
        let routes = Route::new().nest("/sandbox", sandbox.routes()).at(
            "/webhooks/sandbox",
            post(webhook).data(Arc::clone(&platform)),
        );
        tokio::spawn(Server::new_with_acceptor(acceptor).run(routes));
        Self {
            sandbox,
            platform,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Deliveries the platform accepted, verified as the platform would, with raw bodies.
    pub async fn accepted(&self) -> Vec<(GatewayEvent, serde_json::Value)> {
        let mut accepted = Vec::new();
        for delivery in self.received() {
            if delivery.status != StatusCode::OK {
                continue;
            }
            let request = WebhookRequest {
                headers: &delivery.headers,
                body: &delivery.body,
                peer: None,
                now: Utc::now(),
            };
            let mut events = self
                .sandbox
                .verify_webhook(&TenantAccount::default(), &request)
                .await
                .unwrap()
                .events;
            assert_eq!(events.len(), 1);
            let json = serde_json::from_slice(&delivery.body).unwrap();
            accepted.push((events.remove(0), json));
        }
        accepted
    }

    pub fn received(&self) -> Vec<Delivery> {
        self.platform.received.lock().unwrap().clone()
    }
}

pub fn options(duplicate: bool) -> DeliveryOptions {
    DeliveryOptions {
        duplicate,
        retry_base: Duration::from_millis(50),
        max_attempts: 5,
        ..DeliveryOptions::default()
    }
}

pub fn checkout_request() -> CheckoutRequest {
    let price = Money::new(1999, Currency::parse("USD").unwrap()).unwrap();
    CheckoutRequest {
        order_id: Uuid::now_v7(),
        tenant_id: Uuid::now_v7(),
        lines: vec![CheckoutLine {
            course_id: Uuid::now_v7(),
            title: "Rust for everyone".to_owned(),
            quantity: 1,
            unit_price: price,
        }],
        total: price,
        buyer_id: Uuid::now_v7(),
        buyer_email: "buyer@example.com".to_owned(),
        success_url: "http://shop.test/orders/1".to_owned(),
        cancel_url: "http://shop.test/cart".to_owned(),
        split: Split {
            platform_fee: Money::new(199, Currency::parse("USD").unwrap()).unwrap(),
            payee_account: None,
        },
        expires_at: chrono::Utc::now() + chrono::TimeDelta::hours(1),
        idempotency_key: Uuid::now_v7().to_string(),
        invoice_number: 1,
    }
}
