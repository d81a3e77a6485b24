//! Staff invitations: how an owner adds an editor or grader by e-mail address.
//!
//! Inviting never looks up an account: the answer, its shape and the work behind it are the
//! same whether or not someone has registered with the address, so the staff form cannot be
//! used to learn who has an account. The address gets a link with a one-time token (only
//! its SHA-256 is stored); whoever is signed in with that address accepts it and gets the
//! role. An unknown, expired, used or someone else's token is one and the same 404.

use chrono::{DateTime, Duration, Utc};
use lyceum_tenants::rbac::{Authorized, Grant, Role, action, resource};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde_json::json;

use super::policy::Policy;
use super::tenants::{Member, Tenant, ensure_covers};
use crate::domain::Email;
use crate::entities::{staff_invitations as rows, users};
use crate::error::{AppError, AppResult};
use crate::ids::InvitationId;
use crate::services::accounts::{random_secret, sha256_hex};
use crate::services::notify::outbox;
use crate::services::now;
use crate::state::AppState;

/// How long an invitation can be accepted.
pub const LIFETIME: Duration = Duration::days(7);

/// The outbox kind of the invitation e-mail.
pub const MAIL_KIND: crate::entities::outbox::OutboxKind =
    crate::entities::outbox::OutboxKind::StaffInvitation;

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Waiting for the address to accept.
    Pending,
    /// Not accepted in time; inviting the address again renews it.
    Expired,
    Accepted,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Expired => "expired",
            Self::Accepted => "accepted",
        }
    }
}

/// An invitation, as the owner sees it: nothing about any account.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: InvitationId,
    pub email: String,
    pub role: Role,
    pub status: InvitationStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<rows::Model> for Invitation {
    fn from(m: rows::Model) -> Self {
        let role = Role::from(m.role);
        let status = if m.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if m.expires_at <= Utc::now() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        };
        Self {
            id: m.id,
            email: m.email,
            role,
            status,
            created_at: m.created_at,
            expires_at: m.expires_at,
        }
    }
}

/// Invites `email` to the staff as `role` (owner), or renews the address's pending
/// invitation with a new token, role and expiry; either way one e-mail goes out with the link.
#[tracing::instrument(skip_all, fields(tenant.id = %tenant.id, user.id = auth.user_id().map(tracing::field::display), role = role.as_str()))]
pub async fn invite(
    state: &AppState,
    auth: &Authorized<resource::Member, action::Create>,
    tenant: &Tenant,
    email: &Email,
    role: Role,
) -> AppResult<Invitation> {
    ensure_covers(auth, tenant)?;
    let stored_role = rows::InvitedRole::try_from(role)
        .map_err(|_| AppError::invalid("role", "must be `editor` or `grader`"))?;
    let invited_by = auth.user_id().ok_or(AppError::Unauthenticated(
        "sign in to invite someone to the staff",
    ))?;
    let token = format!("inv_{}", random_secret());
    let token_hash = sha256_hex(&token);
    let created_at = now();
    let expires_at = created_at + LIFETIME;
    let txn = state.db.begin().await?;
    rows::Entity::insert(rows::ActiveModel {
        id: Set(InvitationId::new_v7()),
        tenant_id: Set(tenant.id),
        email: Set(email.as_str().to_owned()),
        pending_email: Set(Some(email.as_str().to_owned())),
        role: Set(stored_role),
        token_hash: Set(token_hash.clone()),
        invited_by: Set(invited_by),
        created_at: Set(created_at),
        expires_at: Set(expires_at),
        accepted_at: Set(None),
        accepted_by: Set(None),
    })
    .on_conflict(
        // The address already has a pending invitation here: renew it, keep its id.
        OnConflict::columns([rows::Column::TenantId, rows::Column::PendingEmail])
            .update_columns([
                rows::Column::Role,
                rows::Column::TokenHash,
                rows::Column::InvitedBy,
                rows::Column::CreatedAt,
                rows::Column::ExpiresAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let row = rows::Entity::find()
        .filter(rows::Column::TenantId.eq(tenant.id))
        .filter(rows::Column::TokenHash.eq(token_hash.as_str()))
        .one(&txn)
        .await?
        .ok_or(AppError::Internal("the invitation just written is gone"))?;
    enqueue_mail(&txn, tenant, &row, &token, &state.settings.public_url).await?;
    txn.commit().await?;
    tracing::info!(tenant.id = %tenant.id, invitation.id = %row.id, role = role.as_str(), "staff invited");
    Ok(row.into())
}

/// The invitation e-mail, in the inviting transaction; a renewed invitation (new token)
/// sends a new message.
async fn enqueue_mail(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    row: &rows::Model,
    token: &str,
    public_url: &url::Url,
) -> AppResult<()> {
    let base = public_url.as_str().trim_end_matches('/');
    let payload = json!({
        "to": row.email,
        "tenant": tenant.name,
        "role": Role::from(row.role).as_str(),
        "link": format!("{base}/invitations/{token}"),
        "expires_at": row.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    });
    let dedupe = format!("invitation:{}:{}", row.id, row.token_hash);
    outbox::enqueue(conn, Some(tenant.id), MAIL_KIND, &dedupe, payload).await
}

/// The tenant's invitations that are not accepted yet (expired ones included, so the owner
/// sees whom to invite again), newest first (owner).
pub async fn list_pending(
    state: &AppState,
    auth: &Authorized<resource::Member, action::Read>,
    tenant: &Tenant,
) -> AppResult<Vec<Invitation>> {
    ensure_covers(auth, tenant)?;
    Ok(rows::Entity::find()
        .filter(rows::Column::TenantId.eq(tenant.id))
        .filter(rows::Column::AcceptedAt.is_null())
        .order_by_desc(rows::Column::CreatedAt)
        .limit(1000)
        .all(&state.db)
        .await?
        .into_iter()
        .map(Invitation::from)
        .collect())
}

/// Cancels a pending invitation (owner): its link stops working at once.
#[tracing::instrument(skip_all, fields(tenant.id = %tenant.id, user.id = auth.user_id().map(tracing::field::display), invitation.id = %id))]
pub async fn cancel(
    state: &AppState,
    auth: &Authorized<resource::Member, action::Delete>,
    tenant: &Tenant,
    id: InvitationId,
) -> AppResult<()> {
    ensure_covers(auth, tenant)?;
    let deleted = rows::Entity::delete_many()
        .filter(rows::Column::TenantId.eq(tenant.id))
        .filter(rows::Column::Id.eq(id))
        .filter(rows::Column::AcceptedAt.is_null())
        .exec(&state.db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::NotFound("invitation"));
    }
    Ok(())
}

/// Accepts an invitation for the signed-in user, who must hold the invited address; grants
/// the role and returns the new member. Whatever is wrong with the token — unknown, expired,
/// already used, or sent to another address — the answer is the same 404.
#[tracing::instrument(skip_all, fields(tenant.id = tracing::field::Empty, user.id = auth.user_id().map(tracing::field::display)))]
pub async fn accept(
    state: &AppState,
    auth: &Authorized<resource::Account, action::Update>,
    token: &str,
) -> AppResult<Member> {
    let user_id = auth
        .user_id()
        .ok_or(AppError::Unauthenticated("sign in to accept an invitation"))?;
    let gone = || AppError::NotFound("invitation");
    let token_hash = sha256_hex(token);
    let txn = state.db.begin().await?;
    let row = rows::Entity::find()
        .filter(rows::Column::TokenHash.eq(token_hash.as_str()))
        .filter(rows::Column::AcceptedAt.is_null())
        .filter(rows::Column::ExpiresAt.gt(now()))
        .one(&txn)
        .await?
        .ok_or_else(gone)?;
    tracing::Span::current().record("tenant.id", tracing::field::display(row.tenant_id));
    // The address as stored now, not as a cached session remembers it.
    let user = users::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or_else(gone)?;
    if !user.email.eq_ignore_ascii_case(&row.email) {
        return Err(gone());
    }
    let role = Role::from(row.role);
    // Guarded on "still pending", so two accepts racing on one token grant it once.
    let used = rows::Entity::update_many()
        .col_expr(rows::Column::AcceptedAt, Expr::value(Some(now())))
        .col_expr(rows::Column::AcceptedBy, Expr::value(Some(user_id)))
        .col_expr(
            rows::Column::PendingEmail,
            Expr::value(Option::<String>::None),
        )
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?;
    if used.rows_affected != 1 {
        return Err(gone());
    }
    let grant = Grant::new(
        user_id,
        role,
        lyceum_tenants::rbac::Domain::Tenant(row.tenant_id),
    );
    let granted = Policy::store_grant(&txn, &grant).await?;
    state.commit(txn, granted).await?;
    tracing::info!(tenant.id = %row.tenant_id, invitation.id = %row.id, user.id = %user_id, "invitation accepted");
    Ok(Member {
        user_id,
        email: user.email,
        name: user.name,
        role,
    })
}
