//! SLA rules (admins only): a lead whose owner logs no follow-up within so many working hours
//! is escalated to the managers or reassigned (to a pool or a user). Created, changed in place
//! and deleted through `xiansuo_app::leads::followups`, as `/api/v1/sla/rules` does.

use super::frame::{
    no_refusal, optional_number, parse_id, refusal, saved, saved_notice, text_of, Errors, Frame,
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
use serde_json::{json, Value};
use xiansuo_app::admin::users::{self, User};
use xiansuo_app::leads::followups;
use xiansuo_app::leads::pool;
use xiansuo_app::StoreError;

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
    /// The body of `POST` or `PATCH /api/v1/sla/rules`: a target only for a reassignment.
    fn body(&self) -> Value {
        let reassign = self.action == "reassign";
        let target = |value: &str| {
            if reassign {
                optional_number(value)
            } else {
                Value::Null
            }
        };
        json!({
            "name": self.name.trim(),
            "hours": optional_number(&self.hours),
            "action": self.action.trim(),
            "target_pool_id": target(&self.target_pool_id),
            "target_user_id": target(&self.target_user_id),
            "active": !self.active.is_empty(),
        })
    }

    fn of_rule(rule: &Value) -> SlaPost {
        SlaPost {
            name: text_of(&rule["name"]),
            hours: text_of(&rule["hours"]),
            action: text_of(&rule["action"]),
            target_pool_id: text_of(&rule["target_pool_id"]),
            target_user_id: text_of(&rule["target_user_id"]),
            active: if rule["active"] == true {
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
    pools: Vec<Value>,
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
            .map(|p| Choice::new(text_of(&p["id"]), text_of(&p["name"]), &form.target_pool_id)),
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
            pools: pool::list(&state.db, &user.actor).await?,
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
        .iter()
        .map(|r| {
            let id = r["id"].as_i64().unwrap_or_default();
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
    let body = form.body();
    match followups::create_sla_rule(&state.db, &user.actor, &body, state.clock.now()).await {
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
    let body = form.body();
    match followups::update_sla_rule(&state.db, &user.actor, id, &body, state.clock.now()).await {
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
