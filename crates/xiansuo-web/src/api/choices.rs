//! The choice lists (statuses, sources, outcomes, lost and disqualify reasons): anyone signed
//! in reads them; admins add, relabel, reorder, archive and delete entries, which the use cases
//! of `xiansuo_app::records::choices` check themselves. Each handler documents itself
//! (`#[utoipa::path]`) and [`routes`] registers handler and document together.

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::records::choices::{self, ChoiceChange, ChoiceList, NewChoice};
use xiansuo_core::choice::{Choice, ChoiceKind};
use xiansuo_core::validation::Unread;

/// List the choice lists
///
/// Anyone signed in. Wherever the API takes a status, source or outcome, it takes an entry's
/// code or either label (case and full-width forms ignored) and stores the code. Lost and
/// disqualify reasons stay free text; one that names a listed reason is stored as its code.
#[utoipa::path(
    get,
    path = "/api/v1/choices",
    operation_id = "listChoices",
    tag = "choices",
    params(("kind" = inline(Option<ChoiceKind>), Query, description = "Only this list")),
    responses(
        (status = OK, description = "The entries", body = ChoiceList),
        (status = UNPROCESSABLE_ENTITY, description = "A filter is unknown or not valid"),
    )
)]
async fn list_choices(
    State(s): State<AppState>,
    _auth: Auth,
    QueryPairs(query): QueryPairs,
) -> ApiResult<Json<ChoiceList>> {
    Ok(Json(choices::list_query(&s.db, &query).await?))
}

/// Add an entry to a choice list
///
/// Admins only. A code or label that would read as another entry's of the same list is refused
/// (409). An added status maps to one of the six fixed types; a lead set to it stores that type
/// in `status` and the entry in `status_detail`.
#[utoipa::path(
    post,
    path = "/api/v1/choices",
    operation_id = "createChoice",
    tag = "choices",
    request_body = NewChoice,
    responses(
        (status = CREATED, description = "Created", body = Choice),
        (status = FORBIDDEN, description = "The caller is not an admin"),
        (status = CONFLICT, description = "The code or a label reads as another entry's"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_choice(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Choice>)> {
    let input = Unread::json(body);
    Ok((
        StatusCode::CREATED,
        Json(choices::create(&s.db, &auth.actor, input, s.clock.now()).await?),
    ))
}

/// Relabel, move or archive an entry
///
/// Admins only. Fields left out keep their value.
#[utoipa::path(
    patch,
    path = "/api/v1/choices/{id}",
    operation_id = "updateChoice",
    tag = "choices",
    request_body = ChoiceChange,
    responses(
        (status = OK, description = "Changed", body = Choice),
        (status = FORBIDDEN, description = "The caller is not an admin"),
        (status = CONFLICT, description = "A label reads as another entry's, or a fixed status would be archived"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_choice(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Choice>> {
    let change = Unread::json(body);
    Ok(Json(
        choices::update(&s.db, &auth.actor, id, change, s.clock.now()).await?,
    ))
}

/// Delete an entry
///
/// Admins only. Built-in entries and entries some record holds are refused (409): archive them
/// instead.
#[utoipa::path(
    delete,
    path = "/api/v1/choices/{id}",
    operation_id = "deleteChoice",
    tag = "choices",
    responses(
        (status = NO_CONTENT, description = "Deleted"),
        (status = FORBIDDEN, description = "The caller is not an admin"),
        (status = CONFLICT, description = "Built in, or held by some record"),
    )
)]
async fn delete_choice(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    choices::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The choice-list routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_choices, create_choice))
        .routes(routes!(update_choice, delete_choice))
}
