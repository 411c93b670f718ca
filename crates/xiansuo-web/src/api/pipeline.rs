//! From qualified lead to customer: qualification checklists and a lead's ticked items,
//! conversion, the pipeline's stages, winning and losing deals, the forecast and the kanban
//! board, the RFM value of accounts, and the handover of a user's records (see
//! `xiansuo_app::leads::{qualification, conversion, unconvert}` and
//! `xiansuo_app::sales::{pipeline, customers}`). The handlers document themselves, as
//! `api::webhooks` describes.

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
use xiansuo_app::leads::conversion::{self, Converted, NewConversion};
use xiansuo_app::leads::qualification::{
    self, Checklist, ChecklistList, ChecklistPatch, LeadQualification, NewChecklist, Ticks,
};
use xiansuo_app::leads::unconvert::{self, Undone};
use xiansuo_app::sales::customers::{self, AccountRfm, Class, Handover, NewHandover, RfmReport};
use xiansuo_app::sales::pipeline::{
    self, Board, Forecast, Loss, NewStage, Stage, StageList, StagePatch, Win,
};
use xiansuo_core::validation::Unread;

/// List qualification checklists
#[utoipa::path(
    get,
    path = "/api/v1/qualification-checklists",
    operation_id = "listQualificationChecklists",
    tag = "qualification",
    responses((status = OK, description = "Every checklist", body = ChecklistList))
)]
async fn list_checklists(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<ChecklistList>> {
    Ok(Json(qualification::list(&s.db).await?))
}

/// Create a qualification checklist
///
/// Admins only. Marking it `is_default` takes the mark from any other checklist.
#[utoipa::path(
    post,
    path = "/api/v1/qualification-checklists",
    operation_id = "createQualificationChecklist",
    tag = "qualification",
    request_body = NewChecklist,
    responses(
        (status = CREATED, description = "Created", body = Checklist),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_checklist(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Checklist>)> {
    let created = qualification::create(ctx(&s, &auth), Unread::json(body)).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Get a qualification checklist
#[utoipa::path(
    get,
    path = "/api/v1/qualification-checklists/{id}",
    operation_id = "getQualificationChecklist",
    tag = "qualification",
    responses((status = OK, description = "The checklist", body = Checklist))
)]
async fn get_checklist(
    State(s): State<AppState>,
    _auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Checklist>> {
    Ok(Json(qualification::get(&s.db, id).await?))
}

/// Change a qualification checklist
///
/// Admins only. Ticks on leads for items that no longer exist stop counting.
#[utoipa::path(
    patch,
    path = "/api/v1/qualification-checklists/{id}",
    operation_id = "updateQualificationChecklist",
    tag = "qualification",
    request_body = ChecklistPatch,
    responses(
        (status = OK, description = "The checklist", body = Checklist),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_checklist(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Checklist>> {
    Ok(Json(
        qualification::update(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// Delete a qualification checklist
///
/// Admins only. Leads that had chosen it fall back to the default checklist.
#[utoipa::path(
    delete,
    path = "/api/v1/qualification-checklists/{id}",
    operation_id = "deleteQualificationChecklist",
    tag = "qualification",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete_checklist(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    qualification::delete(ctx(&s, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A lead's qualification
#[utoipa::path(
    get,
    path = "/api/v1/leads/{id}/qualification",
    operation_id = "getLeadQualification",
    tag = "qualification",
    responses((status = OK, description = "Where it stands", body = LeadQualification))
)]
async fn get_lead_qualification(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<LeadQualification>> {
    Ok(Json(qualification::lead(&s.db, &auth.actor, id).await?))
}

/// Choose a lead's checklist and tick its items
///
/// A lead becomes `qualified` (through any channel) only when every required item of its
/// checklist is met; otherwise the change answers 422 naming the missing items. Each tick is in
/// the lead's history as `qualification.KEY`. A converted lead is read-only (409).
#[utoipa::path(
    put,
    path = "/api/v1/leads/{id}/qualification",
    operation_id = "putLeadQualification",
    tag = "qualification",
    request_body = Ticks,
    responses(
        (status = OK, description = "Where it stands", body = LeadQualification),
        (status = CONFLICT, description = "The lead is converted, so read-only"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn put_lead_qualification(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<LeadQualification>> {
    Ok(Json(
        qualification::put(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// Convert a lead
///
/// In one transaction: links or creates the account, creates the contact (name, title, phone,
/// email) and, if asked, the opportunity, all owned by the lead's owner; the lead becomes
/// `converted` and read-only with `converted_account_id`, `converted_contact_id`,
/// `converted_opportunity_id` and `converted_at`; its follow-ups show on the account; the
/// history records a `convert` entry; `lead.converted` is raised and the owner notified. Any
/// lead that is not converted (409) or disqualified (422) can be converted once its
/// qualification checklist is met (422 naming the missing items). A bad opportunity field is a
/// 422 naming it, such as `opportunity.amount`; on any error nothing is written.
#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/convert",
    operation_id = "convertLead",
    tag = "leads",
    request_body = NewConversion,
    responses(
        (status = OK, description = "Converted", body = Converted),
        (status = CONFLICT, description = "The lead is converted already"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid, or the lead may not be converted yet"),
    )
)]
async fn convert_lead(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Converted>> {
    Ok(Json(
        conversion::convert(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// Undo a conversion
///
/// For a conversion made by mistake, in one transaction: the lead reopens with the status it
/// had before and loses its `converted_*` links; the opportunity, contact and account the
/// conversion created are archived (soft-deleted; `?deleted=true` lists them) unless something
/// else uses them by now (a won or lost deal, follow-ups, other deals, contacts or converted
/// leads), and an existing account it linked to is left alone. The history keeps the
/// conversion and records a `convert_undo` entry on the lead and a `conversion_undone` entry
/// on each record. The lead's owner, a manager whose scope covers it and admins may do it (403
/// for another rep); a lead that is not converted, such as one undone already, is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/leads/{id}/conversion/undo",
    operation_id = "undoLeadConversion",
    tag = "leads",
    responses(
        (status = OK, description = "Undone", body = Undone),
        (status = FORBIDDEN, description = "Another rep's lead"),
        (status = CONFLICT, description = "The lead is not converted"),
    )
)]
async fn undo_conversion(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Undone>> {
    Ok(Json(unconvert::undo(ctx(&s, &auth), id).await?))
}

/// List the pipeline stages
///
/// Seeded with met 见到客户 (10%), found 发现机会 (20%), confirmed 确认机会 (30%), needs 明确需求
/// (40%), proposal 方案报价 (60%), commitment 客户承诺 (80%), acceptance 验收 (90%), paid 收款
/// (100%, won) and lost 输单 (0%, lost).
#[utoipa::path(
    get,
    path = "/api/v1/pipeline/stages",
    operation_id = "listPipelineStages",
    tag = "pipeline",
    responses((status = OK, description = "The stages", body = StageList))
)]
async fn list_stages(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<StageList>> {
    Ok(Json(pipeline::list_stages(&s.db).await?))
}

/// Add a pipeline stage
///
/// Admins only. A code that exists answers 409.
#[utoipa::path(
    post,
    path = "/api/v1/pipeline/stages",
    operation_id = "createPipelineStage",
    tag = "pipeline",
    request_body = NewStage,
    responses(
        (status = CREATED, description = "Created", body = Stage),
        (status = CONFLICT, description = "A stage with the code exists"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_stage(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Stage>)> {
    let created = pipeline::create_stage(ctx(&s, &auth), Unread::json(body)).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Change a pipeline stage
///
/// Admins only. The code cannot change (422), nor the kind of a stage that holds deals (409);
/// every kind keeps an active stage (422). Open deals at the stage that had its old
/// probability take the new one.
#[utoipa::path(
    patch,
    path = "/api/v1/pipeline/stages/{id}",
    operation_id = "updatePipelineStage",
    tag = "pipeline",
    request_body = StagePatch,
    responses(
        (status = OK, description = "The stage", body = Stage),
        (status = CONFLICT, description = "The kind of a stage that holds deals"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_stage(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Stage>> {
    Ok(Json(
        pipeline::update_stage(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// Win a deal
///
/// Moves the deal to a won stage with that stage's probability, sets `result`, `close_reason`
/// and `closed_at`, records the change in the history and raises `opportunity.stage_changed`.
/// A deal already won answers 409. Moving it back to an open stage with PATCH reopens it.
#[utoipa::path(
    post,
    path = "/api/v1/opportunities/{id}/win",
    operation_id = "winOpportunity",
    tag = "opportunities",
    request_body = Win,
    responses(
        (status = OK, description = "The deal", body = ref("#/components/schemas/Opportunity")),
        (status = CONFLICT, description = "Already won, or no active won stage"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn win(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        pipeline::win(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// Lose a deal
///
/// Moves the deal to a lost stage with that stage's probability, sets `result`,
/// `close_reason` and `closed_at`, records the change in the history and raises
/// `opportunity.stage_changed`. A deal already lost answers 409. A deal is lost only this way;
/// moving it back to an open stage with PATCH reopens it.
#[utoipa::path(
    post,
    path = "/api/v1/opportunities/{id}/lose",
    operation_id = "loseOpportunity",
    tag = "opportunities",
    request_body = Loss,
    responses(
        (status = OK, description = "The deal", body = ref("#/components/schemas/Opportunity")),
        (status = CONFLICT, description = "Already lost, or no active lost stage"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn lose(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        pipeline::lose(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// Weighted forecast by month
///
/// Deals you may see: open ones by the month of `expected_close_date`, with amount ×
/// probability; won ones by the month they were won.
#[utoipa::path(
    get,
    path = "/api/v1/pipeline/forecast",
    operation_id = "pipelineForecast",
    tag = "pipeline",
    params(
        ("from" = Option<String>, Query, description = "First month; default this month", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$"),
        ("to" = Option<String>, Query, description = "Last month; default five months after `from`; at most 60 months", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$"),
        ("owner_id" = Option<Vec<i64>>, Query, description = "Only deals of these owners (within your scope). Comma-separated; matches any of the values", style = Form, explode = false, min_items = 1),
    ),
    responses(
        (status = OK, description = "The forecast", body = Forecast),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn forecast(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Forecast>> {
    Ok(Json(
        pipeline::forecast(&s.db, &auth.actor, &q, s.clock.now()).await?,
    ))
}

/// Deals per stage
///
/// One column per stage in pipeline order (inactive stages only while they hold deals), with
/// the number of deals you may see, their amount and their weighted amount.
#[utoipa::path(
    get,
    path = "/api/v1/pipeline/board",
    operation_id = "pipelineBoard",
    tag = "pipeline",
    params(
        ("owner_id" = Option<Vec<i64>>, Query, description = "Only deals of these owners (within your scope). Comma-separated; matches any of the values", style = Form, explode = false, min_items = 1),
        ("close_month" = Option<String>, Query, description = "Only deals whose `expected_close_date` falls in this month (YYYY-MM)", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$"),
    ),
    responses(
        (status = OK, description = "The board", body = Board),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn board(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Board>> {
    Ok(Json(pipeline::board(&s.db, &auth.actor, &q).await?))
}

/// An account's RFM value
///
/// Computed from all the account's won deals when asked, so never stale.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/{id}/rfm",
    operation_id = "accountRfm",
    tag = "accounts",
    responses((status = OK, description = "Its RFM", body = AccountRfm))
)]
async fn account_rfm(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<AccountRfm>> {
    Ok(Json(
        customers::account_rfm(&s.db, &auth.actor, id, s.clock.now()).await?,
    ))
}

/// RFM of your accounts
///
/// The accounts you may see that have won deals, by class, then score, then amount.
#[utoipa::path(
    get,
    path = "/api/v1/reports/rfm",
    operation_id = "rfmReport",
    tag = "accounts",
    params(
        ("class" = inline(Option<Vec<Class>>), Query, description = "Only these classes. Comma-separated; matches any of the values", style = Form, explode = false, min_items = 1),
        ("limit" = Option<i64>, Query, description = "Accounts per page; default 50", minimum = 1, maximum = 500),
        ("page" = Option<i64>, Query, description = "The page, from 1", minimum = 1, maximum = 1000000),
    ),
    responses(
        (status = OK, description = "One page", body = RfmReport),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn rfm_report(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<RfmReport>> {
    Ok(Json(
        customers::report(&s.db, &auth.actor, &q, s.clock.now()).await?,
    ))
}

/// Hand over a user's records
///
/// Admins, and managers for users within their scope (403 otherwise): every lead, account,
/// contact and opportunity the user owns — deleted ones too — goes to `to_user_id` in one
/// transaction, each change in the record's history with your channel. Leads' timers restart
/// and `lead.assigned` is raised; the new owner is notified.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/handover",
    operation_id = "handoverRecords",
    tag = "users",
    request_body = NewHandover,
    responses(
        (status = OK, description = "What moved", body = Handover),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn handover(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Handover>> {
    Ok(Json(
        customers::handover(ctx(&s, &auth), id, Unread::json(body)).await?,
    ))
}

/// The routes of qualification, conversion, the pipeline and customers, with their part of the
/// OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_checklists, create_checklist))
        .routes(routes!(get_checklist, update_checklist, delete_checklist))
        .routes(routes!(get_lead_qualification, put_lead_qualification))
        .routes(routes!(convert_lead))
        .routes(routes!(undo_conversion))
        .routes(routes!(list_stages, create_stage))
        .routes(routes!(update_stage))
        .routes(routes!(win))
        .routes(routes!(lose))
        .routes(routes!(forecast))
        .routes(routes!(board))
        .routes(routes!(account_rfm))
        .routes(routes!(rfm_report))
        .routes(routes!(handover))
}
