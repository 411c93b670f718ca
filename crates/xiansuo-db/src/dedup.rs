//! Finding a lead's duplicates by its normalised keys: the phone in E.164, the lower-cased email
//! and the company key ([`xiansuo_core::dedup`]). This slice compares leads with leads only;
//! contacts and accounts come with the checks on create.

use crate::db::{Param, Tx};
use crate::error::StoreResult;
use crate::record;
use crate::schema::{Key, Table, LEADS, TABLES};
use crate::scope::Actor;
use crate::Db;
use serde_json::Value;

/// The other leads, not deleted and within the actor's scope, that share the lead's phone,
/// email or company key, oldest first. A lead the actor cannot see is not found. Only leads are
/// compared: matching contacts and accounts are not reported here.
pub async fn lead_duplicates(db: &Db, actor: &Actor, id: i64) -> StoreResult<Vec<Value>> {
    let lead = record::get(db, actor, &LEADS, id).await?;
    let mut matches = Vec::new();
    let mut params = Vec::new();
    for column in ["phone_normalized", "email_normalized", "company_key"] {
        if let Some(value) = lead[column].as_str() {
            matches.push(format!("{column} = ?"));
            params.push(Param::from(value));
        }
    }
    if matches.is_empty() {
        return Ok(Vec::new());
    }
    params.push(Param::Int(id));
    let scope = actor.scope_clause();
    let rows = db
        .fetch_all(
            &format!(
                "SELECT * FROM leads WHERE ({}) AND id <> ? AND deleted_at IS NULL{scope} \
                 ORDER BY created_at, id",
                matches.join(" OR ")
            ),
            &params,
        )
        .await?;
    Ok(rows.iter().map(|r| record::to_json(&LEADS, r)).collect())
}

/// Rows changed per statement when keys are filled in.
const FILL_BATCH: usize = 500;

/// Computes the normalised keys of every existing record, for a database that had records
/// before the keys existed; SQL cannot compute them (pinyin, region lists).
pub(crate) async fn fill_keys(tx: &mut Tx) -> anyhow::Result<()> {
    for table in TABLES {
        for key in table.keys {
            fill_key(tx, table, key).await?;
        }
    }
    Ok(())
}

async fn fill_key(tx: &mut Tx, table: &Table, key: &Key) -> anyhow::Result<()> {
    let rows = tx
        .fetch_all(
            &format!(
                "SELECT id, {} AS source FROM {} WHERE {0} IS NOT NULL",
                key.source, table.name
            ),
            &[],
        )
        .await?;
    let keyed: Vec<(i64, String)> = rows
        .iter()
        .filter_map(|r| {
            let computed = (key.compute)(&r.opt_text("source")?)?;
            Some((r.int("id"), computed))
        })
        .collect();
    for batch in keyed.chunks(FILL_BATCH) {
        let params: Vec<Param> = batch
            .iter()
            .flat_map(|(id, value)| [Param::Int(*id), Param::from(value.as_str())])
            .collect();
        // A join with a VALUES list (columns column1, column2 in both databases) updates a
        // batch in one pass; a CASE with a branch per row made PostgreSQL take seconds a batch.
        tx.execute(
            &format!(
                "UPDATE {0} SET {1} = v.column2 FROM (VALUES {2}) AS v WHERE {0}.id = v.column1",
                table.name,
                key.column,
                vec!["(?, ?)"; batch.len()].join(", ")
            ),
            &params,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn company_keys(db: &Db, sql: &str) -> Vec<Option<String>> {
        let rows = db.fetch_all(sql, &[]).await.unwrap();
        rows.iter().map(|r| r.opt_text("company_key")).collect()
    }

    #[tokio::test]
    async fn records_written_before_the_keys_existed_get_them() {
        let path = std::env::temp_dir().join(format!("xiansuo-dedup-{}.db", std::process::id()));
        let db = Db::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        crate::migrate::run(&db, 0).await.unwrap();
        // As a version without keys wrote them: the company, no key.
        for (name, company) in [("张伟", Some("上海恒远信息科技有限公司")), ("李娜", None)]
        {
            db.execute(
                "INSERT INTO leads (name, company, source, status, created_at, updated_at) \
                 VALUES (?, ?, 'api', 'new', 0, 0)",
                &[Param::from(name), Param::from(company)],
            )
            .await
            .unwrap();
        }
        db.execute(
            "INSERT INTO accounts (name, created_at, updated_at) VALUES ('恒远信息科技（上海）有限公司', 0, 0)",
            &[],
        )
        .await
        .unwrap();

        let mut tx = db.begin().await.unwrap();
        fill_keys(&mut tx).await.unwrap();
        tx.commit().await.unwrap();

        let filled = Some("恒远信息科技".to_owned());
        assert_eq!(
            company_keys(&db, "SELECT company_key FROM leads ORDER BY id").await,
            [filled.clone(), None]
        );
        assert_eq!(
            company_keys(&db, "SELECT company_key FROM accounts").await,
            [filled]
        );
        db.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
