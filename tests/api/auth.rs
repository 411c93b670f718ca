//! Sign-in, sessions, CSRF, tokens and how secrets are stored.

use crate::on_both_databases;
use crate::support::{Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use xiansuo_core::role::Role;

on_both_databases!(
    a_session_cookie_reads_freely_but_writes_only_with_the_csrf_token,
    failed_logins_are_limited_with_429,
    revoked_tokens_stop_working,
    passwords_tokens_and_sessions_are_stored_hashed,
);

pub(crate) async fn login(app: &TestApp, username: &str, password: &str) -> Reply {
    let response = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    Reply::from(response).await
}

pub(crate) fn session_of(reply: &Reply) -> String {
    let cookie = reply
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    cookie.split(';').next().unwrap().to_owned()
}

pub(crate) async fn with_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<serde_json::Value>,
) -> Reply {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("cookie", cookie);
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    Reply::from(request.send().await.unwrap()).await
}

async fn a_session_cookie_reads_freely_but_writes_only_with_the_csrf_token(app: TestApp) {
    app.user("wangfang", Role::Rep, None).await;
    let reply = login(&app, "wangfang", "password123").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["user"]["username"], "wangfang");
    let csrf = reply.body["csrf_token"].as_str().unwrap().to_owned();
    let cookie = session_of(&reply);

    assert_eq!(
        with_cookie(&app, Method::GET, "/api/v1/me", &cookie, None, None)
            .await
            .body["username"],
        "wangfang"
    );
    let lead = json!({"name": "会话线索"});
    with_cookie(
        &app,
        Method::POST,
        "/api/v1/leads",
        &cookie,
        None,
        Some(lead.clone()),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    with_cookie(
        &app,
        Method::POST,
        "/api/v1/leads",
        &cookie,
        Some("forged"),
        Some(lead.clone()),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let created = with_cookie(
        &app,
        Method::POST,
        "/api/v1/leads",
        &cookie,
        Some(&csrf),
        Some(lead),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["source"], "manual",
        "the web UI's default source"
    );
    let history = with_cookie(
        &app,
        Method::GET,
        &format!("/api/v1/leads/{}/history", created.body["id"]),
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(history.body["items"][0]["channel"], "ui");

    let out = with_cookie(
        &app,
        Method::POST,
        "/api/v1/auth/logout",
        &cookie,
        Some(&csrf),
        None,
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    with_cookie(&app, Method::GET, "/api/v1/me", &cookie, None, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

async fn failed_logins_are_limited_with_429(app: TestApp) {
    app.user("lina", Role::Rep, None).await;
    login(&app, "nobody", "password123")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    for _ in 0..5 {
        login(&app, "lina", "wrong-password")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let limited = login(&app, "lina", "password123").await;
    limited.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(limited.headers.get("retry-after").is_some());
    let other = login(&app, "admin", "password123").await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "another user is not locked out: {}",
        other.body
    );
    // The wrong passwords came from 127.0.0.1: from another address the right one signs in.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let from_elsewhere = Reply::from(
        elsewhere
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&json!({"username": "lina", "password": "password123"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        from_elsewhere.status,
        StatusCode::OK,
        "{}",
        from_elsewhere.body
    );
    // An admin lifts the throttle; a rep may not.
    let lina = app.get("/api/v1/users", &app.admin_token).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "lina")
        .map(|u| u["id"].as_i64().unwrap())
        .unwrap();
    let rep = app.user("rep", Role::Rep, None).await;
    app.post(
        &format!("/api/v1/users/{lina}/unlock"),
        &rep.token,
        json!({}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let unlocked = app
        .post(
            &format!("/api/v1/users/{lina}/unlock"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(unlocked.status, StatusCode::OK, "{}", unlocked.body);
    assert_eq!(unlocked.body["unlocked"], true);
    assert_eq!(
        login(&app, "lina", "password123").await.status,
        StatusCode::OK
    );
    let missing = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": "lina"}))
        .send()
        .await
        .unwrap();
    Reply::from(missing)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

async fn revoked_tokens_stop_working(app: TestApp) {
    let user = app.user("zhaolei", Role::Rep, None).await;
    let created = app
        .post("/api/v1/tokens", &user.token, json!({"name": "集成"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let token = created.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
    let listed = app.get("/api/v1/tokens", &user.token).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    assert!(
        listed.body["items"][1].get("token").is_none(),
        "a token is shown only once"
    );
    let other = app.user("qianli", Role::Rep, None).await;
    let id = created.body["id"].as_i64().unwrap();
    app.call(
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        &other.token,
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &user.token,
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    app.get("/api/v1/me", &token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        app.get("/api/v1/me", &user.token).await.status,
        StatusCode::OK,
        "other tokens still work"
    );

    app.patch(
        &format!("/api/v1/users/{}", user.id),
        &app.admin_token,
        json!({"active": false}),
    )
    .await;
    app.get("/api/v1/me", &user.token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

async fn passwords_tokens_and_sessions_are_stored_hashed(app: TestApp) {
    let user = app.user("sunli", Role::Rep, None).await;
    let reply = login(&app, "sunli", "password123").await;
    let session = session_of(&reply).split_once('=').unwrap().1.to_owned();
    let users = app
        .db
        .fetch_all(
            "SELECT password_hash FROM users WHERE id = ?",
            &[user.id.into()],
        )
        .await
        .unwrap();
    assert!(users[0].text("password_hash").starts_with("$argon2id$"));
    let tokens = app
        .db
        .fetch_all("SELECT token_hash FROM api_tokens", &[])
        .await
        .unwrap();
    assert!(tokens
        .iter()
        .all(|r| r.text("token_hash") != user.token && r.text("token_hash").len() == 64));
    let sessions = app
        .db
        .fetch_all("SELECT session_hash, csrf_token FROM sessions", &[])
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_ne!(sessions[0].text("session_hash"), session);
}
