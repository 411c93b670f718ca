//! Schema migrations, embedded in the binary and applied on start. Each database has its own
//! folder of SQL files in its own dialect; the two lists must name the same migrations in the
//! same order (a test checks that, and that the resulting tables have the same columns).

use crate::db::{Db, Tx};
use crate::dialect::Dialect;
use crate::param::Param;
use anyhow::Context;
use std::future::Future;
use std::pin::Pin;

/// (version, SQL) for SQLite.
pub const SQLITE: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        "0002_lead_search",
        include_str!("../migrations/sqlite/0002_lead_search.sql"),
    ),
    (
        "0003_exports",
        include_str!("../migrations/sqlite/0003_exports.sql"),
    ),
    (
        "0004_imports",
        include_str!("../migrations/sqlite/0004_imports.sql"),
    ),
    (
        "0005_dedup_keys",
        include_str!("../migrations/sqlite/0005_dedup_keys.sql"),
    ),
    (
        "0006_jobs",
        include_str!("../migrations/sqlite/0006_jobs.sql"),
    ),
    (
        "0007_pipeline",
        include_str!("../migrations/sqlite/0007_pipeline.sql"),
    ),
    (
        "0008_webhooks",
        include_str!("../migrations/sqlite/0008_webhooks.sql"),
    ),
    (
        "0009_import_uploads",
        include_str!("../migrations/sqlite/0009_import_uploads.sql"),
    ),
    (
        "0010_forms",
        include_str!("../migrations/sqlite/0010_forms.sql"),
    ),
    (
        "0011_scoring_assignment",
        include_str!("../migrations/sqlite/0011_scoring_assignment.sql"),
    ),
    (
        "0012_pool_followups",
        include_str!("../migrations/sqlite/0012_pool_followups.sql"),
    ),
    (
        "0013_dedup_merge",
        include_str!("../migrations/sqlite/0013_dedup_merge.sql"),
    ),
    (
        "0014_phone_masking",
        include_str!("../migrations/sqlite/0014_phone_masking.sql"),
    ),
    (
        "0015_reports",
        include_str!("../migrations/sqlite/0015_reports.sql"),
    ),
    (
        "0016_sparse_indexes",
        include_str!("../migrations/sqlite/0016_sparse_indexes.sql"),
    ),
    (
        "0017_disqualify_reason",
        include_str!("../migrations/sqlite/0017_disqualify_reason.sql"),
    ),
    (
        "0018_saved_views",
        include_str!("../migrations/sqlite/0018_saved_views.sql"),
    ),
    (
        "0019_settings",
        include_str!("../migrations/sqlite/0019_settings.sql"),
    ),
    (
        "0020_robots",
        include_str!("../migrations/sqlite/0020_robots.sql"),
    ),
    (
        "0021_audit",
        include_str!("../migrations/sqlite/0021_audit.sql"),
    ),
    (
        "0024_file_bytes",
        include_str!("../migrations/sqlite/0024_file_bytes.sql"),
    ),
    (
        "0025_page_speed",
        include_str!("../migrations/sqlite/0025_page_speed.sql"),
    ),
    (
        "0026_notification_preferences",
        include_str!("../migrations/sqlite/0026_notification_preferences.sql"),
    ),
    (
        "0027_choices",
        include_str!("../migrations/sqlite/0027_choices.sql"),
    ),
    (
        "0028_prediction",
        include_str!("../migrations/sqlite/0028_prediction.sql"),
    ),
    (
        "0029_external_ids",
        include_str!("../migrations/sqlite/0029_external_ids.sql"),
    ),
    (
        "0030_backups",
        include_str!("../migrations/sqlite/0030_backups.sql"),
    ),
    (
        "0031_import_updates",
        include_str!("../migrations/sqlite/0031_import_updates.sql"),
    ),
    (
        "0032_import_outcomes",
        include_str!("../migrations/sqlite/0032_import_outcomes.sql"),
    ),
    (
        "0034_prediction_schedule",
        include_str!("../migrations/sqlite/0034_prediction_schedule.sql"),
    ),
    (
        "0035_report_summaries",
        include_str!("../migrations/sqlite/0035_report_summaries.sql"),
    ),
    (
        "0036_object_uploads",
        include_str!("../migrations/sqlite/0036_object_uploads.sql"),
    ),
    (
        "0038_follow_up_order",
        include_str!("../migrations/sqlite/0038_follow_up_order.sql"),
    ),
];

/// (version, SQL) for PostgreSQL.
pub const POSTGRES: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        "0002_lead_search",
        include_str!("../migrations/postgres/0002_lead_search.sql"),
    ),
    (
        "0003_exports",
        include_str!("../migrations/postgres/0003_exports.sql"),
    ),
    (
        "0004_imports",
        include_str!("../migrations/postgres/0004_imports.sql"),
    ),
    (
        "0005_dedup_keys",
        include_str!("../migrations/postgres/0005_dedup_keys.sql"),
    ),
    (
        "0006_jobs",
        include_str!("../migrations/postgres/0006_jobs.sql"),
    ),
    (
        "0007_pipeline",
        include_str!("../migrations/postgres/0007_pipeline.sql"),
    ),
    (
        "0008_webhooks",
        include_str!("../migrations/postgres/0008_webhooks.sql"),
    ),
    (
        "0009_import_uploads",
        include_str!("../migrations/postgres/0009_import_uploads.sql"),
    ),
    (
        "0010_forms",
        include_str!("../migrations/postgres/0010_forms.sql"),
    ),
    (
        "0011_scoring_assignment",
        include_str!("../migrations/postgres/0011_scoring_assignment.sql"),
    ),
    (
        "0012_pool_followups",
        include_str!("../migrations/postgres/0012_pool_followups.sql"),
    ),
    (
        "0013_dedup_merge",
        include_str!("../migrations/postgres/0013_dedup_merge.sql"),
    ),
    (
        "0014_phone_masking",
        include_str!("../migrations/postgres/0014_phone_masking.sql"),
    ),
    (
        "0015_reports",
        include_str!("../migrations/postgres/0015_reports.sql"),
    ),
    (
        "0016_sparse_indexes",
        include_str!("../migrations/postgres/0016_sparse_indexes.sql"),
    ),
    (
        "0017_disqualify_reason",
        include_str!("../migrations/postgres/0017_disqualify_reason.sql"),
    ),
    (
        "0018_saved_views",
        include_str!("../migrations/postgres/0018_saved_views.sql"),
    ),
    (
        "0019_settings",
        include_str!("../migrations/postgres/0019_settings.sql"),
    ),
    (
        "0020_robots",
        include_str!("../migrations/postgres/0020_robots.sql"),
    ),
    (
        "0021_audit",
        include_str!("../migrations/postgres/0021_audit.sql"),
    ),
    (
        "0024_file_bytes",
        include_str!("../migrations/postgres/0024_file_bytes.sql"),
    ),
    (
        "0025_page_speed",
        include_str!("../migrations/postgres/0025_page_speed.sql"),
    ),
    (
        "0026_notification_preferences",
        include_str!("../migrations/postgres/0026_notification_preferences.sql"),
    ),
    (
        "0027_choices",
        include_str!("../migrations/postgres/0027_choices.sql"),
    ),
    (
        "0028_prediction",
        include_str!("../migrations/postgres/0028_prediction.sql"),
    ),
    (
        "0029_external_ids",
        include_str!("../migrations/postgres/0029_external_ids.sql"),
    ),
    (
        "0030_backups",
        include_str!("../migrations/postgres/0030_backups.sql"),
    ),
    (
        "0031_import_updates",
        include_str!("../migrations/postgres/0031_import_updates.sql"),
    ),
    (
        "0032_import_outcomes",
        include_str!("../migrations/postgres/0032_import_outcomes.sql"),
    ),
    (
        "0034_prediction_schedule",
        include_str!("../migrations/postgres/0034_prediction_schedule.sql"),
    ),
    (
        "0035_report_summaries",
        include_str!("../migrations/postgres/0035_report_summaries.sql"),
    ),
    (
        "0036_object_uploads",
        include_str!("../migrations/postgres/0036_object_uploads.sql"),
    ),
    (
        "0038_follow_up_order",
        include_str!("../migrations/postgres/0038_follow_up_order.sql"),
    ),
];

/// The work of a [`Backfill`], in the migration's transaction.
pub type Fill =
    for<'t> fn(&'t mut Tx) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 't>>;

/// Data a migration's SQL cannot compute (keys the program derives from names), filled by the
/// program in the migration's own transaction right after its SQL.
pub struct Backfill {
    /// The migration after which it runs.
    pub after: &'static str,
    /// What it is, for the error if it fails.
    pub what: &'static str,
    pub run: Fill,
}

/// Applies every migration the database has not seen yet, each in its own transaction, with
/// the backfills that follow it. On PostgreSQL an advisory lock makes instances that start
/// together take turns.
pub async fn run(
    db: &Db,
    now_ms: i64,
    backfills: &[Backfill],
) -> anyhow::Result<Vec<&'static str>> {
    run_to(db, now_ms, backfills, None).await
}

/// The versions of the migrations this program knows, oldest first.
pub fn versions() -> impl Iterator<Item = &'static str> {
    SQLITE.iter().map(|m| m.0)
}

/// Like [`run`], but stops after the migration `last` (every one when `None`): a backup taken
/// at an older version is loaded into the schema of that version.
pub async fn run_to(
    db: &Db,
    now_ms: i64,
    backfills: &[Backfill],
    last: Option<&str>,
) -> anyhow::Result<Vec<&'static str>> {
    let all = match db.dialect() {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    };
    let migrations = match last {
        Some(last) => {
            let end = all
                .iter()
                .position(|m| m.0 == last)
                .with_context(|| format!("no migration is named {last}"))?;
            &all[..=end]
        }
        None => all,
    };
    let mut tx = db.begin().await?;
    tx.execute_script(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    tx.commit().await?;

    let mut applied = Vec::new();
    for (version, sql) in migrations {
        let mut tx = db.begin().await?;
        if db.dialect() == Dialect::Postgres {
            tx.fetch_all(
                "SELECT pg_advisory_xact_lock(7472616) IS NULL AS locked",
                &[],
            )
            .await?;
        }
        let seen = tx
            .fetch_optional(
                "SELECT version FROM schema_migrations WHERE version = ?",
                &[Param::from(*version)],
            )
            .await?
            .is_some();
        if seen {
            continue;
        }
        tx.execute_script(sql)
            .await
            .with_context(|| format!("applying migration {version}"))?;
        for backfill in OWN_BACKFILLS
            .iter()
            .chain(backfills)
            .filter(|b| b.after == *version)
        {
            (backfill.run)(&mut tx)
                .await
                .with_context(|| format!("computing {}", backfill.what))?;
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
            &[Param::from(*version), Param::Int(now_ms)],
        )
        .await?;
        tx.commit().await?;
        applied.push(*version);
    }
    Ok(applied)
}

/// Storage's own backfills: changes of how values are stored that SQL cannot make.
const OWN_BACKFILLS: &[Backfill] = &[Backfill {
    after: "0024_file_bytes",
    what: "the bytes of stored files",
    run: |tx| Box::pin(decode_file_pieces(tx)),
}];

/// Pieces of files decoded per statement by [`decode_file_pieces`]: at most 16 MiB in memory.
const PIECES_PER_ROUND: i64 = 16;

/// Migration 0024 on SQLite: turns the base64 text of stored file pieces into bytes.
/// PostgreSQL decodes them in the migration's own SQL.
async fn decode_file_pieces(tx: &mut Tx) -> anyhow::Result<()> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    if tx.dialect() == Dialect::Postgres {
        return Ok(());
    }
    for table in ["attachment_chunks", "import_upload_chunks"] {
        loop {
            let pieces = tx
                .fetch_all(
                    &format!(
                        "SELECT rowid AS piece, data FROM {table} WHERE typeof(data) = 'text' LIMIT ?"
                    ),
                    &[Param::Int(PIECES_PER_ROUND)],
                )
                .await?;
            if pieces.is_empty() {
                break;
            }
            for piece in pieces {
                let id = piece.int("piece");
                let bytes = STANDARD
                    .decode(piece.text("data"))
                    .with_context(|| format!("piece {id} of {table} is not base64"))?;
                tx.execute(
                    &format!("UPDATE {table} SET data = ? WHERE rowid = ?"),
                    &[Param::Bytes(bytes), Param::Int(id)],
                )
                .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_databases_have_the_same_migrations_in_the_same_order() {
        let sqlite: Vec<_> = super::SQLITE.iter().map(|m| m.0).collect();
        let postgres: Vec<_> = super::POSTGRES.iter().map(|m| m.0).collect();
        assert_eq!(sqlite, postgres);
    }
}
