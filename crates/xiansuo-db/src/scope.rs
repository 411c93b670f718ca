//! The acting user and the data scope that follows from their role and place in the org tree.
//! Every read and write in the record engine goes through [`Actor::owner_condition`].

use crate::db::{Db, Param};
use xiansuo_core::role::{subtree, DataScope, Role};

/// Who is making a request, with the owners whose records they may see.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub team_id: Option<i64>,
    pub locale: String,
    /// `None` for an admin (everything); otherwise the user ids whose records are visible.
    pub visible_owners: Option<Vec<i64>>,
}

impl Actor {
    /// Loads an active user and works out their scope.
    pub async fn load(db: &Db, user_id: i64) -> anyhow::Result<Option<Actor>> {
        let Some(row) = db
            .fetch_optional(
                "SELECT id, username, role, team_id, locale FROM users WHERE id = ? AND active = 1 AND deleted_at IS NULL",
                &[Param::Int(user_id)],
            )
            .await?
        else {
            return Ok(None);
        };
        let role = Role::parse(&row.text("role"))?;
        let team_id = row.opt_int("team_id");
        let visible_owners = match (role.data_scope(), team_id) {
            (DataScope::All, _) => None,
            (DataScope::Own, _) | (DataScope::Subtree, None) => Some(vec![user_id]),
            (DataScope::Subtree, Some(team)) => {
                let teams = team_tree(db).await?;
                let mut ids = users_in_teams(db, &subtree(&teams, team)).await?;
                if !ids.contains(&user_id) {
                    ids.push(user_id);
                }
                Some(ids)
            }
        };
        Ok(Some(Actor {
            user_id,
            username: row.text("username"),
            role,
            team_id,
            locale: row.text("locale"),
            visible_owners,
        }))
    }

    /// SQL that limits `column` (an owner id) to the actor's scope, or `None` for no limit.
    /// The ids are integers read from the database, so they are written into the SQL directly.
    pub fn owner_condition(&self, column: &str) -> Option<String> {
        self.visible_owners.as_ref().map(|ids| {
            if ids.len() == 1 {
                format!("{column} = {}", ids[0])
            } else {
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!("{column} IN ({})", list.join(","))
            }
        })
    }

    /// `" AND <owner condition>"` to append to a `WHERE` clause, or nothing for an admin.
    pub fn scope_clause(&self) -> String {
        self.owner_condition("owner_id")
            .map(|c| format!(" AND {c}"))
            .unwrap_or_default()
    }

    /// True when records owned by `owner` are in scope.
    pub fn sees_owner(&self, owner: i64) -> bool {
        self.visible_owners
            .as_ref()
            .is_none_or(|ids| ids.contains(&owner))
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// The org tree as (id, parent) pairs.
pub async fn team_tree(db: &Db) -> anyhow::Result<Vec<(i64, Option<i64>)>> {
    Ok(db
        .fetch_all(
            "SELECT id, parent_id FROM teams WHERE deleted_at IS NULL",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.int("id"), r.opt_int("parent_id")))
        .collect())
}

/// The ids of the users in any of `teams`.
pub async fn users_in_teams(db: &Db, teams: &[i64]) -> anyhow::Result<Vec<i64>> {
    if teams.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = teams.iter().map(i64::to_string).collect();
    Ok(db
        .fetch_all(
            &format!("SELECT id FROM users WHERE team_id IN ({})", list.join(",")),
            &[],
        )
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect())
}
