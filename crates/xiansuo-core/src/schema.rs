//! The shapes of values as the server takes them, for the OpenAPI document: free text as
//! [`crate::Text`] reads it, the addresses outbound requests go to, times in the years the
//! parsers accept, codes of a closed set. They sit beside the parsers whose rules they state,
//! so that a typed request (`#[derive(ToSchema)]`, `#[schema(schema_with = …)]`) and the
//! document's hand-built parts say the same thing.

use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, SchemaFormat, SchemaType, Type};
use utoipa::openapi::ObjectBuilder;

/// A type that stands for a shape of value in a handler's document, where `#[utoipa::path]`
/// names a type (`inline(Option<Name>)` for a parameter, `inline(Name)` for a body): the doc
/// comments, the name and the expression that builds its schema.
///
/// ```ignore
/// xiansuo_core::shape! {
///     /// A status of submissions, as `?status=` takes it.
///     pub SubmissionStatus => schema::codes(SUBMISSION_STATUSES.iter().copied(), false, "A status")
/// }
/// ```
#[macro_export]
macro_rules! shape {
    ($(#[$meta:meta])* $vis:vis $name:ident => $schema:expr) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                ($schema).into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

/// A type, or that type or null.
pub fn typed(t: Type, nullable: bool) -> SchemaType {
    if nullable {
        SchemaType::from_iter([t, Type::Null])
    } else {
        SchemaType::new(t)
    }
}

/// A value of one type, described.
pub fn scalar(t: Type, nullable: bool, doc: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(typed(t, nullable))
        .description(Some(doc))
}

/// Any string.
pub fn string(nullable: bool, doc: &str) -> ObjectBuilder {
    scalar(Type::String, nullable, doc)
}

/// Characters free text may not hold: control characters other than tab and line breaks.
pub const CONTROLS: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";

/// Free text as the server takes it ([`crate::Text`]): no control characters but tab and
/// line breaks, at most `max` characters, and, when `required`, not blank.
pub fn text(nullable: bool, required: bool, max: usize, doc: &str) -> ObjectBuilder {
    let pattern = if required {
        format!(r"^[^{CONTROLS}]*[^\s{CONTROLS}][^{CONTROLS}]*$")
    } else {
        format!("^[^{CONTROLS}]*$")
    };
    string(nullable, doc)
        .max_length(Some(max))
        .min_length(required.then_some(1))
        .pattern(Some(pattern))
}

/// An http:// or https:// URL with a host, at most 2,000 characters, as the server takes the
/// addresses it posts to.
pub fn web_url(doc: &str) -> ObjectBuilder {
    string(false, doc).max_length(Some(2000)).pattern(Some(
        r"^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,4})?(/[!-~]*)?$",
    ))
}

/// The start of a date or time in the years the server takes (1800 to 2999).
pub const YEARS: &str = r"^(1[89]|2[0-9])[0-9]{2}-";

/// An RFC 3339 time in the years the server takes (1800 to 2999).
pub fn date_time(nullable: bool, doc: &str) -> ObjectBuilder {
    scalar(Type::String, nullable, doc)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .pattern(Some(YEARS))
}

/// A calendar date `YYYY-MM-DD` in the years the server takes (1800 to 2999).
pub fn date(nullable: bool, doc: &str) -> ObjectBuilder {
    string(nullable, doc)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(YEARS))
}

crate::shape! {
    /// A date or an RFC 3339 time, as a log's range filter in a query takes it; for the parameters
    /// of handlers that document themselves (`inline(Option<DateOrTime>)`).
    pub DateOrTime => AnyOfBuilder::new()
        .item(date(false, "A date"))
        .item(date_time(false, "A time"))
        .description(Some("YYYY-MM-DD or RFC 3339"))
}

crate::shape! {
    /// A date, an RFC 3339 time, or nothing, as a list's range filter in a query takes it; for
    /// the parameters of handlers that document themselves (`inline(Option<DateOrTimeOrEmpty>)`).
    pub DateOrTimeOrEmpty => AnyOfBuilder::new()
        .item(date(false, "A date"))
        .item(date_time(false, "A time"))
        .item(string(false, "None").max_length(Some(0)))
        .description(Some("Date or time"))
}

crate::shape! {
    /// The bytes of a file as a response sends them, for the handlers that document themselves
    /// (`body = inline(FileContent)`).
    pub FileContent => binary("The file")
}

/// The bytes of a file, described.
pub fn binary(doc: &str) -> ObjectBuilder {
    string(false, doc).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
}

/// A multipart form whose part `file` is the file `doc` describes.
pub fn file_form(doc: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .property("file", binary(doc))
        .required("file")
}

/// The code of an entry of a choice list admins edit (`GET /api/v1/choices`), as an answer holds
/// it: `[a-z0-9_]`, at most 40 characters; the built-in codes `examples` are examples, since
/// admins add their own.
pub fn choice_code<'a>(
    examples: impl IntoIterator<Item = &'a str>,
    nullable: bool,
    doc: &str,
) -> ObjectBuilder {
    string(nullable, doc)
        .pattern(Some("^[a-z0-9_]{1,40}$"))
        .examples(examples)
}

/// An entry of a choice list admins edit, as a request may name it: its code or either label
/// (at most 60 characters), of an entry that is not archived; the built-in codes are examples.
pub fn choice_code_or_label<'a>(
    examples: impl IntoIterator<Item = &'a str>,
    nullable: bool,
    doc: &str,
) -> ObjectBuilder {
    text(nullable, true, 60, doc).examples(examples)
}

/// One of the codes `accepted`.
pub fn codes<'a>(
    accepted: impl IntoIterator<Item = &'a str>,
    nullable: bool,
    doc: &str,
) -> ObjectBuilder {
    let mut values: Vec<serde_json::Value> =
        accepted.into_iter().map(serde_json::Value::from).collect();
    // `enum` is checked on its own, so a nullable code must list null among its values too.
    if nullable {
        values.push(serde_json::Value::Null);
    }
    scalar(Type::String, nullable, doc).enum_values(Some(values))
}
