-- When backups are taken on their own: one row (id 1) once an admin sets a schedule.
CREATE TABLE backup_schedule (
    id BIGINT PRIMARY KEY,
    enabled BIGINT NOT NULL,
    every_hours BIGINT NOT NULL,
    keep BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The backups taken into the backup directory, on schedule or on request; a row goes when its
-- file is deleted to keep only the newest ones.
CREATE TABLE backups (
    id INTEGER PRIMARY KEY,
    file_name TEXT NOT NULL,
    path TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    schema_version TEXT NOT NULL,
    tables BIGINT NOT NULL,
    rows_total BIGINT NOT NULL,
    scheduled BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX backups_created ON backups (created_at);
