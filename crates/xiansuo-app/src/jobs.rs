//! Background jobs, stored in the `jobs` table so that they survive restarts and run exactly
//! once however many instances share the database.
//!
//! A job is queued inside the transaction that makes it necessary ([`enqueue`]), so it exists
//! if and only if that change committed. [`run_due`] claims due jobs in small batches (on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, so two instances never claim the same job; on
//! SQLite the single writer serialises claims), runs each once, and records the outcome: done,
//! queued again with exponential backoff, or failed for good after its last attempt. A job
//! whose instance died while running it is claimed again once its lock expires.
//!
//! Periodic work (recycling, reminders, SLA checks, scans) is listed in [`PERIODIC`]: each run
//! queues one job per kind and time slot under a unique key, so a slot runs once in total.

use crate::error::StoreError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use xiansuo_core::clock::to_millis;
use xiansuo_store::{Db, Dialect, Param, Tx};

/// Periodic job kinds and how often each runs, in seconds.
pub const PERIODIC: &[(&str, i64)] = &[
    ("jobs.prune", 24 * 3600),
    (crate::leads::dedup::scan::JOB, 24 * 3600),
    (crate::channels::mail::NOTIFICATION_DIGEST, 60),
    (crate::leads::scoring::DECAY_JOB, 3600),
    (crate::leads::pool::RECYCLE_JOB, 300),
    (crate::leads::followups::REMIND_JOB, 60),
    (crate::leads::followups::SLA_JOB, 60),
];

/// How many jobs one claim takes.
const BATCH: i64 = 32;

/// How long a claimed job stays locked to its instance before others may take it over.
const LOCK_MS: i64 = 5 * 60 * 1000;

/// Finished jobs are kept this long (for inspection), then pruned.
const KEEP_FINISHED_MS: i64 = 7 * 24 * 3600 * 1000;

/// What job handlers may use besides the database.
#[derive(Debug, Clone, Default)]
pub struct JobEnv {
    /// For outbound HTTP (webhooks).
    pub http: reqwest::Client,
    /// `smtp://host:port`, `smtps://user:pass@host` …; no email is sent without it.
    pub smtp_url: Option<String>,
    /// The sender address of outgoing email.
    pub smtp_from: Option<String>,
}

/// Why a job did not complete.
#[derive(Debug)]
pub enum JobFailure {
    /// Worth trying again later (network down, server busy).
    Retry(String),
    /// Will never succeed (the record is gone, the payload is malformed).
    Permanent(String),
}

impl From<anyhow::Error> for JobFailure {
    fn from(e: anyhow::Error) -> Self {
        JobFailure::Retry(format!("{e:#}"))
    }
}

impl From<StoreError> for JobFailure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Internal(e) => JobFailure::Retry(format!("{e:#}")),
            other => JobFailure::Permanent(other.to_string()),
        }
    }
}

/// What one [`run_due`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// Jobs that completed.
    pub done: u64,
    /// Jobs that failed and were queued again for later.
    pub retried: u64,
    /// Jobs that failed for good.
    pub failed: u64,
}

/// Queues a job to run at `run_at_ms` (or at the next run, if that has passed). With a
/// `unique_key`, a job with the same key that exists already (queued, running or finished)
/// wins and nothing is queued; returns whether the job was queued.
pub async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    payload: &Value,
    run_at_ms: i64,
    unique_key: Option<&str>,
) -> anyhow::Result<bool> {
    let queued = tx
        .execute(
            "INSERT INTO jobs (kind, payload, unique_key, state, run_at, created_at) \
             VALUES (?, ?, ?, 'queued', ?, ?) ON CONFLICT (unique_key) DO NOTHING",
            &[
                Param::from(kind),
                Param::from(payload.to_string()),
                Param::from(unique_key.map(str::to_owned)),
                Param::Int(run_at_ms),
                Param::Int(run_at_ms),
            ],
        )
        .await?;
    Ok(queued == 1)
}

/// Backoff before attempt `attempts + 1`: one minute, doubling, at most a day.
pub fn backoff_ms(attempts: i64) -> i64 {
    let minutes = 1i64 << attempts.clamp(1, 20).saturating_sub(1);
    (minutes * 60_000).min(24 * 3600 * 1000)
}

struct Claimed {
    id: i64,
    kind: String,
    payload: Value,
    attempts: i64,
    max_attempts: i64,
}

async fn claim(db: &Db, at_ms: i64) -> anyhow::Result<Vec<Claimed>> {
    let skip_locked = match db.dialect() {
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let mut tx = db.begin().await?;
    let rows = tx
        .fetch_all(
            &format!(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = ? \
                 WHERE id IN (SELECT id FROM jobs \
                   WHERE (state = 'queued' AND run_at <= ?) \
                      OR (state = 'running' AND locked_until < ?) \
                   ORDER BY run_at, id LIMIT {BATCH}{skip_locked}) \
                 RETURNING id, kind, payload, attempts, max_attempts"
            ),
            &[
                Param::Int(at_ms + LOCK_MS),
                Param::Int(at_ms),
                Param::Int(at_ms),
            ],
        )
        .await?;
    tx.commit().await?;
    let mut claimed: Vec<Claimed> = rows
        .iter()
        .map(|r| Claimed {
            id: r.int("id"),
            kind: r.text("kind"),
            payload: serde_json::from_str(&r.text("payload")).unwrap_or(Value::Null),
            attempts: r.int("attempts"),
            max_attempts: r.int("max_attempts"),
        })
        .collect();
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Runs every job due at `at` once, including one of each periodic kind for the slot `at`
/// falls in, and jobs that those jobs queue for `at` or earlier.
pub async fn run_due(db: &Db, env: &JobEnv, at: DateTime<Utc>) -> anyhow::Result<RunReport> {
    let at_ms = to_millis(at);
    let mut tx = db.begin().await?;
    for (kind, every) in PERIODIC {
        let slot = at_ms - at_ms.rem_euclid(every * 1000);
        enqueue(
            &mut tx,
            kind,
            &Value::Null,
            slot,
            Some(&format!("{kind}@{slot}")),
        )
        .await?;
    }
    tx.commit().await?;

    let mut report = RunReport::default();
    loop {
        let claimed = claim(db, at_ms).await?;
        if claimed.is_empty() {
            return Ok(report);
        }
        for job in claimed {
            let outcome = handle(db, env, &job.kind, &job.payload, at).await;
            let (state, run_at, error) = match outcome {
                Ok(()) => {
                    report.done += 1;
                    ("done", None, None)
                }
                Err(JobFailure::Retry(e)) if job.attempts < job.max_attempts => {
                    report.retried += 1;
                    tracing::warn!(
                        job = job.id,
                        kind = job.kind,
                        error = e,
                        "job failed; will retry"
                    );
                    ("queued", Some(at_ms + backoff_ms(job.attempts)), Some(e))
                }
                Err(JobFailure::Retry(e) | JobFailure::Permanent(e)) => {
                    report.failed += 1;
                    tracing::error!(
                        job = job.id,
                        kind = job.kind,
                        error = e,
                        "job failed for good"
                    );
                    ("failed", None, Some(e))
                }
            };
            let finished = (state != "queued").then_some(at_ms);
            db.execute(
                "UPDATE jobs SET state = ?, run_at = COALESCE(?, run_at), last_error = ?, \
                 locked_until = NULL, finished_at = ? WHERE id = ?",
                &[
                    Param::from(state),
                    Param::from(run_at),
                    Param::from(error),
                    Param::from(finished),
                    Param::Int(job.id),
                ],
            )
            .await?;
        }
    }
}

/// Runs one job.
async fn handle(
    db: &Db,
    env: &JobEnv,
    kind: &str,
    payload: &Value,
    at: DateTime<Utc>,
) -> Result<(), JobFailure> {
    let _ = (env, payload);
    match kind {
        "jobs.prune" => prune(db, at).await,
        crate::leads::dedup::scan::JOB => crate::leads::dedup::scan::run(db, payload, at).await,
        crate::channels::mail::SEND => crate::channels::mail::send_job(env, payload, at).await,
        crate::channels::mail::NOTIFICATION_DIGEST => {
            crate::channels::mail::notification_digest(db, env, at).await
        }
        crate::channels::webhooks::JOB_KIND => {
            crate::channels::webhooks::deliver_job(db, env, payload, at).await
        }
        crate::leads::scoring::RESCORE_JOB => {
            crate::leads::scoring::rescore_job(db, payload, at).await
        }
        crate::leads::scoring::DECAY_JOB => crate::leads::scoring::decay_job(db, at).await,
        crate::leads::pool::RECYCLE_JOB => Ok(crate::leads::pool::recycle(db, at).await?),
        crate::leads::followups::REMIND_JOB => Ok(crate::leads::followups::remind(db, at).await?),
        crate::leads::followups::SLA_JOB => Ok(crate::leads::followups::sla_check(db, at).await?),
        other => Err(JobFailure::Permanent(format!(
            "no handler for job kind '{other}'"
        ))),
    }
}

/// Deletes finished jobs older than [`KEEP_FINISHED_MS`].
async fn prune(db: &Db, at: DateTime<Utc>) -> Result<(), JobFailure> {
    db.execute(
        "DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished_at < ?",
        &[Param::Int(to_millis(at) - KEEP_FINISHED_MS)],
    )
    .await?;
    Ok(())
}

/// How many jobs are in each state, for `/metrics`.
pub async fn counts(db: &Db) -> anyhow::Result<Vec<(String, i64)>> {
    let rows = db
        .fetch_all(
            "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.text("state"), r.int("n"))).collect())
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_from_a_minute_up_to_a_day() {
        assert_eq!(backoff_ms(1), 60_000);
        assert_eq!(backoff_ms(2), 120_000);
        assert_eq!(backoff_ms(4), 480_000);
        assert_eq!(backoff_ms(30), 24 * 3600 * 1000);
    }
}
