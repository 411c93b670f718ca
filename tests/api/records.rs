//! Records through the API: leads, accounts, contacts and opportunities — create, read,
//! change, delete and restore, lists with filters, search and paging, custom fields,
//! activities (changed only by their author, whatever the body another caller sends) and the
//! audit history.

use crate::on_both_databases;
use crate::support::TestApp;
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;
use xiansuo_core::role::Role;

on_both_databases!(
    a_lead_is_created_with_its_phone_and_email_normalised_and_read_back,
    every_change_is_in_the_history_with_who_when_and_channel,
    search_finds_two_character_chinese_names_phone_fragments_and_companies,
    filters_narrow_the_list,
    paging_with_cursors_visits_every_lead_once_in_order,
    deleted_leads_disappear_and_can_be_restored,
    custom_fields_are_validated_stored_and_filterable,
    a_follow_up_moves_a_new_lead_to_working_and_shows_in_the_history,
    a_follow_up_is_refused_to_others_whatever_the_body_and_an_unknown_field_is_named,
    accounts_contacts_and_opportunities_link_to_each_other,
    concurrent_creates_each_get_their_own_record_history_and_search_entry,
    a_fragment_matching_thousands_of_leads_still_lists_them_newest_first,
);

async fn a_lead_is_created_with_its_phone_and_email_normalised_and_read_back(app: TestApp) {
    let t = &app.admin_token;
    let lead = app
        .lead(t, json!({"name": "张伟", "company": "上海恒远信息科技有限公司", "phone": "+86 138-0013-8000", "email": "Zhang.Wei@Example.COM", "title": "采购经理", "tags": ["展会2026", "展会2026"]}))
        .await;
    assert_eq!(lead["phone"], "+86 138-0013-8000");
    assert_eq!(lead["phone_normalized"], "+8613800138000");
    assert_eq!(lead["email_normalized"], "zhang.wei@example.com");
    assert_eq!(lead["status"], "new");
    assert_eq!(
        lead["source"], "api",
        "the API channel is the default source"
    );
    assert_eq!(lead["tags"], json!(["展会2026"]));
    assert_eq!(lead["score"], 0);
    let admin_id = app.get("/api/v1/me", t).await.body["id"].clone();
    assert_eq!(
        lead["owner_id"], admin_id,
        "the creator owns what they create"
    );

    let id = lead["id"].as_i64().unwrap();
    let read = app.get(&format!("/api/v1/leads/{id}"), t).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, lead);

    let changed = app
        .patch(
            &format!("/api/v1/leads/{id}"),
            t,
            json!({"title": null, "grade": "B", "phone": "13912345678"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["title"], json!(null));
    assert_eq!(changed.body["grade"], "B");
    assert_eq!(changed.body["phone_normalized"], "+8613912345678");
    assert_eq!(
        changed.body["company"], lead["company"],
        "fields not sent stay as they were"
    );
}

async fn every_change_is_in_the_history_with_who_when_and_channel(app: TestApp) {
    let t = &app.admin_token;
    let id = app
        .lead(t, json!({"name": "李娜", "company": "杭州云栖科技"}))
        .await["id"]
        .as_i64()
        .unwrap();
    app.clock.advance(Duration::minutes(5));
    app.patch(
        &format!("/api/v1/leads/{id}"),
        t,
        json!({"company": "杭州云栖科技有限公司", "status": "working"}),
    )
    .await;
    app.patch(
        &format!("/api/v1/leads/{id}"),
        t,
        json!({"status": "working"}),
    )
    .await;

    let history = app.get(&format!("/api/v1/leads/{id}/history"), t).await;
    assert_eq!(history.status, StatusCode::OK);
    let items = history.body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        3,
        "a create and two field changes; a no-op PATCH records nothing: {}",
        history.body
    );
    assert_eq!(items[0]["action"], "create");
    assert_eq!(items[0]["new_value"]["name"], "李娜");
    assert_eq!(items[0]["at"], "2026-11-02T09:00:00.000Z");
    let company = items.iter().find(|i| i["field"] == "company").unwrap();
    assert_eq!(company["old_value"], "杭州云栖科技");
    assert_eq!(company["new_value"], "杭州云栖科技有限公司");
    assert_eq!(company["actor"], "admin");
    assert_eq!(company["channel"], "api");
    assert_eq!(company["at"], "2026-11-02T09:05:00.000Z");
    let status = items.iter().find(|i| i["field"] == "status").unwrap();
    assert_eq!(
        (status["old_value"].as_str(), status["new_value"].as_str()),
        (Some("new"), Some("working"))
    );
}

async fn search_finds_two_character_chinese_names_phone_fragments_and_companies(app: TestApp) {
    let t = &app.admin_token;
    let zhang = app
        .lead(
            t,
            json!({"name": "张伟", "company": "北京华信科技有限公司", "phone": "138 0013 8000"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let wang = app
        .lead(
            t,
            json!({"name": "王张伟明", "company": "深圳恒远电子", "phone": "+86 139-1234-5678"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let li = app
        .lead(
            t,
            json!({"name": "Li Lei", "company": "Acme Inc.", "email": "li.lei@acme.com"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();

    let mut by_name = app.get("/api/v1/leads?q=张伟", t).await.ids();
    by_name.sort();
    assert_eq!(by_name, vec![zhang, wang]);
    assert_eq!(
        app.get("/api/v1/leads?q=0013", t).await.ids(),
        vec![zhang],
        "phone fragment"
    );
    assert_eq!(
        app.get("/api/v1/leads?q=139-1234", t).await.ids(),
        vec![wang],
        "phone fragment with a dash"
    );
    assert_eq!(
        app.get("/api/v1/leads?q=恒远", t).await.ids(),
        vec![wang],
        "company fragment"
    );
    assert_eq!(
        app.get("/api/v1/leads?q=acme", t).await.ids(),
        vec![li],
        "case-insensitive latin"
    );
    assert_eq!(
        app.get("/api/v1/leads?q=100%25", t).await.ids(),
        Vec::<i64>::new(),
        "% is a character, not a wildcard"
    );
}

async fn filters_narrow_the_list(app: TestApp) {
    let t = &app.admin_token;
    let a = app.lead(t, json!({"name": "甲", "status": "working", "grade": "A", "source": "event", "score": 80, "tags": ["vip", "展会"]})).await["id"].as_i64().unwrap();
    app.clock.advance(Duration::days(2));
    let b = app.lead(t, json!({"name": "乙", "status": "nurturing", "grade": "C", "source": "referral", "score": 20, "province": "广东"})).await["id"].as_i64().unwrap();
    let c = app.lead(t, json!({"name": "丙", "status": "working", "source": "event", "score": 50, "tags": ["展会"]})).await["id"].as_i64().unwrap();

    assert_eq!(
        app.get("/api/v1/leads?status=working&sort=created_at", t)
            .await
            .ids(),
        vec![a, c]
    );
    assert_eq!(
        app.get("/api/v1/leads?status=working,nurturing&sort=id", t)
            .await
            .ids(),
        vec![a, b, c]
    );
    assert_eq!(app.get("/api/v1/leads?grade=A", t).await.ids(), vec![a]);
    assert_eq!(
        app.get("/api/v1/leads?source=referral", t).await.ids(),
        vec![b]
    );
    assert_eq!(
        app.get("/api/v1/leads?score=50..", t).await.ids(),
        vec![c, a]
    );
    assert_eq!(
        app.get("/api/v1/leads?sort=-score", t).await.ids(),
        vec![a, c, b]
    );
    assert_eq!(
        app.get("/api/v1/leads?tags=vip&sort=id", t).await.ids(),
        vec![a]
    );
    assert_eq!(
        app.get("/api/v1/leads?tags=展会&sort=id", t).await.ids(),
        vec![a, c]
    );
    assert_eq!(
        app.get("/api/v1/leads?province=广东", t).await.ids(),
        vec![b]
    );
    assert_eq!(
        app.get("/api/v1/leads?created_to=2026-11-02&sort=id", t)
            .await
            .ids(),
        vec![a]
    );
    assert_eq!(
        app.get("/api/v1/leads?created_from=2026-11-04T00:00:00Z&sort=id", t)
            .await
            .ids(),
        vec![b, c]
    );
}

async fn paging_with_cursors_visits_every_lead_once_in_order(app: TestApp) {
    let t = &app.admin_token;
    let mut created = Vec::new();
    for (i, name) in ["赵", "钱", "孙", "李", "周", "吴", "郑"]
        .iter()
        .enumerate()
    {
        // Two leads share each instant, so the id must break ties.
        if i % 2 == 0 {
            app.clock.advance(Duration::seconds(1));
        }
        created.push(
            app.lead(t, json!({"name": name})).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    for sort in ["-created_at", "created_at", "name", "-name", "id"] {
        let mut seen = Vec::new();
        let mut path = format!("/api/v1/leads?limit=3&sort={sort}");
        loop {
            let page = app.get(&path, t).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            assert!(page.ids().len() <= 3);
            seen.extend(page.ids());
            match page.body["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/leads?limit=3&sort={sort}&cursor={cursor}"),
                None => break,
            }
        }
        let mut expected = created.clone();
        match sort {
            "-created_at" => expected.reverse(),
            "name" | "-name" => {
                let all = app
                    .get(&format!("/api/v1/leads?limit=100&sort={sort}"), t)
                    .await
                    .ids();
                expected = all;
            }
            _ => {}
        }
        assert_eq!(seen, expected, "sort {sort}");
    }
}

async fn deleted_leads_disappear_and_can_be_restored(app: TestApp) {
    let t = &app.admin_token;
    let id = app.lead(t, json!({"name": "孙丽"})).await["id"]
        .as_i64()
        .unwrap();
    let deleted = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/leads/{id}"),
            t,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&format!("/api/v1/leads/{id}"), t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(app.get("/api/v1/leads", t).await.ids().is_empty());
    assert_eq!(
        app.get("/api/v1/leads?deleted=true", t).await.ids(),
        vec![id]
    );
    app.patch(&format!("/api/v1/leads/{id}"), t, json!({"name": "x"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    let restored = app
        .post(&format!("/api/v1/leads/{id}/restore"), t, json!({}))
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    assert_eq!(restored.body["deleted_at"], json!(null));
    assert_eq!(app.get("/api/v1/leads", t).await.ids(), vec![id]);
    let actions: Vec<_> = app
        .get(&format!("/api/v1/leads/{id}/history"), t)
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["create", "delete", "restore"]);
}

async fn custom_fields_are_validated_stored_and_filterable(app: TestApp) {
    let t = &app.admin_token;
    // A lead written first: the definitions added next must apply at once all the same.
    app.lead(t, json!({"name": "先到"})).await;
    for def in [
        json!({"object": "lead", "key": "budget", "label": "预算", "field_type": "number"}),
        json!({"object": "lead", "key": "products", "label": "意向产品", "field_type": "multi_select", "options": ["ERP", "CRM"]}),
        json!({"object": "lead", "key": "vip", "label": "VIP", "field_type": "boolean"}),
        json!({"object": "lead", "key": "visit_on", "label": "拜访日期", "field_type": "date"}),
    ] {
        let reply = app.post("/api/v1/custom-fields", t, def).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    app.post(
        "/api/v1/custom-fields",
        t,
        json!({"object": "lead", "key": "budget", "label": "again", "field_type": "text"}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    app.post(
        "/api/v1/custom-fields",
        t,
        json!({"object": "lead", "key": "tier", "label": "x", "field_type": "single_select"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    let a = app.lead(t, json!({"name": "甲", "custom": {"budget": 50000, "products": ["CRM"], "vip": true, "visit_on": "2026-12-01"}})).await;
    assert_eq!(
        a["custom"],
        json!({"budget": 50000, "products": ["CRM"], "vip": true, "visit_on": "2026-12-01"})
    );
    let b = app
        .lead(
            t,
            json!({"name": "乙", "custom": {"budget": 10.5, "products": ["ERP", "CRM"]}}),
        )
        .await;

    let bad = app
        .post(
            "/api/v1/leads",
            t,
            json!({"name": "丙", "custom": {"budget": "a lot"}}),
        )
        .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(bad.body["error"]["field"], "custom.budget");
    app.post(
        "/api/v1/leads",
        t,
        json!({"name": "丙", "custom": {"colour": "red"}}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(
        app.get("/api/v1/leads", t).await.ids().len(),
        3,
        "refused writes created nothing"
    );

    let (a, b) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    assert_eq!(
        app.get("/api/v1/leads?custom.budget=50000", t).await.ids(),
        vec![a]
    );
    assert_eq!(
        app.get("/api/v1/leads?custom.vip=true", t).await.ids(),
        vec![a]
    );
    assert_eq!(
        app.get("/api/v1/leads?custom.products=ERP", t).await.ids(),
        vec![b]
    );
    assert_eq!(
        app.get("/api/v1/leads?custom.visit_on=2026-12-01", t)
            .await
            .ids(),
        vec![a]
    );

    let patched = app
        .patch(
            &format!("/api/v1/leads/{b}"),
            t,
            json!({"custom": {"budget": null, "vip": false}}),
        )
        .await;
    assert_eq!(
        patched.body["custom"],
        json!({"products": ["ERP", "CRM"], "vip": false})
    );
    let history = app.get(&format!("/api/v1/leads/{b}/history"), t).await;
    let budget = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["field"] == "custom.budget")
        .unwrap()
        .clone();
    assert_eq!(
        (budget["old_value"].clone(), budget["new_value"].clone()),
        (json!(10.5), json!(null))
    );
}

async fn a_follow_up_moves_a_new_lead_to_working_and_shows_in_the_history(app: TestApp) {
    let t = &app.admin_token;
    let id = app.lead(t, json!({"name": "周杰"})).await["id"]
        .as_i64()
        .unwrap();
    let activity = app
        .post(
            &format!("/api/v1/leads/{id}/activities"),
            t,
            json!({"type": "call", "outcome": "call_back", "content": "客户下周再联系", "next_follow_up_at": "2026-11-09T10:00:00+08:00"}),
        )
        .await;
    assert_eq!(activity.status, StatusCode::CREATED, "{}", activity.body);
    assert_eq!(
        activity.body["next_follow_up_at"],
        "2026-11-09T02:00:00.000Z"
    );
    assert_eq!(
        app.get(&format!("/api/v1/leads/{id}"), t).await.body["status"],
        "working"
    );
    let list = app.get(&format!("/api/v1/leads/{id}/activities"), t).await;
    assert_eq!(list.ids(), vec![activity.body["id"].as_i64().unwrap()]);

    let activity_id = activity.body["id"].as_i64().unwrap();
    let changed = app
        .patch(
            &format!("/api/v1/activities/{activity_id}"),
            t,
            json!({"outcome": "visit_requested"}),
        )
        .await;
    assert_eq!(changed.body["outcome"], "visit_requested");
    app.post(
        &format!("/api/v1/leads/{id}/activities"),
        t,
        json!({"type": "fax"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.post(
        &format!("/api/v1/leads/{id}/activities"),
        t,
        json!({"outcome": "no_need"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    let history = app.get(&format!("/api/v1/leads/{id}/history"), t).await;
    let actions: Vec<_> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["action"].as_str().unwrap(), i["field"].as_str()))
        .collect();
    assert!(actions.contains(&("activity", None)), "{actions:?}");
    assert!(actions.contains(&("update", Some("status"))), "{actions:?}");
    assert!(
        actions.contains(&(
            "update",
            Some(format!("activity.{activity_id}.outcome").as_str())
        )),
        "{actions:?}"
    );
}

async fn a_follow_up_is_refused_to_others_whatever_the_body_and_an_unknown_field_is_named(
    app: TestApp,
) {
    let team = app.team("华南一组", None).await;
    let manager = app.user("manager", Role::Manager, Some(team)).await;
    let author = app.user("author", Role::Rep, Some(team)).await;
    let other = app.user("other", Role::Rep, Some(team)).await;
    let lead = app.lead(&author.token, json!({"name": "孙丽"})).await;
    let logged = app
        .post(
            &format!("/api/v1/leads/{}/activities", lead["id"]),
            &author.token,
            json!({"type": "call", "content": "约了周三拜访"}),
        )
        .await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.body);
    let path = format!("/api/v1/activities/{}", logged.body["id"]);
    for body in [
        json!({"colour": "red"}),
        json!({"type": 7}),
        json!(["content"]),
        json!(null),
    ] {
        // Another rep does not see the lead, so the follow-up does not exist for them.
        app.patch(&path, &other.token, body.clone())
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        // Their manager sees it, but only its author or an admin may change it.
        app.patch(&path, &manager.token, body)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }

    let unknown = app
        .patch(
            &path,
            &author.token,
            json!({"content": "改约周四", "colour": "red"}),
        )
        .await;
    unknown.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(unknown.body["error"]["field"], "colour", "{}", unknown.body);
    let message = unknown.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("type, outcome, content, next_follow_up_at"),
        "the accepted fields are named: {message}"
    );
    let unchanged = app.get(&path, &author.token).await;
    assert_eq!(
        unchanged.body["content"], "约了周三拜访",
        "nothing changed: {}",
        unchanged.body
    );
}

async fn accounts_contacts_and_opportunities_link_to_each_other(app: TestApp) {
    let t = &app.admin_token;
    let account = app.post("/api/v1/accounts", t, json!({"name": "上海恒远信息科技有限公司", "industry": "软件", "phone": "021-6888 8888"})).await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.body);
    let account_id = account.body["id"].as_i64().unwrap();
    let contact = app
        .post(
            "/api/v1/contacts",
            t,
            json!({"name": "陈静", "account_id": account_id, "email": "chen@hengyuan.cn"}),
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);
    let opportunity = app
        .post(
            "/api/v1/opportunities",
            t,
            json!({"name": "CRM 项目", "account_id": account_id, "contact_id": contact.body["id"], "amount": 128000.5, "expected_close_date": "2027-01-15"}),
        )
        .await;
    assert_eq!(
        opportunity.status,
        StatusCode::CREATED,
        "{}",
        opportunity.body
    );
    assert_eq!(
        opportunity.body["stage"], "met",
        "the first pipeline stage is the default"
    );
    assert_eq!(opportunity.body["amount"], json!(128000.5));
    let id = opportunity.body["id"].as_i64().unwrap();
    let moved = app
        .patch(
            &format!("/api/v1/opportunities/{id}"),
            t,
            json!({"stage": "proposal", "amount": 99999.99}),
        )
        .await;
    assert_eq!(
        (moved.body["stage"].as_str(), moved.body["amount"].as_f64()),
        (Some("proposal"), Some(99999.99))
    );

    assert_eq!(
        app.get(&format!("/api/v1/contacts?account_id={account_id}"), t)
            .await
            .ids(),
        vec![contact.body["id"].as_i64().unwrap()]
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/opportunities?account_id={account_id}&stage=proposal"),
            t
        )
        .await
        .ids(),
        vec![id]
    );
    app.post(
        "/api/v1/contacts",
        t,
        json!({"name": "x", "account_id": 999_999}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.patch(
        &format!("/api/v1/opportunities/{id}"),
        t,
        json!({"stage": "won_big"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.patch(
        &format!("/api/v1/opportunities/{id}"),
        t,
        json!({"amount": 1.234}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let note = app
        .post(
            &format!("/api/v1/accounts/{account_id}/activities"),
            t,
            json!({"type": "visit", "content": "上门拜访"}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{account_id}/history"), t)
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn concurrent_creates_each_get_their_own_record_history_and_search_entry(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..64 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("并发{i:02}号");
            let reply = app
                .post("/api/v1/leads", &app.admin_token, json!({"name": name, "phone": format!("1390000{i:04}"), "company": if i % 2 == 0 { json!("偶数公司") } else { json!(null) }}))
                .await;
            (name, reply)
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let (name, reply) = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(
            reply.body["name"],
            name.as_str(),
            "each request gets its own record back"
        );
        let id = reply.body["id"].as_i64().unwrap();
        let history = app
            .get(&format!("/api/v1/leads/{id}/history"), &app.admin_token)
            .await;
        assert_eq!(history.body["items"][0]["new_value"]["name"], name.as_str());
        assert_eq!(
            app.get(&format!("/api/v1/leads?q={name}"), &app.admin_token)
                .await
                .ids(),
            vec![id]
        );
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 64);
    assert_eq!(
        app.get("/api/v1/leads?q=0000&limit=100", &app.admin_token)
            .await
            .ids()
            .len(),
        64,
        "phones are searchable"
    );
}

async fn a_fragment_matching_thousands_of_leads_still_lists_them_newest_first(app: TestApp) {
    let demo = std::process::Command::new(env!("CARGO_BIN_EXE_xiansuo"))
        .args([
            "--database-url",
            &app.database_url().await,
            "demo",
            "--leads",
            "6000",
        ])
        .env_remove("XIANSUO_DATABASE_URL")
        .output()
        .expect("the binary runs");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    // Common enough that the search walks the list's order instead of looking up ids.
    let all = app.db.fetch_all("SELECT id, created_at FROM leads WHERE name LIKE '%公司%' OR company LIKE '%公司%' ORDER BY created_at DESC, id DESC", &[]).await.unwrap();
    assert!(all.len() > 2_000, "{} matches", all.len());
    let expected: Vec<i64> = all.iter().take(100).map(|r| r.int("id")).collect();
    let first = app
        .get("/api/v1/leads?q=公司&limit=100", &app.admin_token)
        .await;
    assert_eq!(first.ids(), expected);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(
            &format!("/api/v1/leads?q=公司&limit=100&cursor={cursor}"),
            &app.admin_token,
        )
        .await;
    let expected: Vec<i64> = all
        .iter()
        .skip(100)
        .take(100)
        .map(|r| r.int("id"))
        .collect();
    assert_eq!(second.ids(), expected);
}
