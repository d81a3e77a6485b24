//! Password hashing under a bound: argon2 takes ~19 MiB and a core for a fraction of a
//! second, so a flood of sign-ins would otherwise take all memory (500 at once ≈ 9.5 GiB).
//! At most `LYCEUM_PASSWORD_HASH_CONCURRENCY` hashes run at once; the rest queue, fairly,
//! on a semaphore. The permit travels into the blocking task, so a caller that goes away
//! does not free a slot while its hash still runs.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};
use crate::metrics::HashGauges;

/// Runs argon2 on the blocking pool, a bounded number at a time.
#[derive(Debug)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    running: AtomicUsize,
    peak: AtomicUsize,
    finished: AtomicU64,
    gauges: Option<HashGauges>,
}

impl PasswordHashing {
    /// At most `limit` hashes at once; `gauges`, when given, are kept up to date.
    pub fn new(limit: NonZeroUsize, gauges: Option<HashGauges>) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit.get())),
            counters: Arc::new(Counters {
                gauges,
                ..Counters::default()
            }),
        }
    }

    /// The PHC string of an argon2id hash of `password`, with a fresh salt.
    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| AppError::Hashing(Box::new(e)))
        })
        .await?
    }

    /// Whether `password` matches the stored PHC string `hash`.
    pub async fn verify(&self, password: String, hash: String) -> AppResult<bool> {
        self.run(move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| AppError::Hashing(Box::new(e)))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await?
    }

    /// The most hashes that ever ran at the same time in this process.
    pub fn high_water_mark(&self) -> usize {
        self.counters.peak.load(Ordering::SeqCst)
    }

    /// Hashes (and checks) finished since start: a refused request must not add one.
    pub fn finished(&self) -> u64 {
        self.counters.finished.load(Ordering::SeqCst)
    }

    /// Hashes running now.
    pub fn running(&self) -> usize {
        self.counters.running.load(Ordering::SeqCst)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Hashing(Box::new(e)))?;
        let counters = self.counters.clone();
        tokio::task::spawn_blocking(move || {
            let out = {
                let _running = Running::start(&counters);
                work()
            };
            // Uncounted first, then the slot is given back: the high-water mark never
            // sees a successor overlap with this hash.
            drop(permit);
            out
        })
        .await
        .map_err(AppError::Task)
    }
}

/// Counts one running hash for as long as it lives (a panicking hash is uncounted too).
struct Running<'a>(&'a Counters);

impl<'a> Running<'a> {
    fn start(counters: &'a Counters) -> Self {
        let now = counters.running.fetch_add(1, Ordering::SeqCst) + 1;
        let peak = counters.peak.fetch_max(now, Ordering::SeqCst).max(now);
        if let Some(g) = &counters.gauges {
            g.running.set(gauge_value(now));
            g.peak.set(gauge_value(peak));
        }
        Self(counters)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::SeqCst);
        let now = self.0.running.fetch_sub(1, Ordering::SeqCst) - 1;
        if let Some(g) = &self.0.gauges {
            g.running.set(gauge_value(now));
        }
    }
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_than_allowed_and_all_finish() {
        let hashing = Arc::new(PasswordHashing::new(NonZeroUsize::MIN, None));
        let stored = hashing.hash("a long password".into()).await.unwrap();
        let checks: Vec<_> = (0..6)
            .map(|i| {
                let (hashing, stored) = (hashing.clone(), stored.clone());
                tokio::spawn(async move {
                    let password = if i % 2 == 0 {
                        "a long password"
                    } else {
                        "wrong"
                    };
                    hashing.verify(password.into(), stored).await.unwrap()
                })
            })
            .collect();
        let mut matched = 0;
        for check in checks {
            matched += usize::from(check.await.unwrap());
        }
        assert_eq!(matched, 3);
        assert_eq!(hashing.high_water_mark(), 1);
        assert_eq!(hashing.running(), 0);
        assert_eq!(hashing.finished(), 7);
    }
}
