//! Which column of an import file goes to which lead field, worked out from the header row:
//! Chinese headers (姓名, 手机, 公司, …) and the export headers of Salesforce, HubSpot and Zoho,
//! with their status and source values translated into ours. A mapping file can override or
//! complete the automatic mapping; a header naming a custom field's key or label goes there.
//!
//! A row becomes the same JSON body an API client would send, so that `record::prepare` checks
//! an imported lead exactly as it checks one created through the API, and the [`RowFacts`] the
//! import reads itself: the country that reads its phone, its outcome in the system it came
//! from, with its date and the ids of what it was converted into.

use anyhow::bail;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use xiansuo_core::custom_field::FieldType;

/// Where a column goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A lead field, or `first_name`/`last_name`, which are joined into `name`.
    Field(&'static str),
    /// A custom field of leads.
    Custom { key: String, field_type: FieldType },
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Field(name) => f.write_str(name),
            Target::Custom { key, .. } => write!(f, "custom.{key}"),
        }
    }
}

/// A custom field definition as far as mapping needs it.
#[derive(Debug, Clone)]
pub struct CustomColumn {
    pub key: String,
    pub label: String,
    pub field_type: FieldType,
}

/// The fields a column can be mapped to, besides custom fields.
pub const FIELDS: &[&str] = &[
    "name",
    "first_name",
    "last_name",
    "company",
    "title",
    "phone",
    "email",
    "source",
    "status",
    "grade",
    "score",
    "industry",
    "province",
    "city",
    "company_size",
    "description",
    "external_id",
    "tags",
];

/// Columns an import reads itself rather than as lead fields (see [`RowFacts`]).
pub const IMPORT_FIELDS: &[&str] = &[
    "country",
    "is_converted",
    "converted_at",
    "disqualified_at",
    "converted_account_id",
    "converted_contact_id",
    "converted_opportunity_id",
];

/// Known headers, compared after [`normalise`], with their field and a rank: when several
/// columns go to one field, the first non-empty value of the lowest rank wins (a mobile number
/// before an office number, HubSpot's lead status before its lifecycle stage).
const HEADERS: &[(&str, &str, u8)] = &[
    // Chinese
    ("姓名", "name", 0),
    ("名字", "name", 0),
    ("联系人", "name", 0),
    ("联系人姓名", "name", 0),
    ("客户姓名", "name", 0),
    ("姓", "last_name", 0),
    ("名", "first_name", 0),
    ("手机", "phone", 0),
    ("手机号", "phone", 0),
    ("手机号码", "phone", 0),
    ("移动电话", "phone", 0),
    ("电话", "phone", 1),
    ("联系电话", "phone", 1),
    ("电话号码", "phone", 1),
    ("座机", "phone", 2),
    ("公司", "company", 0),
    ("单位", "company", 0),
    ("企业名称", "company", 0),
    ("公司名称", "company", 0),
    ("单位名称", "company", 0),
    ("职位", "title", 0),
    ("职务", "title", 0),
    ("岗位", "title", 0),
    ("邮箱", "email", 0),
    ("电子邮件", "email", 0),
    ("电子邮箱", "email", 0),
    ("邮件", "email", 0),
    ("来源", "source", 0),
    ("渠道", "source", 0),
    ("线索来源", "source", 0),
    ("来源渠道", "source", 0),
    ("状态", "status", 0),
    ("线索状态", "status", 0),
    ("等级", "grade", 0),
    ("线索等级", "grade", 0),
    ("评分", "score", 0),
    ("分数", "score", 0),
    ("行业", "industry", 0),
    ("所属行业", "industry", 0),
    ("省份", "province", 0),
    ("省", "province", 0),
    ("所在省份", "province", 0),
    ("城市", "city", 0),
    ("市", "city", 0),
    ("所在城市", "city", 0),
    ("员工人数", "company_size", 0),
    ("公司规模", "company_size", 0),
    ("备注", "description", 0),
    ("描述", "description", 0),
    ("说明", "description", 0),
    ("标签", "tags", 0),
    ("外部编号", "external_id", 0),
    ("编号", "external_id", 1),
    ("线索编号", "external_id", 1),
    ("国家", "country", 0),
    ("国家地区", "country", 0),
    ("国家或地区", "country", 0),
    ("是否转化", "is_converted", 0),
    ("转化时间", "converted_at", 0),
    ("转化日期", "converted_at", 0),
    ("无效时间", "disqualified_at", 0),
    ("无效日期", "disqualified_at", 0),
    // English, and the API names of Salesforce (FirstName, LeadSource, …)
    ("name", "name", 0),
    ("fullname", "name", 0),
    ("firstname", "first_name", 0),
    ("lastname", "last_name", 0),
    ("company", "company", 0),
    ("companyname", "company", 0),
    ("title", "title", 0),
    ("jobtitle", "title", 0),
    ("designation", "title", 0),
    ("mobile", "phone", 0),
    ("mobilephone", "phone", 0),
    ("mobilephonenumber", "phone", 0),
    ("phone", "phone", 1),
    ("phonenumber", "phone", 1),
    ("email", "email", 0),
    ("emailaddress", "email", 0),
    ("leadsource", "source", 0),
    ("source", "source", 0),
    ("originalsource", "source", 1),
    ("leadstatus", "status", 0),
    ("status", "status", 0),
    ("lifecyclestage", "status", 1),
    ("grade", "grade", 0),
    ("score", "score", 0),
    ("industry", "industry", 0),
    ("state", "province", 0),
    ("stateregion", "province", 0),
    ("province", "province", 0),
    ("city", "city", 0),
    ("numberofemployees", "company_size", 0),
    ("noofemployees", "company_size", 0),
    ("employees", "company_size", 0),
    ("description", "description", 0),
    ("notes", "description", 0),
    ("tags", "tags", 0),
    // Ids in the system of origin: Salesforce Id, HubSpot Record ID, Zoho Record Id
    ("externalid", "external_id", 0),
    ("id", "external_id", 1),
    ("leadid", "external_id", 1),
    ("recordid", "external_id", 1),
    ("country", "country", 0),
    ("countryregion", "country", 0),
    ("isconverted", "is_converted", 0),
    ("converteddate", "converted_at", 0),
    ("convertedat", "converted_at", 0),
    ("disqualifieddate", "disqualified_at", 0),
    ("disqualifiedat", "disqualified_at", 0),
    ("convertedaccountid", "converted_account_id", 0),
    ("convertedcontactid", "converted_contact_id", 0),
    ("convertedopportunityid", "converted_opportunity_id", 0),
];

/// A header as compared: lower-case, without spaces, punctuation or a required-field star.
pub fn normalise(header: &str) -> String {
    normalised(header).collect()
}

/// Whether `name` (a field's name, a custom field's key or label) is the header whose
/// [`normalise`]d form is `key`.
pub fn names(name: &str, key: &str) -> bool {
    normalised(name).eq(key.chars())
}

fn normalised(header: &str) -> impl Iterator<Item = char> + '_ {
    header
        .trim_start_matches('\u{FEFF}')
        .chars()
        .filter(|c| !c.is_whitespace() && !"_-./:：*（）()".contains(*c))
        .flat_map(char::to_lowercase)
}

/// The mapping of one file's columns.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub headers: Vec<String>,
    columns: Vec<Option<(Target, u8)>>,
}

impl Mapping {
    /// Maps a header row. `overrides` (header → field, `custom.KEY`, or `ignore`) come from a
    /// mapping file and win over the automatic mapping.
    pub fn new(
        headers: &[String],
        custom: &[CustomColumn],
        overrides: &BTreeMap<String, String>,
    ) -> anyhow::Result<Mapping> {
        let by_header: BTreeMap<String, &String> =
            overrides.iter().map(|(h, f)| (normalise(h), f)).collect();
        let mut columns = Vec::with_capacity(headers.len());
        for header in headers {
            let key = normalise(header);
            let target = match by_header.get(&key) {
                Some(spec) => parse_spec(header, spec, custom)?.map(|t| (t, 0)),
                None => auto(&key, custom),
            };
            columns.push(target);
        }
        let mapping = Mapping {
            headers: headers.to_vec(),
            columns,
        };
        let maps = |f: &'static str| {
            mapping
                .columns
                .iter()
                .flatten()
                .any(|(t, _)| *t == Target::Field(f))
        };
        if !maps("name") && !maps("first_name") && !maps("last_name") {
            bail!(
                "no column gives the lead's name (headers: {}); name one 姓名 or Name, or map it with --mapping",
                headers.join(", ")
            );
        }
        Ok(mapping)
    }

    /// (header, where it goes) for every column; `None` for columns that are not imported.
    pub fn describe(&self) -> Vec<(&str, Option<&Target>)> {
        self.headers
            .iter()
            .zip(&self.columns)
            .map(|(h, c)| (h.as_str(), c.as_ref().map(|(t, _)| t)))
            .collect()
    }

    /// The headers of columns that are not imported.
    pub fn unmapped(&self) -> Vec<&str> {
        self.describe()
            .into_iter()
            .filter(|(h, t)| t.is_none() && !h.trim().is_empty())
            .map(|(h, _)| h)
            .collect()
    }

    /// The value of a row for a target: the first non-empty cell of the lowest rank.
    fn pick<'v>(&self, values: &'v [String], target: &Target) -> Option<&'v str> {
        let mut best: Option<(u8, &str)> = None;
        for (i, column) in self.columns.iter().enumerate() {
            let Some((t, rank)) = column else { continue };
            let value = values.get(i).map_or("", |v| v.trim());
            if t == target && !value.is_empty() && best.is_none_or(|(r, _)| *rank < r) {
                best = Some((*rank, value));
            }
        }
        best.map(|(_, v)| v)
    }

    /// A row as the JSON body of a new lead. Values from other systems are translated into our
    /// codes; what a translation could not keep is kept as a tag.
    pub fn body(&self, values: &[String]) -> Value {
        let mut body = Map::new();
        let mut tags: Vec<Value> = Vec::new();
        let name = self
            .pick(values, &Target::Field("name"))
            .map(str::to_owned)
            .or_else(|| {
                let first = self.pick(values, &Target::Field("first_name"));
                let last = self.pick(values, &Target::Field("last_name"));
                match (last, first) {
                    (Some(l), Some(f)) if is_chinese(l) || is_chinese(f) => Some(format!("{l}{f}")),
                    (Some(l), Some(f)) => Some(format!("{f} {l}")),
                    (l, f) => l.or(f).map(str::to_owned),
                }
            });
        if let Some(name) = name {
            body.insert("name".into(), json!(name));
        }
        for field in FIELDS {
            if matches!(*field, "name" | "first_name" | "last_name") {
                continue;
            }
            let Some(value) = self.pick(values, &Target::Field(field)) else {
                continue;
            };
            let parsed = match *field {
                "status" => json!(status(value)),
                "source" => {
                    let (code, tag) = source(value);
                    tags.extend(tag.map(Value::from));
                    json!(code)
                }
                "grade" => json!(grade(value)),
                "score" | "company_size" => whole_number(value),
                "tags" => {
                    tags.extend(split_list(value).into_iter().map(Value::from));
                    continue;
                }
                _ => json!(value),
            };
            body.insert((*field).into(), parsed);
        }
        let mut custom = Map::new();
        for (i, column) in self.columns.iter().enumerate() {
            let Some((Target::Custom { key, field_type }, _)) = column else {
                continue;
            };
            let value = values.get(i).map_or("", |v| v.trim());
            if !value.is_empty() {
                custom.insert(key.clone(), custom_value(*field_type, value));
            }
        }
        if !custom.is_empty() {
            body.insert("custom".into(), Value::Object(custom));
        }
        if !tags.is_empty() {
            body.insert("tags".into(), Value::Array(tags));
        }
        Value::Object(body)
    }
}

/// What a row says that is not a lead field: read by the import itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFacts<'v> {
    /// The country the lead is in (as written: a name or an ISO code), which reads its phone.
    pub country: Option<&'v str>,
    /// Salesforce's `IsConverted`: true, yes, 1, 是.
    pub is_converted: bool,
    /// When it was converted or disqualified there, as written.
    pub converted_at: Option<&'v str>,
    pub disqualified_at: Option<&'v str>,
    /// The external ids of the account, contact and opportunity it was converted into.
    pub converted_account_id: Option<&'v str>,
    pub converted_contact_id: Option<&'v str>,
    pub converted_opportunity_id: Option<&'v str>,
}

impl Mapping {
    /// The facts of a row that the import reads itself.
    pub fn facts<'v>(&self, values: &'v [String]) -> RowFacts<'v> {
        let get = |f: &'static str| self.pick(values, &Target::Field(f));
        RowFacts {
            country: get("country"),
            is_converted: get("is_converted").is_some_and(|v| {
                matches!(
                    normalise(v).as_str(),
                    "true" | "yes" | "y" | "1" | "是" | "已转化"
                )
            }),
            converted_at: get("converted_at"),
            disqualified_at: get("disqualified_at"),
            converted_account_id: get("converted_account_id"),
            converted_contact_id: get("converted_contact_id"),
            converted_opportunity_id: get("converted_opportunity_id"),
        }
    }
}

fn auto(key: &str, custom: &[CustomColumn]) -> Option<(Target, u8)> {
    if let Some((_, field, rank)) = HEADERS.iter().find(|(h, _, _)| *h == key) {
        return Some((Target::Field(field), *rank));
    }
    // A header that is the field's own name, as a mapping file names it (`company_size`).
    if let Some(field) = FIELDS.iter().chain(IMPORT_FIELDS).find(|f| names(f, key)) {
        return Some((Target::Field(field), 0));
    }
    custom
        .iter()
        .find(|c| names(&c.key, key) || names(&c.label, key))
        .map(|c| {
            (
                Target::Custom {
                    key: c.key.clone(),
                    field_type: c.field_type,
                },
                0,
            )
        })
}

fn parse_spec(header: &str, spec: &str, custom: &[CustomColumn]) -> anyhow::Result<Option<Target>> {
    let spec = spec.trim();
    if spec.is_empty() || spec == "ignore" {
        return Ok(None);
    }
    if let Some(key) = spec.strip_prefix("custom.") {
        return match custom.iter().find(|c| c.key == key) {
            Some(c) => Ok(Some(Target::Custom {
                key: c.key.clone(),
                field_type: c.field_type,
            })),
            None => bail!("the mapping file maps '{header}' to '{spec}', but leads have no custom field '{key}'"),
        };
    }
    match FIELDS.iter().chain(IMPORT_FIELDS).find(|f| **f == spec) {
        Some(field) => Ok(Some(Target::Field(field))),
        None => bail!(
            "the mapping file maps '{header}' to '{spec}', which is not a lead field (accepted: {}, {}, custom.KEY, ignore)",
            FIELDS.join(", "),
            IMPORT_FIELDS.join(", ")
        ),
    }
}

/// Reads a mapping file: a JSON object or a TOML table of header → field.
pub fn read_overrides(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the mapping file {}: {e}", path.display()))?;
    let is_json =
        path.extension().is_some_and(|e| e == "json") || text.trim_start().starts_with('{');
    if is_json {
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "the mapping file {} is not a JSON object of header → field: {e}",
                path.display()
            )
        })
    } else {
        toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "the mapping file {} is not a TOML table of header = field: {e}",
                path.display()
            )
        })
    }
}

fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| matches!(c, '\u{4E00}'..='\u{9FFF}'))
}

/// Statuses of other systems as ours. A lead converted or disqualified there keeps that
/// outcome here (the import sets it: `record::prepare` takes no converted lead).
fn status(value: &str) -> String {
    let code = match normalise(value).as_str() {
        "new" | "新建" | "新线索" | "未处理" | "opennotcontacted" | "notcontacted" | "open"
        | "lead" | "other" => "new",
        "working"
        | "跟进中"
        | "联系中"
        | "已联系"
        | "workingcontacted"
        | "contacted"
        | "attemptedtocontact"
        | "inprogress"
        | "connected"
        | "marketingqualifiedlead" => "working",
        "qualified" | "已鉴定" | "合格" | "prequalified" | "salesqualifiedlead" | "opportunity"
        | "opendeal" => "qualified",
        "disqualified" | "无效" | "closednotconverted" | "unqualified" | "notqualified"
        | "junklead" | "lostlead" => "disqualified",
        "nurturing" | "培育" | "contactinfuture" | "badtiming" | "subscriber" => "nurturing",
        "converted" | "已转化" | "转化" | "closedconverted" | "customer" | "evangelist" => {
            "converted"
        }
        // Unknown: passed on as given, so that the row fails with the list of accepted codes.
        _ => return value.to_owned(),
    };
    code.into()
}

/// Sources of other systems as our source codes. A value we cannot place becomes `other`, with
/// the value kept as a tag so nothing typed is lost.
fn source(value: &str) -> (String, Option<String>) {
    let code = match normalise(value).as_str() {
        "web" | "website" | "webform" | "网站" | "官网" | "网站表单" | "表单" | "organicsearch"
        | "directtraffic" | "web_form" => "web_form",
        "ad" | "ads" | "advertisement" | "advertising" | "paidsearch" | "paidsocial" | "广告"
        | "百度推广" | "竞价" => "ad",
        "event" | "tradeshow" | "seminar" | "webinar" | "conference" | "展会" | "活动" | "会议"
        | "展会活动" => "event",
        "referral" | "partnerreferral" | "employeereferral" | "externalreferral" | "partner"
        | "推荐" | "客户推荐" | "转介绍" | "referrals" => "referral",
        "social" | "socialmedia" | "organicsocial" | "社交媒体" | "微信" | "wechat" => {
            "social"
        }
        "email" | "emailmarketing" | "邮件" => "email",
        "import" | "导入" => "import",
        "api" => "api",
        "manual" | "手工录入" => "manual",
        "other" | "其他" | "coldcall" | "phoneinquiry" | "offlinesources" | "purchasedlist" => {
            "other"
        }
        _ => {
            let code = value.trim().to_lowercase();
            if xiansuo_core::lead::parse_source(&code).is_ok() {
                return (code, None);
            }
            let tag: String = value.replace([',', '，'], " ").chars().take(40).collect();
            return (
                "other".into(),
                Some(tag.trim().to_owned()).filter(|t| !t.is_empty()),
            );
        }
    };
    (code.into(), None)
}

/// `A`, `a`, `A级`, `A类` → `A`; anything else is passed on to be refused with the accepted list.
fn grade(value: &str) -> String {
    let v = value.trim().trim_end_matches(['级', '类']).to_uppercase();
    v
}

/// `1,200` and `1200.0` as 1200; anything else is passed on as text, to be refused as not a
/// whole number with the field named.
fn whole_number(value: &str) -> Value {
    let digits: String = value
        .chars()
        .filter(|c| *c != ',' && !c.is_whitespace())
        .collect();
    if let Ok(n) = digits.parse::<i64>() {
        return json!(n);
    }
    match digits.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && f.abs() < 1e15 => json!(f as i64),
        _ => json!(value),
    }
}

pub(super) fn split_list(value: &str) -> Vec<String> {
    value
        .split([',', '，', ';', '；', '、', '|'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) fn custom_value(field_type: FieldType, value: &str) -> Value {
    match field_type {
        FieldType::Number => value
            .replace(',', "")
            .parse::<f64>()
            .map_or_else(|_| json!(value), |n| json!(n)),
        FieldType::Boolean => match normalise(value).as_str() {
            "true" | "yes" | "y" | "1" | "是" | "有" => json!(true),
            "false" | "no" | "n" | "0" | "否" | "无" => json!(false),
            _ => json!(value),
        },
        FieldType::MultiSelect => json!(split_list(value)),
        _ => json!(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| (*s).to_owned()).collect()
    }

    fn targets(m: &Mapping) -> Vec<Option<String>> {
        m.describe()
            .into_iter()
            .map(|(_, t)| t.map(ToString::to_string))
            .collect()
    }

    fn mapped(h: &[&str]) -> Mapping {
        Mapping::new(&headers(h), &[], &BTreeMap::new()).unwrap()
    }

    #[test]
    fn a_header_that_is_a_fields_own_name_maps_to_that_field() {
        let names: Vec<&str> = FIELDS.iter().chain(IMPORT_FIELDS).copied().collect();
        let m = mapped(&names);
        let expected: Vec<Option<String>> = names.iter().map(|f| Some((*f).to_owned())).collect();
        assert_eq!(targets(&m), expected);
        // Mapped again by the names of its targets, a file maps to the same fields.
        let m = mapped(&["Name", "NumberOfEmployees", "员工人数"]);
        let again: Vec<String> = targets(&m).into_iter().flatten().collect();
        let again: Vec<&str> = again.iter().map(String::as_str).collect();
        assert_eq!(targets(&mapped(&again)), targets(&m));
    }

    #[test]
    fn chinese_headers_are_recognised() {
        let m = mapped(&[
            "\u{FEFF}姓名",
            "手机号",
            "公司名称",
            "职务",
            "电子邮件",
            "渠道",
            "省份",
            "城市",
            "行业",
            "备注",
            "标签",
            "状态",
            "等级",
            "微信号",
        ]);
        assert_eq!(
            targets(&m),
            [
                "name",
                "phone",
                "company",
                "title",
                "email",
                "source",
                "province",
                "city",
                "industry",
                "description",
                "tags",
                "status",
                "grade"
            ]
            .iter()
            .map(|s| Some((*s).to_owned()))
            .chain([None])
            .collect::<Vec<_>>()
        );
        assert_eq!(m.unmapped(), ["微信号"]);
        let body = m.body(&headers(&[
            "张三",
            "+86 138-0013-8000",
            "星辰科技",
            "总监",
            "a@b.cn",
            "展会",
            "北京",
            "北京",
            "软件",
            "要报价",
            "重点，VIP",
            "跟进中",
            "A级",
            "zs001",
        ]));
        assert_eq!(body["source"], "event");
        assert_eq!(body["status"], "working");
        assert_eq!(body["grade"], "A");
        assert_eq!(body["tags"], json!(["重点", "VIP"]));
        assert_eq!(body["phone"], "+86 138-0013-8000");
    }

    #[test]
    fn salesforce_exports_are_recognised_and_translated() {
        let m = mapped(&[
            "FirstName",
            "LastName",
            "Company",
            "Title",
            "Phone",
            "MobilePhone",
            "Email",
            "LeadSource",
            "Status",
            "Industry",
            "State",
            "City",
            "NumberOfEmployees",
            "Description",
        ]);
        assert!(m.unmapped().is_empty(), "{:?}", m.unmapped());
        let body = m.body(&headers(&[
            "Ada",
            "Lovelace",
            "Analytical Ltd",
            "CTO",
            "010-6552 9988",
            "13800138000",
            "ada@example.com",
            "Trade Show",
            "Closed - Converted",
            "Software",
            "London",
            "London",
            "1,200",
            "",
        ]));
        assert_eq!(body["name"], "Ada Lovelace");
        assert_eq!(
            body["phone"], "13800138000",
            "the mobile wins over the office phone"
        );
        assert_eq!(body["source"], "event");
        assert_eq!(body["status"], "converted", "the outcome is kept");
        assert!(body.get("tags").is_none());
        assert_eq!(body["company_size"], 1200);
        assert!(
            body.get("description").is_none(),
            "empty cells are left out"
        );
        for (given, ours) in [
            ("Open - Not Contacted", "new"),
            ("Working - Contacted", "working"),
            ("Closed - Not Converted", "disqualified"),
        ] {
            assert_eq!(status(given), ours);
        }
        for (given, ours) in [
            ("Web", "web_form"),
            ("Partner Referral", "referral"),
            ("Employee Referral", "referral"),
            ("Advertisement", "ad"),
            ("Phone Inquiry", "other"),
        ] {
            assert_eq!(source(given).0, ours);
        }
        assert_eq!(
            source("百度搜索"),
            ("other".into(), Some("百度搜索".into()))
        );
    }

    #[test]
    fn hubspot_exports_are_recognised() {
        let m = mapped(&[
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Company Name",
            "Job Title",
            "Lifecycle Stage",
            "Lead Status",
            "Original Source",
            "State/Region",
            "City",
            "Record ID",
            "Country/Region",
        ]);
        assert!(m.unmapped().is_empty(), "{:?}", m.unmapped());
        let body = m.body(&headers(&[
            "明",
            "王",
            "w@example.cn",
            "13900139000",
            "云海",
            "经理",
            "salesqualifiedlead",
            "Bad Timing",
            "Organic Search",
            "浙江",
            "杭州",
            "901",
            "United States",
        ]));
        assert_eq!(body["external_id"], "901");
        assert_eq!(
            body["name"], "王明",
            "Chinese names put the family name first"
        );
        assert_eq!(
            body["status"], "nurturing",
            "the lead status wins over the lifecycle stage"
        );
        assert_eq!(body["source"], "web_form");
        assert_eq!(body["province"], "浙江");
    }

    #[test]
    fn salesforce_ids_countries_and_outcomes_are_read() {
        let m = mapped(&[
            "Id",
            "LastName",
            "Country",
            "IsConverted",
            "ConvertedDate",
            "ConvertedAccountId",
        ]);
        assert!(m.unmapped().is_empty(), "{:?}", m.unmapped());
        let row = headers(&["00Q5e01", "Smith", "USA", "true", "2025-03-14", "0015e09"]);
        assert_eq!(m.body(&row)["external_id"], "00Q5e01");
        assert!(m.body(&row).get("country").is_none(), "not a lead field");
        let facts = m.facts(&row);
        assert_eq!(facts.country, Some("USA"));
        assert!(facts.is_converted);
        assert_eq!(facts.converted_at, Some("2025-03-14"));
        assert_eq!(facts.converted_account_id, Some("0015e09"));
        let not = headers(&["00Q5e02", "Jones", "", "false", "", ""]);
        assert_eq!(m.facts(&not), RowFacts::default());
        let m = mapped(&["姓名", "外部编号", "编号", "国家/地区"]);
        let row = headers(&["张三", "", "88", "中国"]);
        assert_eq!(
            m.body(&row)["external_id"],
            "88",
            "编号 when 外部编号 is empty"
        );
        assert_eq!(m.facts(&row).country, Some("中国"));
    }

    #[test]
    fn zoho_exports_are_recognised() {
        let m = mapped(&[
            "First Name",
            "Last Name",
            "Company",
            "Designation",
            "Email",
            "Phone",
            "Mobile",
            "Lead Source",
            "Lead Status",
            "Industry",
            "No of Employees",
            "State",
            "City",
        ]);
        assert!(m.unmapped().is_empty(), "{:?}", m.unmapped());
        let body = m.body(&headers(&[
            "Li",
            "Wei",
            "Acme",
            "Buyer",
            "li@acme.cn",
            "",
            "+86 139 0013 9000",
            "Cold Call",
            "Junk Lead",
            "Retail",
            "35",
            "广东",
            "深圳",
        ]));
        assert_eq!(body["title"], "Buyer");
        assert_eq!(body["phone"], "+86 139 0013 9000");
        assert_eq!(body["source"], "other");
        assert_eq!(body["status"], "disqualified");
        assert_eq!(body["company_size"], 35);
    }

    #[test]
    fn custom_fields_and_mapping_files_take_unknown_columns() {
        let custom = [CustomColumn {
            key: "budget".into(),
            label: "预算".into(),
            field_type: FieldType::Number,
        }];
        let mut overrides = BTreeMap::new();
        overrides.insert("客户".to_owned(), "name".to_owned());
        overrides.insert("手机".to_owned(), "ignore".to_owned());
        let m = Mapping::new(&headers(&["客户", "手机", "预算"]), &custom, &overrides).unwrap();
        assert_eq!(
            targets(&m),
            [
                Some("name".to_owned()),
                None,
                Some("custom.budget".to_owned())
            ]
        );
        let body = m.body(&headers(&["张三", "13800138000", "5,000"]));
        assert_eq!(body, json!({"name": "张三", "custom": {"budget": 5000.0}}));

        overrides.insert("预算".to_owned(), "budgets".to_owned());
        let e = Mapping::new(&headers(&["客户", "预算"]), &custom, &overrides).unwrap_err();
        assert!(e.to_string().contains("not a lead field"), "{e}");
        let e = Mapping::new(&headers(&["Foo", "Bar"]), &[], &BTreeMap::new()).unwrap_err();
        assert!(e.to_string().contains("name"), "{e}");
    }
}
