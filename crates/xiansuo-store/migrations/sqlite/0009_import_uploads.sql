-- Files uploaded through `POST /api/v1/imports`: the file itself (base64 chunks, so that any
-- instance can run the import), its header row, the options it was started with, its state,
-- and the rows it reported (written in the same transaction as their batch, so a resumed run
-- reports each row once). The counts of rows handled live in `imports`, keyed by the file's
-- SHA-256, as for the command line.
CREATE TABLE import_uploads (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    file_name TEXT NOT NULL,
    file_size BIGINT NOT NULL,
    file_sha256 TEXT NOT NULL,
    format TEXT NOT NULL,
    headers TEXT NOT NULL,
    estimated_rows BIGINT NOT NULL,
    state TEXT NOT NULL,
    options TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX import_uploads_user_idx ON import_uploads (user_id, id);

CREATE TABLE import_upload_chunks (
    upload_id BIGINT NOT NULL REFERENCES import_uploads (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (upload_id, seq)
);

CREATE TABLE import_upload_rows (
    upload_id BIGINT NOT NULL REFERENCES import_uploads (id) ON DELETE CASCADE,
    row_number BIGINT NOT NULL,
    result TEXT NOT NULL,
    field TEXT NOT NULL,
    reason TEXT NOT NULL,
    cells TEXT NOT NULL,
    PRIMARY KEY (upload_id, row_number)
);
