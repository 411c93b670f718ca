//! Bad input gets a clear 4xx JSON error, or is stored exactly and escaped on output; never a
//! 500, and nothing half-written.

use crate::on_both_databases;
use crate::support::{Reply, TestApp};
use reqwest::StatusCode;
use serde_json::json;

on_both_databases!(
    malformed_and_mistyped_bodies_get_a_4xx_that_names_the_problem,
    oversized_bodies_are_refused_with_413,
    unknown_ids_routes_and_methods_get_json_errors,
    sql_metacharacters_html_and_emoji_are_stored_exactly,
    bad_list_parameters_are_explained,
    calls_without_valid_credentials_get_401,
    a_number_without_a_fraction_is_taken_as_a_whole_number,
    ids_in_list_and_export_filters_start_at_1,
);

async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    content_type: &str,
    body: &str,
) -> Reply {
    // Each on its own connection: a server that refuses a body without reading it closes the
    // connection, which a pooled client could otherwise pick for the next request.
    let response = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&app.admin_token)
        .header("content-type", content_type)
        .header("connection", "close")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    Reply::from(response).await
}

async fn malformed_and_mistyped_bodies_get_a_4xx_that_names_the_problem(app: TestApp) {
    let t = &app.admin_token;
    raw(
        &app,
        reqwest::Method::POST,
        "/api/v1/leads",
        "application/json",
        "{\"name\": ",
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    raw(
        &app,
        reqwest::Method::POST,
        "/api/v1/leads",
        "text/plain",
        "name=张三",
    )
    .await
    .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let cases = [
        (json!(["not", "an", "object"]), "body"),
        (json!({}), "name"),
        (json!({"name": 42}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "张三", "nickname": "小张"}), "nickname"),
        (json!({"name": "张三", "id": 7}), "id"),
        (json!({"name": "张三", "id": null}), "id"),
        (json!({"name": "张三", "created_at": null}), "created_at"),
        (json!({"name": "张三", "merged_into": null}), "merged_into"),
        (json!({"name": "张三", "phone": "12345"}), "phone"),
        (json!({"name": "张三", "email": "zhang@"}), "email"),
        (json!({"name": "张三", "status": "won"}), "status"),
        (json!({"name": "张三", "status": "converted"}), "status"),
        (json!({"name": "张三", "grade": "F"}), "grade"),
        (json!({"name": null}), "name"),
        (json!({"name": "张三", "status": null}), "status"),
        (json!({"name": "张三", "source": null}), "source"),
        (json!({"name": "张三", "score": null}), "score"),
        (json!({"name": "张三", "score": "high"}), "score"),
        (json!({"name": "张三", "tags": "vip"}), "tags"),
        (json!({"name": "张三", "owner_id": 987_654}), "owner_id"),
        (json!({"name": "张".repeat(201)}), "name"),
        (json!({"name": "a\u{0000}b"}), "name"),
    ];
    for (body, field) in cases {
        let reply = app.post("/api/v1/leads", t, body.clone()).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(
            reply.body["error"]["field"], field,
            "{body} → {}",
            reply.body
        );
    }
    assert!(
        app.get("/api/v1/leads", t).await.ids().is_empty(),
        "nothing was written"
    );
    let history = app
        .db
        .fetch_all("SELECT id FROM history", &[])
        .await
        .unwrap();
    assert!(history.is_empty(), "no history for refused writes");
}

async fn oversized_bodies_are_refused_with_413(app: TestApp) {
    let body = json!({"name": "张三", "description": "x".repeat(2 * 1024 * 1024)}).to_string();
    raw(
        &app,
        reqwest::Method::POST,
        "/api/v1/leads",
        "application/json",
        &body,
    )
    .await
    .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let long = app
        .post(
            "/api/v1/leads",
            &app.admin_token,
            json!({"name": "张三", "description": "长".repeat(5001)}),
        )
        .await;
    long.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

async fn unknown_ids_routes_and_methods_get_json_errors(app: TestApp) {
    let t = &app.admin_token;
    app.get("/api/v1/leads/424242", t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.patch("/api/v1/leads/424242", t, json!({"name": "x"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/v1/leads/424242/history", t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.post(
        "/api/v1/leads/424242/activities",
        t,
        json!({"type": "call"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/v1/leads/abc", t)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    app.get("/api/v1/leads/99999999999999999999", t)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    app.get("/api/v1/no-such-thing", t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.call(reqwest::Method::PUT, "/api/v1/leads", t, Some(json!({})))
        .await
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    app.get("/api/v1/activities/5", t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/v1/users/5", t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn sql_metacharacters_html_and_emoji_are_stored_exactly(app: TestApp) {
    let t = &app.admin_token;
    let nasty = [
        "Robert'); DROP TABLE leads;--",
        "<script>alert('x')</script>",
        "王🚀芳 \"引号\" \\ 反斜杠",
        "%_ LIKE wildcards ?",
    ];
    for name in nasty {
        let lead = app
            .lead(
                t,
                json!({"name": name, "company": name, "description": name}),
            )
            .await;
        assert_eq!(lead["name"], name);
        let read = app.get(&format!("/api/v1/leads/{}", lead["id"]), t).await;
        assert_eq!(read.body["company"], name);
    }
    assert_eq!(
        app.get("/api/v1/leads?limit=10", t).await.ids().len(),
        nasty.len(),
        "the table is still there"
    );
    let found = app.get("/api/v1/leads?q=%27%29%3B%20DROP", t).await;
    assert_eq!(found.ids().len(), 1, "{}", found.body);
    assert_eq!(
        app.get("/api/v1/leads?q=%3F", t).await.ids().len(),
        1,
        "a literal ? is searched, not bound"
    );
}

async fn bad_list_parameters_are_explained(app: TestApp) {
    let t = &app.admin_token;
    for path in [
        "/api/v1/leads?limit=0",
        "/api/v1/leads?limit=10000",
        "/api/v1/leads?limit=ten",
        "/api/v1/leads?sort=phone",
        "/api/v1/leads?cursor=garbage",
        "/api/v1/leads?status=won",
        "/api/v1/leads?owner_id=me",
        "/api/v1/leads?created_from=yesterday",
        "/api/v1/leads?colour=red",
        "/api/v1/leads?custom.nope=1",
        "/api/v1/leads?score=a..b",
        "/api/v1/users?active=maybe",
    ] {
        let reply = app.get(path, t).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    }
}

/// An id filter of a list or an export names stored ids, which start at 1: 0 or a negative
/// number is refused with the field named, rather than matching nothing.
async fn ids_in_list_and_export_filters_start_at_1(app: TestApp) {
    let t = &app.admin_token;
    for (path, field) in [
        (
            "/api/v1/opportunities/export?owner_id=-201,-737",
            "owner_id",
        ),
        ("/api/v1/leads/export?owner_id=0", "owner_id"),
        ("/api/v1/leads?owner_id=1,-4", "owner_id"),
        ("/api/v1/leads?team_id=-1", "team_id"),
    ] {
        let reply = app.get(path, t).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], json!(field), "{path}");
    }
    let reply = app.get("/api/v1/leads?owner_id=1", t).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// JSON does not tell 100 from 100.0: a whole number may be sent either way.
async fn a_number_without_a_fraction_is_taken_as_a_whole_number(app: TestApp) {
    let t = &app.admin_token;
    let reply = app
        .patch("/api/v1/scoring/settings", t, json!({"max_score": 90.0}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["max_score"], json!(90));
    app.patch("/api/v1/scoring/settings", t, json!({"max_score": 90.5}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

async fn calls_without_valid_credentials_get_401(app: TestApp) {
    let anonymous = Reply::from(
        app.client
            .get(format!("{}/api/v1/leads", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    anonymous.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.get("/api/v1/leads", "xs_not_a_real_token")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let basic = Reply::from(
        app.client
            .get(format!("{}/api/v1/leads", app.base))
            .header("authorization", "Basic YTpi")
            .send()
            .await
            .unwrap(),
    )
    .await;
    basic.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}
