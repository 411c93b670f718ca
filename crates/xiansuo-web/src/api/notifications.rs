//! The caller's own notifications: list them (all or unread), mark one or all read; and which
//! kinds they get in the app and by email (`/api/v1/me/notification-preferences`).

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, QueryPairs, Typed};
use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use xiansuo_app::channels::notifications::{self, Preferences, PreferencesChange};
use xiansuo_core::clock::to_millis;

async fn list(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    let mut unread_only = false;
    let mut limit = 50;
    for (name, value) in &q {
        match name.as_str() {
            "unread" => {
                unread_only = match value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(ApiError::BadRequest("unread must be true or false".into())),
                }
            }
            "limit" => {
                limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=200).contains(n))
                    .ok_or_else(|| {
                        ApiError::BadRequest("limit must be a whole number from 1 to 200".into())
                    })?
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter '{other}' (accepted: unread, limit)"
                )))
            }
        }
    }
    let (items, unread) =
        notifications::list(&s.db, auth.actor.user_id, unread_only, limit).await?;
    Ok(Json(json!({"items": items, "unread": unread})))
}

async fn read_one(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    let now = to_millis(s.clock.now());
    Ok(Json(
        notifications::mark_read(&s.db, auth.actor.user_id, id, now).await?,
    ))
}

async fn read_all(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let now = to_millis(s.clock.now());
    let marked = notifications::mark_all_read(&s.db, auth.actor.user_id, now).await?;
    Ok(Json(json!({"marked": marked})))
}

/// `GET /api/v1/me/notification-preferences`
async fn preferences(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Preferences>> {
    Ok(Json(
        notifications::preferences(&s.db, auth.actor.user_id).await?,
    ))
}

/// `PUT /api/v1/me/notification-preferences`: the kinds listed are set, the others kept.
async fn set_preferences(
    State(s): State<AppState>,
    auth: Auth,
    Typed(change): Typed<PreferencesChange>,
) -> ApiResult<Json<Preferences>> {
    let now = to_millis(s.clock.now());
    Ok(Json(
        notifications::set_preferences(&s.db, auth.actor.user_id, &change, now).await?,
    ))
}

/// `/api/v1/notifications` and `/api/v1/me/notification-preferences` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/me/notification-preferences",
            get(preferences).put(set_preferences),
        )
        .route("/api/v1/notifications", get(list))
        .route("/api/v1/notifications/{id}/read", post(read_one))
        .route("/api/v1/notifications/read-all", post(read_all))
}
