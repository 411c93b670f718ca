//! Domain events: the one place where a committed change announces itself (lead.created,
//! lead.updated, lead.assigned, lead.converted, lead.merged, opportunity.stage_changed, …).
//! [`emit`] runs inside the transaction that made the change, so whatever hangs off an event
//! (webhook deliveries, robot messages) is queued if and only if the change commits: an outbox.

use crate::channels::{robots, webhooks};
use serde_json::Value;
use xiansuo_store::Tx;

/// Raises `event` with `payload` (the record as the API shows it, or a small object naming
/// what changed) in the transaction `tx`, at `now_ms`: queues a delivery to every active
/// webhook subscribed to it and a message to every active robot that wants to hear of it.
pub async fn emit(tx: &mut Tx, event: &str, payload: &Value, now_ms: i64) -> anyhow::Result<()> {
    webhooks::fan_out(tx, event, payload, now_ms).await?;
    robots::fan_out(tx, event, payload, now_ms).await
}
