//! "Which rule would take this lead?" (admins only): the assignment rules tried on a stored lead
//! or on a few fields, through `xiansuo_app::leads::assignment::test` as
//! `POST /api/v1/assignment/test` does — nothing is assigned and no count moves, so the page is a
//! plain `GET` form.

use super::frame::{admin_only, no_refusal, refusal, Errors, Frame, Menu};
use crate::ui::page::{render, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value};
use xiansuo_app::leads::assignment::{self, SampleLead, Verdict};
use xiansuo_app::StoreError;
use xiansuo_core::Invalid;

const PATH: &str = "/settings/assignment";

/// The trial form: a lead id, or a few fields.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TrialQuery {
    lead_id: String,
    source: String,
    province: String,
    city: String,
    industry: String,
}

impl TrialQuery {
    /// The lead to try: the stored one when an id is given, else the fields filled in.
    fn sample(&self) -> Result<SampleLead, Invalid> {
        let id = self.lead_id.trim();
        if !id.is_empty() {
            let id = id
                .parse()
                .map_err(|_| Invalid::new("lead_id", format!("'{id}' is not an id")))?;
            return Ok(SampleLead {
                lead_id: Some(id),
                lead: None,
            });
        }
        let fields: Map<String, Value> = [
            ("source", &self.source),
            ("province", &self.province),
            ("city", &self.city),
            ("industry", &self.industry),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.to_owned(), Value::from(v.trim())))
        .collect();
        Ok(SampleLead {
            lead_id: None,
            lead: Some(fields),
        })
    }
}

#[derive(Template)]
#[template(path = "settings_rule_test.html")]
struct TrialPage {
    chrome: Chrome,
    menu: Menu,
    query: TrialQuery,
    verdict: Option<Verdict>,
    errors: Errors,
}

/// `GET /settings/assignment/test?lead_id=…` or `?source=…&province=…`: the verdict.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<TrialQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let frame = Frame::new(&user, PATH);
    let result = match query.sample() {
        Ok(sample) => {
            assignment::test(&state.db, &user.actor, sample.into(), state.clock.now()).await
        }
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    let (verdict, refused) = match result {
        Ok(verdict) => (Some(verdict), no_refusal()),
        Err(StoreError::NotFound(_)) => {
            let invalid = Invalid::new("lead_id", "no lead with this id");
            let mut refused = no_refusal();
            refused.status = StatusCode::NOT_FOUND;
            refused.errors = Errors::one("lead_id", frame.menu.s.invalid(frame.t(), &invalid));
            (None, refused)
        }
        Err(e) => match refusal(&user, PATH, e) {
            Ok(refused) => (None, refused),
            Err(page) => return *page,
        },
    };
    let page = TrialPage {
        query,
        verdict,
        errors: refused.errors,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(refused.status, &page)
}
