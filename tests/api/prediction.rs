//! Win prediction: trained on leads with a planted signal (referrals on the enterprise plan
//! convert), it ranks them well and names the planted fields as reasons; it refuses to train on
//! too few outcomes; only admins see or train the model; every lead carries its probability
//! once a model exists; `xiansuo predict train` prints its summary; the model is trained again
//! on the schedule an admin sets; and a converted lead's outcome is its deal's, won or lost.

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
    retraining_follows_the_schedule_an_admin_sets,
    won_and_lost_deals_are_the_outcomes_of_their_leads,
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
    run_jobs(&app).await;
    let rep_browser = Browser::signed_in(&app, "rep").await;
    assert_eq!(
        rep_browser.get("/settings/prediction").await.status,
        StatusCode::FORBIDDEN
    );

    // A week after that training, the model is trained again on its own (trained by nobody)
    // and leads rescored.
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
    let stdout = app.xiansuo_ok(&["predict", "train"]).await;
    let summary: Value = serde_json::from_str(&stdout).expect("one JSON object");
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
    let refused = app.xiansuo(&["predict", "train"]).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("too few outcomes"));
}

async fn model_count(app: &TestApp) -> usize {
    app.db
        .fetch_all("SELECT id FROM prediction_models", &[])
        .await
        .unwrap()
        .len()
}

fn instant(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(
        value.as_str().unwrap_or_else(|| panic!("a time: {value}")),
    )
    .unwrap()
    .to_utc()
}

/// Weekly by default; an admin sets every two days, and the model is trained again two days
/// after the last training, not one; with 0 it is never trained on its own. Bad intervals are
/// refused, reps may not touch it, each change is in the settings audit, and the page sets it.
async fn retraining_follows_the_schedule_an_admin_sets(app: TestApp) {
    planted(&app).await;
    let path = "/api/v1/prediction/schedule";
    let before = app.get(path, &app.admin_token).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert_eq!(before.body, json!({"every_days": 7, "next_at": null}));

    let queued = app
        .post("/api/v1/prediction/train", &app.admin_token, json!({}))
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    run_jobs(&app).await;
    assert_eq!(model_count(&app).await, 1);
    let trained_at = app.clock_now();
    let weekly = app.get(path, &app.admin_token).await;
    assert_eq!(
        instant(&weekly.body["next_at"]),
        trained_at + chrono::Duration::days(7)
    );

    let set = app
        .call(
            reqwest::Method::PUT,
            path,
            &app.admin_token,
            Some(json!({"every_days": 2})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["every_days"], 2);
    assert_eq!(
        instant(&set.body["next_at"]),
        trained_at + chrono::Duration::days(2)
    );
    app.clock.advance(chrono::Duration::days(1));
    run_jobs(&app).await;
    assert_eq!(model_count(&app).await, 1, "one day on, not yet");
    app.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    run_jobs(&app).await;
    assert_eq!(model_count(&app).await, 2, "two days on, trained again");

    let off = app
        .call(
            reqwest::Method::PUT,
            path,
            &app.admin_token,
            Some(json!({"every_days": 0})),
        )
        .await;
    assert_eq!(off.body, json!({"every_days": 0, "next_at": null}));
    app.clock.advance(chrono::Duration::days(30));
    run_jobs(&app).await;
    assert_eq!(model_count(&app).await, 2, "retraining is off");

    for bad in [
        json!({"every_days": 366}),
        json!({"every_days": -1}),
        json!({"every_days": "weekly"}),
        json!({}),
        json!({"every_days": 3, "hours": 1}),
    ] {
        let refused = app
            .call(
                reqwest::Method::PUT,
                path,
                &app.admin_token,
                Some(bad.clone()),
            )
            .await;
        assert!(
            refused.status.is_client_error(),
            "{bad}: {}",
            refused.status
        );
        assert_ne!(refused.status, StatusCode::FORBIDDEN, "{bad}");
    }
    let rep = app.user("rep_s", Role::Rep, None).await;
    assert_eq!(
        app.get(path, &rep.token).await.status,
        StatusCode::FORBIDDEN
    );
    let refused = app
        .call(
            reqwest::Method::PUT,
            path,
            &rep.token,
            Some(json!({"every_days": 1})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let audit = app
        .get("/api/v1/audit?kind=prediction_schedule", &app.admin_token)
        .await;
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        2,
        "{}",
        audit.body
    );

    let browser = Browser::signed_in(&app, "admin").await;
    let page = browser.get("/settings/prediction").await;
    assert!(page.body.contains("id=\"prediction-schedule\""));
    let saved = browser
        .post(
            "/settings/prediction/schedule",
            &[("csrf_token", &browser.csrf().await), ("every_days", "14")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = browser.get(saved.location()).await;
    assert!(page.body.contains("已保存"), "{}", page.body);
    assert!(page.body.contains("value=\"14\""));
    assert!(page.body.contains("id=\"prediction-next\""));
    let refused = browser
        .post(
            "/settings/prediction/schedule",
            &[
                ("csrf_token", &browser.csrf().await),
                ("every_days", "每周"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("every_days") || refused.body.contains("1 to 365"));
}

/// A converted lead's outcome is its deal's: won is positive, lost is negative even though the
/// lead was converted; a converted lead without a deal is positive and a disqualified one
/// negative.
async fn won_and_lost_deals_are_the_outcomes_of_their_leads(app: TestApp) {
    let mut deals = Vec::new();
    for i in 0..24 {
        let lead = app
            .lead(
                &app.admin_token,
                json!({"name": format!("商机客户{i}"), "company": format!("公司{i}")}),
            )
            .await;
        let converted = app
            .post(
                &format!("/api/v1/leads/{}/convert", lead["id"]),
                &app.admin_token,
                json!({"create_opportunity": true, "opportunity": {"name": format!("项目{i}"), "amount": 1000}}),
            )
            .await;
        assert_eq!(converted.status, StatusCode::OK, "{}", converted.body);
        deals.push(converted.body["opportunity"]["id"].as_i64().unwrap());
    }
    for (i, deal) in deals.iter().enumerate() {
        let (action, body) = if i % 2 == 0 {
            ("win", json!({}))
        } else {
            ("lose", json!({"reason": "价格"}))
        };
        let closed = app
            .post(
                &format!("/api/v1/opportunities/{deal}/{action}"),
                &app.admin_token,
                body,
            )
            .await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    }
    for i in 0..10 {
        let lead = app
            .lead(&app.admin_token, json!({"name": format!("无效客户{i}")}))
            .await;
        let dropped = app
            .patch(
                &format!("/api/v1/leads/{}", lead["id"]),
                &app.admin_token,
                json!({"status": "disqualified", "disqualify_reason": "空号"}),
            )
            .await;
        assert_eq!(dropped.status, StatusCode::OK, "{}", dropped.body);
        let lead = app
            .lead(&app.admin_token, json!({"name": format!("直接转化{i}")}))
            .await;
        let converted = app
            .post(
                &format!("/api/v1/leads/{}/convert", lead["id"]),
                &app.admin_token,
                json!({"create_opportunity": false}),
            )
            .await;
        assert_eq!(converted.status, StatusCode::OK, "{}", converted.body);
    }
    let stdout = app.xiansuo_ok(&["predict", "train"]).await;
    let summary: Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(summary["leads"], 44, "{summary}");
    assert_eq!(
        summary["positives"], 22,
        "12 won and 10 converted without a deal: {summary}"
    );
}
