//! Finding the records an imported row names: records of a type by the id they had in the
//! system they came from (`external_id`), accounts by name (their company key, so 上海恒远
//! and 恒远（上海）有限公司 meet), contacts and opportunities by exact name, Salesforce's
//! `WhoId`/`WhatId` by their id prefix or else across every type, and owners among the users
//! by username, display name or email. Every lookup is one query per batch of rows, within the
//! importing user's data scope.

use crate::scope::Actor;
use std::collections::HashMap;
use xiansuo_core::custom_field::RecordType;
use xiansuo_store::{Db, Param};

/// Values per `IN (…)` list, far under both databases' limits on bound parameters.
const CHUNK: usize = 500;

/// The table of a record type.
pub fn table_name(record_type: RecordType) -> &'static str {
    match record_type {
        RecordType::Lead => "leads",
        RecordType::Account => "accounts",
        RecordType::Contact => "contacts",
        RecordType::Opportunity => "opportunities",
    }
}

/// The ids of the records of `table` whose `column` is one of `values` (the lowest id when
/// several share a value), among those the actor may see and that are not deleted.
pub async fn ids_by(
    db: &Db,
    actor: &Actor,
    table: &str,
    column: &str,
    values: &[String],
) -> anyhow::Result<HashMap<String, i64>> {
    let mut found = HashMap::new();
    let mut unique: Vec<&String> = values.iter().collect();
    unique.sort();
    unique.dedup();
    for chunk in unique.chunks(CHUNK) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let rows = db
            .fetch_all(
                &format!(
                    "SELECT id, {column} AS v FROM {table} WHERE {column} IN ({marks}) AND deleted_at IS NULL{} ORDER BY id",
                    actor.scope_clause()
                ),
                &chunk.iter().map(|v| Param::from(v.as_str())).collect::<Vec<_>>(),
            )
            .await?;
        for row in rows {
            found.entry(row.text("v")).or_insert(row.int("id"));
        }
    }
    Ok(found)
}

/// The record type a Salesforce id names by its key prefix: 001 account, 003 contact,
/// 006 opportunity, 00Q lead.
pub fn salesforce_type(id: &str) -> Option<RecordType> {
    if !(id.len() == 15 || id.len() == 18) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    match &id[..3] {
        "001" => Some(RecordType::Account),
        "003" => Some(RecordType::Contact),
        "006" => Some(RecordType::Opportunity),
        "00Q" => Some(RecordType::Lead),
        _ => None,
    }
}

/// The first id of a list cell (HubSpot writes several associated ids as `1;2`).
pub fn first_id(value: &str) -> &str {
    value
        .split([';', ',', '，', '；'])
        .map(str::trim)
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// The users records can be given to, by lower-cased username, display name and email.
pub struct Owners {
    by_key: HashMap<String, i64>,
}

impl Owners {
    /// The active users within the actor's data scope.
    pub async fn load(db: &Db, actor: &Actor) -> anyhow::Result<Owners> {
        let rows = db
            .fetch_all(
                "SELECT id, username, display_name, email FROM users WHERE active = 1 AND deleted_at IS NULL ORDER BY id",
                &[],
            )
            .await?;
        let mut by_key = HashMap::new();
        for row in rows.iter().filter(|r| actor.sees_owner(r.int("id"))) {
            let names = [
                Some(row.text("username")),
                row.opt_text("display_name"),
                row.opt_text("email"),
            ];
            for name in names.into_iter().flatten() {
                let key = name.trim().to_lowercase();
                if !key.is_empty() {
                    by_key.entry(key).or_insert(row.int("id"));
                }
            }
        }
        Ok(Owners { by_key })
    }

    /// The user a cell names, if any.
    pub fn find(&self, name: &str) -> Option<i64> {
        self.by_key.get(&name.trim().to_lowercase()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_prefixes_and_list_cells() {
        assert_eq!(
            salesforce_type("0035g00000AbCdEAAV"),
            Some(RecordType::Contact)
        );
        assert_eq!(salesforce_type("00Q5g00000AbCdE"), Some(RecordType::Lead));
        assert_eq!(
            salesforce_type("0065g00000AbCdEAAV"),
            Some(RecordType::Opportunity)
        );
        assert_eq!(salesforce_type("001"), None);
        assert_eq!(first_id(" 9001;9002"), "9001");
    }
}
