//! The pipeline board (看板): one column per stage with the number of deals the user may see,
//! their amount and weighted amount, and the deals as cards, a page of them per column with a
//! link to the next; filters by owner and by the month deals are expected to close. On each
//! card the deal's name opens its page, a small form moves the deal to another stage, and
//! "win…" / "lose…" open a confirmation that asks for the reason (required to lose). A small
//! script of ours (`/assets/board.js`) lets cards be dragged to another column as a shortcut
//! for the same forms; without it, and by keyboard, the forms do everything. On a phone one
//! column shows at a time.

use super::i18n::Texts;
use super::lead_list::people_in_scope;
use super::leads::{ctx, invalid_text, parse_id, text_of, username, usernames};
use super::list_texts::{fill, list_texts, ListTexts};
use super::page::content_version;
use super::page::{csrf_refusal, group_digits, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::OnceLock;
use xiansuo_app::records;
use xiansuo_app::records::schema::OPPORTUNITIES;
use xiansuo_app::sales::pipeline::{self, Loss, Stage, StageKind, Win};
use xiansuo_app::StoreError;
use xiansuo_core::choice::ChoiceKind;

/// Cards shown per column and page: the most recently changed deals first.
const CARDS_PER_COLUMN: &str = "20";

const SCRIPT: &str = include_str!("../../assets/board.js");

fn script_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| format!("/assets/board.js?v={}", content_version(SCRIPT)))
}

/// `GET /assets/board.js`
pub(super) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        SCRIPT,
    )
        .into_response()
}

struct Card {
    id: i64,
    name: String,
    amount: String,
    owner: String,
    expected_close: String,
    /// `open`, `won` or `lost`.
    result: String,
    close_reason: String,
    /// Stages the deal can move to, its own selected.
    moves: Vec<Choice>,
}

struct Column {
    code: String,
    name: String,
    kind: String,
    count: i64,
    amount: String,
    weighted: String,
    cards: Vec<Card>,
    shown: String,
    more_url: Option<String>,
    first_url: Option<String>,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    chrome: Chrome,
    l: &'static ListTexts,
    csrf: String,
    columns: Vec<Column>,
    /// Empty when the user sees only their own deals.
    owners: Vec<Choice>,
    month: String,
    error: Option<String>,
    script_url: &'static str,
}

/// The board's address: filters, and per column the cursor of the page shown
/// (`after_STAGE`).
#[derive(Default)]
pub(super) struct BoardQuery {
    owner: String,
    month: String,
    cursors: Vec<(String, String)>,
}

impl BoardQuery {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut query = BoardQuery::default();
        for (name, value) in pairs {
            match name.as_str() {
                "owner" => query.owner = value.trim().to_owned(),
                "month" => query.month = value.trim().to_owned(),
                _ => {
                    if let Some(stage) = name.strip_prefix("after_") {
                        query.cursors.push((stage.to_owned(), value));
                    }
                }
            }
        }
        query
    }

    /// The store's filters.
    fn filters(&self) -> Vec<(String, String)> {
        let mut params = Vec::new();
        if !self.owner.is_empty() {
            params.push(("owner_id".to_owned(), self.owner.clone()));
        }
        if !self.month.is_empty() {
            params.push(("close_month".to_owned(), self.month.clone()));
        }
        params
    }

    fn cursor(&self, stage: &str) -> Option<&str> {
        self.cursors
            .iter()
            .find(|(s, _)| s == stage)
            .map(|(_, c)| c.as_str())
    }

    /// This board with `stage`'s column at `cursor` (its first page when `None`).
    fn url(&self, stage: &str, cursor: Option<&str>) -> String {
        let mut pairs: Vec<(String, &str)> = Vec::new();
        if !self.owner.is_empty() {
            pairs.push(("owner".into(), &self.owner));
        }
        if !self.month.is_empty() {
            pairs.push(("month".into(), &self.month));
        }
        for (s, c) in &self.cursors {
            if s != stage {
                pairs.push((format!("after_{s}"), c));
            }
        }
        if let Some(c) = cursor {
            pairs.push((format!("after_{stage}"), c));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            format!("/board#stage-{stage}")
        } else {
            format!("/board?{query}#stage-{stage}")
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct MoveForm {
    csrf_token: String,
    stage: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CloseForm {
    csrf_token: String,
    result: String,
    reason: String,
}

/// `¥1,234,567.50` from an amount in yuan.
pub(super) fn money(value: &Value) -> String {
    value.as_f64().map(yuan).unwrap_or_default()
}

/// An amount in yuan as the board shows it: `¥1,234.50`.
pub(super) fn yuan(yuan: f64) -> String {
    let fixed = format!("{:.2}", yuan.abs());
    let (whole, cents) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    let sign = if yuan < 0.0 { "-" } else { "" };
    format!("{sign}¥{}.{cents}", group_digits(whole))
}

fn stage_name(t: &Texts, stage: &Stage) -> String {
    if t.lang == "en" {
        stage.name_en.clone()
    } else {
        stage.name_zh.clone()
    }
}

/// The board, with a refused move's reason above it.
async fn board_page(
    state: &AppState,
    user: &Viewer,
    query: &BoardQuery,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let chrome = Chrome::for_user(user, "/board");
    let t = chrome.t;
    let l = list_texts(t.lang);
    let filters = query.filters();
    let loaded = async {
        let board = pipeline::board(&state.db, &user.actor, &filters).await?;
        let stages = board.items;
        let mut cards = Vec::new();
        for column in &stages {
            let code = column.stage.code.clone();
            let mut params = filters.clone();
            params.extend([
                ("stage".to_owned(), code.clone()),
                ("limit".to_owned(), CARDS_PER_COLUMN.to_owned()),
                ("sort".to_owned(), "-updated_at".to_owned()),
            ]);
            if let Some(cursor) = query.cursor(&code) {
                params.push(("cursor".to_owned(), cursor.to_owned()));
            }
            cards.push(records::list(&state.db, &user.actor, &OPPORTUNITIES, &params).await?);
        }
        Ok::<_, StoreError>((stages, cards, usernames(state).await?))
    };
    let (stages, pages, names) = match loaded.await {
        Ok(loaded) => loaded,
        Err(StoreError::Invalid(invalid)) if error.is_none() => {
            // A bad filter: the board without it, and why.
            let message = invalid_text(t, &invalid);
            let plain = BoardQuery::default();
            return Box::pin(board_page(
                state,
                user,
                &plain,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            ))
            .await;
        }
        Err(e) => return store_error_page(chrome, e),
    };
    // A deal moves to an active stage that is not a lost one: losing needs a reason.
    let targets: Vec<(String, String)> = stages
        .iter()
        .map(|column| &column.stage)
        .filter(|s| s.active && s.kind != StageKind::Lost)
        .map(|s| (s.code.clone(), stage_name(t, s)))
        .collect();
    let columns = stages
        .iter()
        .zip(pages)
        .map(|(column, page)| {
            let stage = &column.stage;
            let code = stage.code.clone();
            let count = column.count;
            Column {
                shown: fill(
                    l.board_shown_of,
                    &[
                        ("shown", &page.items.len().to_string()),
                        ("count", &count.to_string()),
                    ],
                ),
                more_url: page
                    .next_cursor
                    .as_deref()
                    .map(|c| query.url(&code, Some(c))),
                first_url: query.cursor(&code).map(|_| query.url(&code, None)),
                name: stage_name(t, stage),
                kind: stage.kind.code().to_owned(),
                count,
                amount: yuan(column.amount),
                weighted: yuan(column.weighted_amount),
                cards: page
                    .items
                    .iter()
                    .map(|deal| {
                        let current = text_of(&deal["stage"]);
                        Card {
                            id: deal["id"].as_i64().unwrap_or_default(),
                            name: text_of(&deal["name"]),
                            amount: money(&deal["amount"]),
                            owner: username(&names, &deal["owner_id"]),
                            expected_close: text_of(&deal["expected_close_date"]),
                            result: text_of(&deal["result"]),
                            close_reason: user
                                .choices
                                .label(
                                    ChoiceKind::LostReason,
                                    deal["close_reason"].as_str().unwrap_or_default(),
                                    t.lang,
                                )
                                .to_owned(),
                            moves: targets
                                .iter()
                                .map(|(code, name)| {
                                    Choice::new(code.clone(), name.clone(), &current)
                                })
                                .collect(),
                        }
                    })
                    .collect(),
                code,
            }
        })
        .collect();
    let owners = match &user.actor.visible_owners {
        Some(ids) if ids.len() < 2 => Vec::new(),
        _ => std::iter::once(Choice::new("", t.all, &query.owner))
            .chain(
                people_in_scope(user, &names)
                    .into_iter()
                    .map(|(id, name)| Choice::new(id.to_string(), name, &query.owner)),
            )
            .collect(),
    };
    let page = BoardPage {
        l,
        csrf: user.csrf.clone(),
        columns,
        owners,
        month: query.month.clone(),
        error,
        script_url: script_url(),
        chrome,
    };
    render(status, &page)
}

/// `GET /board?owner=&month=&after_STAGE=`
pub(super) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let query = BoardQuery::from_pairs(pairs);
    board_page(&state, &user, &query, None, StatusCode::OK).await
}

/// Back to the board at the deal's card, or the board with the reason a write was refused.
async fn after_write(
    state: &AppState,
    user: &Viewer,
    id: i64,
    result: Result<Value, StoreError>,
) -> Response {
    let t = super::i18n::texts(&user.actor.locale);
    let plain = BoardQuery::default();
    match result {
        Ok(_) => Redirect::to(&format!("/board#deal-{id}")).into_response(),
        Err(StoreError::Invalid(invalid)) => {
            let message = invalid_text(t, &invalid);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            board_page(state, user, &plain, Some(message), status).await
        }
        Err(StoreError::Conflict(message)) => {
            let message = t.message(&message);
            board_page(state, user, &plain, Some(message), StatusCode::CONFLICT).await
        }
        Err(e) => store_error_page(Chrome::for_user(user, "/board"), e),
    }
}

/// `POST /board/{id}/move`
pub(super) async fn move_deal(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<MoveForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        let chrome = Chrome::for_user(&user, "/board");
        return store_error_page(chrome, StoreError::NotFound(OPPORTUNITIES.schema));
    };
    let body = json!({ "stage": form.stage.trim() });
    let result = records::update(ctx(&state, &user), &OPPORTUNITIES, id, &body).await;
    after_write(&state, &user, id, result).await
}

#[derive(Template)]
#[template(path = "board_close.html")]
struct ClosePage {
    chrome: Chrome,
    l: &'static ListTexts,
    csrf: String,
    id: i64,
    heading: String,
    won: bool,
    reason: String,
    /// The listed lost reasons, offered as the reason is typed.
    reasons: Vec<String>,
    error: Option<String>,
}

/// The confirmation of a win or a loss, with the reason typed and why a post was refused.
async fn close_page(
    state: &AppState,
    user: &Viewer,
    id: i64,
    won: bool,
    reason: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let chrome = Chrome::for_user(user, format!("/board#deal-{id}"));
    let l = list_texts(chrome.t.lang);
    let deal = match records::get(&state.db, &user.actor, &OPPORTUNITIES, id).await {
        Ok(deal) => deal,
        Err(e) => return store_error_page(chrome, e),
    };
    let name = text_of(&deal["name"]);
    let page = ClosePage {
        l,
        csrf: user.csrf.clone(),
        id,
        heading: fill(
            if won {
                l.board_win_title
            } else {
                l.board_lose_title
            },
            &[("name", &name)],
        ),
        won,
        reason: reason.to_owned(),
        reasons: user
            .choices
            .active(ChoiceKind::LostReason)
            .map(|c| c.label(chrome.t.lang).to_owned())
            .collect(),
        error,
        chrome,
    };
    render(status, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CloseQuery {
    result: String,
}

/// `GET /board/{id}/close?result=won|lost`: the confirmation.
pub(super) async fn confirm_close(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<CloseQuery>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        let chrome = Chrome::for_user(&user, "/board");
        return store_error_page(chrome, StoreError::NotFound(OPPORTUNITIES.schema));
    };
    let won = query.result != "lost";
    close_page(&state, &user, id, won, "", None, StatusCode::OK).await
}

/// `POST /board/{id}/close`: `result` is `won` or `lost`; losing needs a reason, and a refusal
/// comes back on the confirmation with what was typed.
pub(super) async fn close_deal(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CloseForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        let chrome = Chrome::for_user(&user, "/board");
        return store_error_page(chrome, StoreError::NotFound(OPPORTUNITIES.schema));
    };
    let won = match form.result.as_str() {
        "won" => true,
        "lost" => false,
        _ => {
            let invalid = xiansuo_core::Invalid::new("result", "must be won or lost");
            return after_write(&state, &user, id, Err(invalid.into())).await;
        }
    };
    let reason = form.reason.trim();
    let t = super::i18n::texts(&user.actor.locale);
    let closed = if won {
        let win = Win {
            reason: (!reason.is_empty()).then(|| reason.to_owned()),
            stage: None,
        };
        pipeline::win(ctx(&state, &user), id, win.into()).await
    } else {
        let loss = Loss {
            reason: reason.to_owned(),
            stage: None,
        };
        pipeline::lose(ctx(&state, &user), id, loss.into()).await
    };
    match closed {
        Ok(_) => Redirect::to(&format!("/board#deal-{id}")).into_response(),
        Err(StoreError::Invalid(invalid)) => {
            let message = invalid_text(t, &invalid);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            close_page(&state, &user, id, won, reason, Some(message), status).await
        }
        Err(StoreError::Conflict(message)) => {
            let message = t.message(&message);
            close_page(
                &state,
                &user,
                id,
                won,
                reason,
                Some(message),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => store_error_page(Chrome::for_user(&user, "/board"), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_shown_in_yuan_with_thousands_separators() {
        assert_eq!(money(&json!(1234567.5)), "¥1,234,567.50");
        assert_eq!(money(&json!(100)), "¥100.00");
        assert_eq!(money(&json!(0)), "¥0.00");
        assert_eq!(money(&json!(-2500.25)), "-¥2,500.25");
        assert_eq!(money(&Value::Null), "");
    }

    #[test]
    fn each_column_pages_on_its_own_and_keeps_the_filters() {
        let query = BoardQuery::from_pairs(vec![
            ("owner".into(), "7".into()),
            ("after_met".into(), "abc".into()),
        ]);
        assert_eq!(query.cursor("met"), Some("abc"));
        assert_eq!(
            query.url("found", Some("xyz")),
            "/board?owner=7&after_met=abc&after_found=xyz#stage-found"
        );
        assert_eq!(query.url("met", None), "/board?owner=7#stage-met");
    }
}
