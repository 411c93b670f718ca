//! The group robots' settings page in a real headless Chromium: an admin's first robot is
//! refused for its address, shown next to the field, then added, changed, sent a test message
//! that fails and is sent again from the log, and deleted; the list fits at 1366 px and at
//! 375 px. A rep is refused by the API (`robots.rs`) and by the shared admin gate.

use crate::support::{Backend, TestApp};
use crate::ui::browser::{
    choose, chromedriver_or_skip, click, fill, in_chromium, screenshot, wait_for_address, widths,
};
use fantoccini::{Client, Locator};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_changes_and_deletes_a_robot_in_headless_chromium() {
    let Some(chromedriver) = chromedriver_or_skip() else {
        return;
    };
    let app = TestApp::start(Backend::Sqlite)
        .await
        .expect("a SQLite test app");
    in_chromium(chromedriver, app.base.clone(), scenario).await;
    let left = app.get("/api/v1/robots", &app.admin_token).await;
    assert_eq!(left.body["items"], json!([]), "deleted in the end");
}

async fn scenario(client: Client, base: String) {
    let wait = || client.wait().at_most(Duration::from_secs(10));
    client.goto(&format!("{base}/login")).await.unwrap();
    fill(&client, "input[name=username]", "admin").await;
    fill(&client, "input[name=password]", "password123").await;
    click(&client, "form button[type=submit]").await;
    wait_for_address(&client, |a| a.starts_with("/leads")).await;

    client.goto(&format!("{base}/settings")).await.unwrap();
    click(&client, ".settings-cards a[href='/settings/robots']").await;
    wait_for_address(&client, |a| a.starts_with("/settings/robots")).await;

    // An address without its scheme is refused next to the field; what was typed stays.
    fill(&client, "#new-robot-form #field-name", "华东销售群").await;
    choose(&client, "#new-robot-form #field-kind", "dingtalk").await;
    fill(
        &client,
        "#new-robot-form #field-webhook_url",
        "oapi.dingtalk.com/robot/send?access_token=abc",
    )
    .await;
    fill(&client, "#new-robot-form #field-secret", "SEC0123456789").await;
    click(&client, "#new-robot-form input[value='lead.assigned']").await;
    click(&client, "#new-robot-form input[value='opportunity.won']").await;
    click(&client, "#new-robot-form button[type=submit]").await;
    let error = wait()
        .for_element(Locator::Css("#new-robot-form #error-webhook_url"))
        .await
        .expect("the refusal next to the address");
    assert!(error.text().await.unwrap().contains("https://"));
    let name = client
        .find(Locator::Css("#new-robot-form #field-name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("华东销售群"));
    assert!(client
        .find(Locator::Css(
            "#new-robot-form input[value='opportunity.won']"
        ))
        .await
        .unwrap()
        .is_selected()
        .await
        .unwrap());

    fill(
        &client,
        "#new-robot-form #field-webhook_url",
        "https://oapi.dingtalk.com/robot/send?access_token=abc",
    )
    .await;
    fill(&client, "#new-robot-form #field-secret", "SEC0123456789").await;
    click(&client, "#new-robot-form button[type=submit]").await;
    wait_for_address(&client, |a| {
        a.starts_with("/settings/robots/") && a.contains("saved=1")
    })
    .await;
    let hint = client
        .find(Locator::Css("#robot-form #field-secret + .hint"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(hint.contains("留空则保持不变"), "{hint}");

    // Changed: a new name, English messages and an address where nothing answers (port 9 of
    // this machine); the secret is kept.
    fill(&client, "#robot-form #field-name", "华东销售群（新）").await;
    fill(
        &client,
        "#robot-form #field-webhook_url",
        "http://127.0.0.1:9/robot/send?access_token=abc",
    )
    .await;
    choose(&client, "#robot-form #field-language", "en").await;
    click(&client, "#robot-form button[type=submit]").await;
    wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("saved");
    // The saved page replaces the form's page: read its title once it has loaded (an element of
    // the page before may still be found, and then goes stale).
    let mut title = String::new();
    for _ in 0..50 {
        if let Ok(h1) = client.find(Locator::Css("h1")).await {
            if let Ok(text) = h1.text().await {
                title = text;
                if title == "华东销售群（新）" {
                    break;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(title, "华东销售群（新）");

    // A test message fails at once and shows in the log, with a button to send it again.
    click(&client, "#test-robot").await;
    let row = wait()
        .for_element(Locator::Css("#deliveries tbody tr"))
        .await
        .expect("the test in the log")
        .text()
        .await
        .unwrap();
    assert!(row.contains("test") && row.contains("失败"), "{row}");
    click(&client, "#deliveries tbody tr button[type=submit]").await;
    wait_for_address(&client, |a| a.contains("saved=1")).await;
    let row = wait()
        .for_element(Locator::Css("#deliveries tbody tr"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("等待中"), "queued again: {row}");
    client.set_window_size(1366, 900).await.unwrap();
    screenshot(&client, "settings-robot-desktop").await;

    client
        .goto(&format!("{base}/settings/robots"))
        .await
        .unwrap();
    let row = wait()
        .for_element(Locator::Css("#robots tbody tr"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("钉钉") && row.contains("赢单"), "{row}");
    client.set_window_size(1366, 900).await.unwrap();
    screenshot(&client, "settings-robots-desktop").await;
    client.set_window_size(375, 812).await.unwrap();
    let (page, window) = widths(&client).await;
    assert!(page <= window, "the list fits a phone: {page} > {window}");
    screenshot(&client, "settings-robots-phone").await;
    client.set_window_size(1280, 1000).await.unwrap();

    click(&client, "#robots tbody tr a").await;
    wait_for_address(&client, |a| a.starts_with("/settings/robots/")).await;
    click(&client, "#delete-robot").await;
    wait_for_address(&client, |a| a == "/settings/robots?saved=1").await;
    assert!(client
        .find(Locator::Css(".settings-main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("还没有群机器人"));
}
