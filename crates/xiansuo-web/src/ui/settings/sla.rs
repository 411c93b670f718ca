//! SLA rules (admins only): a lead whose owner logs no follow-up within so many working hours
//! is escalated to the managers or reassigned (to a pool or a user). Created, changed in place
//! and deleted through `xiansuo_app::leads::followups`, as `/api/v1/sla/rules` does.

use super::frame::{
    admin_only, no_refusal, parse_id, refusal, saved, saved_notice, whole_number, Errors, Frame,
    Menu, Refusal,
};
use super::texts::SettingsTexts;
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use xiansuo_app::admin::users::{self, User};
use xiansuo_app::leads::followups::{self, NewSlaRule, SlaRule, SlaRulePatch, MAX_SLA_HOURS};
use xiansuo_app::leads::pool::{self, Pool};
use xiansuo_app::StoreError;
use xiansuo_core::Invalid;

const ACTIONS: [&str; 2] = ["escalate", "reassign"];

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SlaPost {
    csrf_token: String,
    name: String,
    hours: String,
    action: String,
    target_pool_id: String,
    target_user_id: String,
    active: String,
}

impl SlaPost {
    /// The change of `PATCH /api/v1/sla/rules/{id}`: a target only for a reassignment.
    fn change(&self) -> Result<SlaRulePatch, Invalid> {
        let reassign = self.action == "reassign";
        let target = |field: &str, value: &str| {
            if reassign {
                whole_number(field, value, 1..=i64::MAX)
            } else {
                Ok(None)
            }
        };
        let hours = whole_number("hours", &self.hours, 1..=MAX_SLA_HOURS)?
            .ok_or_else(|| Invalid::new("hours", "is required"))?;
        Ok(SlaRulePatch {
            name: Some(self.name.clone()),
            hours: Some(hours),
            action: Some(self.action.clone()),
            target_pool_id: Some(target("target_pool_id", &self.target_pool_id)?),
            target_user_id: Some(target("target_user_id", &self.target_user_id)?),
            team_id: None,
            active: Some(!self.active.is_empty()),
        })
    }

    /// The new rule of `POST /api/v1/sla/rules`.
    fn new_rule(&self) -> Result<NewSlaRule, Invalid> {
        let change = self.change()?;
        Ok(NewSlaRule {
            name: change.name,
            hours: change.hours.unwrap_or_default(),
            action: change.action,
            target_pool_id: change.target_pool_id.flatten(),
            target_user_id: change.target_user_id.flatten(),
            team_id: None,
            active: change.active,
        })
    }

    fn of_rule(rule: &SlaRule) -> SlaPost {
        let id = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
        SlaPost {
            name: rule.name.clone(),
            hours: rule.hours.to_string(),
            action: rule.action.clone(),
            target_pool_id: id(rule.target_pool_id),
            target_user_id: id(rule.target_user_id),
            active: if rule.active {
                "on".into()
            } else {
                String::new()
            },
            ..SlaPost::default()
        }
    }
}

/// A rule's inputs with their choices, and the store's refusal of it.
struct SlaView {
    id: i64,
    name: String,
    hours: String,
    active: bool,
    actions: Vec<Choice>,
    pools: Vec<Choice>,
    users: Vec<Choice>,
    errors: Errors,
    alert: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_sla.html")]
struct SlaPage {
    chrome: Chrome,
    menu: Menu,
    rules: Vec<SlaView>,
    form: SlaView,
    notice: Option<&'static str>,
}

/// The pools and users a rule may reassign to.
struct Targets {
    pools: Vec<Pool>,
    users: Vec<User>,
}

fn view(s: &SettingsTexts, targets: &Targets, id: i64, form: SlaPost, refused: Refusal) -> SlaView {
    let action = if form.action.is_empty() {
        "escalate"
    } else {
        form.action.as_str()
    };
    let mut pools = vec![Choice::new("", "—", &form.target_pool_id)];
    pools.extend(
        targets
            .pools
            .iter()
            .map(|p| Choice::new(p.id.to_string(), &p.name, &form.target_pool_id)),
    );
    let mut users = vec![Choice::new("", "—", &form.target_user_id)];
    users.extend(
        targets
            .users
            .iter()
            .map(|u| Choice::new(u.id.to_string(), u.username.as_str(), &form.target_user_id)),
    );
    SlaView {
        id,
        actions: ACTIONS
            .iter()
            .map(|a| Choice::new(*a, s.code(&format!("sla:{a}")), action))
            .collect(),
        pools,
        users,
        active: !form.active.is_empty(),
        name: form.name,
        hours: form.hours,
        errors: refused.errors,
        alert: refused.alert,
    }
}

async fn sla_page(
    state: &AppState,
    user: &Viewer,
    form: SlaPost,
    refused: Refusal,
    row: Option<(i64, SlaPost, Refusal)>,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/sla");
    let s = frame.menu.s;
    let loaded = async {
        let rules = followups::list_sla_rules(&state.db, &user.actor).await?;
        let targets = Targets {
            pools: pool::list(&state.db, &user.actor).await?.items,
            users: users::list(&state.db, &[("active".to_owned(), "true".to_owned())]).await?,
        };
        Ok::<_, StoreError>((rules, targets))
    };
    let (rules, targets) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let mut status = refused.status;
    let mut row = row;
    let rows = rules
        .items
        .iter()
        .map(|r| {
            let id = r.id;
            match row.take() {
                Some((row_id, sent, refused)) if row_id == id => {
                    status = refused.status;
                    view(s, &targets, id, sent, refused)
                }
                other => {
                    row = other;
                    view(s, &targets, id, SlaPost::of_rule(r), no_refusal())
                }
            }
        })
        .collect();
    let page = SlaPage {
        rules: rows,
        form: view(s, &targets, 0, form, refused),
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(status, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SavedQuery {
    saved: String,
}

/// `GET /settings/sla`
pub(crate) async fn rules(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    let form = SlaPost {
        active: "on".into(),
        ..SlaPost::default()
    };
    sla_page(&state, &user, form, no_refusal(), None, notice).await
}

/// `POST /settings/sla`: a new rule, as `POST /api/v1/sla/rules`.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<SlaPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/sla") {
        return refused;
    }
    let created = match form.new_rule() {
        Ok(new) => {
            followups::create_sla_rule(&state.db, &user.actor, new.into(), state.clock.now()).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match created {
        Ok(_) => saved("/settings/sla"),
        Err(e) => match refusal(&user, "/settings/sla", e) {
            Ok(refused) => sla_page(&state, &user, form, refused, None, None).await,
            Err(page) => *page,
        },
    }
}

fn not_found(user: &Viewer) -> Response {
    store_error_page(
        Chrome::for_user(user, "/settings/sla"),
        StoreError::NotFound("SlaRule"),
    )
}

/// `POST /settings/sla/{id}`, as `PATCH /api/v1/sla/rules/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<SlaPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    if let Some(refused) = admin_only(&user, "/settings/sla") {
        return refused;
    }
    let changed = match form.change() {
        Ok(change) => {
            let now = state.clock.now();
            followups::update_sla_rule(&state.db, &user.actor, id, change.into(), now).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match changed {
        Ok(_) => saved("/settings/sla"),
        Err(e) => match refusal(&user, "/settings/sla", e) {
            Ok(refused) => {
                let row = Some((id, form, refused));
                let blank = SlaPost::default();
                sla_page(&state, &user, blank, no_refusal(), row, None).await
            }
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CsrfPost {
    csrf_token: String,
}

/// `POST /settings/sla/{id}/delete`, as `DELETE /api/v1/sla/rules/{id}`.
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
    match followups::delete_sla_rule(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(()) => saved("/settings/sla"),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/sla"), e),
    }
}
