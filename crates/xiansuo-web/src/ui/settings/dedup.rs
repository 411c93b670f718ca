//! 查重策略 (admins only): what happens to a new lead that matches an existing record, per
//! source and per kind of match (certain: phone, email or external id; probable: name and
//! company) — block, warn or merge — with "any other source" (`*`) for the rest. Read and set
//! through `xiansuo_app::leads::dedup`, as `/api/v1/dedup/policies` and
//! `/api/v1/dedup/probable-policies` do.

use super::frame::{admin_only, ctx, no_refusal, saved_notice, Errors, Frame, Menu, Refusal};
use super::outcome::{answer, SavedQuery};
use super::texts::settings_texts;
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use xiansuo_app::leads::dedup::{self, SourcePolicy};
use xiansuo_app::StoreResult;
use xiansuo_core::choice::{ChoiceKind, Choices};
use xiansuo_core::dedup::{Certainty, Policy, ANY_SOURCE};

const PATH: &str = "/settings/dedup";

/// A policy form: a row's (its source hidden) or the new one's.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PolicyPost {
    csrf_token: String,
    source: String,
    policy: String,
    /// `probable` for the policy of probable matches; certain matches otherwise.
    kind: String,
    /// `new` from the form that adds a source.
    form: String,
}

impl PolicyPost {
    fn kind(&self) -> Certainty {
        if self.kind == "probable" {
            Certainty::Probable
        } else {
            Certainty::Certain
        }
    }
}

/// One kind's policy in a source's row.
struct KindPolicy {
    kind: &'static str,
    label: &'static str,
    policies: Vec<Choice>,
    default: &'static str,
    set: bool,
    error: Option<String>,
}

/// One source's row: its policy for certain matches, then for probable ones.
struct PolicyRow {
    source: String,
    label: String,
    kinds: Vec<KindPolicy>,
}

#[derive(Template)]
#[template(path = "settings_dedup.html")]
struct DedupPage {
    chrome: Chrome,
    menu: Menu,
    notice: Option<&'static str>,
    rows: Vec<PolicyRow>,
    source: String,
    policies: Vec<Choice>,
    errors: Errors,
    alert: Option<String>,
}

fn policy_choices(s: &super::texts::SettingsTexts, current: &str) -> Vec<Choice> {
    Policy::ALL
        .iter()
        .map(|p| Choice::new(p.code(), s.ops.code(p.code()), current))
        .collect()
}

/// A source's name in the viewer's language, with its code.
fn source_label(choices: &Choices, source: &str, locale: &str, any: &str) -> String {
    if source == ANY_SOURCE {
        return any.to_owned();
    }
    choices.get(ChoiceKind::Source, source).map_or_else(
        || source.to_owned(),
        |c| format!("{} ({source})", c.label(locale)),
    )
}

async fn dedup_page(
    state: &AppState,
    user: &Viewer,
    sent: PolicyPost,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, PATH);
    let s = frame.menu.s;
    let sources: Vec<SourcePolicy> = match dedup::source_policies(&state.db).await {
        Ok(sources) => sources,
        Err(e) => return store_error_page(frame.chrome, e.into()),
    };
    let new = sent.form == "new";
    let (mut errors, mut row_error) = (Errors::default(), None);
    if new {
        errors = refused.errors;
    } else {
        row_error = refused
            .errors
            .starting("")
            .map(|e| (sent.source.clone(), sent.kind(), e.to_owned()));
    }
    let rows = sources
        .iter()
        .map(|p| {
            let kind = |kind: Certainty, policy: Policy, default: Policy, set: bool| {
                let failed = row_error
                    .as_ref()
                    .filter(|(source, k, _)| *source == p.source && *k == kind);
                let current = match failed {
                    Some(_) => sent.policy.as_str(),
                    None => policy.code(),
                };
                KindPolicy {
                    kind: kind.code(),
                    label: match kind {
                        Certainty::Certain => s.ops.certain_policy,
                        Certainty::Probable => s.ops.probable_policy,
                    },
                    policies: policy_choices(s, current),
                    default: s.ops.code(default.code()),
                    set,
                    error: failed.map(|(_, _, e)| e.clone()),
                }
            };
            PolicyRow {
                label: source_label(
                    &user.choices,
                    &p.source,
                    &user.actor.locale,
                    s.ops.any_source,
                ),
                kinds: vec![
                    kind(Certainty::Certain, p.policy, p.default, p.set),
                    kind(
                        Certainty::Probable,
                        p.probable,
                        p.probable_default,
                        p.probable_set,
                    ),
                ],
                source: p.source.clone(),
            }
        })
        .collect();
    let page = DedupPage {
        notice,
        rows,
        source: if new { sent.source } else { String::new() },
        policies: policy_choices(s, if new { &sent.policy } else { "block" }),
        errors,
        alert: refused.alert,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(refused.status, &page)
}

/// `GET /settings/dedup`
pub(crate) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let notice = saved_notice(settings_texts(&user.actor.locale), &query.saved);
    dedup_page(&state, &user, PolicyPost::default(), no_refusal(), notice).await
}

/// `POST /settings/dedup`: one source's policy for one kind of match, as
/// `PUT /api/v1/dedup/policies` (or `probable-policies`) with `{"source": "policy"}`.
pub(crate) async fn save(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<PolicyPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let result: StoreResult<()> = async {
        let policy = Policy::parse("policy", form.policy.trim())?;
        dedup::set_policy(ctx(&state, &user), form.kind(), &form.source, Some(policy)).await
    }
    .await;
    answer(&user, PATH, PATH, result, |refused| {
        dedup_page(&state, &user, form, refused, None)
    })
    .await
}

/// `POST /settings/dedup/default`: the source follows its default again, as
/// `PUT /api/v1/dedup/policies` with `{"source": null}`.
pub(crate) async fn use_default(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<PolicyPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let result = dedup::set_policy(ctx(&state, &user), form.kind(), &form.source, None).await;
    answer(&user, PATH, PATH, result, |refused| {
        dedup_page(&state, &user, form, refused, None)
    })
    .await
}
