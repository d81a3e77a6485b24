//! Drip: a lesson opens a number of days after the learner's access starts, or at a date, or
//! when both have come (whichever is later). A free preview is never held back.

use chrono::{DateTime, Duration, Utc};

use crate::error::{AppError, AppResult};

/// A lesson's drip settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drip {
    /// Days after access starts (1–3650).
    pub days: Option<u32>,
    /// A fixed opening time.
    pub at: Option<DateTime<Utc>>,
}

impl Drip {
    /// The longest drip delay, in days.
    pub const MAX_DAYS: u32 = 3650;

    /// The settings as stored on a lesson's row.
    pub fn stored(days: Option<i32>, at: Option<DateTime<Utc>>) -> Self {
        Self {
            days: days.and_then(|d| u32::try_from(d).ok()),
            at,
        }
    }

    /// Refuses a delay outside 1–[`Self::MAX_DAYS`] days (422 on `drip_days`).
    pub fn check_days(days: Option<u32>) -> AppResult<()> {
        if days.is_some_and(|d| !(1..=Self::MAX_DAYS).contains(&d)) {
            return Err(AppError::invalid(
                "drip_days",
                format!(
                    "must be 1 to {} days, or none to open at once",
                    Self::MAX_DAYS
                ),
            ));
        }
        Ok(())
    }

    /// When the lesson opens for a learner whose access started at `since` (`None`: a free
    /// course, counted from its publication `published`); `None` when it is not held back.
    pub fn opens_at(
        &self,
        since: Option<DateTime<Utc>>,
        published: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        let relative = self.days.and_then(|days| {
            since
                .or(published)
                .map(|start| start + Duration::days(i64::from(days)))
        });
        match (relative, self.at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// `Some(opening time)` while the lesson is still closed at `now`.
    pub fn locked_until(
        &self,
        since: Option<DateTime<Utc>>,
        published: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.opens_at(since, published).filter(|at| *at > now)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn opens_exactly_n_days_after_access_starts() {
        let drip = Drip {
            days: Some(3),
            at: None,
        };
        let since = Some(t(1, 12));
        let opens = t(4, 12);
        let just_before = opens - Duration::seconds(1);
        assert_eq!(drip.locked_until(since, None, just_before), Some(opens));
        assert_eq!(drip.locked_until(since, None, opens), None);
        assert_eq!(
            drip.locked_until(since, None, opens + Duration::seconds(1)),
            None
        );
    }

    #[test]
    fn a_date_and_days_wait_for_both() {
        let drip = Drip {
            days: Some(1),
            at: Some(t(10, 0)),
        };
        assert_eq!(drip.opens_at(Some(t(1, 0)), None), Some(t(10, 0)));
        assert_eq!(drip.opens_at(Some(t(20, 0)), None), Some(t(21, 0)));
    }

    #[test]
    fn free_courses_count_from_publication_and_nothing_is_open_ended() {
        let drip = Drip {
            days: Some(2),
            at: None,
        };
        assert_eq!(drip.opens_at(None, Some(t(5, 0))), Some(t(7, 0)));
        assert_eq!(drip.opens_at(None, None), None);
        assert_eq!(
            Drip::default().locked_until(Some(t(1, 0)), None, t(1, 0)),
            None
        );
    }
}
