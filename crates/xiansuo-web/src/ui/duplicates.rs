//! Duplicate warnings on the lead form. While a person types a phone, an e-mail or a company,
//! a small script of ours (`/assets/lead-form.js`, progressive enhancement) asks
//! `GET /leads/duplicates/check` and lists what matches; without the script, the create and edit
//! posts run the same check and show the same warnings above the form, with "save anyway",
//! instead of saving a flagged lead silently. A colleague's or a pooled prospect is named only by
//! who holds it and until when it is protected (撞单), never by its data: the store's
//! `dedup::probe` decides what the user may see.

use super::lead_form::usernames as people;
use super::lead_form::{lead_url, text_of};
use super::list_texts::{fill, list_texts, ListTexts};
use super::page::content_version;
use super::page::{Viewer, Zone};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;
use xiansuo_app::leads::dedup::probe::{self, Probed, Typed};
use xiansuo_core::clock::to_millis;
use xiansuo_core::custom_field::RecordType;

const SCRIPT: &str = include_str!("../../assets/lead-form.js");

/// The script's address, with a hash of its text so that it can be cached for a year.
pub(super) fn script_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| format!("/assets/lead-form.js?v={}", content_version(SCRIPT)))
}

/// `GET /assets/lead-form.js`
pub(super) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// One match as the form shows it.
pub(super) struct Warning {
    pub(super) text: String,
    /// The lead's page, when the user may open it.
    pub(super) url: Option<String>,
    /// A phone, an e-mail, or a person and company in common (not merely the company).
    pub(super) strong: bool,
}

/// What a lead form holds that the check compares.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CheckQuery {
    pub(super) phone: String,
    pub(super) email: String,
    pub(super) name: String,
    pub(super) company: String,
    /// The lead being edited.
    pub(super) except: String,
}

fn warning(l: &ListTexts, zone: Zone, names: &HashMap<i64, String>, found: &Probed) -> Warning {
    let candidate = &found.candidate;
    let signals: Vec<&str> = candidate
        .signals
        .iter()
        .map(|s| l.signal(s.code()))
        .collect();
    let kind = l.record_type(candidate.record_type.code());
    let mut text = fill(l.dup_same, &[("signals", &signals.join(l.separator))]);
    let mut url = None;
    if candidate.visible {
        let none = Value::Null;
        let record = candidate.record.as_ref().unwrap_or(&none);
        let owner = record["owner_id"]
            .as_i64()
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_else(|| l.dup_unowned.to_owned());
        text.push_str(&fill(
            l.dup_visible,
            &[
                ("type", kind),
                ("name", &text_of(&record["name"])),
                ("owner", &owner),
            ],
        ));
        if candidate.record_type == RecordType::Lead {
            url = candidate.id.map(lead_url);
        }
    } else if candidate.in_pool == Some(true) {
        text.push_str(&fill(l.dup_pool, &[("type", kind)]));
    } else {
        let owner = candidate.owner.as_ref().and_then(|o| o.as_ref());
        let name = owner
            .and_then(|o| o.display_name.as_deref())
            .filter(|n| !n.trim().is_empty())
            .or_else(|| owner.map(|o| o.username.as_str()))
            .unwrap_or(l.dup_unowned);
        text.push_str(&fill(l.dup_held, &[("owner", name), ("type", kind)]));
        if let Some(until) = candidate
            .protected_until
            .as_ref()
            .and_then(|until| until.as_deref())
        {
            text.push_str(&fill(l.dup_protected, &[("date", &zone.date(until))]));
        }
    }
    Warning {
        text,
        url,
        strong: found.strong,
    }
}

/// The warnings for what was typed, as `user` may see them; none when the check fails (the
/// save itself still applies the dedup policy).
pub(super) async fn warnings(state: &AppState, user: &Viewer, typed: &CheckQuery) -> Vec<Warning> {
    let l = list_texts(&user.actor.locale);
    let probe = Typed {
        phone: &typed.phone,
        email: &typed.email,
        name: &typed.name,
        company: &typed.company,
        except: typed.except.trim().parse().ok(),
    };
    let now = to_millis(state.clock.now());
    let found = match probe::check(&state.db, &user.actor, &probe, now).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "the duplicate check failed");
            return Vec::new();
        }
    };
    let names = people(state).await.unwrap_or_default();
    found
        .iter()
        .map(|m| warning(l, user.zone, &names, m))
        .collect()
}

/// `GET /leads/duplicates/check?phone=&email=&name=&company=&except=`: the warnings for what
/// is typed so far, in the user's language: `{"title", "items": [{"text", "url", "strong"}]}`.
pub(super) async fn check(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<CheckQuery>,
) -> Response {
    let l = list_texts(&user.actor.locale);
    let items: Vec<Value> = warnings(&state, &user, &query)
        .await
        .into_iter()
        .map(|w| json!({ "text": w.text, "url": w.url, "strong": w.strong }))
        .collect();
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "title": l.dup_title, "items": items })),
    )
        .into_response()
}
