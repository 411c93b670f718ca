//! 审计日志 / Audit log (admins only): three tabs over `xiansuo_app::admin::audit` and the
//! export log — the settings changes, each with a field-by-field before → after, the exports,
//! and the sign-in attempts — with filters (kind, who, dates) and newest-first paging, as
//! `GET /api/v1/audit`, `/api/v1/exports` and `/api/v1/audit/logins` answer them.

use super::frame::{admin_only, text_of, time_in, Frame, Menu};
use crate::ui::page::{render, store_error_page, Choice, Chrome, Viewer};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use xiansuo_app::admin::audit::{self, LoginResult, Setting};
use xiansuo_app::admin::users;
use xiansuo_app::data::export;
use xiansuo_app::StoreError;

/// The page's query: the tab, its filters and the page.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AuditQuery {
    tab: String,
    kind: String,
    actor: String,
    result: String,
    from: String,
    to: String,
    cursor: String,
}

impl AuditQuery {
    /// The filters given, as the use cases take them.
    fn pairs(&self, names: &[&str]) -> Vec<(String, String)> {
        [
            ("kind", &self.kind),
            ("actor", &self.actor),
            ("result", &self.result),
            ("from", &self.from),
            ("to", &self.to),
            ("cursor", &self.cursor),
        ]
        .into_iter()
        .filter(|(name, value)| names.contains(name) && !value.trim().is_empty())
        .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
        .collect()
    }

    /// This query on another page: `cursor` set, the rest kept.
    fn with_cursor(&self, cursor: &str) -> String {
        let pairs = [
            ("tab", self.tab.as_str()),
            ("kind", &self.kind),
            ("actor", &self.actor),
            ("result", &self.result),
            ("from", &self.from),
            ("to", &self.to),
            ("cursor", cursor),
        ];
        let kept: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        format!(
            "/settings/audit?{}",
            serde_urlencoded::to_string(kept).unwrap_or_default()
        )
    }
}

/// The texts of this page, in Chinese and English.
pub(crate) struct AuditTexts {
    intro: &'static str,
    changes: &'static str,
    exports: &'static str,
    logins: &'static str,
    kind: &'static str,
    any: &'static str,
    who: &'static str,
    from: &'static str,
    to: &'static str,
    filter: &'static str,
    when: &'static str,
    action: &'static str,
    record: &'static str,
    change: &'static str,
    nothing: &'static str,
    older: &'static str,
    command_line: &'static str,
    address: &'static str,
    user_agent: &'static str,
    result: &'static str,
    table: &'static str,
    rows: &'static str,
    format: &'static str,
    channel: &'static str,
    filters: &'static str,
    kinds: &'static [(&'static str, &'static str)],
    actions: &'static [(&'static str, &'static str)],
    results: &'static [(&'static str, &'static str)],
    fields: &'static [(&'static str, &'static str)],
}

fn lookup(table: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

impl AuditTexts {
    fn kind(&self, code: &str) -> String {
        lookup(self.kinds, code).unwrap_or(code).to_owned()
    }

    /// The label of a column: its own, or the column's name as words (`max_held` → "Max held").
    fn field(&self, column: &str) -> String {
        if let Some(label) = lookup(self.fields, column) {
            return label.to_owned();
        }
        let words = column.replace('_', " ");
        let mut chars = words.chars();
        chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    }
}

static ZH: AuditTexts = AuditTexts {
    intro: "谁在何时改了哪项设置（改前 → 改后）、谁导出了数据、谁登录过。只有管理员能看。",
    changes: "设置变更",
    exports: "导出记录",
    logins: "登录记录",
    kind: "类别",
    any: "全部",
    who: "操作人",
    from: "从",
    to: "到",
    filter: "筛选",
    when: "时间",
    action: "操作",
    record: "对象",
    change: "改动（改前 → 改后）",
    nothing: "没有记录。",
    older: "更早的记录 →",
    command_line: "命令行",
    address: "地址",
    user_agent: "浏览器",
    result: "结果",
    table: "数据",
    rows: "行数",
    format: "格式",
    channel: "渠道",
    filters: "筛选条件",
    kinds: &[
        ("user", "用户"),
        ("team", "团队"),
        ("api_token", "API 令牌"),
        ("custom_field", "自定义字段"),
        ("pipeline_stage", "销售阶段"),
        ("qualification_checklist", "资格清单"),
        ("scoring_rule", "评分规则"),
        ("scoring_settings", "评分设置"),
        ("assignment_rule", "分配规则"),
        ("assignment_order", "分配规则顺序"),
        ("assignment_settings", "分配设置"),
        ("availability", "接单状态"),
        ("pool", "公海"),
        ("recycle_rule", "回收规则"),
        ("sla_rule", "SLA 规则"),
        ("working_hours", "工作时间"),
        ("web_form", "网页表单"),
        ("webhook", "Webhook"),
        ("robot", "群机器人"),
        ("dedup_policies", "查重策略"),
        ("choice", "选项"),
        ("report_cost", "渠道花费"),
        ("report_target", "目标"),
        ("prediction_schedule", "赢单预测重新训练"),
    ],
    actions: &[
        ("create", "新建"),
        ("update", "修改"),
        ("delete", "删除"),
        ("reorder", "调整顺序"),
        ("revoke", "撤销"),
        ("reset_password", "重置密码"),
        ("change_password", "修改密码"),
    ],
    results: &[
        ("succeeded", "成功"),
        ("failed", "失败"),
        ("throttled", "尝试过多被拒"),
    ],
    fields: &[
        ("name", "名称"),
        ("username", "用户名"),
        ("display_name", "显示名"),
        ("email", "邮箱"),
        ("role", "角色"),
        ("team_id", "团队"),
        ("parent_id", "上级团队"),
        ("user_id", "用户编号"),
        ("user_name", "用户"),
        ("last_used_at", "最近使用"),
        ("locale", "语言"),
        ("time_zone", "时区"),
        ("active", "启用"),
        ("mask_phones", "手机号打码"),
        ("daily_digest", "每日摘要邮件"),
        ("digest_mailed_at", "摘要发送时间"),
        ("password_hash", "密码"),
        ("token_hash", "令牌"),
        ("secret", "签名密钥"),
        ("scope", "权限范围"),
        ("revoked_at", "撤销时间"),
        ("deleted_at", "删除时间"),
        ("label", "标签"),
        ("options", "选项"),
        ("required", "必填"),
        ("position", "顺序"),
        ("code", "代码"),
        ("name_zh", "中文名"),
        ("name_en", "英文名"),
        ("probability", "赢单概率"),
        ("kind", "类型"),
        ("items", "条目"),
        ("is_default", "默认"),
        ("definition", "规则内容"),
        ("max_score", "满分"),
        ("high_threshold", "高分线"),
        ("medium_threshold", "中分线"),
        ("fallback_user_id", "兜底负责人"),
        ("fallback_pool_id", "兜底公海"),
        ("away_until", "休假至"),
        ("max_open_leads", "最多在跟线索"),
        ("daily_cap", "每日上限"),
        ("region", "区域"),
        ("industry", "行业"),
        ("admin_id", "公海管理员"),
        ("max_held", "最多持有"),
        ("max_claims_per_day", "每日最多领取"),
        ("cooldown_days", "冷却天数"),
        ("protection_days", "保护天数"),
        ("protection_max_days", "最长保护天数"),
        ("after_amount", "时长"),
        ("unit", "单位"),
        ("warn_before", "提前提醒"),
        ("pool_id", "公海"),
        ("hours", "小时"),
        ("action", "动作"),
        ("target_pool_id", "目标公海"),
        ("target_user_id", "目标用户"),
        ("weekdays", "工作日"),
        ("start_time", "上班时间"),
        ("end_time", "下班时间"),
        ("holidays", "节假日"),
        ("workdays", "调休工作日"),
        ("url", "地址"),
        ("events", "事件"),
        ("description", "说明"),
        ("fields", "字段"),
        ("source", "来源"),
        ("campaign", "活动"),
        ("month", "月份"),
        ("amount_cents", "金额（分）"),
        ("metric", "指标"),
        ("value", "目标值"),
    ],
};

static EN: AuditTexts = AuditTexts {
    intro: "Who changed which setting when (before → after), who exported data, and who signed in. Admins only.",
    changes: "Settings changes",
    exports: "Exports",
    logins: "Sign-ins",
    kind: "Kind",
    any: "All",
    who: "By",
    from: "From",
    to: "To",
    filter: "Filter",
    when: "When",
    action: "Action",
    record: "Record",
    change: "Change (before → after)",
    nothing: "Nothing recorded.",
    older: "Older entries →",
    command_line: "command line",
    address: "Address",
    user_agent: "Browser",
    result: "Result",
    table: "Data",
    rows: "Rows",
    format: "Format",
    channel: "Channel",
    filters: "Filters",
    kinds: &[
        ("user", "User"),
        ("team", "Team"),
        ("api_token", "API token"),
        ("custom_field", "Custom field"),
        ("pipeline_stage", "Pipeline stage"),
        ("qualification_checklist", "Qualification checklist"),
        ("scoring_rule", "Scoring rule"),
        ("scoring_settings", "Scoring settings"),
        ("assignment_rule", "Assignment rule"),
        ("assignment_order", "Order of assignment rules"),
        ("assignment_settings", "Assignment settings"),
        ("availability", "Availability"),
        ("pool", "Pool"),
        ("recycle_rule", "Recycle rule"),
        ("sla_rule", "SLA rule"),
        ("working_hours", "Working hours"),
        ("web_form", "Web form"),
        ("webhook", "Webhook"),
        ("robot", "Group robot"),
        ("dedup_policies", "Dedup policies"),
        ("choice", "Choice list entry"),
        ("report_cost", "Channel spend"),
        ("report_target", "Target"),
        ("prediction_schedule", "Win prediction retraining"),
    ],
    actions: &[
        ("create", "Created"),
        ("update", "Changed"),
        ("delete", "Deleted"),
        ("reorder", "Reordered"),
        ("revoke", "Revoked"),
        ("reset_password", "Password reset"),
        ("change_password", "Password changed"),
    ],
    results: &[
        ("succeeded", "Succeeded"),
        ("failed", "Failed"),
        ("throttled", "Refused: too many attempts"),
    ],
    fields: &[
        ("display_name", "Display name"),
        ("team_id", "Team"),
        ("time_zone", "Time zone"),
        ("mask_phones", "Masked phones"),
        ("password_hash", "Password"),
        ("token_hash", "Token"),
        ("secret", "Signing secret"),
        ("revoked_at", "Revoked at"),
        ("deleted_at", "Deleted at"),
        ("name_zh", "Chinese name"),
        ("name_en", "English name"),
        ("is_default", "Default"),
        ("max_score", "Maximum score"),
        ("high_threshold", "High threshold"),
        ("medium_threshold", "Medium threshold"),
        ("fallback_user_id", "Fallback owner"),
        ("fallback_pool_id", "Fallback pool"),
        ("away_until", "Away until"),
        ("max_open_leads", "Most open leads"),
        ("daily_cap", "Daily cap"),
        ("admin_id", "Pool admin"),
        ("max_held", "Most held"),
        ("max_claims_per_day", "Claims per day"),
        ("cooldown_days", "Cool-down days"),
        ("protection_days", "Protection days"),
        ("protection_max_days", "Longest protection"),
        ("after_amount", "After"),
        ("warn_before", "Warn before"),
        ("pool_id", "Pool"),
        ("target_pool_id", "Target pool"),
        ("target_user_id", "Target user"),
        ("start_time", "Start"),
        ("end_time", "End"),
        ("amount_cents", "Amount (cents)"),
    ],
};

fn audit_texts(locale: &str) -> &'static AuditTexts {
    if locale == "en" {
        &EN
    } else {
        &ZH
    }
}

/// One field that a change altered, as the page shows it.
struct FieldChange {
    field: String,
    before: String,
    after: String,
}

/// One settings change.
struct Entry {
    when: String,
    who: String,
    action: String,
    kind: String,
    name: String,
    id: String,
    fields: Vec<FieldChange>,
}

/// One export.
struct ExportRow {
    when: String,
    who: String,
    table: String,
    rows: i64,
    format: String,
    channel: String,
    filters: String,
}

/// One sign-in attempt.
struct LoginRow {
    when: String,
    username: String,
    address: String,
    user_agent: String,
    result: String,
    failed: bool,
}

/// The fields that change with every write and say nothing of their own.
const NOISE: &[&str] = &[
    "updated_at",
    "created_at",
    "updated_by",
    "set_by",
    "created_by",
];

/// A value as one line of text: `—` for nothing, long JSON cut short.
fn shown(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => return "—".to_owned(),
        Some(v) => text_of(v),
    };
    let mut chars = text.chars();
    let cut: String = chars.by_ref().take(160).collect();
    if chars.next().is_some() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// The fields whose values differ between `before` and `after`, in the record's column order.
fn diff(t: &AuditTexts, before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut names: Vec<&String> = Vec::new();
    for side in [after, before] {
        for name in side.as_object().into_iter().flat_map(|o| o.keys()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
        .into_iter()
        .filter(|name| !NOISE.contains(&name.as_str()) && *name != "id")
        .filter(|name| {
            let side = |v: &Value| v.get(name.as_str()).cloned().unwrap_or(Value::Null);
            side(before) != side(after)
        })
        .map(|name| FieldChange {
            field: t.field(name),
            before: shown(before.get(name.as_str())),
            after: shown(after.get(name.as_str())),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "settings_audit.html")]
struct AuditPage {
    chrome: Chrome,
    menu: Menu,
    a: &'static AuditTexts,
    tab: &'static str,
    query: AuditQuery,
    kinds: Vec<Choice>,
    actors: Vec<Choice>,
    results: Vec<Choice>,
    entries: Vec<Entry>,
    exports: Vec<ExportRow>,
    logins: Vec<LoginRow>,
    older: Option<String>,
    /// A filter the store refused, said above the list.
    alert: Option<String>,
}

/// `GET /settings/audit?tab=changes|exports|logins&kind=&actor=&result=&from=&to=&cursor=`
pub(crate) async fn page(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<AuditQuery>,
) -> Response {
    const PATH: &str = "/settings/audit";
    if let Some(refused) = admin_only(&user, PATH) {
        return refused;
    }
    let frame = Frame::new(&user, PATH);
    let (s, t) = (frame.menu.s, frame.t());
    let a = audit_texts(&user.actor.locale);
    let zone = match users::get(&state.db, user.actor.user_id).await {
        Ok(me) => me.time_zone,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let tab = match query.tab.as_str() {
        "exports" => "exports",
        "logins" => "logins",
        _ => "changes",
    };
    let when = |at: &str| time_in(&zone, at);
    let (mut entries, mut exports, mut logins) = (Vec::new(), Vec::new(), Vec::new());
    let loaded = match tab {
        "exports" => export::audit(&state.db, &user.actor, &query.pairs(&["cursor"]))
            .await
            .map(|page| {
                exports = page
                    .items
                    .into_iter()
                    .map(|item| ExportRow {
                        when: when(&item.at),
                        who: item.username.unwrap_or_default(),
                        table: item.record_type,
                        rows: item.rows,
                        format: item.format,
                        channel: item.channel,
                        filters: shown(Some(&item.filters)),
                    })
                    .collect();
                page.next_cursor
            }),
        "logins" => {
            let pairs = query.pairs(&["result", "from", "to", "cursor"]);
            audit::logins(&state.db, &user.actor, &pairs)
                .await
                .map(|page| {
                    logins = page
                        .items
                        .into_iter()
                        .map(|item| LoginRow {
                            when: when(&item.at),
                            failed: item.result != LoginResult::Succeeded.code(),
                            result: lookup(a.results, &item.result)
                                .unwrap_or_default()
                                .to_owned(),
                            username: item.username,
                            address: item.address,
                            user_agent: shown(Some(&Value::from(item.user_agent))),
                        })
                        .collect();
                    page.next_cursor
                })
        }
        _ => {
            let pairs = query.pairs(&["kind", "actor", "from", "to", "cursor"]);
            audit::list(&state.db, &user.actor, &pairs)
                .await
                .map(|page| {
                    entries = page
                        .items
                        .into_iter()
                        .map(|item| Entry {
                            when: when(&item.at),
                            who: if item.actor.name.is_empty() {
                                a.command_line.to_owned()
                            } else {
                                item.actor.name
                            },
                            action: lookup(a.actions, &item.action)
                                .unwrap_or_default()
                                .to_owned(),
                            kind: a.kind(&item.kind),
                            name: item.subject.name,
                            id: item.subject.id.map(|id| id.to_string()).unwrap_or_default(),
                            fields: diff(a, &item.before, &item.after),
                        })
                        .collect();
                    page.next_cursor
                })
        }
    };
    let (next, alert) = match loaded {
        Ok(next) => (next, None),
        Err(StoreError::Invalid(invalid)) => (None, Some(s.invalid(t, &invalid))),
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let people = match users::list(&state.db, &[]).await {
        Ok(people) => people,
        Err(e) => return store_error_page(frame.chrome, e),
    };
    let mut kinds = vec![Choice::new("", a.any, &query.kind)];
    kinds.extend(
        Setting::ALL
            .iter()
            .map(|k| Choice::new(k.code(), a.kind(k.code()), &query.kind)),
    );
    let mut actors = vec![Choice::new("", a.any, &query.actor)];
    actors.extend(
        people
            .iter()
            .map(|u| Choice::new(u.id.to_string(), u.username.as_str(), &query.actor)),
    );
    let mut results = vec![Choice::new("", a.any, &query.result)];
    results.extend(
        a.results
            .iter()
            .map(|(code, label)| Choice::new(*code, *label, &query.result)),
    );
    let older = next.map(|cursor| query.with_cursor(&cursor));
    let status = if alert.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = AuditPage {
        chrome: frame.chrome,
        menu: frame.menu,
        a,
        tab,
        query,
        kinds,
        actors,
        results,
        entries,
        exports,
        logins,
        older,
        alert,
    };
    render(status, &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_shows_the_fields_that_differ_with_their_labels() {
        let before = json!({"id": 3, "name": "华东", "active": 1, "updated_at": "a"});
        let after = json!({"id": 3, "name": "华东区", "active": 1, "updated_at": "b"});
        let fields = diff(&ZH, &before, &after);
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].field, "名称");
        assert_eq!(
            (fields[0].before.as_str(), fields[0].after.as_str()),
            ("华东", "华东区")
        );
        let created = diff(
            &EN,
            &Value::Null,
            &json!({"label": "预算", "required": 0, "deleted_at": null}),
        );
        assert_eq!(
            created.len(),
            2,
            "nothing shown for what is empty on both sides"
        );
        assert_eq!(created[0].field, "Label");
        assert_eq!(created[0].before, "—");
        assert_eq!(created[1].after, "0");
    }

    #[test]
    fn a_users_change_reads_in_chinese_column_by_column() {
        // Every column of `users` (migrations 0001, 0014, 0026) an admin can see change.
        for column in [
            "username",
            "display_name",
            "email",
            "password_hash",
            "role",
            "team_id",
            "locale",
            "active",
            "deleted_at",
            "mask_phones",
            "time_zone",
            "daily_digest",
            "digest_mailed_at",
        ] {
            assert!(lookup(ZH.fields, column).is_some(), "{column} has no label");
        }
    }

    #[test]
    fn every_kind_has_a_label_in_both_languages() {
        for kind in Setting::ALL {
            for texts in [&ZH, &EN] {
                assert!(
                    lookup(texts.kinds, kind.code()).is_some(),
                    "{}",
                    kind.code()
                );
            }
        }
    }
}
