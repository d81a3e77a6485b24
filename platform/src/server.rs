//! Starting and stopping the server, with its background tasks.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpListener};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use lyceum_domain::config::Settings;
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::state::AppState;

/// How often idle rate-limit keys are dropped.
const LIMITS_PRUNE: Duration = Duration::from_secs(60);
/// How long in-flight requests may take to finish after a shutdown signal.
const GRACE: Duration = Duration::from_secs(15);

/// A server running in the background (tests, embedding).
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
    }
}

/// Binds `settings.addr`; with port 0 a free port is picked and the public (and content) URL,
/// when given port 0, follows it.
pub async fn bind(settings: &mut Settings) -> AppResult<(impl Acceptor + 'static, SocketAddr)> {
    let acceptor = TcpListener::bind(settings.addr)
        .into_acceptor()
        .await
        .map_err(|e| AppError::io(format!("cannot listen on {}", settings.addr), e))?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .ok_or(AppError::Internal("the listener has no address"))?;
    if settings.public_url.port() == Some(0) {
        let _ = settings.public_url.set_port(Some(addr.port()));
    }
    if let Some(content) = settings
        .content_url
        .as_mut()
        .filter(|u| u.port() == Some(0))
    {
        let _ = content.set_port(Some(addr.port()));
    }
    settings.addr = addr;
    Ok((acceptor, addr))
}

/// Builds the state (connect, migrate, load policy) and serves on `settings.addr`
/// (port 0 picks a free port) in a background task.
pub async fn start(mut settings: Settings) -> AppResult<RunningServer> {
    let (acceptor, addr) = bind(&mut settings).await?;
    let state = AppState::build(settings).await?;
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(serve(state.clone(), acceptor, async move {
        let _ = stopped.wait_for(|s| *s).await;
    }));
    Ok(RunningServer {
        addr,
        state,
        stop,
        task,
    })
}

/// Serves until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    state: Arc<AppState>,
    acceptor: impl Acceptor + 'static,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut tasks = vec![
        tokio::spawn(lyceum_domain::services::invalidation::broadcast::listen(
            state.clone(),
        )),
        tokio::spawn(lyceum_domain::services::notify::outbox::work(
            state.clone(),
            state.mailer.clone(),
        )),
        tokio::spawn(lyceum_domain::services::commerce::reconcile::work(
            state.clone(),
        )),
        tokio::spawn(prune_limits(state.clone())),
        tokio::spawn(lyceum_domain::services::webhooks::work(state.clone())),
        tokio::spawn(lyceum_domain::services::ledger::holds::work(state.clone())),
        tokio::spawn(lyceum_domain::services::media::videos::work(state.clone())),
    ];
    if let Some(sandbox) = state.gateways.sandbox() {
        tasks.push(sandbox.start());
    }
    let result = poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(crate::app::app(state.clone()), shutdown, Some(GRACE))
        .await;
    for task in tasks {
        task.abort();
    }
    result
}

/// Keeps the rate limiters' memory to the keys seen in the last minute.
async fn prune_limits(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(LIMITS_PRUNE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        state.limits.retain_recent();
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %lyceum_domain::error::report(&e), "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %lyceum_domain::error::report(&e), "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
