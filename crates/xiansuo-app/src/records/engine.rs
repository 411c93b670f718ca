//! The record engine: create, read, change, delete, restore and list any record type described
//! in [`crate::records::schema`], with its data scope, custom fields and audit history, on either
//! database. Every write runs in one transaction, so a failure leaves nothing half-written.
//! What features add to a record's life runs through the hooks of [`super::lifecycle`].

use crate::error::{StoreError, StoreResult};
use crate::records::json::{cents, to_json};
use crate::records::lifecycle::{Change, Ctx, NewRecord, Stamp};
use crate::records::schema::{CodeSet, Field, Kind, Table};
use crate::records::{choices, custom_fields, history, search};
use crate::scope::Actor;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate};
use serde_json::{json, Map, Value};
use xiansuo_core::choice::{ChoiceKind, Choices};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::{self, CustomFieldDef, FieldType, RecordType};
use xiansuo_core::history::{snapshot, Channel};
use xiansuo_core::lead::{parse_tag, LeadStatus};
use xiansuo_core::{Email, Invalid, Phone, Text};
use xiansuo_store::dialect::JsonScalar;
use xiansuo_store::{Db, Dialect, Param, Row, Tx};

/// The most tags a record may carry.
pub const MAX_TAGS: usize = 50;

/// What a request asked to write, after parsing: column values, plus the references that must
/// be checked against the database before writing.
#[derive(Default)]
struct Writes {
    columns: Vec<(String, Param)>,
    owner: Option<i64>,
    refs: Vec<(&'static Field, RecordType, i64)>,
    custom: Option<Map<String, Value>>,
}

impl Writes {
    fn set(&mut self, column: impl Into<String>, value: Param) {
        let column = column.into();
        self.columns.retain(|(c, _)| *c != column);
        self.columns.push((column, value));
    }

    fn has(&self, column: &str) -> bool {
        self.columns.iter().any(|(c, _)| c == column)
    }
}

fn type_error(field: &Field, expected: &str) -> StoreError {
    Invalid::new(field.name, format!("must be {expected}")).into()
}

/// Parses one request value for one field into column values.
fn parse_field(
    field: &'static Field,
    choices: &Choices,
    value: &Value,
    writes: &mut Writes,
) -> StoreResult<()> {
    let name = field.name;
    if value.is_null() {
        match field.kind {
            Kind::Phone | Kind::Email => {
                writes.set(name, Param::NullText);
                writes.set(format!("{name}_normalized"), Param::NullText);
            }
            Kind::Tags => writes.set(name, Param::from("[]")),
            Kind::Custom => writes.custom = Some(Map::new()),
            Kind::Owner => return Err(Invalid::new(name, "cannot be null").into()),
            Kind::Int { .. } | Kind::Money | Kind::Ref(_) => {
                writes.set(field.column(), Param::NullInt)
            }
            _ => writes.set(field.column(), Param::NullText),
        }
        return Ok(());
    }
    let text = || value.as_str().ok_or_else(|| type_error(field, "a string"));
    let integer = || {
        value
            .as_i64()
            .ok_or_else(|| type_error(field, "a whole number"))
    };
    match field.kind {
        Kind::Text(max) => {
            let parsed = if field.required {
                Some(Text::parse(name, text()?, max)?)
            } else {
                Text::parse_optional(name, text()?, max)?
            };
            writes.set(name, Param::from(parsed.map(Text::into_string)));
        }
        Kind::Phone => {
            let raw = text()?;
            if raw.trim().is_empty() {
                writes.set(name, Param::NullText);
                writes.set(format!("{name}_normalized"), Param::NullText);
            } else {
                let phone = Phone::parse(raw).map_err(|e| Invalid::new(name, e.message))?;
                writes.set(name, Param::from(phone.entered()));
                writes.set(format!("{name}_normalized"), Param::from(phone.e164()));
            }
        }
        Kind::Email => {
            let raw = text()?;
            if raw.trim().is_empty() {
                writes.set(name, Param::NullText);
                writes.set(format!("{name}_normalized"), Param::NullText);
            } else {
                let email = Email::parse(raw).map_err(|e| Invalid::new(name, e.message))?;
                writes.set(name, Param::from(email.entered()));
                writes.set(
                    format!("{name}_normalized"),
                    Param::from(email.normalized()),
                );
            }
        }
        Kind::Code(CodeSet::LeadStatus) => {
            let (status, detail) = choices
                .parse_status(text()?)
                .map_err(|e| Invalid::new(name, e.message))?;
            writes.set(name, Param::from(status.code()));
            writes.set("status_detail", Param::from(detail));
        }
        Kind::Code(set) => {
            let code = set
                .parse(choices, text()?.trim())
                .map_err(|e| Invalid::new(name, e.message))?;
            writes.set(name, Param::from(code));
        }
        Kind::Tags => {
            let items = value
                .as_array()
                .ok_or_else(|| type_error(field, "a list of strings"))?;
            // Linear in the list, and stops at the first tag too many.
            let mut tags: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for item in items {
                let tag = parse_tag(
                    item.as_str()
                        .ok_or_else(|| type_error(field, "a list of strings"))?,
                )?;
                if seen.insert(tag.clone()) {
                    if tags.len() == MAX_TAGS {
                        return Err(Invalid::new(name, format!("at most {MAX_TAGS} tags")).into());
                    }
                    tags.push(tag);
                }
            }
            writes.set(
                name,
                Param::from(serde_json::to_string(&tags).map_err(anyhow::Error::from)?),
            );
        }
        Kind::Custom => {
            let map = value
                .as_object()
                .ok_or_else(|| type_error(field, "an object of custom field values"))?;
            writes.custom = Some(map.clone());
        }
        Kind::Owner => {
            let id = integer()?;
            writes.owner = Some(id);
            writes.set(name, Param::Int(id));
        }
        Kind::Ref(record_type) => {
            let id = integer()?;
            writes.refs.push((field, record_type, id));
            writes.set(name, Param::Int(id));
        }
        Kind::Int { min, max } => {
            let n = integer()?;
            if n < min || n > max {
                return Err(Invalid::new(name, format!("must be between {min} and {max}")).into());
            }
            writes.set(name, Param::Int(n));
        }
        Kind::Money => {
            let amount = value
                .as_f64()
                .ok_or_else(|| type_error(field, "a number"))?;
            writes.set(field.column(), Param::Int(cents(name, amount)?));
        }
        Kind::Date => {
            let date = xiansuo_core::validation::date(name, text()?)?;
            writes.set(name, Param::from(date.format("%Y-%m-%d").to_string()));
        }
        Kind::Id
        | Kind::Derived
        | Kind::Timestamp
        | Kind::Probability
        | Kind::UserRef
        | Kind::Link(_)
        | Kind::PoolRef => {
            return Err(Invalid::new(name, "is read-only").into());
        }
    }
    Ok(())
}

/// Parses a request body (a JSON object) against a table: unknown and read-only fields are
/// refused with a message listing what is accepted.
fn parse_body(table: &'static Table, choices: &Choices, body: &Value) -> StoreResult<Writes> {
    let object = body.as_object().ok_or_else(|| {
        Invalid::new(
            "body",
            format!(
                "must be a JSON object with the fields of a {}",
                table.schema
            ),
        )
    })?;
    let mut writes = Writes::default();
    for (key, value) in object {
        let Some(field) = table.field(key) else {
            let accepted: Vec<&str> = table
                .fields
                .iter()
                .filter(|f| f.writable())
                .map(|f| f.name)
                .collect();
            return Err(Invalid::new(
                key.as_str(),
                format!(
                    "is not a field of {} (accepted: {})",
                    table.schema,
                    accepted.join(", ")
                ),
            )
            .into());
        };
        if !field.writable() {
            return Err(Invalid::new(field.name, "is read-only").into());
        }
        if value.is_null() && !table.nullable(field) {
            return Err(Invalid::new(field.name, "cannot be null").into());
        }
        parse_field(field, choices, value, &mut writes)?;
    }
    // A listed disqualify reason, named by code or label, is stored as its code.
    for (column, value) in &mut writes.columns {
        if column == "disqualify_reason" {
            if let Param::Text(reason) = value {
                *reason = choices.reason(ChoiceKind::DisqualifyReason, reason);
            }
        }
    }
    // Every channel (API, UI, import) parses here, so no write can leave a key stale.
    for key in table.keys {
        let source = writes.columns.iter().find(|(c, _)| c == key.source);
        if let Some((_, value)) = source {
            let computed = match value {
                Param::Text(text) => (key.compute)(text),
                _ => None,
            };
            writes.set(key.column, Param::from(computed));
        }
    }
    Ok(writes)
}

/// Checks that the actor may give records to `owner`: an active user, and within the actor's
/// scope unless the actor is an admin.
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

async fn check_refs(db: &Db, actor: &Actor, writes: &Writes) -> StoreResult<()> {
    for (field, record_type, id) in &writes.refs {
        let table = Table::of(*record_type);
        let scope = actor.scope_clause();
        let found = db
            .fetch_optional(
                &format!(
                    "SELECT id FROM {} WHERE id = ? AND deleted_at IS NULL{scope}",
                    table.name
                ),
                &[Param::Int(*id)],
            )
            .await?
            .is_some();
        if !found {
            return Err(Invalid::new(
                field.name,
                format!("no {} with id {id} that you can see", record_type.code()),
            )
            .into());
        }
    }
    Ok(())
}

/// Rules on leads that the generic engine cannot know: conversion happens only through the
/// convert action, and a converted lead is read-only.
fn check_lead_rules(table: &Table, before: Option<&Value>, writes: &Writes) -> StoreResult<()> {
    if table.record_type != RecordType::Lead {
        return Ok(());
    }
    if before.and_then(|b| b["status"].as_str()) == Some(LeadStatus::Converted.code()) {
        return Err(StoreError::Conflict("a converted lead is read-only".into()));
    }
    let converting = writes
        .columns
        .iter()
        .any(|(c, v)| c == "status" && *v == Param::from(LeadStatus::Converted.code()));
    if converting {
        return Err(Invalid::new(
            "status",
            "a lead becomes converted only through POST /api/v1/leads/{id}/convert",
        )
        .into());
    }
    Ok(())
}

/// Keeps `disqualified_at` with a lead's status: the time it became disqualified, cleared when
/// it leaves that status.
fn stamp_disqualified(table: &Table, before: Option<&Value>, writes: &mut Writes, now: i64) {
    if table.record_type != RecordType::Lead {
        return;
    }
    let Some((_, status)) = writes.columns.iter().find(|(c, _)| c == "status") else {
        return;
    };
    let disqualified = LeadStatus::Disqualified.code();
    let now_disqualified = *status == Param::from(disqualified);
    let was_disqualified = before.and_then(|b| b["status"].as_str()) == Some(disqualified);
    if now_disqualified && !was_disqualified {
        writes.set("disqualified_at", Param::Int(now));
    } else if !now_disqualified && was_disqualified {
        writes.set("disqualified_at", Param::NullInt);
    }
}

async fn load_for_update(
    tx: &mut Tx,
    table: &'static Table,
    actor: &Actor,
    id: i64,
    deleted: bool,
) -> StoreResult<Row> {
    let lock = tx.dialect().lock_rows();
    let deleted = if deleted { "IS NOT NULL" } else { "IS NULL" };
    tx.fetch_optional(
        &format!(
            "SELECT * FROM {} WHERE id = ? AND deleted_at {deleted}{}{lock}",
            table.name,
            actor.scope_clause()
        ),
        &[Param::Int(id)],
    )
    .await?
    .ok_or(StoreError::NotFound(table.schema))
}

async fn reload(tx: &mut Tx, table: &Table, id: i64) -> StoreResult<Value> {
    let row = tx
        .fetch_optional(
            &format!("SELECT * FROM {} WHERE id = ?", table.name),
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound(table.schema))?;
    Ok(to_json(table, &row))
}

/// Parses and checks a request body for a new record. Only reads, so it can run outside the
/// write transaction (on SQLite the one writer connection is then held only for the writes).
pub async fn prepare(ctx: Ctx<'_>, table: &'static Table, body: &Value) -> StoreResult<NewRecord> {
    let mut writes = parse_body(table, &*choices::all(ctx.db).await?, body)?;
    for field in table.fields.iter().filter(|f| f.required) {
        if !writes.has(&field.column()) {
            return Err(Invalid::new(field.name, "is required").into());
        }
    }
    check_lead_rules(table, None, &writes)?;
    stamp_disqualified(table, None, &mut writes, to_millis(ctx.now));
    for (column, value) in table.defaults {
        if !writes.has(column) {
            writes.set(*column, Param::from(*value));
        }
    }
    if table.field("source").is_some() && !writes.has("source") {
        writes.set("source", Param::from(default_source(ctx.channel)));
    }
    let defs = custom_fields::definitions(ctx.db, table.record_type).await?;
    let custom = custom_field::apply(
        &defs,
        &Map::new(),
        &writes.custom.take().unwrap_or_default(),
    )?;
    writes.set("custom", Param::from(Value::Object(custom).to_string()));
    let owner_explicit = writes.owner.is_some();
    let owner = writes.owner.unwrap_or(ctx.actor.user_id);
    writes.set("owner_id", Param::Int(owner));
    let now = to_millis(ctx.now);
    if table.field("assigned_at").is_some() {
        writes.set("assigned_at", Param::Int(now));
    }
    writes.set("created_by", Param::Int(ctx.actor.user_id));
    writes.set("created_at", Param::Int(now));
    writes.set("updated_at", Param::Int(now));
    if owner != ctx.actor.user_id {
        check_owner(ctx.db, ctx.actor, owner).await?;
    }
    check_refs(ctx.db, ctx.actor, &writes).await?;
    let mut record = NewRecord {
        table,
        columns: writes.columns,
        stamp: ctx.stamp(),
        owner_explicit,
        hooks: ctx.hooks,
    };
    for hook in ctx.hooks {
        hook.preparing(ctx, &mut record).await?;
    }
    Ok(record)
}

/// Inserts prepared records with their search entries and history, returning them as the API
/// shows them, in the order given. Records of one table with the same fields go in one
/// multi-row statement.
pub async fn insert(tx: &mut Tx, records: &mut [&mut NewRecord]) -> anyhow::Result<Vec<Value>> {
    let Some(hooks) = records.first().map(|r| r.hooks) else {
        return Ok(Vec::new());
    };
    for hook in hooks {
        hook.inserting(tx, records).await?;
    }
    let records: &[&mut NewRecord] = records;
    let mut out: Vec<Option<Value>> = vec![None; records.len()];
    let mut done = vec![false; records.len()];
    for first in 0..records.len() {
        if done[first] {
            continue;
        }
        let shape = |r: &NewRecord| {
            (
                r.table.name,
                r.columns.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
            )
        };
        let key = shape(records[first]);
        let group: Vec<usize> = (first..records.len())
            .filter(|&i| !done[i] && shape(records[i]) == key)
            .collect();
        let table = records[first].table;
        let columns: Vec<&str> = records[first]
            .columns
            .iter()
            .map(|(c, _)| c.as_str())
            .collect();
        let row = format!("({})", vec!["?"; columns.len()].join(", "));
        let params: Vec<Param> = group
            .iter()
            .flat_map(|&i| records[i].columns.iter().map(|(_, p)| p.clone()))
            .collect();
        let mut rows = tx
            .fetch_all(
                &format!(
                    "INSERT INTO {} ({}) VALUES {} RETURNING *",
                    table.name,
                    columns.join(", "),
                    vec![row.as_str(); group.len()].join(", ")
                ),
                &params,
            )
            .await?;
        anyhow::ensure!(
            rows.len() == group.len(),
            "INSERT returned {} rows for {}",
            rows.len(),
            group.len()
        );
        // Ids are handed out in the order of the VALUES rows; RETURNING promises no order.
        rows.sort_by_key(|r| r.int("id"));
        let created: Vec<Value> = rows.iter().map(|r| to_json(table, r)).collect();
        if table.record_type == RecordType::Lead {
            let searchable: Vec<search::Searchable> =
                rows.iter().map(search::Searchable::of).collect();
            search::index(tx, &searchable, false).await?;
        }
        let entries: Vec<(Stamp, RecordType, &Value)> = group
            .iter()
            .zip(&created)
            .map(|(&i, record)| (records[i].stamp, table.record_type, record))
            .collect();
        history::record_created(tx, &entries).await?;
        for (&i, record) in group.iter().zip(&created) {
            for hook in hooks {
                hook.created(tx, records[i].stamp, table, record).await?;
            }
        }
        for (&i, record) in group.iter().zip(created) {
            done[i] = true;
            out[i] = Some(record);
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// Creates a record from a request body and returns it as the API shows it.
pub async fn create(ctx: Ctx<'_>, table: &'static Table, body: &Value) -> StoreResult<Value> {
    let mut record = prepare(ctx, table, body).await?;
    let mut tx = ctx.db.begin().await?;
    let created = insert(&mut tx, &mut [&mut record]).await?;
    tx.commit().await?;
    created
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("nothing was inserted").into())
}

/// Keeps the lead search index in step with a lead's searchable fields.
async fn index_for_search(
    tx: &mut Tx,
    table: &Table,
    record: &Value,
    replace: bool,
) -> anyhow::Result<()> {
    if table.record_type != RecordType::Lead {
        return Ok(());
    }
    search::index(
        tx,
        &[search::Searchable {
            id: record["id"].as_i64().unwrap_or_default(),
            name: record["name"].as_str().unwrap_or_default().to_owned(),
            company: record["company"].as_str().map(str::to_owned),
            email: record["email_normalized"].as_str().map(str::to_owned),
            phone_e164: record["phone_normalized"].as_str().map(str::to_owned),
        }],
        replace,
    )
    .await
}

fn default_source(channel: Channel) -> &'static str {
    match channel {
        Channel::Ui => "manual",
        Channel::Api => "api",
        Channel::Import => "import",
        Channel::Rule | Channel::Job => "other",
    }
}

/// One record, if it exists, is not deleted and is within the actor's scope.
pub async fn get(db: &Db, actor: &Actor, table: &'static Table, id: i64) -> StoreResult<Value> {
    let row = db
        .fetch_optional(
            &format!(
                "SELECT * FROM {} WHERE id = ? AND deleted_at IS NULL{}",
                table.name,
                actor.scope_clause()
            ),
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound(table.schema))?;
    let mut record = to_json(table, &row);
    actor.mask(&mut record);
    Ok(record)
}

/// Applies a partial change (fields absent from the body stay as they are; `null` clears) and
/// records every changed field in the history.
pub async fn update(
    ctx: Ctx<'_>,
    table: &'static Table,
    id: i64,
    body: &Value,
) -> StoreResult<Value> {
    let mut writes = parse_body(table, &*choices::all(ctx.db).await?, body)?;
    let defs: Vec<CustomFieldDef> = if writes.custom.is_some() {
        custom_fields::definitions(ctx.db, table.record_type).await?
    } else {
        Vec::new()
    };
    if let Some(owner) = writes.owner {
        check_owner(ctx.db, ctx.actor, owner).await?;
    }
    check_refs(ctx.db, ctx.actor, &writes).await?;
    let mut tx = ctx.db.begin().await?;
    let row = load_for_update(&mut tx, table, ctx.actor, id, false).await?;
    let before = to_json(table, &row);
    check_lead_rules(table, Some(&before), &writes)?;
    stamp_disqualified(table, Some(&before), &mut writes, to_millis(ctx.now));
    let change = Change {
        table,
        id,
        before: &before,
        new_owner: writes
            .owner
            .filter(|&o| before["owner_id"].as_i64() != Some(o)),
        now: to_millis(ctx.now),
    };
    for hook in ctx.hooks {
        hook.changing(&mut tx, &change, &mut writes.columns).await?;
    }
    if let Some(changes) = writes.custom.take() {
        let current = before["custom"].as_object().cloned().unwrap_or_default();
        let custom = custom_field::apply(&defs, &current, &changes)?;
        writes.set("custom", Param::from(Value::Object(custom).to_string()));
    }
    if writes.columns.is_empty() {
        return Ok(before);
    }
    writes.set("updated_at", Param::Int(to_millis(ctx.now)));
    if change.new_owner.is_some() && table.field("assigned_at").is_some() {
        writes.set("assigned_at", Param::Int(to_millis(ctx.now)));
    }
    let sets: Vec<String> = writes
        .columns
        .iter()
        .map(|(c, _)| format!("{c} = ?"))
        .collect();
    let mut params: Vec<Param> = writes.columns.iter().map(|(_, p)| p.clone()).collect();
    params.push(Param::Int(id));
    tx.execute(
        &format!("UPDATE {} SET {} WHERE id = ?", table.name, sets.join(", ")),
        &params,
    )
    .await?;
    let mut after = reload(&mut tx, table, id).await?;
    for hook in ctx.hooks {
        after = hook.written(ctx, &mut tx, &change, after).await?;
    }
    if ["name", "company", "email_normalized", "phone_normalized"]
        .iter()
        .any(|f| before[f] != after[f])
    {
        index_for_search(&mut tx, table, &after, true).await?;
    }
    let changed = history::record_changes(
        &mut tx,
        ctx.stamp(),
        table.record_type,
        id,
        &snapshot(&before),
        &snapshot(&after),
    )
    .await?;
    if changed == 0 {
        // Nothing really changed: keep updated_at as it was.
        return Ok(before);
    }
    for hook in ctx.hooks {
        after = hook.changed(ctx, &mut tx, &change, after).await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// Soft-deletes a record; it can be restored.
pub async fn delete(ctx: Ctx<'_>, table: &'static Table, id: i64) -> StoreResult<()> {
    set_deleted(ctx, table, id, true).await.map(|_| ())
}

/// Brings back a soft-deleted record.
pub async fn restore(ctx: Ctx<'_>, table: &'static Table, id: i64) -> StoreResult<Value> {
    set_deleted(ctx, table, id, false).await
}

async fn set_deleted(
    ctx: Ctx<'_>,
    table: &'static Table,
    id: i64,
    delete: bool,
) -> StoreResult<Value> {
    let mut tx = ctx.db.begin().await?;
    load_for_update(&mut tx, table, ctx.actor, id, !delete).await?;
    let now = to_millis(ctx.now);
    let deleted_at = if delete {
        Param::Int(now)
    } else {
        Param::NullInt
    };
    tx.execute(
        &format!(
            "UPDATE {} SET deleted_at = ?, updated_at = ? WHERE id = ?",
            table.name
        ),
        &[deleted_at, Param::Int(now), Param::Int(id)],
    )
    .await?;
    let record = reload(&mut tx, table, id).await?;
    let action = if delete { "delete" } else { "restore" };
    history::record_action(&mut tx, ctx.stamp(), table.record_type, id, action, None).await?;
    for hook in ctx.hooks {
        hook.deleted(&mut tx, ctx.stamp(), table, &record, delete)
            .await?;
    }
    tx.commit().await?;
    Ok(record)
}

/// A page of a list.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
    /// How many records match the filters on all pages, when the list was asked with
    /// `count=true` or [`Count::UpTo`].
    pub total: Option<i64>,
    /// Whether counting stopped at its cap ([`Count::UpTo`]): more records than `total` match.
    pub total_capped: bool,
}

/// Whether and how a list counts the records that match it on all pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Not at all: keyset pages do not need a total.
    Not,
    /// Exactly, however many match (`count=true`).
    Exactly,
    /// Exactly up to this many; beyond, the page says that more match. A page showing its
    /// total over a large base reads at most this many index entries for it.
    UpTo(i64),
}

/// The list parameters every record list accepts besides field filters.
pub const LIST_PARAMS: &[&str] = &[
    "limit",
    "cursor",
    "sort",
    "q",
    "team_id",
    "created_from",
    "created_to",
    "updated_from",
    "updated_to",
    "deleted",
    "count",
];

/// List parameters only leads accept: whether a lead waits in a public pool, and when its next
/// planned follow-up is (the one its latest follow-up set).
pub const LEAD_LIST_PARAMS: &[&str] = &["in_pool", "follow_up_before"];

/// List parameters only opportunities accept: the month (YYYY-MM) they are expected to close in.
pub const OPPORTUNITY_LIST_PARAMS: &[&str] = &["close_month"];

/// `expected_close_date` within the month `value` (YYYY-MM): dates are stored as YYYY-MM-DD
/// text, so the month is a range of text on either database.
pub fn close_month_condition(value: &str) -> StoreResult<String> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", value.trim()), "%Y-%m-%d")
        .map_err(|_| Invalid::new("close_month", "must be a month, YYYY-MM"))?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(|| Invalid::new("close_month", "must be a month, YYYY-MM"))?;
    Ok(format!(
        "expected_close_date >= '{}' AND expected_close_date < '{}'",
        first.format("%Y-%m-%d"),
        next.format("%Y-%m-%d")
    ))
}

struct Query {
    conditions: Vec<String>,
    params: Vec<Param>,
}

impl Query {
    fn push(&mut self, condition: String, params: impl IntoIterator<Item = Param>) {
        self.conditions.push(condition);
        self.params.extend(params);
    }
}

fn parse_instant(name: &str, value: &str, end_of_day: bool) -> StoreResult<i64> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.timestamp_millis());
    }
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let time = if end_of_day {
            date.and_hms_milli_opt(23, 59, 59, 999)
        } else {
            date.and_hms_opt(0, 0, 0)
        };
        if let Some(t) = time {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    Err(Invalid::new(name, "must be a date (YYYY-MM-DD) or an RFC 3339 time").into())
}

fn like_pattern(fragment: &str) -> String {
    let escaped = fragment
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A filter's comma-separated ids; an id is a whole number from 1, as ids are stored.
fn id_list(name: &str, value: &str) -> StoreResult<Vec<i64>> {
    value
        .split(',')
        .map(|s| s.trim().parse::<i64>().ok().filter(|&id| id >= 1))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            Invalid::new(
                name,
                "must be a comma-separated list of ids (whole numbers from 1)",
            )
            .into()
        })
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Lists records visible to the actor with filters, search, sorting and keyset pagination.
/// `params` are the query-string pairs as sent; `count=true` counts every match.
pub async fn list(
    db: &Db,
    actor: &Actor,
    table: &'static Table,
    params: &[(String, String)],
) -> StoreResult<Page> {
    list_counting(db, actor, table, params, None).await
}

/// [`list`] with its total counted as `count` says, whatever `params` say about counting.
pub async fn list_counted(
    db: &Db,
    actor: &Actor,
    table: &'static Table,
    params: &[(String, String)],
    count: Count,
) -> StoreResult<Page> {
    list_counting(db, actor, table, params, Some(count)).await
}

async fn list_counting(
    db: &Db,
    actor: &Actor,
    table: &'static Table,
    params: &[(String, String)],
    counting: Option<Count>,
) -> StoreResult<Page> {
    let dialect = db.dialect();
    let mut q = Query {
        conditions: Vec::new(),
        params: Vec::new(),
    };
    let mut limit = 50_i64;
    let mut cursor: Option<String> = None;
    let mut sort = "-created_at".to_owned();
    let mut deleted = false;
    let mut defs: Option<Vec<CustomFieldDef>> = None;
    let mut count = Count::Not;
    let planned = table.record_type == RecordType::Lead
        && params.iter().any(|(name, _)| name == "follow_up_before");

    for (name, value) in params {
        let value = value.trim();
        match name.as_str() {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| Invalid::new("limit", "must be a whole number from 1 to 500"))?;
            }
            "cursor" => cursor = Some(value.to_owned()),
            "sort" => sort = value.to_owned(),
            "deleted" => {
                deleted = match value {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(Invalid::new("deleted", "must be true or false").into()),
                }
            }
            "q" if !value.is_empty() => {
                let op = dialect.like_ignoring_case();
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                let phone_like = digits.len() >= 3
                    && value
                        .chars()
                        .all(|c| c.is_ascii_digit() || " +-()".contains(c));
                let mut parts = Vec::new();
                let mut ps = Vec::new();
                for column in table.search {
                    if column.starts_with("phone") {
                        if phone_like {
                            parts.push(format!("{column} LIKE ? ESCAPE '\\'"));
                            ps.push(Param::from(like_pattern(&digits)));
                        }
                    } else {
                        parts.push(format!("{column} {op} ? ESCAPE '\\'"));
                        ps.push(Param::from(like_pattern(value)));
                    }
                }
                q.push(format!("({})", parts.join(" OR ")), ps);
                if table.record_type == RecordType::Lead {
                    if let Some((condition, params)) = search::candidates(db, value).await? {
                        q.push(condition, params);
                    }
                }
            }
            "q" => {}
            "count" => {
                count = match value {
                    "true" | "1" => Count::Exactly,
                    "false" | "0" => Count::Not,
                    _ => return Err(Invalid::new("count", "must be true or false").into()),
                }
            }
            "in_pool" if table.record_type == RecordType::Lead => match value {
                "true" | "1" => q.push("pool_id IS NOT NULL".into(), []),
                "false" | "0" => q.push("pool_id IS NULL".into(), []),
                _ => return Err(Invalid::new("in_pool", "must be true or false").into()),
            },
            // The plan of the lead's latest follow-up, kept on the lead (migration 0025) and
            // indexed with and without the owner.
            "follow_up_before" if table.record_type == RecordType::Lead => q.push(
                "next_follow_up_at < ?".into(),
                [Param::Int(parse_instant(name, value, false)?)],
            ),
            "close_month" if table.record_type == RecordType::Opportunity => {
                q.push(close_month_condition(value)?, []);
            }
            "team_id" => {
                let teams = id_list("team_id", value)?;
                let tree = crate::scope::team_tree(db).await?;
                let mut all = Vec::new();
                for t in teams {
                    all.extend(xiansuo_core::role::subtree(&tree, t));
                }
                let users = crate::scope::users_in_teams(db, &all).await?;
                if users.is_empty() {
                    q.push("1 = 0".into(), []);
                } else {
                    q.push(
                        format!("owner_id IN ({})", placeholders(users.len())),
                        users.into_iter().map(Param::Int),
                    );
                }
            }
            "created_from" | "updated_from" => {
                let column = &name[..name.len() - 5];
                q.push(
                    format!("{column}_at >= ?"),
                    [Param::Int(parse_instant(name, value, false)?)],
                );
            }
            "created_to" | "updated_to" => {
                let column = &name[..name.len() - 3];
                q.push(
                    format!("{column}_at <= ?"),
                    [Param::Int(parse_instant(name, value, true)?)],
                );
            }
            _ if name.starts_with("custom.") => {
                let key = custom_field::parse_key(&name["custom.".len()..])
                    .map_err(|e| Invalid::new(name.as_str(), e.message))?;
                if defs.is_none() {
                    defs = Some(custom_fields::definitions(db, table.record_type).await?);
                }
                let def = defs
                    .as_ref()
                    .and_then(|d| d.iter().find(|d| d.key == key))
                    .ok_or_else(|| Invalid::new(name.as_str(), "is not a custom field"))?;
                let (condition, param) = custom_condition(dialect, def, value)?;
                q.push(condition, [param]);
            }
            _ => {
                let field = table
                    .field(name)
                    .filter(|f| f.filter)
                    .ok_or_else(|| unknown_filter(table, name))?;
                let choices = choices::all(db).await?;
                field_condition(dialect, &choices, field, value, &mut q)?;
            }
        }
    }

    q.conditions.insert(
        0,
        if deleted {
            "deleted_at IS NOT NULL".into()
        } else {
            "deleted_at IS NULL".into()
        },
    );
    if let Some(scope) = actor.owner_condition("owner_id") {
        q.conditions.push(scope);
    }

    let (descending, sort_name) = match sort.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sort.as_str()),
    };
    let sort_field = table.field(sort_name).filter(|f| f.sort).ok_or_else(|| {
        let sortable: Vec<&str> = table
            .fields
            .iter()
            .filter(|f| f.sort)
            .map(|f| f.name)
            .collect();
        Invalid::new(
            "sort",
            format!(
                "cannot sort by '{sort_name}' (sortable: {}; prefix - for descending)",
                sortable.join(", ")
            ),
        )
    })?;
    let column = sort_field.column();
    // Counting the leads with a follow-up filter goes through the index of their plans, which
    // holds their status too: a status filter is then compared on its entries, kept off the
    // status index, through which SQLite (without statistics) would walk every open lead. The
    // page itself is best read through the status index, in creation order.
    let counted: Vec<String> = q
        .conditions
        .iter()
        .map(|c| match c.strip_prefix("status IN (") {
            Some(codes) if planned => format!("(status || '') IN ({codes}"),
            _ => c.clone(),
        })
        .collect();
    let matching = format!("FROM {} WHERE {}", table.name, counted.join(" AND "));
    let (total, total_capped) = match counting.unwrap_or(count) {
        Count::Not => (None, false),
        Count::Exactly => {
            let sql = format!("SELECT COUNT(*) AS n {matching}");
            let n = db.fetch_optional(&sql, &q.params).await?;
            (n.map(|r| r.int("n")), false)
        }
        Count::UpTo(cap) => {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM (SELECT 1 AS one {matching} LIMIT {}) x",
                cap + 1
            );
            let n = db
                .fetch_optional(&sql, &q.params)
                .await?
                .map_or(0, |r| r.int("n"));
            (Some(n.min(cap)), n > cap)
        }
    };
    if let Some(cursor) = cursor {
        let (value, id) = decode_cursor(&cursor)?;
        let op = if descending { "<" } else { ">" };
        if column == "id" {
            q.push(format!("id {op} ?"), [Param::Int(id)]);
        } else {
            q.push(
                format!("({column}, id) {op} (?, ?)"),
                [value, Param::Int(id)],
            );
        }
    }
    let direction = if descending { "DESC" } else { "ASC" };
    let order = if column == "id" {
        format!("id {direction}")
    } else {
        format!("{column} {direction}, id {direction}")
    };
    let page = format!(
        "{} WHERE {} ORDER BY {order} LIMIT {}",
        table.name,
        q.conditions.join(" AND "),
        limit + 1
    );
    // A follow-up filter over several owners reads the index of planned follow-ups by owner,
    // whose entries are not in page order: the page is picked from the entries alone (for the
    // default order, newest first, they hold the sort columns) and only its records are read
    // whole.
    let sql = if planned {
        format!(
            "SELECT * FROM {} WHERE id IN (SELECT id FROM {page}) ORDER BY {order}",
            table.name
        )
    } else {
        format!("SELECT * FROM {page}")
    };
    let mut rows = db.fetch_all(&sql, &q.params).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|last| encode_cursor(last.get(&column), last.int("id")))
    } else {
        None
    };
    Ok(Page {
        items: rows
            .iter()
            .map(|r| {
                let mut record = to_json(table, r);
                actor.mask(&mut record);
                record
            })
            .collect(),
        next_cursor,
        total,
        total_capped,
    })
}

fn unknown_filter(table: &Table, name: &str) -> StoreError {
    let mut accepted: Vec<&str> = table
        .fields
        .iter()
        .filter(|f| f.filter)
        .map(|f| f.name)
        .collect();
    accepted.extend(LIST_PARAMS);
    if table.record_type == RecordType::Lead {
        accepted.extend(LEAD_LIST_PARAMS);
    }
    if table.record_type == RecordType::Opportunity {
        accepted.extend(OPPORTUNITY_LIST_PARAMS);
    }
    accepted.push("custom.KEY");
    Invalid::new(
        name,
        format!(
            "is not a filter of {} (accepted: {})",
            table.name,
            accepted.join(", ")
        ),
    )
    .into()
}

fn field_condition(
    dialect: Dialect,
    choices: &Choices,
    field: &Field,
    value: &str,
    q: &mut Query,
) -> StoreResult<()> {
    let name = field.name;
    match field.kind {
        Kind::Owner | Kind::Ref(_) | Kind::Id => {
            let ids = id_list(name, value)?;
            q.push(
                format!("{name} IN ({})", placeholders(ids.len())),
                ids.into_iter().map(Param::Int),
            );
        }
        Kind::Code(CodeSet::LeadStatus) => {
            // A fixed type matches every lead of that type; an added status only its own.
            let (mut types, mut details) = (Vec::new(), Vec::new());
            for v in value.split(',') {
                match choices
                    .parse_status(v)
                    .map_err(|e| Invalid::new(name, e.message))?
                {
                    (_, Some(detail)) => details.push(Param::from(detail)),
                    (status, None) => types.push(Param::from(status.code())),
                }
            }
            let mut either = Vec::new();
            if !types.is_empty() {
                either.push(format!("{name} IN ({})", placeholders(types.len())));
            }
            if !details.is_empty() {
                either.push(format!(
                    "status_detail IN ({})",
                    placeholders(details.len())
                ));
            }
            // One kind alone stays a plain `IN`, as the follow-up views' count expects it.
            let condition = match either.as_slice() {
                [one] => one.clone(),
                _ => format!("({})", either.join(" OR ")),
            };
            q.push(condition, types.into_iter().chain(details));
        }
        Kind::Code(set) => {
            let codes = value
                .split(',')
                .map(|v| {
                    set.parse(choices, v.trim())
                        .map_err(|e| Invalid::new(name, e.message))
                })
                .collect::<Result<Vec<_>, _>>()?;
            q.push(
                format!("{name} IN ({})", placeholders(codes.len())),
                codes.into_iter().map(Param::from),
            );
        }
        Kind::Int { .. } => {
            // `score=10` exact, `score=10..` at least, `score=..50` at most, `score=10..50` a range.
            let (low, high) = value.split_once("..").unwrap_or((value, value));
            let bound = |s: &str| -> StoreResult<Option<i64>> {
                if s.is_empty() {
                    Ok(None)
                } else {
                    s.parse()
                        .map(Some)
                        .map_err(|_| Invalid::new(name, "must be N, N.., ..M or N..M").into())
                }
            };
            if let Some(low) = bound(low)? {
                q.push(format!("{name} >= ?"), [Param::Int(low)]);
            }
            if let Some(high) = bound(high)? {
                q.push(format!("{name} <= ?"), [Param::Int(high)]);
            }
        }
        Kind::Probability => {
            // `win_probability=0.5..` at least, `..0.2` at most, `0.2..0.5` a range; leads
            // no model has scored (stored as -1) match no range.
            let (low, high) = value.split_once("..").unwrap_or((value, value));
            let bound = |s: &str| -> StoreResult<Option<f64>> {
                match s.trim() {
                    "" => Ok(None),
                    s => s
                        .parse::<f64>()
                        .ok()
                        .filter(|p| (0.0..=1.0).contains(p))
                        .map(Some)
                        .ok_or_else(|| {
                            Invalid::new(
                                name,
                                "must be P, P.., ..Q or P..Q with P and Q from 0 to 1",
                            )
                            .into()
                        }),
                }
            };
            let (low, high) = (bound(low)?, bound(high)?);
            q.push(format!("{name} >= ?"), [Param::Real(low.unwrap_or(0.0))]);
            if let Some(high) = high {
                q.push(format!("{name} <= ?"), [Param::Real(high)]);
            }
        }
        Kind::Tags => {
            let tags: Vec<String> = value
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            if tags.is_empty() {
                return Err(Invalid::new(name, "must name at least one tag").into());
            }
            let (condition, params) = dialect.json_array_has_any("tags", None, &tags);
            q.push(condition, params);
        }
        _ => q.push(format!("{name} = ?"), [Param::from(value)]),
    }
    Ok(())
}

fn custom_condition(
    dialect: Dialect,
    def: &CustomFieldDef,
    value: &str,
) -> StoreResult<(String, Param)> {
    let key = &def.key;
    let field = format!("custom.{key}");
    let typed = match def.field_type {
        FieldType::Number => Value::from(
            value
                .parse::<f64>()
                .map_err(|_| Invalid::new(&field, "must be a number"))?,
        ),
        FieldType::Boolean => Value::Bool(match value {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(Invalid::new(&field, "must be true or false").into()),
        }),
        _ => Value::from(value),
    };
    Ok(match def.field_type {
        FieldType::MultiSelect => {
            let (condition, mut params) =
                dialect.json_array_has_any("custom", Some(key), &[value.to_owned()]);
            (condition, params.remove(0))
        }
        FieldType::Number => dialect.json_value_is(
            "custom",
            key,
            &JsonScalar::Number(typed.as_f64().unwrap_or_default()),
        ),
        FieldType::Boolean => dialect.json_value_is(
            "custom",
            key,
            &JsonScalar::Bool(typed.as_bool().unwrap_or_default()),
        ),
        _ => dialect.json_value_is("custom", key, &JsonScalar::Text(value.to_owned())),
    })
}

fn encode_cursor(value: &xiansuo_store::Cell, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(json!([value.to_json(), id]).to_string())
}

fn decode_cursor(cursor: &str) -> StoreResult<(Param, i64)> {
    let bad = || {
        Invalid::new(
            "cursor",
            "is not a cursor from a previous page of this list",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let id = value.get(1).and_then(Value::as_i64).ok_or_else(bad)?;
    let param = match value.get(0) {
        Some(Value::Number(n)) if n.is_i64() => Param::Int(n.as_i64().unwrap_or_default()),
        Some(Value::Number(n)) => Param::Real(n.as_f64().unwrap_or_default()),
        Some(Value::String(s)) => Param::Text(s.clone()),
        _ => return Err(bad().into()),
    };
    Ok((param, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor(&xiansuo_store::Cell::Text("张三".into()), 42);
        assert_eq!(decode_cursor(&c).unwrap(), (Param::from("张三"), 42));
        assert!(decode_cursor("not a cursor").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("[1]")).is_err());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
    }
}
