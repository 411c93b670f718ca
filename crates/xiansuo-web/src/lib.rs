//! Xiansuo's HTTP side: the JSON API under `/api/v1`, its OpenAPI document, the operational
//! endpoints, and authentication. [`app`] builds the router from an [`AppState`]; [`serve`]
//! runs it on a listener until a shutdown signal, finishing requests in flight.

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod form_pages;
pub mod metrics;
pub mod openapi;
pub mod ui;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use error::ApiError;
use serde_json::json;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use xiansuo_core::Clock;
use xiansuo_store::Db;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub login_limiter: Arc<auth::LoginLimiter>,
    pub actors: Arc<auth::ActorCache>,
    /// Creates records with group commit.
    pub writer: xiansuo_app::records::writer::Writer,
    /// Mark cookies `Secure` (when served behind HTTPS).
    pub secure_cookies: bool,
    /// Take the client address (for the web-form rate limit) from `X-Forwarded-For`: only
    /// behind a reverse proxy that sets it.
    pub trust_forwarded_for: bool,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    /// Must be called inside a tokio runtime: it starts the writer task.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            writer: xiansuo_app::records::writer::Writer::start(db.clone()),
            db,
            clock,
            login_limiter: Arc::default(),
            actors: Arc::default(),
            secure_cookies: false,
            trust_forwarded_for: false,
            metrics: Arc::default(),
        }
    }
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.db.ping().await {
        (StatusCode::OK, Json(json!({"status": "ok"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "database unavailable"})),
        )
    }
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::document())
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint; see /api/openapi.json".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed(
        "this endpoint does not take that method; see /api/openapi.json".into(),
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    ApiError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
}

/// Paths whose writes can change who a caller is or what they may see: users, teams, tokens,
/// sessions and the language setting.
const IDENTITY_PATHS: &[&str] = &[
    "/api/v1/users",
    "/api/v1/teams",
    "/api/v1/tokens",
    "/api/v1/auth",
    "/logout",
    "/settings",
];

/// Clears the cache of authenticated callers after a write to an identity path, so that a
/// revoked token, a disabled user or a moved team takes effect on this instance at once.
async fn clear_actor_cache(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    let identity_write = request.method() != Method::GET
        && IDENTITY_PATHS
            .iter()
            .any(|p| request.uri().path().starts_with(p));
    let response = next.run(request).await;
    if identity_write {
        state.actors.clear();
    }
    response
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::scrape))
        .route("/api/openapi.json", get(openapi_json))
        .merge(api::router())
        .merge(ui::router())
        .merge(form_pages::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            clear_actor_cache,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
