//! Choice lists (选项): the statuses, sources, follow-up outcomes, lost reasons and disqualify
//! reasons an admin edits, each a stable code with a Chinese and an English label. A status
//! the admin adds (such as 未接通 under 跟进中) maps to one of the six fixed [`LeadStatus`]
//! types, which is what every rule of the product reads; the added status is what people see.
//!
//! Wherever a request takes one of these codes, the label a person would write is taken too,
//! in either language, ignoring case and full-width forms: `展会`, `ＷＥＢ＿ＦＯＲＭ` and
//! `Web form` all resolve ([`Choices::resolve`]).

use crate::lead::{LeadStatus, Outcome, BUILTIN_SOURCES};
pub use crate::validation::fold;
use crate::Invalid;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Which list a choice belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceKind {
    /// Lead statuses (状态), each mapped to a fixed [`LeadStatus`] type.
    Status,
    /// Lead sources (来源).
    Source,
    /// Follow-up outcomes (跟进结果).
    Outcome,
    /// Why a deal was lost (输单原因).
    LostReason,
    /// Why a lead was disqualified (无效原因).
    DisqualifyReason,
}

impl ChoiceKind {
    /// Every list, in the order the settings page shows them.
    pub const ALL: [ChoiceKind; 5] = [
        ChoiceKind::Status,
        ChoiceKind::Source,
        ChoiceKind::Outcome,
        ChoiceKind::LostReason,
        ChoiceKind::DisqualifyReason,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ChoiceKind::Status => "status",
            ChoiceKind::Source => "source",
            ChoiceKind::Outcome => "outcome",
            ChoiceKind::LostReason => "lost_reason",
            ChoiceKind::DisqualifyReason => "disqualify_reason",
        }
    }

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        ChoiceKind::ALL
            .into_iter()
            .find(|k| k.code() == value)
            .ok_or_else(|| {
                let all: Vec<&str> = ChoiceKind::ALL.iter().map(|k| k.code()).collect();
                Invalid::new(
                    "kind",
                    format!("'{value}' is not one of: {}", all.join(", ")),
                )
            })
    }
}

/// One entry of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(description = "An entry of a choice list")]
pub struct Choice {
    /// Unique id
    pub id: i64,
    pub kind: ChoiceKind,
    /// What the API and the database hold: `[a-z0-9_]`, at most 40 characters.
    pub code: String,
    /// The Chinese label
    pub label_zh: String,
    /// The English label
    pub label_en: String,
    /// For statuses: the fixed type whose rules apply (`new`, `working`, `qualified`,
    /// `converted`, `disqualified`, `nurturing`).
    #[schema(required = true)]
    pub status_type: Option<LeadStatus>,
    /// Display order within the list.
    pub position: i64,
    /// Hidden from pickers; records that hold it still show its label.
    pub archived: bool,
    /// Shipped with Xiansuo: it can be relabelled and (except the six status types) archived,
    /// not deleted.
    pub builtin: bool,
}

impl Choice {
    /// The label in `lang` (`en`, otherwise Chinese).
    pub fn label(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.label_en
        } else {
            &self.label_zh
        }
    }
}

/// The built-in entries, as the migration seeds them: `(kind, code, zh, en)`; statuses map
/// to themselves.
pub fn builtins() -> Vec<(ChoiceKind, &'static str, &'static str, &'static str)> {
    let mut all = Vec::new();
    for s in LeadStatus::ALL {
        all.push((ChoiceKind::Status, s.code(), s.label("zh"), s.label("en")));
    }
    for (code, zh, en) in BUILTIN_SOURCES {
        all.push((ChoiceKind::Source, *code, *zh, *en));
    }
    for o in Outcome::ALL {
        all.push((ChoiceKind::Outcome, o.code(), o.label("zh"), o.label("en")));
    }
    all
}

/// Every list, read together (they are small), as the record engine and the pages use them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choices {
    items: Vec<Choice>,
}

impl Choices {
    /// `items` in list order (by position, then id).
    pub fn new(mut items: Vec<Choice>) -> Self {
        items.sort_by_key(|c| (c.position, c.id));
        Choices { items }
    }

    /// The entries of one list, archived ones included.
    pub fn of(&self, kind: ChoiceKind) -> impl Iterator<Item = &Choice> {
        self.items.iter().filter(move |c| c.kind == kind)
    }

    /// The entries a person may pick now.
    pub fn active(&self, kind: ChoiceKind) -> impl Iterator<Item = &Choice> {
        self.of(kind).filter(|c| !c.archived)
    }

    /// The entry with this code.
    pub fn get(&self, kind: ChoiceKind, code: &str) -> Option<&Choice> {
        self.of(kind).find(|c| c.code == code)
    }

    /// The entry `value` names, by its code or by either label, case and width ignored.
    pub fn resolve(&self, kind: ChoiceKind, value: &str) -> Option<&Choice> {
        if let Some(exact) = self.get(kind, value.trim()) {
            return Some(exact);
        }
        let folded = fold(value);
        self.of(kind).find(|c| {
            fold(&c.code) == folded || fold(&c.label_zh) == folded || fold(&c.label_en) == folded
        })
    }

    /// The label of a stored code in `lang`; a code no list has is shown as it is.
    pub fn label<'a>(&'a self, kind: ChoiceKind, code: &'a str, lang: &str) -> &'a str {
        self.get(kind, code).map_or(code, |c| c.label(lang))
    }

    /// How a lead's status reads: its added status when it has one, else its type's label.
    pub fn status_label<'a>(
        &'a self,
        status: &'a str,
        detail: Option<&'a str>,
        lang: &str,
    ) -> &'a str {
        match detail.filter(|d| !d.is_empty()) {
            Some(detail) => self.label(ChoiceKind::Status, detail, lang),
            None => self.label(ChoiceKind::Status, status, lang),
        }
    }

    /// The active codes of a list with their Chinese labels, for an error that lists them.
    pub fn listing(&self, kind: ChoiceKind) -> String {
        self.active(kind)
            .map(|c| format!("{} ({})", c.code, c.label_zh))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Parses a status: the fixed type to store and, for an added status, its code.
    pub fn parse_status(&self, value: &str) -> Result<(LeadStatus, Option<String>), Invalid> {
        let choice = self
            .resolve(ChoiceKind::Status, value)
            .ok_or_else(|| self.unknown(ChoiceKind::Status, "status", value))?;
        if choice.archived {
            return Err(archived("status", choice));
        }
        let kind = match choice.status_type {
            Some(kind) => kind,
            None => LeadStatus::parse(&choice.code)?,
        };
        let detail = (!choice.builtin).then(|| choice.code.clone());
        Ok((kind, detail))
    }

    /// Parses a listed code of `kind` (an outcome), refusing archived and unknown ones.
    pub fn parse_listed(
        &self,
        kind: ChoiceKind,
        field: &str,
        value: &str,
    ) -> Result<String, Invalid> {
        let choice = self
            .resolve(kind, value)
            .ok_or_else(|| self.unknown(kind, field, value))?;
        if choice.archived {
            return Err(archived(field, choice));
        }
        Ok(choice.code.clone())
    }

    /// Parses a source: a listed one by code or label, or a new source code of `[a-z0-9_]`
    /// (imports bring sources nobody listed; they show as their code).
    pub fn parse_source(&self, value: &str) -> Result<String, Invalid> {
        if let Some(choice) = self.resolve(ChoiceKind::Source, value) {
            return Ok(choice.code.clone());
        }
        crate::lead::parse_source(value).map_err(|_| {
            Invalid::new(
                "source",
                format!(
                    "'{}' is neither a source nor a source code of lower-case letters, digits and _ (sources: {})",
                    value.trim(),
                    self.listing(ChoiceKind::Source)
                ),
            )
        })
    }

    /// A reason as stored: a listed reason's code when `value` names one, otherwise the text
    /// as given (reasons stay free text).
    pub fn reason(&self, kind: ChoiceKind, value: &str) -> String {
        self.resolve(kind, value)
            .map_or_else(|| value.trim().to_owned(), |c| c.code.clone())
    }

    fn unknown(&self, kind: ChoiceKind, field: &str, value: &str) -> Invalid {
        Invalid::new(
            field,
            format!("'{}' is not one of: {}", value.trim(), self.listing(kind)),
        )
    }
}

fn archived(field: &str, choice: &Choice) -> Invalid {
    Invalid::new(
        field,
        format!(
            "'{}' ({}) is archived; an admin can restore it in the settings",
            choice.code, choice.label_zh
        ),
    )
}

/// Parses a new choice's code: `[a-z0-9_]`, 1–40 characters.
pub fn parse_code(value: &str) -> Result<String, Invalid> {
    let v = value.trim();
    if v.is_empty()
        || v.len() > 40
        || !v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Invalid::new(
            "code",
            format!("'{v}' is not a code: use 1–40 lower-case letters, digits and _"),
        ));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded() -> Choices {
        let mut items: Vec<Choice> = builtins()
            .into_iter()
            .enumerate()
            .map(|(i, (kind, code, zh, en))| Choice {
                id: i as i64 + 1,
                kind,
                code: code.to_owned(),
                label_zh: zh.to_owned(),
                label_en: en.to_owned(),
                status_type: (kind == ChoiceKind::Status).then(|| LeadStatus::parse(code).unwrap()),
                position: i as i64,
                archived: false,
                builtin: true,
            })
            .collect();
        items.push(Choice {
            id: 100,
            kind: ChoiceKind::Status,
            code: "no_answer".to_owned(),
            label_zh: "未接通".to_owned(),
            label_en: "No answer".to_owned(),
            status_type: Some(LeadStatus::Working),
            position: 100,
            archived: false,
            builtin: false,
        });
        items.push(Choice {
            id: 101,
            kind: ChoiceKind::Source,
            code: "trade_show".to_owned(),
            label_zh: "展会".to_owned(),
            label_en: "Trade show".to_owned(),
            status_type: None,
            position: 101,
            archived: true,
            builtin: false,
        });
        Choices::new(items)
    }

    #[test]
    fn labels_resolve_in_either_language_ignoring_case_and_width() {
        let c = seeded();
        assert_eq!(c.parse_source("展会").unwrap(), "trade_show");
        assert_eq!(c.parse_source(" trade SHOW ").unwrap(), "trade_show");
        assert_eq!(c.parse_source("ＷＥＢ＿ＦＯＲＭ").unwrap(), "web_form");
        assert_eq!(c.parse_source("网站表单").unwrap(), "web_form");
        assert_eq!(c.parse_source("partner_x").unwrap(), "partner_x");
        let err = c.parse_source("合作伙伴").unwrap_err();
        assert!(
            err.message.contains("web_form (网站表单)"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_added_status_stores_its_type_and_itself() {
        let c = seeded();
        assert_eq!(
            c.parse_status("未接通").unwrap(),
            (LeadStatus::Working, Some("no_answer".to_owned()))
        );
        assert_eq!(
            c.parse_status("Qualified").unwrap(),
            (LeadStatus::Qualified, None)
        );
        assert_eq!(
            c.parse_status("无效").unwrap(),
            (LeadStatus::Disqualified, None)
        );
        assert!(c.parse_status("maybe").is_err());
        assert_eq!(
            c.status_label("working", Some("no_answer"), "en"),
            "No answer"
        );
        assert_eq!(c.status_label("working", None, "zh"), "跟进中");
    }

    #[test]
    fn archived_entries_still_label_but_are_refused_where_listed() {
        let mut c = seeded();
        c.items
            .iter_mut()
            .find(|x| x.code == "no_answer")
            .unwrap()
            .archived = true;
        assert!(c
            .parse_status("no_answer")
            .unwrap_err()
            .message
            .contains("archived"));
        assert_eq!(c.label(ChoiceKind::Status, "no_answer", "zh"), "未接通");
        assert_eq!(
            c.parse_listed(ChoiceKind::Outcome, "outcome", "可再联系")
                .unwrap(),
            "call_back"
        );
        assert!(c
            .parse_listed(ChoiceKind::Outcome, "outcome", "later")
            .is_err());
    }

    #[test]
    fn reasons_stay_free_text_unless_listed() {
        let c = seeded();
        assert_eq!(c.reason(ChoiceKind::LostReason, " 太贵了 "), "太贵了");
        assert_eq!(fold("Ｐｒｉｃｅ\u{3000} TOO  high"), "price too high");
    }
}
