//! A person's data on request (PIPL / GDPR): an admin exports everything held about a person
//! found by phone or e-mail (`GET /api/v1/privacy/export`), then erases it
//! (`POST /api/v1/privacy/erase`); the records stay for the counts, their personal data is
//! gone from records, activities, history and search, and nobody else's data is touched.

use crate::on_both_databases;
use crate::support::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    a_person_is_exported_then_erased_keeping_the_counts,
    only_admins_may_and_bad_requests_are_refused,
);

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("an id")
}

async fn a_person_is_exported_then_erased_keeping_the_counts(app: TestApp) {
    let t = &app.admin_token;
    for field in [
        json!({"object": "lead", "key": "wechat_id", "label": "微信", "field_type": "text"}),
        json!({"object": "lead", "key": "budget", "label": "预算", "field_type": "number"}),
    ] {
        let reply = app.post("/api/v1/custom-fields", t, field).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    // Nothing listens there: the deliveries stay queued with the lead in their bodies.
    let hook = app
        .post(
            "/api/v1/webhooks",
            t,
            json!({"url": "http://127.0.0.1:9/hook", "events": ["lead.created"]}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);
    let deliveries = format!("/api/v1/webhooks/{}/deliveries", id(&hook.body));
    let zhang = app
        .lead(
            t,
            json!({"name": "张伟", "phone": "13800138000", "email": "zw@hengyuan.cn",
                   "company": "恒远科技", "title": "采购经理", "source": "web_form",
                   "description": "住在朝阳区", "custom": {"wechat_id": "zw_888", "budget": 200000}}),
        )
        .await;
    let other = app
        .lead(
            t,
            json!({"name": "李娜", "phone": "13900139000", "company": "恒远科技", "source": "web_form"}),
        )
        .await;
    let contact = app
        .post(
            "/api/v1/contacts",
            t,
            json!({"name": "张伟", "phone": "+86 138 0013 8000", "wechat": "zw_888"}),
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);
    let activity = app
        .post(
            &format!("/api/v1/leads/{}/activities", id(&zhang)),
            t,
            json!({"type": "call", "outcome": "call_back", "content": "他说预算二十万，晚上打 13800138000"}),
        )
        .await;
    assert_eq!(activity.status, StatusCode::CREATED, "{}", activity.body);

    let queued = app.get(&deliveries, t).await.body.to_string();
    assert!(queued.contains("13800138000"), "{queued}");

    // The export: everything about the person, found by the phone in another format.
    let export = app
        .get("/api/v1/privacy/export?phone=138-0013-8000", t)
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    let doc = &export.body;
    assert_eq!(doc["person"]["phone"], "+8613800138000");
    let names: Vec<&str> = doc["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["张伟"], "only the person's lead, not 李娜's");
    assert_eq!(doc["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["activities"][0]["content"],
        "他说预算二十万，晚上打 13800138000"
    );
    assert!(
        doc["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["new_value"]["name"] == "张伟"),
        "the history with the first values: {}",
        doc["history"]
    );
    let exports = app.get("/api/v1/exports", t).await;
    assert_eq!(exports.body["items"][0]["record_type"], "person");
    assert_eq!(exports.body["items"][0]["rows"], 2);

    // The erasure.
    let reply = app
        .post(
            "/api/v1/privacy/erase",
            t,
            json!({"email": "ZW@hengyuan.cn", "phone": "13800138000",
                   "reason": "本人 2026-11-20 来电要求删除"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["erased"]["leads"], 1);
    assert_eq!(reply.body["erased"]["contacts"], 1);
    assert_eq!(reply.body["erased"]["activities"], 1);
    assert_eq!(reply.body["erased"]["webhook_deliveries"], 1);
    let queued = app.get(&deliveries, t).await.body.to_string();
    for personal in ["张伟", "13800138000", "zw@hengyuan.cn"] {
        assert!(!queued.contains(personal), "{personal} left in {queued}");
    }
    assert!(
        queued.contains("李娜"),
        "another person's delivery stays: {queued}"
    );

    let lead = app
        .get(&format!("/api/v1/leads/{}", id(&zhang)), t)
        .await
        .body;
    assert_eq!(lead["name"], "已擦除");
    for field in ["phone", "email", "title", "description"] {
        assert!(lead[field].is_null(), "{field} is erased: {lead}");
    }
    assert_eq!(
        (&lead["source"], &lead["status"], &lead["company"]),
        (&json!("web_form"), &json!("working"), &json!("恒远科技")),
        "what counts as aggregates stays"
    );
    assert_eq!(
        lead["custom"],
        json!({"budget": 200000}),
        "text custom fields go"
    );

    let activities = app
        .get(&format!("/api/v1/leads/{}/activities", id(&zhang)), t)
        .await;
    assert!(activities.body["items"][0]["content"].is_null());

    let history = app
        .get(&format!("/api/v1/leads/{}/history", id(&zhang)), t)
        .await
        .body["items"]
        .as_array()
        .cloned()
        .unwrap();
    let text = serde_json::to_string(&history).unwrap();
    for personal in ["张伟", "13800138000", "zw@hengyuan.cn", "zw_888"] {
        assert!(!text.contains(personal), "{personal} left in {text}");
    }
    let erase = history
        .iter()
        .find(|h| h["action"] == "erase")
        .expect("an erase entry");
    assert_eq!(erase["new_value"]["reason"], "本人 2026-11-20 来电要求删除");

    for q in ["张伟", "13800138000"] {
        let found = app.get(&format!("/api/v1/leads?q={q}"), t).await;
        assert_eq!(found.ids(), Vec::<i64>::new(), "search for {q}");
    }
    let same_source = app.get("/api/v1/leads?source=web_form", t).await;
    assert_eq!(same_source.ids().len(), 2, "the erased lead still counts");
    let li = app
        .get(&format!("/api/v1/leads/{}", id(&other)), t)
        .await
        .body;
    assert_eq!(
        (li["name"].as_str(), li["phone"].as_str()),
        (Some("李娜"), Some("13900139000"))
    );

    let again = app
        .get("/api/v1/privacy/export?email=zw@hengyuan.cn", t)
        .await;
    assert_eq!(again.body["leads"], json!([]), "nothing is found any more");
}

async fn only_admins_may_and_bad_requests_are_refused(app: TestApp) {
    let rep = app.user("rep1", Role::Rep, None).await;
    let lead = app
        .lead(&rep.token, json!({"name": "王芳", "phone": "13700137000"}))
        .await;
    app.get("/api/v1/privacy/export?phone=13700137000", &rep.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.post(
        "/api/v1/privacy/erase",
        &rep.token,
        json!({"phone": "13700137000", "reason": "request"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let t = &app.admin_token;
    for body in [
        json!({"reason": "request"}),
        json!({"phone": "12", "reason": "request"}),
        json!({"email": "not an email", "reason": "request"}),
        json!({"phone": "13700137000"}),
        json!({"phone": "13700137000", "reason": "  "}),
        json!({"phone": 13700137000_i64, "reason": "request"}),
        json!({"phone": "13700137000", "reason": "request", "name": "王芳"}),
    ] {
        app.post("/api/v1/privacy/erase", t, body.clone())
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    }
    app.get("/api/v1/privacy/export", t)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let kept = app
        .get(&format!("/api/v1/leads/{}", id(&lead)), t)
        .await
        .body;
    assert_eq!(
        kept["name"], "王芳",
        "nothing was erased by refused requests"
    );
}
