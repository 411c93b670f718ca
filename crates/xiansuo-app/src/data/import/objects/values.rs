//! The values of other systems' exports as ours: times and dates in the formats their exports
//! use, money with currency signs and 万, yes/no flags, activity types, and pipeline stages by
//! our code or label, by a stage name of Salesforce, HubSpot, Zoho, 纷享销客 or 销售易, or by a
//! mapping file's `stage:NAME` entry, with closed-won and closed-lost recognised.

use crate::data::import::mapping::normalise;
use crate::sales::pipeline::{Stage, StageKind};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::collections::BTreeMap;
use xiansuo_core::clock::CHINA_OFFSET_MS;
use xiansuo_core::lead::ActivityType;

/// An instant from a cell: RFC 3339 (Salesforce's `2024-03-10T08:30:00.000Z`), or a date and
/// time without an offset (in UTC when `utc`, in China Standard Time otherwise), or a date
/// alone (noon China time, so that the day is the same in every report). Dates are written
/// `2024-03-10`, `2024/3/10`, `2024.03.10`, `2024年3月10日` or, as US exports do, `3/10/2024`.
pub fn instant(value: &str, utc: bool) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Some(at.with_timezone(&Utc));
    }
    let offset = if utc { 0 } else { CHINA_OFFSET_MS };
    let cleaned = value
        .replace(['年', '月', '/', '.'], "-")
        .replace('日', "")
        .replace('T', " ");
    let cleaned = cleaned.trim_end_matches('Z').trim();
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%m-%d-%Y %H:%M:%S",
        "%m-%d-%Y %H:%M",
        "%m-%d-%Y %I:%M %p",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(cleaned, format) {
            return Some(t.and_utc() - chrono::Duration::milliseconds(offset));
        }
    }
    date(value).and_then(|d| {
        d.and_hms_opt(12, 0, 0)
            .map(|t| t.and_utc() - chrono::Duration::milliseconds(CHINA_OFFSET_MS))
    })
}

/// A calendar date from a cell, in the formats of [`instant`]; a date and time gives its date.
pub fn date(value: &str) -> Option<NaiveDate> {
    let cleaned = value
        .trim()
        .replace(['年', '月', '/', '.'], "-")
        .replace('日', "");
    let day = cleaned.split([' ', 'T']).next().unwrap_or_default().trim();
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(day, "%m-%d-%Y"))
        .ok()
}

/// An amount: `1,234.50`, `¥1234.5`, `$ 800`, `CNY 900`, `12万` (120,000), `3.5 元`.
pub fn money(value: &str) -> Option<f64> {
    let mut text: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '，' | '¥' | '￥' | '$' | '元'))
        .collect();
    for code in ["CNY", "RMB", "USD", "cny", "rmb", "usd"] {
        text = text.replace(code, "");
    }
    let (digits, factor) = match text.strip_suffix('万') {
        Some(d) => (d.to_owned(), 10_000.0),
        None => (text, 1.0),
    };
    digits
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(|n| n * factor)
}

/// A whole number (`1,200`, `1200.0`, `60%`).
pub fn whole(value: &str) -> Option<i64> {
    let digits: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '%'))
        .collect();
    digits.parse::<i64>().ok().or_else(|| {
        digits
            .parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

/// A yes/no flag: `true`, `1`, `yes`, `是` …; `None` for anything else.
pub fn flag(value: &str) -> Option<bool> {
    match normalise(value).as_str() {
        "true" | "1" | "yes" | "y" | "是" | "已关闭" | "已赢单" => Some(true),
        "false" | "0" | "no" | "n" | "否" => Some(false),
        _ => None,
    }
}

/// A won/lost word (赢单, 输单, Won, Closed Lost …) as the kind of stage it means.
pub fn result(value: &str) -> Option<StageKind> {
    match normalise(value).as_str() {
        "won" | "closedwon" | "赢单" | "赢" | "成交" | "已成交" | "赢单关闭" | "已赢单" => {
            Some(StageKind::Won)
        }
        "lost"
        | "closedlost"
        | "输单"
        | "输"
        | "丢单"
        | "已输单"
        | "输单关闭"
        | "失败"
        | "closedlosttocompetition"
        | "无效" => Some(StageKind::Lost),
        "open" | "进行中" | "跟进中" => Some(StageKind::Open),
        _ => None,
    }
}

/// An activity type from another system's type (Call, Email, Meeting, 电话, 拜访 …); `None`
/// when it names none of ours.
pub fn activity_type(value: &str) -> Option<ActivityType> {
    if let Ok(t) = ActivityType::parse(value) {
        return Some(t);
    }
    let t = match normalise(value).as_str() {
        "phone" | "phonecall" | "calls" | "loggedcall" | "打电话" | "电话拜访" | "通话"
        | "致电" => ActivityType::Call,
        "emails" | "sendemail" | "loggedemail" | "email发送" | "电子邮件" | "发邮件" => {
            ActivityType::Email
        }
        "meetings" | "event" | "会面" | "开会" | "线上会议" | "视频会议" => {
            ActivityType::Meeting
        }
        "visit" | "onsitevisit" | "sitevisit" | "上门" | "上门拜访" | "面访" | "外勤"
        | "实地拜访" => ActivityType::Visit,
        "weixin" | "企业微信" | "微信沟通" | "wecom" => ActivityType::Wechat,
        "task" | "todo" | "other" | "notes" | "记录" | "其他" | "笔记" => ActivityType::Note,
        _ => return None,
    };
    Some(t)
}

/// Stage names of other systems' default pipelines, normalised, as our default stages' codes.
const STAGE_NAMES: &[(&str, &str)] = &[
    // Salesforce and Zoho
    ("prospecting", "met"),
    ("qualification", "found"),
    ("needsanalysis", "needs"),
    ("valueproposition", "confirmed"),
    ("iddecisionmakers", "confirmed"),
    ("identifydecisionmakers", "confirmed"),
    ("perceptionanalysis", "proposal"),
    ("proposalpricequote", "proposal"),
    ("negotiationreview", "commitment"),
    // HubSpot's internal names and labels
    ("appointmentscheduled", "met"),
    ("qualifiedtobuy", "found"),
    ("presentationscheduled", "needs"),
    ("decisionmakerboughtin", "confirmed"),
    ("contractsent", "commitment"),
    // 纷享销客, 销售易
    ("验证客户", "met"),
    ("初步接洽", "met"),
    ("初步沟通", "met"),
    ("需求确定", "needs"),
    ("需求确认", "needs"),
    ("需求分析", "needs"),
    ("方案报价", "proposal"),
    ("报价", "proposal"),
    ("谈判审核", "commitment"),
    ("商务谈判", "commitment"),
    ("合同签订", "commitment"),
];

/// The pipeline's stages, and how a name in a file finds one.
pub struct Stages {
    stages: Vec<Stage>,
    by_name: BTreeMap<String, usize>,
    mapped: BTreeMap<String, String>,
}

impl Stages {
    /// `stages` as the pipeline has them; `mapped` from the mapping file (normalised name →
    /// code or label).
    pub fn new(stages: Vec<Stage>, mapped: &BTreeMap<String, String>) -> Stages {
        let mut by_name = BTreeMap::new();
        for (i, s) in stages.iter().enumerate().filter(|(_, s)| s.active) {
            for name in [&s.code, &s.name_zh, &s.name_en] {
                by_name.entry(normalise(name)).or_insert(i);
            }
        }
        Stages {
            stages,
            by_name,
            mapped: mapped.clone(),
        }
    }

    fn named(&self, name: &str) -> Option<&Stage> {
        self.by_name.get(&normalise(name)).map(|&i| &self.stages[i])
    }

    /// The first active stage of a kind.
    pub fn first(&self, kind: StageKind) -> Option<&Stage> {
        self.stages.iter().find(|s| s.active && s.kind == kind)
    }

    /// The stage a file's stage name means, or an error a person can act on.
    pub fn resolve(&self, value: &str) -> Result<&Stage, String> {
        let key = normalise(value);
        if let Some(code) = self.mapped.get(&key) {
            return self.named(code).ok_or_else(|| {
                format!("the mapping file maps stage '{value}' to '{code}', which is not an active stage")
            });
        }
        if let Some(stage) = self.named(value) {
            return Ok(stage);
        }
        if let Some(stage) = STAGE_NAMES
            .iter()
            .find(|(name, _)| *name == key)
            .and_then(|(_, code)| self.named(code))
        {
            return Ok(stage);
        }
        match result(value) {
            Some(kind @ (StageKind::Won | StageKind::Lost)) => self
                .first(kind)
                .ok_or_else(|| format!("the pipeline has no active {} stage", kind.code())),
            _ => Err(format!(
                "'{value}' is not a stage of the pipeline (stages: {}; closed won/closed lost, 赢单/输单 are taken too); map it in the mapping file as \"stage:{value}\" = \"CODE\"",
                self.stages
                    .iter()
                    .filter(|s| s.active)
                    .map(|s| format!("{} {}", s.code, s.name_zh))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(code: &str, zh: &str, en: &str, kind: StageKind) -> Stage {
        Stage {
            id: 0,
            code: code.into(),
            name_zh: zh.into(),
            name_en: en.into(),
            probability: 50,
            position: 0,
            kind,
            active: true,
        }
    }

    #[test]
    fn times_and_dates_of_other_systems_are_read() {
        let at = |v| instant(v, false).map(|t| t.to_rfc3339());
        assert_eq!(
            at("2025-03-10T08:30:00.000Z").unwrap(),
            "2025-03-10T08:30:00+00:00"
        );
        assert_eq!(at("2025-03-10 16:30").unwrap(), "2025-03-10T08:30:00+00:00");
        assert_eq!(
            instant("2025-03-10 08:30:00", true).unwrap().to_rfc3339(),
            "2025-03-10T08:30:00+00:00"
        );
        assert_eq!(at("2025/3/10").unwrap(), "2025-03-10T04:00:00+00:00");
        assert_eq!(at("2025年3月10日").unwrap(), "2025-03-10T04:00:00+00:00");
        assert_eq!(at("3/10/2025").unwrap(), "2025-03-10T04:00:00+00:00");
        assert_eq!(at("yesterday"), None);
        assert_eq!(
            date("2025-03-10 09:00"),
            NaiveDate::from_ymd_opt(2025, 3, 10)
        );
        assert_eq!(date("13/45/2025"), None);
    }

    #[test]
    fn amounts_flags_and_types_are_read() {
        assert_eq!(money("¥1,234.50"), Some(1234.5));
        assert_eq!(money("12万"), Some(120_000.0));
        assert_eq!(money("CNY 900"), Some(900.0));
        assert_eq!(money("about 5k"), None);
        assert_eq!(whole("60%"), Some(60));
        assert_eq!(flag("TRUE"), Some(true));
        assert_eq!(flag("否"), Some(false));
        assert_eq!(activity_type("Call"), Some(ActivityType::Call));
        assert_eq!(activity_type("上门拜访"), Some(ActivityType::Visit));
        assert_eq!(activity_type("Fax"), None);
    }

    #[test]
    fn stages_resolve_by_ours_theirs_and_the_mapping() {
        let stages = vec![
            stage("met", "见到客户", "Met", StageKind::Open),
            stage("needs", "明确需求", "Needs defined", StageKind::Open),
            stage("commitment", "客户承诺", "Commitment", StageKind::Open),
            stage("paid", "收款", "Paid", StageKind::Won),
            stage("lost", "输单", "Lost", StageKind::Lost),
        ];
        let mut mapped = BTreeMap::new();
        mapped.insert(normalise("Verbal"), "commitment".to_owned());
        let s = Stages::new(stages, &mapped);
        assert_eq!(s.resolve("明确需求").unwrap().code, "needs");
        assert_eq!(s.resolve("Needs Analysis").unwrap().code, "needs");
        assert_eq!(s.resolve("Closed Won").unwrap().code, "paid");
        assert_eq!(s.resolve("closedlost").unwrap().code, "lost");
        assert_eq!(s.resolve("verbal").unwrap().code, "commitment");
        let e = s.resolve("Dreaming").unwrap_err();
        assert!(
            e.contains("met 见到客户") && e.contains("stage:Dreaming"),
            "{e}"
        );
    }
}
