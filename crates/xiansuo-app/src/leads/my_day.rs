//! What "my day" (今日待办) gathers besides the due follow-ups of [`crate::leads::followups::due`]
//! and the pools of [`crate::leads::pool`]: the recent notices about leads — new assignments, SLA
//! escalations and reassignments, warnings that a lead is about to be recycled — addressed to
//! the actor or, for a manager, to anyone in their scope, so that a manager sees the team's.
//!
//! A notice is shown while it still matters: its lead exists and is open, and for an
//! assignment or a recycle warning the lead is still held by the one who was told.

use crate::error::StoreResult;
use crate::records::rfc3339;
use crate::scope::Actor;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use xiansuo_core::clock::to_millis;
use xiansuo_store::Db;
use xiansuo_store::Param;

/// What a notice on "my day" is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A lead was given to someone (`lead.assigned`).
    Assigned,
    /// An SLA rule escalated or took a lead (`sla.escalated`, `sla.reassigned`).
    Sla,
    /// A lead will go back to the pool soon (`lead.recycle_warning`).
    RecycleWarning,
}

impl NoticeKind {
    fn kinds(self) -> &'static [&'static str] {
        match self {
            NoticeKind::Assigned => &["lead.assigned"],
            NoticeKind::Sla => &["sla.escalated", "sla.reassigned"],
            NoticeKind::RecycleWarning => &["lead.recycle_warning"],
        }
    }

    /// Whether the notice matters only while its lead is held by the one it told.
    fn needs_holder(self) -> bool {
        self != NoticeKind::Sla
    }
}

/// The notices of one kind from `since` on, newest first, at most `limit`: `{"id", "kind",
/// "message", "created_at", "user_id", "lead_id", "lead_name", "lead_owner_id"}`.
pub async fn notices(
    db: &Db,
    actor: &Actor,
    kind: NoticeKind,
    since: DateTime<Utc>,
    limit: i64,
) -> StoreResult<Vec<Value>> {
    let kinds = kind.kinds();
    let marks = vec!["?"; kinds.len()].join(", ");
    let holder = if kind.needs_holder() {
        " AND l.owner_id = n.user_id"
    } else {
        ""
    };
    let sql = format!(
        "SELECT n.id, n.kind, n.message, n.created_at, n.user_id, l.id AS lead_id, \
         l.name AS lead_name, l.owner_id AS lead_owner_id \
         FROM notifications n JOIN leads l ON l.id = n.record_id \
         WHERE n.record_type = 'lead' AND n.kind IN ({marks}) AND n.created_at >= ? \
         AND l.deleted_at IS NULL AND l.status NOT IN ('converted', 'disqualified'){holder}{} \
         ORDER BY n.created_at DESC, n.id DESC LIMIT {limit}",
        actor.scope_clause_on("n.user_id")
    );
    let mut params: Vec<Param> = kinds.iter().map(|k| Param::from(*k)).collect();
    params.push(Param::Int(to_millis(since)));
    Ok(db
        .fetch_all(&sql, &params)
        .await?
        .iter()
        .map(|r| {
            json!({
                "id": r.int("id"),
                "kind": r.text("kind"),
                "message": r.text("message"),
                "created_at": rfc3339(r.int("created_at")),
                "user_id": r.int("user_id"),
                "lead_id": r.int("lead_id"),
                "lead_name": r.text("lead_name"),
                "lead_owner_id": r.opt_int("lead_owner_id"),
            })
        })
        .collect())
}
