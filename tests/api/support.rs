//! The test application: a real server on a free port over a fresh database, a fixed clock,
//! and helpers to make users and tokens and to call the API.

use chrono::{TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use xiansuo_app::admin::{auth, users};
use xiansuo_app::channels::mail::SmtpSettings;
use xiansuo_core::role::Role;
use xiansuo_core::FixedClock;
use xiansuo_store::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub clock: FixedClock,
    pub client: reqwest::Client,
    pub admin_token: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

/// A user made for a test, with an API token.
pub struct TestUser {
    pub id: i64,
    pub token: String,
}

/// The response of an API call: status and JSON body (`Null` when empty).
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl TestApp {
    /// Starts the app on a fresh database. `None` when PostgreSQL is asked for but cannot be
    /// reached outside CI.
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::start_with(backend, xiansuo_web::Limits::default()).await
    }

    /// Starts the app with its own timeouts and connection caps.
    pub async fn start_with(backend: Backend, limits: xiansuo_web::Limits) -> Option<TestApp> {
        Self::start_configured(backend, limits, SmtpSettings::default()).await
    }

    /// Starts the app with outgoing mail going where `smtp` says.
    pub async fn start_with_smtp(backend: Backend, smtp: SmtpSettings) -> Option<TestApp> {
        Self::start_configured(backend, xiansuo_web::Limits::default(), smtp).await
    }

    async fn start_configured(
        backend: Backend,
        limits: xiansuo_web::Limits,
        smtp: SmtpSettings,
    ) -> Option<TestApp> {
        // Server errors are logged; the test harness shows them for failing tests only.
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_test_writer()
            .try_init();
        let (url, dir, pg_database) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("xiansuo.db").display());
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let admin = match Db::connect(PG_ADMIN_URL).await {
                    Ok(db) => db,
                    Err(e) => {
                        if std::env::var("CI").is_ok_and(|v| v == "true") {
                            panic!("PostgreSQL at 127.0.0.1:5432 is required in CI: {e:#}");
                        }
                        eprintln!(
                            "skipping: PostgreSQL at 127.0.0.1:5432 is not reachable ({e:#})"
                        );
                        return None;
                    }
                };
                let name = format!("xiansuo_test_{}", uuid_like());
                admin
                    .execute_script(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("creating a test database");
                admin.close().await;
                (
                    format!("postgres://postgres@127.0.0.1:5432/{name}"),
                    None,
                    Some(name),
                )
            }
        };
        let db = Db::connect(&url)
            .await
            .expect("connecting to the test database");
        xiansuo_app::migrate(&db, 0)
            .await
            .expect("migrations apply");
        let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
        let mut state = xiansuo_web::AppState::new(db.clone(), Arc::new(clock.clone()));
        state.limits = limits;
        state.smtp = smtp;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(xiansuo_web::serve(listener, state, async move {
            let _ = rx.await;
        }));
        let mut app = TestApp {
            base,
            db,
            clock,
            client: reqwest::Client::new(),
            admin_token: String::new(),
            _shutdown: tx,
            _dir: dir,
            pg_database,
        };
        app.admin_token = app.user("admin", Role::Admin, None).await.token;
        Some(app)
    }

    /// Creates a user with the password `password123` and an API token.
    pub async fn user(&self, username: &str, role: Role, team_id: Option<i64>) -> TestUser {
        let user = users::create(
            &self.db,
            None,
            users::NewUser {
                username: username.into(),
                password: "password123".into(),
                role: role.code().to_owned(),
                team_id,
                display_name: None,
                email: None,
                locale: None,
            },
            self.clock_now(),
        )
        .await
        .expect("creating a user");
        let id = user.id;
        let (_, token) = auth::create_token(&self.db, id, "test", self.clock_now())
            .await
            .expect("a token");
        TestUser { id, token }
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        use xiansuo_core::Clock;
        self.clock.now()
    }

    /// Creates a team through the API and returns its id.
    pub async fn team(&self, name: &str, parent: Option<i64>) -> i64 {
        let reply = self
            .call(
                Method::POST,
                "/api/v1/teams",
                &self.admin_token,
                Some(serde_json::json!({"name": name, "parent_id": parent})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_i64().expect("a team id")
    }

    /// The URL the binary reaches the test app's database by.
    pub async fn database_url(&self) -> String {
        match self.db.dialect() {
            xiansuo_store::Dialect::Sqlite => {
                let row = self
                    .db
                    .fetch_optional(
                        "SELECT file FROM pragma_database_list WHERE name = 'main'",
                        &[],
                    )
                    .await
                    .unwrap()
                    .unwrap();
                format!("sqlite://{}", row.text("file"))
            }
            xiansuo_store::Dialect::Postgres => {
                let row = self
                    .db
                    .fetch_optional("SELECT current_database() AS name", &[])
                    .await
                    .unwrap()
                    .unwrap();
                format!("postgres://postgres@127.0.0.1:5432/{}", row.text("name"))
            }
        }
    }

    /// Runs the `xiansuo` binary over the test app's database with `args`, as an operator would,
    /// and asserts that it succeeded; answers its standard output.
    pub async fn xiansuo_ok(&self, args: &[&str]) -> String {
        let output = self.xiansuo(args).await;
        assert!(
            output.status.success(),
            "xiansuo {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs the `xiansuo` binary over the test app's database with `args`.
    pub async fn xiansuo(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_xiansuo"))
            .arg("--database-url")
            .arg(self.database_url().await)
            .args(args)
            .env_remove("XIANSUO_DATABASE_URL")
            .output()
            .expect("the binary runs")
    }

    /// Calls the API with a bearer token and a JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::from(request.send().await.expect("the server answers")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    /// Creates a lead and returns it, asserting 201.
    pub async fn lead(&self, token: &str, body: Value) -> Value {
        let reply = self.post("/api/v1/leads", token, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("a JSON body, got {status}: {text}"))
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    /// Asserts the status and that the body is a JSON error with this code.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"]["code"], code, "{}", self.body);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            self.body
        );
    }

    /// The ids of the items of a list reply.
    pub fn ids(&self) -> Vec<i64> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("a list, got {}", self.body))
            .iter()
            .map(|i| i["id"].as_i64().expect("an id"))
            .collect()
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(name) = self.pg_database.take() {
            // Dropping needs a connection of its own, outside the test's runtime.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async move {
                        if let Ok(admin) = Db::connect(PG_ADMIN_URL).await {
                            let _ = admin
                                .execute_script(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            admin.close().await;
                        }
                    });
                }
            })
            .join();
        }
    }
}
