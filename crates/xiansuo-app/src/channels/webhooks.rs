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
use crate::error::{StoreError, StoreResult};
use crate::jobs::queue::{self, backoff_ms, Job, JobEnv, JobFailure};
use crate::records::rfc3339;
use crate::scope::Actor;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use xiansuo_core::clock::to_millis;
use xiansuo_core::{Invalid, Text};
use xiansuo_store::{Db, Param, Row, Tx};

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

/// Which attempt of which delivery a [`Deliver`] job makes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Attempt {
    pub delivery_id: i64,
    pub attempt: i64,
}

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

/// Attempts per delivery: the first, then retries 1, 2, 4, … 64 minutes apart (about two
/// hours in all).
pub const MAX_ATTEMPTS: i64 = 8;

/// Deliveries in a row that fail for good before a subscription is switched off.
pub const DISABLE_AFTER: i64 = 10;

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a receiver's answer is kept, in characters.
const SNIPPET_CHARS: usize = 1000;

/// Deliveries per page of the log, at most.
const MAX_PAGE: i64 = 200;

/// `sha256=HEX`: the HMAC-SHA256 of `body` keyed with `secret`, as the signature header
/// carries it.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A subscription's fields as a request gives them; `None` is "not sent".
#[derive(Default)]
struct Input {
    url: Option<String>,
    events: Option<Vec<String>>,
    secret: Option<String>,
    description: Option<Option<String>>,
    active: Option<bool>,
}

fn parse_input(body: &Value) -> Result<Input, Invalid> {
    let Some(object) = body.as_object() else {
        return Err(Invalid::new("body", "must be a JSON object"));
    };
    let mut input = Input::default();
    for (key, value) in object {
        match key.as_str() {
            "url" => input.url = Some(parse_url(value)?),
            "events" => input.events = Some(parse_events(value)?),
            "secret" => {
                let secret = value
                    .as_str()
                    .ok_or_else(|| Invalid::new("secret", "must be a string"))?;
                let length = secret.chars().count();
                if !(16..=200).contains(&length) || secret.chars().any(char::is_control) {
                    return Err(Invalid::new(
                        "secret",
                        "must be 16 to 200 characters without control characters; leave it out to have one generated",
                    ));
                }
                input.secret = Some(secret.to_owned());
            }
            "description" => {
                input.description = Some(match value {
                    Value::Null => None,
                    Value::String(s) => {
                        Text::parse_optional("description", s, 500)?.map(Text::into_string)
                    }
                    _ => return Err(Invalid::new("description", "must be a string or null")),
                });
            }
            "active" => {
                input.active = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| Invalid::new("active", "must be true or false"))?,
                );
            }
            other => return Err(Invalid::new(
                other,
                "is not a field of webhooks (accepted: url, events, secret, description, active)",
            )),
        }
    }
    Ok(input)
}

fn parse_url(value: &Value) -> Result<String, Invalid> {
    let text = value
        .as_str()
        .map(str::trim)
        .ok_or_else(|| Invalid::new("url", "must be a string"))?;
    let bad = || {
        Invalid::new("url", "must be an http:// or https:// URL with a host, such as https://example.com/hooks/xiansuo")
    };
    if text.len() > 2000 {
        return Err(Invalid::new("url", "must be at most 2000 characters"));
    }
    let url = reqwest::Url::parse(text).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(url.to_string())
}

fn parse_events(value: &Value) -> Result<Vec<String>, Invalid> {
    let accepted = || format!("{} or \"*\" for all", EVENTS.join(", "));
    let list = value.as_array().filter(|l| !l.is_empty()).ok_or_else(|| {
        Invalid::new(
            "events",
            format!("must be a non-empty list of events: {}", accepted()),
        )
    })?;
    let mut events: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        match item.as_str() {
            Some(e) if e == "*" || EVENTS.contains(&e) => {
                if !events.iter().any(|known| known == e) {
                    events.push(e.to_owned());
                }
            }
            _ => {
                return Err(Invalid::new(
                    "events",
                    format!("{item} is not an event; accepted: {}", accepted()),
                ))
            }
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

fn webhook_json(row: &Row) -> Value {
    json!({
        "id": row.int("id"),
        "url": row.text("url"),
        "events": events_of(row),
        "description": row.opt_text("description"),
        "active": row.int("active") == 1,
        "failure_count": row.int("failure_count"),
        "disabled_reason": row.opt_text("disabled_reason"),
        "disabled_at": row.opt_int("disabled_at").map(rfc3339),
        "created_by": row.opt_int("created_by"),
        "created_at": rfc3339(row.int("created_at")),
        "updated_at": rfc3339(row.int("updated_at")),
    })
}

const WEBHOOK_COLUMNS: &str = "id, url, events, description, active, failure_count, \
     disabled_reason, disabled_at, created_by, created_at, updated_at";

/// Creates a subscription; the answer carries its secret, which is never shown again.
pub async fn create(
    db: &Db,
    actor: &Actor,
    body: &Value,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    actor.require_admin("manage webhooks")?;
    let input = parse_input(body)?;
    let url = input
        .url
        .ok_or_else(|| Invalid::new("url", "is required"))?;
    let events = input
        .events
        .ok_or_else(|| Invalid::new("events", "is required"))?;
    let secret = input
        .secret
        .unwrap_or_else(|| crate::admin::auth::new_secret("whsec_"));
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
                Param::from(input.description.flatten()),
                Param::Int(i64::from(input.active.unwrap_or(true))),
                Param::Int(actor.user_id),
                Param::Int(now),
                Param::Int(now),
            ],
        )
        .await?;
    let mut created = get(db, actor, id).await?;
    created["secret"] = json!(secret);
    Ok(created)
}

/// Every subscription, oldest first.
pub async fn list(db: &Db, actor: &Actor) -> StoreResult<Vec<Value>> {
    actor.require_admin("manage webhooks")?;
    Ok(db
        .fetch_all(
            &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id"),
            &[],
        )
        .await?
        .iter()
        .map(webhook_json)
        .collect())
}

/// One subscription, without its secret.
pub async fn get(db: &Db, actor: &Actor, id: i64) -> StoreResult<Value> {
    actor.require_admin("manage webhooks")?;
    db.fetch_optional(
        &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?"),
        &[Param::Int(id)],
    )
    .await?
    .map(|r| webhook_json(&r))
    .ok_or(StoreError::NotFound("webhook"))
}

/// Changes the fields sent. Switching a subscription on again clears its failures and the
/// reason it was switched off.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    body: &Value,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    actor.require_admin("manage webhooks")?;
    let input = parse_input(body)?;
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

fn new_event_id() -> String {
    let mut bytes = [0_u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("evt_{}", hex::encode(bytes))
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

async fn insert_delivery(
    tx: &mut Tx,
    webhook_id: i64,
    event: &str,
    event_id: &str,
    body: &str,
    now_ms: i64,
) -> anyhow::Result<i64> {
    tx.insert_returning_id(
        "INSERT INTO webhook_deliveries (webhook_id, event, event_id, body, state, attempts, next_attempt_at, created_at, updated_at) \
         VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
        &[
            Param::Int(webhook_id),
            Param::from(event),
            Param::from(event_id),
            Param::from(body),
            Param::Int(now_ms),
            Param::Int(now_ms),
            Param::Int(now_ms),
        ],
    )
    .await
}

/// Queues attempt number `attempt` of a delivery at `at_ms`; once per attempt, however often
/// this is called.
async fn queue_attempt(tx: &mut Tx, delivery: i64, attempt: i64, at_ms: i64) -> anyhow::Result<()> {
    queue::enqueue::<Deliver>(
        tx,
        &Attempt {
            delivery_id: delivery,
            attempt,
        },
        at_ms,
        Some(&format!("{}:{delivery}:{attempt}", Deliver::KIND)),
    )
    .await?;
    Ok(())
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
    let event_id = new_event_id();
    let body = event_body(&event_id, event, data, now_ms);
    for webhook in subscribers {
        let delivery = insert_delivery(tx, webhook, event, &event_id, &body, now_ms).await?;
        queue_attempt(tx, delivery, 1, now_ms).await?;
    }
    Ok(())
}

/// What one attempt got.
struct Outcome {
    status: Option<u16>,
    response: Option<String>,
    error: Option<String>,
    duration_ms: i64,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// What went wrong, in a few words.
    fn failure(&self) -> String {
        match (&self.error, self.status) {
            (Some(e), _) => e.clone(),
            (None, Some(s)) => format!("HTTP {s}"),
            (None, None) => "no answer".to_owned(),
        }
    }
}

/// Sends one request and keeps the start of the answer. Never fails: a refused connection, a
/// timeout or an unreadable answer is an outcome like a status.
async fn send(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    event: &str,
    delivery: i64,
    body: &str,
) -> Outcome {
    let started = Instant::now();
    let sent = http
        .post(url)
        .timeout(TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            reqwest::header::USER_AGENT,
            concat!("Xiansuo-Webhooks/", env!("CARGO_PKG_VERSION")),
        )
        .header("X-Xiansuo-Event", event)
        .header("X-Xiansuo-Delivery", delivery.to_string())
        .header("X-Xiansuo-Signature", signature(secret, body.as_bytes()))
        .body(body.to_owned())
        .send()
        .await;
    let (status, response, error) = match sent {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let mut kept = Vec::new();
            let mut error = None;
            // Only the start of the answer is read: a receiver may answer with anything.
            while kept.len() < SNIPPET_CHARS * 4 {
                match response.chunk().await {
                    Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(describe(&e));
                        break;
                    }
                }
            }
            let text: String = String::from_utf8_lossy(&kept)
                .chars()
                .take(SNIPPET_CHARS)
                .collect();
            (Some(status), Some(text), error)
        }
        Err(e) => (None, None, Some(describe(&e))),
    };
    Outcome {
        status,
        response,
        error,
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if e.is_connect() {
        "the connection was refused or could not be made".to_owned()
    } else {
        // The chain says what failed (DNS, TLS, a reset connection).
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
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
        db.execute(
            "UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, error = ?, updated_at = ? \
             WHERE id = ? AND state = 'pending'",
            &[
                Param::from("not sent: the webhook is switched off"),
                Param::Int(at_ms),
                Param::Int(id),
            ],
        )
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
    let retry = !outcome.succeeded() && !ping && attempt < MAX_ATTEMPTS;
    let (state, next_at) = if outcome.succeeded() {
        ("succeeded", None)
    } else if retry {
        ("pending", Some(at_ms + backoff_ms(attempt)))
    } else {
        ("failed", None)
    };
    let mut tx = db.begin().await?;
    let updated = tx
        .execute(
            "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, status_code = ?, \
             response_body = ?, error = ?, duration_ms = ?, updated_at = ?, \
             delivered_at = CASE WHEN ? = 'succeeded' THEN ? ELSE delivered_at END \
             WHERE id = ? AND attempts = ?",
            &[
                Param::from(state),
                Param::Int(attempt),
                Param::from(next_at),
                Param::from(outcome.status.map(i64::from)),
                Param::from(outcome.response.clone()),
                Param::from(outcome.error.clone()),
                Param::Int(outcome.duration_ms),
                Param::Int(at_ms),
                Param::from(state),
                Param::Int(at_ms),
                Param::Int(delivery.id),
                Param::Int(attempt - 1),
            ],
        )
        .await?;
    if updated == 0 {
        // Another instance recorded this attempt first.
        return Ok(());
    }
    tx.execute(
        "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, response_body, error, duration_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            Param::Int(delivery.id),
            Param::Int(attempt),
            Param::Int(at_ms),
            Param::from(outcome.status.map(i64::from)),
            Param::from(outcome.response.clone()),
            Param::from(outcome.error.clone()),
            Param::Int(outcome.duration_ms),
        ],
    )
    .await?;
    if let Some(next_at) = next_at {
        queue_attempt(&mut tx, delivery.id, attempt + 1, next_at).await?;
    }
    if !ping {
        if outcome.succeeded() {
            tx.execute(
                "UPDATE webhooks SET failure_count = 0 WHERE id = ? AND failure_count > 0",
                &[Param::Int(delivery.webhook_id)],
            )
            .await?;
        } else if state == "failed" {
            count_failure(&mut tx, delivery, outcome, at_ms).await?;
        }
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
            kind: "webhook.disabled",
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
    let event_id = new_event_id();
    let data = json!({
        "webhook_id": webhook_id,
        "events": hook["events"],
        "message": "A test delivery from Xiansuo: the webhook reaches this URL.",
    });
    let body = event_body(&event_id, PING, &data, now_ms);
    let mut tx = db.begin().await?;
    let id = insert_delivery(&mut tx, webhook_id, PING, &event_id, &body, now_ms).await?;
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
    delivery_by_id(db, id).await
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
    if found.state == "pending" {
        return Err(StoreError::Conflict(
            "this delivery is still pending; its next attempt is already queued".into(),
        ));
    }
    if !found.active {
        return Err(StoreError::Conflict(
            "the webhook is switched off: switch it on (PATCH with \"active\": true) first".into(),
        ));
    }
    let now_ms = to_millis(now);
    let mut tx = db.begin().await?;
    let updated = tx
        .execute(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?, updated_at = ? \
             WHERE id = ? AND state = ? AND attempts = ?",
            &[
                Param::Int(now_ms),
                Param::Int(now_ms),
                Param::Int(delivery),
                Param::from(found.state.as_str()),
                Param::Int(found.attempts),
            ],
        )
        .await?;
    if updated == 0 {
        return Err(StoreError::Conflict(
            "this delivery changed meanwhile; look at it again".into(),
        ));
    }
    queue_attempt(&mut tx, delivery, found.attempts + 1, now_ms).await?;
    tx.commit().await?;
    delivery_by_id(db, delivery).await
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event, event_id, body, state, attempts, \
     next_attempt_at, status_code, response_body, error, duration_ms, created_at, delivered_at";

fn delivery_json(row: &Row, log: Vec<Value>) -> Value {
    json!({
        "id": row.int("id"),
        "webhook_id": row.int("webhook_id"),
        "event": row.text("event"),
        "event_id": row.text("event_id"),
        "state": row.text("state"),
        "attempts": row.int("attempts"),
        "next_attempt_at": row.opt_int("next_attempt_at").map(rfc3339),
        "status_code": row.opt_int("status_code"),
        "response_body": row.opt_text("response_body"),
        "error": row.opt_text("error"),
        "duration_ms": row.opt_int("duration_ms"),
        "created_at": rfc3339(row.int("created_at")),
        "delivered_at": row.opt_int("delivered_at").map(rfc3339),
        "request_body": serde_json::from_str::<Value>(&row.text("body")).unwrap_or(Value::Null),
        "log": log,
    })
}

/// The attempts of these deliveries, by delivery, in order.
async fn attempt_logs(db: &Db, ids: &[i64]) -> anyhow::Result<Map<String, Value>> {
    let mut logs = Map::new();
    if ids.is_empty() {
        return Ok(logs);
    }
    let list = vec!["?"; ids.len()].join(", ");
    let params: Vec<Param> = ids.iter().map(|i| Param::Int(*i)).collect();
    for r in db
        .fetch_all(
            &format!(
                "SELECT delivery_id, attempt, at, status_code, response_body, error, duration_ms \
                 FROM webhook_attempts WHERE delivery_id IN ({list}) ORDER BY delivery_id, attempt"
            ),
            &params,
        )
        .await?
    {
        let entry = logs
            .entry(r.int("delivery_id").to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = entry {
            items.push(json!({
                "attempt": r.int("attempt"),
                "at": rfc3339(r.int("at")),
                "status_code": r.opt_int("status_code"),
                "response_body": r.opt_text("response_body"),
                "error": r.opt_text("error"),
                "duration_ms": r.int("duration_ms"),
            }));
        }
    }
    Ok(logs)
}

async fn delivery_by_id(db: &Db, id: i64) -> StoreResult<Value> {
    let row = db
        .fetch_optional(
            &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?"),
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("webhook delivery"))?;
    let mut logs = attempt_logs(db, &[id]).await?;
    let log = match logs.remove(&id.to_string()) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    Ok(delivery_json(&row, log))
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
    let mut conditions = vec!["webhook_id = ?".to_owned()];
    let mut params = vec![Param::Int(webhook_id)];
    let mut limit = 50;
    for (name, value) in query {
        match name.as_str() {
            "limit" => {
                limit = value
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
            "state" => {
                if !["pending", "succeeded", "failed"].contains(&value.as_str()) {
                    return Err(
                        Invalid::new("state", "must be pending, succeeded or failed").into(),
                    );
                }
                conditions.push("state = ?".into());
                params.push(Param::from(value.as_str()));
            }
            "event" => {
                conditions.push("event = ?".into());
                params.push(Param::from(value.as_str()));
            }
            other => return Err(Invalid::new(
                other,
                "is not a parameter of the delivery log (accepted: limit, cursor, state, event)",
            )
            .into()),
        }
    }
    let rows = db
        .fetch_all(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE {} ORDER BY id DESC LIMIT {}",
                conditions.join(" AND "),
                limit + 1
            ),
            &params,
        )
        .await?;
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let ids: Vec<i64> = rows.iter().map(|r| r.int("id")).collect();
    let mut logs = attempt_logs(db, &ids).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let log = match logs.remove(&r.int("id").to_string()) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            delivery_json(r, log)
        })
        .collect();
    let next_cursor = more.then(|| ids.last().map(i64::to_string)).flatten();
    Ok(json!({"items": items, "next_cursor": next_cursor}))
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
    fn only_http_and_https_urls_with_a_host_are_accepted() {
        assert!(parse_url(&json!("https://example.com/hooks")).is_ok());
        assert!(parse_url(&json!("http://127.0.0.1:9000/x")).is_ok());
        for bad in [
            json!("ftp://example.com/x"),
            json!("file:///etc/passwd"),
            json!("example.com/hooks"),
            json!("http://"),
            json!(42),
        ] {
            assert_eq!(parse_url(&bad).unwrap_err().field, "url", "{bad}");
        }
    }

    #[test]
    fn events_are_known_names_or_a_star_without_repeats() {
        assert_eq!(
            parse_events(&json!(["lead.created", "lead.created", "*"])).unwrap(),
            vec!["lead.created", "*"]
        );
        assert!(parse_events(&json!([])).is_err());
        assert!(parse_events(&json!(["lead.exploded"])).is_err());
        assert!(subscribes(&["*".to_owned()], "account.created"));
        assert!(!subscribes(&["lead.updated".to_owned()], "lead.created"));
    }

    #[test]
    fn unknown_fields_and_short_secrets_are_refused() {
        assert_eq!(
            parse_input(&json!({"colour": "red"})).err().unwrap().field,
            "colour"
        );
        assert_eq!(
            parse_input(&json!({"secret": "short"}))
                .err()
                .unwrap()
                .field,
            "secret"
        );
    }
}
