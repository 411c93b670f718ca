//! Every user's own settings: the profile (display name, email, language, time zone), which
//! notifications they get in the app and by email (as `/api/v1/me/notification-preferences`),
//! their password (the current one required, through the store's `users::change_password`),
//! and their API tokens with a scope each (read-only, read-write, admin), shown once when
//! created.

use super::frame::{
    field_refusal, no_refusal, optional_text, parse_id, refusal, saved, saved_notice, time_in,
    Frame, Menu, Refusal,
};
use crate::auth::{cookie, SESSION_COOKIE};
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use xiansuo_app::admin::auth::{self, NewToken};
use xiansuo_app::admin::users::{self, PasswordChange, UserPatch};
use xiansuo_app::channels::notifications::{self, Kind, KindPreference, PreferencesChange};
use xiansuo_app::StoreError;

/// Time zones offered in the profile's list; any other IANA name may be typed.
const ZONES: &[&str] = &[
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
];

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ProfilePost {
    csrf_token: String,
    display_name: String,
    email: String,
    locale: String,
    time_zone: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PasswordPost {
    csrf_token: String,
    current_password: String,
    new_password: String,
    confirm_password: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SavedQuery {
    saved: String,
    password: String,
}

/// One kind of notification with its two checkboxes.
struct KindRow {
    code: &'static str,
    label: &'static str,
    in_app: bool,
    email: bool,
}

/// The kinds the viewer may be sent, with their labels: all for an admin, the rest without the
/// admins' own.
fn kinds_for(user: &Viewer) -> impl Iterator<Item = (Kind, &'static str)> {
    let labels = super::texts::settings_texts(&user.actor.locale)
        .more
        .notify_kinds;
    let admin = user.actor.is_admin();
    Kind::ALL
        .into_iter()
        .zip(labels)
        .filter(move |(kind, _)| admin || !kind.admins_only())
}

/// The values of the profile form.
struct ProfileForm {
    display_name: String,
    email: String,
    locale: String,
    time_zone: String,
}

#[derive(Template)]
#[template(path = "settings_profile.html")]
struct ProfilePage {
    chrome: Chrome,
    menu: Menu,
    username: String,
    role: String,
    team: String,
    form: ProfileForm,
    locales: Vec<Choice>,
    zones: &'static [&'static str],
    kinds: Vec<KindRow>,
    daily_digest: bool,
    profile: Refusal,
    password: Refusal,
    notice: Option<&'static str>,
}

async fn profile_page(
    state: &AppState,
    user: &Viewer,
    form: Option<ProfileForm>,
    profile: Refusal,
    password: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/profile");
    let me = match users::get(&state.db, user.actor.user_id).await {
        Ok(me) => me,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let preferences = match notifications::preferences(&state.db, user.actor.user_id).await {
        Ok(preferences) => preferences,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let kinds = kinds_for(user)
        .map(|(kind, label)| {
            let set = preferences.kinds.iter().find(|p| p.kind == kind);
            KindRow {
                code: kind.code(),
                label,
                in_app: set.is_none_or(|p| p.in_app),
                email: set.is_none_or(|p| p.email),
            }
        })
        .collect();
    let team = match me.team_id {
        Some(id) => match users::get_team(&state.db, id).await {
            Ok(team) => team.name,
            Err(e) => return store_error_page(frame.chrome, e),
        },
        None => frame.menu.s.no_team.to_owned(),
    };
    let form = form.unwrap_or_else(|| ProfileForm {
        display_name: me.display_name.clone().unwrap_or_default(),
        email: me.email.clone().unwrap_or_default(),
        locale: me.locale.clone(),
        time_zone: me.time_zone.clone(),
    });
    let locales = vec![
        Choice::new("zh", "中文", &form.locale),
        Choice::new("en", "English", &form.locale),
    ];
    let status = [profile.status, password.status]
        .into_iter()
        .max_by_key(|s| s.as_u16())
        .unwrap_or(StatusCode::OK);
    let page = ProfilePage {
        role: frame.menu.s.code(&me.role).to_owned(),
        username: me.username,
        team,
        form,
        locales,
        zones: ZONES,
        kinds,
        daily_digest: preferences.daily_digest,
        profile,
        password,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(status, &page)
}

/// `GET /settings/profile`
pub(crate) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = if query.password.is_empty() {
        saved_notice(s, &query.saved)
    } else {
        Some(s.password_changed)
    };
    profile_page(&state, &user, None, no_refusal(), no_refusal(), notice).await
}

/// `POST /settings/profile`: name, email, language and time zone, as `PATCH /users/{me}`.
pub(crate) async fn save(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<ProfilePost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let patch = UserPatch {
        display_name: Some(optional_text(&form.display_name)),
        email: Some(optional_text(&form.email)),
        locale: Some(form.locale.trim().to_owned()),
        time_zone: Some(form.time_zone.trim().to_owned()),
        ..UserPatch::default()
    };
    let id = user.actor.user_id;
    match users::update(&state.db, &user.actor, id, patch.into(), state.clock.now()).await {
        Ok(_) => saved("/settings/profile"),
        Err(e) => {
            let refused = match refusal(&user, "/settings/profile", e) {
                Ok(refused) => refused,
                Err(page) => return *page,
            };
            let kept = ProfileForm {
                display_name: form.display_name,
                email: form.email,
                locale: form.locale,
                time_zone: form.time_zone,
            };
            profile_page(&state, &user, Some(kept), refused, no_refusal(), None).await
        }
    }
}

/// `POST /settings/notifications`: which notifications the user gets in the app and by email
/// (a checkbox `in_app` and `email` per kind, ticked ones sent), and the daily digest, as
/// `PUT /api/v1/me/notification-preferences`.
pub(crate) async fn save_notifications(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let sent = |name: &str, value: &str| pairs.iter().any(|(n, v)| n == name && v == value);
    let csrf = pairs
        .iter()
        .find(|(n, _)| n == "csrf_token")
        .map_or("", |(_, v)| v.as_str());
    if let Some(refused) = csrf_refusal(&user, csrf) {
        return refused;
    }
    let change = PreferencesChange {
        kinds: kinds_for(&user)
            .map(|(kind, _)| KindPreference {
                kind,
                in_app: sent("in_app", kind.code()),
                email: sent("email", kind.code()),
            })
            .collect(),
        daily_digest: Some(pairs.iter().any(|(n, _)| n == "daily_digest")),
    };
    let now = xiansuo_core::clock::to_millis(state.clock.now());
    match notifications::set_preferences(&state.db, user.actor.user_id, &change, now).await {
        Ok(_) => saved("/settings/profile"),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/profile"), e),
    }
}

/// `POST /settings/password`: the user's own password, the current one required.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    user: Viewer,
    headers: axum::http::HeaderMap,
    Form(form): Form<PasswordPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    if form.new_password != form.confirm_password {
        let refused = field_refusal("confirm_password", s.passwords_differ);
        return profile_page(&state, &user, None, no_refusal(), refused, None).await;
    }
    let change = PasswordChange {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match users::change_password(
        &state.db,
        &user.actor,
        change.into(),
        cookie(&headers, SESSION_COOKIE).as_deref(),
        state.clock.now(),
    )
    .await
    {
        Ok(()) => Redirect::to("/settings/profile?password=1").into_response(),
        Err(e) => match refusal(&user, "/settings/profile", e) {
            Ok(refused) => profile_page(&state, &user, None, no_refusal(), refused, None).await,
            Err(page) => *page,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// API tokens

struct TokenRow {
    id: i64,
    name: String,
    scope: String,
    created: String,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    menu: Menu,
    tokens: Vec<TokenRow>,
    scopes: Vec<Choice>,
    name: String,
    refused: Refusal,
    /// The token just created: its name and the secret, shown this once.
    created: Option<(String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TokenPost {
    csrf_token: String,
    name: String,
    scope: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CsrfPost {
    csrf_token: String,
}

/// The label of a token scope.
fn scope_label(s: &super::texts::SettingsTexts, scope: &str) -> String {
    if scope == "admin" {
        s.code("token:admin").to_owned()
    } else {
        s.code(scope).to_owned()
    }
}

async fn tokens_page(
    state: &AppState,
    user: &Viewer,
    form: TokenPost,
    refused: Refusal,
    created: Option<(String, String)>,
) -> Response {
    let frame = Frame::new(user, "/settings/tokens");
    let s = frame.menu.s;
    let loaded = async {
        let zone = users::get(&state.db, user.actor.user_id).await?.time_zone;
        let tokens = auth::list_tokens(&state.db, &user.actor).await?;
        Ok::<_, StoreError>((zone, tokens))
    };
    let (zone, tokens) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let tokens = tokens
        .items
        .into_iter()
        .rev()
        .map(|t| TokenRow {
            id: t.id,
            scope: scope_label(s, &t.scope),
            created: time_in(&zone, &t.created_at),
            revoked: t.revoked_at.as_deref().map(|at| time_in(&zone, at)),
            name: t.name,
        })
        .collect();
    let chosen = if form.scope.is_empty() {
        "read_write"
    } else {
        form.scope.as_str()
    };
    let mut scopes = vec![
        Choice::new("read_only", scope_label(s, "read_only"), chosen),
        Choice::new("read_write", scope_label(s, "read_write"), chosen),
    ];
    if user.actor.is_admin() {
        scopes.push(Choice::new("admin", scope_label(s, "admin"), chosen));
    }
    let status = refused.status;
    let page = TokensPage {
        chrome: frame.chrome,
        menu: frame.menu,
        tokens,
        scopes,
        name: form.name,
        refused,
        created,
    };
    render(status, &page)
}

/// `GET /settings/tokens`: the user's own tokens.
pub(crate) async fn tokens(State(state): State<AppState>, user: Viewer) -> Response {
    tokens_page(&state, &user, TokenPost::default(), no_refusal(), None).await
}

/// `POST /settings/tokens`: a new token, shown once on the page that answers.
pub(crate) async fn create_token(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<TokenPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let new = NewToken {
        name: Some(form.name.trim().to_owned()),
        scope: Some(form.scope.trim().to_owned()),
    };
    match auth::create_scoped_token(&state.db, &user.actor, new.into(), state.clock.now()).await {
        Ok(token) => {
            let created = (token.name, token.token);
            let mut response = tokens_page(
                &state,
                &user,
                TokenPost::default(),
                no_refusal(),
                Some(created),
            )
            .await;
            *response.status_mut() = StatusCode::CREATED;
            response
        }
        Err(e) => match refusal(&user, "/settings/tokens", e) {
            Ok(refused) => tokens_page(&state, &user, form, refused, None).await,
            Err(page) => *page,
        },
    }
}

/// `POST /settings/tokens/{id}/revoke`: revokes one of the user's own tokens.
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let revoked = match parse_id(&id) {
        Some(id) => auth::revoke_token(&state.db, &user.actor, id, state.clock.now()).await,
        None => Err(StoreError::NotFound("Token")),
    };
    match revoked {
        Ok(()) => Redirect::to("/settings/tokens").into_response(),
        // The last admin token of the last admin: said above the list.
        Err(e) => match refusal(&user, "/settings/tokens", e) {
            Ok(refused) => tokens_page(&state, &user, TokenPost::default(), refused, None).await,
            Err(page) => *page,
        },
    }
}
