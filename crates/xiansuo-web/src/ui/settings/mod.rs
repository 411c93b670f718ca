//! 设置 / Settings: the pages where an admin configures people (users, the org tree), the data
//! model (custom fields, pipeline stages), scoring and assignment rules, public pools, recycle
//! and SLA rules, the working calendar, dedup policies, channel spend and KPI targets,
//! qualification checklists, web forms, webhooks, group robots, outgoing mail, the audit log and
//! API tokens,
//! and where every user keeps their own
//! profile (name, language, time zone, notification preferences, password) and tokens.
//!
//! Every change calls the same `xiansuo_db` use case as the API with the signed-in user as the
//! actor, so who may do what is decided by the store alone: an admin page asks the store's
//! [`xiansuo_app::Actor::require_admin`] before showing anything, and a refused write comes back
//! as the store's error, shown next to its field (an invalid value) or above the form.

mod assignment;
mod audit;
mod backup_texts;
mod backups;
mod calendar;
mod channels;
mod checklists;
mod choices;
mod data;
mod dedup;
mod export;
mod export_texts;
mod forms;
mod frame;
mod mail;
mod message_texts;
mod ops_texts;
mod outbound;
mod outcome;
mod people;
mod pools;
mod prediction;
mod profile;
mod robots;
mod rule_test;
mod scoring;
mod sla;
mod targets;
mod texts;

use super::page::{render, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use frame::{Frame, Menu};

/// The settings routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(index))
        .route("/settings/audit", get(audit::page))
        .route("/settings/export", get(export::page))
        .route("/settings/export/{source}", get(export::download))
        .route("/settings/backups", get(backups::page).post(backups::save))
        .route("/settings/backups/now", post(backups::take_now))
        .route("/settings/profile", get(profile::page).post(profile::save))
        .route("/settings/password", post(profile::change_password))
        .route("/settings/notifications", post(profile::save_notifications))
        .route(
            "/settings/tokens",
            get(profile::tokens).post(profile::create_token),
        )
        .route("/settings/tokens/{id}/revoke", post(profile::revoke_token))
        .route(
            "/settings/users",
            get(people::users).post(people::create_user),
        )
        .route(
            "/settings/users/{id}",
            get(people::user).post(people::update_user),
        )
        .route(
            "/settings/users/{id}/password",
            post(people::reset_password),
        )
        .route(
            "/settings/users/{id}/availability",
            post(people::availability),
        )
        .route(
            "/settings/teams",
            get(people::teams).post(people::create_team),
        )
        .route("/settings/teams/{id}", post(people::update_team))
        .route(
            "/settings/fields",
            get(data::fields).post(data::create_field),
        )
        .route(
            "/settings/fields/{id}",
            get(data::field).post(data::update_field),
        )
        .route(
            "/settings/fields/{id}/delete",
            get(data::confirm_delete).post(data::delete_field),
        )
        .route(
            "/settings/stages",
            get(data::stages).post(data::create_stage),
        )
        .route("/settings/stages/{id}", post(data::update_stage))
        .route(
            "/settings/choices",
            get(choices::show).post(choices::create),
        )
        .route("/settings/choices/{id}", post(choices::update))
        .route("/settings/choices/{id}/delete", post(choices::delete))
        .route(
            "/settings/scoring",
            get(scoring::page).post(scoring::create_rule),
        )
        .route(
            "/settings/prediction",
            get(prediction::page).post(prediction::train),
        )
        .route(
            "/settings/prediction/schedule",
            post(prediction::save_schedule),
        )
        .route("/settings/scoring/settings", post(scoring::save_settings))
        .route(
            "/settings/scoring/{id}",
            get(scoring::rule).post(scoring::update_rule),
        )
        .route("/settings/scoring/{id}/delete", post(scoring::delete_rule))
        .route(
            "/settings/assignment",
            get(assignment::rules).post(assignment::create_rule),
        )
        .route(
            "/settings/assignment/{id}",
            get(assignment::rule).post(assignment::update_rule),
        )
        .route(
            "/settings/assignment/reorder",
            post(assignment::reorder_rules),
        )
        .route(
            "/settings/assignment/{id}/move",
            post(assignment::move_rule),
        )
        .route(
            "/settings/assignment/{id}/delete",
            post(assignment::delete_rule),
        )
        .route("/settings/pools", get(pools::list).post(pools::create))
        .route("/settings/pools/{id}", get(pools::show).post(pools::update))
        .route("/settings/pools/{id}/delete", post(pools::delete))
        .route(
            "/settings/recycle",
            get(pools::recycle_rules).post(pools::create_recycle_rule),
        )
        .route("/settings/recycle/{id}", post(pools::update_recycle_rule))
        .route(
            "/settings/recycle/{id}/delete",
            post(pools::delete_recycle_rule),
        )
        .route("/settings/sla", get(sla::rules).post(sla::create))
        .route("/settings/sla/{id}", post(sla::update))
        .route("/settings/sla/{id}/delete", post(sla::delete))
        .merge(operations())
        .route("/settings/forms", get(forms::list).post(forms::create))
        .route("/settings/forms/{id}", get(forms::show).post(forms::update))
        .route("/settings/forms/{id}/delete", post(forms::delete))
        .route("/settings/forms/preview", post(forms::preview_new))
        .route("/settings/forms/{id}/preview", post(forms::preview))
        .route(
            "/settings/webhooks",
            get(channels::hooks).post(channels::create_hook),
        )
        .route(
            "/settings/webhooks/{id}",
            get(channels::hook).post(channels::update_hook),
        )
        .route(
            "/settings/webhooks/{id}/delete",
            post(channels::delete_hook),
        )
        .route("/settings/webhooks/{id}/test", post(channels::test_hook))
        .route(
            "/settings/deliveries/{id}/redeliver",
            post(channels::redeliver),
        )
        .route("/settings/robots", get(robots::list).post(robots::create))
        .route(
            "/settings/robots/{id}",
            get(robots::show).post(robots::update),
        )
        .route("/settings/robots/{id}/delete", post(robots::delete))
        .route("/settings/robots/{id}/test", post(robots::test))
        .route(
            "/settings/robots/deliveries/{id}/redeliver",
            post(robots::redeliver),
        )
}

/// The routes of the pages that tune how the work runs: the working calendar, dedup policies,
/// spend and targets, qualification checklists, the trial of the assignment rules.
fn operations() -> Router<AppState> {
    Router::new()
        .route(
            "/settings/working-hours",
            get(calendar::page).post(calendar::save),
        )
        .route("/settings/assignment/test", get(rule_test::page))
        .route("/settings/dedup", get(dedup::page).post(dedup::save))
        .route("/settings/dedup/default", post(dedup::use_default))
        .route("/settings/mail", get(mail::page))
        .route("/settings/mail/test", post(mail::send_test))
        .route("/settings/targets", get(targets::page))
        .route("/settings/targets/costs", post(targets::set_cost))
        .route(
            "/settings/targets/costs/{id}/delete",
            post(targets::delete_cost),
        )
        .route("/settings/targets/targets", post(targets::set_target))
        .route(
            "/settings/targets/targets/delete",
            post(targets::delete_target),
        )
        .route(
            "/settings/checklists",
            get(checklists::list).post(checklists::create),
        )
        .route(
            "/settings/checklists/{id}",
            get(checklists::show).post(checklists::update),
        )
        .route("/settings/checklists/{id}/delete", post(checklists::delete))
}

const SCRIPT: &str = include_str!("../../../assets/settings.js");

/// `GET /assets/settings.js`: dragging rules into order and a web form's auto-reply previewed
/// while typed, on top of the buttons that do it without script. Served like the stylesheet, under a hash of its text.
pub(super) async fn script() -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "settings.html")]
struct IndexPage {
    chrome: Chrome,
    menu: Menu,
    cards: Vec<(&'static str, &'static str, &'static str)>,
}

/// `GET /settings`: the settings an admin keeps; others have only their own profile, where
/// they are sent.
async fn index(user: Viewer) -> Response {
    if user.actor.require_admin("change settings").is_err() {
        return Redirect::to("/settings/profile").into_response();
    }
    let frame = Frame::new(&user, "/settings");
    let s = frame.menu.s;
    let cards = vec![
        ("/settings/profile", s.profile_title, s.profile_intro),
        ("/settings/users", s.users_title, s.users_intro),
        ("/settings/teams", s.teams_title, s.teams_intro),
        ("/settings/fields", s.fields_title, s.fields_intro),
        ("/settings/stages", s.stages_title, s.stages_intro),
        ("/settings/choices", s.choices_title, s.choices_intro),
        (
            "/settings/assignment",
            s.assignment_title,
            s.assignment_intro,
        ),
        ("/settings/pools", s.pools_title, s.pools_intro),
        ("/settings/recycle", s.recycle_title, s.recycle_intro),
        ("/settings/sla", s.sla_title, s.sla_intro),
        (
            "/settings/working-hours",
            s.ops.working_hours_title,
            s.ops.working_hours_intro,
        ),
        ("/settings/dedup", s.ops.dedup_title, s.ops.dedup_intro),
        (
            "/settings/targets",
            s.ops.targets_title,
            s.ops.targets_intro,
        ),
        (
            "/settings/checklists",
            s.ops.checklists_title,
            s.ops.checklists_intro,
        ),
        ("/settings/forms", s.forms_title, s.forms_intro),
        ("/settings/webhooks", s.webhooks_title, s.webhooks_intro),
        ("/settings/robots", s.robots_title, s.robots_intro),
        ("/settings/mail", s.ops.mail_title, s.ops.mail_intro),
        ("/settings/tokens", s.tokens_title, s.tokens_intro),
    ];
    render(
        StatusCode::OK,
        &IndexPage {
            chrome: frame.chrome,
            menu: frame.menu,
            cards,
        },
    )
}
