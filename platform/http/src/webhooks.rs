//! `POST /webhooks/{gateway}` and `/webhooks/{gateway}/{tenant}`: one path for every provider.
//!
//! Raw body → verify (400 on failure) → each event through the pipeline, in its own
//! transaction → the provider's acknowledgement, only after commit. A failure while applying
//! answers 500 (503 while the database is out of reach), so the provider delivers again.
//!
//! Every delivery to an enabled gateway is written to the webhook log
//! (`services::webhooks::record`) once it is answered: a refused one as a row without events
//! (its address and a fixed reason, never the body), a verified one after its events were
//! applied, with each event's outcome. Failing to write the row is logged and changes no
//! answer: the events are applied either way. A delivery that failed because the database is
//! out of reach is not written at all (that would fail too, after another wait).
//!
//! For providers that take only exact amounts (`Capabilities::exact_amounts`, Robokassa), a
//! payment for another amount than the order's total is refused (400) before anything of the
//! delivery is applied.
//!
//! The tenant form is for providers whose deliveries are verified with, or re-fetched through,
//! a storefront's own shop (YooKassa, Robokassa): the storefront's account verifies the
//! delivery, and an event about another storefront's order is dropped. Robokassa may send its
//! ResultURL as a GET: the query string is then the body the gateway reads. The sender's
//! address is the client address as the operator's trusted proxies vouch for it.

use std::sync::Arc;

use lyceum_gateway_core::{GatewayEvent, TenantAccount, WebhookError, WebhookRequest};
use poem::http::{Method, StatusCode};
use poem::web::{Data, Path};
use poem::{Body, IntoResponse, Request, Response, handler};

use super::problem::problem_response;
use lyceum_domain::error::AppError;
use lyceum_domain::gateways::Gateway;
use lyceum_domain::ids::TenantId;
use lyceum_domain::services::commerce::pipeline::{self, Source};
use lyceum_domain::services::gateway_accounts;
use lyceum_domain::services::tenancy::tenants;
use lyceum_domain::services::webhooks::{self, Entry, LoggedEvent, Received};
use lyceum_domain::state::AppState;
use lyceum_web::client::client_ip;

/// The largest webhook body accepted.
const MAX_BODY: usize = 256 * 1024;

/// A delivery to the platform's own account at the provider.
#[handler]
pub async fn receive(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(gateway): Path<String>,
    body: Body,
) -> Response {
    let Some(gateway) = state.gateways.named(&gateway) else {
        return no_gateway();
    };
    // The path names no tenant: the gateway's own configured secret verifies the delivery,
    // on the platform's account.
    deliver(state, req, gateway, None, body).await
}

/// A delivery to a storefront's own shop at the provider.
#[handler]
pub async fn receive_for_tenant(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((gateway, tenant)): Path<(String, String)>,
    body: Body,
) -> Response {
    let Some(gateway) = state.gateways.named(&gateway) else {
        return no_gateway();
    };
    let tenant = match tenants::find_by_slug(state, &tenant).await {
        Ok(tenant) => tenant,
        Err(AppError::NotFound(_)) => {
            let received = Received {
                gateway: gateway.id(),
                tenant: None,
                peer: Some(client_ip(req, &state.settings)),
            };
            log(
                state,
                &received,
                Entry::refused("unknown_storefront", "no such storefront"),
            )
            .await;
            return problem_response(StatusCode::NOT_FOUND, "not-found", "no such storefront");
        }
        Err(e) => return internal(gateway, &e),
    };
    deliver(state, req, gateway, Some(tenant.id), body).await
}

fn no_gateway() -> Response {
    problem_response(
        StatusCode::NOT_FOUND,
        "not-found",
        "no such gateway is enabled",
    )
}

fn internal(gateway: &Gateway, e: &AppError) -> Response {
    if e.is_unavailable() {
        tracing::warn!(gateway = %gateway.id(), error = %lyceum_domain::error::report(e), "webhook not applied: the database is out of reach; the provider will retry");
        return lyceum_web::unavailable_response("not applied; deliver again");
    }
    tracing::error!(gateway = %gateway.id(), error = %lyceum_domain::error::report(e), "webhook not applied; the provider will retry");
    problem_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "not applied; deliver again",
    )
}

async fn deliver(
    state: &AppState,
    req: &Request,
    gateway: &Gateway,
    tenant: Option<TenantId>,
    body: Body,
) -> Response {
    let peer = client_ip(req, &state.settings);
    let received = Received {
        gateway: gateway.id(),
        tenant,
        peer: Some(peer),
    };
    let body = if req.method() == Method::GET {
        req.uri()
            .query()
            .unwrap_or_default()
            .as_bytes()
            .to_vec()
            .into()
    } else {
        match body.into_bytes_limit(MAX_BODY).await {
            Ok(bytes) => bytes,
            Err(e) => {
                log(
                    state,
                    &received,
                    Entry::refused("unreadable_body", "unreadable body"),
                )
                .await;
                return problem_response(
                    StatusCode::BAD_REQUEST,
                    "bad-request",
                    format!("unreadable body: {e}"),
                );
            }
        }
    };
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned())))
        .collect();
    let delivery = WebhookRequest {
        headers: &headers,
        body: &body,
        peer: Some(peer),
        now: chrono::Utc::now(),
    };
    let account = match tenant {
        None => TenantAccount::default(),
        Some(tenant) => match gateway_accounts::account_for(state, gateway.id(), tenant).await {
            Ok(account) => account,
            Err(e) => {
                let entry = Entry::unavailable(
                    "account_unreadable",
                    "the storefront's account could not be read",
                );
                return failed(state, &received, entry, gateway, &e).await;
            }
        },
    };
    let mut delivery = match gateway.verify_webhook(&account, &delivery).await {
        Ok(delivery) => delivery,
        Err(e @ WebhookError::Unavailable(_)) => {
            tracing::warn!(gateway = %gateway.id(), error = %lyceum_domain::error::report(&e), "webhook verified but not readable yet; the provider will retry");
            log(state, &received, Entry::unverified(&e)).await;
            return problem_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the provider could not be asked about the delivery; deliver again",
            );
        }
        Err(e) => {
            tracing::warn!(gateway = %gateway.id(), %peer, error = %lyceum_domain::error::report(&e), "webhook refused");
            log(state, &received, Entry::unverified(&e)).await;
            return problem_response(
                StatusCode::BAD_REQUEST,
                "webhook-unverified",
                "the delivery could not be verified",
            );
        }
    };
    // The log keeps what was dropped here too, and what became of the rest.
    let mut dropped = Vec::new();
    if let Some(tenant) = tenant {
        delivery.events.retain_mut(|event| {
            let keep = for_tenant(event, tenant);
            if !keep {
                dropped.push(LoggedEvent::ignored(
                    event.clone(),
                    webhooks::OTHER_STOREFRONT,
                ));
            }
            keep
        });
    }
    if gateway.capabilities().exact_amounts {
        for event in &delivery.events {
            match pipeline::pays_exact_total(state, event).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(gateway = %gateway.id(), order.id = %event.order_id, event.id = %event.provider_event_id, "a payment for another amount than the order's total; refused");
                    let events =
                        dropped
                            .into_iter()
                            .chain(delivery.events.iter().map(|e| {
                                LoggedEvent::refused(e.clone(), webhooks::REFUSED_DELIVERY)
                            }))
                            .collect();
                    log(state, &received, Entry::verified(events)).await;
                    return problem_response(
                        StatusCode::BAD_REQUEST,
                        "amount-mismatch",
                        "the amount paid is not the order's total",
                    );
                }
                Err(e) => {
                    let entry = unattempted(&delivery.events, &dropped);
                    return failed(state, &received, entry, gateway, &e).await;
                }
            }
        }
    }
    let name = gateway.id().as_str();
    for status in &delivery.accounts {
        if let Err(e) = gateway_accounts::record_news(state, gateway.id(), status).await {
            let entry = unattempted(&delivery.events, &dropped);
            return failed(state, &received, entry, gateway, &e).await;
        }
    }
    let mut logged = dropped;
    for (at, event) in delivery.events.iter().enumerate() {
        match pipeline::apply(state, Source::Provider(name), event).await {
            Ok(applied) => logged.push(LoggedEvent::applied(event.clone(), &applied)),
            Err(e) => {
                tracing::error!(gateway = name, event.id = %event.provider_event_id, "webhook event not applied");
                logged.push(LoggedEvent::failed(event.clone(), webhooks::NOT_APPLIED));
                let entry = unattempted(&delivery.events[at + 1..], &logged);
                return failed(state, &received, entry, gateway, &e).await;
            }
        }
    }
    log(state, &received, Entry::verified(logged)).await;
    let ack = gateway.acknowledge(&delivery);
    (
        StatusCode::from_u16(ack.status).unwrap_or(StatusCode::OK),
        ack.body.with_content_type(ack.content_type),
    )
        .into_response()
}

/// Writes the delivery's row to the webhook log; a failure is only logged (the answer, and
/// what was applied, stand).
async fn log(state: &AppState, received: &Received, entry: Entry) {
    if let Err(e) = webhooks::record(state, received, entry).await {
        tracing::error!(gateway = %received.gateway, error = %lyceum_domain::error::report(&e), "webhook delivery not written to the webhook log");
    }
}

/// Answers a delivery that failed with `e`, after writing `entry` to the webhook log — unless
/// the database is out of reach: the row could not be written either, and trying would keep
/// the provider waiting another pool timeout for its 503.
async fn failed(
    state: &AppState,
    received: &Received,
    entry: Entry,
    gateway: &Gateway,
    e: &AppError,
) -> Response {
    if !e.is_unavailable() {
        log(state, received, entry).await;
    }
    internal(gateway, e)
}

/// The log entry of a verified delivery that stopped on a failure: `done` as they went, then
/// `rest`, not attempted.
fn unattempted(rest: &[GatewayEvent], done: &[LoggedEvent]) -> Entry {
    let events = done
        .iter()
        .cloned()
        .chain(
            rest.iter()
                .map(|e| LoggedEvent::failed(e.clone(), webhooks::NOT_ATTEMPTED)),
        )
        .collect();
    Entry::verified(events)
}

/// Whether an event delivered to `tenant`'s shop may be applied: it is about that storefront
/// (an event that names no tenant is taken to be, and the pipeline then drops it when the
/// order is another storefront's).
fn for_tenant(event: &mut GatewayEvent, tenant: TenantId) -> bool {
    let tenant = tenant.into_uuid();
    match event.tenant_id {
        Some(named) if named != tenant => {
            tracing::warn!(order.id = %event.order_id, event.id = %event.provider_event_id, "an event delivered to one storefront's shop names another; dropped");
            false
        }
        _ => {
            event.tenant_id = Some(tenant);
            true
        }
    }
}
