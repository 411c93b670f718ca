-- Uploads of accounts, contacts, opportunities and activities beside those of leads: the kind
-- of record an upload imports, and the key of its run in `imports`. A lead upload's run is
-- keyed by the file's SHA-256 (a file of leads is imported once); another kind's by the upload
-- (`upload:ID`), because those imports update by external id and the same file may be run
-- again, for instance after the accounts its contacts link to have been imported.
ALTER TABLE import_uploads ADD COLUMN record_type TEXT NOT NULL DEFAULT 'lead';
ALTER TABLE import_uploads ADD COLUMN run_key TEXT;
UPDATE import_uploads SET run_key = file_sha256;
