//! Turns at the periodic jobs when several instances run: the reconciler's pass, the release
//! of held sales with the payout run, and the webhook log's pruning. Every instance ticks,
//! but a pass runs only on the instance holding the job's lease (`job_leases`), so N instances
//! make one pass per period between them instead of N — no provider asked N times about the
//! same order, no N payout runs racing for the books' locks.
//!
//! The holder renews its lease on each tick; a lease lasts a period and a half, so another
//! instance takes the job over only when the holder missed a tick (stopped, killed or
//! partitioned). Correctness never rests on the lease: every pass already works under row
//! locks and unique keys and may safely run twice; the lease saves the doubled work.
//!
//! Work that comes in rows — the outbox's mail, video transcodes — is shared row by row
//! instead (`FOR UPDATE SKIP LOCKED` with leases of their own; see `notify::outbox`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::entities::job_leases;
use crate::error::AppResult;
use crate::services::now;
use crate::state::AppState;

/// A periodic job: its lease's name and how often it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    pub name: &'static str,
    pub period: Duration,
}

/// The reconciler's pass (`commerce::reconcile::work`).
pub const RECONCILE: Job = Job {
    name: "reconcile",
    period: Duration::from_secs(60),
};

/// Releasing held sales, then the payout run (`ledger::holds::work`).
pub const HOLDS: Job = Job {
    name: "holds",
    period: Duration::from_secs(300),
};

/// Pruning the webhook log to its retention.
pub const WEBHOOK_LOG: Job = Job {
    name: "webhook_log",
    period: Duration::from_secs(3600),
};

/// A job's ticks on one instance, of which it gets the turns it holds the lease for.
#[derive(Debug)]
pub struct Turns {
    job: Job,
    tick: tokio::time::Interval,
}

impl Turns {
    /// Waits for the next tick at which this instance holds the job's lease; returns its time.
    /// A lease that cannot be read is logged and counts as not held.
    pub async fn next(&mut self, state: &AppState) -> DateTime<Utc> {
        loop {
            self.tick.tick().await;
            let at = now();
            match self
                .job
                .take_turn(&state.db, state.caches.instance, at)
                .await
            {
                Ok(true) => return at,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(job = self.job.name, error = %crate::error::report(&e), "job lease not taken")
                }
            }
        }
    }
}

impl Job {
    /// This job's turns on this instance: a tick every period (the first at once), skipping
    /// those another instance holds.
    pub fn turns(self) -> Turns {
        let mut tick = tokio::time::interval(self.period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Turns { job: self, tick }
    }

    /// Whether `holder` (an instance) should run this job's pass now: true when it holds the
    /// lease (renewed until `at` plus a period and a half) or has just taken it because the
    /// lease ran out.
    pub async fn take_turn(
        self,
        db: &impl ConnectionTrait,
        holder: Uuid,
        at: DateTime<Utc>,
    ) -> AppResult<bool> {
        let until = at + self.period * 3 / 2;
        let renewed = job_leases::Entity::update_many()
            .col_expr(job_leases::Column::Holder, Expr::value(holder))
            .col_expr(job_leases::Column::Until, Expr::value(until))
            .filter(job_leases::Column::Name.eq(self.name))
            .filter(
                Condition::any()
                    .add(job_leases::Column::Holder.eq(holder))
                    .add(job_leases::Column::Until.lte(at)),
            )
            .exec(db)
            .await?;
        if renewed.rows_affected == 1 {
            return Ok(true);
        }
        let taken = job_leases::Entity::insert(job_leases::ActiveModel {
            name: Set(self.name.to_owned()),
            holder: Set(holder),
            until: Set(until),
        })
        .on_conflict(
            OnConflict::column(job_leases::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        Ok(taken == 1)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Schema};

    use super::*;

    async fn db() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let schema = Schema::new(db.get_database_backend());
        db.execute(&schema.create_table_from_entity(job_leases::Entity))
            .await
            .unwrap();
        db
    }

    #[tokio::test]
    async fn one_instance_holds_a_job_until_it_misses_its_ticks() {
        let db = db().await;
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let t0 = now();
        let tick = TimeDelta::from_std(RECONCILE.period).unwrap();

        assert!(RECONCILE.take_turn(&db, a, t0).await.unwrap(), "first come");
        assert!(!RECONCILE.take_turn(&db, b, t0).await.unwrap(), "held by a");
        // Leases are per job.
        assert!(HOLDS.take_turn(&db, b, t0).await.unwrap());
        // The holder renews on its next tick; the other still waits.
        assert!(RECONCILE.take_turn(&db, a, t0 + tick).await.unwrap());
        assert!(!RECONCILE.take_turn(&db, b, t0 + tick * 2).await.unwrap());
        // The holder stops ticking: half a period after its lease ran out, b takes over…
        assert!(
            RECONCILE
                .take_turn(&db, b, t0 + tick * 5 / 2)
                .await
                .unwrap()
        );
        // …and a, back, waits its turn.
        assert!(!RECONCILE.take_turn(&db, a, t0 + tick * 3).await.unwrap());
    }
}
