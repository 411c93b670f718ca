//! 鉴定清单 (admins only): the qualification checklists a lead must satisfy before it becomes
//! qualified or is converted — per business unit or product line, one of them the default —
//! listed, created, edited item by item and deleted through `xiansuo_app::leads::qualification`,
//! as `/api/v1/qualification-checklists` does.

use super::frame::{
    admin_only, ctx, no_refusal, parse_id, saved_notice, Errors, Frame, Menu, Refusal,
};
use super::outcome::{answer, CsrfPost, SavedQuery};
use super::texts::settings_texts;
use crate::ui::page::{csrf_refusal, render, store_error_page, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use xiansuo_app::leads::qualification::{self, Checklist, ChecklistPatch, NewChecklist, NewItem};
use xiansuo_app::StoreError;

const PATH: &str = "/settings/checklists";
/// Empty item rows offered below a checklist's items, to add new ones without script.
const BLANK_ITEMS: usize = 3;

/// One item as the form holds it.
#[derive(Default, Clone)]
struct ItemInput {
    key: String,
    label: String,
    required: bool,
}

/// A checklist form: items come as `key_N`, `label_N` and `required_N`.
#[derive(Default)]
struct ChecklistForm {
    csrf_token: String,
    name: String,
    business_unit: String,
    product_line: String,
    is_default: bool,
    items: Vec<ItemInput>,
}

/// The `n`th item of the form, made when the form names it.
fn slot(items: &mut Vec<ItemInput>, n: usize) -> &mut ItemInput {
    if items.len() <= n {
        items.resize(n + 1, ItemInput::default());
    }
    &mut items[n]
}

impl ChecklistForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> ChecklistForm {
        let mut form = ChecklistForm::default();
        let mut items: Vec<ItemInput> = Vec::new();
        for (name, value) in pairs {
            let item = |prefix: &str| {
                name.strip_prefix(prefix)
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| *n < 1000)
            };
            match name.as_str() {
                "csrf_token" => form.csrf_token = value,
                "name" => form.name = value,
                "business_unit" => form.business_unit = value,
                "product_line" => form.product_line = value,
                "is_default" => form.is_default = !value.is_empty(),
                _ => {
                    if let Some(n) = item("key_") {
                        slot(&mut items, n).key = value;
                    } else if let Some(n) = item("label_") {
                        slot(&mut items, n).label = value;
                    } else if let Some(n) = item("required_") {
                        slot(&mut items, n).required = !value.is_empty();
                    }
                }
            }
        }
        form.items = items
            .into_iter()
            .filter(|i| !i.key.trim().is_empty() || !i.label.trim().is_empty())
            .collect();
        form
    }

    fn of(checklist: Checklist) -> ChecklistForm {
        ChecklistForm {
            name: checklist.name,
            business_unit: checklist.business_unit.unwrap_or_default(),
            product_line: checklist.product_line.unwrap_or_default(),
            is_default: checklist.is_default,
            items: checklist
                .items
                .into_iter()
                .map(|i| ItemInput {
                    key: i.key,
                    label: i.label,
                    required: i.required,
                })
                .collect(),
            ..ChecklistForm::default()
        }
    }

    /// The checklist as `POST /api/v1/qualification-checklists` takes it.
    fn new_checklist(&self) -> NewChecklist {
        let patch = self.patch();
        NewChecklist {
            name: patch.name.unwrap_or_default(),
            business_unit: patch.business_unit.flatten(),
            product_line: patch.product_line.flatten(),
            items: patch.items.flatten(),
            is_default: patch.is_default.flatten(),
        }
    }

    /// The change of `PATCH /api/v1/qualification-checklists/{id}`: every field of the form.
    fn patch(&self) -> ChecklistPatch {
        let optional = |value: &str| {
            let value = value.trim();
            (!value.is_empty()).then(|| value.to_owned())
        };
        let items = self
            .items
            .iter()
            .map(|i| NewItem {
                key: i.key.trim().to_owned(),
                label: i.label.trim().to_owned(),
                required: Some(i.required),
            })
            .collect();
        ChecklistPatch {
            name: Some(self.name.trim().to_owned()),
            business_unit: Some(optional(&self.business_unit)),
            product_line: Some(optional(&self.product_line)),
            items: Some(Some(items)),
            is_default: Some(Some(self.is_default)),
        }
    }
}

/// One item row of the form, with what was refused in it.
struct ItemRow {
    index: usize,
    key: String,
    label: String,
    required: bool,
    key_error: Option<String>,
    label_error: Option<String>,
}

/// A checklist's inputs and the store's refusal of them.
struct ChecklistView {
    name: String,
    business_unit: String,
    product_line: String,
    is_default: bool,
    items: Vec<ItemRow>,
    errors: Errors,
    alert: Option<String>,
}

fn view(form: ChecklistForm, refused: Refusal) -> ChecklistView {
    let errors = refused.errors;
    let blank = ItemInput {
        required: true,
        ..ItemInput::default()
    };
    let items = form
        .items
        .into_iter()
        .chain(std::iter::repeat_n(blank, BLANK_ITEMS))
        .enumerate()
        .map(|(index, i)| ItemRow {
            key_error: errors
                .get(&format!("items[{index}].key"))
                .map(str::to_owned),
            label_error: errors
                .get(&format!("items[{index}].label"))
                .map(str::to_owned),
            index,
            key: i.key,
            label: i.label,
            required: i.required,
        })
        .collect();
    ChecklistView {
        name: form.name,
        business_unit: form.business_unit,
        product_line: form.product_line,
        is_default: form.is_default,
        items,
        errors,
        alert: refused.alert,
    }
}

/// A checklist in the list.
struct Summary {
    id: i64,
    name: String,
    scope: String,
    items: usize,
    is_default: bool,
}

#[derive(Template)]
#[template(path = "settings_checklists.html")]
struct ListPage {
    chrome: Chrome,
    menu: Menu,
    notice: Option<&'static str>,
    checklists: Vec<Summary>,
    c: ChecklistView,
}

#[derive(Template)]
#[template(path = "settings_checklist.html")]
struct EditPage {
    chrome: Chrome,
    menu: Menu,
    notice: Option<&'static str>,
    id: i64,
    c: ChecklistView,
}

async fn list_page(
    state: &AppState,
    user: &Viewer,
    form: ChecklistForm,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, PATH);
    let checklists = match qualification::list(&state.db).await {
        Ok(list) => list,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let checklists = checklists
        .items
        .into_iter()
        .map(|c| Summary {
            id: c.id,
            scope: [c.business_unit, c.product_line]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            items: c.items.len(),
            is_default: c.is_default,
            name: c.name,
        })
        .collect();
    let status = refused.status;
    let page = ListPage {
        notice,
        checklists,
        c: view(form, refused),
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(status, &page)
}

fn edit_page(
    user: &Viewer,
    id: i64,
    form: ChecklistForm,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, PATH);
    let status = refused.status;
    let page = EditPage {
        notice,
        id,
        c: view(form, refused),
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(status, &page)
}

fn not_found(user: &Viewer) -> Response {
    store_error_page(
        Chrome::for_user(user, PATH),
        StoreError::NotFound("QualificationChecklist"),
    )
}

/// `GET /settings/checklists`
pub(crate) async fn list(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let notice = saved_notice(settings_texts(&user.actor.locale), &query.saved);
    let form = ChecklistForm::default();
    list_page(&state, &user, form, no_refusal(), notice).await
}

/// `POST /settings/checklists`, as `POST /api/v1/qualification-checklists`.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = ChecklistForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let result = qualification::create(ctx(&state, &user), form.new_checklist().into()).await;
    answer(&user, PATH, PATH, result, |refused| {
        list_page(&state, &user, form, refused, None)
    })
    .await
}

/// `GET /settings/checklists/{id}`
pub(crate) async fn show(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let notice = saved_notice(settings_texts(&user.actor.locale), &query.saved);
    match qualification::get(&state.db, id).await {
        Ok(c) => edit_page(&user, id, ChecklistForm::of(c), no_refusal(), notice),
        Err(e) => store_error_page(Chrome::for_user(&user, PATH), e),
    }
}

/// `POST /settings/checklists/{id}`, as `PATCH /api/v1/qualification-checklists/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = ChecklistForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let result = qualification::update(ctx(&state, &user), id, form.patch().into()).await;
    let back = format!("{PATH}/{id}");
    answer(&user, PATH, &back, result, |refused| {
        std::future::ready(edit_page(&user, id, form, refused, None))
    })
    .await
}

/// `POST /settings/checklists/{id}/delete`, as `DELETE /api/v1/qualification-checklists/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let result = qualification::delete(ctx(&state, &user), id).await;
    answer(&user, PATH, PATH, result, |refused| {
        list_page(&state, &user, ChecklistForm::default(), refused, None)
    })
    .await
}
