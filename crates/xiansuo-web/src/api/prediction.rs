//! Win prediction over HTTP: the model in use, a new training run and the retraining schedule
//! (admins, which the use cases check), and a lead's probability with the reasons for it
//! (within the caller's data scope). Each handler documents itself (`#[utoipa::path]`) and
//! [`routes`] registers handler and document together.

use crate::auth::{ctx, Auth};
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::leads::prediction::schedule::{self, Schedule, ScheduleInput};
use xiansuo_app::leads::prediction::{self, LeadPrediction, ModelReport, QueuedTraining};
use xiansuo_core::validation::Unread;

/// The win-prediction model in use (admins)
#[utoipa::path(
    get,
    path = "/api/v1/prediction",
    operation_id = "getPredictionModel",
    tag = "leads",
    responses(
        (status = OK, description = "The model", body = ModelReport),
        (status = FORBIDDEN, description = "The caller is not an admin"),
    )
)]
async fn model(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<ModelReport>> {
    Ok(Json(prediction::current(&s.db, &auth.actor).await?))
}

/// Train the win prediction again (admins)
///
/// Queues the job `prediction.train`: gradient-boosted trees and a regularised logistic
/// regression are cross-validated on the leads' outcomes (converted or won against
/// disqualified or lost), the better kept and calibrated, and every lead's `win_probability`
/// refreshed. 409 when fewer than 20 leads have either outcome. A training already queued or
/// running is answered instead of a new one.
#[utoipa::path(
    post,
    path = "/api/v1/prediction/train",
    operation_id = "trainPredictionModel",
    tag = "leads",
    responses(
        (status = ACCEPTED, description = "Queued", body = QueuedTraining),
        (status = CONFLICT, description = "Fewer than 20 leads have either outcome"),
    )
)]
async fn train(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<(StatusCode, Json<QueuedTraining>)> {
    let job = prediction::start_training(ctx(&s, &auth)).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// How often the win prediction is trained again (admins)
///
/// Weekly unless an admin chose otherwise; only once a first model has been trained.
#[utoipa::path(
    get,
    path = "/api/v1/prediction/schedule",
    operation_id = "getPredictionSchedule",
    tag = "leads",
    responses(
        (status = OK, description = "The schedule", body = Schedule),
        (status = FORBIDDEN, description = "The caller is not an admin"),
    )
)]
async fn get_schedule(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Schedule>> {
    Ok(Json(schedule::get(&s.db, &auth.actor).await?))
}

/// Set how often the win prediction is trained again (admins)
///
/// Logged in the settings audit (`kind=prediction_schedule`).
#[utoipa::path(
    put,
    path = "/api/v1/prediction/schedule",
    operation_id = "setPredictionSchedule",
    tag = "leads",
    request_body = ScheduleInput,
    responses(
        (status = OK, description = "The schedule", body = Schedule),
        (status = FORBIDDEN, description = "The caller is not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "The interval is not valid"),
    )
)]
async fn set_schedule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Schedule>> {
    let input = Unread::json(body);
    Ok(Json(schedule::set(ctx(&s, &auth), input).await?))
}

/// A lead's win probability with its reasons
#[utoipa::path(
    get,
    path = "/api/v1/leads/{id}/prediction",
    operation_id = "getLeadPrediction",
    tag = "leads",
    responses((status = OK, description = "The prediction", body = LeadPrediction))
)]
async fn lead(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<LeadPrediction>> {
    Ok(Json(
        prediction::lead_prediction(&s.db, &auth.actor, id).await?,
    ))
}

/// The win-prediction routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(model))
        .routes(routes!(train))
        .routes(routes!(get_schedule, set_schedule))
        .routes(routes!(lead))
}
