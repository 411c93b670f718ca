//! `/api/v1/forms`: the admin's side of web forms. Creating, changing and deleting forms, the
//! HTML to embed one in another site, and the log of what visitors posted. Forms and their
//! submissions (personal data of people who are not yet anyone's lead) are for admins only,
//! which the use cases of `xiansuo_app::channels::forms` check themselves.
//!
//! A body is handed to the use case unread (`Unread`), which reads it into its type after it
//! has checked the caller, so a caller who may not call it gets a 403 whatever the body says.
//! Each handler documents itself (`#[utoipa::path]`) and [`routes`] registers handler and
//! document together; the statuses a handler lists beyond its success are its own failures,
//! and what every route shares is added by `crate::openapi`. The public endpoint visitors post
//! to, `/f/{key}`, is served by `crate::form_pages`.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::channels::forms::{
    self, FormChange, FormEmbed, FormInput, FormList, FormSubmissionPage, LanguageCode, ShownForm,
    SubmissionStatus,
};
use xiansuo_core::validation::Unread;

/// List web forms
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/forms",
    operation_id = "listForms",
    tag = "forms",
    responses(
        (status = OK, description = "Every form", body = FormList),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn list(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<FormList>> {
    Ok(Json(forms::list(&s.db, &auth.actor).await?))
}

/// Create a web form
///
/// Admins only. The form gets a random public key.
#[utoipa::path(
    post,
    path = "/api/v1/forms",
    operation_id = "createForm",
    tag = "forms",
    request_body = FormInput,
    responses(
        (status = CREATED, description = "Created", body = ShownForm),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<ShownForm>)> {
    let new = Unread::json(body);
    Ok((
        StatusCode::CREATED,
        Json(forms::create(&s.db, &auth.actor, new, s.clock.now()).await?),
    ))
}

/// Get a web form
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/forms/{id}",
    operation_id = "getForm",
    tag = "forms",
    responses(
        (status = OK, description = "The form", body = ShownForm),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn get_one(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<ShownForm>> {
    Ok(Json(forms::get(&s.db, &auth.actor, id).await?.shown()))
}

/// Change a web form
///
/// Admins only. A new consent text gets a new consent version.
#[utoipa::path(
    patch,
    path = "/api/v1/forms/{id}",
    operation_id = "updateForm",
    tag = "forms",
    request_body = FormChange,
    responses(
        (status = OK, description = "The changed form", body = ShownForm),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<ShownForm>> {
    let change = Unread::json(body);
    Ok(Json(
        forms::update(&s.db, &auth.actor, id, change, s.clock.now()).await?,
    ))
}

/// Delete a web form
///
/// Admins only. Its address stops answering; its submissions stay.
#[utoipa::path(
    delete,
    path = "/api/v1/forms/{id}",
    operation_id = "deleteForm",
    tag = "forms",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    forms::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This server's address as the admin's browser reached it: the `Host` header, over HTTPS
/// when cookies are marked secure (served behind HTTPS) or a trusted proxy says so.
pub(crate) fn public_base(s: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '"', '<', '>']))
        .ok_or_else(|| ApiError::BadRequest("the request has no usable Host header".into()))?;
    let forwarded_https = s.trust_forwarded_for
        && headers
            .get(HeaderName::from_static("x-forwarded-proto"))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let scheme = if s.secure_cookies || forwarded_https {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

/// HTML to embed a web form in another site
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/forms/{id}/embed",
    operation_id = "embedForm",
    tag = "forms",
    params(
        ("lang" = inline(Option<LanguageCode>), Query, description = "zh or en; default the form's language"),
    ),
    responses(
        (status = OK, description = "The snippet", body = FormEmbed),
        (status = FORBIDDEN, description = "Not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "The language is not zh or en"),
    )
)]
async fn embed(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    QueryPairs(q): QueryPairs,
    headers: HeaderMap,
) -> ApiResult<Json<FormEmbed>> {
    let form = forms::get(&s.db, &auth.actor, id).await?;
    let asked = q.iter().find(|(n, _)| n == "lang").map(|(_, v)| v.as_str());
    if let Some(lang) = asked.filter(|l| !forms::LANGUAGES.contains(l)) {
        return Err(xiansuo_core::Invalid::new("lang", format!("'{lang}' is not zh or en")).into());
    }
    let lang = form.language_for(asked);
    let url = format!("{}/f/{}", public_base(&s, &headers)?, form.key);
    let defs = forms::lead_custom_fields(&s.db).await?;
    let html = crate::form_pages::embed_snippet(&form, &defs, lang, &url)
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Json(FormEmbed {
        url,
        language: lang.to_owned(),
        html,
    }))
}

/// The posts to a web form
///
/// Admins only. Newest first.
#[utoipa::path(
    get,
    path = "/api/v1/forms/{id}/submissions",
    operation_id = "listFormSubmissions",
    tag = "forms",
    params(
        ("status" = inline(Option<SubmissionStatus>), Query, description = "Only submissions with this status"),
        ("limit" = Option<i64>, Query, description = "Submissions per page, 1–500; default 50", minimum = 1, maximum = 500),
        ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page", pattern = "^[0-9]{1,18}$"),
    ),
    responses(
        (status = OK, description = "A page of submissions", body = FormSubmissionPage),
        (status = FORBIDDEN, description = "Not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A filter is not valid"),
    )
)]
async fn submissions(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<FormSubmissionPage>> {
    Ok(Json(forms::submissions(&s.db, &auth.actor, id, &q).await?))
}

/// The web form routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(embed))
        .routes(routes!(submissions))
}
