//! Importing accounts, contacts, opportunities and activities from a CSV or XLSX file, the
//! way the lead import does it: each row becomes the body an API client would send and is
//! checked by `records::prepare`, rows go in batches of one transaction each together with the
//! count of rows handled in the file's `imports` row (keyed by object and SHA-256), so a killed
//! import loses only the batch in flight and running the same file again continues after the
//! last committed batch. Every row that is refused or imported with a warning is reported by
//! row number: in `FILE.errors.csv` (the command line), or in the `import_upload_rows` of an
//! uploaded file, in the transaction of its batch (the HTTP API and the web UI).
//!
//! A row whose id in the file (`external_id`) is the external id of a record of the same type
//! updates that record instead of adding another, so an export imported twice, or a newer one,
//! leaves each record once. Links to other records are resolved by their external ids or
//! names ([`super::links`]); one that cannot be resolved is reported, never dropped silently.
//! The file's creation times are kept, and a deal's stage, amount, close date, won or lost
//! outcome and lost reason, so that the pipeline and the reports over the imported past count
//! a deal won on 2025-03-10 as won in March 2025.

use super::headers::{Object, ObjectMapping};
use super::links::{self, Owners};
use super::values::{self, Stages};
use crate::data::import::mapping::{self, CustomColumn};
use crate::data::import::source::{Sheet, SourceRow};
use crate::data::import::{
    report, save_reports, ErrorReport, ImportFile, ReportTo, RowReport, RowResult,
};
use crate::records::history;
use crate::records::schema::{Table, ACCOUNTS, CONTACTS, OPPORTUNITIES};
use crate::records::{self, Ctx, NewRecord};
use crate::sales::pipeline::{self, StageKind};
use crate::scope::Actor;
use crate::StoreError;
use anyhow::Context;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use xiansuo_core::choice::{ChoiceKind, Choices};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::{snapshot, Channel};
use xiansuo_core::Clock;
use xiansuo_store::{Db, Param, Tx};

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    pub mapping: ObjectMapping,
    /// The owner of rows that name none, or name no user (the importing user otherwise).
    pub owner_id: Option<i64>,
    /// Rows per transaction.
    pub batch_size: usize,
    /// Where reported rows go.
    pub report_to: ReportTo,
}

/// Counts over the whole file, including batches committed by an earlier run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Data rows handled.
    pub rows: u64,
    /// Rows that added a record.
    pub created: u64,
    /// Rows that updated the record with their external id.
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// How far an earlier run of the same file got.
#[derive(Debug, Clone, Copy)]
pub struct Previous {
    id: i64,
    pub counts: Counts,
    pub finished: bool,
}

/// The earlier run of this file as an import of `object`, if there was one.
pub async fn previous(
    db: &Db,
    object: Object,
    file: &ImportFile,
) -> anyhow::Result<Option<Previous>> {
    Ok(db
        .fetch_optional(
            "SELECT id, rows_done, imported, updated, skipped, failed, finished_at FROM imports WHERE record_type = ? AND file_sha256 = ?",
            &[Param::from(object.code()), Param::from(file.sha256.as_str())],
        )
        .await?
        .map(|r| Previous {
            id: r.int("id"),
            counts: Counts {
                rows: r.int("rows_done") as u64,
                created: r.int("imported") as u64,
                updated: r.int("updated") as u64,
                skipped: r.int("skipped") as u64,
                failed: r.int("failed") as u64,
            },
            finished: r.opt_int("finished_at").is_some(),
        }))
}

/// The custom fields of the object that columns can be mapped to (activities have none).
pub async fn custom_columns(db: &Db, object: Object) -> anyhow::Result<Vec<CustomColumn>> {
    match object.record_type() {
        Some(record_type) => crate::data::import::custom_columns_of(db, record_type).await,
        None => Ok(Vec::new()),
    }
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Summary {
    pub counts: Counts,
    /// Rows handled by earlier runs, skipped this time.
    pub resumed_after: u64,
    /// Rows imported with a warning (a link or owner not found, an unknown type).
    pub warned: u64,
    /// The row-by-row report, when some row was reported.
    pub errors_file: Option<PathBuf>,
}

/// A deal's won or lost state as the file gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Closing {
    stage: String,
    result: &'static str,
    probability: i64,
    reason: Option<String>,
    /// Unix milliseconds.
    closed_at: i64,
}

/// An activity row ready to write.
#[derive(Debug, Clone, Serialize)]
struct Activity {
    record_type: &'static str,
    record_id: i64,
    #[serde(rename = "type")]
    kind: &'static str,
    outcome: Option<String>,
    content: Option<String>,
    next_follow_up_at: Option<i64>,
    owner_id: i64,
    created_at: i64,
    external_id: Option<String>,
}

/// What a row does.
enum Write {
    Create(Box<NewRecord>, Option<Closing>),
    Update {
        id: i64,
        body: Value,
        closing: Option<Closing>,
    },
    NewActivity(Activity),
    ActivityUpdate(i64, Activity),
}

/// A row that will be written, with its warnings.
struct Planned {
    row: SourceRow,
    write: Write,
    /// What the row becomes, for a preview.
    shown: Value,
    warnings: Vec<(String, String)>,
}

/// A batch: the rows to write and the rows reported without writing.
struct Plan {
    rows: usize,
    planned: Vec<Planned>,
    reports: Vec<RowReport>,
}

/// What every row of an import shares: who imports, the users, stages and choice lists.
struct Env<'a> {
    ctx: Ctx<'a>,
    options: &'a Options,
    owners: Owners,
    stages: Stages,
    choices: Arc<Choices>,
}

impl<'a> Env<'a> {
    async fn load(ctx: Ctx<'a>, options: &'a Options) -> anyhow::Result<Env<'a>> {
        Ok(Env {
            owners: Owners::load(ctx.db, ctx.actor).await?,
            stages: Stages::new(pipeline::stages(ctx.db).await?, &options.mapping.stages),
            choices: records::choices::all(ctx.db).await?,
            ctx,
            options,
        })
    }

    fn object(&self) -> Object {
        self.options.mapping.object
    }
}

/// A reason a row is refused: the field and what a person should do.
type Refusal = (String, String);

fn refuse(field: &str, reason: impl Into<String>) -> Refusal {
    (field.to_owned(), reason.into())
}

/// Ids found for a batch: (record type, external id) and (record type, name or key).
#[derive(Default)]
struct Found {
    by_external: HashMap<(RecordType, String), i64>,
    by_name: HashMap<(RecordType, String), i64>,
    /// Activities of the batch already imported, by external id.
    activities: HashMap<String, i64>,
}

impl Found {
    fn external(&self, record_type: RecordType, id: &str) -> Option<i64> {
        self.by_external.get(&(record_type, id.to_owned())).copied()
    }

    /// A WhoId/WhatId: by its Salesforce prefix, or else in `order`.
    fn any(&self, id: &str, order: &[RecordType]) -> Option<(RecordType, i64)> {
        match links::salesforce_type(id) {
            Some(t) => self.external(t, id).map(|found| (t, found)),
            None => order
                .iter()
                .find_map(|t| self.external(*t, id).map(|found| (*t, found))),
        }
    }
}

const ALL_TYPES: [RecordType; 4] = [
    RecordType::Opportunity,
    RecordType::Contact,
    RecordType::Lead,
    RecordType::Account,
];

/// The record types an id that names no type by its column may be of: the type the row gives
/// (Xiansuo's 记录类型), else the one a Salesforce id's prefix says, else any.
fn ref_types(kind: Option<&str>, id: &str) -> Vec<RecordType> {
    match kind.and_then(|k| RecordType::parse(k.trim()).ok()) {
        Some(t) => vec![t],
        None => match links::salesforce_type(id) {
            Some(t) => vec![t],
            None => ALL_TYPES.to_vec(),
        },
    }
}

/// Looks up, in one query per table, every record the rows of a batch name.
async fn find(env: &Env<'_>, rows: &[SourceRow]) -> anyhow::Result<Found> {
    let m = &env.options.mapping;
    let mut external: HashMap<RecordType, BTreeSet<String>> = HashMap::new();
    let mut names: HashMap<RecordType, BTreeSet<String>> = HashMap::new();
    let mut own = Vec::new();
    for row in rows {
        let v = &row.values;
        if let Some(id) = m.pick(v, "external_id") {
            own.push(id.to_owned());
        }
        for (field, record_type) in [
            ("account_ref", RecordType::Account),
            ("contact_ref", RecordType::Contact),
            ("lead_ref", RecordType::Lead),
            ("opportunity_ref", RecordType::Opportunity),
        ] {
            if let Some(id) = m.pick(v, field).map(links::first_id) {
                external
                    .entry(record_type)
                    .or_default()
                    .insert(id.to_owned());
            }
        }
        for field in ["who_ref", "what_ref", "record_ref"] {
            if let Some(id) = m.pick(v, field).map(links::first_id) {
                for t in ref_types(m.pick(v, "record_kind"), id) {
                    external.entry(t).or_default().insert(id.to_owned());
                }
            }
        }
        if let Some(key) = m
            .pick(v, "account_name")
            .and_then(xiansuo_core::dedup::company_key)
        {
            names.entry(RecordType::Account).or_default().insert(key);
        }
        for (field, record_type) in [
            ("contact_name", RecordType::Contact),
            ("opportunity_name", RecordType::Opportunity),
        ] {
            if let Some(name) = m.pick(v, field) {
                names
                    .entry(record_type)
                    .or_default()
                    .insert(name.to_owned());
            }
        }
    }
    let (db, actor) = (env.ctx.db, env.ctx.actor);
    let own_type = env.object().record_type();
    if let Some(t) = own_type {
        external.entry(t).or_default().extend(own.iter().cloned());
    }
    let mut found = Found::default();
    for (record_type, ids) in external {
        let ids: Vec<String> = ids.into_iter().collect();
        let table = links::table_name(record_type);
        for (id, record) in links::ids_by(db, actor, table, "external_id", &ids).await? {
            found.by_external.insert((record_type, id), record);
        }
    }
    for (record_type, values) in names {
        let values: Vec<String> = values.into_iter().collect();
        let (table, column) = match record_type {
            RecordType::Account => ("accounts", "company_key"),
            other => (links::table_name(other), "name"),
        };
        for (name, record) in links::ids_by(db, actor, table, column, &values).await? {
            found.by_name.insert((record_type, name), record);
        }
    }
    if env.object() == Object::Activity && !own.is_empty() {
        found.activities = links::ids_by(db, actor, "activities", "external_id", &own).await?;
    }
    Ok(found)
}

/// The owner of a row: the user its owner cell names, or the import's owner (reported when
/// the cell names nobody).
fn owner(env: &Env<'_>, values: &[String], warnings: &mut Vec<Refusal>) -> Option<i64> {
    let cell = env.options.mapping.pick(values, "owner")?;
    match env.owners.find(cell) {
        Some(id) => Some(id),
        None => {
            warnings.push(refuse(
                "owner",
                format!(
                    "'{cell}' is no user's username, display name or email; the record goes to {}",
                    match env.options.owner_id {
                        Some(id) => format!("user {id}, the import's owner"),
                        None => format!("the importing user {}", env.ctx.actor.username),
                    }
                ),
            ));
            None
        }
    }
    .or(env.options.owner_id)
}

/// An instant from a column, or a refusal naming it.
fn instant_of(env: &Env<'_>, values: &[String], field: &str) -> Result<Option<i64>, Refusal> {
    let m = &env.options.mapping;
    match m.pick(values, field) {
        None => Ok(None),
        Some(cell) => values::instant(cell, m.is_utc(field))
            .map(|t| Some(to_millis(t)))
            .ok_or_else(|| {
                refuse(
                    field,
                    format!("'{cell}' is not a date or time (write it as 2025-03-10 or 2025-03-10 14:30)"),
                )
            }),
    }
}

/// The fields every record type shares: external id, owner, tags, description, custom fields.
fn common_body(
    env: &Env<'_>,
    values: &[String],
    body: &mut Map<String, Value>,
    warnings: &mut Vec<Refusal>,
) {
    let m = &env.options.mapping;
    if let Some(id) = m.pick(values, "external_id") {
        body.insert("external_id".into(), json!(id));
    }
    if let Some(owner) = owner(env, values, warnings) {
        body.insert("owner_id".into(), json!(owner));
    }
    if let Some(text) = m.pick(values, "description") {
        body.insert("description".into(), json!(text));
    }
    if let Some(tags) = m.pick(values, "tags") {
        body.insert("tags".into(), json!(mapping::split_list(tags)));
    }
    let custom: Map<String, Value> = m
        .custom(values)
        .into_iter()
        .map(|(key, field_type, value)| (key.to_owned(), mapping::custom_value(field_type, value)))
        .collect();
    if !custom.is_empty() {
        body.insert("custom".into(), Value::Object(custom));
    }
}

fn copy(env: &Env<'_>, values: &[String], body: &mut Map<String, Value>, fields: &[&str]) {
    for field in fields {
        if let Some(value) = env.options.mapping.pick(values, field) {
            body.insert((*field).into(), json!(value));
        }
    }
}

/// A link to a record of `record_type` by an id column or a name column; an unresolved one
/// becomes a warning.
fn link(
    env: &Env<'_>,
    found: &Found,
    values: &[String],
    record_type: RecordType,
    (ref_field, name_field): (&str, Option<&str>),
    warnings: &mut Vec<Refusal>,
) -> Option<i64> {
    let m = &env.options.mapping;
    let by_ref = m.pick(values, ref_field).map(links::first_id);
    if let Some(id) = by_ref.and_then(|id| found.external(record_type, id)) {
        return Some(id);
    }
    let by_name = name_field.and_then(|f| m.pick(values, f));
    let key = |name: &str| match record_type {
        RecordType::Account => xiansuo_core::dedup::company_key(name),
        _ => Some(name.to_owned()),
    };
    if let Some(id) = by_name
        .and_then(key)
        .and_then(|k| found.by_name.get(&(record_type, k)).copied())
    {
        return Some(id);
    }
    let what = match (by_ref, by_name) {
        (Some(id), Some(name)) => format!("id '{id}' nor name '{name}'"),
        (Some(id), None) => format!("id '{id}'"),
        (None, Some(name)) => format!("name '{name}'"),
        (None, None) => return None,
    };
    warnings.push(refuse(
        ref_field.trim_end_matches("_ref"),
        format!(
            "no {} you can see has the {what} (import the {}s first); imported without this link",
            record_type.code(),
            record_type.code()
        ),
    ));
    None
}

/// The body of an account, contact or opportunity row, and a deal's outcome.
fn record_body(
    env: &Env<'_>,
    found: &Found,
    values: &[String],
    warnings: &mut Vec<Refusal>,
) -> Result<(Map<String, Value>, Option<Closing>), Refusal> {
    let m = &env.options.mapping;
    let mut body = Map::new();
    let mut closing = None;
    match env.object() {
        Object::Account => {
            copy(
                env,
                values,
                &mut body,
                &[
                    "name", "industry", "province", "city", "address", "phone", "website",
                ],
            );
            if let Some(size) = m.pick(values, "company_size") {
                let n = values::whole(size).ok_or_else(|| {
                    refuse("company_size", format!("'{size}' is not a whole number"))
                })?;
                body.insert("company_size".into(), json!(n));
            }
        }
        Object::Contact => {
            copy(
                env,
                values,
                &mut body,
                &["title", "phone", "email", "wechat"],
            );
            if let Some(name) = person_name(m, values) {
                body.insert("name".into(), json!(name));
            }
            let account = link(
                env,
                found,
                values,
                RecordType::Account,
                ("account_ref", Some("account_name")),
                warnings,
            );
            if let Some(id) = account {
                body.insert("account_id".into(), json!(id));
            }
        }
        Object::Opportunity => {
            copy(env, values, &mut body, &["name"]);
            for (record_type, fields) in [
                (RecordType::Account, ("account_ref", Some("account_name"))),
                (RecordType::Contact, ("contact_ref", None)),
                (RecordType::Lead, ("lead_ref", None)),
            ] {
                if let Some(id) = link(env, found, values, record_type, fields, warnings) {
                    body.insert(format!("{}_id", record_type.code()), json!(id));
                }
            }
            if let Some(amount) = m.pick(values, "amount") {
                let n = values::money(amount).ok_or_else(|| {
                    refuse(
                        "amount",
                        format!("'{amount}' is not an amount (write it as 12000 or 1,234.50; ¥, 元 and 万 are understood)"),
                    )
                })?;
                body.insert("amount".into(), json!(n));
            }
            let close_date = match m.pick(values, "expected_close_date") {
                Some(cell) => Some(values::date(cell).ok_or_else(|| {
                    refuse(
                        "expected_close_date",
                        format!("'{cell}' is not a date (write it as 2025-03-10)"),
                    )
                })?),
                None => None,
            };
            if let Some(d) = close_date {
                body.insert(
                    "expected_close_date".into(),
                    json!(d.format("%Y-%m-%d").to_string()),
                );
            }
            if let Some(p) = m.pick(values, "probability") {
                let n = values::whole(p)
                    .filter(|n| (0..=100).contains(n))
                    .ok_or_else(|| {
                        refuse(
                            "probability",
                            format!("'{p}' is not a percentage from 0 to 100"),
                        )
                    })?;
                body.insert("probability".into(), json!(n));
            }
            closing = deal_outcome(env, values, close_date, &mut body)?;
        }
        Object::Activity => unreachable!("activities have no record body"),
    }
    common_body(env, values, &mut body, warnings);
    Ok((body, closing))
}

/// A contact's name: a name column, or first and last name (family name first in Chinese).
fn person_name(m: &ObjectMapping, values: &[String]) -> Option<String> {
    if let Some(name) = m.pick(values, "name") {
        return Some(name.to_owned());
    }
    let first = m.pick(values, "first_name");
    let last = m.pick(values, "last_name");
    let chinese = |s: &str| s.chars().any(|c| matches!(c, '\u{4E00}'..='\u{9FFF}'));
    match (last, first) {
        (Some(l), Some(f)) if chinese(l) || chinese(f) => Some(format!("{l}{f}")),
        (Some(l), Some(f)) => Some(format!("{f} {l}")),
        (l, f) => l.or(f).map(str::to_owned),
    }
}

/// A deal's stage and outcome: the stage named (ours, another system's, or the mapping
/// file's), corrected by the won/lost columns (`IsWon`, `IsClosed`, 赢单/输单). An open deal
/// gets the stage in its body; a closed one the stage, result, reason and close time to set.
fn deal_outcome(
    env: &Env<'_>,
    values: &[String],
    close_date: Option<chrono::NaiveDate>,
    body: &mut Map<String, Value>,
) -> Result<Option<Closing>, Refusal> {
    let m = &env.options.mapping;
    let flagged = m
        .pick(values, "result")
        .and_then(values::result)
        .or_else(|| {
            let closed = m.pick(values, "is_closed").and_then(values::flag);
            let won = m.pick(values, "is_won").and_then(values::flag);
            match (closed, won) {
                (_, Some(true)) => Some(StageKind::Won),
                (Some(true), Some(false)) => Some(StageKind::Lost),
                (Some(false), _) => Some(StageKind::Open),
                _ => None,
            }
        });
    let named = match m.pick(values, "stage") {
        Some(cell) => Some(env.stages.resolve(cell).map_err(|e| refuse("stage", e))?),
        None => None,
    };
    let kind = flagged.or(named.map(|s| s.kind));
    let stage = match (named, kind) {
        (Some(s), Some(k)) if s.kind == k => Some(s),
        (_, Some(k)) if k != StageKind::Open || named.is_some() => {
            Some(env.stages.first(k).ok_or_else(|| {
                refuse(
                    "stage",
                    format!("the pipeline has no active {} stage", k.code()),
                )
            })?)
        }
        _ => named,
    };
    let Some(stage) = stage else {
        return Ok(None);
    };
    if stage.kind == StageKind::Open {
        body.insert("stage".into(), json!(stage.code));
        return Ok(None);
    }
    let closed_at = match instant_of(env, values, "closed_at")? {
        Some(at) => at,
        None => match close_date.and_then(|d| values::instant(&d.to_string(), false)) {
            Some(at) => to_millis(at),
            None => instant_of(env, values, "created_at")?.unwrap_or(to_millis(env.ctx.now)),
        },
    };
    // The deal is created in the first open stage, then closed as the file says.
    if let Some(open) = env.stages.first(StageKind::Open) {
        body.insert("stage".into(), json!(open.code));
    }
    Ok(Some(Closing {
        stage: stage.code.clone(),
        result: stage.kind.code(),
        probability: stage.probability,
        reason: m
            .pick(values, "lost_reason")
            .map(|r| env.choices.reason(ChoiceKind::LostReason, r)),
        closed_at,
    }))
}

/// An activity row: its record (the most specific one named: a deal, a person, a lead, an
/// account), type, text, outcome and time.
fn activity(
    env: &Env<'_>,
    found: &Found,
    values: &[String],
    warnings: &mut Vec<Refusal>,
) -> Result<Activity, Refusal> {
    let m = &env.options.mapping;
    let mut candidates: Vec<(RecordType, i64)> = Vec::new();
    let mut missing = Vec::new();
    for (field, record_type) in [
        ("opportunity_ref", RecordType::Opportunity),
        ("contact_ref", RecordType::Contact),
        ("lead_ref", RecordType::Lead),
        ("account_ref", RecordType::Account),
    ] {
        if let Some(id) = m.pick(values, field).map(links::first_id) {
            match found.external(record_type, id) {
                Some(found) => candidates.push((record_type, found)),
                None => missing.push(format!("{field} '{id}'")),
            }
        }
    }
    for field in ["who_ref", "what_ref", "record_ref"] {
        if let Some(id) = m.pick(values, field).map(links::first_id) {
            match found.any(id, &ref_types(m.pick(values, "record_kind"), id)) {
                Some(c) => candidates.push(c),
                None => missing.push(format!("{field} '{id}'")),
            }
        }
    }
    for (field, record_type) in [
        ("opportunity_name", RecordType::Opportunity),
        ("contact_name", RecordType::Contact),
        ("account_name", RecordType::Account),
    ] {
        if let Some(name) = m.pick(values, field) {
            let key = match record_type {
                RecordType::Account => xiansuo_core::dedup::company_key(name),
                _ => Some(name.to_owned()),
            };
            match key.and_then(|k| found.by_name.get(&(record_type, k))) {
                Some(id) => candidates.push((record_type, *id)),
                None => missing.push(format!("{field} '{name}'")),
            }
        }
    }
    let rank = |t: RecordType| ALL_TYPES.iter().position(|x| *x == t).unwrap_or(9);
    candidates.sort_by_key(|(t, _)| rank(*t));
    let Some(&(record_type, record_id)) = candidates.first() else {
        return Err(refuse(
            "record",
            if missing.is_empty() {
                "the row names no lead, contact, account or opportunity to log the activity on (WhoId, WhatId, 客户名称, 联系人 …)".to_owned()
            } else {
                format!(
                    "no record you can see matches {} (import the records it belongs to first)",
                    missing.join(", ")
                )
            },
        ));
    };
    if !missing.is_empty() {
        warnings.push(refuse(
            "record",
            format!(
                "no record matches {}; logged on {} {record_id}",
                missing.join(", "),
                record_type.code()
            ),
        ));
    }
    let kind = match m.pick(values, "type") {
        Some(cell) => match values::activity_type(cell) {
            Some(t) => t,
            None => {
                warnings.push(refuse(
                    "type",
                    format!("'{cell}' is not one of call, email, meeting, visit, wechat, note; imported as a note"),
                ));
                xiansuo_core::lead::ActivityType::Note
            }
        },
        None => xiansuo_core::lead::ActivityType::Note,
    };
    let outcome = match m.pick(values, "outcome") {
        Some(cell) => match env
            .choices
            .parse_listed(ChoiceKind::Outcome, "outcome", cell)
        {
            Ok(code) => Some(code),
            Err(e) => {
                warnings.push(refuse(
                    "outcome",
                    format!("{}; imported without an outcome", e.message),
                ));
                None
            }
        },
        None => None,
    };
    let content = match (m.pick(values, "subject"), m.pick(values, "content")) {
        (Some(s), Some(c)) => Some(format!("{s}\n\n{c}")),
        (s, c) => s.or(c).map(str::to_owned),
    };
    if content.as_ref().is_some_and(|c| c.chars().count() > 10_000) {
        return Err(refuse("content", "is longer than 10,000 characters"));
    }
    let created_at = match instant_of(env, values, "activity_date")? {
        Some(at) => at,
        None => instant_of(env, values, "created_at")?.unwrap_or(to_millis(env.ctx.now)),
    };
    Ok(Activity {
        record_type: record_type.code(),
        record_id,
        kind: kind.code(),
        outcome,
        content,
        next_follow_up_at: instant_of(env, values, "next_follow_up_at")?,
        owner_id: owner(env, values, warnings).unwrap_or(env.ctx.actor.user_id),
        created_at,
        external_id: m.pick(values, "external_id").map(str::to_owned),
    })
}

fn table_of(object: Object) -> &'static Table {
    match object {
        Object::Account => &ACCOUNTS,
        Object::Contact => &CONTACTS,
        _ => &OPPORTUNITIES,
    }
}

/// Works out what each row of a batch does, reading but writing nothing.
async fn plan(env: &Env<'_>, rows: Vec<SourceRow>) -> anyhow::Result<Plan> {
    let found = find(env, &rows).await?;
    let m = &env.options.mapping;
    let count = rows.len();
    let mut planned = Vec::new();
    let mut reports = Vec::new();
    // External ids created by an earlier row of this batch: a later row with the same one is
    // left out (across batches it updates the record the earlier one made).
    let mut earlier: HashMap<String, u64> = HashMap::new();
    for row in rows {
        if row.is_empty() {
            reports.push(report(&row, RowResult::Skipped, "", "empty row".into()));
            continue;
        }
        let values = row.values.clone();
        let external = m.pick(&values, "external_id").map(str::to_owned);
        let mut warnings = Vec::new();
        let existing = external
            .as_deref()
            .and_then(|id| match env.object().record_type() {
                Some(t) => found.external(t, id),
                None => found.activities.get(id).copied(),
            });
        if let (None, Some(id)) = (existing, &external) {
            if let Some(first) = earlier.get(id) {
                let reason = format!("the same id '{id}' as row {first} of this file, which is imported; the row is left out");
                reports.push(report(&row, RowResult::Skipped, "external_id", reason));
                continue;
            }
        }
        let outcome: Result<(Write, Value), Refusal> = if env.object() == Object::Activity {
            activity(env, &found, &values, &mut warnings).map(|a| {
                let shown = json!(a);
                match existing {
                    Some(id) => (Write::ActivityUpdate(id, a), shown),
                    None => (Write::NewActivity(a), shown),
                }
            })
        } else {
            match record_body(env, &found, &values, &mut warnings) {
                Err(e) => Err(e),
                Ok((mut body, closing)) => match existing {
                    Some(id) => {
                        if closing.is_some() {
                            body.remove("stage");
                        }
                        let shown = json!({"update": id, "body": body, "closing": closing});
                        Ok((
                            Write::Update {
                                id,
                                body: Value::Object(body),
                                closing,
                            },
                            shown,
                        ))
                    }
                    None => {
                        let created_at = instant_of(env, &values, "created_at");
                        let body = Value::Object(body);
                        match (
                            created_at,
                            records::prepare(env.ctx, table_of(env.object()), &body).await,
                        ) {
                            (Err(e), _) => Err(e),
                            (_, Err(StoreError::Internal(e))) => return Err(e),
                            (_, Err(StoreError::Invalid(e))) => Err((e.field, e.message)),
                            (_, Err(e)) => Err(refuse("", e.to_string())),
                            (Ok(at), Ok(mut record)) => {
                                if let Some(at) = at {
                                    record.set("created_at", Param::Int(at));
                                }
                                let shown = json!({"create": body, "closing": closing});
                                Ok((Write::Create(Box::new(record), closing), shown))
                            }
                        }
                    }
                },
            }
        };
        match outcome {
            Err((field, reason)) => reports.push(report(&row, RowResult::Failed, &field, reason)),
            Ok((write, shown)) => {
                if let (Write::Create(..) | Write::NewActivity(_), Some(id)) = (&write, &external) {
                    earlier.insert(id.clone(), row.number);
                }
                planned.push(Planned {
                    row,
                    write,
                    shown,
                    warnings,
                });
            }
        }
    }
    Ok(Plan {
        rows: count,
        planned,
        reports,
    })
}

/// A row of a preview: what it would become, and why it would not or what it warns of.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub row: u64,
    pub shown: Value,
    pub reports: Vec<RowReport>,
}

/// Checks the first `limit` rows exactly as an import would, writing nothing.
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
    check_rows(db, actor, clock, rows, options).await
}

/// Checks rows exactly as an import would, writing nothing.
pub async fn check_rows(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    rows: Vec<SourceRow>,
    options: &Options,
) -> anyhow::Result<Vec<PreviewRow>> {
    let env = Env::load(ctx(db, actor, clock), options).await?;
    let plan = plan(&env, rows).await?;
    let mut out: Vec<PreviewRow> = plan
        .planned
        .into_iter()
        .map(|p| PreviewRow {
            row: p.row.number,
            reports: warnings_of(&p.row, &p.warnings),
            shown: p.shown,
        })
        .collect();
    out.extend(plan.reports.into_iter().map(|r| PreviewRow {
        row: r.row,
        shown: Value::Null,
        reports: vec![r],
    }));
    out.sort_by_key(|p| p.row);
    Ok(out)
}

fn ctx<'a>(db: &'a Db, actor: &'a Actor, clock: &dyn Clock) -> Ctx<'a> {
    Ctx {
        hooks: crate::hooks::ALL,
        db,
        actor,
        channel: Channel::Import,
        now: clock.now(),
    }
}

fn warnings_of(row: &SourceRow, warnings: &[Refusal]) -> Vec<RowReport> {
    warnings
        .iter()
        .map(|(field, reason)| {
            report(
                row,
                RowResult::Imported,
                field,
                format!("imported with a warning: {reason}"),
            )
        })
        .collect()
}

/// Imports the rows of an open sheet as `actor`, calling `progress` after each committed
/// batch. Call [`previous`] first: a finished file is not imported again.
pub async fn run(
    db: &Db,
    actor: &Actor,
    clock: &dyn Clock,
    file: &ImportFile,
    mut sheet: Sheet,
    options: &Options,
    mut progress: impl FnMut(&Counts),
) -> anyhow::Result<Summary> {
    let object = options.mapping.object;
    let (id, mut counts) = match previous(db, object, file).await? {
        Some(p) if p.finished => anyhow::bail!("this file was already imported"),
        Some(p) => (p.id, p.counts),
        None => (
            start(db, actor, object, file, clock).await?,
            Counts::default(),
        ),
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
    let mut env = Env::load(ctx(db, actor, clock), options).await?;
    let mut warned = 0;
    loop {
        let mut rows = Vec::with_capacity(options.batch_size);
        while rows.len() < options.batch_size {
            match sheet.rows.recv().await {
                Some(row) => rows.push(row?),
                None => break,
            }
        }
        if rows.is_empty() {
            break;
        }
        env.ctx.now = clock.now();
        let plan = plan(&env, rows).await?;
        let (next, reports, warnings) = write(&env, id, plan, counts).await?;
        warned += warnings;
        if let Some(report) = &mut report {
            report.write(&reports)?;
        }
        counts = next;
        progress(&counts);
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
        errors_file: match report {
            Some(report) => report.finish()?,
            None => None,
        },
    })
}

/// Writes a planned batch: the updates of records one by one (each in its own transaction,
/// so that running them again after a crash changes nothing), then the new records, the
/// activities and the file's counts in one transaction. Returns the new counts, the reports
/// and how many rows carried a warning.
async fn write(
    env: &Env<'_>,
    import_id: i64,
    plan: Plan,
    counts: Counts,
) -> anyhow::Result<(Counts, Vec<RowReport>, u64)> {
    let Plan {
        rows,
        planned,
        mut reports,
    } = plan;
    let mut next = counts;
    next.rows += rows as u64;
    let mut creates: Vec<NewRecord> = Vec::new();
    let mut closings: Vec<(usize, Closing)> = Vec::new();
    let mut activities: Vec<(Option<i64>, Activity)> = Vec::new();
    let mut warned = 0;
    let table = table_of(env.object());
    for p in planned {
        let warnings = warnings_of(&p.row, &p.warnings);
        match p.write {
            Write::Update { id, body, closing } => {
                match records::update(env.ctx, table, id, &body).await {
                    Ok(_) => {}
                    Err(StoreError::Internal(e)) => return Err(e),
                    Err(StoreError::Invalid(e)) => {
                        reports.push(report(&p.row, RowResult::Failed, &e.field, e.message));
                        continue;
                    }
                    Err(e) => {
                        reports.push(report(&p.row, RowResult::Failed, "", e.to_string()));
                        continue;
                    }
                }
                if let Some(closing) = closing {
                    let mut tx = env.ctx.db.begin().await?;
                    close(&mut tx, env.ctx, id, &closing).await?;
                    tx.commit().await?;
                }
                next.updated += 1;
            }
            Write::Create(record, closing) => {
                if let Some(c) = closing {
                    closings.push((creates.len(), c));
                }
                creates.push(*record);
                next.created += 1;
            }
            Write::NewActivity(a) => {
                activities.push((None, a));
                next.created += 1;
            }
            Write::ActivityUpdate(id, a) => {
                activities.push((Some(id), a));
                next.updated += 1;
            }
        }
        if !warnings.is_empty() {
            warned += 1;
        }
        reports.extend(warnings);
    }
    next.failed = counts.failed
        + reports
            .iter()
            .filter(|r| r.result == RowResult::Failed)
            .count() as u64;
    next.skipped = counts.skipped
        + reports
            .iter()
            .filter(|r| r.result == RowResult::Skipped)
            .count() as u64;
    reports.sort_by_key(|r| r.row);
    let mut tx = env.ctx.db.begin().await?;
    for (index, closing) in &closings {
        let record = &mut creates[*index];
        record.set("stage", Param::from(closing.stage.as_str()));
        record.set("result", Param::from(closing.result));
        record.set("probability", Param::Int(closing.probability));
        record.set("closed_at", Param::Int(closing.closed_at));
        record.set("close_reason", Param::from(closing.reason.clone()));
    }
    let mut refs: Vec<&mut NewRecord> = creates.iter_mut().collect();
    if !refs.is_empty() {
        records::insert(&mut tx, &mut refs).await?;
    }
    write_activities(&mut tx, env.ctx, &activities).await?;
    if let ReportTo::Upload(upload) = env.options.report_to {
        save_reports(&mut tx, upload, &one_per_row(&reports)).await?;
    }
    let updated = tx
        .execute(
            "UPDATE imports SET rows_done = ?, imported = ?, updated = ?, skipped = ?, failed = ?, updated_at = ? WHERE id = ? AND rows_done = ?",
            &[
                Param::Int(next.rows as i64),
                Param::Int(next.created as i64),
                Param::Int(next.updated as i64),
                Param::Int(next.skipped as i64),
                Param::Int(next.failed as i64),
                Param::Int(to_millis(env.ctx.now)),
                Param::Int(import_id),
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
    Ok((next, reports, warned))
}

/// The reports of an upload, one per row (its table holds one): a row's warnings are joined,
/// and a row imported with warnings counts as a `warning` there, as a lead's would.
fn one_per_row(reports: &[RowReport]) -> Vec<RowReport> {
    let mut out: Vec<RowReport> = Vec::with_capacity(reports.len());
    for r in reports {
        let result = match r.result {
            RowResult::Imported => RowResult::Warning,
            other => other,
        };
        match out.last_mut() {
            Some(last) if last.row == r.row => {
                last.reason = format!("{}; {}", last.reason, r.reason);
                if result == RowResult::Failed {
                    last.result = result;
                }
            }
            _ => out.push(RowReport {
                result,
                ..r.clone()
            }),
        }
    }
    out
}

/// Sets a stored deal's won or lost state as the file gives it, recording the change.
async fn close(tx: &mut Tx, ctx: Ctx<'_>, id: i64, closing: &Closing) -> anyhow::Result<()> {
    let Some(row) = tx
        .fetch_optional(
            "SELECT * FROM opportunities WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
    else {
        return Ok(());
    };
    let before = records::to_json(&OPPORTUNITIES, &row);
    tx.execute(
        "UPDATE opportunities SET stage = ?, result = ?, probability = ?, close_reason = ?, closed_at = ? WHERE id = ?",
        &[
            Param::from(closing.stage.as_str()),
            Param::from(closing.result),
            Param::Int(closing.probability),
            Param::from(closing.reason.clone()),
            Param::Int(closing.closed_at),
            Param::Int(id),
        ],
    )
    .await?;
    let Some(row) = tx
        .fetch_optional(
            "SELECT * FROM opportunities WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
    else {
        return Ok(());
    };
    let after = records::to_json(&OPPORTUNITIES, &row);
    history::record_changes(
        tx,
        ctx.stamp(),
        RecordType::Opportunity,
        id,
        &snapshot(&before),
        &snapshot(&after),
    )
    .await?;
    Ok(())
}

/// Rows per INSERT of activities: 10 parameters each.
const ACTIVITIES_PER_STATEMENT: usize = 500;

/// Inserts the new activities and updates the ones imported before (by external id).
async fn write_activities(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    activities: &[(Option<i64>, Activity)],
) -> anyhow::Result<()> {
    let now = to_millis(ctx.now);
    let params = |a: &Activity| {
        vec![
            Param::from(a.record_type),
            Param::Int(a.record_id),
            Param::from(a.kind),
            Param::from(a.outcome.clone()),
            Param::from(a.content.clone()),
            Param::from(a.next_follow_up_at),
            Param::Int(a.owner_id),
            Param::Int(a.created_at),
            Param::from(a.external_id.clone()),
        ]
    };
    for (id, a) in activities {
        if let Some(id) = id {
            let mut p = params(a);
            p.extend([Param::Int(now), Param::Int(*id)]);
            tx.execute(
                "UPDATE activities SET record_type = ?, record_id = ?, type = ?, outcome = ?, content = ?, next_follow_up_at = ?, owner_id = ?, created_at = ?, external_id = ?, updated_at = ? WHERE id = ?",
                &p,
            )
            .await?;
        }
    }
    let new: Vec<&Activity> = activities
        .iter()
        .filter(|(id, _)| id.is_none())
        .map(|(_, a)| a)
        .collect();
    for chunk in new.chunks(ACTIVITIES_PER_STATEMENT) {
        let mut all = Vec::with_capacity(chunk.len() * 11);
        for a in chunk {
            all.extend(params(a));
            all.extend([Param::Int(ctx.actor.user_id), Param::Int(now)]);
        }
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        tx.execute(
            &format!("INSERT INTO activities (record_type, record_id, type, outcome, content, next_follow_up_at, owner_id, created_at, external_id, created_by, updated_at) VALUES {values}"),
            &all,
        )
        .await?;
    }
    Ok(())
}

async fn start(
    db: &Db,
    actor: &Actor,
    object: Object,
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
            "INSERT INTO imports (record_type, file_sha256, file_name, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            &[
                Param::from(object.code()),
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
