//! Analytics reports under `/api/v1/reports`: leads by group, the funnel, speed to lead,
//! follow-up activity per rep, the sales cycle, cost per lead and acquisition cost per channel
//! (with the channel spend admins record), KPI targets with attainment, and the reasons deals
//! were lost and leads disqualified (see `xiansuo_app::sales::reports`). Each report answers
//! JSON, or a file with `?format=csv` or `?format=xlsx`.
//!
//! A body is handed to the use case unread (`Unread`), which reads it into its type after it
//! has checked the caller. Each handler documents itself (`#[utoipa::path]`) and [`routes`]
//! registers handler and document together.

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::data::export::Format as File;
use xiansuo_app::sales::reports::{
    self, ActivityReport, ChannelCost, ChannelCostList, ChannelReport, CsvTable, CycleGrouping,
    DisqualifyReasonsReport, FormatCode, FunnelReport, LeadsGrouping, LeadsReport,
    LostReasonsReport, MetricCode, NewChannelCost, NewTarget, PeriodCode, Report, SalesCycleReport,
    SpeedToLeadReport, Target, TargetReport, XlsxTable,
};
use xiansuo_app::StoreResult;
use xiansuo_core::schema::DateOrTime;
use xiansuo_core::validation::Unread;
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
fn respond<B: Serialize>(
    s: &AppState,
    name: &str,
    format: Option<File>,
    report: StoreResult<Report<B>>,
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

/// Leads and conversion by group
///
/// The leads you may see created in the range, grouped, with how many are converted. Also has
/// `period` when grouped by period.
#[utoipa::path(
    get,
    path = "/api/v1/reports/leads",
    operation_id = "leadsReport",
    tag = "reports",
    params(
        ("from" = inline(Option<DateOrTime>), Query, description = "Start: a date (YYYY-MM-DD, from its midnight in China time) or an RFC 3339 time; default 30 days before `to`"),
        ("to" = inline(Option<DateOrTime>), Query, description = "End, included: a date (YYYY-MM-DD, to its end in China time) or an RFC 3339 time; default today; must be after `from`"),
        ("format" = inline(Option<FormatCode>), Query, description = "`json` (default), `csv` or `xlsx`"),
        ("group_by" = inline(Option<LeadsGrouping>), Query, description = "What to group by; default source"),
        ("period" = inline(Option<PeriodCode>), Query, description = "With group_by=period: day (default), week (from Monday) or month, in China time"),
    ),
    responses(
        (status = OK, description = "The report", content(
            (LeadsReport = "application/json"),
            (inline(CsvTable) = "text/csv"),
            (inline(XlsxTable) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn leads(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::leads(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "leads", format, report)
}

/// The funnel from new lead to won deal
///
/// Of the leads you may see created in the range, how many reached each status (by where they
/// stand now: a converted lead passed every step before it) and how many of their deals were
/// won.
#[utoipa::path(
    get,
    path = "/api/v1/reports/funnel",
    operation_id = "funnelReport",
    tag = "reports",
    params(
        ("from" = inline(Option<DateOrTime>), Query, description = "Start: a date (YYYY-MM-DD, from its midnight in China time) or an RFC 3339 time; default 30 days before `to`"),
        ("to" = inline(Option<DateOrTime>), Query, description = "End, included: a date (YYYY-MM-DD, to its end in China time) or an RFC 3339 time; default today; must be after `from`"),
        ("format" = inline(Option<FormatCode>), Query, description = "`json` (default), `csv` or `xlsx`"),
    ),
    responses(
        (status = OK, description = "The funnel", content(
            (FunnelReport = "application/json"),
            (inline(CsvTable) = "text/csv"),
            (inline(XlsxTable) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn funnel(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::funnel(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "funnel", format, report)
}

/// Speed to lead per owner
///
/// Time from a lead's creation to its first activity, for the leads you may see created in the
/// range.
#[utoipa::path(
    get,
    path = "/api/v1/reports/speed-to-lead",
    operation_id = "speedToLeadReport",
    tag = "reports",
    params(
        ("from" = inline(Option<DateOrTime>), Query, description = "Start: a date (YYYY-MM-DD, from its midnight in China time) or an RFC 3339 time; default 30 days before `to`"),
        ("to" = inline(Option<DateOrTime>), Query, description = "End, included: a date (YYYY-MM-DD, to its end in China time) or an RFC 3339 time; default today; must be after `from`"),
        ("format" = inline(Option<FormatCode>), Query, description = "`json` (default), `csv` or `xlsx`"),
    ),
    responses(
        (status = OK, description = "The report", content(
            (SpeedToLeadReport = "application/json"),
            (inline(CsvTable) = "text/csv"),
            (inline(XlsxTable) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn speed_to_lead(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::speed_to_lead(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "speed-to-lead", format, report)
}

/// Follow-up activity per rep
///
/// Activities logged in the range by the users whose records you may see. The CSV has one row
/// per user, type and outcome.
#[utoipa::path(
    get,
    path = "/api/v1/reports/activities",
    operation_id = "activityReport",
    tag = "reports",
    params(
        ("from" = inline(Option<DateOrTime>), Query, description = "Start: a date (YYYY-MM-DD, from its midnight in China time) or an RFC 3339 time; default 30 days before `to`"),
        ("to" = inline(Option<DateOrTime>), Query, description = "End, included: a date (YYYY-MM-DD, to its end in China time) or an RFC 3339 time; default today; must be after `from`"),
        ("format" = inline(Option<FormatCode>), Query, description = "`json` (default), `csv` or `xlsx`"),
    ),
    responses(
        (status = OK, description = "The report", content(
            (ActivityReport = "application/json"),
            (inline(CsvTable) = "text/csv"),
            (inline(XlsxTable) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn activities(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::activities(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "activities", format, report)
}

/// Sales cycle from lead to won deal
#[utoipa::path(
    get,
    path = "/api/v1/reports/sales-cycle",
    operation_id = "salesCycleReport",
    tag = "reports",
    params(
        ("from" = inline(Option<DateOrTime>), Query, description = "Start: a date (YYYY-MM-DD, from its midnight in China time) or an RFC 3339 time; default 30 days before `to`"),
        ("to" = inline(Option<DateOrTime>), Query, description = "End, included: a date (YYYY-MM-DD, to its end in China time) or an RFC 3339 time; default today; must be after `from`"),
        ("format" = inline(Option<FormatCode>), Query, description = "`json` (default), `csv` or `xlsx`"),
        ("group_by" = inline(Option<CycleGrouping>), Query, description = "Per owner of the deal (default) or per source of the lead"),
    ),
    responses(
        (status = OK, description = "The report", content(
            (SalesCycleReport = "application/json"),
            (inline(CsvTable) = "text/csv"),
            (inline(XlsxTable) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn sales_cycle(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::sales_cycle(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "sales-cycle", format, report)
}

/// Cost per lead and acquisition cost per source
///
/// Admins only: spend is a whole channel's, compared with all its leads.
#[utoipa::path(
    get,
    path = "/api/v1/reports/channels",
    operation_id = "channelReport",
    tag = "reports",
    params(
        ("from" = inline(Option<DateOrTime>), Query, description = "Start: a date (YYYY-MM-DD, from its midnight in China time) or an RFC 3339 time; default 30 days before `to`"),
        ("to" = inline(Option<DateOrTime>), Query, description = "End, included: a date (YYYY-MM-DD, to its end in China time) or an RFC 3339 time; default today; must be after `from`"),
        ("format" = inline(Option<FormatCode>), Query, description = "`json` (default), `csv` or `xlsx`"),
    ),
    responses(
        (status = OK, description = "The report", content(
            (ChannelReport = "application/json"),
            (inline(CsvTable) = "text/csv"),
            (inline(XlsxTable) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = FORBIDDEN, description = "Not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn channels(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::channels(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "channels", format, report)
}

/// Targets with attainment
///
/// The month's targets you may see (your own; a manager's subtree; everything for an admin),
/// with the actual so far: leads by creation, conversions by the day converted, won amounts by
/// the day won, activities by the day logged, in China time.
#[utoipa::path(
    get,
    path = "/api/v1/reports/targets",
    operation_id = "targetReport",
    tag = "reports",
    params(
        ("month" = Option<String>, Query, description = "The month; default this month", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$"),
        ("format" = inline(Option<FormatCode>), Query, description = "`json` (default), `csv` or `xlsx`"),
    ),
    responses(
        (status = OK, description = "The targets", content(
            (TargetReport = "application/json"),
            (inline(CsvTable) = "text/csv"),
            (inline(XlsxTable) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn targets(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::targets(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "targets", format, report)
}

/// Why deals were lost
///
/// The deals you may see lost in the range, per reason given when they were lost.
#[utoipa::path(
    get,
    path = "/api/v1/reports/lost-reasons",
    operation_id = "lostReasonsReport",
    tag = "reports",
    params(
        ("from" = inline(Option<DateOrTime>), Query, description = "Start: a date (YYYY-MM-DD, from its midnight in China time) or an RFC 3339 time; default 30 days before `to`"),
        ("to" = inline(Option<DateOrTime>), Query, description = "End, included: a date (YYYY-MM-DD, to its end in China time) or an RFC 3339 time; default today; must be after `from`"),
        ("format" = inline(Option<FormatCode>), Query, description = "`json` (default), `csv` or `xlsx`"),
    ),
    responses(
        (status = OK, description = "The report", content(
            (LostReasonsReport = "application/json"),
            (inline(CsvTable) = "text/csv"),
            (inline(XlsxTable) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn lost_reasons(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::lost_reasons(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "lost-reasons", format, report)
}

/// Why leads were disqualified
///
/// Of the leads you may see created in the range, those now disqualified, per reason given
/// (无效原因).
#[utoipa::path(
    get,
    path = "/api/v1/reports/disqualify-reasons",
    operation_id = "disqualifyReasonsReport",
    tag = "reports",
    params(
        ("from" = inline(Option<DateOrTime>), Query, description = "Start: a date (YYYY-MM-DD, from its midnight in China time) or an RFC 3339 time; default 30 days before `to`"),
        ("to" = inline(Option<DateOrTime>), Query, description = "End, included: a date (YYYY-MM-DD, to its end in China time) or an RFC 3339 time; default today; must be after `from`"),
        ("format" = inline(Option<FormatCode>), Query, description = "`json` (default), `csv` or `xlsx`"),
    ),
    responses(
        (status = OK, description = "The report", content(
            (DisqualifyReasonsReport = "application/json"),
            (inline(CsvTable) = "text/csv"),
            (inline(XlsxTable) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn disqualify_reasons(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Response> {
    let (format, q) = split_format(q)?;
    let report = reports::disqualify_reasons(&s.db, &auth.actor, &q, s.clock.now()).await;
    respond(&s, "disqualify-reasons", format, report)
}

/// Set a monthly target
///
/// Admins for anyone; managers for the users and teams of their subtree. Setting it again
/// replaces the value.
#[utoipa::path(
    put,
    path = "/api/v1/reports/targets",
    operation_id = "setTarget",
    tag = "reports",
    request_body = NewTarget,
    responses(
        (status = OK, description = "The target", body = Target),
        (status = FORBIDDEN, description = "A rep"),
        (status = NOT_FOUND, description = "No such user or team within your subtree"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn set_target(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Target>> {
    Ok(Json(
        reports::set_target(ctx(&s, &auth), Unread::json(body)).await?,
    ))
}

/// Delete a monthly target
///
/// Removes the target of one user or one team (give one of user_id, team_id) for one metric and
/// month. Admins for anyone; managers for the users and teams of their subtree.
#[utoipa::path(
    delete,
    path = "/api/v1/reports/targets",
    operation_id = "deleteTarget",
    tag = "reports",
    params(
        ("user_id" = Option<i64>, Query, description = "A user"),
        ("team_id" = Option<i64>, Query, description = "A team"),
        ("metric" = inline(Option<MetricCode>), Query, description = "What the target measures"),
        ("month" = Option<String>, Query, description = "The month", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$"),
    ),
    responses(
        (status = NO_CONTENT, description = "Deleted"),
        (status = FORBIDDEN, description = "A rep"),
        (status = NOT_FOUND, description = "No such target within your subtree"),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn delete_target(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<StatusCode> {
    reports::delete_target(ctx(&s, &auth), &q).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List recorded spend
///
/// Admins only; by month, source and campaign.
#[utoipa::path(
    get,
    path = "/api/v1/reports/costs",
    operation_id = "listChannelCosts",
    tag = "reports",
    params(
        ("from" = Option<String>, Query, description = "First month", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$"),
        ("to" = Option<String>, Query, description = "Last month", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$"),
    ),
    responses(
        (status = OK, description = "The spend", body = ChannelCostList),
        (status = FORBIDDEN, description = "Not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A parameter is not valid"),
    )
)]
async fn list_costs(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<ChannelCostList>> {
    Ok(Json(reports::list_costs(&s.db, &auth.actor, &q).await?))
}

/// Record spend
///
/// Admins only. 201 when new, 200 when it replaced an amount.
#[utoipa::path(
    post,
    path = "/api/v1/reports/costs",
    operation_id = "setChannelCost",
    tag = "reports",
    request_body = NewChannelCost,
    responses(
        (status = CREATED, description = "Recorded", body = ChannelCost),
        (status = OK, description = "Replaced", body = ChannelCost),
        (status = FORBIDDEN, description = "Not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn set_cost(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<ChannelCost>)> {
    let (cost, created) = reports::set_cost(ctx(&s, &auth), Unread::json(body)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(cost)))
}

/// Delete recorded spend
///
/// Admins only.
#[utoipa::path(
    delete,
    path = "/api/v1/reports/costs/{id}",
    operation_id = "deleteChannelCost",
    tag = "reports",
    responses(
        (status = NO_CONTENT, description = "Deleted"),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn delete_cost(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    reports::delete_cost(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The report routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(leads))
        .routes(routes!(funnel))
        .routes(routes!(speed_to_lead))
        .routes(routes!(activities))
        .routes(routes!(sales_cycle))
        .routes(routes!(channels))
        .routes(routes!(list_costs, set_cost))
        .routes(routes!(delete_cost))
        .routes(routes!(targets, set_target, delete_target))
        .routes(routes!(lost_reasons))
        .routes(routes!(disqualify_reasons))
}
