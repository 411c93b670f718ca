//! The public pool (公海): unowned leads that reps claim, and the rules that return held leads
//! to it.
//!
//! A lead in a pool has no owner (`owner_id` NULL) and its `pool_id` set, so the ordinary data
//! scope never shows it to a rep or a manager; the pool's members see it through the pool's own
//! endpoints, with the phone number masked until they claim it. Claims are limited per pool
//! (leads held, claims per day), a rep must wait a cool-down before claiming again a lead they
//! lost, and two reps claiming one lead at once get it exactly once. A claimed lead is
//! protected (保护期) for a while, and each follow-up renews that up to a maximum.
//!
//! Recycle rules send held leads back: no first follow-up within N hours of assignment, no
//! follow-up within N days, not converted within N days, each with an optional warning to the
//! owner M hours or days ahead. The periodic job `pool.recycle` applies them in bounded
//! batches; every owner change restarts the timers, because they run from `assigned_at`.

use crate::admin::audit;
use crate::channels::{events, notifications};
use crate::error::{StoreError, StoreResult};
use crate::jobs::queue::{Job, JobEnv, JobFailure};
use crate::leads::working_hours::working_hours;
use crate::records::history;
use crate::records::lifecycle::{Change, Hook};
use crate::records::schema::{Table, LEADS};
use crate::records::{rfc3339, to_json, Ctx, Stamp};
use crate::scope::{team_tree, Actor};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Ref};
use utoipa::ToSchema;
use xiansuo_core::clock::{from_millis, to_millis};
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::{snapshot, Channel};
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::pool::{masked_phone, Decision, Protection, Recycle, RecycleKind, Timers};
use xiansuo_core::rules::region_of;
use xiansuo_core::validation::{present, Unread};
use xiansuo_core::{schema, Invalid, Text};
use xiansuo_store::{Db, Param, Row, Tx};

/// The periodic job that recycles held leads and warns their owners (`pool.recycle`).
pub struct Recycling;

#[async_trait]
impl Job for Recycling {
    const KIND: &'static str = "pool.recycle";
    const EVERY: Option<i64> = Some(300);
    type Payload = ();

    async fn run(&self, db: &Db, _: &JobEnv, _: (), at: DateTime<Utc>) -> Result<(), JobFailure> {
        Ok(recycle(db, at).await?)
    }
}

/// How many leads one claim or recycle batch takes at most.
const MAX_LEADS_PER_CLAIM: usize = 100;
const RECYCLE_BATCH: i64 = 500;
const DAY_MS: i64 = 24 * 3600 * 1000;
const HOUR_MS: i64 = 3600 * 1000;

/// Statuses whose leads are done with: never recycled, never counted as held.
const CLOSED: &str = "('converted', 'disqualified')";

/// Checks that `id` is an active user; `field` names the field at fault.
pub(crate) async fn check_user(db: &Db, field: &str, id: i64) -> StoreResult<()> {
    let found = db
        .fetch_optional(
            "SELECT id FROM users WHERE id = ? AND active = 1 AND deleted_at IS NULL",
            &[Param::Int(id)],
        )
        .await?
        .is_some();
    if found {
        Ok(())
    } else {
        Err(Invalid::new(field, format!("no active user has id {id}")).into())
    }
}

/// Checks that `id` is a team.
pub(crate) async fn check_team(db: &Db, field: &str, id: i64) -> StoreResult<()> {
    let found = db
        .fetch_optional(
            "SELECT id FROM teams WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(id)],
        )
        .await?
        .is_some();
    if found {
        Ok(())
    } else {
        Err(Invalid::new(field, format!("no team has id {id}")).into())
    }
}

/// Checks that `id` is a pool that is not deleted.
pub(crate) async fn check_pool(db: &Db, field: &str, id: i64) -> StoreResult<()> {
    let found = db
        .fetch_optional(
            "SELECT id FROM pools WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(id)],
        )
        .await?
        .is_some();
    if found {
        Ok(())
    } else {
        Err(Invalid::new(field, format!("no pool has id {id}")).into())
    }
}

/// The language a user reads notifications in.
pub(crate) async fn locale(tx: &mut Tx, user_id: i64) -> anyhow::Result<String> {
    Ok(tx
        .fetch_optional(
            "SELECT locale FROM users WHERE id = ?",
            &[Param::Int(user_id)],
        )
        .await?
        .map_or_else(|| "zh".to_owned(), |r| r.text("locale")))
}

/// `SQL IN` list of ids read from the database (integers, so safe to write inline).
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// `" AND owner_id IN (…)"` limiting a rule to owners in `team`'s subtree of the org tree.
pub(crate) async fn team_owner_clause(db: &Db, team: Option<i64>) -> anyhow::Result<String> {
    let Some(team) = team else {
        return Ok(String::new());
    };
    let teams = xiansuo_core::role::subtree(&team_tree(db).await?, team);
    let users = crate::scope::users_in_teams(db, &teams).await?;
    Ok(if users.is_empty() {
        " AND 1 = 0".to_owned()
    } else {
        format!(" AND owner_id IN ({})", id_list(&users))
    })
}

// ---------------------------------------------------------------------------------------------
// Pools

/// A new pool as a request sends it; every field but the name may be left out or null.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PoolInput, description = "A new pool")]
pub struct NewPool {
    #[schema(schema_with = name_schema)]
    pub name: String,
    #[schema(schema_with = region_schema)]
    pub region: Option<String>,
    #[schema(schema_with = industry_schema)]
    pub industry: Option<String>,
    #[schema(schema_with = admin_schema)]
    pub admin_id: Option<i64>,
    #[schema(schema_with = member_users_schema)]
    pub member_user_ids: Option<Vec<i64>>,
    #[schema(schema_with = member_teams_schema)]
    pub member_team_ids: Option<Vec<i64>>,
    #[schema(schema_with = max_held_schema)]
    pub max_held: Option<i64>,
    #[schema(schema_with = max_claims_schema)]
    pub max_claims_per_day: Option<i64>,
    #[schema(schema_with = cooldown_schema)]
    pub cooldown_days: Option<i64>,
    #[schema(schema_with = protection_schema)]
    pub protection_days: Option<i64>,
    #[schema(schema_with = protection_max_schema)]
    pub protection_max_days: Option<i64>,
}

/// The fields of a pool to change; a field left out keeps its value, and null clears it (no
/// criterion, no members, no limit, 0 days). The name may not be null.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Changes to a pool")]
pub struct PoolPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = name_schema)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = region_schema)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = industry_schema)]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = admin_schema)]
    pub admin_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = member_users_schema)]
    pub member_user_ids: Option<Option<Vec<i64>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = member_teams_schema)]
    pub member_team_ids: Option<Option<Vec<i64>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = max_held_schema)]
    pub max_held: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = max_claims_schema)]
    pub max_claims_per_day: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = cooldown_schema)]
    pub cooldown_days: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = protection_schema)]
    pub protection_days: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = protection_max_schema)]
    pub protection_max_days: Option<Option<i64>>,
}

impl From<NewPool> for PoolPatch {
    /// A new pool is a change of the empty one; a protection maximum left out follows the
    /// protection period.
    fn from(new: NewPool) -> Self {
        PoolPatch {
            name: Some(new.name),
            region: Some(new.region),
            industry: Some(new.industry),
            admin_id: Some(new.admin_id),
            member_user_ids: Some(new.member_user_ids),
            member_team_ids: Some(new.member_team_ids),
            max_held: Some(new.max_held),
            max_claims_per_day: Some(new.max_claims_per_day),
            cooldown_days: Some(new.cooldown_days),
            protection_days: Some(new.protection_days),
            protection_max_days: new.protection_max_days.map(Some),
        }
    }
}

fn name_schema() -> ObjectBuilder {
    schema::text(false, true, 100, "The pool's name, unique")
}

fn region_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        100,
        "Region criterion: a lead whose region, province or city is this fits; null or blank: any",
    )
}

fn industry_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        100,
        "Industry criterion: a lead of this industry fits; null or blank: any",
    )
}

/// An id (1 or more), or null.
pub(crate) fn nullable_id(doc: &str) -> ObjectBuilder {
    schema::scalar(Type::Integer, true, doc)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
}

fn admin_schema() -> ObjectBuilder {
    nullable_id("The pool's admin, who may assign its leads to members")
}

fn id_list_schema(doc: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .description(Some("An id")),
        )
        .schema_type(schema::typed(Type::Array, true))
        .description(Some(doc))
}

fn member_users_schema() -> ArrayBuilder {
    id_list_schema("Users who may see the pool's leads and claim them; null: none")
}

fn member_teams_schema() -> ArrayBuilder {
    id_list_schema("Teams whose users (with their subtrees) may see and claim; null: none")
}

/// A count from `min` to `max`, or null.
fn count_schema(min: i64, max: i64, doc: &str) -> ObjectBuilder {
    schema::scalar(Type::Integer, true, doc)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(min))
        .maximum(Some(max))
}

fn max_held_schema() -> ObjectBuilder {
    count_schema(
        0,
        MAX_LIMIT,
        "How many open leads from this pool one user may hold; null: no limit",
    )
}

fn max_claims_schema() -> ObjectBuilder {
    count_schema(
        0,
        MAX_LIMIT,
        "How many leads one user may claim from this pool per day (in the working hours' time \
         zone); null: no limit",
    )
}

fn cooldown_schema() -> ObjectBuilder {
    count_schema(
        0,
        MAX_DAYS,
        "Days before a user may claim again a lead they returned or that was recycled from \
         them; null: 0",
    )
}

fn protection_schema() -> ObjectBuilder {
    count_schema(
        0,
        MAX_DAYS,
        "Protection period (保护期) of a claimed lead, renewed by each follow-up; null: 0",
    )
}

fn protection_max_schema() -> ObjectBuilder {
    count_schema(
        0,
        MAX_DAYS,
        "The most protection after a claim, in days, at least `protection_days`; left out \
         when `protection_days` is sent: at least that",
    )
}

/// The highest hold or claim limit of a pool.
pub const MAX_LIMIT: i64 = 1_000_000;
/// The most days of a cool-down or a protection.
pub const MAX_DAYS: i64 = 3650;

/// `value` if it is from `min` to `max`, else what is wrong with `field`.
pub(crate) fn within(field: &str, value: i64, min: i64, max: i64) -> Result<i64, Invalid> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(Invalid::new(
            field,
            format!("must be a whole number from {min} to {max}"),
        ))
    }
}

/// A list of ids without repeats, in the order sent.
fn distinct(ids: Vec<i64>) -> Vec<i64> {
    let mut seen = Vec::with_capacity(ids.len());
    for id in ids {
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    seen
}

/// A pool as the API shows it, with how many leads wait in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A public pool (公海)")]
pub struct Pool {
    /// Unique id
    pub id: i64,
    /// The pool's name, unique
    pub name: String,
    /// Region criterion: a lead whose region, province or city is this fits
    #[schema(required = true)]
    pub region: Option<String>,
    /// Industry criterion: a lead of this industry fits
    #[schema(required = true)]
    pub industry: Option<String>,
    /// The pool's admin, who may assign its leads to members
    #[schema(required = true)]
    pub admin_id: Option<i64>,
    /// Users who may see the pool's leads and claim them
    pub member_user_ids: Vec<i64>,
    /// Teams whose users (with their subtrees) may see and claim
    pub member_team_ids: Vec<i64>,
    /// How many open leads from this pool one user may hold; null: no limit
    #[schema(required = true)]
    pub max_held: Option<i64>,
    /// How many leads one user may claim from this pool per day; null: no limit
    #[schema(required = true)]
    pub max_claims_per_day: Option<i64>,
    /// Days before a user may claim again a lead they returned or that was recycled from them
    pub cooldown_days: i64,
    /// Protection period (保护期) of a claimed lead, renewed by each follow-up
    pub protection_days: i64,
    /// The most protection after a claim, in days
    pub protection_max_days: i64,
    /// Leads waiting in the pool
    pub lead_count: i64,
    /// When it was created
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it last changed
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The pools the caller may see, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "The pools you may see")]
pub struct PoolList {
    /// The pools
    pub items: Vec<Pool>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Leads as a record's JSON (`Lead` in the document): their fields come from the table spec,
/// custom fields included, so they stay open JSON here.
fn leads_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(Ref::from_schema_name("Lead"))
        .description(Some("The leads"))
}

/// One page of the leads waiting in a pool.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    description = "Leads waiting in a pool, newest in the pool first; phones masked (138****5678)"
)]
pub struct PoolLeadPage {
    #[schema(schema_with = leads_schema)]
    pub items: Vec<Value>,
    /// Pass as `cursor` for the next page; null on the last page
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Leads just claimed or assigned, as the caller sees them now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "The leads, as their new owner sees them")]
pub struct PoolLeads {
    #[schema(schema_with = leads_schema)]
    pub items: Vec<Value>,
}

/// A pool's settings, as stored.
#[derive(Debug, Clone, Default)]
struct PoolSettings {
    name: String,
    region: Option<String>,
    industry: Option<String>,
    admin_id: Option<i64>,
    member_user_ids: Vec<i64>,
    member_team_ids: Vec<i64>,
    max_held: Option<i64>,
    max_claims_per_day: Option<i64>,
    cooldown_days: i64,
    protection_days: i64,
    protection_max_days: i64,
}

impl PoolSettings {
    fn apply(&mut self, change: PoolPatch) -> Result<(), Invalid> {
        let text = |field: &str, value: Option<String>| {
            value
                .map(|v| Text::parse_optional(field, &v, 100).map(|t| t.map(Text::into_string)))
                .transpose()
                .map(Option::flatten)
        };
        let count = |field: &str, value: Option<i64>, max: i64| {
            value.map(|n| within(field, n, 0, max)).transpose()
        };
        if let Some(name) = change.name {
            self.name =
                text("name", Some(name))?.ok_or_else(|| Invalid::new("name", "is required"))?;
        }
        if let Some(v) = change.region {
            self.region = text("region", v)?;
        }
        if let Some(v) = change.industry {
            self.industry = text("industry", v)?;
        }
        if let Some(v) = change.admin_id {
            self.admin_id = v
                .map(|id| within("admin_id", id, 1, i64::MAX))
                .transpose()?;
        }
        if let Some(v) = change.member_user_ids {
            self.member_user_ids = distinct(v.unwrap_or_default());
        }
        if let Some(v) = change.member_team_ids {
            self.member_team_ids = distinct(v.unwrap_or_default());
        }
        if let Some(v) = change.max_held {
            self.max_held = count("max_held", v, MAX_LIMIT)?;
        }
        if let Some(v) = change.max_claims_per_day {
            self.max_claims_per_day = count("max_claims_per_day", v, MAX_LIMIT)?;
        }
        if let Some(v) = change.cooldown_days {
            self.cooldown_days = count("cooldown_days", v, MAX_DAYS)?.unwrap_or(0);
        }
        let days_sent = change.protection_days.is_some();
        if let Some(v) = change.protection_days {
            self.protection_days = count("protection_days", v, MAX_DAYS)?.unwrap_or(0);
        }
        match change.protection_max_days {
            Some(v) => {
                self.protection_max_days = count("protection_max_days", v, MAX_DAYS)?.unwrap_or(0);
            }
            None if days_sent => {
                self.protection_max_days = self.protection_max_days.max(self.protection_days);
            }
            None => {}
        }
        if self.protection_max_days < self.protection_days {
            return Err(Invalid::new(
                "protection_max_days",
                "must be at least protection_days",
            ));
        }
        Ok(())
    }

    async fn check(&self, db: &Db) -> StoreResult<()> {
        if let Some(admin) = self.admin_id {
            check_user(db, "admin_id", admin).await?;
        }
        for &user in &self.member_user_ids {
            check_user(db, "member_user_ids", user).await?;
        }
        for &team in &self.member_team_ids {
            check_team(db, "member_team_ids", team).await?;
        }
        Ok(())
    }

    fn protection(&self) -> Protection {
        Protection {
            days: self.protection_days,
            max_days: self.protection_max_days,
        }
    }
}

/// A pool row with its members.
struct StoredPool {
    id: i64,
    row: Row,
    settings: PoolSettings,
}

impl StoredPool {
    fn shown(&self, lead_count: i64) -> Pool {
        let s = self.settings.clone();
        Pool {
            id: self.id,
            name: s.name,
            region: s.region,
            industry: s.industry,
            admin_id: s.admin_id,
            member_user_ids: s.member_user_ids,
            member_team_ids: s.member_team_ids,
            max_held: s.max_held,
            max_claims_per_day: s.max_claims_per_day,
            cooldown_days: s.cooldown_days,
            protection_days: s.protection_days,
            protection_max_days: s.protection_max_days,
            lead_count,
            created_at: rfc3339(self.row.int("created_at")),
            updated_at: rfc3339(self.row.int("updated_at")),
        }
    }

    /// True when `actor` may see the pool and claim from it: an admin, the pool's admin, a
    /// member user, or a user in a member team's subtree.
    fn admits(&self, actor: &Actor, teams: &[(i64, Option<i64>)]) -> bool {
        if self.administered_by(actor) || self.settings.member_user_ids.contains(&actor.user_id) {
            return true;
        }
        actor.team_id.is_some_and(|mine| {
            self.settings
                .member_team_ids
                .iter()
                .any(|&t| xiansuo_core::role::subtree(teams, t).contains(&mine))
        })
    }

    /// True when `actor` may assign the pool's leads: an admin or the pool's admin.
    fn administered_by(&self, actor: &Actor) -> bool {
        actor.is_admin() || self.settings.admin_id == Some(actor.user_id)
    }
}

fn settings_of(row: &Row, members: &[Row]) -> PoolSettings {
    PoolSettings {
        name: row.text("name"),
        region: row.opt_text("region"),
        industry: row.opt_text("industry"),
        admin_id: row.opt_int("admin_id"),
        member_user_ids: members
            .iter()
            .filter_map(|m| m.opt_int("user_id"))
            .collect(),
        member_team_ids: members
            .iter()
            .filter_map(|m| m.opt_int("team_id"))
            .collect(),
        max_held: row.opt_int("max_held"),
        max_claims_per_day: row.opt_int("max_claims_per_day"),
        cooldown_days: row.int("cooldown_days"),
        protection_days: row.int("protection_days"),
        protection_max_days: row.int("protection_max_days"),
    }
}

async fn load_pools(db: &Db, id: Option<i64>) -> anyhow::Result<Vec<StoredPool>> {
    let (filter, params) = match id {
        Some(id) => (" AND id = ?", vec![Param::Int(id)]),
        None => ("", Vec::new()),
    };
    let rows = db
        .fetch_all(
            &format!("SELECT * FROM pools WHERE deleted_at IS NULL{filter} ORDER BY id"),
            &params,
        )
        .await?;
    let members = db
        .fetch_all(
            &format!(
                "SELECT pool_id, user_id, team_id FROM pool_members WHERE pool_id IN (SELECT id FROM pools WHERE deleted_at IS NULL{filter}) ORDER BY id"
            ),
            &params,
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.int("id");
            let mine: Vec<Row> = members
                .iter()
                .filter(|m| m.int("pool_id") == id)
                .cloned()
                .collect();
            StoredPool {
                id,
                settings: settings_of(&row, &mine),
                row,
            }
        })
        .collect())
}

/// A pool the actor may see, or not found.
async fn visible_pool(db: &Db, actor: &Actor, id: i64) -> StoreResult<StoredPool> {
    let teams = team_tree(db).await?;
    load_pools(db, Some(id))
        .await?
        .into_iter()
        .find(|p| p.admits(actor, &teams))
        .ok_or(StoreError::NotFound("Pool"))
}

async fn lead_counts(db: &Db) -> anyhow::Result<Vec<(i64, i64)>> {
    Ok(db
        .fetch_all(
            // Pool by pool, each a count of the pool's index (migration 0025); as one GROUP BY,
            // SQLite would look up every unowned lead through the owner index instead.
            "SELECT p.id AS pool_id, (SELECT COUNT(*) FROM leads l WHERE l.pool_id = p.id \
             AND l.owner_id IS NULL AND l.deleted_at IS NULL) AS n FROM pools p",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.int("pool_id"), r.int("n")))
        .collect())
}

fn count_of(counts: &[(i64, i64)], pool: i64) -> i64 {
    counts
        .iter()
        .find(|(p, _)| *p == pool)
        .map_or(0, |(_, n)| *n)
}

/// The pools the actor may see (an admin: all), with how many leads wait in each.
pub async fn list(db: &Db, actor: &Actor) -> StoreResult<PoolList> {
    let teams = team_tree(db).await?;
    let counts = lead_counts(db).await?;
    let items = load_pools(db, None)
        .await?
        .iter()
        .filter(|p| p.admits(actor, &teams))
        .map(|p| p.shown(count_of(&counts, p.id)))
        .collect();
    Ok(PoolList {
        items,
        next_cursor: None,
    })
}

/// One pool the actor may see.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> StoreResult<Pool> {
    let pool = visible_pool(db, actor, id).await?;
    let counts = lead_counts(db).await?;
    Ok(pool.shown(count_of(&counts, id)))
}

fn name_taken(e: anyhow::Error, name: &str) -> StoreError {
    let text = format!("{e:#}");
    if text.contains("pools_name_key") || text.contains("UNIQUE constraint failed: pools.name") {
        StoreError::Conflict(format!("a pool named '{name}' exists already"))
    } else {
        StoreError::Internal(e)
    }
}

async fn write_members(tx: &mut Tx, id: i64, s: &PoolSettings) -> anyhow::Result<()> {
    tx.execute(
        "DELETE FROM pool_members WHERE pool_id = ?",
        &[Param::Int(id)],
    )
    .await?;
    for &user in &s.member_user_ids {
        tx.execute(
            "INSERT INTO pool_members (pool_id, user_id) VALUES (?, ?)",
            &[Param::Int(id), Param::Int(user)],
        )
        .await?;
    }
    for &team in &s.member_team_ids {
        tx.execute(
            "INSERT INTO pool_members (pool_id, team_id) VALUES (?, ?)",
            &[Param::Int(id), Param::Int(team)],
        )
        .await?;
    }
    Ok(())
}

fn settings_params(s: &PoolSettings) -> Vec<Param> {
    vec![
        Param::from(s.name.as_str()),
        Param::from(s.region.clone()),
        Param::from(s.industry.clone()),
        Param::from(s.admin_id),
        Param::from(s.max_held),
        Param::from(s.max_claims_per_day),
        Param::Int(s.cooldown_days),
        Param::Int(s.protection_days),
        Param::Int(s.protection_max_days),
    ]
}

/// Creates a pool (admins only).
pub async fn create(
    db: &Db,
    actor: &Actor,
    new: Unread<NewPool>,
    now: DateTime<Utc>,
) -> StoreResult<Pool> {
    actor.require_admin("create pools")?;
    let mut s = PoolSettings::default();
    s.apply(new.read()?.into())?;
    s.check(db).await?;
    let at = now;
    let now = to_millis(now);
    let mut tx = db.begin().await?;
    let mut params = settings_params(&s);
    params.extend([Param::Int(now), Param::Int(now)]);
    let id = tx
        .insert_returning_id(
            "INSERT INTO pools (name, region, industry, admin_id, max_held, max_claims_per_day, cooldown_days, protection_days, protection_max_days, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &params,
        )
        .await
        .map_err(|e| name_taken(e, &s.name))?;
    write_members(&mut tx, id, &s).await?;
    audit::created(&mut tx, Some(actor), at, audit::Setting::Pool, id).await?;
    tx.commit().await?;
    get(db, actor, id).await
}

/// Changes a pool's settings (admins only); fields absent stay as they are.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: Unread<PoolPatch>,
    now: DateTime<Utc>,
) -> StoreResult<Pool> {
    actor.require_admin("change pools")?;
    let patch = patch.read()?;
    let mut pool = visible_pool(db, actor, id).await?;
    pool.settings.apply(patch)?;
    pool.settings.check(db).await?;
    let mut tx = db.begin().await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::Pool, id).await?;
    let mut params = settings_params(&pool.settings);
    params.extend([Param::Int(to_millis(now)), Param::Int(id)]);
    tx.execute(
        "UPDATE pools SET name = ?, region = ?, industry = ?, admin_id = ?, max_held = ?, max_claims_per_day = ?, cooldown_days = ?, protection_days = ?, protection_max_days = ?, updated_at = ? WHERE id = ?",
        &params,
    )
    .await
    .map_err(|e| name_taken(e, &pool.settings.name))?;
    write_members(&mut tx, id, &pool.settings).await?;
    snapshot
        .record(&mut tx, Some(actor), now, audit::Action::Update)
        .await?;
    tx.commit().await?;
    get(db, actor, id).await
}

/// Deletes an empty pool that no rule sends leads to (admins only).
pub async fn delete(db: &Db, actor: &Actor, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    actor.require_admin("delete pools")?;
    visible_pool(db, actor, id).await?;
    let mut tx = db.begin().await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::Pool, id).await?;
    let waiting = tx
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM leads WHERE pool_id = ? AND owner_id IS NULL AND deleted_at IS NULL",
            &[Param::Int(id)],
        )
        .await?
        .map_or(0, |r| r.int("n"));
    if waiting > 0 {
        return Err(StoreError::Conflict(format!(
            "the pool still holds {waiting} leads; assign them or move them first"
        )));
    }
    let rules = tx
        .fetch_optional(
            "SELECT (SELECT COUNT(*) FROM recycle_rules WHERE pool_id = ? AND deleted_at IS NULL) + (SELECT COUNT(*) FROM sla_rules WHERE target_pool_id = ? AND deleted_at IS NULL) AS n",
            &[Param::Int(id), Param::Int(id)],
        )
        .await?
        .map_or(0, |r| r.int("n"));
    if rules > 0 {
        return Err(StoreError::Conflict(format!(
            "{rules} recycle or SLA rules send leads to this pool; change or delete them first"
        )));
    }
    tx.execute(
        "UPDATE pools SET deleted_at = ?, updated_at = ? WHERE id = ?",
        &[
            Param::Int(to_millis(now)),
            Param::Int(to_millis(now)),
            Param::Int(id),
        ],
    )
    .await?;
    snapshot
        .record(&mut tx, Some(actor), now, audit::Action::Delete)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The pool whose criteria fit a lead best: region (the region of the lead's province, as its
/// code or name, the province or the city) and
/// industry, each matching or left open; the more criteria matched, the better; ties go to the
/// oldest pool.
async fn matching_pool(tx: &mut Tx, lead: &Row) -> anyhow::Result<Option<i64>> {
    let pools = tx
        .fetch_all(
            "SELECT id, region, industry FROM pools WHERE deleted_at IS NULL ORDER BY id",
            &[],
        )
        .await?;
    let province = lead.opt_text("province");
    let region = province.as_deref().and_then(region_of);
    let lead_regions = [
        region.map(|r| r.code().to_owned()),
        region.map(|r| r.label("zh").to_owned()),
        region.map(|r| r.label("en").to_owned()),
        province,
        lead.opt_text("city"),
    ];
    let industry = lead.opt_text("industry");
    let mut best: Option<(usize, i64)> = None;
    for p in &pools {
        let mut score = 0;
        if let Some(region) = p.opt_text("region") {
            if !lead_regions.iter().flatten().any(|r| *r == region) {
                continue;
            }
            score += 1;
        }
        if let Some(want) = p.opt_text("industry") {
            if industry.as_deref() != Some(want.as_str()) {
                continue;
            }
            score += 1;
        }
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, p.int("id")));
        }
    }
    Ok(best.map(|(_, id)| id))
}

// ---------------------------------------------------------------------------------------------
// Leads in a pool

/// Leads a member claims for themselves.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Leads to claim for yourself, all or none")]
pub struct PoolClaim {
    #[schema(schema_with = lead_ids_schema)]
    pub lead_ids: Vec<i64>,
}

/// Leads an admin, or the pool's admin, gives to a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Leads to give to a user, all or none")]
pub struct PoolAssignment {
    #[schema(schema_with = lead_ids_schema)]
    pub lead_ids: Vec<i64>,
    /// The user who gets them
    #[schema(minimum = 1)]
    pub owner_id: i64,
}

/// A held lead going back to a pool.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A lead going back to a pool")]
pub struct LeadRelease {
    #[schema(schema_with = reason_schema)]
    pub reason: String,
    /// The pool; by default the one it was claimed from, else the one whose region and
    /// industry fit it
    #[schema(minimum = 1)]
    pub pool_id: Option<i64>,
}

fn lead_ids_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .description(Some("An id")),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_LEADS_PER_CLAIM))
        .description(Some("1 to 100 lead ids"))
}

fn reason_schema() -> ObjectBuilder {
    schema::text(false, true, 500, "Why it goes back")
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

/// A pool lead as members see it before claiming: the phone masked.
fn masked(row: &Row) -> Value {
    let mut lead = to_json(&LEADS, row);
    if let Some(e164) = row.opt_text("phone_normalized") {
        let shown = Value::from(masked_phone(&e164));
        lead["phone"] = shown.clone();
        lead["phone_normalized"] = shown;
    }
    lead
}

/// The filters of a pool's list besides paging: exact fields, a creation range and a search.
pub const POOL_FILTERS: &[&str] = &[
    "source",
    "province",
    "city",
    "tier",
    "created_from",
    "created_to",
    "q",
];

/// The leads waiting in a pool, newest in the pool first, phones masked; for its members.
/// Filters: `source`, `province`, `city`, `tier` (exact), `created_from` and `created_to`
/// (dates in China time, both included, or RFC 3339 instants) and `q` (text in the name or
/// the company; phones are masked here, so they are not searched).
pub async fn leads(
    db: &Db,
    actor: &Actor,
    pool_id: i64,
    params: &[(String, String)],
) -> StoreResult<PoolLeadPage> {
    visible_pool(db, actor, pool_id).await?;
    let mut limit = 50_i64;
    let mut after: Option<(i64, i64)> = None;
    let mut conditions = String::new();
    let mut binds = vec![Param::Int(pool_id)];
    for (name, value) in params {
        let value = value.trim();
        match name.as_str() {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| Invalid::new("limit", "must be a whole number from 1 to 500"))?
            }
            "cursor" => after = Some(parse_cursor(value)?),
            _ if value.is_empty() && POOL_FILTERS.contains(&name.as_str()) => {}
            "tier" if !["high", "medium", "low"].contains(&value) => {
                return Err(Invalid::new("tier", "must be high, medium or low").into());
            }
            "source" | "province" | "city" | "tier" => {
                conditions.push_str(&format!(" AND {name} = ?"));
                binds.push(Param::from(value));
            }
            "created_from" | "created_to" => {
                let end = name == "created_to";
                let at = xiansuo_core::clock::parse_bound(name, value, end)?;
                conditions.push_str(if end {
                    " AND created_at < ?"
                } else {
                    " AND created_at >= ?"
                });
                binds.push(Param::Int(at));
            }
            "q" => {
                let dialect = db.dialect();
                conditions.push_str(&format!(
                    " AND ({} OR {})",
                    dialect.contains_text("name"),
                    dialect.contains_text("COALESCE(company, '')")
                ));
                binds.extend([Param::from(value), Param::from(value)]);
                if let Some((condition, params)) =
                    crate::records::search::candidates(db, value).await?
                {
                    conditions.push_str(&format!(" AND {condition}"));
                    binds.extend(params);
                }
            }
            other => {
                return Err(Invalid::new(
                    other,
                    format!(
                        "is not a parameter of this list (accepted: limit, cursor, {})",
                        POOL_FILTERS.join(", ")
                    ),
                )
                .into())
            }
        }
    }
    let sort = "COALESCE(pooled_at, created_at)";
    let mut sql = format!(
        "SELECT *, {sort} AS pool_sort FROM leads WHERE pool_id = ? AND owner_id IS NULL AND deleted_at IS NULL{conditions}"
    );
    if let Some((at, id)) = after {
        sql.push_str(&format!(" AND ({sort} < ? OR ({sort} = ? AND id < ?))"));
        binds.extend([Param::Int(at), Param::Int(at), Param::Int(id)]);
    }
    sql.push_str(&format!(
        " ORDER BY {sort} DESC, id DESC LIMIT {}",
        limit + 1
    ));
    let mut rows = db.fetch_all(&sql, &binds).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|r| format!("{}_{}", r.int("pool_sort"), r.int("id")))
    } else {
        None
    };
    Ok(PoolLeadPage {
        items: rows.iter().map(masked).collect(),
        next_cursor: next,
    })
}

/// The `lead_ids` of a claim or an assignment: 1 to 100 ids, in ascending order so that two
/// overlapping transactions lock their leads in the same order and cannot deadlock.
fn check_lead_ids(ids: Vec<i64>) -> StoreResult<Vec<i64>> {
    let mut ids = distinct(ids);
    if ids.is_empty() {
        return Err(Invalid::new("lead_ids", "name at least one lead").into());
    }
    if ids.len() > MAX_LEADS_PER_CLAIM {
        return Err(Invalid::new(
            "lead_ids",
            format!("at most {MAX_LEADS_PER_CLAIM} leads at a time"),
        )
        .into());
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Locks a row for the rest of the transaction on PostgreSQL; SQLite's single writer already
/// serialises write transactions.
fn for_update(tx: &Tx) -> &'static str {
    tx.dialect().lock_rows()
}

/// Takes leads out of a pool and gives them to `owner`, all or none.
async fn take(
    tx: &mut Tx,
    stamp: Stamp,
    pool: &StoredPool,
    lead_ids: &[i64],
    owner: i64,
    kind: &str,
) -> StoreResult<Vec<Value>> {
    let now = to_millis(stamp.now);
    let lock = for_update(tx);
    let protected_until = pool.settings.protection().on_claim(now);
    let mut taken = Vec::with_capacity(lead_ids.len());
    for &id in lead_ids {
        let row = tx
            .fetch_optional(
                &format!("SELECT * FROM leads WHERE id = ? AND pool_id = ? AND owner_id IS NULL AND deleted_at IS NULL{lock}"),
                &[Param::Int(id), Param::Int(pool.id)],
            )
            .await?;
        let gone = || {
            StoreError::Conflict(format!(
                "lead {id} is not in pool '{}' any more: someone else may have claimed it",
                pool.settings.name
            ))
        };
        let row = row.ok_or_else(gone)?;
        let changed = tx
            .execute(
                "UPDATE leads SET owner_id = ?, pool_id = NULL, claimed_pool_id = ?, assigned_at = ?, protected_until = ?, updated_at = ? WHERE id = ? AND pool_id = ? AND owner_id IS NULL",
                &[
                    Param::Int(owner),
                    Param::Int(pool.id),
                    Param::Int(now),
                    Param::from(protected_until),
                    Param::Int(now),
                    Param::Int(id),
                    Param::Int(pool.id),
                ],
            )
            .await?;
        if changed != 1 {
            return Err(gone());
        }
        let after = reload(tx, id).await?;
        history::record_changes(
            tx,
            stamp,
            RecordType::Lead,
            id,
            &snapshot(&to_json(&LEADS, &row)),
            &snapshot(&after),
        )
        .await?;
        history::record_action(
            tx,
            stamp,
            RecordType::Lead,
            id,
            kind,
            Some(&json!({"pool_id": pool.id, "owner_id": owner})),
        )
        .await?;
        record_move(tx, pool.id, id, kind, owner, stamp.actor_id, None, now).await?;
        events::emit(tx, "lead.updated", &after, now).await?;
        events::emit(tx, "lead.assigned", &after, now).await?;
        taken.push(after);
    }
    Ok(taken)
}

/// Leads as the actor may see them: phones masked for those who may not see them in full.
fn shown(actor: &Actor, mut leads: Vec<Value>) -> Vec<Value> {
    for lead in &mut leads {
        actor.mask(lead);
    }
    leads
}

async fn reload(tx: &mut Tx, id: i64) -> anyhow::Result<Value> {
    let row = tx
        .fetch_optional("SELECT * FROM leads WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or_else(|| anyhow::anyhow!("lead {id} vanished inside its transaction"))?;
    Ok(to_json(&LEADS, &row))
}

#[allow(clippy::too_many_arguments)]
async fn record_move(
    tx: &mut Tx,
    pool: i64,
    lead: i64,
    kind: &str,
    user: i64,
    actor: i64,
    reason: Option<&str>,
    now: i64,
) -> anyhow::Result<()> {
    tx.execute(
        "INSERT INTO pool_moves (pool_id, lead_id, kind, user_id, actor_id, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            Param::Int(pool),
            Param::Int(lead),
            Param::from(kind),
            Param::Int(user),
            Param::Int(actor),
            Param::from(reason),
            Param::Int(now),
        ],
    )
    .await?;
    Ok(())
}

/// A rep (or anyone the pool admits) claims leads from a pool for themselves: all or none,
/// within the pool's limits and cool-down.
pub async fn claim(ctx: Ctx<'_>, pool_id: i64, claim: Unread<PoolClaim>) -> StoreResult<PoolLeads> {
    let claim = claim.read().map_err(|e| {
        if e.field == "owner_id" {
            Invalid::new(
                "owner_id",
                "a claim is always for yourself; admins assign with POST /api/v1/pools/{id}/assign",
            )
        } else {
            e
        }
    })?;
    let ids = check_lead_ids(claim.lead_ids)?;
    let pool = visible_pool(ctx.db, ctx.actor, pool_id).await?;
    let me = ctx.actor.user_id;
    let now = to_millis(ctx.now);
    let hours = working_hours(ctx.db).await?;
    let (day_start, _) = hours.day_bounds(ctx.now);
    let mut tx = ctx.db.begin().await?;
    // A rep's claims take turns, so two at once cannot both pass the limits.
    let lock = for_update(&tx);
    tx.fetch_optional(
        &format!("SELECT id FROM users WHERE id = ?{lock}"),
        &[Param::Int(me)],
    )
    .await?;
    let s = &pool.settings;
    if let Some(max) = s.max_held {
        let held = tx
            .fetch_optional(
                &format!("SELECT COUNT(*) AS n FROM leads WHERE owner_id = ? AND claimed_pool_id = ? AND deleted_at IS NULL AND status NOT IN {CLOSED}"),
                &[Param::Int(me), Param::Int(pool.id)],
            )
            .await?
            .map_or(0, |r| r.int("n"));
        if held + ids.len() as i64 > max {
            return Err(StoreError::Conflict(format!(
                "you hold {held} open leads from pool '{}' and its limit is {max}: you may claim {} more",
                s.name,
                (max - held).max(0)
            )));
        }
    }
    if let Some(max) = s.max_claims_per_day {
        let today = tx
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM pool_moves WHERE user_id = ? AND pool_id = ? AND kind = 'claim' AND at >= ?",
                &[Param::Int(me), Param::Int(pool.id), Param::Int(to_millis(day_start))],
            )
            .await?
            .map_or(0, |r| r.int("n"));
        if today + ids.len() as i64 > max {
            return Err(StoreError::Conflict(format!(
                "you claimed {today} leads from pool '{}' today and its daily limit is {max}: you may claim {} more today",
                s.name,
                (max - today).max(0)
            )));
        }
    }
    if s.cooldown_days > 0 {
        let since = now - s.cooldown_days * DAY_MS;
        let recent = tx
            .fetch_all(
                &format!("SELECT lead_id, MAX(at) AS at FROM pool_moves WHERE user_id = ? AND kind IN ('release', 'recycle') AND at > ? AND lead_id IN ({}) GROUP BY lead_id ORDER BY lead_id", id_list(&ids)),
                &[Param::Int(me), Param::Int(since)],
            )
            .await?;
        if let Some(r) = recent.first() {
            let again = from_millis(r.int("at") + s.cooldown_days * DAY_MS)
                .with_timezone(&hours.time_zone)
                .format("%Y-%m-%d %H:%M");
            return Err(StoreError::Conflict(format!(
                "lead {} was returned to the pool by you less than {} days ago; you may claim it again from {again}",
                r.int("lead_id"),
                s.cooldown_days
            )));
        }
    }
    let taken = take(&mut tx, ctx.stamp(), &pool, &ids, me, "claim").await?;
    tx.commit().await?;
    Ok(PoolLeads {
        items: shown(ctx.actor, taken),
    })
}

/// An admin or the pool's admin gives leads from the pool to a user: an admin to anyone, the
/// pool's admin to its members. Limits and cool-downs are for claims, not for this.
pub async fn assign(
    ctx: Ctx<'_>,
    pool_id: i64,
    assignment: Unread<PoolAssignment>,
) -> StoreResult<PoolLeads> {
    let pool = visible_pool(ctx.db, ctx.actor, pool_id).await?;
    if !pool.administered_by(ctx.actor) {
        return Err(StoreError::Forbidden(
            "only an admin or the pool's admin may assign its leads; members claim them".into(),
        ));
    }
    let assignment = assignment.read()?;
    let ids = check_lead_ids(assignment.lead_ids)?;
    let owner = within("owner_id", assignment.owner_id, 1, i64::MAX)?;
    check_user(ctx.db, "owner_id", owner).await?;
    if !ctx.actor.is_admin() {
        let teams = team_tree(ctx.db).await?;
        let target = Actor::load(ctx.db, owner)
            .await?
            .ok_or_else(|| Invalid::new("owner_id", format!("no active user has id {owner}")))?;
        if !pool.admits(&target, &teams) {
            return Err(StoreError::Forbidden(format!(
                "user {owner} is not a member of pool '{}'",
                pool.settings.name
            )));
        }
    }
    let mut tx = ctx.db.begin().await?;
    let taken = take(&mut tx, ctx.stamp(), &pool, &ids, owner, "assign").await?;
    if owner != ctx.actor.user_id {
        let now = to_millis(ctx.now);
        for lead in &taken {
            notifications::lead_assigned(&mut tx, owner, lead, now).await?;
        }
    }
    tx.commit().await?;
    Ok(PoolLeads {
        items: shown(ctx.actor, taken),
    })
}

/// Puts a held lead into a pool: no owner, no protection, its timers stopped. `kind` is
/// `release` (someone returned it) or `recycle` (a rule did); the one who held it is recorded
/// for the cool-down. Returns the lead as it is now, or `None` when it changed hands meanwhile.
pub(crate) async fn put_in_pool(
    tx: &mut Tx,
    stamp: Stamp,
    lead: &Row,
    pool_id: i64,
    kind: &str,
    reason: &str,
) -> anyhow::Result<Option<Value>> {
    let id = lead.int("id");
    let owner = lead.int("owner_id");
    let now = to_millis(stamp.now);
    let changed = tx
        .execute(
            "UPDATE leads SET owner_id = NULL, pool_id = ?, pooled_at = ?, assigned_at = NULL, claimed_pool_id = NULL, protected_until = NULL, updated_at = ? WHERE id = ? AND owner_id = ? AND pool_id IS NULL",
            &[
                Param::Int(pool_id),
                Param::Int(now),
                Param::Int(now),
                Param::Int(id),
                Param::Int(owner),
            ],
        )
        .await?;
    if changed != 1 {
        return Ok(None);
    }
    let after = reload(tx, id).await?;
    history::record_changes(
        tx,
        stamp,
        RecordType::Lead,
        id,
        &snapshot(&to_json(&LEADS, lead)),
        &snapshot(&after),
    )
    .await?;
    history::record_action(
        tx,
        stamp,
        RecordType::Lead,
        id,
        kind,
        Some(&json!({"pool_id": pool_id, "reason": reason})),
    )
    .await?;
    record_move(
        tx,
        pool_id,
        id,
        kind,
        owner,
        stamp.actor_id,
        Some(reason),
        now,
    )
    .await?;
    events::emit(tx, "lead.updated", &after, now).await?;
    events::emit(tx, &format!("lead.{kind}d"), &after, now).await?;
    Ok(Some(after))
}

async fn pool_name(tx: &mut Tx, id: i64) -> anyhow::Result<String> {
    Ok(tx
        .fetch_optional("SELECT name FROM pools WHERE id = ?", &[Param::Int(id)])
        .await?
        .map(|r| r.text("name"))
        .unwrap_or_default())
}

/// Returns a held lead to a pool with a reason: the one named, else the pool it was claimed
/// from, else the pool whose criteria fit it. Its owner, or anyone whose scope covers it.
pub async fn release(
    ctx: Ctx<'_>,
    lead_id: i64,
    release: Unread<LeadRelease>,
) -> StoreResult<Value> {
    let release = release.read()?;
    let reason = Text::parse_optional("reason", &release.reason, 500)?
        .map(Text::into_string)
        .ok_or_else(|| Invalid::new("reason", "say why the lead goes back to the pool"))?;
    let named = release
        .pool_id
        .map(|p| within("pool_id", p, 1, i64::MAX))
        .transpose()?;
    if let Some(pool) = named {
        check_pool(ctx.db, "pool_id", pool).await?;
    }
    let mut tx = ctx.db.begin().await?;
    let lock = for_update(&tx);
    let lead = tx
        .fetch_optional(
            &format!(
                "SELECT * FROM leads WHERE id = ? AND deleted_at IS NULL{}{lock}",
                ctx.actor.scope_clause()
            ),
            &[Param::Int(lead_id)],
        )
        .await?
        .ok_or(StoreError::NotFound("Lead"))?;
    if lead.opt_int("owner_id").is_none() {
        return Err(StoreError::Conflict("the lead is in a pool already".into()));
    }
    if lead.text("status") == LeadStatus::Converted.code() {
        return Err(StoreError::Conflict("a converted lead is read-only".into()));
    }
    let from = match lead.opt_int("claimed_pool_id") {
        Some(p) => tx
            .fetch_optional(
                "SELECT id FROM pools WHERE id = ? AND deleted_at IS NULL",
                &[Param::Int(p)],
            )
            .await?
            .map(|r| r.int("id")),
        None => None,
    };
    let target = match named.or(from) {
        Some(p) => p,
        None => matching_pool(&mut tx, &lead).await?.ok_or_else(|| {
            Invalid::new(
                "pool_id",
                "no pool fits this lead's region and industry; name the pool",
            )
        })?,
    };
    let owner = lead.int("owner_id");
    let mut after = put_in_pool(&mut tx, ctx.stamp(), &lead, target, "release", &reason)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict("the lead changed hands meanwhile; try again".into())
        })?;
    if owner != ctx.actor.user_id {
        let lang = locale(&mut tx, owner).await?;
        let pool = pool_name(&mut tx, target).await?;
        let name = lead.text("name");
        let message = if lang == "en" {
            format!(
                "{} returned lead {name} to pool {pool}: {reason}",
                ctx.actor.username
            )
        } else {
            format!(
                "{} 已将线索「{name}」退回公海「{pool}」：{reason}",
                ctx.actor.username
            )
        };
        notifications::notify(
            &mut tx,
            &notifications::Notification {
                user_id: owner,
                kind: notifications::Kind::Released,
                record_type: Some(RecordType::Lead),
                record_id: Some(lead_id),
                message,
                now_ms: to_millis(ctx.now),
            },
        )
        .await?;
    }
    tx.commit().await?;
    ctx.actor.mask(&mut after);
    Ok(after)
}

/// Keeps a lead's follow-up timer and protection in step with a follow-up logged on it at
/// `now_ms`: the last activity moves, and a lead claimed from a pool is protected longer, up
/// to the pool's maximum.
pub async fn followed_up(
    tx: &mut Tx,
    record_type: RecordType,
    lead_id: i64,
    now_ms: i64,
) -> anyhow::Result<()> {
    if record_type != RecordType::Lead {
        return Ok(());
    }
    tx.execute(
        "UPDATE leads SET last_activity_at = ? WHERE id = ?",
        &[Param::Int(now_ms), Param::Int(lead_id)],
    )
    .await?;
    let Some(row) = tx
        .fetch_optional(
            "SELECT l.protected_until, l.assigned_at, p.protection_days, p.protection_max_days FROM leads l JOIN pools p ON p.id = l.claimed_pool_id WHERE l.id = ? AND l.owner_id IS NOT NULL AND l.assigned_at IS NOT NULL",
            &[Param::Int(lead_id)],
        )
        .await?
    else {
        return Ok(());
    };
    let protection = Protection {
        days: row.int("protection_days"),
        max_days: row.int("protection_max_days"),
    };
    let current = row.opt_int("protected_until");
    let renewed = protection.on_activity(current, row.int("assigned_at"), now_ms);
    if renewed != current {
        tx.execute(
            "UPDATE leads SET protected_until = ? WHERE id = ?",
            &[Param::from(renewed), Param::Int(lead_id)],
        )
        .await?;
    }
    Ok(())
}

/// Called by whatever gives a lead to someone outside the record engine (`new_owner`, `None`
/// if the owner did not change): the lead leaves its pool, and a protection earned by a claim
/// ends, since the new owner did not claim it. The timers restart by themselves, from the new
/// `assigned_at`. Changes through the engine do the same through [`PoolTimers`].
pub async fn owner_changed(
    tx: &mut Tx,
    table: &Table,
    lead_id: i64,
    new_owner: Option<i64>,
) -> anyhow::Result<()> {
    if table.record_type != RecordType::Lead || new_owner.is_none() {
        return Ok(());
    }
    let cleared: Vec<String> = LEFT_ON_HANDOVER
        .iter()
        .map(|c| format!("{c} = NULL"))
        .collect();
    tx.execute(
        &format!(
            "UPDATE leads SET {} WHERE id = ? AND owner_id IS NOT NULL",
            cleared.join(", ")
        ),
        &[Param::Int(lead_id)],
    )
    .await?;
    Ok(())
}

/// What a lead given to a new owner by hand loses: its pool, the pool it was claimed from and
/// the protection that claim earned.
const LEFT_ON_HANDOVER: [&str; 3] = ["pool_id", "claimed_pool_id", "protected_until"];

/// The pool's timers as a step of a lead's life: a lead handed to a new owner leaves the
/// pool for good, and the claim's protection ends (a handover is not a claim).
pub struct PoolTimers;

#[async_trait]
impl Hook for PoolTimers {
    async fn changing(
        &self,
        _tx: &mut Tx,
        change: &Change<'_>,
        columns: &mut Vec<(String, Param)>,
    ) -> StoreResult<()> {
        if change.table.record_type == RecordType::Lead && change.new_owner.is_some() {
            for column in LEFT_ON_HANDOVER {
                columns.retain(|(c, _)| c != column);
                columns.push((column.to_owned(), Param::NullInt));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Recycle rules

/// A new recycle rule as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RecycleRuleInput, description = "A new recycle rule")]
pub struct NewRecycleRule {
    /// A name; left out: the kind's
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = rule_name_schema)]
    pub name: Option<String>,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    #[schema(schema_with = after_schema)]
    pub after: i64,
    #[schema(schema_with = unit_schema)]
    pub unit: Option<String>,
    #[schema(schema_with = warn_before_schema)]
    pub warn_before: Option<i64>,
    #[schema(schema_with = rule_pool_schema)]
    pub pool_id: Option<i64>,
    #[schema(schema_with = rule_team_schema)]
    pub team_id: Option<i64>,
    /// Whether the rule applies; left out: true
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// The fields of a recycle rule to change; a field left out keeps its value. A null unit is
/// the kind's default, a null `warn_before` 0, a null pool or team none.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Changes to a recycle rule")]
pub struct RecycleRulePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = rule_name_schema)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = kind_schema)]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = after_schema)]
    pub after: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = unit_schema)]
    pub unit: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = warn_before_schema)]
    pub warn_before: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = rule_pool_schema)]
    pub pool_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = rule_team_schema)]
    pub team_id: Option<Option<i64>>,
    /// Whether the rule applies
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

impl From<NewRecycleRule> for RecycleRulePatch {
    fn from(new: NewRecycleRule) -> Self {
        RecycleRulePatch {
            name: new.name,
            kind: Some(new.kind),
            after: Some(new.after),
            unit: Some(new.unit),
            warn_before: Some(new.warn_before),
            pool_id: Some(new.pool_id),
            team_id: Some(new.team_id),
            active: new.active,
        }
    }
}

/// The most hours or days of a recycle rule's timer or warning (ten years in hours).
pub const MAX_AFTER: i64 = 3650 * 24;

fn rule_name_schema() -> ObjectBuilder {
    schema::text(false, true, 100, "A name")
}

fn kind_schema() -> ObjectBuilder {
    schema::codes(
        RecycleKind::ALL.iter().map(|k| k.code()),
        false,
        "no_first_follow_up: no follow-up since the assignment; no_follow_up: none since the \
         last one (or the assignment); not_converted: not converted since the assignment",
    )
}

fn after_schema() -> ObjectBuilder {
    count_schema(
        1,
        MAX_AFTER,
        "How many hours or days until the lead goes back",
    )
    .schema_type(schema::typed(Type::Integer, false))
}

fn unit_schema() -> ObjectBuilder {
    schema::codes(
        [Unit::Hours.code(), Unit::Days.code()],
        true,
        "The unit of `after` and `warn_before`; null (or left out of a new rule): hours for \
         no_first_follow_up, else days",
    )
}

fn warn_before_schema() -> ObjectBuilder {
    count_schema(
        0,
        MAX_AFTER,
        "Warn the owner this long before (same unit), shorter than `after`; null or 0: no \
         warning",
    )
}

fn rule_pool_schema() -> ObjectBuilder {
    nullable_id("The pool leads go back to; null: the pool whose region and industry fit each lead")
}

fn rule_team_schema() -> ObjectBuilder {
    nullable_id("Only leads owned by this team's subtree of the org tree; null: all")
}

/// A recycle rule as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A rule returning neglected leads to a pool")]
pub struct RecycleRule {
    /// Unique id
    pub id: i64,
    /// A name
    pub name: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// How many hours or days until the lead goes back
    pub after: i64,
    #[schema(schema_with = shown_unit_schema)]
    pub unit: String,
    /// Warn the owner this long before (same unit); 0: no warning
    pub warn_before: i64,
    /// The pool leads go back to; null: the pool whose region and industry fit each lead
    #[schema(required = true)]
    pub pool_id: Option<i64>,
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

fn shown_unit_schema() -> ObjectBuilder {
    schema::codes(
        [Unit::Hours.code(), Unit::Days.code()],
        false,
        "The unit of `after` and `warn_before`",
    )
}

/// Every recycle rule, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "The recycle rules")]
pub struct RecycleRuleList {
    /// The rules
    pub items: Vec<RecycleRule>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A recycle rule's settings.
#[derive(Debug, Clone)]
struct RuleSettings {
    name: String,
    kind: RecycleKind,
    after: i64,
    unit: Unit,
    warn_before: i64,
    pool_id: Option<i64>,
    team_id: Option<i64>,
    active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Hours,
    Days,
}

impl Unit {
    fn code(self) -> &'static str {
        match self {
            Unit::Hours => "hours",
            Unit::Days => "days",
        }
    }

    fn parse(value: &str) -> Result<Self, Invalid> {
        match value {
            "hours" => Ok(Unit::Hours),
            "days" => Ok(Unit::Days),
            _ => Err(Invalid::new("unit", "must be hours or days")),
        }
    }

    fn ms(self) -> i64 {
        match self {
            Unit::Hours => HOUR_MS,
            Unit::Days => DAY_MS,
        }
    }
}

impl RuleSettings {
    fn from_row(r: &Row) -> anyhow::Result<Self> {
        Ok(RuleSettings {
            name: r.text("name"),
            kind: RecycleKind::parse(&r.text("kind"))?,
            after: r.int("after_amount"),
            unit: Unit::parse(&r.text("unit"))?,
            warn_before: r.int("warn_before"),
            pool_id: r.opt_int("pool_id"),
            team_id: r.opt_int("team_id"),
            active: r.int("active") != 0,
        })
    }

    fn apply(change: RecycleRulePatch, current: Option<&RuleSettings>) -> Result<Self, Invalid> {
        let kind = match change.kind {
            Some(k) => RecycleKind::parse(
                Text::parse_optional("kind", &k, 50)?
                    .ok_or_else(|| Invalid::new("kind", "is required"))?
                    .as_str(),
            )?,
            None => current
                .map(|c| c.kind)
                .ok_or_else(|| Invalid::new("kind", "is required"))?,
        };
        let unit = match change.unit {
            Some(Some(u)) if !u.trim().is_empty() => Unit::parse(u.trim())?,
            None if current.is_some() => current.map_or(Unit::Days, |c| c.unit),
            _ if kind == RecycleKind::NoFirstFollowUp => Unit::Hours,
            _ => Unit::Days,
        };
        let name = match change.name {
            Some(name) => Text::parse_optional("name", &name, 100)?
                .map(Text::into_string)
                .ok_or_else(|| Invalid::new("name", "is required"))?,
            None => current.map_or_else(|| kind.label("en").to_owned(), |c| c.name.clone()),
        };
        let after = match change.after {
            Some(n) => within("after", n, 1, MAX_AFTER)?,
            None => current
                .map(|c| c.after)
                .ok_or_else(|| Invalid::new("after", "is required: how many hours or days"))?,
        };
        let warn_before = match change.warn_before {
            Some(n) => n
                .map(|n| within("warn_before", n, 0, MAX_AFTER))
                .transpose()?
                .unwrap_or(0),
            None => current.map_or(0, |c| c.warn_before),
        };
        if warn_before >= after {
            return Err(Invalid::new(
                "warn_before",
                "must be shorter than the time after which the lead goes back",
            ));
        }
        let pool_id = match change.pool_id {
            Some(p) => p.map(|p| within("pool_id", p, 1, i64::MAX)).transpose()?,
            None => current.and_then(|c| c.pool_id),
        };
        let team_id = match change.team_id {
            Some(t) => t.map(|t| within("team_id", t, 1, i64::MAX)).transpose()?,
            None => current.and_then(|c| c.team_id),
        };
        let active = change
            .active
            .unwrap_or_else(|| current.is_none_or(|c| c.active));
        Ok(RuleSettings {
            name,
            kind,
            after,
            unit,
            warn_before,
            pool_id,
            team_id,
            active,
        })
    }

    fn timing(&self) -> Recycle {
        Recycle {
            kind: self.kind,
            after_ms: self.after * self.unit.ms(),
            warn_ms: self.warn_before * self.unit.ms(),
        }
    }

    fn params(&self) -> Vec<Param> {
        vec![
            Param::from(self.name.as_str()),
            Param::from(self.kind.code()),
            Param::Int(self.after),
            Param::from(self.unit.code()),
            Param::Int(self.warn_before),
            Param::from(self.pool_id),
            Param::from(self.team_id),
            Param::Int(i64::from(self.active)),
        ]
    }
}

fn rule_of(r: &Row) -> anyhow::Result<RecycleRule> {
    let s = RuleSettings::from_row(r)?;
    Ok(RecycleRule {
        id: r.int("id"),
        name: s.name,
        kind: s.kind.code().to_owned(),
        after: s.after,
        unit: s.unit.code().to_owned(),
        warn_before: s.warn_before,
        pool_id: s.pool_id,
        team_id: s.team_id,
        active: s.active,
        created_by: r.opt_int("created_by"),
        created_at: rfc3339(r.int("created_at")),
        updated_at: rfc3339(r.int("updated_at")),
    })
}

async fn load_rule(db: &Db, id: i64) -> StoreResult<Row> {
    db.fetch_optional(
        "SELECT * FROM recycle_rules WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(id)],
    )
    .await?
    .ok_or(StoreError::NotFound("Recycle rule"))
}

async fn check_rule(db: &Db, s: &RuleSettings) -> StoreResult<()> {
    if let Some(pool) = s.pool_id {
        check_pool(db, "pool_id", pool).await?;
    }
    if let Some(team) = s.team_id {
        check_team(db, "team_id", team).await?;
    }
    Ok(())
}

/// The recycle rules (admins only).
pub async fn list_rules(db: &Db, actor: &Actor) -> StoreResult<RecycleRuleList> {
    actor.require_admin("see recycle rules")?;
    let items = db
        .fetch_all(
            "SELECT * FROM recycle_rules WHERE deleted_at IS NULL ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(rule_of)
        .collect::<anyhow::Result<_>>()?;
    Ok(RecycleRuleList {
        items,
        next_cursor: None,
    })
}

/// One recycle rule (admins only).
pub async fn get_rule(db: &Db, actor: &Actor, id: i64) -> StoreResult<RecycleRule> {
    actor.require_admin("see recycle rules")?;
    Ok(rule_of(&load_rule(db, id).await?)?)
}

/// Creates a recycle rule (admins only).
pub async fn create_rule(
    db: &Db,
    actor: &Actor,
    new: Unread<NewRecycleRule>,
    now: DateTime<Utc>,
) -> StoreResult<RecycleRule> {
    actor.require_admin("create recycle rules")?;
    let s = RuleSettings::apply(new.read()?.into(), None)?;
    check_rule(db, &s).await?;
    let ms = to_millis(now);
    let mut params = s.params();
    params.extend([Param::Int(actor.user_id), Param::Int(ms), Param::Int(ms)]);
    let id = audit::insert(
        db,
        actor,
        now,
        audit::Setting::RecycleRule,
        "INSERT INTO recycle_rules (name, kind, after_amount, unit, warn_before, pool_id, team_id, active, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &params,
    )
    .await?;
    Ok(rule_of(&load_rule(db, id).await?)?)
}

/// Changes a recycle rule (admins only); fields absent stay as they are.
pub async fn update_rule(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: Unread<RecycleRulePatch>,
    now: DateTime<Utc>,
) -> StoreResult<RecycleRule> {
    actor.require_admin("change recycle rules")?;
    let patch = patch.read()?;
    let current = RuleSettings::from_row(&load_rule(db, id).await?)?;
    let s = RuleSettings::apply(patch, Some(&current))?;
    check_rule(db, &s).await?;
    let mut params = s.params();
    params.extend([Param::Int(to_millis(now)), Param::Int(id)]);
    let change = audit::Edit {
        kind: audit::Setting::RecycleRule,
        id,
        action: audit::Action::Update,
        by: actor,
        at: now,
    };
    change.execute(
        db,
        "UPDATE recycle_rules SET name = ?, kind = ?, after_amount = ?, unit = ?, warn_before = ?, pool_id = ?, team_id = ?, active = ?, updated_at = ? WHERE id = ?",
        &params,
    )
    .await?;
    Ok(rule_of(&load_rule(db, id).await?)?)
}

/// Deletes a recycle rule (admins only).
pub async fn delete_rule(db: &Db, actor: &Actor, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    actor.require_admin("delete recycle rules")?;
    load_rule(db, id).await?;
    let change = audit::Edit {
        kind: audit::Setting::RecycleRule,
        id,
        action: audit::Action::Delete,
        by: actor,
        at: now,
    };
    change
        .execute(
            db,
            "UPDATE recycle_rules SET deleted_at = ?, active = 0 WHERE id = ?",
            &[Param::Int(to_millis(now)), Param::Int(id)],
        )
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The recycle job

/// SQL for the instant a rule's timer started, and the condition that it applies at all.
fn timer_sql(kind: RecycleKind) -> (&'static str, &'static str) {
    match kind {
        RecycleKind::NoFirstFollowUp => (
            "assigned_at",
            " AND (last_activity_at IS NULL OR last_activity_at < assigned_at)",
        ),
        RecycleKind::NoFollowUp => (
            "(CASE WHEN last_activity_at > assigned_at THEN last_activity_at ELSE assigned_at END)",
            "",
        ),
        RecycleKind::NotConverted => ("assigned_at", ""),
    }
}

/// The periodic job `pool.recycle`: for each active rule, warns the owners of leads about to
/// go back (once per deadline) and returns the leads that are due, at most a batch per rule and
/// run. Safe to run twice: a lead recycled or warned once is not touched again.
pub async fn recycle(db: &Db, at: DateTime<Utc>) -> anyhow::Result<()> {
    let now = to_millis(at);
    let rules = db
        .fetch_all(
            "SELECT * FROM recycle_rules WHERE active = 1 AND deleted_at IS NULL ORDER BY id",
            &[],
        )
        .await?;
    let hours = working_hours(db).await?;
    for rule in rules {
        let id = rule.int("id");
        let s = RuleSettings::from_row(&rule)?;
        let timing = s.timing();
        let (start, applies) = timer_sql(s.kind);
        let team = team_owner_clause(db, s.team_id).await?;
        let sql = format!(
            "SELECT * FROM leads WHERE deleted_at IS NULL AND owner_id IS NOT NULL AND pool_id IS NULL \
             AND assigned_at IS NOT NULL AND status NOT IN {CLOSED}{applies}{team} \
             AND {start} <= ? AND (protected_until IS NULL OR protected_until <= ?) \
             AND (({start} <= ? AND (protected_until IS NULL OR protected_until <= ?)) \
                  OR NOT EXISTS (SELECT 1 FROM recycle_warnings w WHERE w.rule_id = ? AND w.lead_id = leads.id AND w.timer_start = {start})) \
             ORDER BY {start}, id LIMIT {RECYCLE_BATCH}"
        );
        let warn_horizon = now + timing.warn_ms;
        let candidates = db
            .fetch_all(
                &sql,
                &[
                    Param::Int(warn_horizon - timing.after_ms),
                    Param::Int(warn_horizon),
                    Param::Int(now - timing.after_ms),
                    Param::Int(now),
                    Param::Int(id),
                ],
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
        let mut tx = db.begin().await?;
        let lock = for_update(&tx);
        for candidate in &candidates {
            // Read again inside the transaction: the lead may have changed since.
            let Some(lead) = tx
                .fetch_optional(
                    &format!("SELECT * FROM leads WHERE id = ? AND owner_id IS NOT NULL AND pool_id IS NULL AND assigned_at IS NOT NULL AND deleted_at IS NULL AND status NOT IN {CLOSED}{lock}"),
                    &[Param::Int(candidate.int("id"))],
                )
                .await?
            else {
                continue;
            };
            let lead = &lead;
            let timers = Timers {
                assigned_at: lead.int("assigned_at"),
                last_activity_at: lead.opt_int("last_activity_at"),
                protected_until: lead.opt_int("protected_until"),
            };
            match timing.decide(&timers, now) {
                Decision::Wait => {}
                Decision::Warn {
                    due_at,
                    timer_start,
                } => {
                    warn(&mut tx, id, &s, lead, due_at, timer_start, now, &hours).await?;
                }
                Decision::Recycle => {
                    let target = match s.pool_id {
                        Some(p) => Some(p),
                        None => matching_pool(&mut tx, lead).await?,
                    };
                    let Some(target) = target else {
                        tracing::warn!(
                            rule = id,
                            lead = lead.int("id"),
                            "no pool fits the lead; the recycle rule names none"
                        );
                        continue;
                    };
                    let reason = format!("{}: {}", s.name, s.kind.label("en"));
                    if put_in_pool(&mut tx, stamp, lead, target, "recycle", &reason)
                        .await?
                        .is_some()
                    {
                        tell_recycled(&mut tx, lead, target, s.kind, now).await?;
                    }
                }
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn warn(
    tx: &mut Tx,
    rule: i64,
    s: &RuleSettings,
    lead: &Row,
    due_at: i64,
    timer_start: i64,
    now: i64,
    hours: &xiansuo_core::working_hours::WorkingHours,
) -> anyhow::Result<()> {
    let first = tx
        .execute(
            "INSERT INTO recycle_warnings (rule_id, lead_id, timer_start, due_at, warned_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (rule_id, lead_id, timer_start) DO NOTHING",
            &[
                Param::Int(rule),
                Param::Int(lead.int("id")),
                Param::Int(timer_start),
                Param::Int(due_at),
                Param::Int(now),
            ],
        )
        .await?
        == 1;
    if !first {
        return Ok(());
    }
    let owner = lead.int("owner_id");
    let lang = locale(tx, owner).await?;
    let when = from_millis(due_at)
        .with_timezone(&hours.time_zone)
        .format("%Y-%m-%d %H:%M");
    let name = lead.text("name");
    let why = s.kind.label(&lang);
    let message = if lang == "en" {
        format!(
            "Lead {name} goes back to the public pool at {when} ({why}) unless you follow it up"
        )
    } else {
        format!("线索「{name}」将于 {when} 因{why}收回公海，请及时跟进")
    };
    notifications::notify(
        tx,
        &notifications::Notification {
            user_id: owner,
            kind: notifications::Kind::RecycleWarning,
            record_type: Some(RecordType::Lead),
            record_id: Some(lead.int("id")),
            message,
            now_ms: now,
        },
    )
    .await
}

/// Tells the one who held a lead that a rule returned it to a pool.
async fn tell_recycled(
    tx: &mut Tx,
    lead: &Row,
    pool: i64,
    kind: RecycleKind,
    now: i64,
) -> anyhow::Result<()> {
    let owner = lead.int("owner_id");
    let lang = locale(tx, owner).await?;
    let pool = pool_name(tx, pool).await?;
    let name = lead.text("name");
    let why = kind.label(&lang);
    let message = if lang == "en" {
        format!("Lead {name} went back to pool {pool} ({why})")
    } else {
        format!("线索「{name}」因{why}已收回公海「{pool}」")
    };
    notifications::notify(
        tx,
        &notifications::Notification {
            user_id: owner,
            kind: notifications::Kind::Recycled,
            record_type: Some(RecordType::Lead),
            record_id: Some(lead.int("id")),
            message,
            now_ms: now,
        },
    )
    .await
}

/// How many more leads someone may claim from a pool now, by each of its limits (`None` where
/// the pool sets no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub max_held: Option<i64>,
    /// Open leads from this pool they hold.
    pub held: i64,
    pub may_hold: Option<i64>,
    pub max_claims_per_day: Option<i64>,
    /// Leads they claimed from this pool today.
    pub claimed_today: i64,
    pub may_claim_today: Option<i64>,
    /// The lesser of `may_hold` and `may_claim_today`.
    pub may_claim: Option<i64>,
}

/// How many more leads the actor may claim from a pool now. What a claim checks, for showing
/// before a claim; the claim itself checks again under its lock.
pub async fn allowance(ctx: Ctx<'_>, pool_id: i64) -> StoreResult<Allowance> {
    let pool = visible_pool(ctx.db, ctx.actor, pool_id).await?;
    let me = ctx.actor.user_id;
    let s = &pool.settings;
    let held = ctx
        .db
        .fetch_optional(
            &format!("SELECT COUNT(*) AS n FROM leads WHERE owner_id = ? AND claimed_pool_id = ? AND deleted_at IS NULL AND status NOT IN {CLOSED}"),
            &[Param::Int(me), Param::Int(pool.id)],
        )
        .await?
        .map_or(0, |r| r.int("n"));
    let hours = working_hours(ctx.db).await?;
    let (day_start, _) = hours.day_bounds(ctx.now);
    let today = ctx
        .db
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM pool_moves WHERE user_id = ? AND pool_id = ? AND kind = 'claim' AND at >= ?",
            &[Param::Int(me), Param::Int(pool.id), Param::Int(to_millis(day_start))],
        )
        .await?
        .map_or(0, |r| r.int("n"));
    let may_hold = s.max_held.map(|max| (max - held).max(0));
    let may_claim_today = s.max_claims_per_day.map(|max| (max - today).max(0));
    let may_claim = match (may_hold, may_claim_today) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(Allowance {
        max_held: s.max_held,
        held,
        may_hold,
        max_claims_per_day: s.max_claims_per_day,
        claimed_today: today,
        may_claim_today,
        may_claim,
    })
}
