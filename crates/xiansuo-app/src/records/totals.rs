//! How many records a searched list holds, for the pages that show "N 条" above a keyset-paged
//! list: the records the actor may see, not deleted, matching the same search (`q`) as
//! [`crate::records::list`] — a fragment of any of the table's search columns, and a phone
//! fragment of three or more digits on its phone columns — and an optional owner.
//!
//! Counting is kept apart from the list on purpose: keyset pages never count, so the lists stay
//! fast however deep they are paged, and the pages that want a total ask for it once.

use crate::error::StoreResult;
use crate::records::schema::Table;
use crate::scope::Actor;
use xiansuo_core::custom_field::RecordType;
use xiansuo_store::Db;
use xiansuo_store::{Dialect, Param};

/// `%fragment%` with LIKE's wildcards escaped.
fn like_pattern(fragment: &str) -> String {
    let escaped = fragment
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The number of records of `table` the actor may see that match `q` (empty: all) and belong
/// to `owner` (if given). Leads are refused: their search goes through the search index, which
/// this count does not repeat.
pub async fn count(
    db: &Db,
    actor: &Actor,
    table: &'static Table,
    q: &str,
    owner: Option<i64>,
) -> StoreResult<i64> {
    debug_assert!(table.record_type != RecordType::Lead);
    let mut conditions = vec!["deleted_at IS NULL".to_owned()];
    let mut params = Vec::new();
    if let Some(scope) = actor.owner_condition("owner_id") {
        conditions.push(scope);
    }
    if let Some(owner) = owner {
        conditions.push("owner_id = ?".into());
        params.push(Param::Int(owner));
    }
    let q = q.trim();
    if !q.is_empty() {
        let op = if db.dialect() == Dialect::Postgres {
            "ILIKE"
        } else {
            "LIKE"
        };
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        let phone_like =
            digits.len() >= 3 && q.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        let mut parts = Vec::new();
        for column in table.search {
            if column.starts_with("phone") {
                if phone_like {
                    parts.push(format!("{column} LIKE ? ESCAPE '\\'"));
                    params.push(Param::from(like_pattern(&digits)));
                }
            } else {
                parts.push(format!("{column} {op} ? ESCAPE '\\'"));
                params.push(Param::from(like_pattern(q)));
            }
        }
        conditions.push(format!("({})", parts.join(" OR ")));
    }
    let sql = format!(
        "SELECT COUNT(*) AS n FROM {} WHERE {}",
        table.name,
        conditions.join(" AND ")
    );
    Ok(db
        .fetch_optional(&sql, &params)
        .await?
        .map_or(0, |r| r.int("n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_a_search_are_taken_literally() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
