//! The duplicate scan: groups of leads across the whole base that share a phone, an email, or a
//! person and company key, directly or through one another. It runs as the job `dedup.scan`,
//! once a day and whenever a manager asks (`POST /api/v1/dedup/scan`). It reads the duplicate
//! keys a bounded page at a time, joins the leads sharing them into groups
//! ([`xiansuo_core::dedup::connected`]), and replaces the previous result in one transaction,
//! so readers always see one whole scan. `GET /api/v1/dedup/groups` shows each caller the
//! groups with at least two leads in their scope, and only those leads.

use super::candidate::signals_schema;
use crate::error::{StoreError, StoreResult};
use crate::jobs::queue::{self, Job, JobEnv, JobFailure};
use crate::records::schema::LEADS;
use crate::records::{self, rfc3339, Ctx};
use crate::scope::Actor;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Ref};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::dedup::{connected, Signal};
use xiansuo_core::role::Role;
use xiansuo_core::{schema, Invalid};
use xiansuo_store::{Db, Param, Row};

/// The scan as a job (`dedup.scan`): daily on its own, and whenever a manager asks.
pub struct Scan;

/// The scan a manager asked for; none for the daily run.
#[derive(Debug, Serialize, Deserialize)]
pub struct Requested {
    pub scan_id: i64,
}

#[async_trait]
impl Job for Scan {
    const KIND: &'static str = "dedup.scan";
    const EVERY: Option<i64> = Some(24 * 3600);
    type Payload = Option<Requested>;

    async fn run(
        &self,
        db: &Db,
        _: &JobEnv,
        requested: Option<Requested>,
        at: DateTime<Utc>,
    ) -> Result<(), JobFailure> {
        run(db, requested.map(|r| r.scan_id), at).await
    }
}

/// Duplicate keys read per query.
const PAGE: usize = 1_000;

/// Rows written per statement.
const WRITE_BATCH: usize = 500;

/// The most leads of one group shown in a list.
const MAX_SHOWN: i64 = 100;

/// What leads are grouped by: the signal and the columns that hold its key.
const KEYS: &[(Signal, &[&str])] = &[
    (Signal::Phone, &["phone_normalized"]),
    (Signal::Email, &["email_normalized"]),
    (Signal::ExternalId, &["external_id"]),
    (Signal::PersonAndCompany, &["person_key", "company_key"]),
];

/// A run of the scan, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = DedupScan, description = "A run of the duplicate scan")]
pub struct ScanRun {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    #[schema(schema_with = state_schema)]
    pub state: String,
    /// Who asked for it; null for the daily scan
    #[schema(required = true, minimum = 1)]
    pub requested_by: Option<i64>,
    #[schema(schema_with = created_at_schema)]
    pub created_at: String,
    #[schema(required = true, schema_with = started_at_schema)]
    pub started_at: Option<String>,
    #[schema(required = true, schema_with = finished_at_schema)]
    pub finished_at: Option<String>,
    /// Groups of duplicates found
    #[schema(required = true, minimum = 0)]
    pub groups_found: Option<i64>,
    /// Why it failed (it is retried)
    #[schema(required = true)]
    pub error: Option<String>,
}

fn state_schema() -> ObjectBuilder {
    schema::codes(["queued", "running", "done", "failed"], false, "Its state")
}

fn created_at_schema() -> ObjectBuilder {
    schema::date_time(false, "Asked for")
}

fn started_at_schema() -> ObjectBuilder {
    schema::date_time(true, "Started")
}

fn finished_at_schema() -> ObjectBuilder {
    schema::date_time(true, "Finished")
}

impl ScanRun {
    fn read(r: &Row) -> ScanRun {
        ScanRun {
            id: r.int("id"),
            state: r.text("state"),
            requested_by: r.opt_int("requested_by"),
            created_at: rfc3339(r.int("created_at")),
            started_at: r.opt_int("started_at").map(rfc3339),
            finished_at: r.opt_int("finished_at").map(rfc3339),
            groups_found: r.opt_int("groups_found"),
            error: r.opt_text("error"),
        }
    }
}

/// The latest scan, as `GET /api/v1/dedup/scan` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(description = "The latest scan")]
pub struct LatestScan {
    /// The latest scan; null before the first
    #[schema(required = true)]
    pub scan: Option<ScanRun>,
}

/// The latest scan, if there was one.
pub async fn latest(db: &Db) -> anyhow::Result<Option<ScanRun>> {
    Ok(db
        .fetch_optional("SELECT * FROM dedup_scans ORDER BY id DESC LIMIT 1", &[])
        .await?
        .as_ref()
        .map(ScanRun::read))
}

/// Asks for a scan (managers and admins): queues one, or answers with the one already queued
/// or running.
pub async fn start(ctx: Ctx<'_>) -> StoreResult<ScanRun> {
    if ctx.actor.role == Role::Rep {
        return Err(StoreError::Forbidden(
            "only managers and admins may start a duplicate scan".into(),
        ));
    }
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let pending = tx
        .fetch_optional(
            "SELECT * FROM dedup_scans WHERE state IN ('queued', 'running') ORDER BY id LIMIT 1",
            &[],
        )
        .await?;
    if let Some(scan) = pending {
        return Ok(ScanRun::read(&scan));
    }
    let id = tx
        .insert_returning_id(
            "INSERT INTO dedup_scans (state, requested_by, created_at) VALUES ('queued', ?, ?)",
            &[Param::Int(ctx.actor.user_id), Param::Int(now)],
        )
        .await?;
    queue::enqueue::<Scan>(
        &mut tx,
        &Some(Requested { scan_id: id }),
        now,
        Some(&format!("{}:{id}", Scan::KIND)),
    )
    .await?;
    let scan = tx
        .fetch_optional("SELECT * FROM dedup_scans WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or(StoreError::NotFound("Scan"))?;
    tx.commit().await?;
    Ok(ScanRun::read(&scan))
}

/// Runs the scan that was asked for, or (periodic) a new one.
async fn run(db: &Db, requested: Option<i64>, at: DateTime<Utc>) -> Result<(), JobFailure> {
    let at_ms = to_millis(at);
    let id = match requested {
        Some(id) => id,
        None => {
            let mut tx = db.begin().await?;
            let id = tx
                .insert_returning_id(
                    "INSERT INTO dedup_scans (state, created_at) VALUES ('queued', ?)",
                    &[Param::Int(at_ms)],
                )
                .await?;
            tx.commit().await?;
            id
        }
    };
    let state = db
        .fetch_optional(
            "SELECT state FROM dedup_scans WHERE id = ?",
            &[Param::Int(id)],
        )
        .await?
        .map(|r| r.text("state"))
        .ok_or_else(|| JobFailure::Permanent(format!("there is no scan {id}")))?;
    if state == "done" {
        return Ok(());
    }
    db.execute(
        "UPDATE dedup_scans SET state = 'running', started_at = ?, error = NULL WHERE id = ?",
        &[Param::Int(at_ms), Param::Int(id)],
    )
    .await?;
    match scan(db, id, at_ms).await {
        Ok(()) => Ok(()),
        Err(e) => {
            db.execute(
                "UPDATE dedup_scans SET state = 'failed', error = ? WHERE id = ?",
                &[Param::from(format!("{e:#}")), Param::Int(id)],
            )
            .await?;
            Err(JobFailure::Retry(format!("{e:#}")))
        }
    }
}

/// The sets of leads sharing one key, with the signal of that key.
async fn shared_keys(db: &Db) -> anyhow::Result<Vec<(Signal, Vec<i64>)>> {
    let mut sets = Vec::new();
    for (signal, columns) in KEYS {
        let list = columns.join(", ");
        let present: Vec<String> = columns.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        let present = present.join(" AND ");
        let mut after: Option<Vec<Param>> = None;
        loop {
            let (from, params) = match &after {
                Some(last) => (
                    format!(" AND ({list}) > ({})", vec!["?"; columns.len()].join(", ")),
                    last.clone(),
                ),
                None => (String::new(), Vec::new()),
            };
            let keys = db
                .fetch_all(
                    &format!(
                        "SELECT {list} FROM leads WHERE deleted_at IS NULL AND {present}{from} \
                         GROUP BY {list} HAVING COUNT(*) > 1 ORDER BY {list} LIMIT {PAGE}"
                    ),
                    &params,
                )
                .await?;
            let Some(last) = keys.last() else { break };
            after = Some(columns.iter().map(|c| Param::from(last.text(c))).collect());
            let mut conditions = Vec::new();
            let mut params = Vec::new();
            for column in columns.iter() {
                let mut values: Vec<String> = keys.iter().map(|k| k.text(column)).collect();
                values.sort_unstable();
                values.dedup();
                conditions.push(format!(
                    "{column} IN ({})",
                    vec!["?"; values.len()].join(", ")
                ));
                params.extend(values.into_iter().map(Param::from));
            }
            let wanted: BTreeSet<Vec<String>> = keys
                .iter()
                .map(|k| columns.iter().map(|c| k.text(c)).collect())
                .collect();
            let rows = db
                .fetch_all(
                    &format!(
                        "SELECT id, {list} FROM leads WHERE deleted_at IS NULL AND {} ORDER BY id",
                        conditions.join(" AND ")
                    ),
                    &params,
                )
                .await?;
            let mut by_key: HashMap<Vec<String>, Vec<i64>> = HashMap::new();
            for row in &rows {
                let key: Vec<String> = columns.iter().map(|c| row.text(c)).collect();
                if wanted.contains(&key) {
                    by_key.entry(key).or_default().push(row.int("id"));
                }
            }
            sets.extend(by_key.into_values().map(|ids| (*signal, ids)));
            if keys.len() < PAGE {
                break;
            }
        }
    }
    Ok(sets)
}

async fn scan(db: &Db, id: i64, at_ms: i64) -> anyhow::Result<()> {
    let sets = shared_keys(db).await?;
    let ids: Vec<Vec<i64>> = sets.iter().map(|(_, ids)| ids.clone()).collect();
    let groups = connected(&ids);
    let mut group_of: HashMap<i64, usize> = HashMap::new();
    for (i, group) in groups.iter().enumerate() {
        for lead in group {
            group_of.insert(*lead, i);
        }
    }
    let mut signals: Vec<BTreeSet<Signal>> = vec![BTreeSet::new(); groups.len()];
    for (signal, ids) in &sets {
        if let Some(&i) = ids.first().and_then(|first| group_of.get(first)) {
            signals[i].insert(*signal);
        }
    }

    let mut tx = db.begin().await?;
    tx.execute("DELETE FROM duplicate_group_members", &[])
        .await?;
    tx.execute("DELETE FROM duplicate_groups", &[]).await?;
    let mut group_ids: Vec<i64> = Vec::with_capacity(groups.len());
    for (chunk, chunk_signals) in groups.chunks(WRITE_BATCH).zip(signals.chunks(WRITE_BATCH)) {
        let mut params = Vec::with_capacity(chunk.len() * 4);
        for (group, signals) in chunk.iter().zip(chunk_signals) {
            let codes: Vec<&str> = signals.iter().map(|s| s.code()).collect();
            params.extend([
                Param::Int(id),
                Param::from(json!(codes).to_string()),
                Param::Int(group.len() as i64),
                Param::Int(at_ms),
            ]);
        }
        let rows = tx
            .fetch_all(
                &format!(
                    "INSERT INTO duplicate_groups (scan_id, signals, size, created_at) VALUES {} RETURNING id",
                    vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
                ),
                &params,
            )
            .await?;
        // Ids are handed out in the order of the VALUES rows; RETURNING promises no order.
        let mut ids: Vec<i64> = rows.iter().map(|r| r.int("id")).collect();
        ids.sort_unstable();
        group_ids.extend(ids);
    }
    let members: Vec<(i64, i64)> = groups
        .iter()
        .zip(&group_ids)
        .flat_map(|(leads, group)| leads.iter().map(move |lead| (*group, *lead)))
        .collect();
    for chunk in members.chunks(WRITE_BATCH) {
        let params: Vec<Param> = chunk
            .iter()
            .flat_map(|(group, lead)| [Param::Int(*group), Param::Int(*lead)])
            .collect();
        tx.execute(
            &format!(
                "INSERT INTO duplicate_group_members (group_id, lead_id) VALUES {}",
                vec!["(?, ?)"; chunk.len()].join(", ")
            ),
            &params,
        )
        .await?;
    }
    tx.execute(
        "UPDATE dedup_scans SET state = 'done', finished_at = ?, groups_found = ? WHERE id = ?",
        &[
            Param::Int(at_ms),
            Param::Int(groups.len() as i64),
            Param::Int(id),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A group of leads the last scan found, with its leads within the caller's scope.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    as = DuplicateGroup,
    description = "A group of leads that are duplicates of each other"
)]
pub struct Group {
    /// The group's id
    #[schema(minimum = 1)]
    pub id: i64,
    #[schema(schema_with = signals_schema)]
    pub signals: Vec<Signal>,
    /// Its leads within your scope
    #[schema(minimum = 2)]
    pub size: i64,
    /// The leads as their endpoint shows them, at most 100.
    #[schema(schema_with = group_leads_schema)]
    pub leads: Vec<Value>,
}

fn group_leads_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(Ref::from_schema_name("Lead"))
        .description(Some(
            "Its leads within your scope, oldest first (at most 100)",
        ))
}

/// A page of groups, with the scan they come from.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = DuplicateGroups, description = "A page of duplicate groups")]
pub struct GroupPage {
    /// Groups with at least two leads within your scope
    pub items: Vec<Group>,
    /// The cursor of the next page
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// The latest scan; null before the first
    #[schema(required = true)]
    pub scan: Option<ScanRun>,
}

/// `GET /api/v1/dedup/groups`: the groups of the last scan with at least two leads (not deleted
/// or merged since) in the actor's scope, with those leads (at most 100 a group), by group id;
/// `?limit=` (1–200, default 50) and `?cursor=` from the previous page.
pub async fn groups(db: &Db, actor: &Actor, params: &[(String, String)]) -> StoreResult<GroupPage> {
    let mut limit = 50_i64;
    let mut after = 0_i64;
    for (name, value) in params {
        match name.as_str() {
            "limit" => {
                limit = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=200).contains(n))
                    .ok_or_else(|| Invalid::new("limit", "must be a whole number from 1 to 200"))?
            }
            "cursor" => {
                after = value.trim().parse().map_err(|_| {
                    Invalid::new(
                        "cursor",
                        "is not a cursor from a previous page of this list",
                    )
                })?
            }
            other => {
                return Err(Invalid::new(other, "is not accepted (accepted: limit, cursor)").into())
            }
        }
    }
    let scope = actor.scope_clause_on("l.owner_id");
    let mut found = db
        .fetch_all(
            &format!(
                "SELECT g.id, g.signals, COUNT(*) AS visible FROM duplicate_groups g \
                 JOIN duplicate_group_members m ON m.group_id = g.id \
                 JOIN leads l ON l.id = m.lead_id \
                 WHERE g.id > ? AND l.deleted_at IS NULL{scope} \
                 GROUP BY g.id, g.signals HAVING COUNT(*) >= 2 ORDER BY g.id LIMIT {}",
                limit + 1
            ),
            &[Param::Int(after)],
        )
        .await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|g| g.int("id").to_string())
    } else {
        None
    };
    let mut leads: HashMap<i64, Vec<Value>> = HashMap::new();
    if !found.is_empty() {
        let ids: Vec<Param> = found.iter().map(|g| Param::Int(g.int("id"))).collect();
        let rows = db
            .fetch_all(
                &format!(
                    "SELECT m.group_id, l.* FROM duplicate_group_members m \
                     JOIN leads l ON l.id = m.lead_id \
                     WHERE m.group_id IN ({}) AND l.deleted_at IS NULL{scope} \
                     ORDER BY l.created_at, l.id",
                    vec!["?"; ids.len()].join(", ")
                ),
                &ids,
            )
            .await?;
        for row in &rows {
            let shown = leads.entry(row.int("group_id")).or_default();
            if (shown.len() as i64) < MAX_SHOWN {
                shown.push(records::to_json(&LEADS, row));
            }
        }
    }
    let items: Vec<Group> = found
        .iter()
        .map(|g| {
            let id = g.int("id");
            Group {
                id,
                signals: serde_json::from_str(&g.text("signals")).unwrap_or_default(),
                size: g.int("visible"),
                leads: leads.remove(&id).unwrap_or_default(),
            }
        })
        .collect();
    Ok(GroupPage {
        items,
        next_cursor,
        scan: latest(db).await?,
    })
}
