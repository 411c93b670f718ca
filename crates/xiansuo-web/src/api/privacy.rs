//! A person's data over HTTP (PIPL / GDPR requests, admins only): export everything held about
//! a person found by phone or e-mail, and erase it keeping aggregates
//! ([`xiansuo_app::data::privacy`]). Each handler documents itself (`#[utoipa::path]`) and
//! [`routes`] registers handler and document together.

use crate::auth::ctx;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::data::privacy::{self, Erased, Erasure, PersonData};
use xiansuo_core::validation::Unread;

/// Everything held about a person (admins)
///
/// Finds the leads and contacts (deleted ones too) whose phone or e-mail is the one given (at
/// least one of them) and answers with them, their activities, their history, their
/// attachments' details and their web-form submissions. The export is recorded in
/// /api/v1/exports as record type `person`.
#[utoipa::path(
    get,
    path = "/api/v1/privacy/export",
    operation_id = "exportPerson",
    tag = "privacy",
    params(
        ("phone" = Option<String>, Query, description = "The person's phone, in any format (a number without a country code is taken as Chinese)"),
        ("email" = Option<String>, Query, description = "The person's e-mail"),
    ),
    responses(
        (status = OK, description = "The person's data", body = PersonData),
        (status = FORBIDDEN, description = "The caller is not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "Neither a phone nor an e-mail, or one that is not valid"),
    )
)]
async fn export(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(query): QueryPairs,
) -> ApiResult<Json<PersonData>> {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (phone, email) = (param("phone"), param("email"));
    Ok(Json(privacy::export(ctx(&s, &auth), phone, email).await?))
}

/// Erase a person's data (admins)
///
/// Erases the personal data of every lead and contact with the phone or e-mail given, in one
/// transaction, keeping the records for the counts (status, source, owner, company, dates,
/// non-text custom fields). Names become 已擦除; phones, e-mails, WeChat ids, titles,
/// descriptions, text custom fields, activity and comment texts, attachments, history values,
/// web-form payloads, webhook bodies and queued e-mails carrying the phone or e-mail,
/// notifications about the records, merge images and reported import rows holding them are
/// cleared or removed. Each record gets a history entry `erase` with who and why.
#[utoipa::path(
    post,
    path = "/api/v1/privacy/erase",
    operation_id = "erasePerson",
    tag = "privacy",
    request_body = Erasure,
    responses(
        (status = OK, description = "What was erased", body = Erased),
        (status = FORBIDDEN, description = "The caller is not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is missing or not valid"),
    )
)]
async fn erase(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Erased>> {
    let erasure = Unread::json(body);
    Ok(Json(privacy::erase(ctx(&s, &auth), erasure).await?))
}

/// The privacy routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export))
        .routes(routes!(erase))
}
