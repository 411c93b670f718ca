//! Xiansuo's HTTP side: the JSON API under `/api/v1`, its OpenAPI document, the operational
//! endpoints, and authentication. [`app`] builds the router from an [`AppState`]; [`serve`]
//! runs it on a listener until a shutdown signal, finishing requests in flight.

pub mod api;
pub mod auth;
pub mod download;
pub mod error;
pub mod extract;
pub mod form_pages;
pub mod metrics;
pub mod openapi;
mod server;
pub mod throttle;
pub mod ui;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use error::ApiError;
use serde_json::json;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use xiansuo_core::Clock;
use xiansuo_store::Db;

pub use server::{serve, Limits};

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub sign_in_throttle: Arc<throttle::SignInThrottle>,
    /// Creates records with group commit.
    pub writer: xiansuo_app::records::writer::Writer,
    /// Mark cookies `Secure` (when served behind HTTPS).
    pub secure_cookies: bool,
    /// Take the client address (for the web-form rate limit) from `X-Forwarded-For`: only
    /// behind a reverse proxy that sets it.
    pub trust_forwarded_for: bool,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Timeouts and connection caps per client.
    pub limits: Limits,
    /// Where outgoing mail goes, as the job runner sends it (for the mail settings page).
    pub smtp: xiansuo_app::channels::mail::SmtpSettings,
}

impl AppState {
    /// Must be called inside a tokio runtime: it starts the writer task.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            writer: xiansuo_app::records::writer::Writer::start(db.clone()),
            db,
            clock,
            sign_in_throttle: Arc::default(),
            secure_cookies: false,
            trust_forwarded_for: false,
            metrics: Arc::default(),
            limits: Limits::default(),
            smtp: xiansuo_app::channels::mail::SmtpSettings::default(),
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
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            server::body_deadline,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
