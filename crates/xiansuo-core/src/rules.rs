//! The condition language that scoring and assignment rules share: `{field, operator, value}`
//! over a lead's fields, its custom fields (`custom.KEY`) and its region (derived from the
//! province). A condition is checked against the fields leads really have when a rule is saved,
//! so a stored rule never names a field, an operator or a value that cannot apply; evaluating
//! it is then a pure function of the lead as the API shows it.

use crate::lead::Region;
use crate::{Invalid, Text};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cmp::Ordering;
use utoipa::ToSchema;

/// How a condition compares the lead's value with its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Ne,
    In,
    Contains,
    Gt,
    Gte,
    Lt,
    Lte,
    Exists,
}

impl Operator {
    pub const ALL: &'static [Operator] = &[
        Operator::Eq,
        Operator::Ne,
        Operator::In,
        Operator::Contains,
        Operator::Gt,
        Operator::Gte,
        Operator::Lt,
        Operator::Lte,
        Operator::Exists,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Ne => "ne",
            Operator::In => "in",
            Operator::Contains => "contains",
            Operator::Gt => "gt",
            Operator::Gte => "gte",
            Operator::Lt => "lt",
            Operator::Lte => "lte",
            Operator::Exists => "exists",
        }
    }

    fn parse(field: &str, value: &str) -> Result<Self, Invalid> {
        Operator::ALL
            .iter()
            .copied()
            .find(|o| o.code() == value)
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!(
                        "'{value}' is not an operator (accepted: {})",
                        codes(Operator::ALL)
                    ),
                )
            })
    }
}

fn codes(operators: &[Operator]) -> String {
    operators
        .iter()
        .map(|o| o.code())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What kind of value a field holds; it decides which operators and values apply.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    Text,
    /// One of these codes; any code when the list is empty (sources are an open set).
    Code(Vec<String>),
    Number,
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A list of strings: tags, multi-select custom fields.
    List,
}

impl ValueKind {
    fn operators(&self) -> &'static [Operator] {
        use Operator::*;
        match self {
            ValueKind::Text => &[Eq, Ne, In, Contains, Exists],
            ValueKind::Code(_) => &[Eq, Ne, In, Exists],
            ValueKind::Number | ValueKind::Date => &[Eq, Ne, In, Gt, Gte, Lt, Lte, Exists],
            ValueKind::Boolean => &[Eq, Ne, Exists],
            ValueKind::List => &[Eq, Ne, In, Contains, Exists],
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            ValueKind::Text => "a text field",
            ValueKind::Code(_) => "a code field",
            ValueKind::Number => "a number field",
            ValueKind::Boolean => "a yes/no field",
            ValueKind::Date => "a date field",
            ValueKind::List => "a list field",
        }
    }
}

/// A field a condition may name, with the kind of value it holds.
pub type KnownField = (String, ValueKind);

/// One test of a lead's field: all of a rule's conditions must hold. Its value is open JSON,
/// of the kind of the field it names ([`check_conditions`] checks it against that field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A test of one lead field: all of a rule's conditions must hold")]
pub struct Condition {
    #[schema(schema_with = field_schema)]
    pub field: String,
    #[schema(schema_with = operator_schema)]
    pub operator: Operator,
    #[serde(default)]
    #[schema(schema_with = value_schema)]
    pub value: Value,
}

fn value_schema() -> utoipa::openapi::ObjectBuilder {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
        .description(Some(
            "What to compare with, of the field's type. Text compares ignoring case; provinces \
             and cities without 省/市 (广东 matches 广东省)",
        ))
}

fn field_schema() -> utoipa::openapi::ObjectBuilder {
    crate::schema::string(
        false,
        "A lead field (title, company_size, industry, province, city, source, status, grade, \
         urgency, demand_stage, tags, …), `region` (north, northeast, east, central, south, \
         southwest, northwest, hk_mo_tw; from the province) or `custom.KEY`. Assignment rules \
         may also test `score` and `tier`",
    )
}

fn operator_schema() -> utoipa::openapi::ObjectBuilder {
    crate::schema::codes(
        Operator::ALL.iter().map(|o| o.code()),
        false,
        "eq, ne, in (value is a list), contains (text or list), gt/gte/lt/lte (numbers and \
         dates), exists (value true or false)",
    )
}

/// The conditions of a request checked against the fields they may name (`fields`), each
/// value in canonical form. `at` names the list in error messages, such as `conditions`.
pub fn check_conditions(
    conditions: Vec<Condition>,
    at: &str,
    fields: &[KnownField],
) -> Result<Vec<Condition>, Invalid> {
    if conditions.len() > 50 {
        return Err(Invalid::new(at, "at most 50 conditions"));
    }
    conditions
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            checked(
                &c.field,
                c.operator,
                &c.value,
                &format!("{at}[{i}]"),
                fields,
            )
        })
        .collect()
}

/// The most values an `in` condition may list.
const MAX_IN: usize = 1000;

/// Parses a list of conditions (all must hold). `at` names the list in error messages, such
/// as `conditions`; `fields` are the fields a condition may name.
pub fn parse_conditions(
    value: &Value,
    at: &str,
    fields: &[KnownField],
) -> Result<Vec<Condition>, Invalid> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => {
            return Err(Invalid::new(
                at,
                "must be a list of {\"field\", \"operator\", \"value\"} objects",
            ))
        }
    };
    if items.len() > 50 {
        return Err(Invalid::new(at, "at most 50 conditions"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_condition(item, &format!("{at}[{i}]"), fields))
        .collect()
}

fn parse_condition(item: &Value, at: &str, fields: &[KnownField]) -> Result<Condition, Invalid> {
    let object = item.as_object().ok_or_else(|| {
        Invalid::new(at, "must be an object {\"field\", \"operator\", \"value\"}")
    })?;
    if let Some(extra) = object
        .keys()
        .find(|k| !["field", "operator", "value"].contains(&k.as_str()))
    {
        return Err(Invalid::new(
            format!("{at}.{extra}"),
            "is not part of a condition (accepted: field, operator, value)",
        ));
    }
    let text = |name: &str| {
        object
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| Invalid::new(format!("{at}.{name}"), "is required and must be a string"))
    };
    let field = text("field")?;
    let operator = Operator::parse(&format!("{at}.operator"), text("operator")?)?;
    checked(
        field,
        operator,
        object.get("value").unwrap_or(&Value::Null),
        at,
        fields,
    )
}

/// A condition on `field` checked against the fields it may name, its value in canonical form.
fn checked(
    field: &str,
    operator: Operator,
    raw: &Value,
    at: &str,
    fields: &[KnownField],
) -> Result<Condition, Invalid> {
    let kind = fields
        .iter()
        .find(|(name, _)| name == field)
        .map(|(_, kind)| kind)
        .ok_or_else(|| {
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            let what = if field.starts_with("custom.") {
                "is not a custom field of leads"
            } else {
                "is not a field of leads"
            };
            Invalid::new(
                format!("{at}.field"),
                format!("'{field}' {what} (accepted: {})", names.join(", ")),
            )
        })?;
    let operator_at = format!("{at}.operator");
    if !kind.operators().contains(&operator) {
        return Err(Invalid::new(
            operator_at,
            format!(
                "'{}' does not apply to {field}, {} (accepted: {})",
                operator.code(),
                kind.describe(),
                codes(kind.operators())
            ),
        ));
    }
    let value_at = format!("{at}.value");
    let value = match operator {
        Operator::Exists => match raw {
            Value::Null => Value::Bool(true),
            Value::Bool(b) => Value::Bool(*b),
            _ => return Err(Invalid::new(value_at, "must be true or false for 'exists'")),
        },
        Operator::In => {
            let list = raw
                .as_array()
                .filter(|l| !l.is_empty() && l.len() <= MAX_IN)
                .ok_or_else(|| {
                    Invalid::new(
                        &value_at,
                        format!("must be a list of 1 to {MAX_IN} values for 'in'"),
                    )
                })?;
            Value::Array(
                list.iter()
                    .map(|v| scalar(v, kind, &value_at))
                    .collect::<Result<_, _>>()?,
            )
        }
        _ => scalar(raw, kind, &value_at)?,
    };
    Ok(Condition {
        field: field.to_owned(),
        operator,
        value,
    })
}

/// Checks one value against the kind of its field and returns it in canonical form.
fn scalar(value: &Value, kind: &ValueKind, at: &str) -> Result<Value, Invalid> {
    let wrong = |expected: &str| Invalid::new(at, format!("must be {expected}"));
    match (kind, value) {
        (ValueKind::Text | ValueKind::List, Value::String(s)) => {
            Ok(Value::from(Text::parse(at, s, 500)?.into_string()))
        }
        (ValueKind::Text | ValueKind::List, _) => Err(wrong("a string")),
        (ValueKind::Code(accepted), Value::String(s)) => {
            let code = s.trim();
            if accepted.is_empty() || accepted.iter().any(|a| a == code) {
                Ok(Value::from(code))
            } else {
                Err(Invalid::new(
                    at,
                    format!("'{code}' is not one of: {}", accepted.join(", ")),
                ))
            }
        }
        (ValueKind::Code(_), _) => Err(wrong("a code (a string)")),
        (ValueKind::Number, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {
            Ok(value.clone())
        }
        (ValueKind::Number, _) => Err(wrong("a number")),
        (ValueKind::Boolean, Value::Bool(_)) => Ok(value.clone()),
        (ValueKind::Boolean, _) => Err(wrong("true or false")),
        (ValueKind::Date, Value::String(s)) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(|d| Value::from(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| wrong("a date as YYYY-MM-DD")),
        (ValueKind::Date, _) => Err(wrong("a date as YYYY-MM-DD")),
    }
}

/// True when every condition holds for the lead (and so when there are none).
pub fn all_match(conditions: &[Condition], lead: &Value) -> bool {
    conditions.iter().all(|c| c.matches(lead))
}

impl Condition {
    /// Whether the condition holds for a lead as the API shows it. A missing value satisfies
    /// only `ne` and `exists: false`.
    pub fn matches(&self, lead: &Value) -> bool {
        let actual = lookup(lead, &self.field);
        let field = self.field.as_str();
        match self.operator {
            Operator::Exists => present(&actual) == self.value.as_bool().unwrap_or(true),
            Operator::Eq => equals(&actual, &self.value, field),
            Operator::Ne => !equals(&actual, &self.value, field),
            Operator::In => self
                .value
                .as_array()
                .is_some_and(|list| list.iter().any(|v| equals(&actual, v, field))),
            Operator::Contains => match &actual {
                Value::String(s) => match self.value.as_str() {
                    Some(needle) => normal(field, s).contains(&normal(field, needle)),
                    None => false,
                },
                Value::Array(_) => equals(&actual, &self.value, field),
                _ => false,
            },
            Operator::Gt => compare(&actual, &self.value).is_some_and(Ordering::is_gt),
            Operator::Gte => compare(&actual, &self.value).is_some_and(Ordering::is_ge),
            Operator::Lt => compare(&actual, &self.value).is_some_and(Ordering::is_lt),
            Operator::Lte => compare(&actual, &self.value).is_some_and(Ordering::is_le),
        }
    }
}

/// The value of a field of a lead: `custom.KEY` reads the custom object, `region` is derived
/// from the province unless the lead carries one.
pub fn lookup(lead: &Value, field: &str) -> Value {
    if let Some(key) = field.strip_prefix("custom.") {
        return lead
            .get("custom")
            .and_then(|c| c.get(key))
            .cloned()
            .unwrap_or(Value::Null);
    }
    match lead.get(field) {
        Some(v) if !v.is_null() => v.clone(),
        _ if field == "region" => lead
            .get("province")
            .and_then(Value::as_str)
            .and_then(region_of)
            .map_or(Value::Null, |r| Value::from(r.code())),
        _ => Value::Null,
    }
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn equals(actual: &Value, expected: &Value, field: &str) -> bool {
    match (actual, expected) {
        (Value::Array(items), _) => items.iter().any(|i| equals(i, expected, field)),
        (Value::String(a), Value::String(e)) => normal(field, a) == normal(field, e),
        (Value::Number(a), Value::Number(e)) => a.as_f64() == e.as_f64(),
        (Value::Bool(a), Value::Bool(e)) => a == e,
        _ => false,
    }
}

fn compare(actual: &Value, expected: &Value) -> Option<Ordering> {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => a.as_f64()?.partial_cmp(&e.as_f64()?),
        (Value::String(a), Value::String(e)) => Some(a.trim().cmp(e.trim())),
        _ => None,
    }
}

/// Text as conditions compare it: trimmed, case folded, and places by their short name, so
/// that `province eq 广东` matches 广东省 and `city eq 深圳` matches 深圳市.
fn normal(field: &str, text: &str) -> String {
    match field {
        "province" => province_key(text),
        "city" => city_key(text),
        _ => text.trim().to_lowercase(),
    }
}

/// Provinces and other province-level divisions: the short Chinese name, the pinyin or English
/// name, and the region.
const PROVINCES: &[(&str, &[&str], Region)] = &[
    ("北京", &["beijing"], Region::North),
    ("天津", &["tianjin"], Region::North),
    ("河北", &["hebei"], Region::North),
    ("山西", &["shanxi"], Region::North),
    ("内蒙古", &["neimenggu", "inner mongolia"], Region::North),
    ("辽宁", &["liaoning"], Region::Northeast),
    ("吉林", &["jilin"], Region::Northeast),
    ("黑龙江", &["heilongjiang"], Region::Northeast),
    ("上海", &["shanghai"], Region::East),
    ("江苏", &["jiangsu"], Region::East),
    ("浙江", &["zhejiang"], Region::East),
    ("安徽", &["anhui"], Region::East),
    ("福建", &["fujian"], Region::East),
    ("江西", &["jiangxi"], Region::East),
    ("山东", &["shandong"], Region::East),
    ("河南", &["henan"], Region::Central),
    ("湖北", &["hubei"], Region::Central),
    ("湖南", &["hunan"], Region::Central),
    ("广东", &["guangdong"], Region::South),
    ("广西", &["guangxi"], Region::South),
    ("海南", &["hainan"], Region::South),
    ("重庆", &["chongqing"], Region::Southwest),
    ("四川", &["sichuan"], Region::Southwest),
    ("贵州", &["guizhou"], Region::Southwest),
    ("云南", &["yunnan"], Region::Southwest),
    ("西藏", &["xizang", "tibet"], Region::Southwest),
    ("陕西", &["shaanxi"], Region::Northwest),
    ("甘肃", &["gansu"], Region::Northwest),
    ("青海", &["qinghai"], Region::Northwest),
    ("宁夏", &["ningxia"], Region::Northwest),
    ("新疆", &["xinjiang"], Region::Northwest),
    ("香港", &["hong kong", "hongkong"], Region::HkMoTw),
    ("澳门", &["macao", "macau"], Region::HkMoTw),
    ("台湾", &["taiwan"], Region::HkMoTw),
];

const PROVINCE_SUFFIXES: &[&str] = &[
    "壮族自治区",
    "回族自治区",
    "维吾尔自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
];

/// A province's short Chinese name (广东省, Guangdong → 广东); other text trimmed and
/// lower-cased.
pub fn province_key(name: &str) -> String {
    let trimmed = name.trim();
    let lower = trimmed.to_lowercase();
    let lower = lower.strip_suffix(" province").unwrap_or(&lower);
    let short = PROVINCE_SUFFIXES
        .iter()
        .find_map(|s| trimmed.strip_suffix(s))
        .unwrap_or(trimmed);
    PROVINCES
        .iter()
        .find(|(zh, names, _)| *zh == short || names.contains(&lower))
        .map_or_else(|| lower.to_owned(), |(zh, _, _)| (*zh).to_owned())
}

/// A city's name without 市, trimmed and lower-cased (深圳市 → 深圳).
pub fn city_key(name: &str) -> String {
    let trimmed = name.trim();
    let short = trimmed.strip_suffix('市').unwrap_or(trimmed);
    short.to_lowercase()
}

/// The region a province belongs to, if it is one of China's.
pub fn region_of(province: &str) -> Option<Region> {
    let key = province_key(province);
    PROVINCES
        .iter()
        .find(|(zh, _, _)| *zh == key)
        .map(|(_, _, region)| *region)
}

/// Refuses an object with a key outside `accepted`, naming the key and what is accepted.
pub fn refuse_unknown(
    object: &Map<String, Value>,
    accepted: &[&str],
    what: &str,
) -> Result<(), Invalid> {
    match object.keys().find(|k| !accepted.contains(&k.as_str())) {
        Some(extra) => Err(Invalid::new(
            extra.as_str(),
            format!(
                "is not a field of {what} (accepted: {})",
                accepted.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> Vec<KnownField> {
        vec![
            ("title".into(), ValueKind::Text),
            ("company_size".into(), ValueKind::Number),
            ("industry".into(), ValueKind::Text),
            ("province".into(), ValueKind::Text),
            ("city".into(), ValueKind::Text),
            ("source".into(), ValueKind::Code(Vec::new())),
            (
                "grade".into(),
                ValueKind::Code(vec!["A".into(), "B".into()]),
            ),
            (
                "region".into(),
                ValueKind::Code(vec!["south".into(), "east".into()]),
            ),
            ("tags".into(), ValueKind::List),
            ("custom.budget".into(), ValueKind::Number),
            ("custom.vip".into(), ValueKind::Boolean),
            ("custom.due".into(), ValueKind::Date),
        ]
    }

    fn cond(field: &str, operator: &str, value: Value) -> Condition {
        let list = parse_conditions(
            &json!([{"field": field, "operator": operator, "value": value}]),
            "conditions",
            &fields(),
        )
        .unwrap();
        list.into_iter().next().unwrap()
    }

    #[test]
    fn text_conditions_ignore_case_and_places_ignore_their_suffix() {
        let lead = json!({"title": "销售总监", "province": "广东省", "city": "深圳市", "industry": "SaaS"});
        assert!(cond("title", "contains", json!("总监")).matches(&lead));
        assert!(!cond("title", "contains", json!("经理")).matches(&lead));
        assert!(cond("province", "eq", json!("广东")).matches(&lead));
        assert!(cond("province", "eq", json!("Guangdong")).matches(&lead));
        assert!(cond("city", "eq", json!("深圳")).matches(&lead));
        assert!(cond("industry", "in", json!(["saas", "制造"])).matches(&lead));
        assert!(cond("industry", "ne", json!("制造")).matches(&lead));
    }

    #[test]
    fn numbers_compare_as_numbers_and_missing_values_match_only_ne_and_not_exists() {
        let lead = json!({"company_size": 500, "custom": {"budget": 150000.5}});
        assert!(cond("company_size", "gte", json!(500)).matches(&lead));
        assert!(!cond("company_size", "gt", json!(500)).matches(&lead));
        assert!(cond("custom.budget", "gt", json!(100000)).matches(&lead));
        assert!(cond("company_size", "lt", json!(1000)).matches(&lead));
        let empty = json!({"company_size": null, "custom": {}});
        assert!(!cond("company_size", "lt", json!(1000)).matches(&empty));
        assert!(!cond("custom.budget", "eq", json!(1)).matches(&empty));
        assert!(cond("custom.budget", "ne", json!(1)).matches(&empty));
        assert!(cond("custom.budget", "exists", json!(false)).matches(&empty));
        assert!(cond("custom.budget", "exists", Value::Null).matches(&lead));
    }

    #[test]
    fn lists_match_by_element_and_dates_compare_in_order() {
        let lead = json!({"tags": ["vip", "展会"], "custom": {"due": "2026-03-01", "vip": true}});
        assert!(cond("tags", "contains", json!("VIP")).matches(&lead));
        assert!(cond("tags", "in", json!(["x", "展会"])).matches(&lead));
        assert!(!cond("tags", "eq", json!("x")).matches(&lead));
        assert!(cond("custom.due", "lt", json!("2026-12-31")).matches(&lead));
        assert!(cond("custom.vip", "eq", json!(true)).matches(&lead));
    }

    #[test]
    fn the_region_follows_the_province() {
        assert_eq!(region_of("广东省"), Some(Region::South));
        assert_eq!(region_of("新疆维吾尔自治区"), Some(Region::Northwest));
        assert_eq!(region_of("Zhejiang"), Some(Region::East));
        assert_eq!(region_of("火星"), None);
        let lead = json!({"province": "浙江"});
        assert!(cond("region", "eq", json!("east")).matches(&lead));
        assert!(!cond("region", "eq", json!("south")).matches(&lead));
    }

    #[test]
    fn unknown_fields_operators_and_bad_values_name_the_problem() {
        let err = |c: Value| parse_conditions(&json!([c]), "conditions", &fields()).unwrap_err();
        let e = err(json!({"field": "salary", "operator": "eq", "value": 1}));
        assert_eq!(e.field, "conditions[0].field");
        assert!(
            e.message.contains("'salary' is not a field of leads"),
            "{e}"
        );
        let e = err(json!({"field": "custom.nope", "operator": "eq", "value": 1}));
        assert!(e.message.contains("not a custom field"), "{e}");
        let e = err(json!({"field": "title", "operator": "like", "value": "x"}));
        assert_eq!(e.field, "conditions[0].operator");
        let e = err(json!({"field": "title", "operator": "gt", "value": "x"}));
        assert!(e.message.contains("does not apply to title"), "{e}");
        let e = err(json!({"field": "company_size", "operator": "gte", "value": "500"}));
        assert_eq!(e.field, "conditions[0].value");
        let e = err(json!({"field": "grade", "operator": "eq", "value": "F"}));
        assert!(e.message.contains("not one of: A, B"), "{e}");
        let e = err(json!({"field": "industry", "operator": "in", "value": []}));
        assert_eq!(e.field, "conditions[0].value");
        let e = err(json!({"field": "title", "operator": "eq", "value": "x", "weight": 1}));
        assert_eq!(e.field, "conditions[0].weight");
        assert!(parse_conditions(&json!("x"), "conditions", &fields()).is_err());
    }

    #[test]
    fn no_conditions_always_match() {
        assert!(all_match(&[], &json!({})));
        assert_eq!(
            parse_conditions(&Value::Null, "c", &fields()).unwrap(),
            vec![]
        );
    }
}
