//! Backups over HTTP, for admins: the schedule of automatic backups, the backups in the backup
//! directory, one taken now, and a download (see `xiansuo_app::data::backup::schedule`).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{typed, Id, JsonBody};
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::Stream;
use serde::Serialize;
use std::io::Read;
use xiansuo_app::data::backup::schedule::{self, Schedule, StoredBackup};

/// The backups, newest first: all of them, there are at most a year's worth.
#[derive(Serialize)]
struct Backups {
    items: Vec<StoredBackup>,
}

/// The answer to a backup asked for: it is taken by the job runner.
#[derive(Serialize)]
struct Queued {
    queued: bool,
}

async fn get_schedule(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Schedule>> {
    Ok(Json(schedule::schedule(&s.db, &auth.actor).await?))
}

/// The caller's role is checked before the body is read, so that a rep learns only that they
/// may not.
async fn put_schedule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Schedule>> {
    auth.actor.require_admin("change the backup schedule")?;
    let input: Schedule = typed(body)?;
    Ok(Json(
        schedule::set_schedule(&s.db, &auth.actor, input, s.clock.now()).await?,
    ))
}

async fn list(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Backups>> {
    Ok(Json(Backups {
        items: schedule::list(&s.db, &auth.actor).await?,
    }))
}

async fn take(State(s): State<AppState>, auth: Auth) -> ApiResult<(StatusCode, Json<Queued>)> {
    schedule::request(&s.db, &auth.actor, s.clock.now()).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { queued: true })))
}

/// The archive of a backup, streamed from its file.
pub(crate) async fn download(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Response> {
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

/// Every route of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/backups", get(list).post(take))
        .route(
            "/api/v1/backups/schedule",
            get(get_schedule).put(put_schedule),
        )
        .route("/api/v1/backups/{id}/download", get(download))
}
