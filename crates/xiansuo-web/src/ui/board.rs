//! The pipeline board (看板): one column per stage with the number of deals the user may see and
//! the sum of their amounts, the deals as cards, and on each card a small form to move it to
//! another stage and one to win or lose it with a reason. No script: each form is a POST that
//! comes back to the board. On a phone the columns stack.

use super::i18n::Texts;
use super::leads::{ctx, invalid_text, parse_id, text_of, username, usernames};
use super::page::{csrf_refusal, group_digits, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use xiansuo_app::records::schema::OPPORTUNITIES;
use xiansuo_app::sales::pipeline;
use xiansuo_app::{records, StoreError};

/// Cards shown per column: the most recently changed deals.
const CARDS_PER_COLUMN: &str = "50";

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
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    chrome: Chrome,
    csrf: String,
    columns: Vec<Column>,
    error: Option<String>,
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
    let Some(yuan) = value.as_f64() else {
        return String::new();
    };
    let fixed = format!("{:.2}", yuan.abs());
    let (whole, cents) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    let sign = if yuan < 0.0 { "-" } else { "" };
    format!("{sign}¥{}.{cents}", group_digits(whole))
}

fn stage_name(t: &Texts, stage: &Value) -> String {
    let key = if t.lang == "en" { "name_en" } else { "name_zh" };
    text_of(&stage[key])
}

/// The board, with a refused move's reason above it.
async fn board_page(
    state: &AppState,
    user: &Viewer,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let chrome = Chrome::for_user(user, "/board");
    let t = chrome.t;
    let loaded = async {
        let board = pipeline::board(&state.db, &user.actor, &[]).await?;
        let stages = board["items"].as_array().cloned().unwrap_or_default();
        let mut cards = Vec::new();
        for stage in &stages {
            let params = [
                ("stage".to_owned(), text_of(&stage["code"])),
                ("limit".to_owned(), CARDS_PER_COLUMN.to_owned()),
                ("sort".to_owned(), "-updated_at".to_owned()),
            ];
            cards.push(records::list(&state.db, &user.actor, &OPPORTUNITIES, &params).await?);
        }
        Ok::<_, StoreError>((stages, cards, usernames(state).await?))
    };
    let (stages, pages, names) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(chrome, e),
    };
    // A deal moves to an active stage that is not a lost one: losing needs a reason.
    let targets: Vec<(String, String)> = stages
        .iter()
        .filter(|s| s["active"] == true && s["kind"] != "lost")
        .map(|s| (text_of(&s["code"]), stage_name(t, s)))
        .collect();
    let columns = stages
        .iter()
        .zip(pages)
        .map(|(stage, page)| Column {
            code: text_of(&stage["code"]),
            name: stage_name(t, stage),
            kind: text_of(&stage["kind"]),
            count: stage["count"].as_i64().unwrap_or_default(),
            amount: money(&stage["amount"]),
            weighted: money(&stage["weighted_amount"]),
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
                        close_reason: text_of(&deal["close_reason"]),
                        moves: targets
                            .iter()
                            .map(|(code, name)| Choice::new(code.clone(), name.clone(), &current))
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect();
    let page = BoardPage {
        csrf: user.csrf.clone(),
        columns,
        error,
        chrome,
    };
    render(status, &page)
}

/// `GET /board`
pub(super) async fn page(State(state): State<AppState>, user: Viewer) -> Response {
    board_page(&state, &user, None, StatusCode::OK).await
}

/// Back to the board at the deal's card, or the board with the reason a write was refused.
async fn after_write(
    state: &AppState,
    user: &Viewer,
    id: i64,
    result: Result<Value, StoreError>,
) -> Response {
    let t = super::i18n::texts(&user.actor.locale);
    match result {
        Ok(_) => Redirect::to(&format!("/board#deal-{id}")).into_response(),
        Err(StoreError::Invalid(invalid)) => {
            let message = invalid_text(t, &invalid);
            board_page(state, user, Some(message), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(StoreError::Conflict(message)) => {
            let message = t.message(&message);
            board_page(state, user, Some(message), StatusCode::CONFLICT).await
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

/// `POST /board/{id}/close`: `result` is `won` or `lost`; losing needs a reason.
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
    let mut body = Map::new();
    let reason = form.reason.trim();
    if !reason.is_empty() {
        body.insert("reason".into(), Value::from(reason));
    }
    let result = pipeline::close(ctx(&state, &user), id, &Value::Object(body), won).await;
    after_write(&state, &user, id, result).await
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
}
