//! Backup and restore with the real binary: a SQLite database backed up, restored into a new
//! PostgreSQL database and backed up again gives the same rows, and a server over it serves the
//! same leads; a backup taken while leads are being written is one consistent snapshot (the
//! reports' summaries and unfolded changes included: restored, the reports equal a recount); a
//! target holding records, an archive from a newer schema and a damaged archive are refused
//! and leave the target empty; scheduled backups are taken when due and only `keep` remain.

use crate::on_both_databases;
use crate::support::{Backend, Reply, TestApp};
use chrono::{TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use xiansuo_app::data::backup::archive::{self, Manifest, Piece};
use xiansuo_app::sales::reports::{self, Tally};
use xiansuo_app::sales::summaries;
use xiansuo_app::Actor;
use xiansuo_core::role::Role;
use xiansuo_core::FixedClock;
use xiansuo_store::{migrate, Db};

const BIN: &str = env!("CARGO_BIN_EXE_xiansuo");
const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

on_both_databases!(
    a_backup_taken_while_leads_are_written_is_one_snapshot,
    a_target_with_records_a_newer_archive_and_a_damaged_archive_are_refused,
    scheduled_backups_are_taken_when_due_and_only_keep_remain,
);

/// Runs the binary with these arguments, off the async runtime.
async fn xiansuo(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&args)
            .env_remove("XIANSUO_DATABASE_URL")
            .env_remove("XIANSUO_BACKUP_DIR")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| (*a).to_owned()).collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `xiansuo backup` into `file`, which must succeed; its summary.
async fn backup(url: &str, file: &Path) -> Value {
    let out = xiansuo(args(&[
        "backup",
        "--output",
        &file.display().to_string(),
        "--database-url",
        url,
    ]))
    .await;
    assert!(out.status.success(), "backup failed: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("a JSON summary")
}

async fn restore(url: &str, file: &Path) -> Output {
    xiansuo(args(&[
        "restore",
        &file.display().to_string(),
        "--database-url",
        url,
    ]))
    .await
}

/// A new, empty database to restore into, removed at the end of the test.
struct Target {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

impl Target {
    /// A new SQLite file, or a new PostgreSQL database (`None` when PostgreSQL is not there).
    async fn new(backend: Backend) -> Option<Target> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                Some(Target {
                    url: format!("sqlite://{}", dir.path().join("restored.db").display()),
                    _dir: Some(dir),
                    pg_database: None,
                })
            }
            Backend::Postgres => {
                let admin = Db::connect(PG_ADMIN_URL).await.ok()?;
                let name = format!(
                    "xiansuo_restore_{}_{}",
                    std::process::id(),
                    rand::random::<u32>()
                );
                admin
                    .execute_script(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await;
                Some(Target {
                    url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
                    _dir: None,
                    pg_database: Some(name),
                })
            }
        }
    }

    /// How many rows `table` holds; 0 when the database has no such table.
    async fn count(&self, table: &str) -> i64 {
        let db = Db::connect(&self.url).await.unwrap();
        let listed = db.tables().await.unwrap();
        let n = if listed.iter().any(|t| t.name == table) {
            db.fetch_optional(&format!("SELECT COUNT(*) AS n FROM {table}"), &[])
                .await
                .unwrap()
                .unwrap()
                .int("n")
        } else {
            0
        };
        db.close().await;
        n
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(name) = self.pg_database.take() {
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    if let Ok(admin) = Db::connect(PG_ADMIN_URL).await {
                        let _ = admin
                            .execute_script(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// An archive's manifest and, per table, its columns and its rows (each as its values' debug
/// text, sorted, so that two archives compare whatever order each database read them in).
/// Per table, its columns and its rows.
type Tables = BTreeMap<String, (Vec<String>, Vec<String>)>;

fn contents(path: &Path) -> (Manifest, Tables) {
    let mut reader = archive::Reader::open(path).unwrap();
    let manifest = reader.manifest.clone();
    let mut tables = BTreeMap::new();
    for entry in &manifest.tables {
        let mut rows = Vec::new();
        let mut read = reader.table(entry).unwrap();
        while let Some(batch) = read.next_batch().unwrap() {
            rows.extend(batch.iter().map(|row| format!("{row:?}")));
        }
        rows.sort();
        tables.insert(entry.name.clone(), (entry.columns.clone(), rows));
    }
    (manifest, tables)
}

/// What [`fill`] made, to look for after a restore.
struct Filled {
    lead: i64,
    attachment: i64,
    recording: Vec<u8>,
}

/// Records of every kind through the API: a team and users, leads (one named 王芳), an
/// account with a contact and an opportunity, a follow-up, changes in the history, a file
/// attached, and a setting.
async fn fill(app: &TestApp) -> Filled {
    let t = &app.admin_token;
    let team = app.team("华东一组", None).await;
    let rep = app.user("rep", Role::Rep, Some(team)).await;
    let lead = app
        .lead(
            &rep.token,
            json!({"name": "王芳", "company": "杭州云栖科技", "phone": "13812345678", "email": "wang@yunqi.cn"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    for i in 0..15 {
        app.lead(
            t,
            json!({"name": format!("客户{i}"), "phone": format!("1390000{i:04}")}),
        )
        .await;
    }
    let changed = app
        .patch(
            &format!("/api/v1/leads/{lead}"),
            &rep.token,
            json!({"company": "杭州云栖科技有限公司"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let account = app
        .post(
            "/api/v1/accounts",
            t,
            json!({"name": "北京星辰科技有限公司"}),
        )
        .await;
    assert_eq!(account.status, StatusCode::CREATED, "{}", account.body);
    let contact = app
        .post(
            "/api/v1/contacts",
            t,
            json!({"name": "陈晓明", "account_id": account.body["id"]}),
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);
    let deal = app
        .post(
            "/api/v1/opportunities",
            t,
            json!({"name": "年度采购", "amount": 12345.5, "stage": "proposal", "account_id": account.body["id"]}),
        )
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.body);
    let call = app
        .post(
            &format!("/api/v1/leads/{lead}/activities"),
            &rep.token,
            json!({"type": "call", "outcome": "call_back", "content": "约了下周再聊"}),
        )
        .await;
    assert_eq!(call.status, StatusCode::CREATED, "{}", call.body);
    let recording: Vec<u8> = (0..300_000).map(|i| (i % 251) as u8).collect();
    let stored = Reply::from(
        app.client
            .post(format!(
                "{}/api/v1/leads/{lead}/attachments?filename=recording.mp3",
                app.base
            ))
            .bearer_auth(&rep.token)
            .header("Content-Type", "audio/mpeg")
            .body(recording.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    let schedule = app
        .call(
            Method::PUT,
            "/api/v1/backups/schedule",
            t,
            Some(json!({"enabled": false, "every_hours": 12, "keep": 3})),
        )
        .await;
    assert_eq!(schedule.status, StatusCode::OK, "{}", schedule.body);
    Filled {
        lead,
        attachment: stored.body["id"].as_i64().unwrap(),
        recording,
    }
}

/// The move the product promises: SQLite → backup → restore into PostgreSQL → backup again
/// gives the same rows in every table, and a server over PostgreSQL serves the same leads,
/// finds them by a two-character name, hands out the attachment and creates new records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_moves_to_postgresql_whole() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let filled = fill(&app).await;
    let Some(target) = Target::new(Backend::Postgres).await else {
        eprintln!("skipping: PostgreSQL at 127.0.0.1:5432 is not reachable");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("sqlite.zip"), dir.path().join("pg.zip"));

    let summary = backup(&app.database_url().await, &first).await;
    let latest = migrate::versions().last().unwrap();
    assert_eq!(summary["schema_version"], latest);
    assert_eq!(
        summary["bytes"].as_u64(),
        Some(std::fs::metadata(&first).unwrap().len())
    );
    // Every table the catalogue lists is in the archive, but the migration ledger and the
    // search index, which a restore computes again.
    let (manifest, sqlite_rows) = contents(&first);
    let listed: Vec<String> = app
        .db
        .tables()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .filter(|t| t != "schema_migrations" && t != "lead_search")
        .collect();
    assert_eq!(sqlite_rows.keys().cloned().collect::<Vec<_>>(), listed);
    assert_eq!(summary["tables"].as_u64(), Some(listed.len() as u64));
    assert_eq!(manifest.dialect, "sqlite");
    for table in [
        "users",
        "teams",
        "leads",
        "accounts",
        "contacts",
        "opportunities",
        "activities",
        "history",
        "attachments",
        "attachment_chunks",
        "backup_schedule",
        "api_tokens",
    ] {
        assert!(
            !sqlite_rows[table].1.is_empty(),
            "the archive holds rows of {table}"
        );
    }

    let restored = restore(&target.url, &first).await;
    assert!(
        restored.status.success(),
        "restore failed: {}",
        stderr(&restored)
    );
    let restored: Value = serde_json::from_slice(&restored.stdout).unwrap();
    assert_eq!(restored["rows"], summary["rows"]);

    backup(&target.url, &second).await;
    let (again, pg_rows) = contents(&second);
    assert_eq!(again.dialect, "postgres");
    assert_eq!(again.schema_version, manifest.schema_version);
    for (table, (columns, rows)) in &sqlite_rows {
        let (pg_columns, pg_table_rows) = &pg_rows[table];
        assert_eq!(columns, pg_columns, "the columns of {table}");
        assert_eq!(rows, pg_table_rows, "the rows of {table}");
    }
    assert_eq!(pg_rows.len(), sqlite_rows.len());

    // A server over the restored PostgreSQL database.
    let db = Db::connect(&target.url).await.unwrap();
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 3, 9, 0, 0).unwrap());
    let state = xiansuo_web::AppState::new(db.clone(), Arc::new(clock));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(xiansuo_web::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let get = |path: String| {
        let request = client
            .get(format!("{base}{path}"))
            .bearer_auth(&app.admin_token);
        async move { request.send().await.unwrap() }
    };
    let before: Value = app
        .get("/api/v1/leads?limit=100", &app.admin_token)
        .await
        .body;
    let after: Value = get("/api/v1/leads?limit=100".into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["items"], before["items"],
        "the same leads, field for field"
    );
    let found: Value = get("/api/v1/leads?q=%E7%8E%8B%E8%8A%B3".into())
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![filled.lead], "王芳 is found by name: {found}");
    let file = get(format!("/api/v1/attachments/{}", filled.attachment)).await;
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.bytes().await.unwrap().to_vec(), filled.recording);

    let highest = db
        .fetch_optional("SELECT MAX(id) AS id FROM leads", &[])
        .await
        .unwrap()
        .unwrap()
        .int("id");
    let created: Value = client
        .post(format!("{base}/api/v1/leads"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"name": "新线索", "phone": "13700001111"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        created["id"].as_i64().is_some_and(|id| id > highest),
        "a new lead takes a new id: {created}"
    );
    let call = client
        .post(format!("{base}/api/v1/leads/{}/activities", filled.lead))
        .bearer_auth(&app.admin_token)
        .json(&json!({"type": "call", "outcome": "call_back", "content": "搬家后第一次跟进"}))
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), StatusCode::CREATED);
    let _ = stop.send(());
    db.close().await;
}

async fn a_backup_taken_while_leads_are_written_is_one_snapshot(app: TestApp) {
    let app = Arc::new(app);
    let written = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (app, written, stop) = (app.clone(), written.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let lead = app
                    .lead(
                        &app.admin_token,
                        json!({"name": format!("并发客户{i}"), "phone": format!("1360000{i:04}")}),
                    )
                    .await;
                let call = app
                    .post(
                        &format!("/api/v1/leads/{}/activities", lead["id"]),
                        &app.admin_token,
                        json!({"type": "call", "outcome": "call_back", "content": "跟进"}),
                    )
                    .await;
                assert_eq!(call.status, StatusCode::CREATED, "{}", call.body);
                i += 1;
                written.store(i, Ordering::SeqCst);
            }
        })
    };
    while written.load(Ordering::SeqCst) < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("busy.zip");
    backup(&app.database_url().await, &file).await;
    let after_backup = written.load(Ordering::SeqCst);
    while written.load(Ordering::SeqCst) < after_backup + 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();

    let (manifest, rows) = contents(&file);
    let count = |table: &str| {
        manifest
            .tables
            .iter()
            .find(|t| t.name == table)
            .map(|t| i64::try_from(t.rows).unwrap())
            .unwrap()
    };
    let leads = count("leads");
    let total: i64 = app
        .db
        .fetch_optional("SELECT COUNT(*) AS n FROM leads", &[])
        .await
        .unwrap()
        .unwrap()
        .int("n");
    assert!(
        leads >= 10 && leads < total,
        "the backup holds the leads written before it ({leads} of {total})"
    );
    for entry in &manifest.tables {
        assert_eq!(
            rows[&entry.name].1.len() as u64,
            entry.rows,
            "the manifest counts the rows of {}",
            entry.name
        );
    }

    // Restored, every lead has its history and every follow-up its lead: no record is half
    // there. The writer logs a follow-up just after creating its lead, so at most the last lead
    // can have been read before its follow-up existed.
    let target = Target::new(Backend::Sqlite).await.unwrap();
    let restored = restore(&target.url, &file).await;
    assert!(
        restored.status.success(),
        "restore failed: {}",
        stderr(&restored)
    );
    assert_eq!(target.count("leads").await, leads);
    assert_eq!(target.count("activities").await, count("activities"));
    assert_eq!(target.count("history").await, count("history"));
    let db = Db::connect(&target.url).await.unwrap();
    let count_of = |sql: &'static str| {
        let db = db.clone();
        async move { db.fetch_optional(sql, &[]).await.unwrap().unwrap().int("n") }
    };
    let without_history = count_of(
        "SELECT COUNT(*) AS n FROM leads WHERE NOT EXISTS \
         (SELECT 1 FROM history h WHERE h.record_type = 'lead' AND h.record_id = leads.id)",
    )
    .await;
    let without_lead = count_of(
        "SELECT COUNT(*) AS n FROM activities a WHERE a.record_type = 'lead' \
         AND NOT EXISTS (SELECT 1 FROM leads WHERE leads.id = a.record_id)",
    )
    .await;
    let without_follow_up = count_of(
        "SELECT COUNT(*) AS n FROM leads WHERE name LIKE '并发%' AND NOT EXISTS \
         (SELECT 1 FROM activities a WHERE a.record_type = 'lead' AND a.record_id = leads.id)",
    )
    .await;
    // The reports' summaries and changes came from the same snapshot as the records: read from
    // them, the restored reports equal a recount, before and after a fold in the new database.
    let admin_id = app.get("/api/v1/me", &app.admin_token).await.body["id"]
        .as_i64()
        .unwrap();
    let admin = Actor::load(&db, admin_id).await.unwrap().unwrap();
    let all_time = [
        ("from".to_owned(), "2000-01-01".to_owned()),
        ("to".to_owned(), "2099-12-31".to_owned()),
    ];
    let now = app.clock_now();
    for folded in [false, true] {
        if folded {
            summaries::fold(&db).await.unwrap();
        }
        let funnel = |tally| reports::funnel_from(&db, &admin, &all_time, now, tally);
        let (summarised, recounted) =
            (funnel(Tally::Summaries).await, funnel(Tally::Records).await);
        assert_eq!(summarised.unwrap().body, recounted.unwrap().body);
        let logged = |tally| reports::activities_from(&db, &admin, &all_time, now, tally);
        let (summarised, recounted) =
            (logged(Tally::Summaries).await, logged(Tally::Records).await);
        assert_eq!(summarised.unwrap().body, recounted.unwrap().body);
    }
    db.close().await;
    assert_eq!(without_history, 0, "every lead came with its history");
    assert_eq!(without_lead, 0, "every follow-up came with its lead");
    assert!(
        without_follow_up <= 1,
        "{without_follow_up} leads lack their follow-up"
    );
}

async fn a_target_with_records_a_newer_archive_and_a_damaged_archive_are_refused(app: TestApp) {
    let backend = match app.db.dialect() {
        xiansuo_store::Dialect::Sqlite => Backend::Sqlite,
        xiansuo_store::Dialect::Postgres => Backend::Postgres,
    };
    app.lead(
        &app.admin_token,
        json!({"name": "李雷", "phone": "13911112222"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.zip");
    let url = app.database_url().await;
    backup(&url, &good).await;

    // Into the database it came from, which holds records.
    let refused = restore(&url, &good).await;
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("not empty"),
        "{}",
        stderr(&refused)
    );
    let leads = app
        .db
        .fetch_optional("SELECT COUNT(*) AS n FROM leads", &[])
        .await
        .unwrap()
        .unwrap()
        .int("n");
    assert_eq!(leads, 1, "nothing was added to the database refused");

    let target = Target::new(backend).await.unwrap();

    // From a schema this program does not know.
    let future = dir.path().join("future.zip");
    let (pieces, received) = tokio::sync::mpsc::channel(1);
    let path = future.clone();
    let writing = tokio::task::spawn_blocking(move || archive::write(&path, received));
    pieces
        .send(Piece::Finish(Box::new(Manifest {
            format: archive::FORMAT,
            schema_version: "9999_later".into(),
            dialect: "sqlite".into(),
            created_at: Utc::now(),
            tables: Vec::new(),
            rebuilt: Vec::new(),
        })))
        .await
        .unwrap();
    drop(pieces);
    writing.await.unwrap().unwrap();
    let refused = restore(&target.url, &future).await;
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("newer than this program knows"),
        "{}",
        stderr(&refused)
    );

    // Cut short.
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let refused = restore(&target.url, &cut).await;
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("damaged or cut short"),
        "{}",
        stderr(&refused)
    );

    // Damaged inside a table's rows: found while loading, and nothing stays loaded.
    let damaged = dir.path().join("damaged.zip");
    let mut broken = bytes.clone();
    let leads_entry = find(&broken, b"tables/leads.jsonl").expect("the leads entry");
    for byte in &mut broken[leads_entry + 60..leads_entry + 90] {
        *byte ^= 0x5a;
    }
    std::fs::write(&damaged, &broken).unwrap();
    let refused = restore(&target.url, &damaged).await;
    assert!(!refused.status.success(), "a damaged archive is refused");
    for table in ["users", "leads", "history", "api_tokens"] {
        assert_eq!(
            target.count(table).await,
            0,
            "no row of {table} was left loaded"
        );
    }

    // Whole but for a lead whose owner is not in the archive: the foreign keys, checked over
    // the loaded rows, refuse it and nothing stays loaded.
    let orphaned = dir.path().join("orphaned.zip");
    let mut reader = archive::Reader::open(&good).unwrap();
    let manifest = reader.manifest.clone();
    let (pieces, received) = tokio::sync::mpsc::channel(4);
    let path = orphaned.clone();
    let writing = tokio::task::spawn_blocking(move || archive::write(&path, received));
    for entry in &manifest.tables {
        pieces.send(Piece::Table(entry.clone())).await.unwrap();
        let owner = entry.columns.iter().position(|c| c == "owner_id");
        let mut rows = reader.table(entry).unwrap();
        while let Some(mut batch) = rows.next_batch().unwrap() {
            if let (true, Some(owner)) = (entry.name == "leads", owner) {
                for row in &mut batch {
                    row[owner] = xiansuo_store::Cell::Int(987_654);
                }
            }
            pieces.send(Piece::Rows(batch)).await.unwrap();
        }
    }
    pieces
        .send(Piece::Finish(Box::new(manifest)))
        .await
        .unwrap();
    drop(pieces);
    writing.await.unwrap().unwrap();
    let refused = restore(&target.url, &orphaned).await;
    assert!(
        !refused.status.success(),
        "a lead without its owner is refused"
    );
    assert!(stderr(&refused).contains("leads"), "{}", stderr(&refused));
    for table in ["users", "leads", "history"] {
        assert_eq!(
            target.count(table).await,
            0,
            "no row of {table} was left loaded"
        );
    }

    // The target, refused five times, still takes the good archive.
    let restored = restore(&target.url, &good).await;
    assert!(
        restored.status.success(),
        "restore failed: {}",
        stderr(&restored)
    );
    assert_eq!(target.count("leads").await, 1);
}

async fn put(app: &TestApp, token: &str, schedule: Value) -> Reply {
    app.call(
        Method::PUT,
        "/api/v1/backups/schedule",
        token,
        Some(schedule),
    )
    .await
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The archives in the backup directory, by name.
fn archives(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".zip"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn scheduled_backups_are_taken_when_due_and_only_keep_remain(app: TestApp) {
    let t = &app.admin_token;
    let rep = app.user("rep", Role::Rep, None).await;
    app.lead(t, json!({"name": "韩梅梅", "phone": "13922223333"}))
        .await;
    put(
        &app,
        &rep.token,
        json!({"enabled": true, "every_hours": 2, "keep": 2}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    app.get("/api/v1/backups", &rep.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let off = app.get("/api/v1/backups/schedule", t).await;
    assert_eq!(
        off.body,
        json!({"enabled": false, "every_hours": 24, "keep": 7})
    );
    put(
        &app,
        t,
        json!({"enabled": true, "every_hours": 0, "keep": 2}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let set = put(
        &app,
        t,
        json!({"enabled": true, "every_hours": 2, "keep": 2}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(app.get("/api/v1/backups/schedule", t).await.body, set.body);

    let dir = tempfile::tempdir().unwrap();
    let backups: PathBuf = dir.path().join("backups");
    let url = app.database_url().await;
    let run_at = |at: &str| {
        xiansuo(args(&[
            "jobs",
            "run-due",
            "--at",
            at,
            "--database-url",
            &url,
            "--backup-dir",
            &backups.display().to_string(),
        ]))
    };
    for (at, expected) in [
        ("2026-12-01T00:00:00Z", vec!["xiansuo-20261201-000000.zip"]),
        // One hour on: not due yet.
        ("2026-12-01T01:00:00Z", vec!["xiansuo-20261201-000000.zip"]),
        (
            "2026-12-01T02:00:00Z",
            vec!["xiansuo-20261201-000000.zip", "xiansuo-20261201-020000.zip"],
        ),
        // A third: the oldest goes, two are kept.
        (
            "2026-12-01T04:00:00Z",
            vec!["xiansuo-20261201-020000.zip", "xiansuo-20261201-040000.zip"],
        ),
    ] {
        let ran = run_at(at).await;
        assert!(ran.status.success(), "{}", stderr(&ran));
        assert_eq!(archives(&backups), expected, "after the run at {at}");
    }

    let listed = app.get("/api/v1/backups", t).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let items = listed.body["items"].as_array().unwrap().clone();
    assert_eq!(
        items
            .iter()
            .map(|b| b["file_name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["xiansuo-20261201-040000.zip", "xiansuo-20261201-020000.zip"]
    );
    for item in &items {
        let size = std::fs::metadata(backups.join(item["file_name"].as_str().unwrap()))
            .unwrap()
            .len();
        assert_eq!(item["bytes"].as_u64(), Some(size));
        assert_eq!(item["scheduled"], true);
        assert_eq!(
            item["created_at"].as_str().map(|s| &s[..10]),
            Some("2026-12-01")
        );
    }

    // Backed up on request: taken at the next run, and still two kept.
    let asked = app.post("/api/v1/backups", t, json!({})).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.body);
    let ran = run_at("2026-12-01T04:30:00Z").await;
    assert!(ran.status.success(), "{}", stderr(&ran));
    assert_eq!(
        archives(&backups),
        vec!["xiansuo-20261201-040000.zip", "xiansuo-20261201-043000.zip"]
    );
    let newest = app.get("/api/v1/backups", t).await.body["items"][0].clone();
    assert_eq!(newest["scheduled"], false);
    let id = newest["id"].as_i64().unwrap();
    let download = app
        .client
        .get(format!("{}/api/v1/backups/{id}/download", app.base))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/zip");
    assert_eq!(
        download.bytes().await.unwrap().to_vec(),
        std::fs::read(backups.join("xiansuo-20261201-043000.zip")).unwrap()
    );
    let (manifest, _) = contents(&backups.join("xiansuo-20261201-043000.zip"));
    assert_eq!(
        manifest
            .tables
            .iter()
            .find(|t| t.name == "leads")
            .map(|t| t.rows),
        Some(1)
    );
    app.get("/api/v1/backups/999999/download", t)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}
