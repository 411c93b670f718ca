//! The lead list and the lead form as a sales team uses them: the total, views, filters, the
//! next follow-up, the export; bulk actions on ticked rows and on every matching lead, each
//! confirmed with its count and summarised, within the user's data scope; and the duplicate
//! warning that names the colleague who holds a prospect (撞单), while typing (the JSON check
//! the form's script calls) and after a save without script; the board's per-column paging,
//! filters and confirmed wins and losses; the pool's paging and claim confirmation. Then once
//! in headless Chromium.

use crate::on_both_databases;
use crate::pool::{create_pool, pooled_lead};
use crate::support::{TestApp, TestUser};
use crate::ui::{lead_id, Browser, Page};
use reqwest::StatusCode;
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    the_list_shows_its_total_views_filters_and_next_follow_ups,
    bulk_assignment_of_ticked_rows_and_of_every_matching_lead_is_confirmed_and_summarised,
    a_rep_cannot_bulk_change_leads_outside_their_scope,
    disqualifying_in_bulk_asks_for_a_reason_and_tagging_and_deleting_work,
    the_duplicate_warning_names_the_colleague_who_holds_the_prospect,
    the_board_pages_each_column_filters_by_month_and_owner_and_asks_why_a_deal_was_lost,
    the_pool_pages_its_leads_and_a_claim_shows_the_remaining_limit_first,
    duplicate_groups_are_merged_field_by_field_on_a_screen_and_the_merge_undone,
    a_person_saves_views_of_the_list_that_only_they_see,
    the_list_pages_speak_english,
);

/// Gives a user the display name people know them by.
async fn name_user(app: &TestApp, user: &TestUser, name: &str) {
    let reply = app
        .patch(
            &format!("/api/v1/users/{}", user.id),
            &app.admin_token,
            json!({ "display_name": name }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn lead(app: &TestApp, user: &TestUser, body: Value) -> i64 {
    app.lead(&user.token, body).await["id"].as_i64().unwrap()
}

async fn lead_json(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/v1/leads/{id}"), &app.admin_token)
        .await
        .body
}

/// The text of the element with this id, tags removed.
fn text_by_id(page: &Page, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("#{id} in {}", page.body));
    let open_end = page.body[start..].find('>').unwrap() + start + 1;
    let close = page.body[open_end..].find("</").unwrap() + open_end;
    crate::ui::shown_text(&page.body[open_end..close])
}

async fn bulk(browser: &Browser, csrf: &str, form: &[(&str, &str)]) -> Page {
    let mut pairs = vec![("csrf_token", csrf)];
    pairs.extend_from_slice(form);
    browser.post("/leads/bulk", &pairs).await
}

async fn the_list_shows_its_total_views_filters_and_next_follow_ups(app: TestApp) {
    let team = app.team("华东销售", None).await;
    app.user("chen", Role::Manager, Some(team)).await;
    let rep = app.user("rep08", Role::Rep, Some(team)).await;
    let other = app.user("rep09", Role::Rep, Some(team)).await;
    name_user(&app, &rep, "周杰").await;
    for n in 0..35 {
        lead(
            &app,
            &rep,
            json!({"name": format!("客户{n:02}"), "grade": "C"}),
        )
        .await;
    }
    let reply = app
        .post(
            "/api/v1/custom-fields",
            &app.admin_token,
            json!({"object": "lead", "key": "products", "label": "意向产品",
                   "field_type": "multi_select", "options": ["ERP", "CRM"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let wang = lead(
        &app,
        &rep,
        json!({"name": "王芳", "grade": "B", "tags": ["展会"], "phone": "138-1234-5678",
               "custom": {"products": ["CRM"]}}),
    )
    .await;
    lead(&app, &other, json!({"name": "李雷"})).await;
    app.clock.advance(chrono::Duration::days(1));
    let fresh = lead(&app, &rep, json!({"name": "新客户"})).await;
    // 王芳's next follow-up was yesterday; 新客户's is in two days.
    for (id, next) in [
        (wang, "2026-11-02T10:00:00Z"),
        (fresh, "2026-11-05T02:00:00Z"),
    ] {
        let reply = app
            .post(
                &format!("/api/v1/leads/{id}/activities"),
                &rep.token,
                json!({"type": "call", "content": "约了下次", "next_follow_up_at": next}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }

    let browser = Browser::signed_in(&app, "rep08").await;
    let page = browser.get("/leads").await;
    page.assert_html(StatusCode::OK);
    assert_eq!(text_by_id(&page, "lead-total"), "共 37 条");
    assert!(page.body.contains("rel=\"next\""), "30 a page by default");
    assert!(
        !page.body.contains("李雷"),
        "another rep's lead: {}",
        page.body
    );
    let all = browser.get("/leads?per=50").await;
    assert!(!all.body.contains("rel=\"next\""), "{}", all.body);
    assert!(all.body.contains("客户00") && all.body.contains("客户34"));
    // One phone format, with a link to call.
    assert!(
        all.body
            .contains("<a href=\"tel:+8613812345678\">138 1234 5678</a>"),
        "{}",
        all.body
    );

    for (query, total, shown) in [
        ("grade=B", "共 1 条", "王芳"),
        ("tags=展会", "共 1 条", "王芳"),
        ("created_from=2026-11-03", "共 1 条", "新客户"),
        ("created_to=2026-11-02&grade=C", "共 35 条", "客户07"),
        ("view=today", "共 1 条", "新客户"),
        ("view=overdue", "共 1 条", "王芳"),
        ("view=due", "共 1 条", "王芳"),
        ("in_pool=true", "共 0 条", ""),
        ("custom.products=CRM", "共 1 条", "王芳"),
    ] {
        let page = browser.get(&format!("/leads?{query}")).await;
        page.assert_html(StatusCode::OK);
        assert_eq!(text_by_id(&page, "lead-total"), total, "{query}");
        assert!(page.body.contains(shown), "{query}: {}", page.body);
    }
    let overdue = browser.get("/leads?view=overdue").await;
    assert!(
        overdue.body.contains("2026-11-02 18:00") && overdue.body.contains("已逾期"),
        "the next follow-up column: {}",
        overdue.body
    );
    let custom = browser.get("/leads").await;
    assert!(
        custom.body.contains("意向产品") && custom.body.contains("name=\"custom.products\""),
        "a filter per custom field: {}",
        custom.body
    );
    let bad = browser.get("/leads?created_from=yesterday").await;
    bad.assert_html(StatusCode::OK);
    assert!(bad.body.contains("id=\"list-error\""), "{}", bad.body);

    // The export has what the list shows.
    let export = browser.get("/leads/export?format=csv&grade=B").await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(export.body.contains("王芳") && !export.body.contains("客户00"));

    // A manager sees the team, owners by the names people know them by.
    let browser = Browser::signed_in(&app, "chen").await;
    let page = browser.get("/leads?per=100").await;
    assert_eq!(text_by_id(&page, "lead-total"), "共 38 条");
    assert!(page.body.contains("周杰") && !page.body.contains(">rep08<"));
    let mine = browser.get("/leads?view=mine").await;
    assert_eq!(text_by_id(&mine, "lead-total"), "共 0 条");
}

async fn bulk_assignment_of_ticked_rows_and_of_every_matching_lead_is_confirmed_and_summarised(
    app: TestApp,
) {
    let team = app.team("华北销售", None).await;
    app.user("chen", Role::Manager, Some(team)).await;
    let a = app.user("rep_a", Role::Rep, Some(team)).await;
    let b = app.user("rep_b", Role::Rep, Some(team)).await;
    let c = app.user("rep_c", Role::Rep, Some(team)).await;
    let mut tagged = Vec::new();
    for n in 0..3 {
        tagged.push(
            lead(
                &app,
                &a,
                json!({"name": format!("展会客户{n}"), "tags": ["展会"]}),
            )
            .await,
        );
    }
    let untagged = lead(&app, &a, json!({"name": "老客户"})).await;

    let browser = Browser::signed_in(&app, "chen").await;
    let list = browser.get("/leads").await;
    let csrf = list.csrf();
    assert!(list
        .body
        .contains(&format!("name=\"id\" value=\"{}\"", tagged[0])));
    let (first, second) = (tagged[0].to_string(), tagged[1].to_string());
    let ticked = [
        ("action", "assign"),
        ("scope", "selected"),
        ("filters", ""),
        ("id", first.as_str()),
        ("id", second.as_str()),
    ];
    let confirm = bulk(&browser, &csrf, &ticked).await;
    confirm.assert_html(StatusCode::OK);
    assert_eq!(
        text_by_id(&confirm, "bulk-intro"),
        "转移负责人：共 2 条线索。"
    );
    assert_eq!(
        text_by_id(&confirm, "bulk-confirm-button"),
        "确认，处理 2 条线索"
    );
    assert_eq!(
        lead_json(&app, tagged[0]).await["owner_id"],
        a.id,
        "not yet"
    );

    // Confirming without an owner says so next to the field.
    let mut form = ticked.to_vec();
    form.push(("confirm", "1"));
    let refused = bulk(&browser, &csrf, &form).await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("请选择新负责人"), "{}", refused.body);

    let owner = b.id.to_string();
    form.push(("owner_id", owner.as_str()));
    let done = bulk(&browser, &csrf, &form).await;
    done.assert_html(StatusCode::OK);
    assert_eq!(text_by_id(&done, "bulk-done"), "已完成 2 条");
    assert!(!done.body.contains("id=\"bulk-skipped\""));
    for id in &tagged[..2] {
        assert_eq!(lead_json(&app, *id).await["owner_id"], b.id);
    }
    assert_eq!(lead_json(&app, tagged[2]).await["owner_id"], a.id);

    // Every lead the filters match, not only the ticked ones.
    let to_c = c.id.to_string();
    let all = [
        ("action", "assign"),
        ("scope", "all"),
        ("filters", "tags=展会"),
    ];
    let confirm = bulk(&browser, &csrf, &all).await;
    assert_eq!(
        text_by_id(&confirm, "bulk-intro"),
        "转移负责人：共 3 条线索。"
    );
    let mut form = all.to_vec();
    form.extend([("confirm", "1"), ("owner_id", to_c.as_str())]);
    let done = bulk(&browser, &csrf, &form).await;
    assert_eq!(text_by_id(&done, "bulk-done"), "已完成 3 条");
    for id in &tagged {
        assert_eq!(lead_json(&app, *id).await["owner_id"], c.id);
    }
    assert_eq!(lead_json(&app, untagged).await["owner_id"], a.id);
    assert!(
        done.body.contains("href=\"/leads?tags="),
        "back to the same list: {}",
        done.body
    );
    // The new owner hears of the lot at once.
    let notes = app.get("/api/v1/notifications", &c.token).await.body;
    assert!(notes.to_string().contains("3 条线索已分配给你"), "{notes}");

    // Nothing ticked: the page says what to do.
    let none = bulk(
        &browser,
        &csrf,
        &[("action", "delete"), ("scope", "selected")],
    )
    .await;
    none.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.body.contains("请先勾选线索"), "{}", none.body);
}

async fn a_rep_cannot_bulk_change_leads_outside_their_scope(app: TestApp) {
    let a = app.user("rep_a", Role::Rep, None).await;
    let b = app.user("rep_b", Role::Rep, None).await;
    let mine = lead(&app, &a, json!({"name": "我的客户"})).await;
    let theirs = lead(&app, &b, json!({"name": "别人的客户"})).await;

    let browser = Browser::signed_in(&app, "rep_a").await;
    let csrf = browser.csrf().await;
    let (mine_id, theirs_id) = (mine.to_string(), theirs.to_string());
    let done = bulk(
        &browser,
        &csrf,
        &[
            ("action", "status"),
            ("scope", "selected"),
            ("id", mine_id.as_str()),
            ("id", theirs_id.as_str()),
            ("confirm", "1"),
            ("status", "working"),
        ],
    )
    .await;
    done.assert_html(StatusCode::OK);
    assert_eq!(text_by_id(&done, "bulk-done"), "已完成 1 条");
    assert_eq!(text_by_id(&done, "bulk-skipped"), "跳过 1 条");
    assert!(
        done.body.contains("找不到，或不在你的数据权限内"),
        "{}",
        done.body
    );
    assert!(!done.body.contains("别人的客户"), "nothing of it is shown");
    assert_eq!(lead_json(&app, mine).await["status"], "working");
    assert_eq!(lead_json(&app, theirs).await["status"], "new");

    // Giving leads to someone outside the scope is refused as a whole.
    let owner = b.id.to_string();
    let refused = bulk(
        &browser,
        &csrf,
        &[
            ("action", "assign"),
            ("scope", "selected"),
            ("id", mine_id.as_str()),
            ("confirm", "1"),
            ("owner_id", owner.as_str()),
        ],
    )
    .await;
    refused.assert_html(StatusCode::FORBIDDEN);
    assert_eq!(
        text_by_id(&refused, "bulk-error"),
        "只能转给你数据权限内的人"
    );
    assert_eq!(lead_json(&app, mine).await["owner_id"], a.id);

    // "Every matching lead" is every lead the rep may see, and no other.
    let confirm = bulk(
        &browser,
        &csrf,
        &[("action", "delete"), ("scope", "all"), ("filters", "")],
    )
    .await;
    assert_eq!(text_by_id(&confirm, "bulk-intro"), "删除：共 1 条线索。");
    let done = bulk(
        &browser,
        &csrf,
        &[
            ("action", "delete"),
            ("scope", "all"),
            ("filters", ""),
            ("confirm", "1"),
        ],
    )
    .await;
    assert_eq!(text_by_id(&done, "bulk-done"), "已完成 1 条");
    assert_eq!(
        app.get(&format!("/api/v1/leads/{theirs}"), &b.token)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/leads/{mine}"), &a.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn disqualifying_in_bulk_asks_for_a_reason_and_tagging_and_deleting_work(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let one = lead(&app, &rep, json!({"name": "空号客户一"})).await;
    let two = lead(&app, &rep, json!({"name": "空号客户二"})).await;
    let (one_id, two_id) = (one.to_string(), two.to_string());
    let browser = Browser::signed_in(&app, "rep").await;
    let csrf = browser.csrf().await;
    let status = |reason: &'static str| {
        vec![
            ("action", "status"),
            ("scope", "selected"),
            ("id", one_id.as_str()),
            ("id", two_id.as_str()),
            ("confirm", "1"),
            ("status", "disqualified"),
            ("reason", reason),
        ]
    };
    let refused = bulk(&browser, &csrf, &status("")).await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    let field = &refused.body[refused.body.find("id=\"bulk-reason\"").unwrap()..];
    assert!(
        field.contains("请填写原因"),
        "next to the field: {}",
        refused.body
    );
    assert_eq!(lead_json(&app, one).await["status"], "new");

    let done = bulk(&browser, &csrf, &status("空号")).await;
    assert_eq!(text_by_id(&done, "bulk-done"), "已完成 2 条");
    for id in [one, two] {
        let lead = lead_json(&app, id).await;
        assert_eq!(lead["status"], "disqualified");
        assert_eq!(lead["disqualify_reason"], "空号");
    }

    let done = bulk(
        &browser,
        &csrf,
        &[
            ("action", "tag"),
            ("scope", "selected"),
            ("id", one_id.as_str()),
            ("confirm", "1"),
            ("tag", "待清理"),
        ],
    )
    .await;
    assert_eq!(text_by_id(&done, "bulk-done"), "已完成 1 条");
    assert_eq!(lead_json(&app, one).await["tags"], json!(["待清理"]));

    // In English.
    let switched = browser
        .post(
            "/settings/locale",
            &[("csrf_token", &csrf), ("locale", "en"), ("back", "/leads")],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let confirm = bulk(
        &browser,
        &csrf,
        &[
            ("action", "delete"),
            ("scope", "all"),
            ("filters", "tags=待清理"),
        ],
    )
    .await;
    assert_eq!(text_by_id(&confirm, "bulk-intro"), "Delete: 1 leads.");
    let done = bulk(
        &browser,
        &csrf,
        &[
            ("action", "delete"),
            ("scope", "all"),
            ("filters", "tags=待清理"),
            ("confirm", "1"),
        ],
    )
    .await;
    assert_eq!(text_by_id(&done, "bulk-done"), "1 done");
    assert_eq!(
        app.get(&format!("/api/v1/leads/{one}"), &rep.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/leads/{two}"), &rep.token)
            .await
            .status,
        StatusCode::OK
    );
}

async fn the_duplicate_warning_names_the_colleague_who_holds_the_prospect(app: TestApp) {
    let a = app.user("rep08", Role::Rep, None).await;
    app.user("rep09", Role::Rep, None).await;
    name_user(&app, &a, "周杰").await;
    let pool = create_pool(
        &app,
        json!({"name": "华东公海", "member_user_ids": [a.id], "protection_days": 15,
               "protection_max_days": 30}),
    )
    .await;
    let held = pooled_lead(&app, pool, "王芳", "13812345678").await;
    let claimed = app
        .post(
            &format!("/api/v1/pools/{pool}/claim"),
            &a.token,
            json!({ "lead_ids": [held] }),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);

    // While typing: the colleague is named, with the protection period, and nothing else.
    let browser = Browser::signed_in(&app, "rep09").await;
    let answer = browser
        .get("/leads/duplicates/check?phone=138-1234-5678&name=&email=&company=")
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer: Value = serde_json::from_str(&answer.body).unwrap();
    let text = answer["items"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("周杰") && text.contains("撞单") && text.contains("保护期至 2026-11-17"),
        "{answer}"
    );
    assert_eq!(answer["items"][0]["url"], Value::Null);
    assert!(!answer.to_string().contains("王芳"), "{answer}");
    let partial = browser.get("/leads/duplicates/check?phone=1381").await;
    let partial: Value = serde_json::from_str(&partial.body).unwrap();
    assert_eq!(partial["items"], json!([]));

    // Without script, the save shows the same warning instead of saving silently.
    let csrf = browser.csrf().await;
    let form = [
        ("csrf_token", csrf.as_str()),
        ("name", "王芳"),
        ("phone", "+86 138 1234 5678"),
        ("source", "manual"),
        ("status", "new"),
    ];
    let warned = browser.post("/leads", &form).await;
    warned.assert_html(StatusCode::CONFLICT);
    assert!(
        warned.body.contains("id=\"duplicate-warnings\"")
            && warned.body.contains("周杰")
            && warned.body.contains("id=\"save-anyway\""),
        "{}",
        warned.body
    );
    assert!(warned.body.contains("value=\"+86 138 1234 5678\""));
    let b_token_leads = app.get("/api/v1/leads", &app.admin_token).await.ids();
    assert_eq!(b_token_leads.len(), 1, "nothing was saved");
    let mut anyway = form.to_vec();
    anyway.push(("dup_ack", "1"));
    let saved = browser.post("/leads", &anyway).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let id = lead_id(saved.location());
    assert_eq!(lead_json(&app, id).await["name"], "王芳");

    // The holder sees their own lead, by name and with a link.
    let holder = Browser::signed_in(&app, "rep08").await;
    let answer = holder
        .get("/leads/duplicates/check?phone=13812345678")
        .await;
    let answer: Value = serde_json::from_str(&answer.body).unwrap();
    let mine = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["url"] == format!("/leads/{held}"))
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(mine["text"].as_str().unwrap().contains("王芳"), "{answer}");

    // Editing something else of a lead is not interrupted.
    let edit = holder
        .post(
            &format!("/leads/{held}"),
            &[
                ("csrf_token", &holder.csrf().await),
                ("name", "王芳"),
                ("phone", "13812345678"),
                ("title", "采购经理"),
            ],
        )
        .await;
    assert_eq!(edit.status, StatusCode::SEE_OTHER, "{}", edit.body);
}

async fn deal(app: &TestApp, user: &TestUser, body: Value) -> i64 {
    let reply = app.post("/api/v1/opportunities", &user.token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

/// The HTML of the board column of a stage.
fn column<'a>(page: &'a Page, stage: &str) -> &'a str {
    let start = page
        .body
        .find(&format!("id=\"stage-{stage}\""))
        .unwrap_or_else(|| panic!("column {stage}: {}", page.body));
    let end = page.body[start..]
        .find("</section>")
        .map_or(page.body.len(), |e| start + e);
    &page.body[start..end]
}

/// The address of the first `rel="next"` link in `html`.
fn next_link(html: &str) -> String {
    let end = html.find("rel=\"next\"").expect("a next link");
    let start = html[..end].rfind("href=\"").unwrap() + 6;
    crate::ui::shown_text(html[start..end].trim_end_matches("\" "))
}

async fn the_board_pages_each_column_filters_by_month_and_owner_and_asks_why_a_deal_was_lost(
    app: TestApp,
) {
    let team = app.team("大客户部", None).await;
    app.user("chen", Role::Manager, Some(team)).await;
    let rep = app.user("gao", Role::Rep, Some(team)).await;
    let other = app.user("he", Role::Rep, Some(team)).await;
    name_user(&app, &other, "何静").await;
    let mut deals = Vec::new();
    for n in 0..55 {
        let close = if n < 5 { "2026-12-15" } else { "2027-01-20" };
        deals.push(
            deal(
                &app,
                &rep,
                json!({"name": format!("项目{n:02}"), "amount": 1000, "stage": "met",
                       "expected_close_date": close}),
            )
            .await,
        );
    }
    deal(
        &app,
        &other,
        json!({"name": "何静的项目", "amount": 500, "stage": "found"}),
    )
    .await;

    let browser = Browser::signed_in(&app, "chen").await;
    let board = browser.get("/board").await;
    board.assert_html(StatusCode::OK);
    let met = column(&board, "met");
    assert!(met.contains("column-count\">55<"), "{met}");
    assert_eq!(met.matches("class=\"deal\"").count(), 20, "a page of cards");
    assert!(met.contains("显示 20 / 55"), "{met}");
    // The next pages of that column, the others unchanged, until none is hidden.
    let mut seen = met.matches("class=\"deal\"").count();
    let mut page = board;
    while column(&page, "met").contains("rel=\"next\"") {
        let next = next_link(column(&page, "met"));
        page = browser.get(&next).await;
        page.assert_html(StatusCode::OK);
        assert!(column(&page, "found").contains("何静的项目"));
        seen += column(&page, "met").matches("class=\"deal\"").count();
    }
    assert_eq!(seen, 55, "every deal is on some page");
    assert!(
        column(&page, "met").contains("项目00"),
        "the oldest is on the last page"
    );

    let december = browser.get("/board?month=2026-12").await;
    let met = column(&december, "met");
    assert!(
        met.contains("column-count\">5<") && met.contains("¥5,000.00"),
        "{met}"
    );
    assert!(!met.contains("rel=\"next\""));
    let theirs = browser.get(&format!("/board?owner={}", other.id)).await;
    assert!(column(&theirs, "met").contains("column-count\">0<"));
    assert!(column(&theirs, "found").contains("何静"));
    let bad = browser.get("/board?month=December").await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"board-error\""));

    // No one-click win: the card links to a confirmation; losing needs a reason.
    let id = deals[54];
    let board = browser.get("/board").await;
    assert!(board
        .body
        .contains(&format!("href=\"/board/{id}/close?result=won\"")));
    assert!(
        !board.body.contains("name=\"result\""),
        "no close form on cards"
    );
    let confirm = browser.get(&format!("/board/{id}/close?result=lost")).await;
    confirm.assert_html(StatusCode::OK);
    assert_eq!(text_by_id(&confirm, "close-confirm"), "确认输单");
    let csrf = confirm.csrf();
    let refused = browser
        .post(
            &format!("/board/{id}/close"),
            &[("csrf_token", &csrf), ("result", "lost"), ("reason", " ")],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"close-error\""),
        "{}",
        refused.body
    );
    let now = app
        .get(&format!("/api/v1/opportunities/{id}"), &rep.token)
        .await
        .body;
    assert_eq!(now["result"], "open");
    let lost = browser
        .post(
            &format!("/board/{id}/close"),
            &[
                ("csrf_token", &csrf),
                ("result", "lost"),
                ("reason", "预算取消"),
            ],
        )
        .await;
    assert_eq!(lost.status, StatusCode::SEE_OTHER, "{}", lost.body);
    let now = app
        .get(&format!("/api/v1/opportunities/{id}"), &rep.token)
        .await
        .body;
    assert_eq!(
        (now["result"].as_str(), now["close_reason"].as_str()),
        (Some("lost"), Some("预算取消"))
    );
}

async fn the_pool_pages_its_leads_and_a_claim_shows_the_remaining_limit_first(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let pool = create_pool(
        &app,
        json!({"name": "华东公海", "member_user_ids": [rep.id], "max_held": 3,
               "max_claims_per_day": 10}),
    )
    .await;
    create_pool(
        &app,
        json!({"name": "华南公海", "member_user_ids": [rep.id]}),
    )
    .await;
    let mut leads = Vec::new();
    for n in 0..25 {
        leads.push(
            pooled_lead(
                &app,
                pool,
                &format!("公海客户{n:02}"),
                &format!("1370000{n:04}"),
            )
            .await,
        );
    }
    let browser = Browser::signed_in(&app, "rep").await;
    let page = browser.get("/pool").await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("显示 20 / 25"), "{}", page.body);
    assert!(
        page.body.contains("你还可以从这里认领 3 条"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("公海客户00"),
        "the oldest is on the next page"
    );
    let second = browser.get(&next_link(&page.body)).await;
    second.assert_html(StatusCode::OK);
    assert!(second.body.contains("公海客户00") && !second.body.contains("公海客户24"));
    // One pool at a time.
    let one = browser.get(&format!("/pool?pool={pool}")).await;
    assert!(one.body.contains("华东公海") && !one.body.contains("华南公海</h2>"));
    assert_eq!(one.body.matches("<section class=\"pool\"").count(), 1);

    // A claim is confirmed, saying what is left.
    let lead = leads[24];
    let confirm = browser
        .get(&format!("/pool/{pool}/claim?lead_id={lead}"))
        .await;
    confirm.assert_html(StatusCode::OK);
    let limits = crate::ui::shown_text(&confirm.body);
    assert!(
        limits.contains("你持有本池 0 条未结束的线索，上限 3 条")
            && limits.contains("今日已认领 0 条，每日上限 10 条")
            && limits.contains("你还可以从这里认领 3 条"),
        "{limits}"
    );
    assert_eq!(
        app.get(&format!("/api/v1/leads/{lead}"), &app.admin_token)
            .await
            .body["owner_id"],
        Value::Null,
        "nothing happens before the confirmation"
    );
    let csrf = confirm.csrf();
    for lead in &leads[22..] {
        let id = lead.to_string();
        let claimed = browser
            .post(
                &format!("/pool/{pool}/claim"),
                &[("csrf_token", &csrf), ("lead_id", &id)],
            )
            .await;
        assert_eq!(claimed.status, StatusCode::SEE_OTHER, "{}", claimed.body);
    }
    let full = browser
        .get(&format!("/pool/{pool}/claim?lead_id={}", leads[0]))
        .await;
    assert!(full.body.contains("已达认领上限"), "{}", full.body);
    assert!(!full.body.contains("id=\"claim-confirm\""));
}

async fn duplicate_groups_are_merged_field_by_field_on_a_screen_and_the_merge_undone(app: TestApp) {
    use xiansuo_app::jobs::{self, JobEnv};
    let team = app.team("华东销售", None).await;
    app.user("chen", Role::Manager, Some(team)).await;
    let rep = app.user("rep08", Role::Rep, Some(team)).await;
    let older = lead(
        &app,
        &rep,
        json!({"name": "王芳", "phone": "13812345678", "email": "wang@old.example", "company": "云启"}),
    )
    .await;
    app.clock.advance(chrono::Duration::hours(1));
    let newer = lead(
        &app,
        &rep,
        json!({"name": "王芳", "phone": "138 1234 5678", "email": "wang@new.example", "title": "采购经理"}),
    )
    .await;
    let reply = app
        .post(
            &format!("/api/v1/leads/{newer}/activities"),
            &rep.token,
            json!({"type": "call", "content": "新号码上联系到了"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);

    let browser = Browser::signed_in(&app, "chen").await;
    let page = browser.get("/duplicates").await;
    page.assert_html(StatusCode::OK);
    assert_eq!(text_by_id(&page, "scan-state"), "还没有扫描过。");
    let started = browser
        .post("/duplicates/scan", &[("csrf_token", &page.csrf())])
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    jobs::run_due(&app.db, &JobEnv::default(), app.clock_now())
        .await
        .unwrap();
    let page = browser.get("/duplicates").await;
    assert!(
        text_by_id(&page, "scan-state").contains("找到 1 组"),
        "{}",
        page.body
    );
    let merge_link = format!("/duplicates/merge?id={older}&#38;id={newer}");
    assert!(page.body.contains(&merge_link), "{}", page.body);

    // The screen: the older lead is kept by default, each differing field offers both values.
    let screen = browser
        .get(&format!("/duplicates/merge?id={older}&id={newer}"))
        .await;
    screen.assert_html(StatusCode::OK);
    assert!(screen
        .body
        .contains(&format!("id=\"survivor-{older}\" checked")));
    assert!(screen
        .body
        .contains(&format!("id=\"field-email-{older}\" checked")));
    assert!(screen.body.contains(&format!("id=\"field-email-{newer}\"")));
    assert!(
        screen
            .body
            .contains(&format!("id=\"field-title-{newer}\" checked")),
        "an empty value is filled from the other lead: {}",
        screen.body
    );
    assert!(
        !screen.body.contains("name=\"field.phone\""),
        "the same phone is no choice"
    );

    let (older_id, newer_id) = (older.to_string(), newer.to_string());
    let csrf = screen.csrf();
    let merged = browser
        .post(
            "/duplicates/merge",
            &[
                ("csrf_token", &csrf),
                ("id", &older_id),
                ("id", &newer_id),
                ("survivor", &older_id),
                ("field.email", &newer_id),
                ("field.title", &newer_id),
                ("field.company", &older_id),
            ],
        )
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    let done = browser.get(merged.location()).await;
    done.assert_html(StatusCode::OK);
    assert!(done.body.contains("id=\"undo-merge\""));
    let kept = lead_json(&app, older).await;
    assert_eq!(kept["email"], "wang@new.example");
    assert_eq!(kept["title"], "采购经理");
    assert_eq!(kept["company"], "云启");
    assert_eq!(
        app.get(&format!("/api/v1/leads/{newer}"), &rep.token)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "the merged lead is archived"
    );
    let activities = app
        .get(&format!("/api/v1/leads/{older}/activities"), &rep.token)
        .await
        .body;
    assert_eq!(
        activities["items"].as_array().unwrap().len(),
        1,
        "{activities}"
    );

    // Undo: the merged lead is back with its follow-up, the kept lead as it was.
    let undo_path = {
        let marker = "action=\"/duplicates/merges/";
        let start = done.body.find(marker).unwrap() + "action=\"".len();
        let end = done.body[start..].find('"').unwrap() + start;
        done.body[start..end].to_owned()
    };
    let undone = browser.post(&undo_path, &[("csrf_token", &csrf)]).await;
    undone.assert_html(StatusCode::OK);
    assert!(undone.body.contains("已撤销合并"), "{}", undone.body);
    assert!(!undone.body.contains("id=\"undo-merge\""));
    let back = lead_json(&app, newer).await;
    assert_eq!(back["email"], "wang@new.example");
    assert_eq!(lead_json(&app, older).await["email"], "wang@old.example");
    let activities = app
        .get(&format!("/api/v1/leads/{newer}/activities"), &rep.token)
        .await
        .body;
    assert_eq!(activities["items"].as_array().unwrap().len(), 1);
    let again = browser.post(&undo_path, &[("csrf_token", &csrf)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "an undo happens once");
}

async fn a_person_saves_views_of_the_list_that_only_they_see(app: TestApp) {
    let a = app.user("rep_a", Role::Rep, None).await;
    app.user("rep_b", Role::Rep, None).await;
    lead(&app, &a, json!({"name": "B级客户一", "grade": "B"})).await;
    lead(&app, &a, json!({"name": "C级客户一", "grade": "C"})).await;
    let browser = Browser::signed_in(&app, "rep_a").await;
    let page = browser.get("/leads?grade=B").await;
    let csrf = page.csrf();
    let empty = browser
        .post(
            "/leads/views",
            &[("csrf_token", &csrf), ("name", " "), ("filters", "grade=B")],
        )
        .await;
    empty.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    let saved = browser
        .post(
            "/leads/views",
            &[
                ("csrf_token", &csrf),
                ("name", "重点客户"),
                ("filters", "grade=B&bogus=1"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/leads?grade=B");
    let list = browser.get("/leads").await;
    assert!(
        list.body
            .contains("<a href=\"/leads?grade=B\">重点客户</a>"),
        "{}",
        list.body
    );
    let opened = browser.get("/leads?grade=B").await;
    assert!(opened.body.contains(
        "<a href=\"/leads?grade=B\" aria-current=\"page\" class=\"current\">重点客户</a>"
    ));
    assert_eq!(text_by_id(&opened, "lead-total"), "共 1 条");
    let marker = "action=\"/leads/views/";
    let start = list.body.find(marker).unwrap() + "action=\"".len();
    let end = list.body[start..].find('"').unwrap() + start;
    let delete = list.body[start..end].to_owned();

    // Nobody else sees or deletes it.
    let other = Browser::signed_in(&app, "rep_b").await;
    assert!(!other.get("/leads").await.body.contains("重点客户"));
    let refused = other
        .post(&delete, &[("csrf_token", &other.csrf().await)])
        .await;
    refused.assert_html(StatusCode::NOT_FOUND);

    let deleted = browser.post(&delete, &[("csrf_token", &csrf)]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(!browser.get("/leads").await.body.contains("重点客户"));
}

/// Chinese characters in the page outside what people typed (which these pages hold none of)
/// and the language switch's own name.
fn chinese_in(html: &str) -> Vec<char> {
    html.replace("中文", "")
        .replace("线</span>", "")
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .collect()
}

async fn the_list_pages_speak_english(app: TestApp) {
    let team = app.team("East", None).await;
    app.user("lin", Role::Manager, Some(team)).await;
    let rep = app.user("rep", Role::Rep, Some(team)).await;
    let pool = create_pool(
        &app,
        json!({"name": "East pool", "member_user_ids": [rep.id]}),
    )
    .await;
    let pooled = pooled_lead(&app, pool, "Pooled Person", "13700000001").await;
    let held = lead(
        &app,
        &rep,
        json!({"name": "Ann Lee", "phone": "13900002222"}),
    )
    .await;
    let deal_id = deal(
        &app,
        &rep,
        json!({"name": "Big deal", "amount": 10, "stage": "met"}),
    )
    .await;
    let browser = Browser::signed_in(&app, "lin").await;
    let csrf = browser.csrf().await;
    browser
        .post(
            "/settings/locale",
            &[("csrf_token", &csrf), ("locale", "en"), ("back", "/leads")],
        )
        .await;
    let rep_browser = Browser::signed_in(&app, "rep").await;
    let rep_csrf = rep_browser.csrf().await;
    rep_browser
        .post(
            "/settings/locale",
            &[
                ("csrf_token", &rep_csrf),
                ("locale", "en"),
                ("back", "/pool"),
            ],
        )
        .await;
    let held_id = held.to_string();
    for (page, label) in [
        (browser.get("/leads").await, "Bulk actions"),
        (browser.get("/leads?view=overdue").await, "Overdue"),
        (browser.get("/duplicates").await, "Duplicate leads"),
        (browser.get("/board").await, "Expected close month"),
        (
            browser
                .get(&format!("/board/{deal_id}/close?result=lost"))
                .await,
            "Why it was lost",
        ),
        (
            bulk(
                &browser,
                &csrf,
                &[
                    ("action", "status"),
                    ("scope", "selected"),
                    ("id", &held_id),
                ],
            )
            .await,
            "Change status: 1 leads.",
        ),
        (
            browser
                .get(&format!("/duplicates/merge?id={held}&id={held}"))
                .await,
            "Choose at least two leads",
        ),
        (rep_browser.get("/pool").await, "Public pool"),
        (
            rep_browser
                .get(&format!("/pool/{pool}/claim?lead_id={pooled}"))
                .await,
            "Confirm the claim",
        ),
    ] {
        assert!(page.body.contains("lang=\"en\""), "{}", page.body);
        assert!(page.body.contains(label), "{label}: {}", page.body);
        assert_eq!(chinese_in(&page.body), Vec::<char>::new(), "{}", page.body);
    }
    let check = browser
        .get("/leads/duplicates/check?phone=13900002222")
        .await;
    assert!(check.body.contains("Same phone"), "{}", check.body);
    assert_eq!(
        chinese_in(&check.body),
        Vec::<char>::new(),
        "{}",
        check.body
    );
}

mod browser {
    //! The same in headless Chromium: the warning appears while typing, the save goes through,
    //! and two leads are ticked and given to a colleague; then the list at phone width.

    use crate::support::{Backend, TestApp};
    use crate::ui::browser::{
        find_chromedriver, in_chromium, screenshot, wait_for_address, widths,
    };
    use fantoccini::{Client, Locator};
    use serde_json::json;
    use std::time::Duration;
    use xiansuo_core::role::Role;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_manager_sees_a_duplicate_while_typing_and_assigns_in_bulk_in_chromium() {
        let Some(chromedriver) = find_chromedriver() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("chromedriver is required in CI: install chromium and chromium-driver");
            }
            eprintln!("skipping: chromedriver not found");
            return;
        };
        let app = TestApp::start(Backend::Sqlite)
            .await
            .expect("a SQLite test app");
        let team = app.team("华南销售", None).await;
        app.user("chen", Role::Manager, Some(team)).await;
        let liu = app.user("liu", Role::Rep, Some(team)).await;
        let he = app.user("he", Role::Rep, Some(team)).await;
        for (user, name) in [(&liu, "刘洋"), (&he, "何静")] {
            app.patch(
                &format!("/api/v1/users/{}", user.id),
                &app.admin_token,
                json!({ "display_name": name }),
            )
            .await;
        }
        app.lead(
            &liu.token,
            json!({"name": "赵敏", "company": "明教贸易有限公司", "phone": "13900001111"}),
        )
        .await;
        let reply = app
            .post(
                "/api/v1/opportunities",
                &liu.token,
                json!({"name": "云启 CRM 项目", "amount": 120000, "stage": "met"}),
            )
            .await;
        let deal = reply.body["id"].as_i64().expect("a deal");
        let base = app.base.clone();
        in_chromium(chromedriver, base, scenario).await;
        let owned = app
            .get(
                &format!("/api/v1/leads?owner_id={}", he.id),
                &app.admin_token,
            )
            .await
            .ids();
        assert_eq!(owned.len(), 2, "both leads are 何静's now");
        let moved = app
            .get(&format!("/api/v1/opportunities/{deal}"), &app.admin_token)
            .await;
        assert_eq!(moved.body["stage"], "found", "the deal was dragged");
    }

    async fn scenario(client: Client, base: String) {
        let wait = || client.wait().at_most(Duration::from_secs(10));
        client.goto(&format!("{base}/leads")).await.unwrap();
        let username = wait()
            .for_element(Locator::Css("input[name=username]"))
            .await
            .unwrap();
        username.send_keys("chen").await.unwrap();
        client
            .find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys("password123")
            .await
            .unwrap();
        client
            .find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| a.starts_with("/leads")).await;

        // Typing a colleague's prospect's phone shows who holds it, before saving.
        client.goto(&format!("{base}/leads/new")).await.unwrap();
        wait()
            .for_element(Locator::Css("#field-name"))
            .await
            .unwrap()
            .send_keys("赵敏")
            .await
            .unwrap();
        client
            .find(Locator::Css("#field-phone"))
            .await
            .unwrap()
            .send_keys("139 0000 1111")
            .await
            .unwrap();
        let live = wait()
            .for_element(Locator::Css("#duplicate-live li"))
            .await
            .expect("the warning while typing");
        let text = live.text().await.unwrap();
        assert!(text.contains("刘洋") && text.contains("赵敏"), "{text}");
        screenshot(&client, "lead-form-duplicate").await;
        // Having seen it, the person saves anyway, in one step.
        client
            .find(Locator::Css(".lead-form .actions button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| {
            a.starts_with("/leads/") && !a.starts_with("/leads/new")
        })
        .await;

        // Tick both leads and give them to 何静.
        client.goto(&format!("{base}/leads")).await.unwrap();
        wait()
            .for_element(Locator::Css("td.select input"))
            .await
            .unwrap();
        for checkbox in client
            .find_all(Locator::Css("td.select input[type=checkbox]"))
            .await
            .unwrap()
        {
            checkbox.click().await.unwrap();
        }
        client
            .find(Locator::Css("#bulk-selected"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let intro = wait()
            .for_element(Locator::Css("#bulk-intro"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(intro, "转移负责人：共 2 条线索。");
        client
            .find(Locator::Css("#bulk-owner"))
            .await
            .unwrap()
            .select_by_label("何静")
            .await
            .unwrap();
        screenshot(&client, "bulk-confirm").await;
        client
            .find(Locator::Css("#bulk-confirm-button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let done = wait()
            .for_element(Locator::Css("#bulk-done"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(done, "已完成 2 条");
        screenshot(&client, "bulk-summary").await;
        client.goto(&format!("{base}/leads")).await.unwrap();
        wait()
            .for_element(Locator::Css("#lead-total"))
            .await
            .unwrap();
        screenshot(&client, "leads-list-desktop").await;

        // Drag the deal to the next column. WebDriver's pointer actions do not raise HTML5
        // drag events in Chromium, so the events are raised as a browser would raise them.
        client.goto(&format!("{base}/board")).await.unwrap();
        wait()
            .for_element(Locator::Css("#stage-met .deal[draggable=true]"))
            .await
            .expect("draggable cards");
        client
            .execute(
                "const card = document.querySelector('#stage-met .deal');\
                 const target = document.querySelector('#stage-found');\
                 const data = new DataTransfer();\
                 card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: data}));\
                 target.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: data}));\
                 target.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: data}));",
                Vec::new(),
            )
            .await
            .unwrap();
        wait()
            .for_element(Locator::Css("#stage-found .deal"))
            .await
            .expect("the card in its new column after the move");
        screenshot(&client, "board-desktop").await;

        // The list at phone width: no sideways scrolling, the bulk bar and views within reach.
        client.set_window_size(375, 800).await.unwrap();
        client.goto(&format!("{base}/leads")).await.unwrap();
        wait()
            .for_element(Locator::Css("#bulk-selected"))
            .await
            .unwrap();
        let (scroll, inner) = widths(&client).await;
        assert!(scroll <= inner, "the list fits a phone: {scroll} > {inner}");
        assert!(client
            .find(Locator::Css("#bulk-all"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap());
        screenshot(&client, "leads-list-phone").await;
        client.goto(&format!("{base}/leads/new")).await.unwrap();
        wait()
            .for_element(Locator::Css("#field-phone"))
            .await
            .unwrap()
            .send_keys("13900001111")
            .await
            .unwrap();
        wait()
            .for_element(Locator::Css("#duplicate-live li"))
            .await
            .expect("the warning at phone width");
        let (scroll, inner) = widths(&client).await;
        assert!(scroll <= inner, "the form fits a phone: {scroll} > {inner}");
        screenshot(&client, "lead-form-phone").await;
    }
}
