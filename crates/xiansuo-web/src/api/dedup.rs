//! Duplicates and merges over HTTP: a lead's duplicates, the dedup policies per source (for
//! certain and for probable matches), the
//! duplicate scan and its groups, merging leads and undoing a merge; and the answer to a lead
//! create that dedup refused (409 with the candidates) or merged (200 with the lead).

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use xiansuo_app::leads::dedup::{self, scan};
use xiansuo_app::leads::merge;
use xiansuo_core::clock::to_millis;
use xiansuo_core::dedup::Certainty;

/// Every route of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/leads/{id}/duplicates",
            get(
                |State(s): State<AppState>, auth: Auth, Id(id): Id| async move {
                    let now = to_millis(s.clock.now());
                    ApiResult::Ok(Json(
                        dedup::lead_duplicates(&s.db, &auth.actor, id, now).await?,
                    ))
                },
            ),
        )
        .route(
            "/api/v1/dedup/policies",
            get(|State(s): State<AppState>, _auth: Auth| async move {
                ApiResult::Ok(Json(dedup::policies_json(&s.db, Certainty::Certain).await?))
            })
            .put(
                |State(s): State<AppState>, auth: Auth, JsonBody(body): JsonBody| async move {
                    ApiResult::Ok(Json(
                        dedup::set_policies(ctx(&s, &auth), Certainty::Certain, &body).await?,
                    ))
                },
            ),
        )
        .route(
            "/api/v1/dedup/probable-policies",
            get(|State(s): State<AppState>, _auth: Auth| async move {
                ApiResult::Ok(Json(
                    dedup::policies_json(&s.db, Certainty::Probable).await?,
                ))
            })
            .put(
                |State(s): State<AppState>, auth: Auth, JsonBody(body): JsonBody| async move {
                    ApiResult::Ok(Json(
                        dedup::set_policies(ctx(&s, &auth), Certainty::Probable, &body).await?,
                    ))
                },
            ),
        )
        .route(
            "/api/v1/dedup/scan",
            get(|State(s): State<AppState>, _auth: Auth| async move {
                ApiResult::Ok(Json(json!({ "scan": scan::latest(&s.db).await? })))
            })
            .post(|State(s): State<AppState>, auth: Auth| async move {
                let started = scan::start(ctx(&s, &auth)).await?;
                ApiResult::Ok((StatusCode::ACCEPTED, Json(started)))
            }),
        )
        .route(
            "/api/v1/dedup/groups",
            get(
                |State(s): State<AppState>, auth: Auth, QueryPairs(q): QueryPairs| async move {
                    ApiResult::Ok(Json(scan::groups(&s.db, &auth.actor, &q).await?))
                },
            ),
        )
        .route(
            "/api/v1/leads/merge",
            post(
                |State(s): State<AppState>, auth: Auth, JsonBody(body): JsonBody| async move {
                    ApiResult::Ok(Json(merge::merge(ctx(&s, &auth), &body).await?))
                },
            ),
        )
        .route(
            "/api/v1/leads/merges/{id}/undo",
            post(
                |State(s): State<AppState>, auth: Auth, Id(id): Id| async move {
                    ApiResult::Ok(Json(merge::undo(ctx(&s, &auth), id).await?))
                },
            ),
        )
}
