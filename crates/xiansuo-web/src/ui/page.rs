//! What every page shares: the signed-in [`Viewer`], the chrome around a page (top bar, menu,
//! language), rendering with the right status, the CSRF check of a form, error and message
//! pages, and how times, numbers and choices are shown.

use super::i18n::{self, Texts};
use crate::auth::{same_secret, SessionUser};
use crate::AppState;
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use xiansuo_app::admin::users;
use xiansuo_app::StoreError;
use xiansuo_core::choice::Choices;

/// The signed-in user of a page, with how many of their notifications are unread, which the
/// top bar of every page shows.
pub(crate) struct Viewer {
    pub(super) user: SessionUser,
    pub(super) unread: i64,
    /// The time zone of their profile, in which every page shows and reads times.
    pub(super) zone: Zone,
    /// The lists of statuses, sources, outcomes and reasons, whose labels pages show.
    pub(super) choices: Arc<Choices>,
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
        let loaded = async {
            let unread =
                xiansuo_app::channels::notifications::unread(&state.db, user.actor.user_id).await?;
            let me = users::get(&state.db, user.actor.user_id).await?;
            let zone = Zone::of(Some(&me.time_zone));
            let choices = xiansuo_app::records::choices::all(&state.db).await?;
            Ok::<_, StoreError>((unread, zone, choices))
        };
        match loaded.await {
            Ok((unread, zone, choices)) => Ok(Viewer {
                user,
                unread,
                zone,
                choices,
            }),
            Err(e) => {
                let viewer = Viewer {
                    user,
                    unread: 0,
                    zone: Zone::default(),
                    choices: Arc::default(),
                };
                let chrome = Chrome::for_user(&viewer, "/leads");
                Err(store_error_page(chrome, e))
            }
        }
    }
}

pub(super) const STYLESHEET: &str = include_str!("../../assets/app.css");

/// A short hash of the stylesheet. Pages link to `/assets/app.css?v=HASH`, so the stylesheet
/// can be cached for a year and a new release still reaches every browser at once.
pub(super) fn stylesheet_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| content_version(STYLESHEET))
}

/// A short hash of an embedded asset, for its address.
pub(super) fn content_version(text: &str) -> String {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{:012x}", hash & 0xffff_ffff_ffff)
}

pub(super) async fn stylesheet() -> Response {
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
pub(super) struct Chrome {
    pub(super) t: &'static Texts,
    pub(super) css_version: &'static str,
    /// Absent on the sign-in page.
    pub(super) user: Option<TopBarUser>,
}

/// The signed-in user as the top bar shows them, with what its forms post.
pub(super) struct TopBarUser {
    pub(super) username: String,
    pub(super) csrf: String,
    /// Where the language switch returns to.
    pub(super) back: String,
    pub(super) locale: String,
    /// Unread notifications.
    pub(super) unread: i64,
    /// Sees the settings link rather than only their profile's.
    pub(super) is_admin: bool,
}

impl Chrome {
    pub(super) fn anonymous(t: &'static Texts) -> Self {
        Chrome {
            t,
            css_version: stylesheet_version(),
            user: None,
        }
    }

    pub(super) fn for_user(user: &Viewer, back: impl Into<String>) -> Self {
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
pub(super) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
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
pub(super) struct MessagePage {
    pub(super) chrome: Chrome,
    pub(super) heading: &'static str,
    pub(super) message: String,
}

/// A page that only says what went wrong.
pub(super) fn message_page(
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
pub(super) fn csrf_refusal(user: &Viewer, sent: &str) -> Option<Response> {
    (!same_secret(sent, &user.csrf)).then(|| csrf_failed(user))
}

/// The 403 page for a form without the session's CSRF token.
pub(super) fn csrf_failed(user: &Viewer) -> Response {
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
pub(super) fn store_error_page(chrome: Chrome, error: StoreError) -> Response {
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
pub(super) fn lead_not_found(chrome: Chrome) -> Response {
    store_error_page(chrome, StoreError::NotFound("Lead"))
}

/// The time zone a person reads and enters times in: their profile's (an IANA name), China
/// Standard Time when they chose none or it is not one. Every time a page shows goes through
/// it; reports alone count in China days, as their use cases do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Zone(Tz);

impl Default for Zone {
    fn default() -> Self {
        Zone(chrono_tz::Asia::Shanghai)
    }
}

impl Zone {
    pub(super) fn of(name: Option<&str>) -> Self {
        name.and_then(|n| n.trim().parse().ok())
            .map_or_else(Zone::default, Zone)
    }

    /// An RFC 3339 instant in this zone.
    pub(super) fn instant(self, rfc3339: &str) -> Option<DateTime<Tz>> {
        DateTime::parse_from_rfc3339(rfc3339)
            .ok()
            .map(|t| t.with_timezone(&self.0))
    }

    /// `2026-11-02` from an RFC 3339 instant.
    pub(super) fn date(self, rfc3339: &str) -> String {
        self.instant(rfc3339)
            .map_or_else(String::new, |t| t.format("%Y-%m-%d").to_string())
    }

    /// `2026-11-02 17:00` from an RFC 3339 instant.
    pub(super) fn time(self, rfc3339: &str) -> String {
        self.instant(rfc3339)
            .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M").to_string())
    }

    /// Today's date here.
    pub(super) fn today(self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.0).date_naive()
    }

    /// The instant a date starts here (the first instant after a gap in the clocks).
    pub(super) fn midnight(self, date: NaiveDate) -> DateTime<Utc> {
        let naive = date.and_time(NaiveTime::MIN);
        (0..4)
            .find_map(|hours| {
                (naive + chrono::Duration::hours(hours))
                    .and_local_timezone(self.0)
                    .earliest()
            })
            .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// The zone's name next to a time field: the language's own name for China Standard Time,
    /// else the IANA name.
    pub(super) fn hint(self, t: &Texts) -> String {
        if self == Zone::default() {
            t.time_zone_hint.to_owned()
        } else {
            self.0.name().to_owned()
        }
    }

    /// The RFC 3339 instant of a `datetime-local` input value (`2026-11-05T10:00`, seconds
    /// optional) read here; `None` when it is not one.
    pub(super) fn instant_of_local(self, value: &str) -> Option<String> {
        let value = value.trim();
        let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
            .ok()?;
        let local = naive.and_local_timezone(self.0).earliest()?;
        Some(local.to_rfc3339_opts(SecondsFormat::Secs, false))
    }
}

/// [`Zone::instant`] in China Standard Time, for the settings pages that do not read the
/// viewer's zone.
pub(super) fn parse_instant(rfc3339: &str) -> Option<DateTime<Tz>> {
    Zone::default().instant(rfc3339)
}

/// [`Zone::instant_of_local`] in China Standard Time, for the settings pages that do not
/// read the viewer's zone.
pub(super) fn instant_of_local(value: &str) -> Option<String> {
    Zone::default().instant_of_local(value)
}

/// A `back` address for redirects: only a path on this site, so that a form cannot be used
/// to send people elsewhere, and nothing that cannot be a `Location` header.
pub(super) fn local_path(back: &str) -> &str {
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
pub(super) fn group_digits(digits: &str) -> String {
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
pub(super) fn thousands(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group_digits(&n.unsigned_abs().to_string()))
}

/// One choice of a `<select>`.
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
}

impl Choice {
    pub(super) fn new(value: impl Into<String>, label: impl Into<String>, current: &str) -> Self {
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
    fn times_are_shown_and_read_in_the_viewers_zone() {
        let china = Zone::of(None);
        assert_eq!(china.date("2026-11-02T17:30:00.000Z"), "2026-11-03");
        assert_eq!(china.time("2026-11-02T09:00:00.000Z"), "2026-11-02 17:00");
        assert_eq!(
            china.instant_of_local("2026-11-05T10:00").as_deref(),
            Some("2026-11-05T10:00:00+08:00")
        );
        assert_eq!(china.instant_of_local("tomorrow"), None);
        assert_eq!(Zone::of(Some("Mars/Olympus")), china);
        let berlin = Zone::of(Some("Europe/Berlin"));
        assert_eq!(berlin.time("2026-11-02T09:00:00.000Z"), "2026-11-02 10:00");
        assert_eq!(berlin.date("2026-11-02T23:30:00.000Z"), "2026-11-03");
        assert_eq!(
            berlin.instant_of_local("2026-07-01T10:00").as_deref(),
            Some("2026-07-01T10:00:00+02:00")
        );
        let day = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        assert_eq!(
            china.midnight(day).to_rfc3339(),
            "2026-11-02T16:00:00+00:00"
        );
        // São Paulo had no midnight on 2018-11-04: the day began at 01:00.
        let gap = NaiveDate::from_ymd_opt(2018, 11, 4).unwrap();
        assert_eq!(
            Zone::of(Some("America/Sao_Paulo"))
                .midnight(gap)
                .to_rfc3339(),
            "2018-11-04T03:00:00+00:00"
        );
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
