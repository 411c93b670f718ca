//! What every settings page shares: the frame with its menu of sections, refused input
//! shown next to its field, the saved notice, reading optional form values, times in the
//! user's zone, and the admin check of a page.

use super::backup_texts::title as backups_title;
use super::export_texts::export_texts;
use super::texts::{settings_texts, SettingsTexts};
use crate::ui::i18n::Texts;
use crate::ui::page::{store_error_page, Chrome, Viewer};
use crate::ui::prediction_texts::title as prediction_title;
use crate::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::DateTime;
use chrono_tz::Tz;
use serde_json::Value;
use xiansuo_app::{Ctx, StoreError};
use xiansuo_core::history::Channel;
use xiansuo_core::Invalid;

/// A link in the settings menu.
pub(super) struct Section {
    pub(super) href: &'static str,
    pub(super) label: &'static str,
    pub(super) current: bool,
}

/// A group of the settings menu (people, data, rules, channels, security): a heading on a
/// desktop, a chip on a phone, where only the current group's sections are listed.
pub(super) struct Group {
    pub(super) label: &'static str,
    pub(super) sections: Vec<Section>,
    /// Whether the page shown is one of its sections.
    pub(super) current: bool,
}

impl Group {
    /// Where the group's chip leads: its first section.
    pub(super) fn href(&self) -> &'static str {
        self.sections.first().map_or("/settings", |s| s.href)
    }
}

/// The settings menu for the viewer, in groups: every section for an admin, their own ones for
/// others.
pub(super) fn groups(user: &Viewer, s: &SettingsTexts, current: &str) -> Vec<Group> {
    type Links<'a> = &'a [(&'static str, &'static str)];
    let own: [(&str, Links); 1] = [(
        s.more.group_own,
        &[
            ("/settings/profile", s.profile_title),
            ("/settings/tokens", s.tokens_title),
        ],
    )];
    let admin: [(&str, Links); 5] = [
        (
            s.more.group_people,
            &[
                ("/settings/users", s.users_title),
                ("/settings/teams", s.teams_title),
            ],
        ),
        (
            s.more.group_data,
            &[
                ("/settings/fields", s.fields_title),
                ("/settings/stages", s.stages_title),
                ("/settings/choices", s.choices_title),
                ("/settings/checklists", s.ops.checklists_title),
                ("/settings/dedup", s.ops.dedup_title),
                ("/settings/targets", s.ops.targets_title),
                ("/settings/export", export_title(&user.actor.locale)),
            ],
        ),
        (
            s.more.group_rules,
            &[
                ("/settings/scoring", s.scoring_title),
                ("/settings/prediction", prediction_title(&user.actor.locale)),
                ("/settings/assignment", s.assignment_title),
                ("/settings/pools", s.pools_title),
                ("/settings/recycle", s.recycle_title),
                ("/settings/sla", s.sla_title),
                ("/settings/working-hours", s.ops.working_hours_title),
            ],
        ),
        (
            s.more.group_channels,
            &[
                ("/settings/forms", s.forms_title),
                ("/settings/webhooks", s.webhooks_title),
                ("/settings/robots", s.robots_title),
                ("/settings/mail", s.ops.mail_title),
            ],
        ),
        (
            s.more.group_security,
            &[
                ("/settings/audit", s.audit_title),
                ("/settings/backups", backups_title(&user.actor.locale)),
            ],
        ),
    ];
    let admin = if user.actor.is_admin() {
        &admin[..]
    } else {
        &[]
    };
    own.iter()
        .chain(admin)
        .map(|(label, links)| {
            let sections: Vec<Section> = links
                .iter()
                .map(|(href, label)| Section {
                    href,
                    label,
                    current: *href == current,
                })
                .collect();
            Group {
                label,
                current: sections.iter().any(|s| s.current),
                sections,
            }
        })
        .collect()
}

/// The full export's name in the settings menu.
fn export_title(locale: &str) -> &'static str {
    export_texts(locale).title
}

/// What every settings page carries besides its own content: the frame of every page, and
/// the settings menu with the texts and the CSRF token its forms use.
pub(super) struct Frame {
    pub(super) chrome: Chrome,
    pub(super) menu: Menu,
}

/// The settings part of a page's frame.
pub(super) struct Menu {
    pub(super) s: &'static SettingsTexts,
    pub(super) csrf: String,
    pub(super) groups: Vec<Group>,
}

impl Frame {
    pub(super) fn new(user: &Viewer, path: &str) -> Frame {
        let s = settings_texts(&user.actor.locale);
        Frame {
            chrome: Chrome::for_user(user, path),
            menu: Menu {
                s,
                csrf: user.csrf.clone(),
                groups: groups(user, s, path),
            },
        }
    }

    pub(super) fn t(&self) -> &'static Texts {
        self.chrome.t
    }
}

/// Messages to show next to the fields of a form, by field name.
#[derive(Default)]
pub(super) struct Errors(Vec<(String, String)>);

impl Errors {
    /// The message for a field, if it has one.
    pub(super) fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The message for the first field under `prefix` (`target` covers `target.user_id`).
    pub(super) fn starting(&self, prefix: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f.starts_with(prefix))
            .map(|(_, m)| m.as_str())
    }

    pub(super) fn one(field: &str, message: impl Into<String>) -> Errors {
        Errors(vec![(field.to_owned(), message.into())])
    }
}

/// How a form shows a write the store refused.
pub(super) struct Refusal {
    pub(super) status: StatusCode,
    /// An invalid value, next to its field.
    pub(super) errors: Errors,
    /// A refusal that is about no one field (a conflict), above the form.
    pub(super) alert: Option<String>,
}

/// Sorts a store error into what a form shows, or the error page for anything a form cannot
/// show (not found, forbidden, internal).
pub(super) fn refusal(
    user: &Viewer,
    path: &str,
    error: StoreError,
) -> Result<Refusal, Box<Response>> {
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
pub(super) fn field_refusal(field: &str, message: &str) -> Refusal {
    Refusal {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors: Errors::one(field, message),
        alert: None,
    }
}

/// A form that saved nothing: no errors, `OK`.
pub(super) fn no_refusal() -> Refusal {
    Refusal {
        status: StatusCode::OK,
        errors: Errors::default(),
        alert: None,
    }
}

/// After a successful write: back to `path` with `?saved=1`, which shows "Saved."
pub(super) fn saved(path: &str) -> Response {
    Redirect::to(&format!("{path}?saved=1")).into_response()
}

/// The notice for `?saved=1`.
pub(super) fn saved_notice(s: &'static SettingsTexts, saved: &str) -> Option<&'static str> {
    (!saved.is_empty()).then_some(s.saved)
}

/// The text of a JSON value as a form shows it: empty for null.
pub(super) fn text_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A text field of a form: trimmed, `None` when empty.
pub(super) fn optional_text(value: &str) -> Option<String> {
    Some(value.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A whole number for a JSON body: `null` when empty, the text itself when it is not a number,
/// so that the store refuses it with its own message next to the field.
pub(super) fn optional_number(value: &str) -> Value {
    let value = value.trim();
    if value.is_empty() {
        Value::Null
    } else {
        value
            .parse::<i64>()
            .map_or_else(|_| Value::from(value), Value::from)
    }
}

/// A whole number typed into `field`: `None` when left empty; text that is not a number is
/// refused as the store refuses a number outside `range`.
pub(super) fn whole_number(
    field: &str,
    value: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        Invalid::new(
            field,
            format!(
                "must be a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )
    })
}

/// An id from a path segment or a select; `None` when it is not one.
pub(super) fn parse_id(id: &str) -> Option<i64> {
    id.trim().parse().ok()
}

/// `2026-11-02 17:00` in the viewer's time zone, from an RFC 3339 instant.
pub(super) fn time_in(zone: &str, rfc3339: &str) -> String {
    let zone: Tz = zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| String::new(),
        |t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string(),
    )
}

/// The store's context for a change made on a settings page.
pub(super) fn ctx<'a>(state: &'a AppState, user: &'a Viewer) -> Ctx<'a> {
    Ctx {
        hooks: xiansuo_app::hooks::ALL,
        db: &state.db,
        actor: &user.actor,
        channel: Channel::Ui,
        now: state.clock.now(),
    }
}

/// The admin pages' gate: the store's own admin check; its 403 page for anyone else.
/// The error page for a settings record that does not exist.
pub(super) fn not_found(user: &Viewer, what: &'static str) -> Response {
    store_error_page(
        Chrome::for_user(user, "/settings"),
        StoreError::NotFound(what),
    )
}

pub(super) fn admin_only(user: &Viewer, path: &str) -> Option<Response> {
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
    }
}
