//! Users, teams (the org tree), API tokens, custom field definitions, and the audit log and
//! login history. Reading users, teams and fields needs any signed-in user (contact details of
//! others only an admin); changing them, and reading the logs, needs an admin.

use crate::auth::{cookie, Auth, SESSION_COOKIE};
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use xiansuo_app::admin::{audit, auth, users};
use xiansuo_app::records::custom_fields;

async fn list_users(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": users::list_for(&s.db, &auth.actor, &q).await?, "next_cursor": null}),
    ))
}

async fn create_user(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(users::create_by(&s.db, &auth.actor, &body, s.clock.now()).await?),
    ))
}

async fn get_user(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(users::get_for(&s.db, &auth.actor, id).await?))
}

async fn update_user(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        users::update(&s.db, &auth.actor, id, &body, s.clock.now()).await?,
    ))
}

async fn list_teams(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": users::list_teams(&s.db).await?, "next_cursor": null}),
    ))
}

async fn create_team(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(users::save_team_by(&s.db, &auth.actor, None, &body, s.clock.now()).await?),
    ))
}

async fn get_team(State(s): State<AppState>, _auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(users::get_team(&s.db, id).await?))
}

async fn update_team(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        users::save_team_by(&s.db, &auth.actor, Some(id), &body, s.clock.now()).await?,
    ))
}

async fn list_tokens(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": auth::list_tokens(&s.db, auth.actor.user_id).await?, "next_cursor": null}),
    ))
}

async fn create_token(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(auth::create_scoped_token(&s.db, &auth.actor, &body, s.clock.now()).await?),
    ))
}

async fn revoke_token(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    auth::revoke_token(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_custom_fields(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": custom_fields::list(&s.db).await?, "next_cursor": null}),
    ))
}

async fn create_custom_field(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(custom_fields::create_by(&s.db, &auth.actor, &body, s.clock.now()).await?),
    ))
}

async fn unlock_user(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    let username = users::unlock_sign_in(&s.db, &auth.actor, id).await?;
    let unlocked = s.sign_in_throttle.unlock(&username);
    tracing::info!(
        username,
        unlocked,
        by = auth.actor.user_id,
        "sign-in throttles lifted"
    );
    Ok(Json(json!({ "unlocked": unlocked })))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user).patch(update_user))
        .route("/api/v1/users/{id}/unlock", post(unlock_user))
        .route("/api/v1/teams", get(list_teams).post(create_team))
        .route("/api/v1/teams/{id}", get(get_team).patch(update_team))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route(
            "/api/v1/custom-fields",
            get(list_custom_fields).post(create_custom_field),
        )
        .route(
            "/api/v1/custom-fields/{id}",
            get(get_custom_field)
                .patch(update_custom_field)
                .delete(delete_custom_field),
        )
        .route("/api/v1/me/password", post(change_password))
        .route("/api/v1/audit", get(list_audit))
        .route("/api/v1/audit/logins", get(list_logins))
}

async fn list_audit(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(audit::list(&s.db, &auth.actor, &q).await?))
}

async fn list_logins(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(audit::logins(&s.db, &auth.actor, &q).await?))
}

async fn get_custom_field(
    State(s): State<AppState>,
    _auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(custom_fields::get(&s.db, id).await?))
}

async fn update_custom_field(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        custom_fields::update(&s.db, &auth.actor, id, &body, s.clock.now()).await?,
    ))
}

async fn delete_custom_field(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    custom_fields::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn change_password(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<StatusCode> {
    // A session cookie the change is made with stays signed in; a bearer token has none.
    let session = if headers.contains_key(AUTHORIZATION) {
        None
    } else {
        cookie(&headers, SESSION_COOKIE)
    };
    users::change_password(&s.db, &auth.actor, &body, session.as_deref(), s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
