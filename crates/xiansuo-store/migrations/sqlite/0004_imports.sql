-- File imports, keyed by the SHA-256 of the file: how many of its data rows have been handled
-- (imported or reported), updated in the same transaction as each batch of records, so that
-- running the same import again continues after the last committed batch.
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    record_type TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    rows_done BIGINT NOT NULL DEFAULT 0,
    imported BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE UNIQUE INDEX imports_file_key ON imports (record_type, file_sha256);
