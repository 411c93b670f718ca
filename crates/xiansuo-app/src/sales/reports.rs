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
//! A report is a [`Report`]: the JSON body (`{"items": [...], ...}`) and the same figures as
//! table rows, which [`Report::csv`] and [`Report::xlsx`] write as files for spreadsheet
//! programs.

use crate::admin::audit;
use crate::error::{StoreError, StoreResult};
use crate::records::choices;
use crate::records::{self, money, rfc3339, Ctx};
use crate::sales::pipeline::Body;
use crate::sales::summaries::{activity_days, LeadDays};
use crate::scope::{team_tree, users_in_teams, Actor};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use xiansuo_core::choice::{ChoiceKind, Choices};
use xiansuo_core::clock::{china_date, china_midnight, to_millis, CHINA_OFFSET_MS};
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::role::{subtree, Role};
use xiansuo_core::Invalid;
use xiansuo_store::{Db, Dialect, Param, Period, Row};

const HOUR_MS: i64 = 3600 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// The days a report covers when `from` is not given.
const DEFAULT_DAYS: u64 = 30;

/// A report: its JSON body and the same figures as a table for CSV.
#[derive(Debug)]
pub struct Report {
    pub body: Value,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Report {
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
}

impl Report {
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

    fn to_json(self) -> Value {
        json!({ "from": rfc3339(self.from), "to": rfc3339(self.to) })
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

/// `part / whole` as a percentage with one decimal, or null when `whole` is 0.
fn pct(part: i64, whole: i64) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!((part as f64 * 1000.0 / whole as f64).round() / 10.0)
    }
}

/// Milliseconds as minutes (or days) with one decimal.
fn in_units(ms: f64, unit_ms: i64) -> Value {
    json!((ms * 10.0 / unit_ms as f64).round() / 10.0)
}

/// A result cell as JSON.
fn cell(row: &Row, name: &str) -> Value {
    row.get(name).to_json()
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

/// The median of a [`summary`] row in `unit_ms`, null without values.
fn median_of(row: &Row, unit_ms: i64) -> Value {
    match row.int("mid_n") {
        0 => Value::Null,
        n => in_units(row.int("mid_total") as f64 / n as f64, unit_ms),
    }
}

/// The average of a [`summary`] row in `unit_ms`, null without values.
fn average_of(row: &Row, unit_ms: i64) -> Value {
    match row.int("counted") {
        0 => Value::Null,
        n => in_units(row.int("total") as f64 / n as f64, unit_ms),
    }
}

const CONVERTED: &str = "converted";

// ---------------------------------------------------------------------------------------------
// 1. Leads by source, campaign, owner, team, status or period.

/// `GET /api/v1/reports/leads?group_by=source|campaign|owner|team|status|period&period=`: leads
/// created in the range per group, how many of them are converted, and the conversion rate.
pub async fn leads(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report> {
    leads_from(db, actor, params, now, Tally::Summaries).await
}

/// [`leads`], read from `tally`.
pub async fn leads_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report> {
    let p = Params::parse("leads", params, &["group_by", "period"], now)?;
    let group_by = p.choice(
        "group_by",
        &["source", "campaign", "owner", "team", "status", "period"],
    )?;
    let period = p.choice("period", &["day", "week", "month"])?;
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
        let key = cell(r, "k");
        let label = if named { cell(r, "label") } else { key.clone() };
        let rate = pct(converted, n);
        rows_out.push(vec![
            key.clone(),
            label.clone(),
            json!(n),
            json!(converted),
            rate.clone(),
        ]);
        items.push(json!({
            "key": key, "label": label, "leads": n, "converted": converted, "conversion_pct": rate,
        }));
    }
    let mut body = p.range.to_json();
    body["group_by"] = json!(group_by);
    if group_by == "period" {
        body["period"] = json!(period);
    }
    body["items"] = json!(items);
    body["total"] = json!({
        "leads": total, "converted": total_converted,
        "conversion_pct": pct(total_converted, total),
    });
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
) -> StoreResult<Report> {
    funnel_from(db, actor, params, now, Tally::Summaries).await
}

/// [`funnel`], read from `tally`.
pub async fn funnel_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report> {
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
    for step in ["new", "working", "qualified", "converted", "won"] {
        let count = get(step);
        let from_previous = previous.map_or(Value::Null, |p| pct(count, p));
        let from_first = pct(count, first);
        rows.push(vec![
            json!(step),
            json!(count),
            from_previous.clone(),
            from_first.clone(),
        ]);
        items.push(json!({
            "step": step, "count": count,
            "from_previous_pct": from_previous, "from_first_pct": from_first,
        }));
        previous = Some(count);
    }
    items[4]["won_amount"] = money(get("won_amount"));
    let mut body = p.range.to_json();
    body["items"] = json!(items);
    body["disqualified"] = json!(get("disqualified"));
    body["nurturing"] = json!(get("nurturing"));
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

/// `GET /api/v1/reports/speed-to-lead`: per owner, of the leads created in the range, how many
/// have an activity, and the time from creation to the first one (median and average minutes,
/// share within an hour).
pub async fn speed_to_lead(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report> {
    speed_to_lead_from(db, actor, params, now, Tally::Summaries).await
}

/// [`speed_to_lead`], read from `tally`.
pub async fn speed_to_lead_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report> {
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
            Some(medians) => medians.get(&owner).cloned().unwrap_or(Value::Null),
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
            median.clone(),
            average.clone(),
            within.clone(),
        ]);
        items.push(json!({
            "owner_id": owner, "owner": name, "leads": leads, "contacted": contacted,
            "median_minutes": median, "average_minutes": average,
            "within_hour_pct": within,
        }));
    }
    let mut body = p.range.to_json();
    body["items"] = json!(items);
    Ok(Report {
        body,
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
) -> anyhow::Result<HashMap<Option<i64>, Value>> {
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
            let median = median_ms(&mut values).map_or(Value::Null, |ms| in_units(ms, 60_000));
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
type UserActivity = (i64, Map<String, Value>, Map<String, Value>);

/// `GET /api/v1/reports/activities`: the activities logged in the range per user, by type and
/// by outcome. Activities count for the user who logged them.
pub async fn activities(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report> {
    activities_from(db, actor, params, now, Tally::Summaries).await
}

/// [`activities`], read from `tally`.
pub async fn activities_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report> {
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
    let add = |map: &mut Map<String, Value>, key: String, n: i64| {
        let v = map.entry(key).or_insert(json!(0));
        *v = json!(v.as_i64().unwrap_or(0) + n);
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
    let items: Vec<Value> = per_user
        .into_iter()
        .map(|(owner, (total, by_type, by_outcome))| {
            json!({
                "user_id": owner, "user": owner.and_then(|o| names.get(&o)),
                "total": total, "by_type": by_type, "by_outcome": by_outcome,
            })
        })
        .collect();
    let mut body = p.range.to_json();
    body["items"] = json!(items);
    Ok(Report {
        body,
        header: ["user_id", "user", "type", "outcome", "activities"]
            .map(String::from)
            .to_vec(),
        rows: out,
    })
}

// ---------------------------------------------------------------------------------------------
// 5. Sales cycle.

/// `GET /api/v1/reports/sales-cycle?group_by=owner|source`: the deals won in the range that came
/// from a lead, with the days from the lead's creation to the win (median, average), per owner
/// of the deal or per source of the lead.
pub async fn sales_cycle(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report> {
    let p = Params::parse("sales-cycle", params, &["group_by"], now)?;
    let group_by = p.choice("group_by", &["owner", "source"])?;
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
        let key = cell(r, "k");
        let label = match group_by {
            "owner" => json!(r.opt_int("k").and_then(|id| names.get(&id))),
            _ => key.clone(),
        };
        let won = r.int("n");
        let median = median_of(r, DAY_MS);
        let average = average_of(r, DAY_MS);
        out.push(vec![
            key.clone(),
            label.clone(),
            json!(won),
            money(r.int("amount")),
            median.clone(),
            average.clone(),
        ]);
        items.push(json!({
            "key": key, "label": label, "won": won, "won_amount": money(r.int("amount")),
            "median_days": median, "average_days": average,
        }));
    }
    let mut body = p.range.to_json();
    body["group_by"] = json!(group_by);
    body["items"] = json!(items);
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
fn cents(field: &str, value: Option<&Value>) -> StoreResult<i64> {
    let amount = value
        .and_then(Value::as_f64)
        .ok_or_else(|| Invalid::new(field, "is required: an amount of money"))?;
    Ok(records::cents(field, amount)?)
}

fn cost_json(r: &Row) -> Value {
    json!({
        "id": r.int("id"),
        "source": r.text("source"),
        "campaign": r.opt_text("campaign").filter(|c| !c.is_empty()),
        "month": r.text("month"),
        "amount": money(r.int("amount_cents")),
        "created_at": rfc3339(r.int("created_at")),
        "updated_at": rfc3339(r.int("updated_at")),
    })
}

/// `POST /api/v1/reports/costs` (admins): what a source (or one of its campaigns) cost in a
/// month. Recording the same source, campaign and month again replaces the amount. Answers the
/// cost and whether it was new.
pub async fn set_cost(ctx: Ctx<'_>, body: &Value) -> StoreResult<(Value, bool)> {
    ctx.actor.require_admin("record channel spend")?;
    let b = Body::parse(body, "", &["source", "campaign", "month", "amount"])?;
    let named = b.required_text("source", 100)?;
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
    let campaign = b.text("campaign", 200)?.unwrap_or_default();
    let month = month_code(parse_month("month", &b.required_text("month", 7)?)?);
    let amount = cents("amount", b.get("amount"))?;
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
    Ok((cost_json(&row), created))
}

/// `GET /api/v1/reports/costs?from=YYYY-MM&to=YYYY-MM` (admins): the recorded spend, by month,
/// source and campaign.
pub async fn list_costs(db: &Db, actor: &Actor, params: &[(String, String)]) -> StoreResult<Value> {
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
    Ok(json!({ "items": rows.iter().map(cost_json).collect::<Vec<_>>() }))
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

/// `GET /api/v1/reports/channels` (admins): per source, the leads created in the range, how many
/// were converted and how many of their deals were won (and for how much), the spend of every
/// month the range touches, the cost per lead and the customer acquisition cost (spend per won
/// deal). Spend is a whole channel's, so only an admin, who sees every lead, runs it.
pub async fn channels(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report> {
    channels_from(db, actor, params, now, Tally::Summaries).await
}

/// [`channels`], read from `tally`.
pub async fn channels_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report> {
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
    let per = |spend: i64, n: i64| {
        if n == 0 {
            Value::Null
        } else {
            json!((spend as f64 / n as f64).round() / 100.0)
        }
    };
    let mut items = Vec::new();
    let mut out = Vec::new();
    let mut total = [0_i64; 5];
    for (source, m) in &by_source {
        for (t, v) in total.iter_mut().zip(m) {
            *t += v;
        }
        let figures = |m: &[i64; 5]| {
            json!({
                "leads": m[0], "converted": m[1], "won": m[2], "won_amount": money(m[3]),
                "spend": money(m[4]), "cost_per_lead": per(m[4], m[0]),
                "acquisition_cost": per(m[4], m[2]),
            })
        };
        let mut item = figures(m);
        out.push(vec![
            json!(source),
            json!(m[0]),
            json!(m[1]),
            json!(m[2]),
            money(m[3]),
            money(m[4]),
            item["cost_per_lead"].clone(),
            item["acquisition_cost"].clone(),
        ]);
        item["source"] = json!(source);
        items.push(item);
    }
    let mut body = p.range.to_json();
    body["spend_months"] = json!({"from": month_code(first_month), "to": month_code(last_month)});
    body["items"] = json!(items);
    body["total"] = json!({
        "leads": total[0], "converted": total[1], "won": total[2], "won_amount": money(total[3]),
        "spend": money(total[4]), "cost_per_lead": per(total[4], total[0]),
        "acquisition_cost": per(total[4], total[2]),
    });
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

/// One reason of a [`reasons`] report: the text people gave (`None` when they gave none), how
/// many deals or leads gave it, their share of the whole and, for deals, their amount.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReasonCount {
    /// As stored: a listed reason's code, or the text people typed.
    pub reason: Option<String>,
    /// How the reason reads in the user's language: a listed reason's label, or the text.
    pub label: Option<String>,
    pub count: i64,
    pub share_pct: Option<f64>,
    /// Yuan; only for lost deals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
}

/// The body of a reason report: the reasons, most given first, those beyond
/// [`MAX_REASONS`] counted in `other`, and the `total`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReasonReport {
    pub items: Vec<ReasonCount>,
    /// How many deals or leads gave a reason not listed in `items`.
    pub other: i64,
    pub total: i64,
}

fn share(part: i64, whole: i64) -> Option<f64> {
    pct(part, whole).as_f64()
}

/// The list a reason report's codes are labelled from, and the language.
type Labels<'a> = (&'a Choices, ChoiceKind, &'a str);

/// The reasons of `grouped` (rows `k`, `n` and, for deals, `amount`, largest first) as a report.
fn reasons(range: Range, rows: &[Row], labels: Labels<'_>, amounts: bool) -> Report {
    let total: i64 = rows.iter().map(|r| r.int("n")).sum();
    let items: Vec<ReasonCount> = rows
        .iter()
        .take(MAX_REASONS)
        .map(|r| ReasonCount {
            reason: r.opt_text("k").filter(|k| !k.is_empty()),
            label: r
                .opt_text("k")
                .filter(|k| !k.is_empty())
                .map(|k| labels.0.label(labels.1, &k, labels.2).to_owned()),
            count: r.int("n"),
            share_pct: share(r.int("n"), total),
            amount: amounts.then(|| r.int("amount") as f64 / 100.0),
        })
        .collect();
    let listed: i64 = items.iter().map(|i| i.count).sum();
    let report = ReasonReport {
        other: total - listed,
        total,
        items,
    };
    let mut header = vec![
        "reason".to_owned(),
        "count".to_owned(),
        "share_pct".to_owned(),
    ];
    if amounts {
        header.push("amount".to_owned());
    }
    header.push("label".to_owned());
    let rows = report
        .items
        .iter()
        .map(|i| {
            let mut row = vec![json!(i.reason), json!(i.count), json!(i.share_pct)];
            if amounts {
                row.push(json!(i.amount));
            }
            row.push(json!(i.label));
            row
        })
        .collect();
    let mut body = range.to_json();
    if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), json!(report)) {
        body.extend(fields);
    }
    Report { body, header, rows }
}

/// `GET /api/v1/reports/lost-reasons`: the deals lost in the range per reason given when they
/// were lost (the same text counts as one reason, spaces around it aside), with their amount.
pub async fn lost_reasons(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report> {
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
    Ok(reasons(
        p.range,
        &rows,
        (&choices, ChoiceKind::LostReason, &actor.locale),
        true,
    ))
}

/// `GET /api/v1/reports/disqualify-reasons`: of the leads created in the range, those now
/// disqualified, per reason given (无效原因).
pub async fn disqualify_reasons(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Report> {
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
    Ok(reasons(
        p.range,
        &rows,
        (&choices, ChoiceKind::DisqualifyReason, &actor.locale),
        false,
    ))
}

// ---------------------------------------------------------------------------------------------
// 8. KPI targets.

/// What a target measures in its month.
const METRICS: [&str; 4] = ["leads", "conversions", "won_amount", "activities"];

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
pub async fn set_target(ctx: Ctx<'_>, body: &Value) -> StoreResult<Value> {
    if ctx.actor.role == Role::Rep {
        return Err(StoreError::Forbidden(
            "only admins and managers may set targets".into(),
        ));
    }
    let b = Body::parse(
        body,
        "",
        &["user_id", "team_id", "metric", "month", "value"],
    )?;
    let user = b.int("user_id", 1, i64::MAX)?;
    let team = b.int("team_id", 1, i64::MAX)?;
    let (subject, subject_id) = match (user, team) {
        (Some(u), None) => ("user", u),
        (None, Some(t)) => ("team", t),
        _ => {
            return Err(Invalid::new("user_id", "give either user_id or team_id, not both").into())
        }
    };
    let metric = b.required_text("metric", 20)?;
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
    let month = month_code(parse_month("month", &b.required_text("month", 7)?)?);
    let value = if metric == "won_amount" {
        cents("value", b.get("value"))?
    } else {
        b.int("value", 0, 1_000_000_000)?
            .ok_or_else(|| Invalid::new("value", "is required: a whole number"))?
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
    Ok(json!({
        "user_id": user, "team_id": team, "metric": metric, "month": month,
        "target": target_value(&metric, value),
    }))
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

fn target_value(metric: &str, value: i64) -> Value {
    if metric == "won_amount" {
        money(value)
    } else {
        json!(value)
    }
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
) -> StoreResult<Report> {
    targets_from(db, actor, params, now, Tally::Summaries).await
}

/// [`targets`], read from `tally` (a month is always whole days).
pub async fn targets_from(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
    tally: Tally,
) -> StoreResult<Report> {
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
        out.push(vec![
            json!(subject),
            json!(id),
            json!(name),
            json!(metric),
            target_value(&metric, value),
            target_value(&metric, actual),
            attainment.clone(),
        ]);
        items.push(json!({
            "subject": subject, "id": id, "name": name, "metric": metric,
            "target": target_value(&metric, value), "actual": target_value(&metric, actual),
            "attainment_pct": attainment,
        }));
    }
    Ok(Report {
        body: json!({ "month": month_code(month), "items": items }),
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
            body: Value::Null,
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
        assert_eq!(pct(1, 3), json!(33.3));
        assert_eq!(pct(2, 2), json!(100.0));
        assert_eq!(pct(0, 0), Value::Null);
    }
}
