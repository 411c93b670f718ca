//! The import wizard: upload a CSV or XLSX file (a multipart form), look at the proposed column
//! mapping and the first rows with their check result, change where columns go, start the
//! import, and follow it on a page that refreshes itself while it runs, with its counts and a
//! link to the row report (errors.csv). `/imports` lists the user's imports. The pages call the
//! same `xiansuo_app::data::import::upload` functions as `/api/v1/imports`; an upload belongs to the
//! user who sent it, so anyone else gets a 404.

use super::i18n::Texts;
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
use serde_json::{json, Map, Value};
use std::io::Write;
use xiansuo_app::data::import::custom_columns;
use xiansuo_app::data::import::mapping::{FIELDS, IMPORT_FIELDS};
use xiansuo_app::data::import::upload::{self, UPLOAD_LIMIT};
use xiansuo_app::StoreError;

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
    rows: Vec<ImportRow>,
}

/// `GET /imports`
pub(super) async fn list(State(state): State<AppState>, user: Viewer) -> Response {
    let chrome = Chrome::for_user(&user, "/imports");
    let t = chrome.t;
    let params = [("limit".to_owned(), LISTED.to_owned())];
    let listed = match upload::list(&state.db, &user.actor, &params).await {
        Ok(listed) => listed,
        Err(e) => return store_error_page(chrome, e),
    };
    let rows = listed["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|u| {
            let state = text_of(&u["state"]);
            let count = |name: &str| u["progress"][name].as_i64().unwrap_or_default();
            ImportRow {
                url: u["id"].as_i64().map(import_url).unwrap_or_default(),
                file_name: text_of(&u["file_name"]),
                state_label: t.code(&state).to_owned(),
                state,
                created: user.zone.time(&text_of(&u["created_at"])),
                imported: count("imported"),
                skipped: count("skipped"),
                failed: count("failed"),
            }
        })
        .collect();
    render(StatusCode::OK, &ImportsPage { chrome, rows })
}

#[derive(Template)]
#[template(path = "import_new.html")]
struct UploadPage {
    chrome: Chrome,
    csrf: String,
    error: Option<String>,
}

fn upload_form(user: &Viewer, error: Option<String>, status: StatusCode) -> Response {
    let page = UploadPage {
        chrome: Chrome::for_user(user, "/imports/new"),
        csrf: user.csrf.clone(),
        error,
    };
    render(status, &page)
}

/// `GET /imports/new`
pub(super) async fn new_form(user: Viewer) -> Response {
    upload_form(&user, None, StatusCode::OK)
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

/// The file of the upload form and its name. The CSRF field comes first in the form, so a
/// file from a form that is not the session's is refused before it is stored.
async fn receive(
    state: &AppState,
    user: &Viewer,
    request: Request,
) -> Result<(tempfile::NamedTempFile, String), Refusal> {
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|_| Refusal::Broken)?;
    let mut csrf_checked = false;
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
            Some("file") if csrf_checked => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let file = spool(&mut field).await?;
                return Ok((file, name));
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
    let (file, name) = match receive(&state, &user, request).await {
        Ok(received) => received,
        Err(Refusal::Csrf) => return csrf_failed(&user),
        Err(Refusal::NoFile) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return upload_form(&user, Some(t.no_file.into()), status);
        }
        Err(Refusal::TooLarge) => {
            let status = StatusCode::PAYLOAD_TOO_LARGE;
            return upload_form(&user, Some(t.file_too_large.into()), status);
        }
        Err(Refusal::Broken) => {
            return upload_form(&user, Some(t.bad_upload.into()), StatusCode::BAD_REQUEST)
        }
    };
    let created = upload::create(
        &state.db,
        &user.actor,
        state.clock.as_ref(),
        file.path(),
        &name,
    )
    .await;
    match created {
        Ok(upload) => {
            let preview = upload["preview"].as_array().cloned().unwrap_or_default();
            let error = upload["mapping_error"].as_str().map(str::to_owned);
            import_page(
                &state,
                &user,
                &upload,
                &preview,
                None,
                error,
                StatusCode::OK,
            )
            .await
        }
        Err(StoreError::Invalid(invalid)) => upload_form(
            &user,
            Some(t.invalid(&invalid)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(StoreError::Conflict(message)) => {
            upload_form(&user, Some(t.message(&message)), StatusCode::CONFLICT)
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
    result: String,
    result_label: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    csrf: String,
    url: String,
    file_name: String,
    state: String,
    state_label: String,
    mapping: Vec<MappingRow>,
    preview: Vec<PreviewRow>,
    error: Option<String>,
    rows_done: i64,
    imported: i64,
    skipped: i64,
    failed: i64,
    warned: i64,
    warnings: i64,
    errors_csv: Option<String>,
}

/// Where each column can go: not imported, a lead field, or a custom field of leads.
fn targets(t: &Texts, custom: &[(String, String)]) -> Vec<(String, String)> {
    std::iter::once((String::new(), t.ignore_column.to_owned()))
        .chain(
            FIELDS
                .iter()
                .chain(IMPORT_FIELDS)
                .map(|f| ((*f).to_owned(), t.field(f).to_owned())),
        )
        .chain(custom.iter().cloned())
        .collect()
}

fn preview_row(t: &Texts, line: &Value) -> PreviewRow {
    let result = text_of(&line["result"]);
    let reason = match (line["field"].as_str(), line["reason"].as_str()) {
        (Some(field), Some(reason)) => {
            format!("{}: {}", t.field(field), t.row_reason(field, reason))
        }
        (None, Some(reason)) => reason.to_owned(),
        _ => String::new(),
    };
    PreviewRow {
        row: text_of(&line["row"]),
        name: text_of(&line["lead"]["name"]),
        phone: text_of(&line["lead"]["phone"]),
        company: text_of(&line["lead"]["company"]),
        result_label: t.code(&result).to_owned(),
        result,
        reason,
    }
}

/// The page of an upload: before it starts, the mapping form (with `chosen`, the targets as
/// posted, after a refused start) and the preview when there is one; afterwards, its progress.
async fn import_page(
    state: &AppState,
    user: &Viewer,
    upload: &Value,
    preview: &[Value],
    chosen: Option<&[String]>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let id = upload["id"].as_i64().unwrap_or_default();
    let chrome = Chrome::for_user(user, import_url(id));
    let t = chrome.t;
    let custom: Vec<(String, String)> = match custom_columns(&state.db).await {
        Ok(columns) => columns
            .into_iter()
            .map(|c| (format!("custom.{}", c.key), c.label))
            .collect(),
        Err(e) => return store_error_page(chrome, StoreError::Internal(e)),
    };
    let targets = targets(t, &custom);
    let proposed = |i: usize| -> String {
        upload["mapping"][i]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let mapping = upload["headers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, header)| {
            let current =
                chosen.map_or_else(|| proposed(i), |c| c.get(i).cloned().unwrap_or_default());
            MappingRow {
                input: format!("col{i}"),
                header: text_of(header),
                choices: targets
                    .iter()
                    .map(|(value, label)| Choice::new(value.clone(), label.clone(), &current))
                    .collect(),
            }
        })
        .collect();
    let state_code = text_of(&upload["state"]);
    let progress = |name: &str| upload["progress"][name].as_i64().unwrap_or_default();
    let error = error.or_else(|| upload["error"].as_str().map(str::to_owned));
    let page = ImportPage {
        csrf: user.csrf.clone(),
        url: import_url(id),
        file_name: text_of(&upload["file_name"]),
        state_label: t.code(&state_code).to_owned(),
        state: state_code,
        mapping,
        preview: preview.iter().map(|line| preview_row(t, line)).collect(),
        error,
        rows_done: progress("rows"),
        imported: progress("imported"),
        skipped: progress("skipped"),
        failed: progress("failed"),
        warned: progress("warned"),
        warnings: progress("warnings"),
        // The report in the user's words (`import_report`), not the API's.
        errors_csv: upload["errors_csv"]
            .as_str()
            .and_then(|_| upload["id"].as_i64())
            .map(|id| format!("/imports/{id}/errors.csv")),
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
        Ok(upload) => import_page(&state, &user, &upload, &[], None, None, StatusCode::OK).await,
        Err(e) => store_error_page(chrome(), e),
    }
}

/// `POST /imports/{id}/start`: `colN` is where the N-th column goes (empty: not imported).
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
    let headers: Vec<String> = current["headers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(text_of)
        .collect();
    let chosen: Vec<String> = (0..headers.len())
        .map(|i| {
            let input = format!("col{i}");
            pairs
                .iter()
                .find(|(name, _)| *name == input)
                .map_or_else(String::new, |(_, value)| value.trim().to_owned())
        })
        .collect();
    let mut mapping = Map::new();
    for (header, target) in headers.iter().zip(&chosen) {
        let target = if target.is_empty() { "ignore" } else { target };
        mapping.insert(header.clone(), Value::from(target));
    }
    let country = pairs
        .iter()
        .find(|(name, _)| name == "country")
        .map_or("", |(_, value)| value.trim());
    let body = json!({ "mapping": mapping, "country": country });
    let (message, status) =
        match upload::start(&state.db, &user.actor, state.clock.as_ref(), id, &body).await {
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
            Err(StoreError::Invalid(invalid)) => {
                (invalid_text(t, &invalid), StatusCode::UNPROCESSABLE_ENTITY)
            }
            Err(StoreError::Conflict(message)) => (t.message(&message), StatusCode::CONFLICT),
            Err(e) => return store_error_page(chrome(), e),
        };
    // The mapping form again, as it was posted, with the reason.
    import_page(
        &state,
        &user,
        &current,
        &[],
        Some(&chosen),
        Some(message),
        status,
    )
    .await
}
