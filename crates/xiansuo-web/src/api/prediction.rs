//! Win prediction over HTTP: the model in use, a new training run and the retraining schedule
//! (admins), and a lead's probability with the reasons for it (within the caller's data scope).

use crate::auth::{ctx, Auth};
use crate::error::ApiResult;
use crate::extract::{typed, Id, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use xiansuo_app::leads::prediction;
use xiansuo_app::leads::prediction::schedule::{self, ScheduleInput};

/// Every route of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/prediction",
            get(|State(s): State<AppState>, auth: Auth| async move {
                ApiResult::Ok(Json(prediction::current(&s.db, &auth.actor).await?))
            }),
        )
        .route(
            "/api/v1/prediction/train",
            post(|State(s): State<AppState>, auth: Auth| async move {
                let job = prediction::start_training(ctx(&s, &auth)).await?;
                ApiResult::Ok((StatusCode::ACCEPTED, Json(job)))
            }),
        )
        .route(
            "/api/v1/prediction/schedule",
            get(|State(s): State<AppState>, auth: Auth| async move {
                ApiResult::Ok(Json(schedule::get(&s.db, &auth.actor).await?))
            })
            .put(
                // The caller's role is checked before the body is read, so that a rep learns
                // only that they may not.
                |State(s): State<AppState>, auth: Auth, JsonBody(body): JsonBody| async move {
                    auth.actor.require_admin("change the retraining schedule")?;
                    let input: ScheduleInput = typed(body)?;
                    ApiResult::Ok(Json(schedule::set(ctx(&s, &auth), &input).await?))
                },
            ),
        )
        .route(
            "/api/v1/leads/{id}/prediction",
            get(
                |State(s): State<AppState>, auth: Auth, Id(id): Id| async move {
                    ApiResult::Ok(Json(
                        prediction::lead_prediction(&s.db, &auth.actor, id).await?,
                    ))
                },
            ),
        )
}
