//! 备份 (admins only): the schedule of automatic backups, a button that takes one now, and the
//! backups in the backup directory with their size and time and a download link, as
//! `/api/v1/backups` and `/api/v1/backups/schedule` do.

use super::backup_texts::{backup_texts, BackupTexts};
use super::frame::{admin_only, field_refusal, no_refusal, Errors, Frame, Menu, Refusal};
use super::outcome::{answer, CsrfPost, SavedQuery};
use crate::ui::page::{csrf_refusal, render, store_error_page, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use xiansuo_app::data::backup::schedule::{self, Schedule, StoredBackup};

const PATH: &str = "/settings/backups";

/// A backup as the list shows it.
struct Listed {
    id: i64,
    file_name: String,
    taken: String,
    size: String,
    rows: i64,
    scheduled: bool,
}

#[derive(Template)]
#[template(path = "settings_backups.html")]
struct BackupsPage {
    chrome: Chrome,
    menu: Menu,
    b: &'static BackupTexts,
    notice: Option<&'static str>,
    errors: Errors,
    enabled: bool,
    every_hours: String,
    keep: String,
    backups: Vec<Listed>,
}

/// A size in bytes as people read it.
fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    if value < 1024.0 {
        return format!("{bytes} B");
    }
    let mut unit = "B";
    for next in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

fn listed(user: &Viewer, backup: StoredBackup) -> Listed {
    Listed {
        id: backup.id,
        taken: user.zone.time(&backup.created_at.to_rfc3339()),
        size: size(backup.bytes),
        file_name: backup.file_name,
        rows: backup.rows,
        scheduled: backup.scheduled,
    }
}

/// The schedule form as sent.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ScheduleForm {
    csrf_token: String,
    enabled: String,
    every_hours: String,
    keep: String,
}

async fn backups_page(
    state: &AppState,
    user: &Viewer,
    refused: Refusal,
    notice: Option<&'static str>,
    form: Option<&ScheduleForm>,
) -> Response {
    let frame = Frame::new(user, PATH);
    let b = backup_texts(&user.actor.locale);
    let (current, backups) = match (
        schedule::schedule(&state.db, &user.actor).await,
        schedule::list(&state.db, &user.actor).await,
    ) {
        (Ok(current), Ok(backups)) => (current, backups),
        (Err(e), _) | (_, Err(e)) => return store_error_page(frame.chrome, e),
    };
    let (enabled, every_hours, keep) = match form {
        Some(form) => (
            !form.enabled.is_empty(),
            form.every_hours.clone(),
            form.keep.clone(),
        ),
        None => (
            current.enabled,
            current.every_hours.to_string(),
            current.keep.to_string(),
        ),
    };
    let page = BackupsPage {
        chrome: frame.chrome,
        menu: frame.menu,
        b,
        notice,
        errors: refused.errors,
        enabled,
        every_hours,
        keep,
        backups: backups.into_iter().map(|x| listed(user, x)).collect(),
    };
    render(refused.status, &page)
}

/// `GET /settings/backups`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let notice = (!query.saved.is_empty()).then_some(backup_texts(&user.actor.locale).queued);
    backups_page(&state, &user, no_refusal(), notice, None).await
}

/// `POST /settings/backups`: saves the schedule, as `PUT /api/v1/backups/schedule`.
pub(crate) async fn save(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<ScheduleForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let b = backup_texts(&user.actor.locale);
    let whole = |field: &str, text: &str| {
        text.trim()
            .parse::<i64>()
            .map_err(|_| field_refusal(field, b.every_hours_hint))
    };
    let parsed = whole("every_hours", &form.every_hours).and_then(|every_hours| {
        whole("keep", &form.keep).map(|keep| Schedule {
            enabled: !form.enabled.is_empty(),
            every_hours,
            keep,
        })
    });
    let input = match parsed {
        Ok(input) => input,
        Err(refused) => return backups_page(&state, &user, refused, None, Some(&form)).await,
    };
    let result =
        schedule::set_schedule(&state.db, &user.actor, input.into(), state.clock.now()).await;
    answer(&user, PATH, PATH, result, |refused| {
        backups_page(&state, &user, refused, None, Some(&form))
    })
    .await
}

/// `POST /settings/backups/now`: queues a backup, as `POST /api/v1/backups`.
pub(crate) async fn take_now(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let result = schedule::request(&state.db, &user.actor, state.clock.now()).await;
    answer(&user, PATH, PATH, result, |refused| {
        backups_page(&state, &user, refused, None, None)
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_are_shown_in_the_largest_whole_unit() {
        assert_eq!(super::size(512), "512 B");
        assert_eq!(super::size(1536), "1.5 KB");
        assert_eq!(super::size(3 * 1024 * 1024), "3.0 MB");
    }
}
