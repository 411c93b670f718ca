//! Webhooks (admins only): subscriptions to domain events with their signing secret (shown
//! once, when created), switched on and off, changed and deleted; a test ping; the delivery log
//! of each, and sending a finished delivery again. Every change goes through
//! `xiansuo_app::channels::webhooks`, as `/api/v1/webhooks` does.

use super::frame::{
    admin_only, no_refusal, parse_id, refusal, saved, saved_notice, Frame, Menu, Refusal,
};
use super::outbound::{event_choices, viewer_zone, DeliveryLog, EventChoice};
use crate::ui::page::{csrf_refusal, render, store_error_page, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use xiansuo_app::channels::webhooks::{self, NewWebhook, WebhookPatch};
use xiansuo_app::StoreError;

/// The fields of a webhook form; events come as repeated `events` fields.
#[derive(Default)]
struct HookForm {
    csrf_token: String,
    url: String,
    description: String,
    secret: String,
    events: Vec<String>,
    active: bool,
}

impl HookForm {
    /// Reads the posted pairs (a checkbox per event, so a key may repeat).
    fn from_pairs(pairs: Vec<(String, String)>) -> HookForm {
        let mut form = HookForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "csrf_token" => form.csrf_token = value,
                "url" => form.url = value,
                "description" => form.description = value,
                "secret" => form.secret = value,
                "events" => form.events.push(value),
                "active" => form.active = !value.is_empty(),
                _ => {}
            }
        }
        form
    }

    /// A new subscription, as `POST /api/v1/webhooks` takes it.
    fn new_webhook(&self) -> NewWebhook {
        let secret = self.secret.trim();
        NewWebhook {
            url: self.url.trim().to_owned(),
            events: self.events.clone(),
            secret: (!secret.is_empty()).then(|| secret.to_owned()),
            description: Some(self.description.clone()),
            active: None,
        }
    }

    /// The change of a subscription, as `PATCH /api/v1/webhooks/{id}` takes it.
    fn patch(&self) -> WebhookPatch {
        WebhookPatch {
            url: Some(self.url.trim().to_owned()),
            events: Some(self.events.clone()),
            secret: None,
            description: Some(Some(self.description.clone())),
            active: Some(self.active),
        }
    }
}

/// A checkbox per event, "all events" first.
fn hook_events(chosen: &[String]) -> Vec<EventChoice> {
    let events = std::iter::once("*").chain(webhooks::EVENTS.iter().copied());
    event_choices(events, |_| "", chosen)
}

struct HookRow {
    id: i64,
    url: String,
    events: String,
    description: String,
    active: bool,
    failures: i64,
}

#[derive(Template)]
#[template(path = "settings_webhooks.html")]
struct HooksPage {
    chrome: Chrome,
    menu: Menu,
    hooks: Vec<HookRow>,
    url: String,
    description: String,
    events: Vec<EventChoice>,
    refused: Refusal,
    /// The secret of the webhook just created, shown this once.
    secret: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SavedQuery {
    saved: String,
}

async fn hooks_page(
    state: &AppState,
    user: &Viewer,
    form: HookForm,
    refused: Refusal,
    secret: Option<String>,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/webhooks");
    let hooks = match webhooks::list(&state.db, &user.actor).await {
        Ok(hooks) => hooks,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let hooks = hooks
        .items
        .into_iter()
        .map(|h| HookRow {
            id: h.id,
            url: h.url,
            events: h.events.join(", "),
            description: h.description.unwrap_or_default(),
            active: h.active,
            failures: h.failure_count,
        })
        .collect();
    let status = if secret.is_some() {
        StatusCode::CREATED
    } else {
        refused.status
    };
    let page = HooksPage {
        hooks,
        events: hook_events(&form.events),
        url: form.url,
        description: form.description,
        refused,
        secret,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(status, &page)
}

/// `GET /settings/webhooks`
pub(crate) async fn hooks(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/webhooks") {
        return refused;
    }
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    hooks_page(
        &state,
        &user,
        HookForm::default(),
        no_refusal(),
        None,
        notice,
    )
    .await
}

/// `POST /settings/webhooks`: a new subscription; the answer shows its secret once.
pub(crate) async fn create_hook(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = HookForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/webhooks") {
        return refused;
    }
    match webhooks::create(
        &state.db,
        &user.actor,
        form.new_webhook().into(),
        state.clock.now(),
    )
    .await
    {
        Ok(created) => {
            let secret = Some(created.secret);
            hooks_page(
                &state,
                &user,
                HookForm::default(),
                no_refusal(),
                secret,
                None,
            )
            .await
        }
        Err(e) => match refusal(&user, "/settings/webhooks", e) {
            Ok(refused) => hooks_page(&state, &user, form, refused, None, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Template)]
#[template(path = "settings_webhook.html")]
struct HookPage {
    chrome: Chrome,
    menu: Menu,
    id: i64,
    url: String,
    description: String,
    active: bool,
    disabled_reason: String,
    events: Vec<EventChoice>,
    log: DeliveryLog,
    refused: Refusal,
    notice: Option<&'static str>,
}

async fn hook_page(
    state: &AppState,
    user: &Viewer,
    id: i64,
    sent: Option<HookForm>,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, "/settings/webhooks");
    let loaded = async {
        let zone = viewer_zone(state, user).await?;
        Ok::<_, StoreError>((
            webhooks::get(&state.db, &user.actor, id).await?,
            webhooks::deliveries(&state.db, &user.actor, id, &[]).await?,
            zone,
        ))
    };
    let (hook, log, zone) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let disabled_reason = hook.disabled_reason.clone().unwrap_or_default();
    let form = sent.unwrap_or_else(|| HookForm {
        url: hook.url,
        description: hook.description.unwrap_or_default(),
        events: hook.events,
        active: hook.active,
        ..HookForm::default()
    });
    let page = HookPage {
        id,
        events: hook_events(&form.events),
        url: form.url,
        description: form.description,
        active: form.active,
        disabled_reason,
        log: DeliveryLog::new(&log, &zone, "/settings/deliveries", "webhook_id", id),
        refused,
        notice,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(page.refused.status, &page)
}

fn hook_path(id: i64) -> String {
    format!("/settings/webhooks/{id}")
}

fn not_found(user: &Viewer) -> Response {
    store_error_page(
        Chrome::for_user(user, "/settings/webhooks"),
        StoreError::NotFound("webhook"),
    )
}

/// `GET /settings/webhooks/{id}`: the subscription and its delivery log.
pub(crate) async fn hook(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, "/settings/webhooks") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    let s = super::texts::settings_texts(&user.actor.locale);
    let notice = saved_notice(s, &query.saved);
    hook_page(&state, &user, id, None, no_refusal(), notice).await
}

/// `POST /settings/webhooks/{id}`: URL, description, events and on/off, as
/// `PATCH /api/v1/webhooks/{id}`.
pub(crate) async fn update_hook(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = HookForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/webhooks") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match webhooks::update(
        &state.db,
        &user.actor,
        id,
        form.patch().into(),
        state.clock.now(),
    )
    .await
    {
        Ok(_) => saved(&hook_path(id)),
        Err(e) => match refusal(&user, "/settings/webhooks", e) {
            Ok(refused) => hook_page(&state, &user, id, Some(form), refused, None).await,
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ActionPost {
    csrf_token: String,
    webhook_id: String,
}

/// `POST /settings/webhooks/{id}/delete`, as `DELETE /api/v1/webhooks/{id}`.
pub(crate) async fn delete_hook(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ActionPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/webhooks") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match webhooks::delete(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(()) => saved("/settings/webhooks"),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/webhooks"), e),
    }
}

/// `POST /settings/webhooks/{id}/test`: one signed test delivery now, logged like the others.
pub(crate) async fn test_hook(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ActionPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/webhooks") {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return not_found(&user);
    };
    match webhooks::ping(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(_) => Redirect::to(&hook_path(id)).into_response(),
        Err(e) => store_error_page(Chrome::for_user(&user, "/settings/webhooks"), e),
    }
}

/// `POST /settings/deliveries/{id}/redeliver`: sends a finished delivery again, as
/// `POST /api/v1/webhooks/deliveries/{id}/retry`; a refusal shows on the webhook's page.
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ActionPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, "/settings/webhooks") {
        return refused;
    }
    let (Some(id), Some(hook)) = (parse_id(&id), parse_id(&form.webhook_id)) else {
        return not_found(&user);
    };
    match webhooks::redeliver(&state.db, &user.actor, id, state.clock.now()).await {
        Ok(_) => saved(&hook_path(hook)),
        Err(e) => match refusal(&user, "/settings/webhooks", e) {
            Ok(refused) => hook_page(&state, &user, hook, None, refused, None).await,
            Err(page) => *page,
        },
    }
}
