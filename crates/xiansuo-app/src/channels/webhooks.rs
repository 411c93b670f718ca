//! Outbound webhooks: an admin subscribes a URL to domain events, and every matching event is
//! POSTed to it as signed JSON.
//!
//! Deliveries are an outbox. [`fan_out`] runs inside the transaction that raised the event
//! (through `events::emit`): it writes one `webhook_deliveries` row per active matching
//! subscription and queues a `webhook.deliver` job for it, so nothing is sent for a change that
//! rolls back and nothing is lost for one that commits. Each job makes one attempt and records
//! it (status, a snippet of the answer, the duration); a failed attempt queues the next one
//! after a backoff of 1, 2, 4, … minutes, up to [`MAX_ATTEMPTS`]. The retries are scheduled
//! here rather than left to the job runner so that each attempt is logged and the last one is
//! known. After [`DISABLE_AFTER`] deliveries in a row have failed for good, the subscription is
//! switched off with the reason, and its creator is notified.
//!
//! A request carries `X-Xiansuo-Event`, `X-Xiansuo-Delivery` and `X-Xiansuo-Signature:
//! sha256=HEX`, the HMAC-SHA256 of the raw body keyed with the subscription's secret. The body
//! is fixed when the event is raised, so every attempt sends the same bytes and the same event
//! `id`, by which a receiver can recognise a repeat.

use crate::admin::audit;
use crate::channels::notifications::{self, Notification};
pub use crate::channels::outbound::MAX_ATTEMPTS;
use crate::channels::outbound::{self, Attempt, Ledger, Outcome, Step};
use crate::error::{StoreError, StoreResult};
use crate::jobs::queue::{Job, JobEnv, JobFailure};
use crate::records::rfc3339;
use crate::scope::Actor;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, OnceLock};
use utoipa::openapi::{ArrayBuilder, ObjectBuilder};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::validation::{present, Unread};
use xiansuo_core::{schema, Invalid, Text};
use xiansuo_store::{Db, Param, Row, Tx};

/// The log of webhook deliveries.
const LEDGER: Ledger = Ledger {
    deliveries: "webhook_deliveries",
    attempts: "webhook_attempts",
    owner: "webhook_id",
    what: "webhook delivery",
};

/// The events a subscription may name; `*` stands for every event.
pub const EVENTS: &[&str] = &[
    "lead.created",
    "lead.updated",
    "lead.assigned",
    "lead.converted",
    "lead.merged",
    "lead.unmerged",
    "lead.deleted",
    "lead.restored",
    "lead.released",
    "lead.recycled",
    "lead.sla_breached",
    "account.created",
    "account.updated",
    "account.deleted",
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "opportunity.created",
    "opportunity.updated",
    "opportunity.deleted",
    "opportunity.stage_changed",
    "activity.created",
];

/// The event of a test delivery.
pub const PING: &str = "ping";

/// The job that makes one delivery attempt (`webhook.deliver`).
pub struct Deliver;

#[async_trait]
impl Job for Deliver {
    const KIND: &'static str = "webhook.deliver";
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

/// Deliveries in a row that fail for good before a subscription is switched off.
pub const DISABLE_AFTER: i64 = 10;

/// `sha256=HEX`: the HMAC-SHA256 of `body` keyed with `secret`, as the signature header
/// carries it.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A new subscription as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A new subscription")]
pub struct NewWebhook {
    #[schema(schema_with = url_schema)]
    pub url: String,
    #[schema(schema_with = events_schema)]
    pub events: Vec<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = secret_schema)]
    pub secret: Option<String>,
    #[schema(schema_with = description_schema)]
    pub description: Option<String>,
    /// Deliver events (the default); a new subscription may start switched off.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// The fields of a subscription to change; a field left out keeps its value, and only the
/// description may be null.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "The fields to change")]
pub struct WebhookPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = url_schema)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = events_schema)]
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = secret_schema)]
    pub secret: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = description_schema)]
    pub description: Option<Option<String>>,
    /// Deliver events; switching it on again clears its failures.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

fn url_schema() -> ObjectBuilder {
    schema::web_url("Where deliveries are POSTed: an http:// or https:// URL")
}

fn events_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(schema::codes(
            EVENTS.iter().copied().chain(["*"]),
            false,
            "An event, or `*` for every event",
        ))
        .min_items(Some(1))
        .description(Some("The events delivered"))
}

fn secret_schema() -> ObjectBuilder {
    schema::string(false, "The signing key; generated when not given")
        .min_length(Some(16))
        .max_length(Some(200))
        .pattern(Some(r"^[^\u0000-\u001F\u007F-\u009F]*$"))
}

fn description_schema() -> ObjectBuilder {
    schema::text(true, false, 500, "A note for admins")
}

impl WebhookPatch {
    /// The change with each field sent checked and normalised.
    fn check(self) -> Result<WebhookPatch, Invalid> {
        Ok(WebhookPatch {
            url: self
                .url
                .map(|url| outbound::parse_url("url", &url))
                .transpose()?,
            events: self.events.map(check_events).transpose()?,
            secret: self.secret.map(check_secret).transpose()?,
            description: self
                .description
                .map(|d| d.map(check_description).transpose().map(Option::flatten))
                .transpose()?,
            active: self.active,
        })
    }
}

/// A description, or none when it is blank.
fn check_description(description: String) -> Result<Option<String>, Invalid> {
    Ok(Text::parse_optional("description", &description, 500)?.map(Text::into_string))
}

fn check_secret(secret: String) -> Result<String, Invalid> {
    let length = secret.chars().count();
    if !(16..=200).contains(&length) || secret.chars().any(char::is_control) {
        return Err(Invalid::new(
            "secret",
            "must be 16 to 200 characters without control characters; leave it out to have one generated",
        ));
    }
    Ok(secret)
}

fn check_events(list: Vec<String>) -> Result<Vec<String>, Invalid> {
    let accepted = || format!("{} or \"*\" for all", EVENTS.join(", "));
    if list.is_empty() {
        return Err(Invalid::new(
            "events",
            format!("must be a non-empty list of events: {}", accepted()),
        ));
    }
    let mut events: Vec<String> = Vec::with_capacity(list.len().min(EVENTS.len() + 1));
    for e in list {
        if e != "*" && !EVENTS.contains(&e.as_str()) {
            return Err(Invalid::new(
                "events",
                format!("\"{e}\" is not an event; accepted: {}", accepted()),
            ));
        }
        if !events.contains(&e) {
            events.push(e);
        }
    }
    Ok(events)
}

/// An active webhook and the events it wants, as [`fan_out`] reads them once per transaction.
pub(crate) struct Subscription {
    webhook: i64,
    events: Vec<String>,
}

fn events_of(row: &Row) -> Vec<String> {
    serde_json::from_str(&row.text("events")).unwrap_or_default()
}

fn subscribes(events: &[String], event: &str) -> bool {
    events.iter().any(|e| e == "*" || e == event)
}

/// A subscription to domain events; its secret is not shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    /// Unique id
    pub id: i64,
    /// Where deliveries are POSTed (http or https)
    pub url: String,
    #[schema(schema_with = events_schema)]
    pub events: Vec<String>,
    /// A note for admins
    #[schema(required = true)]
    pub description: Option<String>,
    /// Whether events are delivered; switched off after repeated failures
    pub active: bool,
    /// Deliveries in a row that failed all their attempts
    pub failure_count: i64,
    /// Why it was switched off automatically
    #[schema(required = true)]
    pub disabled_reason: Option<String>,
    /// When it was switched off automatically
    #[schema(required = true, format = DateTime)]
    pub disabled_at: Option<String>,
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

/// A new subscription, with its secret (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The key of the `X-Xiansuo-Signature` HMAC; shown only in this answer
    pub secret: String,
}

/// Every subscription, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// The subscriptions
    pub items: Vec<Webhook>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl Webhook {
    fn read(row: &Row) -> Webhook {
        Webhook {
            id: row.int("id"),
            url: row.text("url"),
            events: events_of(row),
            description: row.opt_text("description"),
            active: row.int("active") == 1,
            failure_count: row.int("failure_count"),
            disabled_reason: row.opt_text("disabled_reason"),
            disabled_at: row.opt_int("disabled_at").map(rfc3339),
            created_by: row.opt_int("created_by"),
            created_at: rfc3339(row.int("created_at")),
            updated_at: rfc3339(row.int("updated_at")),
        }
    }
}

const WEBHOOK_COLUMNS: &str = "id, url, events, description, active, failure_count, \
     disabled_reason, disabled_at, created_by, created_at, updated_at";

/// Creates a subscription; the answer carries its secret, which is never shown again.
pub async fn create(
    db: &Db,
    actor: &Actor,
    new: Unread<NewWebhook>,
    now: DateTime<Utc>,
) -> StoreResult<CreatedWebhook> {
    actor.require_admin("manage webhooks")?;
    let new = new.read()?;
    let url = outbound::parse_url("url", &new.url)?;
    let events = check_events(new.events)?;
    let secret = match new.secret {
        Some(secret) => check_secret(secret)?,
        None => crate::admin::auth::new_secret("whsec_"),
    };
    let description = new.description.map(check_description).transpose()?;
    let at = now;
    let now = to_millis(now);
    let id = audit::insert(
            db,
            actor,
            at,
            audit::Setting::Webhook,
            "INSERT INTO webhooks (url, events, secret, description, active, failure_count, created_by, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
            &[
                Param::from(url),
                Param::from(serde_json::to_string(&events).map_err(anyhow::Error::from)?),
                Param::from(secret.as_str()),
                Param::from(description.flatten()),
                Param::Int(i64::from(new.active.unwrap_or(true))),
                Param::Int(actor.user_id),
                Param::Int(now),
                Param::Int(now),
            ],
        )
        .await?;
    Ok(CreatedWebhook {
        webhook: get(db, actor, id).await?,
        secret,
    })
}

/// Every subscription, oldest first.
pub async fn list(db: &Db, actor: &Actor) -> StoreResult<WebhookList> {
    actor.require_admin("manage webhooks")?;
    let items = db
        .fetch_all(
            &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id"),
            &[],
        )
        .await?
        .iter()
        .map(Webhook::read)
        .collect();
    Ok(WebhookList {
        items,
        next_cursor: None,
    })
}

/// One subscription, without its secret.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> StoreResult<Webhook> {
    actor.require_admin("manage webhooks")?;
    db.fetch_optional(
        &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?"),
        &[Param::Int(id)],
    )
    .await?
    .map(|r| Webhook::read(&r))
    .ok_or(StoreError::NotFound("webhook"))
}

/// Changes the fields sent. Switching a subscription on again clears its failures and the
/// reason it was switched off.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: Unread<WebhookPatch>,
    now: DateTime<Utc>,
) -> StoreResult<Webhook> {
    actor.require_admin("manage webhooks")?;
    let input = patch.read()?.check()?;
    let mut sets = vec!["updated_at = ?".to_owned()];
    let mut params = vec![Param::Int(to_millis(now))];
    if let Some(url) = input.url {
        sets.push("url = ?".into());
        params.push(Param::from(url));
    }
    if let Some(events) = input.events {
        sets.push("events = ?".into());
        params.push(Param::from(
            serde_json::to_string(&events).map_err(anyhow::Error::from)?,
        ));
    }
    if let Some(secret) = input.secret {
        sets.push("secret = ?".into());
        params.push(Param::from(secret));
    }
    if let Some(description) = input.description {
        sets.push("description = ?".into());
        params.push(Param::from(description));
    }
    match input.active {
        Some(true) => sets.push(
            "active = 1, failure_count = 0, disabled_reason = NULL, disabled_at = NULL".into(),
        ),
        Some(false) => sets.push("active = 0".into()),
        None => {}
    }
    params.push(Param::Int(id));
    let change = audit::Edit {
        kind: audit::Setting::Webhook,
        id,
        action: audit::Action::Update,
        by: actor,
        at: now,
    };
    let changed = change
        .execute(
            db,
            &format!("UPDATE webhooks SET {} WHERE id = ?", sets.join(", ")),
            &params,
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound("webhook"));
    }
    get(db, actor, id).await
}

/// Deletes a subscription with its delivery log; queued attempts find nothing and stop.
pub async fn delete(db: &Db, actor: &Actor, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    actor.require_admin("manage webhooks")?;
    let change = audit::Edit {
        kind: audit::Setting::Webhook,
        id,
        action: audit::Action::Delete,
        by: actor,
        at: now,
    };
    let deleted = change
        .execute(db, "DELETE FROM webhooks WHERE id = ?", &[Param::Int(id)])
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound("webhook"));
    }
    Ok(())
}

/// The body every attempt of a delivery sends.
fn event_body(event_id: &str, event: &str, data: &Value, now_ms: i64) -> String {
    json!({
        "id": event_id,
        "event": event,
        "occurred_at": rfc3339(now_ms),
        "data": data,
    })
    .to_string()
}

/// Queues a delivery of `event` to every active subscription that wants it, in the
/// transaction that raised the event.
pub async fn fan_out(tx: &mut Tx, event: &str, data: &Value, now_ms: i64) -> anyhow::Result<()> {
    let subscriptions = match tx.memo::<Arc<[Subscription]>>() {
        Some(known) => known.clone(),
        None => {
            let read: Arc<[Subscription]> = tx
                .fetch_all("SELECT id, events FROM webhooks WHERE active = 1", &[])
                .await?
                .iter()
                .map(|r| Subscription {
                    webhook: r.int("id"),
                    events: events_of(r),
                })
                .collect();
            tx.remember(read.clone());
            read
        }
    };
    let subscribers: Vec<i64> = subscriptions
        .iter()
        .filter(|s| subscribes(&s.events, event))
        .map(|s| s.webhook)
        .collect();
    if subscribers.is_empty() {
        return Ok(());
    }
    let event_id = outbound::new_event_id();
    let body = event_body(&event_id, event, data, now_ms);
    for webhook in subscribers {
        let delivery = LEDGER
            .insert(tx, webhook, event, &event_id, &body, now_ms)
            .await?;
        outbound::queue_attempt::<Deliver>(tx, delivery, 1, now_ms).await?;
    }
    Ok(())
}

/// Sends one signed request.
async fn send(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    event: &str,
    delivery: i64,
    body: &str,
) -> Outcome {
    let headers = [
        ("X-Xiansuo-Event", event.to_owned()),
        ("X-Xiansuo-Delivery", delivery.to_string()),
        ("X-Xiansuo-Signature", signature(secret, body.as_bytes())),
    ];
    outbound::post(http, url, &headers, body).await
}

/// A delivery with what attempts need.
struct Pending {
    id: i64,
    webhook_id: i64,
    event: String,
    body: String,
    state: String,
    attempts: i64,
    url: String,
    secret: String,
    active: bool,
    created_by: Option<i64>,
}

async fn pending(db: &Db, delivery: i64) -> anyhow::Result<Option<Pending>> {
    Ok(db
        .fetch_optional(
            "SELECT d.id, d.webhook_id, d.event, d.body, d.state, d.attempts, w.url, w.secret, w.active, w.created_by \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?",
            &[Param::Int(delivery)],
        )
        .await?
        .map(|r| Pending {
            id: r.int("id"),
            webhook_id: r.int("webhook_id"),
            event: r.text("event"),
            body: r.text("body"),
            state: r.text("state"),
            attempts: r.int("attempts"),
            url: r.text("url"),
            secret: r.text("secret"),
            active: r.int("active") == 1,
            created_by: r.opt_int("created_by"),
        }))
}

/// The `webhook.deliver` job: one attempt of one delivery. A job for an attempt that was
/// made already, or for a delivery that is gone, does nothing; only a database failure is
/// left to the job runner to retry.
async fn deliver_job(
    db: &Db,
    env: &JobEnv,
    job: &Attempt,
    at: DateTime<Utc>,
) -> Result<(), JobFailure> {
    let (id, attempt) = (job.delivery_id, job.attempt);
    let Some(delivery) = pending(db, id).await? else {
        return Ok(());
    };
    if delivery.state != "pending" || delivery.attempts != attempt - 1 {
        return Ok(());
    }
    let at_ms = to_millis(at);
    if !delivery.active {
        LEDGER
            .give_up(db, id, "not sent: the webhook is switched off", at_ms)
            .await?;
        return Ok(());
    }
    let outcome = send(
        &env.http,
        &delivery.url,
        &delivery.secret,
        &delivery.event,
        delivery.id,
        &delivery.body,
    )
    .await;
    record_attempt(db, &delivery, attempt, &outcome, at_ms).await?;
    Ok(())
}

/// Records an attempt and what follows from it: success, the next attempt, or the end of the
/// delivery (and perhaps of the subscription). Test deliveries are never retried or counted.
async fn record_attempt(
    db: &Db,
    delivery: &Pending,
    attempt: i64,
    outcome: &Outcome,
    at_ms: i64,
) -> anyhow::Result<()> {
    let ping = delivery.event == PING;
    let mut tx = db.begin().await?;
    match LEDGER
        .record(&mut tx, delivery.id, attempt, outcome, !ping, at_ms)
        .await?
    {
        Step::Raced => return Ok(()),
        Step::Retry { at_ms: next_at } => {
            outbound::queue_attempt::<Deliver>(&mut tx, delivery.id, attempt + 1, next_at).await?;
        }
        Step::Finished { succeeded: true } if !ping => {
            tx.execute(
                "UPDATE webhooks SET failure_count = 0 WHERE id = ? AND failure_count > 0",
                &[Param::Int(delivery.webhook_id)],
            )
            .await?;
        }
        Step::Finished { succeeded: false } if !ping => {
            count_failure(&mut tx, delivery, outcome, at_ms).await?;
        }
        Step::Finished { .. } => {}
    }
    tx.commit().await?;
    Ok(())
}

/// Counts a delivery that failed for good, and switches the subscription off at the limit.
async fn count_failure(
    tx: &mut Tx,
    delivery: &Pending,
    outcome: &Outcome,
    at_ms: i64,
) -> anyhow::Result<()> {
    tx.execute(
        "UPDATE webhooks SET failure_count = failure_count + 1 WHERE id = ?",
        &[Param::Int(delivery.webhook_id)],
    )
    .await?;
    let reason = format!(
        "switched off after {DISABLE_AFTER} deliveries in a row failed {MAX_ATTEMPTS} attempts each; the last failure: {}",
        outcome.failure()
    );
    let disabled = tx
        .execute(
            "UPDATE webhooks SET active = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? \
             WHERE id = ? AND active = 1 AND failure_count >= ?",
            &[
                Param::from(reason),
                Param::Int(at_ms),
                Param::Int(at_ms),
                Param::Int(delivery.webhook_id),
                Param::Int(DISABLE_AFTER),
            ],
        )
        .await?;
    if disabled == 0 {
        return Ok(());
    }
    tracing::warn!(
        webhook = delivery.webhook_id,
        url = delivery.url,
        "webhook switched off after {DISABLE_AFTER} failed deliveries"
    );
    let Some(admin) = delivery.created_by else {
        return Ok(());
    };
    let locale = tx
        .fetch_optional(
            "SELECT locale FROM users WHERE id = ?",
            &[Param::Int(admin)],
        )
        .await?
        .map(|r| r.text("locale"))
        .unwrap_or_default();
    let message = if locale == "en" {
        format!(
            "The webhook to {} was switched off: {DISABLE_AFTER} deliveries in a row failed (the last: {}). Fix the receiver, then switch it on again.",
            delivery.url,
            outcome.failure()
        )
    } else {
        format!(
            "Webhook {} 已自动停用：连续 {DISABLE_AFTER} 次投递失败（最后一次：{}）。请修复接收端后重新启用。",
            delivery.url,
            outcome.failure()
        )
    };
    notifications::notify(
        tx,
        &Notification {
            user_id: admin,
            kind: notifications::Kind::WebhookDisabled,
            record_type: None,
            record_id: None,
            message,
            now_ms: at_ms,
        },
    )
    .await
}

/// Sends a `ping` to a subscription now, whether it is on or off, and answers with the
/// delivery and its outcome. Pings are logged but never retried or counted as failures.
pub async fn ping(
    db: &Db,
    actor: &Actor,
    webhook_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    actor.require_admin("manage webhooks")?;
    static HTTP: OnceLock<reqwest::Client> = OnceLock::new();
    let hook = get(db, actor, webhook_id).await?;
    let now_ms = to_millis(now);
    let event_id = outbound::new_event_id();
    let data = json!({
        "webhook_id": webhook_id,
        "events": hook.events,
        "message": "A test delivery from Xiansuo: the webhook reaches this URL.",
    });
    let body = event_body(&event_id, PING, &data, now_ms);
    let mut tx = db.begin().await?;
    let id = LEDGER
        .insert(&mut tx, webhook_id, PING, &event_id, &body, now_ms)
        .await?;
    tx.commit().await?;
    let delivery = pending(db, id)
        .await?
        .ok_or(StoreError::NotFound("webhook"))?;
    let http = HTTP.get_or_init(reqwest::Client::new);
    let outcome = send(
        http,
        &delivery.url,
        &delivery.secret,
        PING,
        id,
        &delivery.body,
    )
    .await;
    record_attempt(db, &delivery, 1, &outcome, now_ms).await?;
    LEDGER.by_id(db, id).await
}

/// Sends a delivery again: one more attempt, queued for the next run of jobs. A delivery that
/// is still being retried cannot be; nor one of a subscription that is switched off.
pub async fn redeliver(
    db: &Db,
    actor: &Actor,
    delivery: i64,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    actor.require_admin("manage webhooks")?;
    let found = pending(db, delivery)
        .await?
        .ok_or(StoreError::NotFound("webhook delivery"))?;
    if !found.active && found.state != "pending" {
        return Err(StoreError::Conflict(
            "the webhook is switched off: switch it on (PATCH with \"active\": true) first".into(),
        ));
    }
    LEDGER
        .send_again::<Deliver>(db, delivery, &found.state, found.attempts, to_millis(now))
        .await
}

/// The delivery log of a subscription, newest first: `?limit=` (1–200, default 50),
/// `?cursor=` (the `next_cursor` of the page before), `?state=pending|succeeded|failed`,
/// `?event=`.
pub async fn deliveries(
    db: &Db,
    actor: &Actor,
    webhook_id: i64,
    query: &[(String, String)],
) -> StoreResult<Value> {
    get(db, actor, webhook_id).await?;
    LEDGER.page(db, webhook_id, query).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_sha256_of_the_body_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn events_are_known_names_or_a_star_without_repeats() {
        let events = |list: &[&str]| check_events(list.iter().map(|e| (*e).to_owned()).collect());
        assert_eq!(
            events(&["lead.created", "lead.created", "*"]).unwrap(),
            vec!["lead.created", "*"]
        );
        assert!(events(&[]).is_err());
        assert!(events(&["lead.exploded"]).is_err());
        assert!(subscribes(&["*".to_owned()], "account.created"));
        assert!(!subscribes(&["lead.updated".to_owned()], "lead.created"));
    }

    #[test]
    fn unknown_fields_and_short_secrets_are_refused() {
        assert!(serde_json::from_value::<WebhookPatch>(json!({"colour": "red"})).is_err());
        let patch: WebhookPatch = serde_json::from_value(json!({"secret": "short"})).unwrap();
        assert_eq!(patch.check().err().unwrap().field, "secret");
    }
}
