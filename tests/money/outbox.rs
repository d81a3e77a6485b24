//! The outbox worker: a mail server that is down delays receipts; it loses none and blocks
//! nothing else.

use std::time::Duration;

use lyceum::entities::outbox;
use lyceum::services::notify::outbox as worker;
use lyceum_e2e::{Backend, spawn_app_with};
use sea_orm::EntityTrait;

async fn an_unreachable_mail_server_delays_receipts(backend: Backend) {
    // Nothing listens on port 9 of this machine.
    let Some(app) = spawn_app_with(backend, |s| {
        s.smtp_url = Some("smtp://127.0.0.1:9".to_owned().into());
    })
    .await
    else {
        return;
    };
    let shop = app.shop().await;
    // Paid and open at once, whatever the mail server does.
    app.buy(&shop.student, "paid").await;
    assert_eq!(
        app.access(Some(&shop.student), "paid").await["access"],
        true
    );

    // The worker tried, failed, and put the receipt back for later, with the error.
    let mut receipt = None;
    for _ in 0..200 {
        let rows = outbox::Entity::find().all(&app.state.db).await.unwrap();
        receipt = rows.into_iter().find(|r| r.kind == "purchase_receipt");
        if receipt
            .as_ref()
            .is_some_and(|r| r.attempts >= 1 && r.last_error.is_some())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let receipt = receipt.expect("a receipt row");
    assert_eq!(receipt.status, "pending");
    assert!(
        receipt.attempts >= 1 && receipt.last_error.is_some(),
        "{receipt:?}"
    );
    assert!(
        receipt.next_attempt_at > chrono::Utc::now(),
        "retried later: {receipt:?}"
    );
    assert_eq!(receipt.sent_at, None);
    // Not due yet: a pass now sends nothing.
    let mailer = lyceum::services::notify::mail::Mailer::new(
        app.state.settings.smtp_url.as_ref(),
        &app.state.settings.mail_from,
        &app.state.settings.data_dir,
    )
    .unwrap();
    assert_eq!(worker::run_once(&app.state, &mailer).await.unwrap(), 0);
}

#[tokio::test]
async fn an_unreachable_mail_server_delays_receipts_on_sqlite() {
    an_unreachable_mail_server_delays_receipts(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_unreachable_mail_server_delays_receipts_on_postgres() {
    an_unreachable_mail_server_delays_receipts(Backend::Postgres).await;
}
