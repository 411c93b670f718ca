//! The error every parser in the domain returns, and the bounded text type used for free-form
//! fields.

use serde::Serialize;

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

#[cfg(test)]
mod tests {
    use super::*;

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
