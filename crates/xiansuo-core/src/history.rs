//! Audit history: every change of every field of a record, with who made it, when, and through
//! which channel. A record is compared as a flat map of field name → value; custom fields appear
//! as `custom.KEY`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// How a change reached Xiansuo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Ui,
    Api,
    Import,
    Rule,
    Job,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Ui => "ui",
            Channel::Api => "api",
            Channel::Import => "import",
            Channel::Rule => "rule",
            Channel::Job => "job",
        }
    }
}

/// A field whose value changed. Values are JSON, so a number stays a number and a list a list.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// The fields of a record, flattened for comparison.
pub type Snapshot = BTreeMap<String, Value>;

/// Flattens a record's JSON (an object) into a snapshot, with `custom` spread out as
/// `custom.KEY`. Bookkeeping fields that change on every write are left out.
pub fn snapshot(record: &Value) -> Snapshot {
    let mut out = Snapshot::new();
    if let Value::Object(map) = record {
        for (k, v) in map {
            if matches!(
                k.as_str(),
                "id" | "created_at" | "updated_at" | "created_by"
            ) {
                continue;
            }
            if k == "custom" {
                if let Value::Object(custom) = v {
                    for (ck, cv) in custom {
                        out.insert(format!("custom.{ck}"), cv.clone());
                    }
                }
                continue;
            }
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// The fields that differ between `before` and `after`, in field-name order. A field missing on
/// one side counts as `null`; a field that is `null` on both sides is no change.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<FieldChange> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let old = before.get(k).cloned().unwrap_or(Value::Null);
            let new = after.get(k).cloned().unwrap_or(Value::Null);
            (old != new).then(|| FieldChange {
                field: k.clone(),
                old,
                new,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_lists_changed_added_and_removed_fields_including_custom_ones() {
        let before = snapshot(
            &json!({"id": 1, "name": "张三", "title": null, "custom": {"budget": 10, "vip": true}, "updated_at": "x"}),
        );
        let after = snapshot(
            &json!({"id": 1, "name": "张三", "title": "经理", "custom": {"budget": 20}, "updated_at": "y"}),
        );
        let changes = diff(&before, &after);
        let fields: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["custom.budget", "custom.vip", "title"]);
        assert_eq!(changes[0].old, json!(10));
        assert_eq!(changes[0].new, json!(20));
        assert_eq!(changes[1].new, Value::Null);
    }

    #[test]
    fn no_change_means_no_entries() {
        let s = snapshot(&json!({"name": "李四", "email": null}));
        assert!(diff(&s, &s).is_empty());
        assert!(diff(&s, &snapshot(&json!({"name": "李四"}))).is_empty());
    }
}
