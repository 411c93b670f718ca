//! The fixed codes of a lead's life and of follow-ups: statuses, grades, tiers, urgency, demand
//! stages, regions, sources, behaviour events, activity types and outcomes. The codes are what
//! the API speaks; each has a Chinese and an English label for the UI.

use crate::Invalid;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($variant:ident => $code:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $(#[serde(rename = $code)] $variant,)+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The code used in the API and the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The label shown to people, in `zh` or `en`.
            pub fn label(self, lang: &str) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, "en") => $en,)+
                    $(($name::$variant, _) => $zh,)+
                }
            }

            /// Parses a code, or a label in either language (case, spaces around it and
            /// full-width forms ignored), with an error that lists the accepted codes.
            pub fn parse(value: &str) -> Result<Self, Invalid> {
                match value {
                    $($code => Ok($name::$variant),)+
                    _ if !value.trim().is_empty() => {
                        let folded = crate::validation::fold(value);
                        $(
                            if [$code, $zh, $en].iter().any(|v| crate::validation::fold(v) == folded) {
                                return Ok($name::$variant);
                            }
                        )+
                        Err(Self::unknown(value))
                    }
                    _ => Err(Self::unknown(value)),
                }
            }

            fn unknown(value: &str) -> Invalid {
                Invalid::new(
                        $field,
                        format!(
                            "'{}' is not one of: {}",
                            value,
                            [$($code),+].join(", ")
                        ),
                )
            }
        }

        /// Read as [`Self::parse`] reads it: a code, or a label in either language.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&value).map_err(|e| serde::de::Error::custom(e.message))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum!(
    /// Where a lead stands: new → working → qualified → converted, or disqualified, or nurturing.
    LeadStatus, "status" {
        New => "new", "新建", "New";
        Working => "working", "跟进中", "Working";
        Qualified => "qualified", "已鉴定", "Qualified";
        Converted => "converted", "已转化", "Converted";
        Disqualified => "disqualified", "无效", "Disqualified";
        Nurturing => "nurturing", "培育", "Nurturing";
    }
);

code_enum!(
    /// A: clear need, close within a month … E: no need.
    Grade, "grade" {
        A => "A", "A 明确需求，一个月内成交", "A: clear need, closes within 1 month";
        B => "B", "B 三个月内成交", "B: closes within 3 months";
        C => "C", "C 六个月内成交", "C: closes within 6 months";
        D => "D", "D 潜在或六个月以上", "D: potential, or later than 6 months";
        E => "E", "E 无需求", "E: no need";
    }
);

code_enum!(
    /// High, medium or low potential: the score against the thresholds in the scoring settings.
    Tier, "tier" {
        High => "high", "高潜力", "High potential";
        Medium => "medium", "中潜力", "Medium potential";
        Low => "low", "低潜力", "Low potential";
    }
);

code_enum!(
    /// How soon the lead needs attention.
    Urgency, "urgency" {
        Urgent => "urgent", "紧急（一周内）", "Urgent: within a week";
        Soon => "soon", "较急（一周至一个月）", "Soon: 1 week to 1 month";
        Later => "later", "一般（一至三个月）", "Later: 1 to 3 months";
        Slow => "slow", "不急（三个月以后）", "Slow: after 3 months";
    }
);

code_enum!(
    /// Where the buyer is in their decision.
    DemandStage, "demand_stage" {
        Awareness => "awareness", "认知", "Awareness";
        Consideration => "consideration", "考虑", "Consideration";
        Decision => "decision", "决策", "Decision";
    }
);

code_enum!(
    /// The regions of China a province belongs to, for territories and assignment rules.
    Region, "region" {
        North => "north", "华北", "North China";
        Northeast => "northeast", "东北", "Northeast China";
        East => "east", "华东", "East China";
        Central => "central", "华中", "Central China";
        South => "south", "华南", "South China";
        Southwest => "southwest", "西南", "Southwest China";
        Northwest => "northwest", "西北", "Northwest China";
        HkMoTw => "hk_mo_tw", "港澳台", "Hong Kong, Macao, Taiwan";
    }
);

code_enum!(
    /// A behaviour event posted for a lead, which engagement scoring rules count.
    EventType, "type" {
        PageView => "page_view", "访问页面", "Page view";
        Download => "download", "下载资料", "Download";
        EventAttended => "event_attended", "参加活动", "Event attended";
        EmailOpened => "email_opened", "打开邮件", "Email opened";
        FormSubmitted => "form_submitted", "提交表单", "Form submitted";
        Custom => "custom", "自定义", "Custom";
    }
);

code_enum!(
    /// The kind of a follow-up.
    ActivityType, "type" {
        Call => "call", "电话", "Call";
        Email => "email", "邮件", "Email";
        Meeting => "meeting", "会议", "Meeting";
        Visit => "visit", "拜访", "Visit";
        Wechat => "wechat", "微信", "WeChat";
        Note => "note", "备注", "Note";
    }
);

code_enum!(
    /// What a follow-up achieved.
    Outcome, "outcome" {
        NoNeed => "no_need", "不需要", "No need";
        AlreadyBought => "already_bought", "已购买", "Already bought";
        FutureNeed => "future_need", "将来需要", "Future need";
        VisitRequested => "visit_requested", "要求上门", "Visit requested";
        CallBack => "call_back", "可再联系", "Call back";
        Unreachable => "unreachable", "联系不上", "Unreachable";
    }
);

/// The channels a lead can come from, with their labels. Sources are codes
/// (`[a-z0-9_]`, at most 40 characters) so that admins can add their own; these are the
/// built-in ones.
pub const BUILTIN_SOURCES: &[(&str, &str, &str)] = &[
    ("web_form", "网站表单", "Web form"),
    ("ad", "广告", "Advertising"),
    ("event", "展会活动", "Event"),
    ("referral", "客户推荐", "Referral"),
    ("social", "社交媒体", "Social"),
    ("email", "邮件", "Email"),
    ("import", "导入", "Import"),
    ("api", "API", "API"),
    ("manual", "手工录入", "Manual"),
    ("other", "其他", "Other"),
];

/// Parses a source code.
pub fn parse_source(value: &str) -> Result<String, Invalid> {
    let v = value.trim();
    if v.is_empty()
        || v.len() > 40
        || !v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Invalid::new(
            "source",
            format!(
                "'{v}' is not a source code: use lower-case letters, digits and _ (built-in: {})",
                BUILTIN_SOURCES
                    .iter()
                    .map(|s| s.0)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(v.to_owned())
}

/// Parses a tag: trimmed, 1–40 characters, no commas (they separate tags in filters).
pub fn parse_tag(value: &str) -> Result<String, Invalid> {
    let tag = crate::Text::parse("tags", value, 40)?.into_string();
    if tag.contains(',') {
        return Err(Invalid::new("tags", "a tag must not contain a comma"));
    }
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_list_the_valid_ones() {
        for s in LeadStatus::ALL {
            assert_eq!(LeadStatus::parse(s.code()).unwrap(), *s);
        }
        let err = LeadStatus::parse("won").unwrap_err();
        assert!(err.message.contains("new, working, qualified"), "{err}");
        assert_eq!(Outcome::parse("call_back").unwrap().label("zh"), "可再联系");
        assert_eq!(ActivityType::Wechat.label("en"), "WeChat");
    }

    #[test]
    fn a_typed_body_takes_a_label_as_the_parser_does() {
        let read = |v| serde_json::from_value::<EventType>(v);
        assert_eq!(
            read(serde_json::json!("访问页面")).unwrap(),
            EventType::PageView
        );
        assert_eq!(
            read(serde_json::json!("page view")).unwrap(),
            EventType::PageView
        );
        let err = read(serde_json::json!("visit")).unwrap_err().to_string();
        assert!(err.contains("page_view, download"), "{err}");
    }

    #[test]
    fn sources_are_codes() {
        assert_eq!(parse_source("trade_show_2026").unwrap(), "trade_show_2026");
        assert!(parse_source("Web Form").is_err());
        assert!(parse_source("").is_err());
    }
}
