//! The strings of the backups settings page, in Chinese and English.

/// The backups page's strings of one language.
pub(crate) struct BackupTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub schedule: &'static str,
    pub enabled: &'static str,
    pub every_hours: &'static str,
    pub every_hours_hint: &'static str,
    pub keep: &'static str,
    pub keep_hint: &'static str,
    pub save: &'static str,
    pub now: &'static str,
    pub now_hint: &'static str,
    pub queued: &'static str,
    pub list: &'static str,
    pub none: &'static str,
    pub file: &'static str,
    pub taken: &'static str,
    pub size: &'static str,
    pub rows: &'static str,
    pub kind: &'static str,
    pub scheduled: &'static str,
    pub requested: &'static str,
    pub download: &'static str,
    pub restore_hint: &'static str,
}

pub(crate) fn backup_texts(locale: &str) -> &'static BackupTexts {
    if locale == "en" {
        &EN
    } else {
        &ZH
    }
}

/// The page's name (the settings menu's entry), in the language of `locale`.
pub(crate) fn title(locale: &str) -> &'static str {
    backup_texts(locale).title
}

static ZH: BackupTexts = BackupTexts {
    title: "备份",
    intro: "备份是一个 zip 文件，包含所有数据表（含附件和上传的文件）以及清单。备份在服务运行时进行，读取同一时刻的一致快照。",
    schedule: "自动备份",
    enabled: "定时自动备份",
    every_hours: "间隔（小时）",
    every_hours_hint: "1 到 720 小时",
    keep: "保留份数",
    keep_hint: "超出的最早备份会被删除",
    save: "保存",
    now: "立即备份",
    now_hint: "后台任务会在几秒内开始备份；数据多时需要几分钟，完成后出现在下方列表中。",
    queued: "已排队备份，完成后会出现在列表中。",
    list: "备份文件",
    none: "还没有备份。",
    file: "文件",
    taken: "时间",
    size: "大小",
    rows: "行数",
    kind: "方式",
    scheduled: "定时",
    requested: "手动",
    download: "下载",
    restore_hint: "恢复：在新的 SQLite 文件或空的 PostgreSQL 数据库上运行 xiansuo restore 文件名（也是从 SQLite 迁移到 PostgreSQL 的方法）。",
};

static EN: BackupTexts = BackupTexts {
    title: "Backups",
    intro: "A backup is one zip file holding every table (attachments and uploaded files included) and a manifest. It is taken while the server runs, from one consistent snapshot.",
    schedule: "Automatic backups",
    enabled: "Take backups on a schedule",
    every_hours: "Every (hours)",
    every_hours_hint: "1 to 720 hours",
    keep: "Backups kept",
    keep_hint: "The oldest beyond this are deleted",
    save: "Save",
    now: "Back up now",
    now_hint: "A background job starts the backup within seconds; a large database takes a few minutes. It then appears in the list below.",
    queued: "Backup queued; it appears in the list when done.",
    list: "Backup files",
    none: "No backups yet.",
    file: "File",
    taken: "Taken",
    size: "Size",
    rows: "Rows",
    kind: "How",
    scheduled: "Scheduled",
    requested: "On request",
    download: "Download",
    restore_hint: "To restore: run xiansuo restore FILE against a new SQLite file or an empty PostgreSQL database (this is also how to move from SQLite to PostgreSQL).",
};
