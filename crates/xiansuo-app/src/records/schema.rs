//! The shape of each record the API serves: its fields, how each is parsed from a request, how
//! it is stored, whether it can be filtered or sorted on. The generic record engine
//! ([`crate::records`]) and the OpenAPI document are both driven from these tables, so the API,
//! the storage and the documentation cannot drift apart.

use xiansuo_core::choice::{ChoiceKind, Choices};
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::dedup;
use xiansuo_core::lead::{ActivityType, DemandStage, Grade, LeadStatus, Outcome, Urgency};
use xiansuo_core::{Invalid, Text};

/// How a field is parsed, stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The record's id.
    Id,
    /// Free text of at most this many characters.
    Text(usize),
    /// A phone number; the E.164 form goes to `<column>_normalized`.
    Phone,
    /// An email address; the lower-cased form goes to `<column>_normalized`.
    Email,
    /// Read-only: computed from another field.
    Derived,
    /// One of a fixed set of codes.
    Code(CodeSet),
    /// A list of tags.
    Tags,
    /// The record's custom fields, checked against their definitions.
    Custom,
    /// A user id: the owner. Must be a user the actor may hand records to.
    Owner,
    /// Read-only user id (who created it).
    UserRef,
    /// The id of another record, which the actor must be able to see.
    Ref(RecordType),
    /// Read-only id of another record, set by an action (such as conversion).
    Link(RecordType),
    /// Read-only id of a public pool (公海), set by assignment, release and recycling.
    PoolRef,
    /// A whole number in a range.
    Int { min: i64, max: i64 },
    /// A money amount with at most two decimals, stored as cents in `<column>_cents`.
    Money,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// Read-only instant (created, updated, deleted).
    Timestamp,
    /// Read-only probability from 0 to 1 set by the prediction model; stored as -1 (shown as
    /// null) while no model has scored the record, so that it sorts and pages like a number.
    Probability,
}

/// The code lists a [`Kind::Code`] field can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSet {
    LeadStatus,
    Grade,
    Source,
    ActivityType,
    Outcome,
    Stage,
    Urgency,
    DemandStage,
}

/// The default pipeline stages with their win probabilities (percent), as migration 0007 seeds
/// them (with `paid` as the won stage and a `lost` stage); admins edit them in `pipeline_stages`.
pub const STAGES: &[(&str, &str, &str, i64)] = &[
    ("met", "见到客户", "Met", 10),
    ("found", "发现机会", "Opportunity found", 20),
    ("confirmed", "确认机会", "Opportunity confirmed", 30),
    ("needs", "明确需求", "Needs defined", 40),
    ("proposal", "方案报价", "Proposal", 60),
    ("commitment", "客户承诺", "Commitment", 80),
    ("acceptance", "验收", "Acceptance", 90),
    ("paid", "收款", "Paid", 100),
];

impl CodeSet {
    /// Parses a code of this set into its stored form. Statuses, sources and outcomes are the
    /// admin's lists in `choices` and take a label too; for a status this is its fixed type
    /// (the record engine also stores an added status, see [`Choices::parse_status`]).
    pub fn parse(self, choices: &Choices, value: &str) -> Result<String, Invalid> {
        Ok(match self {
            CodeSet::LeadStatus => choices.parse_status(value)?.0.code().to_owned(),
            CodeSet::Grade => Grade::parse(value)?.code().to_owned(),
            CodeSet::Source => choices.parse_source(value)?,
            CodeSet::ActivityType => ActivityType::parse(value)?.code().to_owned(),
            CodeSet::Outcome => choices.parse_listed(ChoiceKind::Outcome, "outcome", value)?,
            CodeSet::Urgency => Urgency::parse(value)?.code().to_owned(),
            CodeSet::DemandStage => DemandStage::parse(value)?.code().to_owned(),
            // Stages are editable: the stages table decides which exist and resolves a name to
            // its code (crate::sales::pipeline).
            CodeSet::Stage => Text::parse("stage", value, 60)?.into_string(),
        })
    }

    /// The accepted codes, for the OpenAPI document.
    pub fn codes(self) -> Vec<String> {
        fn all<T: Copy + std::fmt::Display>(v: &[T]) -> Vec<String> {
            v.iter().map(ToString::to_string).collect()
        }
        match self {
            CodeSet::LeadStatus => all(LeadStatus::ALL),
            CodeSet::Grade => all(Grade::ALL),
            CodeSet::Source => Vec::new(),
            CodeSet::ActivityType => all(ActivityType::ALL),
            CodeSet::Outcome => all(Outcome::ALL),
            CodeSet::Urgency => all(Urgency::ALL),
            CodeSet::DemandStage => all(DemandStage::ALL),
            CodeSet::Stage => STAGES.iter().map(|s| s.0.to_owned()).collect(),
        }
    }
}

/// One field of a record.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The name in the API and, except for money, the column.
    pub name: &'static str,
    pub kind: Kind,
    /// Must be given on create.
    pub required: bool,
    /// Can be used as a list filter (`?name=value`).
    pub filter: bool,
    /// Can be sorted on (`?sort=name` or `?sort=-name`); only non-null columns.
    pub sort: bool,
    /// What the field means, for the OpenAPI document.
    pub doc: &'static str,
}

impl Field {
    /// True when a request may set the field.
    pub fn writable(&self) -> bool {
        !matches!(
            self.kind,
            Kind::Id
                | Kind::Derived
                | Kind::Timestamp
                | Kind::Probability
                | Kind::UserRef
                | Kind::Link(_)
                | Kind::PoolRef
        )
    }

    /// The column that stores the field.
    pub fn column(&self) -> String {
        match self.kind {
            Kind::Money => format!("{}_cents", self.name),
            _ => self.name.to_owned(),
        }
    }
}

const fn f(name: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field {
        name,
        kind,
        required: false,
        filter: false,
        sort: false,
        doc,
    }
}

const fn required(mut field: Field) -> Field {
    field.required = true;
    field
}

const fn filter(mut field: Field) -> Field {
    field.filter = true;
    field
}

const fn sort(mut field: Field) -> Field {
    field.sort = true;
    field
}

/// A record type served under `/api/v1/{path}`.
#[derive(Debug)]
pub struct Table {
    pub record_type: RecordType,
    /// The SQL table and the URL segment.
    pub name: &'static str,
    /// The schema name in the OpenAPI document.
    pub schema: &'static str,
    pub fields: &'static [Field],
    /// Columns searched by `?q=`.
    pub search: &'static [&'static str],
    /// Code fields and their value on create when none is given.
    pub defaults: &'static [(&'static str, &'static str)],
    /// Normalised keys kept in step with the field they are computed from.
    pub keys: &'static [Key],
}

/// A read-only column computed from a text field whenever that field is written, such as the
/// company key that duplicates are found by.
#[derive(Debug)]
pub struct Key {
    /// The field it is computed from.
    pub source: &'static str,
    /// The column (and read-only field) that holds it.
    pub column: &'static str,
    pub compute: fn(&str) -> Option<String>,
}

const COMPANY_KEY_DOC: &str =
    "The company name normalised for finding duplicates: legal forms (有限公司, Co., Ltd.), \
     regions (（北京）, 上海…), punctuation and case removed";

const PERSON_KEY_DOC: &str =
    "The name normalised for finding duplicates: case, width, spaces and punctuation ignored, a Latin name's word order too (张 伟 and 张伟 meet, Wei Zhang and zhang wei meet); names differing in characters or digits stay apart (章玮, 测试2)";

impl Table {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// True when a request may set the field to null: not for required fields, sortable ones
    /// (sorting needs a value), ones with a default, or the source (it defaults to the channel).
    pub fn nullable(&self, field: &Field) -> bool {
        !(field.required
            || field.sort
            || field.kind == Kind::Code(CodeSet::Source)
            || self.defaults.iter().any(|(name, _)| *name == field.name))
    }

    /// The table that stores records of `record_type`.
    pub fn of(record_type: RecordType) -> &'static Table {
        match record_type {
            RecordType::Lead => &LEADS,
            RecordType::Account => &ACCOUNTS,
            RecordType::Contact => &CONTACTS,
            RecordType::Opportunity => &OPPORTUNITIES,
        }
    }
}

const ID: Field = sort(f("id", Kind::Id, "Unique id"));
const OWNER: Field = filter(f(
    "owner_id",
    Kind::Owner,
    "The user who owns the record; defaults to its creator",
));
const TAGS: Field = filter(f(
    "tags",
    Kind::Tags,
    "Tags; filter with ?tags=a,b (any of them)",
));
const CUSTOM: Field = f(
    "custom",
    Kind::Custom,
    "Custom fields, by key; filter with ?custom.KEY=value",
);
const DESCRIPTION: Field = f("description", Kind::Text(5000), "Notes");
const EXTERNAL_ID: Field = filter(f(
    "external_id",
    Kind::Text(200),
    "The record's id in the system it came from (a Salesforce Id, a HubSpot Record ID, the id column of another Xiansuo's export). Importing accounts, contacts, opportunities or activities again updates the record with the same external_id instead of adding another; a lead import takes it as a certain duplicate and follows its dedup choice",
));
const CREATED_BY: Field = f(
    "created_by",
    Kind::UserRef,
    "The user who created the record",
);
const CREATED_AT: Field = sort(f(
    "created_at",
    Kind::Timestamp,
    "When it was created (RFC 3339); filter with ?created_from=&created_to=",
));
const UPDATED_AT: Field = sort(f(
    "updated_at",
    Kind::Timestamp,
    "When it last changed (RFC 3339); filter with ?updated_from=&updated_to=",
));
const DELETED_AT: Field = f(
    "deleted_at",
    Kind::Timestamp,
    "When it was deleted; list deleted records with ?deleted=true",
);

pub static LEADS: Table = Table {
    record_type: RecordType::Lead,
    name: "leads",
    schema: "Lead",
    fields: &[
        ID,
        sort(required(f(
            "name",
            Kind::Text(200),
            "The person's name (姓名)",
        ))),
        f("person_key", Kind::Derived, PERSON_KEY_DOC),
        f("company", Kind::Text(200), "Company (公司)"),
        f("company_key", Kind::Derived, COMPANY_KEY_DOC),
        f("title", Kind::Text(100), "Job title (职位)"),
        f(
            "phone",
            Kind::Phone,
            "Phone as entered; any country's format, Chinese if no country code. phone_verified says whether it was read as a number: an import keeps a phone it cannot read, unverified, without phone_normalized",
        ),
        f("phone_normalized", Kind::Derived, "The phone in E.164"),
        f("email", Kind::Email, "Email as entered"),
        f("email_normalized", Kind::Derived, "The email, lower-cased"),
        filter(f(
            "duplicate_of",
            Kind::Ref(RecordType::Lead),
            "The lead this one was flagged as a possible duplicate of when it was created (dedup policy warn, with the tag possible_duplicate); set null to dismiss",
        )),
        f(
            "merged_into",
            Kind::Link(RecordType::Lead),
            "The lead this one was merged into (merged leads are archived: list them with ?deleted=true)",
        ),
        filter(f(
            "source",
            Kind::Code(CodeSet::Source),
            "Where the lead came from (来源); defaults to the channel",
        )),
        filter(f(
            "status",
            Kind::Code(CodeSet::LeadStatus),
            "Status (状态): one of the six fixed types, or a status an admin added (GET /api/v1/choices?kind=status), by code or label; an added status is stored as its type here and itself in status_detail. As a filter, an added status matches only its own leads",
        )),
        f(
            "status_detail",
            Kind::Derived,
            "The status an admin added that the lead is in (such as no_answer 未接通 under working), or null for a fixed status",
        ),
        f(
            "disqualify_reason",
            Kind::Text(200),
            "Why the lead was disqualified (无效原因)",
        ),
        OWNER,
        f(
            "assigned_at",
            Kind::Timestamp,
            "When the current owner got the lead; follow-up and recycle timers start here",
        ),
        f(
            "pool_id",
            Kind::PoolRef,
            "The public pool (公海) the lead waits in, unowned; null while someone holds it",
        ),
        f(
            "pooled_at",
            Kind::Timestamp,
            "When the lead last went into a pool",
        ),
        f(
            "protected_until",
            Kind::Timestamp,
            "The protection period (保护期): not recycled to a pool before this instant",
        ),
        f(
            "last_activity_at",
            Kind::Timestamp,
            "When the last follow-up was logged on the lead",
        ),
        sort(filter(f(
            "score",
            Kind::Int {
                min: -100_000,
                max: 100_000,
            },
            "Score (评分)",
        ))),
        sort(filter(f(
            "win_probability",
            Kind::Probability,
            "Win probability (赢单概率) from 0 to 1 under the model trained on past outcomes (POST /api/v1/prediction/train); null before any model. Filter with win_probability=0.5.. (at least), ..0.2 (at most) or 0.2..0.5",
        ))),
        filter(f("grade", Kind::Code(CodeSet::Grade), "Grade A–E (等级)")),
        filter(f(
            "tier",
            Kind::Derived,
            "Potential (潜力) from the score and the scoring settings' thresholds: high, medium or low",
        )),
        filter(f(
            "urgency",
            Kind::Code(CodeSet::Urgency),
            "Urgency (紧急程度): urgent (within a week), soon (1 week–1 month), later (1–3 months), slow (after 3 months)",
        )),
        filter(f(
            "demand_stage",
            Kind::Code(CodeSet::DemandStage),
            "Demand stage (需求阶段): awareness, consideration, decision",
        )),
        filter(f("industry", Kind::Text(100), "Industry (行业)")),
        filter(f("province", Kind::Text(50), "Province (省份)")),
        filter(f("city", Kind::Text(50), "City (城市)")),
        filter(f(
            "campaign",
            Kind::Text(200),
            "The marketing campaign (市场活动) the lead came through; a web form sets its own",
        )),
        filter(f(
            "utm_source",
            Kind::Text(200),
            "utm_source of the visit the lead came from",
        )),
        filter(f(
            "utm_medium",
            Kind::Text(200),
            "utm_medium of the visit the lead came from",
        )),
        filter(f(
            "utm_campaign",
            Kind::Text(200),
            "utm_campaign of the visit the lead came from",
        )),
        f(
            "utm_term",
            Kind::Text(200),
            "utm_term of the visit the lead came from",
        ),
        f(
            "utm_content",
            Kind::Text(200),
            "utm_content of the visit the lead came from",
        ),
        f(
            "referrer",
            Kind::Text(2000),
            "The page the lead came from (a web form takes it from the Referer header when not sent)",
        ),
        f(
            "company_size",
            Kind::Int {
                min: 0,
                max: 10_000_000,
            },
            "Number of employees",
        ),
        DESCRIPTION,
        EXTERNAL_ID,
        TAGS,
        CUSTOM,
        f(
            "converted_account_id",
            Kind::Link(RecordType::Account),
            "The account (客户) the lead was converted into",
        ),
        f(
            "converted_contact_id",
            Kind::Link(RecordType::Contact),
            "The contact (联系人) the lead was converted into",
        ),
        f(
            "converted_opportunity_id",
            Kind::Link(RecordType::Opportunity),
            "The opportunity (销售机会) created when the lead was converted, if any",
        ),
        f(
            "converted_at",
            Kind::Timestamp,
            "When the lead was converted (for a lead imported as converted, the conversion date of the file, else the import's time)",
        ),
        f(
            "disqualified_at",
            Kind::Timestamp,
            "When the lead was last disqualified (for a lead imported as disqualified, the date of the file, else the import's time); null while it is not disqualified",
        ),
        CREATED_BY,
        CREATED_AT,
        UPDATED_AT,
        DELETED_AT,
    ],
    search: &["name", "company", "phone_normalized", "email_normalized"],
    defaults: &[("status", "new")],
    keys: &[
        Key {
            source: "company",
            column: "company_key",
            compute: dedup::company_key,
        },
        Key {
            source: "name",
            column: "person_key",
            compute: dedup::person_key,
        },
    ],
};

pub static ACCOUNTS: Table = Table {
    record_type: RecordType::Account,
    name: "accounts",
    schema: "Account",
    fields: &[
        ID,
        sort(required(f(
            "name",
            Kind::Text(200),
            "Company or person name (客户名称)",
        ))),
        f("company_key", Kind::Derived, COMPANY_KEY_DOC),
        filter(f("industry", Kind::Text(100), "Industry")),
        filter(f("province", Kind::Text(50), "Province")),
        filter(f("city", Kind::Text(50), "City")),
        f("address", Kind::Text(500), "Address"),
        f("phone", Kind::Phone, "Phone as entered"),
        f("phone_normalized", Kind::Derived, "The phone in E.164"),
        f("website", Kind::Text(300), "Website"),
        f(
            "company_size",
            Kind::Int {
                min: 0,
                max: 10_000_000,
            },
            "Number of employees",
        ),
        DESCRIPTION,
        EXTERNAL_ID,
        OWNER,
        TAGS,
        CUSTOM,
        CREATED_BY,
        CREATED_AT,
        UPDATED_AT,
        DELETED_AT,
    ],
    search: &["name", "phone_normalized"],
    defaults: &[],
    keys: &[Key {
        source: "name",
        column: "company_key",
        compute: dedup::company_key,
    }],
};

pub static CONTACTS: Table = Table {
    record_type: RecordType::Contact,
    name: "contacts",
    schema: "Contact",
    fields: &[
        ID,
        filter(f(
            "account_id",
            Kind::Ref(RecordType::Account),
            "The account (客户) the contact works for",
        )),
        sort(required(f("name", Kind::Text(200), "Name (姓名)"))),
        f("person_key", Kind::Derived, PERSON_KEY_DOC),
        f("title", Kind::Text(100), "Job title"),
        f("phone", Kind::Phone, "Phone as entered"),
        f("phone_normalized", Kind::Derived, "The phone in E.164"),
        f("email", Kind::Email, "Email as entered"),
        f("email_normalized", Kind::Derived, "The email, lower-cased"),
        f("wechat", Kind::Text(100), "WeChat id"),
        DESCRIPTION,
        EXTERNAL_ID,
        OWNER,
        TAGS,
        CUSTOM,
        CREATED_BY,
        CREATED_AT,
        UPDATED_AT,
        DELETED_AT,
    ],
    search: &["name", "phone_normalized", "email_normalized"],
    defaults: &[],
    keys: &[Key {
        source: "name",
        column: "person_key",
        compute: dedup::person_key,
    }],
};

pub static OPPORTUNITIES: Table = Table {
    record_type: RecordType::Opportunity,
    name: "opportunities",
    schema: "Opportunity",
    fields: &[
        ID,
        sort(required(f(
            "name",
            Kind::Text(200),
            "Name of the deal (销售机会)",
        ))),
        filter(f(
            "account_id",
            Kind::Ref(RecordType::Account),
            "The account",
        )),
        filter(f(
            "contact_id",
            Kind::Ref(RecordType::Contact),
            "The main contact",
        )),
        filter(f(
            "lead_id",
            Kind::Ref(RecordType::Lead),
            "The lead it was converted from",
        )),
        f("amount", Kind::Money, "Amount, at most two decimals"),
        filter(f(
            "stage",
            Kind::Code(CodeSet::Stage),
            "Pipeline stage (阶段)",
        )),
        f(
            "expected_close_date",
            Kind::Date,
            "Expected close date, YYYY-MM-DD",
        ),
        f(
            "probability",
            Kind::Int { min: 0, max: 100 },
            "Win probability in percent; follows the stage unless set, null sets the stage's back",
        ),
        filter(f(
            "result",
            Kind::Derived,
            "open, won or lost: follows the kind of the stage",
        )),
        f(
            "close_reason",
            Kind::Derived,
            "Why the deal was won or lost (POST /api/v1/opportunities/{id}/win or /lose)",
        ),
        f(
            "closed_at",
            Kind::Timestamp,
            "When the deal was won or lost",
        ),
        DESCRIPTION,
        EXTERNAL_ID,
        OWNER,
        TAGS,
        CUSTOM,
        CREATED_BY,
        CREATED_AT,
        UPDATED_AT,
        DELETED_AT,
    ],
    search: &["name"],
    defaults: &[("stage", "met")],
    keys: &[],
};

/// Every record type with its own CRUD endpoints.
pub static TABLES: &[&Table] = &[&LEADS, &ACCOUNTS, &CONTACTS, &OPPORTUNITIES];
