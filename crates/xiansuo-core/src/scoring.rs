//! Lead scoring: the rules an admin edits and the score, tier and breakdown they give a lead.
//!
//! Three kinds of rule add up: fit rules (conditions on the lead's fields and custom fields →
//! points), engagement rules (points for each behaviour event of a type, optionally only
//! those with a given name or URL, fading with a half-life) and negative rules (conditions or
//! events → points taken away). The sum is held between 0 and the cap in the settings, and
//! the settings' thresholds turn it into a tier. Everything here is a pure function of the
//! rules, the lead as the API shows it, its events and the time.

use crate::lead::{EventType, Tier};
use crate::rules::{self, check_conditions, Condition, KnownField};
use crate::schema;
use crate::validation::present;
use crate::{Invalid, Text};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;

/// What a rule looks at and which way its points go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(
    as = ScoringRuleKind,
    description = "fit: conditions on fields; engagement: events; negative: conditions or events \
                   that take points away"
)]
pub enum RuleKind {
    /// Conditions on the lead's data; positive points.
    Fit,
    /// Behaviour events; positive points per event, with decay.
    Engagement,
    /// Conditions or events that lower the score; negative points.
    Negative,
}

impl RuleKind {
    pub const ALL: &'static [RuleKind] = &[RuleKind::Fit, RuleKind::Engagement, RuleKind::Negative];

    pub fn code(self) -> &'static str {
        match self {
            RuleKind::Fit => "fit",
            RuleKind::Engagement => "engagement",
            RuleKind::Negative => "negative",
        }
    }
}

/// Which behaviour events a rule counts: a type, and optionally an exact name (ignoring case)
/// and a piece of the URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "The behaviour events a rule counts")]
pub struct EventFilter {
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Only events with this name (ignoring case)
    #[serde(default)]
    #[schema(schema_with = filter_name_schema)]
    pub name: Option<String>,
    /// Only events whose URL contains this (ignoring case)
    #[serde(default)]
    #[schema(schema_with = filter_url_schema)]
    pub url: Option<String>,
}

fn filter_name_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        500,
        "Only events with this name (ignoring case)",
    )
}

fn filter_url_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        500,
        "Only events whose URL contains this (ignoring case)",
    )
}

impl EventFilter {
    fn matches(&self, event: &Event) -> bool {
        let lower = |s: &str| s.trim().to_lowercase();
        self.event_type == event.event_type
            && self.name.as_deref().is_none_or(|name| {
                event
                    .name
                    .as_deref()
                    .is_some_and(|n| lower(n) == lower(name))
            })
            && self.url.as_deref().is_none_or(|url| {
                event
                    .url
                    .as_deref()
                    .is_some_and(|u| lower(u).contains(&lower(url)))
            })
    }

    /// The filter with its name and URL trimmed, blank ones left out.
    fn check(self) -> Result<EventFilter, Invalid> {
        let text = |name: &str, value: Option<String>| {
            value
                .map(|v| Text::parse_optional(&format!("event.{name}"), &v, 500))
                .transpose()
                .map(|t| t.flatten().map(Text::into_string))
        };
        Ok(EventFilter {
            event_type: self.event_type,
            name: text("name", self.name)?,
            url: text("url", self.url)?,
        })
    }
}

/// A scoring rule as the admin wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = ScoringRuleFields)]
pub struct ScoringRule {
    /// Unique id
    pub id: i64,
    /// Shown in breakdowns
    pub name: String,
    pub kind: RuleKind,
    /// Inactive rules count nothing
    pub active: bool,
    /// All must hold (fit and negative rules).
    pub conditions: Vec<Condition>,
    /// The events counted (engagement rules, and negative rules on events).
    #[schema(required = true)]
    pub event: Option<EventFilter>,
    /// Points when the conditions hold, or per event.
    pub points: i64,
    /// An event's points halve every this many days; none means they never fade.
    #[schema(required = true)]
    pub half_life_days: Option<f64>,
    /// The most an event rule adds (or takes away) in total.
    #[schema(required = true)]
    pub max_points: Option<i64>,
}

/// A new scoring rule as a request sends it; [`ScoringRule::check`] checks it as a whole.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A new scoring rule")]
pub struct NewScoringRule {
    #[schema(schema_with = name_schema)]
    pub name: String,
    pub kind: RuleKind,
    /// Inactive rules count nothing; default true
    #[serde(default)]
    pub active: Option<bool>,
    /// Fit rules, and negative rules on fields: all must hold
    #[serde(default)]
    #[schema(max_items = 50)]
    pub conditions: Option<Vec<Condition>>,
    #[serde(default)]
    pub event: Option<EventFilter>,
    #[schema(schema_with = points_schema)]
    pub points: i64,
    #[serde(default)]
    #[schema(schema_with = half_life_schema)]
    pub half_life_days: Option<f64>,
    #[serde(default)]
    #[schema(schema_with = max_points_schema)]
    pub max_points: Option<i64>,
}

/// The fields of a scoring rule to change: those sent replace the stored ones, and the whole
/// rule is checked again. `null` clears a field that may be empty.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "Changes to a scoring rule: the fields given replace the stored ones and the \
                   whole rule is checked again"
)]
pub struct ScoringRulePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = name_schema)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub kind: Option<RuleKind>,
    /// Inactive rules count nothing; null: true
    #[serde(default, deserialize_with = "present")]
    pub active: Option<Option<bool>>,
    /// Fit rules, and negative rules on fields: all must hold
    #[serde(default, deserialize_with = "present")]
    #[schema(max_items = 50)]
    pub conditions: Option<Option<Vec<Condition>>>,
    #[serde(default, deserialize_with = "present")]
    pub event: Option<Option<EventFilter>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = points_schema)]
    pub points: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = half_life_schema)]
    pub half_life_days: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = max_points_schema)]
    pub max_points: Option<Option<i64>>,
}

fn name_schema() -> ObjectBuilder {
    schema::text(false, true, 100, "Shown in breakdowns")
}

fn points_schema() -> ObjectBuilder {
    schema::scalar(
        Type::Integer,
        false,
        "Points when the conditions hold, or per event: 1 to 10000 for fit and engagement rules, \
         -10000 to -1 for negative rules",
    )
    .minimum(Some(-MAX_RULE_POINTS))
    .maximum(Some(MAX_RULE_POINTS))
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}

fn half_life_schema() -> ObjectBuilder {
    schema::scalar(
        Type::Number,
        true,
        "Rules on events: an event's points halve every this many days, above 0 and at most \
         3650 (none: they never fade)",
    )
    .exclusive_minimum(Some(0))
    .maximum(Some(3650))
}

fn max_points_schema() -> ObjectBuilder {
    schema::scalar(
        Type::Integer,
        true,
        "Rules on events: the most the rule adds (or takes away) in total",
    )
    .minimum(Some(1))
    .maximum(Some(100_000))
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}

/// The largest number of points one rule gives or takes.
const MAX_RULE_POINTS: i64 = 10_000;

impl ScoringRulePatch {
    /// The rule the change makes of a stored one.
    pub fn onto(self, stored: &ScoringRule) -> NewScoringRule {
        NewScoringRule {
            name: self.name.unwrap_or_else(|| stored.name.clone()),
            kind: self.kind.unwrap_or(stored.kind),
            active: self.active.unwrap_or(Some(stored.active)),
            conditions: self
                .conditions
                .unwrap_or_else(|| Some(stored.conditions.clone())),
            event: self.event.unwrap_or_else(|| stored.event.clone()),
            points: self.points.unwrap_or(stored.points),
            half_life_days: self.half_life_days.unwrap_or(stored.half_life_days),
            max_points: self.max_points.unwrap_or(stored.max_points),
        }
    }

    /// The change as a new rule, naming the first field a new rule needs that it lacks.
    pub fn into_new(self) -> Result<NewScoringRule, Invalid> {
        let required = |field: &str| Invalid::new(field, "is required");
        Ok(NewScoringRule {
            name: self.name.ok_or_else(|| required("name"))?,
            kind: self.kind.ok_or_else(|| required("kind"))?,
            active: self.active.flatten(),
            conditions: self.conditions.flatten(),
            event: self.event.flatten(),
            points: self.points.ok_or_else(|| required("points"))?,
            half_life_days: self.half_life_days.flatten(),
            max_points: self.max_points.flatten(),
        })
    }
}

impl ScoringRule {
    /// Checks a rule as a request sent it; `fields` are what conditions may name. The id is 0
    /// until the rule is stored.
    pub fn check(new: NewScoringRule, fields: &[KnownField]) -> Result<ScoringRule, Invalid> {
        let name = Text::parse("name", &new.name, 100)?.into_string();
        let kind = new.kind;
        let active = new.active.unwrap_or(true);
        let conditions =
            check_conditions(new.conditions.unwrap_or_default(), "conditions", fields)?;
        let event = new.event.map(EventFilter::check).transpose()?;
        let points = new.points;
        let half_life_days = match new.half_life_days {
            Some(d) if !(d > 0.0 && d <= 3650.0) => {
                return Err(Invalid::new(
                    "half_life_days",
                    "must be a number of days above 0, at most 3650",
                ))
            }
            d => d,
        };
        let max_points = match new.max_points {
            Some(p) if !(1..=100_000).contains(&p) => {
                return Err(Invalid::new(
                    "max_points",
                    "must be a whole number from 1 to 100000",
                ))
            }
            p => p,
        };

        match kind {
            RuleKind::Fit | RuleKind::Engagement if !(1..=MAX_RULE_POINTS).contains(&points) => {
                return Err(Invalid::new(
                    "points",
                    format!(
                        "must be from 1 to {MAX_RULE_POINTS} for a {} rule (use a negative rule to take points away)",
                        kind.code()
                    ),
                ))
            }
            RuleKind::Negative if !(-MAX_RULE_POINTS..=-1).contains(&points) => {
                return Err(Invalid::new(
                    "points",
                    format!("must be from -{MAX_RULE_POINTS} to -1 for a negative rule"),
                ))
            }
            _ => {}
        }
        match kind {
            RuleKind::Fit if conditions.is_empty() => {
                return Err(Invalid::new(
                    "conditions",
                    "a fit rule needs at least one condition",
                ))
            }
            RuleKind::Fit if event.is_some() => {
                return Err(Invalid::new(
                    "event",
                    "a fit rule looks at the lead's fields; count events with an engagement rule",
                ))
            }
            RuleKind::Engagement if event.is_none() => {
                return Err(Invalid::new(
                    "event",
                    "an engagement rule needs the event it counts",
                ))
            }
            RuleKind::Engagement if !conditions.is_empty() => {
                return Err(Invalid::new(
                    "conditions",
                    "an engagement rule counts events; put conditions on fields in a fit rule",
                ))
            }
            RuleKind::Negative if conditions.is_empty() == event.is_none() => {
                return Err(Invalid::new(
                    "conditions",
                    "a negative rule needs either conditions or an event, not both",
                ))
            }
            _ => {}
        }
        if event.is_none() {
            if half_life_days.is_some() {
                return Err(Invalid::new("half_life_days", "only rules on events decay"));
            }
            if max_points.is_some() {
                return Err(Invalid::new(
                    "max_points",
                    "only rules on events add up to a maximum",
                ));
            }
        }
        Ok(ScoringRule {
            id: 0,
            name,
            kind,
            active,
            conditions,
            event,
            points,
            half_life_days,
            max_points,
        })
    }

    /// The points the rule gives a lead with these events at `now_ms`, unrounded.
    fn points_for(&self, lead: &Value, events: &[Event], now_ms: i64) -> f64 {
        match &self.event {
            None => {
                if rules::all_match(&self.conditions, lead) {
                    self.points as f64
                } else {
                    0.0
                }
            }
            Some(filter) => {
                let total: f64 = events
                    .iter()
                    .filter(|e| filter.matches(e))
                    .map(|e| decayed(self.points, now_ms - e.occurred_at_ms, self.half_life_days))
                    .sum();
                match self.max_points {
                    Some(max) => total.clamp(-(max as f64), max as f64),
                    None => total,
                }
            }
        }
    }
}

/// An event's points after `age_ms`: halved every `half_life_days`, never grown by an event
/// dated in the future.
pub fn decayed(points: i64, age_ms: i64, half_life_days: Option<f64>) -> f64 {
    match half_life_days {
        Some(half_life) => {
            let age_days = age_ms.max(0) as f64 / 86_400_000.0;
            points as f64 * 0.5_f64.powf(age_days / half_life)
        }
        None => points as f64,
    }
}

/// The cap on a score and the thresholds of the tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(
    as = ScoringSettings,
    description = "The cap on scores and the tier thresholds"
)]
pub struct Settings {
    /// No score is above this (default 100)
    #[schema(minimum = 1, maximum = 100000)]
    pub max_score: i64,
    /// A score at or above this is high potential (default 70)
    #[schema(minimum = 0, maximum = 100000)]
    pub high_threshold: i64,
    /// A score at or above this (and below high) is medium potential (default 40)
    #[schema(minimum = 0, maximum = 100000)]
    pub medium_threshold: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_score: 100,
            high_threshold: 70,
            medium_threshold: 40,
        }
    }
}

/// Changes to the settings: a field left out keeps its value.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Changes to the scoring settings; 0 ≤ medium ≤ high ≤ max_score")]
pub struct SettingsPatch {
    /// No score is above this
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, minimum = 1, maximum = 100000)]
    pub max_score: Option<i64>,
    /// A score at or above this is high potential
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, minimum = 0, maximum = 100000)]
    pub high_threshold: Option<i64>,
    /// A score at or above this is medium potential
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, minimum = 0, maximum = 100000)]
    pub medium_threshold: Option<i64>,
}

impl Settings {
    /// The tier of a score.
    pub fn tier(&self, score: i64) -> Tier {
        if score >= self.high_threshold {
            Tier::High
        } else if score >= self.medium_threshold {
            Tier::Medium
        } else {
            Tier::Low
        }
    }

    /// Applies a change (fields left out stay as they are) and checks the result.
    pub fn apply(&self, patch: SettingsPatch) -> Result<Settings, Invalid> {
        let number = |name: &str, sent: Option<i64>, current: i64| -> Result<i64, Invalid> {
            match sent {
                None => Ok(current),
                Some(n) if (0..=100_000).contains(&n) => Ok(n),
                Some(_) => Err(Invalid::new(
                    name,
                    "must be a whole number from 0 to 100000",
                )),
            }
        };
        let settings = Settings {
            max_score: number("max_score", patch.max_score, self.max_score)?,
            high_threshold: number("high_threshold", patch.high_threshold, self.high_threshold)?,
            medium_threshold: number(
                "medium_threshold",
                patch.medium_threshold,
                self.medium_threshold,
            )?,
        };
        if settings.max_score < 1 {
            return Err(Invalid::new("max_score", "must be at least 1"));
        }
        if settings.high_threshold > settings.max_score {
            return Err(Invalid::new(
                "high_threshold",
                format!("must be at most max_score ({})", settings.max_score),
            ));
        }
        if settings.medium_threshold > settings.high_threshold {
            return Err(Invalid::new(
                "medium_threshold",
                format!(
                    "must be at most high_threshold ({})",
                    settings.high_threshold
                ),
            ));
        }
        Ok(settings)
    }
}

/// A behaviour event of a lead, as scoring sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_type: EventType,
    pub name: Option<String>,
    pub url: Option<String>,
    pub occurred_at_ms: i64,
}

/// What one rule gave a lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = ScoreItem, description = "What one rule gave")]
pub struct Item {
    /// The scoring rule
    pub rule_id: i64,
    /// Its name
    pub rule_name: String,
    /// Points, negative for negative rules
    pub points: i64,
}

/// A lead's score with its tier and the rules it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    pub score: i64,
    pub tier: Tier,
    pub items: Vec<Item>,
}

/// Scores a lead (as the API shows it) with its events at `now_ms`. Inactive rules and rules
/// that give nothing are left out of the items; the total is held between 0 and the cap.
pub fn evaluate(
    rules: &[ScoringRule],
    settings: &Settings,
    lead: &Value,
    events: &[Event],
    now_ms: i64,
) -> Score {
    let items: Vec<Item> = rules
        .iter()
        .filter(|r| r.active)
        .filter_map(|rule| {
            let points = rule.points_for(lead, events, now_ms).round() as i64;
            (points != 0).then(|| Item {
                rule_id: rule.id,
                rule_name: rule.name.clone(),
                points,
            })
        })
        .collect();
    let score = items
        .iter()
        .map(|i| i.points)
        .sum::<i64>()
        .clamp(0, settings.max_score);
    Score {
        score,
        tier: settings.tier(score),
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ValueKind;
    use crate::validation::Unread;
    use serde_json::json;

    const DAY: i64 = 86_400_000;

    fn fields() -> Vec<KnownField> {
        vec![
            ("title".into(), ValueKind::Text),
            ("company_size".into(), ValueKind::Number),
            ("province".into(), ValueKind::Text),
            ("source".into(), ValueKind::Code(Vec::new())),
            ("custom.budget".into(), ValueKind::Number),
        ]
    }

    /// A rule from the JSON of a request, read and checked as the API does.
    fn parse(body: Value) -> Result<ScoringRule, Invalid> {
        ScoringRule::check(Unread::json(body).read()?, &fields())
    }

    /// Settings changed by the JSON of a request, read and checked as the API does.
    fn apply(settings: &Settings, body: Value) -> Result<Settings, Invalid> {
        settings.apply(Unread::json(body).read()?)
    }

    fn rule(id: i64, body: Value) -> ScoringRule {
        let mut r = parse(body).unwrap();
        r.id = id;
        r
    }

    fn event(t: EventType, name: Option<&str>, url: Option<&str>, at: i64) -> Event {
        Event {
            event_type: t,
            name: name.map(str::to_owned),
            url: url.map(str::to_owned),
            occurred_at_ms: at,
        }
    }

    fn rules() -> Vec<ScoringRule> {
        vec![
            rule(
                1,
                json!({"name": "总监", "kind": "fit", "points": 20,
                "conditions": [{"field": "title", "operator": "contains", "value": "总监"}]}),
            ),
            rule(
                2,
                json!({"name": "大公司", "kind": "fit", "points": 30,
                "conditions": [{"field": "company_size", "operator": "gte", "value": 500}]}),
            ),
            rule(
                3,
                json!({"name": "广东推荐", "kind": "fit", "points": 10, "conditions": [
                {"field": "province", "operator": "eq", "value": "广东"},
                {"field": "source", "operator": "eq", "value": "referral"}]}),
            ),
            rule(
                4,
                json!({"name": "白皮书", "kind": "engagement", "points": 8, "half_life_days": 30,
                "event": {"type": "download", "url": "whitepaper"}}),
            ),
            rule(
                5,
                json!({"name": "学生", "kind": "negative", "points": -25,
                "conditions": [{"field": "title", "operator": "contains", "value": "学生"}]}),
            ),
        ]
    }

    #[test]
    fn fit_rules_add_up_with_a_breakdown_and_a_tier() {
        let lead = json!({"title": "销售总监", "company_size": 800, "province": "广东省", "source": "referral"});
        let s = evaluate(&rules(), &Settings::default(), &lead, &[], 0);
        assert_eq!(s.score, 60);
        assert_eq!(s.tier, Tier::Medium);
        let ids: Vec<i64> = s.items.iter().map(|i| i.rule_id).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(s.items[1].rule_name, "大公司");
        assert_eq!(s.items[1].points, 30);
    }

    #[test]
    fn engagement_points_fade_with_their_half_life() {
        let now = 100 * DAY;
        let events = [
            event(
                EventType::Download,
                None,
                Some("https://x.cn/whitepaper.pdf"),
                now,
            ),
            event(
                EventType::Download,
                None,
                Some("https://x.cn/WhitePaper-2"),
                now - 30 * DAY,
            ),
            event(
                EventType::Download,
                None,
                Some("https://x.cn/price.pdf"),
                now,
            ),
            event(
                EventType::PageView,
                None,
                Some("https://x.cn/whitepaper"),
                now,
            ),
        ];
        let s = evaluate(&rules(), &Settings::default(), &json!({}), &events, now);
        // 8 today + 4 from a month ago; the other two do not match the filter.
        assert_eq!(
            s.items,
            vec![Item {
                rule_id: 4,
                rule_name: "白皮书".into(),
                points: 12
            }]
        );
        let later = evaluate(
            &rules(),
            &Settings::default(),
            &json!({}),
            &events,
            now + 60 * DAY,
        );
        assert_eq!(later.score, 3); // 2 + 1
        assert_eq!(decayed(8, -5 * DAY, Some(30.0)), 8.0);
        assert_eq!(decayed(8, 365 * DAY, None), 8.0);
    }

    #[test]
    fn the_score_stays_between_zero_and_the_cap() {
        let student = json!({"title": "学生"});
        let s = evaluate(&rules(), &Settings::default(), &student, &[], 0);
        assert_eq!(s.score, 0);
        assert_eq!(s.items[0].points, -25);
        assert_eq!(s.tier, Tier::Low);
        let settings = Settings {
            max_score: 40,
            high_threshold: 35,
            medium_threshold: 10,
        };
        let lead = json!({"title": "总监", "company_size": 1000});
        let s = evaluate(&rules(), &settings, &lead, &[], 0);
        assert_eq!(s.score, 40);
        assert_eq!(s.tier, Tier::High);
    }

    #[test]
    fn engagement_rules_stop_at_their_maximum_and_inactive_rules_count_nothing() {
        let mut visit = rule(
            7,
            json!({"name": "访问", "kind": "engagement", "points": 5,
            "max_points": 12, "event": {"type": "page_view"}}),
        );
        let events: Vec<Event> = (0..5)
            .map(|_| event(EventType::PageView, None, None, 0))
            .collect();
        let s = evaluate(
            std::slice::from_ref(&visit),
            &Settings::default(),
            &json!({}),
            &events,
            0,
        );
        assert_eq!(s.score, 12);
        visit.active = false;
        let s = evaluate(&[visit], &Settings::default(), &json!({}), &events, 0);
        assert_eq!(s.score, 0);
        assert!(s.items.is_empty());
    }

    #[test]
    fn event_names_match_without_case() {
        let r = rule(
            8,
            json!({"name": "展会", "kind": "engagement", "points": 15,
            "event": {"type": "event_attended", "name": "CES 2026"}}),
        );
        let yes = [event(EventType::EventAttended, Some("ces 2026"), None, 0)];
        let no = [event(EventType::EventAttended, Some("CES 2025"), None, 0)];
        assert_eq!(
            evaluate(
                std::slice::from_ref(&r),
                &Settings::default(),
                &json!({}),
                &yes,
                0
            )
            .score,
            15
        );
        assert_eq!(
            evaluate(&[r], &Settings::default(), &json!({}), &no, 0).score,
            0
        );
    }

    #[test]
    fn bad_rules_name_the_problem() {
        let err = |body: Value| parse(body).unwrap_err().field;
        assert_eq!(err(json!({"kind": "fit", "points": 1})), "name");
        assert_eq!(
            err(json!({"name": "x", "kind": "bonus", "points": 1})),
            "kind"
        );
        assert_eq!(
            err(json!({"name": "x", "kind": "fit", "points": -5,
            "conditions": [{"field": "title", "operator": "exists"}]})),
            "points"
        );
        assert_eq!(
            err(json!({"name": "x", "kind": "fit", "points": 5})),
            "conditions"
        );
        assert_eq!(
            err(json!({"name": "x", "kind": "engagement", "points": 5})),
            "event"
        );
        assert_eq!(
            err(json!({"name": "x", "kind": "engagement", "points": 5,
            "event": {"type": "tweet"}})),
            "event.type"
        );
        assert_eq!(
            err(json!({"name": "x", "kind": "negative", "points": 5,
            "conditions": [{"field": "title", "operator": "exists"}]})),
            "points"
        );
        assert_eq!(
            err(
                json!({"name": "x", "kind": "fit", "points": 5, "half_life_days": 3,
            "conditions": [{"field": "title", "operator": "exists"}]})
            ),
            "half_life_days"
        );
        assert_eq!(
            err(
                json!({"name": "x", "kind": "fit", "points": 5, "color": "red",
            "conditions": [{"field": "title", "operator": "exists"}]})
            ),
            "color"
        );
        assert_eq!(
            err(json!({"name": "x", "kind": "fit", "points": 5,
            "conditions": [{"field": "salary", "operator": "exists"}]})),
            "conditions[0].field"
        );
    }

    #[test]
    fn settings_keep_their_thresholds_in_order() {
        let s = Settings::default();
        assert_eq!(apply(&s, json!({"max_score": 200})).unwrap().max_score, 200);
        assert_eq!(
            apply(&s, json!({"high_threshold": 101})).unwrap_err().field,
            "high_threshold"
        );
        assert_eq!(
            apply(&s, json!({"medium_threshold": 80}))
                .unwrap_err()
                .field,
            "medium_threshold"
        );
        assert_eq!(
            apply(&s, json!({"max_score": -1})).unwrap_err().field,
            "max_score"
        );
        assert_eq!(apply(&s, json!({"cap": 1})).unwrap_err().field, "cap");
        assert_eq!(s.tier(70), Tier::High);
        assert_eq!(s.tier(69), Tier::Medium);
        assert_eq!(s.tier(39), Tier::Low);
    }
}
