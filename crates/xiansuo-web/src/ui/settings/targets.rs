//! 投放费用与目标 (admins only): one month at a time, what each channel and campaign cost
//! (for the acquisition cost report) and the KPI targets of users and teams with their
//! attainment so far. Recorded, changed and deleted through `xiansuo_app::sales::reports`, as
//! `/api/v1/reports/costs` and `/api/v1/reports/targets` do.

use super::frame::{
    admin_only, ctx, no_refusal, parse_id, saved_notice, Errors, Frame, Menu, Refusal,
};
use super::outcome::{answer, CsrfPost};
use super::texts::{settings_texts, SettingsTexts};
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use serde_json::Number;
use xiansuo_app::admin::users;
use xiansuo_app::sales::reports::{self, Figure, NewChannelCost, NewTarget};
use xiansuo_app::StoreError;
use xiansuo_core::choice::{ChoiceKind, Choices};

const PATH: &str = "/settings/targets";
/// What a month in a query keeps as it is: `2026-10`.
const MONTH_QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-');
const METRICS: [&str; 4] = ["leads", "conversions", "won_amount", "activities"];

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MonthQuery {
    month: String,
    saved: String,
}

/// A cost form: a row's (source, campaign and month hidden) or the new one's.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CostPost {
    csrf_token: String,
    /// `new` from the form that records a cost, else the row's id.
    form: String,
    source: String,
    campaign: String,
    month: String,
    amount: String,
}

/// A target form: a row's (subject, metric and month hidden) or the new one's.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TargetPost {
    csrf_token: String,
    /// `new` from the form that sets a target, else the row's key.
    form: String,
    /// `user:7` or `team:2`.
    subject: String,
    metric: String,
    month: String,
    value: String,
}

/// A number as typed: a whole number, or one with decimals; none when it is not a number, so
/// that the store refuses it as missing.
fn number(value: &str) -> Option<Number> {
    let value = value.trim();
    value
        .parse::<i64>()
        .ok()
        .map(Number::from)
        .or_else(|| value.parse::<f64>().ok().and_then(Number::from_f64))
}

/// An amount of money with two decimals.
fn amount(value: f64) -> String {
    format!("{value:.2}")
}

/// A count as it is, an amount of money with two decimals.
fn figure(value: Figure) -> String {
    match value {
        Figure::Count(n) => n.to_string(),
        Figure::Amount(a) => amount(a),
    }
}

impl CostPost {
    /// The spend to record, as `POST /api/v1/reports/costs` takes it.
    fn new_cost(&self) -> NewChannelCost {
        NewChannelCost {
            source: Some(self.source.trim().to_owned()),
            campaign: Some(self.campaign.trim().to_owned()),
            month: Some(self.month.trim().to_owned()),
            amount: number(&self.amount).and_then(|n| n.as_f64()),
        }
    }
}

impl TargetPost {
    /// The target to set, as `PUT /api/v1/reports/targets` takes it.
    fn new_target(&self) -> NewTarget {
        let (kind, id) = self.subject.split_once(':').unwrap_or_default();
        let id = id.trim().parse::<i64>().ok();
        NewTarget {
            user_id: id.filter(|_| kind == "user"),
            team_id: id.filter(|_| kind == "team"),
            metric: Some(self.metric.trim().to_owned()),
            month: Some(self.month.trim().to_owned()),
            value: number(&self.value),
        }
    }

    /// The query of `DELETE /api/v1/reports/targets`.
    fn key(&self) -> Vec<(String, String)> {
        let (kind, id) = self.subject.split_once(':').unwrap_or(("user", ""));
        vec![
            (format!("{kind}_id"), id.to_owned()),
            ("metric".into(), self.metric.clone()),
            ("month".into(), self.month.clone()),
        ]
    }
}

/// A recorded cost.
struct CostRow {
    id: String,
    source: String,
    source_label: String,
    campaign: String,
    month: String,
    amount: String,
    error: Option<String>,
}

/// A target with its attainment.
struct TargetRow {
    key: String,
    /// The key as an element id (`user-7-leads`).
    dom_id: String,
    subject: String,
    name: String,
    metric: String,
    metric_label: String,
    value: String,
    actual: String,
    attainment: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_targets.html")]
struct TargetsPage {
    chrome: Chrome,
    menu: Menu,
    notice: Option<&'static str>,
    month: String,
    costs: Vec<CostRow>,
    sources: Vec<(String, String)>,
    cost: CostPost,
    cost_errors: Errors,
    targets: Vec<TargetRow>,
    users: Vec<Choice>,
    teams: Vec<Choice>,
    metrics: Vec<Choice>,
    target: TargetPost,
    target_errors: Errors,
    alert: Option<String>,
}

/// What a failed form sent, so that the page shows it again with the refusal beside it.
enum Sent {
    Nothing,
    Cost(CostPost),
    Target(TargetPost),
}

fn source_name(choices: &Choices, locale: &str, source: &str) -> String {
    choices.label(ChoiceKind::Source, source, locale).to_owned()
}

fn metric_choices(s: &SettingsTexts, current: &str) -> Vec<Choice> {
    METRICS
        .iter()
        .map(|m| Choice::new(*m, s.ops.code(&format!("metric:{m}")), current))
        .collect()
}

async fn targets_page(
    state: &AppState,
    user: &Viewer,
    month: &str,
    sent: Sent,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, PATH);
    let s = frame.menu.s;
    let locale = user.actor.locale.as_str();
    let loaded = async {
        let mut query = Vec::new();
        if !month.is_empty() {
            query.push(("month".to_owned(), month.to_owned()));
        }
        let targets = reports::targets(&state.db, &user.actor, &query, state.clock.now()).await?;
        let month = targets.body.month.clone();
        let range = [("from".to_owned(), month.clone()), ("to".to_owned(), month)];
        let costs = reports::list_costs(&state.db, &user.actor, &range).await?;
        let people = users::list(&state.db, &[("active".to_owned(), "true".to_owned())]).await?;
        let teams = users::list_teams(&state.db).await?.items;
        Ok::<_, StoreError>((targets.body, costs, people, teams))
    };
    let (targets, costs, people, teams) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let month = targets.month.clone();
    let (mut cost_errors, mut target_errors) = (Errors::default(), Errors::default());
    let (mut cost, mut target) = (
        CostPost {
            month: month.clone(),
            ..CostPost::default()
        },
        TargetPost {
            month: month.clone(),
            metric: "leads".into(),
            ..TargetPost::default()
        },
    );
    let mut row_error = None;
    match sent {
        Sent::Nothing => {}
        Sent::Cost(sent) if sent.form == "new" => {
            cost = sent;
            cost_errors = refused.errors;
        }
        Sent::Target(sent) if sent.form == "new" => {
            target = sent;
            target_errors = refused.errors;
        }
        Sent::Cost(sent) => row_error = row_refusal(&sent.form, &sent.amount, &refused),
        Sent::Target(sent) => row_error = row_refusal(&sent.form, &sent.value, &refused),
    }
    let failed = |key: &str| row_error.as_ref().filter(|(k, _, _)| k == key);
    let costs = costs
        .items
        .into_iter()
        .map(|c| {
            let id = c.id.to_string();
            let failed = failed(&id);
            CostRow {
                source_label: source_name(&user.choices, locale, &c.source),
                source: c.source,
                campaign: c.campaign.unwrap_or_default(),
                month: c.month,
                amount: failed.map_or_else(|| amount(c.amount), |(_, v, _)| v.clone()),
                error: failed.map(|(_, _, e)| e.clone()),
                id,
            }
        })
        .collect();
    let targets = targets
        .items
        .into_iter()
        .map(|t| {
            let metric = t.metric;
            let subject = format!("{}:{}", t.subject, t.id);
            let key = format!("{subject}:{metric}");
            let failed = failed(&key);
            TargetRow {
                name: t.name.unwrap_or_default(),
                metric_label: s.ops.code(&format!("metric:{metric}")).to_owned(),
                value: failed.map_or_else(|| figure(t.target), |(_, v, _)| v.clone()),
                actual: figure(t.actual),
                attainment: t
                    .attainment_pct
                    .map_or_else(|| "—".to_owned(), |pct| format!("{pct:.1}%")),
                error: failed.map(|(_, _, e)| e.clone()),
                dom_id: key.replace(':', "-"),
                key,
                subject,
                metric,
            }
        })
        .collect();
    let page = TargetsPage {
        notice,
        costs,
        sources: user
            .choices
            .active(ChoiceKind::Source)
            .map(|c| (c.code.clone(), c.label(locale).to_owned()))
            .collect(),
        cost_errors,
        targets,
        users: people
            .iter()
            .map(|u| {
                let name = u
                    .display_name
                    .as_deref()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(&u.username);
                Choice::new(format!("user:{}", u.id), name, &target.subject)
            })
            .collect(),
        teams: teams
            .iter()
            .map(|t| {
                let value = format!("team:{}", t.id);
                Choice::new(value, t.name.as_str(), &target.subject)
            })
            .collect(),
        metrics: metric_choices(s, &target.metric),
        target_errors,
        cost,
        target,
        month,
        alert: refused.alert,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(refused.status, &page)
}

/// The row a refusal belongs to, what it sent and the message.
fn row_refusal(key: &str, value: &str, refused: &Refusal) -> Option<(String, String, String)> {
    refused
        .errors
        .starting("")
        .map(|e| (key.to_owned(), value.to_owned(), e.to_owned()))
}

/// The month to show again after a refusal: a row's, which the page wrote itself; the current
/// one for the new forms, whose month may be what was refused.
fn shown_month(form: &str, month: &str) -> String {
    if form == "new" {
        String::new()
    } else {
        month.to_owned()
    }
}

/// Where a change goes back to: the month it was made in.
fn back(month: &str) -> String {
    let month = month.trim();
    if month.is_empty() {
        PATH.to_owned()
    } else {
        format!(
            "{PATH}?month={}",
            percent_encoding::utf8_percent_encode(month, MONTH_QUERY)
        )
    }
}

/// `GET /settings/targets?month=YYYY-MM` (default this month).
pub(crate) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<MonthQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let notice = saved_notice(settings_texts(&user.actor.locale), &query.saved);
    let month = query.month.trim();
    let refused = no_refusal();
    targets_page(&state, &user, month, Sent::Nothing, refused, notice).await
}

/// `POST /settings/targets/costs`: records (or replaces) a month's cost of a source or
/// campaign, as `POST /api/v1/reports/costs`.
pub(crate) async fn set_cost(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<CostPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let result = reports::set_cost(ctx(&state, &user), form.new_cost().into()).await;
    let back = back(&form.month);
    let shown = shown_month(&form.form, &form.month);
    answer(&user, PATH, &back, result, |refused| {
        targets_page(&state, &user, &shown, Sent::Cost(form), refused, None)
    })
    .await
}

/// `POST /settings/targets/costs/{id}/delete`, as `DELETE /api/v1/reports/costs/{id}`.
pub(crate) async fn delete_cost(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<MonthQuery>,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let result = match parse_id(&id) {
        Some(id) => reports::delete_cost(&state.db, &user.actor, id, state.clock.now()).await,
        None => Err(StoreError::NotFound("Cost")),
    };
    let back = back(&query.month);
    answer(&user, PATH, &back, result, |refused| {
        targets_page(&state, &user, &query.month, Sent::Nothing, refused, None)
    })
    .await
}

/// `POST /settings/targets/targets`: sets (or replaces) a monthly target, as
/// `PUT /api/v1/reports/targets`.
pub(crate) async fn set_target(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<TargetPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let result = reports::set_target(ctx(&state, &user), form.new_target().into()).await;
    let back = back(&form.month);
    let shown = shown_month(&form.form, &form.month);
    answer(&user, PATH, &back, result, |refused| {
        targets_page(&state, &user, &shown, Sent::Target(form), refused, None)
    })
    .await
}

/// `POST /settings/targets/targets/delete`, as `DELETE /api/v1/reports/targets`.
pub(crate) async fn delete_target(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<TargetPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let result = reports::delete_target(ctx(&state, &user), &form.key()).await;
    let back = back(&form.month);
    let shown = shown_month(&form.form, &form.month);
    answer(&user, PATH, &back, result, |refused| {
        targets_page(&state, &user, &shown, Sent::Target(form), refused, None)
    })
    .await
}
