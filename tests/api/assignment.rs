//! Assignment: ordered rules give new leads an owner (a user, a team's members, a list of
//! members or a queue) by round robin, weights, load or territory, exactly under concurrent
//! creates; away and capped users are skipped, with fallbacks; leads are reassigned by hand
//! one at a time or in bulk, in one transaction, with history and a notification.

use crate::on_both_databases;
use crate::support::{TestApp, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use xiansuo_core::role::Role;

on_both_databases!(
    round_robin_is_exact_under_concurrent_creates,
    weighted_round_robin_shares_in_proportion_under_concurrent_creates,
    adding_or_removing_a_member_keeps_everyone_elses_turn,
    rules_apply_in_order_and_an_explicit_owner_wins,
    away_users_are_skipped_and_fallbacks_take_over,
    a_queue_rule_leaves_the_lead_unowned_in_its_pool,
    least_loaded_and_caps_follow_what_members_hold,
    caps_hold_under_concurrent_creates,
    territories_map_cities_provinces_and_regions_to_members,
    manual_and_bulk_assignment_is_scoped_audited_and_all_or_nothing,
    bad_rules_and_settings_are_refused,
);

fn id(value: &Value) -> i64 {
    value["id"].as_i64().expect("an id")
}

async fn rule(app: &TestApp, body: Value) -> Value {
    let reply = app
        .post("/api/v1/assignment/rules", &app.admin_token, body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn reps(app: &TestApp, names: &[&str], team: Option<i64>) -> Vec<TestUser> {
    let mut out = Vec::new();
    for name in names {
        out.push(app.user(name, Role::Rep, team).await);
    }
    out
}

async fn owner_of_new_lead(app: &TestApp, body: Value) -> Option<i64> {
    app.lead(&app.admin_token, body).await["owner_id"].as_i64()
}

/// Creates `total` leads through the API from 8 concurrent tasks; returns how many each
/// owner got.
async fn create_concurrently(app: &TestApp, total: usize) -> HashMap<i64, usize> {
    let mut tasks = Vec::new();
    for task in 0..8 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/leads", app.base);
        let token = app.admin_token.clone();
        let count = total / 8 + usize::from(task < total % 8);
        tasks.push(tokio::spawn(async move {
            let mut owners = Vec::new();
            for i in 0..count {
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"name": format!("并发线索{task}-{i}")}))
                    .send()
                    .await
                    .expect("the server answers");
                assert_eq!(response.status(), StatusCode::CREATED);
                let lead: Value = response.json().await.expect("a lead");
                owners.push(lead["owner_id"].as_i64().expect("an owner"));
            }
            owners
        }));
    }
    let mut counts = HashMap::new();
    for task in tasks {
        for owner in task.await.expect("the task finishes") {
            *counts.entry(owner).or_insert(0) += 1;
        }
    }
    counts
}

async fn round_robin_is_exact_under_concurrent_creates(app: TestApp) {
    let members = reps(&app, &["rr1", "rr2", "rr3"], None).await;
    rule(
        &app,
        json!({"name": "轮流分配", "target": {"type": "members", "strategy": "round_robin",
            "members": members.iter().map(|m| json!({"user_id": m.id})).collect::<Vec<_>>()}}),
    )
    .await;
    let counts = create_concurrently(&app, 300).await;
    for m in &members {
        assert_eq!(counts.get(&m.id), Some(&100), "{counts:?}");
    }
    // What the API answered is what was stored.
    for m in &members {
        let listed = app
            .get(
                &format!("/api/v1/leads?owner_id={}&limit=500", m.id),
                &app.admin_token,
            )
            .await;
        assert_eq!(listed.ids().len(), 100);
    }
}

async fn weighted_round_robin_shares_in_proportion_under_concurrent_creates(app: TestApp) {
    let members = reps(&app, &["heavy", "light"], None).await;
    rule(
        &app,
        json!({"name": "按权重", "target": {"type": "members", "strategy": "weighted",
            "members": [{"user_id": members[0].id, "weight": 2}, {"user_id": members[1].id, "weight": 1}]}}),
    )
    .await;
    let counts = create_concurrently(&app, 300).await;
    assert_eq!(counts.get(&members[0].id), Some(&200), "{counts:?}");
    assert_eq!(counts.get(&members[1].id), Some(&100), "{counts:?}");
}

async fn adding_or_removing_a_member_keeps_everyone_elses_turn(app: TestApp) {
    let m = reps(&app, &["ma", "mb", "mc"], None).await;
    let (a, b, c) = (m[0].id, m[1].id, m[2].id);
    let created = rule(
        &app,
        json!({"name": "轮流", "target": {"type": "members", "members": [{"user_id": a}, {"user_id": b}]}}),
    )
    .await;
    let path = format!("/api/v1/assignment/rules/{}", id(&created));
    let mut owners = Vec::new();
    for i in 0..4 {
        owners.push(owner_of_new_lead(&app, json!({"name": format!("甲{i}")})).await);
    }
    assert_eq!(owners, [Some(a), Some(b), Some(a), Some(b)]);

    // A newcomer starts level with the others instead of taking every lead.
    let reply = app
        .patch(
            &path,
            &app.admin_token,
            json!({"target": {"type": "members", "members": [{"user_id": a}, {"user_id": b}, {"user_id": c}]}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut owners = Vec::new();
    for i in 0..3 {
        owners.push(owner_of_new_lead(&app, json!({"name": format!("乙{i}")})).await);
    }
    assert_eq!(owners, [Some(a), Some(b), Some(c)]);

    // Removing b changes nobody else's turn; b coming back starts level too.
    app.patch(
        &path,
        &app.admin_token,
        json!({"target": {"type": "members", "members": [{"user_id": a}, {"user_id": c}]}}),
    )
    .await;
    let mut owners = Vec::new();
    for i in 0..2 {
        owners.push(owner_of_new_lead(&app, json!({"name": format!("丙{i}")})).await);
    }
    assert_eq!(owners, [Some(a), Some(c)]);
    app.patch(
        &path,
        &app.admin_token,
        json!({"target": {"type": "members", "members": [{"user_id": a}, {"user_id": b}, {"user_id": c}]}}),
    )
    .await;
    let mut owners = Vec::new();
    for i in 0..3 {
        owners.push(owner_of_new_lead(&app, json!({"name": format!("丁{i}")})).await);
    }
    assert_eq!(owners, [Some(a), Some(b), Some(c)]);
}

async fn rules_apply_in_order_and_an_explicit_owner_wins(app: TestApp) {
    let team = app.team("华东销售", None).await;
    let members = reps(&app, &["east1", "east2"], Some(team)).await;
    let south = app.user("south", Role::Rep, None).await;
    let first = rule(
        &app,
        json!({"name": "广东线索", "conditions": [{"field": "province", "operator": "eq", "value": "广东"}],
            "target": {"type": "user", "user_id": south.id}}),
    )
    .await;
    let second = rule(
        &app,
        json!({"name": "其余给华东", "target": {"type": "team", "team_id": team}}),
    )
    .await;
    assert_eq!(first["position"], 1);
    assert_eq!(second["position"], 2);

    assert_eq!(
        owner_of_new_lead(&app, json!({"name": "粤", "province": "广东省"})).await,
        Some(south.id)
    );
    assert_eq!(
        owner_of_new_lead(&app, json!({"name": "浙1", "province": "浙江"})).await,
        Some(members[0].id)
    );
    assert_eq!(
        owner_of_new_lead(&app, json!({"name": "浙2", "province": "浙江"})).await,
        Some(members[1].id)
    );
    // An owner given in the request is kept.
    assert_eq!(
        owner_of_new_lead(
            &app,
            json!({"name": "指定", "province": "广东", "owner_id": members[1].id})
        )
        .await,
        Some(members[1].id)
    );
    // The new owner is told.
    let notes = app.get("/api/v1/notifications", &south.token).await;
    assert_eq!(
        notes.body["items"][0]["kind"], "lead.assigned",
        "{}",
        notes.body
    );

    // Reordering puts the catch-all first.
    let reordered = app
        .post(
            "/api/v1/assignment/rules/reorder",
            &app.admin_token,
            json!({"rule_ids": [id(&second), id(&first)]}),
        )
        .await;
    assert_eq!(reordered.status, StatusCode::OK, "{}", reordered.body);
    assert_eq!(reordered.ids(), vec![id(&second), id(&first)]);
    assert_ne!(
        owner_of_new_lead(&app, json!({"name": "粤2", "province": "广东"})).await,
        Some(south.id)
    );
    // A rep's own lead is theirs unless a rule says otherwise: a rule that matches nothing
    // leaves the creator as owner.
    app.patch(
        &format!("/api/v1/assignment/rules/{}", id(&second)),
        &app.admin_token,
        json!({"active": false}),
    )
    .await;
    let rep_lead = app.lead(&south.token, json!({"name": "自己的"})).await;
    assert_eq!(rep_lead["owner_id"], south.id);
}

async fn away_users_are_skipped_and_fallbacks_take_over(app: TestApp) {
    let m = reps(&app, &["away1", "here1", "backup"], None).await;
    let (away, here, backup) = (&m[0], m[1].id, m[2].id);
    let first = rule(
        &app,
        json!({"name": "给 away1", "conditions": [{"field": "source", "operator": "eq", "value": "referral"}],
            "target": {"type": "user", "user_id": away.id}}),
    )
    .await;
    rule(
        &app,
        json!({"name": "其余", "target": {"type": "user", "user_id": here}}),
    )
    .await;
    let until = "2026-11-09T09:00:00Z";
    let reply = app
        .patch(
            &format!("/api/v1/users/{}/availability", away.id),
            &away.token,
            json!({"away_until": until}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["away"], true);
    assert_eq!(reply.body["away_until"], "2026-11-09T09:00:00.000Z");

    // Away: the next rule takes the lead.
    let referral = json!({"name": "推荐来的", "source": "referral"});
    assert_eq!(owner_of_new_lead(&app, referral.clone()).await, Some(here));
    // With the default fallback, the settings' fallback user takes it instead.
    app.patch(
        &format!("/api/v1/assignment/rules/{}", id(&first)),
        &app.admin_token,
        json!({"fallback": "default"}),
    )
    .await;
    let settings = app
        .patch(
            "/api/v1/assignment/settings",
            &app.admin_token,
            json!({"fallback_user_id": backup}),
        )
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    assert_eq!(
        owner_of_new_lead(&app, referral.clone()).await,
        Some(backup)
    );
    // Back from leave.
    app.clock.advance(chrono::Duration::days(8));
    assert_eq!(
        owner_of_new_lead(&app, referral.clone()).await,
        Some(away.id)
    );
    // An inactive user is skipped as well.
    app.patch(
        &format!("/api/v1/users/{}", away.id),
        &app.admin_token,
        json!({"active": false}),
    )
    .await;
    assert_eq!(owner_of_new_lead(&app, referral).await, Some(backup));
}

async fn a_queue_rule_leaves_the_lead_unowned_in_its_pool(app: TestApp) {
    let pool = app
        .post(
            "/api/v1/pools",
            &app.admin_token,
            json!({"name": "华南公海"}),
        )
        .await;
    assert_eq!(pool.status, StatusCode::CREATED, "{}", pool.body);
    let pool = id(&pool.body);
    rule(
        &app,
        json!({"name": "低分进公海", "conditions": [{"field": "score", "operator": "lt", "value": 10}],
            "target": {"type": "queue", "pool_id": pool}}),
    )
    .await;
    let lead = app.lead(&app.admin_token, json!({"name": "待认领"})).await;
    assert_eq!(lead["owner_id"], Value::Null);
    assert_eq!(lead["pool_id"], pool);
    assert_eq!(lead["assigned_at"], Value::Null);
    let high = app
        .lead(&app.admin_token, json!({"name": "高分", "score": 50}))
        .await;
    assert_eq!(high["pool_id"], Value::Null);
    assert!(high["owner_id"].as_i64().is_some());
}

async fn least_loaded_and_caps_follow_what_members_hold(app: TestApp) {
    let m = reps(&app, &["busy", "free"], None).await;
    let (busy, free) = (m[0].id, m[1].id);
    for i in 0..3 {
        app.lead(
            &app.admin_token,
            json!({"name": format!("已有{i}"), "owner_id": busy}),
        )
        .await;
    }
    app.lead(&app.admin_token, json!({"name": "已有", "owner_id": free}))
        .await;
    let least = rule(
        &app,
        json!({"name": "负载最低", "target": {"type": "members", "strategy": "least_loaded",
            "members": [{"user_id": busy}, {"user_id": free}]}}),
    )
    .await;
    let mut owners = Vec::new();
    for i in 0..4 {
        owners.push(owner_of_new_lead(&app, json!({"name": format!("新{i}")})).await);
    }
    // free catches up (2 → 3 held), then they alternate.
    assert_eq!(owners, [Some(free), Some(free), Some(busy), Some(free)]);
    app.call(
        Method::DELETE,
        &format!("/api/v1/assignment/rules/{}", id(&least)),
        &app.admin_token,
        None,
    )
    .await;

    // A cap on open leads and a daily cap.
    rule(
        &app,
        json!({"name": "轮流", "target": {"type": "members", "members": [{"user_id": busy}, {"user_id": free}]}}),
    )
    .await;
    let capped = app
        .patch(
            &format!("/api/v1/users/{busy}/availability"),
            &app.admin_token,
            json!({"max_open_leads": 5}),
        )
        .await;
    assert_eq!(capped.body["open_leads"], 4, "{}", capped.body);
    let day = app
        .patch(
            &format!("/api/v1/users/{free}/availability"),
            &app.admin_token,
            json!({"daily_cap": 4}),
        )
        .await;
    // free got 3 leads from rules today.
    assert_eq!(day.body["assigned_today"], 3, "{}", day.body);
    let mut owners = Vec::new();
    for i in 0..3 {
        owners.push(owner_of_new_lead(&app, json!({"name": format!("再{i}")})).await);
    }
    // busy takes one (reaching 5 held), free one (reaching its daily cap of 4), then nobody
    // may: the lead stays with its creator.
    let admin = app.get("/api/v1/me", &app.admin_token).await.body["id"].as_i64();
    assert_eq!(owners, [Some(busy), Some(free), admin]);
    // The next day (in China) free may take leads again.
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(
        owner_of_new_lead(&app, json!({"name": "次日"})).await,
        Some(free)
    );
}

async fn caps_hold_under_concurrent_creates(app: TestApp) {
    let m = reps(&app, &["daily", "holder"], None).await;
    let (daily, holder) = (m[0].id, m[1].id);
    for (user, body) in [
        (daily, json!({"daily_cap": 10})),
        (holder, json!({"max_open_leads": 25})),
    ] {
        let reply = app
            .patch(
                &format!("/api/v1/users/{user}/availability"),
                &app.admin_token,
                body,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    rule(
        &app,
        json!({"name": "轮流", "target": {"type": "members",
            "members": [{"user_id": daily}, {"user_id": holder}]}}),
    )
    .await;
    let counts = create_concurrently(&app, 60).await;
    let admin = app.get("/api/v1/me", &app.admin_token).await.body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(counts.get(&daily), Some(&10), "{counts:?}");
    assert_eq!(counts.get(&holder), Some(&25), "{counts:?}");
    assert_eq!(counts.get(&admin), Some(&25), "{counts:?}");
}

async fn territories_map_cities_provinces_and_regions_to_members(app: TestApp) {
    let m = reps(&app, &["gd", "sz", "east"], None).await;
    let (gd, sz, east) = (m[0].id, m[1].id, m[2].id);
    rule(
        &app,
        json!({"name": "按区域", "target": {"type": "members", "strategy": "territory",
            "members": [{"user_id": gd}, {"user_id": sz}, {"user_id": east}],
            "territories": [
                {"province": "广东", "user_id": gd},
                {"city": "深圳", "user_id": sz},
                {"region": "east", "user_id": east}]}}),
    )
    .await;
    assert_eq!(
        owner_of_new_lead(
            &app,
            json!({"name": "广州", "province": "广东省", "city": "广州市"})
        )
        .await,
        Some(gd)
    );
    assert_eq!(
        owner_of_new_lead(
            &app,
            json!({"name": "深圳", "province": "广东省", "city": "深圳市"})
        )
        .await,
        Some(sz)
    );
    assert_eq!(
        owner_of_new_lead(
            &app,
            json!({"name": "杭州", "province": "浙江", "city": "杭州"})
        )
        .await,
        Some(east)
    );
    // No territory covers Sichuan: the creator keeps the lead.
    let admin = app.get("/api/v1/me", &app.admin_token).await.body["id"].as_i64();
    assert_eq!(
        owner_of_new_lead(&app, json!({"name": "成都", "province": "四川"})).await,
        admin
    );
}

async fn manual_and_bulk_assignment_is_scoped_audited_and_all_or_nothing(app: TestApp) {
    let team = app.team("一组", None).await;
    let manager = app.user("mgr", Role::Manager, Some(team)).await;
    let r1 = app.user("r1", Role::Rep, Some(team)).await;
    let r2 = app.user("r2", Role::Rep, Some(team)).await;
    let outsider = app.user("r3", Role::Rep, None).await;
    let t = &app.admin_token;
    let l1 = id(&app
        .lead(t, json!({"name": "线索一", "owner_id": r1.id}))
        .await);
    let l2 = id(&app
        .lead(t, json!({"name": "线索二", "owner_id": r1.id}))
        .await);
    let l3 = id(&app
        .lead(t, json!({"name": "线索三", "owner_id": outsider.id}))
        .await);
    app.clock.advance(chrono::Duration::hours(2));

    let reply = app
        .post(
            &format!("/api/v1/leads/{l1}/assign"),
            &manager.token,
            json!({"owner_id": r2.id}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["owner_id"], r2.id);
    assert_eq!(reply.body["assigned_at"], "2026-11-02T11:00:00.000Z");
    let history = app
        .get(&format!("/api/v1/leads/{l1}/history"), t)
        .await
        .body;
    let change = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "owner_id")
        .unwrap_or_else(|| panic!("an owner change in {history}"))
        .clone();
    assert_eq!(change["old_value"], r1.id);
    assert_eq!(change["new_value"], r2.id);
    assert_eq!(change["channel"], "api");
    assert_eq!(change["actor"], "mgr");
    let notes = app.get("/api/v1/notifications", &r2.token).await.body;
    assert_eq!(notes["items"][0]["kind"], "lead.assigned");
    assert_eq!(notes["items"][0]["record_id"], l1);

    // One lead out of the manager's scope: nothing moves.
    app.post(
        "/api/v1/leads/assign",
        &manager.token,
        json!({"lead_ids": [l2, l3], "owner_id": r2.id}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get(&format!("/api/v1/leads/{l2}"), t).await.body["owner_id"],
        r1.id
    );
    // Giving to someone outside one's scope is forbidden; unknown users and empty lists are
    // invalid.
    app.post(
        &format!("/api/v1/leads/{l2}/assign"),
        &manager.token,
        json!({"owner_id": outsider.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let unknown = app
        .post(
            "/api/v1/leads/assign",
            &manager.token,
            json!({"lead_ids": [l2], "owner_id": 9999}),
        )
        .await;
    unknown.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(unknown.body["error"]["field"], "owner_id");
    let empty = app
        .post(
            "/api/v1/leads/assign",
            &manager.token,
            json!({"lead_ids": [], "owner_id": r2.id}),
        )
        .await;
    assert_eq!(empty.body["error"]["field"], "lead_ids");

    // The admin moves all three at once; the new owner hears of it once.
    let notes_before = app.get("/api/v1/notifications", &outsider.token).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    let bulk = app
        .post(
            "/api/v1/leads/assign",
            t,
            json!({"lead_ids": [l1, l2, l3], "owner_id": outsider.id}),
        )
        .await;
    assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.body);
    assert_eq!(bulk.ids(), vec![l1, l2, l3]);
    assert!(bulk.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["owner_id"] == outsider.id));
    let notes = app.get("/api/v1/notifications", &outsider.token).await.body;
    assert_eq!(
        notes["items"].as_array().unwrap().len(),
        notes_before + 1,
        "{notes}"
    );
    assert!(notes["items"][0]["message"].as_str().unwrap().contains('2'));
}

async fn bad_rules_and_settings_are_refused(app: TestApp) {
    let t = &app.admin_token;
    let rep = app.user("plain", Role::Rep, None).await;
    let empty_team = app.team("空团队", None).await;
    let cases = [
        (
            json!({"name": "x", "target": {"type": "members", "members": [{"user_id": 9999}]}}),
            "target.members[0].user_id",
        ),
        (
            json!({"name": "x", "target": {"type": "members", "members": []}}),
            "target.members",
        ),
        (
            json!({"name": "x", "target": {"type": "team", "team_id": 9999}}),
            "target.team_id",
        ),
        (
            json!({"name": "x", "target": {"type": "team", "team_id": empty_team}}),
            "target.team_id",
        ),
        (
            json!({"name": "x", "target": {"type": "queue", "pool_id": 9999}}),
            "target.pool_id",
        ),
        (
            json!({"name": "x", "target": {"type": "user", "user_id": rep.id},
                "conditions": [{"field": "custom.vip", "operator": "eq", "value": true}]}),
            "conditions[0].field",
        ),
        (
            json!({"name": "x", "target": {"type": "members", "strategy": "fastest",
                "members": [{"user_id": rep.id}]}}),
            "target.strategy",
        ),
        (
            json!({"name": "x", "target": {"type": "members",
                "members": [{"user_id": rep.id, "weight": -1}]}}),
            "target.members[0].weight",
        ),
    ];
    for (body, field) in cases {
        let reply = app.post("/api/v1/assignment/rules", t, body.clone()).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(
            reply.body["error"]["field"], field,
            "{body}: {}",
            reply.body
        );
    }
    app.post(
        "/api/v1/assignment/rules",
        &rep.token,
        json!({"name": "x", "target": {"type": "user", "user_id": rep.id}}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        app.get("/api/v1/assignment/rules", t).await.body["items"],
        json!([])
    );

    let created = rule(
        &app,
        json!({"name": "ok", "target": {"type": "user", "user_id": rep.id}}),
    )
    .await;
    let reorder = app
        .post(
            "/api/v1/assignment/rules/reorder",
            t,
            json!({"rule_ids": [id(&created), 9999]}),
        )
        .await;
    reorder.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(reorder.body["error"]["field"], "rule_ids");
    let patched = app
        .patch(
            &format!("/api/v1/assignment/rules/{}", id(&created)),
            t,
            json!({"target": {"type": "user"}}),
        )
        .await;
    assert_eq!(patched.body["error"]["field"], "target.user_id");
    app.get("/api/v1/assignment/rules/9999", t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    let both = app
        .patch(
            "/api/v1/assignment/settings",
            t,
            json!({"fallback_user_id": rep.id, "fallback_pool_id": 1}),
        )
        .await;
    both.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let negative = app
        .patch(
            &format!("/api/v1/users/{}/availability", rep.id),
            t,
            json!({"daily_cap": -3}),
        )
        .await;
    negative.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(negative.body["error"]["field"], "daily_cap");
    let other = app.user("other", Role::Rep, None).await;
    app.patch(
        &format!("/api/v1/users/{}/availability", rep.id),
        &other.token,
        json!({"daily_cap": 3}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.get("/api/v1/users/9999/availability", t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}
