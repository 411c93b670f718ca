//! The import wizard: pick what to import (leads, accounts, contacts, opportunities or
//! activities, with a hint on their order), upload a CSV or XLSX file (a multipart form), look
//! at the proposed column mapping and the first rows with their check result, change where
//! columns go, choose who owns the imported records (the signed-in user, anyone active within
//! their data scope, or for leads the assignment rules) and for leads what becomes of certain
//! and probable duplicates, start the import, and follow it on a page that refreshes itself while it runs,
//! with its counts and a link to the row report (errors.csv). `/imports` lists the user's
//! imports. The pages call the
//! same `xiansuo_app::data::import::upload` functions as `/api/v1/imports`; an upload belongs to the
//! user who sent it, so anyone else gets a 404.

use super::i18n::Texts;
use super::import_texts::{import_texts, ImportTexts};
use super::leads::{invalid_text, parse_id, text_of};
use super::page::{csrf_failed, csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::auth::same_secret;
use crate::AppState;
use askama::Template;
use axum::extract::multipart::{Field, Multipart};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use xiansuo_app::admin::users;
use xiansuo_app::data::import::upload::{
    self, ImportUpload, Kind, PreviewLine, StartChoices, UPLOAD_LIMIT,
};
use xiansuo_app::StoreError;
use xiansuo_core::role::Role;
use xiansuo_core::Invalid;

/// Imports listed.
const LISTED: &str = "50";

fn import_url(id: i64) -> String {
    format!("/imports/{id}")
}

// ---------------------------------------------------------------------------------------------
// The list and the upload form

struct ImportRow {
    url: String,
    file_name: String,
    kind: String,
    state: String,
    state_label: String,
    created: String,
    imported: i64,
    skipped: i64,
    failed: i64,
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    chrome: Chrome,
    it: &'static ImportTexts,
    rows: Vec<ImportRow>,
}

/// `GET /imports`
pub(super) async fn list(State(state): State<AppState>, user: Viewer) -> Response {
    let chrome = Chrome::for_user(&user, "/imports");
    let t = chrome.t;
    let it = import_texts(&user.actor.locale);
    let params = [("limit".to_owned(), LISTED.to_owned())];
    let listed = match upload::list(&state.db, &user.actor, &params).await {
        Ok(listed) => listed,
        Err(e) => return store_error_page(chrome, e),
    };
    let rows = listed
        .items
        .iter()
        .map(|u| ImportRow {
            url: import_url(u.id),
            file_name: u.file_name.clone(),
            kind: it.kind_label(&u.kind).to_owned(),
            state_label: t.code(&u.state).to_owned(),
            state: u.state.clone(),
            created: user.zone.time(&u.created_at),
            imported: u.progress.imported,
            skipped: u.progress.skipped,
            failed: u.progress.failed,
        })
        .collect();
    render(StatusCode::OK, &ImportsPage { chrome, it, rows })
}

#[derive(Template)]
#[template(path = "import_new.html")]
struct UploadPage {
    chrome: Chrome,
    it: &'static ImportTexts,
    csrf: String,
    kinds: Vec<Choice>,
    error: Option<String>,
}

fn upload_form(user: &Viewer, kind: Kind, error: Option<String>, status: StatusCode) -> Response {
    let it = import_texts(&user.actor.locale);
    let page = UploadPage {
        chrome: Chrome::for_user(user, "/imports/new"),
        it,
        csrf: user.csrf.clone(),
        kinds: Kind::ALL
            .into_iter()
            .map(|k| Choice::new(k.plural(), it.kind_label(k.plural()), kind.plural()))
            .collect(),
        error,
    };
    render(status, &page)
}

/// `GET /imports/new`: `?kind=` picks the kind of record (leads otherwise).
pub(super) async fn new_form(
    user: Viewer,
    axum::extract::Query(query): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    let kind = query
        .iter()
        .find(|(name, _)| name == "kind")
        .and_then(|(_, value)| Kind::parse(value).ok())
        .unwrap_or(Kind::Lead);
    upload_form(&user, kind, None, StatusCode::OK)
}

/// Why an upload could not be received.
enum Refusal {
    Csrf,
    NoFile,
    TooLarge,
    Broken,
}

/// Writes a file part to a temporary file as it arrives, up to the upload limit.
async fn spool(field: &mut Field<'_>) -> Result<tempfile::NamedTempFile, Refusal> {
    let broken = |_| Refusal::Broken;
    let mut file = tempfile::Builder::new()
        .prefix("xiansuo-upload-")
        .tempfile()
        .map_err(broken)?;
    let mut size = 0_u64;
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(Refusal::TooLarge),
            Err(_) => return Err(Refusal::Broken),
        };
        size += chunk.len() as u64;
        if size > UPLOAD_LIMIT {
            return Err(Refusal::TooLarge);
        }
        file.write_all(&chunk).map_err(broken)?;
    }
    if size == 0 {
        return Err(Refusal::NoFile);
    }
    Ok(file)
}

/// The file of the upload form, its name and the kind picked before it. The CSRF field comes
/// first in the form, so a file from a form that is not the session's is refused before it is
/// stored.
async fn receive(
    state: &AppState,
    user: &Viewer,
    request: Request,
) -> Result<(tempfile::NamedTempFile, String, Kind), Refusal> {
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|_| Refusal::Broken)?;
    let mut csrf_checked = false;
    let mut kind = Kind::Lead;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(Refusal::TooLarge),
            Err(_) => return Err(Refusal::Broken),
        };
        match field.name() {
            Some("csrf_token") => {
                let sent = field.text().await.map_err(|_| Refusal::Broken)?;
                if !same_secret(&sent, &user.csrf) {
                    return Err(Refusal::Csrf);
                }
                csrf_checked = true;
            }
            Some("kind") => {
                let code = field.text().await.map_err(|_| Refusal::Broken)?;
                kind = Kind::parse(&code).map_err(|_| Refusal::Broken)?;
            }
            Some("file") if csrf_checked => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let file = spool(&mut field).await?;
                return Ok((file, name, kind));
            }
            Some("file") => return Err(Refusal::Csrf),
            _ => {}
        }
    }
    if csrf_checked {
        Err(Refusal::NoFile)
    } else {
        Err(Refusal::Csrf)
    }
}

/// `POST /imports`: stores the file and shows the mapping and the preview.
pub(super) async fn upload(
    State(state): State<AppState>,
    user: Viewer,
    request: Request,
) -> Response {
    let t = super::i18n::texts(&user.actor.locale);
    let lead = Kind::Lead;
    let (file, name, kind) = match receive(&state, &user, request).await {
        Ok(received) => received,
        Err(Refusal::Csrf) => return csrf_failed(&user),
        Err(Refusal::NoFile) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return upload_form(&user, lead, Some(t.no_file.into()), status);
        }
        Err(Refusal::TooLarge) => {
            let status = StatusCode::PAYLOAD_TOO_LARGE;
            return upload_form(&user, lead, Some(t.file_too_large.into()), status);
        }
        Err(Refusal::Broken) => {
            let status = StatusCode::BAD_REQUEST;
            return upload_form(&user, lead, Some(t.bad_upload.into()), status);
        }
    };
    let created = upload::create(
        &state.db,
        &user.actor,
        state.clock.as_ref(),
        file.path(),
        &name,
        kind,
    )
    .await;
    match created {
        Ok(uploaded) => {
            import_page(
                &state,
                &user,
                &uploaded.upload,
                &uploaded.preview,
                None,
                uploaded.mapping_error.clone(),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(StoreError::Invalid(invalid)) => upload_form(
            &user,
            kind,
            Some(t.invalid(&invalid)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(StoreError::Conflict(message)) => {
            upload_form(&user, kind, Some(t.message(&message)), StatusCode::CONFLICT)
        }
        Err(e) => store_error_page(Chrome::for_user(&user, "/imports/new"), e),
    }
}

// ---------------------------------------------------------------------------------------------
// One import: mapping and preview, then progress

/// One column of the file and where it goes.
struct MappingRow {
    /// The form field: `col0`, `col1`, …
    input: String,
    header: String,
    choices: Vec<Choice>,
}

struct PreviewRow {
    row: String,
    name: String,
    phone: String,
    company: String,
    /// What the row would do to a record other than a lead: create or update.
    action: String,
    result: String,
    result_label: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    it: &'static ImportTexts,
    csrf: String,
    url: String,
    file_name: String,
    /// Leads, which take a default country and are checked for duplicates.
    is_lead: bool,
    kind_label: String,
    state: String,
    state_label: String,
    mapping: Vec<MappingRow>,
    /// Who owns the imported records: the user's id, others' ids, or empty for the rules.
    owners: Vec<Choice>,
    owner_error: Option<String>,
    /// What to do with certain and with probable duplicates of leads.
    dedups: Vec<Choice>,
    probables: Vec<Choice>,
    preview: Vec<PreviewRow>,
    error: Option<String>,
    rows_done: i64,
    imported: i64,
    skipped: i64,
    failed: i64,
    updated: i64,
    warned: i64,
    warnings: i64,
    errors_csv: Option<String>,
}

/// The label of a field or target of `kind`.
pub(super) fn target_label<'a>(t: &Texts, it: &ImportTexts, kind: Kind, code: &'a str) -> &'a str {
    match kind {
        Kind::Lead => t.field(code),
        Kind::Object(_) => it.target(t, code),
    }
}

/// Where each column can go: not imported, a field of the kind, or one of its custom fields.
fn targets(
    t: &Texts,
    it: &ImportTexts,
    kind: Kind,
    codes: &[String],
    custom: &[(String, String)],
) -> Vec<(String, String)> {
    std::iter::once((String::new(), t.ignore_column.to_owned()))
        .chain(codes.iter().map(|code| {
            let label = custom
                .iter()
                .find(|(c, _)| c == code)
                .map_or_else(|| target_label(t, it, kind, code), |(_, l)| l.as_str());
            (code.clone(), label.to_owned())
        }))
        .collect()
}

fn preview_row(t: &Texts, it: &ImportTexts, kind: Kind, line: &PreviewLine) -> PreviewRow {
    let result = line.result.clone();
    let reason = match (line.field.as_deref(), line.reason.as_deref()) {
        (Some(field), Some(reason)) => {
            format!(
                "{}: {}",
                target_label(t, it, kind, field),
                t.row_reason(field, reason)
            )
        }
        (None, Some(reason)) => t.message(reason),
        _ => String::new(),
    };
    // A lead as the API would get it; another record as `create`, or `update` with its body.
    let none = Value::Null;
    let record = line.record.as_ref().unwrap_or(&none);
    let (body, action) = if kind == Kind::Lead {
        (line.lead.as_ref().unwrap_or(&none), "")
    } else if record["update"].is_null() {
        let created = if record["create"].is_null() {
            record
        } else {
            &record["create"]
        };
        (created, it.will_create)
    } else {
        (&record["body"], it.will_update)
    };
    let name = match (body["name"].as_str(), body["content"].as_str()) {
        (Some(name), _) => name.to_owned(),
        (None, Some(content)) => content.chars().take(40).collect(),
        _ => [&body["last_name"], &body["first_name"]]
            .iter()
            .map(|v| text_of(v))
            .collect::<String>(),
    };
    PreviewRow {
        row: line.row.to_string(),
        name,
        phone: text_of(&body["phone"]),
        company: text_of(&body["company"]),
        action: if record.is_null() && kind != Kind::Lead {
            String::new()
        } else {
            action.to_owned()
        },
        result_label: t.code(&result).to_owned(),
        result,
        reason,
    }
}

/// The start form's choices as posted.
struct Posted {
    /// The targets of the columns, in their order.
    mapping: Vec<String>,
    owner: String,
    dedup: String,
    probable: String,
}

impl Posted {
    fn of(pairs: &[(String, String)], columns: usize) -> Posted {
        let value = |field: &str| {
            pairs
                .iter()
                .find(|(name, _)| name == field)
                .map_or_else(String::new, |(_, value)| value.trim().to_owned())
        };
        Posted {
            mapping: (0..columns).map(|i| value(&format!("col{i}"))).collect(),
            owner: value("owner_id"),
            dedup: value("dedup"),
            probable: value("dedup_probable"),
        }
    }

    /// The owner chosen: none (empty) or a user id, refused as the API refuses what is not one.
    fn owner_id(&self) -> Result<Option<i64>, Invalid> {
        if self.owner.is_empty() {
            return Ok(None);
        }
        self.owner
            .parse()
            .map(Some)
            .map_err(|_| Invalid::new("owner_id", "must be a user id"))
    }

    /// The policies chosen for the duplicates of a lead import, empty for the default.
    fn policies(&self, kind: Kind) -> (Option<String>, Option<String>) {
        if kind != Kind::Lead {
            return (None, None);
        }
        let given = |code: &str| (!code.is_empty()).then(|| code.to_owned());
        (given(&self.dedup), given(&self.probable))
    }
}

/// Whom the user may give the imported records to: themselves first, then the active users
/// within their data scope by username; for leads, the assignment rules (no owner) before them.
/// A rep gets the records by default, as does anyone importing records other than leads.
async fn owner_choices(
    state: &AppState,
    user: &Viewer,
    it: &ImportTexts,
    kind: Kind,
    posted: Option<&str>,
) -> Result<Vec<Choice>, StoreError> {
    let me = user.actor.user_id;
    let default = if kind == Kind::Lead && user.actor.role != Role::Rep {
        String::new()
    } else {
        me.to_string()
    };
    let mut others: Vec<(i64, String)> = users::list(&state.db, &[])
        .await?
        .into_iter()
        .filter(|u| u.active && u.id != me && user.actor.sees_owner(u.id))
        .map(|u| (u.id, u.username))
        .collect();
    others.sort_by(|a, b| a.1.cmp(&b.1));
    // A refused owner is not offered: the default is chosen again.
    let offered = |id: &str| {
        (kind == Kind::Lead && id.is_empty())
            || id == me.to_string()
            || others.iter().any(|(other, _)| other.to_string() == id)
    };
    let current = posted.filter(|id| offered(id)).unwrap_or(&default);
    let rules = (kind == Kind::Lead).then(|| Choice::new("", it.owner_rules, current));
    let mine = Choice::new(
        me.to_string(),
        format!("{} ({})", it.owner_me, user.actor.username),
        current,
    );
    Ok(rules
        .into_iter()
        .chain(std::iter::once(mine))
        .chain(
            others
                .into_iter()
                .map(|(id, name)| Choice::new(id.to_string(), name, current)),
        )
        .collect())
}

/// The dedup policies to choose from, with `first` (the channel's setting) before them.
fn dedup_choices(it: &ImportTexts, first: Option<&str>, current: &str) -> Vec<Choice> {
    first
        .map(|label| Choice::new("", label, current))
        .into_iter()
        .chain(
            it.dedups
                .iter()
                .map(|(code, label)| Choice::new(*code, *label, current)),
        )
        .collect()
}

/// The page of an upload: before it starts, the start form (with `posted`, the choices as
/// posted, after a refused start) and the preview when there is one; afterwards, its progress.
#[allow(clippy::too_many_arguments)]
async fn import_page(
    state: &AppState,
    user: &Viewer,
    upload: &ImportUpload,
    preview: &[PreviewLine],
    posted: Option<&Posted>,
    error: Option<String>,
    owner_error: Option<String>,
    status: StatusCode,
) -> Response {
    let id = upload.id;
    let chrome = Chrome::for_user(user, import_url(id));
    let t = chrome.t;
    let it = import_texts(&user.actor.locale);
    let kind = Kind::parse(&upload.kind).unwrap_or(Kind::Lead);
    let custom: Vec<(String, String)> = match upload::custom_columns_of(&state.db, kind).await {
        Ok(columns) => columns
            .into_iter()
            .map(|c| (format!("custom.{}", c.key), c.label))
            .collect(),
        Err(e) => return store_error_page(chrome, e),
    };
    let targets = targets(t, it, kind, &upload.targets, &custom);
    let proposed = |i: usize| -> String {
        upload
            .mapping
            .as_ref()
            .and_then(|columns| columns.get(i))
            .and_then(|column| column.field.clone())
            .unwrap_or_default()
    };
    let mapping = upload
        .headers
        .iter()
        .enumerate()
        .map(|(i, header)| {
            let current = posted.map_or_else(
                || proposed(i),
                |p| p.mapping.get(i).cloned().unwrap_or_default(),
            );
            MappingRow {
                input: format!("col{i}"),
                header: header.clone(),
                choices: targets
                    .iter()
                    .map(|(value, label)| Choice::new(value.clone(), label.clone(), &current))
                    .collect(),
            }
        })
        .collect();
    let state_code = upload.state.clone();
    let owners = if state_code == "uploaded" {
        match owner_choices(state, user, it, kind, posted.map(|p| p.owner.as_str())).await {
            Ok(owners) => owners,
            Err(e) => return store_error_page(chrome, e),
        }
    } else {
        Vec::new()
    };
    let dedup = posted.map_or("skip", |p| p.dedup.as_str());
    let probable = posted.map_or("", |p| p.probable.as_str());
    let progress = &upload.progress;
    let error = error.or_else(|| upload.error.clone());
    let page = ImportPage {
        it,
        csrf: user.csrf.clone(),
        url: import_url(id),
        file_name: upload.file_name.clone(),
        is_lead: kind == Kind::Lead,
        kind_label: it.kind_label(kind.plural()).to_owned(),
        state_label: t.code(&state_code).to_owned(),
        state: state_code,
        mapping,
        owners,
        owner_error,
        dedups: dedup_choices(it, None, dedup),
        probables: dedup_choices(it, Some(it.dedup_channel), probable),
        preview: preview
            .iter()
            .map(|line| preview_row(t, it, kind, line))
            .collect(),
        error,
        rows_done: progress.rows,
        imported: progress.imported,
        skipped: progress.skipped,
        failed: progress.failed,
        updated: progress.updated,
        warned: progress.warned,
        warnings: progress.warnings,
        // The report in the user's words (`import_report`), not the API's.
        errors_csv: upload
            .errors_csv
            .as_ref()
            .map(|_| format!("/imports/{id}/errors.csv")),
        chrome,
    };
    render(status, &page)
}

/// `GET /imports/{id}`
pub(super) async fn show(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
) -> Response {
    let chrome = || Chrome::for_user(&user, "/imports");
    let Some(id) = parse_id(&id) else {
        return store_error_page(chrome(), StoreError::NotFound("import"));
    };
    match upload::get(&state.db, &user.actor, id).await {
        Ok(upload) => {
            import_page(
                &state,
                &user,
                &upload,
                &[],
                None,
                None,
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(e) => store_error_page(chrome(), e),
    }
}

/// `POST /imports/{id}/start`: `colN` is where the N-th column goes (empty: not imported),
/// `owner_id` who owns the records (empty: the assignment rules for leads, the user otherwise);
/// for leads `country`, `dedup` and `dedup_probable` (empty: the channel's setting).
pub(super) async fn start(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let sent = pairs
        .iter()
        .find(|(name, _)| name == "csrf_token")
        .map_or("", |(_, value)| value.as_str());
    if let Some(refused) = csrf_refusal(&user, sent) {
        return refused;
    }
    let t = super::i18n::texts(&user.actor.locale);
    let chrome = || Chrome::for_user(&user, "/imports");
    let Some(id) = parse_id(&id) else {
        return store_error_page(chrome(), StoreError::NotFound("import"));
    };
    let current = match upload::get(&state.db, &user.actor, id).await {
        Ok(upload) => upload,
        Err(e) => return store_error_page(chrome(), e),
    };
    let kind = Kind::parse(&current.kind).unwrap_or(Kind::Lead);
    let posted = Posted::of(&pairs, current.headers.len());
    let it = import_texts(&user.actor.locale);
    let mapping: BTreeMap<String, String> = current
        .headers
        .iter()
        .zip(&posted.mapping)
        .map(|(header, target)| {
            let target = if target.is_empty() { "ignore" } else { target };
            (header.clone(), target.to_owned())
        })
        .collect();
    let country = (kind == Kind::Lead).then(|| {
        pairs
            .iter()
            .find(|(name, _)| name == "country")
            .map_or("", |(_, value)| value.trim())
            .to_owned()
    });
    let (dedup, dedup_probable) = posted.policies(kind);
    let started = match posted.owner_id() {
        Ok(owner_id) => {
            let choices = StartChoices {
                mapping: Some(mapping),
                dedup,
                dedup_probable,
                country,
                source: None,
                owner_id,
            };
            upload::start(
                &state.db,
                &user.actor,
                state.clock.as_ref(),
                id,
                choices.into(),
            )
            .await
        }
        Err(invalid) => Err(invalid.into()),
    };
    let (message, owner_error, status) = match started {
        Ok(started) => {
            tokio::spawn(upload::run(
                state.db.clone(),
                user.actor.clone(),
                state.clock.clone(),
                id,
                started.options,
            ));
            return Redirect::to(&import_url(id)).into_response();
        }
        // A refused owner: not a user, inactive, or outside the user's scope.
        Err(StoreError::Invalid(invalid)) if invalid.field == "owner_id" => (
            None,
            Some(it.owner_refused.to_owned()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(StoreError::Forbidden(_)) if !posted.owner.is_empty() => (
            None,
            Some(it.owner_refused.to_owned()),
            StatusCode::FORBIDDEN,
        ),
        Err(StoreError::Invalid(invalid)) => (
            Some(invalid_text(t, &invalid)),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(StoreError::Conflict(message)) => {
            (Some(t.message(&message)), None, StatusCode::CONFLICT)
        }
        Err(e) => return store_error_page(chrome(), e),
    };
    // The start form again, as it was posted, with the reason.
    import_page(
        &state,
        &user,
        &current,
        &[],
        Some(&posted),
        message,
        owner_error,
        status,
    )
    .await
}
