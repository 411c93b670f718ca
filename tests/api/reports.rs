//! Analytics reports: the figures a sales manager checks, computed from leads, follow-ups,
//! conversions and won deals made through the API; the data scope of each caller; channel spend
//! and KPI targets; bad input; CSV.

use crate::on_both_databases;
use crate::support::{Reply, TestApp, TestUser};
use chrono::{Duration, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use xiansuo_core::role::Role;

on_both_databases!(
    a_manager_checks_leads_funnel_speed_activity_and_cycle_of_the_team,
    a_rep_sees_only_their_own_numbers,
    admins_record_spend_and_see_cost_per_lead_and_acquisition_cost,
    managers_set_targets_and_see_attainment,
    bad_report_parameters_are_clear_errors,
    reports_download_as_csv_with_a_bom_and_headers,
    a_rep_is_refused_spend_whatever_the_body_and_a_target_names_a_field_it_does_not_take,
);

/// October in China time, which holds every record the scenario makes.
const OCTOBER: &str = "from=2026-10-01&to=2026-10-31";

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("an id in {v}"))
}

fn ok(reply: Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// The item of a report whose `field` is `value`.
fn item<'a>(report: &'a Value, field: &str, value: Value) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items in {report}"))
        .iter()
        .find(|i| i[field] == value)
        .unwrap_or_else(|| panic!("no item with {field} = {value} in {report}"))
}

struct Team {
    team: i64,
    manager: TestUser,
    li: TestUser,
    zhao: TestUser,
}

/// A team of two reps and their manager, with October's work: Li creates four leads and Zhao
/// two at 09:00 on 20 October (China time). Zhao calls one after 10 minutes; Li calls one after
/// 30 minutes and messages another after 3 hours; Li converts both, and wins the first deal
/// (100,000) ten days later.
async fn october(app: &TestApp) -> Team {
    let team = app.team("华东一组", None).await;
    let manager = app.user("wang.manager", Role::Manager, Some(team)).await;
    let li = app.user("li.rep", Role::Rep, Some(team)).await;
    let zhao = app.user("zhao.rep", Role::Rep, Some(team)).await;
    let t0 = Utc.with_ymd_and_hms(2026, 10, 20, 1, 0, 0).unwrap();
    app.clock.set(t0);
    let lead = |token: &str, name: &str, phone: &str, source: &str, campaign: Option<&str>| {
        let body = json!({"name": name, "phone": phone, "source": source, "campaign": campaign});
        let token = token.to_owned();
        async move { id(&app.lead(&token, body).await) }
    };
    let won = lead(
        &li.token,
        "陈静",
        "13800000001",
        "web_form",
        Some("双11预热"),
    )
    .await;
    let lost_touch = lead(
        &li.token,
        "刘洋",
        "13800000002",
        "web_form",
        Some("双11预热"),
    )
    .await;
    lead(&li.token, "周杰", "13800000003", "web_form", None).await;
    lead(&li.token, "吴敏", "13800000004", "referral", None).await;
    let zhao_working = lead(&zhao.token, "孙丽", "13800000005", "event", None).await;
    lead(&zhao.token, "钱伟", "13800000006", "event", None).await;

    let log = |token: &str, lead: i64, body: Value| {
        let path = format!("/api/v1/leads/{lead}/activities");
        let token = token.to_owned();
        async move {
            let reply = app.post(&path, &token, body).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        }
    };
    app.clock.set(t0 + Duration::minutes(10));
    log(
        &zhao.token,
        zhao_working,
        json!({"type": "call", "outcome": "call_back"}),
    )
    .await;
    app.clock.set(t0 + Duration::minutes(30));
    log(
        &li.token,
        won,
        json!({"type": "call", "outcome": "visit_requested"}),
    )
    .await;
    app.clock.set(t0 + Duration::hours(3));
    log(&li.token, lost_touch, json!({"type": "wechat"})).await;

    let mut deals = Vec::new();
    for (lead, amount) in [(won, 100000), (lost_touch, 50000)] {
        let converted = ok(app
            .post(
                &format!("/api/v1/leads/{lead}/convert"),
                &li.token,
                json!({"create_opportunity": true, "opportunity": {
                    "name": "CRM 项目", "amount": amount, "stage": "proposal",
                    "expected_close_date": "2026-12-01"}}),
            )
            .await);
        deals.push(id(&converted["opportunity"]));
    }
    app.clock.set(t0 + Duration::days(10));
    ok(app
        .post(
            &format!("/api/v1/opportunities/{}/win", deals[0]),
            &li.token,
            json!({}),
        )
        .await);
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    Team {
        team,
        manager,
        li,
        zhao,
    }
}

async fn a_manager_checks_leads_funnel_speed_activity_and_cycle_of_the_team(app: TestApp) {
    let t = october(&app).await;
    let m = &t.manager.token;

    let by_source = ok(app
        .get(&format!("/api/v1/reports/leads?{OCTOBER}"), m)
        .await);
    assert_eq!(by_source["group_by"], "source");
    let web = item(&by_source, "key", json!("web_form"));
    assert_eq!(
        (&web["leads"], &web["converted"], &web["conversion_pct"]),
        (&json!(3), &json!(2), &json!(66.7))
    );
    assert_eq!(item(&by_source, "key", json!("event"))["leads"], 2);
    assert_eq!(
        by_source["total"],
        json!({"leads": 6, "converted": 2, "conversion_pct": 33.3})
    );

    let by_owner = ok(app
        .get(
            &format!("/api/v1/reports/leads?group_by=owner&{OCTOBER}"),
            m,
        )
        .await);
    let li = item(&by_owner, "key", json!(t.li.id));
    assert_eq!((&li["label"], &li["leads"]), (&json!("li.rep"), &json!(4)));
    assert_eq!(
        item(&by_owner, "key", json!(t.zhao.id))["conversion_pct"],
        0.0
    );

    let by_campaign = ok(app
        .get(
            &format!("/api/v1/reports/leads?group_by=campaign&{OCTOBER}"),
            m,
        )
        .await);
    assert_eq!(item(&by_campaign, "key", json!("双11预热"))["converted"], 2);
    assert_eq!(item(&by_campaign, "key", Value::Null)["leads"], 4);

    let by_team = ok(app
        .get(&format!("/api/v1/reports/leads?group_by=team&{OCTOBER}"), m)
        .await);
    let team = item(&by_team, "key", json!(t.team));
    assert_eq!(
        (&team["label"], &team["leads"]),
        (&json!("华东一组"), &json!(6))
    );

    let by_status = ok(app
        .get(
            &format!("/api/v1/reports/leads?group_by=status&{OCTOBER}"),
            m,
        )
        .await);
    assert_eq!(item(&by_status, "key", json!("new"))["leads"], 3);
    assert_eq!(item(&by_status, "key", json!("working"))["leads"], 1);

    for (period, bucket) in [
        ("day", "2026-10-20"),
        ("week", "2026-10-19"),
        ("month", "2026-10"),
    ] {
        let by_period = ok(app
            .get(
                &format!("/api/v1/reports/leads?group_by=period&period={period}&{OCTOBER}"),
                m,
            )
            .await);
        assert_eq!(
            by_period["items"].as_array().unwrap().len(),
            1,
            "{by_period}"
        );
        assert_eq!(item(&by_period, "key", json!(bucket))["leads"], 6);
    }

    let funnel = ok(app
        .get(&format!("/api/v1/reports/funnel?{OCTOBER}"), m)
        .await);
    let steps: Vec<(Value, Value)> = funnel["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].clone(), s["count"].clone()))
        .collect();
    assert_eq!(
        steps,
        [
            ("new", 6),
            ("working", 3),
            ("qualified", 2),
            ("converted", 2),
            ("won", 1)
        ]
        .map(|(s, n)| (json!(s), json!(n)))
    );
    assert_eq!(
        item(&funnel, "step", json!("working"))["from_previous_pct"],
        50.0
    );
    assert_eq!(
        item(&funnel, "step", json!("won"))["from_previous_pct"],
        50.0
    );
    assert_eq!(item(&funnel, "step", json!("won"))["won_amount"], 100000.0);

    let speed = ok(app
        .get(&format!("/api/v1/reports/speed-to-lead?{OCTOBER}"), m)
        .await);
    let li = item(&speed, "owner_id", json!(t.li.id));
    assert_eq!(
        (
            &li["leads"],
            &li["contacted"],
            &li["median_minutes"],
            &li["average_minutes"],
            &li["within_hour_pct"]
        ),
        (
            &json!(4),
            &json!(2),
            &json!(105.0),
            &json!(105.0),
            &json!(50.0)
        )
    );
    let zhao = item(&speed, "owner_id", json!(t.zhao.id));
    assert_eq!(
        (
            &zhao["contacted"],
            &zhao["median_minutes"],
            &zhao["within_hour_pct"]
        ),
        (&json!(1), &json!(10.0), &json!(100.0))
    );

    let activity = ok(app
        .get(&format!("/api/v1/reports/activities?{OCTOBER}"), m)
        .await);
    let li = item(&activity, "user_id", json!(t.li.id));
    assert_eq!(li["total"], 2);
    assert_eq!(li["by_type"], json!({"call": 1, "wechat": 1}));
    assert_eq!(li["by_outcome"], json!({"visit_requested": 1, "none": 1}));
    assert_eq!(item(&activity, "user_id", json!(t.zhao.id))["total"], 1);

    let cycle = ok(app
        .get(&format!("/api/v1/reports/sales-cycle?{OCTOBER}"), m)
        .await);
    let li = item(&cycle, "key", json!(t.li.id));
    assert_eq!(
        (
            &li["won"],
            &li["won_amount"],
            &li["median_days"],
            &li["average_days"]
        ),
        (&json!(1), &json!(100000.0), &json!(10.0), &json!(10.0))
    );
    let by_source = ok(app
        .get(
            &format!("/api/v1/reports/sales-cycle?group_by=source&{OCTOBER}"),
            m,
        )
        .await);
    assert_eq!(
        item(&by_source, "key", json!("web_form"))["median_days"],
        10.0
    );

    // November holds nothing yet; the default range, the 30 days to 2 November, holds October's
    // leads.
    let november = ok(app
        .get("/api/v1/reports/leads?from=2026-11-01&to=2026-11-30", m)
        .await);
    assert_eq!(november["total"]["leads"], 0);
    let default = ok(app.get("/api/v1/reports/leads", m).await);
    assert_eq!(default["total"]["leads"], 6);
    assert_eq!(default["to"], "2026-11-02T16:00:00.000Z");
}

async fn a_rep_sees_only_their_own_numbers(app: TestApp) {
    let t = october(&app).await;
    let z = &t.zhao.token;
    let leads = ok(app
        .get(
            &format!("/api/v1/reports/leads?group_by=owner&{OCTOBER}"),
            z,
        )
        .await);
    assert_eq!(leads["items"].as_array().unwrap().len(), 1, "{leads}");
    assert_eq!(item(&leads, "key", json!(t.zhao.id))["leads"], 2);

    let funnel = ok(app
        .get(&format!("/api/v1/reports/funnel?{OCTOBER}"), z)
        .await);
    assert_eq!(item(&funnel, "step", json!("new"))["count"], 2);
    assert_eq!(item(&funnel, "step", json!("won"))["count"], 0);

    let speed = ok(app
        .get(&format!("/api/v1/reports/speed-to-lead?{OCTOBER}"), z)
        .await);
    assert_eq!(speed["items"].as_array().unwrap().len(), 1);
    let activity = ok(app
        .get(&format!("/api/v1/reports/activities?{OCTOBER}"), z)
        .await);
    assert_eq!(activity["items"].as_array().unwrap().len(), 1);
    assert_eq!(activity["items"][0]["user_id"], t.zhao.id);
    let cycle = ok(app
        .get(&format!("/api/v1/reports/sales-cycle?{OCTOBER}"), z)
        .await);
    assert_eq!(cycle["items"], json!([]));

    // Spend is a whole channel's: only an admin sees cost per lead.
    app.get(&format!("/api/v1/reports/channels?{OCTOBER}"), z)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // Li's deal is hers alone.
    let li_cycle = ok(app
        .get(
            &format!("/api/v1/reports/sales-cycle?{OCTOBER}"),
            &t.li.token,
        )
        .await);
    assert_eq!(li_cycle["items"][0]["won"], 1);
}

async fn admins_record_spend_and_see_cost_per_lead_and_acquisition_cost(app: TestApp) {
    let t = october(&app).await;
    let a = &app.admin_token;
    let spend = |body: Value| app.post("/api/v1/reports/costs", a, body);
    let first = spend(json!({"source": "web_form", "month": "2026-10", "amount": 3000})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    // Recording the month again replaces the amount.
    let again = spend(json!({"source": "web_form", "month": "2026-10", "amount": 4500.5})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    let campaign = spend(
        json!({"source": "web_form", "campaign": "双11预热", "month": "2026-10", "amount": 1500}),
    )
    .await;
    assert_eq!(campaign.status, StatusCode::CREATED, "{}", campaign.body);
    let event = spend(json!({"source": "event", "month": "2026-10", "amount": 8000})).await;
    assert_eq!(event.status, StatusCode::CREATED, "{}", event.body);
    // Another month does not count for October.
    let later = spend(json!({"source": "event", "month": "2026-11", "amount": 999})).await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.body);

    let listed = ok(app
        .get("/api/v1/reports/costs?from=2026-10&to=2026-10", a)
        .await);
    assert_eq!(listed["items"].as_array().unwrap().len(), 3, "{listed}");

    let channels = ok(app
        .get(&format!("/api/v1/reports/channels?{OCTOBER}"), a)
        .await);
    let web = item(&channels, "source", json!("web_form"));
    assert_eq!(
        (
            &web["leads"],
            &web["converted"],
            &web["won"],
            &web["spend"],
            &web["cost_per_lead"],
            &web["acquisition_cost"]
        ),
        (
            &json!(3),
            &json!(2),
            &json!(1),
            &json!(6000.5),
            &json!(2000.17),
            &json!(6000.5)
        )
    );
    let event = item(&channels, "source", json!("event"));
    assert_eq!(
        (
            &event["spend"],
            &event["cost_per_lead"],
            &event["acquisition_cost"]
        ),
        (&json!(8000.0), &json!(4000.0), &Value::Null)
    );
    assert_eq!(channels["total"]["spend"], 14000.5);

    // Deleting a cost takes it out of the report.
    app.call(Method::DELETE, "/api/v1/reports/costs/999999", a, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let event_cost = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "event")
        .unwrap()
        .clone();
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/v1/reports/costs/{}", id(&event_cost)),
            a,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let channels = ok(app
        .get(&format!("/api/v1/reports/channels?{OCTOBER}"), a)
        .await);
    assert_eq!(item(&channels, "source", json!("event"))["spend"], 0.0);

    // Only admins record spend; amounts are money.
    app.post(
        "/api/v1/reports/costs",
        &t.manager.token,
        json!({"source": "ad", "month": "2026-10", "amount": 1}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // A source is one of the list's: by its label too, and nothing else.
    let by_label = spend(json!({"source": "展会活动", "month": "2026-09", "amount": 10})).await;
    assert_eq!(by_label.status, StatusCode::CREATED, "{}", by_label.body);
    assert_eq!(by_label.body["source"], "event");
    let unknown = spend(json!({"source": "0*", "month": "2026-10", "amount": 10})).await;
    unknown.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(unknown.body["error"]["field"], "source");
    let negative = spend(json!({"source": "ad", "month": "2026-10", "amount": -5})).await;
    negative.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(negative.body["error"]["field"], "amount");
    let bad_month = spend(json!({"source": "ad", "month": "October", "amount": 5})).await;
    bad_month.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(bad_month.body["error"]["field"], "month");
    spend(json!({"month": "2026-10", "amount": 5}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

async fn managers_set_targets_and_see_attainment(app: TestApp) {
    let t = october(&app).await;
    let other_team = app.team("华南一组", None).await;
    let outsider = app.user("huang.rep", Role::Rep, Some(other_team)).await;
    let shared = &app;
    let put = |token: &str, body: Value| {
        let token = token.to_owned();
        async move {
            shared
                .call(Method::PUT, "/api/v1/reports/targets", &token, Some(body))
                .await
        }
    };
    let m = &t.manager.token;
    for body in [
        json!({"user_id": t.li.id, "metric": "leads", "month": "2026-10", "value": 8}),
        json!({"user_id": t.li.id, "metric": "activities", "month": "2026-10", "value": 4}),
        json!({"user_id": t.zhao.id, "metric": "conversions", "month": "2026-10", "value": 2}),
        json!({"team_id": t.team, "metric": "won_amount", "month": "2026-10", "value": 400000}),
        json!({"team_id": t.team, "metric": "leads", "month": "2026-10", "value": 20}),
        // Set again: replaced.
        json!({"user_id": t.li.id, "metric": "leads", "month": "2026-10", "value": 5}),
    ] {
        ok(put(m, body).await);
    }
    // A manager sets targets only inside their subtree; reps set none.
    put(
        m,
        json!({"user_id": outsider.id, "metric": "leads", "month": "2026-10", "value": 1}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    put(
        m,
        json!({"team_id": other_team, "metric": "leads", "month": "2026-10", "value": 1}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    put(
        &t.li.token,
        json!({"user_id": t.li.id, "metric": "leads", "month": "2026-10", "value": 99}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let bad = put(
        m,
        json!({"user_id": t.li.id, "metric": "calls", "month": "2026-10", "value": 1}),
    )
    .await;
    bad.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(bad.body["error"]["field"], "metric");

    let targets = ok(app.get("/api/v1/reports/targets?month=2026-10", m).await);
    assert_eq!(targets["month"], "2026-10");
    let find = |subject: &str, id: i64, metric: &str| {
        targets["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["subject"] == subject && i["id"] == id && i["metric"] == metric)
            .unwrap_or_else(|| panic!("no {subject} {id} {metric} in {targets}"))
            .clone()
    };
    let li_leads = find("user", t.li.id, "leads");
    assert_eq!(
        (
            &li_leads["target"],
            &li_leads["actual"],
            &li_leads["attainment_pct"]
        ),
        (&json!(5), &json!(4), &json!(80.0))
    );
    assert_eq!(find("user", t.li.id, "activities")["attainment_pct"], 50.0);
    let zhao = find("user", t.zhao.id, "conversions");
    assert_eq!(
        (&zhao["actual"], &zhao["attainment_pct"]),
        (&json!(0), &json!(0.0))
    );
    let won = find("team", t.team, "won_amount");
    assert_eq!(
        (
            &won["name"],
            &won["target"],
            &won["actual"],
            &won["attainment_pct"]
        ),
        (
            &json!("华东一组"),
            &json!(400000.0),
            &json!(100000.0),
            &json!(25.0)
        )
    );
    assert_eq!(find("team", t.team, "leads")["actual"], 6);
    assert_eq!(targets["items"].as_array().unwrap().len(), 5);

    // A rep sees their own targets only; another month has none.
    let li = ok(app
        .get("/api/v1/reports/targets?month=2026-10", &t.li.token)
        .await);
    assert_eq!(li["items"].as_array().unwrap().len(), 2, "{li}");
    let none = ok(app.get("/api/v1/reports/targets?month=2026-09", m).await);
    assert_eq!(none["items"], json!([]));
}

async fn bad_report_parameters_are_clear_errors(app: TestApp) {
    let a = &app.admin_token;
    for (query, field) in [
        ("/api/v1/reports/leads?from=2026-13-01", "from"),
        ("/api/v1/reports/leads?to=last+week", "to"),
        ("/api/v1/reports/leads?group_by=country", "group_by"),
        (
            "/api/v1/reports/leads?group_by=period&period=hour",
            "period",
        ),
        ("/api/v1/reports/leads?period=week", "period"),
        ("/api/v1/reports/funnel?from=2026-10-31&to=2026-10-01", "to"),
        ("/api/v1/reports/speed-to-lead?owner=3", "owner"),
        ("/api/v1/reports/sales-cycle?group_by=team", "group_by"),
        ("/api/v1/reports/activities?format=xml", "format"),
        ("/api/v1/reports/targets?month=2026-10-40", "month"),
        ("/api/v1/reports/costs?from=2026-11&to=2026-10", "to"),
    ] {
        let reply = app.get(query, a).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(
            reply.body["error"]["field"], field,
            "{query}: {}",
            reply.body
        );
    }
    let reply = app.get("/api/v1/reports/leads?group_by=country", a).await;
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("source, campaign, owner"), "{message}");
    let reply = app
        .get("/api/v1/reports/funnel?from=2026-10-31&to=2026-10-01", a)
        .await;
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after from"),
        "{}",
        reply.body
    );
    let reply = app
        .call(
            Method::PUT,
            "/api/v1/reports/targets",
            a,
            Some(json!({"user_id": 1, "metric": "leads", "month": "2026-10", "value": -1})),
        )
        .await;
    reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(reply.body["error"]["field"], "value");
}

async fn reports_download_as_csv_with_a_bom_and_headers(app: TestApp) {
    let t = october(&app).await;
    let response = app
        .client
        .get(format!(
            "{}/api/v1/reports/leads?format=csv&{OCTOBER}",
            app.base
        ))
        .bearer_auth(&t.manager.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"leads-"));
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "source,label,leads,converted,conversion_pct");
    assert!(lines.contains(&"web_form,web_form,3,2,66.7"), "{text}");

    let response = app
        .client
        .get(format!(
            "{}/api/v1/reports/speed-to-lead?format=csv&{OCTOBER}",
            app.base
        ))
        .bearer_auth(&t.manager.token)
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(text.starts_with(
        "\u{feff}owner_id,owner,leads,contacted,median_minutes,average_minutes,within_hour_pct\n"
    ));
    assert!(
        text.contains(&format!("{},li.rep,4,2,105.0,105.0,50.0", t.li.id)),
        "{text}"
    );
}

async fn a_rep_is_refused_spend_whatever_the_body_and_a_target_names_a_field_it_does_not_take(
    app: TestApp,
) {
    let rep = app.user("wang.rep", Role::Rep, None).await;
    // Only admins record spend: a rep is told so, not what is wrong with the body.
    for body in [
        json!({"source": 7, "month": "October", "amount": "很多", "colour": "red"}),
        json!(["web_form", "2026-10", 3000]),
    ] {
        app.post("/api/v1/reports/costs", &rep.token, body)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    // An admin's target with a field it does not take is refused, naming the field, and
    // nothing is set.
    let reply = app
        .call(
            Method::PUT,
            "/api/v1/reports/targets",
            &app.admin_token,
            Some(json!({
                "user_id": rep.id, "metric": "leads", "month": "2026-10", "value": 5,
                "colour": "red"
            })),
        )
        .await;
    reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(reply.body["error"]["field"], "colour", "{}", reply.body);
    let targets = ok(app
        .get("/api/v1/reports/targets?month=2026-10", &app.admin_token)
        .await);
    assert_eq!(targets["items"], json!([]), "{targets}");
}
