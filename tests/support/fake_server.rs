//! The HTTP side every fake provider shares: a poem server on a random port of 127.0.0.1 that
//! hands each request to the fake's handler, and stops gracefully (or when dropped).

use std::future::Future;

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response};
use tokio::sync::oneshot;

/// A running fake's server.
#[derive(Debug)]
pub struct FakeServer {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl FakeServer {
    /// Binds a random port and serves every request with `handle`.
    pub async fn start<F, Fut>(handle: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind a fake provider");
        let addr = *acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("a socket address");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(
            poem::Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
                poem::endpoint::make(handle),
                async move {
                    let _ = stopped.await;
                },
                Some(std::time::Duration::from_secs(5)),
            ),
        );
        Self {
            base: format!("http://{addr}"),
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Stops taking requests and waits for the server to finish.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
