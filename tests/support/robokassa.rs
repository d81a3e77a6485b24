//! A fake Robokassa for the black-box tests, written from Robokassa's documentation
//! (`../shared/GATEWAYS.md` §5): an in-process HTTP server on 127.0.0.1 with
//!
//! - the payment page `GET /Merchant/Index.aspx?…`: records each link and checks its
//!   `SignatureValue` with the shop's Password #1 (receipt, return URLs and `Shp_` included);
//! - the web service `…/WebService/Service.asmx/OpStateExt` (GET or POST), signed with
//!   Password #2, answering Robokassa's XML;
//! - the Refund API `POST /RefundService/Refund/Create` (a JWT checked with Password #3) and
//!   `GET /RefundService/Refund/GetState?id=`.
//!
//! What the buyer and Robokassa do without being called are test controls: [`FakeRobokassa::pay`]
//! marks an invoice paid and calls the shop's ResultURL with a correctly signed form, as
//! Robokassa does; [`FakeRobokassa::pay_silently`] pays without calling (a lost callback).
//! Its signatures are its own (the hash crates directly), not the gateway crate's.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::fake_server::FakeServer;

mod routes;
pub mod sign;

pub use sign::Hash;

/// The one shop the fake knows.
#[derive(Debug, Clone)]
pub struct ShopKeys {
    pub login: String,
    pub password1: String,
    pub password2: String,
    /// Refund API access; `None`: the API refuses every token.
    pub password3: Option<String>,
    pub hash: Hash,
}

/// A payment link as the page received it.
#[derive(Debug, Clone)]
pub struct Link {
    pub params: BTreeMap<String, String>,
    /// Whether `SignatureValue` was right for Password #1.
    pub signature_ok: bool,
    /// The `Receipt`'s JSON (URL-decoded), when the link had one.
    pub receipt: Option<serde_json::Value>,
    /// Whether the receipt's item sums add up to `OutSum` exactly (true without a receipt).
    pub receipt_adds_up: bool,
}

/// An invoice the page was opened for.
#[derive(Debug, Clone)]
pub struct Invoice {
    pub inv_id: String,
    /// `OutSum` as the link sent it.
    pub out_sum: String,
    pub shp: Vec<(String, String)>,
    pub email: String,
    /// OpStateExt's state code: 5 opened, 100 paid, 60 failed.
    pub state: u32,
    pub op_key: String,
}

/// A refund request the Refund API took.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub id: String,
    pub op_key: String,
    /// `RefundSum`, as the JWT's payload wrote it; `None`: the whole payment.
    pub refund_sum: Option<String>,
    /// `processing` until [`FakeRobokassa::finish_refunds`], then `finished`.
    pub label: String,
}

#[derive(Debug, Default)]
struct State {
    shop: Option<ShopKeys>,
    /// The app's ResultURL.
    result_url: Option<String>,
    links: Vec<Link>,
    invoices: BTreeMap<String, Invoice>,
    refunds: Vec<RefundRequest>,
    op_state_calls: usize,
    /// Take the next refund, then answer 502 (the answer is lost on the way).
    pub(crate) lose_next_create_answer: bool,
}

/// The fake's server and state. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeRobokassa {
    state: Arc<Mutex<State>>,
    server: FakeServer,
    client: reqwest::Client,
}

impl FakeRobokassa {
    pub async fn start(shop: ShopKeys) -> Self {
        let state = Arc::new(Mutex::new(State {
            shop: Some(shop),
            ..State::default()
        }));
        let server = {
            let state = Arc::clone(&state);
            FakeServer::start(move |req| {
                let state = Arc::clone(&state);
                async move { routes::serve(&state, req).await }
            })
            .await
        };
        Self {
            state,
            server,
            client: reqwest::Client::new(),
        }
    }

    pub fn pay_url(&self) -> String {
        format!("{}/Merchant/Index.aspx", self.server.base)
    }

    pub fn api_base(&self) -> String {
        format!("{}/Merchant/WebService/Service.asmx", self.server.base)
    }

    pub fn refund_base(&self) -> String {
        format!("{}/RefundService", self.server.base)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("the fake's state")
    }

    /// Where [`pay`](Self::pay) sends the ResultURL notification.
    pub fn set_result_url(&self, url: impl Into<String>) {
        self.lock().result_url = Some(url.into());
    }

    /// The shop's keys from now on (a shop that gives or drops Password #3).
    pub fn set_shop(&self, shop: ShopKeys) {
        self.lock().shop = Some(shop);
    }

    pub fn links(&self) -> Vec<Link> {
        self.lock().links.clone()
    }

    pub fn invoice(&self, inv_id: &str) -> Option<Invoice> {
        self.lock().invoices.get(inv_id).cloned()
    }

    pub fn refunds(&self) -> Vec<RefundRequest> {
        self.lock().refunds.clone()
    }

    pub fn op_state_calls(&self) -> usize {
        self.lock().op_state_calls
    }

    /// The next `Refund/Create` is taken, and its answer lost (502).
    pub fn lose_next_create_answer(&self) {
        self.lock().lose_next_create_answer = true;
    }

    /// Robokassa gives up every refund it holds (`canceled`).
    pub fn cancel_refunds(&self) {
        for r in &mut self.lock().refunds {
            r.label = "canceled".into();
        }
    }

    /// Every refund in `processing` is `finished`.
    pub fn finish_refunds(&self) {
        for r in &mut self.lock().refunds {
            r.label = "finished".into();
        }
    }

    /// The buyer paid invoice `inv_id`, and Robokassa did not call the ResultURL.
    pub fn pay_silently(&self, inv_id: &str) {
        let mut state = self.lock();
        let invoice = state
            .invoices
            .get_mut(inv_id)
            .expect("no such invoice: open its link first");
        invoice.state = 100;
    }

    /// The buyer paid invoice `inv_id`: Robokassa POSTs the ResultURL form. Returns the
    /// answer's status and body.
    pub async fn pay(&self, inv_id: &str) -> (u16, String) {
        self.pay_silently(inv_id);
        let form = self.result_form(inv_id, None);
        self.notify(&form, false).await
    }

    /// A ResultURL form for `inv_id` as Robokassa signs it (Password #2), with `OutSum`
    /// six-decimal as Robokassa writes it, or `out_sum` when given (still correctly signed).
    pub fn result_form(&self, inv_id: &str, out_sum: Option<&str>) -> Vec<(String, String)> {
        let state = self.lock();
        let shop = state.shop.clone().expect("a shop");
        let invoice = state.invoices.get(inv_id).expect("no such invoice").clone();
        let out_sum = out_sum.map_or_else(|| six_decimals(&invoice.out_sum), str::to_owned);
        let signature = sign::result(shop.hash, &out_sum, inv_id, &shop.password2, &invoice.shp);
        let mut form = vec![
            ("OutSum".to_owned(), out_sum),
            ("InvId".to_owned(), inv_id.to_owned()),
            ("Fee".to_owned(), "0.000000".to_owned()),
            ("EMail".to_owned(), invoice.email.clone()),
            ("SignatureValue".to_owned(), signature),
            ("PaymentMethod".to_owned(), "BankCard".to_owned()),
            ("IncCurrLabel".to_owned(), "BankCardPSR".to_owned()),
        ];
        form.extend(invoice.shp.iter().cloned());
        form
    }

    /// Sends a ResultURL form (POST, or GET with the form as the query).
    pub async fn notify(&self, form: &[(String, String)], as_get: bool) -> (u16, String) {
        let target = self
            .lock()
            .result_url
            .clone()
            .expect("set_result_url first");
        let request = if as_get {
            self.client.get(&target).query(form)
        } else {
            self.client.post(&target).form(form)
        };
        let response = request.send().await.expect("the app answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    pub async fn stop(mut self) {
        self.server.stop().await;
    }
}

/// `1490.00` as Robokassa echoes it: `1490.000000`.
fn six_decimals(out_sum: &str) -> String {
    let (whole, fraction) = out_sum.split_once('.').unwrap_or((out_sum, ""));
    format!("{whole}.{fraction:0<6}")
}
