//! Lead scoring in the database: the rules and settings admins edit, the behaviour events
//! posted for leads, and keeping every lead's score, tier and breakdown (`score_breakdown`, the
//! items as JSON, so that lists need no computing) in step with them.
//!
//! A lead is scored when it is created (in `records::prepare`, from rules cached per [`Db`] for a
//! few seconds), when it changes (in `records::update`), when an event arrives for it, and, when
//! rules or settings change, by the `scoring.rescore` job, which walks all leads in bounded
//! batches. The periodic `scoring.decay` job rescores leads with events so that fading
//! engagement points show. While no rule is active a lead keeps the score it was given and
//! only its tier follows the thresholds. Score changes are recorded in the history with the
//! channel `rule`; converted leads keep the score they had.

use crate::admin::audit;
use crate::error::{StoreError, StoreResult};
use crate::jobs::queue::{self, Job, JobEnv, JobFailure};
use crate::records::custom_fields;
use crate::records::history;
use crate::records::lifecycle::{Change, Hook};
use crate::records::schema::{Kind, Table, LEADS};
use crate::records::{self, rfc3339, Ctx, NewRecord, Stamp};
use crate::scope::Actor;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::{CustomFieldDef, FieldType, RecordType};
use xiansuo_core::history::{Channel, Snapshot};
use xiansuo_core::lead::{EventType, LeadStatus, Region, Tier};
use xiansuo_core::rules::{KnownField, ValueKind};
use xiansuo_core::scoring::{
    self, Event, Item, NewScoringRule, ScoringRule, ScoringRulePatch, Settings, SettingsPatch,
};
use xiansuo_core::validation::{instant, present, Unread};
use xiansuo_core::{schema, Invalid, Text};
use xiansuo_store::{Db, Param, Row, Tx};

/// The rules and settings as the create path needs them.
#[derive(Debug, Default)]
pub struct Config {
    pub rules: Vec<ScoringRule>,
    pub settings: Settings,
}

impl Config {
    /// True when some rule is active: scores are then the rules'.
    fn scores(&self) -> bool {
        self.rules.iter().any(|r| r.active)
    }

    /// True when an active rule counts events, so a lead's events must be read to score it.
    fn needs_events(&self) -> bool {
        self.rules.iter().any(|r| r.active && r.event.is_some())
    }

    /// True when an active rule's points fade.
    fn decays(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.active && r.event.is_some() && r.half_life_days.is_some())
    }
}

/// The configuration, from the cache when it is fresh.
async fn config(db: &Db) -> anyhow::Result<Arc<Config>> {
    if let Some(config) = db.settings().get::<Arc<Config>>(0) {
        return Ok(config);
    }
    let config = Arc::new(load(db).await?);
    db.settings().put(0, config.clone());
    Ok(config)
}

/// The configuration as stored now (jobs must not act on another instance's stale cache).
async fn load(db: &Db) -> anyhow::Result<Config> {
    let rules = db
        .fetch_all("SELECT * FROM scoring_rules ORDER BY id", &[])
        .await?
        .iter()
        .map(stored_rule)
        .collect::<anyhow::Result<_>>()?;
    Ok(Config {
        rules,
        settings: read_settings(db).await?,
    })
}

fn stored_rule(row: &Row) -> anyhow::Result<ScoringRule> {
    let mut rule: ScoringRule = serde_json::from_str(&row.text("definition"))?;
    rule.id = row.int("id");
    rule.name = row.text("name");
    rule.active = row.int("active") != 0;
    Ok(rule)
}

async fn read_settings(db: &Db) -> anyhow::Result<Settings> {
    Ok(db
        .fetch_optional("SELECT * FROM scoring_settings WHERE id = 1", &[])
        .await?
        .map_or_else(Settings::default, |r| Settings {
            max_score: r.int("max_score"),
            high_threshold: r.int("high_threshold"),
            medium_threshold: r.int("medium_threshold"),
        }))
}

/// The fields of leads that rule conditions may name, with the kind of value each holds: the
/// standard fields, `region` (from the province), and `custom.KEY` for each custom field. The
/// score and tier are left out for scoring rules, which compute them.
pub fn condition_fields(defs: &[CustomFieldDef], for_scoring: bool) -> Vec<KnownField> {
    let mut fields: Vec<KnownField> = Vec::new();
    for field in LEADS.fields {
        let kind = match field.kind {
            _ if field.name == "tier" => {
                ValueKind::Code(Tier::ALL.iter().map(|t| t.code().to_owned()).collect())
            }
            Kind::Text(_) | Kind::Phone | Kind::Email | Kind::Derived => ValueKind::Text,
            Kind::Code(set) => ValueKind::Code(set.codes()),
            Kind::Int { .. } | Kind::Money | Kind::Ref(_) | Kind::Link(_) | Kind::PoolRef => {
                ValueKind::Number
            }
            Kind::Date => ValueKind::Date,
            Kind::Tags => ValueKind::List,
            Kind::Id
            | Kind::Owner
            | Kind::UserRef
            | Kind::Timestamp
            | Kind::Custom
            | Kind::Probability => continue,
        };
        if for_scoring && matches!(field.name, "score" | "tier") {
            continue;
        }
        fields.push((field.name.to_owned(), kind));
    }
    fields.push((
        "region".to_owned(),
        ValueKind::Code(Region::ALL.iter().map(|r| r.code().to_owned()).collect()),
    ));
    for def in defs {
        let kind = match def.field_type {
            FieldType::Text => ValueKind::Text,
            FieldType::Number => ValueKind::Number,
            FieldType::Date => ValueKind::Date,
            FieldType::SingleSelect => ValueKind::Code(def.options.clone()),
            FieldType::MultiSelect => ValueKind::List,
            FieldType::Boolean => ValueKind::Boolean,
        };
        fields.push((format!("custom.{}", def.key), kind));
    }
    fields
}

/// A new lead as the API will show it, from its prepared columns: what rule conditions read.
pub fn record_facts(record: &NewRecord) -> Value {
    let mut out = Map::new();
    for field in record.table().fields {
        let value = match record.get(&field.column()) {
            None | Some(Param::NullInt | Param::NullText | Param::Bytes(_)) => Value::Null,
            Some(Param::Int(n)) => Value::from(*n),
            Some(Param::Real(n)) => Value::from(*n),
            Some(Param::Text(text)) => match field.kind {
                Kind::Tags | Kind::Custom => serde_json::from_str(text).unwrap_or(Value::Null),
                _ => Value::from(text.as_str()),
            },
        };
        out.insert(field.name.to_owned(), value);
    }
    Value::Object(out)
}

/// A lead's new score, tier and breakdown, as they are stored.
#[derive(Debug, PartialEq)]
struct Scored {
    score: i64,
    tier: Tier,
    /// The items as JSON; `None` when no rule scored the lead.
    breakdown: Option<String>,
}

fn score_lead(config: &Config, lead: &Value, events: &[Event], now_ms: i64) -> Scored {
    if config.scores() {
        let score = scoring::evaluate(&config.rules, &config.settings, lead, events, now_ms);
        Scored {
            score: score.score,
            tier: score.tier,
            breakdown: Some(json!(score.items).to_string()),
        }
    } else {
        let score = lead["score"].as_i64().unwrap_or_default();
        Scored {
            score,
            tier: config.settings.tier(score),
            breakdown: None,
        }
    }
}

/// Scores a lead about to be created (no events yet): sets its `score`, `tier` and
/// `score_breakdown`. Without active rules the score given is kept and only the tier is set.
pub async fn score_new(db: &Db, record: &mut NewRecord) -> anyhow::Result<()> {
    if record.table().record_type != RecordType::Lead {
        return Ok(());
    }
    let config = config(db).await?;
    if !config.scores() {
        let score = match record.get("score") {
            Some(Param::Int(n)) => *n,
            _ => 0,
        };
        // Set even when not given, so that assignment rules on the score read what is stored.
        record.set("score", Param::Int(score));
        record.set("tier", Param::from(config.settings.tier(score).code()));
        return Ok(());
    }
    let scored = score_lead(
        &config,
        &record_facts(record),
        &[],
        to_millis(record.stamp().now),
    );
    record.set("score", Param::Int(scored.score));
    record.set("tier", Param::from(scored.tier.code()));
    record.set("score_breakdown", Param::from(scored.breakdown));
    Ok(())
}

async fn lead_events(tx: &mut Tx, ids: &[i64]) -> anyhow::Result<HashMap<i64, Vec<Event>>> {
    let mut out: HashMap<i64, Vec<Event>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let rows = tx
        .fetch_all(
            &format!(
                "SELECT lead_id, type, name, url, occurred_at FROM lead_events WHERE lead_id IN ({})",
                list.join(",")
            ),
            &[],
        )
        .await?;
    for row in rows {
        let Ok(event_type) = EventType::parse(&row.text("type")) else {
            continue;
        };
        out.entry(row.int("lead_id")).or_default().push(Event {
            event_type,
            name: row.opt_text("name"),
            url: row.opt_text("url"),
            occurred_at_ms: row.int("occurred_at"),
        });
    }
    Ok(out)
}

/// Writes a lead's new score if it differs from `lead` (as the API shows it), recording the
/// change of score and tier in the history with the channel `rule`. Returns the lead as it is
/// now.
async fn apply(
    tx: &mut Tx,
    stamp: Stamp,
    lead: Value,
    stored_breakdown: Option<&str>,
    scored: Scored,
) -> anyhow::Result<Value> {
    let id = lead["id"].as_i64().unwrap_or_default();
    let before: Snapshot = [
        ("score".to_owned(), lead["score"].clone()),
        ("tier".to_owned(), lead["tier"].clone()),
    ]
    .into();
    let after: Snapshot = [
        ("score".to_owned(), Value::from(scored.score)),
        ("tier".to_owned(), Value::from(scored.tier.code())),
    ]
    .into();
    let breakdown_changed = scored.breakdown.as_deref() != stored_breakdown;
    if before == after && !breakdown_changed {
        return Ok(lead);
    }
    if before == after {
        tx.execute(
            "UPDATE leads SET score_breakdown = ? WHERE id = ?",
            &[Param::from(scored.breakdown), Param::Int(id)],
        )
        .await?;
        return Ok(lead);
    }
    let now = to_millis(stamp.now);
    tx.execute(
        "UPDATE leads SET score = ?, tier = ?, score_breakdown = ?, updated_at = ? WHERE id = ?",
        &[
            Param::Int(scored.score),
            Param::from(scored.tier.code()),
            Param::from(scored.breakdown),
            Param::Int(now),
            Param::Int(id),
        ],
    )
    .await?;
    history::record_changes(tx, stamp, RecordType::Lead, id, &before, &after).await?;
    let mut lead = lead;
    lead["score"] = after["score"].clone();
    lead["tier"] = after["tier"].clone();
    lead["updated_at"] = Value::from(rfc3339(now));
    Ok(lead)
}

fn rule_stamp(actor_id: i64, now: DateTime<Utc>) -> Stamp {
    Stamp {
        actor_id,
        channel: Channel::Rule,
        now,
    }
}

fn converted(lead: &Value) -> bool {
    lead["status"].as_str() == Some(LeadStatus::Converted.code())
}

/// Rescores a lead right after `records::update` changed it (`after` as the API shows it, in
/// the same transaction) and returns it as it is now. Without active rules only the tier
/// follows the score.
pub async fn rescore_updated(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    table: &Table,
    after: Value,
) -> anyhow::Result<Value> {
    if table.record_type != RecordType::Lead || converted(&after) {
        return Ok(after);
    }
    let config = config(ctx.db).await?;
    let stamp = rule_stamp(ctx.actor.user_id, ctx.now);
    let id = after["id"].as_i64().unwrap_or_default();
    let events = if config.needs_events() {
        lead_events(tx, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let scored = score_lead(&config, &after, &events, to_millis(ctx.now));
    // Without rules the breakdown is left as it is; the rescore job clears it.
    let stored = if config.scores() {
        tx.fetch_optional(
            "SELECT score_breakdown FROM leads WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .and_then(|r| r.opt_text("score_breakdown"))
    } else {
        None
    };
    apply(tx, stamp, after, stored.as_deref(), scored).await
}

/// A lead's score and the rules it came from.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A lead's score and the rules it came from")]
pub struct LeadScore {
    /// The score, from 0 to max_score
    pub score: i64,
    /// Potential (潜力)
    #[schema(required = true)]
    pub tier: Option<Tier>,
    /// One per rule that gave points; empty while no rule scores the lead
    pub items: Vec<Item>,
}

/// The columns of `leads` a score is read from.
#[derive(Deserialize)]
struct StoredScore {
    score: i64,
    tier: Option<String>,
    score_breakdown: Option<String>,
}

impl LeadScore {
    /// The score of a row that selects `score, tier, score_breakdown`. A tier that is not a
    /// known code is a broken row, an error rather than no tier.
    fn read(row: &Row) -> anyhow::Result<LeadScore> {
        let stored: StoredScore = row.decode()?;
        let tier = stored
            .tier
            .map(|t| Tier::parse(&t))
            .transpose()
            .map_err(|e| anyhow::anyhow!("leads.tier: {e}"))?;
        Ok(LeadScore {
            score: stored.score,
            tier,
            items: stored
                .score_breakdown
                .and_then(|b| serde_json::from_str(&b).ok())
                .unwrap_or_default(),
        })
    }
}

/// The score of a lead the actor can see, with the rules it came from.
pub async fn lead_score(db: &Db, actor: &Actor, id: i64) -> StoreResult<LeadScore> {
    let row = db
        .fetch_optional(
            &format!(
                "SELECT score, tier, score_breakdown FROM leads WHERE id = ? AND deleted_at IS NULL{}",
                actor.scope_clause()
            ),
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound(LEADS.schema))?;
    Ok(LeadScore::read(&row)?)
}

/// A behaviour event of a lead.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A behaviour event of a lead")]
pub struct LeadEvent {
    /// Unique id
    pub id: i64,
    /// The lead
    pub lead_id: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Its name, such as an event or email campaign
    #[schema(required = true)]
    pub name: Option<String>,
    /// The page or file
    #[schema(required = true)]
    pub url: Option<String>,
    /// When it happened
    #[schema(format = DateTime)]
    pub occurred_at: String,
    /// Who posted it
    #[schema(required = true)]
    pub created_by: Option<i64>,
    /// When it was posted
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A row of `lead_events`.
#[derive(Deserialize)]
struct StoredEvent {
    id: i64,
    lead_id: i64,
    #[serde(rename = "type")]
    event_type: String,
    name: Option<String>,
    url: Option<String>,
    occurred_at: i64,
    created_by: Option<i64>,
    created_at: i64,
}

impl LeadEvent {
    /// The event of a `lead_events` row. Only known types are stored, so another is a broken
    /// row, an error rather than a custom event.
    fn read(row: &Row) -> anyhow::Result<LeadEvent> {
        let stored: StoredEvent = row.decode()?;
        let event_type = EventType::parse(&stored.event_type)
            .map_err(|e| anyhow::anyhow!("lead_events.type of the event {}: {e}", stored.id))?;
        Ok(LeadEvent {
            id: stored.id,
            lead_id: stored.lead_id,
            event_type,
            name: stored.name,
            url: stored.url,
            occurred_at: rfc3339(stored.occurred_at),
            created_by: stored.created_by,
            created_at: rfc3339(stored.created_at),
        })
    }
}

/// The latest 500 events of a lead, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadEventList {
    /// The events
    pub items: Vec<LeadEvent>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The latest behaviour events of a lead the actor can see, newest first.
pub async fn list_events(db: &Db, actor: &Actor, lead_id: i64) -> StoreResult<LeadEventList> {
    db.fetch_optional(
        &format!(
            "SELECT id FROM leads WHERE id = ? AND deleted_at IS NULL{}",
            actor.scope_clause()
        ),
        &[Param::Int(lead_id)],
    )
    .await?
    .ok_or(StoreError::NotFound(LEADS.schema))?;
    let items = db
        .fetch_all(
            "SELECT * FROM lead_events WHERE lead_id = ? ORDER BY occurred_at DESC, id DESC LIMIT 500",
            &[Param::Int(lead_id)],
        )
        .await?
        .iter()
        .map(LeadEvent::read)
        .collect::<anyhow::Result<_>>()?;
    Ok(LeadEventList {
        items,
        next_cursor: None,
    })
}

/// Events may be dated at most this far ahead (clocks of the sites that post them differ).
const EVENT_FUTURE_MS: i64 = 24 * 3600 * 1000;

/// A behaviour event as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A behaviour event")]
pub struct NewLeadEvent {
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[serde(default)]
    #[schema(schema_with = event_name_schema)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = event_url_schema)]
    pub url: Option<String>,
    #[serde(default)]
    #[schema(schema_with = occurred_at_schema)]
    pub occurred_at: Option<String>,
}

fn event_name_schema() -> ObjectBuilder {
    schema::text(true, false, 200, "Its name")
}

fn event_url_schema() -> ObjectBuilder {
    schema::text(true, false, 2000, "The page or file")
}

fn occurred_at_schema() -> ObjectBuilder {
    schema::date_time(true, "When it happened (default now; at most a day ahead)")
}

/// The event recorded and the lead's score after it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "The event and the lead's score after it")]
pub struct LeadEventCreated {
    pub event: LeadEvent,
    pub score: LeadScore,
}

/// Records a behaviour event for a lead the actor can see and rescores the lead.
pub async fn add_event(
    ctx: Ctx<'_>,
    lead_id: i64,
    event: Unread<NewLeadEvent>,
) -> StoreResult<LeadEventCreated> {
    let event = event.read()?;
    let event_type = event.event_type;
    let text = |name: &str, value: Option<String>, max: usize| -> Result<Option<String>, Invalid> {
        Ok(value
            .map(|v| Text::parse_optional(name, &v, max))
            .transpose()?
            .flatten()
            .map(Text::into_string))
    };
    let name = text("name", event.name, 200)?;
    let url = text("url", event.url, 2000)?;
    let now = to_millis(ctx.now);
    let occurred_at = match event.occurred_at {
        None => now,
        Some(at) => instant("occurred_at", &at)?.timestamp_millis(),
    };
    if occurred_at > now + EVENT_FUTURE_MS {
        return Err(Invalid::new("occurred_at", "must not be more than a day ahead").into());
    }
    let config = config(ctx.db).await?;
    let mut tx = ctx.db.begin().await?;
    let lock = tx.dialect().lock_rows();
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT * FROM leads WHERE id = ? AND deleted_at IS NULL{}{lock}",
                ctx.actor.scope_clause()
            ),
            &[Param::Int(lead_id)],
        )
        .await?
        .ok_or(StoreError::NotFound(LEADS.schema))?;
    let event_id = tx
        .insert_returning_id(
            "INSERT INTO lead_events (lead_id, type, name, url, occurred_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                Param::Int(lead_id),
                Param::from(event_type.code()),
                Param::from(name.clone()),
                Param::from(url.clone()),
                Param::Int(occurred_at),
                Param::Int(ctx.actor.user_id),
                Param::Int(now),
            ],
        )
        .await?;
    history::record_action(
        &mut tx,
        ctx.stamp(),
        RecordType::Lead,
        lead_id,
        "event",
        Some(&json!({"type": event_type.code(), "name": name, "url": url, "occurred_at": rfc3339(occurred_at)})),
    )
    .await?;
    let lead = records::to_json(&LEADS, &row);
    if !converted(&lead) && config.needs_events() {
        let events = lead_events(&mut tx, &[lead_id])
            .await?
            .remove(&lead_id)
            .unwrap_or_default();
        let scored = score_lead(&config, &lead, &events, now);
        let stored = row.opt_text("score_breakdown");
        apply(
            &mut tx,
            rule_stamp(ctx.actor.user_id, ctx.now),
            lead,
            stored.as_deref(),
            scored,
        )
        .await?;
    }
    let event = tx
        .fetch_optional(
            "SELECT * FROM lead_events WHERE id = ?",
            &[Param::Int(event_id)],
        )
        .await?
        .map(|r| LeadEvent::read(&r))
        .transpose()?
        .ok_or(StoreError::NotFound("LeadEvent"))?;
    let score = tx
        .fetch_optional(
            "SELECT score, tier, score_breakdown FROM leads WHERE id = ?",
            &[Param::Int(lead_id)],
        )
        .await?
        .map(|r| LeadScore::read(&r))
        .transpose()?
        .ok_or(StoreError::NotFound(LEADS.schema))?;
    tx.commit().await?;
    Ok(LeadEventCreated { event, score })
}

// ---- Rules and settings -------------------------------------------------------------------

/// A stored scoring rule, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ScoringRule, description = "A scoring rule")]
pub struct StoredScoringRule {
    #[serde(flatten)]
    pub rule: ScoringRule,
    /// When it was created
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it last changed
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl StoredScoringRule {
    fn read(row: &Row) -> anyhow::Result<StoredScoringRule> {
        Ok(StoredScoringRule {
            rule: stored_rule(row)?,
            created_at: rfc3339(row.int("created_at")),
            updated_at: rfc3339(row.int("updated_at")),
        })
    }
}

/// Every scoring rule, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoringRuleList {
    /// The rules
    pub items: Vec<StoredScoringRule>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Every scoring rule, oldest first.
pub async fn list_rules(db: &Db, actor: &Actor) -> StoreResult<ScoringRuleList> {
    actor.require_admin("read scoring rules")?;
    let items = db
        .fetch_all("SELECT * FROM scoring_rules ORDER BY id", &[])
        .await?
        .iter()
        .map(StoredScoringRule::read)
        .collect::<anyhow::Result<_>>()?;
    Ok(ScoringRuleList {
        items,
        next_cursor: None,
    })
}

pub async fn get_rule(db: &Db, actor: &Actor, id: i64) -> StoreResult<StoredScoringRule> {
    actor.require_admin("read scoring rules")?;
    find_rule(db, id).await
}

/// A rule as the API shows it, whoever asks.
async fn find_rule(db: &Db, id: i64) -> StoreResult<StoredScoringRule> {
    let row = db
        .fetch_optional(
            "SELECT * FROM scoring_rules WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("ScoringRule"))?;
    Ok(StoredScoringRule::read(&row)?)
}

/// A rule as sent, checked against the fields leads have now.
async fn check_rule(db: &Db, new: NewScoringRule) -> StoreResult<ScoringRule> {
    let defs = custom_fields::definitions(db, RecordType::Lead).await?;
    Ok(ScoringRule::check(new, &condition_fields(&defs, true))?)
}

/// Queues the rescoring of every lead, in batches, after rules or settings changed.
async fn queue_rescore(tx: &mut Tx, actor_id: i64, now_ms: i64) -> anyhow::Result<()> {
    let chain = format!("{:016x}", rand::random::<u64>());
    let first = RescoreBatch {
        after_id: 0,
        chain,
        actor_id: Some(actor_id),
        with_events_only: false,
    };
    queue_batch(tx, &first, now_ms).await?;
    Ok(())
}

/// Adds a rule and queues the rescoring of all leads.
pub async fn create_rule(
    ctx: Ctx<'_>,
    new: Unread<NewScoringRule>,
) -> StoreResult<StoredScoringRule> {
    ctx.actor.require_admin("change scoring rules")?;
    let rule = check_rule(ctx.db, new.read()?).await?;
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let id = tx
        .insert_returning_id(
            "INSERT INTO scoring_rules (name, kind, active, definition, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                Param::from(rule.name.as_str()),
                Param::from(rule.kind.code()),
                Param::Int(i64::from(rule.active)),
                Param::from(serde_json::to_string(&rule).map_err(anyhow::Error::from)?),
                Param::Int(ctx.actor.user_id),
                Param::Int(now),
                Param::Int(now),
            ],
        )
        .await?;
    queue_rescore(&mut tx, ctx.actor.user_id, now).await?;
    audit::created(
        &mut tx,
        Some(ctx.actor),
        ctx.now,
        audit::Setting::ScoringRule,
        id,
    )
    .await?;
    let row = tx
        .fetch_optional(
            "SELECT * FROM scoring_rules WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("ScoringRule"))?;
    tx.commit().await?;
    ctx.db.settings().clear::<Arc<Config>>();
    Ok(StoredScoringRule::read(&row)?)
}

/// A stored rule with the fields of `patch` replacing its own, checked again as a whole.
async fn patched_rule(db: &Db, id: i64, patch: ScoringRulePatch) -> StoreResult<ScoringRule> {
    let current = find_rule(db, id).await?;
    let mut rule = check_rule(db, patch.onto(&current.rule)).await?;
    rule.id = id;
    Ok(rule)
}

/// Changes a rule: the fields given replace the stored ones, and the whole rule is checked
/// again. Queues the rescoring of all leads.
pub async fn update_rule(
    ctx: Ctx<'_>,
    id: i64,
    patch: Unread<ScoringRulePatch>,
) -> StoreResult<StoredScoringRule> {
    ctx.actor.require_admin("change scoring rules")?;
    let rule = patched_rule(ctx.db, id, patch.read()?).await?;
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::ScoringRule, id).await?;
    let changed = tx
        .execute(
            "UPDATE scoring_rules SET name = ?, kind = ?, active = ?, definition = ?, updated_at = ? WHERE id = ?",
            &[
                Param::from(rule.name.as_str()),
                Param::from(rule.kind.code()),
                Param::Int(i64::from(rule.active)),
                Param::from(serde_json::to_string(&rule).map_err(anyhow::Error::from)?),
                Param::Int(now),
                Param::Int(id),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound("ScoringRule"));
    }
    queue_rescore(&mut tx, ctx.actor.user_id, now).await?;
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
        .await?;
    let row = tx
        .fetch_optional(
            "SELECT * FROM scoring_rules WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("ScoringRule"))?;
    tx.commit().await?;
    ctx.db.settings().clear::<Arc<Config>>();
    Ok(StoredScoringRule::read(&row)?)
}

/// Deletes a rule and queues the rescoring of all leads.
pub async fn delete_rule(ctx: Ctx<'_>, id: i64) -> StoreResult<()> {
    ctx.actor.require_admin("change scoring rules")?;
    let mut tx = ctx.db.begin().await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::ScoringRule, id).await?;
    let deleted = tx
        .execute("DELETE FROM scoring_rules WHERE id = ?", &[Param::Int(id)])
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound("ScoringRule"));
    }
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Delete)
        .await?;
    queue_rescore(&mut tx, ctx.actor.user_id, to_millis(ctx.now)).await?;
    tx.commit().await?;
    ctx.db.settings().clear::<Arc<Config>>();
    Ok(())
}

// ---- Preview --------------------------------------------------------------------------------

/// How many leads a preview looks at: the newest leads that rescoring covers.
pub const PREVIEW_SAMPLE: i64 = 20_000;

/// The body of `POST /api/v1/scoring/preview`: a new rule as `POST /api/v1/scoring/rules`
/// takes it, or, with `rule_id`, the fields of a stored rule to change as
/// `PATCH /api/v1/scoring/rules/{id}` takes them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A rule to try before saving it")]
pub struct RulePreview {
    /// A stored rule to change; leave out for a new rule
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, minimum = 1)]
    pub rule_id: Option<i64>,
    /// A new rule as `createScoringRule` takes it; with `rule_id`, the fields to change as
    /// `updateScoringRule` takes them
    pub rule: ScoringRulePatch,
}

/// How many leads of a set are in each tier.
#[derive(Debug, Default, Serialize, PartialEq, Eq, Clone, Copy, ToSchema)]
#[schema(description = "How many leads are in each tier")]
pub struct TierCounts {
    /// High potential
    pub high: i64,
    /// Medium potential
    pub medium: i64,
    /// Low potential
    pub low: i64,
}

impl TierCounts {
    fn add(&mut self, tier: Tier) {
        match tier {
            Tier::High => self.high += 1,
            Tier::Medium => self.medium += 1,
            Tier::Low => self.low += 1,
        }
    }
}

/// What saving a rule would do to a sample of leads, computed without writing anything.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "What saving the rule would do to a sample of leads")]
pub struct ScoringPreview {
    /// How many leads were looked at: the newest leads that are not deleted or converted, at
    /// most `sample_limit`.
    pub sample_size: i64,
    pub sample_limit: i64,
    /// Whether there are more such leads than the sample holds.
    pub sampled: bool,
    /// Leads of the sample whose score or tier would change.
    pub changed: i64,
    /// The tiers of the sample now.
    pub before: TierCounts,
    /// The tiers of the sample once the rule is saved and the leads rescored.
    pub after: TierCounts,
}

/// A dry run of saving a rule (new, or a stored one changed): how the newest leads' scores and
/// tiers would move, as the rescore job would move them. Writes nothing.
pub async fn preview_rule(
    db: &Db,
    actor: &Actor,
    preview: Unread<RulePreview>,
    now: DateTime<Utc>,
) -> StoreResult<ScoringPreview> {
    actor.require_admin("preview scoring rules")?;
    let preview = preview.read()?;
    let mut config = load(db).await?;
    match preview.rule_id {
        Some(id) => {
            let rule = patched_rule(db, id, preview.rule).await?;
            if let Some(slot) = config.rules.iter_mut().find(|r| r.id == id) {
                *slot = rule;
            }
        }
        None => {
            let rule = check_rule(db, preview.rule.into_new()?).await?;
            config.rules.push(rule);
        }
    }
    let rows = db
        .fetch_all(
            &format!(
                "SELECT * FROM leads WHERE deleted_at IS NULL AND status <> ? \
                 ORDER BY id DESC LIMIT {}",
                PREVIEW_SAMPLE + 1
            ),
            &[Param::from(LeadStatus::Converted.code())],
        )
        .await?;
    let sampled = rows.len() as i64 > PREVIEW_SAMPLE;
    let rows = &rows[..rows.len().min(PREVIEW_SAMPLE as usize)];
    let mut events = HashMap::new();
    if config.needs_events() {
        let mut tx = db.begin().await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.int("id")).collect();
        for chunk in ids.chunks(RESCORE_BATCH as usize) {
            events.extend(lead_events(&mut tx, chunk).await?);
        }
        tx.commit().await?;
    }
    let now_ms = to_millis(now);
    let mut out = ScoringPreview {
        sample_size: rows.len() as i64,
        sample_limit: PREVIEW_SAMPLE,
        sampled,
        changed: 0,
        before: TierCounts::default(),
        after: TierCounts::default(),
    };
    for row in rows {
        let lead = records::to_json(&LEADS, row);
        let lead_events = events.remove(&row.int("id")).unwrap_or_default();
        let has_breakdown = row.opt_text("score_breakdown").is_some();
        let scored = rescored(&config, &lead, has_breakdown, &lead_events, now_ms);
        let tier_now = Tier::parse(&row.text("tier")).unwrap_or(Tier::Low);
        out.before.add(tier_now);
        out.after.add(scored.tier);
        if scored.score != row.int("score") || scored.tier != tier_now {
            out.changed += 1;
        }
    }
    Ok(out)
}

/// The cap and tier thresholds (admins only, like the rules).
pub async fn get_settings(db: &Db, actor: &Actor) -> StoreResult<Settings> {
    actor.require_admin("read the scoring settings")?;
    Ok(read_settings(db).await?)
}

/// Changes the cap and thresholds and queues the rescoring of all leads.
pub async fn update_settings(ctx: Ctx<'_>, patch: Unread<SettingsPatch>) -> StoreResult<Settings> {
    ctx.actor.require_admin("change the scoring settings")?;
    let settings = read_settings(ctx.db).await?.apply(patch.read()?)?;
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let snapshot =
        audit::Before::take(&mut tx, audit::Setting::ScoringSettings, audit::SINGLETON).await?;
    tx.execute(
        "INSERT INTO scoring_settings (id, max_score, high_threshold, medium_threshold, updated_at) VALUES (1, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET max_score = excluded.max_score, high_threshold = excluded.high_threshold, \
         medium_threshold = excluded.medium_threshold, updated_at = excluded.updated_at",
        &[
            Param::Int(settings.max_score),
            Param::Int(settings.high_threshold),
            Param::Int(settings.medium_threshold),
            Param::Int(now),
        ],
    )
    .await?;
    queue_rescore(&mut tx, ctx.actor.user_id, now).await?;
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
        .await?;
    tx.commit().await?;
    ctx.db.settings().clear::<Arc<Config>>();
    Ok(settings)
}

// ---- Jobs ---------------------------------------------------------------------------------

/// The job that rescores leads a batch at a time (`scoring.rescore`).
pub struct Rescore;

/// Where a [`Rescore`] job goes on: after which lead, in which chain of batches, on whose
/// behalf (the first admin when none), and whether only leads with events.
#[derive(Debug, Serialize, Deserialize)]
pub struct RescoreBatch {
    #[serde(default)]
    pub after_id: i64,
    pub chain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<i64>,
    #[serde(default)]
    pub with_events_only: bool,
}

#[async_trait]
impl Job for Rescore {
    const KIND: &'static str = "scoring.rescore";
    type Payload = RescoreBatch;

    async fn run(
        &self,
        db: &Db,
        _: &JobEnv,
        batch: RescoreBatch,
        at: DateTime<Utc>,
    ) -> Result<(), JobFailure> {
        rescore_job(db, &batch, at).await
    }
}

/// The periodic job that refreshes fading engagement points (`scoring.decay`).
pub struct Decay;

#[async_trait]
impl Job for Decay {
    const KIND: &'static str = "scoring.decay";
    const EVERY: Option<i64> = Some(3600);
    type Payload = ();

    async fn run(&self, db: &Db, _: &JobEnv, _: (), at: DateTime<Utc>) -> Result<(), JobFailure> {
        decay_job(db, at).await
    }
}

/// Queues the next batch of a rescore chain, once however often it is asked.
async fn queue_batch(tx: &mut Tx, batch: &RescoreBatch, now_ms: i64) -> anyhow::Result<()> {
    let key = format!("{}:{}:{}", Rescore::KIND, batch.chain, batch.after_id);
    queue::enqueue::<Rescore>(tx, batch, now_ms, Some(&key)).await?;
    Ok(())
}

/// How many leads one rescore job handles.
const RESCORE_BATCH: i64 = 500;

/// `scoring.rescore`: rescores the next batch of leads after `after_id` (only leads with
/// events when `with_events_only`) and queues the batch after it.
async fn rescore_job(db: &Db, batch: &RescoreBatch, at: DateTime<Utc>) -> Result<(), JobFailure> {
    let after_id = batch.after_id;
    let chain = batch.chain.as_str();
    let with_events_only = batch.with_events_only;
    let actor_id = match batch.actor_id {
        Some(id) => id,
        None => crate::admin::users::first_admin(db)
            .await?
            .ok_or_else(|| JobFailure::Retry("no admin to record score changes as".into()))?,
    };
    let config = load(db).await?;
    let now_ms = to_millis(at);
    let mut tx = db.begin().await?;
    let lock = tx.dialect().lock_rows();
    let events_only = if with_events_only {
        " AND id IN (SELECT lead_id FROM lead_events)"
    } else {
        ""
    };
    let rows = tx
        .fetch_all(
            &format!(
                "SELECT * FROM leads WHERE id > ? AND deleted_at IS NULL AND status <> ?{events_only} \
                 ORDER BY id LIMIT {RESCORE_BATCH}{lock}"
            ),
            &[
                Param::Int(after_id),
                Param::from(LeadStatus::Converted.code()),
            ],
        )
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.int("id")).collect();
    let mut events = if config.needs_events() {
        lead_events(&mut tx, &ids).await?
    } else {
        HashMap::new()
    };
    let stamp = rule_stamp(actor_id, at);
    for row in &rows {
        let lead = records::to_json(&LEADS, row);
        let stored = row.opt_text("score_breakdown");
        let lead_events = events.remove(&row.int("id")).unwrap_or_default();
        let scored = rescored(&config, &lead, stored.is_some(), &lead_events, now_ms);
        apply(&mut tx, stamp, lead, stored.as_deref(), scored).await?;
    }
    if let Some(&last) = ids.last().filter(|_| ids.len() as i64 == RESCORE_BATCH) {
        let next = RescoreBatch {
            after_id: last,
            chain: chain.to_owned(),
            actor_id: Some(actor_id),
            with_events_only,
        };
        queue_batch(&mut tx, &next, now_ms).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What the rescore job makes of a stored lead: scored by the rules, or, when it was scored by
/// rules that are all gone (it has a breakdown), back to no score.
fn rescored(
    config: &Config,
    lead: &Value,
    has_breakdown: bool,
    events: &[Event],
    now_ms: i64,
) -> Scored {
    if !config.scores() && has_breakdown {
        Scored {
            score: 0,
            tier: config.settings.tier(0),
            breakdown: None,
        }
    } else {
        score_lead(config, lead, events, now_ms)
    }
}

/// `scoring.decay`: when engagement points fade, queues the rescoring of leads with events.
async fn decay_job(db: &Db, at: DateTime<Utc>) -> Result<(), JobFailure> {
    if !load(db).await?.decays() {
        return Ok(());
    }
    let now_ms = to_millis(at);
    let chain = format!("decay{now_ms}");
    let mut tx = db.begin().await?;
    let first = RescoreBatch {
        after_id: 0,
        chain,
        actor_id: None,
        with_events_only: true,
    };
    queue_batch(&mut tx, &first, now_ms).await?;
    tx.commit().await?;
    Ok(())
}

/// Scoring as a step of a lead's life: a new lead is scored before it is written, a changed
/// one rescored after.
pub struct Scoring;

#[async_trait]
impl Hook for Scoring {
    async fn preparing(&self, ctx: Ctx<'_>, record: &mut NewRecord) -> StoreResult<()> {
        Ok(score_new(ctx.db, record).await?)
    }

    async fn changed(
        &self,
        ctx: Ctx<'_>,
        tx: &mut Tx,
        change: &Change<'_>,
        after: Value,
    ) -> StoreResult<Value> {
        Ok(rescore_updated(tx, ctx, change.table, after).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_name_lead_fields_custom_fields_and_the_region_but_scoring_not_the_score() {
        let defs = [
            CustomFieldDef {
                key: "budget".into(),
                field_type: FieldType::Number,
                options: Vec::new(),
                required: false,
            },
            CustomFieldDef {
                key: "plan".into(),
                field_type: FieldType::SingleSelect,
                options: vec!["basic".into(), "pro".into()],
                required: false,
            },
        ];
        let kind = |fields: &[KnownField], name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, k)| k.clone())
        };
        let scoring = condition_fields(&defs, true);
        assert_eq!(kind(&scoring, "title"), Some(ValueKind::Text));
        assert_eq!(kind(&scoring, "company_size"), Some(ValueKind::Number));
        assert_eq!(kind(&scoring, "tags"), Some(ValueKind::List));
        assert_eq!(kind(&scoring, "custom.budget"), Some(ValueKind::Number));
        assert_eq!(
            kind(&scoring, "custom.plan"),
            Some(ValueKind::Code(vec!["basic".into(), "pro".into()]))
        );
        assert!(
            matches!(kind(&scoring, "region"), Some(ValueKind::Code(c)) if c.contains(&"south".to_owned()))
        );
        assert_eq!(kind(&scoring, "score"), None);
        assert_eq!(kind(&scoring, "tier"), None);
        assert_eq!(kind(&scoring, "owner_id"), None);
        let assignment = condition_fields(&defs, false);
        assert_eq!(kind(&assignment, "score"), Some(ValueKind::Number));
        assert_eq!(
            kind(&assignment, "tier"),
            Some(ValueKind::Code(vec![
                "high".into(),
                "medium".into(),
                "low".into()
            ]))
        );
    }

    #[test]
    fn without_active_rules_a_lead_keeps_its_score_and_its_tier_follows() {
        let config = Config::default();
        let scored = score_lead(&config, &json!({"score": 75}), &[], 0);
        assert_eq!(
            scored,
            Scored {
                score: 75,
                tier: Tier::High,
                breakdown: None
            }
        );
    }
}
