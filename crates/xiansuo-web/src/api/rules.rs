//! Scoring and assignment: the rules and settings admins edit, a lead's score and behaviour
//! events, manual and bulk assignment, and users' availability for assignment rules (see
//! `xiansuo_app::leads::{scoring, assignment}`). Scoring rules and settings are for admins; a
//! lead's score and events follow the data scope.
//!
//! A body is handed to the use case unread (`Unread`), which reads it into its type after it
//! has checked the caller, so a caller who may not call it gets a 403 whatever the body says.
//! Each handler documents itself (`#[utoipa::path]`), and [`routes`] registers handler and
//! document together; what every route shares is added by `crate::openapi`.

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::leads::assignment::{
    self, AssignedLeadList, AssignmentRuleList, AssignmentSettings, AssignmentSettingsPatch,
    LeadAssignment, LeadBulkAssignment, RuleOrder, SampleLead, StoredAssignmentRule,
    UserAvailability, Verdict,
};
use xiansuo_app::leads::scoring::{
    self, LeadEventCreated, LeadEventList, LeadScore, NewLeadEvent, RulePreview, ScoringPreview,
    ScoringRuleList, StoredScoringRule,
};
use xiansuo_core::assignment::{AssignmentRulePatch, AvailabilityPatch, NewAssignmentRule};
use xiansuo_core::scoring::{NewScoringRule, ScoringRulePatch, Settings, SettingsPatch};
use xiansuo_core::validation::Unread;

// ---- Scoring ------------------------------------------------------------------------------

/// List scoring rules
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/scoring/rules",
    operation_id = "listScoringRules",
    tag = "scoring",
    responses(
        (status = OK, description = "Every rule", body = ScoringRuleList),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn list_scoring_rules(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<ScoringRuleList>> {
    Ok(Json(scoring::list_rules(&s.db, &auth.actor).await?))
}

/// Add a scoring rule
///
/// Admins only. A condition naming a field, custom field or operator that does not exist is a
/// 422 naming it. Every lead is rescored by a background job.
#[utoipa::path(
    post,
    path = "/api/v1/scoring/rules",
    operation_id = "createScoringRule",
    tag = "scoring",
    request_body = NewScoringRule,
    responses(
        (status = CREATED, description = "Created", body = StoredScoringRule),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_scoring_rule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<StoredScoringRule>)> {
    Ok((
        StatusCode::CREATED,
        Json(scoring::create_rule(ctx(&s, &auth), Unread::json(body)).await?),
    ))
}

/// Get a scoring rule
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/scoring/rules/{id}",
    operation_id = "getScoringRule",
    tag = "scoring",
    responses(
        (status = OK, description = "The rule", body = StoredScoringRule),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn get_scoring_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<StoredScoringRule>> {
    Ok(Json(scoring::get_rule(&s.db, &auth.actor, id).await?))
}

/// Change a scoring rule
///
/// Admins only. Every lead is rescored by a background job.
#[utoipa::path(
    patch,
    path = "/api/v1/scoring/rules/{id}",
    operation_id = "updateScoringRule",
    tag = "scoring",
    request_body = ScoringRulePatch,
    responses(
        (status = OK, description = "Changed", body = StoredScoringRule),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_scoring_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<StoredScoringRule>> {
    Ok(Json(
        scoring::update_rule(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// Delete a scoring rule
///
/// Admins only. Every lead is rescored by a background job.
#[utoipa::path(
    delete,
    path = "/api/v1/scoring/rules/{id}",
    operation_id = "deleteScoringRule",
    tag = "scoring",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete_scoring_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    scoring::delete_rule(ctx(&s, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Try a scoring rule before saving it
///
/// Admins only. A dry run: scores the newest 20,000 leads that are not deleted or converted as
/// they would be scored with the rule saved, and counts the tiers now and after. Nothing is
/// written. A rule that saving would refuse is a 422 naming the field.
#[utoipa::path(
    post,
    path = "/api/v1/scoring/preview",
    operation_id = "previewScoringRule",
    tag = "scoring",
    request_body = RulePreview,
    responses(
        (status = OK, description = "The counts", body = ScoringPreview),
        (status = NOT_FOUND, description = "No stored rule has the `rule_id`"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn preview_scoring_rule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<ScoringPreview>> {
    Ok(Json(
        scoring::preview_rule(&s.db, &auth.actor, Unread::json(body), s.clock.now()).await?,
    ))
}

/// The cap and tier thresholds
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/scoring/settings",
    operation_id = "getScoringSettings",
    tag = "scoring",
    responses(
        (status = OK, description = "The settings", body = Settings),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn get_scoring_settings(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Settings>> {
    Ok(Json(scoring::get_settings(&s.db, &auth.actor).await?))
}

/// Change the cap and tier thresholds
///
/// Admins only. Every lead is rescored by a background job.
#[utoipa::path(
    patch,
    path = "/api/v1/scoring/settings",
    operation_id = "updateScoringSettings",
    tag = "scoring",
    request_body = SettingsPatch,
    responses(
        (status = OK, description = "The settings", body = Settings),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_scoring_settings(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Settings>> {
    Ok(Json(
        scoring::update_settings(ctx(&s, &auth), Unread::json(body)).await?,
    ))
}

/// A lead's score with its breakdown
///
/// For a lead you can see.
#[utoipa::path(
    get,
    path = "/api/v1/leads/{id}/score",
    operation_id = "getLeadScore",
    tag = "scoring",
    responses((status = OK, description = "The score", body = LeadScore))
)]
async fn lead_score(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<LeadScore>> {
    Ok(Json(scoring::lead_score(&s.db, &auth.actor, id).await?))
}

/// A lead's behaviour events
///
/// The latest 500 events of a lead you can see, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/leads/{id}/events",
    operation_id = "listLeadEvents",
    tag = "scoring",
    responses((status = OK, description = "The events", body = LeadEventList))
)]
async fn list_lead_events(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<LeadEventList>> {
    Ok(Json(scoring::list_events(&s.db, &auth.actor, id).await?))
}

/// Record a behaviour event
///
/// A page view, download, event attended, email opened, form submitted or custom event of a
/// lead you can see; the lead is rescored at once.
#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/events",
    operation_id = "createLeadEvent",
    tag = "scoring",
    request_body = NewLeadEvent,
    responses(
        (status = CREATED, description = "Recorded", body = LeadEventCreated),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn add_lead_event(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<LeadEventCreated>)> {
    Ok((
        StatusCode::CREATED,
        Json(scoring::add_event(ctx(&s, &auth), id, Unread::json(body)).await?),
    ))
}

// ---- Assignment ---------------------------------------------------------------------------

/// Which rule would take a lead
///
/// Admins only. Runs the active rules on a stored lead (`lead_id`) or on a few fields (`lead`)
/// as a create would, without assigning anything: round-robin and daily counts stay as they
/// are and nothing is written.
#[utoipa::path(
    post,
    path = "/api/v1/assignment/test",
    operation_id = "testAssignment",
    tag = "assignment",
    request_body = SampleLead,
    responses(
        (status = OK, description = "The verdict", body = Verdict),
        (status = NOT_FOUND, description = "No lead you may see has the `lead_id`"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn test_assignment(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Verdict>> {
    Ok(Json(
        assignment::test(&s.db, &auth.actor, Unread::json(body), s.clock.now()).await?,
    ))
}

/// The fallback of assignment rules
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/assignment/settings",
    operation_id = "getAssignmentSettings",
    tag = "assignment",
    responses(
        (status = OK, description = "The settings", body = AssignmentSettings),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn get_assignment_settings(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<AssignmentSettings>> {
    Ok(Json(assignment::get_settings(&s.db, &auth.actor).await?))
}

/// Change the fallback
///
/// Admins only.
#[utoipa::path(
    patch,
    path = "/api/v1/assignment/settings",
    operation_id = "updateAssignmentSettings",
    tag = "assignment",
    request_body = AssignmentSettingsPatch,
    responses(
        (status = OK, description = "The settings", body = AssignmentSettings),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_assignment_settings(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<AssignmentSettings>> {
    Ok(Json(
        assignment::update_settings(ctx(&s, &auth), Unread::json(body)).await?,
    ))
}

/// Give leads to a user
///
/// All or none, in one transaction: each lead must be within your data scope (else 404) and the
/// new owner too (else 403). Each change goes in the history, `lead.assigned` is raised, the
/// timers restart, and the new owner is notified once.
#[utoipa::path(
    post,
    path = "/api/v1/leads/assign",
    operation_id = "assignLeads",
    tag = "assignment",
    request_body = LeadBulkAssignment,
    responses(
        (status = OK, description = "The leads", body = AssignedLeadList),
        (status = NOT_FOUND, description = "A lead is not within your data scope"),
        (status = CONFLICT, description = "A lead is converted and read-only"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn assign_leads(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<AssignedLeadList>> {
    Ok(Json(
        assignment::assign_leads(ctx(&s, &auth), Unread::json(body)).await?,
    ))
}

/// Give a lead to a user
///
/// The change goes in the history, `lead.assigned` is raised, the timers restart, and the new
/// owner is notified.
#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/assign",
    operation_id = "assignLead",
    tag = "assignment",
    request_body = LeadAssignment,
    responses(
        (status = OK, description = "The lead", body = ref("#/components/schemas/Lead")),
        (status = CONFLICT, description = "The lead is converted and read-only"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn assign_lead(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        assignment::assign_lead(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// A user's availability for assignment
///
/// Your own, or, for admins and managers, that of users in your data scope.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/availability",
    operation_id = "getUserAvailability",
    tag = "assignment",
    responses(
        (status = OK, description = "The availability", body = UserAvailability),
        (status = FORBIDDEN, description = "The user is outside your data scope"),
    )
)]
async fn get_availability(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<UserAvailability>> {
    Ok(Json(
        assignment::get_availability(ctx(&s, &auth), id).await?,
    ))
}

/// Set away time and caps
///
/// Your own, or, for admins and managers, that of users in your data scope.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}/availability",
    operation_id = "updateUserAvailability",
    tag = "assignment",
    request_body = AvailabilityPatch,
    responses(
        (status = OK, description = "The availability", body = UserAvailability),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_availability(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<UserAvailability>> {
    Ok(Json(
        assignment::update_availability(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// List assignment rules
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/assignment/rules",
    operation_id = "listAssignmentRules",
    tag = "assignment",
    responses(
        (status = OK, description = "Every rule, in order", body = AssignmentRuleList),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn list_assignment_rules(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<AssignmentRuleList>> {
    Ok(Json(assignment::list_rules(&s.db, &auth.actor).await?))
}

/// Add an assignment rule
///
/// Admins only. Rules run in order on every new lead whose owner the request did not give (API,
/// web form, import, UI); the first matching rule that can place the lead wins. Unknown users,
/// teams and pools, a team without active members and an empty member list are a 422.
#[utoipa::path(
    post,
    path = "/api/v1/assignment/rules",
    operation_id = "createAssignmentRule",
    tag = "assignment",
    request_body = NewAssignmentRule,
    responses(
        (status = CREATED, description = "Created", body = StoredAssignmentRule),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_assignment_rule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<StoredAssignmentRule>)> {
    Ok((
        StatusCode::CREATED,
        Json(assignment::create_rule(ctx(&s, &auth), Unread::json(body)).await?),
    ))
}

/// Put the assignment rules in a new order
///
/// Admins only.
#[utoipa::path(
    post,
    path = "/api/v1/assignment/rules/reorder",
    operation_id = "reorderAssignmentRules",
    tag = "assignment",
    request_body = RuleOrder,
    responses(
        (status = OK, description = "Every rule, in the new order", body = AssignmentRuleList),
        (status = UNPROCESSABLE_ENTITY, description = "The ids are not every rule's, once each"),
    )
)]
async fn reorder_assignment_rules(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<AssignmentRuleList>> {
    Ok(Json(
        assignment::reorder(ctx(&s, &auth), Unread::json(body)).await?,
    ))
}

/// Get an assignment rule
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/assignment/rules/{id}",
    operation_id = "getAssignmentRule",
    tag = "assignment",
    responses(
        (status = OK, description = "The rule", body = StoredAssignmentRule),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn get_assignment_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<StoredAssignmentRule>> {
    Ok(Json(assignment::get_rule(&s.db, &auth.actor, id).await?))
}

/// Change an assignment rule
///
/// Admins only. Members keep their round-robin counts; a new member starts level with the
/// member furthest behind.
#[utoipa::path(
    patch,
    path = "/api/v1/assignment/rules/{id}",
    operation_id = "updateAssignmentRule",
    tag = "assignment",
    request_body = AssignmentRulePatch,
    responses(
        (status = OK, description = "Changed", body = StoredAssignmentRule),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_assignment_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<StoredAssignmentRule>> {
    Ok(Json(
        assignment::update_rule(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// Delete an assignment rule
///
/// Admins only. Its round-robin counts go with it.
#[utoipa::path(
    delete,
    path = "/api/v1/assignment/rules/{id}",
    operation_id = "deleteAssignmentRule",
    tag = "assignment",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete_assignment_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    assignment::delete_rule(ctx(&s, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The scoring and assignment routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_scoring_rules, create_scoring_rule))
        .routes(routes!(
            get_scoring_rule,
            update_scoring_rule,
            delete_scoring_rule
        ))
        .routes(routes!(preview_scoring_rule))
        .routes(routes!(get_scoring_settings, update_scoring_settings))
        .routes(routes!(lead_score))
        .routes(routes!(list_lead_events, add_lead_event))
        .routes(routes!(list_assignment_rules, create_assignment_rule))
        .routes(routes!(reorder_assignment_rules))
        .routes(routes!(
            get_assignment_rule,
            update_assignment_rule,
            delete_assignment_rule
        ))
        .routes(routes!(test_assignment))
        .routes(routes!(get_assignment_settings, update_assignment_settings))
        .routes(routes!(assign_leads))
        .routes(routes!(assign_lead))
        .routes(routes!(get_availability, update_availability))
}
