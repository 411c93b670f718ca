//! `xiansuo import leads FILE` run as the real binary on files the tests write: CSV in UTF-8 with
//! a BOM and in GBK, a Salesforce export, an XLSX workbook; bad rows reported by row number;
//! duplicates within the file and against the base; an interrupted import resumed; a finished
//! one not imported twice; the main scenario on PostgreSQL too.

use crate::support::{Backend, TestApp};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use xiansuo_store::{Db, Param};

const BIN: &str = env!("CARGO_BIN_EXE_xiansuo");

fn xiansuo(args: &[&str], database: &[String]) -> Output {
    Command::new(BIN)
        .args(database)
        .args(args)
        .env_remove("XIANSUO_DATABASE_URL")
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs an import and asserts it succeeded; returns stdout.
fn import(file: &Path, extra: &[&str], database: &[String]) -> String {
    let mut args = vec!["import", "leads", file.to_str().unwrap()];
    args.extend(extra);
    let out = xiansuo(&args, database);
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
}

/// A fresh SQLite data directory with an admin; the flags that name it and the open database.
async fn sqlite() -> (tempfile::TempDir, Vec<String>, Db) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let database = vec!["--data-dir".to_owned(), data.display().to_string()];
    admin(&database);
    let db = Db::connect(&format!("sqlite://{}", data.join("xiansuo.db").display()))
        .await
        .unwrap();
    (dir, database, db)
}

fn admin(database: &[String]) {
    let out = xiansuo(
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
        database,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_bom_csv(path: &Path, text: &str) {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    std::fs::write(path, bytes).unwrap();
}

async fn count(db: &Db, sql: &str, params: &[Param]) -> i64 {
    db.fetch_optional(sql, params)
        .await
        .unwrap()
        .unwrap()
        .int("n")
}

async fn lead_by_phone(db: &Db, e164: &str) -> Option<xiansuo_store::Row> {
    db.fetch_optional(
        "SELECT * FROM leads WHERE phone_normalized = ?",
        &[Param::from(e164)],
    )
    .await
    .unwrap()
}

/// The errors file as (row, result, field, reason) lines, checking it starts with a BOM.
fn report(file: &Path) -> Vec<(String, String, String, String)> {
    let mut path = file.as_os_str().to_owned();
    path.push(".errors.csv");
    let bytes = std::fs::read(PathBuf::from(path)).expect("an errors file next to the input");
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 with a BOM for Excel"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("row,result,field,reason,"));
    lines
        .map(|l| {
            let mut cells = l.splitn(5, ',');
            let mut next = || cells.next().unwrap_or_default().to_owned();
            (next(), next(), next(), next())
        })
        .collect()
}

/// The main scenario, on whichever database the flags name.
async fn chinese_csv_with_bad_rows_and_duplicates(dir: &Path, database: &[String], db: &Db) {
    let existing = dir.join("existing.csv");
    write_bom_csv(&existing, "姓名,手机\n老客户,139 0013 9000\n");
    import(&existing, &[], database);

    let file = dir.join("线索.csv");
    let long_name = "长".repeat(5000);
    write_bom_csv(
        &file,
        &format!(
            "姓名,手机,公司,职位,邮箱,来源,省份,城市\n\
             张三,+86 138-0013-8000,北京星辰科技有限公司,销售总监,ZhangSan@Example.cn,展会,北京,北京\n\
             李四,13800138000,云海,经理,,,,\n\
             王五,13900139000,,,,,,\n\
             {long_name},13700137001,,,,,,\n\
             赵六,12345,,,,,,\n\
             ,,,,only@example.cn,,,\n\
             ,,,,,,,\n\
             孙七,137 0013 7000,上海云海信息技术有限公司,采购,,客户推荐,上海,上海\n"
        ),
    );
    let out = import(&file, &[], database);
    assert!(out.contains("姓名 → name"), "the mapping is printed: {out}");
    assert!(
        out.contains("imported 3 leads, skipped 3, failed 2 of 8 rows"),
        "{out}"
    );

    let lines = report(&file);
    let rows: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|(row, result, field, _)| (row.as_str(), result.as_str(), field.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("3", "skipped", "phone"),
            ("4", "skipped", "phone"),
            ("5", "failed", "name"),
            ("6", "warning", "phone"),
            ("7", "failed", "name"),
            ("8", "skipped", ""),
        ]
    );
    assert!(lines[0].3.contains("row 2 of this file"), "{:?}", lines[0]);
    assert!(lines[1].3.contains("lead "), "{:?}", lines[1]);
    assert!(lines[4].3.contains("required"), "{:?}", lines[4]);

    let zhang = lead_by_phone(db, "+8613800138000")
        .await
        .expect("张三 imported");
    assert_eq!(zhang.text("name"), "张三");
    assert_eq!(zhang.text("phone"), "+86 138-0013-8000");
    assert_eq!(zhang.text("email_normalized"), "zhangsan@example.cn");
    assert_eq!(zhang.text("source"), "event");
    assert_eq!(zhang.text("status"), "new");
    let sun = lead_by_phone(db, "+8613700137000")
        .await
        .expect("孙七 imported");
    assert_eq!(sun.text("source"), "referral");
    let history = count(
        db,
        "SELECT COUNT(*) AS n FROM history WHERE record_type = 'lead' AND record_id = ? AND channel = 'import'",
        &[Param::Int(zhang.int("id"))],
    )
    .await;
    assert_eq!(
        history, 1,
        "the create is in the history, through the import channel"
    );
    let found = count(
        db,
        "SELECT COUNT(*) AS n FROM leads WHERE deleted_at IS NULL",
        &[],
    )
    .await;
    assert_eq!(found, 4, "赵六 too, with the phone kept unverified");

    let again = import(&file, &[], database);
    assert!(again.contains("already imported"), "{again}");
    assert_eq!(
        count(db, "SELECT COUNT(*) AS n FROM leads", &[]).await,
        4,
        "running the same file again imports nothing new"
    );
}

#[tokio::test]
async fn a_chinese_csv_imports_reports_bad_rows_and_is_not_imported_twice_on_sqlite() {
    let (dir, database, db) = sqlite().await;
    chinese_csv_with_bad_rows_and_duplicates(dir.path(), &database, &db).await;
}

#[tokio::test]
async fn a_chinese_csv_imports_reports_bad_rows_and_is_not_imported_twice_on_postgresql() {
    let Some(app) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    let name = app
        .db
        .fetch_optional("SELECT current_database() AS name", &[])
        .await
        .unwrap()
        .unwrap()
        .text("name");
    let database = vec![
        "--database-url".to_owned(),
        format!("postgres://postgres@127.0.0.1:5432/{name}"),
    ];
    let dir = tempfile::tempdir().unwrap();
    // The test app's own admin is the first admin, and the import runs as it.
    chinese_csv_with_bad_rows_and_duplicates(dir.path(), &database, &app.db).await;
}

#[tokio::test]
async fn a_gbk_csv_is_detected_and_imported() {
    let (dir, database, db) = sqlite().await;
    let file = dir.path().join("gbk.csv");
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(
        "姓名,手机号,单位,职务,备注\n陈晓明,13600136000,广州南方贸易有限公司,总经理,展会上认识\n刘芳,13500135000,深圳前海物流有限公司,采购主管,\n",
    );
    assert!(!unmappable);
    std::fs::write(&file, &bytes).unwrap();
    let rep = xiansuo(
        &[
            "user",
            "create",
            "--username",
            "rep1",
            "--password",
            "password123",
            "--role",
            "rep",
        ],
        &database,
    );
    assert!(rep.status.success());
    let out = import(&file, &["--source", "event", "--owner", "rep1"], &database);
    assert!(out.contains("GBK/GB18030"), "{out}");
    let chen = lead_by_phone(&db, "+8613600136000").await.unwrap();
    assert_eq!(chen.text("name"), "陈晓明");
    assert_eq!(chen.text("company"), "广州南方贸易有限公司");
    assert_eq!(chen.text("description"), "展会上认识");
    assert_eq!(
        chen.text("source"),
        "event",
        "--source fills rows without one"
    );
    let rep_id = count(
        &db,
        "SELECT id AS n FROM users WHERE username = 'rep1'",
        &[],
    )
    .await;
    assert_eq!(chen.int("owner_id"), rep_id);

    // A rep may not hand leads to someone outside their scope.
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "姓名\n某人\n").unwrap();
    let out = xiansuo(
        &[
            "import",
            "leads",
            other.to_str().unwrap(),
            "--as",
            "rep1",
            "--owner",
            "boss",
        ],
        &database,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("data scope"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_salesforce_export_is_mapped_and_its_values_translated() {
    let (dir, database, db) = sqlite().await;
    let file = dir.path().join("salesforce.csv");
    std::fs::write(
        &file,
        "FirstName,LastName,Company,Title,Phone,MobilePhone,Email,LeadSource,Status,Industry,State,City,NumberOfEmployees,Description,Rating\n\
         Ada,Lovelace,Analytical Engines Ltd,CTO,,+44 20 7946 0958,ada@example.com,Web,Open - Not Contacted,Software,London,London,120,First contact,Hot\n\
         Wei,Li,Acme China,Buyer,010 6552 9988,,wei@acme.cn,Trade Show,Working - Contacted,Retail,北京,北京,\"1,200\",,Warm\n\
         Grace,Hopper,Navy,Admiral,,,grace@example.com,Employee Referral,Closed - Converted,,,,,,\n\
         Copy,OfAda,Other,,,,ADA@example.com,Web,Open - Not Contacted,,,,,,\n",
    )
    .unwrap();
    let out = import(&file, &["--dedup", "block"], &database);
    assert!(out.contains("Rating → (not imported)"), "{out}");
    assert!(
        out.contains("imported 3 leads, skipped 0, failed 1"),
        "{out}"
    );
    let ada = db
        .fetch_optional(
            "SELECT * FROM leads WHERE email_normalized = 'ada@example.com'",
            &[],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.text("name"), "Ada Lovelace");
    assert_eq!(ada.text("phone_normalized"), "+442079460958");
    assert_eq!(ada.text("source"), "web_form");
    assert_eq!(ada.text("status"), "new");
    assert_eq!(ada.int("company_size"), 120);
    let wei = lead_by_phone(&db, "+861065529988").await.unwrap();
    assert_eq!(
        (wei.text("status"), wei.text("source")),
        ("working".into(), "event".into())
    );
    assert_eq!(wei.int("company_size"), 1200);
    let grace = db
        .fetch_optional("SELECT * FROM leads WHERE name = 'Grace Hopper'", &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        grace.text("status"),
        "converted",
        "converted elsewhere stays converted"
    );
    assert!(!grace.text("tags").contains("来源系统已转化"));
    assert_eq!(grace.text("source"), "referral");
    let lines = report(&file);
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].0.as_str(), lines[0].1.as_str()), ("5", "failed"));
    assert!(lines[0].3.contains("same email"), "{:?}", lines[0]);
}

#[tokio::test]
async fn dedup_warn_imports_duplicates_and_reports_them() {
    let (dir, database, db) = sqlite().await;
    let file = dir.path().join("warn.csv");
    std::fs::write(&file, "姓名,手机\n甲,13800138000\n乙,+86 13800138000\n").unwrap();
    let out = import(&file, &["--dedup", "warn"], &database);
    assert!(out.contains("imported 2 leads"), "{out}");
    assert!(out.contains("1 imported leads may be duplicates"), "{out}");
    let lines = report(&file);
    assert_eq!(
        (lines[0].0.as_str(), lines[0].1.as_str()),
        ("3", "imported")
    );
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM leads", &[]).await, 2);
}

#[tokio::test]
async fn an_xlsx_workbook_is_imported() {
    let (dir, database, db) = sqlite().await;
    let file = dir.path().join("leads.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in ["姓名", "手机", "公司", "评分", "标签"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    sheet.write_string(1, 0, "周八").unwrap();
    // Phones typed into Excel become numbers.
    sheet.write_number(1, 1, 13300133000.0).unwrap();
    // A formula is read as the result Excel saved with it.
    sheet
        .write_formula(
            1,
            2,
            rust_xlsxwriter::Formula::new(r#"="杭州"&"西湖科技""#).set_result("杭州西湖科技"),
        )
        .unwrap();
    sheet.write_number(1, 3, 42.0).unwrap();
    sheet.write_string(1, 4, "重点,展会").unwrap();
    // Row 3 left empty; row 4 has no name.
    sheet.write_number(3, 1, 13300133001.0).unwrap();
    // Merged cells hold their value in the first cell only.
    sheet
        .merge_range(4, 0, 4, 1, "吴九", &rust_xlsxwriter::Format::new())
        .unwrap();
    sheet.write_number(5, 0, 1.0).unwrap();
    workbook.save(&file).unwrap();

    let out = import(&file, &[], &database);
    assert!(out.contains("XLSX"), "{out}");
    assert!(out.contains("imported 3 leads"), "{out}");
    let zhou = lead_by_phone(&db, "+8613300133000").await.unwrap();
    assert_eq!(zhou.text("name"), "周八");
    assert_eq!(zhou.int("score"), 42);
    assert_eq!(zhou.text("tags"), r#"["重点","展会"]"#);
    assert_eq!(zhou.text("company"), "杭州西湖科技");
    let wu = db
        .fetch_optional("SELECT * FROM leads WHERE name = '吴九'", &[])
        .await
        .unwrap();
    assert!(wu.is_some(), "the merged cell's value is read");
    let lines = report(&file);
    assert_eq!((lines[0].0.as_str(), lines[0].2.as_str()), ("4", "name"));
}

#[tokio::test]
async fn a_binary_file_or_an_unknown_encoding_gets_a_clear_error() {
    let (dir, database, db) = sqlite().await;
    let png = dir.path().join("photo.csv");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0").unwrap();
    let out = xiansuo(&["import", "leads", png.to_str().unwrap()], &database);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("binary file"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let latin1 = dir.path().join("latin1.csv");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252
        .encode("Name,Company\nJosé Müller,Café Größe AG\nFrançois Dupré,Hôtel Zürich\n");
    std::fs::write(&latin1, &bytes).unwrap();
    let out = xiansuo(&["import", "leads", latin1.to_str().unwrap()], &database);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not UTF-8 or GBK/GB18030"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM leads", &[]).await, 0);
}

#[tokio::test]
async fn an_interrupted_import_continues_after_the_last_committed_batch() {
    let (dir, database, db) = sqlite().await;
    let file = dir.path().join("big.csv");
    let mut text = String::from("姓名,邮箱\n");
    for i in 1..=1500 {
        text.push_str(&format!("客户{i},c{i}@example.cn\n"));
    }
    std::fs::write(&file, text).unwrap();
    // What a run that crashed after its first batch of 1,000 rows leaves behind.
    let sha = xiansuo_app::data::import::ImportFile::open(&file)
        .await
        .unwrap()
        .sha256;
    db.execute(
        "INSERT INTO imports (record_type, file_sha256, file_name, rows_done, imported, created_at, updated_at) VALUES ('lead', ?, 'big.csv', 1000, 1000, 0, 0)",
        &[Param::from(sha)],
    )
    .await
    .unwrap();
    let out = import(&file, &[], &database);
    assert!(out.contains("resuming"), "{out}");
    assert!(out.contains("imported 500 leads"), "{out}");
    assert!(out.contains("the whole file: 1500 imported"), "{out}");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM leads", &[]).await,
        500
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM leads WHERE name = '客户1001'",
            &[]
        )
        .await,
        1,
        "the first row after the committed batch is imported"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM leads WHERE name = '客户1000'",
            &[]
        )
        .await,
        0,
        "rows of the committed batch are not imported again"
    );
    let again = import(&file, &[], &database);
    assert!(again.contains("already imported"), "{again}");
}

#[tokio::test]
async fn duplicates_of_rows_in_earlier_batches_are_found_in_the_base() {
    let (dir, database, db) = sqlite().await;
    let file = dir.path().join("batches.csv");
    let mut text = String::from("姓名,手机,公司\n");
    for i in 1..=2_500 {
        match i {
            // Row 1,201 (data row 1,200, in the second batch) repeats row 11's phone; row 2,301
            // (third batch) repeats the name and company of row 1,101 (second batch).
            1_200 => text.push_str("另一人,13900000010,别家公司\n"),
            2_300 => text.push_str("客户1100,,公司1100\n"),
            _ => text.push_str(&format!("客户{i},139{i:08},公司{i}\n")),
        }
    }
    std::fs::write(&file, text).unwrap();
    let out = import(&file, &[], &database);
    assert!(
        out.contains("imported 2499 leads, skipped 1, failed 0 of 2500 rows"),
        "{out}"
    );
    let lines = report(&file);
    let reasons: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|(row, result, _, reason)| (row.as_str(), result.as_str(), reason.as_str()))
        .collect();
    let row_11 = lead_by_phone(&db, "+8613900000010")
        .await
        .unwrap()
        .int("id");
    let row_1101 = db
        .fetch_optional("SELECT id FROM leads WHERE name = '客户1100'", &[])
        .await
        .unwrap()
        .unwrap()
        .int("id");
    assert_eq!(
        reasons,
        [
            (
                "1201",
                "skipped",
                format!("certain duplicate: the same phone as lead {row_11}").as_str()
            ),
            (
                "2301",
                "imported",
                format!("probable duplicate: the same name and company as lead {row_1101}")
                    .as_str()
            ),
        ]
    );
}

#[tokio::test]
async fn a_mapping_file_names_columns_the_automatic_mapping_does_not_know() {
    let (dir, database, db) = sqlite().await;
    let file = dir.path().join("custom.csv");
    std::fs::write(&file, "客户,微信,手机\n钱九,qj99,13200132000\n").unwrap();
    let mapping = dir.path().join("mapping.json");
    std::fs::write(&mapping, r#"{"客户": "name", "微信": "description"}"#).unwrap();
    let out = import(&file, &["--mapping", mapping.to_str().unwrap()], &database);
    assert!(out.contains("微信 → description"), "{out}");
    let qian = lead_by_phone(&db, "+8613200132000").await.unwrap();
    assert_eq!(
        (qian.text("name"), qian.text("description")),
        ("钱九".into(), "qj99".into())
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "\"客户\" = \"nmae\"\n").unwrap();
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "客户\n某人\n").unwrap();
    let out = xiansuo(
        &[
            "import",
            "leads",
            other.to_str().unwrap(),
            "--mapping",
            bad.to_str().unwrap(),
        ],
        &database,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a lead field"));
}

#[tokio::test]
async fn a_preview_shows_the_first_rows_as_leads_and_writes_nothing() {
    let (dir, database, db) = sqlite().await;
    let file = dir.path().join("preview.csv");
    write_bom_csv(
        &file,
        "姓名,手机,来源\n张三,138 0013 8000,展会\n李四,12345,\n王五,13800138000,\n赵六,13900139000,\n",
    );
    let out = import(&file, &["--preview", "3"], &database);
    assert!(out.contains("row 2: "), "{out}");
    assert!(out.contains(r#""source":"event""#), "{out}");
    assert!(
        out.contains("row 3: ") && out.contains("warning (phone)"),
        "{out}"
    );
    assert!(
        out.contains("row 4: ") && out.contains("skipped (phone)"),
        "{out}"
    );
    assert!(!out.contains("row 5: "), "{out}");
    assert!(out.contains("nothing was imported"), "{out}");
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM leads", &[]).await, 0);
    let out = import(&file, &[], &database);
    assert!(out.contains("imported 3 leads"), "{out}");
}
