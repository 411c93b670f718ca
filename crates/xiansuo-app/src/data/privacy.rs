//! A person's rights over their data (PIPL / GDPR): an admin can export everything Xiansuo holds
//! about a person, found by phone or e-mail, and erase it on request.
//!
//! The person is every lead and contact (deleted ones too) whose normalised phone or e-mail is
//! the one given. [`export`] gives their records, activities, history, attachments' details
//! and web-form submissions as one JSON document, and records the export like any other.
//! [`erase`] removes the personal data in one transaction and keeps what counts as aggregates:
//! the records stay, with their status, source, owner, score, company, dates and non-text
//! custom fields, so reports still add up. Cleared are names (replaced by [`ERASED_NAME`]),
//! phones, e-mails, WeChat ids, titles, descriptions, text custom fields, activity and
//! comment texts, attachments, the values in their history, form-submission payloads,
//! webhook bodies and queued e-mails that carry the phone or e-mail, notifications about them,
//! merge images that could restore them, and the reported rows of uploaded imports that hold
//! them. Each erased record gets a history entry `erase`
//! saying who erased it and why, without any of the erased values.

use crate::error::StoreResult;
use crate::records::schema::{Table, CONTACTS, LEADS};
use crate::records::search::{self, Searchable};
use crate::records::{custom_fields, history};
use crate::records::{rfc3339, to_json, Ctx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::contact::{Email, Phone};
use xiansuo_core::custom_field::{FieldType, RecordType};
use xiansuo_core::schema;
use xiansuo_core::validation::Unread;
use xiansuo_core::{Invalid, Text};
use xiansuo_store::{Cell, Db, Param, Reader, Row, Tx};

/// The name an erased lead or contact keeps: names are required, and a list still shows a row.
pub const ERASED_NAME: &str = "已擦除";

/// The text left in activities, comments and notifications about an erased person.
const ERASED_TEXT: &str = "（已擦除）";

/// Whom a request is about: a phone (E.164) and/or an e-mail (normalised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(description = "The person searched for: the phone in E.164 and the e-mail normalised")]
pub struct Person {
    /// The phone in E.164; null when only an e-mail was given
    #[schema(required = true)]
    pub phone: Option<String>,
    /// The e-mail, normalised; null when only a phone was given
    #[schema(required = true)]
    pub email: Option<String>,
}

/// Whom to erase and why: `{"phone"?, "email"?, "reason"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PersonErasure, description = "Whom to erase and why")]
pub struct Erasure {
    /// The person's phone, in any format (a number without a country code is taken as Chinese)
    #[serde(default)]
    #[schema(schema_with = phone_schema)]
    pub phone: Option<String>,
    /// The person's e-mail
    #[serde(default)]
    #[schema(schema_with = email_schema)]
    pub email: Option<String>,
    /// Why, e.g. the person's request and its date
    #[schema(schema_with = reason_schema)]
    pub reason: String,
}

fn phone_schema() -> ObjectBuilder {
    schema::text(true, false, 100, "The person's phone, in any format")
}

fn email_schema() -> ObjectBuilder {
    schema::text(true, false, 320, "The person's e-mail")
}

fn reason_schema() -> ObjectBuilder {
    schema::text(
        false,
        true,
        1_000,
        "Why, e.g. the person's request and its date",
    )
}

/// Everything held about a person, as `GET /api/v1/privacy/export` answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "Everything held about the person")]
pub struct PersonData {
    pub person: Person,
    /// When the export was made
    #[schema(schema_with = exported_at_schema)]
    pub exported_at: String,
    /// Their leads, as the API shows leads
    pub leads: Vec<Value>,
    /// Their contacts, as the API shows contacts
    pub contacts: Vec<Value>,
    /// Activities on those records, every column
    pub activities: Vec<Value>,
    /// The history of those records, old and new values as they were stored
    pub history: Vec<Value>,
    /// Their attachments' names, types and sizes (not their content)
    pub attachments: Vec<Value>,
    /// The web-form posts that made their leads
    pub form_submissions: Vec<Value>,
}

fn exported_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When the export was made")
}

/// How much of each kind of data an erasure removed or cleared.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(description = "How many of each kind were erased")]
pub struct ErasedCounts {
    pub leads: u64,
    pub contacts: u64,
    pub activities: u64,
    pub attachments: u64,
    pub history_entries: u64,
    pub form_submissions: u64,
    pub webhook_deliveries: u64,
    pub emails: u64,
    pub import_rows: u64,
}

/// What `POST /api/v1/privacy/erase` erased.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "What was erased")]
pub struct Erased {
    pub person: Person,
    pub erased: ErasedCounts,
    /// The erased leads
    pub lead_ids: Vec<i64>,
    /// The erased contacts
    pub contact_ids: Vec<i64>,
}

impl Person {
    /// From the `phone` and `email` of a query or body; at least one is required, and each is
    /// read as lead fields are (any country's format, Chinese without a country code).
    pub fn parse(phone: Option<&str>, email: Option<&str>) -> Result<Person, Invalid> {
        let phone = phone
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Phone::parse(p).map(|p| p.e164().to_owned()))
            .transpose()?;
        let email = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| Email::parse(e).map(|e| e.normalized().to_owned()))
            .transpose()?;
        if phone.is_none() && email.is_none() {
            return Err(Invalid::new(
                "phone",
                "name the person by phone or email (or both)",
            ));
        }
        Ok(Person { phone, email })
    }

    fn keys(&self) -> impl Iterator<Item = &str> {
        self.phone.iter().chain(&self.email).map(String::as_str)
    }

    /// `phone_normalized = ? OR email_normalized = ?` over the keys given, with its parameters.
    fn condition(&self) -> (String, Vec<Param>) {
        let mut terms = Vec::new();
        let mut params = Vec::new();
        if let Some(phone) = &self.phone {
            terms.push("phone_normalized = ?");
            params.push(Param::from(phone.as_str()));
        }
        if let Some(email) = &self.email {
            terms.push("email_normalized = ?");
            params.push(Param::from(email.as_str()));
        }
        (format!("({})", terms.join(" OR ")), params)
    }
}

/// The person's leads and contacts, deleted ones included.
async fn records(r: &mut impl Reader, person: &Person) -> anyhow::Result<(Vec<Row>, Vec<Row>)> {
    let (condition, params) = person.condition();
    let read = |table: &str| format!("SELECT * FROM {table} WHERE {condition} ORDER BY id");
    let leads = r.rows(&read("leads"), &params).await?;
    let contacts = r.rows(&read("contacts"), &params).await?;
    Ok((leads, contacts))
}

fn ids(rows: &[Row]) -> Vec<i64> {
    rows.iter().map(|r| r.int("id")).collect()
}

/// `(record_type = 'lead' AND record_id IN (…)) OR (…contact…)` with its parameters, or `None`
/// when there is no record.
fn of_records(leads: &[i64], contacts: &[i64]) -> Option<(String, Vec<Param>)> {
    let mut terms = Vec::new();
    let mut params = Vec::new();
    for (record_type, ids) in [(RecordType::Lead, leads), (RecordType::Contact, contacts)] {
        if ids.is_empty() {
            continue;
        }
        terms.push(format!(
            "(record_type = '{}' AND record_id IN ({}))",
            record_type.code(),
            vec!["?"; ids.len()].join(", ")
        ));
        params.extend(ids.iter().map(|id| Param::Int(*id)));
    }
    (!terms.is_empty()).then(|| (format!("({})", terms.join(" OR ")), params))
}

/// A row as JSON, times (`…_at` columns) in RFC 3339.
fn row_json(row: &Row) -> Value {
    let mut out = Map::new();
    for (column, cell) in row.columns().iter().zip(row.cells()) {
        let value = match cell {
            Cell::Int(v) if column.ends_with("_at") => json!(rfc3339(*v)),
            other => other.to_json(),
        };
        out.insert(column.clone(), value);
    }
    Value::Object(out)
}

/// `GET /api/v1/privacy/export?phone=…&email=…`: everything held about the person, for an
/// admin; recorded in the export log.
pub async fn export(
    ctx: Ctx<'_>,
    phone: Option<&str>,
    email: Option<&str>,
) -> StoreResult<PersonData> {
    ctx.actor.require_admin("export or erase a person's data")?;
    let person = &Person::parse(phone, email)?;
    let db = ctx.db;
    let (leads, contacts) = records(&mut { db }, person).await?;
    let (lead_ids, contact_ids) = (ids(&leads), ids(&contacts));
    let mut activities = Vec::new();
    let mut history = Vec::new();
    let mut attachments = Vec::new();
    if let Some((condition, params)) = of_records(&lead_ids, &contact_ids) {
        activities = db
            .fetch_all(
                &format!("SELECT * FROM activities WHERE {condition} ORDER BY id"),
                &params,
            )
            .await?;
        history = db
            .fetch_all(
                &format!("SELECT * FROM history WHERE {condition} ORDER BY id"),
                &params,
            )
            .await?;
        attachments = db
            .fetch_all(
                &format!(
                    "SELECT id, record_type, record_id, activity_id, filename, content_type, size, created_at \
                     FROM attachments WHERE {condition} AND deleted_at IS NULL ORDER BY id"
                ),
                &params,
            )
            .await?;
    }
    let submissions = if lead_ids.is_empty() {
        Vec::new()
    } else {
        db.fetch_all(
            &format!(
                "SELECT * FROM form_submissions WHERE lead_id IN ({}) ORDER BY id",
                vec!["?"; lead_ids.len()].join(", ")
            ),
            &lead_ids
                .iter()
                .map(|id| Param::Int(*id))
                .collect::<Vec<_>>(),
        )
        .await?
    };
    let history: Vec<Value> = history
        .iter()
        .map(|r| {
            let mut entry = row_json(r);
            for column in ["old_value", "new_value"] {
                if let Some(Ok(value)) = r
                    .opt_text(column)
                    .map(|t| serde_json::from_str::<Value>(&t))
                {
                    entry[column] = value;
                }
            }
            entry
        })
        .collect();
    let rows = leads.len() + contacts.len();
    let document = PersonData {
        person: person.clone(),
        exported_at: rfc3339(to_millis(ctx.now)),
        leads: leads.iter().map(|r| to_json(&LEADS, r)).collect(),
        contacts: contacts.iter().map(|r| to_json(&CONTACTS, r)).collect(),
        activities: activities.iter().map(row_json).collect(),
        history,
        attachments: attachments.iter().map(row_json).collect(),
        form_submissions: submissions.iter().map(row_json).collect(),
    };
    db.execute(
        "INSERT INTO exports (user_id, record_type, filters, format, rows, channel, at) VALUES (?, 'person', ?, 'json', ?, ?, ?)",
        &[
            Param::Int(ctx.actor.user_id),
            Param::from(json!({"phone": person.phone, "email": person.email}).to_string()),
            Param::Int(rows as i64),
            Param::from(ctx.channel.code()),
            Param::Int(to_millis(ctx.now)),
        ],
    )
    .await?;
    Ok(document)
}

/// The custom fields of a record type that hold free text (personal data may be in them); the
/// others (numbers, dates, choices, yes/no) are kept as aggregates.
async fn text_fields(db: &Db, record_type: RecordType) -> anyhow::Result<Vec<String>> {
    Ok(custom_fields::definitions(db, record_type)
        .await?
        .into_iter()
        .filter(|d| d.field_type == FieldType::Text)
        .map(|d| d.key)
        .collect())
}

/// `custom` without its text fields.
fn without_text(custom: Option<String>, text: &[String]) -> String {
    let mut custom: Map<String, Value> = custom
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default();
    custom.retain(|key, _| !text.contains(key));
    Value::Object(custom).to_string()
}

/// Clears the personal columns of some records of one table, keeping the rest.
async fn clear_records(
    tx: &mut Tx,
    table: &Table,
    rows: &[Row],
    personal: &str,
    text: &[String],
    now: i64,
) -> anyhow::Result<()> {
    for row in rows {
        tx.execute(
            &format!(
                "UPDATE {} SET name = ?, {personal}, custom = ?, updated_at = ? WHERE id = ?",
                table.name
            ),
            &[
                Param::from(ERASED_NAME),
                Param::from(without_text(row.opt_text("custom"), text)),
                Param::Int(now),
                Param::Int(row.int("id")),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Deletes the reported rows of uploaded imports (kept as the file wrote them, in any phone
/// format) that hold the person's phone or e-mail.
async fn erase_import_rows(tx: &mut Tx, person: &Person) -> anyhow::Result<u64> {
    let rows = tx
        .fetch_all(
            "SELECT upload_id, row_number, cells FROM import_upload_rows",
            &[],
        )
        .await?;
    let mut erased = 0;
    for row in rows {
        let cells: Vec<String> = serde_json::from_str(&row.text("cells")).unwrap_or_default();
        let holds = cells.iter().any(|cell| {
            let phone = Phone::parse(cell).ok();
            let email = Email::parse(cell).ok();
            (person.phone.is_some() && phone.as_ref().map(Phone::e164) == person.phone.as_deref())
                || (person.email.is_some()
                    && email.as_ref().map(Email::normalized) == person.email.as_deref())
        });
        if holds {
            erased += tx
                .execute(
                    "DELETE FROM import_upload_rows WHERE upload_id = ? AND row_number = ?",
                    &[
                        Param::Int(row.int("upload_id")),
                        Param::Int(row.int("row_number")),
                    ],
                )
                .await?;
        }
    }
    Ok(erased)
}

/// `POST /api/v1/privacy/erase` with `{"phone"?, "email"?, "reason"}`: erases the person's data
/// (see the module documentation) and says how much was erased.
pub async fn erase(ctx: Ctx<'_>, erasure: Unread<Erasure>) -> StoreResult<Erased> {
    ctx.actor.require_admin("export or erase a person's data")?;
    let erasure = erasure.read()?;
    let text = |field: &str, value: &Option<String>, max: usize| {
        value
            .as_deref()
            .map(|v| Text::parse_optional(field, v, max))
            .transpose()
            .map(|t| t.flatten().map(Text::into_string))
    };
    let person = &Person::parse(
        text("phone", &erasure.phone, 100)?.as_deref(),
        text("email", &erasure.email, 320)?.as_deref(),
    )?;
    let Some(reason) = Text::parse_optional("reason", &erasure.reason, 1_000)? else {
        return Err(Invalid::new(
            "reason",
            "say why the data is erased (e.g. the person's request and its date)",
        )
        .into());
    };
    let reason = reason.as_str();
    let db = ctx.db;
    let now = to_millis(ctx.now);
    let lead_text = text_fields(db, RecordType::Lead).await?;
    let contact_text = text_fields(db, RecordType::Contact).await?;
    let mut tx = db.begin().await?;
    let dialect = tx.dialect();
    let (leads, contacts) = records(&mut tx, person).await?;
    let (lead_ids, contact_ids) = (ids(&leads), ids(&contacts));
    clear_records(
        &mut tx,
        &LEADS,
        &leads,
        "title = NULL, phone = NULL, phone_normalized = NULL, email = NULL, \
         email_normalized = NULL, description = NULL, person_key = NULL",
        &lead_text,
        now,
    )
    .await?;
    clear_records(
        &mut tx,
        &CONTACTS,
        &contacts,
        "title = NULL, phone = NULL, phone_normalized = NULL, email = NULL, \
         email_normalized = NULL, wechat = NULL, description = NULL, person_key = NULL",
        &contact_text,
        now,
    )
    .await?;
    let searchable: Vec<Searchable> = leads
        .iter()
        .map(|r| Searchable {
            id: r.int("id"),
            name: ERASED_NAME.to_owned(),
            company: r.opt_text("company"),
            email: None,
            phone_e164: None,
        })
        .collect();
    search::index(&mut tx, &searchable, true).await?;

    let mut erased = ErasedCounts {
        leads: leads.len() as u64,
        contacts: contacts.len() as u64,
        ..ErasedCounts::default()
    };
    if let Some((records, params)) = of_records(&lead_ids, &contact_ids) {
        let mut with_text = vec![Param::from(ERASED_TEXT)];
        with_text.extend(params.iter().cloned());
        erased.activities = tx
            .execute(
                &format!(
                    "UPDATE activities SET content = NULL WHERE {records} AND content IS NOT NULL"
                ),
                &params,
            )
            .await?;
        tx.execute(
            &format!(
                "UPDATE activity_comments SET content = ? WHERE activity_id IN \
                 (SELECT id FROM activities WHERE {records})"
            ),
            &with_text,
        )
        .await?;
        tx.execute(
            &format!(
                "DELETE FROM attachment_chunks WHERE attachment_id IN \
                 (SELECT id FROM attachments WHERE {records})"
            ),
            &params,
        )
        .await?;
        erased.attachments = tx
            .execute(&format!("DELETE FROM attachments WHERE {records}"), &params)
            .await?;
        erased.history_entries = tx
            .execute(
                &format!(
                    "UPDATE history SET old_value = NULL, new_value = NULL WHERE {records} \
                     AND (old_value IS NOT NULL OR new_value IS NOT NULL)"
                ),
                &params,
            )
            .await?;
        tx.execute(
            &format!("UPDATE notifications SET message = ? WHERE {records}"),
            &with_text,
        )
        .await?;
    }
    if !lead_ids.is_empty() {
        let list = vec!["?"; lead_ids.len()].join(", ");
        let params: Vec<Param> = lead_ids.iter().map(|id| Param::Int(*id)).collect();
        erased.form_submissions = tx
            .execute(
                &format!(
                    "UPDATE form_submissions SET payload = '{{}}', extra = '{{}}', client_ip = '', \
                     user_agent = NULL, referrer = NULL, dedup_key = NULL WHERE lead_id IN ({list})"
                ),
                &params,
            )
            .await?;
        // A merge keeps images of the leads it joined, to be undone; none may bring them back.
        let mut survivors: Vec<i64> = lead_ids.clone();
        survivors.extend(leads.iter().filter_map(|r| r.opt_int("merged_into")));
        tx.execute(
            &format!(
                "UPDATE lead_merges SET before_image = '{{}}', after_image = '{{}}' WHERE survivor_id IN ({})",
                vec!["?"; survivors.len()].join(", ")
            ),
            &survivors.iter().map(|id| Param::Int(*id)).collect::<Vec<_>>(),
        )
        .await?;
    }
    // Webhook bodies and e-mails carry the phone and e-mail as they were typed, too.
    let mut needles: std::collections::BTreeSet<String> =
        person.keys().map(str::to_owned).collect();
    for row in leads.iter().chain(&contacts) {
        needles.extend(row.opt_text("phone").filter(|p| p.len() >= 5));
        needles.extend(row.opt_text("email").filter(|e| e.contains('@')));
    }
    for key in needles.iter().map(String::as_str) {
        let deliveries = tx
            .execute(
                &format!(
                    "UPDATE webhook_deliveries SET body = ? WHERE {}",
                    dialect.contains_text("body")
                ),
                &[
                    Param::from(json!({"erased": true}).to_string()),
                    Param::from(key),
                ],
            )
            .await?;
        erased.webhook_deliveries += deliveries;
        let emails = tx
            .execute(
                &format!(
                    "DELETE FROM jobs WHERE kind = 'email.send' AND state <> 'done' AND {}",
                    dialect.contains_text("payload")
                ),
                &[Param::from(key)],
            )
            .await?;
        erased.emails += emails;
    }
    erased.import_rows = erase_import_rows(&mut tx, person).await?;
    let stamp = ctx.stamp();
    let note = json!({"reason": reason});
    for id in &lead_ids {
        history::record_action(&mut tx, stamp, RecordType::Lead, *id, "erase", Some(&note)).await?;
    }
    for id in &contact_ids {
        history::record_action(
            &mut tx,
            stamp,
            RecordType::Contact,
            *id,
            "erase",
            Some(&note),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Erased {
        person: person.clone(),
        erased,
        lead_ids,
        contact_ids,
    })
}
