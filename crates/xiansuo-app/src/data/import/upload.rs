//! Imports through the HTTP API: a file of leads, accounts, contacts, opportunities or
//! activities is uploaded and checked (format, encoding, header row, a preview of its first
//! rows under the proposed column mapping), then started with the caller's choices and run in
//! the background by the same engine as the command line ([`super::run`] for leads,
//! [`super::objects::engine`] for the other kinds).
//!
//! The file is kept in the database (`import_upload_chunks`, bytes in 1 MiB pieces), not on
//! the disk of the instance that received it, so that any instance sharing the database can
//! run the import, show its progress and serve its error report. A run copies it to a
//! temporary file, because the readers need a file they can seek in; the pieces are deleted
//! once the import has finished. Reported rows go to `import_upload_rows` in the transaction of
//! their batch, so a run that is interrupted and started again reports every row once.
//!
//! A file of leads is imported once: its run in `imports` is keyed by the file's SHA-256. The
//! other kinds update by external id, so the same file may be uploaded and run again (after the
//! accounts its contacts name have been imported, say); each upload's run is keyed by the
//! upload (`upload:ID`).
//!
//! An upload belongs to the user who sent it: to anyone else it does not exist.
//!
//! The API shows an upload as an [`ImportUpload`] (with the proposed mapping and the preview
//! when it is new, [`Uploaded`]) and takes the choices of a start as [`StartChoices`], read
//! once the upload is known to be the caller's.

use super::mapping::{CustomColumn, Mapping, FIELDS, IMPORT_FIELDS};
use super::objects::engine;
use super::objects::headers::{Object, ObjectMapping};
use super::source::{self, SourceRow};
use super::{
    check_rows, custom_columns, Dedup, ImportFile, Options, ReportTo, RowReport, RowResult,
};
use crate::error::{StoreError, StoreResult};
use crate::records::rfc3339;
use crate::scope::Actor;
use futures_util::Stream;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use utoipa::openapi::schema::{AdditionalProperties, SchemaType, Type};
use utoipa::openapi::{ArrayBuilder, ObjectBuilder};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::schema;
use xiansuo_core::validation::Unread;
use xiansuo_core::{Clock, Invalid, Region};
use xiansuo_store::{Db, Param, Row};

/// The largest file accepted.
pub const UPLOAD_LIMIT: u64 = 100 * 1024 * 1024;

/// Rows shown in the preview of an upload.
pub const PREVIEW_ROWS: usize = 10;

/// Bytes of the file per stored piece.
const PIECE: usize = 1024 * 1024;

/// Rows per transaction, as on the command line.
const BATCH: usize = 1_000;

/// A run that has committed nothing for this long is taken to have died with its instance,
/// and may be started again; it then continues after its last committed batch.
const STALE_MS: i64 = 10 * 60 * 1000;

/// Report lines per piece of the streamed error report.
const REPORT_PAGE: i64 = 2_000;

/// The kind of record an upload imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Lead,
    Object(Object),
}

impl Kind {
    /// Every kind, in the order to import them: the records first, then what links to them.
    pub const ALL: [Kind; 5] = [
        Kind::Lead,
        Kind::Object(Object::Account),
        Kind::Object(Object::Contact),
        Kind::Object(Object::Opportunity),
        Kind::Object(Object::Activity),
    ];

    /// The singular code, as `imports` and `import_uploads` store it.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Lead => "lead",
            Kind::Object(o) => o.code(),
        }
    }

    /// The plural, as the API and the command line name it.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Lead => "leads",
            Kind::Object(o) => o.plural(),
        }
    }

    /// A kind by its plural or singular code.
    pub fn parse(code: &str) -> Result<Kind, Invalid> {
        let code = code.trim();
        Kind::ALL
            .into_iter()
            .find(|k| k.plural() == code || k.code() == code)
            .ok_or_else(|| {
                Invalid::new(
                    "kind",
                    format!("'{code}' is not a kind of import (accepted: leads, accounts, contacts, opportunities, activities)"),
                )
            })
    }

    fn of_row(row: &Row) -> Kind {
        let code = row.text("record_type");
        Kind::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .unwrap_or(Kind::Lead)
    }
}

/// The custom fields columns may go to, by kind, read once per kind.
#[derive(Default)]
struct Customs(HashMap<&'static str, Vec<CustomColumn>>);

impl Customs {
    async fn of(&mut self, db: &Db, kind: Kind) -> anyhow::Result<&[CustomColumn]> {
        if !self.0.contains_key(kind.code()) {
            let columns = match kind {
                Kind::Lead => custom_columns(db).await?,
                Kind::Object(o) => engine::custom_columns(db, o).await?,
            };
            self.0.insert(kind.code(), columns);
        }
        Ok(self
            .0
            .get(kind.code())
            .map(Vec::as_slice)
            .unwrap_or_default())
    }
}

/// A column mapping of either kind.
enum AnyMapping {
    Lead(Mapping),
    Object(ObjectMapping),
}

impl AnyMapping {
    fn new(
        kind: Kind,
        headers: &[String],
        custom: &[CustomColumn],
        overrides: &BTreeMap<String, String>,
    ) -> anyhow::Result<AnyMapping> {
        Ok(match kind {
            Kind::Lead => AnyMapping::Lead(Mapping::new(headers, custom, overrides)?),
            Kind::Object(o) => {
                AnyMapping::Object(ObjectMapping::new(o, headers, custom, overrides)?)
            }
        })
    }

    /// The mapping to show and correct, and why it cannot be imported as it is. A file of
    /// another kind than leads without a column for the name still shows where its other
    /// columns go.
    fn proposed(
        kind: Kind,
        headers: &[String],
        custom: &[CustomColumn],
        overrides: &BTreeMap<String, String>,
    ) -> (Option<AnyMapping>, Option<String>) {
        let proposed = match kind {
            Kind::Lead => Mapping::new(headers, custom, overrides).map(AnyMapping::Lead),
            Kind::Object(o) => {
                ObjectMapping::proposed(o, headers, custom, overrides).map(AnyMapping::Object)
            }
        };
        match proposed {
            Ok(mapping) => {
                let error = match &mapping {
                    AnyMapping::Object(m) => m.complete().err().map(|e| e.to_string()),
                    AnyMapping::Lead(_) => None,
                };
                (Some(mapping), error)
            }
            Err(e) => (None, Some(e.to_string())),
        }
    }

    /// Where each column goes (no field: not imported).
    fn columns(&self) -> Vec<Column> {
        let pairs: Vec<(&str, Option<String>)> = match self {
            AnyMapping::Lead(m) => m
                .describe()
                .into_iter()
                .map(|(h, t)| (h, t.map(ToString::to_string)))
                .collect(),
            AnyMapping::Object(m) => m
                .describe()
                .into_iter()
                .map(|(h, t)| (h, t.map(ToString::to_string)))
                .collect(),
        };
        pairs
            .into_iter()
            .map(|(header, field)| Column {
                header: header.to_owned(),
                field,
            })
            .collect()
    }

    fn unmapped(&self) -> Vec<String> {
        let unmapped = match self {
            AnyMapping::Lead(m) => m.unmapped(),
            AnyMapping::Object(m) => m.unmapped(),
        };
        unmapped.into_iter().map(str::to_owned).collect()
    }
}

/// Where a column of `kind` can go: its fields, then `custom.KEY` of its custom fields.
pub fn targets(kind: Kind, custom: &[CustomColumn]) -> Vec<String> {
    let fields: Vec<&str> = match kind {
        Kind::Lead => FIELDS.iter().chain(IMPORT_FIELDS).copied().collect(),
        Kind::Object(o) => o.targets().to_vec(),
    };
    fields
        .into_iter()
        .map(str::to_owned)
        .chain(custom.iter().map(|c| format!("custom.{}", c.key)))
        .collect()
}

/// The custom fields of `kind` that columns can be mapped to.
pub async fn custom_columns_of(db: &Db, kind: Kind) -> StoreResult<Vec<CustomColumn>> {
    Ok(Customs::default().of(db, kind).await?.to_vec())
}

/// Where a column of a file goes.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ImportColumn, description = "A column of the file")]
pub struct Column {
    /// Its header
    pub header: String,
    #[schema(schema_with = column_field_schema, required = true)]
    pub field: Option<String>,
}

/// The rows of an import handled so far.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(
    as = ImportProgress,
    description = "Rows handled so far, committed batch by batch"
)]
pub struct Progress {
    /// Rows read and handled
    pub rows: i64,
    /// Records created
    pub imported: i64,
    /// Records updated, found by the external id of the row (accounts, contacts, opportunities, activities; 0 for leads)
    pub updated: i64,
    /// Duplicates and empty rows left out
    pub skipped: i64,
    /// Rows refused
    pub failed: i64,
    /// Leads imported although possible duplicates (the `warn` action), flagged for review
    pub warned: i64,
    /// Imported with a warning about their data: a phone kept unverified as entered, an outcome date that is not a date, a converted-into id that matches nothing, an owner or a linked record not found (result `warning` in the row report)
    pub warnings: i64,
}

/// An upload of the caller's, with the mapping it is (or was) imported with and the progress
/// of its import.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Import, description = "An uploaded import file")]
pub struct ImportUpload {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// Who uploaded it; nobody else sees it
    #[schema(minimum = 1)]
    pub user_id: i64,
    /// The file's name
    pub file_name: String,
    /// Bytes
    pub file_size: i64,
    /// What the file was read as, e.g. `CSV, GBK/GB18030, comma-separated`
    pub format: String,
    #[schema(schema_with = headers_schema)]
    pub headers: Vec<String>,
    /// Where each column goes, with the mapping given at start; for leads null while no column gives the name (other kinds show their columns and say so in `mapping_error`)
    #[schema(required = true)]
    pub mapping: Option<Vec<Column>>,
    #[schema(schema_with = unmapped_schema, required = true)]
    pub unmapped: Option<Vec<String>>,
    #[schema(schema_with = targets_schema)]
    pub targets: Vec<String>,
    /// Rows in the file, estimated from its lines
    pub estimated_rows: i64,
    #[schema(schema_with = state_schema)]
    pub state: String,
    /// The choices it was started with, as stored: `mapping` and `owner_id`, and for leads
    /// `dedup`, `dedup_probable`, `country` and `source`.
    #[schema(schema_with = options_schema, required = true)]
    pub options: Option<Value>,
    pub progress: Progress,
    /// Why it failed
    #[schema(required = true)]
    pub error: Option<String>,
    /// The path of the error report, when some row was reported
    #[schema(required = true)]
    pub errors_csv: Option<String>,
    #[schema(schema_with = uploaded_at_schema)]
    pub created_at: String,
    #[schema(schema_with = progressed_at_schema)]
    pub updated_at: String,
    #[schema(schema_with = started_at_schema, required = true)]
    pub started_at: Option<String>,
    #[schema(schema_with = finished_at_schema, required = true)]
    pub finished_at: Option<String>,
}

/// A new upload, with the mapping proposed for it and a preview of its first rows.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = UploadedImport,
    description = "A new upload, with the proposed mapping and a preview"
)]
pub struct Uploaded {
    #[serde(flatten)]
    pub upload: ImportUpload,
    /// Why the columns cannot be mapped as they are; give a `mapping` at start
    #[schema(required = true)]
    pub mapping_error: Option<String>,
    /// The first 10 rows, checked as the import would check them
    #[schema(max_items = 10)]
    pub preview: Vec<PreviewLine>,
}

/// A row of a preview: what it becomes, and what the import would do with it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ImportPreviewRow, description = "What a row would become")]
pub struct PreviewLine {
    /// Its row number as a spreadsheet shows it (the header is 1)
    pub row: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = previewed_lead_schema)]
    pub lead: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = previewed_record_schema)]
    pub record: Option<Value>,
    #[schema(schema_with = row_result_schema)]
    pub result: String,
    /// The field at fault
    #[schema(required = true)]
    pub field: Option<String>,
    /// Why
    #[schema(required = true)]
    pub reason: Option<String>,
}

impl PreviewLine {
    /// A row of a file of leads: the lead body it gives.
    fn of_lead(row: u64, lead: Value, report: Option<RowReport>) -> PreviewLine {
        PreviewLine {
            lead: Some(lead),
            ..PreviewLine::of(row, report)
        }
    }

    /// A row of a file of another kind: what it would do, or null when refused.
    fn of_record(row: u64, record: Value, report: Option<RowReport>) -> PreviewLine {
        PreviewLine {
            record: Some(record),
            ..PreviewLine::of(row, report)
        }
    }

    fn of(row: u64, report: Option<RowReport>) -> PreviewLine {
        let (result, field, reason) = match report {
            Some(r) => (
                r.result.code().to_owned(),
                (!r.field.is_empty()).then_some(r.field),
                Some(r.reason),
            ),
            None => ("ok".to_owned(), None, None),
        };
        PreviewLine {
            row: i64::try_from(row).unwrap_or(i64::MAX),
            lead: None,
            record: None,
            result,
            field,
            reason,
        }
    }
}

/// One page of the caller's uploads.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "One page of your imports, newest first")]
pub struct ImportList {
    /// The imports
    pub items: Vec<ImportUpload>,
    /// Pass as `cursor` for the next page; null on the last page
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The choices of a start as a request gives them (`POST /api/v1/imports/{id}/start`); a
/// choice left out or null takes its default.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ImportStart, description = "How to import")]
pub struct StartChoices {
    #[serde(default, deserialize_with = "header_fields")]
    #[schema(schema_with = start_mapping_schema)]
    pub mapping: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "dedup_policy")]
    #[schema(schema_with = dedup_schema)]
    pub dedup: Option<String>,
    #[serde(default, deserialize_with = "dedup_policy")]
    #[schema(schema_with = dedup_probable_schema)]
    pub dedup_probable: Option<String>,
    #[serde(default, deserialize_with = "country_name")]
    #[schema(schema_with = country_schema)]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "source_code")]
    #[schema(schema_with = source_schema)]
    pub source: Option<String>,
    /// Who owns the imported leads, or the other records whose owner column names no user (default: you); within your data scope
    #[serde(default, deserialize_with = "user_id")]
    #[schema(minimum = 1)]
    pub owner_id: Option<i64>,
}

/// `mapping` as sent: header → field, or null for none.
fn header_fields<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Object(pairs) => pairs
            .into_iter()
            .map(|(header, field)| match field {
                Value::String(field) => Ok((header, field)),
                _ => Err(D::Error::custom(format!(
                    "'{header}' must map to a field name (name, phone, custom.KEY, ignore, …)"
                ))),
            })
            .collect::<Result<BTreeMap<String, String>, D::Error>>()
            .map(Some),
        _ => Err(D::Error::custom(
            "must be an object of header → field, such as {\"手机号码\": \"phone\"}",
        )),
    }
}

/// A choice of a start that is a string, or null for its default; `wrong` says what else it
/// must be.
fn string_or_null<'de, D: Deserializer<'de>>(
    d: D,
    wrong: &str,
) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(D::Error::custom(wrong)),
    }
}

fn dedup_policy<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    string_or_null(d, "must be skip, block, warn or merge")
}

fn country_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    string_or_null(d, "must be a country code such as US")
}

fn source_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    string_or_null(d, "must be a source code")
}

fn user_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        id => id
            .as_i64()
            .map(Some)
            .ok_or_else(|| D::Error::custom("must be a user id")),
    }
}

const KIND_CODES: [&str; 5] = [
    "leads",
    "accounts",
    "contacts",
    "opportunities",
    "activities",
];

const DEDUP_CODES: [&str; 4] = ["skip", "block", "warn", "merge"];

fn kind_schema() -> ObjectBuilder {
    schema::codes(KIND_CODES, false, "The kind of record the file holds")
}

xiansuo_core::shape! {
    /// The kind of an upload as `?kind=` takes it, leads by default; for the document of the
    /// handler (`inline(Option<KindCode>)`).
    pub KindCode => kind_schema().default(Some(json!("leads")))
}

fn any_value(doc: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .description(Some(doc))
}

fn column_field_schema() -> ObjectBuilder {
    schema::string(
        true,
        "The field or target of the kind (`custom.KEY` for custom fields, `account_ref` for a link by the source system's id, …); null: not imported",
    )
}

fn headers_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(schema::string(false, "A header"))
        .description(Some("The header row"))
}

fn unmapped_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .schema_type(schema::typed(Type::Array, true))
        .items(schema::string(false, "A header"))
        .description(Some("Headers that are not imported"))
}

fn targets_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(schema::string(false, "A field, or `custom.KEY`"))
        .description(Some(
            "Where a column of this kind can go, for `mapping` at start (or `ignore`)",
        ))
}

fn state_schema() -> ObjectBuilder {
    schema::codes(
        ["uploaded", "running", "finished", "failed"],
        false,
        "`uploaded`: waiting to be started; `failed`: see `error`, may be started again",
    )
}

fn options_schema() -> ObjectBuilder {
    let code = |doc: &str| schema::string(true, doc);
    schema::scalar(
        Type::Object,
        true,
        "The options it was started with; null before",
    )
    .property(
        "mapping",
        schema::scalar(Type::Object, false, "Header → field, as given").additional_properties(
            Some(AdditionalProperties::RefOr(
                schema::string(false, "A field").into(),
            )),
        ),
    )
    .property("dedup", code("Leads: for certain duplicates"))
    .property("dedup_probable", code("Leads: for probable duplicates"))
    .property("country", code("Leads: the country of rows without one"))
    .property("source", code("Leads: the source of rows without one"))
    .property(
        "owner_id",
        schema::scalar(Type::Integer, true, "Who owns the imported records"),
    )
}

fn uploaded_at_schema() -> ObjectBuilder {
    schema::date_time(false, "Uploaded")
}

fn progressed_at_schema() -> ObjectBuilder {
    schema::date_time(false, "Last progress")
}

fn started_at_schema() -> ObjectBuilder {
    schema::date_time(true, "Started")
}

fn finished_at_schema() -> ObjectBuilder {
    schema::date_time(true, "Finished")
}

fn previewed_lead_schema() -> ObjectBuilder {
    any_value("Leads only: the lead body the row gives")
}

fn previewed_record_schema() -> ObjectBuilder {
    any_value("Other kinds only: what the row would do, `{\"create\": body}` or `{\"update\": id, \"body\": changes}` (with `closing`, a deal's won or lost state), or the activity; null when refused")
}

fn row_result_schema() -> ObjectBuilder {
    schema::codes(
        ["ok", "failed", "skipped", "imported", "merged", "warning"],
        false,
        "What the import would do with it (default choices): `imported` flagged as a possible duplicate, `warning` imported with a warning about its data",
    )
}

fn start_mapping_schema() -> ObjectBuilder {
    schema::scalar(
        Type::Object,
        true,
        "Header → field (`name`, `phone`, `account_ref`, `custom.KEY`, `ignore`, …; see the upload's `targets`), over the automatic mapping; for opportunities `stage:NAME` → a stage code names a stage of the file",
    )
    .additional_properties(Some(AdditionalProperties::RefOr(
        schema::string(false, "A field").into(),
    )))
}

fn dedup_schema() -> ObjectBuilder {
    schema::codes(
        DEDUP_CODES,
        true,
        "Leads only. A row that certainly duplicates a lead, a contact, an account or an earlier row (the same phone, email or external id): left out (`skip`, the default), reported as failed (`block`), imported flagged and reported (`warn`), or merged into the lead it duplicates (`merge`)",
    )
}

fn dedup_probable_schema() -> ObjectBuilder {
    schema::codes(
        DEDUP_CODES,
        true,
        "Leads only. The same for a row that probably duplicates one (the same name at the same company, no exact key in common); default: the import channel's policy for probable matches (`GET /api/v1/dedup/probable-policies`, source of the row), which flags it for review unless an admin chose otherwise",
    )
}

fn country_schema() -> ObjectBuilder {
    schema::string(
        true,
        "Leads only. The country of rows whose Country column is empty or missing, which reads their phones: an ISO code (`US`) or a name (`United States`, `美国`); default China",
    )
}

fn source_schema() -> ObjectBuilder {
    schema::string(
        true,
        "Leads only. The source of rows that name none (default `import`)",
    )
}

fn bad_file(message: impl std::fmt::Display) -> StoreError {
    Invalid::new("file", message.to_string()).into()
}

/// Checks a received file of `kind` (`path`, as the client named it `name`) and stores it;
/// answers with the upload, the proposed mapping and a preview of the first rows. A file that
/// cannot be read as CSV or XLSX, or has no rows under its header, is refused with the reason.
pub async fn create(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    path: &Path,
    name: &str,
    kind: Kind,
) -> StoreResult<Uploaded> {
    let size = std::fs::metadata(path).map_err(anyhow::Error::from)?.len();
    if size == 0 {
        return Err(bad_file(format!(
            "the file is empty: send a CSV or XLSX file with a header row and rows of {}",
            kind.plural()
        )));
    }
    let format = source::detect(path).map_err(bad_file)?;
    let mut sheet = source::open(path).await.map_err(bad_file)?;
    let mut rows: Vec<SourceRow> = Vec::with_capacity(PREVIEW_ROWS);
    while rows.len() < PREVIEW_ROWS {
        match sheet.rows.recv().await {
            Some(row) => rows.push(row.map_err(bad_file)?),
            None => break,
        }
    }
    if rows.is_empty() {
        return Err(bad_file(format!(
            "the file has a header row but no rows of {} under it",
            kind.plural()
        )));
    }
    let import_file = ImportFile::open(path).await?;
    let done = match kind {
        Kind::Lead => super::previous(db, &import_file).await?,
        Kind::Object(_) => None,
    };
    if let Some(done) = done.filter(|p| p.finished) {
        return Err(StoreError::Conflict(format!(
            "this file was imported already ({} leads imported, {} skipped, {} failed); a file is imported once",
            done.counts.imported, done.counts.skipped, done.counts.failed
        )));
    }
    let custom = Customs::default().of(db, kind).await?.to_vec();
    let (mapping, mapping_error) =
        AnyMapping::proposed(kind, &sheet.headers, &custom, &BTreeMap::new());
    let preview = match mapping.filter(|_| mapping_error.is_none()) {
        Some(AnyMapping::Object(mapping)) => {
            let options = object_options(0, mapping, None);
            engine::check_rows(db, actor, clock, rows, &options)
                .await?
                .into_iter()
                .map(|p| PreviewLine::of_record(p.row, p.shown, one_report(&p.reports)))
                .collect()
        }
        Some(AnyMapping::Lead(mapping)) => {
            let options = options_for(0, mapping, &Start::default());
            check_rows(db, actor, clock, &rows, &options)
                .await?
                .into_iter()
                .map(|p| PreviewLine::of_lead(p.row, p.body, p.report))
                .collect()
        }
        None => Vec::new(),
    };
    // The reader thread is done with: only the bytes are stored.
    let headers = std::mem::take(&mut sheet.headers);
    drop(sheet);

    let now = to_millis(clock.now());
    let name = xiansuo_core::Text::parse_optional("file_name", name, 255)?
        .map_or_else(|| "upload".to_owned(), xiansuo_core::Text::into_string);
    let mut tx = db.begin().await?;
    let id = tx
        .insert_returning_id(
            "INSERT INTO import_uploads (record_type, user_id, file_name, file_size, file_sha256, format, headers, estimated_rows, state, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'uploaded', ?, ?)",
            &[
                Param::from(kind.code()),
                Param::Int(actor.user_id),
                Param::from(name),
                Param::Int(size as i64),
                Param::from(import_file.sha256.as_str()),
                Param::from(format.to_string()),
                Param::from(serde_json::to_string(&headers).map_err(anyhow::Error::from)?),
                Param::Int(import_file.estimated_rows as i64),
                Param::Int(now),
                Param::Int(now),
            ],
        )
        .await?;
    let run_key = match kind {
        Kind::Lead => import_file.sha256.clone(),
        Kind::Object(_) => format!("upload:{id}"),
    };
    tx.execute(
        "UPDATE import_uploads SET run_key = ? WHERE id = ?",
        &[Param::from(run_key), Param::Int(id)],
    )
    .await?;
    let mut reader = std::fs::File::open(path).map_err(anyhow::Error::from)?;
    let mut piece = vec![0_u8; PIECE];
    let mut seq = 0_i64;
    loop {
        let n = read_full(&mut reader, &mut piece).map_err(anyhow::Error::from)?;
        if n == 0 {
            break;
        }
        tx.execute(
            "INSERT INTO import_upload_chunks (upload_id, seq, data) VALUES (?, ?, ?)",
            &[Param::Int(id), Param::Int(seq), Param::from(&piece[..n])],
        )
        .await?;
        seq += 1;
    }
    tx.commit().await?;

    Ok(Uploaded {
        upload: get(db, actor, id).await?,
        mapping_error,
        preview,
    })
}

/// Reads until `buf` is full or the file ends.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn options_for(upload: i64, mapping: Mapping, choices: &Start) -> Options {
    Options {
        mapping,
        dedup: choices.dedup,
        probable: choices.probable,
        country: choices.country,
        source: choices.source.clone(),
        owner_id: choices.owner_id,
        batch_size: BATCH,
        report_to: ReportTo::Upload(upload),
    }
}

fn object_options(upload: i64, mapping: ObjectMapping, owner_id: Option<i64>) -> engine::Options {
    engine::Options {
        mapping,
        owner_id,
        batch_size: BATCH,
        report_to: ReportTo::Upload(upload),
    }
}

/// A preview row's reports as the one report an upload keeps per row.
fn one_report(reports: &[RowReport]) -> Option<RowReport> {
    let first = reports.first()?;
    let failed = reports.iter().any(|r| r.result == RowResult::Failed);
    Some(RowReport {
        result: if failed {
            RowResult::Failed
        } else if first.result == RowResult::Imported {
            RowResult::Warning
        } else {
            first.result
        },
        reason: reports
            .iter()
            .map(|r| r.reason.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        ..first.clone()
    })
}

const UPLOAD_COLUMNS: &str = "u.id, u.record_type, u.run_key, u.user_id, u.file_name, \
     u.file_size, u.file_sha256, u.format, u.headers, u.estimated_rows, u.state, u.options, \
     u.error, u.created_at, u.updated_at, u.started_at, u.finished_at, i.rows_done, i.imported, \
     i.updated, i.skipped, i.failed, i.updated_at AS progress_at";

/// The run of an upload in `imports`.
const RUN_JOIN: &str =
    "LEFT JOIN imports i ON i.record_type = u.record_type AND i.file_sha256 = u.run_key";

/// An upload of `actor`, with the progress of its import.
async fn fetch(db: &Db, actor: &Actor, id: i64) -> StoreResult<Row> {
    db.fetch_optional(
        &format!(
            "SELECT {UPLOAD_COLUMNS} FROM import_uploads u {RUN_JOIN} \
             WHERE u.id = ? AND u.user_id = ?"
        ),
        &[Param::Int(id), Param::Int(actor.user_id)],
    )
    .await?
    .ok_or(StoreError::NotFound("import"))
}

fn headers_of(row: &Row) -> Vec<String> {
    serde_json::from_str(&row.text("headers")).unwrap_or_default()
}

fn options_of(row: &Row) -> Option<Value> {
    row.opt_text("options")
        .and_then(|o| serde_json::from_str(&o).ok())
}

/// The overrides an upload was started with.
fn overrides_of(options: Option<&Value>) -> BTreeMap<String, String> {
    options
        .and_then(|o| o.get("mapping"))
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default()
}

async fn read_upload(db: &Db, row: &Row, customs: &mut Customs) -> anyhow::Result<ImportUpload> {
    let id = row.int("id");
    let kind = Kind::of_row(row);
    let custom = customs.of(db, kind).await?;
    let state = row.text("state");
    let options = options_of(row);
    let headers = headers_of(row);
    let (mapping, _) =
        AnyMapping::proposed(kind, &headers, custom, &overrides_of(options.as_ref()));
    let started = state != "uploaded";
    let (warned, warnings) = if started {
        db.fetch_optional(
            "SELECT SUM(CASE WHEN result = 'imported' THEN 1 ELSE 0 END) AS warned, \
             SUM(CASE WHEN result = 'warning' THEN 1 ELSE 0 END) AS warnings \
             FROM import_upload_rows WHERE upload_id = ?",
            &[Param::Int(id)],
        )
        .await?
        .map_or((0, 0), |r| {
            (
                r.opt_int("warned").unwrap_or(0),
                r.opt_int("warnings").unwrap_or(0),
            )
        })
    } else {
        (0, 0)
    };
    let count = |column: &str| if started { row.int(column) } else { 0 };
    let reported = count("skipped") + count("failed") + warned + warnings;
    Ok(ImportUpload {
        id,
        kind: kind.plural().to_owned(),
        user_id: row.int("user_id"),
        file_name: row.text("file_name"),
        file_size: row.int("file_size"),
        format: row.text("format"),
        mapping: mapping.as_ref().map(AnyMapping::columns),
        unmapped: mapping.as_ref().map(AnyMapping::unmapped),
        headers,
        targets: targets(kind, custom),
        estimated_rows: row.int("estimated_rows"),
        state,
        options,
        progress: Progress {
            rows: count("rows_done"),
            imported: count("imported"),
            updated: count("updated"),
            skipped: count("skipped"),
            failed: count("failed"),
            warned,
            warnings,
        },
        error: row.opt_text("error"),
        errors_csv: (reported > 0).then(|| format!("/api/v1/imports/{id}/errors.csv")),
        created_at: rfc3339(row.int("created_at")),
        updated_at: rfc3339(row.int("updated_at").max(row.int("progress_at"))),
        started_at: row.opt_int("started_at").map(rfc3339),
        finished_at: row.opt_int("finished_at").map(rfc3339),
    })
}

/// One upload of the caller, with its progress.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> StoreResult<ImportUpload> {
    let row = fetch(db, actor, id).await?;
    Ok(read_upload(db, &row, &mut Customs::default()).await?)
}

/// The caller's uploads, newest first: `?limit=` (1–100, default 20) and `?cursor=`.
pub async fn list(db: &Db, actor: &Actor, query: &[(String, String)]) -> StoreResult<ImportList> {
    let mut limit = 20;
    let mut before = i64::MAX;
    for (name, value) in query {
        match name.as_str() {
            "limit" => {
                limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|l| (1..=100).contains(l))
                    .ok_or_else(|| Invalid::new("limit", "must be a whole number from 1 to 100"))?;
            }
            "cursor" => {
                before = value
                    .parse()
                    .map_err(|_| Invalid::new("cursor", "must be the next_cursor of a page"))?;
            }
            other => {
                return Err(Invalid::new(
                    other,
                    "is not a parameter of the import list (accepted: limit, cursor)",
                )
                .into())
            }
        }
    }
    let rows = db
        .fetch_all(
            &format!(
                "SELECT {UPLOAD_COLUMNS} FROM import_uploads u {RUN_JOIN} \
                 WHERE u.user_id = ? AND u.id < ? ORDER BY u.id DESC LIMIT {}",
                limit + 1
            ),
            &[Param::Int(actor.user_id), Param::Int(before)],
        )
        .await?;
    let more = rows.len() as i64 > limit;
    let mut customs = Customs::default();
    let mut items = Vec::new();
    for row in rows.iter().take(limit as usize) {
        items.push(read_upload(db, row, &mut customs).await?);
    }
    let next_cursor = more
        .then(|| items.last().map(|i| i.id.to_string()))
        .flatten();
    Ok(ImportList { items, next_cursor })
}

/// The choices of `POST /api/v1/imports/{id}/start`.
struct Start {
    overrides: BTreeMap<String, String>,
    dedup: Dedup,
    /// The policy as it was given.
    dedup_code: String,
    /// For probable duplicates; the channel's policy when not given.
    probable: Option<Dedup>,
    /// The country of rows without one.
    country: Option<Region>,
    source: Option<String>,
    owner_id: Option<i64>,
}

/// The choices of `choices` for an import of `kind`, checked: a lead import's options only for
/// leads, the policies, the country and the source as the command line reads them.
fn check_start(choices: StartChoices, kind: Kind) -> Result<Start, Invalid> {
    if kind != Kind::Lead {
        let lead_only = [
            ("dedup", choices.dedup.is_some()),
            ("dedup_probable", choices.dedup_probable.is_some()),
            ("country", choices.country.is_some()),
            ("source", choices.source.is_some()),
        ];
        if let Some((option, _)) = lead_only.into_iter().find(|(_, given)| *given) {
            return Err(Invalid::new(
                option,
                format!(
                    "is an option of lead imports; an import of {} takes mapping and owner_id",
                    kind.plural()
                ),
            ));
        }
    }
    let (dedup, dedup_code) = match choices.dedup {
        Some(code) => (
            code.parse::<Dedup>()
                .map_err(|e: String| Invalid::new("dedup", e))?,
            code,
        ),
        None => (Dedup::Skip, Dedup::Skip.code().to_owned()),
    };
    let probable = choices
        .dedup_probable
        .map(|code| {
            code.parse::<Dedup>()
                .map_err(|e: String| Invalid::new("dedup_probable", e))
        })
        .transpose()?;
    let country = choices
        .country
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            Region::parse(&c).ok_or_else(|| {
                Invalid::new(
                    "country",
                    format!("'{c}' is not a country: use an ISO code such as US or CN, or a name"),
                )
            })
        })
        .transpose()?;
    let source = choices
        .source
        .map(|s| {
            xiansuo_core::lead::parse_source(&s).map_err(|e| Invalid::new("source", e.message))
        })
        .transpose()?;
    Ok(Start {
        overrides: choices.mapping.unwrap_or_default(),
        dedup,
        dedup_code,
        probable,
        country,
        source,
        owner_id: choices.owner_id,
    })
}

impl Default for Start {
    fn default() -> Self {
        Start {
            overrides: BTreeMap::new(),
            dedup: Dedup::Skip,
            dedup_code: "skip".to_owned(),
            probable: None,
            country: None,
            source: None,
            owner_id: None,
        }
    }
}

/// How a started upload runs.
pub enum Run {
    Leads(Options),
    /// The options, and the key of the run in `imports`.
    Objects(engine::Options, String),
}

/// What [`start`] hands to [`run`].
pub struct Started {
    pub upload: ImportUpload,
    pub options: Run,
}

/// Checks the choices, read once the upload is found to be the caller's, and marks the upload
/// as running; the caller then runs it with [`run`]. An upload that is running cannot be
/// started again, unless its run has committed nothing for ten minutes (its instance died); a
/// finished one never.
pub async fn start(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    id: i64,
    choices: Unread<StartChoices>,
) -> StoreResult<Started> {
    let row = fetch(db, actor, id).await?;
    let kind = Kind::of_row(&row);
    let choices = check_start(choices.read()?, kind)?;
    let now = to_millis(clock.now());
    let state = row.text("state");
    let last_progress = row.int("updated_at").max(row.int("progress_at"));
    match state.as_str() {
        "finished" => {
            return Err(StoreError::Conflict(
                "this import has finished; upload the file again to import it".into(),
            ))
        }
        "running" if now - last_progress < STALE_MS => {
            return Err(StoreError::Conflict("this import is running".into()))
        }
        _ => {}
    }
    let headers = headers_of(&row);
    let custom = Customs::default().of(db, kind).await?.to_vec();
    let mapping = AnyMapping::new(kind, &headers, &custom, &choices.overrides)
        .map_err(|e| Invalid::new("mapping", e.to_string()))?;
    if let Some(owner) = choices.owner_id {
        check_owner(db, actor, owner).await?;
    }
    let sha = row.text("file_sha256");
    let other = db
        .fetch_optional(
            "SELECT id FROM import_uploads WHERE file_sha256 = ? AND record_type = ? AND state = 'running' AND id <> ?",
            &[Param::from(sha.as_str()), Param::from(kind.code()), Param::Int(id)],
        )
        .await?;
    if other.is_some() {
        return Err(StoreError::Conflict(
            "the same file is being imported by another upload; wait for it to finish".into(),
        ));
    }
    let options_json = match kind {
        Kind::Lead => json!({
            "mapping": choices.overrides,
            "dedup": choices.dedup_code,
            "dedup_probable": choices.probable.map(Dedup::code),
            "country": choices.country.as_ref().map(|c| c.code().to_owned()),
            "source": choices.source,
            "owner_id": choices.owner_id,
        }),
        Kind::Object(_) => json!({
            "mapping": choices.overrides,
            "owner_id": choices.owner_id,
        }),
    };
    let mut tx = db.begin().await?;
    let claimed = tx
        .execute(
            "UPDATE import_uploads SET state = 'running', options = ?, error = NULL, started_at = ?, updated_at = ? \
             WHERE id = ? AND state = ? AND updated_at = ?",
            &[
                Param::from(options_json.to_string()),
                Param::Int(now),
                Param::Int(now),
                Param::Int(id),
                Param::from(state.as_str()),
                Param::Int(row.int("updated_at")),
            ],
        )
        .await?;
    if claimed == 0 {
        return Err(StoreError::Conflict(
            "this import was started meanwhile".into(),
        ));
    }
    tx.commit().await?;
    let options = match mapping {
        AnyMapping::Lead(mapping) => Run::Leads(options_for(id, mapping, &choices)),
        AnyMapping::Object(mapping) => Run::Objects(
            object_options(id, mapping, choices.owner_id),
            row.opt_text("run_key")
                .unwrap_or_else(|| format!("upload:{id}")),
        ),
    };
    Ok(Started {
        upload: get(db, actor, id).await?,
        options,
    })
}

/// The owner given to imported records must be an active user within the caller's scope.
async fn check_owner(db: &Db, actor: &Actor, owner: i64) -> StoreResult<()> {
    let exists = db
        .fetch_optional(
            "SELECT id FROM users WHERE id = ? AND active = 1 AND deleted_at IS NULL",
            &[Param::Int(owner)],
        )
        .await?
        .is_some();
    if !exists {
        return Err(Invalid::new("owner_id", format!("no active user has id {owner}")).into());
    }
    if !actor.sees_owner(owner) {
        return Err(StoreError::Forbidden(format!(
            "you may only give records to users within your data scope; user {owner} is outside it"
        )));
    }
    Ok(())
}

/// Runs a started upload to its end and records how it ended. Meant to be spawned: it never
/// fails, it writes the failure on the upload instead.
pub async fn run(db: Db, actor: Actor, clock: Arc<dyn Clock>, id: i64, options: Run) {
    let result = run_file(&db, &actor, clock.as_ref(), id, &options).await;
    let now = to_millis(clock.now());
    let outcome = match &result {
        Ok(()) => {
            db.execute(
                "UPDATE import_uploads SET state = 'finished', finished_at = ?, updated_at = ? WHERE id = ?",
                &[Param::Int(now), Param::Int(now), Param::Int(id)],
            )
            .await
            .and(
                // The file is no longer needed; its report stays.
                db.execute(
                    "DELETE FROM import_upload_chunks WHERE upload_id = ?",
                    &[Param::Int(id)],
                )
                .await,
            )
        }
        Err(e) => {
            tracing::warn!(
                upload = id,
                error = format!("{e:#}"),
                "an uploaded import failed"
            );
            db.execute(
                "UPDATE import_uploads SET state = 'failed', error = ?, updated_at = ? WHERE id = ?",
                &[Param::from(e.to_string()), Param::Int(now), Param::Int(id)],
            )
            .await
        }
    };
    if let Err(e) = outcome {
        tracing::error!(
            upload = id,
            error = format!("{e:#}"),
            "the end of an uploaded import could not be recorded"
        );
    }
}

async fn run_file(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    id: i64,
    options: &Run,
) -> anyhow::Result<()> {
    let copy = tempfile::Builder::new()
        .prefix("xiansuo-import-")
        .tempfile()?;
    {
        let mut out = std::io::BufWriter::new(copy.as_file());
        let mut seq = 0_i64;
        loop {
            let Some(piece) = db
                .fetch_optional(
                    "SELECT data FROM import_upload_chunks WHERE upload_id = ? AND seq = ?",
                    &[Param::Int(id), Param::Int(seq)],
                )
                .await?
            else {
                break;
            };
            out.write_all(piece.bytes("data"))?;
            seq += 1;
        }
        if seq == 0 {
            anyhow::bail!("the uploaded file is no longer stored; upload it again");
        }
        out.flush()?;
    }
    let mut file = ImportFile::open(copy.path()).await?;
    let sheet = source::open(copy.path()).await?;
    match options {
        Run::Leads(options) => {
            super::run(db, actor, clock, &file, sheet, options, |_| {}).await?;
        }
        Run::Objects(options, key) => {
            file.sha256.clone_from(key);
            engine::run(db, actor, clock, &file, sheet, options, |_| {}).await?;
        }
    }
    Ok(())
}

fn report_of(row: &Row) -> RowReport {
    RowReport {
        row: row.int("row_number") as u64,
        result: RowResult::ALL
            .into_iter()
            .find(|r| r.code() == row.text("result"))
            .unwrap_or(RowResult::Failed),
        field: row.text("field"),
        reason: row.text("reason"),
        values: serde_json::from_str(&row.text("cells")).unwrap_or_default(),
    }
}

/// The error report of an upload as CSV (UTF-8 with a byte order mark, for Excel): every row
/// that was skipped, failed, or imported with a warning, with the reason and its values.
/// Streamed a page at a time.
pub async fn errors_csv(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> StoreResult<impl Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static> {
    let row = fetch(db, actor, id).await?;
    let mut head = "\u{FEFF}".as_bytes().to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut head);
        writer
            .write_record(super::report_header(&headers_of(&row)))
            .map_err(anyhow::Error::from)?;
        writer.flush().map_err(anyhow::Error::from)?;
    }
    struct Cursor {
        db: Db,
        id: i64,
        after: i64,
        head: Option<Vec<u8>>,
        done: bool,
    }
    let cursor = Cursor {
        db: db.clone(),
        id,
        after: 0,
        head: Some(head),
        done: false,
    };
    Ok(futures_util::stream::try_unfold(
        cursor,
        |mut c| async move {
            if let Some(head) = c.head.take() {
                return Ok(Some((head, c)));
            }
            if c.done {
                return Ok(None);
            }
            let page =
                c.db.fetch_all(
                    &format!(
                    "SELECT row_number, result, field, reason, cells FROM import_upload_rows \
                     WHERE upload_id = ? AND row_number > ? ORDER BY row_number LIMIT {REPORT_PAGE}"
                ),
                    &[Param::Int(c.id), Param::Int(c.after)],
                )
                .await
                .map_err(|e| {
                    tracing::error!(
                        error = format!("{e:#}"),
                        "an error report failed while streaming"
                    );
                    std::io::Error::other(e.to_string())
                })?;
            if page.is_empty() {
                return Ok(None);
            }
            c.done = (page.len() as i64) < REPORT_PAGE;
            c.after = page.last().map_or(c.after, |r| r.int("row_number"));
            let mut chunk = Vec::new();
            {
                let mut writer = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(&mut chunk);
                for r in &page {
                    writer
                        .write_record(super::report_line(&report_of(r)))
                        .map_err(std::io::Error::other)?;
                }
                writer.flush()?;
            }
            Ok(Some((chunk, c)))
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The choices of a start's body (JSON null takes the defaults) for `kind`.
    fn parse_start(body: &Value, kind: Kind) -> Result<Start, Invalid> {
        let choices = if body.is_null() {
            StartChoices::default()
        } else {
            Unread::json(body.clone()).read()?
        };
        check_start(choices, kind)
    }

    fn parse_start_lead(body: &Value) -> Result<Start, Invalid> {
        parse_start(body, Kind::Lead)
    }

    #[test]
    fn other_kinds_refuse_the_options_of_leads() {
        let accounts = Kind::parse("accounts").unwrap();
        assert_eq!(accounts, Kind::Object(Object::Account));
        assert_eq!(Kind::parse("contact").unwrap().plural(), "contacts");
        assert_eq!(Kind::parse("deals").unwrap_err().field, "kind");
        assert_eq!(
            parse_start(&json!({"dedup": "warn"}), accounts)
                .err()
                .unwrap()
                .field,
            "dedup"
        );
        let start = parse_start(
            &json!({"mapping": {"Account Name": "name", "stage:Won": "paid"}, "owner_id": 3}),
            accounts,
        )
        .unwrap();
        assert_eq!(start.overrides["stage:Won"], "paid");
        assert_eq!(start.owner_id, Some(3));
    }

    #[test]
    fn start_options_are_checked_field_by_field() {
        assert_eq!(
            parse_start_lead(&json!({"dedup": "ask"}))
                .err()
                .unwrap()
                .field,
            "dedup"
        );
        assert_eq!(
            parse_start_lead(&json!({"source": "Not A Code!"}))
                .err()
                .unwrap()
                .field,
            "source"
        );
        assert_eq!(
            parse_start_lead(&json!({"owner_id": "x"}))
                .err()
                .unwrap()
                .field,
            "owner_id"
        );
        assert_eq!(
            parse_start_lead(&json!({"mapping": {"A": 1}}))
                .err()
                .unwrap()
                .field,
            "mapping"
        );
        assert_eq!(
            parse_start_lead(&json!({"colour": 1})).err().unwrap().field,
            "colour"
        );
        let start =
            parse_start_lead(&json!({"dedup": "warn", "mapping": {"手机号码": "phone"}})).unwrap();
        assert_eq!(start.dedup, Dedup::Warn);
        assert_eq!(start.overrides["手机号码"], "phone");
        assert_eq!(parse_start_lead(&Value::Null).unwrap().dedup, Dedup::Skip);
        let start =
            parse_start_lead(&json!({"country": "美国", "dedup_probable": "merge"})).unwrap();
        assert_eq!(
            start.country.map(|c| c.code().to_owned()).as_deref(),
            Some("US")
        );
        assert_eq!(start.probable, Some(Dedup::Merge));
        assert_eq!(
            parse_start_lead(&json!({"country": "Atlantis"}))
                .err()
                .unwrap()
                .field,
            "country"
        );
    }

    #[test]
    fn a_file_is_read_in_full_pieces() {
        let data = vec![7_u8; PIECE + 10];
        let mut reader = std::io::Cursor::new(data);
        let mut piece = vec![0_u8; PIECE];
        assert_eq!(read_full(&mut reader, &mut piece).unwrap(), PIECE);
        assert_eq!(read_full(&mut reader, &mut piece).unwrap(), 10);
        assert_eq!(read_full(&mut reader, &mut piece).unwrap(), 0);
    }
}
