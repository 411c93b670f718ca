//! The sales pipeline: editable stages (阶段) with win probabilities, deals (opportunities) moving
//! through them, won and lost with a reason, the weighted forecast by month and the kanban
//! board.
//!
//! A stage is `open`, `won` or `lost`. A deal's `result` follows the kind of its stage, and its
//! `probability` follows the stage unless the request that moves it sets one. A deal is lost
//! only through [`close`] (`POST /api/v1/opportunities/{id}/lose`), which needs a reason; it can
//! be won that way (`/win`, reason optional) or by moving it to a won stage. The record engine
//! calls [`check_new`] and [`check_change`] on every write of an opportunity, so the stage is
//! checked against the stages table whichever way the deal is written.

use crate::admin::audit;
use crate::channels::events;
use crate::error::{StoreError, StoreResult};
use crate::records::history;
use crate::records::lifecycle::{Change, Hook};
use crate::records::schema::{Table, OPPORTUNITIES};
use crate::records::{self, Ctx, NewRecord};
use crate::scope::Actor;
use async_trait::async_trait;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::choice::{fold, ChoiceKind};
use xiansuo_core::clock::{china_date, china_midnight, to_millis};
use xiansuo_core::custom_field::{parse_key, RecordType};
use xiansuo_core::history::snapshot;
use xiansuo_core::validation::{present, Unread};
use xiansuo_core::{schema, Invalid, Text};
use xiansuo_store::{Db, Param, Period, Reader, Row, Tx};

/// What reaching a stage means for a deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Open,
    Won,
    Lost,
}

impl StageKind {
    pub fn code(self) -> &'static str {
        match self {
            StageKind::Open => "open",
            StageKind::Won => "won",
            StageKind::Lost => "lost",
        }
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        match value {
            "open" => Ok(StageKind::Open),
            "won" => Ok(StageKind::Won),
            "lost" => Ok(StageKind::Lost),
            _ => Err(Invalid::new(
                "kind",
                format!("'{value}' is not one of: open, won, lost"),
            )),
        }
    }
}

/// A pipeline stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PipelineStage, description = "A pipeline stage (阶段)")]
pub struct Stage {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    /// The code deals store in `stage`
    pub code: String,
    /// Chinese name
    pub name_zh: String,
    /// English name
    pub name_en: String,
    /// Win probability in percent that deals take
    pub probability: i64,
    /// Order in the pipeline
    pub position: i64,
    #[schema(schema_with = kind_schema)]
    pub kind: StageKind,
    /// Deals may move to it
    pub active: bool,
}

/// A row of `pipeline_stages`, as far as a stage shows it.
#[derive(Deserialize)]
struct StoredStage {
    id: i64,
    code: String,
    name_zh: String,
    name_en: String,
    probability: i64,
    position: i64,
    kind: String,
    active: bool,
}

impl Stage {
    /// The stage of a `pipeline_stages` row. A kind that is not open, won or lost is a broken
    /// row, an error rather than an open stage.
    fn of(row: &Row) -> anyhow::Result<Stage> {
        let stored: StoredStage = row.decode()?;
        let kind = StageKind::parse(&stored.kind).map_err(|e| {
            anyhow::anyhow!("pipeline_stages.kind of the stage '{}': {e}", stored.code)
        })?;
        Ok(Stage {
            id: stored.id,
            code: stored.code,
            name_zh: stored.name_zh,
            name_en: stored.name_en,
            probability: stored.probability,
            position: stored.position,
            kind,
            active: stored.active,
        })
    }
}

/// Every stage, in pipeline order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PipelineStageList, description = "Every stage, in pipeline order")]
pub struct StageList {
    /// The stages
    pub items: Vec<Stage>,
}

/// A new stage as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PipelineStageInput, description = "A new stage")]
pub struct NewStage {
    #[schema(schema_with = code_schema)]
    pub code: String,
    #[schema(schema_with = name_zh_schema)]
    pub name_zh: String,
    #[serde(default)]
    #[schema(schema_with = new_name_en_schema)]
    pub name_en: Option<String>,
    /// Percent
    #[schema(required = true, nullable = false, minimum = 0, maximum = 100)]
    pub probability: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = position_schema)]
    pub position: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = new_kind_schema)]
    pub kind: Option<StageKind>,
    /// Deals may move to it; default true; null: true
    #[serde(default)]
    pub active: Option<bool>,
}

/// The fields of a stage to change; a field left out, or a number, kind or flag sent as null,
/// keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = PipelineStagePatch,
    description = "Changes to a stage: only the fields given change"
)]
pub struct StagePatch {
    #[serde(default)]
    #[schema(schema_with = fixed_code_schema)]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = name_zh_schema)]
    pub name_zh: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = name_en_schema)]
    pub name_en: Option<String>,
    /// Percent; null keeps it as it is
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub probability: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = position_schema)]
    pub position: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = changed_kind_schema)]
    pub kind: Option<StageKind>,
    /// Deals may move to it; null keeps it as it is
    #[serde(default)]
    pub active: Option<bool>,
}

const KINDS: [&str; 3] = ["open", "won", "lost"];

fn kind_schema() -> ObjectBuilder {
    schema::codes(KINDS, false, "What reaching it means")
}

fn new_kind_schema() -> ObjectBuilder {
    schema::codes(KINDS, true, "What reaching it means; null: open")
}

fn changed_kind_schema() -> ObjectBuilder {
    schema::codes(
        KINDS,
        true,
        "What reaching it means; null keeps it as it is",
    )
}

fn code_schema() -> ObjectBuilder {
    schema::string(false, "a-z first, then a-z, 0-9, _; fixed once created")
        .pattern(Some("^[a-z][a-z0-9_]{0,39}$"))
}

fn fixed_code_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        40,
        "The stage's code, which cannot change: only its own is accepted; empty or null: left \
         alone",
    )
}

fn name_zh_schema() -> ObjectBuilder {
    schema::text(false, true, 50, "Chinese name")
}

fn new_name_en_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        50,
        "English name; empty, null or absent: the Chinese one",
    )
}

fn name_en_schema() -> ObjectBuilder {
    schema::text(false, true, 50, "English name")
}

fn position_schema() -> ObjectBuilder {
    schema::scalar(
        Type::Integer,
        true,
        "Order; default last; null keeps it as it is",
    )
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
    .minimum(Some(*POSITIONS.start()))
    .maximum(Some(*POSITIONS.end()))
}

/// The win probabilities a stage may have, in percent.
pub const PROBABILITIES: RangeInclusive<i64> = 0..=100;

/// The positions a stage may have.
pub const POSITIONS: RangeInclusive<i64> = 0..=1_000_000;

/// Why a number of a stage is refused: it is not a whole number within `range`.
pub fn not_in(field: &str, range: &RangeInclusive<i64>) -> Invalid {
    Invalid::new(
        field,
        format!(
            "must be a whole number from {} to {}",
            range.start(),
            range.end()
        ),
    )
}

/// A number of a stage, if it lies within `range`.
fn within(
    field: &str,
    value: Option<i64>,
    range: &RangeInclusive<i64>,
) -> Result<Option<i64>, Invalid> {
    match value {
        Some(n) if !range.contains(&n) => Err(not_in(field, range)),
        value => Ok(value),
    }
}

/// Free text that must not be blank.
fn required_text(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    Text::parse_optional(field, value, max)?
        .map(Text::into_string)
        .ok_or_else(|| Invalid::new(field, "is required"))
}

const STAGE_ORDER: &str = "ORDER BY position, id";

/// Every stage, in pipeline order.
pub async fn stages(db: &Db) -> anyhow::Result<Vec<Stage>> {
    db.fetch_all(&format!("SELECT * FROM pipeline_stages {STAGE_ORDER}"), &[])
        .await?
        .iter()
        .map(Stage::of)
        .collect()
}

/// Every stage as the API shows it.
pub async fn list_stages(db: &Db) -> StoreResult<StageList> {
    Ok(StageList {
        items: stages(db).await?,
    })
}

async fn stage_by_code<R: Reader>(r: &mut R, code: &str) -> anyhow::Result<Option<Stage>> {
    r.row(
        "SELECT * FROM pipeline_stages WHERE code = ?",
        &[Param::from(code)],
    )
    .await?
    .map(|row| Stage::of(&row))
    .transpose()
}

/// The first active stage of a kind, in pipeline order.
async fn first_of_kind<R: Reader>(r: &mut R, kind: StageKind) -> anyhow::Result<Option<Stage>> {
    r.row(
        &format!(
            "SELECT * FROM pipeline_stages WHERE kind = ? AND active = 1 {STAGE_ORDER} LIMIT 1"
        ),
        &[Param::from(kind.code())],
    )
    .await?
    .map(|row| Stage::of(&row))
    .transpose()
}

/// A stage a deal may move to: it exists and is active.
/// The stage a request names, by its code or either name (case and full-width forms ignored).
async fn stage_named<R: Reader>(r: &mut R, value: &str) -> anyhow::Result<Option<Stage>> {
    if let Some(stage) = stage_by_code(r, value).await? {
        return Ok(Some(stage));
    }
    let folded = fold(value);
    for row in r
        .rows("SELECT * FROM pipeline_stages ORDER BY id", &[])
        .await?
    {
        let stage = Stage::of(&row)?;
        if fold(&stage.name_zh) == folded || fold(&stage.name_en) == folded {
            return Ok(Some(stage));
        }
    }
    Ok(None)
}

async fn usable_stage<R: Reader>(r: &mut R, field: &str, code: &str) -> StoreResult<Stage> {
    match stage_named(r, code).await? {
        Some(stage) if stage.active => Ok(stage),
        _ => Err(Invalid::new(
            field,
            format!("'{code}' is not an active pipeline stage (see GET /api/v1/pipeline/stages)"),
        )
        .into()),
    }
}

async fn load_stage(tx: &mut Tx, id: i64) -> StoreResult<Stage> {
    tx.fetch_optional(
        "SELECT * FROM pipeline_stages WHERE id = ?",
        &[Param::Int(id)],
    )
    .await?
    .map(|r| Stage::of(&r))
    .transpose()?
    .ok_or(StoreError::NotFound("PipelineStage"))
}

/// Adds a stage (admins only). Without a position it goes last; `name_en` defaults to
/// `name_zh`.
pub async fn create_stage(ctx: Ctx<'_>, new: Unread<NewStage>) -> StoreResult<Stage> {
    ctx.actor.require_admin("change the pipeline stages")?;
    let new = new.read()?;
    let code = parse_key(&required_text("code", &new.code, 40)?)
        .map_err(|e| Invalid::new("code", e.message.replace("field key", "stage code")))?;
    let name_zh = required_text("name_zh", &new.name_zh, 50)?;
    let name_en = match &new.name_en {
        Some(name) => Text::parse_optional("name_en", name, 50)?.map(Text::into_string),
        None => None,
    }
    .unwrap_or_else(|| name_zh.clone());
    let probability = within("probability", new.probability, &PROBABILITIES)?
        .ok_or_else(|| Invalid::new("probability", "is required"))?;
    let kind = new.kind.unwrap_or(StageKind::Open);
    let active = new.active.unwrap_or(true);
    let position = within("position", new.position, &POSITIONS)?;
    let mut tx = ctx.db.begin().await?;
    if stage_by_code(&mut tx, &code).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "a pipeline stage with the code '{code}' exists"
        )));
    }
    let position = match position {
        Some(p) => p,
        None => tx
            .fetch_optional(
                "SELECT COALESCE(MAX(position), 0) + 1 AS next FROM pipeline_stages",
                &[],
            )
            .await?
            .map_or(1, |r| r.int("next")),
    };
    let now = to_millis(ctx.now);
    let id = tx
        .insert_returning_id(
            "INSERT INTO pipeline_stages (code, name_zh, name_en, probability, position, kind, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                Param::from(code),
                Param::from(name_zh),
                Param::from(name_en),
                Param::Int(probability),
                Param::Int(position),
                Param::from(kind.code()),
                Param::Int(i64::from(active)),
                Param::Int(now),
                Param::Int(now),
            ],
        )
        .await?;
    audit::created(
        &mut tx,
        Some(ctx.actor),
        ctx.now,
        audit::Setting::PipelineStage,
        id,
    )
    .await?;
    let stage = load_stage(&mut tx, id).await?;
    tx.commit().await?;
    Ok(stage)
}

/// Changes a stage (admins only). The code is fixed, since deals store it; the kind of a stage
/// that holds deals is fixed too, since their result follows it. Open deals at the stage whose
/// probability was the stage's follow a new probability (each change in their history). Every
/// kind keeps at least one active stage.
pub async fn update_stage(ctx: Ctx<'_>, id: i64, patch: Unread<StagePatch>) -> StoreResult<Stage> {
    ctx.actor.require_admin("change the pipeline stages")?;
    let patch = patch.read()?;
    let mut tx = ctx.db.begin().await?;
    let before = load_stage(&mut tx, id).await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::PipelineStage, id).await?;
    let code = match &patch.code {
        Some(code) => Text::parse_optional("code", code, 40)?,
        None => None,
    };
    if code.is_some_and(|code| code.as_str() != before.code) {
        return Err(Invalid::new(
            "code",
            "cannot change: opportunities store it; add a new stage instead",
        )
        .into());
    }
    let mut sets: Vec<(&str, Param)> = Vec::new();
    if let Some(name) = &patch.name_zh {
        sets.push(("name_zh", Param::from(required_text("name_zh", name, 50)?)));
    }
    if let Some(name) = &patch.name_en {
        sets.push(("name_en", Param::from(required_text("name_en", name, 50)?)));
    }
    let probability = within("probability", patch.probability, &PROBABILITIES)?;
    if let Some(p) = probability {
        sets.push(("probability", Param::Int(p)));
    }
    if let Some(p) = within("position", patch.position, &POSITIONS)? {
        sets.push(("position", Param::Int(p)));
    }
    if let Some(kind) = patch.kind {
        if kind != before.kind {
            let used = tx
                .fetch_optional(
                    "SELECT id FROM opportunities WHERE stage = ? LIMIT 1",
                    &[Param::from(before.code.as_str())],
                )
                .await?
                .is_some();
            if used {
                return Err(StoreError::Conflict(format!(
                    "the stage '{}' holds opportunities, so its kind cannot change",
                    before.code
                )));
            }
            sets.push(("kind", Param::from(kind.code())));
        }
    }
    if let Some(active) = patch.active {
        sets.push(("active", Param::Int(i64::from(active))));
    }
    if sets.is_empty() {
        return Ok(before);
    }
    let now = to_millis(ctx.now);
    let mut params: Vec<Param> = sets.iter().map(|(_, p)| p.clone()).collect();
    params.extend([Param::Int(now), Param::Int(id)]);
    let assignments: Vec<String> = sets.iter().map(|(c, _)| format!("{c} = ?")).collect();
    tx.execute(
        &format!(
            "UPDATE pipeline_stages SET {}, updated_at = ? WHERE id = ?",
            assignments.join(", ")
        ),
        &params,
    )
    .await?;
    for kind in [StageKind::Open, StageKind::Won, StageKind::Lost] {
        if first_of_kind(&mut tx, kind).await?.is_none() {
            return Err(Invalid::new(
                "active",
                format!(
                    "the pipeline needs an active {} stage; this change would leave none",
                    kind.code()
                ),
            )
            .into());
        }
    }
    if let Some(p) = probability.filter(|p| *p != before.probability) {
        follow_stage_probability(&mut tx, ctx, &before, p).await?;
    }
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
        .await?;
    let stage = load_stage(&mut tx, id).await?;
    tx.commit().await?;
    Ok(stage)
}

/// Moves the open deals at `stage` that had its old probability to the new one.
async fn follow_stage_probability(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    stage: &Stage,
    probability: i64,
) -> anyhow::Result<()> {
    let rows = tx
        .fetch_all(
            "SELECT * FROM opportunities WHERE stage = ? AND probability = ? AND result = 'open' AND deleted_at IS NULL",
            &[Param::from(stage.code.as_str()), Param::Int(stage.probability)],
        )
        .await?;
    let now = to_millis(ctx.now);
    for row in rows {
        let before = records::to_json(&OPPORTUNITIES, &row);
        let id = row.int("id");
        tx.execute(
            "UPDATE opportunities SET probability = ?, updated_at = ? WHERE id = ?",
            &[Param::Int(probability), Param::Int(now), Param::Int(id)],
        )
        .await?;
        let mut after = before.clone();
        after["probability"] = json!(probability);
        history::record_changes(
            tx,
            ctx.stamp(),
            RecordType::Opportunity,
            id,
            &snapshot(&before),
            &snapshot(&after),
        )
        .await?;
    }
    Ok(())
}

fn column<'a>(columns: &'a [(String, Param)], name: &str) -> Option<&'a Param> {
    columns.iter().find(|(c, _)| c == name).map(|(_, p)| p)
}

fn set(columns: &mut Vec<(String, Param)>, name: &str, value: Param) {
    columns.retain(|(c, _)| c != name);
    columns.push((name.to_owned(), value));
}

fn lost_only_by_closing() -> StoreError {
    Invalid::new(
        "stage",
        "a deal is lost with POST /api/v1/opportunities/{id}/lose and a reason",
    )
    .into()
}

/// Sets what follows from a deal's new stage: its probability unless the request set one, and
/// unless the deal stays open, won or lost (`result` is its current one), its result, when it
/// closed and why.
fn follow_stage(columns: &mut Vec<(String, Param)>, stage: &Stage, result: Option<&str>, now: i64) {
    match column(columns, "probability") {
        Some(Param::Int(_)) => {}
        _ => set(columns, "probability", Param::Int(stage.probability)),
    }
    if result == Some(stage.kind.code()) {
        return;
    }
    set(columns, "result", Param::from(stage.kind.code()));
    match stage.kind {
        StageKind::Open => set(columns, "closed_at", Param::NullInt),
        StageKind::Won | StageKind::Lost => set(columns, "closed_at", Param::Int(now)),
    }
    set(columns, "close_reason", Param::NullText);
}

/// Checks a new opportunity's stage against the stages table and fills in what follows from
/// it. The record engine calls it for every new record; it acts on opportunities only.
pub async fn check_new(db: &Db, record: &mut NewRecord) -> StoreResult<()> {
    if record.table().record_type != RecordType::Opportunity {
        return Ok(());
    }
    let code = match record.get("stage") {
        Some(Param::Text(code)) => code.clone(),
        _ => return Err(Invalid::new("stage", "is required").into()),
    };
    let stage = usable_stage(&mut &*db, "stage", &code).await?;
    if stage.kind == StageKind::Lost {
        return Err(lost_only_by_closing());
    }
    record.set("stage", Param::from(stage.code.as_str()));
    let mut columns: Vec<(String, Param)> = ["probability"]
        .iter()
        .filter_map(|c| record.get(c).map(|p| ((*c).to_owned(), p.clone())))
        .collect();
    follow_stage(&mut columns, &stage, None, to_millis(record.stamp().now));
    for (column, value) in columns {
        record.set(&column, value);
    }
    Ok(())
}

/// Checks a change of an opportunity (`before` as the API shows it): a new stage must be an
/// active one and not a lost one; the deal's result, close time and probability follow it, and
/// `opportunity.stage_changed` is raised. `probability: null` sets the stage's back. The record
/// engine calls it for every change; it acts on opportunities only.
pub async fn check_change(
    tx: &mut Tx,
    table: &Table,
    before: &Value,
    columns: &mut Vec<(String, Param)>,
    now: i64,
) -> StoreResult<()> {
    if table.record_type != RecordType::Opportunity {
        return Ok(());
    }
    let from = before["stage"].as_str().unwrap_or_default().to_owned();
    let named = match column(columns, "stage") {
        Some(Param::Text(value)) if *value != from => Some(value.clone()),
        _ => None,
    };
    // A stage named by its label is stored as its code; naming the current one moves nothing.
    let mut to = None;
    if let Some(named) = named {
        let stage = usable_stage(tx, "stage", &named).await?;
        set(columns, "stage", Param::from(stage.code.as_str()));
        if stage.code != from {
            to = Some(stage);
        }
    }
    match to {
        Some(stage) => {
            if stage.kind == StageKind::Lost {
                return Err(lost_only_by_closing());
            }
            let to = stage.code.clone();
            follow_stage(columns, &stage, before["result"].as_str(), now);
            let payload = json!({
                "id": before["id"],
                "name": before["name"],
                "from": from,
                "to": to,
                "result": stage.kind.code(),
                "owner_id": before["owner_id"],
            });
            events::emit(tx, "opportunity.stage_changed", &payload, now).await?;
        }
        None => {
            if column(columns, "probability") == Some(&Param::NullInt) {
                let probability = stage_by_code(tx, &from).await?.map_or(0, |s| s.probability);
                set(columns, "probability", Param::Int(probability));
            }
        }
    }
    Ok(())
}

async fn load_opportunity(tx: &mut Tx, actor: &Actor, id: i64) -> StoreResult<Row> {
    let lock = tx.dialect().lock_rows();
    tx.fetch_optional(
        &format!(
            "SELECT * FROM opportunities WHERE id = ? AND deleted_at IS NULL{}{lock}",
            actor.scope_clause()
        ),
        &[Param::Int(id)],
    )
    .await?
    .ok_or(StoreError::NotFound(OPPORTUNITIES.schema))
}

/// Why a deal was won, and the won stage it goes to.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CloseInput, description = "Why the deal was won")]
pub struct Win {
    #[serde(default)]
    #[schema(schema_with = win_reason_schema)]
    pub reason: Option<String>,
    #[serde(default)]
    #[schema(schema_with = close_stage_schema)]
    pub stage: Option<String>,
}

/// Why a deal was lost, and the lost stage it goes to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LoseInput, description = "Why the deal was lost")]
pub struct Loss {
    /// A lost reason, by its code or its label, or free text
    #[schema(schema_with = loss_reason_schema)]
    pub reason: String,
    #[serde(default)]
    #[schema(schema_with = close_stage_schema)]
    pub stage: Option<String>,
}

fn win_reason_schema() -> ObjectBuilder {
    schema::text(true, false, 1000, "Why, if you like")
}

fn loss_reason_schema() -> ObjectBuilder {
    schema::text(
        false,
        true,
        1000,
        "Why: a lost reason by its code or label, or free text",
    )
}

fn close_stage_schema() -> ObjectBuilder {
    schema::string(
        true,
        "A stage of that kind; empty or null: the first active one (paid, lost)",
    )
    .pattern(Some("^([a-z][a-z0-9_]{0,39})?$"))
}

/// Wins a deal: it moves to `stage` (a won stage) or else the first active won stage, takes
/// its probability, and records the reason, if any, and the time.
pub async fn win(ctx: Ctx<'_>, id: i64, win: Unread<Win>) -> StoreResult<Value> {
    let win = win.read()?;
    let reason = match &win.reason {
        Some(reason) => Text::parse_optional("reason", reason, 1000)?.map(Text::into_string),
        None => None,
    };
    close(ctx, id, StageKind::Won, reason, win.stage.as_deref()).await
}

/// Loses a deal, which needs a reason: a listed lost reason, named by code or label, is
/// stored as its code. The deal moves to `stage` (a lost stage) or else the first active lost
/// stage, and takes its probability.
pub async fn lose(ctx: Ctx<'_>, id: i64, loss: Unread<Loss>) -> StoreResult<Value> {
    let loss = loss.read()?;
    let reason = required_text("reason", &loss.reason, 1000)?;
    let choices = crate::records::choices::all(ctx.db).await?;
    let reason = choices.reason(ChoiceKind::LostReason, &reason);
    close(
        ctx,
        id,
        StageKind::Lost,
        Some(reason),
        loss.stage.as_deref(),
    )
    .await
}

/// Closes a deal as `kind` (won or lost) at `stage` or the first active stage of that kind.
async fn close(
    ctx: Ctx<'_>,
    id: i64,
    kind: StageKind,
    reason: Option<String>,
    stage: Option<&str>,
) -> StoreResult<Value> {
    let stage = match stage {
        Some(stage) => Text::parse_optional("stage", stage, 40)?,
        None => None,
    };
    let mut tx = ctx.db.begin().await?;
    let row = load_opportunity(&mut tx, ctx.actor, id).await?;
    let before = records::to_json(&OPPORTUNITIES, &row);
    if before["result"] == kind.code() {
        return Err(StoreError::Conflict(format!(
            "the opportunity is already {}",
            kind.code()
        )));
    }
    let stage = match stage {
        Some(code) => {
            let code = code.as_str();
            let stage = usable_stage(&mut tx, "stage", code).await?;
            if stage.kind != kind {
                return Err(Invalid::new(
                    "stage",
                    format!("'{code}' is not a {} stage", kind.code()),
                )
                .into());
            }
            stage
        }
        None => first_of_kind(&mut tx, kind).await?.ok_or_else(|| {
            StoreError::Conflict(format!("the pipeline has no active {} stage", kind.code()))
        })?,
    };
    let now = to_millis(ctx.now);
    tx.execute(
        "UPDATE opportunities SET stage = ?, probability = ?, result = ?, close_reason = ?, closed_at = ?, updated_at = ? WHERE id = ?",
        &[
            Param::from(stage.code.as_str()),
            Param::Int(stage.probability),
            Param::from(kind.code()),
            Param::from(reason),
            Param::Int(now),
            Param::Int(now),
            Param::Int(id),
        ],
    )
    .await?;
    let row = tx
        .fetch_optional(
            "SELECT * FROM opportunities WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound(OPPORTUNITIES.schema))?;
    let after = records::to_json(&OPPORTUNITIES, &row);
    history::record_changes(
        &mut tx,
        ctx.stamp(),
        RecordType::Opportunity,
        id,
        &snapshot(&before),
        &snapshot(&after),
    )
    .await?;
    if before["stage"] != after["stage"] {
        let payload = json!({
            "id": id,
            "name": after["name"],
            "from": before["stage"],
            "to": after["stage"],
            "result": kind.code(),
            "owner_id": after["owner_id"],
        });
        events::emit(&mut tx, "opportunity.stage_changed", &payload, now).await?;
    }
    events::emit(&mut tx, "opportunity.updated", &after, now).await?;
    tx.commit().await?;
    Ok(after)
}

/// Parses `YYYY-MM` (or a date, of which the month counts).
fn parse_month(name: &str, value: &str) -> StoreResult<NaiveDate> {
    let value = value.trim();
    NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d")
        .or_else(|_| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d").map(|d| d.with_day(1).unwrap_or(d))
        })
        .map_err(|_| Invalid::new(name, "must be a month as YYYY-MM").into())
}

/// The owner ids of an `owner_id=1,2` filter.
fn owner_filter(value: &str) -> StoreResult<Vec<i64>> {
    value
        .split(',')
        .map(|s| s.trim().parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Invalid::new("owner_id", "must be a comma-separated list of user ids").into())
}

/// The SQL conditions every pipeline figure shares: not deleted, within the actor's scope, and
/// the owners asked for.
fn scope_conditions(actor: &Actor, owners: &[i64]) -> String {
    let mut sql = String::from("deleted_at IS NULL");
    if let Some(scope) = actor.owner_condition("owner_id") {
        sql.push_str(&format!(" AND {scope}"));
    }
    if !owners.is_empty() {
        let list: Vec<String> = owners.iter().map(i64::to_string).collect();
        sql.push_str(&format!(" AND owner_id IN ({})", list.join(",")));
    }
    sql
}

/// An amount in yuan, from cents.
fn money(cents: i64) -> f64 {
    cents as f64 / 100.0
}

fn month_schema() -> ObjectBuilder {
    schema::string(false, "YYYY-MM").pattern(Some(MONTH))
}

/// A month as the forecast takes and shows it.
const MONTH: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";

/// The weighted pipeline forecast by month.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "The weighted pipeline forecast by month")]
pub struct Forecast {
    /// First month, YYYY-MM
    #[schema(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub from: String,
    /// Last month, YYYY-MM
    #[schema(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub to: String,
    /// Every month from `from` to `to`
    pub items: Vec<ForecastMonth>,
    /// All months
    pub total: ForecastFigures,
}

/// One month of the forecast.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "One month")]
pub struct ForecastMonth {
    #[schema(schema_with = month_schema)]
    pub month: String,
    #[serde(flatten)]
    pub figures: ForecastFigures,
}

/// The open and won deals of a month, or of all months.
#[derive(Debug, Default, Clone, Copy, Serialize, ToSchema)]
#[schema(description = "Open deals expected to close, and deals won")]
pub struct ForecastFigures {
    /// Open deals expected to close
    pub open_count: i64,
    /// Their amount
    pub open_amount: f64,
    /// Their amount × probability
    pub weighted_amount: f64,
    /// Deals won (by the day won, China time)
    pub won_count: i64,
    /// Their amount
    pub won_amount: f64,
}

impl ForecastFigures {
    /// The figures of counts and amounts in cents: open count, open amount, weighted amount
    /// (cents × percent), won count, won amount.
    fn of(m: &[i64; 5]) -> ForecastFigures {
        ForecastFigures {
            open_count: m[0],
            open_amount: money(m[1]),
            weighted_amount: money(m[2] / 100),
            won_count: m[3],
            won_amount: money(m[4]),
        }
    }
}

/// The kanban summary: one column per stage.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = PipelineBoard,
    description = "The kanban summary: one column per stage"
)]
pub struct Board {
    /// Active stages, and inactive ones that still hold deals, in order
    pub items: Vec<BoardColumn>,
}

/// A stage with the figures of the deals at it that the actor may see.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = PipelineBoardColumn,
    description = "A stage with its deals' figures"
)]
pub struct BoardColumn {
    #[serde(flatten)]
    pub stage: Stage,
    /// Deals at the stage
    pub count: i64,
    /// Their amount
    pub amount: f64,
    /// Their amount × probability
    pub weighted_amount: f64,
}

/// The most months one forecast covers.
const MAX_MONTHS: u32 = 60;

/// `GET /api/v1/pipeline/forecast?from=YYYY-MM&to=YYYY-MM&owner_id=`: per month, the open deals
/// expected to close in it (count, amount, and amount × probability) and the deals won in it
/// (count, amount; counted by the day they were won, in China Standard Time). Deals the actor
/// may see. Defaults: this month and the five after.
pub async fn forecast(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Forecast> {
    let today = china_date(now);
    let this_month = today.with_day(1).unwrap_or(today);
    let mut from = this_month;
    let mut to = None;
    let mut owners = Vec::new();
    for (name, value) in params {
        match name.as_str() {
            "from" => from = parse_month("from", value)?,
            "to" => to = Some(parse_month("to", value)?),
            "owner_id" => owners = owner_filter(value)?,
            _ => {
                return Err(Invalid::new(
                    name.as_str(),
                    "is not a parameter of the forecast (accepted: from, to, owner_id)",
                )
                .into())
            }
        }
    }
    let to = to.unwrap_or_else(|| from + Months::new(5));
    if to < from {
        return Err(Invalid::new("to", "must not be before from").into());
    }
    let months: Vec<NaiveDate> = (0..)
        .map(|n| from + Months::new(n))
        .take_while(|m| *m <= to)
        .take(MAX_MONTHS as usize + 1)
        .collect();
    if months.len() > MAX_MONTHS as usize {
        return Err(Invalid::new(
            "to",
            format!("a forecast covers at most {MAX_MONTHS} months"),
        )
        .into());
    }
    let conditions = scope_conditions(actor, &owners);
    let after_last = to + Months::new(1);
    let open = db
        .fetch_all(
            &format!(
                "SELECT substr(expected_close_date, 1, 7) AS month, COUNT(*) AS n, \
                 CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) AS amount, \
                 CAST(COALESCE(SUM(amount_cents * COALESCE(probability, 0)), 0) AS BIGINT) AS weighted \
                 FROM opportunities WHERE {conditions} AND result = 'open' \
                 AND expected_close_date >= ? AND expected_close_date < ? \
                 GROUP BY substr(expected_close_date, 1, 7)"
            ),
            &[
                Param::from(from.format("%Y-%m-%d").to_string()),
                Param::from(after_last.format("%Y-%m-%d").to_string()),
            ],
        )
        .await?;
    let won_month = db.dialect().period(
        "closed_at",
        xiansuo_core::clock::CHINA_OFFSET_MS,
        Period::Month,
    );
    let won = db
        .fetch_all(
            &format!(
                "SELECT {won_month} AS month, COUNT(*) AS n, \
                 CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) AS amount \
                 FROM opportunities WHERE {conditions} AND result = 'won' \
                 AND closed_at >= ? AND closed_at < ? GROUP BY {won_month}"
            ),
            &[
                Param::Int(china_midnight(from)),
                Param::Int(china_midnight(after_last)),
            ],
        )
        .await?;
    let mut by_month: BTreeMap<String, [i64; 5]> = months
        .iter()
        .map(|m| (m.format("%Y-%m").to_string(), [0; 5]))
        .collect();
    for r in &open {
        if let Some(m) = by_month.get_mut(&r.text("month")) {
            m[0] += r.int("n");
            m[1] += r.int("amount");
            m[2] += r.int("weighted");
        }
    }
    for r in &won {
        if let Some(m) = by_month.get_mut(&r.text("month")) {
            m[3] += r.int("n");
            m[4] += r.int("amount");
        }
    }
    let mut total = [0_i64; 5];
    let mut items = Vec::new();
    for (month, m) in by_month {
        for (t, v) in total.iter_mut().zip(m) {
            *t += v;
        }
        items.push(ForecastMonth {
            month,
            figures: ForecastFigures::of(&m),
        });
    }
    Ok(Forecast {
        from: from.format("%Y-%m").to_string(),
        to: to.format("%Y-%m").to_string(),
        items,
        total: ForecastFigures::of(&total),
    })
}

/// `GET /api/v1/pipeline/board?owner_id=&close_month=`: the kanban summary, one column per stage in pipeline
/// order (inactive stages only while they hold deals) with the number of deals the actor may
/// see, their amount and their weighted amount.
pub async fn board(db: &Db, actor: &Actor, params: &[(String, String)]) -> StoreResult<Board> {
    let mut owners = Vec::new();
    let mut month = None;
    for (name, value) in params {
        match name.as_str() {
            "owner_id" => owners = owner_filter(value)?,
            "close_month" => month = Some(crate::records::engine::close_month_condition(value)?),
            _ => {
                return Err(Invalid::new(
                    name.as_str(),
                    "is not a parameter of the board (accepted: owner_id, close_month)",
                )
                .into())
            }
        }
    }
    let mut conditions = scope_conditions(actor, &owners);
    if let Some(month) = month {
        conditions.push_str(&format!(" AND {month}"));
    }
    let rows = db
        .fetch_all(
            &format!(
                "SELECT stage, COUNT(*) AS n, CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) AS amount, \
                 CAST(COALESCE(SUM(amount_cents * COALESCE(probability, 0)), 0) AS BIGINT) AS weighted \
                 FROM opportunities WHERE {conditions} GROUP BY stage"
            ),
            &[],
        )
        .await?;
    let figures: BTreeMap<String, &Row> = rows.iter().map(|r| (r.text("stage"), r)).collect();
    let items = stages(db)
        .await?
        .into_iter()
        .filter_map(|stage| {
            let row = figures.get(&stage.code);
            if !stage.active && row.is_none() {
                return None;
            }
            Some(BoardColumn {
                count: row.map_or(0, |r| r.int("n")),
                amount: money(row.map_or(0, |r| r.int("amount"))),
                weighted_amount: money(row.map_or(0, |r| r.int("weighted")) / 100),
                stage,
            })
        })
        .collect();
    Ok(Board { items })
}

/// The stages as a step of an opportunity's life: a new or moved opportunity gets a usable
/// stage, its probability, and its close date when the stage closes it.
pub struct Stages;

#[async_trait]
impl Hook for Stages {
    async fn preparing(&self, ctx: Ctx<'_>, record: &mut NewRecord) -> StoreResult<()> {
        check_new(ctx.db, record).await
    }

    async fn changing(
        &self,
        tx: &mut Tx,
        change: &Change<'_>,
        columns: &mut Vec<(String, Param)>,
    ) -> StoreResult<()> {
        check_change(tx, change.table, change.before, columns, change.now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_stage_decides_result_close_time_and_probability_unless_given() {
        let won = Stage {
            id: 8,
            code: "paid".into(),
            name_zh: "收款".into(),
            name_en: "Paid".into(),
            probability: 100,
            position: 8,
            kind: StageKind::Won,
            active: true,
        };
        let mut columns = vec![("stage".to_owned(), Param::from("paid"))];
        follow_stage(&mut columns, &won, None, 42);
        assert_eq!(column(&columns, "probability"), Some(&Param::Int(100)));
        assert_eq!(column(&columns, "result"), Some(&Param::from("won")));
        assert_eq!(column(&columns, "closed_at"), Some(&Param::Int(42)));

        let open = Stage {
            kind: StageKind::Open,
            probability: 60,
            ..won
        };
        let mut columns = vec![("probability".to_owned(), Param::Int(75))];
        follow_stage(&mut columns, &open, Some("won"), 42);
        assert_eq!(column(&columns, "probability"), Some(&Param::Int(75)));
        assert_eq!(column(&columns, "closed_at"), Some(&Param::NullInt));
        let mut columns = vec![("probability".to_owned(), Param::NullInt)];
        follow_stage(&mut columns, &open, Some("open"), 42);
        assert_eq!(column(&columns, "probability"), Some(&Param::Int(60)));
        assert_eq!(
            column(&columns, "closed_at"),
            None,
            "an open deal stays open"
        );
    }

    #[test]
    fn months_parse_from_a_month_or_a_date() {
        let m = parse_month("from", "2026-11").unwrap();
        assert_eq!(m, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert_eq!(parse_month("from", "2026-11-17").unwrap(), m);
        assert!(parse_month("from", "11/2026").is_err());
    }
}
