//! The provider's own records — sessions, payments, refunds, disputes — and their
//! persistence as one JSON file, replaced atomically (temp file, then rename) after each change.
//!
//! Changes are transactional: [`Store::update`] applies a change to a copy and keeps it only
//! if the change succeeds and, when a file is configured, the copy is on disk. The sandbox's
//! state is small, so copying it is cheaper than reasoning about half-applied changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use lyceum_gateway_core::Money;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::SandboxError;

/// Everything the sandbox knows. Maps are ordered so the file is stable between writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct State {
    pub sessions: BTreeMap<String, Session>,
    pub payments: BTreeMap<String, Payment>,
    /// Checkout idempotency key → session id.
    pub checkout_keys: BTreeMap<String, String>,
    /// Refund idempotency key → (payment id, refund id).
    pub refund_keys: BTreeMap<String, (String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SessionStatus {
    Open,
    Paid,
    Expired,
}

/// A hosted checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Session {
    /// `sbs_<32 hex>`.
    pub id: String,
    pub order_id: Uuid,
    pub tenant_id: Uuid,
    pub total: Money,
    pub lines: Vec<Line>,
    /// Recorded only: the sandbox moves no money, so the split is shown, not performed.
    pub platform_fee: Money,
    pub payee_account: Option<String>,
    pub success_url: String,
    pub cancel_url: String,
    pub status: SessionStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub payment_id: Option<String>,
}

impl Session {
    /// Open, and not past its expiry (the sweep may not have run yet).
    pub fn is_payable(&self, now: DateTime<Utc>) -> bool {
        self.status == SessionStatus::Open && now < self.expires_at
    }
}

/// One line of the order, shown on the pay page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Line {
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
}

/// A captured payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Payment {
    /// `sbp_<32 hex>`.
    pub id: String,
    pub session: String,
    pub order_id: Uuid,
    pub tenant_id: Uuid,
    pub captured: Money,
    pub created_at: DateTime<Utc>,
    pub refunds: Vec<Refund>,
    pub disputes: Vec<Dispute>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Refund {
    /// `sbr_<32 hex>`.
    pub id: String,
    pub amount: Money,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DisputeStatus {
    Open,
    Won,
    Lost,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Dispute {
    /// `sbd_<32 hex>`.
    pub id: String,
    /// The captured amount, which the buyer's bank holds back.
    pub amount: Money,
    pub status: DisputeStatus,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// The state and, optionally, the file it lives in.
#[derive(Debug)]
pub(crate) struct Store {
    state: State,
    file: Option<PathBuf>,
}

impl Store {
    /// Loads `file` when it exists; a missing file is an empty state, an unreadable one an
    /// error (so a typo in a path never silently forgets every payment).
    pub fn open(file: Option<PathBuf>) -> Result<Self, SandboxError> {
        let state = match &file {
            Some(path) if path.exists() => {
                let bytes = std::fs::read(path).map_err(|source| SandboxError::Io {
                    path: path.clone(),
                    source,
                })?;
                serde_json::from_slice(&bytes).map_err(|source| SandboxError::CorruptState {
                    path: path.clone(),
                    source,
                })?
            }
            _ => State::default(),
        };
        Ok(Self { state, file })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Applies `change` to a copy of the state and keeps it when it succeeds and is saved.
    pub async fn update<T>(
        &mut self,
        change: impl FnOnce(&mut State) -> Result<T, SandboxError>,
    ) -> Result<T, SandboxError> {
        let mut next = self.state.clone();
        let value = change(&mut next)?;
        if next != self.state {
            if let Some(path) = &self.file {
                save(path, &next).await?;
            }
            self.state = next;
        }
        Ok(value)
    }
}

async fn save(path: &Path, state: &State) -> Result<(), SandboxError> {
    let io = |source| SandboxError::Io {
        path: path.to_owned(),
        source,
    };
    let bytes = serde_json::to_vec_pretty(state).map_err(|e| io(std::io::Error::other(e)))?;
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = PathBuf::from(temp);
    tokio::fs::write(&temp, bytes).await.map_err(io)?;
    // A rename within one directory replaces the file atomically: a crash leaves the old
    // state or the new one, never half of either.
    tokio::fs::rename(&temp, path).await.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lyceum_gateway_core::Currency;

    fn session(id: &str) -> Session {
        let usd = Currency::parse("USD").unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Session {
            id: id.to_owned(),
            order_id: Uuid::now_v7(),
            tenant_id: Uuid::now_v7(),
            total: Money::new(1999, usd).unwrap(),
            lines: vec![Line {
                title: "Rust <for> \"everyone\"".to_owned(),
                quantity: 1,
                unit_price: Money::new(1999, usd).unwrap(),
            }],
            platform_fee: Money::new(199, usd).unwrap(),
            payee_account: None,
            success_url: "http://shop/ok".to_owned(),
            cancel_url: "http://shop/cancel".to_owned(),
            status: SessionStatus::Open,
            created_at: now,
            expires_at: now,
            payment_id: None,
        }
    }

    #[tokio::test]
    async fn state_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.json");
        let mut store = Store::open(Some(path.clone())).unwrap();
        store
            .update(|s| {
                s.sessions.insert("sbs_1".into(), session("sbs_1"));
                s.checkout_keys.insert("key".into(), "sbs_1".into());
                Ok(())
            })
            .await
            .unwrap();
        let reopened = Store::open(Some(path.clone())).unwrap();
        assert_eq!(reopened.state(), store.state());
        assert_eq!(reopened.state().sessions.len(), 1);
        assert_eq!(reopened.state().checkout_keys["key"], "sbs_1");
        // Only the final file remains; the temp file was renamed over it.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[tokio::test]
    async fn a_failed_change_leaves_state_and_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.json");
        let mut store = Store::open(Some(path.clone())).unwrap();
        let result: Result<(), _> = store
            .update(|s| {
                s.sessions.insert("sbs_1".into(), session("sbs_1"));
                Err(SandboxError::UnknownSession)
            })
            .await;
        assert!(result.is_err());
        assert!(store.state().sessions.is_empty());
        assert!(!path.exists());
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_an_empty_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.json");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(matches!(
            Store::open(Some(path)),
            Err(SandboxError::CorruptState { .. })
        ));
    }
}
