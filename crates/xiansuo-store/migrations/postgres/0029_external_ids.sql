-- The id a record had in the system it came from (a Salesforce Id, a HubSpot Record ID, the
-- id column of a Xiansuo export, ...). Imports match on it, so that running the same export
-- again updates the records instead of duplicating them, and links between imported records
-- (a contact's AccountId, an opportunity's account) are resolved through it. It is free text,
-- unique per record type only by the importers' upsert, not by a constraint: two systems may
-- use the same id for different things, and the API may set any value.
ALTER TABLE leads ADD COLUMN external_id TEXT;
ALTER TABLE accounts ADD COLUMN external_id TEXT;
ALTER TABLE contacts ADD COLUMN external_id TEXT;
ALTER TABLE opportunities ADD COLUMN external_id TEXT;
ALTER TABLE activities ADD COLUMN external_id TEXT;

CREATE INDEX leads_external_id_idx ON leads (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX accounts_external_id_idx ON accounts (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_external_id_idx ON contacts (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX opportunities_external_id_idx ON opportunities (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX activities_external_id_idx ON activities (external_id) WHERE external_id IS NOT NULL;
