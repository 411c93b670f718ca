//! The public pool (公海): pools and their members (admins), the leads waiting in a pool with
//! masked phones (members), claiming, assigning and returning leads, and the recycle rules
//! (see `xiansuo_app::leads::pool`). The handlers document themselves, as `api::webhooks`
//! describes.

use crate::auth::ctx;
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
use xiansuo_app::leads::pool::{
    self, LeadRelease, NewPool, NewRecycleRule, Pool, PoolAssignment, PoolClaim, PoolLeadPage,
    PoolLeads, PoolList, PoolPatch, RecycleRule, RecycleRuleList, RecycleRulePatch,
};
use xiansuo_core::schema::DateOrTimeOrEmpty;
use xiansuo_core::validation::Unread;

/// List pools
///
/// An admin sees every pool; anyone else the pools they are a member or the admin of.
#[utoipa::path(
    get,
    path = "/api/v1/pools",
    operation_id = "listPools",
    tag = "pools",
    responses((status = OK, description = "The pools", body = PoolList))
)]
async fn list_pools(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<PoolList>> {
    Ok(Json(pool::list(&s.db, &auth.actor).await?))
}

/// Create a pool
///
/// Admins only. A name that is taken is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/pools",
    operation_id = "createPool",
    tag = "pools",
    request_body = NewPool,
    responses(
        (status = CREATED, description = "The new pool", body = Pool),
        (status = CONFLICT, description = "A pool has this name already"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_pool(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Pool>)> {
    let new = Unread::json(body);
    let created = pool::create(&s.db, &auth.actor, new, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Get a pool
///
/// For the pool's members and admins.
#[utoipa::path(
    get,
    path = "/api/v1/pools/{id}",
    operation_id = "getPool",
    tag = "pools",
    responses((status = OK, description = "The pool", body = Pool))
)]
async fn get_pool(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Pool>> {
    Ok(Json(pool::get(&s.db, &auth.actor, id).await?))
}

/// Change a pool
///
/// Admins only; fields absent stay as they are.
#[utoipa::path(
    patch,
    path = "/api/v1/pools/{id}",
    operation_id = "updatePool",
    tag = "pools",
    request_body = PoolPatch,
    responses(
        (status = OK, description = "The changed pool", body = Pool),
        (status = CONFLICT, description = "A pool has this name already"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_pool(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Pool>> {
    let patch = Unread::json(body);
    Ok(Json(
        pool::update(&s.db, &auth.actor, id, patch, s.clock.now()).await?,
    ))
}

/// Delete a pool
///
/// Admins only. A pool that still holds leads, or that a recycle or SLA rule sends leads to,
/// is a 409.
#[utoipa::path(
    delete,
    path = "/api/v1/pools/{id}",
    operation_id = "deletePool",
    tag = "pools",
    responses(
        (status = NO_CONTENT, description = "Deleted"),
        (status = CONFLICT, description = "It still holds leads, or a rule sends leads to it"),
    )
)]
async fn delete_pool(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    pool::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leads waiting in a pool
///
/// For the pool's members. Pool leads have no owner, so they are not in `GET /api/v1/leads`
/// except for admins. Phones are masked until claimed.
#[utoipa::path(
    get,
    path = "/api/v1/pools/{id}/leads",
    operation_id = "listPoolLeads",
    tag = "pools",
    params(
        ("limit" = Option<i64>, Query, description = "Leads per page, 1–500 (default 50)", minimum = 1, maximum = 500),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page", pattern = "^-?[0-9]{1,18}_[0-9]{1,18}$"),
        ("source" = Option<String>, Query, description = "Only this source"),
        ("province" = Option<String>, Query, description = "Only this province"),
        ("city" = Option<String>, Query, description = "Only this city"),
        ("tier" = Option<String>, Query, description = "Only this tier: `high`, `medium` or `low`", pattern = "^(high|medium|low)?$"),
        ("created_from" = inline(Option<DateOrTimeOrEmpty>), Query, description = "Created at or after: a date (from its midnight in China time) or an RFC 3339 time; empty for any", ),
        ("created_to" = inline(Option<DateOrTimeOrEmpty>), Query, description = "Created up to: a date (included, to its end in China time) or an RFC 3339 time; empty for any", ),
        ("q" = Option<String>, Query, description = "Text in the name or the company (phones are masked, so not searched)"),
    ),
    responses(
        (status = OK, description = "A page of leads", body = PoolLeadPage),
        (status = UNPROCESSABLE_ENTITY, description = "A filter is not valid"),
    )
)]
async fn list_pool_leads(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<PoolLeadPage>> {
    Ok(Json(pool::leads(&s.db, &auth.actor, id, &q).await?))
}

/// Claim leads from a pool
///
/// For the pool's members, for themselves; all or none. A lead someone else claimed first, the
/// pool's limits (`max_held`, `max_claims_per_day`) and the cool-down after returning a lead are
/// each a 409 saying which. The claimed leads restart their timers and get the pool's
/// protection period.
#[utoipa::path(
    post,
    path = "/api/v1/pools/{id}/claim",
    operation_id = "claimPoolLeads",
    tag = "pools",
    request_body = PoolClaim,
    responses(
        (status = OK, description = "The claimed leads", body = PoolLeads),
        (status = CONFLICT, description = "Claimed by someone else, over a limit, or in the cool-down"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn claim_pool_leads(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<PoolLeads>> {
    let claim = Unread::json(body);
    Ok(Json(pool::claim(ctx(&s, &auth), id, claim).await?))
}

/// Give leads from a pool to a user
///
/// An admin (to anyone) or the pool's admin (to its members); all or none. The new owner is
/// notified.
#[utoipa::path(
    post,
    path = "/api/v1/pools/{id}/assign",
    operation_id = "assignPoolLeads",
    tag = "pools",
    request_body = PoolAssignment,
    responses(
        (status = OK, description = "The assigned leads", body = PoolLeads),
        (status = CONFLICT, description = "A lead is not in the pool any more"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn assign_pool_leads(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<PoolLeads>> {
    let assignment = Unread::json(body);
    Ok(Json(pool::assign(ctx(&s, &auth), id, assignment).await?))
}

/// Return a lead to a pool
///
/// By its owner or anyone whose scope covers it, with a reason (in the history). The one who
/// held it may not claim it again during the pool's cool-down. A lead already in a pool, or
/// converted, is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/release",
    operation_id = "releaseLead",
    tag = "leads",
    request_body = LeadRelease,
    responses(
        (status = OK, description = "The lead, now in the pool", body = ref("#/components/schemas/Lead")),
        (status = CONFLICT, description = "Already in a pool, or converted"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn release_lead(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let release = Unread::json(body);
    Ok(Json(pool::release(ctx(&s, &auth), id, release).await?))
}

/// List recycle rules
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/pools/recycle-rules",
    operation_id = "listRecycleRules",
    tag = "pools",
    responses(
        (status = OK, description = "The rules", body = RecycleRuleList),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn list_rules(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<RecycleRuleList>> {
    Ok(Json(pool::list_rules(&s.db, &auth.actor).await?))
}

/// Create a recycle rule
///
/// Admins only. The job `pool.recycle` (every 5 minutes) warns each owner once `warn_before`
/// ahead, then returns the lead with the channel `job` in its history. Timers run from the
/// assignment (`assigned_at`), so every owner change restarts them; a protected lead waits
/// until its `protected_until`.
#[utoipa::path(
    post,
    path = "/api/v1/pools/recycle-rules",
    operation_id = "createRecycleRule",
    tag = "pools",
    request_body = NewRecycleRule,
    responses(
        (status = CREATED, description = "The new rule", body = RecycleRule),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_rule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<RecycleRule>)> {
    let new = Unread::json(body);
    let created = pool::create_rule(&s.db, &auth.actor, new, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Get a recycle rule
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/pools/recycle-rules/{id}",
    operation_id = "getRecycleRule",
    tag = "pools",
    responses(
        (status = OK, description = "The rule", body = RecycleRule),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn get_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<RecycleRule>> {
    Ok(Json(pool::get_rule(&s.db, &auth.actor, id).await?))
}

/// Change a recycle rule
///
/// Admins only; fields absent stay as they are.
#[utoipa::path(
    patch,
    path = "/api/v1/pools/recycle-rules/{id}",
    operation_id = "updateRecycleRule",
    tag = "pools",
    request_body = RecycleRulePatch,
    responses(
        (status = OK, description = "The changed rule", body = RecycleRule),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<RecycleRule>> {
    let patch = Unread::json(body);
    Ok(Json(
        pool::update_rule(&s.db, &auth.actor, id, patch, s.clock.now()).await?,
    ))
}

/// Delete a recycle rule
///
/// Admins only.
#[utoipa::path(
    delete,
    path = "/api/v1/pools/recycle-rules/{id}",
    operation_id = "deleteRecycleRule",
    tag = "pools",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete_rule(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    pool::delete_rule(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The pool routes with their part of the OpenAPI document. The recycle rules' static
/// segment is matched before `{id}`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_pools, create_pool))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(get_rule, update_rule, delete_rule))
        .routes(routes!(get_pool, update_pool, delete_pool))
        .routes(routes!(list_pool_leads))
        .routes(routes!(claim_pool_leads))
        .routes(routes!(assign_pool_leads))
        .routes(routes!(release_lead))
}
