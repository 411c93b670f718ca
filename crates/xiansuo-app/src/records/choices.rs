//! The choice lists admins edit (statuses, sources, outcomes, lost and disqualify reasons; see
//! [`xiansuo_core::choice`]): reading them for the record engine and the pages (kept in the
//! settings cache), and adding, relabelling, reordering, archiving and deleting entries, each
//! change in the audit log.

use crate::admin::audit;
use crate::error::{StoreError, StoreResult};
use crate::scope::Actor;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::choice::{self, fold, Choice, ChoiceKind, Choices};
use xiansuo_core::clock::to_millis;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::schema;
use xiansuo_core::validation::Unread;
use xiansuo_core::{Invalid, Text};
use xiansuo_store::{Db, Param, Reader, Row, Tx};

/// Every list, from the cache when read recently.
pub async fn all(db: &Db) -> anyhow::Result<Arc<Choices>> {
    if let Some(choices) = db.settings().get::<Arc<Choices>>(0) {
        return Ok(choices);
    }
    let rows = db
        .fetch_all("SELECT * FROM choices ORDER BY position, id", &[])
        .await?;
    let items = rows
        .iter()
        .map(choice_of)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let choices = Arc::new(Choices::new(items));
    db.settings().put(0, choices.clone());
    Ok(choices)
}

/// A row of `choices`, as far as an entry shows it.
#[derive(Deserialize)]
struct StoredChoice {
    id: i64,
    kind: String,
    code: String,
    label_zh: String,
    label_en: String,
    status_type: Option<String>,
    position: i64,
    archived: bool,
    builtin: bool,
}

/// The entry of a `choices` row. A kind or status type that is not a known code is a broken
/// row, an error rather than a source or no type.
fn choice_of(r: &Row) -> anyhow::Result<Choice> {
    let stored: StoredChoice = r.decode()?;
    let kind = ChoiceKind::parse(&stored.kind)
        .map_err(|e| anyhow::anyhow!("choices.kind of the entry {}: {e}", stored.id))?;
    let status_type = stored
        .status_type
        .map(|s| LeadStatus::parse(&s))
        .transpose()
        .map_err(|e| anyhow::anyhow!("choices.status_type of the entry {}: {e}", stored.id))?;
    Ok(Choice {
        id: stored.id,
        kind,
        code: stored.code,
        label_zh: stored.label_zh,
        label_en: stored.label_en,
        status_type,
        position: stored.position,
        archived: stored.archived,
        builtin: stored.builtin,
    })
}

/// A new entry of a list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "A new entry; `status_type` is required for statuses, and the rest take none (null)"
)]
pub struct NewChoice {
    /// `status`, `source`, `outcome`, `lost_reason` or `disqualify_reason`.
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// `[a-z0-9_]`, 1–40 characters, unique in its list.
    #[schema(schema_with = code_schema)]
    pub code: String,
    /// 1–60 characters.
    #[schema(schema_with = new_label_zh_schema)]
    pub label_zh: String,
    /// 1–60 characters.
    #[schema(schema_with = new_label_en_schema)]
    pub label_en: String,
    /// Statuses only, and required for them: the fixed type whose rules apply.
    #[serde(default)]
    #[schema(schema_with = status_type_schema)]
    pub status_type: Option<String>,
    /// Where in the list; at the end when left out.
    #[serde(default)]
    #[schema(schema_with = position_schema)]
    pub position: Option<i64>,
}

/// Changes to an entry; a field left out keeps its value. The code, kind and status type stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "The fields to change; code, kind and status type stay")]
pub struct ChoiceChange {
    #[serde(default)]
    #[schema(schema_with = label_zh_schema)]
    pub label_zh: Option<String>,
    #[serde(default)]
    #[schema(schema_with = label_en_schema)]
    pub label_en: Option<String>,
    #[serde(default)]
    #[schema(schema_with = position_schema)]
    pub position: Option<i64>,
    /// Hide it from pickers (the six fixed statuses cannot be archived): archived entries are
    /// refused in new writes (sources excepted, which take any code); records that hold one
    /// still show its label. Null keeps it
    #[serde(default)]
    pub archived: Option<bool>,
}

fn kind_schema() -> ObjectBuilder {
    schema::codes(
        ChoiceKind::ALL.iter().map(|k| k.code()),
        false,
        "The list: `status` (状态), `source` (来源), `outcome` (跟进结果), `lost_reason` \
         (输单原因) or `disqualify_reason` (无效原因)",
    )
}

fn code_schema() -> ObjectBuilder {
    schema::string(false, "`[a-z0-9_]`, 1–40 characters, unique in its list")
        .pattern(Some("^[a-z0-9_]{1,40}$"))
}

fn new_label_zh_schema() -> ObjectBuilder {
    schema::text(false, true, 60, "The Chinese label")
}

fn new_label_en_schema() -> ObjectBuilder {
    schema::text(false, true, 60, "The English label")
}

fn label_zh_schema() -> ObjectBuilder {
    schema::text(true, true, 60, "The Chinese label; null keeps it")
}

fn label_en_schema() -> ObjectBuilder {
    schema::text(true, true, 60, "The English label; null keeps it")
}

fn status_type_schema() -> ObjectBuilder {
    schema::codes(
        LeadStatus::ALL.iter().map(|s| s.code()),
        true,
        "For statuses: the fixed type whose rules apply",
    )
}

fn position_schema() -> ObjectBuilder {
    schema::scalar(
        utoipa::openapi::Type::Integer,
        true,
        "Display order within the list; null keeps it (a new entry goes to the end)",
    )
    .minimum(Some(0))
    .maximum(Some(100_000))
}

/// Every entry of the lists asked for, in list order: all of them, there are few.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(description = "The entries, list by list in display order")]
pub struct ChoiceList {
    /// The entries
    pub items: Vec<Choice>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The choice lists for `GET /api/v1/choices`: anyone signed in reads them; `?kind=` keeps one
/// list.
pub async fn list_query(db: &Db, query: &[(String, String)]) -> StoreResult<ChoiceList> {
    let mut kind = None;
    for (name, value) in query {
        match name.as_str() {
            "kind" => kind = Some(value.as_str()),
            other => {
                return Err(
                    Invalid::new(other, "is not a filter of choices (accepted: kind)").into(),
                )
            }
        }
    }
    Ok(ChoiceList {
        items: list(db, kind).await?,
        next_cursor: None,
    })
}

fn label(field: &str, value: &str) -> Result<String, Invalid> {
    Ok(Text::parse(field, value, 60)?.into_string())
}

fn position(value: i64) -> Result<i64, Invalid> {
    if (0..=100_000).contains(&value) {
        Ok(value)
    } else {
        Err(Invalid::new("position", "must be 0 to 100000"))
    }
}

/// Refuses an entry whose code or labels would read as another entry's of the same list, so
/// that every label names one entry.
fn check_unique(
    choices: &Choices,
    kind: ChoiceKind,
    id: i64,
    code: &str,
    zh: &str,
    en: &str,
) -> StoreResult<()> {
    for (field, value) in [("code", code), ("label_zh", zh), ("label_en", en)] {
        let folded = fold(value);
        if let Some(other) = choices.of(kind).find(|o| {
            o.id != id
                && [&o.code, &o.label_zh, &o.label_en]
                    .iter()
                    .any(|v| fold(v) == folded)
        }) {
            return Err(StoreError::Conflict(format!(
                "{field} '{value}' already names {} ({}) in the list {}",
                other.code,
                other.label_zh,
                kind.code()
            )));
        }
    }
    Ok(())
}

/// Every list, or one (`kind`), archived entries included; anyone signed in may read them.
pub async fn list(db: &Db, kind: Option<&str>) -> StoreResult<Vec<Choice>> {
    let kind = kind.map(ChoiceKind::parse).transpose()?;
    let choices = all(db).await?;
    Ok(ChoiceKind::ALL
        .into_iter()
        .filter(|k| kind.is_none_or(|wanted| wanted == *k))
        .flat_map(|k| choices.of(k).cloned().collect::<Vec<_>>())
        .collect())
}

async fn read(tx: &mut Tx, id: i64) -> StoreResult<Choice> {
    tx.fetch_optional("SELECT * FROM choices WHERE id = ?", &[Param::Int(id)])
        .await?
        .map(|r| choice_of(&r))
        .transpose()?
        .ok_or(StoreError::NotFound("choice"))
}

/// Adds an entry (admins only).
pub async fn create(
    db: &Db,
    actor: &Actor,
    input: Unread<NewChoice>,
    now: DateTime<Utc>,
) -> StoreResult<Choice> {
    actor.require_admin("edit choice lists")?;
    let input = input.read()?;
    let kind = ChoiceKind::parse(&input.kind)?;
    let code = choice::parse_code(&input.code)?;
    let zh = label("label_zh", &input.label_zh)?;
    let en = label("label_en", &input.label_en)?;
    let status_type = match (kind, input.status_type.as_deref()) {
        (ChoiceKind::Status, Some(t)) => Some(
            LeadStatus::parse(t)
                .map_err(|e| Invalid::new("status_type", e.message))?
                .code(),
        ),
        (ChoiceKind::Status, None) => {
            return Err(
                Invalid::new("status_type", "a status needs the fixed type it belongs to").into(),
            )
        }
        (_, Some(_)) => {
            return Err(Invalid::new("status_type", "only statuses have a status type").into())
        }
        (_, None) => None,
    };
    let choices = all(db).await?;
    check_unique(&choices, kind, 0, &code, &zh, &en)?;
    let position = match input.position {
        Some(p) => position(p)?,
        None => choices.of(kind).map(|c| c.position).max().unwrap_or(0) + 1,
    };
    let at = to_millis(now);
    let mut tx = db.begin().await?;
    let id = tx
        .insert_returning_id(
            "INSERT INTO choices (kind, code, label_zh, label_en, status_type, position, archived, builtin, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
            &[
                Param::from(kind.code()),
                Param::from(code),
                Param::from(zh),
                Param::from(en),
                Param::from(status_type),
                Param::Int(position),
                Param::Int(at),
                Param::Int(at),
            ],
        )
        .await?;
    audit::created(&mut tx, Some(actor), now, audit::Setting::Choice, id).await?;
    let created = read(&mut tx, id).await?;
    tx.commit().await?;
    db.settings().clear::<Arc<Choices>>();
    Ok(created)
}

/// Relabels, moves or archives an entry (admins only). The six status types cannot be archived.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    change: Unread<ChoiceChange>,
    now: DateTime<Utc>,
) -> StoreResult<Choice> {
    actor.require_admin("edit choice lists")?;
    let change = change.read()?;
    let mut tx = db.begin().await?;
    let current = read(&mut tx, id).await?;
    let zh = change
        .label_zh
        .as_deref()
        .map(|v| label("label_zh", v))
        .transpose()?
        .unwrap_or(current.label_zh.clone());
    let en = change
        .label_en
        .as_deref()
        .map(|v| label("label_en", v))
        .transpose()?
        .unwrap_or(current.label_en.clone());
    let position = change
        .position
        .map(position)
        .transpose()?
        .unwrap_or(current.position);
    let archived = change.archived.unwrap_or(current.archived);
    if archived && current.builtin && current.kind == ChoiceKind::Status {
        return Err(Invalid::new(
            "archived",
            "the six fixed statuses cannot be archived; relabel them instead",
        )
        .into());
    }
    check_unique(&*all(db).await?, current.kind, id, &current.code, &zh, &en)?;
    let before = audit::Before::take(&mut tx, audit::Setting::Choice, id).await?;
    tx.execute(
        "UPDATE choices SET label_zh = ?, label_en = ?, position = ?, archived = ?, updated_at = ? WHERE id = ?",
        &[
            Param::from(zh),
            Param::from(en),
            Param::Int(position),
            Param::Int(i64::from(archived)),
            Param::Int(to_millis(now)),
            Param::Int(id),
        ],
    )
    .await?;
    before
        .record(&mut tx, Some(actor), now, audit::Action::Update)
        .await?;
    let changed = read(&mut tx, id).await?;
    tx.commit().await?;
    db.settings().clear::<Arc<Choices>>();
    Ok(changed)
}

/// Where records hold a code of `kind`: the table and column.
fn holders(kind: ChoiceKind) -> (&'static str, &'static str) {
    match kind {
        ChoiceKind::Status => ("leads", "status_detail"),
        ChoiceKind::Source => ("leads", "source"),
        ChoiceKind::Outcome => ("activities", "outcome"),
        ChoiceKind::LostReason => ("opportunities", "close_reason"),
        ChoiceKind::DisqualifyReason => ("leads", "disqualify_reason"),
    }
}

/// How many records hold an entry's code.
async fn uses<R: Reader>(db: &mut R, choice: &Choice) -> anyhow::Result<i64> {
    let (table, column) = holders(choice.kind);
    let row = db
        .row(
            &format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = ?"),
            &[Param::from(choice.code.as_str())],
        )
        .await?;
    Ok(row.map_or(0, |r| r.int("n")))
}

/// Deletes an entry nothing holds (admins only). Built-in entries and entries in use are
/// refused with what to do instead: archive them.
pub async fn delete(db: &Db, actor: &Actor, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    actor.require_admin("edit choice lists")?;
    let mut tx = db.begin().await?;
    let current = read(&mut tx, id).await?;
    if current.builtin {
        return Err(StoreError::Conflict(format!(
            "{} ({}) is built in: archive it instead",
            current.code, current.label_zh
        )));
    }
    let used = uses(&mut tx, &current).await?;
    if used > 0 {
        return Err(StoreError::Conflict(format!(
            "{} ({}) is held by {used} records: archive it instead",
            current.code, current.label_zh
        )));
    }
    let before = audit::Before::take(&mut tx, audit::Setting::Choice, id).await?;
    tx.execute("DELETE FROM choices WHERE id = ?", &[Param::Int(id)])
        .await?;
    before
        .record(&mut tx, Some(actor), now, audit::Action::Delete)
        .await?;
    tx.commit().await?;
    db.settings().clear::<Arc<Choices>>();
    Ok(())
}
