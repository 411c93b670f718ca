//! Bar charts as the dashboard and the reports page draw them: one row per bar with its label,
//! an inline SVG bar that scales with the page (a `viewBox` of 100 × 10, so no script and no
//! inline style, which the pages' content security policy forbids) and its figures. The markup
//! is the `bars` macro of `templates/charts.html`; this module makes the rows and the figures
//! they show. Both pages also read their address the same way: leniently, with a date range
//! of the last 30 days by default.

use super::i18n::Texts;
use super::page::thousands;
use chrono::{Duration, NaiveDate};

/// The days a report page covers by default, today included, as in the reports.
const DEFAULT_DAYS: i64 = 30;

/// A report page's query, read leniently: other parameters are ignored and the last of a name
/// counts, so that an odd address still shows the page.
pub(super) struct PageQuery(Vec<(String, String)>);

impl PageQuery {
    pub(super) fn parse(query: Option<&str>) -> Self {
        PageQuery(serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default())
    }

    /// The value given for `name`, trimmed; empty when none.
    pub(super) fn given(&self, name: &str) -> &str {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// `from` and `to` as given, by default the 30 days up to `today`.
    pub(super) fn range(&self, today: NaiveDate) -> (String, String) {
        let or = |given: &str, default: NaiveDate| match given {
            "" => default.to_string(),
            given => given.to_owned(),
        };
        (
            or(self.given("from"), today - Duration::days(DEFAULT_DAYS - 1)),
            or(self.given("to"), today),
        )
    }
}

/// One bar of a chart.
pub(super) struct Bar {
    /// The row's element id (`source-web_form`, `step-new`, …).
    pub(super) id: String,
    pub(super) label: String,
    /// 0–100, the bar's length in percent of the chart.
    pub(super) width: String,
    /// The main figure, in bold.
    pub(super) value: String,
    /// The class of the main figure (`bar-count`, `attainment`).
    pub(super) value_class: &'static str,
    /// What the figure is and how it compares, in grey; may be empty.
    pub(super) note: String,
    /// A rate after the note; may be empty.
    pub(super) rate: String,
}

impl Bar {
    /// A bar of `part` out of `whole` (the largest bar or the total) showing `value`.
    pub(super) fn new(id: String, label: String, part: f64, whole: f64, value: String) -> Self {
        Bar {
            id,
            label,
            width: width(part, whole),
            value,
            value_class: "bar-count",
            note: String::new(),
            rate: String::new(),
        }
    }

    pub(super) fn note(mut self, note: String) -> Self {
        self.note = note;
        self
    }

    pub(super) fn rate(mut self, rate: String) -> Self {
        self.rate = rate;
        self
    }

    pub(super) fn value_class(mut self, class: &'static str) -> Self {
        self.value_class = class;
        self
    }
}

/// `12.5%`, or a dash without a base.
pub(super) fn percent(t: &Texts, value: Option<f64>) -> String {
    value.map_or_else(|| t.none.to_owned(), |v| format!("{v:.1}%"))
}

/// An SVG width (0–100) for `part` of `whole`.
pub(super) fn width(part: f64, whole: f64) -> String {
    if whole <= 0.0 || !part.is_finite() {
        return "0".into();
    }
    format!("{:.1}", (part * 100.0 / whole).clamp(0.0, 100.0))
}

/// A count with thousands separators.
pub(super) fn count(value: i64) -> String {
    thousands(value)
}

/// `part / whole` in percent with one decimal, none when `whole` is 0.
pub(super) fn share(part: i64, whole: i64) -> Option<f64> {
    (whole != 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// The largest of some figures, the whole that bars of them are drawn against.
pub(super) fn largest(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_shares_of_their_whole_and_never_overflow() {
        assert_eq!(width(1.0, 4.0), "25.0");
        assert_eq!(width(150.0, 100.0), "100.0");
        assert_eq!(width(3.0, 0.0), "0");
        assert_eq!(share(1, 3), Some(33.3));
        assert_eq!(share(1, 0), None);
        assert_eq!(largest([1.0, 7.5, 3.0]), 7.5);
        assert_eq!(largest([]), 0.0);
    }
}
