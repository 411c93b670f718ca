//! Accounts, contacts, opportunities and activities imported through the upload API
//! (`POST /api/v1/imports?kind=…`): the Salesforce set of the command-line tests uploaded in
//! order, previewed with its recognised mapping, run in the background and reported row by row,
//! its links found; the same file run again updating by external id, and a newer export
//! updating and adding; a 纷享销客 file in GBK whose name column is not recognised, corrected at
//! start, and contacts linked to it by name; bad files, unknown kinds and lead-only options
//! refused with a clear 4xx; links kept to the importing user's data scope; and a run that died
//! after a committed batch continuing after it.

use crate::import_api::{errors_csv, start_and_wait};
use crate::import_objects::{
    activities_of, by_external_id, count, report_lines, SF_ACCOUNTS, SF_CONTACTS, SF_OPPORTUNITIES,
    SF_TASKS,
};
use crate::on_both_databases;
use crate::support::{Reply, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use xiansuo_core::role::Role;
use xiansuo_store::Param;

on_both_databases!(
    a_salesforce_set_goes_in_through_the_upload_api_with_its_links,
    a_gbk_file_is_imported_with_a_corrected_mapping_and_links_by_name,
    bad_files_kinds_and_options_are_refused_with_a_clear_4xx,
    links_keep_to_the_importing_users_scope,
    an_upload_that_died_after_a_batch_continues_after_it,
);

/// Uploads `bytes` of `kind` as the raw body.
async fn upload(app: &TestApp, token: &str, kind: &str, name: &str, bytes: &[u8]) -> Reply {
    let response = app
        .client
        .post(format!(
            "{}/api/v1/imports?kind={kind}&file_name={name}",
            app.base
        ))
        .bearer_auth(token)
        .header("Content-Type", "text/csv")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("the server answers");
    Reply::from(response).await
}

/// Uploads a file of `kind` and checks that it was stored; returns the upload.
async fn uploaded(app: &TestApp, token: &str, kind: &str, name: &str, bytes: &[u8]) -> Value {
    let reply = upload(app, token, kind, name, bytes).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["kind"], kind);
    assert_eq!(reply.body["state"], "uploaded");
    reply.body
}

/// Uploads, starts with `options` and waits; returns the finished upload.
async fn import(app: &TestApp, kind: &str, name: &str, bytes: &[u8], options: Value) -> Value {
    let body = uploaded(app, &app.admin_token, kind, name, bytes).await;
    let id = body["id"].as_i64().unwrap();
    let done = start_and_wait(app, &app.admin_token, id, options).await;
    assert_eq!(done["state"], "finished", "{done}");
    done
}

/// (row, result, field, reason) of an upload's errors.csv.
async fn report(app: &TestApp, token: &str, upload: &Value) -> Vec<(u64, String, String, String)> {
    let (status, text) = errors_csv(app, token, upload["id"].as_i64().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    report_lines(text.as_bytes())
}

/// The (header, field) pairs of an upload's mapping.
fn mapping(upload: &Value) -> Vec<(String, Value)> {
    upload["mapping"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["header"].as_str().unwrap().to_owned(), m["field"].clone()))
        .collect()
}

fn progress(upload: &Value) -> [i64; 6] {
    let p = &upload["progress"];
    [
        "rows", "imported", "updated", "skipped", "failed", "warnings",
    ]
    .map(|name| p[name].as_i64().unwrap_or(-1))
}

async fn a_salesforce_set_goes_in_through_the_upload_api_with_its_links(app: TestApp) {
    let li = app.user("li.lei", Role::Rep, None).await;

    // Accounts: the Salesforce headers recognised, the preview checked, nothing written yet.
    let accounts = uploaded(
        &app,
        &app.admin_token,
        "accounts",
        "Account.csv",
        SF_ACCOUNTS.as_bytes(),
    )
    .await;
    let columns = mapping(&accounts);
    assert!(columns.contains(&("Id".to_owned(), json!("external_id"))));
    assert!(columns.contains(&("Name".to_owned(), json!("name"))));
    assert!(columns.contains(&("Owner Name".to_owned(), json!("owner"))));
    assert!(
        accounts["unmapped"]
            .as_array()
            .unwrap()
            .contains(&json!("ParentId")),
        "{accounts}"
    );
    assert!(accounts["targets"]
        .as_array()
        .unwrap()
        .contains(&json!("website")));
    let preview = accounts["preview"].as_array().unwrap();
    assert_eq!(preview.len(), 2);
    assert_eq!(preview[0]["result"], "ok");
    assert_eq!(
        preview[0]["record"]["create"]["name"],
        "北京星辰科技有限公司"
    );
    assert!(
        preview[0].get("lead").is_none(),
        "only a file of leads previews leads: {}",
        preview[0]
    );
    assert_eq!(preview[1]["result"], "warning");
    assert_eq!(preview[1]["field"], "owner");
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) AS n FROM accounts").await,
        0,
        "an upload imports nothing until it is started"
    );
    let id = accounts["id"].as_i64().unwrap();
    let done = start_and_wait(&app, &app.admin_token, id, Value::Null).await;
    assert_eq!(done["state"], "finished", "{done}");
    assert_eq!(progress(&done), [2, 2, 0, 0, 0, 1]);
    let account_report = report(&app, &app.admin_token, &done).await;
    assert_eq!(account_report.len(), 1, "{account_report:?}");
    assert_eq!(account_report[0].0, 3);
    assert_eq!(account_report[0].1, "warning");
    assert_eq!(account_report[0].2, "owner");
    assert!(account_report[0].3.contains("Nobody Known"));
    let xingchen = by_external_id(&app, "accounts", "0015g00000XcA1aAAF").await;
    assert_eq!(xingchen["owner_id"], li.id);
    assert_eq!(xingchen["created_at"], "2024-11-02T03:04:05.000Z");

    // Contacts: previewed against the accounts now there, linked by AccountId.
    let contacts = uploaded(
        &app,
        &app.admin_token,
        "contacts",
        "Contact.csv",
        SF_CONTACTS.as_bytes(),
    )
    .await;
    let results: Vec<(&Value, &Value)> = contacts["preview"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (&p["result"], &p["field"]))
        .collect();
    assert_eq!(
        results,
        [
            (&json!("ok"), &Value::Null),
            (&json!("warning"), &json!("account")),
            (&json!("failed"), &json!("name")),
        ]
    );
    let id = contacts["id"].as_i64().unwrap();
    let done = start_and_wait(&app, &app.admin_token, id, Value::Null).await;
    assert_eq!(progress(&done), [3, 2, 0, 0, 1, 1]);
    let zhang = by_external_id(&app, "contacts", "0035g00000YdC1aAAF").await;
    assert_eq!(zhang["account_id"], xingchen["id"]);
    let contacts_of_xingchen = app
        .get(
            &format!("/api/v1/contacts?account_id={}", xingchen["id"]),
            &app.admin_token,
        )
        .await;
    assert_eq!(
        contacts_of_xingchen.status,
        StatusCode::OK,
        "{}",
        contacts_of_xingchen.body
    );
    assert_eq!(contacts_of_xingchen.body["items"][0]["name"], "张伟");

    // Opportunities: won, lost and open deals; bad rows reported by row and field.
    let done = import(
        &app,
        "opportunities",
        "Opportunity.csv",
        SF_OPPORTUNITIES.as_bytes(),
        Value::Null,
    )
    .await;
    assert_eq!(progress(&done), [6, 3, 0, 0, 3, 0]);
    let failed: Vec<(u64, String)> = report(&app, &app.admin_token, &done)
        .await
        .into_iter()
        .filter(|(_, result, _, _)| result == "failed")
        .map(|(row, _, field, _)| (row, field))
        .collect();
    assert_eq!(
        failed,
        [
            (5, "stage".to_owned()),
            (6, "amount".to_owned()),
            (7, "expected_close_date".to_owned())
        ]
    );
    let erp = by_external_id(&app, "opportunities", "0065g00000ZeO1aAAF").await;
    assert_eq!(erp["account_id"], xingchen["id"]);
    assert_eq!(erp["result"], "won");

    // Activities: on the deal and the contact by WhoId/WhatId; one naming nothing fails.
    let done = import(
        &app,
        "activities",
        "Task.csv",
        SF_TASKS.as_bytes(),
        Value::Null,
    )
    .await;
    assert_eq!(progress(&done), [4, 3, 0, 0, 1, 0]);
    assert_eq!(
        activities_of(&app, "opportunities", &erp["id"]).await.len(),
        1
    );
    assert_eq!(activities_of(&app, "contacts", &zhang["id"]).await.len(), 1);

    // The same accounts file again: previewed as updates, run, each account still once.
    let again = uploaded(
        &app,
        &app.admin_token,
        "accounts",
        "Account.csv",
        SF_ACCOUNTS.as_bytes(),
    )
    .await;
    assert_eq!(again["preview"][0]["record"]["update"], xingchen["id"]);
    let done = start_and_wait(
        &app,
        &app.admin_token,
        again["id"].as_i64().unwrap(),
        Value::Null,
    )
    .await;
    assert_eq!(progress(&done), [2, 0, 2, 0, 0, 1]);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) AS n FROM accounts").await,
        2
    );
    // A newer export updates two deals by Id and adds one.
    let newer = "Id,AccountId,Name,Amount,StageName,CloseDate,IsClosed,IsWon\n\
         0065g00000ZeO3cAAF,0015g00000XcA1aAAF,星辰 CRM,90000,Closed Won,2025-07-15,true,true\n\
         0065g00000ZeO1aAAF,0015g00000XcA1aAAF,星辰 ERP 一期,120000,Closed Won,2025-03-10,true,true\n\
         0065g00000ZeO7gAAF,0015g00000XcA2bAAF,Acme 续约,3000,Prospecting,2025-09-01,false,false\n";
    let done = import(
        &app,
        "opportunities",
        "Opportunity-2.csv",
        newer.as_bytes(),
        Value::Null,
    )
    .await;
    assert_eq!(progress(&done), [3, 1, 2, 0, 0, 0]);
    let crm = by_external_id(&app, "opportunities", "0065g00000ZeO3cAAF").await;
    assert_eq!(crm["amount"], 90000.0);
    assert_eq!(crm["result"], "won");
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) AS n FROM opportunities").await,
        4
    );

    // The list shows every kind, newest first.
    let list = app.get("/api/v1/imports", &app.admin_token).await;
    let kinds: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "opportunities",
            "accounts",
            "activities",
            "opportunities",
            "contacts",
            "accounts"
        ]
    );
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

async fn a_gbk_file_is_imported_with_a_corrected_mapping_and_links_by_name(app: TestApp) {
    let wang = app.user("wang.fang", Role::Rep, None).await;
    // A 纷享销客 export whose name column has a header of its own.
    let file = gbk("公司全称,客户行业,所在城市,负责人\n\
         上海恒远信息科技有限公司,制造业,上海,wang.fang\n\
         广州南方贸易有限公司,贸易,广州,\n");
    let accounts = uploaded(&app, &app.admin_token, "accounts", "客户.csv", &file).await;
    assert!(
        accounts["format"].as_str().unwrap().contains("GBK"),
        "{accounts}"
    );
    assert!(
        accounts["mapping_error"].as_str().unwrap().contains("name"),
        "{accounts}"
    );
    assert_eq!(accounts["preview"], json!([]));
    let columns = mapping(&accounts);
    assert_eq!(columns[1], ("客户行业".to_owned(), json!("industry")));
    assert_eq!(columns[2], ("所在城市".to_owned(), json!("city")));
    let id = accounts["id"].as_i64().unwrap();
    // Started without a name column: refused, naming the mapping.
    let refused = app
        .post(
            &format!("/api/v1/imports/{id}/start"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["error"]["field"], "mapping");
    // A mapping naming a field accounts do not have: refused too.
    let refused = app
        .post(
            &format!("/api/v1/imports/{id}/start"),
            &app.admin_token,
            json!({"mapping": {"公司全称": "lead_status"}}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["error"]["field"], "mapping");
    let done = start_and_wait(
        &app,
        &app.admin_token,
        id,
        json!({"mapping": {"公司全称": "name"}}),
    )
    .await;
    assert_eq!(done["state"], "finished", "{done}");
    assert_eq!(progress(&done), [2, 2, 0, 0, 0, 0]);
    assert!(mapping(&done).contains(&("公司全称".to_owned(), json!("name"))));
    assert_eq!(done["options"]["mapping"]["公司全称"], "name");
    let hengyuan = &app
        .get("/api/v1/accounts?q=恒远", &app.admin_token)
        .await
        .body["items"][0];
    assert_eq!(hengyuan["industry"], "制造业");
    assert_eq!(hengyuan["owner_id"], wang.id);

    // Contacts linked to it by the account's name, whatever its legal form; sent as a form.
    let people = gbk("联系人姓名,客户名称,手机,职务\n\
         陈晓明,恒远信息科技（上海）有限公司,13600136000,总经理\n");
    let contacts = uploaded(&app, &app.admin_token, "contacts", "联系人.csv", &people).await;
    assert!(mapping(&contacts).contains(&("客户名称".to_owned(), json!("account_name"))));
    let done = start_and_wait(
        &app,
        &app.admin_token,
        contacts["id"].as_i64().unwrap(),
        Value::Null,
    )
    .await;
    assert_eq!(progress(&done), [1, 1, 0, 0, 0, 0]);
    let chen = &app
        .get("/api/v1/contacts?q=陈晓明", &app.admin_token)
        .await
        .body["items"][0];
    assert_eq!(chen["account_id"], hengyuan["id"]);
    assert_eq!(chen["title"], "总经理");
}

async fn bad_files_kinds_and_options_are_refused_with_a_clear_4xx(app: TestApp) {
    let empty = upload(&app, &app.admin_token, "accounts", "a.csv", b"").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.body["error"]["field"], "file");
    assert!(
        empty.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("accounts"),
        "{}",
        empty.body
    );
    let header_only = upload(&app, &app.admin_token, "contacts", "c.csv", b"Id,Name\n").await;
    assert_eq!(header_only.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(header_only.body["error"]["field"], "file");
    let png = [
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0xff, 0,
    ];
    let binary = upload(&app, &app.admin_token, "accounts", "logo.png", &png).await;
    assert_eq!(
        binary.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        binary.body
    );
    assert_eq!(binary.body["error"]["field"], "file");
    let kind = upload(
        &app,
        &app.admin_token,
        "deals",
        "d.csv",
        SF_ACCOUNTS.as_bytes(),
    )
    .await;
    assert_eq!(kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(kind.body["error"]["field"], "kind");
    assert!(kind.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("opportunities"));
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) AS n FROM import_uploads").await,
        0,
        "nothing refused is stored"
    );

    // The options of lead imports are refused for other kinds, by name.
    let accounts = uploaded(
        &app,
        &app.admin_token,
        "accounts",
        "Account.csv",
        SF_ACCOUNTS.as_bytes(),
    )
    .await;
    let id = accounts["id"].as_i64().unwrap();
    let dedup = app
        .post(
            &format!("/api/v1/imports/{id}/start"),
            &app.admin_token,
            json!({"dedup": "merge"}),
        )
        .await;
    assert_eq!(dedup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(dedup.body["error"]["field"], "dedup");
    // Nobody else sees the upload.
    let rep = app.user("zhou", Role::Rep, None).await;
    let other = app.get(&format!("/api/v1/imports/{id}"), &rep.token).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    // A started import cannot be started again while it runs or after it finished.
    let done = start_and_wait(&app, &app.admin_token, id, Value::Null).await;
    assert_eq!(done["state"], "finished");
    let again = app
        .post(
            &format!("/api/v1/imports/{id}/start"),
            &app.admin_token,
            Value::Null,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

async fn links_keep_to_the_importing_users_scope(app: TestApp) {
    // The admin's accounts, then a rep's contacts naming one of them by its Salesforce id.
    import(
        &app,
        "accounts",
        "Account.csv",
        SF_ACCOUNTS.as_bytes(),
        Value::Null,
    )
    .await;
    let rep = app.user("sun", Role::Rep, None).await;
    let contacts = uploaded(
        &app,
        &rep.token,
        "contacts",
        "Contact.csv",
        SF_CONTACTS.as_bytes(),
    )
    .await;
    let id = contacts["id"].as_i64().unwrap();
    // Records may not be given to a user outside the rep's scope.
    let admin_id = app
        .get("/api/v1/users?role=admin", &app.admin_token)
        .await
        .body["items"][0]["id"]
        .clone();
    let refused = app
        .post(
            &format!("/api/v1/imports/{id}/start"),
            &rep.token,
            json!({"owner_id": admin_id}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let done = start_and_wait(&app, &rep.token, id, Value::Null).await;
    assert_eq!(progress(&done)[1], 2, "{done}");
    let rows = report(&app, &rep.token, &done).await;
    assert!(
        rows.iter().any(|(row, result, field, reason)| *row == 2
            && result == "warning"
            && field == "account"
            && reason.contains("0015g00000XcA1aAAF")),
        "an account outside the rep's scope is not linked: {rows:?}"
    );
    let zhang = by_external_id(&app, "contacts", "0035g00000YdC1aAAF").await;
    assert_eq!(zhang["account_id"], Value::Null);
    assert_eq!(zhang["owner_id"], rep.id);
}

async fn an_upload_that_died_after_a_batch_continues_after_it(app: TestApp) {
    let contacts = uploaded(
        &app,
        &app.admin_token,
        "contacts",
        "Contact.csv",
        SF_CONTACTS.as_bytes(),
    )
    .await;
    let id = contacts["id"].as_i64().unwrap();
    // As a run that committed a batch of its first row and then died with its instance: the
    // row is in, the run's count says so, the upload is marked failed.
    let first = "Id,AccountId,FirstName,LastName\n0035g00000YdC1aAAF,,伟,张\n";
    let earlier = import(&app, "contacts", "first.csv", first.as_bytes(), Value::Null).await;
    assert_eq!(progress(&earlier)[1], 1);
    app.db
        .execute(
            "INSERT INTO imports (record_type, file_sha256, file_name, rows_done, imported, created_at, updated_at) \
             VALUES ('contact', ?, 'Contact.csv', 1, 1, 0, 0)",
            &[Param::from(format!("upload:{id}"))],
        )
        .await
        .unwrap();
    app.db
        .execute(
            "UPDATE import_uploads SET state = 'failed', error = 'the instance stopped' WHERE id = ?",
            &[Param::Int(id)],
        )
        .await
        .unwrap();
    let done = start_and_wait(&app, &app.admin_token, id, Value::Null).await;
    assert_eq!(done["state"], "finished", "{done}");
    // Rows 3 and 4 only: the first row was not read again.
    assert_eq!(progress(&done), [3, 2, 0, 0, 1, 1]);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) AS n FROM contacts").await,
        2,
        "each contact once"
    );
    let rows = report(&app, &app.admin_token, &done).await;
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        [3, 4],
        "{rows:?}"
    );
}

mod browser {
    //! Accounts, then contacts, imported through the wizard in headless Chromium (the contacts
    //! at phone width, one column's target corrected), and the account showing its contact.

    use crate::import_objects::SF_ACCOUNTS;
    use crate::support::{Backend, TestApp};
    use crate::ui::browser::{
        chromedriver_or_skip, in_chromium, screenshot, sign_in, text_of, wait_for_address, widths,
    };
    use fantoccini::{Client, Locator};
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    /// Contacts whose job title is under a header nothing recognises.
    const CONTACTS: &str = "\
Id,AccountId,FirstName,LastName,Position,MobilePhone
0035g00000YdC1aAAF,0015g00000XcA1aAAF,伟,张,首席技术官,13800138000
";

    /// Leads, whose start form also asks what becomes of duplicates.
    const LEADS: &str = "姓名,手机,公司\n王芳,13812345678,云启科技\n";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn accounts_then_contacts_are_imported_through_the_wizard_in_headless_chromium() {
        let Some(chromedriver) = chromedriver_or_skip() else {
            return;
        };
        let app = TestApp::start(Backend::Sqlite)
            .await
            .expect("a SQLite test app");
        let dir = tempfile::tempdir().unwrap();
        let accounts = dir.path().join("Account.csv");
        std::fs::write(&accounts, SF_ACCOUNTS).unwrap();
        let contacts = dir.path().join("Contact.csv");
        std::fs::write(&contacts, CONTACTS).unwrap();
        let leads = dir.path().join("线索.csv");
        std::fs::write(&leads, LEADS).unwrap();
        in_chromium(chromedriver, app.base.clone(), move |client, base| {
            scenario(client, base, [accounts, contacts, leads])
        })
        .await;
        drop(dir);
    }

    /// Picks the kind, uploads the file and waits for the mapping form.
    async fn upload(client: &Client, base: &str, kind: &str, file: &Path) {
        let wait = || client.wait().at_most(Duration::from_secs(10));
        client.goto(&format!("{base}/imports/new")).await.unwrap();
        wait()
            .for_element(Locator::Id(&format!("kind-{kind}")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .find(Locator::Id("import-file"))
            .await
            .unwrap()
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        client
            .find(Locator::Css(".upload-form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait()
            .for_element(Locator::Id("start-import"))
            .await
            .expect("the mapping form");
    }

    /// Starts the import and waits until its page says it finished.
    async fn start(client: &Client) {
        client
            .find(Locator::Id("start-import"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css("#import-state.state-finished"))
            .await
            .expect("the import finishes");
    }

    /// The value of the form control with `id`.
    async fn value_of(client: &Client, id: &str) -> Option<String> {
        let control = client.find(Locator::Id(id)).await.unwrap();
        control.prop("value").await.unwrap()
    }

    async fn scenario(client: Client, base: String, files: [PathBuf; 3]) {
        let [accounts, contacts, leads] = files;
        sign_in(&client, &base, "admin").await;
        client.goto(&format!("{base}/imports/new")).await.unwrap();
        assert!(text_of(&client, "#import-order")
            .await
            .contains("客户 → 联系人"));
        screenshot(&client, "import-new").await;

        // Accounts, as proposed.
        upload(&client, &base, "accounts", &accounts).await;
        assert_eq!(text_of(&client, "#import-kind").await, "客户");
        let name = client
            .find(Locator::Css("select[aria-label='Name']"))
            .await
            .unwrap();
        assert_eq!(name.prop("value").await.unwrap().as_deref(), Some("name"));
        assert!(text_of(&client, "table.preview")
            .await
            .contains("北京星辰科技有限公司"));
        // The records go to the signed-in user unless another is chosen.
        assert_eq!(
            text_of(&client, "#owner_id option:checked").await,
            "我 (admin)"
        );
        screenshot(&client, "import-accounts-mapping").await;
        start(&client).await;
        assert_eq!(text_of(&client, "#count-imported").await, "2");
        assert!(client.find(Locator::Id("errors-csv")).await.is_ok());
        screenshot(&client, "import-accounts-done").await;

        // Contacts on a phone, the unrecognised Position column sent to the job title.
        client.set_window_size(375, 812).await.unwrap();
        upload(&client, &base, "contacts", &contacts).await;
        let (scroll, width) = widths(&client).await;
        assert!(
            scroll <= width,
            "the mapping page scrolls sideways: {scroll} > {width}"
        );
        let position = client
            .find(Locator::Css("select[aria-label='Position']"))
            .await
            .unwrap();
        assert_eq!(position.prop("value").await.unwrap().as_deref(), Some(""));
        position.select_by_value("title").await.unwrap();
        screenshot(&client, "import-contacts-mapping-phone").await;
        start(&client).await;
        assert_eq!(text_of(&client, "#count-imported").await, "1");
        screenshot(&client, "import-contacts-done-phone").await;

        // Leads on a phone: the assignment rules by default, duplicates skipped.
        upload(&client, &base, "leads", &leads).await;
        let (scroll, width) = widths(&client).await;
        assert!(scroll <= width, "the start form scrolls sideways");
        assert_eq!(value_of(&client, "owner_id").await.as_deref(), Some(""));
        assert_eq!(value_of(&client, "dedup").await.as_deref(), Some("skip"));
        assert_eq!(
            value_of(&client, "dedup_probable").await.as_deref(),
            Some("")
        );
        // The form was the answer to the upload's POST; the import's own page shows it too.
        let action = client
            .find(Locator::Css("form[action$='/start']"))
            .await
            .unwrap()
            .attr("action")
            .await
            .unwrap()
            .unwrap();
        let leads_page = format!("{base}{}", action.trim_end_matches("/start"));
        client
            .execute(
                "document.getElementById('import-options').scrollIntoView();",
                Vec::new(),
            )
            .await
            .unwrap();
        screenshot(&client, "import-leads-options-phone").await;
        client.set_window_size(1280, 900).await.unwrap();
        client.goto(&leads_page).await.unwrap();
        screenshot(&client, "import-leads-options").await;

        // The list names both kinds; the account shows its contact.
        client.goto(&format!("{base}/imports")).await.unwrap();
        let list = text_of(&client, "table.imports").await;
        assert!(list.contains("客户") && list.contains("联系人"), "{list}");
        client.goto(&format!("{base}/accounts")).await.unwrap();
        client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::LinkText("北京星辰科技有限公司"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| a.starts_with("/accounts/")).await;
        let section = text_of(&client, "#section-contacts").await;
        assert!(section.contains("张伟"), "{section}");
        assert!(section.contains("首席技术官"), "{section}");
        screenshot(&client, "import-account").await;

        // In English: the kinds, the order, the counts and the columns' targets.
        client
            .find(Locator::Css("button[name=locale][value=en]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client.goto(&format!("{base}/imports/new")).await.unwrap();
        let hint = text_of(&client, "#import-order").await;
        assert!(
            hint.contains("accounts → contacts → opportunities → activities"),
            "{hint}"
        );
        assert!(text_of(&client, ".choice-row")
            .await
            .contains("Opportunities"));
        screenshot(&client, "import-new-en").await;
        client.goto(&format!("{base}/imports")).await.unwrap();
        client
            .find(Locator::LinkText("Contact.csv"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_address(&client, |a| a.starts_with("/imports/")).await;
        assert_eq!(text_of(&client, "#import-kind").await, "Contacts");
        screenshot(&client, "import-contacts-done-en").await;
        client.goto(&leads_page).await.unwrap();
        assert!(text_of(&client, "#import-options")
            .await
            .contains("By the assignment rules"));
        screenshot(&client, "import-leads-options-en").await;
    }
}
