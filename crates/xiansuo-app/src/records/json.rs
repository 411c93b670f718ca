//! A record as the API shows it: stored instants as RFC 3339, money in yuan from cents, tags
//! and custom fields as JSON, every field of the table's spec present, and beside each phone
//! whether it was read as a number (`phone_verified`).

use crate::records::schema::{Kind, Table};
use chrono::SecondsFormat;
use serde_json::{json, Map, Value};
use xiansuo_core::clock::from_millis;
use xiansuo_core::Invalid;
use xiansuo_store::{Cell, Row};

/// Formats a stored instant for the API.
pub fn rfc3339(ms: i64) -> String {
    from_millis(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An amount of money in yuan as cents: from 0 to 10¹³ yuan, at most two decimals.
pub(crate) fn cents(name: &str, amount: f64) -> Result<i64, Invalid> {
    let cents = (amount * 100.0).round();
    if !amount.is_finite() || amount < 0.0 || cents > 1e15 {
        return Err(Invalid::new(
            name,
            "must be a number from 0 to 10,000,000,000,000",
        ));
    }
    if (amount * 100.0 - cents).abs() > 1e-6 {
        return Err(Invalid::new(name, "must have at most two decimals"));
    }
    Ok(cents as i64)
}

/// Cents as the API shows money: yuan.
pub(crate) fn money(cents: i64) -> Value {
    json!(cents as f64 / 100.0)
}

/// A record as the API shows it.
pub fn to_json(table: &Table, row: &Row) -> Value {
    let mut out = Map::new();
    for field in table.fields {
        let value = match field.kind {
            Kind::Id
            | Kind::Int { .. }
            | Kind::Owner
            | Kind::UserRef
            | Kind::Ref(_)
            | Kind::Link(_)
            | Kind::PoolRef => row.opt_int(field.name).map_or(Value::Null, Value::from),
            Kind::Text(_)
            | Kind::Phone
            | Kind::Email
            | Kind::Derived
            | Kind::Code(_)
            | Kind::Date => row.opt_text(field.name).map_or(Value::Null, Value::from),
            Kind::Probability => match row.get(field.name) {
                Cell::Real(p) if *p >= 0.0 => json!(*p),
                Cell::Int(p) if *p >= 0 => json!(*p as f64),
                _ => Value::Null,
            },
            Kind::Tags => parse_json_text(row.opt_text(field.name), json!([])),
            Kind::Custom => parse_json_text(row.opt_text(field.name), json!({})),
            Kind::Money => row.opt_int(&field.column()).map_or(Value::Null, money),
            Kind::Timestamp => row
                .opt_int(field.name)
                .map_or(Value::Null, |ms| Value::from(rfc3339(ms))),
        };
        if field.kind == Kind::Phone {
            out.insert(
                verified_name(field.name),
                phone_verified(&value, row, field.name),
            );
        }
        out.insert(field.name.to_owned(), value);
    }
    Value::Object(out)
}

/// The name of the field that says whether a phone field was read as a number:
/// `phone_verified`.
pub fn verified_name(phone_field: &str) -> String {
    format!("{phone_field}_verified")
}

/// Whether a stored phone was read as a number (it has an E.164 form); null without a phone.
/// Only an import stores a phone it could not read.
fn phone_verified(phone: &Value, row: &Row, name: &str) -> Value {
    if phone.is_null() {
        return Value::Null;
    }
    json!(row.opt_text(&format!("{name}_normalized")).is_some())
}

fn parse_json_text(text: Option<String>, default: Value) -> Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(default)
}
