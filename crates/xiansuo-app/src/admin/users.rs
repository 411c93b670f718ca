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
use serde::{Deserialize, Serialize};
use utoipa::openapi::{KnownFormat, ObjectBuilder, SchemaFormat};
use utoipa::ToSchema;
use xiansuo_core::clock::to_millis;
use xiansuo_core::role::{would_cycle, Role, TeamKind};
use xiansuo_core::validation::{present, Unread};
use xiansuo_core::working_hours::parse_time_zone;
use xiansuo_core::{schema, Invalid, Text};
use xiansuo_store::{Db, DecodeError, Param, Row};

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

const ROLES: [Role; 3] = [Role::Admin, Role::Manager, Role::Rep];
const LOCALES: [&str; 2] = ["zh", "en"];

/// A user as an admin, or the user themselves, sees them; never the password.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(
    description = "A user; never the password. Of other users, managers and reps get \
    only the fields needed to pick an owner (id, username, display_name, role, team_id, \
    active); admins and the user themselves get all"
)]
pub struct User {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    /// Sign-in name
    pub username: String,
    /// Name shown to others
    #[schema(required = true)]
    pub display_name: Option<String>,
    /// Email address
    #[schema(required = false)]
    pub email: Option<String>,
    #[schema(schema_with = role_schema)]
    pub role: String,
    /// The team in the org tree
    #[schema(required = true, minimum = 1)]
    pub team_id: Option<i64>,
    #[schema(schema_with = locale_schema, required = false)]
    pub locale: String,
    /// False when the account is disabled
    pub active: bool,
    /// Sees phone numbers masked (138****5678) everywhere
    #[schema(required = false)]
    pub mask_phones: bool,
    /// IANA time zone the UI shows times in; Asia/Shanghai unless chosen
    #[schema(required = false)]
    pub time_zone: String,
    #[schema(schema_with = created_at_schema, required = false)]
    pub created_at: String,
    #[schema(schema_with = updated_at_schema, required = false)]
    pub updated_at: String,
}

/// What of a user everyone may see: enough to pick an owner or a colleague, no contact
/// details or personal settings.
#[derive(Debug, Serialize)]
pub struct Colleague {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub role: String,
    pub team_id: Option<i64>,
    pub active: bool,
}

/// A user as the API answers a caller: all of it for an admin and for the user themselves,
/// only what a [`Colleague`] shows for everyone else. Documented as [`User`], whose other
/// fields are not required.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Shown {
    Whole(User),
    Colleague(Colleague),
}

/// Users, by username, as the API answers a caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// Users, by username
    #[schema(value_type = Vec<User>)]
    pub items: Vec<Shown>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl User {
    fn read(r: &Row) -> User {
        User {
            id: r.int("id"),
            username: r.text("username"),
            display_name: r.opt_text("display_name"),
            email: r.opt_text("email"),
            role: r.text("role"),
            team_id: r.opt_int("team_id"),
            locale: r.text("locale"),
            active: r.int("active") != 0,
            mask_phones: r.int("mask_phones") != 0,
            time_zone: r
                .opt_text("time_zone")
                .unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned()),
            created_at: rfc3339(r.int("created_at")),
            updated_at: rfc3339(r.int("updated_at")),
        }
    }

    /// The user as `actor` may see them: see [`Shown`].
    pub fn shown_to(self, actor: &Actor) -> Shown {
        if actor.is_admin() || self.id == actor.user_id {
            return Shown::Whole(self);
        }
        Shown::Colleague(Colleague {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            role: self.role,
            team_id: self.team_id,
            active: self.active,
        })
    }
}

/// A new user as a request (or the command line) sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A new user")]
pub struct NewUser {
    #[schema(schema_with = username_schema)]
    pub username: String,
    #[schema(schema_with = password_schema)]
    pub password: String,
    #[schema(schema_with = role_schema)]
    pub role: String,
    /// An existing team
    #[serde(default)]
    #[schema(minimum = 1)]
    pub team_id: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = display_name_schema)]
    pub display_name: Option<String>,
    /// Email address
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(schema_with = new_locale_schema)]
    pub locale: Option<String>,
}

/// A new user with every field checked.
struct Account {
    username: String,
    password: String,
    role: Role,
    team_id: Option<i64>,
    display_name: Option<String>,
    email: Option<String>,
    locale: String,
}

impl NewUser {
    fn check(self) -> Result<Account, Invalid> {
        Ok(Account {
            username: parse_username(&self.username)?,
            password: parse_password(&self.password)?.to_owned(),
            role: Role::parse(&self.role)?,
            team_id: self.team_id,
            display_name: self
                .display_name
                .map(|s| Text::parse("display_name", &s, 100).map(Text::into_string))
                .transpose()?,
            email: self.email.as_deref().map(parse_email).transpose()?,
            locale: parse_locale(self.locale.as_deref().unwrap_or("zh"))?,
        })
    }
}

/// The fields of a user to change; a field left out keeps its value, and only the name, the
/// email and the team may be null. Anyone may change their own name, email, locale and time
/// zone; the rest only an admin.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "Changes to a user. Anyone may change their own name, email, locale \
    and time zone (their own password only with POST /api/v1/me/password, giving the current \
    one); only an admin may change role, team, active and mask_phones, or another user, whose \
    password they may set. The last active admin cannot be demoted or deactivated (409). A new \
    password ends all the user's sessions, and so does deactivation, after which their API \
    tokens stop working too"
)]
pub struct UserPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = display_name_schema)]
    pub display_name: Option<Option<String>>,
    /// Email address
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = locale_schema)]
    pub locale: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = time_zone_schema)]
    pub time_zone: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = password_schema)]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = role_schema)]
    pub role: Option<String>,
    /// An existing team
    #[serde(default, deserialize_with = "present")]
    #[schema(minimum = 1)]
    pub team_id: Option<Option<i64>>,
    /// False disables the account
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
    /// Show this user phone numbers masked (admin only)
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub mask_phones: Option<bool>,
}

impl UserPatch {
    /// The admin-only field this change sets, if any.
    fn admin_only(&self) -> Option<&'static str> {
        [
            ("role", self.role.is_some()),
            ("team_id", self.team_id.is_some()),
            ("active", self.active.is_some()),
            ("mask_phones", self.mask_phones.is_some()),
        ]
        .into_iter()
        .find_map(|(field, set)| set.then_some(field))
    }
}

fn role_schema() -> ObjectBuilder {
    schema::codes(ROLES.map(Role::code), false, "Role; decides the data scope")
}

fn locale_schema() -> ObjectBuilder {
    schema::codes(LOCALES, false, "Language of the UI")
}

fn new_locale_schema() -> ObjectBuilder {
    schema::codes(LOCALES, true, "Language of the UI; default zh")
}

fn username_schema() -> ObjectBuilder {
    schema::string(false, "2–64 letters, digits, '.', '_', '-' or '@'")
        .min_length(Some(2))
        .max_length(Some(64))
}

fn password_schema() -> ObjectBuilder {
    schema::string(false, "At least 8 characters")
        .min_length(Some(8))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
}

fn display_name_schema() -> ObjectBuilder {
    schema::text(true, true, 100, "Name shown to others")
}

fn time_zone_schema() -> ObjectBuilder {
    schema::string(false, "An IANA time zone such as Asia/Shanghai")
}

fn parse_email(value: &str) -> Result<String, Invalid> {
    Ok(xiansuo_core::Email::parse(value)?.entered().to_owned())
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
) -> StoreResult<User> {
    let user = user.check()?;
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
    Ok(User::read(&row))
}

/// Changes the fields of a user that `patch` sets. Only admins may change role, team, active
/// and phone masking, and set another user's password; anyone may change their own name,
/// email, locale and time zone (their own password only through [`change_password`], with the
/// current one).
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: Unread<UserPatch>,
    now: DateTime<Utc>,
) -> StoreResult<User> {
    if !actor.is_admin() && actor.user_id != id {
        return Err(StoreError::Forbidden(
            "only an admin may change another user".into(),
        ));
    }
    let patch = patch.read()?;
    if let Some(field) = patch.admin_only().filter(|_| !actor.is_admin()) {
        return Err(StoreError::Forbidden(format!(
            "only an admin may change {field}"
        )));
    }
    if patch.password.is_some() && actor.user_id == id {
        return Err(StoreError::Forbidden(
            "change your own password with POST /api/v1/me/password, giving the current one".into(),
        ));
    }
    let mut sets: Vec<(&str, Param)> = Vec::new();
    if let Some(name) = patch.display_name {
        let name = name
            .map(|n| Text::parse("display_name", &n, 100).map(Text::into_string))
            .transpose()?;
        sets.push(("display_name", Param::from(name)));
    }
    if let Some(email) = patch.email {
        sets.push((
            "email",
            Param::from(email.as_deref().map(parse_email).transpose()?),
        ));
    }
    if let Some(locale) = &patch.locale {
        sets.push(("locale", Param::from(parse_locale(locale)?)));
    }
    if let Some(zone) = &patch.time_zone {
        sets.push((
            "time_zone",
            Param::from(parse_time_zone("time_zone", zone)?.name()),
        ));
    }
    let role = patch.role.as_deref().map(Role::parse).transpose()?;
    if let Some(role) = role {
        sets.push(("role", Param::from(role.code())));
    }
    if let Some(password) = &patch.password {
        let password = parse_password(password)?.to_owned();
        sets.push((
            "password_hash",
            Param::from(hash_password_apart(password).await?),
        ));
    }
    if let Some(mask) = patch.mask_phones {
        sets.push(("mask_phones", Param::Int(i64::from(mask))));
    }
    if let Some(active) = patch.active {
        sets.push(("active", Param::Int(i64::from(active))));
    }
    if let Some(team) = patch.team_id {
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
    let demotes = role.is_some_and(|r| r != Role::Admin);
    let deactivates = patch.active == Some(false);
    let resets_password = patch.password.is_some();
    let mut tx = db.begin().await?;
    tx.fetch_optional("SELECT id FROM users WHERE id = ?", &[Param::Int(id)])
        .await?
        .ok_or(StoreError::NotFound("User"))?;
    guard_last_admin(&mut tx, id, demotes, deactivates).await?;
    let snapshot = audit::Before::take(&mut tx, audit::Setting::User, id).await?;
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
    Ok(User::read(&row))
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

/// [`get`] as the API answers `actor`: see [`Shown`].
pub async fn get_for(db: &Db, actor: &Actor, id: i64) -> StoreResult<Shown> {
    Ok(get(db, id).await?.shown_to(actor))
}

/// [`list`] as the API answers `actor`: see [`Shown`].
pub async fn list_for(
    db: &Db,
    actor: &Actor,
    params: &[(String, String)],
) -> StoreResult<UserList> {
    let items = list(db, params)
        .await?
        .into_iter()
        .map(|u| u.shown_to(actor))
        .collect();
    Ok(UserList {
        items,
        next_cursor: None,
    })
}

/// One user, whole: for the user themselves, for admins, and for what the server does.
pub async fn get(db: &Db, id: i64) -> StoreResult<User> {
    db.fetch_optional(
        "SELECT * FROM users WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(id)],
    )
    .await?
    .map(|r| User::read(&r))
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
pub async fn list(db: &Db, params: &[(String, String)]) -> StoreResult<Vec<User>> {
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
        .map(User::read)
        .collect())
}

/// A node of the org tree.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(description = "A node of the org tree (组织架构)")]
pub struct Team {
    /// Unique id
    #[schema(minimum = 1)]
    pub id: i64,
    /// Unique name
    pub name: String,
    #[schema(schema_with = team_kind_schema)]
    pub kind: String,
    /// The team above; null at the top
    #[schema(required = true, minimum = 1)]
    pub parent_id: Option<i64>,
    #[schema(schema_with = created_at_schema)]
    pub created_at: String,
    #[schema(schema_with = updated_at_schema)]
    pub updated_at: String,
}

/// Every team, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamList {
    /// Every team
    pub items: Vec<Team>,
    /// Always null: the list is whole
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A new team as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "A new team")]
pub struct NewTeam {
    #[schema(schema_with = team_name_schema)]
    pub name: String,
    /// The team above; null or absent for a top-level team
    #[serde(default)]
    #[schema(minimum = 1)]
    pub parent_id: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = new_team_kind_schema)]
    pub kind: Option<String>,
}

/// The fields of a team to change; a field left out keeps its value, and only the team above
/// may be null (a top-level team).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Changes to a team")]
pub struct TeamPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = team_name_schema)]
    pub name: Option<String>,
    /// The team above; null for a top-level team
    #[serde(default, deserialize_with = "present")]
    #[schema(minimum = 1)]
    pub parent_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = new_team_kind_schema)]
    pub kind: Option<String>,
}

const TEAM_KINDS: [TeamKind; 4] = [
    TeamKind::Headquarters,
    TeamKind::Region,
    TeamKind::Branch,
    TeamKind::Team,
];

fn team_kind_schema() -> ObjectBuilder {
    schema::codes(
        TEAM_KINDS.map(TeamKind::code),
        false,
        "Level in the org tree",
    )
}

fn new_team_kind_schema() -> ObjectBuilder {
    schema::codes(
        TEAM_KINDS.map(TeamKind::code),
        false,
        "Level in the org tree; by default team below a parent, else headquarters",
    )
}

fn team_name_schema() -> ObjectBuilder {
    schema::text(false, true, 100, "Unique name")
}

fn created_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it was created")
}

fn updated_at_schema() -> ObjectBuilder {
    schema::date_time(false, "When it last changed")
}

/// A row of `teams`, as stored.
#[derive(Deserialize)]
struct StoredTeam {
    id: i64,
    name: String,
    kind: String,
    parent_id: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl Team {
    fn read(r: &Row) -> Result<Team, DecodeError> {
        let stored: StoredTeam = r.decode()?;
        Ok(Team {
            id: stored.id,
            name: stored.name,
            kind: stored.kind,
            parent_id: stored.parent_id,
            created_at: rfc3339(stored.created_at),
            updated_at: rfc3339(stored.updated_at),
        })
    }
}

/// Every team, oldest first; any signed-in user may read the org tree.
pub async fn list_teams(db: &Db) -> StoreResult<TeamList> {
    let items = db
        .fetch_all(
            "SELECT * FROM teams WHERE deleted_at IS NULL ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(Team::read)
        .collect::<Result<_, _>>()?;
    Ok(TeamList {
        items,
        next_cursor: None,
    })
}

/// One team; any signed-in user may read the org tree.
pub async fn get_team(db: &Db, id: i64) -> StoreResult<Team> {
    db.fetch_optional(
        "SELECT * FROM teams WHERE id = ? AND deleted_at IS NULL",
        &[Param::Int(id)],
    )
    .await?
    .map(|r| Team::read(&r))
    .ok_or(StoreError::NotFound("Team"))?
    .map_err(StoreError::from)
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

/// Creates (`id` `None`) or changes a team with the fields of `change` that are set.
async fn save_team(
    db: &Db,
    actor: &Actor,
    id: Option<i64>,
    change: TeamPatch,
    now: DateTime<Utc>,
) -> StoreResult<Team> {
    let name = change
        .name
        .map(|n| Text::parse("name", &n, 100).map(Text::into_string))
        .transpose()?;
    let parent = change.parent_id;
    let kind = change.kind.as_deref().map(TeamKind::parse).transpose()?;

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
    Ok(Team::read(&row)?)
}

/// The time zone of a user who has not chosen one: China Standard Time.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// Refuses a change that would leave no active admin: demoting or deactivating the last one
/// would lock everyone out of the settings. Run inside the change's transaction; on PostgreSQL
/// the active admins are locked, so two admins demoting each other at once cannot both win.
async fn guard_last_admin(
    tx: &mut xiansuo_store::Tx,
    id: i64,
    demotes: bool,
    deactivates: bool,
) -> StoreResult<()> {
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

/// A change of one's own password as a request sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(description = "Your current password and the new one")]
pub struct PasswordChange {
    #[schema(schema_with = current_password_schema)]
    pub current_password: String,
    #[schema(schema_with = password_schema)]
    pub new_password: String,
}

fn current_password_schema() -> ObjectBuilder {
    schema::string(false, "Your password now")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
}

/// Changes the actor's own password: the current one must be given, so that a session left
/// open cannot be used to take the account over. Every other session of the user ends;
/// `keep_session` (the secret of the session the change was made in, if any) stays.
pub async fn change_password(
    db: &Db,
    actor: &Actor,
    change: Unread<PasswordChange>,
    keep_session: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let change = change.read()?;
    let current = change.current_password;
    let new = parse_password(&change.new_password)
        .map_err(|e| Invalid::new("new_password", e.message))?;
    let hash = db
        .fetch_optional(
            "SELECT password_hash FROM users WHERE id = ?",
            &[Param::Int(actor.user_id)],
        )
        .await?
        .ok_or(StoreError::NotFound("User"))?
        .text("password_hash");
    let new = new.to_owned();
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

/// Creates a user (admins only).
pub async fn create_by(
    db: &Db,
    actor: &Actor,
    new: Unread<NewUser>,
    now: DateTime<Utc>,
) -> StoreResult<User> {
    actor.require_admin("create users")?;
    create(db, Some(actor), new.read()?, now).await
}

/// Creates a team (admins only).
pub async fn create_team(
    db: &Db,
    actor: &Actor,
    new: Unread<NewTeam>,
    now: DateTime<Utc>,
) -> StoreResult<Team> {
    actor.require_admin("change the org tree")?;
    let new = new.read()?;
    let change = TeamPatch {
        name: Some(new.name),
        parent_id: Some(new.parent_id),
        kind: new.kind,
    };
    save_team(db, actor, None, change, now).await
}

/// Renames a team, moves it in the org tree or changes its kind (admins only). A team cannot
/// be moved below itself.
pub async fn update_team(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: Unread<TeamPatch>,
    now: DateTime<Utc>,
) -> StoreResult<Team> {
    actor.require_admin("change the org tree")?;
    save_team(db, actor, Some(id), patch.read()?, now).await
}
