//! Bulk work on leads: one action — give to an owner, change the status, add a tag, return to
//! the public pool, delete — over many leads, chosen one by one or as every lead a list's
//! filters match. Each lead goes through the same use case as a single change, with the actor's
//! data scope, and the summary says which were done and why the others were skipped (outside
//! the scope, converted, refused by a rule), instead of failing the lot for one of them.

use crate::error::{StoreError, StoreResult};
use crate::leads::assignment;
use crate::leads::pool;
use crate::records::schema::LEADS;
use crate::records::{self, Ctx};
use crate::scope::Actor;
use serde_json::{json, Value};
use xiansuo_core::lead::{parse_tag, LeadStatus};
use xiansuo_core::Invalid;
use xiansuo_store::Db;

/// The most leads one bulk action covers; "every matching lead" stops there.
pub const MAX_LEADS: usize = 1000;

/// What to do with each lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Give the leads to this user (转移负责人).
    Assign { owner: i64 },
    /// Set the status; `disqualified` needs a reason, kept in `disqualify_reason`.
    Status {
        status: LeadStatus,
        reason: Option<String>,
    },
    /// Add this tag.
    Tag { tag: String },
    /// Return the leads to the public pool, with why.
    Release { reason: String },
    /// Delete the leads (they can be restored).
    Delete,
}

impl Action {
    /// Reads an action from its code and the values a person entered; a missing or bad value
    /// is an [`Invalid`] naming its field.
    pub fn parse(
        code: &str,
        owner: &str,
        status: &str,
        reason: &str,
        tag: &str,
    ) -> StoreResult<Self> {
        let reason = reason.trim();
        Ok(match code {
            "assign" => Action::Assign {
                owner: owner
                    .trim()
                    .parse()
                    .map_err(|_| Invalid::new("owner_id", "is required and must be a user id"))?,
            },
            "status" => {
                let status = LeadStatus::parse(status.trim())
                    .map_err(|e| Invalid::new("status", e.message))?;
                if status == LeadStatus::Converted {
                    return Err(Invalid::new(
                        "status",
                        "a lead becomes converted only by converting it",
                    )
                    .into());
                }
                let reason = if status == LeadStatus::Disqualified {
                    if reason.is_empty() {
                        return Err(Invalid::new(
                            "disqualify_reason",
                            "say why the leads are disqualified",
                        )
                        .into());
                    }
                    Some(reason.to_owned())
                } else {
                    None
                };
                Action::Status { status, reason }
            }
            "tag" => Action::Tag {
                tag: parse_tag(tag.trim()).map_err(|e| Invalid::new("tag", e.message))?,
            },
            "release" => {
                if reason.is_empty() {
                    return Err(
                        Invalid::new("reason", "say why the lead goes back to the pool").into(),
                    );
                }
                Action::Release {
                    reason: reason.to_owned(),
                }
            }
            "delete" => Action::Delete,
            _ => {
                return Err(Invalid::new(
                    "action",
                    "must be assign, status, tag, release or delete",
                )
                .into())
            }
        })
    }
}

/// A lead the action left alone, and why.
#[derive(Debug)]
pub struct Skipped {
    pub id: i64,
    pub error: StoreError,
}

/// What a bulk action did.
#[derive(Debug, Default)]
pub struct Summary {
    pub done: Vec<i64>,
    pub skipped: Vec<Skipped>,
}

/// The ids of the leads the lead list with these filters shows the actor, in its order, at most
/// [`MAX_LEADS`], with how many match in all.
pub async fn matching(
    db: &Db,
    actor: &Actor,
    filters: &[(String, String)],
) -> StoreResult<(Vec<i64>, i64)> {
    let mut ids = Vec::new();
    let mut total = None;
    let mut cursor: Option<String> = None;
    loop {
        let mut params: Vec<(String, String)> = filters
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "limit" | "cursor" | "count"))
            .cloned()
            .collect();
        params.push(("limit".into(), "500".into()));
        if total.is_none() {
            params.push(("count".into(), "true".into()));
        }
        if let Some(c) = &cursor {
            params.push(("cursor".into(), c.clone()));
        }
        let page = records::list(db, actor, &LEADS, &params).await?;
        total = total.or(page.total);
        ids.extend(page.items.iter().filter_map(|lead| lead["id"].as_i64()));
        match page.next_cursor {
            Some(next) if ids.len() < MAX_LEADS => cursor = Some(next),
            _ => break,
        }
    }
    ids.truncate(MAX_LEADS);
    Ok((ids, total.unwrap_or_default()))
}

/// Applies `action` to each lead, skipping those it cannot apply to. An assignment moves all
/// the leads it may in one transaction (one notification to the new owner for the lot); the
/// other actions change each lead on its own, as a single change would.
pub async fn run(ctx: Ctx<'_>, ids: &[i64], action: &Action) -> StoreResult<Summary> {
    if ids.len() > MAX_LEADS {
        return Err(
            Invalid::new("lead_ids", format!("at most {MAX_LEADS} leads at a time")).into(),
        );
    }
    let mut summary = Summary::default();
    if let Action::Assign { owner } = action {
        let mut movable = Vec::with_capacity(ids.len());
        for &id in ids {
            match records::get(ctx.db, ctx.actor, &LEADS, id).await {
                Ok(lead) if lead["status"] == LeadStatus::Converted.code() => {
                    summary.skipped.push(Skipped {
                        id,
                        error: StoreError::Conflict(format!(
                            "lead {id} is converted and read-only"
                        )),
                    });
                }
                Ok(_) => movable.push(id),
                Err(error @ StoreError::NotFound(_)) => summary.skipped.push(Skipped { id, error }),
                Err(e) => return Err(e),
            }
        }
        if !movable.is_empty() {
            assignment::assign(ctx, &movable, *owner).await?;
        }
        summary.done = movable;
        return Ok(summary);
    }
    for &id in ids {
        let result = match action {
            Action::Assign { .. } => unreachable!("assignments are handled above"),
            Action::Status { status, reason } => {
                let mut body = json!({ "status": status.code() });
                if let Some(reason) = reason {
                    body["disqualify_reason"] = json!(reason);
                }
                records::update(ctx, &LEADS, id, &body).await.map(drop)
            }
            Action::Tag { tag } => add_tag(ctx, id, tag).await,
            Action::Release { reason } => {
                let release = pool::LeadRelease {
                    reason: reason.clone(),
                    pool_id: None,
                };
                pool::release(ctx, id, release.into()).await.map(drop)
            }
            Action::Delete => records::delete(ctx, &LEADS, id).await,
        };
        match result {
            Ok(()) => summary.done.push(id),
            Err(StoreError::Internal(e)) => return Err(StoreError::Internal(e)),
            Err(error) => summary.skipped.push(Skipped { id, error }),
        }
    }
    Ok(summary)
}

/// Adds `tag` to a lead's tags unless it has it.
async fn add_tag(ctx: Ctx<'_>, id: i64, tag: &str) -> StoreResult<()> {
    let lead = records::get(ctx.db, ctx.actor, &LEADS, id).await?;
    let mut tags: Vec<Value> = lead["tags"].as_array().cloned().unwrap_or_default();
    if tags.iter().any(|t| t == tag) {
        return Ok(());
    }
    tags.push(json!(tag));
    records::update(ctx, &LEADS, id, &json!({ "tags": tags }))
        .await
        .map(drop)
}
