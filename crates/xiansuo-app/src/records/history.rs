//! Writing and reading the audit history. Creation is recorded as one entry holding the
//! record's first values; every later change is one entry per changed field, with old and new
//! value; deletes, restores and other actions are entries of their own.

use crate::error::{StoreError, StoreResult};
use crate::records::json::rfc3339;
use crate::records::lifecycle::Stamp;
use crate::records::schema::Table;
use crate::scope::Actor;
use serde_json::{json, Value};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::{diff, snapshot, Snapshot};
use xiansuo_store::{Db, Param, Tx};

const INSERT: &str = "INSERT INTO history (record_type, record_id, action, field, old_value, new_value, actor_id, channel, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

#[allow(clippy::too_many_arguments)]
fn entry(
    stamp: Stamp,
    record_type: RecordType,
    id: i64,
    action: &str,
    field: Option<&str>,
    old: Option<String>,
    new: Option<String>,
) -> Vec<Param> {
    vec![
        Param::from(record_type.code()),
        Param::Int(id),
        Param::from(action),
        Param::from(field),
        Param::from(old),
        Param::from(new),
        Param::Int(stamp.actor_id),
        Param::from(stamp.channel.code()),
        Param::Int(to_millis(stamp.now)),
    ]
}

/// Records the creation of records, each with its first values, in one statement.
pub async fn record_created(
    tx: &mut Tx,
    created: &[(Stamp, RecordType, &Value)],
) -> anyhow::Result<()> {
    if created.is_empty() {
        return Ok(());
    }
    let mut params = Vec::with_capacity(created.len() * 9);
    for (stamp, record_type, record) in created {
        let values: serde_json::Map<String, Value> = snapshot(record)
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .collect();
        params.extend(entry(
            *stamp,
            *record_type,
            record["id"].as_i64().unwrap_or_default(),
            "create",
            None,
            None,
            Some(Value::Object(values).to_string()),
        ));
    }
    let (head, row) = INSERT.split_at(INSERT.find(" VALUES ").unwrap_or(INSERT.len()));
    let rows = vec![row.trim_start_matches(" VALUES "); created.len()].join(", ");
    tx.execute(&format!("{head} VALUES {rows}"), &params)
        .await?;
    Ok(())
}

/// Records one entry per changed field; returns how many fields changed.
pub async fn record_changes(
    tx: &mut Tx,
    stamp: Stamp,
    record_type: RecordType,
    id: i64,
    before: &Snapshot,
    after: &Snapshot,
) -> anyhow::Result<usize> {
    let changes = diff(before, after);
    for change in &changes {
        tx.execute(
            INSERT,
            &entry(
                stamp,
                record_type,
                id,
                "update",
                Some(&change.field),
                Some(change.old.to_string()),
                Some(change.new.to_string()),
            ),
        )
        .await?;
    }
    Ok(changes.len())
}

/// Records an action that is not a field change (delete, restore, an activity logged, …), with
/// the values it carried, if any.
pub async fn record_action(
    tx: &mut Tx,
    stamp: Stamp,
    record_type: RecordType,
    id: i64,
    action: &str,
    values: Option<&Value>,
) -> anyhow::Result<()> {
    tx.execute(
        INSERT,
        &entry(
            stamp,
            record_type,
            id,
            action,
            None,
            None,
            values.map(Value::to_string),
        ),
    )
    .await?;
    Ok(())
}

/// The history of a record the actor can see, oldest first.
pub async fn read(
    db: &Db,
    actor: &Actor,
    table: &'static Table,
    id: i64,
) -> StoreResult<Vec<Value>> {
    let scope = actor.scope_clause();
    db.fetch_optional(
        &format!("SELECT id FROM {} WHERE id = ?{scope}", table.name),
        &[Param::Int(id)],
    )
    .await?
    .ok_or(StoreError::NotFound(table.schema))?;
    let rows = db
        .fetch_all(
            "SELECT h.id, h.action, h.field, h.old_value, h.new_value, h.actor_id, u.username, h.channel, h.at \
             FROM history h LEFT JOIN users u ON u.id = h.actor_id \
             WHERE h.record_type = ? AND h.record_id = ? ORDER BY h.id",
            &[Param::from(table.record_type.code()), Param::Int(id)],
        )
        .await?;
    let parse = |s: Option<String>| {
        s.and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .unwrap_or(Value::Null)
    };
    // Phone values are masked for those who may not see them, as in the record itself.
    let masked = |field: Option<&str>, mut value: Value| {
        match field {
            None => actor.mask(&mut value),
            Some(name) => actor.mask_field(name, &mut value),
        }
        value
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let field = r.opt_text("field");
            json!({
                "id": r.int("id"),
                "action": r.text("action"),
                "old_value": masked(field.as_deref(), parse(r.opt_text("old_value"))),
                "new_value": masked(field.as_deref(), parse(r.opt_text("new_value"))),
                "field": field,
                "actor_id": r.opt_int("actor_id"),
                "actor": r.opt_text("username"),
                "channel": r.text("channel"),
                "at": rfc3339(r.int("at")),
            })
        })
        .collect())
}
