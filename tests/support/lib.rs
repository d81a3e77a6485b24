//! Test support: the real server on a random port, against a fresh database.
//!
//! Every test runs twice through [`db_tests!`]: on a fresh SQLite file and on a fresh
//! PostgreSQL database (`LYCEUM_TEST_POSTGRES_URL`, default the local server as user
//! `postgres`), which is dropped afterwards. Without a reachable PostgreSQL the PostgreSQL half
//! is skipped, loudly, except under `CI=true`, where it fails.

use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lyceum::config::DatabaseTarget;
use lyceum::{AppState, RunningServer, Settings};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::{Value, json};
use tempfile::TempDir;
use url::Url;
use uuid::Uuid;

pub use serde_json;

pub mod fake_server;
pub mod metrics;
pub mod money;
pub mod robokassa;
pub mod staff;
pub mod stripe;
pub mod web;
pub mod yookassa;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The PostgreSQL server URL tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("LYCEUM_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES.to_owned())
}

/// Whether PostgreSQL can be used; checked once per test binary. Under `CI=true` an
/// unreachable server is a failure, elsewhere a loud skip.
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let result = AVAILABLE.get_or_init(|| {
        let url = postgres_admin_url();
        on_fresh_runtime(async move {
            let db = tokio::time::timeout(Duration::from_secs(5), Database::connect(url.as_str()))
                .await
                .map_err(|_| format!("timed out connecting to {url}"))?
                .map_err(|e| format!("cannot connect to {url}: {e}"))?;
            db.execute_unprepared("SELECT 1")
                .await
                .map_err(|e| e.to_string())?;
            db.close().await.map_err(|e| e.to_string())
        })
    });
    match result {
        Ok(()) => true,
        Err(reason) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("CI=true but PostgreSQL is unreachable: {reason}");
            }
            static WARNED: OnceLock<()> = OnceLock::new();
            WARNED.get_or_init(|| {
                // Straight to the process's stderr: the test harness captures `eprintln!`.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n################################################################\n\
                     # PostgreSQL tests SKIPPED: {reason}\n\
                     # Set LYCEUM_TEST_POSTGRES_URL to a server to run them.\n\
                     ################################################################\n"
                );
            });
            false
        }
    }
}

fn on_fresh_runtime<T: Send + 'static>(
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(fut)
    })
    .join()
    .expect("helper thread")
}

/// A fresh, empty database of `backend`, dropped (PostgreSQL) or deleted with its directory
/// (SQLite) when this value goes.
#[derive(Debug)]
pub struct TestDb {
    pub target: DatabaseTarget,
    pub dir: TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// `None` when the backend is PostgreSQL and none is reachable (outside CI).
    pub async fn create(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Some(Self {
                target: DatabaseTarget::Sqlite(dir.path().join("lyceum.db")),
                dir,
                postgres: None,
            }),
            Backend::Postgres => {
                if !postgres_available() {
                    return None;
                }
                let admin = postgres_admin_url();
                let name = format!("lyceum_test_{}", Uuid::new_v4().simple());
                let db = Database::connect(admin.as_str())
                    .await
                    .expect("connect to PostgreSQL");
                db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create the test database");
                db.close().await.expect("close");
                let mut url = Url::parse(&admin).expect("LYCEUM_TEST_POSTGRES_URL is a URL");
                url.set_path(&format!("/{name}"));
                Some(Self {
                    target: DatabaseTarget::Url(SecretString::from(url.to_string())),
                    dir,
                    postgres: Some((admin, name)),
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            on_fresh_runtime(async move {
                if let Ok(db) = Database::connect(admin.as_str()).await {
                    let _ = db
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = db.close().await;
                }
            });
        }
    }
}

/// The server under test and a client for it.
#[derive(Debug)]
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: Arc<AppState>,
    pub settings: Settings,
    server: Option<RunningServer>,
    pub db: TestDb,
}

/// Test settings: port 0, the given database, storefronts under `lyceum.test`.
pub fn test_settings(db: &TestDb) -> Settings {
    let mut settings = Settings::for_data_dir(db.dir.path().join("data")).expect("settings");
    settings.addr = "127.0.0.1:0".parse().expect("addr");
    // Port 0: the server puts the port it got into the public URL when it binds.
    settings.public_url = Url::parse("http://127.0.0.1:0").expect("url");
    settings.database = db.target.clone();
    // A database server needs a configured sealing key (as production does).
    settings.secrets_key = Some(lyceum::sealing::KeyRing::generate_key());
    settings.base_domain = Some("lyceum.test".to_owned());
    settings.max_body_bytes = 1024 * 1024;
    settings.max_upload_bytes = 4 * 1024 * 1024;
    settings.sandbox_delivery.retry_base = Duration::from_millis(50);
    // Every test client is 127.0.0.1 and many sign in often: the limits' own tests put the
    // defaults back (`RateLimits::default()`).
    let generous = std::num::NonZeroU32::new(1_000_000).expect("non-zero");
    settings.rate_limits = lyceum::config::RateLimits {
        signin_per_address: generous,
        signin_per_account: generous,
        register_per_address: generous,
        coupon_per_address: generous,
        coupon_per_user: generous,
    };
    settings
}

/// Starts the real server on a random port against a fresh database.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with settings changed first.
pub async fn spawn_app_with(
    backend: Backend,
    change: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let db = TestDb::create(backend).await?;
    let mut settings = test_settings(&db);
    change(&mut settings);
    let server = lyceum::start(settings.clone())
        .await
        .expect("server starts");
    Some(TestApp {
        base: format!("http://{}", server.addr),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        state: server.state.clone(),
        settings,
        server: Some(server),
        db,
    })
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self.body
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a problem+json error with this status.
    #[track_caller]
    pub fn expect_problem(self, status: u16) -> Value {
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "body: {}",
            self.text
        );
        let body = self.expect(status);
        assert_eq!(body["status"], status, "{body}");
        assert!(
            body["type"].as_str().is_some_and(|t| !t.is_empty()),
            "{body}"
        );
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{body}"
        );
        body
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits until the video of `lesson` is transcoded (or failed), lending the background
    /// worker a hand; returns its status as the studio sees it.
    pub async fn transcoded(&self, tenant: &str, lesson: &str, staff: &str) -> Value {
        let ffmpeg = lyceum::services::media::transcode::Ffmpeg::locate();
        let path = format!("/api/v1/tenants/{tenant}/lessons/{lesson}/video");
        for _ in 0..600 {
            lyceum::services::media::videos::run_once(&self.state, &ffmpeg)
                .await
                .expect("the video worker runs");
            let status = self.get(&path, Some(staff)).await.expect(200);
            if status["status"] == "ready" || status["status"] == "failed" {
                return status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        panic!("the video of lesson {lesson} was never transcoded");
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    /// Registers a user; returns `(token, user id)`.
    pub async fn register(&self, email: &str) -> (String, Uuid) {
        let body = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"email": email, "password": "correct horse battery", "name": "Test User"}),
            )
            .await
            .expect(201);
        let id = body["user"]["id"]
            .as_str()
            .expect("user id")
            .parse()
            .expect("uuid");
        (body["token"].as_str().expect("token").to_owned(), id)
    }

    /// Creates a platform admin the way `lyceum admin create` does; returns a token.
    pub async fn admin(&self, email: &str) -> String {
        lyceum::cli::admin_create(&self.settings, email, "admin password 1".into(), "Admin")
            .await
            .expect("admin create");
        let body = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": "admin password 1"}),
            )
            .await
            .expect(200);
        body["token"].as_str().expect("token").to_owned()
    }

    /// Registers `owner_email`, applies for `slug` (USD) and has an admin approve it;
    /// returns the owner's token.
    pub async fn active_tenant(&self, slug: &str, owner_email: &str, admin: &str) -> String {
        let (owner, _) = self.register(owner_email).await;
        self.post(
            "/api/v1/tenants",
            Some(&owner),
            json!({"slug": slug, "name": "School", "currency": "USD"}),
        )
        .await
        .expect(201);
        self.post(
            &format!("/api/v1/admin/tenants/{slug}/approve"),
            Some(admin),
            json!({}),
        )
        .await
        .expect(200);
        owner
    }

    /// Creates a course with one section and one free-preview lesson; returns the lesson id.
    pub async fn course(&self, tenant: &str, owner: &str, slug: &str, price: i64) -> String {
        self.post(
            &format!("/api/v1/tenants/{tenant}/courses"),
            Some(owner),
            json!({"slug": slug, "title": format!("Course {slug}"), "description": "About things", "price": {"amount": price, "currency": "USD"}}),
        )
        .await
        .expect(201);
        let section = self
            .post(
                &format!("/api/v1/tenants/{tenant}/courses/{slug}/sections"),
                Some(owner),
                json!({"title": "Intro"}),
            )
            .await
            .expect(201);
        let section = section["id"].as_str().expect("section id");
        let lesson = self
            .post(
                &format!("/api/v1/tenants/{tenant}/courses/{slug}/sections/{section}/lessons"),
                Some(owner),
                json!({"title": "Welcome", "kind": "text", "free_preview": true, "body": "Hello"}),
            )
            .await
            .expect(201);
        lesson["id"].as_str().expect("lesson id").to_owned()
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("server stops cleanly");
        }
    }
}

/// Reads a response whole.
pub async fn read(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// Declares tests that run once on SQLite and once on PostgreSQL, each against the real
/// server on a fresh database.
#[macro_export]
macro_rules! db_tests {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $app = $crate::spawn_app($crate::Backend::Sqlite).await.expect("sqlite app");
                    $body
                    $app.stop().await;
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some($app) = $crate::spawn_app($crate::Backend::Postgres).await else {
                        return;
                    };
                    $body
                    $app.stop().await;
                }
            )*
        }
    };
}

/// Declares tests against the real server and a fake payment provider, once on SQLite and once
/// on PostgreSQL: `$setup(backend)` returns `Option<(TestApp, Fake)>` (`None` when PostgreSQL is
/// not configured), and both are stopped after the body.
#[macro_export]
macro_rules! provider_tests {
    ($setup:ident: $(async fn $name:ident($app:ident, $fake:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let ($app, $fake) = $setup($crate::Backend::Sqlite).await.expect("sqlite app");
                    $body
                    $app.stop().await;
                    $fake.stop().await;
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(($app, $fake)) = $setup($crate::Backend::Postgres).await else {
                        return;
                    };
                    $body
                    $app.stop().await;
                    $fake.stop().await;
                }
            )*
        }
    };
}

/// How an oversized body is sent.
#[derive(Debug, Clone, Copy)]
pub enum Oversized {
    /// `Content-Length: n`, then the body, for as long as the server reads.
    Declared(usize),
    /// `Transfer-Encoding: chunked`, up to n bytes, for as long as the server reads.
    Chunked(usize),
}

/// Sends an oversized body over a raw connection and reads the answer, however early the
/// server gives it (an HTTP client library would report the early answer as a broken pipe).
pub async fn send_oversized(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    how: Oversized,
) -> Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let framing = match how {
        Oversized::Declared(n) => format!("Content-Length: {n}"),
        Oversized::Chunked(_) => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\n{framing}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    match how {
        Oversized::Declared(n) => {
            let chunk = vec![b'x'; 64 * 1024];
            let mut left = n;
            while left > 0 {
                let part = left.min(chunk.len());
                if stream.write_all(&chunk[..part]).await.is_err() {
                    break;
                }
                left -= part;
            }
        }
        Oversized::Chunked(total) => {
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
            for _ in 0..total / (64 * 1024) {
                if stream.write_all(chunk.as_bytes()).await.is_err() {
                    break;
                }
            }
            let _ = stream.write_all(b"0\r\n\r\n").await;
        }
    }
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = reqwest::header::HeaderMap::new();
    for line in head.lines().skip(1) {
        if let Some((k, v)) = line.split_once(':')
            && let (Ok(k), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()),
                reqwest::header::HeaderValue::from_str(v.trim()),
            )
        {
            headers.insert(k, v);
        }
    }
    // The body may be chunked; the JSON object sits between the first `{` and the last `}`.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if a < b => &body[a..=b],
        _ => "",
    };
    Reply {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers,
        body: serde_json::from_str(json).unwrap_or(Value::Null),
        text: body.to_owned(),
    }
}
