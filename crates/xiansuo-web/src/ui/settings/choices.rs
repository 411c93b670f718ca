//! The choice lists (admins only): lead statuses with the fixed type each maps to, sources,
//! follow-up outcomes, lost reasons and disqualify reasons, each entry a code with a Chinese
//! and an English label; relabel, reorder, archive, add and delete, as
//! `/api/v1/choices` does (see `xiansuo_app::records::choices`).

use super::frame::{
    admin_only, no_refusal, not_found, optional_number, parse_id, refusal, saved_notice, Errors,
    Frame, Menu, Refusal,
};
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use xiansuo_app::records::choices::{self, ChoiceChange, NewChoice};
use xiansuo_core::choice::ChoiceKind;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::Invalid;

/// The words of this page, in one language.
pub(crate) struct ChoiceTexts {
    pub title: &'static str,
    pub intro: &'static str,
    /// Per list: its tab name and what it is for.
    lists: [(&'static str, &'static str); 5],
    pub status_type: &'static str,
    pub archived: &'static str,
    pub builtin: &'static str,
    pub add: &'static str,
    pub new_entry: &'static str,
    pub delete: &'static str,
    pub empty: &'static str,
    pub code: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub position: &'static str,
    pub deleted: &'static str,
}

static ZH: ChoiceTexts = ChoiceTexts {
    title: "选项列表",
    intro: "状态、来源、跟进结果、输单原因和无效原因的选项，每项有代码和中英文名称。接口和导入也接受这些名称。归档的选项不再可选，已使用它的记录照常显示。",
    lists: [
        ("状态", "新增的状态归属六个固定类型之一，规则按类型执行（如“未接通”属于“跟进中”）。固定类型可以改名，不能归档。"),
        ("来源", "线索的来源渠道。导入带来的未列出来源按代码保存和显示。"),
        ("跟进结果", "记录跟进时选择的结果。"),
        ("输单原因", "输单时可选的原因；也可以填写其他原因。"),
        ("无效原因", "标记无效时可选的原因；也可以填写其他原因。"),
    ],
    status_type: "类型",
    archived: "归档",
    builtin: "内置",
    add: "添加选项",
    new_entry: "新建选项",
    delete: "删除",
    empty: "还没有选项：大家填写自己的原因。",
    code: "代码",
    label_zh: "中文名称",
    label_en: "英文名称",
    position: "顺序",
    deleted: "已删除。",
};

static EN: ChoiceTexts = ChoiceTexts {
    title: "Choice lists",
    intro: "The entries of statuses, sources, follow-up outcomes, lost reasons and disqualify reasons, each a code with a Chinese and an English label. The API and imports take these labels too. An archived entry can no longer be picked; records that hold it still show it.",
    lists: [
        ("Statuses", "An added status belongs to one of the six fixed types, whose rules apply (No answer under Working, say). The fixed types can be renamed, not archived."),
        ("Sources", "Where leads come from. Sources an import brings that are not listed are kept and shown as their code."),
        ("Outcomes", "What a follow-up achieved, picked when logging it."),
        ("Lost reasons", "Reasons offered when a deal is lost; people may also type another."),
        ("Disqualify reasons", "Reasons offered when a lead is disqualified; people may also type another."),
    ],
    status_type: "Type",
    archived: "Archived",
    builtin: "Built in",
    add: "Add entry",
    new_entry: "New entry",
    delete: "Delete",
    empty: "No entries yet: people type their own reasons.",
    code: "Code",
    label_zh: "Chinese label",
    label_en: "English label",
    position: "Order",
    deleted: "Deleted.",
};

fn choice_texts(locale: &str) -> &'static ChoiceTexts {
    if locale == "en" {
        &EN
    } else {
        &ZH
    }
}

/// A tab of the page.
struct Tab {
    kind: &'static str,
    label: &'static str,
    current: bool,
}

/// An entry as its row shows it, with a refused change next to its fields.
struct Row {
    id: i64,
    code: String,
    label_zh: String,
    label_en: String,
    position: String,
    type_label: String,
    archived: bool,
    builtin: bool,
    /// The six fixed statuses cannot be archived.
    archivable: bool,
    errors: Errors,
    alert: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ChoicePost {
    csrf_token: String,
    kind: String,
    code: String,
    label_zh: String,
    label_en: String,
    status_type: String,
    position: String,
    archived: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ChoiceQuery {
    kind: String,
    saved: String,
    deleted: String,
}

#[derive(Template)]
#[template(path = "settings_choices.html")]
struct ChoicesPage {
    chrome: Chrome,
    menu: Menu,
    c: &'static ChoiceTexts,
    tabs: Vec<Tab>,
    kind: &'static str,
    about: &'static str,
    is_status: bool,
    rows: Vec<Row>,
    form: ChoicePost,
    types: Vec<Choice>,
    refused: Refusal,
    notice: Option<&'static str>,
}

fn kind_of(value: &str) -> ChoiceKind {
    ChoiceKind::parse(value).unwrap_or(ChoiceKind::Status)
}

async fn page(
    state: &AppState,
    user: &Viewer,
    kind: ChoiceKind,
    form: ChoicePost,
    refused: Refusal,
    row: Option<(i64, ChoicePost, Refusal)>,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/choices");
    let c = choice_texts(&user.actor.locale);
    let lang = frame.t().lang;
    let all = match choices::all(&state.db).await {
        Ok(all) => all,
        Err(e) => return store_error_page(frame.chrome, e.into()),
    };
    let mut status = refused.status;
    let mut row = row;
    let rows = all
        .of(kind)
        .map(|entry| {
            let mut shown = Row {
                id: entry.id,
                code: entry.code.clone(),
                label_zh: entry.label_zh.clone(),
                label_en: entry.label_en.clone(),
                position: entry.position.to_string(),
                // An added status says which fixed type it belongs to; a fixed one is its type.
                type_label: entry
                    .status_type
                    .filter(|_| !entry.builtin)
                    .map(|t| all.label(ChoiceKind::Status, t.code(), lang).to_owned())
                    .unwrap_or_default(),
                archived: entry.archived,
                builtin: entry.builtin,
                archivable: !(entry.builtin && kind == ChoiceKind::Status),
                errors: Errors::default(),
                alert: None,
            };
            match row.take() {
                Some((id, sent, r)) if id == entry.id => {
                    status = r.status;
                    shown.label_zh = sent.label_zh;
                    shown.label_en = sent.label_en;
                    shown.position = sent.position;
                    shown.archived = !sent.archived.is_empty();
                    shown.errors = r.errors;
                    shown.alert = r.alert;
                }
                other => row = other,
            }
            shown
        })
        .collect();
    let current_type = if form.status_type.is_empty() {
        "working"
    } else {
        form.status_type.as_str()
    };
    let types = LeadStatus::ALL
        .iter()
        .map(|t| {
            Choice::new(
                t.code(),
                all.label(ChoiceKind::Status, t.code(), lang),
                current_type,
            )
        })
        .collect();
    let index = ChoiceKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    let page = ChoicesPage {
        tabs: ChoiceKind::ALL
            .iter()
            .zip(c.lists)
            .map(|(k, (label, _))| Tab {
                kind: k.code(),
                label,
                current: *k == kind,
            })
            .collect(),
        kind: kind.code(),
        about: c.lists[index].1,
        is_status: kind == ChoiceKind::Status,
        rows,
        form,
        types,
        refused,
        notice,
        c,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(status, &page)
}

fn back(kind: &str, what: &str) -> Response {
    Redirect::to(&format!("/settings/choices?kind={kind}&{what}=1")).into_response()
}

/// `GET /settings/choices?kind=`
pub(crate) async fn show(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<ChoiceQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/choices") {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved).or_else(|| {
        (!query.deleted.is_empty()).then_some(choice_texts(&user.actor.locale).deleted)
    });
    let kind = kind_of(&query.kind);
    page(
        &state,
        &user,
        kind,
        ChoicePost::default(),
        no_refusal(),
        None,
        notice,
    )
    .await
}

/// A number field of the form: empty for none, otherwise a whole number.
fn position_of(form: &ChoicePost) -> Result<Option<i64>, Invalid> {
    match optional_number(&form.position) {
        serde_json::Value::Null => Ok(None),
        value => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| Invalid::new("position", "must be a whole number")),
    }
}

/// `POST /settings/choices`: a new entry, as `POST /api/v1/choices`.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<ChoicePost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let kind = kind_of(&form.kind);
    let result = async {
        let input = NewChoice {
            kind: kind.code().to_owned(),
            code: form.code.clone(),
            label_zh: form.label_zh.clone(),
            label_en: form.label_en.clone(),
            status_type: (kind == ChoiceKind::Status).then(|| form.status_type.clone()),
            position: position_of(&form)?,
        };
        choices::create(&state.db, &user.actor, input.into(), state.clock.now()).await
    }
    .await;
    match result {
        Ok(_) => back(kind.code(), "saved"),
        Err(e) => match refusal(&user, "/settings/choices", e) {
            Ok(refused) => page(&state, &user, kind, form, refused, None, None).await,
            Err(page) => *page,
        },
    }
}

/// `POST /settings/choices/{id}`: labels, order and archived, as `PATCH /api/v1/choices/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ChoicePost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user, "choice");
    };
    let kind = kind_of(&form.kind);
    let result = async {
        let change = ChoiceChange {
            label_zh: Some(form.label_zh.clone()),
            label_en: Some(form.label_en.clone()),
            position: position_of(&form)?,
            archived: Some(!form.archived.is_empty()),
        };
        choices::update(&state.db, &user.actor, id, change.into(), state.clock.now()).await
    }
    .await;
    match result {
        Ok(_) => back(kind.code(), "saved"),
        Err(e) => match refusal(&user, "/settings/choices", e) {
            Ok(refused) => {
                let row = Some((id, form, refused));
                page(
                    &state,
                    &user,
                    kind,
                    ChoicePost::default(),
                    no_refusal(),
                    row,
                    None,
                )
                .await
            }
            Err(page) => *page,
        },
    }
}

/// `POST /settings/choices/{id}/delete`, as `DELETE /api/v1/choices/{id}`: refused with the
/// reason next to the entry when it is built in or in use.
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ChoicePost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user, "choice");
    };
    let kind = kind_of(&form.kind);
    match choices::delete(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(()) => back(kind.code(), "deleted"),
        Err(e) => match refusal(&user, "/settings/choices", e) {
            Ok(refused) => {
                // The row keeps what it shows; only the refusal is added.
                let current = choices::all(&state.db)
                    .await
                    .ok()
                    .and_then(|all| all.of(kind).find(|c| c.id == id).cloned());
                let sent = current.map_or_else(ChoicePost::default, |c| ChoicePost {
                    label_zh: c.label_zh,
                    label_en: c.label_en,
                    position: c.position.to_string(),
                    archived: if c.archived {
                        "on".into()
                    } else {
                        String::new()
                    },
                    ..ChoicePost::default()
                });
                let row = Some((id, sent, refused));
                page(
                    &state,
                    &user,
                    kind,
                    ChoicePost::default(),
                    no_refusal(),
                    row,
                    None,
                )
                .await
            }
            Err(page) => *page,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_has_words_in_both_languages() {
        for texts in [&ZH, &EN] {
            assert_eq!(texts.lists.len(), ChoiceKind::ALL.len());
            assert!(texts
                .lists
                .iter()
                .all(|(name, about)| !name.is_empty() && !about.is_empty()));
        }
    }
}
