//! Group robots (WeCom, DingTalk, Feishu), for admins: the robots with their events, their
//! delivery log, a test message, and sending a delivery again (see
//! `xiansuo_app::channels::robots`). The handlers document themselves, as `api::webhooks`
//! describes.

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::channels::robots::{self, NewRobot, Robot, RobotInput, RobotList};
use xiansuo_core::validation::Unread;

/// List robots
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/robots",
    operation_id = "listRobots",
    tag = "robots",
    responses(
        (status = OK, description = "Every robot", body = RobotList),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn list_robots(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<RobotList>> {
    Ok(Json(robots::list(&s.db, &auth.actor).await?))
}

/// Create a robot
///
/// Admins only. Every active robot gets each event it names as a chat message (WeCom and
/// DingTalk: markdown; Feishu: text) in its language, naming the lead or deal and its owner. A
/// message is queued in the transaction of the change. DingTalk robots with a secret are
/// signed by `timestamp` and `sign` in the URL, Feishu ones by `timestamp` and `sign` in the
/// body. An answer other than 2xx, or a 2xx whose `errcode` (WeCom, DingTalk) or `code`
/// (Feishu) is not 0, is retried after 1, 2, 4, … minutes, 8 attempts in all.
#[utoipa::path(
    post,
    path = "/api/v1/robots",
    operation_id = "createRobot",
    tag = "robots",
    request_body = NewRobot,
    responses(
        (status = CREATED, description = "Created", body = Robot),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_robot(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Robot>)> {
    let new = Unread::json(body);
    Ok((
        StatusCode::CREATED,
        Json(robots::create(&s.db, &auth.actor, new, s.clock.now()).await?),
    ))
}

/// Get a robot
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/robots/{id}",
    operation_id = "getRobot",
    tag = "robots",
    responses(
        (status = OK, description = "The robot", body = Robot),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn get_robot(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Robot>> {
    Ok(Json(robots::get(&s.db, &auth.actor, id).await?))
}

/// Change a robot
///
/// Admins only. Fields left out keep their value; a robot made a WeCom one drops its secret.
#[utoipa::path(
    patch,
    path = "/api/v1/robots/{id}",
    operation_id = "updateRobot",
    tag = "robots",
    request_body = RobotInput,
    responses(
        (status = OK, description = "Changed", body = Robot),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_robot(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Robot>> {
    let change = Unread::json(body);
    Ok(Json(
        robots::update(&s.db, &auth.actor, id, change, s.clock.now()).await?,
    ))
}

/// Delete a robot
///
/// Admins only. Its delivery log goes with it.
#[utoipa::path(
    delete,
    path = "/api/v1/robots/{id}",
    operation_id = "deleteRobot",
    tag = "robots",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete_robot(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    robots::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List a robot's deliveries
///
/// Admins only. The delivery log, newest first, with every attempt.
#[utoipa::path(
    get,
    path = "/api/v1/robots/{id}/deliveries",
    operation_id = "listRobotDeliveries",
    tag = "robots",
    params(
        ("limit" = Option<i64>, Query, description = "How many deliveries per page", minimum = 1, maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page", pattern = "^[0-9]{1,18}$"),
        ("state" = Option<String>, Query, description = "Only deliveries in this state: `pending`, `succeeded` or `failed`", pattern = "^(pending|succeeded|failed)$"),
        ("event" = Option<String>, Query, description = "Only deliveries of this event"),
    ),
    responses(
        (status = OK, description = "One page", body = ref("#/components/schemas/RobotDeliveryList")),
        (status = FORBIDDEN, description = "Not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A filter is not valid"),
    )
)]
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

/// Send a test message
///
/// Admins only. Sends a test message now, even to a robot that is switched off, and answers
/// with the delivery and the robot's answer. A test is not retried.
#[utoipa::path(
    post,
    path = "/api/v1/robots/{id}/test",
    operation_id = "testRobot",
    tag = "robots",
    responses(
        (status = OK, description = "The delivery, attempted", body = ref("#/components/schemas/RobotDelivery")),
    )
)]
async fn test_robot(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(
        robots::test(&s.db, &auth.actor, id, s.clock.now()).await?,
    ))
}

/// Send a delivery again
///
/// Admins only. Queues one more attempt of a delivery that succeeded or failed, made at the
/// next run of background jobs. A pending delivery, or one of a robot that is switched off,
/// is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/robots/deliveries/{id}/retry",
    operation_id = "retryRobotDelivery",
    tag = "robots",
    responses(
        (status = ACCEPTED, description = "Queued", body = ref("#/components/schemas/RobotDelivery")),
        (status = CONFLICT, description = "Still pending, or its robot is switched off"),
    )
)]
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

/// The robot routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_robots, create_robot))
        .routes(routes!(get_robot, update_robot, delete_robot))
        .routes(routes!(list_deliveries))
        .routes(routes!(test_robot))
        .routes(routes!(retry_delivery))
}
