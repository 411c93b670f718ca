//! Imports through the HTTP API: a file is uploaded and checked (format, encoding, header row,
//! a preview of its first rows under the proposed column mapping), then started with the
//! caller's choices and run in the background by the same engine as the command line.
//!
//! The file is kept in the database (`import_upload_chunks`, bytes in 1 MiB pieces), not on
//! the disk of the instance that received it, so that any instance sharing the database can
//! run the import, show its progress and serve its error report. A run copies it to a
//! temporary file, because the readers need a file they can seek in; the pieces are deleted
//! once the import has finished. Reported rows go to `import_upload_rows` in the transaction of
//! their batch, so a run that is interrupted and started again reports every row once.
//!
//! An upload belongs to the user who sent it: to anyone else it does not exist.

use super::mapping::{CustomColumn, Mapping};
use super::source::{self, SourceRow};
use super::{
    check_rows, custom_columns, Dedup, ImportFile, Options, ReportTo, RowReport, RowResult,
};
use crate::error::{StoreError, StoreResult};
use crate::records::rfc3339;
use crate::scope::Actor;
use futures_util::Stream;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use xiansuo_core::clock::to_millis;
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

fn bad_file(message: impl std::fmt::Display) -> StoreError {
    Invalid::new("file", message.to_string()).into()
}

/// Checks a received file (`path`, as the client named it `name`) and stores it; answers with
/// the upload, the proposed mapping and a preview of the first rows. A file that cannot be
/// read as CSV or XLSX, or has no rows under its header, is refused with the reason.
pub async fn create(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    path: &Path,
    name: &str,
) -> StoreResult<Value> {
    let size = std::fs::metadata(path).map_err(anyhow::Error::from)?.len();
    if size == 0 {
        return Err(bad_file(
            "the file is empty: send a CSV or XLSX file with a header row and rows of leads",
        ));
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
        return Err(bad_file(
            "the file has a header row but no rows of leads under it",
        ));
    }
    let import_file = ImportFile::open(path).await?;
    if let Some(done) = super::previous(db, &import_file)
        .await?
        .filter(|p| p.finished)
    {
        return Err(StoreError::Conflict(format!(
            "this file was imported already ({} leads imported, {} skipped, {} failed); a file is imported once",
            done.counts.imported, done.counts.skipped, done.counts.failed
        )));
    }
    let custom = custom_columns(db).await?;
    let (mapping, mapping_error) = match Mapping::new(&sheet.headers, &custom, &BTreeMap::new()) {
        Ok(m) => (Some(m), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let preview = match &mapping {
        Some(mapping) => {
            let options = options_for(0, mapping.clone(), &Start::default());
            check_rows(db, actor, clock, &rows, &options)
                .await?
                .into_iter()
                .map(|p| {
                    let mut line = json!({"row": p.row, "lead": p.body, "result": "ok", "field": null, "reason": null});
                    if let Some(r) = p.report {
                        line["result"] = json!(r.result.code());
                        line["field"] = json!((!r.field.is_empty()).then_some(r.field));
                        line["reason"] = json!(r.reason);
                    }
                    line
                })
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
            "INSERT INTO import_uploads (user_id, file_name, file_size, file_sha256, format, headers, estimated_rows, state, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'uploaded', ?, ?)",
            &[
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

    let mut answer = get(db, actor, id).await?;
    answer["mapping_error"] = json!(mapping_error);
    answer["preview"] = Value::Array(preview);
    Ok(answer)
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

const UPLOAD_COLUMNS: &str = "u.id, u.user_id, u.file_name, u.file_size, u.file_sha256, u.format, \
     u.headers, u.estimated_rows, u.state, u.options, u.error, u.created_at, u.updated_at, \
     u.started_at, u.finished_at, i.rows_done, i.imported, i.skipped, i.failed, \
     i.updated_at AS progress_at";

/// An upload of `actor`, with the progress of its import.
async fn fetch(db: &Db, actor: &Actor, id: i64) -> StoreResult<Row> {
    db.fetch_optional(
        &format!(
            "SELECT {UPLOAD_COLUMNS} FROM import_uploads u \
             LEFT JOIN imports i ON i.record_type = 'lead' AND i.file_sha256 = u.file_sha256 \
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

/// `[{"header", "field"}]`: where each column goes (`null`: not imported).
fn mapping_json(mapping: &Mapping) -> Value {
    mapping
        .describe()
        .into_iter()
        .map(|(header, target)| json!({"header": header, "field": target.map(ToString::to_string)}))
        .collect()
}

async fn upload_json(db: &Db, row: &Row, custom: &[CustomColumn]) -> anyhow::Result<Value> {
    let id = row.int("id");
    let state = row.text("state");
    let options = options_of(row);
    let headers = headers_of(row);
    let mapping = Mapping::new(&headers, custom, &overrides_of(options.as_ref())).ok();
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
    Ok(json!({
        "id": id,
        "user_id": row.int("user_id"),
        "file_name": row.text("file_name"),
        "file_size": row.int("file_size"),
        "format": row.text("format"),
        "headers": headers,
        "mapping": mapping.as_ref().map(mapping_json),
        "unmapped": mapping.as_ref().map(|m| m.unmapped()),
        "estimated_rows": row.int("estimated_rows"),
        "state": state,
        "options": options,
        "progress": {
            "rows": count("rows_done"),
            "imported": count("imported"),
            "skipped": count("skipped"),
            "failed": count("failed"),
            "warned": warned,
            "warnings": warnings,
        },
        "error": row.opt_text("error"),
        "errors_csv": (reported > 0).then(|| format!("/api/v1/imports/{id}/errors.csv")),
        "created_at": rfc3339(row.int("created_at")),
        "updated_at": rfc3339(row.int("updated_at").max(row.int("progress_at"))),
        "started_at": row.opt_int("started_at").map(rfc3339),
        "finished_at": row.opt_int("finished_at").map(rfc3339),
    }))
}

/// One upload of the caller, with its progress.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> StoreResult<Value> {
    let row = fetch(db, actor, id).await?;
    Ok(upload_json(db, &row, &custom_columns(db).await?).await?)
}

/// The caller's uploads, newest first: `?limit=` (1–100, default 20) and `?cursor=`.
pub async fn list(db: &Db, actor: &Actor, query: &[(String, String)]) -> StoreResult<Value> {
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
                "SELECT {UPLOAD_COLUMNS} FROM import_uploads u \
                 LEFT JOIN imports i ON i.record_type = 'lead' AND i.file_sha256 = u.file_sha256 \
                 WHERE u.user_id = ? AND u.id < ? ORDER BY u.id DESC LIMIT {}",
                limit + 1
            ),
            &[Param::Int(actor.user_id), Param::Int(before)],
        )
        .await?;
    let more = rows.len() as i64 > limit;
    let custom = custom_columns(db).await?;
    let mut items = Vec::new();
    for row in rows.iter().take(limit as usize) {
        items.push(upload_json(db, row, &custom).await?);
    }
    let next_cursor = more
        .then(|| {
            items
                .last()
                .and_then(|i| i["id"].as_i64())
                .map(|i| i.to_string())
        })
        .flatten();
    Ok(json!({"items": items, "next_cursor": next_cursor}))
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

fn parse_start(body: &Value) -> Result<Start, Invalid> {
    let object = match body {
        Value::Null => return Ok(Start::default()),
        Value::Object(o) => o,
        _ => return Err(Invalid::new("body", "must be a JSON object")),
    };
    let mut start = Start::default();
    for (key, value) in object {
        match (key.as_str(), value) {
            (_, Value::Null) => {}
            ("mapping", Value::Object(m)) => {
                for (header, field) in m {
                    let Some(field) = field.as_str() else {
                        return Err(Invalid::new(
                            "mapping",
                            format!("'{header}' must map to a field name (name, phone, custom.KEY, ignore, …)"),
                        ));
                    };
                    start.overrides.insert(header.clone(), field.to_owned());
                }
            }
            ("mapping", _) => {
                return Err(Invalid::new(
                    "mapping",
                    "must be an object of header → field, such as {\"手机号码\": \"phone\"}",
                ))
            }
            ("dedup", Value::String(d)) => {
                start.dedup = d.parse().map_err(|e: String| Invalid::new("dedup", e))?;
                start.dedup_code.clone_from(d);
            }
            ("dedup", _) => {
                return Err(Invalid::new("dedup", "must be skip, block, warn or merge"));
            }
            ("dedup_probable", Value::String(d)) => {
                start.probable =
                    Some(d.parse().map_err(|e: String| Invalid::new("dedup_probable", e))?);
            }
            ("dedup_probable", _) => {
                return Err(Invalid::new(
                    "dedup_probable",
                    "must be skip, block, warn or merge",
                ));
            }
            ("country", Value::String(c)) if c.trim().is_empty() => {}
            ("country", Value::String(c)) => {
                start.country = Some(Region::parse(c).ok_or_else(|| {
                    Invalid::new(
                        "country",
                        format!("'{c}' is not a country: use an ISO code such as US or CN, or a name"),
                    )
                })?);
            }
            ("country", _) => {
                return Err(Invalid::new("country", "must be a country code such as US"))
            }
            ("source", Value::String(s)) => {
                start.source = Some(
                    xiansuo_core::lead::parse_source(s)
                        .map_err(|e| Invalid::new("source", e.message))?,
                );
            }
            ("source", _) => return Err(Invalid::new("source", "must be a source code")),
            ("owner_id", v) => {
                start.owner_id = Some(
                    v.as_i64()
                        .ok_or_else(|| Invalid::new("owner_id", "must be a user id"))?,
                );
            }
            (other, _) => {
                return Err(Invalid::new(
                    other,
                    "is not an import option (accepted: mapping, dedup, dedup_probable, country, source, owner_id)",
                ))
            }
        }
    }
    Ok(start)
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

/// What [`start`] hands to [`run`].
pub struct Started {
    pub upload: Value,
    pub options: Options,
}

/// Checks the choices and marks the upload as running; the caller then runs it with [`run`].
/// An upload that is running cannot be started again, unless its run has committed nothing
/// for ten minutes (its instance died); a finished one never.
pub async fn start(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    id: i64,
    body: &Value,
) -> StoreResult<Started> {
    let row = fetch(db, actor, id).await?;
    let choices = parse_start(body)?;
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
    let custom = custom_columns(db).await?;
    let mapping = Mapping::new(&headers, &custom, &choices.overrides)
        .map_err(|e| Invalid::new("mapping", e.to_string()))?;
    if let Some(owner) = choices.owner_id {
        check_owner(db, actor, owner).await?;
    }
    let sha = row.text("file_sha256");
    let other = db
        .fetch_optional(
            "SELECT id FROM import_uploads WHERE file_sha256 = ? AND state = 'running' AND id <> ?",
            &[Param::from(sha.as_str()), Param::Int(id)],
        )
        .await?;
    if other.is_some() {
        return Err(StoreError::Conflict(
            "the same file is being imported by another upload; wait for it to finish".into(),
        ));
    }
    let options_json = json!({
        "mapping": choices.overrides,
        "dedup": choices.dedup_code,
        "dedup_probable": choices.probable.map(Dedup::code),
        "country": choices.country.as_ref().map(|c| c.code().to_owned()),
        "source": choices.source,
        "owner_id": choices.owner_id,
    });
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
    Ok(Started {
        upload: get(db, actor, id).await?,
        options: options_for(id, mapping, &choices),
    })
}

/// The owner given to imported leads must be an active user within the caller's scope.
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
            "you may only give leads to users within your data scope; user {owner} is outside it"
        )));
    }
    Ok(())
}

/// Runs a started upload to its end and records how it ended. Meant to be spawned: it never
/// fails, it writes the failure on the upload instead.
pub async fn run(db: Db, actor: Actor, clock: Arc<dyn Clock>, id: i64, options: Options) {
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
    options: &Options,
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
    let file = ImportFile::open(copy.path()).await?;
    let sheet = source::open(copy.path()).await?;
    super::run(db, actor, clock, &file, sheet, options, |_| {}).await?;
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

    #[test]
    fn start_options_are_checked_field_by_field() {
        assert_eq!(
            parse_start(&json!({"dedup": "ask"})).err().unwrap().field,
            "dedup"
        );
        assert_eq!(
            parse_start(&json!({"source": "Not A Code!"}))
                .err()
                .unwrap()
                .field,
            "source"
        );
        assert_eq!(
            parse_start(&json!({"owner_id": "x"})).err().unwrap().field,
            "owner_id"
        );
        assert_eq!(
            parse_start(&json!({"mapping": {"A": 1}}))
                .err()
                .unwrap()
                .field,
            "mapping"
        );
        assert_eq!(
            parse_start(&json!({"colour": 1})).err().unwrap().field,
            "colour"
        );
        let start =
            parse_start(&json!({"dedup": "warn", "mapping": {"手机号码": "phone"}})).unwrap();
        assert_eq!(start.dedup, Dedup::Warn);
        assert_eq!(start.overrides["手机号码"], "phone");
        assert_eq!(parse_start(&Value::Null).unwrap().dedup, Dedup::Skip);
        let start = parse_start(&json!({"country": "美国", "dedup_probable": "merge"})).unwrap();
        assert_eq!(
            start.country.map(|c| c.code().to_owned()).as_deref(),
            Some("US")
        );
        assert_eq!(start.probable, Some(Dedup::Merge));
        assert_eq!(
            parse_start(&json!({"country": "Atlantis"}))
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
