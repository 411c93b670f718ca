//! Background work: the queue ([`queue`]) and the runner. Every kind of job is listed once in
//! [`REGISTRY`]; a job with a schedule gets one run per time slot across all instances (each
//! slot is queued under a unique key). Adding a job is one type implementing [`Job`] in its
//! feature's module and one line here.

pub mod queue;

use crate::channels::{mail, robots, webhooks};
use crate::data::backup::schedule as backups;
use crate::leads::dedup::scan;
use crate::leads::{followups, pool, prediction, scoring};
use crate::sales::summaries;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use queue::{backoff_ms, claim, enqueue_kind, Registered, KEEP_FINISHED_MS};
pub use queue::{counts, Job, JobEnv, JobFailure, RunReport};
use xiansuo_core::clock::to_millis;
use xiansuo_store::{Db, Param};

/// Every kind of background job.
pub const REGISTRY: &[&dyn Registered] = &[
    &Prune,
    &scan::Scan,
    &mail::SendEmail,
    &mail::NotificationDigest,
    &webhooks::Deliver,
    &robots::Deliver,
    &scoring::Rescore,
    &scoring::Decay,
    &prediction::Train,
    &prediction::Retrain,
    &pool::Recycling,
    &followups::Remind,
    &followups::SlaCheck,
    &backups::Scheduled,
    &backups::TakeNow,
    &summaries::Fold,
];

/// The jobs that run on their own, with how often, in seconds.
pub fn periodic() -> impl Iterator<Item = (&'static str, i64)> {
    REGISTRY
        .iter()
        .filter_map(|job| Some((job.kind(), job.every()?)))
}

/// Deletes finished jobs once they have been kept for inspection long enough.
struct Prune;

#[async_trait]
impl Job for Prune {
    const KIND: &'static str = "jobs.prune";
    const EVERY: Option<i64> = Some(24 * 3600);
    type Payload = ();

    async fn run(&self, db: &Db, _: &JobEnv, _: (), at: DateTime<Utc>) -> Result<(), JobFailure> {
        db.execute(
            "DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished_at < ?",
            &[Param::Int(to_millis(at) - KEEP_FINISHED_MS)],
        )
        .await?;
        Ok(())
    }
}

/// Runs every job due at `at` once, including one of each periodic kind for the slot `at`
/// falls in, and jobs that those jobs queue for `at` or earlier.
pub async fn run_due(db: &Db, env: &JobEnv, at: DateTime<Utc>) -> anyhow::Result<RunReport> {
    let at_ms = to_millis(at);
    let mut tx = db.begin().await?;
    for (kind, every) in periodic() {
        let slot = at_ms - at_ms.rem_euclid(every * 1000);
        enqueue_kind(
            &mut tx,
            kind,
            &serde_json::Value::Null,
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
            let outcome = match REGISTRY.iter().find(|j| j.kind() == job.kind) {
                Some(handler) => handler.run_stored(db, env, job.payload, at).await,
                None => Err(JobFailure::Permanent(format!(
                    "no handler for job kind '{}'",
                    job.kind
                ))),
            };
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
