//! API tokens and web sessions. Both are random secrets handed to the client once and stored
//! only as SHA-256 hashes, so a copy of the database does not let anyone in.

use crate::admin::audit;
use crate::admin::callers::forget_callers;
use crate::error::{StoreError, StoreResult};
use crate::records::rfc3339;
use crate::scope::Actor;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::openapi::ObjectBuilder;
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::role::TokenScope;
use xiansuo_core::validation::Unread;
use xiansuo_core::{schema, Text};
use xiansuo_store::{Db, Param};

/// A new random secret with a readable prefix (`xs_…` for tokens).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// How secrets are stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates an API token for a user from the command line; returns (token id, the token). The
/// token is shown once.
pub async fn create_token(
    db: &Db,
    user_id: i64,
    name: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(i64, String)> {
    let token = new_secret("xs_");
    let mut tx = db.begin().await?;
    let id = tx
        .insert_returning_id(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)",
            &[
                Param::Int(user_id),
                Param::from(name),
                Param::from(hash_secret(&token)),
                Param::Int(to_millis(now)),
            ],
        )
        .await?;
    audit::created(&mut tx, None, now, audit::Setting::ApiToken, id).await?;
    tx.commit().await?;
    Ok((id, token))
}

/// The user a bearer token belongs to and what the token may do, if the token exists and is
/// not revoked.
pub async fn user_for_token(db: &Db, token: &str) -> anyhow::Result<Option<(i64, TokenScope)>> {
    db.fetch_optional(
        "SELECT user_id, scope FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
        &[Param::from(hash_secret(token))],
    )
    .await?
    .map(|r| Ok((r.int("user_id"), TokenScope::parse(&r.text("scope"))?)))
    .transpose()
}

/// An API token, without its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "An API token, without its secret")]
pub struct Token {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    /// What it is for
    pub name: String,
    #[schema(schema_with = scope_schema)]
    pub scope: String,
    #[schema(schema_with = created_at_schema)]
    pub created_at: String,
    #[schema(schema_with = revoked_at_schema, required = true)]
    pub revoked_at: Option<String>,
}

/// The caller's tokens, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Your tokens
    pub items: Vec<Token>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A new token as a request sends it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A new token")]
pub struct NewToken {
    #[serde(default)]
    #[schema(schema_with = name_schema)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = new_scope_schema)]
    pub scope: Option<String>,
}

/// A new token with its secret, shown only this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "A new token with its secret, shown only this once")]
pub struct CreatedToken {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    /// What it is for
    pub name: String,
    #[schema(schema_with = scope_schema)]
    pub scope: String,
    /// The secret, for `Authorization: Bearer TOKEN`
    pub token: String,
    #[schema(schema_with = created_at_schema)]
    pub created_at: String,
}

const SCOPES: [TokenScope; 3] = [
    TokenScope::ReadOnly,
    TokenScope::ReadWrite,
    TokenScope::Admin,
];

fn scope_schema() -> ObjectBuilder {
    schema::codes(
        SCOPES.map(TokenScope::code),
        false,
        "read_only: reads only, every write is refused (403); read_write: reads and writes \
         what its user may, but nothing admin-only; admin: all its user's role allows",
    )
}

fn new_scope_schema() -> ObjectBuilder {
    schema::codes(
        SCOPES.map(TokenScope::code),
        true,
        "What the token may do; default read_write. Only an admin may create an admin token, \
         and no token may create one that may do more than itself",
    )
}

fn name_schema() -> ObjectBuilder {
    schema::text(true, true, 100, "What it is for; default `api`")
}

fn created_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it was created")
}

fn revoked_at_schema() -> ObjectBuilder {
    schema::date_time(true, "When it was revoked")
}

/// The caller's own tokens (never the secrets).
pub async fn list_tokens(db: &Db, actor: &Actor) -> StoreResult<TokenList> {
    let items = db
        .fetch_all(
            "SELECT * FROM api_tokens WHERE user_id = ? ORDER BY id",
            &[Param::Int(actor.user_id)],
        )
        .await?
        .iter()
        .map(|r| Token {
            id: r.int("id"),
            name: r.text("name"),
            scope: r.text("scope"),
            created_at: rfc3339(r.int("created_at")),
            revoked_at: r.opt_int("revoked_at").map(rfc3339),
        })
        .collect();
    Ok(TokenList {
        items,
        next_cursor: None,
    })
}

/// Revokes one of a user's tokens (an admin may revoke anyone's). The last admin token of the
/// last active admin stays until another is made, so that the API can always be administered.
pub async fn revoke_token(db: &Db, actor: &Actor, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    // An admin may revoke anyone's token; everyone else only their own.
    let owner = if actor.is_admin() {
        String::new()
    } else {
        format!(" AND user_id = {}", actor.user_id)
    };
    let mut tx = db.begin().await?;
    let token = tx
        .fetch_optional(
            &format!(
                "SELECT user_id, scope FROM api_tokens WHERE id = ? AND revoked_at IS NULL{owner}"
            ),
            &[Param::Int(id)],
        )
        .await?
        .ok_or(StoreError::NotFound("Token"))?;
    if token.text("scope") == TokenScope::Admin.code() {
        guard_last_admin_token(&mut tx, token.int("user_id")).await?;
    }
    let snapshot = audit::Before::take(&mut tx, audit::Setting::ApiToken, id).await?;
    tx.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ?",
        &[Param::Int(to_millis(now)), Param::Int(id)],
    )
    .await?;
    snapshot
        .record(&mut tx, Some(actor), now, audit::Action::Revoke)
        .await?;
    tx.commit().await?;
    forget_callers(db);
    Ok(())
}

/// Refuses to revoke an admin token of `user` when they are the last active admin and it is
/// their last live admin token.
async fn guard_last_admin_token(tx: &mut xiansuo_store::Tx, user: i64) -> StoreResult<()> {
    let admins = tx
        .fetch_all(
            &format!(
                "SELECT id FROM users WHERE role = 'admin' AND active = 1 AND deleted_at IS NULL{}",
                tx.dialect().lock_rows()
            ),
            &[],
        )
        .await?;
    if admins.len() != 1 || admins[0].int("id") != user {
        return Ok(());
    }
    let live = tx
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM api_tokens WHERE user_id = ? AND scope = 'admin' AND revoked_at IS NULL",
            &[Param::Int(user)],
        )
        .await?
        .map_or(0, |r| r.int("n"));
    if live <= 1 {
        return Err(StoreError::Conflict(
            "this is the last admin token of the last active admin: create another admin token first, then revoke this one".into(),
        ));
    }
    Ok(())
}

/// How long a web session lasts without being used.
pub const SESSION_TTL_HOURS: i64 = 12;

/// Starts a web session; returns (session secret for the cookie, CSRF token).
pub async fn create_session(
    db: &Db,
    user_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<(String, String)> {
    let secret = new_secret("");
    let csrf = new_secret("");
    db.execute(
        "INSERT INTO sessions (user_id, session_hash, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        &[
            Param::Int(user_id),
            Param::from(hash_secret(&secret)),
            Param::from(csrf.as_str()),
            Param::Int(to_millis(now)),
            Param::Int(to_millis(now + Duration::hours(SESSION_TTL_HOURS))),
        ],
    )
    .await?;
    Ok((secret, csrf))
}

/// The user and CSRF token of a live session.
pub async fn session(
    db: &Db,
    secret: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<(i64, String)>> {
    Ok(db
        .fetch_optional(
            "SELECT user_id, csrf_token FROM sessions WHERE session_hash = ? AND expires_at > ?",
            &[Param::from(hash_secret(secret)), Param::Int(to_millis(now))],
        )
        .await?
        .map(|r| (r.int("user_id"), r.text("csrf_token"))))
}

/// Ends a session (logout).
pub async fn end_session(db: &Db, secret: &str) -> anyhow::Result<()> {
    db.execute(
        "DELETE FROM sessions WHERE session_hash = ?",
        &[Param::from(hash_secret(secret))],
    )
    .await?;
    forget_callers(db);
    Ok(())
}

/// Creates an API token for the actor (scope `read_only`, `read_write` — the default — or
/// `admin`). Only an admin may create an admin token, and no token may create one that may do
/// more than itself. The answer holds the token, shown once.
pub async fn create_scoped_token(
    db: &Db,
    actor: &Actor,
    new: Unread<NewToken>,
    now: DateTime<Utc>,
) -> StoreResult<CreatedToken> {
    let new = new.read()?;
    let name = match new.name {
        Some(n) => Text::parse("name", &n, 100)?.into_string(),
        None => "api".to_owned(),
    };
    let scope = match new.scope {
        Some(s) => TokenScope::parse(&s)?,
        None => TokenScope::ReadWrite,
    };
    if scope == TokenScope::Admin && !actor.is_admin() {
        return Err(StoreError::Forbidden(
            "only an admin may create an admin token".into(),
        ));
    }
    if scope > actor.access {
        return Err(StoreError::Forbidden(format!(
            "a {} token cannot create a {} token",
            actor.access.code(),
            scope.code()
        )));
    }
    let token = new_secret("xs_");
    let mut tx = db.begin().await?;
    let id = tx
        .insert_returning_id(
            "INSERT INTO api_tokens (user_id, name, token_hash, scope, created_at) VALUES (?, ?, ?, ?, ?)",
            &[
                Param::Int(actor.user_id),
                Param::from(name.as_str()),
                Param::from(hash_secret(&token)),
                Param::from(scope.code()),
                Param::Int(to_millis(now)),
            ],
        )
        .await?;
    audit::created(&mut tx, Some(actor), now, audit::Setting::ApiToken, id).await?;
    tx.commit().await?;
    Ok(CreatedToken {
        id,
        name,
        scope: scope.code().to_owned(),
        token,
        created_at: rfc3339(to_millis(now)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashes_are_stable() {
        let a = new_secret("xs_");
        let b = new_secret("xs_");
        assert_ne!(a, b);
        assert!(a.starts_with("xs_") && a.len() > 40);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_ne!(hash_secret(&a), a);
    }
}
