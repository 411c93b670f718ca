//! Qualification (鉴定): checklists that an admin keeps per business unit or product line,
//! the items ticked on each lead, and the gate that keeps a lead from becoming `qualified` — or
//! from being converted — until every required item of its checklist is met.
//!
//! A lead's checklist is the one chosen for it (`PUT /api/v1/leads/{id}/qualification`), or
//! else the default checklist, if an admin marked one; a lead with neither qualifies freely.
//! The gate sits in the record engine's create and change paths, so it holds for the API, the
//! web UI and imports alike.

use crate::admin::audit;
use crate::error::{StoreError, StoreResult};
use crate::records::history;
use crate::records::lifecycle::{Change, Hook};
use crate::records::schema::{Table, LEADS};
use crate::records::{self, rfc3339, Ctx, NewRecord};
use crate::scope::Actor;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
use utoipa::openapi::{ArrayBuilder, ObjectBuilder};
use utoipa::{PartialSchema, ToSchema};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::{parse_key, RecordType};
use xiansuo_core::history::Snapshot;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::validation::{present, Unread};
use xiansuo_core::{schema, Invalid, Text};
use xiansuo_store::Reader;
use xiansuo_store::{Db, Param, Row, Tx};

/// The most items a checklist may have.
const MAX_ITEMS: usize = 50;

/// One question of a checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = QualificationItem, description = "One item of a checklist")]
pub struct Item {
    /// a-z, 0-9 and _, unique in the checklist
    #[schema(pattern = "^[a-z][a-z0-9_]{0,39}$")]
    pub key: String,
    /// The question, as people read it
    pub label: String,
    /// Must be met before the lead qualifies
    pub required: bool,
}

/// A qualification checklist as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = QualificationChecklist,
    description = "A qualification checklist (鉴定) for a business unit or product line"
)]
pub struct Checklist {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    /// Name
    pub name: String,
    /// The business unit it is for
    #[schema(required = true)]
    pub business_unit: Option<String>,
    /// The product line it is for
    #[schema(required = true)]
    pub product_line: Option<String>,
    /// The items, in order
    pub items: Vec<Item>,
    /// Applies to leads that have not chosen a checklist
    pub is_default: bool,
    /// When it was created
    #[schema(schema_with = created_at_schema)]
    pub created_at: String,
    /// When it last changed
    #[schema(schema_with = updated_at_schema)]
    pub updated_at: String,
}

fn created_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it was created")
}

fn updated_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it last changed")
}

impl Checklist {
    fn of(row: &Row) -> Checklist {
        Checklist {
            id: row.int("id"),
            name: row.text("name"),
            business_unit: row.opt_text("business_unit"),
            product_line: row.opt_text("product_line"),
            items: stored_items(&row.text("items")),
            is_default: row.int("is_default") == 1,
            created_at: rfc3339(row.int("created_at")),
            updated_at: rfc3339(row.int("updated_at")),
        }
    }

    /// The required items not in `ticked`, in checklist order.
    pub fn missing<'a>(&'a self, ticked: &BTreeSet<String>) -> Vec<&'a Item> {
        self.items
            .iter()
            .filter(|i| i.required && !ticked.contains(&i.key))
            .collect()
    }
}

/// Every checklist, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = QualificationChecklistList,
    description = "Every checklist, oldest first"
)]
pub struct ChecklistList {
    /// The checklists
    pub items: Vec<Checklist>,
}

/// A new checklist as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = QualificationChecklistInput, description = "A new checklist")]
pub struct NewChecklist {
    #[schema(schema_with = name_schema)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = business_unit_schema)]
    pub business_unit: Option<String>,
    #[serde(default)]
    #[schema(schema_with = product_line_schema)]
    pub product_line: Option<String>,
    #[serde(default)]
    #[schema(schema_with = new_items_schema)]
    pub items: Option<Vec<NewItem>>,
    #[serde(default)]
    #[schema(schema_with = is_default_schema)]
    pub is_default: Option<bool>,
}

/// The fields of a checklist to change; a field left out keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = QualificationChecklistPatch,
    description = "Changes to a checklist: only the fields given change"
)]
pub struct ChecklistPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = name_schema)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = business_unit_schema)]
    pub business_unit: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = product_line_schema)]
    pub product_line: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = changed_items_schema)]
    pub items: Option<Option<Vec<NewItem>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = is_default_schema)]
    pub is_default: Option<Option<bool>>,
}

/// An item of a checklist as a request sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = QualificationItemInput,
    description = "An item; `required` defaults to true"
)]
pub struct NewItem {
    #[schema(schema_with = key_schema)]
    pub key: String,
    #[schema(schema_with = label_schema)]
    pub label: String,
    /// Must be met; default true; null: true
    #[serde(default)]
    pub required: Option<bool>,
}

fn name_schema() -> ObjectBuilder {
    schema::text(false, true, 100, "Name")
}

fn items_schema(doc: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .schema_type(schema::typed(Type::Array, true))
        .items(<NewItem as PartialSchema>::schema())
        // At most `MAX_ITEMS`, each key once, as the description says: a `maxItems` would lead
        // a fuzzer to fill the list to its bound with one key, which the server refuses, and
        // the schema cannot say "each key once" of one property.
        .unique_items(true)
        .description(Some(doc))
}

fn new_items_schema() -> ArrayBuilder {
    items_schema("The items, at most 50, each key once; null: none")
}

fn changed_items_schema() -> ArrayBuilder {
    items_schema("The items, at most 50, each key once, replacing the old ones; null: none")
}

fn is_default_schema() -> ObjectBuilder {
    schema::scalar(
        Type::Boolean,
        true,
        "The checklist of leads that have not chosen one; at most one is; null: false",
    )
}

fn business_unit_schema() -> ObjectBuilder {
    schema::text(true, false, 100, "The business unit it is for")
}

fn product_line_schema() -> ObjectBuilder {
    schema::text(true, false, 100, "The product line it is for")
}

fn key_schema() -> ObjectBuilder {
    schema::string(false, "a-z first, then a-z, 0-9, _").pattern(Some("^[a-z][a-z0-9_]{0,39}$"))
}

fn label_schema() -> ObjectBuilder {
    schema::text(false, true, 200, "The question")
}

fn stored_items(text: &str) -> Vec<Item> {
    serde_json::from_str::<Vec<Value>>(text)
        .unwrap_or_default()
        .iter()
        .map(|v| Item {
            key: v["key"].as_str().unwrap_or_default().to_owned(),
            label: v["label"].as_str().unwrap_or_default().to_owned(),
            required: v["required"].as_bool().unwrap_or(true),
        })
        .collect()
}

fn items_json(items: &[Item]) -> Value {
    items
        .iter()
        .map(|i| json!({"key": i.key, "label": i.label, "required": i.required}))
        .collect()
}

/// Free text that must not be blank.
fn required_text(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    Text::parse_optional(field, value, max)?
        .map(Text::into_string)
        .ok_or_else(|| Invalid::new(field, "is required"))
}

/// Checks `items`: at most [`MAX_ITEMS`], with unique keys (`required` defaults to true).
fn check_items(list: Vec<NewItem>) -> Result<Vec<Item>, Invalid> {
    if list.len() > MAX_ITEMS {
        return Err(Invalid::new("items", format!("at most {MAX_ITEMS} items")));
    }
    let mut items: Vec<Item> = Vec::with_capacity(list.len());
    for (n, entry) in list.into_iter().enumerate() {
        let field = |name: &str| format!("items[{n}].{name}");
        let key = parse_key(&required_text(&field("key"), &entry.key, 40)?)
            .map_err(|e| Invalid::new(field("key"), e.message))?;
        if items.iter().any(|i| i.key == key) {
            return Err(Invalid::new(field("key"), format!("'{key}' is used twice")));
        }
        items.push(Item {
            key,
            label: required_text(&field("label"), &entry.label, 200)?,
            required: entry.required.unwrap_or(true),
        });
    }
    Ok(items)
}

/// Every checklist that is not deleted, oldest first.
pub async fn list(db: &Db) -> StoreResult<ChecklistList> {
    let items = db
        .fetch_all(
            "SELECT * FROM qualification_checklists WHERE deleted_at IS NULL ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(Checklist::of)
        .collect();
    Ok(ChecklistList { items })
}

/// One checklist.
pub async fn get(db: &Db, id: i64) -> StoreResult<Checklist> {
    db.fetch_optional(
        "SELECT * FROM qualification_checklists WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(id)],
    )
    .await?
    .map(|r| Checklist::of(&r))
    .ok_or(StoreError::NotFound("QualificationChecklist"))
}

/// The columns a change sets, in the order of the fields.
fn columns(patch: ChecklistPatch) -> Result<Vec<(&'static str, Param)>, Invalid> {
    let optional = |field: &str, value: Option<String>| match value {
        Some(value) => Ok(Text::parse_optional(field, &value, 100)?.map(Text::into_string)),
        None => Ok::<_, Invalid>(None),
    };
    let mut out = Vec::new();
    if let Some(name) = patch.name {
        out.push(("name", Param::from(required_text("name", &name, 100)?)));
    }
    if let Some(unit) = patch.business_unit {
        out.push((
            "business_unit",
            Param::from(optional("business_unit", unit)?),
        ));
    }
    if let Some(line) = patch.product_line {
        out.push(("product_line", Param::from(optional("product_line", line)?)));
    }
    if let Some(items) = patch.items {
        let items = check_items(items.unwrap_or_default())?;
        out.push(("items", Param::from(items_json(&items).to_string())));
    }
    if let Some(is_default) = patch.is_default {
        out.push((
            "is_default",
            Param::Int(i64::from(is_default.unwrap_or(false))),
        ));
    }
    Ok(out)
}

/// Makes `id` the only default checklist when its body asked for it.
async fn keep_one_default(
    tx: &mut Tx,
    id: i64,
    columns: &[(&str, Param)],
    now: i64,
) -> anyhow::Result<()> {
    if columns.contains(&("is_default", Param::Int(1))) {
        tx.execute(
            "UPDATE qualification_checklists SET is_default = 0, updated_at = ? WHERE is_default = 1 AND id <> ?",
            &[Param::Int(now), Param::Int(id)],
        )
        .await?;
    }
    Ok(())
}

/// Adds a checklist (admins only).
pub async fn create(ctx: Ctx<'_>, new: Unread<NewChecklist>) -> StoreResult<Checklist> {
    ctx.actor.require_admin("change qualification checklists")?;
    let new = new.read()?;
    let mut columns = columns(ChecklistPatch {
        name: Some(new.name),
        business_unit: Some(new.business_unit),
        product_line: Some(new.product_line),
        items: Some(new.items),
        is_default: Some(new.is_default),
    })?;
    let now = to_millis(ctx.now);
    columns.extend([
        ("created_by", Param::Int(ctx.actor.user_id)),
        ("created_at", Param::Int(now)),
        ("updated_at", Param::Int(now)),
    ]);
    let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
    let params: Vec<Param> = columns.iter().map(|(_, p)| p.clone()).collect();
    let mut tx = ctx.db.begin().await?;
    let id = tx
        .insert_returning_id(
            &format!(
                "INSERT INTO qualification_checklists ({}) VALUES ({})",
                names.join(", "),
                vec!["?"; names.len()].join(", ")
            ),
            &params,
        )
        .await?;
    keep_one_default(&mut tx, id, &columns, now).await?;
    audit::created(
        &mut tx,
        Some(ctx.actor),
        ctx.now,
        audit::Setting::QualificationChecklist,
        id,
    )
    .await?;
    let row = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Checklist::of(&row))
}

async fn load(tx: &mut Tx, id: i64) -> StoreResult<Row> {
    tx.fetch_optional(
        "SELECT * FROM qualification_checklists WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(id)],
    )
    .await?
    .ok_or(StoreError::NotFound("QualificationChecklist"))
}

/// Changes the fields given (admins only). Ticks on leads for items that no longer exist are
/// kept but no longer count.
pub async fn update(
    ctx: Ctx<'_>,
    id: i64,
    patch: Unread<ChecklistPatch>,
) -> StoreResult<Checklist> {
    ctx.actor.require_admin("change qualification checklists")?;
    let columns = columns(patch.read()?)?;
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    load(&mut tx, id).await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::QualificationChecklist, id).await?;
    if !columns.is_empty() {
        let sets: Vec<String> = columns.iter().map(|(c, _)| format!("{c} = ?")).collect();
        let mut params: Vec<Param> = columns.iter().map(|(_, p)| p.clone()).collect();
        params.extend([Param::Int(now), Param::Int(id)]);
        tx.execute(
            &format!(
                "UPDATE qualification_checklists SET {}, updated_at = ? WHERE id = ?",
                sets.join(", ")
            ),
            &params,
        )
        .await?;
        keep_one_default(&mut tx, id, &columns, now).await?;
    }
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
        .await?;
    let row = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Checklist::of(&row))
}

/// Deletes a checklist (admins only). Leads that had chosen it fall back to the default
/// checklist, if there is one.
pub async fn delete(ctx: Ctx<'_>, id: i64) -> StoreResult<()> {
    ctx.actor.require_admin("change qualification checklists")?;
    let mut tx = ctx.db.begin().await?;
    load(&mut tx, id).await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::QualificationChecklist, id).await?;
    tx.execute(
        "UPDATE qualification_checklists SET deleted_at = ?, is_default = 0 WHERE id = ?",
        &[Param::Int(to_millis(ctx.now)), Param::Int(id)],
    )
    .await?;
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Delete)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// What a lead's qualification stands on: its chosen checklist (if still there), its ticked
/// items, and the checklist that applies (the chosen one, or else the default).
struct Standing {
    chosen: Option<i64>,
    ticked: BTreeSet<String>,
    checklist: Option<Checklist>,
    updated_at: Option<i64>,
}

const APPLICABLE: &str = "SELECT * FROM qualification_checklists WHERE deleted_at IS NULL \
     AND (id = ? OR is_default = 1) ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END, id LIMIT 1";

async fn lead_qualification<R: Reader>(r: &mut R, lead_id: i64) -> anyhow::Result<Standing> {
    let saved = r
        .row(
            "SELECT checklist_id, items, updated_at FROM lead_qualifications WHERE lead_id = ?",
            &[Param::Int(lead_id)],
        )
        .await?;
    let chosen = saved.as_ref().and_then(|r| r.opt_int("checklist_id"));
    let ticked = saved
        .as_ref()
        .map(|r| ticked_items(&r.text("items")))
        .unwrap_or_default();
    let key = Param::from(chosen);
    let checklist = r
        .row(APPLICABLE, &[key.clone(), key])
        .await?
        .map(|row| Checklist::of(&row));
    Ok(Standing {
        chosen,
        ticked,
        checklist,
        updated_at: saved.and_then(|r| r.opt_int("updated_at")),
    })
}

fn ticked_items(text: &str) -> BTreeSet<String> {
    serde_json::from_str::<Map<String, Value>>(text)
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, v)| v.as_bool() == Some(true))
        .map(|(k, _)| k)
        .collect()
}

/// The 422 that names the unmet required items of `checklist`, for `field`, when there are any.
fn unmet(field: &str, checklist: &Checklist, ticked: &BTreeSet<String>) -> StoreResult<()> {
    let missing = checklist.missing(ticked);
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = missing
        .iter()
        .map(|i| format!("{} ({})", i.label, i.key))
        .collect();
    Err(Invalid::new(
        field,
        format!(
            "the lead is not qualified: required items of the checklist '{}' are not met: {} \
             (tick them with PUT /api/v1/leads/{{id}}/qualification)",
            checklist.name,
            names.join(", ")
        ),
    )
    .into())
}

/// Refuses unless the lead meets every required item of the checklist that applies to it: the
/// check before a lead is converted.
pub async fn check_met(tx: &mut Tx, lead_id: i64, field: &str) -> StoreResult<()> {
    let q = lead_qualification(tx, lead_id).await?;
    match &q.checklist {
        Some(checklist) => unmet(field, checklist, &q.ticked),
        None => Ok(()),
    }
}

fn sets_status_qualified(table: &Table, columns: &[(String, Param)]) -> bool {
    table.record_type == RecordType::Lead
        && columns
            .iter()
            .any(|(c, v)| c == "status" && *v == Param::from(LeadStatus::Qualified.code()))
}

/// The gate on a new lead: created as `qualified`, it has no ticked items yet, so the default
/// checklist, if one has required items, refuses it.
pub async fn check_new(db: &Db, record: &NewRecord) -> StoreResult<()> {
    let qualified = Param::from(LeadStatus::Qualified.code());
    if record.table().record_type != RecordType::Lead || record.get("status") != Some(&qualified) {
        return Ok(());
    }
    let default = db
        .fetch_optional(APPLICABLE, &[Param::NullInt, Param::NullInt])
        .await?;
    match default {
        Some(row) => unmet("status", &Checklist::of(&row), &BTreeSet::new()),
        None => Ok(()),
    }
}

/// The gate on a change of a lead (`before` as the API shows it): a move to `qualified` needs
/// every required item of its checklist met.
pub async fn check_change(
    tx: &mut Tx,
    table: &Table,
    before: &Value,
    columns: &[(String, Param)],
) -> StoreResult<()> {
    if !sets_status_qualified(table, columns) || before["status"] == LeadStatus::Qualified.code() {
        return Ok(());
    }
    let id = before["id"].as_i64().unwrap_or_default();
    check_met(tx, id, "status").await
}

/// Where a lead stands against the checklist that applies to it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "Where a lead stands against the checklist that applies to it")]
pub struct LeadQualification {
    /// The lead
    #[schema(minimum = 1)]
    pub lead_id: i64,
    /// The checklist that applies: the one chosen, else the default; null when neither exists
    /// (the lead qualifies freely)
    #[schema(required = true, minimum = 1)]
    pub checklist_id: Option<i64>,
    /// Its name
    #[schema(required = true)]
    pub checklist_name: Option<String>,
    /// True when the lead chose it, false for the default
    pub chosen: bool,
    /// The checklist's items
    pub items: Vec<ItemMet>,
    /// Required items not met yet, by key
    pub missing: Vec<String>,
    /// Every required item is met: the lead may qualify
    pub complete: bool,
    /// When items were last ticked
    #[schema(required = true, schema_with = ticked_at_schema)]
    pub updated_at: Option<String>,
}

fn chosen_schema() -> ObjectBuilder {
    schema::scalar(
        Type::Integer,
        true,
        "The checklist to use; absent keeps the current choice, null goes back to the default",
    )
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
    .minimum(Some(1))
}

fn ticked_at_schema() -> ObjectBuilder {
    schema::date_time(true, "When items were last ticked")
}

/// An item of a lead's checklist and whether it is met.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = QualificationItemMet,
    description = "An item and whether it is met"
)]
pub struct ItemMet {
    /// The key
    pub key: String,
    /// The question
    pub label: String,
    /// Required to qualify
    pub required: bool,
    /// Ticked on this lead
    pub met: bool,
}

/// A lead's choice of checklist and its ticked items, as a request sends them.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = LeadQualificationInput,
    description = "The lead's checklist and ticked items"
)]
pub struct Ticks {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = chosen_schema)]
    pub checklist_id: Option<Option<i64>>,
    /// Item key → true (met) or false; replaces the ticked items; null: none ticked
    #[serde(default)]
    pub items: Option<BTreeMap<String, bool>>,
}

async fn standing<R: Reader>(r: &mut R, lead_id: i64) -> StoreResult<LeadQualification> {
    let q = lead_qualification(r, lead_id).await?;
    let items = q
        .checklist
        .as_ref()
        .map(|c| {
            c.items
                .iter()
                .map(|i| ItemMet {
                    key: i.key.clone(),
                    label: i.label.clone(),
                    required: i.required,
                    met: q.ticked.contains(&i.key),
                })
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<String> = q
        .checklist
        .as_ref()
        .map(|c| c.missing(&q.ticked).iter().map(|i| i.key.clone()).collect())
        .unwrap_or_default();
    Ok(LeadQualification {
        lead_id,
        checklist_id: q.checklist.as_ref().map(|c| c.id),
        checklist_name: q.checklist.as_ref().map(|c| c.name.clone()),
        chosen: q.chosen.is_some() && q.chosen == q.checklist.as_ref().map(|c| c.id),
        items,
        complete: missing.is_empty(),
        missing,
        updated_at: q.updated_at.map(rfc3339),
    })
}

async fn load_lead(tx: &mut Tx, actor: &Actor, id: i64) -> StoreResult<Value> {
    let lock = tx.dialect().lock_rows();
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT * FROM leads WHERE id = ? AND deleted_at IS NULL{}{lock}",
                actor.scope_clause()
            ),
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound(LEADS.schema))?;
    Ok(records::to_json(&LEADS, &row))
}

/// A lead's qualification: the checklist that applies, each item with whether it is met, the
/// required items still missing.
pub async fn lead(db: &Db, actor: &Actor, lead_id: i64) -> StoreResult<LeadQualification> {
    records::get(db, actor, &LEADS, lead_id).await?;
    let mut reader = db;
    standing(&mut reader, lead_id).await
}

/// Chooses the lead's checklist (absent: keep the current choice; null: back to the default)
/// and replaces its ticked items. Each change is in the lead's history as
/// `qualification.checklist_id` and `qualification.KEY`.
pub async fn put(
    ctx: Ctx<'_>,
    lead_id: i64,
    ticks: Unread<Ticks>,
) -> StoreResult<LeadQualification> {
    let ticks = ticks.read()?;
    let chosen_in_body = ticks.checklist_id.is_some();
    let chosen = ticks.checklist_id.flatten();
    if chosen.is_some_and(|id| id < 1) {
        return Err(Invalid::new("checklist_id", "must be a whole number of at least 1").into());
    }
    let items = ticks.items.unwrap_or_default();
    let mut tx = ctx.db.begin().await?;
    let lead = load_lead(&mut tx, ctx.actor, lead_id).await?;
    if lead["status"] == LeadStatus::Converted.code() {
        return Err(StoreError::Conflict("a converted lead is read-only".into()));
    }
    let before = lead_qualification(&mut tx, lead_id).await?;
    let chosen = if chosen_in_body {
        chosen
    } else {
        before.chosen
    };
    if let Some(id) = chosen.filter(|_| chosen_in_body) {
        load(&mut tx, id).await.map_err(|_| {
            Invalid::new(
                "checklist_id",
                format!("no qualification checklist has id {id}"),
            )
        })?;
    }
    let key = Param::from(chosen);
    let checklist = tx
        .fetch_optional(APPLICABLE, &[key.clone(), key])
        .await?
        .map(|r| Checklist::of(&r));
    let mut ticked = BTreeSet::new();
    for (key, value) in &items {
        let known = checklist
            .as_ref()
            .is_some_and(|c| c.items.iter().any(|i| i.key == *key));
        if !known {
            return Err(Invalid::new(
                format!("items.{key}"),
                match &checklist {
                    Some(c) => format!(
                        "is not an item of the checklist '{}' (items: {})",
                        c.name,
                        c.items
                            .iter()
                            .map(|i| i.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => "the lead has no checklist: choose one with checklist_id".into(),
                },
            )
            .into());
        }
        if *value {
            ticked.insert(key.clone());
        }
    }
    let stored: Map<String, Value> = ticked.iter().map(|k| (k.clone(), json!(true))).collect();
    let now = to_millis(ctx.now);
    tx.execute(
        "DELETE FROM lead_qualifications WHERE lead_id = ?",
        &[Param::Int(lead_id)],
    )
    .await?;
    tx.execute(
        "INSERT INTO lead_qualifications (lead_id, checklist_id, items, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)",
        &[
            Param::Int(lead_id),
            Param::from(chosen),
            Param::from(Value::Object(stored).to_string()),
            Param::Int(ctx.actor.user_id),
            Param::Int(now),
        ],
    )
    .await?;
    let snapshot = |chosen: Option<i64>, ticked: &BTreeSet<String>| -> Snapshot {
        let mut s = Snapshot::new();
        s.insert("qualification.checklist_id".into(), json!(chosen));
        for key in ticked {
            s.insert(format!("qualification.{key}"), json!(true));
        }
        s
    };
    let mut after = snapshot(chosen, &ticked);
    let mut earlier = snapshot(before.chosen, &before.ticked);
    // An item ticked before and not now is a change from true to false, not a removal.
    for key in before.ticked.difference(&ticked) {
        after.insert(format!("qualification.{key}"), json!(false));
    }
    for key in ticked.difference(&before.ticked) {
        earlier.insert(format!("qualification.{key}"), json!(false));
    }
    history::record_changes(
        &mut tx,
        ctx.stamp(),
        RecordType::Lead,
        lead_id,
        &earlier,
        &after,
    )
    .await?;
    let out = standing(&mut tx, lead_id).await?;
    tx.commit().await?;
    Ok(out)
}

/// The checklist as a step of a lead's life: a lead cannot become qualified, when created or
/// changed, with its checklist unfinished.
pub struct Qualifying;

#[async_trait]
impl Hook for Qualifying {
    async fn preparing(&self, ctx: Ctx<'_>, record: &mut NewRecord) -> StoreResult<()> {
        check_new(ctx.db, record).await
    }

    async fn changing(
        &self,
        tx: &mut Tx,
        change: &Change<'_>,
        columns: &mut Vec<(String, Param)>,
    ) -> StoreResult<()> {
        check_change(tx, change.table, change.before, columns).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(list: Value) -> Result<Vec<Item>, Invalid> {
        check_items(serde_json::from_value(list).unwrap())
    }

    #[test]
    fn items_need_unique_keys_and_a_label_and_are_required_unless_said() {
        let checked = items(json!([
            {"key": "budget", "label": "预算已确认"},
            {"key": "timeline", "label": "时间表", "required": false},
        ]))
        .unwrap();
        assert!(checked[0].required);
        assert!(!checked[1].required);
        let twice = items(json!([
            {"key": "budget", "label": "a"},
            {"key": "budget", "label": "b"},
        ]))
        .unwrap_err();
        assert_eq!(twice.field, "items[1].key");
        let bad_key = items(json!([{"key": "Budget!", "label": "a"}])).unwrap_err();
        assert_eq!(bad_key.field, "items[0].key");
        let no_label = items(json!([{"key": "budget", "label": " "}])).unwrap_err();
        assert_eq!(no_label.field, "items[0].label");
        let missing =
            Unread::<NewChecklist>::json(json!({"name": "BANT", "items": [{"key": "b"}]}))
                .read()
                .unwrap_err();
        assert_eq!(missing.field, "items[0].label");
        let unknown = Unread::<ChecklistPatch>::json(json!({"colour": "red"}))
            .read()
            .unwrap_err();
        assert_eq!(unknown.field, "colour");
    }

    #[test]
    fn only_unticked_required_items_are_missing() {
        let checklist = Checklist {
            id: 1,
            name: "BANT".into(),
            business_unit: None,
            product_line: None,
            is_default: false,
            created_at: String::new(),
            updated_at: String::new(),
            items: vec![
                Item {
                    key: "budget".into(),
                    label: "Budget".into(),
                    required: true,
                },
                Item {
                    key: "authority".into(),
                    label: "Authority".into(),
                    required: true,
                },
                Item {
                    key: "nice".into(),
                    label: "Nice to have".into(),
                    required: false,
                },
            ],
        };
        let ticked: BTreeSet<String> = ["budget".to_owned()].into();
        let missing: Vec<&str> = checklist
            .missing(&ticked)
            .iter()
            .map(|i| i.key.as_str())
            .collect();
        assert_eq!(missing, ["authority"]);
        let err = unmet("status", &checklist, &ticked).unwrap_err();
        assert!(err.to_string().contains("Authority (authority)"), "{err}");
        assert!(!err.to_string().contains("nice"), "{err}");
    }
}
