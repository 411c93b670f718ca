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
use crate::rules::{self, parse_conditions, refuse_unknown, Condition, KnownField};
use crate::{Invalid, Text};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

/// How a rule chooses among its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

    fn parse(value: &str) -> Result<Self, Invalid> {
        Strategy::ALL
            .iter()
            .copied()
            .find(|s| s.code() == value)
            .ok_or_else(|| {
                Invalid::new(
                    "target.strategy",
                    format!(
                        "'{value}' is not one of: round_robin, weighted, least_loaded, territory"
                    ),
                )
            })
    }
}

/// What happens when a matching rule finds no member who may take the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Try the rules after it; if none places the lead, the fallback of the settings.
    NextRule,
    /// Straight to the fallback user or queue of the settings.
    Default,
}

/// A member of a rule and their share of its leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: i64,
    pub weight: i64,
}

/// A place and the member who covers it. At least one of city, province and region is set;
/// a city entry with a province matches only that province's city.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Territory {
    pub province: Option<String>,
    pub city: Option<String>,
    pub region: Option<Region>,
    pub user_id: i64,
}

/// Who a rule gives its leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentRule {
    pub id: i64,
    pub name: String,
    pub active: bool,
    /// All must hold; none means every lead.
    pub conditions: Vec<Condition>,
    pub target: Target,
    pub fallback: Fallback,
}

/// The body fields of a rule.
pub const RULE_FIELDS: &[&str] = &["name", "active", "conditions", "target", "fallback"];

const MAX_MEMBERS: usize = 500;
const MAX_WEIGHT: i64 = 100;

fn id_at(object: &Map<String, Value>, name: &str, at: &str) -> Result<i64, Invalid> {
    object
        .get(name)
        .and_then(Value::as_i64)
        .ok_or_else(|| Invalid::new(format!("{at}.{name}"), "is required and must be an id"))
}

fn parse_members(value: &Value, at: &str, required: bool) -> Result<Vec<Member>, Invalid> {
    let items = match value {
        Value::Null if !required => return Ok(Vec::new()),
        Value::Array(items) if !(required && items.is_empty()) && items.len() <= MAX_MEMBERS => {
            items
        }
        _ => {
            return Err(Invalid::new(
                at,
                format!(
                    "must be a list of {}1 to {MAX_MEMBERS} {{\"user_id\", \"weight\"}} objects",
                    if required { "" } else { "0 or " }
                ),
            ))
        }
    };
    let mut members: Vec<Member> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{at}[{i}]");
        let object = item
            .as_object()
            .ok_or_else(|| Invalid::new(&at, "must be an object {\"user_id\", \"weight\"}"))?;
        if let Some(extra) = object
            .keys()
            .find(|k| !["user_id", "weight"].contains(&k.as_str()))
        {
            return Err(Invalid::new(
                format!("{at}.{extra}"),
                "is not part of a member (accepted: user_id, weight)",
            ));
        }
        let user_id = id_at(object, "user_id", &at)?;
        let weight = match object.get("weight") {
            None | Some(Value::Null) => 1,
            Some(v) => v
                .as_i64()
                .filter(|w| (1..=MAX_WEIGHT).contains(w))
                .ok_or_else(|| {
                    Invalid::new(
                        format!("{at}.weight"),
                        format!("must be a whole number from 1 to {MAX_WEIGHT}"),
                    )
                })?,
        };
        if members.iter().any(|m| m.user_id == user_id) {
            return Err(Invalid::new(
                format!("{at}.user_id"),
                format!("user {user_id} is listed twice"),
            ));
        }
        members.push(Member { user_id, weight });
    }
    Ok(members)
}

fn parse_territories(value: &Value, at: &str) -> Result<Vec<Territory>, Invalid> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) if items.len() <= 2000 => items,
        _ => {
            return Err(Invalid::new(
                at,
                "must be a list of {\"province\", \"city\", \"region\", \"user_id\"} objects",
            ))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{at}[{i}]");
            let object = item.as_object().ok_or_else(|| {
                Invalid::new(
                    &at,
                    "must be an object {\"province\", \"city\", \"region\", \"user_id\"}",
                )
            })?;
            if let Some(extra) = object
                .keys()
                .find(|k| !["province", "city", "region", "user_id"].contains(&k.as_str()))
            {
                return Err(Invalid::new(
                    format!("{at}.{extra}"),
                    "is not part of a territory (accepted: province, city, region, user_id)",
                ));
            }
            let text = |name: &str| -> Result<Option<String>, Invalid> {
                match object.get(name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => {
                        Ok(Text::parse_optional(&format!("{at}.{name}"), s, 50)?
                            .map(Text::into_string))
                    }
                    Some(_) => Err(Invalid::new(format!("{at}.{name}"), "must be a string")),
                }
            };
            let region = text("region")?
                .map(|r| {
                    Region::parse(&r).map_err(|e| Invalid::new(format!("{at}.region"), e.message))
                })
                .transpose()?;
            let territory = Territory {
                province: text("province")?,
                city: text("city")?,
                region,
                user_id: id_at(object, "user_id", &at)?,
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

fn parse_target(value: &Value) -> Result<Target, Invalid> {
    let object = value.as_object().ok_or_else(|| {
        Invalid::new(
            "target",
            "is required: an object with a type (user, team, members or queue)",
        )
    })?;
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Invalid::new("target.type", "is required: user, team, members or queue"))?;
    let accepted: &[&str] = match kind {
        "user" => &["type", "user_id"],
        "queue" => &["type", "pool_id"],
        "team" => &[
            "type",
            "team_id",
            "include_subteams",
            "strategy",
            "weights",
            "territories",
        ],
        "members" => &["type", "strategy", "members", "territories"],
        other => {
            return Err(Invalid::new(
                "target.type",
                format!("'{other}' is not one of: user, team, members, queue"),
            ))
        }
    };
    if let Some(extra) = object.keys().find(|k| !accepted.contains(&k.as_str())) {
        return Err(Invalid::new(
            format!("target.{extra}"),
            format!(
                "is not part of a {kind} target (accepted: {})",
                accepted.join(", ")
            ),
        ));
    }
    let strategy = || match object.get("strategy") {
        None | Some(Value::Null) => Ok(Strategy::RoundRobin),
        Some(Value::String(s)) => Strategy::parse(s),
        Some(_) => Err(Invalid::new("target.strategy", "must be a string")),
    };
    let territories = |strategy: Strategy| {
        let list = parse_territories(
            object.get("territories").unwrap_or(&Value::Null),
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
        "user" => Target::User {
            user_id: id_at(object, "user_id", "target")?,
        },
        "queue" => Target::Queue {
            pool_id: id_at(object, "pool_id", "target")?,
        },
        "team" => {
            let strategy = strategy()?;
            Target::Team {
                team_id: id_at(object, "team_id", "target")?,
                include_subteams: match object.get("include_subteams") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => {
                        return Err(Invalid::new(
                            "target.include_subteams",
                            "must be true or false",
                        ))
                    }
                },
                strategy,
                weights: parse_members(
                    object.get("weights").unwrap_or(&Value::Null),
                    "target.weights",
                    false,
                )?,
                territories: territories(strategy)?,
            }
        }
        _ => {
            let strategy = strategy()?;
            let members = parse_members(
                object.get("members").unwrap_or(&Value::Null),
                "target.members",
                true,
            )?;
            let territories = territories(strategy)?;
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

impl AssignmentRule {
    /// Parses a rule from a request body; `fields` are what conditions may name. Whether the
    /// users, teams and pools it names exist is for the caller to check. The id is 0 until the
    /// rule is stored.
    pub fn parse(body: &Value, fields: &[KnownField]) -> Result<AssignmentRule, Invalid> {
        let object = body
            .as_object()
            .ok_or_else(|| Invalid::new("body", "must be a JSON object"))?;
        refuse_unknown(object, RULE_FIELDS, "an assignment rule")?;
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Invalid::new("name", "is required and must be a string"))?;
        Ok(AssignmentRule {
            id: 0,
            name: Text::parse("name", name, 100)?.into_string(),
            active: match object.get("active") {
                None | Some(Value::Null) => true,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(Invalid::new("active", "must be true or false")),
            },
            conditions: parse_conditions(
                object.get("conditions").unwrap_or(&Value::Null),
                "conditions",
                fields,
            )?,
            target: parse_target(object.get("target").unwrap_or(&Value::Null))?,
            fallback: match object.get("fallback") {
                None | Some(Value::Null) => Fallback::NextRule,
                Some(Value::String(s)) if s == "next_rule" => Fallback::NextRule,
                Some(Value::String(s)) if s == "default" => Fallback::Default,
                Some(_) => {
                    return Err(Invalid::new(
                        "fallback",
                        "must be next_rule (try the next rules) or default (the fallback of the settings)",
                    ))
                }
            },
        })
    }

    /// The rule's body fields as the API shows them (without id and position).
    pub fn body(&self) -> Value {
        json!({
            "name": self.name,
            "active": self.active,
            "conditions": self.conditions,
            "target": self.target,
            "fallback": self.fallback,
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

/// The body fields of a user's availability.
pub const AVAILABILITY_FIELDS: &[&str] = &["away_until", "max_open_leads", "daily_cap"];

impl Availability {
    /// Applies a change (fields absent stay as they are; null clears).
    pub fn apply(&self, body: &Value) -> Result<Availability, Invalid> {
        let object = body
            .as_object()
            .ok_or_else(|| Invalid::new("body", "must be a JSON object"))?;
        refuse_unknown(object, AVAILABILITY_FIELDS, "a user's availability")?;
        let cap = |name: &str, current: Option<i64>| -> Result<Option<i64>, Invalid> {
            match object.get(name) {
                None => Ok(current),
                Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_i64()
                    .filter(|n| (0..=1_000_000).contains(n))
                    .map(Some)
                    .ok_or_else(|| {
                        Invalid::new(name, "must be a whole number from 0 to 1000000, or null")
                    }),
            }
        };
        let away_until = match object.get("away_until") {
            None => self.away_until,
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                DateTime::parse_from_rfc3339(s.trim())
                    .map_err(|_| Invalid::new("away_until", "must be an RFC 3339 time, or null"))?
                    .timestamp_millis(),
            ),
            Some(_) => {
                return Err(Invalid::new(
                    "away_until",
                    "must be an RFC 3339 time, or null",
                ))
            }
        };
        Ok(Availability {
            away_until,
            max_open_leads: cap("max_open_leads", self.max_open_leads)?,
            daily_cap: cap("daily_cap", self.daily_cap)?,
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
        let changed = a
            .apply(&json!({"away_until": null, "daily_cap": 5}))
            .unwrap();
        assert_eq!(changed.away_until, None);
        assert_eq!(changed.daily_cap, Some(5));
        assert_eq!(changed.max_open_leads, Some(10));
        assert_eq!(
            a.apply(&json!({"daily_cap": -1})).unwrap_err().field,
            "daily_cap"
        );
        assert_eq!(
            a.apply(&json!({"away_until": "tomorrow"}))
                .unwrap_err()
                .field,
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
        let rule = AssignmentRule::parse(
            &json!({"name": "推荐", "conditions": [{"field": "source", "operator": "eq", "value": "referral"}],
                "target": {"type": "members", "strategy": "weighted",
                    "members": [{"user_id": 1, "weight": 2}, {"user_id": 2}]}}),
            &fields(),
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

        let err = |body: Value| AssignmentRule::parse(&body, &fields()).unwrap_err().field;
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
