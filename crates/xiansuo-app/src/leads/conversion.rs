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
use crate::sales::pipeline::Body;
use serde_json::{json, Map, Value};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::snapshot;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::Invalid;
use xiansuo_store::{Param, Tx};

/// The fields of `opportunity` in a conversion request.
const OPPORTUNITY_FIELDS: &[&str] = &["name", "amount", "expected_close_date", "stage"];

/// A parsed conversion request.
struct Request {
    account_id: Option<i64>,
    /// The opportunity's fields, when one is to be created.
    opportunity: Option<Map<String, Value>>,
}

fn parse(body: &Value) -> StoreResult<Request> {
    let body = Body::parse(
        body,
        "",
        &["account_id", "create_opportunity", "opportunity"],
    )?;
    let account_id = body.int("account_id", 1, i64::MAX)?;
    let given = match body.get("opportunity") {
        None | Some(Value::Null) => None,
        Some(v) => {
            Body::parse(v, "opportunity", OPPORTUNITY_FIELDS)?;
            v.as_object().cloned()
        }
    };
    let opportunity = match (body.bool("create_opportunity")?, given) {
        (Some(false), Some(_)) => {
            return Err(
                Invalid::new("opportunity", "is given but create_opportunity is false").into(),
            )
        }
        (Some(false), None) => None,
        (Some(true), given) => Some(given.unwrap_or_default()),
        // Without the flag, sending an opportunity asks for one.
        (None, given) => given,
    };
    Ok(Request {
        account_id,
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
        Some(fields) => {
            let mut body = fields.clone();
            if !body.contains_key("name") {
                let name = lead["company"].as_str().or(lead["name"].as_str());
                body.insert("name".into(), json!(name));
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

/// `POST /api/v1/leads/{id}/convert`: converts the lead and answers
/// `{"lead", "account", "contact", "opportunity"}` (opportunity null when none was asked for).
pub async fn convert(ctx: Ctx<'_>, lead_id: i64, body: &Value) -> StoreResult<Value> {
    let request = parse(body)?;
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
    let answer = json!({
        "lead": after,
        "account": account,
        "contact": contact,
        "opportunity": opportunity,
    });
    events::emit(&mut tx, "lead.updated", &after, now).await?;
    events::emit(&mut tx, "lead.converted", &answer, now).await?;
    if let Some(owner) = after["owner_id"].as_i64() {
        notify_owner(&mut tx, owner, &after, now).await?;
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

    #[test]
    fn an_opportunity_is_created_when_asked_for_or_sent() {
        let r = parse(&json!({"create_opportunity": true})).unwrap();
        assert_eq!(r.opportunity, Some(Map::new()));
        let r = parse(&json!({"opportunity": {"amount": 10}})).unwrap();
        assert!(r.opportunity.is_some());
        let r = parse(&json!({"create_opportunity": false})).unwrap();
        assert!(r.opportunity.is_none());
        assert!(parse(&json!({})).unwrap().opportunity.is_none());
    }

    #[test]
    fn contradictions_and_unknown_fields_are_refused_by_name() {
        let err = parse(&json!({"create_opportunity": false, "opportunity": {}}))
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("opportunity:"), "{err}");
        let err = parse(&json!({"opportunity": {"amount": 1, "color": "red"}}))
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("opportunity.color:"), "{err}");
        let err = parse(&json!({"account_id": "x"})).err().unwrap();
        assert!(err.to_string().starts_with("account_id:"), "{err}");
    }
}
