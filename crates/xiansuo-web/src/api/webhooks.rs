//! Outbound webhooks, for admins: subscriptions to domain events, their delivery log, a test
//! ping, and sending a delivery again (see `xiansuo_app::channels::webhooks`).
//!
//! A body is handed to the use case unread (`Unread`), which reads it into its type after it
//! has checked the caller, so a caller who may not call it gets a 403 whatever the body says.
//! Each handler documents itself (`#[utoipa::path]`), and [`routes`] registers handler and
//! document together, so a route cannot be served without being in the OpenAPI document. The
//! statuses a handler lists beyond its success are its own failures; what every route shares
//! (401 without credentials, the CSRF header of cookie writes, the id in the path, unreadable
//! bodies) is added by `crate::openapi`.

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::channels::webhooks::{
    self, CreatedWebhook, NewWebhook, Webhook, WebhookList, WebhookPatch,
};
use xiansuo_core::validation::Unread;

/// List webhooks
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    operation_id = "listWebhooks",
    tag = "webhooks",
    responses(
        (status = OK, description = "Every subscription", body = WebhookList),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn list_webhooks(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<WebhookList>> {
    Ok(Json(webhooks::list(&s.db, &auth.actor).await?))
}

/// Create a webhook
///
/// Admins only. Every active subscription receives each event it names as a POST of `{"id",
/// "event", "occurred_at", "data"}` with the headers `X-Xiansuo-Event`, `X-Xiansuo-Delivery`
/// and `X-Xiansuo-Signature: sha256=HEX` (the HMAC-SHA256 of the raw body keyed with the
/// secret). A delivery is queued in the transaction of the change, so a change that rolls back
/// sends nothing. An answer other than 2xx within 10 s is retried after 1, 2, 4, … minutes, 8
/// attempts in all; after 10 deliveries in a row have failed, the subscription is switched off
/// and its creator notified.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    operation_id = "createWebhook",
    tag = "webhooks",
    request_body = NewWebhook,
    responses(
        (status = CREATED, description = "Created, with its secret", body = CreatedWebhook),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_webhook(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let new = Unread::json(body);
    Ok((
        StatusCode::CREATED,
        Json(webhooks::create(&s.db, &auth.actor, new, s.clock.now()).await?),
    ))
}

/// Get a webhook
///
/// Admins only.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}",
    operation_id = "getWebhook",
    tag = "webhooks",
    responses(
        (status = OK, description = "The subscription", body = Webhook),
        (status = FORBIDDEN, description = "Not an admin"),
    )
)]
async fn get_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<Webhook>> {
    Ok(Json(webhooks::get(&s.db, &auth.actor, id).await?))
}

/// Change a webhook
///
/// Admins only. `"active": true` switches a subscription on again and clears its failures; a
/// new `secret` signs every later attempt.
#[utoipa::path(
    patch,
    path = "/api/v1/webhooks/{id}",
    operation_id = "updateWebhook",
    tag = "webhooks",
    request_body = WebhookPatch,
    responses(
        (status = OK, description = "Changed", body = Webhook),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Webhook>> {
    let patch = Unread::json(body);
    Ok(Json(
        webhooks::update(&s.db, &auth.actor, id, patch, s.clock.now()).await?,
    ))
}

/// Delete a webhook
///
/// Admins only. Its delivery log goes with it.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    operation_id = "deleteWebhook",
    tag = "webhooks",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    webhooks::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List a webhook's deliveries
///
/// Admins only. The delivery log, newest first, with every attempt.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries",
    operation_id = "listWebhookDeliveries",
    tag = "webhooks",
    params(
        ("limit" = Option<i64>, Query, description = "How many deliveries per page", minimum = 1, maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page", pattern = "^[0-9]{1,18}$"),
        ("state" = Option<String>, Query, description = "Only deliveries in this state: `pending`, `succeeded` or `failed`", pattern = "^(pending|succeeded|failed)$"),
        ("event" = Option<String>, Query, description = "Only deliveries of this event"),
    ),
    responses(
        (status = OK, description = "One page", body = ref("#/components/schemas/WebhookDeliveryList")),
        (status = FORBIDDEN, description = "Not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A filter is not valid"),
    )
)]
async fn list_deliveries(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    QueryPairs(query): QueryPairs,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        webhooks::deliveries(&s.db, &auth.actor, id, &query).await?,
    ))
}

/// Send a test ping
///
/// Admins only. Sends a `ping` event now, even to a subscription that is switched off, and
/// answers with the delivery and the receiver's answer. A ping is not retried and does not
/// count as a failure.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/test",
    operation_id = "testWebhook",
    tag = "webhooks",
    responses(
        (status = OK, description = "The delivery, attempted", body = ref("#/components/schemas/WebhookDelivery")),
    )
)]
async fn test_webhook(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Value>> {
    Ok(Json(
        webhooks::ping(&s.db, &auth.actor, id, s.clock.now()).await?,
    ))
}

/// Send a delivery again
///
/// Admins only. Queues one more attempt of a delivery that succeeded or failed, made at the
/// next run of background jobs. A pending delivery, or one of a subscription that is switched
/// off, is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/deliveries/{id}/retry",
    operation_id = "retryWebhookDelivery",
    tag = "webhooks",
    responses(
        (status = ACCEPTED, description = "Queued", body = ref("#/components/schemas/WebhookDelivery")),
        (status = CONFLICT, description = "Still pending, or its subscription is switched off"),
    )
)]
async fn retry_delivery(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(webhooks::redeliver(&s.db, &auth.actor, id, s.clock.now()).await?),
    ))
}

/// The webhook routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(test_webhook))
        .routes(routes!(retry_delivery))
}
