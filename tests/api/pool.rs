//! The public pool (公海): members see its leads with masked phones and claim them within the
//! pool's limits and cool-down, two reps claiming one lead get it once, admins assign from it,
//! and recycle rules warn owners and then return neglected leads, sparing protected ones.

use crate::on_both_databases;
use crate::support::{TestApp, TestUser};
use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_app::jobs::{self, JobEnv};
use xiansuo_core::role::Role;

on_both_databases!(
    members_see_pool_leads_masked_until_they_claim_one,
    pools_refuse_bad_settings_and_non_admins,
    two_reps_claiming_the_same_lead_get_it_once,
    claims_keep_to_the_pool_limits_and_the_cool_down,
    admins_and_pool_admins_assign_pool_leads,
    recycle_rules_warn_once_then_return_neglected_leads,
    unfollowed_leads_go_back_but_protected_ones_stay,
);

pub(crate) async fn create_pool(app: &TestApp, body: Value) -> i64 {
    let reply = app.post("/api/v1/pools", &app.admin_token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

/// A lead the admin creates and returns to `pool`.
pub(crate) async fn pooled_lead(app: &TestApp, pool: i64, name: &str, phone: &str) -> i64 {
    let id = app
        .lead(&app.admin_token, json!({"name": name, "phone": phone}))
        .await["id"]
        .as_i64()
        .unwrap();
    let reply = app
        .post(
            &format!("/api/v1/leads/{id}/release"),
            &app.admin_token,
            json!({"reason": "公海线索", "pool_id": pool}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["owner_id"], Value::Null);
    assert_eq!(reply.body["pool_id"], pool);
    id
}

async fn claim(app: &TestApp, pool: i64, user: &TestUser, leads: &[i64]) -> crate::support::Reply {
    app.post(
        &format!("/api/v1/pools/{pool}/claim"),
        &user.token,
        json!({ "lead_ids": leads }),
    )
    .await
}

async fn release(app: &TestApp, lead: i64, user: &TestUser) {
    let reply = app
        .post(
            &format!("/api/v1/leads/{lead}/release"),
            &user.token,
            json!({"reason": "客户暂无预算"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn run_jobs(app: &TestApp) {
    let report = jobs::run_due(&app.db, &JobEnv::default(), app.clock_now())
        .await
        .expect("jobs run");
    assert_eq!(report.failed, 0, "{report:?}");
}

/// The kinds of a user's notifications about one lead, oldest first.
async fn notified(app: &TestApp, user: &TestUser, lead: i64) -> Vec<String> {
    let reply = app.get("/api/v1/notifications", &user.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut kinds: Vec<String> = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["record_id"] == lead)
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.reverse();
    kinds
}

async fn lead(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/v1/leads/{id}"), &app.admin_token)
        .await
        .body
}

async fn members_see_pool_leads_masked_until_they_claim_one(app: TestApp) {
    let team = app.team("上海一组", None).await;
    let member = app.user("rep_in", Role::Rep, Some(team)).await;
    let outsider = app.user("rep_out", Role::Rep, None).await;
    let pool = create_pool(
        &app,
        json!({"name": "华东公海", "region": "上海", "member_team_ids": [team]}),
    )
    .await;
    let lead_id = pooled_lead(&app, pool, "王芳", "13812345678").await;
    let path = format!("/api/v1/pools/{pool}/leads");

    app.get(&path, &outsider.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(app
        .get("/api/v1/pools", &outsider.token)
        .await
        .ids()
        .is_empty());
    claim(&app, pool, &outsider, &[lead_id])
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    let listed = app.get(&path, &member.token).await;
    assert_eq!(listed.ids(), vec![lead_id]);
    let item = &listed.body["items"][0];
    assert_eq!(item["phone"], "138****5678");
    assert_eq!(item["phone_normalized"], "138****5678");
    assert_eq!(item["owner_id"], Value::Null);
    assert_eq!(item["pool_id"], pool);
    let pools = app.get("/api/v1/pools", &member.token).await;
    assert_eq!(pools.ids(), vec![pool]);
    assert_eq!(pools.body["items"][0]["lead_count"], 1);
    // Not through the ordinary data scope: the lead has no owner.
    app.get(&format!("/api/v1/leads/{lead_id}"), &member.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(!app
        .get("/api/v1/leads", &member.token)
        .await
        .ids()
        .contains(&lead_id));

    let claimed = claim(&app, pool, &member, &[lead_id]).await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(claimed.body["items"][0]["phone"], "13812345678");
    let mine = app
        .get(&format!("/api/v1/leads/{lead_id}"), &member.token)
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.body["owner_id"], member.id);
    assert_eq!(mine.body["pool_id"], Value::Null);
    assert_eq!(mine.body["phone_normalized"], "+8613812345678");
    assert!(app.get(&path, &member.token).await.ids().is_empty());

    let history = app
        .get(
            &format!("/api/v1/leads/{lead_id}/history"),
            &app.admin_token,
        )
        .await
        .body;
    let entries = history["items"].as_array().unwrap();
    let owner_change = entries
        .iter()
        .rev()
        .find(|e| e["field"] == "owner_id")
        .expect("the claim is in the history");
    assert_eq!(owner_change["new_value"], member.id);
    assert_eq!(owner_change["actor_id"], member.id);
    assert_eq!(owner_change["channel"], "api");
    assert!(entries.iter().any(|e| e["action"] == "claim"));
    assert!(entries
        .iter()
        .any(|e| e["action"] == "release" && e["new_value"]["reason"] == "公海线索"));

    // Returned without naming a pool, a lead goes to the pool whose region fits it.
    let elsewhere = app
        .lead(
            &member.token,
            json!({"name": "北京客户", "province": "北京"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let refused = app
        .post(
            &format!("/api/v1/leads/{elsewhere}/release"),
            &member.token,
            json!({"reason": "不在本区"}),
        )
        .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(refused.body["error"]["field"], "pool_id");
    let local = app
        .lead(&member.token, json!({"name": "上海客户", "city": "上海"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let returned = app
        .post(
            &format!("/api/v1/leads/{local}/release"),
            &member.token,
            json!({"reason": "暂无需求"}),
        )
        .await;
    assert_eq!(returned.status, StatusCode::OK, "{}", returned.body);
    assert_eq!(returned.body["pool_id"], pool);
    assert_eq!(app.get(&path, &member.token).await.ids(), vec![local]);
    app.post(
        &format!("/api/v1/leads/{local}/release"),
        &app.admin_token,
        json!({"reason": "again"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
}

async fn pools_refuse_bad_settings_and_non_admins(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    app.post("/api/v1/pools", &rep.token, json!({"name": "私海"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"region": "北京"}), "name"),
        (
            json!({"name": "x", "protection_days": 5, "protection_max_days": 3}),
            "protection_max_days",
        ),
        (
            json!({"name": "x", "member_user_ids": [999_999]}),
            "member_user_ids",
        ),
        (json!({"name": "x", "max_held": -1}), "max_held"),
        (json!({"name": "x", "colour": "red"}), "colour"),
        (json!({"name": "x", "admin_id": 0}), "admin_id"),
        (
            json!({"name": "x", "member_team_ids": ["a"]}),
            "member_team_ids[0]",
        ),
    ] {
        let reply = app.post("/api/v1/pools", &app.admin_token, body).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
    let pool = create_pool(
        &app,
        json!({"name": "北京公海", "member_user_ids": [rep.id]}),
    )
    .await;
    app.post(
        "/api/v1/pools",
        &app.admin_token,
        json!({"name": "北京公海"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    app.patch(
        &format!("/api/v1/pools/{pool}"),
        &rep.token,
        json!({"max_held": 5}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let changed = app
        .patch(
            &format!("/api/v1/pools/{pool}"),
            &app.admin_token,
            json!({"max_held": 5, "protection_days": 7}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["max_held"], 5);
    assert_eq!(changed.body["protection_max_days"], 7);
    assert_eq!(changed.body["member_user_ids"], json!([rep.id]));

    let lead_id = pooled_lead(&app, pool, "赵敏", "13900001111").await;
    for body in [json!({"lead_ids": []}), json!({"lead_ids": "1"}), json!({})] {
        claim_raw(&app, pool, &rep, body)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    }
    let for_someone = claim_raw(
        &app,
        pool,
        &rep,
        json!({"lead_ids": [lead_id], "owner_id": app_admin_id(&app).await}),
    )
    .await;
    for_someone.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(for_someone.body["error"]["field"], "owner_id");
    assert!(
        for_someone.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("/assign")),
        "{}",
        for_someone.body
    );
    app.call(
        Method::DELETE,
        &format!("/api/v1/pools/{pool}"),
        &app.admin_token,
        None,
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");

    assert_eq!(
        claim(&app, pool, &rep, &[lead_id]).await.status,
        StatusCode::OK
    );
    let no_reason = app
        .post(
            &format!("/api/v1/leads/{lead_id}/release"),
            &rep.token,
            json!({}),
        )
        .await;
    no_reason.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(no_reason.body["error"]["field"], "reason");
    assert_eq!(lead(&app, lead_id).await["owner_id"], rep.id, "untouched");

    app.post(
        "/api/v1/pools/recycle-rules",
        &rep.token,
        json!({"kind": "no_follow_up", "after": 3}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    for (body, field) in [
        (json!({"kind": "never", "after": 3}), "kind"),
        (json!({"kind": "no_follow_up"}), "after"),
        (
            json!({"kind": "no_follow_up", "after": 3, "warn_before": 3}),
            "warn_before",
        ),
        (
            json!({"kind": "no_follow_up", "after": 3, "unit": "weeks"}),
            "unit",
        ),
        (
            json!({"kind": "no_follow_up", "after": 3, "pool_id": 999_999}),
            "pool_id",
        ),
        (
            json!({"kind": "no_follow_up", "after": 3, "active": null}),
            "active",
        ),
        (
            json!({"kind": "no_follow_up", "after": 3, "every": "day"}),
            "every",
        ),
    ] {
        let reply = app
            .post("/api/v1/pools/recycle-rules", &app.admin_token, body)
            .await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
    let rule = app
        .post(
            "/api/v1/pools/recycle-rules",
            &app.admin_token,
            json!({"kind": "no_first_follow_up", "after": 48, "pool_id": pool}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    assert_eq!(rule.body["unit"], "hours");
    assert_eq!(rule.body["active"], true);
    // The lead was claimed back, so the pool is empty, but a rule still sends leads to it.
    app.call(
        Method::DELETE,
        &format!("/api/v1/pools/{pool}"),
        &app.admin_token,
        None,
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    let rule_id = rule.body["id"].as_i64().unwrap();
    let off = app
        .patch(
            &format!("/api/v1/pools/recycle-rules/{rule_id}"),
            &app.admin_token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(off.body["active"], false, "{}", off.body);
    assert_eq!(off.body["after"], 48);
    let gone = app
        .call(
            Method::DELETE,
            &format!("/api/v1/pools/recycle-rules/{rule_id}"),
            &app.admin_token,
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/v1/pools/{pool}"),
            &app.admin_token,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    app.get(&format!("/api/v1/pools/{pool}"), &app.admin_token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn claim_raw(
    app: &TestApp,
    pool: i64,
    user: &TestUser,
    body: Value,
) -> crate::support::Reply {
    app.post(&format!("/api/v1/pools/{pool}/claim"), &user.token, body)
        .await
}

async fn app_admin_id(app: &TestApp) -> i64 {
    app.get("/api/v1/me", &app.admin_token).await.body["id"]
        .as_i64()
        .unwrap()
}

async fn two_reps_claiming_the_same_lead_get_it_once(app: TestApp) {
    let a = app.user("rep_a", Role::Rep, None).await;
    let b = app.user("rep_b", Role::Rep, None).await;
    let pool = create_pool(
        &app,
        json!({"name": "抢单池", "member_user_ids": [a.id, b.id]}),
    )
    .await;
    for i in 0..5 {
        let lead_id = pooled_lead(&app, pool, &format!("客户{i}"), &format!("1390000{i:04}")).await;
        let ids = [lead_id];
        let (ra, rb) = tokio::join!(claim(&app, pool, &a, &ids), claim(&app, pool, &b, &ids));
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{} / {}",
            ra.body,
            rb.body
        );
        let (winner, loser) = if ra.status == StatusCode::OK {
            (&a, &rb)
        } else {
            (&b, &ra)
        };
        loser.assert_error(StatusCode::CONFLICT, "conflict");
        assert_eq!(lead(&app, lead_id).await["owner_id"], winner.id);
        let claims = app
            .db
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM pool_moves WHERE lead_id = ? AND kind = 'claim'",
                &[xiansuo_store::Param::Int(lead_id)],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claims.int("n"), 1);
    }
}

async fn claims_keep_to_the_pool_limits_and_the_cool_down(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let pool = create_pool(
        &app,
        json!({"name": "限额池", "member_user_ids": [rep.id], "max_held": 2,
               "max_claims_per_day": 3, "cooldown_days": 7}),
    )
    .await;
    let mut leads = Vec::new();
    for i in 0..4 {
        leads.push(pooled_lead(&app, pool, &format!("线索{i}"), &format!("1370000{i:04}")).await);
    }
    let too_many = claim(&app, pool, &rep, &leads[..3]).await;
    too_many.assert_error(StatusCode::CONFLICT, "conflict");
    assert!(
        too_many.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit is 2"),
        "{}",
        too_many.body
    );
    // All or none: nothing was claimed.
    assert_eq!(
        app.get(&format!("/api/v1/pools/{pool}/leads"), &rep.token)
            .await
            .ids()
            .len(),
        4
    );

    assert_eq!(
        claim(&app, pool, &rep, &leads[..2]).await.status,
        StatusCode::OK
    );
    claim(&app, pool, &rep, &leads[2..3])
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");

    release(&app, leads[0], &rep).await;
    let again = claim(&app, pool, &rep, &leads[..1]).await;
    again.assert_error(StatusCode::CONFLICT, "conflict");
    assert!(
        again.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("returned to the pool by you"),
        "{}",
        again.body
    );
    // A third claim today is within both limits.
    assert_eq!(
        claim(&app, pool, &rep, &leads[2..3]).await.status,
        StatusCode::OK
    );
    release(&app, leads[2], &rep).await;
    let daily = claim(&app, pool, &rep, &leads[3..4]).await;
    daily.assert_error(StatusCode::CONFLICT, "conflict");
    assert!(
        daily.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("daily limit is 3"),
        "{}",
        daily.body
    );

    // A week later the cool-down is over and it is a new day.
    app.clock.advance(Duration::days(8));
    let later = claim(&app, pool, &rep, &[leads[0]]).await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.body);
    // Converted or disqualified leads no longer count as held.
    let done = app
        .patch(
            &format!("/api/v1/leads/{}", leads[1]),
            &rep.token,
            json!({"status": "disqualified"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        claim(&app, pool, &rep, &[leads[3]]).await.status,
        StatusCode::OK
    );
}

async fn admins_and_pool_admins_assign_pool_leads(app: TestApp) {
    let team = app.team("广州一组", None).await;
    let manager = app.user("mgr", Role::Manager, Some(team)).await;
    let member = app.user("rep_gz", Role::Rep, Some(team)).await;
    let outsider = app.user("rep_sz", Role::Rep, None).await;
    let pool = create_pool(
        &app,
        json!({"name": "华南公海", "admin_id": manager.id, "member_team_ids": [team]}),
    )
    .await;
    let first = pooled_lead(&app, pool, "陈静", "13600001111").await;
    let second = pooled_lead(&app, pool, "林峰", "13600002222").await;
    let path = format!("/api/v1/pools/{pool}/assign");

    app.post(
        &path,
        &member.token,
        json!({"lead_ids": [first], "owner_id": member.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.post(
        &path,
        &manager.token,
        json!({"lead_ids": [first], "owner_id": outsider.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let missing = app
        .post(&path, &manager.token, json!({"lead_ids": [first]}))
        .await;
    missing.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(missing.body["error"]["field"], "owner_id");

    let given = app
        .post(
            &path,
            &manager.token,
            json!({"lead_ids": [first], "owner_id": member.id}),
        )
        .await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    assert_eq!(lead(&app, first).await["owner_id"], member.id);
    assert_eq!(notified(&app, &member, first).await, ["lead.assigned"]);
    // An admin may give a pool lead to anyone.
    let given = app
        .post(
            &path,
            &app.admin_token,
            json!({"lead_ids": [second], "owner_id": outsider.id}),
        )
        .await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    assert_eq!(lead(&app, second).await["owner_id"], outsider.id);
    // Already given: a second assignment is a conflict, not a silent reassignment.
    app.post(
        &path,
        &app.admin_token,
        json!({"lead_ids": [second], "owner_id": member.id}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    // An owner change by hand takes a lead out of its pool too.
    let third = pooled_lead(&app, pool, "黄磊", "13600003333").await;
    let patched = app
        .patch(
            &format!("/api/v1/leads/{third}"),
            &app.admin_token,
            json!({"owner_id": member.id}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["pool_id"], Value::Null);
    assert!(app
        .get(&format!("/api/v1/pools/{pool}/leads"), &member.token)
        .await
        .ids()
        .is_empty());
}

async fn recycle_rules_warn_once_then_return_neglected_leads(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let other = app.user("rep2", Role::Rep, None).await;
    let pool = create_pool(
        &app,
        json!({"name": "回收池", "member_user_ids": [rep.id, other.id]}),
    )
    .await;
    let rule = app
        .post(
            "/api/v1/pools/recycle-rules",
            &app.admin_token,
            json!({"name": "7天未跟进", "kind": "no_follow_up", "after": 7, "unit": "days",
                   "warn_before": 2, "pool_id": pool}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    let idle = app.lead(&rep.token, json!({"name": "闲置线索"})).await["id"]
        .as_i64()
        .unwrap();
    let worked = app.lead(&rep.token, json!({"name": "跟进线索"})).await["id"]
        .as_i64()
        .unwrap();
    let moved = app.lead(&rep.token, json!({"name": "转手线索"})).await["id"]
        .as_i64()
        .unwrap();

    app.clock.advance(Duration::days(3));
    let activity = app
        .post(
            &format!("/api/v1/leads/{worked}/activities"),
            &rep.token,
            json!({"type": "call", "outcome": "call_back"}),
        )
        .await;
    assert_eq!(activity.status, StatusCode::CREATED, "{}", activity.body);
    assert!(lead(&app, worked).await["last_activity_at"].is_string());
    let patched = app
        .patch(
            &format!("/api/v1/leads/{moved}"),
            &app.admin_token,
            json!({"owner_id": other.id}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);

    app.clock.advance(Duration::days(2) + Duration::hours(1));
    run_jobs(&app).await;
    assert_eq!(notified(&app, &rep, idle).await, ["lead.recycle_warning"]);
    assert!(notified(&app, &rep, worked).await.is_empty());
    assert_eq!(lead(&app, idle).await["owner_id"], rep.id);
    app.clock.advance(Duration::minutes(10));
    run_jobs(&app).await;
    assert_eq!(
        notified(&app, &rep, idle).await,
        ["lead.recycle_warning"],
        "warned once"
    );

    app.clock.advance(Duration::days(2));
    run_jobs(&app).await;
    let recycled = lead(&app, idle).await;
    assert_eq!(recycled["owner_id"], Value::Null);
    assert_eq!(recycled["pool_id"], pool);
    assert_eq!(
        notified(&app, &rep, idle).await,
        ["lead.recycle_warning", "lead.recycled"]
    );
    let history = app
        .get(&format!("/api/v1/leads/{idle}/history"), &app.admin_token)
        .await
        .body;
    let change = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["field"] == "owner_id")
        .unwrap()
        .clone();
    assert_eq!(change["channel"], "job");
    assert_eq!(change["old_value"], rep.id);
    assert_eq!(change["new_value"], Value::Null);
    // A follow-up and an owner change each restarted their lead's timer.
    assert_eq!(lead(&app, worked).await["owner_id"], rep.id);
    assert_eq!(lead(&app, moved).await["owner_id"], other.id);
    assert_eq!(
        app.get(&format!("/api/v1/pools/{pool}/leads"), &other.token)
            .await
            .ids(),
        vec![idle]
    );
    // Running again changes nothing.
    app.clock.advance(Duration::minutes(10));
    run_jobs(&app).await;
    assert_eq!(notified(&app, &rep, idle).await.len(), 2);
}

async fn unfollowed_leads_go_back_but_protected_ones_stay(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let pool = create_pool(
        &app,
        json!({"name": "保护池", "member_user_ids": [rep.id], "protection_days": 3,
               "protection_max_days": 5}),
    )
    .await;
    let rule = app
        .post(
            "/api/v1/pools/recycle-rules",
            &app.admin_token,
            json!({"kind": "no_first_follow_up", "after": 24, "pool_id": pool}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    let start = app.clock_now();
    let at = |d: Duration| (start + d).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();

    let untouched = app.lead(&rep.token, json!({"name": "没人跟"})).await["id"]
        .as_i64()
        .unwrap();
    let called = app.lead(&rep.token, json!({"name": "已跟进"})).await["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/leads/{called}/activities"),
        &rep.token,
        json!({"type": "wechat"}),
    )
    .await;
    let protected = pooled_lead(&app, pool, "受保护", "13500001111").await;
    let claimed = claim(&app, pool, &rep, &[protected]).await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(
        lead(&app, protected).await["protected_until"],
        at(Duration::days(3))
    );

    app.clock.advance(Duration::hours(25));
    run_jobs(&app).await;
    assert_eq!(lead(&app, untouched).await["pool_id"], pool);
    assert_eq!(lead(&app, called).await["owner_id"], rep.id);
    assert_eq!(lead(&app, protected).await["owner_id"], rep.id, "protected");

    // Each follow-up renews the protection from its own time, up to five days after the claim.
    app.post(
        &format!("/api/v1/leads/{protected}/activities"),
        &rep.token,
        json!({"type": "call"}),
    )
    .await;
    assert_eq!(
        lead(&app, protected).await["protected_until"],
        at(Duration::days(4) + Duration::hours(1))
    );
    app.clock.advance(Duration::days(3));
    app.post(
        &format!("/api/v1/leads/{protected}/activities"),
        &rep.token,
        json!({"type": "visit"}),
    )
    .await;
    assert_eq!(
        lead(&app, protected).await["protected_until"],
        at(Duration::days(5))
    );
    run_jobs(&app).await;
    assert_eq!(lead(&app, protected).await["owner_id"], rep.id);
}
