//! Customers after conversion: the RFM value of accounts (recency, frequency and monetary value
//! of their won deals) that finds the A-class customers, and the handover of every record a
//! departing rep owns to another (个人资源 → 公司资源).
//!
//! RFM is computed when read, from the won deals themselves: one indexed aggregate per account,
//! and one grouped scan for the report, so it can never be stale after a deal is won, reopened,
//! deleted or moved to another account (see docs/ARCHITECTURE.md for the figures).

use crate::db::{Db, Dialect, Param, Row, Tx};
use crate::error::{StoreError, StoreResult};
use crate::events;
use crate::history;
use crate::notifications::{self, Notification};
use crate::pipeline::Body;
use crate::record::{self, rfc3339, Ctx};
use crate::schema::{Table, ACCOUNTS, TABLES};
use crate::scope::Actor;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::snapshot;
use xiansuo_core::role::Role;
use xiansuo_core::Invalid;

/// What an account's won deals add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfm {
    /// Whole days since the last deal was won; `None` without won deals.
    pub recency_days: Option<i64>,
    /// How many deals were won.
    pub frequency: i64,
    /// Their amount, in cents.
    pub monetary_cents: i64,
}

/// Scores 1 (low) to 5 (high) and the class they give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RfmScore {
    pub recency: i64,
    pub frequency: i64,
    pub monetary: i64,
    pub class: char,
}

/// Days since the last win at or below which recency scores 5, 4, 3, 2 (else 1).
const RECENCY_DAYS: [i64; 4] = [30, 90, 180, 365];
/// Won deals at or above which frequency scores 5, 4, 3, 2 (else 1).
const FREQUENCY: [i64; 4] = [10, 5, 3, 2];
/// Won amounts (yuan) at or above which monetary scores 5, 4, 3, 2 (else 1).
const MONETARY_YUAN: [i64; 4] = [1_000_000, 500_000, 100_000, 20_000];
/// Total scores at or above which an account is class A, else B (else C).
const CLASS_A: i64 = 12;
const CLASS_B: i64 = 8;

/// Scores an account's RFM; `None` for an account without won deals, which has no class.
pub fn score(rfm: &Rfm) -> Option<RfmScore> {
    let days = rfm.recency_days?;
    let step = |hits: [bool; 4]| 5 - hits.iter().position(|hit| *hit).unwrap_or(4) as i64;
    let recency = step(RECENCY_DAYS.map(|limit| days <= limit));
    let frequency = step(FREQUENCY.map(|limit| rfm.frequency >= limit));
    let monetary = step(MONETARY_YUAN.map(|limit| rfm.monetary_cents >= limit * 100));
    let total = recency + frequency + monetary;
    let class = if total >= CLASS_A {
        'A'
    } else if total >= CLASS_B {
        'B'
    } else {
        'C'
    };
    Some(RfmScore {
        recency,
        frequency,
        monetary,
        class,
    })
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Builds the API's view of one account's RFM from its aggregate row (`n`, `amount`, `last`).
fn rfm_json(account: &Value, row: Option<&Row>, now_ms: i64) -> Value {
    let last = row.and_then(|r| r.opt_int("last"));
    let rfm = Rfm {
        recency_days: last.map(|l| (now_ms - l).max(0) / DAY_MS),
        frequency: row.map_or(0, |r| r.int("n")),
        monetary_cents: row.map_or(0, |r| r.int("amount")),
    };
    let scored = score(&rfm);
    json!({
        "account_id": account["id"],
        "account_name": account["name"],
        "owner_id": account["owner_id"],
        "recency_days": rfm.recency_days,
        "frequency": rfm.frequency,
        "monetary": rfm.monetary_cents as f64 / 100.0,
        "last_won_at": last.map(rfc3339),
        "recency_score": scored.map(|s| s.recency),
        "frequency_score": scored.map(|s| s.frequency),
        "monetary_score": scored.map(|s| s.monetary),
        "score": scored.map(|s| s.recency + s.frequency + s.monetary),
        "class": scored.map(|s| s.class.to_string()),
        "a_class": scored.is_some_and(|s| s.class == 'A'),
    })
}

const WON: &str = "result = 'won' AND deleted_at IS NULL";

/// `GET /api/v1/accounts/{id}/rfm`: the account's RFM from all its won deals.
pub async fn account_rfm(
    db: &Db,
    actor: &Actor,
    account_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    let account = record::get(db, actor, &ACCOUNTS, account_id).await?;
    let row = db
        .fetch_optional(
            &format!(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) AS amount, \
                 MAX(closed_at) AS last FROM opportunities WHERE account_id = ? AND {WON}"
            ),
            &[Param::Int(account_id)],
        )
        .await?;
    Ok(rfm_json(&account, row.as_ref(), to_millis(now)))
}

/// `GET /api/v1/reports/rfm?class=A&limit=&page=`: the accounts the actor may see that have
/// won deals, best first (class, then total score, then amount), one page at a time.
pub async fn report(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    let mut classes: Vec<String> = Vec::new();
    let mut limit = 50_usize;
    let mut page = 1_usize;
    for (name, value) in params {
        let value = value.trim();
        match name.as_str() {
            "class" => {
                classes = value.split(',').map(|c| c.trim().to_owned()).collect();
                if classes
                    .iter()
                    .any(|c| !["A", "B", "C"].contains(&c.as_str()))
                {
                    return Err(Invalid::new("class", "must be A, B or C (comma-separated)").into());
                }
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
                    .filter(|n| *n >= 1)
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
    let scope = actor
        .owner_condition("a.owner_id")
        .map(|c| format!(" AND {c}"))
        .unwrap_or_default();
    let rows = db
        .fetch_all(
            &format!(
                "SELECT a.id, a.name, a.owner_id, COUNT(*) AS n, \
                 CAST(COALESCE(SUM(o.amount_cents), 0) AS BIGINT) AS amount, MAX(o.closed_at) AS last \
                 FROM opportunities o JOIN accounts a ON a.id = o.account_id \
                 WHERE o.result = 'won' AND o.deleted_at IS NULL AND a.deleted_at IS NULL{scope} \
                 GROUP BY a.id, a.name, a.owner_id"
            ),
            &[],
        )
        .await?;
    let now_ms = to_millis(now);
    let mut items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let account = json!({"id": r.int("id"), "name": r.text("name"), "owner_id": r.opt_int("owner_id")});
            rfm_json(&account, Some(r), now_ms)
        })
        .filter(|item| {
            classes.is_empty()
                || item["class"]
                    .as_str()
                    .is_some_and(|c| classes.iter().any(|k| k == c))
        })
        .collect();
    items.sort_by(|a, b| {
        let key = |v: &Value| {
            (
                v["class"].as_str().unwrap_or("Z").to_owned(),
                -v["score"].as_i64().unwrap_or_default(),
                -(v["monetary"].as_f64().unwrap_or_default() * 100.0) as i64,
                v["account_id"].as_i64().unwrap_or_default(),
            )
        };
        key(a).cmp(&key(b))
    });
    let total = items.len();
    let count = |class: &str| items.iter().filter(|i| i["class"] == class).count();
    let counts = json!({"A": count("A"), "B": count("B"), "C": count("C")});
    let start = (page - 1).saturating_mul(limit).min(total);
    let end = start.saturating_add(limit).min(total);
    Ok(json!({
        "items": items[start..end],
        "total": total,
        "counts": counts,
        "page": page,
        "limit": limit,
    }))
}

/// The record types a handover moves by default: all of them.
fn record_types(body: &Body<'_>) -> StoreResult<Vec<&'static Table>> {
    let Some(value) = body.get("record_types").filter(|v| !v.is_null()) else {
        return Ok(TABLES.to_vec());
    };
    let codes = value
        .as_array()
        .filter(|list| !list.is_empty())
        .ok_or_else(|| {
            Invalid::new(
                "record_types",
                "must be a non-empty list of: lead, account, contact, opportunity",
            )
        })?;
    let mut tables: Vec<&'static Table> = Vec::new();
    for code in codes {
        let record_type = code
            .as_str()
            .and_then(|c| RecordType::parse(c).ok())
            .ok_or_else(|| {
                Invalid::new(
                    "record_types",
                    format!("{code} is not one of: lead, account, contact, opportunity"),
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

/// `POST /api/v1/users/{id}/handover` with `{"to_user_id", "record_types"?}`: gives every
/// record the user owns — deleted ones too, so that a restore does not bring one back to a rep
/// who left — to another user, in one transaction, each change in the record's history with
/// the caller's channel. Admins, and managers for users within their scope, may do it. The
/// new owner is notified once; leads' timers restart. Answers how many of each were moved.
pub async fn handover(ctx: Ctx<'_>, from: i64, body: &Value) -> StoreResult<Value> {
    if ctx.actor.role == Role::Rep {
        return Err(StoreError::Forbidden(
            "only an admin or a manager may hand over a user's records".into(),
        ));
    }
    let body = Body::parse(body, "", &["to_user_id", "record_types"])?;
    let to = body
        .int("to_user_id", 1, i64::MAX)?
        .ok_or_else(|| Invalid::new("to_user_id", "is required"))?;
    let tables = record_types(&body)?;
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
    let mut counts = serde_json::Map::new();
    let mut total = 0;
    for table in &tables {
        let moved = move_records(&mut tx, ctx, table, from, to, now).await?;
        total += moved;
        counts.insert(table.record_type.code().to_owned(), json!(moved));
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
                kind: "records.handed_over",
                record_type: None,
                record_id: None,
                message,
                now_ms: now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(json!({
        "from_user_id": from,
        "to_user_id": to,
        "counts": counts,
        "total": total,
    }))
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
    let lock = if tx.dialect() == Dialect::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
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
        let before = record::to_json(table, row);
        let mut after = before.clone();
        after["owner_id"] = json!(to);
        after["updated_at"] = json!(rfc3339(now));
        if timers {
            after["assigned_at"] = json!(rfc3339(now));
        }
        let id = row.int("id");
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

    fn rfm(days: i64, frequency: i64, yuan: i64) -> Rfm {
        Rfm {
            recency_days: Some(days),
            frequency,
            monetary_cents: yuan * 100,
        }
    }

    #[test]
    fn each_dimension_scores_one_to_five_at_its_thresholds() {
        let s = score(&rfm(30, 10, 1_000_000)).unwrap();
        assert_eq!(
            (s.recency, s.frequency, s.monetary, s.class),
            (5, 5, 5, 'A')
        );
        let s = score(&rfm(31, 9, 999_999)).unwrap();
        assert_eq!((s.recency, s.frequency, s.monetary), (4, 4, 4));
        let s = score(&rfm(366, 1, 19_999)).unwrap();
        assert_eq!(
            (s.recency, s.frequency, s.monetary, s.class),
            (1, 1, 1, 'C')
        );
        let s = score(&rfm(100, 3, 100_000)).unwrap();
        assert_eq!(
            (s.recency, s.frequency, s.monetary, s.class),
            (3, 3, 3, 'B')
        );
    }

    #[test]
    fn class_a_needs_a_total_of_twelve() {
        assert_eq!(score(&rfm(10, 5, 500_000)).unwrap().class, 'A'); // 5 + 4 + 4 = 13
        assert_eq!(score(&rfm(200, 5, 500_000)).unwrap().class, 'B'); // 2 + 4 + 4 = 10
        assert_eq!(score(&rfm(200, 2, 20_000)).unwrap().class, 'C'); // 2 + 2 + 2 = 6
    }

    #[test]
    fn an_account_without_won_deals_has_no_class() {
        let none = Rfm {
            recency_days: None,
            frequency: 0,
            monetary_cents: 0,
        };
        assert_eq!(score(&none), None);
    }
}
