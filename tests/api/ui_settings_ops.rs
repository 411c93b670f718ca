//! The settings pages that tune how the work runs, over HTTP with the cookie-keeping browser of
//! `ui.rs` and through the API they share their use cases with: the working calendar, dedup
//! policies per source, channel spend and KPI targets (and deleting a target over the API),
//! qualification checklists, and the trial of the assignment rules (page and API). Each is refused to a rep and shows a refused value next to its
//! field. Once in a real headless Chromium: every page through a create, a change, a delete
//! and a refusal, at desktop width and at 375 px.

use crate::on_both_databases;
use crate::support::TestApp;
use crate::ui::{Browser, Page};
use reqwest::{Method, StatusCode};
use serde_json::json;
use xiansuo_core::role::Role;

on_both_databases!(
    an_admin_sets_the_working_calendar_and_sees_bad_times_and_dates_refused_beside_them,
    an_admin_sets_adds_and_resets_dedup_policies_per_source,
    an_admin_records_spend_and_targets_changes_and_deletes_them,
    a_target_is_deleted_over_the_api_by_those_who_may_set_it,
    an_admin_creates_edits_and_deletes_a_qualification_checklist,
    the_assignment_trial_names_the_rule_and_owner_without_moving_the_turn,
);

/// The text inside the element with this id (up to its first tag), if the page has one.
fn text_by_id(page: &Page, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let start = page.body.find(&marker)?;
    let after = &page.body[start..];
    let open = after.find('>')? + 1;
    let close = after[open..].find('<')?;
    Some(after[open..open + close].trim().to_owned())
}

async fn a_rep_is_refused(app: &TestApp, path: &str) {
    app.user("wang", Role::Rep, None).await;
    let rep = Browser::signed_in(app, "wang").await;
    rep.get(path).await.assert_html(StatusCode::FORBIDDEN);
    let settings = rep.get("/settings/profile").await;
    assert!(!settings.body.contains(&format!("href=\"{path}\"")));
}

async fn an_admin_sets_the_working_calendar_and_sees_bad_times_and_dates_refused_beside_them(
    app: TestApp,
) {
    a_rep_is_refused(&app, "/settings/working-hours").await;
    let admin = Browser::signed_in(&app, "admin").await;
    let page = admin.get("/settings/working-hours").await;
    page.assert_html(StatusCode::OK);
    assert!(
        page.body.contains("value=\"Asia/Shanghai\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"09:00\"") && page.body.contains("value=\"18:00\""));
    let csrf = admin.csrf().await;
    let send = |start: &'static str, end: &'static str, holidays: &'static str| {
        let csrf = csrf.clone();
        let admin = &admin;
        async move {
            admin
                .post(
                    "/settings/working-hours",
                    &[
                        ("csrf_token", csrf.as_str()),
                        ("time_zone", "Asia/Shanghai"),
                        ("weekdays", "1"),
                        ("weekdays", "2"),
                        ("weekdays", "3"),
                        ("weekdays", "4"),
                        ("weekdays", "5"),
                        ("start", start),
                        ("end", end),
                        ("holidays", holidays),
                        ("workdays", "2026-10-11"),
                    ],
                )
                .await
        }
    };
    let backwards = send("18:00", "09:00", "").await;
    backwards.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&backwards, "error-end").as_deref(),
        Some("下班时间必须晚于上班时间（在同一天内）")
    );
    assert!(backwards.body.contains("2026-10-11"), "what was sent stays");
    let bad_time = send("9点", "18:00", "").await;
    assert!(text_by_id(&bad_time, "error-start").is_some_and(|e| e.contains("9点")));
    let bad_date = send("09:00", "18:00", "2026-10-01\n2026-13-01").await;
    bad_date.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&bad_date, "error-holidays").is_some_and(|e| e.contains("2026-13-01")),
        "{}",
        bad_date.body
    );
    let saved = send("08:30", "17:30", "2026-10-01\r\n2026-10-02, 2026-10-03").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/settings/working-hours?saved=1");
    let hours = app.get("/api/v1/sla/working-hours", &app.admin_token).await;
    assert_eq!(
        hours.body,
        json!({
            "time_zone": "Asia/Shanghai", "weekdays": [1, 2, 3, 4, 5],
            "start": "08:30", "end": "17:30",
            "holidays": ["2026-10-01", "2026-10-02", "2026-10-03"],
            "workdays": ["2026-10-11"],
        })
    );
    let page = admin.get("/settings/working-hours?saved=1").await;
    assert!(page.body.contains("2026-10-02") && page.body.contains("value=\"08:30\""));
}

async fn an_admin_sets_adds_and_resets_dedup_policies_per_source(app: TestApp) {
    a_rep_is_refused(&app, "/settings/dedup").await;
    let admin = Browser::signed_in(&app, "admin").await;
    let page = admin.get("/settings/dedup").await;
    page.assert_html(StatusCode::OK);
    assert!(
        page.body.contains("id=\"policy-web_form\""),
        "{}",
        page.body
    );
    let csrf = admin.csrf().await;
    let bad = admin
        .post(
            "/settings/dedup",
            &[
                ("csrf_token", &csrf),
                ("form", "new"),
                ("source", "Trade Show"),
                ("policy", "block"),
            ],
        )
        .await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&bad, "error-source").is_some_and(|e| e.contains("来源代码")),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"Trade Show\""));
    let added = admin
        .post(
            "/settings/dedup",
            &[
                ("csrf_token", &csrf),
                ("form", "new"),
                ("source", "trade_show_2026"),
                ("policy", "block"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let changed = admin
        .post(
            "/settings/dedup",
            &[
                ("csrf_token", &csrf),
                ("source", "web_form"),
                ("policy", "warn"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    let policies = app.get("/api/v1/dedup/policies", &app.admin_token).await;
    assert_eq!(
        policies.body["trade_show_2026"], "block",
        "{}",
        policies.body
    );
    assert_eq!(policies.body["web_form"], "warn");
    let refused = admin
        .post(
            "/settings/dedup",
            &[
                ("csrf_token", &csrf),
                ("source", "web_form"),
                ("policy", "ignore"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&refused, "error-policy-web_form").is_some());
    let page = admin.get("/settings/dedup").await;
    assert!(page.body.contains("id=\"policy-trade_show_2026\""));
    for source in ["trade_show_2026", "web_form"] {
        let reset = admin
            .post(
                "/settings/dedup/default",
                &[("csrf_token", &csrf), ("source", source)],
            )
            .await;
        assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.body);
    }
    let policies = app.get("/api/v1/dedup/policies", &app.admin_token).await;
    assert!(
        policies.body.get("trade_show_2026").is_none(),
        "{}",
        policies.body
    );
    assert_eq!(
        policies.body["web_form"], "merge",
        "the built-in default again"
    );
}

async fn an_admin_records_spend_and_targets_changes_and_deletes_them(app: TestApp) {
    a_rep_is_refused(&app, "/settings/targets").await;
    let li = app.user("li", Role::Rep, None).await;
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let cost = |amount: &'static str, form: String| {
        let csrf = csrf.clone();
        let admin = &admin;
        async move {
            admin
                .post(
                    "/settings/targets/costs",
                    &[
                        ("csrf_token", csrf.as_str()),
                        ("form", form.as_str()),
                        ("source", "web_form"),
                        ("campaign", "双11预热"),
                        ("month", "2026-10"),
                        ("amount", amount),
                    ],
                )
                .await
        }
    };
    let bad = cost("很多", "new".into()).await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&bad, "error-cost-amount").is_some(),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"双11预热\""));
    let added = cost("4500.5", "new".into()).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(added.location(), "/settings/targets?month=2026-10&saved=1");
    let costs = app
        .get(
            "/api/v1/reports/costs?from=2026-10&to=2026-10",
            &app.admin_token,
        )
        .await;
    let id = costs.body["items"][0]["id"].as_i64().unwrap();
    assert_eq!(costs.body["items"][0]["amount"], 4500.5);
    let page = admin.get("/settings/targets?month=2026-10").await;
    assert!(
        page.body.contains(&format!("id=\"cost-{id}\"")),
        "{}",
        page.body
    );
    let refused = cost("-1", id.to_string()).await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&refused, &format!("error-cost-{id}")).is_some());
    let changed = cost("5000", id.to_string()).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    let costs = app
        .get(
            "/api/v1/reports/costs?from=2026-10&to=2026-10",
            &app.admin_token,
        )
        .await;
    assert_eq!(costs.body["items"][0]["amount"], 5000.0);
    let deleted = admin
        .post(
            &format!("/settings/targets/costs/{id}/delete?month=2026-10"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let costs = app
        .get(
            "/api/v1/reports/costs?from=2026-10&to=2026-10",
            &app.admin_token,
        )
        .await;
    assert_eq!(costs.body["items"], json!([]));

    let subject = format!("user:{}", li.id);
    let target = |value: &'static str, form: &'static str| {
        let (csrf, subject) = (csrf.clone(), subject.clone());
        let admin = &admin;
        async move {
            admin
                .post(
                    "/settings/targets/targets",
                    &[
                        ("csrf_token", csrf.as_str()),
                        ("form", form),
                        ("subject", subject.as_str()),
                        ("metric", "leads"),
                        ("month", "2026-10"),
                        ("value", value),
                    ],
                )
                .await
        }
    };
    let bad = target("二十", "new").await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&bad, "error-target-value").is_some(),
        "{}",
        bad.body
    );
    assert_eq!(target("20", "new").await.status, StatusCode::SEE_OTHER);
    assert_eq!(target("25", "row").await.status, StatusCode::SEE_OTHER);
    let targets = app
        .get("/api/v1/reports/targets?month=2026-10", &app.admin_token)
        .await;
    assert_eq!(targets.body["items"][0]["target"], 25, "{}", targets.body);
    let page = admin.get("/settings/targets?month=2026-10").await;
    assert!(page
        .body
        .contains(&format!("id=\"target-user-{}-leads\"", li.id)));
    let deleted = admin
        .post(
            "/settings/targets/targets/delete",
            &[
                ("csrf_token", &csrf),
                ("subject", &subject),
                ("metric", "leads"),
                ("month", "2026-10"),
            ],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    let targets = app
        .get("/api/v1/reports/targets?month=2026-10", &app.admin_token)
        .await;
    assert_eq!(targets.body["items"], json!([]));
}

async fn a_target_is_deleted_over_the_api_by_those_who_may_set_it(app: TestApp) {
    let east = app.team("华东", None).await;
    let west = app.team("华西", None).await;
    let manager = app.user("zhao", Role::Manager, Some(east)).await;
    let rep = app.user("li", Role::Rep, Some(east)).await;
    for team in [east, west] {
        let set = app
            .call(
                Method::PUT,
                "/api/v1/reports/targets",
                &app.admin_token,
                Some(json!({"team_id": team, "metric": "won_amount", "month": "2026-10", "value": 400000})),
            )
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    }
    let delete = |token: String, query: String| {
        let app = &app;
        async move {
            app.call(
                Method::DELETE,
                &format!("/api/v1/reports/targets?{query}"),
                &token,
                None,
            )
            .await
        }
    };
    let key = |team: i64| format!("team_id={team}&metric=won_amount&month=2026-10");
    delete(rep.token.clone(), key(east))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    delete(manager.token.clone(), key(west))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    delete(manager.token.clone(), "team_id=1&metric=leads".into())
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    delete(manager.token.clone(), format!("{}&colour=red", key(east)))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let done = delete(manager.token.clone(), key(east)).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    delete(manager.token.clone(), key(east))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let left = app
        .get("/api/v1/reports/targets?month=2026-10", &app.admin_token)
        .await;
    assert_eq!(left.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(left.body["items"][0]["id"], west);
}

async fn an_admin_creates_edits_and_deletes_a_qualification_checklist(app: TestApp) {
    a_rep_is_refused(&app, "/settings/checklists").await;
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let bad = admin
        .post(
            "/settings/checklists",
            &[
                ("csrf_token", &csrf),
                ("name", "标准鉴定"),
                ("key_0", "budget"),
                ("label_0", "预算已确认"),
                ("required_0", "on"),
                ("key_1", ""),
                ("label_1", ""),
                ("key_2", "Decision Maker"),
                ("label_2", "找到决策人"),
            ],
        )
        .await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&bad, "error-key_1").is_some_and(|e| e.contains("Decision Maker")),
        "the empty row is dropped, the refused item is the second: {}",
        bad.body
    );
    let created = admin
        .post(
            "/settings/checklists",
            &[
                ("csrf_token", &csrf),
                ("name", "标准鉴定"),
                ("business_unit", "华东事业部"),
                ("is_default", "on"),
                ("key_0", "budget"),
                ("label_0", "预算已确认"),
                ("required_0", "on"),
                ("key_1", "authority"),
                ("label_1", "找到决策人"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let list = app
        .get("/api/v1/qualification-checklists", &app.admin_token)
        .await;
    let checklist = &list.body["items"][0];
    let id = checklist["id"].as_i64().unwrap();
    assert_eq!(checklist["is_default"], true, "{}", list.body);
    assert_eq!(
        checklist["items"],
        json!([
            {"key": "budget", "label": "预算已确认", "required": true},
            {"key": "authority", "label": "找到决策人", "required": false},
        ])
    );
    let page = admin.get(&format!("/settings/checklists/{id}")).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("value=\"authority\"") && page.body.contains("华东事业部"));
    let changed = admin
        .post(
            &format!("/settings/checklists/{id}"),
            &[
                ("csrf_token", &csrf),
                ("name", "标准鉴定 v2"),
                ("business_unit", ""),
                ("key_0", "budget"),
                ("label_0", "预算已确认"),
                ("required_0", "on"),
                ("key_1", ""),
                ("label_1", ""),
                ("key_2", "timeline"),
                ("label_2", "三个月内采购"),
                ("required_2", "on"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert_eq!(
        changed.location(),
        format!("/settings/checklists/{id}?saved=1")
    );
    let checklist = app
        .get(
            &format!("/api/v1/qualification-checklists/{id}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(checklist.body["name"], "标准鉴定 v2");
    assert_eq!(checklist.body["business_unit"], json!(null));
    assert_eq!(checklist.body["is_default"], false);
    let keys: Vec<&str> = checklist.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["budget", "timeline"]);
    let deleted = admin
        .post(
            &format!("/settings/checklists/{id}/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let list = app
        .get("/api/v1/qualification-checklists", &app.admin_token)
        .await;
    assert_eq!(list.body["items"], json!([]));
    admin
        .get(&format!("/settings/checklists/{id}"))
        .await
        .assert_html(StatusCode::NOT_FOUND);
}

async fn the_assignment_trial_names_the_rule_and_owner_without_moving_the_turn(app: TestApp) {
    let south = app.user("south", Role::Rep, None).await;
    let rr1 = app.user("rr1", Role::Rep, None).await;
    let rr2 = app.user("rr2", Role::Rep, None).await;
    let rule = |body: serde_json::Value| {
        let app = &app;
        async move {
            let reply = app
                .post("/api/v1/assignment/rules", &app.admin_token, body)
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            reply.body["id"].as_i64().unwrap()
        }
    };
    let guangdong = rule(json!({"name": "广东线索",
        "conditions": [{"field": "province", "operator": "eq", "value": "广东"}],
        "target": {"type": "user", "user_id": south.id}}))
    .await;
    let turns = rule(json!({"name": "轮流分配", "target": {"type": "members",
        "strategy": "round_robin", "members": [{"user_id": rr1.id}, {"user_id": rr2.id}]}}))
    .await;
    let trial = |body: serde_json::Value| {
        let app = &app;
        async move {
            app.post("/api/v1/assignment/test", &app.admin_token, body)
                .await
        }
    };
    let verdict = trial(json!({"lead": {"province": "广东", "source": "web_form"}})).await;
    assert_eq!(verdict.status, StatusCode::OK, "{}", verdict.body);
    assert_eq!(verdict.body["rule_id"], guangdong);
    assert_eq!(verdict.body["owner_id"], south.id);
    assert_eq!(verdict.body["owner_name"], "south");
    assert_eq!(
        verdict.body["tried"],
        json!([{"id": guangdong, "name": "广东线索", "placed": true}])
    );
    let mut predicted = Vec::new();
    for _ in 0..3 {
        let verdict = trial(json!({"lead": {"province": "浙江"}})).await;
        assert_eq!(verdict.body["rule_id"], turns, "{}", verdict.body);
        predicted.push(verdict.body["owner_id"].as_i64().unwrap());
    }
    assert!(
        predicted.windows(2).all(|w| w[0] == w[1]),
        "a trial does not move the turn: {predicted:?}"
    );
    let lead = app
        .lead(
            &app.admin_token,
            json!({"name": "钱七", "province": "浙江"}),
        )
        .await;
    assert_eq!(
        lead["owner_id"], predicted[0],
        "the trial foretold the owner"
    );
    let next = trial(json!({"lead_id": lead["id"]})).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    assert_ne!(
        next.body["owner_id"], predicted[0],
        "now it is the other's turn"
    );
    let any = trial(json!({"lead": {}})).await;
    assert_eq!(
        any.body["rule_id"], turns,
        "the catch-all rule matches every lead"
    );

    for (body, field) in [
        (json!({"lead": {"colour": "red"}}), "colour"),
        (json!({"lead_id": lead["id"], "lead": {}}), "lead_id"),
        (json!({"lead": {}, "owner": 1}), "owner"),
    ] {
        let refused = trial(body.clone()).await;
        refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(refused.body["error"]["field"], field, "{body}");
    }
    trial(json!({"lead_id": 99999}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.post("/api/v1/assignment/test", &rr1.token, json!({"lead": {}}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let admin = Browser::signed_in(&app, "admin").await;
    let rules = admin.get("/settings/assignment").await;
    assert!(rules.body.contains("id=\"rule-test-start\""));
    let page = admin
        .get("/settings/assignment/test?province=%E5%B9%BF%E4%B8%9C")
        .await;
    page.assert_html(StatusCode::OK);
    assert_eq!(
        text_by_id(&page, "verdict-rule").as_deref(),
        Some("广东线索")
    );
    assert_eq!(text_by_id(&page, "verdict-owner").as_deref(), Some("south"));
    let bad = admin.get("/settings/assignment/test?lead_id=abc").await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&bad, "error-lead_id").is_some_and(|e| e.contains("abc")));
    let missing = admin.get("/settings/assignment/test?lead_id=99999").await;
    missing.assert_html(StatusCode::NOT_FOUND);
    assert_eq!(
        text_by_id(&missing, "error-lead_id").as_deref(),
        Some("没有这个 ID 的线索")
    );
    let rep = Browser::signed_in(&app, "rr1").await;
    rep.get("/settings/assignment/test?province=x")
        .await
        .assert_html(StatusCode::FORBIDDEN);
}

mod browser {
    //! An admin goes through the working calendar, dedup policies, spend and targets, and
    //! checklists in headless Chromium: a refusal, a create, a change and a delete on each, then
    //! every page at 375 px.

    use crate::support::{Backend, TestApp};
    use crate::ui::browser::{
        chromium, click, fill, find_chromedriver, screenshot, start_chromedriver, submit,
        wait_for_address, widths,
    };
    use fantoccini::{Client, Locator};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_admin_runs_the_calendar_dedup_targets_and_checklists_pages_in_headless_chromium() {
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
        let driver = start_chromedriver(chromedriver).await;
        let profile = tempfile::tempdir().expect("a profile directory");
        let client = chromium(&driver, profile.path()).await;
        let outcome = tokio::spawn(scenario(client.clone(), app.base.clone())).await;
        let _ = client.close().await;
        drop(driver);
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
        let hours = app.get("/api/v1/sla/working-hours", &app.admin_token).await;
        assert_eq!(hours.body["start"], "08:30");
        assert_eq!(hours.body["holidays"], serde_json::json!([]));
        let policies = app.get("/api/v1/dedup/policies", &app.admin_token).await;
        assert!(
            policies.body.get("trade_show").is_none(),
            "{}",
            policies.body
        );
    }

    async fn text(client: &Client, css: &str) -> String {
        client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn saved(client: &Client) {
        wait_for_address(client, |a| a.contains("saved=1")).await;
    }

    async fn gone(client: &Client, css: &str) -> bool {
        client.find_all(Locator::Css(css)).await.unwrap().is_empty()
    }

    async fn scenario(client: Client, base: String) {
        client.goto(&format!("{base}/login")).await.unwrap();
        fill(&client, "input[name=username]", "admin").await;
        fill(&client, "input[name=password]", "password123").await;
        submit(&client, "form button[type=submit]").await;
        wait_for_address(&client, |a| a.starts_with("/leads")).await;

        // The working calendar: a day that ends before it starts, then hours and a holiday,
        // then the holiday taken out again.
        client.goto(&format!("{base}/settings")).await.unwrap();
        click(&client, ".settings-cards a[href='/settings/working-hours']").await;
        wait_for_address(&client, |a| a.starts_with("/settings/working-hours")).await;
        fill(&client, "#field-start", "18:00").await;
        fill(&client, "#field-end", "09:00").await;
        submit(&client, "#working-hours-form button[type=submit]").await;
        let error = text(&client, "#error-end").await;
        assert!(error.contains("下班时间"), "{error}");
        fill(&client, "#field-start", "08:30").await;
        fill(&client, "#field-end", "17:30").await;
        fill(&client, "#field-holidays", "2026-10-01\n2026-10-02").await;
        fill(&client, "#field-workdays", "2026-10-11").await;
        submit(&client, "#working-hours-form button[type=submit]").await;
        saved(&client).await;
        fill(&client, "#field-holidays", "2026-10-01").await;
        submit(&client, "#working-hours-form button[type=submit]").await;
        saved(&client).await;
        screenshot(&client, "settings-working-hours-desktop").await;
        fill(&client, "#field-holidays", "").await;
        submit(&client, "#working-hours-form button[type=submit]").await;
        saved(&client).await;

        // Dedup: a source that is no code, then a new source, its policy changed, and removed.
        click(&client, ".settings-nav a[href='/settings/dedup']").await;
        wait_for_address(&client, |a| a.starts_with("/settings/dedup")).await;
        fill(&client, "#new-policy-form #field-source", "Trade Show").await;
        submit(&client, "#new-policy-form button[type=submit]").await;
        assert!(text(&client, "#error-source").await.contains("Trade Show"));
        fill(&client, "#new-policy-form #field-source", "trade_show").await;
        submit(&client, "#new-policy-form button[type=submit]").await;
        saved(&client).await;
        client
            .find(Locator::Css("#policy-trade_show select[name=policy]"))
            .await
            .unwrap()
            .select_by_value("merge")
            .await
            .unwrap();
        submit(&client, "#policy-trade_show form button[type=submit]").await;
        saved(&client).await;
        let row = text(&client, "#policy-trade_show").await;
        assert!(row.contains("已单独设定"), "{row}");
        screenshot(&client, "settings-dedup-desktop").await;
        submit(&client, "#policy-trade_show .row-delete button").await;
        saved(&client).await;
        assert!(gone(&client, "#policy-trade_show").await);

        // Spend and a target for October: refused, recorded, changed, deleted.
        client
            .goto(&format!("{base}/settings/targets?month=2026-10"))
            .await
            .unwrap();
        fill(&client, "#field-cost-source", "web_form").await;
        fill(&client, "#field-cost-amount", "很多").await;
        submit(&client, "#new-cost-form button[type=submit]").await;
        text(&client, "#error-cost-amount").await;
        fill(&client, "#field-cost-amount", "4500.5").await;
        submit(&client, "#new-cost-form button[type=submit]").await;
        saved(&client).await;
        fill(&client, "#costs li input[name=amount]", "5000").await;
        submit(&client, "#costs li form button[type=submit]").await;
        saved(&client).await;
        let row = text(&client, "#costs li").await;
        assert!(row.contains("网站表单"), "{row}");
        client
            .find(Locator::Css("#field-target-subject"))
            .await
            .unwrap()
            .select_by_value("user:1")
            .await
            .unwrap();
        fill(&client, "#field-target-value", "20").await;
        submit(&client, "#new-target-form button[type=submit]").await;
        saved(&client).await;
        fill(&client, "#targets li input[name=value]", "25").await;
        submit(&client, "#targets li form button[type=submit]").await;
        saved(&client).await;
        screenshot(&client, "settings-targets-desktop").await;
        submit(&client, "#costs li .row-delete button").await;
        saved(&client).await;
        submit(&client, "#targets li .row-delete button").await;
        saved(&client).await;
        assert!(gone(&client, "#costs li").await && gone(&client, "#targets li").await);

        // A checklist: a key that is no key, then created, renamed and deleted.
        // The assignment trial: an id that is none, then a few fields.
        client
            .goto(&format!("{base}/settings/assignment"))
            .await
            .unwrap();
        fill(&client, "#field-test-lead_id", "abc").await;
        submit(&client, "#rule-test-start button[type=submit]").await;
        assert!(text(&client, "#error-lead_id").await.contains("abc"));
        fill(&client, "#field-lead_id", "").await;
        fill(&client, "#field-province", "广东").await;
        submit(&client, "#rule-test-form button[type=submit]").await;
        let verdict = text(&client, "#verdict-text").await;
        assert!(verdict.contains("没有规则命中"), "{verdict}");
        screenshot(&client, "settings-assignment-test-desktop").await;

        click(&client, ".settings-nav a[href='/settings/checklists']").await;
        wait_for_address(&client, |a| a.starts_with("/settings/checklists")).await;
        fill(&client, "#new-checklist-form #field-name", "标准鉴定").await;
        fill(&client, "#new-checklist-form #field-key_0", "Budget").await;
        fill(&client, "#new-checklist-form #field-label_0", "预算已确认").await;
        submit(&client, "#new-checklist-form button[type=submit]").await;
        assert!(text(&client, "#error-key_0").await.contains("Budget"));
        fill(&client, "#new-checklist-form #field-key_0", "budget").await;
        fill(&client, "#new-checklist-form #field-key_1", "authority").await;
        fill(&client, "#new-checklist-form #field-label_1", "找到决策人").await;
        submit(&client, "#new-checklist-form button[type=submit]").await;
        saved(&client).await;
        screenshot(&client, "settings-checklists-desktop").await;
        submit(&client, "#checklists li a.button").await;
        wait_for_address(&client, |a| a.starts_with("/settings/checklists/")).await;
        fill(&client, "#checklist-form #field-name", "标准鉴定 v2").await;
        submit(&client, "#checklist-form button[type=submit]").await;
        saved(&client).await;
        assert!(text(&client, "#checklist-title").await.contains("v2"));
        screenshot(&client, "settings-checklist-desktop").await;
        submit(&client, "#delete-checklist-form button").await;
        saved(&client).await;
        assert!(gone(&client, "#checklists li").await);

        client.set_window_size(375, 812).await.unwrap();
        for page in [
            "working-hours",
            "dedup",
            "targets",
            "checklists",
            "assignment/test",
        ] {
            client
                .goto(&format!("{base}/settings/{page}"))
                .await
                .unwrap();
            let (scroll, inner) = widths(&client).await;
            assert!(inner <= 375, "the window is phone-sized: {inner}");
            assert!(scroll <= inner, "/settings/{page} fits: {scroll} > {inner}");
            let name = page.replace('/', "-");
            screenshot(&client, &format!("settings-{name}-phone")).await;
        }
    }
}
