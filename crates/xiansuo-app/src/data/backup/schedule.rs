//! Backups the server takes on its own: the schedule an admin sets (on or off, every how many
//! hours, how many to keep), the backups taken into the backup directory (listed in the
//! `backups` table with their size and time), and the jobs that take them. The scheduled job
//! runs once per hour slot across all instances over one database (the job queue's unique
//! slot keys), so several instances take one backup, not one each; after each backup the
//! oldest beyond `keep` are deleted, files and rows.

use super::backup;
use crate::error::{StoreError, StoreResult};
use crate::jobs::queue::{self, Job, JobEnv, JobFailure};
use crate::scope::Actor;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use utoipa::ToSchema;
use xiansuo_core::clock::{from_millis, to_millis};
use xiansuo_core::validation::Unread;
use xiansuo_core::Invalid;
use xiansuo_store::{Db, DecodeError, Param, Row};

/// The longest interval between scheduled backups, in hours (30 days).
pub const MAX_EVERY_HOURS: i64 = 720;
/// The most backups kept.
pub const MAX_KEEP: i64 = 365;

/// When backups are taken on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = BackupSchedule,
    description = "When backups are taken on their own (off, daily and seven kept until set)"
)]
pub struct Schedule {
    /// Whether backups are taken on their own
    pub enabled: bool,
    /// Hours between two scheduled backups, 1 to 720
    #[schema(minimum = 1, maximum = 720)]
    pub every_hours: i64,
    /// How many backups are kept (1 to 365); older ones are deleted
    #[schema(minimum = 1, maximum = 365)]
    pub keep: i64,
}

impl Default for Schedule {
    /// Off; once turned on, daily, keeping a week.
    fn default() -> Self {
        Schedule {
            enabled: false,
            every_hours: 24,
            keep: 7,
        }
    }
}

/// A backup in the backup directory.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(
    as = Backup,
    description = "A backup in the backup directory (DATA_DIR/backups unless configured)"
)]
pub struct StoredBackup {
    /// The id
    pub id: i64,
    /// The archive's file name
    pub file_name: String,
    /// The archive's size
    pub bytes: i64,
    /// The last migration of the database backed up
    pub schema_version: String,
    /// Tables in the archive
    pub tables: i64,
    /// Rows in the archive, all tables together
    pub rows: i64,
    /// Taken by the schedule rather than asked for
    pub scheduled: bool,
    /// When it was taken
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

/// A row of `backups`, as far as [`COLUMNS`] selects it.
#[derive(Deserialize)]
struct StoredBackupRow {
    id: i64,
    file_name: String,
    bytes: i64,
    schema_version: String,
    tables: i64,
    rows_total: i64,
    scheduled: bool,
    created_at: i64,
}

impl StoredBackup {
    fn of(row: &Row) -> Result<Self, DecodeError> {
        let stored: StoredBackupRow = row.decode()?;
        Ok(StoredBackup {
            id: stored.id,
            file_name: stored.file_name,
            bytes: stored.bytes,
            schema_version: stored.schema_version,
            tables: stored.tables,
            rows: stored.rows_total,
            scheduled: stored.scheduled,
            created_at: from_millis(stored.created_at),
        })
    }
}

const COLUMNS: &str =
    "id, file_name, bytes, schema_version, tables, rows_total, scheduled, created_at";

/// The schedule (the default when none was set).
pub async fn schedule(db: &Db, actor: &Actor) -> StoreResult<Schedule> {
    actor.require_admin("see the backup schedule")?;
    Ok(stored_schedule(db).await?)
}

async fn stored_schedule(db: &Db) -> anyhow::Result<Schedule> {
    let row = db
        .fetch_optional(
            "SELECT enabled, every_hours, keep FROM backup_schedule WHERE id = 1",
            &[],
        )
        .await?;
    Ok(row.map_or_else(Schedule::default, |row| Schedule {
        enabled: row.int("enabled") != 0,
        every_hours: row.int("every_hours"),
        keep: row.int("keep"),
    }))
}

/// Sets the schedule.
pub async fn set_schedule(
    db: &Db,
    actor: &Actor,
    schedule: Unread<Schedule>,
    now: DateTime<Utc>,
) -> StoreResult<Schedule> {
    actor.require_admin("change the backup schedule")?;
    let schedule = schedule.read()?;
    if !(1..=MAX_EVERY_HOURS).contains(&schedule.every_hours) {
        return Err(Invalid::new(
            "every_hours",
            format!("backups are taken every 1 to {MAX_EVERY_HOURS} hours"),
        )
        .into());
    }
    if !(1..=MAX_KEEP).contains(&schedule.keep) {
        return Err(
            Invalid::new("keep", format!("between 1 and {MAX_KEEP} backups are kept")).into(),
        );
    }
    let mut tx = db.begin().await?;
    tx.execute("DELETE FROM backup_schedule WHERE id = 1", &[])
        .await?;
    tx.execute(
        "INSERT INTO backup_schedule (id, enabled, every_hours, keep, updated_at) VALUES (1, ?, ?, ?, ?)",
        &[
            Param::Int(schedule.enabled.into()),
            Param::Int(schedule.every_hours),
            Param::Int(schedule.keep),
            Param::Int(to_millis(now)),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(schedule)
}

/// The backups in the backup directory, newest first.
pub async fn list(db: &Db, actor: &Actor) -> StoreResult<Vec<StoredBackup>> {
    actor.require_admin("see the backups")?;
    let rows = db
        .fetch_all(
            &format!("SELECT {COLUMNS} FROM backups ORDER BY created_at DESC, id DESC"),
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(StoredBackup::of)
        .collect::<Result<_, _>>()?)
}

/// The file of one backup, to download.
pub async fn file(db: &Db, actor: &Actor, id: i64) -> StoreResult<(StoredBackup, PathBuf)> {
    actor.require_admin("download a backup")?;
    let row = db
        .fetch_optional(
            &format!("SELECT {COLUMNS}, path FROM backups WHERE id = ?"),
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("backup"))?;
    let path = PathBuf::from(row.text("path"));
    if !path.is_file() {
        return Err(StoreError::NotFound("backup file"));
    }
    Ok((StoredBackup::of(&row)?, path))
}

/// Queues a backup to be taken now by the job runner (a large database takes a while).
pub async fn request(db: &Db, actor: &Actor, now: DateTime<Utc>) -> StoreResult<()> {
    actor.require_admin("take a backup")?;
    let mut tx = db.begin().await?;
    queue::enqueue::<TakeNow>(&mut tx, &(), to_millis(now), None).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes a backup into `dir` at `at`, records it, and deletes the oldest beyond the
/// schedule's `keep`.
pub async fn take(
    db: &Db,
    dir: &Path,
    at: DateTime<Utc>,
    scheduled: bool,
) -> anyhow::Result<StoredBackup> {
    std::fs::create_dir_all(dir)?;
    let stem = format!("xiansuo-{}", at.format("%Y%m%d-%H%M%S"));
    let mut name = format!("{stem}.zip");
    let mut n = 1;
    while dir.join(&name).exists() {
        n += 1;
        name = format!("{stem}-{n}.zip");
    }
    let path = dir.join(&name);
    let summary = backup(db, &path, at).await?;
    let absolute = std::fs::canonicalize(&path)?;
    let mut tx = db.begin().await?;
    let id = tx
        .insert_returning_id(
            "INSERT INTO backups (file_name, path, bytes, schema_version, tables, rows_total, scheduled, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                Param::from(name.as_str()),
                Param::from(absolute.display().to_string()),
                Param::Int(i64::try_from(summary.bytes).unwrap_or(i64::MAX)),
                Param::from(summary.schema_version.as_str()),
                Param::Int(i64::try_from(summary.tables).unwrap_or(i64::MAX)),
                Param::Int(i64::try_from(summary.rows).unwrap_or(i64::MAX)),
                Param::Int(scheduled.into()),
                Param::Int(to_millis(at)),
            ],
        )
        .await?;
    tx.commit().await?;
    prune(db, stored_schedule(db).await?.keep).await?;
    let row = db
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM backups WHERE id = ?"),
            &[Param::Int(id)],
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("the backup just recorded is gone"))?;
    Ok(StoredBackup::of(&row)?)
}

/// Deletes every backup but the newest `keep`, file first.
async fn prune(db: &Db, keep: i64) -> anyhow::Result<()> {
    let all = db
        .fetch_all(
            "SELECT id, path FROM backups ORDER BY created_at DESC, id DESC",
            &[],
        )
        .await?;
    let old = all.into_iter().skip(usize::try_from(keep).unwrap_or(0));
    for backup in old {
        let path = PathBuf::from(backup.text("path"));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(anyhow::anyhow!(e).context(format!("deleting {}", path.display())))
            }
        }
        db.execute(
            "DELETE FROM backups WHERE id = ?",
            &[Param::Int(backup.int("id"))],
        )
        .await?;
    }
    Ok(())
}

fn backup_dir(env: &JobEnv) -> Result<&Path, JobFailure> {
    env.backup_dir
        .as_deref()
        .ok_or_else(|| JobFailure::Permanent("no backup directory is configured".into()))
}

/// Takes a backup when the schedule is on and the last scheduled one is `every_hours` old.
pub struct Scheduled;

/// How early a scheduled backup may be taken, so that one taken a few seconds into its hour
/// slot does not push the next one a whole slot later.
const EARLY_MS: i64 = 10 * 60 * 1000;

#[async_trait]
impl Job for Scheduled {
    const KIND: &'static str = "backups.scheduled";
    const EVERY: Option<i64> = Some(3600);
    type Payload = ();

    async fn run(&self, db: &Db, env: &JobEnv, _: (), at: DateTime<Utc>) -> Result<(), JobFailure> {
        let schedule = stored_schedule(db).await?;
        if !schedule.enabled {
            return Ok(());
        }
        let last = db
            .fetch_optional(
                "SELECT MAX(created_at) AS at FROM backups WHERE scheduled = 1",
                &[],
            )
            .await?
            .and_then(|r| r.opt_int("at"));
        let due = last.is_none_or(|last| {
            to_millis(at) - last >= schedule.every_hours * 3600 * 1000 - EARLY_MS
        });
        if due {
            take(db, backup_dir(env)?, at, true).await?;
        }
        Ok(())
    }
}

/// A backup an admin asked for.
pub struct TakeNow;

#[async_trait]
impl Job for TakeNow {
    const KIND: &'static str = "backups.take";
    type Payload = ();

    async fn run(&self, db: &Db, env: &JobEnv, _: (), at: DateTime<Utc>) -> Result<(), JobFailure> {
        take(db, backup_dir(env)?, at, false).await?;
        Ok(())
    }
}
