//! Duplicate groups and merging: the groups the latest duplicate scan found, with the leads of
//! each the user may see (and, for managers, a button to scan again); a merge screen that puts
//! the leads side by side and lets the person choose, field by field, whose value the kept lead
//! takes; and after a merge, a page that offers to undo it. The store's `dedup::scan` and
//! `merge` use cases do the work with the user as actor.

use super::lead_list::phone_shown;
use super::leads::{ctx, invalid_text, lead_url, source_label, text_of, usernames};
use super::list_texts::{fill, list_texts, ListTexts};
use super::page::{csrf_refusal, render, store_error_page, Chrome, Viewer, Zone};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use xiansuo_app::leads::dedup::scan::{self, ScanRun};
use xiansuo_app::leads::merge::{self, NewMerge};
use xiansuo_app::records;
use xiansuo_app::records::schema::LEADS;
use xiansuo_app::StoreError;
use xiansuo_core::choice::Choices;

/// Groups per page.
const GROUPS_PER_PAGE: &str = "20";

/// The fields a person chooses between on the merge screen, in the lead form's order.
const CHOSEN: &[&str] = &[
    "name",
    "company",
    "title",
    "phone",
    "email",
    "source",
    "status",
    "grade",
    "industry",
    "province",
    "city",
    "description",
    "owner_id",
];

struct GroupLead {
    url: String,
    name: String,
    company: String,
    phone: String,
    owner: String,
    created: String,
}

struct Group {
    signals: String,
    leads: Vec<GroupLead>,
    merge_url: String,
}

#[derive(Template)]
#[template(path = "duplicates.html")]
struct GroupsPage {
    chrome: Chrome,
    l: &'static ListTexts,
    csrf: String,
    scan: String,
    groups: Vec<Group>,
    next_url: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct GroupsQuery {
    cursor: String,
    scanning: String,
}

/// What a scan says of itself: when it finished and how many groups it found, or its state.
fn scan_text(l: &ListTexts, zone: Zone, scan: Option<&ScanRun>) -> String {
    let Some(scan) = scan else {
        return l.dup_never_scanned.to_owned();
    };
    match scan.state.as_str() {
        "done" => fill(
            l.dup_scanned,
            &[
                (
                    "at",
                    &zone.time(scan.finished_at.as_deref().unwrap_or_default()),
                ),
                (
                    "n",
                    &scan.groups_found.map(|n| n.to_string()).unwrap_or_default(),
                ),
            ],
        ),
        "failed" => l.dup_scan_failed.to_owned(),
        _ => l.dup_scan_running.to_owned(),
    }
}

/// `GET /duplicates`
pub(super) async fn groups(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<GroupsQuery>,
) -> Response {
    let chrome = Chrome::for_user(&user, "/duplicates");
    let l = list_texts(chrome.t.lang);
    let mut params = vec![("limit".to_owned(), GROUPS_PER_PAGE.to_owned())];
    if !query.cursor.is_empty() {
        params.push(("cursor".to_owned(), query.cursor.clone()));
    }
    let loaded = async {
        let found = scan::groups(&state.db, &user.actor, &params).await?;
        Ok::<_, StoreError>((found, usernames(&state).await?))
    };
    let (found, names) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(chrome, e),
    };
    let groups = found
        .items
        .iter()
        .map(|g| {
            let ids: Vec<(&str, String)> = g
                .leads
                .iter()
                .filter_map(|lead| lead["id"].as_i64())
                .map(|id| ("id", id.to_string()))
                .collect();
            Group {
                signals: g
                    .signals
                    .iter()
                    .map(|s| l.signal(s.code()))
                    .collect::<Vec<_>>()
                    .join(l.separator),
                merge_url: format!(
                    "/duplicates/merge?{}",
                    serde_urlencoded::to_string(&ids).unwrap_or_default()
                ),
                leads: g
                    .leads
                    .iter()
                    .map(|lead| GroupLead {
                        url: lead["id"].as_i64().map(lead_url).unwrap_or_default(),
                        name: text_of(&lead["name"]),
                        company: text_of(&lead["company"]),
                        phone: phone_shown(lead).map(|p| p.text).unwrap_or_default(),
                        owner: lead["owner_id"]
                            .as_i64()
                            .and_then(|id| names.get(&id).cloned())
                            .unwrap_or_default(),
                        created: user
                            .zone
                            .date(lead["created_at"].as_str().unwrap_or_default()),
                    })
                    .collect(),
            }
        })
        .collect();
    let page = GroupsPage {
        l,
        csrf: user.csrf.clone(),
        scan: scan_text(l, user.zone, found.scan.as_ref()),
        groups,
        next_url: found
            .next_cursor
            .as_ref()
            .map(|c| format!("/duplicates?cursor={c}")),
        notice: (!query.scanning.is_empty()).then(|| l.dup_scan_queued.to_owned()),
        chrome,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CsrfOnly {
    csrf_token: String,
}

/// `POST /duplicates/scan`: queue a scan (managers and admins).
pub(super) async fn start_scan(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    match scan::start(ctx(&state, &user)).await {
        Ok(_) => Redirect::to("/duplicates?scanning=1").into_response(),
        Err(e) => store_error_page(Chrome::for_user(&user, "/duplicates"), e),
    }
}

/// One field's row on the merge screen: each lead's value, and whose is chosen.
struct FieldRow {
    name: &'static str,
    label: String,
    /// (lead id, value as shown, chosen)
    values: Vec<(i64, String, bool)>,
    /// Whether the leads disagree; rows where they agree are shown without a choice.
    differs: bool,
}

struct MergeLead {
    id: i64,
    url: String,
    name: String,
    created: String,
    survivor: bool,
}

#[derive(Template)]
#[template(path = "merge.html")]
struct MergePage {
    chrome: Chrome,
    l: &'static ListTexts,
    csrf: String,
    leads: Vec<MergeLead>,
    rows: Vec<FieldRow>,
    error: Option<String>,
}

/// A lead's value of a field as the merge screen shows it.
fn shown(
    t: &super::i18n::Texts,
    choices: &Choices,
    names: &HashMap<i64, String>,
    lead: &Value,
    field: &str,
) -> String {
    match field {
        "phone" => phone_shown(lead).map(|p| p.text).unwrap_or_default(),
        "status" => choices
            .status_label(
                lead["status"].as_str().unwrap_or_default(),
                lead["status_detail"].as_str(),
                t.lang,
            )
            .to_owned(),
        "source" => source_label(t, choices, &text_of(&lead["source"])),
        "owner_id" => lead["owner_id"]
            .as_i64()
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_default(),
        _ => text_of(&lead[field]),
    }
}

/// The merge screen for these leads, with `chosen` field → lead id and the survivor as posted.
async fn merge_page(
    state: &AppState,
    user: &Viewer,
    ids: &[i64],
    survivor: Option<i64>,
    chosen: &HashMap<String, i64>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let chrome = Chrome::for_user(user, "/duplicates");
    let t = chrome.t;
    let l = list_texts(t.lang);
    let loaded = async {
        let mut leads = Vec::new();
        for id in ids {
            leads.push(records::get(&state.db, &user.actor, &LEADS, *id).await?);
        }
        Ok::<_, StoreError>((leads, usernames(state).await?))
    };
    let (mut leads, names) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(chrome, e),
    };
    // The oldest first: the one kept unless the person picks another.
    leads.sort_by(|a, b| text_of(&a["created_at"]).cmp(&text_of(&b["created_at"])));
    let survivor = survivor
        .filter(|s| leads.iter().any(|lead| lead["id"].as_i64() == Some(*s)))
        .or_else(|| leads.first().and_then(|lead| lead["id"].as_i64()))
        .unwrap_or_default();
    let rows = CHOSEN
        .iter()
        .map(|&field| {
            let values: Vec<(i64, String)> = leads
                .iter()
                .map(|lead| {
                    (
                        lead["id"].as_i64().unwrap_or_default(),
                        shown(t, &user.choices, &names, lead, field),
                    )
                })
                .collect();
            // The survivor's value unless it is empty, then the first lead that has one.
            let default = values
                .iter()
                .find(|(id, v)| *id == survivor && !v.is_empty())
                .or_else(|| values.iter().find(|(_, v)| !v.is_empty()))
                .map_or(survivor, |(id, _)| *id);
            let pick = chosen.get(field).copied().unwrap_or(default);
            let differs = values.iter().any(|(_, v)| *v != values[0].1);
            FieldRow {
                name: field,
                label: t.field(field).to_owned(),
                values: values
                    .into_iter()
                    .map(|(id, v)| (id, v, id == pick))
                    .collect(),
                differs,
            }
        })
        .collect();
    let page = MergePage {
        l,
        csrf: user.csrf.clone(),
        leads: leads
            .iter()
            .map(|lead| {
                let id = lead["id"].as_i64().unwrap_or_default();
                MergeLead {
                    id,
                    url: lead_url(id),
                    name: text_of(&lead["name"]),
                    created: user.zone.time(&text_of(&lead["created_at"])),
                    survivor: id == survivor,
                }
            })
            .collect(),
        rows,
        error,
        chrome,
    };
    render(status, &page)
}

fn ids_of(pairs: &[(String, String)]) -> Vec<i64> {
    let mut ids: Vec<i64> = pairs
        .iter()
        .filter(|(name, _)| name == "id")
        .filter_map(|(_, value)| value.trim().parse().ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// `GET /duplicates/merge?id=…&id=…`
pub(super) async fn merge_form(
    State(state): State<AppState>,
    user: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let ids = ids_of(&pairs);
    if ids.len() < 2 {
        let chrome = Chrome::for_user(&user, "/duplicates");
        let l = list_texts(chrome.t.lang);
        let page = super::page::message_page(
            chrome,
            StatusCode::UNPROCESSABLE_ENTITY,
            l.merge_title,
            l.merge_two_needed,
        );
        return page;
    }
    merge_page(
        &state,
        &user,
        &ids,
        None,
        &HashMap::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /duplicates/merge`: the chosen survivor keeps the chosen values; then the page that
/// offers to undo.
pub(super) async fn merge_post(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = pairs
        .iter()
        .find(|(name, _)| name == "csrf_token")
        .map_or("", |(_, v)| v.as_str());
    if let Some(refused) = csrf_refusal(&user, csrf) {
        return refused;
    }
    let ids = ids_of(&pairs);
    let survivor = pairs
        .iter()
        .find(|(name, _)| name == "survivor")
        .and_then(|(_, v)| v.trim().parse::<i64>().ok());
    let chosen: HashMap<String, i64> = pairs
        .iter()
        .filter_map(|(name, value)| {
            let field = name.strip_prefix("field.")?;
            Some((field.to_owned(), value.trim().parse().ok()?))
        })
        .filter(|(field, _)| CHOSEN.contains(&field.as_str()))
        .collect();
    let Some(survivor) = survivor.filter(|s| ids.contains(s)) else {
        return merge_form(State(state), user, Query(pairs)).await;
    };
    let new = NewMerge {
        survivor_id: survivor,
        merged_ids: ids.iter().copied().filter(|id| *id != survivor).collect(),
        fields: Some(
            chosen
                .iter()
                .map(|(field, id)| (field.clone(), *id))
                .collect::<BTreeMap<String, i64>>(),
        ),
    };
    let t = super::i18n::texts(&user.actor.locale);
    match merge::merge(ctx(&state, &user), new.into()).await {
        Ok(done) => {
            let merge_id = done.merge_id;
            Redirect::to(&format!("/duplicates/merges/{merge_id}?lead={survivor}")).into_response()
        }
        Err(StoreError::Invalid(invalid)) => {
            let message = invalid_text(t, &invalid);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            merge_page(
                &state,
                &user,
                &ids,
                Some(survivor),
                &chosen,
                Some(message),
                status,
            )
            .await
        }
        Err(StoreError::Conflict(message)) => {
            let message = t.message(&message);
            let status = StatusCode::CONFLICT;
            merge_page(
                &state,
                &user,
                &ids,
                Some(survivor),
                &chosen,
                Some(message),
                status,
            )
            .await
        }
        Err(e) => store_error_page(Chrome::for_user(&user, "/duplicates"), e),
    }
}

#[derive(Template)]
#[template(path = "merged.html")]
struct MergedPage {
    chrome: Chrome,
    l: &'static ListTexts,
    csrf: String,
    merge_id: i64,
    lead_url: String,
    heading: &'static str,
    message: String,
    /// Absent once undone.
    undo: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct MergedQuery {
    lead: String,
}

/// `GET /duplicates/merges/{id}?lead=`: the merge is done, with its undo.
pub(super) async fn merged(
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<MergedQuery>,
) -> Response {
    let chrome = Chrome::for_user(&user, "/duplicates");
    let l = list_texts(chrome.t.lang);
    let page = MergedPage {
        l,
        csrf: user.csrf.clone(),
        merge_id: id.parse().unwrap_or_default(),
        lead_url: query
            .lead
            .parse()
            .map(lead_url)
            .unwrap_or_else(|_| "/leads".into()),
        heading: l.merge_done,
        message: l.merge_done_text.to_owned(),
        undo: true,
        chrome,
    };
    render(StatusCode::OK, &page)
}

/// `POST /duplicates/merges/{id}/undo`
pub(super) async fn undo(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let chrome = Chrome::for_user(&user, "/duplicates");
    let t = chrome.t;
    let l = list_texts(t.lang);
    let Ok(merge_id) = id.parse::<i64>() else {
        return store_error_page(chrome, StoreError::NotFound("Merge"));
    };
    match merge::undo(ctx(&state, &user), merge_id).await {
        Ok(undone) => {
            let kept: Vec<String> = undone.kept.iter().map(|f| t.field(f).to_owned()).collect();
            let mut message = l.merge_undone_text.to_owned();
            if !kept.is_empty() {
                message.push(' ');
                message.push_str(&fill(l.merge_kept, &[("fields", &kept.join(l.separator))]));
            }
            let page = MergedPage {
                l,
                csrf: user.csrf.clone(),
                merge_id,
                lead_url: undone.survivor["id"]
                    .as_i64()
                    .map_or_else(|| "/leads".to_owned(), lead_url),
                heading: l.merge_undone,
                message,
                undo: false,
                chrome,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => store_error_page(chrome, e),
    }
}
