//! Outbound webhooks against a real HTTP receiver started by the test on 127.0.0.1: the admin
//! API and its checks; a lead created through the API arriving signed, with its data, only
//! after the jobs run; retries with backoff on the injected clock; a subscription switched off
//! after failing deliveries; nothing sent for a change that rolled back; the test ping and
//! sending a delivery again.

use crate::on_both_databases;
use crate::support::TestApp;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use chrono::Duration;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use xiansuo_app::channels::webhooks::{DISABLE_AFTER, MAX_ATTEMPTS};
use xiansuo_app::jobs::{self, JobEnv};
use xiansuo_core::role::Role;

/// A request the receiver got: its headers and its raw body.
#[derive(Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// True when the signature header is the HMAC-SHA256 of the raw body under `secret`.
    fn signed_with(&self, secret: &str) -> bool {
        let Some(hex_mac) = self.header("x-xiansuo-signature").strip_prefix("sha256=") else {
            return false;
        };
        let Ok(mac_bytes) = hex::decode(hex_mac) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&self.body);
        mac.verify_slice(&mac_bytes).is_ok()
    }
}

#[derive(Default)]
struct Log {
    requests: Vec<Received>,
    /// Statuses to answer with, in order; then `otherwise`.
    next: VecDeque<u16>,
    otherwise: u16,
}

/// An HTTP server on a free port that records every request and answers as told.
struct Receiver {
    url: String,
    log: Arc<Mutex<Log>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn hook(
    State(log): State<Arc<Mutex<Log>>>,
    headers: HeaderMap,
    body: Bytes,
) -> (AxumStatus, &'static str) {
    let mut log = log.lock().unwrap();
    log.requests.push(Received { headers, body });
    let status = log.next.pop_front().unwrap_or(log.otherwise);
    let text = if status >= 300 {
        "down for maintenance"
    } else {
        "ok"
    };
    (AxumStatus::from_u16(status).unwrap(), text)
}

impl Receiver {
    async fn start() -> Receiver {
        let log = Arc::new(Mutex::new(Log {
            otherwise: 200,
            ..Log::default()
        }));
        let app = axum::Router::new()
            .route("/hooks/xiansuo", axum::routing::post(hook))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/xiansuo", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Receiver {
            url,
            log,
            _shutdown: tx,
        }
    }

    fn requests(&self) -> Vec<Received> {
        self.log.lock().unwrap().requests.clone()
    }

    fn answer(&self, statuses: &[u16], otherwise: u16) {
        let mut log = self.log.lock().unwrap();
        log.next = statuses.iter().copied().collect();
        log.otherwise = otherwise;
    }
}

const SECRET: &str = "a-shared-secret-of-the-receiver";

/// Subscribes the receiver to `events` with [`SECRET`]; returns the webhook.
async fn subscribe(app: &TestApp, receiver: &Receiver, events: Value) -> Value {
    let reply = app
        .post(
            "/api/v1/webhooks",
            &app.admin_token,
            json!({"url": receiver.url, "events": events, "secret": SECRET}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn run_jobs(app: &TestApp) {
    jobs::run_due(&app.db, &JobEnv::default(), app.clock_now())
        .await
        .expect("jobs run");
}

async fn deliveries(app: &TestApp, webhook: i64) -> Vec<Value> {
    let reply = app
        .get(
            &format!("/api/v1/webhooks/{webhook}/deliveries"),
            &app.admin_token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

async fn admins_manage_webhooks_and_bad_input_is_refused(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let hook = json!({"url": "https://example.com/hooks", "events": ["lead.created"]});
    app.post("/api/v1/webhooks", &rep.token, hook.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.get("/api/v1/webhooks", &rep.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

    for (body, field) in [
        (
            json!({"url": "ftp://example.com/x", "events": ["lead.created"]}),
            "url",
        ),
        (
            json!({"url": "example.com/hooks", "events": ["lead.created"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/x", "events": ["lead.exploded"]}),
            "events",
        ),
        (
            json!({"url": "https://example.com/x", "events": []}),
            "events",
        ),
        (json!({"url": "https://example.com/x"}), "events"),
        (json!({"events": ["*"]}), "url"),
        (
            json!({"url": "https://example.com/x", "events": ["*"], "secret": "short"}),
            "secret",
        ),
        (
            json!({"url": "https://example.com/x", "events": ["*"], "colour": "red"}),
            "colour",
        ),
    ] {
        let reply = app.post("/api/v1/webhooks", &app.admin_token, body).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }

    let created = app.post("/api/v1/webhooks", &app.admin_token, hook).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let secret = created.body["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 30,
        "{secret}"
    );
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body["events"], json!(["lead.created"]));

    // The secret is shown once.
    let shown = app
        .get(&format!("/api/v1/webhooks/{id}"), &app.admin_token)
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.get("secret").is_none(), "{}", shown.body);
    assert_eq!(shown.body["url"], "https://example.com/hooks");

    let changed = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &app.admin_token,
            json!({"events": ["lead.assigned", "lead.converted"], "active": false, "description": "ERP"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        changed.body["events"],
        json!(["lead.assigned", "lead.converted"])
    );
    assert_eq!(changed.body["active"], false);
    assert_eq!(changed.body["description"], "ERP");
    // A change names the field it refuses; only the description may be set to null.
    for (body, field) in [
        (json!({"url": "gopher://x"}), "url"),
        (json!({"url": null}), "url"),
        (json!({"events": null}), "events"),
        (json!({"events": ["*", 7]}), "events[1]"),
        (json!({"active": null}), "active"),
        (json!({"secret": null}), "secret"),
        (json!({"active": "yes"}), "active"),
    ] {
        let reply = app
            .patch(&format!("/api/v1/webhooks/{id}"), &app.admin_token, body)
            .await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
    let cleared = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &app.admin_token,
            json!({"description": null}),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert_eq!(cleared.body["description"], Value::Null);
    assert_eq!(
        cleared.body["events"],
        json!(["lead.assigned", "lead.converted"]),
        "a change keeps what it leaves out"
    );

    let list = app.get("/api/v1/webhooks", &app.admin_token).await;
    assert_eq!(list.ids(), vec![id]);

    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            &app.admin_token,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/v1/webhooks/{id}"), &app.admin_token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn a_created_lead_arrives_signed_with_its_data(app: TestApp) {
    let receiver = Receiver::start().await;
    let hook = subscribe(&app, &receiver, json!(["lead.created"])).await;
    let hook_id = hook["id"].as_i64().unwrap();
    assert_eq!(hook["secret"], SECRET, "a given secret is kept");

    let lead = app
        .lead(
            &app.admin_token,
            json!({"name": "张伟", "company": "杭州云栖科技有限公司", "phone": "139-1234-5678", "email": "Zhang.Wei@example.com"}),
        )
        .await;
    assert!(
        receiver.requests().is_empty(),
        "nothing is sent from the request itself"
    );

    run_jobs(&app).await;
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert!(
        request.signed_with(SECRET),
        "the HMAC-SHA256 of the raw body"
    );
    assert!(!request.signed_with("another-secret-entirely"));
    assert_eq!(request.header("x-xiansuo-event"), "lead.created");
    assert_eq!(request.header("content-type"), "application/json");
    let body = request.json();
    assert_eq!(body["event"], "lead.created");
    assert!(body["id"].as_str().unwrap().starts_with("evt_"), "{body}");
    assert_eq!(body["occurred_at"], "2026-11-02T09:00:00.000Z");
    assert_eq!(body["data"]["id"], lead["id"]);
    assert_eq!(body["data"]["name"], "张伟");
    assert_eq!(body["data"]["company"], "杭州云栖科技有限公司");
    assert_eq!(body["data"]["phone_normalized"], "+8613912345678");
    assert_eq!(body["data"]["email_normalized"], "zhang.wei@example.com");

    let log = deliveries(&app, hook_id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        request.header("x-xiansuo-delivery"),
        log[0]["id"].to_string()
    );
    assert_eq!(log[0]["state"], "succeeded");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["status_code"], 200);
    assert_eq!(log[0]["response_body"], "ok");
    assert_eq!(log[0]["request_body"], body);
    assert_eq!(log[0]["log"].as_array().unwrap().len(), 1);

    // An event the subscription does not name is not sent.
    let changed = app
        .patch(
            &format!("/api/v1/leads/{}", lead["id"]),
            &app.admin_token,
            json!({"title": "CTO"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    run_jobs(&app).await;
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(deliveries(&app, hook_id).await.len(), 1);
}

async fn failed_deliveries_are_retried_with_backoff(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 502], 200);
    let hook = subscribe(&app, &receiver, json!(["*"])).await;
    let hook_id = hook["id"].as_i64().unwrap();
    app.lead(&app.admin_token, json!({"name": "李娜"})).await;

    run_jobs(&app).await;
    assert_eq!(receiver.requests().len(), 1);
    let delivery = &deliveries(&app, hook_id).await[0];
    assert_eq!(delivery["state"], "pending");
    assert_eq!(delivery["status_code"], 500);
    assert_eq!(delivery["next_attempt_at"], "2026-11-02T09:01:00.000Z");

    // Not before its time.
    run_jobs(&app).await;
    app.clock.advance(Duration::seconds(59));
    run_jobs(&app).await;
    assert_eq!(receiver.requests().len(), 1);

    app.clock.advance(Duration::seconds(1));
    run_jobs(&app).await;
    assert_eq!(receiver.requests().len(), 2);
    let delivery = &deliveries(&app, hook_id).await[0];
    assert_eq!(delivery["status_code"], 502);
    assert_eq!(
        delivery["next_attempt_at"], "2026-11-02T09:03:00.000Z",
        "the wait doubles"
    );

    app.clock.advance(Duration::seconds(119));
    run_jobs(&app).await;
    assert_eq!(receiver.requests().len(), 2);
    app.clock.advance(Duration::seconds(1));
    run_jobs(&app).await;
    let got = receiver.requests();
    assert_eq!(got.len(), 3);

    let delivery = &deliveries(&app, hook_id).await[0];
    assert_eq!(delivery["state"], "succeeded");
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["next_attempt_at"], Value::Null);
    assert_eq!(delivery["delivered_at"], "2026-11-02T09:03:00.000Z");
    let statuses: Vec<&Value> = delivery["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(statuses, [&json!(500), &json!(502), &json!(200)]);
    // Every attempt sends the same bytes, the same event id, the same delivery id.
    assert!(got
        .iter()
        .all(|r| r.body == got[0].body && r.signed_with(SECRET)));
    assert!(got
        .iter()
        .all(|r| r.header("x-xiansuo-delivery") == got[0].header("x-xiansuo-delivery")));
    let hook = app
        .get(&format!("/api/v1/webhooks/{hook_id}"), &app.admin_token)
        .await;
    assert_eq!(hook.body["failure_count"], 0);
    assert_eq!(hook.body["active"], true);
}

async fn a_webhook_that_keeps_failing_is_switched_off(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.answer(&[], 500);
    let hook = subscribe(&app, &receiver, json!(["lead.created"])).await;
    let hook_id = hook["id"].as_i64().unwrap();
    for i in 0..DISABLE_AFTER {
        app.lead(&app.admin_token, json!({"name": format!("客户{i}")}))
            .await;
    }
    for attempt in 1..=MAX_ATTEMPTS {
        run_jobs(&app).await;
        app.clock.advance(Duration::minutes(1 << (attempt - 1)));
    }
    assert_eq!(
        receiver.requests().len() as i64,
        DISABLE_AFTER * MAX_ATTEMPTS
    );
    let log = deliveries(&app, hook_id).await;
    assert_eq!(log.len() as i64, DISABLE_AFTER);
    assert!(log.iter().all(|d| d["state"] == "failed"
        && d["attempts"] == MAX_ATTEMPTS
        && d["status_code"] == 500));

    let hook = app
        .get(&format!("/api/v1/webhooks/{hook_id}"), &app.admin_token)
        .await
        .body;
    assert_eq!(hook["active"], false);
    assert_eq!(hook["failure_count"], DISABLE_AFTER);
    let reason = hook["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("HTTP 500"), "{reason}");
    assert!(hook["disabled_at"].is_string());
    let notes = app.get("/api/v1/notifications", &app.admin_token).await;
    assert!(
        notes.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "webhook.disabled"),
        "{}",
        notes.body
    );

    // Switched off: new events are not queued, failed deliveries are not sent again.
    app.lead(&app.admin_token, json!({"name": "新客户"})).await;
    run_jobs(&app).await;
    assert_eq!(deliveries(&app, hook_id).await.len() as i64, DISABLE_AFTER);
    let failed = log[0]["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/webhooks/deliveries/{failed}/retry"),
        &app.admin_token,
        json!({}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");

    // Switched on again once the receiver is fixed: counts reset, a delivery can be resent.
    receiver.answer(&[], 200);
    let on = app
        .patch(
            &format!("/api/v1/webhooks/{hook_id}"),
            &app.admin_token,
            json!({"active": true}),
        )
        .await;
    assert_eq!(on.body["active"], true);
    assert_eq!(on.body["failure_count"], 0);
    assert_eq!(on.body["disabled_reason"], Value::Null);
    let resent = app
        .post(
            &format!("/api/v1/webhooks/deliveries/{failed}/retry"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.body);
    assert_eq!(resent.body["state"], "pending");
    let before = receiver.requests().len();
    run_jobs(&app).await;
    assert_eq!(receiver.requests().len(), before + 1);
    let log = deliveries(&app, hook_id).await;
    let again = log.iter().find(|d| d["id"] == failed).unwrap();
    assert_eq!(again["state"], "succeeded");
    assert_eq!(again["attempts"], MAX_ATTEMPTS + 1);
}

async fn nothing_is_sent_for_a_change_that_rolls_back(app: TestApp) {
    let receiver = Receiver::start().await;
    let hook = subscribe(&app, &receiver, json!(["*"])).await;
    let hook_id = hook["id"].as_i64().unwrap();
    let now = app.clock_now().timestamp_millis();

    let mut tx = app.db.begin().await.unwrap();
    xiansuo_app::channels::events::emit(
        &mut tx,
        "lead.created",
        &json!({"id": 1, "name": "回滚"}),
        now,
    )
    .await
    .unwrap();
    drop(tx);
    run_jobs(&app).await;
    assert!(receiver.requests().is_empty());
    assert!(deliveries(&app, hook_id).await.is_empty());

    // The same in a transaction that commits is sent.
    let mut tx = app.db.begin().await.unwrap();
    xiansuo_app::channels::events::emit(
        &mut tx,
        "lead.created",
        &json!({"id": 2, "name": "提交"}),
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    run_jobs(&app).await;
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["data"]["name"], "提交");

    // A lead refused by the API raises nothing either.
    app.post(
        "/api/v1/leads",
        &app.admin_token,
        json!({"name": "坏号码", "phone": "12345"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    run_jobs(&app).await;
    assert_eq!(receiver.requests().len(), 1);
}

async fn a_ping_shows_the_answer_and_a_delivery_can_be_sent_again(app: TestApp) {
    let receiver = Receiver::start().await;
    let hook = subscribe(&app, &receiver, json!(["lead.converted"])).await;
    let hook_id = hook["id"].as_i64().unwrap();

    let ping = app
        .post(
            &format!("/api/v1/webhooks/{hook_id}/test"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(ping.status, StatusCode::OK, "{}", ping.body);
    assert_eq!(ping.body["event"], "ping");
    assert_eq!(ping.body["state"], "succeeded");
    assert_eq!(ping.body["status_code"], 200);
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("x-xiansuo-event"), "ping");
    assert!(got[0].signed_with(SECRET));
    assert_eq!(got[0].json()["data"]["webhook_id"], hook_id);

    receiver.answer(&[503], 200);
    let failed = app
        .post(
            &format!("/api/v1/webhooks/{hook_id}/test"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.body);
    assert_eq!(failed.body["state"], "failed", "a ping is not retried");
    assert_eq!(failed.body["status_code"], 503);
    assert_eq!(failed.body["response_body"], "down for maintenance");
    assert!(failed.body["duration_ms"].as_i64().is_some());
    let hook = app
        .get(&format!("/api/v1/webhooks/{hook_id}"), &app.admin_token)
        .await;
    assert_eq!(hook.body["failure_count"], 0, "a ping counts for nothing");

    // A receiver that is not there at all.
    let gone = app
        .post(
            "/api/v1/webhooks",
            &app.admin_token,
            json!({"url": "http://127.0.0.1:9/nothing-listens", "events": ["*"]}),
        )
        .await;
    let gone_id = gone.body["id"].as_i64().unwrap();
    let refused = app
        .post(
            &format!("/api/v1/webhooks/{gone_id}/test"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(refused.body["state"], "failed");
    assert_eq!(refused.body["status_code"], Value::Null);
    assert!(refused.body["error"].is_string(), "{}", refused.body);

    let failed_id = failed.body["id"].as_i64().unwrap();
    let resent = app
        .post(
            &format!("/api/v1/webhooks/deliveries/{failed_id}/retry"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.body);
    app.post(
        &format!("/api/v1/webhooks/deliveries/{failed_id}/retry"),
        &app.admin_token,
        json!({}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    run_jobs(&app).await;
    assert_eq!(receiver.requests().len(), 3);
    let log = deliveries(&app, hook_id).await;
    let again = log.iter().find(|d| d["id"] == failed_id).unwrap();
    assert_eq!(again["state"], "succeeded");
    assert_eq!(again["attempts"], 2);

    app.post(
        "/api/v1/webhooks/deliveries/999999/retry",
        &app.admin_token,
        json!({}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    let rep = app.user("rep", Role::Rep, None).await;
    app.post(
        &format!("/api/v1/webhooks/{hook_id}/test"),
        &rep.token,
        json!({}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
}

on_both_databases!(
    admins_manage_webhooks_and_bad_input_is_refused,
    a_created_lead_arrives_signed_with_its_data,
    failed_deliveries_are_retried_with_backoff,
    a_webhook_that_keeps_failing_is_switched_off,
    nothing_is_sent_for_a_change_that_rolls_back,
    a_ping_shows_the_answer_and_a_delivery_can_be_sent_again,
);
