//! Undoing a conversion made by mistake (`POST /api/v1/leads/{id}/conversion/undo`), and the
//! accounts a conversion would link to, which the conversion page suggests.
//!
//! An undo reopens the lead with the status it had before the conversion and clears its links.
//! What the conversion created is archived (soft-deleted, so it can be restored) unless
//! something else uses it by now: an opportunity that was won or lost or has follow-ups, a
//! contact with other deals or follow-ups, an account with other contacts, deals, converted
//! leads or follow-ups. An existing account the conversion linked to is never touched. Both the
//! conversion and its undo stay in the lead's history, and every record archived or kept says
//! so in its own. Everything happens in one transaction.
//!
//! The lead's owner, a manager whose scope covers the lead and admins may undo; a lead outside
//! the caller's scope is a 404 and a lead that is not converted a 409.

use crate::channels::events;
use crate::error::{StoreError, StoreResult};
use crate::leads::conversion::lead_schema;
use crate::records::history;
use crate::records::schema::{Table, ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES};
use crate::records::{self, Ctx};
use crate::scope::Actor;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::snapshot;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::role::Role;
use xiansuo_core::schema;
use xiansuo_store::Db;
use xiansuo_store::{Dialect, Param, Tx};

/// The most accounts the conversion page suggests.
const SUGGESTED: i64 = 10;

/// The accounts the actor may see whose company key is the lead's, oldest first: those a
/// conversion would link the lead to (the first one when none is chosen).
pub async fn matching_accounts(db: &Db, actor: &Actor, lead: &Value) -> StoreResult<Vec<Value>> {
    let Some(key) = lead["company_key"].as_str().filter(|k| !k.is_empty()) else {
        return Ok(Vec::new());
    };
    let rows = db
        .fetch_all(
            &format!(
                "SELECT * FROM accounts WHERE company_key = ? AND deleted_at IS NULL{} \
                 ORDER BY id LIMIT {SUGGESTED}",
                actor.scope_clause()
            ),
            &[Param::from(key)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let mut account = records::to_json(&ACCOUNTS, r);
            actor.mask(&mut account);
            account
        })
        .collect())
}

/// One record the conversion created, and what became of it.
struct Created {
    table: &'static Table,
    id: i64,
    /// Why it was kept; `None` when it was archived.
    kept: Option<&'static str>,
}

/// How many rows `sql` counts.
async fn count(tx: &mut Tx, sql: &str, params: &[Param]) -> StoreResult<i64> {
    Ok(tx
        .fetch_optional(&format!("SELECT COUNT(*) AS n FROM {sql}"), params)
        .await?
        .map_or(0, |r| r.int("n")))
}

/// Follow-ups logged on a record.
async fn activities_on(tx: &mut Tx, record_type: RecordType, id: i64) -> StoreResult<i64> {
    count(
        tx,
        "activities WHERE record_type = ? AND record_id = ? AND deleted_at IS NULL",
        &[Param::from(record_type.code()), Param::Int(id)],
    )
    .await
}

/// The status the lead had before it was converted, from its history (`qualified` when the
/// history does not say, as for a lead imported as converted).
async fn status_before(tx: &mut Tx, lead_id: i64) -> StoreResult<String> {
    let converted = Value::from(LeadStatus::Converted.code()).to_string();
    let row = tx
        .fetch_optional(
            "SELECT old_value FROM history WHERE record_type = ? AND record_id = ? \
             AND action = 'update' AND field = 'status' AND new_value = ? ORDER BY id DESC LIMIT 1",
            &[
                Param::from(RecordType::Lead.code()),
                Param::Int(lead_id),
                Param::from(converted.as_str()),
            ],
        )
        .await?;
    let old = row
        .and_then(|r| r.opt_text("old_value"))
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|s| s != LeadStatus::Converted.code());
    Ok(old.unwrap_or_else(|| LeadStatus::Qualified.code().to_owned()))
}

/// Whether the conversion created the account, from the lead's last `convert` history entry.
async fn account_created(tx: &mut Tx, lead_id: i64) -> StoreResult<bool> {
    let row = tx
        .fetch_optional(
            "SELECT new_value FROM history WHERE record_type = ? AND record_id = ? \
             AND action = 'convert' ORDER BY id DESC LIMIT 1",
            &[Param::from(RecordType::Lead.code()), Param::Int(lead_id)],
        )
        .await?;
    Ok(row
        .and_then(|r| r.opt_text("new_value"))
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v["account_created"].as_bool())
        .unwrap_or(false))
}

/// Whether a record exists and is not archived already.
async fn live(tx: &mut Tx, table: &Table, id: i64) -> StoreResult<bool> {
    Ok(count(
        tx,
        &format!("{} WHERE id = ? AND deleted_at IS NULL", table.name),
        &[Param::Int(id)],
    )
    .await?
        > 0)
}

/// What uses the opportunity besides the conversion, if anything.
async fn opportunity_use(tx: &mut Tx, id: i64) -> StoreResult<Option<&'static str>> {
    let closed = count(
        tx,
        "opportunities WHERE id = ? AND result <> 'open'",
        &[Param::Int(id)],
    )
    .await?;
    if closed > 0 {
        return Ok(Some("closed"));
    }
    if activities_on(tx, RecordType::Opportunity, id).await? > 0 {
        return Ok(Some("activities"));
    }
    Ok(None)
}

/// What uses the contact besides the conversion's own opportunity (`archived_opportunity`,
/// when that is being archived), if anything.
async fn contact_use(
    tx: &mut Tx,
    id: i64,
    lead_id: i64,
    archived_opportunity: Option<i64>,
) -> StoreResult<Option<&'static str>> {
    let deals = count(
        tx,
        "opportunities WHERE contact_id = ? AND deleted_at IS NULL AND id <> ?",
        &[
            Param::Int(id),
            Param::Int(archived_opportunity.unwrap_or(0)),
        ],
    )
    .await?;
    if deals > 0 {
        return Ok(Some("opportunities"));
    }
    let leads = count(
        tx,
        "leads WHERE converted_contact_id = ? AND id <> ?",
        &[Param::Int(id), Param::Int(lead_id)],
    )
    .await?;
    if leads > 0 {
        return Ok(Some("leads"));
    }
    if activities_on(tx, RecordType::Contact, id).await? > 0 {
        return Ok(Some("activities"));
    }
    Ok(None)
}

/// What uses the account besides the conversion's own contact and opportunity (each given
/// when it is being archived), if anything.
async fn account_use(
    tx: &mut Tx,
    id: i64,
    lead_id: i64,
    archived_contact: Option<i64>,
    archived_opportunity: Option<i64>,
) -> StoreResult<Option<&'static str>> {
    let contacts = count(
        tx,
        "contacts WHERE account_id = ? AND deleted_at IS NULL AND id <> ?",
        &[Param::Int(id), Param::Int(archived_contact.unwrap_or(0))],
    )
    .await?;
    if contacts > 0 {
        return Ok(Some("contacts"));
    }
    let deals = count(
        tx,
        "opportunities WHERE account_id = ? AND deleted_at IS NULL AND id <> ?",
        &[
            Param::Int(id),
            Param::Int(archived_opportunity.unwrap_or(0)),
        ],
    )
    .await?;
    if deals > 0 {
        return Ok(Some("opportunities"));
    }
    let leads = count(
        tx,
        "leads WHERE converted_account_id = ? AND id <> ?",
        &[Param::Int(id), Param::Int(lead_id)],
    )
    .await?;
    if leads > 0 {
        return Ok(Some("leads"));
    }
    if activities_on(tx, RecordType::Account, id).await? > 0 {
        return Ok(Some("activities"));
    }
    Ok(None)
}

/// Refuses an undo to a rep who does not own the lead: reopening someone else's customer is
/// for them or their manager.
fn check_may_undo(actor: &Actor, lead: &Value) -> StoreResult<()> {
    let owner = lead["owner_id"].as_i64();
    if actor.role == Role::Rep && owner != Some(actor.user_id) {
        return Err(StoreError::Forbidden(
            "only the lead's owner, a manager or an admin may undo its conversion".into(),
        ));
    }
    Ok(())
}

/// What undoing a conversion did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConversionUndo, description = "What undoing the conversion did")]
pub struct Undone {
    /// The lead as its own endpoint shows it, custom fields and all
    #[schema(schema_with = lead_schema)]
    pub lead: Value,
    /// Records the conversion created, now archived
    pub archived: Vec<Archived>,
    /// Records the conversion created that something else uses by now
    pub kept: Vec<Kept>,
}

/// A record the conversion created, archived by the undo.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "An archived record")]
pub struct Archived {
    #[serde(rename = "type")]
    #[schema(schema_with = created_type_schema)]
    pub record_type: String,
    /// Its id
    #[schema(minimum = 1)]
    pub id: i64,
}

/// A record the conversion created, kept because something else uses it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "A kept record")]
pub struct Kept {
    #[serde(rename = "type")]
    #[schema(schema_with = created_type_schema)]
    pub record_type: String,
    /// Its id
    #[schema(minimum = 1)]
    pub id: i64,
    #[schema(schema_with = kept_reason_schema)]
    pub reason: String,
}

fn created_type_schema() -> ObjectBuilder {
    schema::codes(["account", "contact", "opportunity"], false, "Record type")
}

fn kept_reason_schema() -> ObjectBuilder {
    schema::codes(
        ["closed", "activities", "opportunities", "contacts", "leads"],
        false,
        "What uses it: the deal was won or lost, follow-ups, other deals, contacts or converted \
         leads",
    )
}

/// Undoes a lead's conversion: see the module documentation.
pub async fn undo(ctx: Ctx<'_>, lead_id: i64) -> StoreResult<Undone> {
    let now = to_millis(ctx.now);
    let stamp = ctx.stamp();
    let mut tx = ctx.db.begin().await?;
    let lock = if tx.dialect() == Dialect::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT * FROM leads WHERE id = ? AND deleted_at IS NULL{}{lock}",
                ctx.actor.scope_clause()
            ),
            &[Param::Int(lead_id)],
        )
        .await?
        .ok_or(StoreError::NotFound(LEADS.schema))?;
    let before = records::to_json(&LEADS, &row);
    check_may_undo(ctx.actor, &before)?;
    if before["status"].as_str() != Some(LeadStatus::Converted.code()) {
        return Err(StoreError::Conflict(
            "the lead is not converted, so there is no conversion to undo".into(),
        ));
    }
    let account_id = before["converted_account_id"].as_i64();
    let contact_id = before["converted_contact_id"].as_i64();
    let opportunity_id = before["converted_opportunity_id"].as_i64();

    // Decided in this order because each may free the next: an archived deal no longer
    // holds its contact, an archived contact no longer holds its account.
    let mut created = Vec::new();
    if let Some(id) = opportunity_id {
        if live(&mut tx, &OPPORTUNITIES, id).await? {
            let kept = opportunity_use(&mut tx, id).await?;
            created.push(Created {
                table: &OPPORTUNITIES,
                id,
                kept,
            });
        }
    }
    let archived = |created: &[Created], table: &Table| {
        created
            .iter()
            .find(|c| c.table.name == table.name && c.kept.is_none())
            .map(|c| c.id)
    };
    if let Some(id) = contact_id {
        if live(&mut tx, &CONTACTS, id).await? {
            let freed = archived(&created, &OPPORTUNITIES);
            let kept = contact_use(&mut tx, id, lead_id, freed).await?;
            created.push(Created {
                table: &CONTACTS,
                id,
                kept,
            });
        }
    }
    let account_was_created = account_created(&mut tx, lead_id).await?;
    if let Some(id) = account_id.filter(|_| account_was_created) {
        if live(&mut tx, &ACCOUNTS, id).await? {
            let contact = archived(&created, &CONTACTS);
            let deal = archived(&created, &OPPORTUNITIES);
            let kept = account_use(&mut tx, id, lead_id, contact, deal).await?;
            created.push(Created {
                table: &ACCOUNTS,
                id,
                kept,
            });
        }
    }

    for c in &created {
        let values =
            json!({"lead_id": lead_id, "archived": c.kept.is_none(), "kept_because": c.kept});
        if c.kept.is_none() {
            tx.execute(
                &format!(
                    "UPDATE {} SET deleted_at = ?, updated_at = ? WHERE id = ?",
                    c.table.name
                ),
                &[Param::Int(now), Param::Int(now), Param::Int(c.id)],
            )
            .await?;
        }
        history::record_action(
            &mut tx,
            stamp,
            c.table.record_type,
            c.id,
            "conversion_undone",
            Some(&values),
        )
        .await?;
        if c.kept.is_none() {
            let record = tx
                .fetch_optional(
                    &format!("SELECT * FROM {} WHERE id = ?", c.table.name),
                    &[Param::Int(c.id)],
                )
                .await?
                .map(|r| records::to_json(c.table, &r))
                .unwrap_or(Value::Null);
            let event = format!("{}.deleted", c.table.record_type.code());
            events::emit(&mut tx, &event, &record, now).await?;
        }
    }
    if let Some(id) = account_id.filter(|_| !account_was_created) {
        history::record_action(
            &mut tx,
            stamp,
            RecordType::Account,
            id,
            "conversion_undone",
            Some(&json!({"lead_id": lead_id, "archived": false, "kept_because": "existing"})),
        )
        .await?;
    }

    let status = status_before(&mut tx, lead_id).await?;
    tx.execute(
        "UPDATE leads SET status = ?, converted_account_id = NULL, converted_contact_id = NULL, \
         converted_opportunity_id = NULL, converted_at = NULL, updated_at = ? WHERE id = ?",
        &[
            Param::from(status.as_str()),
            Param::Int(now),
            Param::Int(lead_id),
        ],
    )
    .await?;
    let after = tx
        .fetch_optional("SELECT * FROM leads WHERE id = ?", &[Param::Int(lead_id)])
        .await?
        .map(|r| records::to_json(&LEADS, &r))
        .ok_or(StoreError::NotFound(LEADS.schema))?;
    history::record_changes(
        &mut tx,
        stamp,
        RecordType::Lead,
        lead_id,
        &snapshot(&before),
        &snapshot(&after),
    )
    .await?;
    let archived: Vec<Archived> = created
        .iter()
        .filter(|c| c.kept.is_none())
        .map(|c| Archived {
            record_type: c.table.record_type.code().to_owned(),
            id: c.id,
        })
        .collect();
    let kept: Vec<Kept> = created
        .iter()
        .filter_map(|c| {
            Some(Kept {
                record_type: c.table.record_type.code().to_owned(),
                id: c.id,
                reason: c.kept?.to_owned(),
            })
        })
        .collect();
    history::record_action(
        &mut tx,
        stamp,
        RecordType::Lead,
        lead_id,
        "convert_undo",
        Some(&json!({
            "account_id": account_id,
            "contact_id": contact_id,
            "opportunity_id": opportunity_id,
            "archived": archived,
            "kept": kept,
        })),
    )
    .await?;
    events::emit(&mut tx, "lead.updated", &after, now).await?;
    tx.commit().await?;
    let mut lead = after;
    ctx.actor.mask(&mut lead);
    Ok(Undone {
        lead,
        archived,
        kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, user_id: i64) -> Actor {
        Actor {
            user_id,
            username: "u".into(),
            role,
            team_id: None,
            locale: "zh".into(),
            visible_owners: (role != Role::Admin).then(|| vec![user_id, 7]),
            mask_phones: false,
            access: xiansuo_core::role::TokenScope::Admin,
        }
    }

    #[test]
    fn a_rep_may_undo_only_their_own_leads_conversion() {
        let lead = json!({"owner_id": 7});
        assert!(check_may_undo(&actor(Role::Rep, 7), &lead).is_ok());
        assert!(matches!(
            check_may_undo(&actor(Role::Rep, 8), &lead),
            Err(StoreError::Forbidden(_))
        ));
        assert!(check_may_undo(&actor(Role::Manager, 8), &lead).is_ok());
        assert!(check_may_undo(&actor(Role::Admin, 8), &lead).is_ok());
    }
}
