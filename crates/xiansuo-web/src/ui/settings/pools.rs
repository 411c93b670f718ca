//! Public pools (公海, admins only): their members, the limits on what a member may hold and
//! claim a day, the cool-down before a returned lead may be claimed again, and the protection a
//! claim gives; created, changed and deleted through `xiansuo_app::leads::pool`, which refuses to delete
//! a pool that still holds leads (shown above the form). And the recycle rules that send leads
//! not followed up in time back to a pool, with a warning ahead.

use super::frame::{
    admin_only, no_refusal, parse_id, refusal, saved, saved_notice, whole_number, Errors, Frame,
    Menu, Refusal,
};
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use xiansuo_app::admin::users;
use xiansuo_app::leads::pool::{
    self, NewPool, NewRecycleRule, Pool, PoolPatch, RecycleRulePatch, MAX_AFTER, MAX_DAYS,
    MAX_LIMIT,
};
use xiansuo_app::StoreError;
use xiansuo_core::Invalid;

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

    fn of_pool(stored: &Pool) -> PoolForm {
        let limit = |name: &str| match name {
            "max_held" => stored.max_held,
            "max_claims_per_day" => stored.max_claims_per_day,
            "cooldown_days" => Some(stored.cooldown_days),
            "protection_days" => Some(stored.protection_days),
            _ => Some(stored.protection_max_days),
        };
        PoolForm {
            name: stored.name.clone(),
            region: stored.region.clone().unwrap_or_default(),
            industry: stored.industry.clone().unwrap_or_default(),
            members: stored.member_user_ids.iter().map(i64::to_string).collect(),
            limits: LIMITS
                .iter()
                .map(|l| {
                    let value = limit(l).map(|n| n.to_string()).unwrap_or_default();
                    ((*l).to_owned(), value)
                })
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

    /// The change of `PATCH /api/v1/pools/{id}`. An empty hold or claim limit is no limit; an
    /// empty day count keeps the pool's.
    fn change(&self) -> Result<PoolPatch, Invalid> {
        let members = self
            .members
            .iter()
            .filter_map(|m| whole_number("member_user_ids", m, 1..=i64::MAX).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        let mut change = PoolPatch {
            name: Some(self.name.clone()),
            region: Some(Some(self.region.clone())),
            industry: Some(Some(self.industry.clone())),
            member_user_ids: Some(Some(members)),
            ..PoolPatch::default()
        };
        for name in LIMITS {
            let value = self.limit(name);
            let max = match name {
                "max_held" | "max_claims_per_day" => MAX_LIMIT,
                _ if value.trim().is_empty() => continue,
                _ => MAX_DAYS,
            };
            let number = Some(whole_number(name, value, 0..=max)?);
            match name {
                "max_held" => change.max_held = number,
                "max_claims_per_day" => change.max_claims_per_day = number,
                "cooldown_days" => change.cooldown_days = number,
                "protection_days" => change.protection_days = number,
                _ => change.protection_max_days = number,
            }
        }
        Ok(change)
    }

    /// The new pool of `POST /api/v1/pools`; an empty day count is the default.
    fn new_pool(&self) -> Result<NewPool, Invalid> {
        let change = self.change()?;
        Ok(NewPool {
            name: self.name.clone(),
            region: change.region.flatten(),
            industry: change.industry.flatten(),
            admin_id: None,
            member_user_ids: change.member_user_ids.flatten(),
            member_team_ids: None,
            max_held: change.max_held.flatten(),
            max_claims_per_day: change.max_claims_per_day.flatten(),
            cooldown_days: change.cooldown_days.flatten(),
            protection_days: change.protection_days.flatten(),
            protection_max_days: change.protection_max_days.flatten(),
        })
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
        .items
        .into_iter()
        .map(|p| PoolRow {
            id: p.id,
            members: p.member_user_ids.len() + p.member_team_ids.len(),
            name: p.name,
            region: p.region.unwrap_or_default(),
            leads: p.lead_count,
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
    if let Some(refused) = admin_only(&user, "/settings/pools") {
        return refused;
    }
    let created = match form.new_pool() {
        Ok(new) => pool::create(&state.db, &user.actor, new.into(), state.clock.now()).await,
        Err(invalid) => Err(invalid.into()),
    };
    match created {
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
        leads: stored.lead_count,
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
    if let Some(refused) = admin_only(&user, "/settings/pools") {
        return refused;
    }
    let changed = match form.change() {
        Ok(change) => {
            pool::update(&state.db, &user.actor, id, change.into(), state.clock.now()).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match changed {
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
    /// `after` as typed, required.
    fn after(&self) -> Result<i64, Invalid> {
        whole_number("after", &self.after, 1..=MAX_AFTER)?
            .ok_or_else(|| Invalid::new("after", "is required"))
    }

    /// The new rule of `POST /api/v1/pools/recycle-rules`.
    fn new_rule(&self) -> Result<NewRecycleRule, Invalid> {
        Ok(NewRecycleRule {
            name: Some(self.name.clone()),
            kind: self.kind.clone(),
            after: self.after()?,
            unit: Some(self.unit.clone()),
            warn_before: whole_number("warn_before", &self.warn_before, 0..=MAX_AFTER)?,
            pool_id: whole_number("pool_id", &self.pool_id, 1..=i64::MAX)?,
            team_id: None,
            active: Some(!self.active.is_empty()),
        })
    }

    /// The change of `PATCH /api/v1/pools/recycle-rules/{id}`; an empty warning keeps the
    /// rule's.
    fn change(&self) -> Result<RecycleRulePatch, Invalid> {
        let warn_before = whole_number("warn_before", &self.warn_before, 0..=MAX_AFTER)?;
        Ok(RecycleRulePatch {
            name: Some(self.name.clone()),
            kind: Some(self.kind.clone()),
            after: Some(self.after()?),
            unit: Some(Some(self.unit.clone())),
            warn_before: warn_before.map(Some),
            pool_id: Some(whole_number("pool_id", &self.pool_id, 1..=i64::MAX)?),
            team_id: None,
            active: Some(!self.active.is_empty()),
        })
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

fn pool_choices(s: &super::texts::SettingsTexts, pools: &[Pool], current: &str) -> Vec<Choice> {
    let mut choices = vec![Choice::new("", s.best_pool, current)];
    choices.extend(
        pools
            .iter()
            .map(|p| Choice::new(p.id.to_string(), &p.name, current)),
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
    let pools = pools.items;
    let rows = rules
        .items
        .into_iter()
        .map(|r| {
            let id = r.id;
            let (shown, refusal) = match row.take() {
                Some((row_id, sent, refused)) if row_id == id => {
                    status = refused.status;
                    (sent, refused)
                }
                other => {
                    row = other;
                    let stored = RecyclePost {
                        name: r.name,
                        kind: r.kind,
                        after: r.after.to_string(),
                        unit: r.unit,
                        warn_before: r.warn_before.to_string(),
                        pool_id: r.pool_id.map(|p| p.to_string()).unwrap_or_default(),
                        active: if r.active { "on".into() } else { String::new() },
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
    if let Some(refused) = admin_only(&user, "/settings/recycle") {
        return refused;
    }
    let created = match form.new_rule() {
        Ok(new) => pool::create_rule(&state.db, &user.actor, new.into(), state.clock.now()).await,
        Err(invalid) => Err(invalid.into()),
    };
    match created {
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
    if let Some(refused) = admin_only(&user, "/settings/recycle") {
        return refused;
    }
    let changed = match form.change() {
        Ok(change) => {
            pool::update_rule(&state.db, &user.actor, id, change.into(), state.clock.now()).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match changed {
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
