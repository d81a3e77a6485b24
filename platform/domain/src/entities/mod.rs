//! sea-orm models of the tables in `lyceum-migrations`. They stay inside the service layer:
//! handlers never bind a request to an entity, nor return one. Every id column is one of the
//! typed ids of [`crate::ids`] (stored in the same `uuid` column a bare `Uuid` was), so a row's
//! `tenant_id` cannot be compared with, or filtered by, a user's id.

pub mod api_tokens;
pub mod casbin_rule;
pub mod certificates;
pub mod content_fetches;
pub mod coupon_redemptions;
pub mod coupons;
pub mod course_progress;
pub mod course_shares;
pub mod courses;
pub mod entitlements;
pub mod fee_plans;
pub mod gateway_accounts;
pub mod job_leases;
pub mod ledger_entries;
pub mod ledger_transactions;
pub mod lesson_chapters;
pub mod lesson_progress;
pub mod lessons;
pub mod order_audit;
pub mod order_lines;
pub mod order_numbers;
pub mod order_shares;
pub mod orders;
pub mod outbox;
pub mod payees;
pub mod payment_events;
pub mod payouts;
pub mod platform_secrets;
pub mod policy_revision;
pub mod quiz_attempts;
pub mod quiz_questions;
pub mod quizzes;
pub mod refunds;
pub mod seat_assignments;
pub mod seat_events;
pub mod seat_pools;
pub mod seat_tiers;
pub mod sections;
pub mod session_handoffs;
pub mod staff_invitations;
pub mod team_members;
pub mod teams;
pub mod tenants;
pub mod transcodes;
pub mod users;
pub mod web_sessions;
pub mod webhook_deliveries;
