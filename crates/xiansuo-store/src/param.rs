//! The values bound to a statement's placeholders.

/// A value bound to a placeholder. A null carries the type of the column it goes to, because
/// PostgreSQL fixes a prepared statement's parameter types at its first use: a statement first
/// run with an integer null and later with a text value would be refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    NullInt,
    NullText,
    Int(i64),
    Real(f64),
    Text(String),
    /// Bytes, stored as BLOB on SQLite and bytea on PostgreSQL (files and their pieces).
    Bytes(Vec<u8>),
}

/// The null of a parameter's type, for `Option<T>` conversions.
pub trait Nullable {
    const NULL: Param;
}
impl Nullable for i64 {
    const NULL: Param = Param::NullInt;
}
impl Nullable for f64 {
    const NULL: Param = Param::NullInt;
}
impl Nullable for &str {
    const NULL: Param = Param::NullText;
}
impl Nullable for String {
    const NULL: Param = Param::NullText;
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(v.to_owned())
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}
impl From<f64> for Param {
    fn from(v: f64) -> Self {
        Param::Real(v)
    }
}
impl From<&[u8]> for Param {
    fn from(v: &[u8]) -> Self {
        Param::Bytes(v.to_vec())
    }
}
impl<T: Into<Param> + Nullable> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Self {
        v.map_or(T::NULL, Into::into)
    }
}
