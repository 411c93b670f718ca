-- Files and uploaded import files are kept as bytes, not as base64 text: a third smaller, and
-- read without decoding.
ALTER TABLE attachment_chunks ALTER COLUMN data TYPE BYTEA USING decode(data, 'base64');
ALTER TABLE import_upload_chunks ALTER COLUMN data TYPE BYTEA USING decode(data, 'base64');
