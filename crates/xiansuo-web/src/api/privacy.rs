//! A person's data over HTTP (PIPL / GDPR requests, admins only): export everything held about
//! a person found by phone or e-mail, and erase it keeping aggregates ([`xiansuo_app::data::privacy`]).

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use xiansuo_app::data::privacy;

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
                    let (phone, email) = (param("phone"), param("email"));
                    ApiResult::Ok(Json(privacy::export(ctx(&s, &auth), phone, email).await?))
                },
            ),
        )
        .route(
            "/api/v1/privacy/erase",
            post(
                |State(s): State<AppState>, auth: Auth, JsonBody(body): JsonBody| async move {
                    ApiResult::Ok(Json(privacy::erase(ctx(&s, &auth), &body).await?))
                },
            ),
        )
}
