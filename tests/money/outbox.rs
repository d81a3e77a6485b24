//! The outbox worker: a mail server that is down delays receipts; it loses none and blocks
//! nothing else.

use std::time::Duration;

use lyceum::entities::outbox;
use lyceum::services::notify::outbox as worker;
use lyceum_e2e::{Backend, spawn_app_with};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

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
        receipt = rows
            .into_iter()
            .find(|r| r.kind.as_str() == "purchase_receipt");
        if receipt
            .as_ref()
            .is_some_and(|r| r.attempts >= 1 && r.last_error.is_some())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let receipt = receipt.expect("a receipt row");
    assert_eq!(receipt.status.as_str(), "pending");
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

/// A row of a kind this build does not know (a newer build wrote it) is left pending for one
/// that does, and does not stop the rows behind it: the receipt still goes out.
async fn an_unknown_kind_blocks_nothing(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let shop = app.shop().await;
    let unknown = uuid::Uuid::now_v7();
    let past = chrono::Utc::now() - chrono::Duration::minutes(5);
    // Written and given its unknown kind in one transaction: the outbox worker, polling every
    // second, must never see the row under the kind it was inserted with.
    let txn = app.state.db.begin().await.unwrap();
    outbox::Entity::insert(outbox::ActiveModel {
        id: Set(unknown.into()),
        tenant_id: Set(Some(shop.tenant_id.into())),
        kind: Set(outbox::OutboxKind::PurchaseReceipt),
        dedupe_key: Set(format!("from-a-newer-build:{unknown}")),
        payload: Set(serde_json::json!({ "to": "someone@example.com" })),
        status: Set(outbox::OutboxStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(past),
        last_error: Set(None),
        created_at: Set(past),
        sent_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await
    .unwrap();
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Kind, Expr::value("certificate"))
        .filter(outbox::Column::Id.eq(unknown))
        .exec(&txn)
        .await
        .unwrap();
    txn.commit().await.unwrap();

    app.buy(&shop.student, "paid").await;
    let mut sent = false;
    for _ in 0..200 {
        sent = outbox::Entity::find()
            .filter(outbox::Column::DedupeKey.starts_with("receipt:"))
            .filter(outbox::Column::SentAt.is_not_null())
            .one(&app.state.db)
            .await
            .unwrap()
            .is_some();
        if sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sent, "the receipt behind the unknown row went out");
    let (kind, status, attempts): (String, String, i32) = outbox::Entity::find_by_id(unknown)
        .select_only()
        .columns([
            outbox::Column::Kind,
            outbox::Column::Status,
            outbox::Column::Attempts,
        ])
        .into_tuple()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (kind.as_str(), status.as_str(), attempts),
        ("certificate", "pending", 0)
    );
}

#[tokio::test]
async fn an_unknown_kind_blocks_nothing_on_sqlite() {
    an_unknown_kind_blocks_nothing(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_unknown_kind_blocks_nothing_on_postgres() {
    an_unknown_kind_blocks_nothing(Backend::Postgres).await;
}
