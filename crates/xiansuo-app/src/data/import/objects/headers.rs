//! Which column of an accounts, contacts, opportunities or activities file goes where, from
//! the header row: the export headers of Salesforce, HubSpot, Zoho, 纷享销客, 销售易 and of
//! Xiansuo itself, compared after [`mapping::normalise`] like the leads' headers. Besides the
//! record's own fields a column can give its id in the file (`external_id`), a link to another
//! record by id (`account_ref`, Salesforce's `WhoId`/`WhatId` as `who_ref`/`what_ref`, …) or
//! by name (`account_name`, …), the owner by name, the creation time, and for deals the
//! outcome (`is_won`, `is_closed`, `result`, `lost_reason`). A mapping file (header → target)
//! overrides the automatic choice, and its `stage:NAME = CODE` entries name a stage.

use crate::data::import::mapping::{self, CustomColumn};
use anyhow::bail;
use std::collections::BTreeMap;
use xiansuo_core::custom_field::{FieldType, RecordType};

/// The kinds of record these imports bring in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    Account,
    Contact,
    Opportunity,
    Activity,
}

impl Object {
    /// The singular code, as the `imports` table stores it.
    pub fn code(self) -> &'static str {
        match self {
            Object::Account => "account",
            Object::Contact => "contact",
            Object::Opportunity => "opportunity",
            Object::Activity => "activity",
        }
    }

    /// The plural, as the command names it.
    pub fn plural(self) -> &'static str {
        match self {
            Object::Account => "accounts",
            Object::Contact => "contacts",
            Object::Opportunity => "opportunities",
            Object::Activity => "activities",
        }
    }

    /// The record type of custom fields (activities have none).
    pub fn record_type(self) -> Option<RecordType> {
        match self {
            Object::Account => Some(RecordType::Account),
            Object::Contact => Some(RecordType::Contact),
            Object::Opportunity => Some(RecordType::Opportunity),
            Object::Activity => None,
        }
    }

    /// Every target a column of this object can be mapped to.
    pub fn targets(self) -> &'static [&'static str] {
        match self {
            Object::Account => &[
                "external_id",
                "name",
                "industry",
                "province",
                "city",
                "address",
                "phone",
                "website",
                "company_size",
                "description",
                "tags",
                "owner",
                "created_at",
            ],
            Object::Contact => &[
                "external_id",
                "name",
                "first_name",
                "last_name",
                "title",
                "phone",
                "email",
                "wechat",
                "account_ref",
                "account_name",
                "description",
                "tags",
                "owner",
                "created_at",
            ],
            Object::Opportunity => &[
                "external_id",
                "name",
                "account_ref",
                "account_name",
                "contact_ref",
                "lead_ref",
                "amount",
                "stage",
                "expected_close_date",
                "probability",
                "is_closed",
                "is_won",
                "result",
                "lost_reason",
                "closed_at",
                "description",
                "tags",
                "owner",
                "created_at",
            ],
            Object::Activity => &[
                "external_id",
                "type",
                "subject",
                "content",
                "outcome",
                "activity_date",
                "next_follow_up_at",
                "who_ref",
                "what_ref",
                "record_kind",
                "record_ref",
                "account_ref",
                "contact_ref",
                "opportunity_ref",
                "lead_ref",
                "account_name",
                "contact_name",
                "opportunity_name",
                "owner",
                "created_at",
            ],
        }
    }

    /// The known headers of this object: (normalised header, target, rank). When several
    /// columns go to one target, the first non-empty value of the lowest rank wins.
    fn headers(self) -> &'static [(&'static str, &'static str, u8)] {
        match self {
            Object::Account => ACCOUNT,
            Object::Contact => CONTACT,
            Object::Opportunity => OPPORTUNITY,
            Object::Activity => ACTIVITY,
        }
    }
}

/// Headers every object shares: the record's id in the file, its owner, when it was created.
/// Xiansuo's export writes the record's own id as 编号/ID and the id it was imported with as
/// 外部编号/External ID; links are resolved through the former, so it ranks first.
const COMMON: &[(&str, &str, u8)] = &[
    ("id", "external_id", 0),
    ("recordid", "external_id", 0),
    ("编号", "external_id", 0),
    ("externalid", "external_id", 1),
    ("外部编号", "external_id", 1),
    ("ownername", "owner", 0),
    ("owner", "owner", 0),
    ("ownerid", "owner", 1),
    ("accountowner", "owner", 0),
    ("contactowner", "owner", 0),
    ("companyowner", "owner", 0),
    ("dealowner", "owner", 0),
    ("opportunityowner", "owner", 0),
    ("activityowner", "owner", 0),
    ("负责人", "owner", 0),
    ("所有人", "owner", 0),
    ("负责人主属部门", "ignore", 0),
    ("createddate", "created_at", 0),
    ("createdate", "created_at", 0),
    ("createdtime", "created_at", 0),
    ("createdat", "created_at", 0),
    ("createdatutc", "created_at", 0),
    ("创建时间", "created_at", 0),
    ("创建时间utc", "created_at", 0),
    ("创建日期", "created_at", 0),
];

const ACCOUNT: &[(&str, &str, u8)] = &[
    ("name", "name", 0),
    ("accountname", "name", 0),
    ("companyname", "name", 0),
    ("company", "name", 1),
    ("客户名称", "name", 0),
    ("公司名称", "name", 0),
    ("企业名称", "name", 0),
    ("客户", "name", 1),
    ("industry", "industry", 0),
    ("行业", "industry", 0),
    ("所属行业", "industry", 0),
    ("客户行业", "industry", 0),
    ("billingstate", "province", 0),
    ("billingstateprovince", "province", 0),
    ("billingprovince", "province", 0),
    ("state", "province", 0),
    ("stateregion", "province", 0),
    ("province", "province", 0),
    ("shippingstate", "province", 1),
    ("省份", "province", 0),
    ("省", "province", 0),
    ("所在省份", "province", 0),
    ("billingcity", "city", 0),
    ("city", "city", 0),
    ("shippingcity", "city", 1),
    ("城市", "city", 0),
    ("市", "city", 0),
    ("所在城市", "city", 0),
    ("billingstreet", "address", 0),
    ("address", "address", 0),
    ("streetaddress", "address", 0),
    ("地址", "address", 0),
    ("详细地址", "address", 0),
    ("公司地址", "address", 0),
    ("phone", "phone", 0),
    ("phonenumber", "phone", 0),
    ("电话", "phone", 0),
    ("公司电话", "phone", 0),
    ("联系电话", "phone", 0),
    ("website", "website", 0),
    ("websiteurl", "website", 0),
    ("companydomainname", "website", 1),
    ("网站", "website", 0),
    ("网址", "website", 0),
    ("公司网站", "website", 0),
    ("numberofemployees", "company_size", 0),
    ("noofemployees", "company_size", 0),
    ("employees", "company_size", 0),
    ("companysize", "company_size", 0),
    ("公司规模", "company_size", 0),
    ("员工人数", "company_size", 0),
    ("人员规模", "company_size", 0),
    ("description", "description", 0),
    ("备注", "description", 0),
    ("描述", "description", 0),
    ("tags", "tags", 0),
    ("标签", "tags", 0),
];

const CONTACT: &[(&str, &str, u8)] = &[
    ("name", "name", 0),
    ("fullname", "name", 0),
    ("contactname", "name", 0),
    ("姓名", "name", 0),
    ("联系人姓名", "name", 0),
    ("联系人", "name", 0),
    ("联系人名称", "name", 0),
    ("firstname", "first_name", 0),
    ("名", "first_name", 0),
    ("lastname", "last_name", 0),
    ("姓", "last_name", 0),
    ("title", "title", 0),
    ("jobtitle", "title", 0),
    ("designation", "title", 0),
    ("职位", "title", 0),
    ("职务", "title", 0),
    ("mobilephone", "phone", 0),
    ("mobile", "phone", 0),
    ("mobilephonenumber", "phone", 0),
    ("手机", "phone", 0),
    ("手机号", "phone", 0),
    ("手机号码", "phone", 0),
    ("phone", "phone", 1),
    ("phonenumber", "phone", 1),
    ("电话", "phone", 1),
    ("联系电话", "phone", 1),
    ("座机", "phone", 2),
    ("email", "email", 0),
    ("emailaddress", "email", 0),
    ("邮箱", "email", 0),
    ("电子邮件", "email", 0),
    ("电子邮箱", "email", 0),
    ("wechat", "wechat", 0),
    ("微信", "wechat", 0),
    ("微信号", "wechat", 0),
    ("accountid", "account_ref", 0),
    ("associatedcompanyids", "account_ref", 0),
    ("associatedcompanyid", "account_ref", 0),
    ("companyid", "account_ref", 0),
    ("客户编号", "account_ref", 0),
    ("accountname", "account_name", 0),
    ("associatedcompany", "account_name", 0),
    ("companyname", "account_name", 0),
    ("company", "account_name", 1),
    ("客户名称", "account_name", 0),
    ("所属客户", "account_name", 0),
    ("公司名称", "account_name", 0),
    ("公司", "account_name", 1),
    ("客户", "account_name", 1),
    ("description", "description", 0),
    ("备注", "description", 0),
    ("描述", "description", 0),
    ("tags", "tags", 0),
    ("标签", "tags", 0),
];

const OPPORTUNITY: &[(&str, &str, u8)] = &[
    ("name", "name", 0),
    ("opportunityname", "name", 0),
    ("dealname", "name", 0),
    ("potentialname", "name", 0),
    ("商机名称", "name", 0),
    ("机会名称", "name", 0),
    ("销售机会", "name", 0),
    ("销售机会名称", "name", 0),
    ("accountid", "account_ref", 0),
    ("associatedcompanyids", "account_ref", 0),
    ("associatedcompanyid", "account_ref", 0),
    ("客户编号", "account_ref", 0),
    ("accountname", "account_name", 0),
    ("associatedcompany", "account_name", 0),
    ("companyname", "account_name", 1),
    ("客户名称", "account_name", 0),
    ("客户", "account_name", 1),
    ("contactid", "contact_ref", 0),
    ("associatedcontactids", "contact_ref", 0),
    ("associatedcontactid", "contact_ref", 0),
    ("联系人编号", "contact_ref", 0),
    ("leadid", "lead_ref", 0),
    ("线索编号", "lead_ref", 0),
    ("amount", "amount", 0),
    ("dealamount", "amount", 0),
    ("金额", "amount", 0),
    ("商机金额", "amount", 0),
    ("销售金额", "amount", 0),
    ("预计金额", "amount", 1),
    ("合同金额", "amount", 0),
    ("stagename", "stage", 0),
    ("stage", "stage", 0),
    ("dealstage", "stage", 0),
    ("销售阶段", "stage", 0),
    ("阶段", "stage", 0),
    ("商机阶段", "stage", 0),
    ("closedate", "expected_close_date", 0),
    ("closingdate", "expected_close_date", 0),
    ("expectedclosedate", "expected_close_date", 0),
    ("预计成交日期", "expected_close_date", 0),
    ("预计签单日期", "expected_close_date", 0),
    ("结单日期", "expected_close_date", 0),
    ("probability", "probability", 0),
    ("probability%", "probability", 0),
    ("赢单概率", "probability", 0),
    ("赢单概率%", "probability", 0),
    ("赢率", "probability", 0),
    ("isclosed", "is_closed", 0),
    ("closed", "is_closed", 0),
    ("iswon", "is_won", 0),
    ("won", "is_won", 0),
    ("isclosedwon", "is_won", 0),
    ("赢单输单", "result", 0),
    ("输赢", "result", 0),
    ("结果", "result", 0),
    ("商机状态", "result", 0),
    ("result", "result", 0),
    ("lossreasonc", "lost_reason", 0),
    ("lossreason", "lost_reason", 0),
    ("reason", "lost_reason", 1),
    ("closedlostreason", "lost_reason", 0),
    ("reasonforloss", "lost_reason", 0),
    ("输单原因", "lost_reason", 0),
    ("丢单原因", "lost_reason", 0),
    ("失败原因", "lost_reason", 0),
    ("closedatutc", "closed_at", 0),
    ("关闭时间utc", "closed_at", 0),
    ("关闭时间", "closed_at", 0),
    ("实际成交日期", "closed_at", 0),
    ("赢单日期", "closed_at", 0),
    ("description", "description", 0),
    ("备注", "description", 0),
    ("描述", "description", 0),
    ("tags", "tags", 0),
    ("标签", "tags", 0),
];

const ACTIVITY: &[(&str, &str, u8)] = &[
    ("type", "type", 0),
    ("activitytype", "type", 0),
    ("engagementtype", "type", 0),
    ("tasksubtype", "type", 1),
    ("eventsubtype", "type", 1),
    ("类型", "type", 0),
    ("跟进类型", "type", 0),
    ("跟进方式", "type", 0),
    ("活动类型", "type", 0),
    ("subject", "subject", 0),
    ("title", "subject", 0),
    ("calltitle", "subject", 0),
    ("meetingname", "subject", 0),
    ("主题", "subject", 0),
    ("标题", "subject", 0),
    ("description", "content", 0),
    ("body", "content", 0),
    ("notebody", "content", 0),
    ("callnotes", "content", 0),
    ("meetingdescription", "content", 0),
    ("notes", "content", 0),
    ("comments", "content", 0),
    ("跟进记录", "content", 0),
    ("跟进内容", "content", 0),
    ("内容", "content", 0),
    ("活动内容", "content", 0),
    ("备注", "content", 1),
    ("outcome", "outcome", 0),
    ("calloutcome", "outcome", 0),
    ("推进结果", "outcome", 0),
    ("跟进结果", "outcome", 0),
    ("activitydate", "activity_date", 0),
    ("activitydatetime", "activity_date", 0),
    ("startdatetime", "activity_date", 0),
    ("duedate", "activity_date", 1),
    ("date", "activity_date", 1),
    ("跟进时间", "activity_date", 0),
    ("跟进日期", "activity_date", 0),
    ("活动日期", "activity_date", 0),
    ("活动时间", "activity_date", 0),
    ("日期", "activity_date", 1),
    ("nextfollowupat", "next_follow_up_at", 0),
    ("下次跟进时间", "next_follow_up_at", 0),
    ("下次跟进日期", "next_follow_up_at", 0),
    ("whoid", "who_ref", 0),
    ("whatid", "what_ref", 0),
    // Xiansuo's follow-up export: the kind and id of the record a follow-up is on.
    ("记录类型", "record_kind", 0),
    ("recordtype", "record_kind", 0),
    ("记录编号", "record_ref", 0),
    ("recordid", "record_ref", 0),
    ("accountid", "account_ref", 0),
    ("associatedcompanyids", "account_ref", 0),
    ("客户编号", "account_ref", 0),
    ("contactid", "contact_ref", 0),
    ("associatedcontactids", "contact_ref", 0),
    ("联系人编号", "contact_ref", 0),
    ("opportunityid", "opportunity_ref", 0),
    ("associateddealids", "opportunity_ref", 0),
    ("dealid", "opportunity_ref", 0),
    ("商机编号", "opportunity_ref", 0),
    ("销售机会编号", "opportunity_ref", 0),
    ("leadid", "lead_ref", 0),
    ("线索编号", "lead_ref", 0),
    ("accountname", "account_name", 0),
    ("associatedcompany", "account_name", 0),
    ("客户名称", "account_name", 0),
    ("客户", "account_name", 1),
    ("contactname", "contact_name", 0),
    ("associatedcontact", "contact_name", 0),
    ("联系人", "contact_name", 0),
    ("联系人姓名", "contact_name", 0),
    ("opportunityname", "opportunity_name", 0),
    ("associateddeal", "opportunity_name", 0),
    ("dealname", "opportunity_name", 0),
    ("商机名称", "opportunity_name", 0),
    ("销售机会", "opportunity_name", 0),
    ("assignedto", "owner", 0),
    ("activityassignedto", "owner", 0),
    ("跟进人", "owner", 0),
];

/// Where a column goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One of [`Object::targets`].
    Field(&'static str),
    /// A custom field of the object.
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

/// The mapping of one file's columns for one object.
#[derive(Debug, Clone)]
pub struct ObjectMapping {
    pub object: Object,
    pub headers: Vec<String>,
    columns: Vec<Option<(Target, u8)>>,
    /// Source stage names (normalised) → our stage code, from `stage:NAME` entries.
    pub stages: BTreeMap<String, String>,
    /// Targets whose naive times are UTC (a Xiansuo export's "(UTC)" columns); others are
    /// China Standard Time.
    utc: Vec<&'static str>,
}

impl ObjectMapping {
    /// Maps a header row. `overrides` (header → target, `custom.KEY` or `ignore`, and
    /// `stage:NAME` → stage code) come from a mapping file and win over the automatic mapping.
    /// A mapping without a column for the record's name is refused.
    pub fn new(
        object: Object,
        headers: &[String],
        custom: &[CustomColumn],
        overrides: &BTreeMap<String, String>,
    ) -> anyhow::Result<ObjectMapping> {
        let mapping = ObjectMapping::proposed(object, headers, custom, overrides)?;
        mapping.complete()?;
        Ok(mapping)
    }

    /// The mapping [`ObjectMapping::new`] makes, whether or not a column gives the name: what
    /// is shown to be corrected.
    pub fn proposed(
        object: Object,
        headers: &[String],
        custom: &[CustomColumn],
        overrides: &BTreeMap<String, String>,
    ) -> anyhow::Result<ObjectMapping> {
        let mut stages = BTreeMap::new();
        let mut by_header = BTreeMap::new();
        for (header, target) in overrides {
            match header.strip_prefix("stage:") {
                Some(stage) => {
                    stages.insert(mapping::normalise(stage), target.trim().to_owned());
                }
                None => {
                    by_header.insert(mapping::normalise(header), target.as_str());
                }
            }
        }
        let mut columns = Vec::with_capacity(headers.len());
        let mut utc = Vec::new();
        for header in headers {
            let key = mapping::normalise(header);
            let target = match by_header.get(&key) {
                Some(spec) => parse_spec(object, header, spec, custom)?.map(|t| (t, 0)),
                None => auto(object, &key, custom),
            };
            if let Some((Target::Field(field), _)) = &target {
                if key.ends_with("utc") {
                    utc.push(*field);
                }
            }
            columns.push(target);
        }
        Ok(ObjectMapping {
            object,
            headers: headers.to_vec(),
            columns,
            stages,
            utc,
        })
    }

    /// Refuses a mapping without a column for the record's name.
    pub fn complete(&self) -> anyhow::Result<()> {
        let object = self.object;
        let required: &[&str] = match object {
            Object::Account | Object::Opportunity => &["name"],
            Object::Contact => &["name", "first_name", "last_name"],
            Object::Activity => &[],
        };
        if !required.is_empty() && !required.iter().any(|f| self.maps(f)) {
            bail!(
                "no column gives the {}'s name (headers: {}); map a column to name (--mapping on the command line, `mapping` when starting an upload)",
                object.code(),
                self.headers.join(", ")
            );
        }
        Ok(())
    }

    /// True when some column goes to `field`.
    pub fn maps(&self, field: &str) -> bool {
        self.columns
            .iter()
            .flatten()
            .any(|(t, _)| matches!(t, Target::Field(f) if *f == field))
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

    /// The value of a row for a field: the first non-empty cell of the lowest rank.
    pub fn pick<'v>(&self, values: &'v [String], field: &str) -> Option<&'v str> {
        let mut best: Option<(u8, &str)> = None;
        for (i, column) in self.columns.iter().enumerate() {
            let Some((Target::Field(f), rank)) = column else {
                continue;
            };
            let value = values.get(i).map_or("", |v| v.trim());
            if *f == field && !value.is_empty() && best.is_none_or(|(r, _)| *rank < r) {
                best = Some((*rank, value));
            }
        }
        best.map(|(_, v)| v)
    }

    /// The custom field values of a row: (key, type, cell).
    pub fn custom<'v>(&self, values: &'v [String]) -> Vec<(&str, FieldType, &'v str)> {
        self.columns
            .iter()
            .enumerate()
            .filter_map(|(i, column)| match column {
                Some((Target::Custom { key, field_type }, _)) => {
                    let value = values.get(i).map_or("", |v| v.trim());
                    (!value.is_empty()).then_some((key.as_str(), *field_type, value))
                }
                _ => None,
            })
            .collect()
    }

    /// True when the naive times of `field` are in UTC.
    pub fn is_utc(&self, field: &str) -> bool {
        self.utc.contains(&field)
    }
}

fn auto(object: Object, key: &str, custom: &[CustomColumn]) -> Option<(Target, u8)> {
    let known = object
        .headers()
        .iter()
        .chain(COMMON)
        .find(|(h, _, _)| *h == key);
    if let Some((_, field, rank)) = known {
        return (*field != "ignore").then_some((Target::Field(field), *rank));
    }
    // A header that is the target's own name, as a mapping file names it (`account_ref`).
    if let Some(field) = object.targets().iter().find(|f| mapping::names(f, key)) {
        return Some((Target::Field(field), 0));
    }
    custom
        .iter()
        .find(|c| mapping::names(&c.key, key) || mapping::names(&c.label, key))
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

fn parse_spec(
    object: Object,
    header: &str,
    spec: &str,
    custom: &[CustomColumn],
) -> anyhow::Result<Option<Target>> {
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
            None => bail!(
                "the mapping file maps '{header}' to '{spec}', but {} have no custom field '{key}'",
                object.plural()
            ),
        };
    }
    match object.targets().iter().find(|f| **f == spec) {
        Some(field) => Ok(Some(Target::Field(field))),
        None => bail!(
            "the mapping file maps '{header}' to '{spec}', which is not a target for {} (accepted: {}, custom.KEY, ignore)",
            object.plural(),
            object.targets().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(object: Object, h: &[&str]) -> ObjectMapping {
        let headers: Vec<String> = h.iter().map(|s| (*s).to_owned()).collect();
        ObjectMapping::new(object, &headers, &[], &BTreeMap::new()).unwrap()
    }

    fn targets(m: &ObjectMapping) -> Vec<String> {
        m.describe()
            .into_iter()
            .map(|(_, t)| t.map_or_else(|| "-".to_owned(), ToString::to_string))
            .collect()
    }

    #[test]
    fn a_header_that_is_a_targets_own_name_maps_to_that_target() {
        for object in [
            Object::Account,
            Object::Contact,
            Object::Opportunity,
            Object::Activity,
        ] {
            let m = ObjectMapping::proposed(object, &names(object), &[], &BTreeMap::new()).unwrap();
            assert_eq!(targets(&m), names(object), "{}", object.code());
        }
    }

    fn names(object: Object) -> Vec<String> {
        object.targets().iter().map(|f| (*f).to_owned()).collect()
    }

    #[test]
    fn salesforce_headers_of_each_object_are_recognised() {
        let m = mapped(
            Object::Account,
            &[
                "Id",
                "Name",
                "ParentId",
                "Industry",
                "BillingCity",
                "BillingState",
                "Phone",
                "Website",
                "OwnerId",
                "Owner Name",
                "CreatedDate",
            ],
        );
        assert_eq!(
            targets(&m),
            [
                "external_id",
                "name",
                "-",
                "industry",
                "city",
                "province",
                "phone",
                "website",
                "owner",
                "owner",
                "created_at"
            ]
        );
        let m = mapped(
            Object::Opportunity,
            &[
                "Id",
                "AccountId",
                "Name",
                "Amount",
                "StageName",
                "CloseDate",
                "IsClosed",
                "IsWon",
                "Loss_Reason__c",
                "CreatedDate",
            ],
        );
        assert!(m.unmapped().is_empty(), "{:?}", m.unmapped());
        assert!(m.maps("lost_reason") && m.maps("account_ref") && m.maps("is_won"));
        let m = mapped(
            Object::Activity,
            &[
                "Id",
                "WhoId",
                "WhatId",
                "Subject",
                "Description",
                "ActivityDate",
                "Type",
                "Status",
            ],
        );
        assert_eq!(m.unmapped(), ["Status"]);
    }

    #[test]
    fn chinese_and_xiansuo_headers_are_recognised() {
        let m = mapped(
            Object::Opportunity,
            &[
                "商机名称",
                "客户名称",
                "销售阶段",
                "预计成交日期",
                "赢单/输单",
                "输单原因",
                "负责人",
                "创建时间",
            ],
        );
        assert!(m.unmapped().is_empty(), "{:?}", m.unmapped());
        assert!(m.maps("result"));
        let m = mapped(
            Object::Contact,
            &[
                "编号",
                "客户编号",
                "姓名",
                "职位",
                "电话",
                "邮箱",
                "外部编号",
                "创建时间 (UTC)",
            ],
        );
        assert_eq!(
            targets(&m),
            [
                "external_id",
                "account_ref",
                "name",
                "title",
                "phone",
                "email",
                "external_id",
                "created_at"
            ]
        );
        assert!(m.is_utc("created_at"));
        let values: Vec<String> = ["7", "3", "张三", "", "", "", "sf-1", ""]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(
            m.pick(&values, "external_id"),
            Some("7"),
            "编号 ranks first"
        );
    }

    #[test]
    fn mapping_files_override_and_name_stages() {
        let headers = vec!["Deal".to_owned(), "Phase".to_owned()];
        let mut overrides = BTreeMap::new();
        overrides.insert("Deal".to_owned(), "name".to_owned());
        overrides.insert("Phase".to_owned(), "stage".to_owned());
        overrides.insert("stage:Verbal Commit".to_owned(), "commitment".to_owned());
        let m = ObjectMapping::new(Object::Opportunity, &headers, &[], &overrides).unwrap();
        assert_eq!(targets(&m), ["name", "stage"]);
        assert_eq!(
            m.stages.get("verbalcommit").map(String::as_str),
            Some("commitment")
        );
        overrides.insert("Phase".to_owned(), "phase".to_owned());
        let e = ObjectMapping::new(Object::Opportunity, &headers, &[], &overrides).unwrap_err();
        assert!(e.to_string().contains("not a target"), "{e}");
        let e = ObjectMapping::new(Object::Account, &["Foo".to_owned()], &[], &BTreeMap::new())
            .unwrap_err();
        assert!(e.to_string().contains("name"), "{e}");
    }
}
