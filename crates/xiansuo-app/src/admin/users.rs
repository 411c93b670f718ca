//! Users and the org tree (teams). Usernames are unique; a team's name is unique and a team
//! cannot be moved below itself.

use crate::admin::audit;
use crate::admin::auth::hash_secret;
use crate::admin::callers::forget_callers;
use crate::error::{StoreError, StoreResult};
use crate::records::rfc3339;
use crate::scope::{team_tree, Actor};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use xiansuo_core::clock::to_millis;
use xiansuo_core::role::{would_cycle, Role, TeamKind};
use xiansuo_core::working_hours::parse_time_zone;
use xiansuo_core::{Invalid, Text};
use xiansuo_store::{Db, Param, Row};

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// [`hash_password`] on a blocking thread: argon2 is deliberately slow, and must not hold an
/// async worker that other requests (and `/healthz`) are waiting for.
pub async fn hash_password_apart(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

/// True when `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

fn parse_username(value: &str) -> Result<String, Invalid> {
    let ok = (2..=64).contains(&value.chars().count())
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(Invalid::new(
            "username",
            "must be 2–64 letters, digits, '.', '_', '-' or '@'",
        ))
    }
}

fn parse_password(value: &str) -> Result<&str, Invalid> {
    if value.chars().count() < 8 || value.len() > 1024 {
        Err(Invalid::new("password", "must be at least 8 characters"))
    } else {
        Ok(value)
    }
}

/// A user as the API shows it (never the password hash).
pub fn user_json(r: &Row) -> Value {
    json!({
        "id": r.int("id"),
        "username": r.text("username"),
        "display_name": r.opt_text("display_name"),
        "email": r.opt_text("email"),
        "role": r.text("role"),
        "team_id": r.opt_int("team_id"),
        "locale": r.text("locale"),
        "active": r.int("active") != 0,
        "mask_phones": r.int("mask_phones") != 0,
        "time_zone": r.opt_text("time_zone").unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned()),
        "created_at": rfc3339(r.int("created_at")),
        "updated_at": rfc3339(r.int("updated_at")),
    })
}

/// What is needed to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub team_id: Option<i64>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub locale: String,
}

/// Parses `{"username", "password", "role", "team_id"?, "display_name"?, "email"?, "locale"?}`.
pub fn parse_new_user(body: &Value) -> StoreResult<NewUser> {
    let obj = body
        .as_object()
        .ok_or_else(|| Invalid::new("body", "must be a JSON object"))?;
    const ACCEPTED: &[&str] = &[
        "username",
        "password",
        "role",
        "team_id",
        "display_name",
        "email",
        "locale",
    ];
    if let Some(extra) = obj.keys().find(|k| !ACCEPTED.contains(&k.as_str())) {
        return Err(Invalid::new(
            extra.as_str(),
            format!(
                "is not a field of a user (accepted: {})",
                ACCEPTED.join(", ")
            ),
        )
        .into());
    }
    let text = |name: &str| {
        obj.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| Invalid::new(name, "is required and must be a string"))
    };
    let optional_text = |name: &str| -> Result<Option<&str>, Invalid> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Invalid::new(name, "must be a string")),
        }
    };
    let team_id = match obj.get("team_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| Invalid::new("team_id", "must be a team id"))?,
        ),
    };
    Ok(NewUser {
        username: parse_username(text("username")?)?,
        password: parse_password(text("password")?)?.to_owned(),
        role: Role::parse(text("role")?)?,
        team_id,
        display_name: optional_text("display_name")?
            .map(|s| Text::parse("display_name", s, 100))
            .transpose()?
            .map(Text::into_string),
        email: optional_text("email")?
            .map(xiansuo_core::Email::parse)
            .transpose()?
            .map(|e| e.entered().to_owned()),
        locale: parse_locale(optional_text("locale")?.unwrap_or("zh"))?,
    })
}

fn parse_locale(value: &str) -> Result<String, Invalid> {
    match value {
        "zh" | "zh-CN" => Ok("zh".into()),
        "en" => Ok("en".into()),
        _ => Err(Invalid::new("locale", "must be zh or en")),
    }
}

/// Creates a user; the username must be free and the team must exist. `by` is who does it
/// (`None` for the command line), for the audit log.
pub async fn create(
    db: &Db,
    by: Option<&Actor>,
    user: NewUser,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    let hash = hash_password_apart(user.password.clone()).await?;
    let mut tx = db.begin().await?;
    if let Some(team) = user.team_id {
        tx.fetch_optional(
            "SELECT id FROM teams WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(team)],
        )
        .await?
        .ok_or_else(|| Invalid::new("team_id", format!("no team has id {team}")))?;
    }
    if tx
        .fetch_optional(
            "SELECT id FROM users WHERE username = ?",
            &[Param::from(user.username.as_str())],
        )
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict(format!(
            "the username '{}' is taken",
            user.username
        )));
    }
    let at = now;
    let now = to_millis(now);
    let id = tx
        .insert_returning_id(
            "INSERT INTO users (username, display_name, email, password_hash, role, team_id, locale, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            &[
                Param::from(user.username),
                Param::from(user.display_name),
                Param::from(user.email),
                Param::from(hash),
                Param::from(user.role.code()),
                Param::from(user.team_id),
                Param::from(user.locale),
                Param::Int(now),
                Param::Int(now),
            ],
        )
        .await?;
    audit::created(&mut tx, by, at, audit::Setting::User, id).await?;
    let row = tx
        .fetch_optional("SELECT * FROM users WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or(StoreError::NotFound("User"))?;
    tx.commit().await?;
    forget_callers(db);
    Ok(user_json(&row))
}

/// Applies `{"display_name", "email", "role", "team_id", "locale", "time_zone", "active",
/// "password"}` to a user. Only admins may change role, team and active, and set another user's
/// password; anyone may change their own name, email, locale and time zone (their own password
/// only through [`change_password`], with the current one).
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    body: &Value,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    let obj = body
        .as_object()
        .ok_or_else(|| Invalid::new("body", "must be a JSON object"))?;
    if !actor.is_admin() && actor.user_id != id {
        return Err(StoreError::Forbidden(
            "only an admin may change another user".into(),
        ));
    }
    let mut sets: Vec<(&str, Param)> = Vec::new();
    for (key, value) in obj {
        let admin_only = matches!(key.as_str(), "role" | "team_id" | "active" | "mask_phones");
        if admin_only && !actor.is_admin() {
            return Err(StoreError::Forbidden(format!(
                "only an admin may change {key}"
            )));
        }
        let as_str = || {
            value
                .as_str()
                .ok_or_else(|| Invalid::new(key.as_str(), "must be a string"))
        };
        match key.as_str() {
            "display_name" => sets.push((
                "display_name",
                Param::from(if value.is_null() {
                    None
                } else {
                    Some(Text::parse("display_name", as_str()?, 100)?.into_string())
                }),
            )),
            "email" => sets.push((
                "email",
                Param::from(if value.is_null() {
                    None
                } else {
                    Some(xiansuo_core::Email::parse(as_str()?)?.entered().to_owned())
                }),
            )),
            "locale" => sets.push(("locale", Param::from(parse_locale(as_str()?)?))),
            "time_zone" => sets.push((
                "time_zone",
                Param::from(parse_time_zone("time_zone", as_str()?)?.name()),
            )),
            "role" => sets.push(("role", Param::from(Role::parse(as_str()?)?.code()))),
            "password" if actor.user_id == id => return Err(StoreError::Forbidden(
                "change your own password with POST /api/v1/me/password, giving the current one"
                    .into(),
            )),
            "password" => sets.push((
                "password_hash",
                Param::from(hash_password_apart(parse_password(as_str()?)?.to_owned()).await?),
            )),
            "mask_phones" => sets.push((
                "mask_phones",
                Param::Int(i64::from(value.as_bool().ok_or_else(|| {
                    Invalid::new("mask_phones", "must be true or false")
                })?)),
            )),
            "active" => sets.push((
                "active",
                Param::Int(i64::from(
                    value
                        .as_bool()
                        .ok_or_else(|| Invalid::new("active", "must be true or false"))?,
                )),
            )),
            "team_id" => {
                let team = if value.is_null() {
                    None
                } else {
                    Some(
                        value
                            .as_i64()
                            .ok_or_else(|| Invalid::new("team_id", "must be a team id"))?,
                    )
                };
                if let Some(team) = team {
                    db.fetch_optional(
                        "SELECT id FROM teams WHERE id = ? AND deleted_at IS NULL",
                        &[Param::Int(team)],
                    )
                    .await?
                    .ok_or_else(|| Invalid::new("team_id", format!("no team has id {team}")))?;
                }
                sets.push(("team_id", Param::from(team)));
            }
            _ => {
                return Err(Invalid::new(key.as_str(), "is not a field of a user (accepted: display_name, email, locale, time_zone, password, role, team_id, active, mask_phones)").into());
            }
        }
    }
    let mut tx = db.begin().await?;
    tx.fetch_optional("SELECT id FROM users WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or(StoreError::NotFound("User"))?;
    guard_last_admin(&mut tx, id, obj).await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::User, id).await?;
    let resets_password = obj.contains_key("password");
    let deactivates = obj.get("active") == Some(&Value::Bool(false));
    if !sets.is_empty() {
        let assignments: Vec<String> = sets.iter().map(|(c, _)| format!("{c} = ?")).collect();
        let mut params: Vec<Param> = sets.into_iter().map(|(_, p)| p).collect();
        params.push(Param::Int(to_millis(now)));
        params.push(Param::Int(id));
        tx.execute(
            &format!(
                "UPDATE users SET {}, updated_at = ? WHERE id = ?",
                assignments.join(", ")
            ),
            &params,
        )
        .await?;
    }
    if resets_password || deactivates {
        // A new password or a disabled account ends every session of the user.
        tx.execute("DELETE FROM sessions WHERE user_id = ?", &[Param::Int(id)])
            .await?;
    }
    let action = if resets_password {
        audit::Action::ResetPassword
    } else {
        audit::Action::Update
    };
    snapshot.record(&mut tx, Some(actor), now, action).await?;
    let row = tx
        .fetch_optional("SELECT * FROM users WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or(StoreError::NotFound("User"))?;
    tx.commit().await?;
    forget_callers(db);
    Ok(user_json(&row))
}

/// The username whose sign-in throttles an admin lifts (the throttles themselves live in the
/// web layer's memory).
pub async fn unlock_sign_in(db: &Db, actor: &Actor, id: i64) -> StoreResult<String> {
    actor.require_admin("lift sign-in throttles")?;
    Ok(db
        .fetch_optional("SELECT username FROM users WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or(StoreError::NotFound("User"))?
        .text("username"))
}

/// What of a user everyone may see: enough to pick an owner or a colleague, no contact
/// details or personal settings.
const PUBLIC_FIELDS: &[&str] = &[
    "id",
    "username",
    "display_name",
    "role",
    "team_id",
    "active",
];

/// A user as `actor` may see them: all of it for an admin and for the user themselves, only
/// [`PUBLIC_FIELDS`] for everyone else.
fn shown_to(actor: &Actor, mut user: Value) -> Value {
    if actor.is_admin() || user["id"] == actor.user_id {
        return user;
    }
    if let Some(fields) = user.as_object_mut() {
        fields.retain(|k, _| PUBLIC_FIELDS.contains(&k.as_str()));
    }
    user
}

/// [`get`] as the API answers `actor`: see [`shown_to`].
pub async fn get_for(db: &Db, actor: &Actor, id: i64) -> StoreResult<Value> {
    Ok(shown_to(actor, get(db, id).await?))
}

/// [`list`] as the API answers `actor`: see [`shown_to`].
pub async fn list_for(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
) -> StoreResult<Vec<Value>> {
    Ok(list(db, params)
        .await?
        .into_iter()
        .map(|u| shown_to(actor, u))
        .collect())
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Value> {
    db.fetch_optional(
        "SELECT * FROM users WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(id)],
    )
    .await?
    .map(|r| user_json(&r))
    .ok_or(StoreError::NotFound("User"))
}

/// The user with this username, with their password hash, for login.
pub async fn find_for_login(db: &Db, username: &str) -> anyhow::Result<Option<(i64, String)>> {
    Ok(db
        .fetch_optional(
            "SELECT id, password_hash FROM users WHERE username = ? AND active = 1 AND deleted_at IS NULL",
            &[Param::from(username)],
        )
        .await?
        .map(|r| (r.int("id"), r.text("password_hash"))))
}

/// The oldest active admin: who the CLI acts as when no user is named.
pub async fn first_admin(db: &Db) -> anyhow::Result<Option<i64>> {
    Ok(db
        .fetch_optional(
            "SELECT id FROM users WHERE role = ? AND active = 1 AND deleted_at IS NULL ORDER BY id LIMIT 1",
            &[Param::from(Role::Admin.code())],
        )
        .await?
        .map(|r| r.int("id")))
}

pub async fn id_by_username(db: &Db, username: &str) -> anyhow::Result<Option<i64>> {
    Ok(db
        .fetch_optional(
            "SELECT id FROM users WHERE username = ? AND deleted_at IS NULL",
            &[Param::from(username)],
        )
        .await?
        .map(|r| r.int("id")))
}

/// Every user, ordered by username. Filters: `role`, `team_id`, `active`.
pub async fn list(db: &Db, params: &[(String, String)]) -> StoreResult<Vec<Value>> {
    let mut conditions = vec!["deleted_at IS NULL".to_owned()];
    let mut binds = Vec::new();
    for (name, value) in params {
        match name.as_str() {
            "role" => {
                conditions.push("role = ?".into());
                binds.push(Param::from(Role::parse(value)?.code()));
            }
            "team_id" => {
                conditions.push("team_id = ?".into());
                binds.push(Param::Int(
                    value
                        .parse()
                        .map_err(|_| Invalid::new("team_id", "must be a team id"))?,
                ));
            }
            "active" => {
                let active = match value.as_str() {
                    "true" => 1,
                    "false" => 0,
                    _ => return Err(Invalid::new("active", "must be true or false").into()),
                };
                conditions.push("active = ?".into());
                binds.push(Param::Int(active));
            }
            "limit" | "cursor" => {}
            _ => {
                return Err(Invalid::new(
                    name.as_str(),
                    "is not a filter of users (accepted: role, team_id, active)",
                )
                .into())
            }
        }
    }
    Ok(db
        .fetch_all(
            &format!(
                "SELECT * FROM users WHERE {} ORDER BY username",
                conditions.join(" AND ")
            ),
            &binds,
        )
        .await?
        .iter()
        .map(user_json)
        .collect())
}

fn team_json(r: &Row) -> Value {
    json!({
        "id": r.int("id"),
        "name": r.text("name"),
        "kind": r.text("kind"),
        "parent_id": r.opt_int("parent_id"),
        "created_at": rfc3339(r.int("created_at")),
        "updated_at": rfc3339(r.int("updated_at")),
    })
}

pub async fn list_teams(db: &Db) -> StoreResult<Vec<Value>> {
    Ok(db
        .fetch_all(
            "SELECT * FROM teams WHERE deleted_at IS NULL ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(team_json)
        .collect())
}

pub async fn get_team(db: &Db, id: i64) -> StoreResult<Value> {
    db.fetch_optional(
        "SELECT * FROM teams WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(id)],
    )
    .await?
    .map(|r| team_json(&r))
    .ok_or(StoreError::NotFound("Team"))
}

pub async fn team_id_by_name(db: &Db, name: &str) -> anyhow::Result<Option<i64>> {
    Ok(db
        .fetch_optional(
            "SELECT id FROM teams WHERE name = ? AND deleted_at IS NULL",
            &[Param::from(name)],
        )
        .await?
        .map(|r| r.int("id")))
}

/// Creates or changes a team from `{"name", "parent_id"?, "kind"?}`. `id` is `None` to create.
async fn save_team(
    db: &Db,
    actor: &Actor,
    id: Option<i64>,
    body: &Value,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    let obj = body
        .as_object()
        .ok_or_else(|| Invalid::new("body", "must be a JSON object"))?;
    if let Some(extra) = obj
        .keys()
        .find(|k| !["name", "parent_id", "kind"].contains(&k.as_str()))
    {
        return Err(Invalid::new(
            extra.as_str(),
            "is not a field of a team (accepted: name, parent_id, kind)",
        )
        .into());
    }
    let name = match obj.get("name") {
        Some(Value::String(s)) => Some(Text::parse("name", s, 100)?.into_string()),
        None if id.is_some() => None,
        _ => return Err(Invalid::new("name", "is required and must be a string").into()),
    };
    let parent = match obj.get("parent_id") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => {
            Some(Some(v.as_i64().ok_or_else(|| {
                Invalid::new("parent_id", "must be a team id")
            })?))
        }
    };
    let kind = obj
        .get("kind")
        .map(|v| {
            v.as_str()
                .ok_or_else(|| Invalid::new("kind", "must be a string"))
                .and_then(TeamKind::parse)
        })
        .transpose()?;

    let mut tx = db.begin().await?;
    if let Some(Some(p)) = parent {
        tx.fetch_optional(
            "SELECT id FROM teams WHERE id = ? AND deleted_at IS NULL",
            &[Param::Int(p)],
        )
        .await?
        .ok_or_else(|| Invalid::new("parent_id", format!("no team has id {p}")))?;
        if let Some(id) = id {
            if would_cycle(&team_tree(db).await?, id, p) {
                return Err(
                    Invalid::new("parent_id", "a team cannot be placed below itself").into(),
                );
            }
        }
    }
    if let Some(name) = &name {
        let clash = tx
            .fetch_optional(
                "SELECT id FROM teams WHERE name = ?",
                &[Param::from(name.as_str())],
            )
            .await?
            .is_some_and(|r| Some(r.int("id")) != id);
        if clash {
            return Err(StoreError::Conflict(format!(
                "a team named '{name}' exists"
            )));
        }
    }
    let at = now;
    let now = to_millis(now);
    let (id, snapshot) = match id {
        None => {
            let kind = kind.unwrap_or(if matches!(parent, Some(Some(_))) {
                TeamKind::Team
            } else {
                TeamKind::Headquarters
            });
            let id = tx.insert_returning_id(
                "INSERT INTO teams (name, kind, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                &[Param::from(name), Param::from(kind.code()), Param::from(parent.flatten()), Param::Int(now), Param::Int(now)],
            )
            .await?;
            (id, audit::Before::new_record(audit::Setting::Team, id))
        }
        Some(id) => {
            tx.fetch_optional(
                "SELECT id FROM teams WHERE id = ? AND deleted_at IS NULL",
                &[Param::Int(id)],
            )
            .await?
            .ok_or(StoreError::NotFound("Team"))?;
            let snapshot = audit::Before::take(&mut tx, audit::Setting::Team, id).await?;
            let mut sets = vec!["updated_at = ?".to_owned()];
            let mut params = vec![Param::Int(now)];
            if let Some(name) = name {
                sets.push("name = ?".into());
                params.push(Param::from(name));
            }
            if let Some(parent) = parent {
                sets.push("parent_id = ?".into());
                params.push(Param::from(parent));
            }
            if let Some(kind) = kind {
                sets.push("kind = ?".into());
                params.push(Param::from(kind.code()));
            }
            params.push(Param::Int(id));
            tx.execute(
                &format!("UPDATE teams SET {} WHERE id = ?", sets.join(", ")),
                &params,
            )
            .await?;
            (id, snapshot)
        }
    };
    let action = if snapshot.is_new() {
        audit::Action::Create
    } else {
        audit::Action::Update
    };
    snapshot.record(&mut tx, Some(actor), at, action).await?;
    let row = tx
        .fetch_optional("SELECT * FROM teams WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or(StoreError::NotFound("Team"))?;
    tx.commit().await?;
    forget_callers(db);
    Ok(team_json(&row))
}

/// The time zone of a user who has not chosen one: China Standard Time.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// Refuses a change that would leave no active admin: demoting or deactivating the last one
/// would lock everyone out of the settings. Run inside the change's transaction; on PostgreSQL
/// the active admins are locked, so two admins demoting each other at once cannot both win.
async fn guard_last_admin(
    tx: &mut xiansuo_store::Tx,
    id: i64,
    change: &serde_json::Map<String, Value>,
) -> StoreResult<()> {
    let demotes = change
        .get("role")
        .and_then(Value::as_str)
        .is_some_and(|r| Role::parse(r).is_ok_and(|r| r != Role::Admin));
    let deactivates = change.get("active") == Some(&Value::Bool(false));
    if !demotes && !deactivates {
        return Ok(());
    }
    let lock = match tx.dialect() {
        xiansuo_store::Dialect::Postgres => " FOR UPDATE",
        xiansuo_store::Dialect::Sqlite => "",
    };
    let admins: Vec<i64> = tx
        .fetch_all(
            &format!(
                "SELECT id FROM users WHERE role = ? AND active = 1 AND deleted_at IS NULL ORDER BY id{lock}"
            ),
            &[Param::from(Role::Admin.code())],
        )
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect();
    if admins == [id] {
        let field = if demotes { "role" } else { "active" };
        return Err(StoreError::Conflict(format!(
            "this is the last active admin: make another user an admin before changing {field}"
        )));
    }
    Ok(())
}

/// Changes the actor's own password from `{"current_password", "new_password"}`: the current
/// one must be given, so that a session left open cannot be used to take the account over.
/// Every other session of the user ends; `keep_session` (the secret of the session the change
/// was made in, if any) stays.
pub async fn change_password(
    db: &Db,
    actor: &Actor,
    body: &Value,
    keep_session: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| Invalid::new(name, "is required and must be a string"))
    };
    let current = field("current_password")?;
    let new = parse_password(field("new_password")?)
        .map_err(|e| Invalid::new("new_password", e.message))?;
    let hash = db
        .fetch_optional(
            "SELECT password_hash FROM users WHERE id = ?",
            &[Param::Int(actor.user_id)],
        )
        .await?
        .ok_or(StoreError::NotFound("User"))?
        .text("password_hash");
    let (current, new) = (current.to_owned(), new.to_owned());
    // argon2 is deliberately slow: off the async workers.
    let new_hash = tokio::task::spawn_blocking(move || {
        if verify_password(&current, &hash) {
            hash_password(&new).map(Some)
        } else {
            Ok(None)
        }
    })
    .await
    .map_err(anyhow::Error::from)??
    .ok_or_else(|| Invalid::new("current_password", "is not your current password"))?;
    let mut tx = db.begin().await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::User, actor.user_id).await?;
    tx.execute(
        "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
        &[
            Param::from(new_hash),
            Param::Int(to_millis(now)),
            Param::Int(actor.user_id),
        ],
    )
    .await?;
    tx.execute(
        "DELETE FROM sessions WHERE user_id = ? AND session_hash <> ?",
        &[
            Param::Int(actor.user_id),
            Param::from(keep_session.map(hash_secret).unwrap_or_default()),
        ],
    )
    .await?;
    snapshot
        .record(&mut tx, Some(actor), now, audit::Action::ChangePassword)
        .await?;
    tx.commit().await?;
    forget_callers(db);
    Ok(())
}

/// Creates a user from the API's body (admins only).
pub async fn create_by(
    db: &Db,
    actor: &Actor,
    body: &Value,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    actor.require_admin("create users")?;
    create(db, Some(actor), parse_new_user(body)?, now).await
}

/// Creates (`id` `None`) or changes a team (admins only).
pub async fn save_team_by(
    db: &Db,
    actor: &Actor,
    id: Option<i64>,
    body: &Value,
    now: DateTime<Utc>,
) -> StoreResult<Value> {
    actor.require_admin("change the org tree")?;
    save_team(db, actor, id, body, now).await
}
