//! Announcements as a step of every record's life: each create, change, delete and restore
//! raises its event (`lead.created`, `opportunity.updated`, …) for webhooks, and a lead given
//! to someone other than the person acting tells its new owner.

use crate::channels::{events, notifications};
use crate::error::StoreResult;
use crate::records::lifecycle::{Change, Ctx, Hook, Stamp};
use crate::records::schema::Table;
use async_trait::async_trait;
use serde_json::Value;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::Channel;
use xiansuo_store::Tx;

/// Raises each record's events and announces a lead's new owner.
pub struct Announcements;

#[async_trait]
impl Hook for Announcements {
    async fn created(
        &self,
        tx: &mut Tx,
        stamp: Stamp,
        table: &'static Table,
        record: &Value,
    ) -> anyhow::Result<()> {
        let record_type = table.record_type.code();
        events::emit(
            tx,
            &format!("{record_type}.created"),
            record,
            to_millis(stamp.now),
        )
        .await?;
        // An import tells owners once, in its summary, not once per row.
        if table.record_type == RecordType::Lead && stamp.channel != Channel::Import {
            if let Some(owner) = record["owner_id"].as_i64().filter(|&o| o != stamp.actor_id) {
                owner_announced(tx, record, owner, stamp).await?;
            }
        }
        Ok(())
    }

    async fn changed(
        &self,
        ctx: Ctx<'_>,
        tx: &mut Tx,
        change: &Change<'_>,
        after: Value,
    ) -> StoreResult<Value> {
        let record_type = change.table.record_type.code();
        events::emit(tx, &format!("{record_type}.updated"), &after, change.now).await?;
        if let Some(owner) = change.new_owner {
            if change.table.record_type == RecordType::Lead {
                owner_announced(tx, &after, owner, ctx.stamp()).await?;
            }
        }
        Ok(after)
    }

    async fn deleted(
        &self,
        tx: &mut Tx,
        stamp: Stamp,
        table: &'static Table,
        record: &Value,
        deleted: bool,
    ) -> anyhow::Result<()> {
        let event = if deleted { "deleted" } else { "restored" };
        let record_type = table.record_type.code();
        events::emit(
            tx,
            &format!("{record_type}.{event}"),
            record,
            to_millis(stamp.now),
        )
        .await
    }
}

/// Announces that `lead` (as the API shows it, after the change) has the new owner `owner`:
/// raises `lead.assigned` and tells the owner, unless they gave it to themselves by hand (a rule
/// or a job acting in their name still tells them). Every owner change of a single lead ends
/// here; bulk reassignment raises the events itself and sends one notification for the lot.
pub async fn owner_announced(
    tx: &mut Tx,
    lead: &Value,
    owner: i64,
    stamp: Stamp,
) -> anyhow::Result<()> {
    let now_ms = to_millis(stamp.now);
    events::emit(tx, "lead.assigned", lead, now_ms).await?;
    let by_hand = matches!(stamp.channel, Channel::Ui | Channel::Api | Channel::Import);
    if owner != stamp.actor_id || !by_hand {
        notifications::lead_assigned(tx, owner, lead, now_ms).await?;
    }
    Ok(())
}
