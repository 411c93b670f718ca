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
use crate::sales::pipeline::Body;
use crate::scope::Actor;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::{parse_key, RecordType};
use xiansuo_core::history::Snapshot;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::Invalid;
use xiansuo_store::Reader;
use xiansuo_store::{Db, Param, Row, Tx};

/// The most items a checklist may have.
const MAX_ITEMS: usize = 50;

/// One question of a checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub key: String,
    pub label: String,
    pub required: bool,
}

/// A checklist as stored.
#[derive(Debug, Clone)]
pub struct Checklist {
    pub id: i64,
    pub name: String,
    pub items: Vec<Item>,
}

impl Checklist {
    fn of(row: &Row) -> Checklist {
        Checklist {
            id: row.int("id"),
            name: row.text("name"),
            items: stored_items(&row.text("items")),
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

/// Parses `items`: a list of `{key, label, required?}` with unique keys (`required` defaults
/// to true).
fn parse_items(value: Option<&Value>) -> StoreResult<Vec<Item>> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(Invalid::new("items", "must be a list of {key, label, required}").into())
        }
    };
    if list.len() > MAX_ITEMS {
        return Err(Invalid::new("items", format!("at most {MAX_ITEMS} items")).into());
    }
    let mut items: Vec<Item> = Vec::with_capacity(list.len());
    for (n, entry) in list.iter().enumerate() {
        let body = Body::parse(entry, &format!("items[{n}]"), &["key", "label", "required"])?;
        let key = parse_key(&body.required_text("key", 40)?)
            .map_err(|e| Invalid::new(body.field("key"), e.message))?;
        if items.iter().any(|i| i.key == key) {
            return Err(Invalid::new(body.field("key"), format!("'{key}' is used twice")).into());
        }
        items.push(Item {
            key,
            label: body.required_text("label", 200)?,
            required: body.bool("required")?.unwrap_or(true),
        });
    }
    Ok(items)
}

fn to_json(row: &Row) -> Value {
    json!({
        "id": row.int("id"),
        "name": row.text("name"),
        "business_unit": row.opt_text("business_unit"),
        "product_line": row.opt_text("product_line"),
        "items": items_json(&stored_items(&row.text("items"))),
        "is_default": row.int("is_default") == 1,
        "created_at": rfc3339(row.int("created_at")),
        "updated_at": rfc3339(row.int("updated_at")),
    })
}

/// Every checklist that is not deleted, oldest first.
pub async fn list(db: &Db) -> StoreResult<Vec<Value>> {
    Ok(db
        .fetch_all(
            "SELECT * FROM qualification_checklists WHERE deleted_at IS NULL ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(to_json)
        .collect())
}

/// One checklist.
pub async fn get(db: &Db, id: i64) -> StoreResult<Value> {
    db.fetch_optional(
        "SELECT * FROM qualification_checklists WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(id)],
    )
    .await?
    .map(|r| to_json(&r))
    .ok_or(StoreError::NotFound("QualificationChecklist"))
}

const FIELDS: &[&str] = &[
    "name",
    "business_unit",
    "product_line",
    "items",
    "is_default",
];

/// The columns a checklist body sets; `creating` requires a name.
fn parse(body: &Value, creating: bool) -> StoreResult<Vec<(&'static str, Param)>> {
    let body = Body::parse(body, "", FIELDS)?;
    let mut out = Vec::new();
    if creating || body.has("name") {
        out.push(("name", Param::from(body.required_text("name", 100)?)));
    }
    for name in ["business_unit", "product_line"] {
        if body.has(name) {
            out.push((name, Param::from(body.text(name, 100)?)));
        }
    }
    if creating || body.has("items") {
        let items = parse_items(body.get("items"))?;
        out.push(("items", Param::from(items_json(&items).to_string())));
    }
    if creating || body.has("is_default") {
        let is_default = body.bool("is_default")?.unwrap_or(false);
        out.push(("is_default", Param::Int(i64::from(is_default))));
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
pub async fn create(ctx: Ctx<'_>, body: &Value) -> StoreResult<Value> {
    ctx.actor.require_admin("change qualification checklists")?;
    let mut columns = parse(body, true)?;
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
    Ok(to_json(&row))
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
pub async fn update(ctx: Ctx<'_>, id: i64, body: &Value) -> StoreResult<Value> {
    ctx.actor.require_admin("change qualification checklists")?;
    let columns = parse(body, false)?;
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
    Ok(to_json(&row))
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
struct LeadQualification {
    chosen: Option<i64>,
    ticked: BTreeSet<String>,
    checklist: Option<Checklist>,
    updated_at: Option<i64>,
}

const APPLICABLE: &str = "SELECT * FROM qualification_checklists WHERE deleted_at IS NULL \
     AND (id = ? OR is_default = 1) ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END, id LIMIT 1";

async fn lead_qualification<R: Reader>(
    r: &mut R,
    lead_id: i64,
) -> anyhow::Result<LeadQualification> {
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
    Ok(LeadQualification {
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

async fn lead_json<R: Reader>(r: &mut R, lead_id: i64) -> StoreResult<Value> {
    let q = lead_qualification(r, lead_id).await?;
    let items: Vec<Value> = q
        .checklist
        .as_ref()
        .map(|c| {
            c.items
                .iter()
                .map(|i| {
                    json!({
                        "key": i.key,
                        "label": i.label,
                        "required": i.required,
                        "met": q.ticked.contains(&i.key),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<&str> = q
        .checklist
        .as_ref()
        .map(|c| {
            c.missing(&q.ticked)
                .iter()
                .map(|i| i.key.as_str())
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({
        "lead_id": lead_id,
        "checklist_id": q.checklist.as_ref().map(|c| c.id),
        "checklist_name": q.checklist.as_ref().map(|c| c.name.clone()),
        "chosen": q.chosen.is_some() && q.chosen == q.checklist.as_ref().map(|c| c.id),
        "items": items,
        "missing": missing,
        "complete": missing.is_empty(),
        "updated_at": q.updated_at.map(rfc3339),
    }))
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
pub async fn lead(db: &Db, actor: &Actor, lead_id: i64) -> StoreResult<Value> {
    records::get(db, actor, &LEADS, lead_id).await?;
    let mut reader = db;
    lead_json(&mut reader, lead_id).await
}

/// `PUT /api/v1/leads/{id}/qualification` with `{"checklist_id"?, "items": {"key": true}}`:
/// chooses the lead's checklist (absent: keep the current choice; null: back to the default)
/// and replaces its ticked items. Each change is in the lead's history as
/// `qualification.checklist_id` and `qualification.KEY`.
pub async fn put(ctx: Ctx<'_>, lead_id: i64, body: &Value) -> StoreResult<Value> {
    let body = Body::parse(body, "", &["checklist_id", "items"])?;
    let chosen_in_body = body.has("checklist_id");
    let chosen = body.int("checklist_id", 1, i64::MAX)?;
    let items = match body.get("items") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(items)) => items.clone(),
        Some(_) => {
            return Err(Invalid::new("items", "must be an object of item key -> true/false").into())
        }
    };
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
        match value {
            Value::Bool(true) => {
                ticked.insert(key.clone());
            }
            Value::Bool(false) => {}
            _ => return Err(Invalid::new(format!("items.{key}"), "must be true or false").into()),
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
    let out = lead_json(&mut tx, lead_id).await?;
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

    #[test]
    fn items_need_unique_keys_and_a_label_and_are_required_unless_said() {
        let items = parse_items(Some(&json!([
            {"key": "budget", "label": "预算已确认"},
            {"key": "timeline", "label": "时间表", "required": false},
        ])))
        .unwrap();
        assert!(items[0].required);
        assert!(!items[1].required);
        let twice = parse_items(Some(&json!([
            {"key": "budget", "label": "a"},
            {"key": "budget", "label": "b"},
        ])))
        .unwrap_err();
        assert!(twice.to_string().contains("items[1].key"), "{twice}");
        let bad_key = parse_items(Some(&json!([{"key": "Budget!", "label": "a"}]))).unwrap_err();
        assert!(bad_key.to_string().contains("items[0].key"), "{bad_key}");
        let no_label = parse_items(Some(&json!([{"key": "budget"}]))).unwrap_err();
        assert!(
            no_label.to_string().contains("items[0].label"),
            "{no_label}"
        );
    }

    #[test]
    fn only_unticked_required_items_are_missing() {
        let checklist = Checklist {
            id: 1,
            name: "BANT".into(),
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
