//! In-app notifications: a lead assigned to you, a follow-up due, an SLA escalation, a lead
//! about to be recycled, a conversion. They are written inside the transaction of the change
//! that caused them, and each user reads and dismisses their own.

use crate::error::{StoreError, StoreResult};
use crate::records::rfc3339;
use serde_json::{json, Value};
use xiansuo_core::custom_field::RecordType;
use xiansuo_store::{Db, Param, Row, Tx};

/// One notification to one user.
#[derive(Debug, Clone)]
pub struct Notification<'a> {
    pub user_id: i64,
    /// What happened, as a code: `lead.assigned`, `followup.due`, `sla.escalated`, …
    pub kind: &'a str,
    pub record_type: Option<RecordType>,
    pub record_id: Option<i64>,
    /// A sentence for people, in the recipient's language.
    pub message: String,
    pub now_ms: i64,
}

/// Writes a notification in the transaction `tx`.
pub async fn notify(tx: &mut Tx, n: &Notification<'_>) -> anyhow::Result<()> {
    tx.execute(
        "INSERT INTO notifications (user_id, kind, record_type, record_id, message, created_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
        &[
            Param::Int(n.user_id),
            Param::from(n.kind),
            Param::from(n.record_type.map(RecordType::code)),
            Param::from(n.record_id),
            Param::from(n.message.as_str()),
            Param::Int(n.now_ms),
        ],
    )
    .await?;
    Ok(())
}

fn to_json(r: &Row) -> Value {
    json!({
        "id": r.int("id"),
        "kind": r.text("kind"),
        "record_type": r.opt_text("record_type"),
        "record_id": r.opt_int("record_id"),
        "message": r.text("message"),
        "created_at": rfc3339(r.int("created_at")),
        "read_at": r.opt_int("read_at").map(rfc3339),
    })
}

/// A user's notifications, newest first, and how many are unread.
pub async fn list(
    db: &Db,
    user_id: i64,
    unread_only: bool,
    limit: i64,
) -> anyhow::Result<(Vec<Value>, i64)> {
    let filter = if unread_only {
        " AND read_at IS NULL"
    } else {
        ""
    };
    let rows = db
        .fetch_all(
            &format!(
                "SELECT * FROM notifications WHERE user_id = ?{filter} \
                 ORDER BY created_at DESC, id DESC LIMIT ?"
            ),
            &[Param::Int(user_id), Param::Int(limit)],
        )
        .await?;
    let unread = db
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL",
            &[Param::Int(user_id)],
        )
        .await?
        .map_or(0, |r| r.int("n"));
    Ok((rows.iter().map(to_json).collect(), unread))
}

/// Marks one of the user's notifications read; another user's is not found.
pub async fn mark_read(db: &Db, user_id: i64, id: i64, now_ms: i64) -> StoreResult<Value> {
    let mut tx = db.begin().await?;
    tx.execute(
        "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ? AND user_id = ?",
        &[Param::Int(now_ms), Param::Int(id), Param::Int(user_id)],
    )
    .await?;
    let row = tx
        .fetch_optional(
            "SELECT * FROM notifications WHERE id = ? AND user_id = ?",
            &[Param::Int(id), Param::Int(user_id)],
        )
        .await?
        .ok_or(StoreError::NotFound("notification"))?;
    tx.commit().await?;
    Ok(to_json(&row))
}

/// Marks all of the user's notifications read; returns how many were unread.
pub async fn mark_all_read(db: &Db, user_id: i64, now_ms: i64) -> anyhow::Result<u64> {
    db.execute(
        "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL",
        &[Param::Int(now_ms), Param::Int(user_id)],
    )
    .await
}

/// Tells `owner` that the lead `lead` (as the API shows it) is now theirs, in their language.
pub async fn lead_assigned(
    tx: &mut Tx,
    owner: i64,
    lead: &Value,
    now_ms: i64,
) -> anyhow::Result<()> {
    let locale = tx
        .fetch_optional(
            "SELECT locale FROM users WHERE id = ?",
            &[Param::Int(owner)],
        )
        .await?
        .map_or_else(|| "zh".to_owned(), |r| r.text("locale"));
    let name = lead["name"].as_str().unwrap_or_default();
    let message = if locale == "en" {
        format!("Lead {name} is now yours")
    } else {
        format!("线索「{name}」已分配给你")
    };
    notify(
        tx,
        &Notification {
            user_id: owner,
            kind: "lead.assigned",
            record_type: Some(RecordType::Lead),
            record_id: lead["id"].as_i64(),
            message,
            now_ms,
        },
    )
    .await
}
