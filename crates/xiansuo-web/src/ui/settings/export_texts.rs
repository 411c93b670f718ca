//! The strings of the full-export settings page, in Chinese and English.

/// The page's strings in one language.
pub(crate) struct ExportTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub what: &'static str,
    pub download: &'static str,
    pub cli: &'static str,
    pub audit: &'static str,
    /// (source name, what it holds).
    pub sources: [(&'static str, &'static str); 5],
}

impl ExportTexts {
    pub(crate) fn source(&self, name: &str) -> &'static str {
        self.sources
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, label)| label)
    }
}

static ZH: ExportTexts = ExportTexts {
    title: "导出全部数据",
    intro: "每类数据一个文件，带上相互关联的编号（联系人的客户编号、跟进记录所属的记录），可以导入另一个 CRM，或导入另一个线索系统。时间为 UTC；以 = + - @ 开头的文字已做防公式处理。每次导出都记入导出记录。",
    what: "数据",
    download: "下载",
    cli: "在服务器上一次导出全部：",
    audit: "查看导出记录",
    sources: [
        ("leads", "线索"),
        ("accounts", "客户"),
        ("contacts", "联系人"),
        ("opportunities", "销售机会"),
        ("activities", "跟进记录"),
    ],
};

static EN: ExportTexts = ExportTexts {
    title: "Export everything",
    intro: "One file per kind of data, with the ids that link them (a contact's account ID, the record a follow-up is on), ready to import into another CRM or another Xiansuo. Times are UTC; text starting with = + - @ is neutralised against formulas. Every export is recorded in the export log.",
    what: "Data",
    download: "Download",
    cli: "All at once on the server:",
    audit: "See the export log",
    sources: [
        ("leads", "Leads"),
        ("accounts", "Accounts"),
        ("contacts", "Contacts"),
        ("opportunities", "Opportunities"),
        ("activities", "Follow-ups"),
    ],
};

/// The page's strings in the language of `locale`.
pub(crate) fn export_texts(locale: &str) -> &'static ExportTexts {
    if locale == "en" {
        &EN
    } else {
        &ZH
    }
}
