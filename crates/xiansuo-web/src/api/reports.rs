//! Analytics reports under `/api/v1/reports`: leads by group, the funnel, speed to lead,
//! follow-up activity per rep, the sales cycle, cost per lead and acquisition cost per channel
//! (with the channel spend admins record), and KPI targets with attainment. Each report answers
//! JSON, or a CSV file with `?format=csv`.

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::Value;
use xiansuo_app::sales::reports::{self, Report};
use xiansuo_app::StoreResult;
use xiansuo_core::Invalid;

/// Whether a report is asked for as CSV; the other parameters are the report's.
fn split_format(query: Vec<(String, String)>) -> ApiResult<(bool, Vec<(String, String)>)> {
    let mut csv = false;
    let mut rest = Vec::new();
    for (name, value) in query {
        if name == "format" {
            csv = match value.trim() {
                "json" => false,
                "csv" => true,
                other => {
                    return Err(Invalid::new(
                        "format",
                        format!("'{other}' is not a format (accepted: json, csv)"),
                    )
                    .into())
                }
            };
        } else {
            rest.push((name, value));
        }
    }
    Ok((csv, rest))
}

/// The report as JSON, or as a CSV attachment named after it and the day.
fn respond(
    s: &AppState,
    name: &str,
    csv: bool,
    report: StoreResult<Report>,
) -> ApiResult<Response> {
    let report = report?;
    if !csv {
        return Ok(Json(report.body).into_response());
    }
    let filename = format!("{name}-{}.csv", s.clock.now().format("%Y%m%d"));
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ),
    ];
    Ok((headers, report.csv()?).into_response())
}

async fn leads(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (csv, q) = split_format(q)?;
    let report = reports::leads(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "leads", csv, report)
}

async fn funnel(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (csv, q) = split_format(q)?;
    let report = reports::funnel(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "funnel", csv, report)
}

async fn speed_to_lead(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (csv, q) = split_format(q)?;
    let report = reports::speed_to_lead(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "speed-to-lead", csv, report)
}

async fn activities(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (csv, q) = split_format(q)?;
    let report = reports::activities(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "activities", csv, report)
}

async fn sales_cycle(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (csv, q) = split_format(q)?;
    let report = reports::sales_cycle(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "sales-cycle", csv, report)
}

async fn channels(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (csv, q) = split_format(q)?;
    let report = reports::channels(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "channels", csv, report)
}

async fn targets(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (csv, q) = split_format(q)?;
    let report = reports::targets(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "targets", csv, report)
}

async fn set_target(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    Ok(Json(reports::set_target(ctx(&s, &auth), &body).await?))
}

async fn delete_target(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<StatusCode> {
    reports::delete_target(ctx(&s, &auth), &q).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_costs(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(reports::list_costs(&s.db, &auth.actor, &q).await?))
}

async fn set_cost(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (cost, created) = reports::set_cost(ctx(&s, &auth), &body).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(cost)))
}

async fn delete_cost(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    reports::delete_cost(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every route of the reports.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/leads", get(leads))
        .route("/api/v1/reports/funnel", get(funnel))
        .route("/api/v1/reports/speed-to-lead", get(speed_to_lead))
        .route("/api/v1/reports/activities", get(activities))
        .route("/api/v1/reports/sales-cycle", get(sales_cycle))
        .route("/api/v1/reports/channels", get(channels))
        .route("/api/v1/reports/costs", get(list_costs).post(set_cost))
        .route("/api/v1/reports/costs/{id}", delete(delete_cost))
        .route(
            "/api/v1/reports/targets",
            get(targets).put(set_target).delete(delete_target),
        )
}
