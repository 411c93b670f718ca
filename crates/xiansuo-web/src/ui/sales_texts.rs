//! The strings of the sales workspace pages (conversion and its undo, accounts, contacts,
//! opportunities, handover, my day) in Chinese (zh-CN, the default) and English. Kept beside
//! [`super::i18n`] in a struct of their own so that these pages can grow without touching the
//! shared one; a missing translation is a compile error here too.

/// The sales workspace strings of one language.
pub struct SalesTexts {
    pub convert_title: &'static str,
    pub convert_intro: &'static str,
    pub convert: &'static str,
    pub account: &'static str,
    pub new_account_will_be_created: &'static str,
    pub matching_accounts_intro: &'static str,
    pub open: &'static str,
    pub contact: &'static str,
    pub contact_from_lead: &'static str,
    pub edit_lead_first: &'static str,
    pub opportunity: &'static str,
    pub create_opportunity: &'static str,
    pub opportunity_name: &'static str,
    pub amount: &'static str,
    pub amount_hint: &'static str,
    pub stage: &'static str,
    pub expected_close_date: &'static str,
    /// The checklist is not met: `{0}` the checklist, `{1}` the missing items.
    pub checklist_unmet: &'static str,
    pub converted_into: &'static str,
    pub converted_notice: &'static str,
    pub undo_conversion: &'static str,
    pub undo_hint: &'static str,
    pub conversion_undone: &'static str,

    pub record_name: &'static str,
    pub score_title: &'static str,
    pub no_score_rules: &'static str,
    pub tier: &'static str,
    pub tier_high: &'static str,
    pub tier_medium: &'static str,
    pub tier_low: &'static str,
    pub custom_fields_title: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub checklist_title: &'static str,
    pub required_item: &'static str,
    pub checklist_complete: &'static str,
    pub save_checklist: &'static str,
    pub save_and_qualify: &'static str,
    pub tick_checklist_first: &'static str,
    pub change_owner: &'static str,
    pub new_owner: &'static str,
    pub owner_changed: &'static str,
    pub accounts_title: &'static str,
    pub contacts_title: &'static str,
    pub opportunities_title: &'static str,
    pub records_count: &'static str,
    pub search_records: &'static str,
    pub nothing_yet: &'static str,
    pub nothing_found: &'static str,
    pub result: &'static str,
    pub result_open: &'static str,
    pub result_won: &'static str,
    pub result_lost: &'static str,
    pub probability: &'static str,
    pub close_reason: &'static str,
    pub converted_from: &'static str,
    pub website: &'static str,
    pub company_size: &'static str,
    pub wechat: &'static str,
    pub rfm_title: &'static str,
    pub won_amount: &'static str,
    pub won_deals: &'static str,
    pub last_won: &'static str,
    pub rfm_scores: &'static str,
    pub customer_class: &'static str,
    pub no_won_deals: &'static str,
    pub a_class: &'static str,
    /// `{0}` the class letter.
    class_n: &'static str,
    pub activities_title: &'static str,
    pub from_lead: &'static str,

    pub handover_title: &'static str,
    pub handover_intro: &'static str,
    pub handover_from: &'static str,
    pub handover_to: &'static str,
    pub handover_types: &'static str,
    pub handover_submit: &'static str,
    pub choose_person: &'static str,
    pub choose_person_error: &'static str,
    pub choose_types_error: &'static str,
    pub inactive: &'static str,
    /// `{0}` how many records, `{1}` how many of each type.
    pub handed_over: &'static str,
    handover_forbidden: &'static str,
    outside_scope: &'static str,

    pub my_day_title: &'static str,
    pub my_day_intro: &'static str,
    pub my_day_team_intro: &'static str,
    pub overdue: &'static str,
    pub due_today: &'static str,
    pub due_follow_ups: &'static str,
    pub no_due_follow_ups: &'static str,
    pub new_assignments: &'static str,
    pub no_new_assignments: &'static str,
    pub sla_warnings: &'static str,
    pub no_sla_warnings: &'static str,
    pub about_to_recycle: &'static str,
    pub nothing_to_recycle: &'static str,
    pub pool_to_claim: &'static str,
    pub nothing_to_claim: &'static str,
    pub whole_pool: &'static str,

    /// Labels of the lead fields only rules and jobs set, by field name.
    history_fields: &'static [(&'static str, &'static str)],
    /// Words for history actions other than field changes, by action.
    history_actions: &'static [(&'static str, &'static str)],
    /// The store's refusals of a conversion or its undo, in this language.
    messages: &'static [(&'static str, &'static str)],
}

impl SalesTexts {
    /// The label of a field of the opportunity on the conversion form.
    pub fn opportunity_field(&self, field: &str) -> Option<&'static str> {
        match field {
            "name" => Some(self.opportunity_name),
            "amount" => Some(self.amount),
            "stage" => Some(self.stage),
            "expected_close_date" => Some(self.expected_close_date),
            _ => None,
        }
    }

    /// The label of a potential (tier) code; unknown codes show themselves.
    pub fn tier_label(&self, code: &str) -> String {
        match code {
            "high" => self.tier_high,
            "medium" => self.tier_medium,
            "low" => self.tier_low,
            other => other,
        }
        .to_owned()
    }

    /// The label of a lead field that only rules and jobs set, for the history; a checklist
    /// tick (`qualification.KEY`) names its item; anything else shows itself.
    pub fn history_field(&self, field: &str) -> String {
        if let Some(item) = field
            .strip_prefix("qualification.")
            .filter(|i| *i != "checklist_id")
        {
            return format!("{}: {item}", self.checklist_title);
        }
        lookup(self.history_fields, field).map_or_else(|| field.to_owned(), str::to_owned)
    }

    /// A refusal of the store about a conversion in this language where its wording is known
    /// (`the lead is already converted (account 12)` by its beginning).
    pub fn store_message(&self, message: &str) -> String {
        let key = message
            .split_once(" (account")
            .map_or(message, |(start, _)| start);
        lookup(self.messages, key).map_or_else(|| message.to_owned(), str::to_owned)
    }

    /// The words for a history action other than a field change; `None` when unknown.
    pub fn history_action(&self, action: &str) -> Option<&'static str> {
        lookup(self.history_actions, action)
    }

    /// "A 类客户" for class `A`.
    pub fn class_label(&self, class: &str) -> String {
        self.class_n.replace("{0}", class)
    }

    /// A refusal of the store in this language where its wording is known.
    pub fn forbidden_message(&self, message: &str) -> String {
        if message.starts_with("only an admin or a manager may hand over") {
            self.handover_forbidden.to_owned()
        } else if message.contains("outside your data scope") || message.contains("outside it") {
            self.outside_scope.to_owned()
        } else {
            message.to_owned()
        }
    }
}

fn lookup(table: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The sales workspace strings for a user's locale (`zh` or `en`); anything else gets Chinese.
pub fn sales_texts(locale: &str) -> &'static SalesTexts {
    if locale == "en" {
        &EN
    } else {
        &ZH
    }
}

static ZH: SalesTexts = SalesTexts {
    convert_title: "转化线索",
    convert_intro: "一次完成：关联或新建客户，按线索信息新建联系人，可选新建销售机会。转化后线索只能查看；转错了可以撤销。",
    convert: "转化",
    account: "客户",
    new_account_will_be_created: "没有匹配的客户，将新建客户：",
    matching_accounts_intro: "以下客户与线索的公司相同，线索将关联到所选客户：",
    open: "查看",
    contact: "联系人",
    contact_from_lead: "联系人将按线索的姓名、职位、电话和邮箱新建。",
    edit_lead_first: "先修改线索",
    opportunity: "销售机会",
    create_opportunity: "同时新建销售机会",
    opportunity_name: "机会名称",
    amount: "金额（元）",
    amount_hint: "例如 120000 或 12,000.50",
    stage: "阶段",
    expected_close_date: "预计成交日期",
    checklist_unmet: "线索尚未鉴定：鉴定清单「{0}」的必填项未完成：{1}",
    converted_into: "已转化为",
    converted_notice: "线索已转化。",
    undo_conversion: "撤销转化",
    undo_hint: "转化产生的客户、联系人和销售机会如未被其他记录使用将被归档，线索恢复到转化前的状态，历史记录两者都保留。",
    conversion_undone: "已撤销转化，线索已恢复。",

    record_name: "名称",
    score_title: "评分明细",
    no_score_rules: "没有评分规则命中这条线索",
    tier: "潜力",
    tier_high: "高",
    tier_medium: "中",
    tier_low: "低",
    custom_fields_title: "自定义字段",
    yes: "是",
    no: "否",
    checklist_title: "鉴定清单",
    required_item: "必选项",
    checklist_complete: "已完成",
    save_checklist: "保存勾选",
    save_and_qualify: "保存并标记为已鉴定",
    tick_checklist_first: "鉴定清单的必选项还没有全部勾选：请先在线索页的鉴定清单中勾选",
    change_owner: "转移负责人",
    new_owner: "新负责人",
    owner_changed: "负责人已转移。",
    accounts_title: "客户",
    contacts_title: "联系人",
    opportunities_title: "销售机会",
    records_count: "条",
    search_records: "按名称或电话搜索",
    nothing_yet: "还没有记录",
    nothing_found: "没有符合条件的记录",
    result: "结果",
    result_open: "进行中",
    result_won: "赢单",
    result_lost: "输单",
    probability: "赢率",
    close_reason: "赢单/输单原因",
    converted_from: "来源线索",
    website: "网站",
    company_size: "员工人数",
    wechat: "微信",
    rfm_title: "客户价值（RFM）",
    won_amount: "成交金额",
    won_deals: "成交次数",
    last_won: "最近成交",
    rfm_scores: "RFM 评分",
    customer_class: "客户分类",
    no_won_deals: "暂无成交",
    a_class: "A 类客户",
    class_n: "{0} 类客户",
    activities_title: "跟进记录",
    from_lead: "来自线索",

    handover_title: "资源移交",
    handover_intro: "把离职或调岗销售名下的全部线索、客户、联系人和销售机会移交给另一位同事（个人资源 → 公司资源），历史记录保留。仅管理员和销售经理可用。",
    handover_from: "移交人",
    handover_to: "接收人",
    handover_types: "移交内容",
    handover_submit: "移交",
    choose_person: "请选择",
    choose_person_error: "请选择一位数据权限范围内的在职同事",
    choose_types_error: "请至少勾选一类记录",
    inactive: "已停用",
    handed_over: "已移交 {0} 条记录：{1}",
    handover_forbidden: "只有管理员和销售经理可以移交资源",
    outside_scope: "该同事不在你的数据权限范围内",

    my_day_title: "今日待办",
    my_day_intro: "今天要做的事：到期和逾期的跟进、新分配的线索、SLA 提醒、即将被收回公海的线索，以及可以领取的公海线索。",
    my_day_team_intro: "你和团队今天要做的事：到期和逾期的跟进、新分配的线索、SLA 提醒、即将被收回公海的线索，以及可以领取的公海线索。",
    overdue: "已逾期",
    due_today: "今日到期",
    due_follow_ups: "待跟进",
    no_due_follow_ups: "今天没有到期的跟进",
    new_assignments: "新分配",
    no_new_assignments: "最近三天没有新分配的线索",
    sla_warnings: "SLA 提醒",
    no_sla_warnings: "没有 SLA 提醒",
    about_to_recycle: "即将收回公海",
    nothing_to_recycle: "没有即将收回公海的线索",
    pool_to_claim: "可领取的公海线索",
    nothing_to_claim: "公海里暂时没有你可以领取的线索",
    whole_pool: "查看公海",
    history_fields: &[
        ("tier", "潜力"),
        ("protected_until", "保护期至"),
        ("assigned_at", "分配时间"),
        ("pool_id", "所在公海"),
        ("pooled_at", "进入公海时间"),
        ("last_activity_at", "最近跟进"),
        ("urgency", "紧急程度"),
        ("demand_stage", "需求阶段"),
        ("campaign", "市场活动"),
        ("merged_into", "合并到"),
        ("converted_account_id", "转化的客户"),
        ("converted_contact_id", "转化的联系人"),
        ("converted_opportunity_id", "转化的销售机会"),
        ("converted_at", "转化时间"),
        ("qualification.checklist_id", "鉴定清单"),
    ],
    history_actions: &[
        ("convert", "转化了线索"),
        ("convert_undo", "撤销了转化"),
        ("merge", "合并了线索"),
        ("merged", "把线索合并到了另一条线索"),
        ("unmerge", "撤销了合并"),
        ("merge_new", "把新线索并入了本线索"),
        ("attachment", "添加了附件"),
        ("attachment_delete", "删除了附件"),
        ("activity_comment", "点评了跟进记录"),
        ("sla_breach", "触发了 SLA 规则"),
        ("event", "记录了行为事件"),
        ("erase", "删除了个人信息"),
    ],
    messages: &[
        ("the lead is not converted, so there is no conversion to undo", "这条线索没有转化，无需撤销（可能已经撤销过了）"),
        ("only the lead's owner, a manager or an admin may undo its conversion", "只有线索负责人、销售经理或管理员可以撤销转化"),
        ("the lead is already converted", "这条线索已经转化过了"),
        ("a disqualified lead cannot be converted; change its status first", "无效线索不能转化，请先修改它的状态"),
    ],
};

static EN: SalesTexts = SalesTexts {
    convert_title: "Convert lead",
    convert_intro: "In one step: link or create the account, create the contact from the lead, and optionally an opportunity. A converted lead is read-only; a conversion made by mistake can be undone.",
    convert: "Convert",
    account: "Account",
    new_account_will_be_created: "No account matches; a new account will be created:",
    matching_accounts_intro: "These accounts have the lead's company; the lead joins the one chosen:",
    open: "Open",
    contact: "Contact",
    contact_from_lead: "The contact is created from the lead's name, title, phone and email.",
    edit_lead_first: "Edit the lead first",
    opportunity: "Opportunity",
    create_opportunity: "Also create an opportunity",
    opportunity_name: "Opportunity name",
    amount: "Amount (CNY)",
    amount_hint: "For example 120000 or 12,000.50",
    stage: "Stage",
    expected_close_date: "Expected close date",
    checklist_unmet: "The lead is not qualified yet: required items of the checklist \"{0}\" are not met: {1}",
    converted_into: "Converted into",
    converted_notice: "The lead was converted.",
    undo_conversion: "Undo conversion",
    undo_hint: "The account, contact and opportunity the conversion created are archived unless other records use them; the lead goes back to where it was; the history keeps both.",
    conversion_undone: "The conversion was undone and the lead reopened.",

    record_name: "Name",
    score_title: "Score breakdown",
    no_score_rules: "No scoring rule applies to this lead",
    tier: "Potential",
    tier_high: "high",
    tier_medium: "medium",
    tier_low: "low",
    custom_fields_title: "Custom fields",
    yes: "Yes",
    no: "No",
    checklist_title: "Qualification checklist",
    required_item: "Required",
    checklist_complete: "complete",
    save_checklist: "Save ticks",
    save_and_qualify: "Save and mark qualified",
    tick_checklist_first: "Not every required item of the qualification checklist is ticked: tick them in the checklist on the lead's page first",
    change_owner: "Change owner",
    new_owner: "New owner",
    owner_changed: "The owner was changed.",
    accounts_title: "Accounts",
    contacts_title: "Contacts",
    opportunities_title: "Opportunities",
    records_count: "in all",
    search_records: "Search by name or phone",
    nothing_yet: "Nothing here yet",
    nothing_found: "Nothing matches",
    result: "Result",
    result_open: "Open",
    result_won: "Won",
    result_lost: "Lost",
    probability: "Probability",
    close_reason: "Won/lost reason",
    converted_from: "Converted from lead",
    website: "Website",
    company_size: "Employees",
    wechat: "WeChat",
    rfm_title: "Customer value (RFM)",
    won_amount: "Won amount",
    won_deals: "Deals won",
    last_won: "Last won",
    rfm_scores: "RFM score",
    customer_class: "Class",
    no_won_deals: "No deals won yet",
    a_class: "A-class customer",
    class_n: "Class {0}",
    activities_title: "Follow-ups",
    from_lead: "From lead",

    handover_title: "Handover",
    handover_intro: "Give every lead, account, contact and opportunity of a departing or moving rep to a colleague; the history is kept. For managers and admins.",
    handover_from: "From",
    handover_to: "To",
    handover_types: "Records",
    handover_submit: "Hand over",
    choose_person: "Choose…",
    choose_person_error: "Choose an active colleague within your data scope",
    choose_types_error: "Tick at least one kind of record",
    inactive: "inactive",
    handed_over: "{0} records were handed over: {1}",
    handover_forbidden: "Only admins and managers may hand over records",
    outside_scope: "That colleague is outside your data scope",

    my_day_title: "My day",
    my_day_intro: "Today's work: due and overdue follow-ups, new leads, SLA warnings, leads about to go back to the pool, and pool leads you may claim.",
    my_day_team_intro: "Today's work for you and your team: due and overdue follow-ups, new leads, SLA warnings, leads about to go back to the pool, and pool leads you may claim.",
    overdue: "Overdue",
    due_today: "Due today",
    due_follow_ups: "Follow-ups due",
    no_due_follow_ups: "No follow-ups due today",
    new_assignments: "New leads",
    no_new_assignments: "No leads given to you in the last three days",
    sla_warnings: "SLA warnings",
    no_sla_warnings: "No SLA warnings",
    about_to_recycle: "About to go back to the pool",
    nothing_to_recycle: "No lead is about to go back to the pool",
    pool_to_claim: "Pool leads to claim",
    nothing_to_claim: "No pool lead for you to claim right now",
    whole_pool: "Open the pool",
    history_fields: &[
        ("tier", "Potential"),
        ("protected_until", "Protected until"),
        ("assigned_at", "Assigned at"),
        ("pool_id", "Pool"),
        ("pooled_at", "Pooled at"),
        ("last_activity_at", "Last follow-up"),
        ("urgency", "Urgency"),
        ("demand_stage", "Demand stage"),
        ("campaign", "Campaign"),
        ("merged_into", "Merged into"),
        ("converted_account_id", "Converted into account"),
        ("converted_contact_id", "Converted into contact"),
        ("converted_opportunity_id", "Converted into opportunity"),
        ("converted_at", "Converted at"),
        ("qualification.checklist_id", "Qualification checklist"),
    ],
    history_actions: &[
        ("convert", "converted the lead"),
        ("convert_undo", "undid the conversion"),
        ("merge", "merged leads into this one"),
        ("merged", "merged this lead into another"),
        ("unmerge", "undid a merge"),
        ("merge_new", "merged a new lead into this one"),
        ("attachment", "added an attachment"),
        ("attachment_delete", "deleted an attachment"),
        ("activity_comment", "commented on a follow-up"),
        ("sla_breach", "an SLA rule was breached"),
        ("event", "recorded an event"),
        ("erase", "erased personal data"),
    ],
    messages: &[
        ("the lead is not converted, so there is no conversion to undo", "The lead is not converted, so there is nothing to undo (it may have been undone already)"),
        ("only the lead's owner, a manager or an admin may undo its conversion", "Only the lead's owner, a manager or an admin may undo its conversion"),
        ("the lead is already converted", "The lead is converted already"),
        ("a disqualified lead cannot be converted; change its status first", "A disqualified lead cannot be converted; change its status first"),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default() {
        assert_eq!(sales_texts("").convert, "转化");
        assert_eq!(sales_texts("en").convert, "Convert");
        assert_eq!(sales_texts("zh").class_label("A"), "A 类客户");
        assert_eq!(sales_texts("zh").history_field("tier"), "潜力");
        assert_eq!(
            sales_texts("zh").store_message("the lead is already converted (account 12)"),
            "这条线索已经转化过了"
        );
        assert_eq!(
            sales_texts("en").history_field("qualification.budget"),
            "Qualification checklist: budget"
        );
        assert_eq!(sales_texts("en").history_field("custom.x"), "custom.x");
    }
}
