//! The data model (admins only): custom fields on leads, accounts, contacts and opportunities
//! (every type, options, required, order; deleting one says first how many records hold a
//! value and what becomes of those values), and the pipeline stages with their probabilities
//! (archived by making them inactive, since deals store their codes).

use super::frame::{
    admin_only, ctx, no_refusal, not_found, parse_id, refusal, saved, saved_notice, Errors, Frame,
    Menu, Refusal,
};
use super::texts::SettingsTexts;
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::ops::RangeInclusive;
use xiansuo_app::records::custom_fields::{self, CustomFieldPatch, NewCustomField};
use xiansuo_app::sales::pipeline::{
    self, NewStage, StageKind, StagePatch, POSITIONS, PROBABILITIES,
};
use xiansuo_core::Invalid;

const OBJECTS: [&str; 4] = ["lead", "account", "contact", "opportunity"];
const FIELD_TYPES: [&str; 6] = [
    "text",
    "number",
    "date",
    "single_select",
    "multi_select",
    "boolean",
];
const STAGE_KINDS: [&str; 3] = ["open", "won", "lost"];

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SavedQuery {
    saved: String,
    deleted: String,
}

fn choices(s: &SettingsTexts, codes: &[&str], current: &str) -> Vec<Choice> {
    codes
        .iter()
        .map(|c| Choice::new(*c, s.code(c), current))
        .collect()
}

/// The options typed one a line, as the store takes them.
fn option_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_select(field_type: &str) -> bool {
    matches!(field_type, "single_select" | "multi_select")
}

// ---------------------------------------------------------------------------------------------
// Custom fields

struct FieldRow {
    id: i64,
    key: String,
    label: String,
    field_type: String,
    options: String,
    required: bool,
    position: i64,
}

struct FieldGroup {
    object: String,
    fields: Vec<FieldRow>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NewFieldPost {
    csrf_token: String,
    object: String,
    key: String,
    label: String,
    field_type: String,
    options: String,
    required: String,
}

#[derive(Template)]
#[template(path = "settings_fields.html")]
struct FieldsPage {
    chrome: Chrome,
    menu: Menu,
    groups: Vec<FieldGroup>,
    form: NewFieldPost,
    objects: Vec<Choice>,
    types: Vec<Choice>,
    refused: Refusal,
    notice: Option<&'static str>,
}

async fn fields_page(
    state: &AppState,
    user: &Viewer,
    form: NewFieldPost,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/fields");
    let s = frame.menu.s;
    let defs = match custom_fields::list(&state.db).await {
        Ok(defs) => defs,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let groups = OBJECTS
        .iter()
        .map(|object| FieldGroup {
            object: s.code(object).to_owned(),
            fields: defs
                .items
                .iter()
                .filter(|d| d.object == *object)
                .map(|d| FieldRow {
                    id: d.id,
                    key: d.key.clone(),
                    label: d.label.clone(),
                    field_type: s.code(&d.field_type).to_owned(),
                    options: d.options.join(" · "),
                    required: d.required,
                    position: d.position,
                })
                .collect(),
        })
        .collect();
    let object = if form.object.is_empty() {
        "lead"
    } else {
        &form.object
    };
    let field_type = if form.field_type.is_empty() {
        "text"
    } else {
        &form.field_type
    };
    let page = FieldsPage {
        objects: choices(s, &OBJECTS, object),
        types: choices(s, &FIELD_TYPES, field_type),
        groups,
        form,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
        refused,
    };
    render(page.refused.status, &page)
}

/// `GET /settings/fields`
pub(crate) async fn fields(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/fields") {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = if query.deleted.is_empty() {
        saved_notice(s, &query.saved)
    } else {
        Some(s.field_deleted)
    };
    fields_page(&state, &user, NewFieldPost::default(), no_refusal(), notice).await
}

/// `POST /settings/fields`: a new custom field, as `POST /api/v1/custom-fields`.
pub(crate) async fn create_field(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<NewFieldPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let options = option_lines(&form.options);
    let new = NewCustomField {
        object: form.object.trim().to_owned(),
        key: form.key.trim().to_owned(),
        label: form.label.trim().to_owned(),
        field_type: form.field_type.trim().to_owned(),
        options: (!options.is_empty()).then_some(options),
        required: Some(!form.required.is_empty()),
    };
    match custom_fields::create_by(&state.db, &user.actor, new.into(), state.clock.now()).await {
        Ok(_) => saved("/settings/fields"),
        Err(e) => match refusal(&user, "/settings/fields", e) {
            Ok(refused) => fields_page(&state, &user, form, refused, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct FieldPost {
    csrf_token: String,
    label: String,
    options: String,
    required: String,
    position: String,
}

#[derive(Template)]
#[template(path = "settings_field.html")]
struct FieldPage {
    chrome: Chrome,
    menu: Menu,
    id: i64,
    object: String,
    key: String,
    field_type: String,
    select: bool,
    form: FieldPost,
    refused: Refusal,
    notice: Option<&'static str>,
}

async fn field_page(
    state: &AppState,
    user: &Viewer,
    id: i64,
    sent: Option<FieldPost>,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/fields");
    let s = frame.menu.s;
    let def = match custom_fields::get(&state.db, id).await {
        Ok(def) => def,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let form = sent.unwrap_or_else(|| FieldPost {
        label: def.label.clone(),
        options: def.options.join("\n"),
        required: if def.required {
            "on".to_owned()
        } else {
            String::new()
        },
        position: def.position.to_string(),
        ..FieldPost::default()
    });
    let page = FieldPage {
        id,
        object: s.code(&def.object).to_owned(),
        key: def.key,
        field_type: s.code(&def.field_type).to_owned(),
        select: is_select(&def.field_type),
        form,
        refused,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(page.refused.status, &page)
}

/// `GET /settings/fields/{id}`
pub(crate) async fn field(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/fields") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user, "CustomField");
    };
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    field_page(&state, &user, id, None, no_refusal(), notice).await
}

/// `POST /settings/fields/{id}`: label, options, required and order, as
/// `PATCH /api/v1/custom-fields/{id}`.
pub(crate) async fn update_field(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<FieldPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user, "CustomField");
    };
    let select = match custom_fields::get(&state.db, id).await {
        Ok(def) => is_select(&def.field_type),
        Err(e) => return store_error_page(Chrome::for_user(&user, "/settings/fields"), e),
    };
    let position = form.position.trim();
    let changed = match (!position.is_empty())
        .then(|| position.parse::<i64>())
        .transpose()
    {
        Ok(position) => {
            let patch = CustomFieldPatch {
                label: Some(form.label.trim().to_owned()),
                required: Some(!form.required.is_empty()),
                position,
                options: select.then(|| Some(option_lines(&form.options))),
                ..CustomFieldPatch::default()
            };
            custom_fields::update(&state.db, &user.actor, id, patch.into(), state.clock.now()).await
        }
        Err(_) => Err(Invalid::new("position", "must be a whole number from 0 to 1000000").into()),
    };
    match changed {
        Ok(_) => saved(&format!("/settings/fields/{id}")),
        Err(e) => match refusal(&user, "/settings/fields", e) {
            Ok(refused) => field_page(&state, &user, id, Some(form), refused, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Template)]
#[template(path = "settings_field_delete.html")]
struct DeletePage {
    chrome: Chrome,
    menu: Menu,
    id: i64,
    label: String,
    key: String,
    object: String,
    holding: i64,
}

/// `GET /settings/fields/{id}/delete`: what deleting the field does, before it is done.
pub(crate) async fn confirm_delete(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/fields") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user, "CustomField");
    };
    let frame = Frame::new(&user, "/settings/fields");
    let def = match custom_fields::get(&state.db, id).await {
        Ok(def) => def,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let page = DeletePage {
        id,
        object: frame.menu.s.code(&def.object).to_owned(),
        holding: def.records_with_value.unwrap_or_default(),
        label: def.label,
        key: def.key,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CsrfPost {
    csrf_token: String,
}

/// `POST /settings/fields/{id}/delete`, as `DELETE /api/v1/custom-fields/{id}`.
pub(crate) async fn delete_field(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user, "CustomField");
    };
    match custom_fields::delete(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(()) => Redirect::to("/settings/fields?deleted=1").into_response(),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/fields"), e),
    }
}

// ---------------------------------------------------------------------------------------------
// Pipeline stages

struct StageRow {
    id: i64,
    code: String,
    name_zh: String,
    name_en: String,
    probability: String,
    position: String,
    kinds: Vec<Choice>,
    active: bool,
    /// A refused change of this stage: next to its fields, or above them.
    errors: Errors,
    alert: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct StagePost {
    csrf_token: String,
    code: String,
    name_zh: String,
    name_en: String,
    probability: String,
    position: String,
    kind: String,
    active: String,
}

impl StagePost {
    /// A new stage, as `POST /api/v1/pipeline/stages` takes it.
    fn new_stage(&self) -> Result<NewStage, Invalid> {
        let name_en = self.name_en.trim();
        Ok(NewStage {
            code: self.code.trim().to_owned(),
            name_zh: self.name_zh.trim().to_owned(),
            name_en: (!name_en.is_empty()).then(|| name_en.to_owned()),
            probability: stage_number("probability", &self.probability, &PROBABILITIES)?,
            position: stage_number("position", &self.position, &POSITIONS)?,
            kind: stage_kind(&self.kind)?,
            active: None,
        })
    }

    /// The change of a stage: every field of its row.
    fn patch(&self) -> Result<StagePatch, Invalid> {
        Ok(StagePatch {
            code: None,
            name_zh: Some(self.name_zh.trim().to_owned()),
            name_en: Some(self.name_en.trim().to_owned()),
            probability: stage_number("probability", &self.probability, &PROBABILITIES)?,
            position: stage_number("position", &self.position, &POSITIONS)?,
            kind: stage_kind(&self.kind)?,
            active: Some(!self.active.is_empty()),
        })
    }
}

/// A number field of a stage: empty for none, otherwise a whole number.
fn stage_number(
    field: &str,
    value: &str,
    range: &RangeInclusive<i64>,
) -> Result<Option<i64>, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| pipeline::not_in(field, range))
}

/// The kind chosen for a stage; none when the field is empty.
fn stage_kind(kind: &str) -> Result<Option<StageKind>, Invalid> {
    let kind = kind.trim();
    (!kind.is_empty())
        .then(|| StageKind::parse(kind))
        .transpose()
}

#[derive(Template)]
#[template(path = "settings_stages.html")]
struct StagesPage {
    chrome: Chrome,
    menu: Menu,
    stages: Vec<StageRow>,
    form: StagePost,
    kinds: Vec<Choice>,
    refused: Refusal,
    notice: Option<&'static str>,
}

async fn stages_page(
    state: &AppState,
    user: &Viewer,
    form: StagePost,
    refused: Refusal,
    row: Option<(i64, StagePost, Refusal)>,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/stages");
    let s = frame.menu.s;
    let stages = match pipeline::list_stages(&state.db).await {
        Ok(stages) => stages,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let mut status = refused.status;
    let mut row = row;
    let rows = stages
        .items
        .into_iter()
        .map(|stage| {
            let id = stage.id;
            let code = stage.code;
            match row.take() {
                Some((row_id, sent, r)) if row_id == id => {
                    status = r.status;
                    StageRow {
                        id,
                        code,
                        kinds: choices(s, &STAGE_KINDS, &sent.kind),
                        name_zh: sent.name_zh,
                        name_en: sent.name_en,
                        probability: sent.probability,
                        position: sent.position,
                        active: !sent.active.is_empty(),
                        errors: r.errors,
                        alert: r.alert,
                    }
                }
                other => {
                    row = other;
                    StageRow {
                        id,
                        code,
                        name_zh: stage.name_zh,
                        name_en: stage.name_en,
                        probability: stage.probability.to_string(),
                        position: stage.position.to_string(),
                        kinds: choices(s, &STAGE_KINDS, stage.kind.code()),
                        active: stage.active,
                        errors: Errors::default(),
                        alert: None,
                    }
                }
            }
        })
        .collect();
    let kind = if form.kind.is_empty() {
        "open"
    } else {
        &form.kind
    };
    let page = StagesPage {
        stages: rows,
        kinds: choices(s, &STAGE_KINDS, kind),
        form,
        refused,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(status, &page)
}

/// `GET /settings/stages`
pub(crate) async fn stages(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/stages") {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    stages_page(
        &state,
        &user,
        StagePost::default(),
        no_refusal(),
        None,
        notice,
    )
    .await
}

/// `POST /settings/stages`: a new stage, as `POST /api/v1/pipeline/stages`.
pub(crate) async fn create_stage(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<StagePost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let new = form.new_stage();
    let created = match new {
        Ok(new) => pipeline::create_stage(ctx(&state, &user), new.into()).await,
        Err(invalid) => Err(invalid.into()),
    };
    match created {
        Ok(_) => saved("/settings/stages"),
        Err(e) => match refusal(&user, "/settings/stages", e) {
            Ok(refused) => stages_page(&state, &user, form, refused, None, None).await,
            Err(page) => *page,
        },
    }
}

/// `POST /settings/stages/{id}`: names, probability, order, kind and whether the stage is
/// active, as `PATCH /api/v1/pipeline/stages/{id}`.
pub(crate) async fn update_stage(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<StagePost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user, "PipelineStage");
    };
    let changed = match form.patch() {
        Ok(patch) => pipeline::update_stage(ctx(&state, &user), id, patch.into()).await,
        Err(invalid) => Err(invalid.into()),
    };
    match changed {
        Ok(_) => saved("/settings/stages"),
        Err(e) => match refusal(&user, "/settings/stages", e) {
            Ok(refused) => {
                let row = Some((id, form, refused));
                stages_page(&state, &user, StagePost::default(), no_refusal(), row, None).await
            }
            Err(page) => *page,
        },
    }
}
