//! What every outbound HTTP channel (webhooks, group robots) shares: checking a receiver's URL,
//! making one POST and keeping the start of the answer ([`post`] → [`Outcome`]), and the
//! delivery log ([`Ledger`]): one row per delivery with its state (`pending`, `succeeded`,
//! `failed`), one row per attempt, the next attempt after a backoff of 1, 2, 4, … minutes up to
//! [`MAX_ATTEMPTS`], sending a finished delivery again, and the log read back page by page.
//!
//! A channel keeps its own two tables shaped alike (`…_deliveries`, `…_attempts`) and its own
//! job that makes one attempt; this module does the bookkeeping in between.

use crate::error::{StoreError, StoreResult};
use crate::jobs::queue::{self, backoff_ms, Job};
use crate::records::rfc3339;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};
use xiansuo_core::Invalid;
use xiansuo_store::{Db, Param, Row, Tx};

/// Attempts per delivery: the first, then retries 1, 2, 4, … 64 minutes apart (about two
/// hours in all).
pub const MAX_ATTEMPTS: i64 = 8;

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a receiver's answer is kept, in characters.
const SNIPPET_CHARS: usize = 1000;

/// Deliveries per page of the log, at most.
const MAX_PAGE: i64 = 200;

/// Which attempt of which delivery a delivery job makes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Attempt {
    pub delivery_id: i64,
    pub attempt: i64,
}

/// A new event id (`evt_` and 32 hex digits): every attempt of a delivery carries the same.
pub(crate) fn new_event_id() -> String {
    let mut bytes = [0_u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("evt_{}", hex::encode(bytes))
}

/// Queues attempt number `attempt` of a delivery at `at_ms` as a job `J`; once per attempt,
/// however often this is called.
pub(crate) async fn queue_attempt<J: Job<Payload = Attempt>>(
    tx: &mut Tx,
    delivery: i64,
    attempt: i64,
    at_ms: i64,
) -> anyhow::Result<()> {
    queue::enqueue::<J>(
        tx,
        &Attempt {
            delivery_id: delivery,
            attempt,
        },
        at_ms,
        Some(&format!("{}:{delivery}:{attempt}", J::KIND)),
    )
    .await?;
    Ok(())
}

/// `text` as a receiver's URL for `field`: http or https, with a host (any host, a private
/// one included: receivers often sit on the same network).
pub(crate) fn parse_url(field: &str, text: &str) -> Result<String, Invalid> {
    let text = text.trim();
    let bad = || {
        Invalid::new(
            field,
            "must be an http:// or https:// URL with a host, such as https://example.com/hooks/xiansuo",
        )
    };
    if text.len() > 2000 {
        return Err(Invalid::new(field, "must be at most 2000 characters"));
    }
    let url = reqwest::Url::parse(text).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(url.to_string())
}

/// What one attempt got.
pub(crate) struct Outcome {
    pub(crate) status: Option<u16>,
    pub(crate) response: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) duration_ms: i64,
    /// The receiver answered 2xx but said in its body that it did not take the message.
    refused: bool,
}

impl Outcome {
    pub(crate) fn succeeded(&self) -> bool {
        !self.refused && self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// What went wrong, in a few words.
    pub(crate) fn failure(&self) -> String {
        match (&self.error, self.status) {
            (Some(e), _) => e.clone(),
            (None, Some(s)) => format!("HTTP {s}"),
            (None, None) => "no answer".to_owned(),
        }
    }

    /// Counts a 2xx answer as failed, for `reason` (a robot's non-zero `errcode`).
    pub(crate) fn refuse(&mut self, reason: String) {
        self.refused = true;
        self.error = Some(reason);
    }
}

/// POSTs `body` as JSON to `url` with `headers` and keeps the start of the answer. Never
/// fails: a refused connection, a timeout or an unreadable answer is an outcome like a status.
pub(crate) async fn post(
    http: &reqwest::Client,
    url: &str,
    headers: &[(&'static str, String)],
    body: &str,
) -> Outcome {
    let started = Instant::now();
    let mut request = http
        .post(url)
        .timeout(TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            reqwest::header::USER_AGENT,
            concat!("Xiansuo/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let (status, response, error) = match request.body(body.to_owned()).send().await {
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
        refused: false,
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

/// Where an attempt left its delivery.
pub(crate) enum Step {
    /// Done: delivered (`succeeded`) or given up (`failed`).
    Finished { succeeded: bool },
    /// Failed; the next attempt is due then.
    Retry { at_ms: i64 },
    /// Another instance recorded this attempt first; nothing was written.
    Raced,
}

/// One channel's delivery log: its tables and the column naming the subscriber.
pub(crate) struct Ledger {
    pub(crate) deliveries: &'static str,
    pub(crate) attempts: &'static str,
    /// `webhook_id`, `robot_id`: also the key of the subscriber in the log's JSON.
    pub(crate) owner: &'static str,
    /// What a missing delivery is called in a 404.
    pub(crate) what: &'static str,
}

const DELIVERY_COLUMNS: &str = "id, event, event_id, body, state, attempts, next_attempt_at, \
     status_code, response_body, error, duration_ms, created_at, delivered_at";

impl Ledger {
    /// A new pending delivery of `body` to subscriber `owner`.
    pub(crate) async fn insert(
        &self,
        tx: &mut Tx,
        owner: i64,
        event: &str,
        event_id: &str,
        body: &str,
        now_ms: i64,
    ) -> anyhow::Result<i64> {
        tx.insert_returning_id(
            &format!(
                "INSERT INTO {} ({}, event, event_id, body, state, attempts, next_attempt_at, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
                self.deliveries, self.owner
            ),
            &[
                Param::Int(owner),
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

    /// Records attempt `attempt` of `delivery` and what follows from it: success, the next
    /// attempt (when `may_retry` and attempts are left), or the end of the delivery. The
    /// caller queues the next attempt's job in the same transaction.
    pub(crate) async fn record(
        &self,
        tx: &mut Tx,
        delivery: i64,
        attempt: i64,
        outcome: &Outcome,
        may_retry: bool,
        at_ms: i64,
    ) -> anyhow::Result<Step> {
        let succeeded = outcome.succeeded();
        let next_at = (!succeeded && may_retry && attempt < MAX_ATTEMPTS)
            .then(|| at_ms + backoff_ms(attempt));
        let state = match (succeeded, next_at) {
            (true, _) => "succeeded",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let updated = tx
            .execute(
                &format!(
                    "UPDATE {} SET state = ?, attempts = ?, next_attempt_at = ?, status_code = ?, \
                     response_body = ?, error = ?, duration_ms = ?, updated_at = ?, \
                     delivered_at = CASE WHEN ? = 'succeeded' THEN ? ELSE delivered_at END \
                     WHERE id = ? AND attempts = ?",
                    self.deliveries
                ),
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
                    Param::Int(delivery),
                    Param::Int(attempt - 1),
                ],
            )
            .await?;
        if updated == 0 {
            return Ok(Step::Raced);
        }
        tx.execute(
            &format!(
                "INSERT INTO {} (delivery_id, attempt, at, status_code, response_body, error, duration_ms) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                self.attempts
            ),
            &[
                Param::Int(delivery),
                Param::Int(attempt),
                Param::Int(at_ms),
                Param::from(outcome.status.map(i64::from)),
                Param::from(outcome.response.clone()),
                Param::from(outcome.error.clone()),
                Param::Int(outcome.duration_ms),
            ],
        )
        .await?;
        Ok(match next_at {
            Some(at_ms) => Step::Retry { at_ms },
            None => Step::Finished { succeeded },
        })
    }

    /// Ends a pending delivery unsent, for `reason` (its subscriber was switched off).
    pub(crate) async fn give_up(
        &self,
        db: &Db,
        delivery: i64,
        reason: &str,
        at_ms: i64,
    ) -> anyhow::Result<()> {
        db.execute(
            &format!(
                "UPDATE {} SET state = 'failed', next_attempt_at = NULL, error = ?, updated_at = ? \
                 WHERE id = ? AND state = 'pending'",
                self.deliveries
            ),
            &[Param::from(reason), Param::Int(at_ms), Param::Int(delivery)],
        )
        .await?;
        Ok(())
    }

    /// Sends a finished delivery (`state`, after `attempts`) again: pending once more, with
    /// attempt `attempts + 1` queued now as a job `J`. A delivery still pending is refused, as
    /// is one that changed meanwhile. Answers with the delivery.
    pub(crate) async fn send_again<J: Job<Payload = Attempt>>(
        &self,
        db: &Db,
        delivery: i64,
        state: &str,
        attempts: i64,
        now_ms: i64,
    ) -> StoreResult<Value> {
        if state == "pending" {
            return Err(StoreError::Conflict(
                "this delivery is still pending; its next attempt is already queued".into(),
            ));
        }
        let mut tx = db.begin().await?;
        let updated = tx
            .execute(
                &format!(
                    "UPDATE {} SET state = 'pending', next_attempt_at = ?, updated_at = ? \
                     WHERE id = ? AND state = ? AND attempts = ?",
                    self.deliveries
                ),
                &[
                    Param::Int(now_ms),
                    Param::Int(now_ms),
                    Param::Int(delivery),
                    Param::from(state),
                    Param::Int(attempts),
                ],
            )
            .await?;
        if updated == 0 {
            return Err(StoreError::Conflict(
                "this delivery changed meanwhile; look at it again".into(),
            ));
        }
        queue_attempt::<J>(&mut tx, delivery, attempts + 1, now_ms).await?;
        tx.commit().await?;
        self.by_id(db, delivery).await
    }

    fn delivery_json(&self, row: &Row, log: Vec<Value>) -> Value {
        json!({
            "id": row.int("id"),
            self.owner: row.int(self.owner),
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
    async fn attempt_logs(&self, db: &Db, ids: &[i64]) -> anyhow::Result<Map<String, Value>> {
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
                     FROM {} WHERE delivery_id IN ({list}) ORDER BY delivery_id, attempt",
                    self.attempts
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

    /// One delivery with its attempts, as the log shows it.
    pub(crate) async fn by_id(&self, db: &Db, id: i64) -> StoreResult<Value> {
        let row = db
            .fetch_optional(
                &format!(
                    "SELECT {DELIVERY_COLUMNS}, {} FROM {} WHERE id = ?",
                    self.owner, self.deliveries
                ),
                &[Param::Int(id)],
            )
            .await?
            .ok_or(StoreError::NotFound(self.what))?;
        let mut logs = self.attempt_logs(db, &[id]).await?;
        let log = match logs.remove(&id.to_string()) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        Ok(self.delivery_json(&row, log))
    }

    /// The deliveries to subscriber `owner`, newest first: `?limit=` (1–200, default 50),
    /// `?cursor=` (the `next_cursor` of the page before), `?state=pending|succeeded|failed`,
    /// `?event=`.
    pub(crate) async fn page(
        &self,
        db: &Db,
        owner: i64,
        query: &[(String, String)],
    ) -> StoreResult<Value> {
        let mut conditions = vec![format!("{} = ?", self.owner)];
        let mut params = vec![Param::Int(owner)];
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
                    "SELECT {DELIVERY_COLUMNS}, {} FROM {} WHERE {} ORDER BY id DESC LIMIT {}",
                    self.owner,
                    self.deliveries,
                    conditions.join(" AND "),
                    limit + 1
                ),
                &params,
            )
            .await?;
        let more = rows.len() as i64 > limit;
        let rows = &rows[..rows.len().min(limit as usize)];
        let ids: Vec<i64> = rows.iter().map(|r| r.int("id")).collect();
        let mut logs = self.attempt_logs(db, &ids).await?;
        let items: Vec<Value> = rows
            .iter()
            .map(|r| {
                let log = match logs.remove(&r.int("id").to_string()) {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                self.delivery_json(r, log)
            })
            .collect();
        let next_cursor = more.then(|| ids.last().map(i64::to_string)).flatten();
        Ok(json!({"items": items, "next_cursor": next_cursor}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_with_a_host_are_accepted() {
        assert!(parse_url("url", "https://example.com/hooks").is_ok());
        assert!(parse_url("url", "http://127.0.0.1:9000/x").is_ok());
        for bad in [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "example.com/hooks",
            "http://",
        ] {
            assert_eq!(parse_url("url", bad).unwrap_err().field, "url", "{bad}");
        }
    }

    #[test]
    fn a_refused_answer_fails_even_with_a_2xx_status() {
        let mut outcome = Outcome {
            status: Some(200),
            response: Some(r#"{"errcode":310000}"#.into()),
            error: None,
            duration_ms: 3,
            refused: false,
        };
        assert!(outcome.succeeded());
        outcome.refuse("errcode 310000".into());
        assert!(!outcome.succeeded());
        assert_eq!(outcome.failure(), "errcode 310000");
    }
}
