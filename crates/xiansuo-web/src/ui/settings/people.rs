//! People (admins only): the users (create; role, team, phone masking, language; deactivate and
//! reactivate; reset a password; absence and assignment caps) and the org tree (add a team,
//! rename it, move it under another). The last active admin cannot be demoted or deactivated:
//! the store refuses it, and the page says so above the form.

use super::frame::{
    admin_only, ctx, no_refusal, optional_text, parse_id, refusal, saved, saved_notice, Errors,
    Frame, Menu, Refusal,
};
use crate::ui::page::{
    csrf_refusal, instant_of_local, parse_instant, render, store_error_page, Choice, Chrome, Viewer,
};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::collections::HashMap;
use xiansuo_app::admin::users::{self, NewTeam, NewUser, Team, TeamPatch, UserPatch};
use xiansuo_app::leads::assignment;
use xiansuo_app::StoreError;
use xiansuo_core::assignment::AvailabilityPatch;
use xiansuo_core::Invalid;

const ROLES: [&str; 3] = ["rep", "manager", "admin"];
const TEAM_KINDS: [&str; 4] = ["headquarters", "region", "branch", "team"];

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SavedQuery {
    saved: String,
    created: String,
}

/// The choices of a role select.
fn role_choices(s: &super::texts::SettingsTexts, current: &str) -> Vec<Choice> {
    ROLES
        .iter()
        .map(|r| Choice::new(*r, s.code(r), current))
        .collect()
}

/// The choices of a team select, "no team" first; `except` leaves a team out (a team is not its
/// own parent).
pub(super) fn team_choices(
    teams: &[Team],
    none_label: &str,
    current: &str,
    except: Option<i64>,
) -> Vec<Choice> {
    let mut choices = vec![Choice::new("", none_label, current)];
    choices.extend(
        teams
            .iter()
            .filter(|t| Some(t.id) != except)
            .map(|t| Choice::new(t.id.to_string(), t.name.as_str(), current)),
    );
    choices
}

/// The team a select names, if any; one that is not an id is refused as the API refuses it.
fn team_id(field: &str, value: &str) -> Result<Option<i64>, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    parse_id(value)
        .map(Some)
        .ok_or_else(|| Invalid::new(field, "must be a team id"))
}

/// The name of each team, by id.
pub(super) fn team_names(teams: &[Team]) -> HashMap<i64, String> {
    teams.iter().map(|t| (t.id, t.name.clone())).collect()
}

// ---------------------------------------------------------------------------------------------
// The list of users, with the form to create one

struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    team: String,
    active: bool,
    masked: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct NewUserPost {
    csrf_token: String,
    username: String,
    password: String,
    display_name: String,
    email: String,
    role: String,
    team_id: String,
    locale: String,
}

#[derive(Template)]
#[template(path = "settings_users.html")]
struct UsersPage {
    chrome: Chrome,
    menu: Menu,
    users: Vec<UserRow>,
    form: NewUserPost,
    roles: Vec<Choice>,
    teams: Vec<Choice>,
    locales: Vec<Choice>,
    refused: Refusal,
    notice: Option<&'static str>,
}

async fn users_page(
    state: &AppState,
    user: &Viewer,
    form: NewUserPost,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/users");
    let s = frame.menu.s;
    let loaded = async {
        Ok::<_, StoreError>((
            users::list(&state.db, &[]).await?,
            users::list_teams(&state.db).await?.items,
        ))
    };
    let (list, teams) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let names = team_names(&teams);
    let users = list
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            role: s.code(&u.role).to_owned(),
            team: u
                .team_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_default(),
            active: u.active,
            masked: u.mask_phones,
            display_name: u.display_name.unwrap_or_default(),
            username: u.username,
        })
        .collect();
    let role = if form.role.is_empty() {
        "rep"
    } else {
        &form.role
    };
    let locale = if form.locale.is_empty() {
        "zh"
    } else {
        &form.locale
    };
    let page = UsersPage {
        roles: role_choices(s, role),
        teams: team_choices(&teams, s.no_team, &form.team_id, None),
        locales: locale_choices(locale),
        users,
        form,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
        refused,
    };
    render(page.refused.status, &page)
}

fn locale_choices(current: &str) -> Vec<Choice> {
    vec![
        Choice::new("zh", "中文", current),
        Choice::new("en", "English", current),
    ]
}

/// `GET /settings/users`
pub(crate) async fn users(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/users") {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    users_page(&state, &user, NewUserPost::default(), no_refusal(), notice).await
}

/// `POST /settings/users`: a new user, as `POST /api/v1/users`.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<NewUserPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let created = match team_id("team_id", &form.team_id) {
        Ok(team_id) => {
            let new = NewUser {
                username: form.username.trim().to_owned(),
                password: form.password.clone(),
                role: form.role.trim().to_owned(),
                team_id,
                display_name: optional_text(&form.display_name),
                email: optional_text(&form.email),
                locale: optional_text(&form.locale),
            };
            users::create_by(&state.db, &user.actor, new.into(), state.clock.now()).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match created {
        Ok(created) => {
            let id = created.id;
            Redirect::to(&format!("/settings/users/{id}?created=1")).into_response()
        }
        Err(e) => match refusal(&user, "/settings/users", e) {
            Ok(refused) => users_page(&state, &user, form, refused, None).await,
            Err(page) => *page,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// One user

/// The values of a user's account form.
struct AccountForm {
    display_name: String,
    email: String,
    role: String,
    team_id: String,
    locale: String,
    mask_phones: bool,
}

/// A user's absence and caps as the form shows them.
struct AvailabilityForm {
    away_until: String,
    max_open_leads: String,
    daily_cap: String,
    away: bool,
    open_leads: i64,
    assigned_today: i64,
}

#[derive(Template)]
#[template(path = "settings_user.html")]
struct UserPage {
    chrome: Chrome,
    menu: Menu,
    id: i64,
    username: String,
    active: bool,
    form: AccountForm,
    roles: Vec<Choice>,
    teams: Vec<Choice>,
    locales: Vec<Choice>,
    account: Refusal,
    password: Refusal,
    availability: AvailabilityForm,
    away: Refusal,
    notice: Option<&'static str>,
}

/// Which of the user page's forms a refusal belongs to, with the values it sent back.
enum Refused {
    None,
    Account(AccountForm, Refusal),
    Password(Refusal),
    Availability(AvailabilityForm, Refusal),
    /// The deactivate/reactivate button, refused: shown above the stored account.
    Status(Refusal),
}

async fn user_page(
    state: &AppState,
    user: &Viewer,
    id: i64,
    refused: Refused,
    notice: Option<&'static str>,
) -> Response {
    let path = format!("/settings/users/{id}");
    let frame = Frame::new(user, "/settings/users");
    let s = frame.menu.s;
    let loaded = async {
        Ok::<_, StoreError>((
            users::get(&state.db, id).await?,
            users::list_teams(&state.db).await?.items,
            assignment::get_availability(ctx(state, user), id).await?,
        ))
    };
    let (shown, teams, availability) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => {
            return store_error_page(Chrome::for_user(user, path), e);
        }
    };
    let stored_form = || AccountForm {
        display_name: shown.display_name.clone().unwrap_or_default(),
        email: shown.email.clone().unwrap_or_default(),
        role: shown.role.clone(),
        team_id: shown.team_id.map(|t| t.to_string()).unwrap_or_default(),
        locale: shown.locale.clone(),
        mask_phones: shown.mask_phones,
    };
    let stored_availability = || AvailabilityForm {
        away_until: availability
            .away_until
            .as_deref()
            .and_then(parse_instant)
            .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
        max_open_leads: shown_cap(availability.max_open_leads),
        daily_cap: shown_cap(availability.daily_cap),
        away: availability.away,
        open_leads: availability.open_leads,
        assigned_today: availability.assigned_today,
    };
    let (form, account, password, availability_form, away) = match refused {
        Refused::None => (
            stored_form(),
            no_refusal(),
            no_refusal(),
            stored_availability(),
            no_refusal(),
        ),
        Refused::Account(form, r) => (form, r, no_refusal(), stored_availability(), no_refusal()),
        Refused::Status(r) => (
            stored_form(),
            r,
            no_refusal(),
            stored_availability(),
            no_refusal(),
        ),
        Refused::Password(r) => (
            stored_form(),
            no_refusal(),
            r,
            stored_availability(),
            no_refusal(),
        ),
        Refused::Availability(sent, r) => {
            let stored = stored_availability();
            let shown = AvailabilityForm {
                away: stored.away,
                open_leads: stored.open_leads,
                assigned_today: stored.assigned_today,
                ..sent
            };
            (stored_form(), no_refusal(), no_refusal(), shown, r)
        }
    };
    let status = [account.status, password.status, away.status]
        .into_iter()
        .max_by_key(|s| s.as_u16())
        .unwrap_or(StatusCode::OK);
    let page = UserPage {
        id,
        username: shown.username.clone(),
        active: shown.active,
        roles: role_choices(s, &form.role),
        teams: team_choices(&teams, s.no_team, &form.team_id, None),
        locales: locale_choices(&form.locale),
        form,
        account,
        password,
        availability: availability_form,
        away,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(status, &page)
}

/// `GET /settings/users/{id}`
pub(crate) async fn user(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/users") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return store_error_page(
            Chrome::for_user(&user, "/settings/users"),
            StoreError::NotFound("User"),
        );
    };
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = if query.created.is_empty() {
        saved_notice(s, &query.saved)
    } else {
        Some(s.user_created)
    };
    user_page(&state, &user, id, Refused::None, notice).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AccountPost {
    csrf_token: String,
    /// `account` for the whole form; `status` for the deactivate/reactivate button alone.
    form: String,
    display_name: String,
    email: String,
    role: String,
    team_id: String,
    locale: String,
    mask_phones: String,
    active: String,
}

/// `POST /settings/users/{id}`: the account form, or the deactivate/reactivate button, as
/// `PATCH /api/v1/users/{id}`.
pub(crate) async fn update_user(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<AccountPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return store_error_page(
            Chrome::for_user(&user, "/settings/users"),
            StoreError::NotFound("User"),
        );
    };
    let patch = if form.form == "status" {
        Ok(UserPatch {
            active: Some(form.active == "true"),
            ..UserPatch::default()
        })
    } else {
        team_id("team_id", &form.team_id).map(|team_id| UserPatch {
            display_name: Some(optional_text(&form.display_name)),
            email: Some(optional_text(&form.email)),
            role: Some(form.role.trim().to_owned()),
            team_id: Some(team_id),
            locale: Some(form.locale.trim().to_owned()),
            mask_phones: Some(!form.mask_phones.is_empty()),
            ..UserPatch::default()
        })
    };
    let path = format!("/settings/users/{id}");
    let changed = match patch {
        Ok(patch) => {
            users::update(&state.db, &user.actor, id, patch.into(), state.clock.now()).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match changed {
        Ok(_) => saved(&path),
        Err(e) => match refusal(&user, "/settings/users", e) {
            Ok(refused) => {
                let refused = if form.form == "status" {
                    // The button has no fields: its refusal shows above the stored account.
                    Refused::Status(refused)
                } else {
                    let kept = AccountForm {
                        mask_phones: !form.mask_phones.is_empty(),
                        display_name: form.display_name,
                        email: form.email,
                        role: form.role,
                        team_id: form.team_id,
                        locale: form.locale,
                    };
                    Refused::Account(kept, refused)
                };
                user_page(&state, &user, id, refused, None).await
            }
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PasswordPost {
    csrf_token: String,
    password: String,
}

/// `POST /settings/users/{id}/password`: an admin sets a user's password.
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<PasswordPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return store_error_page(
            Chrome::for_user(&user, "/settings/users"),
            StoreError::NotFound("User"),
        );
    };
    let patch = UserPatch {
        password: Some(form.password),
        ..UserPatch::default()
    };
    match users::update(&state.db, &user.actor, id, patch.into(), state.clock.now()).await {
        Ok(_) => saved(&format!("/settings/users/{id}")),
        Err(e) => match refusal(&user, "/settings/users", e) {
            Ok(refused) => user_page(&state, &user, id, Refused::Password(refused), None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AvailabilityPost {
    csrf_token: String,
    away_until: String,
    max_open_leads: String,
    daily_cap: String,
}

impl AvailabilityPost {
    /// The caps as sent: none when blank.
    fn caps(&self) -> Result<(Option<i64>, Option<i64>), Invalid> {
        let cap = |field: &str, value: &str| {
            let value = value.trim();
            (!value.is_empty())
                .then(|| value.parse())
                .transpose()
                .map_err(|_| {
                    Invalid::new(field, "must be a whole number from 0 to 1000000, or null")
                })
        };
        Ok((
            cap("max_open_leads", &self.max_open_leads)?,
            cap("daily_cap", &self.daily_cap)?,
        ))
    }
}

/// A cap as the form shows it: empty when there is none.
fn shown_cap(cap: Option<i64>) -> String {
    cap.map(|n| n.to_string()).unwrap_or_default()
}

/// `POST /settings/users/{id}/availability`: absence and caps, as
/// `PATCH /api/v1/users/{id}/availability`.
pub(crate) async fn availability(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<AvailabilityPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return store_error_page(
            Chrome::for_user(&user, "/settings/users"),
            StoreError::NotFound("User"),
        );
    };
    let away = form.away_until.trim();
    // A value that is no date reaches the store as typed, which refuses it.
    let away_until =
        (!away.is_empty()).then(|| instant_of_local(away).unwrap_or_else(|| away.to_owned()));
    let patch = form
        .caps()
        .map(|(max_open_leads, daily_cap)| AvailabilityPatch {
            away_until: Some(away_until),
            max_open_leads: Some(max_open_leads),
            daily_cap: Some(daily_cap),
        });
    let changed = match patch {
        Ok(patch) => assignment::update_availability(ctx(&state, &user), id, patch.into()).await,
        Err(refused) => Err(refused.into()),
    };
    match changed {
        Ok(_) => saved(&format!("/settings/users/{id}")),
        Err(e) => match refusal(&user, "/settings/users", e) {
            Ok(refused) => {
                let kept = AvailabilityForm {
                    away_until: form.away_until,
                    max_open_leads: form.max_open_leads,
                    daily_cap: form.daily_cap,
                    away: false,
                    open_leads: 0,
                    assigned_today: 0,
                };
                user_page(
                    &state,
                    &user,
                    id,
                    Refused::Availability(kept, refused),
                    None,
                )
                .await
            }
            Err(page) => *page,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The org tree

struct TeamRow {
    id: i64,
    name: String,
    /// How deep in the tree, up to 4 (for the indent).
    depth: usize,
    members: usize,
    parents: Vec<Choice>,
    kinds: Vec<Choice>,
    /// A refused change of this team: next to its fields, or above them.
    errors: Errors,
    alert: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TeamPost {
    csrf_token: String,
    name: String,
    parent_id: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "settings_teams.html")]
struct TeamsPage {
    chrome: Chrome,
    menu: Menu,
    teams: Vec<TeamRow>,
    form: TeamPost,
    parents: Vec<Choice>,
    kinds: Vec<Choice>,
    refused: Refusal,
    notice: Option<&'static str>,
}

/// The teams in tree order (each parent before its children), with their depth.
fn tree_order(teams: &[Team]) -> Vec<(&Team, usize)> {
    fn visit<'a>(
        teams: &'a [Team],
        parent: Option<i64>,
        depth: usize,
        out: &mut Vec<(&'a Team, usize)>,
    ) {
        for team in teams.iter().filter(|t| t.parent_id == parent) {
            out.push((team, depth));
            visit(teams, Some(team.id), depth + 1, out);
        }
    }
    let mut out = Vec::new();
    visit(teams, None, 0, &mut out);
    out
}

fn kind_choices(s: &super::texts::SettingsTexts, current: &str) -> Vec<Choice> {
    TEAM_KINDS
        .iter()
        .map(|k| Choice::new(*k, s.code(k), current))
        .collect()
}

async fn teams_page(
    state: &AppState,
    user: &Viewer,
    form: TeamPost,
    refused: Refusal,
    row: Option<(i64, TeamPost, Refusal)>,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/teams");
    let s = frame.menu.s;
    let loaded = async {
        Ok::<_, StoreError>((
            users::list_teams(&state.db).await?.items,
            users::list(&state.db, &[]).await?,
        ))
    };
    let (teams, people) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let mut status = refused.status;
    let mut row = row;
    let rows = tree_order(&teams)
        .into_iter()
        .map(|(team, depth)| {
            let id = team.id;
            let (name, parent, kind, refused) = match row.take() {
                Some((row_id, sent, r)) if row_id == id => {
                    status = r.status;
                    (sent.name, sent.parent_id, sent.kind, r)
                }
                other => {
                    row = other;
                    (
                        team.name.clone(),
                        team.parent_id.map(|p| p.to_string()).unwrap_or_default(),
                        team.kind.clone(),
                        no_refusal(),
                    )
                }
            };
            TeamRow {
                id,
                name,
                depth: depth.min(4),
                members: people.iter().filter(|u| u.team_id == Some(id)).count(),
                parents: team_choices(&teams, s.top_level, &parent, Some(id)),
                kinds: kind_choices(s, &kind),
                errors: refused.errors,
                alert: refused.alert,
            }
        })
        .collect();
    let page = TeamsPage {
        teams: rows,
        parents: team_choices(&teams, s.top_level, &form.parent_id, None),
        kinds: kind_choices(
            s,
            if form.kind.is_empty() {
                "team"
            } else {
                &form.kind
            },
        ),
        form,
        refused,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(status, &page)
}

/// `GET /settings/teams`
pub(crate) async fn teams(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/teams") {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    teams_page(
        &state,
        &user,
        TeamPost::default(),
        no_refusal(),
        None,
        notice,
    )
    .await
}

/// `POST /settings/teams`: a new team, as `POST /api/v1/teams`.
pub(crate) async fn create_team(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<TeamPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let created = match team_id("parent_id", &form.parent_id) {
        Ok(parent_id) => {
            let new = NewTeam {
                name: form.name.trim().to_owned(),
                parent_id,
                kind: Some(form.kind.trim().to_owned()),
            };
            users::create_team(&state.db, &user.actor, new.into(), state.clock.now()).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match created {
        Ok(_) => saved("/settings/teams"),
        Err(e) => match refusal(&user, "/settings/teams", e) {
            Ok(refused) => teams_page(&state, &user, form, refused, None, None).await,
            Err(page) => *page,
        },
    }
}

/// `POST /settings/teams/{id}`: renames or moves a team, as `PATCH /api/v1/teams/{id}`.
pub(crate) async fn update_team(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<TeamPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return store_error_page(
            Chrome::for_user(&user, "/settings/teams"),
            StoreError::NotFound("Team"),
        );
    };
    let changed = match team_id("parent_id", &form.parent_id) {
        Ok(parent_id) => {
            let patch = TeamPatch {
                name: Some(form.name.trim().to_owned()),
                parent_id: Some(parent_id),
                kind: Some(form.kind.trim().to_owned()),
            };
            users::update_team(&state.db, &user.actor, id, patch.into(), state.clock.now()).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match changed {
        Ok(_) => saved("/settings/teams"),
        Err(e) => match refusal(&user, "/settings/teams", e) {
            Ok(refused) => {
                let row = Some((id, form, refused));
                teams_page(&state, &user, TeamPost::default(), no_refusal(), row, None).await
            }
            Err(page) => *page,
        },
    }
}
