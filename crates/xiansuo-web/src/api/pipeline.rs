//! From qualified lead to customer: qualification checklists and a lead's ticked items,
//! conversion, the pipeline's stages, winning and losing deals, the forecast and the kanban
//! board, the RFM value of accounts, and the handover of a user's records.

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
use xiansuo_app::leads::{conversion, qualification, unconvert};
use xiansuo_app::sales::{customers, pipeline};

async fn list_checklists(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "items": qualification::list(&s.db).await? })))
}

async fn create_checklist(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let created = qualification::create(ctx(&s, &auth), &body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn get_checklist(
    State(s): State<AppState>,
    _auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(qualification::get(&s.db, id).await?))
}

async fn update_checklist(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        qualification::update(ctx(&s, &auth), id, &body).await?,
    ))
}

async fn delete_checklist(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    qualification::delete(ctx(&s, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_lead_qualification(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(qualification::lead(&s.db, &auth.actor, id).await?))
}

async fn put_lead_qualification(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(qualification::put(ctx(&s, &auth), id, &body).await?))
}

async fn convert_lead(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(conversion::convert(ctx(&s, &auth), id, &body).await?))
}

async fn undo_conversion(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(unconvert::undo(ctx(&s, &auth), id).await?))
}

async fn list_stages(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({ "items": pipeline::list_stages(&s.db).await? }),
    ))
}

async fn create_stage(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let created = pipeline::create_stage(ctx(&s, &auth), &body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn update_stage(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        pipeline::update_stage(ctx(&s, &auth), id, &body).await?,
    ))
}

async fn win(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        pipeline::close(ctx(&s, &auth), id, &body, true).await?,
    ))
}

async fn lose(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        pipeline::close(ctx(&s, &auth), id, &body, false).await?,
    ))
}

async fn forecast(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        pipeline::forecast(&s.db, &auth.actor, &q, s.clock.now()).await?,
    ))
}

async fn board(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(pipeline::board(&s.db, &auth.actor, &q).await?))
}

async fn account_rfm(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(
        customers::account_rfm(&s.db, &auth.actor, id, s.clock.now()).await?,
    ))
}

async fn rfm_report(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        customers::report(&s.db, &auth.actor, &q, s.clock.now()).await?,
    ))
}

async fn handover(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(customers::handover(ctx(&s, &auth), id, &body).await?))
}

/// Every route of qualification, conversion, the pipeline and customers.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/qualification-checklists",
            get(list_checklists).post(create_checklist),
        )
        .route(
            "/api/v1/qualification-checklists/{id}",
            get(get_checklist)
                .patch(update_checklist)
                .delete(delete_checklist),
        )
        .route(
            "/api/v1/leads/{id}/qualification",
            get(get_lead_qualification).put(put_lead_qualification),
        )
        .route("/api/v1/leads/{id}/convert", post(convert_lead))
        .route("/api/v1/leads/{id}/conversion/undo", post(undo_conversion))
        .route(
            "/api/v1/pipeline/stages",
            get(list_stages).post(create_stage),
        )
        .route(
            "/api/v1/pipeline/stages/{id}",
            axum::routing::patch(update_stage),
        )
        .route("/api/v1/pipeline/forecast", get(forecast))
        .route("/api/v1/pipeline/board", get(board))
        .route("/api/v1/opportunities/{id}/win", post(win))
        .route("/api/v1/opportunities/{id}/lose", post(lose))
        .route("/api/v1/accounts/{id}/rfm", get(account_rfm))
        .route("/api/v1/reports/rfm", get(rfm_report))
        .route("/api/v1/users/{id}/handover", post(handover))
}
