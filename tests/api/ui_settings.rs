//! The settings pages as people use them, over HTTP with the cookie-keeping browser of
//! `ui.rs`: an admin's settings (users, the org tree, custom fields, pipeline stages), every
//! user's profile (own password, language, time zone) and API tokens with scopes; the guard
//! that keeps one active admin, through the page and the API; a read-only token refused on a
//! write. Once in a real headless Chromium: an admin creates a user and a custom field, at
//! desktop width and at 375 px.

use crate::on_both_databases;
use crate::support::TestApp;
use crate::ui::{Browser, Page};
use reqwest::StatusCode;
use serde_json::json;
use xiansuo_core::role::Role;

on_both_databases!(
    an_admin_finds_settings_in_the_navigation_and_a_rep_only_their_profile,
    a_user_changes_their_own_password_only_with_the_current_one,
    the_profile_keeps_language_and_time_zone_and_refuses_an_unknown_zone,
    an_admin_creates_edits_and_deactivates_a_user_and_resets_their_password,
    the_last_active_admin_cannot_be_demoted_or_deactivated_through_the_page_or_the_api,
    an_admin_adds_renames_and_moves_teams_but_not_below_themselves,
    an_admin_defines_edits_and_deletes_a_custom_field_told_first_what_becomes_of_its_values,
    an_admin_adds_edits_and_archives_a_pipeline_stage,
    tokens_have_scopes_and_a_read_only_token_cannot_write,
    an_admin_subscribes_a_webhook_reads_its_deliveries_and_sends_one_again,
    an_admin_orders_assignment_rules_with_buttons_and_new_leads_follow_the_order,
    an_admin_sets_tiers_and_scoring_rules_that_score_new_leads,
    an_admin_sets_up_a_web_form_and_copies_the_snippet_visitors_post_through,
    an_admin_sets_up_a_public_pool_and_cannot_delete_one_that_holds_leads,
    an_admin_adds_changes_and_deletes_a_recycle_rule,
    an_admin_adds_changes_and_deletes_an_sla_rule,
    the_settings_speak_english,
);

/// The text inside the element with this id (up to its first tag), if the page has one.
pub(crate) fn text_by_id(page: &Page, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let start = page.body.find(&marker)?;
    let after = &page.body[start..];
    let open = after.find('>')? + 1;
    let close = after[open..].find('<')?;
    Some(after[open..open + close].trim().to_owned())
}

/// The id at the end of a `/settings/users/{id}?…` redirect.
fn user_id(location: &str) -> i64 {
    location
        .trim_start_matches("/settings/users/")
        .split('?')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a user's address, got {location}"))
}

/// Signs in with a password; the answer to the sign-in form.
async fn sign_in(app: &TestApp, username: &str, password: &str) -> Page {
    let browser = Browser::new(app);
    let form = browser.get("/login").await;
    browser
        .post(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf_token", &form.csrf()),
            ],
        )
        .await
}

async fn an_admin_finds_settings_in_the_navigation_and_a_rep_only_their_profile(app: TestApp) {
    app.user("wang", Role::Rep, None).await;
    let admin = Browser::signed_in(&app, "admin").await;
    let leads = admin.get("/leads").await;
    assert!(leads.body.contains("href=\"/settings\""), "{}", leads.body);
    let index = admin.get("/settings").await;
    index.assert_html(StatusCode::OK);
    for section in [
        "/settings/profile",
        "/settings/users",
        "/settings/teams",
        "/settings/fields",
        "/settings/stages",
        "/settings/tokens",
    ] {
        assert!(
            index.body.contains(&format!("href=\"{section}\"")),
            "{section} in {}",
            index.body
        );
    }
    assert!(index.body.contains("设置"));

    let rep = Browser::signed_in(&app, "wang").await;
    let leads = rep.get("/leads").await;
    assert!(
        !leads.body.contains("href=\"/settings\""),
        "no settings link for a rep: {}",
        leads.body
    );
    assert!(leads.body.contains("href=\"/settings/profile\""));
    let index = rep.get("/settings").await;
    assert_eq!(index.status, StatusCode::SEE_OTHER);
    assert_eq!(index.location(), "/settings/profile");
    let profile = rep.get("/settings/profile").await;
    profile.assert_html(StatusCode::OK);
    assert!(
        !profile.body.contains("href=\"/settings/users\""),
        "the menu has no admin sections for a rep"
    );
    for page in [
        "/settings/users",
        "/settings/users/1",
        "/settings/teams",
        "/settings/fields",
        "/settings/stages",
    ] {
        rep.get(page).await.assert_html(StatusCode::FORBIDDEN);
    }
    let csrf = rep.csrf().await;
    let refused = rep
        .post(
            "/settings/users",
            &[
                ("csrf_token", &csrf),
                ("username", "intruder"),
                ("password", "password123"),
                ("role", "admin"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::FORBIDDEN);
    let refused = rep
        .post(
            "/settings/fields",
            &[
                ("csrf_token", &csrf),
                ("object", "lead"),
                ("key", "budget"),
                ("label", "预算"),
                ("field_type", "number"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::FORBIDDEN);
    let users = app.get("/api/v1/users", &app.admin_token).await;
    assert!(
        !users.body.to_string().contains("intruder"),
        "nothing was created"
    );
    let fields = app.get("/api/v1/custom-fields", &app.admin_token).await;
    assert_eq!(fields.body["items"], json!([]));
}

async fn a_user_changes_their_own_password_only_with_the_current_one(app: TestApp) {
    let rep = app.user("wang", Role::Rep, None).await;
    let browser = Browser::signed_in(&app, "wang").await;
    let csrf = browser.csrf().await;

    let wrong = browser
        .post(
            "/settings/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "not my password"),
                ("new_password", "new-password-456"),
                ("confirm_password", "new-password-456"),
            ],
        )
        .await;
    wrong.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&wrong, "error-current_password").as_deref(),
        Some("不是你当前的密码")
    );

    let differ = browser
        .post(
            "/settings/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "password123"),
                ("new_password", "new-password-456"),
                ("confirm_password", "new-password-789"),
            ],
        )
        .await;
    differ.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&differ, "error-confirm_password").as_deref(),
        Some("两次输入的新密码不一致")
    );

    let short = browser
        .post(
            "/settings/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "password123"),
                ("new_password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    short.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&short, "error-new_password").as_deref(),
        Some("至少 8 个字符")
    );
    assert_eq!(
        sign_in(&app, "wang", "password123").await.status,
        StatusCode::SEE_OTHER,
        "refused changes left the password alone"
    );

    let changed = browser
        .post(
            "/settings/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "password123"),
                ("new_password", "new-password-456"),
                ("confirm_password", "new-password-456"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let profile = browser.get(changed.location()).await;
    assert!(profile.body.contains("密码已修改"), "{}", profile.body);
    assert_eq!(
        sign_in(&app, "wang", "password123").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, "wang", "new-password-456").await.status,
        StatusCode::SEE_OTHER
    );

    // The same use case through the API.
    let wrong = app
        .post(
            "/api/v1/me/password",
            &rep.token,
            json!({"current_password": "password123", "new_password": "another-pass-1"}),
        )
        .await;
    wrong.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(wrong.body["error"]["field"], "current_password");
    app.patch(
        &format!("/api/v1/users/{}", rep.id),
        &rep.token,
        json!({"password": "no-current-needed"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let changed = app
        .post(
            "/api/v1/me/password",
            &rep.token,
            json!({"current_password": "new-password-456", "new_password": "another-pass-1"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    assert_eq!(
        sign_in(&app, "wang", "another-pass-1").await.status,
        StatusCode::SEE_OTHER
    );
}

async fn the_profile_keeps_language_and_time_zone_and_refuses_an_unknown_zone(app: TestApp) {
    let rep = app.user("wang", Role::Rep, None).await;
    let browser = Browser::signed_in(&app, "wang").await;
    let page = browser.get("/settings/profile").await;
    assert!(
        page.body
            .contains("id=\"field-time_zone\" value=\"Asia/Shanghai\""),
        "the default zone is shown: {}",
        page.body
    );
    let csrf = page.csrf();

    let refused = browser
        .post(
            "/settings/profile",
            &[
                ("csrf_token", &csrf),
                ("display_name", "王小明"),
                ("email", ""),
                ("locale", "zh"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    let error = text_by_id(&refused, "error-time_zone").expect("an error next to the zone");
    assert!(
        error.contains("Mars/Olympus") && error.contains("时区"),
        "{error}"
    );
    assert!(
        refused.body.contains("value=\"王小明\""),
        "what was typed is kept"
    );
    let me = app.get("/api/v1/me", &rep.token).await;
    assert_eq!(me.body["time_zone"], "Asia/Shanghai");
    assert_eq!(me.body["display_name"], json!(null));

    let saved = browser
        .post(
            "/settings/profile",
            &[
                ("csrf_token", &csrf),
                ("display_name", "王小明"),
                ("email", "wang@example.com"),
                ("locale", "en"),
                ("time_zone", "Europe/London"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let me = app.get("/api/v1/me", &rep.token).await;
    assert_eq!(me.body["time_zone"], "Europe/London");
    assert_eq!(me.body["display_name"], "王小明");
    assert_eq!(me.body["locale"], "en");
    let page = browser.get(saved.location()).await;
    assert!(page.body.contains("Saved."), "{}", page.body);
    assert!(page.body.contains("Time zone"));

    // Times on the settings pages follow the zone: the test clock is 09:00 UTC.
    let created = browser
        .post(
            "/settings/tokens",
            &[
                ("csrf_token", &csrf),
                ("name", "报表"),
                ("scope", "read_only"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(
        created.body.contains("2026-11-02 09:00"),
        "{}",
        created.body
    );

    let api = app
        .patch(
            &format!("/api/v1/users/{}", rep.id),
            &rep.token,
            json!({"time_zone": "Asia/Nowhere"}),
        )
        .await;
    api.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

async fn an_admin_creates_edits_and_deactivates_a_user_and_resets_their_password(app: TestApp) {
    let team = app.team("华东销售", None).await;
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let team = team.to_string();

    let refused = admin
        .post(
            "/settings/users",
            &[
                ("csrf_token", &csrf),
                ("username", "李"),
                ("password", "password123"),
                ("role", "rep"),
                ("team_id", &team),
                ("locale", "zh"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&refused, "error-username").is_some_and(|e| e.contains("2 到 64")));
    assert!(
        refused.body.contains("value=\"李\""),
        "the username is kept"
    );

    let created = admin
        .post(
            "/settings/users",
            &[
                ("csrf_token", &csrf),
                ("username", "li.lei"),
                ("password", "password123"),
                ("display_name", "李雷"),
                ("role", "rep"),
                ("team_id", &team),
                ("locale", "zh"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = user_id(created.location());
    let page = admin.get(created.location()).await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("用户已创建"));
    let list = admin.get("/settings/users").await;
    assert!(list.body.contains("li.lei") && list.body.contains("华东销售"));
    assert_eq!(
        sign_in(&app, "li.lei", "password123").await.status,
        StatusCode::SEE_OTHER
    );

    let taken = admin
        .post(
            "/settings/users",
            &[
                ("csrf_token", &csrf),
                ("username", "li.lei"),
                ("password", "password123"),
                ("role", "rep"),
            ],
        )
        .await;
    taken.assert_html(StatusCode::CONFLICT);
    assert!(
        taken.body.contains("用户名「li.lei」已被占用"),
        "{}",
        taken.body
    );

    let path = format!("/settings/users/{id}");
    let edited = admin
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("form", "account"),
                ("display_name", "李雷雷"),
                ("email", "lilei@example.com"),
                ("role", "manager"),
                ("team_id", &team),
                ("locale", "en"),
                ("mask_phones", "on"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let user = app
        .get(&format!("/api/v1/users/{id}"), &app.admin_token)
        .await;
    assert_eq!(user.body["role"], "manager");
    assert_eq!(user.body["display_name"], "李雷雷");
    assert_eq!(user.body["mask_phones"], true);
    assert_eq!(user.body["locale"], "en");

    let bad_email = admin
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("form", "account"),
                ("email", "not an email"),
                ("role", "manager"),
                ("locale", "en"),
            ],
        )
        .await;
    bad_email.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&bad_email, "error-email").is_some_and(|e| e.contains("邮箱")));

    let bad_cap = admin
        .post(
            &format!("{path}/availability"),
            &[
                ("csrf_token", &csrf),
                ("away_until", ""),
                ("max_open_leads", "50"),
                ("daily_cap", "many"),
            ],
        )
        .await;
    bad_cap.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&bad_cap, "error-daily_cap").is_some_and(|e| e.contains("整数")));
    let away = admin
        .post(
            &format!("{path}/availability"),
            &[
                ("csrf_token", &csrf),
                ("away_until", "2026-11-09T18:00"),
                ("max_open_leads", "50"),
                ("daily_cap", "8"),
            ],
        )
        .await;
    assert_eq!(away.status, StatusCode::SEE_OTHER, "{}", away.body);
    let availability = app
        .get(
            &format!("/api/v1/users/{id}/availability"),
            &app.admin_token,
        )
        .await;
    assert_eq!(availability.body["daily_cap"], 8);
    assert_eq!(availability.body["max_open_leads"], 50);
    assert_eq!(availability.body["away"], true);
    let page = admin.get(&path).await;
    assert!(
        page.body.contains("value=\"2026-11-09T18:00\""),
        "shown in China time"
    );

    let short = admin
        .post(
            &format!("{path}/password"),
            &[("csrf_token", &csrf), ("password", "short")],
        )
        .await;
    short.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&short, "error-password").is_some());
    let reset = admin
        .post(
            &format!("{path}/password"),
            &[("csrf_token", &csrf), ("password", "reset-pass-2026")],
        )
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    assert_eq!(
        sign_in(&app, "li.lei", "reset-pass-2026").await.status,
        StatusCode::SEE_OTHER
    );

    let deactivated = admin
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("form", "status"),
                ("active", "false"),
            ],
        )
        .await;
    assert_eq!(deactivated.status, StatusCode::SEE_OTHER);
    let user = app
        .get(&format!("/api/v1/users/{id}"), &app.admin_token)
        .await;
    assert_eq!(user.body["active"], false);
    assert_eq!(
        sign_in(&app, "li.lei", "reset-pass-2026").await.status,
        StatusCode::UNAUTHORIZED
    );
    let page = admin.get(&path).await;
    assert!(page.body.contains("重新启用"), "{}", page.body);
}

async fn the_last_active_admin_cannot_be_demoted_or_deactivated_through_the_page_or_the_api(
    app: TestApp,
) {
    let admin_id = app.get("/api/v1/me", &app.admin_token).await.body["id"]
        .as_i64()
        .expect("the admin's id");
    let path = format!("/api/v1/users/{admin_id}");
    let refused = app
        .patch(&path, &app.admin_token, json!({"active": false}))
        .await;
    refused.assert_error(StatusCode::CONFLICT, "conflict");
    assert!(refused.body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("last active admin")));
    app.patch(&path, &app.admin_token, json!({"role": "rep"}))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");

    let browser = Browser::signed_in(&app, "admin").await;
    let csrf = browser.csrf().await;
    let page_path = format!("/settings/users/{admin_id}");
    let refused = browser
        .post(
            &page_path,
            &[
                ("csrf_token", &csrf),
                ("form", "status"),
                ("active", "false"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::CONFLICT);
    assert!(
        text_by_id(&refused, "account-alert").is_some_and(|a| a.contains("最后一个启用的管理员")),
        "{}",
        refused.body
    );
    let refused = browser
        .post(
            &page_path,
            &[
                ("csrf_token", &csrf),
                ("form", "account"),
                ("role", "manager"),
                ("locale", "zh"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::CONFLICT);
    let me = app.get("/api/v1/me", &app.admin_token).await;
    assert_eq!(me.body["role"], "admin");
    assert_eq!(me.body["active"], true);

    // With a second admin, either may step down; then the other is the last again.
    let second = app.user("zhao", Role::Admin, None).await;
    let demoted = browser
        .post(
            &page_path,
            &[
                ("csrf_token", &csrf),
                ("form", "account"),
                ("role", "manager"),
                ("locale", "zh"),
            ],
        )
        .await;
    assert_eq!(demoted.status, StatusCode::SEE_OTHER, "{}", demoted.body);
    app.patch(
        &format!("/api/v1/users/{}", second.id),
        &second.token,
        json!({"active": false}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
}

async fn an_admin_adds_renames_and_moves_teams_but_not_below_themselves(app: TestApp) {
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let empty = admin
        .post(
            "/settings/teams",
            &[
                ("csrf_token", &csrf),
                ("name", " "),
                ("kind", "headquarters"),
            ],
        )
        .await;
    empty.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&empty, "error-name").as_deref(),
        Some("不能为空")
    );

    for (name, kind) in [("总部", "headquarters"), ("华东区", "region")] {
        let added = admin
            .post(
                "/settings/teams",
                &[
                    ("csrf_token", &csrf),
                    ("name", name),
                    ("parent_id", ""),
                    ("kind", kind),
                ],
            )
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    }
    let teams = app.get("/api/v1/teams", &app.admin_token).await;
    let id_of = |name: &str| {
        teams.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .and_then(|t| t["id"].as_i64())
            .unwrap_or_else(|| panic!("{name} in {}", teams.body))
    };
    let (hq, east) = (id_of("总部").to_string(), id_of("华东区").to_string());

    let moved = admin
        .post(
            &format!("/settings/teams/{east}"),
            &[
                ("csrf_token", &csrf),
                ("name", "华东大区"),
                ("parent_id", &hq),
                ("kind", "region"),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let team = app
        .get(&format!("/api/v1/teams/{east}"), &app.admin_token)
        .await;
    assert_eq!(team.body["name"], "华东大区");
    assert_eq!(team.body["parent_id"].to_string(), hq);
    let page = admin.get("/settings/teams").await;
    let row = |id: &str| page.body.find(&format!("id=\"team-{id}\""));
    assert!(
        row(&hq).is_some() && row(&hq) < row(&east),
        "a parent comes before its children"
    );
    assert!(page
        .body
        .contains(&format!("tree-item depth-1\" id=\"team-{east}\"")));

    let cycle = admin
        .post(
            &format!("/settings/teams/{hq}"),
            &[
                ("csrf_token", &csrf),
                ("name", "总部"),
                ("parent_id", &east),
                ("kind", "headquarters"),
            ],
        )
        .await;
    cycle.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&cycle, &format!("error-team-{hq}-parent")).as_deref(),
        Some("团队不能放到自己或自己的下级下面")
    );
    let team = app
        .get(&format!("/api/v1/teams/{hq}"), &app.admin_token)
        .await;
    assert_eq!(team.body["parent_id"], json!(null));
}

async fn an_admin_defines_edits_and_deletes_a_custom_field_told_first_what_becomes_of_its_values(
    app: TestApp,
) {
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let refused = admin
        .post(
            "/settings/fields",
            &[
                ("csrf_token", &csrf),
                ("object", "lead"),
                ("key", "budget_range"),
                ("label", "预算范围"),
                ("field_type", "single_select"),
                ("options", ""),
            ],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&refused, "error-options").as_deref(),
        Some("单选和多选字段至少需要一个选项")
    );
    assert!(refused.body.contains("value=\"budget_range\""));
    let bad_key = admin
        .post(
            "/settings/fields",
            &[
                ("csrf_token", &csrf),
                ("object", "lead"),
                ("key", "Budget Range"),
                ("label", "预算范围"),
                ("field_type", "text"),
            ],
        )
        .await;
    bad_key.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&bad_key, "error-key").is_some_and(|e| e.contains("不是有效的字段键")));

    let created = admin
        .post(
            "/settings/fields",
            &[
                ("csrf_token", &csrf),
                ("object", "lead"),
                ("key", "budget_range"),
                ("label", "预算范围"),
                ("field_type", "single_select"),
                ("options", "10万以下\n10-50万\n"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let fields = app.get("/api/v1/custom-fields", &app.admin_token).await;
    let field = &fields.body["items"][0];
    assert_eq!(field["options"], json!(["10万以下", "10-50万"]));
    let id = field["id"].as_i64().unwrap();
    let list = admin.get("/settings/fields").await;
    assert!(list.body.contains("预算范围") && list.body.contains("单选"));

    let lead = app
        .lead(
            &app.admin_token,
            json!({"name": "周芷若", "custom": {"budget_range": "10-50万"}}),
        )
        .await;
    app.lead(&app.admin_token, json!({"name": "殷离"})).await;

    let path = format!("/settings/fields/{id}");
    let edited = admin
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("label", "预算"),
                ("options", "10万以下\n10-50万\n50万以上"),
                ("position", "3"),
                ("required", ""),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let field = app
        .get(&format!("/api/v1/custom-fields/{id}"), &app.admin_token)
        .await;
    assert_eq!(field.body["label"], "预算");
    assert_eq!(field.body["position"], 3);
    assert_eq!(field.body["options"][2], "50万以上");
    let twice = admin
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("label", "预算"),
                ("options", "10万以下\n10万以下"),
                ("position", "x"),
            ],
        )
        .await;
    twice.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&twice, "error-options").is_some()
            || text_by_id(&twice, "error-position").is_some()
    );

    let confirm = admin.get(&format!("{path}/delete")).await;
    confirm.assert_html(StatusCode::OK);
    assert_eq!(
        text_by_id(&confirm, "records-holding").as_deref(),
        Some("1")
    );
    assert!(confirm.body.contains("不会被删除"), "{}", confirm.body);
    assert_eq!(
        app.get("/api/v1/custom-fields", &app.admin_token)
            .await
            .body["items"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "asking is not deleting"
    );
    let deleted = admin
        .post(&format!("{path}/delete"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let list = admin.get(deleted.location()).await;
    assert!(list.body.contains("自定义字段已删除"));
    assert!(!list.body.contains("budget_range"), "{}", list.body);
    assert_eq!(
        app.get("/api/v1/custom-fields", &app.admin_token)
            .await
            .body["items"],
        json!([])
    );
    let kept = app
        .get(&format!("/api/v1/leads/{}", lead["id"]), &app.admin_token)
        .await;
    assert_eq!(
        kept.body["custom"]["budget_range"], "10-50万",
        "the value stays in the record, as the page said"
    );

    // Through the API: a rep may not delete one; a missing one is a 404.
    let rep = app.user("wang", Role::Rep, None).await;
    let again = app
        .post(
            "/api/v1/custom-fields",
            &app.admin_token,
            json!({"object": "account", "key": "tier", "label": "层级", "field_type": "text"}),
        )
        .await;
    let again = again.body["id"].as_i64().unwrap();
    let refused = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/custom-fields/{again}"),
            &rep.token,
            None,
        )
        .await;
    refused.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let gone = app
        .call(
            reqwest::Method::DELETE,
            "/api/v1/custom-fields/999999",
            &app.admin_token,
            None,
        )
        .await;
    gone.assert_error(StatusCode::NOT_FOUND, "not_found");
    let deleted = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/custom-fields/{again}"),
            &app.admin_token,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

async fn an_admin_adds_edits_and_archives_a_pipeline_stage(app: TestApp) {
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let page = admin.get("/settings/stages").await;
    page.assert_html(StatusCode::OK);
    assert!(page.body.contains("id=\"stage-proposal\""), "{}", page.body);

    let refused = admin
        .post(
            "/settings/stages",
            &[
                ("csrf_token", &csrf),
                ("code", "pilot"),
                ("name_zh", "试点"),
                ("name_en", "Pilot"),
                ("probability", "150"),
                ("kind", "open"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&refused, "error-probability").as_deref(),
        Some("请填写 0 到 100 之间的整数")
    );
    let added = admin
        .post(
            "/settings/stages",
            &[
                ("csrf_token", &csrf),
                ("code", "pilot"),
                ("name_zh", "试点"),
                ("name_en", "Pilot"),
                ("probability", "55"),
                ("kind", "open"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let stages = app.get("/api/v1/pipeline/stages", &app.admin_token).await;
    let pilot = stages.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "pilot")
        .cloned()
        .expect("the new stage");
    assert_eq!(pilot["probability"], 55);
    let id = pilot["id"].as_i64().unwrap();

    let bad = admin
        .post(
            &format!("/settings/stages/{id}"),
            &[
                ("csrf_token", &csrf),
                ("name_zh", "试点"),
                ("name_en", "Pilot"),
                ("probability", "-5"),
                ("position", "3"),
                ("kind", "open"),
                ("active", "on"),
            ],
        )
        .await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&bad, "error-stage-pilot-probability").is_some(),
        "{}",
        bad.body
    );

    let archived = admin
        .post(
            &format!("/settings/stages/{id}"),
            &[
                ("csrf_token", &csrf),
                ("name_zh", "试点项目"),
                ("name_en", "Pilot project"),
                ("probability", "60"),
                ("position", "3"),
                ("kind", "open"),
            ],
        )
        .await;
    assert_eq!(archived.status, StatusCode::SEE_OTHER, "{}", archived.body);
    let stages = app.get("/api/v1/pipeline/stages", &app.admin_token).await;
    let pilot = stages.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "pilot")
        .cloned()
        .unwrap();
    assert_eq!(pilot["name_zh"], "试点项目");
    assert_eq!(pilot["probability"], 60);
    assert_eq!(pilot["active"], false);
    let page = admin.get("/settings/stages").await;
    assert!(page
        .body
        .contains("tree-item inactive\" id=\"stage-pilot\""));
}

async fn tokens_have_scopes_and_a_read_only_token_cannot_write(app: TestApp) {
    app.user("wang", Role::Rep, None).await;
    let browser = Browser::signed_in(&app, "wang").await;
    let page = browser.get("/settings/tokens").await;
    page.assert_html(StatusCode::OK);
    assert!(
        !page.body.contains("value=\"admin\""),
        "a rep is not offered admin tokens"
    );
    let csrf = page.csrf();
    let created = browser
        .post(
            "/settings/tokens",
            &[
                ("csrf_token", &csrf),
                ("name", "BI 报表"),
                ("scope", "read_only"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let read_only = text_by_id(&created, "new-token").expect("the token, shown once");
    assert!(read_only.starts_with("xs_"));
    assert!(created.body.contains("只读"));
    let listed = browser.get("/settings/tokens").await;
    assert!(
        !listed.body.contains(&read_only),
        "the secret is not shown again"
    );

    assert_eq!(
        app.get("/api/v1/leads", &read_only).await.status,
        StatusCode::OK
    );
    let write = app
        .post("/api/v1/leads", &read_only, json!({"name": "张无忌"}))
        .await;
    write.assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert!(write.body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("read-only")));
    let leads = app.get("/api/v1/leads", &app.admin_token).await;
    assert_eq!(leads.body["items"], json!([]), "nothing was written");

    let refused = browser
        .post(
            "/settings/tokens",
            &[("csrf_token", &csrf), ("name", "全部"), ("scope", "admin")],
        )
        .await;
    refused.assert_html(StatusCode::FORBIDDEN);
    let read_write = app
        .post(
            "/api/v1/tokens",
            &read_only,
            json!({"name": "escalate", "scope": "read_write"}),
        )
        .await;
    read_write.assert_error(StatusCode::FORBIDDEN, "forbidden");

    // A read-write token writes records but does nothing admin-only, even an admin's.
    let admin_rw = app
        .post(
            "/api/v1/tokens",
            &app.admin_token,
            json!({"name": "集成", "scope": "read_write"}),
        )
        .await;
    assert_eq!(admin_rw.status, StatusCode::CREATED, "{}", admin_rw.body);
    assert_eq!(admin_rw.body["scope"], "read_write");
    let admin_rw = admin_rw.body["token"].as_str().unwrap().to_owned();
    let lead = app
        .post("/api/v1/leads", &admin_rw, json!({"name": "张无忌"}))
        .await;
    assert_eq!(lead.status, StatusCode::CREATED, "{}", lead.body);
    app.post(
        "/api/v1/users",
        &admin_rw,
        json!({"username": "sneaky", "password": "password123", "role": "admin"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let tokens = app.get("/api/v1/tokens", &app.admin_token).await;
    let scopes: Vec<&str> = tokens.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["scope"].as_str())
        .collect();
    assert_eq!(scopes, ["admin", "read_write"], "{}", tokens.body);

    // Revoked in the page, refused by the API.
    let row_id = {
        let mine = browser.get("/settings/tokens").await;
        let marker = "id=\"token-row-";
        let start = mine.body.find(marker).expect("a token row") + marker.len();
        let end = mine.body[start..].find('"').unwrap();
        mine.body[start..start + end].to_owned()
    };
    let revoked = browser
        .post(
            &format!("/settings/tokens/{row_id}/revoke"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    app.get("/api/v1/leads", &read_only)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let page = browser.get("/settings/tokens").await;
    assert!(page.body.contains("已撤销"));
}

async fn an_admin_subscribes_a_webhook_reads_its_deliveries_and_sends_one_again(app: TestApp) {
    app.user("wang", Role::Rep, None).await;
    let rep = Browser::signed_in(&app, "wang").await;
    rep.get("/settings/webhooks")
        .await
        .assert_html(StatusCode::FORBIDDEN);

    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let no_events = admin
        .post(
            "/settings/webhooks",
            &[
                ("csrf_token", &csrf),
                ("url", "https://crm.example.com/hook"),
            ],
        )
        .await;
    no_events.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&no_events, "error-events").as_deref(),
        Some("请至少选择一个事件")
    );
    let bad_url = admin
        .post(
            "/settings/webhooks",
            &[
                ("csrf_token", &csrf),
                ("url", "ftp://crm.example.com"),
                ("events", "lead.created"),
            ],
        )
        .await;
    bad_url.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&bad_url, "error-url").is_some_and(|e| e.contains("https://")));
    assert!(
        bad_url.body.contains("value=\"lead.created\" checked"),
        "the chosen events are kept"
    );

    // Nothing listens on port 9 of this machine, so every delivery fails at once.
    let created = admin
        .post(
            "/settings/webhooks",
            &[
                ("csrf_token", &csrf),
                ("url", "http://127.0.0.1:9/hook"),
                ("description", "ERP 同步"),
                ("events", "lead.created"),
                ("events", "lead.converted"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = text_by_id(&created, "new-secret").expect("the secret, shown once");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let hooks = app.get("/api/v1/webhooks", &app.admin_token).await;
    let hook = &hooks.body["items"][0];
    assert_eq!(hook["events"], json!(["lead.created", "lead.converted"]));
    assert_eq!(hook["description"], "ERP 同步");
    let id = hook["id"].as_i64().unwrap();
    let path = format!("/settings/webhooks/{id}");
    assert!(!admin.get(&path).await.body.contains(&secret));

    let tested = admin
        .post(&format!("{path}/test"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(tested.status, StatusCode::SEE_OTHER, "{}", tested.body);
    let page = admin.get(&path).await;
    let delivery = {
        let marker = "id=\"delivery-";
        let start = page.body.find(marker).expect("a delivery in the log") + marker.len();
        let end = page.body[start..].find('"').unwrap();
        page.body[start..start + end].to_owned()
    };
    assert!(page.body.contains("<code>ping</code>"), "{}", page.body);
    assert!(page.body.contains("失败"), "the test failed: {}", page.body);

    let again = admin
        .post(
            &format!("/settings/deliveries/{delivery}/redeliver"),
            &[("csrf_token", &csrf), ("webhook_id", &id.to_string())],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let page = admin.get(again.location()).await;
    assert!(page.body.contains("等待中"), "{}", page.body);
    let twice = admin
        .post(
            &format!("/settings/deliveries/{delivery}/redeliver"),
            &[("csrf_token", &csrf), ("webhook_id", &id.to_string())],
        )
        .await;
    twice.assert_html(StatusCode::CONFLICT);
    assert!(text_by_id(&twice, "webhook-alert").is_some_and(|a| a.contains("等待中")));

    let edited = admin
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("url", "http://127.0.0.1:9/hook"),
                ("description", ""),
                ("events", "lead.assigned"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let hook = app
        .get(&format!("/api/v1/webhooks/{id}"), &app.admin_token)
        .await;
    assert_eq!(hook.body["events"], json!(["lead.assigned"]));
    assert_eq!(hook.body["active"], false, "the box was left unticked");
    assert_eq!(hook.body["description"], json!(null));

    let deleted = admin
        .post(&format!("{path}/delete"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/webhooks", &app.admin_token).await.body["items"],
        json!([])
    );
}

async fn an_admin_orders_assignment_rules_with_buttons_and_new_leads_follow_the_order(
    app: TestApp,
) {
    let liu = app.user("liu", Role::Rep, None).await;
    let chen = app.user("chen", Role::Rep, None).await;
    Browser::signed_in(&app, "liu")
        .await
        .get("/settings/assignment")
        .await
        .assert_html(StatusCode::FORBIDDEN);
    for path in ["/api/v1/assignment/rules", "/api/v1/scoring/rules"] {
        app.get(path, &liu.token)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let (liu_id, chen_id) = (liu.id.to_string(), chen.id.to_string());

    let bad_field = admin
        .post(
            "/settings/assignment",
            &[
                ("csrf_token", &csrf),
                ("name", "按薪水"),
                ("active", "on"),
                ("cond0_field", "salary"),
                ("cond0_operator", "gte"),
                ("cond0_value", "10000"),
                ("target", "user"),
                ("user_id", &liu_id),
            ],
        )
        .await;
    bad_field.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&bad_field, "error-condition-0").is_some_and(|e| e.contains("salary")),
        "{}",
        bad_field.body
    );
    assert!(
        bad_field.body.contains("value=\"按薪水\""),
        "the rule is kept"
    );
    let no_user = admin
        .post(
            "/settings/assignment",
            &[
                ("csrf_token", &csrf),
                ("name", "没有人"),
                ("active", "on"),
                ("target", "user"),
                ("user_id", ""),
            ],
        )
        .await;
    no_user.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&no_user, "error-target").is_some(),
        "{}",
        no_user.body
    );

    for (name, field, value, user) in [
        ("全部给刘", "", "", &liu_id),
        ("展会线索给陈", "source", "event", &chen_id),
    ] {
        let added = admin
            .post(
                "/settings/assignment",
                &[
                    ("csrf_token", &csrf),
                    ("name", name),
                    ("active", "on"),
                    ("cond0_field", field),
                    ("cond0_operator", "eq"),
                    ("cond0_value", value),
                    ("target", "user"),
                    ("user_id", user),
                    ("fallback", "next_rule"),
                ],
            )
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    }
    let rules = app.get("/api/v1/assignment/rules", &app.admin_token).await;
    let ids: Vec<i64> = rules.ids();
    assert_eq!(ids.len(), 2);
    let owner_of = |lead: serde_json::Value| lead["owner_id"].as_i64();
    let lead = app
        .lead(
            &app.admin_token,
            json!({"name": "陈友谅", "source": "event"}),
        )
        .await;
    assert_eq!(
        owner_of(lead),
        Some(liu.id),
        "the first rule takes every lead"
    );

    let page = admin.get("/settings/assignment").await;
    assert!(
        page.body.find("全部给刘") < page.body.find("展会线索给陈"),
        "the rules are listed in order"
    );
    let moved = admin
        .post(
            &format!("/settings/assignment/{}/move", ids[1]),
            &[("csrf_token", &csrf), ("direction", "up")],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let rules = app.get("/api/v1/assignment/rules", &app.admin_token).await;
    assert_eq!(rules.ids(), [ids[1], ids[0]]);
    let lead = app
        .lead(
            &app.admin_token,
            json!({"name": "张三丰", "source": "event"}),
        )
        .await;
    assert_eq!(
        owner_of(lead),
        Some(chen.id),
        "now the trade-show rule comes first"
    );
    let lead = app
        .lead(
            &app.admin_token,
            json!({"name": "宋远桥", "source": "referral"}),
        )
        .await;
    assert_eq!(owner_of(lead), Some(liu.id));
    let top = admin
        .post(
            &format!("/settings/assignment/{}/move", ids[1]),
            &[("csrf_token", &csrf), ("direction", "up")],
        )
        .await;
    assert_eq!(
        top.status,
        StatusCode::SEE_OTHER,
        "moving the first up changes nothing"
    );
    assert_eq!(
        app.get("/api/v1/assignment/rules", &app.admin_token)
            .await
            .ids(),
        [ids[1], ids[0]]
    );

    // Dragging (where script runs) sends the whole new order through a form of its own.
    let page = admin.get("/settings/assignment").await;
    assert!(page
        .body
        .contains("<script src=\"/assets/settings.js\" defer></script>"));
    let script = reqwest::get(format!("{}/assets/settings.js", app.base))
        .await
        .unwrap();
    assert!(script.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.text().await.unwrap().contains("reorder-form"));
    let dragged = admin
        .post(
            "/settings/assignment/reorder",
            &[
                ("csrf_token", &csrf),
                ("rule_ids", &format!("{},{}", ids[0], ids[1])),
            ],
        )
        .await;
    assert_eq!(dragged.status, StatusCode::SEE_OTHER, "{}", dragged.body);
    assert_eq!(
        app.get("/api/v1/assignment/rules", &app.admin_token)
            .await
            .ids(),
        [ids[0], ids[1]]
    );
    let partial = admin
        .post(
            "/settings/assignment/reorder",
            &[("csrf_token", &csrf), ("rule_ids", &ids[0].to_string())],
        )
        .await;
    partial.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    let back = admin
        .post(
            &format!("/settings/assignment/{}/move", ids[1]),
            &[("csrf_token", &csrf), ("direction", "up")],
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);

    let edit = admin.get(&format!("/settings/assignment/{}", ids[0])).await;
    edit.assert_html(StatusCode::OK);
    assert!(edit.body.contains("value=\"全部给刘\""));
    let edited = admin
        .post(
            &format!("/settings/assignment/{}", ids[0]),
            &[
                ("csrf_token", &csrf),
                ("name", "其余给刘（暂停）"),
                ("target", "user"),
                ("user_id", &liu_id),
                ("fallback", "next_rule"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let rule = app
        .get(
            &format!("/api/v1/assignment/rules/{}", ids[0]),
            &app.admin_token,
        )
        .await;
    assert_eq!(rule.body["name"], "其余给刘（暂停）");
    assert_eq!(rule.body["active"], false);
    let admin_id = app.get("/api/v1/me", &app.admin_token).await.body["id"].as_i64();
    let lead = app
        .lead(
            &app.admin_token,
            json!({"name": "俞莲舟", "source": "referral"}),
        )
        .await;
    assert_eq!(
        owner_of(lead),
        admin_id,
        "no active rule matches: the creator keeps it"
    );

    let deleted = admin
        .post(
            &format!("/settings/assignment/{}/delete", ids[1]),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/assignment/rules", &app.admin_token)
            .await
            .ids(),
        [ids[0]]
    );
}

async fn an_admin_sets_tiers_and_scoring_rules_that_score_new_leads(app: TestApp) {
    app.user("wang", Role::Rep, None).await;
    Browser::signed_in(&app, "wang")
        .await
        .get("/settings/scoring")
        .await
        .assert_html(StatusCode::FORBIDDEN);
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;

    let bad = admin
        .post(
            "/settings/scoring/settings",
            &[
                ("csrf_token", &csrf),
                ("max_score", "100"),
                ("high_threshold", "很高"),
                ("medium_threshold", "30"),
            ],
        )
        .await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&bad, "error-high_threshold").is_some(),
        "{}",
        bad.body
    );
    let tiers = admin
        .post(
            "/settings/scoring/settings",
            &[
                ("csrf_token", &csrf),
                ("max_score", "100"),
                ("high_threshold", "60"),
                ("medium_threshold", "15"),
            ],
        )
        .await;
    assert_eq!(tiers.status, StatusCode::SEE_OTHER, "{}", tiers.body);
    let settings = app.get("/api/v1/scoring/settings", &app.admin_token).await;
    assert_eq!(settings.body["high_threshold"], 60);
    assert_eq!(settings.body["medium_threshold"], 15);

    let refused = admin
        .post(
            "/settings/scoring",
            &[
                ("csrf_token", &csrf),
                ("name", "高薪"),
                ("kind", "fit"),
                ("points", "20"),
                ("active", "on"),
                ("cond0_field", "salary"),
                ("cond0_operator", "gte"),
                ("cond0_value", "10000"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&refused, "error-condition-0").is_some_and(|e| e.contains("salary")));
    for (name, kind, points, word) in [
        ("总监", "fit", "20", "总监"),
        ("学生", "negative", "-25", "学生"),
    ] {
        let added = admin
            .post(
                "/settings/scoring",
                &[
                    ("csrf_token", &csrf),
                    ("name", name),
                    ("kind", kind),
                    ("points", points),
                    ("active", "on"),
                    ("cond0_field", "title"),
                    ("cond0_operator", "contains"),
                    ("cond0_value", word),
                ],
            )
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    }
    let rules = app.get("/api/v1/scoring/rules", &app.admin_token).await;
    let ids = rules.ids();
    assert_eq!(ids.len(), 2, "{}", rules.body);
    let lead = app
        .lead(
            &app.admin_token,
            json!({"name": "赵敏", "title": "销售总监"}),
        )
        .await;
    assert_eq!(lead["score"], 20, "{lead}");
    assert_eq!(lead["tier"], "medium");
    let page = admin.get("/settings/scoring").await;
    assert!(page.body.contains("契合度") && page.body.contains("扣分"));

    // The preview button shows what saving would do and saves nothing.
    let previewed = admin
        .post(
            &format!("/settings/scoring/{}", ids[0]),
            &[
                ("csrf_token", &csrf),
                ("name", "总监"),
                ("kind", "fit"),
                ("points", "70"),
                ("active", "on"),
                ("cond0_field", "title"),
                ("cond0_operator", "contains"),
                ("cond0_value", "总监"),
                ("preview", "1"),
            ],
        )
        .await;
    previewed.assert_html(StatusCode::OK);
    assert_eq!(
        text_by_id(&previewed, "scoring-preview-changed").as_deref(),
        Some("1 条线索的分数或等级会改变。")
    );
    assert!(
        previewed.body.contains("最新的 1 条线索"),
        "{}",
        previewed.body
    );
    assert!(
        previewed.body.contains("value=\"70\""),
        "what was sent stays"
    );
    let stored = app
        .get(
            &format!("/api/v1/scoring/rules/{}", ids[0]),
            &app.admin_token,
        )
        .await;
    assert_eq!(stored.body["points"], 20);

    let edited = admin
        .post(
            &format!("/settings/scoring/{}", ids[0]),
            &[
                ("csrf_token", &csrf),
                ("name", "总监"),
                ("kind", "fit"),
                ("points", "70"),
                ("active", "on"),
                ("cond0_field", "title"),
                ("cond0_operator", "contains"),
                ("cond0_value", "总监"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let lead = app
        .lead(
            &app.admin_token,
            json!({"name": "周芷若", "title": "技术总监"}),
        )
        .await;
    assert_eq!(lead["score"], 70);
    assert_eq!(lead["tier"], "high");

    let deleted = admin
        .post(
            &format!("/settings/scoring/{}/delete", ids[1]),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/scoring/rules", &app.admin_token)
            .await
            .ids(),
        [ids[0]]
    );
}

async fn an_admin_sets_up_a_web_form_and_copies_the_snippet_visitors_post_through(app: TestApp) {
    app.user("wang", Role::Rep, None).await;
    Browser::signed_in(&app, "wang")
        .await
        .get("/settings/forms")
        .await
        .assert_html(StatusCode::FORBIDDEN);
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let page = admin.get("/settings/forms").await;
    page.assert_html(StatusCode::OK);

    let no_contact = admin
        .post(
            "/settings/forms",
            &[
                ("csrf_token", &csrf),
                ("name", "春季展会报名"),
                ("language", "zh"),
                ("ask", "company"),
                ("source", "event"),
                ("active", "on"),
            ],
        )
        .await;
    no_contact.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&no_contact, "error-fields").as_deref(),
        Some("表单至少要显示姓名、邮箱或手机中的一项")
    );
    let bad_origin = admin
        .post(
            "/settings/forms",
            &[
                ("csrf_token", &csrf),
                ("name", "春季展会报名"),
                ("language", "zh"),
                ("ask", "name"),
                ("ask", "phone"),
                ("source", "event"),
                ("allowed_origins", "https://www.example.com/landing?x=1"),
                ("active", "on"),
            ],
        )
        .await;
    bad_origin.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&bad_origin, "error-allowed_origins").is_some());

    let created = admin
        .post(
            "/settings/forms",
            &[
                ("csrf_token", &csrf),
                ("name", "春季展会报名"),
                ("language", "zh"),
                ("ask", "name"),
                ("ask", "phone"),
                ("ask", "company"),
                ("required", "name"),
                ("required", "phone"),
                ("source", "event"),
                ("thank_you", "谢谢，我们会尽快联系您。"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = admin.get(created.location()).await;
    page.assert_html(StatusCode::OK);
    let url = text_by_id(&page, "form-url").expect("the form's address");
    assert!(url.starts_with(&format!("{}/f/", app.base)), "{url}");
    // The textarea holds the HTML escaped, which a browser shows (and copies) as written.
    let snippet = text_by_id(&page, "embed-snippet")
        .expect("the snippet to copy")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#38;", "&");
    assert!(
        snippet.starts_with("<form") && snippet.contains(&format!("action=\"{url}\"")),
        "{snippet}"
    );

    // A visitor posts the form the snippet names; the lead has the form's source.
    let posted = reqwest::Client::new()
        .post(&url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("name", "谢逊"),
            ("phone", "13912345678"),
            ("company", "金毛狮王贸易"),
        ])
        .send()
        .await
        .expect("the form answers");
    assert!(posted.status().is_success(), "{}", posted.status());
    let leads = app.get("/api/v1/leads?q=谢逊", &app.admin_token).await;
    assert_eq!(leads.body["items"][0]["source"], "event", "{}", leads.body);

    let id: i64 = created
        .location()
        .trim_start_matches("/settings/forms/")
        .parse()
        .unwrap();
    let edited = admin
        .post(
            &format!("/settings/forms/{id}"),
            &[
                ("csrf_token", &csrf),
                ("name", "春季展会报名（已结束）"),
                ("language", "zh"),
                ("ask", "name"),
                ("ask", "email"),
                ("required", "email"),
                ("source", "event"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let stored = app
        .get(&format!("/api/v1/forms/{id}"), &app.admin_token)
        .await;
    assert_eq!(stored.body["name"], "春季展会报名（已结束）");
    assert_eq!(stored.body["active"], false);
    assert_eq!(
        stored.body["fields"],
        json!([{"field": "name", "required": false, "label_zh": null, "label_en": null},
               {"field": "email", "required": true, "label_zh": null, "label_en": null}])
    );

    let deleted = admin
        .post(
            &format!("/settings/forms/{id}/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    app.get(&format!("/api/v1/forms/{id}"), &app.admin_token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn an_admin_sets_up_a_public_pool_and_cannot_delete_one_that_holds_leads(app: TestApp) {
    let rep = app.user("wang", Role::Rep, None).await;
    Browser::signed_in(&app, "wang")
        .await
        .get("/settings/pools")
        .await
        .assert_html(StatusCode::FORBIDDEN);
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let member = rep.id.to_string();

    let bad = admin
        .post(
            "/settings/pools",
            &[
                ("csrf_token", &csrf),
                ("name", "华东公海"),
                ("max_held", "很多"),
                ("members", &member),
            ],
        )
        .await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&bad, "error-max_held").is_some(), "{}", bad.body);
    assert!(bad.body.contains("value=\"华东公海\""));
    let created = admin
        .post(
            "/settings/pools",
            &[
                ("csrf_token", &csrf),
                ("name", "华东公海"),
                ("region", "上海"),
                ("max_held", "20"),
                ("max_claims_per_day", ""),
                ("cooldown_days", "7"),
                ("members", &member),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let pools = app.get("/api/v1/pools", &app.admin_token).await;
    let stored = &pools.body["items"][0];
    assert_eq!(stored["max_held"], 20);
    assert_eq!(stored["max_claims_per_day"], json!(null));
    assert_eq!(stored["cooldown_days"], 7);
    assert_eq!(stored["member_user_ids"], json!([rep.id]));
    let id = stored["id"].as_i64().unwrap();
    let taken = admin
        .post(
            "/settings/pools",
            &[("csrf_token", &csrf), ("name", "华东公海")],
        )
        .await;
    taken.assert_html(StatusCode::CONFLICT);
    assert!(taken.body.contains("已有名为「华东公海」的公海"));

    let path = format!("/settings/pools/{id}");
    let edited = admin
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("name", "华东一区公海"),
                ("region", "上海"),
                ("max_held", ""),
                ("max_claims_per_day", "5"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let stored = app
        .get(&format!("/api/v1/pools/{id}"), &app.admin_token)
        .await;
    assert_eq!(stored.body["name"], "华东一区公海");
    assert_eq!(stored.body["max_held"], json!(null));
    assert_eq!(stored.body["max_claims_per_day"], 5);
    assert_eq!(stored.body["member_user_ids"], json!([]), "no box ticked");

    crate::pool::pooled_lead(&app, id, "殷素素", "13700001111").await;
    let refused = admin
        .post(&format!("{path}/delete"), &[("csrf_token", &csrf)])
        .await;
    refused.assert_html(StatusCode::CONFLICT);
    assert!(
        text_by_id(&refused, "pool-alert").is_some_and(|a| a.contains("还有 1 条线索")),
        "{}",
        refused.body
    );
    let empty = app
        .post("/api/v1/pools", &app.admin_token, json!({"name": "空公海"}))
        .await;
    let empty = empty.body["id"].as_i64().unwrap();
    let deleted = admin
        .post(
            &format!("/settings/pools/{empty}/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    app.get(&format!("/api/v1/pools/{empty}"), &app.admin_token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

async fn an_admin_adds_changes_and_deletes_a_recycle_rule(app: TestApp) {
    app.user("wang", Role::Rep, None).await;
    Browser::signed_in(&app, "wang")
        .await
        .get("/settings/recycle")
        .await
        .assert_html(StatusCode::FORBIDDEN);
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let bad = admin
        .post(
            "/settings/recycle",
            &[
                ("csrf_token", &csrf),
                ("name", "7天未跟进"),
                ("kind", "no_follow_up"),
                ("after", "一周"),
                ("unit", "days"),
                ("pool_id", ""),
                ("active", "on"),
            ],
        )
        .await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_by_id(&bad, "error-after").is_some(), "{}", bad.body);
    let added = admin
        .post(
            "/settings/recycle",
            &[
                ("csrf_token", &csrf),
                ("name", "7天未跟进"),
                ("kind", "no_follow_up"),
                ("after", "7"),
                ("unit", "days"),
                ("warn_before", "2"),
                ("pool_id", ""),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let rules = app
        .get("/api/v1/pools/recycle-rules", &app.admin_token)
        .await;
    let rule = &rules.body["items"][0];
    assert_eq!(rule["after"], 7, "{}", rules.body);
    assert_eq!(rule["warn_before"], 2);
    let id = rule["id"].as_i64().unwrap();

    let refused = admin
        .post(
            &format!("/settings/recycle/{id}"),
            &[
                ("csrf_token", &csrf),
                ("name", "7天未跟进"),
                ("kind", "no_follow_up"),
                ("after", "-1"),
                ("unit", "days"),
                ("active", "on"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&refused, &format!("error-recycle-{id}-after")).is_some(),
        "{}",
        refused.body
    );
    let changed = admin
        .post(
            &format!("/settings/recycle/{id}"),
            &[
                ("csrf_token", &csrf),
                ("name", "10天未跟进"),
                ("kind", "no_follow_up"),
                ("after", "10"),
                ("unit", "days"),
                ("warn_before", "3"),
                ("pool_id", ""),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let rule = app
        .get(
            &format!("/api/v1/pools/recycle-rules/{id}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(rule.body["name"], "10天未跟进");
    assert_eq!(rule.body["after"], 10);
    assert_eq!(rule.body["active"], false);

    let deleted = admin
        .post(
            &format!("/settings/recycle/{id}/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/pools/recycle-rules", &app.admin_token)
            .await
            .body["items"],
        json!([])
    );
}

async fn an_admin_adds_changes_and_deletes_an_sla_rule(app: TestApp) {
    app.user("wang", Role::Rep, None).await;
    Browser::signed_in(&app, "wang")
        .await
        .get("/settings/sla")
        .await
        .assert_html(StatusCode::FORBIDDEN);
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let bad = admin
        .post(
            "/settings/sla",
            &[
                ("csrf_token", &csrf),
                ("name", "4小时首次联系"),
                ("hours", "四"),
                ("action", "escalate"),
                ("active", "on"),
            ],
        )
        .await;
    bad.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_by_id(&bad, "error-sla-0-hours").is_some(),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"4小时首次联系\""));
    let added = admin
        .post(
            "/settings/sla",
            &[
                ("csrf_token", &csrf),
                ("name", "4小时首次联系"),
                ("hours", "4"),
                ("action", "escalate"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let rules = app.get("/api/v1/sla/rules", &app.admin_token).await;
    let rule = &rules.body["items"][0];
    assert_eq!(rule["hours"], 4, "{}", rules.body);
    assert_eq!(rule["action"], "escalate");
    let id = rule["id"].as_i64().unwrap();

    let pool = app
        .post(
            "/api/v1/pools",
            &app.admin_token,
            json!({"name": "超时公海"}),
        )
        .await;
    let pool = pool.body["id"].to_string();
    let changed = admin
        .post(
            &format!("/settings/sla/{id}"),
            &[
                ("csrf_token", &csrf),
                ("name", "8小时未联系改派"),
                ("hours", "8"),
                ("action", "reassign"),
                ("target_pool_id", &pool),
                ("target_user_id", ""),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let rule = app
        .get(&format!("/api/v1/sla/rules/{id}"), &app.admin_token)
        .await;
    assert_eq!(rule.body["action"], "reassign");
    assert_eq!(rule.body["target_pool_id"].to_string(), pool);
    assert_eq!(rule.body["active"], false);

    let deleted = admin
        .post(
            &format!("/settings/sla/{id}/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/sla/rules", &app.admin_token).await.body["items"],
        json!([])
    );
}

async fn the_settings_speak_english(app: TestApp) {
    let admin = Browser::signed_in(&app, "admin").await;
    let csrf = admin.csrf().await;
    let switched = admin
        .post(
            "/settings/locale",
            &[
                ("csrf_token", &csrf),
                ("locale", "en"),
                ("back", "/settings"),
            ],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let index = admin.get("/settings").await;
    assert!(index.body.contains(">Settings<"), "{}", index.body);
    assert!(index.body.contains("Custom fields") && index.body.contains("Org tree"));
    let refused = admin
        .post(
            "/settings/fields",
            &[
                ("csrf_token", &csrf),
                ("object", "contact"),
                ("key", "hobby"),
                ("label", "Hobby"),
                ("field_type", "text"),
                ("options", "golf"),
            ],
        )
        .await;
    refused.assert_html(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        text_by_id(&refused, "error-options").as_deref(),
        Some("only select fields have options")
    );
    let users = admin.get("/settings/users").await;
    assert!(users.body.contains("Create user") && users.body.contains("Admin"));
}

mod browser {
    //! An admin creates a user and a custom field in headless Chromium, at desktop width and on
    //! a 375 px phone.

    use crate::support::{Backend, TestApp};
    use crate::ui::browser::{
        chromium, fill, find_chromedriver, open_from_nav, screenshot, start_chromedriver,
        wait_for_address, widths,
    };
    use fantoccini::{Client, Locator};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_admin_creates_a_user_and_a_custom_field_in_headless_chromium() {
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
        let users = app.get("/api/v1/users", &app.admin_token).await;
        assert!(users.body.to_string().contains("han.meimei"));
        let fields = app.get("/api/v1/custom-fields", &app.admin_token).await;
        assert_eq!(fields.body["items"][0]["key"], "industry_detail");
    }

    async fn submit(client: &Client, form: &str) {
        client
            .find(Locator::Css(&format!("#{form} button[type=submit]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    async fn scenario(client: Client, base: String) {
        let wait = || client.wait().at_most(Duration::from_secs(10));
        client.goto(&format!("{base}/login")).await.unwrap();
        fill(&client, "input[name=username]", "admin").await;
        fill(&client, "input[name=password]", "password123").await;
        client
            .find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| a.starts_with("/leads")).await;

        open_from_nav(&client, "/settings").await;
        client
            .find(Locator::Css(".settings-cards a[href='/settings/users']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| a.starts_with("/settings/users")).await;
        fill(&client, "#new-user-form #field-username", "韩").await;
        fill(&client, "#new-user-form #field-password", "password123").await;
        submit(&client, "new-user-form").await;
        let error = wait()
            .for_element(Locator::Css("#error-username"))
            .await
            .expect("the refusal next to the username");
        assert!(error.text().await.unwrap().contains("2 到 64"));
        fill(&client, "#new-user-form #field-username", "han.meimei").await;
        fill(&client, "#new-user-form #field-password", "password123").await;
        fill(&client, "#new-user-form #field-display_name", "韩梅梅").await;
        client
            .find(Locator::Css("#new-user-form #field-role"))
            .await
            .unwrap()
            .select_by_value("manager")
            .await
            .unwrap();
        screenshot(&client, "settings-users-desktop").await;
        submit(&client, "new-user-form").await;
        wait_for_address(&client, |a| a.contains("created=1")).await;
        let title = wait()
            .for_element(Locator::Id("user-title"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(title.contains("han.meimei"), "{title}");
        screenshot(&client, "settings-user-desktop").await;

        client
            .find(Locator::Css(".settings-nav a[href='/settings/fields']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| a.starts_with("/settings/fields")).await;
        fill(&client, "#new-field-form #field-key", "industry_detail").await;
        fill(&client, "#new-field-form #field-label", "细分行业").await;
        client
            .find(Locator::Css("#new-field-form #field-field_type"))
            .await
            .unwrap()
            .select_by_value("multi_select")
            .await
            .unwrap();
        fill(
            &client,
            "#new-field-form #field-options",
            "制造\n零售\n医疗",
        )
        .await;
        submit(&client, "new-field-form").await;
        let row = wait()
            .for_element(Locator::Css("#field-row-industry_detail"))
            .await
            .expect("the new field in the list")
            .text()
            .await
            .unwrap();
        assert!(row.contains("细分行业") && row.contains("多选"), "{row}");
        screenshot(&client, "settings-fields-desktop").await;

        // Two assignment rules, then the second dragged above the first: the script sends the
        // new order as a form.
        client
            .goto(&format!("{base}/settings/assignment"))
            .await
            .unwrap();
        for name in ["先到先得", "大客户优先"] {
            fill(&client, "#new-rule-form #field-name", name).await;
            client
                .find(Locator::Css("#new-rule-form #field-user_id"))
                .await
                .unwrap()
                .select_by_index(1)
                .await
                .unwrap();
            submit(&client, "new-rule-form").await;
            wait_for_address(&client, |a| a.contains("saved=1")).await;
            client
                .goto(&format!("{base}/settings/assignment"))
                .await
                .unwrap();
        }
        client
            .execute(
                "const [a, b] = document.querySelectorAll('#rules li[data-rule-id]');
                 const dt = new DataTransfer();
                 b.dispatchEvent(new DragEvent('dragstart', {dataTransfer: dt, bubbles: true}));
                 const box = a.getBoundingClientRect();
                 a.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true,
                     cancelable: true, clientY: box.top + 1}));
                 a.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true,
                     cancelable: true}));",
                Vec::new(),
            )
            .await
            .unwrap();
        wait_for_address(&client, |a| a.contains("saved=1")).await;
        let first = wait()
            .for_element(Locator::Css("#rules li .rule-name"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            first.contains("大客户优先"),
            "the dragged rule comes first: {first}"
        );
        screenshot(&client, "settings-assignment-desktop").await;

        client.set_window_size(375, 812).await.unwrap();
        client
            .goto(&format!("{base}/settings/fields"))
            .await
            .unwrap();
        let (scroll, inner) = widths(&client).await;
        assert!(inner <= 375, "the window is phone-sized: {inner}");
        assert!(
            scroll <= inner,
            "the fields page does not overflow sideways: {scroll} > {inner}"
        );
        assert!(client
            .find(Locator::Css("#new-field-form #field-key"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap());
        screenshot(&client, "settings-fields-phone").await;
        client
            .goto(&format!("{base}/settings/users"))
            .await
            .unwrap();
        let (scroll, inner) = widths(&client).await;
        assert!(
            scroll <= inner,
            "the users page does not overflow sideways: {scroll} > {inner}"
        );
        let card = client.find(Locator::Css("#users tbody tr")).await.unwrap();
        let (_, _, card_width, _) = card.rectangle().await.unwrap();
        assert!(card_width <= inner as f64, "a user is a card that fits");
        screenshot(&client, "settings-users-phone").await;
        for page in [
            "profile",
            "scoring",
            "teams",
            "stages",
            "assignment",
            "pools",
            "recycle",
            "sla",
            "forms",
            "webhooks",
            "tokens",
        ] {
            client
                .goto(&format!("{base}/settings/{page}"))
                .await
                .unwrap();
            let (scroll, inner) = widths(&client).await;
            assert!(scroll <= inner, "/settings/{page} fits: {scroll} > {inner}");
            screenshot(&client, &format!("settings-{page}-phone")).await;
        }
    }
}
