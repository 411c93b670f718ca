//! Custom field definitions: which extra fields each record type has. Admins manage them; the
//! record engine checks every write against them.

use crate::admin::audit;
use crate::error::{StoreError, StoreResult};
use crate::records::json::rfc3339;
use crate::records::schema::Table;
use crate::scope::Actor;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ArrayBuilder, ObjectBuilder};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::{parse_key, CustomFieldDef, FieldType, RecordType};
use xiansuo_core::validation::{present, Unread};
use xiansuo_core::{schema, Invalid, Text};
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

/// The definition of a custom field, kept in a record's `custom` object.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "The definition of a custom field, kept in a record's `custom` object")]
pub struct CustomField {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    #[schema(schema_with = object_schema)]
    pub object: String,
    /// The key in `custom`
    pub key: String,
    /// Shown in the UI
    pub label: String,
    #[schema(schema_with = field_type_schema)]
    pub field_type: String,
    #[schema(schema_with = options_schema)]
    pub options: Vec<String>,
    /// Must be given on create
    pub required: bool,
    /// Order in forms and lists; lower first, then by id
    pub position: i64,
    /// How many records (not deleted) hold a value for it: what deleting it would hide. Only
    /// in GET /api/v1/custom-fields/{id}
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, nullable = false)]
    pub records_with_value: Option<i64>,
    #[schema(schema_with = created_at_schema)]
    pub created_at: String,
}

/// Every definition, by record type.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomFieldList {
    /// Every definition, by record type
    pub items: Vec<CustomField>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A new custom field as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A new custom field")]
pub struct NewCustomField {
    #[schema(schema_with = object_schema)]
    pub object: String,
    #[schema(schema_with = key_schema)]
    pub key: String,
    #[schema(schema_with = label_schema)]
    pub label: String,
    #[schema(schema_with = field_type_schema)]
    pub field_type: String,
    #[serde(default)]
    #[schema(schema_with = new_options_schema)]
    pub options: Option<Vec<String>>,
    /// Must be given on create; default false
    #[serde(default)]
    pub required: Option<bool>,
}

/// The fields of a definition to change; a field left out keeps its value. The record type,
/// key and field type are fixed: a request that names them is refused with the reason.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "Changes to a custom field. The record type, key and field type are \
    fixed, since records store values under the key; stored values stay as they are"
)]
pub struct CustomFieldPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = label_schema)]
    pub label: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = changed_options_schema)]
    pub options: Option<Option<Vec<String>>>,
    /// Must be given on every create and change
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub required: Option<bool>,
    /// Order, 0 to 1000000; lower first
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, minimum = 0, maximum = 1_000_000)]
    pub position: Option<i64>,
    #[serde(default)]
    #[schema(ignore)]
    pub object: Option<IgnoredAny>,
    #[serde(default)]
    #[schema(ignore)]
    pub key: Option<IgnoredAny>,
    #[serde(default)]
    #[schema(ignore)]
    pub field_type: Option<IgnoredAny>,
}

const OBJECTS: [RecordType; 4] = [
    RecordType::Lead,
    RecordType::Account,
    RecordType::Contact,
    RecordType::Opportunity,
];

const FIELD_TYPES: [FieldType; 6] = [
    FieldType::Text,
    FieldType::Number,
    FieldType::Date,
    FieldType::SingleSelect,
    FieldType::MultiSelect,
    FieldType::Boolean,
];

fn object_schema() -> ObjectBuilder {
    schema::codes(OBJECTS.map(RecordType::code), false, "The record type")
}

fn field_type_schema() -> ObjectBuilder {
    schema::codes(FIELD_TYPES.map(FieldType::code), false, "Value type")
}

fn key_schema() -> ObjectBuilder {
    schema::string(false, "The key in `custom`, unique per record type")
        .pattern(Some("^[a-z][a-z0-9_]{0,39}$"))
}

fn label_schema() -> ObjectBuilder {
    schema::text(false, true, 100, "Shown in the UI")
}

fn options_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(schema::string(false, "An option").max_length(Some(100)))
        .description(Some("The choices of a select field"))
}

/// The options a request may send: distinct, not blank, at most [`MAX_OPTIONS`]; null is
/// none.
fn sent_options(doc: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(schema::text(false, true, 100, "An option"))
        .max_items(Some(MAX_OPTIONS))
        .unique_items(true)
        .schema_type(schema::typed(Type::Array, true))
        .description(Some(doc))
}

fn new_options_schema() -> ArrayBuilder {
    sent_options("The choices; required for select fields, refused for others")
}

fn changed_options_schema() -> ArrayBuilder {
    sent_options("The choices of a select field, distinct; refused for others")
}

fn created_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it was created")
}

impl CustomField {
    fn read(r: &xiansuo_store::Row) -> CustomField {
        CustomField {
            id: r.int("id"),
            object: r.text("record_type"),
            key: r.text("key"),
            label: r.text("label"),
            field_type: r.text("field_type"),
            options: serde_json::from_str(&r.text("options")).unwrap_or_default(),
            required: r.int("required") != 0,
            position: r.int("position"),
            records_with_value: None,
            created_at: rfc3339(r.int("created_at")),
        }
    }
}

/// All definitions, by record type; any signed-in user may read them.
pub async fn list(db: &Db) -> StoreResult<CustomFieldList> {
    let items = db
        .fetch_all(
            "SELECT * FROM custom_field_defs ORDER BY record_type, position, id",
            &[],
        )
        .await?
        .iter()
        .map(CustomField::read)
        .collect();
    Ok(CustomFieldList {
        items,
        next_cursor: None,
    })
}

/// Adds a definition.
async fn create(
    db: &Db,
    actor: &Actor,
    new: NewCustomField,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<CustomField> {
    let record_type = RecordType::parse(&new.object)?;
    let key = parse_key(&new.key)?;
    let label = Text::parse("label", &new.label, 100)?;
    let field_type = FieldType::parse(&new.field_type)?;
    let options = parse_options(field_type, new.options)?;
    let required = new.required.unwrap_or(false);
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
    Ok(CustomField::read(&row))
}

/// The most options a select field may offer.
pub const MAX_OPTIONS: usize = 200;

/// The options of a field of `field_type` as sent (none when left out or null): a select field
/// needs at least one, distinct; other fields have none.
fn parse_options(field_type: FieldType, sent: Option<Vec<String>>) -> Result<Vec<String>, Invalid> {
    let sent = sent.unwrap_or_default();
    if sent.len() > MAX_OPTIONS {
        return Err(Invalid::new(
            "options",
            format!("at most {MAX_OPTIONS} options"),
        ));
    }
    let options: Vec<String> = sent
        .iter()
        .map(|s| Text::parse("options", s, 100).map(Text::into_string))
        .collect::<Result<_, _>>()?;
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

/// Adds a definition (admins only).
pub async fn create_by(
    db: &Db,
    actor: &Actor,
    new: Unread<NewCustomField>,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<CustomField> {
    actor.require_admin("define custom fields")?;
    create(db, actor, new.read()?, now).await
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
pub async fn get(db: &Db, id: i64) -> StoreResult<CustomField> {
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
    Ok(CustomField {
        records_with_value: Some(count),
        ..CustomField::read(&row)
    })
}

/// Changes a definition (admins only). The record type, key and field type are fixed, since
/// records store values under the key in the type's shape. Values already stored stay as they
/// are, even an option no longer listed.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: Unread<CustomFieldPatch>,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<CustomField> {
    actor.require_admin("define custom fields")?;
    let patch = patch.read()?;
    let fixed = [
        ("object", patch.object.is_some()),
        ("key", patch.key.is_some()),
        ("field_type", patch.field_type.is_some()),
    ];
    if let Some((field, _)) = fixed.into_iter().find(|(_, sent)| *sent) {
        return Err(Invalid::new(
            field,
            "cannot change: records store their values under it; add a new field instead",
        )
        .into());
    }
    let before = load(db, id).await?;
    let field_type = FieldType::parse(&before.text("field_type"))?;
    let mut sets: Vec<(&str, Param)> = Vec::new();
    if let Some(label) = patch.label {
        let label = Text::parse("label", &label, 100)?.into_string();
        sets.push(("label", Param::from(label)));
    }
    if let Some(options) = patch.options {
        let options = parse_options(field_type, options)?;
        sets.push(("options", Param::from(json!(options).to_string())));
    }
    if let Some(required) = patch.required {
        sets.push(("required", Param::Int(i64::from(required))));
    }
    if let Some(position) = patch.position {
        if !(0..=1_000_000).contains(&position) {
            return Err(
                Invalid::new("position", "must be a whole number from 0 to 1000000").into(),
            );
        }
        sets.push(("position", Param::Int(position)));
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
    Ok(CustomField::read(&load(db, id).await?))
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
