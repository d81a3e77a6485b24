//! The `lyceum` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use lyceum_domain::config::Settings;
use lyceum_domain::domain::{Email, Password};
use lyceum_domain::error::AppError;
use lyceum_domain::services::accounts::passwords::PasswordHashing;
use lyceum_domain::services::accounts::{self, PersonName, Registration};

/// Lyceum: a self-hosted, multi-tenant marketplace for online courses.
#[derive(Debug, Parser)]
#[command(name = "lyceum", version, about)]
pub struct Cli {
    /// A TOML configuration file; environment variables override it.
    #[arg(long, global = true, env = "LYCEUM_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrating the database first).
    Serve {
        /// Seed a demo storefront, courses and accounts once, and print their logins.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Settle pending orders with their gateways now; with `--report`, only compare orders
    /// with entitlements (exits 1 when they disagree); with `--ledger`, compare the ledger's
    /// clearing accounts with each gateway's record of the orders of a period (exits 1 on any
    /// difference).
    Reconcile {
        #[arg(long, conflicts_with = "ledger")]
        report: bool,
        /// Compare the ledger with the gateways instead.
        #[arg(long)]
        ledger: bool,
        /// The period's start (`2026-11-01` or RFC 3339); default 30 days before `--to`.
        #[arg(long, requires = "ledger", value_parser = parse_instant)]
        from: Option<DateTime<Utc>>,
        /// The period's end, excluded (`2026-12-01` or RFC 3339); default now.
        #[arg(long, requires = "ledger", value_parser = parse_instant)]
        to: Option<DateTime<Utc>>,
    },
    /// Manage platform administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The key ring that seals storefronts' gateway credentials.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Print a new random key for `LYCEUM_SECRETS_KEY`.
    NewKey,
    /// Reseal every stored credential under the current key (`LYCEUM_SECRETS_KEY`), opening
    /// them with it or any of `LYCEUM_SECRETS_PREVIOUS_KEYS`; run after rotating the key, then
    /// drop the previous keys.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a platform admin, or make an existing account one (its password is reset).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "Platform admin")]
        name: String,
    },
}

/// Parses the arguments and runs the command; errors are printed, not panicked.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lyceum: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lyceum: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    lyceum_domain::telemetry::init(settings.log_format, &settings.log_filter);
    match cli.command {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Migrate => {
            let db = lyceum_domain::db::connect(&settings.database).await?;
            lyceum_domain::db::migrate(&db).await?;
            println!(
                "migrations applied ({})",
                lyceum_domain::db::backend_name(&db)
            );
            Ok(())
        }
        Command::Reconcile {
            ledger: true,
            from,
            to,
            ..
        } => reconcile_ledger(settings, from, to).await,
        Command::Reconcile { report, .. } => reconcile(settings, report).await,
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    password,
                    name,
                },
        } => {
            let (user, created) = admin_create(&settings, &email, password, &name).await?;
            if created {
                println!("created platform admin {} ({})", user.email, user.id);
            } else {
                println!(
                    "{} ({}) is now a platform admin; password reset",
                    user.email, user.id
                );
            }
            Ok(())
        }
        Command::Secrets {
            command: SecretsCommand::NewKey,
        } => {
            let key = lyceum_domain::sealing::KeyRing::generate_key();
            println!("{}", secrecy::ExposeSecret::expose_secret(&key));
            Ok(())
        }
        Command::Secrets {
            command: SecretsCommand::Rotate,
        } => {
            let state = crate::AppState::build(settings).await?;
            let done = lyceum_domain::services::gateway_accounts::reseal_all(&state).await?;
            println!(
                "resealed {} stored credentials under key {} ({} were already)",
                done.resealed,
                state.sealing.current_key_id(),
                done.current
            );
            if done.failed.is_empty() {
                Ok(())
            } else {
                for id in &done.failed {
                    println!("  does not open with any configured key: gateway account {id}");
                }
                anyhow::bail!(
                    "{} stored credentials open with no configured key; keep the key that sealed them in LYCEUM_SECRETS_PREVIOUS_KEYS",
                    done.failed.len()
                )
            }
        }
    }
}

/// `lyceum admin create`: works with or without a server running on the same database; the
/// running servers are told of the new grant.
pub async fn admin_create(
    settings: &Settings,
    email: &str,
    password: String,
    name: &str,
) -> anyhow::Result<(accounts::CurrentUser, bool)> {
    let input = Registration {
        email: Email::parse("--email", email).map_err(AppError::from)?,
        password: Password::parse("--password", password).map_err(AppError::from)?,
        name: PersonName::parse("--name", name).map_err(AppError::from)?,
    };
    let db = lyceum_domain::db::connect(&settings.database).await?;
    lyceum_domain::db::migrate(&db).await?;
    let hashing = PasswordHashing::new(settings.password_hash_concurrency, None);
    // This process holds no policy of its own: the running servers are told of the grant
    // (PostgreSQL) or notice the stored policy's new revision (SQLite).
    let (user, created) = accounts::ensure_admin(&db, &hashing, input).await?;
    db.close().await?;
    Ok((user, created))
}

async fn reconcile(settings: Settings, only_report: bool) -> anyhow::Result<()> {
    use lyceum_domain::services::commerce::reconcile;
    let state = crate::AppState::build(settings).await?;
    if !only_report {
        let pass = reconcile::run_once(&state, std::time::Duration::ZERO).await?;
        println!(
            "asked the gateways about {} pending orders; {} events applied; {} orders expired",
            pass.asked, pass.events_applied, pass.expired
        );
    }
    let found = reconcile::report(&state.db).await?;
    println!(
        "paid orders without entitlements: {}",
        found.paid_without_entitlement.len()
    );
    for id in &found.paid_without_entitlement {
        println!("  order {id}");
    }
    println!(
        "entitlements without a paid order: {}",
        found.entitled_without_payment.len()
    );
    for id in &found.entitled_without_payment {
        println!("  entitlement {id}");
    }
    println!(
        "team seat pools giving more than is paid for: {}",
        found.seats_over_paid.len()
    );
    for id in &found.seats_over_paid {
        println!("  seat pool {id}");
    }
    if found.is_clean() {
        Ok(())
    } else {
        anyhow::bail!("orders and entitlements disagree")
    }
}

/// A day (`2026-11-01`, its midnight UTC) or an RFC 3339 instant.
fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("`{text}` is neither a day (2026-11-01) nor an RFC 3339 time"))
}

async fn reconcile_ledger(
    settings: Settings,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    use lyceum_domain::services::ledger::reconcile;
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or(to - chrono::Duration::days(30));
    anyhow::ensure!(from < to, "--from must be before --to");
    let state = crate::AppState::build(settings).await?;
    let report = reconcile::run(&state, from, to).await?;
    println!("ledger against gateways, {from} to {to}:");
    for ((gateway, currency), t) in &report.totals {
        println!(
            "  {gateway} {currency}: {} orders; kept: ledger {} provider {}; fees: ledger {} by the provider's record {}",
            t.orders, t.ledger_kept, t.provider_kept, t.ledger_fees, t.provider_fees
        );
    }
    println!("differences: {}", report.differences.len());
    for d in &report.differences {
        match (&d.provider, &d.error) {
            (Some(p), _) => println!(
                "  order {} ({} {}): kept {} vs {}, held {} vs {}, fee {} vs {} (ledger vs provider)",
                d.order_id,
                d.gateway,
                d.currency,
                d.ledger.kept,
                p.kept,
                d.ledger.held,
                p.held,
                d.ledger.fee,
                p.fee
            ),
            (None, error) => println!(
                "  order {} ({} {}): the provider could not be asked: {}",
                d.order_id,
                d.gateway,
                d.currency,
                error.as_deref().unwrap_or("unknown error")
            ),
        }
    }
    if report.is_clean() {
        Ok(())
    } else {
        anyhow::bail!("the ledger and the gateways disagree")
    }
}

async fn serve(mut settings: Settings, demo: bool) -> anyhow::Result<()> {
    if demo {
        // The demo's storefront sells through the sandbox whatever else is configured.
        settings.sandbox_everywhere = settings.sandbox_enabled;
    }
    let (acceptor, _) = crate::server::bind(&mut settings).await?;
    let state = crate::AppState::build(settings).await?;
    if demo {
        let logins = lyceum_domain::demo::seed(&state).await?;
        println!("{logins}");
    }
    tracing::info!(
        addr = %state.settings.addr,
        database = lyceum_domain::db::backend_name(&state.db),
        public_url = %state.settings.public_url,
        "listening"
    );
    println!(
        "Lyceum is listening on http://{}  (API docs: /api/docs)",
        state.settings.addr
    );
    crate::server::serve(state, acceptor, crate::server::shutdown_signal()).await?;
    Ok(())
}
