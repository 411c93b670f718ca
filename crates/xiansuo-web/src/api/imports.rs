//! Imports over HTTP: upload a CSV or XLSX file of leads, accounts, contacts, opportunities or
//! activities (`?kind=`; as the raw body, or as the `file` part of a multipart form) up to
//! 100 MiB, look at the proposed mapping and a preview, start it with your choices (the mapping
//! corrected), follow its progress, and fetch the per-row error report. The import
//! runs in the background on the instance that was asked to start it; the file and the
//! report are kept in the database (see `xiansuo_app::data::import::upload`).

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::body::Body;
use axum::extract::multipart::MultipartError;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::Value;
use std::io::Write;
use xiansuo_app::data::import::upload::{self, Kind, UPLOAD_LIMIT};

fn too_large() -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the file is larger than the limit of {} MiB for imports: split it into smaller files",
        UPLOAD_LIMIT / 1024 / 1024
    ))
}

/// Where an uploaded file is written while it arrives, counting its size.
struct Spool {
    file: std::io::BufWriter<tempfile::NamedTempFile>,
    size: u64,
}

impl Spool {
    fn new() -> ApiResult<Spool> {
        let file = tempfile::Builder::new()
            .prefix("xiansuo-upload-")
            .tempfile()
            .map_err(anyhow::Error::from)?;
        Ok(Spool {
            file: std::io::BufWriter::with_capacity(256 * 1024, file),
            size: 0,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> ApiResult<()> {
        self.size += bytes.len() as u64;
        if self.size > UPLOAD_LIMIT {
            return Err(too_large());
        }
        self.file.write_all(bytes).map_err(anyhow::Error::from)?;
        Ok(())
    }

    fn finish(self) -> ApiResult<tempfile::NamedTempFile> {
        self.file
            .into_inner()
            .map_err(|e| ApiError::Internal(anyhow::Error::from(e.into_error())))
    }
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::BadRequest(format!(
            "the multipart form cannot be read: {}",
            e.body_text()
        ))
    }
}

/// Reads the `file` part of a multipart form: its bytes and its file name.
async fn receive_multipart(
    state: &AppState,
    request: Request,
) -> ApiResult<(tempfile::NamedTempFile, Option<String>)> {
    let mut form = Multipart::from_request(request, state).await.map_err(|e| {
        ApiError::BadRequest(format!(
            "the multipart form cannot be read: {}",
            e.body_text()
        ))
    })?;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(str::to_owned);
        let mut spool = Spool::new()?;
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            spool.write(&chunk)?;
        }
        return Ok((spool.finish()?, name));
    }
    Err(xiansuo_core::Invalid::new(
        "file",
        "the form has no part named file: send the CSV or XLSX file as the part `file`",
    )
    .into())
}

/// Reads a raw body.
async fn receive_body(request: Request) -> ApiResult<tempfile::NamedTempFile> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > UPLOAD_LIMIT) {
        return Err(too_large());
    }
    let mut spool = Spool::new()?;
    let mut stream = request.into_body().into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("the upload was interrupted: {e}")))?;
        spool.write(&chunk)?;
    }
    spool.finish()
}

/// `POST /api/v1/imports`
async fn create_import(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(query): QueryPairs,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut name = None;
    let mut kind = Kind::Lead;
    for (key, value) in &query {
        match key.as_str() {
            "file_name" => name = Some(value.clone()),
            "kind" => kind = Kind::parse(value)?,
            other => {
                return Err(xiansuo_core::Invalid::new(
                    other,
                    "is not a parameter of an upload (accepted: file_name, kind)",
                )
                .into())
            }
        }
    }
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let file = if multipart {
        let (file, part_name) = receive_multipart(&s, request).await?;
        name = name.or(part_name);
        file
    } else {
        receive_body(request).await?
    };
    let created = upload::create(
        &s.db,
        &auth.actor,
        s.clock.as_ref(),
        file.path(),
        name.as_deref().unwrap_or(""),
        kind,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/v1/imports`
async fn list_imports(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(query): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(upload::list(&s.db, &auth.actor, &query).await?))
}

/// `GET /api/v1/imports/{id}`
async fn get_import(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(upload::get(&s.db, &auth.actor, id).await?))
}

/// `POST /api/v1/imports/{id}/start`: an empty body takes the defaults.
async fn start_import(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let empty = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() == b"0")
        || (!request.headers().contains_key(header::CONTENT_TYPE)
            && !request.headers().contains_key(header::TRANSFER_ENCODING)
            && !request.headers().contains_key(header::CONTENT_LENGTH));
    let body = if empty {
        Value::Null
    } else {
        JsonBody::from_request(request, &s).await?.0
    };
    let started = upload::start(&s.db, &auth.actor, s.clock.as_ref(), id, &body).await?;
    tokio::spawn(upload::run(
        s.db.clone(),
        auth.actor.clone(),
        s.clock.clone(),
        id,
        started.options,
    ));
    Ok((StatusCode::ACCEPTED, Json(started.upload)))
}

/// `GET /api/v1/imports/{id}/errors.csv`
async fn import_errors(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Response> {
    let stream = upload::errors_csv(&s.db, &auth.actor, id).await?;
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"import-{id}-errors.csv\""),
        ),
    ];
    Ok((headers, Body::from_stream(stream)).into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/imports",
            get(list_imports)
                .post(create_import)
                .layer(DefaultBodyLimit::max(
                    // The multipart framing around the file.
                    UPLOAD_LIMIT as usize + 64 * 1024,
                )),
        )
        .route("/api/v1/imports/{id}", get(get_import))
        .route("/api/v1/imports/{id}/start", post(start_import))
        .route("/api/v1/imports/{id}/errors.csv", get(import_errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spooled_upload_stops_at_the_limit() {
        let mut spool = Spool::new().unwrap();
        let piece = vec![b'x'; 1024 * 1024];
        for _ in 0..UPLOAD_LIMIT / piece.len() as u64 {
            spool.write(&piece).unwrap();
        }
        let over = spool.write(b"x").unwrap_err();
        assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
