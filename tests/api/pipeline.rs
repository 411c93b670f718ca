//! From lead to customer: qualification checklists that gate `qualified`, one-step conversion
//! into account, contact and opportunity, the editable pipeline with won and lost deals, the
//! weighted forecast and the board, the RFM value of accounts, and the handover of a rep's
//! records.

use crate::on_both_databases;
use crate::support::{Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    a_checklist_keeps_a_lead_from_qualifying_until_its_required_items_are_met,
    the_default_checklist_gates_leads_without_one_and_without_any_leads_qualify_freely,
    only_admins_edit_checklists_and_bad_ones_are_refused_by_field,
    converting_a_lead_makes_account_contact_and_opportunity_and_locks_the_lead,
    conversion_links_the_account_with_the_same_company_or_the_one_named,
    a_failed_conversion_writes_nothing,
    stages_are_seeded_editable_by_admins_and_checked_on_every_deal,
    a_deal_follows_its_stage_and_is_won_or_lost_with_a_reason,
    the_forecast_weighs_open_deals_by_month_and_counts_won_ones_in_scope,
    the_board_sums_deals_per_stage,
    rfm_scores_accounts_from_their_won_deals_and_flags_a_class,
    a_handover_moves_every_record_to_the_new_owner_with_history,
    a_handover_is_refused_outside_the_rules,
);

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("an id in {v}"))
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.call(Method::PUT, path, token, Some(body)).await
}

async fn created(reply: Reply) -> Value {
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

fn ok(reply: Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn bant(app: &TestApp, is_default: bool) -> Value {
    created(
        app.post(
            "/api/v1/qualification-checklists",
            &app.admin_token,
            json!({
                "name": "BANT 软件事业部",
                "business_unit": "软件事业部",
                "items": [
                    {"key": "budget", "label": "预算已确认"},
                    {"key": "authority", "label": "决策人已接触", "required": true},
                    {"key": "timeline", "label": "时间表", "required": false},
                ],
                "is_default": is_default,
            }),
        )
        .await,
    )
    .await
}

async fn history(app: &TestApp, path: &str) -> Vec<Value> {
    ok(app.get(&format!("{path}/history"), &app.admin_token).await)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn a_checklist_keeps_a_lead_from_qualifying_until_its_required_items_are_met(app: TestApp) {
    let checklist = bant(&app, false).await;
    let rep = app.user("rep", Role::Rep, None).await;
    let lead = app
        .lead(&rep.token, json!({"name": "王芳", "company": "云栖科技"}))
        .await;
    let path = format!("/api/v1/leads/{}", id(&lead));

    let ticked = ok(put(
        &app,
        &format!("{path}/qualification"),
        &rep.token,
        json!({"checklist_id": id(&checklist), "items": {"budget": true}}),
    )
    .await);
    assert_eq!(ticked["checklist_id"], id(&checklist));
    assert_eq!(ticked["missing"], json!(["authority"]));
    assert_eq!(ticked["complete"], false);

    let refused = app
        .patch(&path, &rep.token, json!({"status": "qualified"}))
        .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(refused.body["error"]["field"], "status");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("决策人已接触 (authority)"), "{message}");
    assert!(
        !message.contains("budget") && !message.contains("timeline"),
        "{message}"
    );
    assert_eq!(ok(app.get(&path, &rep.token).await)["status"], "new");

    put(
        &app,
        &format!("{path}/qualification"),
        &rep.token,
        json!({"items": {"budget": true, "authority": true}}),
    )
    .await;
    let shown = ok(app.get(&format!("{path}/qualification"), &rep.token).await);
    assert_eq!(shown["complete"], true);
    assert_eq!(
        shown["items"][2]["met"], false,
        "optional items need not be met"
    );
    let qualified = ok(app
        .patch(&path, &rep.token, json!({"status": "qualified"}))
        .await);
    assert_eq!(qualified["status"], "qualified");

    let entries = history(&app, &path).await;
    let authority = entries
        .iter()
        .find(|e| e["field"] == "qualification.authority")
        .expect("ticking an item is in the history");
    assert_eq!(
        (
            &authority["old_value"],
            &authority["new_value"],
            &authority["channel"]
        ),
        (&json!(false), &json!(true), &json!("api"))
    );

    let unknown = put(
        &app,
        &format!("{path}/qualification"),
        &rep.token,
        json!({"items": {"budget": true, "colour": true}}),
    )
    .await;
    unknown.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(unknown.body["error"]["field"], "items.colour");

    let other = app.user("other", Role::Rep, None).await;
    app.get(&format!("{path}/qualification"), &other.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    put(
        &app,
        &format!("{path}/qualification"),
        &other.token,
        json!({"items": {}}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn the_default_checklist_gates_leads_without_one_and_without_any_leads_qualify_freely(
    app: TestApp,
) {
    let t = &app.admin_token;
    let free = app.lead(t, json!({"name": "李娜"})).await;
    let qualified = ok(app
        .patch(
            &format!("/api/v1/leads/{}", id(&free)),
            t,
            json!({"status": "qualified"}),
        )
        .await);
    assert_eq!(qualified["status"], "qualified");
    assert_eq!(
        ok(app
            .get(&format!("/api/v1/leads/{}/qualification", id(&free)), t)
            .await)["checklist_id"],
        Value::Null
    );

    let checklist = bant(&app, true).await;
    let lead = app.lead(t, json!({"name": "刘洋"})).await;
    let path = format!("/api/v1/leads/{}", id(&lead));
    let shown = ok(app.get(&format!("{path}/qualification"), t).await);
    assert_eq!(shown["checklist_id"], id(&checklist));
    assert_eq!(shown["chosen"], false);
    assert_eq!(shown["missing"], json!(["budget", "authority"]));
    app.patch(&path, t, json!({"status": "qualified"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.post(
        "/api/v1/leads",
        t,
        json!({"name": "陈静", "status": "qualified"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // Other status changes are not gated.
    assert_eq!(
        ok(app.patch(&path, t, json!({"status": "working"})).await)["status"],
        "working"
    );

    // A lead that chose a checklist without required items qualifies.
    let light = created(
        app.post(
            "/api/v1/qualification-checklists",
            t,
            json!({"name": "快速", "product_line": "SaaS", "items": [{"key": "met", "label": "见过面", "required": false}]}),
        )
        .await,
    )
    .await;
    put(
        &app,
        &format!("{path}/qualification"),
        t,
        json!({"checklist_id": id(&light), "items": {}}),
    )
    .await;
    assert_eq!(
        ok(app.patch(&path, t, json!({"status": "qualified"})).await)["status"],
        "qualified"
    );
}

async fn only_admins_edit_checklists_and_bad_ones_are_refused_by_field(app: TestApp) {
    let t = &app.admin_token;
    let rep = app.user("rep", Role::Rep, None).await;
    app.post(
        "/api/v1/qualification-checklists",
        &rep.token,
        json!({"name": "x", "items": []}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    for (body, field) in [
        (json!({"items": []}), "name"),
        (
            json!({"name": "x", "items": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]}),
            "items[1].key",
        ),
        (
            json!({"name": "x", "items": [{"key": "a"}]}),
            "items[0].label",
        ),
        (
            json!({"name": "x", "items": [{"key": "A b", "label": "A"}]}),
            "items[0].key",
        ),
        (json!({"name": "x", "items": "budget"}), "items"),
        (json!({"name": "x", "colour": "red"}), "colour"),
        (
            json!({"name": "x", "items": [{"key": "a", "label": "A", "colour": 1}]}),
            "items[0].colour",
        ),
    ] {
        let reply = app.post("/api/v1/qualification-checklists", t, body).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }

    let first = bant(&app, true).await;
    let second = bant(&app, true).await;
    let items = ok(app
        .get("/api/v1/qualification-checklists", &rep.token)
        .await);
    let defaults: Vec<i64> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["is_default"] == true)
        .map(id)
        .collect();
    assert_eq!(
        defaults,
        vec![id(&second)],
        "only one checklist is the default"
    );

    let path = format!("/api/v1/qualification-checklists/{}", id(&first));
    let changed = ok(app
        .patch(
            &path,
            t,
            json!({"name": "BANT 2027", "items": [{"key": "budget", "label": "预算"}]}),
        )
        .await);
    assert_eq!(changed["name"], "BANT 2027");
    assert_eq!(
        changed["items"],
        json!([{"key": "budget", "label": "预算", "required": true}])
    );
    app.patch(&path, &rep.token, json!({"name": "mine"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let deleted = app.call(Method::DELETE, &path, t, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    app.get(&path, t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn converting_a_lead_makes_account_contact_and_opportunity_and_locks_the_lead(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let lead = app
        .lead(
            &rep.token,
            json!({"name": "王芳", "company": "杭州云栖科技有限公司", "title": "CTO",
                   "phone": "139-1234-5678", "email": "Wang.Fang@example.com",
                   "industry": "软件", "city": "杭州"}),
        )
        .await;
    let path = format!("/api/v1/leads/{}", id(&lead));
    let call = created(
        app.post(
            &format!("{path}/activities"),
            &rep.token,
            json!({"type": "call", "outcome": "visit_requested", "content": "约了下周上门"}),
        )
        .await,
    )
    .await;

    // The admin converts the rep's lead: the new records stay the rep's.
    let converted = ok(app
        .post(
            &format!("{path}/convert"),
            &app.admin_token,
            json!({"create_opportunity": true, "opportunity": {
                "name": "云栖 CRM 项目", "amount": 128000.5,
                "expected_close_date": "2027-01-15", "stage": "proposal"}}),
        )
        .await);
    let (account, contact, opportunity) = (
        &converted["account"],
        &converted["contact"],
        &converted["opportunity"],
    );
    assert_eq!(account["name"], "杭州云栖科技有限公司");
    assert_eq!(
        (&account["industry"], &account["city"]),
        (&json!("软件"), &json!("杭州"))
    );
    assert_eq!(account["owner_id"], rep.id);
    assert_eq!(contact["name"], "王芳");
    assert_eq!(contact["title"], "CTO");
    assert_eq!(contact["phone_normalized"], "+8613912345678");
    assert_eq!(contact["email_normalized"], "wang.fang@example.com");
    assert_eq!(contact["account_id"], id(account));
    assert_eq!(contact["owner_id"], rep.id);
    assert_eq!(opportunity["name"], "云栖 CRM 项目");
    assert_eq!(opportunity["amount"], json!(128000.5));
    assert_eq!(opportunity["stage"], "proposal");
    assert_eq!(opportunity["probability"], 60);
    assert_eq!(opportunity["result"], "open");
    assert_eq!(
        (
            &opportunity["account_id"],
            &opportunity["contact_id"],
            &opportunity["lead_id"]
        ),
        (&json!(id(account)), &json!(id(contact)), &json!(id(&lead)))
    );

    let now_lead = ok(app.get(&path, &rep.token).await);
    assert_eq!(now_lead["status"], "converted");
    assert_eq!(now_lead["converted_account_id"], id(account));
    assert_eq!(now_lead["converted_contact_id"], id(contact));
    assert_eq!(now_lead["converted_opportunity_id"], id(opportunity));
    assert_eq!(now_lead["converted_at"], "2026-11-02T09:00:00.000Z");

    // Read-only from now on, and converted once only.
    app.patch(&path, &rep.token, json!({"title": "CEO"}))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    app.post(&format!("{path}/convert"), &rep.token, json!({}))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");

    // The lead's follow-ups show on the account.
    let account_activities = ok(app
        .get(
            &format!("/api/v1/accounts/{}/activities", id(account)),
            &rep.token,
        )
        .await);
    assert_eq!(
        account_activities["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id)
            .collect::<Vec<_>>(),
        vec![id(&call)]
    );

    // The history says who converted it, through which channel, into what.
    let entries = history(&app, &path).await;
    let action = entries
        .iter()
        .find(|e| e["action"] == "convert")
        .expect("a convert entry");
    assert_eq!(action["channel"], "api");
    assert_eq!(action["actor"], "admin");
    assert_eq!(action["new_value"]["account_id"], id(account));
    assert!(entries
        .iter()
        .any(|e| e["field"] == "status" && e["new_value"] == "converted"));
    assert_eq!(
        history(&app, &format!("/api/v1/contacts/{}", id(contact))).await[0]["action"],
        "create"
    );

    // The owner hears of it.
    let notes = ok(app.get("/api/v1/notifications", &rep.token).await);
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "lead.converted" && n["record_id"] == id(&lead)),
        "{notes}"
    );

    // Without an opportunity asked for, none is made; a person without a company becomes
    // the account.
    let person = app
        .lead(&rep.token, json!({"name": "赵敏", "phone": "13800138000"}))
        .await;
    let b2c = ok(app
        .post(
            &format!("/api/v1/leads/{}/convert", id(&person)),
            &rep.token,
            json!({"create_opportunity": false}),
        )
        .await);
    assert_eq!(b2c["opportunity"], Value::Null);
    let links = app
        .patch(
            &format!("/api/v1/leads/{}", id(&person)),
            &rep.token,
            json!({"converted_account_id": 1}),
        )
        .await;
    links.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(links.body["error"]["field"], "converted_account_id");
    assert_eq!(b2c["account"]["name"], "赵敏");
    assert_eq!(b2c["account"]["phone_normalized"], "+8613800138000");
    assert_eq!(
        ok(app
            .get(&format!("/api/v1/leads/{}", id(&person)), &rep.token)
            .await)["converted_opportunity_id"],
        Value::Null
    );
}

async fn conversion_links_the_account_with_the_same_company_or_the_one_named(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let existing = created(
        app.post(
            "/api/v1/accounts",
            &rep.token,
            json!({"name": "上海恒远信息科技有限公司"}),
        )
        .await,
    )
    .await;
    let lead = app
        .lead(
            &rep.token,
            json!({"name": "张伟", "company": "恒远信息科技（上海）有限公司"}),
        )
        .await;
    let converted = ok(app
        .post(
            &format!("/api/v1/leads/{}/convert", id(&lead)),
            &rep.token,
            json!({"create_opportunity": true}),
        )
        .await);
    assert_eq!(id(&converted["account"]), id(&existing));
    assert_eq!(
        converted["opportunity"]["name"],
        "恒远信息科技（上海）有限公司"
    );
    assert_eq!(converted["opportunity"]["stage"], "met");
    assert_eq!(
        app.get("/api/v1/accounts", &rep.token).await.ids(),
        vec![id(&existing)],
        "no second account"
    );
    let account_history = history(&app, &format!("/api/v1/accounts/{}", id(&existing))).await;
    assert!(account_history
        .iter()
        .any(|e| e["action"] == "lead_converted"));

    let named = created(
        app.post(
            "/api/v1/accounts",
            &rep.token,
            json!({"name": "另一家公司"}),
        )
        .await,
    )
    .await;
    let second = app
        .lead(
            &rep.token,
            json!({"name": "李娜", "company": "恒远信息科技"}),
        )
        .await;
    let converted = ok(app
        .post(
            &format!("/api/v1/leads/{}/convert", id(&second)),
            &rep.token,
            json!({"account_id": id(&named)}),
        )
        .await);
    assert_eq!(id(&converted["account"]), id(&named));
    assert_eq!(converted["contact"]["account_id"], id(&named));

    // An account the caller cannot see is neither named nor matched.
    let admins = created(
        app.post(
            "/api/v1/accounts",
            &app.admin_token,
            json!({"name": "北京星河科技有限公司"}),
        )
        .await,
    )
    .await;
    let third = app
        .lead(&rep.token, json!({"name": "周杰", "company": "星河科技"}))
        .await;
    let refused = app
        .post(
            &format!("/api/v1/leads/{}/convert", id(&third)),
            &rep.token,
            json!({"account_id": id(&admins)}),
        )
        .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(refused.body["error"]["field"], "account_id");
    let own = ok(app
        .post(
            &format!("/api/v1/leads/{}/convert", id(&third)),
            &rep.token,
            json!({}),
        )
        .await);
    assert_ne!(id(&own["account"]), id(&admins));
    assert_eq!(own["account"]["owner_id"], rep.id);
}

/// How many records of a type exist, seen by the admin.
async fn count(app: &TestApp, table: &str) -> usize {
    app.get(&format!("/api/v1/{table}"), &app.admin_token)
        .await
        .ids()
        .len()
}

async fn a_failed_conversion_writes_nothing(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let lead = app
        .lead(&rep.token, json!({"name": "王芳", "company": "云栖科技"}))
        .await;
    let convert = format!("/api/v1/leads/{}/convert", id(&lead));
    for (body, field) in [
        (json!({"opportunity": {"amount": -5}}), "opportunity.amount"),
        (
            json!({"opportunity": {"amount": 1.234}}),
            "opportunity.amount",
        ),
        (
            json!({"opportunity": {"stage": "won_big"}}),
            "opportunity.stage",
        ),
        (
            json!({"opportunity": {"stage": "lost"}}),
            "opportunity.stage",
        ),
        (
            json!({"opportunity": {"expected_close_date": "next week"}}),
            "opportunity.expected_close_date",
        ),
        (
            json!({"opportunity": {"probability": 50}}),
            "opportunity.probability",
        ),
        (json!({"create_opportunity": "yes"}), "create_opportunity"),
        (json!({"account_id": 999_999}), "account_id"),
    ] {
        let reply = app.post(&convert, &rep.token, body).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
    app.call(Method::POST, &convert, &rep.token, None)
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let other = app.user("other", Role::Rep, None).await;
    app.post(&convert, &other.token, json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    // A default checklist that is not met holds conversion back, naming what is missing.
    bant(&app, true).await;
    let unmet = app.post(&convert, &rep.token, json!({})).await;
    unmet.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(unmet.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("budget"));

    let lost = app.lead(&rep.token, json!({"name": "无效线索"})).await;
    app.patch(
        &format!("/api/v1/leads/{}", id(&lost)),
        &rep.token,
        json!({"status": "disqualified"}),
    )
    .await;
    let refused = app
        .post(
            &format!("/api/v1/leads/{}/convert", id(&lost)),
            &rep.token,
            json!({}),
        )
        .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(refused.body["error"]["field"], "status");

    for table in ["accounts", "contacts", "opportunities"] {
        assert_eq!(
            count(&app, table).await,
            0,
            "no {table} after failed conversions"
        );
    }

    // Two conversions at once: one wins, the other changes nothing.
    let twice = app
        .lead(&rep.token, json!({"name": "并发", "company": "并发科技"}))
        .await;
    let met = json!({"items": {"budget": true, "authority": true}});
    let qualification = format!("/api/v1/leads/{}/qualification", id(&twice));
    ok(put(&app, &qualification, &rep.token, met).await);
    let path = format!("/api/v1/leads/{}/convert", id(&twice));
    let body = json!({"create_opportunity": true});
    let (a, b) = tokio::join!(
        app.post(&path, &app.admin_token, body.clone()),
        app.post(&path, &app.admin_token, body)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} {}",
        a.body,
        b.body
    );
    for table in ["accounts", "contacts", "opportunities"] {
        assert_eq!(count(&app, table).await, 1, "one conversion's {table}");
    }
    let after = ok(app
        .get(&format!("/api/v1/leads/{}", id(&lead)), &rep.token)
        .await);
    assert_eq!(after["status"], "new");
    assert_eq!(after["converted_account_id"], Value::Null);
    assert!(history(&app, &format!("/api/v1/leads/{}", id(&lead)))
        .await
        .iter()
        .all(|e| e["action"] == "create"));
}

async fn stages_are_seeded_editable_by_admins_and_checked_on_every_deal(app: TestApp) {
    let t = &app.admin_token;
    let rep = app.user("rep", Role::Rep, None).await;
    let stages = ok(app.get("/api/v1/pipeline/stages", &rep.token).await);
    let seeded: Vec<(String, i64, String)> = stages["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["code"].as_str().unwrap().to_owned(),
                s["probability"].as_i64().unwrap(),
                s["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("met", 10, "open"),
        ("found", 20, "open"),
        ("confirmed", 30, "open"),
        ("needs", 40, "open"),
        ("proposal", 60, "open"),
        ("commitment", 80, "open"),
        ("acceptance", 90, "open"),
        ("paid", 100, "won"),
        ("lost", 0, "lost"),
    ]
    .map(|(c, p, k)| (c.to_owned(), p, k.to_owned()));
    assert_eq!(seeded, expected);
    assert_eq!(stages["items"][0]["name_zh"], "见到客户");

    let new = json!({"code": "pilot", "name_zh": "试点", "name_en": "Pilot", "probability": 70, "position": 6});
    app.post("/api/v1/pipeline/stages", &rep.token, new.clone())
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let pilot = created(app.post("/api/v1/pipeline/stages", t, new.clone()).await).await;
    assert_eq!(
        (&pilot["kind"], &pilot["active"]),
        (&json!("open"), &json!(true))
    );
    app.post("/api/v1/pipeline/stages", t, new)
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    for (body, field) in [
        (
            json!({"code": "x1", "name_zh": "x", "probability": 101}),
            "probability",
        ),
        (
            json!({"code": "Bad Code", "name_zh": "x", "probability": 1}),
            "code",
        ),
        (
            json!({"code": "x2", "name_zh": "x", "probability": 1, "kind": "maybe"}),
            "kind",
        ),
        (json!({"code": "x3", "probability": 1}), "name_zh"),
        (
            json!({"code": "x4", "name_zh": "x", "probability": 1, "colour": "red"}),
            "colour",
        ),
        (
            json!({"code": "x5", "name_zh": "x", "probability": 1.5}),
            "probability",
        ),
    ] {
        let reply = app.post("/api/v1/pipeline/stages", t, body).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }

    let deal = created(
        app.post(
            "/api/v1/opportunities",
            &rep.token,
            json!({"name": "试点项目", "stage": "pilot", "amount": 1000}),
        )
        .await,
    )
    .await;
    assert_eq!(deal["probability"], 70);

    // A new stage probability carries to the deals that followed the old one.
    let stage_path = format!("/api/v1/pipeline/stages/{}", id(&pilot));
    let changed = ok(app
        .patch(
            &stage_path,
            t,
            json!({"probability": 75, "name_en": "Pilot run"}),
        )
        .await);
    assert_eq!(
        (&changed["probability"], &changed["name_en"]),
        (&json!(75), &json!("Pilot run"))
    );
    let deal_path = format!("/api/v1/opportunities/{}", id(&deal));
    assert_eq!(ok(app.get(&deal_path, &rep.token).await)["probability"], 75);
    app.patch(&stage_path, t, json!({"code": "trial"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // A name may be changed but not emptied.
    let emptied = app.patch(&stage_path, t, json!({"name_zh": null})).await;
    emptied.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(
        emptied.body["error"]["field"], "name_zh",
        "{}",
        emptied.body
    );
    app.patch(&stage_path, t, json!({"kind": "won"}))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");

    // An inactive or unknown stage takes no deals.
    ok(app.patch(&stage_path, t, json!({"active": false})).await);
    for stage in ["pilot", "won_big"] {
        let reply = app
            .post(
                "/api/v1/opportunities",
                &rep.token,
                json!({"name": "x", "stage": stage}),
            )
            .await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], "stage");
    }
    // The last lost stage cannot be retired.
    let lost_id = id(&stages["items"][8]);
    app.patch(
        &format!("/api/v1/pipeline/stages/{lost_id}"),
        t,
        json!({"active": false}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

async fn a_deal_follows_its_stage_and_is_won_or_lost_with_a_reason(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let t = &rep.token;
    let deal = created(
        app.post(
            "/api/v1/opportunities",
            t,
            json!({"name": "云栖 CRM", "amount": 50000}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (&deal["stage"], &deal["probability"], &deal["result"]),
        (&json!("met"), &json!(10), &json!("open"))
    );
    let path = format!("/api/v1/opportunities/{}", id(&deal));

    let moved = ok(app.patch(&path, t, json!({"stage": "proposal"})).await);
    assert_eq!(moved["probability"], 60);
    let overridden = ok(app.patch(&path, t, json!({"probability": 70})).await);
    assert_eq!(
        (&overridden["stage"], &overridden["probability"]),
        (&json!("proposal"), &json!(70))
    );
    let reset = ok(app.patch(&path, t, json!({"probability": null})).await);
    assert_eq!(reset["probability"], 60);
    let together = ok(app
        .patch(&path, t, json!({"stage": "commitment", "probability": 85}))
        .await);
    assert_eq!(together["probability"], 85);
    let stage_changes: Vec<(Value, Value)> = history(&app, &path)
        .await
        .iter()
        .filter(|e| e["field"] == "stage")
        .map(|e| (e["old_value"].clone(), e["new_value"].clone()))
        .collect();
    assert_eq!(
        stage_changes,
        vec![
            (json!("met"), json!("proposal")),
            (json!("proposal"), json!("commitment"))
        ]
    );

    // Lost only through /lose, with a reason.
    let refused = app.patch(&path, t, json!({"stage": "lost"})).await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(refused.body["error"]["field"], "stage");
    let no_reason = app.post(&format!("{path}/lose"), t, json!({})).await;
    no_reason.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(no_reason.body["error"]["field"], "reason");
    app.patch(&path, t, json!({"result": "won"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    app.clock.advance(chrono::Duration::days(3));
    let lost = ok(app
        .post(
            &format!("{path}/lose"),
            t,
            json!({"reason": "价格太高，选了竞品"}),
        )
        .await);
    assert_eq!(
        (
            &lost["stage"],
            &lost["result"],
            &lost["probability"],
            &lost["close_reason"]
        ),
        (
            &json!("lost"),
            &json!("lost"),
            &json!(0),
            &json!("价格太高，选了竞品")
        )
    );
    assert_eq!(lost["closed_at"], "2026-11-05T09:00:00.000Z");
    app.post(&format!("{path}/lose"), t, json!({"reason": "again"}))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    assert_eq!(
        app.get("/api/v1/opportunities?result=lost", t).await.ids(),
        vec![id(&deal)]
    );

    // The customer came back: won after all.
    let won = ok(app
        .post(&format!("{path}/win"), t, json!({"reason": "竞品交付失败"}))
        .await);
    assert_eq!(
        (
            &won["stage"],
            &won["result"],
            &won["probability"],
            &won["close_reason"]
        ),
        (
            &json!("paid"),
            &json!("won"),
            &json!(100),
            &json!("竞品交付失败")
        )
    );
    let entries = history(&app, &path).await;
    let result_changes: Vec<&Value> = entries
        .iter()
        .filter(|e| e["field"] == "result")
        .map(|e| &e["new_value"])
        .collect();
    assert_eq!(result_changes, vec![&json!("lost"), &json!("won")]);

    // Moving a closed deal back to an open stage reopens it.
    let reopened = ok(app.patch(&path, t, json!({"stage": "acceptance"})).await);
    assert_eq!(
        (
            &reopened["result"],
            &reopened["closed_at"],
            &reopened["close_reason"],
            &reopened["probability"]
        ),
        (&json!("open"), &Value::Null, &Value::Null, &json!(90))
    );

    let other = app.user("other", Role::Rep, None).await;
    app.post(&format!("{path}/win"), &other.token, json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&format!("{path}/win"), t, json!({"stage": "met"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // A field the request does not have is refused by its name.
    let unknown = app
        .post(&format!("{path}/win"), t, json!({"why": "价格"}))
        .await;
    unknown.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(unknown.body["error"]["field"], "why", "{}", unknown.body);
}

async fn deal(app: &TestApp, token: &str, body: Value) -> Value {
    created(app.post("/api/v1/opportunities", token, body).await).await
}

async fn the_forecast_weighs_open_deals_by_month_and_counts_won_ones_in_scope(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let other = app.user("other", Role::Rep, None).await;
    let t = &rep.token;
    deal(&app, t, json!({"name": "a", "amount": 100000, "expected_close_date": "2026-11-20", "stage": "proposal"})).await;
    deal(
        &app,
        t,
        json!({"name": "b", "amount": 50000, "expected_close_date": "2026-11-30", "stage": "met"}),
    )
    .await;
    deal(&app, t, json!({"name": "c", "amount": 30000.5, "expected_close_date": "2027-01-02", "stage": "needs"})).await;
    deal(
        &app,
        t,
        json!({"name": "late", "amount": 99999, "expected_close_date": "2027-02-01"}),
    )
    .await;
    let won = deal(&app, t, json!({"name": "d", "amount": 20000, "expected_close_date": "2027-01-15", "stage": "commitment"})).await;
    ok(app
        .post(
            &format!("/api/v1/opportunities/{}/win", id(&won)),
            t,
            json!({}),
        )
        .await);
    let lost = deal(
        &app,
        t,
        json!({"name": "e", "amount": 70000, "expected_close_date": "2026-11-10"}),
    )
    .await;
    ok(app
        .post(
            &format!("/api/v1/opportunities/{}/lose", id(&lost)),
            t,
            json!({"reason": "预算取消"}),
        )
        .await);
    deal(
        &app,
        &other.token,
        json!({"name": "theirs", "amount": 1000000, "expected_close_date": "2026-11-15"}),
    )
    .await;

    let forecast = ok(app
        .get("/api/v1/pipeline/forecast?from=2026-11&to=2027-01", t)
        .await);
    let months: Vec<&str> = forecast["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, ["2026-11", "2026-12", "2027-01"]);
    let nov = &forecast["items"][0];
    assert_eq!(nov["open_count"], 2);
    assert_eq!(nov["open_amount"], json!(150000.0));
    assert_eq!(
        nov["weighted_amount"],
        json!(65000.0),
        "100000 × 60% + 50000 × 10%"
    );
    assert_eq!(
        (&nov["won_count"], &nov["won_amount"]),
        (&json!(1), &json!(20000.0)),
        "won this month"
    );
    assert_eq!(forecast["items"][1]["open_count"], 0);
    assert_eq!(
        forecast["items"][2]["weighted_amount"],
        json!(12000.2),
        "30000.50 × 40%"
    );
    assert_eq!(forecast["total"]["weighted_amount"], json!(77000.2));
    assert_eq!(forecast["total"]["won_amount"], json!(20000.0));

    let everyone = ok(app
        .get(
            "/api/v1/pipeline/forecast?from=2026-11&to=2026-11",
            &app.admin_token,
        )
        .await);
    assert_eq!(everyone["items"][0]["open_amount"], json!(1150000.0));
    let only_other = ok(app
        .get(
            &format!(
                "/api/v1/pipeline/forecast?from=2026-11&to=2026-11&owner_id={}",
                other.id
            ),
            &app.admin_token,
        )
        .await);
    assert_eq!(only_other["items"][0]["open_amount"], json!(1000000.0));

    let default = ok(app.get("/api/v1/pipeline/forecast", t).await);
    assert_eq!(
        (&default["from"], &default["to"]),
        (&json!("2026-11"), &json!("2027-04"))
    );

    for (query, field) in [
        ("from=November", "from"),
        ("from=2027-01&to=2026-11", "to"),
        ("from=2020-01&to=2030-01", "to"),
        ("owner=1", "owner"),
    ] {
        let reply = app
            .get(&format!("/api/v1/pipeline/forecast?{query}"), t)
            .await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
}

async fn the_board_sums_deals_per_stage(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let t = &rep.token;
    deal(
        &app,
        t,
        json!({"name": "a", "amount": 1000, "stage": "proposal"}),
    )
    .await;
    deal(
        &app,
        t,
        json!({"name": "b", "amount": 500, "stage": "proposal"}),
    )
    .await;
    deal(&app, t, json!({"name": "c", "stage": "met"})).await;
    deal(
        &app,
        &app.admin_token,
        json!({"name": "not mine", "amount": 7, "stage": "met"}),
    )
    .await;
    let board = ok(app.get("/api/v1/pipeline/board", t).await);
    let columns = board["items"].as_array().unwrap();
    assert_eq!(columns.len(), 9, "every active stage is a column");
    let column = |code: &str| columns.iter().find(|c| c["code"] == code).unwrap().clone();
    let proposal = column("proposal");
    assert_eq!(
        (
            &proposal["count"],
            &proposal["amount"],
            &proposal["weighted_amount"]
        ),
        (&json!(2), &json!(1500.0), &json!(900.0))
    );
    assert_eq!(
        (&column("met")["count"], &column("met")["amount"]),
        (&json!(1), &json!(0.0))
    );
    assert_eq!(column("paid")["count"], 0);
    app.get("/api/v1/pipeline/board?stage=met", t)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

async fn rfm_scores_accounts_from_their_won_deals_and_flags_a_class(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let t = &rep.token;
    let account = |name: &'static str| {
        let app = &app;
        async move { created(app.post("/api/v1/accounts", t, json!({"name": name})).await).await }
    };
    let big = account("大客户").await;
    let small = account("小客户").await;
    let none = account("还没成交").await;
    let elsewhere = created(
        app.post(
            "/api/v1/accounts",
            &app.admin_token,
            json!({"name": "别人的"}),
        )
        .await,
    )
    .await;

    // 小客户 won once, 400 days ago; 大客户 ten times, the last ten days ago.
    let now = app.clock_now();
    app.clock.set(now - chrono::Duration::days(400));
    deal(
        &app,
        t,
        json!({"name": "s", "account_id": id(&small), "amount": 30000, "stage": "paid"}),
    )
    .await;
    app.clock.set(now - chrono::Duration::days(10));
    for n in 0..10 {
        deal(&app, t, json!({"name": format!("b{n}"), "account_id": id(&big), "amount": 100000, "stage": "paid"})).await;
    }
    deal(
        &app,
        t,
        json!({"name": "open", "account_id": id(&none), "amount": 5000000}),
    )
    .await;
    deal(
        &app,
        &app.admin_token,
        json!({"name": "x", "account_id": id(&elsewhere), "amount": 1, "stage": "paid"}),
    )
    .await;
    app.clock.set(now);

    let rfm = ok(app
        .get(&format!("/api/v1/accounts/{}/rfm", id(&big)), t)
        .await);
    assert_eq!(
        (&rfm["recency_days"], &rfm["frequency"], &rfm["monetary"]),
        (&json!(10), &json!(10), &json!(1000000.0))
    );
    assert_eq!(
        (
            &rfm["recency_score"],
            &rfm["frequency_score"],
            &rfm["monetary_score"],
            &rfm["class"],
            &rfm["a_class"]
        ),
        (&json!(5), &json!(5), &json!(5), &json!("A"), &json!(true))
    );
    let rfm = ok(app
        .get(&format!("/api/v1/accounts/{}/rfm", id(&small)), t)
        .await);
    assert_eq!(
        (
            &rfm["recency_days"],
            &rfm["recency_score"],
            &rfm["frequency_score"],
            &rfm["monetary_score"],
            &rfm["class"]
        ),
        (&json!(400), &json!(1), &json!(1), &json!(2), &json!("C"))
    );
    let rfm = ok(app
        .get(&format!("/api/v1/accounts/{}/rfm", id(&none)), t)
        .await);
    assert_eq!(
        (&rfm["frequency"], &rfm["class"], &rfm["a_class"]),
        (&json!(0), &Value::Null, &json!(false))
    );
    app.get(&format!("/api/v1/accounts/{}/rfm", id(&elsewhere)), t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    let report = ok(app.get("/api/v1/reports/rfm", t).await);
    let ids: Vec<i64> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["account_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![id(&big), id(&small)],
        "best first, only accounts with won deals in scope"
    );
    assert_eq!(report["counts"], json!({"A": 1, "B": 0, "C": 1}));
    let a_class = ok(app.get("/api/v1/reports/rfm?class=A", t).await);
    assert_eq!(a_class["items"][0]["account_name"], "大客户");
    assert_eq!(a_class["total"], 1);
    let page2 = ok(app.get("/api/v1/reports/rfm?limit=1&page=2", t).await);
    assert_eq!(page2["items"][0]["account_id"], id(&small));
    assert_eq!(
        ok(app.get("/api/v1/reports/rfm", &app.admin_token).await)["total"],
        3
    );
    app.get("/api/v1/reports/rfm?class=D", t)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    // Deleting, restoring and reopening won deals count at once.
    let big_deals = app
        .get(&format!("/api/v1/opportunities?account_id={}", id(&big)), t)
        .await
        .ids();
    let first = format!("/api/v1/opportunities/{}", big_deals[0]);
    app.call(Method::DELETE, &first, t, None).await;
    let rfm = ok(app
        .get(&format!("/api/v1/accounts/{}/rfm", id(&big)), t)
        .await);
    assert_eq!(
        (&rfm["frequency"], &rfm["monetary"]),
        (&json!(9), &json!(900000.0))
    );
    ok(app.post(&format!("{first}/restore"), t, json!({})).await);
    let rfm = ok(app
        .get(&format!("/api/v1/accounts/{}/rfm", id(&big)), t)
        .await);
    assert_eq!(rfm["frequency"], 10);
    let won = ok(app
        .get(
            &format!("/api/v1/opportunities?account_id={}", id(&small)),
            t,
        )
        .await);
    let small_deal = won["items"][0]["id"].as_i64().unwrap();
    ok(app
        .patch(
            &format!("/api/v1/opportunities/{small_deal}"),
            t,
            json!({"stage": "acceptance"}),
        )
        .await);
    assert_eq!(
        ok(app
            .get(&format!("/api/v1/accounts/{}/rfm", id(&small)), t)
            .await)["class"],
        Value::Null
    );
}

async fn a_handover_moves_every_record_to_the_new_owner_with_history(app: TestApp) {
    let team = app.team("华东一组", None).await;
    let manager = app.user("manager", Role::Manager, Some(team)).await;
    let leaving = app.user("leaving", Role::Rep, Some(team)).await;
    let taking = app.user("taking", Role::Rep, Some(team)).await;
    let l = &leaving.token;
    let lead = app.lead(l, json!({"name": "王芳"})).await;
    app.lead(l, json!({"name": "李娜"})).await;
    let account = created(
        app.post("/api/v1/accounts", l, json!({"name": "云栖科技"}))
            .await,
    )
    .await;
    created(
        app.post(
            "/api/v1/contacts",
            l,
            json!({"name": "陈静", "account_id": id(&account)}),
        )
        .await,
    )
    .await;
    deal(&app, l, json!({"name": "CRM", "account_id": id(&account)})).await;
    let binned = app.lead(l, json!({"name": "已删除"})).await;
    app.call(
        Method::DELETE,
        &format!("/api/v1/leads/{}", id(&binned)),
        l,
        None,
    )
    .await;
    app.lead(&taking.token, json!({"name": "自己的"})).await;

    app.clock.advance(chrono::Duration::hours(1));
    let leads_only = ok(app
        .post(
            &format!("/api/v1/users/{}/handover", leaving.id),
            &manager.token,
            json!({"to_user_id": taking.id, "record_types": ["lead"]}),
        )
        .await);
    assert_eq!(leads_only["counts"], json!({"lead": 3}));
    assert_eq!(
        app.get("/api/v1/accounts", l).await.ids().len(),
        1,
        "accounts stay"
    );

    let rest = ok(app
        .post(
            &format!("/api/v1/users/{}/handover", leaving.id),
            &manager.token,
            json!({"to_user_id": taking.id}),
        )
        .await);
    assert_eq!(
        rest["counts"],
        json!({"lead": 0, "account": 1, "contact": 1, "opportunity": 1})
    );
    assert_eq!(rest["total"], 3);
    for table in ["leads", "accounts", "contacts", "opportunities"] {
        assert!(
            app.get(&format!("/api/v1/{table}"), l)
                .await
                .ids()
                .is_empty(),
            "{table}"
        );
    }
    assert_eq!(app.get("/api/v1/leads", &taking.token).await.ids().len(), 3);
    let moved = ok(app
        .get(&format!("/api/v1/leads/{}", id(&lead)), &taking.token)
        .await);
    assert_eq!(moved["owner_id"], taking.id);
    assert_eq!(
        moved["assigned_at"], "2026-11-02T10:00:00.000Z",
        "timers restart"
    );
    assert_eq!(
        app.get("/api/v1/leads?deleted=true", &taking.token)
            .await
            .ids(),
        vec![id(&binned)],
        "deleted records move too, so that a restore gives them to the new owner"
    );
    let entries = history(&app, &format!("/api/v1/leads/{}", id(&lead))).await;
    let change = entries
        .iter()
        .find(|e| e["field"] == "owner_id")
        .expect("an owner change");
    assert_eq!(
        (
            &change["old_value"],
            &change["new_value"],
            &change["channel"],
            &change["actor"]
        ),
        (
            &json!(leaving.id),
            &json!(taking.id),
            &json!("api"),
            &json!("manager")
        )
    );
    let notes = ok(app.get("/api/v1/notifications", &taking.token).await);
    assert_eq!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "records.handed_over")
            .count(),
        2
    );
}

async fn a_handover_is_refused_outside_the_rules(app: TestApp) {
    let east = app.team("华东", None).await;
    let north = app.team("华北", None).await;
    let manager = app.user("manager", Role::Manager, Some(east)).await;
    let rep = app.user("rep", Role::Rep, Some(east)).await;
    let peer = app.user("peer", Role::Rep, Some(east)).await;
    let far = app.user("far", Role::Rep, Some(north)).await;
    app.lead(&rep.token, json!({"name": "王芳"})).await;
    let handover = |from: i64| format!("/api/v1/users/{from}/handover");

    app.post(
        &handover(rep.id),
        &peer.token,
        json!({"to_user_id": peer.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.post(
        &handover(rep.id),
        &manager.token,
        json!({"to_user_id": far.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.post(
        &handover(far.id),
        &manager.token,
        json!({"to_user_id": rep.id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.post(
        &handover(999_999),
        &manager.token,
        json!({"to_user_id": rep.id}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    for (body, field) in [
        (json!({"to_user_id": rep.id}), "to_user_id"),
        (json!({"to_user_id": 999_999}), "to_user_id"),
        (json!({}), "to_user_id"),
        (
            json!({"to_user_id": peer.id, "record_types": ["deal"]}),
            "record_types",
        ),
        (
            json!({"to_user_id": peer.id, "record_types": []}),
            "record_types",
        ),
        (
            json!({"to_user_id": peer.id, "record_types": [7]}),
            "record_types[0]",
        ),
        (json!({"to_user_id": peer.id, "keep": true}), "keep"),
    ] {
        let reply = app.post(&handover(rep.id), &manager.token, body).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field, "{}", reply.body);
    }
    assert_eq!(
        app.get("/api/v1/leads", &rep.token).await.ids().len(),
        1,
        "nothing moved"
    );
    // An admin may hand over across teams.
    let moved = ok(app
        .post(
            &handover(rep.id),
            &app.admin_token,
            json!({"to_user_id": far.id}),
        )
        .await);
    assert_eq!(moved["counts"]["lead"], 1);
}
