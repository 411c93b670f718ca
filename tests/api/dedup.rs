//! Duplicates: a lead's duplicates (`GET /api/v1/leads/{id}/duplicates`) by phone in any format,
//! email in any case, or the same person at the same company, against leads, contacts and
//! accounts, only as far as the caller may see; the dedup policy per source, set by admins only
//! (anyone else is refused whatever the body says), applied on every create — block (409 with
//! the candidates, and for leads held by colleagues only who holds them), warn (created and
//! flagged), merge (the new data goes into the existing lead) — and on changes of phone or
//! email; a merge body naming a field it does not take; the same matching in an import; and the
//! duplicate scan.

use crate::on_both_databases;
use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_app::jobs::{self, JobEnv};
use xiansuo_core::clock::to_millis;
use xiansuo_core::role::Role;
use xiansuo_store::Param;

on_both_databases!(
    the_same_phone_in_another_format_is_a_duplicate,
    the_same_email_in_another_case_is_a_duplicate,
    the_same_person_at_the_same_company_is_a_duplicate_and_a_colleague_is_only_the_same_company,
    changing_the_company_changes_what_it_matches,
    deleted_leads_and_the_lead_itself_are_not_duplicates,
    contacts_and_accounts_are_checked_too,
    a_rep_sees_only_duplicates_within_their_scope,
    an_unknown_or_unseen_lead_is_not_found,
    admins_set_the_policy_per_source,
    a_rep_is_refused_whatever_the_body_and_an_unknown_merge_field_is_named,
    block_refuses_a_duplicate_and_names_only_the_holder_of_a_colleagues_lead,
    warn_creates_the_lead_flagged_and_the_flag_can_be_dismissed,
    merge_puts_the_new_data_into_the_existing_lead,
    a_change_of_phone_is_checked_against_the_policy,
    an_import_merges_rows_into_the_leads_they_duplicate,
    the_scan_groups_duplicates_across_the_base,
);

fn id(lead: &Value) -> i64 {
    lead["id"].as_i64().expect("a lead id")
}

async fn duplicates(app: &TestApp, token: &str, lead: i64) -> Value {
    let reply = app
        .get(&format!("/api/v1/leads/{lead}/duplicates"), token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list, got {list}"))
        .iter()
        .map(|i| i["id"].as_i64().expect("an id"))
        .collect()
}

async fn strong(app: &TestApp, token: &str, lead: i64) -> Vec<i64> {
    ids(&duplicates(app, token, lead).await["items"])
}

async fn set_policies(app: &TestApp, body: Value) {
    let reply = app
        .call(
            Method::PUT,
            "/api/v1/dedup/policies",
            &app.admin_token,
            Some(body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db
        .fetch_optional(sql, &[])
        .await
        .unwrap()
        .unwrap()
        .int("n")
}

async fn the_same_phone_in_another_format_is_a_duplicate(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(t, json!({"name": "张伟", "phone": "+86 138-0013-8000"}))
        .await;
    let second = app
        .lead(t, json!({"name": "张先生", "phone": "13800138000"}))
        .await;
    app.lead(t, json!({"name": "李娜", "phone": "13800138001"}))
        .await;
    assert_eq!(strong(&app, t, id(&first)).await, vec![id(&second)]);
    let found = duplicates(&app, t, id(&second)).await;
    assert_eq!(ids(&found["items"]), vec![id(&first)]);
    assert_eq!(found["items"][0]["signals"], json!(["phone"]));
}

async fn the_same_email_in_another_case_is_a_duplicate(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(t, json!({"name": "王芳", "email": "Wang.Fang@Example.COM"}))
        .await;
    let second = app
        .lead(
            t,
            json!({"name": "Fang Wang", "email": "wang.fang@example.com"}),
        )
        .await;
    app.lead(t, json!({"name": "王芳", "email": "wangfang@example.com"}))
        .await;
    assert_eq!(strong(&app, t, id(&first)).await, vec![id(&second)]);
}

async fn the_same_person_at_the_same_company_is_a_duplicate_and_a_colleague_is_only_the_same_company(
    app: TestApp,
) {
    let t = &app.admin_token;
    let first = app
        .lead(
            t,
            json!({"name": "张伟", "company": "上海恒远信息科技有限公司"}),
        )
        .await;
    assert_eq!(first["company_key"], "恒远信息科技");
    assert_eq!(first["person_key"], "张伟");
    let same_person = app
        .lead(
            t,
            json!({"name": "张 伟", "company": "恒远信息科技（上海）有限公司"}),
        )
        .await;
    let colleague = app
        .lead(t, json!({"name": "刘洋", "company": "恒远信息科技"}))
        .await;
    let other_company = app
        .lead(
            t,
            json!({"name": "张伟", "company": "上海恒远信息技术有限公司"}),
        )
        .await;
    let found = duplicates(&app, t, id(&first)).await;
    assert_eq!(ids(&found["items"]), vec![id(&same_person)]);
    assert_eq!(found["items"][0]["signals"], json!(["person_and_company"]));
    assert_eq!(
        ids(&found["same_company"]),
        vec![id(&colleague)],
        "a colleague at the same company is shown, not counted as a duplicate"
    );
    assert!(
        !ids(&found["same_company"]).contains(&id(&other_company)),
        "信息技术 is another company"
    );
    assert!(
        colleague["tags"].as_array().unwrap().is_empty(),
        "the same company alone does not flag a new lead: {colleague}"
    );
    assert_eq!(
        same_person["tags"],
        json!(["possible_duplicate"]),
        "the same person at the same company does"
    );
}

async fn changing_the_company_changes_what_it_matches(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(
            t,
            json!({"name": "张伟", "company": "杭州云帆网络科技有限公司"}),
        )
        .await;
    let second = app
        .lead(
            t,
            json!({"name": "张伟", "company": "深圳华信通讯有限公司"}),
        )
        .await;
    assert!(strong(&app, t, id(&first)).await.is_empty());

    let changed = app
        .patch(
            &format!("/api/v1/leads/{}", id(&second)),
            t,
            json!({"company": "云帆网络科技（浙江）有限公司"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["company_key"], "云帆网络科技");
    assert_eq!(strong(&app, t, id(&first)).await, vec![id(&second)]);

    let cleared = app
        .patch(
            &format!("/api/v1/leads/{}", id(&second)),
            t,
            json!({"company": null}),
        )
        .await;
    assert_eq!(cleared.body["company_key"], json!(null));
    assert!(strong(&app, t, id(&first)).await.is_empty());
}

async fn deleted_leads_and_the_lead_itself_are_not_duplicates(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(t, json!({"name": "张伟", "phone": "13800138000"}))
        .await;
    let second = app
        .lead(t, json!({"name": "张伟", "phone": "138 0013 8000"}))
        .await;
    let reply = app
        .call(
            Method::DELETE,
            &format!("/api/v1/leads/{}", id(&second)),
            t,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(strong(&app, t, id(&first)).await.is_empty());
}

async fn contacts_and_accounts_are_checked_too(app: TestApp) {
    let t = &app.admin_token;
    let account = app
        .post(
            "/api/v1/accounts",
            t,
            json!({"name": "北京星辰科技有限公司", "phone": "010-6552 9988"}),
        )
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.body);
    let contact = app
        .post(
            "/api/v1/contacts",
            t,
            json!({"name": "陈晓明", "email": "chen@xingchen.cn", "account_id": id(&account.body)}),
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);
    assert_eq!(contact.body["person_key"], "陈晓明");

    let by_email = app
        .lead(t, json!({"name": "Chen", "email": "CHEN@xingchen.cn"}))
        .await;
    let by_name = app
        .lead(t, json!({"name": "陈晓明", "company": "星辰科技"}))
        .await;
    let by_phone = app
        .lead(t, json!({"name": "前台", "phone": "+86 10 6552 9988"}))
        .await;
    let colleague = app
        .lead(t, json!({"name": "李娜", "company": "北京星辰科技"}))
        .await;

    let found = duplicates(&app, t, id(&by_email)).await;
    assert_eq!(ids(&found["contacts"]), vec![id(&contact.body)]);
    assert_eq!(found["contacts"][0]["signals"], json!(["email"]));
    let found = duplicates(&app, t, id(&by_name)).await;
    assert_eq!(
        ids(&found["contacts"]),
        vec![id(&contact.body)],
        "the contact's company is its account's"
    );
    assert_eq!(
        ids(&found["same_company"]),
        vec![id(&account.body), id(&colleague)]
    );
    let found = duplicates(&app, t, id(&by_phone)).await;
    assert_eq!(ids(&found["accounts"]), vec![id(&account.body)]);
    assert_eq!(
        by_phone["tags"],
        json!(["possible_duplicate"]),
        "a match with an account flags a new lead"
    );
    assert_eq!(by_phone["duplicate_of"], json!(null), "no lead matched");
}

async fn a_rep_sees_only_duplicates_within_their_scope(app: TestApp) {
    let team = app.team("上海一组", None).await;
    let rep = app.user("rep_sh", Role::Rep, Some(team)).await;
    let colleague = app.user("rep_sh2", Role::Rep, Some(team)).await;
    let mine = app
        .lead(&rep.token, json!({"name": "张伟", "phone": "13800138000"}))
        .await;
    let also_mine = app
        .lead(&rep.token, json!({"name": "张伟", "phone": "13800138000"}))
        .await;
    let theirs = app
        .lead(
            &colleague.token,
            json!({"name": "张伟", "phone": "13800138000"}),
        )
        .await;
    let found = duplicates(&app, &rep.token, id(&mine)).await;
    assert_eq!(
        ids(&found["items"]),
        vec![id(&also_mine)],
        "the colleague's lead is outside the rep's scope"
    );
    assert_eq!(found["held_by_others"][0]["owner"]["username"], "rep_sh2");
    assert!(found["held_by_others"][0].get("record").is_none());
    assert_eq!(
        strong(&app, &app.admin_token, id(&mine)).await,
        vec![id(&also_mine), id(&theirs)],
        "the admin sees every duplicate"
    );
}

async fn an_unknown_or_unseen_lead_is_not_found(app: TestApp) {
    app.get("/api/v1/leads/999999/duplicates", &app.admin_token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let rep = app.user("rep", Role::Rep, None).await;
    let admins = app
        .lead(
            &app.admin_token,
            json!({"name": "张伟", "phone": "13800138000"}),
        )
        .await;
    app.get(
        &format!("/api/v1/leads/{}/duplicates", id(&admins)),
        &rep.token,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn admins_set_the_policy_per_source(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let defaults = app.get("/api/v1/dedup/policies", &rep.token).await;
    assert_eq!(defaults.status, StatusCode::OK, "{}", defaults.body);
    assert_eq!(defaults.body["*"], "warn");
    assert_eq!(defaults.body["web_form"], "merge");
    assert_eq!(defaults.body["api"], "warn");

    app.call(
        Method::PUT,
        "/api/v1/dedup/policies",
        &rep.token,
        Some(json!({"api": "block"})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    for (body, field) in [
        (json!({"api": "skip"}), "api"),
        (json!({"api": 1}), "api"),
        (json!({"Web Form": "block"}), "Web Form"),
        (json!(["api"]), "body"),
    ] {
        let reply = app
            .call(
                Method::PUT,
                "/api/v1/dedup/policies",
                &app.admin_token,
                Some(body),
            )
            .await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(reply.body["error"]["field"], field);
    }
    set_policies(
        &app,
        json!({"api": "block", "*": "merge", "trade_show_2026": "warn"}),
    )
    .await;
    let set = app.get("/api/v1/dedup/policies", &rep.token).await.body;
    assert_eq!(set["api"], "block");
    assert_eq!(set["*"], "merge");
    assert_eq!(set["referral"], "merge", "sources not set follow *");
    assert_eq!(set["trade_show_2026"], "warn");
    assert_eq!(set["web_form"], "merge");

    set_policies(&app, json!({"api": null, "*": null})).await;
    let reset = app.get("/api/v1/dedup/policies", &rep.token).await.body;
    assert_eq!(reset["api"], "warn", "null brings back the default");
    assert_eq!(reset["*"], "warn");
    assert_eq!(reset["trade_show_2026"], "warn");
}

async fn a_rep_is_refused_whatever_the_body_and_an_unknown_merge_field_is_named(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    for path in ["/api/v1/dedup/policies", "/api/v1/dedup/probable-policies"] {
        for body in [
            json!({"api": 1}),
            json!({"Web Form": "skip"}),
            json!(["api"]),
        ] {
            app.call(Method::PUT, path, &rep.token, Some(body.clone()))
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
    }
    let unchanged = app.get("/api/v1/dedup/policies", &rep.token).await.body;
    assert_eq!(unchanged["api"], "warn");

    let t = &app.admin_token;
    let survivor = app
        .lead(t, json!({"name": "张伟", "phone": "13800138000"}))
        .await;
    let other = app
        .lead(t, json!({"name": "张 伟", "phone": "138 0013 8000"}))
        .await;
    let reply = app
        .post(
            "/api/v1/leads/merge",
            t,
            json!({"survivor_id": id(&survivor), "merged_ids": [id(&other)], "keep_both": true}),
        )
        .await;
    reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(reply.body["error"]["field"], "keep_both", "{}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("survivor_id, merged_ids, fields"),
        "the accepted fields are named: {message}"
    );
    let still = app.get(&format!("/api/v1/leads/{}", id(&other)), t).await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "nothing was merged: {}",
        still.body
    );
}

async fn block_refuses_a_duplicate_and_names_only_the_holder_of_a_colleagues_lead(app: TestApp) {
    set_policies(&app, json!({"api": "block"})).await;
    let team = app.team("北京二组", None).await;
    let alice = app.user("alice", Role::Rep, Some(team)).await;
    let bob = app.user("bob", Role::Rep, Some(team)).await;
    let held = app
        .lead(
            &alice.token,
            json!({"name": "周杰", "phone": "13700137000", "company": "秘密客户有限公司"}),
        )
        .await;
    let protected_until = to_millis(app.clock_now()) + 7 * 24 * 3600 * 1000;
    app.db
        .execute(
            "UPDATE leads SET protected_until = ? WHERE id = ?",
            &[Param::Int(protected_until), Param::Int(id(&held))],
        )
        .await
        .unwrap();

    let refused = app
        .post(
            "/api/v1/leads",
            &bob.token,
            json!({"name": "周先生", "phone": "+86 137 0013 7000"}),
        )
        .await;
    refused.assert_error(StatusCode::CONFLICT, "duplicate");
    let candidate = &refused.body["candidates"][0];
    assert_eq!(refused.body["candidates"].as_array().unwrap().len(), 1);
    assert_eq!(candidate["visible"], false);
    assert_eq!(candidate["type"], "lead");
    assert_eq!(candidate["signals"], json!(["phone"]));
    assert_eq!(candidate["owner"]["username"], "alice");
    assert_eq!(candidate["protected"], true);
    assert!(candidate.get("id").is_none() && candidate.get("record").is_none());
    let text = refused.body.to_string();
    assert!(
        !text.contains("秘密客户") && !text.contains("周杰") && !text.contains("13700137000"),
        "nothing of the colleague's lead but who holds it: {text}"
    );

    let own = app
        .post(
            "/api/v1/leads",
            &alice.token,
            json!({"name": "周杰", "email": "zj@example.cn", "phone": "13700137000"}),
        )
        .await;
    own.assert_error(StatusCode::CONFLICT, "duplicate");
    assert_eq!(own.body["candidates"][0]["visible"], true);
    assert_eq!(own.body["candidates"][0]["record"]["id"], id(&held));
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM leads").await,
        1,
        "nothing was created"
    );

    let other_source = app
        .post(
            "/api/v1/leads",
            &bob.token,
            json!({"name": "周先生", "phone": "13700137000", "source": "referral"}),
        )
        .await;
    assert_eq!(
        other_source.status,
        StatusCode::CREATED,
        "another source has its own policy: {}",
        other_source.body
    );
}

async fn warn_creates_the_lead_flagged_and_the_flag_can_be_dismissed(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(t, json!({"name": "吴敏", "email": "wumin@example.cn"}))
        .await;
    assert!(first["tags"].as_array().unwrap().is_empty());
    assert_eq!(first["duplicate_of"], json!(null));
    let second = app
        .lead(
            t,
            json!({"name": "吴敏", "email": "WUMIN@example.cn", "tags": ["展会"]}),
        )
        .await;
    assert_eq!(second["tags"], json!(["展会", "possible_duplicate"]));
    assert_eq!(second["duplicate_of"], id(&first));
    let flagged = app
        .get("/api/v1/leads?tags=possible_duplicate", t)
        .await
        .ids();
    assert_eq!(flagged, vec![id(&second)]);

    let dismissed = app
        .patch(
            &format!("/api/v1/leads/{}", id(&second)),
            t,
            json!({"tags": ["展会"], "duplicate_of": null}),
        )
        .await;
    assert_eq!(dismissed.status, StatusCode::OK, "{}", dismissed.body);
    assert_eq!(dismissed.body["duplicate_of"], json!(null));
    assert!(app
        .get("/api/v1/leads?tags=possible_duplicate", t)
        .await
        .ids()
        .is_empty());
}

async fn merge_puts_the_new_data_into_the_existing_lead(app: TestApp) {
    set_policies(&app, json!({"api": "merge"})).await;
    let t = &app.admin_token;
    let existing = app
        .lead(
            t,
            json!({"name": "郑洁", "phone": "13600136000", "tags": ["老客户"]}),
        )
        .await;
    let reply = app
        .post(
            "/api/v1/leads",
            t,
            json!({"name": "Zheng Jie", "phone": "+86 136-0013-6000", "title": "采购经理",
                   "email": "zj@example.cn", "tags": ["展会"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["merged"], true);
    assert_eq!(reply.body["id"], id(&existing));
    assert_eq!(reply.body["name"], "郑洁", "a value it has is kept");
    assert_eq!(reply.body["title"], "采购经理", "an empty field is filled");
    assert_eq!(reply.body["email_normalized"], "zj@example.cn");
    assert_eq!(reply.body["tags"], json!(["老客户", "展会"]));
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM leads").await, 1);

    let history = app
        .get(&format!("/api/v1/leads/{}/history", id(&existing)), t)
        .await
        .body;
    let entries = history["items"].as_array().unwrap();
    let merged = entries
        .iter()
        .find(|e| e["action"] == "merge_new")
        .unwrap_or_else(|| panic!("a merge_new entry: {history}"));
    assert_eq!(merged["channel"], "api");
    assert_eq!(
        merged["new_value"]["name"], "Zheng Jie",
        "what was sent is kept in the history"
    );
    assert!(entries
        .iter()
        .any(|e| e["field"] == "title" && e["new_value"] == "采购经理"));

    let rep = app.user("rep", Role::Rep, None).await;
    let held = app
        .post(
            "/api/v1/leads",
            &rep.token,
            json!({"name": "郑洁", "phone": "13600136000"}),
        )
        .await;
    held.assert_error(StatusCode::CONFLICT, "duplicate");
    assert_eq!(
        held.body["candidates"][0]["owner"]["username"], "admin",
        "nothing merges into a lead outside the caller's scope"
    );
}

async fn a_change_of_phone_is_checked_against_the_policy(app: TestApp) {
    let t = &app.admin_token;
    let first = app
        .lead(t, json!({"name": "孙丽", "phone": "13500135000"}))
        .await;
    let second = app
        .lead(t, json!({"name": "马强", "phone": "13500135001"}))
        .await;
    set_policies(&app, json!({"api": "block"})).await;
    let refused = app
        .patch(
            &format!("/api/v1/leads/{}", id(&second)),
            t,
            json!({"phone": "135 0013 5000", "title": "经理"}),
        )
        .await;
    refused.assert_error(StatusCode::CONFLICT, "duplicate");
    assert_eq!(refused.body["candidates"][0]["record"]["id"], id(&first));
    let unchanged = app
        .get(&format!("/api/v1/leads/{}", id(&second)), t)
        .await
        .body;
    assert_eq!(unchanged["phone_normalized"], "+8613500135001");
    assert_eq!(
        unchanged["title"],
        json!(null),
        "nothing of the change was written"
    );

    set_policies(&app, json!({"api": "warn"})).await;
    let flagged = app
        .patch(
            &format!("/api/v1/leads/{}", id(&second)),
            t,
            json!({"phone": "135 0013 5000"}),
        )
        .await;
    assert_eq!(flagged.status, StatusCode::OK, "{}", flagged.body);
    assert_eq!(flagged.body["tags"], json!(["possible_duplicate"]));
    assert_eq!(flagged.body["duplicate_of"], id(&first));
}

async fn an_import_merges_rows_into_the_leads_they_duplicate(app: TestApp) {
    let t = &app.admin_token;
    let existing = app
        .lead(t, json!({"name": "张三", "phone": "13800138000"}))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("leads.csv");
    std::fs::write(
        &file,
        "姓名,手机,职位,邮箱\n\
         张三,138 0013 8000,销售总监,\n\
         李四,13900139000,,\n\
         李四,+86 139 0013 9000,,lisi@example.cn\n\
         王五,13700137000,,\n",
    )
    .unwrap();
    let url = app.database_url().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xiansuo"))
        .args(["--database-url", &url, "import", "leads"])
        .arg(&file)
        .args(["--dedup", "merge"])
        .env_remove("XIANSUO_DATABASE_URL")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("imported 2 leads, skipped 2, failed 0 of 4 rows"),
        "{stdout}"
    );
    assert!(stdout.contains("2 rows were merged"), "{stdout}");

    let zhang = app
        .get(&format!("/api/v1/leads/{}", id(&existing)), t)
        .await
        .body;
    assert_eq!(zhang["title"], "销售总监", "the row filled the stored lead");
    let history = app
        .get(&format!("/api/v1/leads/{}/history", id(&existing)), t)
        .await
        .body;
    assert!(history["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "merge_new" && e["channel"] == "import"));
    let li = app.get("/api/v1/leads?q=李四", t).await;
    assert_eq!(li.ids().len(), 1, "{}", li.body);
    assert_eq!(
        li.body["items"][0]["email_normalized"], "lisi@example.cn",
        "a row merges into an earlier row of the file"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM leads").await, 3);
    let report = std::fs::read_to_string(dir.path().join("leads.csv.errors.csv")).unwrap();
    assert!(
        report.contains(&format!("merged into lead {}", id(&existing))),
        "{report}"
    );
    assert!(
        report.contains("merged into row 3 of this file"),
        "{report}"
    );
}

async fn the_scan_groups_duplicates_across_the_base(app: TestApp) {
    let t = &app.admin_token;
    let rep = app.user("rep", Role::Rep, None).await;
    let manager = app.user("manager", Role::Manager, None).await;
    // A chain: a shares a phone with b, b an email with c.
    let a = app
        .lead(t, json!({"name": "甲", "phone": "13100131000"}))
        .await;
    let b = app
        .lead(
            t,
            json!({"name": "乙", "phone": "13100131000", "email": "b@example.cn"}),
        )
        .await;
    let c = app
        .lead(&rep.token, json!({"name": "丙", "email": "B@example.cn"}))
        .await;
    // The same person at the same company.
    let d = app
        .lead(
            &rep.token,
            json!({"name": "林峰", "company": "广州南方贸易有限公司"}),
        )
        .await;
    let e = app
        .lead(&rep.token, json!({"name": "林 峰", "company": "南方贸易"}))
        .await;
    let alone = app
        .lead(&rep.token, json!({"name": "林峰", "company": "北方贸易"}))
        .await;
    let gone = app
        .lead(&rep.token, json!({"name": "丁", "phone": "13100131000"}))
        .await;
    let reply = app
        .call(
            Method::DELETE,
            &format!("/api/v1/leads/{}", id(&gone)),
            &rep.token,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);

    app.post("/api/v1/dedup/scan", &rep.token, json!({}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let started = app
        .post("/api/v1/dedup/scan", &manager.token, json!({}))
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    assert_eq!(started.body["state"], "queued");
    let again = app.post("/api/v1/dedup/scan", t, json!({})).await;
    assert_eq!(
        again.body["id"], started.body["id"],
        "a scan already queued is not queued twice"
    );
    jobs::run_due(&app.db, &JobEnv::default(), app.clock_now())
        .await
        .unwrap();
    let scan = app.get("/api/v1/dedup/scan", t).await.body;
    assert_eq!(scan["scan"]["state"], "done", "{scan}");
    assert_eq!(scan["scan"]["groups_found"], 2);

    let groups = app.get("/api/v1/dedup/groups", t).await.body;
    let items = groups["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{groups}");
    assert_eq!(ids(&items[0]["leads"]), vec![id(&a), id(&b), id(&c)]);
    assert_eq!(items[0]["signals"], json!(["phone", "email"]));
    assert_eq!(ids(&items[1]["leads"]), vec![id(&d), id(&e)]);
    assert_eq!(items[1]["signals"], json!(["person_and_company"]));
    assert!(!groups
        .to_string()
        .contains(&format!("\"id\":{}", id(&alone))));

    let mine = app.get("/api/v1/dedup/groups", &rep.token).await.body;
    let items = mine["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "only the group with two leads in the rep's scope: {mine}"
    );
    assert_eq!(ids(&items[0]["leads"]), vec![id(&d), id(&e)]);

    let page = app.get("/api/v1/dedup/groups?limit=1", t).await.body;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let next = app
        .get(&format!("/api/v1/dedup/groups?limit=1&cursor={cursor}"), t)
        .await
        .body;
    assert_eq!(ids(&next["items"][0]["leads"]), vec![id(&d), id(&e)]);
    assert_eq!(next["next_cursor"], json!(null));
    app.get("/api/v1/dedup/groups?limit=0", t)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}
