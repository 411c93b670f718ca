//! The JSON API under `/api/v1`: records (leads, accounts, contacts, opportunities) with their
//! history and activities, users, teams, tokens and custom field definitions.

mod admin;
mod backups;
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

use crate::auth;
use crate::AppState;
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
        .merge(privacy::routes())
        .merge(records::routes())
        .merge(auth::routes())
        .merge(choices::routes())
        .merge(prediction::routes())
        .merge(backups::routes())
        .merge(forms::routes())
        .merge(dedup::routes())
        .merge(reports::routes())
        .merge(imports::routes())
}

/// Every `/api/v1` route.
pub fn router() -> Router<AppState> {
    let mut router = Router::new()
        .merge(Router::from(documented()))
        .merge(records::activity_export_router());
    for table in TABLES {
        router = router.merge(records::router(table));
    }
    router
}
