//! Every string the web UI shows, in Chinese (zh-CN, the default) and English. Pages take one
//! [`Texts`] for the user's locale; the labels of statuses, grades, sources, activity types and
//! outcomes come from `xiansuo_core::lead`, so the API's codes and the UI's words cannot drift.

use xiansuo_core::lead::BUILTIN_SOURCES;
use xiansuo_core::Invalid;

/// The UI strings of one language. A struct rather than a key lookup, so that a missing
/// translation is a compile error instead of a blank on a page.
pub struct Texts {
    /// `zh` or `en`: what `label()` in `xiansuo_core::lead` takes.
    pub lang: &'static str,
    /// The value of `<html lang>`.
    pub html_lang: &'static str,
    pub app_name: &'static str,
    pub nav_leads: &'static str,
    pub sign_out: &'static str,
    pub language: &'static str,
    pub signed_in_as: &'static str,

    pub sign_in_title: &'static str,
    pub sign_in_intro: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub sign_in_failed: &'static str,
    pub sign_in_expired: &'static str,
    pub sign_in_rate_limited: &'static str,

    pub leads_title: &'static str,
    pub new_lead: &'static str,
    pub search_placeholder: &'static str,
    pub search: &'static str,
    pub all: &'static str,
    pub sort: &'static str,
    pub sort_newest: &'static str,
    pub sort_oldest: &'static str,
    pub sort_updated: &'static str,
    pub sort_score: &'static str,
    pub sort_name: &'static str,
    pub next_page: &'static str,
    pub first_page: &'static str,
    pub no_leads: &'static str,
    pub clear_filters: &'static str,

    pub name: &'static str,
    pub company: &'static str,
    pub title: &'static str,
    pub phone: &'static str,
    pub email: &'static str,
    pub source: &'static str,
    pub status: &'static str,
    pub grade: &'static str,
    pub score: &'static str,
    pub owner: &'static str,
    pub industry: &'static str,
    pub region: &'static str,
    pub description: &'static str,
    pub tags: &'static str,
    pub tags_hint: &'static str,
    pub created_at: &'static str,
    pub updated_at: &'static str,

    pub save: &'static str,
    pub cancel: &'static str,
    pub edit: &'static str,
    pub edit_lead: &'static str,
    pub none: &'static str,

    pub details: &'static str,
    pub timeline: &'static str,
    pub log_follow_up: &'static str,
    pub activity_type: &'static str,
    pub outcome: &'static str,
    pub content: &'static str,
    pub next_follow_up: &'static str,
    pub time_zone_hint: &'static str,
    pub nothing_yet: &'static str,
    pub created_the_lead: &'static str,
    pub deleted_the_lead: &'static str,
    pub restored_the_lead: &'static str,
    pub deleted_a_follow_up: &'static str,
    pub changed: &'static str,
    pub via: &'static str,
    pub back_to_list: &'static str,
    pub converted_read_only: &'static str,

    pub forbidden_title: &'static str,
    pub csrf_failed: &'static str,
    pub not_found_title: &'static str,
    pub lead_not_found: &'static str,
    pub error_title: &'static str,
    pub internal_error: &'static str,
    pub yes: &'static str,
    pub no: &'static str,

    /// Field names as they appear in history entries; other fields show their code.
    fields: &'static [(&'static str, &'static str)],
    channels: &'static [(&'static str, &'static str)],
    /// The store's most frequent messages; others are shown as the store wrote them.
    messages: &'static [(&'static str, &'static str)],
    /// "At most N characters", with `{n}` for N.
    at_most: Option<&'static str>,
    /// What is wrong with a field whose messages quote the value (a phone, an email, a source):
    /// those cannot be looked up, so the field says it in its own words.
    field_messages: &'static [(&'static str, &'static str)],
}

impl Texts {
    /// The label of a record field (`status`, `custom.budget`, …).
    pub fn field<'a>(&self, name: &'a str) -> &'a str {
        lookup(self.fields, name).unwrap_or(name)
    }

    /// The label of a history channel code (`ui`, `api`, …).
    pub fn channel<'a>(&self, code: &'a str) -> &'a str {
        lookup(self.channels, code).unwrap_or(code)
    }

    /// A message from the store (a conflict, say), in this language when a translation is known.
    pub fn message<'a>(&self, message: &'a str) -> &'a str {
        lookup(self.messages, message).unwrap_or(message)
    }

    /// What is wrong with a value, in this language when a translation is known.
    pub fn invalid(&self, invalid: &Invalid) -> String {
        if let Some(message) = lookup(self.messages, &invalid.message) {
            return message.to_owned();
        }
        let max = invalid
            .message
            .strip_prefix("must be at most ")
            .and_then(|rest| rest.strip_suffix(" characters"));
        if let (Some(template), Some(max)) = (self.at_most, max) {
            return template.replace("{n}", max);
        }
        lookup(self.field_messages, &invalid.field)
            .map_or_else(|| invalid.message.clone(), str::to_owned)
    }

    /// The label of a source code; an admin's own sources show their code.
    pub fn source_label<'a>(&self, code: &'a str) -> &'a str {
        BUILTIN_SOURCES
            .iter()
            .find(|s| s.0 == code)
            .map_or(code, |s| if self.lang == "en" { s.2 } else { s.1 })
    }
}

fn lookup(table: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The texts for a user's locale (`zh` or `en`); anything else gets Chinese.
pub fn texts(locale: &str) -> &'static Texts {
    if locale == "en" {
        &EN
    } else {
        &ZH
    }
}

static ZH: Texts = Texts {
    lang: "zh",
    html_lang: "zh-CN",
    app_name: "线索",
    nav_leads: "线索",
    sign_out: "退出",
    language: "语言",
    signed_in_as: "当前用户",

    sign_in_title: "登录",
    sign_in_intro: "线索管理：从获取到转化",
    username: "用户名",
    password: "密码",
    sign_in: "登录",
    sign_in_failed: "用户名或密码错误",
    sign_in_expired: "登录页面已过期，请再试一次",
    sign_in_rate_limited: "登录失败次数过多，请稍后再试",

    leads_title: "线索",
    new_lead: "新建线索",
    search_placeholder: "搜索姓名、手机号、公司",
    search: "搜索",
    all: "全部",
    sort: "排序",
    sort_newest: "最新创建",
    sort_oldest: "最早创建",
    sort_updated: "最近更新",
    sort_score: "评分最高",
    sort_name: "按姓名",
    next_page: "下一页",
    first_page: "第一页",
    no_leads: "没有找到线索",
    clear_filters: "清除筛选",

    name: "姓名",
    company: "公司",
    title: "职位",
    phone: "手机",
    email: "邮箱",
    source: "来源",
    status: "状态",
    grade: "等级",
    score: "评分",
    owner: "负责人",
    industry: "行业",
    region: "地区",
    description: "描述",
    tags: "标签",
    tags_hint: "多个标签用逗号分隔",
    created_at: "创建时间",
    updated_at: "更新时间",

    save: "保存",
    cancel: "取消",
    edit: "编辑",
    edit_lead: "编辑线索",
    none: "—",

    details: "基本信息",
    timeline: "跟进记录与历史",
    log_follow_up: "记录跟进",
    activity_type: "跟进方式",
    outcome: "推进结果",
    content: "内容",
    next_follow_up: "下次跟进",
    time_zone_hint: "北京时间",
    nothing_yet: "还没有跟进记录",
    created_the_lead: "创建了线索",
    deleted_the_lead: "删除了线索",
    restored_the_lead: "恢复了线索",
    deleted_a_follow_up: "删除了一条跟进记录",
    changed: "修改了",
    via: "渠道",
    back_to_list: "返回线索列表",
    converted_read_only: "线索已转化，只能查看",

    forbidden_title: "无法提交",
    csrf_failed: "表单已过期或不是从本站提交的。请刷新页面后重试。",
    not_found_title: "找不到",
    lead_not_found: "这条线索不存在，或者你没有权限查看。",
    error_title: "出错了",
    internal_error: "服务器出错，已记录日志，请稍后再试。",
    yes: "是",
    no: "否",

    fields: &[
        ("name", "姓名"),
        ("company", "公司"),
        ("company_key", "公司（标准化）"),
        ("title", "职位"),
        ("phone", "手机"),
        ("phone_normalized", "手机（标准化）"),
        ("email", "邮箱"),
        ("email_normalized", "邮箱（标准化）"),
        ("source", "来源"),
        ("status", "状态"),
        ("owner_id", "负责人"),
        ("score", "评分"),
        ("grade", "等级"),
        ("industry", "行业"),
        ("province", "省份"),
        ("city", "城市"),
        ("company_size", "公司规模"),
        ("description", "描述"),
        ("tags", "标签"),
        ("next_follow_up_at", "下次跟进"),
        ("type", "跟进方式"),
        ("outcome", "推进结果"),
        ("content", "内容"),
    ],
    channels: &[
        ("ui", "网页"),
        ("api", "API"),
        ("import", "导入"),
        ("rule", "规则"),
        ("job", "定时任务"),
    ],
    messages: &[
        ("must not be empty", "不能为空"),
        ("is required", "必填"),
        ("is required and cannot be null", "必填"),
        ("must not contain control characters", "不能包含控制字符"),
        ("a tag must not contain a comma", "标签不能包含逗号"),
        ("at most 50 tags", "最多 50 个标签"),
        (
            "must be an RFC 3339 time such as 2026-12-01T09:00:00+08:00",
            "请填写有效的日期和时间",
        ),
        ("a converted lead is read-only", "线索已转化，只能查看"),
        ("must be zh or en", "只能是中文或英文"),
    ],
    at_most: Some("最多 {n} 个字"),
    field_messages: &[
        (
            "phone",
            "不是有效的电话号码（例如 13800138000 或 +86 138 0013 8000）",
        ),
        ("email", "不是有效的邮箱地址（例如 name@example.com）"),
        ("source", "不是有效的来源代码"),
    ],
};

static EN: Texts = Texts {
    lang: "en",
    html_lang: "en",
    app_name: "Xiansuo",
    nav_leads: "Leads",
    sign_out: "Sign out",
    language: "Language",
    signed_in_as: "Signed in as",

    sign_in_title: "Sign in",
    sign_in_intro: "Lead management, from capture to conversion",
    username: "Username",
    password: "Password",
    sign_in: "Sign in",
    sign_in_failed: "Wrong username or password",
    sign_in_expired: "The sign-in page expired; please try again",
    sign_in_rate_limited: "Too many failed sign-in attempts; wait a few minutes and try again",

    leads_title: "Leads",
    new_lead: "New lead",
    search_placeholder: "Search name, phone, company",
    search: "Search",
    all: "All",
    sort: "Sort",
    sort_newest: "Newest",
    sort_oldest: "Oldest",
    sort_updated: "Recently updated",
    sort_score: "Highest score",
    sort_name: "Name",
    next_page: "Next page",
    first_page: "First page",
    no_leads: "No leads found",
    clear_filters: "Clear filters",

    name: "Name",
    company: "Company",
    title: "Title",
    phone: "Phone",
    email: "Email",
    source: "Source",
    status: "Status",
    grade: "Grade",
    score: "Score",
    owner: "Owner",
    industry: "Industry",
    region: "Region",
    description: "Description",
    tags: "Tags",
    tags_hint: "Separate tags with commas",
    created_at: "Created",
    updated_at: "Updated",

    save: "Save",
    cancel: "Cancel",
    edit: "Edit",
    edit_lead: "Edit lead",
    none: "—",

    details: "Details",
    timeline: "Follow-ups and history",
    log_follow_up: "Log a follow-up",
    activity_type: "Type",
    outcome: "Outcome",
    content: "Content",
    next_follow_up: "Next follow-up",
    time_zone_hint: "China Standard Time",
    nothing_yet: "No follow-ups yet",
    created_the_lead: "created the lead",
    deleted_the_lead: "deleted the lead",
    restored_the_lead: "restored the lead",
    deleted_a_follow_up: "deleted a follow-up",
    changed: "changed",
    via: "via",
    back_to_list: "Back to leads",
    converted_read_only: "This lead is converted and read-only",

    forbidden_title: "Not accepted",
    csrf_failed: "The form expired or was not sent from this site. Reload the page and try again.",
    not_found_title: "Not found",
    lead_not_found: "This lead does not exist, or you may not see it.",
    error_title: "Something went wrong",
    internal_error: "The server failed; the error has been logged. Please try again later.",
    yes: "Yes",
    no: "No",

    fields: &[
        ("name", "Name"),
        ("company", "Company"),
        ("company_key", "Company (normalised)"),
        ("title", "Title"),
        ("phone", "Phone"),
        ("phone_normalized", "Phone (normalised)"),
        ("email", "Email"),
        ("email_normalized", "Email (normalised)"),
        ("source", "Source"),
        ("status", "Status"),
        ("owner_id", "Owner"),
        ("score", "Score"),
        ("grade", "Grade"),
        ("industry", "Industry"),
        ("province", "Province"),
        ("city", "City"),
        ("company_size", "Company size"),
        ("description", "Description"),
        ("tags", "Tags"),
        ("next_follow_up_at", "Next follow-up"),
        ("type", "Type"),
        ("outcome", "Outcome"),
        ("content", "Content"),
    ],
    channels: &[
        ("ui", "Web UI"),
        ("api", "API"),
        ("import", "Import"),
        ("rule", "Rule"),
        ("job", "Scheduled job"),
    ],
    messages: &[],
    at_most: None,
    field_messages: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default_and_english_is_chosen_by_locale() {
        assert_eq!(texts("zh").new_lead, "新建线索");
        assert_eq!(texts("fr").new_lead, "新建线索");
        assert_eq!(texts("en").new_lead, "New lead");
    }

    #[test]
    fn unknown_codes_fall_back_to_themselves() {
        let zh = texts("zh");
        assert_eq!(zh.field("status"), "状态");
        assert_eq!(zh.field("custom.budget"), "custom.budget");
        assert_eq!(zh.source_label("referral"), "客户推荐");
        assert_eq!(texts("en").source_label("trade_show"), "trade_show");
        assert_eq!(
            zh.invalid(&Invalid::new("name", "must not be empty")),
            "不能为空"
        );
        assert_eq!(
            zh.invalid(&Invalid::new("title", "must be at most 100 characters")),
            "最多 100 个字"
        );
        let phone = Invalid::new("phone", "'12' is not a valid phone number");
        assert!(zh.invalid(&phone).starts_with("不是有效的电话号码"));
        assert_eq!(texts("en").invalid(&phone), phone.message);
    }
}
