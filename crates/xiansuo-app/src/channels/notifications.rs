//! In-app notifications: a lead assigned to you, a follow-up due, an SLA escalation, a lead
//! about to be recycled, a conversion. They are written inside the transaction of the change
//! that caused them, and each user reads and dismisses their own.
//!
//! Each user chooses, per [`Kind`], whether they see it in the app and whether it is mailed
//! (their [`Preferences`]). A kind muted in both is not written for them; one muted in the app
//! only is kept out of their list and count (the "my day" lists still read it), and one muted
//! by email is marked handled for the digest when it is written.

use crate::error::{StoreError, StoreResult};
use crate::records::rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::{schema, Invalid};
use xiansuo_store::{Db, DecodeError, Param, Row, Tx};

/// What a notification is about. The codes are stored and shown by the API; never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// A lead was given to the user (by a rule, a manager or in bulk).
    #[serde(rename = "lead.assigned")]
    LeadAssigned,
    /// Someone's leads and customers were handed over to the user.
    #[serde(rename = "records.handed_over")]
    HandedOver,
    /// A follow-up of the user's is due or overdue.
    #[serde(rename = "followup.due")]
    FollowupDue,
    /// An SLA rule escalated a lead to the user as its owner's manager.
    #[serde(rename = "sla.escalated")]
    SlaEscalated,
    /// An SLA rule took a lead from the user.
    #[serde(rename = "sla.reassigned")]
    SlaReassigned,
    /// A lead of the user's goes back to the pool soon.
    #[serde(rename = "lead.recycle_warning")]
    RecycleWarning,
    /// A lead of the user's went back to the pool.
    #[serde(rename = "lead.recycled")]
    Recycled,
    /// Someone else released a lead of the user's to a pool.
    #[serde(rename = "lead.released")]
    Released,
    /// Someone commented on an activity the user logged.
    #[serde(rename = "activity.commented")]
    Commented,
    /// A lead of the user's was converted.
    #[serde(rename = "lead.converted")]
    Converted,
    /// A lead of the user's was merged into another.
    #[serde(rename = "lead.merged")]
    Merged,
    /// A webhook was switched off after failing (admins).
    #[serde(rename = "webhook.disabled")]
    WebhookDisabled,
}

impl Kind {
    /// Every kind, in the order the profile page lists them.
    pub const ALL: [Kind; 12] = [
        Kind::LeadAssigned,
        Kind::HandedOver,
        Kind::FollowupDue,
        Kind::SlaEscalated,
        Kind::SlaReassigned,
        Kind::RecycleWarning,
        Kind::Recycled,
        Kind::Released,
        Kind::Commented,
        Kind::Converted,
        Kind::Merged,
        Kind::WebhookDisabled,
    ];

    /// The stored code: `lead.assigned`, `followup.due`, …
    pub fn code(self) -> &'static str {
        match self {
            Kind::LeadAssigned => "lead.assigned",
            Kind::HandedOver => "records.handed_over",
            Kind::FollowupDue => "followup.due",
            Kind::SlaEscalated => "sla.escalated",
            Kind::SlaReassigned => "sla.reassigned",
            Kind::RecycleWarning => "lead.recycle_warning",
            Kind::Recycled => "lead.recycled",
            Kind::Released => "lead.released",
            Kind::Commented => "activity.commented",
            Kind::Converted => "lead.converted",
            Kind::Merged => "lead.merged",
            Kind::WebhookDisabled => "webhook.disabled",
        }
    }

    /// Whether only admins are sent this kind.
    pub fn admins_only(self) -> bool {
        self == Kind::WebhookDisabled
    }
}

fn kind_schema() -> ObjectBuilder {
    schema::codes(
        Kind::ALL.map(Kind::code),
        false,
        "What happened: lead.assigned, followup.due, sla.escalated, lead.recycle_warning, …",
    )
}

/// How one user wants one kind delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = NotificationKindPreference,
    description = "How the caller wants one kind of notification"
)]
pub struct KindPreference {
    #[schema(schema_with = kind_schema)]
    pub kind: Kind,
    /// Shown in the app (the bell and the notifications page)
    pub in_app: bool,
    /// Included in the email digest
    pub email: bool,
}

/// A user's notification preferences: every kind, and whether email comes as one digest a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(
    as = NotificationPreferences,
    description = "Which notifications the caller gets in the app and by email"
)]
pub struct Preferences {
    /// Every kind; one never set is on in both
    pub kinds: Vec<KindPreference>,
    /// Email comes once a day, at 08:00 in the caller's time zone, instead of within the minute
    pub daily_digest: bool,
}

/// A change to a user's preferences: the kinds listed are set, the others kept.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = NotificationPreferencesChange,
    description = "The kinds to set (the others are kept) and the daily digest"
)]
pub struct PreferencesChange {
    /// The kinds to set
    #[serde(default)]
    pub kinds: Vec<KindPreference>,
    /// Once a day instead of within the minute; null keeps it as it is
    #[serde(default)]
    pub daily_digest: Option<bool>,
}

/// The preferences of `user_id`: a kind never set is on in the app and by email.
pub async fn preferences(db: &Db, user_id: i64) -> StoreResult<Preferences> {
    let rows = db
        .fetch_all(
            "SELECT kind, in_app, email FROM notification_preferences WHERE user_id = ?",
            &[Param::Int(user_id)],
        )
        .await?;
    let user = db
        .fetch_optional(
            "SELECT daily_digest FROM users WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(user_id)],
        )
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    let kinds = Kind::ALL
        .iter()
        .map(|&kind| {
            let row = rows.iter().find(|r| r.text("kind") == kind.code());
            KindPreference {
                kind,
                in_app: row.is_none_or(|r| r.int("in_app") == 1),
                email: row.is_none_or(|r| r.int("email") == 1),
            }
        })
        .collect();
    Ok(Preferences {
        kinds,
        daily_digest: user.int("daily_digest") == 1,
    })
}

/// Sets the user's own preferences and returns them all. A daily digest switched on starts
/// counting from now, so that the first one comes at the next 08:00.
pub async fn set_preferences(
    db: &Db,
    user_id: i64,
    change: &PreferencesChange,
    now_ms: i64,
) -> StoreResult<Preferences> {
    let mut tx = db.begin().await?;
    for p in &change.kinds {
        tx.execute(
            "DELETE FROM notification_preferences WHERE user_id = ? AND kind = ?",
            &[Param::Int(user_id), Param::from(p.kind.code())],
        )
        .await?;
        tx.execute(
            "INSERT INTO notification_preferences (user_id, kind, in_app, email) \
             VALUES (?, ?, ?, ?)",
            &[
                Param::Int(user_id),
                Param::from(p.kind.code()),
                Param::Int(i64::from(p.in_app)),
                Param::Int(i64::from(p.email)),
            ],
        )
        .await?;
    }
    if let Some(daily) = change.daily_digest {
        tx.execute(
            "UPDATE users SET digest_mailed_at = CASE WHEN daily_digest = 0 AND ? = 1 \
             THEN ? ELSE digest_mailed_at END, daily_digest = ? WHERE id = ?",
            &[
                Param::Int(i64::from(daily)),
                Param::Int(now_ms),
                Param::Int(i64::from(daily)),
                Param::Int(user_id),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    preferences(db, user_id).await
}

/// One notification to one user.
#[derive(Debug, Clone)]
pub struct Notification {
    pub user_id: i64,
    /// What happened.
    pub kind: Kind,
    pub record_type: Option<RecordType>,
    pub record_id: Option<i64>,
    /// A sentence for people, in the recipient's language.
    pub message: String,
    pub now_ms: i64,
}

/// Writes a notification in the transaction `tx`, as its recipient's preferences say: not at
/// all when they muted its kind in the app and by email.
pub async fn notify(tx: &mut Tx, n: &Notification) -> anyhow::Result<()> {
    let (in_app, email) = tx
        .fetch_optional(
            "SELECT in_app, email FROM notification_preferences WHERE user_id = ? AND kind = ?",
            &[Param::Int(n.user_id), Param::from(n.kind.code())],
        )
        .await?
        .map_or((true, true), |r| {
            (r.int("in_app") == 1, r.int("email") == 1)
        });
    if !in_app && !email {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO notifications \
         (user_id, kind, record_type, record_id, message, created_at, in_app, mailed_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            Param::Int(n.user_id),
            Param::from(n.kind.code()),
            Param::from(n.record_type.map(RecordType::code)),
            Param::from(n.record_id),
            Param::from(n.message.as_str()),
            Param::Int(n.now_ms),
            Param::Int(i64::from(in_app)),
            Param::from((!email).then_some(n.now_ms)),
        ],
    )
    .await?;
    Ok(())
}

/// A notification as its recipient reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Notification, description = "A notification to the caller")]
pub struct Received {
    /// The id
    #[schema(minimum = 1)]
    pub id: i64,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// The type of the record it is about, if any
    #[schema(required = true)]
    pub record_type: Option<String>,
    /// The id of that record
    #[schema(required = true, minimum = 1)]
    pub record_id: Option<i64>,
    /// The text shown to the user
    pub message: String,
    #[schema(schema_with = created_at_schema)]
    pub created_at: String,
    #[schema(required = true, schema_with = read_at_schema)]
    pub read_at: Option<String>,
}

fn created_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When")
}

fn read_at_schema() -> ObjectBuilder {
    schema::date_time(true, "When it was read; null while unread")
}

/// A row of `notifications`, as far as a reader sees it.
#[derive(Deserialize)]
struct Stored {
    id: i64,
    kind: String,
    record_type: Option<String>,
    record_id: Option<i64>,
    message: String,
    created_at: i64,
    read_at: Option<i64>,
}

impl Received {
    fn read(r: &Row) -> Result<Received, DecodeError> {
        let stored: Stored = r.decode()?;
        Ok(Received {
            id: stored.id,
            kind: stored.kind,
            record_type: stored.record_type,
            record_id: stored.record_id,
            message: stored.message,
            created_at: rfc3339(stored.created_at),
            read_at: stored.read_at.map(rfc3339),
        })
    }
}

/// The caller's notifications, newest first, and how many are unread.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "The caller's notifications")]
pub struct NotificationList {
    /// Notifications, newest first
    pub items: Vec<Received>,
    /// How many of the caller's are unread in all
    pub unread: i64,
}

/// Which notifications to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuery {
    /// Only unread ones.
    pub unread_only: bool,
    /// How many at most, from 1 to 200.
    pub limit: i64,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            unread_only: false,
            limit: 50,
        }
    }
}

impl ListQuery {
    /// The query of a request's `?unread=&limit=`; anything else is refused, naming it.
    pub fn parse(pairs: &[(String, String)]) -> Result<ListQuery, Invalid> {
        let mut query = ListQuery::default();
        for (name, value) in pairs {
            match name.as_str() {
                "unread" => {
                    query.unread_only = match value.as_str() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => return Err(Invalid::new("unread", "must be true or false")),
                    }
                }
                "limit" => {
                    query.limit = value
                        .parse::<i64>()
                        .ok()
                        .filter(|n| (1..=200).contains(n))
                        .ok_or_else(|| {
                            Invalid::new("limit", "must be a whole number from 1 to 200")
                        })?
                }
                other => {
                    return Err(Invalid::new(
                        other,
                        "is not a query parameter here (accepted: unread, limit)",
                    ))
                }
            }
        }
        Ok(query)
    }
}

/// How many notifications were marked read.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(description = "The notifications marked read")]
pub struct MarkedRead {
    /// How many were unread
    pub marked: u64,
}

/// A user's notifications, newest first, and how many are unread.
pub async fn list(db: &Db, user_id: i64, query: ListQuery) -> anyhow::Result<NotificationList> {
    let filter = if query.unread_only {
        " AND read_at IS NULL"
    } else {
        ""
    };
    // Kinds the user muted in the app are kept for the digest and "my day" only.
    let rows = db
        .fetch_all(
            &format!(
                "SELECT * FROM notifications WHERE user_id = ? AND in_app = 1{filter} \
                 ORDER BY created_at DESC, id DESC LIMIT ?"
            ),
            &[Param::Int(user_id), Param::Int(query.limit)],
        )
        .await?;
    Ok(NotificationList {
        items: rows.iter().map(Received::read).collect::<Result<_, _>>()?,
        unread: unread(db, user_id).await?,
    })
}

/// How many of a user's notifications shown in the app are unread.
pub async fn unread(db: &Db, user_id: i64) -> anyhow::Result<i64> {
    Ok(db
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM notifications \
             WHERE user_id = ? AND in_app = 1 AND read_at IS NULL",
            &[Param::Int(user_id)],
        )
        .await?
        .map_or(0, |r| r.int("n")))
}

/// Marks one of the user's notifications read; another user's is not found.
pub async fn mark_read(db: &Db, user_id: i64, id: i64, now_ms: i64) -> StoreResult<Received> {
    let mut tx = db.begin().await?;
    tx.execute(
        "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ? AND user_id = ?",
        &[Param::Int(now_ms), Param::Int(id), Param::Int(user_id)],
    )
    .await?;
    let row = tx
        .fetch_optional(
            "SELECT * FROM notifications WHERE id = ? AND user_id = ? AND in_app = 1",
            &[Param::Int(id), Param::Int(user_id)],
        )
        .await?
        .ok_or(StoreError::NotFound("notification"))?;
    tx.commit().await?;
    Ok(Received::read(&row)?)
}

/// Marks all of the user's notifications read; returns how many were unread.
pub async fn mark_all_read(db: &Db, user_id: i64, now_ms: i64) -> anyhow::Result<MarkedRead> {
    let marked = db
        .execute(
            "UPDATE notifications SET read_at = ? \
             WHERE user_id = ? AND in_app = 1 AND read_at IS NULL",
            &[Param::Int(now_ms), Param::Int(user_id)],
        )
        .await?;
    Ok(MarkedRead { marked })
}

/// Tells `owner` that the lead `lead` (as the API shows it) is now theirs, in their language.
pub async fn lead_assigned(
    tx: &mut Tx,
    owner: i64,
    lead: &Value,
    now_ms: i64,
) -> anyhow::Result<()> {
    let locale = tx
        .fetch_optional(
            "SELECT locale FROM users WHERE id = ?",
            &[Param::Int(owner)],
        )
        .await?
        .map_or_else(|| "zh".to_owned(), |r| r.text("locale"));
    let name = lead["name"].as_str().unwrap_or_default();
    let message = if locale == "en" {
        format!("Lead {name} is now yours")
    } else {
        format!("线索「{name}」已分配给你")
    };
    notify(
        tx,
        &Notification {
            user_id: owner,
            kind: Kind::LeadAssigned,
            record_type: Some(RecordType::Lead),
            record_id: lead["id"].as_i64(),
            message,
            now_ms,
        },
    )
    .await
}
