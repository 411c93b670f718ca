//! What the win-prediction model sees of a lead: its facts (the standard fields, every custom
//! field, title words, tags and what it did before its outcome), and the encoder that turns
//! facts into one row of numbers. The encoder keeps, per field, only the values seen often
//! enough (at most [`TOP_VALUES`] of them), so that a field with a million distinct values
//! costs no more than one with a dozen.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use xiansuo_core::custom_field::{CustomFieldDef, FieldType};

/// The most values one field contributes as columns.
pub const TOP_VALUES: usize = 25;
/// The most distinct values counted per field while the vocabulary is built.
const COUNTED_VALUES: usize = 5_000;

/// The standard fields read as categories.
const CATEGORIES: &[&str] = &[
    "source",
    "campaign",
    "industry",
    "province",
    "city",
    "grade",
    "urgency",
    "demand_stage",
    "utm_source",
    "utm_medium",
    "utm_campaign",
];

/// What a lead did before its outcome (or before now, for an open lead).
#[derive(Debug, Default, Clone, Copy)]
pub struct Behaviour {
    /// Behaviour events (visits, downloads, …).
    pub events: i64,
    /// Follow-ups logged.
    pub activities: i64,
}

/// One fact about a lead, under the name of its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// The field holds this value.
    Is(String),
    /// The field's list (tags, title words, a multi-select) holds this value.
    Has(String),
    /// The field holds this number.
    Number(f64),
}

/// A lead's facts, as (field, fact) pairs. Fields that decide or follow the outcome (status,
/// conversion, scores, owner, timestamps) are never read.
pub fn facts(lead: &Value, defs: &[CustomFieldDef], behaviour: Behaviour) -> Vec<(String, Fact)> {
    let mut out = Vec::new();
    let text = |name: &str| {
        lead[name]
            .as_str()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
    };
    for &name in CATEGORIES {
        if let Some(value) = text(name) {
            out.push((name.to_owned(), Fact::Is(value)));
        }
    }
    for name in ["phone", "email", "company"] {
        if text(name).is_some() {
            out.push((name.to_owned(), Fact::Is("given".to_owned())));
        }
    }
    if let Some(title) = text("title") {
        for word in words(&title) {
            out.push(("title".to_owned(), Fact::Has(word)));
        }
    }
    if let Some(tags) = lead["tags"].as_array() {
        for tag in tags.iter().filter_map(Value::as_str) {
            out.push(("tags".to_owned(), Fact::Has(tag.trim().to_lowercase())));
        }
    }
    if let Some(size) = lead["company_size"].as_f64() {
        out.push(("company_size".to_owned(), Fact::Number(size)));
    }
    out.push(("events".to_owned(), Fact::Number(behaviour.events as f64)));
    out.push((
        "activities".to_owned(),
        Fact::Number(behaviour.activities as f64),
    ));
    let custom = &lead["custom"];
    for def in defs {
        let value = &custom[def.key.as_str()];
        let name = format!("custom.{}", def.key);
        match (def.field_type, value) {
            (_, Value::Null) => {}
            (FieldType::Number, v) => {
                if let Some(n) = v.as_f64() {
                    out.push((name, Fact::Number(n)));
                }
            }
            (FieldType::Boolean, v) => {
                if let Some(b) = v.as_bool() {
                    out.push((name, Fact::Is(if b { "yes" } else { "no" }.to_owned())));
                }
            }
            (FieldType::MultiSelect, Value::Array(items)) => {
                for item in items.iter().filter_map(Value::as_str) {
                    out.push((name.clone(), Fact::Has(item.to_owned())));
                }
            }
            // A date counts by its month, which recurs; the day would not.
            (FieldType::Date, Value::String(s)) => {
                out.push((name, Fact::Is(s.chars().take(7).collect())));
            }
            (_, Value::String(s)) if !s.trim().is_empty() => {
                out.push((name, Fact::Is(s.trim().to_lowercase())));
            }
            _ => {}
        }
    }
    out
}

/// The words of a title: runs of letters and digits; a Chinese title, which has no spaces, is
/// one word (职位 such as 采购经理 recur whole).
fn words(title: &str) -> Vec<String> {
    let mut words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Squashes a number (a company size, a count) so that a few huge ones do not dominate.
fn squash(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

/// How one column reads the facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// 1 when the field holds the value.
    Is,
    /// 1 when the field's list holds the value.
    Has,
    /// The field's number, squashed; 0 when missing.
    Number,
    /// 1 when the field has no number.
    Missing,
}

/// One column of the encoded row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub field: String,
    pub kind: ColumnKind,
    /// The value for [`ColumnKind::Is`] and [`ColumnKind::Has`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Counts of the facts of the training leads, from which the encoder's columns are chosen.
#[derive(Debug, Default)]
pub struct Vocabulary {
    counts: HashMap<(String, ColumnKind, String), usize>,
    distinct: HashMap<String, usize>,
    numbers: Vec<String>,
}

impl Vocabulary {
    pub fn count(&mut self, facts: &[(String, Fact)]) {
        for (field, fact) in facts {
            let (kind, value) = match fact {
                Fact::Is(v) => (ColumnKind::Is, v),
                Fact::Has(v) => (ColumnKind::Has, v),
                Fact::Number(_) => {
                    if !self.numbers.contains(field) {
                        self.numbers.push(field.clone());
                    }
                    continue;
                }
            };
            let key = (field.clone(), kind, value.clone());
            if let Some(n) = self.counts.get_mut(&key) {
                *n += 1;
            } else {
                let distinct = self.distinct.entry(field.clone()).or_default();
                if *distinct < COUNTED_VALUES {
                    *distinct += 1;
                    self.counts.insert(key, 1);
                }
            }
        }
    }

    /// The encoder: each number field, and per field the [`TOP_VALUES`] most frequent values
    /// seen at least `min_support` times.
    pub fn encoder(self, min_support: usize) -> Encoder {
        let mut columns = Vec::new();
        let mut numbers = self.numbers;
        numbers.sort();
        for field in numbers {
            for kind in [ColumnKind::Number, ColumnKind::Missing] {
                columns.push(Column {
                    field: field.clone(),
                    kind,
                    value: None,
                });
            }
        }
        let mut by_field: HashMap<String, Vec<(usize, ColumnKind, String)>> = HashMap::new();
        for ((field, kind, value), n) in self.counts {
            if n >= min_support {
                by_field.entry(field).or_default().push((n, kind, value));
            }
        }
        let mut fields: Vec<_> = by_field.into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        for (field, mut values) in fields {
            values.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
            for (_, kind, value) in values.into_iter().take(TOP_VALUES) {
                columns.push(Column {
                    field: field.clone(),
                    kind,
                    value: Some(value),
                });
            }
        }
        Encoder::new(columns)
    }
}

/// Turns facts into a row of numbers, one per column.
#[derive(Debug, Clone)]
pub struct Encoder {
    columns: Vec<Column>,
    index: HashMap<(String, ColumnKind, String), usize>,
}

impl Encoder {
    pub fn new(columns: Vec<Column>) -> Encoder {
        let index = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    (c.field.clone(), c.kind, c.value.clone().unwrap_or_default()),
                    i,
                )
            })
            .collect();
        Encoder { columns, index }
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The row of a lead's facts.
    pub fn encode(&self, facts: &[(String, Fact)]) -> Vec<f64> {
        let mut row = vec![0.0; self.columns.len()];
        for (i, c) in self.columns.iter().enumerate() {
            if c.kind == ColumnKind::Missing {
                row[i] = 1.0;
            }
        }
        let at = |field: &str, kind: ColumnKind, value: &str| {
            self.index
                .get(&(field.to_owned(), kind, value.to_owned()))
                .copied()
        };
        for (field, fact) in facts {
            match fact {
                Fact::Is(v) => {
                    if let Some(i) = at(field, ColumnKind::Is, v) {
                        row[i] = 1.0;
                    }
                }
                Fact::Has(v) => {
                    if let Some(i) = at(field, ColumnKind::Has, v) {
                        row[i] = 1.0;
                    }
                }
                Fact::Number(n) => {
                    if let Some(i) = at(field, ColumnKind::Number, "") {
                        row[i] = squash(*n);
                    }
                    if let Some(i) = at(field, ColumnKind::Missing, "") {
                        row[i] = 0.0;
                    }
                }
            }
        }
        row
    }
}

/// A lead's values as people read them, per field (a list joined by commas), for reasons.
pub fn shown_values(facts: &[(String, Fact)]) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    for (field, fact) in facts {
        let value = match fact {
            Fact::Is(v) | Fact::Has(v) => v.clone(),
            Fact::Number(n) => format!("{n}"),
        };
        out.entry(field.clone())
            .and_modify(|s| {
                s.push_str(", ");
                s.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_read_fields_custom_fields_and_behaviour_but_not_the_outcome() {
        let defs = [
            CustomFieldDef {
                key: "budget".into(),
                field_type: FieldType::Number,
                options: Vec::new(),
                required: false,
            },
            CustomFieldDef {
                key: "trial".into(),
                field_type: FieldType::Boolean,
                options: Vec::new(),
                required: false,
            },
        ];
        let lead = json!({
            "source": "Referral", "title": "Head of IT", "tags": ["vip"], "status": "converted",
            "score": 80, "custom": {"budget": 5000, "trial": true}
        });
        let facts = facts(
            &lead,
            &defs,
            Behaviour {
                events: 3,
                activities: 1,
            },
        );
        let has = |f: &str, fact: Fact| facts.contains(&(f.to_owned(), fact));
        assert!(has("source", Fact::Is("referral".into())));
        assert!(has("title", Fact::Has("head".into())));
        assert!(has("tags", Fact::Has("vip".into())));
        assert!(has("custom.budget", Fact::Number(5000.0)));
        assert!(has("custom.trial", Fact::Is("yes".into())));
        assert!(has("events", Fact::Number(3.0)));
        assert!(!facts.iter().any(|(f, _)| f == "status" || f == "score"));
    }

    #[test]
    fn the_encoder_keeps_frequent_values_and_marks_missing_numbers() {
        let mut vocabulary = Vocabulary::default();
        let common = vec![
            ("city".to_owned(), Fact::Is("上海".into())),
            ("company_size".to_owned(), Fact::Number(50.0)),
        ];
        for _ in 0..3 {
            vocabulary.count(&common);
        }
        vocabulary.count(&[("city".to_owned(), Fact::Is("拉萨".into()))]);
        let encoder = vocabulary.encoder(2);
        assert_eq!(encoder.columns().len(), 3);
        let row = encoder.encode(&[("city".to_owned(), Fact::Is("上海".into()))]);
        assert_eq!(row, vec![0.0, 1.0, 1.0]);
        let row = encoder.encode(&common);
        assert_eq!(row[0], 50f64.ln_1p());
        assert_eq!(row[1], 0.0);
    }
}
