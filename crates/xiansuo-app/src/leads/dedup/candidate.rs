//! A record a new or changed lead matches, as the caller may see it ([`Candidate`]): whole
//! within their data scope, only who holds it outside it (撞单). Its own module so that the
//! error a refused create answers with can carry candidates without using the dedup engine.

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{SchemaType, Type};
use utoipa::openapi::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat};
use utoipa::ToSchema;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::dedup::Signal;
use xiansuo_core::schema;

/// Who holds a record outside the caller's scope: who they are, nothing of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldBy {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
}

/// A record a lead matches, as the caller may see it. Within their scope it is shown whole
/// (`id`, `record`); outside it, only who holds it (`owner`, none when the lead waits in the
/// public pool) and whether it is protected, never its data (撞单). The fields of the other
/// case are left out of the JSON.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = DuplicateCandidate,
    description = "A record a lead matches. Within your data scope it is shown whole \
    (`visible: true`, `id`, `record`); outside it only who holds it (`owner`, null for a lead in \
    the public pool) and whether it is protected — never its data (撞单)"
)]
pub struct Candidate {
    #[serde(rename = "type")]
    #[schema(schema_with = candidate_type_schema)]
    pub record_type: RecordType,
    /// The record's id (visible records only)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    pub id: Option<i64>,
    #[schema(schema_with = signals_schema)]
    pub signals: Vec<Signal>,
    /// Whether the record is within your scope
    pub visible: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = candidate_record_schema)]
    pub record: Option<Value>,
    /// Outside the scope: who holds it, `None` inside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = held_by_schema)]
    pub owner: Option<Option<HeldBy>>,
    /// The lead waits in the public pool, held by nobody (records outside your scope only)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub in_pool: Option<bool>,
    /// The holder's protection period (保护期) is running (records outside your scope only)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub protected: Option<bool>,
    /// Outside the scope: when the protection period ends, if it is running.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = protected_until_schema)]
    pub protected_until: Option<Option<String>>,
}

/// Every signal, in the order of their codes in the document.
const SIGNALS: [Signal; 5] = [
    Signal::Phone,
    Signal::Email,
    Signal::ExternalId,
    Signal::PersonAndCompany,
    Signal::Company,
];

/// The signals of a match or a group of duplicates, as the document describes them.
pub fn signals_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(schema::codes(SIGNALS.map(Signal::code), false, "A signal"))
        .description(Some(
            "What the records share: the same phone (E.164), the same email (any case) or the \
             same external id — certain; the same person (`person_key`: case, width, spaces and \
             word order ignored) at the same company (legal forms and regions ignored) — \
             probable; or only the company — weak",
        ))
}

fn candidate_type_schema() -> ObjectBuilder {
    schema::codes(["lead", "contact", "account"], false, "The record type")
}

/// Any JSON value: a record as the record engine shows it, custom fields and all.
pub(crate) fn any_value(doc: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .description(Some(doc))
}

fn candidate_record_schema() -> ObjectBuilder {
    any_value("The record as its endpoint shows it (visible records only)")
}

fn int64(nullable: bool, doc: &str) -> ObjectBuilder {
    schema::scalar(Type::Integer, nullable, doc)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}

fn held_by_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(schema::typed(Type::Object, true))
        .description(Some(
            "Who holds the record (records outside your scope only); null for a lead in the \
             public pool",
        ))
        .property("id", int64(false, "The user id").minimum(Some(1)))
        .required("id")
        .property("username", schema::string(false, "The username"))
        .required("username")
        .property("display_name", schema::string(true, "The display name"))
        .required("display_name")
}

fn protected_until_schema() -> ObjectBuilder {
    schema::date_time(
        true,
        "When the protection period ends; null when none is running (records outside your \
         scope only)",
    )
}
