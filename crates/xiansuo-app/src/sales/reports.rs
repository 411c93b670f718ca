//! Analytics reports (分析报表): leads by source, campaign, owner, team, status or period with
//! their conversion; the funnel from new lead to won deal; speed to lead; follow-up activity per
//! rep; the sales cycle; cost per lead and customer acquisition cost per channel; and monthly KPI
//! targets per rep and team with their attainment; and why deals were lost and leads
//! disqualified.
//!
//! Every report covers a time range (`from`, `to`; the last 30 days by default) and counts only
//! the records in the actor's data scope. Each is one or a few aggregate queries over indexed
//! columns (medians included, with window functions, so that no row leaves the database). Days,
//! weeks and months are those of China Standard Time, as in the pipeline forecast.
//!
//! Leads by group, the funnel, speed to lead, activities, channels and the targets of leads and
//! activities read per-day summaries ([`summaries`], migration 0035) when their range is whole
//! days, as the default range and ranges given as dates are: what they cost follows the days
//! and keys of the range, not its leads. A summary is read with the changes not yet folded
//! into it, so it is exact at every moment; a range that starts or ends inside a day reads the
//! records themselves ([`Tally`]), and so does the check of the summaries.
//!
//! A report is a [`Report`]: its typed body, which the API answers as JSON and documents
//! (`{"from": …, "to": …, "items": [...], ...}`), and the same figures as table rows, which
//! [`Report::csv`] and [`Report::xlsx`] write as files for spreadsheet programs. Channel spend
//! ([`ChannelCost`]) and targets ([`Target`]) are recorded from typed requests
//! ([`NewChannelCost`], [`NewTarget`]) read after the caller is checked.

use crate::admin::audit;
use crate::error::{StoreError, StoreResult};
use crate::records::choices;
use crate::records::{self, rfc3339, Ctx};
use crate::sales::summaries::{activity_days, LeadDays};
use crate::scope::{team_tree, users_in_teams, Actor};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use utoipa::openapi::schema::{SchemaType, Type};
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::choice::{ChoiceKind, Choices};
use xiansuo_core::clock::{china_date, china_midnight, to_millis, CHINA_OFFSET_MS};
use xiansuo_core::lead::{LeadStatus, BUILTIN_SOURCES};
use xiansuo_core::role::{subtree, Role};
use xiansuo_core::validation::Unread;
use xiansuo_core::{schema, Invalid, Text};
use xiansuo_store::{Db, Dialect, Param, Period, Row};

const HOUR_MS: i64 = 3600 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// The days a report covers when `from` is not given.
const DEFAULT_DAYS: u64 = 30;

/// A report: its body `B` (what the API answers as JSON) and the same figures as a table for
/// CSV and XLSX, one cell per column of `header`.
#[derive(Debug)]
pub struct Report<B> {
    pub body: B,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl<B> Report<B> {
    /// The same report with its body turned into another.
    pub fn map<C>(self, f: impl FnOnce(B) -> C) -> Report<C> {
        Report {
            body: f(self.body),
            header: self.header,
            rows: self.rows,
        }
    }

    /// The rows as a CSV file: UTF-8 with a byte order mark, a header row, and text that a
    /// spreadsheet would run as a formula neutralised with a leading `'`.
    pub fn csv(&self) -> StoreResult<Vec<u8>> {
        let mut w = csv::Writer::from_writer(crate::data::export::BOM.to_vec());
        w.write_record(&self.header)
            .map_err(|e| StoreError::Internal(e.into()))?;
        for row in &self.rows {
            w.write_record(row.iter().map(csv_cell))
                .map_err(|e| StoreError::Internal(e.into()))?;
        }
        w.into_inner()
            .map_err(|e| StoreError::Internal(anyhow::anyhow!("writing CSV: {e}")))
    }

    /// The rows as an XLSX workbook of one sheet: a bold header row, numbers as numbers and
    /// text as strings, never formulas, whatever it starts with.
    pub fn xlsx(&self, sheet_name: &str) -> StoreResult<Vec<u8>> {
        use rust_xlsxwriter::{Format, Workbook};
        let xlsx = |e: rust_xlsxwriter::XlsxError| StoreError::Internal(e.into());
        let bold = Format::new().set_bold();
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.set_name(sheet_name).map_err(xlsx)?;
        for (col, title) in self.header.iter().enumerate() {
            sheet
                .write_string_with_format(0, col as u16, title, &bold)
                .map_err(xlsx)?;
        }
        for (row, cells) in self.rows.iter().enumerate() {
            let row = row as u32 + 1;
            for (col, value) in cells.iter().enumerate() {
                let col = col as u16;
                match value {
                    Value::Null => continue,
                    Value::Number(n) => sheet.write_number(row, col, n.as_f64().unwrap_or(0.0)),
                    Value::String(s) => sheet.write_string(row, col, s),
                    other => sheet.write_string(row, col, other.to_string()),
                }
                .map_err(xlsx)?;
            }
        }
        workbook.save_to_buffer().map_err(xlsx)
    }
}

xiansuo_core::shape! {
    /// The table of a report as CSV with a byte order mark, for a document's `text/csv` answer
    /// (`inline(CsvTable)`).
    pub CsvTable => schema::string(
        false,
        "With `format=csv`: the same figures as a table, UTF-8 with a byte order mark and a \
         header row; formula-like text neutralised with a leading `'`",
    )
}

xiansuo_core::shape! {
    /// The table of a report as a workbook, for a document's XLSX answer (`inline(XlsxTable)`).
    pub XlsxTable => schema::string(
        false,
        "With `format=xlsx`: the same table as a workbook of one sheet, numbers as numbers \
         and text as strings, never formulas",
    )
}

fn csv_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => crate::data::export::neutralise(s).into_owned(),
        other => other.to_string(),
    }
}

/// Where a report reads its counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// The per-day summaries when the range is whole China days, otherwise the records.
    Summaries,
    /// The records of the range, each of them: the reference the summaries must equal.
    Records,
}

/// The time range of a report: `[from, to)` in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: i64,
    pub to: i64,
}

impl Range {
    /// The range of `from` and `to` (dates in China time or RFC 3339 instants; `to` included):
    /// by default the last 30 days, today included.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: DateTime<Utc>) -> StoreResult<Range> {
        let to = match to {
            Some(v) => xiansuo_core::clock::parse_bound("to", v, true)?,
            None => china_midnight(china_date(now)) + DAY_MS,
        };
        let from = match from {
            Some(v) => xiansuo_core::clock::parse_bound("from", v, false)?,
            None => to - DEFAULT_DAYS as i64 * DAY_MS,
        };
        if to <= from {
            return Err(Invalid::new("to", "must be after from").into());
        }
        Ok(Range { from, to })
    }

    fn params(&self) -> [Param; 2] {
        [Param::Int(self.from), Param::Int(self.to)]
    }

    /// True when both ends are China midnights: the range is whole days of the summaries.
    fn whole_days(&self) -> bool {
        [self.from, self.to]
            .iter()
            .all(|t| (t + CHINA_OFFSET_MS).rem_euclid(DAY_MS) == 0)
    }

    /// True when a report asked to read `tally` reads the summaries for this range.
    fn summarised(&self, tally: Tally) -> bool {
        tally == Tally::Summaries && self.whole_days()
    }

    /// The ends as a report shows them: `from` and `to` (excluded) in RFC 3339.
    fn ends(self) -> (String, String) {
        (rfc3339(self.from), rfc3339(self.to))
    }
}

/// The query parameters of a report: the range and the report's own, any other refused.
struct Params<'a> {
    range: Range,
    values: HashMap<&'a str, &'a str>,
}

impl<'a> Params<'a> {
    fn parse(
        report: &str,
        params: &'a [(String, String)],
        accepted: &[&str],
        now: DateTime<Utc>,
    ) -> StoreResult<Self> {
        let mut values = HashMap::new();
        for (name, value) in params {
            if name != "from" && name != "to" && !accepted.contains(&name.as_str()) {
                let mut all = vec!["from", "to", "format"];
                all.extend(accepted);
                return Err(Invalid::new(
                    name.as_str(),
                    format!(
                        "is not a parameter of the {report} report (accepted: {})",
                        all.join(", ")
                    ),
                )
                .into());
            }
            values.insert(name.as_str(), value.as_str());
        }
        let range = Range::parse(values.get("from").copied(), values.get("to").copied(), now)?;
        Ok(Params { range, values })
    }

    /// A parameter that takes one of `choices`, the first by default.
    fn choice(&self, name: &str, choices: &[&'static str]) -> StoreResult<&'static str> {
        match self.values.get(name) {
            None => Ok(choices[0]),
            Some(v) => choices
                .iter()
                .find(|c| **c == v.trim())
                .copied()
                .ok_or_else(|| {
                    Invalid::new(
                        name,
                        format!("'{v}' is not accepted (accepted: {})", choices.join(", ")),
                    )
                    .into()
                }),
        }
    }
}

/// `part / whole` as a percentage with one decimal, or `None` (null) when `whole` is 0.
fn pct(part: i64, whole: i64) -> Option<f64> {
    (whole != 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// Milliseconds as minutes (or days) with one decimal.
fn in_units(ms: f64, unit_ms: i64) -> f64 {
    (ms * 10.0 / unit_ms as f64).round() / 10.0
}

/// Cents as the reports show money: yuan.
fn yuan(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// The key of a group of a report: the id of an owner or a team, or a code or text (a source,
/// a campaign, a status, a period). Null (`None`) for the group of records without one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum GroupKey {
    Id(i64),
    Code(String),
}

impl GroupKey {
    /// The key `k` of a row: an id when the report groups by `ids`, else text.
    fn of(row: &Row, ids: bool) -> Option<GroupKey> {
        if ids {
            row.opt_int("k").map(GroupKey::Id)
        } else {
            row.opt_text("k").map(GroupKey::Code)
        }
    }
}

/// A target or its actual: a count, or for `won_amount` an amount of money in yuan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Figure {
    Count(i64),
    Amount(f64),
}

impl Figure {
    /// `value` of `metric`: cents for `won_amount`, a count otherwise.
    fn of(metric: &str, value: i64) -> Figure {
        if metric == "won_amount" {
            Figure::Amount(yuan(value))
        } else {
            Figure::Count(value)
        }
    }
}

// The shapes of the reports' fields for the OpenAPI document.

/// A month as the reports take and show it.
const MONTH: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";

fn month_schema() -> ObjectBuilder {
    schema::string(false, "YYYY-MM").pattern(Some(MONTH))
}

fn range_from_schema() -> ObjectBuilder {
    schema::date_time(false, "Start of the range (included)")
}

fn range_to_schema() -> ObjectBuilder {
    schema::date_time(false, "End of the range (excluded)")
}

/// A group's key: an id, a code or text, or null.
fn key_schema(doc: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::Integer,
            Type::String,
            Type::Null,
        ]))
        .description(Some(doc))
}

fn metric_schema(doc: &str) -> ObjectBuilder {
    schema::codes(METRICS, false, doc)
}

xiansuo_core::shape! {
    /// A report's `?format=`, for the document of the handlers that take it
    /// (`inline(Option<FormatCode>)`).
    pub FormatCode => schema::codes(["json", "csv", "xlsx"], false, "The format")
}

xiansuo_core::shape! {
    /// The groupings of leads by group, for the document of its `?group_by=`
    /// (`inline(Option<LeadsGrouping>)`).
    pub LeadsGrouping => schema::codes(LEADS_GROUPINGS, false, "A grouping")
}

xiansuo_core::shape! {
    /// The periods leads by period are counted in, for the document of its `?period=`
    /// (`inline(Option<PeriodCode>)`).
    pub PeriodCode => schema::codes(PERIODS, false, "A period")
}

xiansuo_core::shape! {
    /// The groupings of the sales cycle, for the document of its `?group_by=`
    /// (`inline(Option<CycleGrouping>)`).
    pub CycleGrouping => schema::codes(CYCLE_GROUPINGS, false, "A grouping")
}

xiansuo_core::shape! {
    /// What a target measures, for the document of `?metric=` (`inline(Option<MetricCode>)`).
    pub MetricCode => metric_schema("The metric")
}

/// The display names (else usernames) of users.
async fn user_names(
    db: &Db,
    ids: impl IntoIterator<Item = i64>,
) -> anyhow::Result<HashMap<i64, String>> {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    Ok(db
        .fetch_all(
            &format!(
                "SELECT id, COALESCE(display_name, username) AS name FROM users WHERE id IN ({})",
                list.join(",")
            ),
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.int("id"), r.text("name")))
        .collect())
}

/// The label of the period (day, week, month; China time) an instant column falls in.
pub(crate) fn period_sql(dialect: Dialect, column: &str, period: &str) -> String {
    let period = match period {
        "day" => Period::Day,
        "week" => Period::Week,
        _ => Period::Month,
    };
    dialect.period(column, CHINA_OFFSET_MS, period)
}

/// Per `k`, over the rows of `values` (a query with columns `k`, `v` and any the `extra`
/// aggregates use), in one statement: `n` rows, `counted` non-null `v`, their `total`, and the
/// one or two middle values of `v` (`mid_total` over `mid_n`) for the median, found with a
/// window function so that no row leaves the database. `values` is materialised once (it may
/// hold a correlated subquery) and only the non-null values are sorted.
async fn summary(db: &Db, values: &str, extra: &str, params: &[Param]) -> anyhow::Result<Vec<Row>> {
    let same = db.dialect().same_as();
    db.fetch_all(
        &format!(
            "WITH d AS MATERIALIZED ({values}), \
             m AS (SELECT k, v, ROW_NUMBER() OVER w AS rn, \
                   COUNT(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS nv \
                   FROM d WHERE v IS NOT NULL WINDOW w AS (PARTITION BY k ORDER BY v)), \
             mid AS (SELECT k, SUM(v) AS mid_total, COUNT(*) AS mid_n FROM m \
                     WHERE rn = (nv + 1) / 2 OR rn = (nv + 2) / 2 GROUP BY k) \
             SELECT d.k AS k, COUNT(*) AS n, COUNT(v) AS counted, CAST(SUM(v) AS BIGINT) AS total, \
             CAST(MAX(mid.mid_total) AS BIGINT) AS mid_total, \
             CAST(MAX(mid.mid_n) AS BIGINT) AS mid_n{extra} \
             FROM d LEFT JOIN mid ON mid.k {same} d.k GROUP BY d.k ORDER BY counted DESC, d.k"
        ),
        params,
    )
    .await
}

/// The median of a [`summary`] row in `unit_ms`, `None` (null) without values.
fn median_of(row: &Row, unit_ms: i64) -> Option<f64> {
    match row.int("mid_n") {
        0 => None,
        n => Some(in_units(row.int("mid_total") as f64 / n as f64, unit_ms)),
    }
}

/// The average of a [`summary`] row in `unit_ms`, `None` (null) without values.
fn average_of(row: &Row, unit_ms: i64) -> Option<f64> {
    match row.int("counted") {
        0 => None,
        n => Some(in_units(row.int("total") as f64 / n as f64, unit_ms)),
    }
}

const CONVERTED: &str = "converted";

// ---------------------------------------------------------------------------------------------
// 1. Leads by source, campaign, owner, team, status or period.

/// What leads by group groups by, the first the default.
const LEADS_GROUPINGS: [&str; 6] = ["source", "campaign", "owner", "team", "status", "period"];
/// The periods of leads by period, the first the default.
const PERIODS: [&str; 3] = ["day", "week", "month"];

/// Leads by group.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = LeadsReport, description = "Leads by group")]
pub struct LeadsReport {
    #[schema(schema_with = range_from_schema)]
    pub from: String,
    #[schema(schema_with = range_to_schema)]
    pub to: String,
    #[schema(schema_with = leads_grouped_schema)]
    pub group_by: String,
    /// Only with group_by=period: day, week (from Monday) or month, in China time
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = leads_period_schema, required = false)]
    pub period: Option<String>,
    /// Groups, largest first (periods in order)
    #[schema(inline)]
    pub items: Vec<LeadGroup>,
    #[schema(inline)]
    pub total: LeadTotal,
}

/// One group of leads by group.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "One group")]
pub struct LeadGroup {
    #[schema(schema_with = lead_key_schema, required = true)]
    pub key: Option<GroupKey>,
    /// The key, or the owner's or team's name
    #[schema(required = true)]
    pub label: Option<String>,
    /// Leads created in the range
    pub leads: i64,
    /// Of them, converted
    pub converted: i64,
    /// converted / leads, in percent with one decimal; null when there is nothing to divide by
    #[schema(required = true)]
    pub conversion_pct: Option<f64>,
}

/// Leads by group over all groups.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "`leads`, `converted` and `conversion_pct` over all groups")]
pub struct LeadTotal {
    /// Leads created in the range
    pub leads: i64,
    /// Of them, converted
    pub converted: i64,
    /// converted / leads, in percent with one decimal; null when there is nothing to divide by
    #[schema(required = true)]
    pub conversion_pct: Option<f64>,
}

fn leads_grouped_schema() -> ObjectBuilder {
    schema::codes(LEADS_GROUPINGS, false, "As asked")
}

fn leads_period_schema() -> ObjectBuilder {
    schema::codes(
        PERIODS,
        false,
        "Only with group_by=period: day, week (from Monday) or month, in China time",
    )
}

fn lead_key_schema() -> ObjectBuilder {
    key_schema(
        "The source, campaign, owner id, team id, status or period (a day, the Monday of a \
         week, or YYYY-MM); null for none",
    )
}

/// `GET /api/v1/reports/leads?group_by=source|campaign|owner|team|status|period&period=`: leads
/// created in the range per group, how many of them are converted, and the conversion rate.
pub async fn leads(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report<LeadsReport>> {
    leads_from(db, actor, params, now, Tally::Summaries).await
}

/// [`leads`], read from `tally`.
pub async fn leads_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report<LeadsReport>> {
    let p = Params::parse("leads", params, &["group_by", "period"], now)?;
    let group_by = p.choice("group_by", &LEADS_GROUPINGS)?;
    let period = p.choice("period", &PERIODS)?;
    if p.values.contains_key("period") && group_by != "period" {
        return Err(Invalid::new("period", "is used only with group_by=period").into());
    }
    // Leads are counted per key first; owners and teams are named after that, so that the
    // users and teams are read once per owner, not once per lead.
    let counts = if p.range.summarised(tally) {
        let (days, converted) = match group_by {
            "source" => (LeadDays::Source, "s.converted".to_owned()),
            "campaign" => (LeadDays::Campaign, "s.converted".to_owned()),
            _ => (
                LeadDays::Status,
                format!("CASE WHEN s.status = '{CONVERTED}' THEN s.leads ELSE 0 END"),
            ),
        };
        let key = match group_by {
            "owner" | "team" => "NULLIF(s.owner_id, 0)".to_owned(),
            "period" => period_sql(db.dialect(), "s.day", period),
            "campaign" => "CASE WHEN s.campaign_given = 1 THEN s.campaign END".to_owned(),
            column => format!("s.{column}"),
        };
        format!(
            "SELECT {key} AS k, CAST(SUM(s.leads) AS BIGINT) AS n, \
             CAST(SUM({converted}) AS BIGINT) AS converted FROM {} \
             WHERE s.day >= ? AND s.day < ?{} GROUP BY {key} HAVING SUM(s.leads) > 0",
            days.rows(),
            actor.scope_clause_on("s.owner_id")
        )
    } else {
        let key = match group_by {
            "owner" | "team" => "l.owner_id".to_owned(),
            "period" => period_sql(db.dialect(), "l.created_at", period),
            column => format!("l.{column}"),
        };
        format!(
            "SELECT {key} AS k, COUNT(*) AS n, \
             CAST(SUM(CASE WHEN l.status = '{CONVERTED}' THEN 1 ELSE 0 END) AS BIGINT) AS converted \
             FROM leads l WHERE l.deleted_at IS NULL AND l.created_at >= ? AND l.created_at < ?{} \
             GROUP BY {key}",
            actor.scope_clause_on("l.owner_id")
        )
    };
    let sql = match group_by {
        "owner" => format!(
            "SELECT x.k AS k, COALESCE(u.display_name, u.username) AS label, x.n AS n, \
             x.converted AS converted FROM ({counts}) x LEFT JOIN users u ON u.id = x.k \
             ORDER BY n DESC, k"
        ),
        "team" => format!(
            "SELECT u.team_id AS k, t.name AS label, CAST(SUM(x.n) AS BIGINT) AS n, \
             CAST(SUM(x.converted) AS BIGINT) AS converted FROM ({counts}) x \
             LEFT JOIN users u ON u.id = x.k LEFT JOIN teams t ON t.id = u.team_id \
             GROUP BY u.team_id, t.name ORDER BY n DESC, k"
        ),
        "period" => format!("{counts} ORDER BY k"),
        _ => format!("{counts} ORDER BY n DESC, k"),
    };
    let named = matches!(group_by, "owner" | "team");
    let rows = db.fetch_all(&sql, &p.range.params()).await?;
    let (mut total, mut total_converted) = (0, 0);
    let mut items = Vec::new();
    let mut rows_out = Vec::new();
    for r in &rows {
        let (n, converted) = (r.int("n"), r.int("converted"));
        total += n;
        total_converted += converted;
        let key = GroupKey::of(r, named);
        let label = if named {
            r.opt_text("label")
        } else {
            r.opt_text("k")
        };
        let rate = pct(converted, n);
        rows_out.push(vec![
            json!(key),
            json!(label),
            json!(n),
            json!(converted),
            json!(rate),
        ]);
        items.push(LeadGroup {
            key,
            label,
            leads: n,
            converted,
            conversion_pct: rate,
        });
    }
    let (from, to) = p.range.ends();
    let body = LeadsReport {
        from,
        to,
        group_by: group_by.to_owned(),
        period: (group_by == "period").then(|| period.to_owned()),
        items,
        total: LeadTotal {
            leads: total,
            converted: total_converted,
            conversion_pct: pct(total_converted, total),
        },
    };
    Ok(Report {
        body,
        header: [group_by, "label", "leads", "converted", "conversion_pct"]
            .map(String::from)
            .to_vec(),
        rows: rows_out,
    })
}

// ---------------------------------------------------------------------------------------------
// 2. The funnel.

/// The steps of the funnel, in order.
const STEPS: [&str; 5] = ["new", "working", "qualified", "converted", "won"];

/// The funnel.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = FunnelReport, description = "The funnel")]
pub struct FunnelReport {
    #[schema(schema_with = range_from_schema)]
    pub from: String,
    #[schema(schema_with = range_to_schema)]
    pub to: String,
    /// The steps in order; `won` also has `won_amount`
    #[schema(inline)]
    pub items: Vec<FunnelStep>,
    /// Leads disqualified (counted only as new)
    pub disqualified: i64,
    /// Leads being nurtured (counted only as new)
    pub nurturing: i64,
}

/// One step of the funnel.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "One step")]
pub struct FunnelStep {
    #[schema(schema_with = step_schema)]
    pub step: String,
    /// Leads that reached it (won: whose deal was won)
    pub count: i64,
    /// count / the previous step's, in percent with one decimal; null when there is nothing to
    /// divide by
    #[schema(required = true)]
    pub from_previous_pct: Option<f64>,
    /// count / new, in percent with one decimal; null when there is nothing to divide by
    #[schema(required = true)]
    pub from_first_pct: Option<f64>,
    /// Only on `won`: the amount of the deals won, in yuan
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub won_amount: Option<f64>,
}

fn step_schema() -> ObjectBuilder {
    schema::codes(STEPS, false, "The step")
}

/// `GET /api/v1/reports/funnel`: of the leads created in the range, how many reached each status
/// of new → working → qualified → converted (by where they stand now: a converted lead has
/// passed every step before it) and how many of their deals were won, with the rate from each
/// step to the next. Disqualified and nurturing leads count only as new, and are also given
/// apart.
pub async fn funnel(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report<FunnelReport>> {
    funnel_from(db, actor, params, now, Tally::Summaries).await
}

/// [`funnel`], read from `tally`.
pub async fn funnel_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report<FunnelReport>> {
    let p = Params::parse("funnel", params, &[], now)?;
    let summarised = p.range.summarised(tally);
    // What a row counts for: a lead, or a summary of `leads` leads.
    let (status, one) = if summarised {
        ("s.status", "s.leads")
    } else {
        ("l.status", "1")
    };
    let reached = |statuses: &[LeadStatus]| {
        let list: Vec<String> = statuses.iter().map(|s| format!("'{}'", s.code())).collect();
        format!(
            "CAST(SUM(CASE WHEN {status} IN ({}) THEN {one} ELSE 0 END) AS BIGINT)",
            list.join(",")
        )
    };
    use LeadStatus::{Converted, Disqualified, Nurturing, Qualified, Working};
    let steps = format!(
        "{} AS working, {} AS qualified, {} AS converted",
        reached(&[Working, Qualified, Converted]),
        reached(&[Qualified, Converted]),
        reached(&[Converted]),
    );
    let others = format!(
        "{} AS disqualified, {} AS nurturing",
        reached(&[Disqualified]),
        reached(&[Nurturing]),
    );
    let sql = if summarised {
        format!(
            "SELECT CAST(SUM(s.leads) AS BIGINT) AS new, {steps}, \
             CAST(SUM(s.won) AS BIGINT) AS won, CAST(SUM(s.won_amount) AS BIGINT) AS won_amount, \
             {others} FROM {} WHERE s.day >= ? AND s.day < ?{}",
            LeadDays::Status.rows(),
            actor.scope_clause_on("s.owner_id")
        )
    } else {
        format!(
            "SELECT COUNT(*) AS new, {steps}, \
             CAST(SUM(CASE WHEN o.result = 'won' THEN 1 ELSE 0 END) AS BIGINT) AS won, \
             CAST(SUM(CASE WHEN o.result = 'won' THEN o.amount_cents ELSE 0 END) AS BIGINT) AS won_amount, \
             {others} FROM leads l LEFT JOIN opportunities o \
               ON o.id = l.converted_opportunity_id AND o.deleted_at IS NULL \
             WHERE l.deleted_at IS NULL AND l.created_at >= ? AND l.created_at < ?{}",
            actor.scope_clause_on("l.owner_id")
        )
    };
    let row = db.fetch_optional(&sql, &p.range.params()).await?;
    let get = |name: &str| row.as_ref().map_or(0, |r| r.int(name));
    let first = get("new");
    let mut previous = None;
    let mut items = Vec::new();
    let mut rows = Vec::new();
    for step in STEPS {
        let count = get(step);
        let from_previous = previous.and_then(|p| pct(count, p));
        let from_first = pct(count, first);
        rows.push(vec![
            json!(step),
            json!(count),
            json!(from_previous),
            json!(from_first),
        ]);
        items.push(FunnelStep {
            step: step.to_owned(),
            count,
            from_previous_pct: from_previous,
            from_first_pct: from_first,
            won_amount: (step == "won").then(|| yuan(get("won_amount"))),
        });
        previous = Some(count);
    }
    let (from, to) = p.range.ends();
    let body = FunnelReport {
        from,
        to,
        items,
        disqualified: get("disqualified"),
        nurturing: get("nurturing"),
    };
    Ok(Report {
        body,
        header: ["step", "count", "from_previous_pct", "from_first_pct"]
            .map(String::from)
            .to_vec(),
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// 3. Speed to lead.

/// Speed to lead.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = SpeedToLeadReport, description = "Speed to lead")]
pub struct SpeedToLeadReport {
    #[schema(schema_with = range_from_schema)]
    pub from: String,
    #[schema(schema_with = range_to_schema)]
    pub to: String,
    /// Per owner
    #[schema(inline)]
    pub items: Vec<OwnerSpeed>,
}

/// Speed to lead of one owner's leads.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "One owner")]
pub struct OwnerSpeed {
    /// The owner; null for leads without one
    #[schema(required = true, minimum = 1)]
    pub owner_id: Option<i64>,
    /// Their name
    #[schema(required = true)]
    pub owner: Option<String>,
    /// Leads created in the range
    pub leads: i64,
    /// Of them, with an activity
    pub contacted: i64,
    /// Median minutes from creation to the first activity
    #[schema(required = true)]
    pub median_minutes: Option<f64>,
    /// Average minutes from creation to the first activity
    #[schema(required = true)]
    pub average_minutes: Option<f64>,
    /// Contacted within an hour / contacted, in percent with one decimal; null when there is
    /// nothing to divide by
    #[schema(required = true)]
    pub within_hour_pct: Option<f64>,
}

/// `GET /api/v1/reports/speed-to-lead`: per owner, of the leads created in the range, how many
/// have an activity, and the time from creation to the first one (median and average minutes,
/// share within an hour).
pub async fn speed_to_lead(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report<SpeedToLeadReport>> {
    speed_to_lead_from(db, actor, params, now, Tally::Summaries).await
}

/// [`speed_to_lead`], read from `tally`.
pub async fn speed_to_lead_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report<SpeedToLeadReport>> {
    let p = Params::parse("speed-to-lead", params, &[], now)?;
    let scope = actor.scope_clause_on("l.owner_id");
    // The first activity of each lead is kept on it (migration 0025), in the reports'
    // covering index of leads by creation time.
    let (rows, medians) = if p.range.summarised(tally) {
        let rows = db
            .fetch_all(
                &format!(
                    "SELECT NULLIF(s.owner_id, 0) AS k, CAST(SUM(s.leads) AS BIGINT) AS n, \
                     CAST(SUM(s.contacted) AS BIGINT) AS counted, \
                     CAST(SUM(s.speed_ms) AS BIGINT) AS total, \
                     CAST(SUM(s.within_hour) AS BIGINT) AS within_hour \
                     FROM {} WHERE s.day >= ? AND s.day < ?{} \
                     GROUP BY s.owner_id HAVING SUM(s.leads) > 0 ORDER BY counted DESC, k",
                    LeadDays::Status.rows(),
                    actor.scope_clause_on("s.owner_id")
                ),
                &p.range.params(),
            )
            .await?;
        let medians = contact_medians(db, actor, &p.range.params()).await?;
        (rows, Some(medians))
    } else {
        let values = format!(
            "SELECT l.owner_id AS k, l.first_activity_at - l.created_at AS v \
             FROM leads l WHERE l.deleted_at IS NULL AND l.created_at >= ? AND l.created_at < ?{scope}"
        );
        let within = format!(
            ", CAST(SUM(CASE WHEN v <= {HOUR_MS} THEN 1 ELSE 0 END) AS BIGINT) AS within_hour"
        );
        (
            summary(db, &values, &within, &p.range.params()).await?,
            None,
        )
    };
    let names = user_names(db, rows.iter().filter_map(|r| r.opt_int("k"))).await?;
    let mut items = Vec::new();
    let mut out = Vec::new();
    for r in &rows {
        let owner = r.opt_int("k");
        let (leads, contacted) = (r.int("n"), r.int("counted"));
        let median = match &medians {
            Some(medians) => medians.get(&owner).copied().flatten(),
            None => median_of(r, 60_000),
        };
        let average = average_of(r, 60_000);
        let within = pct(r.int("within_hour"), contacted);
        let name = owner.and_then(|o| names.get(&o).cloned());
        out.push(vec![
            json!(owner),
            json!(name),
            json!(leads),
            json!(contacted),
            json!(median),
            json!(average),
            json!(within),
        ]);
        items.push(OwnerSpeed {
            owner_id: owner,
            owner: name,
            leads,
            contacted,
            median_minutes: median,
            average_minutes: average,
            within_hour_pct: within,
        });
    }
    let (from, to) = p.range.ends();
    Ok(Report {
        body: SpeedToLeadReport { from, to, items },
        header: [
            "owner_id",
            "owner",
            "leads",
            "contacted",
            "median_minutes",
            "average_minutes",
            "within_hour_pct",
        ]
        .map(String::from)
        .to_vec(),
        rows: out,
    })
}

/// Speed to lead's median per owner (`None` for no owner), in minutes as [`median_of`] gives
/// it, of the leads created in the range that have a follow-up. A median needs the values: the
/// index of those leads holds them, and they come as one text of `owner:milliseconds` pairs,
/// read in index order without sorting; each owner's middle values are picked here.
async fn contact_medians(
    db: &Db,
    actor: &Actor,
    range: &[Param],
) -> anyhow::Result<HashMap<Option<i64>, Option<f64>>> {
    // `+` keeps SQLite off the index of leads by owner, whose rows it would then read one by
    // one, on the index of contacted leads, which holds every value needed.
    let scope = actor.scope_clause_on("+l.owner_id");
    let pair = "CAST(COALESCE(l.owner_id, 0) AS TEXT) || ':' || \
                CAST(l.first_activity_at - l.created_at AS TEXT)";
    let sql = format!(
        "SELECT {} AS pairs FROM leads l WHERE l.deleted_at IS NULL \
         AND l.first_activity_at IS NOT NULL AND l.created_at >= ? AND l.created_at < ?{scope}",
        db.dialect().joined_text(pair)
    );
    let pairs = db
        .fetch_optional(&sql, range)
        .await?
        .and_then(|r| r.opt_text("pairs"))
        .unwrap_or_default();
    let mut delays: HashMap<i64, Vec<i64>> = HashMap::new();
    for pair in pairs.split(',').filter(|p| !p.is_empty()) {
        let parsed = pair
            .split_once(':')
            .and_then(|(owner, ms)| Some((owner.parse().ok()?, ms.parse().ok()?)));
        let (owner, ms) = parsed.ok_or_else(|| anyhow::anyhow!("unreadable delay {pair:?}"))?;
        delays.entry(owner).or_default().push(ms);
    }
    Ok(delays
        .into_iter()
        .map(|(owner, mut values)| {
            let median = median_ms(&mut values).map(|ms| in_units(ms, 60_000));
            ((owner != 0).then_some(owner), median)
        })
        .collect())
}

/// The median of `values` (the mean of the two middle ones when their number is even), which
/// it reorders; `None` when there are none.
fn median_ms(values: &mut [i64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (below, &mut upper, _) = values.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return Some(upper as f64);
    }
    let lower = below.iter().copied().max().unwrap_or(upper);
    Some((lower as f64 + upper as f64) / 2.0)
}

// ---------------------------------------------------------------------------------------------
// 4. Follow-up activity per rep.

/// One user's activities: the total, per type and per outcome.
type UserActivity = (i64, BTreeMap<String, i64>, BTreeMap<String, i64>);

/// Follow-up activity per rep.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = ActivityReport, description = "Follow-up activity per rep")]
pub struct ActivityReport {
    #[schema(schema_with = range_from_schema)]
    pub from: String,
    #[schema(schema_with = range_to_schema)]
    pub to: String,
    /// Per user
    #[schema(inline)]
    pub items: Vec<UserActivities>,
}

/// The activities one user logged.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "One user")]
pub struct UserActivities {
    /// Who logged them
    #[schema(required = true, minimum = 1)]
    pub user_id: Option<i64>,
    /// Their name
    #[schema(required = true)]
    pub user: Option<String>,
    /// Activities logged in the range
    pub total: i64,
    /// Per activity type
    pub by_type: BTreeMap<String, i64>,
    /// Per outcome; `none` for activities without one
    pub by_outcome: BTreeMap<String, i64>,
}

/// `GET /api/v1/reports/activities`: the activities logged in the range per user, by type and
/// by outcome. Activities count for the user who logged them.
pub async fn activities(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report<ActivityReport>> {
    activities_from(db, actor, params, now, Tally::Summaries).await
}

/// [`activities`], read from `tally`.
pub async fn activities_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report<ActivityReport>> {
    let p = Params::parse("activities", params, &[], now)?;
    let sql = if p.range.summarised(tally) {
        format!(
            "SELECT NULLIF(s.owner_id, 0) AS k, s.type AS type, \
             CASE WHEN s.outcome_given = 1 THEN s.outcome END AS outcome, \
             CAST(SUM(s.activities) AS BIGINT) AS n \
             FROM {} WHERE s.day >= ? AND s.day < ?{} \
             GROUP BY s.owner_id, s.type, s.outcome_given, s.outcome \
             HAVING SUM(s.activities) > 0 ORDER BY k, type, outcome",
            activity_days(),
            actor.scope_clause_on("s.owner_id")
        )
    } else {
        format!(
            "SELECT a.owner_id AS k, a.type AS type, a.outcome AS outcome, COUNT(*) AS n \
             FROM activities a WHERE a.deleted_at IS NULL \
             AND a.created_at >= ? AND a.created_at < ?{} \
             GROUP BY a.owner_id, a.type, a.outcome ORDER BY a.owner_id, a.type, a.outcome",
            actor.scope_clause_on("a.owner_id")
        )
    };
    let rows = db.fetch_all(&sql, &p.range.params()).await?;
    let names = user_names(db, rows.iter().filter_map(|r| r.opt_int("k"))).await?;
    let mut per_user: BTreeMap<Option<i64>, UserActivity> = BTreeMap::new();
    let mut out = Vec::new();
    let add = |map: &mut BTreeMap<String, i64>, key: String, n: i64| {
        *map.entry(key).or_insert(0) += n;
    };
    for r in &rows {
        let owner = r.opt_int("k");
        let n = r.int("n");
        let outcome = r.opt_text("outcome");
        let entry = per_user.entry(owner).or_default();
        entry.0 += n;
        add(&mut entry.1, r.text("type"), n);
        add(
            &mut entry.2,
            outcome.clone().unwrap_or_else(|| "none".into()),
            n,
        );
        out.push(vec![
            json!(owner),
            json!(owner.and_then(|o| names.get(&o))),
            json!(r.text("type")),
            json!(outcome),
            json!(n),
        ]);
    }
    let items = per_user
        .into_iter()
        .map(|(owner, (total, by_type, by_outcome))| UserActivities {
            user_id: owner,
            user: owner.and_then(|o| names.get(&o).cloned()),
            total,
            by_type,
            by_outcome,
        })
        .collect();
    let (from, to) = p.range.ends();
    Ok(Report {
        body: ActivityReport { from, to, items },
        header: ["user_id", "user", "type", "outcome", "activities"]
            .map(String::from)
            .to_vec(),
        rows: out,
    })
}

// ---------------------------------------------------------------------------------------------
// 5. Sales cycle.

/// What the sales cycle groups by, the first the default.
const CYCLE_GROUPINGS: [&str; 2] = ["owner", "source"];

/// The sales cycle.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = SalesCycleReport, description = "The sales cycle")]
pub struct SalesCycleReport {
    #[schema(schema_with = range_from_schema)]
    pub from: String,
    #[schema(schema_with = range_to_schema)]
    pub to: String,
    #[schema(schema_with = cycle_grouped_schema)]
    pub group_by: String,
    /// Per group, most deals first
    #[schema(inline)]
    pub items: Vec<CycleGroup>,
}

/// The won deals of one group of the sales cycle.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "One group")]
pub struct CycleGroup {
    #[schema(schema_with = cycle_key_schema, required = true)]
    pub key: Option<GroupKey>,
    /// The owner's name, or the source
    #[schema(required = true)]
    pub label: Option<String>,
    /// Deals won in the range that came from a lead
    pub won: i64,
    /// Their amount
    pub won_amount: f64,
    /// Median days from the lead's creation to the win
    #[schema(required = true)]
    pub median_days: Option<f64>,
    /// Average days from the lead's creation to the win
    #[schema(required = true)]
    pub average_days: Option<f64>,
}

fn cycle_grouped_schema() -> ObjectBuilder {
    schema::codes(CYCLE_GROUPINGS, false, "As asked")
}

fn cycle_key_schema() -> ObjectBuilder {
    key_schema("The deal's owner id, or the lead's source")
}

/// `GET /api/v1/reports/sales-cycle?group_by=owner|source`: the deals won in the range that came
/// from a lead, with the days from the lead's creation to the win (median, average), per owner
/// of the deal or per source of the lead.
pub async fn sales_cycle(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report<SalesCycleReport>> {
    let p = Params::parse("sales-cycle", params, &["group_by"], now)?;
    let group_by = p.choice("group_by", &CYCLE_GROUPINGS)?;
    let key = if group_by == "owner" {
        "o.owner_id"
    } else {
        "l.source"
    };
    let from_where = format!(
        "FROM opportunities o JOIN leads l ON l.id = o.lead_id \
         WHERE o.deleted_at IS NULL AND o.result = 'won' AND o.closed_at >= ? AND o.closed_at < ?{}",
        actor.scope_clause_on("o.owner_id")
    );
    let rows = summary(
        db,
        &format!(
            "SELECT {key} AS k, o.closed_at - l.created_at AS v, o.amount_cents AS amount \
             {from_where}"
        ),
        ", CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount",
        &p.range.params(),
    )
    .await?;
    let names = if group_by == "owner" {
        user_names(db, rows.iter().filter_map(|r| r.opt_int("k"))).await?
    } else {
        HashMap::new()
    };
    let mut items = Vec::new();
    let mut out = Vec::new();
    for r in &rows {
        let by_owner = group_by == "owner";
        let key = GroupKey::of(r, by_owner);
        let label = if by_owner {
            r.opt_int("k").and_then(|id| names.get(&id).cloned())
        } else {
            r.opt_text("k")
        };
        let won = r.int("n");
        let won_amount = yuan(r.int("amount"));
        let median = median_of(r, DAY_MS);
        let average = average_of(r, DAY_MS);
        out.push(vec![
            json!(key),
            json!(label),
            json!(won),
            json!(won_amount),
            json!(median),
            json!(average),
        ]);
        items.push(CycleGroup {
            key,
            label,
            won,
            won_amount,
            median_days: median,
            average_days: average,
        });
    }
    let (from, to) = p.range.ends();
    let body = SalesCycleReport {
        from,
        to,
        group_by: group_by.to_owned(),
        items,
    };
    Ok(Report {
        body,
        header: [
            group_by,
            "label",
            "won",
            "won_amount",
            "median_days",
            "average_days",
        ]
        .map(String::from)
        .to_vec(),
        rows: out,
    })
}

// ---------------------------------------------------------------------------------------------
// 6. Channel spend, cost per lead and customer acquisition cost.

/// Parses `YYYY-MM`.
fn parse_month(name: &str, value: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", value.trim()), "%Y-%m-%d")
        .map_err(|_| Invalid::new(name, format!("'{value}' is not a month as YYYY-MM")).into())
}

fn month_code(month: NaiveDate) -> String {
    month.format("%Y-%m").to_string()
}

/// An amount of money in yuan with at most two decimals, as cents.
fn cents(field: &str, amount: Option<f64>) -> StoreResult<i64> {
    let amount = amount.ok_or_else(|| Invalid::new(field, "is required: an amount of money"))?;
    Ok(records::cents(field, amount)?)
}

/// Text a request must give: trimmed, not blank, at most `max` characters.
fn required_text(field: &str, value: Option<&str>, max: usize) -> StoreResult<String> {
    optional_text(field, value, max)?.ok_or_else(|| Invalid::new(field, "is required").into())
}

/// Text a request may give: trimmed, at most `max` characters; absent, null or blank is none.
fn optional_text(field: &str, value: Option<&str>, max: usize) -> StoreResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => Ok(Text::parse_optional(field, v, max)?.map(Text::into_string)),
    }
}

/// Spend to record, as `POST /api/v1/reports/costs` sends it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = ChannelCostInput,
    description = "Spend to record; the same source, campaign and month again replaces the amount"
)]
pub struct NewChannelCost {
    #[serde(default)]
    #[schema(schema_with = cost_source_schema, required = true)]
    pub source: Option<String>,
    #[serde(default)]
    #[schema(schema_with = cost_campaign_schema)]
    pub campaign: Option<String>,
    #[serde(default)]
    #[schema(schema_with = month_schema, required = true)]
    pub month: Option<String>,
    /// At least 0, at most two decimals
    #[serde(default)]
    #[schema(
        required = true,
        nullable = false,
        minimum = 0,
        maximum = 10_000_000_000_000_i64
    )]
    pub amount: Option<f64>,
}

/// What a source (or one of its campaigns) cost in a month.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "What a source (or one of its campaigns) cost in a month")]
pub struct ChannelCost {
    /// The id
    #[schema(minimum = 1)]
    pub id: i64,
    /// The lead source
    pub source: String,
    /// The campaign; null for the source as a whole
    #[schema(required = true)]
    pub campaign: Option<String>,
    #[schema(schema_with = month_schema)]
    pub month: String,
    /// The spend
    pub amount: f64,
    #[schema(schema_with = first_recorded_schema)]
    pub created_at: String,
    #[schema(schema_with = last_changed_schema)]
    pub updated_at: String,
}

/// The recorded spend, by month, source and campaign.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "Recorded spend")]
pub struct ChannelCostList {
    /// Recorded spend
    pub items: Vec<ChannelCost>,
}

fn cost_source_schema() -> ObjectBuilder {
    schema::text(
        false,
        true,
        100,
        "The lead source: one of the list's (GET /api/v1/choices?kind=source), by its code or \
         either label",
    )
    .examples(BUILTIN_SOURCES.iter().map(|s| s.0))
}

fn cost_campaign_schema() -> ObjectBuilder {
    schema::text(true, false, 200, "A campaign of it, or none")
}

fn first_recorded_schema() -> ObjectBuilder {
    schema::date_time(false, "When it was first recorded")
}

fn last_changed_schema() -> ObjectBuilder {
    schema::date_time(false, "When it last changed")
}

impl ChannelCost {
    fn read(r: &Row) -> ChannelCost {
        ChannelCost {
            id: r.int("id"),
            source: r.text("source"),
            campaign: r.opt_text("campaign").filter(|c| !c.is_empty()),
            month: r.text("month"),
            amount: yuan(r.int("amount_cents")),
            created_at: rfc3339(r.int("created_at")),
            updated_at: rfc3339(r.int("updated_at")),
        }
    }
}

/// `POST /api/v1/reports/costs` (admins): what a source (or one of its campaigns) cost in a
/// month. Recording the same source, campaign and month again replaces the amount. Answers the
/// cost and whether it was new.
pub async fn set_cost(
    ctx: Ctx<'_>,
    new: Unread<NewChannelCost>,
) -> StoreResult<(ChannelCost, bool)> {
    ctx.actor.require_admin("record channel spend")?;
    let new = new.read()?;
    let named = required_text("source", new.source.as_deref(), 100)?;
    // A source is one of the list's, named by its code or either label.
    let sources = choices::all(ctx.db).await?;
    let source = sources
        .resolve(ChoiceKind::Source, &named)
        .map(|c| c.code.clone())
        .ok_or_else(|| {
            Invalid::new(
                "source",
                format!(
                    "is not a source; the sources are {}",
                    sources.listing(ChoiceKind::Source)
                ),
            )
        })?;
    let campaign = optional_text("campaign", new.campaign.as_deref(), 200)?.unwrap_or_default();
    let month = required_text("month", new.month.as_deref(), 7)?;
    let month = month_code(parse_month("month", &month)?);
    let amount = cents("amount", new.amount)?;
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let key = [
        Param::from(source.as_str()),
        Param::from(campaign.as_str()),
        Param::from(month.as_str()),
    ];
    let existing = tx
        .fetch_optional(
            "SELECT id FROM report_costs WHERE source = ? AND campaign = ? AND month = ?",
            &key,
        )
        .await?;
    let (id, created) = match existing {
        Some(r) => {
            let snapshot =
                audit::Before::take(&mut tx, audit::Setting::ReportCost, r.int("id")).await?;
            tx.execute(
                "UPDATE report_costs SET amount_cents = ?, updated_at = ? WHERE id = ?",
                &[Param::Int(amount), Param::Int(now), Param::Int(r.int("id"))],
            )
            .await?;
            snapshot
                .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
                .await?;
            (r.int("id"), false)
        }
        None => {
            let mut params = key.to_vec();
            params.extend([
                Param::Int(amount),
                Param::Int(ctx.actor.user_id),
                Param::Int(now),
                Param::Int(now),
            ]);
            let id = tx
                .insert_returning_id(
                    "INSERT INTO report_costs (source, campaign, month, amount_cents, created_by, \
                     created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    &params,
                )
                .await?;
            audit::created(
                &mut tx,
                Some(ctx.actor),
                ctx.now,
                audit::Setting::ReportCost,
                id,
            )
            .await?;
            (id, true)
        }
    };
    let row = tx
        .fetch_optional("SELECT * FROM report_costs WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or(StoreError::NotFound("Cost"))?;
    tx.commit().await?;
    Ok((ChannelCost::read(&row), created))
}

/// `GET /api/v1/reports/costs?from=YYYY-MM&to=YYYY-MM` (admins): the recorded spend, by month,
/// source and campaign.
pub async fn list_costs(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
) -> StoreResult<ChannelCostList> {
    actor.require_admin("see channel spend")?;
    let (mut from, mut to) = ("0000-00".to_owned(), "9999-99".to_owned());
    for (name, value) in params {
        match name.as_str() {
            "from" => from = month_code(parse_month("from", value)?),
            "to" => to = month_code(parse_month("to", value)?),
            _ => {
                return Err(Invalid::new(
                    name.as_str(),
                    "is not a parameter of the spend list (accepted: from, to)",
                )
                .into())
            }
        }
    }
    if to < from {
        return Err(Invalid::new("to", "must not be before from").into());
    }
    let rows = db
        .fetch_all(
            "SELECT * FROM report_costs WHERE month >= ? AND month <= ? \
             ORDER BY month, source, campaign",
            &[Param::from(from), Param::from(to)],
        )
        .await?;
    Ok(ChannelCostList {
        items: rows.iter().map(ChannelCost::read).collect(),
    })
}

/// `DELETE /api/v1/reports/costs/{id}` (admins).
pub async fn delete_cost(db: &Db, actor: &Actor, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    actor.require_admin("delete channel spend")?;
    let change = audit::Edit {
        kind: audit::Setting::ReportCost,
        id,
        action: audit::Action::Delete,
        by: actor,
        at: now,
    };
    if change
        .execute(
            db,
            "DELETE FROM report_costs WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        == 0
    {
        return Err(StoreError::NotFound("Cost"));
    }
    Ok(())
}

/// Cost per lead and acquisition cost per channel.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(
    as = ChannelReport,
    description = "Cost per lead and acquisition cost per channel"
)]
pub struct ChannelReport {
    #[schema(schema_with = range_from_schema)]
    pub from: String,
    #[schema(schema_with = range_to_schema)]
    pub to: String,
    #[schema(inline)]
    pub spend_months: SpendMonths,
    /// Per source
    #[schema(inline)]
    pub items: Vec<ChannelSource>,
    #[schema(inline)]
    pub total: ChannelFigures,
}

/// The months whose spend a channel report counts.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "`from` and `to`: the months (YYYY-MM) whose spend counts")]
pub struct SpendMonths {
    #[schema(schema_with = month_schema)]
    pub from: String,
    #[schema(schema_with = month_schema)]
    pub to: String,
}

/// The figures of one source.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "One source")]
pub struct ChannelSource {
    /// The lead source
    pub source: String,
    /// Leads created in the range
    pub leads: i64,
    /// Of them, converted
    pub converted: i64,
    /// Of them, with their deal won
    pub won: i64,
    /// The amount of those deals
    pub won_amount: f64,
    /// Spend recorded for the months the range touches
    pub spend: f64,
    /// spend / leads
    #[schema(required = true)]
    pub cost_per_lead: Option<f64>,
    /// spend / won: the customer acquisition cost
    #[schema(required = true)]
    pub acquisition_cost: Option<f64>,
}

/// The figures of all sources.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "All sources")]
pub struct ChannelFigures {
    /// Leads created in the range
    pub leads: i64,
    /// Of them, converted
    pub converted: i64,
    /// Of them, with their deal won
    pub won: i64,
    /// The amount of those deals
    pub won_amount: f64,
    /// Spend recorded for the months the range touches
    pub spend: f64,
    /// spend / leads
    #[schema(required = true)]
    pub cost_per_lead: Option<f64>,
    /// spend / won: the customer acquisition cost
    #[schema(required = true)]
    pub acquisition_cost: Option<f64>,
}

impl ChannelFigures {
    /// The figures of leads, converted, won, won amount (cents) and spend (cents).
    fn of(m: &[i64; 5]) -> ChannelFigures {
        // Spend per lead or per deal, in yuan with two decimals; none without any.
        let per = |spend: i64, n: i64| (n != 0).then(|| (spend as f64 / n as f64).round() / 100.0);
        ChannelFigures {
            leads: m[0],
            converted: m[1],
            won: m[2],
            won_amount: yuan(m[3]),
            spend: yuan(m[4]),
            cost_per_lead: per(m[4], m[0]),
            acquisition_cost: per(m[4], m[2]),
        }
    }
}

/// `GET /api/v1/reports/channels` (admins): per source, the leads created in the range, how many
/// were converted and how many of their deals were won (and for how much), the spend of every
/// month the range touches, the cost per lead and the customer acquisition cost (spend per won
/// deal). Spend is a whole channel's, so only an admin, who sees every lead, runs it.
pub async fn channels(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report<ChannelReport>> {
    channels_from(db, actor, params, now, Tally::Summaries).await
}

/// [`channels`], read from `tally`.
pub async fn channels_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report<ChannelReport>> {
    actor.require_admin("see cost per lead and acquisition cost")?;
    let p = Params::parse("channels", params, &[], now)?;
    let sql = if p.range.summarised(tally) {
        format!(
            "SELECT s.source AS k, CAST(SUM(s.leads) AS BIGINT) AS leads, \
             CAST(SUM(s.converted) AS BIGINT) AS converted, CAST(SUM(s.won) AS BIGINT) AS won, \
             CAST(SUM(s.won_amount) AS BIGINT) AS won_amount \
             FROM {} WHERE s.day >= ? AND s.day < ? \
             GROUP BY s.source HAVING SUM(s.leads) > 0",
            LeadDays::Source.rows()
        )
    } else {
        format!(
            "SELECT l.source AS k, COUNT(*) AS leads, \
             CAST(SUM(CASE WHEN l.status = '{CONVERTED}' THEN 1 ELSE 0 END) AS BIGINT) AS converted, \
             CAST(SUM(CASE WHEN o.result = 'won' THEN 1 ELSE 0 END) AS BIGINT) AS won, \
             CAST(SUM(CASE WHEN o.result = 'won' THEN o.amount_cents ELSE 0 END) AS BIGINT) AS won_amount \
             FROM leads l LEFT JOIN opportunities o \
               ON o.id = l.converted_opportunity_id AND o.deleted_at IS NULL \
             WHERE l.deleted_at IS NULL AND l.created_at >= ? AND l.created_at < ? \
             GROUP BY l.source"
        )
    };
    let rows = db.fetch_all(&sql, &p.range.params()).await?;
    let first_month = china_date(DateTime::from_timestamp_millis(p.range.from).unwrap_or_default());
    let last_month =
        china_date(DateTime::from_timestamp_millis(p.range.to - 1).unwrap_or_default());
    let spend_rows = db
        .fetch_all(
            "SELECT source, CAST(SUM(amount_cents) AS BIGINT) AS amount FROM report_costs \
             WHERE month >= ? AND month <= ? GROUP BY source",
            &[
                Param::from(month_code(first_month)),
                Param::from(month_code(last_month)),
            ],
        )
        .await?;
    let mut by_source: BTreeMap<String, [i64; 5]> = BTreeMap::new();
    for r in &rows {
        let m = by_source.entry(r.text("k")).or_default();
        m[0] = r.int("leads");
        m[1] = r.int("converted");
        m[2] = r.int("won");
        m[3] = r.int("won_amount");
    }
    for r in &spend_rows {
        by_source.entry(r.text("source")).or_default()[4] = r.int("amount");
    }
    let mut items = Vec::new();
    let mut out = Vec::new();
    let mut total = [0_i64; 5];
    for (source, m) in &by_source {
        for (t, v) in total.iter_mut().zip(m) {
            *t += v;
        }
        let f = ChannelFigures::of(m);
        out.push(vec![
            json!(source),
            json!(f.leads),
            json!(f.converted),
            json!(f.won),
            json!(f.won_amount),
            json!(f.spend),
            json!(f.cost_per_lead),
            json!(f.acquisition_cost),
        ]);
        items.push(ChannelSource {
            source: source.clone(),
            leads: f.leads,
            converted: f.converted,
            won: f.won,
            won_amount: f.won_amount,
            spend: f.spend,
            cost_per_lead: f.cost_per_lead,
            acquisition_cost: f.acquisition_cost,
        });
    }
    let (from, to) = p.range.ends();
    let body = ChannelReport {
        from,
        to,
        spend_months: SpendMonths {
            from: month_code(first_month),
            to: month_code(last_month),
        },
        items,
        total: ChannelFigures::of(&total),
    };
    Ok(Report {
        body,
        header: [
            "source",
            "leads",
            "converted",
            "won",
            "won_amount",
            "spend",
            "cost_per_lead",
            "acquisition_cost",
        ]
        .map(String::from)
        .to_vec(),
        rows: out,
    })
}

// ---------------------------------------------------------------------------------------------
// 7. Why deals were lost and leads disqualified.

/// The most reasons a reason report lists one by one; the rest are counted together.
pub const MAX_REASONS: usize = 30;

/// One reason deals were lost: the text people gave (`None` when they gave none), how many
/// deals gave it, their share of the whole and their amount.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "One reason")]
pub struct LostReason {
    /// The reason as given (trimmed): a listed reason's code, or the text people typed; null
    /// when none was given
    #[schema(required = true)]
    pub reason: Option<String>,
    /// How the reason reads in the caller's language: a listed reason's label, or the text;
    /// null when none was given
    #[schema(required = true)]
    pub label: Option<String>,
    /// How many gave it
    pub count: i64,
    /// count / total, in percent with one decimal; null when there is nothing to divide by
    #[schema(required = true)]
    pub share_pct: Option<f64>,
    /// The lost deals' amount, in yuan
    pub amount: f64,
}

/// One reason leads were disqualified: the text people gave (`None` when they gave none), how
/// many leads gave it and their share of the whole.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "One reason")]
pub struct DisqualifyReason {
    /// The reason as given (trimmed): a listed reason's code, or the text people typed; null
    /// when none was given
    #[schema(required = true)]
    pub reason: Option<String>,
    /// How the reason reads in the caller's language: a listed reason's label, or the text;
    /// null when none was given
    #[schema(required = true)]
    pub label: Option<String>,
    /// How many gave it
    pub count: i64,
    /// count / total, in percent with one decimal; null when there is nothing to divide by
    #[schema(required = true)]
    pub share_pct: Option<f64>,
}

/// Why deals were lost: the reasons, most given first, those beyond [`MAX_REASONS`] counted
/// in `other`, and the `total`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = LostReasonsReport, description = "Why deals were lost")]
pub struct LostReasonsReport {
    #[schema(schema_with = range_from_schema)]
    pub from: String,
    #[schema(schema_with = range_to_schema)]
    pub to: String,
    /// The 30 reasons given most, most given first
    #[schema(inline)]
    pub items: Vec<LostReason>,
    /// How many gave a reason not listed
    pub other: i64,
    /// All of them
    pub total: i64,
}

/// Why leads were disqualified: the reasons, most given first, those beyond [`MAX_REASONS`]
/// counted in `other`, and the `total`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = DisqualifyReasonsReport, description = "Why leads were disqualified")]
pub struct DisqualifyReasonsReport {
    #[schema(schema_with = range_from_schema)]
    pub from: String,
    #[schema(schema_with = range_to_schema)]
    pub to: String,
    /// The 30 reasons given most, most given first
    #[schema(inline)]
    pub items: Vec<DisqualifyReason>,
    /// How many gave a reason not listed
    pub other: i64,
    /// All of them
    pub total: i64,
}

/// The list a reason report's codes are labelled from, and the language.
type Labels<'a> = (&'a Choices, ChoiceKind, &'a str);

/// One listed reason of [`reasons`]: as stored, as it reads, how many gave it, their share and
/// amount (cents; 0 for leads).
struct Given {
    reason: Option<String>,
    label: Option<String>,
    count: i64,
    share_pct: Option<f64>,
    amount: i64,
}

/// The reasons of `rows` (rows `k`, `n` and, for deals, `amount`, largest first): the first
/// [`MAX_REASONS`], how many gave another reason, and all of them.
fn reasons(rows: &[Row], labels: Labels<'_>, amounts: bool) -> (Vec<Given>, i64, i64) {
    let total: i64 = rows.iter().map(|r| r.int("n")).sum();
    let items: Vec<Given> = rows
        .iter()
        .take(MAX_REASONS)
        .map(|r| {
            let reason = r.opt_text("k").filter(|k| !k.is_empty());
            Given {
                label: reason
                    .as_deref()
                    .map(|k| labels.0.label(labels.1, k, labels.2).to_owned()),
                reason,
                count: r.int("n"),
                share_pct: pct(r.int("n"), total),
                amount: if amounts { r.int("amount") } else { 0 },
            }
        })
        .collect();
    let listed: i64 = items.iter().map(|i| i.count).sum();
    (items, total - listed, total)
}

/// The table of a reason report: reason, count, share, the amount if `amounts`, and the label.
fn reason_table(items: &[Given], amounts: bool) -> (Vec<String>, Vec<Vec<Value>>) {
    let mut header = vec![
        "reason".to_owned(),
        "count".to_owned(),
        "share_pct".to_owned(),
    ];
    if amounts {
        header.push("amount".to_owned());
    }
    header.push("label".to_owned());
    let rows = items
        .iter()
        .map(|i| {
            let mut row = vec![json!(i.reason), json!(i.count), json!(i.share_pct)];
            if amounts {
                row.push(json!(yuan(i.amount)));
            }
            row.push(json!(i.label));
            row
        })
        .collect();
    (header, rows)
}

/// `GET /api/v1/reports/lost-reasons`: the deals lost in the range per reason given when they
/// were lost (the same text counts as one reason, spaces around it aside), with their amount.
pub async fn lost_reasons(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report<LostReasonsReport>> {
    let p = Params::parse("lost-reasons", params, &[], now)?;
    let rows = db
        .fetch_all(
            &format!(
                "SELECT TRIM(o.close_reason) AS k, COUNT(*) AS n, \
                 CAST(COALESCE(SUM(o.amount_cents), 0) AS BIGINT) AS amount \
                 FROM opportunities o WHERE o.deleted_at IS NULL AND o.result = 'lost' \
                 AND o.closed_at >= ? AND o.closed_at < ?{} \
                 GROUP BY TRIM(o.close_reason) ORDER BY n DESC, k",
                actor.scope_clause_on("o.owner_id")
            ),
            &p.range.params(),
        )
        .await?;
    let choices = choices::all(db).await?;
    let labels = (&*choices, ChoiceKind::LostReason, actor.locale.as_str());
    let (given, other, total) = reasons(&rows, labels, true);
    let (header, table) = reason_table(&given, true);
    let (from, to) = p.range.ends();
    let items = given
        .into_iter()
        .map(|g| LostReason {
            reason: g.reason,
            label: g.label,
            count: g.count,
            share_pct: g.share_pct,
            amount: yuan(g.amount),
        })
        .collect();
    Ok(Report {
        body: LostReasonsReport {
            from,
            to,
            items,
            other,
            total,
        },
        header,
        rows: table,
    })
}

/// `GET /api/v1/reports/disqualify-reasons`: of the leads created in the range, those now
/// disqualified, per reason given (无效原因).
pub async fn disqualify_reasons(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report<DisqualifyReasonsReport>> {
    let p = Params::parse("disqualify-reasons", params, &[], now)?;
    let rows = db
        .fetch_all(
            &format!(
                "SELECT TRIM(l.disqualify_reason) AS k, COUNT(*) AS n FROM leads l \
                 WHERE l.deleted_at IS NULL AND l.status = 'disqualified' \
                 AND l.created_at >= ? AND l.created_at < ?{} \
                 GROUP BY TRIM(l.disqualify_reason) ORDER BY n DESC, k",
                actor.scope_clause_on("l.owner_id")
            ),
            &p.range.params(),
        )
        .await?;
    let choices = choices::all(db).await?;
    let labels = (
        &*choices,
        ChoiceKind::DisqualifyReason,
        actor.locale.as_str(),
    );
    let (given, other, total) = reasons(&rows, labels, false);
    let (header, table) = reason_table(&given, false);
    let (from, to) = p.range.ends();
    let items = given
        .into_iter()
        .map(|g| DisqualifyReason {
            reason: g.reason,
            label: g.label,
            count: g.count,
            share_pct: g.share_pct,
        })
        .collect();
    Ok(Report {
        body: DisqualifyReasonsReport {
            from,
            to,
            items,
            other,
            total,
        },
        header,
        rows: table,
    })
}

// ---------------------------------------------------------------------------------------------
// 8. KPI targets.

/// What a target measures in its month.
const METRICS: [&str; 4] = ["leads", "conversions", "won_amount", "activities"];
/// The most a target of a count may be.
const MAX_COUNT: i64 = 1_000_000_000;

/// A monthly target, as `PUT /api/v1/reports/targets` sends it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = TargetInput,
    description = "A monthly target of a user or a team (give one of user_id, team_id)"
)]
pub struct NewTarget {
    /// A user
    #[serde(default)]
    #[schema(minimum = 1)]
    pub user_id: Option<i64>,
    /// A team; its actual counts its subtree's members
    #[serde(default)]
    #[schema(minimum = 1)]
    pub team_id: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = new_metric_schema, required = true)]
    pub metric: Option<String>,
    #[serde(default)]
    #[schema(schema_with = month_schema, required = true)]
    pub month: Option<String>,
    /// The target: a whole number from 0 to 1,000,000,000, or for won_amount an amount of
    /// money from 0 to 10,000,000,000,000 with at most two decimals
    #[serde(default)]
    #[schema(value_type = f64, required = true, minimum = 0, maximum = 10_000_000_000_000_i64)]
    pub value: Option<serde_json::Number>,
}

/// A target as set.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "A target as set")]
pub struct Target {
    /// The user
    #[schema(required = true, minimum = 1)]
    pub user_id: Option<i64>,
    /// The team
    #[schema(required = true, minimum = 1)]
    pub team_id: Option<i64>,
    #[schema(schema_with = set_metric_schema)]
    pub metric: String,
    #[schema(schema_with = month_schema)]
    pub month: String,
    /// The target
    #[schema(value_type = f64)]
    pub target: Figure,
}

/// A month's targets with their attainment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = TargetReport, description = "A month's targets")]
pub struct TargetReport {
    #[schema(schema_with = month_schema)]
    pub month: String,
    /// Users' targets, then teams'
    #[schema(inline)]
    pub items: Vec<TargetAttainment>,
}

/// A target with the month's actual so far.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(description = "A target with its attainment")]
pub struct TargetAttainment {
    #[schema(schema_with = subject_schema)]
    pub subject: String,
    /// The user or team
    #[schema(minimum = 1)]
    pub id: i64,
    /// Its name
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(schema_with = set_metric_schema)]
    pub metric: String,
    /// The target
    #[schema(value_type = f64)]
    pub target: Figure,
    /// The month's actual so far
    #[schema(value_type = f64)]
    pub actual: Figure,
    /// actual / target, in percent with one decimal; null when there is nothing to divide by
    #[schema(required = true)]
    pub attainment_pct: Option<f64>,
}

fn new_metric_schema() -> ObjectBuilder {
    metric_schema("Leads created, leads converted, amount won, or activities logged")
}

fn set_metric_schema() -> ObjectBuilder {
    metric_schema("The metric")
}

fn subject_schema() -> ObjectBuilder {
    schema::codes(["user", "team"], false, "Whose target")
}

/// The teams an actor may set and see targets for: all for an admin, a manager's subtree, none
/// for a rep.
async fn target_teams(db: &Db, actor: &Actor) -> anyhow::Result<Option<Vec<i64>>> {
    Ok(match (actor.role, actor.team_id) {
        (Role::Admin, _) => None,
        (Role::Manager, Some(team)) => Some(subtree(&team_tree(db).await?, team)),
        _ => Some(Vec::new()),
    })
}

/// `PUT /api/v1/reports/targets` (admins, and managers for their subtree): sets the monthly
/// target of a user or a team for one metric. Setting it again replaces the value.
pub async fn set_target(ctx: Ctx<'_>, new: Unread<NewTarget>) -> StoreResult<Target> {
    if ctx.actor.role == Role::Rep {
        return Err(StoreError::Forbidden(
            "only admins and managers may set targets".into(),
        ));
    }
    let new = new.read()?;
    // An id is a whole number of at least 1.
    let positive = |field: &str, value: Option<i64>| match value {
        Some(n) if n < 1 => Err(Invalid::new(field, "must be a whole number of at least 1")),
        _ => Ok(value),
    };
    let user = positive("user_id", new.user_id)?;
    let team = positive("team_id", new.team_id)?;
    let (subject, subject_id) = match (user, team) {
        (Some(u), None) => ("user", u),
        (None, Some(t)) => ("team", t),
        _ => {
            return Err(Invalid::new("user_id", "give either user_id or team_id, not both").into())
        }
    };
    let metric = required_text("metric", new.metric.as_deref(), 20)?;
    if !METRICS.contains(&metric.as_str()) {
        return Err(Invalid::new(
            "metric",
            format!(
                "'{metric}' is not a metric (accepted: {})",
                METRICS.join(", ")
            ),
        )
        .into());
    }
    let month = required_text("month", new.month.as_deref(), 7)?;
    let month = month_code(parse_month("month", &month)?);
    let value = if metric == "won_amount" {
        cents(
            "value",
            new.value.as_ref().and_then(serde_json::Number::as_f64),
        )?
    } else {
        match new.value.as_ref().map(serde_json::Number::as_i64) {
            None => return Err(Invalid::new("value", "is required: a whole number").into()),
            Some(Some(n)) if (0..=MAX_COUNT).contains(&n) => n,
            Some(_) => {
                return Err(Invalid::new(
                    "value",
                    format!("must be a whole number from 0 to {MAX_COUNT}"),
                )
                .into())
            }
        }
    };
    let exists = if subject == "user" {
        "SELECT id FROM users WHERE id = ? AND deleted_at IS NULL"
    } else {
        "SELECT id FROM teams WHERE id = ? AND deleted_at IS NULL"
    };
    let visible = ctx
        .db
        .fetch_optional(exists, &[Param::Int(subject_id)])
        .await?
        .is_some()
        && if subject == "user" {
            ctx.actor.sees_owner(subject_id)
        } else {
            target_teams(ctx.db, ctx.actor)
                .await?
                .is_none_or(|teams| teams.contains(&subject_id))
        };
    if !visible {
        return Err(StoreError::NotFound(if subject == "user" {
            "User"
        } else {
            "Team"
        }));
    }
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let key = [
        Param::from(subject),
        Param::Int(subject_id),
        Param::from(metric.as_str()),
        Param::from(month.as_str()),
    ];
    let existing = tx
        .fetch_optional(
            "SELECT id FROM report_targets WHERE subject = ? AND subject_id = ? AND metric = ? \
             AND month = ?",
            &key,
        )
        .await?;
    if let Some(r) = existing {
        let snapshot =
            audit::Before::take(&mut tx, audit::Setting::ReportTarget, r.int("id")).await?;
        tx.execute(
            "UPDATE report_targets SET value = ?, set_by = ?, updated_at = ? WHERE id = ?",
            &[
                Param::Int(value),
                Param::Int(ctx.actor.user_id),
                Param::Int(now),
                Param::Int(r.int("id")),
            ],
        )
        .await?;
        snapshot
            .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
            .await?;
    } else {
        let mut params = key.to_vec();
        params.extend([
            Param::Int(value),
            Param::Int(ctx.actor.user_id),
            Param::Int(now),
            Param::Int(now),
        ]);
        let id = tx
            .insert_returning_id(
                "INSERT INTO report_targets (subject, subject_id, metric, month, value, set_by, \
                 created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                &params,
            )
            .await?;
        audit::created(
            &mut tx,
            Some(ctx.actor),
            ctx.now,
            audit::Setting::ReportTarget,
            id,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Target {
        user_id: user,
        team_id: team,
        target: Figure::of(&metric, value),
        metric,
        month,
    })
}

/// `DELETE /api/v1/reports/targets?user_id=…|team_id=…&metric=…&month=YYYY-MM` (admins, and
/// managers for their subtree): removes the monthly target of a user or a team for one metric.
pub async fn delete_target(ctx: Ctx<'_>, params: &[(String, String)]) -> StoreResult<()> {
    if ctx.actor.role == Role::Rep {
        return Err(StoreError::Forbidden(
            "only admins and managers may delete targets".into(),
        ));
    }
    let (mut user, mut team, mut metric, mut month) = (None, None, None, None);
    for (name, value) in params {
        let id = || {
            value
                .trim()
                .parse::<i64>()
                .map_err(|_| Invalid::new(name.as_str(), format!("'{value}' is not an id")))
        };
        match name.as_str() {
            "user_id" => user = Some(id()?),
            "team_id" => team = Some(id()?),
            "metric" => metric = Some(value.trim().to_owned()),
            "month" => month = Some(month_code(parse_month("month", value)?)),
            _ => {
                return Err(Invalid::new(
                    name.as_str(),
                    "is not a parameter of a target (accepted: user_id, team_id, metric, month)",
                )
                .into())
            }
        }
    }
    let (subject, subject_id) = match (user, team) {
        (Some(u), None) => ("user", u),
        (None, Some(t)) => ("team", t),
        _ => {
            return Err(Invalid::new("user_id", "give either user_id or team_id, not both").into())
        }
    };
    let metric = metric.ok_or_else(|| Invalid::new("metric", "is required"))?;
    let month = month.ok_or_else(|| Invalid::new("month", "is required, as YYYY-MM"))?;
    let visible = if subject == "user" {
        ctx.actor.sees_owner(subject_id)
    } else {
        target_teams(ctx.db, ctx.actor)
            .await?
            .is_none_or(|teams| teams.contains(&subject_id))
    };
    if !visible {
        return Err(StoreError::NotFound("Target"));
    }
    let id = ctx
        .db
        .fetch_optional(
            "SELECT id FROM report_targets WHERE subject = ? AND subject_id = ? AND metric = ? \
             AND month = ?",
            &[
                Param::from(subject),
                Param::Int(subject_id),
                Param::from(metric),
                Param::from(month),
            ],
        )
        .await?
        .ok_or(StoreError::NotFound("Target"))?
        .int("id");
    let change = audit::Edit {
        kind: audit::Setting::ReportTarget,
        id,
        action: audit::Action::Delete,
        by: ctx.actor,
        at: ctx.now,
    };
    let deleted = change
        .execute(
            ctx.db,
            "DELETE FROM report_targets WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound("Target"));
    }
    Ok(())
}

/// `GET /api/v1/reports/targets?month=YYYY-MM` (default this month): the targets of the month
/// the actor may see (their own; a manager's subtree's users and teams; everything for an
/// admin), each with the actual figure so far and the attainment. A team's actual is the sum of
/// its members' and its sub-teams' members'. Leads count by creation, conversions by the day of
/// conversion, won amounts by the day won and activities by the day logged, in China time.
pub async fn targets(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report<TargetReport>> {
    targets_from(db, actor, params, now, Tally::Summaries).await
}

/// [`targets`], read from `tally` (a month is always whole days).
pub async fn targets_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report<TargetReport>> {
    let today = china_date(now);
    let mut month = today.with_day(1).unwrap_or(today);
    for (name, value) in params {
        match name.as_str() {
            "month" => month = parse_month("month", value)?,
            _ => {
                return Err(Invalid::new(
                    name.as_str(),
                    "is not a parameter of the targets report (accepted: month, format)",
                )
                .into())
            }
        }
    }
    let rows = db
        .fetch_all(
            "SELECT subject, subject_id, metric, value FROM report_targets WHERE month = ? \
             ORDER BY subject DESC, subject_id, metric",
            &[Param::from(month_code(month))],
        )
        .await?;
    let teams = target_teams(db, actor).await?;
    let tree = team_tree(db).await?;
    let mut shown = Vec::new();
    let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in rows {
        let id = r.int("subject_id");
        if r.text("subject") == "user" {
            if actor.sees_owner(id) {
                shown.push(r);
            }
        } else if teams.as_ref().is_none_or(|t| t.contains(&id)) {
            members.insert(id, users_in_teams(db, &subtree(&tree, id)).await?);
            shown.push(r);
        }
    }
    let mut owners: BTreeSet<i64> = members.values().flatten().copied().collect();
    owners.extend(
        shown
            .iter()
            .filter(|r| r.text("subject") == "user")
            .map(|r| r.int("subject_id")),
    );
    let range = Range {
        from: china_midnight(month),
        to: china_midnight(month + Months::new(1)),
    };
    let metrics: BTreeSet<String> = shown.iter().map(|r| r.text("metric")).collect();
    let mut actuals: HashMap<(String, i64), i64> = HashMap::new();
    if !owners.is_empty() {
        let list: Vec<String> = owners.iter().map(i64::to_string).collect();
        let owners_in = format!("owner_id IN ({})", list.join(","));
        let summarised = range.summarised(tally);
        for metric in &metrics {
            let sql = match metric.as_str() {
                "leads" if summarised => format!(
                    "SELECT s.owner_id AS owner_id, CAST(SUM(s.leads) AS BIGINT) AS n FROM {} \
                     WHERE s.{owners_in} AND s.day >= ? AND s.day < ? GROUP BY s.owner_id",
                    LeadDays::Status.rows()
                ),
                "activities" if summarised => format!(
                    "SELECT s.owner_id AS owner_id, CAST(SUM(s.activities) AS BIGINT) AS n \
                     FROM {} WHERE s.{owners_in} AND s.day >= ? AND s.day < ? \
                     GROUP BY s.owner_id",
                    activity_days()
                ),
                "leads" => format!(
                    "SELECT owner_id, COUNT(*) AS n FROM leads WHERE deleted_at IS NULL \
                     AND {owners_in} AND created_at >= ? AND created_at < ? GROUP BY owner_id"
                ),
                "conversions" => format!(
                    "SELECT owner_id, COUNT(*) AS n FROM leads WHERE deleted_at IS NULL \
                     AND {owners_in} AND converted_at >= ? AND converted_at < ? GROUP BY owner_id"
                ),
                "won_amount" => format!(
                    "SELECT owner_id, CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) AS n \
                     FROM opportunities WHERE deleted_at IS NULL AND result = 'won' \
                     AND {owners_in} AND closed_at >= ? AND closed_at < ? GROUP BY owner_id"
                ),
                _ => format!(
                    "SELECT owner_id, COUNT(*) AS n FROM activities WHERE deleted_at IS NULL \
                     AND {owners_in} AND created_at >= ? AND created_at < ? GROUP BY owner_id"
                ),
            };
            for r in db.fetch_all(&sql, &range.params()).await? {
                actuals.insert((metric.clone(), r.int("owner_id")), r.int("n"));
            }
        }
    }
    let user_ids = shown
        .iter()
        .filter(|r| r.text("subject") == "user")
        .map(|r| r.int("subject_id"));
    let names = user_names(db, user_ids).await?;
    let team_names: HashMap<i64, String> = if members.is_empty() {
        HashMap::new()
    } else {
        let list: Vec<String> = members.keys().map(i64::to_string).collect();
        db.fetch_all(
            &format!(
                "SELECT id, name FROM teams WHERE id IN ({})",
                list.join(",")
            ),
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.int("id"), r.text("name")))
        .collect()
    };
    let mut items = Vec::new();
    let mut out = Vec::new();
    for r in &shown {
        let (subject, id, metric, value) = (
            r.text("subject"),
            r.int("subject_id"),
            r.text("metric"),
            r.int("value"),
        );
        let actual_of = |owner: &i64| actuals.get(&(metric.clone(), *owner)).copied().unwrap_or(0);
        let (actual, name) = if subject == "user" {
            (actual_of(&id), names.get(&id).cloned())
        } else {
            (
                members
                    .get(&id)
                    .map_or(0, |m| m.iter().map(actual_of).sum()),
                team_names.get(&id).cloned(),
            )
        };
        let attainment = pct(actual, value);
        let (target, actual) = (Figure::of(&metric, value), Figure::of(&metric, actual));
        out.push(vec![
            json!(subject),
            json!(id),
            json!(name),
            json!(metric),
            json!(target),
            json!(actual),
            json!(attainment),
        ]);
        items.push(TargetAttainment {
            subject,
            id,
            name,
            metric,
            target,
            actual,
            attainment_pct: attainment,
        });
    }
    Ok(Report {
        body: TargetReport {
            month: month_code(month),
            items,
        },
        header: [
            "subject",
            "id",
            "name",
            "metric",
            "target",
            "actual",
            "attainment_pct",
        ]
        .map(String::from)
        .to_vec(),
        rows: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ranges_default_to_the_last_30_days_and_dates_are_china_days() {
        let now = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        let r = Range::parse(None, None, now).unwrap();
        assert_eq!(rfc3339(r.to), "2026-11-02T16:00:00.000Z");
        assert_eq!(r.to - r.from, 30 * DAY_MS);
        let r = Range::parse(Some("2026-10-01"), Some("2026-10-31"), now).unwrap();
        assert_eq!(rfc3339(r.from), "2026-09-30T16:00:00.000Z");
        assert_eq!(rfc3339(r.to), "2026-10-31T16:00:00.000Z");
        let r = Range::parse(
            Some("2026-10-01T00:00:00Z"),
            Some("2026-10-01T01:00:00Z"),
            now,
        );
        let r = r.unwrap();
        assert_eq!(r.to - r.from, HOUR_MS + 1);
        assert!(Range::parse(Some("2026-10-02"), Some("2026-10-01"), now).is_err());
        assert!(Range::parse(Some("yesterday"), None, now).is_err());
    }

    #[test]
    fn only_ranges_of_whole_china_days_read_the_summaries() {
        let now = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        let by_default = Range::parse(None, None, now).unwrap();
        assert!(by_default.summarised(Tally::Summaries));
        assert!(!by_default.summarised(Tally::Records));
        let dates = Range::parse(Some("2026-10-01"), Some("2026-10-31"), now).unwrap();
        assert!(dates.summarised(Tally::Summaries));
        let china_midnights = Range::parse(
            Some("2026-10-01T00:00:00+08:00"),
            Some("2026-10-02T00:00:00+08:00"),
            now,
        );
        // `to` is included, so an instant as `to` ends a millisecond after it.
        assert!(!china_midnights.unwrap().summarised(Tally::Summaries));
        let utc_days = Range::parse(Some("2026-10-01T00:00:00Z"), None, now).unwrap();
        assert!(!utc_days.summarised(Tally::Summaries));
    }

    #[test]
    fn csv_has_a_bom_and_neutralises_formulas() {
        let report = Report {
            body: (),
            header: vec!["source".into(), "leads".into()],
            rows: vec![
                vec![json!("=HYPERLINK(\"x\")"), json!(3)],
                vec![Value::Null, json!(0.5)],
            ],
        };
        let bytes = report.csv().unwrap();
        assert!(bytes.starts_with(crate::data::export::BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(text, "source,leads\n\"'=HYPERLINK(\"\"x\"\")\",3\n,0.5\n");
    }

    #[test]
    fn a_median_is_the_middle_value_or_the_mean_of_the_two_middle_ones() {
        assert_eq!(median_ms(&mut []), None);
        assert_eq!(median_ms(&mut [7]), Some(7.0));
        assert_eq!(median_ms(&mut [9, 1, 5]), Some(5.0));
        assert_eq!(median_ms(&mut [40, 10, 30, 20]), Some(25.0));
        assert_eq!(median_ms(&mut [3, 3, 1, 8, 3, 100]), Some(3.0));
    }

    #[test]
    fn rates_are_percentages_with_one_decimal_and_null_without_a_base() {
        assert_eq!(pct(1, 3), Some(33.3));
        assert_eq!(pct(2, 2), Some(100.0));
        assert_eq!(pct(0, 0), None);
        assert_eq!(json!(pct(2, 2)), json!(100.0));
    }
}
