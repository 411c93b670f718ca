//! Custom field definitions: which extra fields each record type has. Admins manage them; the
//! record engine checks every write against them.

use crate::error::{StoreError, StoreResult};
use crate::records::json::rfc3339;
use serde_json::{json, Value};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::{parse_key, CustomFieldDef, FieldType, RecordType};
use xiansuo_core::{Invalid, Text};
use xiansuo_store::{Db, Param};

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
            "SELECT key, field_type, options, required FROM custom_field_defs WHERE record_type = ? ORDER BY id",
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
        "created_at": rfc3339(r.int("created_at")),
    })
}

/// All definitions, for the settings API.
pub async fn list(db: &Db) -> StoreResult<Vec<Value>> {
    Ok(db
        .fetch_all(
            "SELECT * FROM custom_field_defs ORDER BY record_type, id",
            &[],
        )
        .await?
        .iter()
        .map(to_json)
        .collect())
}

/// Adds a definition from `{"object", "key", "label", "field_type", "options"?, "required"?}`.
pub async fn create(
    db: &Db,
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
    let options: Vec<String> = match body.get("options") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| Text::parse("options", s, 100).map(Text::into_string))
                    .unwrap_or_else(|| Err(Invalid::new("options", "must be a list of strings")))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(Invalid::new("options", "must be a list of strings").into()),
    };
    let is_select = matches!(field_type, FieldType::SingleSelect | FieldType::MultiSelect);
    if is_select && options.is_empty() {
        return Err(Invalid::new("options", "a select field needs at least one option").into());
    }
    if !is_select && !options.is_empty() {
        return Err(Invalid::new("options", "only select fields have options").into());
    }
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
