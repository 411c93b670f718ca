//! Customers after conversion: the RFM value of accounts (recency, frequency and monetary value
//! of their won deals) that finds the A-class customers, and the handover of every record a
//! departing rep owns to another (个人资源 → 公司资源).
//!
//! Each account's won deals are totalled in `accounts` (count, amount, last win) by database
//! triggers on every write of a deal, so the totals cannot go stale whichever path writes it;
//! the scores and the class depend on today, so they are computed in SQL when read (see
//! docs/ARCHITECTURE.md for why and the figures).

use crate::channels::events;
use crate::channels::notifications::{self, Notification};
use crate::error::{StoreError, StoreResult};
use crate::records::history;
use crate::records::schema::{Table, ACCOUNTS, TABLES};
use crate::records::{self, rfc3339, Ctx};
use crate::scope::Actor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ArrayBuilder, ObjectBuilder};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::snapshot;
use xiansuo_core::role::Role;
use xiansuo_core::validation::Unread;
use xiansuo_core::{schema, Invalid};
use xiansuo_store::{Db, Param, Row, Tx};

/// Days since the last win at or below which recency scores 5, 4, 3, 2 (else 1).
const RECENCY_DAYS: [i64; 4] = [30, 90, 180, 365];
/// Won deals at or above which frequency scores 5, 4, 3, 2 (else 1).
const FREQUENCY: [i64; 4] = [10, 5, 3, 2];
/// Won amounts (yuan) at or above which monetary scores 5, 4, 3, 2 (else 1).
const MONETARY_YUAN: [i64; 4] = [1_000_000, 500_000, 100_000, 20_000];
/// Total scores at or above which an account is class A, else B (else C).
const CLASS_A: i64 = 12;
const CLASS_B: i64 = 8;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A score from 5 down to 1: 5 when `expr op` the first threshold holds, 4 for the second, …
fn step(expr: &str, op: &str, thresholds: [i64; 4]) -> String {
    let arms: Vec<String> = thresholds
        .iter()
        .zip([5, 4, 3, 2])
        .map(|(limit, score)| format!("WHEN {expr} {op} {limit} THEN {score}"))
        .collect();
    format!("CASE {} ELSE 1 END", arms.join(" "))
}

/// The accounts with won deals and their RFM scores, as a subquery over `accounts` (the
/// totals its triggers keep): the first parameter is now in milliseconds. Scores are computed
/// in SQL so that a report can filter, sort and page by class without reading every account.
fn scored_accounts(conditions: &str) -> String {
    let cents: [i64; 4] = MONETARY_YUAN.map(|yuan| yuan * 100);
    format!(
        "SELECT a.*, {r} AS r, {f} AS f, {m} AS m FROM (\
         SELECT id, name, owner_id, won_count, won_amount_cents, last_won_at, \
         (? - last_won_at) / {DAY_MS} AS days FROM accounts \
         WHERE won_count > 0 AND deleted_at IS NULL{conditions}) a",
        r = step("days", "<=", RECENCY_DAYS),
        f = step("won_count", ">=", FREQUENCY),
        m = step("won_amount_cents", ">=", cents),
    )
}

/// Adds the total score and the class to [`scored_accounts`].
fn classed_accounts(conditions: &str) -> String {
    format!(
        "SELECT s.*, r + f + m AS score, \
         CASE WHEN r + f + m >= {CLASS_A} THEN 'A' WHEN r + f + m >= {CLASS_B} THEN 'B' ELSE 'C' END AS class \
         FROM ({}) s",
        scored_accounts(conditions)
    )
}

/// An account's value from its won deals (RFM).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = AccountRfm,
    description = "An account's value from its won deals (RFM)"
)]
pub struct AccountRfm {
    /// The account
    #[schema(minimum = 1)]
    pub account_id: i64,
    /// Its name
    pub account_name: String,
    /// Its owner
    #[schema(required = true, minimum = 1)]
    pub owner_id: Option<i64>,
    /// Days since the last win
    #[schema(required = true)]
    pub recency_days: Option<i64>,
    /// Deals won
    pub frequency: i64,
    /// Amount won
    pub monetary: f64,
    /// The last win
    #[schema(required = true, schema_with = last_won_schema)]
    pub last_won_at: Option<String>,
    /// 5: ≤30 days, 4: ≤90, 3: ≤180, 2: ≤365, else 1
    #[schema(required = true)]
    pub recency_score: Option<i64>,
    /// 5: ≥10 deals, 4: ≥5, 3: ≥3, 2: 2, else 1
    #[schema(required = true)]
    pub frequency_score: Option<i64>,
    /// 5: ≥1,000,000, 4: ≥500,000, 3: ≥100,000, 2: ≥20,000, else 1
    #[schema(required = true)]
    pub monetary_score: Option<i64>,
    /// The sum of the three
    #[schema(required = true)]
    pub score: Option<i64>,
    #[schema(required = true, schema_with = class_schema)]
    pub class: Option<String>,
    /// An A-class customer
    pub a_class: bool,
}

fn last_won_schema() -> ObjectBuilder {
    schema::date_time(true, "The last win")
}

fn class_schema() -> ObjectBuilder {
    schema::codes(
        CLASSES,
        true,
        "A: score ≥ 12, B: ≥ 8, else C; null without wins",
    )
}

/// The classes of customers, best first.
const CLASSES: [&str; 3] = ["A", "B", "C"];

/// A class of customers, as the RFM report's filter names it: A (score ≥ 12), B (≥ 8) or C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(description = "A class")]
pub enum Class {
    A,
    B,
    C,
}

impl Class {
    fn parse(code: &str) -> Option<Class> {
        match code {
            "A" => Some(Class::A),
            "B" => Some(Class::B),
            "C" => Some(Class::C),
            _ => None,
        }
    }

    fn code(self) -> &'static str {
        CLASSES[self as usize]
    }
}

/// Accounts with won deals, best first, one page of them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RfmReport, description = "Accounts with won deals, best first")]
pub struct RfmReport {
    /// One page
    pub items: Vec<AccountRfm>,
    /// Accounts matching
    pub total: i64,
    pub counts: ClassCounts,
    /// This page
    pub page: i64,
    /// Accounts per page
    pub limit: i64,
}

/// How many accounts are in each class.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RfmClassCounts, description = "Accounts per class: A, B, C")]
pub struct ClassCounts {
    /// Class A accounts
    #[serde(rename = "A")]
    pub a: i64,
    /// Class B accounts
    #[serde(rename = "B")]
    pub b: i64,
    /// Class C accounts
    #[serde(rename = "C")]
    pub c: i64,
}

impl AccountRfm {
    /// An account's RFM from a row of [`classed_accounts`] (`None` for an account without won
    /// deals: no scores, no class).
    fn of(id: i64, name: &str, owner_id: Option<i64>, row: Option<&Row>) -> AccountRfm {
        let score = |name: &str| row.map(|r| r.int(name));
        AccountRfm {
            account_id: id,
            account_name: name.to_owned(),
            owner_id,
            recency_days: row.map(|r| r.int("days").max(0)),
            frequency: row.map_or(0, |r| r.int("won_count")),
            monetary: row.map_or(0, |r| r.int("won_amount_cents")) as f64 / 100.0,
            last_won_at: row.and_then(|r| r.opt_int("last_won_at")).map(rfc3339),
            recency_score: score("r"),
            frequency_score: score("f"),
            monetary_score: score("m"),
            score: score("score"),
            class: row.map(|r| r.text("class")),
            a_class: row.is_some_and(|r| r.text("class") == "A"),
        }
    }

    fn read(row: &Row) -> AccountRfm {
        AccountRfm::of(
            row.int("id"),
            &row.text("name"),
            row.opt_int("owner_id"),
            Some(row),
        )
    }
}

/// The account's RFM from all its won deals.
pub async fn account_rfm(
    db: &Db,
    actor: &Actor,
    account_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<AccountRfm> {
    let account = records::get(db, actor, &ACCOUNTS, account_id).await?;
    let row = db
        .fetch_optional(
            &classed_accounts(" AND id = ?"),
            &[Param::Int(to_millis(now)), Param::Int(account_id)],
        )
        .await?;
    Ok(match row {
        Some(row) => AccountRfm::read(&row),
        None => AccountRfm::of(
            account_id,
            account["name"].as_str().unwrap_or_default(),
            account["owner_id"].as_i64(),
            None,
        ),
    })
}

/// `?class=A&limit=&page=`: the accounts the actor may see that have won deals, best first
/// (class, then total score, then amount), one page at a time, with how many there are of each
/// class.
pub async fn report(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<RfmReport> {
    let mut classes: Vec<Class> = Vec::new();
    let mut limit = 50_i64;
    let mut page = 1_i64;
    for (name, value) in params {
        let value = value.trim();
        match name.as_str() {
            "class" => {
                classes = value
                    .split(',')
                    .map(|c| Class::parse(c.trim()))
                    .collect::<Option<Vec<Class>>>()
                    .ok_or_else(|| Invalid::new("class", "must be A, B or C (comma-separated)"))?;
            }
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=500).contains(n))
                    .ok_or_else(|| Invalid::new("limit", "must be a whole number from 1 to 500"))?
            }
            "page" => {
                page = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or_else(|| Invalid::new("page", "must be a whole number from 1"))?
            }
            _ => {
                return Err(Invalid::new(
                    name.as_str(),
                    "is not a parameter of the RFM report (accepted: class, limit, page)",
                )
                .into())
            }
        }
    }
    let scope = actor.scope_clause();
    let classed = classed_accounts(&scope);
    let now = Param::Int(to_millis(now));
    let counted = db
        .fetch_all(
            &format!("SELECT class, COUNT(*) AS n FROM ({classed}) c GROUP BY class"),
            std::slice::from_ref(&now),
        )
        .await?;
    let count = |class: &str| {
        counted
            .iter()
            .find(|r| r.text("class") == class)
            .map_or(0, |r| r.int("n"))
    };
    let total: i64 = CLASSES
        .iter()
        .filter(|c| classes.is_empty() || classes.iter().any(|k| k.code() == **c))
        .map(|c| count(c))
        .sum();
    let mut params = vec![now];
    let filter = if classes.is_empty() {
        String::new()
    } else {
        params.extend(classes.iter().map(|c| Param::from(c.code())));
        format!(" WHERE class IN ({})", vec!["?"; classes.len()].join(", "))
    };
    params.extend([Param::Int(limit), Param::Int((page - 1) * limit)]);
    let rows = db
        .fetch_all(
            &format!(
                "SELECT * FROM ({classed}) c{filter} \
                 ORDER BY class, score DESC, won_amount_cents DESC, id LIMIT ? OFFSET ?"
            ),
            &params,
        )
        .await?;
    Ok(RfmReport {
        items: rows.iter().map(AccountRfm::read).collect(),
        total,
        counts: ClassCounts {
            a: count("A"),
            b: count("B"),
            c: count("C"),
        },
        page,
        limit,
    })
}

/// Whose records a handover gives to whom, and which, as a request sends it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = HandoverInput, description = "Who takes the records, and which")]
pub struct NewHandover {
    /// An active user within your scope
    #[schema(required = true, nullable = false, minimum = 1)]
    pub to_user_id: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = record_types_schema)]
    pub record_types: Option<Vec<String>>,
}

fn record_types_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .schema_type(schema::typed(Type::Array, true))
        .items(schema::codes(
            TABLES.iter().map(|t| t.record_type.code()),
            false,
            "A record type",
        ))
        .min_items(Some(1))
        .description(Some("Which records; left out or null: all four types"))
}

/// What a handover moved.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "What moved")]
pub struct Handover {
    /// Who had them
    #[schema(minimum = 1)]
    pub from_user_id: i64,
    /// Who has them now
    #[schema(minimum = 1)]
    pub to_user_id: i64,
    /// Records moved, by record type
    pub counts: BTreeMap<String, i64>,
    /// Records moved
    pub total: i64,
}

/// The record types a handover moves; all of them by default.
fn record_types(codes: Option<Vec<String>>) -> Result<Vec<&'static Table>, Invalid> {
    let Some(codes) = codes else {
        return Ok(TABLES.to_vec());
    };
    if codes.is_empty() {
        return Err(Invalid::new(
            "record_types",
            "must be a non-empty list of: lead, account, contact, opportunity",
        ));
    }
    let mut tables: Vec<&'static Table> = Vec::new();
    for code in codes {
        let record_type = RecordType::parse(&code).map_err(|_| {
            Invalid::new(
                "record_types",
                format!("\"{code}\" is not one of: lead, account, contact, opportunity"),
            )
        })?;
        let table = Table::of(record_type);
        if !tables.iter().any(|t| t.name == table.name) {
            tables.push(table);
        }
    }
    Ok(tables)
}

async fn user_row(db: &Db, id: i64) -> anyhow::Result<Option<Row>> {
    db.fetch_optional(
        "SELECT id, active, locale, deleted_at FROM users WHERE id = ?",
        &[Param::Int(id)],
    )
    .await
}

/// Gives every record the user owns — deleted ones too, so that a restore does not bring one
/// back to a rep who left — to another user, in one transaction, each change in the record's
/// history with the caller's channel. Admins, and managers for users within their scope, may
/// do it. The new owner is notified once; leads' timers restart. Answers how many of each were
/// moved.
pub async fn handover(
    ctx: Ctx<'_>,
    from: i64,
    handover: Unread<NewHandover>,
) -> StoreResult<Handover> {
    if ctx.actor.role == Role::Rep {
        return Err(StoreError::Forbidden(
            "only an admin or a manager may hand over a user's records".into(),
        ));
    }
    let handover = handover.read()?;
    let to = match handover.to_user_id {
        None => return Err(Invalid::new("to_user_id", "is required").into()),
        Some(to) if to < 1 => {
            return Err(Invalid::new("to_user_id", "must be a whole number of at least 1").into())
        }
        Some(to) => to,
    };
    let tables = record_types(handover.record_types)?;
    if user_row(ctx.db, from).await?.is_none() {
        return Err(StoreError::NotFound("User"));
    }
    if !ctx.actor.sees_owner(from) {
        return Err(StoreError::Forbidden(format!(
            "user {from} is outside your data scope"
        )));
    }
    if to == from {
        return Err(Invalid::new("to_user_id", "must be another user").into());
    }
    let target = user_row(ctx.db, to)
        .await?
        .filter(|r| r.int("active") == 1 && r.opt_int("deleted_at").is_none())
        .ok_or_else(|| Invalid::new("to_user_id", format!("no active user has id {to}")))?;
    if !ctx.actor.sees_owner(to) {
        return Err(StoreError::Forbidden(format!(
            "you may only give records to users within your data scope; user {to} is outside it"
        )));
    }
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let mut counts = BTreeMap::new();
    let mut total = 0;
    for table in &tables {
        let moved = move_records(&mut tx, ctx, table, from, to, now).await?;
        total += moved;
        counts.insert(table.record_type.code().to_owned(), moved);
    }
    if total > 0 {
        let message = if target.text("locale") == "en" {
            format!("{total} records of a colleague were handed over to you")
        } else {
            format!("同事的 {total} 条记录已移交给你")
        };
        notifications::notify(
            &mut tx,
            &Notification {
                user_id: to,
                kind: notifications::Kind::HandedOver,
                record_type: None,
                record_id: None,
                message,
                now_ms: now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Handover {
        from_user_id: from,
        to_user_id: to,
        counts,
        total,
    })
}

/// Moves one table's records from `from` to `to`; returns how many.
async fn move_records(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    table: &'static Table,
    from: i64,
    to: i64,
    now: i64,
) -> StoreResult<i64> {
    let lock = tx.dialect().lock_rows();
    let rows = tx
        .fetch_all(
            &format!(
                "SELECT * FROM {} WHERE owner_id = ? ORDER BY id{lock}",
                table.name
            ),
            &[Param::Int(from)],
        )
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Owner timers (follow-up, recycling) restart with a new owner.
    let timers = table.field("assigned_at").is_some();
    let restart = if timers { ", assigned_at = ?" } else { "" };
    // By id, so that exactly the records read (and recorded in the history) move.
    for chunk in rows.chunks(500) {
        let mut params = vec![Param::Int(to), Param::Int(now)];
        if timers {
            params.push(Param::Int(now));
        }
        params.extend(chunk.iter().map(|r| Param::Int(r.int("id"))));
        tx.execute(
            &format!(
                "UPDATE {} SET owner_id = ?, updated_at = ?{restart} WHERE id IN ({})",
                table.name,
                vec!["?"; chunk.len()].join(", ")
            ),
            &params,
        )
        .await?;
    }
    let stamp = ctx.stamp();
    let kind = table.record_type.code();
    for row in &rows {
        let before = records::to_json(table, row);
        let mut after = before.clone();
        after["owner_id"] = json!(to);
        after["updated_at"] = json!(rfc3339(now));
        if timers {
            after["assigned_at"] = json!(rfc3339(now));
        }
        let id = row.int("id");
        crate::leads::pool::owner_changed(tx, table, id, Some(to)).await?;
        history::record_changes(
            tx,
            stamp,
            table.record_type,
            id,
            &snapshot(&before),
            &snapshot(&after),
        )
        .await?;
        if before["deleted_at"].is_null() {
            events::emit(tx, &format!("{kind}.updated"), &after, now).await?;
            if table.record_type == RecordType::Lead {
                events::emit(tx, "lead.assigned", &after, now).await?;
            }
        }
    }
    Ok(rows.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_step_down_from_five_at_each_threshold() {
        assert_eq!(
            step("d", "<=", RECENCY_DAYS),
            "CASE WHEN d <= 30 THEN 5 WHEN d <= 90 THEN 4 WHEN d <= 180 THEN 3 \
             WHEN d <= 365 THEN 2 ELSE 1 END"
        );
        assert!(scored_accounts("").contains("WHEN won_amount_cents >= 100000000 THEN 5"));
    }
}
