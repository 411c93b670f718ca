//! How often the win prediction is trained again on its own (`GET/PUT
//! /api/v1/prediction/schedule`, the form on `/settings/prediction`): every N days from the
//! last training, or never. Without a choice it is weekly. The `prediction.retrain` job looks
//! daily whether a training is due; it trains only after an admin has trained a first model.

use crate::admin::audit;
use crate::error::StoreResult;
use crate::records::{rfc3339, Ctx};
use crate::scope::Actor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::validation::Unread;
use xiansuo_core::Invalid;
use xiansuo_store::{Db, Param};

/// The interval when an admin has chosen none: a week.
pub const DEFAULT_EVERY_DAYS: i64 = 7;

/// The longest interval that can be chosen: a year.
pub const MAX_EVERY_DAYS: i64 = 365;

/// The retraining schedule as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
#[schema(
    as = PredictionSchedule,
    description = "How often the model is trained again on its own"
)]
pub struct Schedule {
    /// Days from one training to the next; 0 when it is trained only on request
    #[schema(minimum = 0, maximum = 365)]
    pub every_days: i64,
    /// When it is next trained (RFC 3339): `every_days` after the last training, or null
    /// before the first model or with retraining off
    #[schema(required = true, format = DateTime)]
    pub next_at: Option<String>,
}

/// A change to the schedule: `{"every_days": 0–365}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PredictionScheduleInput, description = "The retraining interval")]
pub struct ScheduleInput {
    /// Days from one training to the next (1–365), or 0 to train only on request
    #[schema(minimum = 0, maximum = 365)]
    pub every_days: i64,
}

/// The chosen interval in days (the default when none was chosen).
async fn every_days(db: &Db) -> anyhow::Result<i64> {
    Ok(db
        .fetch_optional(
            "SELECT every_days FROM prediction_schedule WHERE id = 1",
            &[],
        )
        .await?
        .map_or(DEFAULT_EVERY_DAYS, |r| r.int("every_days")))
}

/// When the latest model was trained, in milliseconds, if there is one.
async fn last_trained(db: &Db) -> anyhow::Result<Option<i64>> {
    Ok(db
        .fetch_optional(
            "SELECT trained_at FROM prediction_models ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await?
        .map(|r| r.int("trained_at")))
}

/// When the next training is due, in milliseconds: `None` without a model or with retraining
/// off.
async fn next_at(db: &Db, every_days: i64) -> anyhow::Result<Option<i64>> {
    if every_days == 0 {
        return Ok(None);
    }
    Ok(last_trained(db)
        .await?
        .map(|at| at + every_days * 24 * 3600 * 1000))
}

async fn schedule(db: &Db) -> anyhow::Result<Schedule> {
    let every_days = every_days(db).await?;
    Ok(Schedule {
        every_days,
        next_at: next_at(db, every_days).await?.map(rfc3339),
    })
}

/// The schedule (admins only).
pub async fn get(db: &Db, actor: &Actor) -> StoreResult<Schedule> {
    actor.require_admin("see the prediction schedule")?;
    Ok(schedule(db).await?)
}

/// Sets the interval (admins only), logged in the settings audit.
pub async fn set(ctx: Ctx<'_>, input: Unread<ScheduleInput>) -> StoreResult<Schedule> {
    ctx.actor.require_admin("change the prediction schedule")?;
    let input = input.read()?;
    if !(0..=MAX_EVERY_DAYS).contains(&input.every_days) {
        return Err(Invalid::new(
            "every_days",
            format!("must be a whole number of days from 1 to {MAX_EVERY_DAYS}, or 0 to train only on request"),
        )
        .into());
    }
    let mut tx = ctx.db.begin().await?;
    let snapshot = audit::Before::take(
        &mut tx,
        audit::Setting::PredictionSchedule,
        audit::SINGLETON,
    )
    .await?;
    tx.execute(
        "INSERT INTO prediction_schedule (id, every_days, updated_at) VALUES (1, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET every_days = excluded.every_days, updated_at = excluded.updated_at",
        &[Param::Int(input.every_days), Param::Int(to_millis(ctx.now))],
    )
    .await?;
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
        .await?;
    tx.commit().await?;
    Ok(schedule(ctx.db).await?)
}

/// Whether the model is due to be trained again at `at`.
pub(super) async fn due(db: &Db, at: DateTime<Utc>) -> anyhow::Result<bool> {
    let every_days = every_days(db).await?;
    Ok(next_at(db, every_days)
        .await?
        .is_some_and(|next| next <= to_millis(at)))
}
