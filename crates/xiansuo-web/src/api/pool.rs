//! The public pool (公海): pools and their members (admins), the leads waiting in a pool with
//! masked phones (members), claiming, assigning and returning leads, and the recycle rules.

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use xiansuo_app::leads::pool;

async fn list(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": pool::list(&s.db, &auth.actor).await?, "next_cursor": null}),
    ))
}

async fn create(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let created = pool::create(&s.db, &auth.actor, &body, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn get_one(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(pool::get(&s.db, &auth.actor, id).await?))
}

async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        pool::update(&s.db, &auth.actor, id, &body, s.clock.now()).await?,
    ))
}

async fn delete(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    pool::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn leads(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    let (items, next) = pool::leads(&s.db, &auth.actor, id, &q).await?;
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

async fn claim(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let items = pool::claim(ctx(&s, &auth), id, &body).await?;
    Ok(Json(json!({ "items": items })))
}

async fn assign(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let items = pool::assign(ctx(&s, &auth), id, &body).await?;
    Ok(Json(json!({ "items": items })))
}

async fn release(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(pool::release(ctx(&s, &auth), id, &body).await?))
}

async fn list_rules(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": pool::list_rules(&s.db, &auth.actor).await?, "next_cursor": null}),
    ))
}

async fn create_rule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let created = pool::create_rule(&s.db, &auth.actor, &body, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn get_rule(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(pool::get_rule(&s.db, &auth.actor, id).await?))
}

async fn update_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        pool::update_rule(&s.db, &auth.actor, id, &body, s.clock.now()).await?,
    ))
}

async fn delete_rule(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    pool::delete_rule(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pools", get(list).post(create))
        // Static segments, so axum matches them before `{id}`.
        .route(
            "/api/v1/pools/recycle-rules",
            get(list_rules).post(create_rule),
        )
        .route(
            "/api/v1/pools/recycle-rules/{id}",
            get(get_rule).patch(update_rule).delete(delete_rule),
        )
        .route(
            "/api/v1/pools/{id}",
            get(get_one).patch(update).delete(delete),
        )
        .route("/api/v1/pools/{id}/leads", get(leads))
        .route("/api/v1/pools/{id}/claim", post(claim))
        .route("/api/v1/pools/{id}/assign", post(assign))
        .route("/api/v1/leads/{id}/release", post(release))
}
