//! The reports page (报表): one report at a time, chosen from tabs — leads by source, campaign,
//! owner, team, status or period with their conversion; the funnel; speed to lead in hours;
//! activity per rep; the sales cycle; cost per lead and acquisition cost per channel (admins);
//! the weighted forecast by month; KPI targets with attainment; RFM classes; and why deals were
//! lost and leads disqualified. Each is a bar chart of [`super::charts`] with the report's
//! table under it and the same table to download as CSV or XLSX, its columns named in the
//! user's language.
//!
//! The figures come from the use cases of `xiansuo_app::sales` (reports, the pipeline's
//! forecast, the customers' RFM) with the signed-in user as the actor, so the data scope is
//! theirs. Only one report is computed per page, so a page costs one report's queries.

use super::board::{money, yuan};
use super::charts::{count, largest, percent, Bar, PageQuery};
use super::dashboard;
use super::i18n::Texts;
use super::lead_form::usernames;
use super::lead_list::people_in_scope;
use super::leads::{invalid_text, source_label, status_label};
use super::page::{message_page, render, store_error_page, thousands, Choice, Chrome, Viewer};
use super::report_texts::{report_texts, ReportTexts};
use crate::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Months, NaiveDate};
use serde_json::{json, Value};
use xiansuo_app::data::export::Format as File;
use xiansuo_app::sales::customers::{self, RfmReport};
use xiansuo_app::sales::pipeline::{self, Forecast};
use xiansuo_app::sales::reports::{
    self, ActivityReport, ChannelReport, DisqualifyReasonsReport, FunnelReport, LeadsReport,
    LostReasonsReport, Report, SalesCycleReport, SpeedToLeadReport, TargetReport,
};
use xiansuo_app::StoreError;
use xiansuo_core::choice::Choices;
use xiansuo_core::clock::china_date;

/// The months after the range's last that the forecast shows.
const FORECAST_AHEAD: u32 = 5;
/// The accounts the RFM table lists.
const RFM_ACCOUNTS: &str = "20";

/// The reports the page shows, in the order of its tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Leads,
    Funnel,
    Speed,
    Activities,
    Cycle,
    Channels,
    Forecast,
    Targets,
    Rfm,
    Lost,
    Disqualified,
}

const KINDS: [Kind; 11] = [
    Kind::Leads,
    Kind::Funnel,
    Kind::Speed,
    Kind::Activities,
    Kind::Cycle,
    Kind::Channels,
    Kind::Forecast,
    Kind::Targets,
    Kind::Rfm,
    Kind::Lost,
    Kind::Disqualified,
];

impl Kind {
    fn code(self) -> &'static str {
        match self {
            Kind::Leads => "leads",
            Kind::Funnel => "funnel",
            Kind::Speed => "speed-to-lead",
            Kind::Activities => "activities",
            Kind::Cycle => "sales-cycle",
            Kind::Channels => "channels",
            Kind::Forecast => "forecast",
            Kind::Targets => "targets",
            Kind::Rfm => "rfm",
            Kind::Lost => "lost-reasons",
            Kind::Disqualified => "disqualify-reasons",
        }
    }

    fn title(self, t: &Texts, r: &ReportTexts) -> &'static str {
        match self {
            Kind::Leads => r.leads,
            Kind::Funnel => t.funnel_title,
            Kind::Speed => t.speed_title,
            Kind::Activities => t.activities_report,
            Kind::Cycle => t.sales_cycle_report,
            Kind::Channels => t.channels_report,
            Kind::Forecast => r.forecast,
            Kind::Targets => r.targets,
            Kind::Rfm => r.rfm,
            Kind::Lost => r.lost_reasons,
            Kind::Disqualified => r.disqualify_reasons,
        }
    }

    /// The reports a user may open: cost per channel is an admin's, as spend is a whole
    /// channel's.
    fn shown_to(self, user: &Viewer) -> bool {
        self != Kind::Channels || user.actor.is_admin()
    }

    /// The `group_by` choices of the report, the first the default.
    fn groupings(self) -> &'static [&'static str] {
        match self {
            Kind::Leads => &["source", "campaign", "owner", "team", "status", "period"],
            Kind::Cycle => &["owner", "source"],
            _ => &[],
        }
    }
}

const PERIODS: [&str; 3] = ["month", "week", "day"];

/// The page's address, read leniently: unknown parameters are ignored, the last of a name
/// counts, and an unknown report or grouping falls back to the first.
struct ReportQuery {
    kind: Kind,
    from: String,
    to: String,
    group_by: &'static str,
    period: &'static str,
    owner: String,
}

impl ReportQuery {
    fn parse(query: &PageQuery, user: &Viewer, today: NaiveDate) -> Self {
        let given = |name: &str| query.given(name);
        let kind = KINDS
            .into_iter()
            .find(|k| k.code() == given("report") && k.shown_to(user))
            .unwrap_or(Kind::Leads);
        let pick = |name: &str, choices: &[&'static str]| {
            choices
                .iter()
                .find(|c| **c == given(name))
                .or(choices.first())
                .copied()
                .unwrap_or_default()
        };
        let (from, to) = query.range(today);
        ReportQuery {
            kind,
            from,
            to,
            group_by: pick("group_by", kind.groupings()),
            period: pick("period", &PERIODS),
            owner: given("owner")
                .parse::<i64>()
                .map_or_else(|_| String::new(), |id| id.to_string()),
        }
    }

    /// The range as dates, or what is wrong with it.
    fn dates(&self, r: &ReportTexts) -> Result<(NaiveDate, NaiveDate), &'static str> {
        let date = |v: &str| NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| r.bad_date);
        let (from, to) = (date(&self.from)?, date(&self.to)?);
        if to < from {
            return Err(r.to_before_from);
        }
        Ok((from, to))
    }

    /// This page's address for `kind` (the same range; its own grouping's default).
    fn pairs(&self, kind: Kind) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("report", kind.code().to_owned()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
        ];
        if kind == self.kind {
            if !kind.groupings().is_empty() {
                pairs.push(("group_by", self.group_by.to_owned()));
            }
            if kind == Kind::Leads && self.group_by == "period" {
                pairs.push(("period", self.period.to_owned()));
            }
            if kind == Kind::Forecast && !self.owner.is_empty() {
                pairs.push(("owner", self.owner.clone()));
            }
        }
        pairs
    }

    fn query_string(&self, kind: Kind) -> String {
        serde_urlencoded::to_string(self.pairs(kind)).unwrap_or_default()
    }
}

/// The figures of the report the page shows, as its use case answers them.
enum Figures {
    Leads(LeadsReport),
    Funnel(FunnelReport),
    Speed(SpeedToLeadReport),
    Activities(ActivityReport),
    Cycle(SalesCycleReport),
    Channels(ChannelReport),
    Forecast(Forecast),
    Targets(TargetReport),
    Rfm(RfmReport),
    Lost(LostReasonsReport),
    Disqualified(DisqualifyReasonsReport),
}

/// Loads the report the query asks for from its use case: its figures and its table, whose
/// columns are named by code. The range must have been checked.
async fn load(
    state: &AppState,
    user: &Viewer,
    q: &ReportQuery,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Report<Figures>, StoreError> {
    let (db, actor, now) = (&state.db, &user.actor, state.clock.now());
    let mut range = vec![
        ("from".to_owned(), q.from.clone()),
        ("to".to_owned(), q.to.clone()),
    ];
    let month = |d: NaiveDate| d.format("%Y-%m").to_string();
    Ok(match q.kind {
        Kind::Leads => {
            range.push(("group_by".to_owned(), q.group_by.to_owned()));
            if q.group_by == "period" {
                range.push(("period".to_owned(), q.period.to_owned()));
            }
            reports::leads(db, actor, &range, now)
                .await?
                .map(Figures::Leads)
        }
        Kind::Funnel => reports::funnel(db, actor, &range, now)
            .await?
            .map(Figures::Funnel),
        Kind::Speed => {
            in_hours(reports::speed_to_lead(db, actor, &range, now).await?).map(Figures::Speed)
        }
        Kind::Activities => reports::activities(db, actor, &range, now)
            .await?
            .map(Figures::Activities),
        Kind::Cycle => {
            range.push(("group_by".to_owned(), q.group_by.to_owned()));
            reports::sales_cycle(db, actor, &range, now)
                .await?
                .map(Figures::Cycle)
        }
        Kind::Channels => reports::channels(db, actor, &range, now)
            .await?
            .map(Figures::Channels),
        Kind::Lost => reports::lost_reasons(db, actor, &range, now)
            .await?
            .map(Figures::Lost),
        Kind::Disqualified => reports::disqualify_reasons(db, actor, &range, now)
            .await?
            .map(Figures::Disqualified),
        Kind::Targets => {
            let params = [("month".to_owned(), month(to))];
            reports::targets(db, actor, &params, now)
                .await?
                .map(Figures::Targets)
        }
        Kind::Forecast => {
            let last = to.with_day(1).unwrap_or(to) + Months::new(FORECAST_AHEAD);
            let mut params = vec![
                ("from".to_owned(), month(from)),
                ("to".to_owned(), month(last)),
            ];
            if !q.owner.is_empty() {
                params.push(("owner_id".to_owned(), q.owner.clone()));
            }
            let forecast = pipeline::forecast(db, actor, &params, now).await?;
            let rows = forecast
                .items
                .iter()
                .map(|m| {
                    let f = &m.figures;
                    vec![
                        json!(m.month),
                        json!(f.open_count),
                        json!(f.open_amount),
                        json!(f.weighted_amount),
                        json!(f.won_count),
                        json!(f.won_amount),
                    ]
                })
                .collect();
            Report {
                body: Figures::Forecast(forecast),
                header: codes(&[
                    "month",
                    "open_count",
                    "open_amount",
                    "weighted_amount",
                    "won_count",
                    "won_amount",
                ]),
                rows,
            }
        }
        Kind::Rfm => {
            let params = [("limit".to_owned(), RFM_ACCOUNTS.to_owned())];
            let report = customers::report(db, actor, &params, now).await?;
            let rows = report
                .items
                .iter()
                .map(|a| {
                    vec![
                        json!(a.account_id),
                        json!(a.account_name),
                        json!(a.class),
                        json!(a.score),
                        json!(a.recency_days),
                        json!(a.frequency),
                        json!(a.monetary),
                    ]
                })
                .collect();
            Report {
                body: Figures::Rfm(report),
                header: codes(&[
                    "account_id",
                    "account_name",
                    "class",
                    "score",
                    "recency_days",
                    "frequency",
                    "monetary",
                ]),
                rows,
            }
        }
    })
}

/// The codes of a table's columns.
fn codes(columns: &[&str]) -> Vec<String> {
    columns.iter().map(|c| (*c).to_owned()).collect()
}

/// Minutes as hours with one decimal.
fn hours(minutes: f64) -> f64 {
    (minutes / 6.0).round() / 10.0
}

/// Speed to lead's table in hours rather than minutes; the chart reads the minutes of the
/// figures as hours itself.
fn in_hours<B>(mut report: Report<B>) -> Report<B> {
    for (i, code) in report.header.iter_mut().enumerate() {
        if let Some(which) = code.strip_suffix("_minutes") {
            *code = format!("{which}_hours");
            for row in &mut report.rows {
                row[i] = json!(row[i].as_f64().map(hours));
            }
        }
    }
    report
}

/// One cell of a report's table as the page shows it.
struct Cell {
    text: String,
    num: bool,
}

/// The report as the page shows it: a note, the chart, the table.
struct Section {
    note: String,
    bars: Vec<Bar>,
    /// The class of the bars' fill (`step`, `attained` or none).
    fill: &'static str,
    columns: Vec<Cell>,
    rows: Vec<Vec<Cell>>,
}

/// Columns that hold amounts of money in yuan.
const MONEY: [&str; 8] = [
    "amount",
    "won_amount",
    "spend",
    "cost_per_lead",
    "acquisition_cost",
    "open_amount",
    "weighted_amount",
    "monetary",
];

/// A value of the column `code` as a person reads it: labels for codes, amounts as money,
/// rates as percentages, counts with separators.
fn shown(
    t: &Texts,
    r: &ReportTexts,
    choices: &Choices,
    code: &str,
    value: &Value,
    row: &[(&str, &Value)],
) -> Cell {
    let num = value.is_number();
    let metric = row
        .iter()
        .find(|(c, _)| *c == "metric")
        .and_then(|(_, v)| v.as_str());
    let text = match (code, value) {
        ("reason", Value::Null) => r.no_reason.to_owned(),
        (_, Value::Null) => t.none.to_owned(),
        ("source", Value::String(s)) => source_label(t, choices, s),
        ("status", Value::String(s)) => status_label(t, choices, s),
        ("step", Value::String(s)) if s == "won" => t.won.to_owned(),
        ("step", Value::String(s)) => status_label(t, choices, s),
        ("metric", Value::String(s)) => t.code(&format!("metric:{s}")).to_owned(),
        ("subject", Value::String(s)) => r.column(s).to_owned(),
        ("target" | "actual", v) if metric == Some("won_amount") => money(v),
        (c, v) if MONEY.contains(&c) => money(v),
        (c, v) if c.ends_with("_pct") => percent(t, v.as_f64()),
        (_, Value::Number(n)) => match n.as_i64() {
            Some(i) => thousands(i),
            None => format!("{:.1}", n.as_f64().unwrap_or_default()),
        },
        (_, Value::String(s)) => s.clone(),
        (_, v) => v.to_string(),
    };
    Cell { text, num }
}

/// The report's table as shown: ids left out, and of a group's key and label only the one
/// people read (the name of an owner or team, the key otherwise, translated).
fn table(
    t: &Texts,
    r: &ReportTexts,
    choices: &Choices,
    q: &ReportQuery,
    report: &Report<Figures>,
) -> Section {
    let named = matches!(q.group_by, "owner" | "team");
    let keep: Vec<usize> = report
        .header
        .iter()
        .enumerate()
        .filter(|(i, code)| {
            let grouped = !q.kind.groupings().is_empty();
            !(code.ends_with("_id")
                || code.as_str() == "id"
                || (grouped && *i == 0 && named)
                || (grouped && code.as_str() == "label" && !named)
                // A reason's label replaces its stored code in the reason column.
                || (!grouped && code.as_str() == "label"))
        })
        .map(|(i, _)| i)
        .collect();
    let columns = keep
        .iter()
        .map(|&i| {
            let code = report.header[i].as_str();
            let label = if code == "label" {
                r.column(q.group_by)
            } else {
                r.column(code)
            };
            Cell {
                text: label.to_owned(),
                num: report.rows.first().is_some_and(|row| row[i].is_number()),
            }
        })
        .collect();
    let rows = report
        .rows
        .iter()
        .map(|row| {
            let named_row: Vec<(&str, &Value)> = report
                .header
                .iter()
                .map(String::as_str)
                .zip(row.iter())
                .collect();
            keep.iter()
                .map(|&i| {
                    // A group's key is read as what it groups by (a source, a status, …).
                    let code = match (i, report.header[i].as_str()) {
                        (0, _) if !q.kind.groupings().is_empty() => q.group_by,
                        (_, code) => code,
                    };
                    shown(t, r, choices, code, &row[i], &named_row)
                })
                .collect()
        })
        .collect();
    Section {
        note: String::new(),
        bars: Vec::new(),
        fill: "",
        columns,
        rows,
    }
}

/// A reason as the chart shows it.
fn reason_label(r: &ReportTexts, label: Option<&str>) -> String {
    label.map_or_else(|| r.no_reason.to_owned(), str::to_owned)
}

/// A group's key or name as the chart shows it: a source or status by its label, an id or
/// other text as it is, none as such.
fn group_label(t: &Texts, choices: &Choices, group_by: &str, label: Option<&str>) -> String {
    match (group_by, label) {
        (_, None) => t.none.to_owned(),
        ("source", Some(s)) => source_label(t, choices, s),
        ("status", Some(s)) => status_label(t, choices, s),
        (_, Some(s)) => s.to_owned(),
    }
}

/// One reason of a reason report as the chart draws it: its label, count, share and, for
/// deals, amount.
struct ReasonBar<'a> {
    label: Option<&'a str>,
    count: i64,
    share_pct: Option<f64>,
    amount: Option<f64>,
}

/// The bars of a reason report: one per listed reason, then the others together.
fn reason_bars(
    t: &Texts,
    r: &ReportTexts,
    reasons: &[ReasonBar<'_>],
    other: i64,
    total: i64,
) -> Vec<Bar> {
    let bar = |i: usize, label: String, part: f64, value: String| {
        Bar::new(format!("bar-{i}"), label, part, total as f64, value)
    };
    let mut bars: Vec<Bar> = reasons
        .iter()
        .enumerate()
        .map(|(i, reason)| {
            let mut b = bar(
                i,
                reason_label(r, reason.label),
                reason.count as f64,
                count(reason.count),
            )
            .note(format!("{} {}", t.share, percent(t, reason.share_pct)));
            if let Some(amount) = reason.amount {
                b = b.rate(yuan(amount));
            }
            b
        })
        .collect();
    if other > 0 {
        bars.push(Bar::new(
            "bar-other".into(),
            r.other_reasons.to_owned(),
            other as f64,
            total as f64,
            thousands(other),
        ));
    }
    bars
}

/// The chart and note of the report.
fn chart(
    t: &Texts,
    r: &ReportTexts,
    choices: &Choices,
    q: &ReportQuery,
    report: &Report<Figures>,
    section: &mut Section,
) {
    let bar = |i: usize, label: String, part: f64, whole: f64, value: String| {
        Bar::new(format!("bar-{i}"), label, part, whole, value)
    };
    let label = |text: Option<&str>| group_label(t, choices, q.group_by, text);
    match &report.body {
        Figures::Leads(body) => {
            section.note = format!(
                "{} {} · {} {}",
                t.total_leads,
                count(body.total.leads),
                t.conversion_rate,
                percent(t, body.total.conversion_pct)
            );
            let whole = largest(body.items.iter().map(|i| i.leads as f64));
            section.bars = body
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    bar(
                        i,
                        label(item.label.as_deref()),
                        item.leads as f64,
                        whole,
                        count(item.leads),
                    )
                    .note(t.conversion_rate.to_owned())
                    .rate(percent(t, item.conversion_pct))
                })
                .collect();
        }
        Figures::Funnel(body) => {
            section.fill = "step";
            section.bars = dashboard::funnel(t, choices, body);
        }
        Figures::Speed(body) => {
            let median = |minutes: Option<f64>| minutes.map(hours);
            let whole = largest(
                body.items
                    .iter()
                    .map(|i| median(i.median_minutes).unwrap_or_default()),
            );
            section.bars = body
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let median_hours = median(item.median_minutes);
                    let value = median_hours
                        .map_or_else(|| t.none.to_owned(), |h| format!("{h:.1} {}", r.hours));
                    bar(
                        i,
                        label(item.owner.as_deref()),
                        median_hours.unwrap_or_default(),
                        whole,
                        value,
                    )
                    .note(format!("{} · {}", r.median, t.within_hour))
                    .rate(percent(t, item.within_hour_pct))
                })
                .collect();
        }
        Figures::Activities(body) => {
            let whole = largest(body.items.iter().map(|i| i.total as f64));
            section.bars = body
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    bar(
                        i,
                        label(item.user.as_deref()),
                        item.total as f64,
                        whole,
                        count(item.total),
                    )
                    .note(r.activities_total.to_owned())
                })
                .collect();
        }
        Figures::Cycle(body) => {
            let whole = largest(body.items.iter().map(|i| i.median_days.unwrap_or_default()));
            section.bars = body
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let value = item
                        .median_days
                        .map_or_else(|| t.none.to_owned(), |d| format!("{d:.1} {}", r.days));
                    bar(
                        i,
                        label(item.label.as_deref()),
                        item.median_days.unwrap_or_default(),
                        whole,
                        value,
                    )
                    .note(format!(
                        "{} · {} {}",
                        r.median,
                        r.column("won"),
                        count(item.won)
                    ))
                })
                .collect();
        }
        Figures::Channels(body) => {
            section.note = format!(
                "{} {} · {} {}",
                r.column("spend"),
                yuan(body.total.spend),
                r.cost_per_lead,
                body.total.cost_per_lead.map(yuan).unwrap_or_default()
            );
            let whole = largest(
                body.items
                    .iter()
                    .map(|i| i.cost_per_lead.unwrap_or_default()),
            );
            section.bars = body
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    bar(
                        i,
                        source_label(t, choices, &item.source),
                        item.cost_per_lead.unwrap_or_default(),
                        whole,
                        item.cost_per_lead.map(yuan).unwrap_or_default(),
                    )
                    .note(format!(
                        "{} · {} {}",
                        r.cost_per_lead,
                        r.column("leads"),
                        count(item.leads)
                    ))
                })
                .collect();
        }
        Figures::Forecast(body) => {
            section.note = format!(
                "{} {} – {} · {} {}",
                r.forecast_months,
                body.from,
                body.to,
                r.weighted,
                yuan(body.total.weighted_amount)
            );
            let whole = largest(body.items.iter().map(|m| m.figures.weighted_amount));
            section.bars = body
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    bar(
                        i,
                        item.month.clone(),
                        item.figures.weighted_amount,
                        whole,
                        yuan(item.figures.weighted_amount),
                    )
                    .note(format!(
                        "{} · {} {}",
                        r.weighted,
                        r.won_in_month,
                        yuan(item.figures.won_amount)
                    ))
                })
                .collect();
        }
        Figures::Targets(body) => {
            section.fill = "attained";
            section.note = format!("{} {}", r.targets_month, body.month);
            section.bars = dashboard::targets(t, body);
        }
        Figures::Rfm(body) => {
            section.note = format!("{} {}", r.rfm_note, r.top_accounts);
            let counts = [
                ("A", body.counts.a),
                ("B", body.counts.b),
                ("C", body.counts.c),
            ];
            let whole = largest(counts.map(|(_, n)| n as f64));
            section.bars = counts
                .into_iter()
                .map(|(class, n)| {
                    Bar::new(
                        format!("class-{class}"),
                        format!("{} {class}", r.class),
                        n as f64,
                        whole,
                        count(n),
                    )
                })
                .collect();
        }
        Figures::Lost(body) => {
            section.note = format!("{} {}", r.total, thousands(body.total));
            let reasons: Vec<ReasonBar<'_>> = body
                .items
                .iter()
                .map(|i| ReasonBar {
                    label: i.label.as_deref(),
                    count: i.count,
                    share_pct: i.share_pct,
                    amount: Some(i.amount),
                })
                .collect();
            section.bars = reason_bars(t, r, &reasons, body.other, body.total);
        }
        Figures::Disqualified(body) => {
            section.note = format!("{} {}", r.total, thousands(body.total));
            let reasons: Vec<ReasonBar<'_>> = body
                .items
                .iter()
                .map(|i| ReasonBar {
                    label: i.label.as_deref(),
                    count: i.count,
                    share_pct: i.share_pct,
                    amount: None,
                })
                .collect();
            section.bars = reason_bars(t, r, &reasons, body.other, body.total);
        }
    }
}

/// A tab of the page.
struct Tab {
    title: &'static str,
    url: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    r: &'static ReportTexts,
    tabs: Vec<Tab>,
    report: &'static str,
    title: &'static str,
    from: String,
    to: String,
    groupings: Vec<Choice>,
    periods: Vec<Choice>,
    owners: Vec<Choice>,
    error: Option<String>,
    section: Option<Section>,
    /// This report's address without a format, for the downloads.
    download: String,
}

/// `GET /reports?report=&from=&to=&group_by=&period=&owner=`: a range that is not one is
/// shown above the form with a 422.
pub(super) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    RawQuery(query): RawQuery,
) -> Response {
    // Reports count China days, as their use cases do.
    let today = china_date(state.clock.now());
    let q = ReportQuery::parse(&PageQuery::parse(query.as_deref()), &user, today);
    let chrome = Chrome::for_user(&user, format!("/reports?{}", q.query_string(q.kind)));
    let t = chrome.t;
    let r = report_texts(t.lang);
    let loaded = match q.dates(r) {
        Err(message) => Err(message.to_owned()),
        Ok(dates) => match load(&state, &user, &q, dates).await {
            Ok(report) => Ok(report),
            Err(StoreError::Invalid(invalid)) => Err(invalid_text(t, &invalid)),
            Err(e) => return store_error_page(chrome, e),
        },
    };
    let owners = if q.kind == Kind::Forecast {
        match owner_choices(&state, &user, r, &q).await {
            Ok(owners) => owners,
            Err(e) => return store_error_page(chrome, e),
        }
    } else {
        Vec::new()
    };
    let (section, error, status) = match loaded {
        Ok(report) => {
            let mut section = table(t, r, &user.choices, &q, &report);
            chart(t, r, &user.choices, &q, &report, &mut section);
            (Some(section), None, StatusCode::OK)
        }
        Err(message) => (None, Some(message), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let page = ReportsPage {
        tabs: KINDS
            .into_iter()
            .filter(|k| k.shown_to(&user))
            .map(|k| Tab {
                title: k.title(t, r),
                url: format!("/reports?{}", q.query_string(k)),
                current: k == q.kind,
            })
            .collect(),
        report: q.kind.code(),
        title: q.kind.title(t, r),
        from: q.from.clone(),
        to: q.to.clone(),
        groupings: q
            .kind
            .groupings()
            .iter()
            .map(|g| Choice::new(*g, r.column(g), q.group_by))
            .collect(),
        periods: if q.kind == Kind::Leads && q.group_by == "period" {
            [
                (PERIODS[0], r.month),
                (PERIODS[1], r.week),
                (PERIODS[2], r.day),
            ]
            .map(|(code, label)| Choice::new(code, label, q.period))
            .into()
        } else {
            Vec::new()
        },
        owners,
        error,
        section,
        download: format!("/reports/download?{}", q.query_string(q.kind)),
        r,
        chrome,
    };
    render(status, &page)
}

/// The forecast's owner filter: everyone, then the people whose deals the user may see; none
/// for a user who sees only their own.
async fn owner_choices(
    state: &AppState,
    user: &Viewer,
    r: &ReportTexts,
    q: &ReportQuery,
) -> Result<Vec<Choice>, StoreError> {
    if user
        .actor
        .visible_owners
        .as_ref()
        .is_some_and(|ids| ids.len() < 2)
    {
        return Ok(Vec::new());
    }
    let names = usernames(state).await?;
    Ok(std::iter::once(Choice::new("", r.everyone, &q.owner))
        .chain(
            people_in_scope(user, &names)
                .into_iter()
                .map(|(id, name)| Choice::new(id.to_string(), name, &q.owner)),
        )
        .collect())
}

/// `GET /reports/download?report=&format=csv|xlsx&…`: the report's table as a file, its
/// columns named in the user's language.
pub(super) async fn download(
    State(state): State<AppState>,
    user: Viewer,
    RawQuery(query): RawQuery,
) -> Response {
    let now = state.clock.now();
    let today = china_date(now);
    let pairs = PageQuery::parse(query.as_deref());
    let q = ReportQuery::parse(&pairs, &user, today);
    let chrome = Chrome::for_user(&user, "/reports");
    let t = chrome.t;
    let r = report_texts(t.lang);
    let format = File::parse(pairs.given("format")).unwrap_or(File::Csv);
    let dates = match q.dates(r) {
        Ok(dates) => dates,
        Err(message) => {
            return message_page(
                chrome,
                StatusCode::UNPROCESSABLE_ENTITY,
                t.error_title,
                message,
            )
        }
    };
    let mut report = match load(&state, &user, &q, dates).await {
        Ok(report) => report,
        Err(e) => return store_error_page(chrome, e),
    };
    report.header = report
        .header
        .iter()
        .map(|code| match code.as_str() {
            "label" if !q.kind.groupings().is_empty() => r.column("label").to_owned(),
            code => r.column(code).to_owned(),
        })
        .collect();
    let bytes = match format {
        File::Csv => report.csv(),
        File::Xlsx => report.xlsx(q.kind.code()),
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(e) => return store_error_page(chrome, e),
    };
    let filename = format!(
        "{}-{}.{}",
        q.kind.code(),
        today.format("%Y%m%d"),
        format.code()
    );
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_to_lead_is_turned_into_hours() {
        let report = in_hours(Report {
            body: (),
            header: vec![
                "owner".into(),
                "median_minutes".into(),
                "average_minutes".into(),
            ],
            rows: vec![vec![json!("李娜"), json!(90.0), Value::Null]],
        });
        assert_eq!(report.header, ["owner", "median_hours", "average_hours"]);
        assert_eq!(report.rows[0][1], json!(1.5));
        assert_eq!(report.rows[0][2], Value::Null);
        assert_eq!(hours(90.0), 1.5);
    }
}
