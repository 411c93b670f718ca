//! Lead scoring: rules an admin edits (fit, engagement with decay, negative), the score, tier
//! and breakdown every lead carries, rescoring when a lead changes, when events arrive and when
//! rules change, and the history of score changes.

use crate::on_both_databases;
use crate::support::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use xiansuo_app::jobs::{self, JobEnv};
use xiansuo_core::role::Role;

on_both_databases!(
    fit_rules_score_a_new_lead_with_a_breakdown_and_a_tier,
    changing_a_lead_rescores_it_and_the_history_says_a_rule_did_it,
    events_add_engagement_points_that_fade_with_time,
    changing_the_rules_rescores_existing_leads_in_a_job,
    negative_rules_and_the_cap_keep_the_score_within_bounds,
    rules_naming_unknown_fields_or_operators_are_refused,
    only_admins_change_rules_and_events_follow_the_data_scope,
    urgency_and_demand_stage_are_lead_fields,
    previewing_a_rule_counts_what_saving_it_does_and_writes_nothing,
);

fn id(value: &Value) -> i64 {
    value["id"].as_i64().expect("an id")
}

async fn rule(app: &TestApp, body: Value) -> Value {
    let reply = app
        .post("/api/v1/scoring/rules", &app.admin_token, body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn score(app: &TestApp, lead: i64) -> Value {
    let reply = app
        .get(&format!("/api/v1/leads/{lead}/score"), &app.admin_token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn get_lead(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/v1/leads/{id}"), &app.admin_token)
        .await
        .body
}

async fn run_jobs(app: &TestApp) {
    jobs::run_due(&app.db, &JobEnv::default(), app.clock_now())
        .await
        .expect("jobs run");
}

async fn fit_rules(app: &TestApp) -> Vec<i64> {
    let field = app
        .post(
            "/api/v1/custom-fields",
            &app.admin_token,
            json!({"object": "lead", "key": "budget", "label": "预算", "field_type": "number"}),
        )
        .await;
    assert_eq!(field.status, StatusCode::CREATED, "{}", field.body);
    vec![
        id(&rule(
            app,
            json!({"name": "总监", "kind": "fit", "points": 20,
            "conditions": [{"field": "title", "operator": "contains", "value": "总监"}]}),
        )
        .await),
        id(&rule(
            app,
            json!({"name": "500人以上", "kind": "fit", "points": 30,
            "conditions": [{"field": "company_size", "operator": "gte", "value": 500}]}),
        )
        .await),
        id(&rule(
            app,
            json!({"name": "广东客户推荐", "kind": "fit", "points": 10, "conditions": [
            {"field": "province", "operator": "eq", "value": "广东"},
            {"field": "source", "operator": "eq", "value": "referral"}]}),
        )
        .await),
        id(&rule(
            app,
            json!({"name": "预算十万以上", "kind": "fit", "points": 15,
            "conditions": [{"field": "custom.budget", "operator": "gt", "value": 100000}]}),
        )
        .await),
        id(&rule(
            app,
            json!({"name": "制造与能源", "kind": "fit", "points": 5,
            "conditions": [{"field": "industry", "operator": "in", "value": ["制造", "能源"]}]}),
        )
        .await),
    ]
}

async fn fit_rules_score_a_new_lead_with_a_breakdown_and_a_tier(app: TestApp) {
    let rules = fit_rules(&app).await;
    let t = &app.admin_token;
    let lead = app
        .lead(
            t,
            json!({"name": "陈总", "title": "销售总监", "company_size": 800, "province": "广东省",
                "source": "referral", "industry": "零售", "custom": {"budget": 250000}}),
        )
        .await;
    assert_eq!(lead["score"], 75);
    assert_eq!(lead["tier"], "high");
    let breakdown = score(&app, id(&lead)).await;
    assert_eq!(breakdown["score"], 75);
    assert_eq!(breakdown["tier"], "high");
    assert_eq!(
        breakdown["items"],
        json!([
            {"rule_id": rules[0], "rule_name": "总监", "points": 20},
            {"rule_id": rules[1], "rule_name": "500人以上", "points": 30},
            {"rule_id": rules[2], "rule_name": "广东客户推荐", "points": 10},
            {"rule_id": rules[3], "rule_name": "预算十万以上", "points": 15},
        ])
    );

    let small = app
        .lead(
            t,
            json!({"name": "小李", "title": "专员", "company_size": 20, "industry": "制造"}),
        )
        .await;
    assert_eq!(small["score"], 5);
    assert_eq!(small["tier"], "low");
    // The tier is a list filter, and the stored score sorts.
    assert_eq!(
        app.get("/api/v1/leads?tier=high", t).await.ids(),
        vec![id(&lead)]
    );
    assert_eq!(
        app.get("/api/v1/leads?sort=-score", t).await.ids(),
        vec![id(&lead), id(&small)]
    );
}

async fn changing_a_lead_rescores_it_and_the_history_says_a_rule_did_it(app: TestApp) {
    fit_rules(&app).await;
    let t = &app.admin_token;
    let lead = app
        .lead(
            t,
            json!({"name": "王经理", "title": "经理", "company_size": 600}),
        )
        .await;
    assert_eq!(lead["score"], 30);
    assert_eq!(lead["tier"], "low");
    let changed = app
        .patch(
            &format!("/api/v1/leads/{}", id(&lead)),
            t,
            json!({"title": "技术总监", "custom": {"budget": 200000}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["score"], 65);
    assert_eq!(changed.body["tier"], "medium");
    assert_eq!(
        score(&app, id(&lead)).await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let history = app
        .get(&format!("/api/v1/leads/{}/history", id(&lead)), t)
        .await
        .body;
    let entries = history["items"].as_array().unwrap();
    let by_field = |field: &str| {
        entries
            .iter()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| panic!("a history entry for {field} in {history}"))
    };
    assert_eq!(by_field("title")["channel"], "api");
    assert_eq!(by_field("score")["channel"], "rule");
    assert_eq!(by_field("score")["old_value"], 30);
    assert_eq!(by_field("score")["new_value"], 65);
    assert_eq!(by_field("tier")["channel"], "rule");
    assert_eq!(by_field("tier")["new_value"], "medium");

    // A change that leaves the score as it was records no score change.
    app.patch(
        &format!("/api/v1/leads/{}", id(&lead)),
        t,
        json!({"description": "约了下周演示"}),
    )
    .await;
    let again = app
        .get(&format!("/api/v1/leads/{}/history", id(&lead)), t)
        .await
        .body;
    let score_entries = again["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == "score")
        .count();
    assert_eq!(score_entries, 1);
}

async fn events_add_engagement_points_that_fade_with_time(app: TestApp) {
    let t = &app.admin_token;
    let whitepaper = rule(
        &app,
        json!({"name": "下载白皮书", "kind": "engagement", "points": 10, "half_life_days": 7,
            "event": {"type": "download", "url": "whitepaper"}}),
    )
    .await;
    rule(
        &app,
        json!({"name": "参加展会", "kind": "engagement", "points": 20,
            "event": {"type": "event_attended", "name": "上海工博会"}}),
    )
    .await;
    let lead = app.lead(t, json!({"name": "赵敏"})).await;
    assert_eq!(lead["score"], 0);
    let events = format!("/api/v1/leads/{}/events", id(&lead));

    let reply = app
        .post(
            &events,
            t,
            json!({"type": "download", "url": "https://example.cn/whitepaper-2026.pdf"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["event"]["type"], "download");
    assert_eq!(reply.body["score"]["score"], 10);
    // Events no rule counts change nothing.
    let reply = app
        .post(
            &events,
            t,
            json!({"type": "page_view", "url": "https://example.cn/whitepaper"}),
        )
        .await;
    assert_eq!(reply.body["score"]["score"], 10);
    let reply = app
        .post(&events, t, json!({"type": "event_attended", "name": "上海工博会", "occurred_at": "2026-10-20T10:00:00+08:00"}))
        .await;
    assert_eq!(reply.body["score"]["score"], 30);
    assert_eq!(
        reply.body["score"]["items"][0],
        json!({"rule_id": id(&whitepaper), "rule_name": "下载白皮书", "points": 10})
    );
    let listed = app.get(&events, t).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(listed.body["items"][2]["name"], "上海工博会");

    // A week later the download counts half; the periodic decay job shows it.
    app.clock.advance(chrono::Duration::days(7));
    run_jobs(&app).await;
    let now = score(&app, id(&lead)).await;
    assert_eq!(now["score"], 25, "{now}");
    assert_eq!(now["items"][0]["points"], 5);
    let history = app
        .get(&format!("/api/v1/leads/{}/history", id(&lead)), t)
        .await
        .body;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "score" && e["new_value"] == 25 && e["channel"] == "rule"),
        "{history}"
    );
}

async fn changing_the_rules_rescores_existing_leads_in_a_job(app: TestApp) {
    let t = &app.admin_token;
    // Without rules the score given is kept, and the tier follows it.
    let given = app.lead(t, json!({"name": "钱七", "score": 42})).await;
    assert_eq!(given["score"], 42);
    assert_eq!(given["tier"], "medium");
    let director = app
        .lead(t, json!({"name": "孙总", "title": "财务总监"}))
        .await;
    assert_eq!(director["score"], 0);

    let created = rule(
        &app,
        json!({"name": "总监", "kind": "fit", "points": 80,
            "conditions": [{"field": "title", "operator": "contains", "value": "总监"}]}),
    )
    .await;
    run_jobs(&app).await;
    let now = get_lead(&app, id(&director)).await;
    assert_eq!(now["score"], 80);
    assert_eq!(now["tier"], "high");
    assert_eq!(get_lead(&app, id(&given)).await["score"], 0);

    // Thresholds move the tiers.
    let settings = app
        .patch(
            "/api/v1/scoring/settings",
            t,
            json!({"high_threshold": 90, "medium_threshold": 50}),
        )
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    assert_eq!(
        settings.body,
        json!({"max_score": 100, "high_threshold": 90, "medium_threshold": 50})
    );
    run_jobs(&app).await;
    assert_eq!(get_lead(&app, id(&director)).await["tier"], "medium");

    // A change of points shows after the job; so does a deactivated rule.
    let patched = app
        .patch(
            &format!("/api/v1/scoring/rules/{}", id(&created)),
            t,
            json!({"points": 95}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["points"], 95);
    assert_eq!(patched.body["kind"], "fit");
    run_jobs(&app).await;
    assert_eq!(get_lead(&app, id(&director)).await["score"], 95);
    assert_eq!(get_lead(&app, id(&director)).await["tier"], "high");

    let deleted = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/scoring/rules/{}", id(&created)),
            t,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    run_jobs(&app).await;
    let now = get_lead(&app, id(&director)).await;
    assert_eq!(now["score"], 0);
    assert_eq!(now["tier"], "low");
    assert_eq!(score(&app, id(&director)).await["items"], json!([]));
    assert_eq!(
        app.get("/api/v1/scoring/rules", t).await.body["items"],
        json!([])
    );
}

async fn negative_rules_and_the_cap_keep_the_score_within_bounds(app: TestApp) {
    let t = &app.admin_token;
    rule(
        &app,
        json!({"name": "总监", "kind": "fit", "points": 60,
            "conditions": [{"field": "title", "operator": "contains", "value": "总监"}]}),
    )
    .await;
    rule(
        &app,
        json!({"name": "大公司", "kind": "fit", "points": 70,
            "conditions": [{"field": "company_size", "operator": "gte", "value": 1000}]}),
    )
    .await;
    let student = rule(
        &app,
        json!({"name": "学生", "kind": "negative", "points": -50,
            "conditions": [{"field": "title", "operator": "contains", "value": "学生"}]}),
    )
    .await;
    assert_eq!(student["points"], -50);
    let capped = app
        .lead(
            t,
            json!({"name": "周总", "title": "采购总监", "company_size": 5000}),
        )
        .await;
    assert_eq!(capped["score"], 100);
    let floored = app.lead(t, json!({"name": "小周", "title": "学生"})).await;
    assert_eq!(floored["score"], 0);
    let items = score(&app, id(&floored)).await["items"].clone();
    assert_eq!(items[0]["points"], -50);
}

async fn rules_naming_unknown_fields_or_operators_are_refused(app: TestApp) {
    let t = &app.admin_token;
    let cases = [
        (
            json!({"name": "x", "kind": "fit", "points": 5,
                "conditions": [{"field": "salary", "operator": "gt", "value": 1}]}),
            "conditions[0].field",
        ),
        (
            json!({"name": "x", "kind": "fit", "points": 5,
                "conditions": [{"field": "custom.budget", "operator": "gt", "value": 1}]}),
            "conditions[0].field",
        ),
        (
            json!({"name": "x", "kind": "fit", "points": 5,
                "conditions": [{"field": "title", "operator": "like", "value": "x"}]}),
            "conditions[0].operator",
        ),
        (
            json!({"name": "x", "kind": "fit", "points": 5,
                "conditions": [{"field": "title", "operator": "gt", "value": "x"}]}),
            "conditions[0].operator",
        ),
        (
            json!({"name": "x", "kind": "fit", "points": 5,
                "conditions": [{"field": "company_size", "operator": "gte", "value": "big"}]}),
            "conditions[0].value",
        ),
        (
            json!({"name": "x", "kind": "fit", "points": 5,
                "conditions": [{"field": "grade", "operator": "eq", "value": "F"}]}),
            "conditions[0].value",
        ),
        (
            json!({"name": "x", "kind": "fit", "points": -5,
                "conditions": [{"field": "title", "operator": "exists"}]}),
            "points",
        ),
        (
            json!({"name": "x", "kind": "engagement", "points": 5, "event": {"type": "tweet"}}),
            "event.type",
        ),
        (json!({"name": "x", "kind": "bonus", "points": 5}), "kind"),
        (json!([1, 2]), "body"),
    ];
    for (body, field) in cases {
        let reply = app.post("/api/v1/scoring/rules", t, body.clone()).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(
            reply.body["error"]["field"], field,
            "{body}: {}",
            reply.body
        );
    }
    let unknown = app
        .post(
            "/api/v1/scoring/rules",
            t,
            json!({"name": "x", "kind": "fit", "points": 5,
                "conditions": [{"field": "salary", "operator": "gt", "value": 1}]}),
        )
        .await;
    let message = unknown.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("'salary' is not a field of leads"),
        "{message}"
    );
    assert!(message.contains("company_size"), "{message}");

    let bad_settings = app
        .patch(
            "/api/v1/scoring/settings",
            t,
            json!({"high_threshold": 30, "medium_threshold": 60}),
        )
        .await;
    bad_settings.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(bad_settings.body["error"]["field"], "medium_threshold");
    app.get("/api/v1/scoring/rules/999", t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get("/api/v1/scoring/rules", t).await.body["items"],
        json!([])
    );
}

async fn only_admins_change_rules_and_events_follow_the_data_scope(app: TestApp) {
    let rep = app.user("rep1", Role::Rep, None).await;
    let other = app.user("rep2", Role::Rep, None).await;
    app.post(
        "/api/v1/scoring/rules",
        &rep.token,
        json!({"name": "x", "kind": "fit", "points": 5,
            "conditions": [{"field": "title", "operator": "exists"}]}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.patch(
        "/api/v1/scoring/settings",
        &rep.token,
        json!({"max_score": 50}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // The thresholds are read by admins only, like the rules.
    app.get("/api/v1/scoring/settings", &rep.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let theirs = app.lead(&other.token, json!({"name": "别人的线索"})).await;
    let path = format!("/api/v1/leads/{}/events", id(&theirs));
    app.post(&path, &rep.token, json!({"type": "page_view"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get(&format!("/api/v1/leads/{}/score", id(&theirs)), &rep.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let bad = app
        .post(&path, &other.token, json!({"type": "tweet"}))
        .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(bad.body["error"]["field"], "type");
    let bad = app
        .post(
            &path,
            &other.token,
            json!({"type": "download", "occurred_at": "yesterday"}),
        )
        .await;
    assert_eq!(bad.body["error"]["field"], "occurred_at");
    let ok = app
        .post(
            &path,
            &other.token,
            json!({"type": "email_opened", "name": "双十一活动邮件"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    let history = app
        .get(
            &format!("/api/v1/leads/{}/history", id(&theirs)),
            &other.token,
        )
        .await;
    assert!(history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "event" && e["new_value"]["type"] == "email_opened"));
}

async fn urgency_and_demand_stage_are_lead_fields(app: TestApp) {
    let t = &app.admin_token;
    let lead = app
        .lead(
            t,
            json!({"name": "吴经理", "grade": "B", "urgency": "soon", "demand_stage": "consideration"}),
        )
        .await;
    assert_eq!(lead["urgency"], "soon");
    assert_eq!(lead["demand_stage"], "consideration");
    let bad = app
        .post("/api/v1/leads", t, json!({"name": "x", "urgency": "asap"}))
        .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(bad.body["error"]["field"], "urgency");
    assert!(bad.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("urgent, soon, later, slow"));
    app.post("/api/v1/leads", t, json!({"name": "y", "tier": "high"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(
        app.get("/api/v1/leads?demand_stage=consideration", t)
            .await
            .ids(),
        vec![id(&lead)]
    );
    // Rules can use them.
    rule(
        &app,
        json!({"name": "急需", "kind": "fit", "points": 25,
            "conditions": [{"field": "urgency", "operator": "in", "value": ["urgent", "soon"]}]}),
    )
    .await;
    let urgent = app
        .lead(t, json!({"name": "郑总", "urgency": "urgent"}))
        .await;
    assert_eq!(urgent["score"], 25);
}

/// The tiers of leads as `POST /api/v1/scoring/preview` counts them, and their scores.
async fn tiers_and_scores(app: &TestApp, leads: &[i64]) -> (Value, Vec<Value>) {
    let (mut high, mut medium, mut low) = (0, 0, 0);
    let mut scores = Vec::new();
    for lead in leads {
        let lead = get_lead(app, *lead).await;
        match lead["tier"].as_str() {
            Some("high") => high += 1,
            Some("medium") => medium += 1,
            _ => low += 1,
        }
        scores.push(lead["score"].clone());
    }
    (json!({"high": high, "medium": medium, "low": low}), scores)
}

async fn preview(app: &TestApp, body: Value) -> Value {
    let reply = app
        .post("/api/v1/scoring/preview", &app.admin_token, body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn previewing_a_rule_counts_what_saving_it_does_and_writes_nothing(app: TestApp) {
    let t = &app.admin_token;
    let mut leads = Vec::new();
    for (name, title) in [
        ("赵总", "财务总监"),
        ("钱总", "销售总监"),
        ("孙总", "技术总监"),
        ("李四", "工程师"),
        ("周五", "学生"),
    ] {
        leads.push(id(&app
            .lead(t, json!({"name": name, "title": title}))
            .await));
    }
    leads.push(id(&app.lead(t, json!({"name": "吴六", "score": 42})).await));
    let (tiers_before, scores_before) = tiers_and_scores(&app, &leads).await;
    assert_eq!(tiers_before, json!({"high": 0, "medium": 1, "low": 5}));

    let director = json!({"name": "总监", "kind": "fit", "points": 80,
        "conditions": [{"field": "title", "operator": "contains", "value": "总监"}]});
    let new = preview(&app, json!({"rule": director})).await;
    assert_eq!(new["sample_size"], 6);
    assert_eq!(new["sample_limit"], 20000);
    assert_eq!(new["sampled"], false);
    assert_eq!(new["before"], tiers_before);
    // The three directors rise; the given score gives way to the rules' score of 0.
    assert_eq!(new["after"], json!({"high": 3, "medium": 0, "low": 3}));
    assert_eq!(new["changed"], 4);

    // Nothing was written and nothing queued.
    assert_eq!(
        app.get("/api/v1/scoring/rules", t).await.body["items"],
        json!([])
    );
    run_jobs(&app).await;
    assert_eq!(
        tiers_and_scores(&app, &leads).await,
        (tiers_before.clone(), scores_before.clone())
    );

    // Saving it does what the preview said.
    let created = rule(&app, director).await;
    run_jobs(&app).await;
    let (tiers_now, scores_now) = tiers_and_scores(&app, &leads).await;
    assert_eq!(tiers_now, new["after"]);
    let changed = scores_before
        .iter()
        .zip(&scores_now)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(changed as i64, new["changed"].as_i64().unwrap());

    // A change to a stored rule, likewise.
    let change = preview(
        &app,
        json!({"rule_id": id(&created), "rule": {"points": 50}}),
    )
    .await;
    assert_eq!(change["before"], tiers_now);
    assert_eq!(change["after"], json!({"high": 0, "medium": 3, "low": 3}));
    assert_eq!(change["changed"], 3);
    let patched = app
        .patch(
            &format!("/api/v1/scoring/rules/{}", id(&created)),
            t,
            json!({"points": 50}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    run_jobs(&app).await;
    assert_eq!(tiers_and_scores(&app, &leads).await.0, change["after"]);

    // Only admins; a rule saving would refuse is refused naming the field.
    let rep = app.user("rep1", Role::Rep, None).await;
    app.post(
        "/api/v1/scoring/preview",
        &rep.token,
        json!({"rule": {"name": "x", "kind": "fit", "points": 5,
            "conditions": [{"field": "title", "operator": "exists", "value": true}]}}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let bad = app
        .post(
            "/api/v1/scoring/preview",
            t,
            json!({"rule": {"name": "x", "kind": "fit", "points": 5,
                "conditions": [{"field": "salary", "operator": "gt", "value": 1}]}}),
        )
        .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(bad.body["error"]["field"], "conditions[0].field");
    app.post("/api/v1/scoring/preview", t, json!({"name": "x"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.post(
        "/api/v1/scoring/preview",
        t,
        json!({"rule_id": 999_999, "rule": {"points": 5}}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
}
