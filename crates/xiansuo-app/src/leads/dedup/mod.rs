//! Finding duplicates, on every channel. A lead is compared by its normalised keys (phone in
//! E.164, lower-cased email, person key, company key — [`xiansuo_core::dedup`]) with leads,
//! contacts (a contact's company is its account's) and accounts (their phone; their company
//! only as "same company").
//!
//! A match is *certain* when an exact key is shared (phone, email, external id) and *probable*
//! when only the person and company are; each source has a policy for each kind
//! ([`policies`], [`probable_policies`]).
//!
//! Every new lead passes [`screen`], called from `records::prepare`, which applies the dedup
//! policy of the lead's source for the kind of its strongest match (or, for certain matches,
//! the one a caller set with [`with_policy`]): *block* refuses
//! it with the matches the caller may see and, for matches held by others, only who holds them
//! (撞单); *warn* creates it flagged (the tag [`FLAG_TAG`] and `duplicate_of`); *merge* puts its
//! data into the strongest matching lead instead (`merge::absorb`). The import engine checks
//! whole batches at once with the same matching ([`holders`], [`decide`]). A change of phone,
//! email, name or company is checked by [`screen_change`] from `records::update`.
//!
//! A match as a caller may see it is a [`Candidate`]; a lead's matches are
//! [`lead_duplicates`], the policies per source [`listed_policies`] and [`set_policies`].
//! The duplicate scan over the whole base lives in [`scan`].

pub mod candidate;
pub mod probe;
pub mod scan;

use candidate::any_value;
pub use candidate::{Candidate, HeldBy};

use crate::admin::audit;
use crate::error::{StoreError, StoreResult};
use crate::leads::merge;
use crate::records::lifecycle::{Change, Hook};
use crate::records::schema::{Key, Table, ACCOUNTS, CONTACTS, LEADS, TABLES};
use crate::records::{self, rfc3339, Ctx, NewRecord};
use crate::scope::Actor;
use async_trait::async_trait;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use utoipa::openapi::schema::AdditionalProperties;
use utoipa::openapi::{ArrayBuilder, ObjectBuilder, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use xiansuo_core::choice::ChoiceKind;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::dedup::{
    certainty, default_policies, default_probable_policies, is_strong, policy_for, signals, weight,
    Certainty, Keys, Policy, Signal, ANY_SOURCE, FLAG_TAG,
};
use xiansuo_core::history::Channel;
use xiansuo_core::lead::{parse_source, LeadStatus, BUILTIN_SOURCES};
use xiansuo_core::schema;
use xiansuo_core::validation::Unread;
use xiansuo_core::Invalid;
use xiansuo_store::migrate::Backfill;
use xiansuo_store::{Db, Param, Row, Tx};

/// The most matching records read for one check; a key shared by more (a placeholder phone
/// such as 400 numbers) still yields a decision from the oldest ones.
const MAX_HOLDERS: usize = 200;

tokio::task_local! {
    static OVERRIDE: Policy;
}

/// Runs `future` (a lead create) with `policy` instead of the policy of the lead's source: a
/// web form passes its own.
pub async fn with_policy<F: Future>(policy: Policy, future: F) -> F::Output {
    OVERRIDE.scope(policy, future).await
}

/// A record that holds some of the keys of a lead being checked.
#[derive(Debug, Clone)]
pub struct Holder {
    pub record_type: RecordType,
    pub id: i64,
    pub owner_id: Option<i64>,
    pub created_at: i64,
    /// For a lead: whether it is converted (read-only, so nothing merges into it).
    pub converted: bool,
    pub keys: Keys,
}

/// A holder with the signals by which it matches, strongest match first in lists.
#[derive(Debug, Clone)]
pub struct Match {
    pub holder: Holder,
    pub signals: Vec<Signal>,
}

pub use crate::error::Duplicate;

/// What to do with a new lead, given its strong matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing strong matches: create it as it is.
    Create,
    /// Create it, flagged; `duplicate_of` is the strongest matching lead, if a lead matched.
    Flag { duplicate_of: Option<i64> },
    /// Refuse it.
    Block,
    /// Put its data into this lead instead.
    Merge { into: i64 },
}

/// The keys of a new record, from its columns.
pub fn keys_of(record: &NewRecord) -> Keys {
    let text = |column: &str| match record.get(column) {
        Some(Param::Text(t)) => Some(t.clone()),
        _ => None,
    };
    Keys {
        phone: text("phone_normalized"),
        email: text("email_normalized"),
        external_id: text("external_id"),
        person: text("person_key"),
        company: text("company_key"),
    }
}

fn keys_of_json(lead: &Value) -> Keys {
    let text = |column: &str| lead[column].as_str().map(str::to_owned);
    Keys {
        phone: text("phone_normalized"),
        email: text("email_normalized"),
        external_id: text("external_id"),
        person: text("person_key"),
        company: text("company_key"),
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `(first, second) IN (VALUES …)` over the distinct pairs, or nothing when there are none.
fn pairs_of(
    first: &str,
    second: &str,
    pairs: &[(&str, &str)],
    params: &mut Vec<Param>,
) -> Option<String> {
    let mut distinct = pairs.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.is_empty() {
        return None;
    }
    for (a, b) in &distinct {
        params.push(Param::from(*a));
        params.push(Param::from(*b));
    }
    Some(format!(
        "({first}, {second}) IN (VALUES {})",
        vec!["(?, ?)"; distinct.len()].join(", ")
    ))
}

/// `column IN (…)` over the distinct values, or nothing when there are none.
fn any_of(column: &str, values: &[&str], params: &mut Vec<Param>) -> Option<String> {
    let mut distinct: Vec<&str> = values.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.is_empty() {
        return None;
    }
    params.extend(distinct.iter().map(|v| Param::from(*v)));
    Some(format!("{column} IN ({})", placeholders(distinct.len())))
}

/// The records (not deleted, leads not merged) that share a strong key with any of `probes`,
/// oldest first: leads by phone, email, external id or person and company; contacts by phone, email or person
/// and their account's company; accounts by phone. With `same_company`, leads and accounts
/// sharing only the company key are read too. Leads in `except` are left out.
pub async fn holders(
    db: &Db,
    probes: &[&Keys],
    except: &[i64],
    same_company: bool,
) -> anyhow::Result<Vec<Holder>> {
    let collect = |get: fn(&Keys) -> &Option<String>| -> Vec<&str> {
        probes.iter().filter_map(|k| get(k).as_deref()).collect()
    };
    let phones = collect(|k| &k.phone);
    let emails = collect(|k| &k.email);
    let external_ids = collect(|k| &k.external_id);
    let companies = collect(|k| &k.company);
    let pairs: Vec<(&str, &str)> = probes
        .iter()
        .filter_map(|k| Some((k.person.as_deref()?, k.company.as_deref()?)))
        .collect();

    let mut branches = Vec::new();
    let mut params = Vec::new();
    let except = |params: &mut Vec<Param>| {
        if except.is_empty() {
            return String::new();
        }
        params.extend(except.iter().map(|id| Param::Int(*id)));
        format!(" AND id NOT IN ({})", placeholders(except.len()))
    };

    const LEAD: &str = "SELECT 'lead' AS kind, id, owner_id, created_at, status, \
         phone_normalized AS phone, email_normalized AS email, external_id, \
         person_key AS person, company_key AS company FROM leads WHERE deleted_at IS NULL";
    // One branch per key, so that each probes its own index: PostgreSQL reads a whole table
    // for `phone IN (…) OR email IN (…)` with a thousand values each.
    let companies: &[&str] = if same_company { &companies } else { &[] };
    const LEAD_KEYS: [&str; 4] = [
        "phone_normalized",
        "email_normalized",
        "external_id",
        "company_key",
    ];
    for (column, values) in
        LEAD_KEYS
            .into_iter()
            .zip([&phones[..], &emails, &external_ids, companies])
    {
        if let Some(term) = any_of(column, values, &mut params) {
            let except = except(&mut params);
            branches.push(format!("{LEAD} AND {term}{except}"));
        }
    }
    if let Some(pairs) = pairs_of("person_key", "company_key", &pairs, &mut params) {
        let except = except(&mut params);
        branches.push(format!("{LEAD} AND {pairs}{except}"));
    }

    // A contact's company is its account's.
    const CONTACT: &str = "SELECT 'contact' AS kind, c.id, c.owner_id, c.created_at, \
         NULL AS status, c.phone_normalized AS phone, c.email_normalized AS email, \
         NULL AS external_id, c.person_key AS person, a.company_key AS company \
         FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id WHERE c.deleted_at IS NULL";
    for (column, values) in [
        ("c.phone_normalized", &phones),
        ("c.email_normalized", &emails),
    ] {
        if let Some(term) = any_of(column, values, &mut params) {
            branches.push(format!("{CONTACT} AND {term}"));
        }
    }
    if let Some(pairs) = pairs_of("c.person_key", "a.company_key", &pairs, &mut params) {
        branches.push(format!("{CONTACT} AND {pairs}"));
    }

    const ACCOUNT: &str = "SELECT 'account' AS kind, id, owner_id, created_at, NULL AS status, \
         phone_normalized AS phone, NULL AS email, NULL AS external_id, NULL AS person, \
         company_key AS company \
         FROM accounts WHERE deleted_at IS NULL";
    for (column, values) in [
        ("phone_normalized", &phones[..]),
        ("company_key", companies),
    ] {
        if let Some(term) = any_of(column, values, &mut params) {
            branches.push(format!("{ACCOUNT} AND {term}"));
        }
    }

    if branches.is_empty() {
        return Ok(Vec::new());
    }
    let limit = MAX_HOLDERS * probes.len().max(1);
    let rows = db
        .fetch_all(
            &format!(
                "SELECT * FROM ({}) AS found ORDER BY created_at, id LIMIT {limit}",
                branches.join(" UNION ALL ")
            ),
            &params,
        )
        .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .iter()
        .filter(|r| seen.insert((r.text("kind"), r.int("id"))))
        .map(|r| Holder {
            record_type: match r.text("kind").as_str() {
                "contact" => RecordType::Contact,
                "account" => RecordType::Account,
                _ => RecordType::Lead,
            },
            id: r.int("id"),
            owner_id: r.opt_int("owner_id"),
            created_at: r.int("created_at"),
            converted: r.opt_text("status").as_deref() == Some(LeadStatus::Converted.code()),
            keys: Keys {
                phone: r.opt_text("phone"),
                email: r.opt_text("email"),
                external_id: r.opt_text("external_id"),
                person: r.opt_text("person"),
                company: r.opt_text("company"),
            },
        })
        .collect())
}

/// The holders that match `probe`, strongest first (then leads before contacts before
/// accounts, then oldest first).
pub fn matches(probe: &Keys, holders: &[Holder]) -> Vec<Match> {
    let rank = |t: RecordType| match t {
        RecordType::Lead => 0,
        RecordType::Contact => 1,
        _ => 2,
    };
    let mut found: Vec<Match> = holders
        .iter()
        .filter_map(|h| {
            let signals = signals(probe, &h.keys);
            (!signals.is_empty()).then(|| Match {
                holder: h.clone(),
                signals,
            })
        })
        .collect();
    found.sort_by(|a, b| {
        weight(&b.signals)
            .cmp(&weight(&a.signals))
            .then(rank(a.holder.record_type).cmp(&rank(b.holder.record_type)))
            .then(a.holder.created_at.cmp(&b.holder.created_at))
            .then(a.holder.id.cmp(&b.holder.id))
    });
    found
}

/// True when the actor's scope covers a record with this owner (an unowned record, in the
/// public pool, only for an admin).
pub fn visible(actor: &Actor, owner: Option<i64>) -> bool {
    match owner {
        Some(owner) => actor.sees_owner(owner),
        None => actor.visible_owners.is_none(),
    }
}

/// What `policy` makes of a new lead with these matches (strongest first). A flag names the
/// strongest matching lead the actor may see (none when only others' leads, contacts or
/// accounts match: the tag alone says it). Merging goes into the strongest lead the actor may
/// see that is not converted; when only leads held by others match, a merge would write outside
/// the actor's scope, so the lead is refused (they learn who holds it); when only contacts or
/// accounts match, it is created and flagged.
pub fn decide(actor: &Actor, policy: Policy, matches: &[Match]) -> Decision {
    let strong: Vec<&Match> = matches.iter().filter(|m| is_strong(&m.signals)).collect();
    if strong.is_empty() {
        return Decision::Create;
    }
    let leads = || {
        strong
            .iter()
            .filter(|m| m.holder.record_type == RecordType::Lead)
    };
    let flag = || Decision::Flag {
        duplicate_of: leads()
            .find(|m| visible(actor, m.holder.owner_id))
            .map(|m| m.holder.id),
    };
    match policy {
        Policy::Block => Decision::Block,
        Policy::Warn => flag(),
        Policy::Merge => {
            let target = leads().find(|m| !m.holder.converted && visible(actor, m.holder.owner_id));
            match target {
                Some(m) => Decision::Merge { into: m.holder.id },
                None if leads().any(|m| !visible(actor, m.holder.owner_id)) => Decision::Block,
                None => flag(),
            }
        }
    }
}

/// The matches that decide a new lead: the certain ones when there are any, else the probable
/// ones, with which kind they are; `None` when nothing strong matches.
pub fn deciding(matches: &[Match]) -> Option<(Certainty, Vec<Match>)> {
    let best = matches.iter().filter_map(|m| certainty(&m.signals)).max()?;
    let chosen = matches
        .iter()
        .filter(|m| certainty(&m.signals) == Some(best))
        .cloned()
        .collect();
    Some((best, chosen))
}

/// Marks a new lead as a possible duplicate: the tag [`FLAG_TAG`] and `duplicate_of`.
pub fn flag(record: &mut NewRecord, duplicate_of: Option<i64>) {
    let mut tags: Vec<String> = match record.get("tags") {
        Some(Param::Text(t)) => serde_json::from_str(t).unwrap_or_default(),
        _ => Vec::new(),
    };
    if !tags.iter().any(|t| t == FLAG_TAG) {
        tags.push(FLAG_TAG.to_owned());
    }
    record.set("tags", Param::from(json!(tags).to_string()));
    if let Some(id) = duplicate_of {
        record.set("duplicate_of", Param::Int(id));
    }
}

/// The policy for a new lead whose strongest matches are of this kind: for certain matches the
/// one a caller set with [`with_policy`], otherwise the source's policy for that kind.
async fn policy_in_force(db: &Db, source: &str, kind: Certainty) -> anyhow::Result<Policy> {
    match kind {
        Certainty::Certain => {
            if let Ok(policy) = OVERRIDE.try_with(|p| *p) {
                return Ok(policy);
            }
            Ok(policy_for(&policies(db).await?, source))
        }
        Certainty::Probable => Ok(policy_for(&probable_policies(db).await?.0, source)),
    }
}

/// Checks a new record before it is written (the hook in `records::prepare`): for a lead, finds
/// its strong matches and applies the policy in force. A refused or merged lead ends in
/// [`StoreError::Duplicate`]; a flagged one is changed in place. The import engine checks its
/// batches itself, so imported rows pass untouched.
pub async fn screen(ctx: Ctx<'_>, record: &mut NewRecord) -> StoreResult<()> {
    if record.table().record_type != RecordType::Lead || ctx.channel == Channel::Import {
        return Ok(());
    }
    let keys = keys_of(record);
    if keys.phone.is_none()
        && keys.email.is_none()
        && keys.external_id.is_none()
        && keys.company.is_none()
    {
        return Ok(());
    }
    let source = match record.get("source") {
        Some(Param::Text(s)) => s.clone(),
        _ => String::new(),
    };
    let found = holders(ctx.db, &[&keys], &[], false).await?;
    let Some((kind, found)) = deciding(&matches(&keys, &found)) else {
        return Ok(());
    };
    let policy = policy_in_force(ctx.db, &source, kind).await?;
    match decide(ctx.actor, policy, &found) {
        Decision::Create => Ok(()),
        Decision::Flag { duplicate_of } => {
            flag(record, duplicate_of);
            Ok(())
        }
        Decision::Block => Err(StoreError::Duplicate(Box::new(Duplicate {
            candidates: describe(ctx.db, ctx.actor, &found, to_millis(ctx.now)).await?,
            merged: None,
        }))),
        Decision::Merge { into } => {
            let mut tx = ctx.db.begin().await?;
            let merged = merge::absorb(&mut tx, record, into).await?;
            tx.commit().await?;
            Err(StoreError::Duplicate(Box::new(Duplicate {
                candidates: Vec::new(),
                merged: Some(merged),
            })))
        }
    }
}

/// Checks a changed lead (the hook in `records::update`, inside its transaction) when its phone,
/// email, name or company changed: under the block policy of its source a strong match refuses
/// the change; otherwise the lead is flagged as a possible duplicate, within the same change.
/// Returns the lead as it now is.
pub async fn screen_change(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    table: &Table,
    before: &Value,
    after: Value,
) -> StoreResult<Value> {
    let keys = keys_of_json(&after);
    if table.record_type != RecordType::Lead || keys == keys_of_json(before) {
        return Ok(after);
    }
    let id = after["id"].as_i64().unwrap_or_default();
    let found = holders(ctx.db, &[&keys], &[id], false).await?;
    let Some((kind, found)) = deciding(&matches(&keys, &found)) else {
        return Ok(after);
    };
    let source = after["source"].as_str().unwrap_or_default();
    let policy = policy_in_force(ctx.db, source, kind).await?;
    if policy == Policy::Block {
        return Err(StoreError::Duplicate(Box::new(Duplicate {
            candidates: describe(ctx.db, ctx.actor, &found, to_millis(ctx.now)).await?,
            merged: None,
        })));
    }
    let mut tags: Vec<Value> = after["tags"].as_array().cloned().unwrap_or_default();
    if tags.iter().any(|t| t == FLAG_TAG) {
        return Ok(after);
    }
    tags.push(json!(FLAG_TAG));
    let duplicate_of = found
        .iter()
        .find(|m| m.holder.record_type == RecordType::Lead && visible(ctx.actor, m.holder.owner_id))
        .map(|m| m.holder.id);
    tx.execute(
        "UPDATE leads SET tags = ?, duplicate_of = COALESCE(?, duplicate_of) WHERE id = ?",
        &[
            Param::from(Value::Array(tags).to_string()),
            Param::from(duplicate_of),
            Param::Int(id),
        ],
    )
    .await?;
    let row = tx
        .fetch_optional("SELECT * FROM leads WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or(StoreError::NotFound(LEADS.schema))?;
    Ok(records::to_json(&LEADS, &row))
}

fn table_of(record_type: RecordType) -> &'static Table {
    match record_type {
        RecordType::Contact => &CONTACTS,
        RecordType::Account => &ACCOUNTS,
        _ => &LEADS,
    }
}

/// The matches as `actor` may see them (see [`Candidate`]), in the order given.
pub async fn describe(
    db: &Db,
    actor: &Actor,
    matches: &[Match],
    now_ms: i64,
) -> anyhow::Result<Vec<Candidate>> {
    let mut rows: HashMap<(RecordType, i64), Row> = HashMap::new();
    for record_type in [RecordType::Lead, RecordType::Contact, RecordType::Account] {
        let ids: Vec<Param> = matches
            .iter()
            .filter(|m| m.holder.record_type == record_type)
            .map(|m| Param::Int(m.holder.id))
            .collect();
        if ids.is_empty() {
            continue;
        }
        let table = table_of(record_type);
        for row in db
            .fetch_all(
                &format!(
                    "SELECT * FROM {} WHERE id IN ({})",
                    table.name,
                    placeholders(ids.len())
                ),
                &ids,
            )
            .await?
        {
            rows.insert((record_type, row.int("id")), row);
        }
    }
    let hidden_owners: Vec<i64> = matches
        .iter()
        .filter(|m| !visible(actor, m.holder.owner_id))
        .filter_map(|m| m.holder.owner_id)
        .collect();
    let owners = owner_names(db, &hidden_owners).await?;
    let mut out = Vec::with_capacity(matches.len());
    for m in matches {
        let h = &m.holder;
        let Some(row) = rows.get(&(h.record_type, h.id)) else {
            continue;
        };
        if visible(actor, h.owner_id) {
            out.push(Candidate {
                record_type: h.record_type,
                id: Some(h.id),
                signals: m.signals.clone(),
                visible: true,
                record: Some(records::to_json(table_of(h.record_type), row)),
                owner: None,
                in_pool: None,
                protected: None,
                protected_until: None,
            });
        } else {
            let protected_until = row.opt_int("protected_until").filter(|&t| t > now_ms);
            out.push(Candidate {
                record_type: h.record_type,
                id: None,
                signals: m.signals.clone(),
                visible: false,
                record: None,
                owner: Some(h.owner_id.and_then(|o| owners.get(&o).cloned())),
                in_pool: Some(h.owner_id.is_none()),
                protected: Some(protected_until.is_some()),
                protected_until: Some(protected_until.map(rfc3339)),
            });
        }
    }
    Ok(out)
}

/// Who these users are, by id.
async fn owner_names(db: &Db, ids: &[i64]) -> anyhow::Result<HashMap<i64, HeldBy>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let params: Vec<Param> = ids.iter().map(|id| Param::Int(*id)).collect();
    Ok(db
        .fetch_all(
            &format!(
                "SELECT id, username, display_name FROM users WHERE id IN ({})",
                placeholders(ids.len())
            ),
            &params,
        )
        .await?
        .iter()
        .map(|r| {
            (
                r.int("id"),
                HeldBy {
                    id: r.int("id"),
                    username: r.text("username"),
                    display_name: r.opt_text("display_name"),
                },
            )
        })
        .collect())
}

/// A record within the caller's scope that matches a lead: the record as its endpoint shows
/// it, with the signals by which it matches beside its fields.
#[derive(Debug, Clone, Serialize)]
pub struct Matching {
    #[serde(flatten)]
    pub record: Map<String, Value>,
    pub signals: Vec<Signal>,
}

/// What a lead matches, as [`lead_duplicates`] answers.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(description = "What a lead matches")]
pub struct LeadDuplicates {
    #[schema(schema_with = matching_leads_schema)]
    pub items: Vec<Matching>,
    #[schema(schema_with = matching_contacts_schema)]
    pub contacts: Vec<Matching>,
    #[schema(schema_with = matching_accounts_schema)]
    pub accounts: Vec<Matching>,
    #[schema(schema_with = same_company_schema)]
    pub same_company: Vec<Matching>,
    /// Strong matches outside your scope: only who holds them
    pub held_by_others: Vec<Candidate>,
}

/// A list of records, each with its `signals`.
fn with_signals(doc: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(any_value(&format!("{doc}, with its `signals`")))
        .description(Some(format!("{doc}, oldest first")))
}

fn matching_leads_schema() -> ArrayBuilder {
    with_signals(
        "A lead within your scope with the same phone, email, or person and company (a Lead)",
    )
}

fn matching_contacts_schema() -> ArrayBuilder {
    with_signals("A contact within your scope that matches strongly")
}

fn matching_accounts_schema() -> ArrayBuilder {
    with_signals("An account within your scope with the same phone")
}

fn same_company_schema() -> ArrayBuilder {
    with_signals("A lead or account within your scope that shares only the company")
}

/// `GET /api/v1/leads/{id}/duplicates`: the records that match a lead the actor can see.
/// `items` are the leads that strongly match (phone, email, or person and company) within the
/// actor's scope, oldest first, each with its `signals`; `contacts` and `accounts` the
/// strongly matching contacts and accounts within scope; `same_company` the leads and accounts
/// that share only the company; `held_by_others` who holds strong matches outside the scope.
pub async fn lead_duplicates(
    db: &Db,
    actor: &Actor,
    id: i64,
    now_ms: i64,
) -> StoreResult<LeadDuplicates> {
    let lead = records::get(db, actor, &LEADS, id).await?;
    let keys = keys_of_json(&lead);
    // Strong matches first, on their own: a big company's many colleagues must not crowd them
    // out of the limit.
    let mut found = holders(db, &[&keys], &[id], false).await?;
    for holder in holders(db, &[&keys], &[id], true).await? {
        if !found
            .iter()
            .any(|h| h.record_type == holder.record_type && h.id == holder.id)
        {
            found.push(holder);
        }
    }
    let mut found = matches(&keys, &found);
    found.sort_by_key(|m| (m.holder.created_at, m.holder.id));
    let described = describe(db, actor, &found, now_ms).await?;
    let mut out = LeadDuplicates::default();
    for (m, shown) in found.iter().zip(described) {
        let strong = is_strong(&m.signals);
        if !shown.visible {
            if strong {
                out.held_by_others.push(shown);
            }
            continue;
        }
        let record = match shown.record {
            Some(Value::Object(record)) => record,
            _ => Map::new(),
        };
        let list = match (m.holder.record_type, strong) {
            (RecordType::Lead, true) => &mut out.items,
            (RecordType::Contact, true) => &mut out.contacts,
            (RecordType::Account, true) => &mut out.accounts,
            _ => &mut out.same_company,
        };
        list.push(Matching {
            record,
            signals: shown.signals,
        });
    }
    Ok(out)
}

/// The table of the admin's policies for one kind of match.
fn policy_table(kind: Certainty) -> &'static str {
    match kind {
        Certainty::Certain => "dedup_policies",
        Certainty::Probable => "dedup_probable_policies",
    }
}

/// The built-in policies for one kind of match.
fn defaults_for(kind: Certainty) -> BTreeMap<String, Policy> {
    match kind {
        Certainty::Certain => default_policies(),
        Certainty::Probable => default_probable_policies(),
    }
}

async fn read_policies(db: &Db, kind: Certainty) -> anyhow::Result<BTreeMap<String, Policy>> {
    let mut policies = defaults_for(kind);
    for row in db
        .fetch_all(
            &format!("SELECT source, policy FROM {}", policy_table(kind)),
            &[],
        )
        .await?
    {
        if let Ok(policy) = Policy::parse("policy", &row.text("policy")) {
            policies.insert(row.text("source"), policy);
        }
    }
    Ok(policies)
}

/// The policy per source for certain matches ([`ANY_SOURCE`] for sources not listed): the
/// built-in defaults with the admin's settings over them.
pub async fn policies(db: &Db) -> anyhow::Result<BTreeMap<String, Policy>> {
    if let Some(p) = db.settings().get::<BTreeMap<String, Policy>>(0) {
        return Ok(p);
    }
    let policies = read_policies(db, Certainty::Certain).await?;
    db.settings().put(0, policies.clone());
    Ok(policies)
}

/// The policy per source for probable matches (the same name at the same company), as
/// [`policies`] is for certain ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbablePolicies(pub BTreeMap<String, Policy>);

/// The policies for probable matches: the built-in defaults with the admin's settings over them.
pub async fn probable_policies(db: &Db) -> anyhow::Result<ProbablePolicies> {
    if let Some(p) = db.settings().get::<ProbablePolicies>(0) {
        return Ok(p);
    }
    let policies = ProbablePolicies(read_policies(db, Certainty::Probable).await?);
    db.settings().put(0, policies.clone());
    Ok(policies)
}

async fn policies_of(db: &Db, kind: Certainty) -> anyhow::Result<BTreeMap<String, Policy>> {
    match kind {
        Certainty::Certain => policies(db).await,
        Certainty::Probable => Ok(probable_policies(db).await?.0),
    }
}

/// The policy in force per source for one kind of match, as the API lists it: `*` (any
/// source not listed), every built-in source, and every source an admin set. In JSON, source
/// → policy code; the document calls it [`DedupPolicies`] or [`DedupProbablePolicies`] by
/// kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PolicyTable(pub BTreeMap<String, Policy>);

/// A [`PolicyTable`] as described in the document.
fn policy_table_schema(doc: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .description(Some(doc))
        .additional_properties(Some(AdditionalProperties::RefOr(
            schema::codes(
                Policy::ALL.iter().map(|p| p.code()),
                false,
                "A dedup policy",
            )
            .into(),
        )))
        .into()
}

/// The [`PolicyTable`] of certain matches, as the OpenAPI document names and describes it.
pub struct DedupPolicies;

impl PartialSchema for DedupPolicies {
    fn schema() -> RefOr<Schema> {
        policy_table_schema(
            "Source code → policy for certain matches; `*` is the policy of every source not \
             listed. What a new lead (API, web form, UI; an import chooses its own) that \
             certainly matches a lead, contact or account (the same phone, email or external \
             id; see `/api/v1/dedup/probable-policies` for the same name at the same company) \
             does: `block` — refused with 409 and the candidates; `warn` — created with the tag \
             `possible_duplicate` and `duplicate_of`; `merge` — its data fills the empty fields \
             of the lead it duplicates, answered with 200, that lead and `merged: true`. \
             Defaults: `web_form` merge, everything else warn",
        )
    }
}

impl ToSchema for DedupPolicies {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DedupPolicies")
    }
}

/// The [`PolicyTable`] of probable matches, as the OpenAPI document names and describes it.
pub struct DedupProbablePolicies;

impl PartialSchema for DedupProbablePolicies {
    fn schema() -> RefOr<Schema> {
        policy_table_schema(
            "Source code → policy for probable matches; `*` is the policy of every source not \
             listed. A probable match shares only the person's name and the company with a lead \
             or contact (no phone, email or external id): `block`, `warn` and `merge` as for \
             certain matches. Default: `warn` everywhere (two people may share a name at one \
             company, so a person reviews it). An import follows the policy of each row's \
             source unless it names `dedup_probable`",
        )
    }
}

impl ToSchema for DedupProbablePolicies {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DedupProbablePolicies")
    }
}

/// `GET /api/v1/dedup/policies` (certain matches) and `GET /api/v1/dedup/probable-policies`:
/// the [`PolicyTable`] of that kind of match.
pub async fn listed_policies(db: &Db, kind: Certainty) -> anyhow::Result<PolicyTable> {
    let policies = policies_of(db, kind).await?;
    let mut out = BTreeMap::new();
    out.insert(ANY_SOURCE.to_owned(), policy_for(&policies, ANY_SOURCE));
    for (source, _, _) in BUILTIN_SOURCES {
        out.insert((*source).to_owned(), policy_for(&policies, source));
    }
    for (source, policy) in &policies {
        out.insert(source.clone(), *policy);
    }
    Ok(PolicyTable(out))
}

/// A change of the policies for one kind of match: source code (or `*`) → its policy, or
/// `None` (null) to bring back the built-in default. Sources not named keep theirs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct PoliciesChange(pub BTreeMap<String, PolicyChoice>);

/// One source's policy in a [`PoliciesChange`]: a policy code, or null (`None`) for the
/// built-in default. Anything else is refused on the source's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyChoice(pub Option<Policy>);

impl<'de> Deserialize<'de> for PolicyChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(PolicyChoice(None)),
            Value::String(code) => Policy::parse("policy", &code)
                .map(|policy| PolicyChoice(Some(policy)))
                .map_err(|e| D::Error::custom(e.message)),
            _ => Err(D::Error::custom("must be block, warn, merge or null")),
        }
    }
}

impl PartialSchema for PoliciesChange {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "Source code (or `*`) → `block`, `warn`, `merge`, or null for the built-in \
                 default; sources not named keep their policy",
            ))
            .property_names(Some(
                schema::string(false, "A source code or `*`")
                    .pattern(Some("^([a-z0-9_]{1,40}|\\*)$")),
            ))
            .additional_properties(Some(AdditionalProperties::RefOr(
                schema::codes(
                    Policy::ALL.iter().map(|p| p.code()),
                    true,
                    "A dedup policy, or null",
                )
                .into(),
            )))
            .into()
    }
}

impl ToSchema for PoliciesChange {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DedupPoliciesInput")
    }
}

/// `PUT /api/v1/dedup/policies` and `PUT /api/v1/dedup/probable-policies` (admins): sets the
/// policy of each source named in the change (`{"web_form": "merge", "*": "block", "api":
/// null}`) for that kind of match; `null` brings back the built-in default; sources not named
/// keep theirs. The change is read once the caller is known to be an admin; a bad source or
/// policy is refused on its key.
pub async fn set_policies(
    ctx: Ctx<'_>,
    kind: Certainty,
    change: Unread<PoliciesChange>,
) -> StoreResult<PolicyTable> {
    require_policy_admin(ctx.actor)?;
    let mut changes = Vec::new();
    for (source, PolicyChoice(policy)) in change.read()?.0 {
        let source = if source == ANY_SOURCE {
            source
        } else {
            parse_source(&source).map_err(|e| Invalid::new(source.as_str(), e.message))?
        };
        changes.push((source, policy));
    }
    store_policies(ctx, kind, changes).await?;
    Ok(listed_policies(ctx.db, kind).await?)
}

/// One source's dedup policies as the settings page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePolicy {
    /// The source code, or [`ANY_SOURCE`] for every source not listed.
    pub source: String,
    /// The policy in force for certain matches.
    pub policy: Policy,
    /// The policy the source falls back to without the admin's setting: its built-in default,
    /// else the policy of any other source.
    pub default: Policy,
    /// Whether an admin set this source's policy (removing it brings back `default`).
    pub set: bool,
    /// The same three for probable matches.
    pub probable: Policy,
    pub probable_default: Policy,
    pub probable_set: bool,
}

/// Every source with a policy worth showing: any other source (`*`), the built-in sources and
/// the sources an admin set, with what is in force and whether it was set.
pub async fn source_policies(db: &Db) -> anyhow::Result<Vec<SourcePolicy>> {
    let certain = policies(db).await?;
    let probable = probable_policies(db).await?.0;
    let set_of = |kind: Certainty| async move {
        anyhow::Ok(
            db.fetch_all(
                &format!("SELECT source FROM {} ORDER BY source", policy_table(kind)),
                &[],
            )
            .await?
            .iter()
            .map(|r| r.text("source"))
            .collect::<Vec<String>>(),
        )
    };
    let set = set_of(Certainty::Certain).await?;
    let probable_set = set_of(Certainty::Probable).await?;
    let defaults = default_policies();
    let probable_defaults = default_probable_policies();
    let mut sources = vec![ANY_SOURCE.to_owned()];
    sources.extend(
        crate::records::choices::all(db)
            .await?
            .active(ChoiceKind::Source)
            .map(|s| s.code.clone()),
    );
    for source in set.iter().chain(&probable_set) {
        if !sources.contains(source) {
            sources.push(source.clone());
        }
    }
    Ok(sources
        .into_iter()
        .map(|source| SourcePolicy {
            policy: policy_for(&certain, &source),
            default: defaults
                .get(&source)
                .copied()
                .unwrap_or_else(|| policy_for(&certain, ANY_SOURCE)),
            set: set.contains(&source),
            probable: policy_for(&probable, &source),
            probable_default: probable_defaults
                .get(&source)
                .copied()
                .unwrap_or_else(|| policy_for(&probable, ANY_SOURCE)),
            probable_set: probable_set.contains(&source),
            source,
        })
        .collect())
}

/// Sets one source's policy for one kind of match (admins), or with `None` removes the admin's
/// setting so that the built-in default applies again. A bad source is refused on the field
/// `source`.
pub async fn set_policy(
    ctx: Ctx<'_>,
    kind: Certainty,
    source: &str,
    policy: Option<Policy>,
) -> StoreResult<()> {
    require_policy_admin(ctx.actor)?;
    let source = if source.trim() == ANY_SOURCE {
        ANY_SOURCE.to_owned()
    } else {
        parse_source(source)?
    };
    store_policies(ctx, kind, vec![(source, policy)]).await
}

fn require_policy_admin(actor: &Actor) -> StoreResult<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "only an admin may change the dedup policies".into(),
        ))
    }
}

/// Writes each source's policy for one kind of match, `None` deleting the admin's setting.
async fn store_policies(
    ctx: Ctx<'_>,
    kind: Certainty,
    changes: Vec<(String, Option<Policy>)>,
) -> StoreResult<()> {
    let table = policy_table(kind);
    let mut tx = ctx.db.begin().await?;
    let snapshot =
        audit::Before::take(&mut tx, audit::Setting::DedupPolicies, audit::SINGLETON).await?;
    for (source, policy) in changes {
        tx.execute(
            &format!("DELETE FROM {table} WHERE source = ?"),
            &[Param::from(source.as_str())],
        )
        .await?;
        if let Some(policy) = policy {
            tx.execute(
                &format!("INSERT INTO {table} (source, policy, updated_by, updated_at) VALUES (?, ?, ?, ?)"),
                &[
                    Param::from(source),
                    Param::from(policy.code()),
                    Param::Int(ctx.actor.user_id),
                    Param::Int(to_millis(ctx.now)),
                ],
            )
            .await?;
        }
    }
    snapshot
        .record(&mut tx, Some(ctx.actor), ctx.now, audit::Action::Update)
        .await?;
    tx.commit().await?;
    ctx.db.settings().clear::<BTreeMap<String, Policy>>();
    ctx.db.settings().clear::<ProbablePolicies>();
    Ok(())
}

/// Rows changed per statement when keys are filled in.
const FILL_BATCH: usize = 500;

/// The keys that migrations 0005 and 0013 add and SQL cannot compute: company keys (region
/// lists) and person keys of every existing record; migration 0032 computes the person keys
/// again, now that names differing in more than their form no longer share one.
pub const BACKFILLS: &[Backfill] = &[
    Backfill {
        after: "0005_dedup_keys",
        what: "the company keys of existing records",
        run: |tx| Box::pin(fill_keys(tx)),
    },
    Backfill {
        after: "0013_dedup_merge",
        what: "the person keys of existing records",
        run: |tx| Box::pin(fill_person_keys(tx)),
    },
    Backfill {
        after: "0032_import_outcomes",
        what: "the person keys of existing records, digits and characters kept",
        run: |tx| Box::pin(fill_person_keys(tx)),
    },
];

/// Computes the company keys of every existing lead and account (migration 0005).
async fn fill_keys(tx: &mut Tx) -> anyhow::Result<()> {
    fill_columns(tx, "company_key").await
}

/// Computes the person keys of every existing lead and contact (migrations 0013 and 0032).
async fn fill_person_keys(tx: &mut Tx) -> anyhow::Result<()> {
    fill_columns(tx, "person_key").await
}

async fn fill_columns(tx: &mut Tx, column: &str) -> anyhow::Result<()> {
    for table in TABLES {
        for key in table.keys.iter().filter(|k| k.column == column) {
            fill_key(tx, table, key).await?;
        }
    }
    Ok(())
}

async fn fill_key(tx: &mut Tx, table: &Table, key: &Key) -> anyhow::Result<()> {
    let rows = tx
        .fetch_all(
            &format!(
                "SELECT id, {} AS source FROM {} WHERE {0} IS NOT NULL",
                key.source, table.name
            ),
            &[],
        )
        .await?;
    let keyed: Vec<(i64, String)> = rows
        .iter()
        .filter_map(|r| {
            let computed = (key.compute)(&r.opt_text("source")?)?;
            Some((r.int("id"), computed))
        })
        .collect();
    for batch in keyed.chunks(FILL_BATCH) {
        let params: Vec<Param> = batch
            .iter()
            .flat_map(|(id, value)| [Param::Int(*id), Param::from(value.as_str())])
            .collect();
        // A join with a VALUES list (columns column1, column2 in both databases) updates a
        // batch in one pass; a CASE with a branch per row made PostgreSQL take seconds a batch.
        tx.execute(
            &format!(
                "UPDATE {0} SET {1} = v.column2 FROM (VALUES {2}) AS v WHERE {0}.id = v.column1",
                table.name,
                key.column,
                vec!["(?, ?)"; batch.len()].join(", ")
            ),
            &params,
        )
        .await?;
    }
    Ok(())
}

/// Dedup as a step of a lead's life: every new lead, and every change to a lead's phone,
/// e-mail, name or company, is screened against the base under its source's policy.
pub struct Screening;

#[async_trait]
impl Hook for Screening {
    async fn preparing(&self, ctx: Ctx<'_>, record: &mut NewRecord) -> StoreResult<()> {
        screen(ctx, record).await
    }

    async fn written(
        &self,
        ctx: Ctx<'_>,
        tx: &mut Tx,
        change: &Change<'_>,
        after: Value,
    ) -> StoreResult<Value> {
        screen_change(ctx, tx, change.table, change.before, after).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiansuo_core::role::Role;

    fn holder(record_type: RecordType, id: i64, owner: Option<i64>, keys: Keys) -> Holder {
        Holder {
            record_type,
            id,
            owner_id: owner,
            created_at: id,
            converted: false,
            keys,
        }
    }

    fn phone(p: &str) -> Keys {
        Keys {
            phone: Some(p.into()),
            ..Keys::default()
        }
    }

    fn actor(visible: Option<Vec<i64>>) -> Actor {
        Actor {
            user_id: 1,
            username: "rep".into(),
            role: Role::Rep,
            team_id: None,
            locale: "zh".into(),
            visible_owners: visible,
            mask_phones: false,
            access: xiansuo_core::role::TokenScope::Admin,
        }
    }

    #[test]
    fn policies_decide_what_a_strong_match_does() {
        let probe = phone("+8613800138000");
        let found = matches(
            &probe,
            &[
                holder(RecordType::Contact, 3, Some(1), phone("+8613800138000")),
                holder(RecordType::Lead, 7, Some(1), phone("+8613800138000")),
            ],
        );
        assert_eq!(found[0].holder.id, 7, "a lead comes before a contact");
        let me = actor(Some(vec![1]));
        assert_eq!(decide(&me, Policy::Block, &found), Decision::Block);
        assert_eq!(
            decide(&me, Policy::Warn, &found),
            Decision::Flag {
                duplicate_of: Some(7)
            }
        );
        assert_eq!(
            decide(&me, Policy::Merge, &found),
            Decision::Merge { into: 7 }
        );
        assert_eq!(
            decide(&actor(Some(vec![2])), Policy::Merge, &found),
            Decision::Block,
            "nothing merges into a lead outside the actor's scope"
        );
        let contact_only = matches(
            &probe,
            &[holder(
                RecordType::Contact,
                3,
                Some(2),
                phone("+8613800138000"),
            )],
        );
        assert_eq!(
            decide(&me, Policy::Merge, &contact_only),
            Decision::Flag { duplicate_of: None }
        );
    }

    #[tokio::test]
    async fn records_written_before_the_keys_existed_get_them() {
        let path = std::env::temp_dir().join(format!("xiansuo-dedup-{}.db", std::process::id()));
        let db = Db::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        crate::migrate(&db, 0).await.unwrap();
        // As a version without keys wrote them: the company and name, no keys.
        for (name, company) in [("张伟", Some("上海恒远信息科技有限公司")), ("李娜", None)]
        {
            db.execute(
                "INSERT INTO leads (name, company, source, status, created_at, updated_at) \
                 VALUES (?, ?, 'api', 'new', 0, 0)",
                &[Param::from(name), Param::from(company)],
            )
            .await
            .unwrap();
        }
        db.execute(
            "INSERT INTO accounts (name, created_at, updated_at) VALUES ('恒远信息科技（上海）有限公司', 0, 0)",
            &[],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO contacts (name, created_at, updated_at) VALUES ('Na Li', 0, 0)",
            &[],
        )
        .await
        .unwrap();

        let mut tx = db.begin().await.unwrap();
        fill_keys(&mut tx).await.unwrap();
        fill_person_keys(&mut tx).await.unwrap();
        tx.commit().await.unwrap();

        let keys = |sql: &'static str, column: &'static str| {
            let db = db.clone();
            async move {
                let rows = db.fetch_all(sql, &[]).await.unwrap();
                rows.iter().map(|r| r.opt_text(column)).collect::<Vec<_>>()
            }
        };
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            keys("SELECT company_key FROM leads ORDER BY id", "company_key").await,
            [some("恒远信息科技"), None]
        );
        assert_eq!(
            keys("SELECT company_key FROM accounts", "company_key").await,
            [some("恒远信息科技")]
        );
        assert_eq!(
            keys("SELECT person_key FROM leads ORDER BY id", "person_key").await,
            [some("张伟"), some("李娜")]
        );
        assert_eq!(
            keys("SELECT person_key FROM contacts", "person_key").await,
            [some("li na")]
        );
        db.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[test]
    fn a_policy_change_is_read_source_by_source() {
        let read = |body: Value| Unread::<PoliciesChange>::json(body).read();
        let change = read(json!({"api": "block", "*": null})).unwrap();
        assert_eq!(change.0["api"], PolicyChoice(Some(Policy::Block)));
        assert_eq!(change.0["*"], PolicyChoice(None));
        let refused = |body: Value| read(body).unwrap_err();
        let skip = refused(json!({"api": "skip"}));
        assert_eq!(skip.field, "api");
        assert!(skip.message.contains("block, warn or merge"), "{skip}");
        assert_eq!(
            refused(json!({"web_form": 1})),
            Invalid::new("web_form", "must be block, warn, merge or null")
        );
        assert_eq!(refused(json!(["api"])).field, "body");
    }

    #[test]
    fn the_same_company_alone_never_blocks() {
        let probe = Keys {
            person: Some("wei zhang".into()),
            company: Some("恒远".into()),
            ..Keys::default()
        };
        let colleague = Keys {
            person: Some("na li".into()),
            company: Some("恒远".into()),
            ..Keys::default()
        };
        let found = matches(&probe, &[holder(RecordType::Lead, 1, Some(1), colleague)]);
        assert_eq!(found[0].signals, vec![Signal::Company]);
        let me = actor(None);
        for policy in Policy::ALL {
            assert_eq!(decide(&me, *policy, &found), Decision::Create);
        }
    }
}
