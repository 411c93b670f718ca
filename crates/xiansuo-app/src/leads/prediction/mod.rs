//! Win prediction (赢单预测): a model trained in the product from leads' outcomes, giving every
//! lead its `win_probability` and the reasons for it.
//!
//! Training ([`train`], the `prediction.train` job, `xiansuo predict train`) reads the leads
//! with an outcome: converted or whose opportunity was won (positive), disqualified or whose
//! opportunity was lost (negative). What the model sees of each ([`features`]) is what was
//! known before the outcome: the lead's fields, never its status, conversion or scores, and
//! the events and follow-ups dated before the outcome. Leads are read in batches; past
//! [`MAX_TRAINING_ROWS`] outcomes the larger class is sampled and the probabilities corrected
//! for it. [`model`] compares the learners and calibrates the better one; the model is stored
//! in `prediction_models` (the latest is in use), and then every lead is scored. A lead
//! created or changed afterwards is scored by the [`Predicting`] hook.

pub mod features;
pub mod model;
pub mod schedule;

use crate::error::{StoreError, StoreResult};
use crate::jobs::queue::{self, Job, JobEnv, JobFailure};
use crate::records::custom_fields;
use crate::records::lifecycle::{Change, Hook};
use crate::records::schema::LEADS;
use crate::records::{self, rfc3339, Ctx, NewRecord};
use crate::scope::Actor;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use features::{Behaviour, Column, Encoder, Fact, Vocabulary};
use model::{Dense, Evaluation, Fitted, Learner, StoredFit};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::{CustomFieldDef, RecordType};
use xiansuo_core::prediction::{mix, sigmoid, Decile, Platt};
use xiansuo_store::{Db, Param, Row, Tx};

/// The fewest positive and negative outcomes a model is trained on.
pub const MIN_OUTCOMES: i64 = 20;
/// The most outcomes read for training; beyond it the larger class is sampled.
pub const MAX_TRAINING_ROWS: i64 = 50_000;
/// Leads read or scored per batch.
const BATCH: i64 = 500;
/// Reasons given per lead.
const REASONS: usize = 5;
/// Important features shown for the model.
const IMPORTANT: usize = 10;

/// What a training run did, as `xiansuo predict train` prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Cross-validated AUC of the kept model.
    pub auc: f64,
    /// Leads trained on (those with an outcome, after any sampling).
    pub leads: i64,
    pub positives: i64,
    pub negatives: i64,
    /// Columns the model reads.
    pub features: usize,
    /// The kept model: `gradient_boosted_trees` or `logistic_regression`.
    pub model: String,
    /// Leads scored afterwards.
    pub scored: i64,
}

/// One important column of the model.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(description = "A column the model leans on")]
pub struct Important {
    /// The lead field (custom.KEY for a custom field; events and activities count behaviour
    /// before the outcome)
    pub field: String,
    /// The value the column tests; null for a number
    #[schema(required = true)]
    pub value: Option<String>,
    /// Its share of the model's importance
    pub importance: f64,
}

/// What the model's page shows, stored with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Report {
    features: usize,
    comparison: Vec<Evaluation>,
    deciles: Vec<Decile>,
    important_features: Vec<Important>,
}

/// The model as `prediction_models.model` stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredModel {
    columns: Vec<Column>,
    fit: StoredFit,
    platt: Platt,
    /// Added to the log-odds to undo the sampling of the larger class.
    prior_shift: f64,
}

/// The model in use, ready to score.
pub struct Predictor {
    encoder: Encoder,
    fitted: Fitted,
    platt: Platt,
    prior_shift: f64,
    defs: Vec<CustomFieldDef>,
}

impl Predictor {
    fn facts(&self, lead: &Value, behaviour: Behaviour) -> Vec<(String, Fact)> {
        features::facts(lead, &self.defs, behaviour)
    }

    fn probability_of_raw(&self, raw: f64) -> f64 {
        sigmoid(self.platt.a * raw + self.platt.b + self.prior_shift)
    }

    /// The probabilities of leads (as the API shows them) with their behaviour.
    fn probabilities(&self, leads: &[(Value, Behaviour)]) -> Vec<f64> {
        let mut x = Dense::new(self.encoder.columns().len());
        for (lead, behaviour) in leads {
            x.push(&self.encoder.encode(&self.facts(lead, *behaviour)));
        }
        self.fitted
            .raw(&x)
            .into_iter()
            .map(|r| self.probability_of_raw(r))
            .collect()
    }
}

/// Whether a lead (`l`, with its opportunity `o`) is a positive outcome: won, or converted (here,
/// or in the system it was imported from) and not lost.
const POSITIVE_SQL: &str =
    "(o.result = 'won' OR (COALESCE(o.result, '') <> 'lost' AND l.status = 'converted'))";

/// Whether a lead is a negative outcome: lost, or disqualified and not won.
const NEGATIVE_SQL: &str =
    "(o.result = 'lost' OR (l.status = 'disqualified' AND COALESCE(o.result, '') <> 'won'))";
const OUTCOME_JOIN: &str = "FROM leads l LEFT JOIN opportunities o \
     ON o.id = l.converted_opportunity_id AND o.deleted_at IS NULL \
     WHERE l.deleted_at IS NULL";

/// How many leads have a positive and a negative outcome.
pub async fn outcome_counts(db: &Db) -> anyhow::Result<(i64, i64)> {
    let row = db
        .fetch_optional(
            &format!(
                "SELECT SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS positives, \
                 SUM(CASE WHEN {} THEN 0 WHEN {NEGATIVE_SQL} THEN 1 ELSE 0 END) AS negatives \
                 {OUTCOME_JOIN}",
                POSITIVE_SQL, POSITIVE_SQL
            ),
            &[],
        )
        .await?;
    Ok(row.map_or((0, 0), |r| (r.int("positives"), r.int("negatives"))))
}

/// Refuses to train on too few outcomes of either kind.
async fn check_outcomes(db: &Db) -> StoreResult<(i64, i64)> {
    let (positives, negatives) = outcome_counts(db).await?;
    if positives < MIN_OUTCOMES || negatives < MIN_OUTCOMES {
        return Err(StoreError::Conflict(format!(
            "too few outcomes to train on: {positives} leads converted or won and {negatives} disqualified or lost; at least {MIN_OUTCOMES} of each are needed"
        )));
    }
    Ok((positives, negatives))
}

/// The ids of rows as a SQL list (ids are numbers, so they are written inline).
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// The behaviour of leads: events and follow-ups dated before each lead's cutoff (all of them
/// for a lead without one).
async fn behaviour(
    tx: &mut Tx,
    ids: &[i64],
    cutoffs: &HashMap<i64, i64>,
) -> anyhow::Result<HashMap<i64, Behaviour>> {
    let mut out: HashMap<i64, Behaviour> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let list = id_list(ids);
    let before = |row: &Row| {
        cutoffs
            .get(&row.int("id"))
            .is_none_or(|&cutoff| row.int("at") < cutoff)
    };
    for row in tx
        .fetch_all(
            &format!("SELECT lead_id AS id, occurred_at AS at FROM lead_events WHERE lead_id IN ({list})"),
            &[],
        )
        .await?
    {
        if before(&row) {
            out.entry(row.int("id")).or_default().events += 1;
        }
    }
    for row in tx
        .fetch_all(
            &format!(
                "SELECT record_id AS id, created_at AS at FROM activities \
                 WHERE record_type = 'lead' AND deleted_at IS NULL AND record_id IN ({list})"
            ),
            &[],
        )
        .await?
    {
        if before(&row) {
            out.entry(row.int("id")).or_default().activities += 1;
        }
    }
    Ok(out)
}

/// When each of these outcome leads got its outcome: its conversion, or the last change of
/// its status (disqualified), or its last update when the history has none.
async fn outcome_times(tx: &mut Tx, rows: &[Row]) -> anyhow::Result<HashMap<i64, i64>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.int("id")).collect();
    let mut status_at: HashMap<i64, i64> = HashMap::new();
    if !ids.is_empty() {
        for row in tx
            .fetch_all(
                &format!(
                    "SELECT record_id, MAX(at) AS at FROM history WHERE record_type = 'lead' \
                     AND field = 'status' AND record_id IN ({}) GROUP BY record_id",
                    id_list(&ids)
                ),
                &[],
            )
            .await?
        {
            status_at.insert(row.int("record_id"), row.int("at"));
        }
    }
    Ok(rows
        .iter()
        .map(|r| {
            let id = r.int("id");
            let at = r
                .opt_int("converted_at")
                .or_else(|| status_at.get(&id).copied())
                .unwrap_or_else(|| r.int("updated_at"));
            (id, at)
        })
        .collect())
}

/// The share of a class read for training: all of it unless the outcomes exceed
/// [`MAX_TRAINING_ROWS`], when the larger class is sampled down.
fn sample_rates(positives: i64, negatives: i64) -> (f64, f64) {
    if positives + negatives <= MAX_TRAINING_ROWS {
        return (1.0, 1.0);
    }
    let half = MAX_TRAINING_ROWS / 2;
    let rate = |own: i64, other: i64| {
        let room = MAX_TRAINING_ROWS - other.min(half);
        (room as f64 / own as f64).min(1.0)
    };
    (rate(positives, negatives), rate(negatives, positives))
}

/// True when the lead with this id is in a class's sample.
fn sampled(id: i64, rate: f64) -> bool {
    rate >= 1.0 || (mix(id as u64) % 1_000_000) as f64 / 1_000_000.0 < rate
}

/// Trains the model on the leads' outcomes, stores it, and scores every lead.
pub async fn train(db: &Db, trained_by: Option<i64>, now: DateTime<Utc>) -> StoreResult<Summary> {
    let (all_positives, all_negatives) = check_outcomes(db).await?;
    let (positive_rate, negative_rate) = sample_rates(all_positives, all_negatives);
    let defs = custom_fields::definitions(db, RecordType::Lead).await?;

    let mut vocabulary = Vocabulary::default();
    let mut examples: Vec<(Vec<(String, Fact)>, bool)> = Vec::new();
    let mut after_id = 0;
    loop {
        let mut tx = db.begin().await?;
        let rows = tx
            .fetch_all(
                &format!(
                    "SELECT l.*, CASE WHEN {} THEN 1 ELSE 0 END AS positive {OUTCOME_JOIN} \
                     AND l.id > ? AND ({} OR {NEGATIVE_SQL}) ORDER BY l.id LIMIT {BATCH}",
                    POSITIVE_SQL, POSITIVE_SQL
                ),
                &[Param::Int(after_id)],
            )
            .await?;
        let Some(last) = rows.last() else { break };
        after_id = last.int("id");
        let labelled: Vec<(&Row, bool)> = rows
            .iter()
            .filter_map(|r| {
                let positive = r.int("positive") == 1;
                let rate = if positive {
                    positive_rate
                } else {
                    negative_rate
                };
                sampled(r.int("id"), rate).then_some((r, positive))
            })
            .collect();
        let kept: Vec<Row> = labelled.iter().map(|(r, _)| (*r).clone()).collect();
        let cutoffs = outcome_times(&mut tx, &kept).await?;
        let ids: Vec<i64> = kept.iter().map(|r| r.int("id")).collect();
        let mut done = behaviour(&mut tx, &ids, &cutoffs).await?;
        tx.commit().await?;
        for (row, positive) in labelled {
            let lead = records::to_json(&LEADS, row);
            let facts = features::facts(
                &lead,
                &defs,
                done.remove(&row.int("id")).unwrap_or_default(),
            );
            vocabulary.count(&facts);
            examples.push((facts, positive));
        }
        if (rows.len() as i64) < BATCH {
            break;
        }
    }

    let min_support = (examples.len() / 1000).clamp(3, 50);
    let encoder = vocabulary.encoder(min_support);
    let mut x = Dense::new(encoder.columns().len());
    let mut y = Vec::with_capacity(examples.len());
    for (facts, positive) in examples {
        x.push(&encoder.encode(&facts));
        y.push(positive);
    }
    let positives = y.iter().filter(|&&l| l).count() as i64;
    let negatives = y.len() as i64 - positives;
    let trained = tokio::task::spawn_blocking(move || model::train(&x, &y))
        .await
        .map_err(|e| anyhow::anyhow!("training stopped: {e}"))??;

    let columns = encoder.columns().to_vec();
    let importance = trained.fitted.importance(columns.len());
    let mut ranked: Vec<(usize, f64)> = importance.into_iter().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let report = Report {
        features: columns.len(),
        comparison: trained.evaluations.clone(),
        deciles: trained.deciles.clone(),
        important_features: ranked
            .into_iter()
            .filter(|(_, v)| *v > 0.0)
            .take(IMPORTANT)
            .map(|(j, importance)| Important {
                field: columns[j].field.clone(),
                value: columns[j].value.clone(),
                importance,
            })
            .collect(),
    };
    let stored = StoredModel {
        columns,
        fit: trained.fitted.to_stored()?,
        platt: trained.platt,
        prior_shift: (negative_rate / positive_rate).ln(),
    };
    let now_ms = to_millis(now);
    db.execute(
        "INSERT INTO prediction_models (trained_at, trained_by, leads, positives, negatives, auc, \
         top_decile_lift, kind, summary, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Param::Int(now_ms),
            Param::from(trained_by),
            Param::Int(positives + negatives),
            Param::Int(positives),
            Param::Int(negatives),
            Param::Real(trained.auc),
            Param::Real(trained.top_decile_lift),
            Param::from(trained.fitted.learner().code()),
            Param::from(serde_json::to_string(&report).map_err(anyhow::Error::from)?),
            Param::from(serde_json::to_string(&stored).map_err(anyhow::Error::from)?),
        ],
    )
    .await?;
    db.settings().clear::<Option<Arc<Predictor>>>();
    let predictor = Predictor {
        encoder,
        fitted: trained.fitted,
        platt: stored.platt,
        prior_shift: stored.prior_shift,
        defs,
    };
    let scored = score_all(db, &predictor).await?;
    Ok(Summary {
        auc: trained.auc,
        leads: positives + negatives,
        positives,
        negatives,
        features: report.features,
        model: predictor.fitted.learner().code().to_owned(),
        scored,
    })
}

/// Scores every lead with `predictor`, a batch at a time; returns how many.
async fn score_all(db: &Db, predictor: &Predictor) -> anyhow::Result<i64> {
    let mut after_id = 0;
    let mut scored = 0;
    loop {
        let mut tx = db.begin().await?;
        let rows = tx
            .fetch_all(
                &format!(
                    "SELECT * FROM leads WHERE id > ? AND deleted_at IS NULL ORDER BY id LIMIT {BATCH}"
                ),
                &[Param::Int(after_id)],
            )
            .await?;
        let Some(last) = rows.last() else { break };
        after_id = last.int("id");
        let ids: Vec<i64> = rows.iter().map(|r| r.int("id")).collect();
        let mut done = behaviour(&mut tx, &ids, &HashMap::new()).await?;
        let leads: Vec<(Value, Behaviour)> = rows
            .iter()
            .map(|r| {
                let b = done.remove(&r.int("id")).unwrap_or_default();
                (records::to_json(&LEADS, r), b)
            })
            .collect();
        let probabilities = predictor.probabilities(&leads);
        let mut sql = String::from("UPDATE leads SET win_probability = CASE id");
        let mut params = Vec::with_capacity(ids.len() * 2);
        for (id, p) in ids.iter().zip(&probabilities) {
            sql.push_str(" WHEN ? THEN ?");
            params.push(Param::Int(*id));
            params.push(Param::Real(*p));
        }
        sql.push_str(&format!(
            " ELSE win_probability END WHERE id IN ({})",
            id_list(&ids)
        ));
        tx.execute(&sql, &params).await?;
        tx.commit().await?;
        scored += ids.len() as i64;
        if (rows.len() as i64) < BATCH {
            break;
        }
    }
    Ok(scored)
}

/// The model in use, from the cache when it is fresh; `None` before any training.
pub async fn predictor(db: &Db) -> anyhow::Result<Option<Arc<Predictor>>> {
    if let Some(cached) = db.settings().get::<Option<Arc<Predictor>>>(0) {
        return Ok(cached);
    }
    let loaded = match db
        .fetch_optional(
            "SELECT model FROM prediction_models ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await?
    {
        None => None,
        Some(row) => {
            let stored: StoredModel = serde_json::from_str(&row.text("model"))?;
            Some(Arc::new(Predictor {
                encoder: Encoder::new(stored.columns),
                fitted: Fitted::from_stored(stored.fit)?,
                platt: stored.platt,
                prior_shift: stored.prior_shift,
                defs: custom_fields::definitions(db, RecordType::Lead).await?,
            }))
        }
    };
    db.settings().put(0, loaded.clone());
    Ok(loaded)
}

/// The model in use as `GET /api/v1/prediction` shows it: only `model` (null) and
/// `trained_by` (null) before any training.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = PredictionModel,
    description = "The win-prediction model in use; only `model` and `trained_by` (both null) before any training"
)]
pub struct ModelReport {
    /// The kept learner, chosen by cross-validated AUC; null before any training
    #[schema(required = true)]
    pub model: Option<Learner>,
    /// When it was trained (RFC 3339)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    pub trained_at: Option<String>,
    /// Who asked for the training; null from the command line or before any training
    #[schema(required = true)]
    pub trained_by: Option<i64>,
    /// Leads trained on (those with an outcome)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub leads: Option<i64>,
    /// Of them converted or won
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub positives: Option<i64>,
    /// Of them disqualified or lost
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub negatives: Option<i64>,
    /// Cross-validated AUC (0.5 is chance, 1 perfect)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub auc: Option<f64>,
    /// How many times the overall rate of wins the best-scored tenth has (out of fold)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub top_decile_lift: Option<f64>,
    /// Columns the model reads
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub features: Option<usize>,
    /// Each learner compared
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub comparison: Option<Vec<Evaluation>>,
    /// The lift chart, out of fold
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub deciles: Option<Vec<Decile>>,
    /// The most important columns, most first
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub important_features: Option<Vec<Important>>,
}

/// The model in use (admins only); see [`ModelReport`].
pub async fn current(db: &Db, actor: &Actor) -> StoreResult<ModelReport> {
    actor.require_admin("see the prediction model")?;
    let Some(row) = db
        .fetch_optional(
            "SELECT id, trained_at, trained_by, leads, positives, negatives, auc, top_decile_lift, \
             kind, summary FROM prediction_models ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await?
    else {
        return Ok(ModelReport {
            model: None,
            trained_at: None,
            trained_by: None,
            leads: None,
            positives: None,
            negatives: None,
            auc: None,
            top_decile_lift: None,
            features: None,
            comparison: None,
            deciles: None,
            important_features: None,
        });
    };
    let report: Report = serde_json::from_str(&row.text("summary")).map_err(anyhow::Error::from)?;
    let real = |name: &str| match row.get(name) {
        xiansuo_store::Cell::Real(v) => *v,
        other => other.to_json().as_f64().unwrap_or_default(),
    };
    let model = Learner::ALL
        .iter()
        .copied()
        .find(|l| l.code() == row.text("kind"))
        .ok_or_else(|| anyhow::anyhow!("unknown learner {}", row.text("kind")))?;
    Ok(ModelReport {
        model: Some(model),
        trained_at: Some(rfc3339(row.int("trained_at"))),
        trained_by: row.opt_int("trained_by"),
        leads: Some(row.int("leads")),
        positives: Some(row.int("positives")),
        negatives: Some(row.int("negatives")),
        auc: Some(real("auc")),
        top_decile_lift: Some(real("top_decile_lift")),
        features: Some(report.features),
        comparison: Some(report.comparison),
        deciles: Some(report.deciles),
        important_features: Some(report.important_features),
    })
}

/// A queued training run, as `POST /api/v1/prediction/train` answers it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PredictionJob, description = "The queued training")]
pub struct QueuedTraining {
    pub job: QueuedJob,
}

/// The job of a training run.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "The background job `prediction.train`")]
pub struct QueuedJob {
    /// The job's id
    pub id: i64,
    /// prediction.train
    pub kind: String,
    /// Its state: queued or running
    #[schema(pattern = "^(queued|running)$")]
    pub state: String,
    /// When it was queued
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// Queues a training run (admins only), refusing at once when there are too few outcomes;
/// answers the job. A run already waiting is answered instead of queueing another.
pub async fn start_training(ctx: Ctx<'_>) -> StoreResult<QueuedTraining> {
    ctx.actor.require_admin("train the prediction model")?;
    check_outcomes(ctx.db).await?;
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let pending = "SELECT id, kind, state, created_at FROM jobs WHERE kind = ? \
                   AND state IN ('queued', 'running') ORDER BY id LIMIT 1";
    let kind = Param::from(Train::KIND);
    if tx
        .fetch_optional(pending, std::slice::from_ref(&kind))
        .await?
        .is_none()
    {
        queue::enqueue::<Train>(
            &mut tx,
            &TrainRequest {
                actor_id: Some(ctx.actor.user_id),
            },
            now,
            None,
        )
        .await?;
    }
    let job = tx
        .fetch_optional(pending, &[kind])
        .await?
        .ok_or_else(|| anyhow::anyhow!("the training job was not queued"))?;
    tx.commit().await?;
    Ok(QueuedTraining {
        job: QueuedJob {
            id: job.int("id"),
            kind: job.text("kind"),
            state: job.text("state"),
            created_at: rfc3339(job.int("created_at")),
        },
    })
}

/// The job that trains the model and scores every lead (`prediction.train`).
pub struct Train;

/// Who asked for a training run.
#[derive(Debug, Serialize, Deserialize)]
pub struct TrainRequest {
    #[serde(default)]
    pub actor_id: Option<i64>,
}

#[async_trait]
impl Job for Train {
    const KIND: &'static str = "prediction.train";
    type Payload = TrainRequest;

    async fn run(
        &self,
        db: &Db,
        _: &JobEnv,
        request: TrainRequest,
        at: DateTime<Utc>,
    ) -> Result<(), JobFailure> {
        match train(db, request.actor_id, at).await {
            Ok(_) => Ok(()),
            Err(StoreError::Internal(e)) => Err(JobFailure::Retry(format!("{e:#}"))),
            Err(e) => Err(JobFailure::Permanent(e.to_string())),
        }
    }
}

/// Trains the model again on its own schedule ([`schedule`]: weekly unless an admin chose
/// otherwise) once an admin has trained one (`prediction.retrain`), so that it keeps learning
/// from new outcomes and every lead is scored again. It looks daily whether a training is due;
/// without a model, with retraining off, or while the outcomes have become too few, it does
/// nothing.
pub struct Retrain;

/// How often the retraining job looks whether a training is due, in seconds: daily.
pub const RETRAIN_CHECK_EVERY: i64 = 24 * 3600;

#[async_trait]
impl Job for Retrain {
    const KIND: &'static str = "prediction.retrain";
    const EVERY: Option<i64> = Some(RETRAIN_CHECK_EVERY);
    type Payload = ();

    async fn run(&self, db: &Db, _: &JobEnv, _: (), at: DateTime<Utc>) -> Result<(), JobFailure> {
        if !schedule::due(db, at).await? {
            return Ok(());
        }
        match train(db, None, at).await {
            Ok(_) | Err(StoreError::Invalid(_) | StoreError::Conflict(_)) => Ok(()),
            Err(StoreError::Internal(e)) => Err(JobFailure::Retry(format!("{e:#}"))),
            Err(e) => Err(JobFailure::Permanent(e.to_string())),
        }
    }
}

/// A field's name as people read it.
fn field_label(field: &str, lang: &str, custom: &HashMap<String, String>) -> String {
    let (zh, en) = match field {
        "source" => ("来源", "Source"),
        "campaign" => ("市场活动", "Campaign"),
        "industry" => ("行业", "Industry"),
        "province" => ("省份", "Province"),
        "city" => ("城市", "City"),
        "grade" => ("等级", "Grade"),
        "urgency" => ("紧急程度", "Urgency"),
        "demand_stage" => ("需求阶段", "Demand stage"),
        "title" => ("职位", "Title"),
        "tags" => ("标签", "Tags"),
        "company_size" => ("公司规模", "Company size"),
        "events" => ("行为事件数", "Behaviour events"),
        "activities" => ("跟进次数", "Follow-ups"),
        "phone" => ("电话", "Phone"),
        "email" => ("邮箱", "Email"),
        "company" => ("公司", "Company"),
        other => {
            let key = other.strip_prefix("custom.").unwrap_or(other);
            return custom.get(key).cloned().unwrap_or_else(|| key.to_owned());
        }
    };
    if lang == "en" { en } else { zh }.to_owned()
}

/// One reason: a field, the lead's value of it, its effect on the log-odds, and a sentence.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A factor of the probability")]
pub struct Reason {
    /// The lead field (custom.KEY for a custom field)
    pub field: String,
    /// The lead's value of it; null when it has none
    #[schema(required = true)]
    pub value: Option<String>,
    /// Its effect on the log-odds: positive raises the probability, negative lowers it
    pub effect: f64,
    /// The factor in a sentence, in the caller's language
    pub text: String,
}

/// A lead's win probability (none before any model) and the reasons for it, strongest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A lead's win probability and why")]
pub struct LeadPrediction {
    /// From 0 to 1; null before any model
    #[schema(required = true)]
    pub probability: Option<f64>,
    /// The strongest factors, strongest first (at most five)
    pub reasons: Vec<Reason>,
}

fn reason_text(label: &str, value: Option<&str>, effect: f64, lang: &str) -> String {
    let strong = effect.abs() >= 1.0;
    if lang == "en" {
        let how = match (strong, effect > 0.0) {
            (true, true) => "raises the win probability strongly",
            (false, true) => "raises the win probability slightly",
            (true, false) => "lowers the win probability strongly",
            (false, false) => "lowers the win probability slightly",
        };
        match value {
            Some(v) => format!("{label} “{v}” {how}"),
            None => format!("No {} {how}", label.to_lowercase()),
        }
    } else {
        let how = match (strong, effect > 0.0) {
            (true, true) => "明显提高赢单概率",
            (false, true) => "略微提高赢单概率",
            (true, false) => "明显降低赢单概率",
            (false, false) => "略微降低赢单概率",
        };
        match value {
            Some(v) => format!("{label}为「{v}」，{how}"),
            None => format!("{label}为空，{how}"),
        }
    }
}

/// A lead's probability and the top reasons for it, as `GET /api/v1/leads/{id}/prediction`
/// answers: `{"probability": null, "reasons": []}` before any model.
pub async fn lead_prediction(db: &Db, actor: &Actor, id: i64) -> StoreResult<LeadPrediction> {
    let row = db
        .fetch_optional(
            &format!(
                "SELECT * FROM leads WHERE id = ? AND deleted_at IS NULL{}",
                actor.scope_clause()
            ),
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound(LEADS.schema))?;
    let Some(predictor) = predictor(db).await? else {
        return Ok(LeadPrediction {
            probability: None,
            reasons: Vec::new(),
        });
    };
    let mut tx = db.begin().await?;
    let done = behaviour(&mut tx, &[id], &HashMap::new())
        .await?
        .remove(&id)
        .unwrap_or_default();
    tx.commit().await?;
    let lead = records::to_json(&LEADS, &row);
    let facts = predictor.facts(&lead, done);
    let encoded = predictor.encoder.encode(&facts);
    let probability = predictor.probabilities(&[(lead, done)])[0];
    let shown = features::shown_values(&facts);
    let mut effects: Vec<(String, f64)> = Vec::new();
    for (column, c) in predictor
        .encoder
        .columns()
        .iter()
        .zip(predictor.fitted.contributions(&encoded))
    {
        let effect = c * predictor.platt.a;
        match effects.iter_mut().find(|(f, _)| *f == column.field) {
            Some((_, e)) => *e += effect,
            None => effects.push((column.field.clone(), effect)),
        }
    }
    effects.retain(|(_, e)| e.abs() >= 0.01);
    effects.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    let custom_labels: HashMap<String, String> = db
        .fetch_all(
            "SELECT key, label FROM custom_field_defs WHERE record_type = 'lead'",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.text("key"), r.text("label")))
        .collect();
    let reasons: Vec<Reason> = effects
        .into_iter()
        .take(REASONS)
        .map(|(field, effect)| {
            let value = shown.get(&field).cloned();
            let label = field_label(&field, &actor.locale, &custom_labels);
            Reason {
                text: reason_text(&label, value.as_deref(), effect, &actor.locale),
                field,
                value,
                effect: (effect * 1000.0).round() / 1000.0,
            }
        })
        .collect();
    Ok(LeadPrediction {
        probability: Some(probability),
        reasons,
    })
}

/// Win prediction as a step of a lead's life: a new lead gets its probability before it is
/// written, a changed one after, from the model in use (none before any training).
pub struct Predicting;

#[async_trait]
impl Hook for Predicting {
    async fn preparing(&self, ctx: Ctx<'_>, record: &mut NewRecord) -> StoreResult<()> {
        if record.table().record_type != RecordType::Lead {
            return Ok(());
        }
        if let Some(predictor) = predictor(ctx.db).await? {
            let lead = crate::leads::scoring::record_facts(record);
            let p = predictor.probabilities(&[(lead, Behaviour::default())])[0];
            record.set("win_probability", Param::Real(p));
        }
        Ok(())
    }

    async fn changed(
        &self,
        ctx: Ctx<'_>,
        tx: &mut Tx,
        change: &Change<'_>,
        mut after: Value,
    ) -> StoreResult<Value> {
        if change.table.record_type != RecordType::Lead {
            return Ok(after);
        }
        let Some(predictor) = predictor(ctx.db).await? else {
            return Ok(after);
        };
        let done = behaviour(tx, &[change.id], &HashMap::new())
            .await?
            .remove(&change.id)
            .unwrap_or_default();
        let p = predictor.probabilities(&[(after.clone(), done)])[0];
        if after["win_probability"].as_f64() != Some(p) {
            tx.execute(
                "UPDATE leads SET win_probability = ? WHERE id = ?",
                &[Param::Real(p), Param::Int(change.id)],
            )
            .await?;
            after["win_probability"] = json!(p);
        }
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_larger_class_is_sampled_only_past_the_cap() {
        assert_eq!(sample_rates(100, 1000), (1.0, 1.0));
        let (p, n) = sample_rates(1_000, 999_000);
        assert_eq!(p, 1.0);
        assert!((n * 999_000.0 - 49_000.0).abs() < 1.0);
        assert!(sampled(5, 1.0));
    }

    #[test]
    fn reasons_read_in_either_language() {
        assert_eq!(
            reason_text("来源", Some("referral"), 1.5, "zh"),
            "来源为「referral」，明显提高赢单概率"
        );
        assert_eq!(
            reason_text("Source", Some("referral"), -0.2, "en"),
            "Source “referral” lowers the win probability slightly"
        );
    }
}
