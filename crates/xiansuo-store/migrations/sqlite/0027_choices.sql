-- Choice lists (选项) an admin edits: lead statuses (each mapped to one of the six fixed
-- status types the rules read), sources, follow-up outcomes, lost reasons and disqualify
-- reasons, each a code with a Chinese and an English label. The built-in entries are seeded
-- here; reasons start empty (people type their own until an admin lists some).
CREATE TABLE IF NOT EXISTS choices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    status_type TEXT,
    position BIGINT NOT NULL DEFAULT 0,
    archived BIGINT NOT NULL DEFAULT 0,
    builtin BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (kind, code)
);

INSERT INTO choices (kind, code, label_zh, label_en, status_type, position, builtin, created_at, updated_at) VALUES
    ('status', 'new', '新建', 'New', 'new', 1, 1, 0, 0),
    ('status', 'working', '跟进中', 'Working', 'working', 2, 1, 0, 0),
    ('status', 'qualified', '已鉴定', 'Qualified', 'qualified', 3, 1, 0, 0),
    ('status', 'converted', '已转化', 'Converted', 'converted', 4, 1, 0, 0),
    ('status', 'disqualified', '无效', 'Disqualified', 'disqualified', 5, 1, 0, 0),
    ('status', 'nurturing', '培育', 'Nurturing', 'nurturing', 6, 1, 0, 0),
    ('source', 'web_form', '网站表单', 'Web form', NULL, 1, 1, 0, 0),
    ('source', 'ad', '广告', 'Advertising', NULL, 2, 1, 0, 0),
    ('source', 'event', '展会活动', 'Event', NULL, 3, 1, 0, 0),
    ('source', 'referral', '客户推荐', 'Referral', NULL, 4, 1, 0, 0),
    ('source', 'social', '社交媒体', 'Social', NULL, 5, 1, 0, 0),
    ('source', 'email', '邮件', 'Email', NULL, 6, 1, 0, 0),
    ('source', 'import', '导入', 'Import', NULL, 7, 1, 0, 0),
    ('source', 'api', 'API', 'API', NULL, 8, 1, 0, 0),
    ('source', 'manual', '手工录入', 'Manual', NULL, 9, 1, 0, 0),
    ('source', 'other', '其他', 'Other', NULL, 10, 1, 0, 0),
    ('outcome', 'no_need', '不需要', 'No need', NULL, 1, 1, 0, 0),
    ('outcome', 'already_bought', '已购买', 'Already bought', NULL, 2, 1, 0, 0),
    ('outcome', 'future_need', '将来需要', 'Future need', NULL, 3, 1, 0, 0),
    ('outcome', 'visit_requested', '要求上门', 'Visit requested', NULL, 4, 1, 0, 0),
    ('outcome', 'call_back', '可再联系', 'Call back', NULL, 5, 1, 0, 0),
    ('outcome', 'unreachable', '联系不上', 'Unreachable', NULL, 6, 1, 0, 0)
ON CONFLICT (kind, code) DO NOTHING;

-- A lead's added status (未接通 under 跟进中): `status` keeps the fixed type every rule reads.
ALTER TABLE leads ADD COLUMN status_detail TEXT;
CREATE INDEX IF NOT EXISTS leads_status_detail ON leads (status_detail) WHERE status_detail IS NOT NULL;
