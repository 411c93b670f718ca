//! The web UI: server-rendered HTML pages for people, next to the JSON API. Pages are askama
//! templates compiled into the binary, styled by one embedded stylesheet, with no script and
//! nothing loaded from elsewhere. Sessions come from [`crate::auth`]; every form that writes
//! carries the session's CSRF token in a `csrf_token` field, checked before anything else.
//!
//! Each page module calls the same `xiansuo_db` functions as the JSON API, with the signed-in
//! user as the actor, so data scope and every rule are the store's, never the page's.

mod account;
mod board;
mod dashboard;
mod i18n;
mod imports;
mod leads;
mod notifications;
mod pool;
mod settings;

use crate::auth::{same_secret, SessionUser};
use crate::AppState;
use askama::Template;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat};
use i18n::Texts;
use std::ops::Deref;
use std::sync::OnceLock;
use xiansuo_db::import::upload::UPLOAD_LIMIT;
use xiansuo_db::StoreError;

/// Every UI route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/leads") }))
        .route("/assets/app.css", get(stylesheet))
        .route("/assets/settings.js", get(settings::script))
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", post(account::logout))
        .route("/settings/locale", post(account::set_locale))
        .route("/dashboard", get(dashboard::page))
        .route("/leads", get(leads::list).post(leads::create))
        .route("/leads/new", get(leads::new_form))
        .route("/leads/{id}", get(leads::show).post(leads::update))
        .route("/leads/{id}/edit", get(leads::edit_form))
        .route("/leads/{id}/activities", post(leads::log_activity))
        .route("/leads/{id}/release", post(pool::release))
        .route("/pool", get(pool::page))
        .route("/pool/{id}/claim", post(pool::claim))
        .route("/notifications", get(notifications::page))
        .route("/notifications/read-all", post(notifications::read_all))
        .route("/notifications/{id}/read", post(notifications::read_one))
        .route("/board", get(board::page))
        .route("/board/{id}/move", post(board::move_deal))
        .route("/board/{id}/close", post(board::close_deal))
        .route(
            "/imports",
            get(imports::list)
                .post(imports::upload)
                .layer(DefaultBodyLimit::max(
                    // The multipart framing around the file.
                    UPLOAD_LIMIT as usize + 64 * 1024,
                )),
        )
        .route("/imports/new", get(imports::new_form))
        .route("/imports/{id}", get(imports::show))
        .route("/imports/{id}/start", post(imports::start))
        .merge(settings::router())
}

/// The signed-in user of a page, with how many of their notifications are unread, which the
/// top bar of every page shows.
pub(super) struct Viewer {
    user: SessionUser,
    unread: i64,
}

impl Deref for Viewer {
    type Target = SessionUser;

    fn deref(&self) -> &SessionUser {
        &self.user
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let user = SessionUser::from_request_parts(parts, state).await?;
        let unread =
            match xiansuo_db::notifications::list(&state.db, user.actor.user_id, true, 1).await {
                Ok((_, unread)) => unread,
                Err(e) => {
                    let chrome = Chrome::for_user(&Viewer { user, unread: 0 }, "/leads");
                    return Err(store_error_page(chrome, StoreError::Internal(e)));
                }
            };
        Ok(Viewer { user, unread })
    }
}

const STYLESHEET: &str = include_str!("../../assets/app.css");

/// A short hash of the stylesheet. Pages link to `/assets/app.css?v=HASH`, so the stylesheet
/// can be cached for a year and a new release still reaches every browser at once.
fn stylesheet_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        // FNV-1a: stable across builds and platforms, unlike std's hasher.
        let hash = STYLESHEET.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{:012x}", hash & 0xffff_ffff_ffff)
    })
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// What the frame of every page (head and top bar) needs.
struct Chrome {
    t: &'static Texts,
    css_version: &'static str,
    /// Absent on the sign-in page.
    user: Option<TopBarUser>,
}

/// The signed-in user as the top bar shows them, with what its forms post.
struct TopBarUser {
    username: String,
    csrf: String,
    /// Where the language switch returns to.
    back: String,
    locale: String,
    /// Unread notifications.
    unread: i64,
    /// Sees the settings link rather than only their profile's.
    is_admin: bool,
}

impl Chrome {
    fn anonymous(t: &'static Texts) -> Self {
        Chrome {
            t,
            css_version: stylesheet_version(),
            user: None,
        }
    }

    fn for_user(user: &Viewer, back: impl Into<String>) -> Self {
        Chrome {
            t: i18n::texts(&user.actor.locale),
            css_version: stylesheet_version(),
            user: Some(TopBarUser {
                username: user.actor.username.clone(),
                csrf: user.csrf.clone(),
                back: back.into(),
                locale: user.actor.locale.clone(),
                unread: user.unread,
                is_admin: user.actor.is_admin(),
            }),
        }
    }
}

/// Renders a page with its status and the headers every page carries: pages hold personal
/// data, so they are not cached, and the policy forbids scripts, framing and foreign resources,
/// which the UI never needs.
fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                ),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "rendering the page failed",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    heading: &'static str,
    message: String,
}

/// A page that only says what went wrong.
fn message_page(
    chrome: Chrome,
    status: StatusCode,
    heading: &'static str,
    message: &str,
) -> Response {
    let page = MessagePage {
        chrome,
        heading,
        message: message.to_owned(),
    };
    render(status, &page)
}

/// The 403 page for a form whose `csrf_token` is not the session's; `None` when it is.
fn csrf_refusal(user: &Viewer, sent: &str) -> Option<Response> {
    (!same_secret(sent, &user.csrf)).then(|| csrf_failed(user))
}

/// The 403 page for a form without the session's CSRF token.
fn csrf_failed(user: &Viewer) -> Response {
    let chrome = Chrome::for_user(user, "/leads");
    let t = chrome.t;
    message_page(
        chrome,
        StatusCode::FORBIDDEN,
        t.forbidden_title,
        t.csrf_failed,
    )
}

/// The page for a store error that no form can show next to a field.
fn store_error_page(chrome: Chrome, error: StoreError) -> Response {
    let t = chrome.t;
    match error {
        StoreError::NotFound(what) => message_page(
            chrome,
            StatusCode::NOT_FOUND,
            t.not_found_title,
            if what == "Lead" {
                t.lead_not_found
            } else {
                t.record_not_found
            },
        ),
        StoreError::Forbidden(m) => {
            message_page(chrome, StatusCode::FORBIDDEN, t.forbidden_title, &m)
        }
        StoreError::Conflict(m) => {
            message_page(chrome, StatusCode::CONFLICT, t.error_title, &t.message(&m))
        }
        StoreError::Duplicate(d) => {
            let status = if d.merged.is_some() {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            message_page(chrome, status, t.error_title, &d.to_string())
        }
        StoreError::Invalid(i) => message_page(
            chrome,
            StatusCode::UNPROCESSABLE_ENTITY,
            t.error_title,
            &format!("{}: {}", t.field(&i.field), t.invalid(&i)),
        ),
        StoreError::Internal(e) => {
            tracing::error!(error = ?e, "a page failed");
            message_page(
                chrome,
                StatusCode::INTERNAL_SERVER_ERROR,
                t.error_title,
                t.internal_error,
            )
        }
    }
}

/// The 404 page for a lead that does not exist or is outside the user's scope; the two look the
/// same so that a page does not reveal which ids exist.
fn lead_not_found(chrome: Chrome) -> Response {
    store_error_page(chrome, StoreError::NotFound("Lead"))
}

/// Users have no time zone setting yet; the UI shows and reads times in China Standard Time
/// (UTC+8, no daylight saving), where Xiansuo's users are.
fn display_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

fn parse_instant(rfc3339: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.with_timezone(&display_offset()))
}

/// `2026-11-02` from an RFC 3339 instant.
fn local_date(rfc3339: &str) -> String {
    parse_instant(rfc3339).map_or_else(String::new, |t| t.format("%Y-%m-%d").to_string())
}

/// `2026-11-02 17:00` from an RFC 3339 instant.
fn local_time(rfc3339: &str) -> String {
    parse_instant(rfc3339).map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// The RFC 3339 instant of a `datetime-local` input value (`2026-11-05T10:00`, seconds
/// optional); `None` when it is not one.
fn instant_of_local(value: &str) -> Option<String> {
    let value = value.trim();
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    let local = naive.and_local_timezone(display_offset()).single()?;
    Some(local.to_rfc3339_opts(SecondsFormat::Secs, false))
}

/// A `back` address for redirects: only a path on this site, so that a form cannot be used
/// to send people elsewhere, and nothing that cannot be a `Location` header.
fn local_path(back: &str) -> &str {
    let local = back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && !back.chars().any(char::is_control);
    if local {
        back
    } else {
        "/leads"
    }
}

/// Digits with a comma between thousands: `1234567` → `1,234,567`.
fn group_digits(digits: &str) -> String {
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A count as the pages show it: `12,345`.
fn thousands(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group_digits(&n.unsigned_abs().to_string()))
}

/// One choice of a `<select>`.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

impl Choice {
    fn new(value: impl Into<String>, label: impl Into<String>, current: &str) -> Self {
        let value = value.into();
        Choice {
            selected: value == current,
            label: label.into(),
            value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_and_read_in_china_standard_time() {
        assert_eq!(local_date("2026-11-02T17:30:00.000Z"), "2026-11-03");
        assert_eq!(local_time("2026-11-02T09:00:00.000Z"), "2026-11-02 17:00");
        assert_eq!(
            instant_of_local("2026-11-05T10:00").as_deref(),
            Some("2026-11-05T10:00:00+08:00")
        );
        assert_eq!(instant_of_local("tomorrow"), None);
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
    }

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(local_path("/leads?q=张"), "/leads?q=张");
        assert_eq!(local_path("//evil.example/"), "/leads");
        assert_eq!(local_path("https://evil.example/"), "/leads");
        assert_eq!(local_path("/\\evil.example"), "/leads");
        assert_eq!(local_path("/leads\r\nSet-Cookie: x=1"), "/leads");
    }
}
