//! The strings of the settings pages, in Chinese (zh-CN, the default) and English, kept apart
//! from the rest of the UI's texts because these pages alone use them. Store messages that
//! only settings raise are translated here too, before falling back to the UI's own table.

use super::super::i18n::Texts;
use xiansuo_core::Invalid;

/// The settings pages' strings of one language.
pub(crate) struct SettingsTexts {
    pub settings_title: &'static str,
    pub settings_intro: &'static str,
    pub profile_title: &'static str,
    pub profile_intro: &'static str,
    pub users_title: &'static str,
    pub users_intro: &'static str,
    pub teams_title: &'static str,
    pub teams_intro: &'static str,
    pub fields_title: &'static str,
    pub fields_intro: &'static str,
    pub stages_title: &'static str,
    pub stages_intro: &'static str,
    pub tokens_title: &'static str,
    pub tokens_intro: &'static str,
    pub assignment_title: &'static str,
    pub assignment_intro: &'static str,
    pub rule_name: &'static str,
    pub conditions: &'static str,
    pub conditions_hint: &'static str,
    pub condition_field: &'static str,
    pub operator: &'static str,
    pub value: &'static str,
    pub target: &'static str,
    pub target_user: &'static str,
    pub target_team: &'static str,
    pub include_subteams: &'static str,
    pub target_members: &'static str,
    pub pool_id: &'static str,
    pub strategy: &'static str,
    pub fallback: &'static str,
    pub move_up: &'static str,
    pub move_down: &'static str,
    pub new_rule: &'static str,
    pub add_rule: &'static str,
    pub edit_rule: &'static str,
    pub no_rules: &'static str,
    pub every_lead: &'static str,
    pub webhooks_title: &'static str,
    pub webhooks_intro: &'static str,
    pub events: &'static str,
    pub all_events: &'static str,
    pub description: &'static str,
    pub secret: &'static str,
    pub secret_hint: &'static str,
    pub secret_once: &'static str,
    pub new_webhook: &'static str,
    pub add_webhook: &'static str,
    pub webhook_created: &'static str,
    pub no_webhooks: &'static str,
    pub state: &'static str,
    pub switched_on: &'static str,
    pub switched_off: &'static str,
    pub active_hint: &'static str,
    pub failures: &'static str,
    pub send_test: &'static str,
    pub delivery_log: &'static str,
    pub no_deliveries: &'static str,
    pub event: &'static str,
    pub attempts: &'static str,
    pub answer: &'static str,
    pub redeliver: &'static str,

    pub saved: &'static str,
    pub display_name: &'static str,
    pub email: &'static str,
    pub language: &'static str,
    pub time_zone: &'static str,
    pub time_zone_hint: &'static str,
    pub role: &'static str,
    pub team: &'static str,
    pub no_team: &'static str,
    pub change_password: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub confirm_password: &'static str,
    pub password_hint: &'static str,
    pub passwords_differ: &'static str,
    pub password_changed: &'static str,
    pub notifications_note: &'static str,

    pub new_user: &'static str,
    pub create_user: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub inactive: &'static str,
    pub mask_phones: &'static str,
    pub mask_phones_hint: &'static str,
    pub edit_user: &'static str,
    pub deactivate: &'static str,
    pub reactivate: &'static str,
    pub reset_password: &'static str,
    pub reset_password_hint: &'static str,
    pub availability: &'static str,
    pub availability_hint: &'static str,
    pub away_until: &'static str,
    pub away_now: &'static str,
    pub max_open_leads: &'static str,
    pub daily_cap: &'static str,
    pub open_leads: &'static str,
    pub assigned_today: &'static str,
    pub no_limit: &'static str,
    pub back_to_users: &'static str,
    pub user_created: &'static str,
    pub manager_note: &'static str,

    pub new_team: &'static str,
    pub add_team: &'static str,
    pub team_name: &'static str,
    pub parent_team: &'static str,
    pub top_level: &'static str,
    pub team_kind: &'static str,
    pub members: &'static str,
    pub no_teams: &'static str,

    pub object: &'static str,
    pub key: &'static str,
    pub key_hint: &'static str,
    pub label: &'static str,
    pub field_type: &'static str,
    pub options: &'static str,
    pub options_hint: &'static str,
    pub required: &'static str,
    pub required_hint: &'static str,
    pub position: &'static str,
    pub position_hint: &'static str,
    pub new_field: &'static str,
    pub add_field: &'static str,
    pub edit_field: &'static str,
    pub no_fields: &'static str,
    pub fixed_after_creation: &'static str,
    pub delete: &'static str,
    pub delete_field: &'static str,
    pub delete_field_effect: &'static str,
    pub records_holding: &'static str,
    pub confirm_delete: &'static str,
    pub field_deleted: &'static str,
    pub back_to_fields: &'static str,

    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub probability: &'static str,
    pub stage_kind: &'static str,
    pub stage_active_hint: &'static str,
    pub new_stage: &'static str,
    pub add_stage: &'static str,

    pub token_name: &'static str,
    pub scope: &'static str,
    pub new_token: &'static str,
    pub create_token: &'static str,
    pub token_created: &'static str,
    pub token_once: &'static str,
    pub revoke: &'static str,
    pub revoked: &'static str,
    pub no_tokens: &'static str,
    pub created: &'static str,

    /// Codes (roles, team kinds, field types, record types, stage kinds, scopes) → labels.
    codes: &'static [(&'static str, &'static str)],
    /// Store messages → this language.
    messages: &'static [(&'static str, &'static str)],
    /// Store messages quoting values: the English with `{}`, this language's with `{0}`, `{1}`.
    patterns: &'static [(&'static str, &'static str)],
}

impl SettingsTexts {
    /// The label of a code; unknown codes show themselves.
    pub fn code<'a>(&self, code: &'a str) -> &'a str {
        lookup(self.codes, code).unwrap_or(code)
    }

    /// A store message in this language when a translation is known.
    pub fn message(&self, t: &Texts, message: &str) -> String {
        if let Some(known) = lookup(self.messages, message) {
            return known.to_owned();
        }
        for (english, ours) in self.patterns {
            if let Some(values) = captures(english, message) {
                return values
                    .iter()
                    .enumerate()
                    .fold((*ours).to_owned(), |text, (i, value)| {
                        text.replace(&format!("{{{i}}}"), value)
                    });
            }
        }
        t.message(message)
    }

    /// What is wrong with a value, to show next to its field.
    pub fn invalid(&self, t: &Texts, invalid: &Invalid) -> String {
        let ours = self.message(t, &invalid.message);
        if ours != invalid.message {
            ours
        } else {
            t.invalid(invalid)
        }
    }
}

fn lookup(table: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The values in `message` where `template` has `{}`, if the message has its wording.
fn captures<'m>(template: &str, message: &'m str) -> Option<Vec<&'m str>> {
    let mut pieces = template.split("{}");
    let mut rest = message.strip_prefix(pieces.next()?)?;
    let pieces: Vec<&str> = pieces.collect();
    let mut values = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let end = if i + 1 == pieces.len() {
            rest.strip_suffix(piece).map(str::len)?
        } else {
            rest.find(piece)?
        };
        values.push(&rest[..end]);
        rest = &rest[end + piece.len()..];
    }
    (!pieces.is_empty() || rest.is_empty()).then_some(values)
}

/// The settings texts for a user's locale (`zh` or `en`); anything else gets Chinese.
pub(crate) fn settings_texts(locale: &str) -> &'static SettingsTexts {
    if locale == "en" {
        &EN
    } else {
        &ZH
    }
}

static ZH: SettingsTexts = SettingsTexts {
    settings_title: "设置",
    settings_intro: "管理员在这里配置人员、数据模型和集成。每项修改与 API 走同样的检查。",
    profile_title: "个人设置",
    profile_intro: "你的姓名、语言、时区和密码。",
    users_title: "用户",
    users_intro: "创建用户，设置角色、团队、手机号隐藏、外出和分配上限，停用离职人员。",
    teams_title: "组织架构",
    teams_intro: "总部 → 区域 → 分公司 → 团队。经理能看到自己团队及下级团队的数据。",
    fields_title: "自定义字段",
    fields_intro: "线索、客户、联系人和销售机会上的自定义字段。",
    stages_title: "销售阶段",
    stages_intro: "销售机会经过的阶段和各阶段的赢单概率。停用的阶段不再可选，已在该阶段的机会不受影响。",
    tokens_title: "API 令牌",
    tokens_intro: "其他系统用 API 令牌访问线索。只读令牌不能修改任何数据。",
    assignment_title: "分配规则",
    assignment_intro: "新线索没有指定负责人时，按顺序尝试这些规则：第一条匹配并能分配的规则生效。用“上移”“下移”调整顺序。",
    rule_name: "规则名称",
    conditions: "条件（全部满足）",
    conditions_hint: "字段如 source、province、region、score、tier、custom.预算键；不填条件表示所有线索。“包含于”的值用逗号分隔。",
    condition_field: "字段",
    operator: "运算",
    value: "值",
    target: "分配给",
    target_user: "用户",
    target_team: "团队",
    include_subteams: "包括下级团队",
    target_members: "成员",
    pool_id: "公海编号",
    strategy: "分配方式",
    fallback: "没人能接时",
    move_up: "上移",
    move_down: "下移",
    new_rule: "新建分配规则",
    add_rule: "添加规则",
    edit_rule: "编辑分配规则",
    no_rules: "还没有分配规则：新线索归创建人所有。",
    every_lead: "所有线索",
    webhooks_title: "Webhook",
    webhooks_intro: "线索、客户和销售机会发生变化时，把事件推送到其他系统。每次推送都用密钥签名（HMAC-SHA256），失败会按退避时间重试。",
    events: "事件",
    all_events: "全部事件",
    description: "说明",
    secret: "签名密钥",
    secret_hint: "16 到 200 个字符；留空则自动生成",
    secret_once: "签名密钥只显示这一次，请复制到接收方：",
    new_webhook: "新建 Webhook",
    add_webhook: "添加 Webhook",
    webhook_created: "Webhook 已创建",
    no_webhooks: "还没有 Webhook。",
    state: "状态",
    switched_on: "启用",
    switched_off: "已停用",
    active_hint: "连续失败过多时会自动停用；重新启用会清零失败次数",
    failures: "连续失败",
    send_test: "发送测试",
    delivery_log: "推送记录",
    no_deliveries: "还没有推送记录。",
    event: "事件",
    attempts: "尝试次数",
    answer: "响应",
    redeliver: "重新推送",

    saved: "已保存。",
    display_name: "显示名称",
    email: "邮箱",
    language: "语言",
    time_zone: "时区",
    time_zone_hint: "IANA 时区名，例如 Asia/Shanghai",
    role: "角色",
    team: "团队",
    no_team: "无团队",
    change_password: "修改密码",
    current_password: "当前密码",
    new_password: "新密码",
    confirm_password: "确认新密码",
    password_hint: "至少 8 个字符",
    passwords_differ: "两次输入的新密码不一致",
    password_changed: "密码已修改。",
    notifications_note: "通知显示在顶栏的“通知”里；配置了邮件服务器时，每小时把未读通知汇总发到你的邮箱。",

    new_user: "新建用户",
    create_user: "创建用户",
    username: "用户名",
    password: "初始密码",
    inactive: "已停用",
    mask_phones: "隐藏手机号",
    mask_phones_hint: "该用户看到的手机号显示为 138****5678",
    edit_user: "编辑用户",
    deactivate: "停用",
    reactivate: "重新启用",
    reset_password: "重置密码",
    reset_password_hint: "为该用户设置新密码，并告诉他本人。",
    availability: "外出与分配上限",
    availability_hint: "外出期间分配规则跳过该用户；上限留空表示不限。",
    away_until: "外出至",
    away_now: "外出中",
    max_open_leads: "最多未结束线索",
    daily_cap: "每天最多分配",
    open_leads: "未结束线索",
    assigned_today: "今天已分配",
    no_limit: "不限",
    back_to_users: "返回用户列表",
    user_created: "用户已创建。",
    manager_note: "经理的下属由组织架构决定：经理能看到所在团队及下级团队所有人的数据。",

    new_team: "新建团队",
    add_team: "添加",
    team_name: "名称",
    parent_team: "上级",
    top_level: "（顶级）",
    team_kind: "类型",
    members: "成员",
    no_teams: "还没有团队。",

    object: "对象",
    key: "字段键",
    key_hint: "小写字母、数字和下划线，以字母开头，创建后不能修改",
    label: "显示名称",
    field_type: "类型",
    options: "选项",
    options_hint: "每行一个选项，仅用于单选和多选",
    required: "必填",
    required_hint: "必填字段在每次创建和修改记录时都要有值",
    position: "顺序",
    position_hint: "数字小的排在前面",
    new_field: "新建自定义字段",
    add_field: "添加字段",
    edit_field: "编辑自定义字段",
    no_fields: "还没有自定义字段。",
    fixed_after_creation: "对象、字段键和类型在创建后不能修改，因为记录按字段键保存值。",
    delete: "删除",
    delete_field: "删除自定义字段",
    delete_field_effect: "删除后，页面、筛选、规则和导入都不再使用这个字段，也不再检查它。记录里已保存的值不会被删除，仍保留在记录数据和修改历史中；以后用相同字段键和类型重新创建字段，这些值会重新显示。",
    records_holding: "条记录有这个字段的值",
    confirm_delete: "确认删除",
    field_deleted: "自定义字段已删除。",
    back_to_fields: "返回自定义字段",

    code: "代码",
    name_zh: "中文名称",
    name_en: "英文名称",
    probability: "赢单概率 %",
    stage_kind: "类型",
    stage_active_hint: "启用",
    new_stage: "新建阶段",
    add_stage: "添加阶段",

    token_name: "名称",
    scope: "权限",
    new_token: "新建令牌",
    create_token: "创建令牌",
    token_created: "令牌已创建",
    token_once: "请现在复制保存，离开页面后不会再显示：",
    revoke: "撤销",
    revoked: "已撤销",
    no_tokens: "还没有 API 令牌。",
    created: "创建时间",

    codes: &[
        ("admin", "管理员"),
        ("manager", "销售经理"),
        ("rep", "销售"),
        ("headquarters", "总部"),
        ("region", "区域"),
        ("branch", "分公司"),
        ("team", "团队"),
        ("text", "文本"),
        ("number", "数字"),
        ("date", "日期"),
        ("single_select", "单选"),
        ("multi_select", "多选"),
        ("boolean", "是/否"),
        ("lead", "线索"),
        ("account", "客户"),
        ("contact", "联系人"),
        ("opportunity", "销售机会"),
        ("open", "进行中"),
        ("won", "赢单"),
        ("lost", "输单"),
        ("read_only", "只读"),
        ("pending", "等待中"),
        ("user", "一个用户"),
        ("members", "几位成员"),
        ("queue", "公海"),
        ("round_robin", "轮流"),
        ("weighted", "按权重"),
        ("least_loaded", "负载最少"),
        ("next_rule", "试下一条规则"),
        ("default", "交给默认接收人"),
        ("op:eq", "等于"),
        ("op:ne", "不等于"),
        ("op:in", "包含于"),
        ("op:contains", "含有"),
        ("op:gt", "大于"),
        ("op:gte", "大于等于"),
        ("op:lt", "小于"),
        ("op:lte", "小于等于"),
        ("op:exists", "有值"),
        ("succeeded", "成功"),
        ("failed", "失败"),
        ("read_write", "读写"),
        ("token:admin", "管理员（全部权限）"),
    ],
    messages: &[
        ("is not your current password", "不是你当前的密码"),
        ("must be at least 8 characters", "至少 8 个字符"),
        ("is required and must be a string", "必填"),
        (
            "must be 2–64 letters, digits, '.', '_', '-' or '@'",
            "2 到 64 个字母、数字或 . _ - @",
        ),
        (
            "a select field needs at least one option",
            "单选和多选字段至少需要一个选项",
        ),
        ("only select fields have options", "只有单选和多选字段有选项"),
        (
            "must be an http:// or https:// URL with a host, such as https://example.com/hooks/xiansuo",
            "请填写以 http:// 或 https:// 开头的完整网址，例如 https://example.com/hooks/xiansuo",
        ),
        (
            "this delivery is still pending; its next attempt is already queued",
            "这条推送还在等待中，下一次尝试已经排好了",
        ),
        (
            "must be a whole number from 0 to 1000000",
            "请填写 0 到 1000000 之间的整数",
        ),
        (
            "must be a whole number from 0 to 1000000, or null",
            "请填写 0 到 1000000 之间的整数，或留空",
        ),
        (
            "must be a whole number from 0 to 100",
            "请填写 0 到 100 之间的整数",
        ),
        ("a team cannot be placed below itself", "团队不能放到自己或自己的下级下面"),
        (
            "must be an RFC 3339 time, or null",
            "请填写有效的日期和时间，或留空",
        ),
        (
            "this is the last active admin: make another user an admin before changing role",
            "这是最后一个启用的管理员：请先把另一个用户设为管理员，再修改这个用户的角色",
        ),
        (
            "this is the last active admin: make another user an admin before changing active",
            "这是最后一个启用的管理员：请先把另一个用户设为管理员，再停用这个用户",
        ),
    ],
    patterns: &[
        ("the username '{}' is taken", "用户名「{0}」已被占用"),
        ("a team named '{}' exists", "已有名为「{0}」的团队"),
        ("{} already has a custom field '{}'", "该对象已有字段键为「{1}」的自定义字段"),
        ("a pipeline stage with the code '{}' exists", "已有代码为「{0}」的阶段"),
        (
            "'{}' is not an IANA time zone such as Asia/Shanghai",
            "「{0}」不是有效的时区，例如 Asia/Shanghai",
        ),
        ("'{}' is listed twice", "「{0}」重复了"),
        (
            "must be a non-empty list of events: {}",
            "请至少选择一个事件",
        ),
        (
            "'{}' is not a field key: start with a-z, then a-z, 0-9 or _ (at most 40)",
            "「{0}」不是有效的字段键：以小写字母开头，只用小写字母、数字和下划线，最多 40 个字符",
        ),
        (
            "'{}' is not a stage code: start with a-z, then a-z, 0-9 or _ (at most 40)",
            "「{0}」不是有效的阶段代码：以小写字母开头，只用小写字母、数字和下划线，最多 40 个字符",
        ),
        (
            "the pipeline needs an active {} stage; this change would leave none",
            "每种类型至少要有一个启用的阶段，这次修改会让“{0}”类型一个都不剩",
        ),
        (
            "the stage '{}' holds opportunities, so its kind cannot change",
            "阶段「{0}」里有销售机会，不能修改它的类型",
        ),
    ],
};

static EN: SettingsTexts = SettingsTexts {
    settings_title: "Settings",
    settings_intro: "Where an admin sets up people, the data model and integrations. Every change passes the same checks as the API.",
    profile_title: "Profile",
    profile_intro: "Your name, language, time zone and password.",
    users_title: "Users",
    users_intro: "Create users, set their role, team, phone masking, absence and assignment caps, and deactivate those who leave.",
    teams_title: "Org tree",
    teams_intro: "Headquarters → regions → branches → teams. A manager sees the data of their team and the teams below it.",
    fields_title: "Custom fields",
    fields_intro: "Custom fields on leads, accounts, contacts and opportunities.",
    stages_title: "Pipeline stages",
    stages_intro: "The stages opportunities move through, with their win probabilities. An inactive stage can no longer be chosen; deals already at it stay.",
    tokens_title: "API tokens",
    tokens_intro: "Other systems reach Xiansuo with API tokens. A read-only token cannot change anything.",
    assignment_title: "Assignment rules",
    assignment_intro: "When a new lead names no owner, these rules are tried in order: the first that matches and can place the lead wins. Move them with Up and Down.",
    rule_name: "Rule name",
    conditions: "Conditions (all must hold)",
    conditions_hint: "Fields such as source, province, region, score, tier, custom.KEY; no condition means every lead. Separate the values of “in” with commas.",
    condition_field: "Field",
    operator: "Operator",
    value: "Value",
    target: "Assign to",
    target_user: "User",
    target_team: "Team",
    include_subteams: "Include the teams below",
    target_members: "Members",
    pool_id: "Pool id",
    strategy: "Strategy",
    fallback: "When nobody can take it",
    move_up: "Up",
    move_down: "Down",
    new_rule: "New assignment rule",
    add_rule: "Add rule",
    edit_rule: "Edit assignment rule",
    no_rules: "No assignment rules: new leads stay with their creator.",
    every_lead: "every lead",
    webhooks_title: "Webhooks",
    webhooks_intro: "Events sent to other systems when leads, accounts and opportunities change. Each delivery is signed with the secret (HMAC-SHA256) and retried with backoff when it fails.",
    events: "Events",
    all_events: "All events",
    description: "Description",
    secret: "Signing secret",
    secret_hint: "16 to 200 characters; leave empty to have one generated",
    secret_once: "The signing secret is shown only this once; copy it to the receiver:",
    new_webhook: "New webhook",
    add_webhook: "Add webhook",
    webhook_created: "Webhook created",
    no_webhooks: "No webhooks yet.",
    state: "State",
    switched_on: "Active",
    switched_off: "Switched off",
    active_hint: "Switched off after too many failures in a row; switching it on again clears them",
    failures: "Failures in a row",
    send_test: "Send a test",
    delivery_log: "Delivery log",
    no_deliveries: "No deliveries yet.",
    event: "Event",
    attempts: "Attempts",
    answer: "Answer",
    redeliver: "Send again",

    saved: "Saved.",
    display_name: "Display name",
    email: "Email",
    language: "Language",
    time_zone: "Time zone",
    time_zone_hint: "An IANA time zone, such as Asia/Shanghai",
    role: "Role",
    team: "Team",
    no_team: "No team",
    change_password: "Change password",
    current_password: "Current password",
    new_password: "New password",
    confirm_password: "Confirm new password",
    password_hint: "At least 8 characters",
    passwords_differ: "The two new passwords differ",
    password_changed: "Your password was changed.",
    notifications_note: "Notifications appear under Notifications in the top bar; when outgoing mail is set up, unread ones are also emailed to you as an hourly digest.",

    new_user: "New user",
    create_user: "Create user",
    username: "Username",
    password: "First password",
    inactive: "Deactivated",
    mask_phones: "Mask phone numbers",
    mask_phones_hint: "This user sees phone numbers as 138****5678",
    edit_user: "Edit user",
    deactivate: "Deactivate",
    reactivate: "Reactivate",
    reset_password: "Reset password",
    reset_password_hint: "Set a new password for this user, and tell them.",
    availability: "Absence and assignment caps",
    availability_hint: "Assignment rules skip a user while they are away; leave a cap empty for no limit.",
    away_until: "Away until",
    away_now: "Away",
    max_open_leads: "Most open leads",
    daily_cap: "Most assigned a day",
    open_leads: "Open leads",
    assigned_today: "Assigned today",
    no_limit: "No limit",
    back_to_users: "Back to users",
    user_created: "The user was created.",
    manager_note: "A manager's people follow from the org tree: a manager sees the data of everyone in their team and the teams below it.",

    new_team: "New team",
    add_team: "Add",
    team_name: "Name",
    parent_team: "Parent",
    top_level: "(top level)",
    team_kind: "Kind",
    members: "Members",
    no_teams: "No teams yet.",

    object: "Object",
    key: "Key",
    key_hint: "Lower-case letters, digits and _, starting with a letter; fixed once created",
    label: "Label",
    field_type: "Type",
    options: "Options",
    options_hint: "One option a line; single and multi select only",
    required: "Required",
    required_hint: "A required field must have a value on every create and change of a record",
    position: "Order",
    position_hint: "Lower numbers come first",
    new_field: "New custom field",
    add_field: "Add field",
    edit_field: "Edit custom field",
    no_fields: "No custom fields yet.",
    fixed_after_creation: "The object, key and type are fixed once created, since records store values under the key.",
    delete: "Delete",
    delete_field: "Delete custom field",
    delete_field_effect: "Once deleted, no page, filter, rule or import uses or checks this field. The values records hold are not erased: they stay in the records' data and history, and a new field with the same key and type shows them again.",
    records_holding: "records hold a value for this field",
    confirm_delete: "Delete",
    field_deleted: "The custom field was deleted.",
    back_to_fields: "Back to custom fields",

    code: "Code",
    name_zh: "Chinese name",
    name_en: "English name",
    probability: "Win probability %",
    stage_kind: "Kind",
    stage_active_hint: "Active",
    new_stage: "New stage",
    add_stage: "Add stage",

    token_name: "Name",
    scope: "Scope",
    new_token: "New token",
    create_token: "Create token",
    token_created: "Token created",
    token_once: "Copy it now; it will not be shown again:",
    revoke: "Revoke",
    revoked: "Revoked",
    no_tokens: "No API tokens yet.",
    created: "Created",

    codes: &[
        ("admin", "Admin"),
        ("manager", "Manager"),
        ("rep", "Sales rep"),
        ("headquarters", "Headquarters"),
        ("region", "Region"),
        ("branch", "Branch"),
        ("team", "Team"),
        ("text", "Text"),
        ("number", "Number"),
        ("date", "Date"),
        ("single_select", "Single select"),
        ("multi_select", "Multi select"),
        ("boolean", "Yes/no"),
        ("lead", "Lead"),
        ("account", "Account"),
        ("contact", "Contact"),
        ("opportunity", "Opportunity"),
        ("open", "Open"),
        ("won", "Won"),
        ("lost", "Lost"),
        ("read_only", "Read-only"),
        ("pending", "Pending"),
        ("user", "A user"),
        ("members", "Members"),
        ("queue", "A public pool"),
        ("round_robin", "Round robin"),
        ("weighted", "Weighted"),
        ("least_loaded", "Least loaded"),
        ("next_rule", "Try the next rule"),
        ("default", "The default receiver"),
        ("op:eq", "is"),
        ("op:ne", "is not"),
        ("op:in", "is one of"),
        ("op:contains", "contains"),
        ("op:gt", ">"),
        ("op:gte", "≥"),
        ("op:lt", "<"),
        ("op:lte", "≤"),
        ("op:exists", "has a value"),
        ("succeeded", "Succeeded"),
        ("failed", "Failed"),
        ("read_write", "Read-write"),
        ("token:admin", "Admin (everything)"),
    ],
    messages: &[],
    patterns: &[],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::texts;

    #[test]
    fn store_messages_of_settings_are_translated_with_their_values() {
        let (zh, t) = (settings_texts("zh"), texts("zh"));
        assert_eq!(
            zh.message(t, "the username 'li.lei' is taken"),
            "用户名「li.lei」已被占用"
        );
        assert_eq!(
            zh.invalid(
                t,
                &Invalid::new("current_password", "is not your current password")
            ),
            "不是你当前的密码"
        );
        assert_eq!(
            zh.invalid(t, &Invalid::new("name", "must not be empty")),
            "不能为空"
        );
        let en = settings_texts("en");
        assert_eq!(
            en.message(texts("en"), "the username 'li.lei' is taken"),
            "the username 'li.lei' is taken"
        );
        assert_eq!(zh.code("single_select"), "单选");
        assert_eq!(en.code("something"), "something");
    }
}
