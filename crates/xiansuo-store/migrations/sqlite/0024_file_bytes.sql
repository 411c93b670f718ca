-- Files and uploaded import files are kept as bytes, not as base64 text: a third smaller, and
-- read without decoding. SQLite cannot decode base64 in SQL: the tables are rebuilt with BLOB
-- columns here, and the program decodes the rows that are still text right after (a backfill
-- in the same transaction).
CREATE TABLE attachment_chunks_new (
    id INTEGER PRIMARY KEY,
    attachment_id BIGINT NOT NULL REFERENCES attachments (id),
    seq BIGINT NOT NULL,
    data BLOB NOT NULL
);
INSERT INTO attachment_chunks_new (id, attachment_id, seq, data)
    SELECT id, attachment_id, seq, data FROM attachment_chunks;
DROP TABLE attachment_chunks;
ALTER TABLE attachment_chunks_new RENAME TO attachment_chunks;
CREATE UNIQUE INDEX attachment_chunks_key ON attachment_chunks (attachment_id, seq);

CREATE TABLE import_upload_chunks_new (
    upload_id BIGINT NOT NULL REFERENCES import_uploads (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
INSERT INTO import_upload_chunks_new (upload_id, seq, data)
    SELECT upload_id, seq, data FROM import_upload_chunks;
DROP TABLE import_upload_chunks;
ALTER TABLE import_upload_chunks_new RENAME TO import_upload_chunks;
