//! Scoring (admins only): the cap and the tier thresholds, and the rules — fit (conditions on
//! lead fields), engagement (points per behaviour event, with a half-life and a cap) and
//! negative — created, changed, switched off and deleted through `xiansuo_app::leads::scoring`, as
//! `/api/v1/scoring` does. A change rescores every lead in the background.

use super::assignment::{
    condition_rows, conditions_json, conditions_of, conditions_text, read_condition, Condition,
    ConditionRow, CONDITION_ROWS,
};
use super::frame::{
    admin_only, ctx, no_refusal, optional_number, parse_id, refusal, saved, saved_notice, Errors,
    Frame, Menu, Refusal,
};
use super::texts::SettingsTexts;
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use xiansuo_app::leads::scoring::{self, StoredScoringRule};
use xiansuo_app::StoreError;
use xiansuo_core::scoring::{RuleKind, ScoringRule, SettingsPatch};
use xiansuo_core::validation::Unread;
use xiansuo_core::Invalid;

const KINDS: [&str; 3] = ["fit", "engagement", "negative"];
const EVENT_TYPES: [&str; 6] = [
    "page_view",
    "download",
    "event_attended",
    "email_opened",
    "form_submitted",
    "custom",
];

/// The fields of a scoring rule form.
#[derive(Default)]
struct RuleForm {
    csrf_token: String,
    name: String,
    kind: String,
    points: String,
    active: bool,
    conditions: Vec<Condition>,
    event_type: String,
    event_name: String,
    event_url: String,
    half_life_days: String,
    max_points: String,
    /// Sent by the preview button: try the rule instead of saving it.
    preview: bool,
    /// The dry run of the rule as sent, once previewed.
    previewed: Option<scoring::ScoringPreview>,
}

impl RuleForm {
    fn blank() -> RuleForm {
        RuleForm {
            active: true,
            conditions: vec![Condition::default(); CONDITION_ROWS],
            ..RuleForm::default()
        }
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> RuleForm {
        let mut form = RuleForm::blank();
        form.active = false;
        for (key, value) in pairs {
            if read_condition(&mut form.conditions, &key, &value) {
                continue;
            }
            match key.as_str() {
                "csrf_token" => form.csrf_token = value,
                "name" => form.name = value,
                "kind" => form.kind = value,
                "points" => form.points = value,
                "active" => form.active = !value.is_empty(),
                "event_type" => form.event_type = value,
                "event_name" => form.event_name = value,
                "event_url" => form.event_url = value,
                "half_life_days" => form.half_life_days = value,
                "max_points" => form.max_points = value,
                "preview" => form.preview = true,
                _ => {}
            }
        }
        form
    }

    fn of_rule(rule: &ScoringRule) -> RuleForm {
        let event = rule.event.as_ref();
        let shown = |value: Option<String>| value.unwrap_or_default();
        RuleForm {
            name: rule.name.clone(),
            kind: rule.kind.code().to_owned(),
            points: rule.points.to_string(),
            active: rule.active,
            conditions: conditions_of(&rule.conditions),
            event_type: shown(event.map(|e| e.event_type.code().to_owned())),
            event_name: shown(event.and_then(|e| e.name.clone())),
            event_url: shown(event.and_then(|e| e.url.clone())),
            half_life_days: shown(rule.half_life_days.map(|d| d.to_string())),
            max_points: shown(rule.max_points.map(|p| p.to_string())),
            ..RuleForm::default()
        }
    }

    /// The body of `POST` or `PATCH /api/v1/scoring/rules`: an event only for engagement
    /// rules, conditions for the others. The form is read as the API reads a request, since a
    /// condition's value takes the type of the field it names and the form's text is guessed
    /// into one (`conditions_json`).
    fn body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("name".into(), Value::from(self.name.trim()));
        body.insert("kind".into(), Value::from(self.kind.trim()));
        body.insert("points".into(), optional_number(&self.points));
        body.insert("active".into(), Value::Bool(self.active));
        if self.kind == "engagement" {
            let mut event = json!({"type": self.event_type.trim()});
            if !self.event_name.trim().is_empty() {
                event["name"] = Value::from(self.event_name.trim());
            }
            if !self.event_url.trim().is_empty() {
                event["url"] = Value::from(self.event_url.trim());
            }
            body.insert("event".into(), event);
            let half_life = self.half_life_days.trim();
            if !half_life.is_empty() {
                body.insert(
                    "half_life_days".into(),
                    half_life
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map_or_else(|| Value::from(half_life), Value::Number),
                );
            }
            if !self.max_points.trim().is_empty() {
                body.insert("max_points".into(), optional_number(&self.max_points));
            }
        } else {
            body.insert(
                "conditions".into(),
                Value::from(conditions_json(&self.conditions)),
            );
        }
        body
    }
}

/// The texts of a rule's preview.
struct PreviewTexts {
    button: &'static str,
    title: &'static str,
    /// `{n}`: how many leads were looked at.
    sample: &'static str,
    /// Added when there are more leads than the sample holds.
    sampled: &'static str,
    /// `{n}`: how many leads would change.
    changed: &'static str,
    unsaved: &'static str,
    tier: &'static str,
    now: &'static str,
    after: &'static str,
    tiers: [&'static str; 3],
}

static PREVIEW_ZH: PreviewTexts = PreviewTexts {
    button: "预览",
    title: "预览：保存后会怎样",
    sample: "样本：最新的 {n} 条线索（未删除、未转化）。",
    sampled: "线索更多时只看最新的这些。",
    changed: "{n} 条线索的分数或等级会改变。",
    unsaved: "仅为预览，规则尚未保存。",
    tier: "潜力等级",
    now: "现在",
    after: "保存后",
    tiers: ["高潜力", "中潜力", "低潜力"],
};

static PREVIEW_EN: PreviewTexts = PreviewTexts {
    button: "Preview",
    title: "Preview: what saving would do",
    sample: "Sample: the newest {n} leads (not deleted or converted).",
    sampled: "With more leads, only the newest are looked at.",
    changed: "{n} leads would change score or tier.",
    unsaved: "Only a preview: the rule is not saved yet.",
    tier: "Tier",
    now: "Now",
    after: "After saving",
    tiers: ["High potential", "Medium potential", "Low potential"],
};

fn preview_texts(locale: &str) -> &'static PreviewTexts {
    if locale == "en" {
        &PREVIEW_EN
    } else {
        &PREVIEW_ZH
    }
}

/// A tier's count now and after saving.
struct TierRow {
    label: &'static str,
    now: i64,
    after: i64,
}

/// A preview as the rule form shows it.
struct PreviewView {
    t: &'static PreviewTexts,
    sample: String,
    sampled: bool,
    changed: String,
    rows: Vec<TierRow>,
}

fn preview_view(t: &'static PreviewTexts, p: &scoring::ScoringPreview) -> PreviewView {
    let counts = |c: &scoring::TierCounts| [c.high, c.medium, c.low];
    let rows = t
        .tiers
        .iter()
        .zip(counts(&p.before).into_iter().zip(counts(&p.after)))
        .map(|(label, (now, after))| TierRow { label, now, after })
        .collect();
    PreviewView {
        t,
        sample: t.sample.replace("{n}", &p.sample_size.to_string()),
        sampled: p.sampled,
        changed: t.changed.replace("{n}", &p.changed.to_string()),
        rows,
    }
}

/// Everything the rule form shows.
struct RuleView {
    name: String,
    points: String,
    active: bool,
    kinds: Vec<Choice>,
    conditions: Vec<ConditionRow>,
    event_types: Vec<Choice>,
    event_name: String,
    event_url: String,
    half_life_days: String,
    max_points: String,
    /// The store's refusal of anything in `event`.
    event_error: Option<String>,
    preview_button: &'static str,
    preview: Option<PreviewView>,
}

fn choices(s: &SettingsTexts, codes: &[&str], current: &str) -> Vec<Choice> {
    codes
        .iter()
        .map(|c| Choice::new(*c, s.code(c), current))
        .collect()
}

fn rule_view(s: &SettingsTexts, locale: &str, form: RuleForm, errors: &Errors) -> RuleView {
    let t = preview_texts(locale);
    let kind = if form.kind.is_empty() {
        "fit"
    } else {
        &form.kind
    };
    let event_type = if form.event_type.is_empty() {
        "page_view"
    } else {
        &form.event_type
    };
    RuleView {
        kinds: choices(s, &KINDS, kind),
        conditions: condition_rows(s, &form.conditions, errors),
        event_types: choices(s, &EVENT_TYPES, event_type),
        event_error: errors.starting("event").map(str::to_owned),
        name: form.name,
        points: form.points,
        active: form.active,
        event_name: form.event_name,
        event_url: form.event_url,
        half_life_days: form.half_life_days,
        max_points: form.max_points,
        preview_button: t.button,
        preview: form.previewed.as_ref().map(|p| preview_view(t, p)),
    }
}

struct RuleRow {
    id: i64,
    name: String,
    kind: String,
    points: i64,
    active: bool,
    summary: String,
}

/// The cap and thresholds as the settings form holds them.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SettingsPost {
    csrf_token: String,
    max_score: String,
    high_threshold: String,
    medium_threshold: String,
}

impl SettingsPost {
    /// The change the form asks for, as `PATCH /api/v1/scoring/settings` takes it.
    fn patch(&self) -> Result<SettingsPatch, Invalid> {
        let number = |field: &str, value: &str| {
            value
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Invalid::new(field, "must be a whole number from 0 to 100000"))
        };
        Ok(SettingsPatch {
            max_score: number("max_score", &self.max_score)?,
            high_threshold: number("high_threshold", &self.high_threshold)?,
            medium_threshold: number("medium_threshold", &self.medium_threshold)?,
        })
    }
}

#[derive(Template)]
#[template(path = "settings_scoring.html")]
struct ScoringPage {
    chrome: Chrome,
    menu: Menu,
    settings: SettingsPost,
    settings_refused: Refusal,
    rules: Vec<RuleRow>,
    form: RuleView,
    refused: Refusal,
    notice: Option<&'static str>,
}

async fn scoring_page(
    state: &AppState,
    user: &Viewer,
    sent_settings: Option<SettingsPost>,
    settings_refused: Refusal,
    form: RuleForm,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/scoring");
    let s = frame.menu.s;
    let loaded = async {
        Ok::<_, StoreError>((
            scoring::get_settings(&state.db, &user.actor).await?,
            scoring::list_rules(&state.db, &user.actor).await?,
        ))
    };
    let (stored, rules) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let settings = sent_settings.unwrap_or_else(|| SettingsPost {
        max_score: stored.max_score.to_string(),
        high_threshold: stored.high_threshold.to_string(),
        medium_threshold: stored.medium_threshold.to_string(),
        ..SettingsPost::default()
    });
    let rules = rules
        .items
        .into_iter()
        .map(|StoredScoringRule { rule, .. }| RuleRow {
            summary: match (&rule.event, rule.kind) {
                (Some(event), RuleKind::Engagement) => s.code(event.event_type.code()).to_owned(),
                _ => conditions_text(s, &rule.conditions),
            },
            id: rule.id,
            kind: s.code(rule.kind.code()).to_owned(),
            points: rule.points,
            active: rule.active,
            name: rule.name,
        })
        .collect();
    let status = settings_refused.status.max(refused.status);
    let page = ScoringPage {
        settings,
        settings_refused,
        rules,
        form: rule_view(s, &user.actor.locale, form, &refused.errors),
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

/// `GET /settings/scoring`
pub(crate) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/scoring") {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    let (blank, none) = (RuleForm::blank(), no_refusal());
    scoring_page(&state, &user, None, no_refusal(), blank, none, notice).await
}

/// `POST /settings/scoring/settings`: the cap and tier thresholds, as
/// `PATCH /api/v1/scoring/settings`.
pub(crate) async fn save_settings(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<SettingsPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/scoring") {
        return refused;
    }
    let done = match form.patch() {
        Ok(patch) => scoring::update_settings(ctx(&state, &user), patch.into()).await,
        Err(refused) => Err(refused.into()),
    };
    match done {
        Ok(_) => saved("/settings/scoring"),
        Err(e) => match refusal(&user, "/settings/scoring", e) {
            Ok(refused) => {
                let blank = RuleForm::blank();
                scoring_page(
                    &state,
                    &user,
                    Some(form),
                    refused,
                    blank,
                    no_refusal(),
                    None,
                )
                .await
            }
            Err(page) => *page,
        },
    }
}

/// `POST /settings/scoring`: a new rule, as `POST /api/v1/scoring/rules`.
pub(crate) async fn create_rule(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = RuleForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/scoring") {
        return refused;
    }
    let mut form = form;
    let done = if form.preview {
        preview(&state, &user, None, &mut form).await.map(|()| None)
    } else {
        scoring::create_rule(ctx(&state, &user), Unread::json(Value::Object(form.body())))
            .await
            .map(|_| Some(saved("/settings/scoring")))
    };
    match done {
        Ok(Some(saved)) => saved,
        Ok(None) => scoring_page(&state, &user, None, no_refusal(), form, no_refusal(), None).await,
        Err(e) => match refusal(&user, "/settings/scoring", e) {
            Ok(refused) => {
                scoring_page(&state, &user, None, no_refusal(), form, refused, None).await
            }
            Err(page) => *page,
        },
    }
}

/// The preview button: a dry run of the rule as sent (a new one, or rule `id` changed), kept
/// with the form to show, as `POST /api/v1/scoring/preview`.
async fn preview(
    state: &AppState,
    user: &Viewer,
    id: Option<i64>,
    form: &mut RuleForm,
) -> Result<(), StoreError> {
    let input = scoring::RulePreview {
        rule_id: id,
        rule: Unread::json(Value::Object(form.body())).read()?,
    };
    let now = state.clock.now();
    form.previewed = Some(scoring::preview_rule(&state.db, &user.actor, input.into(), now).await?);
    Ok(())
}

#[derive(Template)]
#[template(path = "settings_scoring_rule.html")]
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
    let frame = Frame::new(user, "/settings/scoring");
    let form = match sent {
        Some(form) => form,
        None => match scoring::get_rule(&state.db, &user.actor, id).await {
            Ok(stored) => RuleForm::of_rule(&stored.rule),
            Err(e) => return store_error_page(frame.chrome, e),
        },
    };
    let page = RulePage {
        id,
        form: rule_view(frame.menu.s, &user.actor.locale, form, &refused.errors),
        refused,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(page.refused.status, &page)
}

fn not_found(user: &Viewer) -> Response {
    store_error_page(
        Chrome::for_user(user, "/settings/scoring"),
        StoreError::NotFound("ScoringRule"),
    )
}

/// `GET /settings/scoring/{id}`
pub(crate) async fn rule(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/scoring") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    rule_page(&state, &user, id, None, no_refusal(), notice).await
}

/// `POST /settings/scoring/{id}`: the whole rule again, as `PATCH /api/v1/scoring/rules/{id}`.
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
    if let Some(refused) = admin_only(&user, "/settings/scoring") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let mut form = form;
    let done = if form.preview {
        preview(&state, &user, Some(id), &mut form)
            .await
            .map(|()| None)
    } else {
        scoring::update_rule(
            ctx(&state, &user),
            id,
            Unread::json(Value::Object(form.body())),
        )
        .await
        .map(|_| Some(saved(&format!("/settings/scoring/{id}"))))
    };
    match done {
        Ok(Some(saved)) => saved,
        Ok(None) => rule_page(&state, &user, id, Some(form), no_refusal(), None).await,
        Err(e) => match refusal(&user, "/settings/scoring", e) {
            Ok(refused) => rule_page(&state, &user, id, Some(form), refused, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CsrfPost {
    csrf_token: String,
}

/// `POST /settings/scoring/{id}/delete`, as `DELETE /api/v1/scoring/rules/{id}`.
pub(crate) async fn delete_rule(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/scoring") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match scoring::delete_rule(ctx(&state, &user), id).await {
        Ok(()) => saved("/settings/scoring"),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/scoring"), e),
    }
}
