//! Assignment rules without the database: what a rule says (conditions → a user, a team, a
//! list of members or a queue, with a strategy and a fallback), which members may take a lead
//! now (not away, under their caps), and which of them gets it.
//!
//! Round robin is kept as a count per member of the leads the rule gave them: the member with
//! the lowest count (for weighted rules, count ÷ weight) is next, ties going to the one listed
//! first. Counts survive restarts and are never reset, so adding or removing a member changes
//! nobody else's turn; a member who joins (or comes back) starts level with the member furthest
//! behind instead of taking every lead until they catch up.

use crate::lead::Region;
use crate::rules::{self, check_conditions, Condition, KnownField};
use crate::validation::{instant, present};
use crate::{Invalid, Text};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Ordering;
use utoipa::ToSchema;

/// How a rule chooses among its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(
    description = "round_robin (in turn), weighted (in turn by weight), least_loaded (fewest \
                   open leads), territory (by place); default round_robin"
)]
pub enum Strategy {
    /// In turn, each member the same number of leads.
    RoundRobin,
    /// In turn, in proportion to each member's weight.
    Weighted,
    /// The member holding the fewest open leads.
    LeastLoaded,
    /// The members mapped to the lead's city, province or region, in turn by weight.
    Territory,
}

impl Strategy {
    pub const ALL: &'static [Strategy] = &[
        Strategy::RoundRobin,
        Strategy::Weighted,
        Strategy::LeastLoaded,
        Strategy::Territory,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Strategy::RoundRobin => "round_robin",
            Strategy::Weighted => "weighted",
            Strategy::LeastLoaded => "least_loaded",
            Strategy::Territory => "territory",
        }
    }
}

/// What happens when a matching rule finds no member who may take the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(
    description = "When no member may take the lead (away, inactive, at a cap): next_rule tries \
                   the rules after it (default), default goes to the settings' fallback"
)]
pub enum Fallback {
    /// Try the rules after it; if none places the lead, the fallback of the settings.
    NextRule,
    /// Straight to the fallback user or queue of the settings.
    Default,
}

impl Fallback {
    pub fn code(self) -> &'static str {
        match self {
            Fallback::NextRule => "next_rule",
            Fallback::Default => "default",
        }
    }
}

/// A member of a rule and their share of its leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(description = "A member and their weight")]
pub struct Member {
    /// An active user
    pub user_id: i64,
    /// Their share for the weighted and territory strategies
    pub weight: i64,
}

/// A place and the member who covers it. At least one of city, province and region is set;
/// a city entry with a province matches only that province's city.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "A place and the member who covers it: the lead's city first, then its \
                   province, then its region"
)]
pub struct Territory {
    /// A province (广东, 广东省 or Guangdong)
    #[serde(default)]
    #[schema(schema_with = place_schema)]
    pub province: Option<String>,
    /// A city (深圳 or 深圳市)
    #[serde(default)]
    #[schema(schema_with = place_schema)]
    pub city: Option<String>,
    #[serde(default)]
    pub region: Option<Region>,
    /// The member
    pub user_id: i64,
}

fn place_schema() -> utoipa::openapi::ObjectBuilder {
    crate::schema::text(
        true,
        false,
        50,
        "A province (广东, 广东省 or Guangdong) or a city (深圳 or 深圳市)",
    )
}

/// Who a rule gives its leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = AssignmentTarget)]
pub enum Target {
    /// One user.
    User { user_id: i64 },
    /// The users of a team (and of the teams below it, with `include_subteams`); `weights`
    /// gives some of them another weight than 1.
    Team {
        team_id: i64,
        include_subteams: bool,
        strategy: Strategy,
        weights: Vec<Member>,
        territories: Vec<Territory>,
    },
    /// A list of users with their weights.
    Members {
        strategy: Strategy,
        members: Vec<Member>,
        territories: Vec<Territory>,
    },
    /// A public pool (公海): the lead has no owner until someone claims it.
    Queue { pool_id: i64 },
}

/// An assignment rule as the admin wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = AssignmentRuleFields)]
pub struct AssignmentRule {
    /// Unique id
    pub id: i64,
    /// The rule's name
    pub name: String,
    /// Inactive rules are skipped
    pub active: bool,
    /// All must hold; none means every lead.
    pub conditions: Vec<Condition>,
    pub target: Target,
    pub fallback: Fallback,
}

/// The kind of a rule's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AssignmentTargetType, description = "The kind of target")]
pub enum TargetType {
    User,
    Team,
    Members,
    Queue,
}

impl TargetType {
    fn code(self) -> &'static str {
        match self {
            TargetType::User => "user",
            TargetType::Team => "team",
            TargetType::Members => "members",
            TargetType::Queue => "queue",
        }
    }
}

/// A member of a rule as a request names them.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AssignmentMemberInput, description = "A member and their weight")]
pub struct MemberInput {
    /// An active user
    #[schema(minimum = 1)]
    pub user_id: i64,
    /// Their share for the weighted and territory strategies: 1 to 100, default 1
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub weight: Option<i64>,
}

/// Who a rule gives its leads to, as a request sends it: the fields of its type only.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = AssignmentTargetInput,
    description = "Who gets the leads: a user, a team's active users, a list of members, or a \
                   queue (public pool: no owner until someone claims the lead)"
)]
pub struct TargetInput {
    #[serde(rename = "type")]
    pub target_type: TargetType,
    /// type user: the user
    #[serde(default)]
    #[schema(minimum = 1)]
    pub user_id: Option<i64>,
    /// type team: the team
    #[serde(default)]
    #[schema(minimum = 1)]
    pub team_id: Option<i64>,
    /// type team: also the users of the teams below it
    #[serde(default)]
    pub include_subteams: Option<bool>,
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// type members: 1 to 500 members
    #[serde(default)]
    #[schema(max_items = 500)]
    pub members: Option<Vec<MemberInput>>,
    /// type team: weights of some members (others 1)
    #[serde(default)]
    #[schema(max_items = 500)]
    pub weights: Option<Vec<MemberInput>>,
    /// Strategy territory: the places and their members
    #[serde(default)]
    #[schema(max_items = 2000)]
    pub territories: Option<Vec<Territory>>,
    /// type queue: the pool
    #[serde(default)]
    #[schema(minimum = 1)]
    pub pool_id: Option<i64>,
}

/// A new assignment rule as a request sends it; [`AssignmentRule::check`] checks it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = AssignmentRuleInput,
    description = "A new assignment rule, tried after the others"
)]
pub struct NewAssignmentRule {
    #[schema(schema_with = name_schema)]
    pub name: String,
    /// Inactive rules are skipped; default true
    #[serde(default)]
    pub active: Option<bool>,
    /// Which new leads the rule takes; none: every lead
    #[serde(default)]
    #[schema(max_items = 50)]
    pub conditions: Option<Vec<Condition>>,
    pub target: TargetInput,
    #[serde(default)]
    pub fallback: Option<Fallback>,
}

/// The fields of an assignment rule to change: those sent replace the stored ones, and the
/// whole rule is checked again.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "Changes to an assignment rule: the fields given replace the stored ones and \
                   the whole rule is checked again"
)]
pub struct AssignmentRulePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = name_schema)]
    pub name: Option<String>,
    /// Inactive rules are skipped; null: true
    #[serde(default, deserialize_with = "present")]
    pub active: Option<Option<bool>>,
    /// Which new leads the rule takes; none: every lead
    #[serde(default, deserialize_with = "present")]
    #[schema(max_items = 50)]
    pub conditions: Option<Option<Vec<Condition>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub target: Option<TargetInput>,
    #[serde(default, deserialize_with = "present")]
    pub fallback: Option<Option<Fallback>>,
}

fn name_schema() -> utoipa::openapi::ObjectBuilder {
    crate::schema::text(false, true, 100, "The rule's name")
}

impl AssignmentRulePatch {
    /// The rule the change makes of a stored one.
    pub fn onto(self, stored: &AssignmentRule) -> NewAssignmentRule {
        NewAssignmentRule {
            name: self.name.unwrap_or_else(|| stored.name.clone()),
            active: self.active.unwrap_or(Some(stored.active)),
            conditions: self
                .conditions
                .unwrap_or_else(|| Some(stored.conditions.clone())),
            target: self
                .target
                .unwrap_or_else(|| TargetInput::from(&stored.target)),
            fallback: self.fallback.unwrap_or(Some(stored.fallback)),
        }
    }
}

impl From<&Target> for TargetInput {
    fn from(target: &Target) -> TargetInput {
        let members = |list: &[Member]| {
            list.iter()
                .map(|m| MemberInput {
                    user_id: m.user_id,
                    weight: Some(m.weight),
                })
                .collect()
        };
        let blank = |target_type| TargetInput {
            target_type,
            user_id: None,
            team_id: None,
            include_subteams: None,
            strategy: None,
            members: None,
            weights: None,
            territories: None,
            pool_id: None,
        };
        match target {
            Target::User { user_id } => TargetInput {
                user_id: Some(*user_id),
                ..blank(TargetType::User)
            },
            Target::Queue { pool_id } => TargetInput {
                pool_id: Some(*pool_id),
                ..blank(TargetType::Queue)
            },
            Target::Team {
                team_id,
                include_subteams,
                strategy,
                weights,
                territories,
            } => TargetInput {
                team_id: Some(*team_id),
                include_subteams: Some(*include_subteams),
                strategy: Some(*strategy),
                weights: Some(members(weights)),
                territories: Some(territories.clone()),
                ..blank(TargetType::Team)
            },
            Target::Members {
                strategy,
                members: list,
                territories,
            } => TargetInput {
                strategy: Some(*strategy),
                members: Some(members(list)),
                territories: Some(territories.clone()),
                ..blank(TargetType::Members)
            },
        }
    }
}

const MAX_MEMBERS: usize = 500;
const MAX_WEIGHT: i64 = 100;

/// The id a target of type `kind` needs, or which field it lacks.
fn required_id(id: Option<i64>, field: &str) -> Result<i64, Invalid> {
    id.ok_or_else(|| Invalid::new(format!("target.{field}"), "is required and must be an id"))
}

fn check_members(
    list: Option<Vec<MemberInput>>,
    at: &str,
    required: bool,
) -> Result<Vec<Member>, Invalid> {
    let list = list.unwrap_or_default();
    if (required && list.is_empty()) || list.len() > MAX_MEMBERS {
        return Err(Invalid::new(
            at,
            format!(
                "must be a list of {}1 to {MAX_MEMBERS} {{\"user_id\", \"weight\"}} objects",
                if required { "" } else { "0 or " }
            ),
        ));
    }
    let mut members: Vec<Member> = Vec::with_capacity(list.len());
    for (i, member) in list.into_iter().enumerate() {
        let at = format!("{at}[{i}]");
        let weight = match member.weight {
            None => 1,
            Some(w) if (1..=MAX_WEIGHT).contains(&w) => w,
            Some(_) => {
                return Err(Invalid::new(
                    format!("{at}.weight"),
                    format!("must be a whole number from 1 to {MAX_WEIGHT}"),
                ))
            }
        };
        if members.iter().any(|m| m.user_id == member.user_id) {
            return Err(Invalid::new(
                format!("{at}.user_id"),
                format!("user {} is listed twice", member.user_id),
            ));
        }
        members.push(Member {
            user_id: member.user_id,
            weight,
        });
    }
    Ok(members)
}

fn check_territories(list: Vec<Territory>, at: &str) -> Result<Vec<Territory>, Invalid> {
    list.into_iter()
        .enumerate()
        .map(|(i, territory)| {
            let at = format!("{at}[{i}]");
            let text = |name: &str, value: Option<String>| {
                value
                    .map(|v| Text::parse_optional(&format!("{at}.{name}"), &v, 50))
                    .transpose()
                    .map(|t| t.flatten().map(Text::into_string))
            };
            let territory = Territory {
                province: text("province", territory.province)?,
                city: text("city", territory.city)?,
                region: territory.region,
                user_id: territory.user_id,
            };
            if territory.province.is_none()
                && territory.city.is_none()
                && territory.region.is_none()
            {
                return Err(Invalid::new(at, "needs a province, a city or a region"));
            }
            Ok(territory)
        })
        .collect()
}

impl TargetInput {
    /// The target checked: only the fields of its type, each valid.
    fn check(self) -> Result<Target, Invalid> {
        let kind = self.target_type;
        let sent = [
            ("user_id", self.user_id.is_some()),
            ("team_id", self.team_id.is_some()),
            ("include_subteams", self.include_subteams.is_some()),
            ("strategy", self.strategy.is_some()),
            ("weights", self.weights.is_some()),
            ("members", self.members.is_some()),
            ("territories", self.territories.is_some()),
            ("pool_id", self.pool_id.is_some()),
        ];
        let accepted: &[&str] = match kind {
            TargetType::User => &["user_id"],
            TargetType::Queue => &["pool_id"],
            TargetType::Team => &[
                "team_id",
                "include_subteams",
                "strategy",
                "weights",
                "territories",
            ],
            TargetType::Members => &["strategy", "members", "territories"],
        };
        if let Some((extra, _)) = sent
            .iter()
            .find(|(name, given)| *given && !accepted.contains(name))
        {
            return Err(Invalid::new(
                format!("target.{extra}"),
                format!(
                    "is not part of a {} target (accepted: type, {})",
                    kind.code(),
                    accepted.join(", ")
                ),
            ));
        }
        let strategy = self.strategy.unwrap_or(Strategy::RoundRobin);
        let territories = || {
            let list = check_territories(
                self.territories.clone().unwrap_or_default(),
                "target.territories",
            )?;
            match (strategy, list.is_empty()) {
                (Strategy::Territory, true) => Err(Invalid::new(
                    "target.territories",
                    "the territory strategy needs at least one territory",
                )),
                (Strategy::Territory, false) | (_, true) => Ok(list),
                (_, false) => Err(Invalid::new(
                    "target.territories",
                    "only the territory strategy uses territories",
                )),
            }
        };
        Ok(match kind {
            TargetType::User => Target::User {
                user_id: required_id(self.user_id, "user_id")?,
            },
            TargetType::Queue => Target::Queue {
                pool_id: required_id(self.pool_id, "pool_id")?,
            },
            TargetType::Team => Target::Team {
                team_id: required_id(self.team_id, "team_id")?,
                include_subteams: self.include_subteams.unwrap_or(false),
                strategy,
                weights: check_members(self.weights.clone(), "target.weights", false)?,
                territories: territories()?,
            },
            TargetType::Members => {
                let members = check_members(self.members.clone(), "target.members", true)?;
                let territories = territories()?;
                if let Some((i, t)) = territories
                    .iter()
                    .enumerate()
                    .find(|(_, t)| !members.iter().any(|m| m.user_id == t.user_id))
                {
                    return Err(Invalid::new(
                        format!("target.territories[{i}].user_id"),
                        format!("user {} is not one of the members", t.user_id),
                    ));
                }
                Target::Members {
                    strategy,
                    members,
                    territories,
                }
            }
        })
    }
}

impl AssignmentRule {
    /// Checks a rule as a request sent it; `fields` are what conditions may name. Whether
    /// the users, teams and pools it names exist is for the caller to check. The id is 0 until
    /// the rule is stored.
    pub fn check(new: NewAssignmentRule, fields: &[KnownField]) -> Result<AssignmentRule, Invalid> {
        Ok(AssignmentRule {
            id: 0,
            name: Text::parse("name", &new.name, 100)?.into_string(),
            active: new.active.unwrap_or(true),
            conditions: check_conditions(new.conditions.unwrap_or_default(), "conditions", fields)?,
            target: new.target.check()?,
            fallback: new.fallback.unwrap_or(Fallback::NextRule),
        })
    }

    /// Whether the rule applies to the lead (as the API shows it).
    pub fn matches(&self, lead: &Value) -> bool {
        self.active && rules::all_match(&self.conditions, lead)
    }

    /// Every user the rule names, with the body field that names them.
    pub fn users(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        match &self.target {
            Target::User { user_id } => out.push(("target.user_id".to_owned(), *user_id)),
            Target::Team {
                weights,
                territories,
                ..
            } => {
                for (i, m) in weights.iter().enumerate() {
                    out.push((format!("target.weights[{i}].user_id"), m.user_id));
                }
                for (i, t) in territories.iter().enumerate() {
                    out.push((format!("target.territories[{i}].user_id"), t.user_id));
                }
            }
            Target::Members {
                members,
                territories,
                ..
            } => {
                for (i, m) in members.iter().enumerate() {
                    out.push((format!("target.members[{i}].user_id"), m.user_id));
                }
                for (i, t) in territories.iter().enumerate() {
                    out.push((format!("target.territories[{i}].user_id"), t.user_id));
                }
            }
            Target::Queue { .. } => {}
        }
        out
    }
}

/// The users a territory list maps the lead's place to: those of its city if any entry names
/// it, else of its province, else of its region.
pub fn territory_users(territories: &[Territory], lead: &Value) -> Vec<i64> {
    let text = |field: &str| lead.get(field).and_then(Value::as_str).unwrap_or_default();
    let province = rules::province_key(text("province"));
    let city = rules::city_key(text("city"));
    let region = rules::region_of(text("province"));
    let province_matches = |t: &Territory| {
        t.province
            .as_deref()
            .is_none_or(|p| rules::province_key(p) == province)
    };
    let levels: [&dyn Fn(&Territory) -> bool; 3] = [
        &|t| {
            !city.is_empty()
                && t.city
                    .as_deref()
                    .is_some_and(|c| rules::city_key(c) == city)
                && province_matches(t)
        },
        &|t| {
            t.city.is_none() && !province.is_empty() && t.province.is_some() && province_matches(t)
        },
        &|t| t.city.is_none() && t.province.is_none() && region.is_some() && t.region == region,
    ];
    for level in levels {
        let mut users: Vec<i64> = Vec::new();
        for t in territories.iter().filter(|t| level(t)) {
            if !users.contains(&t.user_id) {
                users.push(t.user_id);
            }
        }
        if !users.is_empty() {
            return users;
        }
    }
    Vec::new()
}

/// A member who may take the lead, with what the choice needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: i64,
    pub weight: i64,
    /// Leads this rule has given them.
    pub assigned: i64,
    /// Open leads they hold (for least loaded).
    pub open_leads: i64,
}

/// `a.assigned / a.weight` against `b.assigned / b.weight`, without division.
fn by_share(a: &Candidate, b: &Candidate) -> Ordering {
    (i128::from(a.assigned) * i128::from(b.weight))
        .cmp(&(i128::from(b.assigned) * i128::from(a.weight)))
}

/// Which candidate gets the lead: its index, or none when there are no candidates. Ties go to
/// the one listed first.
pub fn choose(strategy: Strategy, candidates: &[Candidate]) -> Option<usize> {
    let order = |a: &Candidate, b: &Candidate| match strategy {
        Strategy::RoundRobin => a.assigned.cmp(&b.assigned),
        Strategy::Weighted | Strategy::Territory => by_share(a, b),
        Strategy::LeastLoaded => a.open_leads.cmp(&b.open_leads).then_with(|| by_share(a, b)),
    };
    candidates
        .iter()
        .enumerate()
        .min_by(|(i, a), (j, b)| order(a, b).then(i.cmp(j)))
        .map(|(i, _)| i)
}

/// The counts members start from: a member with a stored count keeps it; one without (new to
/// the rule, or back after being taken off it) starts level with the member furthest behind,
/// in proportion to their weight, so that they take their turn instead of every lead until
/// they catch up. `members` are (stored count, weight).
pub fn effective_counts(members: &[(Option<i64>, i64)]) -> Vec<i64> {
    let lowest = members
        .iter()
        .filter_map(|(count, weight)| count.map(|c| (c, *weight)))
        .min_by(|(a, wa), (b, wb)| {
            (i128::from(*a) * i128::from(*wb)).cmp(&(i128::from(*b) * i128::from(*wa)))
        });
    members
        .iter()
        .map(|(count, weight)| {
            count.unwrap_or_else(|| lowest.map_or(0, |(c, w)| c * weight / w.max(1)))
        })
        .collect()
}

/// When a user may not take leads and what caps them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Availability {
    /// Away (holiday, leave) until this instant, in Unix milliseconds.
    pub away_until: Option<i64>,
    /// The most open leads they may hold; rules skip them at this many.
    pub max_open_leads: Option<i64>,
    /// The most leads rules give them in one day (China time).
    pub daily_cap: Option<i64>,
}

/// Changes to a user's availability as a request sends them: a field left out keeps its
/// value, null clears it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Changes to a user's availability; null clears; caps from 0")]
pub struct AvailabilityPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = away_until_schema)]
    pub away_until: Option<Option<String>>,
    /// Rules skip the user while they hold this many open leads
    #[serde(default, deserialize_with = "present")]
    #[schema(minimum = 0, maximum = 1000000)]
    pub max_open_leads: Option<Option<i64>>,
    /// The most leads rules give the user in a day (China time)
    #[serde(default, deserialize_with = "present")]
    #[schema(minimum = 0, maximum = 1000000)]
    pub daily_cap: Option<Option<i64>>,
}

fn away_until_schema() -> utoipa::openapi::ObjectBuilder {
    crate::schema::date_time(true, "Rules skip the user until then (leave, holiday)")
}

impl Availability {
    /// Applies a change (fields left out stay as they are; null clears) and checks it.
    pub fn apply(&self, patch: AvailabilityPatch) -> Result<Availability, Invalid> {
        let cap = |name: &str, sent: Option<Option<i64>>, current: Option<i64>| match sent {
            None => Ok(current),
            Some(Some(n)) if !(0..=1_000_000).contains(&n) => Err(Invalid::new(
                name,
                "must be a whole number from 0 to 1000000, or null",
            )),
            Some(sent) => Ok(sent),
        };
        let away_until = match patch.away_until {
            None => self.away_until,
            Some(None) => None,
            Some(Some(at)) => Some(instant("away_until", &at)?.timestamp_millis()),
        };
        Ok(Availability {
            away_until,
            max_open_leads: cap("max_open_leads", patch.max_open_leads, self.max_open_leads)?,
            daily_cap: cap("daily_cap", patch.daily_cap, self.daily_cap)?,
        })
    }

    /// Whether rules may give the user a lead at `now_ms`, given the open leads they hold and
    /// the leads rules gave them today.
    pub fn may_take(&self, now_ms: i64, open_leads: i64, assigned_today: i64) -> bool {
        self.away_until.is_none_or(|until| until <= now_ms)
            && self.max_open_leads.is_none_or(|max| open_leads < max)
            && self.daily_cap.is_none_or(|cap| assigned_today < cap)
    }
}

/// The day an instant falls on in China, which daily caps count by.
pub fn china_day(now_ms: i64) -> String {
    DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ValueKind;
    use crate::validation::Unread;
    use serde_json::json;

    /// A rule from the JSON of a request, read and checked as the API does.
    fn parse(body: Value) -> Result<AssignmentRule, Invalid> {
        AssignmentRule::check(Unread::json(body).read()?, &fields())
    }

    fn fields() -> Vec<KnownField> {
        vec![
            ("source".into(), ValueKind::Code(Vec::new())),
            ("province".into(), ValueKind::Text),
            ("score".into(), ValueKind::Number),
        ]
    }

    fn candidate(user_id: i64, weight: i64, assigned: i64) -> Candidate {
        Candidate {
            user_id,
            weight,
            assigned,
            open_leads: 0,
        }
    }

    /// Gives `n` leads one by one, as the database would, and returns each member's count.
    fn run(strategy: Strategy, members: &mut [Candidate], n: usize) -> Vec<i64> {
        for _ in 0..n {
            let i = choose(strategy, members).unwrap();
            members[i].assigned += 1;
            members[i].open_leads += 1;
        }
        members.iter().map(|m| m.assigned).collect()
    }

    #[test]
    fn round_robin_takes_turns_and_weights_share_in_proportion() {
        let mut three = [candidate(1, 1, 0), candidate(2, 1, 0), candidate(3, 1, 0)];
        assert_eq!(run(Strategy::RoundRobin, &mut three, 300), [100, 100, 100]);
        let mut weighted = [candidate(1, 2, 0), candidate(2, 1, 0)];
        assert_eq!(run(Strategy::Weighted, &mut weighted, 300), [200, 100]);
        // Ties go to the first listed: the first three leads go 1, 2, 3.
        let mut order = [candidate(1, 1, 0), candidate(2, 1, 0), candidate(3, 1, 0)];
        let picks: Vec<i64> = (0..3)
            .map(|_| {
                let i = choose(Strategy::RoundRobin, &order).unwrap();
                order[i].assigned += 1;
                order[i].user_id
            })
            .collect();
        assert_eq!(picks, [1, 2, 3]);
        assert_eq!(choose(Strategy::RoundRobin, &[]), None);
    }

    #[test]
    fn least_loaded_picks_the_member_with_fewest_open_leads() {
        let mut members = [candidate(1, 1, 0), candidate(2, 1, 0)];
        members[0].open_leads = 5;
        members[1].open_leads = 2;
        assert_eq!(choose(Strategy::LeastLoaded, &members), Some(1));
        assert_eq!(run(Strategy::LeastLoaded, &mut members, 5), [1, 4]);
    }

    #[test]
    fn a_new_member_starts_level_instead_of_taking_every_lead() {
        // Two members with 100 and 90 leads; a newcomer starts at 90, not 0.
        assert_eq!(
            effective_counts(&[(Some(100), 1), (Some(90), 1), (None, 1)]),
            [100, 90, 90]
        );
        // With weights the level scales: 90 per unit of weight is 180 for weight 2.
        assert_eq!(effective_counts(&[(Some(90), 1), (None, 2)]), [90, 180]);
        // Nobody has a count yet: everyone starts at 0.
        assert_eq!(effective_counts(&[(None, 1), (None, 3)]), [0, 0]);
    }

    #[test]
    fn territories_prefer_the_city_then_the_province_then_the_region() {
        let t = |province: Option<&str>, city: Option<&str>, region: Option<Region>, user_id| {
            Territory {
                province: province.map(str::to_owned),
                city: city.map(str::to_owned),
                region,
                user_id,
            }
        };
        let map = [
            t(Some("广东"), None, None, 1),
            t(None, Some("深圳"), None, 2),
            t(None, None, Some(Region::South), 3),
            t(Some("广东"), None, None, 4),
        ];
        assert_eq!(
            territory_users(&map, &json!({"province": "广东省", "city": "深圳市"})),
            [2]
        );
        assert_eq!(
            territory_users(&map, &json!({"province": "广东", "city": "广州"})),
            [1, 4]
        );
        assert_eq!(territory_users(&map, &json!({"province": "广西"})), [3]);
        assert!(territory_users(&map, &json!({"province": "浙江"})).is_empty());
        assert!(territory_users(&map, &json!({})).is_empty());
    }

    #[test]
    fn availability_skips_the_away_and_the_full() {
        let a = Availability {
            away_until: Some(1_000),
            max_open_leads: Some(10),
            daily_cap: Some(3),
        };
        assert!(!a.may_take(999, 0, 0));
        assert!(a.may_take(1_000, 9, 2));
        assert!(!a.may_take(1_000, 10, 0));
        assert!(!a.may_take(1_000, 0, 3));
        let apply = |body| a.apply(crate::validation::Unread::json(body).read()?);
        let changed = apply(json!({"away_until": null, "daily_cap": 5})).unwrap();
        assert_eq!(changed.away_until, None);
        assert_eq!(changed.daily_cap, Some(5));
        assert_eq!(changed.max_open_leads, Some(10));
        assert_eq!(
            apply(json!({"daily_cap": -1})).unwrap_err().field,
            "daily_cap"
        );
        assert_eq!(
            apply(json!({"away_until": "tomorrow"})).unwrap_err().field,
            "away_until"
        );
    }

    #[test]
    fn the_day_of_a_cap_is_chinas() {
        // 2026-11-02 17:00 UTC is already the 3rd in Beijing.
        let ms = chrono::NaiveDate::from_ymd_opt(2026, 11, 2)
            .unwrap()
            .and_hms_opt(17, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        assert_eq!(china_day(ms), "2026-11-03");
    }

    #[test]
    fn rules_parse_and_bad_ones_name_the_problem() {
        let rule = parse(
            json!({"name": "推荐", "conditions": [{"field": "source", "operator": "eq", "value": "referral"}],
                "target": {"type": "members", "strategy": "weighted",
                    "members": [{"user_id": 1, "weight": 2}, {"user_id": 2}]}}),
        )
        .unwrap();
        assert_eq!(rule.fallback, Fallback::NextRule);
        assert!(rule.matches(&json!({"source": "referral"})));
        assert!(!rule.matches(&json!({"source": "api"})));
        assert_eq!(
            rule.users(),
            [
                ("target.members[0].user_id".to_owned(), 1),
                ("target.members[1].user_id".to_owned(), 2)
            ]
        );
        let round_trip: AssignmentRule = serde_json::from_value(json!({
            "id": 0, "name": rule.name, "active": true, "conditions": rule.conditions,
            "target": rule.target, "fallback": rule.fallback}))
        .unwrap();
        assert_eq!(round_trip, rule);

        let err = |body: Value| parse(body).unwrap_err().field;
        assert_eq!(
            err(json!({"target": {"type": "user", "user_id": 1}})),
            "name"
        );
        assert_eq!(err(json!({"name": "x"})), "target");
        assert_eq!(
            err(json!({"name": "x", "target": {"type": "robot"}})),
            "target.type"
        );
        assert_eq!(
            err(json!({"name": "x", "target": {"type": "members", "members": []}})),
            "target.members"
        );
        assert_eq!(
            err(
                json!({"name": "x", "target": {"type": "members", "members": [{"user_id": 1}, {"user_id": 1}]}})
            ),
            "target.members[1].user_id"
        );
        assert_eq!(
            err(
                json!({"name": "x", "target": {"type": "members", "members": [{"user_id": 1, "weight": 0}]}})
            ),
            "target.members[0].weight"
        );
        assert_eq!(
            err(
                json!({"name": "x", "target": {"type": "members", "strategy": "random", "members": [{"user_id": 1}]}})
            ),
            "target.strategy"
        );
        assert_eq!(
            err(
                json!({"name": "x", "target": {"type": "members", "strategy": "territory", "members": [{"user_id": 1}]}})
            ),
            "target.territories"
        );
        assert_eq!(
            err(
                json!({"name": "x", "target": {"type": "members", "strategy": "territory", "members": [{"user_id": 1}],
                "territories": [{"province": "广东", "user_id": 2}]}})
            ),
            "target.territories[0].user_id"
        );
        assert_eq!(
            err(
                json!({"name": "x", "target": {"type": "team", "team_id": 1, "strategy": "territory",
                "territories": [{"user_id": 2}]}})
            ),
            "target.territories[0]"
        );
        assert_eq!(
            err(json!({"name": "x", "target": {"type": "user", "user_id": 1, "team_id": 2}})),
            "target.team_id"
        );
        assert_eq!(
            err(json!({"name": "x", "target": {"type": "user", "user_id": 1}, "fallback": "x"})),
            "fallback"
        );
        assert_eq!(
            err(
                json!({"name": "x", "target": {"type": "queue", "pool_id": 1},
                "conditions": [{"field": "budget", "operator": "gt", "value": 1}]})
            ),
            "conditions[0].field"
        );
    }
}
