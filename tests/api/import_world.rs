//! Leads imported as other systems write them: phones of any country read in the country of
//! their row (or the import's `--country`), kept unverified with a warning when they cannot be
//! read; duplicates told apart as certain (phone, email, external id) or probable (the same
//! name at the same company), names differing in digits kept apart, each kind following its own
//! action; outcomes of the system of origin (converted, disqualified) kept with their dates,
//! read-only, and learnt from by the win prediction.

use crate::on_both_databases;
use crate::support::{Reply, TestApp};
use crate::ui::Browser;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Runs `xiansuo import leads FILE EXTRA…` against the app's database; returns stdout.
async fn import(app: &TestApp, file: &Path, extra: &[&str]) -> String {
    let url = app.database_url().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xiansuo"))
        .args(["--database-url", &url, "import", "leads"])
        .arg(file)
        .args(extra)
        .env_remove("XIANSUO_DATABASE_URL")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The row report next to `file` as (row, result, field, reason).
fn report(file: &Path) -> Vec<(String, String, String, String)> {
    let mut path = file.as_os_str().to_owned();
    path.push(".errors.csv");
    let bytes = std::fs::read(PathBuf::from(path)).expect("a row report next to the file");
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&bytes[3..]);
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let cell = |i: usize| r.get(i).unwrap_or_default().to_owned();
            (cell(0), cell(1), cell(2), cell(3))
        })
        .collect()
}

/// Every lead as the API shows it, by id.
async fn leads(app: &TestApp) -> Vec<Value> {
    let list = app
        .get("/api/v1/leads?sort=id&limit=500", &app.admin_token)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.body["items"].as_array().unwrap().clone()
}

fn named<'l>(leads: &'l [Value], name: &str) -> &'l Value {
    leads
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no lead named {name}"))
}

const SALESFORCE: &str = "\
Id,FirstName,LastName,Company,Phone,Email,Country,Status
00Q001,John,Smith,Acme Inc,(415) 555-2671 x9373,john@acme.com,USA,Open - Not Contacted
00Q002,Emma,Brown,Albion Ltd,020 7946 0958 ext. 12,emma@albion.co.uk,United Kingdom,Working - Contacted
00Q003,伟,张,中国移动,138 0013 8000,,中国,Open - Not Contacted
00Q004,Bob,Faker,Faker LLC,(885)696-9384x9373,,US,Open - Not Contacted
00Q005,Gary,Garbage,Junk Co,call reception,,USA,Open - Not Contacted
00Q006,Ann,Lee,Beta Corp,(212) 555-0199,ann@beta.com,,Open - Not Contacted
";

async fn a_salesforce_export_with_foreign_phones_imports_every_row(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "salesforce.csv", SALESFORCE);
    let out = import(&app, &file, &["--country", "US"]).await;
    assert!(
        out.contains("imported 6 leads, skipped 0, failed 0 of 6 rows"),
        "{out}"
    );
    assert!(out.contains("1 rows were imported with a warning"), "{out}");
    let all = leads(&app).await;
    let e164 = |name: &str| named(&all, name)["phone_normalized"].clone();
    assert_eq!(e164("John Smith"), "+14155552671");
    assert_eq!(
        named(&all, "John Smith")["phone"],
        "(415) 555-2671 x9373",
        "the extension is kept as entered"
    );
    assert_eq!(named(&all, "John Smith")["phone_verified"], true);
    assert_eq!(named(&all, "John Smith")["external_id"], "00Q001");
    assert_eq!(e164("Emma Brown"), "+442079460958");
    assert_eq!(e164("张伟"), "+8613800138000");
    assert_eq!(
        e164("Bob Faker"),
        "+18856969384",
        "a number of the right length in its country's plan"
    );
    assert_eq!(
        e164("Ann Lee"),
        "+12125550199",
        "a row without a country takes --country"
    );
    let gary = named(&all, "Gary Garbage");
    assert_eq!(gary["phone"], "call reception", "kept as entered");
    assert_eq!(
        gary["phone_normalized"],
        Value::Null,
        "no E.164, no dedup key"
    );
    assert_eq!(gary["phone_verified"], false);

    let rows = report(&file);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str(), rows[0].2.as_str()),
        ("6", "warning", "phone")
    );
    assert!(rows[0].3.contains("unverified"), "{rows:?}");

    // The lead page says the phone is unverified.
    let browser = Browser::signed_in(&app, "admin").await;
    let page = browser.get(&format!("/leads/{}", gary["id"])).await;
    assert!(
        page.body.contains("id=\"phone-unverified\""),
        "{}",
        page.body
    );

    // The API itself stays strict.
    for phone in ["call reception", "12"] {
        let refused = app
            .post(
                "/api/v1/leads",
                &app.admin_token,
                json!({"name": "严格", "phone": phone}),
            )
            .await;
        refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    }

    // Without --country a number without a country code is Chinese.
    let china = write(
        dir.path(),
        "no-country.csv",
        "Name,Phone\nLi Lei,(212) 555-0199\n",
    );
    import(&app, &china, &[]).await;
    let all = leads(&app).await;
    assert_ne!(named(&all, "Li Lei")["phone_normalized"], "+12125550199");
}

async fn names_differing_in_digits_are_different_people_and_a_shared_name_is_probable(
    app: TestApp,
) {
    let t = &app.admin_token;
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("姓名,公司\n");
    for i in 0..300 {
        text.push_str(&format!("测试{i},测试公司{}\n", i % 3));
    }
    let tests = write(dir.path(), "tests.csv", &text);
    let out = import(&app, &tests, &[]).await;
    assert!(
        out.contains("imported 300 leads, skipped 0, failed 0 of 300 rows"),
        "{out}"
    );
    let flagged = leads(&app)
        .await
        .into_iter()
        .filter(|l| l["tags"] != json!([]))
        .count();
    assert_eq!(flagged, 0, "测试0 … 测试299 are 300 people");

    let held = app
        .lead(
            t,
            json!({"name": "李娜", "company": "中国联通", "phone": "13900139000"}),
        )
        .await;
    let file = write(
        dir.path(),
        "people.csv",
        "姓名,公司,手机\n\
         张伟,中国移动,13800138001\n\
         张伟,中国移动,13800138002\n\
         李娜,中国联通,\n\
         李四,某公司,139 0013 9000\n\
         章玮,中国移动,\n",
    );
    let out = import(&app, &file, &[]).await;
    assert!(
        out.contains("imported 4 leads, skipped 1, failed 0 of 5 rows"),
        "{out}"
    );
    let rows = report(&file);
    let row = |n: &str| rows.iter().find(|r| r.0 == n).cloned();
    let second = row("3").expect("the second 张伟 is reported");
    assert_eq!((second.1.as_str(), second.2.as_str()), ("imported", "name"));
    assert!(
        second
            .3
            .starts_with("probable duplicate: the same name and company as row 2"),
        "{second:?}"
    );
    let li = row("4").expect("李娜 is reported");
    assert_eq!(li.1, "imported");
    assert!(li.3.starts_with("probable duplicate"), "{li:?}");
    let li_si = row("5").expect("the same phone is reported");
    assert_eq!((li_si.1.as_str(), li_si.2.as_str()), ("skipped", "phone"));
    assert!(
        li_si
            .3
            .starts_with("certain duplicate: the same phone as lead"),
        "{li_si:?}"
    );
    assert!(row("6").is_none(), "章玮 is another person: {rows:?}");

    let all = leads(&app).await;
    let zhangs: Vec<&Value> = all.iter().filter(|l| l["name"] == "张伟").collect();
    assert_eq!(zhangs.len(), 2, "both are imported");
    assert_eq!(zhangs[0]["tags"], json!([]));
    assert_eq!(zhangs[1]["tags"], json!(["possible_duplicate"]));
    let li_na: Vec<&Value> = all.iter().filter(|l| l["name"] == "李娜").collect();
    assert_eq!(
        li_na[1]["duplicate_of"], held["id"],
        "flagged for review against the lead"
    );
}

async fn set(app: &TestApp, path: &str, body: Value) -> Reply {
    let reply = app
        .call(reqwest::Method::PUT, path, &app.admin_token, Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply
}

async fn certain_and_probable_matches_follow_their_own_policies(app: TestApp) {
    let t = &app.admin_token;
    let defaults = app.get("/api/v1/dedup/probable-policies", t).await;
    assert_eq!(defaults.status, StatusCode::OK, "{}", defaults.body);
    assert_eq!(defaults.body["*"], "warn");
    assert_eq!(defaults.body["import"], "warn");
    let rep = app.user("rep", xiansuo_core::role::Role::Rep, None).await;
    let refused = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/dedup/probable-policies",
            &rep.token,
            Some(json!({"import": "block"})),
        )
        .await;
    refused.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let bad = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/dedup/probable-policies",
            t,
            Some(json!({"import": "skip"})),
        )
        .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    let held = app
        .lead(
            t,
            json!({"name": "王芳", "company": "星辰科技", "email": "wf@xc.cn"}),
        )
        .await;
    let dir = tempfile::tempdir().unwrap();

    let set_now = set(
        &app,
        "/api/v1/dedup/probable-policies",
        json!({"import": "block"}),
    )
    .await;
    assert_eq!(set_now.body["import"], "block");
    assert_eq!(
        app.get("/api/v1/dedup/policies", t).await.body["import"],
        "warn",
        "the policy for certain matches is another"
    );
    let blocked = write(
        dir.path(),
        "blocked.csv",
        "姓名,公司,邮箱\n王芳,星辰科技有限公司,\n赵六,别的公司,WF@xc.cn\n",
    );
    let out = import(&app, &blocked, &["--dedup", "warn"]).await;
    assert!(
        out.contains("imported 1 leads, skipped 0, failed 1 of 2 rows"),
        "{out}"
    );
    let rows = report(&blocked);
    assert_eq!((rows[0].1.as_str(), rows[0].2.as_str()), ("failed", "name"));
    assert_eq!(
        (rows[1].1.as_str(), rows[1].2.as_str()),
        ("imported", "email"),
        "a certain match follows --dedup warn"
    );

    set(
        &app,
        "/api/v1/dedup/probable-policies",
        json!({"import": "merge"}),
    )
    .await;
    let merged = write(
        dir.path(),
        "merged.csv",
        "姓名,公司,职位\n王芳,星辰科技,采购经理\n",
    );
    let out = import(&app, &merged, &[]).await;
    assert!(out.contains("1 rows were merged"), "{out}");
    let lead = app
        .get(&format!("/api/v1/leads/{}", held["id"]), t)
        .await
        .body;
    assert_eq!(lead["title"], "采购经理", "merged into the lead");

    // --dedup-probable wins over the channel's policy.
    let flagged = write(
        dir.path(),
        "flagged.csv",
        "姓名,公司\n王芳,星辰科技股份有限公司\n",
    );
    let out = import(&app, &flagged, &["--dedup-probable", "warn"]).await;
    assert!(out.contains("imported 1 leads"), "{out}");

    // The API channel has its own policies too.
    set(
        &app,
        "/api/v1/dedup/probable-policies",
        json!({"api": "block"}),
    )
    .await;
    let refused = app
        .post(
            "/api/v1/leads",
            t,
            json!({"name": "王芳", "company": "星辰科技"}),
        )
        .await;
    refused.assert_error(StatusCode::CONFLICT, "duplicate");
    set(
        &app,
        "/api/v1/dedup/probable-policies",
        json!({"api": null}),
    )
    .await;
    let created = app
        .post(
            "/api/v1/leads",
            t,
            json!({"name": "王芳", "company": "星辰科技"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["tags"], json!(["possible_duplicate"]));

    // The same rows again, by their external id: certain duplicates, skipped by default.
    let first = write(
        dir.path(),
        "export-1.csv",
        "Id,Last Name,Company\nX-1,Alpha,Org A\nX-2,Beta,Org B\n",
    );
    import(&app, &first, &[]).await;
    let again = write(
        dir.path(),
        "export-2.csv",
        "Id,Last Name,Company\nX-1,Alpha,Org A\nX-2,Beta,Org B\nX-3,Gamma,Org C\n",
    );
    let out = import(&app, &again, &[]).await;
    assert!(
        out.contains("imported 1 leads, skipped 2, failed 0 of 3 rows"),
        "{out}"
    );
    let rows = report(&again);
    assert_eq!(
        (rows[0].1.as_str(), rows[0].2.as_str()),
        ("skipped", "external_id")
    );
    assert!(
        rows[0]
            .3
            .starts_with("certain duplicate: the same external id"),
        "{rows:?}"
    );
}

async fn outcomes_of_the_system_of_origin_are_kept_with_their_dates(app: TestApp) {
    let t = &app.admin_token;
    let account = app
        .post(
            "/api/v1/accounts",
            t,
            json!({"name": "Acme Inc", "external_id": "001A"}),
        )
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.body);
    let dir = tempfile::tempdir().unwrap();
    let salesforce = write(
        dir.path(),
        "outcomes.csv",
        "Id,LastName,Company,Status,IsConverted,ConvertedDate,ConvertedAccountId\n\
         00Q1,Won,Acme Inc,Closed - Converted,true,2025-03-14,001A\n\
         00Q2,Lost,Beta,Closed - Not Converted,false,,\n\
         00Q3,Open,Gamma,Working - Contacted,false,,\n\
         00Q4,Odd,Delta,Qualified,true,14 March,009Z\n",
    );
    let out = import(&app, &salesforce, &[]).await;
    assert!(
        out.contains("imported 4 leads, skipped 0, failed 0 of 4 rows"),
        "{out}"
    );
    let chinese = write(
        dir.path(),
        "结果.csv",
        "姓名,状态,转化时间,无效时间\n张三,已转化,2024-11-02 15:30,\n李四,无效,,2024-12-01\n",
    );
    import(&app, &chinese, &[]).await;

    let all = leads(&app).await;
    let won = named(&all, "Won");
    assert_eq!(won["status"], "converted");
    assert_eq!(won["converted_at"], "2025-03-14T00:00:00.000Z");
    assert_eq!(won["converted_account_id"], account.body["id"]);
    assert_eq!(won["tags"], json!([]), "no tag stands in for the outcome");
    let lost = named(&all, "Lost");
    assert_eq!(lost["status"], "disqualified");
    assert!(
        lost["disqualified_at"].is_string(),
        "the import's time: {lost}"
    );
    assert_eq!(named(&all, "Open")["status"], "working");
    let odd = named(&all, "Odd");
    assert_eq!(odd["status"], "converted", "IsConverted decides");
    assert!(odd["converted_at"].is_string());
    assert_eq!(odd["converted_account_id"], Value::Null);
    let rows = report(&salesforce);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1, "warning");
    assert!(rows[0].3.contains("'14 March' is not a date"), "{rows:?}");
    assert!(rows[0].3.contains("009Z"), "{rows:?}");
    let zhang = named(&all, "张三");
    assert_eq!(zhang["status"], "converted");
    assert_eq!(zhang["converted_at"], "2024-11-02T15:30:00.000Z");
    let li = named(&all, "李四");
    assert_eq!(li["status"], "disqualified");
    assert_eq!(li["disqualified_at"], "2024-12-01T00:00:00.000Z");

    // Read-only as any converted lead.
    let refused = app
        .patch(
            &format!("/api/v1/leads/{}", won["id"]),
            t,
            json!({"title": "CEO"}),
        )
        .await;
    refused.assert_error(StatusCode::CONFLICT, "conflict");
    // A disqualified lead taken up again loses its disqualified time.
    let reopened = app
        .patch(
            &format!("/api/v1/leads/{}", li["id"]),
            t,
            json!({"status": "working"}),
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.body);
    assert_eq!(reopened.body["disqualified_at"], Value::Null);
}

async fn the_prediction_learns_from_imported_outcomes(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("Last Name,Industry,Status\n");
    for i in 0..25 {
        text.push_str(&format!("Won{i},Software,Closed - Converted\n"));
    }
    for i in 0..30 {
        text.push_str(&format!("Lost{i},Retail,Closed - Not Converted\n"));
    }
    for i in 0..10 {
        text.push_str(&format!("Open{i},Software,Open - Not Contacted\n"));
    }
    let file = write(dir.path(), "history.csv", &text);
    import(&app, &file, &[]).await;

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
    assert_eq!(summary["positives"], 25, "{summary}");
    assert_eq!(
        summary["leads"], 55,
        "converted and disqualified: {summary}"
    );
}

async fn an_upload_takes_a_default_country_and_reports_warnings(app: TestApp) {
    let t = &app.admin_token;
    let uploaded = app
        .client
        .post(format!("{}/api/v1/imports?file_name=us.csv", app.base))
        .bearer_auth(t)
        .header("Content-Type", "text/csv")
        .body("Name,Phone\nAnn,(415) 555-2671\nBob,n/a\n")
        .send()
        .await
        .unwrap();
    let uploaded = Reply::from(uploaded).await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    let id = uploaded.body["id"].as_i64().unwrap();
    let bad = app
        .post(
            &format!("/api/v1/imports/{id}/start"),
            t,
            json!({"country": "Atlantis"}),
        )
        .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let started = app
        .post(
            &format!("/api/v1/imports/{id}/start"),
            t,
            json!({"country": "US"}),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let mut done = started.body;
    for _ in 0..600 {
        done = app.get(&format!("/api/v1/imports/{id}"), t).await.body;
        if done["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(done["state"], "finished", "{done}");
    assert_eq!(done["progress"]["imported"], 2, "{done}");
    assert_eq!(done["progress"]["warnings"], 1, "{done}");
    assert_eq!(done["options"]["country"], "US");
    let all = leads(&app).await;
    assert_eq!(named(&all, "Ann")["phone_normalized"], "+14155552671");
    assert_eq!(named(&all, "Bob")["phone_verified"], false);
    let report = app
        .client
        .get(format!("{}/api/v1/imports/{id}/errors.csv", app.base))
        .bearer_auth(t)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(report.contains("3,warning,phone,"), "{report}");
    let browser = Browser::signed_in(&app, "admin").await;
    let zh = browser.get(&format!("/imports/{id}/errors.csv")).await;
    assert!(zh.body.contains("导入（数据有提醒）"), "{}", zh.body);
    assert!(zh.body.contains("已按原样导入"), "{}", zh.body);
}

on_both_databases!(
    a_salesforce_export_with_foreign_phones_imports_every_row,
    names_differing_in_digits_are_different_people_and_a_shared_name_is_probable,
    certain_and_probable_matches_follow_their_own_policies,
    outcomes_of_the_system_of_origin_are_kept_with_their_dates,
    the_prediction_learns_from_imported_outcomes,
    an_upload_takes_a_default_country_and_reports_warnings,
);
