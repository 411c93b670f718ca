//! The reports' per-day summaries (migration 0035): what the reports read for whole days, and
//! the job that folds changes into them.
//!
//! Writes of leads, follow-ups and deals never update a shared row: database triggers append a
//! change row (+1 for the record as it is now, −1 for it as it was) to `report_lead_changes` or
//! `report_activity_changes` in the writer's transaction, so writers of the same day, source
//! and owner never wait for one another and cannot deadlock. [`Fold`] (a background job, one
//! run per minute across all instances, sooner while changes come fast) moves the change rows into the narrow summary tables,
//! one per grouping the reports need, in one transaction per batch: the batch is added to the
//! summaries and deleted from the changes together. A report reads a summary plus the changes
//! not yet folded ([`LeadDays::rows`], [`activity_days`]) in one statement, so it is exact at
//! every moment, before, during and after a fold.
//!
//! The summaries and changes are ordinary tables: a backup carries them as they were in its
//! snapshot (consistent with the records of that snapshot), and a restore loads them with the
//! triggers held; an archive from before 0035 gets them computed by the migration after loading.

use crate::jobs::queue::{enqueue, Job, JobEnv, JobFailure};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use xiansuo_core::clock::to_millis;
use xiansuo_store::{Db, Dialect, Param, Tx};

/// Change rows folded per transaction, so that a fold never holds SQLite's writer for long.
const BATCH: i64 = 20_000;

/// A fold that moved at least this many change rows runs again [`SOON_MS`] later instead of a
/// minute later: a report reads every change not yet folded, so a busy minute should not leave
/// a large backlog.
pub const BUSY: u64 = 10_000;
pub const SOON_MS: i64 = 10_000;

/// The summaries of leads, by grouping. Each also has the day (China time) of the leads'
/// creation and their owner (0 for none), for the range and the data scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadDays {
    /// By status: `leads`, `won`, `won_amount`, `contacted`, `speed_ms`, `within_hour`.
    Status,
    /// By source: `leads`, `converted`, `won`, `won_amount`.
    Source,
    /// By campaign (`campaign_given`, `campaign`): `leads`, `converted`.
    Campaign,
}

/// A change counts as converted leads when its status is converted.
const CONVERTED: &str = "CASE WHEN status = 'converted' THEN leads ELSE 0 END";

impl LeadDays {
    const ALL: [LeadDays; 3] = [LeadDays::Status, LeadDays::Source, LeadDays::Campaign];

    fn table(self) -> &'static str {
        match self {
            LeadDays::Status => "report_lead_status_days",
            LeadDays::Source => "report_lead_source_days",
            LeadDays::Campaign => "report_lead_campaign_days",
        }
    }

    /// The key columns after `day, owner_id`.
    fn key(self) -> &'static str {
        match self {
            LeadDays::Status => "status",
            LeadDays::Source => "source",
            LeadDays::Campaign => "campaign_given, campaign",
        }
    }

    /// The figures: (column, what a change row adds to it).
    fn figures(self) -> &'static [(&'static str, &'static str)] {
        match self {
            LeadDays::Status => &[
                ("leads", "leads"),
                ("won", "won"),
                ("won_amount", "won_amount"),
                ("contacted", "contacted"),
                ("speed_ms", "speed_ms"),
                ("within_hour", "within_hour"),
            ],
            LeadDays::Source => &[
                ("leads", "leads"),
                ("converted", CONVERTED),
                ("won", "won"),
                ("won_amount", "won_amount"),
            ],
            LeadDays::Campaign => &[("leads", "leads"), ("converted", CONVERTED)],
        }
    }

    /// The summary and the changes not yet folded, as a row source named `s` with the
    /// summary's columns (a key may appear in several rows; sum them).
    pub fn rows(self) -> String {
        let figures = self.figures();
        let names: Vec<&str> = figures.iter().map(|(name, _)| *name).collect();
        let changes: Vec<&str> = figures.iter().map(|(_, change)| *change).collect();
        format!(
            "(SELECT day, owner_id, {key}, {names} FROM {table} UNION ALL \
             SELECT day, owner_id, {key}, {changes} FROM report_lead_changes) s",
            key = self.key(),
            names = names.join(", "),
            table = self.table(),
            changes = changes.join(", "),
        )
    }
}

/// The summary of follow-ups by day, owner, type and outcome (`outcome_given`, `outcome`) and
/// the changes not yet folded, as a row source named `s` (sum `activities` per key).
pub fn activity_days() -> String {
    "(SELECT day, owner_id, type, outcome_given, outcome, activities FROM report_activity_days \
     UNION ALL SELECT day, owner_id, type, outcome_given, outcome, activities \
     FROM report_activity_changes) s"
        .to_owned()
}

/// What one [`fold`] moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Folded {
    pub lead_changes: u64,
    pub activity_changes: u64,
}

/// A summary table and the change table it is folded from.
struct Target {
    table: &'static str,
    changes: &'static str,
    key: &'static str,
    figures: &'static [(&'static str, &'static str)],
}

impl Target {
    /// Adds the change rows below an id to the summary (one upsert per key).
    fn upsert(&self) -> String {
        let names: Vec<&str> = self.figures.iter().map(|(n, _)| *n).collect();
        let sums: Vec<String> = self
            .figures
            .iter()
            .map(|(_, change)| format!("SUM({change})"))
            .collect();
        let adds: Vec<String> = names
            .iter()
            .map(|n| format!("{n} = {table}.{n} + excluded.{n}", table = self.table))
            .collect();
        format!(
            "INSERT INTO {table} (day, owner_id, {key}, {names}) \
             SELECT day, owner_id, {key}, {sums} FROM {changes} WHERE id < ? \
             GROUP BY day, owner_id, {key} \
             ON CONFLICT (day, owner_id, {key}) DO UPDATE SET {adds}",
            table = self.table,
            key = self.key,
            names = names.join(", "),
            sums = sums.join(", "),
            changes = self.changes,
            adds = adds.join(", "),
        )
    }

    /// Removes the rows of the days a batch touched that count nothing any more (every lead of
    /// the key moved elsewhere), so that the summaries hold only keys with something in them.
    fn prune(&self) -> String {
        let zero: Vec<String> = self
            .figures
            .iter()
            .map(|(n, _)| format!("{n} = 0"))
            .collect();
        format!(
            "DELETE FROM {table} WHERE {zero} AND day IN (SELECT day FROM {changes} WHERE id < ?)",
            table = self.table,
            zero = zero.join(" AND "),
            changes = self.changes,
        )
    }
}

const ACTIVITY_FIGURES: &[(&str, &str)] = &[("activities", "activities")];

fn lead_targets() -> Vec<Target> {
    LeadDays::ALL
        .iter()
        .map(|days| Target {
            table: days.table(),
            changes: "report_lead_changes",
            key: days.key(),
            figures: days.figures(),
        })
        .collect()
}

fn activity_targets() -> Vec<Target> {
    vec![Target {
        table: "report_activity_days",
        changes: "report_activity_changes",
        key: "type, outcome_given, outcome",
        figures: ACTIVITY_FIGURES,
    }]
}

/// Folds every change row that exists when it starts into the summaries, a batch per
/// transaction. Each transaction reads one snapshot (PostgreSQL: repeatable read; SQLite: its
/// single writer), so the rows it adds are exactly the rows it deletes: a change committed
/// meanwhile, even with a lower id, stays for the next fold. Two folds at once are safe (on
/// PostgreSQL the second fails to serialise and is retried); the job runner lets only one run.
pub async fn fold(db: &Db) -> anyhow::Result<Folded> {
    Ok(Folded {
        lead_changes: fold_table(db, "report_lead_changes", &lead_targets()).await?,
        activity_changes: fold_table(db, "report_activity_changes", &activity_targets()).await?,
    })
}

async fn fold_table(db: &Db, changes: &str, targets: &[Target]) -> anyhow::Result<u64> {
    let last = db
        .fetch_optional(&format!("SELECT MAX(id) AS last FROM {changes}"), &[])
        .await?
        .and_then(|r| r.opt_int("last"));
    let Some(last) = last else {
        return Ok(0);
    };
    let mut folded = 0;
    loop {
        let mut tx = begin_snapshot(db).await?;
        let first = tx
            .fetch_optional(
                &format!("SELECT MIN(id) AS first FROM {changes} WHERE id <= ?"),
                &[Param::Int(last)],
            )
            .await?
            .and_then(|r| r.opt_int("first"));
        let Some(first) = first else {
            tx.commit().await?;
            return Ok(folded);
        };
        let below = [Param::Int((first + BATCH).min(last + 1))];
        for target in targets {
            tx.execute(&target.upsert(), &below).await?;
            tx.execute(&target.prune(), &below).await?;
        }
        folded += tx
            .execute(&format!("DELETE FROM {changes} WHERE id < ?"), &below)
            .await?;
        tx.commit().await?;
    }
}

/// A write transaction whose statements all read the snapshot of its first.
async fn begin_snapshot(db: &Db) -> anyhow::Result<Tx> {
    let mut tx = db.begin().await?;
    if tx.dialect() == Dialect::Postgres {
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", &[])
            .await?;
    }
    Ok(tx)
}

/// Folds the reports' change rows into their summaries, once a minute, and again
/// [`SOON_MS`] later after a fold of [`BUSY`] changes or more.
pub struct Fold;

#[async_trait]
impl Job for Fold {
    const KIND: &'static str = "reports.fold";
    const EVERY: Option<i64> = Some(60);
    type Payload = ();

    async fn run(&self, db: &Db, _: &JobEnv, _: (), at: DateTime<Utc>) -> Result<(), JobFailure> {
        let folded = fold(db).await?;
        tracing::debug!(
            leads = folded.lead_changes,
            activities = folded.activity_changes,
            "folded report changes"
        );
        if folded.lead_changes + folded.activity_changes >= BUSY {
            // Keyed like the periodic runs, so that it is one run with a slot's that falls on
            // the same instant.
            let soon = to_millis(at) + SOON_MS;
            let mut tx = db.begin().await?;
            enqueue::<Fold>(&mut tx, &(), soon, Some(&format!("{}@{soon}", Self::KIND))).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}
