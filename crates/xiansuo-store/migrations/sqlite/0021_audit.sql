-- The audit log of settings: who changed which setting when, and the record before and after
-- (JSON, secrets left out), written in the change's own transaction.
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    actor_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject_id BIGINT,
    subject_name TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at, id);
CREATE INDEX IF NOT EXISTS audit_log_kind ON audit_log (kind, at, id);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor_id, at, id);

-- Every sign-in attempt with a password: who (the user, when the name is known), from where,
-- with what browser, and whether it succeeded.
CREATE TABLE IF NOT EXISTS login_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_history_at ON login_history (at, id);
CREATE INDEX IF NOT EXISTS login_history_user ON login_history (user_id, at, id);

-- Custom field ids are never used twice: without AUTOINCREMENT SQLite hands the id of the
-- newest field, once deleted, to the next one, and what names the old field by id (rules,
-- forms, the audit log) would then name the new one.
CREATE TABLE custom_field_defs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_type TEXT NOT NULL,
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    field_type TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '[]',
    required BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0
);
INSERT INTO custom_field_defs_new (id, record_type, key, label, field_type, options, required, created_at, updated_at, position)
    SELECT id, record_type, key, label, field_type, options, required, created_at, updated_at, position FROM custom_field_defs;
DROP TABLE custom_field_defs;
ALTER TABLE custom_field_defs_new RENAME TO custom_field_defs;
CREATE UNIQUE INDEX custom_field_defs_key ON custom_field_defs (record_type, key);
