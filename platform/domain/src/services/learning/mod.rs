//! Learning: what a learner does with a course they may study.
//!
//! - [`lessons`]: opening a lesson — the one check every learner's request about a lesson goes
//!   through (the course is visible, the lesson is a free preview or the learner has access,
//!   its drip schedule has opened it) — and the lesson page (Markdown rendered by
//!   [`markdown`], chapters, progress, the quiz's summary).
//! - [`drip`]: when a lesson opens.
//! - [`progress`]: what the player reports, merged so it never goes backwards, and explicit
//!   "done"; [`completion`] re-evaluates the course after each change and, the first time its
//!   rule holds, issues the certificate ([`certificates`](crate::services::certificates)).
//! - [`quizzes`]: authoring, attempts drawn from a pool, grading on the server
//!   ([`quiz_rules`] holds the pure rules).
//! - [`dashboard`]: a learner's courses, progress, expiry and certificates.
//!
//! Videos' HLS renditions live in [`media`](crate::services::media).

pub mod completion;
pub mod dashboard;
pub mod drip;
pub mod lessons;
pub mod markdown;
pub mod progress;
pub mod quiz_rules;
pub mod quizzes;
