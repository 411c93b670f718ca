-- Imports of accounts, contacts, opportunities and activities update the records whose
-- external_id a row names instead of adding them again; the count of rows that did so is kept
-- beside the count of created ones (`imported`), so that a resumed run reports both for the file.
ALTER TABLE imports ADD COLUMN updated BIGINT NOT NULL DEFAULT 0;
