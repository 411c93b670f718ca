//! Duplicates and merges over HTTP: a lead's duplicates, the dedup policies per source (for
//! certain and for probable matches), the duplicate scan and its groups, merging leads and
//! undoing a merge (see `xiansuo_app::leads::{dedup, merge}`). The answer to a lead create that
//! dedup refused (409 with the candidates) or merged (200 with the lead) is built by
//! `crate::error`.
//!
//! A body is handed to the use case unread (`Unread`), which reads it into its type after it
//! has checked the caller. Each handler documents itself (`#[utoipa::path]`) and [`routes`]
//! registers handler and document together.

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::leads::dedup::scan::{self, GroupPage, LatestScan, ScanRun};
use xiansuo_app::leads::dedup::{
    self, DedupPolicies, DedupProbablePolicies, LeadDuplicates, PoliciesChange, PolicyTable,
};
use xiansuo_app::leads::merge::{self, Merged, NewMerge, Unmerged};
use xiansuo_core::clock::to_millis;
use xiansuo_core::dedup::Certainty;
use xiansuo_core::validation::Unread;

/// What a lead duplicates
///
/// The leads, contacts and accounts that match the lead, not deleted or merged. A phone is
/// compared in E.164 (`+86 138-0013-8000` meets `13800138000`), an email ignoring case, a name
/// by `person_key` (`张 伟` and 张伟 meet; 章玮 and 测试2 are others) and a company by
/// `company_key` (有限公司, Co., Ltd., （北京） do not count). A contact's company is its
/// account's.
#[utoipa::path(
    get,
    path = "/api/v1/leads/{id}/duplicates",
    operation_id = "listLeadDuplicates",
    tag = "leads",
    responses((status = OK, description = "The matches", body = LeadDuplicates))
)]
async fn lead_duplicates(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<LeadDuplicates>> {
    let now = to_millis(s.clock.now());
    Ok(Json(
        dedup::lead_duplicates(&s.db, &auth.actor, id, now).await?,
    ))
}

/// The dedup policy of each source
#[utoipa::path(
    get,
    path = "/api/v1/dedup/policies",
    operation_id = "getDedupPolicies",
    tag = "leads",
    responses((status = OK, description = "The policies", body = DedupPolicies))
)]
async fn policies(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<PolicyTable>> {
    Ok(Json(
        dedup::listed_policies(&s.db, Certainty::Certain).await?,
    ))
}

/// Set dedup policies (admins)
///
/// An unknown source code or policy is a 422 naming the source.
#[utoipa::path(
    put,
    path = "/api/v1/dedup/policies",
    operation_id = "setDedupPolicies",
    tag = "leads",
    request_body = PoliciesChange,
    responses(
        (status = OK, description = "The policies now", body = DedupPolicies),
        (status = FORBIDDEN, description = "Not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A source or policy is not valid"),
    )
)]
async fn set_policies(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<PolicyTable>> {
    let change = Unread::json(body);
    Ok(Json(
        dedup::set_policies(ctx(&s, &auth), Certainty::Certain, change).await?,
    ))
}

/// The dedup policy of each source for probable matches
#[utoipa::path(
    get,
    path = "/api/v1/dedup/probable-policies",
    operation_id = "getDedupProbablePolicies",
    tag = "leads",
    responses((status = OK, description = "The policies", body = DedupProbablePolicies))
)]
async fn probable_policies(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<PolicyTable>> {
    Ok(Json(
        dedup::listed_policies(&s.db, Certainty::Probable).await?,
    ))
}

/// Set dedup policies for probable matches (admins)
///
/// An unknown source code or policy is a 422 naming the source.
#[utoipa::path(
    put,
    path = "/api/v1/dedup/probable-policies",
    operation_id = "setDedupProbablePolicies",
    tag = "leads",
    request_body = PoliciesChange,
    responses(
        (status = OK, description = "The policies now", body = DedupProbablePolicies),
        (status = FORBIDDEN, description = "Not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A source or policy is not valid"),
    )
)]
async fn set_probable_policies(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<PolicyTable>> {
    let change = Unread::json(body);
    Ok(Json(
        dedup::set_policies(ctx(&s, &auth), Certainty::Probable, change).await?,
    ))
}

/// The latest duplicate scan
#[utoipa::path(
    get,
    path = "/api/v1/dedup/scan",
    operation_id = "getDedupScan",
    tag = "leads",
    responses((status = OK, description = "`{\"scan\": DedupScan or null}`", body = inline(LatestScan)))
)]
async fn latest_scan(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<LatestScan>> {
    Ok(Json(LatestScan {
        scan: scan::latest(&s.db).await?,
    }))
}

/// Scan the whole base for duplicates (managers and admins)
///
/// Queues the job `dedup.scan`, which groups the leads that share a phone, an email, or a
/// person and company, directly or through each other. A scan already queued or running is
/// answered instead of a new one. It also runs daily.
#[utoipa::path(
    post,
    path = "/api/v1/dedup/scan",
    operation_id = "startDedupScan",
    tag = "leads",
    responses(
        (status = ACCEPTED, description = "Queued", body = ScanRun),
        (status = FORBIDDEN, description = "A rep"),
    )
)]
async fn start_scan(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<(StatusCode, Json<ScanRun>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(scan::start(ctx(&s, &auth)).await?),
    ))
}

/// Groups of duplicate leads
///
/// The groups the last scan found that have at least two leads (not deleted or merged since)
/// within your data scope, with only those leads.
#[utoipa::path(
    get,
    path = "/api/v1/dedup/groups",
    operation_id = "listDuplicateGroups",
    tag = "leads",
    params(
        ("limit" = Option<i64>, Query, description = "Groups per page, 1–200 (default 50)", minimum = 1, maximum = 200),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page", pattern = "^[0-9]{1,18}$"),
    ),
    responses(
        (status = OK, description = "The groups", body = GroupPage),
        (status = BAD_REQUEST, description = "A query string that cannot be read"),
        (status = UNPROCESSABLE_ENTITY, description = "A query parameter is unknown or not valid"),
    )
)]
async fn groups(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<GroupPage>> {
    Ok(Json(scan::groups(&s.db, &auth.actor, &q).await?))
}

/// Merge leads into one
///
/// In one transaction: the survivor takes the chosen values, fills its empty fields and unites
/// the tags; the merged leads' activities, history and opportunities move to it; the merged
/// leads are archived (soft-deleted with `merged_into`; `?deleted=true` lists them), never
/// deleted. Every lead must be within your data scope (404) and none converted (409). Raises
/// `lead.merged`; the owners of merged leads are notified.
#[utoipa::path(
    post,
    path = "/api/v1/leads/merge",
    operation_id = "mergeLeads",
    tag = "leads",
    request_body = NewMerge,
    responses(
        (status = OK, description = "Merged", body = Merged),
        (status = NOT_FOUND, description = "A lead is not within your data scope"),
        (status = CONFLICT, description = "A lead is converted, and a converted lead is read-only"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn merge_leads(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Merged>> {
    let new = Unread::json(body);
    Ok(Json(merge::merge(ctx(&s, &auth), new).await?))
}

/// Undo a merge
///
/// Brings the merged leads back, moves their activities, history and opportunities back, and
/// gives each survivor field the merge changed its old value, unless it changed since. The
/// survivor must be within your data scope. A merge undone already, or whose leads changed
/// state since (the survivor deleted, converted or merged again, a merged lead restored), is a
/// 409.
#[utoipa::path(
    post,
    path = "/api/v1/leads/merges/{id}/undo",
    operation_id = "undoLeadMerge",
    tag = "leads",
    responses(
        (status = OK, description = "Undone", body = Unmerged),
        (status = CONFLICT, description = "Undone already, or its leads changed state since"),
    )
)]
async fn undo_merge(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Unmerged>> {
    Ok(Json(merge::undo(ctx(&s, &auth), id).await?))
}

/// The duplicate and merge routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lead_duplicates))
        .routes(routes!(policies, set_policies))
        .routes(routes!(probable_policies, set_probable_policies))
        .routes(routes!(latest_scan, start_scan))
        .routes(routes!(groups))
        .routes(routes!(merge_leads))
        .routes(routes!(undo_merge))
}
