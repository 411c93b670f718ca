//! Signing in to and out of the web UI, and the user's choice of language.
//!
//! The sign-in form has no session to take a CSRF token from, so it uses a double-submit token:
//! a random value in a short-lived cookie and the same value in the form. A page on another site
//! can post a form but cannot read or set the cookie, so it cannot sign a browser in to an
//! account of its choosing.

use super::i18n::{self, Texts};
use super::page::{
    csrf_refusal, local_path, message_page, render, store_error_page, Chrome, Viewer,
};
use crate::auth::{cookie, same_secret, session_cookie, sign_in, user_agent, SESSION_COOKIE};
use crate::error::ApiError;
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use std::net::SocketAddr;
use xiansuo_app::admin::users;

const LOGIN_COOKIE: &str = "xs_login";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf: String,
    username: String,
    error: Option<&'static str>,
    /// The sign-in page in the other language: (address, label).
    other_language: (&'static str, &'static str),
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct LoginQuery {
    lang: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
    lang: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CsrfForm {
    csrf_token: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct LocaleForm {
    csrf_token: String,
    locale: String,
    back: String,
}

/// `GET /login`
pub(super) async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Response {
    login_form(&state, i18n::texts(&query.lang), StatusCode::OK, "", None)
}

/// The sign-in form with a fresh double-submit token.
fn login_form(
    state: &AppState,
    t: &'static Texts,
    status: StatusCode,
    username: &str,
    error: Option<&'static str>,
) -> Response {
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
    let other_language = if t.lang == "en" {
        ("/login", "中文")
    } else {
        ("/login?lang=en", "English")
    };
    let page = LoginPage {
        chrome: Chrome::anonymous(t),
        csrf: token.clone(),
        username: username.to_owned(),
        error,
        other_language,
    };
    let mut response = render(status, &page);
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login; Max-Age=3600{secure}"
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `POST /login`
pub(super) async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let t = i18n::texts(&form.lang);
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&form.csrf_token, &expected) {
        return login_form(
            &state,
            t,
            StatusCode::FORBIDDEN,
            &form.username,
            Some(t.sign_in_expired),
        );
    }
    match sign_in(
        &state,
        addr.ip(),
        &user_agent(&headers),
        form.username.trim(),
        &form.password,
    )
    .await
    {
        Ok((_, secret, _)) => {
            let mut response = Redirect::to("/leads").into_response();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                session_cookie(&secret, state.secure_cookies),
            );
            headers.append(
                header::SET_COOKIE,
                HeaderValue::from_static("xs_login=; HttpOnly; Path=/login; Max-Age=0"),
            );
            response
        }
        Err(ApiError::TooManyRequests {
            retry_after_secs, ..
        }) => {
            let mut response = login_form(
                &state,
                t,
                StatusCode::TOO_MANY_REQUESTS,
                &form.username,
                Some(t.sign_in_rate_limited),
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
        Err(ApiError::Unauthorized(_)) => login_form(
            &state,
            t,
            StatusCode::UNAUTHORIZED,
            &form.username,
            Some(t.sign_in_failed),
        ),
        Err(e) => {
            tracing::error!(error = ?e, "signing in failed");
            message_page(
                Chrome::anonymous(t),
                StatusCode::INTERNAL_SERVER_ERROR,
                t.error_title,
                t.internal_error,
            )
        }
    }
}

/// `POST /logout`
pub(super) async fn logout(
    State(state): State<AppState>,
    user: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = xiansuo_app::admin::auth::end_session(&state.db, &secret).await {
            return store_error_page(Chrome::for_user(&user, "/leads"), e.into());
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", state.secure_cookies));
    response
}

/// `POST /settings/locale`
pub(super) async fn set_locale(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<LocaleForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let id = user.actor.user_id;
    let patch = users::UserPatch {
        locale: Some(form.locale),
        ..users::UserPatch::default()
    };
    match users::update(&state.db, &user.actor, id, patch.into(), state.clock.now()).await {
        Ok(_) => Redirect::to(local_path(&form.back)).into_response(),
        Err(e) => store_error_page(Chrome::for_user(&user, local_path(&form.back)), e),
    }
}
