//! Custom field definitions: which extra fields each record type has. Admins manage them; the
//! record engine checks every write against them.

use crate::admin::audit;
use crate::error::{StoreError, StoreResult};
use crate::records::json::rfc3339;
use crate::records::schema::Table;
use crate::scope::Actor;
use serde_json::{json, Value};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::{parse_key, CustomFieldDef, FieldType, RecordType};
use xiansuo_core::{Invalid, Text};
use xiansuo_store::{Db, Dialect, Param};

/// The definitions for one record type.
pub async fn definitions(db: &Db, record_type: RecordType) -> anyhow::Result<Vec<CustomFieldDef>> {
    if let Some(defs) = db.settings().get::<Vec<CustomFieldDef>>(record_type as u64) {
        return Ok(defs);
    }
    let defs = read_definitions(db, record_type).await?;
    db.settings().put(record_type as u64, defs.clone());
    Ok(defs)
}

async fn read_definitions(db: &Db, record_type: RecordType) -> anyhow::Result<Vec<CustomFieldDef>> {
    let rows = db
        .fetch_all(
            "SELECT key, field_type, options, required FROM custom_field_defs WHERE record_type = ? ORDER BY position, id",
            &[Param::from(record_type.code())],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CustomFieldDef {
                key: r.text("key"),
                field_type: FieldType::parse(&r.text("field_type"))?,
                options: serde_json::from_str(&r.text("options")).unwrap_or_default(),
                required: r.int("required") != 0,
            })
        })
        .collect()
}

fn to_json(r: &xiansuo_store::Row) -> Value {
    json!({
        "id": r.int("id"),
        "object": r.text("record_type"),
        "key": r.text("key"),
        "label": r.text("label"),
        "field_type": r.text("field_type"),
        "options": serde_json::from_str::<Value>(&r.text("options")).unwrap_or(json!([])),
        "required": r.int("required") != 0,
        "position": r.int("position"),
        "created_at": rfc3339(r.int("created_at")),
    })
}

/// All definitions, for the settings API.
pub async fn list(db: &Db) -> StoreResult<Vec<Value>> {
    Ok(db
        .fetch_all(
            "SELECT * FROM custom_field_defs ORDER BY record_type, position, id",
            &[],
        )
        .await?
        .iter()
        .map(to_json)
        .collect())
}

/// Adds a definition from `{"object", "key", "label", "field_type", "options"?, "required"?}`.
async fn create(
    db: &Db,
    actor: &Actor,
    body: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Value> {
    let text = |name: &str| -> Result<&str, Invalid> {
        body.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| Invalid::new(name, "is required and must be a string"))
    };
    if let Some(obj) = body.as_object() {
        if let Some(extra) = obj.keys().find(|k| {
            ![
                "object",
                "key",
                "label",
                "field_type",
                "options",
                "required",
            ]
            .contains(&k.as_str())
        }) {
            return Err(Invalid::new(extra.as_str(), "is not a field of a custom field definition (accepted: object, key, label, field_type, options, required)").into());
        }
    } else {
        return Err(Invalid::new("body", "must be a JSON object").into());
    }
    let record_type = RecordType::parse(text("object")?)?;
    let key = parse_key(text("key")?)?;
    let label = Text::parse("label", text("label")?, 100)?;
    let field_type = FieldType::parse(text("field_type")?)?;
    let options = parse_options(field_type, body.get("options"))?;
    let required = match body.get("required") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(Invalid::new("required", "must be true or false").into()),
    };
    let mut tx = db.begin().await?;
    let exists = tx
        .fetch_optional(
            "SELECT id FROM custom_field_defs WHERE record_type = ? AND key = ?",
            &[Param::from(record_type.code()), Param::from(key.as_str())],
        )
        .await?
        .is_some();
    if exists {
        return Err(StoreError::Conflict(format!(
            "{} already has a custom field '{key}'",
            record_type.code()
        )));
    }
    let at = now;
    let now = to_millis(now);
    let id = tx
        .insert_returning_id(
            "INSERT INTO custom_field_defs (record_type, key, label, field_type, options, required, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                Param::from(record_type.code()),
                Param::from(key),
                Param::from(label.into_string()),
                Param::from(field_type.code()),
                Param::from(json!(options).to_string()),
                Param::Int(i64::from(required)),
                Param::Int(now),
                Param::Int(now),
            ],
        )
        .await?;
    audit::created(&mut tx, Some(actor), at, audit::Setting::CustomField, id).await?;
    let row = tx
        .fetch_optional(
            "SELECT * FROM custom_field_defs WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("CustomField"))?;
    tx.commit().await?;
    db.settings().clear::<Vec<CustomFieldDef>>();
    Ok(to_json(&row))
}

/// The most options a select field may offer.
pub const MAX_OPTIONS: usize = 200;

/// The options of a field of `field_type` from the `options` of a body: a select field needs at
/// least one, distinct; other fields have none.
fn parse_options(field_type: FieldType, value: Option<&Value>) -> Result<Vec<String>, Invalid> {
    let options: Vec<String> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.len() > MAX_OPTIONS => {
            return Err(Invalid::new(
                "options",
                format!("at most {MAX_OPTIONS} options"),
            ))
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| Text::parse("options", s, 100).map(Text::into_string))
                    .unwrap_or_else(|| Err(Invalid::new("options", "must be a list of strings")))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(Invalid::new("options", "must be a list of strings")),
    };
    let is_select = matches!(field_type, FieldType::SingleSelect | FieldType::MultiSelect);
    if is_select && options.is_empty() {
        return Err(Invalid::new(
            "options",
            "a select field needs at least one option",
        ));
    }
    if !is_select && !options.is_empty() {
        return Err(Invalid::new("options", "only select fields have options"));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = options.iter().find(|o| !seen.insert(o.as_str())) {
        return Err(Invalid::new(
            "options",
            format!("'{twice}' is listed twice"),
        ));
    }
    Ok(options)
}

/// Adds a definition (admins only); see [`create`].
pub async fn create_by(
    db: &Db,
    actor: &Actor,
    body: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Value> {
    actor.require_admin("define custom fields")?;
    create(db, actor, body, now).await
}

async fn load(db: &Db, id: i64) -> StoreResult<xiansuo_store::Row> {
    db.fetch_optional(
        "SELECT * FROM custom_field_defs WHERE id = ?",
        &[Param::Int(id)],
    )
    .await?
    .ok_or(StoreError::NotFound("CustomField"))
}

/// One definition with `records_with_value`: how many records (not deleted) hold a value for
/// it, which is what deleting it would hide.
pub async fn get(db: &Db, id: i64) -> StoreResult<Value> {
    let row = load(db, id).await?;
    let record_type = RecordType::parse(&row.text("record_type"))?;
    let key = parse_key(&row.text("key"))?;
    // The key is checked to be lower-case letters, digits and '_', so it can be written into
    // the SQL.
    let holds = match db.dialect() {
        Dialect::Sqlite => format!("json_extract(custom, '$.{key}') IS NOT NULL"),
        Dialect::Postgres => format!("(custom::jsonb -> '{key}') IS NOT NULL"),
    };
    let count = db
        .fetch_optional(
            &format!(
                "SELECT COUNT(*) AS n FROM {} WHERE deleted_at IS NULL AND {holds}",
                Table::of(record_type).name
            ),
            &[],
        )
        .await?
        .map_or(0, |r| r.int("n"));
    let mut field = to_json(&row);
    field["records_with_value"] = Value::from(count);
    Ok(field)
}

/// Changes a definition (admins only) from `{"label"?, "options"?, "required"?, "position"?}`.
/// The record type, key and field type are fixed, since records store values under the key in
/// the type's shape. Values already stored stay as they are, even an option no longer listed.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    body: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Value> {
    actor.require_admin("define custom fields")?;
    let obj = body
        .as_object()
        .ok_or_else(|| Invalid::new("body", "must be a JSON object"))?;
    let before = load(db, id).await?;
    let field_type = FieldType::parse(&before.text("field_type"))?;
    let mut sets: Vec<(&str, Param)> = Vec::new();
    for (name, value) in obj {
        match name.as_str() {
            "label" => {
                let label = value
                    .as_str()
                    .ok_or_else(|| Invalid::new("label", "must be a string"))?;
                sets.push(("label", Param::from(Text::parse("label", label, 100)?.into_string())));
            }
            "options" => {
                let options = parse_options(field_type, Some(value))?;
                sets.push(("options", Param::from(json!(options).to_string())));
            }
            "required" => sets.push((
                "required",
                Param::Int(i64::from(
                    value
                        .as_bool()
                        .ok_or_else(|| Invalid::new("required", "must be true or false"))?,
                )),
            )),
            "position" => sets.push((
                "position",
                Param::Int(
                    value
                        .as_i64()
                        .filter(|p| (0..=1_000_000).contains(p))
                        .ok_or_else(|| {
                            Invalid::new("position", "must be a whole number from 0 to 1000000")
                        })?,
                ),
            )),
            "object" | "key" | "field_type" => {
                return Err(Invalid::new(
                    name.as_str(),
                    "cannot change: records store their values under it; add a new field instead",
                )
                .into())
            }
            _ => {
                return Err(Invalid::new(
                    name.as_str(),
                    "is not a field of a custom field definition (accepted: label, options, required, position)",
                )
                .into())
            }
        }
    }
    if !sets.is_empty() {
        let assignments: Vec<String> = sets.iter().map(|(c, _)| format!("{c} = ?")).collect();
        let mut params: Vec<Param> = sets.into_iter().map(|(_, p)| p).collect();
        params.extend([Param::Int(to_millis(now)), Param::Int(id)]);
        let mut tx = db.begin().await?;
        let snapshot = audit::Before::take(&mut tx, audit::Setting::CustomField, id).await?;
        tx.execute(
            &format!(
                "UPDATE custom_field_defs SET {}, updated_at = ? WHERE id = ?",
                assignments.join(", ")
            ),
            &params,
        )
        .await?;
        snapshot
            .record(&mut tx, Some(actor), now, audit::Action::Update)
            .await?;
        tx.commit().await?;
        db.settings().clear::<Vec<CustomFieldDef>>();
    }
    Ok(to_json(&load(db, id).await?))
}

/// Deletes a definition (admins only). The values records hold for it are kept in their data
/// and history, so nothing is lost, but no page, filter, rule or check uses them any more; a
/// new field with the same key and type shows them again.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    actor.require_admin("define custom fields")?;
    let mut tx = db.begin().await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::CustomField, id).await?;
    let n = tx
        .execute(
            "DELETE FROM custom_field_defs WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("CustomField"));
    }
    snapshot
        .record(&mut tx, Some(actor), now, audit::Action::Delete)
        .await?;
    tx.commit().await?;
    db.settings().clear::<Vec<CustomFieldDef>>();
    Ok(())
}
