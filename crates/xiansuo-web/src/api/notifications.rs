//! The caller's own notifications: list them (all or unread), mark one or all read; and which
//! kinds they get in the app and by email (`/api/v1/me/notification-preferences`). Every
//! signed-in user reads and changes only their own (see
//! `xiansuo_app::channels::notifications`). Each handler documents itself (`#[utoipa::path]`)
//! and [`routes`] registers handler and document together.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, QueryPairs, Typed};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::channels::notifications::{
    self, ListQuery, MarkedRead, NotificationList, Preferences, PreferencesChange, Received,
};
use xiansuo_core::clock::to_millis;

/// The caller's notifications, newest first
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    operation_id = "listNotifications",
    tag = "notifications",
    params(
        ("unread" = Option<bool>, Query, description = "Only unread ones (default false)"),
        ("limit" = Option<i64>, Query, description = "How many at most, from 1 to 200 (default 50)", minimum = 1, maximum = 200),
    ),
    responses(
        (status = OK, description = "The notifications and how many are unread", body = NotificationList),
        (status = BAD_REQUEST, description = "A query parameter is unknown or not valid"),
    )
)]
async fn list(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<NotificationList>> {
    // A query the caller got wrong is a 400, as for every list of the API.
    let query = ListQuery::parse(&q).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(
        notifications::list(&s.db, auth.actor.user_id, query).await?,
    ))
}

/// Marks one of the caller's notifications read
#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/read",
    operation_id = "readNotification",
    tag = "notifications",
    responses((status = OK, description = "The notification", body = Received))
)]
async fn read_one(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Received>> {
    let now = to_millis(s.clock.now());
    Ok(Json(
        notifications::mark_read(&s.db, auth.actor.user_id, id, now).await?,
    ))
}

/// Marks all the caller's notifications read
#[utoipa::path(
    post,
    path = "/api/v1/notifications/read-all",
    operation_id = "readAllNotifications",
    tag = "notifications",
    responses((status = OK, description = "How many were marked", body = MarkedRead))
)]
async fn read_all(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<MarkedRead>> {
    let now = to_millis(s.clock.now());
    Ok(Json(
        notifications::mark_all_read(&s.db, auth.actor.user_id, now).await?,
    ))
}

/// Which notifications the caller gets in the app and by email
#[utoipa::path(
    get,
    path = "/api/v1/me/notification-preferences",
    operation_id = "getMyNotificationPreferences",
    tag = "notifications",
    responses((status = OK, description = "The caller's preferences", body = Preferences))
)]
async fn preferences(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Preferences>> {
    Ok(Json(
        notifications::preferences(&s.db, auth.actor.user_id).await?,
    ))
}

/// Sets which notifications the caller gets in the app and by email
///
/// A kind muted in both is not written for the caller; muted in the app, it stays out of their
/// list and count; muted by email, it is left out of their digest. An unknown kind or field is
/// a 422 naming it.
#[utoipa::path(
    put,
    path = "/api/v1/me/notification-preferences",
    operation_id = "setMyNotificationPreferences",
    tag = "notifications",
    request_body = PreferencesChange,
    responses(
        (status = OK, description = "The caller's preferences now", body = Preferences),
        (status = UNPROCESSABLE_ENTITY, description = "A kind or field is not valid"),
    )
)]
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

/// The notification routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(preferences, set_preferences))
        .routes(routes!(list))
        .routes(routes!(read_one))
        .routes(routes!(read_all))
}
