//! 赢单预测 (admins only): the win-prediction model in use — its cross-validated AUC, the lift
//! of its best-scored tenth, a lift chart drawn on the server as SVG, the models compared and
//! the most important features — the button that trains it again, and how often it is trained
//! again on its own, as `GET /api/v1/prediction`, `POST /api/v1/prediction/train` and
//! `PUT /api/v1/prediction/schedule` do.

use super::frame::{admin_only, ctx, Frame, Menu};
use super::outcome::{answer, CsrfPost};
use crate::ui::page::{csrf_refusal, render, store_error_page, Chrome, Viewer, Zone};
use crate::ui::prediction_texts::{prediction_texts, PredictionTexts};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use xiansuo_app::leads::prediction::schedule::{self, Schedule, ScheduleInput};
use xiansuo_app::leads::prediction::{self, ModelReport};
use xiansuo_core::prediction::Decile;

const PATH: &str = "/settings/prediction";

/// One column of the lift chart, in the chart's units (100 × 50).
struct LiftBar {
    decile: i64,
    lift: String,
    x: String,
    y: String,
    height: String,
}

/// The model's figures as the page shows them.
struct Shown {
    model: &'static str,
    trained_at: String,
    leads: i64,
    positives: i64,
    negatives: i64,
    auc: String,
    top_decile_lift: String,
    bars: Vec<LiftBar>,
    /// The y of lift 1 (the overall rate) in the chart.
    baseline: String,
    /// (model, AUC, lift).
    comparison: Vec<(&'static str, String, String)>,
    /// (field = value, share in percent).
    important: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "settings_prediction.html")]
struct PredictionPage {
    chrome: Chrome,
    menu: Menu,
    p: &'static PredictionTexts,
    notice: Option<&'static str>,
    alert: Option<String>,
    model: Option<Shown>,
    schedule: Schedule,
    /// When the next training is, in the viewer's zone.
    schedule_next: Option<String>,
}

/// The lift chart's columns: each decile's lift scaled to the largest (or 2, whichever is
/// more), with the line of lift 1.
fn lift_bars(deciles: &[Decile]) -> (Vec<LiftBar>, String) {
    let top = deciles.iter().map(|d| d.lift).fold(2.0_f64, f64::max);
    let bars = deciles
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let height = 50.0 * d.lift / top;
            LiftBar {
                decile: d.decile as i64,
                lift: format!("{:.2}", d.lift),
                x: format!("{:.1}", i as f64 * 10.0 + 1.0),
                y: format!("{:.2}", 50.0 - height),
                height: format!("{height:.2}"),
            }
        })
        .collect();
    (bars, format!("{:.2}", 50.0 - 50.0 / top))
}

fn shown(p: &'static PredictionTexts, zone: Zone, model: ModelReport) -> Option<Shown> {
    let kind = model.model?;
    let (bars, baseline) = lift_bars(model.deciles.as_deref().unwrap_or_default());
    Some(Shown {
        model: p.learner(kind.code()),
        trained_at: zone.time(model.trained_at.as_deref().unwrap_or_default()),
        leads: model.leads.unwrap_or_default(),
        positives: model.positives.unwrap_or_default(),
        negatives: model.negatives.unwrap_or_default(),
        auc: format!("{:.3}", model.auc.unwrap_or_default()),
        top_decile_lift: format!("{:.2}", model.top_decile_lift.unwrap_or_default()),
        bars,
        baseline,
        comparison: model
            .comparison
            .unwrap_or_default()
            .iter()
            .map(|c| {
                (
                    p.learner(c.model.code()),
                    format!("{:.3}", c.auc),
                    format!("{:.2}", c.top_decile_lift),
                )
            })
            .collect(),
        important: model
            .important_features
            .unwrap_or_default()
            .into_iter()
            .map(|f| {
                let name = match f.value {
                    Some(value) => format!("{} = {value}", f.field),
                    None => f.field,
                };
                (name, format!("{:.1}%", f.importance * 100.0))
            })
            .collect(),
    })
}

async fn prediction_page(
    state: &AppState,
    user: &Viewer,
    code: StatusCode,
    notice: Option<&'static str>,
    alert: Option<String>,
) -> Response {
    let frame = Frame::new(user, PATH);
    let p = prediction_texts(&user.actor.locale);
    let read = async {
        Ok::<_, xiansuo_app::StoreError>((
            prediction::current(&state.db, &user.actor).await?,
            schedule::get(&state.db, &user.actor).await?,
        ))
    };
    let (model, schedule) = match read.await {
        Ok(read) => read,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let page = PredictionPage {
        model: shown(p, user.zone, model),
        schedule_next: schedule.next_at.as_deref().map(|at| user.zone.time(at)),
        schedule,
        chrome: frame.chrome,
        menu: frame.menu,
        p,
        notice,
        alert,
    };
    render(code, &page)
}

/// `?saved=1` after a training was queued, with `what=schedule` after the schedule was saved.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PageQuery {
    saved: String,
    what: String,
}

/// `GET /settings/prediction`.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<PageQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let p = prediction_texts(&user.actor.locale);
    let notice = (!query.saved.is_empty()).then_some(if query.what == "schedule" {
        p.schedule_saved
    } else {
        p.queued
    });
    prediction_page(&state, &user, StatusCode::OK, notice, None).await
}

/// `POST /settings/prediction`: trains again, as `POST /api/v1/prediction/train`.
pub(crate) async fn train(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<CsrfPost>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let result = prediction::start_training(ctx(&state, &user)).await;
    answer(&user, PATH, PATH, result, |refused| {
        prediction_page(&state, &user, refused.status, None, refused.alert)
    })
    .await
}

/// The schedule form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ScheduleForm {
    csrf_token: String,
    every_days: String,
}

/// `POST /settings/prediction/schedule`: sets how often the model is trained again, as
/// `PUT /api/v1/prediction/schedule`.
pub(crate) async fn save_schedule(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<ScheduleForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let result = match form.every_days.trim().parse::<i64>() {
        Ok(every_days) => {
            schedule::set(ctx(&state, &user), ScheduleInput { every_days }.into()).await
        }
        Err(_) => Err(xiansuo_core::Invalid::new(
            "every_days",
            format!(
                "must be a whole number of days from 1 to {}, or 0 to train only on request",
                schedule::MAX_EVERY_DAYS
            ),
        )
        .into()),
    };
    answer(
        &user,
        PATH,
        "/settings/prediction?what=schedule",
        result,
        |refused| prediction_page(&state, &user, refused.status, None, refused.alert),
    )
    .await
}
