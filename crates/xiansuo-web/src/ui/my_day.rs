//! "My day" (今日待办): one page with what a rep should do today — planned follow-ups that are
//! due or overdue, leads newly given to them, SLA warnings, leads about to be recycled to the
//! pool, and pool leads they may claim. A manager sees the same for everyone in their scope.
//! Each list comes from the store with the signed-in user as the actor.

use super::i18n::Texts;
use super::leads::{text_of, username, usernames};
use super::page::{render, store_error_page, thousands, Chrome, Viewer, Zone};
use super::sales_texts::{sales_texts, SalesTexts};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use serde_json::Value;
use std::collections::HashMap;
use xiansuo_app::leads::followups::{self, DueFollowUp};
use xiansuo_app::leads::my_day::{self, NoticeKind};
use xiansuo_app::leads::pool;
use xiansuo_app::StoreError;
use xiansuo_core::lead::ActivityType;

/// Follow-ups shown at most.
const FOLLOW_UPS: &str = "50";
/// Notices of each kind shown at most.
const NOTICES: i64 = 20;
/// How far back notices are shown.
const NOTICE_DAYS: i64 = 3;
/// Pool leads shown per pool.
const POOL_LEADS: &str = "5";

struct FollowUp {
    url: String,
    name: String,
    when: String,
    overdue: bool,
    kind: String,
    owner: String,
}

struct Notice {
    url: String,
    name: String,
    message: String,
    when: String,
    /// Whom it was addressed to, shown to a manager.
    to: String,
}

struct PoolLead {
    pool_id: i64,
    pool: String,
    lead_id: i64,
    name: String,
    company: String,
}

/// One list on the page.
struct Block<T> {
    id: &'static str,
    title: &'static str,
    empty: &'static str,
    items: Vec<T>,
}

#[derive(Template)]
#[template(path = "my_day.html")]
struct MyDayPage {
    chrome: Chrome,
    s: &'static SalesTexts,
    csrf: String,
    /// Whether the lists cover others than the user (a manager's or an admin's).
    team: bool,
    summary: Vec<(&'static str, String)>,
    follow_ups: Block<FollowUp>,
    notices: Vec<Block<Notice>>,
    pool: Block<PoolLead>,
}

fn record_path(record_type: &str) -> &'static str {
    match record_type {
        "account" => "/accounts",
        "contact" => "/contacts",
        "opportunity" => "/opportunities",
        _ => "/leads",
    }
}

fn follow_up(t: &Texts, zone: Zone, people: &HashMap<i64, String>, item: &DueFollowUp) -> FollowUp {
    let kind = &item.kind;
    FollowUp {
        url: format!("{}/{}", record_path(&item.record_type), item.record_id),
        name: item.record_name.clone(),
        when: zone.time(&item.due_at),
        overdue: item.overdue,
        kind: ActivityType::parse(kind).map_or(kind.clone(), |a| a.label(t.lang).to_owned()),
        owner: people.get(&item.owner_id).cloned().unwrap_or_default(),
    }
}

fn notice(zone: Zone, people: &HashMap<i64, String>, item: &Value) -> Notice {
    Notice {
        url: format!("/leads/{}", item["lead_id"]),
        name: text_of(&item["lead_name"]),
        message: text_of(&item["message"]),
        when: zone.time(item["created_at"].as_str().unwrap_or_default()),
        to: username(people, &item["user_id"]),
    }
}

/// `GET /today`
pub(super) async fn page(State(state): State<AppState>, user: Viewer) -> Response {
    let chrome = Chrome::for_user(&user, "/today");
    let t = chrome.t;
    let s = sales_texts(&user.actor.locale);
    let now = state.clock.now();
    let since = now - Duration::days(NOTICE_DAYS);
    let loaded = async {
        let params = [
            ("when".to_owned(), "due".to_owned()),
            ("limit".to_owned(), FOLLOW_UPS.to_owned()),
        ];
        let due = followups::due(&state.db, &user.actor, &params, now)
            .await?
            .items;
        let mut notices = Vec::new();
        for kind in [
            NoticeKind::Sla,
            NoticeKind::RecycleWarning,
            NoticeKind::Assigned,
        ] {
            notices.push(my_day::notices(&state.db, &user.actor, kind, since, NOTICES).await?);
        }
        let mut pool_leads = Vec::new();
        for p in pool::list(&state.db, &user.actor).await?.items {
            let id = p.id;
            let params = [("limit".to_owned(), POOL_LEADS.to_owned())];
            let leads = pool::leads(&state.db, &user.actor, id, &params)
                .await?
                .items;
            pool_leads.extend(leads.into_iter().map(|l| PoolLead {
                pool_id: id,
                pool: p.name.clone(),
                lead_id: l["id"].as_i64().unwrap_or_default(),
                name: text_of(&l["name"]),
                company: text_of(&l["company"]),
            }));
        }
        Ok::<_, StoreError>((due, notices, pool_leads, usernames(&state).await?))
    };
    let (due, notices, pool_leads, people) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(chrome, e),
    };
    let follow_ups: Vec<FollowUp> = due
        .iter()
        .map(|i| follow_up(t, user.zone, &people, i))
        .collect();
    let overdue = follow_ups.iter().filter(|f| f.overdue).count() as i64;
    let mut notices = notices.into_iter();
    let mut block = |id, title, empty| Block {
        id,
        title,
        empty,
        items: notices
            .next()
            .unwrap_or_default()
            .iter()
            .map(|n| notice(user.zone, &people, n))
            .collect::<Vec<_>>(),
    };
    let sla = block("sla", s.sla_warnings, s.no_sla_warnings);
    let recycle = block("recycle", s.about_to_recycle, s.nothing_to_recycle);
    let assigned = block("assigned", s.new_assignments, s.no_new_assignments);
    let summary = vec![
        (s.overdue, thousands(overdue)),
        (s.due_today, thousands(follow_ups.len() as i64 - overdue)),
        (s.new_assignments, thousands(assigned.items.len() as i64)),
        (s.sla_warnings, thousands(sla.items.len() as i64)),
        (s.about_to_recycle, thousands(recycle.items.len() as i64)),
    ];
    let page = MyDayPage {
        s,
        csrf: user.csrf.clone(),
        team: user
            .actor
            .visible_owners
            .as_ref()
            .is_none_or(|ids| ids.len() > 1),
        summary,
        follow_ups: Block {
            id: "follow-ups",
            title: s.due_follow_ups,
            empty: s.no_due_follow_ups,
            items: follow_ups,
        },
        notices: vec![sla, recycle, assigned],
        pool: Block {
            id: "pool",
            title: s.pool_to_claim,
            empty: s.nothing_to_claim,
            items: pool_leads,
        },
        chrome,
    };
    render(StatusCode::OK, &page)
}
