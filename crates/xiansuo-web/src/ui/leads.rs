//! The lead pages: the create and edit forms (with the duplicate warnings of
//! [`super::duplicates`]); and the lead page with its details, a timeline of follow-ups and history, and a
//! form to log a follow-up. Every read and write goes through the record engine with the user's
//! data scope, so a lead outside it is a 404 here as in the API.

use super::duplicates::{self, CheckQuery, Warning};
use super::i18n::{self, Texts};
use super::lead_form::PhoneShown;
pub(super) use super::lead_form::{
    ctx, lead_url, parse_id, phone_shown, text_of, username, usernames, Posted,
};
use super::lead_work::{custom_body, custom_defs, qualification_message, CustomDef, LeadWork};
use super::list_texts::{list_texts, ListTexts};
use super::page::{
    csrf_refusal, lead_not_found, message_page, render, store_error_page, Choice, Chrome, Viewer,
    Zone,
};
use super::prediction_texts::{prediction_texts, PredictionTexts};
use super::sales_texts::{sales_texts, SalesTexts};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::DateTime;
use serde::Deserialize;
use serde_json::json;
use serde_json::{Map, Value};
use std::collections::HashMap;
use xiansuo_app::leads::activities::{self, Activity, NewActivity};
use xiansuo_app::leads::assignment::{self, LeadAssignment};
use xiansuo_app::leads::prediction;
use xiansuo_app::leads::qualification::{self, Ticks};
use xiansuo_app::records::schema::{ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES};
use xiansuo_app::records::{self, history};
use xiansuo_app::StoreError;
use xiansuo_core::choice::{ChoiceKind, Choices};
use xiansuo_core::lead::{ActivityType, Grade, LeadStatus};
use xiansuo_core::role::Role;
use xiansuo_core::Invalid;

/// How a status reads: from the admin's list, so a relabelled or added status shows as named.
pub(super) fn status_label(t: &Texts, choices: &Choices, code: &str) -> String {
    choices.label(ChoiceKind::Status, code, t.lang).to_owned()
}

/// How a source reads; a source no list names shows its code.
pub(super) fn source_label(t: &Texts, choices: &Choices, code: &str) -> String {
    choices.label(ChoiceKind::Source, code, t.lang).to_owned()
}

fn grade_label(t: &Texts, code: &str) -> String {
    Grade::parse(code).map_or_else(|_| code.to_owned(), |g| g.label(t.lang).to_owned())
}

/// A validation error as a person reads it: the field's label and the message.
pub(super) fn invalid_text(t: &Texts, invalid: &Invalid) -> String {
    format!("{}: {}", t.field(&invalid.field), t.invalid(invalid))
}

// ---------------------------------------------------------------------------------------------
// Create and edit

/// The lead form's fields in the order shown, each with how it is entered: an `<input>` type,
/// `select` or `textarea`.
const FORM_FIELDS: &[(&str, &str)] = &[
    ("name", "text"),
    ("company", "text"),
    ("title", "text"),
    ("phone", "tel"),
    ("email", "email"),
    ("source", "select"),
    ("status", "select"),
    ("grade", "select"),
    ("industry", "text"),
    ("province", "text"),
    ("city", "text"),
    ("tags", "text"),
    ("description", "textarea"),
];

/// Sources a person picks when entering a lead by hand; `api` and `import` are set by those
/// channels themselves.
fn manual_sources(choices: &Choices) -> impl Iterator<Item = &str> {
    choices
        .active(ChoiceKind::Source)
        .map(|s| s.code.as_str())
        .filter(|code| !matches!(*code, "api" | "import"))
}

/// Tags as typed: separated by ASCII or Chinese commas.
fn split_tags(text: &str) -> Vec<String> {
    text.split([',', '，'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A lead's value of a form field, as the form shows it.
fn form_value(lead: &Value, name: &str) -> String {
    if let Some(key) = name.strip_prefix("custom.") {
        match &lead["custom"][key] {
            Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(", "),
            other => text_of(other),
        }
    } else if name == "tags" {
        lead["tags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    } else {
        text_of(&lead[name])
    }
}

/// The body that creates a lead: the fields that were filled in.
fn create_body(posted: &Posted) -> Value {
    let mut body = Map::new();
    for (name, _) in FORM_FIELDS {
        let value = posted.get(name).trim();
        if value.is_empty() {
            continue;
        }
        let value = if *name == "tags" {
            Value::from(split_tags(value))
        } else {
            Value::from(value)
        };
        body.insert((*name).to_owned(), value);
    }
    Value::Object(body)
}

/// The body that changes a lead: only the fields that differ from `lead`, so that the history
/// records what the person changed and nothing else. An emptied field becomes null.
fn update_body(posted: &Posted, lead: &Value) -> Value {
    let mut body = Map::new();
    for (name, _) in FORM_FIELDS {
        let value = posted.get(name).trim();
        let value = if *name == "tags" {
            let tags = split_tags(value);
            if tags == split_tags(&form_value(lead, name)) {
                continue;
            }
            Value::from(tags)
        } else {
            if value == form_value(lead, name) {
                continue;
            }
            match (*name, value.is_empty()) {
                // A name cannot be emptied: send it so the store says why.
                ("name", _) | (_, false) => Value::from(value),
                // Status and source always have a value; an empty choice is no change.
                ("status" | "source", true) => continue,
                (_, true) => Value::Null,
            }
        };
        body.insert((*name).to_owned(), value);
    }
    Value::Object(body)
}

struct FormInput {
    name: String,
    label: String,
    /// `text`, `tel`, `email`, `select` or `textarea`.
    kind: &'static str,
    value: String,
    choices: Vec<Choice>,
    required: bool,
    hint: Option<&'static str>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "lead_form.html")]
struct LeadFormPage {
    chrome: Chrome,
    heading: &'static str,
    action: String,
    cancel_url: String,
    csrf: String,
    inputs: Vec<FormInput>,
    /// An error that belongs to no field of the form.
    error: Option<String>,
    /// Records that match what was posted, shown with "save anyway".
    duplicates: Vec<Warning>,
    /// The lead being edited, which the duplicate check leaves out.
    lead_id: Option<i64>,
    script_url: &'static str,
    dup: &'static ListTexts,
}

/// Which lead form a page shows: its heading, where it posts, where "cancel" leads, and the
/// custom fields it carries.
struct FormTarget {
    heading: &'static str,
    action: String,
    cancel: String,
    custom: Vec<CustomDef>,
    lead_id: Option<i64>,
}

impl FormTarget {
    fn new_lead(t: &Texts, custom: Vec<CustomDef>) -> Self {
        FormTarget {
            heading: t.new_lead,
            action: "/leads".into(),
            cancel: "/leads".into(),
            custom,
            lead_id: None,
        }
    }

    fn edit(t: &Texts, id: i64, custom: Vec<CustomDef>) -> Self {
        FormTarget {
            heading: t.edit_lead,
            action: lead_url(id),
            cancel: lead_url(id),
            custom,
            lead_id: Some(id),
        }
    }
}

/// The lead form filled with `value(name)`, with `error` next to its field, or `other_error`
/// above the form, and the `duplicates` of what was posted.
fn lead_form(
    user: &Viewer,
    target: FormTarget,
    value: impl Fn(&str) -> String,
    mut error: Option<Invalid>,
    other_error: Option<String>,
    duplicates: Vec<Warning>,
    status: StatusCode,
) -> Response {
    let chrome = Chrome::for_user(user, target.cancel.clone());
    let t = chrome.t;
    let mut inputs = FORM_FIELDS
        .iter()
        .map(|&(name, kind)| {
            let current = value(name);
            let listed = &user.choices;
            let choices = match name {
                "source" => {
                    let mut codes: Vec<&str> = manual_sources(listed).collect();
                    if !current.is_empty() && !codes.contains(&current.as_str()) {
                        codes.push(&current);
                    }
                    codes
                        .into_iter()
                        .map(|code| Choice::new(code, source_label(t, listed, code), &current))
                        .collect()
                }
                "status" => {
                    // An added status is what the lead shows and the form offers.
                    let detail = value("status_detail");
                    let current = if detail.is_empty() {
                        current.clone()
                    } else {
                        detail
                    };
                    listed
                        .of(ChoiceKind::Status)
                        .filter(|s| {
                            s.code == current
                                || (!s.archived && s.code != LeadStatus::Converted.code())
                        })
                        .map(|s| Choice::new(s.code.as_str(), s.label(t.lang), &current))
                        .collect()
                }
                "grade" => std::iter::once(Choice::new("", t.none, &current))
                    .chain(
                        Grade::ALL
                            .iter()
                            .map(|g| Choice::new(g.code(), g.label(t.lang), &current)),
                    )
                    .collect(),
                _ => Vec::new(),
            };
            FormInput {
                name: name.to_owned(),
                label: t.field(name).to_owned(),
                kind,
                value: current,
                choices,
                required: name == "name",
                hint: (name == "tags").then_some(t.tags_hint),
                error: error.take_if(|e| e.field == name).map(|e| t.invalid(&e)),
            }
        })
        .collect::<Vec<_>>();
    // The custom fields after the standard ones, the required ones marked like the name.
    let s = sales_texts(&user.actor.locale);
    for def in &target.custom {
        let current = value(&def.name);
        inputs.push(FormInput {
            label: def.label.clone(),
            kind: def.input_kind(),
            choices: def.choices(s, t.none, &current),
            value: current,
            required: def.required,
            hint: (def.field_type == "multi_select").then_some(t.tags_hint),
            error: error
                .take_if(|e| e.field == def.name)
                .map(|e| t.invalid(&e)),
            name: def.name.clone(),
        });
    }
    // A field the form does not show (a custom field rule, say) still gets its message.
    let other_error = other_error.or_else(|| error.map(|e| invalid_text(t, &e)));
    let page = LeadFormPage {
        heading: target.heading,
        action: target.action,
        cancel_url: target.cancel,
        csrf: user.csrf.clone(),
        inputs,
        error: other_error,
        duplicates,
        lead_id: target.lead_id,
        script_url: super::duplicates::script_url(),
        dup: list_texts(t.lang),
        chrome,
    };
    render(status, &page)
}

/// `GET /leads/new`
pub(super) async fn new_form(State(state): State<AppState>, user: Viewer) -> Response {
    let t = i18n::texts(&user.actor.locale);
    let custom = match custom_defs(&state).await {
        Ok(custom) => custom,
        Err(e) => return store_error_page(Chrome::for_user(&user, "/leads"), e),
    };
    let defaults = |name: &str| match name {
        "source" => "manual".to_owned(),
        "status" => LeadStatus::New.code().to_owned(),
        _ => String::new(),
    };
    lead_form(
        &user,
        FormTarget::new_lead(t, custom),
        defaults,
        None,
        None,
        Vec::new(),
        StatusCode::OK,
    )
}

/// A store error on a form post: a field's error goes back to the form with what was typed,
/// a conflict above the form; anything else is a page of its own.
fn form_error(user: &Viewer, target: FormTarget, posted: &Posted, error: StoreError) -> Response {
    let t = i18n::texts(&user.actor.locale);
    let value = |name: &str| posted.get(name).to_owned();
    match error {
        StoreError::Invalid(invalid) => lead_form(
            user,
            target,
            value,
            Some(in_words(user, invalid)),
            None,
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        StoreError::Conflict(message) => lead_form(
            user,
            target,
            value,
            None,
            Some(t.message(&message)),
            Vec::new(),
            StatusCode::CONFLICT,
        ),
        other => store_error_page(Chrome::for_user(user, target.cancel), other),
    }
}

/// A refusal to qualify a lead whose checklist is not met says so in the user's language and
/// points to the checklist on the lead's page.
fn in_words(user: &Viewer, invalid: Invalid) -> Invalid {
    if invalid
        .message
        .starts_with("the lead is not qualified: required items")
    {
        let s = sales_texts(&user.actor.locale);
        Invalid::new(invalid.field, s.tick_checklist_first)
    } else {
        invalid
    }
}

/// `POST /leads`
pub(super) async fn create(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, posted.csrf()) {
        return refused;
    }
    let custom = match custom_defs(&state).await {
        Ok(custom) => custom,
        Err(e) => return store_error_page(Chrome::for_user(&user, "/leads"), e),
    };
    let target = || FormTarget::new_lead(i18n::texts(&user.actor.locale), custom.clone());
    if let Some(warned) = duplicates_first(&state, &user, &posted, None, target).await {
        return warned;
    }
    let mut body = create_body(&posted);
    if let Some(values) = custom_body(&custom, &posted, None) {
        body["custom"] = values;
    }
    match records::create(ctx(&state, &user), &LEADS, &body).await {
        Ok(lead) => Redirect::to(
            &lead["id"]
                .as_i64()
                .map_or_else(|| "/leads".into(), lead_url),
        )
        .into_response(),
        Err(e) => form_error(
            &user,
            FormTarget::new_lead(i18n::texts(&user.actor.locale), custom),
            &posted,
            e,
        ),
    }
}

/// The form again with the records that match what was posted, unless the person already saw
/// them and chose "save anyway" (`dup_ack`); `None` when nothing strongly matches.
async fn duplicates_first(
    state: &AppState,
    user: &Viewer,
    posted: &Posted,
    except: Option<i64>,
    target: impl FnOnce() -> FormTarget,
) -> Option<Response> {
    if !posted.get("dup_ack").is_empty() {
        return None;
    }
    let typed = CheckQuery {
        phone: posted.get("phone").to_owned(),
        email: posted.get("email").to_owned(),
        name: posted.get("name").to_owned(),
        company: posted.get("company").to_owned(),
        except: except.map(|id| id.to_string()).unwrap_or_default(),
    };
    let found = duplicates::warnings(state, user, &typed).await;
    if !found.iter().any(|w| w.strong) {
        return None;
    }
    let value = |name: &str| posted.get(name).to_owned();
    Some(lead_form(
        user,
        target(),
        value,
        None,
        None,
        found,
        StatusCode::CONFLICT,
    ))
}

/// `GET /leads/{id}/edit`
pub(super) async fn edit_form(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return lead_not_found(Chrome::for_user(&user, "/leads"));
    };
    let t = i18n::texts(&user.actor.locale);
    let custom = match custom_defs(&state).await {
        Ok(custom) => custom,
        Err(e) => return store_error_page(Chrome::for_user(&user, "/leads"), e),
    };
    match records::get(&state.db, &user.actor, &LEADS, id).await {
        Ok(lead) if lead["status"] == LeadStatus::Converted.code() => message_page(
            Chrome::for_user(&user, lead_url(id)),
            StatusCode::CONFLICT,
            t.error_title,
            t.converted_read_only,
        ),
        Ok(lead) => lead_form(
            &user,
            FormTarget::edit(t, id, custom),
            |name| form_value(&lead, name),
            None,
            None,
            Vec::new(),
            StatusCode::OK,
        ),
        Err(e) => store_error_page(Chrome::for_user(&user, "/leads"), e),
    }
}

/// `POST /leads/{id}`
pub(super) async fn update(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, posted.csrf()) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return lead_not_found(Chrome::for_user(&user, "/leads"));
    };
    let lead = match records::get(&state.db, &user.actor, &LEADS, id).await {
        Ok(lead) => lead,
        Err(e) => return store_error_page(Chrome::for_user(&user, "/leads"), e),
    };
    let custom = match custom_defs(&state).await {
        Ok(custom) => custom,
        Err(e) => return store_error_page(Chrome::for_user(&user, "/leads"), e),
    };
    let mut body = update_body(&posted, &lead);
    let keys_changed = ["phone", "email", "name", "company"]
        .iter()
        .any(|name| body.get(name).is_some());
    if keys_changed {
        let target = || FormTarget::edit(i18n::texts(&user.actor.locale), id, custom.clone());
        if let Some(warned) = duplicates_first(&state, &user, &posted, Some(id), target).await {
            return warned;
        }
    }
    if let Some(values) = custom_body(&custom, &posted, Some(&lead)) {
        body["custom"] = values;
    }
    match records::update(ctx(&state, &user), &LEADS, id, &body).await {
        Ok(_) => Redirect::to(&lead_url(id)).into_response(),
        Err(e) => form_error(
            &user,
            FormTarget::edit(i18n::texts(&user.actor.locale), id, custom),
            &posted,
            e,
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// The lead page and follow-ups

struct Change {
    field: String,
    old: String,
    new: String,
}

/// One entry of the timeline: a follow-up or a history entry.
struct Entry {
    /// The RFC 3339 instant, to order entries.
    at: String,
    when: String,
    who: String,
    /// `activity` or `history`.
    kind: &'static str,
    title: String,
    outcome: Option<String>,
    content: Option<String>,
    next_follow_up: Option<String>,
    changes: Vec<Change>,
    channel: Option<String>,
}

/// What the follow-up form shows.
struct FollowUpForm {
    types: Vec<Choice>,
    outcomes: Vec<Choice>,
    content: String,
    next_follow_up_at: String,
    /// (field, message) of the error from the last post.
    error: Option<(String, String)>,
}

impl FollowUpForm {
    fn new(t: &Texts, choices: &Choices, posted: Option<&Posted>, error: Option<Invalid>) -> Self {
        let get = |name: &str| posted.map_or("", |p| p.get(name));
        let kind = if get("type").is_empty() {
            ActivityType::Call.code()
        } else {
            get("type")
        };
        FollowUpForm {
            types: ActivityType::ALL
                .iter()
                .map(|a| Choice::new(a.code(), a.label(t.lang), kind))
                .collect(),
            outcomes: std::iter::once(Choice::new("", t.none, get("outcome")))
                .chain(
                    choices
                        .active(ChoiceKind::Outcome)
                        .map(|o| Choice::new(o.code.as_str(), o.label(t.lang), get("outcome"))),
                )
                .collect(),
            content: get("content").to_owned(),
            next_follow_up_at: get("next_follow_up_at").to_owned(),
            error: error.map(|e| (e.field.clone(), t.invalid(&e))),
        }
    }

    /// The error message if it belongs to `field`.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The error message if it belongs to none of the form's fields.
    fn other_error(&self) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| {
                !["type", "outcome", "content", "next_follow_up_at"].contains(&f.as_str())
            })
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "lead.html")]
struct LeadPage {
    chrome: Chrome,
    url: String,
    name: String,
    company: String,
    status: String,
    status_label: String,
    grade: String,
    score: String,
    /// (label, value) pairs.
    /// Shown first among the details, with a `tel:` link when not masked.
    phone: Option<PhoneShown>,
    /// The time zone the next follow-up is entered in.
    zone_hint: String,
    details: Vec<(&'static str, String)>,
    tags: Vec<String>,
    description: String,
    /// Absent for a converted lead, which is read-only.
    follow_up: Option<FollowUpForm>,
    timeline: Vec<Entry>,
    csrf: String,
    /// Shown to the lead's owner while the lead is not converted.
    release: Option<ReleaseForm>,
    s: &'static SalesTexts,
    /// Whether the lead may be converted (it is neither converted nor disqualified).
    convertible: bool,
    /// What a converted lead became: (label, name, address).
    converted_into: Vec<(&'static str, String, String)>,
    /// Whether the undo of the conversion is offered (to its owner, managers and admins).
    may_undo: bool,
    notice: Option<&'static str>,
    /// Score, owner change, checklist and custom fields.
    work: LeadWork,
    p: &'static PredictionTexts,
    /// The win probability in percent with its top reasons; `None` before any model.
    prediction: Option<WinProbability>,
}

/// A lead's win probability as its page shows it.
struct WinProbability {
    percent: String,
    reasons: Vec<String>,
}

/// How many reasons the lead page shows.
const SHOWN_REASONS: usize = 3;

/// The lead's win probability and its first reasons, from the model in use.
fn win_probability(prediction: prediction::LeadPrediction) -> Option<WinProbability> {
    Some(WinProbability {
        percent: format!("{:.0}%", prediction.probability? * 100.0),
        reasons: prediction
            .reasons
            .into_iter()
            .take(SHOWN_REASONS)
            .map(|r| r.text)
            .collect(),
    })
}

/// The form that returns a lead to the public pool, with what was typed and why it was refused
/// when a post failed.
#[derive(Default)]
pub(super) struct ReleaseForm {
    pub(super) reason: String,
    pub(super) error: Option<String>,
}

/// Whether a history value is an instant as the API writes them (`2026-12-21T20:54:22.580Z`).
fn parse_time(text: &str) -> bool {
    text.len() >= 20 && text.as_bytes()[10] == b'T' && DateTime::parse_from_rfc3339(text).is_ok()
}

/// A history value as a person reads it.
fn shown_value(
    t: &Texts,
    zone: Zone,
    choices: &Choices,
    names: &HashMap<i64, String>,
    field: &str,
    value: &Value,
) -> String {
    match (field, value) {
        (_, Value::Null) => t.none.to_owned(),
        ("status" | "status_detail", Value::String(code)) => status_label(t, choices, code),
        ("source", Value::String(code)) => source_label(t, choices, code),
        ("disqualify_reason", Value::String(code)) => choices
            .label(ChoiceKind::DisqualifyReason, code, t.lang)
            .to_owned(),
        ("owner_id", id) => {
            let name = username(names, id);
            if name.is_empty() {
                text_of(id)
            } else {
                name
            }
        }
        ("grade", Value::String(code)) => grade_label(t, code),
        ("tier", Value::String(code)) => sales_texts(t.lang).tier_label(code),
        // Instants (protected until, assigned at, …) in the user's time zone.
        (_, Value::String(text)) if parse_time(text) => zone.time(text),
        (_, Value::Array(items)) => items.iter().map(text_of).collect::<Vec<_>>().join(", "),
        (_, Value::Bool(b)) => if *b { t.yes } else { t.no }.to_owned(),
        (_, other) => text_of(other),
    }
}

fn activity_entry(
    t: &Texts,
    zone: Zone,
    choices: &Choices,
    names: &HashMap<i64, String>,
    activity: &Activity,
) -> Entry {
    let at = activity.created_at.clone();
    let lang = t.lang;
    let kind = activity.kind.as_str();
    Entry {
        when: zone.time(&at),
        at,
        who: username(names, &Value::from(activity.owner_id)),
        kind: "activity",
        title: ActivityType::parse(kind)
            .map_or(kind, |a| a.label(lang))
            .to_owned(),
        outcome: activity
            .outcome
            .as_deref()
            .map(|c| choices.label(ChoiceKind::Outcome, c, lang).to_owned()),
        content: activity.content.clone(),
        next_follow_up: activity
            .next_follow_up_at
            .as_deref()
            .map(|at| zone.time(at)),
        changes: Vec::new(),
        channel: None,
    }
}

/// A field's label in the history: the form's label, a custom field's own label (`labels`,
/// by `custom.KEY`), or the name of a field only rules and jobs set.
fn field_label(t: &Texts, labels: &HashMap<String, String>, field: &str) -> String {
    if let Some(label) = labels.get(field) {
        return label.clone();
    }
    let known = t.field(field);
    if known != field {
        return known.to_owned();
    }
    sales_texts(t.lang).history_field(field)
}

fn history_entry(
    t: &Texts,
    zone: Zone,
    choices: &Choices,
    names: &HashMap<i64, String>,
    labels: &HashMap<String, String>,
    entry: &Value,
) -> Option<Entry> {
    let at = text_of(&entry["at"]);
    let (title, changes) = match entry["action"].as_str()? {
        "create" => (t.created_the_lead.to_owned(), Vec::new()),
        "delete" => (t.deleted_the_lead.to_owned(), Vec::new()),
        "restore" => (t.restored_the_lead.to_owned(), Vec::new()),
        "activity_delete" => (t.deleted_a_follow_up.to_owned(), Vec::new()),
        "update" => {
            let field = entry["field"].as_str().unwrap_or_default();
            (
                t.changed.to_owned(),
                vec![Change {
                    field: field_label(t, labels, field),
                    old: shown_value(t, zone, choices, names, field, &entry["old_value"]),
                    new: shown_value(t, zone, choices, names, field, &entry["new_value"]),
                }],
            )
        }
        // A logged follow-up is on the timeline itself.
        "activity" => return None,
        other => (
            sales_texts(t.lang)
                .history_action(other)
                .map_or_else(|| other.to_owned(), str::to_owned),
            Vec::new(),
        ),
    };
    // A change a rule or a job made is theirs, not the person's who set it off.
    let channel = entry["channel"].as_str().unwrap_or_default();
    let who = if matches!(channel, "rule" | "job") {
        t.channel(channel).to_owned()
    } else {
        entry["actor"].as_str().unwrap_or_default().to_owned()
    };
    Some(Entry {
        when: zone.time(&at),
        at,
        who,
        kind: "history",
        title,
        outcome: None,
        content: None,
        next_follow_up: None,
        changes,
        channel: entry["channel"].as_str().map(|c| t.channel(c).to_owned()),
    })
}

/// The lead page, with the follow-up form as posted (and its error) when a post failed, and the
/// return-to-pool form as posted when that failed.
pub(super) async fn lead_page(
    state: &AppState,
    user: &Viewer,
    id: i64,
    posted: Option<&Posted>,
    error: Option<Invalid>,
    release: Option<ReleaseForm>,
    code: StatusCode,
) -> Response {
    let forms = LeadForms {
        posted,
        error,
        release,
        notice: None,
        work_error: None,
    };
    lead_page_with(state, user, id, forms, code).await
}

/// What the lead page shows besides the lead: forms as posted and a notice.
pub(super) struct LeadForms<'a> {
    posted: Option<&'a Posted>,
    error: Option<Invalid>,
    release: Option<ReleaseForm>,
    notice: Option<&'static str>,
    /// A refused post of the working panel: (`owner` or `qualification`, message).
    work_error: Option<(&'static str, String)>,
}

/// The lead page after a refused post of its working panel (owner change, checklist).
pub(super) async fn lead_page_for_work(
    state: &AppState,
    user: &Viewer,
    id: i64,
    error: (&'static str, String),
    code: StatusCode,
) -> Response {
    let forms = LeadForms {
        posted: None,
        error: None,
        release: None,
        notice: None,
        work_error: Some(error),
    };
    lead_page_with(state, user, id, forms, code).await
}

/// What a converted lead became, as links: (label, name, address) of each record the user may
/// see.
async fn conversion_links(
    state: &AppState,
    user: &Viewer,
    s: &'static SalesTexts,
    lead: &Value,
) -> Vec<(&'static str, String, String)> {
    let mut links = Vec::new();
    for (label, table, field, path) in [
        (s.account, &ACCOUNTS, "converted_account_id", "/accounts"),
        (s.contact, &CONTACTS, "converted_contact_id", "/contacts"),
        (
            s.opportunity,
            &OPPORTUNITIES,
            "converted_opportunity_id",
            "/opportunities",
        ),
    ] {
        let Some(id) = lead[field].as_i64() else {
            continue;
        };
        if let Ok(record) = records::get(&state.db, &user.actor, table, id).await {
            links.push((label, text_of(&record["name"]), format!("{path}/{id}")));
        }
    }
    links
}

async fn lead_page_with(
    state: &AppState,
    user: &Viewer,
    id: i64,
    forms: LeadForms<'_>,
    code: StatusCode,
) -> Response {
    let LeadForms {
        posted,
        error,
        release,
        notice,
        work_error,
    } = forms;
    let chrome = Chrome::for_user(user, lead_url(id));
    let t = chrome.t;
    let loaded = async {
        let lead = records::get(&state.db, &user.actor, &LEADS, id).await?;
        let activities = activities::list(&state.db, &user.actor, &LEADS, id).await?;
        let history = history::read(&state.db, &user.actor, &LEADS, id).await?;
        let labels: HashMap<String, String> = custom_defs(state)
            .await?
            .into_iter()
            .map(|d| (d.name, d.label))
            .collect();
        let names = usernames(state).await?;
        Ok::<_, StoreError>((lead, activities, history, names, labels))
    };
    let (lead, activities, history, names, labels) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(chrome, e),
    };
    let mut timeline: Vec<Entry> = activities
        .items
        .iter()
        .map(|a| activity_entry(t, user.zone, &user.choices, &names, a))
        .chain(
            history
                .iter()
                .rev()
                .filter_map(|h| history_entry(t, user.zone, &user.choices, &names, &labels, h)),
        )
        .collect();
    // Newest first. Both lists are newest first already, and the stable sort keeps that order
    // among entries of the same instant, with a follow-up above the changes it caused.
    timeline.sort_by(|a, b| b.at.cmp(&a.at));
    let status = text_of(&lead["status"]);
    let or_none = |value: String| {
        if value.is_empty() {
            t.none.to_owned()
        } else {
            value
        }
    };
    let shown = |name: &str| or_none(text_of(&lead[name]));
    let region = [text_of(&lead["province"]), text_of(&lead["city"])]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let source = text_of(&lead["source"]);
    let grade = text_of(&lead["grade"]);
    let details = vec![
        (t.email, shown("email")),
        (t.title, shown("title")),
        (t.source, source_label(t, &user.choices, &source)),
        (t.grade, or_none(grade_label(t, &grade))),
        (t.owner, username(&names, &lead["owner_id"])),
        (t.industry, shown("industry")),
        (t.region, or_none(region)),
        (t.created_at, user.zone.time(&text_of(&lead["created_at"]))),
        (t.updated_at, user.zone.time(&text_of(&lead["updated_at"]))),
    ];
    let open = status != LeadStatus::Converted.code();
    let owned = lead["owner_id"].as_i64() == Some(user.actor.user_id);
    let s = sales_texts(&user.actor.locale);
    let converted_into = if open {
        Vec::new()
    } else {
        conversion_links(state, user, s, &lead).await
    };
    let work = match super::lead_work::load(state, user, &lead, work_error).await {
        Ok(work) => work,
        Err(e) => return store_error_page(chrome, e),
    };
    let prediction = match prediction::lead_prediction(&state.db, &user.actor, id).await {
        Ok(prediction) => win_probability(prediction),
        Err(e) => return store_error_page(chrome, e),
    };
    let page = LeadPage {
        s,
        p: prediction_texts(&user.actor.locale),
        prediction,
        convertible: open && status != LeadStatus::Disqualified.code(),
        converted_into,
        may_undo: !open && (owned || user.actor.role != Role::Rep),
        notice,
        work,
        release: (open && owned).then(|| release.unwrap_or_default()),
        url: lead_url(id),
        name: text_of(&lead["name"]),
        company: text_of(&lead["company"]),
        status_label: user
            .choices
            .status_label(&status, lead["status_detail"].as_str(), t.lang)
            .to_owned(),
        follow_up: open.then(|| FollowUpForm::new(t, &user.choices, posted, error)),
        status,
        grade,
        score: text_of(&lead["score"]),
        phone: phone_shown(&lead),
        zone_hint: user.zone.hint(t),
        details,
        tags: lead["tags"]
            .as_array()
            .map(|tags| tags.iter().map(text_of).collect())
            .unwrap_or_default(),
        description: text_of(&lead["description"]),
        timeline,
        csrf: user.csrf.clone(),
        chrome,
    };
    render(code, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ShowQuery {
    undone: String,
    moved: String,
}

/// `GET /leads/{id}`
pub(super) async fn show(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return lead_not_found(Chrome::for_user(&user, "/leads"));
    };
    let forms = LeadForms {
        posted: None,
        error: None,
        release: None,
        notice: if !query.undone.is_empty() {
            Some(sales_texts(&user.actor.locale).conversion_undone)
        } else {
            (!query.moved.is_empty()).then(|| sales_texts(&user.actor.locale).owner_changed)
        },
        work_error: None,
    };
    lead_page_with(&state, &user, id, forms, StatusCode::OK).await
}

/// `POST /leads/{id}/activities`
pub(super) async fn log_activity(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, posted.csrf()) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return lead_not_found(Chrome::for_user(&user, "/leads"));
    };
    let given = |name: &str| {
        let value = posted.get(name).trim();
        (!value.is_empty()).then(|| value.to_owned())
    };
    let mut new = NewActivity {
        kind: posted.get("type").to_owned(),
        outcome: given("outcome"),
        content: given("content"),
        next_follow_up_at: None,
    };
    let next = posted.get("next_follow_up_at").trim();
    if !next.is_empty() {
        let Some(at) = user.zone.instant_of_local(next) else {
            let error = Invalid::new(
                "next_follow_up_at",
                "must be an RFC 3339 time such as 2026-12-01T09:00:00+08:00",
            );
            return lead_page(
                &state,
                &user,
                id,
                Some(&posted),
                Some(error),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        };
        new.next_follow_up_at = Some(at);
    }
    match activities::create(ctx(&state, &user), &LEADS, id, new.into()).await {
        Ok(_) => Redirect::to(&format!("{}#timeline", lead_url(id))).into_response(),
        Err(StoreError::Invalid(invalid)) => {
            lead_page(
                &state,
                &user,
                id,
                Some(&posted),
                Some(invalid),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => store_error_page(Chrome::for_user(&user, lead_url(id)), e),
    }
}

/// The lead page after a refused post of the working panel.
async fn refused(
    state: &AppState,
    user: &Viewer,
    id: i64,
    form: &'static str,
    error: StoreError,
) -> Response {
    let chrome = Chrome::for_user(user, lead_url(id));
    let s = sales_texts(&user.actor.locale);
    let (status, message) = match error {
        StoreError::Invalid(invalid) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            qualification_message(s, &chrome, &invalid),
        ),
        StoreError::Conflict(message) => (StatusCode::CONFLICT, chrome.t.message(&message)),
        StoreError::Forbidden(message) => (StatusCode::FORBIDDEN, s.forbidden_message(&message)),
        other => return store_error_page(chrome, other),
    };
    lead_page_for_work(state, user, id, (form, message), status).await
}

/// `POST /leads/{id}/owner`: gives the lead to another user (转移负责人).
pub(super) async fn change_owner(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, posted.csrf()) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return lead_not_found(Chrome::for_user(&user, "/leads"));
    };
    let owner = posted.get("owner_id").trim().parse::<i64>();
    let assigned = match owner {
        Ok(owner_id) => {
            let change = LeadAssignment { owner_id };
            assignment::assign_lead(ctx(&state, &user), id, change.into()).await
        }
        Err(_) => Err(Invalid::new("owner_id", "is required and must be a user id").into()),
    };
    match assigned {
        Ok(_) => Redirect::to(&format!("{}?moved=1", lead_url(id))).into_response(),
        Err(e @ StoreError::NotFound(_)) => {
            store_error_page(Chrome::for_user(&user, lead_url(id)), e)
        }
        Err(e) => refused(&state, &user, id, "owner", e).await,
    }
}

/// `POST /leads/{id}/qualification`: ticks the checklist as posted (`item` once per ticked
/// box), and with `qualify` also marks the lead qualified.
pub(super) async fn qualify(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let ticked: Vec<String> = pairs
        .iter()
        .filter(|(name, _)| name == "item")
        .map(|(_, key)| key.clone())
        .collect();
    let posted = Posted::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, posted.csrf()) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return lead_not_found(Chrome::for_user(&user, "/leads"));
    };
    let current = match qualification::lead(&state.db, &user.actor, id).await {
        Ok(current) => current,
        Err(e) => return store_error_page(Chrome::for_user(&user, lead_url(id)), e),
    };
    let items = current
        .items
        .into_iter()
        .map(|i| {
            let met = ticked.contains(&i.key);
            (i.key, met)
        })
        .collect();
    let ticks = Ticks {
        checklist_id: None,
        items: Some(items),
    };
    if let Err(e) = qualification::put(ctx(&state, &user), id, ticks.into()).await {
        return refused(&state, &user, id, "qualification", e).await;
    }
    if !posted.get("qualify").is_empty() {
        let change = json!({"status": LeadStatus::Qualified.code()});
        if let Err(e) = records::update(ctx(&state, &user), &LEADS, id, &change).await {
            return refused(&state, &user, id, "qualification", e).await;
        }
    }
    Redirect::to(&format!("{}#qualification", lead_url(id))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_new_lead_gets_the_fields_that_were_filled_in() {
        let body = create_body(&posted(&[
            ("name", " 王芳 "),
            ("company", ""),
            ("tags", "展会，重点客户, ,vip"),
            ("csrf_token", "x"),
        ]));
        assert_eq!(
            body,
            json!({"name": "王芳", "tags": ["展会", "重点客户", "vip"]})
        );
    }

    #[test]
    fn an_edit_sends_only_what_changed_and_clears_emptied_fields() {
        let lead = json!({
            "name": "王芳", "company": "云启", "title": "经理", "phone": "138 1234 5678",
            "email": null, "source": "event", "status": "new", "grade": "B",
            "industry": null, "province": null, "city": null, "description": null,
            "tags": ["展会", "vip"],
        });
        let body = update_body(
            &posted(&[
                ("name", "王芳"),
                ("company", "云启"),
                ("title", ""),
                ("phone", "138 1234 5678"),
                ("source", ""),
                ("status", "working"),
                ("grade", ""),
                ("tags", "展会, vip"),
            ]),
            &lead,
        );
        assert_eq!(
            body,
            json!({"title": null, "status": "working", "grade": null})
        );
        let body = update_body(&posted(&[("name", ""), ("tags", "")]), &lead);
        assert_eq!(body["name"], "");
        assert_eq!(body["tags"], json!([]));
    }

    #[test]
    fn history_names_fields_values_and_rules_in_words() {
        let t = i18n::texts("zh");
        let names = HashMap::new();
        let labels = HashMap::from([("custom.budget".to_owned(), "预算".to_owned())]);
        let entry = |field: &str, old: Value, new: Value, channel: &str| {
            history_entry(
                t,
                Zone::default(),
                &Choices::default(),
                &names,
                &labels,
                &json!({"action": "update", "field": field, "old_value": old,
                        "new_value": new, "actor": "admin", "channel": channel,
                        "at": "2026-12-06T12:00:00.000Z"}),
            )
            .unwrap()
        };
        let rescored = entry("tier", json!("low"), json!("high"), "rule");
        assert_eq!(rescored.who, "规则", "a rule's change is the rule's");
        assert_eq!(rescored.changes[0].field, "潜力");
        assert_eq!(
            (
                rescored.changes[0].old.as_str(),
                rescored.changes[0].new.as_str()
            ),
            ("低", "高")
        );
        let protected = entry(
            "protected_until",
            Value::Null,
            json!("2026-12-21T20:54:22.580Z"),
            "job",
        );
        assert_eq!(protected.who, "定时任务");
        assert_eq!(protected.changes[0].field, "保护期至");
        assert_eq!(
            protected.changes[0].new, "2026-12-22 04:54",
            "China Standard Time"
        );
        let custom = entry("custom.budget", Value::Null, json!(50000), "ui");
        assert_eq!(custom.who, "admin");
        assert_eq!(custom.changes[0].field, "预算");
    }
}
