//! Bulk actions on the lead list: the rows a person ticked, or every lead the list's view and
//! filters match, are given to an owner, set to a status (无效 with a reason), tagged, returned
//! to the pool or deleted. Each action first shows a confirmation that says how many leads it
//! covers and asks for what it needs, then a summary of what was done and what was skipped and
//! why. The work is the store's `bulk` use case with the user as actor.

use super::i18n::Texts;
use super::lead_list::{people_in_scope, ListQuery};
use super::leads::usernames as people;
use super::leads::{ctx, invalid_text, lead_url};
use super::list_texts::{fill, list_texts, ListTexts};
use super::page::{csrf_refusal, render, store_error_page, thousands, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use xiansuo_app::leads::bulk::{self, Action, MAX_LEADS};
use xiansuo_app::StoreError;
use xiansuo_core::choice::ChoiceKind;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::Invalid;

/// The bulk form as posted from the list or the confirmation.
#[derive(Default)]
struct BulkPost {
    csrf: String,
    filters: String,
    action: String,
    all: bool,
    ids: Vec<String>,
    confirm: bool,
    owner: String,
    status: String,
    reason: String,
    tag: String,
}

impl BulkPost {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut post = BulkPost::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf_token" => post.csrf = value,
                "filters" => post.filters = value,
                "action" => post.action = value,
                "scope" => post.all = value == "all",
                "id" => post.ids.push(value),
                "confirm" => post.confirm = true,
                "owner_id" => post.owner = value,
                "status" => post.status = value,
                "reason" => post.reason = value,
                "tag" => post.tag = value,
                _ => {}
            }
        }
        post
    }
}

/// The actions by code, with their labels.
fn actions(l: &ListTexts) -> [(&'static str, &'static str); 5] {
    [
        ("assign", l.action_assign),
        ("status", l.action_status),
        ("tag", l.action_tag),
        ("release", l.action_release),
        ("delete", l.action_delete),
    ]
}

#[derive(Template)]
#[template(path = "bulk_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    l: &'static ListTexts,
    csrf: String,
    back: String,
    filters: String,
    /// The action's code, empty when nothing was selected.
    action: String,
    all: bool,
    ids: Vec<i64>,
    intro: String,
    capped: Option<String>,
    button: String,
    owners: Vec<Choice>,
    statuses: Vec<Choice>,
    reason: String,
    /// The listed disqualify reasons, offered as the reason is typed.
    reasons: Vec<String>,
    tag: String,
    /// (field, message) of a refused confirmation.
    error: Option<(String, String)>,
}

impl ConfirmPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn other_error(&self) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| {
                !["owner_id", "status", "disqualify_reason", "reason", "tag"].contains(&f.as_str())
            })
            .map(|(_, m)| m.as_str())
    }
}

struct SkippedRow {
    url: String,
    id: i64,
    reason: String,
}

#[derive(Template)]
#[template(path = "bulk_done.html")]
struct DonePage {
    chrome: Chrome,
    l: &'static ListTexts,
    back: String,
    heading: String,
    done: String,
    skipped_count: String,
    skipped: Vec<SkippedRow>,
}

/// Why a lead was skipped, as a person reads it.
fn skip_reason(t: &Texts, l: &ListTexts, error: &StoreError) -> String {
    match error {
        StoreError::NotFound(_) => l.out_of_scope.to_owned(),
        StoreError::Invalid(invalid) => invalid_text(t, invalid),
        StoreError::Conflict(m) | StoreError::Forbidden(m) => store_message(t, l, m),
        other => other.to_string(),
    }
}

/// A store message of a bulk action in the user's words: the ones bulk work meets that the
/// shared texts do not know, else as the shared texts say it.
fn store_message(t: &Texts, l: &ListTexts, message: &str) -> String {
    if message.ends_with("is converted and read-only") {
        l.skip_converted.to_owned()
    } else if message.starts_with("you may only give leads to users within your data scope") {
        l.owner_out_of_scope.to_owned()
    } else {
        t.message(message)
    }
}

/// `POST /leads/bulk`: the confirmation, or, once confirmed, the action and its summary.
pub(super) async fn bulk(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let post = BulkPost::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &post.csrf) {
        return refused;
    }
    let query = ListQuery::from_filter_string(&post.filters);
    let back = match query.filter_string() {
        f if f.is_empty() => "/leads".to_owned(),
        f => format!("/leads?{f}"),
    };
    let chrome = Chrome::for_user(&user, back.clone());
    let t = chrome.t;
    let l = list_texts(t.lang);
    let (ids, total) = if post.all {
        let filters = query.store_params(user.actor.user_id, user.zone, state.clock.now());
        match bulk::matching(&state.db, &user.actor, &filters).await {
            Ok(found) => found,
            Err(e) => return store_error_page(chrome, e),
        }
    } else {
        let ids: Vec<i64> = post
            .ids
            .iter()
            .filter_map(|id| id.trim().parse().ok())
            .collect();
        let total = ids.len() as i64;
        (ids, total)
    };
    let Some(&(code, label)) = actions(l).iter().find(|(code, _)| *code == post.action) else {
        return store_error_page(
            chrome,
            Invalid::new("action", "must be assign, status, tag, release or delete").into(),
        );
    };
    if ids.is_empty() || (!post.all && ids.len() > MAX_LEADS) {
        let error = Some((String::new(), l.none_selected.to_owned()));
        let page = confirm_page(&state, &user, chrome, &post, (code, label), &[], 0, error).await;
        return page(StatusCode::UNPROCESSABLE_ENTITY);
    }
    if !post.confirm {
        let page = confirm_page(
            &state,
            &user,
            chrome,
            &post,
            (code, label),
            &ids,
            total,
            None,
        )
        .await;
        return page(StatusCode::OK);
    }
    let refused = |e: StoreError| -> Result<(String, String, StatusCode), StoreError> {
        match e {
            StoreError::Invalid(invalid) => {
                let message = match invalid.field.as_str() {
                    "disqualify_reason" | "reason" if post.reason.trim().is_empty() => {
                        l.reason_required.to_owned()
                    }
                    "owner_id" if post.owner.trim().is_empty() => l.owner_required.to_owned(),
                    "tag" if post.tag.trim().is_empty() => l.tag_required.to_owned(),
                    _ => t.invalid(&invalid),
                };
                Ok((
                    invalid.field.clone(),
                    message,
                    StatusCode::UNPROCESSABLE_ENTITY,
                ))
            }
            StoreError::Forbidden(m) => Ok((
                String::new(),
                store_message(t, l, &m),
                StatusCode::FORBIDDEN,
            )),
            StoreError::Conflict(m) => {
                Ok((String::new(), store_message(t, l, &m), StatusCode::CONFLICT))
            }
            other => Err(other),
        }
    };
    let outcome = match Action::parse(code, &post.owner, &post.status, &post.reason, &post.tag) {
        Ok(action) => bulk::run(ctx(&state, &user), &ids, &action).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(summary) => {
            let page = DonePage {
                l,
                heading: fill(l.summary_title, &[("action", label)]),
                done: fill(
                    l.summary_done,
                    &[("n", &thousands(summary.done.len() as i64))],
                ),
                skipped_count: fill(
                    l.summary_skipped,
                    &[("n", &thousands(summary.skipped.len() as i64))],
                ),
                skipped: summary
                    .skipped
                    .iter()
                    .map(|s| SkippedRow {
                        url: lead_url(s.id),
                        id: s.id,
                        reason: skip_reason(t, l, &s.error),
                    })
                    .collect(),
                back,
                chrome,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => match refused(e) {
            Ok((field, message, status)) => {
                let error = Some((field, message));
                let page = confirm_page(
                    &state,
                    &user,
                    chrome,
                    &post,
                    (code, label),
                    &ids,
                    total,
                    error,
                )
                .await;
                page(status)
            }
            Err(other) => store_error_page(chrome, other),
        },
    }
}

/// The confirmation page, to be rendered with a status.
#[allow(clippy::too_many_arguments)]
async fn confirm_page(
    state: &AppState,
    user: &Viewer,
    chrome: Chrome,
    post: &BulkPost,
    (code, label): (&'static str, &'static str),
    ids: &[i64],
    total: i64,
    error: Option<(String, String)>,
) -> impl FnOnce(StatusCode) -> Response {
    let t = chrome.t;
    let l = list_texts(t.lang);
    let names = people(state).await.unwrap_or_default();
    let count = thousands(ids.len() as i64);
    let page = ConfirmPage {
        l,
        csrf: user.csrf.clone(),
        back: chrome
            .user
            .as_ref()
            .map_or_else(|| "/leads".to_owned(), |u| u.back.clone()),
        filters: post.filters.clone(),
        action: if ids.is_empty() {
            String::new()
        } else {
            code.to_owned()
        },
        all: post.all,
        ids: if post.all { Vec::new() } else { ids.to_vec() },
        intro: fill(l.confirm_intro, &[("action", label), ("n", &count)]),
        capped: (total > ids.len() as i64 && post.all)
            .then(|| fill(l.confirm_capped, &[("max", &thousands(MAX_LEADS as i64))])),
        button: fill(l.confirm_button, &[("n", &count)]),
        owners: std::iter::once(Choice::new("", t.none, post.owner.trim()))
            .chain(
                people_in_scope(user, &names)
                    .into_iter()
                    .map(|(id, name)| Choice::new(id.to_string(), name, post.owner.trim())),
            )
            .collect(),
        statuses: user
            .choices
            .active(ChoiceKind::Status)
            .filter(|s| s.code != LeadStatus::Converted.code())
            .map(|s| Choice::new(s.code.as_str(), s.label(t.lang), post.status.trim()))
            .collect(),
        reason: post.reason.clone(),
        reasons: user
            .choices
            .active(ChoiceKind::DisqualifyReason)
            .map(|c| c.label(t.lang).to_owned())
            .collect(),
        tag: post.tag.clone(),
        error,
        chrome,
    };
    move |status| render(status, &page)
}
