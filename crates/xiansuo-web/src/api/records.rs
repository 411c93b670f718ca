//! The endpoints every record type shares, built once per table from its spec: list, export,
//! create, get, change, delete, restore, history and activities; and the export audit.

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
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::data::export::{self, Export, ExportList, Source};
use xiansuo_app::leads::activities;
use xiansuo_app::records::schema::Table;
use xiansuo_app::records::{self, history};

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
        .route(
            &format!("{base}/{{id}}/activities"),
            get(
                move |State(s): State<AppState>, auth: Auth, Id(id): Id| async move {
                    let items = activities::list(&s.db, &auth.actor, table, id).await?;
                    ApiResult::Ok(Json(json!({ "items": items })))
                },
            )
            .post(
                move |State(s): State<AppState>,
                      auth: Auth,
                      Id(id): Id,
                      JsonBody(body): JsonBody| async move {
                    let created = activities::create(ctx(&s, &auth), table, id, &body).await?;
                    ApiResult::Ok((StatusCode::CREATED, Json(created)))
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

/// The record routes whose handlers document themselves.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_exports))
}

async fn get_activity(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(activities::get(&s.db, &auth.actor, id).await?))
}

async fn update_activity(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(activities::update(ctx(&s, &auth), id, &body).await?))
}

async fn delete_activity(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    activities::delete(ctx(&s, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `/api/v1/activities/{id}`, and `/api/v1/activities/export`: every follow-up on the records
/// the caller can see, with the ids of those records.
pub fn activity_router() -> Router<AppState> {
    Router::new()
        .route(
            // A static segment, so axum matches it before `{id}`.
            "/api/v1/activities/export",
            get(
                |State(s): State<AppState>, auth: Auth, QueryPairs(q): QueryPairs| async move {
                    export_file(&s, &auth, Source::Activities, &q).await
                },
            ),
        )
        .route(
            "/api/v1/activities/{id}",
            get(get_activity)
                .patch(update_activity)
                .delete(delete_activity),
        )
}
