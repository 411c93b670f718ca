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
use serde_json::Value;
use xiansuo_app::leads::prediction;
use xiansuo_app::leads::prediction::schedule::{self, Schedule, ScheduleInput};

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
fn lift_bars(deciles: &[Value]) -> (Vec<LiftBar>, String) {
    let top = deciles
        .iter()
        .filter_map(|d| d["lift"].as_f64())
        .fold(2.0_f64, f64::max);
    let bars = deciles
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let lift = d["lift"].as_f64().unwrap_or_default();
            let height = 50.0 * lift / top;
            LiftBar {
                decile: d["decile"].as_i64().unwrap_or_default(),
                lift: format!("{lift:.2}"),
                x: format!("{:.1}", i as f64 * 10.0 + 1.0),
                y: format!("{:.2}", 50.0 - height),
                height: format!("{height:.2}"),
            }
        })
        .collect();
    (bars, format!("{:.2}", 50.0 - 50.0 / top))
}

fn shown(p: &'static PredictionTexts, zone: Zone, model: &Value) -> Option<Shown> {
    let kind = model["model"].as_str()?;
    let figure = |v: &Value| format!("{:.3}", v.as_f64().unwrap_or_default());
    let (bars, baseline) = lift_bars(model["deciles"].as_array().map_or(&[][..], Vec::as_slice));
    let list = |name: &str| model[name].as_array().cloned().unwrap_or_default();
    Some(Shown {
        model: p.learner(kind),
        trained_at: zone.time(model["trained_at"].as_str().unwrap_or_default()),
        leads: model["leads"].as_i64().unwrap_or_default(),
        positives: model["positives"].as_i64().unwrap_or_default(),
        negatives: model["negatives"].as_i64().unwrap_or_default(),
        auc: figure(&model["auc"]),
        top_decile_lift: format!(
            "{:.2}",
            model["top_decile_lift"].as_f64().unwrap_or_default()
        ),
        bars,
        baseline,
        comparison: list("comparison")
            .iter()
            .map(|c| {
                (
                    p.learner(c["model"].as_str().unwrap_or_default()),
                    figure(&c["auc"]),
                    format!("{:.2}", c["top_decile_lift"].as_f64().unwrap_or_default()),
                )
            })
            .collect(),
        important: list("important_features")
            .iter()
            .map(|f| {
                let field = f["field"].as_str().unwrap_or_default();
                let name = match f["value"].as_str() {
                    Some(value) => format!("{field} = {value}"),
                    None => field.to_owned(),
                };
                let share = f["importance"].as_f64().unwrap_or_default() * 100.0;
                (name, format!("{share:.1}%"))
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
        model: shown(p, user.zone, &model),
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
        Ok(every_days) => schedule::set(ctx(&state, &user), &ScheduleInput { every_days }).await,
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
