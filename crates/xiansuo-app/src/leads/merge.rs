//! Merging leads, and undoing a merge. `POST /api/v1/leads/merge` keeps one lead (the
//! survivor): each field takes the value of the lead the caller chose for it, otherwise the
//! survivor's, and an empty survivor field is filled from the merged leads in the order given;
//! tags are united and custom fields filled key by key. The merged leads' activities, history
//! and links (opportunities converted from them) move to the survivor, and the merged leads
//! are archived — soft-deleted with `merged_into` — never deleted, all in one transaction.
//!
//! Each merge is stored with the survivor's values before and after it and the ids of every
//! row it moved, so that it can be undone: the merged leads come back, moved rows go back, and
//! each survivor field the merge changed gets its old value — unless someone changed that field
//! since, in which case the newer value is kept (and reported).
//!
//! [`absorb`] is the smaller merge of the dedup policy *merge*: a new lead's data filling the
//! empty fields of the lead it duplicates.

use crate::channels::events;
use crate::channels::notifications::{self, Notification};
use crate::error::{StoreError, StoreResult};
use crate::leads::conversion::lead_schema;
use crate::records::history;
use crate::records::schema::{Field, Kind, LEADS};
use crate::records::search::{self, Searchable};
use crate::records::{self, Ctx, NewRecord, Stamp};
use anyhow::Context as _;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use utoipa::openapi::schema::{AnyOfBuilder, Type};
use utoipa::openapi::{ArrayBuilder, KnownFormat, ObjectBuilder, Ref, SchemaFormat};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::{self, RecordType};
use xiansuo_core::dedup::FLAG_TAG;
use xiansuo_core::history::snapshot;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::validation::Unread;
use xiansuo_core::{schema, Invalid};
use xiansuo_store::{Cell, Param, Row, Tx};

/// The most leads merged into one at a time.
const MAX_MERGED: usize = 50;

/// The most tags a lead keeps (as on any write).
const MAX_TAGS: usize = 50;

/// Rows that point at a lead and move with it: (table, column, and for tables that point at
/// records of any type, the condition that picks leads). What belongs to the lead's handling
/// rather than to the person (timers, pool moves, SLA breaches) stays.
const LINKS: &[(&str, &str, Option<&str>)] = &[
    ("activities", "record_id", Some("record_type = 'lead'")),
    ("history", "record_id", Some("record_type = 'lead'")),
    ("attachments", "record_id", Some("record_type = 'lead'")),
    ("opportunities", "lead_id", None),
    ("lead_events", "lead_id", None),
    ("form_submissions", "lead_id", None),
];

/// ` AND <condition>` for a link's condition, if it has one.
fn and(condition: &Option<&str>) -> String {
    condition.map(|c| format!(" AND {c}")).unwrap_or_default()
}

/// A lead's stored columns by name.
type Cells = BTreeMap<String, Cell>;

fn cells(row: &Row) -> Cells {
    row.columns()
        .iter()
        .cloned()
        .zip(row.cells().iter().cloned())
        .collect()
}

fn is_null(cell: Option<&Cell>) -> bool {
    matches!(cell, None | Some(Cell::Null))
}

/// A stored cell as a parameter of the same type (a null as the null of `int`'s type).
fn cell_param(cell: &Cell, int: bool) -> Param {
    match cell {
        Cell::Int(n) => Param::Int(*n),
        Cell::Real(n) => Param::Real(*n),
        Cell::Text(t) => Param::Text(t.clone()),
        Cell::Bytes(b) => Param::Bytes(b.clone()),
        Cell::Null if int => Param::NullInt,
        Cell::Null => Param::NullText,
    }
}

/// The fields whose value comes from one lead: writable, not the tags and custom fields (which
/// are united), not the duplicate flag.
fn chosen_fields() -> impl Iterator<Item = &'static Field> {
    LEADS.fields.iter().filter(|f| {
        f.writable() && !matches!(f.kind, Kind::Tags | Kind::Custom) && f.name != "duplicate_of"
    })
}

/// The columns that travel with a field: its own, the normalised form of a phone or email, and
/// the keys computed from it.
fn companions(field: &Field) -> Vec<String> {
    let mut columns = vec![field.column()];
    if matches!(field.kind, Kind::Phone | Kind::Email) {
        columns.push(format!("{}_normalized", field.name));
    }
    columns.extend(
        LEADS
            .keys
            .iter()
            .filter(|k| k.source == field.name)
            .map(|k| k.column.to_owned()),
    );
    columns
}

/// True when a column of the leads table holds integers (its nulls are bound as such).
fn int_column(column: &str) -> bool {
    LEADS.fields.iter().any(|f| {
        f.column() == column
            && matches!(
                f.kind,
                Kind::Id
                    | Kind::Int { .. }
                    | Kind::Money
                    | Kind::Owner
                    | Kind::UserRef
                    | Kind::Ref(_)
                    | Kind::Link(_)
                    | Kind::Timestamp
            )
    })
}

fn json_cell(value: &Value) -> Cell {
    match value {
        Value::Number(n) if n.is_i64() => Cell::Int(n.as_i64().unwrap_or_default()),
        Value::Number(n) => Cell::Real(n.as_f64().unwrap_or_default()),
        Value::String(s) => Cell::Text(s.clone()),
        Value::Null => Cell::Null,
        other => Cell::Text(other.to_string()),
    }
}

fn tags_of(cell: Option<&Cell>) -> Vec<String> {
    match cell {
        Some(Cell::Text(t)) => serde_json::from_str(t).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn custom_of(cell: Option<&Cell>) -> Map<String, Value> {
    match cell {
        Some(Cell::Text(t)) => serde_json::from_str(t).unwrap_or_default(),
        _ => Map::new(),
    }
}

/// What the survivor (`leads[0]`) becomes: the columns that change, with their new values.
/// `choices` maps a field name (or `custom.KEY`) to the id of the lead whose value it takes.
fn plan(leads: &[(i64, Cells)], choices: &BTreeMap<String, i64>) -> Cells {
    let survivor = &leads[0].1;
    let by_id = |id: i64| leads.iter().find(|(i, _)| *i == id).map(|(_, c)| c);
    let mut out = Cells::new();
    for field in chosen_fields() {
        let column = field.column();
        let source = match choices.get(field.name) {
            Some(&id) => by_id(id),
            None if !is_null(survivor.get(&column)) || field.kind == Kind::Owner => None,
            None => leads[1..]
                .iter()
                .map(|(_, c)| c)
                .find(|c| !is_null(c.get(&column))),
        };
        if let Some(source) = source {
            for c in companions(field) {
                let value = source.get(&c).cloned().unwrap_or(Cell::Null);
                if survivor.get(&c).unwrap_or(&Cell::Null) != &value {
                    out.insert(c, value);
                }
            }
        }
    }

    let mut tags: Vec<String> = Vec::new();
    for (_, lead) in leads {
        for tag in tags_of(lead.get("tags")) {
            if tag != FLAG_TAG && !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }
    tags.truncate(MAX_TAGS);
    let tags = Cell::Text(json!(tags).to_string());
    if tags_of(Some(&tags)) != tags_of(survivor.get("tags")) {
        out.insert("tags".into(), tags);
    }
    // The merge settles the question the duplicate flag asked.
    let flagged_as = survivor.get("duplicate_of").unwrap_or(&Cell::Null);
    if !is_null(Some(flagged_as)) {
        out.insert("duplicate_of".into(), Cell::Null);
    }

    let mut custom = custom_of(survivor.get("custom"));
    for (_, lead) in &leads[1..] {
        for (key, value) in custom_of(lead.get("custom")) {
            custom.entry(key).or_insert(value);
        }
    }
    for (name, id) in choices {
        if let (Some(key), Some(lead)) = (name.strip_prefix("custom."), by_id(*id)) {
            match custom_of(lead.get("custom")).remove(key) {
                Some(value) => custom.insert(key.to_owned(), value),
                None => custom.remove(key),
            };
        }
    }
    if custom != custom_of(survivor.get("custom")) {
        out.insert(
            "custom".into(),
            Cell::Text(Value::Object(custom).to_string()),
        );
    }
    out
}

/// A merge as a request asks for it: the lead that stays, the leads merged into it, and for
/// any field whose value should come from another of them, that lead's id.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LeadMergeInput, description = "A merge")]
pub struct NewMerge {
    /// The lead that stays
    #[schema(minimum = 1)]
    pub survivor_id: i64,
    #[serde(deserialize_with = "lead_ids")]
    #[schema(schema_with = merged_ids_schema)]
    pub merged_ids: Vec<i64>,
    /// Field name (or `custom.KEY`) → the id of the lead whose value it takes.
    #[serde(default)]
    #[schema(schema_with = chosen_schema)]
    pub fields: Option<BTreeMap<String, i64>>,
}

/// `merged_ids` as sent: lead ids, refused as a whole (on `merged_ids`) when one is not an id.
fn lead_ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    Vec::<Value>::deserialize(d)?
        .iter()
        .map(|item| {
            item.as_i64()
                .ok_or_else(|| D::Error::custom("must be a list of lead ids"))
        })
        .collect()
}

fn int64(doc: &str) -> ObjectBuilder {
    schema::scalar(Type::Integer, false, doc)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}

/// A list of lead ids.
fn ids_schema(doc: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(int64("A lead id").minimum(Some(1)))
        .description(Some(doc))
}

fn merged_ids_schema() -> ArrayBuilder {
    ids_schema("The leads merged into it (1–50), each once, not the survivor")
        .min_items(Some(1))
        .max_items(Some(MAX_MERGED))
        .unique_items(true)
}

fn chosen_schema() -> ObjectBuilder {
    let names: Vec<&str> = chosen_fields().map(|f| f.name).collect();
    ObjectBuilder::new()
        .schema_type(schema::typed(Type::Object, true))
        .description(Some(
            "Field name (or `custom.KEY`) → the id of the lead whose value it takes: the \
             survivor or one of the merged leads. Other fields keep the survivor's value; an \
             empty one is filled from the merged leads in the order given. Tags are united. \
             Null: no choice",
        ))
        .property_names(Some(
            AnyOfBuilder::new()
                .item(schema::codes(
                    names,
                    false,
                    "A field whose value can be chosen",
                ))
                .item(
                    schema::string(false, "A custom field")
                        .pattern(Some(r"^custom\.[a-z][a-z0-9_]{0,39}$")),
                )
                .description(Some("A field name or `custom.KEY`")),
        ))
        .additional_properties(Some(int64("A lead id").minimum(Some(1))))
}

/// A merge done, as `POST /api/v1/leads/merge` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = LeadMerge, description = "A merge done")]
pub struct Merged {
    /// Undo it with POST /api/v1/leads/merges/{id}/undo
    #[schema(minimum = 1)]
    pub merge_id: i64,
    /// The survivor as it now is
    #[schema(schema_with = lead_schema)]
    pub survivor: Value,
    #[schema(schema_with = archived_ids_schema)]
    pub merged_ids: Vec<i64>,
    /// How many rows of each table moved to the survivor.
    #[schema(schema_with = moved_schema)]
    pub moved: BTreeMap<String, usize>,
}

fn archived_ids_schema() -> ArrayBuilder {
    ids_schema("The leads archived into it")
}

fn moved_schema() -> ObjectBuilder {
    let tables: Vec<&str> = LINKS.iter().map(|(table, _, _)| *table).collect();
    ObjectBuilder::new()
        .description(Some(format!(
            "Rows moved to the survivor, by table ({})",
            tables.join(", ")
        )))
        .additional_properties(Some(int64("A count").minimum(Some(0))))
}

/// A merge undone, as `POST /api/v1/leads/merges/{id}/undo` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = LeadUnmerge, description = "A merge undone")]
pub struct Unmerged {
    /// The merge
    #[schema(minimum = 1)]
    pub merge_id: i64,
    /// The survivor as it now is
    #[schema(schema_with = lead_schema)]
    pub survivor: Value,
    #[schema(schema_with = restored_schema)]
    pub restored: Vec<Value>,
    /// Survivor fields changed since the merge, which keep their newer value
    pub kept: Vec<String>,
}

fn restored_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(Ref::from_schema_name("Lead"))
        .description(Some("The merged leads, back"))
}

/// The merge a caller asked for, checked.
struct Request {
    survivor: i64,
    merged: Vec<i64>,
    choices: BTreeMap<String, i64>,
}

/// Checks what the types of [`NewMerge`] cannot say: 1 to 50 merged leads, each once and
/// none the survivor; choices only of fields whose value can be chosen, each naming one of
/// the leads.
fn check(new: NewMerge) -> Result<Request, Invalid> {
    let survivor = new.survivor_id;
    if new.merged_ids.is_empty() || new.merged_ids.len() > MAX_MERGED {
        return Err(Invalid::new(
            "merged_ids",
            format!("must list from 1 to {MAX_MERGED} leads"),
        ));
    }
    let mut merged = Vec::with_capacity(new.merged_ids.len());
    for id in new.merged_ids {
        if id == survivor {
            return Err(Invalid::new(
                "merged_ids",
                "a lead cannot be merged with itself",
            ));
        }
        if merged.contains(&id) {
            return Err(Invalid::new("merged_ids", format!("lists lead {id} twice")));
        }
        merged.push(id);
    }
    let mut choices = BTreeMap::new();
    for (name, id) in new.fields.unwrap_or_default() {
        let field = format!("fields.{name}");
        let known = match name.strip_prefix("custom.") {
            Some(key) => custom_field::parse_key(key).is_ok(),
            None => chosen_fields().any(|f| f.name == name),
        };
        if !known {
            let names: Vec<&str> = chosen_fields().map(|f| f.name).collect();
            return Err(Invalid::new(
                field,
                format!(
                    "is not a field whose value can be chosen (choose from: {}, custom.KEY; tags are always united)",
                    names.join(", ")
                ),
            ));
        }
        if id != survivor && !merged.contains(&id) {
            return Err(Invalid::new(
                field,
                "must be the id of the survivor or of one of the merged leads",
            ));
        }
        choices.insert(name, id);
    }
    Ok(Request {
        survivor,
        merged,
        choices,
    })
}

fn id_list(ids: &[i64]) -> (String, Vec<Param>) {
    (
        vec!["?"; ids.len()].join(", "),
        ids.iter().map(|id| Param::Int(*id)).collect(),
    )
}

async fn reload(tx: &mut Tx, id: i64) -> anyhow::Result<Row> {
    tx.fetch_optional("SELECT * FROM leads WHERE id = ?", &[Param::Int(id)])
        .await?
        .context("the lead vanished inside its own transaction")
}

/// Writes `changes` (column → value) to a lead, with `updated_at`.
async fn write_columns(tx: &mut Tx, id: i64, changes: &Cells, now: i64) -> anyhow::Result<()> {
    let mut sets: Vec<String> = changes.keys().map(|c| format!("{c} = ?")).collect();
    let mut params: Vec<Param> = changes
        .iter()
        .map(|(c, v)| cell_param(v, int_column(c)))
        .collect();
    sets.push("updated_at = ?".into());
    params.push(Param::Int(now));
    params.push(Param::Int(id));
    tx.execute(
        &format!("UPDATE leads SET {} WHERE id = ?", sets.join(", ")),
        &params,
    )
    .await?;
    Ok(())
}

/// Keeps the search index in step when a searchable column changed.
async fn reindex(tx: &mut Tx, row: &Row, changes: &Cells) -> anyhow::Result<()> {
    let searchable = ["name", "company", "email_normalized", "phone_normalized"];
    if changes.keys().any(|c| searchable.contains(&c.as_str())) {
        search::index(tx, &[Searchable::of(row)], true).await?;
    }
    Ok(())
}

/// Merges leads as `POST /api/v1/leads/merge` asks; see the module documentation. Every lead
/// must be within the actor's scope (otherwise 404) and none converted (409).
pub async fn merge(ctx: Ctx<'_>, new: Unread<NewMerge>) -> StoreResult<Merged> {
    let request = check(new.read()?)?;
    let now = to_millis(ctx.now);
    let stamp = ctx.stamp();
    let mut ids = vec![request.survivor];
    ids.extend(&request.merged);
    let (list, params) = id_list(&ids);
    let mut tx = ctx.db.begin().await?;
    let rows = tx
        .fetch_all(
            &format!(
                "SELECT * FROM leads WHERE id IN ({list}) AND deleted_at IS NULL{}{}",
                ctx.actor.scope_clause(),
                tx.dialect().lock_rows()
            ),
            &params,
        )
        .await?;
    let mut leads: Vec<(i64, Cells)> = Vec::with_capacity(ids.len());
    for id in &ids {
        let row = rows
            .iter()
            .find(|r| r.int("id") == *id)
            .ok_or(StoreError::NotFound(LEADS.schema))?;
        if row.text("status") == LeadStatus::Converted.code() {
            return Err(StoreError::Conflict(format!(
                "lead {id} is converted, and a converted lead is read-only: it cannot be merged"
            )));
        }
        leads.push((*id, cells(row)));
    }
    let survivor = request.survivor;
    let before = records::to_json(&LEADS, &reload(&mut tx, survivor).await?);
    let mut changes = plan(&leads, &request.choices);
    if changes.contains_key("owner_id") && LEADS.field("assigned_at").is_some() {
        changes.insert("assigned_at".into(), Cell::Int(now));
    }
    let before_image: Map<String, Value> = changes
        .keys()
        .map(|c| {
            let old = leads[0].1.get(c).unwrap_or(&Cell::Null);
            (c.clone(), Cell::to_json(old))
        })
        .collect();
    let after_image: Map<String, Value> = changes
        .iter()
        .map(|(c, v)| (c.clone(), Cell::to_json(v)))
        .collect();
    if !changes.is_empty() {
        write_columns(&mut tx, survivor, &changes, now).await?;
    }

    let mut moved = Map::new();
    let mut counts = BTreeMap::new();
    for (table, column, only) in LINKS {
        let mut per_lead = Map::new();
        let mut count = 0;
        for loser in &request.merged {
            let rows = tx
                .fetch_all(
                    &format!(
                        "UPDATE {table} SET {column} = ? WHERE {column} = ?{} RETURNING id",
                        and(only)
                    ),
                    &[Param::Int(survivor), Param::Int(*loser)],
                )
                .await?;
            let mut moved_ids: Vec<i64> = rows.iter().map(|r| r.int("id")).collect();
            moved_ids.sort_unstable();
            count += moved_ids.len();
            per_lead.insert(loser.to_string(), json!(moved_ids));
        }
        moved.insert((*table).to_owned(), Value::Object(per_lead));
        counts.insert((*table).to_owned(), count);
    }

    let (losers, loser_params) = id_list(&request.merged);
    let mut params = vec![Param::Int(now), Param::Int(survivor), Param::Int(now)];
    params.extend(loser_params);
    tx.execute(
        &format!(
            "UPDATE leads SET deleted_at = ?, merged_into = ?, updated_at = ? WHERE id IN ({losers})"
        ),
        &params,
    )
    .await?;
    let merge_id = tx
        .insert_returning_id(
            "INSERT INTO lead_merges (survivor_id, merged_ids, fields, before_image, after_image, moved, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                Param::Int(survivor),
                Param::from(json!(request.merged).to_string()),
                Param::from(json!(request.choices).to_string()),
                Param::from(Value::Object(before_image).to_string()),
                Param::from(Value::Object(after_image).to_string()),
                Param::from(Value::Object(moved).to_string()),
                Param::Int(ctx.actor.user_id),
                Param::Int(now),
            ],
        )
        .await?;

    let row = reload(&mut tx, survivor).await?;
    reindex(&mut tx, &row, &changes).await?;
    let after = records::to_json(&LEADS, &row);
    history::record_changes(
        &mut tx,
        stamp,
        RecordType::Lead,
        survivor,
        &snapshot(&before),
        &snapshot(&after),
    )
    .await?;
    history::record_action(
        &mut tx,
        stamp,
        RecordType::Lead,
        survivor,
        "merge",
        Some(&json!({"merge_id": merge_id, "merged_ids": request.merged})),
    )
    .await?;
    for (loser, lead) in &leads[1..] {
        history::record_action(
            &mut tx,
            stamp,
            RecordType::Lead,
            *loser,
            "merged",
            Some(&json!({"merge_id": merge_id, "into": survivor})),
        )
        .await?;
        let owner = match lead.get("owner_id") {
            Some(Cell::Int(owner)) if *owner != ctx.actor.user_id => *owner,
            _ => continue,
        };
        let name = match lead.get("name") {
            Some(Cell::Text(name)) => name.clone(),
            _ => String::new(),
        };
        let locale = tx
            .fetch_optional(
                "SELECT locale FROM users WHERE id = ?",
                &[Param::Int(owner)],
            )
            .await?
            .map_or_else(|| "zh".to_owned(), |r| r.text("locale"));
        let by = &ctx.actor.username;
        let message = if locale == "en" {
            format!("{by} merged your lead {name} into lead #{survivor}")
        } else {
            format!("{by} 已将你的线索「{name}」合并到线索 #{survivor}")
        };
        notifications::notify(
            &mut tx,
            &Notification {
                user_id: owner,
                kind: notifications::Kind::Merged,
                record_type: Some(RecordType::Lead),
                record_id: Some(survivor),
                message,
                now_ms: now,
            },
        )
        .await?;
    }
    events::emit(
        &mut tx,
        "lead.merged",
        &json!({"merge_id": merge_id, "survivor": after, "merged_ids": request.merged}),
        now,
    )
    .await?;
    if let Some(Cell::Int(owner)) = changes.get("owner_id") {
        crate::channels::announce::owner_announced(&mut tx, &after, *owner, ctx.stamp()).await?;
    }
    tx.commit().await?;
    Ok(Merged {
        merge_id,
        survivor: after,
        merged_ids: request.merged,
        moved: counts,
    })
}

/// Undoes a merge (`POST /api/v1/leads/merges/{id}/undo`); see the module documentation. The
/// survivor must be within the actor's scope (otherwise 404); a merge undone already, or whose
/// leads changed state since (the survivor deleted, converted or merged again; a merged lead
/// restored), is a 409 and nothing changes.
pub async fn undo(ctx: Ctx<'_>, merge_id: i64) -> StoreResult<Unmerged> {
    let now = to_millis(ctx.now);
    let stamp = ctx.stamp();
    let mut tx = ctx.db.begin().await?;
    let lock = tx.dialect().lock_rows();
    let merge = tx
        .fetch_optional(
            &format!("SELECT * FROM lead_merges WHERE id = ?{lock}"),
            &[Param::Int(merge_id)],
        )
        .await?
        .ok_or(StoreError::NotFound("Merge"))?;
    let survivor = merge.int("survivor_id");
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT * FROM leads WHERE id = ?{}{lock}",
                ctx.actor.scope_clause()
            ),
            &[Param::Int(survivor)],
        )
        .await?
        .ok_or(StoreError::NotFound("Merge"))?;
    if merge.opt_int("undone_at").is_some() {
        return Err(StoreError::Conflict(format!(
            "merge {merge_id} was undone already"
        )));
    }
    if row.opt_int("deleted_at").is_some() {
        return Err(StoreError::Conflict(format!(
            "the surviving lead {survivor} was deleted or merged since; bring it back first"
        )));
    }
    if row.text("status") == LeadStatus::Converted.code() {
        return Err(StoreError::Conflict(format!(
            "the surviving lead {survivor} was converted since, and a converted lead is read-only"
        )));
    }
    let parse = |column: &str| -> Value {
        serde_json::from_str(&merge.text(column)).unwrap_or(Value::Null)
    };
    let merged: Vec<i64> = serde_json::from_value(parse("merged_ids")).unwrap_or_default();
    let (list, params) = id_list(&merged);
    let losers = tx
        .fetch_all(
            &format!("SELECT * FROM leads WHERE id IN ({list}){lock}"),
            &params,
        )
        .await?;
    for id in &merged {
        let intact = losers.iter().any(|r| {
            r.int("id") == *id
                && r.opt_int("deleted_at").is_some()
                && r.opt_int("merged_into") == Some(survivor)
        });
        if !intact {
            return Err(StoreError::Conflict(format!(
                "lead {id} was restored or changed since the merge, so the merge cannot be undone"
            )));
        }
    }

    let before = records::to_json(&LEADS, &row);
    let current = cells(&row);
    let after_image = parse("after_image");
    let mut restore = Cells::new();
    let mut kept = Vec::new();
    if let Value::Object(old) = parse("before_image") {
        for (column, old) in old {
            let merged_value = json_cell(&after_image[&column]);
            if current.get(&column).unwrap_or(&Cell::Null) == &merged_value {
                restore.insert(column, json_cell(&old));
            } else {
                kept.push(column);
            }
        }
    }
    if !restore.is_empty() {
        write_columns(&mut tx, survivor, &restore, now).await?;
    }
    if let Value::Object(moved) = parse("moved") {
        for (table, column, only) in LINKS {
            let Some(Value::Object(per_lead)) = moved.get(*table) else {
                continue;
            };
            for (loser, ids) in per_lead {
                let ids: Vec<i64> = serde_json::from_value(ids.clone()).unwrap_or_default();
                let Ok(loser) = loser.parse::<i64>() else {
                    continue;
                };
                for chunk in ids.chunks(500) {
                    let (list, mut params) = id_list(chunk);
                    params.insert(0, Param::Int(loser));
                    params.push(Param::Int(survivor));
                    tx.execute(
                        &format!(
                            "UPDATE {table} SET {column} = ? WHERE id IN ({list}) AND {column} = ?{}",
                            and(only)
                        ),
                        &params,
                    )
                    .await?;
                }
            }
        }
    }
    let mut params = vec![Param::Int(now)];
    params.extend(merged.iter().map(|id| Param::Int(*id)));
    tx.execute(
        &format!(
            "UPDATE leads SET deleted_at = NULL, merged_into = NULL, updated_at = ? WHERE id IN ({list})"
        ),
        &params,
    )
    .await?;
    tx.execute(
        "UPDATE lead_merges SET undone_at = ?, undone_by = ? WHERE id = ?",
        &[
            Param::Int(now),
            Param::Int(ctx.actor.user_id),
            Param::Int(merge_id),
        ],
    )
    .await?;

    let row = reload(&mut tx, survivor).await?;
    reindex(&mut tx, &row, &restore).await?;
    let after = records::to_json(&LEADS, &row);
    history::record_changes(
        &mut tx,
        stamp,
        RecordType::Lead,
        survivor,
        &snapshot(&before),
        &snapshot(&after),
    )
    .await?;
    let mut restored = Vec::with_capacity(merged.len());
    for id in std::iter::once(survivor).chain(merged.iter().copied()) {
        history::record_action(
            &mut tx,
            stamp,
            RecordType::Lead,
            id,
            "unmerge",
            Some(&json!({"merge_id": merge_id})),
        )
        .await?;
        if id != survivor {
            restored.push(records::to_json(&LEADS, &reload(&mut tx, id).await?));
        }
    }
    events::emit(
        &mut tx,
        "lead.unmerged",
        &json!({"merge_id": merge_id, "survivor": after, "restored_ids": merged}),
        now,
    )
    .await?;
    tx.commit().await?;
    let mut kept_fields: Vec<String> = Vec::new();
    for column in &kept {
        let field = LEADS
            .fields
            .iter()
            .find(|f| f.writable() && companions(f).contains(column));
        if let Some(field) = field.filter(|f| !kept_fields.iter().any(|k| k == f.name)) {
            kept_fields.push(field.name.to_owned());
        }
    }
    Ok(Unmerged {
        merge_id,
        survivor: after,
        restored,
        kept: kept_fields,
    })
}

/// A parameter as a JSON value, for the record of submitted values.
fn param_json(param: &Param) -> Value {
    match param {
        Param::Int(n) => json!(n),
        Param::Real(n) => json!(n),
        Param::Text(t) => json!(t),
        Param::Bytes(_) | Param::NullInt | Param::NullText => Value::Null,
    }
}

fn param_cell(param: &Param) -> Cell {
    match param {
        Param::Int(n) => Cell::Int(*n),
        Param::Real(n) => Cell::Real(*n),
        Param::Text(t) => Cell::Text(t.clone()),
        Param::Bytes(b) => Cell::Bytes(b.clone()),
        Param::NullInt | Param::NullText => Cell::Null,
    }
}

/// Puts a new lead's data into the lead `into` (dedup policy *merge*), in `tx`: its empty
/// fields are filled, tags added, custom fields it lacks set; nothing it has is overwritten.
/// The history of `into` records the changes and, as the action `merge_new`, everything the
/// new lead carried, so no submitted value is lost. Returns the lead as it now is.
pub async fn absorb(tx: &mut Tx, incoming: &NewRecord, into: i64) -> anyhow::Result<Value> {
    let stamp: Stamp = incoming.stamp();
    let now = to_millis(stamp.now);
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT * FROM leads WHERE id = ? AND deleted_at IS NULL{}",
                tx.dialect().lock_rows()
            ),
            &[Param::Int(into)],
        )
        .await?
        .with_context(|| format!("lead {into}, which a new lead duplicates, is gone"))?;
    let existing = cells(&row);
    let mut new = Cells::new();
    let mut submitted = Map::new();
    for field in chosen_fields() {
        let column = field.column();
        let Some(value) = incoming
            .get(&column)
            .filter(|p| !matches!(p, Param::NullInt | Param::NullText))
        else {
            continue;
        };
        if field.kind != Kind::Owner {
            submitted.insert(field.name.to_owned(), param_json(value));
        }
        if field.kind == Kind::Owner || !is_null(existing.get(&column)) {
            continue;
        }
        for c in companions(field) {
            if let Some(p) = incoming.get(&c) {
                new.insert(c, param_cell(p));
            }
        }
    }
    let incoming_tags = tags_of(incoming.get("tags").map(param_cell).as_ref());
    let mut tags = tags_of(existing.get("tags"));
    for tag in &incoming_tags {
        if !tags.contains(tag) && tags.len() < MAX_TAGS {
            tags.push(tag.clone());
        }
    }
    if tags != tags_of(existing.get("tags")) {
        new.insert("tags".into(), Cell::Text(json!(tags).to_string()));
    }
    if !incoming_tags.is_empty() {
        submitted.insert("tags".into(), json!(incoming_tags));
    }
    let incoming_custom = custom_of(incoming.get("custom").map(param_cell).as_ref());
    let mut custom = custom_of(existing.get("custom"));
    for (key, value) in &incoming_custom {
        custom.entry(key.clone()).or_insert_with(|| value.clone());
    }
    if custom != custom_of(existing.get("custom")) {
        new.insert(
            "custom".into(),
            Cell::Text(Value::Object(custom).to_string()),
        );
    }
    if !incoming_custom.is_empty() {
        submitted.insert("custom".into(), Value::Object(incoming_custom));
    }

    let before = records::to_json(&LEADS, &row);
    if !new.is_empty() {
        write_columns(tx, into, &new, now).await?;
    }
    let row = reload(tx, into).await?;
    reindex(tx, &row, &new).await?;
    let after = records::to_json(&LEADS, &row);
    history::record_changes(
        tx,
        stamp,
        RecordType::Lead,
        into,
        &snapshot(&before),
        &snapshot(&after),
    )
    .await?;
    history::record_action(
        tx,
        stamp,
        RecordType::Lead,
        into,
        "merge_new",
        Some(&Value::Object(submitted)),
    )
    .await?;
    if !new.is_empty() {
        events::emit(tx, "lead.updated", &after, now).await?;
    }
    Ok(after)
}

fn param_text(param: Option<&Param>) -> Option<&str> {
    match param {
        Some(Param::Text(t)) => Some(t),
        _ => None,
    }
}

/// Puts a row's data into an earlier row of the same import batch that is not written yet, as
/// [`absorb`] does with a stored lead: empty fields filled, tags added, custom fields it lacks
/// set.
pub fn absorb_pending(target: &mut NewRecord, incoming: &NewRecord) {
    let empty = |p: Option<&Param>| matches!(p, None | Some(Param::NullInt | Param::NullText));
    for field in chosen_fields().filter(|f| f.kind != Kind::Owner) {
        let column = field.column();
        if !empty(target.get(&column)) || empty(incoming.get(&column)) {
            continue;
        }
        for c in companions(field) {
            if let Some(p) = incoming.get(&c) {
                target.set(&c, p.clone());
            }
        }
    }
    let parse_tags = |p: Option<&Param>| -> Vec<String> {
        param_text(p)
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    };
    let mut tags = parse_tags(target.get("tags"));
    for tag in parse_tags(incoming.get("tags")) {
        if !tags.contains(&tag) && tags.len() < MAX_TAGS {
            tags.push(tag);
        }
    }
    target.set("tags", Param::from(json!(tags).to_string()));
    let parse_custom = |p: Option<&Param>| -> Map<String, Value> {
        param_text(p)
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    };
    let mut custom = parse_custom(target.get("custom"));
    for (key, value) in parse_custom(incoming.get("custom")) {
        custom.entry(key).or_insert(value);
    }
    target.set("custom", Param::from(Value::Object(custom).to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(values: &[(&str, Cell)]) -> Cells {
        values
            .iter()
            .map(|(c, v)| ((*c).to_owned(), v.clone()))
            .collect()
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    #[test]
    fn the_survivor_keeps_its_values_fills_its_gaps_and_takes_chosen_ones() {
        let survivor = lead(&[
            ("name", text("张伟")),
            ("email", text("zw@a.cn")),
            ("email_normalized", text("zw@a.cn")),
            ("title", Cell::Null),
            ("company", Cell::Null),
            ("owner_id", Cell::Int(1)),
            ("tags", text(r#"["vip","possible_duplicate"]"#)),
            ("custom", text(r#"{"budget":1}"#)),
            ("duplicate_of", Cell::Int(9)),
        ]);
        let other = lead(&[
            ("name", text("Zhang Wei")),
            ("email", text("ZW@b.cn")),
            ("email_normalized", text("zw@b.cn")),
            ("title", text("经理")),
            ("company", text("恒远科技有限公司")),
            ("company_key", text("恒远科技")),
            ("owner_id", Cell::Int(2)),
            ("tags", text(r#"["展会","vip"]"#)),
            ("custom", text(r#"{"budget":2,"region":"华东"}"#)),
        ]);
        let third = lead(&[("title", text("总监")), ("tags", text("[]"))]);
        let choices = BTreeMap::from([("email".to_owned(), 9)]);
        let changes = plan(&[(1, survivor), (9, other), (5, third)], &choices);
        assert_eq!(changes["email"], text("ZW@b.cn"), "chosen");
        assert_eq!(
            changes["email_normalized"],
            text("zw@b.cn"),
            "with its companion"
        );
        assert_eq!(
            changes["title"],
            text("经理"),
            "filled from the first merged lead"
        );
        assert_eq!(
            changes["company_key"],
            text("恒远科技"),
            "a key follows its field"
        );
        assert!(
            !changes.contains_key("name"),
            "the survivor's own value stays"
        );
        assert!(
            !changes.contains_key("owner_id"),
            "the owner changes only by choice"
        );
        assert_eq!(
            changes["tags"],
            text(r#"["vip","展会"]"#),
            "united, flag gone"
        );
        assert_eq!(changes["duplicate_of"], Cell::Null);
        assert_eq!(
            changes["custom"],
            text(r#"{"budget":1,"region":"华东"}"#),
            "custom fields filled key by key"
        );
    }

    #[test]
    fn a_bad_merge_request_names_the_problem() {
        fn parse(body: Value) -> Result<Request, Invalid> {
            check(Unread::<NewMerge>::json(body).read()?)
        }
        let cases = [
            (json!([]), "body"),
            (json!({"merged_ids": [2]}), "survivor_id"),
            (json!({"survivor_id": 1}), "merged_ids"),
            (json!({"survivor_id": 1, "merged_ids": []}), "merged_ids"),
            (json!({"survivor_id": 1, "merged_ids": [1]}), "merged_ids"),
            (
                json!({"survivor_id": 1, "merged_ids": [2, 2]}),
                "merged_ids",
            ),
            (json!({"survivor_id": 1, "merged_ids": ["2"]}), "merged_ids"),
            (
                json!({"survivor_id": 1, "merged_ids": [2], "fields": {"email": 3}}),
                "fields.email",
            ),
            (
                json!({"survivor_id": 1, "merged_ids": [2], "fields": {"email": "2"}}),
                "fields.email",
            ),
            (
                json!({"survivor_id": 1, "merged_ids": [2], "fields": {"tags": 2}}),
                "fields.tags",
            ),
            (
                json!({"survivor_id": 1, "merged_ids": [2], "fields": {"bogus": 2}}),
                "fields.bogus",
            ),
            (
                json!({"survivor_id": 1, "merged_ids": [2], "keep": true}),
                "keep",
            ),
        ];
        for (body, field) in cases {
            match parse(body.clone()) {
                Err(invalid) => assert_eq!(invalid.field, field, "{body}"),
                Ok(request) => panic!("{body}: accepted as {}", request.survivor),
            }
        }
        let ok = parse(
            json!({"survivor_id": 1, "merged_ids": [2, 3], "fields": {"email": 3, "custom.budget": 2}}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.merged, vec![2, 3]);
        assert_eq!(ok.choices["custom.budget"], 2);
        assert_eq!(
            parse(json!({"survivor_id": 1, "merged_ids": ["2"]}))
                .err()
                .map(|e| e.message),
            Some("must be a list of lead ids".to_owned())
        );
    }
}
