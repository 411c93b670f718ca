//! The choice lists (statuses, sources, outcomes, lost and disqualify reasons): anyone signed
//! in reads them; admins add, relabel, reorder, archive and delete entries (see
//! `xiansuo_app::records::choices`).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{typed, Id, JsonBody, QueryPairs, Typed};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Serialize;
use xiansuo_app::records::choices::{self, ChoiceChange, NewChoice};
use xiansuo_core::choice::Choice;
use xiansuo_core::Invalid;

/// Every entry of the lists asked for, in list order: all of them, there are few.
#[derive(Serialize)]
struct ChoiceList {
    items: Vec<Choice>,
    next_cursor: Option<String>,
}

async fn list_choices(
    State(s): State<AppState>,
    _auth: Auth,
    QueryPairs(query): QueryPairs,
) -> ApiResult<Json<ChoiceList>> {
    let mut kind = None;
    for (name, value) in &query {
        match name.as_str() {
            "kind" => kind = Some(value.as_str()),
            other => {
                return Err(
                    Invalid::new(other, "is not a filter of choices (accepted: kind)").into(),
                )
            }
        }
    }
    Ok(Json(ChoiceList {
        items: choices::list(&s.db, kind).await?,
        next_cursor: None,
    }))
}

async fn create_choice(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Choice>)> {
    auth.actor.require_admin("edit choice lists")?;
    let input: NewChoice = typed(body)?;
    Ok((
        StatusCode::CREATED,
        Json(choices::create(&s.db, &auth.actor, input, s.clock.now()).await?),
    ))
}

async fn update_choice(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Typed(change): Typed<ChoiceChange>,
) -> ApiResult<Json<Choice>> {
    Ok(Json(
        choices::update(&s.db, &auth.actor, id, change, s.clock.now()).await?,
    ))
}

async fn delete_choice(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    choices::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/choices", get(list_choices).post(create_choice))
        .route(
            "/api/v1/choices/{id}",
            patch(update_choice).delete(delete_choice),
        )
}
