//! The dashboard (仪表盘): for a date range (the last 30 days by default), the user's leads by
//! source with their conversion, the funnel from new lead to won deal, speed to lead per owner,
//! and this month's KPI targets with their attainment, each with a link to the same report as a
//! CSV file from the API. The figures are the reports of `xiansuo_app::sales::reports`, which count only
//! the records in the user's data scope. Bars are inline SVG drawn by the template: no script,
//! and no inline style, which the pages' content security policy forbids.

use super::board::money;
use super::i18n::Texts;
use super::leads::{invalid_text, status_label, text_of};
use super::page::{display_offset, render, store_error_page, thousands, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use serde_json::Value;
use xiansuo_app::sales::reports::{self, Report};
use xiansuo_app::StoreError;

/// The days the range covers by default, today included, as in the reports.
const DEFAULT_DAYS: i64 = 30;

/// One bar of a chart: its label, its length in percent of the chart and what it shows.
struct Bar {
    /// The source code or the funnel step, for the row's id.
    key: String,
    label: String,
    /// 0–100, for the SVG.
    width: String,
    count: String,
    share: String,
    rate: String,
}

struct SpeedRow {
    owner: String,
    leads: String,
    contacted: String,
    median: String,
    within_hour: String,
}

struct TargetRow {
    name: String,
    metric: String,
    target: String,
    actual: String,
    attainment: String,
    width: String,
}

/// The figures of the range; absent when the range was refused.
struct Figures {
    total_leads: String,
    sources: Vec<Bar>,
    funnel: Vec<Bar>,
    speed: Vec<SpeedRow>,
    targets_month: String,
    targets: Vec<TargetRow>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    from: String,
    to: String,
    error: Option<String>,
    figures: Option<Figures>,
    /// `from=…&to=…` for the CSV links.
    range_query: String,
}

/// `12.5%`, or a dash without a base.
fn percent(t: &Texts, value: &Value) -> String {
    value
        .as_f64()
        .map_or_else(|| t.none.to_owned(), |v| format!("{v:.1}%"))
}

/// An SVG width (0–100) for `part` of `whole`.
fn width(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        return "0".into();
    }
    format!("{:.1}", (part * 100.0 / whole).clamp(0.0, 100.0))
}

fn count(value: &Value) -> String {
    thousands(value.as_i64().unwrap_or_default())
}

fn sources(t: &Texts, report: &Report) -> (String, Vec<Bar>) {
    let total = report.body["total"]["leads"].as_i64().unwrap_or_default();
    let items = report.body["items"].as_array().cloned().unwrap_or_default();
    let bars = items
        .iter()
        .map(|item| {
            let leads = item["leads"].as_i64().unwrap_or_default();
            let label = match item["key"].as_str() {
                Some(code) => t.source_label(code).to_owned(),
                None => t.none.to_owned(),
            };
            Bar {
                key: item["key"].as_str().unwrap_or("none").to_owned(),
                label,
                width: width(leads as f64, total as f64),
                count: thousands(leads),
                share: percent(t, &share(leads, total)),
                rate: percent(t, &item["conversion_pct"]),
            }
        })
        .collect();
    (thousands(total), bars)
}

/// `part / whole` in percent with one decimal, null when `whole` is 0.
fn share(part: i64, whole: i64) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        Value::from((part as f64 * 1000.0 / whole as f64).round() / 10.0)
    }
}

fn funnel(t: &Texts, report: &Report) -> Vec<Bar> {
    let items = report.body["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|item| {
            let step = text_of(&item["step"]);
            let label = if step == "won" {
                t.won.to_owned()
            } else {
                status_label(t, &step)
            };
            Bar {
                key: step,
                label,
                width: item["from_first_pct"]
                    .as_f64()
                    .map_or_else(|| "0".into(), |p| width(p, 100.0)),
                count: count(&item["count"]),
                share: percent(t, &item["from_first_pct"]),
                rate: percent(t, &item["from_previous_pct"]),
            }
        })
        .collect()
}

fn speed(t: &Texts, report: &Report) -> Vec<SpeedRow> {
    let items = report.body["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|item| SpeedRow {
            owner: item["owner"]
                .as_str()
                .map_or_else(|| t.none.to_owned(), str::to_owned),
            leads: count(&item["leads"]),
            contacted: count(&item["contacted"]),
            median: item["median_minutes"]
                .as_f64()
                .map_or_else(|| t.none.to_owned(), |m| format!("{m:.1}")),
            within_hour: percent(t, &item["within_hour_pct"]),
        })
        .collect()
}

fn targets(t: &Texts, report: &Report) -> Vec<TargetRow> {
    let items = report.body["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|item| {
            let metric = text_of(&item["metric"]);
            let figure = |v: &Value| {
                if metric == "won_amount" {
                    money(v)
                } else {
                    count(v)
                }
            };
            TargetRow {
                name: text_of(&item["name"]),
                metric: t.code(&format!("metric:{metric}")).to_owned(),
                target: figure(&item["target"]),
                actual: figure(&item["actual"]),
                attainment: percent(t, &item["attainment_pct"]),
                width: item["attainment_pct"]
                    .as_f64()
                    .map_or_else(|| "0".into(), |p| width(p, 100.0)),
            }
        })
        .collect()
}

/// `GET /dashboard?from=YYYY-MM-DD&to=YYYY-MM-DD`: a range that is not one is shown above the
/// form with a 422.
pub(super) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    RawQuery(query): RawQuery,
) -> Response {
    let chrome = Chrome::for_user(&user, "/dashboard");
    let t = chrome.t;
    let now = state.clock.now();
    let today = now.with_timezone(&display_offset()).date_naive();
    // Read leniently: other parameters are ignored and the last `from` and `to` count, so that
    // an odd address still shows the page.
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let given = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.trim())
    };
    let from = match given("from") {
        "" => (today - Duration::days(DEFAULT_DAYS - 1)).to_string(),
        given => given.to_owned(),
    };
    let to = match given("to") {
        "" => today.to_string(),
        given => given.to_owned(),
    };
    let range = vec![
        ("from".to_owned(), from.clone()),
        ("to".to_owned(), to.clone()),
    ];
    let range_query = serde_urlencoded::to_string(&range).unwrap_or_default();
    let (db, actor) = (&state.db, &user.actor);
    let loaded = async {
        let mut by_source = range.clone();
        by_source.push(("group_by".to_owned(), "source".to_owned()));
        let leads = reports::leads(db, actor, &by_source, now).await?;
        let funnel = reports::funnel(db, actor, &range, now).await?;
        let speed = reports::speed_to_lead(db, actor, &range, now).await?;
        let targets = reports::targets(db, actor, &[], now).await?;
        Ok::<_, StoreError>((leads, funnel, speed, targets))
    };
    let (figures, error, status) = match loaded.await {
        Ok((leads, funnel_report, speed_report, targets_report)) => {
            let (total_leads, source_bars) = sources(t, &leads);
            let figures = Figures {
                total_leads,
                sources: source_bars,
                funnel: funnel(t, &funnel_report),
                speed: speed(t, &speed_report),
                targets_month: text_of(&targets_report.body["month"]),
                targets: targets(t, &targets_report),
            };
            (Some(figures), None, StatusCode::OK)
        }
        Err(StoreError::Invalid(invalid)) => (
            None,
            Some(invalid_text(t, &invalid)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return store_error_page(chrome, e),
    };
    let page = DashboardPage {
        chrome,
        from,
        to,
        error,
        figures,
        range_query,
    };
    render(status, &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bars_are_shares_of_their_whole_and_never_overflow() {
        assert_eq!(width(1.0, 4.0), "25.0");
        assert_eq!(width(150.0, 100.0), "100.0");
        assert_eq!(width(3.0, 0.0), "0");
        assert_eq!(share(1, 3), json!(33.3));
        assert_eq!(share(1, 0), Value::Null);
    }
}
