//! Follow-ups (跟进记录): calls, emails, meetings, visits, WeChat messages and notes logged on a
//! lead, account, contact or opportunity. An activity is visible to whoever can see its record;
//! it is recorded in that record's history, and the first one on a new lead moves it to working.
//! A follow-up is logged with a [`NewActivity`] and changed with an [`ActivityPatch`], each read
//! only once the caller is known to be allowed to; the API shows it as an [`Activity`].

use crate::error::{StoreError, StoreResult};
use crate::records::history;
use crate::records::schema::{Table, TABLES};
use crate::records::{self, choices, rfc3339, Ctx};
use crate::scope::Actor;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::choice::{ChoiceKind, Choices};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::snapshot;
use xiansuo_core::lead::{ActivityType, LeadStatus, Outcome};
use xiansuo_core::validation::{instant, Unread};
use xiansuo_core::{schema, Text};
use xiansuo_store::{Db, Param, Row, Tx};

/// A follow-up as the API and exports show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A follow-up (跟进记录)")]
pub struct Activity {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    /// Its id in the system it was imported from, if it was imported
    #[schema(required = true)]
    pub external_id: Option<String>,
    #[schema(schema_with = record_type_schema)]
    pub record_type: String,
    /// The record it is logged on
    #[schema(minimum = 1)]
    pub record_id: i64,
    #[serde(rename = "type")]
    #[schema(schema_with = type_schema)]
    pub kind: String,
    #[schema(schema_with = outcome_schema, required = true)]
    pub outcome: Option<String>,
    /// What was said or done
    #[schema(required = true)]
    pub content: Option<String>,
    #[schema(schema_with = next_follow_up_schema, required = true)]
    pub next_follow_up_at: Option<String>,
    /// The user who logged it
    #[schema(required = true, minimum = 1)]
    pub owner_id: Option<i64>,
    /// The user who wrote it down
    #[schema(required = true)]
    pub created_by: Option<i64>,
    #[schema(schema_with = logged_at_schema)]
    pub created_at: String,
    #[schema(schema_with = changed_at_schema)]
    pub updated_at: String,
}

impl Activity {
    pub(crate) fn read(r: &Row) -> Activity {
        Activity {
            id: r.int("id"),
            external_id: r.opt_text("external_id"),
            record_type: r.text("record_type"),
            record_id: r.int("record_id"),
            kind: r.text("type"),
            outcome: r.opt_text("outcome"),
            content: r.opt_text("content"),
            next_follow_up_at: r.opt_int("next_follow_up_at").map(rfc3339),
            owner_id: r.opt_int("owner_id"),
            created_by: r.opt_int("created_by"),
            created_at: rfc3339(r.int("created_at")),
            updated_at: rfc3339(r.int("updated_at")),
        }
    }

    /// The follow-up as JSON, as the history, the events and exports keep it.
    pub(crate) fn to_json(&self) -> anyhow::Result<Value> {
        Ok(serde_json::to_value(self)?)
    }
}

/// The follow-ups of a record, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "Follow-ups")]
pub struct ActivityList {
    /// Follow-ups
    pub items: Vec<Activity>,
}

/// A follow-up to log, as a request gives it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ActivityInput, description = "A new follow-up")]
pub struct NewActivity {
    #[serde(rename = "type", deserialize_with = "type_code")]
    #[schema(schema_with = type_schema)]
    pub kind: String,
    #[serde(default, deserialize_with = "text_or_null")]
    #[schema(schema_with = outcome_input_schema)]
    pub outcome: Option<String>,
    #[serde(default, deserialize_with = "text_or_null")]
    #[schema(schema_with = content_schema)]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "text_or_null")]
    #[schema(schema_with = next_follow_up_input_schema)]
    pub next_follow_up_at: Option<String>,
}

/// The fields of a follow-up to change; a field left out keeps its value, and all but the type
/// are cleared by null.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Changes to a follow-up")]
pub struct ActivityPatch {
    #[serde(rename = "type", default, deserialize_with = "present_type_code")]
    #[schema(schema_with = type_schema)]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "present_text")]
    #[schema(schema_with = outcome_input_schema)]
    pub outcome: Option<Option<String>>,
    #[serde(default, deserialize_with = "present_text")]
    #[schema(schema_with = content_schema)]
    pub content: Option<Option<String>>,
    #[serde(default, deserialize_with = "present_text")]
    #[schema(schema_with = next_follow_up_input_schema)]
    pub next_follow_up_at: Option<Option<String>>,
}

impl From<NewActivity> for ActivityPatch {
    fn from(new: NewActivity) -> Self {
        ActivityPatch {
            kind: Some(new.kind),
            outcome: Some(new.outcome),
            content: Some(new.content),
            next_follow_up_at: Some(new.next_follow_up_at),
        }
    }
}

/// `type` as sent: a string, which null or nothing is not.
fn type_code<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(code) => Ok(code),
        Value::Null => Err(D::Error::custom("is required")),
        _ => Err(D::Error::custom("must be a string")),
    }
}

fn present_type_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    type_code(d).map(Some)
}

/// A field of text as sent: a string, or null for none.
fn text_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::String(text) => Ok(Some(text)),
        Value::Null => Ok(None),
        _ => Err(D::Error::custom("must be a string")),
    }
}

/// A field of text of a change: the value sent, null included (`Some(None)`).
fn present_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    text_or_null(d).map(Some)
}

fn record_type_schema() -> ObjectBuilder {
    schema::codes(
        TABLES.iter().map(|t| t.record_type.code()),
        false,
        "The kind of record it is logged on",
    )
}

fn type_schema() -> ObjectBuilder {
    schema::codes(
        ActivityType::ALL.iter().map(|t| t.code()),
        false,
        "What kind of follow-up",
    )
}

/// The outcome a follow-up holds: an entry of the outcome list (`GET
/// /api/v1/choices?kind=outcome`), which admins extend.
fn outcome_schema() -> ObjectBuilder {
    schema::choice_code(
        Outcome::ALL.iter().map(|o| o.code()),
        true,
        "What it achieved (推进结果): the code of an entry of the outcome list \
         (GET /api/v1/choices?kind=outcome), which admins extend",
    )
}

/// The outcome a request names: the code or either label of an entry of the outcome list that
/// is not archived.
fn outcome_input_schema() -> ObjectBuilder {
    schema::choice_code_or_label(
        Outcome::ALL.iter().map(|o| o.code()),
        true,
        "What it achieved (推进结果): the code or either label of an entry of the outcome list \
         (GET /api/v1/choices?kind=outcome) that is not archived",
    )
}

fn content_schema() -> ObjectBuilder {
    schema::text(true, false, 10_000, "What was said or done")
}

fn next_follow_up_schema() -> ObjectBuilder {
    schema::date_time(true, "When to follow up next")
}

fn next_follow_up_input_schema() -> ObjectBuilder {
    schema::date_time(
        true,
        "When to follow up next, RFC 3339 (2026-12-01T09:00:00+08:00)",
    )
}

fn logged_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it was logged")
}

fn changed_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it last changed")
}

/// The columns a change of a follow-up sets, each checked: the type, an outcome of the list,
/// the content, the next planned follow-up.
fn changed_columns(
    change: ActivityPatch,
    choices: &Choices,
) -> StoreResult<Vec<(&'static str, Param)>> {
    let mut out = Vec::new();
    if let Some(kind) = change.kind {
        out.push(("type", Param::from(ActivityType::parse(&kind)?.code())));
    }
    if let Some(outcome) = change.outcome {
        let outcome = outcome
            .map(|o| choices.parse_listed(ChoiceKind::Outcome, "outcome", &o))
            .transpose()?;
        out.push(("outcome", Param::from(outcome)));
    }
    if let Some(content) = change.content {
        let content = content
            .map(|s| Text::parse_optional("content", &s, 10_000))
            .transpose()?
            .flatten();
        out.push(("content", Param::from(content.map(Text::into_string))));
    }
    if let Some(next) = change.next_follow_up_at {
        let at = next
            .map(|s| instant("next_follow_up_at", &s).map(|t| t.timestamp_millis()))
            .transpose()?;
        out.push(("next_follow_up_at", Param::from(at)));
    }
    Ok(out)
}

/// Loads the parent record, inside the write transaction, if the actor can see it.
async fn parent(tx: &mut Tx, actor: &Actor, table: &Table, id: i64) -> StoreResult<Row> {
    let scope = actor.scope_clause();
    tx.fetch_optional(
        &format!(
            "SELECT * FROM {} WHERE id = ? AND deleted_at IS NULL{scope}",
            table.name
        ),
        &[Param::Int(id)],
    )
    .await?
    .ok_or(StoreError::NotFound(table.schema))
}

/// Logs an activity on a record the actor can see; the follow-up is read once the record is
/// found.
pub async fn create(
    ctx: Ctx<'_>,
    table: &'static Table,
    record_id: i64,
    new: Unread<NewActivity>,
) -> StoreResult<Activity> {
    let choices = choices::all(ctx.db).await?;
    let mut tx = ctx.db.begin().await?;
    let row = parent(&mut tx, ctx.actor, table, record_id).await?;
    let fields = changed_columns(new.read()?.into(), &choices)?;
    if table.record_type == RecordType::Lead && row.text("status") == LeadStatus::Converted.code() {
        return Err(StoreError::Conflict(
            "a converted lead is read-only; log activities on its account".into(),
        ));
    }
    let now = to_millis(ctx.now);
    let mut columns = vec![
        "record_type",
        "record_id",
        "owner_id",
        "created_by",
        "created_at",
        "updated_at",
    ];
    let mut params = vec![
        Param::from(table.record_type.code()),
        Param::Int(record_id),
        Param::Int(ctx.actor.user_id),
        Param::Int(ctx.actor.user_id),
        Param::Int(now),
        Param::Int(now),
    ];
    for (c, p) in fields {
        columns.push(c);
        params.push(p);
    }
    let marks = vec!["?"; columns.len()].join(", ");
    let id = tx
        .insert_returning_id(
            &format!(
                "INSERT INTO activities ({}) VALUES ({marks})",
                columns.join(", ")
            ),
            &params,
        )
        .await?;
    let activity = tx
        .fetch_optional("SELECT * FROM activities WHERE id = ?", &[Param::Int(id)])
        .await?
        .map(|r| Activity::read(&r))
        .ok_or(StoreError::NotFound("Activity"))?;
    let logged = activity.to_json()?;
    history::record_action(
        &mut tx,
        ctx.stamp(),
        table.record_type,
        record_id,
        "activity",
        Some(&logged),
    )
    .await?;
    crate::leads::pool::followed_up(&mut tx, table.record_type, record_id, now).await?;
    if table.record_type == RecordType::Lead && row.text("status") == LeadStatus::New.code() {
        let before = snapshot(&records::to_json(table, &row));
        tx.execute(
            "UPDATE leads SET status = ?, updated_at = ? WHERE id = ?",
            &[
                Param::from(LeadStatus::Working.code()),
                Param::Int(now),
                Param::Int(record_id),
            ],
        )
        .await?;
        let mut after = before.clone();
        after.insert("status".into(), Value::from(LeadStatus::Working.code()));
        history::record_changes(
            &mut tx,
            ctx.stamp(),
            table.record_type,
            record_id,
            &before,
            &after,
        )
        .await?;
    }
    crate::channels::events::emit(&mut tx, "activity.created", &logged, now).await?;
    tx.commit().await?;
    Ok(activity)
}

/// The activities of a record, newest first.
pub async fn list(
    db: &Db,
    actor: &Actor,
    table: &'static Table,
    record_id: i64,
) -> StoreResult<ActivityList> {
    records::get(db, actor, table, record_id).await?;
    // An account also shows the follow-ups of the leads converted into it.
    let (shown, params) = crate::leads::conversion::activity_condition(table, record_id);
    let items = db
        .fetch_all(
            &format!("SELECT * FROM activities WHERE {shown} AND deleted_at IS NULL ORDER BY created_at DESC, id DESC"),
            &params,
        )
        .await?
        .iter()
        .map(Activity::read)
        .collect();
    Ok(ActivityList { items })
}

/// The table of the record an activity is logged on.
fn record_table(activity: &Row) -> StoreResult<&'static Table> {
    RecordType::parse(&activity.text("record_type"))
        .map(Table::of)
        .map_err(|_| StoreError::NotFound("Activity"))
}

/// Loads an activity whose record the actor can see, with its record's table.
async fn load(tx: &mut Tx, actor: &Actor, id: i64) -> StoreResult<(Row, &'static Table)> {
    let row = tx
        .fetch_optional(
            "SELECT * FROM activities WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("Activity"))?;
    let table = record_table(&row)?;
    parent(tx, actor, table, row.int("record_id"))
        .await
        .map_err(|_| StoreError::NotFound("Activity"))?;
    Ok((row, table))
}

/// One activity whose record the actor can see. Only reads, so it stays off the write
/// connection.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> StoreResult<Activity> {
    let row = db
        .fetch_optional(
            "SELECT * FROM activities WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("Activity"))?;
    let table = record_table(&row)?;
    records::get(db, actor, table, row.int("record_id"))
        .await
        .map_err(|_| StoreError::NotFound("Activity"))?;
    Ok(Activity::read(&row))
}

/// Changes an activity; only its author or an admin may, and the change is read once that is
/// known.
pub async fn update(ctx: Ctx<'_>, id: i64, patch: Unread<ActivityPatch>) -> StoreResult<Activity> {
    let choices = choices::all(ctx.db).await?;
    let mut tx = ctx.db.begin().await?;
    let (row, table) = load(&mut tx, ctx.actor, id).await?;
    if row.opt_int("owner_id") != Some(ctx.actor.user_id) && !ctx.actor.is_admin() {
        return Err(StoreError::Forbidden(
            "only the author of an activity or an admin may change it".into(),
        ));
    }
    let fields = changed_columns(patch.read()?, &choices)?;
    let before = Activity::read(&row).to_json()?;
    if !fields.is_empty() {
        let sets: Vec<String> = fields.iter().map(|(c, _)| format!("{c} = ?")).collect();
        let mut params: Vec<Param> = fields.into_iter().map(|(_, p)| p).collect();
        params.push(Param::Int(to_millis(ctx.now)));
        params.push(Param::Int(id));
        tx.execute(
            &format!(
                "UPDATE activities SET {}, updated_at = ? WHERE id = ?",
                sets.join(", ")
            ),
            &params,
        )
        .await?;
    }
    let after = tx
        .fetch_optional("SELECT * FROM activities WHERE id = ?", &[Param::Int(id)])
        .await?
        .map(|r| Activity::read(&r))
        .ok_or(StoreError::NotFound("Activity"))?;
    let mut b = snapshot(&before);
    let mut a = snapshot(&after.to_json()?);
    for s in [&mut b, &mut a] {
        let keys: Vec<String> = s.keys().cloned().collect();
        for k in keys {
            s.insert(format!("activity.{id}.{k}"), s[&k].clone());
            s.remove(&k);
        }
    }
    history::record_changes(
        &mut tx,
        ctx.stamp(),
        table.record_type,
        row.int("record_id"),
        &b,
        &a,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Soft-deletes an activity; only its author or an admin may.
pub async fn delete(ctx: Ctx<'_>, id: i64) -> StoreResult<()> {
    let mut tx = ctx.db.begin().await?;
    let (row, table) = load(&mut tx, ctx.actor, id).await?;
    if row.opt_int("owner_id") != Some(ctx.actor.user_id) && !ctx.actor.is_admin() {
        return Err(StoreError::Forbidden(
            "only the author of an activity or an admin may delete it".into(),
        ));
    }
    tx.execute(
        "UPDATE activities SET deleted_at = ? WHERE id = ?",
        &[Param::Int(to_millis(ctx.now)), Param::Int(id)],
    )
    .await?;
    history::record_action(
        &mut tx,
        ctx.stamp(),
        table.record_type,
        row.int("record_id"),
        "activity_delete",
        Some(&json!({ "id": id })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
