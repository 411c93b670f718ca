//! Follow-ups on time and what hangs off a follow-up: the due list, working hours and SLA rules
//! (admins), managers' comments (点评) on follow-ups, and attachments on records.

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::StreamExt;
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use xiansuo_app::leads::followups;
use xiansuo_app::records::attachments::{self, Upload, MAX_BYTES};
use xiansuo_app::records::schema::{Table, TABLES};
use xiansuo_core::Invalid;

async fn due(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    let (items, next) = followups::due(&s.db, &auth.actor, &q, s.clock.now()).await?;
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

async fn get_working_hours(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(followups::get_working_hours(&s.db).await?))
}

async fn set_working_hours(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        followups::set_working_hours(&s.db, &auth.actor, &body, s.clock.now()).await?,
    ))
}

async fn list_sla_rules(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": followups::list_sla_rules(&s.db, &auth.actor).await?, "next_cursor": null}),
    ))
}

async fn create_sla_rule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let created = followups::create_sla_rule(&s.db, &auth.actor, &body, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn get_sla_rule(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(followups::get_sla_rule(&s.db, &auth.actor, id).await?))
}

async fn update_sla_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        followups::update_sla_rule(&s.db, &auth.actor, id, &body, s.clock.now()).await?,
    ))
}

async fn delete_sla_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    followups::delete_sla_rule(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_comments(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": followups::comments(&s.db, &auth.actor, id).await?}),
    ))
}

async fn create_comment(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let created = followups::comment(ctx(&s, &auth), id, &body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

fn too_large() -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "a file may have at most {} MiB",
        MAX_BYTES / (1024 * 1024)
    ))
}

/// A file read from the request: its name, its media type if sent, its bytes.
struct Received {
    filename: String,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

/// How much of a refused upload is read and dropped before answering 413. A client still
/// sending when the answer comes sees a broken connection instead of the answer; past this
/// much, that is the sender's problem.
const DISCARD_AT_MOST: usize = 64 * 1024 * 1024;

/// Reads a body of at most `limit` bytes; a longer one is read on (up to
/// [`DISCARD_AT_MOST`]) and dropped, and is `None`.
async fn read_capped(body: Body, limit: usize) -> ApiResult<Option<Vec<u8>>> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("the upload broke off: {e}")))?;
        seen += chunk.len();
        if seen > DISCARD_AT_MOST {
            break;
        }
        if seen <= limit {
            bytes.extend_from_slice(&chunk);
        }
    }
    Ok((seen <= limit).then_some(bytes))
}

/// Reads an upload: a raw body named by `?filename=` or an `X-Filename` header (percent-encoded
/// for non-ASCII names), or a `multipart/form-data` form whose file field carries its name.
/// Anything larger than [`MAX_BYTES`] is refused with 413 without being kept in memory.
async fn receive(query: &[(String, String)], request: Request) -> ApiResult<Received> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_form = content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    // A form adds a little framing around the file.
    let limit = if is_form {
        MAX_BYTES + 64 * 1024
    } else {
        MAX_BYTES
    };
    if declared.is_some_and(|n| n > limit) {
        read_capped(body, 0).await?;
        return Err(too_large());
    }
    if is_form {
        let request = Request::from_parts(parts, body);
        let mut form = Multipart::from_request(request, &())
            .await
            .map_err(|e| ApiError::BadRequest(format!("the form cannot be read: {e}")))?;
        while let Some(mut field) = form
            .next_field()
            .await
            .map_err(|e| ApiError::BadRequest(format!("the form cannot be read: {e}")))?
        {
            let Some(filename) = field.file_name().map(str::to_owned) else {
                continue;
            };
            let content_type = field.content_type().map(str::to_owned);
            let mut bytes = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| ApiError::BadRequest(format!("the form cannot be read: {e}")))?
            {
                if bytes.len() + chunk.len() > MAX_BYTES {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            return Ok(Received {
                filename,
                content_type,
                bytes,
            });
        }
        return Err(Invalid::new("file", "the form has no file field").into());
    }
    let named = query
        .iter()
        .find(|(k, _)| k == "filename")
        .map(|(_, v)| v.clone())
        .or_else(|| {
            parts
                .headers
                .get("x-filename")
                .and_then(|v| v.to_str().ok())
                .map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned())
        })
        .unwrap_or_default();
    let bytes = read_capped(body, MAX_BYTES).await?.ok_or_else(too_large)?;
    Ok(Received {
        filename: named,
        content_type,
        bytes,
    })
}

fn activity_param(query: &[(String, String)]) -> ApiResult<Option<i64>> {
    query
        .iter()
        .find(|(k, _)| k == "activity_id")
        .map(|(_, v)| {
            v.trim()
                .parse()
                .map_err(|_| Invalid::new("activity_id", "must be a follow-up id").into())
        })
        .transpose()
}

/// `/api/v1/{table}/{id}/attachments` for one record type.
fn attachment_routes(table: &'static Table) -> Router<AppState> {
    Router::new().route(
        &format!("/api/v1/{}/{{id}}/attachments", table.name),
        get(
            move |State(s): State<AppState>, auth: Auth, Id(id): Id| async move {
                let items = attachments::list(&s.db, &auth.actor, table, id).await?;
                ApiResult::Ok(Json(json!({ "items": items })))
            },
        )
        .post(
            move |State(s): State<AppState>,
                  auth: Auth,
                  Id(id): Id,
                  QueryPairs(q): QueryPairs,
                  request: Request| async move {
                let activity_id = activity_param(&q)?;
                let file = receive(&q, request).await?;
                let stored = attachments::upload(
                    ctx(&s, &auth),
                    table,
                    id,
                    Upload {
                        filename: &file.filename,
                        content_type: file.content_type.as_deref(),
                        activity_id,
                        bytes: &file.bytes,
                    },
                )
                .await?;
                ApiResult::Ok((StatusCode::CREATED, Json(stored)))
            },
        )
        // The upload reads its body itself, with its own limit.
        .layer(DefaultBodyLimit::disable()),
    )
}

/// `attachment; filename="…"` with an ASCII stand-in and the real name per RFC 6266.
fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(filename, NON_ALPHANUMERIC)
    )
}

async fn download(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Response> {
    let file = attachments::download(&s.db, &auth.actor, id).await?;
    let name = file.attachment["filename"].as_str().unwrap_or("file");
    let kind = file.attachment["content_type"]
        .as_str()
        .unwrap_or("application/octet-stream");
    let headers = [
        (header::CONTENT_TYPE, kind.to_owned()),
        (header::CONTENT_DISPOSITION, content_disposition(name)),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    Ok((headers, Body::from(file.bytes)).into_response())
}

async fn delete_attachment(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    attachments::delete(ctx(&s, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    let mut router = Router::new()
        .route("/api/v1/follow-ups/due", get(due))
        .route(
            "/api/v1/sla/working-hours",
            get(get_working_hours).put(set_working_hours),
        )
        .route(
            "/api/v1/sla/rules",
            get(list_sla_rules).post(create_sla_rule),
        )
        .route(
            "/api/v1/sla/rules/{id}",
            get(get_sla_rule)
                .patch(update_sla_rule)
                .delete(delete_sla_rule),
        )
        .route(
            "/api/v1/activities/{id}/comments",
            get(list_comments).post(create_comment),
        )
        .route(
            "/api/v1/attachments/{id}",
            get(download).delete(delete_attachment),
        );
    for table in TABLES {
        router = router.merge(attachment_routes(table));
    }
    router
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn downloads_name_the_file_for_every_browser() {
        assert_eq!(
            content_disposition("报价 v2.pdf"),
            "attachment; filename=\"__ v2.pdf\"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%20v2%2Epdf"
        );
        assert!(content_disposition("a\"b").starts_with("attachment; filename=\"a_b\""));
    }
}
