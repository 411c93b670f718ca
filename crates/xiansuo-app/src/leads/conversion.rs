//! Conversion (转化): one action that turns a lead into an account (客户), a contact (联系人) and,
//! if asked, an opportunity (销售机会).
//!
//! The account is the one named by `account_id`, else an account the caller may see with the
//! same company key (so 上海恒远信息科技有限公司 finds 恒远信息科技（上海）), else a new one made
//! from the lead (its company, or for a person without one, the person). Everything happens in
//! one transaction: the new records with their history, the lead's links and its move to
//! `converted` (after which it is read-only), a `convert` entry in the lead's history, the
//! `lead.converted` event and a notification to the owner. Any error leaves nothing written.
//!
//! Any lead that is not converted or disqualified can be converted, as in Salesforce and Zoho,
//! but the qualification checklist that applies to it must be met first (see
//! [`crate::leads::qualification`]).

use crate::channels::events;
use crate::channels::notifications::{self, Notification};
use crate::error::{StoreError, StoreResult};
use crate::leads::qualification;
use crate::records::history;
use crate::records::schema::{Table, ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES};
use crate::records::{self, Ctx, NewRecord};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::openapi::schema::{KnownFormat, OneOfBuilder, SchemaFormat, Type};
use utoipa::openapi::{ObjectBuilder, Ref};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::snapshot;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::validation::{present, Unread};
use xiansuo_core::{schema, Invalid};
use xiansuo_store::{Param, Tx};

/// What a lead is converted into, as a request sends it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ConversionInput, description = "What to convert the lead into")]
pub struct NewConversion {
    /// An account you can see to link; absent or null: the oldest account you can see with the
    /// lead's company key, else a new one
    #[serde(default)]
    #[schema(minimum = 1)]
    pub account_id: Option<i64>,
    /// Create an opportunity; absent or null: only when `opportunity` is sent
    #[serde(default)]
    pub create_opportunity: Option<bool>,
    #[serde(default)]
    pub opportunity: Option<NewDeal>,
}

/// The opportunity a conversion creates; each field is optional.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = ConversionOpportunityInput,
    description = "The new opportunity; each field is optional; null for none"
)]
pub struct NewDeal {
    /// Default: the lead's company, else its name
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    /// At most two decimals
    #[serde(default)]
    #[schema(minimum = 0)]
    pub amount: Option<f64>,
    #[serde(default)]
    #[schema(schema_with = close_date_schema)]
    pub expected_close_date: Option<String>,
    /// An active open or won stage; default `met`
    #[serde(default, deserialize_with = "present")]
    pub stage: Option<String>,
}

fn close_date_schema() -> ObjectBuilder {
    schema::string(true, "YYYY-MM-DD")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(schema::YEARS))
}

/// What a lead became. The records are as their own endpoints show them, custom fields and
/// all, so they stay JSON.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Conversion, description = "What the lead became")]
pub struct Converted {
    #[schema(schema_with = lead_schema)]
    pub lead: Value,
    #[schema(schema_with = account_schema)]
    pub account: Value,
    #[schema(schema_with = contact_schema)]
    pub contact: Value,
    #[schema(required = true, schema_with = opportunity_schema)]
    pub opportunity: Option<Value>,
}

pub(crate) fn lead_schema() -> Ref {
    Ref::from_schema_name("Lead")
}

fn account_schema() -> Ref {
    Ref::from_schema_name("Account")
}

fn contact_schema() -> Ref {
    Ref::from_schema_name("Contact")
}

fn opportunity_schema() -> OneOfBuilder {
    OneOfBuilder::new()
        .item(Ref::from_schema_name("Opportunity"))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some("Null when none was asked for"))
}

/// A checked conversion request.
struct Request {
    account_id: Option<i64>,
    /// The opportunity's fields, when one is to be created.
    opportunity: Option<NewDeal>,
}

fn check(new: NewConversion) -> Result<Request, Invalid> {
    if new.account_id.is_some_and(|id| id < 1) {
        return Err(Invalid::new(
            "account_id",
            "must be a whole number of at least 1",
        ));
    }
    let opportunity = match (new.create_opportunity, new.opportunity) {
        (Some(false), Some(_)) => {
            return Err(Invalid::new(
                "opportunity",
                "is given but create_opportunity is false",
            ))
        }
        (Some(false), None) => None,
        (Some(true), given) => Some(given.unwrap_or_default()),
        // Without the flag, sending an opportunity asks for one.
        (None, given) => given,
    };
    Ok(Request {
        account_id: new.account_id,
        opportunity,
    })
}

/// Prefixes the field of a validation error, so that `amount` reads `opportunity.amount`.
fn within(prefix: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::Invalid(i) => Invalid::new(format!("{prefix}.{}", i.field), i.message).into(),
        other => other,
    }
}

/// The lead's fields that carry over to a new record, as a request body for that record.
fn carry(lead: &Value, pairs: &[(&str, &str)], owner: Option<i64>) -> Value {
    let mut body = Map::new();
    for (from, to) in pairs {
        let value = &lead[*from];
        if !value.is_null() {
            body.insert((*to).to_owned(), value.clone());
        }
    }
    if let Some(owner) = owner {
        body.insert("owner_id".into(), json!(owner));
    }
    Value::Object(body)
}

/// What the conversion writes besides the lead: an existing account or a new one, the contact
/// and maybe the opportunity, checked and ready to insert.
struct Plan {
    account: AccountPlan,
    contact: NewRecord,
    opportunity: Option<NewRecord>,
}

enum AccountPlan {
    Existing(Value),
    New(NewRecord),
}

/// Checks and prepares the new records. Only reads, so it runs before the write transaction.
async fn plan(ctx: Ctx<'_>, lead: &Value, request: &Request) -> StoreResult<Plan> {
    // The new records belong to the lead's owner while that user is active, else to the caller.
    let owner = match lead["owner_id"].as_i64() {
        Some(owner) if owner != ctx.actor.user_id => ctx
            .db
            .fetch_optional(
                "SELECT id FROM users WHERE id = ? AND active = 1 AND deleted_at IS NULL",
                &[Param::Int(owner)],
            )
            .await?
            .map(|_| owner),
        _ => None,
    };
    let account = match request.account_id {
        Some(id) => AccountPlan::Existing(
            records::get(ctx.db, ctx.actor, &ACCOUNTS, id)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound(_) => Invalid::new(
                        "account_id",
                        format!("no account with id {id} that you can see"),
                    )
                    .into(),
                    other => other,
                })?,
        ),
        None => match matching_account(ctx, lead).await? {
            Some(account) => AccountPlan::Existing(account),
            None => {
                let company = !lead["company"].is_null();
                let mut pairs = vec![
                    ("industry", "industry"),
                    ("province", "province"),
                    ("city", "city"),
                    ("company_size", "company_size"),
                ];
                pairs.push(if company {
                    ("company", "name")
                } else {
                    // A person without a company is a B2C customer: the account is the person.
                    ("name", "name")
                });
                if !company {
                    pairs.push(("phone", "phone"));
                }
                let body = carry(lead, &pairs, owner);
                AccountPlan::New(
                    records::prepare(ctx, &ACCOUNTS, &body)
                        .await
                        .map_err(|e| within("account", e))?,
                )
            }
        },
    };
    let contact_body = carry(
        lead,
        &[
            ("name", "name"),
            ("title", "title"),
            ("phone", "phone"),
            ("email", "email"),
        ],
        owner,
    );
    let contact = records::prepare(ctx, &CONTACTS, &contact_body)
        .await
        .map_err(|e| within("contact", e))?;
    let opportunity = match &request.opportunity {
        None => None,
        Some(deal) => {
            let mut body = Map::new();
            let name = match &deal.name {
                Some(name) => Some(name.as_str()),
                None => lead["company"].as_str().or(lead["name"].as_str()),
            };
            body.insert("name".into(), json!(name));
            if let Some(amount) = deal.amount {
                body.insert("amount".into(), json!(amount));
            }
            if let Some(date) = &deal.expected_close_date {
                body.insert("expected_close_date".into(), json!(date));
            }
            if let Some(stage) = &deal.stage {
                body.insert("stage".into(), json!(stage));
            }
            if let Some(owner) = owner {
                body.insert("owner_id".into(), json!(owner));
            }
            Some(
                records::prepare(ctx, &OPPORTUNITIES, &Value::Object(body))
                    .await
                    .map_err(|e| within("opportunity", e))?,
            )
        }
    };
    Ok(Plan {
        account,
        contact,
        opportunity,
    })
}

/// The oldest account the caller may see whose company key is the lead's.
async fn matching_account(ctx: Ctx<'_>, lead: &Value) -> StoreResult<Option<Value>> {
    let Some(key) = lead["company_key"].as_str() else {
        return Ok(None);
    };
    let row = ctx
        .db
        .fetch_optional(
            &format!(
                "SELECT * FROM accounts WHERE company_key = ? AND deleted_at IS NULL{} ORDER BY id LIMIT 1",
                ctx.actor.scope_clause()
            ),
            &[Param::from(key)],
        )
        .await?;
    Ok(row.map(|r| records::to_json(&ACCOUNTS, &r)))
}

/// Refuses to convert a lead that is converted (409) or disqualified (422).
fn check_status(lead: &Value) -> StoreResult<()> {
    let status = lead["status"].as_str().unwrap_or_default();
    if status == LeadStatus::Converted.code() {
        return Err(StoreError::Conflict(format!(
            "the lead is already converted (account {})",
            lead["converted_account_id"]
        )));
    }
    if status == LeadStatus::Disqualified.code() {
        return Err(Invalid::new(
            "status",
            "a disqualified lead cannot be converted; change its status first",
        )
        .into());
    }
    Ok(())
}

async fn insert_one(tx: &mut Tx, record: &mut NewRecord) -> StoreResult<Value> {
    records::insert(tx, &mut [record])
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("nothing was inserted").into())
}

/// Converts the lead and answers with what it became (the opportunity null when none was asked
/// for).
pub async fn convert(
    ctx: Ctx<'_>,
    lead_id: i64,
    new: Unread<NewConversion>,
) -> StoreResult<Converted> {
    let request = check(new.read()?)?;
    let lead = records::get(ctx.db, ctx.actor, &LEADS, lead_id).await?;
    check_status(&lead)?;
    let mut plan = plan(ctx, &lead, &request).await?;

    let mut tx = ctx.db.begin().await?;
    let lock = tx.dialect().lock_rows();
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT * FROM leads WHERE id = ? AND deleted_at IS NULL{}{lock}",
                ctx.actor.scope_clause()
            ),
            &[Param::Int(lead_id)],
        )
        .await?
        .ok_or(StoreError::NotFound(LEADS.schema))?;
    // Checked again under the lock: two conversions at once must not both succeed.
    let before = records::to_json(&LEADS, &row);
    check_status(&before)?;
    qualification::check_met(&mut tx, lead_id, "status").await?;

    let (account, account_created) = match &mut plan.account {
        AccountPlan::Existing(existing) => (existing.clone(), false),
        AccountPlan::New(new) => (insert_one(&mut tx, new).await?, true),
    };
    let account_id = account["id"].as_i64().unwrap_or_default();
    plan.contact.set("account_id", Param::Int(account_id));
    let contact = insert_one(&mut tx, &mut plan.contact).await?;
    let contact_id = contact["id"].as_i64().unwrap_or_default();
    let opportunity = match &mut plan.opportunity {
        Some(new) => {
            new.set("account_id", Param::Int(account_id));
            new.set("contact_id", Param::Int(contact_id));
            new.set("lead_id", Param::Int(lead_id));
            Some(insert_one(&mut tx, new).await?)
        }
        None => None,
    };
    let opportunity_id = opportunity.as_ref().and_then(|o| o["id"].as_i64());

    let now = to_millis(ctx.now);
    tx.execute(
        "UPDATE leads SET status = ?, converted_account_id = ?, converted_contact_id = ?, \
         converted_opportunity_id = ?, converted_at = ?, updated_at = ? WHERE id = ?",
        &[
            Param::from(LeadStatus::Converted.code()),
            Param::Int(account_id),
            Param::Int(contact_id),
            Param::from(opportunity_id),
            Param::Int(now),
            Param::Int(now),
            Param::Int(lead_id),
        ],
    )
    .await?;
    let after = tx
        .fetch_optional("SELECT * FROM leads WHERE id = ?", &[Param::Int(lead_id)])
        .await?
        .map(|r| records::to_json(&LEADS, &r))
        .ok_or(StoreError::NotFound(LEADS.schema))?;
    let stamp = ctx.stamp();
    history::record_changes(
        &mut tx,
        stamp,
        RecordType::Lead,
        lead_id,
        &snapshot(&before),
        &snapshot(&after),
    )
    .await?;
    let links = json!({
        "account_id": account_id,
        "account_created": account_created,
        "contact_id": contact_id,
        "opportunity_id": opportunity_id,
    });
    history::record_action(
        &mut tx,
        stamp,
        RecordType::Lead,
        lead_id,
        "convert",
        Some(&links),
    )
    .await?;
    if !account_created {
        history::record_action(
            &mut tx,
            stamp,
            RecordType::Account,
            account_id,
            "lead_converted",
            Some(&json!({"lead_id": lead_id, "contact_id": contact_id, "opportunity_id": opportunity_id})),
        )
        .await?;
    }
    events::emit(&mut tx, "lead.updated", &after, now).await?;
    let owner = after["owner_id"].as_i64();
    let answer = Converted {
        lead: after,
        account,
        contact,
        opportunity,
    };
    let payload = serde_json::to_value(&answer).map_err(anyhow::Error::from)?;
    events::emit(&mut tx, "lead.converted", &payload, now).await?;
    if let Some(owner) = owner {
        notify_owner(&mut tx, owner, &answer.lead, now).await?;
    }
    tx.commit().await?;
    Ok(answer)
}

/// Tells the lead's owner, in their language, that the lead was converted.
async fn notify_owner(tx: &mut Tx, owner: i64, lead: &Value, now: i64) -> anyhow::Result<()> {
    let locale = tx
        .fetch_optional(
            "SELECT locale FROM users WHERE id = ?",
            &[Param::Int(owner)],
        )
        .await?
        .map_or_else(|| "zh".to_owned(), |r| r.text("locale"));
    let name = lead["name"].as_str().unwrap_or_default();
    let message = if locale == "en" {
        format!("Lead {name} was converted into a customer")
    } else {
        format!("线索「{name}」已转化为客户")
    };
    notifications::notify(
        tx,
        &Notification {
            user_id: owner,
            kind: notifications::Kind::Converted,
            record_type: Some(RecordType::Lead),
            record_id: lead["id"].as_i64(),
            message,
            now_ms: now,
        },
    )
    .await
}

/// The SQL condition and parameters that select the activities shown on a record: its own,
/// and for an account also those of the leads converted into it (they keep their history).
pub fn activity_condition(table: &Table, record_id: i64) -> (String, Vec<Param>) {
    let own = "(record_type = ? AND record_id = ?)";
    let mut params = vec![Param::from(table.record_type.code()), Param::Int(record_id)];
    if table.record_type != RecordType::Account {
        return (own.to_owned(), params);
    }
    params.extend([Param::from(RecordType::Lead.code()), Param::Int(record_id)]);
    (
        format!(
            "({own} OR (record_type = ? AND record_id IN \
             (SELECT id FROM leads WHERE converted_account_id = ?)))"
        ),
        params,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<Request, Invalid> {
        check(Unread::<NewConversion>::json(body).read()?)
    }

    #[test]
    fn an_opportunity_is_created_when_asked_for_or_sent() {
        let r = parse(json!({"create_opportunity": true})).unwrap();
        assert!(r.opportunity.is_some_and(|d| d.name.is_none()));
        let r = parse(json!({"opportunity": {"amount": 10}})).unwrap();
        assert_eq!(r.opportunity.and_then(|d| d.amount), Some(10.0));
        let r = parse(json!({"create_opportunity": false})).unwrap();
        assert!(r.opportunity.is_none());
        assert!(parse(json!({})).unwrap().opportunity.is_none());
    }

    #[test]
    fn contradictions_and_unknown_fields_are_refused_by_name() {
        let err = parse(json!({"create_opportunity": false, "opportunity": {}}))
            .err()
            .unwrap();
        assert_eq!(err.field, "opportunity");
        let err = parse(json!({"opportunity": {"amount": 1, "color": "red"}}))
            .err()
            .unwrap();
        assert_eq!(err.field, "opportunity.color");
        let err = parse(json!({"account_id": "x"})).err().unwrap();
        assert_eq!(err.field, "account_id");
        let err = parse(json!({"account_id": 0})).err().unwrap();
        assert_eq!(err.field, "account_id");
    }
}
