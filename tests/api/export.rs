//! Export to CSV and XLSX: the list's scope and filters, files that spreadsheet programs open
//! with Chinese intact and formula-looking text defused, the export audit, and the CLI.

use crate::on_both_databases;
use crate::support::{TestApp, TestUser};
use crate::ui::Browser;
use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use reqwest::header::{HeaderMap, CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::json;
use std::io::Cursor;
use xiansuo_core::role::Role;

on_both_databases!(
    csv_export_keeps_scope_filters_and_chinese_and_defuses_formulas,
    xlsx_export_has_the_same_rows_with_formula_text_as_strings,
    exports_are_recorded_for_their_maker_and_admins,
    bad_formats_and_filters_are_refused,
    a_large_export_pages_through_every_record,
    phones_are_masked_for_users_who_may_not_see_them,
    the_cli_exports_through_the_real_binary,
    follow_ups_are_exported_with_their_records_within_scope,
    a_full_export_keeps_the_ids_that_link_the_records,
    admins_download_the_full_export_from_settings,
);

const HYPERLINK: &str = "=HYPERLINK(\"http://x\")";
const PHONE_LIKE: &str = "+86 138 0013 8000";

async fn download(app: &TestApp, path: &str, token: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// A rep with three leads (one plain, two formula-looking) and a colleague with one.
async fn seed(app: &TestApp) -> (TestUser, TestUser) {
    let rep = app.user("rep_a", Role::Rep, None).await;
    let other = app.user("rep_b", Role::Rep, None).await;
    app.post(
        "/api/v1/custom-fields",
        &app.admin_token,
        json!({"object": "lead", "key": "budget", "label": "预算", "field_type": "number"}),
    )
    .await;
    app.lead(
        &rep.token,
        json!({"name": "张三", "company": "北京线索科技有限公司", "phone": "13800138000",
               "tags": ["展会", "VIP"], "custom": {"budget": 50000}}),
    )
    .await;
    app.lead(
        &rep.token,
        json!({"name": HYPERLINK, "company": PHONE_LIKE}),
    )
    .await;
    app.lead(&rep.token, json!({"name": "@SUM(1)", "status": "working"}))
        .await;
    app.lead(&other.token, json!({"name": "李四"})).await;
    (rep, other)
}

/// The CSV rows after the header, with the header.
fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a UTF-8 byte order mark"
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("a column {name} in {header:?}"))
}

fn sorted_names(header: &[String], rows: &[Vec<String>]) -> Vec<String> {
    let name = column(header, "姓名");
    let mut names: Vec<String> = rows.iter().map(|r| r[name].clone()).collect();
    names.sort();
    names
}

async fn csv_export_keeps_scope_filters_and_chinese_and_defuses_formulas(app: TestApp) {
    let (rep, _) = seed(&app).await;
    let (status, headers, body) =
        download(&app, "/api/v1/leads/export?format=csv", &rep.token).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers[CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        headers[CONTENT_DISPOSITION],
        "attachment; filename=\"leads-20261102.csv\""
    );
    let (header, rows) = read_csv(&body);
    for label in [
        "编号",
        "姓名",
        "公司",
        "电话",
        "负责人",
        "标签",
        "创建时间 (UTC)",
        "custom.budget",
    ] {
        column(&header, label);
    }
    assert!(!header.iter().any(|h| h.contains("normalized")));
    // Only the rep's own leads: the colleague's 李四 is outside their scope.
    assert_eq!(
        sorted_names(&header, &rows),
        vec![
            "'=HYPERLINK(\"http://x\")".to_owned(),
            "'@SUM(1)".to_owned(),
            "张三".to_owned()
        ]
    );
    let zhang = rows
        .iter()
        .find(|r| r[column(&header, "姓名")] == "张三")
        .unwrap();
    assert_eq!(zhang[column(&header, "公司")], "北京线索科技有限公司");
    assert_eq!(zhang[column(&header, "负责人")], "rep_a");
    assert_eq!(zhang[column(&header, "标签")], "展会, VIP");
    assert_eq!(zhang[column(&header, "custom.budget")], "50000");
    assert_eq!(
        zhang[column(&header, "创建时间 (UTC)")],
        "2026-11-02 09:00:00"
    );
    let hyperlink = rows
        .iter()
        .find(|r| r[column(&header, "姓名")].contains("HYPERLINK"))
        .unwrap();
    assert_eq!(hyperlink[column(&header, "公司")], format!("'{PHONE_LIKE}"));

    // The list's filters apply as they do to the list.
    let (_, _, body) = download(&app, "/api/v1/leads/export?status=working", &rep.token).await;
    let (header, rows) = read_csv(&body);
    assert_eq!(sorted_names(&header, &rows), vec!["'@SUM(1)".to_owned()]);
    let (_, _, body) = download(
        &app,
        "/api/v1/leads/export?q=%E5%BC%A0%E4%B8%89",
        &rep.token,
    )
    .await;
    let (header, rows) = read_csv(&body);
    assert_eq!(sorted_names(&header, &rows), vec!["张三".to_owned()]);

    // An admin sees everyone's, paged through without a limit.
    let (_, _, body) = download(&app, "/api/v1/leads/export", &app.admin_token).await;
    assert_eq!(read_csv(&body).1.len(), 4);
}

async fn xlsx_export_has_the_same_rows_with_formula_text_as_strings(app: TestApp) {
    let (rep, _) = seed(&app).await;
    let (status, headers, body) = download(
        &app,
        "/api/v1/leads/export?format=xlsx&sort=name",
        &rep.token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        headers[CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        headers[CONTENT_DISPOSITION],
        "attachment; filename=\"leads-20261102.xlsx\""
    );
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(body)).expect("an XLSX file");
    let range = workbook.worksheet_range("leads").expect("a leads sheet");
    let rows: Vec<&[Data]> = range.rows().collect();
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(rows.len(), 4, "a header and the rep's three leads");
    let name = column(&header, "姓名");
    let company = column(&header, "公司");
    let names: Vec<&Data> = rows[1..].iter().map(|r| &r[name]).collect();
    // Sorted by name: formula-looking text is kept verbatim, as text.
    assert_eq!(
        names,
        vec![
            &Data::String(HYPERLINK.into()),
            &Data::String("@SUM(1)".into()),
            &Data::String("张三".into())
        ]
    );
    assert_eq!(rows[1][company], Data::String(PHONE_LIKE.into()));
    assert!(matches!(
        rows[3][column(&header, "创建时间 (UTC)")],
        Data::DateTime(_)
    ));
    assert_eq!(
        rows[3][column(&header, "custom.budget")],
        Data::Float(50000.0)
    );
    let formulas = workbook.worksheet_formula("leads").expect("formulas");
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell is a formula"
    );
}

async fn exports_are_recorded_for_their_maker_and_admins(app: TestApp) {
    let (rep, other) = seed(&app).await;
    let (status, _, _) = download(&app, "/api/v1/leads/export?status=new", &rep.token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = download(
        &app,
        "/api/v1/accounts/export?format=xlsx",
        &app.admin_token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let mine = app.get("/api/v1/exports", &rep.token).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let items = mine.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", mine.body);
    assert_eq!(items[0]["user_id"], rep.id);
    assert_eq!(items[0]["username"], "rep_a");
    assert_eq!(items[0]["record_type"], "lead");
    assert_eq!(items[0]["format"], "csv");
    assert_eq!(items[0]["rows"], 2);
    assert_eq!(items[0]["filters"], json!({"status": "new"}));
    assert_eq!(items[0]["channel"], "api");
    assert_eq!(items[0]["at"], "2026-11-02T09:00:00.000Z");

    let theirs = app.get("/api/v1/exports", &other.token).await;
    assert_eq!(theirs.body["items"], json!([]));
    let all = app.get("/api/v1/exports?limit=1", &app.admin_token).await;
    assert_eq!(all.body["items"][0]["record_type"], "account");
    let cursor = all.body["next_cursor"].as_str().expect("a next page");
    let next = app
        .get(
            &format!("/api/v1/exports?cursor={cursor}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(next.body["items"][0]["user_id"], rep.id);
    assert_eq!(next.body["next_cursor"], json!(null));
}

async fn bad_formats_and_filters_are_refused(app: TestApp) {
    for path in [
        "/api/v1/leads/export?format=pdf",
        "/api/v1/leads/export?colour=red",
        "/api/v1/leads/export?limit=10",
        "/api/v1/contacts/export?sort=nonsense",
        "/api/v1/exports?limit=0",
    ] {
        let reply = app.get(path, &app.admin_token).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    }
    let reply = app
        .client
        .get(format!("{}/api/v1/leads/export", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
}

async fn a_large_export_pages_through_every_record(app: TestApp) {
    // More than one page of the list (500), so the export must follow the cursor.
    for i in 0..501 {
        app.lead(&app.admin_token, json!({"name": format!("客户{i}")}))
            .await;
    }
    let (_, _, body) = download(&app, "/api/v1/leads/export?sort=name", &app.admin_token).await;
    let (header, rows) = read_csv(&body);
    let id = column(&header, "编号");
    let mut ids: Vec<&str> = rows.iter().map(|r| r[id].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 501);
    let audit = app.get("/api/v1/exports", &app.admin_token).await;
    assert_eq!(audit.body["items"][0]["rows"], 501);
}

async fn the_cli_exports_through_the_real_binary(app: TestApp) {
    seed(&app).await;
    let url = app.database_url().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: Vec<String>| {
        std::process::Command::new(env!("CARGO_BIN_EXE_xiansuo"))
            .arg("--database-url")
            .arg(&url)
            .args(args)
            .env_remove("XIANSUO_DATABASE_URL")
            .output()
            .expect("the binary runs")
    };

    let xlsx = dir.path().join("全部线索.xlsx");
    let out = run(vec![
        "export".into(),
        "leads".into(),
        "--format".into(),
        "xlsx".into(),
        "--output".into(),
        xlsx.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("exported 4 leads"));
    let mut workbook: Xlsx<_> = calamine::open_workbook(&xlsx).expect("an XLSX file");
    assert_eq!(workbook.worksheet_range("leads").unwrap().height(), 5);

    let csv = dir.path().join("mine.csv");
    let out = run(vec![
        "export".into(),
        "leads".into(),
        "--format".into(),
        "csv".into(),
        "--output".into(),
        csv.display().to_string(),
        "--username".into(),
        "rep_a".into(),
        "--filter".into(),
        "status=working".into(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, rows) = read_csv(&std::fs::read(&csv).unwrap());
    assert_eq!(sorted_names(&header, &rows), vec!["'@SUM(1)".to_owned()]);

    let bad = run(vec![
        "export".into(),
        "leads".into(),
        "--format".into(),
        "pdf".into(),
        "--output".into(),
        dir.path().join("x.pdf").display().to_string(),
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("csv, xlsx"));

    let audit = app.get("/api/v1/exports", &app.admin_token).await;
    let channels: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, vec!["job", "job"]);
}

/// An admin marks a rep as one who sees phones masked: the rep's record, list, history and
/// export show 138****5678, never the number; search by the number still finds the lead; the
/// rep cannot lift the mask, and others still see the number.
async fn phones_are_masked_for_users_who_may_not_see_them(app: TestApp) {
    let rep = app.user("rep_m", Role::Rep, None).await;
    let lead = app
        .lead(
            &rep.token,
            json!({"name": "王芳", "phone": "+86 138-1234-5678"}),
        )
        .await;
    let id = lead["id"].as_i64().unwrap();
    app.patch(
        &format!("/api/v1/leads/{id}"),
        &rep.token,
        json!({"phone": "139 0000 1111"}),
    )
    .await;
    let masked = app
        .patch(
            &format!("/api/v1/users/{}", rep.id),
            &app.admin_token,
            json!({"mask_phones": true}),
        )
        .await;
    assert_eq!(masked.status, StatusCode::OK, "{}", masked.body);
    assert_eq!(masked.body["mask_phones"], true);

    let seen = app.get(&format!("/api/v1/leads/{id}"), &rep.token).await;
    assert_eq!(seen.body["phone"], "139****1111", "{}", seen.body);
    assert_eq!(seen.body["phone_normalized"], "139****1111");
    let found = app.get("/api/v1/leads?q=13900001111", &rep.token).await;
    assert_eq!(found.body["items"][0]["phone"], "139****1111");
    let history = app
        .get(&format!("/api/v1/leads/{id}/history"), &rep.token)
        .await;
    let text = history.body.to_string();
    assert!(
        !text.contains("13812345678") && !text.contains("1234-5678"),
        "{text}"
    );
    assert!(text.contains("138****5678"), "{text}");
    let (status, _, body) = download(&app, "/api/v1/leads/export?format=csv", &rep.token).await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(body).unwrap();
    assert!(
        csv.contains("139****1111") && !csv.contains("13900001111"),
        "{csv}"
    );

    let lift = app
        .patch(
            &format!("/api/v1/users/{}", rep.id),
            &rep.token,
            json!({"mask_phones": false}),
        )
        .await;
    lift.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let admin_view = app
        .get(&format!("/api/v1/leads/{id}"), &app.admin_token)
        .await;
    assert_eq!(admin_view.body["phone_normalized"], "+8613900001111");
}

/// Logs a follow-up on a record and returns its id.
async fn follow_up(app: &TestApp, token: &str, record: &str, content: &str) -> i64 {
    let reply = app
        .post(
            &format!("{record}/activities"),
            token,
            json!({"type": "call", "content": content}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

/// The follow-ups of the records a user can see, with the kind and id of each record; another
/// rep's are not in it, nor those of a deleted lead; filters narrow it and bad ones are refused.
async fn follow_ups_are_exported_with_their_records_within_scope(app: TestApp) {
    let (rep, other) = seed(&app).await;
    let mine = app.lead(&rep.token, json!({"name": "王芳"})).await;
    let theirs = app.lead(&other.token, json!({"name": "赵六"})).await;
    let gone = app.lead(&rep.token, json!({"name": "钱七"})).await;
    let mine_path = format!("/api/v1/leads/{}", mine["id"]);
    let called = follow_up(&app, &rep.token, &mine_path, "=约了周三拜访").await;
    follow_up(
        &app,
        &other.token,
        &format!("/api/v1/leads/{}", theirs["id"]),
        "别人的",
    )
    .await;
    follow_up(
        &app,
        &rep.token,
        &format!("/api/v1/leads/{}", gone["id"]),
        "删掉的",
    )
    .await;
    let deleted = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/leads/{}", gone["id"]),
            &rep.token,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);

    let (status, headers, body) =
        download(&app, "/api/v1/activities/export?format=csv", &rep.token).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        headers[CONTENT_DISPOSITION],
        "attachment; filename=\"activities-20261102.csv\""
    );
    let (header, rows) = read_csv(&body);
    assert_eq!(rows.len(), 1, "only the rep's own follow-up: {rows:?}");
    let row = &rows[0];
    assert_eq!(row[column(&header, "编号")], called.to_string());
    assert_eq!(row[column(&header, "记录类型")], "lead");
    assert_eq!(row[column(&header, "记录编号")], mine["id"].to_string());
    assert_eq!(row[column(&header, "跟进方式")], "call");
    assert_eq!(row[column(&header, "跟进内容")], "'=约了周三拜访");
    assert_eq!(row[column(&header, "负责人")], "rep_a");

    // The admin sees both reps' follow-ups; a filter on the kind of record narrows it.
    let (_, _, body) = download(&app, "/api/v1/activities/export", &app.admin_token).await;
    assert_eq!(read_csv(&body).1.len(), 2);
    let (_, _, body) = download(
        &app,
        "/api/v1/activities/export?record_type=account",
        &app.admin_token,
    )
    .await;
    assert_eq!(read_csv(&body).1.len(), 0);
    let (status, _, body) = download(
        &app,
        "/api/v1/activities/export?format=xlsx&type=call",
        &app.admin_token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(body)).expect("an XLSX file");
    assert_eq!(workbook.worksheet_range("activities").unwrap().height(), 3);

    for bad in ["type=fax", "record_type=user", "owner=1", "format=pdf"] {
        let (status, _, body) = download(
            &app,
            &format!("/api/v1/activities/export?{bad}"),
            &app.admin_token,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let audit = app.get("/api/v1/exports", &rep.token).await;
    assert_eq!(audit.body["items"][0]["record_type"], "activity");
}

/// `xiansuo export all` writes the five files, and the ids in them link up: the contact's
/// 客户编号 is its account's 编号, the deal's account too, and each follow-up's 记录编号 is a
/// record of its 记录类型 in the files.
async fn a_full_export_keeps_the_ids_that_link_the_records(app: TestApp) {
    let (rep, _) = seed(&app).await;
    let account = app
        .post(
            "/api/v1/accounts",
            &rep.token,
            json!({"name": "恒远集团", "external_id": "001A"}),
        )
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.body);
    let account_id = account.body["id"].as_i64().unwrap();
    let contact = app
        .post(
            "/api/v1/contacts",
            &rep.token,
            json!({"name": "周杰", "account_id": account_id, "phone": "13911112222"}),
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);
    let deal = app
        .post(
            "/api/v1/opportunities",
            &rep.token,
            json!({"name": "恒远 ERP", "account_id": account_id, "amount": 120000.5}),
        )
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.body);
    follow_up(
        &app,
        &rep.token,
        &format!("/api/v1/accounts/{account_id}"),
        "拜访",
    )
    .await;
    follow_up(
        &app,
        &rep.token,
        &format!("/api/v1/contacts/{}", contact.body["id"]),
        "电话",
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("全部");
    let stdout = app
        .xiansuo_ok(&["export", "all", "--output", &all.display().to_string()])
        .await;
    for line in [
        "exported 4 leads",
        "exported 1 accounts",
        "exported 1 contacts",
        "exported 1 opportunities",
        "exported 2 activities",
    ] {
        assert!(stdout.contains(line), "{line} in {stdout}");
    }
    let file = |name: &str| read_csv(&std::fs::read(all.join(name)).unwrap());
    let (accounts_header, accounts) = file("accounts.csv");
    assert_eq!(
        accounts[0][column(&accounts_header, "编号")],
        account_id.to_string()
    );
    assert_eq!(accounts[0][column(&accounts_header, "外部编号")], "001A");
    let (contacts_header, contacts) = file("contacts.csv");
    assert_eq!(
        contacts[0][column(&contacts_header, "客户编号")],
        account_id.to_string()
    );
    let (deals_header, deals) = file("opportunities.csv");
    assert_eq!(
        deals[0][column(&deals_header, "客户编号")],
        account_id.to_string()
    );
    let (_, leads) = file("leads.csv");
    assert_eq!(leads.len(), 4);
    let (activities_header, activities) = file("activities.csv");
    let mut links: Vec<(String, String)> = activities
        .iter()
        .map(|r| {
            (
                r[column(&activities_header, "记录类型")].clone(),
                r[column(&activities_header, "记录编号")].clone(),
            )
        })
        .collect();
    links.sort();
    assert_eq!(
        links,
        vec![
            ("account".to_owned(), account_id.to_string()),
            (
                "contact".to_owned(),
                contacts[0][column(&contacts_header, "编号")].clone()
            ),
        ]
    );

    let elsewhere = dir.path().join("x").display().to_string();
    let filtered = app
        .xiansuo(&[
            "export",
            "all",
            "--filter",
            "status=new",
            "--output",
            &elsewhere,
        ])
        .await;
    assert!(!filtered.status.success());
    assert!(String::from_utf8_lossy(&filtered.stderr).contains("no --filter"));
}

/// The settings page of the full export: an admin downloads each file through the browser; a
/// rep is refused, and so is a name that is not one of the five.
async fn admins_download_the_full_export_from_settings(app: TestApp) {
    seed(&app).await;
    app.user("wang", Role::Rep, None).await;
    let admin = Browser::signed_in(&app, "admin").await;
    let page = admin.get("/settings/export").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("导出全部数据"));
    for name in [
        "leads",
        "accounts",
        "contacts",
        "opportunities",
        "activities",
    ] {
        assert!(
            page.body
                .contains(&format!("/settings/export/{name}?format=xlsx")),
            "{name}"
        );
    }
    let file = admin.get("/settings/export/leads?format=csv").await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert_eq!(
        file.headers[CONTENT_DISPOSITION],
        "attachment; filename=\"leads-20261102.csv\""
    );
    let (header, rows) = read_csv(file.body.as_bytes());
    assert_eq!(rows.len(), 4);
    column(&header, "姓名");
    assert_eq!(
        admin.get("/settings/export/users").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        admin.get("/settings/export/leads?format=pdf").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let rep = Browser::signed_in(&app, "wang").await;
    assert_eq!(
        rep.get("/settings/export").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rep.get("/settings/export/leads").await.status,
        StatusCode::FORBIDDEN
    );
}
