//! Public web forms: what an admin sets up (which lead fields and custom fields a form asks
//! for, its labels in Chinese and English, source, campaign, dedup policy, owner, auto-reply,
//! thank-you message or redirect, allowed origins, consent text) and what happens when a
//! visitor posts one ([`submit`]).
//!
//! Only admins set forms up. A new form ([`FormInput`]) or a change ([`FormChange`]) is read
//! from its request after the caller is known to be one, then checked as a whole; a form is
//! shown as [`ShownForm`], and its log of posts as [`FormSubmission`]s.
//!
//! A post becomes a lead through the same path as `POST /api/v1/leads` ([`records::prepare`]
//! and the [`Writer`]), acting as the admin who made the form, through the `api` channel, with
//! the form's source and campaign, the visit's UTM parameters and referrer, the form's owner
//! (or none, so that assignment rules decide) and the form's dedup policy (or its source's).
//! Every post is kept in `form_submissions` with its consent (time, text and version of the
//! text), its UTM parameters and any fields the form does not know (kept, not refused: a site
//! may add hidden fields of its own). A post the dedup policy refuses is answered like any
//! other: a visitor learns nothing about who is in the CRM.
//!
//! Abuse: a hidden honeypot field that people never fill ([`HONEYPOT`]) turns a post into a
//! pretended success that creates nothing; each client address may post a form
//! [`RATE_LIMIT`] times a minute; the same person (email, else phone, else the same values)
//! posting again within [`DOUBLE_SUBMIT_MS`] gets the first answer, and no second lead: the
//! submission row claims the person under a unique key before the lead is written.

use crate::admin::audit;
use crate::channels::mail;
use crate::error::{StoreError, StoreResult};
use crate::leads::dedup;
use crate::records::schema::LEADS;
use crate::records::writer::Writer;
use crate::records::{self, rfc3339, Ctx};
use crate::scope::Actor;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use utoipa::openapi::schema::{AdditionalProperties, Schema, Type};
use utoipa::openapi::{ArrayBuilder, ObjectBuilder, RefOr};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::FieldType;
use xiansuo_core::dedup::Policy;
use xiansuo_core::history::Channel;
use xiansuo_core::lead::{parse_source, BUILTIN_SOURCES};
use xiansuo_core::role::Role;
use xiansuo_core::validation::{present, Unread};
use xiansuo_core::{schema, Email, Invalid, Phone, Text};
use xiansuo_store::{Db, Param, Row, Tx};

/// The languages a form speaks.
pub const LANGUAGES: &[&str] = &["zh", "en"];

/// The hidden field that only robots fill in.
pub const HONEYPOT: &str = "website";

/// Posts per client address per form per minute.
pub const RATE_LIMIT: i64 = 10;
const RATE_WINDOW_MS: i64 = 60_000;

/// Within this time the same person posting the same form again gets the first answer.
pub const DOUBLE_SUBMIT_MS: i64 = 10_000;

/// The UTM parameters a submission keeps, in this order.
pub const UTM_PARAMETERS: &[&str] = &[
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
];

/// Field names a form post may carry besides the form's own fields.
const RESERVED: &[&str] = &[
    HONEYPOT,
    "lang",
    "consent",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
];

/// The variables auto-reply templates may use, as `{{name}}`.
pub const TEMPLATE_VARIABLES: &[&str] =
    &["name", "company", "title", "email", "phone", "form_name"];

/// How each lead field a form may ask for is entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Text,
    LongText,
    Email,
    Phone,
    Integer,
    Number,
    Date,
    Select(Vec<String>),
    MultiSelect(Vec<String>),
    Checkbox,
}

/// The standard lead fields a form may ask for: name, default labels (zh, en), input.
const LEAD_FIELDS: &[(&str, &str, &str, StandardInput)] = &[
    ("name", "姓名", "Name", StandardInput::Text),
    ("company", "公司", "Company", StandardInput::Text),
    ("title", "职位", "Job title", StandardInput::Text),
    ("phone", "手机", "Phone", StandardInput::Phone),
    ("email", "邮箱", "Email", StandardInput::Email),
    ("industry", "行业", "Industry", StandardInput::Text),
    ("province", "省份", "Province", StandardInput::Text),
    ("city", "城市", "City", StandardInput::Text),
    (
        "company_size",
        "公司规模（人数）",
        "Company size (employees)",
        StandardInput::Integer,
    ),
    ("description", "留言", "Message", StandardInput::LongText),
];

#[derive(Debug, Clone, Copy)]
enum StandardInput {
    Text,
    LongText,
    Email,
    Phone,
    Integer,
}

/// One field a form asks for, as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(description = "A field the form asks for")]
pub struct AskedField {
    /// A lead field (`email`) or a lead custom field (`custom.budget`).
    #[schema(schema_with = field_schema)]
    pub field: String,
    /// Must be filled in
    pub required: bool,
    #[schema(schema_with = label_zh_schema, required = true)]
    pub label_zh: Option<String>,
    #[schema(schema_with = label_en_schema, required = true)]
    pub label_en: Option<String>,
}

/// The email sent to the person who filled in a form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(
    description = "The email sent to whoever fills in the form (needs the form to ask for email)"
)]
pub struct AutoReply {
    /// Sent
    pub enabled: bool,
    #[schema(schema_with = subject_zh_schema, required = true)]
    pub subject_zh: Option<String>,
    #[schema(schema_with = body_zh_schema, required = true)]
    pub body_zh: Option<String>,
    #[schema(schema_with = subject_en_schema, required = true)]
    pub subject_en: Option<String>,
    #[schema(schema_with = body_en_schema, required = true)]
    pub body_en: Option<String>,
}

/// A text in Chinese and English: the thank-you message of a form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(
    description = "What a visitor sees after posting, in Chinese and English: the one in the \
                   visitor's language, else the other, else a standard thank-you"
)]
pub struct Localized {
    #[schema(schema_with = thank_you_zh_schema, required = true)]
    pub zh: Option<String>,
    #[schema(schema_with = thank_you_en_schema, required = true)]
    pub en: Option<String>,
}

/// The consent checkbox of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub text_zh: Option<String>,
    pub text_en: Option<String>,
    /// The box must be ticked to submit.
    pub required: bool,
}

/// The consent checkbox of a form as the API shows it: with the version of its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(description = "The consent checkbox, or null for none")]
pub struct ShownConsent {
    #[schema(schema_with = consent_zh_schema, required = true)]
    pub text_zh: Option<String>,
    #[schema(schema_with = consent_en_schema, required = true)]
    pub text_en: Option<String>,
    /// The box must be ticked to post
    pub required: bool,
    /// Goes up by one whenever the text changes
    pub version: i64,
}

/// A form as stored.
#[derive(Debug, Clone)]
pub struct Form {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub language: String,
    pub fields: Vec<AskedField>,
    pub source: String,
    pub campaign: Option<String>,
    /// What happens to a post from someone already held; `None`: the policy of the form's
    /// source (`/api/v1/dedup/policies`).
    pub dedup_policy: Option<Policy>,
    pub owner_id: Option<i64>,
    pub auto_reply: AutoReply,
    pub thank_you: Localized,
    pub redirect_url: Option<String>,
    pub allowed_origins: Vec<String>,
    pub consent: Option<Consent>,
    pub consent_version: i64,
    pub active: bool,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A form as the API shows it: its settings, its key and address, who made it and when.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = Form,
    description = "A web form (its settings as in FormInput, and these)"
)]
pub struct ShownForm {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    /// The random public key in its address
    pub key: String,
    /// /f/{key}: its page and where it posts
    pub public_path: String,
    /// Its name, shown as the page title
    pub name: String,
    #[schema(schema_with = language_schema)]
    pub language: String,
    /// The fields, in order
    #[schema(inline)]
    pub fields: Vec<AskedField>,
    #[schema(schema_with = source_schema)]
    pub source: String,
    #[schema(schema_with = campaign_schema, required = true)]
    pub campaign: Option<String>,
    #[schema(schema_with = policy_schema, required = true)]
    pub dedup_policy: Option<String>,
    /// Who owns the leads; null: the assignment rules decide
    #[schema(required = true, minimum = 1)]
    pub owner_id: Option<i64>,
    #[schema(inline)]
    pub auto_reply: AutoReply,
    #[schema(inline)]
    pub thank_you: Localized,
    /// Where browsers go after posting; null: the thank-you page
    #[schema(required = true)]
    pub redirect_url: Option<String>,
    #[schema(schema_with = shown_origins_schema)]
    pub allowed_origins: Vec<String>,
    #[schema(inline, required = true)]
    pub consent: Option<ShownConsent>,
    /// Takes posts
    pub active: bool,
    /// The admin who made it; leads are created as them
    #[schema(required = true, minimum = 1)]
    pub created_by: Option<i64>,
    #[schema(schema_with = created_at_schema)]
    pub created_at: String,
    #[schema(schema_with = updated_at_schema)]
    pub updated_at: String,
}

/// Every form, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "Every web form, oldest first")]
pub struct FormList {
    /// The forms
    pub items: Vec<ShownForm>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A form's address and the HTML to embed it in a page of another site.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "HTML to paste into a page of another site")]
pub struct FormEmbed {
    /// The form's public address
    pub url: String,
    #[schema(schema_with = language_schema)]
    pub language: String,
    /// A plain <form> posting to url; no script
    pub html: String,
}

fn from_json_column<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> T {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

impl Form {
    fn from_row(row: &Row) -> Form {
        Form {
            id: row.int("id"),
            key: row.text("form_key"),
            name: row.text("name"),
            language: row.text("language"),
            fields: from_json_column(row.opt_text("fields")),
            source: row.text("source"),
            campaign: row.opt_text("campaign"),
            dedup_policy: row
                .opt_text("dedup_policy")
                .and_then(|p| Policy::parse("dedup_policy", &p).ok()),
            owner_id: row.opt_int("owner_id"),
            auto_reply: from_json_column(row.opt_text("auto_reply")),
            thank_you: from_json_column(row.opt_text("thank_you")),
            redirect_url: row.opt_text("redirect_url"),
            allowed_origins: from_json_column(row.opt_text("allowed_origins")),
            consent: row
                .opt_text("consent")
                .and_then(|t| serde_json::from_str(&t).ok()),
            consent_version: row.int("consent_version"),
            active: row.int("active") != 0,
            created_by: row.opt_int("created_by"),
            created_at: row.int("created_at"),
            updated_at: row.int("updated_at"),
        }
    }

    /// The settings an admin can change, as a request would send them.
    fn settings(&self) -> FormInput {
        FormInput {
            name: Some(self.name.clone()),
            language: Some(self.language.clone()),
            fields: Some(self.fields.iter().map(FormField::from).collect()),
            source: Some(self.source.clone()),
            campaign: self.campaign.clone(),
            dedup_policy: self.dedup_policy.map(|p| p.code().to_owned()),
            owner_id: self.owner_id,
            auto_reply: Some(AutoReplyInput::from(&self.auto_reply)),
            thank_you: Some(ThankYouInput::from(&self.thank_you)),
            redirect_url: self.redirect_url.clone(),
            allowed_origins: Some(self.allowed_origins.clone()),
            consent: self.consent.as_ref().map(ConsentInput::from),
            active: Some(self.active),
        }
    }

    /// The form as the API shows it.
    pub fn shown(&self) -> ShownForm {
        ShownForm {
            id: self.id,
            key: self.key.clone(),
            public_path: format!("/f/{}", self.key),
            name: self.name.clone(),
            language: self.language.clone(),
            fields: self.fields.clone(),
            source: self.source.clone(),
            campaign: self.campaign.clone(),
            dedup_policy: self.dedup_policy.map(|p| p.code().to_owned()),
            owner_id: self.owner_id,
            auto_reply: self.auto_reply.clone(),
            thank_you: self.thank_you.clone(),
            redirect_url: self.redirect_url.clone(),
            allowed_origins: self.allowed_origins.clone(),
            consent: self.consent.as_ref().map(|c| ShownConsent {
                text_zh: c.text_zh.clone(),
                text_en: c.text_en.clone(),
                required: c.required,
                version: self.consent_version,
            }),
            active: self.active,
            created_by: self.created_by,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        }
    }

    /// The language to answer in: the one asked for if the form speaks it, else the form's.
    pub fn language_for(&self, asked: Option<&str>) -> &'static str {
        let asked = asked.map(str::trim).filter(|l| LANGUAGES.contains(l));
        match asked.unwrap_or(&self.language) {
            "en" => "en",
            _ => "zh",
        }
    }

    /// The thank-you message in `lang`, falling back to the other language, then a default.
    pub fn thank_you(&self, lang: &str) -> String {
        pick(&self.thank_you.zh, &self.thank_you.en, lang).unwrap_or_else(|| {
            if lang == "en" {
                "Thank you! We have received your message and will be in touch soon.".into()
            } else {
                "感谢您的提交！我们已收到您的信息，会尽快与您联系。".into()
            }
        })
    }

    /// The consent text in `lang`, falling back to the other language.
    pub fn consent_text(&self, lang: &str) -> Option<String> {
        self.consent
            .as_ref()
            .and_then(|c| pick(&c.text_zh, &c.text_en, lang))
    }
}

fn pick(zh: &Option<String>, en: &Option<String>, lang: &str) -> Option<String> {
    let (first, second) = if lang == "en" { (en, zh) } else { (zh, en) };
    first.clone().or_else(|| second.clone())
}

/// A lead custom field as a form shows it.
#[derive(Debug, Clone)]
pub struct CustomDef {
    pub key: String,
    pub label: String,
    pub field_type: FieldType,
    pub options: Vec<String>,
    pub required: bool,
}

/// The custom fields of leads, with their labels.
pub async fn lead_custom_fields(db: &Db) -> anyhow::Result<Vec<CustomDef>> {
    let rows = db
        .fetch_all(
            "SELECT key, label, field_type, options, required FROM custom_field_defs \
             WHERE record_type = 'lead' ORDER BY id",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CustomDef {
                key: r.text("key"),
                label: r.text("label"),
                field_type: FieldType::parse(&r.text("field_type"))?,
                options: serde_json::from_str(&r.text("options")).unwrap_or_default(),
                required: r.int("required") != 0,
            })
        })
        .collect()
}

/// A form field ready to be shown or read: its input name, label in one language, input kind.
#[derive(Debug, Clone)]
pub struct ShownField {
    /// The name of the input: `email`, `custom.budget`.
    pub name: String,
    pub label: String,
    pub required: bool,
    pub input: Input,
}

/// The fields of `form` in `lang`, with default labels where the form has none. A custom field
/// whose definition is gone is left out.
pub fn shown_fields(form: &Form, defs: &[CustomDef], lang: &str) -> Vec<ShownField> {
    form.fields
        .iter()
        .filter_map(|f| {
            // The form's own label in this language, else the field's usual one: a label in the
            // other language would be out of place.
            let own_label = if lang == "en" {
                f.label_en.clone()
            } else {
                f.label_zh.clone()
            };
            let (default_label, input) = if let Some(key) = f.field.strip_prefix("custom.") {
                let def = defs.iter().find(|d| d.key == key)?;
                let input = match def.field_type {
                    FieldType::Text => Input::Text,
                    FieldType::Number => Input::Number,
                    FieldType::Date => Input::Date,
                    FieldType::SingleSelect => Input::Select(def.options.clone()),
                    FieldType::MultiSelect => Input::MultiSelect(def.options.clone()),
                    FieldType::Boolean => Input::Checkbox,
                };
                (def.label.clone(), input)
            } else {
                let (_, zh, en, input) = LEAD_FIELDS.iter().find(|l| l.0 == f.field)?;
                let input = match input {
                    StandardInput::Text => Input::Text,
                    StandardInput::LongText => Input::LongText,
                    StandardInput::Email => Input::Email,
                    StandardInput::Phone => Input::Phone,
                    StandardInput::Integer => Input::Integer,
                };
                let label = if lang == "en" { *en } else { *zh };
                (label.to_owned(), input)
            };
            Some(ShownField {
                name: f.field.clone(),
                label: own_label.unwrap_or(default_label),
                required: f.required,
                input,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Settings: what a request sends, checking it, and storing forms.

/// One field a form asks for, as a request sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A field the form asks for")]
pub struct FormField {
    #[schema(schema_with = field_schema)]
    pub field: String,
    /// Must be filled in; default false; null: false
    #[serde(default)]
    pub required: Option<bool>,
    #[serde(default)]
    #[schema(schema_with = label_zh_schema)]
    pub label_zh: Option<String>,
    #[serde(default)]
    #[schema(schema_with = label_en_schema)]
    pub label_en: Option<String>,
}

impl From<&AskedField> for FormField {
    fn from(f: &AskedField) -> Self {
        FormField {
            field: f.field.clone(),
            required: Some(f.required),
            label_zh: f.label_zh.clone(),
            label_en: f.label_en.clone(),
        }
    }
}

/// The auto-reply of a form as a request sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "The email sent to whoever fills in the form (needs the form to ask for \
                   email): a subject with its body in Chinese, English or both, the visitor \
                   getting the one in their language, else the other; null: none"
)]
pub struct AutoReplyInput {
    /// Send it (needs a subject and a body); default false; null: false
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    #[schema(schema_with = subject_zh_schema)]
    pub subject_zh: Option<String>,
    #[serde(default)]
    #[schema(schema_with = body_zh_schema)]
    pub body_zh: Option<String>,
    #[serde(default)]
    #[schema(schema_with = subject_en_schema)]
    pub subject_en: Option<String>,
    #[serde(default)]
    #[schema(schema_with = body_en_schema)]
    pub body_en: Option<String>,
}

impl From<&AutoReply> for AutoReplyInput {
    fn from(r: &AutoReply) -> Self {
        AutoReplyInput {
            enabled: Some(r.enabled),
            subject_zh: r.subject_zh.clone(),
            body_zh: r.body_zh.clone(),
            subject_en: r.subject_en.clone(),
            body_en: r.body_en.clone(),
        }
    }
}

/// The thank-you message of a form as a request sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "What a visitor sees after posting, in Chinese and English: the one in the \
                   visitor's language, else the other, else a standard thank-you; null: the \
                   standard one"
)]
pub struct ThankYouInput {
    #[serde(default)]
    #[schema(schema_with = thank_you_zh_schema)]
    pub zh: Option<String>,
    #[serde(default)]
    #[schema(schema_with = thank_you_en_schema)]
    pub en: Option<String>,
}

impl From<&Localized> for ThankYouInput {
    fn from(t: &Localized) -> Self {
        ThankYouInput {
            zh: t.zh.clone(),
            en: t.en.clone(),
        }
    }
}

/// The consent checkbox of a form as a request sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "The consent checkbox, with its text in Chinese, English or both (a new \
                   text is a new version); null: none"
)]
pub struct ConsentInput {
    #[serde(default)]
    #[schema(schema_with = consent_zh_schema)]
    pub text_zh: Option<String>,
    #[serde(default)]
    #[schema(schema_with = consent_en_schema)]
    pub text_en: Option<String>,
    /// The box must be ticked; default true; null: true
    #[serde(default)]
    pub required: Option<bool>,
}

impl From<&Consent> for ConsentInput {
    fn from(c: &Consent) -> Self {
        ConsentInput {
            text_zh: c.text_zh.clone(),
            text_en: c.text_en.clone(),
            required: Some(c.required),
        }
    }
}

/// A new form as a request sends it. A field left out or null gets its default.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A new web form")]
pub struct FormInput {
    #[serde(default)]
    #[schema(schema_with = name_schema, required = true)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = new_language_schema)]
    pub language: Option<String>,
    /// The fields, in order, at most 50, each once: at least one of name, email and phone, and
    /// every lead custom field that every lead needs, as a required field
    #[serde(default)]
    #[schema(required = true, nullable = false, min_items = 1, max_items = 50)]
    pub fields: Option<Vec<FormField>>,
    #[serde(default)]
    #[schema(schema_with = new_source_schema)]
    pub source: Option<String>,
    #[serde(default)]
    #[schema(schema_with = campaign_schema)]
    pub campaign: Option<String>,
    #[serde(default)]
    #[schema(schema_with = policy_schema)]
    pub dedup_policy: Option<String>,
    /// Who owns the leads: an active user; null: the assignment rules decide
    #[serde(default)]
    #[schema(minimum = 1)]
    pub owner_id: Option<i64>,
    #[serde(default)]
    #[schema(inline)]
    pub auto_reply: Option<AutoReplyInput>,
    #[serde(default)]
    #[schema(inline)]
    pub thank_you: Option<ThankYouInput>,
    #[serde(default)]
    #[schema(schema_with = redirect_url_schema)]
    pub redirect_url: Option<String>,
    #[serde(default)]
    #[schema(schema_with = origins_schema)]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default)]
    #[schema(inline)]
    pub consent: Option<ConsentInput>,
    /// Takes posts; default true; null: true
    #[serde(default)]
    pub active: Option<bool>,
}

/// The settings of a form to change. A field left out keeps its value; null gives it its
/// default, as for a new form; a nested object replaces the old one as a whole.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "Changes to a web form: a field left out keeps its value, null gives it its \
                   default (as for a new form), and a nested object (auto_reply, thank_you, \
                   consent) replaces the old one as a whole. The whole form is checked again"
)]
pub struct FormChange {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = name_schema)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = new_language_schema)]
    pub language: Option<Option<String>>,
    /// The fields, in order, replacing the old ones: at most 50, each once; at least one of
    /// name, email and phone, and every lead custom field that every lead needs, as a required
    /// field
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, min_items = 1, max_items = 50)]
    pub fields: Option<Option<Vec<FormField>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = new_source_schema)]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = campaign_schema)]
    pub campaign: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = policy_schema)]
    pub dedup_policy: Option<Option<String>>,
    /// Who owns the leads: an active user; null: the assignment rules decide
    #[serde(default, deserialize_with = "present")]
    #[schema(minimum = 1)]
    pub owner_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(inline)]
    pub auto_reply: Option<Option<AutoReplyInput>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(inline)]
    pub thank_you: Option<Option<ThankYouInput>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = redirect_url_schema)]
    pub redirect_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = origins_schema)]
    pub allowed_origins: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(inline)]
    pub consent: Option<Option<ConsentInput>>,
    /// Takes posts; null: true
    #[serde(default, deserialize_with = "present")]
    pub active: Option<Option<bool>>,
}

impl FormChange {
    /// The settings of `current` with this change made.
    fn onto(self, current: &Form) -> FormInput {
        let now = current.settings();
        FormInput {
            name: self.name.unwrap_or(now.name),
            language: self.language.unwrap_or(now.language),
            fields: self.fields.unwrap_or(now.fields),
            source: self.source.unwrap_or(now.source),
            campaign: self.campaign.unwrap_or(now.campaign),
            dedup_policy: self.dedup_policy.unwrap_or(now.dedup_policy),
            owner_id: self.owner_id.unwrap_or(now.owner_id),
            auto_reply: self.auto_reply.unwrap_or(now.auto_reply),
            thank_you: self.thank_you.unwrap_or(now.thank_you),
            redirect_url: self.redirect_url.unwrap_or(now.redirect_url),
            allowed_origins: self.allowed_origins.unwrap_or(now.allowed_origins),
            consent: self.consent.unwrap_or(now.consent),
            active: self.active.unwrap_or(now.active),
        }
    }
}

// The shapes of the settings for the OpenAPI document, beside the rules below that they state.

fn name_schema() -> ObjectBuilder {
    schema::text(false, true, 200, "Shown as the page title")
}

fn language_schema() -> ObjectBuilder {
    schema::codes(LANGUAGES.iter().copied(), false, "zh or en")
}

fn new_language_schema() -> ObjectBuilder {
    schema::codes(
        LANGUAGES.iter().copied(),
        true,
        "The form's language, zh or en; default zh; null: zh",
    )
}

fn field_schema() -> ObjectBuilder {
    let names: Vec<&str> = LEAD_FIELDS.iter().map(|l| l.0).collect();
    schema::string(
        false,
        &format!(
            "A lead field ({}) or custom.KEY of a lead custom field",
            names.join(", ")
        ),
    )
    .pattern(Some(format!(
        "^({}|custom\\.[a-z][a-z0-9_]{{0,39}})$",
        names.join("|")
    )))
}

fn label_zh_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        200,
        "The Chinese label; empty or null: the field's own",
    )
}

fn label_en_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        200,
        "The English label; empty or null: the field's own",
    )
}

/// The source of a form's leads: admins add their own sources, so the built-in ones are only
/// examples.
fn source_code(nullable: bool, doc: &str) -> ObjectBuilder {
    schema::string(nullable, doc)
        .pattern(Some("^[a-z0-9_]{1,40}$"))
        .examples(BUILTIN_SOURCES.iter().map(|s| s.0))
}

fn source_schema() -> ObjectBuilder {
    source_code(false, "The leads' source")
}

fn new_source_schema() -> ObjectBuilder {
    source_code(true, "The leads' source; default web_form; null: web_form")
}

fn campaign_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        200,
        "The leads' campaign (市场活动); empty or null: none",
    )
}

fn policy_schema() -> ObjectBuilder {
    schema::codes(
        Policy::ALL.iter().map(|p| p.code()),
        true,
        "What a post from someone already held does (see /api/v1/dedup/policies); null: the \
         policy of the form's source",
    )
}

/// An auto-reply's subject or body: free text with `{{variables}}`.
fn template(what: &str, max: usize) -> ObjectBuilder {
    let variables: Vec<String> = TEMPLATE_VARIABLES
        .iter()
        .map(|v| format!("{{{{{v}}}}}"))
        .collect();
    schema::text(
        true,
        false,
        max,
        &format!(
            "{what}; may use {}; empty or null: none",
            variables.join(", ")
        ),
    )
}

fn subject_zh_schema() -> ObjectBuilder {
    template("The Chinese subject", 200)
}

fn body_zh_schema() -> ObjectBuilder {
    template("The Chinese plain-text body", 20_000)
}

fn subject_en_schema() -> ObjectBuilder {
    template("The English subject", 200)
}

fn body_en_schema() -> ObjectBuilder {
    template("The English plain-text body", 20_000)
}

fn thank_you_zh_schema() -> ObjectBuilder {
    schema::text(true, false, 2000, "In Chinese; empty or null: none")
}

fn thank_you_en_schema() -> ObjectBuilder {
    schema::text(true, false, 2000, "In English; empty or null: none")
}

fn consent_zh_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        2000,
        "The text next to the checkbox, in Chinese; empty or null: none",
    )
}

fn consent_en_schema() -> ObjectBuilder {
    schema::text(
        true,
        false,
        2000,
        "The text next to the checkbox, in English; empty or null: none",
    )
}

fn redirect_url_schema() -> RefOr<Schema> {
    let mut url = schema::web_url(
        "Send a browser here after posting instead of the thank-you page: an http:// or \
         https:// URL; empty or null: none",
    )
    .build();
    url.schema_type = schema::typed(Type::String, true);
    // Empty, like null, is none.
    url.pattern = url.pattern.map(|p| format!("^$|{p}"));
    RefOr::T(Schema::Object(url))
}

fn origins_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .schema_type(schema::typed(Type::Array, true))
        .items(
            schema::string(
                false,
                "An origin (scheme, host and port, no path), such as https://www.example.com",
            )
            .pattern(Some(
                r"^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?/?$",
            )),
        )
        .max_items(Some(50))
        .description(Some(
            "Sites whose pages and scripts may post the form (CORS), at most 50; empty or null: \
             plain form posts from anywhere, no script answers",
        ))
}

fn shown_origins_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(schema::string(
            false,
            "An origin, such as https://www.example.com",
        ))
        .description(Some(
            "Sites whose pages and scripts may post the form (CORS); empty: plain form posts \
             from anywhere, no script answers",
        ))
}

fn created_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it was made")
}

fn updated_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it last changed")
}

xiansuo_core::shape! {
    /// A language of forms, as the `lang` parameter of a query takes it, for the document of the
    /// handlers that read one (`inline(Option<LanguageCode>)`).
    pub LanguageCode => language_schema()
}

/// Free text of a setting at `path`: trimmed, at most `max` characters; empty is none.
fn opt_text(path: &str, value: Option<&str>, max: usize) -> Result<Option<String>, Invalid> {
    match value {
        None => Ok(None),
        Some(s) => Ok(Text::parse_optional(path, s, max)?.map(Text::into_string)),
    }
}

/// An http(s) URL with a host.
fn parse_url(path: &str, value: &str) -> Result<reqwest::Url, Invalid> {
    let url = reqwest::Url::parse(value.trim())
        .map_err(|_| Invalid::new(path, "must be an http:// or https:// URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Invalid::new(path, "must be an http:// or https:// URL"));
    }
    Ok(url)
}

/// Checks that a template uses only known `{{variables}}`.
fn check_template(path: &str, template: &str) -> Result<(), Invalid> {
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| Invalid::new(path, "has a {{ without its }}"))?;
        let name = after[..end].trim();
        if !TEMPLATE_VARIABLES.contains(&name) {
            return Err(Invalid::new(
                path,
                format!(
                    "uses {{{{{name}}}}}, which is not a variable (known: {})",
                    TEMPLATE_VARIABLES
                        .iter()
                        .map(|v| format!("{{{{{v}}}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Fills a template's `{{variables}}`; a variable without a value becomes empty.
pub fn render_template(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        out.push_str(&value(after[..end].trim()).unwrap_or_default());
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Settings parsed and checked, except what needs the database (the owner).
#[derive(Debug)]
struct Settings {
    name: String,
    language: String,
    fields: Vec<AskedField>,
    source: String,
    campaign: Option<String>,
    dedup_policy: Option<Policy>,
    owner_id: Option<i64>,
    auto_reply: AutoReply,
    thank_you: Localized,
    redirect_url: Option<String>,
    allowed_origins: Vec<String>,
    consent: Option<Consent>,
    active: bool,
}

fn parse_fields(
    value: Option<Vec<FormField>>,
    defs: &[CustomDef],
) -> Result<Vec<AskedField>, Invalid> {
    let items = match value {
        Some(items) if !items.is_empty() => items,
        _ => {
            return Err(Invalid::new(
                "fields",
                "is required: a list of {\"field\", \"required\", \"label_zh\", \"label_en\"}",
            ))
        }
    };
    if items.len() > 50 {
        return Err(Invalid::new("fields", "a form has at most 50 fields"));
    }
    let mut fields: Vec<AskedField> = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let path = format!("fields[{i}]");
        let field = item.field.trim().to_owned();
        let known = match field.strip_prefix("custom.") {
            Some(key) => defs.iter().any(|d| d.key == key),
            None => LEAD_FIELDS.iter().any(|l| l.0 == field),
        };
        if !known {
            let mut accepted: Vec<String> = LEAD_FIELDS.iter().map(|l| l.0.to_owned()).collect();
            accepted.extend(defs.iter().map(|d| format!("custom.{}", d.key)));
            return Err(Invalid::new(
                format!("{path}.field"),
                format!(
                    "'{field}' is not a lead field a form can ask for (accepted: {})",
                    accepted.join(", ")
                ),
            ));
        }
        if fields.iter().any(|f| f.field == field) {
            return Err(Invalid::new(
                format!("{path}.field"),
                format!("'{field}' is on the form twice"),
            ));
        }
        fields.push(AskedField {
            required: item.required.unwrap_or(false),
            label_zh: opt_text(&format!("{path}.label_zh"), item.label_zh.as_deref(), 200)?,
            label_en: opt_text(&format!("{path}.label_en"), item.label_en.as_deref(), 200)?,
            field,
        });
    }
    if !fields
        .iter()
        .any(|f| ["name", "email", "phone"].contains(&f.field.as_str()))
    {
        return Err(Invalid::new(
            "fields",
            "a form must ask for at least one of name, email or phone",
        ));
    }
    for def in defs.iter().filter(|d| d.required) {
        let asked = fields
            .iter()
            .any(|f| f.required && f.field == format!("custom.{}", def.key));
        if !asked {
            return Err(Invalid::new(
                "fields",
                format!(
                    "every lead needs custom.{}, so the form must ask for it as a required field",
                    def.key
                ),
            ));
        }
    }
    Ok(fields)
}

fn parse_auto_reply(value: Option<AutoReplyInput>) -> Result<AutoReply, Invalid> {
    let Some(input) = value else {
        return Ok(AutoReply::default());
    };
    let text = |name: &str, value: Option<&str>, max: usize| {
        opt_text(&format!("auto_reply.{name}"), value, max)
    };
    let reply = AutoReply {
        enabled: input.enabled.unwrap_or(false),
        subject_zh: text("subject_zh", input.subject_zh.as_deref(), 200)?,
        body_zh: text("body_zh", input.body_zh.as_deref(), 20_000)?,
        subject_en: text("subject_en", input.subject_en.as_deref(), 200)?,
        body_en: text("body_en", input.body_en.as_deref(), 20_000)?,
    };
    for (name, text) in [
        ("subject_zh", &reply.subject_zh),
        ("body_zh", &reply.body_zh),
        ("subject_en", &reply.subject_en),
        ("body_en", &reply.body_en),
    ] {
        if let Some(text) = text {
            check_template(&format!("auto_reply.{name}"), text)?;
        }
    }
    for (lang, subject, body) in [
        ("zh", &reply.subject_zh, &reply.body_zh),
        ("en", &reply.subject_en, &reply.body_en),
    ] {
        if subject.is_some() != body.is_some() {
            let missing = if subject.is_some() { "body" } else { "subject" };
            return Err(Invalid::new(
                format!("auto_reply.{missing}_{lang}"),
                "is required with the other half of the message",
            ));
        }
    }
    if reply.enabled && reply.subject_zh.is_none() && reply.subject_en.is_none() {
        return Err(Invalid::new(
            "auto_reply",
            "an enabled auto-reply needs a subject and a body in Chinese or English",
        ));
    }
    Ok(reply)
}

fn parse_origins(value: Option<Vec<String>>) -> Result<Vec<String>, Invalid> {
    let items = value.unwrap_or_default();
    if items.len() > 50 {
        return Err(Invalid::new("allowed_origins", "at most 50 origins"));
    }
    let mut origins: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("allowed_origins[{i}]");
        let url = parse_url(&path, item)?;
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(Invalid::new(
                path,
                "must be an origin (scheme, host and port, no path), such as https://www.example.com",
            ));
        }
        let origin = url.origin().ascii_serialization();
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

fn parse_consent(value: Option<ConsentInput>) -> Result<Option<Consent>, Invalid> {
    let Some(input) = value else {
        return Ok(None);
    };
    let consent = Consent {
        text_zh: opt_text("consent.text_zh", input.text_zh.as_deref(), 2000)?,
        text_en: opt_text("consent.text_en", input.text_en.as_deref(), 2000)?,
        required: input.required.unwrap_or(true),
    };
    if consent.text_zh.is_none() && consent.text_en.is_none() {
        return Err(Invalid::new(
            "consent",
            "needs its text in Chinese (text_zh) or English (text_en)",
        ));
    }
    Ok(Some(consent))
}

fn parse_settings(input: FormInput, defs: &[CustomDef]) -> Result<Settings, Invalid> {
    let name = opt_text("name", input.name.as_deref(), 200)?
        .ok_or_else(|| Invalid::new("name", "is required"))?;
    let language = match input.language {
        None => "zh".to_owned(),
        Some(l) if LANGUAGES.contains(&l.as_str()) => l,
        Some(_) => return Err(Invalid::new("language", "must be zh or en")),
    };
    let fields = parse_fields(input.fields, defs)?;
    let source = match input.source {
        None => "web_form".to_owned(),
        Some(s) => parse_source(&s)?,
    };
    let dedup_policy = input
        .dedup_policy
        .map(|s| Policy::parse("dedup_policy", &s))
        .transpose()?;
    let auto_reply = parse_auto_reply(input.auto_reply)?;
    if auto_reply.enabled && !fields.iter().any(|f| f.field == "email") {
        return Err(Invalid::new(
            "auto_reply",
            "an auto-reply needs the form to ask for email",
        ));
    }
    let thank_you = match input.thank_you {
        None => Localized::default(),
        Some(t) => Localized {
            zh: opt_text("thank_you.zh", t.zh.as_deref(), 2000)?,
            en: opt_text("thank_you.en", t.en.as_deref(), 2000)?,
        },
    };
    let redirect_url = opt_text("redirect_url", input.redirect_url.as_deref(), 2000)?
        .map(|u| parse_url("redirect_url", &u).map(String::from))
        .transpose()?;
    let allowed_origins = parse_origins(input.allowed_origins)?;
    let consent = parse_consent(input.consent)?;
    Ok(Settings {
        name,
        language,
        fields,
        source,
        campaign: opt_text("campaign", input.campaign.as_deref(), 200)?,
        dedup_policy,
        owner_id: input.owner_id,
        auto_reply,
        thank_you,
        redirect_url,
        allowed_origins,
        consent,
        active: input.active.unwrap_or(true),
    })
}

async fn check_owner(db: &Db, owner: i64) -> StoreResult<()> {
    let active = db
        .fetch_optional(
            "SELECT id FROM users WHERE id = ? AND active = 1 AND deleted_at IS NULL",
            &[Param::Int(owner)],
        )
        .await?
        .is_some();
    if active {
        Ok(())
    } else {
        Err(Invalid::new("owner_id", format!("no active user has id {owner}")).into())
    }
}

fn new_key() -> String {
    let mut bytes = [0_u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn settings_params(s: &Settings) -> anyhow::Result<Vec<Param>> {
    Ok(vec![
        Param::from(s.name.as_str()),
        Param::from(s.language.as_str()),
        Param::from(serde_json::to_string(&s.fields)?),
        Param::from(s.source.as_str()),
        Param::from(s.campaign.clone()),
        Param::from(s.dedup_policy.map(Policy::code)),
        Param::from(s.owner_id),
        Param::from(serde_json::to_string(&s.auto_reply)?),
        Param::from(serde_json::to_string(&s.thank_you)?),
        Param::from(s.redirect_url.clone()),
        Param::from(serde_json::to_string(&s.allowed_origins)?),
        Param::from(s.consent.as_ref().map(serde_json::to_string).transpose()?),
        Param::Int(i64::from(s.active)),
    ])
}

const SETTING_COLUMNS: &str = "name, language, fields, source, campaign, dedup_policy, owner_id, \
     auto_reply, thank_you, redirect_url, allowed_origins, consent, active";

/// Creates a form from its settings, with a new random key (admins only).
pub async fn create(
    db: &Db,
    actor: &Actor,
    new: Unread<FormInput>,
    now: DateTime<Utc>,
) -> StoreResult<ShownForm> {
    actor.require_admin("manage web forms")?;
    let new = new.read()?;
    let defs = lead_custom_fields(db).await?;
    let settings = parse_settings(new, &defs)?;
    if let Some(owner) = settings.owner_id {
        check_owner(db, owner).await?;
    }
    let ms = to_millis(now);
    let mut params = settings_params(&settings)?;
    params.extend([
        Param::from(new_key()),
        Param::Int(i64::from(settings.consent.is_some())),
        Param::Int(actor.user_id),
        Param::Int(ms),
        Param::Int(ms),
    ]);
    let mut tx = db.begin().await?;
    let id = tx
        .insert_returning_id(
            &format!(
                "INSERT INTO forms ({SETTING_COLUMNS}, form_key, consent_version, created_by, \
                 created_at, updated_at) VALUES ({})",
                vec!["?"; params.len()].join(", ")
            ),
            &params,
        )
        .await?;
    audit::created(&mut tx, Some(actor), now, audit::Setting::WebForm, id).await?;
    let form = load(&mut tx, id, false).await?;
    tx.commit().await?;
    Ok(form.shown())
}

async fn load(tx: &mut Tx, id: i64, lock: bool) -> StoreResult<Form> {
    let lock = if lock { tx.dialect().lock_rows() } else { "" };
    let row = tx
        .fetch_optional(
            &format!("SELECT * FROM forms WHERE id = ? AND deleted_at IS NULL{lock}"),
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("form"))?;
    Ok(Form::from_row(&row))
}

/// Changes some settings of a form (admins only); a nested object (`auto_reply`, `consent`,
/// `thank_you`) is replaced as a whole, and the whole form is checked again. A new consent
/// text gets a new consent version.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    change: Unread<FormChange>,
    now: DateTime<Utc>,
) -> StoreResult<ShownForm> {
    actor.require_admin("manage web forms")?;
    let change = change.read()?;
    let defs = lead_custom_fields(db).await?;
    let mut tx = db.begin().await?;
    let current = load(&mut tx, id, true).await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::WebForm, id).await?;
    let settings = parse_settings(change.onto(&current), &defs)?;
    if let Some(owner) = settings.owner_id.filter(|o| Some(*o) != current.owner_id) {
        check_owner(db, owner).await?;
    }
    let texts = |c: &Option<Consent>| c.as_ref().map(|c| (c.text_zh.clone(), c.text_en.clone()));
    let consent_version = match &settings.consent {
        Some(_) if texts(&settings.consent) != texts(&current.consent) => {
            current.consent_version + 1
        }
        _ => current.consent_version,
    };
    let mut params = settings_params(&settings)?;
    params.extend([
        Param::Int(consent_version),
        Param::Int(to_millis(now)),
        Param::Int(id),
    ]);
    let sets: Vec<String> = SETTING_COLUMNS
        .split(", ")
        .map(|c| format!("{} = ?", c.trim()))
        .collect();
    tx.execute(
        &format!(
            "UPDATE forms SET {}, consent_version = ?, updated_at = ? WHERE id = ?",
            sets.join(", ")
        ),
        &params,
    )
    .await?;
    snapshot
        .record(&mut tx, Some(actor), now, audit::Action::Update)
        .await?;
    let form = load(&mut tx, id, false).await?;
    tx.commit().await?;
    Ok(form.shown())
}

/// One form by id (admins only).
pub async fn get(db: &Db, actor: &Actor, id: i64) -> StoreResult<Form> {
    actor.require_admin("manage web forms")?;
    let row = db
        .fetch_optional(
            "SELECT * FROM forms WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("form"))?;
    Ok(Form::from_row(&row))
}

/// Every form, oldest first (admins only).
pub async fn list(db: &Db, actor: &Actor) -> StoreResult<FormList> {
    actor.require_admin("manage web forms")?;
    let items = db
        .fetch_all(
            "SELECT * FROM forms WHERE deleted_at IS NULL ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| Form::from_row(r).shown())
        .collect();
    Ok(FormList {
        items,
        next_cursor: None,
    })
}

/// Deletes a form: its public address stops answering; its submissions stay.
pub async fn delete(db: &Db, actor: &Actor, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    actor.require_admin("manage web forms")?;
    let change = audit::Edit {
        kind: audit::Setting::WebForm,
        id,
        action: audit::Action::Delete,
        by: actor,
        at: now,
    };
    let n = change
        .execute(
            db,
            "UPDATE forms SET deleted_at = ?, active = 0 WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(to_millis(now)), Param::Int(id)],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("form"));
    }
    Ok(())
}

/// The active form with this public key.
pub async fn by_key(db: &Db, key: &str) -> anyhow::Result<Option<Form>> {
    Ok(db
        .fetch_optional(
            "SELECT * FROM forms WHERE form_key = ? AND active = 1 AND deleted_at IS NULL",
            &[Param::from(key)],
        )
        .await?
        .map(|r| Form::from_row(&r)))
}

// ---------------------------------------------------------------------------------------------
// Submissions.

/// A post to a form, as the HTTP layer read it.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Name/value pairs in the order sent; a form post's values are strings, a JSON post's may
    /// be numbers, booleans or lists.
    pub values: Vec<(String, Value)>,
    pub client_ip: String,
    pub user_agent: Option<String>,
    /// The `Referer` header, used when no `referrer` field was sent.
    pub referer: Option<String>,
    /// The language asked for in the query string.
    pub language: Option<String>,
}

/// What a post ended in, for the visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub submission_id: i64,
    pub language: &'static str,
}

/// Why a post was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("too many submissions from this address; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
}

impl From<Invalid> for SubmitError {
    fn from(e: Invalid) -> Self {
        SubmitError::Store(e.into())
    }
}

impl From<anyhow::Error> for SubmitError {
    fn from(e: anyhow::Error) -> Self {
        SubmitError::Store(e.into())
    }
}

/// The values of a post, grouped by name.
struct Values(Vec<(String, Vec<Value>)>);

impl Values {
    fn group(pairs: Vec<(String, Value)>) -> Values {
        let mut out: Vec<(String, Vec<Value>)> = Vec::new();
        for (name, value) in pairs {
            let items = match value {
                Value::Array(items) => items,
                Value::Null => Vec::new(),
                other => vec![other],
            };
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some((_, existing)) => existing.extend(items),
                None => out.push((name, items)),
            }
        }
        Values(out)
    }

    fn get(&self, name: &str) -> &[Value] {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The first value as text, trimmed, if not blank.
    fn text(&self, name: &str) -> Option<String> {
        self.get(name).iter().find_map(|v| {
            let text = match v {
                Value::String(s) => s.trim().to_owned(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            (!text.is_empty()).then_some(text)
        })
    }

    fn as_json(&self, keep: impl Fn(&str) -> bool) -> Value {
        let map: Map<String, Value> = self
            .0
            .iter()
            .filter(|(n, _)| keep(n))
            .map(|(n, v)| {
                let value = if v.len() == 1 {
                    v[0].clone()
                } else {
                    Value::Array(v.clone())
                };
                (n.clone(), value)
            })
            .collect();
        Value::Object(map)
    }
}

fn truthy(values: &[Value]) -> bool {
    values.iter().any(|v| match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "on" | "true" | "1" | "yes" | "y" | "checked"
        ),
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        _ => false,
    })
}

/// Reads one field of a post into the value the lead API takes; `None` when left empty.
fn read_field(field: &ShownField, values: &[Value]) -> Result<Option<Value>, Invalid> {
    let name = field.name.as_str();
    let texts: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.trim().to_owned()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) if field.input == Input::Checkbox => Ok(b.to_string()),
            _ => Err(Invalid::new(name, "must be text")),
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    let Some(first) = texts.first() else {
        return Ok(match field.input {
            Input::Checkbox => Some(Value::Bool(false)),
            _ => None,
        });
    };
    Ok(Some(match &field.input {
        Input::Integer => Value::from(
            first
                .parse::<i64>()
                .map_err(|_| Invalid::new(name, "must be a whole number"))?,
        ),
        Input::Number => {
            let n = first
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| Invalid::new(name, "must be a number"))?;
            serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
        }
        Input::Checkbox => Value::Bool(truthy(values)),
        Input::MultiSelect(_) => Value::from(texts),
        _ => Value::from(first.as_str()),
    }))
}

/// Strips control characters and cuts a tracking value to `max` characters: a visitor cannot
/// fix a campaign link, so an odd value is kept as far as it fits rather than refused.
fn tracking_value(value: Option<String>, max: usize) -> Option<String> {
    let cleaned: String = value?
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    let cleaned = cleaned.trim_end().to_owned();
    (!cleaned.is_empty()).then_some(cleaned)
}

/// The lead body a post asks for, and what identifies the person for double submits.
struct Reading {
    lead: Map<String, Value>,
    fingerprint: String,
    consent_given: bool,
}

fn read_post(form: &Form, fields: &[ShownField], values: &Values) -> Result<Reading, Invalid> {
    let mut lead = Map::new();
    let mut custom = Map::new();
    for field in fields {
        let value = read_field(field, values.get(&field.name))?;
        let missing = match &value {
            None => true,
            Some(Value::Bool(b)) => !b,
            Some(_) => false,
        };
        if field.required && missing {
            return Err(Invalid::new(field.name.as_str(), "is required"));
        }
        let Some(value) = value else { continue };
        match field.name.strip_prefix("custom.") {
            Some(key) => {
                custom.insert(key.to_owned(), value);
            }
            None => {
                lead.insert(field.name.clone(), value);
            }
        }
    }
    let consent_given = truthy(values.get("consent"));
    if form.consent.as_ref().is_some_and(|c| c.required) && !consent_given {
        return Err(Invalid::new("consent", "must be accepted"));
    }
    // Whom to call the lead: a person's name, else how to reach them.
    if !lead.contains_key("name") {
        let contact = ["email", "phone", "company"]
            .iter()
            .find_map(|k| lead.get(*k).and_then(Value::as_str).map(str::to_owned));
        match contact {
            Some(name) => {
                lead.insert("name".into(), Value::from(name));
            }
            None => {
                let field = ["name", "email", "phone"]
                    .into_iter()
                    .find(|f| fields.iter().any(|s| s.name == *f))
                    .unwrap_or("name");
                return Err(Invalid::new(
                    field,
                    "is required: give a name, an email or a phone",
                ));
            }
        }
    }
    let email = lead
        .get("email")
        .and_then(Value::as_str)
        .and_then(|e| Email::parse(e).ok())
        .map(|e| format!("email:{}", e.normalized()));
    let phone = lead
        .get("phone")
        .and_then(Value::as_str)
        .and_then(|p| Phone::parse(p).ok())
        .map(|p| format!("phone:{}", p.e164()));
    let fingerprint = email.or(phone).unwrap_or_else(|| {
        let mut pairs: Vec<(&String, &Value)> = lead.iter().chain(custom.iter()).collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        format!("values:{}", json!(pairs))
    });
    if !custom.is_empty() {
        lead.insert("custom".into(), Value::Object(custom));
    }
    Ok(Reading {
        lead,
        fingerprint,
        consent_given,
    })
}

/// The user a form acts as: its creator, with an admin's reach (the admin who set the form up
/// chose its owner), or the first admin when the creator is gone.
async fn form_actor(db: &Db, form: &Form) -> anyhow::Result<Actor> {
    let creator = match form.created_by {
        Some(id) => Some(id),
        None => crate::admin::users::first_admin(db).await?,
    };
    let user_id = creator.ok_or_else(|| anyhow::anyhow!("no admin exists to act for the form"))?;
    Ok(Actor {
        user_id,
        username: String::new(),
        role: Role::Admin,
        team_id: None,
        locale: form.language.clone(),
        visible_owners: None,
        mask_phones: false,
        access: xiansuo_core::role::TokenScope::Admin,
    })
}

/// A row of `form_submissions` about to be written.
struct SubmissionRow<'a> {
    form: &'a Form,
    sub: &'a Submission,
    values: &'a Values,
    fields: &'a [ShownField],
    language: &'a str,
    consent_given: bool,
    now_ms: i64,
}

impl SubmissionRow<'_> {
    fn params(&self, status: &str, dedup_key: Option<&str>) -> Vec<Param> {
        let known = |n: &str| self.fields.iter().any(|f| f.name == n);
        let payload = self.values.as_json(|n| known(n));
        let extra = self.values.as_json(|n| !known(n) && !RESERVED.contains(&n));
        let mut params = vec![
            Param::Int(self.form.id),
            Param::from(status),
            Param::from(dedup_key.map(str::to_owned)),
            Param::from(self.sub.client_ip.as_str()),
            Param::from(tracking_value(self.sub.user_agent.clone(), 500)),
            Param::from(self.language),
            Param::from(payload.to_string()),
            Param::from(extra.to_string()),
        ];
        for utm in UTM_PARAMETERS {
            params.push(Param::from(tracking_value(self.values.text(utm), 200)));
        }
        params.push(Param::from(self.referrer()));
        let consent = self.consent_given && self.form.consent.is_some();
        params.extend([
            Param::Int(i64::from(consent)),
            Param::from(consent.then_some(self.now_ms)),
            Param::from(consent.then_some(self.form.consent_version)),
            Param::from(
                consent
                    .then(|| self.form.consent_text(self.language))
                    .flatten(),
            ),
            Param::Int(self.now_ms),
        ]);
        params
    }

    fn referrer(&self) -> Option<String> {
        tracking_value(
            self.values.text("referrer").or(self.sub.referer.clone()),
            2000,
        )
    }

    async fn insert(
        &self,
        tx: &mut Tx,
        status: &str,
        dedup_key: Option<&str>,
    ) -> anyhow::Result<Option<i64>> {
        let params = self.params(status, dedup_key);
        let row = tx
            .fetch_optional(
                &format!(
                    "INSERT INTO form_submissions (form_id, status, dedup_key, client_ip, \
                     user_agent, language, payload, extra, utm_source, utm_medium, utm_campaign, \
                     utm_term, utm_content, referrer, consent_given, consent_at, consent_version, \
                     consent_text, created_at) VALUES ({}) \
                     ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                    vec!["?"; params.len()].join(", ")
                ),
                &params,
            )
            .await?;
        Ok(row.map(|r| r.int("id")))
    }
}

/// Refuses a post when this address has posted this form [`RATE_LIMIT`] times in the last
/// minute, saying how long to wait.
async fn check_rate(db: &Db, form: &Form, ip: &str, now_ms: i64) -> Result<(), SubmitError> {
    let row = db
        .fetch_optional(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM form_submissions \
             WHERE form_id = ? AND client_ip = ? AND created_at > ?",
            &[
                Param::Int(form.id),
                Param::from(ip),
                Param::Int(now_ms - RATE_WINDOW_MS),
            ],
        )
        .await?;
    let (count, oldest) = row.map_or((0, None), |r| (r.int("n"), r.opt_int("oldest")));
    if count >= RATE_LIMIT {
        let wait_ms = oldest.unwrap_or(now_ms) + RATE_WINDOW_MS - now_ms;
        return Err(SubmitError::RateLimited {
            retry_after_secs: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1),
        });
    }
    Ok(())
}

/// Takes a post to `form`: checks it like the lead API would, creates the lead (or lets the
/// dedup policy merge or refuse it), records the submission and queues the auto-reply. See the
/// module documentation for the abuse guards.
pub async fn submit(
    db: &Db,
    writer: &Writer,
    form: &Form,
    sub: Submission,
    now: DateTime<Utc>,
) -> Result<Receipt, SubmitError> {
    let now_ms = to_millis(now);
    let values = Values::group(sub.values.clone());
    let language = form.language_for(values.text("lang").as_deref().or(sub.language.as_deref()));
    check_rate(db, form, &sub.client_ip, now_ms).await?;
    let defs = lead_custom_fields(db).await?;
    let fields = shown_fields(form, &defs, language);
    let mut row = SubmissionRow {
        form,
        sub: &sub,
        values: &values,
        fields: &fields,
        language,
        consent_given: false,
        now_ms,
    };
    let receipt = |submission_id| Receipt {
        submission_id,
        language,
    };

    if values.text(HONEYPOT).is_some() {
        let mut tx = db.begin().await?;
        let id = row.insert(&mut tx, "spam", None).await?;
        tx.commit().await?;
        return Ok(receipt(id.unwrap_or_default()));
    }

    let reading = read_post(form, &fields, &values)?;
    row.consent_given = reading.consent_given;
    let lead = lead_body(db, form, &row, &reading).await?;

    // Claim the post for this person before anything is written, so that a double submit
    // (two clicks, two tabs, a retrying script) waits for nothing and creates nothing.
    let dedup_key = hex::encode(Sha256::digest(
        format!("{}\n{}", form.id, reading.fingerprint).as_bytes(),
    ));
    let mut tx = db.begin().await?;
    // A claim older than the double-submit window no longer holds.
    tx.execute(
        "UPDATE form_submissions SET dedup_key = NULL WHERE dedup_key = ? AND created_at <= ?",
        &[
            Param::from(dedup_key.as_str()),
            Param::Int(now_ms - DOUBLE_SUBMIT_MS),
        ],
    )
    .await?;
    let Some(submission_id) = row.insert(&mut tx, "pending", Some(&dedup_key)).await? else {
        let first = tx
            .fetch_optional(
                "SELECT id FROM form_submissions WHERE dedup_key = ?",
                &[Param::from(dedup_key.as_str())],
            )
            .await?
            .map(|r| r.int("id"))
            .unwrap_or_default();
        tx.commit().await?;
        return Ok(receipt(first));
    };
    tx.commit().await?;

    let actor = form_actor(db, form).await?;
    let ctx = Ctx {
        hooks: crate::hooks::ALL,
        db,
        actor: &actor,
        channel: Channel::Api,
        now,
    };
    let create = async {
        let prepared = records::prepare(ctx, &LEADS, &Value::Object(lead)).await?;
        writer.create(prepared).await
    };
    let created = match form.dedup_policy {
        Some(policy) => dedup::with_policy(policy, create).await,
        None => create.await,
    };
    let (status, lead_id, error) = match created {
        Ok(lead) => ("created", lead["id"].as_i64(), None),
        Err(StoreError::Duplicate(duplicate)) => match &duplicate.merged {
            Some(lead) => ("merged", lead["id"].as_i64(), None),
            // Refused by the dedup policy. The visitor is told nothing about who is already
            // held; the submission records it.
            None => ("blocked", None, Some(duplicate.to_string())),
        },
        Err(e) => {
            let mut tx = db.begin().await?;
            if matches!(e, StoreError::Invalid(_)) {
                // As the lead API: a refused value leaves nothing behind.
                tx.execute(
                    "DELETE FROM form_submissions WHERE id = ?",
                    &[Param::Int(submission_id)],
                )
                .await?;
            } else {
                set_outcome(&mut tx, submission_id, "failed", None, Some(&e.to_string())).await?;
            }
            tx.commit().await?;
            return Err(e.into());
        }
    };
    let mut tx = db.begin().await?;
    set_outcome(&mut tx, submission_id, status, lead_id, error.as_deref()).await?;
    queue_auto_reply(&mut tx, form, language, &reading.lead, now_ms).await?;
    tx.commit().await?;
    Ok(receipt(submission_id))
}

/// The lead a post asks for: its fields, the form's source, campaign and owner, the visit's
/// UTM parameters and referrer.
async fn lead_body(
    db: &Db,
    form: &Form,
    row: &SubmissionRow<'_>,
    reading: &Reading,
) -> anyhow::Result<Map<String, Value>> {
    let mut lead = reading.lead.clone();
    lead.insert("source".into(), Value::from(form.source.as_str()));
    if let Some(campaign) = &form.campaign {
        lead.insert("campaign".into(), Value::from(campaign.as_str()));
    }
    for utm in UTM_PARAMETERS {
        if let Some(v) = tracking_value(row.values.text(utm), 200) {
            lead.insert((*utm).into(), Value::from(v));
        }
    }
    if let Some(referrer) = row.referrer() {
        lead.insert("referrer".into(), Value::from(referrer));
    }
    if let Some(owner) = form.owner_id {
        // An owner who has left since the form was set up is no reason to lose the lead.
        if check_owner(db, owner).await.is_ok() {
            lead.insert("owner_id".into(), Value::from(owner));
        } else {
            tracing::warn!(
                form = form.id,
                owner,
                "the form's owner is no longer active; the lead is left to the assignment rules"
            );
        }
    }
    Ok(lead)
}

async fn set_outcome(
    tx: &mut Tx,
    id: i64,
    status: &str,
    lead_id: Option<i64>,
    error: Option<&str>,
) -> anyhow::Result<()> {
    tx.execute(
        "UPDATE form_submissions SET status = ?, lead_id = ?, error = ? WHERE id = ?",
        &[
            Param::from(status),
            Param::from(lead_id),
            Param::from(error.map(str::to_owned)),
            Param::Int(id),
        ],
    )
    .await?;
    Ok(())
}

/// Queues the form's auto-reply to the address the visitor gave, in the visitor's language
/// (or the other one when the form has no message in it).
async fn queue_auto_reply(
    tx: &mut Tx,
    form: &Form,
    language: &str,
    lead: &Map<String, Value>,
    now_ms: i64,
) -> anyhow::Result<()> {
    if !form.auto_reply.enabled {
        return Ok(());
    }
    let Some(to) = lead.get("email").and_then(Value::as_str) else {
        return Ok(());
    };
    let Ok(to) = Email::parse(to) else {
        return Ok(());
    };
    let Some(reply) = form.auto_reply.rendered(&form.name, language, lead) else {
        return Ok(());
    };
    mail::enqueue(tx, to.entered(), &reply.subject, &reply.body, now_ms).await
}

/// An auto-reply as one visitor gets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedReply {
    /// The visitor's language (`zh`, `en`).
    pub language: String,
    pub subject: String,
    pub body: String,
}

impl AutoReply {
    /// The message a visitor writing in `language` gets — the one in their language, else the
    /// other — with its `{{variables}}` filled from the lead `lead` and the form's name.
    pub fn rendered(
        &self,
        form_name: &str,
        language: &str,
        lead: &Map<String, Value>,
    ) -> Option<RenderedReply> {
        let (subject, body) = match (
            &self.subject_zh,
            &self.body_zh,
            &self.subject_en,
            &self.body_en,
        ) {
            (_, _, Some(s), Some(b)) if language == "en" => (s, b),
            (Some(s), Some(b), _, _) => (s, b),
            (_, _, Some(s), Some(b)) => (s, b),
            _ => return None,
        };
        let value = |name: &str| -> Option<String> {
            if name == "form_name" {
                return Some(form_name.to_owned());
            }
            lead.get(name).and_then(Value::as_str).map(str::to_owned)
        };
        Some(RenderedReply {
            language: language.to_owned(),
            subject: render_template(subject, value),
            body: render_template(body, value),
        })
    }
}

/// The auto-reply `auto_reply` (as `POST /api/v1/forms` takes it), checked as saving it would
/// be, and what a visitor of each language in `samples` would get with that sample
/// submission, before anything is saved. A refused template is an `Invalid` naming its field.
pub fn preview_auto_reply(
    auto_reply: AutoReplyInput,
    form_name: &str,
    samples: &[(&str, Map<String, Value>)],
) -> Result<Vec<RenderedReply>, Invalid> {
    let reply = parse_auto_reply(Some(auto_reply))?;
    Ok(samples
        .iter()
        .filter_map(|(language, sample)| reply.rendered(form_name, language, sample))
        .collect())
}

/// A post to a form as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A post to a web form")]
pub struct FormSubmission {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    /// The form
    #[schema(minimum = 1)]
    pub form_id: i64,
    /// The lead made (or merged into); null for spam, blocked or failed
    #[schema(required = true, minimum = 1)]
    pub lead_id: Option<i64>,
    #[schema(schema_with = status_schema)]
    pub status: String,
    /// The visitor's address
    pub client_ip: String,
    /// The visitor's browser
    #[schema(required = true)]
    pub user_agent: Option<String>,
    #[schema(schema_with = language_schema)]
    pub language: String,
    #[schema(schema_with = values_schema)]
    pub values: Value,
    #[schema(schema_with = extra_schema)]
    pub extra: Value,
    /// From the post
    #[schema(required = true)]
    pub utm_source: Option<String>,
    /// From the post
    #[schema(required = true)]
    pub utm_medium: Option<String>,
    /// From the post
    #[schema(required = true)]
    pub utm_campaign: Option<String>,
    /// From the post
    #[schema(required = true)]
    pub utm_term: Option<String>,
    /// From the post
    #[schema(required = true)]
    pub utm_content: Option<String>,
    /// The referrer field, else the Referer header
    #[schema(required = true)]
    pub referrer: Option<String>,
    #[schema(inline)]
    pub consent: SubmissionConsent,
    /// Why it was blocked or failed
    #[schema(required = true)]
    pub error: Option<String>,
    #[schema(schema_with = posted_at_schema)]
    pub created_at: String,
}

/// The consent a visitor gave with a post.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "The consent given")]
pub struct SubmissionConsent {
    /// The box was ticked
    pub given: bool,
    #[schema(schema_with = consent_at_schema, required = true)]
    pub at: Option<String>,
    /// The version of the text
    #[schema(required = true)]
    pub version: Option<i64>,
    /// The text, in the visitor's language
    #[schema(required = true)]
    pub text: Option<String>,
}

/// A page of a form's submissions, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "A page of submissions, newest first")]
pub struct FormSubmissionPage {
    /// Submissions
    pub items: Vec<FormSubmission>,
    /// Pass as cursor for the next page; null on the last
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl FormSubmission {
    fn read(r: &Row) -> FormSubmission {
        let parse =
            |name: &str| serde_json::from_str::<Value>(&r.text(name)).unwrap_or_else(|_| json!({}));
        FormSubmission {
            id: r.int("id"),
            form_id: r.int("form_id"),
            lead_id: r.opt_int("lead_id"),
            status: r.text("status"),
            client_ip: r.text("client_ip"),
            user_agent: r.opt_text("user_agent"),
            language: r.text("language"),
            values: parse("payload"),
            extra: parse("extra"),
            utm_source: r.opt_text("utm_source"),
            utm_medium: r.opt_text("utm_medium"),
            utm_campaign: r.opt_text("utm_campaign"),
            utm_term: r.opt_text("utm_term"),
            utm_content: r.opt_text("utm_content"),
            referrer: r.opt_text("referrer"),
            consent: SubmissionConsent {
                given: r.int("consent_given") != 0,
                at: r.opt_int("consent_at").map(rfc3339),
                version: r.opt_int("consent_version"),
                text: r.opt_text("consent_text"),
            },
            error: r.opt_text("error"),
            created_at: rfc3339(r.int("created_at")),
        }
    }
}

fn status_schema() -> ObjectBuilder {
    schema::codes(
        SUBMISSION_STATUSES.iter().copied(),
        false,
        "pending, created, merged (into an existing lead by the dedup policy), blocked (by the \
         dedup policy), spam (the honeypot was filled), failed",
    )
}

fn posted_values(doc: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .description(Some(doc))
}

fn values_schema() -> ObjectBuilder {
    posted_values("The form's fields as posted, by name")
}

fn extra_schema() -> ObjectBuilder {
    posted_values("Fields the form does not know, kept as posted, by name")
}

fn posted_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it was posted")
}

fn consent_at_schema() -> ObjectBuilder {
    schema::date_time(true, "When")
}

xiansuo_core::shape! {
    /// A status of submissions, as the `status` parameter of their list takes it, for the document
    /// of its handler (`inline(Option<SubmissionStatus>)`).
    pub SubmissionStatus => schema::codes(SUBMISSION_STATUSES.iter().copied(), false, "A status")
}

/// The statuses a submission can have.
pub const SUBMISSION_STATUSES: &[&str] =
    &["pending", "created", "merged", "blocked", "spam", "failed"];

/// A form's submissions, newest first: `?status=`, `?limit=` (1–500, default 50) and
/// `?cursor=` (the `next_cursor` of the previous page).
pub async fn submissions(
    db: &Db,
    actor: &Actor,
    form_id: i64,
    params: &[(String, String)],
) -> StoreResult<FormSubmissionPage> {
    get(db, actor, form_id).await?;
    let mut conditions = vec!["form_id = ?".to_owned()];
    let mut binds = vec![Param::Int(form_id)];
    let mut limit = 50_i64;
    for (name, value) in params {
        match name.as_str() {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| Invalid::new("limit", "must be a whole number from 1 to 500"))?;
            }
            "cursor" => {
                let before: i64 = value.parse().map_err(|_| {
                    Invalid::new(
                        "cursor",
                        "is not a cursor from a previous page of this list",
                    )
                })?;
                conditions.push("id < ?".into());
                binds.push(Param::Int(before));
            }
            "status" => {
                if !SUBMISSION_STATUSES.contains(&value.as_str()) {
                    return Err(Invalid::new(
                        "status",
                        format!(
                            "'{value}' is not one of: {}",
                            SUBMISSION_STATUSES.join(", ")
                        ),
                    )
                    .into());
                }
                conditions.push("status = ?".into());
                binds.push(Param::from(value.as_str()));
            }
            other => {
                return Err(Invalid::new(
                    other,
                    "is not a filter of submissions (accepted: status, limit, cursor)",
                )
                .into())
            }
        }
    }
    let mut rows = db
        .fetch_all(
            &format!(
                "SELECT * FROM form_submissions WHERE {} ORDER BY id DESC LIMIT {}",
                conditions.join(" AND "),
                limit + 1
            ),
            &binds,
        )
        .await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.int("id").to_string())
    } else {
        None
    };
    Ok(FormSubmissionPage {
        items: rows.iter().map(FormSubmission::read).collect(),
        next_cursor: next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings of a request's body, read as the API reads it.
    fn settings(body: Value) -> Result<Settings, Invalid> {
        parse_settings(Unread::<FormInput>::json(body).read()?, &[])
    }

    fn form(fields: Value) -> Form {
        let settings = settings(json!({"name": "官网咨询", "fields": fields})).unwrap();
        Form {
            id: 1,
            key: "k".into(),
            name: settings.name,
            language: settings.language,
            fields: settings.fields,
            source: settings.source,
            campaign: None,
            dedup_policy: settings.dedup_policy,
            owner_id: None,
            auto_reply: settings.auto_reply,
            thank_you: settings.thank_you,
            redirect_url: None,
            allowed_origins: Vec::new(),
            consent: None,
            consent_version: 0,
            active: true,
            created_by: Some(1),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn templates_accept_known_variables_only_and_render_missing_ones_empty() {
        assert!(check_template("t", "您好 {{ name }}，感谢关注{{form_name}}").is_ok());
        let err = check_template("auto_reply.body_zh", "{{nmae}}").unwrap_err();
        assert_eq!(err.field, "auto_reply.body_zh");
        assert!(err.message.contains("{{nmae}}"), "{}", err.message);
        assert!(check_template("t", "{{name").is_err());
        let out = render_template("{{name}}（{{company}}）: {{ form_name }}", |v| {
            (v == "name").then(|| "张伟".to_owned())
        });
        assert_eq!(out, "张伟（）: ");
    }

    #[test]
    fn settings_name_the_field_that_is_wrong() {
        let err = |body: Value| settings(body).unwrap_err();
        assert_eq!(err(json!({"fields": [{"field": "name"}]})).field, "name");
        assert_eq!(
            err(json!({"name": "x", "fields": [{"field": "salary"}]})).field,
            "fields[0].field"
        );
        assert_eq!(
            err(json!({"name": "x", "fields": [{"field": "company"}]})).field,
            "fields"
        );
        assert_eq!(
            err(json!({"name": "x", "fields": [{"field": "name"}], "allowed_origins": ["https://a.example.com/page"]})).field,
            "allowed_origins[0]"
        );
        assert_eq!(
            err(json!({"name": "x", "fields": [{"field": "name"}], "auto_reply": {"enabled": true, "subject_zh": "hi", "body_zh": "hi"}})).field,
            "auto_reply"
        );
        assert_eq!(
            err(json!({"name": "x", "fields": [{"field": "name"}], "colour": "red"})).field,
            "colour"
        );
        assert_eq!(
            err(json!({"name": "x", "fields": [{"field": "name", "colour": "red"}]})).field,
            "fields[0].colour"
        );
        assert_eq!(
            err(json!({"name": "x", "fields": [{"field": "email"}], "auto_reply": {"colour": "red"}})).field,
            "auto_reply.colour"
        );
        let ok = settings(
            json!({"name": "x", "fields": [{"field": "email"}], "allowed_origins": ["https://WWW.Example.com/"]}),
        )
        .unwrap();
        assert_eq!(ok.allowed_origins, ["https://www.example.com"]);
    }

    #[test]
    fn a_post_without_a_name_is_named_after_its_email_and_fingerprinted_by_it() {
        let f = form(json!([{"field": "email", "required": true}, {"field": "company_size"}]));
        let fields = shown_fields(&f, &[], "zh");
        let values = Values::group(vec![
            ("email".into(), json!("Wang@Example.com")),
            ("company_size".into(), json!("50")),
        ]);
        let reading = read_post(&f, &fields, &values).unwrap();
        assert_eq!(reading.lead["name"], "Wang@Example.com");
        assert_eq!(reading.lead["company_size"], 50);
        assert_eq!(reading.fingerprint, "email:wang@example.com");
        let bad = Values::group(vec![
            ("email".into(), json!("a@example.com")),
            ("company_size".into(), json!("many")),
        ]);
        assert_eq!(
            read_post(&f, &fields, &bad).err().unwrap().field,
            "company_size"
        );
        let empty = Values::group(vec![("email".into(), json!("  "))]);
        assert_eq!(read_post(&f, &fields, &empty).err().unwrap().field, "email");
    }

    #[test]
    fn tracking_values_are_cut_not_refused() {
        assert_eq!(
            tracking_value(Some(format!(" {}\u{7}", "a".repeat(300))), 200).map(|v| v.len()),
            Some(200)
        );
        assert_eq!(tracking_value(Some("  ".into()), 200), None);
    }
}
