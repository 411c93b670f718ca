//! The sales workspace in the web UI and the API behind it: converting a lead from its page and
//! undoing the conversion, the account, contact and opportunity pages within the user's scope
//! (won amount, RFM class, handover), "my day" with an overdue follow-up and claimable pool
//! leads; the undo endpoint of the API; and one run in headless Chromium at desktop and phone
//! width (sign in, convert a lead, see the account).

use crate::on_both_databases;
use crate::support::{TestApp, TestUser};
use crate::ui::{section, shown_text, Browser};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    a_rep_converts_a_lead_from_its_page_and_undoes_the_conversion,
    a_bad_amount_on_the_conversion_form_is_shown_next_to_it_and_converts_nothing,
    undoing_a_conversion_archives_what_it_created_unless_something_else_uses_it,
    account_and_opportunity_pages_keep_to_the_users_scope,
    a_manager_hands_a_departing_reps_records_to_a_colleague,
    my_day_lists_an_overdue_follow_up_and_pool_leads_to_claim,
    the_sales_pages_speak_english,
    a_manager_changes_a_leads_owner_from_its_page,
    a_required_custom_field_is_on_the_new_lead_form,
    the_checklist_is_ticked_on_the_lead_page_and_the_lead_qualifies,
    the_account_list_pages_with_its_total_and_a_disqualified_lead_is_not_converted,
);

fn id(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("an id in {value}"))
}

/// An account created through the API by `user`.
async fn account(app: &TestApp, user: &TestUser, name: &str) -> i64 {
    let reply = app
        .post("/api/v1/accounts", &user.token, json!({"name": name}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    id(&reply.body)
}

async fn a_rep_converts_a_lead_from_its_page_and_undoes_the_conversion(app: TestApp) {
    let rep = app.user("lin", Role::Rep, None).await;
    let existing = account(&app, &rep, "杭州云启科技有限公司").await;
    let lead = app
        .lead(
            &rep.token,
            json!({"name": "陈晓明", "company": "杭州云启科技有限公司", "title": "采购经理",
                   "phone": "13812345678"}),
        )
        .await;
    let lead_id = id(&lead);
    let browser = Browser::signed_in(&app, "lin").await;

    // The lead page offers the conversion; its page suggests the account with the same company.
    let page = browser.get(&format!("/leads/{lead_id}")).await;
    page.assert_html(StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("href=\"/leads/{lead_id}/convert\"")),
        "{}",
        page.body
    );
    let form = browser.get(&format!("/leads/{lead_id}/convert")).await;
    form.assert_html(StatusCode::OK);
    let account_choice = section(&form.body, "convert-account");
    assert!(
        account_choice.contains(&format!("value=\"{existing}\" checked")),
        "{account_choice}"
    );
    assert!(account_choice.contains("杭州云启科技有限公司"));
    let contact = section(&form.body, "convert-contact");
    assert!(
        contact.contains("陈晓明") && contact.contains("采购经理"),
        "{contact}"
    );

    // Converting with an opportunity lands on the opportunity.
    let existing_text = existing.to_string();
    let done = browser
        .post(
            &format!("/leads/{lead_id}/convert"),
            &[
                ("csrf_token", &form.csrf()),
                ("account_id", &existing_text),
                ("create_opportunity", "1"),
                ("opportunity_name", "云启 CRM 项目"),
                ("amount", "120,000"),
                ("stage", "found"),
                ("expected_close_date", "2027-01-15"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let converted = app
        .get(&format!("/api/v1/leads/{lead_id}"), &rep.token)
        .await
        .body;
    assert_eq!(converted["status"], "converted");
    assert_eq!(converted["converted_account_id"], existing);
    let opportunity = converted["converted_opportunity_id"].as_i64().unwrap();
    let contact_id = converted["converted_contact_id"].as_i64().unwrap();
    assert_eq!(
        done.location(),
        format!("/opportunities/{opportunity}?converted=1")
    );
    let deal = browser.get(done.location()).await;
    deal.assert_html(StatusCode::OK);
    assert!(deal.body.contains("id=\"converted-notice\""));
    let details = section(&deal.body, "details");
    for shown in [
        "云启 CRM 项目",
        "¥120,000",
        "2027-01-15",
        &format!("href=\"/accounts/{existing}\""),
        &format!("href=\"/contacts/{contact_id}\""),
        &format!("href=\"/leads/{lead_id}\""),
    ] {
        assert!(
            details.contains(shown) || deal.body.contains(shown),
            "{shown}: {details}"
        );
    }
    assert!(deal.body.contains("发现机会"), "the stage by its name");

    // The converted lead links to what it became and offers the undo.
    let page = browser.get(&format!("/leads/{lead_id}")).await;
    let links = section(&page.body, "converted-into");
    for link in [
        format!("/accounts/{existing}"),
        format!("/contacts/{contact_id}"),
        format!("/opportunities/{opportunity}"),
    ] {
        assert!(links.contains(&link), "{link}: {links}");
    }
    assert!(!page.body.contains("/convert\""), "no second conversion");
    assert!(
        shown_text(&page.body).contains("转化了线索"),
        "the history says it"
    );

    // Undo: the lead reopens, the opportunity and contact are archived, the account stays.
    let undone = browser
        .post(
            &format!("/leads/{lead_id}/conversion/undo"),
            &[("csrf_token", &page.csrf())],
        )
        .await;
    assert_eq!(undone.status, StatusCode::SEE_OTHER, "{}", undone.body);
    assert_eq!(undone.location(), format!("/leads/{lead_id}?undone=1"));
    let page = browser.get(undone.location()).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("id=\"lead-notice\""), "{}", page.body);
    assert!(page.body.contains(&format!("/leads/{lead_id}/convert")));
    let text = shown_text(&page.body);
    assert!(
        text.contains("转化了线索") && text.contains("撤销了转化"),
        "the history keeps both"
    );
    let reopened = app
        .get(&format!("/api/v1/leads/{lead_id}"), &rep.token)
        .await
        .body;
    assert_eq!(reopened["status"], "new");
    assert_eq!(reopened["converted_account_id"], Value::Null);
    for path in [
        format!("/api/v1/opportunities/{opportunity}"),
        format!("/api/v1/contacts/{contact_id}"),
    ] {
        assert_eq!(
            app.get(&path, &rep.token).await.status,
            StatusCode::NOT_FOUND,
            "{path} is archived"
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{existing}"), &rep.token)
            .await
            .status,
        StatusCode::OK,
        "the existing account is left alone"
    );
    let page = browser.get(&format!("/opportunities/{opportunity}")).await;
    page.assert_html(StatusCode::NOT_FOUND);

    // A second undo is refused on a page that says why.
    let again = browser
        .post(
            &format!("/leads/{lead_id}/conversion/undo"),
            &[("csrf_token", &page.csrf())],
        )
        .await;
    again.assert_html(StatusCode::CONFLICT);
    assert!(again.body.contains("没有转化"), "{}", again.body);
    assert!(!again.body.contains("the lead is not converted"));

    // Converting again without an opportunity lands on the account.
    let form = browser.get(&format!("/leads/{lead_id}/convert")).await;
    let done = browser
        .post(
            &format!("/leads/{lead_id}/convert"),
            &[("csrf_token", &form.csrf()), ("account_id", &existing_text)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("/accounts/{existing}?converted=1"));
}

async fn a_bad_amount_on_the_conversion_form_is_shown_next_to_it_and_converts_nothing(
    app: TestApp,
) {
    let rep = app.user("lin", Role::Rep, None).await;
    let lead = app
        .lead(&rep.token, json!({"name": "王芳", "company": "明远贸易"}))
        .await;
    let lead_id = id(&lead);
    let browser = Browser::signed_in(&app, "lin").await;
    let form = browser.get(&format!("/leads/{lead_id}/convert")).await;
    assert!(
        section(&form.body, "convert-account").contains("明远贸易"),
        "a new account from the company"
    );
    let page = browser
        .post(
            &format!("/leads/{lead_id}/convert"),
            &[
                ("csrf_token", &form.csrf()),
                ("create_opportunity", "1"),
                ("opportunity_name", "明远 ERP"),
                ("amount", "很多"),
            ],
        )
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    let opportunity = section(&page.body, "convert-opportunity");
    assert!(opportunity.contains("class=\"error\""), "{opportunity}");
    assert!(
        opportunity.contains("value=\"很多\"") && opportunity.contains("明远 ERP"),
        "what was typed stays: {opportunity}"
    );
    let still = app
        .get(&format!("/api/v1/leads/{lead_id}"), &rep.token)
        .await
        .body;
    assert_eq!(still["status"], "new");
    let accounts = app.get("/api/v1/accounts", &rep.token).await;
    assert_eq!(accounts.ids(), Vec::<i64>::new(), "nothing was written");
}

async fn undoing_a_conversion_archives_what_it_created_unless_something_else_uses_it(app: TestApp) {
    let team = app.team("华东一组", None).await;
    let rep = app.user("lin", Role::Rep, Some(team)).await;
    let other = app.user("zhou", Role::Rep, Some(team)).await;
    let manager = app.user("boss", Role::Manager, Some(team)).await;
    let lead = app
        .lead(
            &rep.token,
            json!({"name": "赵敏", "company": "明教贸易有限公司"}),
        )
        .await;
    let lead_id = id(&lead);
    let path = format!("/api/v1/leads/{lead_id}");
    let reply = app
        .patch(&path, &rep.token, json!({"status": "working"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let undo = format!("{path}/conversion/undo");

    // Not converted: nothing to undo.
    app.post(&undo, &rep.token, json!({}))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");

    let converted = app
        .post(
            &format!("{path}/convert"),
            &rep.token,
            json!({"opportunity": {"name": "明教年单", "amount": 50000}}),
        )
        .await;
    assert_eq!(converted.status, StatusCode::OK, "{}", converted.body);
    let account = id(&converted.body["account"]);
    let contact = id(&converted.body["contact"]);
    let opportunity = id(&converted.body["opportunity"]);
    // Meanwhile a colleague's contact joins the new account: the account is in use.
    let reply = app
        .post(
            "/api/v1/contacts",
            &rep.token,
            json!({"name": "张无忌", "account_id": account}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);

    // Another rep may not undo it; the rep's manager may.
    app.post(&undo, &other.token, json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let reply = app.post(&undo, &manager.token, json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["lead"]["status"], "working", "back where it was");
    assert_eq!(reply.body["lead"]["converted_account_id"], Value::Null);
    assert_eq!(reply.body["lead"]["converted_opportunity_id"], Value::Null);
    assert_eq!(
        reply.body["archived"],
        json!([{"type": "opportunity", "id": opportunity}, {"type": "contact", "id": contact}])
    );
    assert_eq!(
        reply.body["kept"],
        json!([{"type": "account", "id": account, "reason": "contacts"}])
    );
    assert_eq!(
        app.get(&format!("/api/v1/opportunities/{opportunity}"), &rep.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let archived = app
        .get("/api/v1/opportunities?deleted=true", &rep.token)
        .await;
    assert_eq!(archived.ids(), vec![opportunity], "archived, not deleted");
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{account}"), &rep.token)
            .await
            .status,
        StatusCode::OK
    );

    // The history keeps both, on the lead and on the records.
    let history = app.get(&format!("{path}/history"), &rep.token).await.body;
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"convert") && actions.contains(&"convert_undo"),
        "{actions:?}"
    );
    let history = app
        .get(&format!("/api/v1/accounts/{account}/history"), &rep.token)
        .await
        .body;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "conversion_undone"
                && e["new_value"]["kept_because"] == "contacts"),
        "{history}"
    );

    // A second undo is refused, and the lead can be worked and converted again.
    app.post(&undo, &rep.token, json!({}))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    let reply = app
        .post(
            &format!("{path}/activities"),
            &rep.token,
            json!({"type": "call", "content": "重新跟进"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let again = app
        .post(&format!("{path}/convert"), &rep.token, json!({}))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(
        id(&again.body["account"]),
        account,
        "the kept account is found again by its company"
    );
}

async fn account_and_opportunity_pages_keep_to_the_users_scope(app: TestApp) {
    let east = app.team("华东", None).await;
    let north = app.team("华北", None).await;
    let rep = app.user("lin", Role::Rep, Some(east)).await;
    app.user("boss", Role::Manager, Some(east)).await;
    app.user("wang", Role::Rep, Some(north)).await;
    let lead = app
        .lead(
            &rep.token,
            json!({"name": "陈晓明", "company": "杭州云启科技有限公司"}),
        )
        .await;
    let converted = app
        .post(
            &format!("/api/v1/leads/{}/convert", id(&lead)),
            &rep.token,
            json!({"opportunity": {"name": "云启一期", "amount": 600000}}),
        )
        .await;
    assert_eq!(converted.status, StatusCode::OK, "{}", converted.body);
    let account = id(&converted.body["account"]);
    let first = id(&converted.body["opportunity"]);
    let reply = app
        .post(
            "/api/v1/opportunities",
            &rep.token,
            json!({"name": "云启二期", "account_id": account, "amount": 600000}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let second = id(&reply.body);
    for deal in [first, second] {
        let reply = app
            .post(
                &format!("/api/v1/opportunities/{deal}/win"),
                &rep.token,
                json!({"reason": "价格合适"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    // The rep of another team finds nothing, by list or by address.
    let outsider = Browser::signed_in(&app, "wang").await;
    for path in [
        format!("/accounts/{account}"),
        format!("/opportunities/{first}"),
        format!("/contacts/{}", id(&converted.body["contact"])),
        "/accounts/abc".to_owned(),
    ] {
        let page = outsider.get(&path).await;
        page.assert_html(StatusCode::NOT_FOUND);
        assert!(!page.body.contains("云启"), "{path}: {}", page.body);
    }
    for path in ["/accounts", "/opportunities", "/contacts"] {
        let page = outsider.get(path).await;
        page.assert_html(StatusCode::OK);
        assert!(!page.body.contains("云启"), "{path}: {}", page.body);
        assert!(
            page.body.contains("id=\"total\">0 "),
            "{path}: {}",
            page.body
        );
    }

    // The manager of the rep's team sees the account with its deals, won amount and class.
    let manager = Browser::signed_in(&app, "boss").await;
    let list = manager.get("/accounts").await;
    assert!(
        list.body.contains("href=\"/handover\""),
        "managers find the handover"
    );
    assert!(!outsider
        .get("/accounts")
        .await
        .body
        .contains("href=\"/handover\""));
    let list = manager.get("/accounts?q=云启").await;
    list.assert_html(StatusCode::OK);
    assert!(list.body.contains(&format!("href=\"/accounts/{account}\"")));
    assert!(list.body.contains("id=\"total\">1 "), "{}", list.body);
    let page = manager.get(&format!("/accounts/{account}")).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("id=\"a-class\""), "an A-class customer");
    let rfm = section(&page.body, "rfm");
    assert!(rfm.contains("¥1,200,000"), "{rfm}");
    assert!(rfm.contains("A 类客户"), "{rfm}");
    let deals = section(&page.body, "section-opportunities");
    assert!(
        deals.contains("云启一期") && deals.contains("云启二期") && deals.contains("赢单"),
        "{deals}"
    );
    assert!(section(&page.body, "section-contacts").contains("陈晓明"));
    let list = manager.get("/opportunities").await;
    assert!(list.body.contains("id=\"total\">2 "), "{}", list.body);
    let list = manager.get("/accounts?q=nothing-like-it").await;
    assert!(list.body.contains("id=\"total\">0 "), "{}", list.body);
}

async fn a_manager_hands_a_departing_reps_records_to_a_colleague(app: TestApp) {
    let team = app.team("华东", None).await;
    let leaving = app.user("lin", Role::Rep, Some(team)).await;
    let staying = app.user("zhou", Role::Rep, Some(team)).await;
    app.user("boss", Role::Manager, Some(team)).await;
    let lead = app
        .lead(&leaving.token, json!({"name": "陈晓明", "company": "云启"}))
        .await;
    let account = account(&app, &leaving, "明教贸易").await;

    // A rep may not hand over; the page says so and nothing moves.
    let rep_browser = Browser::signed_in(&app, "zhou").await;
    let form = rep_browser.get("/handover").await;
    form.assert_html(StatusCode::OK);
    let page = rep_browser
        .post(
            "/handover",
            &[
                ("csrf_token", &form.csrf()),
                ("from_user_id", &leaving.id.to_string()),
                ("to_user_id", &staying.id.to_string()),
                ("record_type", "lead"),
            ],
        )
        .await;
    page.assert_html(StatusCode::FORBIDDEN);
    assert!(page.body.contains("id=\"handover-error\""), "{}", page.body);

    let browser = Browser::signed_in(&app, "boss").await;
    let form = browser.get("/handover").await;
    // Without a receiver the form says so next to the field.
    let page = browser
        .post(
            "/handover",
            &[
                ("csrf_token", &form.csrf()),
                ("from_user_id", &leaving.id.to_string()),
                ("record_type", "lead"),
            ],
        )
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("class=\"error\""), "{}", page.body);
    let page = browser
        .post(
            "/handover",
            &[
                ("csrf_token", &form.csrf()),
                ("from_user_id", &leaving.id.to_string()),
                ("to_user_id", &staying.id.to_string()),
                ("record_type", "lead"),
                ("record_type", "account"),
            ],
        )
        .await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("已移交 2 条记录"), "{}", page.body);
    for path in [
        format!("/api/v1/leads/{}", id(&lead)),
        format!("/api/v1/accounts/{account}"),
    ] {
        assert_eq!(
            app.get(&path, &staying.token).await.body["owner_id"],
            staying.id,
            "{path}"
        );
    }
}

async fn my_day_lists_an_overdue_follow_up_and_pool_leads_to_claim(app: TestApp) {
    let team = app.team("华东", None).await;
    let rep = app.user("lin", Role::Rep, Some(team)).await;
    app.user("boss", Role::Manager, Some(team)).await;
    let lead = app
        .lead(&rep.token, json!({"name": "陈晓明", "company": "云启"}))
        .await;
    let due = (app.clock_now() - Duration::hours(3)).to_rfc3339();
    let reply = app
        .post(
            &format!("/api/v1/leads/{}/activities", id(&lead)),
            &rep.token,
            json!({"type": "call", "content": "约了回电", "next_follow_up_at": due}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let pool = crate::pool::create_pool(
        &app,
        json!({"name": "华东公海", "member_user_ids": [rep.id]}),
    )
    .await;
    crate::pool::pooled_lead(&app, pool, "王芳", "13812345678").await;
    // The manager gives the rep a lead: a new assignment.
    let given = app
        .lead(
            &app.admin_token,
            json!({"name": "李雷", "company": "韩梅梅科技"}),
        )
        .await;
    let reply = app
        .post(
            &format!("/api/v1/leads/{}/assign", id(&given)),
            &app.admin_token,
            json!({"owner_id": rep.id}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // The recycle job's warning about the first lead.
    warn_of_recycling(&app, rep.id, id(&lead)).await;

    let browser = Browser::signed_in(&app, "lin").await;
    let page = browser.get("/leads").await;
    assert!(page.body.contains("href=\"/today\""), "linked in the nav");
    let page = browser.get("/today").await;
    page.assert_html(StatusCode::OK);
    let follow_ups = section(&page.body, "follow-ups");
    assert!(
        follow_ups.contains(&format!("href=\"/leads/{}\"", id(&lead))),
        "{follow_ups}"
    );
    assert!(follow_ups.contains("已逾期"), "{follow_ups}");
    let claimable = section(&page.body, "pool");
    assert!(claimable.contains("王芳"), "{claimable}");
    assert!(claimable.contains(&format!("action=\"/pool/{pool}/claim\"")));
    let assigned = section(&page.body, "assigned");
    assert!(assigned.contains("李雷"), "{assigned}");
    let recycle = section(&page.body, "recycle");
    assert!(recycle.contains("陈晓明"), "{recycle}");

    // The manager sees the team's follow-up, with whose it is.
    let manager = Browser::signed_in(&app, "boss").await;
    let page = manager.get("/today").await;
    let follow_ups = section(&page.body, "follow-ups");
    assert!(
        follow_ups.contains("陈晓明") && follow_ups.contains("lin"),
        "{follow_ups}"
    );
}

/// The notice the recycle job leaves an owner whose lead goes back to the pool soon.
async fn warn_of_recycling(app: &TestApp, user: i64, lead: i64) {
    use xiansuo_app::channels::notifications::{notify, Kind, Notification};
    use xiansuo_core::custom_field::RecordType;
    let mut tx = app.db.begin().await.unwrap();
    let note = Notification {
        user_id: user,
        kind: Kind::RecycleWarning,
        record_type: Some(RecordType::Lead),
        record_id: Some(lead),
        message: "线索将在 2 天后收回公海".to_owned(),
        now_ms: app.clock_now().timestamp_millis(),
    };
    notify(&mut tx, &note).await.unwrap();
    tx.commit().await.unwrap();
}

async fn the_sales_pages_speak_english(app: TestApp) {
    let rep = app.user("lin", Role::Rep, None).await;
    let lead = app
        .lead(&rep.token, json!({"name": "Chen", "company": "Cloud Co"}))
        .await;
    let converted = app
        .post(
            &format!("/api/v1/leads/{}/convert", id(&lead)),
            &rep.token,
            json!({"opportunity": {"amount": 1000}}),
        )
        .await;
    assert_eq!(converted.status, StatusCode::OK, "{}", converted.body);
    let browser = Browser::signed_in(&app, "lin").await;
    let csrf = browser.csrf().await;
    let reply = browser
        .post(
            "/settings/locale",
            &[("csrf_token", &csrf), ("locale", "en"), ("back", "/today")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    for (path, english) in [
        ("/today".to_owned(), "My day"),
        ("/accounts".to_owned(), "Accounts"),
        (
            format!("/accounts/{}", id(&converted.body["account"])),
            "Customer value (RFM)",
        ),
        (
            format!("/opportunities/{}", id(&converted.body["opportunity"])),
            "Converted from lead",
        ),
        (format!("/leads/{}", id(&lead)), "Undo conversion"),
        ("/handover".to_owned(), "Hand over"),
    ] {
        let page = browser.get(&path).await;
        page.assert_html(StatusCode::OK);
        assert!(page.body.contains(english), "{path}: {}", page.body);
        for chinese in ["客户", "销售机会", "今日待办", "撤销转化", "移交"] {
            assert!(!page.body.contains(chinese), "{path}: {chinese}");
        }
    }
}

async fn a_manager_changes_a_leads_owner_from_its_page(app: TestApp) {
    let team = app.team("华东", None).await;
    let first = app.user("lin", Role::Rep, Some(team)).await;
    let second = app.user("zhou", Role::Rep, Some(team)).await;
    app.user("boss", Role::Manager, Some(team)).await;
    let lead = app
        .lead(&first.token, json!({"name": "陈晓明", "company": "云启"}))
        .await;
    let lead_id = id(&lead);

    // A rep sees no owner form, and a post of their own is refused with the reason on the page.
    let rep = Browser::signed_in(&app, "lin").await;
    let page = rep.get(&format!("/leads/{lead_id}")).await;
    assert!(!page.body.contains("id=\"owner\""), "{}", page.body);
    let refused = rep
        .post(
            &format!("/leads/{lead_id}/owner"),
            &[
                ("csrf_token", &page.csrf()),
                ("owner_id", &second.id.to_string()),
            ],
        )
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert!(
        refused.body.contains("id=\"owner-error\""),
        "{}",
        refused.body
    );
    assert_eq!(
        app.get(&format!("/api/v1/leads/{lead_id}"), &first.token)
            .await
            .body["owner_id"],
        first.id
    );

    let manager = Browser::signed_in(&app, "boss").await;
    let page = manager.get(&format!("/leads/{lead_id}")).await;
    let form = section(&page.body, "owner");
    assert!(
        form.contains(&format!("value=\"{}\" selected", first.id)),
        "{form}"
    );
    let moved = manager
        .post(
            &format!("/leads/{lead_id}/owner"),
            &[
                ("csrf_token", &page.csrf()),
                ("owner_id", &second.id.to_string()),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(moved.location(), format!("/leads/{lead_id}?moved=1"));
    let now = app
        .get(&format!("/api/v1/leads/{lead_id}"), &second.token)
        .await
        .body;
    assert_eq!(now["owner_id"], second.id);
    let page = manager.get(moved.location()).await;
    assert!(page.body.contains("id=\"lead-notice\""));
    let timeline = shown_text(section(&page.body, "timeline"));
    assert!(
        timeline.contains("lin") && timeline.contains("zhou"),
        "the change names both people: {timeline}"
    );
}

async fn a_required_custom_field_is_on_the_new_lead_form(app: TestApp) {
    let reply = app
        .post(
            "/api/v1/custom-fields",
            &app.admin_token,
            json!({"object": "lead", "key": "budget", "label": "预算", "field_type": "number",
                   "required": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let rep = app.user("lin", Role::Rep, None).await;
    let browser = Browser::signed_in(&app, "lin").await;
    let form = browser.get("/leads/new").await;
    form.assert_html(StatusCode::OK);
    assert!(
        form.body.contains("name=\"custom.budget\""),
        "{}",
        form.body
    );
    assert!(form.body.contains("预算"));

    // Left empty, the form says so next to the field, in words.
    let page = browser
        .post(
            "/leads",
            &[
                ("csrf_token", &form.csrf()),
                ("name", "陈晓明"),
                ("custom.budget", ""),
            ],
        )
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.body.contains("custom.budget:"), "{}", page.body);
    let field = &page.body[page.body.find("name=\"custom.budget\"").unwrap()..];
    let field = &field[..field.find("</label>").unwrap()];
    assert!(field.contains("class=\"error\""), "{field}");
    assert!(
        page.body.contains("value=\"陈晓明\""),
        "what was typed stays"
    );

    let created = browser
        .post(
            "/leads",
            &[
                ("csrf_token", &form.csrf()),
                ("name", "陈晓明"),
                ("custom.budget", "50000"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let lead_id = crate::ui::lead_id(created.location());
    let lead = app
        .get(&format!("/api/v1/leads/{lead_id}"), &rep.token)
        .await
        .body;
    assert_eq!(lead["custom"]["budget"].as_f64(), Some(50000.0));
    let page = browser.get(&format!("/leads/{lead_id}")).await;
    let custom = section(&page.body, "custom-fields");
    assert!(
        custom.contains("预算") && custom.contains("50000"),
        "{custom}"
    );
    // The edit form carries it too, and emptying it is refused the same way.
    let edit = browser.get(&format!("/leads/{lead_id}/edit")).await;
    assert!(edit.body.contains("name=\"custom.budget\""));
    let page = browser
        .post(
            &format!("/leads/{lead_id}"),
            &[
                ("csrf_token", &edit.csrf()),
                ("name", "陈晓明"),
                ("custom.budget", ""),
            ],
        )
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);

    // A change is in the history by the field's label, not its key.
    let page = browser
        .post(
            &format!("/leads/{lead_id}"),
            &[
                ("csrf_token", &edit.csrf()),
                ("name", "陈晓明"),
                ("custom.budget", "60000"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = browser.get(&format!("/leads/{lead_id}")).await;
    let timeline = shown_text(section(&page.body, "timeline"));
    assert!(timeline.contains("预算"), "{timeline}");
    assert!(!timeline.contains("custom.budget"), "{timeline}");
}

async fn the_checklist_is_ticked_on_the_lead_page_and_the_lead_qualifies(app: TestApp) {
    let reply = app
        .post(
            "/api/v1/qualification-checklists",
            &app.admin_token,
            json!({"name": "BANT", "is_default": true, "items": [
                {"key": "budget", "label": "预算已确认", "required": true},
                {"key": "timeline", "label": "时间表", "required": false},
            ]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let rep = app.user("lin", Role::Rep, None).await;
    let lead = app
        .lead(&rep.token, json!({"name": "陈晓明", "company": "云启"}))
        .await;
    let lead_id = id(&lead);
    let browser = Browser::signed_in(&app, "lin").await;

    // Qualifying through the edit form first says, in words, to tick the checklist.
    let edit = browser.get(&format!("/leads/{lead_id}/edit")).await;
    let page = browser
        .post(
            &format!("/leads/{lead_id}"),
            &[
                ("csrf_token", &edit.csrf()),
                ("name", "陈晓明"),
                ("status", "qualified"),
            ],
        )
        .await;
    page.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.body.contains("PUT /api"), "{}", page.body);
    assert!(page.body.contains("鉴定清单"), "{}", page.body);

    // Saving without the required item and asking to qualify is refused on the lead page.
    let page = browser.get(&format!("/leads/{lead_id}")).await;
    let checklist = section(&page.body, "qualification");
    assert!(checklist.contains("预算已确认") && checklist.contains("时间表"));
    let refused = browser
        .post(
            &format!("/leads/{lead_id}/qualification"),
            &[
                ("csrf_token", &page.csrf()),
                ("item", "timeline"),
                ("qualify", "1"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"qualification-error\""));
    assert!(!refused.body.contains("PUT /api"));

    let done = browser
        .post(
            &format!("/leads/{lead_id}/qualification"),
            &[
                ("csrf_token", &page.csrf()),
                ("item", "budget"),
                ("qualify", "1"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let now = app
        .get(&format!("/api/v1/leads/{lead_id}"), &rep.token)
        .await
        .body;
    assert_eq!(now["status"], "qualified");
    let ticks = app
        .get(
            &format!("/api/v1/leads/{lead_id}/qualification"),
            &rep.token,
        )
        .await
        .body;
    assert_eq!(ticks["complete"], true, "{ticks}");
}

async fn the_account_list_pages_with_its_total_and_a_disqualified_lead_is_not_converted(
    app: TestApp,
) {
    let rep = app.user("lin", Role::Rep, None).await;
    for i in 0..31 {
        account(&app, &rep, &format!("客户{i:02}")).await;
    }
    let browser = Browser::signed_in(&app, "lin").await;
    let first = browser.get("/accounts").await;
    first.assert_html(StatusCode::OK);
    assert!(first.body.contains("id=\"total\">31 "), "{}", first.body);
    assert_eq!(first.body.matches("href=\"/accounts/").count(), 30);
    let marker = "rel=\"next\"";
    let end = first.body.find(marker).expect("a next page");
    let start = first.body[..end].rfind("href=\"").unwrap() + "href=\"".len();
    let next = first.body[start..end]
        .trim_end_matches("\" ")
        .replace("&amp;", "&");
    let second = browser.get(&next).await;
    second.assert_html(StatusCode::OK);
    assert_eq!(second.body.matches("href=\"/accounts/").count(), 1);
    assert!(second.body.contains("客户00"), "the oldest comes last");
    assert!(second.body.contains("id=\"total\">31 "));
    let searched = browser.get("/accounts?q=客户0").await;
    assert!(
        searched.body.contains("id=\"total\">10 "),
        "{}",
        searched.body
    );

    let lead = app
        .lead(&rep.token, json!({"name": "王芳", "company": "明远贸易"}))
        .await;
    let lead_id = id(&lead);
    let reply = app
        .patch(
            &format!("/api/v1/leads/{lead_id}"),
            &rep.token,
            json!({"status": "disqualified"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page = browser.get(&format!("/leads/{lead_id}")).await;
    assert!(
        !page.body.contains("id=\"convert-lead\""),
        "no convert button"
    );
    let form = browser.get(&format!("/leads/{lead_id}/convert")).await;
    let refused = browser
        .post(
            &format!("/leads/{lead_id}/convert"),
            &[("csrf_token", &form.csrf())],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("无效线索不能转化"),
        "{}",
        refused.body
    );
}

mod browser {
    //! Converting a lead in headless Chromium, at desktop and at phone width.

    use crate::support::{Backend, TestApp};
    use crate::ui::browser::{
        chromedriver_or_skip, in_chromium, screenshot, sign_in, text_of, wait_for_address, widths,
    };
    use fantoccini::{Client, Locator};
    use serde_json::json;
    use std::time::Duration;
    use xiansuo_core::role::Role;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rep_converts_a_lead_and_sees_the_account_in_headless_chromium() {
        let Some(chromedriver) = chromedriver_or_skip() else {
            return;
        };
        let app = TestApp::start(Backend::Sqlite)
            .await
            .expect("a SQLite test app");
        let rep = app.user("liu", Role::Rep, None).await;
        let lead = app
            .lead(
                &rep.token,
                json!({"name": "赵敏", "company": "明教贸易有限公司", "title": "总经理",
                       "phone": "13912345678"}),
            )
            .await;
        let id = lead["id"].as_i64().unwrap();
        in_chromium(chromedriver, app.base.clone(), move |client, base| {
            scenario(client, base, id)
        })
        .await;
    }

    async fn scenario(client: Client, base: String, lead: i64) {
        let wait = || client.wait().at_most(Duration::from_secs(10));
        sign_in(&client, &base, "liu").await;
        client.goto(&format!("{base}/leads/{lead}")).await.unwrap();
        let convert = wait()
            .for_element(Locator::Id("convert-lead"))
            .await
            .expect("the convert button");
        screenshot(&client, "lead").await;
        convert.click().await.unwrap();
        wait_for_address(&client, |a| a.ends_with("/convert?")).await;
        screenshot(&client, "convert").await;
        assert!(text_of(&client, "#new-account-name")
            .await
            .contains("明教贸易"));
        client
            .find(Locator::Id("create-opportunity"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .find(Locator::Id("opportunity-amount"))
            .await
            .unwrap()
            .send_keys("88000")
            .await
            .unwrap();
        client
            .find(Locator::Id("convert-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| a.starts_with("/opportunities/")).await;
        assert!(text_of(&client, "#details").await.contains("¥88,000"));
        screenshot(&client, "opportunity").await;

        // From the deal to its account.
        client
            .find(Locator::Css("#details a[href^='/accounts/']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| a.starts_with("/accounts/")).await;
        assert_eq!(text_of(&client, "#record-name").await, "明教贸易有限公司");
        assert!(text_of(&client, "#section-opportunities")
            .await
            .contains("88,000"));
        assert!(text_of(&client, "#section-contacts").await.contains("赵敏"));
        screenshot(&client, "account").await;
        let account = client.current_url().await.unwrap();
        client.goto(&format!("{base}/today")).await.unwrap();
        screenshot(&client, "my-day").await;

        // On a phone the account page fits the screen, deals as cards.
        client.set_window_size(375, 812).await.unwrap();
        client.goto(account.as_str()).await.unwrap();
        let (scroll, width) = widths(&client).await;
        assert!(
            scroll <= width,
            "the account page scrolls sideways: {scroll} > {width}"
        );
        assert!(client
            .find(Locator::Id("section-opportunities"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap());
        screenshot(&client, "account-phone").await;
        client.goto(&format!("{base}/leads/{lead}")).await.unwrap();
        let (scroll, width) = widths(&client).await;
        assert!(
            scroll <= width,
            "the lead page scrolls sideways: {scroll} > {width}"
        );
        assert!(client
            .find(Locator::Id("undo-conversion"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap());
        screenshot(&client, "converted-lead-phone").await;
        client.goto(&format!("{base}/today")).await.unwrap();
        let (scroll, width) = widths(&client).await;
        assert!(
            scroll <= width,
            "my day scrolls sideways: {scroll} > {width}"
        );
        screenshot(&client, "my-day-phone").await;
    }
}
