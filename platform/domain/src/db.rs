//! Connecting to SQLite or PostgreSQL, and keeping the schema current.

use std::time::Duration;

use lyceum_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use secrecy::ExposeSecret;

use crate::config::DatabaseTarget;

/// Opens the configured database. A SQLite file (and its directory) is created when missing
/// and runs in WAL mode; SQLite serializes writers anyway, so the pool holds one connection
/// and transactions never wait on each other's locks.
pub async fn connect(target: &DatabaseTarget) -> Result<DatabaseConnection, DbErr> {
    let mut options = match target {
        DatabaseTarget::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DbErr::Custom(format!(
                        "cannot create the data directory {}: {e}",
                        dir.display()
                    ))
                })?;
            }
            let mut options = ConnectOptions::new(format!("sqlite://{}?mode=rwc", path.display()));
            options
                .max_connections(1)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|o| {
                    o.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .busy_timeout(Duration::from_secs(10))
                        .foreign_keys(true)
                        .create_if_missing(true)
                });
            options
        }
        DatabaseTarget::Url(url) => {
            let mut options = ConnectOptions::new(url.expose_secret().to_owned());
            options.max_connections(16).min_connections(1);
            options
        }
    };
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    Database::connect(options).await
}

/// Applies every pending migration, then posts the books of orders a migration left to the
/// ledger's rule (orders paid before the ledger existed).
pub async fn migrate(db: &DatabaseConnection) -> crate::error::AppResult<()> {
    Migrator::up(db, None).await?;
    let posted = crate::services::ledger::backfill::run(db).await?;
    if posted > 0 {
        tracing::info!(
            orders = posted,
            "ledger backfilled for orders paid before it existed"
        );
    }
    Ok(())
}

/// Ready: the database answers and no migration is pending.
pub async fn is_ready(db: &DatabaseConnection) -> Result<bool, DbErr> {
    db.execute_unprepared("SELECT 1").await?;
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// A short name of the backend for logs and metrics.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}
