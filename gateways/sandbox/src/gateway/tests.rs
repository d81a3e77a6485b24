//! The gateway as the platform calls it: checkout, refunds, fetch, restarts.

use std::time::Duration;

use lyceum_gateway_core::EventKind;

use super::*;
use crate::testing::{SECRET, checkout_request, sandbox, usd};
use crate::{DisputeOutcome, PayOutcome, SandboxConfig, SandboxError};

const TTL: Duration = Duration::from_secs(1800);

fn lookup(request: &CheckoutRequest, session_ref: Option<&str>) -> PaymentLookup {
    PaymentLookup {
        order_id: request.order_id,
        tenant_id: request.tenant_id,
        session_ref: session_ref.map(str::to_owned),
        provider_payment_id: None,
    }
}

async fn paid(sandbox: &Sandbox, request: &CheckoutRequest) -> (CheckoutSession, String) {
    let session = sandbox
        .create_checkout(&TenantAccount::default(), request)
        .await
        .unwrap();
    let outcome = sandbox
        .pay(&session.provider_reference, "4242 4242 4242 4242")
        .await
        .unwrap();
    let PayOutcome::Succeeded {
        payment_id,
        redirect_url,
    } = outcome
    else {
        panic!("declined")
    };
    assert_eq!(redirect_url, request.success_url);
    (session, payment_id)
}

#[tokio::test]
async fn checkout_points_at_the_pay_page_and_is_idempotent() {
    let sandbox = sandbox(TTL);
    let request = checkout_request("order-1-attempt-1");
    let first = sandbox
        .create_checkout(&TenantAccount::default(), &request)
        .await
        .unwrap();
    let again = sandbox
        .create_checkout(&TenantAccount::default(), &request)
        .await
        .unwrap();
    assert_eq!(first, again);
    assert!(first.provider_reference.starts_with("sbs_"));
    assert_eq!(
        first.redirect_url,
        format!(
            "http://127.0.0.1:9/sandbox/pay/{}",
            first.provider_reference
        )
    );
    let remaining = first.expires_at - Utc::now();
    assert!(remaining > chrono::TimeDelta::minutes(29), "{remaining}");
}

#[tokio::test]
async fn refunds_are_limited_and_idempotent_through_the_gateway() {
    let sandbox = sandbox(TTL);
    let request = checkout_request("k");
    let (_, payment_id) = paid(&sandbox, &request).await;
    let sent = sandbox.inner.sender.sent();
    let refund = RefundRequest {
        order_id: request.order_id,
        tenant_id: request.tenant_id,
        provider_payment_id: payment_id,
        amount: usd(1000),
        idempotency_key: "refund-1".to_owned(),
        order: (&request).into(),
    };
    let first = sandbox
        .refund(&TenantAccount::default(), &refund)
        .await
        .unwrap();
    let again = sandbox
        .refund(&TenantAccount::default(), &refund)
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(
        sandbox.inner.sender.sent(),
        sent + 1,
        "one refund, one event"
    );
    let over = RefundRequest {
        idempotency_key: "refund-2".to_owned(),
        ..refund.clone()
    };
    assert!(matches!(
        sandbox.refund(&TenantAccount::default(), &over).await,
        Err(GatewayError::Rejected(_))
    ));
    let stranger = RefundRequest {
        tenant_id: uuid::Uuid::now_v7(),
        idempotency_key: "refund-3".to_owned(),
        ..refund
    };
    assert_eq!(
        sandbox.refund(&TenantAccount::default(), &stranger).await,
        Err(GatewayError::UnknownPayment)
    );
}

#[tokio::test]
async fn fetch_describes_open_paid_refunded_and_disputed_payments() {
    let sandbox = sandbox(TTL);
    let request = checkout_request("k");
    let session = sandbox
        .create_checkout(&TenantAccount::default(), &request)
        .await
        .unwrap();
    let by_ref = lookup(&request, Some(&session.provider_reference));
    assert_eq!(
        sandbox
            .fetch_payment(&TenantAccount::default(), &by_ref)
            .await,
        Ok(vec![])
    );
    let outcome = sandbox
        .pay(&session.provider_reference, "4242424242424242")
        .await;
    let Ok(PayOutcome::Succeeded { payment_id, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    let refund = RefundRequest {
        order_id: request.order_id,
        tenant_id: request.tenant_id,
        provider_payment_id: payment_id.clone(),
        amount: usd(300),
        idempotency_key: "r".to_owned(),
        order: (&request).into(),
    };
    let refund_id = sandbox
        .refund(&TenantAccount::default(), &refund)
        .await
        .unwrap()
        .provider_refund_id;
    sandbox
        .dispute(&payment_id, DisputeOutcome::Open)
        .await
        .unwrap();
    sandbox
        .dispute(&payment_id, DisputeOutcome::Won)
        .await
        .unwrap();

    // By session, and by order alone: the same answer, twice.
    let events = sandbox
        .fetch_payment(&TenantAccount::default(), &by_ref)
        .await
        .unwrap();
    assert_eq!(
        sandbox
            .fetch_payment(&TenantAccount::default(), &lookup(&request, None))
            .await
            .unwrap(),
        events
    );
    let summary: Vec<_> = events
        .iter()
        .map(|e| (e.kind, e.amount.amount.get()))
        .collect();
    assert_eq!(
        summary,
        [
            (EventKind::PaymentSucceeded, 1999),
            (EventKind::RefundSucceeded, 300),
            (EventKind::DisputeOpened, 1999),
            (EventKind::DisputeWon, 1999),
        ]
    );
    assert_eq!(
        events[0].provider_event_id,
        format!("fetch:{payment_id}:succeeded")
    );
    assert_eq!(events[1].provider_event_id, format!("fetch:{refund_id}"));
    assert_eq!(events[1].refund_id.as_deref(), Some(refund_id.as_str()));
    let dispute = events[2].dispute_id.clone().unwrap();
    assert_eq!(
        events[2].provider_event_id,
        format!("fetch:{dispute}:opened")
    );
    assert_eq!(events[3].provider_event_id, format!("fetch:{dispute}:won"));
    assert!(events.iter().all(|e| e.provider_payment_id == payment_id
        && e.order_id == request.order_id
        && e.session_ref.as_deref() == Some(session.provider_reference.as_str())));
}

#[tokio::test]
async fn fetch_reports_expiry_and_refuses_strangers() {
    let sandbox = sandbox(Duration::ZERO);
    let request = checkout_request("k");
    let session = sandbox
        .create_checkout(&TenantAccount::default(), &request)
        .await
        .unwrap();
    let events = sandbox
        .fetch_payment(&TenantAccount::default(), &lookup(&request, None))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::PaymentExpired);
    assert_eq!(
        events[0].provider_event_id,
        format!("fetch:{}:expired", session.provider_reference)
    );
    assert!(matches!(
        sandbox
            .pay(&session.provider_reference, "4242424242424242")
            .await,
        Err(SandboxError::SessionExpired)
    ));
    let stranger = PaymentLookup {
        tenant_id: uuid::Uuid::now_v7(),
        ..lookup(&request, Some(&session.provider_reference))
    };
    assert_eq!(
        sandbox
            .fetch_payment(&TenantAccount::default(), &stranger)
            .await,
        Err(GatewayError::UnknownPayment)
    );
    let nobody = lookup(&checkout_request("other"), None);
    assert_eq!(
        sandbox
            .fetch_payment(&TenantAccount::default(), &nobody)
            .await,
        Err(GatewayError::UnknownPayment)
    );
}

#[tokio::test]
async fn a_restarted_sandbox_remembers_its_payments() {
    let dir = tempfile::tempdir().unwrap();
    let config = || SandboxConfig {
        public_url: "http://127.0.0.1:9".to_owned(),
        secrets: vec![SECRET.to_owned()],
        state_file: Some(dir.path().join("sandbox.json")),
        delivery: crate::DeliveryOptions {
            max_attempts: 1,
            ..Default::default()
        },
        ..SandboxConfig::default()
    };
    let request = checkout_request("k");
    let (session, payment_id) = paid(&Sandbox::new(config()).unwrap(), &request).await;
    let restarted = Sandbox::new(config()).unwrap();
    let events = restarted
        .fetch_payment(
            &TenantAccount::default(),
            &lookup(&request, Some(&session.provider_reference)),
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].provider_payment_id, payment_id);
    // The idempotency key survives too: no second session for the same request.
    assert_eq!(
        restarted
            .create_checkout(&TenantAccount::default(), &request)
            .await
            .unwrap(),
        session
    );
}

#[test]
fn refuses_to_run_unsigned_or_without_a_web_url() {
    let no_secret = SandboxConfig::default();
    assert!(matches!(
        Sandbox::new(no_secret),
        Err(SandboxError::NoSecret)
    ));
    let blank = SandboxConfig {
        secrets: vec![String::new()],
        ..SandboxConfig::default()
    };
    assert!(matches!(Sandbox::new(blank), Err(SandboxError::NoSecret)));
    let ftp = SandboxConfig {
        public_url: "ftp://example.com".to_owned(),
        secrets: vec![SECRET.to_owned()],
        ..SandboxConfig::default()
    };
    assert!(matches!(
        Sandbox::new(ftp),
        Err(SandboxError::BadPublicUrl(_))
    ));
}

#[test]
fn capabilities_are_what_the_sandbox_can_fake() {
    let caps = sandbox(TTL).capabilities();
    assert!(caps.split_payments && caps.partial_refunds && !caps.subscriptions);
    assert_eq!(caps.currencies, None);
}
