//! Payout runs: the payouts (by status), running the ones due now, and marking one paid or
//! failed — as `list_payouts`, `run_payouts`, `mark_payout_paid` and `mark_payout_failed` do.

use std::sync::Arc;

use lyceum_tenants::rbac::action;
use minijinja::context;
use poem::web::{Data, Form, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::{admin_proof, form_error, nav, param, signed, when};
use crate::frame::{Section, signed_in};
use crate::render::page;
use crate::shop::{CsrfForm, form_user};
use lyceum_domain::error::AppError;
use lyceum_domain::ids::PayoutId;
use lyceum_domain::services::accounts::SessionScope;
use lyceum_domain::services::ledger::payouts::{self, PayoutStatus};
use lyceum_domain::state::AppState;

const STATUSES: [PayoutStatus; 3] = [
    PayoutStatus::InTransit,
    PayoutStatus::Paid,
    PayoutStatus::Failed,
];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListQuery {
    status: String,
    done: Option<String>,
    made: Option<usize>,
}

/// `/admin/payouts`: payouts, newest first; `?status=` keeps one status.
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
        let proof = admin_proof::<action::Read>(state, viewer.user.id).await?;
        let status = match query.status.trim() {
            "" => None,
            name => Some(PayoutStatus::parse(name).ok_or_else(|| {
                AppError::invalid("status", "must be `in_transit`, `paid` or `failed`")
            })?),
        };
        let found = payouts::list(state, &proof, status, 500).await?;
        let rows: Vec<_> = found
            .iter()
            .map(|p| {
                context! {
                    id => p.id.to_string(),
                    tenant => &p.tenant_slug,
                    payee => &p.payee_name,
                    email => &p.payee_email,
                    amount => signed(p.amount, &p.currency),
                    status => p.status.as_str(),
                    in_transit => p.status == PayoutStatus::InTransit,
                    badge => match p.status {
                        PayoutStatus::InTransit => "warn",
                        PayoutStatus::Paid => "ok",
                        PayoutStatus::Failed => "bad",
                    },
                    period => &p.period,
                    reference => &p.reference,
                    failure => &p.failure,
                    created => when(p.created_at),
                }
            })
            .collect();
        let notice = match query.done.as_deref() {
            Some("run") => Some(match query.made.unwrap_or(0) {
                0 => "The run found nothing due: no payout was made.".to_owned(),
                1 => "The run made 1 payout.".to_owned(),
                n => format!("The run made {n} payouts."),
            }),
            Some("paid") => Some("The payout is marked paid.".to_owned()),
            Some("failed") => {
                Some("The payout is marked failed: its money is available again.".to_owned())
            }
            _ => None,
        };
        let filters: Vec<_> = STATUSES
            .iter()
            .map(|s| context! { name => s.as_str(), current => Some(*s) == status })
            .collect();
        frame.render(
            "admin/payouts.html",
            context! {
                title => "Payouts",
                nav => nav("payouts"),
                payouts => rows,
                filters,
                all => status.is_none(),
                notice,
            },
        )
    }
    .await;
    page(result)
}

/// Makes the payouts due now.
#[handler]
pub(super) async fn run(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Admin).await {
        return to_sign_in;
    }
    let result = async {
        let user = form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let proof = admin_proof::<action::Create>(state, user.id).await?;
        payouts::run_now(state, &proof).await
    }
    .await;
    match result {
        Ok(made) => Redirect::see_other(format!(
            "/admin/payouts?status=in_transit&done=run&made={}",
            made.len()
        ))
        .into_response(),
        Err(e) => form_error(e, "/admin/payouts"),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PaidForm {
    csrf: String,
    reference: String,
}

/// Confirms a payout arrived.
#[handler]
pub(super) async fn paid(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<PaidForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Admin).await {
        return to_sign_in;
    }
    let result = async {
        let user = form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let proof = admin_proof::<action::Update>(state, user.id).await?;
        let payout: PayoutId = param(req, "payout", "payout")?;
        let reference = Some(form.reference.trim().chars().take(200).collect::<String>())
            .filter(|r| !r.is_empty());
        payouts::mark_paid(state, &proof, payout, reference).await
    }
    .await;
    match result {
        Ok(_) => Redirect::see_other("/admin/payouts?done=paid").into_response(),
        Err(e) => form_error(e, "/admin/payouts"),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct FailedForm {
    csrf: String,
    reason: String,
}

/// Records that a payout did not arrive: its money is available again.
#[handler]
pub(super) async fn failed(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<FailedForm>,
) -> Response {
    if let Err(to_sign_in) = signed_in(state, req, None, Section::Admin).await {
        return to_sign_in;
    }
    let result = async {
        let user = form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let proof = admin_proof::<action::Update>(state, user.id).await?;
        let payout: PayoutId = param(req, "payout", "payout")?;
        let reason: String = form.reason.trim().chars().take(500).collect();
        if reason.is_empty() {
            return Err(AppError::invalid("reason", "say why the payout failed"));
        }
        payouts::mark_failed(state, &proof, payout, reason).await
    }
    .await;
    match result {
        Ok(_) => Redirect::see_other("/admin/payouts?done=failed").into_response(),
        Err(e) => form_error(e, "/admin/payouts"),
    }
}
