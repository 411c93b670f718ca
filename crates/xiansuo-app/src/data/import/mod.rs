//! Importing leads from a CSV or XLSX file. Every row is turned into the body an API client
//! would send and checked by `records::prepare`, so an import accepts and refuses what the API
//! does, with three differences for data as other systems hold it: a phone is read in the
//! country of its row (a Country column, else the import's default country, else China), and
//! one that cannot be read is kept as entered, unverified, with a warning rather than refused;
//! a lead converted or disqualified in the system it came from keeps that outcome and its date.
//!
//! Duplicates are *certain* (the same phone, email or external id as another row of the file, a
//! lead, a contact or an account) or *probable* (the same name at the same company); each kind
//! is skipped, refused, flagged or merged as the caller or the import channel's dedup policy
//! says, and reported with its kind and key. Rows are written in batches,
//! one transaction each, together with the count of rows handled in the `imports` row of the
//! file (keyed by its SHA-256): a crash loses only the batch in flight, and running the same
//! file again continues after the last committed batch. While one batch is written, the next is
//! read and checked row by row; its dedup against the base waits for the commit before it.
//!
//! Every row that is not imported cleanly is reported with its row number, the reason and its
//! original values: in `FILE.errors.csv` next to the file (the command line), or in the
//! `import_upload_rows` of an uploaded file, in the transaction of its batch (the HTTP API).

pub mod mapping;
pub mod objects;
pub mod source;
pub mod upload;

use crate::leads::dedup::{self, Decision};
use crate::leads::merge;
use crate::records::schema::LEADS;
use crate::records::{self, Ctx, NewRecord};
use crate::scope::Actor;
use crate::StoreError;
use anyhow::Context;
use mapping::{CustomColumn, Mapping};
use serde_json::{json, Value};
use source::{Sheet, SourceRow};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::FieldType;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::dedup::{policy_for, Certainty, Keys, Policy, Signal};
use xiansuo_core::history::Channel;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::{Clock, ImportedPhone, Phone, Region};
use xiansuo_store::{Db, Param, Tx};

/// What to do with a row that duplicates a lead, a contact, an account or an earlier row
/// (certainly: the same phone, email or external id; probably: the same name and company; see
/// [`crate::leads::dedup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dedup {
    /// Leave it out and report it.
    Skip,
    /// Report it as an error row.
    Block,
    /// Import it, flagged as a possible duplicate, and report it.
    Warn,
    /// Put its data into the lead it duplicates (empty fields filled, tags added) and report it.
    Merge,
}

impl From<Policy> for Dedup {
    fn from(policy: Policy) -> Self {
        match policy {
            Policy::Block => Dedup::Block,
            Policy::Warn => Dedup::Warn,
            Policy::Merge => Dedup::Merge,
        }
    }
}

impl Dedup {
    /// The code used on the command line and in the API.
    pub fn code(self) -> &'static str {
        match self {
            Dedup::Skip => "skip",
            Dedup::Block => "block",
            Dedup::Warn => "warn",
            Dedup::Merge => "merge",
        }
    }
}

impl std::str::FromStr for Dedup {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "skip" => Ok(Dedup::Skip),
            "block" => Ok(Dedup::Block),
            "warn" => Ok(Dedup::Warn),
            "merge" => Ok(Dedup::Merge),
            _ => Err(format!(
                "'{s}' is not a dedup policy: use skip, block, warn or merge"
            )),
        }
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    pub mapping: Mapping,
    /// What to do with a certain duplicate.
    pub dedup: Dedup,
    /// What to do with a probable duplicate; the import channel's dedup policy for probable
    /// matches (per source) when not given.
    pub probable: Option<Dedup>,
    /// The country of rows whose Country column is empty or missing (China otherwise).
    pub country: Option<Region>,
    /// The source of rows that name none (the channel's default, `import`, otherwise).
    pub source: Option<String>,
    /// The owner of every imported lead (the assignment rules, or their fallback, otherwise).
    pub owner_id: Option<i64>,
    /// Rows per transaction.
    pub batch_size: usize,
    /// Where reported rows go.
    pub report_to: ReportTo,
}

/// Where the rows that are not imported cleanly are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportTo {
    /// `FILE.errors.csv` next to the file, written after each batch commits.
    File,
    /// The `import_upload_rows` of this upload, written in each batch's transaction.
    Upload(i64),
}

/// What happened to a reported row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowResult {
    Failed,
    Skipped,
    /// Imported, flagged as a possible duplicate (the `warn` action).
    Imported,
    /// Not imported as a new lead: its data went into the lead it duplicates (`--dedup merge`).
    Merged,
    /// Imported, but some of its data was not taken as given: a phone kept unverified, a date
    /// that is not one, an id of the system of origin that matches nothing here.
    Warning,
}

impl RowResult {
    pub const ALL: [RowResult; 5] = [
        RowResult::Failed,
        RowResult::Skipped,
        RowResult::Imported,
        RowResult::Merged,
        RowResult::Warning,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RowResult::Failed => "failed",
            RowResult::Skipped => "skipped",
            RowResult::Imported => "imported",
            RowResult::Merged => "merged",
            RowResult::Warning => "warning",
        }
    }
}

/// One line of the error report.
#[derive(Debug, Clone)]
pub struct RowReport {
    pub row: u64,
    pub result: RowResult,
    pub field: String,
    pub reason: String,
    pub values: Vec<String>,
}

/// Counts over the whole file, including batches committed by an earlier run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Data rows handled (imported, skipped or failed).
    pub rows: u64,
    pub imported: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// An import file as the `imports` table knows it.
#[derive(Debug, Clone)]
pub struct ImportFile {
    pub path: PathBuf,
    pub sha256: String,
    /// Lines in the file less the header: the row count, unless cells hold line breaks.
    pub estimated_rows: u64,
}

impl ImportFile {
    /// Reads the whole file once for its SHA-256.
    pub async fn open(path: &Path) -> anyhow::Result<ImportFile> {
        let owned = path.to_owned();
        let (sha256, lines) =
            tokio::task::spawn_blocking(move || source::fingerprint(&owned)).await??;
        Ok(ImportFile {
            path: path.to_owned(),
            sha256,
            estimated_rows: lines.saturating_sub(1).max(1),
        })
    }

    /// Where the error report goes: `FILE.errors.csv` next to the file.
    pub fn errors_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".errors.csv");
        PathBuf::from(name)
    }
}

/// How far an earlier run of the same file got.
#[derive(Debug, Clone, Copy)]
pub struct Previous {
    id: i64,
    pub counts: Counts,
    pub finished: bool,
}

/// The earlier run of this file, if there was one.
pub async fn previous(db: &Db, file: &ImportFile) -> anyhow::Result<Option<Previous>> {
    Ok(db
        .fetch_optional(
            "SELECT id, rows_done, imported, skipped, failed, finished_at FROM imports WHERE record_type = 'lead' AND file_sha256 = ?",
            &[Param::from(file.sha256.as_str())],
        )
        .await?
        .map(|r| Previous {
            id: r.int("id"),
            counts: Counts {
                rows: r.int("rows_done") as u64,
                imported: r.int("imported") as u64,
                skipped: r.int("skipped") as u64,
                failed: r.int("failed") as u64,
            },
            finished: r.opt_int("finished_at").is_some(),
        }))
}

/// The custom fields of leads that columns can be mapped to.
pub async fn custom_columns(db: &Db) -> anyhow::Result<Vec<CustomColumn>> {
    custom_columns_of(db, RecordType::Lead).await
}

/// The custom fields of records of `record_type` that columns can be mapped to.
pub async fn custom_columns_of(
    db: &Db,
    record_type: RecordType,
) -> anyhow::Result<Vec<CustomColumn>> {
    db.fetch_all(
        "SELECT key, label, field_type FROM custom_field_defs WHERE record_type = ? ORDER BY id",
        &[Param::from(record_type.code())],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(CustomColumn {
            key: r.text("key"),
            label: r.text("label"),
            field_type: FieldType::parse(&r.text("field_type"))?,
        })
    })
    .collect()
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Summary {
    pub counts: Counts,
    /// Rows handled by earlier runs, skipped this time.
    pub resumed_after: u64,
    /// Rows imported despite a possible duplicate (`--dedup warn`).
    pub warned: u64,
    /// Rows imported with a warning about their data (an unverified phone, …).
    pub warnings: u64,
    /// Rows merged into the leads they duplicate (`--dedup merge`), counted as skipped.
    pub merged: u64,
    /// The error report, when some row was reported.
    pub errors_file: Option<PathBuf>,
}

/// Imports the rows of an open sheet as `actor`, calling `progress` after each committed batch.
/// Call [`previous`] first: a finished file is not imported again.
pub async fn run(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    file: &ImportFile,
    mut sheet: Sheet,
    options: &Options,
    mut progress: impl FnMut(&Counts),
) -> anyhow::Result<Summary> {
    let (id, mut counts) = match previous(db, file).await? {
        Some(p) if p.finished => anyhow::bail!("this file was already imported"),
        Some(p) => (p.id, p.counts),
        None => (start(db, actor, file, clock).await?, Counts::default()),
    };
    let resumed_after = counts.rows;
    let mut report = ErrorReport::of_run(options.report_to, file, &sheet.headers, resumed_after)?;
    for _ in 0..resumed_after {
        match sheet.rows.recv().await {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e),
            None => break,
        }
    }
    let mut warned = 0;
    let mut warnings = 0;
    let mut merged = 0;
    let ctx = |now| Ctx {
        hooks: crate::hooks::ALL,
        db,
        actor,
        channel: Channel::Import,
        now,
    };
    // While a batch is written (on a task of its own), the next one is read and checked row
    // by row here: both cores work at once. Dedup against the base waits for the commit, so a row
    // still finds its duplicate in the batch before.
    let mut checked = read_and_check(ctx(clock.now()), options, &mut sheet).await?;
    let mut analyzed = counts.imported;
    while !checked.rows.is_empty() {
        let batch = dedup_batch(ctx(clock.now()), options, checked).await?;
        let mut next = counts;
        next.rows += batch.rows as u64;
        next.imported += batch.records.len() as u64;
        for r in &batch.reports {
            match r.result {
                RowResult::Failed => next.failed += 1,
                RowResult::Skipped => next.skipped += 1,
                RowResult::Imported => warned += 1,
                RowResult::Warning => warnings += 1,
                RowResult::Merged => {
                    next.skipped += 1;
                    merged += 1;
                }
            }
        }
        let write = tokio::spawn(write_batch(
            db.clone(),
            id,
            to_millis(clock.now()),
            options.report_to,
            batch,
            counts,
            next,
        ));
        let read = read_and_check(ctx(clock.now()), options, &mut sheet).await;
        let reports = write.await.context("the batch writer stopped")??;
        // Written only after the commit, so a batch lost in a crash is not reported twice.
        if let Some(report) = &mut report {
            report.write(&reports)?;
        }
        counts = next;
        progress(&counts);
        if counts.imported >= 2 * analyzed.max(ANALYZE_FROM) {
            refresh_statistics(db).await?;
            analyzed = counts.imported;
        }
        checked = read?;
    }
    db.execute(
        "UPDATE imports SET finished_at = ?, updated_at = ? WHERE id = ?",
        &[
            Param::Int(to_millis(clock.now())),
            Param::Int(to_millis(clock.now())),
            Param::Int(id),
        ],
    )
    .await?;
    Ok(Summary {
        counts,
        resumed_after,
        warned,
        warnings,
        merged,
        errors_file: report.map(ErrorReport::finish).transpose()?.flatten(),
    })
}

/// Rows imported before the planner's statistics are first refreshed; they are refreshed again
/// each time the import has doubled since.
const ANALYZE_FROM: u64 = 5_000;

/// Lets PostgreSQL see how large `leads` has grown. Its statistics lag behind a fast import,
/// and a planner that takes the table for a few hundred rows reads all of it for each batch's
/// dedup query instead of probing the phone, email and name indexes. (SQLite plans by its
/// indexes without statistics.)
async fn refresh_statistics(db: &Db) -> anyhow::Result<()> {
    if let Some(analyze) = db.dialect().refresh_statistics("leads") {
        db.execute(&analyze, &[]).await?;
    }
    Ok(())
}

/// Writes a checked batch in one transaction with the file's new counts (`next`, where the
/// `imports` row still says `counts`), and gives back its reports.
async fn write_batch(
    db: Db,
    id: i64,
    now_ms: i64,
    report_to: ReportTo,
    mut batch: Batch,
    counts: Counts,
    next: Counts,
) -> anyhow::Result<Vec<RowReport>> {
    let mut tx = db.begin().await?;
    let mut records: Vec<&mut NewRecord> = batch.records.iter_mut().collect();
    if !records.is_empty() {
        records::insert(&mut tx, &mut records).await?;
    }
    for (into, incoming) in &batch.merges {
        crate::leads::merge::absorb(&mut tx, incoming, *into).await?;
    }
    if let ReportTo::Upload(upload) = report_to {
        save_reports(&mut tx, upload, &batch.reports).await?;
    }
    let updated = tx
        .execute(
            "UPDATE imports SET rows_done = ?, imported = ?, skipped = ?, failed = ?, updated_at = ? WHERE id = ? AND rows_done = ?",
            &[
                Param::Int(next.rows as i64),
                Param::Int(next.imported as i64),
                Param::Int(next.skipped as i64),
                Param::Int(next.failed as i64),
                Param::Int(now_ms),
                Param::Int(id),
                Param::Int(counts.rows as i64),
            ],
        )
        .await?;
    if updated != 1 {
        anyhow::bail!(
            "another import of the same file is running; let it finish, then run this one again"
        );
    }
    tx.commit().await?;
    Ok(batch.reports)
}

async fn start(
    db: &Db,
    actor: &Actor,
    file: &ImportFile,
    clock: &dyn Clock,
) -> anyhow::Result<i64> {
    let now = to_millis(clock.now());
    let name = file
        .path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut tx = db.begin().await?;
    let id = tx
        .insert_returning_id(
            "INSERT INTO imports (record_type, file_sha256, file_name, created_by, created_at, updated_at) VALUES ('lead', ?, ?, ?, ?, ?)",
            &[
                Param::from(file.sha256.as_str()),
                Param::from(name),
                Param::Int(actor.user_id),
                Param::Int(now),
                Param::Int(now),
            ],
        )
        .await
        .context("another import of the same file has just started")?;
    tx.commit().await?;
    Ok(id)
}

/// A batch ready to write: the records, the rows to merge into stored leads (lead id, row),
/// and the rows to report.
struct Batch {
    /// Rows the batch handled, reported or not.
    rows: usize,
    records: Vec<NewRecord>,
    merges: Vec<(i64, NewRecord)>,
    reports: Vec<RowReport>,
}

fn report(row: &SourceRow, result: RowResult, field: &str, reason: String) -> RowReport {
    RowReport {
        row: row.number,
        result,
        field: field.to_owned(),
        reason,
        values: row.values.clone(),
    }
}

/// The keys of a row by which rows of one batch find each other, certain ones first.
fn strong_keys(keys: &Keys) -> Vec<(Signal, String)> {
    let mut out = Vec::new();
    if let Some(id) = &keys.external_id {
        out.push((Signal::ExternalId, id.clone()));
    }
    if let Some(phone) = &keys.phone {
        out.push((Signal::Phone, phone.clone()));
    }
    if let Some(email) = &keys.email {
        out.push((Signal::Email, email.clone()));
    }
    if let (Some(person), Some(company)) = (&keys.person, &keys.company) {
        out.push((Signal::PersonAndCompany, format!("{person}\u{1f}{company}")));
    }
    out
}

/// The report's field and words for what two rows share.
fn signal_words(signal: Signal) -> (&'static str, &'static str) {
    match signal {
        Signal::ExternalId => ("external_id", "external id"),
        Signal::Phone => ("phone", "phone"),
        Signal::Email => ("email", "email"),
        _ => ("name", "name and company"),
    }
}

/// What a row duplicates: a stored record, or a row of this batch kept so far (its number and
/// its index among the batch's records).
enum Original<'m> {
    Stored(&'m dedup::Match),
    Row(Signal, u64, usize),
}

/// A row as the body of a new lead, with the defaults of the options.
fn body_of(options: &Options, row: &SourceRow) -> Value {
    let mut body = options.mapping.body(&row.values);
    if let (Some(source), None) = (&options.source, body.get("source")) {
        body["source"] = json!(source);
    }
    if let Some(owner) = options.owner_id {
        body["owner_id"] = json!(owner);
    }
    body
}

/// A row of a preview: the lead it would become, and why it would not, if it would not.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub row: u64,
    pub body: Value,
    pub report: Option<RowReport>,
}

/// Checks the first `limit` rows exactly as an import would (validation and dedup), writing
/// nothing, so that a person can look at the mapping's result before importing.
pub async fn preview(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    sheet: &mut Sheet,
    options: &Options,
    limit: usize,
) -> anyhow::Result<Vec<PreviewRow>> {
    let mut rows = Vec::with_capacity(limit);
    while rows.len() < limit {
        match sheet.rows.recv().await {
            Some(row) => rows.push(row?),
            None => break,
        }
    }
    check_rows(db, actor, clock, &rows, options).await
}

/// Checks rows read already exactly as an import would, writing nothing.
pub async fn check_rows(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    rows: &[SourceRow],
    options: &Options,
) -> anyhow::Result<Vec<PreviewRow>> {
    let ctx = Ctx {
        hooks: crate::hooks::ALL,
        db,
        actor,
        channel: Channel::Import,
        now: clock.now(),
    };
    let checked = check_each(ctx, options, rows.to_vec()).await?;
    let mut batch = dedup_batch(ctx, options, checked).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let found = batch.reports.iter().position(|r| r.row == row.number);
            PreviewRow {
                row: row.number,
                body: body_of(options, row),
                report: found.map(|i| batch.reports.swap_remove(i)),
            }
        })
        .collect())
}

/// The next batch of the sheet (empty at its end), checked row by row.
async fn read_and_check(
    ctx: Ctx<'_>,
    options: &Options,
    sheet: &mut Sheet,
) -> anyhow::Result<Checked> {
    let mut rows = Vec::with_capacity(options.batch_size);
    while rows.len() < options.batch_size {
        match sheet.rows.recv().await {
            Some(row) => rows.push(row?),
            None => break,
        }
    }
    check_each(ctx, options, rows).await
}

/// Rows of a batch, each checked alone as an API create would be; dedup comes after.
struct Checked {
    rows: Vec<SourceRow>,
    /// The rows that passed, by index into `rows`, as new leads.
    prepared: Vec<Prepared>,
    reports: Vec<RowReport>,
}

/// A row that passed its checks, with what is left to do against the base.
struct Prepared {
    index: usize,
    record: NewRecord,
    /// Warnings about its data: (field, reason).
    warnings: Vec<(&'static str, String)>,
    /// Links to records it was converted into, by their external id: (column, table, id).
    links: Vec<(&'static str, RecordType, String)>,
}

/// An outcome the system of origin gave a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Converted,
    Disqualified,
}

async fn check_each(
    ctx: Ctx<'_>,
    options: &Options,
    rows: Vec<SourceRow>,
) -> anyhow::Result<Checked> {
    let mut reports = Vec::new();
    let mut prepared = Vec::new();
    let now = to_millis(ctx.now);
    for (index, row) in rows.iter().enumerate() {
        if row.is_empty() {
            reports.push(report(row, RowResult::Skipped, "", "empty row".into()));
            continue;
        }
        let mut body = body_of(options, row);
        let facts = options.mapping.facts(&row.values);
        let mut warnings = Vec::new();
        let outcome = match body.get("status").and_then(Value::as_str) {
            _ if facts.is_converted => Some(Outcome::Converted),
            Some("converted") => Some(Outcome::Converted),
            Some("disqualified") => Some(Outcome::Disqualified),
            _ => None,
        };
        if outcome == Some(Outcome::Converted) {
            // Only the convert action makes a lead converted through `prepare`; the outcome is
            // set below.
            if let Some(body) = body.as_object_mut() {
                body.remove("status");
            }
        }
        // The phone is read here, in the row's country, and set after `prepare`.
        let phone = match body.as_object_mut().and_then(|b| b.remove("phone")) {
            Some(Value::String(raw)) if !raw.trim().is_empty() => {
                let region = facts
                    .country
                    .and_then(Region::parse)
                    .or(options.country)
                    .unwrap_or(Region::CHINA);
                Some(Phone::import(&raw, region))
            }
            _ => None,
        };
        let mut record = match records::prepare(ctx, &LEADS, &body).await {
            Ok(record) => record,
            Err(StoreError::Internal(e)) => return Err(e),
            Err(StoreError::Invalid(e)) => {
                reports.push(report(row, RowResult::Failed, &e.field, e.message));
                continue;
            }
            Err(e) => {
                reports.push(report(row, RowResult::Failed, "", e.to_string()));
                continue;
            }
        };
        match phone {
            Some(ImportedPhone::Verified(phone)) => {
                record.set("phone", Param::from(phone.entered()));
                record.set("phone_normalized", Param::from(phone.e164()));
            }
            Some(ImportedPhone::Unverified { entered, reason }) => {
                warnings.push((
                    "phone",
                    format!("imported unverified, as entered: {reason}"),
                ));
                record.set("phone", Param::from(entered));
                record.set("phone_normalized", Param::NullText);
            }
            None => {}
        }
        let mut when = |field: &'static str, value: Option<&str>| match value.map(outcome_time) {
            Some(Some(ms)) => ms,
            Some(None) => {
                warnings.push((
                    field,
                    format!(
                        "'{}' is not a date (use e.g. 2025-03-14 or 2025-03-14T10:00:00Z): the import's time is used",
                        value.unwrap_or_default()
                    ),
                ));
                now
            }
            None => now,
        };
        match outcome {
            Some(Outcome::Converted) => {
                let at = when("converted_at", facts.converted_at);
                record.set("status", Param::from(LeadStatus::Converted.code()));
                record.set("converted_at", Param::Int(at));
            }
            Some(Outcome::Disqualified) => {
                let at = when("disqualified_at", facts.disqualified_at);
                record.set("disqualified_at", Param::Int(at));
            }
            None => {}
        }
        let links = if outcome == Some(Outcome::Converted) {
            [
                (
                    "converted_account_id",
                    RecordType::Account,
                    facts.converted_account_id,
                ),
                (
                    "converted_contact_id",
                    RecordType::Contact,
                    facts.converted_contact_id,
                ),
                (
                    "converted_opportunity_id",
                    RecordType::Opportunity,
                    facts.converted_opportunity_id,
                ),
            ]
            .into_iter()
            .filter_map(|(column, table, id)| Some((column, table, id?.to_owned())))
            .collect()
        } else {
            Vec::new()
        };
        prepared.push(Prepared {
            index,
            record,
            warnings,
            links,
        });
    }
    Ok(Checked {
        rows,
        prepared,
        reports,
    })
}

/// An outcome's date as a file gives it: an RFC 3339 instant, or a date (and time) in one of
/// the forms exports use, taken as UTC; `None` when it is not one.
fn outcome_time(value: &str) -> Option<i64> {
    use chrono::{NaiveDate, NaiveDateTime};
    let value = value.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(at.timestamp_millis());
    }
    const DATE_TIMES: &[&str] = &[
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y %I:%M %p",
    ];
    const DATES: &[&str] = &[
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y.%m.%d",
        "%Y年%m月%d日",
        "%m/%d/%Y",
    ];
    let at = DATE_TIMES
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .or_else(|| {
            DATES
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(value, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Some(at.and_utc().timestamp_millis())
}

/// The ids of the records (by type) that have these external ids.
async fn by_external_id(
    db: &Db,
    wanted: &[(&'static str, RecordType, String)],
) -> anyhow::Result<HashMap<(RecordType, String), i64>> {
    let mut found = HashMap::new();
    for (record_type, table) in [
        (RecordType::Account, "accounts"),
        (RecordType::Contact, "contacts"),
        (RecordType::Opportunity, "opportunities"),
    ] {
        let mut ids: Vec<&str> = wanted
            .iter()
            .filter(|(_, t, _)| *t == record_type)
            .map(|(_, _, id)| id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(500) {
            let params: Vec<Param> = chunk.iter().map(|id| Param::from(*id)).collect();
            for row in db
                .fetch_all(
                    &format!(
                        "SELECT id, external_id FROM {table} WHERE deleted_at IS NULL AND external_id IN ({}) ORDER BY id",
                        vec!["?"; chunk.len()].join(", ")
                    ),
                    &params,
                )
                .await?
            {
                found
                    .entry((record_type, row.text("external_id")))
                    .or_insert(row.int("id"));
            }
        }
    }
    Ok(found)
}

/// Decides every checked row of a batch against the base and the rows before it in the
/// batch: created, flagged, merged, skipped or refused, certain and probable duplicates each
/// by their own action.
async fn dedup_batch(ctx: Ctx<'_>, options: &Options, checked: Checked) -> anyhow::Result<Batch> {
    let Checked {
        rows,
        prepared,
        mut reports,
    } = checked;
    // One query for the whole batch; earlier batches of the file are committed, so it finds
    // them too.
    let keys: Vec<Keys> = prepared.iter().map(|p| dedup::keys_of(&p.record)).collect();
    let probes: Vec<&Keys> = keys.iter().collect();
    let holders = dedup::holders(ctx.db, &probes, &[], false).await?;
    let wanted: Vec<_> = prepared.iter().flat_map(|p| p.links.clone()).collect();
    let linked = if wanted.is_empty() {
        HashMap::new()
    } else {
        by_external_id(ctx.db, &wanted).await?
    };
    let probable_policies = match options.probable {
        Some(_) => None,
        None => Some(dedup::probable_policies(ctx.db).await?.0),
    };
    let mut earlier: HashMap<(Signal, String), (u64, usize)> = HashMap::new();
    let mut records: Vec<NewRecord> = Vec::with_capacity(prepared.len());
    let mut merges = Vec::new();
    for (p, keys) in prepared.into_iter().zip(&keys) {
        let Prepared {
            index,
            mut record,
            mut warnings,
            links,
        } = p;
        let row = &rows[index];
        for (column, record_type, id) in links {
            match linked.get(&(record_type, id.clone())) {
                Some(&found) => record.set(column, Param::Int(found)),
                None => warnings.push((
                    column,
                    format!(
                        "no {} has the external id '{id}': not linked",
                        record_type.code()
                    ),
                )),
            }
        }
        let warning_text = warnings
            .iter()
            .map(|(_, w)| w.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let with_warnings = |reason: String| {
            if warning_text.is_empty() {
                reason
            } else {
                format!("{reason}; {warning_text}")
            }
        };
        let found = dedup::matches(keys, &holders);
        let strong = strong_keys(keys);
        let in_batch = |kind: Certainty| {
            strong
                .iter()
                .filter(|k| (k.0.is_certain()) == (kind == Certainty::Certain))
                .find_map(|k| {
                    earlier
                        .get(k)
                        .map(|&(number, index)| Original::Row(k.0, number, index))
                })
        };
        let deciding = dedup::deciding(&found);
        let (kind, original, stored) = match &deciding {
            Some((Certainty::Certain, stored)) => (
                Certainty::Certain,
                Some(Original::Stored(&stored[0])),
                stored.as_slice(),
            ),
            _ => match in_batch(Certainty::Certain) {
                Some(row) => (Certainty::Certain, Some(row), &[][..]),
                None => match &deciding {
                    Some((kind, stored)) => {
                        (*kind, Some(Original::Stored(&stored[0])), stored.as_slice())
                    }
                    None => (Certainty::Probable, in_batch(Certainty::Probable), &[][..]),
                },
            },
        };
        if let Some(original) = original {
            let (signal, holder) = match &original {
                Original::Stored(m) => (
                    m.signals[0],
                    format!("{} {}", m.holder.record_type.code(), m.holder.id),
                ),
                Original::Row(signal, number, _) => (*signal, format!("row {number} of this file")),
            };
            let (field, words) = signal_words(signal);
            let reason = format!("{} duplicate: the same {words} as {holder}", kind.code());
            let action = match kind {
                Certainty::Certain => options.dedup,
                Certainty::Probable => match (options.probable, &probable_policies) {
                    (Some(action), _) => action,
                    (None, Some(policies)) => {
                        let source = match record.get("source") {
                            Some(Param::Text(s)) => s.as_str(),
                            _ => "",
                        };
                        policy_for(policies, source).into()
                    }
                    (None, None) => Dedup::Warn,
                },
            };
            let decision = match (action, &original) {
                (Dedup::Skip, _) => {
                    reports.push(report(row, RowResult::Skipped, field, reason));
                    continue;
                }
                (Dedup::Block, _) => dedup::Decision::Block,
                (Dedup::Warn, Original::Stored(_)) => {
                    dedup::decide(ctx.actor, Policy::Warn, stored)
                }
                (Dedup::Merge, Original::Stored(_)) => {
                    dedup::decide(ctx.actor, Policy::Merge, stored)
                }
                (Dedup::Warn, Original::Row(..)) => Decision::Flag { duplicate_of: None },
                (Dedup::Merge, Original::Row(_, number, index)) => {
                    merge::absorb_pending(&mut records[*index], &record);
                    let reason = format!("merged into row {number} of this file ({reason})");
                    reports.push(report(row, RowResult::Merged, field, reason));
                    continue;
                }
            };
            match decision {
                Decision::Block => {
                    reports.push(report(row, RowResult::Failed, field, reason));
                    continue;
                }
                Decision::Merge { into } => {
                    let reason = format!("merged into lead {into} ({reason})");
                    reports.push(report(row, RowResult::Merged, field, reason));
                    merges.push((into, record));
                    continue;
                }
                Decision::Flag { duplicate_of } => {
                    dedup::flag(&mut record, duplicate_of);
                    reports.push(report(
                        row,
                        RowResult::Imported,
                        field,
                        with_warnings(reason),
                    ));
                }
                Decision::Create => {
                    if let Some((field, _)) = warnings.first() {
                        reports.push(report(row, RowResult::Warning, field, warning_text.clone()));
                    }
                }
            }
        } else if let Some((field, _)) = warnings.first() {
            reports.push(report(row, RowResult::Warning, field, warning_text.clone()));
        }
        for key in strong {
            earlier.entry(key).or_insert((row.number, records.len()));
        }
        records.push(record);
    }
    reports.sort_by_key(|r| r.row);
    Ok(Batch {
        rows: rows.len(),
        records,
        merges,
        reports,
    })
}

/// Rows per statement when saving reports: 6 parameters each stays far under both databases'
/// limits on bound parameters.
const REPORTS_PER_STATEMENT: usize = 500;

/// Saves the reported rows of a batch with an upload, in the batch's transaction.
async fn save_reports(tx: &mut Tx, upload: i64, reports: &[RowReport]) -> anyhow::Result<()> {
    for chunk in reports.chunks(REPORTS_PER_STATEMENT) {
        let mut params = Vec::with_capacity(chunk.len() * 6);
        for r in chunk {
            params.extend([
                Param::Int(upload),
                Param::Int(r.row as i64),
                Param::from(r.result.code()),
                Param::from(r.field.as_str()),
                Param::from(r.reason.as_str()),
                Param::from(serde_json::to_string(&r.values)?),
            ]);
        }
        let values = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        tx.execute(
            &format!("INSERT INTO import_upload_rows (upload_id, row_number, result, field, reason, cells) VALUES {values} ON CONFLICT DO NOTHING"),
            &params,
        )
        .await?;
    }
    Ok(())
}

/// The header row of an error report: what happened, then the file's own columns.
pub fn report_header(headers: &[String]) -> Vec<String> {
    ["row", "result", "field", "reason"]
        .into_iter()
        .map(str::to_owned)
        .chain(headers.iter().cloned())
        .collect()
}

/// A line of an error report, its cells safe to open in a spreadsheet.
pub fn report_line(r: &RowReport) -> Vec<String> {
    let mut line = vec![
        r.row.to_string(),
        r.result.code().to_owned(),
        r.field.clone(),
        r.reason.clone(),
    ];
    line.extend(r.values.iter().map(|v| neutralise(v)));
    line
}

/// A cell of the report as Excel will not run it: text that Excel would take for a formula
/// (`=`, `@`, or `+`/`-` not followed by a phone-like number) gets a leading `'`. The values
/// are the file's own, but the report is opened by people who trust it.
fn neutralise(value: &str) -> String {
    let risky = match value.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !value[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || " -().".contains(c)),
        _ => false,
    };
    if risky {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// `FILE.errors.csv`: UTF-8 with a BOM so that Excel shows Chinese correctly; created at the
/// first reported row, appended to when a run resumes, removed when a fresh run reports nothing.
struct ErrorReport {
    path: PathBuf,
    headers: Vec<String>,
    writer: Option<csv::Writer<std::fs::File>>,
    append: bool,
    wrote: bool,
}

impl ErrorReport {
    /// The report of a run that reports to `report_to`, after `resumed_after` rows of an
    /// earlier run: a file's (`FILE.errors.csv`), or none for an upload, whose batches save
    /// their reports themselves.
    fn of_run(
        report_to: ReportTo,
        file: &ImportFile,
        headers: &[String],
        resumed_after: u64,
    ) -> anyhow::Result<Option<ErrorReport>> {
        Ok(match report_to {
            ReportTo::File => Some(ErrorReport::new(
                file.errors_path(),
                headers,
                resumed_after > 0,
            )?),
            ReportTo::Upload(_) => None,
        })
    }

    fn new(path: PathBuf, headers: &[String], append: bool) -> anyhow::Result<ErrorReport> {
        if !append && path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot replace the old {}", path.display()))?;
        }
        Ok(ErrorReport {
            wrote: append && path.exists(),
            path,
            headers: headers.to_vec(),
            writer: None,
            append,
        })
    }

    fn write(&mut self, reports: &[RowReport]) -> anyhow::Result<()> {
        if reports.is_empty() {
            return Ok(());
        }
        if self.writer.is_none() {
            let existing = self.append && self.path.exists();
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .with_context(|| {
                    format!("cannot write the error report {}", self.path.display())
                })?;
            let mut writer = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(if existing {
                    file
                } else {
                    use std::io::Write;
                    file.write_all("\u{FEFF}".as_bytes())?;
                    file
                });
            if !existing {
                writer.write_record(report_header(&self.headers))?;
            }
            self.writer = Some(writer);
        }
        if let Some(writer) = &mut self.writer {
            for r in reports {
                writer.write_record(report_line(r))?;
            }
            writer.flush()?;
            self.wrote = true;
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<Option<PathBuf>> {
        Ok(self.wrote.then_some(self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn report_cells_that_excel_would_run_are_neutralised() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            neutralise("-2+3+cmd|' /C calc'!A0"),
            "'-2+3+cmd|' /C calc'!A0"
        );
        assert_eq!(neutralise("+86 138-0013-8000"), "+86 138-0013-8000");
        assert_eq!(neutralise("张三"), "张三");
    }
}
