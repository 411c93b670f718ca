//! The real `xiansuo` binary: `user create`, `token create` and `serve` on the embedded SQLite
//! file and on PostgreSQL, graceful shutdown, and the two migration sets kept in step.

use crate::support::{Backend, TestApp};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use xiansuo_store::{migrate, Db};

const BIN: &str = env!("CARGO_BIN_EXE_xiansuo");

fn xiansuo(args: &[&str], database: &[String]) -> std::process::Output {
    Command::new(BIN)
        .args(database)
        .args(args)
        .env_remove("XIANSUO_DATABASE_URL")
        .output()
        .expect("the binary runs")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Creates a user and a token with the binary, serves with it, uses the token, and stops it
/// with SIGTERM.
async fn binary_round_trip(database: Vec<String>) {
    let created = xiansuo(
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
        &database,
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let duplicate = xiansuo(
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
        &database,
    );
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("taken"));
    let no_team = xiansuo(
        &[
            "user",
            "create",
            "--username",
            "rep1",
            "--password",
            "password123",
            "--role",
            "rep",
            "--team",
            "不存在",
        ],
        &database,
    );
    assert!(!no_team.status.success());
    assert!(String::from_utf8_lossy(&no_team.stderr).contains("no team"));

    let token = xiansuo(&["token", "create", "--username", "boss"], &database);
    assert!(token.status.success());
    let stdout = String::from_utf8(token.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "only the token on stdout: {stdout:?}"
    );
    let token = stdout.trim().to_owned();
    assert!(token.starts_with("xs_"));

    let port = free_port();
    let mut server = Command::new(BIN)
        .args(&database)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("XIANSUO_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let lead = client
        .post(format!("{base}/api/v1/leads"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "命令行线索", "phone": "186 1234 5678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(lead.status(), 201);
    let spec = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(spec.status(), 200);

    let pid = server.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let stopped = Instant::now();
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "a clean exit on SIGTERM, got {status}");
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "the server did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_binary_creates_users_and_tokens_and_serves_on_the_embedded_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    binary_round_trip(vec!["--data-dir".into(), data.display().to_string()]).await;
    assert!(
        data.join("xiansuo.db").exists(),
        "the embedded database lives in the data directory"
    );
}

#[tokio::test]
async fn the_binary_runs_the_same_product_on_postgresql() {
    // A TestApp makes (and later drops) a fresh database; the binary then works on it by URL.
    let Some(app) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    let url = app.database_url().await;
    app.db.execute("DELETE FROM api_tokens", &[]).await.unwrap();
    app.db.execute("DELETE FROM users", &[]).await.unwrap();
    binary_round_trip(vec!["--database-url".into(), url]).await;
}

/// Table → sorted column names, read from the database's own catalogue.
async fn columns(db: &Db) -> BTreeMap<String, Vec<String>> {
    let sql = match db.dialect() {
        xiansuo_store::Dialect::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
        xiansuo_store::Dialect::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns WHERE table_schema = 'public'"
        }
    };
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in db.fetch_all(sql, &[]).await.unwrap() {
        out.entry(row.text("table_name"))
            .or_default()
            .push(row.text("column_name"));
    }
    // The lead search index is an FTS5 table (with its shadow tables) on SQLite and a table with
    // a tsvector on PostgreSQL: the same index in each database's own form.
    out.retain(|table, _| !table.starts_with("lead_search"));
    for cols in out.values_mut() {
        cols.sort();
    }
    out
}

#[tokio::test]
async fn both_migration_sets_produce_the_same_tables_and_columns() {
    let Some(pg) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    let sqlite = TestApp::start(Backend::Sqlite).await.unwrap();
    assert_eq!(migrate::SQLITE.len(), migrate::POSTGRES.len());
    assert_eq!(columns(&sqlite.db).await, columns(&pg.db).await);
    assert!(
        xiansuo_app::migrate(&sqlite.db, 0)
            .await
            .unwrap()
            .is_empty(),
        "migrations apply once"
    );
}

#[test]
fn a_config_file_sets_what_flags_do_not_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("xiansuo.toml");
    let from_file = dir.path().join("from-file");
    let from_flag = dir.path().join("from-flag");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlog_format = \"json\"\n",
            from_file.display().to_string()
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .args(["--config", config.to_str().unwrap()])
            .args(extra)
            .arg("migrate")
            .env_remove("XIANSUO_DATABASE_URL")
            .env_remove("XIANSUO_DATA_DIR")
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(from_file.join("xiansuo.db").exists());
    let first_log = String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        serde_json::from_str::<serde_json::Value>(&first_log).is_ok(),
        "JSON logs: {first_log}"
    );
    assert!(run(&["--data-dir", from_flag.to_str().unwrap()])
        .status
        .success());
    assert!(
        from_flag.join("xiansuo.db").exists(),
        "the flag wins over the file"
    );

    std::fs::write(&config, "colour = \"red\"\n").unwrap();
    let bad = run(&[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("colour"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
