//! Export: the records a list query selects, or the follow-ups (跟进记录) of the records a user
//! can see, written as CSV or XLSX for spreadsheet programs, and the audit of who exported what.
//! A record export pages through [`records::list`] with its cursor, so it sees exactly what the
//! list shows (data scope, filters, search, sort); a follow-up export pages by id over the
//! follow-ups whose record is in the actor's scope. Neither holds more than two pages (the one
//! being written and the next). Text that a spreadsheet would take for a formula is
//! neutralised, because an exported file is opened by people who did not write its contents.
//!
//! Every export carries the ids that link records (a contact's 客户编号, a follow-up's record),
//! so the five files of a full export ([`SOURCES`]) can be imported elsewhere with their links.

use crate::error::{StoreError, StoreResult};
use crate::leads::activities::Activity;
use crate::records;
use crate::records::schema::{Kind, Table, TABLES};
use crate::scope::Actor;
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::Write;
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::Channel;
use xiansuo_core::lead::ActivityType;
use xiansuo_core::schema;
use xiansuo_core::Invalid;
use xiansuo_store::{Db, DecodeError, Param, Row};

/// Records fetched per round trip: the list's largest page.
const PAGE: &str = "500";

/// The UTF-8 byte order mark: without it Excel reads a CSV file in the local code page and
/// garbles Chinese.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most data rows an XLSX sheet holds (1,048,576 rows less the header).
const XLSX_MAX_ROWS: u64 = 1_048_575;

/// A file format an export can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(value: &str) -> Result<Format, Invalid> {
        match value.trim() {
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(Invalid::new(
                "format",
                format!("'{other}' is not a format (accepted: csv, xlsx)"),
            )),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// Takes `format` (csv when absent) out of a list query; the rest are the list's filters.
/// `limit` and `cursor` are refused: an export always covers every matching record.
pub fn split_format(params: &[(String, String)]) -> StoreResult<(Format, Vec<(String, String)>)> {
    let mut format = Format::Csv;
    let mut filters = Vec::new();
    for (name, value) in params {
        match name.as_str() {
            "format" => format = Format::parse(value)?,
            "limit" | "cursor" => {
                return Err(Invalid::new(
                    name.as_str(),
                    "is not accepted by an export, which covers every matching record",
                )
                .into())
            }
            _ => filters.push((name.clone(), value.clone())),
        }
    }
    Ok((format, filters))
}

/// What an export writes: the records of one table, or the follow-ups.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Records(&'static Table),
    Activities,
}

/// Everything a full export holds, one file each, in the order an import needs them (records
/// before the follow-ups logged on them).
pub const SOURCES: [Source; 5] = [
    Source::Records(&records::schema::LEADS),
    Source::Records(&records::schema::ACCOUNTS),
    Source::Records(&records::schema::CONTACTS),
    Source::Records(&records::schema::OPPORTUNITIES),
    Source::Activities,
];

/// The columns of a follow-up export, in order.
const ACTIVITY_COLUMNS: &[(&str, Kind)] = &[
    ("id", Kind::Id),
    ("external_id", Kind::Text(200)),
    ("record_type", Kind::Derived),
    ("record_id", Kind::Derived),
    ("type", Kind::Derived),
    ("outcome", Kind::Derived),
    ("content", Kind::Text(10_000)),
    ("next_follow_up_at", Kind::Timestamp),
    ("owner_id", Kind::Owner),
    ("created_by", Kind::UserRef),
    ("created_at", Kind::Timestamp),
    ("updated_at", Kind::Timestamp),
];

impl Source {
    /// The name in URLs, on the command line and as the file and sheet name.
    pub fn name(self) -> &'static str {
        match self {
            Source::Records(table) => table.name,
            Source::Activities => "activities",
        }
    }

    /// The record type written to the export audit.
    fn audit_code(self) -> &'static str {
        match self {
            Source::Records(table) => table.record_type.code(),
            Source::Activities => "activity",
        }
    }

    /// The source named on the command line or in a URL: a record table or `activities`.
    pub fn named(name: &str) -> Result<Source, Invalid> {
        SOURCES
            .iter()
            .copied()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                Invalid::new(
                    "table",
                    format!(
                        "'{name}' cannot be exported (accepted: {})",
                        SOURCES.map(Source::name).join(", ")
                    ),
                )
            })
    }
}

/// The headers of a field's column in Chinese and English. Spreadsheet users read labels, and
/// the import recognises these Chinese headers, so an exported file can be imported again.
fn label(source: Source, field: &str) -> (&'static str, &'static str) {
    let record_type = match source {
        Source::Records(table) => Some(table.record_type),
        Source::Activities => None,
    };
    match (record_type, field) {
        (_, "id") => ("编号", "ID"),
        (None, "record_type") => ("记录类型", "Record type"),
        (None, "record_id") => ("记录编号", "Record ID"),
        (None, "type") => ("跟进方式", "Type"),
        (None, "outcome") => ("跟进结果", "Outcome"),
        (None, "content") => ("跟进内容", "Content"),
        (None, "next_follow_up_at") => ("下次跟进时间 (UTC)", "Next follow-up at (UTC)"),
        (_, "external_id") => ("外部编号", "External ID"),
        (Some(RecordType::Account), "name") => ("客户名称", "Account name"),
        (Some(RecordType::Opportunity), "name") => ("机会名称", "Opportunity name"),
        (_, "name") => ("姓名", "Name"),
        (_, "company") => ("公司", "Company"),
        (_, "title") => ("职位", "Title"),
        (_, "phone") => ("电话", "Phone"),
        (_, "email") => ("邮箱", "Email"),
        (_, "source") => ("来源", "Source"),
        (_, "status") => ("状态", "Status"),
        (_, "disqualify_reason") => ("无效原因", "Disqualify reason"),
        (_, "owner_id") => ("负责人", "Owner"),
        (_, "score") => ("评分", "Score"),
        (_, "win_probability") => ("赢单概率", "Win probability"),
        (_, "grade") => ("等级", "Grade"),
        (_, "urgency") => ("紧急程度", "Urgency"),
        (_, "demand_stage") => ("需求阶段", "Demand stage"),
        (_, "industry") => ("行业", "Industry"),
        (_, "province") => ("省份", "Province"),
        (_, "city") => ("城市", "City"),
        (_, "address") => ("地址", "Address"),
        (_, "website") => ("网站", "Website"),
        (_, "wechat") => ("微信", "WeChat"),
        (_, "company_size") => ("公司规模", "Company size"),
        (_, "description") => ("备注", "Description"),
        (_, "tags") => ("标签", "Tags"),
        (_, "account_id") => ("客户编号", "Account ID"),
        (_, "contact_id") => ("联系人编号", "Contact ID"),
        (_, "lead_id") => ("线索编号", "Lead ID"),
        (_, "amount") => ("金额", "Amount"),
        (_, "stage") => ("阶段", "Stage"),
        (_, "expected_close_date") => ("预计成交日期", "Expected close date"),
        (_, "probability") => ("赢单概率 (%)", "Probability (%)"),
        (_, "closed_at") => ("关闭时间 (UTC)", "Closed at (UTC)"),
        (_, "converted_account_id") => ("转化客户编号", "Converted account ID"),
        (_, "converted_contact_id") => ("转化联系人编号", "Converted contact ID"),
        (_, "converted_opportunity_id") => ("转化销售机会编号", "Converted opportunity ID"),
        (_, "converted_at") => ("转化时间 (UTC)", "Converted at (UTC)"),
        (_, "disqualified_at") => ("无效时间 (UTC)", "Disqualified at (UTC)"),
        (_, "assigned_at") => ("分配时间 (UTC)", "Assigned at (UTC)"),
        (_, "pool_id") => ("线索池编号", "Pool ID"),
        (_, "pooled_at") => ("入池时间 (UTC)", "Pooled at (UTC)"),
        (_, "protected_until") => ("保护期至 (UTC)", "Protected until (UTC)"),
        (_, "last_activity_at") => ("最近跟进时间 (UTC)", "Last follow-up at (UTC)"),
        (_, "duplicate_of") => ("疑似重复线索编号", "Possible duplicate of (ID)"),
        (_, "merged_into") => ("合并至线索编号", "Merged into (ID)"),
        (_, "campaign") => ("市场活动", "Campaign"),
        (_, "utm_source") => ("UTM 来源", "UTM source"),
        (_, "utm_medium") => ("UTM 媒介", "UTM medium"),
        (_, "utm_campaign") => ("UTM 活动", "UTM campaign"),
        (_, "utm_term") => ("UTM 关键词", "UTM term"),
        (_, "utm_content") => ("UTM 内容", "UTM content"),
        (_, "referrer") => ("来源页面", "Referrer"),
        (_, "created_by") => ("创建人", "Created by"),
        (_, "created_at") => ("创建时间 (UTC)", "Created at (UTC)"),
        (_, "updated_at") => ("更新时间 (UTC)", "Updated at (UTC)"),
        (_, "deleted_at") => ("删除时间 (UTC)", "Deleted at (UTC)"),
        _ => ("", ""),
    }
}

/// One cell of an export, typed so that XLSX keeps numbers and dates as such.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Instant(NaiveDateTime),
    Date(NaiveDate),
}

/// True when a spreadsheet would read the text as a formula (or, for tab and carriage return,
/// as the start of another cell that might be one).
fn formula_like(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Text as it goes into a CSV cell: formula-like text gets a leading `'`, which spreadsheets
/// take as "this is text" and do not show.
pub(crate) fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if formula_like(text) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

impl Cell {
    fn csv(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => neutralise(t).into_owned(),
            Cell::Number(n) => n.to_string(),
            Cell::Instant(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// What one column shows: a field of the table, or one custom field.
enum Column {
    Field(&'static str, Kind),
    Custom(String),
}

/// The filters a follow-up export takes: the kind of record and the kind of follow-up.
#[derive(Debug, Clone, Default)]
struct ActivityFilters {
    record_type: Option<RecordType>,
    kind: Option<ActivityType>,
}

impl ActivityFilters {
    fn parse(filters: &[(String, String)]) -> StoreResult<ActivityFilters> {
        let mut parsed = ActivityFilters::default();
        for (name, value) in filters {
            match name.as_str() {
                "record_type" => parsed.record_type = Some(RecordType::parse(value.trim())?),
                "type" => parsed.kind = Some(ActivityType::parse(value.trim())?),
                other => {
                    return Err(Invalid::new(
                        other,
                        "is not a filter of a follow-up export (accepted: record_type, type)",
                    )
                    .into())
                }
            }
        }
        Ok(parsed)
    }
}

/// One page of the follow-ups whose record the actor can see and that is not deleted, in id
/// order from after `after`.
async fn activity_page(
    db: &Db,
    actor: &Actor,
    filters: &ActivityFilters,
    after: i64,
) -> StoreResult<records::Page> {
    let visible: Vec<String> = TABLES
        .iter()
        .filter(|t| filters.record_type.is_none_or(|r| r == t.record_type))
        .map(|t| {
            format!(
                "(a.record_type = '{}' AND EXISTS (SELECT 1 FROM {} r WHERE r.id = a.record_id AND r.deleted_at IS NULL{}))",
                t.record_type.code(),
                t.name,
                actor.scope_clause_on("r.owner_id")
            )
        })
        .collect();
    let mut params = vec![Param::Int(after)];
    let mut kind = String::new();
    if let Some(k) = filters.kind {
        kind = " AND a.type = ?".into();
        params.push(Param::from(k.code()));
    }
    let rows = db
        .fetch_all(
            &format!(
                "SELECT a.* FROM activities a WHERE a.id > ? AND a.deleted_at IS NULL{kind} AND ({}) ORDER BY a.id LIMIT {PAGE}",
                visible.join(" OR ")
            ),
            &params,
        )
        .await?;
    let full = rows.len() == PAGE.parse::<usize>().unwrap_or(usize::MAX);
    Ok(records::Page {
        next_cursor: rows
            .last()
            .filter(|_| full)
            .map(|r| r.int("id").to_string()),
        items: rows
            .iter()
            .map(|r| Activity::read(r).to_json())
            .collect::<anyhow::Result<_>>()?,
        total: None,
        total_capped: false,
    })
}

/// An export under way: the query, the columns, and where paging has got to. It owns all it
/// needs, so the HTTP layer can stream it after answering with the headers.
pub struct Export {
    db: Db,
    actor: Actor,
    source: Source,
    format: Format,
    filters: Vec<(String, String)>,
    activity_filters: ActivityFilters,
    channel: Channel,
    at: DateTime<chrono::Utc>,
    columns: Vec<Column>,
    usernames: HashMap<i64, String>,
    /// The page fetched but not yet written; the first is fetched on start to check the query.
    pending: Option<records::Page>,
    rows: u64,
}

impl Export {
    /// Checks the query by fetching the first page, so that a bad filter is an error before
    /// anything is written.
    pub async fn start(
        ctx: records::Ctx<'_>,
        source: Source,
        format: Format,
        filters: Vec<(String, String)>,
    ) -> StoreResult<Export> {
        let (first, columns, activity_filters) = match source {
            Source::Records(table) => {
                let first =
                    records::list(ctx.db, ctx.actor, table, &page_query(&filters, None)).await?;
                (
                    first,
                    record_columns(ctx.db, table, &filters).await?,
                    ActivityFilters::default(),
                )
            }
            Source::Activities => {
                let parsed = ActivityFilters::parse(&filters)?;
                let first = activity_page(ctx.db, ctx.actor, &parsed, 0).await?;
                let columns = ACTIVITY_COLUMNS
                    .iter()
                    .map(|(name, kind)| Column::Field(name, *kind))
                    .collect();
                (first, columns, parsed)
            }
        };
        // Owners and creators are shown by username; users are few next to records.
        let usernames = ctx
            .db
            .fetch_all("SELECT id, username FROM users", &[])
            .await?
            .iter()
            .map(|r| (r.int("id"), r.text("username")))
            .collect();
        Ok(Export {
            db: ctx.db.clone(),
            actor: ctx.actor.clone(),
            source,
            format,
            filters,
            activity_filters,
            channel: ctx.channel,
            at: ctx.now,
            columns,
            usernames,
            pending: Some(first),
            rows: 0,
        })
    }

    /// The header row in the actor's language.
    fn header(&self) -> Vec<String> {
        let zh = !self.actor.locale.starts_with("en");
        self.columns
            .iter()
            .map(|c| match c {
                Column::Field(name, _) => {
                    let (zh_label, en_label) = label(self.source, name);
                    let label = if zh { zh_label } else { en_label };
                    if label.is_empty() {
                        (*name).to_owned()
                    } else {
                        label.to_owned()
                    }
                }
                Column::Custom(key) => format!("custom.{key}"),
            })
            .collect()
    }

    /// The next page of rows, or `None` when every record has been written.
    async fn next_rows(&mut self) -> StoreResult<Option<Vec<Vec<Cell>>>> {
        let Some(page) = self.pending.take() else {
            return Ok(None);
        };
        if let Some(cursor) = &page.next_cursor {
            self.pending = Some(match self.source {
                Source::Records(table) => {
                    let query = page_query(&self.filters, Some(cursor.as_str()));
                    records::list(&self.db, &self.actor, table, &query).await?
                }
                Source::Activities => {
                    let after = cursor.parse().unwrap_or(i64::MAX);
                    activity_page(&self.db, &self.actor, &self.activity_filters, after).await?
                }
            });
        }
        let rows: Vec<Vec<Cell>> = page.items.iter().map(|r| self.cells(r)).collect();
        self.rows += rows.len() as u64;
        if self.format == Format::Xlsx && self.rows > XLSX_MAX_ROWS {
            return Err(Invalid::new(
                "format",
                format!("an XLSX sheet holds at most {XLSX_MAX_ROWS} rows; export as csv or narrow the filters"),
            )
            .into());
        }
        Ok(Some(rows))
    }

    fn cells(&self, record: &Value) -> Vec<Cell> {
        self.columns
            .iter()
            .map(|column| match column {
                Column::Field(name, kind) => self.field_cell(*kind, &record[*name]),
                Column::Custom(key) => value_cell(&record["custom"][key]),
            })
            .collect()
    }

    fn field_cell(&self, kind: Kind, value: &Value) -> Cell {
        match (kind, value) {
            (_, Value::Null) => Cell::Empty,
            (Kind::Owner | Kind::UserRef, Value::Number(n)) => n
                .as_i64()
                .and_then(|id| self.usernames.get(&id))
                .map_or_else(|| value_cell(value), |u| Cell::Text(u.clone())),
            (Kind::Timestamp, Value::String(s)) => DateTime::parse_from_rfc3339(s)
                .map_or_else(|_| value_cell(value), |t| Cell::Instant(t.naive_utc())),
            (Kind::Date, Value::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_or_else(|_| value_cell(value), Cell::Date),
            _ => value_cell(value),
        }
    }

    /// Records the export in the audit and returns its id.
    async fn record(&self) -> StoreResult<i64> {
        let filters: Map<String, Value> = self
            .filters
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert_returning_id(
                "INSERT INTO exports (user_id, record_type, filters, format, rows, channel, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                &[
                    Param::Int(self.actor.user_id),
                    Param::from(self.source.audit_code()),
                    Param::from(Value::Object(filters).to_string()),
                    Param::from(self.format.code()),
                    Param::Int(self.rows as i64),
                    Param::from(self.channel.code()),
                    Param::Int(self.at.timestamp_millis()),
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Writes the whole export to `out` and records it; returns the number of rows. CSV goes
    /// out page by page; XLSX is built in rust_xlsxwriter's constant-memory mode (rows go to a
    /// temporary file) and written when complete, as a zip file can only be finished at the end.
    pub async fn write_to(mut self, out: &mut (impl Write + Send)) -> StoreResult<u64> {
        match self.format {
            Format::Csv => {
                while let Some(chunk) = self.next_csv_chunk().await? {
                    out.write_all(&chunk).map_err(anyhow::Error::from)?;
                }
            }
            Format::Xlsx => {
                let bytes = self.xlsx().await?;
                out.write_all(&bytes).map_err(anyhow::Error::from)?;
                self.record().await?;
            }
        }
        out.flush().map_err(anyhow::Error::from)?;
        Ok(self.rows)
    }

    /// The next bytes of a CSV export: the BOM and header first, then one chunk per page. The
    /// export is recorded before the last chunk is handed out, so a client that has the whole
    /// file finds it in the audit.
    async fn next_csv_chunk(&mut self) -> StoreResult<Option<Vec<u8>>> {
        let first = self.rows == 0 && self.pending.is_some();
        let Some(rows) = self.next_rows().await? else {
            return Ok(None);
        };
        let mut w = csv::Writer::from_writer(if first { BOM.to_vec() } else { Vec::new() });
        let io = |e: csv::Error| StoreError::Internal(e.into());
        if first {
            w.write_record(self.header()).map_err(io)?;
        }
        for row in rows {
            w.write_record(row.iter().map(Cell::csv)).map_err(io)?;
        }
        if self.pending.is_none() {
            self.record().await?;
        }
        Ok(Some(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?))
    }

    /// The CSV export as a stream of chunks for an HTTP body.
    pub fn csv_stream(self) -> impl Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static {
        futures_util::stream::try_unfold(self, |mut export| async move {
            match export.next_csv_chunk().await {
                Ok(Some(chunk)) => Ok(Some((chunk, export))),
                Ok(None) => Ok(None),
                Err(e) => {
                    tracing::error!(error = %e, "an export failed while streaming");
                    Err(std::io::Error::other(e.to_string()))
                }
            }
        })
    }

    /// Builds the XLSX file. Text goes in as strings, never formulas, whatever it starts with.
    async fn xlsx(&mut self) -> StoreResult<Vec<u8>> {
        use rust_xlsxwriter::{Format as CellFormat, Workbook};
        let xlsx = |e: rust_xlsxwriter::XlsxError| StoreError::Internal(e.into());
        let bold = CellFormat::new().set_bold();
        let instant = CellFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        let date = CellFormat::new().set_num_format("yyyy-mm-dd");
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet_with_constant_memory();
        sheet.set_name(self.source.name()).map_err(xlsx)?;
        for (col, title) in self.header().into_iter().enumerate() {
            sheet
                .write_string_with_format(0, col as u16, title, &bold)
                .map_err(xlsx)?;
        }
        let mut row_num: u32 = 0;
        while let Some(rows) = self.next_rows().await? {
            for row in rows {
                row_num += 1;
                for (col, cell) in row.into_iter().enumerate() {
                    let col = col as u16;
                    match cell {
                        Cell::Empty => continue,
                        Cell::Text(t) => sheet.write_string(row_num, col, t),
                        Cell::Number(n) => sheet.write_number(row_num, col, n),
                        Cell::Instant(t) => {
                            sheet.write_datetime_with_format(row_num, col, t, &instant)
                        }
                        Cell::Date(d) => sheet.write_date_with_format(row_num, col, d, &date),
                    }
                    .map_err(xlsx)?;
                }
            }
        }
        workbook.save_to_buffer().map_err(xlsx)
    }
}

/// A value as a cell: lists (tags, multi-select custom fields) joined with ", ".
fn value_cell(value: &Value) -> Cell {
    match value {
        Value::Null => Cell::Empty,
        Value::Bool(b) => Cell::Text(b.to_string()),
        Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
        Value::String(s) => Cell::Text(s.clone()),
        Value::Array(items) => Cell::Text(
            items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Value::Object(_) => Cell::Text(value.to_string()),
    }
}

/// The columns of a record export: every field but the derived ones, then one per custom
/// field; `deleted_at` only when deleted records are asked for.
async fn record_columns(
    db: &Db,
    table: &'static Table,
    filters: &[(String, String)],
) -> StoreResult<Vec<Column>> {
    let deleted = filters
        .iter()
        .any(|(k, v)| k == "deleted" && matches!(v.trim(), "true" | "1"));
    let mut columns: Vec<Column> = table
        .fields
        .iter()
        .filter(|f| match f.kind {
            // The normalised forms repeat the entered ones; custom fields get a column each.
            Kind::Derived | Kind::Custom => false,
            _ => deleted || f.name != "deleted_at",
        })
        .map(|f| Column::Field(f.name, f.kind))
        .collect();
    for def in crate::records::custom_fields::definitions(db, table.record_type).await? {
        columns.push(Column::Custom(def.key));
    }
    Ok(columns)
}

fn page_query(filters: &[(String, String)], cursor: Option<&str>) -> Vec<(String, String)> {
    let mut query = filters.to_vec();
    query.push(("limit".into(), PAGE.into()));
    if let Some(cursor) = cursor {
        query.push(("cursor".into(), cursor.into()));
    }
    query
}

/// One export as the export audit keeps it: who, what, how many rows.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Export, description = "One export: who, what, how many rows")]
pub struct ExportEntry {
    /// Unique id
    pub id: i64,
    /// Who exported
    pub user_id: i64,
    /// Their username
    #[schema(required = true)]
    pub username: Option<String>,
    #[schema(schema_with = record_type_schema)]
    pub record_type: String,
    /// The list parameters the export was made with, by name (for a person's data, the phone
    /// and e-mail searched for)
    pub filters: Value,
    #[schema(schema_with = format_schema)]
    pub format: String,
    /// How many records the file holds
    pub rows: i64,
    #[schema(schema_with = channel_schema)]
    pub channel: String,
    #[schema(schema_with = at_schema)]
    pub at: String,
}

fn record_type_schema() -> ObjectBuilder {
    let mut types: Vec<&str> = SOURCES.iter().map(|s| s.audit_code()).collect();
    types.push("person");
    schema::codes(
        types,
        false,
        "What was exported: a list, or a person's data",
    )
}

fn format_schema() -> ObjectBuilder {
    schema::codes(
        ["csv", "xlsx", "json"],
        false,
        "File format; json for a person's data",
    )
}

fn channel_schema() -> ObjectBuilder {
    schema::codes(
        [
            Channel::Ui,
            Channel::Api,
            Channel::Import,
            Channel::Rule,
            Channel::Job,
        ]
        .map(Channel::code),
        false,
        "How it was made; `job` for the command line",
    )
}

fn at_schema() -> ObjectBuilder {
    schema::date_time(false, "When")
}

/// A row of `exports` with the exporter's username (null once the user is gone).
#[derive(Deserialize)]
struct StoredExport {
    id: i64,
    user_id: i64,
    username: Option<String>,
    record_type: String,
    filters: String,
    format: String,
    rows: i64,
    channel: String,
    at: i64,
}

impl ExportEntry {
    fn read(r: &Row) -> Result<ExportEntry, DecodeError> {
        let stored: StoredExport = r.decode()?;
        Ok(ExportEntry {
            id: stored.id,
            user_id: stored.user_id,
            username: stored.username,
            record_type: stored.record_type,
            filters: serde_json::from_str::<Value>(&stored.filters).unwrap_or(json!({})),
            format: stored.format,
            rows: stored.rows,
            channel: stored.channel,
            at: records::rfc3339(stored.at),
        })
    }
}

/// One page of exports, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "One page of exports, newest first")]
pub struct ExportList {
    /// The exports
    pub items: Vec<ExportEntry>,
    /// Pass as `cursor` for the next page; null on the last page
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The export audit, newest first: an admin sees every export, anyone else their own.
/// `?limit=` (1–500, default 50) and `?cursor=` (the `next_cursor` of the previous page).
pub async fn audit(db: &Db, actor: &Actor, params: &[(String, String)]) -> StoreResult<ExportList> {
    let mut limit = 50_i64;
    let mut before: Option<i64> = None;
    for (name, value) in params {
        match name.as_str() {
            "limit" => {
                limit = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| Invalid::new("limit", "must be a whole number from 1 to 500"))?
            }
            "cursor" => {
                before = Some(value.trim().parse().map_err(|_| {
                    Invalid::new(
                        "cursor",
                        "is not a cursor from a previous page of this list",
                    )
                })?)
            }
            other => {
                return Err(Invalid::new(
                    other,
                    "is not a parameter of this list (accepted: limit, cursor)",
                )
                .into())
            }
        }
    }
    let mut conditions = vec!["1 = 1".to_owned()];
    let mut args = Vec::new();
    if !actor.is_admin() {
        conditions.push("e.user_id = ?".into());
        args.push(Param::Int(actor.user_id));
    }
    if let Some(before) = before {
        conditions.push("e.id < ?".into());
        args.push(Param::Int(before));
    }
    let rows = db
        .fetch_all(
            &format!(
                "SELECT e.id, e.user_id, u.username, e.record_type, e.filters, e.format, e.rows, e.channel, e.at \
                 FROM exports e LEFT JOIN users u ON u.id = e.user_id WHERE {} ORDER BY e.id DESC LIMIT {}",
                conditions.join(" AND "),
                limit + 1
            ),
            &args,
        )
        .await?;
    let more = rows.len() as i64 > limit;
    let items: Vec<ExportEntry> = rows
        .iter()
        .take(limit as usize)
        .map(ExportEntry::read)
        .collect::<Result<_, _>>()?;
    let next_cursor = if more {
        items.last().map(|i| i.id.to_string())
    } else {
        None
    };
    Ok(ExportList { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_text_is_neutralised_and_other_text_is_not() {
        for bad in [
            "=HYPERLINK(\"http://x\")",
            "+86 138 0013 8000",
            "-1+2",
            "@SUM(1)",
            "\tx",
            "\r=1",
        ] {
            assert_eq!(neutralise(bad), format!("'{bad}"), "{bad:?}");
        }
        for fine in ["张三", "a=b", "13800138000", "", "'quoted"] {
            assert_eq!(neutralise(fine), fine);
        }
    }

    #[test]
    fn only_text_cells_are_neutralised() {
        assert_eq!(Cell::Number(-5.0).csv(), "-5");
        assert_eq!(Cell::Text("-5".into()).csv(), "'-5");
        assert_eq!(value_cell(&json!(["=a", "b"])).csv(), "'=a, b");
    }

    #[test]
    fn every_exported_field_has_both_labels() {
        for table in TABLES {
            for field in table.fields {
                if matches!(field.kind, Kind::Derived | Kind::Custom) {
                    continue;
                }
                let (zh, en) = label(Source::Records(table), field.name);
                assert!(
                    !zh.is_empty() && !en.is_empty(),
                    "{}.{}",
                    table.name,
                    field.name
                );
            }
        }
    }

    #[test]
    fn every_follow_up_column_has_both_labels_and_sources_are_named() {
        for (name, _) in ACTIVITY_COLUMNS {
            let (zh, en) = label(Source::Activities, name);
            assert!(!zh.is_empty() && !en.is_empty(), "activities.{name}");
        }
        for source in SOURCES {
            assert_eq!(Source::named(source.name()).unwrap().name(), source.name());
        }
        let refused = Source::named("users").unwrap_err();
        assert!(refused
            .message
            .contains("leads, accounts, contacts, opportunities, activities"));
    }

    #[test]
    fn formats_parse_and_limits_are_refused() {
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect()
        };
        let (format, filters) = split_format(&q(&[("format", "xlsx"), ("status", "new")])).unwrap();
        assert_eq!(format, Format::Xlsx);
        assert_eq!(filters, q(&[("status", "new")]));
        assert_eq!(split_format(&[]).unwrap().0, Format::Csv);
        assert!(split_format(&q(&[("format", "pdf")])).is_err());
        assert!(split_format(&q(&[("limit", "5")])).is_err());
    }
}
