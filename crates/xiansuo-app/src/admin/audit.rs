//! The audit log of settings and the login history. Every use case that changes a setting
//! (users, teams, tokens, fields, stages, rules, pools, forms, webhooks, …) reads the record
//! with [`Before::take`] in its transaction before changing it and writes the entry with
//! [`Before::record`], which reads it again: who, when, which record, what was done, and the
//! record before and after as JSON (secrets only as fingerprints). A change made by one
//! statement uses [`Edit::execute`] or [`insert`], which do all of that. Sign-ins with a
//! password, successful or not, go to the login history ([`record_login`]).

use crate::error::StoreResult;
use crate::records::json::rfc3339;
use crate::scope::Actor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::clock::{parse_bound, to_millis};
use xiansuo_core::schema;
use xiansuo_core::Invalid;
use xiansuo_store::{Cell, Db, DecodeError, Param, Row, Tx};

/// The kinds of settings records the audit log knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    User,
    Team,
    ApiToken,
    CustomField,
    PipelineStage,
    QualificationChecklist,
    ScoringRule,
    ScoringSettings,
    AssignmentRule,
    AssignmentOrder,
    AssignmentSettings,
    Availability,
    Pool,
    RecycleRule,
    SlaRule,
    WorkingHours,
    WebForm,
    Webhook,
    Robot,
    DedupPolicies,
    Choice,
    ReportCost,
    ReportTarget,
    PredictionSchedule,
}

impl Setting {
    pub const ALL: [Setting; 24] = [
        Setting::User,
        Setting::Team,
        Setting::ApiToken,
        Setting::CustomField,
        Setting::PipelineStage,
        Setting::QualificationChecklist,
        Setting::ScoringRule,
        Setting::ScoringSettings,
        Setting::AssignmentRule,
        Setting::AssignmentOrder,
        Setting::AssignmentSettings,
        Setting::Availability,
        Setting::Pool,
        Setting::RecycleRule,
        Setting::SlaRule,
        Setting::WorkingHours,
        Setting::WebForm,
        Setting::Webhook,
        Setting::Robot,
        Setting::DedupPolicies,
        Setting::Choice,
        Setting::ReportCost,
        Setting::ReportTarget,
        Setting::PredictionSchedule,
    ];

    /// The code stored in the log and used by the API's `kind` filter.
    pub fn code(self) -> &'static str {
        match self {
            Setting::User => "user",
            Setting::Team => "team",
            Setting::ApiToken => "api_token",
            Setting::CustomField => "custom_field",
            Setting::PipelineStage => "pipeline_stage",
            Setting::QualificationChecklist => "qualification_checklist",
            Setting::ScoringRule => "scoring_rule",
            Setting::ScoringSettings => "scoring_settings",
            Setting::AssignmentRule => "assignment_rule",
            Setting::AssignmentOrder => "assignment_order",
            Setting::AssignmentSettings => "assignment_settings",
            Setting::Availability => "availability",
            Setting::Pool => "pool",
            Setting::RecycleRule => "recycle_rule",
            Setting::SlaRule => "sla_rule",
            Setting::WorkingHours => "working_hours",
            Setting::WebForm => "web_form",
            Setting::Webhook => "webhook",
            Setting::Robot => "robot",
            Setting::DedupPolicies => "dedup_policies",
            Setting::Choice => "choice",
            Setting::ReportCost => "report_cost",
            Setting::ReportTarget => "report_target",
            Setting::PredictionSchedule => "prediction_schedule",
        }
    }

    pub fn parse(code: &str) -> Result<Setting, Invalid> {
        Setting::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or_else(|| {
                let all: Vec<&str> = Setting::ALL.iter().map(|k| k.code()).collect();
                Invalid::new("kind", format!("must be one of {}", all.join(", ")))
            })
    }

    /// True for the settings kept as a list of entries rather than one row: they are logged
    /// as one object of entry → value.
    fn is_list(self) -> bool {
        matches!(self, Setting::DedupPolicies | Setting::AssignmentOrder)
    }

    /// The query that reads one record of the kind by its id (singletons ignore it), and the
    /// column that names it (empty when nothing does). The query of a list (see
    /// [`Setting::is_list`]) reads `entry` and `value` columns instead.
    fn source(self) -> (&'static str, &'static str) {
        match self {
            Setting::User => ("SELECT * FROM users WHERE id = ?", "username"),
            Setting::Team => ("SELECT * FROM teams WHERE id = ?", "name"),
            Setting::ApiToken => (
                "SELECT t.*, u.username AS user_name FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?",
                "name",
            ),
            Setting::CustomField => ("SELECT * FROM custom_field_defs WHERE id = ?", "label"),
            Setting::PipelineStage => ("SELECT * FROM pipeline_stages WHERE id = ?", "name_zh"),
            Setting::QualificationChecklist => (
                "SELECT * FROM qualification_checklists WHERE id = ?",
                "name",
            ),
            Setting::ScoringRule => ("SELECT * FROM scoring_rules WHERE id = ?", "name"),
            Setting::ScoringSettings => ("SELECT * FROM scoring_settings WHERE id = 1 AND ? > 0", ""),
            Setting::AssignmentRule => ("SELECT * FROM assignment_rules WHERE id = ?", "name"),
            Setting::AssignmentOrder => (
                "SELECT position AS entry, name || ' (#' || CAST(id AS TEXT) || ')' AS value \
                 FROM assignment_rules WHERE ? > 0 ORDER BY position, id",
                "",
            ),
            Setting::AssignmentSettings => (
                "SELECT * FROM assignment_settings WHERE id = 1 AND ? > 0",
                "",
            ),
            Setting::Availability => (
                "SELECT u.username AS user_name, a.away_until, a.max_open_leads, a.daily_cap, a.updated_at \
                 FROM users u LEFT JOIN user_availability a ON a.user_id = u.id WHERE u.id = ?",
                "user_name",
            ),
            Setting::Pool => ("SELECT * FROM pools WHERE id = ?", "name"),
            Setting::RecycleRule => ("SELECT * FROM recycle_rules WHERE id = ?", "name"),
            Setting::SlaRule => ("SELECT * FROM sla_rules WHERE id = ?", "name"),
            Setting::WorkingHours => (
                "SELECT time_zone, weekdays, start_time, end_time, holidays, workdays, updated_at \
                 FROM working_hours WHERE ? > 0",
                "",
            ),
            Setting::WebForm => ("SELECT * FROM forms WHERE id = ?", "name"),
            Setting::Webhook => ("SELECT * FROM webhooks WHERE id = ?", "url"),
            Setting::Robot => ("SELECT * FROM robots WHERE id = ?", "name"),
            Setting::DedupPolicies => (
                "SELECT * FROM (SELECT source AS entry, policy AS value FROM dedup_policies \
                 UNION ALL SELECT 'probable ' || source AS entry, policy AS value \
                 FROM dedup_probable_policies) AS p WHERE ? > 0 ORDER BY entry",
                "",
            ),
            Setting::Choice => ("SELECT * FROM choices WHERE id = ?", "label_zh"),
            Setting::ReportCost => ("SELECT * FROM report_costs WHERE id = ?", "source"),
            Setting::ReportTarget => ("SELECT * FROM report_targets WHERE id = ?", "metric"),
            Setting::PredictionSchedule => (
                "SELECT every_days, updated_at FROM prediction_schedule WHERE id = 1 AND ? > 0",
                "",
            ),
        }
    }
}

/// The id a singleton setting (scoring, assignment and dedup settings, working hours) is
/// logged under.
pub const SINGLETON: i64 = 1;

/// What was done to a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    Reorder,
    Revoke,
    ResetPassword,
    ChangePassword,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Reorder => "reorder",
            Action::Revoke => "revoke",
            Action::ResetPassword => "reset_password",
            Action::ChangePassword => "change_password",
        }
    }
}

/// Columns that hold secrets (or their hashes): the log holds only a short fingerprint, which
/// shows that one changed and nothing of it.
const SECRET_COLUMNS: &[&str] = &["password_hash", "token_hash", "secret"];

/// A cell as JSON: times as RFC 3339, JSON text as JSON, secrets as fingerprints.
fn cell_json(column: &str, cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Text(s) if SECRET_COLUMNS.contains(&column) => {
            let digest = hex::encode(Sha256::digest(s.as_bytes()));
            Value::from(format!("••••{}", &digest[..6]))
        }
        Cell::Int(v) if column.ends_with("_at") || column == "away_until" => {
            Value::from(rfc3339(*v))
        }
        Cell::Text(s) if s.starts_with(['[', '{']) => {
            serde_json::from_str(s).unwrap_or_else(|_| Value::from(s.as_str()))
        }
        other => other.to_json(),
    }
}

fn row_json(row: &Row) -> Map<String, Value> {
    row.columns()
        .iter()
        .zip(row.cells())
        .map(|(c, cell)| (c.clone(), cell_json(c, cell)))
        .collect()
}

/// A settings record as it stands, read in the transaction that is about to change it.
pub struct Before {
    kind: Setting,
    id: i64,
    before: Option<Value>,
}

impl Before {
    /// Reads the record `id` of `kind` (`None` before it exists).
    pub async fn take(tx: &mut Tx, kind: Setting, id: i64) -> anyhow::Result<Before> {
        let before = read(tx, kind, id).await?;
        Ok(Before { kind, id, before })
    }

    /// The snapshot of a record that is being created: nothing before.
    pub fn new_record(kind: Setting, id: i64) -> Before {
        Before {
            kind,
            id,
            before: None,
        }
    }

    /// True for the snapshot of a record being created.
    pub fn is_new(&self) -> bool {
        self.before.is_none()
    }

    /// Reads the record again and writes the log entry: `by` (`None` for the command line)
    /// did `action` at `at`.
    pub async fn record(
        self,
        tx: &mut Tx,
        by: Option<&Actor>,
        at: DateTime<Utc>,
        action: Action,
    ) -> anyhow::Result<()> {
        let after = read(tx, self.kind, self.id).await?;
        let (_, name_column) = self.kind.source();
        let name = [&after, &self.before]
            .into_iter()
            .flatten()
            .find_map(|v| v.get(name_column).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        let text = |v: Option<Value>| v.map(|v| v.to_string());
        tx.execute(
            "INSERT INTO audit_log (at, actor_id, actor_name, kind, subject_id, subject_name, action, before_json, after_json) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                Param::Int(to_millis(at)),
                Param::from(by.map(|a| a.user_id)),
                Param::from(by.map_or("", |a| a.username.as_str())),
                Param::from(self.kind.code()),
                Param::Int(self.id),
                Param::from(name),
                Param::from(action.code()),
                Param::from(text(self.before)),
                Param::from(text(after)),
            ],
        )
        .await?;
        Ok(())
    }
}

/// The record `id` of `kind` as the log shows it, or `None` when there is none.
async fn read(tx: &mut Tx, kind: Setting, id: i64) -> anyhow::Result<Option<Value>> {
    let (sql, _) = kind.source();
    let rows = tx.fetch_all(sql, &[Param::Int(id)]).await?;
    if kind.is_list() {
        let map: Map<String, Value> = rows
            .iter()
            .map(|r| (r.text("entry"), Value::from(r.text("value"))))
            .collect();
        return Ok(Some(Value::Object(map)));
    }
    Ok(rows.first().map(|r| Value::Object(row_json(r))))
}

/// What a use case does to one settings record.
pub struct Edit<'a> {
    pub kind: Setting,
    pub id: i64,
    pub action: Action,
    pub by: &'a Actor,
    pub at: DateTime<Utc>,
}

impl Edit<'_> {
    /// Runs the one statement that makes the change, in a transaction of its own with its log
    /// entry; returns how many rows it changed (none: nothing is logged).
    pub async fn execute(&self, db: &Db, sql: &str, params: &[Param]) -> anyhow::Result<u64> {
        let mut tx = db.begin().await?;
        let snapshot = Before::take(&mut tx, self.kind, self.id).await?;
        let changed = tx.execute(sql, params).await?;
        if changed > 0 {
            snapshot
                .record(&mut tx, Some(self.by), self.at, self.action)
                .await?;
            tx.commit().await?;
        }
        Ok(changed)
    }
}

/// Runs the one statement that creates a record of `kind`, in a transaction of its own with
/// its log entry; returns the new record's id.
pub async fn insert(
    db: &Db,
    by: &Actor,
    at: DateTime<Utc>,
    kind: Setting,
    sql: &str,
    params: &[Param],
) -> anyhow::Result<i64> {
    let mut tx = db.begin().await?;
    let id = tx.insert_returning_id(sql, params).await?;
    created(&mut tx, Some(by), at, kind, id).await?;
    tx.commit().await?;
    Ok(id)
}

/// Writes the entry of a record just created in `tx`.
pub async fn created(
    tx: &mut Tx,
    by: Option<&Actor>,
    at: DateTime<Utc>,
    kind: Setting,
    id: i64,
) -> anyhow::Result<()> {
    Before::new_record(kind, id)
        .record(tx, by, at, Action::Create)
        .await
}

/// The largest page the logs return.
const MAX_PAGE: i64 = 200;

/// The paging and time filters both logs share: `limit` (1–200, default 50), `cursor` (the
/// `next_cursor` of the page before), `from` and `to` (dates in China time or RFC 3339).
fn common_filter(
    name: &str,
    value: &str,
    conditions: &mut Vec<String>,
    params: &mut Vec<Param>,
    limit: &mut i64,
) -> Result<bool, Invalid> {
    match name {
        "limit" => {
            *limit = value
                .parse::<i64>()
                .ok()
                .filter(|l| (1..=MAX_PAGE).contains(l))
                .ok_or_else(|| {
                    Invalid::new(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_PAGE}"),
                    )
                })?;
        }
        "cursor" => {
            let before = value
                .parse::<i64>()
                .map_err(|_| Invalid::new("cursor", "must be the next_cursor of a page"))?;
            conditions.push("id < ?".into());
            params.push(Param::Int(before));
        }
        "from" => {
            conditions.push("at >= ?".into());
            params.push(Param::Int(parse_bound("from", value, false)?));
        }
        "to" => {
            conditions.push("at < ?".into());
            params.push(Param::Int(parse_bound("to", value, true)?));
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn user_id(name: &str, value: &str) -> Result<i64, Invalid> {
    value
        .parse()
        .map_err(|_| Invalid::new(name, "must be a user id"))
}

/// One page of a log, newest first, with the cursor of the next page.
async fn page<T>(
    db: &Db,
    table: &str,
    conditions: &[String],
    params: &[Param],
    limit: i64,
    read: fn(&Row) -> Result<T, DecodeError>,
) -> StoreResult<(Vec<T>, Option<String>)> {
    let mut rows = db
        .fetch_all(
            &format!(
                "SELECT * FROM {table} WHERE {} ORDER BY id DESC LIMIT {}",
                if conditions.is_empty() {
                    "1 = 1".to_owned()
                } else {
                    conditions.join(" AND ")
                },
                limit + 1
            ),
            params,
        )
        .await?;
    let next = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.int("id").to_string())
    });
    let items = rows.iter().map(read).collect::<Result<_, _>>()?;
    Ok((items, next.flatten()))
}

/// A user or a record an entry names: its id (null for the command line, or for a singleton
/// setting) and its name (empty when it has none).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A user or record: its id, null when there is none, and its name")]
pub struct Named {
    /// The id; null for the command line or a singleton setting
    #[schema(required = true)]
    pub id: Option<i64>,
    /// The name; empty when it has none
    pub name: String,
}

/// One change of a setting: who, when, what, and the record before and after.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "One change of a setting: who, when, what, and the record before and after")]
pub struct AuditEntry {
    /// Unique id; newer entries have larger ones
    pub id: i64,
    #[schema(schema_with = at_schema)]
    pub at: String,
    /// Who: a user (name empty and id null for the command line)
    pub actor: Named,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// Which record of that kind
    pub subject: Named,
    #[schema(schema_with = action_schema)]
    pub action: String,
    /// The record before, as stored (times as RFC 3339, secrets as fingerprints); null when it
    /// was created
    pub before: Value,
    /// The record after; null when it was deleted
    pub after: Value,
}

/// What the audit log records being done to a setting.
pub const ACTIONS: [&str; 7] = [
    "create",
    "update",
    "delete",
    "reorder",
    "revoke",
    "reset_password",
    "change_password",
];

fn at_schema() -> ObjectBuilder {
    schema::date_time(false, "When")
}

fn kind_schema() -> ObjectBuilder {
    schema::codes(
        Setting::ALL.iter().map(|k| k.code()),
        false,
        "What kind of setting",
    )
}

xiansuo_core::shape! {
    /// The code of a kind of setting, for a query parameter that takes one
    /// (`inline(Option<SettingCode>)`).
    pub SettingCode => kind_schema()
}

xiansuo_core::shape! {
    /// How a sign-in ended, for a query parameter that takes one
    /// (`inline(Option<LoginResultCode>)`).
    pub LoginResultCode => result_schema()
}

fn action_schema() -> ObjectBuilder {
    schema::codes(ACTIONS, false, "What was done")
}

/// One page of settings changes, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "One page of settings changes, newest first")]
pub struct AuditList {
    /// One page of settings changes, newest first
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; null on the last page
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A row of `audit_log`.
#[derive(Deserialize)]
struct StoredAuditEntry {
    id: i64,
    at: i64,
    actor_id: Option<i64>,
    actor_name: String,
    kind: String,
    subject_id: Option<i64>,
    subject_name: String,
    action: String,
    before_json: Option<String>,
    after_json: Option<String>,
}

impl AuditEntry {
    fn read(r: &Row) -> Result<AuditEntry, DecodeError> {
        let stored: StoredAuditEntry = r.decode()?;
        let parsed = |json: Option<String>| {
            json.and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .unwrap_or(Value::Null)
        };
        Ok(AuditEntry {
            id: stored.id,
            at: rfc3339(stored.at),
            actor: Named {
                id: stored.actor_id,
                name: stored.actor_name,
            },
            kind: stored.kind,
            subject: Named {
                id: stored.subject_id,
                name: stored.subject_name,
            },
            action: stored.action,
            before: parsed(stored.before_json),
            after: parsed(stored.after_json),
        })
    }
}

/// The settings changes, newest first (admins only). Filters: `kind`, `actor` (a user id),
/// `subject` (a record id, with `kind`), `from`, `to`; paging: `limit`, `cursor`.
pub async fn list(db: &Db, actor: &Actor, query: &[(String, String)]) -> StoreResult<AuditList> {
    actor.require_admin("read the audit log")?;
    let (mut conditions, mut params, mut limit) = (Vec::new(), Vec::new(), 50);
    for (name, value) in query {
        if common_filter(name, value, &mut conditions, &mut params, &mut limit)? {
            continue;
        }
        match name.as_str() {
            "kind" => {
                conditions.push("kind = ?".into());
                params.push(Param::from(Setting::parse(value)?.code()));
            }
            "actor" => {
                conditions.push("actor_id = ?".into());
                params.push(Param::Int(user_id("actor", value)?));
            }
            "subject" => {
                conditions.push("subject_id = ?".into());
                params.push(Param::Int(value.parse().map_err(|_| {
                    Invalid::new("subject", "must be the id of a record")
                })?));
            }
            other => {
                return Err(Invalid::new(
                    other,
                    "is not a filter of the audit log (accepted: kind, actor, subject, from, to, limit, cursor)",
                )
                .into())
            }
        }
    }
    let (items, next_cursor) = page(
        db,
        "audit_log",
        &conditions,
        &params,
        limit,
        AuditEntry::read,
    )
    .await?;
    Ok(AuditList { items, next_cursor })
}

/// How a sign-in with a password ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginResult {
    Succeeded,
    /// Wrong username or password, or a disabled account.
    Failed,
    /// Refused without checking: too many failures lately.
    Throttled,
}

impl LoginResult {
    pub const ALL: [LoginResult; 3] = [
        LoginResult::Succeeded,
        LoginResult::Failed,
        LoginResult::Throttled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LoginResult::Succeeded => "succeeded",
            LoginResult::Failed => "failed",
            LoginResult::Throttled => "throttled",
        }
    }
}

/// One sign-in attempt as the web layer saw it.
#[derive(Debug, Clone)]
pub struct LoginAttempt<'a> {
    pub username: &'a str,
    pub address: String,
    pub user_agent: &'a str,
    pub result: LoginResult,
}

/// Adds an attempt to the login history; the user is found by the name given, if any has it.
pub async fn record_login(
    db: &Db,
    attempt: LoginAttempt<'_>,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let clip = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    db.execute(
        "INSERT INTO login_history (at, user_id, username, address, user_agent, result) \
         VALUES (?, (SELECT id FROM users WHERE username = ?), ?, ?, ?, ?)",
        &[
            Param::Int(to_millis(at)),
            Param::from(attempt.username),
            Param::from(clip(attempt.username, 100)),
            Param::from(attempt.address),
            Param::from(clip(attempt.user_agent, 300)),
            Param::from(attempt.result.code()),
        ],
    )
    .await?;
    Ok(())
}

/// One sign-in attempt with a password, as the login history keeps it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = LoginAttempt, description = "One sign-in attempt with a password")]
pub struct Login {
    /// Unique id
    pub id: i64,
    #[schema(schema_with = at_schema)]
    pub at: String,
    /// The user with the name given, if any
    #[schema(required = true)]
    pub user_id: Option<i64>,
    /// The name given
    pub username: String,
    /// The client's IP address
    pub address: String,
    /// The client's User-Agent
    pub user_agent: String,
    #[schema(schema_with = result_schema)]
    pub result: String,
}

fn result_schema() -> ObjectBuilder {
    schema::codes(
        LoginResult::ALL.map(LoginResult::code),
        false,
        "How it ended",
    )
}

/// One page of sign-in attempts, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "One page of sign-in attempts, newest first")]
pub struct LoginList {
    /// One page of sign-in attempts, newest first
    pub items: Vec<Login>,
    /// Pass as `cursor` for the next page; null on the last page
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A row of `login_history`.
#[derive(Deserialize)]
struct StoredLogin {
    id: i64,
    at: i64,
    user_id: Option<i64>,
    username: String,
    address: String,
    user_agent: String,
    result: String,
}

impl Login {
    fn read(r: &Row) -> Result<Login, DecodeError> {
        let stored: StoredLogin = r.decode()?;
        Ok(Login {
            id: stored.id,
            at: rfc3339(stored.at),
            user_id: stored.user_id,
            username: stored.username,
            address: stored.address,
            user_agent: stored.user_agent,
            result: stored.result,
        })
    }
}

/// The sign-in attempts, newest first (admins only). Filters: `user` (a user id), `result`,
/// `from`, `to`; paging: `limit`, `cursor`.
pub async fn logins(db: &Db, actor: &Actor, query: &[(String, String)]) -> StoreResult<LoginList> {
    actor.require_admin("read the login history")?;
    let (mut conditions, mut params, mut limit) = (Vec::new(), Vec::new(), 50);
    for (name, value) in query {
        if common_filter(name, value, &mut conditions, &mut params, &mut limit)? {
            continue;
        }
        match name.as_str() {
            "user" => {
                conditions.push("user_id = ?".into());
                params.push(Param::Int(user_id("user", value)?));
            }
            "result" => {
                let result = LoginResult::ALL
                    .into_iter()
                    .find(|r| r.code() == value)
                .ok_or_else(|| {
                    Invalid::new("result", "must be succeeded, failed or throttled")
                })?;
                conditions.push("result = ?".into());
                params.push(Param::from(result.code()));
            }
            other => {
                return Err(Invalid::new(
                    other,
                    "is not a filter of the login history (accepted: user, result, from, to, limit, cursor)",
                )
                .into())
            }
        }
    }
    let (items, next_cursor) = page(
        db,
        "login_history",
        &conditions,
        &params,
        limit,
        Login::read,
    )
    .await?;
    Ok(LoginList { items, next_cursor })
}
