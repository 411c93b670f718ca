//! Group robots against a real HTTP receiver started by the test on 127.0.0.1, which plays
//! WeCom, DingTalk and Feishu: it checks DingTalk's and Feishu's signatures by their own
//! recipes, answers as those services do (`errcode`/`code` 0, or not), and records what came.
//! The admin API and its checks; one lead assignment reaching a robot of each kind in its
//! format; a refused message retried with backoff and logged; a team's robot hearing nothing of
//! another team's leads; a won deal with its amount; the test message and sending a delivery again.

use crate::on_both_databases;
use crate::support::TestApp;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::Duration;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use xiansuo_app::jobs::{self, JobEnv};
use xiansuo_core::role::Role;

const DINGTALK_SECRET: &str = "SEC0123456789abcdef-dingtalk";
const FEISHU_SECRET: &str = "feishu-signing-secret";

/// A message the receiver got: the service it played, and the body.
#[derive(Clone, Debug)]
struct Received {
    service: String,
    body: Value,
    /// The signature checked out (DingTalk, Feishu); WeCom ones are never signed.
    verified: bool,
}

/// An HTTP server on a free port playing the three services at `/wecom`, `/dingtalk` and
/// `/feishu`.
struct Receiver {
    base: String,
    log: Arc<Mutex<Vec<Received>>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

async fn service(
    State(log): State<Arc<Mutex<Vec<Received>>>>,
    Path(service): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Json<Value> {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (verified, answer) = match service.as_str() {
        // DingTalk: timestamp (ms) and sign in the query; sign = base64(HMAC-SHA256 keyed with
        // the secret of "timestamp\nsecret").
        "dingtalk" => {
            let timestamp = query.get("timestamp").cloned().unwrap_or_default();
            let expected = hmac_base64(
                DINGTALK_SECRET.as_bytes(),
                format!("{timestamp}\n{DINGTALK_SECRET}").as_bytes(),
            );
            let ok = query.get("sign") == Some(&expected);
            let answer = if ok {
                json!({"errcode": 0, "errmsg": "ok"})
            } else {
                json!({"errcode": 310000, "errmsg": "sign not match"})
            };
            (ok, answer)
        }
        // Feishu: timestamp (s, a string) and sign in the body; sign = base64(HMAC-SHA256 keyed
        // with "timestamp\nsecret" of nothing).
        "feishu" => {
            let timestamp = body["timestamp"].as_str().unwrap_or_default();
            let expected = hmac_base64(format!("{timestamp}\n{FEISHU_SECRET}").as_bytes(), b"");
            let ok = !timestamp.is_empty() && body["sign"] == expected.as_str();
            let answer = if ok {
                json!({"code": 0, "msg": "success"})
            } else {
                json!({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})
            };
            (ok, answer)
        }
        _ => (false, json!({"errcode": 0, "errmsg": "ok"})),
    };
    log.lock().unwrap().push(Received {
        service,
        body,
        verified,
    });
    Json(answer)
}

impl Receiver {
    async fn start() -> Receiver {
        let log = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/{service}", axum::routing::post(service))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
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
            base,
            log,
            _shutdown: tx,
        }
    }

    fn got(&self, service: &str) -> Vec<Received> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.service == service)
            .cloned()
            .collect()
    }
}

async fn run_jobs(app: &TestApp) {
    jobs::run_due(&app.db, &JobEnv::default(), app.clock_now())
        .await
        .expect("jobs run");
}

/// Creates a robot, asserting 201; returns its id.
async fn robot(app: &TestApp, body: Value) -> i64 {
    let reply = app.post("/api/v1/robots", &app.admin_token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert!(reply.body.get("secret").is_none(), "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

async fn deliveries(app: &TestApp, robot: i64) -> Vec<Value> {
    let reply = app
        .get(
            &format!("/api/v1/robots/{robot}/deliveries"),
            &app.admin_token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

/// A rep called `name` in `team`, with the display name `display`.
async fn rep(app: &TestApp, name: &str, display: &str, team: Option<i64>) -> i64 {
    let rep = app.user(name, Role::Rep, team).await;
    let changed = app
        .patch(
            &format!("/api/v1/users/{}", rep.id),
            &app.admin_token,
            json!({"display_name": display}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    rep.id
}

async fn admins_manage_robots_and_bad_input_is_refused(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let good = json!({"name": "华东销售群", "kind": "wecom", "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "events": ["lead.assigned"]});
    app.post("/api/v1/robots", &rep.token, good.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.get("/api/v1/robots", &rep.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    for (body, field) in [
        (
            with("webhook_url", json!("ftp://example.com/x")),
            "webhook_url",
        ),
        (
            with("webhook_url", json!("example.com/robot")),
            "webhook_url",
        ),
        (with("events", json!(["lead.exploded"])), "events"),
        (with("events", json!([])), "events"),
        (with("kind", json!("slack")), "kind"),
        (with("secret", json!("SECabc")), "secret"),
        (with("language", json!("fr")), "language"),
        (with("team_id", json!(999_999)), "team_id"),
        (with("active", json!("yes")), "active"),
        (with("name", json!("  ")), "name"),
        (with("colour", json!("red")), "colour"),
        (
            json!({"name": "x", "kind": "wecom", "events": ["lead.assigned"]}),
            "webhook_url",
        ),
    ] {
        let reply = app.post("/api/v1/robots", &app.admin_token, body).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }

    let id = robot(&app, good).await;
    let shown = app
        .get(&format!("/api/v1/robots/{id}"), &app.admin_token)
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.body["kind"], "wecom");
    assert_eq!(shown.body["language"], "zh");
    assert_eq!(shown.body["active"], true);
    assert_eq!(shown.body["signed"], false);
    assert_eq!(shown.body["team_id"], Value::Null);

    let changed = app
        .patch(
            &format!("/api/v1/robots/{id}"),
            &app.admin_token,
            json!({"kind": "dingtalk", "secret": "SECxyz", "events": ["lead.assigned", "opportunity.won"], "language": "en", "active": false}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["kind"], "dingtalk");
    assert_eq!(changed.body["signed"], true);
    assert_eq!(
        changed.body["events"],
        json!(["lead.assigned", "opportunity.won"])
    );
    assert_eq!(changed.body["language"], "en");
    assert_eq!(changed.body["active"], false);
    assert!(changed.body.get("secret").is_none());
    app.patch(
        &format!("/api/v1/robots/{id}"),
        &app.admin_token,
        json!({"webhook_url": "gopher://x"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.patch(
        &format!("/api/v1/robots/{id}"),
        &rep.token,
        json!({"active": true}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let list = app.get("/api/v1/robots", &app.admin_token).await;
    assert_eq!(list.ids(), vec![id]);
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/v1/robots/{id}"),
            &app.admin_token,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/v1/robots/{id}"), &app.admin_token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn an_assigned_lead_reaches_each_kind_of_robot_in_its_format(app: TestApp) {
    let receiver = Receiver::start().await;
    let wecom = robot(
        &app,
        json!({"name": "企业微信群", "kind": "wecom", "webhook_url": format!("{}/wecom?key=k1", receiver.base), "events": ["lead.assigned"]}),
    )
    .await;
    let dingtalk = robot(
        &app,
        json!({"name": "钉钉群", "kind": "dingtalk", "webhook_url": format!("{}/dingtalk?access_token=t1", receiver.base), "secret": DINGTALK_SECRET, "events": ["lead.assigned"]}),
    )
    .await;
    let feishu = robot(
        &app,
        json!({"name": "Feishu group", "kind": "feishu", "webhook_url": format!("{}/feishu", receiver.base), "secret": FEISHU_SECRET, "events": ["lead.assigned"], "language": "en"}),
    )
    .await;
    let owner = rep(&app, "wangfang", "王芳", None).await;

    app.lead(
        &app.admin_token,
        json!({"name": "张伟", "company": "杭州云栖科技有限公司", "owner_id": owner}),
    )
    .await;
    assert!(
        receiver.log.lock().unwrap().is_empty(),
        "nothing is sent from the request itself"
    );
    run_jobs(&app).await;

    let got = receiver.got("wecom");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].body["msgtype"], "markdown");
    let content = got[0].body["markdown"]["content"].as_str().unwrap();
    assert!(content.contains("新线索分配"), "{content}");
    assert!(
        content.contains("张伟（杭州云栖科技有限公司）"),
        "{content}"
    );
    assert!(content.contains("负责人：王芳"), "{content}");

    let got = receiver.got("dingtalk");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].verified, "DingTalk's signature checks out");
    assert_eq!(got[0].body["msgtype"], "markdown");
    assert_eq!(got[0].body["markdown"]["title"], "新线索分配");
    let text = got[0].body["markdown"]["text"].as_str().unwrap();
    assert!(text.contains("张伟") && text.contains("王芳"), "{text}");

    let got = receiver.got("feishu");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].verified, "Feishu's signature checks out");
    assert_eq!(got[0].body["msg_type"], "text");
    let text = got[0].body["content"]["text"].as_str().unwrap();
    assert!(text.starts_with("New lead assigned"), "{text}");
    assert!(text.contains("Owner: 王芳"), "{text}");

    for id in [wecom, dingtalk, feishu] {
        let log = deliveries(&app, id).await;
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!(log[0]["event"], "lead.assigned");
        assert_eq!(log[0]["state"], "succeeded", "{}", log[0]);
        assert_eq!(log[0]["attempts"], 1);
        assert_eq!(log[0]["status_code"], 200);
        assert_eq!(log[0]["log"].as_array().unwrap().len(), 1);
    }

    // A test message goes out now and is logged, not retried.
    let tested = app
        .post(
            &format!("/api/v1/robots/{feishu}/test"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.body);
    assert_eq!(tested.body["event"], "test");
    assert_eq!(tested.body["state"], "succeeded", "{}", tested.body);
    let got = receiver.got("feishu");
    assert_eq!(got.len(), 2);
    assert!(got[1].verified);
    assert!(got[1].body["content"]["text"]
        .as_str()
        .unwrap()
        .contains("Feishu group"));
}

async fn a_refused_message_is_retried_with_backoff_and_logged(app: TestApp) {
    let receiver = Receiver::start().await;
    let id = robot(
        &app,
        json!({"name": "钉钉群", "kind": "dingtalk", "webhook_url": format!("{}/dingtalk?access_token=t1", receiver.base), "secret": "SECnot-the-right-one", "events": ["lead.assigned"]}),
    )
    .await;
    let owner = rep(&app, "lina", "李娜", None).await;
    app.lead(&app.admin_token, json!({"name": "赵磊", "owner_id": owner}))
        .await;

    run_jobs(&app).await;
    let got = receiver.got("dingtalk");
    assert_eq!(got.len(), 1);
    assert!(!got[0].verified);
    let log = deliveries(&app, id).await;
    assert_eq!(log[0]["state"], "pending", "{}", log[0]);
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["status_code"], 200, "the robot answers 200 …");
    assert_eq!(
        log[0]["error"], "errcode 310000: sign not match",
        "… but refuses in its body"
    );
    let attempt = &log[0]["log"][0];
    assert!(
        attempt["response_body"]
            .as_str()
            .unwrap()
            .contains("310000"),
        "{attempt}"
    );
    assert!(attempt["at"].is_string());

    // The next attempt waits a minute.
    app.clock.advance(Duration::seconds(59));
    run_jobs(&app).await;
    assert_eq!(receiver.got("dingtalk").len(), 1);
    app.clock.advance(Duration::seconds(1));
    run_jobs(&app).await;
    assert_eq!(receiver.got("dingtalk").len(), 2);
    let log = deliveries(&app, id).await;
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["log"].as_array().unwrap().len(), 2);

    // With the right secret, the next attempt is signed so that it checks out.
    let fixed = app
        .patch(
            &format!("/api/v1/robots/{id}"),
            &app.admin_token,
            json!({"secret": DINGTALK_SECRET}),
        )
        .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.body);
    app.clock.advance(Duration::seconds(120));
    run_jobs(&app).await;
    let got = receiver.got("dingtalk");
    assert_eq!(got.len(), 3);
    assert!(got[2].verified);
    let log = deliveries(&app, id).await;
    assert_eq!(log[0]["state"], "succeeded", "{}", log[0]);
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["error"], Value::Null);

    // A finished delivery may be sent again; a pending one may not.
    let delivery = log[0]["id"].as_i64().unwrap();
    let again = app
        .post(
            &format!("/api/v1/robots/deliveries/{delivery}/retry"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.body["state"], "pending");
    app.post(
        &format!("/api/v1/robots/deliveries/{delivery}/retry"),
        &app.admin_token,
        json!({}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    run_jobs(&app).await;
    assert_eq!(receiver.got("dingtalk").len(), 4);
    assert_eq!(deliveries(&app, id).await[0]["attempts"], 4);
}

async fn a_team_robot_hears_only_of_its_teams_leads(app: TestApp) {
    let receiver = Receiver::start().await;
    let east = app.team("华东区", None).await;
    let hangzhou = app.team("杭州分公司", Some(east)).await;
    let south = app.team("华南区", None).await;
    let in_hangzhou = rep(&app, "chen", "陈静", Some(hangzhou)).await;
    let in_south = rep(&app, "liu", "刘洋", Some(south)).await;
    let id = robot(
        &app,
        json!({"name": "华东群", "kind": "wecom", "webhook_url": format!("{}/wecom", receiver.base), "events": ["lead.assigned"], "team_id": east}),
    )
    .await;

    app.lead(
        &app.admin_token,
        json!({"name": "南方客户", "owner_id": in_south}),
    )
    .await;
    app.lead(
        &app.admin_token,
        json!({"name": "杭州客户", "owner_id": in_hangzhou}),
    )
    .await;
    run_jobs(&app).await;

    let got = receiver.got("wecom");
    assert_eq!(got.len(), 1, "{got:?}");
    let content = got[0].body["markdown"]["content"].as_str().unwrap();
    assert!(content.contains("杭州客户"), "{content}");
    assert!(content.contains("陈静"), "{content}");
    assert_eq!(deliveries(&app, id).await.len(), 1);
}

async fn a_won_deal_reaches_the_robot_with_its_amount(app: TestApp) {
    let receiver = Receiver::start().await;
    robot(
        &app,
        json!({"name": "Wins", "kind": "wecom", "webhook_url": format!("{}/wecom", receiver.base), "events": ["opportunity.won"], "language": "en"}),
    )
    .await;
    let owner = rep(&app, "zhou", "周涛", None).await;
    let deal = app
        .post(
            "/api/v1/opportunities",
            &app.admin_token,
            json!({"name": "云栖二期", "stage": "proposal", "amount": 1234567, "owner_id": owner}),
        )
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.body);
    let path = format!("/api/v1/opportunities/{}", deal.body["id"]);
    let moved = app
        .patch(&path, &app.admin_token, json!({"stage": "commitment"}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    run_jobs(&app).await;
    assert!(
        receiver.got("wecom").is_empty(),
        "a stage that is not won says nothing"
    );

    let won = app
        .patch(&path, &app.admin_token, json!({"stage": "paid"}))
        .await;
    assert_eq!(won.status, StatusCode::OK, "{}", won.body);
    run_jobs(&app).await;
    let got = receiver.got("wecom");
    assert_eq!(got.len(), 1, "{got:?}");
    let content = got[0].body["markdown"]["content"].as_str().unwrap();
    assert!(content.starts_with("**Deal won**"), "{content}");
    assert!(content.contains("Deal: 云栖二期"), "{content}");
    assert!(content.contains("Amount: ¥1,234,567.00"), "{content}");
    assert!(content.contains("Owner: 周涛"), "{content}");
}

on_both_databases!(
    admins_manage_robots_and_bad_input_is_refused,
    an_assigned_lead_reaches_each_kind_of_robot_in_its_format,
    a_refused_message_is_retried_with_backoff_and_logged,
    a_team_robot_hears_only_of_its_teams_leads,
    a_won_deal_reaches_the_robot_with_its_amount,
);
