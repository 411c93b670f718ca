//! 设置 → 审计日志 (`/settings/audit`) as an admin uses it: a change just made shows with who
//! made it and its before → after, the export log and the sign-ins have their tabs, filters
//! narrow the list, and no one but an admin gets in. Once in headless Chromium at 1366 px and
//! 375 px, from the settings menu.

use crate::on_both_databases;
use crate::support::TestApp;
use crate::ui::Browser;
use reqwest::StatusCode;
use serde_json::json;
use xiansuo_core::role::Role;

on_both_databases!(an_admin_reads_settings_changes_exports_and_sign_ins_in_the_audit_log);

async fn an_admin_reads_settings_changes_exports_and_sign_ins_in_the_audit_log(app: TestApp) {
    app.user("xiaoli", Role::Rep, None).await;
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let created = admin
        .post(
            "/settings/teams",
            &[
                ("csrf_token", &csrf),
                ("name", "华北"),
                ("parent_id", ""),
                ("kind", "headquarters"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let team = app.get("/api/v1/teams", &app.admin_token).await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let renamed = admin
        .post(
            &format!("/settings/teams/{team}"),
            &[
                ("csrf_token", &csrf),
                ("name", "华北区"),
                ("parent_id", ""),
                ("kind", "headquarters"),
            ],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);

    let page = admin.get("/settings/audit").await;
    page.assert_html(StatusCode::OK);
    assert!(page
        .body
        .contains("href=\"/settings/audit\" aria-current=\"page\""));
    let changes = crate::ui::section(&page.body, "audit-changes");
    assert!(
        changes.contains("<del>华北</del> → <ins>华北区</ins>"),
        "{changes}"
    );
    assert!(changes.contains("名称") && changes.contains("团队") && changes.contains("修改"));
    assert!(changes.contains("新建"), "{changes}");

    let filtered = admin.get("/settings/audit?kind=user").await;
    assert!(!filtered.body.contains("华北区"), "only user changes");
    let refused = admin.get("/settings/audit?from=yesterday").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("role=\"alert\""));

    let exported = app
        .client
        .get(format!("{}/api/v1/leads/export", app.base))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(exported.status(), StatusCode::OK);
    exported.bytes().await.unwrap();
    // The export is logged once the file has been written out.
    for _ in 0..50 {
        let log = app.get("/api/v1/exports", &app.admin_token).await;
        if !log.body["items"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let exports = admin.get("/settings/audit?tab=exports").await;
    assert!(crate::ui::section(&exports.body, "audit-exports").contains("lead"));

    Browser::new(&app)
        .post(
            "/login",
            &[
                ("username", "xiaoli"),
                ("password", "wrong"),
                ("csrf_token", "x"),
            ],
        )
        .await;
    let api_login = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": "xiaoli", "password": "not it"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api_login.status(), StatusCode::UNAUTHORIZED);
    let logins = admin.get("/settings/audit?tab=logins").await;
    let table = crate::ui::section(&logins.body, "audit-logins");
    assert!(
        table.contains("xiaoli") && table.contains("失败"),
        "{table}"
    );
    assert!(table.contains("admin") && table.contains("成功"), "{table}");

    // The last admin token of the last admin stays, said on the tokens page.
    let token = app.get("/api/v1/tokens", &app.admin_token).await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    let kept = admin
        .post(
            &format!("/settings/tokens/{token}/revoke"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(kept.status, StatusCode::CONFLICT);
    assert!(kept.body.contains("最后一个管理员令牌"), "{}", kept.body);
    assert_eq!(
        app.get("/api/v1/me", &app.admin_token).await.status,
        StatusCode::OK
    );

    let rep = Browser::signed_in(&app, "xiaoli").await;
    assert_eq!(
        rep.get("/settings/audit").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(!rep
        .get("/settings/profile")
        .await
        .body
        .contains("/settings/audit"));
}

mod browser {
    //! The audit log in headless Chromium: a change made on the teams page, then read from the
    //! settings menu, at 1366 px and on a 375 px phone.

    use crate::support::{Backend, TestApp};
    use crate::ui::browser::{
        chromedriver_or_skip, in_chromium, screenshot, text_of, wait_for_address, widths,
    };
    use fantoccini::{Client, Locator};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_admin_sees_a_change_they_just_made_in_the_audit_log_in_headless_chromium() {
        let Some(chromedriver) = chromedriver_or_skip() else {
            return;
        };
        let app = TestApp::start(Backend::Sqlite)
            .await
            .expect("a SQLite test app");
        in_chromium(chromedriver, app.base.clone(), scenario).await;
    }

    async fn fill(client: &Client, css: &str, text: &str) {
        let input = client.find(Locator::Css(css)).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    async fn click(client: &Client, css: &str) {
        client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    async fn scenario(client: Client, base: String) {
        client.set_window_size(1366, 900).await.unwrap();
        client.goto(&format!("{base}/login")).await.unwrap();
        fill(&client, "input[name=username]", "admin").await;
        fill(&client, "input[name=password]", "password123").await;
        click(&client, "form button[type=submit]").await;
        wait_for_address(&client, |a| a.starts_with("/leads")).await;

        client
            .goto(&format!("{base}/settings/teams"))
            .await
            .unwrap();
        fill(&client, "#new-team-form input[name=name]", "华东大区").await;
        click(&client, "#new-team-form button[type=submit]").await;
        wait_for_address(&client, |a| a.starts_with("/settings/teams")).await;
        client
            .goto(&format!("{base}/settings/users"))
            .await
            .unwrap();
        click(&client, ".settings-nav a[href='/settings/audit']").await;
        wait_for_address(&client, |a| a.starts_with("/settings/audit")).await;
        let row = text_of(&client, "#audit-changes tbody tr").await;
        assert!(row.contains("华东大区") && row.contains("新建"), "{row}");
        let (scroll, inner) = widths(&client).await;
        assert!(
            scroll <= inner,
            "no sideways scrolling at 1366 px: {scroll} > {inner}"
        );
        screenshot(&client, "settings-audit-desktop").await;

        client.set_window_size(375, 812).await.unwrap();
        client.refresh().await.unwrap();
        let (scroll, inner) = widths(&client).await;
        assert!(
            scroll <= inner,
            "no sideways scrolling at 375 px: {scroll} > {inner}"
        );
        screenshot(&client, "settings-audit-phone").await;
        click(&client, "a[href='/settings/audit?tab=logins']").await;
        wait_for_address(&client, |a| a.contains("tab=logins")).await;
        assert!(text_of(&client, "#audit-logins").await.contains("admin"));
    }
}
