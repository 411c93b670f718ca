//! Every string the web UI shows, in Chinese (zh-CN, the default) and English. Pages take one
//! [`Texts`] for the user's locale; the labels of statuses, grades, sources, activity types and
//! outcomes come from `xiansuo_core::lead`, so the API's codes and the UI's words cannot drift.

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
    pub record_not_found: &'static str,
    pub error_title: &'static str,
    pub internal_error: &'static str,
    pub yes: &'static str,
    pub no: &'static str,

    pub nav_pool: &'static str,
    pub nav_board: &'static str,
    pub nav_imports: &'static str,
    pub nav_notifications: &'static str,
    pub nav_today: &'static str,
    pub nav_accounts: &'static str,
    pub nav_opportunities: &'static str,
    pub unread_count: &'static str,
    pub pool_title: &'static str,
    pub pool_intro: &'static str,
    pub no_pools: &'static str,
    pub pool_empty: &'static str,
    pub leads_waiting: &'static str,
    pub claim: &'static str,
    pub claim_refused: &'static str,
    pub return_to_pool: &'static str,
    pub return_reason: &'static str,
    pub return_hint: &'static str,
    pub returned_to_pool: &'static str,
    pub notifications_title: &'static str,
    pub no_notifications: &'static str,
    pub mark_read: &'static str,
    pub mark_all_read: &'static str,
    pub unread: &'static str,
    pub open_record: &'static str,
    pub board_title: &'static str,
    pub no_deals: &'static str,
    pub amount: &'static str,
    pub expected_close: &'static str,
    pub move_to: &'static str,
    pub move_deal: &'static str,
    pub close_deal: &'static str,
    pub won: &'static str,
    pub lost: &'static str,
    pub close_reason: &'static str,
    pub weighted: &'static str,
    pub imports_title: &'static str,
    pub new_import: &'static str,
    pub upload_file: &'static str,
    pub upload_hint: &'static str,
    pub upload: &'static str,
    pub no_file: &'static str,
    pub file_too_large: &'static str,
    pub bad_upload: &'static str,
    pub mapping_title: &'static str,
    pub mapping_hint: &'static str,
    pub column: &'static str,
    pub maps_to: &'static str,
    pub ignore_column: &'static str,
    pub preview_title: &'static str,
    pub row: &'static str,
    pub check_result: &'static str,
    pub start_import: &'static str,
    pub no_imports: &'static str,
    pub file_name: &'static str,
    pub state: &'static str,
    pub rows_done: &'static str,
    pub imported: &'static str,
    pub skipped: &'static str,
    pub failed: &'static str,
    pub warned: &'static str,
    pub warnings: &'static str,
    pub phone_unverified: &'static str,
    pub phone_unverified_hint: &'static str,
    pub country: &'static str,
    pub country_hint: &'static str,
    pub error_report: &'static str,
    pub refreshing: &'static str,
    pub back_to_imports: &'static str,
    pub nav_dashboard: &'static str,
    pub nav_reports: &'static str,
    pub dashboard_title: &'static str,
    pub range_from: &'static str,
    pub range_to: &'static str,
    pub show_range: &'static str,
    pub leads_by_source: &'static str,
    pub total_leads: &'static str,
    pub share: &'static str,
    pub conversion_rate: &'static str,
    pub funnel_title: &'static str,
    pub of_first: &'static str,
    pub step_rate: &'static str,
    pub speed_title: &'static str,
    pub contacted: &'static str,
    pub median_minutes: &'static str,
    pub within_hour: &'static str,
    pub no_owner_data: &'static str,
    pub targets_title: &'static str,
    pub target: &'static str,
    pub actual: &'static str,
    pub attainment: &'static str,
    pub download_csv: &'static str,
    pub more_reports: &'static str,
    pub activities_report: &'static str,
    pub sales_cycle_report: &'static str,
    pub channels_report: &'static str,
    pub no_data: &'static str,
    pub nav_settings: &'static str,
    pub nav_profile: &'static str,

    /// Import states, row results and the preview's `ok`, by code.
    codes: &'static [(&'static str, &'static str)],

    /// Field names as they appear in history entries; other fields show their code.
    fields: &'static [(&'static str, &'static str)],
    channels: &'static [(&'static str, &'static str)],
    /// The store's most frequent messages; others are shown as the store wrote them.
    messages: &'static [(&'static str, &'static str)],
    /// Store messages that quote values: the English wording with `{}` for each value, and
    /// this language's with `{0}`, `{1}`, … in any order.
    patterns: &'static [(&'static str, &'static str)],
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
    pub fn message(&self, message: &str) -> String {
        if let Some(known) = lookup(self.messages, message) {
            return known.to_owned();
        }
        self.patterns
            .iter()
            .find_map(|(english, ours)| {
                let values = captures(english, message)?;
                Some(
                    values
                        .iter()
                        .enumerate()
                        .fold((*ours).to_owned(), |text, (i, value)| {
                            text.replace(&format!("{{{i}}}"), value)
                        }),
                )
            })
            .unwrap_or_else(|| message.to_owned())
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

    /// The reason an import reports for a row, in this language: a known message or pattern
    /// (a duplicate, a phone kept unverified), else what is wrong with the field.
    pub fn row_reason(&self, field: &str, reason: &str) -> String {
        let message = self.message(reason);
        if message != reason {
            return message;
        }
        self.invalid(&Invalid::new(field, reason))
    }

    /// The label of an import state or a row's check result; unknown codes show themselves.
    pub fn code<'a>(&self, code: &'a str) -> &'a str {
        lookup(self.codes, code).unwrap_or(code)
    }
}

/// The values in `message` where `template` has `{}`, if the message has the template's wording.
fn captures<'m>(template: &str, message: &'m str) -> Option<Vec<&'m str>> {
    let mut pieces = template.split("{}");
    let mut rest = message.strip_prefix(pieces.next()?)?;
    let mut values = Vec::new();
    let pieces: Vec<&str> = pieces.collect();
    for (i, piece) in pieces.iter().enumerate() {
        let end = if i + 1 == pieces.len() {
            rest.strip_suffix(piece).map(str::len)?
        } else {
            rest.find(piece)?
        };
        values.push(&rest[..end]);
        rest = &rest[end + piece.len()..];
    }
    Some(values)
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
    record_not_found: "要找的内容不存在，或者你没有权限查看。",
    error_title: "出错了",
    internal_error: "服务器出错，已记录日志，请稍后再试。",
    yes: "是",
    no: "否",

    nav_pool: "公海",
    nav_board: "看板",
    nav_imports: "导入",
    nav_notifications: "通知",
    nav_today: "今日待办",
    nav_accounts: "客户",
    nav_opportunities: "销售机会",
    unread_count: "条未读",
    pool_title: "公海",
    pool_intro: "你所在公海里等待领取的线索。领取前手机号部分隐藏。",
    no_pools: "你还不是任何公海的成员。",
    pool_empty: "这个公海里没有线索。",
    leads_waiting: "条线索",
    claim: "领取",
    claim_refused: "无法领取",
    return_to_pool: "退回公海",
    return_reason: "退回原因",
    return_hint: "线索会回到领取它的公海，或最适合它的公海。",
    returned_to_pool: "线索已退回公海。",
    notifications_title: "通知",
    no_notifications: "没有通知。",
    mark_read: "标为已读",
    mark_all_read: "全部标为已读",
    unread: "未读",
    open_record: "查看",
    board_title: "销售看板",
    no_deals: "没有销售机会",
    amount: "金额",
    expected_close: "预计成交",
    move_to: "移到阶段",
    move_deal: "移动",
    close_deal: "结束",
    won: "赢单",
    lost: "输单",
    close_reason: "原因",
    weighted: "加权",
    imports_title: "导入",
    new_import: "导入线索",
    upload_file: "文件（CSV 或 XLSX）",
    upload_hint: "第一行是表头。CSV 可以是 UTF-8 或 GBK 编码，最大 100 MiB。",
    upload: "上传并预览",
    no_file: "请选择一个 CSV 或 XLSX 文件。",
    file_too_large: "文件超过 100 MiB 的上限，请拆分后再导入。",
    bad_upload: "文件没有完整上传，请再试一次。",
    mapping_title: "列对应",
    mapping_hint: "为每一列选择导入到哪个字段。",
    column: "列",
    maps_to: "导入到",
    ignore_column: "不导入",
    preview_title: "预览：前几行按建议的列对应检查的结果",
    row: "行",
    check_result: "检查结果",
    start_import: "开始导入",
    no_imports: "还没有导入。",
    file_name: "文件",
    state: "状态",
    rows_done: "已处理行",
    imported: "已导入",
    skipped: "已跳过",
    failed: "失败",
    warned: "疑似重复",
    warnings: "数据有提醒",
    phone_unverified: "未验证",
    phone_unverified_hint: "导入时无法识别为电话号码，按原样保存；不参与查重",
    country: "默认国家/地区",
    country_hint: "没有“国家”列或该列为空的行，按这个国家读电话号码，例如 US、英国；不填则为中国",
    error_report: "下载逐行报告（errors.csv）",
    refreshing: "导入进行中，页面每 2 秒刷新一次。",
    back_to_imports: "返回导入列表",
    nav_dashboard: "仪表盘",
    nav_reports: "报表",
    dashboard_title: "仪表盘",
    range_from: "开始日期",
    range_to: "结束日期",
    show_range: "查看",
    leads_by_source: "线索来源",
    total_leads: "线索总数",
    share: "占比",
    conversion_rate: "转化率",
    funnel_title: "转化漏斗",
    of_first: "占新线索",
    step_rate: "较上一步",
    speed_title: "首次跟进速度",
    contacted: "已跟进",
    median_minutes: "中位时长（分钟）",
    within_hour: "1 小时内跟进",
    no_owner_data: "这段时间没有线索。",
    targets_title: "本月目标",
    target: "目标",
    actual: "完成",
    attainment: "达成率",
    download_csv: "下载 CSV",
    more_reports: "全部报表 →",
    activities_report: "跟进活动",
    sales_cycle_report: "销售周期",
    channels_report: "渠道成本",
    no_data: "这段时间没有数据。",
    nav_settings: "设置",
    nav_profile: "个人设置",
    codes: &[
        ("uploaded", "待开始"),
        ("running", "导入中"),
        ("finished", "已完成"),
        ("failed", "失败"),
        ("ok", "通过"),
        ("skipped", "跳过"),
        ("imported", "导入（疑似重复）"),
        ("merged", "合并"),
        ("warning", "导入（数据有提醒）"),
        ("metric:leads", "新线索"),
        ("metric:conversions", "转化"),
        ("metric:won_amount", "赢单金额"),
        ("metric:activities", "跟进次数"),
    ],

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
        ("disqualify_reason", "无效原因"),
        ("owner_id", "负责人"),
        ("score", "评分"),
        ("grade", "等级"),
        ("industry", "行业"),
        ("first_name", "名"),
        ("last_name", "姓"),
        ("province", "省份"),
        ("city", "城市"),
        ("company_size", "公司规模"),
        ("description", "描述"),
        ("external_id", "外部编号"),
        ("country", "国家/地区"),
        ("is_converted", "是否已转化"),
        ("converted_at", "转化时间"),
        ("disqualified_at", "无效时间"),
        ("converted_account_id", "转化成的客户（外部编号）"),
        ("converted_contact_id", "转化成的联系人（外部编号）"),
        ("converted_opportunity_id", "转化成的销售机会（外部编号）"),
        ("tags", "标签"),
        ("reason", "原因"),
        ("next_follow_up_at", "下次跟进"),
        ("type", "跟进方式"),
        ("outcome", "推进结果"),
        ("content", "内容"),
        ("from", "开始日期"),
        ("to", "结束日期"),
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
        (
            "say why the lead goes back to the pool",
            "请填写退回公海的原因",
        ),
        ("the lead is in a pool already", "线索已经在公海里"),
        ("must be after from", "不能早于开始日期"),
    ],
    patterns: &[
        (
            "you hold {} open leads from pool '{}' and its limit is {}: you may claim {} more",
            "你持有公海「{1}」的 {0} 条未结束线索，上限是 {2} 条：还可以领取 {3} 条",
        ),
        (
            "you claimed {} leads from pool '{}' today and its daily limit is {}: you may claim {} more today",
            "你今天已从公海「{1}」领取 {0} 条线索，每天上限是 {2} 条：今天还可以领取 {3} 条",
        ),
        (
            "lead {} was returned to the pool by you less than {} days ago; you may claim it again from {}",
            "线索 {0} 是你在 {1} 天内退回公海的，{2} 之后才能再次领取",
        ),
        (
            "lead {} is not in pool '{}' any more: someone else may have claimed it",
            "线索 {0} 已不在公海「{1}」里，可能已被别人领取",
        ),
        (
            "imported unverified, as entered: {}",
            "无法识别为电话号码，已按原样导入（未验证，不参与查重）：{0}",
        ),
        (
            "certain duplicate: the same {} as {}",
            "确定重复：{0} 与 {1} 相同",
        ),
        (
            "probable duplicate: the same {} as {}",
            "可能重复：{0} 与 {1} 相同",
        ),
    ],
    at_most: Some("最多 {n} 个字"),
    field_messages: &[
        (
            "phone",
            "不是有效的电话号码（例如 13800138000 或 +86 138 0013 8000）",
        ),
        ("email", "不是有效的邮箱地址（例如 name@example.com）"),
        ("source", "不是有效的来源代码"),
        ("from", "不是有效的日期（例如 2026-11-01）"),
        ("to", "不是有效的日期（例如 2026-11-30）"),
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
    record_not_found: "What you asked for does not exist, or you may not see it.",
    error_title: "Something went wrong",
    internal_error: "The server failed; the error has been logged. Please try again later.",
    yes: "Yes",
    no: "No",

    nav_pool: "Pool",
    nav_board: "Board",
    nav_imports: "Imports",
    nav_notifications: "Notifications",
    nav_today: "My day",
    nav_accounts: "Accounts",
    nav_opportunities: "Opportunities",
    unread_count: "unread",
    pool_title: "Public pool",
    pool_intro: "Leads waiting in the pools you belong to. Phone numbers are partly hidden until you claim a lead.",
    no_pools: "You do not belong to any pool.",
    pool_empty: "No leads are waiting in this pool.",
    leads_waiting: "leads",
    claim: "Claim",
    claim_refused: "The claim was refused",
    return_to_pool: "Return to pool",
    return_reason: "Reason",
    return_hint: "The lead goes back to the pool it was claimed from, or the pool that fits it best.",
    returned_to_pool: "The lead was returned to the pool.",
    notifications_title: "Notifications",
    no_notifications: "No notifications.",
    mark_read: "Mark read",
    mark_all_read: "Mark all read",
    unread: "Unread",
    open_record: "Open",
    board_title: "Pipeline board",
    no_deals: "No deals",
    amount: "Amount",
    expected_close: "Expected close",
    move_to: "Move to stage",
    move_deal: "Move",
    close_deal: "Close",
    won: "Won",
    lost: "Lost",
    close_reason: "Reason",
    weighted: "Weighted",
    imports_title: "Imports",
    new_import: "Import leads",
    upload_file: "File (CSV or XLSX)",
    upload_hint: "The first row holds the headers. A CSV may be UTF-8 or GBK; at most 100 MiB.",
    upload: "Upload and preview",
    no_file: "Choose a CSV or XLSX file.",
    file_too_large: "The file is larger than the limit of 100 MiB: split it into smaller files.",
    bad_upload: "The file did not arrive completely; please try again.",
    mapping_title: "Column mapping",
    mapping_hint: "Choose the field each column goes to.",
    column: "Column",
    maps_to: "Goes to",
    ignore_column: "Not imported",
    preview_title: "Preview: the first rows checked under the proposed mapping",
    row: "Row",
    check_result: "Check",
    start_import: "Start import",
    no_imports: "No imports yet.",
    file_name: "File",
    state: "State",
    rows_done: "Rows done",
    imported: "Imported",
    skipped: "Skipped",
    failed: "Failed",
    warned: "Possible duplicates",
    warnings: "With data warnings",
    phone_unverified: "unverified",
    phone_unverified_hint: "An import could not read it as a phone number and kept it as entered; not used to find duplicates",
    country: "Default country",
    country_hint: "Phones of rows without a Country column, or with it empty, are read as this country's, such as US or United Kingdom; China when empty",
    error_report: "Download the row report (errors.csv)",
    refreshing: "The import is running; this page refreshes every 2 seconds.",
    back_to_imports: "Back to imports",
    nav_dashboard: "Dashboard",
    nav_reports: "Reports",
    dashboard_title: "Dashboard",
    range_from: "From",
    range_to: "To",
    show_range: "Show",
    leads_by_source: "Leads by source",
    total_leads: "Total leads",
    share: "Share",
    conversion_rate: "Conversion",
    funnel_title: "Funnel",
    of_first: "Of new leads",
    step_rate: "From previous step",
    speed_title: "Speed to lead",
    contacted: "Contacted",
    median_minutes: "Median (minutes)",
    within_hour: "Within 1 hour",
    no_owner_data: "No leads in this range.",
    targets_title: "Targets this month",
    target: "Target",
    actual: "Actual",
    attainment: "Attainment",
    download_csv: "Download CSV",
    more_reports: "All reports →",
    activities_report: "Follow-up activity",
    sales_cycle_report: "Sales cycle",
    channels_report: "Channel costs",
    no_data: "No data in this range.",
    nav_settings: "Settings",
    nav_profile: "Profile",
    codes: &[
        ("uploaded", "Not started"),
        ("running", "Running"),
        ("finished", "Finished"),
        ("failed", "Failed"),
        ("ok", "OK"),
        ("skipped", "Skipped"),
        ("imported", "Imported, possible duplicate"),
        ("warning", "Imported, data warning"),
        ("merged", "Merged"),
        ("metric:leads", "New leads"),
        ("metric:conversions", "Conversions"),
        ("metric:won_amount", "Won amount"),
        ("metric:activities", "Follow-ups"),
    ],

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
        ("disqualify_reason", "Why disqualified"),
        ("owner_id", "Owner"),
        ("score", "Score"),
        ("grade", "Grade"),
        ("industry", "Industry"),
        ("first_name", "First name"),
        ("last_name", "Last name"),
        ("province", "Province"),
        ("city", "City"),
        ("company_size", "Company size"),
        ("description", "Description"),
        ("external_id", "External id"),
        ("country", "Country"),
        ("is_converted", "Converted?"),
        ("converted_at", "Converted at"),
        ("disqualified_at", "Disqualified at"),
        ("converted_account_id", "Converted into account (external id)"),
        ("converted_contact_id", "Converted into contact (external id)"),
        ("converted_opportunity_id", "Converted into opportunity (external id)"),
        ("tags", "Tags"),
        ("reason", "Reason"),
        ("next_follow_up_at", "Next follow-up"),
        ("type", "Type"),
        ("outcome", "Outcome"),
        ("content", "Content"),
        ("from", "From"),
        ("to", "To"),
    ],
    channels: &[
        ("ui", "Web UI"),
        ("api", "API"),
        ("import", "Import"),
        ("rule", "Rule"),
        ("job", "Scheduled job"),
    ],
    messages: &[],
    patterns: &[],
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
        assert_eq!(zh.code("finished"), "已完成");
        let limit =
            "you hold 3 open leads from pool '华东 公海' and its limit is 3: you may claim 0 more";
        assert_eq!(
            zh.message(limit),
            "你持有公海「华东 公海」的 3 条未结束线索，上限是 3 条：还可以领取 0 条"
        );
        assert_eq!(texts("en").message(limit), limit);
        assert_eq!(zh.message("something else"), "something else");
        assert_eq!(
            zh.message("the lead is in a pool already"),
            "线索已经在公海里"
        );
        assert_eq!(texts("en").code("failed"), "Failed");
        assert_eq!(zh.code("paused"), "paused");
    }
}
