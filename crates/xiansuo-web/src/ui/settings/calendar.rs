//! 工作时间与节假日 (admins only): the working calendar SLA clocks and recycle timers count in —
//! time zone, the weekdays worked, the daily window, public holidays and 调休 make-up working
//! days — read and saved through `xiansuo_app::leads::followups`, as
//! `/api/v1/sla/working-hours` does.

use super::frame::{
    admin_only, no_refusal, saved_notice, whole_number, Errors, Frame, Menu, Refusal,
};
use super::outcome::{answer, SavedQuery};
use super::texts::settings_texts;
use crate::ui::page::{csrf_refusal, render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;
use xiansuo_app::leads::followups::{self, Calendar, CalendarChange};
use xiansuo_core::Invalid;

const PATH: &str = "/settings/working-hours";

/// The calendar as the form holds it: dates one a line.
#[derive(Default)]
struct CalendarForm {
    csrf_token: String,
    time_zone: String,
    weekdays: Vec<String>,
    start: String,
    end: String,
    holidays: String,
    workdays: String,
}

/// The dates of a text area: one a line (commas and spaces also separate them).
fn dates(text: &str) -> Vec<&str> {
    text.split(|c: char| c == ',' || c == '，' || c.is_whitespace())
        .filter(|d| !d.is_empty())
        .collect()
}

impl CalendarForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> CalendarForm {
        let mut form = CalendarForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf_token" => form.csrf_token = value,
                "time_zone" => form.time_zone = value,
                "weekdays" => form.weekdays.push(value),
                "start" => form.start = value,
                "end" => form.end = value,
                "holidays" => form.holidays = value,
                "workdays" => form.workdays = value,
                _ => {}
            }
        }
        form
    }

    /// The stored calendar.
    fn of(hours: Calendar) -> CalendarForm {
        CalendarForm {
            time_zone: hours.time_zone,
            weekdays: hours.weekdays.iter().map(ToString::to_string).collect(),
            start: hours.start,
            end: hours.end,
            holidays: hours.holidays.join("\n"),
            workdays: hours.workdays.join("\n"),
            ..CalendarForm::default()
        }
    }

    /// The change of `PUT /api/v1/sla/working-hours`: every field, as typed.
    fn change(&self) -> Result<CalendarChange, Invalid> {
        let weekdays = self
            .weekdays
            .iter()
            .filter_map(|d| whole_number("weekdays", d, 1..=7).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        let list = |text: &str| Some(Some(dates(text).into_iter().map(str::to_owned).collect()));
        Ok(CalendarChange {
            time_zone: Some(self.time_zone.clone()),
            weekdays: Some(weekdays),
            start: Some(self.start.clone()),
            end: Some(self.end.clone()),
            holidays: list(&self.holidays),
            workdays: list(&self.workdays),
        })
    }
}

#[derive(Template)]
#[template(path = "settings_working_hours.html")]
struct CalendarPage {
    chrome: Chrome,
    menu: Menu,
    notice: Option<&'static str>,
    time_zone: String,
    weekdays: Vec<Choice>,
    start: String,
    end: String,
    holidays: String,
    workdays: String,
    errors: Errors,
    alert: Option<String>,
}

fn calendar_page(
    user: &Viewer,
    form: CalendarForm,
    refused: Refusal,
    notice: Option<&'static str>,
) -> Response {
    let frame = Frame::new(user, PATH);
    let o = frame.menu.s.ops;
    let weekdays = o
        .weekday_names
        .iter()
        .zip(1..=7)
        .map(|(name, day)| {
            let day = day.to_string();
            let on = if form.weekdays.contains(&day) {
                day.as_str()
            } else {
                ""
            };
            Choice::new(day.as_str(), *name, on)
        })
        .collect();
    let page = CalendarPage {
        notice,
        time_zone: form.time_zone,
        weekdays,
        start: form.start,
        end: form.end,
        holidays: form.holidays,
        workdays: form.workdays,
        errors: refused.errors,
        alert: refused.alert,
        chrome: frame.chrome,
        menu: frame.menu,
    };
    render(refused.status, &page)
}

/// `GET /settings/working-hours`
pub(crate) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<SavedQuery>,
) -> Response {
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let notice = saved_notice(settings_texts(&user.actor.locale), &query.saved);
    match followups::get_working_hours(&state.db).await {
        Ok(hours) => calendar_page(&user, CalendarForm::of(hours), no_refusal(), notice),
        Err(e) => store_error_page(Chrome::for_user(&user, PATH), e),
    }
}

/// `POST /settings/working-hours`, as `PUT /api/v1/sla/working-hours`.
pub(crate) async fn save(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = CalendarForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let result = match form.change() {
        Ok(change) => {
            followups::set_working_hours(&state.db, &user.actor, change.into(), state.clock.now())
                .await
        }
        Err(invalid) => Err(invalid.into()),
    };
    answer(&user, PATH, PATH, result, |refused| {
        std::future::ready(calendar_page(&user, form, refused, None))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_one_a_line_or_separated_by_commas() {
        assert_eq!(
            dates("2026-10-01\r\n2026-10-02, 2026-10-03，2026-10-04\n\n"),
            ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"]
        );
        let form = CalendarForm {
            weekdays: vec!["1".into(), "x".into()],
            ..CalendarForm::default()
        };
        assert_eq!(form.change().unwrap_err().field, "weekdays");
        let form = CalendarForm {
            weekdays: vec!["1".into(), "5".into()],
            holidays: "2026-10-01\n2026-10-02".into(),
            ..CalendarForm::default()
        };
        let change = form.change().unwrap();
        assert_eq!(change.weekdays, Some(vec![1, 5]));
        assert_eq!(
            change.holidays,
            Some(Some(vec!["2026-10-01".into(), "2026-10-02".into()]))
        );
    }
}
