//! Follow-ups on time and what hangs off a follow-up: the due list, working hours and SLA rules
//! (admins), managers' comments (点评) on follow-ups, and attachments on records (see
//! `xiansuo_app::leads::followups` and `xiansuo_app::records::attachments`). The handlers
//! document themselves, as `api::webhooks` describes; the attachments of each record type have
//! a handler per type (`record_files!`), since a documented route has one path.

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;
use xiansuo_app::leads::followups::{
    self, Calendar, CalendarChange, Comment, CommentList, DuePage, NewComment, NewSlaRule, SlaRule,
    SlaRuleList, SlaRulePatch,
};
use xiansuo_app::records::attachments::{self, Attachment, AttachmentList, Upload, MAX_BYTES};
use xiansuo_app::records::schema::{Table, ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES};
use xiansuo_core::schema::{self, FileContent};
use xiansuo_core::validation::Unread;
use xiansuo_core::Invalid;

/// Planned follow-ups that are due
///
/// The plan that counts for a record is its latest activity's `next_follow_up_at`: logging
/// another follow-up fulfils it. Records owned by `user_id` (within your data scope, else 403)
/// or by anyone in your scope (a rep: theirs; a manager: their team's). Converted and
/// disqualified leads are left out. The job `followups.remind` notifies each owner once when a
/// plan falls due.
#[utoipa::path(
    get,
    path = "/api/v1/follow-ups/due",
    operation_id = "listDueFollowUps",
    tag = "follow-ups",
    params(
        ("user_id" = Option<i64>, Query, description = "Only records this user owns"),
        ("when" = Option<String>, Query, description = "due (default): overdue and the rest of today; today: all of today; overdue: before now; upcoming: from now, within `days`", pattern = "^(due|today|overdue|upcoming)$"),
        ("days" = Option<i64>, Query, description = "For upcoming: how many days ahead, 1–90 (default 7)", minimum = 1, maximum = 90),
        ("limit" = Option<i64>, Query, description = "Follow-ups per page, 1–500 (default 100)", minimum = 1, maximum = 500),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page", pattern = "^-?[0-9]{1,18}_[0-9]{1,18}$"),
    ),
    responses(
        (status = OK, description = "The follow-ups", body = DuePage),
        (status = FORBIDDEN, description = "`user_id` is outside your data scope"),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn due(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<DuePage>> {
    Ok(Json(
        followups::due(&s.db, &auth.actor, &q, s.clock.now()).await?,
    ))
}

/// The working hours
#[utoipa::path(
    get,
    path = "/api/v1/sla/working-hours",
    operation_id = "getWorkingHours",
    tag = "follow-ups",
    responses((status = OK, description = "The working hours", body = Calendar))
)]
async fn get_working_hours(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<Calendar>> {
    Ok(Json(followups::get_working_hours(&s.db).await?))
}

/// Set the working hours
///
/// Admins only; fields absent stay as they are.
#[utoipa::path(
    put,
    path = "/api/v1/sla/working-hours",
    operation_id = "setWorkingHours",
    tag = "follow-ups",
    request_body = CalendarChange,
    responses(
        (status = OK, description = "The working hours", body = Calendar),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn set_working_hours(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Calendar>> {
    let change = Unread::json(body);
    Ok(Json(
        followups::set_working_hours(&s.db, &auth.actor, change, s.clock.now()).await?,
    ))
}

/// List SLA rules
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/sla/rules",
    operation_id = "listSlaRules",
    tag = "follow-ups",
    responses(
        (status = OK, description = "The rules", body = SlaRuleList),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn list_sla_rules(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<SlaRuleList>> {
    Ok(Json(followups::list_sla_rules(&s.db, &auth.actor).await?))
}

/// Create an SLA rule
///
/// Admins only. The job `sla.check` (every minute) acts once per lead and assignment when the
/// owner has logged no follow-up within `hours` working hours of getting the lead (assigned
/// Friday 17:00, 2 hours, Mon–Fri 09:00–18:00: due Monday 10:00).
#[utoipa::path(
    post,
    path = "/api/v1/sla/rules",
    operation_id = "createSlaRule",
    tag = "follow-ups",
    request_body = NewSlaRule,
    responses(
        (status = CREATED, description = "The new rule", body = SlaRule),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_sla_rule(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<SlaRule>)> {
    let new = Unread::json(body);
    let created = followups::create_sla_rule(&s.db, &auth.actor, new, s.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Get an SLA rule
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/sla/rules/{id}",
    operation_id = "getSlaRule",
    tag = "follow-ups",
    responses(
        (status = OK, description = "The rule", body = SlaRule),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn get_sla_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<SlaRule>> {
    Ok(Json(followups::get_sla_rule(&s.db, &auth.actor, id).await?))
}

/// Change an SLA rule
///
/// Admins only; fields absent stay as they are.
#[utoipa::path(
    patch,
    path = "/api/v1/sla/rules/{id}",
    operation_id = "updateSlaRule",
    tag = "follow-ups",
    request_body = SlaRulePatch,
    responses(
        (status = OK, description = "The changed rule", body = SlaRule),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_sla_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<SlaRule>> {
    let patch = Unread::json(body);
    Ok(Json(
        followups::update_sla_rule(&s.db, &auth.actor, id, patch, s.clock.now()).await?,
    ))
}

/// Delete an SLA rule
///
/// Admins only.
#[utoipa::path(
    delete,
    path = "/api/v1/sla/rules/{id}",
    operation_id = "deleteSlaRule",
    tag = "follow-ups",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete_sla_rule(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    followups::delete_sla_rule(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Comments on a follow-up
///
/// Whoever can see the follow-up's record.
#[utoipa::path(
    get,
    path = "/api/v1/activities/{id}/comments",
    operation_id = "listActivityComments",
    tag = "activities",
    responses((status = OK, description = "The comments", body = CommentList))
)]
async fn list_comments(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<CommentList>> {
    Ok(Json(followups::comments(&s.db, &auth.actor, id).await?))
}

/// Comment on a follow-up
///
/// Managers and admins whose scope covers the follow-up's record (点评); its author is
/// notified.
#[utoipa::path(
    post,
    path = "/api/v1/activities/{id}/comments",
    operation_id = "createActivityComment",
    tag = "activities",
    request_body = NewComment,
    responses(
        (status = CREATED, description = "The comment", body = Comment),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_comment(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Comment>)> {
    let new = Unread::json(body);
    let created = followups::comment(ctx(&s, &auth), id, new).await?;
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

/// The files of a record of `table`.
async fn files_of(
    s: &AppState,
    auth: &Auth,
    table: &'static Table,
    id: i64,
) -> ApiResult<Json<AttachmentList>> {
    Ok(Json(
        attachments::list(&s.db, &auth.actor, table, id).await?,
    ))
}

/// Stores a file sent to a record of `table` (see [`receive`]).
async fn attach(
    s: &AppState,
    auth: &Auth,
    table: &'static Table,
    id: i64,
    query: &[(String, String)],
    request: Request,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let activity_id = activity_param(query)?;
    let file = receive(query, request).await?;
    let stored = attachments::upload(
        ctx(s, auth),
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
    Ok((StatusCode::CREATED, Json(stored)))
}

xiansuo_core::shape! {
    /// A multipart form with the file as its file part.
    FileForm => schema::file_form("The file, with its name")
}

/// The two handlers of `/api/v1/{table}/{id}/attachments` for one record type, each with its
/// document: `$list` lists the files of a record of `$table`, `$upload` attaches one. A
/// documented route has one path, so each record type has its own pair; what differs between
/// them is the table, the path, the operation ids and the summaries.
macro_rules! record_files {
    (
        $table:expr,
        $path:tt,
        $list:ident($list_id:tt, $list_summary:tt $(,)?),
        $upload:ident($upload_id:tt, $upload_summary:tt $(,)?) $(,)?
    ) => {
        #[utoipa::path(
            get,
            path = $path,
            operation_id = $list_id,
            tag = "attachments",
            summary = $list_summary,
            responses((status = OK, description = "The files", body = AttachmentList))
        )]
        async fn $list(
            State(s): State<AppState>,
            auth: Auth,
            Id(id): Id,
        ) -> ApiResult<Json<AttachmentList>> {
            files_of(&s, &auth, &$table, id).await
        }

        #[utoipa::path(
            post,
            path = $path,
            operation_id = $upload_id,
            tag = "attachments",
            summary = $upload_summary,
            description = "Whoever can see the record. An empty file or a missing name is a 422; a converted lead is read-only (409).",
            params(
                ("filename" = Option<String>, Query, description = "The file's name, for a raw body", min_length = 1),
                ("activity_id" = Option<i64>, Query, description = "A follow-up of the same record the file belongs to"),
            ),
            request_body(
                description = "The file as the raw body (named by `filename` or an `X-Filename` header, percent-encoded), or as the file part of a multipart form. At most 20 MiB.",
                content(
                    (inline(FileContent) = "application/octet-stream"),
                    (inline(FileForm) = "multipart/form-data")
                )
            ),
            responses(
                (status = CREATED, description = "The stored file", body = Attachment),
                (status = CONFLICT, description = "The record is a converted lead"),
                (status = PAYLOAD_TOO_LARGE, description = "`payload_too_large`: the file is larger than 20 MiB"),
                (status = UNPROCESSABLE_ENTITY, description = "The file is empty, has no name, or `activity_id` is not a follow-up of the record"),
            )
        )]
        async fn $upload(
            State(s): State<AppState>,
            auth: Auth,
            Id(id): Id,
            QueryPairs(q): QueryPairs,
            request: Request,
        ) -> ApiResult<(StatusCode, Json<Attachment>)> {
            attach(&s, &auth, &$table, id, &q, request).await
        }
    };
}

record_files!(
    LEADS,
    "/api/v1/leads/{id}/attachments",
    list_lead_files("listLeadAttachments", "Files of a lead"),
    upload_lead_file("uploadLeadAttachment", "Attach a file to a lead"),
);
record_files!(
    ACCOUNTS,
    "/api/v1/accounts/{id}/attachments",
    list_account_files("listAccountAttachments", "Files of an account"),
    upload_account_file("uploadAccountAttachment", "Attach a file to an account"),
);
record_files!(
    CONTACTS,
    "/api/v1/contacts/{id}/attachments",
    list_contact_files("listContactAttachments", "Files of a contact"),
    upload_contact_file("uploadContactAttachment", "Attach a file to a contact"),
);
record_files!(
    OPPORTUNITIES,
    "/api/v1/opportunities/{id}/attachments",
    list_opportunity_files("listOpportunityAttachments", "Files of an opportunity"),
    upload_opportunity_file(
        "uploadOpportunityAttachment",
        "Attach a file to an opportunity"
    ),
);

/// An upload reads its body itself, with its own limit ([`receive`]).
fn reading_its_own_body(
    (schemas, paths, router): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    (schemas, paths, router.layer(DefaultBodyLimit::disable()))
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

/// Download a file
///
/// Whoever can see its record; sent with its media type and as an attachment under its name.
#[utoipa::path(
    get,
    path = "/api/v1/attachments/{id}",
    operation_id = "downloadAttachment",
    tag = "attachments",
    responses(
        (status = OK, description = "The file, with the media type it was uploaded with", content_type = "*/*", body = inline(FileContent)),
    )
)]
async fn download(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Response> {
    let file = attachments::download(&s.db, &auth.actor, id).await?;
    let headers = [
        (header::CONTENT_TYPE, file.attachment.content_type),
        (
            header::CONTENT_DISPOSITION,
            content_disposition(&file.attachment.filename),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    Ok((headers, Body::from(file.bytes)).into_response())
}

/// Delete a file
///
/// Its uploader, a manager or an admin whose scope covers its record; the history keeps that
/// it existed.
#[utoipa::path(
    delete,
    path = "/api/v1/attachments/{id}",
    operation_id = "deleteAttachment",
    tag = "attachments",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete_attachment(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    attachments::delete(ctx(&s, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The follow-up routes that document themselves, with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(due))
        .routes(routes!(get_working_hours, set_working_hours))
        .routes(routes!(list_sla_rules, create_sla_rule))
        .routes(routes!(get_sla_rule, update_sla_rule, delete_sla_rule))
        .routes(routes!(list_comments, create_comment))
        .routes(routes!(download, delete_attachment))
        .routes(reading_its_own_body(routes!(
            list_lead_files,
            upload_lead_file
        )))
        .routes(reading_its_own_body(routes!(
            list_account_files,
            upload_account_file
        )))
        .routes(reading_its_own_body(routes!(
            list_contact_files,
            upload_contact_file
        )))
        .routes(reading_its_own_body(routes!(
            list_opportunity_files,
            upload_opportunity_file
        )))
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
