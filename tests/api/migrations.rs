//! The schema goes up, down and up again on both databases.

use lyceum_e2e::{Backend, TestDb};
use lyceum_migrations::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;

async fn up_down_up(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let conn = lyceum::db::connect(&db.target).await.unwrap();
    Migrator::up(&conn, None).await.unwrap();
    assert!(
        Migrator::get_pending_migrations(&conn)
            .await
            .unwrap()
            .is_empty()
    );
    conn.execute_unprepared("SELECT count(*) FROM lessons")
        .await
        .unwrap();
    Migrator::down(&conn, None).await.unwrap();
    assert!(
        conn.execute_unprepared("SELECT count(*) FROM users")
            .await
            .is_err(),
        "down() drops every table"
    );
    assert_eq!(
        Migrator::get_pending_migrations(&conn).await.unwrap().len(),
        Migrator::migrations().len()
    );
    Migrator::up(&conn, None).await.unwrap();
    assert!(lyceum::db::is_ready(&conn).await.unwrap());
    conn.close().await.unwrap();
}

#[tokio::test]
async fn migrations_are_reversible_on_sqlite() {
    up_down_up(Backend::Sqlite).await;
}

#[tokio::test]
async fn migrations_are_reversible_on_postgres() {
    up_down_up(Backend::Postgres).await;
}
