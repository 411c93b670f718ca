//! Who is calling: a bearer API token or a web session cookie, turned into an [`Actor`] with
//! its data scope. Cookie-authenticated writes must carry the session's CSRF token in the
//! `X-CSRF-Token` header (HTML forms carry it as a field, checked by the UI handlers). Failed
//! sign-ins are throttled per username at an address and per address ([`crate::throttle`]).

use crate::error::{ApiError, ApiResult};
use crate::extract::Typed;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use xiansuo_app::admin::audit::{self, LoginAttempt, LoginResult};
use xiansuo_app::admin::auth;
use xiansuo_app::admin::callers::callers;
use xiansuo_app::admin::users::{self, User};
use xiansuo_app::{Actor, Ctx};
use xiansuo_core::history::Channel;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "xs_session";
/// The header that carries the CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller.
pub struct Auth {
    pub actor: Actor,
    pub channel: Channel,
}

/// A caller with a web session, for HTML pages; holds the session's CSRF token so that forms can
/// embed it and form handlers can check it.
pub struct SessionUser {
    pub actor: Actor,
    pub csrf: String,
}

/// The value of a cookie in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Compares secrets without leaking where they differ through timing.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0_u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn actor(state: &AppState, user_id: i64) -> ApiResult<Actor> {
    Actor::load(&state.db, user_id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the account is disabled".into()))
}

async fn session_of(state: &AppState, headers: &HeaderMap) -> ApiResult<Option<(Actor, String)>> {
    let Some(secret) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let key = format!("session:{}", auth::hash_secret(&secret));
    if let Some((actor, Some(csrf))) = callers(&state.db).get(&key) {
        return Ok(Some((actor, csrf)));
    }
    match auth::session(&state.db, &secret, state.clock.now()).await? {
        Some((user_id, csrf)) => {
            let actor = actor(state, user_id).await?;
            callers(&state.db).put(key, (actor.clone(), Some(csrf.clone())));
            Ok(Some((actor, csrf)))
        }
        None => Ok(None),
    }
}

async fn token_actor(state: &AppState, token: &str) -> ApiResult<Actor> {
    let key = format!("token:{}", auth::hash_secret(token));
    if let Some((actor, _)) = callers(&state.db).get(&key) {
        return Ok(actor);
    }
    let (user_id, scope) = auth::user_for_token(&state.db, token)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the API token is unknown or revoked".into()))?;
    let mut actor = actor(state, user_id).await?;
    actor.access = scope;
    callers(&state.db).put(key, (actor.clone(), None));
    Ok(actor)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim)
                .ok_or_else(|| ApiError::Unauthorized("use Authorization: Bearer TOKEN".into()))?;
            let actor = token_actor(state, token).await?;
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe && !actor.access.may_write() {
                return Err(ApiError::Forbidden(
                    "this API token is read-only; use a read_write token to change anything".into(),
                ));
            }
            return Ok(Auth {
                actor,
                channel: Channel::Api,
            });
        }
        let (actor, csrf) = session_of(state, &parts.headers).await?.ok_or_else(|| {
            ApiError::Unauthorized("sign in, or send Authorization: Bearer TOKEN (create one with `xiansuo token create`)".into())
        })?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same_secret(sent, &csrf) {
                return Err(ApiError::Forbidden(format!(
                    "a write with a session cookie must send the session's CSRF token in the {CSRF_HEADER} header"
                )));
            }
        }
        Ok(Auth {
            actor,
            channel: Channel::Ui,
        })
    }
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match session_of(state, &parts.headers).await {
            Ok(Some((actor, csrf))) => Ok(SessionUser { actor, csrf }),
            Ok(None) => Err(axum::response::Redirect::to("/login").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Checks a username and password (throttled) and starts a session; every attempt goes to
/// the login history with the client's address and user agent. Returns the user id, the
/// session secret and the CSRF token.
pub async fn sign_in(
    state: &AppState,
    ip: IpAddr,
    user_agent: &str,
    username: &str,
    password: &str,
) -> ApiResult<(i64, String, String)> {
    let log = |result| {
        let attempt = LoginAttempt {
            username,
            address: ip.to_string(),
            user_agent,
            result,
        };
        audit::record_login(&state.db, attempt, state.clock.now())
    };
    if let Err(throttled) = state.sign_in_throttle.check(username, ip) {
        tracing::warn!(username, address = %ip, throttled = %throttled.what, "sign-in throttled");
        log(LoginResult::Throttled).await?;
        return Err(ApiError::TooManyRequests {
            message: "too many failed sign-in attempts from here; wait and try again".into(),
            retry_after_secs: throttled.retry_after_secs,
        });
    }
    // An unknown username costs the same argon2 work as a wrong password, so response times do
    // not reveal which usernames exist.
    let (user_id, hash) = match users::find_for_login(&state.db, username).await? {
        Some((id, hash)) => (Some(id), hash),
        None => (None, decoy_hash().to_owned()),
    };
    let matches = verify_blocking(password, hash).await;
    let Some(user_id) = user_id.filter(|_| matches) else {
        state.sign_in_throttle.failed(username, ip);
        log(LoginResult::Failed).await?;
        return Err(ApiError::Unauthorized("wrong username or password".into()));
    };
    state.sign_in_throttle.succeeded(username, ip);
    log(LoginResult::Succeeded).await?;
    let (secret, csrf) = auth::create_session(&state.db, user_id, state.clock.now()).await?;
    Ok((user_id, secret, csrf))
}

/// The `User-Agent` a request came with (bytes that are not UTF-8 replaced), or nothing.
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| users::hash_password("decoy password").unwrap_or_default())
}

/// argon2 is deliberately slow: run it off the async workers.
async fn verify_blocking(password: &str, hash: String) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || users::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// The `Set-Cookie` value for a new session, or for ending one (`secret` empty).
pub fn session_cookie(secret: &str, secure: bool) -> HeaderValue {
    let max_age = if secret.is_empty() {
        0
    } else {
        auth::SESSION_TTL_HOURS * 3600
    };
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("xs_session=; Max-Age=0"))
}

/// The credentials `POST /api/v1/auth/login` takes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Login, description = "Credentials")]
pub struct Credentials {
    /// Sign-in name
    pub username: String,
    /// Password
    #[schema(format = Password)]
    pub password: String,
}

/// A new web session, as `POST /api/v1/auth/login` answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "A new web session")]
pub struct Session {
    pub user: users::User,
    /// Send it as `X-CSRF-Token` on writes authenticated by the cookie
    pub csrf_token: String,
}

/// Sign in
///
/// Starts a web session and sets its cookie. Failed attempts are rate limited per username and
/// per client address.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    operation_id = "login",
    tag = "auth",
    request_body = Credentials,
    responses(
        (status = OK, description = "Signed in", body = Session, headers(
            ("Set-Cookie" = String, description = "`xs_session=…; HttpOnly; SameSite=Lax; Path=/`")
        )),
        (status = UNAUTHORIZED, description = "Wrong username or password, or a disabled account"),
        (status = UNPROCESSABLE_ENTITY, description = "A field is missing or not a string"),
        (status = TOO_MANY_REQUESTS, description = "Too many failed sign-ins; see `Retry-After`"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Typed(credentials): Typed<Credentials>,
) -> ApiResult<Response> {
    let (user_id, secret, csrf) = sign_in(
        &state,
        addr.ip(),
        &user_agent(&headers),
        &credentials.username,
        &credentials.password,
    )
    .await?;
    let user = users::get(&state.db, user_id).await?;
    let session = Session {
        user,
        csrf_token: csrf,
    };
    let mut response = (StatusCode::OK, Json(session)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&secret, state.secure_cookies),
    );
    Ok(response)
}

/// Sign out
///
/// Ends the web session and clears its cookie.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    operation_id = "logout",
    tag = "auth",
    responses((status = NO_CONTENT, description = "Signed out"))
)]
pub async fn logout(
    State(state): State<AppState>,
    _auth: Auth,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        auth::end_session(&state.db, &secret).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", state.secure_cookies));
    Ok(response)
}

/// Who am I
#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "getMe",
    tag = "auth",
    responses((status = OK, description = "The signed-in user", body = User))
)]
pub async fn me(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<users::User>> {
    Ok(Json(users::get(&state.db, auth.actor.user_id).await?))
}

/// The sign-in routes with their part of the OpenAPI document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// The context of a use case run for an authenticated call: the caller, the channel and now.
pub(crate) fn ctx<'a>(state: &'a AppState, auth: &'a Auth) -> Ctx<'a> {
    Ctx {
        hooks: xiansuo_app::hooks::ALL,
        db: &state.db,
        actor: &auth.actor,
        channel: auth.channel,
        now: state.clock.now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; xs_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
    }
}
