//! Imports over HTTP: upload a CSV or XLSX file of leads, accounts, contacts, opportunities or
//! activities (`?kind=`; as the raw body, or as the `file` part of a multipart form) up to
//! 100 MiB, look at the proposed mapping and a preview, start it with your choices (the mapping
//! corrected), follow its progress, and fetch the per-row error report. The import
//! runs in the background on the instance that was asked to start it; the file and the
//! report are kept in the database (see `xiansuo_app::data::import::upload`, whose use cases
//! check the caller). Each handler documents itself (`#[utoipa::path]`) and [`routes`]
//! registers handler and document together.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::body::Body;
use axum::extract::multipart::MultipartError;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde_json::Value;
use std::io::Write;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;
use xiansuo_app::data::import::upload::{
    self, ImportList, ImportUpload, Kind, KindCode, StartChoices, Uploaded, UPLOAD_LIMIT,
};
use xiansuo_core::schema;
use xiansuo_core::validation::Unread;

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

xiansuo_core::shape! {
    /// A CSV file sent as the raw body.
    CsvFile => schema::binary("A CSV file")
}

xiansuo_core::shape! {
    /// An XLSX workbook sent as the raw body.
    XlsxFile => schema::binary("An XLSX workbook")
}

xiansuo_core::shape! {
    /// A CSV or XLSX file sent as the raw body without saying which.
    SpreadsheetFile => schema::binary("A CSV or XLSX file")
}

xiansuo_core::shape! {
    /// A multipart form whose part `file` is the CSV or XLSX file.
    SpreadsheetForm => schema::file_form("The CSV or XLSX file")
}

xiansuo_core::shape! {
    /// The error report as it is sent.
    ReportCsv => schema::string(false, "CSV")
}

/// Upload a file to import
///
/// Reads the file's format and encoding from its bytes (CSV in UTF-8, UTF-16 or GBK/GB18030,
/// comma-, tab- or semicolon-separated; XLSX, first sheet), proposes a mapping of its headers
/// for the kind of record (Chinese headers such as 姓名/手机/公司 or 客户名称, and the export
/// headers of Salesforce, HubSpot, Zoho, 纷享销客, 销售易 and Xiansuo) and previews the first
/// rows. Nothing is imported until `POST /api/v1/imports/{id}/start`. An empty, binary or
/// unreadable file, or one without rows, is a 422 naming `file`; an unknown `kind` a 422
/// naming `kind`; a file of leads imported already is a 409 (files of other kinds may be
/// imported again: they update by external id).
#[utoipa::path(
    post,
    path = "/api/v1/imports",
    operation_id = "createImport",
    tag = "imports",
    params(
        ("file_name" = Option<String>, Query, description = "The file's name, for a raw body", min_length = 1),
        ("kind" = inline(Option<KindCode>), Query, description = "What the file holds; import accounts, then contacts, then opportunities, then activities, so that links resolve"),
    ),
    request_body(
        description = "The file as the raw body, or as the part `file` of a multipart form (its file name is kept). At most 100 MiB.",
        content(
            (inline(CsvFile) = "text/csv"),
            (inline(XlsxFile) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (inline(SpreadsheetFile) = "application/octet-stream"),
            (inline(SpreadsheetForm) = "multipart/form-data")
        )
    ),
    responses(
        (status = CREATED, description = "Stored, with a preview", body = Uploaded),
        (status = CONFLICT, description = "A file of leads imported already"),
        (status = PAYLOAD_TOO_LARGE, description = "`payload_too_large`: the file is larger than 100 MiB"),
        (status = UNPROCESSABLE_ENTITY, description = "The file, its kind or a parameter is not valid"),
    )
)]
async fn create_import(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(query): QueryPairs,
    request: Request,
) -> ApiResult<(StatusCode, Json<Uploaded>)> {
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

/// List your imports
#[utoipa::path(
    get,
    path = "/api/v1/imports",
    operation_id = "listImports",
    tag = "imports",
    params(
        ("limit" = Option<i64>, Query, description = "How many imports per page (default 20)", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page", pattern = "^[0-9]{1,18}$"),
    ),
    responses(
        (status = OK, description = "One page", body = ImportList),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is unknown or not valid"),
    )
)]
async fn list_imports(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(query): QueryPairs,
) -> ApiResult<Json<ImportList>> {
    Ok(Json(upload::list(&s.db, &auth.actor, &query).await?))
}

/// Get an import and its progress
///
/// Only the user who uploaded it sees it.
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    operation_id = "getImport",
    tag = "imports",
    responses((status = OK, description = "The import", body = ImportUpload))
)]
async fn get_import(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<ImportUpload>> {
    Ok(Json(upload::get(&s.db, &auth.actor, id).await?))
}

/// Start an import
///
/// Runs the import in the background with these choices (an empty body takes the defaults);
/// follow it with `GET /api/v1/imports/{id}`. Rows are checked exactly as `POST /api/v1/leads`
/// (or the kind's own endpoint) checks a record, leads deduplicated against leads, contacts and
/// earlier rows, other kinds updating the record with the row's external id, and written in
/// batches of 1,000, each in one transaction; every record's history records the channel
/// `import`. Links to other records resolve by the source system's ids or by names, within
/// your data scope. A failed import may be started again and continues after its last batch;
/// a finished or running one is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/imports/{id}/start",
    operation_id = "startImport",
    tag = "imports",
    request_body(content = Option<StartChoices>),
    responses(
        (status = ACCEPTED, description = "Started", body = ImportUpload),
        (status = CONFLICT, description = "The import has finished, is running, or its file is being imported by another upload"),
        (status = UNPROCESSABLE_ENTITY, description = "A choice is not valid"),
    )
)]
async fn start_import(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    request: Request,
) -> ApiResult<(StatusCode, Json<ImportUpload>)> {
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
    // No body, or JSON null, takes the defaults.
    let choices: Unread<StartChoices> = if body.is_null() {
        StartChoices::default().into()
    } else {
        Unread::json(body)
    };
    let started = upload::start(&s.db, &auth.actor, s.clock.as_ref(), id, choices).await?;
    tokio::spawn(upload::run(
        s.db.clone(),
        auth.actor.clone(),
        s.clock.clone(),
        id,
        started.options,
    ));
    Ok((StatusCode::ACCEPTED, Json(started.upload)))
}

/// Get an import's error report
///
/// Every row that was skipped, failed, or imported with a warning: `row`, `result`, `field`,
/// `reason`, then the row's own columns. UTF-8 with a byte order mark; cells a spreadsheet
/// would run as formulas are neutralised.
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}/errors.csv",
    operation_id = "getImportErrors",
    tag = "imports",
    responses(
        (status = OK, description = "The report, as an attachment", content_type = "text/csv", body = inline(ReportCsv)),
    )
)]
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

/// `routes` taking bodies up to `limit` instead of the API's limit of JSON bodies.
fn with_body_limit(
    (schemas, paths, router): UtoipaMethodRouter<AppState>,
    limit: DefaultBodyLimit,
) -> UtoipaMethodRouter<AppState> {
    (schemas, paths, router.layer(limit))
}

/// The import routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(with_body_limit(
            routes!(list_imports, create_import),
            // The multipart framing around the file.
            DefaultBodyLimit::max(UPLOAD_LIMIT as usize + 64 * 1024),
        ))
        .routes(routes!(get_import))
        .routes(routes!(start_import))
        .routes(routes!(import_errors))
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
