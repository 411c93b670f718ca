//! Backups over HTTP, for admins: the schedule of automatic backups, the backups in the backup
//! directory, one taken now, and a download (see `xiansuo_app::data::backup::schedule`, whose
//! use cases check the caller). Each handler documents itself (`#[utoipa::path]`) and
//! [`routes`] registers handler and document together.

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody};
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::Stream;
use serde::Serialize;
use std::io::Read;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::data::backup::schedule::{self, Schedule, StoredBackup};
use xiansuo_core::schema::FileContent;
use xiansuo_core::validation::Unread;

/// The backups, newest first: all of them, there are at most a year's worth.
#[derive(Serialize, ToSchema)]
#[schema(as = BackupList, description = "The backups, newest first")]
struct Backups {
    /// The backups, newest first
    items: Vec<StoredBackup>,
}

/// The answer to a backup asked for: it is taken by the job runner.
#[derive(Serialize, ToSchema)]
#[schema(
    as = BackupQueued,
    description = "The backup is queued; the job runner takes it within seconds"
)]
struct Queued {
    /// Always true
    queued: bool,
}

/// The schedule of automatic backups
///
/// Admins only. A backup is one zip archive of every table with a manifest; `xiansuo restore
/// FILE` loads it into an empty SQLite file or PostgreSQL database.
#[utoipa::path(
    get,
    path = "/api/v1/backups/schedule",
    operation_id = "getBackupSchedule",
    tag = "operations",
    responses(
        (status = OK, description = "The schedule", body = Schedule),
        (status = FORBIDDEN, description = "The caller is not an admin"),
    )
)]
async fn get_schedule(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Schedule>> {
    Ok(Json(schedule::schedule(&s.db, &auth.actor).await?))
}

/// Set the schedule of automatic backups
///
/// Admins only. A backup is one zip archive of every table with a manifest; `xiansuo restore
/// FILE` loads it into an empty SQLite file or PostgreSQL database.
#[utoipa::path(
    put,
    path = "/api/v1/backups/schedule",
    operation_id = "setBackupSchedule",
    tag = "operations",
    request_body = Schedule,
    responses(
        (status = OK, description = "The schedule", body = Schedule),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn put_schedule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Schedule>> {
    let input = Unread::json(body);
    Ok(Json(
        schedule::set_schedule(&s.db, &auth.actor, input, s.clock.now()).await?,
    ))
}

/// The backups in the backup directory
///
/// Admins only. A backup is one zip archive of every table with a manifest; `xiansuo restore
/// FILE` loads it into an empty SQLite file or PostgreSQL database.
#[utoipa::path(
    get,
    path = "/api/v1/backups",
    operation_id = "listBackups",
    tag = "operations",
    responses(
        (status = OK, description = "The backups", body = Backups),
        (status = FORBIDDEN, description = "The caller is not an admin"),
    )
)]
async fn list(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Backups>> {
    Ok(Json(Backups {
        items: schedule::list(&s.db, &auth.actor).await?,
    }))
}

/// Take a backup now
///
/// Admins only. A backup is one zip archive of every table with a manifest; `xiansuo restore
/// FILE` loads it into an empty SQLite file or PostgreSQL database.
#[utoipa::path(
    post,
    path = "/api/v1/backups",
    operation_id = "takeBackup",
    tag = "operations",
    responses((status = ACCEPTED, description = "Queued", body = Queued))
)]
async fn take(State(s): State<AppState>, auth: Auth) -> ApiResult<(StatusCode, Json<Queued>)> {
    schedule::request(&s.db, &auth.actor, s.clock.now()).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued: true })))
}

/// Download a backup's archive
///
/// Admins only. A backup is one zip archive of every table with a manifest; `xiansuo restore
/// FILE` loads it into an empty SQLite file or PostgreSQL database. The archive is streamed
/// from its file.
#[utoipa::path(
    get,
    path = "/api/v1/backups/{id}/download",
    operation_id = "downloadBackup",
    tag = "operations",
    responses(
        (status = OK, description = "The zip archive", content_type = "application/zip", body = inline(FileContent)),
        (status = FORBIDDEN, description = "The caller is not an admin"),
    )
)]
async fn download(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Response> {
    let (backup, path) = schedule::file(&s.db, &auth.actor, id).await?;
    let file = std::fs::File::open(&path).map_err(anyhow::Error::from)?;
    let headers = [
        (header::CONTENT_TYPE, "application/zip".to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", backup.file_name),
        ),
        (header::CONTENT_LENGTH, backup.bytes.to_string()),
    ];
    Ok((headers, Body::from_stream(chunks(file))).into_response())
}

/// A file read a megabyte at a time on the blocking pool.
fn chunks(file: std::fs::File) -> impl Stream<Item = std::io::Result<Vec<u8>>> {
    futures_util::stream::try_unfold(file, |mut file| async move {
        let (file, chunk) = tokio::task::spawn_blocking(move || {
            let mut chunk = vec![0; 1 << 20];
            let n = file.read(&mut chunk)?;
            chunk.truncate(n);
            std::io::Result::Ok((file, chunk))
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok((!chunk.is_empty()).then_some((chunk, file)))
    })
}

/// The backup routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, take))
        .routes(routes!(get_schedule, put_schedule))
        .routes(routes!(download))
}
