//! Data scope on every read and write: a rep sees their own records, a manager their team's
//! subtree of the org tree, an admin everything. Outside your scope a record does not exist
//! (404), never appears in lists, and cannot be written.

use crate::on_both_databases;
use crate::support::{TestApp, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::json;
use xiansuo_core::role::Role;

on_both_databases!(
    reps_see_and_change_only_their_own_records,
    managers_see_their_subtree_and_nothing_else,
    records_can_only_be_given_to_users_in_scope,
    the_org_tree_refuses_cycles_and_unknown_parents,
    settings_bodies_are_read_after_the_caller_and_name_the_field_they_cannot_take,
);

struct Org {
    region_manager: TestUser,
    east_manager: TestUser,
    east_rep: TestUser,
    west_rep: TestUser,
    east: i64,
}

/// 总部 → 华东大区 → {上海一组, 成都一组}
async fn org(app: &TestApp) -> Org {
    let hq = app.team("总部", None).await;
    let region = app.team("华东大区", Some(hq)).await;
    let east = app.team("上海一组", Some(region)).await;
    let west = app.team("成都一组", Some(hq)).await;
    Org {
        region_manager: app.user("mgr_region", Role::Manager, Some(region)).await,
        east_manager: app.user("mgr_sh", Role::Manager, Some(east)).await,
        east_rep: app.user("rep_sh", Role::Rep, Some(east)).await,
        west_rep: app.user("rep_cd", Role::Rep, Some(west)).await,
        east,
    }
}

async fn reps_see_and_change_only_their_own_records(app: TestApp) {
    let o = org(&app).await;
    let mine = app
        .lead(&o.east_rep.token, json!({"name": "我的线索"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let theirs = app
        .lead(&o.west_rep.token, json!({"name": "别人的线索"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let t = &o.east_rep.token;

    assert_eq!(app.get("/api/v1/leads", t).await.ids(), vec![mine]);
    assert_eq!(app.get("/api/v1/leads?q=线索", t).await.ids(), vec![mine]);
    assert_eq!(
        app.get(&format!("/api/v1/leads?owner_id={}", o.west_rep.id), t)
            .await
            .ids(),
        Vec::<i64>::new()
    );
    for path in [
        format!("/api/v1/leads/{theirs}"),
        format!("/api/v1/leads/{theirs}/history"),
        format!("/api/v1/leads/{theirs}/activities"),
    ] {
        app.get(&path, t)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    app.patch(
        &format!("/api/v1/leads/{theirs}"),
        t,
        json!({"name": "改了"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.call(Method::DELETE, &format!("/api/v1/leads/{theirs}"), t, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.post(
        &format!("/api/v1/leads/{theirs}/activities"),
        t,
        json!({"type": "call"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&format!("/api/v1/leads/{theirs}/restore"), t, json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get(&format!("/api/v1/leads/{theirs}"), &app.admin_token)
            .await
            .body["name"],
        "别人的线索",
        "untouched"
    );

    let activity = app
        .post(
            &format!("/api/v1/leads/{theirs}/activities"),
            &o.west_rep.token,
            json!({"type": "note", "content": "私密"}),
        )
        .await;
    let activity_id = activity.body["id"].as_i64().unwrap();
    app.get(&format!("/api/v1/activities/{activity_id}"), t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.patch(
        &format!("/api/v1/activities/{activity_id}"),
        t,
        json!({"content": "x"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");

    let account = app
        .post(
            "/api/v1/accounts",
            &o.west_rep.token,
            json!({"name": "成都客户"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    app.post(
        "/api/v1/contacts",
        t,
        json!({"name": "x", "account_id": account}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(app.get("/api/v1/accounts", t).await.ids().is_empty());
}

async fn managers_see_their_subtree_and_nothing_else(app: TestApp) {
    let o = org(&app).await;
    let east_lead = app
        .lead(&o.east_rep.token, json!({"name": "上海线索"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let west_lead = app
        .lead(&o.west_rep.token, json!({"name": "成都线索"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let own = app
        .lead(&o.east_manager.token, json!({"name": "经理自己的"}))
        .await["id"]
        .as_i64()
        .unwrap();

    let mut seen = app
        .get("/api/v1/leads?sort=id", &o.east_manager.token)
        .await
        .ids();
    seen.sort();
    assert_eq!(seen, vec![east_lead, own]);
    app.get(&format!("/api/v1/leads/{west_lead}"), &o.east_manager.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let changed = app
        .patch(
            &format!("/api/v1/leads/{east_lead}"),
            &o.east_manager.token,
            json!({"grade": "A"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);

    let region = app
        .get("/api/v1/leads?sort=id", &o.region_manager.token)
        .await
        .ids();
    assert_eq!(
        region,
        vec![east_lead, own],
        "the region manager sees the teams below the region"
    );
    assert_eq!(
        app.get("/api/v1/leads?sort=id", &app.admin_token)
            .await
            .ids(),
        vec![east_lead, west_lead, own]
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/leads?team_id={}&sort=id", o.east),
            &app.admin_token
        )
        .await
        .ids(),
        vec![east_lead, own]
    );
}

async fn records_can_only_be_given_to_users_in_scope(app: TestApp) {
    let o = org(&app).await;
    let lead = app
        .lead(&o.east_rep.token, json!({"name": "转交测试"}))
        .await["id"]
        .as_i64()
        .unwrap();
    app.patch(
        &format!("/api/v1/leads/{lead}"),
        &o.east_rep.token,
        json!({"owner_id": o.west_rep.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.post(
        "/api/v1/leads",
        &o.east_rep.token,
        json!({"name": "x", "owner_id": o.east_manager.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.patch(
        &format!("/api/v1/leads/{lead}"),
        &o.east_manager.token,
        json!({"owner_id": o.west_rep.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let handed = app
        .patch(
            &format!("/api/v1/leads/{lead}"),
            &o.east_manager.token,
            json!({"owner_id": o.east_manager.id}),
        )
        .await;
    assert_eq!(handed.body["owner_id"], o.east_manager.id);
    let given = app
        .patch(
            &format!("/api/v1/leads/{lead}"),
            &app.admin_token,
            json!({"owner_id": o.west_rep.id}),
        )
        .await;
    assert_eq!(given.body["owner_id"], o.west_rep.id);
    assert!(
        app.get("/api/v1/leads", &o.east_rep.token)
            .await
            .ids()
            .is_empty(),
        "gone from the old owner's scope"
    );

    app.post(
        "/api/v1/users",
        &o.east_manager.token,
        json!({"username": "new_rep", "password": "password123", "role": "rep"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.post(
        "/api/v1/teams",
        &o.east_rep.token,
        json!({"name": "私设小组"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.patch(
        &format!("/api/v1/users/{}", o.east_rep.id),
        &o.east_rep.token,
        json!({"role": "admin"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let own_locale = app
        .patch(
            &format!("/api/v1/users/{}", o.east_rep.id),
            &o.east_rep.token,
            json!({"locale": "en"}),
        )
        .await;
    assert_eq!(own_locale.body["locale"], "en");
}

async fn the_org_tree_refuses_cycles_and_unknown_parents(app: TestApp) {
    let hq = app.team("总部", None).await;
    let region = app.team("华南大区", Some(hq)).await;
    let branch = app.team("深圳分公司", Some(region)).await;
    let t = &app.admin_token;
    app.patch(
        &format!("/api/v1/teams/{region}"),
        t,
        json!({"parent_id": branch}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.patch(&format!("/api/v1/teams/{hq}"), t, json!({"parent_id": hq}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.post(
        "/api/v1/teams",
        t,
        json!({"name": "孤儿", "parent_id": 9999}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.post("/api/v1/teams", t, json!({"name": "总部"}))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    let teams = app.get("/api/v1/teams", t).await;
    assert_eq!(teams.body["items"][2]["kind"], "team");
    assert_eq!(teams.body["items"][2]["parent_id"], region);
    let users = app.post("/api/v1/users", t, json!({"username": "rep_sz", "password": "password123", "role": "rep", "team_id": branch})).await;
    assert_eq!(users.status, StatusCode::CREATED, "{}", users.body);
    assert_eq!(users.body["team_id"], branch);
    assert!(users.body.get("password_hash").is_none());
    let listed = app.get("/api/v1/users?role=rep", t).await;
    assert_eq!(listed.body["items"][0]["username"], "rep_sz");
}

async fn settings_bodies_are_read_after_the_caller_and_name_the_field_they_cannot_take(
    app: TestApp,
) {
    let rep = app.user("rep", Role::Rep, None).await;
    let t = &app.admin_token;
    // A caller who may not change a setting is refused as such, whatever the body says.
    for path in ["/api/v1/teams", "/api/v1/users", "/api/v1/custom-fields"] {
        app.post(path, &rep.token, json!({"colour": 1}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    let team = app.team("华北", None).await;
    app.patch(&format!("/api/v1/teams/{team}"), &rep.token, json!(["x"]))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.patch(
        &format!("/api/v1/users/{}", rep.id),
        &rep.token,
        json!({"role": "admin"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let field = app
        .post(
            "/api/v1/custom-fields",
            t,
            json!({"object": "lead", "key": "budget", "label": "预算", "field_type": "number"}),
        )
        .await;
    assert_eq!(field.status, StatusCode::CREATED, "{}", field.body);
    let field = field.body["id"].as_i64().unwrap();
    let user = json!({"username": "rep_bj", "password": "password123", "role": "rep"});
    let cases = [
        (
            "POST",
            "/api/v1/teams".to_owned(),
            json!({"name": "华中", "colour": "red"}),
            "colour",
        ),
        (
            "POST",
            "/api/v1/teams".to_owned(),
            json!({"parent_id": team}),
            "name",
        ),
        (
            "PATCH",
            format!("/api/v1/teams/{team}"),
            json!({"name": null}),
            "name",
        ),
        (
            "PATCH",
            format!("/api/v1/teams/{team}"),
            json!({"kind": "club"}),
            "kind",
        ),
        (
            "POST",
            "/api/v1/tokens".to_owned(),
            json!({"name": "ci", "ttl": 3}),
            "ttl",
        ),
        (
            "POST",
            "/api/v1/tokens".to_owned(),
            json!({"scope": "root"}),
            "scope",
        ),
        (
            "POST",
            "/api/v1/users".to_owned(),
            json!({"username": "x1", "role": "rep"}),
            "password",
        ),
        (
            "POST",
            "/api/v1/users".to_owned(),
            {
                let mut u = user.clone();
                u["nickname"] = json!("小王");
                u
            },
            "nickname",
        ),
        (
            "PATCH",
            format!("/api/v1/users/{}", rep.id),
            json!({"active": "yes"}),
            "active",
        ),
        (
            "PATCH",
            format!("/api/v1/users/{}", rep.id),
            json!({"locale": "fr"}),
            "locale",
        ),
        (
            "PATCH",
            format!("/api/v1/custom-fields/{field}"),
            json!({"key": "cost"}),
            "key",
        ),
        (
            "PATCH",
            format!("/api/v1/custom-fields/{field}"),
            json!({"position": -1}),
            "position",
        ),
        (
            "POST",
            "/api/v1/custom-fields".to_owned(),
            json!({"object": "lead", "key": "b", "label": "B", "field_type": "text", "hint": ""}),
            "hint",
        ),
        (
            "POST",
            "/api/v1/me/password".to_owned(),
            json!({"current_password": "password123"}),
            "new_password",
        ),
    ];
    for (method, path, body, field) in cases {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = app.call(method, &path, t, Some(body)).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(
            reply.body["error"]["field"], field,
            "{path}: {}",
            reply.body
        );
    }
    let created = app.post("/api/v1/users", t, user).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["locale"], "zh");
}
