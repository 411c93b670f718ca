//! Merging leads (`POST /api/v1/leads/merge`) with a choice per field, activities, history and
//! opportunities moving to the survivor, the merged leads archived and hidden; undoing a merge
//! (`POST /api/v1/leads/merges/{id}/undo`) with everything put back except what was changed
//! since; and bad merges refused with nothing changed.

use crate::on_both_databases;
use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    a_merge_keeps_the_survivor_takes_chosen_values_and_moves_everything,
    undo_puts_everything_back_but_keeps_later_changes,
    bad_merges_are_refused_and_change_nothing,
    scope_limits_what_may_be_merged_and_undone,
);

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("an id")
}

async fn activity(app: &TestApp, token: &str, lead: i64, content: &str) -> i64 {
    let reply = app
        .post(
            &format!("/api/v1/leads/{lead}/activities"),
            token,
            json!({"type": "call", "outcome": "call_back", "content": content}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    id(&reply.body)
}

async fn activities(app: &TestApp, token: &str, lead: i64) -> Vec<i64> {
    let mut ids = app
        .get(&format!("/api/v1/leads/{lead}/activities"), token)
        .await
        .ids();
    ids.sort_unstable();
    ids
}

async fn history(app: &TestApp, lead: i64) -> Vec<Value> {
    app.get(&format!("/api/v1/leads/{lead}/history"), &app.admin_token)
        .await
        .body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn merge(app: &TestApp, token: &str, body: Value) -> Value {
    let reply = app.post("/api/v1/leads/merge", token, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// Two leads of one person: the survivor has the better name, the other the email, title,
/// tags and custom value the survivor lacks.
async fn two_leads(app: &TestApp, token: &str) -> (Value, Value) {
    let survivor = app
        .lead(
            token,
            json!({"name": "张伟", "phone": "13800138000", "title": "经理", "tags": ["重点"]}),
        )
        .await;
    let other = app
        .lead(
            token,
            json!({"name": "张 伟", "phone": "138-0013-8000", "email": "zw@hengyuan.cn",
                   "title": "采购总监", "company": "恒远科技", "tags": ["展会"], "grade": "B"}),
        )
        .await;
    (survivor, other)
}

async fn a_merge_keeps_the_survivor_takes_chosen_values_and_moves_everything(app: TestApp) {
    let t = &app.admin_token;
    let (survivor, other) = two_leads(&app, t).await;
    let third = app
        .lead(
            t,
            json!({"name": "Zhang Wei", "email": "zw@qq.com", "city": "上海"}),
        )
        .await;
    let kept_activity = activity(&app, t, id(&survivor), "第一次电话").await;
    let moved_activity = activity(&app, t, id(&other), "展会上聊过").await;
    let opportunity = app
        .post(
            "/api/v1/opportunities",
            t,
            json!({"name": "恒远 CRM 项目", "lead_id": id(&other)}),
        )
        .await;
    assert_eq!(
        opportunity.status,
        StatusCode::CREATED,
        "{}",
        opportunity.body
    );
    let event = app
        .post(
            &format!("/api/v1/leads/{}/events", id(&other)),
            t,
            json!({"type": "download", "name": "产品白皮书"}),
        )
        .await;
    assert!(event.status.is_success(), "{}", event.body);

    let merged = merge(
        &app,
        t,
        json!({"survivor_id": id(&survivor), "merged_ids": [id(&other), id(&third)],
               "fields": {"title": id(&other)}}),
    )
    .await;
    let lead = &merged["survivor"];
    assert_eq!(lead["id"], id(&survivor));
    assert_eq!(lead["name"], "张伟", "the survivor's own value");
    assert_eq!(lead["title"], "采购总监", "the chosen value");
    assert_eq!(
        lead["email"], "zw@hengyuan.cn",
        "an empty field filled from the first merged lead that has it"
    );
    assert_eq!(lead["company"], "恒远科技");
    assert_eq!(lead["company_key"], "恒远科技", "keys follow their field");
    assert_eq!(lead["city"], "上海", "filled from the second merged lead");
    assert_eq!(lead["grade"], "B");
    assert_eq!(
        lead["tags"],
        json!(["重点", "展会"]),
        "tags united, the flag gone"
    );
    assert_eq!(lead["duplicate_of"], json!(null));
    assert_eq!(merged["merged_ids"], json!([id(&other), id(&third)]));
    assert_eq!(merged["moved"]["activities"], 1);
    assert_eq!(merged["moved"]["opportunities"], 1);
    assert_eq!(
        merged["moved"]["lead_events"], 1,
        "behaviour events move too"
    );

    assert_eq!(
        activities(&app, t, id(&survivor)).await,
        vec![kept_activity, moved_activity]
    );
    let opportunity = app
        .get(
            &format!("/api/v1/opportunities/{}", id(&opportunity.body)),
            t,
        )
        .await;
    assert_eq!(opportunity.body["lead_id"], id(&survivor));

    for loser in [&other, &third] {
        app.get(&format!("/api/v1/leads/{}", id(loser)), t)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(app.get("/api/v1/leads", t).await.ids(), vec![id(&survivor)]);
    let archived = app.get("/api/v1/leads?deleted=true&sort=id", t).await;
    assert_eq!(archived.ids(), vec![id(&other), id(&third)]);
    assert_eq!(archived.body["items"][0]["merged_into"], id(&survivor));

    let survivor_history = history(&app, id(&survivor)).await;
    let merge_entry = survivor_history
        .iter()
        .find(|e| e["action"] == "merge")
        .expect("a merge entry");
    assert_eq!(merge_entry["new_value"]["merge_id"], merged["merge_id"]);
    assert_eq!(merge_entry["channel"], "api");
    assert!(
        survivor_history
            .iter()
            .any(|e| e["action"] == "create" && e["new_value"]["name"] == "张 伟"),
        "the merged lead's history moved to the survivor"
    );
    assert!(survivor_history
        .iter()
        .any(|e| e["field"] == "title" && e["new_value"] == "采购总监"));
    let loser_history = history(&app, id(&other)).await;
    assert_eq!(loser_history.len(), 1, "{loser_history:?}");
    assert_eq!(loser_history[0]["action"], "merged");
    assert_eq!(loser_history[0]["new_value"]["into"], id(&survivor));

    let duplicates = app
        .get(&format!("/api/v1/leads/{}/duplicates", id(&survivor)), t)
        .await;
    assert!(
        duplicates.ids().is_empty(),
        "merged leads are no duplicates: {}",
        duplicates.body
    );
}

async fn undo_puts_everything_back_but_keeps_later_changes(app: TestApp) {
    let t = &app.admin_token;
    let (survivor, other) = two_leads(&app, t).await;
    let moved_activity = activity(&app, t, id(&other), "展会上聊过").await;
    let merged = merge(
        &app,
        t,
        json!({"survivor_id": id(&survivor), "merged_ids": [id(&other)],
               "fields": {"title": id(&other), "owner_id": id(&other)}}),
    )
    .await;
    let merge_id = merged["merge_id"].as_i64().unwrap();
    let changed = app
        .patch(
            &format!("/api/v1/leads/{}", id(&survivor)),
            t,
            json!({"email": "new@hengyuan.cn"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);

    let undone = app
        .post(
            &format!("/api/v1/leads/merges/{merge_id}/undo"),
            t,
            json!({}),
        )
        .await;
    assert_eq!(undone.status, StatusCode::OK, "{}", undone.body);
    let lead = &undone.body["survivor"];
    assert_eq!(
        lead["title"], "经理",
        "the survivor's value before the merge"
    );
    assert_eq!(lead["company"], json!(null));
    assert_eq!(lead["company_key"], json!(null));
    assert_eq!(lead["tags"], json!(["重点"]));
    assert_eq!(
        lead["email"], "new@hengyuan.cn",
        "a field changed since the merge keeps its newer value"
    );
    assert_eq!(undone.body["kept"], json!(["email"]));
    assert_eq!(undone.body["restored"][0]["id"], id(&other));

    let back = app.get(&format!("/api/v1/leads/{}", id(&other)), t).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(back.body["title"], "采购总监");
    assert_eq!(back.body["merged_into"], json!(null));
    assert_eq!(activities(&app, t, id(&other)).await, vec![moved_activity]);
    assert!(activities(&app, t, id(&survivor)).await.is_empty());
    let other_history = history(&app, id(&other)).await;
    assert_eq!(
        other_history[0]["action"], "create",
        "its history came back"
    );
    assert!(other_history.iter().any(|e| e["action"] == "unmerge"));
    assert_eq!(
        app.get("/api/v1/leads?sort=id", t).await.ids(),
        vec![id(&survivor), id(&other)]
    );

    app.post(
        &format!("/api/v1/leads/merges/{merge_id}/undo"),
        t,
        json!({}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    app.post("/api/v1/leads/merges/999999/undo", t, json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    // A merged lead restored by hand cannot be merged back by an undo.
    let again = merge(
        &app,
        t,
        json!({"survivor_id": id(&survivor), "merged_ids": [id(&other)]}),
    )
    .await;
    let restored = app
        .post(
            &format!("/api/v1/leads/{}/restore", id(&other)),
            t,
            json!({}),
        )
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    app.post(
        &format!("/api/v1/leads/merges/{}/undo", again["merge_id"]),
        t,
        json!({}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
}

async fn bad_merges_are_refused_and_change_nothing(app: TestApp) {
    let t = &app.admin_token;
    let (survivor, other) = two_leads(&app, t).await;
    let (s, o) = (id(&survivor), id(&other));
    let cases = [
        (json!({"survivor_id": s, "merged_ids": [s]}), "merged_ids"),
        (json!({"survivor_id": s, "merged_ids": []}), "merged_ids"),
        (json!({"survivor_id": s}), "merged_ids"),
        (json!({"merged_ids": [o]}), "survivor_id"),
        (
            json!({"survivor_id": s, "merged_ids": [o], "fields": {"email": 999}}),
            "fields.email",
        ),
        (
            json!({"survivor_id": s, "merged_ids": [o], "fields": {"tags": o}}),
            "fields.tags",
        ),
    ];
    for (body, field) in cases {
        let reply = app.post("/api/v1/leads/merge", t, body.clone()).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{body}");
    }
    app.post(
        "/api/v1/leads/merge",
        t,
        json!({"survivor_id": s, "merged_ids": [o, 999999]}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.db
        .execute(
            "UPDATE leads SET status = 'converted' WHERE id = ?",
            &[xiansuo_store::Param::Int(o)],
        )
        .await
        .unwrap();
    app.post(
        "/api/v1/leads/merge",
        t,
        json!({"survivor_id": s, "merged_ids": [o]}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");

    let after = app.get(&format!("/api/v1/leads/{s}"), t).await.body;
    assert_eq!(after, survivor, "the survivor is as it was");
    assert_eq!(
        app.get(&format!("/api/v1/leads/{o}"), t).await.status,
        StatusCode::OK
    );
    assert_eq!(history(&app, s).await.len(), 1, "no history was written");
}

async fn scope_limits_what_may_be_merged_and_undone(app: TestApp) {
    let team = app.team("深圳组", None).await;
    let rep = app.user("rep", Role::Rep, Some(team)).await;
    let colleague = app.user("colleague", Role::Rep, Some(team)).await;
    let manager = app.user("manager", Role::Manager, Some(team)).await;
    let (mine, other_mine) = two_leads(&app, &rep.token).await;
    let theirs = app
        .lead(
            &colleague.token,
            json!({"name": "张伟", "phone": "13800138000"}),
        )
        .await;
    app.post(
        "/api/v1/leads/merge",
        &rep.token,
        json!({"survivor_id": id(&mine), "merged_ids": [id(&theirs)]}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");

    let merged = merge(
        &app,
        &manager.token,
        json!({"survivor_id": id(&theirs), "merged_ids": [id(&mine), id(&other_mine)]}),
    )
    .await;
    let notes = app.get("/api/v1/notifications", &rep.token).await.body;
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "lead.merged" && n["record_id"] == id(&theirs)),
        "the owner of a merged lead is told: {notes}"
    );
    app.call(
        Method::POST,
        &format!("/api/v1/leads/merges/{}/undo", merged["merge_id"]),
        &rep.token,
        Some(json!({})),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    let undone = app
        .post(
            &format!("/api/v1/leads/merges/{}/undo", merged["merge_id"]),
            &colleague.token,
            json!({}),
        )
        .await;
    assert_eq!(undone.status, StatusCode::OK, "{}", undone.body);
    assert_eq!(
        app.get("/api/v1/leads?sort=id", &rep.token).await.ids(),
        vec![id(&mine), id(&other_mine)]
    );
}
