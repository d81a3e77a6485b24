//! The webhook log: every delivery providers made (provider, events, whether it verified,
//! what became of it), one delivery with its events, and replaying a verified one through the
//! payment pipeline — as `list_webhook_deliveries`, `get_webhook_delivery` and
//! `replay_webhook_delivery` do (`webhook_log` `read` and `update` on the platform).

use std::sync::Arc;

use lyceum_gateway_core::GatewayId;
use lyceum_tenants::rbac::{action, resource};
use minijinja::context;
use poem::web::{Data, Form, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::{form_error, in_platform, nav, param, when};
use crate::frame::{Section, signed_in};
use crate::render::page;
use crate::shop::{CsrfForm, form_user};
use lyceum_domain::error::AppError;
use lyceum_domain::ids::WebhookDeliveryId;
use lyceum_domain::services::accounts::SessionScope;
use lyceum_domain::services::webhooks::{
    self, DeliveryFilter, LoggedEvent, Outcome, Verification, WebhookDelivery,
};
use lyceum_domain::state::AppState;

const OUTCOMES: [Outcome; 6] = [
    Outcome::Applied,
    Outcome::Duplicate,
    Outcome::Ignored,
    Outcome::Flagged,
    Outcome::Failed,
    Outcome::Refused,
];

fn outcome_badge(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Applied => "ok",
        Outcome::Duplicate | Outcome::Ignored => "",
        Outcome::Flagged => "warn",
        Outcome::Failed | Outcome::Refused => "bad",
    }
}

fn verification_badge(verification: Verification) -> &'static str {
    match verification {
        Verification::Verified => "ok",
        Verification::Unavailable => "warn",
        Verification::Refused => "bad",
    }
}

fn event_row(e: &LoggedEvent) -> minijinja::Value {
    context! {
        id => &e.event.provider_event_id,
        kind => e.event.kind.as_str(),
        order => e.event.order_id.to_string(),
        payment => &e.event.provider_payment_id,
        amount => e.event.amount.to_string(),
        occurred => when(e.event.occurred_at),
        outcome => e.outcome.as_str(),
        badge => outcome_badge(e.outcome),
        reason => &e.reason,
    }
}

fn delivery_row(d: &WebhookDelivery) -> minijinja::Value {
    let mut kinds: Vec<&str> = d.events.iter().map(|e| e.event.kind.as_str()).collect();
    kinds.dedup();
    context! {
        id => d.id.to_string(),
        gateway => d.gateway.as_str(),
        tenant => &d.tenant_slug,
        received => when(d.received_at),
        peer => d.peer.map(|p| p.to_string()),
        verification => d.verification.as_str(),
        verification_badge => verification_badge(d.verification),
        verified => d.verification == Verification::Verified,
        reason => &d.reason,
        kinds => kinds.join(", "),
        events => d.events.len(),
        outcome => d.outcome.as_str(),
        outcome_badge => outcome_badge(d.outcome),
        detail => &d.detail,
        replay_of => d.replay_of.map(|r| r.to_string()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListQuery {
    gateway: String,
    outcome: String,
    before: String,
}

/// `/admin/webhooks`: the log, newest first, a page at a time; `?gateway=` and `?outcome=`
/// filter.
#[handler]
pub(super) async fn list(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Admin).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let proof =
            in_platform::<resource::WebhookLog, action::Read>(state, viewer.user.id).await?;
        let gateway = match query.gateway.trim() {
            "" => None,
            name => Some(
                name.parse::<GatewayId>()
                    .map_err(|_| AppError::invalid("gateway", "no such gateway"))?,
            ),
        };
        let outcome = match query.outcome.trim() {
            "" => None,
            name => Some(
                Outcome::parse(name)
                    .ok_or_else(|| AppError::invalid("outcome", "no such outcome"))?,
            ),
        };
        let before = match query.before.trim() {
            "" => None,
            id => Some(
                id.parse::<WebhookDeliveryId>()
                    .map_err(|_| AppError::invalid("before", "a delivery's id"))?,
            ),
        };
        let found = webhooks::list(
            state,
            &proof,
            DeliveryFilter {
                gateway,
                outcome,
                before,
                limit: Some(50),
            },
        )
        .await?;
        let next = found.next_before.map(|id| {
            let mut next = format!("/admin/webhooks?before={id}");
            if let Some(g) = gateway {
                next.push_str(&format!("&gateway={}", g.as_str()));
            }
            if let Some(o) = outcome {
                next.push_str(&format!("&outcome={}", o.as_str()));
            }
            next
        });
        let gateways: Vec<_> = GatewayId::ALL
            .iter()
            .map(|g| context! { name => g.as_str(), current => Some(*g) == gateway })
            .collect();
        let outcomes: Vec<_> = OUTCOMES
            .iter()
            .map(|o| context! { name => o.as_str(), current => Some(*o) == outcome })
            .collect();
        frame.render(
            "admin/webhooks.html",
            context! {
                title => "Webhook log",
                nav => nav("webhooks"),
                deliveries => found.items.iter().map(delivery_row).collect::<Vec<_>>(),
                gateways,
                outcomes,
                next,
                paged => before.is_some(),
            },
        )
    }
    .await;
    page(result)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DoneQuery {
    replayed: Option<String>,
}

/// `/admin/webhooks/:delivery`: one delivery with its events, and the replay button.
#[handler]
pub(super) async fn show(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let (frame, viewer) = match signed_in(state, req, None, Section::Admin).await {
        Ok(found) => found,
        Err(to_sign_in) => return to_sign_in,
    };
    let result = async {
        let proof =
            in_platform::<resource::WebhookLog, action::Read>(state, viewer.user.id).await?;
        let id: WebhookDeliveryId = param(req, "delivery", "webhook delivery")?;
        let delivery = webhooks::get(state, &proof, id).await?;
        frame.render(
            "admin/webhook.html",
            context! {
                title => "Webhook delivery",
                nav => nav("webhooks"),
                d => delivery_row(&delivery),
                events => delivery.events.iter().map(event_row).collect::<Vec<_>>(),
                replayed => query.replayed.is_some(),
            },
        )
    }
    .await;
    page(result)
}

/// Replays a verified delivery through the pipeline; shows the replay's own log entry.
#[handler]
pub(super) async fn replay(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Admin).await {
        return to_sign_in;
    }
    let back = format!(
        "/admin/webhooks/{}",
        req.raw_path_param("delivery").unwrap_or_default()
    );
    let result = async {
        let user = form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let proof = in_platform::<resource::WebhookLog, action::Update>(state, user.id).await?;
        let id: WebhookDeliveryId = param(req, "delivery", "webhook delivery")?;
        webhooks::replay(state, &proof, id).await
    }
    .await;
    match result {
        Ok(replayed) => Redirect::see_other(format!("/admin/webhooks/{}?replayed=1", replayed.id))
            .into_response(),
        Err(e) => form_error(e, &back),
    }
}
