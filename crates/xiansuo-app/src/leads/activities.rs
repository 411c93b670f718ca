//! Follow-ups (跟进记录): calls, emails, meetings, visits, WeChat messages and notes logged on a
//! lead, account, contact or opportunity. An activity is visible to whoever can see its record;
//! it is recorded in that record's history, and the first one on a new lead moves it to working.

use crate::error::{StoreError, StoreResult};
use crate::records::history;
use crate::records::schema::Table;
use crate::records::{self, choices, rfc3339, Ctx};
use crate::scope::Actor;
use serde_json::{json, Map, Value};
use xiansuo_core::choice::{ChoiceKind, Choices};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::snapshot;
use xiansuo_core::lead::{ActivityType, LeadStatus};
use xiansuo_core::{Invalid, Text};
use xiansuo_store::{Db, Param, Row, Tx};

const FIELDS: &[&str] = &["type", "outcome", "content", "next_follow_up_at"];

/// A follow-up as the API and exports show it.
pub(crate) fn to_json(r: &Row) -> Value {
    json!({
        "id": r.int("id"),
        "external_id": r.opt_text("external_id"),
        "record_type": r.text("record_type"),
        "record_id": r.int("record_id"),
        "type": r.text("type"),
        "outcome": r.opt_text("outcome"),
        "content": r.opt_text("content"),
        "next_follow_up_at": r.opt_int("next_follow_up_at").map(rfc3339),
        "owner_id": r.opt_int("owner_id"),
        "created_by": r.opt_int("created_by"),
        "created_at": rfc3339(r.int("created_at")),
        "updated_at": rfc3339(r.int("updated_at")),
    })
}

/// Parses the fields of an activity body; `creating` requires `type`.
fn parse(
    body: &Value,
    choices: &Choices,
    creating: bool,
) -> StoreResult<Vec<(&'static str, Param)>> {
    let obj: &Map<String, Value> = body
        .as_object()
        .ok_or_else(|| Invalid::new("body", "must be a JSON object"))?;
    if let Some(extra) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(Invalid::new(
            extra.as_str(),
            format!(
                "is not a field of an activity (accepted: {})",
                FIELDS.join(", ")
            ),
        )
        .into());
    }
    let mut out = Vec::new();
    let string = |name: &str| -> StoreResult<Option<&str>> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Invalid::new(name, "must be a string").into()),
        }
    };
    match string("type")? {
        Some(t) => out.push(("type", Param::from(ActivityType::parse(t)?.code()))),
        None if creating || obj.contains_key("type") => {
            return Err(Invalid::new("type", "is required").into())
        }
        None => {}
    }
    if obj.contains_key("outcome") {
        out.push((
            "outcome",
            Param::from(
                string("outcome")?
                    .map(|o| choices.parse_listed(ChoiceKind::Outcome, "outcome", o))
                    .transpose()?,
            ),
        ));
    }
    if obj.contains_key("content") {
        let content = string("content")?
            .map(|s| Text::parse_optional("content", s, 10_000))
            .transpose()?
            .flatten();
        out.push(("content", Param::from(content.map(Text::into_string))));
    }
    if obj.contains_key("next_follow_up_at") {
        let at = string("next_follow_up_at")?
            .map(|s| {
                xiansuo_core::validation::instant("next_follow_up_at", s)
                    .map(|t| t.timestamp_millis())
            })
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

/// Logs an activity on a record.
pub async fn create(
    ctx: Ctx<'_>,
    table: &'static Table,
    record_id: i64,
    body: &Value,
) -> StoreResult<Value> {
    let fields = parse(body, &*choices::all(ctx.db).await?, true)?;
    let mut tx = ctx.db.begin().await?;
    let row = parent(&mut tx, ctx.actor, table, record_id).await?;
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
        .map(|r| to_json(&r))
        .ok_or(StoreError::NotFound("Activity"))?;
    history::record_action(
        &mut tx,
        ctx.stamp(),
        table.record_type,
        record_id,
        "activity",
        Some(&activity),
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
    crate::channels::events::emit(&mut tx, "activity.created", &activity, now).await?;
    tx.commit().await?;
    Ok(activity)
}

/// The activities of a record, newest first.
pub async fn list(
    db: &Db,
    actor: &Actor,
    table: &'static Table,
    record_id: i64,
) -> StoreResult<Vec<Value>> {
    records::get(db, actor, table, record_id).await?;
    // An account also shows the follow-ups of the leads converted into it.
    let (shown, params) = crate::leads::conversion::activity_condition(table, record_id);
    Ok(db
        .fetch_all(
            &format!("SELECT * FROM activities WHERE {shown} AND deleted_at IS NULL ORDER BY created_at DESC, id DESC"),
            &params,
        )
        .await?
        .iter()
        .map(to_json)
        .collect())
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
pub async fn get(db: &Db, actor: &Actor, id: i64) -> StoreResult<Value> {
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
    Ok(to_json(&row))
}

/// Changes an activity; only its author or an admin may.
pub async fn update(ctx: Ctx<'_>, id: i64, body: &Value) -> StoreResult<Value> {
    let fields = parse(body, &*choices::all(ctx.db).await?, false)?;
    let mut tx = ctx.db.begin().await?;
    let (row, table) = load(&mut tx, ctx.actor, id).await?;
    if row.opt_int("owner_id") != Some(ctx.actor.user_id) && !ctx.actor.is_admin() {
        return Err(StoreError::Forbidden(
            "only the author of an activity or an admin may change it".into(),
        ));
    }
    let before = to_json(&row);
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
        .map(|r| to_json(&r))
        .ok_or(StoreError::NotFound("Activity"))?;
    let mut b = snapshot(&before);
    let mut a = snapshot(&after);
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
