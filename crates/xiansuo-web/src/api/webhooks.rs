//! Outbound webhooks, for admins: subscriptions to domain events, their delivery log, a test
//! ping, and sending a delivery again (see `xiansuo_app::channels::webhooks`).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use xiansuo_app::channels::webhooks;

async fn list_webhooks(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": webhooks::list(&s.db, &auth.actor).await?, "next_cursor": null}),
    ))
}

async fn create_webhook(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(webhooks::create(&s.db, &auth.actor, &body, s.clock.now()).await?),
    ))
}

async fn get_webhook(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(webhooks::get(&s.db, &auth.actor, id).await?))
}

async fn update_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        webhooks::update(&s.db, &auth.actor, id, &body, s.clock.now()).await?,
    ))
}

async fn delete_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    webhooks::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_deliveries(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    QueryPairs(query): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        webhooks::deliveries(&s.db, &auth.actor, id, &query).await?,
    ))
}

async fn test_webhook(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(
        webhooks::ping(&s.db, &auth.actor, id, s.clock.now()).await?,
    ))
}

async fn retry_delivery(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(webhooks::redeliver(&s.db, &auth.actor, id, s.clock.now()).await?),
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route(
            "/api/v1/webhooks/{id}",
            get(get_webhook)
                .patch(update_webhook)
                .delete(delete_webhook),
        )
        .route("/api/v1/webhooks/{id}/deliveries", get(list_deliveries))
        .route("/api/v1/webhooks/{id}/test", post(test_webhook))
        .route(
            "/api/v1/webhooks/deliveries/{id}/retry",
            post(retry_delivery),
        )
}
