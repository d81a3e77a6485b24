//! Connecting to SQLite or PostgreSQL, and keeping the schema current.

use std::time::Duration;

use lyceum_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnAcquireErr, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
};
use secrecy::ExposeSecret;

use crate::config::DatabaseTarget;

/// How long a request waits for a PostgreSQL connection before it fails as unavailable (503).
/// While the server is down or restarting, the pool keeps trying to connect until then, so
/// this bounds how long a request can hang during an outage; once the server is back, the
/// next request connects again.
pub const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a request waits for the one SQLite connection: a local file does not go away, so
/// only a long write ahead of it can make it wait.
const SQLITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

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
                })
                .acquire_timeout(SQLITE_ACQUIRE_TIMEOUT);
            options
        }
        DatabaseTarget::Url(url) => {
            let mut options = ConnectOptions::new(url.expose_secret().to_owned());
            options
                .max_connections(16)
                .min_connections(1)
                .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT);
            options
        }
    };
    options.sqlx_logging(false);
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

/// How long the readiness check waits for the database: a probe wants its answer within its
/// own timeout (Kubernetes' default is one second), not after [`POSTGRES_ACQUIRE_TIMEOUT`],
/// and a database slower than this is as good as gone for the requests the instance would get.
pub const READY_WITHIN: Duration = Duration::from_secs(2);

/// Ready: the database answers within [`READY_WITHIN`] and no migration is pending. A check
/// that runs out of time fails as a connection that could not be had.
pub async fn is_ready(db: &DatabaseConnection) -> Result<bool, DbErr> {
    let check = async {
        db.execute_unprepared("SELECT 1").await?;
        Ok(Migrator::get_pending_migrations(db).await?.is_empty())
    };
    tokio::time::timeout(READY_WITHIN, check)
        .await
        .unwrap_or(Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)))
}

/// A short name of the backend for logs and metrics.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}
