//! The endpoints every record type shares, built once per table from its spec: list, export,
//! create, get, change, delete, restore and history; the follow-ups (activities) of a record
//! and each follow-up on its own, with the export of follow-ups; and the export audit. The
//! follow-up handlers document themselves, one pair per record type (`record_follow_ups!`),
//! since a documented route has one path.

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::{download, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::data::export::{self, Export, ExportList, Source};
use xiansuo_app::leads::activities::{self, Activity, ActivityList, ActivityPatch, NewActivity};
use xiansuo_app::records::schema::{Table, ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES};
use xiansuo_app::records::{self, history};
use xiansuo_core::validation::Unread;

/// The routes of one record type, under `/api/v1/{table}`.
pub fn router(table: &'static Table) -> Router<AppState> {
    let base = format!("/api/v1/{}", table.name);
    Router::new()
        .route(
            &base,
            get(
                move |State(s): State<AppState>, auth: Auth, QueryPairs(q): QueryPairs| async move {
                    let page = records::list(&s.db, &auth.actor, table, &q).await?;
                    let mut body = json!({"items": page.items, "next_cursor": page.next_cursor});
                    if let Some(total) = page.total {
                        body["total"] = json!(total);
                    }
                    ApiResult::Ok(Json(body))
                },
            )
            .post(
                move |State(s): State<AppState>, auth: Auth, JsonBody(body): JsonBody| async move {
                    let prepared = records::prepare(ctx(&s, &auth), table, &body).await?;
                    let mut created = s.writer.create(prepared).await?;
                    auth.actor.mask(&mut created);
                    ApiResult::Ok((StatusCode::CREATED, Json(created)))
                },
            ),
        )
        .route(
            // A static segment, so axum matches it before `{id}`.
            &format!("{base}/export"),
            get(
                move |State(s): State<AppState>, auth: Auth, QueryPairs(q): QueryPairs| async move {
                    export_file(&s, &auth, Source::Records(table), &q).await
                },
            ),
        )
        .route(
            &format!("{base}/{{id}}"),
            get(
                move |State(s): State<AppState>, auth: Auth, Id(id): Id| async move {
                    ApiResult::Ok(Json(records::get(&s.db, &auth.actor, table, id).await?))
                },
            )
            .patch(
                move |State(s): State<AppState>,
                      auth: Auth,
                      Id(id): Id,
                      JsonBody(body): JsonBody| async move {
                    let mut changed = records::update(ctx(&s, &auth), table, id, &body).await?;
                    auth.actor.mask(&mut changed);
                    ApiResult::Ok(Json(changed))
                },
            )
            .delete(
                move |State(s): State<AppState>, auth: Auth, Id(id): Id| async move {
                    records::delete(ctx(&s, &auth), table, id).await?;
                    ApiResult::Ok(StatusCode::NO_CONTENT)
                },
            ),
        )
        .route(
            &format!("{base}/{{id}}/restore"),
            axum::routing::post(
                move |State(s): State<AppState>, auth: Auth, Id(id): Id| async move {
                    let mut restored = records::restore(ctx(&s, &auth), table, id).await?;
                    auth.actor.mask(&mut restored);
                    ApiResult::Ok(Json(restored))
                },
            ),
        )
        .route(
            &format!("{base}/{{id}}/history"),
            get(
                move |State(s): State<AppState>, auth: Auth, Id(id): Id| async move {
                    let items = history::read(&s.db, &auth.actor, table, id).await?;
                    ApiResult::Ok(Json(json!({ "items": items })))
                },
            ),
        )
}

/// `GET /api/v1/{table}/export` and `/api/v1/activities/export`: the file as an attachment.
/// The query is checked (and the first page read) before answering, so a bad filter is a 422;
/// a CSV is then streamed page by page.
async fn export_file(
    s: &AppState,
    auth: &Auth,
    source: Source,
    query: &[(String, String)],
) -> ApiResult<Response> {
    let (format, filters) = export::split_format(query)?;
    let started = Export::start(ctx(s, auth), source, format, filters).await?;
    Ok(download::attachment(started, source, format, s.clock.now()).await?)
}

/// List exports
///
/// The export audit (PIPL/GDPR: who exported what): an admin sees every export, anyone else
/// their own.
#[utoipa::path(
    get,
    path = "/api/v1/exports",
    operation_id = "listExports",
    tag = "exports",
    params(
        ("limit" = Option<i64>, Query, description = "How many exports per page (default 50)", minimum = 1, maximum = 500),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page", pattern = "^[0-9]{1,18}$"),
    ),
    responses(
        (status = OK, description = "One page", body = ExportList),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is unknown or not valid"),
    )
)]
async fn list_exports(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<ExportList>> {
    Ok(Json(export::audit(&s.db, &auth.actor, &q).await?))
}

/// The follow-ups of a record of `table`, newest first.
async fn follow_ups_of(
    s: &AppState,
    auth: &Auth,
    table: &'static Table,
    id: i64,
) -> ApiResult<Json<ActivityList>> {
    Ok(Json(activities::list(&s.db, &auth.actor, table, id).await?))
}

/// Logs a follow-up on a record of `table`; the body is read once the record is found.
async fn log_follow_up(
    s: &AppState,
    auth: &Auth,
    table: &'static Table,
    id: i64,
    body: serde_json::Value,
) -> ApiResult<(StatusCode, Json<Activity>)> {
    let created = activities::create(ctx(s, auth), table, id, Unread::json(body)).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// What logging a follow-up does, as the document says it of every record type.
const LOG_DESCRIPTION: &str = "Logs a call, email, meeting, visit, WeChat message or note with \
its outcome. It is recorded in the record's history; the first follow-up on a new lead moves it \
to `working`. A converted lead takes no more follow-ups (409).";

/// The two handlers of `/api/v1/{table}/{id}/activities` for one record type, each with its
/// document under the record type's tag: `$list` lists the follow-ups of a record of
/// `$table`, `$log` logs one. A documented route has one path, so each record type has its
/// own pair; what differs between them is the table, the path, the tag, the operation ids and
/// the summaries.
macro_rules! record_follow_ups {
    (
        $table:expr,
        $path:tt,
        $tag:tt,
        $list:ident($list_id:tt, $list_summary:tt $(,)?),
        $log:ident($log_id:tt, $log_summary:tt $(,)?) $(,)?
    ) => {
        #[utoipa::path(
                    get,
                    path = $path,
                    operation_id = $list_id,
                    tag = $tag,
                    summary = $list_summary,
                    description = "Newest first.",
                    responses((status = OK, description = "The follow-ups", body = ActivityList))
                )]
        async fn $list(
            State(s): State<AppState>,
            auth: Auth,
            Id(id): Id,
        ) -> ApiResult<Json<ActivityList>> {
            follow_ups_of(&s, &auth, &$table, id).await
        }

        #[utoipa::path(
                    post,
                    path = $path,
                    operation_id = $log_id,
                    tag = $tag,
                    summary = $log_summary,
                    description = LOG_DESCRIPTION,
                    request_body = NewActivity,
                    responses(
                        (status = CREATED, description = "Logged", body = Activity),
                        (status = CONFLICT, description = "The record is a converted lead"),
                        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
                    )
                )]
        async fn $log(
            State(s): State<AppState>,
            auth: Auth,
            Id(id): Id,
            JsonBody(body): JsonBody,
        ) -> ApiResult<(StatusCode, Json<Activity>)> {
            log_follow_up(&s, &auth, &$table, id, body).await
        }
    };
}

record_follow_ups!(
    LEADS,
    "/api/v1/leads/{id}/activities",
    "leads",
    list_lead_follow_ups("listLeadActivities", "Follow-ups of a lead"),
    log_lead_follow_up("createLeadActivity", "Log a follow-up on a lead"),
);
record_follow_ups!(
    ACCOUNTS,
    "/api/v1/accounts/{id}/activities",
    "accounts",
    list_account_follow_ups("listAccountActivities", "Follow-ups of an account"),
    log_account_follow_up("createAccountActivity", "Log a follow-up on an account"),
);
record_follow_ups!(
    CONTACTS,
    "/api/v1/contacts/{id}/activities",
    "contacts",
    list_contact_follow_ups("listContactActivities", "Follow-ups of a contact"),
    log_contact_follow_up("createContactActivity", "Log a follow-up on a contact"),
);
record_follow_ups!(
    OPPORTUNITIES,
    "/api/v1/opportunities/{id}/activities",
    "opportunities",
    list_opportunity_follow_ups("listOpportunityActivities", "Follow-ups of an opportunity"),
    log_opportunity_follow_up(
        "createOpportunityActivity",
        "Log a follow-up on an opportunity"
    ),
);

/// Get a follow-up
#[utoipa::path(
    get,
    path = "/api/v1/activities/{id}",
    operation_id = "getActivity",
    tag = "activities",
    responses((status = OK, description = "The follow-up", body = Activity))
)]
async fn get_activity(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Activity>> {
    Ok(Json(activities::get(&s.db, &auth.actor, id).await?))
}

/// Change a follow-up
///
/// Only its author or an admin may change it.
#[utoipa::path(
    patch,
    path = "/api/v1/activities/{id}",
    operation_id = "updateActivity",
    tag = "activities",
    request_body = ActivityPatch,
    responses(
        (status = OK, description = "The changed follow-up", body = Activity),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_activity(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Activity>> {
    let patch = Unread::json(body);
    Ok(Json(activities::update(ctx(&s, &auth), id, patch).await?))
}

/// Delete a follow-up
///
/// Only its author or an admin may delete it.
#[utoipa::path(
    delete,
    path = "/api/v1/activities/{id}",
    operation_id = "deleteActivity",
    tag = "activities",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete_activity(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    activities::delete(ctx(&s, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The record routes whose handlers document themselves: the export audit and follow-ups.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_exports))
        .routes(routes!(list_lead_follow_ups, log_lead_follow_up))
        .routes(routes!(list_account_follow_ups, log_account_follow_up))
        .routes(routes!(list_contact_follow_ups, log_contact_follow_up))
        .routes(routes!(
            list_opportunity_follow_ups,
            log_opportunity_follow_up
        ))
        .routes(routes!(get_activity, update_activity, delete_activity))
}

/// `/api/v1/activities/export`: every follow-up on the records the caller can see, with the
/// ids of those records; documented with the exports of records (`crate::openapi`).
pub fn activity_export_router() -> Router<AppState> {
    Router::new().route(
        // A static segment, so axum matches it before `{id}`.
        "/api/v1/activities/export",
        get(
            |State(s): State<AppState>, auth: Auth, QueryPairs(q): QueryPairs| async move {
                export_file(&s, &auth, Source::Activities, &q).await
            },
        ),
    )
}
