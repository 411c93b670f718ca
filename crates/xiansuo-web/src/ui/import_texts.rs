//! The strings of the import wizard for the kinds of record beside leads (accounts, contacts,
//! opportunities, activities) in Chinese (zh-CN, the default) and English: the kind picker, the
//! hint on the order of imports, and the names of the columns' targets that are not record
//! fields (links by id or by name, deal outcomes, the owner by name), and the start form's
//! choices (the owner of the imported records, what to do with duplicate leads). Kept beside
//! [`super::i18n`] in a struct of their own; a missing translation is a compile error here too.

use super::i18n::Texts;

/// The import wizard's strings of one language.
pub struct ImportTexts {
    pub kind: &'static str,
    /// The order of imports and how links resolve.
    pub order_hint: &'static str,
    pub updated: &'static str,
    pub action: &'static str,
    pub will_create: &'static str,
    pub will_update: &'static str,
    pub record: &'static str,
    /// The owner of the imported records: its label, hint, and the choices beside users.
    pub owner: &'static str,
    pub owner_hint: &'static str,
    pub owner_hint_leads: &'static str,
    pub owner_rules: &'static str,
    pub owner_me: &'static str,
    /// A refused owner: not an active user within the importer's data scope.
    pub owner_refused: &'static str,
    /// What to do with duplicates of leads, certain and probable.
    pub dedup: &'static str,
    pub dedup_probable: &'static str,
    pub dedup_hint: &'static str,
    /// The probable policy left to the import channel's settings.
    pub dedup_channel: &'static str,
    /// The dedup policies by code (`skip`, `block`, `warn`, `merge`).
    pub dedups: &'static [(&'static str, &'static str)],
    /// The kinds by their plural code.
    kinds: &'static [(&'static str, &'static str)],
    /// Targets by code, over the record fields of [`Texts::field`].
    targets: &'static [(&'static str, &'static str)],
}

impl ImportTexts {
    /// The label of a kind (`leads`, `accounts`, …).
    pub fn kind_label<'a>(&self, code: &'a str) -> &'a str {
        self.kinds
            .iter()
            .find(|(k, _)| *k == code)
            .map_or(code, |(_, v)| v)
    }

    /// The label of the field or target a column goes to (`account_ref`, `name`, …).
    pub fn target<'a>(&self, t: &Texts, code: &'a str) -> &'a str {
        self.targets
            .iter()
            .find(|(k, _)| *k == code)
            .map_or_else(|| t.field(code), |(_, v)| v)
    }
}

/// The import texts for a user's locale (`zh` or `en`); anything else gets Chinese.
pub fn import_texts(locale: &str) -> &'static ImportTexts {
    if locale == "en" {
        &EN
    } else {
        &ZH
    }
}

static ZH: ImportTexts = ImportTexts {
    kind: "导入什么",
    order_hint: "请按 客户 → 联系人 → 销售机会 → 跟进记录 的顺序导入：每种记录通过来源系统的编号（如 Salesforce 的 AccountId）或名称（客户名称、联系人姓名）找到它所属的记录，所以被引用的记录要先导入。同一文件可以再次导入，按外部编号更新而不重复。",
    updated: "已更新",
    action: "操作",
    will_create: "新建",
    will_update: "更新",
    record: "记录",
    owner: "负责人",
    owner_hint: "导入的记录归谁。文件里“负责人”列写了用户的行，归该用户。",
    owner_hint_leads: "导入的线索归谁。按分配规则时，每条线索像新建线索一样由规则分配。",
    owner_rules: "按分配规则",
    owner_me: "我",
    owner_refused: "只能选择你数据范围内的在职用户。",
    dedup: "确定重复时",
    dedup_probable: "疑似重复时",
    dedup_hint: "确定重复：手机号、邮箱或外部编号相同；疑似重复：姓名和公司相同。",
    dedup_channel: "按导入渠道的查重设置",
    dedups: &[
        ("skip", "跳过，不导入"),
        ("block", "记为错误行"),
        ("warn", "照常导入并标记疑似重复"),
        ("merge", "合并到已有线索"),
    ],
    kinds: &[
        ("leads", "线索"),
        ("accounts", "客户"),
        ("contacts", "联系人"),
        ("opportunities", "销售机会"),
        ("activities", "跟进记录"),
    ],
    targets: &[
        ("name", "名称"),
        ("address", "地址"),
        ("website", "网站"),
        ("wechat", "微信"),
        ("owner", "负责人（用户名或姓名）"),
        ("created_at", "创建时间"),
        ("account_ref", "所属客户（来源系统编号）"),
        ("account_name", "所属客户（名称）"),
        ("contact_ref", "联系人（来源系统编号）"),
        ("contact_name", "联系人（姓名）"),
        ("lead_ref", "线索（来源系统编号）"),
        ("opportunity_ref", "销售机会（来源系统编号）"),
        ("opportunity_name", "销售机会（名称）"),
        ("who_ref", "相关人（WhoId）"),
        ("what_ref", "相关记录（WhatId）"),
        ("record_kind", "记录类型"),
        ("record_ref", "记录（来源系统编号）"),
        ("record", "所属记录"),
        ("amount", "金额"),
        ("stage", "阶段"),
        ("expected_close_date", "预计成交日期"),
        ("probability", "赢率"),
        ("is_closed", "已关闭"),
        ("is_won", "已赢单"),
        ("result", "结果（赢单/输单）"),
        ("lost_reason", "输单原因"),
        ("closed_at", "关闭时间"),
        ("subject", "主题"),
        ("activity_date", "跟进时间"),
    ],
};

static EN: ImportTexts = ImportTexts {
    kind: "What to import",
    order_hint: "Import in this order: accounts → contacts → opportunities → activities. Each record finds the records it belongs to by the source system's ids (such as Salesforce's AccountId) or by names (account name, contact name), so import the records it names first. A file may be imported again: records are updated by their external id, not duplicated.",
    updated: "Updated",
    action: "Action",
    will_create: "Create",
    will_update: "Update",
    record: "Record",
    owner: "Owner",
    owner_hint: "Who owns the imported records. A row whose Owner column names a user goes to that user.",
    owner_hint_leads: "Who owns the imported leads. By the assignment rules, each lead gets its owner as a newly created lead does.",
    owner_rules: "By the assignment rules",
    owner_me: "Me",
    owner_refused: "Choose an active user within your data scope.",
    dedup: "Certain duplicates",
    dedup_probable: "Probable duplicates",
    dedup_hint: "Certain: the same phone, email or external id; probable: the same name and company.",
    dedup_channel: "As the import channel's duplicate settings say",
    dedups: &[
        ("skip", "Skip them"),
        ("block", "Report them as errors"),
        ("warn", "Import them, flagged as possible duplicates"),
        ("merge", "Merge them into the existing lead"),
    ],
    kinds: &[
        ("leads", "Leads"),
        ("accounts", "Accounts"),
        ("contacts", "Contacts"),
        ("opportunities", "Opportunities"),
        ("activities", "Activities"),
    ],
    targets: &[
        ("name", "Name"),
        ("address", "Address"),
        ("website", "Website"),
        ("wechat", "WeChat"),
        ("owner", "Owner (username or name)"),
        ("created_at", "Created"),
        ("account_ref", "Account (source system id)"),
        ("account_name", "Account (name)"),
        ("contact_ref", "Contact (source system id)"),
        ("contact_name", "Contact (name)"),
        ("lead_ref", "Lead (source system id)"),
        ("opportunity_ref", "Opportunity (source system id)"),
        ("opportunity_name", "Opportunity (name)"),
        ("who_ref", "Who (WhoId)"),
        ("what_ref", "What (WhatId)"),
        ("record_kind", "Record type"),
        ("record_ref", "Record (source system id)"),
        ("record", "Record it belongs to"),
        ("amount", "Amount"),
        ("stage", "Stage"),
        ("expected_close_date", "Expected close date"),
        ("probability", "Probability"),
        ("is_closed", "Closed"),
        ("is_won", "Won"),
        ("result", "Result (won/lost)"),
        ("lost_reason", "Lost reason"),
        ("closed_at", "Closed at"),
        ("subject", "Subject"),
        ("activity_date", "Activity date"),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::texts;
    use xiansuo_app::data::import::objects::headers::Object;

    #[test]
    fn every_target_of_every_kind_has_a_label_in_both_languages() {
        for locale in ["zh", "en"] {
            let (t, it) = (texts(locale), import_texts(locale));
            for object in [
                Object::Account,
                Object::Contact,
                Object::Opportunity,
                Object::Activity,
            ] {
                assert_ne!(it.kind_label(object.plural()), object.plural());
                for target in object.targets() {
                    assert_ne!(
                        it.target(t, target),
                        *target,
                        "{locale}: {target} of {}",
                        object.plural()
                    );
                }
            }
        }
    }
}
