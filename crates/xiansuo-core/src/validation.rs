//! The error every parser in the domain returns, the bounded text type used for free-form
//! fields, and the parsers of dates and instants that every field with a date uses.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// A request body not yet read into its type `T` (a struct with
/// `#[serde(deny_unknown_fields)]`): the JSON of an API request, or a `T` already built (by a
/// web form). A use case reads it after it has checked that the caller may call it, so that a
/// caller who may not is refused as such, whatever the body says.
#[derive(Debug, Clone)]
pub struct Unread<T>(Body<T>);

#[derive(Debug, Clone)]
enum Body<T> {
    Json(serde_json::Value),
    Built(T),
}

impl<T> From<T> for Unread<T> {
    fn from(built: T) -> Self {
        Unread(Body::Built(built))
    }
}

impl<T: DeserializeOwned> Unread<T> {
    /// The JSON of a request.
    pub fn json(body: serde_json::Value) -> Self {
        Unread(Body::Json(body))
    }

    /// The body as a `T`, or what does not fit, naming the field: an unknown one, a missing
    /// one, or the one whose value has the wrong type.
    pub fn read(self) -> Result<T, Invalid> {
        match self.0 {
            Body::Built(built) => Ok(built),
            Body::Json(body) if !body.is_object() => {
                Err(Invalid::new("body", "must be a JSON object"))
            }
            Body::Json(body) => serde_path_to_error::deserialize(body).map_err(|e| misfit(&e)),
        }
    }
}

/// The field a body that does not fit its type is wrong in, and why.
fn misfit(e: &serde_path_to_error::Error<serde_json::Error>) -> Invalid {
    let message = e.inner().to_string();
    let path = e.path().to_string();
    let within = |field: &str| {
        if path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    // "unknown field `colour`, expected one of `name`, `kind`, …"
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, accepted) = rest.split_once('`').unwrap_or((rest, ""));
        let accepted = accepted
            .trim_start_matches(", expected one of ")
            .trim_start_matches(", expected ")
            .replace('`', "");
        // Within a nested object, the field is named with its parents.
        let field = if path == field || path.ends_with(&format!(".{field}")) {
            path.clone()
        } else {
            within(field)
        };
        return Invalid::new(
            field,
            format!("is not a field of this request (accepted: {accepted})"),
        );
    }
    // "missing field `url`"
    if let Some(rest) = message.strip_prefix("missing field `") {
        return Invalid::new(
            within(rest.split('`').next().unwrap_or(rest)),
            "is required",
        );
    }
    let field = if path == "." { "body".to_owned() } else { path };
    // serde's own words, without the position in the JSON text.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_owned();
    Invalid::new(field, message)
}

/// For a field of a change that may be set to null: the value sent, `null` included
/// (`Some(None)`), as opposed to a field left out (`None`, with `#[serde(default)]`).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A value that a person sent and that cannot be accepted, with the field it belongs to and a
/// sentence saying what would be accepted instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Free text with surrounding white space trimmed and a maximum length in characters.
/// HTML and emoji are kept exactly as sent; escaping is the job of whoever renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    /// Parses `value` for `field`: trimmed, not empty, at most `max` characters, no control
    /// characters other than line breaks and tabs.
    pub fn parse(field: &str, value: &str, max: usize) -> Result<Self, Invalid> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(Invalid::new(field, "must not be empty"));
        }
        if trimmed.chars().count() > max {
            return Err(Invalid::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Invalid::new(field, "must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// Like [`Text::parse`], but an empty or blank value means "no value".
    pub fn parse_optional(field: &str, value: &str, max: usize) -> Result<Option<Self>, Invalid> {
        if value.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(field, value, max).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A value folded for matching: trimmed, full-width letters, digits and signs as their ASCII
/// forms, the ideographic space as a space, runs of spaces as one, lower case.
pub fn fold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut space = false;
    for c in value.trim().chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        };
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
            continue;
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Hook {
        url: String,
        #[serde(default, deserialize_with = "present")]
        note: Option<Option<String>>,
        events: Option<Vec<String>>,
        #[serde(default)]
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        size: Option<i64>,
    }

    #[test]
    fn an_unread_body_names_the_field_it_cannot_take() {
        let field = |body| Unread::<Hook>::json(body).read().unwrap_err().field;
        assert_eq!(field(json!({"events": []})), "url");
        assert_eq!(field(json!({"url": "u", "colour": "red"})), "colour");
        assert_eq!(field(json!({"url": 7})), "url");
        assert_eq!(field(json!({"url": "u", "events": ["a", 1]})), "events[1]");
        assert_eq!(field(json!(["url"])), "body");
        assert_eq!(
            field(json!({"url": "u", "inner": {"colour": "red"}})),
            "inner.colour"
        );
        assert_eq!(field(json!(null)), "body");
    }

    #[test]
    fn null_is_told_from_a_field_left_out() {
        let read = |body| Unread::<Hook>::json(body).read().unwrap();
        assert_eq!(read(json!({"url": "u"})).note, None);
        assert_eq!(read(json!({"url": "u", "note": null})).note, Some(None));
        let built = Hook {
            url: "u".into(),
            note: None,
            events: None,
            inner: None,
        };
        assert_eq!(Unread::from(built).read().unwrap().url, "u");
    }

    #[test]
    fn text_keeps_html_and_emoji_but_trims() {
        let t = Text::parse("name", "  <b>张三</b> 🚀 ", 50).unwrap();
        assert_eq!(t.as_str(), "<b>张三</b> 🚀");
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        assert!(Text::parse("name", &"张".repeat(10), 10).is_ok());
        assert!(Text::parse("name", &"张".repeat(11), 10).is_err());
    }

    #[test]
    fn text_rejects_blank_and_control_characters() {
        assert!(Text::parse("name", "   ", 10).is_err());
        assert!(Text::parse("name", "a\u{0}b", 10).is_err());
        assert_eq!(Text::parse_optional("title", " ", 10).unwrap(), None);
    }
}

/// The years a date or an instant may fall in. A CRM's dates are founding years, birthdays,
/// follow-ups and deadlines; year 0 or 30000 is a typing mistake, not a date.
pub const YEARS: std::ops::RangeInclusive<i32> = 1800..=2999;

fn out_of_range(field: &str, value: &str) -> Invalid {
    Invalid::new(
        field,
        format!(
            "'{value}' is outside the years {} to {}",
            YEARS.start(),
            YEARS.end()
        ),
    )
}

/// Parses a calendar date written `YYYY-MM-DD`, within [`YEARS`].
pub fn date(field: &str, value: &str) -> Result<NaiveDate, Invalid> {
    let value = value.trim();
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| Invalid::new(field, format!("'{value}' is not a date as YYYY-MM-DD")))?;
    if !YEARS.contains(&date.year()) {
        return Err(out_of_range(field, value));
    }
    Ok(date)
}

/// Parses an RFC 3339 instant such as `2026-12-01T09:00:00+08:00`, within [`YEARS`].
pub fn instant(field: &str, value: &str) -> Result<DateTime<FixedOffset>, Invalid> {
    let value = value.trim();
    let at = DateTime::parse_from_rfc3339(value).map_err(|_| {
        Invalid::new(
            field,
            format!("'{value}' is not an RFC 3339 time such as 2026-12-01T09:00:00+08:00"),
        )
    })?;
    if !YEARS.contains(&at.year()) {
        return Err(out_of_range(field, value));
    }
    Ok(at)
}

#[cfg(test)]
mod date_tests {
    use super::{date, instant};

    #[test]
    fn dates_and_instants_outside_sane_years_are_refused_with_the_field() {
        assert_eq!(date("d", " 2026-12-07 ").unwrap().to_string(), "2026-12-07");
        assert_eq!(date("d", "0000-01-01").unwrap_err().field, "d");
        assert!(date("d", "0000-01-01")
            .unwrap_err()
            .message
            .contains("1800 to 2999"));
        assert!(date("d", "2026-02-30").is_err());
        assert!(instant("at", "2026-12-01T09:00:00+08:00").is_ok());
        assert!(instant("at", "0000-12-01T09:00:00Z").is_err());
        assert!(instant("at", "9999-12-01T09:00:00Z").is_err());
        assert!(instant("at", "tomorrow")
            .unwrap_err()
            .message
            .contains("RFC 3339"));
    }
}
