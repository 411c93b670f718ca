//! Every settings page in a real headless Chromium, as an admin: on each, one value refused
//! with its message beside its field (not only above the form), and what the page lets one
//! create, change and delete, done through the page; the menu in groups at 1366 px and on a
//! 375 px phone, where every page fits. A rep then finds no admin settings: no link in the
//! menu, a 403 page at the address. Run on SQLite and on PostgreSQL.

use crate::support::{Backend, TestApp};
use crate::ui::browser::{
    choose, chromedriver_or_skip, click, fill, in_chromium, screenshot, submit, submit_at, text_of,
    wait_for_address, widths,
};
use fantoccini::{Client, Locator};
use serde_json::json;
use xiansuo_core::role::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_goes_through_every_settings_page_in_chromium_on_sqlite() {
    tour(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_goes_through_every_settings_page_in_chromium_on_postgres() {
    tour(Backend::Postgres).await;
}

async fn tour(backend: Backend) {
    let Some(chromedriver) = chromedriver_or_skip() else {
        return;
    };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    app.user("liu", Role::Rep, None).await;
    in_chromium(chromedriver, app.base.clone(), scenario).await;
    // What the pages did is what the API says.
    let pools = app.get("/api/v1/pools", &app.admin_token).await;
    assert!(
        !pools.body.to_string().contains("华东公海"),
        "{}",
        pools.body
    );
    let forms = app.get("/api/v1/forms", &app.admin_token).await;
    assert_eq!(forms.body["items"], json!([]), "deleted in the end");
}

/// The message shown beside the field `css` (in the same label, row or fieldset), waiting for
/// it; fails when the page shows none there.
async fn beside(client: &Client, css: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let found = client
            .execute(
                "var f = document.querySelector(arguments[0]); \
                 for (var box = f && f.parentElement; box && box.tagName !== 'FORM'; \
                      box = box.parentElement) { \
                   if (!box.matches('label, fieldset, .row-form, .condition')) { continue; } \
                   var e = box.querySelector('.error'); \
                   if (e) { return e.textContent.trim(); } \
                 } \
                 return null;",
                vec![json!(css)],
            )
            .await
            .unwrap();
        if let Some(text) = found.as_str().filter(|t| !t.is_empty()) {
            return text.to_owned();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no message beside {css} at {}",
            client.current_url().await.unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Submits the form of the field `css` with its first plain submit button, expecting a refusal
/// beside the field; returns the message.
async fn refused(client: &Client, form: &str, css: &str) -> String {
    submit(
        client,
        &format!("{form} button[type=submit]:not([formaction])"),
    )
    .await;
    beside(client, css).await
}

/// Submits `form` and waits for `Saved.` (`?saved=1`).
async fn saved(client: &Client, form: &str) {
    submit(
        client,
        &format!("{form} button[type=submit]:not([formaction])"),
    )
    .await;
    wait_for_address(client, |a| a.contains("saved=1")).await;
}

/// Clicks the element the XPath `path` finds.
async fn click_path(client: &Client, path: &str) {
    client
        .find(Locator::XPath(path))
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Clicks the form button the XPath `path` finds and waits for the answer.
async fn submit_path(client: &Client, path: &str) {
    submit_at(client, Locator::XPath(path)).await;
}

/// Opens `path` and saves a screenshot of it as `settings-{name}-desktop`.
async fn open(client: &Client, base: &str, path: &str) {
    client.goto(&format!("{base}{path}")).await.unwrap();
    client
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::Css("h1"))
        .await
        .unwrap();
}

async fn sign_in(client: &Client, base: &str, username: &str) {
    client.delete_all_cookies().await.unwrap();
    client.goto(&format!("{base}/login")).await.unwrap();
    fill(client, "input[name=username]", username).await;
    fill(client, "input[name=password]", "password123").await;
    submit(client, "form button[type=submit]").await;
    wait_for_address(client, |a| a.starts_with("/leads")).await;
}

/// The settings pages, as `settings-{name}` screenshots name them.
const PAGES: [(&str, &str); 24] = [
    ("profile", "/settings/profile"),
    ("tokens", "/settings/tokens"),
    ("users", "/settings/users"),
    ("teams", "/settings/teams"),
    ("fields", "/settings/fields"),
    ("stages", "/settings/stages"),
    ("choices", "/settings/choices"),
    ("scoring", "/settings/scoring"),
    ("prediction", "/settings/prediction"),
    ("assignment", "/settings/assignment"),
    ("pools", "/settings/pools"),
    ("recycle", "/settings/recycle"),
    ("sla", "/settings/sla"),
    ("working-hours", "/settings/working-hours"),
    ("dedup", "/settings/dedup"),
    ("targets", "/settings/targets"),
    ("checklists", "/settings/checklists"),
    ("export", "/settings/export"),
    ("forms", "/settings/forms"),
    ("webhooks", "/settings/webhooks"),
    ("robots", "/settings/robots"),
    ("mail", "/settings/mail"),
    ("audit", "/settings/audit"),
    ("backups", "/settings/backups"),
];

async fn scenario(client: Client, base: String) {
    client.set_window_size(1366, 900).await.unwrap();
    sign_in(&client, &base, "admin").await;

    // Profile: an unknown zone, then a name; one kind of notification not mailed.
    open(&client, &base, "/settings/profile").await;
    fill(&client, "#field-time_zone", "Mars/Olympus").await;
    assert!(refused(&client, "#profile-form", "#field-time_zone")
        .await
        .contains("Mars/Olympus"));
    fill(&client, "#field-time_zone", "Asia/Shanghai").await;
    fill(&client, "#field-display_name", "系统管理员").await;
    saved(&client, "#profile-form").await;
    click(
        &client,
        "#notification-preferences input[name=email][value='lead.assigned']",
    )
    .await;
    saved(&client, "#notification-preferences").await;
    let ticked = client
        .find(Locator::Css(
            "#notification-preferences input[name=email][value='lead.assigned']",
        ))
        .await
        .unwrap()
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(ticked.as_deref(), Some("false"));

    // Tokens: a nameless one refused; one created, shown once, and revoked.
    open(&client, &base, "/settings/tokens").await;
    fill(&client, "#field-token-name", " ").await;
    refused(&client, "#token-form", "#field-token-name").await;
    fill(&client, "#field-token-name", "BI 报表").await;
    choose(&client, "#field-scope", "read_only").await;
    submit(&client, "#token-form button[type=submit]").await;
    text_of(&client, "#new-token").await;
    let row = "//table[@id='tokens']//tr[contains(., 'BI 报表')]";
    submit_path(&client, &format!("{row}//button")).await;
    let revoked = client
        .find(Locator::XPath(row))
        .await
        .unwrap()
        .find_all(Locator::Css("button"))
        .await
        .unwrap();
    assert!(revoked.is_empty(), "revoked: no button left");

    // Users: a one-letter username, then a user, renamed and deactivated.
    open(&client, &base, "/settings/users").await;
    fill(&client, "#new-user-form #field-username", "韩").await;
    fill(&client, "#new-user-form #field-password", "password123").await;
    assert!(
        refused(&client, "#new-user-form", "#new-user-form #field-username")
            .await
            .contains("2 到 64")
    );
    fill(&client, "#new-user-form #field-username", "han.meimei").await;
    fill(&client, "#new-user-form #field-password", "password123").await;
    submit(&client, "#new-user-form button[type=submit]").await;
    wait_for_address(&client, |a| a.starts_with("/settings/users/")).await;
    fill(&client, "#account-form #field-email", "not an email").await;
    refused(&client, "#account-form", "#account-form #field-email").await;
    fill(&client, "#account-form #field-email", "han@example.com").await;
    fill(&client, "#account-form #field-display_name", "韩梅梅").await;
    saved(&client, "#account-form").await;
    saved(&client, "#status-form").await;

    // Teams: a blank name, then a region, renamed.
    open(&client, &base, "/settings/teams").await;
    fill(&client, "#new-team-form #field-name", " ").await;
    refused(&client, "#new-team-form", "#new-team-form #field-name").await;
    fill(&client, "#new-team-form #field-name", "华东大区").await;
    choose(&client, "#new-team-form #field-kind", "region").await;
    saved(&client, "#new-team-form").await;
    let row = "//ul[@id='teams']//form[.//input[@name='name' and @value='华东大区']]";
    client
        .find(Locator::XPath(&format!("{row}//input[@name='name']")))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    submit_path(&client, &format!("{row}//button[@type='submit']")).await;
    let error = text_of(&client, "#teams .error").await;
    assert!(!error.is_empty());
    beside(&client, "#teams .has-error input[name=name]").await;
    fill(&client, "#teams .has-error input[name=name]", "华东区").await;
    submit_path(
        &client,
        "//ul[@id='teams']//form[.//*[contains(@class, 'has-error')]]//button[@type='submit']",
    )
    .await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;
    client
        .find(Locator::XPath("//ul[@id='teams']//input[@value='华东区']"))
        .await
        .expect("renamed");

    // Custom fields: a key that is no key, then a field, relabelled and deleted.
    open(&client, &base, "/settings/fields").await;
    fill(&client, "#new-field-form #field-key", "Budget Range").await;
    fill(&client, "#new-field-form #field-label", "预算").await;
    refused(&client, "#new-field-form", "#new-field-form #field-key").await;
    fill(&client, "#new-field-form #field-key", "budget_range").await;
    saved(&client, "#new-field-form").await;
    submit(&client, "#field-row-budget_range a").await;
    wait_for_address(&client, |a| a.starts_with("/settings/fields/")).await;
    fill(&client, "#field-form #field-label", "预算范围").await;
    saved(&client, "#field-form").await;
    submit(&client, "#delete-field").await;
    wait_for_address(&client, |a| a.ends_with("/delete?")).await;
    submit(&client, "#delete-form button[type=submit]").await;
    wait_for_address(&client, |a| a.contains("deleted=1")).await;

    // Stages: a probability over 100, then a stage, renamed and archived.
    open(&client, &base, "/settings/stages").await;
    fill(&client, "#new-stage-form #field-code", "pilot").await;
    fill(&client, "#new-stage-form #field-name_zh", "试点").await;
    fill(&client, "#new-stage-form #field-name_en", "Pilot").await;
    fill(&client, "#new-stage-form #field-probability", "150").await;
    refused(
        &client,
        "#new-stage-form",
        "#new-stage-form #field-probability",
    )
    .await;
    fill(&client, "#new-stage-form #field-probability", "55").await;
    saved(&client, "#new-stage-form").await;
    let row = "//ul[@id='stages']//form[.//input[@name='name_zh' and @value='试点']]";
    let name = client
        .find(Locator::XPath(&format!("{row}//input[@name='name_zh']")))
        .await
        .unwrap();
    name.clear().await.unwrap();
    name.send_keys("试点项目").await.unwrap();
    click_path(&client, &format!("{row}//input[@name='active']")).await;
    submit_path(&client, &format!("{row}//button[@type='submit']")).await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Choice lists: a status with a code in Chinese, then 未接通 under 跟进中, relabelled,
    // archived and deleted.
    open(&client, &base, "/settings/choices?kind=status").await;
    fill(&client, "#new-choice-form #field-code", "未接通").await;
    fill(&client, "#new-choice-form #field-label_zh", "未接通").await;
    fill(&client, "#new-choice-form #field-label_en", "No answer").await;
    choose(&client, "#new-choice-form #field-status_type", "working").await;
    refused(&client, "#new-choice-form", "#new-choice-form #field-code").await;
    fill(&client, "#new-choice-form #field-code", "no_answer").await;
    saved(&client, "#new-choice-form").await;
    let row = "//li[@id='choice-no_answer']//form";
    let label = client
        .find(Locator::XPath(&format!("{row}//input[@name='label_zh']")))
        .await
        .unwrap();
    label.clear().await.unwrap();
    label.send_keys("电话未接通").await.unwrap();
    click_path(&client, &format!("{row}//input[@name='archived']")).await;
    submit_path(
        &client,
        &format!("{row}//button[@type='submit' and not(@formaction)]"),
    )
    .await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;
    assert!(text_of(&client, "#choice-no_answer")
        .await
        .contains("跟进中"));
    submit_path(&client, &format!("{row}//button[@formaction]")).await;
    wait_for_address(&client, |a| a.contains("deleted=1")).await;
    assert!(client
        .find_all(Locator::Css("#choice-no_answer"))
        .await
        .unwrap()
        .is_empty());

    // Scoring: a threshold that is no number, then a rule, changed and deleted.
    open(&client, &base, "/settings/scoring").await;
    fill(
        &client,
        "#scoring-settings-form #field-high_threshold",
        "很高",
    )
    .await;
    refused(
        &client,
        "#scoring-settings-form",
        "#scoring-settings-form #field-high_threshold",
    )
    .await;
    open(&client, &base, "/settings/scoring").await;
    fill(&client, "#new-scoring-rule-form #field-name", "总监").await;
    fill(&client, "#new-scoring-rule-form #field-points", "很多").await;
    refused(
        &client,
        "#new-scoring-rule-form",
        "#new-scoring-rule-form #field-points",
    )
    .await;
    fill(&client, "#new-scoring-rule-form #field-points", "20").await;
    fill(
        &client,
        "#new-scoring-rule-form input[name=cond0_field]",
        "title",
    )
    .await;
    fill(
        &client,
        "#new-scoring-rule-form input[name=cond0_value]",
        "总监",
    )
    .await;
    saved(&client, "#new-scoring-rule-form").await;
    submit(&client, "#scoring-rules a").await;
    wait_for_address(&client, |a| a.starts_with("/settings/scoring/")).await;
    fill(&client, "#field-points", "25").await;
    submit(
        &client,
        "form[id$=rule-form] button[type=submit]:not([name])",
    )
    .await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;
    open(&client, &base, "/settings/scoring").await;
    submit(&client, "#scoring-rules form.inline button").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Assignment: a rule to nobody, then to a user, renamed and deleted.
    open(&client, &base, "/settings/assignment").await;
    fill(&client, "#new-rule-form #field-name", "华东给韩").await;
    choose(&client, "#new-rule-form #field-target", "user").await;
    refused(&client, "#new-rule-form", "#new-rule-form #field-user_id").await;
    click_path(
        &client,
        "//form[@id='new-rule-form']//select[@id='field-user_id']/option[contains(., 'liu')]",
    )
    .await;
    saved(&client, "#new-rule-form").await;
    submit(&client, "#rules li a").await;
    wait_for_address(&client, |a| a.starts_with("/settings/assignment/")).await;
    fill(&client, "#field-name", "华东都给刘").await;
    submit(&client, "form[id$=rule-form] button[type=submit]").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;
    open(&client, &base, "/settings/assignment").await;
    submit(&client, "#rules li form[action$='/delete'] button").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Pools: a nameless pool, then one, renamed and deleted.
    open(&client, &base, "/settings/pools").await;
    refused(&client, "#new-pool-form", "#new-pool-form #field-name").await;
    fill(&client, "#new-pool-form #field-name", "华东公海").await;
    submit(&client, "#new-pool-form button[type=submit]").await;
    submit_path(&client, "//*[@id='pools']//*[contains(., '华东公海')]//a").await;
    wait_for_address(&client, |a| a.starts_with("/settings/pools/")).await;
    fill(&client, "#pool-form #field-region", "华东").await;
    saved(&client, "#pool-form").await;
    submit(&client, "#delete-pool").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Recycle rules: a number that is none, then a rule, changed and deleted.
    open(&client, &base, "/settings/recycle").await;
    fill(&client, "#new-recycle-form #field-name", "7 天未跟进").await;
    fill(&client, "#new-recycle-form #field-after", "七").await;
    refused(
        &client,
        "#new-recycle-form",
        "#new-recycle-form #field-after",
    )
    .await;
    fill(&client, "#new-recycle-form #field-after", "7").await;
    saved(&client, "#new-recycle-form").await;
    fill(&client, "#recycle-rules li input[name=after]", "10").await;
    saved(&client, "#recycle-rules li form.row-form").await;
    submit(&client, "#recycle-rules li .row-delete button").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // SLA: hours that are none, then a rule, changed and deleted.
    open(&client, &base, "/settings/sla").await;
    fill(
        &client,
        "#new-sla-form input[name=name]",
        "24 小时内首次跟进",
    )
    .await;
    fill(&client, "#new-sla-form input[name=hours]", "一天").await;
    refused(&client, "#new-sla-form", "#new-sla-form input[name=hours]").await;
    fill(&client, "#new-sla-form input[name=hours]", "24").await;
    saved(&client, "#new-sla-form").await;
    fill(&client, "#sla-rules li input[name=hours]", "48").await;
    saved(&client, "#sla-rules li form.row-form").await;
    submit(&client, "#sla-rules li .row-delete button").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Working hours: a day that ends before it starts, then hours.
    open(&client, &base, "/settings/working-hours").await;
    fill(&client, "#field-start", "18:00").await;
    fill(&client, "#field-end", "09:00").await;
    refused(&client, "#working-hours-form", "#field-end").await;
    fill(&client, "#field-start", "09:00").await;
    fill(&client, "#field-end", "18:00").await;
    saved(&client, "#working-hours-form").await;

    // Dedup: a source that is no code, then a policy, changed and removed.
    open(&client, &base, "/settings/dedup").await;
    fill(&client, "#new-policy-form #field-source", "Trade Show").await;
    refused(
        &client,
        "#new-policy-form",
        "#new-policy-form #field-source",
    )
    .await;
    fill(&client, "#new-policy-form #field-source", "trade_show").await;
    saved(&client, "#new-policy-form").await;
    choose(&client, "#policy-trade_show select[name=policy]", "merge").await;
    saved(&client, "#policy-trade_show form.row-form").await;
    submit(&client, "#policy-trade_show .row-delete button").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Spend: an amount that is none, then spend, changed and deleted.
    open(&client, &base, "/settings/targets?month=2026-10").await;
    fill(&client, "#field-cost-source", "web_form").await;
    fill(&client, "#field-cost-amount", "很多").await;
    refused(&client, "#new-cost-form", "#field-cost-amount").await;
    fill(&client, "#field-cost-amount", "4500").await;
    saved(&client, "#new-cost-form").await;
    fill(&client, "#costs li input[name=amount]", "5000").await;
    saved(&client, "#costs li form.row-form").await;
    submit(&client, "#costs li .row-delete button").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Checklists: a key that is no key, then a checklist, renamed and deleted.
    open(&client, &base, "/settings/checklists").await;
    fill(&client, "#new-checklist-form #field-name", "标准鉴定").await;
    fill(&client, "#new-checklist-form #field-key_0", "Budget").await;
    fill(&client, "#new-checklist-form #field-label_0", "预算已确认").await;
    refused(
        &client,
        "#new-checklist-form",
        "#new-checklist-form #field-key_0",
    )
    .await;
    fill(&client, "#new-checklist-form #field-key_0", "budget").await;
    saved(&client, "#new-checklist-form").await;
    submit(&client, "#checklists li a.button").await;
    fill(&client, "#checklist-form #field-name", "标准鉴定 v2").await;
    saved(&client, "#checklist-form").await;
    submit(&client, "#delete-checklist-form button").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Web forms: a form, its auto-reply with a misspelt variable, previewed while typed,
    // saved, and deleted.
    open(&client, &base, "/settings/forms").await;
    fill(&client, "#new-web-form #field-name", "春季展会").await;
    submit(&client, "#new-web-form > .actions button[type=submit]").await;
    wait_for_address(&client, |a| a.starts_with("/settings/forms/")).await;
    click(&client, "#field-auto_reply-enabled").await;
    fill(
        &client,
        "#field-auto_reply-subject_zh",
        "感谢您的咨询，{{nmae}}",
    )
    .await;
    fill(&client, "#field-auto_reply-body_zh", "{{name}} 您好").await;
    assert!(beside(&client, "#field-auto_reply-subject_zh")
        .await
        .contains("nmae"));
    fill(
        &client,
        "#field-auto_reply-subject_zh",
        "感谢您的咨询，{{name}}",
    )
    .await;
    let started = std::time::Instant::now();
    while !text_of(&client, "#auto-reply-preview")
        .await
        .contains("感谢您的咨询，张伟")
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no live preview"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    client
        .execute(
            "document.getElementById('auto-reply-preview').scrollIntoView({block: 'end'});",
            Vec::new(),
        )
        .await
        .unwrap();
    screenshot(&client, "settings-form-auto-reply-desktop").await;
    // An auto-reply needs an address to go to: refused beside its switch until one is asked.
    let error = refused(&client, "#web-form-settings", "#field-auto_reply-enabled").await;
    assert!(error.contains("email") || error.contains("邮箱"), "{error}");
    click(&client, "#web-form-settings input[name=ask][value=email]").await;
    saved(&client, "#web-form-settings").await;
    screenshot(&client, "settings-form-desktop").await;
    submit(&client, "#delete-form").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Webhooks: an address that is no web address, then a webhook, changed and deleted.
    open(&client, &base, "/settings/webhooks").await;
    fill(
        &client,
        "#new-webhook-form #field-url",
        "ftp://crm.example.com",
    )
    .await;
    click(
        &client,
        "#new-webhook-form input[name=events][value='lead.created']",
    )
    .await;
    refused(&client, "#new-webhook-form", "#new-webhook-form #field-url").await;
    fill(
        &client,
        "#new-webhook-form #field-url",
        "http://127.0.0.1:9/hook",
    )
    .await;
    submit(&client, "#new-webhook-form button[type=submit]").await;
    text_of(&client, "#new-secret").await;
    submit(&client, "#webhooks tbody tr a").await;
    wait_for_address(&client, |a| a.starts_with("/settings/webhooks/")).await;
    fill(&client, "#webhook-form #field-description", "ERP 同步").await;
    saved(&client, "#webhook-form").await;
    submit(&client, "#delete-webhook").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Group robots: an address that is none, then a robot, changed and deleted.
    open(&client, &base, "/settings/robots").await;
    fill(&client, "#new-robot-form #field-name", "华东群").await;
    choose(&client, "#new-robot-form #field-kind", "dingtalk").await;
    click(&client, "#new-robot-form input[value='lead.assigned']").await;
    fill(&client, "#new-robot-form #field-webhook_url", "not a url").await;
    refused(
        &client,
        "#new-robot-form",
        "#new-robot-form #field-webhook_url",
    )
    .await;
    fill(
        &client,
        "#new-robot-form #field-webhook_url",
        "https://oapi.dingtalk.com/robot/send?access_token=abc",
    )
    .await;
    submit(&client, "#new-robot-form button[type=submit]").await;
    wait_for_address(&client, |a| a.starts_with("/settings/robots/")).await;
    fill(&client, "#robot-form #field-name", "华东销售群").await;
    saved(&client, "#robot-form").await;
    submit(&client, "#delete-robot").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;

    // Outgoing mail: a test mail to no address.
    open(&client, &base, "/settings/mail").await;
    fill(&client, "#test-mail-form #field-to", "not an address").await;
    refused(&client, "#test-mail-form", "#test-mail-form #field-to").await;

    // The audit log shows what was just done, and changes nothing.
    open(&client, &base, "/settings/audit").await;
    let log = text_of(&client, "#audit-changes").await;
    assert!(
        log.contains("华东公海") && log.contains("春季展会"),
        "{log}"
    );

    // Each page at 1366 px and on a phone: the menu in groups, the page's group open.
    for (name, path) in PAGES {
        client.set_window_size(1366, 900).await.unwrap();
        open(&client, &base, path).await;
        let groups = client
            .find_all(Locator::Css(".settings-nav a.group-label"))
            .await
            .unwrap();
        assert_eq!(groups.len(), 6, "six groups for an admin");
        assert!(
            client
                .find(Locator::Css(&format!(
                    ".settings-nav .group-links a[href='{path}']"
                )))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap(),
            "{path} is listed at 1366 px"
        );
        screenshot(&client, &format!("settings-{name}-desktop")).await;
        client.set_window_size(375, 812).await.unwrap();
        open(&client, &base, path).await;
        let (scroll, inner) = widths(&client).await;
        if scroll > inner {
            let wide = client
                .execute(
                    "return Array.prototype.filter.call(document.querySelectorAll('body *'), \
                     function (e) { return e.getBoundingClientRect().right > window.innerWidth; }) \
                     .slice(-3).map(function (e) { return e.outerHTML.slice(0, 200); });",
                    Vec::new(),
                )
                .await
                .unwrap();
            panic!("{path} does not fit a phone: {scroll} > {inner}: {wide}");
        }
        let listed = client
            .execute(
                "return Array.prototype.filter.call(document.querySelectorAll('.settings-nav a'), \
                 function (a) { return a.offsetParent !== null; }).length;",
                Vec::new(),
            )
            .await
            .unwrap();
        let listed = listed.as_i64().unwrap();
        assert!(
            (7..=13).contains(&listed),
            "{path}: the six groups and the current group's pages, not all 26: {listed}"
        );
        let menu_height = client
            .execute(
                "return document.querySelector('.settings-nav').getBoundingClientRect().height;",
                Vec::new(),
            )
            .await
            .unwrap();
        assert!(
            menu_height.as_f64().unwrap() < 200.0,
            "{path}: the menu is compact on a phone: {menu_height}"
        );
        screenshot(&client, &format!("settings-{name}-phone")).await;
    }
    open(&client, &base, "/settings/profile").await;
    client
        .execute(
            "document.getElementById('notification-preferences').scrollIntoView();",
            Vec::new(),
        )
        .await
        .unwrap();
    screenshot(&client, "settings-profile-notifications-phone").await;

    // In English on a phone: the menu's groups, the notification preferences, and a new web
    // form's auto-reply previewed with the button that posts the form (no script needed).
    submit(&client, "button[name=locale][value=en]").await;
    open(&client, &base, "/settings/profile").await;
    assert!(text_of(&client, ".settings-nav").await.contains("People"));
    assert!(text_of(&client, "#notification-preferences")
        .await
        .contains("A lead is assigned to me"));
    screenshot(&client, "settings-profile-english-phone").await;
    open(&client, &base, "/settings/forms").await;
    fill(&client, "#new-web-form #field-name", "Spring expo").await;
    fill(
        &client,
        "#field-auto_reply-subject_en",
        "Thank you, {{name}}",
    )
    .await;
    fill(
        &client,
        "#field-auto_reply-body_en",
        "Dear {{name}}, see you at {{form_name}}.",
    )
    .await;
    submit(&client, "#preview-auto-reply").await;
    let preview = text_of(&client, "#auto-reply-preview").await;
    assert!(
        preview.contains("An English visitor gets") && preview.contains("Thank you, Emma Li"),
        "{preview}"
    );
    let (scroll, inner) = widths(&client).await;
    assert!(
        scroll <= inner,
        "the preview fits a phone: {scroll} > {inner}"
    );
    client
        .execute(
            "document.getElementById('auto-reply-preview').scrollIntoView({block: 'end'});",
            Vec::new(),
        )
        .await
        .unwrap();
    screenshot(&client, "settings-forms-auto-reply-english-phone").await;

    // A rep: no admin settings in the menu, and a 403 page at their address.
    client.set_window_size(1366, 900).await.unwrap();
    sign_in(&client, &base, "liu").await;
    open(&client, &base, "/settings/profile").await;
    assert!(client
        .find_all(Locator::Css(".settings-nav a[href='/settings/users']"))
        .await
        .unwrap()
        .is_empty());
    open(&client, &base, "/settings/users").await;
    let title = text_of(&client, "h1").await;
    assert_eq!(title, "无法提交");
    assert!(client
        .find_all(Locator::Css("#new-user-form"))
        .await
        .unwrap()
        .is_empty());
}
