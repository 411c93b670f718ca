//! 设置 / Settings: the pages where an admin configures people (users, the org tree), the data
//! model (custom fields, pipeline stages), scoring and assignment rules, public pools, recycle and SLA rules, web forms, webhooks and API tokens, and where every user keeps their own
//! profile (name, language, time zone, password) and tokens.
//!
//! Every change calls the same `xiansuo_db` use case as the API with the signed-in user as the
//! actor, so who may do what is decided by the store alone: an admin page asks the store's
//! [`xiansuo_db::Actor::require_admin`] before showing anything, and a refused write comes back
//! as the store's error, shown next to its field (an invalid value) or above the form.

mod assignment;
mod channels;
mod data;
mod forms;
mod people;
mod pools;
mod profile;
mod scoring;
mod sla;
mod texts;

use super::i18n::Texts;
use super::{render, store_error_page, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::DateTime;
use chrono_tz::Tz;
use serde_json::Value;
use texts::{settings_texts, SettingsTexts};
use xiansuo_core::history::Channel;
use xiansuo_db::{Ctx, StoreError};

/// The settings routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(index))
        .route("/settings/profile", get(profile::page).post(profile::save))
        .route("/settings/password", post(profile::change_password))
        .route(
            "/settings/tokens",
            get(profile::tokens).post(profile::create_token),
        )
        .route("/settings/tokens/{id}/revoke", post(profile::revoke_token))
        .route(
            "/settings/users",
            get(people::users).post(people::create_user),
        )
        .route(
            "/settings/users/{id}",
            get(people::user).post(people::update_user),
        )
        .route(
            "/settings/users/{id}/password",
            post(people::reset_password),
        )
        .route(
            "/settings/users/{id}/availability",
            post(people::availability),
        )
        .route(
            "/settings/teams",
            get(people::teams).post(people::create_team),
        )
        .route("/settings/teams/{id}", post(people::update_team))
        .route(
            "/settings/fields",
            get(data::fields).post(data::create_field),
        )
        .route(
            "/settings/fields/{id}",
            get(data::field).post(data::update_field),
        )
        .route(
            "/settings/fields/{id}/delete",
            get(data::confirm_delete).post(data::delete_field),
        )
        .route(
            "/settings/stages",
            get(data::stages).post(data::create_stage),
        )
        .route("/settings/stages/{id}", post(data::update_stage))
        .route(
            "/settings/scoring",
            get(scoring::page).post(scoring::create_rule),
        )
        .route("/settings/scoring/settings", post(scoring::save_settings))
        .route(
            "/settings/scoring/{id}",
            get(scoring::rule).post(scoring::update_rule),
        )
        .route("/settings/scoring/{id}/delete", post(scoring::delete_rule))
        .route(
            "/settings/assignment",
            get(assignment::rules).post(assignment::create_rule),
        )
        .route(
            "/settings/assignment/{id}",
            get(assignment::rule).post(assignment::update_rule),
        )
        .route(
            "/settings/assignment/reorder",
            post(assignment::reorder_rules),
        )
        .route(
            "/settings/assignment/{id}/move",
            post(assignment::move_rule),
        )
        .route(
            "/settings/assignment/{id}/delete",
            post(assignment::delete_rule),
        )
        .route("/settings/pools", get(pools::list).post(pools::create))
        .route("/settings/pools/{id}", get(pools::show).post(pools::update))
        .route("/settings/pools/{id}/delete", post(pools::delete))
        .route(
            "/settings/recycle",
            get(pools::recycle_rules).post(pools::create_recycle_rule),
        )
        .route("/settings/recycle/{id}", post(pools::update_recycle_rule))
        .route(
            "/settings/recycle/{id}/delete",
            post(pools::delete_recycle_rule),
        )
        .route("/settings/sla", get(sla::rules).post(sla::create))
        .route("/settings/sla/{id}", post(sla::update))
        .route("/settings/sla/{id}/delete", post(sla::delete))
        .route("/settings/forms", get(forms::list).post(forms::create))
        .route("/settings/forms/{id}", get(forms::show).post(forms::update))
        .route("/settings/forms/{id}/delete", post(forms::delete))
        .route(
            "/settings/webhooks",
            get(channels::hooks).post(channels::create_hook),
        )
        .route(
            "/settings/webhooks/{id}",
            get(channels::hook).post(channels::update_hook),
        )
        .route(
            "/settings/webhooks/{id}/delete",
            post(channels::delete_hook),
        )
        .route("/settings/webhooks/{id}/test", post(channels::test_hook))
        .route(
            "/settings/deliveries/{id}/redeliver",
            post(channels::redeliver),
        )
}

const SCRIPT: &str = include_str!("../../../assets/settings.js");

/// `GET /assets/settings.js`: dragging rules into order, on top of the buttons that do it
/// without script. Served like the stylesheet, under a hash of its text.
pub(super) async fn script() -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// A link in the settings menu.
struct Section {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// The settings menu for the viewer: every section for an admin, their own ones for others.
fn sections(user: &Viewer, s: &SettingsTexts, current: &str) -> Vec<Section> {
    let own = [
        ("/settings/profile", s.profile_title),
        ("/settings/tokens", s.tokens_title),
    ];
    let admin = [
        ("/settings/users", s.users_title),
        ("/settings/teams", s.teams_title),
        ("/settings/fields", s.fields_title),
        ("/settings/stages", s.stages_title),
        ("/settings/scoring", s.scoring_title),
        ("/settings/assignment", s.assignment_title),
        ("/settings/pools", s.pools_title),
        ("/settings/recycle", s.recycle_title),
        ("/settings/sla", s.sla_title),
        ("/settings/forms", s.forms_title),
        ("/settings/webhooks", s.webhooks_title),
    ];
    let admin = if user.actor.is_admin() {
        &admin[..]
    } else {
        &[]
    };
    own.iter()
        .chain(admin)
        .map(|(href, label)| Section {
            href,
            label,
            current: *href == current,
        })
        .collect()
}

/// What every settings page carries besides its own content: the frame of every page, and
/// the settings menu with the texts and the CSRF token its forms use.
struct Frame {
    chrome: Chrome,
    menu: Menu,
}

/// The settings part of a page's frame.
struct Menu {
    s: &'static SettingsTexts,
    csrf: String,
    sections: Vec<Section>,
}

impl Frame {
    fn new(user: &Viewer, path: &str) -> Frame {
        let s = settings_texts(&user.actor.locale);
        Frame {
            chrome: Chrome::for_user(user, path),
            menu: Menu {
                s,
                csrf: user.csrf.clone(),
                sections: sections(user, s, path),
            },
        }
    }

    fn t(&self) -> &'static Texts {
        self.chrome.t
    }
}

/// Messages to show next to the fields of a form, by field name.
#[derive(Default)]
struct Errors(Vec<(String, String)>);

impl Errors {
    /// The message for a field, if it has one.
    fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The message for the first field under `prefix` (`target` covers `target.user_id`).
    fn starting(&self, prefix: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f.starts_with(prefix))
            .map(|(_, m)| m.as_str())
    }

    fn one(field: &str, message: impl Into<String>) -> Errors {
        Errors(vec![(field.to_owned(), message.into())])
    }
}

/// How a form shows a write the store refused.
struct Refusal {
    status: StatusCode,
    /// An invalid value, next to its field.
    errors: Errors,
    /// A refusal that is about no one field (a conflict), above the form.
    alert: Option<String>,
}

/// Sorts a store error into what a form shows, or the error page for anything a form cannot
/// show (not found, forbidden, internal).
fn refusal(user: &Viewer, path: &str, error: StoreError) -> Result<Refusal, Box<Response>> {
    let frame = Frame::new(user, path);
    let (s, t) = (frame.menu.s, frame.t());
    match error {
        StoreError::Invalid(invalid) => Ok(Refusal {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors: Errors::one(&invalid.field, s.invalid(t, &invalid)),
            alert: None,
        }),
        StoreError::Conflict(message) => Ok(Refusal {
            status: StatusCode::CONFLICT,
            errors: Errors::default(),
            alert: Some(s.message(t, &message)),
        }),
        other => Err(Box::new(store_error_page(frame.chrome, other))),
    }
}

/// The refusal to show when a page itself finds a value wrong (two passwords that differ).
fn field_refusal(field: &str, message: &str) -> Refusal {
    Refusal {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors: Errors::one(field, message),
        alert: None,
    }
}

/// A form that saved nothing: no errors, `OK`.
fn no_refusal() -> Refusal {
    Refusal {
        status: StatusCode::OK,
        errors: Errors::default(),
        alert: None,
    }
}

/// After a successful write: back to `path` with `?saved=1`, which shows "Saved."
fn saved(path: &str) -> Response {
    Redirect::to(&format!("{path}?saved=1")).into_response()
}

/// The notice for `?saved=1`.
fn saved_notice(s: &'static SettingsTexts, saved: &str) -> Option<&'static str> {
    (!saved.is_empty()).then_some(s.saved)
}

/// The text of a JSON value as a form shows it: empty for null.
fn text_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A string for a JSON body: `null` when the input was left empty.
fn optional(value: &str) -> Value {
    let value = value.trim();
    if value.is_empty() {
        Value::Null
    } else {
        Value::from(value)
    }
}

/// A whole number for a JSON body: `null` when empty, the text itself when it is not a number,
/// so that the store refuses it with its own message next to the field.
fn optional_number(value: &str) -> Value {
    let value = value.trim();
    if value.is_empty() {
        Value::Null
    } else {
        value
            .parse::<i64>()
            .map_or_else(|_| Value::from(value), Value::from)
    }
}

/// An id from a path segment or a select; `None` when it is not one.
fn parse_id(id: &str) -> Option<i64> {
    id.trim().parse().ok()
}

/// `2026-11-02 17:00` in the viewer's time zone, from an RFC 3339 instant.
fn time_in(zone: &str, rfc3339: &str) -> String {
    let zone: Tz = zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| String::new(),
        |t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string(),
    )
}

#[derive(Template)]
#[template(path = "settings.html")]
struct IndexPage {
    chrome: Chrome,
    menu: Menu,
    cards: Vec<(&'static str, &'static str, &'static str)>,
}

/// `GET /settings`: the settings an admin keeps; others have only their own profile, where
/// they are sent.
async fn index(user: Viewer) -> Response {
    if user.actor.require_admin("change settings").is_err() {
        return Redirect::to("/settings/profile").into_response();
    }
    let frame = Frame::new(&user, "/settings");
    let s = frame.menu.s;
    let cards = vec![
        ("/settings/profile", s.profile_title, s.profile_intro),
        ("/settings/users", s.users_title, s.users_intro),
        ("/settings/teams", s.teams_title, s.teams_intro),
        ("/settings/fields", s.fields_title, s.fields_intro),
        ("/settings/stages", s.stages_title, s.stages_intro),
        (
            "/settings/assignment",
            s.assignment_title,
            s.assignment_intro,
        ),
        ("/settings/pools", s.pools_title, s.pools_intro),
        ("/settings/recycle", s.recycle_title, s.recycle_intro),
        ("/settings/sla", s.sla_title, s.sla_intro),
        ("/settings/forms", s.forms_title, s.forms_intro),
        ("/settings/webhooks", s.webhooks_title, s.webhooks_intro),
        ("/settings/tokens", s.tokens_title, s.tokens_intro),
    ];
    render(
        StatusCode::OK,
        &IndexPage {
            chrome: frame.chrome,
            menu: frame.menu,
            cards,
        },
    )
}

/// The store's context for a change made on a settings page.
fn ctx<'a>(state: &'a AppState, user: &'a Viewer) -> Ctx<'a> {
    Ctx {
        db: &state.db,
        actor: &user.actor,
        channel: Channel::Ui,
        now: state.clock.now(),
    }
}

/// The admin pages' gate: the store's own admin check; its 403 page for anyone else.
fn admin_only(user: &Viewer, path: &str) -> Option<Response> {
    user.actor
        .require_admin("change settings")
        .err()
        .map(|e| store_error_page(Chrome::for_user(user, path), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_follow_the_chosen_zone_and_fall_back_to_china() {
        let at = "2026-11-02T09:00:00Z";
        assert_eq!(time_in("Asia/Shanghai", at), "2026-11-02 17:00");
        assert_eq!(time_in("Europe/London", at), "2026-11-02 09:00");
        assert_eq!(time_in("nowhere", at), "2026-11-02 17:00");
        assert_eq!(time_in("Asia/Shanghai", "soon"), "");
    }

    #[test]
    fn numbers_left_empty_are_null_and_words_reach_the_store_as_written() {
        assert_eq!(optional_number(" 12 "), Value::from(12));
        assert_eq!(optional_number(""), Value::Null);
        assert_eq!(optional_number("many"), Value::from("many"));
        assert_eq!(optional("  "), Value::Null);
    }
}
