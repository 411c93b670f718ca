//! The reports page and the rest of the sales workspace's finishing touches: every report as a
//! chart and a table within the user's scope, its filters and its downloads (CSV and XLSX with
//! the columns named in the user's language); the API's XLSX reports and the reasons deals were
//! lost and leads disqualified; the pool's filters; board cards that open their deal; the lead
//! page's phone link; times in the viewer's own time zone; and one run in headless Chromium.

use crate::on_both_databases;
use crate::support::{Reply, TestApp, TestUser};
use crate::ui::{section, shown_text, Browser};
use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    the_reports_page_draws_every_report_within_the_users_scope,
    reports_download_with_the_columns_in_the_users_language,
    lost_and_disqualify_reasons_and_xlsx_reports_from_the_api,
    the_pool_narrows_by_source_region_tier_dates_and_text,
    board_cards_open_their_deal_and_the_lead_page_calls_the_phone,
    times_are_shown_in_the_viewers_time_zone,
);

fn id(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("an id in {value}"))
}

fn ok(reply: Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// A deal of `user`, lost for `reason`.
async fn lost_deal(app: &TestApp, user: &TestUser, name: &str, amount: i64, reason: &str) -> i64 {
    let reply = app
        .post(
            "/api/v1/opportunities",
            &user.token,
            json!({"name": name, "amount": amount}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let deal = id(&reply.body);
    ok(app
        .post(
            &format!("/api/v1/opportunities/{deal}/lose"),
            &user.token,
            json!({ "reason": reason }),
        )
        .await);
    deal
}

/// A lead of `user`, disqualified for `reason`.
async fn disqualified(app: &TestApp, user: &TestUser, name: &str, reason: &str) {
    let lead = app.lead(&user.token, json!({"name": name})).await;
    ok(app
        .patch(
            &format!("/api/v1/leads/{}", id(&lead)),
            &user.token,
            json!({"status": "disqualified", "disqualify_reason": reason}),
        )
        .await);
}

struct Sales {
    lin: TestUser,
    wu: TestUser,
}

/// Two reps' work this month: Lin has two web-form leads and one from an event, one of them
/// disqualified as 空号, and lost two deals on price; Wu has a referral and lost a deal for
/// want of budget.
async fn this_month(app: &TestApp) -> Sales {
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap());
    let lin = app.user("lin", Role::Rep, None).await;
    let wu = app.user("wu", Role::Rep, None).await;
    for (name, source) in [
        ("陈晓明", "web_form"),
        ("王芳", "web_form"),
        ("李雷", "event"),
    ] {
        app.lead(&lin.token, json!({"name": name, "source": source}))
            .await;
    }
    app.lead(&wu.token, json!({"name": "韩梅", "source": "referral"}))
        .await;
    disqualified(app, &lin, "赵六", "空号").await;
    lost_deal(app, &lin, "云启 CRM", 30000, "价格太高").await;
    lost_deal(app, &lin, "恒远 ERP", 20000, " 价格太高 ").await;
    lost_deal(app, &wu, "明教 OA", 10000, "预算不足").await;
    Sales { lin, wu }
}

async fn the_reports_page_draws_every_report_within_the_users_scope(app: TestApp) {
    this_month(&app).await;
    let browser = Browser::signed_in(&app, "lin").await;
    let page = browser.get("/reports").await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("href=\"/reports\""), "linked in the nav");
    // Leads by source by default, Lin's own only: four (one disqualified), no referral.
    let leads = section(&page.body, "report-leads");
    assert!(leads.contains("线索总数 4"), "{leads}");
    assert!(
        leads.contains("网站表单") && leads.contains("展会活动"),
        "{leads}"
    );
    assert!(
        !leads.contains("客户推荐"),
        "Wu's lead is not Lin's: {leads}"
    );
    assert!(leads.contains("<svg class=\"bar\""), "a chart: {leads}");
    assert!(leads.contains("id=\"report-table\""), "a table: {leads}");
    assert!(
        !page.body.contains("report=channels"),
        "spend is an admin's"
    );

    // Every other report opens, each with its own section.
    for report in [
        "funnel",
        "speed-to-lead",
        "activities",
        "sales-cycle",
        "forecast",
        "targets",
        "rfm",
        "lost-reasons",
        "disqualify-reasons",
    ] {
        let page = browser.get(&format!("/reports?report={report}")).await;
        page.assert_html(StatusCode::OK);
        assert!(
            page.body.contains(&format!("id=\"report-{report}\"")),
            "{report}: {}",
            page.body
        );
    }
    let lost = browser.get("/reports?report=lost-reasons").await;
    let lost = section(&lost.body, "report-lost-reasons");
    assert!(
        lost.contains("价格太高") && lost.contains("¥50,000.00"),
        "{lost}"
    );
    assert!(!lost.contains("预算不足"), "Wu's deal is not Lin's: {lost}");
    let disqualified = browser.get("/reports?report=disqualify-reasons").await;
    assert!(section(&disqualified.body, "report-disqualify-reasons").contains("空号"));
    // Cost per channel is an admin's; a rep asking for it gets the default report.
    let channels = browser.get("/reports?report=channels").await;
    assert!(channels.body.contains("id=\"report-leads\""));

    // A filter: leads per owner.
    let page = browser.get("/reports?report=leads&group_by=owner").await;
    assert!(page.body.contains("<option value=\"owner\" selected>"));
    let table = section(&page.body, "report-leads");
    assert!(table.contains(">lin<"), "{table}");
    // A range that is not one is said in words, with a 422.
    let page = browser.get("/reports?from=2026-13-01").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(section(&page.body, "report-error").contains("日期格式"));
    let page = browser.get("/reports?from=2026-11-10&to=2026-11-01").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("结束日期不能早于开始日期"));

    // The admin sees everyone and the channels.
    let admin = Browser::signed_in(&app, "admin").await;
    let page = admin.get("/reports").await;
    assert!(section(&page.body, "report-leads").contains("客户推荐"));
    let page = admin.get("/reports?report=channels").await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("id=\"report-channels\""));
    let page = admin.get("/reports?report=lost-reasons").await;
    assert!(section(&page.body, "report-lost-reasons").contains("预算不足"));
}

async fn reports_download_with_the_columns_in_the_users_language(app: TestApp) {
    let s = this_month(&app).await;
    let browser = Browser::signed_in(&app, "lin").await;
    let page = browser.get("/reports").await;
    let link =
        "/reports/download?report=leads&from=2026-10-22&to=2026-11-20&group_by=source&format=csv";
    assert!(shown_text(&page.body).contains(link), "{}", page.body);
    let csv = browser.get(link).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(csv.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"leads-20261120"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "\u{feff}来源,名称,线索数,已转化,转化率（%）");
    assert!(lines.contains(&"web_form,web_form,2,0,0.0"), "{lines:?}");
    assert!(!csv.body.contains("referral"), "Wu's lead is not Lin's");

    let xlsx = browser
        .get("/reports/download?report=lost-reasons&format=xlsx")
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert_eq!(
        xlsx.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(xlsx.body.starts_with("PK"), "a zip file");

    // In English, the same file speaks English.
    ok(app
        .patch(
            &format!("/api/v1/users/{}", s.lin.id),
            &s.lin.token,
            json!({"locale": "en"}),
        )
        .await);
    let page = browser.get("/reports?report=speed-to-lead").await;
    assert!(page.body.contains("Speed to lead"), "{}", page.body);
    let csv = browser
        .get("/reports/download?report=speed-to-lead&format=csv")
        .await;
    assert!(
        csv.body.starts_with(
            "\u{feff}Owner id,Owner,Leads,Contacted,Median (hours),Average (hours),Within 1 hour (%)\n"
        ),
        "{}",
        csv.body
    );
    let bad = browser.get("/reports/download?from=someday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Enter dates as year-month-day"));
}

async fn lost_and_disqualify_reasons_and_xlsx_reports_from_the_api(app: TestApp) {
    let s = this_month(&app).await;
    let all = ok(app
        .get("/api/v1/reports/lost-reasons", &app.admin_token)
        .await);
    assert_eq!(all["total"], 3, "{all}");
    assert_eq!(all["other"], 0);
    assert_eq!(
        all["items"][0],
        json!({"reason": "价格太高", "label": "价格太高", "count": 2, "share_pct": 66.7, "amount": 50000.0}),
        "the same reason with spaces around it counts once: {all}"
    );
    assert_eq!(all["items"][1]["reason"], "预算不足");
    let wu = ok(app.get("/api/v1/reports/lost-reasons", &s.wu.token).await);
    assert_eq!(wu["total"], 1, "only Wu's own: {wu}");
    let reasons = ok(app
        .get("/api/v1/reports/disqualify-reasons", &s.lin.token)
        .await);
    assert_eq!(
        reasons["items"],
        json!([{"reason": "空号", "label": "空号", "count": 1, "share_pct": 100.0}]),
        "{reasons}"
    );
    let none = ok(app
        .get(
            "/api/v1/reports/disqualify-reasons?from=2026-01-01&to=2026-01-31",
            &s.lin.token,
        )
        .await);
    assert_eq!(none["total"], 0);

    let response = app
        .client
        .get(format!("{}/api/v1/reports/leads?format=xlsx", app.base))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"leads-20261120.xlsx\""
    );
    assert!(response.bytes().await.unwrap().starts_with(b"PK\x03\x04"));
    let csv = app
        .client
        .get(format!(
            "{}/api/v1/reports/lost-reasons?format=csv",
            app.base
        ))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with(
            "\u{feff}reason,count,share_pct,amount,label\n价格太高,2,66.7,50000.0,价格太高\n"
        ),
        "{csv}"
    );
    let refused = app
        .get("/api/v1/reports/funnel?format=pdf", &app.admin_token)
        .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("xlsx"));
    let refused = app
        .get(
            "/api/v1/reports/lost-reasons?group_by=owner",
            &app.admin_token,
        )
        .await;
    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

/// A lead the admin makes with `body` and returns to `pool`.
async fn pooled(app: &TestApp, pool: i64, body: Value) -> i64 {
    let lead = id(&app.lead(&app.admin_token, body).await);
    ok(app
        .post(
            &format!("/api/v1/leads/{lead}/release"),
            &app.admin_token,
            json!({"reason": "公海线索", "pool_id": pool}),
        )
        .await);
    lead
}

async fn the_pool_narrows_by_source_region_tier_dates_and_text(app: TestApp) {
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap());
    let rep = app.user("lin", Role::Rep, None).await;
    let pool = crate::pool::create_pool(
        &app,
        json!({"name": "华东公海", "member_user_ids": [rep.id]}),
    )
    .await;
    pooled(
        &app,
        pool,
        json!({"name": "王芳", "company": "云启科技", "source": "web_form",
               "province": "浙江", "city": "杭州"}),
    )
    .await;
    pooled(
        &app,
        pool,
        json!({"name": "李雷", "company": "恒远贸易", "source": "event",
               "province": "上海", "city": "上海"}),
    )
    .await;
    pooled(
        &app,
        pool,
        json!({"name": "韩梅", "company": "明教", "source": "web_form",
               "province": "上海", "city": "上海"}),
    )
    .await;
    let names = |reply: Reply| -> Vec<String> {
        let body = ok(reply);
        let mut names: Vec<String> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let list = |query: &str| {
        let path = format!("/api/v1/pools/{pool}/leads?{query}");
        let token = rep.token.clone();
        let app = &app;
        async move { app.get(&path, &token).await }
    };
    assert_eq!(names(list("source=web_form").await), ["王芳", "韩梅"]);
    assert_eq!(names(list("source=web_form&city=上海").await), ["韩梅"]);
    assert_eq!(names(list("province=浙江").await), ["王芳"]);
    assert_eq!(names(list("q=恒远").await), ["李雷"]);
    assert_eq!(names(list("q=李").await), ["李雷"]);
    assert!(names(list("tier=high").await).is_empty());
    assert_eq!(
        names(list("created_from=2026-11-20&created_to=2026-11-20").await).len(),
        3
    );
    assert!(names(list("created_from=2026-11-21").await).is_empty());
    assert!(names(list("created_to=2026-11-19").await).is_empty());
    list("created_to=someday")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    list("owner_id=3")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    // The page: filters narrow every pool and stay in the paging links; claims are confirmed.
    let browser = Browser::signed_in(&app, "lin").await;
    let page = browser.get("/pool?city=上海&source=web_form").await;
    page.assert_html(StatusCode::OK);
    let shown = section(&page.body, &format!("pool-{pool}"));
    assert!(shown.contains("韩梅"), "{shown}");
    assert!(
        !shown.contains("王芳") && !shown.contains("李雷"),
        "{shown}"
    );
    assert!(page.body.contains("<option value=\"web_form\" selected>"));
    assert!(page.body.contains("id=\"pool-clear\""));
    let page = browser.get("/pool?q=恒远").await;
    let shown = section(&page.body, &format!("pool-{pool}"));
    assert!(shown.contains("李雷") && !shown.contains("韩梅"), "{shown}");
    assert!(shown.contains(&format!("href=\"/pool/{pool}/claim?lead_id=")));
    let page = browser.get("/pool?created_from=someday").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        section(&page.body, "filter-error").contains("日期格式"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("id=\"claim-error\""));
    let shown = section(&page.body, &format!("pool-{pool}"));
    assert!(
        shown.contains("王芳") && shown.contains("李雷"),
        "all again: {shown}"
    );
}

async fn board_cards_open_their_deal_and_the_lead_page_calls_the_phone(app: TestApp) {
    let rep = app.user("lin", Role::Rep, None).await;
    let reply = app
        .post(
            "/api/v1/opportunities",
            &rep.token,
            json!({"name": "云启 CRM", "amount": 30000}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let deal = id(&reply.body);
    let lead = app
        .lead(
            &rep.token,
            json!({"name": "陈晓明", "phone": "13812345678"}),
        )
        .await;

    let browser = Browser::signed_in(&app, "lin").await;
    let board = browser.get("/board").await;
    board.assert_html(StatusCode::OK);
    let card = &board.body[board
        .body
        .find(&format!("id=\"deal-{deal}\""))
        .expect("the card")..];
    assert!(
        card.contains(&format!(
            "<a class=\"deal-link\" href=\"/opportunities/{deal}\">云启 CRM</a>"
        )),
        "{card}"
    );
    browser
        .get(&format!("/opportunities/{deal}"))
        .await
        .assert_html(StatusCode::OK);

    let page = browser.get(&format!("/leads/{}", id(&lead))).await;
    assert!(
        page.body
            .contains("<a href=\"tel:+8613812345678\">138 1234 5678</a>"),
        "{}",
        page.body
    );
}

async fn times_are_shown_in_the_viewers_time_zone(app: TestApp) {
    // 09:00 UTC: 17:00 in China, 10:00 in Berlin.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    let rep = app.user("lin", Role::Rep, None).await;
    let lead = id(&app.lead(&rep.token, json!({"name": "陈晓明"})).await);
    let reply = app
        .post(
            &format!("/api/v1/leads/{lead}/activities"),
            &rep.token,
            json!({"type": "call", "next_follow_up_at": "2026-11-02T08:00:00Z"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let browser = Browser::signed_in(&app, "lin").await;
    let page = browser.get(&format!("/leads/{lead}")).await;
    assert!(page.body.contains("2026-11-02 17:00"), "{}", page.body);
    assert!(page.body.contains("北京时间"));
    let today = browser.get("/today").await;
    assert!(today.body.contains("2026-11-02 16:00"), "{}", today.body);

    ok(app
        .patch(
            &format!("/api/v1/users/{}", rep.id),
            &rep.token,
            json!({"time_zone": "Europe/Berlin"}),
        )
        .await);
    let page = browser.get(&format!("/leads/{lead}")).await;
    assert!(page.body.contains("2026-11-02 10:00"), "{}", page.body);
    assert!(!page.body.contains("2026-11-02 17:00"), "{}", page.body);
    assert!(page.body.contains("Europe/Berlin"), "the follow-up hint");
    let today = browser.get("/today").await;
    assert!(today.body.contains("2026-11-02 09:00"), "{}", today.body);
    let list = browser.get("/leads").await;
    assert!(list.body.contains("2026-11-02"), "{}", list.body);

    // A follow-up planned on the page is read in Berlin time.
    let csrf = browser.csrf().await;
    let posted = browser
        .post(
            &format!("/leads/{lead}/activities"),
            &[
                ("csrf_token", &csrf),
                ("type", "call"),
                ("next_follow_up_at", "2026-11-05T10:00"),
            ],
        )
        .await;
    assert!(posted.status.is_success() || posted.status.is_redirection());
    let activities = ok(app
        .get(&format!("/api/v1/leads/{lead}/activities"), &rep.token)
        .await);
    let planned: Vec<&str> = activities["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["next_follow_up_at"].as_str())
        .collect();
    assert!(
        planned
            .iter()
            .any(|at| at.starts_with("2026-11-05T09:00:00")),
        "{activities}"
    );
}

mod browser {
    //! The reports page, the board and the pool in headless Chromium, at desktop and phone
    //! width, with screenshots of the reports page.

    use crate::support::{Backend, TestApp};
    use crate::ui::browser::{
        chromedriver_or_skip, in_chromium, open_from_nav, screenshot, sign_in, text_of,
        wait_for_address, widths,
    };
    use fantoccini::{Client, Locator};
    use serde_json::{json, Value};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reports_board_and_pool_in_headless_chromium() {
        let Some(chromedriver) = chromedriver_or_skip() else {
            return;
        };
        let app = TestApp::start(Backend::Sqlite)
            .await
            .expect("a SQLite test app");
        let s = super::this_month(&app).await;
        let deal = app
            .post(
                "/api/v1/opportunities",
                &s.lin.token,
                json!({"name": "云启 CRM 二期", "amount": 80000}),
            )
            .await;
        let deal = super::id(&deal.body);
        let pool = crate::pool::create_pool(
            &app,
            json!({"name": "华东公海", "member_user_ids": [s.lin.id]}),
        )
        .await;
        super::pooled(&app, pool, json!({"name": "周杰", "city": "杭州"})).await;
        super::pooled(&app, pool, json!({"name": "吴敏", "city": "上海"})).await;
        in_chromium(chromedriver, app.base.clone(), move |client, base| {
            scenario(client, base, deal)
        })
        .await;
    }

    /// The text the link `css` downloads, fetched by the page itself (with its session).
    async fn download(client: &Client, css: &str) -> String {
        let href = client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .expect("a link");
        let text: Value = client
            .execute(
                "return fetch(arguments[0]).then(r => r.ok ? r.text() : 'HTTP ' + r.status);",
                vec![Value::from(href)],
            )
            .await
            .unwrap();
        text.as_str().unwrap_or_default().to_owned()
    }

    async fn scenario(client: Client, base: String, deal: i64) {
        let wait = || client.wait().at_most(Duration::from_secs(10));
        client.set_window_size(1366, 900).await.unwrap();
        sign_in(&client, &base, "lin").await;

        // Reports from the top bar; a filter; the CSV of what is shown.
        open_from_nav(&client, "/reports").await;
        client
            .find(Locator::Id("group-by"))
            .await
            .unwrap()
            .select_by_value("owner")
            .await
            .unwrap();
        client
            .find(Locator::Css("#report-filters button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| a.contains("group_by=owner")).await;
        assert!(text_of(&client, "#report-table").await.contains("lin"));
        let csv = download(&client, "#download-csv").await;
        assert!(
            // The page's text decoder drops the byte order mark.
            csv.starts_with("负责人,名称,线索数"),
            "the CSV download: {csv}"
        );
        assert!(csv.contains(",lin,4,"), "{csv}");
        client
            .goto(&format!("{base}/reports?report=lost-reasons"))
            .await
            .unwrap();
        wait()
            .for_element(Locator::Id("report-table"))
            .await
            .unwrap();
        screenshot(&client, "reports-desktop").await;

        // On a phone the chart fits and only the table scrolls sideways.
        client.set_window_size(375, 812).await.unwrap();
        client.goto(&format!("{base}/reports")).await.unwrap();
        wait()
            .for_element(Locator::Id("report-table"))
            .await
            .unwrap();
        let (scroll, width) = widths(&client).await;
        assert!(
            scroll <= width,
            "the reports page scrolls sideways: {scroll} > {width}"
        );
        screenshot(&client, "reports-phone").await;

        // A board card opens its deal.
        client.set_window_size(1366, 900).await.unwrap();
        client.goto(&format!("{base}/board")).await.unwrap();
        wait()
            .for_element(Locator::Css(&format!("#deal-{deal} .deal-link")))
            .await
            .expect("the card's link")
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| {
            a.starts_with(&format!("/opportunities/{deal}"))
        })
        .await;

        // The pool's search narrows the list.
        client.goto(&format!("{base}/pool")).await.unwrap();
        assert!(text_of(&client, ".pool").await.contains("周杰"));
        client
            .find(Locator::Id("pool-city"))
            .await
            .unwrap()
            .send_keys("上海")
            .await
            .unwrap();
        client
            .find(Locator::Css("#pool-filters .filter-actions button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| a.contains("city=")).await;
        let shown = text_of(&client, ".pool").await;
        assert!(shown.contains("吴敏") && !shown.contains("周杰"), "{shown}");

        // The reports page in English.
        client.goto(&format!("{base}/reports")).await.unwrap();
        client
            .find(Locator::Css(".lang-switch button[value=en]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait()
            .for_element(Locator::XPath("//h1[text()='Reports']"))
            .await
            .expect("the English page");
        screenshot(&client, "reports-english-1366").await;
    }
}
