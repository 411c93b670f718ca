//! Public pools (公海, admins only): their members, the limits on what a member may hold and
//! claim a day, the cool-down before a returned lead may be claimed again, and the protection a
//! claim gives; created, changed and deleted through `xiansuo_app::leads::pool`, which refuses to delete
//! a pool that still holds leads (shown above the form). And the recycle rules that send leads
//! not followed up in time back to a pool, with a warning ahead.

use super::frame::{
    no_refusal, optional, optional_number, parse_id, refusal, saved, saved_notice, text_of, Errors,
    Frame, Menu, Refusal,
};
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{Map, Value};
use xiansuo_app::admin::users;
use xiansuo_app::leads::pool;
use xiansuo_app::StoreError;

/// The limits a pool form sets, in the order it shows them.
const LIMITS: [&str; 5] = [
    "max_held",
    "max_claims_per_day",
    "cooldown_days",
    "protection_days",
    "protection_max_days",
];

/// The fields of a pool form; `members` repeats, one per user.
#[derive(Default)]
struct PoolForm {
    csrf_token: String,
    name: String,
    region: String,
    industry: String,
    members: Vec<String>,
    /// The limits by name, as typed.
    limits: Vec<(String, String)>,
}

impl PoolForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> PoolForm {
        let mut form = PoolForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "csrf_token" => form.csrf_token = value,
                "name" => form.name = value,
                "region" => form.region = value,
                "industry" => form.industry = value,
                "members" => form.members.push(value),
                limit if LIMITS.contains(&limit) => form.limits.push((key, value)),
                _ => {}
            }
        }
        form
    }

    fn of_pool(stored: &Value) -> PoolForm {
        PoolForm {
            name: text_of(&stored["name"]),
            region: text_of(&stored["region"]),
            industry: text_of(&stored["industry"]),
            members: stored["member_user_ids"]
                .as_array()
                .map(|m| m.iter().map(text_of).collect())
                .unwrap_or_default(),
            limits: LIMITS
                .iter()
                .map(|l| ((*l).to_owned(), text_of(&stored[*l])))
                .collect(),
            ..PoolForm::default()
        }
    }

    fn limit(&self, name: &str) -> &str {
        self.limits
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The body of `POST` or `PATCH /api/v1/pools`. An empty hold or claim limit is no limit;
    /// an empty day count keeps the pool's (or the default).
    fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("name".into(), Value::from(self.name.trim()));
        body.insert("region".into(), optional(&self.region));
        body.insert("industry".into(), optional(&self.industry));
        body.insert(
            "member_user_ids".into(),
            Value::from(
                self.members
                    .iter()
                    .map(|m| optional_number(m))
                    .collect::<Vec<_>>(),
            ),
        );
        for name in LIMITS {
            let value = self.limit(name);
            let nullable = matches!(name, "max_held" | "max_claims_per_day");
            if nullable || !value.trim().is_empty() {
                body.insert(name.into(), optional_number(value));
            }
        }
        Value::Object(body)
    }
}

/// A limit's input.
struct LimitInput {
    name: &'static str,
    label: &'static str,
    value: String,
}

/// A member checkbox.
struct MemberChoice {
    id: String,
    username: String,
    checked: bool,
}

struct PoolView {
    name: String,
    region: String,
    industry: String,
    members: Vec<MemberChoice>,
    limits: Vec<LimitInput>,
}

async fn pool_view(
    state: &AppState,
    s: &super::texts::SettingsTexts,
    form: &PoolForm,
) -> Result<PoolView, StoreError> {
    let people = users::list(&state.db, &[("active".to_owned(), "true".to_owned())]).await?;
    let labels = [
        s.max_held,
        s.max_claims_per_day,
        s.cooldown_days,
        s.protection_days,
        s.protection_max_days,
    ];
    Ok(PoolView {
        name: form.name.clone(),
        region: form.region.clone(),
        industry: form.industry.clone(),
        members: people
            .iter()
            .map(|u| {
                let id = u.id.to_string();
                MemberChoice {
                    checked: form.members.contains(&id),
                    username: u.username.clone(),
                    id,
                }
            })
            .collect(),
        limits: LIMITS
            .iter()
            .zip(labels)
            .map(|(name, label)| LimitInput {
                name,
                label,
                value: form.limit(name).to_owned(),
            })
            .collect(),
    })
}

struct PoolRow {
    id: i64,
    name: String,
    region: String,
    members: usize,
    leads: i64,
}

#[derive(Template)]
#[template(path = "settings_pools.html")]
struct PoolsPage {
    chrome: Chrome,
    menu: Menu,
    pools: Vec<PoolRow>,
    form: PoolView,
    refused: Refusal,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SavedQuery {
    saved: String,
}

async fn pools_page(
    state: &AppState,
    user: &Viewer,
    form: PoolForm,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/pools");
    let s = frame.menu.s;
    let loaded = async {
        user.actor.require_admin("manage pools")?;
        let pools = pool::list(&state.db, &user.actor).await?;
        let view = pool_view(state, s, &form).await?;
        Ok::<_, StoreError>((pools, view))
    };
    let (pools, view) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let rows = pools
        .iter()
        .map(|p| PoolRow {
            id: p["id"].as_i64().unwrap_or_default(),
            name: text_of(&p["name"]),
            region: text_of(&p["region"]),
            members: p["member_user_ids"].as_array().map_or(0, Vec::len)
                + p["member_team_ids"].as_array().map_or(0, Vec::len),
            leads: p["lead_count"].as_i64().unwrap_or_default(),
        })
        .collect();
    let page = PoolsPage {
        pools: rows,
        form: view,
        refused,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(page.refused.status, &page)
}

/// `GET /settings/pools`
pub(crate) async fn list(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    let form = PoolForm {
        limits: LIMITS
            .iter()
            .map(|l| ((*l).to_owned(), String::new()))
            .collect(),
        ..PoolForm::default()
    };
    pools_page(&state, &user, form, no_refusal(), notice).await
}

/// `POST /settings/pools`: a new pool, as `POST /api/v1/pools`.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = PoolForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    match pool::create(&state.db, &user.actor, &form.body(), state.clock.now()).await {
        Ok(_) => saved("/settings/pools"),
        Err(e) => match refusal(&user, "/settings/pools", e) {
            Ok(refused) => pools_page(&state, &user, form, refused, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Template)]
#[template(path = "settings_pool.html")]
struct PoolPage {
    chrome: Chrome,
    menu: Menu,
    id: i64,
    leads: i64,
    form: PoolView,
    refused: Refusal,
    notice: Option<&'static str>,
}

async fn pool_page(
    state: &AppState,
    user: &Viewer,
    id: i64,
    sent: Option<PoolForm>,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/pools");
    let s = frame.menu.s;
    let loaded = async {
        user.actor.require_admin("manage pools")?;
        let stored = pool::get(&state.db, &user.actor, id).await?;
        let form = sent.unwrap_or_else(|| PoolForm::of_pool(&stored));
        let view = pool_view(state, s, &form).await?;
        Ok::<_, StoreError>((stored, view))
    };
    let (stored, view) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let page = PoolPage {
        id,
        leads: stored["lead_count"].as_i64().unwrap_or_default(),
        form: view,
        refused,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(page.refused.status, &page)
}

fn not_found(user: &Viewer) -> Response {
    store_error_page(
        Chrome::for_user(user, "/settings/pools"),
        StoreError::NotFound("Pool"),
    )
}

/// `GET /settings/pools/{id}`
pub(crate) async fn show(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    pool_page(&state, &user, id, None, no_refusal(), notice).await
}

/// `POST /settings/pools/{id}`, as `PATCH /api/v1/pools/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = PoolForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match pool::update(&state.db, &user.actor, id, &form.body(), state.clock.now()).await {
        Ok(_) => saved(&format!("/settings/pools/{id}")),
        Err(e) => match refusal(&user, "/settings/pools", e) {
            Ok(refused) => pool_page(&state, &user, id, Some(form), refused, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CsrfPost {
    csrf_token: String,
}

/// `POST /settings/pools/{id}/delete`, as `DELETE /api/v1/pools/{id}`; a pool that still holds
/// leads stays, and its page says why.
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match pool::delete(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(()) => Redirect::to("/settings/pools?saved=1").into_response(),
        Err(e) => match refusal(&user, "/settings/pools", e) {
            Ok(refused) => pool_page(&state, &user, id, None, refused, None).await,
            Err(page) => *page,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Recycle rules: leads not followed up (or not converted) in time go back to a pool.

const RECYCLE_KINDS: [&str; 3] = ["no_first_follow_up", "no_follow_up", "not_converted"];
const UNITS: [&str; 2] = ["hours", "days"];

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RecyclePost {
    csrf_token: String,
    name: String,
    kind: String,
    after: String,
    unit: String,
    warn_before: String,
    pool_id: String,
    active: String,
}

impl RecyclePost {
    /// The body of `POST` or `PATCH /api/v1/pools/recycle-rules`.
    fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("name".into(), Value::from(self.name.trim()));
        body.insert("kind".into(), Value::from(self.kind.trim()));
        body.insert("after".into(), optional_number(&self.after));
        body.insert("unit".into(), Value::from(self.unit.trim()));
        if !self.warn_before.trim().is_empty() {
            body.insert("warn_before".into(), optional_number(&self.warn_before));
        }
        body.insert("pool_id".into(), optional_number(&self.pool_id));
        body.insert("active".into(), Value::Bool(!self.active.is_empty()));
        Value::Object(body)
    }
}

struct RecycleRow {
    id: i64,
    name: String,
    after: String,
    warn_before: String,
    active: bool,
    kinds: Vec<Choice>,
    units: Vec<Choice>,
    pools: Vec<Choice>,
    errors: Errors,
    alert: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_recycle.html")]
struct RecyclePage {
    chrome: Chrome,
    menu: Menu,
    rules: Vec<RecycleRow>,
    form: RecyclePost,
    kinds: Vec<Choice>,
    units: Vec<Choice>,
    pools: Vec<Choice>,
    refused: Refusal,
    notice: Option<&'static str>,
}

fn code_choices(s: &super::texts::SettingsTexts, codes: &[&str], current: &str) -> Vec<Choice> {
    codes
        .iter()
        .map(|c| Choice::new(*c, s.code(c), current))
        .collect()
}

fn pool_choices(s: &super::texts::SettingsTexts, pools: &[Value], current: &str) -> Vec<Choice> {
    let mut choices = vec![Choice::new("", s.best_pool, current)];
    choices.extend(
        pools
            .iter()
            .map(|p| Choice::new(text_of(&p["id"]), text_of(&p["name"]), current)),
    );
    choices
}

async fn recycle_page(
    state: &AppState,
    user: &Viewer,
    form: RecyclePost,
    refused: Refusal,
    row: Option<(i64, RecyclePost, Refusal)>,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/recycle");
    let s = frame.menu.s;
    let loaded = async {
        Ok::<_, StoreError>((
            pool::list_rules(&state.db, &user.actor).await?,
            pool::list(&state.db, &user.actor).await?,
        ))
    };
    let (rules, pools) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let mut status = refused.status;
    let mut row = row;
    let rows = rules
        .iter()
        .map(|r| {
            let id = r["id"].as_i64().unwrap_or_default();
            let (shown, refusal) = match row.take() {
                Some((row_id, sent, refused)) if row_id == id => {
                    status = refused.status;
                    (sent, refused)
                }
                other => {
                    row = other;
                    let stored = RecyclePost {
                        name: text_of(&r["name"]),
                        kind: text_of(&r["kind"]),
                        after: text_of(&r["after"]),
                        unit: text_of(&r["unit"]),
                        warn_before: text_of(&r["warn_before"]),
                        pool_id: text_of(&r["pool_id"]),
                        active: if r["active"] == true {
                            "on".into()
                        } else {
                            String::new()
                        },
                        ..RecyclePost::default()
                    };
                    (stored, no_refusal())
                }
            };
            RecycleRow {
                id,
                kinds: code_choices(s, &RECYCLE_KINDS, &shown.kind),
                units: code_choices(s, &UNITS, &shown.unit),
                pools: pool_choices(s, &pools, &shown.pool_id),
                active: !shown.active.is_empty(),
                name: shown.name,
                after: shown.after,
                warn_before: shown.warn_before,
                errors: refusal.errors,
                alert: refusal.alert,
            }
        })
        .collect();
    let kind = if form.kind.is_empty() {
        "no_follow_up"
    } else {
        form.kind.as_str()
    };
    let unit = if form.unit.is_empty() {
        "days"
    } else {
        form.unit.as_str()
    };
    let page = RecyclePage {
        rules: rows,
        kinds: code_choices(s, &RECYCLE_KINDS, kind),
        units: code_choices(s, &UNITS, unit),
        pools: pool_choices(s, &pools, &form.pool_id),
        form,
        refused,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(status, &page)
}

/// `GET /settings/recycle`
pub(crate) async fn recycle_rules(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    let form = RecyclePost {
        active: "on".into(),
        ..RecyclePost::default()
    };
    recycle_page(&state, &user, form, no_refusal(), None, notice).await
}

/// `POST /settings/recycle`: a new rule, as `POST /api/v1/pools/recycle-rules`.
pub(crate) async fn create_recycle_rule(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<RecyclePost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    match pool::create_rule(&state.db, &user.actor, &form.body(), state.clock.now()).await {
        Ok(_) => saved("/settings/recycle"),
        Err(e) => match refusal(&user, "/settings/recycle", e) {
            Ok(refused) => recycle_page(&state, &user, form, refused, None, None).await,
            Err(page) => *page,
        },
    }
}

/// `POST /settings/recycle/{id}`, as `PATCH /api/v1/pools/recycle-rules/{id}`.
pub(crate) async fn update_recycle_rule(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<RecyclePost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let body = form.body();
    match pool::update_rule(&state.db, &user.actor, id, &body, state.clock.now()).await {
        Ok(_) => saved("/settings/recycle"),
        Err(e) => match refusal(&user, "/settings/recycle", e) {
            Ok(refused) => {
                let row = Some((id, form, refused));
                let blank = RecyclePost::default();
                recycle_page(&state, &user, blank, no_refusal(), row, None).await
            }
            Err(page) => *page,
        },
    }
}

/// `POST /settings/recycle/{id}/delete`, as `DELETE /api/v1/pools/recycle-rules/{id}`.
pub(crate) async fn delete_recycle_rule(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match pool::delete_rule(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(()) => saved("/settings/recycle"),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/recycle"), e),
    }
}
