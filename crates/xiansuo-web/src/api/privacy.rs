//! A person's data over HTTP (PIPL / GDPR requests, admins only): export everything held about
//! a person found by phone or e-mail, and erase it keeping aggregates ([`xiansuo_db::privacy`]).

use super::ctx;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use xiansuo_core::Invalid;
use xiansuo_db::privacy::{self, Person};

/// A text member of a JSON body, if there; anything else but null is refused.
fn text<'a>(body: &'a serde_json::Value, field: &str) -> Result<Option<&'a str>, Invalid> {
    match &body[field] {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s)),
        _ => Err(Invalid::new(field, format!("{field} must be a string"))),
    }
}

/// The fields of an erasure request.
const FIELDS: [&str; 3] = ["phone", "email", "reason"];

/// Every route of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/privacy/export",
            get(
                |State(s): State<AppState>, auth: Auth, QueryPairs(query): QueryPairs| async move {
                    let param = |name: &str| {
                        query
                            .iter()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.as_str())
                    };
                    let person = Person::parse(param("phone"), param("email"))?;
                    ApiResult::Ok(Json(privacy::export(ctx(&s, &auth), &person).await?))
                },
            ),
        )
        .route(
            "/api/v1/privacy/erase",
            post(
                |State(s): State<AppState>, auth: Auth, JsonBody(body): JsonBody| async move {
                    if let Some(unknown) = body
                        .as_object()
                        .and_then(|o| o.keys().find(|k| !FIELDS.contains(&k.as_str())))
                    {
                        return Err(Invalid::new(
                            unknown.as_str(),
                            "is not a field of an erasure (accepted: phone, email, reason)",
                        )
                        .into());
                    }
                    let person = Person::parse(text(&body, "phone")?, text(&body, "email")?)?;
                    let reason = text(&body, "reason")?.unwrap_or_default();
                    ApiResult::Ok(Json(privacy::erase(ctx(&s, &auth), &person, reason).await?))
                },
            ),
        )
}
