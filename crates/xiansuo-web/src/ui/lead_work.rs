//! Working a lead on its page: the score with the rules it came from, grade and tier; the
//! owner change (转移负责人) through the assignment use case the API's
//! `POST /api/v1/leads/{id}/assign` calls; the qualification checklist ticked on the page, with
//! "mark qualified" in the same form; and custom fields on the lead forms, the required ones
//! marked, so that a required custom field can always be filled where a lead is created.

use super::lead_form::{text_of, Posted};
use super::page::{Choice, Chrome, Viewer};
use super::sales_texts::{sales_texts, SalesTexts};
use crate::AppState;
use serde_json::{Map, Value};
use xiansuo_app::admin::users;
use xiansuo_app::leads::qualification;
use xiansuo_app::leads::scoring;
use xiansuo_app::records::custom_fields;
use xiansuo_app::StoreError;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::role::Role;
use xiansuo_core::Invalid;

/// A custom field of leads as the forms show it.
#[derive(Clone)]
pub(super) struct CustomDef {
    /// The form field's name: `custom.KEY`.
    pub(super) name: String,
    pub(super) label: String,
    /// `text`, `number`, `date`, `single_select`, `multi_select` or `boolean`.
    pub(super) field_type: String,
    pub(super) options: Vec<String>,
    pub(super) required: bool,
}

/// The custom fields of leads, in the order they were defined.
pub(super) async fn custom_defs(state: &AppState) -> Result<Vec<CustomDef>, StoreError> {
    Ok(custom_fields::list(&state.db)
        .await?
        .items
        .into_iter()
        .filter(|d| d.object == "lead")
        .map(|d| CustomDef {
            name: format!("custom.{}", d.key),
            label: d.label,
            field_type: d.field_type,
            options: d.options,
            required: d.required,
        })
        .collect())
}

impl CustomDef {
    fn key(&self) -> &str {
        &self.name["custom.".len()..]
    }

    /// The `<input>` type or `select` that enters this field.
    pub(super) fn input_kind(&self) -> &'static str {
        match self.field_type.as_str() {
            "date" => "date",
            "single_select" | "boolean" => "select",
            _ => "text",
        }
    }

    /// The choices of a select, led by an empty one.
    pub(super) fn choices(&self, s: &SalesTexts, none: &str, current: &str) -> Vec<Choice> {
        let first = Choice::new("", none, current);
        match self.field_type.as_str() {
            "boolean" => vec![
                first,
                Choice::new("true", s.yes, current),
                Choice::new("false", s.no, current),
            ],
            "single_select" => std::iter::once(first)
                .chain(self.options.iter().map(|o| Choice::new(o, o, current)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A stored value as the form shows it.
    pub(super) fn form_value(&self, custom: &Value) -> String {
        match &custom[self.key()] {
            Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(", "),
            other => text_of(other),
        }
    }

    /// A typed value as the store takes it; text the store refuses by name when it is not one.
    fn parse(&self, typed: &str) -> Value {
        match self.field_type.as_str() {
            "number" => typed
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or_else(|| Value::from(typed), Value::Number),
            "boolean" => match typed {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => Value::from(other),
            },
            "multi_select" => Value::from(
                typed
                    .split([',', '，'])
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>(),
            ),
            _ => Value::from(typed),
        }
    }
}

/// Whether a typed value is the stored one (`50000` is `50000.0`).
fn same(typed: &Value, stored: &Value) -> bool {
    match (typed, stored) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => typed == stored,
    }
}

/// The custom values of a posted lead form, for the store: on a new lead (`before` absent) the
/// fields filled in; on a change only those that differ, an emptied one as null. `None` when
/// there is nothing to send.
pub(super) fn custom_body(
    defs: &[CustomDef],
    posted: &Posted,
    before: Option<&Value>,
) -> Option<Value> {
    let mut custom = Map::new();
    for def in defs {
        let typed = posted.get(&def.name).trim();
        match before {
            None if typed.is_empty() => {}
            None => {
                custom.insert(def.key().to_owned(), def.parse(typed));
            }
            Some(lead) => {
                let value = if typed.is_empty() {
                    Value::Null
                } else {
                    def.parse(typed)
                };
                if !same(&value, &lead["custom"][def.key()]) {
                    custom.insert(def.key().to_owned(), value);
                }
            }
        }
    }
    (!custom.is_empty()).then_some(Value::Object(custom))
}

// ---------------------------------------------------------------------------------------------
// The working panel of the lead page

/// One item of a qualification checklist.
pub(super) struct CheckItem {
    pub(super) key: String,
    pub(super) label: String,
    pub(super) required: bool,
    pub(super) met: bool,
}

/// The lead's checklist, when one applies to it.
pub(super) struct Checklist {
    pub(super) name: String,
    pub(super) items: Vec<CheckItem>,
    pub(super) complete: bool,
    /// Whether "mark qualified" is offered (the lead is not qualified yet).
    pub(super) may_qualify: bool,
}

/// What the lead page shows to work the lead, besides its details and timeline.
pub(super) struct LeadWork {
    pub(super) s: &'static SalesTexts,
    pub(super) score: String,
    pub(super) tier: String,
    /// (rule, points) the score came from.
    pub(super) score_items: Vec<(String, String)>,
    /// (label, value) of the lead's custom fields.
    pub(super) custom: Vec<(String, String)>,
    /// The people the lead may be given to; empty when the user may only keep it.
    pub(super) owners: Vec<Choice>,
    pub(super) checklist: Option<Checklist>,
    /// An error of the last post: (`owner` or `qualification`, message).
    pub(super) error: Option<(&'static str, String)>,
}

impl LeadWork {
    pub(super) fn error_for(&self, form: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| *f == form)
            .map(|(_, m)| m.as_str())
    }
}

/// Loads the working panel of a lead the user can see (`lead` as the record engine shows it).
pub(super) async fn load(
    state: &AppState,
    user: &Viewer,
    lead: &Value,
    error: Option<(&'static str, String)>,
) -> Result<LeadWork, StoreError> {
    let s = sales_texts(&user.actor.locale);
    let id = lead["id"].as_i64().unwrap_or_default();
    let score = scoring::lead_score(&state.db, &user.actor, id).await?;
    let score_items = score
        .items
        .into_iter()
        .map(|i| (i.rule_name, format!("{:+}", i.points)))
        .collect();
    let defs = custom_defs(state).await?;
    let custom = defs
        .iter()
        .filter_map(|d| {
            let value = d.form_value(&lead["custom"]);
            (!value.is_empty()).then(|| {
                let value = match value.as_str() {
                    "true" => s.yes.to_owned(),
                    "false" => s.no.to_owned(),
                    _ => value,
                };
                (d.label.clone(), value)
            })
        })
        .collect();
    let open = lead["status"] != LeadStatus::Converted.code();
    // Others to give the lead to: the store decides who may; a rep sees only themselves.
    let owners = if open && user.actor.role != Role::Rep {
        let current = text_of(&lead["owner_id"]);
        let mut people: Vec<(i64, String)> = users::list(&state.db, &[])
            .await?
            .into_iter()
            .filter(|u| u.active && user.actor.sees_owner(u.id))
            .map(|u| (u.id, u.username))
            .collect();
        people.sort_by(|a, b| a.1.cmp(&b.1));
        people
            .into_iter()
            .map(|(id, name)| Choice::new(id.to_string(), name, &current))
            .collect()
    } else {
        Vec::new()
    };
    let q = qualification::lead(&state.db, &user.actor, id).await?;
    let checklist = q.checklist_id.map(|_| Checklist {
        name: q.checklist_name.unwrap_or_default(),
        items: q
            .items
            .into_iter()
            .map(|i| CheckItem {
                key: i.key,
                label: i.label,
                required: i.required,
                met: i.met,
            })
            .collect(),
        complete: q.complete,
        may_qualify: open && lead["status"] != LeadStatus::Qualified.code(),
    });
    Ok(LeadWork {
        s,
        score: score.score.to_string(),
        tier: score
            .tier
            .map(|tier| s.tier_label(tier.code()))
            .unwrap_or_default(),
        score_items,
        custom,
        owners,
        checklist: checklist.filter(|_| open),
        error,
    })
}

/// The message of a refused qualification, in the user's language.
pub(super) fn qualification_message(s: &SalesTexts, chrome: &Chrome, invalid: &Invalid) -> String {
    if invalid
        .message
        .starts_with("the lead is not qualified: required items")
    {
        return s.tick_checklist_first.to_owned();
    }
    format!(
        "{}: {}",
        chrome.t.field(&invalid.field),
        chrome.t.invalid(invalid)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(key: &str, field_type: &str) -> CustomDef {
        CustomDef {
            name: format!("custom.{key}"),
            label: key.into(),
            field_type: field_type.into(),
            options: Vec::new(),
            required: false,
        }
    }

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn custom_values_are_sent_typed_and_only_when_changed() {
        let defs = [
            def("budget", "number"),
            def("vip", "boolean"),
            def("products", "multi_select"),
            def("note", "text"),
        ];
        let form = posted(&[
            ("custom.budget", "50000"),
            ("custom.vip", "true"),
            ("custom.products", "CRM，ERP"),
            ("custom.note", ""),
        ]);
        assert_eq!(
            custom_body(&defs, &form, None),
            Some(json!({"budget": 50000.0, "vip": true, "products": ["CRM", "ERP"]}))
        );
        let lead = json!({"custom": {"budget": 50000, "vip": true, "products": ["CRM", "ERP"],
                                     "note": "旧"}});
        assert_eq!(
            custom_body(&defs, &form, Some(&lead)),
            Some(json!({"note": null}))
        );
        assert_eq!(custom_body(&defs, &posted(&[]), None), None);
    }
}
