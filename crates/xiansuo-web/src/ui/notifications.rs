//! The notifications page: the user's own notifications, newest first with the unread ones
//! marked, each opening the lead it is about, and marking one or all read. The top bar's unread
//! count comes from [`super::page::Viewer`].

use super::leads::{lead_url, parse_id};
use super::page::{csrf_refusal, render, store_error_page, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use xiansuo_app::channels::notifications::{self, ListQuery};
use xiansuo_app::StoreError;
use xiansuo_core::clock::to_millis;

/// Notifications shown: the newest ones.
const SHOWN: i64 = 100;

struct Item {
    id: i64,
    message: String,
    when: String,
    at: String,
    unread: bool,
    /// The page of the record it is about, when there is one.
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    csrf: String,
    items: Vec<Item>,
    unread: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CsrfForm {
    csrf_token: String,
}

/// `GET /notifications`
pub(super) async fn page(State(state): State<AppState>, user: Viewer) -> Response {
    let chrome = Chrome::for_user(&user, "/notifications");
    let query = ListQuery {
        unread_only: false,
        limit: SHOWN,
    };
    let listed = match notifications::list(&state.db, user.actor.user_id, query).await {
        Ok(listed) => listed,
        Err(e) => return store_error_page(chrome, StoreError::Internal(e)),
    };
    let unread = listed.unread;
    let items = listed
        .items
        .into_iter()
        .map(|n| Item {
            id: n.id,
            when: user.zone.time(&n.created_at),
            at: n.created_at,
            unread: n.read_at.is_none(),
            link: match (n.record_type.as_deref(), n.record_id) {
                (Some("lead"), Some(id)) => Some(lead_url(id)),
                _ => None,
            },
            message: n.message,
        })
        .collect();
    let page = NotificationsPage {
        csrf: user.csrf.clone(),
        items,
        unread,
        chrome,
    };
    render(StatusCode::OK, &page)
}

/// `POST /notifications/{id}/read`
pub(super) async fn read_one(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let chrome = || Chrome::for_user(&user, "/notifications");
    let Some(id) = parse_id(&id) else {
        return store_error_page(chrome(), StoreError::NotFound("notification"));
    };
    let now = to_millis(state.clock.now());
    match notifications::mark_read(&state.db, user.actor.user_id, id, now).await {
        Ok(_) => Redirect::to("/notifications").into_response(),
        Err(e) => store_error_page(chrome(), e),
    }
}

/// `POST /notifications/read-all`
pub(super) async fn read_all(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let now = to_millis(state.clock.now());
    match notifications::mark_all_read(&state.db, user.actor.user_id, now).await {
        Ok(_) => Redirect::to("/notifications").into_response(),
        Err(e) => store_error_page(
            Chrome::for_user(&user, "/notifications"),
            StoreError::Internal(e),
        ),
    }
}
