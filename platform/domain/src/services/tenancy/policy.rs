//! The casbin policy, persisted in `casbin_rule` and held in memory by the [`Authorizer`].
//!
//! Permissions come from the repository's `policy.csv` and are synced into the table at start;
//! grants are written in the same transaction as the change that causes them (a tenant
//! application makes its owner), which gets back the [`Invalidations`] to commit with
//! [`AppState::commit`](crate::state::AppState::commit) — the one applier, which adds them to
//! (or removes them from) the running enforcer and tells the other instances. Every change
//! bumps `policy_revision`, so a change made by another process is noticed: a denial
//! re-checks the revision before it is final, and on SQLite (where nothing is told) a
//! background task polls it for the CLI's grants.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};

use lyceum_tenants::rbac::{
    Authorized, Authorizer, Domain, Grant, Principal, Resource, Rule, Verb, permission_rules,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};

use crate::entities::{casbin_rule, policy_revision};
use crate::error::AppResult;
use crate::services::invalidation::{GrantChange, Invalidations};

/// The authorizer plus the revision of the stored policy it was built from.
#[derive(Debug)]
pub struct Policy {
    authz: Authorizer,
    revision: AtomicI64,
}

impl Policy {
    /// Syncs the permission lines into the database, then loads every rule.
    pub async fn load(db: &DatabaseConnection) -> AppResult<Self> {
        sync_permissions(db).await?;
        let (rules, revision) = read_rules(db).await?;
        Ok(Self {
            authz: Authorizer::new(rules).await?,
            revision: AtomicI64::new(revision),
        })
    }

    /// Stores a grant inside the caller's transaction; idempotent. The running enforcer learns
    /// of it when the returned invalidations are applied after commit.
    pub async fn store_grant(
        conn: &impl ConnectionTrait,
        grant: &Grant,
    ) -> AppResult<Invalidations> {
        let rule = grant.to_rule();
        let row = rule_row(&rule);
        casbin_rule::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    casbin_rule::Column::Ptype,
                    casbin_rule::Column::V0,
                    casbin_rule::Column::V1,
                    casbin_rule::Column::V2,
                    casbin_rule::Column::V3,
                    casbin_rule::Column::V4,
                    casbin_rule::Column::V5,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        bump_revision(conn).await?;
        Ok(Invalidations::granted(*grant))
    }

    /// Deletes a stored grant inside the caller's transaction, if it is there; the running
    /// enforcer drops it when the returned invalidations are applied after commit.
    pub async fn delete_grant(
        conn: &impl ConnectionTrait,
        grant: &Grant,
    ) -> AppResult<Invalidations> {
        let rule = grant.to_rule();
        let deleted = casbin_rule::Entity::delete_many()
            .filter(casbin_rule::Column::Ptype.eq("g"))
            .filter(casbin_rule::Column::V0.eq(rule.values[0].as_str()))
            .filter(casbin_rule::Column::V1.eq(rule.values[1].as_str()))
            .filter(casbin_rule::Column::V2.eq(rule.values[2].as_str()))
            .exec(conn)
            .await?;
        // Deleting what is not there changes nothing another process must reload.
        if deleted.rows_affected == 0 {
            return Ok(Invalidations::none());
        }
        bump_revision(conn).await?;
        Ok(Invalidations::revoked(*grant))
    }

    /// Applies committed grant changes to the running enforcer (called by the invalidation
    /// applier). The rows are already stored, so an enforcer that fails to take one is only
    /// behind: it is logged, and the next denial or revision poll reloads every rule.
    pub(crate) async fn apply(&self, change: GrantChange, grant: &Grant) {
        let applied = match change {
            GrantChange::Granted => self.authz.add_grant(grant).await,
            GrantChange::Revoked => self.authz.remove_grant(grant).await,
        };
        if let Err(error) = applied {
            tracing::error!(
                error = %crate::error::report(&error),
                ?grant,
                "a committed grant change was not applied to the running policy; it is reloaded on the next revision check"
            );
        }
    }

    /// Reloads every rule when another process changed them; true when it did.
    pub async fn refresh(&self, db: &DatabaseConnection) -> AppResult<bool> {
        let stored = current_revision(db).await?;
        if stored == self.revision.load(Ordering::Acquire) {
            return Ok(false);
        }
        let (rules, revision) = read_rules(db).await?;
        self.authz.reload(rules).await?;
        self.revision.store(revision, Ordering::Release);
        tracing::info!(revision, "policy reloaded");
        Ok(true)
    }

    /// Checks the permission to do `A` on `R`; a denial is re-checked once against a fresher
    /// policy.
    pub async fn authorize<R: Resource, A: Verb>(
        &self,
        db: &DatabaseConnection,
        principal: &Principal,
        domain: Domain,
    ) -> AppResult<Authorized<R, A>> {
        match self.authz.authorize::<R, A>(principal, domain).await {
            Ok(proof) => Ok(proof),
            Err(denied) => {
                // Boxed: the cold path's database future stays out of every caller's future.
                if matches!(principal, Principal::User(_)) && Box::pin(self.refresh(db)).await? {
                    return Ok(self.authz.authorize::<R, A>(principal, domain).await?);
                }
                Err(denied.into())
            }
        }
    }

    pub fn authorizer(&self) -> &Authorizer {
        &self.authz
    }
}

fn rule_row(rule: &Rule) -> casbin_rule::ActiveModel {
    let v = |i: usize| Set(rule.values.get(i).cloned().unwrap_or_default());
    casbin_rule::ActiveModel {
        ptype: Set(rule.ptype.clone()),
        v0: v(0),
        v1: v(1),
        v2: v(2),
        v3: v(3),
        v4: v(4),
        v5: v(5),
        ..Default::default()
    }
}

fn row_rule(row: casbin_rule::Model) -> Rule {
    let mut values = vec![row.v0, row.v1, row.v2, row.v3, row.v4, row.v5];
    while values.last().is_some_and(String::is_empty) {
        values.pop();
    }
    Rule {
        ptype: row.ptype,
        values,
    }
}

async fn bump_revision(conn: &impl ConnectionTrait) -> AppResult<()> {
    policy_revision::Entity::update_many()
        .col_expr(
            policy_revision::Column::Revision,
            Expr::col(policy_revision::Column::Revision).add(1),
        )
        .filter(policy_revision::Column::Id.eq(1))
        .exec(conn)
        .await?;
    Ok(())
}

async fn current_revision(conn: &impl ConnectionTrait) -> AppResult<i64> {
    Ok(policy_revision::Entity::find_by_id(1)
        .one(conn)
        .await?
        .map_or(0, |r| r.revision))
}

async fn read_rules(db: &DatabaseConnection) -> AppResult<(Vec<Rule>, i64)> {
    let txn = db.begin().await?;
    let revision = current_revision(&txn).await?;
    let rules = casbin_rule::Entity::find().all(&txn).await?;
    txn.commit().await?;
    Ok((rules.into_iter().map(row_rule).collect(), revision))
}

/// Makes the stored permissions equal to `policy.csv`; grants are left alone.
async fn sync_permissions(db: &DatabaseConnection) -> AppResult<()> {
    let wanted: BTreeSet<Vec<String>> = permission_rules().into_iter().map(|r| r.values).collect();
    let txn = db.begin().await?;
    // Instances starting together take turns: without the lock, two could both find the
    // permissions missing and both insert them (the second then fails on the unique key).
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        policy_revision::Entity::find_by_id(1)
            .lock_exclusive()
            .one(&txn)
            .await?;
    }
    let stored: BTreeSet<Vec<String>> = casbin_rule::Entity::find()
        .filter(casbin_rule::Column::Ptype.eq("p"))
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| row_rule(r).values)
        .collect();
    if stored != wanted {
        casbin_rule::Entity::delete_many()
            .filter(casbin_rule::Column::Ptype.eq("p"))
            .exec(&txn)
            .await?;
        let rows = wanted.into_iter().map(|values| {
            rule_row(&Rule {
                ptype: "p".to_owned(),
                values,
            })
        });
        casbin_rule::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        bump_revision(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}
