//! Group robots (admins only): WeCom, DingTalk and Feishu robots with the events they post,
//! an optional team, their language and signing secret; created, changed, switched on and off,
//! deleted; a test message; the delivery log of each, and sending a finished delivery again.
//! Every change goes through `xiansuo_app::channels::robots`, as `/api/v1/robots` does.

use super::frame::{
    admin_only, no_refusal, parse_id, refusal, saved, saved_notice, Frame, Menu, Refusal,
};
use super::outbound::{event_choices, viewer_zone, DeliveryLog, EventChoice};
use super::people::{team_choices, team_names};
use super::texts::SettingsTexts;
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use xiansuo_app::admin::users::{self, Team};
use xiansuo_app::channels::robots::{self, Kind, NewRobot, Robot, RobotInput, EVENTS, LANGUAGES};
use xiansuo_app::StoreError;

const PATH: &str = "/settings/robots";

/// The fields of a robot form; events come as repeated `events` fields.
#[derive(Default)]
struct RobotForm {
    csrf_token: String,
    name: String,
    kind: String,
    webhook_url: String,
    secret: String,
    events: Vec<String>,
    team_id: String,
    language: String,
    active: bool,
}

impl RobotForm {
    /// Reads the posted pairs (a checkbox per event, so a key may repeat).
    fn from_pairs(pairs: Vec<(String, String)>) -> RobotForm {
        let mut form = RobotForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "csrf_token" => form.csrf_token = value,
                "name" => form.name = value,
                "kind" => form.kind = value,
                "webhook_url" => form.webhook_url = value,
                "secret" => form.secret = value,
                "events" => form.events.push(value),
                "team_id" => form.team_id = value,
                "language" => form.language = value,
                "active" => form.active = !value.is_empty(),
                _ => {}
            }
        }
        form
    }

    /// The form of a saved robot; its secret is never shown.
    fn of(robot: &Robot) -> RobotForm {
        RobotForm {
            name: robot.name.clone(),
            kind: robot.kind.code().to_owned(),
            webhook_url: robot.webhook_url.clone(),
            events: robot.events.clone(),
            team_id: robot.team_id.map(|t| t.to_string()).unwrap_or_default(),
            language: robot.language.clone(),
            active: robot.active,
            ..RobotForm::default()
        }
    }

    /// A new robot, as `POST /api/v1/robots` takes it.
    fn new_robot(&self) -> NewRobot {
        NewRobot {
            name: self.name.clone(),
            kind: self.kind.clone(),
            webhook_url: self.webhook_url.clone(),
            secret: Some(self.secret.trim().to_owned()),
            events: self.events.clone(),
            team_id: parse_id(&self.team_id),
            language: Some(self.language.clone()),
            active: None,
        }
    }

    /// The change of a robot. A secret left empty on a robot's page keeps the one it has.
    fn input(&self) -> RobotInput {
        let secret = self.secret.trim();
        RobotInput {
            name: Some(self.name.clone()),
            kind: Some(self.kind.clone()),
            webhook_url: Some(self.webhook_url.clone()),
            secret: (!secret.is_empty()).then(|| Some(secret.to_owned())),
            events: Some(self.events.clone()),
            team_id: Some(parse_id(&self.team_id)),
            language: Some(self.language.clone()),
            active: Some(self.active),
        }
    }
}

/// The fields of a robot form as the template shows them.
struct Fields {
    name: String,
    webhook_url: String,
    kinds: Vec<Choice>,
    teams: Vec<Choice>,
    languages: Vec<Choice>,
    active: bool,
    /// Under the secret: what it is for, or on a signed robot's page that empty keeps it.
    secret_hint: &'static str,
}

async fn fields(
    state: &AppState,
    s: &'static SettingsTexts,
    form: &RobotForm,
) -> Result<(Fields, Vec<EventChoice>, Vec<Team>), StoreError> {
    let teams = users::list_teams(&state.db).await?.items;
    let fields = Fields {
        name: form.name.clone(),
        webhook_url: form.webhook_url.clone(),
        kinds: Kind::ALL
            .iter()
            .map(|k| Choice::new(k.code(), s.code(k.code()), &form.kind))
            .collect(),
        teams: team_choices(&teams, s.all_teams, &form.team_id, None),
        languages: LANGUAGES
            .iter()
            .map(|l| Choice::new(*l, s.code(l), &form.language))
            .collect(),
        active: form.active,
        secret_hint: s.robot_secret_hint,
    };
    let events = event_choices(EVENTS.iter().copied(), |e| s.code(e), &form.events);
    Ok((fields, events, teams))
}

struct RobotRow {
    id: i64,
    name: String,
    kind: &'static str,
    events: String,
    team: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "settings_robots.html")]
struct RobotsPage {
    chrome: Chrome,
    menu: Menu,
    robots: Vec<RobotRow>,
    fields: Fields,
    events: Vec<EventChoice>,
    refused: Refusal,
    notice: Option<&'static str>,
}

async fn robots_page(
    state: &AppState,
    user: &Viewer,
    form: RobotForm,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, PATH);
    let s = frame.menu.s;
    let loaded = async {
        let list = robots::list(&state.db, &user.actor).await?;
        Ok::<_, StoreError>((list, fields(state, s, &form).await?))
    };
    let (list, (fields, events, teams)) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let team_names = team_names(&teams);
    let robots = list
        .items
        .iter()
        .map(|r| RobotRow {
            id: r.id,
            name: r.name.clone(),
            kind: s.code(r.kind.code()),
            events: r
                .events
                .iter()
                .map(|e| s.code(e))
                .collect::<Vec<_>>()
                .join("、"),
            team: r
                .team_id
                .and_then(|t| team_names.get(&t).cloned())
                .unwrap_or_else(|| s.all_teams.to_owned()),
            active: r.active,
        })
        .collect();
    let page = RobotsPage {
        robots,
        fields,
        events,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
        refused,
    };
    render(page.refused.status, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SavedQuery {
    saved: String,
}

/// `GET /settings/robots`
pub(crate) async fn list(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    let form = RobotForm {
        kind: Kind::Wecom.code().to_owned(),
        language: user.actor.locale.clone(),
        ..RobotForm::default()
    };
    robots_page(
        &state,
        &user,
        form,
        no_refusal(),
        saved_notice(s, &query.saved),
    )
    .await
}

/// `POST /settings/robots`: a new robot; on to its page.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = RobotForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    match robots::create(
        &state.db,
        &user.actor,
        form.new_robot().into(),
        state.clock.now(),
    )
    .await
    {
        Ok(robot) => saved(&robot_path(robot.id)),
        Err(e) => match refusal(&user, PATH, e) {
            Ok(refused) => robots_page(&state, &user, form, refused, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Template)]
#[template(path = "settings_robot.html")]
struct RobotPage {
    chrome: Chrome,
    menu: Menu,
    id: i64,
    title: String,
    fields: Fields,
    events: Vec<EventChoice>,
    log: DeliveryLog,
    refused: Refusal,
    notice: Option<&'static str>,
}

async fn robot_page(
    state: &AppState,
    user: &Viewer,
    id: i64,
    sent: Option<RobotForm>,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, PATH);
    let s = frame.menu.s;
    let loaded = async {
        let robot = robots::get(&state.db, &user.actor, id).await?;
        let log = robots::deliveries(&state.db, &user.actor, id, &[]).await?;
        let zone = viewer_zone(state, user).await?;
        let form = sent.unwrap_or_else(|| RobotForm::of(&robot));
        Ok::<_, StoreError>((robot, log, zone, fields(state, s, &form).await?))
    };
    let (robot, log, zone, (mut fields, events, _)) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    if robot.signed {
        fields.secret_hint = s.robot_secret_keep;
    }
    let page = RobotPage {
        id,
        title: robot.name,
        fields,
        events,
        log: DeliveryLog::new(&log, &zone, "/settings/robots/deliveries", "robot_id", id),
        refused,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(page.refused.status, &page)
}

fn robot_path(id: i64) -> String {
    format!("{PATH}/{id}")
}

fn not_found(user: &Viewer) -> Response {
    store_error_page(Chrome::for_user(user, PATH), StoreError::NotFound("robot"))
}

/// `GET /settings/robots/{id}`: the robot and its delivery log.
pub(crate) async fn show(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let s = super::texts::settings_texts(&user.actor.locale);
    robot_page(
        &state,
        &user,
        id,
        None,
        no_refusal(),
        saved_notice(s, &query.saved),
    )
    .await
}

/// `POST /settings/robots/{id}`: its fields and on/off, as `PATCH /api/v1/robots/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = RobotForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match robots::update(
        &state.db,
        &user.actor,
        id,
        form.input().into(),
        state.clock.now(),
    )
    .await
    {
        Ok(_) => saved(&robot_path(id)),
        Err(e) => match refusal(&user, PATH, e) {
            Ok(refused) => robot_page(&state, &user, id, Some(form), refused, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ActionPost {
    csrf_token: String,
    robot_id: String,
}

/// The checks of a button's post: its CSRF token, the admin, the id in the path.
fn action(user: &Viewer, form: &ActionPost, id: &str) -> Result<i64, Box<Response>> {
    if let Some(refused) = csrf_refusal(user, &form.csrf_token) {
        return Err(Box::new(refused));
    }
    if let Some(refused) = admin_only(user, PATH) {
        return Err(Box::new(refused));
    }
    parse_id(id).ok_or_else(|| Box::new(not_found(user)))
}

/// `POST /settings/robots/{id}/delete`, as `DELETE /api/v1/robots/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ActionPost>,
) -> Response {
    let id = match action(&user, &form, &id) {
        Ok(id) => id,
        Err(refused) => return *refused,
    };
    match robots::delete(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(()) => saved(PATH),
        Err(e) => store_error_page(Chrome::for_user(&user, PATH), e),
    }
}

/// `POST /settings/robots/{id}/test`: a test message now, logged like the others.
pub(crate) async fn test(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ActionPost>,
) -> Response {
    let id = match action(&user, &form, &id) {
        Ok(id) => id,
        Err(refused) => return *refused,
    };
    match robots::test(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(_) => Redirect::to(&robot_path(id)).into_response(),
        Err(e) => store_error_page(Chrome::for_user(&user, PATH), e),
    }
}

/// `POST /settings/robots/deliveries/{id}/redeliver`: sends a finished delivery again, as
/// `POST /api/v1/robots/deliveries/{id}/retry`; a refusal shows on the robot's page.
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ActionPost>,
) -> Response {
    let id = match action(&user, &form, &id) {
        Ok(id) => id,
        Err(refused) => return *refused,
    };
    let Some(robot) = parse_id(&form.robot_id) else {
        return not_found(&user);
    };
    match robots::redeliver(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(_) => saved(&robot_path(robot)),
        Err(e) => match refusal(&user, PATH, e) {
            Ok(refused) => robot_page(&state, &user, robot, None, refused, None).await,
            Err(page) => *page,
        },
    }
}
