//! Online backup and restore of the whole database, on either database and across them
//! (restoring a SQLite backup into PostgreSQL is how a team moves to PostgreSQL).
//!
//! [`backup`] reads every table the catalogue lists inside one read-only snapshot while the
//! server goes on writing, and streams the rows into one archive ([`archive`]) with a manifest
//! of the schema version and each table's row count. [`restore`] loads an archive into an empty
//! database in one transaction: the schema of the archive's version, every row as it was (ids
//! included, triggers and foreign keys held until the end), the search index computed again
//! from the leads, the counts checked against the manifest, the id counters moved past the
//! loaded ids; then the migrations the archive predates. [`schedule`] takes backups on its own
//! into the backup directory and keeps the newest few.

pub mod archive;
pub mod schedule;

use crate::records::search::{self, Searchable};
use archive::{Manifest, Piece, Reader, TableEntry};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use xiansuo_store::tables::{Cursor, Snapshot, Table};
use xiansuo_store::{migrate, Db, Dialect, Param, Tx};

/// Tables a backup leaves out: the migration ledger (the manifest names the version instead)
/// and the lead search index, which each database keeps in its own form (FTS5, tsvector) and a
/// restore computes again from the leads.
const LEFT_OUT: &[&str] = &["schema_migrations", "lead_search"];

/// Tables that hold what a team has entered: a database with a row in any of them is not empty
/// and is never restored into.
const RECORD_TABLES: &[&str] = &[
    "users",
    "teams",
    "leads",
    "accounts",
    "contacts",
    "opportunities",
    "activities",
];

/// Leads indexed per statement when the search index is computed again.
const INDEX_BATCH: i64 = 500;

/// What a backup wrote (printed by `xiansuo backup` as one JSON line).
#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    pub file: String,
    pub schema_version: String,
    pub tables: usize,
    pub rows: u64,
    pub bytes: u64,
    pub seconds: f64,
}

/// What a restore loaded (printed by `xiansuo restore` as one JSON line).
#[derive(Debug, Clone, Serialize)]
pub struct RestoreSummary {
    pub file: String,
    /// The archive's schema version.
    pub schema_version: String,
    /// The migrations applied after loading, for an archive from an older version.
    pub migrated: Vec<String>,
    pub tables: usize,
    pub rows: u64,
    pub seconds: f64,
}

fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
    }
}

/// Writes a consistent copy of the whole database to the archive `path` while the database
/// stays in use.
pub async fn backup(db: &Db, path: &Path, now: DateTime<Utc>) -> anyhow::Result<BackupSummary> {
    let started = Instant::now();
    let mut snapshot = db.snapshot().await?;
    let schema_version = last_migration(&mut snapshot).await?;
    let tables: Vec<Table> = snapshot
        .tables()
        .await?
        .into_iter()
        .filter(|t| !LEFT_OUT.contains(&t.name.as_str()))
        .collect();
    let (pieces, received) = tokio::sync::mpsc::channel::<Piece>(4);
    let target = path.to_owned();
    let writer = tokio::task::spawn_blocking(move || archive::write(&target, received));
    let mut manifest = Manifest {
        format: archive::FORMAT,
        schema_version: schema_version.clone(),
        dialect: dialect_name(db.dialect()).into(),
        created_at: now,
        tables: Vec::new(),
        rebuilt: vec!["lead_search".into()],
    };
    let read = read_tables(&mut snapshot, &tables, &pieces, &mut manifest).await;
    let rows = manifest.tables.iter().map(|t| t.rows).sum();
    if read.is_ok() {
        // The writer finishes the archive on this piece; a failed read drops the sender
        // without it, and the writer removes what it wrote.
        let _ = pieces.send(Piece::Finish(Box::new(manifest))).await;
    }
    // A writer that stopped on its own (a full disk) is why the read failed.
    let writer_stopped = pieces.is_closed();
    drop(pieces);
    let written = writer.await?;
    snapshot.close().await?;
    let bytes = match (read, written) {
        (Ok(()), written) => written?,
        (Err(e), Err(cause)) if writer_stopped => return Err(cause.context(e)),
        (Err(e), _) => return Err(e),
    };
    Ok(BackupSummary {
        file: path.display().to_string(),
        schema_version,
        tables: tables.len(),
        rows,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Streams every table's rows to the archive writer, noting each in the manifest.
async fn read_tables(
    snapshot: &mut Snapshot,
    tables: &[Table],
    pieces: &tokio::sync::mpsc::Sender<Piece>,
    manifest: &mut Manifest,
) -> anyhow::Result<()> {
    for table in tables {
        let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
        let mut entry = TableEntry::new(&table.name, columns);
        if pieces.send(Piece::Table(entry.clone())).await.is_err() {
            anyhow::bail!("writing the archive stopped");
        }
        let mut cursor = Cursor::new(snapshot.dialect(), table);
        while let Some(batch) = snapshot.next_page(&mut cursor).await? {
            if pieces.send(Piece::Rows(batch)).await.is_err() {
                anyhow::bail!("writing the archive stopped");
            }
        }
        entry.rows = cursor.read();
        manifest.tables.push(entry);
    }
    Ok(())
}

/// The last migration applied to the database.
async fn last_migration(snapshot: &mut Snapshot) -> anyhow::Result<String> {
    let rows = snapshot
        .fetch_all(
            "SELECT version FROM schema_migrations ORDER BY version DESC LIMIT 1",
            &[],
        )
        .await?;
    rows.first()
        .map(|r| r.text("version"))
        .ok_or_else(|| anyhow::anyhow!("the database has no migrations applied"))
}

/// Loads the archive `path` into `db`, which must be empty: a new SQLite file or PostgreSQL
/// database, or one with migrations applied but no records. Nothing is left half-loaded: the
/// rows go in within one transaction, which a count that differs from the manifest, a damaged
/// archive or a broken foreign key rolls back. Call it on a database that has not been migrated
/// on opening: an archive from an older version is loaded into the schema of its version, then
/// migrated forward.
pub async fn restore(db: &Db, path: &Path, now: DateTime<Utc>) -> anyhow::Result<RestoreSummary> {
    let started = Instant::now();
    let mut archive = Reader::open(path)?;
    let manifest = archive.manifest.clone();
    let known: Vec<&str> = migrate::versions().collect();
    let Some(position) = known.iter().position(|v| *v == manifest.schema_version) else {
        anyhow::bail!(
            "{} is a backup of schema version {}, which is newer than this program knows (up to {}): restore it with a newer xiansuo",
            path.display(),
            manifest.schema_version,
            known.last().copied().unwrap_or_default()
        );
    };
    refuse_records(db).await?;
    let now_ms = now.timestamp_millis();
    migrate::run_to(
        db,
        now_ms,
        crate::leads::dedup::BACKFILLS,
        Some(&manifest.schema_version),
    )
    .await?;
    // Foreign keys are checked once over the loaded rows, not as each row goes in.
    db.hold_foreign_keys(true).await?;
    let loaded = load(db, &mut archive, &manifest, &known[..=position]).await;
    db.hold_foreign_keys(false).await?;
    let rows = loaded?;
    let migrated = crate::migrate(db, now_ms)
        .await?
        .into_iter()
        .map(str::to_owned)
        .collect();
    Ok(RestoreSummary {
        file: path.display().to_string(),
        schema_version: manifest.schema_version,
        migrated,
        tables: manifest.tables.len(),
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Loads the archive's rows into `db` in one transaction, which any error rolls back; `known`
/// are the schema versions up to the archive's. Returns how many rows were loaded.
async fn load(
    db: &Db,
    archive: &mut Reader,
    manifest: &Manifest,
    known: &[&str],
) -> anyhow::Result<u64> {
    let mut tx = db.begin().await?;
    let applied: Vec<String> = tx
        .fetch_all("SELECT version FROM schema_migrations", &[])
        .await?
        .iter()
        .map(|r| r.text("version"))
        .collect();
    if let Some(newer) = applied
        .iter()
        .filter(|v| !known.contains(&v.as_str()))
        .max()
    {
        anyhow::bail!(
            "the target database is already at schema version {newer}, newer than the backup's {}: restore into a new database (it is migrated forward after loading)",
            manifest.schema_version
        );
    }

    let held = tx.hold_checks().await?;
    let tables = tx.tables().await?;
    for entry in &manifest.tables {
        let table = tables
            .iter()
            .find(|t| t.name == entry.name)
            .ok_or_else(|| {
                anyhow::anyhow!("the backup's table {} is not in the schema", entry.name)
            })?;
        if let Some(missing) = entry.columns.iter().find(|c| table.column(c).is_none()) {
            anyhow::bail!(
                "the backup's column {}.{missing} is not in the schema",
                entry.name
            );
        }
        // Rows a migration put in (the built-in pipeline stages and choices) make way for the
        // backup's own.
        tx.execute(
            &format!("DELETE FROM {}", xiansuo_store::tables::quoted(&entry.name)),
            &[],
        )
        .await?;
    }
    let mut rows = 0;
    for entry in &manifest.tables {
        let table = tables.iter().find(|t| t.name == entry.name).cloned();
        let table = table.ok_or_else(|| anyhow::anyhow!("{} vanished", entry.name))?;
        let read = load_table(archive, &mut tx, &table, entry).await?;
        anyhow::ensure!(
            read == entry.rows,
            "the archive holds {read} rows of {} but its manifest says {}: the archive is damaged",
            entry.name,
            entry.rows
        );
        rows += read;
    }
    index_leads(&mut tx).await?;
    for entry in &manifest.tables {
        let loaded = tx.count(&entry.name).await?;
        anyhow::ensure!(
            loaded == entry.rows,
            "{} holds {loaded} rows after loading but the manifest says {}",
            entry.name,
            entry.rows
        );
    }
    tx.resume_checks(held).await?;
    tx.advance_counters().await?;
    tx.commit().await?;
    Ok(rows)
}

/// Refuses a database that holds records.
async fn refuse_records(db: &Db) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let existing = tx.tables().await?;
    let mut held = Vec::new();
    for table in RECORD_TABLES {
        if existing.iter().any(|t| t.name == *table) {
            let n = tx.count(table).await?;
            if n > 0 {
                held.push(format!("{n} {table}"));
            }
        }
    }
    anyhow::ensure!(
        held.is_empty(),
        "the target database is not empty (it holds {}): restore only into a new SQLite file or an empty PostgreSQL database",
        held.join(", ")
    );
    Ok(())
}

/// Loads one table's rows from the archive; returns how many there were.
async fn load_table(
    archive: &mut Reader,
    tx: &mut Tx,
    table: &Table,
    entry: &TableEntry,
) -> anyhow::Result<u64> {
    // One batch is in memory at a time: read, inserted, then the next.
    let mut rows = archive.table(entry)?;
    while let Some(batch) = rows.next_batch()? {
        tx.insert_rows(table, &entry.columns, &batch).await?;
    }
    Ok(rows.count())
}

/// Computes the lead search index again from the loaded leads.
async fn index_leads(tx: &mut Tx) -> anyhow::Result<()> {
    let mut after = 0;
    loop {
        let leads = tx
            .fetch_all(
                "SELECT id, name, company, email_normalized, phone_normalized FROM leads \
                 WHERE id > ? ORDER BY id LIMIT ?",
                &[Param::Int(after), Param::Int(INDEX_BATCH)],
            )
            .await?;
        let Some(last) = leads.last() else {
            return Ok(());
        };
        after = last.int("id");
        let searchable: Vec<Searchable> = leads.iter().map(Searchable::of).collect();
        search::index(tx, &searchable, false).await?;
    }
}
