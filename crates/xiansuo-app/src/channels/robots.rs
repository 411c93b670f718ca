//! Group robots (群机器人) of 企业微信 (WeCom), 钉钉 (DingTalk) and 飞书 (Feishu): an admin
//! points a robot's webhook URL at chosen events, optionally only for leads of one team's
//! subtree, and each matching event is posted to the group as a short message naming the lead
//! or deal and its owner, in the robot's language (Chinese by default, or English).
//!
//! Deliveries work as the webhooks' do (an outbox, see `channels::outbound`): [`fan_out`] runs
//! inside the transaction that raised the event, composes the message once and queues a
//! `robot.deliver` job; each job makes one attempt, logs it, and a failed one is tried again
//! after a backoff. A robot answers 200 even when it refuses a message, with a non-zero
//! `errcode` (WeCom, DingTalk) or `code` (Feishu) in its body: that is a failed attempt too.
//!
//! Signing happens at each attempt, since both services check that the timestamp is recent:
//! DingTalk's 加签 appends `&timestamp=<ms>&sign=<base64 HMAC-SHA256 keyed with the secret of
//! "<ms>\n<secret>">` to the URL; Feishu's 签名校验 adds `"timestamp": "<s>"` and `"sign"`, the
//! base64 HMAC-SHA256 keyed with `"<s>\n<secret>"` of nothing, to the body. WeCom robots are
//! not signed: their URL is their key.
//!
//! The app has no public base URL setting, so messages carry no link back to the record.

use crate::admin::audit;
use crate::channels::outbound::{self, Attempt, Ledger, Outcome, Step};
use crate::error::{StoreError, StoreResult};
use crate::jobs::queue::{Job, JobEnv, JobFailure};
use crate::records::rfc3339;
use crate::scope::Actor;
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, OnceLock};
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ArrayBuilder, ObjectBuilder};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::role::subtree;
use xiansuo_core::validation::Unread;
use xiansuo_core::{schema, Invalid, Text};
use xiansuo_store::{Db, Param, Row, Tx};

/// The events a robot may be told of. `opportunity.won` is an `opportunity.stage_changed`
/// into a won stage.
pub const EVENTS: &[&str] = &[
    "lead.assigned",
    "lead.sla_breached",
    "lead.recycled",
    "lead.released",
    "opportunity.won",
];

/// The event of a test message.
pub const TEST: &str = "test";

/// The languages a robot may speak.
pub const LANGUAGES: &[&str] = &["zh", "en"];

/// The log of robot deliveries.
const LEDGER: Ledger = Ledger {
    deliveries: "robot_deliveries",
    attempts: "robot_attempts",
    owner: "robot_id",
    what: "robot delivery",
};

/// Which service a robot lives in; it decides the message format and how it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = RobotKind, description = "`wecom` (企业微信), `dingtalk` (钉钉) or `feishu` (飞书)")]
pub enum Kind {
    /// 企业微信 群机器人: markdown, not signed.
    Wecom,
    /// 钉钉 自定义机器人: markdown, 加签 in the URL.
    Dingtalk,
    /// 飞书 自定义机器人: text, 签名校验 in the body.
    Feishu,
}

impl Kind {
    /// Every kind, in the order forms list them.
    pub const ALL: [Kind; 3] = [Kind::Wecom, Kind::Dingtalk, Kind::Feishu];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Wecom => "wecom",
            Kind::Dingtalk => "dingtalk",
            Kind::Feishu => "feishu",
        }
    }

    fn parse(code: &str) -> Result<Kind, Invalid> {
        Kind::ALL
            .into_iter()
            .find(|k| k.code() == code.trim())
            .ok_or_else(|| Invalid::new("kind", "must be wecom, dingtalk or feishu"))
    }
}

/// A robot as the API shows it; its secret is never shown, only whether it has one.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A group robot; its secret is not shown")]
pub struct Robot {
    /// Unique id
    pub id: i64,
    /// What admins call it
    pub name: String,
    pub kind: Kind,
    /// The robot's webhook address
    pub webhook_url: String,
    /// Whether it has a secret (DingTalk 加签, Feishu 签名校验)
    pub signed: bool,
    #[schema(schema_with = events_schema)]
    pub events: Vec<String>,
    /// Only records whose owner is in this team's subtree
    #[schema(required = true)]
    pub team_id: Option<i64>,
    #[schema(schema_with = language_schema)]
    pub language: String,
    /// Whether events are posted
    pub active: bool,
    /// The admin who created it
    #[schema(required = true)]
    pub created_by: Option<i64>,
    /// Created
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last changed
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Every robot, oldest first: there are few, so the list is whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct RobotList {
    /// The robots
    pub items: Vec<Robot>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A new robot as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A new robot")]
pub struct NewRobot {
    #[schema(schema_with = name_schema)]
    pub name: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    #[schema(schema_with = url_schema)]
    pub webhook_url: String,
    #[schema(schema_with = secret_schema)]
    pub secret: Option<String>,
    #[schema(schema_with = events_schema)]
    pub events: Vec<String>,
    /// Only records whose owner is in this team's subtree; null for all
    #[schema(minimum = 1)]
    pub team_id: Option<i64>,
    #[schema(schema_with = new_language_schema)]
    pub language: Option<String>,
    /// Post events; null or left out: true
    pub active: Option<bool>,
}

/// A robot's fields as a change sends them; a field left out, or null, keeps its value (the
/// secret and the team are set to null by null).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RobotPatch, description = "The fields to change")]
pub struct RobotInput {
    #[schema(schema_with = changed_name_schema)]
    pub name: Option<String>,
    #[schema(schema_with = changed_kind_schema)]
    pub kind: Option<String>,
    #[schema(schema_with = changed_url_schema)]
    pub webhook_url: Option<String>,
    /// DingTalk's 加签 or Feishu's 签名校验 secret; `null` or empty for none.
    #[serde(default, deserialize_with = "xiansuo_core::validation::present")]
    #[schema(schema_with = secret_schema)]
    pub secret: Option<Option<String>>,
    #[schema(schema_with = changed_events_schema)]
    pub events: Option<Vec<String>>,
    /// Only records whose owner is in this team's subtree; null for all
    #[serde(default, deserialize_with = "xiansuo_core::validation::present")]
    #[schema(minimum = 1)]
    pub team_id: Option<Option<i64>>,
    #[schema(schema_with = changed_language_schema)]
    pub language: Option<String>,
    /// Post events; null keeps it
    pub active: Option<bool>,
}

impl From<NewRobot> for RobotInput {
    fn from(new: NewRobot) -> Self {
        RobotInput {
            name: Some(new.name),
            kind: Some(new.kind),
            webhook_url: Some(new.webhook_url),
            secret: Some(new.secret),
            events: Some(new.events),
            team_id: Some(new.team_id),
            language: new.language,
            active: new.active,
        }
    }
}

fn name_schema() -> ObjectBuilder {
    schema::text(false, true, 100, "What admins call it")
}

fn changed_name_schema() -> ObjectBuilder {
    schema::text(true, true, 100, "What admins call it; null keeps it")
}

fn kinds(nullable: bool) -> ObjectBuilder {
    schema::codes(
        Kind::ALL.iter().map(|k| k.code()),
        nullable,
        "`wecom` (企业微信), `dingtalk` (钉钉) or `feishu` (飞书)",
    )
}

fn kind_schema() -> ObjectBuilder {
    kinds(false)
}

fn changed_kind_schema() -> ObjectBuilder {
    kinds(true)
}

fn url_schema() -> ObjectBuilder {
    schema::web_url("An http:// or https:// URL")
}

fn changed_url_schema() -> ObjectBuilder {
    schema::web_url("An http:// or https:// URL; null keeps it")
        .schema_type(schema::typed(Type::String, true))
}

fn secret_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        200,
        "DingTalk's 加签 or Feishu's 签名校验 secret; null or empty for none. WeCom robots take none.",
    )
}

fn event_list(nullable: bool) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(schema::codes(
            EVENTS.iter().copied(),
            false,
            "An event; `opportunity.won` is a deal moved into a won stage",
        ))
        .schema_type(schema::typed(Type::Array, nullable))
        .min_items(Some(1))
        .description(Some("The events the robot posts"))
}

fn events_schema() -> ArrayBuilder {
    event_list(false)
}

fn changed_events_schema() -> ArrayBuilder {
    event_list(true)
}

fn language_schema() -> ObjectBuilder {
    schema::codes(
        LANGUAGES.iter().copied(),
        false,
        "The language of its messages",
    )
}

fn new_language_schema() -> ObjectBuilder {
    schema::codes(
        LANGUAGES.iter().copied(),
        true,
        "The language of its messages; null or left out: zh",
    )
}

fn changed_language_schema() -> ObjectBuilder {
    schema::codes(
        LANGUAGES.iter().copied(),
        true,
        "The language of its messages; null keeps it",
    )
}

/// A robot's settings, checked.
struct Settings {
    name: String,
    kind: Kind,
    webhook_url: String,
    secret: Option<String>,
    events: Vec<String>,
    team_id: Option<i64>,
    language: String,
    active: bool,
}

impl Settings {
    /// The values of `name, kind, webhook_url, secret, events, team_id, language, active`.
    fn params(self) -> anyhow::Result<Vec<Param>> {
        Ok(vec![
            Param::from(self.name),
            Param::from(self.kind.code()),
            Param::from(self.webhook_url),
            Param::from(self.secret),
            Param::from(serde_json::to_string(&self.events)?),
            Param::from(self.team_id),
            Param::from(self.language),
            Param::Int(i64::from(self.active)),
        ])
    }
}

/// `input` over `current` (nothing, for a new robot), checked as a whole.
fn merge(current: Option<Settings>, input: RobotInput) -> Result<Settings, Invalid> {
    let required = |field: &str| Invalid::new(field, "is required");
    let name = match input.name {
        Some(name) => Text::parse("name", &name, 100)?.into_string(),
        None => current
            .as_ref()
            .map(|c| c.name.clone())
            .ok_or_else(|| required("name"))?,
    };
    let kind = match input.kind {
        Some(kind) => Kind::parse(&kind)?,
        None => current
            .as_ref()
            .map(|c| c.kind)
            .ok_or_else(|| required("kind"))?,
    };
    let webhook_url = match input.webhook_url {
        Some(url) => outbound::parse_url("webhook_url", &url)?,
        None => current
            .as_ref()
            .map(|c| c.webhook_url.clone())
            .ok_or_else(|| required("webhook_url"))?,
    };
    let secret = match input.secret {
        Some(secret) => {
            let secret = secret
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
            if let Some(secret) = &secret {
                if kind == Kind::Wecom {
                    return Err(Invalid::new(
                        "secret",
                        "WeCom robots are not signed: leave the secret empty",
                    ));
                }
                if secret.chars().count() > 200 || secret.chars().any(char::is_control) {
                    return Err(Invalid::new(
                        "secret",
                        "must be at most 200 characters without control characters",
                    ));
                }
            }
            secret
        }
        // A robot that became a WeCom one drops the secret it no longer uses.
        None => current
            .as_ref()
            .and_then(|c| c.secret.clone())
            .filter(|_| kind != Kind::Wecom),
    };
    let events = match input.events {
        Some(events) => parse_events(&events)?,
        None => current
            .as_ref()
            .map(|c| c.events.clone())
            .ok_or_else(|| required("events"))?,
    };
    let team_id = match input.team_id {
        Some(team) => team,
        None => current.as_ref().and_then(|c| c.team_id),
    };
    let language = match input.language {
        Some(language) if LANGUAGES.contains(&language.as_str()) => language,
        Some(_) => return Err(Invalid::new("language", "must be zh or en")),
        None => current
            .as_ref()
            .map_or_else(|| "zh".to_owned(), |c| c.language.clone()),
    };
    let active = input
        .active
        .or(current.as_ref().map(|c| c.active))
        .unwrap_or(true);
    Ok(Settings {
        name,
        kind,
        webhook_url,
        secret,
        events,
        team_id,
        language,
        active,
    })
}

fn parse_events(list: &[String]) -> Result<Vec<String>, Invalid> {
    let accepted = || EVENTS.join(", ");
    if list.is_empty() {
        return Err(Invalid::new(
            "events",
            format!("must name at least one event: {}", accepted()),
        ));
    }
    let mut events: Vec<String> = Vec::with_capacity(list.len());
    for event in list {
        if !EVENTS.contains(&event.as_str()) {
            return Err(Invalid::new(
                "events",
                format!(
                    "{event} is not an event of robots; accepted: {}",
                    accepted()
                ),
            ));
        }
        if !events.contains(event) {
            events.push(event.clone());
        }
    }
    Ok(events)
}

async fn check_team(db: &Db, team: Option<i64>) -> StoreResult<()> {
    let Some(team) = team else {
        return Ok(());
    };
    db.fetch_optional(
        "SELECT id FROM teams WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(team)],
    )
    .await?
    .map(|_| ())
    .ok_or_else(|| Invalid::new("team_id", format!("no team has id {team}")).into())
}

const ROBOT_COLUMNS: &str = "id, name, kind, webhook_url, secret, events, team_id, language, \
     active, created_by, created_at, updated_at";

fn events_of(row: &Row) -> Vec<String> {
    serde_json::from_str(&row.text("events")).unwrap_or_default()
}

fn kind_of(row: &Row) -> Kind {
    Kind::parse(&row.text("kind")).unwrap_or(Kind::Wecom)
}

fn robot_of(row: &Row) -> Robot {
    Robot {
        id: row.int("id"),
        name: row.text("name"),
        kind: kind_of(row),
        webhook_url: row.text("webhook_url"),
        signed: row.opt_text("secret").is_some(),
        events: events_of(row),
        team_id: row.opt_int("team_id"),
        language: row.text("language"),
        active: row.int("active") == 1,
        created_by: row.opt_int("created_by"),
        created_at: rfc3339(row.int("created_at")),
        updated_at: rfc3339(row.int("updated_at")),
    }
}

fn settings_of(row: &Row) -> Settings {
    Settings {
        name: row.text("name"),
        kind: kind_of(row),
        webhook_url: row.text("webhook_url"),
        secret: row.opt_text("secret"),
        events: events_of(row),
        team_id: row.opt_int("team_id"),
        language: row.text("language"),
        active: row.int("active") == 1,
    }
}

async fn row_of(db: &Db, id: i64) -> StoreResult<Row> {
    db.fetch_optional(
        &format!("SELECT {ROBOT_COLUMNS} FROM robots WHERE id = ?"),
        &[Param::Int(id)],
    )
    .await?
    .ok_or(StoreError::NotFound("robot"))
}

/// Every robot, oldest first.
pub async fn list(db: &Db, actor: &Actor) -> StoreResult<RobotList> {
    actor.require_admin("manage robots")?;
    let items = db
        .fetch_all(
            &format!("SELECT {ROBOT_COLUMNS} FROM robots ORDER BY id"),
            &[],
        )
        .await?
        .iter()
        .map(robot_of)
        .collect();
    Ok(RobotList {
        items,
        next_cursor: None,
    })
}

/// One robot.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> StoreResult<Robot> {
    actor.require_admin("manage robots")?;
    Ok(robot_of(&row_of(db, id).await?))
}

/// Adds a robot; `name`, `kind`, `webhook_url` and `events` are required.
pub async fn create(
    db: &Db,
    actor: &Actor,
    new: Unread<NewRobot>,
    now: DateTime<Utc>,
) -> StoreResult<Robot> {
    actor.require_admin("manage robots")?;
    let robot = merge(None, new.read()?.into())?;
    check_team(db, robot.team_id).await?;
    let at = now;
    let now = to_millis(now);
    let mut tx = db.begin().await?;
    let id = tx
        .insert_returning_id(
            "INSERT INTO robots (name, kind, webhook_url, secret, events, team_id, language, active, created_by, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                robot.params()?,
                vec![
                    Param::Int(actor.user_id),
                    Param::Int(now),
                    Param::Int(now),
                ],
            ]
            .concat(),
        )
        .await?;
    audit::created(&mut tx, Some(actor), at, audit::Setting::Robot, id).await?;
    tx.commit().await?;
    get(db, actor, id).await
}

/// Changes the fields sent.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: Unread<RobotInput>,
    now: DateTime<Utc>,
) -> StoreResult<Robot> {
    actor.require_admin("manage robots")?;
    let input = input.read()?;
    let current = settings_of(&row_of(db, id).await?);
    let robot = merge(Some(current), input)?;
    check_team(db, robot.team_id).await?;
    let mut tx = db.begin().await?;
    let before = audit::Before::take(&mut tx, audit::Setting::Robot, id).await?;
    let changed = tx
        .execute(
            "UPDATE robots SET name = ?, kind = ?, webhook_url = ?, secret = ?, events = ?, team_id = ?, \
             language = ?, active = ?, updated_at = ? WHERE id = ?",
            &[robot.params()?, vec![Param::Int(to_millis(now)), Param::Int(id)]].concat(),
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound("robot"));
    }
    before
        .record(&mut tx, Some(actor), now, audit::Action::Update)
        .await?;
    tx.commit().await?;
    get(db, actor, id).await
}

/// Deletes a robot with its delivery log; queued attempts find nothing and stop.
pub async fn delete(db: &Db, actor: &Actor, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    actor.require_admin("manage robots")?;
    let mut tx = db.begin().await?;
    let before = audit::Before::take(&mut tx, audit::Setting::Robot, id).await?;
    let deleted = tx
        .execute("DELETE FROM robots WHERE id = ?", &[Param::Int(id)])
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound("robot"));
    }
    before
        .record(&mut tx, Some(actor), now, audit::Action::Delete)
        .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Messages

/// What a message says, before it takes a service's format.
struct Message {
    title: String,
    lines: Vec<String>,
}

impl Message {
    /// The JSON a robot of `kind` takes.
    fn body(&self, kind: Kind) -> Value {
        match kind {
            Kind::Wecom => json!({
                "msgtype": "markdown",
                "markdown": {"content": format!("**{}**\n{}", self.title, self.lines.join("\n"))},
            }),
            Kind::Dingtalk => json!({
                "msgtype": "markdown",
                "markdown": {
                    "title": self.title,
                    "text": format!("#### {}\n\n{}", self.title, self.lines.join("\n\n")),
                },
            }),
            Kind::Feishu => json!({
                "msg_type": "text",
                "content": {"text": format!("{}\n{}", self.title, self.lines.join("\n"))},
            }),
        }
    }
}

/// What a message names, read once per event in the transaction that raised it.
struct Facts {
    /// The lead's or the deal's name.
    name: String,
    company: Option<String>,
    /// The owner, or for a lead put into a pool the one who held it.
    owner: Option<i64>,
    owner_name: Option<String>,
    pool: Option<String>,
    amount_cents: Option<i64>,
}

async fn facts(tx: &mut Tx, event: &str, data: &Value) -> anyhow::Result<Facts> {
    let id = data["id"].as_i64().unwrap_or_default();
    let mut facts = Facts {
        name: data["name"].as_str().unwrap_or_default().to_owned(),
        company: data["company"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        owner: data["owner_id"].as_i64(),
        owner_name: None,
        pool: None,
        amount_cents: None,
    };
    if matches!(event, "lead.recycled" | "lead.released") {
        if let Some(moved) = tx
            .fetch_optional(
                "SELECT m.user_id, p.name FROM pool_moves m JOIN pools p ON p.id = m.pool_id \
                 WHERE m.lead_id = ? ORDER BY m.id DESC LIMIT 1",
                &[Param::Int(id)],
            )
            .await?
        {
            facts.owner = moved.opt_int("user_id");
            facts.pool = moved.opt_text("name");
        }
    }
    if event == "opportunity.won" {
        facts.amount_cents = tx
            .fetch_optional(
                "SELECT amount_cents FROM opportunities WHERE id = ?",
                &[Param::Int(id)],
            )
            .await?
            .and_then(|r| r.opt_int("amount_cents"));
    }
    if let Some(owner) = facts.owner {
        facts.owner_name = tx
            .fetch_optional(
                "SELECT COALESCE(display_name, username) AS name FROM users WHERE id = ?",
                &[Param::Int(owner)],
            )
            .await?
            .map(|r| r.text("name"));
    }
    Ok(facts)
}

/// `¥12,345.60` from cents.
fn money(cents: i64) -> String {
    let yuan = (cents / 100).abs().to_string();
    let mut grouped = String::new();
    for (i, digit) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}¥{grouped}.{:02}", (cents % 100).abs())
}

/// The message of `event` in `language` (`zh` or `en`).
fn compose(event: &str, facts: &Facts, language: &str) -> Message {
    let en = language == "en";
    let pick = |zh: &str, english: &str| if en { english } else { zh }.to_owned();
    let owner = facts
        .owner_name
        .clone()
        .unwrap_or_else(|| pick("未分配", "unassigned"));
    let mut lead = if en {
        format!("Lead: {}", facts.name)
    } else {
        format!("线索：{}", facts.name)
    };
    if let Some(company) = &facts.company {
        lead.push_str(&if en {
            format!(" ({company})")
        } else {
            format!("（{company}）")
        });
    }
    let owner_line = |label_zh: &str, label_en: &str| {
        if en {
            format!("{label_en}: {owner}")
        } else {
            format!("{label_zh}：{owner}")
        }
    };
    let pool_line = facts.pool.as_ref().map(|pool| {
        if en {
            format!("Pool: {pool}")
        } else {
            format!("公海：{pool}")
        }
    });
    let (title, lines) = match event {
        "lead.assigned" => (
            pick("新线索分配", "New lead assigned"),
            vec![lead, owner_line("负责人", "Owner")],
        ),
        "lead.sla_breached" => (
            pick("线索超时未跟进", "Lead not contacted in time"),
            vec![lead, owner_line("负责人", "Owner")],
        ),
        "lead.recycled" | "lead.released" => {
            let title = if event == "lead.recycled" {
                pick("线索已回收到公海", "Lead recycled to the pool")
            } else {
                pick("线索已退回公海", "Lead released to the pool")
            };
            let mut lines = vec![lead, owner_line("原负责人", "Previous owner")];
            lines.extend(pool_line);
            (title, lines)
        }
        "opportunity.won" => {
            let mut lines = vec![if en {
                format!("Deal: {}", facts.name)
            } else {
                format!("销售机会：{}", facts.name)
            }];
            if let Some(cents) = facts.amount_cents {
                lines.push(if en {
                    format!("Amount: {}", money(cents))
                } else {
                    format!("金额：{}", money(cents))
                });
            }
            lines.push(owner_line("负责人", "Owner"));
            (pick("赢单啦", "Deal won"), lines)
        }
        _ => (
            pick("测试消息", "Test message"),
            vec![if en {
                format!("Robot \"{}\" is connected to Xiansuo.", facts.name)
            } else {
                format!("机器人「{}」已接通线索 Xiansuo。", facts.name)
            }],
        ),
    };
    Message { title, lines }
}

// ---------------------------------------------------------------------------------------------
// Fan-out and delivery

/// An active robot as [`fan_out`] reads them once per transaction.
struct Subscriber {
    id: i64,
    kind: Kind,
    events: Vec<String>,
    team: Option<i64>,
    language: String,
}

/// The robot event a domain event is, if robots hear of it.
fn robot_event<'e>(event: &'e str, data: &Value) -> Option<&'e str> {
    match event {
        "opportunity.stage_changed" if data["result"] == "won" => Some("opportunity.won"),
        "opportunity.won" => None,
        other => EVENTS.contains(&other).then_some(other),
    }
}

/// Whether `owner` is in `team`'s subtree.
async fn in_team(tx: &mut Tx, owner: Option<i64>, team: i64) -> anyhow::Result<bool> {
    let Some(owner) = owner else {
        return Ok(false);
    };
    let Some(owners_team) = tx
        .fetch_optional(
            "SELECT team_id FROM users WHERE id = ?",
            &[Param::Int(owner)],
        )
        .await?
        .and_then(|r| r.opt_int("team_id"))
    else {
        return Ok(false);
    };
    let tree: Vec<(i64, Option<i64>)> = tx
        .fetch_all(
            "SELECT id, parent_id FROM teams WHERE deleted_at IS NULL",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.int("id"), r.opt_int("parent_id")))
        .collect();
    Ok(subtree(&tree, team).contains(&owners_team))
}

/// Queues a message about `event` to every active robot that wants it, in the transaction
/// that raised the event. A robot with a team hears only of records whose owner (or, for a
/// lead put into a pool, the one who held it) is in that team's subtree.
pub async fn fan_out(tx: &mut Tx, event: &str, data: &Value, now_ms: i64) -> anyhow::Result<()> {
    let Some(event) = robot_event(event, data) else {
        return Ok(());
    };
    let robots = match tx.memo::<Arc<[Subscriber]>>() {
        Some(known) => known.clone(),
        None => {
            let read: Arc<[Subscriber]> = tx
                .fetch_all(
                    "SELECT id, kind, events, team_id, language FROM robots WHERE active = 1 ORDER BY id",
                    &[],
                )
                .await?
                .iter()
                .map(|r| Subscriber {
                    id: r.int("id"),
                    kind: kind_of(r),
                    events: events_of(r),
                    team: r.opt_int("team_id"),
                    language: r.text("language"),
                })
                .collect();
            tx.remember(read.clone());
            read
        }
    };
    let wanting: Vec<&Subscriber> = robots
        .iter()
        .filter(|r| r.events.iter().any(|e| e == event))
        .collect();
    if wanting.is_empty() {
        return Ok(());
    }
    let facts = facts(tx, event, data).await?;
    let event_id = outbound::new_event_id();
    for robot in wanting {
        if let Some(team) = robot.team {
            if !in_team(tx, facts.owner, team).await? {
                continue;
            }
        }
        let body = compose(event, &facts, &robot.language)
            .body(robot.kind)
            .to_string();
        let delivery = LEDGER
            .insert(tx, robot.id, event, &event_id, &body, now_ms)
            .await?;
        outbound::queue_attempt::<Deliver>(tx, delivery, 1, now_ms).await?;
    }
    Ok(())
}

/// The job that makes one delivery attempt to a robot (`robot.deliver`).
pub struct Deliver;

#[async_trait]
impl Job for Deliver {
    const KIND: &'static str = "robot.deliver";
    type Payload = Attempt;

    async fn run(
        &self,
        db: &Db,
        env: &JobEnv,
        attempt: Attempt,
        at: DateTime<Utc>,
    ) -> Result<(), JobFailure> {
        deliver_job(db, env, &attempt, at).await
    }
}

/// A delivery with what attempts need.
struct Pending {
    id: i64,
    event: String,
    body: String,
    state: String,
    attempts: i64,
    kind: Kind,
    url: String,
    secret: Option<String>,
    active: bool,
}

async fn pending(db: &Db, delivery: i64) -> anyhow::Result<Option<Pending>> {
    Ok(db
        .fetch_optional(
            "SELECT d.id, d.event, d.body, d.state, d.attempts, r.kind, r.webhook_url, r.secret, r.active \
             FROM robot_deliveries d JOIN robots r ON r.id = d.robot_id WHERE d.id = ?",
            &[Param::Int(delivery)],
        )
        .await?
        .map(|r| Pending {
            id: r.int("id"),
            event: r.text("event"),
            body: r.text("body"),
            state: r.text("state"),
            attempts: r.int("attempts"),
            kind: kind_of(&r),
            url: r.text("webhook_url"),
            secret: r.opt_text("secret"),
            active: r.int("active") == 1,
        }))
}

/// Base64 of the HMAC-SHA256 of `message` keyed with `key`.
fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// DingTalk's 加签: the URL with `timestamp` (ms) and `sign` appended.
fn dingtalk_url(url: &str, secret: &str, at: DateTime<Utc>) -> String {
    let timestamp = at.timestamp_millis();
    let sign = hmac_base64(
        secret.as_bytes(),
        format!("{timestamp}\n{secret}").as_bytes(),
    );
    // Base64 needs only these three escaped in a query string.
    let sign = sign
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let joint = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joint}timestamp={timestamp}&sign={sign}")
}

/// Feishu's 签名校验: the body with `timestamp` (s, as a string) and `sign` added.
fn feishu_body(body: &str, secret: &str, at: DateTime<Utc>) -> String {
    let timestamp = at.timestamp();
    let sign = hmac_base64(format!("{timestamp}\n{secret}").as_bytes(), b"");
    let mut value: Value = serde_json::from_str(body).unwrap_or_else(|_| json!({}));
    value["timestamp"] = json!(timestamp.to_string());
    value["sign"] = json!(sign);
    value.to_string()
}

/// The robot's verdict in a 2xx answer: `errcode` (WeCom, DingTalk) or `code` (Feishu), with
/// its message, when it is not 0.
fn refusal(kind: Kind, response: &str) -> Option<String> {
    let answer: Value = serde_json::from_str(response).ok()?;
    let (code, message) = match kind {
        Kind::Wecom | Kind::Dingtalk => ("errcode", "errmsg"),
        Kind::Feishu => ("code", "msg"),
    };
    let value = answer[code].as_i64().filter(|&c| c != 0)?;
    Some(format!(
        "{code} {value}: {}",
        answer[message].as_str().unwrap_or_default()
    ))
}

/// Signs and sends one attempt, and judges the answer.
async fn send(http: &reqwest::Client, delivery: &Pending, at: DateTime<Utc>) -> Outcome {
    let (url, body) = match (delivery.kind, delivery.secret.as_deref()) {
        (Kind::Dingtalk, Some(secret)) => (
            dingtalk_url(&delivery.url, secret, at),
            delivery.body.clone(),
        ),
        (Kind::Feishu, Some(secret)) => (
            delivery.url.clone(),
            feishu_body(&delivery.body, secret, at),
        ),
        _ => (delivery.url.clone(), delivery.body.clone()),
    };
    let mut outcome = outbound::post(http, &url, &[], &body).await;
    if outcome.succeeded() {
        if let Some(reason) = outcome
            .response
            .as_deref()
            .and_then(|r| refusal(delivery.kind, r))
        {
            outcome.refuse(reason);
        }
    }
    outcome
}

/// Records an attempt and queues the next one if it failed and attempts are left. Test
/// messages are never retried.
async fn record_attempt(
    db: &Db,
    delivery: &Pending,
    attempt: i64,
    outcome: &Outcome,
    at_ms: i64,
) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let step = LEDGER
        .record(
            &mut tx,
            delivery.id,
            attempt,
            outcome,
            delivery.event != TEST,
            at_ms,
        )
        .await?;
    if let Step::Retry { at_ms: next_at } = step {
        outbound::queue_attempt::<Deliver>(&mut tx, delivery.id, attempt + 1, next_at).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The `robot.deliver` job: one attempt of one delivery. A job for an attempt that was made
/// already, or for a delivery that is gone, does nothing.
async fn deliver_job(
    db: &Db,
    env: &JobEnv,
    job: &Attempt,
    at: DateTime<Utc>,
) -> Result<(), JobFailure> {
    let Some(delivery) = pending(db, job.delivery_id).await? else {
        return Ok(());
    };
    if delivery.state != "pending" || delivery.attempts != job.attempt - 1 {
        return Ok(());
    }
    let at_ms = to_millis(at);
    if !delivery.active {
        LEDGER
            .give_up(
                db,
                delivery.id,
                "not sent: the robot is switched off",
                at_ms,
            )
            .await?;
        return Ok(());
    }
    let outcome = send(&env.http, &delivery, at).await;
    record_attempt(db, &delivery, job.attempt, &outcome, at_ms).await?;
    Ok(())
}

/// Sends a test message to a robot now, whether it is on or off, and answers with the
/// delivery and its outcome. Tests are logged but never retried.
pub async fn test(db: &Db, actor: &Actor, id: i64, now: DateTime<Utc>) -> StoreResult<Value> {
    actor.require_admin("manage robots")?;
    static HTTP: OnceLock<reqwest::Client> = OnceLock::new();
    let robot = get(db, actor, id).await?;
    let facts = Facts {
        name: robot.name.clone(),
        company: None,
        owner: None,
        owner_name: None,
        pool: None,
        amount_cents: None,
    };
    let body = compose(TEST, &facts, &robot.language)
        .body(robot.kind)
        .to_string();
    let now_ms = to_millis(now);
    let mut tx = db.begin().await?;
    let delivery = LEDGER
        .insert(&mut tx, id, TEST, &outbound::new_event_id(), &body, now_ms)
        .await?;
    tx.commit().await?;
    let delivery = pending(db, delivery)
        .await?
        .ok_or(StoreError::NotFound("robot"))?;
    let outcome = send(HTTP.get_or_init(reqwest::Client::new), &delivery, now).await;
    record_attempt(db, &delivery, 1, &outcome, now_ms).await?;
    LEDGER.by_id(db, delivery.id).await
}

/// Sends a finished delivery again: one more attempt, queued for the next run of jobs. A
/// delivery still being retried cannot be; nor one of a robot that is switched off.
pub async fn redeliver(
    db: &Db,
    actor: &Actor,
    delivery: i64,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    actor.require_admin("manage robots")?;
    let found = pending(db, delivery)
        .await?
        .ok_or(StoreError::NotFound("robot delivery"))?;
    if !found.active && found.state != "pending" {
        return Err(StoreError::Conflict(
            "the robot is switched off: switch it on first".into(),
        ));
    }
    LEDGER
        .send_again::<Deliver>(db, delivery, &found.state, found.attempts, to_millis(now))
        .await
}

/// A robot's delivery log, newest first (`?limit=`, `?cursor=`, `?state=`, `?event=` as for
/// webhooks).
pub async fn deliveries(
    db: &Db,
    actor: &Actor,
    robot: i64,
    query: &[(String, String)],
) -> StoreResult<Value> {
    get(db, actor, robot).await?;
    LEDGER.page(db, robot, query).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn input(body: Value) -> RobotInput {
        serde_json::from_value(body).expect("a robot input")
    }

    #[test]
    fn a_new_robot_needs_its_fields_and_a_wecom_one_takes_no_secret() {
        let ok = merge(
            None,
            input(json!({"name": "销售群", "kind": "dingtalk", "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=x", "events": ["lead.assigned"], "secret": "SECabc"})),
        )
        .unwrap();
        assert_eq!(ok.language, "zh");
        assert!(ok.active);
        for (body, field) in [
            (
                json!({"kind": "wecom", "webhook_url": "https://x.cn", "events": ["lead.assigned"]}),
                "name",
            ),
            (
                json!({"name": "a", "kind": "slack", "webhook_url": "https://x.cn", "events": ["lead.assigned"]}),
                "kind",
            ),
            (
                json!({"name": "a", "kind": "wecom", "webhook_url": "ftp://x.cn", "events": ["lead.assigned"]}),
                "webhook_url",
            ),
            (
                json!({"name": "a", "kind": "wecom", "webhook_url": "https://x.cn", "events": ["lead.exploded"]}),
                "events",
            ),
            (
                json!({"name": "a", "kind": "wecom", "webhook_url": "https://x.cn", "events": []}),
                "events",
            ),
            (
                json!({"name": "a", "kind": "wecom", "webhook_url": "https://x.cn", "events": ["lead.assigned"], "secret": "SEC1"}),
                "secret",
            ),
            (
                json!({"name": "a", "kind": "wecom", "webhook_url": "https://x.cn", "events": ["lead.assigned"], "language": "fr"}),
                "language",
            ),
        ] {
            assert_eq!(
                merge(None, input(body.clone())).err().unwrap().field,
                field,
                "{body}"
            );
        }
        assert!(serde_json::from_value::<RobotInput>(json!({"colour": "red"})).is_err());
    }

    #[test]
    fn turning_a_signed_robot_into_a_wecom_one_drops_its_secret() {
        let signed = merge(
            None,
            input(json!({"name": "a", "kind": "feishu", "webhook_url": "https://x.cn", "events": ["lead.assigned"], "secret": "s"})),
        )
        .unwrap();
        let wecom = merge(Some(signed), input(json!({"kind": "wecom"}))).unwrap();
        assert_eq!(wecom.secret, None);
    }

    #[test]
    fn a_won_stage_change_is_a_won_deal() {
        assert_eq!(
            robot_event("opportunity.stage_changed", &json!({"result": "won"})),
            Some("opportunity.won")
        );
        assert_eq!(
            robot_event("opportunity.stage_changed", &json!({"result": "open"})),
            None
        );
        assert_eq!(
            robot_event("lead.assigned", &json!({})),
            Some("lead.assigned")
        );
        assert_eq!(robot_event("lead.created", &json!({})), None);
    }

    #[test]
    fn signatures_follow_the_services_recipes() {
        let at = Utc.timestamp_millis_opt(1_700_000_000_123).unwrap();
        let url = dingtalk_url(
            "https://oapi.dingtalk.com/robot/send?access_token=t",
            "SECx",
            at,
        );
        let sign = hmac_base64(b"SECx", b"1700000000123\nSECx")
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        assert_eq!(
            url,
            format!("https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000123&sign={sign}")
        );
        let body: Value =
            serde_json::from_str(&feishu_body(r#"{"msg_type":"text"}"#, "k", at)).unwrap();
        assert_eq!(body["timestamp"], "1700000000");
        assert_eq!(body["sign"], hmac_base64(b"1700000000\nk", b""));
        assert_eq!(body["msg_type"], "text");
    }

    #[test]
    fn a_non_zero_code_in_the_answer_is_a_refusal() {
        assert_eq!(
            refusal(
                Kind::Dingtalk,
                r#"{"errcode":310000,"errmsg":"sign not match"}"#
            )
            .as_deref(),
            Some("errcode 310000: sign not match")
        );
        assert_eq!(refusal(Kind::Wecom, r#"{"errcode":0,"errmsg":"ok"}"#), None);
        assert_eq!(
            refusal(Kind::Feishu, r#"{"code":19021,"msg":"sign match fail"}"#).as_deref(),
            Some("code 19021: sign match fail")
        );
        assert_eq!(refusal(Kind::Feishu, "ok"), None);
    }

    #[test]
    fn amounts_are_grouped_yuan() {
        assert_eq!(money(1_234_560), "¥12,345.60");
        assert_eq!(money(5), "¥0.05");
        assert_eq!(money(100_000_000), "¥1,000,000.00");
    }
}
