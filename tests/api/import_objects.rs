//! `xiansuo import accounts|contacts|opportunities|activities FILE` run as the real binary on
//! the exports of other systems: a Salesforce set imported in order with its links, owners,
//! creation dates and won and lost deals checked through the API and in the forecast of the
//! month they were won; bad rows reported by row without stopping the file; a newer export
//! updating instead of duplicating; a HubSpot set and a 纷享销客 set in GBK with Chinese
//! headers; a Xiansuo export imported into a fresh database with its links; and an import
//! killed mid-way finishing with each record once.

use crate::on_both_databases;
use crate::support::TestApp;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use xiansuo_core::role::Role;
use xiansuo_store::Db;

on_both_databases!(
    a_salesforce_export_keeps_its_links_outcomes_and_history,
    hubspot_and_gbk_fxiaoke_exports_are_imported,
    a_xiansuo_export_moves_into_a_fresh_database_with_its_links,
    an_import_killed_mid_way_finishes_with_each_record_once,
);

const BIN: &str = env!("CARGO_BIN_EXE_xiansuo");

fn xiansuo(database: &[String], args: &[&str]) -> Output {
    Command::new(BIN)
        .args(database)
        .args(args)
        .env_remove("XIANSUO_DATABASE_URL")
        .output()
        .expect("the binary runs")
}

/// Runs `xiansuo import OBJECT FILE` and asserts it succeeded; returns stdout.
fn import(database: &[String], object: &str, file: &Path) -> String {
    let out = xiansuo(database, &["import", object, file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The errors file as (row, result, field, reason).
fn report(file: &Path) -> Vec<(u64, String, String, String)> {
    let mut path = file.as_os_str().to_owned();
    path.push(".errors.csv");
    let bytes = std::fs::read(PathBuf::from(path)).expect("an errors file next to the input");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].parse().unwrap(),
                r[1].to_owned(),
                r[2].to_owned(),
                r[3].to_owned(),
            )
        })
        .collect()
}

/// The one record of `table` with this external id, through the API.
async fn by_external_id(app: &TestApp, table: &str, id: &str) -> Value {
    let reply = app
        .get(
            &format!("/api/v1/{table}?external_id={}", urlencode(id)),
            &app.admin_token,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let items = reply.body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "one {table} with external id {id}: {items:?}"
    );
    items[0].clone()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn activities_of(app: &TestApp, table: &str, id: &Value) -> Vec<Value> {
    let reply = app
        .get(
            &format!("/api/v1/{table}/{id}/activities"),
            &app.admin_token,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

async fn count(db: &Db, sql: &str) -> i64 {
    db.fetch_optional(sql, &[]).await.unwrap().unwrap().int("n")
}

const SF_ACCOUNTS: &str = "\
Id,Name,ParentId,Industry,BillingCity,BillingState,Phone,Website,OwnerId,Owner Name,CreatedDate
0015g00000XcA1aAAF,北京星辰科技有限公司,,Software,北京,北京,010-6552 9988,https://xingchen.example.cn,0055g00000Ab1AAAA,li.lei,2024-11-02T03:04:05.000Z
0015g00000XcA2bAAF,Acme Retail Ltd,,Retail,Shanghai,Shanghai,+86 21 5555 0000,,0055g00000Zz9ZZZZ,Nobody Known,2024-12-01T00:00:00.000Z
";

const SF_CONTACTS: &str = "\
Id,AccountId,FirstName,LastName,Title,Email,Phone,MobilePhone,CreatedDate
0035g00000YdC1aAAF,0015g00000XcA1aAAF,伟,张,CTO,zhang.wei@xingchen.example.cn,,13800138000,2024-11-03T01:00:00.000Z
0035g00000YdC2bAAF,0015g00000Xc999AAF,Ada,Lovelace,Buyer,ada@acme.example.com,,,2024-12-02T01:00:00.000Z
0035g00000YdC3cAAF,0015g00000XcA2bAAF,,,Nobody,,,,2024-12-03T01:00:00.000Z
";

const SF_OPPORTUNITIES: &str = "\
Id,AccountId,Name,Amount,StageName,CloseDate,IsClosed,IsWon,Loss_Reason__c,CreatedDate
0065g00000ZeO1aAAF,0015g00000XcA1aAAF,星辰 ERP 一期,120000,Closed Won,2025-03-10,true,true,,2025-01-05T02:00:00.000Z
0065g00000ZeO2bAAF,0015g00000XcA2bAAF,Acme POS,5000.50,Closed Lost,2025-02-14,true,false,Price,2025-01-10T02:00:00.000Z
0065g00000ZeO3cAAF,0015g00000XcA1aAAF,星辰 CRM,80000,Negotiation/Review,2025-06-30,false,false,,2025-02-01T02:00:00.000Z
0065g00000ZeO4dAAF,0015g00000XcA1aAAF,Bad stage,100,Dreaming,2025-06-30,false,false,,
0065g00000ZeO5eAAF,0015g00000XcA1aAAF,Bad amount,lots,Prospecting,2025-06-30,false,false,,
0065g00000ZeO6fAAF,0015g00000XcA1aAAF,Bad date,100,Prospecting,31/31/2025,false,false,,
";

const SF_TASKS: &str = "\
Id,WhoId,WhatId,Subject,Description,ActivityDate,Type,Status
00T5g00000AaT1aAAF,0035g00000YdC1aAAF,0065g00000ZeO1aAAF,Pricing call,Agreed on phase one,2025-03-01,Call,Completed
00T5g00000AaT2bAAF,0035g00000YdC1aAAF,,Intro,Sent the deck,2025-02-01,Email,Completed
00T5g00000AaT3cAAF,,0015g00000XcA2bAAF,Site visit,Met the buyer,2025-01-20,Meeting,Completed
00T5g00000AaT4dAAF,0035g00000Zz999AAF,,Lost,Nobody,2025-01-21,Call,Completed
";

async fn a_salesforce_export_keeps_its_links_outcomes_and_history(app: TestApp) {
    let database = vec!["--database-url".to_owned(), app.database_url().await];
    let li = app.user("li.lei", Role::Rep, None).await;
    let dir = tempfile::tempdir().unwrap();
    let accounts = write(dir.path(), "Account.csv", SF_ACCOUNTS);
    let out = import(&database, "accounts", &accounts);
    assert!(
        out.contains("created 2, updated 0, skipped 0, failed 0 of 2 rows"),
        "{out}"
    );
    assert!(
        out.contains("ParentId"),
        "unmapped columns are named: {out}"
    );
    let contacts = write(dir.path(), "Contact.csv", SF_CONTACTS);
    let out = import(&database, "contacts", &contacts);
    assert!(
        out.contains("created 2, updated 0, skipped 0, failed 1 of 3 rows"),
        "{out}"
    );
    let opportunities = write(dir.path(), "Opportunity.csv", SF_OPPORTUNITIES);
    let out = import(&database, "opportunities", &opportunities);
    assert!(
        out.contains("created 3, updated 0, skipped 0, failed 3 of 6 rows"),
        "{out}"
    );
    let tasks = write(dir.path(), "Task.csv", SF_TASKS);
    let preview = xiansuo(
        &database,
        &[
            "import",
            "activities",
            tasks.to_str().unwrap(),
            "--preview",
            "4",
        ],
    );
    let shown = String::from_utf8_lossy(&preview.stdout);
    assert!(preview.status.success(), "{shown}");
    assert!(
        shown.contains("WhatId → what_ref") && shown.contains("row 5: null → failed (record)"),
        "{shown}"
    );
    assert!(shown.contains("preview only"), "{shown}");
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) AS n FROM activities").await,
        0,
        "a preview imports nothing"
    );
    let out = import(&database, "activities", &tasks);
    assert!(
        out.contains("created 3, updated 0, skipped 0, failed 1 of 4 rows"),
        "{out}"
    );

    // Accounts: owners matched by username, the rest to the importing user; dates kept.
    let xingchen = by_external_id(&app, "accounts", "0015g00000XcA1aAAF").await;
    assert_eq!(xingchen["name"], "北京星辰科技有限公司");
    assert_eq!(xingchen["owner_id"], li.id);
    assert_eq!(xingchen["city"], "北京");
    assert_eq!(xingchen["created_at"], "2024-11-02T03:04:05.000Z");
    let acme = by_external_id(&app, "accounts", "0015g00000XcA2bAAF").await;
    let admin_id = app
        .get("/api/v1/users?role=admin", &app.admin_token)
        .await
        .body["items"][0]["id"]
        .clone();
    assert_eq!(acme["owner_id"], admin_id);
    let account_report = report(&accounts);
    assert!(
        account_report
            .iter()
            .any(|(row, result, field, reason)| *row == 3
                && result == "imported"
                && field == "owner"
                && reason.contains("Nobody Known")),
        "{account_report:?}"
    );

    // Contacts: linked by AccountId; an unknown account is a warning, a missing name an error.
    let zhang = by_external_id(&app, "contacts", "0035g00000YdC1aAAF").await;
    assert_eq!(zhang["name"], "张伟");
    assert_eq!(zhang["account_id"], xingchen["id"]);
    assert_eq!(zhang["phone_normalized"], "+8613800138000");
    let ada = by_external_id(&app, "contacts", "0035g00000YdC2bAAF").await;
    assert_eq!(ada["account_id"], Value::Null);
    let contact_report = report(&contacts);
    assert!(contact_report
        .iter()
        .any(|(row, result, field, reason)| *row == 3
            && result == "imported"
            && field == "account"
            && reason.contains("0015g00000Xc999AAF")));
    assert!(contact_report
        .iter()
        .any(|(row, result, field, _)| *row == 4 && result == "failed" && field == "name"));

    // Opportunities: won and lost with their dates and reason, an open one in our stage.
    let erp = by_external_id(&app, "opportunities", "0065g00000ZeO1aAAF").await;
    assert_eq!(erp["account_id"], xingchen["id"]);
    assert_eq!(erp["result"], "won");
    assert_eq!(erp["amount"], 120000.0);
    assert_eq!(erp["created_at"], "2025-01-05T02:00:00.000Z");
    assert!(
        erp["closed_at"].as_str().unwrap().starts_with("2025-03-10"),
        "{erp}"
    );
    let pos = by_external_id(&app, "opportunities", "0065g00000ZeO2bAAF").await;
    assert_eq!(pos["result"], "lost");
    assert_eq!(pos["close_reason"], "Price");
    assert_eq!(pos["amount"], 5000.5);
    assert_eq!(pos["account_id"], acme["id"]);
    let crm = by_external_id(&app, "opportunities", "0065g00000ZeO3cAAF").await;
    assert_eq!(crm["stage"], "commitment");
    assert_eq!(crm["result"], "open");
    assert_eq!(crm["expected_close_date"], "2025-06-30");
    let bad: Vec<(u64, String)> = report(&opportunities)
        .into_iter()
        .filter(|(_, result, _, _)| result == "failed")
        .map(|(row, _, field, _)| (row, field))
        .collect();
    assert_eq!(
        bad,
        [
            (5, "stage".to_owned()),
            (6, "amount".to_owned()),
            (7, "expected_close_date".to_owned())
        ]
    );
    let stage_reason = &report(&opportunities)[0].3;
    assert!(
        stage_reason.contains("Dreaming") && stage_reason.contains("proposal"),
        "{stage_reason}"
    );

    // Activities: on the deal (WhatId before WhoId), on the contact, on the account.
    let on_erp = activities_of(&app, "opportunities", &erp["id"]).await;
    assert_eq!(on_erp.len(), 1, "{on_erp:?}");
    assert_eq!(on_erp[0]["type"], "call");
    assert!(on_erp[0]["content"]
        .as_str()
        .unwrap()
        .contains("Agreed on phase one"));
    assert!(on_erp[0]["created_at"]
        .as_str()
        .unwrap()
        .starts_with("2025-03-01"));
    let on_zhang = activities_of(&app, "contacts", &zhang["id"]).await;
    assert_eq!(on_zhang.len(), 1);
    assert_eq!(on_zhang[0]["type"], "email");
    let on_acme = activities_of(&app, "accounts", &acme["id"]).await;
    assert!(
        on_acme.iter().any(|a| a["type"] == "meeting"),
        "{on_acme:?}"
    );
    let task_report = report(&tasks);
    assert!(task_report.iter().any(|(row, result, _, reason)| *row == 5
        && result == "failed"
        && reason.contains("0035g00000Zz999AAF")));

    // The imported past in the forecast: the won deal counts in March 2025.
    let forecast = app
        .get(
            "/api/v1/pipeline/forecast?from=2025-02&to=2025-03",
            &app.admin_token,
        )
        .await;
    assert_eq!(forecast.status, 200, "{}", forecast.body);
    let items = forecast.body["items"].as_array().unwrap();
    assert_eq!(items[0]["month"], "2025-02");
    assert_eq!(items[0]["won_count"], 0);
    assert_eq!(items[1]["month"], "2025-03");
    assert_eq!(items[1]["won_count"], 1);
    assert_eq!(items[1]["won_amount"], 120000.0);

    // The same file again is not imported twice; a newer export updates by Id.
    let out = import(&database, "opportunities", &opportunities);
    assert!(out.contains("already imported"), "{out}");
    let newer = write(
        dir.path(),
        "Opportunity-2.csv",
        "Id,AccountId,Name,Amount,StageName,CloseDate,IsClosed,IsWon\n\
         0065g00000ZeO3cAAF,0015g00000XcA1aAAF,星辰 CRM,90000,Closed Won,2025-07-15,true,true\n\
         0065g00000ZeO1aAAF,0015g00000XcA1aAAF,星辰 ERP 一期,120000,Closed Won,2025-03-10,true,true\n\
         0065g00000ZeO7gAAF,0015g00000XcA2bAAF,Acme 续约,3000,Prospecting,2025-09-01,false,false\n",
    );
    let out = import(&database, "opportunities", &newer);
    assert!(
        out.contains("created 1, updated 2, skipped 0, failed 0 of 3 rows"),
        "{out}"
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) AS n FROM opportunities").await,
        4
    );
    let crm = by_external_id(&app, "opportunities", "0065g00000ZeO3cAAF").await;
    assert_eq!(crm["amount"], 90000.0);
    assert_eq!(crm["result"], "won");
    assert!(crm["closed_at"].as_str().unwrap().starts_with("2025-07-15"));
    let history = app
        .get(
            &format!("/api/v1/opportunities/{}/history", crm["id"]),
            &app.admin_token,
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.body);
    assert!(
        history.body.to_string().contains("90000"),
        "the update is in the history"
    );
    let renewal = by_external_id(&app, "opportunities", "0065g00000ZeO7gAAF").await;
    assert_eq!(renewal["stage"], "met");
}

async fn hubspot_and_gbk_fxiaoke_exports_are_imported(app: TestApp) {
    let database = vec!["--database-url".to_owned(), app.database_url().await];
    let wang = app.user("wang.fang", Role::Rep, None).await;
    let dir = tempfile::tempdir().unwrap();

    let companies = write(
        dir.path(),
        "hubspot-companies.csv",
        "Record ID,Company name,Industry,City,State/Region,Company owner,Create Date\n\
         9001,云海物流,Logistics,杭州,浙江,wang.fang,2024-10-01 09:30\n\
         9002,Blue Harbor Inc.,Software,Austin,Texas,,2024-10-02 10:00\n",
    );
    import(&database, "accounts", &companies);
    let people = write(
        dir.path(),
        "hubspot-contacts.csv",
        "Record ID,First Name,Last Name,Email,Phone Number,Associated Company IDs,Contact owner,Create Date\n\
         7001,明,王,wangming@yunhai.example.cn,13900139000,9001,wang.fang,2024-10-03 11:00\n\
         7002,Sam,Lee,sam@blueharbor.example.com,,9002;9001,,2024-10-04 11:00\n",
    );
    import(&database, "contacts", &people);
    let deals = write(
        dir.path(),
        "hubspot-deals.csv",
        "Record ID,Deal Name,Deal Stage,Close Date,Amount,Associated Company IDs,Deal owner,Create Date\n\
         5001,云海 WMS,closedwon,2025-03-20,\"¥250,000\",9001,wang.fang,2025-01-02 09:00\n\
         5002,Blue Harbor pilot,contractsent,2025-08-01,12000,9002,,2025-02-02 09:00\n",
    );
    let out = import(&database, "opportunities", &deals);
    assert!(
        out.contains("created 2, updated 0, skipped 0, failed 0 of 2 rows"),
        "{out}"
    );
    let yunhai = by_external_id(&app, "accounts", "9001").await;
    assert_eq!(yunhai["owner_id"], wang.id);
    assert_eq!(yunhai["province"], "浙江");
    assert_eq!(
        yunhai["created_at"], "2024-10-01T01:30:00.000Z",
        "China time"
    );
    let sam = by_external_id(&app, "contacts", "7002").await;
    let harbor = by_external_id(&app, "accounts", "9002").await;
    assert_eq!(
        sam["account_id"], harbor["id"],
        "the first associated company"
    );
    let wms = by_external_id(&app, "opportunities", "5001").await;
    assert_eq!(wms["result"], "won");
    assert_eq!(wms["amount"], 250000.0);
    assert_eq!(wms["account_id"], yunhai["id"]);
    let pilot = by_external_id(&app, "opportunities", "5002").await;
    assert_eq!(pilot["stage"], "commitment");

    // 纷享销客: GBK, Chinese headers, links by name, follow-ups by account name.
    let gbk = |name: &str, text: &str| {
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
        assert!(!unmappable);
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        path
    };
    let customers = gbk(
        "客户.csv",
        "客户名称,客户行业,省份,城市,负责人,创建时间\n\
         上海恒远信息科技有限公司,制造业,上海,上海,wang.fang,2024-09-01 10:00:00\n\
         广州南方贸易有限公司,贸易,广东,广州,,2024-09-02 10:00:00\n",
    );
    let out = import(&database, "accounts", &customers);
    assert!(out.contains("GBK"), "{out}");
    let people = gbk(
        "联系人.csv",
        "联系人姓名,客户名称,手机,职务,创建时间\n\
         陈晓明,恒远信息科技（上海）有限公司,13600136000,总经理,2024-09-03 10:00:00\n",
    );
    import(&database, "contacts", &people);
    let deals = gbk(
        "商机.csv",
        "商机名称,客户名称,销售阶段,预计成交日期,赢单/输单,输单原因,金额,负责人,创建时间\n\
         恒远 MES,上海恒远信息科技有限公司,谈判审核,2025-05-30,,,38万,wang.fang,2025-01-03 10:00:00\n\
         南方贸易 ERP,广州南方贸易有限公司,输单,2025-02-28,输单,价格太高,90000,,2025-01-04 10:00:00\n",
    );
    let out = import(&database, "opportunities", &deals);
    assert!(
        out.contains("created 2, updated 0, skipped 0, failed 0 of 2 rows"),
        "{out}"
    );
    let followups = gbk(
        "跟进记录.csv",
        "客户名称,联系人,跟进方式,跟进内容,跟进时间,跟进人\n\
         上海恒远信息科技有限公司,陈晓明,上门拜访,现场演示 MES,2025-01-10 15:00:00,wang.fang\n\
         广州南方贸易有限公司,,电话,报价被拒,2025-02-20 09:00:00,\n",
    );
    let out = import(&database, "activities", &followups);
    assert!(
        out.contains("created 2, updated 0, skipped 0, failed 0 of 2 rows"),
        "{out}"
    );

    let hengyuan: Vec<Value> = app
        .get("/api/v1/accounts?q=恒远", &app.admin_token)
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(hengyuan.len(), 1);
    assert_eq!(hengyuan[0]["industry"], "制造业");
    let chen = &app
        .get("/api/v1/contacts?q=陈晓明", &app.admin_token)
        .await
        .body["items"][0];
    assert_eq!(
        chen["account_id"], hengyuan[0]["id"],
        "the account found by its name, whatever the legal form"
    );
    let visits = activities_of(&app, "contacts", &chen["id"]).await;
    assert_eq!(visits.len(), 1, "logged on the contact named");
    assert_eq!(visits[0]["type"], "visit");
    assert_eq!(visits[0]["owner_id"], wang.id);
    assert_eq!(visits[0]["created_at"], "2025-01-10T07:00:00.000Z");
    let lost = &app
        .get("/api/v1/opportunities?q=南方贸易", &app.admin_token)
        .await
        .body["items"][0];
    assert_eq!(lost["result"], "lost");
    assert_eq!(lost["close_reason"], "价格太高");
    let mes = &app
        .get("/api/v1/opportunities?q=MES", &app.admin_token)
        .await
        .body["items"][0];
    assert_eq!(mes["amount"], 380000.0);
    assert_eq!(mes["stage"], "commitment");
}

/// A fresh SQLite data directory with an admin, and the flags that name it.
fn fresh_sqlite(dir: &Path) -> Vec<String> {
    let database = vec![
        "--data-dir".to_owned(),
        dir.join("data").display().to_string(),
    ];
    let out = xiansuo(
        &database,
        &[
            "user",
            "create",
            "--username",
            "boss",
            "--password",
            "password123",
            "--role",
            "admin",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    database
}

async fn a_xiansuo_export_moves_into_a_fresh_database_with_its_links(app: TestApp) {
    let token = &app.admin_token;
    let account = app
        .post(
            "/api/v1/accounts",
            token,
            serde_json::json!({"name": "杭州云栖数据有限公司", "industry": "软件", "city": "杭州"}),
        )
        .await;
    assert_eq!(account.status, 201, "{}", account.body);
    let contact = app
        .post(
            "/api/v1/contacts",
            token,
            serde_json::json!({"name": "周敏", "account_id": account.body["id"], "phone": "13700137000"}),
        )
        .await;
    assert_eq!(contact.status, 201, "{}", contact.body);
    let deal = app
        .post(
            "/api/v1/opportunities",
            token,
            serde_json::json!({"name": "云栖 数据平台", "account_id": account.body["id"], "contact_id": contact.body["id"], "amount": 66000, "stage": "proposal", "expected_close_date": "2026-02-01"}),
        )
        .await;
    assert_eq!(deal.status, 201, "{}", deal.body);
    for (path, content) in [
        (
            format!("/api/v1/contacts/{}", contact.body["id"]),
            "约了周三拜访",
        ),
        (
            format!("/api/v1/opportunities/{}", deal.body["id"]),
            "报价已发",
        ),
    ] {
        let logged = app
            .post(
                &format!("{path}/activities"),
                token,
                serde_json::json!({"type": "call", "content": content}),
            )
            .await;
        assert_eq!(logged.status, 201, "{}", logged.body);
    }
    // The full export, imported file by file into a fresh database, records before follow-ups.
    let source = vec!["--database-url".to_owned(), app.database_url().await];
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all");
    let out = xiansuo(
        &source,
        &["export", "all", "--output", all.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = fresh_sqlite(dir.path());
    for (table, rows) in [
        ("accounts", 1),
        ("contacts", 1),
        ("opportunities", 1),
        ("activities", 2),
    ] {
        let out = import(&target, table, &all.join(format!("{table}.csv")));
        assert!(
            out.contains(&format!(
                "created {rows}, updated 0, skipped 0, failed 0 of {rows} rows"
            )),
            "{table}: {out}"
        );
    }
    let db = Db::connect(&format!(
        "sqlite://{}",
        dir.path().join("data/xiansuo.db").display()
    ))
    .await
    .unwrap();
    let one = |sql: &'static str| {
        let db = db.clone();
        async move { db.fetch_optional(sql, &[]).await.unwrap().unwrap() }
    };
    let account_b = one("SELECT * FROM accounts").await;
    let contact_b = one("SELECT * FROM contacts").await;
    let deal_b = one("SELECT * FROM opportunities").await;
    assert_eq!(account_b.text("name"), "杭州云栖数据有限公司");
    assert_eq!(
        account_b.text("external_id"),
        account.body["id"].to_string(),
        "the id in the source is the external id"
    );
    assert_eq!(contact_b.int("account_id"), account_b.int("id"));
    assert_eq!(deal_b.int("account_id"), account_b.int("id"));
    assert_eq!(deal_b.int("contact_id"), contact_b.int("id"));
    assert_eq!(deal_b.text("stage"), "proposal");
    assert_eq!(deal_b.int("amount_cents"), 6_600_000);
    assert_eq!(
        deal_b.int("created_at") / 1000,
        chrono::DateTime::parse_from_rfc3339(deal.body["created_at"].as_str().unwrap())
            .unwrap()
            .timestamp(),
        "created_at kept to the second"
    );
    let mut follow_ups: Vec<(String, i64, String)> = db
        .fetch_all(
            "SELECT record_type, record_id, content FROM activities ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.text("record_type"), r.int("record_id"), r.text("content")))
        .collect();
    follow_ups.sort();
    assert_eq!(
        follow_ups,
        vec![
            (
                "contact".to_owned(),
                contact_b.int("id"),
                "约了周三拜访".to_owned()
            ),
            (
                "opportunity".to_owned(),
                deal_b.int("id"),
                "报价已发".to_owned()
            ),
        ],
        "each follow-up on the record its 记录类型 and 记录编号 name"
    );
    // Importing the same export again is refused as done.
    let out = import(&target, "contacts", &all.join("contacts.csv"));
    assert!(out.contains("already imported"), "{out}");
}

async fn an_import_killed_mid_way_finishes_with_each_record_once(app: TestApp) {
    let url = app.database_url().await;
    let dir = tempfile::tempdir().unwrap();
    let rows = 20_000;
    let mut text = String::from("Record ID,First Name,Last Name,Email\n");
    for i in 0..rows {
        text.push_str(&format!("{},Person,No{i},p{i}@example.com\n", 100_000 + i));
    }
    let file = write(dir.path(), "contacts.csv", &text);
    let path = file.to_str().unwrap();
    let mut child = Command::new(BIN)
        .args(["--database-url", &url, "import", "contacts", path])
        .env_remove("XIANSUO_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let done = app
            .db
            .fetch_optional(
                "SELECT MAX(rows_done) AS n FROM imports WHERE record_type = 'contact'",
                &[],
            )
            .await
            .unwrap()
            .and_then(|r| r.opt_int("n"))
            .unwrap_or(0);
        if done > 0 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no batch was committed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = child.wait();
    let before = count(&app.db, "SELECT COUNT(*) AS n FROM contacts").await;
    assert!(before < rows, "killed before the end ({before} of {rows})");
    let database = vec!["--database-url".to_owned(), url];
    let out = import(&database, "contacts", &file);
    assert!(out.contains("by an earlier run"), "{out}");
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) AS n FROM contacts").await,
        rows
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(DISTINCT external_id) AS n FROM contacts"
        )
        .await,
        rows,
        "every row once"
    );
}
