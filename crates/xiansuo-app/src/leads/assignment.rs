//! Lead assignment in the database: the ordered assignment rules admins edit, the settings'
//! fallback, users' availability and caps, giving new leads an owner, and manual and bulk
//! reassignment.
//!
//! Rules run inside the write transaction of every lead create, whatever the channel (API,
//! web form, import, UI), for leads whose owner was not given ([`assign_new`], called from
//! `records::insert`). The active rules are read in that transaction, one statement per batch
//! of creates; on PostgreSQL the read locks them (`FOR UPDATE`), so the round-robin counts a
//! rule keeps per member (`assignment_counts`) are read and written by one transaction at a
//! time and stay exact under concurrent creates, across instances and restarts. The pure
//! choice of a member lives in `xiansuo_core::assignment`.

use crate::admin::audit;
use crate::channels::events;
use crate::channels::notifications;
use crate::error::{StoreError, StoreResult};
use crate::leads::scoring::{condition_fields, record_facts};
use crate::records::custom_fields;
use crate::records::history;
use crate::records::lifecycle::Hook;
use crate::records::schema::LEADS;
use crate::records::{self, rfc3339, Ctx, NewRecord};
use crate::scope::{team_tree, Actor};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;
use xiansuo_core::assignment::{
    self, choose, effective_counts, territory_users, AssignmentRule, AssignmentRulePatch,
    Availability, AvailabilityPatch, Candidate, Fallback, Member, NewAssignmentRule, Strategy,
    Target,
};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::snapshot;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::role::subtree;
use xiansuo_core::validation::{present, Unread};
use xiansuo_core::Invalid;
use xiansuo_store::{Db, Param, Row, Tx};

/// Lead statuses that no longer count as open for least-loaded and capacity.
const CLOSED: &str = "('converted', 'disqualified')";

fn stored_rule(row: &Row) -> anyhow::Result<AssignmentRule> {
    let mut rule: AssignmentRule = serde_json::from_str(&row.text("definition"))?;
    rule.id = row.int("id");
    rule.name = row.text("name");
    rule.active = row.int("active") != 0;
    Ok(rule)
}

/// A user as assignment sees them.
#[derive(Debug, Clone, Copy)]
struct UserInfo {
    team_id: Option<i64>,
    active: bool,
    availability: Availability,
}

/// Where a lead goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    User(i64),
    Queue(i64),
}

/// What the rules did with one lead.
#[derive(Debug, Default)]
struct Decided {
    placement: Option<Placement>,
    /// The rule that placed it; `None` with a placement when the fallback took it.
    rule: Option<i64>,
    /// The matching rules tried, in order.
    tried: Vec<i64>,
}

/// What the rules of one batch of creates read, loaded when first needed and written back
/// once at the end.
struct Batch {
    users: Option<HashMap<i64, UserInfo>>,
    teams: Option<Vec<(i64, Option<i64>)>>,
    /// Per rule, the stored count of each member (the round-robin cursor).
    counts: HashMap<i64, HashMap<i64, i64>>,
    counts_changed: BTreeMap<(i64, i64), i64>,
    /// Counts of users who are no longer members, to delete.
    counts_dropped: Vec<(i64, i64)>,
    /// Open leads held per user, for users loaded so far.
    open: HashMap<i64, i64>,
    /// Leads this batch gave each user, which the database does not hold yet.
    open_added: HashMap<i64, i64>,
    /// Leads rules gave each user per day, for days loaded so far.
    daily: HashMap<String, HashMap<i64, i64>>,
    daily_added: BTreeMap<(i64, String), i64>,
    pools: HashMap<i64, bool>,
    settings: Option<AssignmentSettings>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            users: None,
            teams: None,
            counts: HashMap::new(),
            counts_changed: BTreeMap::new(),
            counts_dropped: Vec::new(),
            open: HashMap::new(),
            open_added: HashMap::new(),
            daily: HashMap::new(),
            daily_added: BTreeMap::new(),
            pools: HashMap::new(),
            settings: None,
        }
    }

    async fn users(&mut self, tx: &mut Tx) -> anyhow::Result<&HashMap<i64, UserInfo>> {
        if self.users.is_none() {
            let rows = tx
                .fetch_all(
                    "SELECT u.id, u.team_id, u.active, a.away_until, a.max_open_leads, a.daily_cap \
                     FROM users u LEFT JOIN user_availability a ON a.user_id = u.id \
                     WHERE u.deleted_at IS NULL",
                    &[],
                )
                .await?;
            self.users = Some(
                rows.iter()
                    .map(|r| {
                        (
                            r.int("id"),
                            UserInfo {
                                team_id: r.opt_int("team_id"),
                                active: r.int("active") != 0,
                                availability: availability_of(r),
                            },
                        )
                    })
                    .collect(),
            );
        }
        Ok(self.users.get_or_insert_with(HashMap::new))
    }

    async fn open_leads(&mut self, tx: &mut Tx, users: &[i64]) -> anyhow::Result<()> {
        let missing: Vec<String> = users
            .iter()
            .filter(|u| !self.open.contains_key(u))
            .map(i64::to_string)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let rows = tx
            .fetch_all(
                &format!(
                    "SELECT owner_id, COUNT(*) AS n FROM leads WHERE owner_id IN ({}) \
                     AND deleted_at IS NULL AND status NOT IN {CLOSED} GROUP BY owner_id",
                    missing.join(",")
                ),
                &[],
            )
            .await?;
        let mut held: HashMap<i64, i64> = rows
            .iter()
            .map(|r| (r.int("owner_id"), r.int("n")))
            .collect();
        for id in users {
            if !self.open.contains_key(id) {
                let added = self.open_added.get(id).copied().unwrap_or_default();
                self.open
                    .insert(*id, held.remove(id).unwrap_or_default() + added);
            }
        }
        Ok(())
    }

    async fn daily(&mut self, tx: &mut Tx, day: &str) -> anyhow::Result<&mut HashMap<i64, i64>> {
        if !self.daily.contains_key(day) {
            let rows = tx
                .fetch_all(
                    "SELECT user_id, assigned FROM assignment_daily WHERE day = ?",
                    &[Param::from(day)],
                )
                .await?;
            let mut counts: HashMap<i64, i64> = rows
                .iter()
                .map(|r| (r.int("user_id"), r.int("assigned")))
                .collect();
            for ((user, added_day), added) in &self.daily_added {
                if added_day == day {
                    *counts.entry(*user).or_default() += added;
                }
            }
            self.daily.insert(day.to_owned(), counts);
        }
        Ok(self.daily.entry(day.to_owned()).or_default())
    }

    async fn counts(&mut self, tx: &mut Tx, rule: i64) -> anyhow::Result<&mut HashMap<i64, i64>> {
        Ok(match self.counts.entry(rule) {
            Entry::Occupied(slot) => slot.into_mut(),
            Entry::Vacant(slot) => {
                let rows = tx
                    .fetch_all(
                        "SELECT user_id, assigned FROM assignment_counts WHERE rule_id = ?",
                        &[Param::Int(rule)],
                    )
                    .await?;
                slot.insert(
                    rows.iter()
                        .map(|r| (r.int("user_id"), r.int("assigned")))
                        .collect(),
                )
            }
        })
    }

    async fn pool_exists(&mut self, tx: &mut Tx, pool: i64) -> anyhow::Result<bool> {
        if let Some(exists) = self.pools.get(&pool) {
            return Ok(*exists);
        }
        let exists = tx
            .fetch_optional(
                "SELECT id FROM pools WHERE id = ? AND deleted_at IS NULL",
                &[Param::Int(pool)],
            )
            .await?
            .is_some();
        self.pools.insert(pool, exists);
        Ok(exists)
    }

    /// The members of a team or member-list target, in order, with their weights.
    async fn members(&mut self, tx: &mut Tx, target: &Target) -> anyhow::Result<Vec<Member>> {
        Ok(match target {
            Target::Members { members, .. } => members.clone(),
            Target::Team {
                team_id,
                include_subteams,
                weights,
                ..
            } => {
                let teams = if *include_subteams {
                    if self.teams.is_none() {
                        self.teams = Some(team_tree_in(tx).await?);
                    }
                    subtree(self.teams.as_deref().unwrap_or_default(), *team_id)
                } else {
                    vec![*team_id]
                };
                let users = self.users(tx).await?;
                let mut ids: Vec<i64> = users
                    .iter()
                    .filter(|(_, u)| u.active && u.team_id.is_some_and(|t| teams.contains(&t)))
                    .map(|(id, _)| *id)
                    .collect();
                ids.sort_unstable();
                ids.into_iter()
                    .map(|user_id| Member {
                        user_id,
                        weight: weights
                            .iter()
                            .find(|w| w.user_id == user_id)
                            .map_or(1, |w| w.weight),
                    })
                    .collect()
            }
            Target::User { .. } | Target::Queue { .. } => Vec::new(),
        })
    }

    /// Whether rules may give `user` a lead now.
    async fn may_take(&mut self, tx: &mut Tx, user: i64, now_ms: i64) -> anyhow::Result<bool> {
        let Some(info) = self.users(tx).await?.get(&user).copied() else {
            return Ok(false);
        };
        if !info.active {
            return Ok(false);
        }
        let a = info.availability;
        let open = if a.max_open_leads.is_some() {
            self.open_leads(tx, &[user]).await?;
            self.open.get(&user).copied().unwrap_or_default()
        } else {
            0
        };
        let today = if a.daily_cap.is_some() {
            let day = assignment::china_day(now_ms);
            self.daily(tx, &day)
                .await?
                .get(&user)
                .copied()
                .unwrap_or_default()
        } else {
            0
        };
        Ok(a.may_take(now_ms, open, today))
    }

    /// Notes that a rule gave `user` a lead.
    fn count(&mut self, rule: i64, user: i64, assigned: i64, now_ms: i64) {
        self.counts.entry(rule).or_default().insert(user, assigned);
        self.counts_changed.insert((rule, user), assigned);
        if let Some(open) = self.open.get_mut(&user) {
            *open += 1;
        }
        *self.open_added.entry(user).or_default() += 1;
        let day = assignment::china_day(now_ms);
        if let Some(today) = self.daily.get_mut(&day) {
            *today.entry(user).or_default() += 1;
        }
        *self.daily_added.entry((user, day)).or_default() += 1;
    }

    /// Picks a member of a team or member-list rule who may take the lead, and counts it.
    async fn pick(
        &mut self,
        tx: &mut Tx,
        rule: &AssignmentRule,
        lead: &Value,
        now_ms: i64,
    ) -> anyhow::Result<Option<i64>> {
        let (strategy, territories) = match &rule.target {
            Target::Team {
                strategy,
                territories,
                ..
            }
            | Target::Members {
                strategy,
                territories,
                ..
            } => (*strategy, territories),
            Target::User { .. } | Target::Queue { .. } => return Ok(None),
        };
        let members = self.members(tx, &rule.target).await?;
        let stored = self.counts(tx, rule.id).await?.clone();
        let levels = effective_counts(
            &members
                .iter()
                .map(|m| (stored.get(&m.user_id).copied(), m.weight))
                .collect::<Vec<_>>(),
        );
        // Newcomers' starting counts are kept, so that a later lead does not level them again;
        // counts of users who left are dropped, so that they start level if they come back.
        for (member, level) in members.iter().zip(&levels) {
            if !stored.contains_key(&member.user_id) {
                self.counts
                    .entry(rule.id)
                    .or_default()
                    .insert(member.user_id, *level);
                self.counts_changed
                    .insert((rule.id, member.user_id), *level);
            }
        }
        for user in stored.keys() {
            if !members.iter().any(|m| m.user_id == *user) {
                if let Some(counts) = self.counts.get_mut(&rule.id) {
                    counts.remove(user);
                }
                self.counts_changed.remove(&(rule.id, *user));
                self.counts_dropped.push((rule.id, *user));
            }
        }
        let mut pool: Vec<(Member, i64)> = members.into_iter().zip(levels).collect();
        if strategy == Strategy::Territory {
            let mapped = territory_users(territories, lead);
            pool = mapped
                .iter()
                .filter_map(|u| pool.iter().find(|(m, _)| m.user_id == *u).copied())
                .collect();
        }
        let ids: Vec<i64> = pool.iter().map(|(m, _)| m.user_id).collect();
        if strategy == Strategy::LeastLoaded {
            self.open_leads(tx, &ids).await?;
        }
        let mut candidates = Vec::with_capacity(pool.len());
        for (member, assigned) in pool {
            if self.may_take(tx, member.user_id, now_ms).await? {
                candidates.push(Candidate {
                    user_id: member.user_id,
                    weight: member.weight,
                    assigned,
                    open_leads: self.open.get(&member.user_id).copied().unwrap_or_default(),
                });
            }
        }
        Ok(choose(strategy, &candidates).map(|i| {
            let chosen = candidates[i];
            self.count(rule.id, chosen.user_id, chosen.assigned + 1, now_ms);
            chosen.user_id
        }))
    }

    /// Where a matching rule puts the lead, or `None` when nobody may take it.
    async fn place(
        &mut self,
        tx: &mut Tx,
        rule: &AssignmentRule,
        lead: &Value,
        now_ms: i64,
    ) -> anyhow::Result<Option<Placement>> {
        Ok(match &rule.target {
            Target::User { user_id } => {
                if self.may_take(tx, *user_id, now_ms).await? {
                    let assigned = self
                        .counts(tx, rule.id)
                        .await?
                        .get(user_id)
                        .copied()
                        .unwrap_or_default();
                    self.count(rule.id, *user_id, assigned + 1, now_ms);
                    Some(Placement::User(*user_id))
                } else {
                    None
                }
            }
            Target::Queue { pool_id } => self
                .pool_exists(tx, *pool_id)
                .await?
                .then_some(Placement::Queue(*pool_id)),
            Target::Team { .. } | Target::Members { .. } => self
                .pick(tx, rule, lead, now_ms)
                .await?
                .map(Placement::User),
        })
    }

    /// The settings' fallback, if it can take the lead.
    async fn fallback(&mut self, tx: &mut Tx) -> anyhow::Result<Option<Placement>> {
        if self.settings.is_none() {
            self.settings = Some(read_settings(tx).await?);
        }
        let settings = self.settings.unwrap_or_default();
        if let Some(user) = settings.fallback_user_id {
            let active = self.users(tx).await?.get(&user).is_some_and(|u| u.active);
            return Ok(active.then_some(Placement::User(user)));
        }
        if let Some(pool) = settings.fallback_pool_id {
            return Ok(self
                .pool_exists(tx, pool)
                .await?
                .then_some(Placement::Queue(pool)));
        }
        Ok(None)
    }

    /// Runs the rules in order for one lead.
    async fn decide(
        &mut self,
        tx: &mut Tx,
        rules: &[AssignmentRule],
        lead: &Value,
        now_ms: i64,
    ) -> anyhow::Result<Decided> {
        let mut decided = Decided::default();
        for rule in rules.iter().filter(|r| r.matches(lead)) {
            decided.tried.push(rule.id);
            if let Some(placement) = self.place(tx, rule, lead, now_ms).await? {
                decided.placement = Some(placement);
                decided.rule = Some(rule.id);
                return Ok(decided);
            }
            if rule.fallback == Fallback::Default {
                break;
            }
        }
        if !decided.tried.is_empty() {
            decided.placement = self.fallback(tx).await?;
        }
        Ok(decided)
    }

    /// Writes the counts back.
    async fn flush(self, tx: &mut Tx) -> anyhow::Result<()> {
        for (rule, user) in self.counts_dropped {
            tx.execute(
                "DELETE FROM assignment_counts WHERE rule_id = ? AND user_id = ?",
                &[Param::Int(rule), Param::Int(user)],
            )
            .await?;
        }
        for ((rule, user), assigned) in self.counts_changed {
            tx.execute(
                "INSERT INTO assignment_counts (rule_id, user_id, assigned) VALUES (?, ?, ?) \
                 ON CONFLICT (rule_id, user_id) DO UPDATE SET assigned = excluded.assigned",
                &[Param::Int(rule), Param::Int(user), Param::Int(assigned)],
            )
            .await?;
        }
        for ((user, day), added) in self.daily_added {
            tx.execute(
                "INSERT INTO assignment_daily (user_id, day, assigned) VALUES (?, ?, ?) \
                 ON CONFLICT (user_id, day) DO UPDATE SET assigned = assignment_daily.assigned + excluded.assigned",
                &[Param::Int(user), Param::from(day), Param::Int(added)],
            )
            .await?;
        }
        Ok(())
    }
}

fn availability_of(row: &Row) -> Availability {
    Availability {
        away_until: row.opt_int("away_until"),
        max_open_leads: row.opt_int("max_open_leads"),
        daily_cap: row.opt_int("daily_cap"),
    }
}

async fn team_tree_in(tx: &mut Tx) -> anyhow::Result<Vec<(i64, Option<i64>)>> {
    Ok(tx
        .fetch_all(
            "SELECT id, parent_id FROM teams WHERE deleted_at IS NULL",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.int("id"), r.opt_int("parent_id")))
        .collect())
}

/// The active rules in their order, read with `lock` (`FOR UPDATE` where the counts are written).
async fn active_rules(tx: &mut Tx, lock: &str) -> anyhow::Result<Vec<AssignmentRule>> {
    let rows = tx
        .fetch_all(
            &format!("SELECT * FROM assignment_rules WHERE active = 1 ORDER BY id{lock}"),
            &[],
        )
        .await?;
    let mut ordered: Vec<(i64, AssignmentRule)> = rows
        .iter()
        .map(|r| Ok((r.int("position"), stored_rule(r)?)))
        .collect::<anyhow::Result<_>>()?;
    ordered.sort_by_key(|(position, rule)| (*position, rule.id));
    Ok(ordered.into_iter().map(|(_, r)| r).collect())
}

/// The lead a rule test runs on: a stored lead, or a few fields of a lead as the API names them
/// (`{"source": "web_form", "province": "广东", "custom": {"budget": 50000}}`); those fields
/// are open JSON, checked against the fields leads have.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = AssignmentTestInput,
    description = "The lead to test the rules on: a stored lead, or a few fields of one"
)]
pub struct SampleLead {
    /// A lead you may see
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, minimum = 1)]
    pub lead_id: Option<i64>,
    /// Fields as a lead has them (`source`, `province`, `custom`: {...})
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, value_type = Object)]
    pub lead: Option<Map<String, Value>>,
}

/// A matching rule the test tried.
#[derive(Debug, Serialize, PartialEq, Eq, ToSchema)]
#[schema(
    as = AssignmentRuleTried,
    description = "A matching rule, in the order tried"
)]
pub struct RuleTried {
    /// The rule
    pub id: i64,
    /// Its name
    pub name: String,
    /// Whether it placed the lead (else nobody it names could take it now)
    pub placed: bool,
}

/// What the rules would do with a lead now. Who would own it, or the pool it would go to;
/// neither when no rule matches (the lead then keeps the owner its creator gives it).
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = AssignmentVerdict,
    description = "What the active rules would do with the lead now"
)]
pub struct Verdict {
    /// The matching rules in the order tried
    pub tried: Vec<RuleTried>,
    /// The rule that would take the lead; null when none matched or the fallback took it
    #[schema(required = true)]
    pub rule_id: Option<i64>,
    /// Whether the settings' fallback would take it (a rule matched but could not place it)
    pub by_fallback: bool,
    /// Who would own it
    #[schema(required = true)]
    pub owner_id: Option<i64>,
    /// Their name
    #[schema(required = true)]
    pub owner_name: Option<String>,
    /// The pool it would go to
    #[schema(required = true)]
    pub pool_id: Option<i64>,
    /// Its name
    #[schema(required = true)]
    pub pool_name: Option<String>,
}

/// `POST /api/v1/assignment/test` (admins): which active rule would take the lead and who would
/// get it, worked out as a real create would but without assigning it — the round-robin counts,
/// daily counts and the lead stay as they are, and nothing is written.
pub async fn test(
    db: &Db,
    actor: &Actor,
    sample: Unread<SampleLead>,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Verdict> {
    actor.require_admin("test the assignment rules")?;
    let sample = sample.read()?;
    let lead = match (sample.lead_id, &sample.lead) {
        (Some(id), None) => records::engine::get(db, actor, &LEADS, id).await?,
        (None, Some(fields)) => {
            if let Some(unknown) = fields
                .keys()
                .find(|k| *k != "custom" && !LEADS.fields.iter().any(|f| f.name == k.as_str()))
            {
                return Err(Invalid::new(
                    unknown.as_str(),
                    format!("'{unknown}' is not a field of a lead"),
                )
                .into());
            }
            Value::Object(fields.clone())
        }
        _ => return Err(Invalid::new("lead_id", "give either lead_id or lead").into()),
    };
    let mut tx = db.begin().await?;
    let rules = active_rules(&mut tx, "").await?;
    // The batch only reads; its counts are dropped with it, never flushed.
    let decided = Batch::new()
        .decide(&mut tx, &rules, &lead, to_millis(now))
        .await?;
    drop(tx);
    let name_of = |id: i64| {
        rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    let (owner_id, pool_id) = match decided.placement {
        Some(Placement::User(user)) => (Some(user), None),
        Some(Placement::Queue(pool)) => (None, Some(pool)),
        None => (None, None),
    };
    let name = |sql: &'static str, id: Option<i64>| async move {
        Ok::<_, StoreError>(match id {
            Some(id) => db
                .fetch_optional(sql, &[Param::Int(id)])
                .await?
                .map(|r| r.text("name")),
            None => None,
        })
    };
    Ok(Verdict {
        tried: decided
            .tried
            .iter()
            .map(|id| RuleTried {
                id: *id,
                name: name_of(*id),
                placed: decided.rule == Some(*id),
            })
            .collect(),
        rule_id: decided.rule,
        by_fallback: decided.placement.is_some() && decided.rule.is_none(),
        owner_name: name(
            "SELECT COALESCE(display_name, username) AS name FROM users WHERE id = ?",
            owner_id,
        )
        .await?,
        pool_name: name("SELECT name FROM pools WHERE id = ?", pool_id).await?,
        owner_id,
        pool_id,
    })
}

/// Gives the new leads among `records` whose owner was not given an owner (or a queue) by the
/// active rules, in the write transaction `tx`. Called by `records::insert` before it writes.
pub async fn assign_new(tx: &mut Tx, records: &mut [&mut NewRecord]) -> anyhow::Result<()> {
    if !records
        .iter()
        .any(|r| r.table().record_type == RecordType::Lead && !r.owner_explicit())
    {
        return Ok(());
    }
    let lock = tx.dialect().lock_rows();
    let rules = active_rules(tx, lock).await?;
    if rules.is_empty() {
        return Ok(());
    }
    let mut batch = Batch::new();
    for record in records.iter_mut() {
        if record.table().record_type != RecordType::Lead || record.owner_explicit() {
            continue;
        }
        let lead = record_facts(record);
        let now_ms = to_millis(record.stamp().now);
        match batch.decide(tx, &rules, &lead, now_ms).await?.placement {
            Some(Placement::User(user)) => record.set("owner_id", Param::Int(user)),
            Some(Placement::Queue(pool)) => {
                record.set("owner_id", Param::NullInt);
                record.set("assigned_at", Param::NullInt);
                record.set("pool_id", Param::Int(pool));
                record.set("pooled_at", Param::Int(now_ms));
            }
            None => {}
        }
    }
    batch.flush(tx).await
}

// ---- Rules --------------------------------------------------------------------------------

/// A stored assignment rule, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AssignmentRule, description = "An assignment rule")]
pub struct StoredAssignmentRule {
    #[serde(flatten)]
    pub rule: AssignmentRule,
    /// Rules are tried in this order
    pub position: i64,
    /// When it was created
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it last changed
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl StoredAssignmentRule {
    fn read(row: &Row) -> anyhow::Result<StoredAssignmentRule> {
        Ok(StoredAssignmentRule {
            rule: stored_rule(row)?,
            position: row.int("position"),
            created_at: rfc3339(row.int("created_at")),
            updated_at: rfc3339(row.int("updated_at")),
        })
    }
}

/// Every assignment rule, in the order they are tried.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AssignmentRuleList)]
pub struct AssignmentRuleList {
    /// The rules
    pub items: Vec<StoredAssignmentRule>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Every assignment rule, in the order they are tried.
pub async fn list_rules(db: &Db, actor: &Actor) -> StoreResult<AssignmentRuleList> {
    actor.require_admin("read assignment rules")?;
    let items = db
        .fetch_all("SELECT * FROM assignment_rules ORDER BY position, id", &[])
        .await?
        .iter()
        .map(StoredAssignmentRule::read)
        .collect::<anyhow::Result<_>>()?;
    Ok(AssignmentRuleList {
        items,
        next_cursor: None,
    })
}

pub async fn get_rule(db: &Db, actor: &Actor, id: i64) -> StoreResult<StoredAssignmentRule> {
    actor.require_admin("read assignment rules")?;
    find_rule(db, id).await
}

/// A rule as the API shows it, whoever asks.
async fn find_rule(db: &Db, id: i64) -> StoreResult<StoredAssignmentRule> {
    let row = db
        .fetch_optional(
            "SELECT * FROM assignment_rules WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("AssignmentRule"))?;
    Ok(StoredAssignmentRule::read(&row)?)
}

async fn check_user(db: &Db, field: &str, user: i64) -> StoreResult<()> {
    db.fetch_optional(
        "SELECT id FROM users WHERE id = ? AND active = 1 AND deleted_at IS NULL",
        &[Param::Int(user)],
    )
    .await?
    .ok_or_else(|| Invalid::new(field, format!("no active user has id {user}")))?;
    Ok(())
}

async fn check_pool(db: &Db, field: &str, pool: i64) -> StoreResult<()> {
    db.fetch_optional(
        "SELECT id FROM pools WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(pool)],
    )
    .await?
    .ok_or_else(|| Invalid::new(field, format!("no pool has id {pool}")))?;
    Ok(())
}

/// Checks a rule as sent, and that the users, team and pool it names exist.
async fn check_rule(db: &Db, new: NewAssignmentRule) -> StoreResult<AssignmentRule> {
    let defs = custom_fields::definitions(db, RecordType::Lead).await?;
    let rule = AssignmentRule::check(new, &condition_fields(&defs, false))?;
    for (field, user) in rule.users() {
        check_user(db, &field, user).await?;
    }
    match &rule.target {
        Target::Queue { pool_id } => check_pool(db, "target.pool_id", *pool_id).await?,
        Target::Team {
            team_id,
            include_subteams,
            ..
        } => {
            let tree = team_tree(db).await?;
            if !tree.iter().any(|(id, _)| id == team_id) {
                return Err(
                    Invalid::new("target.team_id", format!("no team has id {team_id}")).into(),
                );
            }
            let teams = if *include_subteams {
                subtree(&tree, *team_id)
            } else {
                vec![*team_id]
            };
            let list: Vec<String> = teams.iter().map(i64::to_string).collect();
            let members = db
                .fetch_optional(
                    &format!(
                        "SELECT COUNT(*) AS n FROM users WHERE team_id IN ({}) AND active = 1 AND deleted_at IS NULL",
                        list.join(",")
                    ),
                    &[],
                )
                .await?
                .map_or(0, |r| r.int("n"));
            if members == 0 {
                return Err(Invalid::new(
                    "target.team_id",
                    format!("team {team_id} has no active members to give leads to"),
                )
                .into());
            }
        }
        Target::User { .. } | Target::Members { .. } => {}
    }
    Ok(rule)
}

fn definition(rule: &AssignmentRule) -> StoreResult<Param> {
    Ok(Param::from(
        serde_json::to_string(rule).map_err(anyhow::Error::from)?,
    ))
}

/// Adds a rule after the others.
pub async fn create_rule(
    ctx: Ctx<'_>,
    new: Unread<NewAssignmentRule>,
) -> StoreResult<StoredAssignmentRule> {
    ctx.actor.require_admin("change assignment rules")?;
    let rule = check_rule(ctx.db, new.read()?).await?;
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let position = tx
        .fetch_optional(
            "SELECT COALESCE(MAX(position), 0) + 1 AS next FROM assignment_rules",
            &[],
        )
        .await?
        .map_or(1, |r| r.int("next"));
    let id = tx
        .insert_returning_id(
            "INSERT INTO assignment_rules (name, position, active, definition, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                Param::from(rule.name.as_str()),
                Param::Int(position),
                Param::Int(i64::from(rule.active)),
                definition(&rule)?,
                Param::Int(ctx.actor.user_id),
                Param::Int(now),
                Param::Int(now),
            ],
        )
        .await?;
    audit::created(
        &mut tx,
        Some(ctx.actor),
        ctx.now,
        audit::Setting::AssignmentRule,
        id,
    )
    .await?;
    let row = tx
        .fetch_optional(
            "SELECT * FROM assignment_rules WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("AssignmentRule"))?;
    tx.commit().await?;
    Ok(StoredAssignmentRule::read(&row)?)
}

/// Changes a rule: the fields given replace the stored ones, and the whole rule is checked
/// again. Members keep their counts; a member taken off a member list loses theirs.
pub async fn update_rule(
    ctx: Ctx<'_>,
    id: i64,
    patch: Unread<AssignmentRulePatch>,
) -> StoreResult<StoredAssignmentRule> {
    ctx.actor.require_admin("change assignment rules")?;
    let patch = patch.read()?;
    let current = find_rule(ctx.db, id).await?;
    let rule = check_rule(ctx.db, patch.onto(&current.rule)).await?;
    let mut tx = ctx.db.begin().await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::AssignmentRule, id).await?;
    let changed = tx
        .execute(
            "UPDATE assignment_rules SET name = ?, active = ?, definition = ?, updated_at = ? WHERE id = ?",
            &[
                Param::from(rule.name.as_str()),
                Param::Int(i64::from(rule.active)),
                definition(&rule)?,
                Param::Int(to_millis(ctx.now)),
                Param::Int(id),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound("AssignmentRule"));
    }
    if let Target::Members { members, .. } = &rule.target {
        let list: Vec<String> = members.iter().map(|m| m.user_id.to_string()).collect();
        tx.execute(
            &format!(
                "DELETE FROM assignment_counts WHERE rule_id = ? AND user_id NOT IN ({})",
                list.join(",")
            ),
            &[Param::Int(id)],
        )
        .await?;
    }
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
        .await?;
    let row = tx
        .fetch_optional(
            "SELECT * FROM assignment_rules WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("AssignmentRule"))?;
    tx.commit().await?;
    Ok(StoredAssignmentRule::read(&row)?)
}

/// Deletes a rule with its counts.
pub async fn delete_rule(ctx: Ctx<'_>, id: i64) -> StoreResult<()> {
    ctx.actor.require_admin("change assignment rules")?;
    let mut tx = ctx.db.begin().await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::AssignmentRule, id).await?;
    tx.execute(
        "DELETE FROM assignment_counts WHERE rule_id = ?",
        &[Param::Int(id)],
    )
    .await?;
    let deleted = tx
        .execute(
            "DELETE FROM assignment_rules WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound("AssignmentRule"));
    }
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Delete)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A new order of the assignment rules, as a request sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AssignmentRuleOrder, description = "The new order")]
pub struct RuleOrder {
    /// Every rule's id, once, in order
    pub rule_ids: Vec<i64>,
}

/// Puts the rules in the order given, which must list every rule once.
pub async fn reorder(ctx: Ctx<'_>, order: Unread<RuleOrder>) -> StoreResult<AssignmentRuleList> {
    let (db, actor) = (ctx.db, ctx.actor);
    actor.require_admin("change assignment rules")?;
    let ids = order.read()?.rule_ids;
    let mut tx = db.begin().await?;
    let mut existing: Vec<i64> = tx
        .fetch_all("SELECT id FROM assignment_rules", &[])
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect();
    existing.sort_unstable();
    let mut given = ids.clone();
    given.sort_unstable();
    if given != existing {
        return Err(Invalid::new(
            "rule_ids",
            format!(
                "must list every rule exactly once (the rules are {})",
                existing
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .into());
    }
    let snapshot =
        audit::Before::take(&mut tx, audit::Setting::AssignmentOrder, audit::SINGLETON).await?;
    for (position, id) in ids.iter().enumerate() {
        tx.execute(
            "UPDATE assignment_rules SET position = ? WHERE id = ?",
            &[Param::Int(position as i64 + 1), Param::Int(*id)],
        )
        .await?;
    }
    snapshot
        .record(&mut tx, Some(actor), ctx.now, audit::Action::Reorder)
        .await?;
    tx.commit().await?;
    list_rules(db, actor).await
}

// ---- Settings -----------------------------------------------------------------------------

/// Who takes a lead that a matching rule could not place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(description = "The fallback of assignment rules")]
pub struct AssignmentSettings {
    /// The user who takes leads a matching rule could not place
    #[schema(required = true, minimum = 1)]
    pub fallback_user_id: Option<i64>,
    /// Or the pool they go to (at most one of the two)
    #[schema(required = true, minimum = 1)]
    pub fallback_pool_id: Option<i64>,
}

/// Changes to the fallback as a request sends them: a field left out keeps its value, null
/// clears it.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Changes to the fallback; null clears")]
pub struct AssignmentSettingsPatch {
    /// The user who takes leads a matching rule could not place
    #[serde(default, deserialize_with = "present")]
    #[schema(minimum = 1)]
    pub fallback_user_id: Option<Option<i64>>,
    /// Or the pool they go to (at most one of the two)
    #[serde(default, deserialize_with = "present")]
    #[schema(minimum = 1)]
    pub fallback_pool_id: Option<Option<i64>>,
}

async fn read_settings(tx: &mut Tx) -> anyhow::Result<AssignmentSettings> {
    Ok(tx
        .fetch_optional("SELECT * FROM assignment_settings WHERE id = 1", &[])
        .await?
        .map_or_else(AssignmentSettings::default, |r| AssignmentSettings {
            fallback_user_id: r.opt_int("fallback_user_id"),
            fallback_pool_id: r.opt_int("fallback_pool_id"),
        }))
}

/// Who takes the leads no rule could place (admins only, like the rules).
pub async fn get_settings(db: &Db, actor: &Actor) -> StoreResult<AssignmentSettings> {
    actor.require_admin("read the assignment settings")?;
    let mut tx = db.begin().await?;
    let settings = read_settings(&mut tx).await?;
    tx.commit().await?;
    Ok(settings)
}

/// Changes the fallback: a user or a pool, not both.
pub async fn update_settings(
    ctx: Ctx<'_>,
    patch: Unread<AssignmentSettingsPatch>,
) -> StoreResult<AssignmentSettings> {
    ctx.actor.require_admin("change the assignment settings")?;
    let patch = patch.read()?;
    let mut tx = ctx.db.begin().await?;
    let mut settings = read_settings(&mut tx).await?;
    tx.commit().await?;
    if let Some(user) = patch.fallback_user_id {
        settings.fallback_user_id = user;
    }
    if let Some(pool) = patch.fallback_pool_id {
        settings.fallback_pool_id = pool;
    }
    if let (Some(_), Some(_)) = (settings.fallback_user_id, settings.fallback_pool_id) {
        let field = if patch.fallback_pool_id.is_some() {
            "fallback_pool_id"
        } else {
            "fallback_user_id"
        };
        return Err(Invalid::new(
            field,
            "the fallback is a user or a pool, not both: set the other to null",
        )
        .into());
    }
    if let Some(user) = settings.fallback_user_id {
        check_user(ctx.db, "fallback_user_id", user).await?;
    }
    if let Some(pool) = settings.fallback_pool_id {
        check_pool(ctx.db, "fallback_pool_id", pool).await?;
    }
    let mut tx = ctx.db.begin().await?;
    let snapshot = audit::Before::take(
        &mut tx,
        audit::Setting::AssignmentSettings,
        audit::SINGLETON,
    )
    .await?;
    tx.execute(
        "INSERT INTO assignment_settings (id, fallback_user_id, fallback_pool_id, updated_at) VALUES (1, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET fallback_user_id = excluded.fallback_user_id, \
         fallback_pool_id = excluded.fallback_pool_id, updated_at = excluded.updated_at",
        &[
            Param::from(settings.fallback_user_id),
            Param::from(settings.fallback_pool_id),
            Param::Int(to_millis(ctx.now)),
        ],
    )
    .await?;
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
        .await?;
    tx.commit().await?;
    Ok(settings)
}

// ---- Availability -------------------------------------------------------------------------

/// The actor may see and change their own availability; admins and managers, that of users in
/// their data scope.
async fn check_availability_access(db: &Db, actor: &Actor, user: i64) -> StoreResult<()> {
    db.fetch_optional(
        "SELECT id FROM users WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(user)],
    )
    .await?
    .ok_or(StoreError::NotFound("User"))?;
    if actor.user_id == user || actor.sees_owner(user) {
        Ok(())
    } else {
        Err(StoreError::Forbidden(format!(
            "user {user} is outside your data scope"
        )))
    }
}

async fn read_availability(db: &Db, user: i64) -> anyhow::Result<Availability> {
    Ok(db
        .fetch_optional(
            "SELECT away_until, max_open_leads, daily_cap FROM user_availability WHERE user_id = ?",
            &[Param::Int(user)],
        )
        .await?
        .map(|r| availability_of(&r))
        .unwrap_or_default())
}

/// Whether assignment rules may give a user leads, with what they hold now.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = Availability,
    description = "Whether assignment rules may give a user leads"
)]
pub struct UserAvailability {
    /// The user
    pub user_id: i64,
    /// Rules skip the user until then (leave, holiday)
    #[schema(required = true, format = DateTime)]
    pub away_until: Option<String>,
    /// Rules skip the user while they hold this many open leads
    #[schema(required = true, minimum = 0, maximum = 1000000)]
    pub max_open_leads: Option<i64>,
    /// The most leads rules give the user in a day (China time)
    #[schema(required = true, minimum = 0, maximum = 1000000)]
    pub daily_cap: Option<i64>,
    /// Away now
    pub away: bool,
    /// Open leads they hold
    pub open_leads: i64,
    /// Leads rules gave them today
    pub assigned_today: i64,
}

impl UserAvailability {
    async fn of(
        db: &Db,
        user: i64,
        a: &Availability,
        now_ms: i64,
    ) -> anyhow::Result<UserAvailability> {
        let open = db
            .fetch_optional(
                &format!(
                    "SELECT COUNT(*) AS n FROM leads WHERE owner_id = ? AND deleted_at IS NULL AND status NOT IN {CLOSED}"
                ),
                &[Param::Int(user)],
            )
            .await?
            .map_or(0, |r| r.int("n"));
        let today = db
            .fetch_optional(
                "SELECT assigned FROM assignment_daily WHERE user_id = ? AND day = ?",
                &[Param::Int(user), Param::from(assignment::china_day(now_ms))],
            )
            .await?
            .map_or(0, |r| r.int("assigned"));
        Ok(UserAvailability {
            user_id: user,
            away: a.away_until.is_some_and(|until| until > now_ms),
            away_until: a.away_until.map(rfc3339),
            max_open_leads: a.max_open_leads,
            daily_cap: a.daily_cap,
            open_leads: open,
            assigned_today: today,
        })
    }
}

/// A user's availability, with the open leads they hold and the leads rules gave them today.
pub async fn get_availability(ctx: Ctx<'_>, user: i64) -> StoreResult<UserAvailability> {
    check_availability_access(ctx.db, ctx.actor, user).await?;
    let a = read_availability(ctx.db, user).await?;
    Ok(UserAvailability::of(ctx.db, user, &a, to_millis(ctx.now)).await?)
}

/// Changes a user's availability (null clears a field).
pub async fn update_availability(
    ctx: Ctx<'_>,
    user: i64,
    patch: Unread<AvailabilityPatch>,
) -> StoreResult<UserAvailability> {
    check_availability_access(ctx.db, ctx.actor, user).await?;
    let a = read_availability(ctx.db, user)
        .await?
        .apply(patch.read()?)?;
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::Availability, user).await?;
    tx.execute(
        "INSERT INTO user_availability (user_id, away_until, max_open_leads, daily_cap, updated_at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (user_id) DO UPDATE SET away_until = excluded.away_until, \
         max_open_leads = excluded.max_open_leads, daily_cap = excluded.daily_cap, updated_at = excluded.updated_at",
        &[
            Param::Int(user),
            Param::from(a.away_until),
            Param::from(a.max_open_leads),
            Param::from(a.daily_cap),
            Param::Int(now),
        ],
    )
    .await?;
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
        .await?;
    tx.commit().await?;
    Ok(UserAvailability::of(ctx.db, user, &a, now).await?)
}

// ---- Manual assignment --------------------------------------------------------------------

/// The most leads one bulk assignment may move.
const MAX_BULK: usize = 1000;

/// A lead's new owner, as a request sends it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "The lead's new owner")]
pub struct LeadAssignment {
    /// An active user within your data scope
    #[schema(minimum = 1)]
    pub owner_id: i64,
}

/// Leads to give to one user, all or none, as a request sends them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Leads to give to one user, all or none")]
pub struct LeadBulkAssignment {
    /// 1 to 1000 lead ids
    #[schema(min_items = 1, max_items = 1000)]
    pub lead_ids: Vec<i64>,
    /// An active user within your data scope
    #[schema(minimum = 1)]
    pub owner_id: i64,
}

/// The leads as they are now, in order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AssignedLeads)]
pub struct AssignedLeadList {
    /// The leads, as `GET /api/v1/leads/{id}` shows them
    #[schema(schema_with = leads_schema)]
    pub items: Vec<Value>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

fn leads_schema() -> utoipa::openapi::ArrayBuilder {
    utoipa::openapi::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name("Lead"))
        .description(Some("The leads as they are now, in order"))
}

/// Gives one lead the actor can see to another user (see [`assign`]).
pub async fn assign_lead(
    ctx: Ctx<'_>,
    lead_id: i64,
    change: Unread<LeadAssignment>,
) -> StoreResult<Value> {
    let owner = change.read()?.owner_id;
    assign(ctx, &[lead_id], owner)
        .await?
        .pop()
        .ok_or(StoreError::NotFound(LEADS.schema))
}

/// Gives up to [`MAX_BULK`] leads the actor can see to one user, all or none (see
/// [`assign`]); a lead listed twice is given once.
pub async fn assign_leads(
    ctx: Ctx<'_>,
    change: Unread<LeadBulkAssignment>,
) -> StoreResult<AssignedLeadList> {
    let change = change.read()?;
    if change.lead_ids.is_empty() || change.lead_ids.len() > MAX_BULK {
        return Err(Invalid::new(
            "lead_ids",
            format!("is required: a list of 1 to {MAX_BULK} lead ids"),
        )
        .into());
    }
    let mut unique = Vec::with_capacity(change.lead_ids.len());
    for id in change.lead_ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Ok(AssignedLeadList {
        items: assign(ctx, &unique, change.owner_id).await?,
        next_cursor: None,
    })
}

/// Gives leads the actor can see to `owner`, all or none, in one transaction: each change in
/// the history, `lead.assigned` raised and the new owner notified. Returns the leads as they
/// are now.
pub async fn assign(ctx: Ctx<'_>, lead_ids: &[i64], owner: i64) -> StoreResult<Vec<Value>> {
    check_user(ctx.db, "owner_id", owner).await?;
    if !ctx.actor.sees_owner(owner) {
        return Err(StoreError::Forbidden(format!(
            "you may only give leads to users within your data scope; user {owner} is outside it"
        )));
    }
    let now = to_millis(ctx.now);
    let lock = ctx.db.dialect().lock_rows();
    let mut tx = ctx.db.begin().await?;
    let mut out = Vec::with_capacity(lead_ids.len());
    let mut moved: Vec<usize> = Vec::new();
    for &id in lead_ids {
        let row = tx
            .fetch_optional(
                &format!(
                    "SELECT * FROM leads WHERE id = ? AND deleted_at IS NULL{}{lock}",
                    ctx.actor.scope_clause()
                ),
                &[Param::Int(id)],
            )
            .await?
            .ok_or(StoreError::NotFound(LEADS.schema))?;
        let before = records::to_json(&LEADS, &row);
        if before["status"].as_str() == Some(LeadStatus::Converted.code()) {
            return Err(StoreError::Conflict(format!(
                "lead {id} is converted and read-only"
            )));
        }
        if before["owner_id"].as_i64() == Some(owner) {
            out.push(before);
            continue;
        }
        tx.execute(
            "UPDATE leads SET owner_id = ?, assigned_at = ?, updated_at = ? WHERE id = ?",
            &[
                Param::Int(owner),
                Param::Int(now),
                Param::Int(now),
                Param::Int(id),
            ],
        )
        .await?;
        crate::leads::pool::owner_changed(&mut tx, &LEADS, id, Some(owner)).await?;
        let row = tx
            .fetch_optional("SELECT * FROM leads WHERE id = ?", &[Param::Int(id)])
            .await?
            .ok_or(StoreError::NotFound(LEADS.schema))?;
        let after = records::to_json(&LEADS, &row);
        history::record_changes(
            &mut tx,
            ctx.stamp(),
            RecordType::Lead,
            id,
            &snapshot(&before),
            &snapshot(&after),
        )
        .await?;
        events::emit(&mut tx, "lead.assigned", &after, now).await?;
        moved.push(out.len());
        out.push(after);
    }
    if owner != ctx.actor.user_id {
        match moved.as_slice() {
            [] => {}
            [one] => notifications::lead_assigned(&mut tx, owner, &out[*one], now).await?,
            many => notify_bulk(&mut tx, owner, many.len(), now).await?,
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// Tells `owner` in one notification that many leads are now theirs.
async fn notify_bulk(tx: &mut Tx, owner: i64, count: usize, now_ms: i64) -> anyhow::Result<()> {
    let locale = tx
        .fetch_optional(
            "SELECT locale FROM users WHERE id = ?",
            &[Param::Int(owner)],
        )
        .await?
        .map_or_else(|| "zh".to_owned(), |r| r.text("locale"));
    let message = if locale == "en" {
        format!("{count} leads are now yours")
    } else {
        format!("{count} 条线索已分配给你")
    };
    notifications::notify(
        tx,
        &notifications::Notification {
            user_id: owner,
            kind: notifications::Kind::LeadAssigned,
            record_type: Some(RecordType::Lead),
            record_id: None,
            message,
            now_ms,
        },
    )
    .await
}

/// Assignment as a step of a lead's life: new leads without an owner named get one from the
/// rules, in the transaction that writes them.
pub struct Assignment;

#[async_trait]
impl Hook for Assignment {
    async fn inserting(&self, tx: &mut Tx, records: &mut [&mut NewRecord]) -> anyhow::Result<()> {
        assign_new(tx, records).await
    }
}
