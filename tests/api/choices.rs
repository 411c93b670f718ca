//! The choice lists admins edit: statuses with their fixed types, sources, outcomes, lost and
//! disqualify reasons. Labels are taken wherever codes are (in either language, case and
//! full-width forms ignored); an added status is stored as its type plus itself; archived and
//! unknown entries are refused with the choices listed; the settings page adds, relabels and
//! refuses next to the field; pages show the admin's labels.

use crate::on_both_databases;
use crate::support::TestApp;
use crate::ui::{shown_text, Browser};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    labels_resolve_to_codes_and_an_added_status_keeps_its_type,
    fixed_codes_and_stages_take_their_labels_too,
    admins_edit_the_lists_and_entries_in_use_are_archived_not_deleted,
    listed_reasons_are_stored_as_codes_and_reported_by_label,
    the_settings_page_adds_relabels_and_refuses_next_to_the_field,
);

/// The list item of an entry on the settings page.
fn row<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} in {html}"));
    let end = html[start..]
        .find("</li>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

async fn add(app: &TestApp, body: Value) -> Value {
    let reply = app.post("/api/v1/choices", &app.admin_token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn entries(app: &TestApp, kind: &str) -> Vec<Value> {
    let reply = app
        .get(&format!("/api/v1/choices?kind={kind}"), &app.admin_token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

async fn labels_resolve_to_codes_and_an_added_status_keeps_its_type(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    // The built-in lists as the code names them, seeded by the migration and readable by a
    // rep who fills in leads.
    let listed = app.get("/api/v1/choices", &rep.token).await;
    assert_eq!(listed.status, StatusCode::OK);
    let seeded: Vec<(String, String, String, String)> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("kind"), s("code"), s("label_zh"), s("label_en"))
        })
        .collect();
    let builtin: Vec<(String, String, String, String)> = xiansuo_core::choice::builtins()
        .into_iter()
        .map(|(kind, code, zh, en)| (kind.code().into(), code.into(), zh.into(), en.into()))
        .collect();
    assert_eq!(seeded, builtin);

    // Labels where codes go: a source by its Chinese label, a status by its English one in
    // other case, an outcome by label; all stored as codes.
    let lead = app
        .lead(
            &rep.token,
            json!({"name": "王芳", "phone": "13800138001", "source": "客户推荐", "status": "WORKING"}),
        )
        .await;
    assert_eq!(
        (lead["source"].as_str(), lead["status"].as_str()),
        (Some("referral"), Some("working"))
    );
    assert_eq!(lead["status_detail"], Value::Null);
    let id = lead["id"].as_i64().unwrap();
    let activity = app
        .post(
            &format!("/api/v1/leads/{id}/activities"),
            &rep.token,
            json!({"type": "call", "outcome": "可再联系"}),
        )
        .await;
    assert_eq!(activity.status, StatusCode::CREATED, "{}", activity.body);
    assert_eq!(activity.body["outcome"], "call_back");

    // An unknown label is a 422 that lists the choices.
    let unknown = app
        .post(
            "/api/v1/leads",
            &rep.token,
            json!({"name": "李雷", "source": "合作伙伴"}),
        )
        .await;
    unknown.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(unknown.body["error"]["field"], "source");
    let message = unknown.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("referral (客户推荐)"), "{message}");

    // An admin adds 未接通 under 跟进中 and the source 合作伙伴 (full-width code typed by a
    // person still resolves once listed).
    add(&app, json!({"kind": "status", "code": "no_answer", "label_zh": "未接通", "label_en": "No answer", "status_type": "working"})).await;
    add(
        &app,
        json!({"kind": "source", "code": "partner", "label_zh": "合作伙伴", "label_en": "Partner"}),
    )
    .await;
    let added = app
        .lead(
            &rep.token,
            json!({"name": "李雷", "source": "ＰＡＲＴＮＥＲ", "status": "未接通"}),
        )
        .await;
    assert_eq!(added["source"], "partner");
    assert_eq!(added["status"], "working", "the type the rules read");
    assert_eq!(added["status_detail"], "no_answer", "the status people see");
    let added_id = added["id"].as_i64().unwrap();

    // As a filter, the added status finds only its own leads; its type finds both.
    let only = app.get("/api/v1/leads?status=no_answer", &rep.token).await;
    assert_eq!(only.ids(), vec![added_id]);
    let mut both = app
        .get("/api/v1/leads?status=working", &rep.token)
        .await
        .ids();
    both.sort();
    assert_eq!(both, vec![id, added_id]);

    // Moving to a fixed status clears the added one; history says both changed.
    let moved = app
        .patch(
            &format!("/api/v1/leads/{added_id}"),
            &rep.token,
            json!({"status": "nurturing"}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(
        (moved.body["status"].as_str(), &moved.body["status_detail"]),
        (Some("nurturing"), &Value::Null)
    );
    let history = app
        .get(&format!("/api/v1/leads/{added_id}/history"), &rep.token)
        .await;
    let fields: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(fields.contains(&"status_detail"), "{fields:?}");

    // The lead page shows the added status in the rep's language.
    let browser = Browser::signed_in(&app, "rep").await;
    app.patch(
        &format!("/api/v1/leads/{added_id}"),
        &rep.token,
        json!({"status": "no_answer"}),
    )
    .await;
    let page = browser.get(&format!("/leads/{added_id}")).await;
    assert!(shown_text(&page.body).contains("未接通"), "{}", page.body);
}

async fn fixed_codes_and_stages_take_their_labels_too(app: TestApp) {
    let t = &app.admin_token;
    let lead = app
        .lead(t, json!({"name": "赵敏", "grade": "ａ", "urgency": "Urgent: within a week", "demand_stage": "决策"}))
        .await;
    assert_eq!(
        (
            lead["grade"].as_str(),
            lead["urgency"].as_str(),
            lead["demand_stage"].as_str()
        ),
        (Some("A"), Some("urgent"), Some("decision"))
    );
    let call = app
        .post(
            &format!("/api/v1/leads/{}/activities", lead["id"]),
            t,
            json!({"type": "电话"}),
        )
        .await;
    assert_eq!(call.body["type"], "call", "{}", call.body);
    let refused = app
        .post("/api/v1/leads", t, json!({"name": "赵敏", "grade": "F"}))
        .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("A, B, C, D, E"));

    // Stages by their names: stored as codes, and naming the current stage moves nothing.
    let deal = app
        .post(
            "/api/v1/opportunities",
            t,
            json!({"name": "项目", "amount": 1000, "stage": "方案报价"}),
        )
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.body);
    assert_eq!(
        (
            deal.body["stage"].as_str(),
            deal.body["probability"].as_i64()
        ),
        (Some("proposal"), Some(60))
    );
    let path = format!("/api/v1/opportunities/{}", deal.body["id"]);
    let moved = app.patch(&path, t, json!({"stage": "commitment "})).await;
    assert_eq!(moved.body["stage"], "commitment", "{}", moved.body);
    let same = app.patch(&path, t, json!({"stage": "客户承诺"})).await;
    assert_eq!(same.body["stage"], "commitment", "{}", same.body);
    let history = app.get(&format!("{path}/history"), t).await;
    let stage_changes = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == "stage")
        .count();
    assert_eq!(stage_changes, 1, "{}", history.body);
    let unknown = app.patch(&path, t, json!({"stage": "谈判"})).await;
    unknown.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(unknown.body["error"]["field"], "stage");
}

async fn admins_edit_the_lists_and_entries_in_use_are_archived_not_deleted(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let t = &app.admin_token;
    // Only admins change the lists.
    app.post(
        "/api/v1/choices",
        &rep.token,
        json!({"kind": "outcome", "code": "sent_quote", "label_zh": "已报价", "label_en": "Quote sent"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");

    // Bad entries: a status without its type, a type on a source, a bad code, a label that
    // would read as another entry's.
    for (body, field) in [
        (
            json!({"kind": "status", "code": "x", "label_zh": "某", "label_en": "X"}),
            "status_type",
        ),
        (
            json!({"kind": "source", "code": "x", "label_zh": "某", "label_en": "X", "status_type": "new"}),
            "status_type",
        ),
        (
            json!({"kind": "source", "code": "Trade Show", "label_zh": "展会", "label_en": "Trade show"}),
            "code",
        ),
        (
            json!({"kind": "lists", "code": "x", "label_zh": "某", "label_en": "X"}),
            "kind",
        ),
        (
            json!({"kind": "source", "code": "x", "label_zh": " ", "label_en": "X"}),
            "label_zh",
        ),
    ] {
        let reply = app.post("/api/v1/choices", t, body).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
    app.post(
        "/api/v1/choices",
        t,
        json!({"kind": "source", "code": "fair", "label_zh": "网站表单", "label_en": "Fair"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");

    // An added outcome is offered, used, then archived: refused in new follow-ups, still
    // labelled where it was used; deleting it is refused while it is held.
    let quote = add(&app, json!({"kind": "outcome", "code": "sent_quote", "label_zh": "已报价", "label_en": "Quote sent"})).await;
    let quote_id = quote["id"].as_i64().unwrap();
    let lead = app.lead(&rep.token, json!({"name": "韩梅梅"})).await;
    let path = format!("/api/v1/leads/{}/activities", lead["id"]);
    let logged = app
        .post(
            &path,
            &rep.token,
            json!({"type": "call", "outcome": "Quote sent"}),
        )
        .await;
    assert_eq!(logged.body["outcome"], "sent_quote", "{}", logged.body);
    let archived = app
        .patch(
            &format!("/api/v1/choices/{quote_id}"),
            t,
            json!({"archived": true, "label_zh": "已发报价"}),
        )
        .await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.body);
    assert_eq!(
        (
            archived.body["archived"].as_bool(),
            archived.body["label_zh"].as_str()
        ),
        (Some(true), Some("已发报价"))
    );
    let refused = app
        .post(
            &path,
            &rep.token,
            json!({"type": "call", "outcome": "sent_quote"}),
        )
        .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("archived"));
    app.call(
        Method::DELETE,
        &format!("/api/v1/choices/{quote_id}"),
        t,
        None,
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");

    // The six fixed statuses are relabelled, not archived or deleted.
    let working = entries(&app, "status")
        .await
        .into_iter()
        .find(|c| c["code"] == "working")
        .unwrap();
    let working_id = working["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/v1/choices/{working_id}"),
        t,
        json!({"archived": true}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.call(
        Method::DELETE,
        &format!("/api/v1/choices/{working_id}"),
        t,
        None,
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    let renamed = app
        .patch(
            &format!("/api/v1/choices/{working_id}"),
            t,
            json!({"label_zh": "跟进"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    // The new label is taken at once.
    let by_new_label = app
        .lead(&rep.token, json!({"name": "李四", "status": "跟进"}))
        .await;
    assert_eq!(by_new_label["status"], "working");

    // An unused added entry is deleted; the change is in the audit log.
    let spare = add(&app, json!({"kind": "disqualify_reason", "code": "test_data", "label_zh": "测试数据", "label_en": "Test data"})).await;
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/v1/choices/{}", spare["id"]),
            t,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert!(entries(&app, "disqualify_reason").await.is_empty());
    let audit = app.get("/api/v1/audit?kind=choice", t).await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"create") && actions.contains(&"update") && actions.contains(&"delete"),
        "{actions:?}"
    );
}

async fn listed_reasons_are_stored_as_codes_and_reported_by_label(app: TestApp) {
    let t = &app.admin_token;
    add(&app, json!({"kind": "lost_reason", "code": "price", "label_zh": "价格太高", "label_en": "Price too high"})).await;
    add(&app, json!({"kind": "disqualify_reason", "code": "empty_number", "label_zh": "空号", "label_en": "Empty number"})).await;
    let mut lost = Vec::new();
    for reason in ["价格太高", "price too high", "预算被砍"] {
        let deal = app
            .post(
                "/api/v1/opportunities",
                t,
                json!({"name": "项目", "amount": 1000}),
            )
            .await;
        let path = format!("/api/v1/opportunities/{}", deal.body["id"]);
        let closed = app
            .post(&format!("{path}/lose"), t, json!({"reason": reason}))
            .await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
        lost.push(closed.body["close_reason"].clone());
    }
    assert_eq!(
        lost,
        vec![json!("price"), json!("price"), json!("预算被砍")]
    );
    let lead = app.lead(t, json!({"name": "空号线索"})).await;
    let disqualified = app
        .patch(
            &format!("/api/v1/leads/{}", lead["id"]),
            t,
            json!({"status": "disqualified", "disqualify_reason": "Empty Number"}),
        )
        .await;
    assert_eq!(
        disqualified.body["disqualify_reason"], "empty_number",
        "{}",
        disqualified.body
    );

    let report = app.get("/api/v1/reports/lost-reasons", t).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let first = &report.body["items"][0];
    assert_eq!(
        (
            first["reason"].as_str(),
            first["label"].as_str(),
            first["count"].as_i64()
        ),
        (Some("price"), Some("价格太高"), Some(2))
    );
    let reasons = app.get("/api/v1/reports/disqualify-reasons", t).await;
    assert_eq!(
        reasons.body["items"][0]["label"], "空号",
        "{}",
        reasons.body
    );

    // The reports page shows the label, in English for an English user.
    let browser = Browser::signed_in(&app, "admin").await;
    let page = browser.get("/reports?report=lost-reasons").await;
    let text = shown_text(&page.body);
    assert!(
        text.contains("价格太高") && !text.contains("price 2"),
        "{text}"
    );
}

async fn the_settings_page_adds_relabels_and_refuses_next_to_the_field(app: TestApp) {
    let admin = Browser::signed_in(&app, "admin").await;
    let page = admin.get("/settings/choices?kind=status").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(shown_text(&page.body).contains("跟进中"));
    let csrf = page.csrf();

    // A bad code is refused next to the code field, and what was typed stays.
    let refused = admin
        .post(
            "/settings/choices",
            &[
                ("csrf_token", &csrf),
                ("kind", "status"),
                ("code", "没有接通"),
                ("label_zh", "未接通"),
                ("label_en", "No answer"),
                ("status_type", "working"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"error-code\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"未接通\""));

    let saved = admin
        .post(
            "/settings/choices",
            &[
                ("csrf_token", &csrf),
                ("kind", "status"),
                ("code", "no_answer"),
                ("label_zh", "未接通"),
                ("label_en", "No answer"),
                ("status_type", "working"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let listed = admin.get(saved.location()).await;
    let added = row(&listed.body, "choice-no_answer");
    assert!(
        shown_text(added).contains("跟进中"),
        "its type is shown: {added}"
    );
    let id = entries(&app, "status")
        .await
        .into_iter()
        .find(|c| c["code"] == "no_answer")
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    // Relabelled to a label another entry has: refused next to that row's field.
    let clash = admin
        .post(
            &format!("/settings/choices/{id}"),
            &[
                ("csrf_token", &csrf),
                ("kind", "status"),
                ("label_zh", "无效"),
                ("label_en", "No answer"),
                ("position", "7"),
            ],
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert!(shown_text(row(&clash.body, "choice-no_answer")).contains("无效"));

    // Archived through the page, then deleted (nothing holds it).
    let archived = admin
        .post(
            &format!("/settings/choices/{id}"),
            &[
                ("csrf_token", &csrf),
                ("kind", "status"),
                ("label_zh", "未接通"),
                ("label_en", "No answer"),
                ("position", "7"),
                ("archived", "on"),
            ],
        )
        .await;
    assert_eq!(archived.status, StatusCode::SEE_OTHER, "{}", archived.body);
    assert_eq!(
        entries(&app, "status")
            .await
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["archived"],
        true
    );
    let deleted = admin
        .post(
            &format!("/settings/choices/{id}/delete"),
            &[("csrf_token", &csrf), ("kind", "status")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    assert!(entries(&app, "status").await.iter().all(|c| c["id"] != id));

    // A rep has no such page.
    app.user("rep", Role::Rep, None).await;
    let rep = Browser::signed_in(&app, "rep").await;
    assert_eq!(
        rep.get("/settings/choices").await.status,
        StatusCode::FORBIDDEN
    );
}
