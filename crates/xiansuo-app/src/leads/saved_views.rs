//! A person's own saved views of the lead list (我的视图): a name and the list's filters as the
//! query string of its address. Each belongs to the user who saved it; nobody else sees,
//! opens or deletes it. What the view shows is still read with the user's data scope when it
//! is opened, so a saved view never widens what anyone sees.

use crate::error::{StoreError, StoreResult};
use crate::records::{rfc3339, Ctx};
use crate::scope::Actor;
use serde_json::{json, Value};
use xiansuo_core::clock::to_millis;
use xiansuo_core::Invalid;
use xiansuo_store::Db;
use xiansuo_store::Param;

/// The most views one person keeps.
pub const MAX_VIEWS: i64 = 20;

/// The user's views, oldest first: `{"id", "name", "query", "created_at"}`.
pub async fn list(db: &Db, actor: &Actor) -> StoreResult<Vec<Value>> {
    Ok(db
        .fetch_all(
            "SELECT * FROM saved_views WHERE user_id = ? ORDER BY id",
            &[Param::Int(actor.user_id)],
        )
        .await?
        .iter()
        .map(|r| {
            json!({
                "id": r.int("id"),
                "name": r.text("name"),
                "query": r.text("query"),
                "created_at": rfc3339(r.int("created_at")),
            })
        })
        .collect())
}

/// Saves a view named `name` (1–40 characters) of the list filtered by `query` (a query
/// string, at most 2,000 characters), at most [`MAX_VIEWS`] per person.
pub async fn create(ctx: Ctx<'_>, name: &str, query: &str) -> StoreResult<Value> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(Invalid::new("name", "must be 1 to 40 characters").into());
    }
    if query.len() > 2000 {
        return Err(Invalid::new("query", "must be at most 2000 characters").into());
    }
    let mut tx = ctx.db.begin().await?;
    let count = tx
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM saved_views WHERE user_id = ?",
            &[Param::Int(ctx.actor.user_id)],
        )
        .await?
        .map_or(0, |r| r.int("n"));
    if count >= MAX_VIEWS {
        return Err(StoreError::Conflict(format!(
            "you have {MAX_VIEWS} saved views already; delete one first"
        )));
    }
    let id = tx
        .insert_returning_id(
            "INSERT INTO saved_views (user_id, name, query, created_at) VALUES (?, ?, ?, ?)",
            &[
                Param::Int(ctx.actor.user_id),
                Param::from(name),
                Param::from(query),
                Param::Int(to_millis(ctx.now)),
            ],
        )
        .await?;
    tx.commit().await?;
    Ok(json!({ "id": id, "name": name, "query": query, "created_at": rfc3339(to_millis(ctx.now)) }))
}

/// Deletes one of the user's views; anyone else's is not found.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> StoreResult<()> {
    let deleted = db
        .execute(
            "DELETE FROM saved_views WHERE id = ? AND user_id = ?",
            &[Param::Int(id), Param::Int(actor.user_id)],
        )
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound("Saved view"));
    }
    Ok(())
}
