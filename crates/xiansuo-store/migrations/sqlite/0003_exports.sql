-- The export audit: who exported which records, with which filters, how many rows, how.
CREATE TABLE exports (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    record_type TEXT NOT NULL,
    filters TEXT NOT NULL,
    format TEXT NOT NULL,
    rows BIGINT NOT NULL,
    channel TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX exports_user_idx ON exports (user_id, id);
