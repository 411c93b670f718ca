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
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use xiansuo_core::clock::to_millis;
use xiansuo_core::role::TokenScope;
use xiansuo_core::{Invalid, Text};
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

/// A user's tokens (never the secrets).
pub async fn list_tokens(db: &Db, user_id: i64) -> StoreResult<Vec<Value>> {
    Ok(db
        .fetch_all(
            "SELECT * FROM api_tokens WHERE user_id = ? ORDER BY id",
            &[Param::Int(user_id)],
        )
        .await?
        .iter()
        .map(|r| {
            json!({
                "id": r.int("id"),
                "name": r.text("name"),
                "scope": r.text("scope"),
                "created_at": rfc3339(r.int("created_at")),
                "revoked_at": r.opt_int("revoked_at").map(rfc3339),
            })
        })
        .collect())
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

/// Creates an API token for the actor from `{"name"?, "scope"?}` (scope `read_only`,
/// `read_write` — the default — or `admin`). Only an admin may create an admin token, and no
/// token may create one that may do more than itself. The answer holds the token, shown once.
pub async fn create_scoped_token(
    db: &Db,
    actor: &Actor,
    body: &Value,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    let obj = body
        .as_object()
        .ok_or_else(|| Invalid::new("body", "must be a JSON object"))?;
    if let Some(extra) = obj
        .keys()
        .find(|k| !["name", "scope"].contains(&k.as_str()))
    {
        return Err(Invalid::new(
            extra.as_str(),
            "is not a field of a token (accepted: name, scope)",
        )
        .into());
    }
    let name = match obj.get("name") {
        Some(Value::String(n)) => Text::parse("name", n, 100)?.into_string(),
        None | Some(Value::Null) => "api".to_owned(),
        Some(_) => return Err(Invalid::new("name", "must be a string").into()),
    };
    let scope = match obj.get("scope") {
        Some(Value::String(s)) => TokenScope::parse(s)?,
        None | Some(Value::Null) => TokenScope::ReadWrite,
        Some(_) => return Err(Invalid::new("scope", "must be a string").into()),
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
    Ok(json!({
        "id": id,
        "name": name,
        "scope": scope.code(),
        "token": token,
        "created_at": rfc3339(to_millis(now)),
    }))
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
