//! The public pool (公海) pages: the pools the user belongs to with the leads waiting in them
//! (phones masked until claimed, as the API shows them), claiming a lead, and returning a held
//! lead to the pool from its page. A claim the pool's limits or cool-down refuse is shown on
//! the pool page with the store's reason, not as an error page.

use super::i18n::Texts;
use super::leads::{ctx, invalid_text, lead_page, lead_url, parse_id, text_of, ReleaseForm};
use super::page::{
    csrf_refusal, lead_not_found, local_date, render, store_error_page, Chrome, Viewer,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Value};
use xiansuo_app::leads::pool;
use xiansuo_app::StoreError;

/// Leads shown per pool.
const LEADS_PER_POOL: &str = "50";

struct PoolLead {
    id: i64,
    name: String,
    company: String,
    phone: String,
    region: String,
    source: String,
    created: String,
}

struct PoolView {
    id: i64,
    name: String,
    count: i64,
    leads: Vec<PoolLead>,
}

#[derive(Template)]
#[template(path = "pool.html")]
struct PoolPage {
    chrome: Chrome,
    csrf: String,
    pools: Vec<PoolView>,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PoolQuery {
    returned: String,
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

fn pool_lead(t: &Texts, lead: &Value) -> PoolLead {
    let region = [text_of(&lead["province"]), text_of(&lead["city"])]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    PoolLead {
        id: lead["id"].as_i64().unwrap_or_default(),
        name: text_of(&lead["name"]),
        company: text_of(&lead["company"]),
        phone: text_of(&lead["phone"]),
        region,
        source: t.source_label(&text_of(&lead["source"])).to_owned(),
        created: local_date(lead["created_at"].as_str().unwrap_or_default()),
    }
}

/// The pool page, with a refused claim's reason above the pools.
async fn pool_page(
    state: &AppState,
    user: &Viewer,
    error: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let chrome = Chrome::for_user(user, "/pool");
    let t = chrome.t;
    let loaded = async {
        let mut pools = Vec::new();
        for p in pool::list(&state.db, &user.actor).await? {
            let Some(id) = p["id"].as_i64() else { continue };
            let params = [("limit".to_owned(), LEADS_PER_POOL.to_owned())];
            let (leads, _) = pool::leads(&state.db, &user.actor, id, &params).await?;
            pools.push(PoolView {
                id,
                name: text_of(&p["name"]),
                count: p["lead_count"].as_i64().unwrap_or_default(),
                leads: leads.iter().map(|l| pool_lead(t, l)).collect(),
            });
        }
        Ok::<_, StoreError>(pools)
    };
    let pools = match loaded.await {
        Ok(pools) => pools,
        Err(e) => return store_error_page(chrome, e),
    };
    let page = PoolPage {
        csrf: user.csrf.clone(),
        pools,
        error,
        notice,
        chrome,
    };
    render(status, &page)
}

/// `GET /pool`
pub(super) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<PoolQuery>,
) -> Response {
    let t = super::i18n::texts(&user.actor.locale);
    let notice = (!query.returned.is_empty()).then_some(t.returned_to_pool);
    pool_page(&state, &user, None, notice, StatusCode::OK).await
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
    let body = json!({ "lead_ids": [lead_id] });
    match pool::claim(ctx(&state, &user), pool_id, &body).await {
        Ok(_) => Redirect::to(&lead_url(lead_id)).into_response(),
        Err(StoreError::Conflict(message)) => {
            let message = t.message(&message);
            pool_page(&state, &user, Some(message), None, StatusCode::CONFLICT).await
        }
        Err(StoreError::Invalid(invalid)) => {
            let message = invalid_text(t, &invalid);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            pool_page(&state, &user, Some(message), None, status).await
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
    let body = json!({ "reason": form.reason.trim() });
    let (message, status) = match pool::release(ctx(&state, &user), id, &body).await {
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
