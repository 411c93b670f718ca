//! 导出全部数据 (admins only): every lead, account, contact, opportunity and follow-up, one file
//! each in CSV or XLSX, with the ids that link them (a contact's 客户编号, a follow-up's record),
//! so that leaving Xiansuo is as easy as arriving. Each file is the same export as the API's
//! `GET /api/v1/{records}/export` and is recorded in the export audit.

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

/// The page's strings in one language.
pub(crate) struct ExportTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub what: &'static str,
    pub download: &'static str,
    pub cli: &'static str,
    pub audit: &'static str,
    /// (source name, what it holds).
    pub sources: [(&'static str, &'static str); 5],
}

impl ExportTexts {
    fn source(&self, name: &str) -> &'static str {
        self.sources
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, label)| label)
    }
}

static ZH: ExportTexts = ExportTexts {
    title: "导出全部数据",
    intro: "每类数据一个文件，带上相互关联的编号（联系人的客户编号、跟进记录所属的记录），可以导入另一个 CRM，或导入另一个线索系统。时间为 UTC；以 = + - @ 开头的文字已做防公式处理。每次导出都记入导出记录。",
    what: "数据",
    download: "下载",
    cli: "在服务器上一次导出全部：",
    audit: "查看导出记录",
    sources: [
        ("leads", "线索"),
        ("accounts", "客户"),
        ("contacts", "联系人"),
        ("opportunities", "销售机会"),
        ("activities", "跟进记录"),
    ],
};

static EN: ExportTexts = ExportTexts {
    title: "Export everything",
    intro: "One file per kind of data, with the ids that link them (a contact's account ID, the record a follow-up is on), ready to import into another CRM or another Xiansuo. Times are UTC; text starting with = + - @ is neutralised against formulas. Every export is recorded in the export log.",
    what: "Data",
    download: "Download",
    cli: "All at once on the server:",
    audit: "See the export log",
    sources: [
        ("leads", "Leads"),
        ("accounts", "Accounts"),
        ("contacts", "Contacts"),
        ("opportunities", "Opportunities"),
        ("activities", "Follow-ups"),
    ],
};

/// The page's strings in the language of `locale`.
pub(crate) fn export_texts(locale: &str) -> &'static ExportTexts {
    if locale == "en" {
        &EN
    } else {
        &ZH
    }
}

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
