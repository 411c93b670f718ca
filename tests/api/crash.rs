//! Killing the real binary (SIGKILL, no chance to clean up) loses nothing it reported as done:
//! every lead answered 201 before the kill is there after a restart, exactly once, and an
//! import killed mid-way finishes on the next run without a lost or doubled row.

use crate::on_both_databases;
use crate::support::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xiansuo_store::Param;

on_both_databases!(
    leads_answered_before_a_kill_are_all_there_once,
    an_import_killed_mid_way_finishes_without_lost_or_doubled_rows,
);

const BIN: &str = env!("CARGO_BIN_EXE_xiansuo");

fn xiansuo(database_url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["--database-url", database_url])
        .args(args)
        .env_remove("XIANSUO_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn kill_9(child: &mut Child) {
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let _ = child.wait();
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db
        .fetch_optional(sql, &[])
        .await
        .unwrap()
        .unwrap()
        .int("n")
}

async fn serve(database_url: &str) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = xiansuo(
        database_url,
        &["serve", "--bind", &format!("127.0.0.1:{port}")],
    )
    .spawn()
    .expect("the server starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (server, base)
}

async fn leads_answered_before_a_kill_are_all_there_once(app: TestApp) {
    let url = app.database_url().await;
    let (mut server, base) = serve(&url).await;
    let answered: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let senders: Vec<_> = (0..4_u32)
        .map(|sender| {
            let (base, token, answered) = (base.clone(), app.admin_token.clone(), answered.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for i in 0..100_000_u32 {
                    let phone = format!("+86139{:08}", sender * 10_000_000 + i);
                    let sent = client
                        .post(format!("{base}/api/v1/leads"))
                        .bearer_auth(&token)
                        .json(&json!({"name": format!("断电{sender}-{i}"), "phone": phone}))
                        .send()
                        .await;
                    let Ok(response) = sent else { return };
                    if response.status() != StatusCode::CREATED {
                        return;
                    }
                    let Ok(lead) = response.json::<serde_json::Value>().await else {
                        return;
                    };
                    let id = lead["id"].as_i64().expect("an id");
                    answered.lock().unwrap().push((id, phone));
                }
            })
        })
        .collect();
    let started = Instant::now();
    while answered.lock().unwrap().len() < 200 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no leads were created"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill_9(&mut server);
    for sender in senders {
        sender.await.unwrap();
    }

    // After a restart, every answered lead is there with its phone, and none twice.
    let (mut server, base) = serve(&url).await;
    let answered = answered.lock().unwrap().clone();
    let client = reqwest::Client::new();
    for (id, phone) in &answered {
        let lead: serde_json::Value = client
            .get(format!("{base}/api/v1/leads/{id}"))
            .bearer_auth(&app.admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(lead["id"], *id, "{lead}");
        assert_eq!(lead["phone"], phone.as_str());
    }
    let leads = count(&app, "SELECT COUNT(*) AS n FROM leads").await;
    let phones = count(
        &app,
        "SELECT COUNT(DISTINCT phone_normalized) AS n FROM leads",
    )
    .await;
    assert!(leads >= answered.len() as i64);
    assert_eq!(leads, phones, "no lead was written twice");
    kill_9(&mut server);
}

async fn an_import_killed_mid_way_finishes_without_lost_or_doubled_rows(app: TestApp) {
    let url = app.database_url().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("展会名单.csv");
    let rows = 30_000;
    let mut text = String::from("姓名,手机\n");
    for i in 0..rows {
        text.push_str(&format!("客户{i},+86137{i:08}\n"));
    }
    std::fs::write(&file, text).unwrap();
    let path = file.to_str().unwrap();

    let mut import = xiansuo(&url, &["import", "leads", path]).spawn().unwrap();
    let started = Instant::now();
    loop {
        let done = app
            .db
            .fetch_optional("SELECT MAX(rows_done) AS n FROM imports", &[])
            .await
            .unwrap()
            .and_then(|r| r.opt_int("n"))
            .unwrap_or(0);
        if done > 0 {
            break;
        }
        assert!(
            import.try_wait().unwrap().is_none(),
            "the import ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no batch was committed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill_9(&mut import);
    let before = count(&app, "SELECT COUNT(*) AS n FROM leads").await;
    assert!(before < rows, "killed before the end ({before} of {rows})");

    let finished = xiansuo(&url, &["import", "leads", path])
        .status()
        .expect("the import runs again");
    assert!(finished.success());
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM leads").await, rows);
    let distinct = app
        .db
        .fetch_optional(
            "SELECT COUNT(DISTINCT phone_normalized) AS n FROM leads WHERE phone_normalized LIKE ?",
            &[Param::from("+86137%")],
        )
        .await
        .unwrap()
        .unwrap()
        .int("n");
    assert_eq!(distinct, rows, "every row once");
}
