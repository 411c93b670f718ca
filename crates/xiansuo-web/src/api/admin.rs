//! Users, teams (the org tree), API tokens, custom field definitions, and the audit log and
//! login history. Reading users, teams and fields needs any signed-in user (contact details of
//! others only an admin); changing them, and reading the logs, needs an admin, which the use
//! cases check themselves.
//!
//! A body is handed to the use case unread (`Unread`), which reads it into its type after it
//! has checked the caller. The handlers of [`routes`] document themselves (`#[utoipa::path]`);
//! the statuses a handler lists beyond its success are its own failures, and what every route
//! shares is added by `crate::openapi`.

use crate::auth::{cookie, Auth, SESSION_COOKIE};
use crate::error::ApiResult;
use crate::extract::{Id, JsonBody, QueryPairs};
use crate::AppState;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::admin::audit::{AuditList, LoginList, LoginResultCode, SettingCode};
use xiansuo_app::admin::auth::{CreatedToken, NewToken, TokenList};
use xiansuo_app::admin::users::{
    NewTeam, NewUser, PasswordChange, Shown, Team, TeamList, TeamPatch, User, UserList, UserPatch,
};
use xiansuo_app::admin::{audit, auth, users};
use xiansuo_app::records::custom_fields::{
    self, CustomField, CustomFieldList, CustomFieldPatch, NewCustomField,
};
use xiansuo_core::schema::DateOrTime;
use xiansuo_core::validation::Unread;

/// List users
///
/// Every user, by username. Of other users, managers and reps get only the fields needed to
/// pick an owner.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "listUsers",
    tag = "users",
    params(
        ("role" = Option<String>, Query, description = "Only users with this role", pattern = "^(admin|manager|rep)$"),
        ("team_id" = Option<i64>, Query, description = "Only members of this team"),
        ("active" = Option<bool>, Query, description = "Only active (`true`) or disabled (`false`) users"),
    ),
    responses(
        (status = OK, description = "Every user", body = UserList),
        (status = BAD_REQUEST, description = "A query string that cannot be read"),
        (status = UNPROCESSABLE_ENTITY, description = "A filter is not valid"),
    )
)]
async fn list_users(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<UserList>> {
    Ok(Json(users::list_for(&s.db, &auth.actor, &q).await?))
}

/// Create a user
///
/// Admins only.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    operation_id = "createUser",
    tag = "users",
    request_body = NewUser,
    responses(
        (status = CREATED, description = "Created", body = User),
        (status = CONFLICT, description = "The username is taken"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_user(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<User>)> {
    let new = Unread::json(body);
    Ok((
        StatusCode::CREATED,
        Json(users::create_by(&s.db, &auth.actor, new, s.clock.now()).await?),
    ))
}

/// Get a user
///
/// Of another user, managers and reps get only the fields needed to pick an owner.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    operation_id = "getUser",
    tag = "users",
    responses((status = OK, description = "The user", body = User))
)]
async fn get_user(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<Json<Shown>> {
    Ok(Json(users::get_for(&s.db, &auth.actor, id).await?))
}

/// Change a user
///
/// Anyone may change their own name, email, locale and time zone; the rest, and any other
/// user, only an admin.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    operation_id = "updateUser",
    tag = "users",
    request_body = UserPatch,
    responses(
        (status = OK, description = "The changed user", body = User),
        (status = CONFLICT, description = "The last active admin would be demoted or deactivated"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_user(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<User>> {
    let patch = Unread::json(body);
    Ok(Json(
        users::update(&s.db, &auth.actor, id, patch, s.clock.now()).await?,
    ))
}

/// The result of lifting a user's sign-in throttles.
#[derive(Debug, Serialize, ToSchema)]
struct SignInUnlock {
    /// Whether any throttle was in force
    unlocked: bool,
}

/// Lift a user's sign-in throttles
///
/// Admins only. Failed sign-ins are throttled per username at an address and per address
/// (docs/SECURITY.md); this lifts the user's throttles at every address on the instance that
/// answers.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/unlock",
    operation_id = "unlockUserSignIn",
    tag = "users",
    responses((status = OK, description = "Done", body = SignInUnlock))
)]
async fn unlock_user(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<SignInUnlock>> {
    let username = users::unlock_sign_in(&s.db, &auth.actor, id).await?;
    let unlocked = s.sign_in_throttle.unlock(&username);
    tracing::info!(
        username,
        unlocked,
        by = auth.actor.user_id,
        "sign-in throttles lifted"
    );
    Ok(Json(SignInUnlock { unlocked }))
}

/// Change your own password
///
/// The current password is required; a wrong one is a 422 on `current_password`. Stored with
/// argon2id. Every other session of yours ends; the one the change is made with stays.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    operation_id = "changeMyPassword",
    tag = "auth",
    request_body = PasswordChange,
    responses(
        (status = NO_CONTENT, description = "Changed"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid, or the current password is wrong"),
    )
)]
async fn change_password(
    State(s): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<StatusCode> {
    // A session cookie the change is made with stays signed in; a bearer token has none.
    let session = if headers.contains_key(AUTHORIZATION) {
        None
    } else {
        cookie(&headers, SESSION_COOKIE)
    };
    let change = Unread::json(body);
    users::change_password(
        &s.db,
        &auth.actor,
        change,
        session.as_deref(),
        s.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List teams
///
/// Any signed-in user may read the org tree.
#[utoipa::path(
    get,
    path = "/api/v1/teams",
    operation_id = "listTeams",
    tag = "teams",
    responses((status = OK, description = "Every team", body = TeamList))
)]
async fn list_teams(State(s): State<AppState>, _auth: Auth) -> ApiResult<Json<TeamList>> {
    Ok(Json(users::list_teams(&s.db).await?))
}

/// Create a team
///
/// Admins only.
#[utoipa::path(
    post,
    path = "/api/v1/teams",
    operation_id = "createTeam",
    tag = "teams",
    request_body = NewTeam,
    responses(
        (status = CREATED, description = "Created", body = Team),
        (status = CONFLICT, description = "A team has that name"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_team(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let new = Unread::json(body);
    Ok((
        StatusCode::CREATED,
        Json(users::create_team(&s.db, &auth.actor, new, s.clock.now()).await?),
    ))
}

/// Get a team
///
/// Any signed-in user may read the org tree.
#[utoipa::path(
    get,
    path = "/api/v1/teams/{id}",
    operation_id = "getTeam",
    tag = "teams",
    responses((status = OK, description = "The team", body = Team))
)]
async fn get_team(State(s): State<AppState>, _auth: Auth, Id(id): Id) -> ApiResult<Json<Team>> {
    Ok(Json(users::get_team(&s.db, id).await?))
}

/// Change a team
///
/// Admins only. A team cannot be moved below itself.
#[utoipa::path(
    patch,
    path = "/api/v1/teams/{id}",
    operation_id = "updateTeam",
    tag = "teams",
    request_body = TeamPatch,
    responses(
        (status = OK, description = "The changed team", body = Team),
        (status = CONFLICT, description = "A team has that name"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_team(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Team>> {
    let patch = Unread::json(body);
    Ok(Json(
        users::update_team(&s.db, &auth.actor, id, patch, s.clock.now()).await?,
    ))
}

/// List your API tokens
///
/// The caller's own tokens, oldest first, without their secrets.
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    operation_id = "listTokens",
    tag = "tokens",
    responses((status = OK, description = "Your tokens", body = TokenList))
)]
async fn list_tokens(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<TokenList>> {
    Ok(Json(auth::list_tokens(&s.db, &auth.actor).await?))
}

/// Create an API token
///
/// The secret is in the response and nowhere else, ever.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    operation_id = "createToken",
    tag = "tokens",
    request_body = NewToken,
    responses(
        (status = CREATED, description = "Created", body = CreatedToken),
        (status = FORBIDDEN, description = "A scope the caller may not give"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_token(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let new = Unread::json(body);
    Ok((
        StatusCode::CREATED,
        Json(auth::create_scoped_token(&s.db, &auth.actor, new, s.clock.now()).await?),
    ))
}

/// Revoke an API token
///
/// Your own tokens; an admin may revoke anyone's. It stops working at once. The last
/// admin-scope token of the last active admin cannot be revoked until another is created (409).
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    operation_id = "revokeToken",
    tag = "tokens",
    responses(
        (status = NO_CONTENT, description = "Revoked"),
        (status = CONFLICT, description = "The last admin token of the last active admin"),
    )
)]
async fn revoke_token(State(s): State<AppState>, auth: Auth, Id(id): Id) -> ApiResult<StatusCode> {
    auth::revoke_token(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List custom field definitions
///
/// Every definition, by record type; any signed-in user may read them.
#[utoipa::path(
    get,
    path = "/api/v1/custom-fields",
    operation_id = "listCustomFields",
    tag = "custom-fields",
    responses((status = OK, description = "Every definition", body = CustomFieldList))
)]
async fn list_custom_fields(
    State(s): State<AppState>,
    _auth: Auth,
) -> ApiResult<Json<CustomFieldList>> {
    Ok(Json(custom_fields::list(&s.db).await?))
}

/// Define a custom field
///
/// Admins only.
#[utoipa::path(
    post,
    path = "/api/v1/custom-fields",
    operation_id = "createCustomField",
    tag = "custom-fields",
    request_body = NewCustomField,
    responses(
        (status = CREATED, description = "Created", body = CustomField),
        (status = CONFLICT, description = "The record type has a field with that key"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn create_custom_field(
    State(s): State<AppState>,
    auth: Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<CustomField>)> {
    let new = Unread::json(body);
    Ok((
        StatusCode::CREATED,
        Json(custom_fields::create_by(&s.db, &auth.actor, new, s.clock.now()).await?),
    ))
}

/// Get a custom field definition
///
/// With `records_with_value`, how many records hold a value for it.
#[utoipa::path(
    get,
    path = "/api/v1/custom-fields/{id}",
    operation_id = "getCustomField",
    tag = "custom-fields",
    responses((status = OK, description = "The definition", body = CustomField))
)]
async fn get_custom_field(
    State(s): State<AppState>,
    _auth: Auth,
    Id(id): Id,
) -> ApiResult<Json<CustomField>> {
    Ok(Json(custom_fields::get(&s.db, id).await?))
}

/// Change a custom field
///
/// Admins only.
#[utoipa::path(
    patch,
    path = "/api/v1/custom-fields/{id}",
    operation_id = "updateCustomField",
    tag = "custom-fields",
    request_body = CustomFieldPatch,
    responses(
        (status = OK, description = "The changed definition", body = CustomField),
        (status = UNPROCESSABLE_ENTITY, description = "A field is not valid"),
    )
)]
async fn update_custom_field(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<CustomField>> {
    let patch = Unread::json(body);
    Ok(Json(
        custom_fields::update(&s.db, &auth.actor, id, patch, s.clock.now()).await?,
    ))
}

/// Delete a custom field
///
/// Admins only. The values records hold for it are kept in their `custom` object and history,
/// but no page, filter, rule, import or check uses them; a new field with the same key and
/// type shows them again.
#[utoipa::path(
    delete,
    path = "/api/v1/custom-fields/{id}",
    operation_id = "deleteCustomField",
    tag = "custom-fields",
    responses((status = NO_CONTENT, description = "Deleted"))
)]
async fn delete_custom_field(
    State(s): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    custom_fields::delete(&s.db, &auth.actor, id, s.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The admin routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(unlock_user))
        .routes(routes!(change_password))
        .routes(routes!(list_teams, create_team))
        .routes(routes!(get_team, update_team))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_custom_fields, create_custom_field))
        .routes(routes!(
            get_custom_field,
            update_custom_field,
            delete_custom_field
        ))
        .routes(routes!(list_audit))
        .routes(routes!(list_logins))
}

/// List settings changes
///
/// The audit log of settings (admins only): every change to users, teams, API tokens, custom
/// fields, pipeline stages, checklists, scoring and assignment rules and settings,
/// availability, pools, recycle and SLA rules, working hours, web forms, webhooks, dedup
/// policies, channel spend and targets, written in the change's own transaction.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "listAudit",
    tag = "audit",
    params(
        ("kind" = inline(Option<SettingCode>), Query, description = "Only this kind of setting"),
        ("actor" = Option<i64>, Query, description = "Only changes by this user"),
        ("subject" = Option<i64>, Query, description = "Only changes of the record with this id (with `kind`)"),
        ("from" = inline(Option<DateOrTime>), Query, description = "From this date (China time) or RFC 3339 instant"),
        ("to" = inline(Option<DateOrTime>), Query, description = "Up to this date (included) or instant"),
        ("limit" = Option<i64>, Query, description = "How many per page (default 50)", minimum = 1, maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page", pattern = "^[0-9]{1,18}$"),
    ),
    responses(
        (status = OK, description = "One page", body = AuditList),
        (status = FORBIDDEN, description = "The caller is not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A filter is unknown or not valid"),
    )
)]
async fn list_audit(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<AuditList>> {
    Ok(Json(audit::list(&s.db, &auth.actor, &q).await?))
}

/// List sign-in attempts
///
/// The login history (admins only): every sign-in with a password, through the web page or
/// `POST /api/v1/auth/login`, successful or not.
#[utoipa::path(
    get,
    path = "/api/v1/audit/logins",
    operation_id = "listLogins",
    tag = "audit",
    params(
        ("user" = Option<i64>, Query, description = "Only attempts for this user"),
        ("result" = inline(Option<LoginResultCode>), Query, description = "Only attempts that ended so"),
        ("from" = inline(Option<DateOrTime>), Query, description = "From this date (China time) or RFC 3339 instant"),
        ("to" = inline(Option<DateOrTime>), Query, description = "Up to this date (included) or instant"),
        ("limit" = Option<i64>, Query, description = "How many per page (default 50)", minimum = 1, maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page", pattern = "^[0-9]{1,18}$"),
    ),
    responses(
        (status = OK, description = "One page", body = LoginList),
        (status = FORBIDDEN, description = "The caller is not an admin"),
        (status = UNPROCESSABLE_ENTITY, description = "A filter is unknown or not valid"),
    )
)]
async fn list_logins(
    State(s): State<AppState>,
    auth: Auth,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<LoginList>> {
    Ok(Json(audit::logins(&s.db, &auth.actor, &q).await?))
}
