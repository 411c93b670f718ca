//! The queue of background jobs, stored in the `jobs` table so that they survive restarts and
//! run exactly once however many instances share the database, and the [`Job`] trait each
//! kind of background work implements.
//!
//! A job is queued inside the transaction that makes it necessary ([`enqueue`]), so it exists
//! if and only if that change committed. The runner (`jobs::run_due`) claims due jobs in
//! small batches (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so two instances never claim the
//! same job; on SQLite the single writer serialises claims), runs each once, and records the
//! outcome: done, queued again with exponential backoff, or failed for good after its last
//! attempt. A job whose instance died while running it is claimed again once its lock expires.

use crate::error::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use xiansuo_store::{Db, Param, Tx};

/// How many jobs one claim takes.
const BATCH: i64 = 32;

/// How long a claimed job stays locked to its instance before others may take it over.
const LOCK_MS: i64 = 5 * 60 * 1000;

/// Finished jobs are kept this long (for inspection), then pruned.
pub(super) const KEEP_FINISHED_MS: i64 = 7 * 24 * 3600 * 1000;

/// What job handlers may use besides the database.
#[derive(Debug, Clone, Default)]
pub struct JobEnv {
    /// For outbound HTTP (webhooks).
    pub http: reqwest::Client,
    /// `smtp://host:port`, `smtps://user:pass@host` …; no email is sent without it.
    pub smtp_url: Option<String>,
    /// The sender address of outgoing email.
    pub smtp_from: Option<String>,
    /// Where scheduled and requested backups are written; none are taken without it.
    pub backup_dir: Option<std::path::PathBuf>,
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

/// A kind of background work: its name in the queue, what each queued job carries, how often
/// it runs on its own, and what it does. Each is listed once in `jobs::REGISTRY`.
#[async_trait]
pub trait Job: Send + Sync {
    /// The `kind` stored with each queued job; never renamed once released.
    const KIND: &'static str;
    /// How often the job runs on its own, in seconds; `None` for work that changes queue.
    const EVERY: Option<i64> = None;
    /// What a queued job carries; `()` for a job that carries nothing.
    type Payload: Serialize + DeserializeOwned + Send + Sync;

    /// Does the work once. A [`JobFailure::Retry`] runs it again later.
    async fn run(
        &self,
        db: &Db,
        env: &JobEnv,
        payload: Self::Payload,
        at: DateTime<Utc>,
    ) -> Result<(), JobFailure>;
}

/// A [`Job`] of any payload, as the registry holds it: the stored payload is decoded into the
/// job's own type first, and one that does not decode fails for good.
#[async_trait]
pub trait Registered: Send + Sync {
    fn kind(&self) -> &'static str;
    fn every(&self) -> Option<i64>;
    async fn run_stored(
        &self,
        db: &Db,
        env: &JobEnv,
        payload: Value,
        at: DateTime<Utc>,
    ) -> Result<(), JobFailure>;
}

#[async_trait]
impl<J: Job> Registered for J {
    fn kind(&self) -> &'static str {
        J::KIND
    }

    fn every(&self) -> Option<i64> {
        J::EVERY
    }

    async fn run_stored(
        &self,
        db: &Db,
        env: &JobEnv,
        payload: Value,
        at: DateTime<Utc>,
    ) -> Result<(), JobFailure> {
        let payload = serde_json::from_value(payload)
            .map_err(|e| JobFailure::Permanent(format!("the payload of a {} job: {e}", J::KIND)))?;
        self.run(db, env, payload, at).await
    }
}

/// Queues a job of kind `J` to run at `run_at_ms` (or at the next run, if that has passed).
/// With a `unique_key`, a job with the same key that exists already (queued, running or
/// finished) wins and nothing is queued; returns whether the job was queued.
pub async fn enqueue<J: Job>(
    tx: &mut Tx,
    payload: &J::Payload,
    run_at_ms: i64,
    unique_key: Option<&str>,
) -> anyhow::Result<bool> {
    let payload = serde_json::to_value(payload)?;
    enqueue_kind(tx, J::KIND, &payload, run_at_ms, unique_key).await
}

/// [`enqueue`] by the kind's name, for the runner's periodic slots.
pub(super) async fn enqueue_kind(
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

pub(super) struct Claimed {
    pub(super) id: i64,
    pub(super) kind: String,
    pub(super) payload: Value,
    pub(super) attempts: i64,
    pub(super) max_attempts: i64,
}

/// Takes up to [`BATCH`] due jobs for this instance.
pub(super) async fn claim(db: &Db, at_ms: i64) -> anyhow::Result<Vec<Claimed>> {
    let skip_locked = db.dialect().lock_rows_skip_locked();
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
