//! `/api/v1/forms`: the admin's side of web forms. Creating, changing and deleting forms, the
//! HTML to embed one in another site, and the log of what visitors posted. Forms and their
//! submissions (personal data of people who are not yet anyone's lead) are for admins only.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use xiansuo_app::channels::forms;

async fn list(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"items": forms::list(&s.db, &auth.actor).await?, "next_cursor": null}),
    ))
}

async fn create(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(forms::create(&s.db, &auth.actor, &body, s.clock.now()).await?),
    ))
}

async fn get_one(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(forms::get(&s.db, &auth.actor, id).await?.to_json()))
}

async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        forms::update(&s.db, &auth.actor, id, &body, s.clock.now()).await?,
    ))
}

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

/// `GET /api/v1/forms/{id}/embed?lang=zh|en`: the form's address and a plain `<form>` to paste
/// into a page of another site (no script needed).
async fn embed(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    QueryPairs(q): QueryPairs,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
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
    Ok(Json(json!({"url": url, "language": lang, "html": html})))
}

/// `GET /api/v1/forms/{id}/submissions`: newest first; `?status=&limit=&cursor=`.
async fn submissions(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    let (items, next) = forms::submissions(&s.db, &auth.actor, id, &q).await?;
    Ok(Json(json!({"items": items, "next_cursor": next})))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/forms", get(list).post(create))
        .route(
            "/api/v1/forms/{id}",
            get(get_one).patch(update).delete(delete),
        )
        .route("/api/v1/forms/{id}/embed", get(embed))
        .route("/api/v1/forms/{id}/submissions", get(submissions))
}
