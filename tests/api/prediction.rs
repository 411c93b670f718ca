//! Win prediction: trained on leads with a planted signal (referrals on the enterprise plan
//! convert), it ranks them well and names the planted fields as reasons; it refuses to train on
//! too few outcomes; only admins see or train the model; every lead carries its probability
//! once a model exists; and `xiansuo predict train` prints its summary.

use crate::on_both_databases;
use crate::support::TestApp;
use crate::ui::Browser;
use reqwest::StatusCode;
use serde_json::{json, Value};
use xiansuo_app::jobs::{self, JobEnv};
use xiansuo_core::role::Role;
use xiansuo_store::Param;

on_both_databases!(
    a_planted_signal_is_learned_and_named_as_the_reason,
    too_few_outcomes_are_refused,
    only_admins_see_and_train_the_model,
    the_command_line_trains_and_prints_its_summary,
);

/// How many leads the planted data has.
const LEADS: usize = 240;

/// Leads with a planted signal: every fourth is a referral on the enterprise plan and, unless
/// still open, converts nine times in ten; the others come from the web on the basic plan and convert rarely. The
/// outcomes are set as the conversion and disqualification would leave them.
async fn planted(app: &TestApp) -> Vec<i64> {
    let field = app
        .post(
            "/api/v1/custom-fields",
            &app.admin_token,
            json!({"object": "lead", "key": "plan", "label": "套餐", "field_type": "single_select",
                   "options": ["enterprise", "basic"]}),
        )
        .await;
    assert_eq!(field.status, StatusCode::CREATED, "{}", field.body);
    let mut ids = Vec::new();
    for i in 0..LEADS {
        let signal = i % 4 == 0;
        let city = ["上海", "北京", "广州"][(i / 2) % 3];
        let lead = app
            .lead(
                &app.admin_token,
                json!({
                    "name": format!("客户{i}"),
                    "source": if signal { "referral" } else if i % 3 == 0 { "web_form" } else { "ad" },
                    "city": city,
                    "custom": {"plan": if signal { "enterprise" } else { "basic" }},
                }),
            )
            .await;
        assert_eq!(lead["win_probability"], Value::Null, "no model yet");
        ids.push(lead["id"].as_i64().unwrap());
    }
    let now = app.clock_now().timestamp_millis();
    for (i, id) in ids.iter().enumerate() {
        let signal = i % 4 == 0;
        let outcome = if signal && i % 24 == 4 {
            None
        } else if signal {
            Some(if i % 40 == 0 {
                "disqualified"
            } else {
                "converted"
            })
        } else if i % 11 == 1 {
            Some("converted")
        } else if i % 2 == 1 {
            Some("disqualified")
        } else {
            None
        };
        if let Some(status) = outcome {
            let converted_at = if status == "converted" {
                Param::Int(now)
            } else {
                Param::NullInt
            };
            app.db
                .execute(
                    "UPDATE leads SET status = ?, converted_at = ? WHERE id = ?",
                    &[Param::from(status), converted_at, Param::Int(*id)],
                )
                .await
                .unwrap();
        }
    }
    ids
}

async fn run_jobs(app: &TestApp) {
    jobs::run_due(&app.db, &JobEnv::default(), app.clock_now())
        .await
        .expect("jobs run");
}

async fn a_planted_signal_is_learned_and_named_as_the_reason(app: TestApp) {
    let ids = planted(&app).await;
    let before = app.get("/api/v1/prediction", &app.admin_token).await;
    assert_eq!(before.status, StatusCode::OK);
    assert_eq!(before.body["model"], Value::Null);
    let none = app
        .get(
            &format!("/api/v1/leads/{}/prediction", ids[0]),
            &app.admin_token,
        )
        .await;
    assert_eq!(none.body, json!({"probability": null, "reasons": []}));

    let queued = app
        .post("/api/v1/prediction/train", &app.admin_token, json!({}))
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    assert_eq!(queued.body["job"]["kind"], "prediction.train");
    run_jobs(&app).await;

    let model = app.get("/api/v1/prediction", &app.admin_token).await;
    assert_eq!(model.status, StatusCode::OK);
    let auc = model.body["auc"].as_f64().unwrap();
    assert!(auc > 0.75, "AUC {auc}: {}", model.body);
    assert!(model.body["top_decile_lift"].as_f64().unwrap() > 1.5);
    assert_eq!(model.body["comparison"].as_array().unwrap().len(), 2);
    assert_eq!(model.body["deciles"].as_array().unwrap().len(), 10);
    let important: Vec<&str> = model.body["important_features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["field"].as_str())
        .take(3)
        .collect();
    assert!(
        important.contains(&"source") || important.contains(&"custom.plan"),
        "{important:?}"
    );

    // A planted lead that is still open ranks above a plain one, and says why.
    let open_signal = ids[4 * 13];
    let open_plain = ids[2];
    let probability = |body: &Value| body["win_probability"].as_f64().unwrap();
    let signal = app
        .get(&format!("/api/v1/leads/{open_signal}"), &app.admin_token)
        .await;
    let plain = app
        .get(&format!("/api/v1/leads/{open_plain}"), &app.admin_token)
        .await;
    assert!(
        probability(&signal.body) > probability(&plain.body) + 0.2,
        "{} against {}: {}",
        signal.body,
        plain.body,
        model.body
    );
    let sorted = app
        .get(
            "/api/v1/leads?sort=-win_probability&limit=5",
            &app.admin_token,
        )
        .await;
    assert_eq!(sorted.status, StatusCode::OK, "{}", sorted.body);
    assert_eq!(sorted.body["items"][0]["source"], "referral");
    let likely = app
        .get(
            "/api/v1/leads?win_probability=0.5..&limit=200",
            &app.admin_token,
        )
        .await;
    assert!(likely.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["source"] == "referral"));
    let bad = app
        .get("/api/v1/leads?win_probability=high", &app.admin_token)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let why = app
        .get(
            &format!("/api/v1/leads/{open_signal}/prediction"),
            &app.admin_token,
        )
        .await;
    assert_eq!(why.status, StatusCode::OK);
    assert!((why.body["probability"].as_f64().unwrap() - probability(&signal.body)).abs() < 1e-9);
    let top = &why.body["reasons"][0];
    assert!(
        top["field"] == "source" || top["field"] == "custom.plan",
        "{}",
        why.body
    );
    assert!(top["effect"].as_f64().unwrap() > 0.0);
    assert!(top["text"].as_str().unwrap().contains("提高"), "{top}");

    // In English for a user who reads English, and only within the caller's scope.
    let rep = app.user("rep", Role::Rep, None).await;
    let hidden = app
        .get(
            &format!("/api/v1/leads/{open_signal}/prediction"),
            &rep.token,
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    app.db
        .execute(
            "UPDATE users SET locale = 'en' WHERE username = 'admin'",
            &[],
        )
        .await
        .unwrap();
    let english = app
        .get(
            &format!("/api/v1/leads/{open_signal}/prediction"),
            &app.admin_token,
        )
        .await;
    assert!(english.body["reasons"][0]["text"]
        .as_str()
        .unwrap()
        .contains("raises"));

    // A lead created or changed now gets its probability at once.
    let new = app
        .lead(
            &app.admin_token,
            json!({"name": "新客户", "source": "referral", "custom": {"plan": "enterprise"}}),
        )
        .await;
    assert!(new["win_probability"].as_f64().unwrap() > 0.5, "{new}");
    let changed = app
        .patch(
            &format!("/api/v1/leads/{}", new["id"]),
            &app.admin_token,
            json!({"source": "ad", "custom": {"plan": "basic"}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(changed.body["win_probability"].as_f64().unwrap() < 0.5);

    // The pages: the lead shows its probability and reasons, the admin the model and the chart.
    let browser = Browser::signed_in(&app, "admin").await;
    let lead = browser.get(&format!("/leads/{open_signal}")).await;
    assert_eq!(lead.status, StatusCode::OK);
    assert!(
        lead.body.contains("id=\"win-probability\""),
        "{}",
        lead.body
    );
    assert!(lead.body.contains("Win probability"));
    assert!(lead.body.contains("raises the win probability"));
    let settings = browser.get("/settings/prediction").await;
    assert_eq!(settings.status, StatusCode::OK);
    assert!(settings.body.contains("href=\"/settings/prediction\""));
    assert!(settings.body.contains("id=\"prediction-auc\""));
    assert!(settings.body.contains("<svg class=\"lift-chart\""));
    assert!(settings.body.contains("Gradient-boosted trees"));
    assert!(settings.body.contains("Train again"), "a model exists");
    let again = browser
        .post(
            "/settings/prediction",
            &[("csrf_token", &browser.csrf().await)],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(again.location(), "/settings/prediction?saved=1");
    let rep_browser = Browser::signed_in(&app, "rep").await;
    assert_eq!(
        rep_browser.get("/settings/prediction").await.status,
        StatusCode::FORBIDDEN
    );

    // A week on, the model is trained again on its own (trained by nobody) and leads rescored.
    let week_on = app.clock_now() + chrono::Duration::days(8);
    app.clock.advance(chrono::Duration::days(8));
    run_jobs(&app).await;
    let retrained = app
        .db
        .fetch_all(
            "SELECT trained_at FROM prediction_models WHERE trained_by IS NULL",
            &[],
        )
        .await
        .unwrap();
    assert!(
        retrained
            .iter()
            .any(|r| r.int("trained_at") >= week_on.timestamp_millis() - 1),
        "no weekly retraining"
    );
    let model = app.get("/api/v1/prediction", &app.admin_token).await;
    assert!(model.body["auc"].as_f64().unwrap() > 0.75, "{}", model.body);
}

async fn too_few_outcomes_are_refused(app: TestApp) {
    for i in 0..30 {
        app.lead(&app.admin_token, json!({"name": format!("客户{i}")}))
            .await;
    }
    app.db
        .execute(
            "UPDATE leads SET status = 'disqualified' WHERE id % 2 = 0",
            &[],
        )
        .await
        .unwrap();
    app.db
        .execute(
            "UPDATE leads SET status = 'converted' WHERE id IN (SELECT id FROM leads WHERE id % 2 = 1 LIMIT 5)",
            &[],
        )
        .await
        .unwrap();
    let refused = app
        .post("/api/v1/prediction/train", &app.admin_token, json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.to_string().contains("at least 20"),
        "{}",
        refused.body
    );
    let model = app.get("/api/v1/prediction", &app.admin_token).await;
    assert_eq!(model.body["model"], Value::Null);
}

async fn only_admins_see_and_train_the_model(app: TestApp) {
    let manager = app.user("manager", Role::Manager, None).await;
    let rep = app.user("rep", Role::Rep, None).await;
    for token in [&manager.token, &rep.token] {
        let read = app.get("/api/v1/prediction", token).await;
        assert_eq!(read.status, StatusCode::FORBIDDEN);
        let train = app.post("/api/v1/prediction/train", token, json!({})).await;
        assert_eq!(train.status, StatusCode::FORBIDDEN);
    }
    let own = app.lead(&rep.token, json!({"name": "自己的"})).await;
    let mine = app
        .get(
            &format!("/api/v1/leads/{}/prediction", own["id"]),
            &rep.token,
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body["probability"], Value::Null);
}

async fn the_command_line_trains_and_prints_its_summary(app: TestApp) {
    let ids = planted(&app).await;
    let url = app.database_url().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xiansuo"))
        .args(["--database-url", &url, "predict", "train"])
        .env_remove("XIANSUO_DATABASE_URL")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert!(summary["auc"].as_f64().unwrap() > 0.75, "{summary}");
    assert!(summary["positives"].as_i64().unwrap() >= 20);
    assert!(summary["leads"].as_i64().unwrap() > summary["positives"].as_i64().unwrap());
    assert!(summary["features"].as_i64().unwrap() > 2);
    assert!(["gradient_boosted_trees", "logistic_regression"]
        .contains(&summary["model"].as_str().unwrap()));
    let lead = app
        .get(&format!("/api/v1/leads/{}", ids[1]), &app.admin_token)
        .await;
    assert!(lead.body["win_probability"].as_f64().is_some());

    // Too few outcomes: a clear refusal and a failing exit.
    app.db
        .execute("UPDATE leads SET status = 'new'", &[])
        .await
        .unwrap();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_xiansuo"))
        .args(["--database-url", &url, "predict", "train"])
        .env_remove("XIANSUO_DATABASE_URL")
        .output()
        .expect("the binary runs");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("too few outcomes"));
}
