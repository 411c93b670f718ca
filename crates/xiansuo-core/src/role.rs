//! Roles and data scopes: who may see and change which records. The rule is simple and checked
//! on the server for every read and write: a rep sees their own records, a manager the records
//! owned by anyone in their team's subtree of the org tree, an admin everything.

use crate::Invalid;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Rep,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Rep => "rep",
        }
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        match value {
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "rep" => Ok(Role::Rep),
            _ => Err(Invalid::new(
                "role",
                format!("'{value}' is not one of: admin, manager, rep"),
            )),
        }
    }

    /// The data scope that goes with the role.
    pub fn data_scope(self) -> DataScope {
        match self {
            Role::Admin => DataScope::All,
            Role::Manager => DataScope::Subtree,
            Role::Rep => DataScope::Own,
        }
    }
}

/// What a user can see: own records, their team subtree's, or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataScope {
    Own,
    Subtree,
    All,
}

/// The kinds of node in the org tree, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TeamKind {
    Headquarters,
    Region,
    Branch,
    Team,
}

impl TeamKind {
    pub fn code(self) -> &'static str {
        match self {
            TeamKind::Headquarters => "headquarters",
            TeamKind::Region => "region",
            TeamKind::Branch => "branch",
            TeamKind::Team => "team",
        }
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        match value {
            "headquarters" => Ok(TeamKind::Headquarters),
            "region" => Ok(TeamKind::Region),
            "branch" => Ok(TeamKind::Branch),
            "team" => Ok(TeamKind::Team),
            _ => Err(Invalid::new(
                "kind",
                format!("'{value}' is not one of: headquarters, region, branch, team"),
            )),
        }
    }
}

/// Given the org tree as (id, parent) pairs, the ids of `root` and every team below it.
pub fn subtree(teams: &[(i64, Option<i64>)], root: i64) -> Vec<i64> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        for (id, p) in teams {
            if *p == Some(parent) && !out.contains(id) {
                out.push(*id);
            }
        }
        i += 1;
    }
    out
}

/// True when making `parent` the parent of `team` would put `team` below itself.
pub fn would_cycle(teams: &[(i64, Option<i64>)], team: i64, parent: i64) -> bool {
    subtree(teams, team).contains(&parent)
}

/// What an API token may do, within what its user's role allows. A web session may do all its
/// user may ([`TokenScope::Admin`]). Ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TokenScope {
    /// Reads only: every write is refused.
    ReadOnly,
    /// Reads and writes records, but no admin-only change, even for an admin's token.
    ReadWrite,
    /// All its user's role allows; only admins may create one.
    Admin,
}

impl TokenScope {
    pub fn code(self) -> &'static str {
        match self {
            TokenScope::ReadOnly => "read_only",
            TokenScope::ReadWrite => "read_write",
            TokenScope::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        match value {
            "read_only" => Ok(TokenScope::ReadOnly),
            "read_write" => Ok(TokenScope::ReadWrite),
            "admin" => Ok(TokenScope::Admin),
            _ => Err(Invalid::new(
                "scope",
                format!("'{value}' is not one of: read_only, read_write, admin"),
            )),
        }
    }

    /// Whether the token may change anything.
    pub fn may_write(self) -> bool {
        self != TokenScope::ReadOnly
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &[(i64, Option<i64>)] = &[
        (1, None),
        (2, Some(1)),
        (3, Some(1)),
        (4, Some(2)),
        (5, Some(4)),
    ];

    #[test]
    fn subtree_contains_all_descendants_and_nothing_else() {
        let mut s = subtree(TREE, 2);
        s.sort();
        assert_eq!(s, vec![2, 4, 5]);
        assert_eq!(subtree(TREE, 3), vec![3]);
    }

    #[test]
    fn moving_a_team_below_its_descendant_is_a_cycle() {
        assert!(would_cycle(TREE, 2, 5));
        assert!(would_cycle(TREE, 2, 2));
        assert!(!would_cycle(TREE, 4, 3));
    }

    #[test]
    fn roles_map_to_scopes() {
        assert_eq!(Role::parse("rep").unwrap().data_scope(), DataScope::Own);
        assert_eq!(Role::Manager.data_scope(), DataScope::Subtree);
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn token_scopes_parse_their_codes_and_only_read_only_cannot_write() {
        for scope in [
            TokenScope::ReadOnly,
            TokenScope::ReadWrite,
            TokenScope::Admin,
        ] {
            assert_eq!(TokenScope::parse(scope.code()).unwrap(), scope);
        }
        assert!(TokenScope::parse("root").is_err());
        assert!(!TokenScope::ReadOnly.may_write());
        assert!(TokenScope::ReadWrite.may_write());
    }
}
