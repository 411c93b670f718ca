//! The web UI: server-rendered HTML pages for people, next to the JSON API. Pages are askama
//! templates compiled into the binary, styled by one embedded stylesheet, with nothing loaded
//! from elsewhere; a few small scripts of our own only enhance pages that work without them.
//! Sessions come from [`crate::auth`]; every form that writes carries the session's CSRF token
//! in a `csrf_token` field, checked before anything else.
//!
//! Each page module calls the same `xiansuo_app` functions as the JSON API, with the signed-in
//! user as the actor, so data scope and every rule are the store's, never the page's.

mod account;
mod board;
mod bulk;
mod charts;
mod conversion;
mod customers;
mod dashboard;
mod duplicates;
mod i18n;
mod import_report;
mod import_texts;
mod imports;
mod lead_form;
mod lead_list;
mod lead_work;
mod leads;
mod list_texts;
mod merge;
mod my_day;
mod notifications;
mod page;
mod pool;
mod prediction_texts;
mod report_texts;
mod reports;
mod sales_texts;
mod settings;

use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use xiansuo_app::data::import::upload::UPLOAD_LIMIT;

/// Every UI route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/leads") }))
        .route("/assets/app.css", get(page::stylesheet))
        .route("/assets/settings.js", get(settings::script))
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", post(account::logout))
        .route("/settings/locale", post(account::set_locale))
        .route("/dashboard", get(dashboard::page))
        .route("/reports", get(reports::page))
        .route("/reports/download", get(reports::download))
        .route("/leads", get(lead_list::list).post(leads::create))
        .route("/leads/export", get(lead_list::export))
        .route("/leads/views", post(lead_list::save_view))
        .route("/leads/views/{id}/delete", post(lead_list::delete_view))
        .route("/leads/bulk", post(bulk::bulk))
        .route("/leads/duplicates/check", get(duplicates::check))
        .route("/assets/lead-form.js", get(duplicates::script))
        .route("/duplicates", get(merge::groups))
        .route("/duplicates/scan", post(merge::start_scan))
        .route(
            "/duplicates/merge",
            get(merge::merge_form).post(merge::merge_post),
        )
        .route("/duplicates/merges/{id}", get(merge::merged))
        .route("/duplicates/merges/{id}/undo", post(merge::undo))
        .route("/leads/new", get(leads::new_form))
        .route("/leads/{id}", get(leads::show).post(leads::update))
        .route("/leads/{id}/edit", get(leads::edit_form))
        .route("/leads/{id}/activities", post(leads::log_activity))
        .route("/leads/{id}/release", post(pool::release))
        .route("/pool", get(pool::page))
        .route(
            "/pool/{id}/claim",
            get(pool::confirm_claim).post(pool::claim),
        )
        .route("/notifications", get(notifications::page))
        .route("/notifications/read-all", post(notifications::read_all))
        .route("/notifications/{id}/read", post(notifications::read_one))
        .route("/board", get(board::page))
        .route("/board/{id}/move", post(board::move_deal))
        .route(
            "/board/{id}/close",
            get(board::confirm_close).post(board::close_deal),
        )
        .route("/assets/board.js", get(board::script))
        .route(
            "/imports",
            get(imports::list)
                .post(imports::upload)
                .layer(DefaultBodyLimit::max(
                    // The multipart framing around the file.
                    UPLOAD_LIMIT as usize + 64 * 1024,
                )),
        )
        .route("/imports/new", get(imports::new_form))
        .route("/imports/{id}", get(imports::show))
        .route("/imports/{id}/start", post(imports::start))
        .route(
            "/leads/{id}/convert",
            get(conversion::form).post(conversion::convert),
        )
        .route("/leads/{id}/conversion/undo", post(conversion::undo))
        .route("/leads/{id}/owner", post(leads::change_owner))
        .route("/leads/{id}/qualification", post(leads::qualify))
        .route("/accounts", get(customers::accounts))
        .route("/accounts/{id}", get(customers::account))
        .route("/contacts", get(customers::contacts))
        .route("/contacts/{id}", get(customers::contact))
        .route("/opportunities", get(customers::opportunities))
        .route("/opportunities/{id}", get(customers::opportunity))
        .route(
            "/handover",
            get(customers::handover_form).post(customers::handover),
        )
        .route("/today", get(my_day::page))
        .route("/imports/{id}/errors.csv", get(import_report::errors_csv))
        .merge(settings::router())
}
