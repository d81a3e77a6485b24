//! The recorded event payloads in `tests/fixtures/stripe/events/`, with their placeholders
//! filled in (see `tests/fixtures/stripe/README.md`).

use std::path::PathBuf;

/// The directory of the Stripe fixtures.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/stripe")
}

/// The names of the recorded events (file stems), sorted.
pub fn event_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir().join("events"))
        .expect("tests/fixtures/stripe/events")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// The raw text of recorded event `name`, placeholders and all.
pub fn raw_event(name: &str) -> String {
    let path = dir().join("events").join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The values substituted for the placeholders.
#[derive(Debug, Clone)]
pub struct Values {
    /// `{{ORDER_ID}}`: our order id (`client_reference_id`, `metadata.order_id`).
    pub order_id: String,
    /// `{{TENANT_ID}}`: `metadata.tenant_id`.
    pub tenant_id: String,
    /// `{{SESSION_ID}}`: the Checkout Session id (`cs_…`).
    pub session_id: String,
    /// `{{PAYMENT_INTENT}}`: the PaymentIntent id (`pi_…`).
    pub payment_intent: String,
    /// `{{ACCOUNT}}`: the connected account (`acct_…`).
    pub account: String,
    /// `{{REFUND_ID}}`: our refund id (`metadata.refund_id` of a refund).
    pub refund_id: String,
    /// `"{{AMOUNT}}"` (quotes included): the amount in minor units, an integer.
    pub amount: i64,
    /// `{{CURRENCY}}`: the lowercase ISO code.
    pub currency: String,
}

impl Default for Values {
    fn default() -> Self {
        Self {
            order_id: "0191c8a2-0000-7000-8000-000000000001".into(),
            tenant_id: "0191c8a2-0000-7000-8000-000000000002".into(),
            session_id: "cs_test_fixture0000000000000000".into(),
            payment_intent: "pi_fixture000000000000000".into(),
            account: "acct_fixture00000000".into(),
            refund_id: "0191c8a2-0000-7000-8000-000000000003".into(),
            amount: 4900,
            currency: "usd".into(),
        }
    }
}

impl Values {
    /// `text` with every placeholder replaced; panics if one is left over.
    pub fn fill(&self, text: &str) -> String {
        let filled = text
            .replace("\"{{AMOUNT}}\"", &self.amount.to_string())
            .replace("{{ORDER_ID}}", &self.order_id)
            .replace("{{TENANT_ID}}", &self.tenant_id)
            .replace("{{SESSION_ID}}", &self.session_id)
            .replace("{{PAYMENT_INTENT}}", &self.payment_intent)
            .replace("{{ACCOUNT}}", &self.account)
            .replace("{{REFUND_ID}}", &self.refund_id)
            .replace("{{CURRENCY}}", &self.currency);
        assert!(!filled.contains("{{"), "a placeholder is left in: {filled}");
        filled
    }

    /// Recorded event `name`, filled in.
    pub fn event(&self, name: &str) -> String {
        self.fill(&raw_event(name))
    }
}
