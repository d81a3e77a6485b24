//! Notifications: the transactional outbox and the mailer that drains it.
//!
//! Other areas enqueue mail inside their own transaction ([`outbox`]); the worker delivers it
//! after commit through a [`Mailer`](mail::Mailer).

pub mod mail;
pub mod outbox;
