//! Analytics reports under `/api/v1/reports`: leads by group, the funnel, speed to lead,
//! follow-up activity per rep, the sales cycle, cost per lead and acquisition cost per channel
//! (with the channel spend admins record), KPI targets with attainment, and the reasons deals
//! were lost and leads disqualified. Each report answers JSON, or a file with `?format=csv` or
//! `?format=xlsx`.

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
use xiansuo_app::data::export::Format as File;
use xiansuo_app::sales::reports::{self, Report};
use xiansuo_app::StoreResult;
use xiansuo_core::Invalid;

/// A query's parameters as pairs.
type Pairs = Vec<(String, String)>;

/// The file a report is asked for as (`None` for JSON); the other parameters are the report's.
fn split_format(query: Pairs) -> ApiResult<(Option<File>, Pairs)> {
    let mut format = None;
    let mut rest = Vec::new();
    for (name, value) in query {
        if name == "format" {
            format = match value.trim() {
                "json" => None,
                "csv" => Some(File::Csv),
                "xlsx" => Some(File::Xlsx),
                other => {
                    return Err(Invalid::new(
                        "format",
                        format!("'{other}' is not a format (accepted: json, csv, xlsx)"),
                    )
                    .into())
                }
            };
        } else {
            rest.push((name, value));
        }
    }
    Ok((format, rest))
}

/// The report as JSON, or as a CSV or XLSX attachment named after it and the day.
fn respond(
    s: &AppState,
    name: &str,
    format: Option<File>,
    report: StoreResult<Report>,
) -> ApiResult<Response> {
    let report = report?;
    let Some(format) = format else {
        return Ok(Json(report.body).into_response());
    };
    let bytes = match format {
        File::Csv => report.csv()?,
        File::Xlsx => report.xlsx(name)?,
    };
    let filename = format!(
        "{name}-{}.{}",
        s.clock.now().format("%Y%m%d"),
        format.code()
    );
    let headers = [
        (header::CONTENT_TYPE, format.content_type().to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ),
    ];
    Ok((headers, bytes).into_response())
}

async fn leads(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::leads(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "leads", format, report)
}

async fn funnel(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::funnel(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "funnel", format, report)
}

async fn speed_to_lead(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::speed_to_lead(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "speed-to-lead", format, report)
}

async fn activities(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::activities(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "activities", format, report)
}

async fn sales_cycle(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::sales_cycle(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "sales-cycle", format, report)
}

async fn channels(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::channels(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "channels", format, report)
}

async fn targets(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::targets(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "targets", format, report)
}

async fn lost_reasons(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::lost_reasons(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "lost-reasons", format, report)
}

async fn disqualify_reasons(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::disqualify_reasons(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "disqualify-reasons", format, report)
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
        .route("/api/v1/reports/lost-reasons", get(lost_reasons))
        .route(
            "/api/v1/reports/disqualify-reasons",
            get(disqualify_reasons),
        )
}
