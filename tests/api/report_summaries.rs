//! The reports' per-day summaries: after many writes made at once from several clients
//! (creating, reassigning, changing status, converting, winning and losing deals, merging,
//! deleting, logging and deleting follow-ups) while the changes are folded into the summaries
//! over and over, every report read from the summaries equals the same report recounted from
//! the records, for an admin, a manager and a rep: with changes not yet folded, while a fold
//! runs and after it. An upgrade fills the summaries in for the records that already exist. On
//! PostgreSQL, two status changes in opposite directions of leads of the same day, source and
//! owner neither wait for each other nor deadlock.

use crate::on_both_databases;
use crate::support::{Backend, TestApp, TestUser};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use xiansuo_app::jobs::{self, JobEnv};
use xiansuo_app::sales::reports::{self, Tally};
use xiansuo_app::sales::summaries;
use xiansuo_app::Actor;
use xiansuo_core::role::Role;
use xiansuo_core::FixedClock;

on_both_databases!(
    reports_from_the_summaries_equal_a_recount_after_concurrent_writes,
    the_upgrade_fills_the_summaries_in_for_existing_records,
    a_busy_minute_is_folded_again_soon_and_a_quiet_one_is_not,
);

/// The clients writing at once, and the writes each makes.
const CLIENTS: u64 = 4;
const WRITES: usize = 60;

/// What a client needs to write through the API on its own task.
#[derive(Clone)]
struct Client {
    base: String,
    http: reqwest::Client,
    clock: FixedClock,
    admin: String,
    rep_ids: Vec<i64>,
}

impl Client {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        assert!(
            !status.is_server_error(),
            "{path} answered {status}: {body}"
        );
        (status, body)
    }

    /// A write chosen at random; a write that the state of the moment refuses (a lead that
    /// another client merged or deleted meanwhile) is refused with a 4xx, which is fine.
    async fn write(&self, rng: &mut StdRng, leads: &mut Vec<i64>, activities: &mut Vec<i64>) {
        // Any time of October (China time), so that the writes fall on many days.
        let october = Utc.with_ymd_and_hms(2026, 9, 30, 16, 0, 0).unwrap();
        self.clock
            .set(october + Duration::minutes(rng.gen_range(0..31 * 24 * 60)));
        let lead = if leads.is_empty() {
            None
        } else {
            Some(leads[rng.gen_range(0..leads.len())])
        };
        let owner = self.rep_ids[rng.gen_range(0..self.rep_ids.len())];
        match (rng.gen_range(0..12), lead) {
            (0..=2, _) | (_, None) => {
                let campaign =
                    [json!(null), json!("双11预热"), json!("年会")][rng.gen_range(0..3)].clone();
                let source = ["web_form", "event", "referral"][rng.gen_range(0..3)];
                let owner = if rng.gen_bool(0.2) {
                    json!(null)
                } else {
                    json!(owner)
                };
                let (status, body) = self
                    .call(
                        Method::POST,
                        "/api/v1/leads",
                        Some(
                            json!({"name": "客户", "source": source, "campaign": campaign,
                            "owner_id": owner}),
                        ),
                    )
                    .await;
                if status == StatusCode::CREATED {
                    leads.push(body["id"].as_i64().expect("a lead id"));
                }
            }
            (3, Some(lead)) => {
                let status = ["working", "qualified", "nurturing"][rng.gen_range(0..3)];
                self.call(
                    Method::PATCH,
                    &format!("/api/v1/leads/{lead}"),
                    Some(json!({ "status": status })),
                )
                .await;
            }
            (4, Some(lead)) => {
                self.call(
                    Method::PATCH,
                    &format!("/api/v1/leads/{lead}"),
                    Some(json!({ "owner_id": owner })),
                )
                .await;
            }
            (5, Some(lead)) => {
                let (status, body) = self
                    .call(
                        Method::POST,
                        &format!("/api/v1/leads/{lead}/convert"),
                        Some(json!({"create_opportunity": true, "opportunity": {
                            "name": "项目", "amount": rng.gen_range(1..500) * 1000,
                            "stage": "proposal", "expected_close_date": "2026-12-01"}})),
                    )
                    .await;
                if status == StatusCode::OK {
                    let deal = body["opportunity"]["id"].as_i64().expect("a deal id");
                    let (verb, body) = if rng.gen_bool(0.6) {
                        ("win", json!({}))
                    } else {
                        ("lose", json!({"reason": "价格太高"}))
                    };
                    self.call(
                        Method::POST,
                        &format!("/api/v1/opportunities/{deal}/{verb}"),
                        Some(body),
                    )
                    .await;
                    if rng.gen_bool(0.2) {
                        self.call(
                            Method::DELETE,
                            &format!("/api/v1/opportunities/{deal}"),
                            None,
                        )
                        .await;
                    }
                }
            }
            (6, Some(lead)) => {
                let other = leads[rng.gen_range(0..leads.len())];
                if other != lead {
                    self.call(
                        Method::POST,
                        "/api/v1/leads/merge",
                        Some(json!({"survivor_id": lead, "merged_ids": [other]})),
                    )
                    .await;
                }
            }
            (7, Some(lead)) => {
                self.call(Method::DELETE, &format!("/api/v1/leads/{lead}"), None)
                    .await;
                leads.retain(|l| *l != lead);
            }
            (8, _) if !activities.is_empty() => {
                let activity = activities.swap_remove(rng.gen_range(0..activities.len()));
                self.call(
                    Method::DELETE,
                    &format!("/api/v1/activities/{activity}"),
                    None,
                )
                .await;
            }
            (_, Some(lead)) => {
                let outcome = [json!(null), json!("call_back"), json!("visit_requested")]
                    [rng.gen_range(0..3)]
                .clone();
                let kind = ["call", "wechat", "visit"][rng.gen_range(0..3)];
                let (status, body) = self
                    .call(
                        Method::POST,
                        &format!("/api/v1/leads/{lead}/activities"),
                        Some(json!({"type": kind, "outcome": outcome})),
                    )
                    .await;
                if status == StatusCode::CREATED {
                    activities.push(body["id"].as_i64().expect("an activity id"));
                }
            }
        }
    }
}

/// A team (a manager and two reps) and a rep outside it; four clients writing at once while
/// the changes are folded again and again; then a few more writes, left unfolded.
async fn busy_october(app: &TestApp) -> (TestUser, TestUser) {
    let team = app.team("华东一组", None).await;
    let manager = app.user("wang.manager", Role::Manager, Some(team)).await;
    let li = app.user("li.rep", Role::Rep, Some(team)).await;
    let zhao = app.user("zhao.rep", Role::Rep, Some(team)).await;
    let other = app.user("qian.rep", Role::Rep, None).await;
    let client = Client {
        base: app.base.clone(),
        http: app.client.clone(),
        clock: app.clock.clone(),
        admin: app.admin_token.clone(),
        rep_ids: vec![li.id, zhao.id, other.id, manager.id],
    };
    let writing = Arc::new(AtomicBool::new(true));
    let folder = {
        let (db, writing) = (app.db.clone(), writing.clone());
        tokio::spawn(async move {
            let mut moved = 0;
            while writing.load(Ordering::SeqCst) {
                moved += summaries::fold(&db).await.expect("a fold").lead_changes;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            moved
        })
    };
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|seed| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(seed);
                let (mut leads, mut activities) = (Vec::new(), Vec::new());
                for _ in 0..WRITES {
                    client.write(&mut rng, &mut leads, &mut activities).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a client's writes");
    }
    writing.store(false, Ordering::SeqCst);
    assert!(
        folder.await.expect("the folds") > 0,
        "folds ran among the writes"
    );
    let mut rng = StdRng::seed_from_u64(CLIENTS);
    let (mut leads, mut activities) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        client.write(&mut rng, &mut leads, &mut activities).await;
    }
    assert!(changes(app).await > 0, "changes wait to be folded");
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    (manager, li)
}

/// The change rows of leads and follow-ups not yet folded.
async fn changes(app: &TestApp) -> i64 {
    let mut n = 0;
    for table in ["report_lead_changes", "report_activity_changes"] {
        n += app
            .db
            .fetch_optional(&format!("SELECT COUNT(*) AS n FROM {table}"), &[])
            .await
            .unwrap()
            .unwrap()
            .int("n");
    }
    n
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Reads a report from the summaries and from the records, asserts that both readings are the
/// same, and answers the first.
macro_rules! both {
    ($what:expr, $report:path, $db:expr, $actor:expr, $params:expr, $now:expr) => {{
        let summaries = $report($db, $actor, $params, $now, Tally::Summaries)
            .await
            .unwrap();
        let records = $report($db, $actor, $params, $now, Tally::Records)
            .await
            .unwrap();
        assert_eq!(summaries.body, records.body, "{}: the JSON", $what);
        assert_eq!(summaries.rows, records.rows, "{}: the rows", $what);
        summaries
    }};
}

/// Every report that reads the summaries, read both ways over October and over the first
/// half of it, for `actor`; answers the total of leads by source over October.
async fn assert_reports_match(app: &TestApp, actor: &Actor) -> i64 {
    let now: DateTime<Utc> = app.clock_now();
    let db = &app.db;
    let mut october_leads = 0;
    for range in [("2026-10-01", "2026-10-31"), ("2026-10-01", "2026-10-15")] {
        let base = [("from", range.0), ("to", range.1)];
        for group_by in ["source", "campaign", "owner", "team", "status", "period"] {
            let mut ps = base.to_vec();
            ps.push(("group_by", group_by));
            let periods: &[Option<&str>] = if group_by == "period" {
                &[None, Some("week"), Some("month")]
            } else {
                &[None]
            };
            for period in periods {
                let mut ps = ps.clone();
                if let Some(period) = period {
                    ps.push(("period", period));
                }
                let p = params(&ps);
                let what = format!("leads by {group_by} {period:?} {range:?}");
                let report = both!(what, reports::leads_from, db, actor, &p, now);
                if group_by == "source" && range.1 == "2026-10-31" {
                    october_leads = report.body.total.leads;
                }
            }
        }
        let p = params(&base);
        both!("funnel", reports::funnel_from, db, actor, &p, now);
        both!(
            "speed to lead",
            reports::speed_to_lead_from,
            db,
            actor,
            &p,
            now
        );
        both!("activities", reports::activities_from, db, actor, &p, now);
        if actor.is_admin() {
            both!("channels", reports::channels_from, db, actor, &p, now);
        }
    }
    let p = params(&[("month", "2026-10")]);
    both!("targets", reports::targets_from, db, actor, &p, now);
    october_leads
}

/// Targets of October for every metric, for the team and for a rep, so that the targets
/// report has actuals to compare.
async fn set_targets(app: &TestApp, team: i64, rep: i64) {
    for metric in ["leads", "conversions", "won_amount", "activities"] {
        for subject in [json!({"team_id": team}), json!({"user_id": rep})] {
            let mut body = json!({"metric": metric, "month": "2026-10", "value": 10});
            body.as_object_mut()
                .unwrap()
                .extend(subject.as_object().unwrap().clone());
            let reply = app
                .call(
                    Method::PUT,
                    "/api/v1/reports/targets",
                    &app.admin_token,
                    Some(body),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
    }
}

async fn actor(app: &TestApp, user: i64) -> Actor {
    Actor::load(&app.db, user)
        .await
        .expect("reading the user")
        .expect("the user as an actor")
}

async fn admin_id(app: &TestApp) -> i64 {
    app.get("/api/v1/me", &app.admin_token).await.body["id"]
        .as_i64()
        .expect("the admin's id")
}

async fn reports_from_the_summaries_equal_a_recount_after_concurrent_writes(app: TestApp) {
    let (manager, li) = busy_october(&app).await;
    let team = app.get("/api/v1/teams", &app.admin_token).await.body["items"][0]["id"]
        .as_i64()
        .expect("the team");
    set_targets(&app, team, li.id).await;

    let admin = actor(&app, admin_id(&app).await).await;
    let all = assert_reports_match(&app, &admin).await;
    // Deals were won and follow-ups logged on the way, so those figures were compared too.
    let october = params(&[("from", "2026-10-01"), ("to", "2026-10-31")]);
    let now = app.clock_now();
    let funnel = reports::funnel_from(&app.db, &admin, &october, now, Tally::Records)
        .await
        .unwrap();
    assert!(funnel.body.items[4].count > 0, "{:?}", funnel.body);
    let logged = reports::activities_from(&app.db, &admin, &october, now, Tally::Records)
        .await
        .unwrap();
    assert!(!logged.rows.is_empty(), "{:?}", logged.body);
    let team_only = assert_reports_match(&app, &actor(&app, manager.id).await).await;
    let own = assert_reports_match(&app, &actor(&app, li.id).await).await;
    // The writes left leads to count, and each scope sees fewer than the one above it.
    assert!(
        all > team_only && team_only > own && own > 0,
        "{all} {team_only} {own}"
    );

    // While a fold moves the last changes, and after it, the reports stay the same.
    let (folded, during) =
        tokio::join!(summaries::fold(&app.db), assert_reports_match(&app, &admin));
    assert!(folded.unwrap().lead_changes > 0);
    assert_eq!(during, all);
    assert_eq!(changes(&app).await, 0, "a fold leaves no change behind");
    assert_eq!(assert_reports_match(&app, &admin).await, all);
    assert_eq!(
        assert_reports_match(&app, &actor(&app, manager.id).await).await,
        team_only
    );

    // The API answers what the records say.
    let answered = app
        .get(
            "/api/v1/reports/funnel?from=2026-10-01&to=2026-10-31",
            &manager.token,
        )
        .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    let recounted = reports::funnel_from(
        &app.db,
        &actor(&app, manager.id).await,
        &params(&[("from", "2026-10-01"), ("to", "2026-10-31")]),
        app.clock_now(),
        Tally::Records,
    )
    .await
    .unwrap();
    assert_eq!(
        answered.body,
        serde_json::to_value(&recounted.body).unwrap()
    );
}

/// Removes migration 0035 as if the database predated it, then runs the upgrade.
async fn undo_and_redo_the_upgrade(app: &TestApp) {
    let drop = if app.db.dialect() == xiansuo_store::Dialect::Postgres {
        "DROP FUNCTION leads_report() CASCADE; DROP FUNCTION opportunities_report() CASCADE; \
         DROP FUNCTION activities_report() CASCADE; \
         DROP FUNCTION report_lead_change(leads, BIGINT); \
         DROP FUNCTION report_activity_change(activities, BIGINT); \
         DROP FUNCTION report_china_day(BIGINT);"
    } else {
        "DROP TRIGGER leads_report_insert; DROP TRIGGER leads_report_update; \
         DROP TRIGGER leads_report_delete; DROP TRIGGER opportunities_report_insert; \
         DROP TRIGGER opportunities_report_update; DROP TRIGGER opportunities_report_delete; \
         DROP TRIGGER activities_report_insert; DROP TRIGGER activities_report_update; \
         DROP TRIGGER activities_report_delete;"
    };
    let mut tx = app.db.begin().await.unwrap();
    tx.execute_script(&format!(
        "{drop} DROP TABLE report_lead_status_days; DROP TABLE report_lead_source_days; \
         DROP TABLE report_lead_campaign_days; DROP TABLE report_activity_days; \
         DROP TABLE report_lead_changes; DROP TABLE report_activity_changes; \
         DROP INDEX leads_converted_opportunity_idx; DROP INDEX leads_contacted_report_idx; \
         DELETE FROM schema_migrations WHERE version = '0035_report_summaries';"
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let applied = xiansuo_app::migrate(&app.db, app.clock_now().timestamp_millis())
        .await
        .expect("the upgrade runs");
    assert_eq!(applied, vec!["0035_report_summaries"]);
}

async fn the_upgrade_fills_the_summaries_in_for_existing_records(app: TestApp) {
    let (manager, _) = busy_october(&app).await;
    undo_and_redo_the_upgrade(&app).await;
    let admin = actor(&app, admin_id(&app).await).await;
    assert!(assert_reports_match(&app, &admin).await > 0);
    assert_reports_match(&app, &actor(&app, manager.id).await).await;
}

/// The fold job, run by the job runner: after a minute of many changes it runs again ten
/// seconds later, and after a quiet one only in the next minute's slot.
async fn a_busy_minute_is_folded_again_soon_and_a_quiet_one_is_not(app: TestApp) {
    // As many changes as a busy minute leaves, netting to nothing.
    app.db
        .execute(
            &format!(
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {}) \
                 INSERT INTO report_lead_changes (day, owner_id, source, status, campaign_given, \
                 campaign, leads, won, won_amount, contacted, speed_ms, within_hour) \
                 SELECT 1790000000000, 0, 'web_form', 'new', 0, '', 1 - 2 * (n % 2), 0, 0, 0, 0, 0 \
                 FROM g",
                summaries::BUSY
            ),
            &[],
        )
        .await
        .unwrap();
    let db = &app.db;
    let queued_folds = || async move {
        db.fetch_all(
            "SELECT run_at FROM jobs WHERE kind = 'reports.fold' AND state = 'queued'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.int("run_at"))
        .collect::<Vec<_>>()
    };
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 20).unwrap();
    jobs::run_due(&app.db, &JobEnv::default(), at)
        .await
        .unwrap();
    assert_eq!(
        changes(&app).await,
        0,
        "the minute's fold moved every change"
    );
    let soon = at.timestamp_millis() + summaries::SOON_MS;
    assert_eq!(queued_folds().await, vec![soon]);

    let later = at + Duration::milliseconds(summaries::SOON_MS);
    jobs::run_due(&app.db, &JobEnv::default(), later)
        .await
        .unwrap();
    assert_eq!(
        queued_folds().await,
        Vec::<i64>::new(),
        "nothing was left to fold"
    );
}

/// Two leads of the same day, source and owner, one working and one qualified, change status
/// in opposite directions in two open transactions: the second does not wait for the first
/// (no shared row is locked), and both commit. Then two clients flip them back and forth at
/// once, and every change succeeds; the funnel still equals a recount.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opposite_status_changes_neither_wait_nor_deadlock_on_postgresql() {
    let Some(app) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 10, 10, 2, 0, 0).unwrap());
    let rep = app.user("li.rep", Role::Rep, None).await;
    let mut ids = Vec::new();
    for status in ["working", "qualified"] {
        let lead = app
            .lead(
                &app.admin_token,
                json!({"name": "客户", "source": "web_form", "owner_id": rep.id}),
            )
            .await;
        let id = lead["id"].as_i64().unwrap();
        let reply = app
            .patch(
                &format!("/api/v1/leads/{id}"),
                &app.admin_token,
                json!({ "status": status }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        ids.push(id);
    }
    let set = "UPDATE leads SET status = ? WHERE id = ?";
    let mut first = app.db.begin().await.unwrap();
    first
        .execute(set, &["qualified".into(), ids[0].into()])
        .await
        .unwrap();
    let mut second = app.db.begin().await.unwrap();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        second.execute(set, &["working".into(), ids[1].into()]),
    )
    .await
    .expect("the second change does not wait for the first to commit")
    .unwrap();
    second.commit().await.unwrap();
    first.commit().await.unwrap();

    let flips: Vec<_> = [
        (ids[0], ["working", "qualified"]),
        (ids[1], ["qualified", "working"]),
    ]
    .into_iter()
    .map(|(id, statuses)| {
        let (http, base, token) = (
            app.client.clone(),
            app.base.clone(),
            app.admin_token.clone(),
        );
        tokio::spawn(async move {
            for round in 0..40 {
                let response = http
                    .patch(format!("{base}/api/v1/leads/{id}"))
                    .bearer_auth(&token)
                    .json(&json!({ "status": statuses[round % 2] }))
                    .send()
                    .await
                    .expect("the server answers");
                assert_eq!(response.status(), StatusCode::OK, "round {round}");
            }
        })
    })
    .collect();
    for flip in flips {
        flip.await.expect("every change succeeds");
    }
    let admin = actor(&app, admin_id(&app).await).await;
    let day = params(&[("from", "2026-10-10"), ("to", "2026-10-10")]);
    let funnel = both!(
        "funnel",
        reports::funnel_from,
        &app.db,
        &admin,
        &day,
        app.clock_now()
    );
    assert_eq!(funnel.body.items[0].count, 2);
    summaries::fold(&app.db).await.unwrap();
    both!(
        "funnel",
        reports::funnel_from,
        &app.db,
        &admin,
        &day,
        app.clock_now()
    );
}
