//! The audit log of settings, the login history, and the account guard rails around them:
//! sessions that end with a new password or a disabled account, other users' contact details,
//! the last admin, and custom field ids that are never used twice.

use crate::auth::{login, session_of, with_cookie};
use crate::on_both_databases;
use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    settings_changes_are_logged_with_who_and_before_and_after,
    sign_ins_are_logged_with_address_agent_and_result,
    new_passwords_and_disabled_accounts_end_sessions,
    reps_and_managers_see_colleagues_without_contact_details,
    the_last_admin_keeps_their_role_their_account_and_their_last_admin_token,
    a_deleted_custom_fields_id_is_never_given_to_a_new_one,
);

async fn entries(app: &TestApp, query: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/api/v1/audit{query}"), &app.admin_token)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.body["items"].as_array().unwrap().clone()
}

async fn settings_changes_are_logged_with_who_and_before_and_after(app: TestApp) {
    let team = app
        .post("/api/v1/teams", &app.admin_token, json!({"name": "华东"}))
        .await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.body);
    let id = team.body["id"].as_i64().unwrap();
    let renamed = app
        .patch(
            &format!("/api/v1/teams/{id}"),
            &app.admin_token,
            json!({"name": "华东区"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    // A refused change leaves no trace.
    app.post("/api/v1/teams", &app.admin_token, json!({"name": "华东区"}))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");

    let teams = entries(&app, "?kind=team").await;
    assert_eq!(teams.len(), 2, "{teams:?}");
    let (change, creation) = (&teams[0], &teams[1]);
    assert_eq!(change["action"], "update");
    assert_eq!(change["actor"]["name"], "admin");
    assert_eq!(change["subject"], json!({"id": id, "name": "华东区"}));
    assert_eq!(change["before"]["name"], "华东");
    assert_eq!(change["after"]["name"], "华东区");
    assert_eq!(creation["action"], "create");
    assert_eq!(creation["before"], Value::Null);
    assert_eq!(creation["after"]["name"], "华东");

    // Rules, settings, users and tokens too; secrets only as fingerprints.
    let rep = app.user("xiaowang", Role::Rep, Some(id)).await;
    let rule = app
        .post(
            "/api/v1/scoring/rules",
            &app.admin_token,
            json!({"name": "来自官网", "kind": "fit", "points": 10,
                   "conditions": [{"field": "source", "operator": "eq", "value": "web_form"}]}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    let reset = app
        .patch(
            &format!("/api/v1/users/{}", rep.id),
            &app.admin_token,
            json!({"password": "a new password", "mask_phones": true}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let users = entries(&app, "?kind=user").await;
    assert_eq!(users[0]["action"], "reset_password");
    assert_eq!(users[0]["subject"]["name"], "xiaowang");
    assert_eq!(users[0]["before"]["mask_phones"], 0);
    assert_eq!(users[0]["after"]["mask_phones"], 1);
    let (before, after) = (
        users[0]["before"]["password_hash"].as_str().unwrap(),
        users[0]["after"]["password_hash"].as_str().unwrap(),
    );
    assert!(
        before.starts_with("••••") && before.chars().count() == 10,
        "{before}"
    );
    assert_ne!(before, after, "a new password shows as a new fingerprint");
    assert_eq!(
        entries(&app, "?kind=scoring_rule").await[0]["after"]["name"],
        "来自官网"
    );

    // Filters and paging.
    let admin_id = app.get("/api/v1/me", &app.admin_token).await.body["id"]
        .as_i64()
        .unwrap();
    let mine = entries(&app, &format!("?actor={admin_id}")).await;
    assert_eq!(mine.len(), 4, "{mine:?}");
    let first = app.get("/api/v1/audit?limit=1", &app.admin_token).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = entries(&app, &format!("?limit=1&cursor={cursor}")).await;
    assert!(second[0]["id"].as_i64() < first.body["items"][0]["id"].as_i64());
    assert!(entries(&app, "?from=2000-01-01&to=2000-01-02")
        .await
        .is_empty());
    app.get("/api/v1/audit?kind=nothing", &app.admin_token)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    for token in [&rep.token] {
        app.get("/api/v1/audit", token)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        app.get("/api/v1/audit/logins", token)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
}

async fn sign_ins_are_logged_with_address_agent_and_result(app: TestApp) {
    app.user("lina", Role::Rep, None).await;
    assert_eq!(
        login(&app, "lina", "wrong password").await.status,
        StatusCode::UNAUTHORIZED
    );
    let ok = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("user-agent", "审计测试/1.0")
        .json(&json!({"username": "lina", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let logins = app.get("/api/v1/audit/logins", &app.admin_token).await;
    let items = logins.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", logins.body);
    assert_eq!(items[0]["result"], "succeeded");
    assert_eq!(items[0]["user_agent"], "审计测试/1.0");
    assert_eq!(items[0]["address"], "127.0.0.1");
    assert_eq!(items[1]["result"], "failed");
    assert_eq!(items[1]["username"], "lina");
    assert!(items[1]["user_id"].is_i64());
    let failed = app
        .get("/api/v1/audit/logins?result=failed", &app.admin_token)
        .await;
    assert_eq!(failed.body["items"].as_array().unwrap().len(), 1);
}

async fn new_passwords_and_disabled_accounts_end_sessions(app: TestApp) {
    let user = app.user("zhou", Role::Rep, None).await;
    let first = session_of(&login(&app, "zhou", "password123").await);
    let second = login(&app, "zhou", "password123").await;
    let csrf = second.body["csrf_token"].as_str().unwrap().to_owned();
    let second = session_of(&second);
    // Changing one's own password keeps the session it is done in and ends the others.
    let changed = with_cookie(
        &app,
        Method::POST,
        "/api/v1/me/password",
        &second,
        Some(&csrf),
        Some(json!({"current_password": "password123", "new_password": "another one"})),
    )
    .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    let me = |cookie: String| {
        let app = &app;
        async move {
            with_cookie(app, Method::GET, "/api/v1/me", &cookie, None, None)
                .await
                .status
        }
    };
    assert_eq!(me(first.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(second.clone()).await, StatusCode::OK);
    // An admin's reset ends them all.
    let reset = app
        .patch(
            &format!("/api/v1/users/{}", user.id),
            &app.admin_token,
            json!({"password": "set by admin"}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(me(second).await, StatusCode::UNAUTHORIZED);
    // Disabling the account ends its sessions and its tokens stop working.
    let third = session_of(&login(&app, "zhou", "set by admin").await);
    assert_eq!(
        app.get("/api/v1/me", &user.token).await.status,
        StatusCode::OK
    );
    let disabled = app
        .patch(
            &format!("/api/v1/users/{}", user.id),
            &app.admin_token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK);
    assert_eq!(me(third).await, StatusCode::UNAUTHORIZED);
    app.get("/api/v1/me", &user.token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let sessions = app
        .db
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?",
            &[xiansuo_store::Param::Int(user.id)],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sessions.int("n"), 0);
}

async fn reps_and_managers_see_colleagues_without_contact_details(app: TestApp) {
    let team = app.team("华南", None).await;
    let rep = app.user("chen", Role::Rep, Some(team)).await;
    let manager = app.user("boss", Role::Manager, Some(team)).await;
    let other = app
        .post(
            "/api/v1/users",
            &app.admin_token,
            json!({"username": "liu", "password": "password123", "role": "rep",
                   "email": "liu@example.cn", "display_name": "刘"}),
        )
        .await;
    let other_id = other.body["id"].as_i64().unwrap();
    for token in [&rep.token, &manager.token] {
        let list = app.get("/api/v1/users", token).await;
        let liu = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "liu")
            .unwrap()
            .clone();
        assert_eq!(liu["display_name"], "刘");
        assert!(liu.get("email").is_none(), "{liu}");
        assert!(liu.get("locale").is_none(), "{liu}");
        let one = app.get(&format!("/api/v1/users/{other_id}"), token).await;
        assert!(one.body.get("email").is_none(), "{}", one.body);
    }
    let own = app
        .get(&format!("/api/v1/users/{}", rep.id), &rep.token)
        .await;
    assert!(own.body.get("email").is_some(), "{}", own.body);
    let seen = app
        .get(&format!("/api/v1/users/{other_id}"), &app.admin_token)
        .await;
    assert_eq!(seen.body["email"], "liu@example.cn");
}

async fn the_last_admin_keeps_their_role_their_account_and_their_last_admin_token(app: TestApp) {
    let me = app.get("/api/v1/me", &app.admin_token).await.body["id"]
        .as_i64()
        .unwrap();
    for change in [json!({"role": "rep"}), json!({"active": false})] {
        app.patch(&format!("/api/v1/users/{me}"), &app.admin_token, change)
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
    }
    let tokens = app.get("/api/v1/tokens", &app.admin_token).await;
    let only = tokens.body["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/tokens/{only}");
    app.call(Method::DELETE, &path, &app.admin_token, None)
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    // A read_write token may go, and with a second admin token, so may the first.
    let spare = app
        .post(
            "/api/v1/tokens",
            &app.admin_token,
            json!({"scope": "admin"}),
        )
        .await;
    assert_eq!(spare.status, StatusCode::CREATED, "{}", spare.body);
    let spare_token = spare.body["token"].as_str().unwrap().to_owned();
    let deleted = app.call(Method::DELETE, &path, &spare_token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let spare_path = format!("/api/v1/tokens/{}", spare.body["id"]);
    app.call(Method::DELETE, &spare_path, &spare_token, None)
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    // Once there is another admin, the guard steps aside.
    let other = app.user("second_admin", Role::Admin, None).await;
    assert_eq!(
        app.call(Method::DELETE, &spare_path, &other.token, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let demoted = app
        .patch(
            &format!("/api/v1/users/{me}"),
            &other.token,
            json!({"role": "manager"}),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.body);
}

async fn a_deleted_custom_fields_id_is_never_given_to_a_new_one(app: TestApp) {
    let field =
        |key: &str| json!({"object": "lead", "key": key, "label": key, "field_type": "text"});
    let first = app
        .post("/api/v1/custom-fields", &app.admin_token, field("budget"))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let id = first.body["id"].as_i64().unwrap();
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/v1/custom-fields/{id}"),
            &app.admin_token,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let second = app
        .post(
            "/api/v1/custom-fields",
            &app.admin_token,
            field("industry_code"),
        )
        .await;
    assert!(second.body["id"].as_i64().unwrap() > id, "{}", second.body);
    let log = entries(&app, "?kind=custom_field").await;
    let actions: Vec<&str> = log.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["create", "delete", "create"]);
    assert_eq!(log[1]["before"]["key"], "budget");
    assert_eq!(log[1]["after"], Value::Null);
}
