//! What each lead keeps of its follow-ups for the fast pages (migration 0025): its next planned
//! follow-up (the plan of its latest follow-up) and when its first follow-up was logged. They
//! must stay exactly what the follow-ups say after every kind of change — a follow-up logged,
//! fulfilled, edited or deleted, the lead edited, reassigned, deleted and restored, merged and
//! unmerged, leads imported — and the upgrade fills them in for existing leads. The lead list
//! counts its total exactly up to a cap.

use crate::on_both_databases;
use crate::support::{Reply, TestApp, TestUser};
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_app::records::{self, schema::LEADS, Count};
use xiansuo_core::role::Role;
use xiansuo_store::{Dialect, Param};

on_both_databases!(
    a_lead_keeps_its_next_planned_follow_up_through_every_change,
    the_upgrade_fills_in_what_existing_leads_keep,
    a_total_is_exact_up_to_its_cap,
);

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("an id")
}

/// Logs a follow-up on a lead, planning the next one at `next`, and returns its id.
async fn follow_up(app: &TestApp, token: &str, lead: i64, next: Option<DateTime<Utc>>) -> i64 {
    let reply = app
        .post(
            &format!("/api/v1/leads/{lead}/activities"),
            token,
            json!({"type": "call", "content": "聊过", "next_follow_up_at": next.map(|n| n.to_rfc3339())}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    id(&reply.body)
}

/// The leads of the list whose next planned follow-up is before `before`, as `token` sees them.
async fn planned_before(app: &TestApp, token: &str, before: DateTime<Utc>) -> Vec<i64> {
    let before = before.to_rfc3339().replace('+', "%2B");
    let reply = app
        .get(
            &format!("/api/v1/leads?follow_up_before={before}&sort=id"),
            token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.ids()
}

/// The leads `user` has a follow-up planned for within a day.
async fn upcoming(app: &TestApp, user: &TestUser) -> Vec<i64> {
    let reply = app
        .get("/api/v1/follow-ups/due?when=upcoming&days=1", &user.token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["record_id"].as_i64().unwrap())
        .collect()
}

/// Asserts that every lead keeps exactly what its follow-ups say: the plan of its latest
/// follow-up (by time, then id) and the time of its first, deleted follow-ups left out.
async fn assert_marks_match(app: &TestApp, step: &str) {
    let leads = app
        .db
        .fetch_all(
            "SELECT id, next_follow_up_at, first_activity_at FROM leads ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    for lead in leads {
        let activities = app
            .db
            .fetch_all(
                "SELECT next_follow_up_at, created_at FROM activities WHERE record_type = 'lead' \
                 AND record_id = ? AND deleted_at IS NULL ORDER BY created_at DESC, id DESC",
                &[Param::Int(lead.int("id"))],
            )
            .await
            .unwrap();
        let next = activities
            .first()
            .and_then(|a| a.opt_int("next_follow_up_at"));
        let first = activities.iter().map(|a| a.int("created_at")).min();
        assert_eq!(
            (
                lead.opt_int("next_follow_up_at"),
                lead.opt_int("first_activity_at")
            ),
            (next, first),
            "lead {} after {step}",
            lead.int("id")
        );
    }
}

async fn delete(app: &TestApp, token: &str, path: &str) {
    let reply = app.call(Method::DELETE, path, token, None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
}

fn ok(reply: Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn upload_csv(app: &TestApp, csv: &str) -> i64 {
    let response = app
        .client
        .post(format!("{}/api/v1/imports?file_name=leads.csv", app.base))
        .bearer_auth(&app.admin_token)
        .header("Content-Type", "text/csv")
        .body(csv.as_bytes().to_vec())
        .send()
        .await
        .expect("the server answers");
    let created = Reply::from(response).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    id(&created.body)
}

async fn import(app: &TestApp, csv: &str) {
    let import = upload_csv(app, csv).await;
    let started = app
        .post(
            &format!("/api/v1/imports/{import}/start"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    for _ in 0..600 {
        let now = ok(app
            .get(&format!("/api/v1/imports/{import}"), &app.admin_token)
            .await);
        if now["state"] != "running" {
            assert_eq!(now["state"], "finished", "{now}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not finish within 30 s");
}

async fn a_lead_keeps_its_next_planned_follow_up_through_every_change(app: TestApp) {
    let t = &app.admin_token;
    let r1 = app.user("rep1", Role::Rep, None).await;
    let r2 = app.user("rep2", Role::Rep, None).await;
    let now = app.clock_now();
    let lead = id(&app
        .lead(&r1.token, json!({"name": "王芳", "phone": "13900139000"}))
        .await);
    let other = id(&app.lead(&r1.token, json!({"name": "李雷"})).await);
    assert!(planned_before(&app, &r1.token, now + Duration::days(30))
        .await
        .is_empty());
    assert_marks_match(&app, "creating").await;

    // Logged with a plan: the lead is due before the plan, not before.
    app.clock.advance(Duration::minutes(10));
    let plan = now + Duration::hours(2);
    follow_up(&app, &r1.token, lead, Some(plan)).await;
    assert_eq!(
        planned_before(&app, &r1.token, plan + Duration::minutes(1)).await,
        vec![lead]
    );
    assert!(planned_before(&app, &r1.token, plan).await.is_empty());
    assert_eq!(upcoming(&app, &r1).await, vec![lead]);
    assert_marks_match(&app, "a follow-up with a plan").await;

    // Editing the lead and moving its status keep the plan.
    ok(app
        .patch(
            &format!("/api/v1/leads/{lead}"),
            &r1.token,
            json!({"title": "采购经理", "status": "working"}),
        )
        .await);
    assert_eq!(upcoming(&app, &r1).await, vec![lead]);
    assert_marks_match(&app, "an edit").await;

    // Following up again without a plan fulfils it; deleting that follow-up brings it back.
    app.clock.advance(Duration::minutes(10));
    let done = follow_up(&app, &r1.token, lead, None).await;
    assert!(planned_before(&app, &r1.token, now + Duration::days(30))
        .await
        .is_empty());
    assert!(upcoming(&app, &r1).await.is_empty());
    assert_marks_match(&app, "a follow-up that fulfils the plan").await;
    delete(&app, &r1.token, &format!("/api/v1/activities/{done}")).await;
    assert_eq!(upcoming(&app, &r1).await, vec![lead]);
    assert_marks_match(&app, "deleting a follow-up").await;

    // Moving the plan of the latest follow-up moves the lead's.
    let latest = app
        .get(&format!("/api/v1/leads/{lead}/activities"), &r1.token)
        .await
        .ids()[0];
    let later = now + Duration::hours(5);
    ok(app
        .patch(
            &format!("/api/v1/activities/{latest}"),
            &r1.token,
            json!({"next_follow_up_at": later.to_rfc3339()}),
        )
        .await);
    assert!(planned_before(&app, &r1.token, plan + Duration::minutes(1))
        .await
        .is_empty());
    assert_eq!(
        planned_before(&app, &r1.token, later + Duration::minutes(1)).await,
        vec![lead]
    );
    assert_marks_match(&app, "editing a follow-up's plan").await;

    // Given to another rep, the plan is theirs to keep.
    ok(app
        .post(
            &format!("/api/v1/leads/{lead}/assign"),
            t,
            json!({"owner_id": r2.id}),
        )
        .await);
    assert!(upcoming(&app, &r1).await.is_empty());
    assert_eq!(upcoming(&app, &r2).await, vec![lead]);
    assert_marks_match(&app, "a reassignment").await;

    // Disqualified, the lead is no longer due; open again, it is.
    ok(app
        .patch(
            &format!("/api/v1/leads/{lead}"),
            t,
            json!({"status": "disqualified", "disqualify_reason": "重复"}),
        )
        .await);
    assert!(upcoming(&app, &r2).await.is_empty());
    ok(app
        .patch(
            &format!("/api/v1/leads/{lead}"),
            t,
            json!({"status": "working"}),
        )
        .await);
    assert_eq!(upcoming(&app, &r2).await, vec![lead]);

    // Deleted, it is not listed; restored, it is again with its plan.
    delete(&app, t, &format!("/api/v1/leads/{lead}")).await;
    assert!(planned_before(&app, t, later + Duration::minutes(1))
        .await
        .is_empty());
    assert!(upcoming(&app, &r2).await.is_empty());
    ok(app
        .post(&format!("/api/v1/leads/{lead}/restore"), t, json!({}))
        .await);
    assert_eq!(upcoming(&app, &r2).await, vec![lead]);
    assert_marks_match(&app, "a delete and a restore").await;

    // Merged into a lead without follow-ups, the survivor takes the plan; undone, it goes back.
    let survivor = id(&app
        .lead(
            t,
            json!({"name": "王 芳", "phone": "139-0013-9000", "owner_id": r2.id}),
        )
        .await);
    let merged = ok(app
        .post(
            "/api/v1/leads/merge",
            t,
            json!({"survivor_id": survivor, "merged_ids": [lead]}),
        )
        .await);
    assert_eq!(
        planned_before(&app, t, later + Duration::minutes(1)).await,
        vec![survivor]
    );
    assert_eq!(upcoming(&app, &r2).await, vec![survivor]);
    assert_marks_match(&app, "a merge").await;
    let merge_id = merged["merge_id"].as_i64().unwrap();
    ok(app
        .post(
            &format!("/api/v1/leads/merges/{merge_id}/undo"),
            t,
            json!({}),
        )
        .await);
    assert_eq!(
        planned_before(&app, t, later + Duration::minutes(1)).await,
        vec![lead]
    );
    assert_marks_match(&app, "undoing a merge").await;

    // Imported leads have nothing planned, and the others keep theirs.
    follow_up(&app, &r1.token, other, Some(now + Duration::hours(3))).await;
    import(&app, "Name,Mobile\n赵敏,13700137000\n王芳,13900139000\n").await;
    assert_eq!(
        planned_before(&app, t, later + Duration::minutes(1)).await,
        vec![lead, other]
    );
    assert_marks_match(&app, "an import").await;

    // Speed to lead counts the leads with a follow-up, from the first one logged.
    let speed = ok(app.get("/api/v1/reports/speed-to-lead", t).await);
    let contacted: i64 = speed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["contacted"].as_i64().unwrap())
        .sum();
    assert_eq!(contacted, 2, "{speed}");
    let of_r2 = speed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["owner_id"] == r2.id)
        .unwrap_or_else(|| panic!("rep2's leads in {speed}"));
    assert_eq!(of_r2["median_minutes"], 10.0, "{speed}");
}

/// Puts the database back as it was before migration 0025, then upgrades it again.
async fn undo_and_redo_the_upgrade(app: &TestApp) {
    let mut tx = app.db.begin().await.unwrap();
    let indexes = "DROP INDEX leads_follow_up_idx; DROP INDEX leads_owner_follow_up_idx; \
        DROP INDEX activities_type_follow_up_idx; DROP INDEX leads_pool_order_idx; \
        DROP INDEX opportunities_board_idx; DROP INDEX opportunities_stage_updated_idx; \
        DROP INDEX opportunities_owner_stage_updated_idx; DROP INDEX opportunities_forecast_idx; \
        DROP INDEX opportunities_won_cover_idx; DROP INDEX leads_report_idx; \
        CREATE INDEX leads_report_idx ON leads (created_at, owner_id, source, status, \
            converted_opportunity_id) WHERE deleted_at IS NULL;";
    // On PostgreSQL the columns stay, emptied: dropping and adding them again would move them
    // behind the columns of later migrations and change the shape of `SELECT *` under the
    // statements the server's connections have prepared, which no real upgrade does.
    let rest = if app.db.dialect() == Dialect::Postgres {
        "DROP FUNCTION activities_lead_marks() CASCADE; DROP FUNCTION lead_activity_marks(BIGINT); \
         UPDATE leads SET next_follow_up_at = NULL, first_activity_at = NULL;"
    } else {
        "DROP TRIGGER activities_lead_marks_insert; DROP TRIGGER activities_lead_marks_update; \
         DROP TRIGGER activities_lead_marks_delete; ALTER TABLE leads DROP COLUMN next_follow_up_at; \
         ALTER TABLE leads DROP COLUMN first_activity_at;"
    };
    // SQLite cannot drop the columns while the report summaries of a later migration read them,
    // so there that migration is undone first and runs again after 0025, as in an upgrade from
    // before both.
    let mut redone = vec!["0025_page_speed"];
    let later = if app.db.dialect() == Dialect::Sqlite {
        redone.push(SUMMARIES);
        undo_sqlite_statements(SUMMARIES)
    } else {
        String::new()
    };
    let versions: Vec<String> = redone.iter().map(|v| format!("'{v}'")).collect();
    tx.execute_script(&format!(
        "{later} {indexes} {rest} DELETE FROM schema_migrations WHERE version IN ({});",
        versions.join(", ")
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let applied = xiansuo_app::migrate(&app.db, app.clock_now().timestamp_millis())
        .await
        .expect("the upgrade runs");
    assert_eq!(applied, redone);
}

/// The migration of the report summaries, which reads the columns of 0025.
const SUMMARIES: &str = "0035_report_summaries";

/// Statements that drop what the SQLite migration `version` creates: its triggers, then its
/// indexes, then its tables.
fn undo_sqlite_statements(version: &str) -> String {
    let (_, sql) = xiansuo_store::migrate::SQLITE
        .iter()
        .find(|(v, _)| *v == version)
        .expect("the migration is known");
    let mut drops = Vec::new();
    for kind in ["TRIGGER", "INDEX", "TABLE"] {
        let prefix = format!("CREATE {kind} ");
        for line in sql.lines().filter(|l| l.starts_with(&prefix)) {
            let name = line[prefix.len()..]
                .split(|c: char| c.is_whitespace() || c == '(')
                .next()
                .unwrap_or_default();
            drops.push(format!("DROP {kind} {name};"));
        }
    }
    drops.join(" ")
}

async fn the_upgrade_fills_in_what_existing_leads_keep(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    let now = app.clock_now();
    let planned = id(&app.lead(&rep.token, json!({"name": "甲"})).await);
    let fulfilled = id(&app.lead(&rep.token, json!({"name": "乙"})).await);
    let untouched = id(&app.lead(&rep.token, json!({"name": "丙"})).await);
    app.clock.advance(Duration::minutes(5));
    follow_up(&app, &rep.token, planned, Some(now + Duration::hours(1))).await;
    follow_up(&app, &rep.token, fulfilled, Some(now + Duration::hours(1))).await;
    app.clock.advance(Duration::minutes(5));
    follow_up(&app, &rep.token, planned, Some(now + Duration::hours(4))).await;
    follow_up(&app, &rep.token, fulfilled, None).await;

    undo_and_redo_the_upgrade(&app).await;

    assert_marks_match(&app, "the upgrade").await;
    assert_eq!(
        planned_before(&app, &rep.token, now + Duration::days(1)).await,
        vec![planned]
    );
    assert!(!planned_before(&app, &rep.token, now + Duration::days(1))
        .await
        .contains(&untouched));
    // The triggers are back: a new plan is kept at once.
    follow_up(&app, &rep.token, untouched, Some(now + Duration::hours(2))).await;
    assert_eq!(
        planned_before(&app, &rep.token, now + Duration::days(1)).await,
        vec![planned, untouched]
    );
    assert_marks_match(&app, "a follow-up after the upgrade").await;
}

async fn a_total_is_exact_up_to_its_cap(app: TestApp) {
    let rep = app.user("rep", Role::Rep, None).await;
    for name in ["甲", "乙", "丙"] {
        app.lead(&rep.token, json!({"name": name})).await;
    }
    let actor = xiansuo_app::Actor::load(&app.db, rep.id)
        .await
        .expect("reading the rep")
        .expect("the rep as an actor");
    let count = |cap| records::list_counted(&app.db, &actor, &LEADS, &[], Count::UpTo(cap));
    let capped = count(2).await.unwrap();
    assert_eq!((capped.total, capped.total_capped), (Some(2), true));
    let exact = count(3).await.unwrap();
    assert_eq!((exact.total, exact.total_capped), (Some(3), false));
    let all = records::list(&app.db, &actor, &LEADS, &[("count".into(), "true".into())])
        .await
        .unwrap();
    assert_eq!((all.total, all.total_capped), (Some(3), false));
}
