//! Group robots (WeCom, DingTalk, Feishu), for admins: the robots with their events, their
//! delivery log, a test message, and sending a delivery again (see
//! `xiansuo_app::channels::robots`).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, QueryPairs, Typed};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use xiansuo_app::channels::robots::{self, Robot, RobotInput};

/// A page of robots: all of them, there are few.
#[derive(Serialize)]
struct Robots {
    items: Vec<Robot>,
    next_cursor: Option<String>,
}

async fn list_robots(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Robots>> {
    Ok(Json(Robots {
        items: robots::list(&s.db, &auth.actor).await?,
        next_cursor: None,
    }))
}

async fn create_robot(
    State(s): State<AppState>,
    auth: Auth,
    Typed(input): Typed<RobotInput>,
) -> ApiResult<(StatusCode, Json<Robot>)> {
    Ok((
        StatusCode::CREATED,
        Json(robots::create(&s.db, &auth.actor, input, s.clock.now()).await?),
    ))
}

async fn get_robot(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Robot>> {
    Ok(Json(robots::get(&s.db, &auth.actor, id).await?))
}

async fn update_robot(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Typed(input): Typed<RobotInput>,
) -> ApiResult<Json<Robot>> {
    Ok(Json(
        robots::update(&s.db, &auth.actor, id, input, s.clock.now()).await?,
    ))
}

async fn delete_robot(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    robots::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_deliveries(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    QueryPairs(query): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        robots::deliveries(&s.db, &auth.actor, id, &query).await?,
    ))
}

async fn test_robot(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(
        robots::test(&s.db, &auth.actor, id, s.clock.now()).await?,
    ))
}

async fn retry_delivery(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(robots::redeliver(&s.db, &auth.actor, id, s.clock.now()).await?),
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/robots", get(list_robots).post(create_robot))
        .route(
            "/api/v1/robots/{id}",
            get(get_robot).patch(update_robot).delete(delete_robot),
        )
        .route("/api/v1/robots/{id}/deliveries", get(list_deliveries))
        .route("/api/v1/robots/{id}/test", post(test_robot))
        .route("/api/v1/robots/deliveries/{id}/retry", post(retry_delivery))
}
