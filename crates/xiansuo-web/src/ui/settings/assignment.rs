//! Assignment rules (admins only), in the order they are tried: moved up and down with buttons
//! (forms, so the keyboard and any browser can do it) or, where script runs, dragged (the
//! script sends the new order as a form), switched on and off, changed and
//! deleted; a rule is up to three conditions and a target (a user, a team, a list of members
//! with a strategy, or a public pool), with what to do when nobody can take the lead. Every
//! change goes through `xiansuo_app::leads::assignment`, as `/api/v1/assignment/rules` does.

use super::frame::{
    admin_only, ctx, no_refusal, optional_number, parse_id, refusal, saved, saved_notice, text_of,
    Errors, Frame, Menu, Refusal,
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
use xiansuo_app::admin::users;
use xiansuo_app::leads::assignment::{self, RuleOrder, StoredAssignmentRule};
use xiansuo_app::StoreError;
use xiansuo_core::assignment::{AssignmentRule, Target};
use xiansuo_core::rules::Condition as RuleCondition;
use xiansuo_core::validation::Unread;
use xiansuo_core::Invalid;

/// Conditions a rule form has room for.
pub(super) const CONDITION_ROWS: usize = 3;
const OPERATORS: [&str; 9] = [
    "eq", "ne", "in", "contains", "gt", "gte", "lt", "lte", "exists",
];
const TARGETS: [&str; 4] = ["user", "team", "members", "queue"];
const STRATEGIES: [&str; 3] = ["round_robin", "weighted", "least_loaded"];
const FALLBACKS: [&str; 2] = ["next_rule", "default"];

/// One condition as the form holds it.
#[derive(Default, Clone)]
pub(super) struct Condition {
    field: String,
    operator: String,
    value: String,
}

/// The fields of a rule form.
#[derive(Default)]
struct RuleForm {
    csrf_token: String,
    name: String,
    active: bool,
    conditions: Vec<Condition>,
    target: String,
    user_id: String,
    team_id: String,
    include_subteams: bool,
    members: Vec<String>,
    pool_id: String,
    strategy: String,
    fallback: String,
}

impl RuleForm {
    /// Reads the posted pairs: `condN_field`, `condN_operator`, `condN_value`, and a checkbox
    /// per member (a key that repeats).
    fn from_pairs(pairs: Vec<(String, String)>) -> RuleForm {
        let mut form = RuleForm {
            conditions: vec![Condition::default(); CONDITION_ROWS],
            ..RuleForm::default()
        };
        for (key, value) in pairs {
            if read_condition(&mut form.conditions, &key, &value) {
                continue;
            }
            match key.as_str() {
                "csrf_token" => form.csrf_token = value,
                "name" => form.name = value,
                "active" => form.active = !value.is_empty(),
                "target" => form.target = value,
                "user_id" => form.user_id = value,
                "team_id" => form.team_id = value,
                "include_subteams" => form.include_subteams = !value.is_empty(),
                "members" => form.members.push(value),
                "pool_id" => form.pool_id = value,
                "strategy" => form.strategy = value,
                "fallback" => form.fallback = value,
                _ => {}
            }
        }
        form
    }

    /// A stored rule in the form's shape.
    fn of_rule(rule: &AssignmentRule) -> RuleForm {
        let id = |id: &i64| id.to_string();
        let form = RuleForm {
            name: rule.name.clone(),
            active: rule.active,
            conditions: conditions_of(&rule.conditions),
            fallback: rule.fallback.code().to_owned(),
            ..RuleForm::default()
        };
        match &rule.target {
            Target::User { user_id } => RuleForm {
                target: "user".into(),
                user_id: id(user_id),
                ..form
            },
            Target::Team {
                team_id,
                include_subteams,
                strategy,
                ..
            } => RuleForm {
                target: "team".into(),
                team_id: id(team_id),
                include_subteams: *include_subteams,
                strategy: strategy.code().to_owned(),
                ..form
            },
            Target::Members {
                strategy, members, ..
            } => RuleForm {
                target: "members".into(),
                members: members.iter().map(|m| id(&m.user_id)).collect(),
                strategy: strategy.code().to_owned(),
                ..form
            },
            Target::Queue { pool_id } => RuleForm {
                target: "queue".into(),
                pool_id: id(pool_id),
                ..form
            },
        }
    }

    /// The body of `POST` or `PATCH /api/v1/assignment/rules`, read as the API reads a
    /// request: a condition's value takes the type of the field it names, and the form's text
    /// is guessed into one (`conditions_json`).
    fn body(&self) -> Value {
        let conditions = conditions_json(&self.conditions);
        let strategy = if self.strategy.is_empty() {
            "round_robin"
        } else {
            self.strategy.as_str()
        };
        let target = match self.target.as_str() {
            "team" => json!({"type": "team", "team_id": optional_number(&self.team_id),
                "include_subteams": self.include_subteams, "strategy": strategy}),
            "members" => json!({"type": "members", "strategy": strategy,
                "members": self.members.iter().map(|m| json!({"user_id": optional_number(m)})).collect::<Vec<_>>()}),
            "queue" => json!({"type": "queue", "pool_id": optional_number(&self.pool_id)}),
            _ => json!({"type": "user", "user_id": optional_number(&self.user_id)}),
        };
        json!({
            "name": self.name.trim(),
            "active": self.active,
            "conditions": conditions,
            "target": target,
            "fallback": if self.fallback.is_empty() { "next_rule" } else { self.fallback.as_str() },
        })
    }
}

/// Takes a posted `condN_field`, `condN_operator` or `condN_value` into `conditions`; false
/// for any other key.
pub(super) fn read_condition(conditions: &mut [Condition], key: &str, value: &str) -> bool {
    let Some((i, part)) = key
        .strip_prefix("cond")
        .and_then(|rest| rest.split_once('_'))
    else {
        return false;
    };
    let Some(row) = i.parse::<usize>().ok().and_then(|i| conditions.get_mut(i)) else {
        return false;
    };
    let value = value.to_owned();
    match part {
        "field" => row.field = value,
        "operator" => row.operator = value,
        "value" => row.value = value,
        _ => return false,
    }
    true
}

/// The stored conditions of a rule, with empty rows up to the form's.
pub(super) fn conditions_of(stored: &[RuleCondition]) -> Vec<Condition> {
    let mut conditions: Vec<Condition> = stored
        .iter()
        .map(|c| Condition {
            field: c.field.clone(),
            operator: c.operator.code().to_owned(),
            value: match &c.value {
                Value::Array(list) => list.iter().map(text_of).collect::<Vec<_>>().join(","),
                other => text_of(other),
            },
        })
        .collect();
    conditions.resize(CONDITION_ROWS.max(conditions.len()), Condition::default());
    conditions
}

/// The `conditions` of a rule body: the rows with a field.
pub(super) fn conditions_json(conditions: &[Condition]) -> Vec<Value> {
    conditions
        .iter()
        .filter(|c| !c.field.trim().is_empty())
        .map(|c| {
            let mut condition = json!({"field": c.field.trim(), "operator": c.operator});
            let value = c.value.trim();
            if c.operator == "in" {
                condition["value"] = json!(value
                    .split([',', '，'])
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>());
            } else if !value.is_empty() {
                condition["value"] = typed(value);
            }
            condition
        })
        .collect()
}

/// The rows of the condition part of a form, each with the store's refusal of it.
pub(super) fn condition_rows(
    s: &SettingsTexts,
    conditions: &[Condition],
    errors: &Errors,
) -> Vec<ConditionRow> {
    conditions
        .iter()
        .enumerate()
        .map(|(index, c)| ConditionRow {
            index,
            field: c.field.clone(),
            value: c.value.clone(),
            operators: OPERATORS
                .iter()
                .map(|o| Choice::new(*o, s.code(&format!("op:{o}")), &c.operator))
                .collect(),
            error: errors
                .starting(&format!("conditions[{index}]"))
                .map(str::to_owned),
        })
        .collect()
}

/// A condition's value as typed: a whole or decimal number, true or false, or else text, since
/// scores and numeric or yes/no custom fields compare with values of their own kind.
fn typed(value: &str) -> Value {
    if let Ok(n) = value.parse::<i64>() {
        return Value::from(n);
    }
    if let Some(n) = value
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
    {
        return Value::Number(n);
    }
    match value {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::from(value),
    }
}

/// A condition row of the form, with its choices and the store's refusal of it.
pub(super) struct ConditionRow {
    pub(super) index: usize,
    pub(super) field: String,
    pub(super) value: String,
    pub(super) operators: Vec<Choice>,
    pub(super) error: Option<String>,
}

/// A member checkbox.
struct MemberChoice {
    id: String,
    username: String,
    checked: bool,
}

/// Everything the rule form shows.
struct RuleView {
    name: String,
    active: bool,
    conditions: Vec<ConditionRow>,
    targets: Vec<Choice>,
    users: Vec<Choice>,
    teams: Vec<Choice>,
    include_subteams: bool,
    members: Vec<MemberChoice>,
    pool_id: String,
    strategies: Vec<Choice>,
    fallbacks: Vec<Choice>,
    /// The store's refusal of anything in the target.
    target_error: Option<String>,
}

fn choices(s: &SettingsTexts, codes: &[&str], current: &str) -> Vec<Choice> {
    codes
        .iter()
        .map(|c| Choice::new(*c, s.code(c), current))
        .collect()
}

/// The form's view, with `errors` placed next to the condition or target they are about.
async fn rule_view(
    state: &AppState,
    s: &SettingsTexts,
    form: &RuleForm,
    errors: &Errors,
) -> Result<RuleView, StoreError> {
    let people = users::list(&state.db, &[("active".to_owned(), "true".to_owned())]).await?;
    let teams = users::list_teams(&state.db).await?.items;
    let conditions = condition_rows(s, &form.conditions, errors);
    let mut user_choices = vec![Choice::new("", "—", &form.user_id)];
    user_choices.extend(
        people
            .iter()
            .map(|u| Choice::new(u.id.to_string(), u.username.as_str(), &form.user_id)),
    );
    let mut team_choices = vec![Choice::new("", "—", &form.team_id)];
    team_choices.extend(
        teams
            .iter()
            .map(|t| Choice::new(t.id.to_string(), t.name.as_str(), &form.team_id)),
    );
    let target = if form.target.is_empty() {
        "user"
    } else {
        &form.target
    };
    let strategy = if form.strategy.is_empty() {
        "round_robin"
    } else {
        &form.strategy
    };
    let fallback = if form.fallback.is_empty() {
        "next_rule"
    } else {
        &form.fallback
    };
    Ok(RuleView {
        name: form.name.clone(),
        active: form.active,
        conditions,
        targets: choices(s, &TARGETS, target),
        users: user_choices,
        teams: team_choices,
        include_subteams: form.include_subteams,
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
        pool_id: form.pool_id.clone(),
        strategies: choices(s, &STRATEGIES, strategy),
        fallbacks: choices(s, &FALLBACKS, fallback),
        target_error: errors.starting("target").map(str::to_owned),
    })
}

struct RuleRow {
    id: i64,
    name: String,
    active: bool,
    summary: String,
    first: bool,
    last: bool,
}

#[derive(Template)]
#[template(path = "settings_assignment.html")]
struct RulesPage {
    chrome: Chrome,
    menu: Menu,
    rules: Vec<RuleRow>,
    form: RuleView,
    refused: Refusal,
    notice: Option<&'static str>,
}

/// A rule's conditions in a line, or "every lead".
pub(super) fn conditions_text(s: &SettingsTexts, stored: &[RuleCondition]) -> String {
    let conditions: Vec<String> = stored
        .iter()
        .map(|c| {
            let operator = format!("op:{}", c.operator.code());
            format!("{} {} {}", c.field, s.code(&operator), text_of(&c.value))
                .trim()
                .to_owned()
        })
        .collect();
    if conditions.is_empty() {
        s.every_lead.to_owned()
    } else {
        conditions.join(" · ")
    }
}

/// What a rule does, in a line: its conditions and its target.
fn summary(s: &SettingsTexts, rule: &AssignmentRule) -> String {
    let target = match rule.target {
        Target::User { .. } => "user",
        Target::Team { .. } => "team",
        Target::Members { .. } => "members",
        Target::Queue { .. } => "queue",
    };
    format!(
        "{} → {}",
        conditions_text(s, &rule.conditions),
        s.code(target)
    )
}

async fn rules_page(
    state: &AppState,
    user: &Viewer,
    form: RuleForm,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/assignment");
    let s = frame.menu.s;
    let loaded = async {
        let rules = assignment::list_rules(&state.db, &user.actor).await?;
        let view = rule_view(state, s, &form, &refused.errors).await?;
        Ok::<_, StoreError>((rules, view))
    };
    let (rules, view) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let count = rules.items.len();
    let rows = rules
        .items
        .into_iter()
        .enumerate()
        .map(|(i, StoredAssignmentRule { rule, .. })| RuleRow {
            id: rule.id,
            summary: summary(s, &rule),
            active: rule.active,
            name: rule.name,
            first: i == 0,
            last: i + 1 == count,
        })
        .collect();
    let status = refused.status;
    let page = RulesPage {
        rules: rows,
        form: view,
        refused,
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

fn new_rule_form() -> RuleForm {
    RuleForm {
        active: true,
        conditions: vec![Condition::default(); CONDITION_ROWS],
        ..RuleForm::default()
    }
}

/// `GET /settings/assignment`: the rules in order, and a form for a new one.
pub(crate) async fn rules(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/assignment") {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    rules_page(&state, &user, new_rule_form(), no_refusal(), notice).await
}

/// `POST /settings/assignment`: a new rule, tried after the others.
pub(crate) async fn create_rule(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = RuleForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/assignment") {
        return refused;
    }
    match assignment::create_rule(ctx(&state, &user), Unread::json(form.body())).await {
        Ok(_) => saved("/settings/assignment"),
        Err(e) => match refusal(&user, "/settings/assignment", e) {
            Ok(refused) => rules_page(&state, &user, form, refused, None).await,
            Err(page) => *page,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_values_keep_their_kind() {
        assert_eq!(typed("40"), json!(40));
        assert_eq!(typed("2.5"), json!(2.5));
        assert_eq!(typed("true"), json!(true));
        assert_eq!(typed("广东"), json!("广东"));
    }

    #[test]
    fn a_posted_rule_becomes_the_apis_body() {
        let pairs = [
            ("name", "华南"),
            ("active", "on"),
            ("cond0_field", "province"),
            ("cond0_operator", "in"),
            ("cond0_value", "广东，广西"),
            ("cond1_field", ""),
            ("target", "members"),
            ("members", "3"),
            ("members", "4"),
            ("strategy", "weighted"),
            ("fallback", "default"),
        ];
        let form = RuleForm::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        assert_eq!(
            form.body(),
            json!({
                "name": "华南", "active": true,
                "conditions": [{"field": "province", "operator": "in", "value": ["广东", "广西"]}],
                "target": {"type": "members", "strategy": "weighted",
                           "members": [{"user_id": 3}, {"user_id": 4}]},
                "fallback": "default",
            })
        );
    }
}

#[derive(Template)]
#[template(path = "settings_assignment_rule.html")]
struct RulePage {
    chrome: Chrome,
    menu: Menu,
    id: i64,
    form: RuleView,
    refused: Refusal,
    notice: Option<&'static str>,
}

async fn rule_page(
    state: &AppState,
    user: &Viewer,
    id: i64,
    sent: Option<RuleForm>,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/assignment");
    let s = frame.menu.s;
    let loaded = async {
        let rule = assignment::get_rule(&state.db, &user.actor, id).await?;
        let form = sent.unwrap_or_else(|| RuleForm::of_rule(&rule.rule));
        rule_view(state, s, &form, &refused.errors).await
    };
    let view = match loaded.await {
        Ok(view) => view,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let page = RulePage {
        id,
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
        Chrome::for_user(user, "/settings/assignment"),
        StoreError::NotFound("AssignmentRule"),
    )
}

/// `GET /settings/assignment/{id}`
pub(crate) async fn rule(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/assignment") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    rule_page(&state, &user, id, None, no_refusal(), notice).await
}

/// `POST /settings/assignment/{id}`: the whole rule again, as
/// `PATCH /api/v1/assignment/rules/{id}`.
pub(crate) async fn update_rule(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = RuleForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/assignment") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match assignment::update_rule(ctx(&state, &user), id, Unread::json(form.body())).await {
        Ok(_) => saved(&format!("/settings/assignment/{id}")),
        Err(e) => match refusal(&user, "/settings/assignment", e) {
            Ok(refused) => rule_page(&state, &user, id, Some(form), refused, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MovePost {
    csrf_token: String,
    direction: String,
}

/// `POST /settings/assignment/{id}/move`: one place up or down, as
/// `POST /api/v1/assignment/rules/reorder` with the new order.
pub(crate) async fn move_rule(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MovePost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/assignment") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let moved = async {
        let mut ids: Vec<i64> = assignment::list_rules(&state.db, &user.actor)
            .await?
            .items
            .iter()
            .map(|r| r.rule.id)
            .collect();
        let at = ids
            .iter()
            .position(|r| *r == id)
            .ok_or(StoreError::NotFound("AssignmentRule"))?;
        let to = match form.direction.as_str() {
            "up" => at.checked_sub(1),
            _ => Some(at + 1).filter(|to| *to < ids.len()),
        };
        if let Some(to) = to {
            ids.swap(at, to);
            let order = RuleOrder { rule_ids: ids };
            assignment::reorder(ctx(&state, &user), order.into()).await?;
        }
        Ok::<_, StoreError>(())
    };
    match moved.await {
        Ok(()) => saved("/settings/assignment"),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/assignment"), e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ReorderPost {
    csrf_token: String,
    /// Every rule's id, comma-separated, in the new order.
    rule_ids: String,
}

/// `POST /settings/assignment/reorder`: the order a drag left the list in, as
/// `POST /api/v1/assignment/rules/reorder`.
pub(crate) async fn reorder_rules(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<ReorderPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/assignment") {
        return refused;
    }
    let ids: Result<Vec<i64>, _> = form
        .rule_ids
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::parse)
        .collect();
    let reordered = match ids {
        Ok(rule_ids) => {
            assignment::reorder(ctx(&state, &user), RuleOrder { rule_ids }.into()).await
        }
        Err(_) => Err(Invalid::new("rule_ids", "must be rule ids").into()),
    };
    match reordered {
        Ok(_) => saved("/settings/assignment"),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/assignment"), e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CsrfPost {
    csrf_token: String,
}

/// `POST /settings/assignment/{id}/delete`, as `DELETE /api/v1/assignment/rules/{id}`.
pub(crate) async fn delete_rule(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/assignment") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match assignment::delete_rule(ctx(&state, &user), id).await {
        Ok(()) => saved("/settings/assignment"),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/assignment"), e),
    }
}
