//! Follow-ups on time: reminders of planned follow-ups, the list of what is due, SLA rules
//! that act when a new owner does not make first contact within N working hours, and
//! managers' comments (点评) on follow-ups.
//!
//! A follow-up is planned by an activity's `next_follow_up_at`. The plan that counts for a
//! record is the one on its latest activity: logging a new follow-up fulfils the previous plan
//! (and may make a new one). The periodic job `followups.remind` notifies the record's owner
//! once when a plan falls due; `sla.check` counts working time only (see
//! [`xiansuo_core::working_hours`]) and escalates to the owner's manager or reassigns the lead,
//! once per rule and assignment.

use crate::admin::audit;
use crate::channels::{events, notifications};
use crate::error::{StoreError, StoreResult};
use crate::jobs::queue::{Job, JobEnv, JobFailure};
use crate::leads::activities;
use crate::leads::pool::{self, check_pool, check_team, check_user, locale, nullable_id, within};
use crate::leads::working_hours::working_hours;
use crate::records::attachments::record_type_schema;
use crate::records::history;
use crate::records::schema::{Table, LEADS, TABLES};
use crate::records::{rfc3339, to_json, Ctx, Stamp};
use crate::scope::Actor;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
use utoipa::openapi::{ArrayBuilder, ObjectBuilder};
use utoipa::ToSchema;
use xiansuo_core::clock::{from_millis, to_millis};
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::{snapshot, Channel};
use xiansuo_core::lead::{ActivityType, Outcome};
use xiansuo_core::role::Role;
use xiansuo_core::validation::{date as parse_date, present, Unread};
use xiansuo_core::working_hours::{parse_time, parse_time_zone, WorkingHours};
use xiansuo_core::{schema, Invalid, Text};
use xiansuo_store::{Db, Param, Row, Tx};

/// The periodic job that reminds owners of planned follow-ups that have come
/// (`followups.remind`).
pub struct Remind;

#[async_trait]
impl Job for Remind {
    const KIND: &'static str = "followups.remind";
    const EVERY: Option<i64> = Some(60);
    type Payload = ();

    async fn run(&self, db: &Db, _: &JobEnv, _: (), at: DateTime<Utc>) -> Result<(), JobFailure> {
        Ok(remind(db, at).await?)
    }
}

/// The periodic job that applies the SLA rules (`sla.check`).
pub struct SlaCheck;

#[async_trait]
impl Job for SlaCheck {
    const KIND: &'static str = "sla.check";
    const EVERY: Option<i64> = Some(60);
    type Payload = ();

    async fn run(&self, db: &Db, _: &JobEnv, _: (), at: DateTime<Utc>) -> Result<(), JobFailure> {
        Ok(sla_check(db, at).await?)
    }
}

/// How many reminders or SLA breaches one run handles at most per rule.
const BATCH: i64 = 500;
/// Reminders older than this when the job first sees them are not sent: the due list shows
/// them as overdue anyway, and a flood after a long outage helps no one.
const REMIND_WITHIN_MS: i64 = 7 * 24 * 3600 * 1000;
const HOUR_MS: i64 = 3600 * 1000;

/// Keeps only the latest activity of its record (by time, then id): the plan that counts.
const LATEST: &str = "NOT EXISTS (SELECT 1 FROM activities b WHERE b.record_type = a.record_type \
     AND b.record_id = a.record_id AND b.deleted_at IS NULL \
     AND (b.created_at > a.created_at OR (b.created_at = a.created_at AND b.id > a.id)))";

fn local_time(hours: &WorkingHours, ms: i64) -> String {
    from_millis(ms)
        .with_timezone(&hours.time_zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Working hours

fn dates_json(dates: &BTreeSet<chrono::NaiveDate>) -> Vec<String> {
    dates
        .iter()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect()
}

/// The working calendar as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = WorkingHours,
    description = "When the team works; SLA clocks count only this time"
)]
pub struct Calendar {
    /// An IANA time zone; default Asia/Shanghai
    pub time_zone: String,
    #[schema(schema_with = shown_weekdays_schema)]
    pub weekdays: Vec<u8>,
    #[schema(schema_with = start_schema)]
    pub start: String,
    #[schema(schema_with = end_schema)]
    pub end: String,
    #[schema(schema_with = holidays_schema)]
    pub holidays: Vec<String>,
    #[schema(schema_with = workdays_schema)]
    pub workdays: Vec<String>,
}

impl Calendar {
    fn of(h: &WorkingHours) -> Calendar {
        Calendar {
            time_zone: h.time_zone.name().to_owned(),
            weekdays: h.weekdays.iter().copied().collect(),
            start: h.start.format("%H:%M").to_string(),
            end: h.end.format("%H:%M").to_string(),
            holidays: dates_json(&h.holidays),
            workdays: dates_json(&h.workdays),
        }
    }
}

/// The working calendar as a change sends it; a field left out stays as it is, a null list of
/// dates is the empty list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = WorkingHoursInput,
    description = "Working hours; fields absent stay as they are"
)]
pub struct CalendarChange {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = time_zone_schema)]
    pub time_zone: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = weekdays_schema)]
    pub weekdays: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = start_schema)]
    pub start: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = end_schema)]
    pub end: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = changed_holidays_schema)]
    pub holidays: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = changed_workdays_schema)]
    pub workdays: Option<Option<Vec<String>>>,
}

fn time_zone_schema() -> ObjectBuilder {
    schema::text(false, true, 100, "An IANA time zone such as Asia/Shanghai")
}

fn weekday_list(doc: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            schema::scalar(Type::Integer, false, "1 (Monday) to 7 (Sunday)")
                .minimum(Some(1))
                .maximum(Some(7)),
        )
        .description(Some(doc))
}

fn shown_weekdays_schema() -> ArrayBuilder {
    weekday_list("The weekdays worked; default Monday to Friday")
}

fn weekdays_schema() -> ArrayBuilder {
    weekday_list("The weekdays worked, at least one").min_items(Some(1))
}

fn clock(doc: &str) -> ObjectBuilder {
    schema::string(false, doc).pattern(Some("^([01][0-9]|2[0-3]):[0-5][0-9]$"))
}

fn start_schema() -> ObjectBuilder {
    clock("Start of the working day, HH:MM")
}

fn end_schema() -> ObjectBuilder {
    clock("End of the working day, HH:MM, after start")
}

fn date_list(nullable: bool, doc: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            schema::string(false, "A date, YYYY-MM-DD")
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
                .pattern(Some(schema::YEARS)),
        )
        .schema_type(schema::typed(Type::Array, nullable))
        .max_items(Some(MAX_CALENDAR_DATES))
        .description(Some(doc))
}

fn holidays_schema() -> ArrayBuilder {
    date_list(false, "Dates not worked although their weekday is")
}

fn workdays_schema() -> ArrayBuilder {
    date_list(false, "Dates worked although their weekday is not (调休)")
}

fn changed_holidays_schema() -> ArrayBuilder {
    date_list(
        true,
        "Dates not worked although their weekday is; null: none",
    )
}

fn changed_workdays_schema() -> ArrayBuilder {
    date_list(
        true,
        "Dates worked although their weekday is not (调休); null: none",
    )
}

/// The working hours, as the API shows them.
pub async fn get_working_hours(db: &Db) -> StoreResult<Calendar> {
    Ok(Calendar::of(&working_hours(db).await?))
}

/// The most holidays (or make-up working days) a calendar lists: ten years of them.
pub const MAX_CALENDAR_DATES: usize = 1000;

/// Sets the working hours (admins only); fields absent stay as they are.
pub async fn set_working_hours(
    db: &Db,
    actor: &Actor,
    change: Unread<CalendarChange>,
    now: DateTime<Utc>,
) -> StoreResult<Calendar> {
    actor.require_admin("set the working hours")?;
    let change = change.read()?;
    let current = working_hours(db).await?;
    let time_zone = match change.time_zone {
        Some(tz) if tz.trim().is_empty() => {
            return Err(Invalid::new("time_zone", "is required").into())
        }
        Some(tz) => parse_time_zone("time_zone", Text::parse("time_zone", &tz, 100)?.as_str())?,
        None => current.time_zone,
    };
    let weekdays = match change.weekdays {
        Some(days) => days
            .into_iter()
            .map(|d| {
                u8::try_from(d)
                    .ok()
                    .filter(|d| (1..=7).contains(d))
                    .ok_or_else(|| {
                        Invalid::new(
                            "weekdays",
                            format!("{d} is not a weekday: use 1 (Monday) to 7 (Sunday)"),
                        )
                    })
            })
            .collect::<Result<BTreeSet<u8>, _>>()?,
        None => current.weekdays,
    };
    let time = |name: &str, sent: Option<String>, current| -> StoreResult<_> {
        match sent {
            Some(t) if t.trim().is_empty() => {
                Err(Invalid::new(name, "is required, as HH:MM").into())
            }
            Some(t) => Ok(parse_time(name, t.trim())?),
            None => Ok(current),
        }
    };
    let start = time("start", change.start, current.start)?;
    let end = time("end", change.end, current.end)?;
    let dates = |name: &str,
                 sent: Option<Option<Vec<String>>>,
                 current: BTreeSet<chrono::NaiveDate>|
     -> StoreResult<_> {
        match sent.map(Option::unwrap_or_default) {
            Some(list) if list.len() > MAX_CALENDAR_DATES => {
                Err(Invalid::new(name, format!("at most {MAX_CALENDAR_DATES} dates")).into())
            }
            Some(list) => Ok(list
                .iter()
                .map(|d| parse_date(name, d))
                .collect::<Result<BTreeSet<_>, _>>()?),
            None => Ok(current),
        }
    };
    let holidays = dates("holidays", change.holidays, current.holidays)?;
    let workdays = dates("workdays", change.workdays, current.workdays)?;
    let hours = WorkingHours::new(time_zone, weekdays, start, end, holidays, workdays)?;
    let shown = Calendar::of(&hours);
    let list = |l: &[String]| serde_json::to_string(l).map_err(anyhow::Error::from);
    let mut tx = db.begin().await?;
    let snapshot =
        audit::Before::take(&mut tx, audit::Setting::WorkingHours, audit::SINGLETON).await?;
    tx.execute("DELETE FROM working_hours", &[]).await?;
    tx.execute(
        "INSERT INTO working_hours (time_zone, weekdays, start_time, end_time, holidays, workdays, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            Param::from(shown.time_zone.as_str()),
            Param::from(serde_json::to_string(&shown.weekdays).map_err(anyhow::Error::from)?),
            Param::from(shown.start.as_str()),
            Param::from(shown.end.as_str()),
            Param::from(list(&shown.holidays)?),
            Param::from(list(&shown.workdays)?),
            Param::Int(to_millis(now)),
        ],
    )
    .await?;
    snapshot
        .record(&mut tx, Some(actor), now, audit::Action::Update)
        .await?;
    tx.commit().await?;
    Ok(shown)
}

// ---------------------------------------------------------------------------------------------
// SLA rules

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlaAction {
    /// Notify the manager of the owner's team.
    Escalate,
    /// Give the lead to a pool or a user.
    Reassign,
}

impl SlaAction {
    fn code(self) -> &'static str {
        match self {
            SlaAction::Escalate => "escalate",
            SlaAction::Reassign => "reassign",
        }
    }

    fn parse(value: &str) -> Result<Self, Invalid> {
        match value {
            "escalate" => Ok(SlaAction::Escalate),
            "reassign" => Ok(SlaAction::Reassign),
            _ => Err(Invalid::new("action", "must be escalate or reassign")),
        }
    }
}

/// A new SLA rule as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SlaRuleInput, description = "A new SLA rule")]
pub struct NewSlaRule {
    /// A name; left out: one saying the hours
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = sla_name_schema)]
    pub name: Option<String>,
    #[schema(schema_with = sla_hours_schema)]
    pub hours: i64,
    /// escalate (the default) or reassign
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = action_schema)]
    pub action: Option<String>,
    #[schema(schema_with = target_pool_schema)]
    pub target_pool_id: Option<i64>,
    #[schema(schema_with = target_user_schema)]
    pub target_user_id: Option<i64>,
    #[schema(schema_with = sla_team_schema)]
    pub team_id: Option<i64>,
    /// Whether the rule applies; left out: true
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// The fields of an SLA rule to change; a field left out keeps its value, and the pool, the
/// user and the team are cleared by null.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Changes to an SLA rule")]
pub struct SlaRulePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = sla_name_schema)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = sla_hours_schema)]
    pub hours: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = action_schema)]
    pub action: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = target_pool_schema)]
    pub target_pool_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = target_user_schema)]
    pub target_user_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = sla_team_schema)]
    pub team_id: Option<Option<i64>>,
    /// Whether the rule applies
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

impl From<NewSlaRule> for SlaRulePatch {
    fn from(new: NewSlaRule) -> Self {
        SlaRulePatch {
            name: new.name,
            hours: Some(new.hours),
            action: new.action,
            target_pool_id: Some(new.target_pool_id),
            target_user_id: Some(new.target_user_id),
            team_id: Some(new.team_id),
            active: new.active,
        }
    }
}

/// The most working hours an SLA rule waits.
pub const MAX_SLA_HOURS: i64 = 2000;

fn sla_name_schema() -> ObjectBuilder {
    schema::text(false, true, 100, "A name")
}

fn sla_hours_schema() -> ObjectBuilder {
    schema::scalar(
        Type::Integer,
        false,
        "Working hours from the assignment to the first follow-up, 1–2000",
    )
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
    .minimum(Some(1))
    .maximum(Some(MAX_SLA_HOURS))
}

fn action_schema() -> ObjectBuilder {
    schema::codes(
        [SlaAction::Escalate.code(), SlaAction::Reassign.code()],
        false,
        "escalate: notify the manager of the owner's team (the nearest team up the org tree \
         with one, else the admins); reassign: give the lead to `target_pool_id` or \
         `target_user_id`",
    )
}

fn target_pool_schema() -> ObjectBuilder {
    nullable_id("For reassign: the pool the lead goes to")
}

fn target_user_schema() -> ObjectBuilder {
    nullable_id("For reassign: the user who gets the lead")
}

fn sla_team_schema() -> ObjectBuilder {
    nullable_id("Only leads owned by this team's subtree of the org tree; null: all")
}

/// An SLA rule as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A first-contact service level")]
pub struct SlaRule {
    /// Unique id
    pub id: i64,
    /// A name
    pub name: String,
    /// Working hours from the assignment to the first follow-up
    pub hours: i64,
    #[schema(schema_with = action_schema)]
    pub action: String,
    /// For reassign: the pool the lead goes to
    #[schema(required = true)]
    pub target_pool_id: Option<i64>,
    /// For reassign: the user who gets the lead
    #[schema(required = true)]
    pub target_user_id: Option<i64>,
    /// Only leads owned by this team's subtree of the org tree; null: all
    #[schema(required = true)]
    pub team_id: Option<i64>,
    /// Whether the rule applies
    pub active: bool,
    /// The admin who made it
    #[schema(required = true)]
    pub created_by: Option<i64>,
    /// When it was created
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it last changed
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Every SLA rule, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "The SLA rules")]
pub struct SlaRuleList {
    /// The rules
    pub items: Vec<SlaRule>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone)]
struct SlaSettings {
    name: String,
    hours: i64,
    action: SlaAction,
    target_pool_id: Option<i64>,
    target_user_id: Option<i64>,
    team_id: Option<i64>,
    active: bool,
}

impl SlaSettings {
    fn from_row(r: &Row) -> anyhow::Result<Self> {
        Ok(SlaSettings {
            name: r.text("name"),
            hours: r.int("hours"),
            action: SlaAction::parse(&r.text("action"))?,
            target_pool_id: r.opt_int("target_pool_id"),
            target_user_id: r.opt_int("target_user_id"),
            team_id: r.opt_int("team_id"),
            active: r.int("active") != 0,
        })
    }

    fn apply(change: SlaRulePatch, current: Option<&SlaSettings>) -> Result<Self, Invalid> {
        let hours = match change.hours {
            Some(h) => within("hours", h, 1, MAX_SLA_HOURS)?,
            None => current.map(|c| c.hours).ok_or_else(|| {
                Invalid::new(
                    "hours",
                    "is required: how many working hours to first contact",
                )
            })?,
        };
        let action = match change.action {
            Some(a) => SlaAction::parse(
                Text::parse_optional("action", &a, 20)?
                    .ok_or_else(|| Invalid::new("action", "is required"))?
                    .as_str(),
            )?,
            None => current.map_or(SlaAction::Escalate, |c| c.action),
        };
        let name = match change.name {
            Some(n) => Text::parse_optional("name", &n, 100)?
                .map(Text::into_string)
                .ok_or_else(|| Invalid::new("name", "is required"))?,
            None => current.map_or_else(
                || format!("first contact within {hours} working hours"),
                |c| c.name.clone(),
            ),
        };
        let pick = |name: &str, sent: Option<Option<i64>>, current: Option<i64>| match sent {
            Some(id) => id.map(|id| within(name, id, 1, i64::MAX)).transpose(),
            None => Ok(current),
        };
        let target_pool_id = pick(
            "target_pool_id",
            change.target_pool_id,
            current.and_then(|c| c.target_pool_id),
        )?;
        let target_user_id = pick(
            "target_user_id",
            change.target_user_id,
            current.and_then(|c| c.target_user_id),
        )?;
        let team_id = pick("team_id", change.team_id, current.and_then(|c| c.team_id))?;
        match (action, target_pool_id, target_user_id) {
            (SlaAction::Escalate, None, None) => {}
            (SlaAction::Escalate, _, _) => {
                return Err(Invalid::new(
                    "action",
                    "an escalation notifies the manager; set target_pool_id or target_user_id only to reassign",
                ))
            }
            (SlaAction::Reassign, Some(_), None) | (SlaAction::Reassign, None, Some(_)) => {}
            (SlaAction::Reassign, _, _) => {
                return Err(Invalid::new(
                    "target_pool_id",
                    "to reassign, name exactly one of target_pool_id and target_user_id",
                ))
            }
        }
        let active = change
            .active
            .unwrap_or_else(|| current.is_none_or(|c| c.active));
        Ok(SlaSettings {
            name,
            hours,
            action,
            target_pool_id,
            target_user_id,
            team_id,
            active,
        })
    }

    async fn check(&self, db: &Db) -> StoreResult<()> {
        if let Some(p) = self.target_pool_id {
            check_pool(db, "target_pool_id", p).await?;
        }
        if let Some(u) = self.target_user_id {
            check_user(db, "target_user_id", u).await?;
        }
        if let Some(t) = self.team_id {
            check_team(db, "team_id", t).await?;
        }
        Ok(())
    }

    fn params(&self) -> Vec<Param> {
        vec![
            Param::from(self.name.as_str()),
            Param::Int(self.hours),
            Param::from(self.action.code()),
            Param::from(self.target_pool_id),
            Param::from(self.target_user_id),
            Param::from(self.team_id),
            Param::Int(i64::from(self.active)),
        ]
    }
}

fn sla_of(r: &Row) -> anyhow::Result<SlaRule> {
    let s = SlaSettings::from_row(r)?;
    Ok(SlaRule {
        id: r.int("id"),
        name: s.name,
        hours: s.hours,
        action: s.action.code().to_owned(),
        target_pool_id: s.target_pool_id,
        target_user_id: s.target_user_id,
        team_id: s.team_id,
        active: s.active,
        created_by: r.opt_int("created_by"),
        created_at: rfc3339(r.int("created_at")),
        updated_at: rfc3339(r.int("updated_at")),
    })
}

async fn load_sla(db: &Db, id: i64) -> StoreResult<Row> {
    db.fetch_optional(
        "SELECT * FROM sla_rules WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(id)],
    )
    .await?
    .ok_or(StoreError::NotFound("SLA rule"))
}

/// The SLA rules (admins only).
pub async fn list_sla_rules(db: &Db, actor: &Actor) -> StoreResult<SlaRuleList> {
    actor.require_admin("see SLA rules")?;
    let items = db
        .fetch_all(
            "SELECT * FROM sla_rules WHERE deleted_at IS NULL ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(sla_of)
        .collect::<anyhow::Result<_>>()?;
    Ok(SlaRuleList {
        items,
        next_cursor: None,
    })
}

/// One SLA rule (admins only).
pub async fn get_sla_rule(db: &Db, actor: &Actor, id: i64) -> StoreResult<SlaRule> {
    actor.require_admin("see SLA rules")?;
    Ok(sla_of(&load_sla(db, id).await?)?)
}

/// Creates an SLA rule (admins only).
pub async fn create_sla_rule(
    db: &Db,
    actor: &Actor,
    new: Unread<NewSlaRule>,
    now: DateTime<Utc>,
) -> StoreResult<SlaRule> {
    actor.require_admin("create SLA rules")?;
    let s = SlaSettings::apply(new.read()?.into(), None)?;
    s.check(db).await?;
    let mut params = s.params();
    let ms = to_millis(now);
    params.extend([Param::Int(actor.user_id), Param::Int(ms), Param::Int(ms)]);
    let id = audit::insert(
        db,
        actor,
        now,
        audit::Setting::SlaRule,
        "INSERT INTO sla_rules (name, hours, action, target_pool_id, target_user_id, team_id, active, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &params,
    )
    .await?;
    Ok(sla_of(&load_sla(db, id).await?)?)
}

/// Changes an SLA rule (admins only); fields absent stay as they are.
pub async fn update_sla_rule(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: Unread<SlaRulePatch>,
    now: DateTime<Utc>,
) -> StoreResult<SlaRule> {
    actor.require_admin("change SLA rules")?;
    let patch = patch.read()?;
    let current = SlaSettings::from_row(&load_sla(db, id).await?)?;
    let s = SlaSettings::apply(patch, Some(&current))?;
    s.check(db).await?;
    let mut params = s.params();
    params.extend([Param::Int(to_millis(now)), Param::Int(id)]);
    let change = audit::Edit {
        kind: audit::Setting::SlaRule,
        id,
        action: audit::Action::Update,
        by: actor,
        at: now,
    };
    change.execute(
        db,
        "UPDATE sla_rules SET name = ?, hours = ?, action = ?, target_pool_id = ?, target_user_id = ?, team_id = ?, active = ?, updated_at = ? WHERE id = ?",
        &params,
    )
    .await?;
    Ok(sla_of(&load_sla(db, id).await?)?)
}

/// Deletes an SLA rule (admins only).
pub async fn delete_sla_rule(
    db: &Db,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    actor.require_admin("delete SLA rules")?;
    load_sla(db, id).await?;
    let change = audit::Edit {
        kind: audit::Setting::SlaRule,
        id,
        action: audit::Action::Delete,
        by: actor,
        at: now,
    };
    change
        .execute(
            db,
            "UPDATE sla_rules SET deleted_at = ?, active = 0 WHERE id = ?",
            &[Param::Int(to_millis(now)), Param::Int(id)],
        )
        .await?;
    Ok(())
}

/// The managers to escalate to about `owner`'s leads: the managers of the owner's team, else
/// of the nearest team above it that has one, else the admins.
async fn managers_of(tx: &mut Tx, owner: i64) -> anyhow::Result<Vec<i64>> {
    let teams: Vec<(i64, Option<i64>)> = tx
        .fetch_all(
            "SELECT id, parent_id FROM teams WHERE deleted_at IS NULL",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.int("id"), r.opt_int("parent_id")))
        .collect();
    let mut team = tx
        .fetch_optional(
            "SELECT team_id FROM users WHERE id = ?",
            &[Param::Int(owner)],
        )
        .await?
        .and_then(|r| r.opt_int("team_id"));
    // The org tree has no cycles; the bound only guards against a corrupt one.
    for _ in 0..=teams.len() {
        let Some(t) = team else { break };
        let managers: Vec<i64> = tx
            .fetch_all(
                "SELECT id FROM users WHERE team_id = ? AND role = 'manager' AND active = 1 AND deleted_at IS NULL AND id <> ? ORDER BY id",
                &[Param::Int(t), Param::Int(owner)],
            )
            .await?
            .iter()
            .map(|r| r.int("id"))
            .collect();
        if !managers.is_empty() {
            return Ok(managers);
        }
        team = teams.iter().find(|(id, _)| *id == t).and_then(|(_, p)| *p);
    }
    Ok(tx
        .fetch_all(
            "SELECT id FROM users WHERE role = 'admin' AND active = 1 AND deleted_at IS NULL AND id <> ? ORDER BY id",
            &[Param::Int(owner)],
        )
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect())
}

async fn username(tx: &mut Tx, id: i64) -> anyhow::Result<String> {
    Ok(tx
        .fetch_optional(
            "SELECT COALESCE(display_name, username) AS name FROM users WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .map(|r| r.text("name"))
        .unwrap_or_default())
}

async fn escalate(tx: &mut Tx, s: &SlaSettings, lead: &Row, now: i64) -> anyhow::Result<()> {
    let owner = lead.int("owner_id");
    let owner_name = username(tx, owner).await?;
    let name = lead.text("name");
    for manager in managers_of(tx, owner).await? {
        let message = if locale(tx, manager).await? == "en" {
            format!(
                "Lead {name}, assigned to {owner_name}, has had no first contact within {} working hours",
                s.hours
            )
        } else {
            format!(
                "线索「{name}」分配给 {owner_name} 已超过 {} 个工作小时仍未首次联系",
                s.hours
            )
        };
        notifications::notify(
            tx,
            &notifications::Notification {
                user_id: manager,
                kind: notifications::Kind::SlaEscalated,
                record_type: Some(RecordType::Lead),
                record_id: Some(lead.int("id")),
                message,
                now_ms: now,
            },
        )
        .await?;
    }
    Ok(())
}

/// Gives a lead to another user; its timers restart.
async fn reassign_to_user(
    tx: &mut Tx,
    stamp: Stamp,
    lead: &Row,
    user: i64,
) -> anyhow::Result<Option<Value>> {
    let id = lead.int("id");
    let now = to_millis(stamp.now);
    let changed = tx
        .execute(
            "UPDATE leads SET owner_id = ?, assigned_at = ?, claimed_pool_id = NULL, protected_until = NULL, updated_at = ? WHERE id = ? AND owner_id = ?",
            &[
                Param::Int(user),
                Param::Int(now),
                Param::Int(now),
                Param::Int(id),
                Param::Int(lead.int("owner_id")),
            ],
        )
        .await?;
    if changed != 1 {
        return Ok(None);
    }
    let row = tx
        .fetch_optional("SELECT * FROM leads WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or_else(|| anyhow::anyhow!("lead {id} vanished inside its transaction"))?;
    let after = to_json(&LEADS, &row);
    history::record_changes(
        tx,
        stamp,
        RecordType::Lead,
        id,
        &snapshot(&to_json(&LEADS, lead)),
        &snapshot(&after),
    )
    .await?;
    events::emit(tx, "lead.updated", &after, now).await?;
    crate::channels::announce::owner_announced(tx, &after, user, stamp).await?;
    Ok(Some(after))
}

async fn user_is_active(tx: &mut Tx, id: i64) -> anyhow::Result<bool> {
    Ok(tx
        .fetch_optional(
            "SELECT id FROM users WHERE id = ? AND active = 1 AND deleted_at IS NULL",
            &[Param::Int(id)],
        )
        .await?
        .is_some())
}

/// Tells the one who held a lead that an SLA rule took it from them.
async fn tell_owner_taken(
    tx: &mut Tx,
    s: &SlaSettings,
    lead: &Row,
    now: i64,
) -> anyhow::Result<()> {
    let owner = lead.int("owner_id");
    let name = lead.text("name");
    let message = if locale(tx, owner).await? == "en" {
        format!(
            "Lead {name} was reassigned: no first contact within {} working hours",
            s.hours
        )
    } else {
        format!(
            "线索「{name}」超过 {} 个工作小时未首次联系，已被收回改派",
            s.hours
        )
    };
    notifications::notify(
        tx,
        &notifications::Notification {
            user_id: owner,
            kind: notifications::Kind::SlaReassigned,
            record_type: Some(RecordType::Lead),
            record_id: Some(lead.int("id")),
            message,
            now_ms: now,
        },
    )
    .await
}

/// The periodic job `sla.check`: for each active SLA rule, the leads whose owner has not made
/// first contact within the rule's working hours of getting them, each acted on once per
/// assignment, at most a batch per rule and run.
pub async fn sla_check(db: &Db, at: DateTime<Utc>) -> anyhow::Result<()> {
    let now = to_millis(at);
    let hours = working_hours(db).await?;
    let rules = db
        .fetch_all(
            "SELECT * FROM sla_rules WHERE active = 1 AND deleted_at IS NULL ORDER BY id",
            &[],
        )
        .await?;
    for rule in rules {
        let id = rule.int("id");
        let s = SlaSettings::from_row(&rule)?;
        let team = pool::team_owner_clause(db, s.team_id).await?;
        // Working time never runs faster than wall time: a lead assigned less than N hours ago
        // cannot be late yet.
        let candidates = db
            .fetch_all(
                &format!(
                    "SELECT id, assigned_at FROM leads WHERE deleted_at IS NULL AND owner_id IS NOT NULL AND pool_id IS NULL \
                     AND assigned_at IS NOT NULL AND assigned_at <= ? AND status NOT IN ('converted', 'disqualified') \
                     AND (last_activity_at IS NULL OR last_activity_at < assigned_at){team} \
                     AND NOT EXISTS (SELECT 1 FROM sla_breaches b WHERE b.rule_id = ? AND b.lead_id = leads.id AND b.assigned_at = leads.assigned_at) \
                     ORDER BY assigned_at, id LIMIT {BATCH}"
                ),
                &[Param::Int(now - s.hours * HOUR_MS), Param::Int(id)],
            )
            .await?;
        if candidates.is_empty() {
            continue;
        }
        let stamp = Stamp {
            actor_id: rule.opt_int("created_by").unwrap_or_default(),
            channel: Channel::Job,
            now: at,
        };
        let lock = db.dialect().lock_rows();
        let mut tx = db.begin().await?;
        for candidate in &candidates {
            let assigned_at = candidate.int("assigned_at");
            let due = to_millis(hours.add(from_millis(assigned_at), Duration::hours(s.hours)));
            if due > now {
                // Candidates come in assignment order and deadlines keep that order.
                break;
            }
            let Some(lead) = tx
                .fetch_optional(
                    &format!(
                        "SELECT * FROM leads WHERE id = ? AND assigned_at = ? AND owner_id IS NOT NULL AND pool_id IS NULL AND deleted_at IS NULL \
                         AND (last_activity_at IS NULL OR last_activity_at < assigned_at){lock}"
                    ),
                    &[Param::Int(candidate.int("id")), Param::Int(assigned_at)],
                )
                .await?
            else {
                continue;
            };
            let first = tx
                .execute(
                    "INSERT INTO sla_breaches (rule_id, lead_id, assigned_at, owner_id, action, due_at, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule_id, lead_id, assigned_at) DO NOTHING",
                    &[
                        Param::Int(id),
                        Param::Int(lead.int("id")),
                        Param::Int(assigned_at),
                        Param::Int(lead.int("owner_id")),
                        Param::from(s.action.code()),
                        Param::Int(due),
                        Param::Int(now),
                    ],
                )
                .await?
                == 1;
            if !first {
                continue;
            }
            history::record_action(
                &mut tx,
                stamp,
                RecordType::Lead,
                lead.int("id"),
                "sla_breach",
                Some(&json!({"rule_id": id, "hours": s.hours, "action": s.action.code(), "due_at": rfc3339(due)})),
            )
            .await?;
            events::emit(&mut tx, "lead.sla_breached", &to_json(&LEADS, &lead), now).await?;
            let reassigned = match (s.action, s.target_pool_id, s.target_user_id) {
                (SlaAction::Reassign, Some(pool_id), _) => {
                    let reason = format!(
                        "{}: no first contact within {} working hours",
                        s.name, s.hours
                    );
                    pool::put_in_pool(&mut tx, stamp, &lead, pool_id, "recycle", &reason)
                        .await?
                        .is_some()
                }
                (SlaAction::Reassign, None, Some(user))
                    if user != lead.int("owner_id") && user_is_active(&mut tx, user).await? =>
                {
                    reassign_to_user(&mut tx, stamp, &lead, user)
                        .await?
                        .is_some()
                }
                _ => false,
            };
            if reassigned {
                tell_owner_taken(&mut tx, &s, &lead, now).await?;
            } else {
                escalate(&mut tx, &s, &lead, now).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Due follow-ups and reminders

/// A planned follow-up that is due.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = DueFollowUp,
    description = "A planned follow-up: the `next_follow_up_at` of a record's latest activity"
)]
pub struct DueFollowUp {
    /// The activity that planned it
    pub activity_id: i64,
    #[schema(schema_with = record_type_schema)]
    pub record_type: String,
    /// The record
    pub record_id: i64,
    /// The record's name
    pub record_name: String,
    /// The record's owner
    pub owner_id: i64,
    /// When the follow-up is planned
    #[schema(format = DateTime)]
    pub due_at: String,
    /// True when it is past
    pub overdue: bool,
    #[serde(rename = "type")]
    #[schema(schema_with = activity_type_schema)]
    pub kind: String,
    #[schema(schema_with = outcome_schema)]
    pub outcome: Option<String>,
    /// Its content
    #[schema(required = true)]
    pub content: Option<String>,
    /// Who logged it
    #[schema(required = true)]
    pub author_id: Option<i64>,
}

fn activity_type_schema() -> ObjectBuilder {
    schema::codes(
        ActivityType::ALL.iter().map(|t| t.code()),
        false,
        "The planning activity's type",
    )
}

fn outcome_schema() -> ObjectBuilder {
    schema::choice_code(
        Outcome::ALL.iter().map(|o| o.code()),
        true,
        "Its outcome: the code of an entry of the outcome list, which admins extend",
    )
}

/// One page of the follow-ups that are due, earliest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DueFollowUpPage, description = "Planned follow-ups, earliest first")]
pub struct DuePage {
    /// The follow-ups
    pub items: Vec<DueFollowUp>,
    /// Pass as `cursor` for the next page; null on the last page
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Which follow-ups a due list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// Overdue and due later today (the default).
    Due,
    /// Due today, earlier or later.
    Today,
    /// Due before now.
    Overdue,
    /// Due from now on, within `days`.
    Upcoming,
}

fn parse_cursor(value: &str) -> StoreResult<(i64, i64)> {
    value
        .split_once('_')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| {
            Invalid::new(
                "cursor",
                "is not a cursor from a previous page of this list",
            )
            .into()
        })
}

/// The planned follow-ups that are due, per `?when=due|today|overdue|upcoming` (with
/// `days=` for upcoming, default 7), earliest first, of records owned by `?user_id=` (within
/// the caller's scope) or by anyone in the caller's scope.
pub async fn due(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<DuePage> {
    let mut when = When::Due;
    let mut user: Option<i64> = None;
    let mut days = 7_i64;
    let mut limit = 100_i64;
    let mut after: Option<(i64, i64)> = None;
    for (name, value) in params {
        let value = value.trim();
        match name.as_str() {
            "when" => {
                when = match value {
                    "due" => When::Due,
                    "today" => When::Today,
                    "overdue" => When::Overdue,
                    "upcoming" => When::Upcoming,
                    _ => {
                        return Err(
                            Invalid::new("when", "must be due, today, overdue or upcoming").into(),
                        )
                    }
                }
            }
            "user_id" => {
                user = Some(
                    value
                        .parse()
                        .map_err(|_| Invalid::new("user_id", "must be a user id"))?,
                )
            }
            "days" => {
                days = value
                    .parse()
                    .ok()
                    .filter(|d| (1..=90).contains(d))
                    .ok_or_else(|| Invalid::new("days", "must be a whole number from 1 to 90"))?
            }
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| Invalid::new("limit", "must be a whole number from 1 to 500"))?
            }
            "cursor" => after = Some(parse_cursor(value)?),
            other => return Err(Invalid::new(
                other,
                "is not a parameter of this list (accepted: user_id, when, days, limit, cursor)",
            )
            .into()),
        }
    }
    if let Some(u) = user.filter(|u| !actor.sees_owner(*u)) {
        return Err(StoreError::Forbidden(format!(
            "user {u} is outside your data scope"
        )));
    }
    let owners = |column: &str| match user {
        Some(u) => Some(format!("{column} = {u}")),
        None => actor.owner_condition(column),
    };
    let hours = working_hours(db).await?;
    let (day_start, day_end) = hours.day_bounds(now);
    let now_ms = to_millis(now);
    let (from, to) = match when {
        When::Due => (i64::MIN, to_millis(day_end)),
        When::Today => (to_millis(day_start), to_millis(day_end)),
        When::Overdue => (i64::MIN, now_ms),
        When::Upcoming => (now_ms, now_ms + days * 24 * HOUR_MS),
    };
    let mut items: Vec<(i64, i64, DueFollowUp)> = Vec::new();
    for table in TABLES {
        // A lead keeps the plan of its latest follow-up (migration 0025), indexed with and
        // without its owner: leads are found by it, then their latest follow-up by id. The
        // other records are found through the plans of their follow-ups.
        let (mut sql, mut binds) = if table.record_type == RecordType::Lead {
            let planned = |r: &str| {
                let mut c = format!(
                    "{r}.deleted_at IS NULL AND {r}.next_follow_up_at >= ? \
                     AND {r}.next_follow_up_at < ? AND {r}.owner_id IS NOT NULL \
                     AND {r}.status NOT IN ('converted', 'disqualified')"
                );
                if let Some(condition) = owners(&format!("{r}.owner_id")) {
                    c.push_str(&format!(" AND {condition}"));
                }
                c
            };
            // The page holds the leads due up to the plan of the (limit + 1)th one after the
            // cursor, ties included: their latest follow-ups are looked up and sorted, not
            // those of every lead in range (a manager's owners are not in one index range).
            let mut binds = vec![
                Param::Int(from),
                Param::Int(to),
                Param::Int(from),
                Param::Int(to),
            ];
            let after_cursor = match after {
                Some((at, _)) => {
                    binds.push(Param::Int(at));
                    " AND s.next_follow_up_at > ?"
                }
                None => "",
            };
            binds.push(Param::Int(to));
            (
                format!(
                    "SELECT a.id, r.id AS record_id, a.type, a.outcome, a.content, \
                     r.next_follow_up_at, a.owner_id AS author_id, \
                     r.name AS record_name, r.owner_id AS record_owner \
                     FROM leads r JOIN activities a ON a.id = (SELECT b.id FROM activities b \
                       WHERE b.record_type = 'lead' AND b.record_id = r.id AND b.deleted_at IS NULL \
                       ORDER BY b.created_at DESC, b.id DESC LIMIT 1) \
                     WHERE {} AND r.next_follow_up_at <= COALESCE((SELECT s.next_follow_up_at \
                       FROM leads s WHERE {}{after_cursor} \
                       ORDER BY s.next_follow_up_at LIMIT 1 OFFSET {limit}), ?)",
                    planned("r"),
                    planned("s"),
                ),
                binds,
            )
        } else {
            (
                format!(
                    "SELECT a.id, a.record_id, a.type, a.outcome, a.content, a.next_follow_up_at, \
                     a.owner_id AS author_id, r.name AS record_name, r.owner_id AS record_owner \
                     FROM activities a JOIN {} r ON r.id = a.record_id \
                     WHERE a.record_type = ? AND a.deleted_at IS NULL AND r.deleted_at IS NULL \
                     AND a.next_follow_up_at >= ? AND a.next_follow_up_at < ? AND r.owner_id IS NOT NULL \
                     AND {LATEST}",
                    table.name
                ),
                vec![
                    Param::from(table.record_type.code()),
                    Param::Int(from),
                    Param::Int(to),
                ],
            )
        };
        let due = if table.record_type == RecordType::Lead {
            "r.next_follow_up_at"
        } else {
            "a.next_follow_up_at"
        };
        if table.record_type != RecordType::Lead {
            if let Some(condition) = owners("r.owner_id") {
                sql.push_str(&format!(" AND {condition}"));
            }
        }
        if let Some((at, id)) = after {
            sql.push_str(&format!(" AND ({due} > ? OR ({due} = ? AND a.id > ?))"));
            binds.extend([Param::Int(at), Param::Int(at), Param::Int(id)]);
        }
        sql.push_str(&format!(" ORDER BY {due}, a.id LIMIT {}", limit + 1));
        for r in db.fetch_all(&sql, &binds).await? {
            let due_at = r.int("next_follow_up_at");
            items.push((
                due_at,
                r.int("id"),
                DueFollowUp {
                    activity_id: r.int("id"),
                    record_type: table.record_type.code().to_owned(),
                    record_id: r.int("record_id"),
                    record_name: r.text("record_name"),
                    owner_id: r.int("record_owner"),
                    due_at: rfc3339(due_at),
                    overdue: due_at < now_ms,
                    kind: r.text("type"),
                    outcome: r.opt_text("outcome"),
                    content: r.opt_text("content"),
                    author_id: r.opt_int("author_id"),
                },
            ));
        }
    }
    items.sort_by_key(|(due, id, _)| (*due, *id));
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|(due, id, _)| format!("{due}_{id}"))
    } else {
        None
    };
    Ok(DuePage {
        items: items.into_iter().map(|(_, _, f)| f).collect(),
        next_cursor: next,
    })
}

/// The record an activity is logged on, if it still exists and has an owner to remind.
async fn reminded_record(
    tx: &mut Tx,
    record_type: &str,
    id: i64,
) -> anyhow::Result<Option<(i64, String)>> {
    let Ok(record_type) = RecordType::parse(record_type) else {
        return Ok(None);
    };
    let table = Table::of(record_type);
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT * FROM {} WHERE id = ? AND deleted_at IS NULL AND owner_id IS NOT NULL",
                table.name
            ),
            &[Param::Int(id)],
        )
        .await?;
    Ok(row
        .filter(|r| {
            record_type != RecordType::Lead
                || !matches!(r.text("status").as_str(), "converted" | "disqualified")
        })
        .map(|r| (r.int("owner_id"), r.text("name"))))
}

/// The periodic job `followups.remind`: notifies the owner of each record whose planned
/// follow-up has come, once per plan (a plan moved to another time is reminded again).
pub async fn remind(db: &Db, at: DateTime<Utc>) -> anyhow::Result<()> {
    let now = to_millis(at);
    let due = db
        .fetch_all(
            &format!(
                "SELECT a.id, a.record_type, a.record_id, a.next_follow_up_at FROM activities a \
                 WHERE a.deleted_at IS NULL AND a.next_follow_up_at <= ? AND a.next_follow_up_at > ? \
                 AND (a.reminded_for IS NULL OR a.reminded_for <> a.next_follow_up_at) AND {LATEST} \
                 ORDER BY a.next_follow_up_at, a.id LIMIT {BATCH}"
            ),
            &[Param::Int(now), Param::Int(now - REMIND_WITHIN_MS)],
        )
        .await?;
    if due.is_empty() {
        return Ok(());
    }
    let hours = working_hours(db).await?;
    let mut tx = db.begin().await?;
    for a in &due {
        let planned = a.int("next_follow_up_at");
        let claimed = tx
            .execute(
                "UPDATE activities SET reminded_for = next_follow_up_at WHERE id = ? AND next_follow_up_at = ? \
                 AND (reminded_for IS NULL OR reminded_for <> next_follow_up_at)",
                &[Param::Int(a.int("id")), Param::Int(planned)],
            )
            .await?
            == 1;
        if !claimed {
            continue;
        }
        let record_type = a.text("record_type");
        let Some((owner, name)) =
            reminded_record(&mut tx, &record_type, a.int("record_id")).await?
        else {
            continue;
        };
        let when = local_time(&hours, planned);
        let message = if locale(&mut tx, owner).await? == "en" {
            format!("Follow-up due: {name}, planned for {when}")
        } else {
            format!("跟进提醒：「{name}」计划于 {when} 跟进")
        };
        notifications::notify(
            &mut tx,
            &notifications::Notification {
                user_id: owner,
                kind: notifications::Kind::FollowupDue,
                record_type: RecordType::parse(&record_type).ok(),
                record_id: Some(a.int("record_id")),
                message,
                now_ms: now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Comments (点评)

/// A comment as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ActivityCommentInput, description = "A comment")]
pub struct NewComment {
    #[schema(schema_with = content_schema)]
    pub content: String,
}

fn content_schema() -> ObjectBuilder {
    schema::text(false, true, 2000, "The comment")
}

/// A comment as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = ActivityComment,
    description = "A manager's comment (点评) on a follow-up"
)]
pub struct Comment {
    /// Unique id
    pub id: i64,
    /// The follow-up
    pub activity_id: i64,
    /// Who wrote it
    pub author_id: i64,
    /// Their username
    #[schema(required = true)]
    pub author: Option<String>,
    /// The comment
    pub content: String,
    /// When
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The comments on a follow-up, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActivityCommentList, description = "Comments, oldest first")]
pub struct CommentList {
    /// The comments
    pub items: Vec<Comment>,
}

impl Comment {
    fn read(r: &Row) -> Comment {
        Comment {
            id: r.int("id"),
            activity_id: r.int("activity_id"),
            author_id: r.int("author_id"),
            author: r.opt_text("username"),
            content: r.text("content"),
            created_at: rfc3339(r.int("created_at")),
        }
    }
}

/// A manager or an admin comments on a follow-up they can see; its author is notified.
pub async fn comment(
    ctx: Ctx<'_>,
    activity_id: i64,
    new: Unread<NewComment>,
) -> StoreResult<Comment> {
    let activity = activities::get(ctx.db, ctx.actor, activity_id).await?;
    if !matches!(ctx.actor.role, Role::Manager | Role::Admin) {
        return Err(StoreError::Forbidden(
            "only managers and admins comment (点评) on follow-ups".into(),
        ));
    }
    let content = Text::parse_optional("content", &new.read()?.content, 2000)?
        .map(Text::into_string)
        .ok_or_else(|| Invalid::new("content", "is required"))?;
    let record_type = RecordType::parse(&activity.record_type)?;
    let record_id = activity.record_id;
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let id = tx
        .insert_returning_id(
            "INSERT INTO activity_comments (activity_id, author_id, content, created_at) VALUES (?, ?, ?, ?)",
            &[
                Param::Int(activity_id),
                Param::Int(ctx.actor.user_id),
                Param::from(content.as_str()),
                Param::Int(now),
            ],
        )
        .await?;
    history::record_action(
        &mut tx,
        ctx.stamp(),
        record_type,
        record_id,
        "activity_comment",
        Some(&json!({"activity_id": activity_id, "comment_id": id, "content": content})),
    )
    .await?;
    if let Some(author) = activity.owner_id.filter(|&a| a != ctx.actor.user_id) {
        let short: String = content.chars().take(100).collect();
        let message = if locale(&mut tx, author).await? == "en" {
            format!(
                "{} commented on your follow-up: {short}",
                ctx.actor.username
            )
        } else {
            format!("{} 点评了你的跟进记录：{short}", ctx.actor.username)
        };
        notifications::notify(
            &mut tx,
            &notifications::Notification {
                user_id: author,
                kind: notifications::Kind::Commented,
                record_type: Some(record_type),
                record_id: Some(record_id),
                message,
                now_ms: now,
            },
        )
        .await?;
    }
    let row = tx
        .fetch_optional(
            "SELECT c.*, u.username FROM activity_comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.id = ?",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("Comment"))?;
    tx.commit().await?;
    Ok(Comment::read(&row))
}

/// The comments on a follow-up the actor can see, oldest first.
pub async fn comments(db: &Db, actor: &Actor, activity_id: i64) -> StoreResult<CommentList> {
    activities::get(db, actor, activity_id).await?;
    let items = db
        .fetch_all(
            "SELECT c.*, u.username FROM activity_comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.activity_id = ? ORDER BY c.id",
            &[Param::Int(activity_id)],
        )
        .await?
        .iter()
        .map(Comment::read)
        .collect();
    Ok(CommentList { items })
}

/// The next planned follow-up of each of these leads (the one their latest follow-up set), as
/// RFC 3339 instants; leads without one are left out. For a list page: the ids come from a list
/// already read with the caller's scope.
pub async fn next_planned(
    db: &Db,
    lead_ids: &[i64],
) -> anyhow::Result<std::collections::HashMap<i64, String>> {
    if lead_ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let sql = format!(
        "SELECT id AS record_id, next_follow_up_at FROM leads \
         WHERE id IN ({}) AND next_follow_up_at IS NOT NULL",
        vec!["?"; lead_ids.len()].join(", ")
    );
    let params: Vec<Param> = lead_ids.iter().map(|id| Param::Int(*id)).collect();
    Ok(db
        .fetch_all(&sql, &params)
        .await?
        .iter()
        .map(|r| (r.int("record_id"), rfc3339(r.int("next_follow_up_at"))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(
            parse_cursor("1700000000000_42").unwrap(),
            (1_700_000_000_000, 42)
        );
        assert!(parse_cursor("x_1").is_err());
        assert!(parse_cursor("12").is_err());
    }
}
