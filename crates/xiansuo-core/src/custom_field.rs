//! Custom fields: admin-defined fields on leads, accounts, contacts and opportunities. A
//! definition fixes the key, the type and (for selects) the options; every write of a record's
//! `custom` object is checked against the definitions of its object.

use crate::Invalid;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The records that can carry custom fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordType {
    Lead,
    Account,
    Contact,
    Opportunity,
}

impl RecordType {
    pub fn code(self) -> &'static str {
        match self {
            RecordType::Lead => "lead",
            RecordType::Account => "account",
            RecordType::Contact => "contact",
            RecordType::Opportunity => "opportunity",
        }
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        match value {
            "lead" => Ok(RecordType::Lead),
            "account" => Ok(RecordType::Account),
            "contact" => Ok(RecordType::Contact),
            "opportunity" => Ok(RecordType::Opportunity),
            _ => Err(Invalid::new(
                "object",
                format!("'{value}' is not one of: lead, account, contact, opportunity"),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Number,
    Date,
    SingleSelect,
    MultiSelect,
    Boolean,
}

impl FieldType {
    pub fn code(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::SingleSelect => "single_select",
            FieldType::MultiSelect => "multi_select",
            FieldType::Boolean => "boolean",
        }
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        match value {
            "text" => Ok(FieldType::Text),
            "number" => Ok(FieldType::Number),
            "date" => Ok(FieldType::Date),
            "single_select" => Ok(FieldType::SingleSelect),
            "multi_select" => Ok(FieldType::MultiSelect),
            "boolean" => Ok(FieldType::Boolean),
            _ => Err(Invalid::new(
                "field_type",
                format!("'{value}' is not one of: text, number, date, single_select, multi_select, boolean"),
            )),
        }
    }
}

/// One custom field of one record type.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomFieldDef {
    pub key: String,
    pub field_type: FieldType,
    pub options: Vec<String>,
    pub required: bool,
}

/// Parses a field key: starts with a letter, then lower-case letters, digits and `_`, at most 40.
pub fn parse_key(value: &str) -> Result<String, Invalid> {
    let ok = !value.is_empty()
        && value.len() <= 40
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(Invalid::new(
            "key",
            format!(
                "'{value}' is not a field key: start with a-z, then a-z, 0-9 or _ (at most 40)"
            ),
        ))
    }
}

impl CustomFieldDef {
    /// Checks one value against the definition and returns it in canonical form
    /// (trimmed text, `YYYY-MM-DD` dates, de-duplicated multi-select lists).
    pub fn check(&self, value: &Value) -> Result<Value, Invalid> {
        let field = format!("custom.{}", self.key);
        let wrong = |expected: &str| Invalid::new(&field, format!("must be {expected}"));
        match (self.field_type, value) {
            (FieldType::Text, Value::String(s)) => Ok(Value::String(
                crate::Text::parse(&field, s, 2000)?.into_string(),
            )),
            (FieldType::Text, _) => Err(wrong("a string")),
            (FieldType::Number, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {
                Ok(value.clone())
            }
            (FieldType::Number, _) => Err(wrong("a number")),
            (FieldType::Boolean, Value::Bool(_)) => Ok(value.clone()),
            (FieldType::Boolean, _) => Err(wrong("true or false")),
            (FieldType::Date, Value::String(s)) => crate::validation::date(&field, s)
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string())),
            (FieldType::Date, _) => Err(wrong("a date as YYYY-MM-DD")),
            (FieldType::SingleSelect, Value::String(s)) if self.options.contains(s) => {
                Ok(value.clone())
            }
            (FieldType::SingleSelect, _) => {
                Err(wrong(&format!("one of: {}", self.options.join(", "))))
            }
            (FieldType::MultiSelect, Value::Array(items)) => {
                let mut chosen: Vec<String> = Vec::new();
                for item in items {
                    match item {
                        Value::String(s) if self.options.contains(s) => {
                            if !chosen.contains(s) {
                                chosen.push(s.clone());
                            }
                        }
                        _ => return Err(wrong(&format!("a list of: {}", self.options.join(", ")))),
                    }
                }
                Ok(Value::Array(
                    chosen.into_iter().map(Value::String).collect(),
                ))
            }
            (FieldType::MultiSelect, _) => {
                Err(wrong(&format!("a list of: {}", self.options.join(", "))))
            }
        }
    }
}

/// Applies `changes` (a JSON object from a request; `null` removes a key) to `current` and checks
/// the result against `defs`: unknown keys and wrong types are refused, required fields must be
/// present. Returns the new object.
pub fn apply(
    defs: &[CustomFieldDef],
    current: &Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<Map<String, Value>, Invalid> {
    let mut out = current.clone();
    for (key, value) in changes {
        let def = defs.iter().find(|d| &d.key == key).ok_or_else(|| {
            Invalid::new(
                format!("custom.{key}"),
                if defs.is_empty() {
                    "is not a custom field (none are defined for this record type)".to_owned()
                } else {
                    format!(
                        "is not a custom field (defined: {})",
                        defs.iter()
                            .map(|d| d.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            )
        })?;
        if value.is_null() {
            out.remove(key);
        } else {
            out.insert(key.clone(), def.check(value)?);
        }
    }
    for def in defs.iter().filter(|d| d.required) {
        if !out.contains_key(&def.key) {
            return Err(Invalid::new(format!("custom.{}", def.key), "is required"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> Vec<CustomFieldDef> {
        vec![
            CustomFieldDef {
                key: "budget".into(),
                field_type: FieldType::Number,
                options: vec![],
                required: false,
            },
            CustomFieldDef {
                key: "visit_on".into(),
                field_type: FieldType::Date,
                options: vec![],
                required: false,
            },
            CustomFieldDef {
                key: "products".into(),
                field_type: FieldType::MultiSelect,
                options: vec!["ERP".into(), "CRM".into()],
                required: false,
            },
            CustomFieldDef {
                key: "vip".into(),
                field_type: FieldType::Boolean,
                options: vec![],
                required: true,
            },
        ]
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn valid_values_are_kept_in_canonical_form() {
        let out = apply(
            &defs(),
            &Map::new(),
            &obj(json!({"budget": 12.5, "visit_on": "2026-12-01", "products": ["CRM", "CRM", "ERP"], "vip": true})),
        )
        .unwrap();
        assert_eq!(out["products"], json!(["CRM", "ERP"]));
        assert_eq!(out["budget"], json!(12.5));
    }

    #[test]
    fn wrong_types_unknown_keys_and_missing_required_fields_are_refused() {
        let base = obj(json!({"vip": false}));
        let err = apply(&defs(), &base, &obj(json!({"budget": "lots"}))).unwrap_err();
        assert_eq!(err.field, "custom.budget");
        let err = apply(&defs(), &base, &obj(json!({"colour": "red"}))).unwrap_err();
        assert!(err.message.contains("budget, visit_on"), "{err}");
        assert!(apply(&defs(), &base, &obj(json!({"visit_on": "2026-13-01"}))).is_err());
        assert!(apply(&defs(), &base, &obj(json!({"products": ["SCM"]}))).is_err());
        assert!(apply(&defs(), &Map::new(), &obj(json!({"budget": 1}))).is_err());
        let out = apply(
            &defs(),
            &obj(json!({"vip": true, "budget": 3})),
            &obj(json!({"budget": null})),
        )
        .unwrap();
        assert!(!out.contains_key("budget"));
    }
}
