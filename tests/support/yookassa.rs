//! A fake YooKassa API v3 for the black-box tests, written from YooKassa's documented
//! behaviour: an in-process HTTP server on 127.0.0.1 under `/v3`, and a notifier that POSTs
//! notifications to the server under test.
//!
//! It owns: shops (HTTP Basic `shop_id:secret_key`; a wrong pair is 401), `GET /me`,
//! payments (`POST /payments` with a required `Idempotence-Key` — the same key and body
//! replays the saved answer, the same key with another body is refused —, amounts as decimal
//! strings with two places, receipts whose items must add up to the amount, `transfers` only
//! from the platform's shop), `GET /payments/{id}` (a shop sees only its own), capture and
//! cancel of a payment waiting for capture, refunds (`POST /refunds`, partial, never beyond
//! what is left, receipts adding up to the refund, `sources`), `GET /refunds/{id}`, and errors
//! in YooKassa's shape (`{"type": "error", "code", "description"}`).
//!
//! What happens without an API call — a buyer paying, a notification — are test controls on
//! [`FakeYookassa`]; they deliver and return the answer's status.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use poem::http::StatusCode;
use poem::{Request, Response};
use serde_json::{Value, json};

use crate::fake_server::FakeServer;

/// One API request as the fake received it.
#[derive(Debug, Clone)]
pub struct YooRequest {
    pub method: String,
    /// Below `/v3`: `/payments`, `/refunds/…`.
    pub path: String,
    /// The shop whose credentials it carried, when they were right.
    pub shop: Option<String>,
    pub idempotence_key: Option<String>,
    pub body: Value,
    pub status: u16,
    pub replayed: bool,
}

#[derive(Debug, Default)]
struct State {
    /// shop id → secret key.
    shops: HashMap<String, String>,
    /// The shop that may split payments (the platform's).
    split_shop: Option<String>,
    /// id → (owning shop, object).
    payments: BTreeMap<String, (String, Value)>,
    refunds: BTreeMap<String, (String, Value)>,
    /// (shop, key) → (request body, status, answer).
    keys: HashMap<(String, String), (Value, u16, Value)>,
    requests: Vec<YooRequest>,
    target: Option<String>,
    /// The status new refunds get.
    refund_status: String,
    /// Answer this many API calls with 500 first.
    failures: usize,
    /// Do this many API calls, then answer them with 500 (the answer is lost).
    lost_answers: usize,
    /// The fake's own address (for confirmation URLs).
    base: String,
}

/// The fake YooKassa. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeYookassa {
    state: Arc<Mutex<State>>,
    server: FakeServer,
}

fn error(status: StatusCode, code: &str, description: &str) -> (u16, Value) {
    (
        status.as_u16(),
        json!({"type": "error", "id": uuid::Uuid::new_v4().to_string(), "code": code, "description": description}),
    )
}

/// A YooKassa amount in kopecks, if it is one: `{"value": "d+.dd", "currency": "RUB"}`.
fn kopecks(amount: &Value) -> Option<i64> {
    let value = amount["value"].as_str()?;
    if amount["currency"].as_str()? != "RUB" {
        return None;
    }
    let (whole, fraction) = value.split_once('.')?;
    if whole.is_empty()
        || fraction.len() != 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(whole.parse::<i64>().ok()? * 100 + fraction.parse::<i64>().ok()?)
}

fn rub(kopecks: i64) -> Value {
    json!({"value": format!("{}.{:02}", kopecks / 100, kopecks % 100), "currency": "RUB"})
}

/// Checks a receipt against the amount it is for: the customer's contact, items whose
/// `amount × quantity` add up exactly, each with its VAT code, subject and mode.
fn check_receipt(receipt: &Value, total: i64) -> Result<(), String> {
    if receipt["customer"]["email"]
        .as_str()
        .is_none_or(str::is_empty)
    {
        return Err("receipt.customer.email is required".into());
    }
    let items = receipt["items"]
        .as_array()
        .filter(|i| !i.is_empty())
        .ok_or("receipt.items is required")?;
    let mut sum = 0;
    for item in items {
        let each = kopecks(&item["amount"]).ok_or("receipt item amount is invalid")?;
        let quantity = item["quantity"]
            .as_i64()
            .ok_or("receipt item quantity is invalid")?;
        if item["vat_code"]
            .as_i64()
            .is_none_or(|v| !(1..=12).contains(&v))
        {
            return Err("receipt item vat_code is invalid".into());
        }
        if item["description"]
            .as_str()
            .is_none_or(|d| d.is_empty() || d.chars().count() > 128)
        {
            return Err("receipt item description is invalid".into());
        }
        for field in ["payment_subject", "payment_mode"] {
            if !item[field].is_string() {
                return Err(format!("receipt item {field} is required"));
            }
        }
        sum += each * quantity;
    }
    if sum != total {
        return Err(format!(
            "the sum of the receipt's items ({sum}) is not the amount ({total})"
        ));
    }
    Ok(())
}

impl State {
    fn shop_of(&self, req: &Request) -> Option<String> {
        let header = req.headers().get("authorization")?.to_str().ok()?;
        let encoded = header.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        let (shop, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
        (self.shops.get(shop).map(String::as_str) == Some(secret)).then(|| shop.to_owned())
    }

    fn create_payment(&mut self, shop: &str, body: &Value, base: &str) -> (u16, Value) {
        let Some(total) = kopecks(&body["amount"]).filter(|t| *t > 0) else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "amount is invalid",
            );
        };
        let Some(return_url) = body["confirmation"]["return_url"].as_str() else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "confirmation.return_url is required",
            );
        };
        if body["confirmation"]["type"] != "redirect" {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "confirmation.type is invalid",
            );
        }
        if let Some(receipt) = body.get("receipt")
            && let Err(why) = check_receipt(receipt, total)
        {
            return error(StatusCode::BAD_REQUEST, "invalid_request", &why);
        }
        if let Some(transfers) = body.get("transfers") {
            if self.split_shop.as_deref() != Some(shop) {
                return error(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "this shop cannot split payments",
                );
            }
            let mut sum = 0;
            for t in transfers.as_array().into_iter().flatten() {
                let (Some(amount), Some(fee)) =
                    (kopecks(&t["amount"]), kopecks(&t["platform_fee_amount"]))
                else {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "transfer amount is invalid",
                    );
                };
                if fee > amount || t["account_id"].as_str().is_none() {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "transfer is invalid",
                    );
                }
                sum += amount;
            }
            if sum > total {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "transfers exceed the amount",
                );
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let payment = json!({
            "id": id,
            "status": "pending",
            "paid": false,
            "amount": body["amount"],
            "description": body["description"],
            "recipient": {"account_id": shop, "gateway_id": "1"},
            "confirmation": {"type": "redirect", "return_url": return_url, "confirmation_url": format!("{base}/checkout/{id}")},
            "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "test": self.shops[shop].starts_with("test_"),
            "refunded_amount": rub(0),
            "refundable": false,
            "metadata": body.get("metadata").cloned().unwrap_or(json!({})),
            "transfers": body.get("transfers").cloned().unwrap_or(json!([])),
        });
        self.payments.insert(id, (shop.to_owned(), payment.clone()));
        (200, payment)
    }

    fn create_refund(&mut self, shop: &str, body: &Value) -> (u16, Value) {
        let Some(payment_id) = body["payment_id"].as_str() else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "payment_id is required",
            );
        };
        let Some((owner, payment)) = self.payments.get(payment_id).cloned() else {
            return error(StatusCode::NOT_FOUND, "not_found", "payment not found");
        };
        if owner != shop {
            return error(StatusCode::NOT_FOUND, "not_found", "payment not found");
        }
        if payment["status"] != "succeeded" {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the payment cannot be refunded",
            );
        }
        let paid = kopecks(&payment["amount"]).unwrap_or(0);
        let refunded = kopecks(&payment["refunded_amount"]).unwrap_or(0);
        let Some(amount) = kopecks(&body["amount"]).filter(|a| *a > 0) else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "amount is invalid",
            );
        };
        if amount > paid - refunded {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the refund exceeds what is left",
            );
        }
        if let Some(receipt) = body.get("receipt")
            && let Err(why) = check_receipt(receipt, amount)
        {
            return error(StatusCode::BAD_REQUEST, "invalid_request", &why);
        }
        let id = uuid::Uuid::new_v4().to_string();
        let status = self.refund_status.clone();
        let refund = json!({
            "id": id,
            "payment_id": payment_id,
            "status": status,
            "amount": body["amount"],
            "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "sources": body.get("sources").cloned().unwrap_or(json!([])),
            "metadata": body.get("metadata").cloned().unwrap_or(json!({})),
        });
        if status == "succeeded" {
            self.add_refunded(payment_id, amount);
        }
        self.refunds.insert(id, (shop.to_owned(), refund.clone()));
        (200, refund)
    }

    fn add_refunded(&mut self, payment_id: &str, amount: i64) {
        if let Some((_, p)) = self.payments.get_mut(payment_id) {
            let now = kopecks(&p["refunded_amount"]).unwrap_or(0) + amount;
            p["refunded_amount"] = rub(now);
        }
    }

    fn transition(&mut self, shop: &str, id: &str, action: &str, body: &Value) -> (u16, Value) {
        let Some((owner, payment)) = self.payments.get_mut(id) else {
            return error(StatusCode::NOT_FOUND, "not_found", "payment not found");
        };
        if owner != shop {
            return error(StatusCode::NOT_FOUND, "not_found", "payment not found");
        }
        if payment["status"] != "waiting_for_capture" {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the payment is not waiting for capture",
            );
        }
        if action == "capture" {
            if let Some(amount) = body.get("amount")
                && kopecks(amount) != kopecks(&payment["amount"])
            {
                payment["amount"] = amount.clone();
            }
            payment["status"] = json!("succeeded");
            payment["captured_at"] = json!(chrono::Utc::now().to_rfc3339());
        } else {
            payment["status"] = json!("canceled");
            payment["paid"] = json!(false);
            payment["cancellation_details"] =
                json!({"party": "merchant", "reason": "canceled_by_merchant"});
        }
        (200, payment.clone())
    }

    /// One API call, already authenticated as `shop`.
    fn api(
        &mut self,
        shop: &str,
        method: &str,
        path: &str,
        query: &HashMap<String, String>,
        body: &Value,
        base: &str,
    ) -> (u16, Value) {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            ("GET", ["me"]) => (
                200,
                json!({"account_id": shop, "test": self.shops[shop].starts_with("test_"), "status": "enabled", "fiscalization_enabled": true}),
            ),
            ("POST", ["payments"]) => self.create_payment(shop, body, base),
            ("GET", ["payments", id]) => match self.payments.get(*id) {
                Some((owner, p)) if owner == shop => (200, p.clone()),
                _ => error(StatusCode::NOT_FOUND, "not_found", "payment not found"),
            },
            ("POST", ["payments", id, action @ ("capture" | "cancel")]) => {
                self.transition(shop, id, action, body)
            }
            ("POST", ["refunds"]) => self.create_refund(shop, body),
            ("GET", ["refunds"]) => {
                let items: Vec<Value> = self
                    .refunds
                    .values()
                    .filter(|(owner, r)| {
                        owner == shop
                            && query
                                .get("payment_id")
                                .is_none_or(|p| r["payment_id"] == p.as_str())
                    })
                    .map(|(_, r)| r.clone())
                    .collect();
                (200, json!({"type": "list", "items": items}))
            }
            ("GET", ["refunds", id]) => match self.refunds.get(*id) {
                Some((owner, r)) if owner == shop => (200, r.clone()),
                _ => error(StatusCode::NOT_FOUND, "not_found", "refund not found"),
            },
            _ => error(StatusCode::NOT_FOUND, "not_found", "no such method"),
        }
    }
}

async fn serve(state: &Mutex<State>, mut req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let full = req.uri().path().to_owned();
    let query: HashMap<String, String> = req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let key = req
        .headers()
        .get("idempotence-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = req.take_body().into_vec().await.unwrap_or_default();
    let body: Value = if bytes.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        }
    };
    let mut state = state.lock().unwrap();
    let base = state.base.clone();
    let base = base.as_str();
    let shop = state.shop_of(&req);
    let Some(path) = full.strip_prefix("/v3") else {
        return answer(404, json!({"type": "error", "code": "not_found"}));
    };
    let mut record = YooRequest {
        method: method.clone(),
        path: path.to_owned(),
        shop: shop.clone(),
        idempotence_key: key.clone(),
        body: body.clone(),
        status: 0,
        replayed: false,
    };
    let (status, value) = if state.failures > 0 {
        state.failures -= 1;
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "try again",
        )
    } else if let Some(shop) = &shop {
        if method == "POST" {
            match &key {
                None => error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Idempotence-Key is required",
                ),
                Some(k) if k.is_empty() || k.len() > 64 => error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Idempotence-Key is invalid",
                ),
                Some(k) => match state.keys.get(&(shop.clone(), k.clone())).cloned() {
                    Some((saved_body, status, saved)) if saved_body == body => {
                        record.replayed = true;
                        (status, saved)
                    }
                    Some(_) => error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "the Idempotence-Key was used with other parameters",
                    ),
                    None => {
                        let (status, value) = state.api(shop, &method, path, &query, &body, base);
                        state.keys.insert(
                            (shop.clone(), k.clone()),
                            (body.clone(), status, value.clone()),
                        );
                        (status, value)
                    }
                },
            }
        } else {
            state.api(shop, &method, path, &query, &body, base)
        }
    } else {
        error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Basic authorization is invalid",
        )
    };
    let (status, value) = if state.lost_answers > 0 && status == 200 {
        state.lost_answers -= 1;
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "the answer was lost",
        )
    } else {
        (status, value)
    };
    record.status = status;
    state.requests.push(record);
    answer(status, value)
}

fn answer(status: u16, value: Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(value.to_string())
}

impl FakeYookassa {
    /// Starts the fake on a random port with one shop.
    pub async fn start(shop_id: &str, secret_key: &str) -> Self {
        let state = Arc::new(Mutex::new(State {
            shops: HashMap::from([(shop_id.to_owned(), secret_key.to_owned())]),
            refund_status: "succeeded".to_owned(),
            ..State::default()
        }));
        let server = {
            let state = Arc::clone(&state);
            FakeServer::start(move |req| {
                let state = Arc::clone(&state);
                async move { serve(&state, req).await }
            })
            .await
        };
        state.lock().unwrap().base = server.base.clone();
        Self { state, server }
    }

    /// The API base with its version, as `LYCEUM_YOOKASSA_API_BASE` takes it.
    pub fn api_base(&self) -> String {
        format!("{}/v3", self.server.base)
    }

    /// Another shop; `split` makes it the one that may split payments (the platform's).
    pub fn add_shop(&self, shop_id: &str, secret_key: &str, split: bool) {
        let mut state = self.lock();
        state
            .shops
            .insert(shop_id.to_owned(), secret_key.to_owned());
        if split {
            state.split_shop = Some(shop_id.to_owned());
        }
    }

    /// Where notifications are POSTed (`…/webhooks/yookassa/{tenant}`).
    pub fn set_webhook_target(&self, url: impl Into<String>) {
        self.lock().target = Some(url.into());
    }

    /// The status new refunds get (`succeeded` by default, or `pending`).
    pub fn set_refund_status(&self, status: &str) {
        self.lock().refund_status = status.to_owned();
    }

    /// Answer the next `n` API calls with 500.
    pub fn fail_next(&self, n: usize) {
        self.lock().failures = n;
    }

    /// Do the next `n` successful API calls, then answer them with 500 as if the answer was
    /// lost on the way.
    pub fn lose_next_answers(&self, n: usize) {
        self.lock().lost_answers = n;
    }

    /// A payment made in `shop` by something other than Lyceum (the shop's other business),
    /// with its own metadata; returns its id.
    pub fn foreign_payment(&self, shop: &str, status: &str, metadata: Value) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let payment = json!({
            "id": id, "status": status, "paid": status != "pending", "amount": rub(10_000),
            "metadata": metadata, "created_at": chrono::Utc::now().to_rfc3339(),
        });
        self.lock()
            .payments
            .insert(id.clone(), (shop.to_owned(), payment));
        id
    }

    /// YooKassa gives up a pending refund (`canceled`), without notifying.
    pub fn cancel_refund(&self, refund: &str) {
        let mut state = self.lock();
        let (_, r) = state.refunds.get_mut(refund).expect("a refund of the fake");
        r["status"] = json!("canceled");
        r["cancellation_details"] = json!({"party": "yoo_money", "reason": "insufficient_funds"});
    }

    pub fn requests(&self) -> Vec<YooRequest> {
        self.lock().requests.clone()
    }

    pub fn payment(&self, id: &str) -> Option<Value> {
        self.lock().payments.get(id).map(|(_, p)| p.clone())
    }

    pub fn refund(&self, id: &str) -> Option<Value> {
        self.lock().refunds.get(id).map(|(_, r)| r.clone())
    }

    /// The payment id of a confirmation URL the buyer was sent to.
    pub fn payment_of(&self, confirmation_url: &str) -> String {
        confirmation_url
            .rsplit('/')
            .next()
            .expect("a confirmation URL")
            .to_owned()
    }

    /// Changes a payment as YooKassa would (`succeeded` and paid, `waiting_for_capture`,
    /// `canceled`), without notifying.
    pub fn set_status(&self, payment: &str, status: &str) {
        let mut state = self.lock();
        let (_, p) = state
            .payments
            .get_mut(payment)
            .expect("a payment of the fake");
        p["status"] = json!(status);
        p["paid"] = json!(matches!(status, "succeeded" | "waiting_for_capture"));
        if status == "succeeded" {
            p["captured_at"] = json!(chrono::Utc::now().to_rfc3339());
        }
    }

    /// The buyer pays: the payment succeeds and `payment.succeeded` is delivered; returns the
    /// answer's status.
    pub async fn pay(&self, payment: &str) -> u16 {
        self.set_status(payment, "succeeded");
        self.notify("payment.succeeded", payment).await
    }

    /// Every refund of a payment, oldest first.
    pub fn refunds_of(&self, payment: &str) -> Vec<Value> {
        self.lock()
            .refunds
            .values()
            .filter(|(_, r)| r["payment_id"] == payment)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// YooKassa makes a pending refund, without notifying.
    pub fn complete_refund(&self, refund: &str) {
        let mut state = self.lock();
        let (_, r) = state.refunds.get_mut(refund).expect("a refund of the fake");
        r["status"] = json!("succeeded");
        let (payment, amount) = (
            r["payment_id"].as_str().unwrap().to_owned(),
            kopecks(&r["amount"]).unwrap(),
        );
        state.add_refunded(&payment, amount);
    }

    /// YooKassa makes a pending refund and delivers `refund.succeeded`.
    pub async fn settle_refund(&self, refund: &str) -> u16 {
        self.complete_refund(refund);
        self.notify("refund.succeeded", refund).await
    }

    /// The notification YooKassa sends for `event` about object `id`: the object as it is now.
    pub fn notification(&self, event: &str, id: &str) -> Value {
        let state = self.lock();
        let object = state
            .payments
            .get(id)
            .or_else(|| state.refunds.get(id))
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| json!({"id": id}));
        json!({"type": "notification", "event": event, "object": object})
    }

    /// Delivers `event` about `id` from 127.0.0.1; returns the answer's status.
    pub async fn notify(&self, event: &str, id: &str) -> u16 {
        let body = self.notification(event, id);
        self.send(&body, "127.0.0.1".parse().unwrap(), &[]).await
    }

    /// POSTs `body` to the target from the local address `from` (any of 127.0.0.0/8), with
    /// extra headers; returns the answer's status.
    pub async fn send(&self, body: &Value, from: IpAddr, headers: &[(&str, &str)]) -> u16 {
        let target = self.lock().target.clone().expect("a webhook target");
        let client = reqwest::Client::builder()
            .local_address(from)
            .build()
            .unwrap();
        let mut request = client.post(target).json(body);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    pub async fn stop(mut self) {
        self.server.stop().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}
