//! Attachments: files kept with a lead, account, contact or opportunity (call recordings,
//! brochures, quotes, contracts), optionally tied to one of its follow-ups. Whoever can see the
//! record can list and download them; the uploader, a manager or an admin can delete them.
//!
//! Files are stored in the database, not on disk, so that every instance over one PostgreSQL
//! serves every file and a backup of the database is a backup of the files. The content is
//! kept as bytes (BLOB, bytea) in chunks of 1 MiB of file each, so no single value grows large;
//! files are limited to [`MAX_BYTES`].

use crate::error::{StoreError, StoreResult};
use crate::records::history;
use crate::records::schema::{Table, TABLES};
use crate::records::{self, rfc3339, Ctx};
use crate::scope::Actor;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::role::Role;
use xiansuo_core::{schema, Invalid};
use xiansuo_store::{Db, Param, Row, Tx};

/// The largest file accepted: 20 MiB.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// How much of a file one stored chunk holds.
const CHUNK_BYTES: usize = 1024 * 1024;

/// A file as uploaded.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    /// The name the file had; directories are dropped.
    pub filename: &'a str,
    /// The media type sent with it, if any.
    pub content_type: Option<&'a str>,
    /// The follow-up of the same record it belongs to, if any.
    pub activity_id: Option<i64>,
    pub bytes: &'a [u8],
}

fn parse_filename(raw: &str) -> Result<String, Invalid> {
    let name = raw
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if name.is_empty() || name == "." || name == ".." {
        return Err(Invalid::new(
            "filename",
            "is required: send it as ?filename= or in the X-Filename header",
        ));
    }
    if name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(Invalid::new(
            "filename",
            "must be at most 255 characters, without control characters",
        ));
    }
    Ok(name)
}

/// The media type to store: the one sent if it looks like one, else a generic binary type.
fn media_type(sent: Option<&str>) -> String {
    sent.map(|t| {
        t.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
    .filter(|t| {
        t.len() <= 100
            && t.split_once('/')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/.+-_".contains(c))
    })
    .unwrap_or_else(|| "application/octet-stream".to_owned())
}

/// A file kept with a record, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A file kept with a record")]
pub struct Attachment {
    /// Unique id
    pub id: i64,
    #[schema(schema_with = record_type_schema)]
    pub record_type: String,
    /// The record
    pub record_id: i64,
    /// The follow-up of that record it belongs to
    #[schema(required = true)]
    pub activity_id: Option<i64>,
    /// The file's name
    pub filename: String,
    /// Its media type
    pub content_type: String,
    /// Its size in bytes
    pub size: i64,
    /// The SHA-256 of its content, in hex
    pub sha256: String,
    /// Who uploaded it
    #[schema(required = true)]
    pub created_by: Option<i64>,
    /// When
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Where to download it
    pub url: String,
}

/// The files of a record, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "Files, newest first")]
pub struct AttachmentList {
    /// Files, newest first
    pub items: Vec<Attachment>,
}

/// A record type's code, as the document states it.
pub(crate) fn record_type_schema() -> ObjectBuilder {
    schema::codes(
        TABLES.iter().map(|t| t.record_type.code()),
        false,
        "The kind of record",
    )
}

impl Attachment {
    fn read(r: &Row) -> Attachment {
        Attachment {
            id: r.int("id"),
            record_type: r.text("record_type"),
            record_id: r.int("record_id"),
            activity_id: r.opt_int("activity_id"),
            filename: r.text("filename"),
            content_type: r.text("content_type"),
            size: r.int("size"),
            sha256: r.text("sha256"),
            created_by: r.opt_int("created_by"),
            created_at: rfc3339(r.int("created_at")),
            url: format!("/api/v1/attachments/{}", r.int("id")),
        }
    }
}

/// The record, inside the write transaction, if the actor can see it.
async fn parent(tx: &mut Tx, actor: &Actor, table: &Table, id: i64) -> StoreResult<Row> {
    tx.fetch_optional(
        &format!(
            "SELECT * FROM {} WHERE id = ? AND deleted_at IS NULL{}",
            table.name,
            actor.scope_clause()
        ),
        &[Param::Int(id)],
    )
    .await?
    .ok_or(StoreError::NotFound(table.schema))
}

/// Stores a file with a record the actor can see.
pub async fn upload(
    ctx: Ctx<'_>,
    table: &'static Table,
    record_id: i64,
    file: Upload<'_>,
) -> StoreResult<Attachment> {
    let filename = parse_filename(file.filename)?;
    if file.bytes.is_empty() {
        return Err(Invalid::new("body", "the file is empty").into());
    }
    if file.bytes.len() > MAX_BYTES {
        return Err(StoreError::Invalid(Invalid::new(
            "body",
            format!("a file may have at most {MAX_BYTES} bytes"),
        )));
    }
    let sha256 = hex::encode(Sha256::digest(file.bytes));
    let now = to_millis(ctx.now);
    let mut tx = ctx.db.begin().await?;
    let row = parent(&mut tx, ctx.actor, table, record_id).await?;
    if table.record_type == RecordType::Lead && row.text("status") == LeadStatus::Converted.code() {
        return Err(StoreError::Conflict(
            "a converted lead is read-only; attach files to its account".into(),
        ));
    }
    if let Some(activity) = file.activity_id {
        tx.fetch_optional(
            "SELECT id FROM activities WHERE id = ? AND record_type = ? AND record_id = ? AND deleted_at IS NULL",
            &[
                Param::Int(activity),
                Param::from(table.record_type.code()),
                Param::Int(record_id),
            ],
        )
        .await?
        .ok_or_else(|| {
            Invalid::new(
                "activity_id",
                format!("no follow-up with id {activity} on this record"),
            )
        })?;
    }
    let id = tx
        .insert_returning_id(
            "INSERT INTO attachments (record_type, record_id, activity_id, filename, content_type, size, sha256, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                Param::from(table.record_type.code()),
                Param::Int(record_id),
                Param::from(file.activity_id),
                Param::from(filename.as_str()),
                Param::from(media_type(file.content_type)),
                Param::Int(file.bytes.len() as i64),
                Param::from(sha256.as_str()),
                Param::Int(ctx.actor.user_id),
                Param::Int(now),
            ],
        )
        .await?;
    for (seq, chunk) in file.bytes.chunks(CHUNK_BYTES).enumerate() {
        tx.execute(
            "INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES (?, ?, ?)",
            &[Param::Int(id), Param::Int(seq as i64), Param::from(chunk)],
        )
        .await?;
    }
    let stored = tx
        .fetch_optional("SELECT * FROM attachments WHERE id = ?", &[Param::Int(id)])
        .await?
        .map(|r| Attachment::read(&r))
        .ok_or(StoreError::NotFound("Attachment"))?;
    history::record_action(
        &mut tx,
        ctx.stamp(),
        table.record_type,
        record_id,
        "attachment",
        Some(&json!({"id": id, "filename": filename, "size": file.bytes.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(stored)
}

/// The files of a record the actor can see, newest first.
pub async fn list(
    db: &Db,
    actor: &Actor,
    table: &'static Table,
    record_id: i64,
) -> StoreResult<AttachmentList> {
    records::get(db, actor, table, record_id).await?;
    let items = db
        .fetch_all(
            "SELECT * FROM attachments WHERE record_type = ? AND record_id = ? AND deleted_at IS NULL ORDER BY id DESC",
            &[Param::from(table.record_type.code()), Param::Int(record_id)],
        )
        .await?
        .iter()
        .map(Attachment::read)
        .collect();
    Ok(AttachmentList { items })
}

/// An attachment whose record the actor can see.
async fn visible(db: &Db, actor: &Actor, id: i64) -> StoreResult<Row> {
    let row = db
        .fetch_optional(
            "SELECT * FROM attachments WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("Attachment"))?;
    let table = RecordType::parse(&row.text("record_type"))
        .map(Table::of)
        .map_err(|_| StoreError::NotFound("Attachment"))?;
    records::get(db, actor, table, row.int("record_id"))
        .await
        .map_err(|_| StoreError::NotFound("Attachment"))?;
    Ok(row)
}

/// A file to send back: its description and its bytes.
#[derive(Debug)]
pub struct Download {
    pub attachment: Attachment,
    pub bytes: Vec<u8>,
}

/// An attachment's content, if the actor can see its record.
pub async fn download(db: &Db, actor: &Actor, id: i64) -> StoreResult<Download> {
    let row = visible(db, actor, id).await?;
    let chunks = db
        .fetch_all(
            "SELECT data FROM attachment_chunks WHERE attachment_id = ? ORDER BY seq",
            &[Param::Int(id)],
        )
        .await?;
    let mut bytes = Vec::with_capacity(usize::try_from(row.int("size")).unwrap_or_default());
    for chunk in &chunks {
        bytes.extend_from_slice(chunk.bytes("data"));
    }
    if bytes.len() as i64 != row.int("size") {
        return Err(anyhow::anyhow!(
            "attachment {id} should have {} bytes but has {}",
            row.int("size"),
            bytes.len()
        )
        .into());
    }
    Ok(Download {
        attachment: Attachment::read(&row),
        bytes,
    })
}

/// Deletes an attachment and its content: its uploader, a manager or an admin whose scope
/// covers the record. History keeps that it existed.
pub async fn delete(ctx: Ctx<'_>, id: i64) -> StoreResult<()> {
    let row = visible(ctx.db, ctx.actor, id).await?;
    let may = row.opt_int("created_by") == Some(ctx.actor.user_id)
        || matches!(ctx.actor.role, Role::Manager | Role::Admin);
    if !may {
        return Err(StoreError::Forbidden(
            "only the uploader, a manager or an admin may delete an attachment".into(),
        ));
    }
    let record_type = RecordType::parse(&row.text("record_type"))?;
    let mut tx = ctx.db.begin().await?;
    let changed = tx
        .execute(
            "UPDATE attachments SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(to_millis(ctx.now)), Param::Int(id)],
        )
        .await?;
    if changed != 1 {
        return Err(StoreError::NotFound("Attachment"));
    }
    tx.execute(
        "DELETE FROM attachment_chunks WHERE attachment_id = ?",
        &[Param::Int(id)],
    )
    .await?;
    history::record_action(
        &mut tx,
        ctx.stamp(),
        record_type,
        row.int("record_id"),
        "attachment_delete",
        Some(&json!({"id": id, "filename": row.text("filename")})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_their_directories_and_must_be_names() {
        assert_eq!(
            parse_filename("C:\\报价\\报价单.pdf").unwrap(),
            "报价单.pdf"
        );
        assert_eq!(parse_filename("../../etc/passwd").unwrap(), "passwd");
        assert!(parse_filename("  ").is_err());
        assert!(parse_filename("dir/").is_err());
        assert!(parse_filename("a\u{0}b").is_err());
    }

    #[test]
    fn media_types_are_kept_only_when_they_look_like_one() {
        assert_eq!(media_type(Some("audio/mpeg")), "audio/mpeg");
        assert_eq!(media_type(Some("text/plain; charset=utf-8")), "text/plain");
        assert_eq!(media_type(Some("<script>")), "application/octet-stream");
        assert_eq!(media_type(None), "application/octet-stream");
    }
}
