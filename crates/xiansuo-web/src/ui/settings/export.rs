//! 导出全部数据 (admins only): every lead, account, contact, opportunity and follow-up, one file
//! each in CSV or XLSX, with the ids that link them (a contact's 客户编号, a follow-up's record),
//! so that leaving Xiansuo is as easy as arriving. Each file is the same export as the API's
//! `GET /api/v1/{records}/export` and is recorded in the export audit.

use super::export_texts::{export_texts, ExportTexts};
use super::frame::{admin_only, ctx, Frame, Menu};
use crate::download;
use crate::ui::page::{render, store_error_page, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use xiansuo_app::data::export::{Export, Format, Source, SOURCES};

const PATH: &str = "/settings/export";

#[derive(Template)]
#[template(path = "settings_export.html")]
struct ExportPage {
    chrome: Chrome,
    menu: Menu,
    t: &'static ExportTexts,
    /// (source name, label).
    sources: Vec<(&'static str, &'static str)>,
}

/// `GET /settings/export`.
pub(crate) async fn page(user: Viewer) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let frame = Frame::new(&user, PATH);
    let t = export_texts(&user.actor.locale);
    let page = ExportPage {
        chrome: frame.chrome,
        menu: frame.menu,
        t,
        sources: SOURCES
            .iter()
            .map(|s| (s.name(), t.source(s.name())))
            .collect(),
    };
    render(StatusCode::OK, &page)
}

/// `?format=csv|xlsx`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct FormatQuery {
    format: String,
}

/// `GET /settings/export/{source}?format=`: one file of the full export.
pub(crate) async fn download(
    State(state): State<AppState>,
    user: Viewer,
    Path(name): Path<String>,
    Query(query): Query<FormatQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let chrome = Chrome::for_user(&user, PATH);
    let parsed = Source::named(&name).and_then(|source| {
        let format = match query.format.as_str() {
            "" => Format::Csv,
            other => Format::parse(other)?,
        };
        Ok((source, format))
    });
    let (source, format) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return store_error_page(chrome, e.into()),
    };
    let started = match Export::start(ctx(&state, &user), source, format, Vec::new()).await {
        Ok(started) => started,
        Err(e) => return store_error_page(chrome, e),
    };
    download::attachment(started, source, format, state.clock.now())
        .await
        .unwrap_or_else(|e| store_error_page(chrome, e))
}
