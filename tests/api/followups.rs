//! Follow-ups on time: the due list per user within scope, a reminder when a planned follow-up
//! falls due (once), SLA rules counting working hours only (escalate to the manager, or
//! reassign to a pool or a user), managers' comments on follow-ups, and attachments.

use crate::on_both_databases;
use crate::support::{Reply, TestApp, TestUser};
use chrono::{Duration, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_app::jobs::{self, JobEnv};
use xiansuo_core::role::Role;

on_both_databases!(
    due_follow_ups_are_listed_per_user_within_scope,
    a_managers_due_list_pages_through_plans_of_the_same_time_once_each,
    a_due_follow_up_reminds_its_owner_once,
    sla_escalates_to_the_manager_after_working_hours_only,
    sla_reassigns_to_a_pool_or_a_user_and_refuses_bad_rules,
    managers_comment_on_follow_ups_and_the_author_hears_of_it,
    attachments_are_stored_listed_downloaded_and_deleted_within_scope,
    attachments_stored_as_base64_text_are_whole_after_the_upgrade,
);

async fn run_jobs(app: &TestApp) {
    let report = jobs::run_due(&app.db, &JobEnv::default(), app.clock_now())
        .await
        .expect("jobs run");
    assert_eq!(report.failed, 0, "{report:?}");
}

async fn notifications(app: &TestApp, user: &TestUser, kind: &str) -> Vec<Value> {
    let reply = app.get("/api/v1/notifications", &user.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .cloned()
        .collect()
}

async fn lead_id(app: &TestApp, token: &str, name: &str) -> i64 {
    app.lead(token, json!({ "name": name })).await["id"]
        .as_i64()
        .unwrap()
}

/// Logs a follow-up planning the next one at `next` (RFC 3339) and returns its id.
async fn follow_up(app: &TestApp, user: &TestUser, lead: i64, next: Option<String>) -> i64 {
    let reply = app
        .post(
            &format!("/api/v1/leads/{lead}/activities"),
            &user.token,
            json!({"type": "call", "outcome": "call_back", "content": "约了下次", "next_follow_up_at": next}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

fn record_ids(reply: &Reply) -> Vec<i64> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list, got {}", reply.body))
        .iter()
        .map(|i| i["record_id"].as_i64().unwrap())
        .collect()
}

/// A manager's due list over two reps, a page of two at a time, where three leads share each
/// planned time: every due lead comes once, earliest plan first, then in the order its
/// follow-ups were logged; a disqualified lead and another team's lead never come.
async fn a_managers_due_list_pages_through_plans_of_the_same_time_once_each(app: TestApp) {
    let team = app.team("上海一组", None).await;
    let manager = app.user("mgr", Role::Manager, Some(team)).await;
    let reps = [
        app.user("rep_a", Role::Rep, Some(team)).await,
        app.user("rep_b", Role::Rep, Some(team)).await,
    ];
    let outsider = app.user("rep_out", Role::Rep, None).await;
    let now = app.clock_now();
    let times = [now - Duration::hours(30), now - Duration::hours(2)];
    let mut expected = Vec::new();
    for (t, at) in times.iter().enumerate() {
        for i in 0..3 {
            let rep = &reps[i % 2];
            let lead = lead_id(&app, &rep.token, &format!("客户{t}{i}")).await;
            follow_up(&app, rep, lead, Some(at.to_rfc3339())).await;
            expected.push(lead);
        }
    }
    let theirs = lead_id(&app, &outsider.token, "别组客户").await;
    follow_up(&app, &outsider, theirs, Some(times[0].to_rfc3339())).await;
    let closed = lead_id(&app, &reps[0].token, "无效客户").await;
    follow_up(&app, &reps[0], closed, Some(times[0].to_rfc3339())).await;
    let reply = app
        .patch(
            &format!("/api/v1/leads/{closed}"),
            &reps[0].token,
            json!({"status": "disqualified", "disqualify_reason": "重复"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let mut seen = Vec::new();
    let mut path = "/api/v1/follow-ups/due?limit=2".to_owned();
    for _ in 0..10 {
        let page = app.get(&path, &manager.token).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let ids = record_ids(&page);
        assert!(ids.len() <= 2, "{}", page.body);
        seen.extend(ids);
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/follow-ups/due?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

async fn due_follow_ups_are_listed_per_user_within_scope(app: TestApp) {
    let team = app.team("杭州一组", None).await;
    let manager = app.user("mgr", Role::Manager, Some(team)).await;
    let rep = app.user("rep", Role::Rep, Some(team)).await;
    let outsider = app.user("rep_out", Role::Rep, None).await;
    // The test clock starts on Monday 2026-11-02 at 17:00 in Shanghai.
    let now = app.clock_now();
    let late = lead_id(&app, &rep.token, "逾期客户").await;
    let tonight = lead_id(&app, &rep.token, "今晚客户").await;
    let later = lead_id(&app, &rep.token, "下周客户").await;
    let done = lead_id(&app, &rep.token, "已跟进客户").await;
    let theirs = lead_id(&app, &outsider.token, "别人的客户").await;
    follow_up(
        &app,
        &rep,
        late,
        Some((now - Duration::hours(20)).to_rfc3339()),
    )
    .await;
    follow_up(
        &app,
        &rep,
        tonight,
        Some((now + Duration::hours(3)).to_rfc3339()),
    )
    .await;
    follow_up(
        &app,
        &rep,
        later,
        Some((now + Duration::days(3)).to_rfc3339()),
    )
    .await;
    follow_up(
        &app,
        &rep,
        done,
        Some((now - Duration::hours(1)).to_rfc3339()),
    )
    .await;
    // Following up again fulfils the plan.
    follow_up(&app, &rep, done, None).await;
    follow_up(
        &app,
        &outsider,
        theirs,
        Some((now - Duration::hours(1)).to_rfc3339()),
    )
    .await;

    let due = app.get("/api/v1/follow-ups/due", &rep.token).await;
    assert_eq!(due.status, StatusCode::OK, "{}", due.body);
    assert_eq!(record_ids(&due), vec![late, tonight]);
    assert_eq!(due.body["items"][0]["overdue"], true);
    assert_eq!(due.body["items"][0]["record_name"], "逾期客户");
    assert_eq!(due.body["items"][1]["overdue"], false);
    assert_eq!(due.body["items"][1]["owner_id"], rep.id);
    let overdue = app
        .get("/api/v1/follow-ups/due?when=overdue", &rep.token)
        .await;
    assert_eq!(record_ids(&overdue), vec![late]);
    let today = app
        .get("/api/v1/follow-ups/due?when=today", &rep.token)
        .await;
    assert_eq!(record_ids(&today), vec![tonight]);
    let upcoming = app
        .get("/api/v1/follow-ups/due?when=upcoming", &rep.token)
        .await;
    assert_eq!(record_ids(&upcoming), vec![tonight, later]);
    let paged = app
        .get("/api/v1/follow-ups/due?when=upcoming&limit=1", &rep.token)
        .await;
    assert_eq!(record_ids(&paged), vec![tonight]);
    let cursor = paged.body["next_cursor"].as_str().unwrap().to_owned();
    let next = app
        .get(
            &format!("/api/v1/follow-ups/due?when=upcoming&limit=1&cursor={cursor}"),
            &rep.token,
        )
        .await;
    assert_eq!(record_ids(&next), vec![later]);
    assert_eq!(next.body["next_cursor"], Value::Null);

    // The manager sees the team's, for one rep or all; never someone outside the team.
    let mine = app
        .get(
            &format!("/api/v1/follow-ups/due?user_id={}", rep.id),
            &manager.token,
        )
        .await;
    assert_eq!(record_ids(&mine), vec![late, tonight]);
    let team_view = app.get("/api/v1/follow-ups/due", &manager.token).await;
    assert_eq!(record_ids(&team_view), vec![late, tonight]);
    app.get(
        &format!("/api/v1/follow-ups/due?user_id={}", outsider.id),
        &manager.token,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.get(
        &format!("/api/v1/follow-ups/due?user_id={}", rep.id),
        &outsider.token,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let everyone = app.get("/api/v1/follow-ups/due", &app.admin_token).await;
    assert_eq!(record_ids(&everyone), vec![late, theirs, tonight]);
    for bad in [
        "when=someday",
        "limit=0",
        "days=1000",
        "user_id=x",
        "colour=red",
        "cursor=abc",
    ] {
        app.get(&format!("/api/v1/follow-ups/due?{bad}"), &rep.token)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    }
}

async fn a_due_follow_up_reminds_its_owner_once(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let lead = lead_id(&app, &rep.token, "回访客户").await;
    let activity = follow_up(
        &app,
        &rep,
        lead,
        Some((app.clock_now() + Duration::hours(2)).to_rfc3339()),
    )
    .await;
    run_jobs(&app).await;
    assert!(notifications(&app, &rep, "followup.due").await.is_empty());

    app.clock.advance(Duration::hours(2));
    run_jobs(&app).await;
    let reminded = notifications(&app, &rep, "followup.due").await;
    assert_eq!(reminded.len(), 1);
    assert_eq!(reminded[0]["record_id"], lead);
    assert!(reminded[0]["message"]
        .as_str()
        .unwrap()
        .contains("回访客户"));
    app.clock.advance(Duration::minutes(5));
    run_jobs(&app).await;
    assert_eq!(
        notifications(&app, &rep, "followup.due").await.len(),
        1,
        "once"
    );

    // Moving the plan makes a new reminder.
    let moved = app
        .patch(
            &format!("/api/v1/activities/{activity}"),
            &rep.token,
            json!({"next_follow_up_at": (app.clock_now() + Duration::hours(1)).to_rfc3339()}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    app.clock.advance(Duration::hours(1));
    run_jobs(&app).await;
    assert_eq!(notifications(&app, &rep, "followup.due").await.len(), 2);
}

async fn sla_escalates_to_the_manager_after_working_hours_only(app: TestApp) {
    let region = app.team("华东大区", None).await;
    let team = app.team("苏州一组", Some(region)).await;
    // The manager sits one level up: escalation walks up the org tree.
    let manager = app.user("mgr", Role::Manager, Some(region)).await;
    let rep = app.user("rep", Role::Rep, Some(team)).await;
    let rule = app
        .post(
            "/api/v1/sla/rules",
            &app.admin_token,
            json!({"name": "两小时首次联系", "hours": 2, "action": "escalate"}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    // Friday 2026-11-06, 17:00 in Shanghai (09:00 UTC).
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 6, 9, 0, 0).unwrap());
    let silent = app
        .lead(
            &app.admin_token,
            json!({"name": "沉默线索", "owner_id": rep.id}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let called = app
        .lead(
            &app.admin_token,
            json!({"name": "已联系线索", "owner_id": rep.id}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    follow_up(&app, &rep, called, None).await;

    // Friday night and the weekend do not count.
    for at in [
        Utc.with_ymd_and_hms(2026, 11, 6, 15, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 8, 12, 0, 0).unwrap(),
        // Monday 09:59 in Shanghai: one working hour on Friday, 59 minutes on Monday.
        Utc.with_ymd_and_hms(2026, 11, 9, 1, 59, 0).unwrap(),
    ] {
        app.clock.set(at);
        run_jobs(&app).await;
        assert!(
            notifications(&app, &manager, "sla.escalated")
                .await
                .is_empty(),
            "{at}"
        );
    }
    // Monday 10:00 in Shanghai.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 9, 2, 0, 0).unwrap());
    run_jobs(&app).await;
    let escalated = notifications(&app, &manager, "sla.escalated").await;
    assert_eq!(escalated.len(), 1, "{escalated:?}");
    assert_eq!(escalated[0]["record_id"], silent);
    assert_eq!(
        app.get(&format!("/api/v1/leads/{silent}"), &app.admin_token)
            .await
            .body["owner_id"],
        rep.id,
        "escalation keeps the owner"
    );
    app.clock.advance(Duration::minutes(5));
    run_jobs(&app).await;
    assert_eq!(
        notifications(&app, &manager, "sla.escalated").await.len(),
        1,
        "once"
    );
    let history = app
        .get(&format!("/api/v1/leads/{silent}/history"), &app.admin_token)
        .await;
    assert!(history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "sla_breach" && e["channel"] == "job"));

    // Working hours are the admin's to set; a time zone must exist.
    let hours = app.get("/api/v1/sla/working-hours", &rep.token).await;
    assert_eq!(hours.body["time_zone"], "Asia/Shanghai");
    assert_eq!(hours.body["weekdays"], json!([1, 2, 3, 4, 5]));
    app.call(
        Method::PUT,
        "/api/v1/sla/working-hours",
        &rep.token,
        Some(json!({"start": "08:00"})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    for (body, field) in [
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"start": "19:00"}), "end"),
        (json!({"weekdays": [0]}), "weekdays"),
        (json!({"holidays": ["2026-13-01"]}), "holidays"),
        (json!({"start": null}), "start"),
        (json!({"timezone": "Asia/Shanghai"}), "timezone"),
    ] {
        let reply = app
            .call(
                Method::PUT,
                "/api/v1/sla/working-hours",
                &app.admin_token,
                Some(body),
            )
            .await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
    let set = app
        .call(
            Method::PUT,
            "/api/v1/sla/working-hours",
            &app.admin_token,
            Some(json!({"start": "08:30", "weekdays": [1, 2, 3, 4, 5, 6], "holidays": ["2027-01-01"]})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["start"], "08:30");
    assert_eq!(set.body["end"], "18:00");
    assert_eq!(
        app.get("/api/v1/sla/working-hours", &rep.token).await.body["holidays"],
        json!(["2027-01-01"])
    );
}

async fn sla_reassigns_to_a_pool_or_a_user_and_refuses_bad_rules(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let backup = app.user("backup", Role::Rep, None).await;
    let team = app.team("深圳一组", None).await;
    let team_rep = app.user("rep_sz", Role::Rep, Some(team)).await;
    let pool = app
        .post(
            "/api/v1/pools",
            &app.admin_token,
            json!({"name": "SLA公海"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    app.post("/api/v1/sla/rules", &rep.token, json!({"hours": 2}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    for (body, field) in [
        (json!({"action": "escalate"}), "hours"),
        (json!({"hours": 0}), "hours"),
        (json!({"hours": 2, "action": "shout"}), "action"),
        (json!({"hours": 2, "action": "reassign"}), "target_pool_id"),
        (
            json!({"hours": 2, "action": "reassign", "target_pool_id": pool, "target_user_id": backup.id}),
            "target_pool_id",
        ),
        (
            json!({"hours": 2, "action": "escalate", "target_user_id": backup.id}),
            "action",
        ),
        (
            json!({"hours": 2, "action": "reassign", "target_pool_id": 999_999}),
            "target_pool_id",
        ),
        (json!({"hours": 2, "team_id": 999_999}), "team_id"),
        (json!({"hours": 2, "active": null}), "active"),
        (json!({"hours": 2, "minutes": 30}), "minutes"),
    ] {
        let reply = app.post("/api/v1/sla/rules", &app.admin_token, body).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
    // Everyone's leads go to the pool after 4 working hours; the Shenzhen team's to a colleague
    // after 1.
    let to_pool = app
        .post(
            "/api/v1/sla/rules",
            &app.admin_token,
            json!({"hours": 4, "action": "reassign", "target_pool_id": pool}),
        )
        .await;
    assert_eq!(to_pool.status, StatusCode::CREATED, "{}", to_pool.body);
    let to_user = app
        .post(
            "/api/v1/sla/rules",
            &app.admin_token,
            json!({"hours": 1, "action": "reassign", "target_user_id": backup.id, "team_id": team}),
        )
        .await;
    assert_eq!(to_user.status, StatusCode::CREATED, "{}", to_user.body);
    let rules = app.get("/api/v1/sla/rules", &app.admin_token).await;
    assert_eq!(rules.ids().len(), 2);

    // Tuesday 2026-11-03, 09:00 in Shanghai.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 3, 1, 0, 0).unwrap());
    let general = lead_id(&app, &rep.token, "普通线索").await;
    let local = lead_id(&app, &team_rep.token, "深圳线索").await;
    app.clock.advance(Duration::hours(1));
    run_jobs(&app).await;
    let moved = app
        .get(&format!("/api/v1/leads/{local}"), &app.admin_token)
        .await;
    assert_eq!(moved.body["owner_id"], backup.id);
    assert_eq!(
        notifications(&app, &backup, "lead.assigned").await[0]["record_id"],
        local
    );
    assert_eq!(
        notifications(&app, &team_rep, "sla.reassigned").await.len(),
        1
    );
    assert_eq!(
        app.get(&format!("/api/v1/leads/{general}"), &app.admin_token)
            .await
            .body["owner_id"],
        rep.id
    );

    app.clock.advance(Duration::hours(3));
    run_jobs(&app).await;
    let pooled = app
        .get(&format!("/api/v1/leads/{general}"), &app.admin_token)
        .await;
    assert_eq!(pooled.body["owner_id"], Value::Null);
    assert_eq!(pooled.body["pool_id"], pool);
    // The reassigned lead's timer restarted with its new owner: 4 working hours from 10:00.
    assert_eq!(
        app.get(&format!("/api/v1/leads/{local}"), &app.admin_token)
            .await
            .body["owner_id"],
        backup.id
    );
    let history = app
        .get(
            &format!("/api/v1/leads/{general}/history"),
            &app.admin_token,
        )
        .await;
    assert!(history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "pool_id" && e["channel"] == "job"));

    let rule_id = to_pool.body["id"].as_i64().unwrap();
    let off = app
        .patch(
            &format!("/api/v1/sla/rules/{rule_id}"),
            &app.admin_token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(off.body["active"], false, "{}", off.body);
    assert_eq!(off.body["hours"], 4);
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/v1/sla/rules/{rule_id}"),
            &app.admin_token,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/v1/sla/rules/{rule_id}"), &app.admin_token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn managers_comment_on_follow_ups_and_the_author_hears_of_it(app: TestApp) {
    let team = app.team("成都一组", None).await;
    let other_team = app.team("重庆一组", None).await;
    let manager = app.user("mgr", Role::Manager, Some(team)).await;
    let stranger = app.user("mgr_cq", Role::Manager, Some(other_team)).await;
    let rep = app.user("rep", Role::Rep, Some(team)).await;
    let lead = lead_id(&app, &rep.token, "点评客户").await;
    let activity = follow_up(&app, &rep, lead, None).await;
    let path = format!("/api/v1/activities/{activity}/comments");

    app.post(&path, &rep.token, json!({"content": "自己点评自己"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.post(&path, &stranger.token, json!({"content": "越权"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let empty = app
        .post(&path, &manager.token, json!({"content": "  "}))
        .await;
    empty.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(empty.body["error"]["field"], "content");
    let unknown = app
        .post(&path, &manager.token, json!({"content": "好", "score": 5}))
        .await;
    unknown.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(unknown.body["error"]["field"], "score");

    let comment = app
        .post(
            &path,
            &manager.token,
            json!({"content": "下次先确认预算和决策人"}),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.body);
    assert_eq!(comment.body["author_id"], manager.id);
    assert_eq!(comment.body["author"], "mgr");
    let told = notifications(&app, &rep, "activity.commented").await;
    assert_eq!(told.len(), 1);
    assert!(told[0]["message"].as_str().unwrap().contains("确认预算"));

    let listed = app.get(&path, &rep.token).await;
    assert_eq!(listed.ids(), vec![comment.body["id"].as_i64().unwrap()]);
    assert_eq!(listed.body["items"][0]["content"], "下次先确认预算和决策人");
    app.get(&path, &stranger.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let history = app
        .get(&format!("/api/v1/leads/{lead}/history"), &rep.token)
        .await;
    assert!(history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "activity_comment" && e["actor_id"] == manager.id));
}

async fn upload(app: &TestApp, token: &str, path: &str, bytes: Vec<u8>) -> Reply {
    let response = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("Content-Type", "audio/mpeg")
        .body(bytes)
        .send()
        .await
        .expect("the server answers");
    Reply::from(response).await
}

async fn attachments_are_stored_listed_downloaded_and_deleted_within_scope(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let other = app.user("rep2", Role::Rep, None).await;
    let lead = lead_id(&app, &rep.token, "附件客户").await;
    let activity = follow_up(&app, &rep, lead, None).await;
    // Three chunks and a bit, with every byte value.
    let recording: Vec<u8> = (0..(3 * 1024 * 1024 + 17))
        .map(|i| (i % 251) as u8)
        .collect();
    let base = format!("/api/v1/leads/{lead}/attachments");

    let stored = upload(
        &app,
        &rep.token,
        &format!("{base}?filename=%E9%80%9A%E8%AF%9D%E5%BD%95%E9%9F%B3.mp3&activity_id={activity}"),
        recording.clone(),
    )
    .await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    assert_eq!(stored.body["filename"], "通话录音.mp3");
    assert_eq!(stored.body["size"], recording.len());
    assert_eq!(stored.body["content_type"], "audio/mpeg");
    assert_eq!(stored.body["activity_id"], activity);
    let id = stored.body["id"].as_i64().unwrap();

    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes("报价 v2".as_bytes().to_vec())
            .file_name("报价单.txt")
            .mime_str("text/plain")
            .unwrap(),
    );
    let by_form = Reply::from(
        app.client
            .post(format!("{}{base}", app.base))
            .bearer_auth(&rep.token)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(by_form.status, StatusCode::CREATED, "{}", by_form.body);
    assert_eq!(by_form.body["filename"], "报价单.txt");

    let listed = app.get(&base, &rep.token).await;
    assert_eq!(listed.ids(), vec![by_form.body["id"].as_i64().unwrap(), id]);
    let download = app
        .client
        .get(format!("{}/api/v1/attachments/{id}", app.base))
        .bearer_auth(&rep.token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "audio/mpeg");
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''%E9%80%9A"));
    assert_eq!(download.bytes().await.unwrap().to_vec(), recording);

    // Outside the lead's scope the files do not exist.
    app.get(&base, &other.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get(&format!("/api/v1/attachments/{id}"), &other.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    upload(
        &app,
        &other.token,
        &format!("{base}?filename=x.txt"),
        b"x".to_vec(),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.call(
        Method::DELETE,
        &format!("/api/v1/attachments/{id}"),
        &other.token,
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");

    let empty = upload(
        &app,
        &rep.token,
        &format!("{base}?filename=a.txt"),
        Vec::new(),
    )
    .await;
    empty.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let unnamed = upload(&app, &rep.token, &base, b"hello".to_vec()).await;
    unnamed.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(unnamed.body["error"]["field"], "filename");
    upload(
        &app,
        &rep.token,
        &format!("{base}?filename=a.txt&activity_id=999999"),
        b"x".to_vec(),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let huge = upload(
        &app,
        &rep.token,
        &format!("{base}?filename=big.bin"),
        vec![0; 20 * 1024 * 1024 + 1],
    )
    .await;
    huge.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(
        app.get(&base, &rep.token).await.ids().len(),
        2,
        "nothing half-written"
    );

    let gone = app
        .call(
            Method::DELETE,
            &format!("/api/v1/attachments/{id}"),
            &rep.token,
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/v1/attachments/{id}"), &rep.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let history = app
        .get(&format!("/api/v1/leads/{lead}/history"), &rep.token)
        .await;
    let actions: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"attachment") && actions.contains(&"attachment_delete"));
}

/// Files stored before migration 0024 were base64 text; the upgrade turns them into bytes and
/// every file downloads as it was uploaded.
async fn attachments_stored_as_base64_text_are_whole_after_the_upgrade(app: TestApp) {
    use base64::Engine as _;
    use xiansuo_store::{Dialect, Param};
    let rep = app.user("rep", Role::Rep, None).await;
    let lead = lead_id(&app, &rep.token, "旧附件客户").await;
    let contract: Vec<u8> = (0..(1024 * 1024 + 5)).map(|i| (i % 253) as u8).collect();
    let stored = upload(
        &app,
        &rep.token,
        &format!("/api/v1/leads/{lead}/attachments?filename=contract.pdf"),
        contract.clone(),
    )
    .await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    let id = stored.body["id"].as_i64().unwrap();

    // Put the database back as it was before the upgrade: the pieces as base64 text.
    let mut tx = app.db.begin().await.unwrap();
    if app.db.dialect() == Dialect::Postgres {
        tx.execute_script(
            "ALTER TABLE attachment_chunks ALTER COLUMN data TYPE TEXT USING translate(encode(data, 'base64'), E'\\n', ''); \
             ALTER TABLE import_upload_chunks ALTER COLUMN data TYPE TEXT USING encode(data, 'base64');",
        )
        .await
        .unwrap();
    } else {
        let pieces = tx
            .fetch_all("SELECT id, data FROM attachment_chunks", &[])
            .await
            .unwrap();
        assert_eq!(pieces.len(), 2, "two pieces of at most 1 MiB");
        for piece in pieces {
            let text = base64::engine::general_purpose::STANDARD.encode(piece.bytes("data"));
            tx.execute(
                "UPDATE attachment_chunks SET data = ? WHERE id = ?",
                &[Param::Text(text), Param::Int(piece.int("id"))],
            )
            .await
            .unwrap();
        }
    }
    tx.execute(
        "DELETE FROM schema_migrations WHERE version = '0024_file_bytes'",
        &[],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let applied = xiansuo_app::migrate(&app.db, app.clock_now().timestamp_millis())
        .await
        .expect("the upgrade runs");
    assert_eq!(applied, vec!["0024_file_bytes"]);
    let download = app
        .client
        .get(format!("{}/api/v1/attachments/{id}", app.base))
        .bearer_auth(&rep.token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.unwrap().to_vec(), contract);
}
