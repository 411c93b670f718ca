//! The dashboard (仪表盘): for a date range (the last 30 days by default), the user's leads by
//! source with their conversion, the funnel from new lead to won deal, speed to lead per owner,
//! and this month's KPI targets with their attainment, each with a link to the same report as a
//! CSV file from the API. The figures are the reports of `xiansuo_app::sales::reports`, which count only
//! the records in the user's data scope. Bars are those of [`super::charts`].

use super::board::yuan;
use super::charts::{count, percent, share, Bar, PageQuery};
use super::i18n::Texts;
use super::leads::{invalid_text, source_label, status_label};
use super::page::{render, store_error_page, thousands, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use xiansuo_app::sales::reports::{
    self, Figure, FunnelReport, GroupKey, LeadsReport, SpeedToLeadReport, TargetReport,
};
use xiansuo_app::StoreError;
use xiansuo_core::choice::Choices;
use xiansuo_core::clock::china_date;

struct SpeedRow {
    owner: String,
    leads: String,
    contacted: String,
    median: String,
    within_hour: String,
}

/// The figures of the range; absent when the range was refused.
struct Figures {
    total_leads: String,
    sources: Vec<Bar>,
    funnel: Vec<Bar>,
    speed: Vec<SpeedRow>,
    targets_month: String,
    targets: Vec<Bar>,
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

fn sources(t: &Texts, choices: &Choices, report: &LeadsReport) -> (String, Vec<Bar>) {
    let total = report.total.leads;
    let bars = report
        .items
        .iter()
        .map(|item| {
            let code = match &item.key {
                Some(GroupKey::Code(code)) => Some(code.as_str()),
                _ => None,
            };
            let label = match code {
                Some(code) => source_label(t, choices, code),
                None => t.none.to_owned(),
            };
            Bar::new(
                format!("source-{}", code.unwrap_or("none")),
                label,
                item.leads as f64,
                total as f64,
                thousands(item.leads),
            )
            .note(format!(
                "{} {} · {}",
                t.share,
                percent(t, share(item.leads, total)),
                t.conversion_rate
            ))
            .rate(percent(t, item.conversion_pct))
        })
        .collect();
    (thousands(total), bars)
}

/// The funnel's steps as bars of their share of new leads.
pub(super) fn funnel(t: &Texts, choices: &Choices, report: &FunnelReport) -> Vec<Bar> {
    report
        .items
        .iter()
        .map(|item| {
            let step = item.step.as_str();
            let label = if step == "won" {
                t.won.to_owned()
            } else {
                status_label(t, choices, step)
            };
            Bar::new(
                format!("step-{step}"),
                label,
                item.from_first_pct.unwrap_or_default(),
                100.0,
                count(item.count),
            )
            .note(format!(
                "{} {} · {}",
                t.of_first,
                percent(t, item.from_first_pct),
                t.step_rate
            ))
            .rate(percent(t, item.from_previous_pct))
        })
        .collect()
}

fn speed(t: &Texts, report: &SpeedToLeadReport) -> Vec<SpeedRow> {
    report
        .items
        .iter()
        .map(|item| SpeedRow {
            owner: item.owner.clone().unwrap_or_else(|| t.none.to_owned()),
            leads: count(item.leads),
            contacted: count(item.contacted),
            median: item
                .median_minutes
                .map_or_else(|| t.none.to_owned(), |m| format!("{m:.1}")),
            within_hour: percent(t, item.within_hour_pct),
        })
        .collect()
}

/// This month's targets as bars of their attainment.
pub(super) fn targets(t: &Texts, report: &TargetReport) -> Vec<Bar> {
    report
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let metric = item.metric.as_str();
            let figure = |v: Figure| match v {
                Figure::Amount(amount) => yuan(amount),
                Figure::Count(n) => count(n),
            };
            Bar::new(
                format!("target-{i}"),
                format!(
                    "{} · {}",
                    item.name.as_deref().unwrap_or_default(),
                    t.code(&format!("metric:{metric}"))
                ),
                item.attainment_pct.unwrap_or_default(),
                100.0,
                percent(t, item.attainment_pct),
            )
            .value_class("attainment")
            .note(format!(
                "{} · {} {} / {} {}",
                t.attainment,
                t.actual,
                figure(item.actual),
                t.target,
                figure(item.target)
            ))
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
    // Reports count China days, as their use cases do.
    let today = china_date(now);
    let (from, to) = PageQuery::parse(query.as_deref()).range(today);
    let range = vec![
        ("from".to_owned(), from.clone()),
        ("to".to_owned(), to.clone()),
    ];
    let range_query = serde_urlencoded::to_string(&range).unwrap_or_default();
    let (db, actor) = (&state.db, &user.actor);
    let mut by_source = range.clone();
    by_source.push(("group_by".to_owned(), "source".to_owned()));
    // Four reports over the same leads, read side by side on the pool's read connections.
    let loaded = tokio::try_join!(
        reports::leads(db, actor, &by_source, now),
        reports::funnel(db, actor, &range, now),
        reports::speed_to_lead(db, actor, &range, now),
        reports::targets(db, actor, &[], now),
    );
    let (figures, error, status) = match loaded {
        Ok((leads, funnel_report, speed_report, targets_report)) => {
            let (total_leads, source_bars) = sources(t, &user.choices, &leads.body);
            let figures = Figures {
                total_leads,
                sources: source_bars,
                funnel: funnel(t, &user.choices, &funnel_report.body),
                speed: speed(t, &speed_report.body),
                targets: targets(t, &targets_report.body),
                targets_month: targets_report.body.month,
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
