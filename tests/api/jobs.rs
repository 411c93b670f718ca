//! `/metrics` and background jobs: each due job runs once even when two instances share the database, a
//! job whose kind nobody handles fails for good instead of looping, `xiansuo jobs run-due --at`
//! runs what is due at that time; and the notifications an owner change leaves behind.

use crate::on_both_databases;
use crate::support::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use xiansuo_app::jobs::{self, JobEnv};
use xiansuo_core::clock::to_millis;
use xiansuo_core::role::Role;
use xiansuo_store::{Db, Param};

on_both_databases!(
    two_instances_run_each_job_once,
    a_job_nobody_handles_fails_for_good,
    the_cli_runs_jobs_due_at_a_given_time,
    a_new_owner_is_notified,
    two_served_instances_never_run_a_job_twice,
    metrics_count_requests_by_route_and_jobs_by_state,
);

async fn queue(db: &Db, kind: &str, run_at_ms: i64, n: usize) {
    let mut tx = db.begin().await.unwrap();
    for _ in 0..n {
        tx.execute(
            "INSERT INTO jobs (kind, payload, state, run_at, created_at) VALUES (?, 'null', 'queued', ?, ?)",
            &[Param::from(kind), Param::Int(run_at_ms), Param::Int(run_at_ms)],
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// (state, attempts, how many) of the jobs matching `condition`.
async fn job_states(db: &Db, condition: &str) -> Vec<(String, i64, i64)> {
    db.fetch_all(
        &format!(
            "SELECT state, attempts, COUNT(*) AS n FROM jobs WHERE {condition} \
             GROUP BY state, attempts ORDER BY state, attempts"
        ),
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.text("state"), r.int("attempts"), r.int("n")))
    .collect()
}

async fn two_instances_run_each_job_once(app: TestApp) {
    let now = app.clock_now();
    queue(&app.db, "jobs.prune", to_millis(now), 200).await;
    // Not due yet: must not run.
    queue(&app.db, "jobs.prune", to_millis(now) + 60_000, 5).await;
    let other = Db::connect(&app.database_url().await).await.unwrap();
    let env = JobEnv::default();
    let (a, b) = tokio::join!(
        jobs::run_due(&app.db, &env, now),
        jobs::run_due(&other, &env, now)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    // The 200 queued jobs ran once each, however the two instances split them; so did the
    // periodic jobs of this time slot, and nothing ran twice.
    let summary = job_states(&app.db, "unique_key IS NULL").await;
    assert_eq!(
        summary,
        vec![("done".into(), 1, 200), ("queued".into(), 0, 5)]
    );
    let periodic = job_states(&app.db, "unique_key IS NOT NULL").await;
    assert_eq!(
        periodic,
        vec![("done".into(), 1, jobs::periodic().count() as i64)]
    );
    assert_eq!(a.done + b.done, 200 + jobs::periodic().count() as u64);
    // Running again at the same time finds nothing new.
    let again = jobs::run_due(&other, &env, now).await.unwrap();
    assert_eq!(again.done, 0);
    other.close().await;
}

async fn a_job_nobody_handles_fails_for_good(app: TestApp) {
    let now = app.clock_now();
    queue(&app.db, "no.such.kind", to_millis(now), 1).await;
    let report = jobs::run_due(&app.db, &JobEnv::default(), now)
        .await
        .unwrap();
    assert_eq!(report.failed, 1);
    let row = app
        .db
        .fetch_optional(
            "SELECT state, last_error FROM jobs WHERE kind = ?",
            &[Param::from("no.such.kind")],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.text("state"), "failed");
    assert!(row.text("last_error").contains("no.such.kind"));
}

async fn the_cli_runs_jobs_due_at_a_given_time(app: TestApp) {
    let now = app.clock_now();
    // Due in two hours: a run now leaves it, a run at +2h takes it.
    queue(&app.db, "jobs.prune", to_millis(now) + 2 * 3600 * 1000, 3).await;
    let url = app.database_url().await;
    let run = |at: String| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_xiansuo"))
                .args(["--database-url", &url, "jobs", "run-due", "--at", &at])
                .output()
                .expect("the binary runs")
        })
    };
    let early = run((now + chrono::Duration::minutes(5)).to_rfc3339())
        .await
        .unwrap();
    assert!(
        early.status.success(),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&early.stdout).unwrap();
    assert_eq!(report["failed"], 0, "{report}");
    let queued = "unique_key IS NULL";
    assert_eq!(
        job_states(&app.db, queued).await,
        vec![("queued".into(), 0, 3)]
    );
    let later = run((now + chrono::Duration::hours(2)).to_rfc3339())
        .await
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&later.stdout).unwrap();
    assert!(report["done"].as_u64().unwrap() >= 3, "{report}");
    assert_eq!(
        job_states(&app.db, queued).await,
        vec![("done".into(), 1, 3)]
    );
    let bad = run("yesterday".into()).await.unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RFC 3339"));
}

async fn a_new_owner_is_notified(app: TestApp) {
    let rep = app.user("li", Role::Rep, None).await;
    let lead = app.lead(&app.admin_token, json!({"name": "张伟"})).await;
    let id = lead["id"].as_i64().unwrap();
    assert!(lead["assigned_at"].is_string());
    let empty = app.get("/api/v1/notifications", &rep.token).await;
    assert_eq!(empty.body["items"], json!([]));

    app.clock.advance(chrono::Duration::hours(1));
    let moved = app
        .patch(
            &format!("/api/v1/leads/{id}"),
            &app.admin_token,
            json!({"owner_id": rep.id}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_ne!(moved.body["assigned_at"], lead["assigned_at"]);

    let list = app
        .get("/api/v1/notifications?unread=true", &rep.token)
        .await;
    assert_eq!(list.body["unread"], 1, "{}", list.body);
    let note = &list.body["items"][0];
    assert_eq!(note["kind"], "lead.assigned");
    assert_eq!(note["record_id"], id);
    assert!(note["message"].as_str().unwrap().contains("张伟"));

    let note_id = note["id"].as_i64().unwrap();
    // Someone else's notification is not found.
    let other = app
        .post(
            &format!("/api/v1/notifications/{note_id}/read"),
            &app.admin_token,
            json!({}),
        )
        .await;
    other.assert_error(StatusCode::NOT_FOUND, "not_found");
    let read = app
        .post(
            &format!("/api/v1/notifications/{note_id}/read"),
            &rep.token,
            json!({}),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.body["read_at"].is_string());
    let after = app
        .get("/api/v1/notifications?unread=true", &rep.token)
        .await;
    assert_eq!(after.body["unread"], 0);
    let bad = app
        .get("/api/v1/notifications?unread=maybe", &rep.token)
        .await;
    bad.assert_error(StatusCode::BAD_REQUEST, "bad_request");
}

/// Two `xiansuo serve` processes on one database, each polling for due jobs: every one of
/// 1,000 queued jobs runs exactly once.
async fn two_served_instances_never_run_a_job_twice(app: TestApp) {
    queue(&app.db, "jobs.prune", to_millis(app.clock_now()), 1000).await;
    let url = app.database_url().await;
    let mut servers: Vec<std::process::Child> = (0..2)
        .map(|_| {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            std::process::Command::new(env!("CARGO_BIN_EXE_xiansuo"))
                .args(["--database-url", &url, "serve", "--bind"])
                .arg(format!("127.0.0.1:{port}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("the binary starts")
        })
        .collect();
    let started = std::time::Instant::now();
    let mut states = Vec::new();
    while started.elapsed() < std::time::Duration::from_secs(60) {
        states = job_states(&app.db, "unique_key IS NULL").await;
        if states.iter().all(|(state, _, _)| state == "done") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for server in &mut servers {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status();
        let _ = server.wait();
    }
    assert_eq!(states, vec![("done".into(), 1, 1000)]);
    let twice = job_states(&app.db, "attempts > 1").await;
    assert_eq!(twice, vec![]);
}

async fn metrics_count_requests_by_route_and_jobs_by_state(app: TestApp) {
    queue(
        &app.db,
        "jobs.prune",
        to_millis(app.clock_now()) + 60_000,
        2,
    )
    .await;
    app.lead(&app.admin_token, json!({"name": "赵敏"})).await;
    app.get("/api/v1/leads/999999", &app.admin_token).await;
    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for line in [
        r#"xiansuo_http_requests_total{method="POST",route="/api/v1/leads",status="201"} 1"#,
        r#"xiansuo_http_requests_total{method="GET",route="/api/v1/leads/{id}",status="404"} 1"#,
        r#"xiansuo_jobs{state="queued"} 2"#,
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(text.contains("xiansuo_http_request_duration_seconds_bucket"));
}
