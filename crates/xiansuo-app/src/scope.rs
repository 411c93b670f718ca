//! The acting user and the data scope that follows from their role and place in the org tree.
//! Every read and write in the record engine goes through [`Actor::owner_condition`].

use crate::error::{StoreError, StoreResult};
use xiansuo_core::pool::masked_phone;
use xiansuo_core::role::{subtree, DataScope, Role, TokenScope};
use xiansuo_core::Phone;
use xiansuo_store::{Db, Param};

/// The record fields that hold phone numbers.
const PHONE_FIELDS: [&str; 2] = ["phone", "phone_normalized"];

/// A phone number as those who may not see it in full see it: `138****5678` for Chinese
/// mobiles, the middle digits starred for others. Numbers as entered are normalised first
/// where they can be.
pub fn mask_phone(text: &str) -> String {
    let e164 = Phone::parse(text).map_or_else(|_| text.to_owned(), |p| p.e164().to_owned());
    masked_phone(&e164)
}

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
    /// Sees phone numbers masked (138****5678) in records, lists, history and exports.
    pub mask_phones: bool,
    /// What the API token of the request may do; [`TokenScope::Admin`] (all the role allows)
    /// for a web session and for work done on a user's behalf.
    pub access: TokenScope,
}

impl Actor {
    /// Loads an active user and works out their scope.
    pub async fn load(db: &Db, user_id: i64) -> anyhow::Result<Option<Actor>> {
        let Some(row) = db
            .fetch_optional(
                "SELECT id, username, role, team_id, locale, mask_phones FROM users WHERE id = ? AND active = 1 AND deleted_at IS NULL",
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
            mask_phones: row.int("mask_phones") != 0,
            access: TokenScope::Admin,
        }))
    }

    /// Masks the phone numbers of a record (as the API shows it) for an actor who may not see
    /// them in full; leaves it alone for everyone else.
    pub fn mask(&self, record: &mut serde_json::Value) {
        for field in PHONE_FIELDS {
            if let Some(value) = record.get_mut(field) {
                self.mask_field(field, value);
            }
        }
    }

    /// Masks one field's value (a history entry's old or new value) when it is a phone number
    /// the actor may not see in full.
    pub fn mask_field(&self, field: &str, value: &mut serde_json::Value) {
        if !self.mask_phones || !PHONE_FIELDS.contains(&field) {
            return;
        }
        if let Some(text) = value.as_str() {
            *value = serde_json::Value::from(mask_phone(text));
        }
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
        self.scope_clause_on("owner_id")
    }

    /// [`Actor::scope_clause`] on another owner column, such as `l.owner_id` in a join.
    pub fn scope_clause_on(&self, column: &str) -> String {
        self.owner_condition(column)
            .map(|c| format!(" AND {c}"))
            .unwrap_or_default()
    }

    /// Refuses anyone but an admin: "only an admin may `what`".
    pub fn require_admin(&self, what: &str) -> StoreResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(StoreError::Forbidden(format!("only an admin may {what}")))
        }
    }

    /// True when records owned by `owner` are in scope.
    pub fn sees_owner(&self, owner: i64) -> bool {
        self.visible_owners
            .as_ref()
            .is_none_or(|ids| ids.contains(&owner))
    }

    /// An admin acting with all an admin may do: not through a token of lesser scope.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.access == TokenScope::Admin
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
