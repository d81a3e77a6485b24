//! The gateway through its trait: the link it builds, and the ResultURL notifications it
//! accepts and refuses.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use lyceum_gateway_core::{
    CheckoutLine, CheckoutRequest, Currency, EventKind, Money, PaymentGateway, Split,
    TenantAccount, WebhookError, WebhookRequest,
};
use lyceum_gateway_robokassa::signature::{self, ShopParam};
use lyceum_gateway_robokassa::{HashAlgorithm, Robokassa, RobokassaConfig};
use secrecy::SecretString;
use url::Url;
use uuid::Uuid;

const ORDER: &str = "0193a5b2-7c1d-7e4f-9a0b-1c2d3e4f5a6b";
const TENANT: &str = "0193a5b2-0000-7000-8000-00000000beef";

fn account(hash: HashAlgorithm, receipt: bool) -> TenantAccount {
    let mut settings = BTreeMap::from([("hash".to_owned(), hash.as_str().to_owned())]);
    settings.insert("receipt.enabled".into(), receipt.to_string());
    settings.insert("receipt.tax_system".into(), "usn_income".into());
    TenantAccount::new(
        Some("demo".into()),
        true,
        [
            ("password1".to_owned(), SecretString::from("pass-one")),
            ("password2".to_owned(), SecretString::from("Пароль#2")),
        ],
    )
    .with_settings(settings)
}

fn gateway() -> Robokassa {
    Robokassa::new(RobokassaConfig::default()).unwrap()
}

fn rub(amount: i64) -> Money {
    Money::new(amount, Currency::parse("RUB").unwrap()).unwrap()
}

fn request() -> CheckoutRequest {
    let line = |title: &str, price| CheckoutLine {
        course_id: Uuid::now_v7(),
        title: title.into(),
        quantity: 1,
        unit_price: rub(price),
    };
    CheckoutRequest {
        order_id: Uuid::parse_str(ORDER).unwrap(),
        tenant_id: Uuid::parse_str(TENANT).unwrap(),
        lines: vec![line("Rust «с нуля»", 100_000), line("SQL & co", 50_000)],
        // A discount spread over both lines.
        total: rub(133_333),
        buyer_id: Uuid::now_v7(),
        buyer_email: "buyer@example.com".into(),
        success_url: "https://lyceum.example/o?s=ok".into(),
        cancel_url: "https://lyceum.example/o?s=no".into(),
        split: Split {
            platform_fee: rub(0),
            payee_account: None,
        },
        expires_at: Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap(),
        idempotency_key: "k".into(),
        invoice_number: 4217,
    }
}

#[tokio::test]
async fn the_link_carries_a_receipt_that_adds_up_and_a_valid_signature() {
    let session = gateway()
        .create_checkout(&account(HashAlgorithm::Sha256, true), &request())
        .await
        .unwrap();
    assert_eq!(session.provider_reference, "4217");
    let url = Url::parse(&session.redirect_url).unwrap();
    assert!(
        session
            .redirect_url
            .starts_with("https://auth.robokassa.ru/Merchant/Index.aspx?")
    );
    let q: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["OutSum"], "1333.33");
    assert_eq!(q["InvId"], "4217");
    assert_eq!(q["IsTest"], "1");
    assert_eq!(q["Shp_order"], ORDER);
    assert!(q["Description"].chars().count() <= 100);
    // The Receipt value is the URL-encoded JSON; its items add up to OutSum exactly.
    let json: String = url::form_urlencoded::parse(format!("x={}", q["Receipt"]).as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    let receipt: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(receipt["sno"], "usn_income");
    let kopecks: i64 = receipt["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| lyceum_gateway_robokassa::parse_out_sum(&i["sum"].to_string()).unwrap())
        .sum();
    assert_eq!(kopecks, 133_333);
    let base = format!(
        "demo:1333.33:4217:{}:{}:GET:{}:GET:pass-one:Shp_order={ORDER}:Shp_tenant={TENANT}",
        q["Receipt"], q["SuccessUrl2"], q["FailUrl2"]
    );
    assert_eq!(q["SignatureValue"], HashAlgorithm::Sha256.hex_digest(&base));

    let without = gateway()
        .create_checkout(&account(HashAlgorithm::Md5, false), &request())
        .await
        .unwrap();
    assert!(
        !without.redirect_url.contains("Receipt="),
        "receipts off: none sent"
    );
}

fn notify(hash: HashAlgorithm, password: &str, out_sum: &str, shp: &[(&str, &str)]) -> String {
    let params: Vec<ShopParam> = shp.iter().map(|(k, v)| ShopParam::new(*k, *v)).collect();
    let sig = signature::result_signature(hash, out_sum, "450009", password, &params);
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("OutSum", out_sum)
        .append_pair("InvId", "450009");
    for (k, v) in shp {
        form.append_pair(k, v);
    }
    form.append_pair("SignatureValue", &sig);
    form.finish()
}

async fn verify(
    account: &TenantAccount,
    body: &str,
) -> Result<lyceum_gateway_core::Delivery, WebhookError> {
    let request = WebhookRequest {
        headers: &[],
        body: body.as_bytes(),
        peer: None,
        now: Utc::now(),
    };
    gateway().verify_webhook(account, &request).await
}

const OURS: [(&str, &str); 2] = [("Shp_order", ORDER), ("Shp_tenant", TENANT)];

#[tokio::test]
async fn the_documented_result_notification_verifies_in_either_case() {
    let account = account(HashAlgorithm::Md5, true);
    let body = notify(HashAlgorithm::Md5, "Пароль#2", "100.000000", &OURS);
    let delivery = verify(&account, &body).await.unwrap();
    assert_eq!(delivery.reference.as_deref(), Some("450009"));
    let event = &delivery.events[0];
    assert_eq!(event.kind, EventKind::PaymentSucceeded);
    assert_eq!(event.amount, rub(10_000));
    assert_eq!(event.provider_event_id, "result:450009");
    assert_eq!(event.provider_payment_id, "450009");
    assert_eq!(event.session_ref.as_deref(), Some("450009"));
    assert_eq!(event.order_id.to_string(), ORDER);
    assert_eq!(
        event.tenant_id.map(|t| t.to_string()).as_deref(),
        Some(TENANT)
    );
    let ack = gateway().acknowledge(&delivery);
    assert_eq!((ack.status, ack.body.as_str()), (200, "OK450009"));
    assert!(ack.content_type.starts_with("text/plain"));

    let sig = body.rsplit_once('=').unwrap().1.to_owned();
    let upper = body.replace(&sig, &sig.to_uppercase());
    assert!(
        verify(&account, &upper).await.is_ok(),
        "upper-case signature"
    );
    // Reordered Shp_ parameters in the request still verify: they are sorted.
    let reordered = notify(
        HashAlgorithm::Md5,
        "Пароль#2",
        "100.000000",
        &[OURS[1], OURS[0]],
    );
    assert!(verify(&account, &reordered).await.is_ok());
}

#[tokio::test]
async fn forged_notifications_are_refused() {
    let account = account(HashAlgorithm::Sha512, true);
    let good = notify(HashAlgorithm::Sha512, "Пароль#2", "100.000000", &OURS);
    assert!(verify(&account, &good).await.is_ok());
    let wrong_password = notify(HashAlgorithm::Sha512, "Пароль#1", "100.000000", &OURS);
    assert_eq!(
        verify(&account, &wrong_password).await.unwrap_err(),
        WebhookError::BadSignature
    );
    let tampered = good.replace("OutSum=100.000000", "OutSum=1.000000");
    assert_eq!(
        verify(&account, &tampered).await.unwrap_err(),
        WebhookError::BadSignature
    );
    // Same amount as a different text: signed over the received text, so refused.
    let retyped = good.replace("OutSum=100.000000", "OutSum=100.00");
    assert_eq!(
        verify(&account, &retyped).await.unwrap_err(),
        WebhookError::BadSignature
    );
    let missing = good.replace(&format!("&Shp_tenant={TENANT}"), "");
    assert_eq!(
        verify(&account, &missing).await.unwrap_err(),
        WebhookError::BadSignature
    );
    let added = format!("{good}&Shp_extra=1");
    assert_eq!(
        verify(&account, &added).await.unwrap_err(),
        WebhookError::BadSignature
    );
    let other_hash = notify(HashAlgorithm::Md5, "Пароль#2", "100.000000", &OURS);
    assert_eq!(
        verify(&account, &other_hash).await.unwrap_err(),
        WebhookError::BadSignature
    );
    let unsigned = good.split("&SignatureValue").next().unwrap().to_owned();
    assert_eq!(
        verify(&account, &unsigned).await.unwrap_err(),
        WebhookError::MissingSignature
    );
    // Signed, but more precise than kopecks.
    let fraction = notify(HashAlgorithm::Sha512, "Пароль#2", "100.005000", &OURS);
    assert!(matches!(
        verify(&account, &fraction).await,
        Err(WebhookError::MalformedBody(_))
    ));
    // No shop configured: nothing verifies.
    assert_eq!(
        verify(&TenantAccount::default(), &good).await.unwrap_err(),
        WebhookError::NotConfigured
    );
}
