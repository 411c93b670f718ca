//! The answer to a settings form once the store has had its say: back to the page with
//! "Saved." when it took the change, else the form again with the refusal next to its field
//! (or the error page for what no form can show).

use super::frame::{refusal, Refusal};
use crate::ui::page::Viewer;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::future::Future;
use xiansuo_app::StoreResult;

/// Redirects to `back` (which may have a query already) with `saved=1` after `result` succeeded; otherwise shows `again` with
/// the refusal, or the error page of the settings page at `path`.
pub(super) async fn answer<T, Fut>(
    user: &Viewer,
    path: &str,
    back: &str,
    result: StoreResult<T>,
    again: impl FnOnce(Refusal) -> Fut,
) -> Response
where
    Fut: Future<Output = Response>,
{
    match result {
        Ok(_) => {
            let join = if back.contains('?') { '&' } else { '?' };
            Redirect::to(&format!("{back}{join}saved=1")).into_response()
        }
        Err(e) => match refusal(user, path, e) {
            Ok(refused) => again(refused).await,
            Err(page) => *page,
        },
    }
}

/// `?saved=1` after a change.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SavedQuery {
    pub(super) saved: String,
}

/// A form that sends nothing but its CSRF token (a delete button).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CsrfPost {
    pub(super) csrf_token: String,
}
