//! The JSON API under `/api/v1`: records (leads, accounts, contacts, opportunities) with their
//! history and activities, users, teams, tokens and custom field definitions.

mod admin;
pub(crate) mod backups;
mod choices;
mod dedup;
mod followups;
pub(crate) mod forms;
mod imports;
mod notifications;
mod pipeline;
mod pool;
mod prediction;
mod privacy;
mod records;
mod reports;
mod robots;
mod rules;
mod webhooks;

use crate::auth::{self};
use crate::AppState;
use axum::routing::post;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use xiansuo_app::records::schema::TABLES;

/// The routes whose handlers document themselves (`#[utoipa::path]`), with their part of the
/// OpenAPI document; `crate::openapi` completes it with what every route shares.
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .merge(webhooks::routes())
        .merge(robots::routes())
        .merge(notifications::routes())
        .merge(pipeline::routes())
        .merge(admin::routes())
        .merge(rules::routes())
        .merge(pool::routes())
        .merge(followups::routes())
        .merge(dedup::routes())
}

/// Every `/api/v1` route.
pub fn router() -> Router<AppState> {
    let mut router = Router::new()
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/me", axum::routing::get(auth::me))
        .merge(admin::router())
        .merge(forms::router())
        .merge(imports::router())
        .merge(Router::from(documented()))
        .merge(choices::router())
        .merge(followups::router())
        .merge(records::activity_router())
        .merge(records::export_audit_router())
        .merge(reports::router())
        .merge(prediction::router())
        .merge(backups::router())
        .merge(privacy::router());
    for table in TABLES {
        router = router.merge(records::router(table));
    }
    router
}
