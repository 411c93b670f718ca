//! The public pool (公海) pages: the pools the user belongs to (or one of them) with the leads
//! waiting in them, a page at a time (phones masked until claimed, as the API shows them),
//! narrowed by source, region, tier, creation dates and a search when asked, and
//! how many more the user may claim; claiming a lead after a confirmation that shows the
//! pool's remaining limits; and returning a held lead to the pool from its page. A claim the
//! pool's limits or cool-down refuse is shown on the pool page with the store's reason, not
//! as an error page.

use super::i18n::Texts;
use super::lead_list::{phone_shown, with_all, PhoneShown};
use super::leads::{ctx, invalid_text, lead_page, lead_url, parse_id, text_of, ReleaseForm};
use super::list_texts::{fill, list_texts, ListTexts};
use super::page::{
    csrf_refusal, lead_not_found, render, store_error_page, Choice, Chrome, Viewer, Zone,
};
use super::report_texts::report_texts;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use xiansuo_app::leads::pool::{self, Allowance, LeadRelease, PoolClaim};
use xiansuo_app::StoreError;
use xiansuo_core::choice::{ChoiceKind, Choices};
use xiansuo_core::lead::Tier;

/// Leads shown per pool and page.
const LEADS_PER_POOL: &str = "20";

struct PoolLead {
    id: i64,
    name: String,
    company: String,
    phone: Option<PhoneShown>,
    region: String,
    source: String,
    created: String,
}

struct PoolView {
    id: i64,
    name: String,
    count: i64,
    leads: Vec<PoolLead>,
    /// How many more the user may claim here, when the pool limits it.
    may_claim: Option<String>,
    shown: String,
    more_url: Option<String>,
    first_url: Option<String>,
}

#[derive(Template)]
#[template(path = "pool.html")]
struct PoolPage {
    chrome: Chrome,
    l: &'static ListTexts,
    pools: Vec<PoolView>,
    /// The pool filter, when the user belongs to more than one.
    choices: Vec<Choice>,
    sources: Vec<Choice>,
    tiers: Vec<Choice>,
    province: String,
    city: String,
    created_from: String,
    created_to: String,
    q: String,
    /// Some filter besides the pool is set.
    filtered: bool,
    /// Why the filters asked for were left out.
    filter_error: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
}

/// The pool page's address: a notice, one pool or all, the filters of the pools' lists, and
/// per pool the cursor of the page shown (`after_POOL`).
#[derive(Default)]
pub(super) struct PoolQuery {
    returned: bool,
    pool: String,
    /// The filters given, by their name in [`pool::POOL_FILTERS`].
    filters: Vec<(String, String)>,
    /// Why the filters asked for were left out.
    refused_filters: Option<String>,
    cursors: Vec<(i64, String)>,
}

impl PoolQuery {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut query = PoolQuery::default();
        for (name, value) in pairs {
            match name.as_str() {
                "returned" => query.returned = !value.is_empty(),
                "pool" => query.pool = value.trim().to_owned(),
                _ if pool::POOL_FILTERS.contains(&name.as_str()) => {
                    let value = value.trim();
                    query.filters.retain(|(n, _)| *n != name);
                    if !value.is_empty() {
                        query.filters.push((name, value.to_owned()));
                    }
                }
                _ => {
                    if let Some(id) = name.strip_prefix("after_").and_then(|i| i.parse().ok()) {
                        query.cursors.push((id, value));
                    }
                }
            }
        }
        query
    }

    /// The value of a filter, empty when not given.
    fn filter(&self, name: &str) -> &str {
        self.filters
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn cursor(&self, pool: i64) -> Option<&str> {
        self.cursors
            .iter()
            .find(|(p, _)| *p == pool)
            .map(|(_, c)| c.as_str())
    }

    /// This page with `pool`'s list at `cursor` (its first page when `None`).
    fn url(&self, pool: i64, cursor: Option<&str>) -> String {
        let mut pairs: Vec<(String, &str)> = Vec::new();
        if !self.pool.is_empty() {
            pairs.push(("pool".into(), &self.pool));
        }
        for (name, value) in &self.filters {
            pairs.push((name.clone(), value));
        }
        for (p, c) in &self.cursors {
            if *p != pool {
                pairs.push((format!("after_{p}"), c));
            }
        }
        if let Some(c) = cursor {
            pairs.push((format!("after_{pool}"), c));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            format!("/pool#pool-{pool}")
        } else {
            format!("/pool?{query}#pool-{pool}")
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ClaimForm {
    csrf_token: String,
    lead_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ReleasePost {
    csrf_token: String,
    reason: String,
}

fn pool_lead(t: &Texts, zone: Zone, choices: &Choices, lead: &Value) -> PoolLead {
    let region = [text_of(&lead["province"]), text_of(&lead["city"])]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    PoolLead {
        id: lead["id"].as_i64().unwrap_or_default(),
        name: text_of(&lead["name"]),
        company: text_of(&lead["company"]),
        phone: phone_shown(lead),
        region,
        source: choices
            .label(
                ChoiceKind::Source,
                lead["source"].as_str().unwrap_or_default(),
                t.lang,
            )
            .to_owned(),
        created: zone.date(lead["created_at"].as_str().unwrap_or_default()),
    }
}

/// How many more leads the user may claim from a pool, as the pages say it; `None` when the
/// pool sets no limit.
fn may_claim(l: &ListTexts, allowance: &Allowance) -> Option<String> {
    allowance
        .may_claim
        .map(|n| fill(l.pool_may_claim, &[("n", &n.to_string())]))
}

/// The pool page, with a refused claim's reason above the pools.
async fn pool_page(
    state: &AppState,
    user: &Viewer,
    query: &PoolQuery,
    error: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let chrome = Chrome::for_user(user, "/pool");
    let t = chrome.t;
    let l = list_texts(t.lang);
    // The date fields send dates; anything else is said in the user's words.
    let bad_date = [
        ("created_from", l.created_from),
        ("created_to", l.created_to),
    ]
    .into_iter()
    .find(|(name, _)| {
        let value = query.filter(name);
        !value.is_empty() && NaiveDate::parse_from_str(value, "%Y-%m-%d").is_err()
    });
    if let Some((_, label)) = bad_date {
        let plain = PoolQuery {
            pool: query.pool.clone(),
            refused_filters: Some(format!("{label}: {}", report_texts(t.lang).bad_date)),
            ..PoolQuery::default()
        };
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return Box::pin(pool_page(state, user, &plain, error, notice, status)).await;
    }
    let loaded = async {
        let mut pools = Vec::new();
        let all = pool::list(&state.db, &user.actor).await?.items;
        let choices: Vec<Choice> = if all.len() > 1 {
            std::iter::once(Choice::new("", t.all, &query.pool))
                .chain(
                    all.iter()
                        .map(|p| Choice::new(p.id.to_string(), &p.name, &query.pool)),
                )
                .collect()
        } else {
            Vec::new()
        };
        for p in &all {
            let id = p.id;
            if !query.pool.is_empty() && query.pool != id.to_string() {
                continue;
            }
            let mut params = vec![("limit".to_owned(), LEADS_PER_POOL.to_owned())];
            params.extend(query.filters.iter().cloned());
            if let Some(cursor) = query.cursor(id) {
                params.push(("cursor".to_owned(), cursor.to_owned()));
            }
            let page = pool::leads(&state.db, &user.actor, id, &params).await?;
            let (leads, next) = (page.items, page.next_cursor);
            let allowance = pool::allowance(ctx(state, user), id).await?;
            let count = p.lead_count;
            pools.push(PoolView {
                id,
                name: p.name.clone(),
                count,
                shown: fill(
                    l.pool_shown,
                    &[
                        ("shown", &leads.len().to_string()),
                        ("count", &count.to_string()),
                    ],
                ),
                leads: leads
                    .iter()
                    .map(|lead| pool_lead(t, user.zone, &user.choices, lead))
                    .collect(),
                may_claim: may_claim(l, &allowance),
                more_url: next.as_deref().map(|c| query.url(id, Some(c))),
                first_url: query.cursor(id).map(|_| query.url(id, None)),
            });
        }
        Ok::<_, StoreError>((pools, choices))
    };
    let (pools, choices) = match loaded.await {
        Ok(loaded) => loaded,
        Err(StoreError::Invalid(invalid)) if !query.filters.is_empty() => {
            // A filter that is not one: the pools without the filters, and why.
            let plain = PoolQuery {
                pool: query.pool.clone(),
                refused_filters: Some(invalid_text(t, &invalid)),
                ..PoolQuery::default()
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Box::pin(pool_page(state, user, &plain, None, None, status)).await;
        }
        Err(e) => return store_error_page(chrome, e),
    };
    let page = PoolPage {
        l,
        pools,
        choices,
        sources: with_all(
            t,
            query.filter("source"),
            user.choices
                .active(ChoiceKind::Source)
                .map(|s| (s.code.clone(), s.label(t.lang).to_owned())),
        ),
        tiers: with_all(
            t,
            query.filter("tier"),
            Tier::ALL
                .iter()
                .map(|c| (c.code().to_owned(), c.label(t.lang).to_owned())),
        ),
        province: query.filter("province").to_owned(),
        city: query.filter("city").to_owned(),
        created_from: query.filter("created_from").to_owned(),
        created_to: query.filter("created_to").to_owned(),
        q: query.filter("q").to_owned(),
        filtered: !query.filters.is_empty(),
        filter_error: query.refused_filters.clone(),
        error,
        notice,
        chrome,
    };
    render(status, &page)
}

/// `GET /pool?pool=&source=&province=&city=&tier=&created_from=&created_to=&q=&after_POOL=`
pub(super) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let t = super::i18n::texts(&user.actor.locale);
    let query = PoolQuery::from_pairs(pairs);
    let notice = query.returned.then_some(t.returned_to_pool);
    pool_page(&state, &user, &query, None, notice, StatusCode::OK).await
}

#[derive(Template)]
#[template(path = "pool_claim.html")]
struct ClaimPage {
    chrome: Chrome,
    l: &'static ListTexts,
    csrf: String,
    pool_id: i64,
    lead_id: i64,
    intro: String,
    /// The pool's limits as they stand for the user.
    limits: Vec<String>,
    blocked: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ClaimQuery {
    lead_id: String,
}

/// `GET /pool/{id}/claim?lead_id=`: the confirmation, with what the pool still allows.
pub(super) async fn confirm_claim(
    State(state): State<AppState>,
    user: Viewer,
    Path(pool_id): Path<String>,
    Query(query): Query<ClaimQuery>,
) -> Response {
    let chrome = Chrome::for_user(&user, "/pool");
    let l = list_texts(chrome.t.lang);
    let (Some(pool_id), Some(lead_id)) = (parse_id(&pool_id), parse_id(query.lead_id.trim()))
    else {
        return store_error_page(chrome, StoreError::NotFound("Pool"));
    };
    let loaded = async {
        let p = pool::get(&state.db, &user.actor, pool_id).await?;
        let allowance = pool::allowance(ctx(&state, &user), pool_id).await?;
        Ok::<_, StoreError>((p, allowance))
    };
    let (p, allowance) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(chrome, e),
    };
    let mut limits = Vec::new();
    if let Some(max) = allowance.max_held {
        let held = allowance.held.to_string();
        limits.push(fill(
            l.pool_held,
            &[("held", &held), ("max", &max.to_string())],
        ));
    }
    if let Some(max) = allowance.max_claims_per_day {
        let today = allowance.claimed_today.to_string();
        limits.push(fill(
            l.pool_today,
            &[("today", &today), ("max", &max.to_string())],
        ));
    }
    limits.push(may_claim(l, &allowance).unwrap_or_else(|| l.pool_no_limit.to_owned()));
    let page = ClaimPage {
        l,
        csrf: user.csrf.clone(),
        pool_id,
        lead_id,
        intro: fill(l.pool_claim_intro, &[("pool", &p.name)]),
        limits,
        blocked: allowance.may_claim == Some(0),
        chrome,
    };
    render(StatusCode::OK, &page)
}

/// `POST /pool/{id}/claim`: the lead becomes the user's, and its page opens.
pub(super) async fn claim(
    State(state): State<AppState>,
    user: Viewer,
    Path(pool_id): Path<String>,
    Form(form): Form<ClaimForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let t = super::i18n::texts(&user.actor.locale);
    let (Some(pool_id), Some(lead_id)) = (parse_id(&pool_id), parse_id(form.lead_id.trim())) else {
        return store_error_page(
            Chrome::for_user(&user, "/pool"),
            StoreError::NotFound("Pool"),
        );
    };
    let claim = PoolClaim {
        lead_ids: vec![lead_id],
    };
    match pool::claim(ctx(&state, &user), pool_id, claim.into()).await {
        Ok(_) => Redirect::to(&lead_url(lead_id)).into_response(),
        Err(StoreError::Conflict(message)) => {
            let message = t.message(&message);
            let query = PoolQuery::default();
            pool_page(
                &state,
                &user,
                &query,
                Some(message),
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(StoreError::Invalid(invalid)) => {
            let message = invalid_text(t, &invalid);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let query = PoolQuery::default();
            pool_page(&state, &user, &query, Some(message), None, status).await
        }
        Err(e) => store_error_page(Chrome::for_user(&user, "/pool"), e),
    }
}

/// `POST /leads/{id}/release`: the owner returns the lead to the pool with a reason.
pub(super) async fn release(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ReleasePost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return lead_not_found(Chrome::for_user(&user, "/leads"));
    };
    let t = super::i18n::texts(&user.actor.locale);
    let release = LeadRelease {
        reason: form.reason.clone(),
        pool_id: None,
    };
    let (message, status) = match pool::release(ctx(&state, &user), id, release.into()).await {
        Ok(_) => return Redirect::to("/pool?returned=1").into_response(),
        Err(StoreError::Invalid(invalid)) => {
            (t.invalid(&invalid), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(StoreError::Conflict(message)) => (t.message(&message), StatusCode::CONFLICT),
        Err(e) => return store_error_page(Chrome::for_user(&user, lead_url(id)), e),
    };
    let release = ReleaseForm {
        reason: form.reason,
        error: Some(message),
    };
    lead_page(&state, &user, id, None, None, Some(release), status).await
}
