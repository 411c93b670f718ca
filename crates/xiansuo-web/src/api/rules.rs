//! Scoring and assignment: the rules and settings admins edit, a lead's score and behaviour
//! events, manual and bulk assignment, and users' availability for assignment rules.
//! Reading rules and settings needs any signed-in user; changing them needs an admin.

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use xiansuo_app::leads::{assignment, scoring};

/// `POST /api/v1/assignment/test`: which rule would take a lead, without assigning it.
async fn test_assignment(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<assignment::Verdict>> {
    let sample = assignment::SampleLead::parse(&body)?;
    Ok(Json(
        assignment::test(&s.db, &auth.actor, &sample, s.clock.now()).await?,
    ))
}

// ---- Scoring ------------------------------------------------------------------------------

async fn list_scoring_rules(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": scoring::list_rules(&s.db, &auth.actor).await?, "next_cursor": null}),
    ))
}

async fn create_scoring_rule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(scoring::create_rule(ctx(&s, &auth), &body).await?),
    ))
}

async fn get_scoring_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(scoring::get_rule(&s.db, &auth.actor, id).await?))
}

async fn update_scoring_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(scoring::update_rule(ctx(&s, &auth), id, &body).await?))
}

async fn delete_scoring_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    scoring::delete_rule(ctx(&s, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/scoring/preview`: what saving a rule would do to the newest leads' tiers.
async fn preview_scoring_rule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<scoring::ScoringPreview>> {
    Ok(Json(
        scoring::preview_body(&s.db, &auth.actor, &body, s.clock.now()).await?,
    ))
}

async fn get_scoring_settings(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(scoring::get_settings(&s.db, &auth.actor).await?))
}

async fn update_scoring_settings(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(scoring::update_settings(ctx(&s, &auth), &body).await?))
}

async fn lead_score(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(scoring::lead_score(&s.db, &auth.actor, id).await?))
}

async fn list_lead_events(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let items = scoring::list_events(&s.db, &auth.actor, id).await?;
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

async fn add_lead_event(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(scoring::add_event(ctx(&s, &auth), id, &body).await?),
    ))
}

// ---- Assignment ---------------------------------------------------------------------------

async fn list_assignment_rules(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": assignment::list_rules(&s.db, &auth.actor).await?, "next_cursor": null}),
    ))
}

async fn create_assignment_rule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(assignment::create_rule(ctx(&s, &auth), &body).await?),
    ))
}

async fn get_assignment_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(assignment::get_rule(&s.db, &auth.actor, id).await?))
}

async fn update_assignment_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        assignment::update_rule(ctx(&s, &auth), id, &body).await?,
    ))
}

async fn delete_assignment_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    assignment::delete_rule(ctx(&s, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reorder_assignment_rules(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": assignment::reorder(ctx(&s, &auth), &body).await?, "next_cursor": null}),
    ))
}

async fn get_assignment_settings(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(assignment::get_settings(&s.db, &auth.actor).await?))
}

async fn update_assignment_settings(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        assignment::update_settings(ctx(&s, &auth), &body).await?,
    ))
}

async fn assign_leads(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let (ids, owner) = assignment::parse_assign(&body, None)?;
    let items = assignment::assign(ctx(&s, &auth), &ids, owner).await?;
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

async fn assign_lead(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let (ids, owner) = assignment::parse_assign(&body, Some(id))?;
    let lead = assignment::assign(ctx(&s, &auth), &ids, owner)
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound("Lead not found".into()))?;
    Ok(Json(lead))
}

async fn get_availability(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        assignment::get_availability(ctx(&s, &auth), id).await?,
    ))
}

async fn update_availability(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        assignment::update_availability(ctx(&s, &auth), id, &body).await?,
    ))
}

/// Every scoring and assignment route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/scoring/rules",
            get(list_scoring_rules).post(create_scoring_rule),
        )
        .route(
            "/api/v1/scoring/rules/{id}",
            get(get_scoring_rule)
                .patch(update_scoring_rule)
                .delete(delete_scoring_rule),
        )
        .route("/api/v1/scoring/preview", post(preview_scoring_rule))
        .route(
            "/api/v1/scoring/settings",
            get(get_scoring_settings).patch(update_scoring_settings),
        )
        .route("/api/v1/leads/{id}/score", get(lead_score))
        .route(
            "/api/v1/leads/{id}/events",
            get(list_lead_events).post(add_lead_event),
        )
        .route(
            "/api/v1/assignment/rules",
            get(list_assignment_rules).post(create_assignment_rule),
        )
        .route(
            "/api/v1/assignment/rules/reorder",
            post(reorder_assignment_rules),
        )
        .route(
            "/api/v1/assignment/rules/{id}",
            get(get_assignment_rule)
                .patch(update_assignment_rule)
                .delete(delete_assignment_rule),
        )
        .route("/api/v1/assignment/test", post(test_assignment))
        .route(
            "/api/v1/assignment/settings",
            get(get_assignment_settings).patch(update_assignment_settings),
        )
        .route("/api/v1/leads/assign", post(assign_leads))
        .route("/api/v1/leads/{id}/assign", post(assign_lead))
        .route(
            "/api/v1/users/{id}/availability",
            get(get_availability).patch(update_availability),
        )
}
